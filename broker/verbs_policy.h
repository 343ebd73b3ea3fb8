/*
 * verbs_policy.h — what the policy verb groups (user, dataset, project)
 * share: the admin check, opening policy.db as the actor, option parsing and
 * printing a policy view as text or JSON.  Private to broker/verbs_*.c.
 */
#ifndef SAFEROOM_VERBS_POLICY_H
#define SAFEROOM_VERBS_POLICY_H

#include <ctype.h>
#include <getopt.h>
#include <string.h>

#include <json-c/json.h>

#include "saferoom/policy.h"
#include "saferoom/verbs.h"

_Static_assert((unsigned)SR_POLICY_RESEARCHER == (unsigned)SR_ROLE_RESEARCHER &&
	       (unsigned)SR_POLICY_STEWARD == (unsigned)SR_ROLE_STEWARD &&
	       (unsigned)SR_POLICY_AUDITOR == (unsigned)SR_ROLE_AUDITOR,
	       "policy roles are verb roles");

/* A sub-verb: argv[0] is its own name. */
struct vp_sub {
	const char *name;
	int (*fn)(struct sr_verb_ctx *ctx, int argc, char **argv);
};

/* Runs the sub-verb argv[1] of GROUP for an admin; anything else is refused. */
static inline int
vp_dispatch(struct sr_verb_ctx *ctx, const char *group, const struct vp_sub *subs, int argc,
	    char **argv)
{
	if (!(ctx->roles & SR_ROLE_ADMIN))
		return sr_verb_error(ctx, SR_VERB_DENIED, "%s: only an administrator may change "
				     "or read policy", group);
	if (argc < 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "%s: which one? see saferoomctl help",
				     group);
	for (; subs->name != NULL; subs++) {
		if (strcmp(subs->name, argv[1]) == 0)
			return subs->fn(ctx, argc - 1, argv + 1);
	}
	return sr_verb_error(ctx, SR_VERB_USAGE, "%s: unknown command \"%s\"", group, argv[1]);
}

/*
 * Opens policy.db as ctx->actor.  Changes are audited as that actor; the
 * configuration's id ranges and global allow_from apply.
 */
static inline struct sr_policy *
vp_open(struct sr_verb_ctx *ctx)
{
	struct sr_policy_actor actor = {
		.user = ctx->actor, .source = ctx->source ? ctx->source : "local",
		.session = ctx->session,
	};
	const char *allow[SR_CONFIG_MAX_ALLOW];
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	size_t n = ctx->cfg->n_allow_from;

	p = sr_policy_open(ctx->cfg->state_dir, &actor, &err);
	if (p == NULL) {
		sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
		return NULL;
	}
	sr_policy_set_id_ranges(p, ctx->cfg->uid_min, ctx->cfg->uid_max, ctx->cfg->gid_min,
				ctx->cfg->gid_max);
	for (size_t i = 0; i < n && i < SR_CONFIG_MAX_ALLOW; i++)
		allow[i] = ctx->cfg->allow_from[i].text;
	if (sr_policy_set_global_allow(p, allow, n, &err) < 0) {
		sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
		sr_policy_free(p);
		return NULL;
	}
	return p;
}

/* Ends a change verb: prints the error of a failed one.  Returns the status. */
static inline int
vp_done(struct sr_verb_ctx *ctx, struct sr_policy *p, int rc, const struct sr_error *err)
{
	sr_policy_free(p);
	if (rc < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(err));
	return SR_VERB_OK;
}

/*
 * getopt_long over a sub-verb's argv, restarted for every call (the SSH
 * verbs run many in one process).  Returns the option, -1 at the end, or '?'
 * after printing a one-line usage error.
 */
static inline int
vp_getopt(struct sr_verb_ctx *ctx, int argc, char **argv, const struct option *opts,
	  int *first)
{
	int c;

	if (*first) {
		optind = 0;
		opterr = 0;
		*first = 0;
	}
	c = getopt_long(argc, argv, ":", opts, NULL);
	if (c == '?' || c == ':') {
		sr_verb_error(ctx, SR_VERB_USAGE, "%s: %s option %s", argv[0],
			      c == ':' ? "missing value for" : "unknown",
			      argv[optind - 1]);
		return '?';
	}
	return c;
}

/* ---- printing a view ---------------------------------------------------------- */

static inline const char *
vp_text(struct json_object *v)
{
	if (v == NULL)
		return "-";
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "yes" : "no";
	return json_object_get_string(v);
}

/* One line per element of an array of objects: the values, two spaces apart. */
static inline void
vp_print_items(FILE *out, struct json_object *arr)
{
	size_t n = json_object_array_length(arr);

	if (n == 0)
		fputs("  (none)\n", out);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *sep = "  ";

		if (!json_object_is_type(o, json_type_object)) {
			fprintf(out, "  %s\n", vp_text(o));
			continue;
		}
		json_object_object_foreach(o, key, val) {
			(void)key;
			fprintf(out, "%s%s", sep, vp_text(val));
			sep = "  ";
		}
		fputc('\n', out);
	}
}

/* `show`: "key: value" lines; arrays of objects and nested objects indented below. */
static inline void
vp_print_object(FILE *out, struct json_object *obj)
{
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_array) &&
		    (json_object_array_length(val) == 0 ||
		     !json_object_is_type(json_object_array_get_idx(val, 0), json_type_string))) {
			fprintf(out, "%s:\n", key);
			vp_print_items(out, val);
		} else if (json_object_is_type(val, json_type_object)) {
			fprintf(out, "%s:\n", key);
			json_object_object_foreach(val, k2, v2)
				fprintf(out, "  %s: %s\n", k2, vp_text(v2));
		} else if (json_object_is_type(val, json_type_array)) {
			fprintf(out, "%-12s ", key);
			for (size_t i = 0; i < json_object_array_length(val); i++)
				fprintf(out, "%s%s", i ? "," : "",
					vp_text(json_object_array_get_idx(val, i)));
			fputc('\n', out);
		} else {
			fprintf(out, "%-12s %s\n", key, vp_text(val));
		}
	}
}

#define VP_COLS 16

/* A table cell: a scalar as text, an array (roles) comma-joined. */
static inline void
vp_cell(struct json_object *val, char *buf, size_t len)
{
	size_t off = 0, n;

	if (!json_object_is_type(val, json_type_array)) {
		snprintf(buf, len, "%s", vp_text(val));
		return;
	}
	n = json_object_array_length(val);
	snprintf(buf, len, "-");
	for (size_t k = 0; k < n && off < len; k++)
		off += snprintf(buf + off, len - off, "%s%s", k ? "," : "",
				vp_text(json_object_array_get_idx(val, k)));
}

static inline void
vp_header(const char *key, char *buf, size_t len)
{
	size_t k;

	for (k = 0; key[k] != '\0' && k + 1 < len; k++)
		buf[k] = (char)toupper((unsigned char)key[k]);
	buf[k] = '\0';
}

/* `list`: a table of the objects' members, each column as wide as its widest cell. */
static inline void
vp_print_table(FILE *out, struct json_object *arr)
{
	size_t n = json_object_array_length(arr), w[VP_COLS] = { 0 }, c, ncols = 0;
	char cell[256];

	if (n > 0)
		ncols = (size_t)json_object_object_length(json_object_array_get_idx(arr, 0));
	for (size_t i = 0; i < n; i++) {
		c = 0;
		json_object_object_foreach(json_object_array_get_idx(arr, i), key, val) {
			if (c == VP_COLS)
				break;
			vp_cell(val, cell, sizeof(cell));
			w[c] = strlen(cell) > w[c] ? strlen(cell) : w[c];
			w[c] = strlen(key) > w[c] ? strlen(key) : w[c];
			c++;
		}
	}
	for (size_t i = 0; i <= n && n > 0; i++) {
		c = 0;
		json_object_object_foreach(json_object_array_get_idx(arr, i ? i - 1 : 0), key, val) {
			if (c == VP_COLS)
				break;
			if (i == 0)
				vp_header(key, cell, sizeof(cell));
			else
				vp_cell(val, cell, sizeof(cell));
			/* The last column is not padded: no trailing blanks. */
			fprintf(out, "%s%-*s", c ? "  " : "", c + 1 < ncols ? (int)w[c] : 0, cell);
			c++;
		}
		fputc('\n', out);
	}
}

/* Prints a view (consumed) as JSON or text; NULL means it failed with ERR. */
static inline int
vp_print(struct sr_verb_ctx *ctx, struct json_object *view, int as_json,
	 const struct sr_error *err)
{
	if (view == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(err));
	if (as_json)
		fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(view, JSON_C_TO_STRING_PLAIN));
	else if (json_object_is_type(view, json_type_array))
		vp_print_table(ctx->out, view);
	else
		vp_print_object(ctx->out, view);
	json_object_put(view);
	return SR_VERB_OK;
}

typedef struct json_object *(*vp_list_fn)(struct sr_policy *p, struct sr_error *err);
typedef struct json_object *(*vp_show_fn)(struct sr_policy *p, const char *name,
					  struct sr_error *err);

/* `GROUP list [--json]` (show == NULL) and `GROUP show NAME [--json]`. */
static inline int
vp_view(struct sr_verb_ctx *ctx, int argc, char **argv, vp_list_fn list, vp_show_fn show)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int c, first = 1, as_json = 0, rc;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		as_json = 1;
	}
	if (argc - optind != (show != NULL ? 1 : 0))
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: %s%s [--json]", argv[0],
				     show != NULL ? " NAME" : "");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	rc = vp_print(ctx, show != NULL ? show(p, argv[optind], &err) : list(p, &err), as_json,
		      &err);
	sr_policy_free(p);
	return rc;
}

#endif /* SAFEROOM_VERBS_POLICY_H */
