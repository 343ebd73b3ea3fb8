/*
 * query.c — the questions security staff ask of the audit trail.
 *
 * Which events of this type, user, project or session, in this time window;
 * which sessions ran and what they did; and every row as one line of JSON for
 * a SIEM.  Each query is one fixed SQL text with bound parameters.  The
 * texts differ only in the index they walk (named with INDEXED BY, so the
 * plan does not depend on statistics): the most selective filter given picks
 * the index, the others are checked row by row.  Every index on (x) is
 * ordered by (x, seq), so rows come out in seq order without a sort.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "saferoom/audit.h"
#include "store.h"

/* Filters every event query checks; an unset one is bound NULL and passes. */
#define EVENT_FILTERS \
	" seq > :after AND time_ms >= :since AND time_ms < :until" \
	" AND (:type IS NULL OR type = :type)" \
	" AND (:tlo IS NULL OR (type >= :tlo AND type < :thi))" \
	" AND (:user IS NULL OR user = :user)" \
	" AND (:project IS NULL OR project = :project)" \
	" AND (:session IS NULL OR session = :session)" \
	" ORDER BY seq"
#define EVENT_SELECT "SELECT " SR_AUDIT_ROW_COLUMNS " FROM events "

enum walk_index { BY_SEQ, BY_SESSION, BY_USER, BY_TYPE, BY_TYPE_PREFIX, BY_TIME };

static const char *const event_sql[] = {
	[BY_SEQ] = EVENT_SELECT "NOT INDEXED WHERE" EVENT_FILTERS,
	[BY_SESSION] = EVENT_SELECT "INDEXED BY events_session WHERE session = :session AND"
		EVENT_FILTERS,
	[BY_USER] = EVENT_SELECT "INDEXED BY events_user WHERE user = :user AND" EVENT_FILTERS,
	[BY_TYPE] = EVENT_SELECT "INDEXED BY events_type WHERE type = :type AND" EVENT_FILTERS,
	[BY_TYPE_PREFIX] = EVENT_SELECT "INDEXED BY events_type WHERE type >= :tlo AND type < :thi"
		" AND" EVENT_FILTERS,
	[BY_TIME] = EVENT_SELECT "INDEXED BY events_time WHERE time_ms >= :since AND"
		" time_ms < :until AND" EVENT_FILTERS,
};

/* 1 when the type filter is a prefix such as "export.". */
static int
type_is_prefix(const char *type)
{
	size_t n = type != NULL ? strlen(type) : 0;

	return n > 0 && type[n - 1] == '.';
}

static enum walk_index
pick_index(const struct sr_audit_filter *f)
{
	if (f->session != NULL)
		return BY_SESSION;
	if (f->user != NULL)
		return BY_USER;
	if (f->type != NULL)
		return type_is_prefix(f->type) ? BY_TYPE_PREFIX : BY_TYPE;
	if (f->since_ms > 0 || f->until_ms > 0)
		return BY_TIME;
	return BY_SEQ;
}

static void
bind_named_text(sqlite3_stmt *st, const char *name, const char *value)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i == 0)
		return;
	if (value == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, value, -1, SQLITE_TRANSIENT);
}

static void
bind_named_int(sqlite3_stmt *st, const char *name, int64_t value)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i != 0)
		sqlite3_bind_int64(st, i, value);
}

/*
 * A type prefix "export." matches the half-open range ["export.", "export/"):
 * '/' follows '.', so the range is exactly the strings that start with it.
 */
static int
bind_filter(sqlite3_stmt *st, const struct sr_audit_filter *f)
{
	char *hi = NULL;

	if (type_is_prefix(f->type)) {
		hi = strdup(f->type);
		if (hi == NULL)
			return -1;
		hi[strlen(hi) - 1] = '.' + 1;
		bind_named_text(st, ":tlo", f->type);
		bind_named_text(st, ":thi", hi);
		bind_named_text(st, ":type", NULL);
	} else {
		bind_named_text(st, ":tlo", NULL);
		bind_named_text(st, ":type", f->type);
	}
	free(hi);
	bind_named_text(st, ":user", f->user);
	bind_named_text(st, ":project", f->project);
	bind_named_text(st, ":session", f->session);
	bind_named_int(st, ":after", f->after_seq > 0 ? f->after_seq : INT64_MIN);
	bind_named_int(st, ":since", f->since_ms > 0 ? f->since_ms : INT64_MIN);
	bind_named_int(st, ":until", f->until_ms > 0 ? f->until_ms : INT64_MAX);
	return 0;
}

static int
prepare_bound(struct sr_audit_store *store, const char *sql, const struct sr_audit_filter *f,
	      sqlite3_stmt **st, struct sr_error *err)
{
	if (sqlite3_prepare_v2(store->db, sql, -1, st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing a query");
	if (bind_filter(*st, f) < 0) {
		sqlite3_finalize(*st);
		return sr_error_set(err, "out of memory");
	}
	return 0;
}

int
sr_audit_store_query(struct sr_audit_store *store, const struct sr_audit_filter *filter,
		     sr_audit_row_fn fn, void *arg, struct sr_error *err)
{
	static const struct sr_audit_filter none;
	struct sr_audit_row row;
	sqlite3_stmt *st;
	int rc;

	if (filter == NULL)
		filter = &none;
	if (prepare_bound(store, event_sql[pick_index(filter)], filter, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* A row with a malformed hash is still shown; verify is what judges it. */
		sr_audit_row_decode(st, &row);
		rc = fn(&row, arg);
		if (rc != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sr_audit_db_error(store, err, "audit.db: querying events");
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * A session is its session.start event, joined with its first session.end
 * (end time, recording and its hash) and the number of commands it ran.
 */
static const char session_sql[] =
	"SELECT s.session, s.user, s.project, s.source, s.time_ms,"
	" (SELECT e.time_ms FROM events e INDEXED BY events_session"
	"   WHERE e.session = s.session AND e.type = 'session.end' ORDER BY e.seq LIMIT 1),"
	" (SELECT e.details FROM events e INDEXED BY events_session"
	"   WHERE e.session = s.session AND e.type = 'session.end' ORDER BY e.seq LIMIT 1),"
	" (SELECT count(*) FROM events x INDEXED BY events_session"
	"   WHERE x.session = s.session AND x.type = 'exec')"
	" FROM events s INDEXED BY events_type"
	" WHERE s.type = 'session.start' AND s.session <> '' AND s.time_ms < :until"
	" AND (:user IS NULL OR s.user = :user)"
	" AND (:project IS NULL OR s.project = :project)"
	" AND (:session IS NULL OR s.session = :session)"
	" ORDER BY s.seq";

static const char *
column_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/* A string member of a JSON object, or NULL. */
static const char *
member_str(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Decodes one session row and calls fn, unless it ended before the window. */
static int
emit_session(sqlite3_stmt *st, const struct sr_audit_filter *f, sr_audit_session_fn fn,
	     void *arg)
{
	struct sr_audit_session s = { 0 };
	json_object *end = NULL;
	int rc;

	s.session = column_str(st, 0);
	s.user = column_str(st, 1);
	s.project = column_str(st, 2);
	s.source = column_str(st, 3);
	s.start_ms = sqlite3_column_int64(st, 4);
	s.end_ms = sqlite3_column_int64(st, 5);
	s.exec_count = sqlite3_column_int64(st, 7);
	/* Sessions overlapping [since, until): a running one always does. */
	if (f->since_ms > 0 && s.end_ms != 0 && s.end_ms < f->since_ms)
		return 0;
	if (sqlite3_column_type(st, 6) == SQLITE_TEXT)
		end = json_tokener_parse(column_str(st, 6));
	s.recording = member_str(end, "recording");
	s.recording_sha256 = member_str(end, "recording_sha256");
	rc = fn(&s, arg);
	json_object_put(end);
	return rc;
}

/* Walks the sessions matching f; *found counts those passed to fn. */
static int
walk_sessions(struct sr_audit_store *store, const struct sr_audit_filter *f,
	      sr_audit_session_fn fn, void *arg, int64_t *found, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare_bound(store, session_sql, f, &st, err) < 0)
		return -1;
	*found = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(*found)++;
		rc = emit_session(st, f, fn, arg);
		if (rc != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sr_audit_db_error(store, err, "audit.db: querying sessions");
out:
	sqlite3_finalize(st);
	return rc;
}

int
sr_audit_store_sessions(struct sr_audit_store *store, const struct sr_audit_filter *filter,
			sr_audit_session_fn fn, void *arg, struct sr_error *err)
{
	static const struct sr_audit_filter none;
	int64_t found;

	return walk_sessions(store, filter != NULL ? filter : &none, fn, arg, &found, err);
}

int
sr_audit_store_session(struct sr_audit_store *store, const char *session,
		       sr_audit_session_fn fn, void *arg, struct sr_error *err)
{
	struct sr_audit_filter f = { .session = session };
	int64_t found;
	int rc;

	if (session == NULL || session[0] == '\0')
		return 0;
	rc = walk_sessions(store, &f, fn, arg, &found, err);
	if (rc < 0)
		return -1;
	return found > 0 ? 1 : 0;
}

/* Adds a string member; an empty field is null, which is what a SIEM expects. */
static void
add_str(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, value != NULL && value[0] != '\0' ?
			       json_object_new_string(value) : NULL);
}

static void
add_hash(json_object *obj, const char *key, const unsigned char hash[SR_AUDIT_HASH_LEN])
{
	char hex[2 * SR_AUDIT_HASH_LEN + 1];

	sr_audit_hex(hash, hex);
	json_object_object_add(obj, key, json_object_new_string(hex));
}

/* details as an object; a row whose details are not one (a hand-edited db) keeps its text. */
static json_object *
details_json(const char *text)
{
	json_object *obj = json_tokener_parse(text != NULL ? text : "{}");

	if (obj != NULL && json_object_is_type(obj, json_type_object))
		return obj;
	json_object_put(obj);
	return json_object_new_string(text != NULL ? text : "");
}

int
sr_audit_row_write_json(const struct sr_audit_row *row, FILE *out)
{
	const struct sr_audit_event *ev = &row->ev;
	json_object *obj = json_object_new_object();
	char when[32];
	const char *text;
	int rc = -1;

	if (obj == NULL)
		return -1;
	sr_audit_format_time(ev->time_ms, when, sizeof(when));
	json_object_object_add(obj, "seq", json_object_new_int64(ev->seq));
	json_object_object_add(obj, "time", json_object_new_string(when));
	json_object_object_add(obj, "time_ms", json_object_new_int64(ev->time_ms));
	add_str(obj, "type", ev->type);
	add_str(obj, "user", ev->user);
	add_str(obj, "project", ev->project);
	add_str(obj, "session", ev->session);
	add_str(obj, "source", ev->source);
	add_str(obj, "datasets", ev->datasets);
	json_object_object_add(obj, "details", details_json(ev->details));
	add_hash(obj, "prev_hash", row->prev_hash);
	add_hash(obj, "hash", row->hash);
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL && fputs(text, out) != EOF && fputc('\n', out) != EOF)
		rc = 0;
	json_object_put(obj);
	return rc;
}
