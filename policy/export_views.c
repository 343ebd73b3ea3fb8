/*
 * export_views.c — the review queue as JSON (`export list`, `export show`,
 * `--json` prints these as they are) and the lines of the login banner.
 *
 * One builder per kind of row, as in views.c.  A show carries the checks'
 * locations (positions only: line, column, field, byte range, what kind of
 * finding), never the flagged values themselves; the preview reads those
 * from the quarantined copy when a steward asks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

static const char *const states[] = {
	"submitted", "in_review", "approved", "rejected", "withdrawn", "released", NULL,
};

static int
state_known(const char *s)
{
	for (int i = 0; states[i] != NULL; i++) {
		if (strcmp(states[i], s) == 0)
			return 1;
	}
	return 0;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

#define LIST_SQL \
	"SELECT r.id, r.state, r.verdict, (SELECT count(*) FROM export_reviews v " \
	"WHERE v.request_id = r.id AND v.vote = 'approve'), r.approvals_needed, r.project, " \
	"r.requester, r.created, r.decided, r.size, r.path, (SELECT note FROM export_reviews w " \
	"WHERE w.request_id = r.id AND w.vote = 'reject') FROM export_requests r " \
	"WHERE (?1 IS NULL OR r.state = ?1) AND (?2 IS NULL OR r.project = ?2) AND " \
	"(?3 IS NULL OR r.requester = ?3) AND (?4 = 0 OR r.decided >= ?4) ORDER BY r.id DESC"

static struct json_object *
list_row(sqlite3_stmt *st)
{
	struct json_object *o = json_object_new_object();
	char approvals[32];

	json_object_object_add(o, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
	pol_json_str(o, "state", col_text(st, 1));
	pol_json_str(o, "verdict", col_text(st, 2));
	snprintf(approvals, sizeof(approvals), "%lld/%lld", sqlite3_column_int64(st, 3),
		 sqlite3_column_int64(st, 4));
	json_object_object_add(o, "approvals", json_object_new_string(approvals));
	pol_json_str(o, "project", col_text(st, 5));
	pol_json_str(o, "requester", col_text(st, 6));
	pol_json_date(o, "submitted", sqlite3_column_int64(st, 7), 0);
	pol_json_date(o, "decided", sqlite3_column_int64(st, 8), 0);
	json_object_object_add(o, "size", json_object_new_int64(sqlite3_column_int64(st, 9)));
	pol_json_str(o, "path", col_text(st, 10));
	if (sqlite3_column_type(st, 11) != SQLITE_NULL)
		pol_json_str(o, "rejection", col_text(st, 11));
	return o;
}

struct json_object *
sr_export_list(struct sr_policy *p, const struct sr_export_filter *f, struct sr_error *err)
{
	struct json_object *arr;
	sqlite3_stmt *st;
	int rc;

	if (f->state != NULL && !state_known(f->state)) {
		sr_error_set(err, "unknown state \"%s\" (submitted, in_review, approved, rejected, "
			     "withdrawn, released)", f->state);
		return NULL;
	}
	st = pol_prepare(p, LIST_SQL, err);
	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->requester, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->decided_since);
	arr = json_object_new_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(arr, list_row(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pol_sql_error(p, err, "export_requests");
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/* ---- show ---------------------------------------------------------------------------- */

static struct json_object *
check_row(sqlite3_stmt *st, const void *unused)
{
	struct json_object *o = json_object_new_object(), *locs;

	pol_json_str(o, "name", col_text(st, 0));
	pol_json_str(o, "verdict", col_text(st, 1));
	pol_json_str(o, "message", col_text(st, 2));
	json_object_object_add(o, "hits", json_object_new_int64(sqlite3_column_int64(st, 3)));
	locs = json_tokener_parse(col_text(st, 4));
	json_object_object_add(o, "locations", locs != NULL ? locs : json_object_new_array());
	return o;
}

static struct json_object *
review_row(sqlite3_stmt *st, const void *unused)
{
	struct json_object *o = json_object_new_object();

	pol_json_str(o, "steward", col_text(st, 0));
	pol_json_str(o, "vote", col_text(st, 1));
	pol_json_date(o, "time", sqlite3_column_int64(st, 3), 0);
	pol_json_str(o, "note", col_text(st, 2));
	return o;
}

int64_t
export_previous(struct sr_policy *p, const struct export_request *r, struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t prev = 0;
	int rc;

	st = pol_prepare(p, "SELECT id FROM export_requests WHERE project = ? AND path = ? AND "
			 "id < ? ORDER BY id DESC LIMIT 1", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, r->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		prev = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		prev = pol_sql_error(p, err, "export_requests");
	sqlite3_finalize(st);
	return prev;
}

static struct json_object *
request_object(const struct export_request *r, int64_t approvals, int64_t previous)
{
	struct json_object *o = json_object_new_object();
	char given[32];

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	pol_json_str(o, "project", r->project);
	pol_json_str(o, "requester", r->requester);
	pol_json_str(o, "path", r->path);
	pol_json_str(o, "type", r->file_type);
	json_object_object_add(o, "size", json_object_new_int64(r->size));
	pol_json_str(o, "sha256", r->sha256);
	pol_json_str(o, "state", r->state);
	pol_json_str(o, "verdict", r->verdict[0] ? r->verdict : NULL);
	snprintf(given, sizeof(given), "%lld/%d", (long long)approvals, r->approvals_needed);
	json_object_object_add(o, "approvals", json_object_new_string(given));
	pol_json_date(o, "submitted", r->created, 0);
	pol_json_date(o, "decided", r->decided, 0);
	pol_json_date(o, "released", r->released, 0);
	json_object_object_add(o, "previous", previous > 0 ? json_object_new_int64(previous) : NULL);
	pol_json_str(o, "reason", r->reason);
	return o;
}

static int64_t
approvals_of(struct sr_policy *p, int64_t id)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	st = pol_prepare(p, "SELECT count(*) FROM export_reviews WHERE request_id = ? AND "
			 "vote = 'approve'", NULL);
	if (st == NULL)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

struct json_object *
sr_export_show(struct sr_policy *p, int64_t id, struct sr_error *err)
{
	struct json_object *o = NULL, *checks, *reviews;
	struct export_request r;
	int64_t previous;

	if (export_request_load(p, id, &r, err) < 0)
		return NULL;
	previous = export_previous(p, &r, err);
	checks = previous < 0 ? NULL :
		pol_rows_by_id(p, "SELECT name, verdict, message, hits, locations FROM "
			       "export_checks WHERE request_id = ? ORDER BY seq", id, check_row,
			       NULL, "export_checks", err);
	reviews = checks == NULL ? NULL :
		pol_rows_by_id(p, "SELECT steward, vote, note, time FROM export_reviews WHERE "
			       "request_id = ? ORDER BY time, steward", id, review_row, NULL,
			       "export_reviews", err);
	if (reviews != NULL) {
		o = request_object(&r, approvals_of(p, id), previous);
		json_object_object_add(o, "checks", checks);
		json_object_object_add(o, "reviews", reviews);
	} else {
		json_object_put(checks);
	}
	export_request_clear(&r);
	return o;
}

/* ---- the login banner ---------------------------------------------------------------- */

static void
banner_line(FILE *out, struct json_object *req, const char *eol)
{
	struct json_object *v;
	int64_t id = 0;
	const char *state = "", *path = "";

	if (json_object_object_get_ex(req, "id", &v))
		id = json_object_get_int64(v);
	if (json_object_object_get_ex(req, "state", &v))
		state = json_object_get_string(v);
	if (json_object_object_get_ex(req, "path", &v))
		path = json_object_get_string(v);
	fprintf(out, "export request %lld (", (long long)id);
	sr_export_write_escaped(out, path, strlen(path));
	if (strcmp(state, "approved") == 0)
		fprintf(out, ") approved: fetch it with `export fetch %lld`%s", (long long)id, eol);
	else
		fprintf(out, ") %s: see `saferoom-export list` in the room%s", state, eol);
}

int
sr_export_banner(struct sr_policy *p, const char *user, int64_t since, FILE *out, int crlf,
		 struct sr_error *err)
{
	struct sr_export_filter f = { .requester = user, .decided_since = since > 0 ? since : 1 };
	struct json_object *arr = sr_export_list(p, &f, err);
	const char *eol = crlf ? "\r\n" : "\n";

	if (arr == NULL)
		return -1;
	for (size_t i = json_object_array_length(arr); i > 0; i--) {
		struct json_object *req = json_object_array_get_idx(arr, i - 1), *v;

		if (json_object_object_get_ex(req, "state", &v) &&
		    (strcmp(json_object_get_string(v), "approved") == 0 ||
		     strcmp(json_object_get_string(v), "rejected") == 0))
			banner_line(out, req, eol);
	}
	json_object_put(arr);
	return 0;
}
