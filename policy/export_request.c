/*
 * export_request.c — the state machine of an export request: stewards'
 * votes, the requester's withdrawal, and the fetch of an approved file.
 *
 *   submitted -> in_review        the checks ran (export_checks.c)
 *   in_review -> approved         export_approvals distinct stewards approved
 *   submitted | in_review -> rejected    one steward rejected, with a reason
 *   submitted | in_review -> withdrawn   the requester withdrew it
 *   approved  -> released         the requester fetched it
 *
 * Every transition is one change: it re-reads the request under the write
 * lock, checks who asks and the state it is in, and commits only after its
 * export.* audit event (with the file's hash) is durable.  Who asks is the
 * policy handle's actor.  The requester can never vote on their own request,
 * whatever roles they hold; the schema's trigger refuses it too.  A request
 * with a failed check can only be rejected: "fail" means disclosive as it
 * stands, and the researcher fixes the file and submits it again.  Refusals
 * of requests that exist are themselves audited (export.refused): someone
 * trying to approve their own request or fetch someone else's is a signal.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_internal.h"

static void
copy_col(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

static int
fill_request(sqlite3_stmt *st, struct export_request *r)
{
	r->id = sqlite3_column_int64(st, 0);
	copy_col(st, 1, r->project, sizeof(r->project));
	copy_col(st, 2, r->requester, sizeof(r->requester));
	r->path = strdup((const char *)sqlite3_column_text(st, 3));
	r->reason = strdup((const char *)sqlite3_column_text(st, 4));
	r->size = sqlite3_column_int64(st, 5);
	copy_col(st, 6, r->sha256, sizeof(r->sha256));
	copy_col(st, 7, r->quarantine, sizeof(r->quarantine));
	copy_col(st, 8, r->file_type, sizeof(r->file_type));
	r->approvals_needed = sqlite3_column_int(st, 9);
	copy_col(st, 10, r->state, sizeof(r->state));
	copy_col(st, 11, r->verdict, sizeof(r->verdict));
	r->created = sqlite3_column_int64(st, 12);
	r->decided = sqlite3_column_int64(st, 13);
	r->released = sqlite3_column_int64(st, 14);
	return r->path != NULL && r->reason != NULL ? 0 : -1;
}

int
export_request_load(struct sr_policy *p, int64_t id, struct export_request *r,
		    struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(r, 0, sizeof(*r));
	st = pol_prepare(p, "SELECT id, project, requester, path, reason, size, sha256, "
			 "quarantine, file_type, approvals_needed, state, verdict, created, "
			 "decided, released FROM export_requests WHERE id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && fill_request(st, r) < 0)
		rc = sr_error_set(err, "out of memory");
	else if (rc == SQLITE_DONE)
		rc = sr_error_set(err, "no export request %lld", (long long)id);
	else if (rc != SQLITE_ROW)
		rc = pol_sql_error(p, err, "export_requests");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		export_request_clear(r);
		return -1;
	}
	return 0;
}

void
export_request_clear(struct export_request *r)
{
	free(r->path);
	free(r->reason);
	r->path = r->reason = NULL;
}

char *
export_project_datasets(struct sr_policy *p, const char *project)
{
	sqlite3_stmt *st;
	char *out = NULL;

	st = pol_prepare(p, "SELECT group_concat(name, ',') FROM (SELECT d.name FROM grants g "
			 "JOIN projects pr ON pr.id = g.project_id JOIN datasets d ON "
			 "d.id = g.dataset_id WHERE pr.name = ? ORDER BY d.name)", NULL);
	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* The fields every export.* event carries: which request, which bytes. */
static struct json_object *
event_details(const struct export_request *r)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "id", json_object_new_int64(r->id));
	json_object_object_add(d, "path", json_object_new_string(r->path));
	json_object_object_add(d, "sha256", json_object_new_string(r->sha256));
	json_object_object_add(d, "size", json_object_new_int64(r->size));
	json_object_object_add(d, "requester", json_object_new_string(r->requester));
	return d;
}

int
export_refuse(struct sr_policy *p, const char *op, const struct export_request *r,
	      struct sr_error *err, const char *fmt, ...)
{
	struct json_object *d = event_details(r);
	char why[SR_ERROR_MAX], *datasets;
	va_list ap;

	pol_change_abort(p);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sr_error_set(err, "%s", why);
	json_object_object_add(d, "op", json_object_new_string(op));
	json_object_object_add(d, "why", json_object_new_string(why));
	datasets = export_project_datasets(p, r->project);
	pol_audit_send(p, "export.refused", r->project, datasets, d, NULL);
	free(datasets);
	json_object_put(d);
	return -1;
}

int
export_text_ok(const char *what, const char *text, struct sr_error *err)
{
	size_t len = text != NULL ? strlen(text) : 0, bad;

	if (len == 0 || text[strspn(text, " \t")] == '\0')
		return sr_error_set(err, "%s is required", what);
	if (len > SR_EXPORT_REASON_MAX)
		return sr_error_set(err, "%s is longer than %d bytes", what, SR_EXPORT_REASON_MAX);
	if (!export_utf8_valid((const unsigned char *)text, len, &bad))
		return sr_error_set(err, "%s is not UTF-8 text", what);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f)
			return sr_error_set(err, "%s must be one line of text", what);
	}
	return 0;
}

/* ---- votes -------------------------------------------------------------------------- */

/* 1 when NAME is a registered user holding the steward role. */
static int
is_steward(struct sr_policy *p, const char *name)
{
	unsigned roles = 0;

	if (sr_policy_user_name_ok(name) < 0 || sr_policy_user_roles(p, name, &roles, NULL) < 0)
		return 0;
	return (roles & SR_POLICY_STEWARD) != 0;
}

static int64_t
count_approvals(struct sr_policy *p, int64_t id, struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	st = pol_prepare(p, "SELECT count(*) FROM export_reviews WHERE request_id = ? AND "
			 "vote = 'approve'", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		pol_sql_error(p, err, "export_reviews");
	sqlite3_finalize(st);
	return n;
}

/* 1 when the actor voted on ID already. */
static int
voted(struct sr_policy *p, int64_t id, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "SELECT 1 FROM export_reviews WHERE request_id = ? AND steward = ?",
			 err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, p->actor, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "export_reviews");
}

/* Why the actor may not vote on R this way; NULL when they may. */
static const char *
vote_refused(struct sr_policy *p, const struct export_request *r, enum sr_export_vote vote)
{
	if (strcmp(p->actor, r->requester) == 0)
		return "you submitted it: another steward must review it";
	if (!is_steward(p, p->actor))
		return "only a steward may review export requests";
	if (vote == SR_EXPORT_APPROVE && strcmp(r->state, "in_review") != 0)
		return strcmp(r->state, "submitted") == 0 ? "its checks have not run: it can only "
			"be rejected" : "it is decided already";
	if (vote == SR_EXPORT_REJECT && strcmp(r->state, "in_review") != 0 &&
	    strcmp(r->state, "submitted") != 0)
		return "it is decided already";
	if (vote == SR_EXPORT_APPROVE && strcmp(r->verdict, "fail") == 0)
		return "it failed an automatic check: it can only be rejected, and the researcher "
		       "submits a corrected file";
	return NULL;
}

static int
insert_vote(struct sr_policy *p, int64_t id, enum sr_export_vote vote, const char *note,
	    int64_t now, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "INSERT INTO export_reviews (request_id, steward, vote, note, time) "
			 "VALUES (?, ?, ?, ?, ?)", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, p->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, vote == SR_EXPORT_APPROVE ? "approve" : "reject", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 4, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "export_reviews");
}

/* Moves ID to STATE, stamping the column STAMP ("decided" or "released") with NOW. */
static int
set_state(struct sr_policy *p, int64_t id, const char *state, const char *stamp, int64_t now,
	  struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, strcmp(stamp, "released") == 0 ?
			 "UPDATE export_requests SET state = ?, released = ? WHERE id = ?" :
			 "UPDATE export_requests SET state = ?, decided = ? WHERE id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "export_requests");
}

/* Records the vote and, when it decides, the new state; *state is the state after. */
static int
apply_vote(struct sr_policy *p, struct export_request *r, enum sr_export_vote vote,
	   const char *note, int64_t *approvals, struct sr_error *err)
{
	int64_t now = time(NULL);

	if (insert_vote(p, r->id, vote, note, now, err) < 0)
		return -1;
	*approvals = count_approvals(p, r->id, err);
	if (*approvals < 0)
		return -1;
	if (vote == SR_EXPORT_REJECT)
		snprintf(r->state, sizeof(r->state), "rejected");
	else if (*approvals >= r->approvals_needed)
		snprintf(r->state, sizeof(r->state), "approved");
	else
		return 0;
	return set_state(p, r->id, r->state, "decided", now, err);
}

static int
commit_vote(struct sr_policy *p, const struct export_request *r, enum sr_export_vote vote,
	    const char *note, int64_t approvals, struct sr_error *err)
{
	struct json_object *d = event_details(r);
	char *datasets = export_project_datasets(p, r->project);
	int rc;

	json_object_object_add(d, vote == SR_EXPORT_APPROVE ? "note" : "reason",
			       note != NULL ? json_object_new_string(note) : NULL);
	json_object_object_add(d, "approvals", json_object_new_int64(approvals));
	json_object_object_add(d, "needed", json_object_new_int64(r->approvals_needed));
	json_object_object_add(d, "state", json_object_new_string(r->state));
	rc = pol_change_commit_event(p, vote == SR_EXPORT_APPROVE ? "export.approve" :
				     "export.reject", r->project, datasets, d, err);
	free(datasets);
	return rc;
}

static int
check_note(enum sr_export_vote vote, const char *note, struct sr_error *err)
{
	if (vote == SR_EXPORT_REJECT)
		return export_text_ok("a reason for the rejection", note, err);
	if (note != NULL)
		return export_text_ok("the note", note, err);
	return 0;
}

int
sr_export_vote(struct sr_policy *p, int64_t id, enum sr_export_vote vote, const char *note,
	       char *state, struct sr_error *err)
{
	struct export_request r;
	const char *why;
	int64_t approvals = 0;
	int rc = -1, already;

	if (check_note(vote, note, err) < 0 || pol_change_begin(p, err) < 0)
		return -1;
	if (export_request_load(p, id, &r, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	why = vote_refused(p, &r, vote);
	if (why != NULL) {
		export_refuse(p, vote == SR_EXPORT_APPROVE ? "approve" : "reject", &r, err,
			      "export request %lld: %s", (long long)id, why);
		goto out;
	}
	already = voted(p, id, err);
	if (already != 0) {
		if (already > 0)
			sr_error_set(err, "export request %lld: you voted on it already",
				     (long long)id);
		pol_change_abort(p);
		goto out;
	}
	if (apply_vote(p, &r, vote, note, &approvals, err) < 0) {
		pol_change_abort(p);
		goto out;
	}
	rc = commit_vote(p, &r, vote, note, approvals, err);
	if (rc == 0 && state != NULL)
		snprintf(state, EXPORT_STATE_LEN, "%s", r.state);
out:
	export_request_clear(&r);
	return rc;
}

/* ---- the requester's own steps ------------------------------------------------------ */

int
sr_export_withdraw(struct sr_policy *p, int64_t id, struct sr_error *err)
{
	struct export_request r;
	char *datasets;
	int rc = -1;

	if (pol_change_begin(p, err) < 0)
		return -1;
	if (export_request_load(p, id, &r, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	if (strcmp(p->actor, r.requester) != 0) {
		export_refuse(p, "withdraw", &r, err, "export request %lld is not yours",
			      (long long)id);
		goto out;
	}
	if (strcmp(r.state, "submitted") != 0 && strcmp(r.state, "in_review") != 0) {
		export_refuse(p, "withdraw", &r, err, "export request %lld is %s: only a request "
			      "awaiting review can be withdrawn", (long long)id, r.state);
		goto out;
	}
	if (set_state(p, id, "withdrawn", "decided", time(NULL), err) < 0) {
		pol_change_abort(p);
		goto out;
	}
	datasets = export_project_datasets(p, r.project);
	rc = pol_change_commit_event(p, "export.withdraw", r.project, datasets, event_details(&r),
				     err);
	free(datasets);
out:
	export_request_clear(&r);
	return rc;
}

/* Checks, under the write lock, that the actor may fetch R now. */
static int
fetch_allowed(struct sr_policy *p, const struct export_request *r, struct sr_error *err)
{
	if (strcmp(p->actor, r->requester) != 0)
		return export_refuse(p, "fetch", r, err, "export request %lld is not yours: only "
				     "the researcher who submitted it may fetch it",
				     (long long)r->id);
	if (strcmp(r->state, "approved") != 0 && strcmp(r->state, "released") != 0)
		return export_refuse(p, "fetch", r, err, "export request %lld is %s: only an "
				     "approved request can be fetched", (long long)r->id, r->state);
	return 0;
}

/* Audits the fetch and marks the request released; the bytes go out only after this. */
static int
record_fetch(struct sr_policy *p, struct export_request *r, struct sr_error *err)
{
	int again = strcmp(r->state, "released") == 0, rc;
	struct json_object *d;
	char *datasets;

	if (strcmp(r->state, "approved") == 0 &&
	    set_state(p, r->id, "released", "released", time(NULL), err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	d = event_details(r);
	json_object_object_add(d, "again", json_object_new_boolean(again));
	datasets = export_project_datasets(p, r->project);
	rc = pol_change_commit_event(p, "export.fetch", r->project, datasets, d, err);
	free(datasets);
	return rc;
}

static int
write_out(FILE *out, const unsigned char *buf, size_t len, struct sr_error *err)
{
	if ((len > 0 && fwrite(buf, 1, len, out) != len) || fflush(out) != 0)
		return sr_error_errno(err, "writing the file");
	return 0;
}

int
sr_export_fetch(struct sr_policy *p, int64_t id, FILE *out, struct sr_error *err)
{
	struct export_request r;
	unsigned char *buf = NULL;
	int rc = -1;

	if (pol_change_begin(p, err) < 0)
		return -1;
	if (export_request_load(p, id, &r, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	if (fetch_allowed(p, &r, err) < 0)
		goto out;
	/* The bytes that were reviewed, or nothing: a copy altered on disk is refused. */
	if (export_quarantine_load(p->state_dir, r.quarantine, r.size, r.sha256, &buf, err) < 0) {
		export_refuse(p, "fetch", &r, err, "export request %lld: %s", (long long)id,
			      sr_error_msg(err));
		goto out;
	}
	if (record_fetch(p, &r, err) < 0)
		goto out;
	rc = write_out(out, buf, (size_t)r.size, err);
out:
	free(buf);
	export_request_clear(&r);
	return rc;
}
