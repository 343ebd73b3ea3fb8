/*
 * verbs_project.c — `saferoomctl project ...`: recording what a data review
 * board approved: the project and its window, the datasets granted to it,
 * its members, and the limits and networks its sandbox gets.
 */
#include "config.h"

#include "verbs_policy.h"

/* Options --from DATE and --until DATE (and --drb-ref REF when drb is not NULL). */
static int
window_opts(struct sr_verb_ctx *ctx, int argc, char **argv, struct sr_policy_window *w,
	    const char **drb)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "drb-ref", required_argument, NULL, 'd' },
		{ 0 },
	};
	struct sr_error err = { { 0 } };
	const char *from = NULL, *until = NULL;
	int c, first = 1;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return -1;
		if (c == 'd' && drb == NULL) {
			sr_verb_error(ctx, SR_VERB_USAGE, "%s: unknown option --drb-ref", argv[0]);
			return -1;
		}
		if (c == 'f')
			from = optarg;
		else if (c == 'u')
			until = optarg;
		else
			*drb = optarg;
	}
	if (sr_policy_window_parse(from, until, w, &err) < 0) {
		sr_verb_error(ctx, SR_VERB_USAGE, "%s", sr_error_msg(&err));
		return -1;
	}
	return 0;
}

static int
project_add(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_policy_project_spec spec = { 0 };
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (window_opts(ctx, argc, argv, &spec.valid, &spec.drb_ref) < 0)
		return SR_VERB_USAGE;
	if (argc - optind != 1 || spec.drb_ref == NULL || spec.valid.until == 0)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: project add NAME --drb-ref REF "
				     "--until DATE [--from DATE]");
	spec.name = argv[optind];
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_project_add(p, &spec, &err), &err);
}

/*
 * `... PROJECT OTHER [--from DATE] [--until DATE]`: links OTHER to PROJECT
 * through ADD for that window; USAGE is the line printed for bad arguments.
 */
static int
link_add(struct sr_verb_ctx *ctx, int argc, char **argv, const char *usage,
	 int (*add)(struct sr_policy *p, const char *project, const char *other,
		    const struct sr_policy_window *w, struct sr_error *err))
{
	struct sr_policy_window w;
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (window_opts(ctx, argc, argv, &w, NULL) < 0)
		return SR_VERB_USAGE;
	if (argc - optind != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "%s", usage);
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, add(p, argv[optind], argv[optind + 1], &w, &err), &err);
}

static int
project_grant(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return link_add(ctx, argc, argv, "usage: project grant PROJECT DATASET "
			"[--from DATE] [--until DATE]", sr_policy_project_grant);
}

static int
project_revoke(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (argc != 3)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: project revoke PROJECT DATASET");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_project_revoke(p, argv[1], argv[2], &err), &err);
}

static int
member_add(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return link_add(ctx, argc, argv, "usage: project member add PROJECT USER "
			"[--from DATE] [--until DATE]", sr_policy_project_member_add);
}

static int
project_member(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return member_add(ctx, argc - 1, argv + 1);
	if (argc != 4 || strcmp(argv[1], "remove") != 0)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: project member add PROJECT USER "
				     "| project member remove PROJECT USER");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_project_member_remove(p, argv[2], argv[3], &err), &err);
}

static int
project_set(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (argc != 4)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: project set NAME KEY VALUE");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_project_set(p, argv[1], argv[2], argv[3], &err), &err);
}

static int
project_list(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, sr_policy_project_list, NULL);
}

static int
project_show(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, NULL, sr_policy_project_show);
}

static const struct vp_sub subs[] = {
	{ "add", project_add },
	{ "grant", project_grant },
	{ "revoke", project_revoke },
	{ "member", project_member },
	{ "set", project_set },
	{ "list", project_list },
	{ "show", project_show },
	{ NULL, NULL },
};

int
sr_verb_project(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_dispatch(ctx, "project", subs, argc, argv);
}
