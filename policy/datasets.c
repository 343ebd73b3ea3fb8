/*
 * datasets.c — the directories of approved data, each mounted read-only at
 * /data/NAME in the sandboxes of projects granted it.
 *
 * A dataset's path is checked once, when it is registered: it must exist, be
 * a directory, contain no symlink in any component (an administrator who
 * typed a symlink may not know where it leads, and its target can change
 * later), and be neither inside the state directory nor contain it (a
 * dataset must never expose policy.db, audit.db or another project's
 * workspace).  It is stored resolved, so the sandbox opens exactly what was
 * checked.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int64_t
pol_dataset_id(struct sr_policy *p, const char *name, struct sr_error *err)
{
	int64_t id;

	if (sr_policy_object_name_ok(name) < 0)
		return sr_error_set(err, "bad dataset name \"%s\"", name ? name : "");
	id = pol_lookup(p, "SELECT id FROM datasets WHERE name = ?", name, err);
	if (id == 0)
		return sr_error_set(err, "unknown dataset \"%s\"", name);
	return id;
}

/* 1 when PATH is DIR or lies beneath it (both resolved). */
static int
path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int
check_path(struct sr_policy *p, const char *given, char *resolved, struct sr_error *err)
{
	char state[PATH_MAX];
	int fd;

	fd = pol_open_nosymlinks(given, O_PATH | O_DIRECTORY);
	if (fd < 0) {
		if (errno == ELOOP)
			return sr_error_set(err, "dataset path %s contains a symlink: give the "
					    "real path", given);
		if (errno == ENOENT)
			return sr_error_set(err, "dataset path %s does not exist", given);
		return sr_error_errno(err, "dataset path %s", given);
	}
	close(fd);
	if (realpath(given, resolved) == NULL)
		return sr_error_errno(err, "dataset path %s", given);
	if (realpath(p->state_dir, state) == NULL)
		return sr_error_errno(err, "state_dir %s", p->state_dir);
	if (path_within(resolved, state) || path_within(state, resolved))
		return sr_error_set(err, "dataset path %s overlaps state_dir %s", resolved, state);
	return 0;
}

static int
store_counts(struct sr_policy *p, int64_t id, int64_t files, int64_t rows, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "UPDATE datasets SET file_count = ?, row_count = ?, "
			 "indexed = strftime('%s', 'now') WHERE id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, files);
	sqlite3_bind_int64(st, 2, rows);
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "datasets");
}

static int64_t
insert_dataset(struct sr_policy *p, const char *name, const char *path, const char *description,
	       struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	id = pol_lookup(p, "SELECT id FROM datasets WHERE name = ?", name, err);
	if (id != 0)
		return id < 0 ? -1 : sr_error_set(err, "dataset \"%s\" already exists", name);
	st = pol_prepare(p, "INSERT INTO datasets (name, path, description, created) "
			 "VALUES (?, ?, ?, strftime('%s', 'now'))", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, description, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "datasets");
	return sqlite3_last_insert_rowid(p->db);
}

static struct json_object *
index_details(const char *name, const char *path, int64_t files, int64_t rows)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "dataset", json_object_new_string(name));
	json_object_object_add(d, "path", json_object_new_string(path));
	json_object_object_add(d, "files", json_object_new_int64(files));
	json_object_object_add(d, "rows", json_object_new_int64(rows));
	return d;
}

int
sr_policy_dataset_add(struct sr_policy *p, const char *name, const char *path,
		      const char *description, sr_policy_progress_fn progress, void *arg,
		      struct sr_error *err)
{
	char resolved[PATH_MAX];
	int64_t id, files, rows;

	if (sr_policy_object_name_ok(name) < 0)
		return sr_error_set(err, "bad dataset name \"%s\": use [a-z0-9][a-z0-9._-]{0,63}",
				    name ? name : "");
	if (check_path(p, path, resolved, err) < 0)
		return -1;
	if (pol_change_begin(p, err) < 0)
		return -1;
	id = insert_dataset(p, name, resolved, description, err);
	if (id < 0 || pol_rows_build(p, id, resolved, progress, arg, &files, &rows, err) < 0 ||
	    store_counts(p, id, files, rows, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	return pol_change_commit(p, "dataset.add", NULL,
				 index_details(name, resolved, files, rows), err);
}

int
sr_policy_dataset_reindex(struct sr_policy *p, const char *name, sr_policy_progress_fn progress,
			  void *arg, struct sr_error *err)
{
	sqlite3_stmt *st = NULL;
	char *path = NULL;
	int64_t id, files, rows;
	int rc = -1;

	if (pol_change_begin(p, err) < 0)
		return -1;
	id = pol_dataset_id(p, name, err);
	if (id < 0 || (st = pol_prepare(p, "SELECT path FROM datasets WHERE id = ?", err)) == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW ||
	    (path = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
		pol_sql_error(p, err, "datasets");
		goto out;
	}
	if (pol_rows_build(p, id, path, progress, arg, &files, &rows, err) < 0 ||
	    store_counts(p, id, files, rows, err) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	rc = pol_change_commit(p, "dataset.reindex", NULL, index_details(name, path, files, rows),
			       err);
out:
	sqlite3_finalize(st);
	if (rc < 0)
		pol_change_abort(p);
	free(path);
	return rc;
}
