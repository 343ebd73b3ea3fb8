/*
 * views.c — what `list` and `show` print, as JSON objects.
 *
 * One builder per kind of row serves both list and show, so the two can never
 * disagree; show adds the row's relations (keys, memberships, grants).
 * `--json` prints these objects as they are and the text form is drawn from
 * them, so there is one source of truth for what an administrator sees.
 * Dates read back the way they are typed (see sr_policy_format_date).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct json_object *(*row_fn)(struct sr_policy *p, sqlite3_stmt *st, int detail,
				      struct sr_error *err);

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Runs SQL with ?1 = NAME (NULL for all rows) and builds an array, or the one object. */
static struct json_object *
view(struct sr_policy *p, const char *sql, const char *name, const char *kind, row_fn fn,
     struct sr_error *err)
{
	struct json_object *arr, *obj;
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, sql, err);
	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	arr = json_object_new_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		obj = fn(p, st, name != NULL, err);
		if (obj == NULL)
			break;
		json_object_array_add(arr, obj);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			pol_sql_error(p, err, kind);
		json_object_put(arr);
		return NULL;
	}
	if (name == NULL)
		return arr;
	obj = json_object_array_length(arr) == 1 ? json_object_get(json_object_array_get_idx(arr, 0))
						 : NULL;
	json_object_put(arr);
	if (obj == NULL)
		sr_error_set(err, "unknown %s \"%s\"", kind, name);
	return obj;
}

struct json_object *
pol_rows_by_id(struct sr_policy *p, const char *sql, int64_t id, pol_row_fn row,
	       const void *arg, const char *what, struct sr_error *err)
{
	struct json_object *arr;
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, sql, err);
	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	arr = json_object_new_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(arr, row(st, arg));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pol_sql_error(p, err, what);
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

/* A windowed link: SQL yields (name, valid_from, valid_until); KEY names the name. */
static struct json_object *
link_row(sqlite3_stmt *st, const void *key)
{
	struct json_object *o = json_object_new_object();

	pol_json_str(o, key, col_text(st, 0));
	pol_json_date(o, "valid_from", sqlite3_column_int64(st, 1), 0);
	pol_json_date(o, "valid_until", sqlite3_column_int64(st, 2), 1);
	return o;
}

/* Adds KEY: an array of ITEM links (link_row) to OBJ; on failure frees OBJ and returns NULL. */
static struct json_object *
add_links(struct sr_policy *p, struct json_object *obj, const char *key, const char *sql,
	  int64_t id, const char *item, struct sr_error *err)
{
	struct json_object *arr = pol_rows_by_id(p, sql, id, link_row, item, item, err);

	if (arr == NULL) {
		json_object_put(obj);
		return NULL;
	}
	json_object_object_add(obj, key, arr);
	return obj;
}

/* ---- users ------------------------------------------------------------------- */

static struct json_object *
key_row(sqlite3_stmt *st, const void *unused)
{
	struct json_object *o = json_object_new_object();

	pol_json_str(o, "type", col_text(st, 0));
	pol_json_str(o, "fingerprint", col_text(st, 1));
	pol_json_str(o, "comment", col_text(st, 2));
	pol_json_date(o, "added", sqlite3_column_int64(st, 3), 0);
	return o;
}

static struct json_object *
roles_array(const char *list)
{
	struct json_object *arr = json_object_new_array();
	unsigned bits = 0;
	char buf[64], *tok, *save = NULL;

	if (list != NULL)
		sr_policy_roles_parse(list, &bits, NULL);
	sr_policy_roles_format(bits, buf, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		json_object_array_add(arr, json_object_new_string(tok));
	return arr;
}

static struct json_object *
user_row(struct sr_policy *p, sqlite3_stmt *st, int detail, struct sr_error *err)
{
	struct json_object *o = json_object_new_object(), *keys;
	int64_t id = sqlite3_column_int64(st, 0);

	pol_json_str(o, "name", col_text(st, 1));
	json_object_object_add(o, "uid", json_object_new_int64(sqlite3_column_int64(st, 2)));
	pol_json_str(o, "status", col_text(st, 3));
	pol_json_date(o, "expires", sqlite3_column_int64(st, 4), 1);
	json_object_object_add(o, "roles", roles_array(col_text(st, 5)));
	json_object_object_add(o, "totp", json_object_new_boolean(sqlite3_column_int(st, 6)));
	pol_json_str(o, "allow_from", col_text(st, 7));
	if (!detail) {
		json_object_object_add(o, "keys", json_object_new_int64(sqlite3_column_int64(st, 8)));
		return o;
	}
	keys = pol_rows_by_id(p, "SELECT type, fingerprint, comment, added FROM user_keys "
			      "WHERE user_id = ? ORDER BY id", id, key_row, NULL, "user_keys", err);
	if (keys == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "keys", keys);
	return add_links(p, o, "projects", "SELECT pr.name, m.valid_from, m.valid_until FROM "
			 "members m JOIN projects pr ON pr.id = m.project_id WHERE m.user_id = ? "
			 "ORDER BY pr.name", id, "project", err);
}

#define USER_SQL \
	"SELECT u.id, u.name, u.uid, u.status, u.expires, " \
	"(SELECT group_concat(role) FROM user_roles r WHERE r.user_id = u.id), " \
	"u.totp_secret IS NOT NULL, u.allow_from, " \
	"(SELECT count(*) FROM user_keys k WHERE k.user_id = u.id) " \
	"FROM users u WHERE ?1 IS NULL OR u.name = ?1 ORDER BY u.name"

struct json_object *
sr_policy_user_list(struct sr_policy *p, struct sr_error *err)
{
	return view(p, USER_SQL, NULL, "user", user_row, err);
}

struct json_object *
sr_policy_user_show(struct sr_policy *p, const char *name, struct sr_error *err)
{
	if (sr_policy_user_name_ok(name) < 0) {
		sr_error_set(err, "bad user name \"%s\"", name ? name : "");
		return NULL;
	}
	return view(p, USER_SQL, name, "user", user_row, err);
}

/* ---- datasets ---------------------------------------------------------------- */

static struct json_object *
dataset_row(struct sr_policy *p, sqlite3_stmt *st, int detail, struct sr_error *err)
{
	struct json_object *o = json_object_new_object();

	pol_json_str(o, "name", col_text(st, 1));
	pol_json_str(o, "path", col_text(st, 2));
	pol_json_str(o, "description", col_text(st, 3));
	json_object_object_add(o, "files", json_object_new_int64(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "rows", json_object_new_int64(sqlite3_column_int64(st, 5)));
	pol_json_date(o, "indexed", sqlite3_column_int64(st, 6), 0);
	if (!detail)
		return o;
	return add_links(p, o, "projects", "SELECT pr.name, g.valid_from, g.valid_until FROM "
			 "grants g JOIN projects pr ON pr.id = g.project_id WHERE g.dataset_id = ? "
			 "ORDER BY pr.name", sqlite3_column_int64(st, 0), "project", err);
}

#define DATASET_SQL \
	"SELECT id, name, path, description, file_count, row_count, indexed FROM datasets " \
	"WHERE ?1 IS NULL OR name = ?1 ORDER BY name"

struct json_object *
sr_policy_dataset_list(struct sr_policy *p, struct sr_error *err)
{
	return view(p, DATASET_SQL, NULL, "dataset", dataset_row, err);
}

struct json_object *
sr_policy_dataset_show(struct sr_policy *p, const char *name, struct sr_error *err)
{
	if (sr_policy_object_name_ok(name) < 0) {
		sr_error_set(err, "bad dataset name \"%s\"", name ? name : "");
		return NULL;
	}
	return view(p, DATASET_SQL, name, "dataset", dataset_row, err);
}

/* ---- projects ---------------------------------------------------------------- */

static struct json_object *
project_limits(struct sr_policy *p, int64_t id, struct sr_error *err)
{
	struct json_object *o = json_object_new_object();
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "SELECT key, value FROM project_limits WHERE project_id = ? "
			 "ORDER BY key", err);
	if (st == NULL) {
		json_object_put(o);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_object_add(o, col_text(st, 0),
				       json_object_new_int64(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pol_sql_error(p, err, "project_limits");
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *
project_row(struct sr_policy *p, sqlite3_stmt *st, int detail, struct sr_error *err)
{
	struct json_object *o = json_object_new_object(), *lim;
	int64_t id = sqlite3_column_int64(st, 0);

	pol_json_str(o, "name", col_text(st, 1));
	json_object_object_add(o, "gid", json_object_new_int64(sqlite3_column_int64(st, 2)));
	pol_json_str(o, "drb_ref", col_text(st, 3));
	pol_json_date(o, "valid_from", sqlite3_column_int64(st, 4), 0);
	pol_json_date(o, "valid_until", sqlite3_column_int64(st, 5), 1);
	pol_json_str(o, "allow_from", col_text(st, 6));
	if (!detail) {
		json_object_object_add(o, "members",
				       json_object_new_int64(sqlite3_column_int64(st, 7)));
		json_object_object_add(o, "datasets",
				       json_object_new_int64(sqlite3_column_int64(st, 8)));
		return o;
	}
	lim = project_limits(p, id, err);
	if (lim == NULL) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "limits", lim);
	o = add_links(p, o, "members", "SELECT u.name, m.valid_from, m.valid_until FROM members m "
		      "JOIN users u ON u.id = m.user_id WHERE m.project_id = ? ORDER BY u.name",
		      id, "user", err);
	if (o == NULL)
		return NULL;
	return add_links(p, o, "datasets", "SELECT d.name, g.valid_from, g.valid_until FROM "
			 "grants g JOIN datasets d ON d.id = g.dataset_id WHERE g.project_id = ? "
			 "ORDER BY d.name", id, "dataset", err);
}

#define PROJECT_SQL \
	"SELECT pr.id, pr.name, pr.gid, pr.drb_ref, pr.valid_from, pr.valid_until, " \
	"pr.allow_from, (SELECT count(*) FROM members m WHERE m.project_id = pr.id), " \
	"(SELECT count(*) FROM grants g WHERE g.project_id = pr.id) " \
	"FROM projects pr WHERE ?1 IS NULL OR pr.name = ?1 ORDER BY pr.name"

struct json_object *
sr_policy_project_list(struct sr_policy *p, struct sr_error *err)
{
	return view(p, PROJECT_SQL, NULL, "project", project_row, err);
}

struct json_object *
sr_policy_project_show(struct sr_policy *p, const char *name, struct sr_error *err)
{
	if (sr_policy_object_name_ok(name) < 0) {
		sr_error_set(err, "bad project name \"%s\"", name ? name : "");
		return NULL;
	}
	return view(p, PROJECT_SQL, name, "project", project_row, err);
}
