/*
 * export_checks.c — the automatic disclosure checks of an export request:
 * their thresholds, running them in order on the quarantined copy, and
 * recording the report.
 *
 * The checks, one file each:
 *   filetype     export_check_filetype.c     allowlist by extension and content
 *   caps         export_check_caps.c         size and CSV/TSV row caps
 *   cells        export_check_cells.c        small counts and zeros in tables
 *   identifiers  export_check_identifiers.c  주민등록번호, mobile numbers, e-mail
 *   rows         export_check_rows.c         rows copied from a granted dataset
 *
 * Each ends in pass, review or fail with the locations that made it so.  The
 * request's verdict is the worst of them.  The report is stored, and the
 * request moves from submitted to in_review, in one change whose
 * export.check event carries the file's hash and every verdict.  Checks
 * read only the copy in quarantine, after its hash was checked again: the
 * report is about exactly the bytes a steward approves.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_internal.h"

#define LIMIT_MAX_SIZE (1024LL * 1024 * 1024)    /* copies are read whole into memory */
#define LIMIT_MAX_APPROVALS 16

static const struct {
	const char *name;
	export_check_fn fn;
} checks[EXPORT_N_CHECKS] = {
	{ "filetype", export_check_filetype },
	{ "caps", export_check_caps },
	{ "cells", export_check_cells },
	{ "identifiers", export_check_identifiers },
	{ "rows", export_check_rows },
};

static const char *const verdict_names[] = { "pass", "review", "fail" };

const char *
sr_export_verdict_name(enum sr_export_verdict v)
{
	return (unsigned)v <= SR_EXPORT_FAIL ? verdict_names[v] : "fail";
}

void
sr_export_limits_init(struct sr_export_limits *l)
{
	l->max_size = 16LL * 1024 * 1024;
	l->max_rows = 5000;
	l->min_cell = 10;
	l->zero_disclosive = 1;
	l->approvals = 1;
	l->file_types = "csv tsv txt md json log png jpg svg pdf";
}

static int
types_known(const char *list, struct sr_error *err)
{
	char word[32];
	size_t len;

	while (list != NULL && *list != '\0') {
		list += strspn(list, " ,\t");
		len = strcspn(list, " ,\t");
		if (len == 0)
			break;
		snprintf(word, sizeof(word), "x.%.*s", (int)(len < 20 ? len : 20), list);
		if (len >= 20 || export_type_of(word) == EXPORT_TYPE_UNKNOWN)
			return sr_error_set(err, "export_file_types: unknown type \"%.*s\" (known: csv "
					    "tsv txt md json log png jpg svg pdf)",
					    (int)(len < 20 ? len : 20), list);
		list += len;
	}
	return 0;
}

int
sr_export_limits_check(const struct sr_export_limits *l, struct sr_error *err)
{
	if (l->max_size < 1 || l->max_size > LIMIT_MAX_SIZE)
		return sr_error_set(err, "export_max_size must be between 1 byte and 1G");
	if (l->max_rows < 1)
		return sr_error_set(err, "export_max_rows must be at least 1");
	if (l->min_cell < 0)
		return sr_error_set(err, "export_min_cell must not be negative");
	if (l->approvals < 1 || l->approvals > LIMIT_MAX_APPROVALS)
		return sr_error_set(err, "export_approvals must be between 1 and %d",
				    LIMIT_MAX_APPROVALS);
	if (l->file_types == NULL || l->file_types[strspn(l->file_types, " ,\t")] == '\0')
		return sr_error_set(err, "export_file_types must name at least one type");
	return types_known(l->file_types, err);
}

/* ---- results ------------------------------------------------------------------------ */

void
export_result_say(struct export_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

void
export_result_raise(struct export_result *r, enum sr_export_verdict v)
{
	if (v > r->verdict)
		r->verdict = v;
}

int
export_result_add(struct export_result *r, const struct export_file *f, struct export_pos *pos,
		  size_t offset, size_t length, uint32_t field, enum sr_export_verdict v,
		  const char *what, struct sr_error *err)
{
	struct export_loc *loc;

	r->hits++;
	export_result_raise(r, v);
	if (r->n_locs >= EXPORT_LOC_MAX)
		return 0;
	if (r->n_locs == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;

		loc = realloc(r->locs, cap * sizeof(*loc));
		if (loc == NULL)
			return sr_error_set(err, "out of memory");
		r->locs = loc;
		r->cap = cap;
	}
	export_pos_advance(pos, f->buf, offset);
	loc = &r->locs[r->n_locs++];
	loc->offset = offset;
	loc->length = (uint32_t)length;
	loc->line = pos->line;
	loc->column = pos->column;
	loc->field = field;
	loc->verdict = v;
	snprintf(loc->what, sizeof(loc->what), "%s", what);
	return 0;
}

void
export_result_unreadable(struct export_result *r, const struct export_file *f)
{
	if (export_type_is_text(f->type) && f->type != EXPORT_SVG)
		export_result_say(r, "not checked: the content is not "
				  "readable text (see filetype)");
	else
		export_result_say(r, "not checked: the content of a .%s file "
				  "cannot be checked automatically", export_type_name(f->type)[0] ?
				  export_type_name(f->type) : "unknown");
	export_result_raise(r, SR_EXPORT_REVIEW);
}

void
export_results_clear(struct export_result res[EXPORT_N_CHECKS])
{
	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		free(res[i].locs);
		res[i].locs = NULL;
		res[i].n_locs = res[i].cap = 0;
	}
}

int
export_checks_run(struct export_file *f, struct export_result res[EXPORT_N_CHECKS],
		  struct sr_error *err)
{
	f->text = 0;
	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].name = checks[i].name;
	}
	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		if (checks[i].fn(f, &res[i], err) < 0)
			return -1;
	}
	return 0;
}

/* ---- recording the report ----------------------------------------------------------- */

static struct json_object *
locations_json(const struct export_result *r)
{
	struct json_object *arr = json_object_new_array(), *o;

	for (size_t i = 0; i < r->n_locs; i++) {
		const struct export_loc *l = &r->locs[i];

		o = json_object_new_object();
		json_object_object_add(o, "line", json_object_new_int64(l->line));
		json_object_object_add(o, "column", json_object_new_int64(l->column));
		if (l->field > 0)
			json_object_object_add(o, "field", json_object_new_int64(l->field));
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)l->offset));
		json_object_object_add(o, "length", json_object_new_int64(l->length));
		json_object_object_add(o, "verdict",
				       json_object_new_string(sr_export_verdict_name(l->verdict)));
		json_object_object_add(o, "what", json_object_new_string(l->what));
		json_object_array_add(arr, o);
	}
	return arr;
}

static int
store_result(struct sr_policy *p, sqlite3_stmt *st, int64_t id, int seq,
	     const struct export_result *r, struct sr_error *err)
{
	struct json_object *locs = locations_json(r);
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sr_export_verdict_name(r->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, r->hits);
	sqlite3_bind_text(st, 6, json_object_to_json_string_ext(locs, JSON_C_TO_STRING_PLAIN), -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 7, seq);
	rc = sqlite3_step(st);
	json_object_put(locs);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "export_checks");
}

static int
store_report(struct sr_policy *p, int64_t id, const struct export_result res[EXPORT_N_CHECKS],
	     enum sr_export_verdict worst, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc = 0;

	st = pol_prepare(p, "INSERT INTO export_checks (request_id, name, verdict, message, hits, "
			 "locations, seq) VALUES (?, ?, ?, ?, ?, ?, ?)", err);
	if (st == NULL)
		return -1;
	for (int i = 0; i < EXPORT_N_CHECKS && rc == 0; i++)
		rc = store_result(p, st, id, i, &res[i], err);
	sqlite3_finalize(st);
	if (rc < 0)
		return -1;
	st = pol_prepare(p, "UPDATE export_requests SET state = 'in_review', verdict = ? "
			 "WHERE id = ? AND state = 'submitted'", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, sr_export_verdict_name(worst), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "export_requests");
}

static struct json_object *
check_event(const struct export_request *rq, const struct export_result res[EXPORT_N_CHECKS],
	    enum sr_export_verdict worst)
{
	struct json_object *d = json_object_new_object(), *c = json_object_new_object();

	json_object_object_add(d, "id", json_object_new_int64(rq->id));
	json_object_object_add(d, "path", json_object_new_string(rq->path));
	json_object_object_add(d, "sha256", json_object_new_string(rq->sha256));
	json_object_object_add(d, "verdict", json_object_new_string(sr_export_verdict_name(worst)));
	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		struct json_object *one = json_object_new_object();

		json_object_object_add(one, "verdict",
				       json_object_new_string(sr_export_verdict_name(res[i].verdict)));
		json_object_object_add(one, "hits", json_object_new_int64(res[i].hits));
		json_object_object_add(c, res[i].name, one);
	}
	json_object_object_add(d, "checks", c);
	return d;
}

static int
record(struct sr_policy *p, const struct export_request *rq,
       const struct export_result res[EXPORT_N_CHECKS], struct sr_error *err)
{
	enum sr_export_verdict worst = SR_EXPORT_PASS;
	char *datasets;
	int rc;

	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		if (res[i].verdict > worst)
			worst = res[i].verdict;
	}
	if (pol_change_begin(p, err) < 0)
		return -1;
	if (store_report(p, rq->id, res, worst, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	datasets = export_project_datasets(p, rq->project);
	rc = pol_change_commit_event(p, "export.check", rq->project, datasets,
				     check_event(rq, res, worst), err);
	free(datasets);
	return rc;
}

int
export_checks_record(struct sr_policy *p, int64_t id, const struct sr_export_limits *lim,
		     struct sr_error *err)
{
	struct export_result res[EXPORT_N_CHECKS] = { { 0 } };
	struct export_request rq;
	struct export_file f = { 0 };
	unsigned char *buf = NULL;
	int rc = -1;

	if (export_request_load(p, id, &rq, err) < 0)
		return -1;
	if (strcmp(rq.state, "submitted") != 0) {
		sr_error_set(err, "export request %lld was checked already", (long long)id);
		goto out;
	}
	if (export_quarantine_load(p->state_dir, rq.quarantine, rq.size, rq.sha256, &buf, err) < 0)
		goto out;
	f.buf = buf;
	f.len = (size_t)rq.size;
	f.type = export_type_of(rq.path);
	f.lim = lim;
	f.p = p;
	f.project = rq.project;
	f.now = time(NULL);
	if (export_checks_run(&f, res, err) < 0 || record(p, &rq, res, err) < 0)
		goto out;
	rc = 0;
out:
	export_results_clear(res);
	free(buf);
	export_request_clear(&rq);
	return rc;
}
