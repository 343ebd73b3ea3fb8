/*
 * verbs_audit.c — `audit ...`: what security staff ask of the trail.
 *
 * events and sessions list what happened, replay hands back a session's
 * recording once its bytes match the hash the chain recorded, export streams
 * JSON lines for a SIEM, verify proves the chain intact or names the first
 * row that is not.  These only read: audit.db is opened read-only, so an
 * auditor can look while the writer runs, and nothing they do can change
 * what they report on.  Admins and auditors only.
 *
 * prune is the one that changes the trail: it removes what is older than
 * audit_retention_days, through the audit writer (or as the writer, when
 * none runs), and only an admin may ask.
 *
 * Text that came from users (commands, file names, session data) goes to a
 * terminal only with its control characters escaped, so that an entry in the
 * trail cannot rewrite the auditor's screen.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "saferoom/audit.h"
#include "saferoom/verbs.h"

/* A recording larger than this is refused rather than read into memory. */
#define RECORDING_MAX ((size_t)1 << 30)

struct audit_args {
	struct sr_audit_filter filter;
	int json;
	const char *format;
	int dry_run;
	struct sr_audit_seal *seals;
	size_t n_seals;
	unsigned seen;          /* options given, so that none is given twice */
};

struct subverb {
	const char *name;
	const struct option *opts;
	int n_args;             /* positional arguments after the options */
	const char *usage;
	int (*run)(struct sr_verb_ctx *ctx, struct sr_audit_store *store,
		   struct audit_args *a, char **args);
};

enum {
	O_TYPE = 1, O_USER, O_PROJECT, O_SESSION, O_SINCE, O_UNTIL, O_JSON, O_FORMAT, O_SEAL,
	O_DRY_RUN,
};

/* ---- terminal-safe output ----------------------------------------------- */

/*
 * Writes s with C0 controls, DEL and the UTF-8 C1 controls (U+0080..U+009F,
 * which some terminals take as CSI) escaped; pads to width columns.
 */
static void
put_cell(FILE *out, const char *s, int width)
{
	const unsigned char *p = (const unsigned char *)(s != NULL && *s != '\0' ? s : "-");
	int cols = 0;

	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			cols += fprintf(out, "\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			cols += fprintf(out, "\\u%04x", p[1]);
			p++;
		} else {
			fputc(*p, out);
			/* Count characters, not UTF-8 continuation bytes. */
			cols += (*p & 0xc0) != 0x80;
		}
	}
	for (; cols < width; cols++)
		fputc(' ', out);
}

/* ---- arguments ---------------------------------------------------------- */

static int
parse_time_opt(struct sr_verb_ctx *ctx, const char *verb, const char *opt, const char *text,
	       int64_t *ms)
{
	if (sr_audit_parse_time(text, ms) < 0)
		return sr_verb_error(ctx, SR_VERB_USAGE,
				     "audit %s: bad time for --%s: '%s' (want YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z], UTC)",
				     verb, opt, text);
	return 0;
}

/* "SEQ:HASH", as printed by the writer's seals in syslog and the kernel audit log. */
static int
add_seal(struct sr_verb_ctx *ctx, struct audit_args *a, const char *text)
{
	struct sr_audit_seal seal, *v;
	const char *colon = strchr(text, ':');
	char *end;

	errno = 0;
	seal.seq = strtoll(text, &end, 10);
	if (colon == NULL || end != colon || errno != 0 || seal.seq < 1 || text[0] == '-' ||
	    text[0] == '+' || sr_audit_unhex(colon + 1, seal.hash) < 0)
		return sr_verb_error(ctx, SR_VERB_USAGE,
				     "audit verify: bad --seal '%s' (want SEQ:64-HEX-DIGIT-HASH)", text);
	v = realloc(a->seals, (a->n_seals + 1) * sizeof(*v));
	if (v == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "out of memory");
	a->seals = v;
	a->seals[a->n_seals++] = seal;
	return 0;
}

static int
take_option(struct sr_verb_ctx *ctx, const char *verb, const struct option *o, int c,
	    const char *val, struct audit_args *a)
{
	if (c != O_SEAL && (a->seen & (1u << c)))
		return sr_verb_error(ctx, SR_VERB_USAGE, "audit %s: --%s given twice", verb, o->name);
	a->seen |= 1u << c;
	if (o->has_arg == required_argument && val[0] == '\0')
		return sr_verb_error(ctx, SR_VERB_USAGE, "audit %s: --%s needs a value", verb,
				     o->name);
	switch (c) {
	case O_TYPE: a->filter.type = val; return 0;
	case O_USER: a->filter.user = val; return 0;
	case O_PROJECT: a->filter.project = val; return 0;
	case O_SESSION: a->filter.session = val; return 0;
	case O_SINCE: return parse_time_opt(ctx, verb, o->name, val, &a->filter.since_ms);
	case O_UNTIL: return parse_time_opt(ctx, verb, o->name, val, &a->filter.until_ms);
	case O_JSON: a->json = 1; return 0;
	case O_FORMAT: a->format = val; return 0;
	case O_DRY_RUN: a->dry_run = 1; return 0;
	default: return add_seal(ctx, a, val);
	}
}

static const struct option *
find_option(const struct option *opts, int c)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == c)
			return opts;
	return NULL;
}

/* Parses sv's options from argv (argv[0] is the sub-verb); returns 0 or a status. */
static int
parse_args(struct sr_verb_ctx *ctx, const struct subverb *sv, int argc, char **argv,
	   struct audit_args *a)
{
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", sv->opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return sr_verb_error(ctx, SR_VERB_USAGE, "audit %s: %s option %s", sv->name,
					     c == ':' ? "missing value for" : "unknown",
					     argv[optind - 1]);
		rc = take_option(ctx, sv->name, find_option(sv->opts, c), c, optarg, a);
		if (rc != 0)
			return rc;
	}
	if (argc - optind != sv->n_args)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: audit %s", sv->usage);
	if (a->filter.since_ms != 0 && a->filter.until_ms != 0 &&
	    a->filter.until_ms < a->filter.since_ms)
		return sr_verb_error(ctx, SR_VERB_USAGE, "audit %s: --until is before --since",
				     sv->name);
	return 0;
}

/* ---- events and export -------------------------------------------------- */

struct listing {
	FILE *out;
	int64_t n;
};

static int
print_event_row(const struct sr_audit_row *row, void *arg)
{
	const struct sr_audit_event *ev = &row->ev;
	struct listing *l = arg;
	char when[32];

	sr_audit_format_time(ev->time_ms, when, sizeof(when));
	fprintf(l->out, "%-7" PRId64 " %s  ", ev->seq, when);
	put_cell(l->out, ev->type, 16);
	fputc(' ', l->out);
	put_cell(l->out, ev->user, 10);
	fputc(' ', l->out);
	put_cell(l->out, ev->project, 12);
	fputc(' ', l->out);
	put_cell(l->out, ev->session, 14);
	fputc(' ', l->out);
	put_cell(l->out, ev->source, 15);
	fputc(' ', l->out);
	put_cell(l->out, ev->details, 0);
	fputc('\n', l->out);
	l->n++;
	return ferror(l->out) ? -1 : 0;
}

/* One object per line; in an array, every line after the first starts with ','. */
static int
print_json_row(const struct sr_audit_row *row, void *arg)
{
	struct listing *l = arg;

	if (l->n++ > 0)
		fputc(',', l->out);
	return sr_audit_row_write_json(row, l->out) < 0 ? -1 : 0;
}

static int
jsonl_row(const struct sr_audit_row *row, void *arg)
{
	return sr_audit_row_write_json(row, arg) < 0 ? -1 : 0;
}

/* A walk's result as a verb status; a callback's -1 means the output failed. */
static int
walk_status(struct sr_verb_ctx *ctx, const char *verb, int rc, const struct sr_error *err)
{
	if (rc == 0)
		return SR_VERB_OK;
	if (err->msg[0] != '\0')
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit %s: %s", verb, err->msg);
	return sr_verb_error(ctx, SR_VERB_FAIL, "audit %s: writing output: %s", verb,
			     strerror(errno));
}

/* Walks the trail with the filter, printing each row to L as JSON or as a table row. */
typedef int (*listing_walk)(struct sr_audit_store *store, const struct sr_audit_filter *f,
			    int json, struct listing *l, struct sr_error *err);

/*
 * Prints what WALK yields as a JSON array (--json) or as the table it heads,
 * and returns the verb's status; the array is closed even when the walk fails.
 */
static int
run_listing(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	    const char *verb, listing_walk walk)
{
	struct listing l = { .out = ctx->out };
	struct sr_error err = { "" };
	int rc;

	if (a->json)
		fputc('[', ctx->out);
	rc = walk(store, &a->filter, a->json, &l, &err);
	if (a->json)
		fputs("]\n", ctx->out);
	return walk_status(ctx, verb, rc, &err);
}

static int
walk_events(struct sr_audit_store *store, const struct sr_audit_filter *f, int json,
	    struct listing *l, struct sr_error *err)
{
	if (json)
		return sr_audit_store_query(store, f, print_json_row, l, err);
	fprintf(l->out, "%-7s %-24s  %-16s %-10s %-12s %-14s %-15s %s\n", "SEQ", "TIME", "TYPE",
		"USER", "PROJECT", "SESSION", "SOURCE", "DETAILS");
	return sr_audit_store_query(store, f, print_event_row, l, err);
}

static int
run_events(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	   char **args)
{
	return run_listing(ctx, store, a, "events", walk_events);
}

static int
run_export(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	   char **args)
{
	struct sr_error err = { "" };

	/* --format was checked with the other arguments, before the store was opened. */
	return walk_status(ctx, "export",
			   sr_audit_store_query(store, &a->filter, jsonl_row, ctx->out, &err), &err);
}

/* ---- sessions ----------------------------------------------------------- */

static void
add_json_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s != NULL && *s != '\0' ? json_object_new_string(s) : NULL);
}

static void
add_json_time(json_object *o, const char *key, int64_t ms)
{
	char when[32], key_ms[32];

	snprintf(key_ms, sizeof(key_ms), "%s_ms", key);
	sr_audit_format_time(ms, when, sizeof(when));
	add_json_str(o, key, ms != 0 ? when : NULL);
	json_object_object_add(o, key_ms, ms != 0 ? json_object_new_int64(ms) : NULL);
}

static int
print_session_json(const struct sr_audit_session *s, void *arg)
{
	struct listing *l = arg;
	json_object *o = json_object_new_object();
	int rc;

	if (o == NULL)
		return -1;
	add_json_str(o, "session", s->session);
	add_json_str(o, "user", s->user);
	add_json_str(o, "project", s->project);
	add_json_str(o, "source", s->source);
	add_json_time(o, "start", s->start_ms);
	add_json_time(o, "end", s->end_ms);
	json_object_object_add(o, "exec_count", json_object_new_int64(s->exec_count));
	add_json_str(o, "recording", s->recording);
	add_json_str(o, "recording_sha256", s->recording_sha256);
	rc = fprintf(l->out, "%s%s\n", l->n++ > 0 ? "," : "",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc < 0 ? -1 : 0;
}

static int
print_session_row(const struct sr_audit_session *s, void *arg)
{
	struct listing *l = arg;
	char start[32], end[32];

	sr_audit_format_time(s->start_ms, start, sizeof(start));
	sr_audit_format_time(s->end_ms, end, sizeof(end));
	put_cell(l->out, s->session, 14);
	fputc(' ', l->out);
	put_cell(l->out, s->user, 10);
	fputc(' ', l->out);
	put_cell(l->out, s->project, 12);
	fputc(' ', l->out);
	put_cell(l->out, s->source, 15);
	fprintf(l->out, " %s  %-24s %6" PRId64 "  ", start, s->end_ms != 0 ? end : "running",
		s->exec_count);
	put_cell(l->out, s->recording, 0);
	fputc('\n', l->out);
	return ferror(l->out) ? -1 : 0;
}

static int
walk_sessions(struct sr_audit_store *store, const struct sr_audit_filter *f, int json,
	      struct listing *l, struct sr_error *err)
{
	if (json)
		return sr_audit_store_sessions(store, f, print_session_json, l, err);
	fprintf(l->out, "%-14s %-10s %-12s %-15s %-24s  %-24s %6s  %s\n", "SESSION", "USER",
		"PROJECT", "SOURCE", "START", "END", "EXECS", "RECORDING");
	return sr_audit_store_sessions(store, f, print_session_row, l, err);
}

static int
run_sessions(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	     char **args)
{
	return run_listing(ctx, store, a, "sessions", walk_sessions);
}

/* ---- replay ------------------------------------------------------------- */

struct recording_ref {
	char name[NAME_MAX + 1];
	char sha256[2 * SR_AUDIT_HASH_LEN + 1];
	int ended;
};

static int
take_recording(const struct sr_audit_session *s, void *arg)
{
	struct recording_ref *r = arg;

	r->ended = s->end_ms != 0;
	snprintf(r->name, sizeof(r->name), "%s", s->recording != NULL ? s->recording : "");
	snprintf(r->sha256, sizeof(r->sha256), "%s",
		 s->recording_sha256 != NULL ? s->recording_sha256 : "");
	return 0;
}

static int
check_sha256(const unsigned char *buf, size_t len, const char *want_hex, const char *name,
	     struct sr_error *err)
{
	unsigned char md[SR_AUDIT_HASH_LEN], want[SR_AUDIT_HASH_LEN];
	char got_hex[2 * SR_AUDIT_HASH_LEN + 1];
	unsigned int mdlen;

	if (sr_audit_unhex(want_hex, want) < 0)
		return sr_error_set(err, "the trail's hash of %s is malformed", name);
	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return sr_error_set(err, "hashing %s failed", name);
	if (memcmp(md, want, sizeof(md)) != 0) {
		sr_audit_hex(md, got_hex);
		return sr_error_set(err, "recording %s does not match the audit trail"
				    " (sha256 %s, trail says %s)", name, got_hex, want_hex);
	}
	return 0;
}

/*
 * The recording's plain bytes, whether kept as NAME or compressed as
 * NAME.gz, once they hash to what the trail recorded for the session.
 */
static int
load_recording(const char *state_dir, const struct recording_ref *r, unsigned char **buf,
	       size_t *len, struct sr_error *err)
{
	if (sr_recording_read(state_dir, r->name, RECORDING_MAX, buf, len, err) < 0)
		return -1;
	if (check_sha256(*buf, *len, r->sha256, r->name, err) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

static int
run_replay(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	   char **args)
{
	struct recording_ref r = { .ended = 0 };
	struct sr_error err = { "" };
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = sr_audit_store_session(store, args[0], take_recording, &r, &err);
	if (rc < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit replay: %s", err.msg);
	if (rc == 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit replay: no session '%s'", args[0]);
	if (r.name[0] == '\0' || r.sha256[0] == '\0')
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit replay: session '%s' has no recording"
				     " in the trail (%s)", args[0],
				     r.ended ? "none was recorded" : "it has not ended");
	if (load_recording(ctx->cfg->state_dir, &r, &buf, &len, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit replay: %s", err.msg);
	rc = fwrite(buf, 1, len, ctx->out) == len ? SR_VERB_OK :
		sr_verb_error(ctx, SR_VERB_FAIL, "audit replay: writing output: %s", strerror(errno));
	free(buf);
	return rc;
}

/* ---- verify ------------------------------------------------------------- */

static int
print_verify_json(struct sr_verb_ctx *ctx, int rc, const struct sr_audit_verify_result *res)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "out of memory");
	json_object_object_add(o, "intact", json_object_new_boolean(rc == 0));
	json_object_object_add(o, "events", json_object_new_int64(res->count));
	json_object_object_add(o, "first_seq", json_object_new_int64(res->first_seq));
	json_object_object_add(o, "head_seq", json_object_new_int64(res->head_seq));
	json_object_object_add(o, "first_bad_seq",
			       rc == 0 ? NULL : json_object_new_int64(res->first_bad_seq));
	json_object_object_add(o, "reason", rc == 0 ? NULL : json_object_new_string(res->reason));
	fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc == 0 ? SR_VERB_OK : SR_VERB_FAIL;
}

static int
run_verify(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	   char **args)
{
	struct sr_audit_verify_result res;
	struct sr_error err = { "" };
	int rc;

	rc = sr_audit_verify(store, ctx->cfg->state_dir, a->seals, a->n_seals, &res, &err);
	if (rc < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit verify: %s", err.msg);
	if (a->json)
		return print_verify_json(ctx, rc, &res);
	if (rc == 0) {
		fprintf(ctx->out, "audit trail intact: %" PRId64 " events, head seq %" PRId64,
			res.count, res.head_seq);
		if (res.first_seq > 1)
			fprintf(ctx->out, " (events before seq %" PRId64 " pruned)", res.first_seq);
		fputc('\n', ctx->out);
		return SR_VERB_OK;
	}
	fprintf(ctx->out, "audit trail TAMPERED at seq %" PRId64 ": %s\n", res.first_bad_seq,
		res.reason);
	return SR_VERB_FAIL;
}

/* ---- prune -------------------------------------------------------------- */

/* What the audit.prune events of one `audit prune` say, added up. */
struct prune_sum {
	int64_t events;         /* audit.prune events read */
	int64_t deleted;
	int64_t recordings;
	int64_t first_seq;      /* from the last one */
	int64_t event_seq;
	int64_t retention_days;
	int64_t cutoff_ms;
};

static int64_t
member_int(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

static int
add_prune_row(const struct sr_audit_row *row, void *arg)
{
	struct prune_sum *sum = arg;
	json_object *o = json_tokener_parse(row->ev.details);

	sum->events++;
	sum->deleted += member_int(o, "deleted");
	sum->recordings += member_int(o, "recordings");
	sum->first_seq = member_int(o, "first_seq");
	sum->retention_days = member_int(o, "retention_days");
	sum->cutoff_ms = member_int(o, "cutoff_ms");
	sum->event_seq = row->ev.seq;
	json_object_put(o);
	return 0;
}

static int
print_prune(struct sr_verb_ctx *ctx, int json, int dry_run, const struct prune_sum *p)
{
	json_object *o;
	char when[32];

	sr_audit_format_time(p->cutoff_ms, when, sizeof(when));
	if (!json) {
		fprintf(ctx->out, "audit prune: %s %" PRId64 " events older than %s (retention %"
			PRId64 " days) and the recordings of %" PRId64 " sessions; the trail %s"
			" at seq %" PRId64, dry_run ? "would remove" : "removed", p->deleted, when,
			p->retention_days, p->recordings, dry_run ? "would start" : "now starts",
			p->first_seq);
		if (!dry_run)
			fprintf(ctx->out, " (recorded as audit.prune, seq %" PRId64 ")", p->event_seq);
		fputc('\n', ctx->out);
		return SR_VERB_OK;
	}
	o = json_object_new_object();
	if (o == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "out of memory");
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "retention_days", json_object_new_int64(p->retention_days));
	json_object_object_add(o, "cutoff", json_object_new_string(when));
	json_object_object_add(o, "deleted", json_object_new_int64(p->deleted));
	json_object_object_add(o, "recordings", json_object_new_int64(p->recordings));
	json_object_object_add(o, "first_seq", json_object_new_int64(p->first_seq));
	json_object_object_add(o, "event_seq", dry_run ? NULL : json_object_new_int64(p->event_seq));
	fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return SR_VERB_OK;
}

static int
run_prune_plan(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a)
{
	struct sr_audit_prune_result res;
	struct sr_error err = { "" };
	struct prune_sum p = { 0 };

	if (sr_audit_prune_plan(store, ctx->cfg->audit_retention_days, &res, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: %s", err.msg);
	p.deleted = res.deleted;
	p.recordings = res.recordings;
	p.first_seq = res.first_seq;
	p.retention_days = res.retention_days;
	p.cutoff_ms = res.cutoff_ms;
	return print_prune(ctx, a->json, 1, &p);
}

/*
 * Through the running audit writer, or as the writer when none runs: there
 * is one writer either way.  What was removed is read back from the
 * audit.prune events the prune wrote, so that the report is the trail's.
 */
static int
run_prune(struct sr_verb_ctx *ctx, struct sr_audit_store *store, struct audit_args *a,
	  char **args)
{
	struct sr_audit_event who = { .user = ctx->actor, .session = ctx->session,
				      .source = ctx->source };
	struct sr_audit_filter f = { .type = "audit.prune" };
	unsigned char hash[SR_AUDIT_HASH_LEN];
	struct sr_audit_client *client;
	struct sr_error err = { "" };
	struct prune_sum p = { 0 };
	int64_t seq = 0;
	int rc;

	if ((ctx->roles & SR_ROLE_ADMIN) == 0)
		return sr_verb_error(ctx, SR_VERB_DENIED, "audit prune: only admins may remove"
				     " events from the audit trail");
	if (a->dry_run)
		return run_prune_plan(ctx, store, a);
	if (sr_audit_store_head(store, &f.after_seq, hash, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: %s", err.msg);
	client = sr_audit_client_open(ctx->cfg->state_dir, 1, &err);
	if (client == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: %s", err.msg);
	rc = sr_audit_client_prune(client, &who, ctx->cfg->audit_retention_days, &seq, &err);
	sr_audit_client_free(client);
	if (rc < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: %s", err.msg);
	if (sr_audit_store_query(store, &f, add_prune_row, &p, &err) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: done (seq %" PRId64 "), but"
				     " reading it back failed: %s", seq, err.msg);
	if (p.events == 0 || p.event_seq != seq)
		return sr_verb_error(ctx, SR_VERB_FAIL, "audit prune: done, but its audit.prune"
				     " event seq %" PRId64 " is not in the trail", seq);
	return print_prune(ctx, a->json, 0, &p);
}

/* ---- dispatch ----------------------------------------------------------- */

#define OPT_FILTERS \
	{ "user", required_argument, NULL, O_USER }, \
	{ "since", required_argument, NULL, O_SINCE }, \
	{ "until", required_argument, NULL, O_UNTIL }

static const struct option events_opts[] = {
	{ "type", required_argument, NULL, O_TYPE },
	{ "project", required_argument, NULL, O_PROJECT },
	{ "session", required_argument, NULL, O_SESSION },
	{ "json", no_argument, NULL, O_JSON },
	OPT_FILTERS,
	{ NULL, 0, NULL, 0 },
};
static const struct option sessions_opts[] = {
	{ "json", no_argument, NULL, O_JSON },
	OPT_FILTERS,
	{ NULL, 0, NULL, 0 },
};
static const struct option export_opts[] = {
	{ "format", required_argument, NULL, O_FORMAT },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ NULL, 0, NULL, 0 },
};
static const struct option verify_opts[] = {
	{ "seal", required_argument, NULL, O_SEAL },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 },
};
static const struct option prune_opts[] = {
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "json", no_argument, NULL, O_JSON },
	{ NULL, 0, NULL, 0 },
};
static const struct option no_opts[] = {
	{ NULL, 0, NULL, 0 },
};

static const struct subverb subverbs[] = {
	{ "events", events_opts, 0, "events [--type T] [--user U] [--project P] [--session S]"
	  " [--since TIME] [--until TIME] [--json]", run_events },
	{ "sessions", sessions_opts, 0, "sessions [--user U] [--since TIME] [--until TIME] [--json]",
	  run_sessions },
	{ "replay", no_opts, 1, "replay SESSION", run_replay },
	{ "export", export_opts, 0, "export --format jsonl [--since TIME] [--until TIME]",
	  run_export },
	{ "verify", verify_opts, 0, "verify [--seal SEQ:HASH]... [--json]", run_verify },
	{ "prune", prune_opts, 0, "prune [--dry-run] [--json]", run_prune },
	{ NULL, NULL, 0, NULL, NULL },
};

static int
run_subverb(struct sr_verb_ctx *ctx, const struct subverb *sv, int argc, char **argv)
{
	struct audit_args a = { .format = "jsonl" };
	struct sr_error err = { "" };
	struct sr_audit_store *store;
	int rc;

	rc = parse_args(ctx, sv, argc, argv, &a);
	if (rc == 0 && strcmp(a.format, "jsonl") != 0)
		rc = sr_verb_error(ctx, SR_VERB_USAGE, "audit export: unknown --format '%s'"
				   " (jsonl is the one there is)", a.format);
	if (rc != 0)
		goto out;
	store = sr_audit_store_open(ctx->cfg->state_dir, SR_AUDIT_READ, 0, &err);
	if (store == NULL) {
		rc = sr_verb_error(ctx, SR_VERB_FAIL, "audit %s: %s", sv->name, err.msg);
		goto out;
	}
	rc = sv->run(ctx, store, &a, argv + optind);
	sr_audit_store_free(store);
out:
	free(a.seals);
	return rc;
}

int
sr_verb_audit(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	const struct subverb *sv;

	if ((ctx->roles & (SR_ROLE_ADMIN | SR_ROLE_AUDITOR)) == 0)
		return sr_verb_error(ctx, SR_VERB_DENIED, "audit: only admins and auditors may"
				     " read the audit trail");
	if (argc < 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "audit: missing sub-verb"
				     " (events, sessions, replay, export, verify, prune)");
	for (sv = subverbs; sv->name != NULL; sv++)
		if (strcmp(sv->name, argv[1]) == 0)
			return run_subverb(ctx, sv, argc - 1, argv + 1);
	return sr_verb_error(ctx, SR_VERB_USAGE, "audit: unknown sub-verb '%s'"
			     " (events, sessions, replay, export, verify, prune)", argv[1]);
}
