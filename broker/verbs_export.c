/*
 * verbs_export.c — `export ...`: the stewards' review queue and the
 * researchers' fetch, the same functions whether typed into saferoomctl or
 * over SSH (DESIGN.md, "Export review").
 *
 *   export list [--state S] [--project P] [--json]
 *   export show ID [--json]      metadata, reason, check report, reviews, preview
 *   export diff ID               against the previous submission of the same path
 *   export approve ID [--note T]
 *   export reject ID --reason T
 *   export fetch ID              the approved bytes, to standard output
 *
 * Who may do what.  Stewards and admins read the queue (list, show, diff); a
 * researcher's `export list` shows their own requests.  Approving and
 * rejecting need the steward role, admins included: the decision must carry
 * the name of a human steward, and root is not one.  saferoomctl runs as
 * admin, and acts in addition with the policy roles of the person behind
 * sudo (SUDO_USER), so a host administrator who is also a registered
 * steward decides under their own name.  Only the requester, holding the
 * researcher role, fetches, and only an approved request.  The requester
 * can never vote on their own request; the policy module enforces that and
 * the rest again, whoever calls it, and audits every step and every
 * refusal.
 */
#include "config.h"

#include <stdlib.h>

#include "saferoom/export.h"
#include "verbs_policy.h"

#define SHOW_LOCATIONS 10       /* locations listed per check in `show` */

struct xp_sub {
	const char *name;
	unsigned roles;         /* any of these (after adding the sudo user's policy roles) */
	int (*fn)(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv);
};

static const char *
xp_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "-";
	return json_object_get_string(v);
}

static void
xp_text(FILE *out, const char *s)
{
	sr_export_write_escaped(out, s, strlen(s));
}

static int
xp_id(struct sr_verb_ctx *ctx, const char *text, int64_t *id)
{
	if (sr_export_parse_id(text, id) == 0)
		return 0;
	sr_verb_error(ctx, SR_VERB_USAGE, "export: \"%s\" is not a request number", text);
	return -1;
}

/* The verdict, in colour on a terminal. */
static void
xp_verdict(struct sr_verb_ctx *ctx, const char *v, int width)
{
	const char *c = strcmp(v, "fail") == 0 ? "\033[1;31m" : strcmp(v, "review") == 0 ?
			"\033[1;33m" : strcmp(v, "pass") == 0 ? "\033[32m" : NULL;

	if (ctx->out_is_tty && c != NULL)
		fprintf(ctx->out, "%s%-*s\033[0m", c, width, v);
	else
		fprintf(ctx->out, "%-*s", width, v);
}

/* ---- list ------------------------------------------------------------------------------ */

static void
list_print(struct sr_verb_ctx *ctx, struct json_object *arr)
{
	size_t n = json_object_array_length(arr);

	if (n == 0) {
		fprintf(ctx->out, "(no export requests)\n");
		return;
	}
	fprintf(ctx->out, "%-5s %-10s %-7s %-9s %-16s %-12s %-20s %s\n", "ID", "STATE", "VERDICT",
		"APPROVALS", "PROJECT", "REQUESTER", "SUBMITTED", "PATH");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);

		fprintf(ctx->out, "%-5s %-10s ", xp_str(r, "id"), xp_str(r, "state"));
		xp_verdict(ctx, xp_str(r, "verdict"), 7);
		fprintf(ctx->out, " %-9s %-16s %-12s %-20s ", xp_str(r, "approvals"),
			xp_str(r, "project"), xp_str(r, "requester"), xp_str(r, "submitted"));
		xp_text(ctx->out, xp_str(r, "path"));
		fputc('\n', ctx->out);
	}
}

static int
export_list(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "project", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct sr_export_filter f = { 0 };
	struct sr_error err = { { 0 } };
	struct json_object *arr;
	int c, first = 1, as_json = 0;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		if (c == 's')
			f.state = optarg;
		else if (c == 'p')
			f.project = optarg;
		else
			as_json = 1;
	}
	if (argc != optind)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: export list [--state S] "
				     "[--project P] [--json]");
	/* Researchers see their own requests, and nobody else's. */
	if (!(ctx->roles & (SR_ROLE_STEWARD | SR_ROLE_ADMIN)))
		f.requester = ctx->actor;
	arr = sr_export_list(p, &f, &err);
	if (arr == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
	if (as_json)
		fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	else
		list_print(ctx, arr);
	json_object_put(arr);
	return SR_VERB_OK;
}

/* ---- show -------------------------------------------------------------------------------- */

static void
show_field(struct sr_verb_ctx *ctx, const char *label, const char *value)
{
	fprintf(ctx->out, "%-12s ", label);
	xp_text(ctx->out, value);
	fputc('\n', ctx->out);
}

static void
show_location(struct sr_verb_ctx *ctx, struct json_object *l)
{
	fprintf(ctx->out, "%16sline %s, ", "", xp_str(l, "line"));
	if (strcmp(xp_str(l, "field"), "-") != 0)
		fprintf(ctx->out, "field %s", xp_str(l, "field"));
	else
		fprintf(ctx->out, "column %s", xp_str(l, "column"));
	fprintf(ctx->out, ": %s (%s)\n", xp_str(l, "what"), xp_str(l, "verdict"));
}

static void
show_checks(struct sr_verb_ctx *ctx, struct json_object *checks)
{
	fprintf(ctx->out, "checks:\n");
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *c = json_object_array_get_idx(checks, i), *locs;
		size_t n = 0, hits = (size_t)atoll(xp_str(c, "hits"));

		fprintf(ctx->out, "  %-12s ", xp_str(c, "name"));
		xp_verdict(ctx, xp_str(c, "verdict"), 7);
		fputc(' ', ctx->out);
		xp_text(ctx->out, xp_str(c, "message"));
		fputc('\n', ctx->out);
		if (json_object_object_get_ex(c, "locations", &locs))
			n = json_object_array_length(locs);
		for (size_t k = 0; k < n && k < SHOW_LOCATIONS; k++)
			show_location(ctx, json_object_array_get_idx(locs, k));
		if (hits > SHOW_LOCATIONS)
			fprintf(ctx->out, "%16s... %zu more\n", "", hits - SHOW_LOCATIONS);
	}
}

static void
show_reviews(struct sr_verb_ctx *ctx, struct json_object *reviews)
{
	size_t n = json_object_array_length(reviews);

	fprintf(ctx->out, "reviews:\n");
	if (n == 0)
		fprintf(ctx->out, "  (none yet)\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(reviews, i);

		fprintf(ctx->out, "  %s  %-7s  %s  ", xp_str(r, "time"), xp_str(r, "vote"),
			xp_str(r, "steward"));
		xp_text(ctx->out, xp_str(r, "note"));
		fputc('\n', ctx->out);
	}
}

static void
show_print(struct sr_verb_ctx *ctx, struct json_object *o)
{
	static const char *const fields[] = {
		"id", "project", "requester", "path", "type", "size", "sha256", "state",
		"verdict", "approvals", "submitted", "decided", "released", "previous", "reason",
	};
	struct json_object *v;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		show_field(ctx, i == 0 ? "request" : fields[i], xp_str(o, fields[i]));
	if (json_object_object_get_ex(o, "checks", &v))
		show_checks(ctx, v);
	if (json_object_object_get_ex(o, "reviews", &v))
		show_reviews(ctx, v);
}

static int
export_show(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	struct sr_error err = { { 0 } };
	struct json_object *o;
	int c, first = 1, as_json = 0;
	int64_t id;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		as_json = 1;
	}
	if (argc - optind != 1)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: export show ID [--json]");
	if (xp_id(ctx, argv[optind], &id) < 0)
		return SR_VERB_USAGE;
	o = sr_export_show(p, id, &err);
	if (o == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
	if (as_json) {
		fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return SR_VERB_OK;
	}
	show_print(ctx, o);
	json_object_put(o);
	fprintf(ctx->out, "preview:\n");
	if (sr_export_preview(p, id, ctx->out, ctx->out_is_tty, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
	return SR_VERB_OK;
}

static int
export_diff(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	int64_t id;

	if (argc != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: export diff ID");
	if (xp_id(ctx, argv[1], &id) < 0)
		return SR_VERB_USAGE;
	if (sr_export_diff(p, id, ctx->out, ctx->out_is_tty, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
	return SR_VERB_OK;
}

/* ---- deciding and fetching ---------------------------------------------------------------- */

/* 1 when the actor submitted request ID (for the exit status of a refusal). */
static int
is_requester(struct sr_verb_ctx *ctx, struct sr_policy *p, int64_t id)
{
	struct json_object *o = sr_export_show(p, id, NULL);
	int mine = o != NULL && strcmp(xp_str(o, "requester"), ctx->actor) == 0;

	json_object_put(o);
	return mine;
}

static void
vote_done(struct sr_verb_ctx *ctx, struct sr_policy *p, int64_t id, const char *state)
{
	struct json_object *o = sr_export_show(p, id, NULL);

	if (strcmp(state, "in_review") == 0)
		fprintf(ctx->out, "request %lld: your approval is recorded (%s stewards so far); "
			"it needs more\n", (long long)id, o != NULL ? xp_str(o, "approvals") : "?");
	else
		fprintf(ctx->out, "request %lld %s\n", (long long)id, state);
	json_object_put(o);
}

static int
vote(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv,
     enum sr_export_vote how)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' },
		{ 0 },
	};
	const char *usage = how == SR_EXPORT_APPROVE ? "usage: export approve ID [--note TEXT]" :
			    "usage: export reject ID --reason TEXT (a reason is required)";
	struct sr_error err = { { 0 } };
	const char *note = NULL;
	char state[16];
	int c, first = 1;
	int64_t id;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		/* --note goes with approve, --reason with reject. */
		if ((c == 'n') != (how == SR_EXPORT_APPROVE))
			return sr_verb_error(ctx, SR_VERB_USAGE, "%s", usage);
		note = optarg;
	}
	if (argc - optind != 1 || (how == SR_EXPORT_REJECT && note == NULL))
		return sr_verb_error(ctx, SR_VERB_USAGE, "%s", usage);
	if (xp_id(ctx, argv[optind], &id) < 0)
		return SR_VERB_USAGE;
	if (sr_export_vote(p, id, how, note, state, &err) < 0)
		return sr_verb_error(ctx, is_requester(ctx, p, id) ? SR_VERB_DENIED : SR_VERB_FAIL,
				     "%s", sr_error_msg(&err));
	vote_done(ctx, p, id, state);
	return SR_VERB_OK;
}

static int
export_approve(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	return vote(ctx, p, argc, argv, SR_EXPORT_APPROVE);
}

static int
export_reject(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	return vote(ctx, p, argc, argv, SR_EXPORT_REJECT);
}

static int
export_fetch(struct sr_verb_ctx *ctx, struct sr_policy *p, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	int64_t id;

	if (argc != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: export fetch ID > FILE");
	if (xp_id(ctx, argv[1], &id) < 0)
		return SR_VERB_USAGE;
	/* The bytes are the file, not text for a terminal (which a file could drive). */
	if (ctx->out_is_tty)
		return sr_verb_error(ctx, SR_VERB_USAGE, "export fetch writes the file to standard "
				     "output: redirect it (export fetch %lld > FILE)", (long long)id);
	if (sr_export_fetch(p, id, ctx->out, &err) < 0)
		return sr_verb_error(ctx, is_requester(ctx, p, id) ? SR_VERB_FAIL : SR_VERB_DENIED,
				     "%s", sr_error_msg(&err));
	return SR_VERB_OK;
}

#define READERS (SR_ROLE_STEWARD | SR_ROLE_ADMIN)

static const struct xp_sub subs[] = {
	{ "list", READERS | SR_ROLE_RESEARCHER, export_list },
	{ "show", READERS, export_show },
	{ "diff", READERS, export_diff },
	{ "approve", SR_ROLE_STEWARD, export_approve },
	{ "reject", SR_ROLE_STEWARD, export_reject },
	{ "fetch", SR_ROLE_RESEARCHER, export_fetch },
	{ NULL, 0, NULL },
};

static const char *
denied_why(const struct xp_sub *s)
{
	if (s->roles == SR_ROLE_STEWARD)
		return "only a data steward may decide on export requests (the decision carries "
		       "a steward's name; admins need a steward account, through sudo)";
	if (s->roles == SR_ROLE_RESEARCHER)
		return "only the researcher who submitted a request may fetch it";
	return "only stewards and admins may review export requests";
}

/* An admin (saferoomctl) also holds the policy roles of the person behind sudo. */
static unsigned
effective_roles(struct sr_verb_ctx *ctx, struct sr_policy *p)
{
	unsigned roles = ctx->roles, more = 0;

	if ((roles & SR_ROLE_ADMIN) && ctx->actor != NULL &&
	    sr_policy_user_roles(p, ctx->actor, &more, NULL) == 0)
		roles |= more;
	return roles;
}

static int
run_sub(struct sr_verb_ctx *ctx, const struct xp_sub *s, int argc, char **argv)
{
	struct sr_verb_ctx eff = *ctx;
	struct sr_policy *p;
	int rc;

	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	eff.roles = effective_roles(ctx, p);
	if (!(eff.roles & s->roles))
		rc = sr_verb_error(ctx, SR_VERB_DENIED, "export %s: %s", s->name, denied_why(s));
	else
		rc = s->fn(&eff, p, argc, argv);
	sr_policy_free(p);
	return rc;
}

int
sr_verb_export(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	const struct xp_sub *s;

	if (!(ctx->roles & (SR_ROLE_ADMIN | SR_ROLE_STEWARD | SR_ROLE_RESEARCHER)))
		return sr_verb_error(ctx, SR_VERB_DENIED, "export: not available to you");
	if (argc < 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "export: which one? (list, show, diff, "
				     "approve, reject, fetch)");
	for (s = subs; s->name != NULL; s++) {
		if (strcmp(s->name, argv[1]) == 0)
			return run_sub(ctx, s, argc - 1, argv + 1);
	}
	return sr_verb_error(ctx, SR_VERB_USAGE, "export: unknown command \"%s\" (list, show, "
			     "diff, approve, reject, fetch)", argv[1]);
}
