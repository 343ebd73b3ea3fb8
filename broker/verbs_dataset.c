/*
 * verbs_dataset.c — `saferoomctl dataset ...`: registering the directories of
 * approved data and (re)building their row index.
 *
 * Indexing a large dataset takes a while, so on a terminal a progress bar on
 * stderr says how far it got; when stderr is a file or a pipe nothing but the
 * result is printed.
 */
#include "config.h"

#include <unistd.h>

#include "verbs_policy.h"

#define BAR_WIDTH 40

struct bar {
	FILE *out;
	const char *name;
	int drawn;
};

static void
bar_draw(uint64_t done, uint64_t total, void *arg)
{
	struct bar *b = arg;
	int filled = total ? (int)(done * BAR_WIDTH / total) : BAR_WIDTH;
	int pct = total ? (int)(done * 100 / total) : 100;

	fprintf(b->out, "\r%s [%.*s%*s] %3d%% %llu MiB", b->name, filled,
		"########################################", BAR_WIDTH - filled, "", pct,
		(unsigned long long)(done >> 20));
	fflush(b->out);
	b->drawn = 1;
}

/* Ends the bar's line so that what follows starts on a fresh one. */
static void
bar_end(struct bar *b)
{
	if (b->drawn)
		fputc('\n', b->out);
}

static int
print_counts(struct sr_verb_ctx *ctx, struct sr_policy *p, const char *name, const char *verb)
{
	struct sr_error err = { { 0 } };
	struct json_object *o, *files, *rows, *path;

	o = sr_policy_dataset_show(p, name, &err);
	if (o == NULL)
		return vp_done(ctx, p, -1, &err);
	json_object_object_get_ex(o, "files", &files);
	json_object_object_get_ex(o, "rows", &rows);
	json_object_object_get_ex(o, "path", &path);
	fprintf(ctx->out, "dataset %s %s: %s, %s files, %s distinct rows indexed\n", name, verb,
		vp_text(path), vp_text(files), vp_text(rows));
	json_object_put(o);
	return vp_done(ctx, p, 0, &err);
}

static int
dataset_add(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "description", required_argument, NULL, 'd' },
		{ 0 },
	};
	struct sr_error err = { { 0 } };
	struct bar b = { .out = ctx->err };
	const char *description = NULL;
	struct sr_policy *p;
	int c, first = 1, rc;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		description = optarg;
	}
	if (argc - optind != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: dataset add NAME PATH "
				     "[--description TEXT]");
	b.name = argv[optind];
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	rc = sr_policy_dataset_add(p, argv[optind], argv[optind + 1], description,
				   isatty(fileno(ctx->err)) ? bar_draw : NULL, &b, &err);
	bar_end(&b);
	if (rc < 0)
		return vp_done(ctx, p, rc, &err);
	return print_counts(ctx, p, argv[optind], "added");
}

static int
dataset_reindex(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct bar b = { .out = ctx->err };
	struct sr_policy *p;
	int rc;

	if (argc != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: dataset reindex NAME");
	b.name = argv[1];
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	rc = sr_policy_dataset_reindex(p, argv[1], isatty(fileno(ctx->err)) ? bar_draw : NULL,
				       &b, &err);
	bar_end(&b);
	if (rc < 0)
		return vp_done(ctx, p, rc, &err);
	return print_counts(ctx, p, argv[1], "reindexed");
}

static int
dataset_list(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, sr_policy_dataset_list, NULL);
}

static int
dataset_show(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, NULL, sr_policy_dataset_show);
}

static const struct vp_sub subs[] = {
	{ "add", dataset_add },
	{ "reindex", dataset_reindex },
	{ "list", dataset_list },
	{ "show", dataset_show },
	{ NULL, NULL },
};

int
sr_verb_dataset(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_dispatch(ctx, "dataset", subs, argc, argv);
}
