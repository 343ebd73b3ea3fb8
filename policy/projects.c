/*
 * projects.c — what a data review board approved: a project with its DRB
 * reference and validity window, the datasets granted to it and the users
 * who are its members, each grant and membership with its own window.
 *
 * Revoking a grant or removing a member deletes the row: the history of who
 * had what, and when, is the audit trail's job, and a running session notices
 * within a minute (sr_policy_recheck).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DRB_REF_MAX 128

int64_t
pol_project_id(struct sr_policy *p, const char *name, struct sr_error *err)
{
	int64_t id;

	if (sr_policy_object_name_ok(name) < 0)
		return sr_error_set(err, "bad project name \"%s\"", name ? name : "");
	id = pol_lookup(p, "SELECT id FROM projects WHERE name = ?", name, err);
	if (id == 0)
		return sr_error_set(err, "unknown project \"%s\"", name);
	return id;
}

static int
drb_ref_ok(const char *ref)
{
	size_t n;

	if (ref == NULL || (n = strlen(ref)) == 0 || n > DRB_REF_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)ref[i] < 0x20 || ref[i] == 0x7f)
			return 0;
	}
	return 1;
}

static void
window_json(struct json_object *d, const struct sr_policy_window *w)
{
	pol_json_date(d, "valid_from", w->from, 0);
	pol_json_date(d, "valid_until", w->until, 1);
}

static struct json_object *
project_details(const char *project)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "project", json_object_new_string(project));
	return d;
}

static int
insert_project(struct sr_policy *p, const struct sr_policy_project_spec *spec, long *gid,
	       struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	id = pol_lookup(p, "SELECT id FROM projects WHERE name = ?", spec->name, err);
	if (id != 0)
		return id < 0 ? -1 : sr_error_set(err, "project \"%s\" already exists", spec->name);
	if (pol_alloc_id(p, "gid", p->gid_min, p->gid_max, gid, err) < 0)
		return -1;
	st = pol_prepare(p, "INSERT INTO projects (name, gid, drb_ref, valid_from, valid_until, "
			 "created) VALUES (?, ?, ?, ?, ?, strftime('%s', 'now'))", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, *gid);
	sqlite3_bind_text(st, 3, spec->drb_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, spec->valid.from);
	sqlite3_bind_int64(st, 5, spec->valid.until);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "projects");
}

int
sr_policy_project_add(struct sr_policy *p, const struct sr_policy_project_spec *spec,
		      struct sr_error *err)
{
	struct json_object *d;
	long gid;

	if (sr_policy_object_name_ok(spec->name) < 0)
		return sr_error_set(err, "bad project name \"%s\": use [a-z0-9][a-z0-9._-]{0,63}",
				    spec->name ? spec->name : "");
	if (!drb_ref_ok(spec->drb_ref))
		return sr_error_set(err, "project %s: --drb-ref must be 1-%d printable characters",
				    spec->name, DRB_REF_MAX);
	if (spec->valid.until == 0)
		return sr_error_set(err, "project %s: --until DATE is required", spec->name);
	if (spec->valid.until <= spec->valid.from)
		return sr_error_set(err, "project %s: the window ends before it starts", spec->name);
	if (pol_change_begin(p, err) < 0)
		return -1;
	if (insert_project(p, spec, &gid, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	d = project_details(spec->name);
	json_object_object_add(d, "gid", json_object_new_int64(gid));
	json_object_object_add(d, "drb_ref", json_object_new_string(spec->drb_ref));
	window_json(d, &spec->valid);
	return pol_change_commit(p, "project.add", spec->name, d, err);
}

/*
 * Inserts a (project, other) link with a window: SQL takes ?1 project id,
 * ?2 the other id, ?3 from, ?4 until.  A second link is refused by name.
 */
static int
insert_link(struct sr_policy *p, const char *sql, int64_t project_id, int64_t other_id,
	    const struct sr_policy_window *w, const char *dup, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, sql, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, other_id);
	sqlite3_bind_int64(st, 3, w->from);
	sqlite3_bind_int64(st, 4, w->until);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return sr_error_set(err, "%s", dup);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "link");
}

static int
delete_link(struct sr_policy *p, const char *sql, int64_t project_id, int64_t other_id,
	    const char *missing, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, sql, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, other_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "link");
	return sqlite3_changes(p->db) == 1 ? 0 : sr_error_set(err, "%s", missing);
}

/* Only researchers work inside projects; staff review from outside them. */
static int64_t
researcher_id(struct sr_policy *p, const char *user, struct sr_error *err)
{
	unsigned roles;

	if (sr_policy_user_roles(p, user, &roles, err) < 0)
		return -1;
	if (!(roles & SR_POLICY_RESEARCHER))
		return sr_error_set(err, "user %s is not a researcher", user);
	return pol_user_id(p, user, err);
}

/* A kind of windowed link of a project: a dataset grant or a user membership. */
struct link_kind {
	const char *window;     /* "the <window>'s window ends before it starts" */
	const char *other;      /* the linked object's kind, its key in the details */
	const char *relation;   /* "<other> X is [already|not] <relation> PROJECT" */
	const char *insert_sql; /* as insert_link() takes it */
	const char *delete_sql; /* ?1 project id, ?2 the other id */
	const char *add_action, *remove_action;
	/* the other's id when linking it, and when unlinking it */
	int64_t (*add_id)(struct sr_policy *p, const char *name, struct sr_error *err);
	int64_t (*remove_id)(struct sr_policy *p, const char *name, struct sr_error *err);
};

static const struct link_kind grant_kind = {
	.window = "grant", .other = "dataset", .relation = "granted to",
	.insert_sql = "INSERT INTO grants (project_id, dataset_id, valid_from, valid_until) "
		      "VALUES (?1, ?2, ?3, ?4)",
	.delete_sql = "DELETE FROM grants WHERE project_id = ? AND dataset_id = ?",
	.add_action = "project.grant", .remove_action = "project.revoke",
	.add_id = pol_dataset_id, .remove_id = pol_dataset_id,
};

static const struct link_kind member_kind = {
	.window = "membership", .other = "user", .relation = "a member of",
	.insert_sql = "INSERT INTO members (project_id, user_id, valid_from, valid_until) "
		      "VALUES (?1, ?2, ?3, ?4)",
	.delete_sql = "DELETE FROM members WHERE project_id = ? AND user_id = ?",
	.add_action = "project.member.add", .remove_action = "project.member.remove",
	.add_id = researcher_id, .remove_id = pol_user_id,
};

/*
 * Links OTHER to PROJECT for the window W in one audited change; a window
 * that ends before it starts or a second link of the pair is refused.
 */
static int
link_add(struct sr_policy *p, const struct link_kind *k, const char *project,
	 const char *other, const struct sr_policy_window *w, struct sr_error *err)
{
	struct json_object *d;
	int64_t pid, oid;
	char dup[192];

	if (w->from != 0 && w->until != 0 && w->until <= w->from)
		return sr_error_set(err, "the %s's window ends before it starts", k->window);
	if (pol_change_begin(p, err) < 0)
		return -1;
	snprintf(dup, sizeof(dup), "%s %s is already %s %s", k->other, other, k->relation,
		 project);
	if ((pid = pol_project_id(p, project, err)) < 0 || (oid = k->add_id(p, other, err)) < 0 ||
	    insert_link(p, k->insert_sql, pid, oid, w, dup, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	d = project_details(project);
	json_object_object_add(d, k->other, json_object_new_string(other));
	window_json(d, w);
	return pol_change_commit(p, k->add_action, project, d, err);
}

/* Removes the link of OTHER to PROJECT in one audited change; none is an error. */
static int
link_remove(struct sr_policy *p, const struct link_kind *k, const char *project,
	    const char *other, struct sr_error *err)
{
	struct json_object *d;
	int64_t pid, oid;
	char missing[192];

	if (pol_change_begin(p, err) < 0)
		return -1;
	snprintf(missing, sizeof(missing), "%s %s is not %s %s", k->other, other, k->relation,
		 project);
	if ((pid = pol_project_id(p, project, err)) < 0 ||
	    (oid = k->remove_id(p, other, err)) < 0 ||
	    delete_link(p, k->delete_sql, pid, oid, missing, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	d = project_details(project);
	json_object_object_add(d, k->other, json_object_new_string(other));
	return pol_change_commit(p, k->remove_action, project, d, err);
}

int
sr_policy_project_grant(struct sr_policy *p, const char *project, const char *dataset,
			const struct sr_policy_window *w, struct sr_error *err)
{
	return link_add(p, &grant_kind, project, dataset, w, err);
}

int
sr_policy_project_revoke(struct sr_policy *p, const char *project, const char *dataset,
			 struct sr_error *err)
{
	return link_remove(p, &grant_kind, project, dataset, err);
}

int
sr_policy_project_member_add(struct sr_policy *p, const char *project, const char *user,
			     const struct sr_policy_window *w, struct sr_error *err)
{
	return link_add(p, &member_kind, project, user, w, err);
}

int
sr_policy_project_member_remove(struct sr_policy *p, const char *project, const char *user,
				struct sr_error *err)
{
	return link_remove(p, &member_kind, project, user, err);
}

/* ---- project set ---------------------------------------------------------- */

static int
set_limit(struct sr_policy *p, int64_t pid, const char *key, int64_t value, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, value != 0 ?
			 "INSERT INTO project_limits (project_id, key, value) VALUES (?1, ?2, ?3) "
			 "ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value" :
			 "DELETE FROM project_limits WHERE project_id = ?1 AND key = ?2", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (value != 0)
		sqlite3_bind_int64(st, 3, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "project_limits");
}

/* Runs an UPDATE of projects with ?1 = the new value (already bound) and ?2 = id. */
static int
update_project(struct sr_policy *p, sqlite3_stmt *st, int64_t pid, struct sr_error *err)
{
	int rc;

	sqlite3_bind_int64(st, 2, pid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "projects");
}

static int
read_window(struct sr_policy *p, int64_t pid, struct sr_policy_window *w, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "SELECT valid_from, valid_until FROM projects WHERE id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		w->from = sqlite3_column_int64(st, 0);
		w->until = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : pol_sql_error(p, err, "projects");
}

/* `project set P from|until DATE`: the window must still end after it starts. */
static int
set_window(struct sr_policy *p, int64_t pid, const char *key, const char *value,
	   struct json_object *d, struct sr_error *err)
{
	struct sr_policy_window w = { 0 };
	int is_until = strcmp(key, "until") == 0;
	sqlite3_stmt *st;
	int64_t t;

	if (sr_policy_parse_date(value, is_until, &t, err) < 0 || read_window(p, pid, &w, err) < 0)
		return -1;
	*(is_until ? &w.until : &w.from) = t;
	if (w.until <= w.from)
		return sr_error_set(err, "the project's window would end before it starts");
	st = pol_prepare(p, is_until ? "UPDATE projects SET valid_until = ?1 WHERE id = ?2" :
			 "UPDATE projects SET valid_from = ?1 WHERE id = ?2", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, t);
	window_json(d, &w);
	return update_project(p, st, pid, err);
}

static int
set_text(struct sr_policy *p, int64_t pid, const char *key, const char *value,
	 struct json_object *d, struct sr_error *err)
{
	sqlite3_stmt *st;
	char *norm = NULL;

	if (strcmp(key, "drb_ref") == 0) {
		if (!drb_ref_ok(value))
			return sr_error_set(err, "drb_ref must be 1-%d printable characters",
					    DRB_REF_MAX);
		norm = strdup(value);
		if (norm == NULL)
			return sr_error_set(err, "out of memory");
	} else if (pol_cidr_list_parse(value, &norm, err) < 0) {
		return -1;
	}
	st = pol_prepare(p, strcmp(key, "drb_ref") == 0 ?
			 "UPDATE projects SET drb_ref = ?1 WHERE id = ?2" :
			 "UPDATE projects SET allow_from = ?1 WHERE id = ?2", err);
	if (st == NULL) {
		free(norm);
		return -1;
	}
	pol_json_str(d, key, norm);
	if (norm != NULL)
		sqlite3_bind_text(st, 1, norm, -1, free);
	return update_project(p, st, pid, err);
}

static int
apply_setting(struct sr_policy *p, int64_t pid, const char *key, const char *value,
	      struct json_object *d, struct sr_error *err)
{
	int64_t v;

	if (strcmp(key, "from") == 0 || strcmp(key, "until") == 0)
		return set_window(p, pid, key, value, d, err);
	if (strcmp(key, "drb_ref") == 0 || strcmp(key, "allow_from") == 0)
		return set_text(p, pid, key, value, d, err);
	if (sr_policy_limit_parse(key, value, &v, err) < 0)
		return -1;
	json_object_object_add(d, key, json_object_new_int64(v));
	return set_limit(p, pid, key, v, err);
}

static int
setting_known(const char *key)
{
	return pol_limit_index(key) >= 0 || strcmp(key, "from") == 0 ||
	       strcmp(key, "until") == 0 || strcmp(key, "drb_ref") == 0 ||
	       strcmp(key, "allow_from") == 0;
}

int
sr_policy_project_set(struct sr_policy *p, const char *project, const char *key,
		      const char *value, struct sr_error *err)
{
	struct json_object *d;
	int64_t pid;

	if (!setting_known(key))
		return sr_error_set(err, "unknown project setting \"%s\": use memory, pids, cpu, "
				    "tmp_size, max_file_size, idle_timeout, max_session, "
				    "allow_from, drb_ref, from or until", key);
	if (pol_change_begin(p, err) < 0)
		return -1;
	pid = pol_project_id(p, project, err);
	if (pid < 0)
		goto out_abort;
	d = project_details(project);
	if (apply_setting(p, pid, key, value, d, err) < 0) {
		json_object_put(d);
		goto out_abort;
	}
	return pol_change_commit(p, "project.set", project, d, err);
out_abort:
	pol_change_abort(p);
	return -1;
}
