/*
 * db.c — policy.db itself: creating it, migrating its schema forward, opening
 * a handle, and the protocol every change follows.
 *
 * A change is one IMMEDIATE transaction.  Its policy.change audit event is
 * sent and acknowledged as durable before COMMIT, and the transaction is
 * rolled back when that fails: no change without its event.  The audit
 * client is connected before the transaction starts, so that a process never
 * waits for the audit lock while holding the policy write lock.
 *
 * Schema versions live in PRAGMA user_version; migrations[i] takes a database
 * from version i to i + 1 and is never edited once released.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define BUSY_TIMEOUT_MS 5000
#define AUDIT_OPEN_TRIES (BUSY_TIMEOUT_MS / 50)

static const char *const migrations[] = {
	/* 0 -> 1: the first release. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  uid INTEGER NOT NULL UNIQUE,"
	"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked')),"
	"  expires INTEGER NOT NULL DEFAULT 0,"
	"  totp_secret BLOB,"
	"  allow_from TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE user_roles ("
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  role TEXT NOT NULL CHECK (role IN ('researcher', 'steward', 'auditor')),"
	"  PRIMARY KEY (user_id, role)) WITHOUT ROWID;"
	"CREATE TABLE user_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  blob BLOB NOT NULL,"
	"  fingerprint TEXT NOT NULL UNIQUE,"
	"  comment TEXT,"
	"  added INTEGER NOT NULL);"
	"CREATE INDEX user_keys_user ON user_keys(user_id);"
	"CREATE TABLE datasets ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  path TEXT NOT NULL,"
	"  description TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE projects ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  gid INTEGER NOT NULL UNIQUE,"
	"  drb_ref TEXT NOT NULL,"
	"  valid_from INTEGER NOT NULL DEFAULT 0,"
	"  valid_until INTEGER NOT NULL,"
	"  allow_from TEXT,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE grants ("
	"  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
	"  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
	"  valid_from INTEGER NOT NULL DEFAULT 0,"
	"  valid_until INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (project_id, dataset_id)) WITHOUT ROWID;"
	"CREATE TABLE members ("
	"  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  valid_from INTEGER NOT NULL DEFAULT 0,"
	"  valid_until INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (project_id, user_id)) WITHOUT ROWID;"
	"CREATE INDEX members_user ON members(user_id);"
	"PRAGMA user_version = 1;",

	/*
	 * 1 -> 2: host ids are never reused (version 1 took max()+1, which gave a
	 * deleted user's uid to the next one), per-project sandbox limits, and the
	 * row index of datasets.
	 */
	"CREATE TABLE host_ids ("
	"  kind TEXT PRIMARY KEY,"
	"  next INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO host_ids (kind, next) SELECT 'uid', max(uid) + 1 FROM users HAVING count(*) > 0;"
	"INSERT INTO host_ids (kind, next) SELECT 'gid', max(gid) + 1 FROM projects HAVING count(*) > 0;"
	"CREATE TABLE project_limits ("
	"  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  value INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, key)) WITHOUT ROWID;"
	"CREATE TABLE dataset_rows ("
	"  hash BLOB NOT NULL,"
	"  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (hash, dataset_id)) WITHOUT ROWID;"
	"ALTER TABLE datasets ADD COLUMN file_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE datasets ADD COLUMN row_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE datasets ADD COLUMN indexed INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 2;",

	/*
	 * 2 -> 3: export review (include/saferoom/export.h).  A request keeps
	 * the project and user by name, as the audit trail does, so that its
	 * record outlives a removed account.  What was reviewed (path, size,
	 * hash, quarantined copy) can never change once recorded, and the
	 * requester can never review their own request: triggers hold both even
	 * against a bug in the code above them.
	 */
	"CREATE TABLE export_requests ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  project TEXT NOT NULL,"
	"  requester TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  size INTEGER NOT NULL CHECK (size >= 0),"
	"  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
	"  quarantine TEXT NOT NULL UNIQUE,"
	"  file_type TEXT NOT NULL,"
	"  approvals_needed INTEGER NOT NULL DEFAULT 1 CHECK (approvals_needed >= 1),"
	"  state TEXT NOT NULL DEFAULT 'submitted' CHECK (state IN ('submitted', 'in_review',"
	"    'approved', 'rejected', 'withdrawn', 'released')),"
	"  verdict TEXT CHECK (verdict IN ('pass', 'review', 'fail')),"
	"  created INTEGER NOT NULL,"
	"  decided INTEGER NOT NULL DEFAULT 0,"
	"  released INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX export_requests_state ON export_requests(state, id);"
	"CREATE INDEX export_requests_path ON export_requests(project, path, id);"
	"CREATE INDEX export_requests_requester ON export_requests(requester, id);"
	"CREATE TRIGGER export_requests_reviewed_bytes BEFORE UPDATE OF project, requester, path,"
	"  reason, size, sha256, quarantine, file_type, approvals_needed, created"
	"  ON export_requests BEGIN"
	"  SELECT RAISE(ABORT, 'what an export request holds never changes'); END;"
	"CREATE TABLE export_checks ("
	"  request_id INTEGER NOT NULL REFERENCES export_requests(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'review', 'fail')),"
	"  message TEXT NOT NULL,"
	"  hits INTEGER NOT NULL DEFAULT 0,"
	"  locations TEXT NOT NULL DEFAULT '[]',"
	"  seq INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, name)) WITHOUT ROWID;"
	"CREATE TABLE export_reviews ("
	"  request_id INTEGER NOT NULL REFERENCES export_requests(id) ON DELETE CASCADE,"
	"  steward TEXT NOT NULL,"
	"  vote TEXT NOT NULL CHECK (vote IN ('approve', 'reject')),"
	"  note TEXT,"
	"  time INTEGER NOT NULL,"
	"  PRIMARY KEY (request_id, steward)) WITHOUT ROWID;"
	"CREATE TRIGGER export_reviews_not_requester BEFORE INSERT ON export_reviews"
	"  WHEN NEW.steward = (SELECT requester FROM export_requests WHERE id = NEW.request_id)"
	"  BEGIN SELECT RAISE(ABORT, 'the requester cannot review their own export request'); END;"
	"PRAGMA user_version = 3;",

	/*
	 * 3 -> 4: the last TOTP time step (RFC 6238: floor(unix time / 30))
	 * that let each user in, so that a code is good for one login only
	 * (sr_policy_totp_verify_once).
	 */
	"ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 4;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SR_POLICY_SCHEMA_VERSION,
	       "one migration per schema version");

int
pol_sql_error(struct sr_policy *p, struct sr_error *err, const char *what)
{
	int code = sqlite3_errcode(p->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return sr_error_set(err, "policy.db is busy (another change is in progress): "
				    "try again");
	return sr_error_set(err, "policy.db: %s: %s", what, sqlite3_errmsg(p->db));
}

sqlite3_stmt *
pol_prepare(struct sr_policy *p, const char *sql, struct sr_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK) {
		pol_sql_error(p, err, "prepare");
		return NULL;
	}
	return st;
}

sqlite3_stmt *
pol_cached(struct sr_policy *p, enum pol_stmt slot, const char *sql, struct sr_error *err)
{
	sqlite3_stmt *st = p->cache[slot];

	if (st == NULL)
		return p->cache[slot] = pol_prepare(p, sql, err);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int
pol_exec(struct sr_policy *p, const char *sql, struct sr_error *err)
{
	if (sqlite3_exec(p->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return pol_sql_error(p, err, sql);
	return 0;
}

int64_t
pol_lookup(struct sr_policy *p, const char *sql, const char *name, struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	st = pol_prepare(p, sql, err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		id = pol_sql_error(p, err, "lookup");
	sqlite3_finalize(st);
	return id;
}

static int
user_version(struct sr_policy *p, int *version, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "PRAGMA user_version", err);
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return pol_sql_error(p, err, "user_version");
	return 0;
}

/* Brings the schema to SR_POLICY_SCHEMA_VERSION in one transaction. */
static int
migrate(struct sr_policy *p, struct sr_error *err)
{
	int version;

	if (user_version(p, &version, err) < 0)
		return -1;
	if (version > SR_POLICY_SCHEMA_VERSION)
		return sr_error_set(err, "policy.db has schema version %d, newer than this "
				    "saferoom's %d", version, SR_POLICY_SCHEMA_VERSION);
	if (version == SR_POLICY_SCHEMA_VERSION)
		return 0;
	if (pol_exec(p, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	/* Read again under the write lock: another process may have migrated. */
	if (user_version(p, &version, err) < 0)
		goto out_rollback;
	for (; version < SR_POLICY_SCHEMA_VERSION; version++) {
		if (pol_exec(p, migrations[version], err) < 0)
			goto out_rollback;
	}
	if (pol_exec(p, "COMMIT", err) < 0)
		goto out_rollback;
	return 0;
out_rollback:
	sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Connection settings every handle needs, before anything is read. */
static int
configure(struct sr_policy *p, struct sr_error *err)
{
	sqlite3_busy_timeout(p->db, BUSY_TIMEOUT_MS);
	if (pol_exec(p, "PRAGMA journal_mode = WAL", err) < 0 ||
	    pol_exec(p, "PRAGMA synchronous = FULL", err) < 0 ||
	    pol_exec(p, "PRAGMA foreign_keys = ON", err) < 0)
		return -1;
	return 0;
}

static char *
db_path(const char *state_dir, struct sr_error *err)
{
	char *path;

	if (asprintf(&path, "%s/%s", state_dir, SR_POLICY_DB) < 0) {
		sr_error_set(err, "out of memory");
		return NULL;
	}
	return path;
}

static struct sr_policy *
handle_open(const char *state_dir, int create, struct sr_error *err)
{
	struct sr_policy *p;
	char *path;
	int fd;

	path = db_path(state_dir, err);
	if (path == NULL)
		return NULL;
	/* Create it ourselves so that it is 0600 from its first byte; SQLite
	 * gives the -wal and -shm files the same mode. */
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			sr_error_set(err, "%s does not exist: run saferoomctl init", path);
		else
			sr_error_errno(err, "%s", path);
		free(path);
		return NULL;
	}
	if (create && fchmod(fd, 0600) < 0) {
		sr_error_errno(err, "chmod %s", path);
		close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->state_dir = strdup(state_dir)) == NULL)
		goto out_nomem;
	if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK) {
		sr_error_set(err, "%s: %s", path, p->db ? sqlite3_errmsg(p->db) : "cannot open");
		goto out_free;
	}
	free(path);
	if (configure(p, err) < 0 || migrate(p, err) < 0) {
		sr_policy_free(p);
		return NULL;
	}
	return p;
out_nomem:
	sr_error_set(err, "out of memory");
out_free:
	free(path);
	sr_policy_free(p);
	return NULL;
}

int
sr_policy_init_db(const char *state_dir, struct sr_error *err)
{
	struct sr_policy *p;

	p = handle_open(state_dir, 1, err);
	if (p == NULL)
		return -1;
	sr_policy_free(p);
	return 0;
}

static int
set_actor(struct sr_policy *p, const struct sr_policy_actor *actor)
{
	if (actor->user == NULL || actor->user[0] == '\0')
		return -1;
	p->actor = strdup(actor->user);
	p->source = strdup(actor->source != NULL ? actor->source : "local");
	p->session = actor->session != NULL ? strdup(actor->session) : NULL;
	if (p->actor == NULL || p->source == NULL || (actor->session && p->session == NULL))
		return -1;
	return 0;
}

struct sr_policy *
sr_policy_open(const char *state_dir, const struct sr_policy_actor *actor, struct sr_error *err)
{
	struct sr_policy *p;

	p = handle_open(state_dir, 0, err);
	if (p == NULL)
		return NULL;
	/* Defaults as in the sample configuration; the caller sets its own. */
	sr_policy_set_id_ranges(p, 60000, 64999, 60000, 64999);
	if (actor != NULL && set_actor(p, actor) < 0) {
		sr_error_set(err, "policy: the actor needs a user name");
		sr_policy_free(p);
		return NULL;
	}
	return p;
}

void
sr_policy_free(struct sr_policy *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < POL_ST_MAX; i++)
		sqlite3_finalize(p->cache[i]);
	sqlite3_close(p->db);
	sr_audit_client_free(p->audit);
	free(p->state_dir);
	free(p->actor);
	free(p->source);
	free(p->session);
	free(p);
}

void
sr_policy_set_id_ranges(struct sr_policy *p, long uid_min, long uid_max, long gid_min,
			long gid_max)
{
	p->uid_min = uid_min;
	p->uid_max = uid_max;
	p->gid_min = gid_min;
	p->gid_max = gid_max;
}

int
sr_policy_set_global_allow(struct sr_policy *p, const char *const *cidrs, size_t n,
			   struct sr_error *err)
{
	if (n > POL_MAX_ALLOW)
		return sr_error_set(err, "more than %d allow_from networks", POL_MAX_ALLOW);
	for (size_t i = 0; i < n; i++) {
		if (pol_cidr_parse(cidrs[i], &p->allow[i]) < 0)
			return sr_error_set(err, "allow_from: bad network \"%s\"", cidrs[i]);
	}
	p->n_allow = n;
	return 0;
}

int
pol_audit_connect(struct sr_policy *p, struct sr_error *err)
{
	if (p->actor == NULL)
		return sr_error_set(err, "policy: this handle may not change policy");
	/*
	 * Another saferoomctl may be the audit writer for a moment (the local
	 * fallback holds the writer's lock): wait for it as SQLite waits for a
	 * busy database, then give up with the audit client's reason.
	 */
	for (int tries = 0; p->audit == NULL; tries++) {
		p->audit = sr_audit_client_open(p->state_dir, 1, err);
		if (p->audit == NULL && tries == AUDIT_OPEN_TRIES)
			return -1;
		if (p->audit == NULL)
			nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	return 0;
}

int
pol_change_begin(struct sr_policy *p, struct sr_error *err)
{
	if (pol_audit_connect(p, err) < 0)
		return -1;
	if (sqlite3_exec(p->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return pol_sql_error(p, err, "begin");
	return 0;
}

void
pol_change_abort(struct sr_policy *p)
{
	if (!sqlite3_get_autocommit(p->db))
		sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
}

int
pol_audit_send(struct sr_policy *p, const char *type, const char *project, const char *datasets,
	       struct json_object *details, struct sr_error *err)
{
	struct sr_audit_event ev = { 0 };
	struct sr_error aerr = { { 0 } };

	if (pol_audit_connect(p, err) < 0)
		return -1;
	ev.type = type;
	ev.user = p->actor;
	ev.source = p->source;
	ev.session = p->session;
	ev.project = project;
	ev.datasets = datasets;
	ev.details = json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (sr_audit_client_send(p->audit, &ev, SR_AUDIT_DURABLE, NULL, &aerr) < 0)
		return sr_error_set(err, "audit trail unavailable, nothing changed: %s",
				    sr_error_msg(&aerr));
	return 0;
}

static int
send_event(struct sr_policy *p, const char *action, const char *project,
	   struct json_object *details, struct sr_error *err)
{
	struct json_object *body, *ds;
	const char *datasets = NULL;
	int rc;

	/* The action first, so the trail reads "what" before "to what". */
	body = json_object_new_object();
	json_object_object_add(body, "action", json_object_new_string(action));
	json_object_object_foreach(details, key, val)
		json_object_object_add(body, key, json_object_get(val));
	if (json_object_object_get_ex(details, "dataset", &ds))
		datasets = json_object_get_string(ds);
	rc = pol_audit_send(p, "policy.change", project, datasets, body, err);
	json_object_put(body);
	return rc;
}

/*
 * The end of a change: commit once its event is written, or roll back when
 * it could not be (sent < 0): no change without its record.
 */
static int
finish_change(struct sr_policy *p, int sent, struct sr_error *err)
{
	if (sent < 0) {
		pol_change_abort(p);
		return -1;
	}
	if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		pol_sql_error(p, err, "commit (the audit trail records it; it was not made)");
		pol_change_abort(p);
		return -1;
	}
	return 0;
}

int
pol_change_commit(struct sr_policy *p, const char *action, const char *project,
		  struct json_object *details, struct sr_error *err)
{
	int rc;

	if (details == NULL)
		return finish_change(p, sr_error_set(err, "out of memory"), err);
	rc = send_event(p, action, project, details, err);
	json_object_put(details);
	return finish_change(p, rc, err);
}

int
pol_change_commit_event(struct sr_policy *p, const char *type, const char *project,
			const char *datasets, struct json_object *details, struct sr_error *err)
{
	int rc;

	if (details == NULL)
		return finish_change(p, sr_error_set(err, "out of memory"), err);
	rc = pol_audit_send(p, type, project, datasets, details, err);
	json_object_put(details);
	return finish_change(p, rc, err);
}

int
pol_alloc_id(struct sr_policy *p, const char *kind, long min, long max, long *out,
	     struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t next;
	int rc;

	next = pol_lookup(p, "SELECT next FROM host_ids WHERE kind = ?", kind, err);
	if (next < 0)
		return -1;
	if (next < min)
		next = min;
	if (next > max)
		return sr_error_set(err, "no %s left in %ld-%ld (ids are never reused)", kind,
				    min, max);
	st = pol_prepare(p, "INSERT INTO host_ids (kind, next) VALUES (?, ?) "
			 "ON CONFLICT (kind) DO UPDATE SET next = excluded.next", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next + 1);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "host_ids");
	*out = (long)next;
	return 0;
}

void
pol_json_date(struct json_object *obj, const char *key, int64_t t, int end_of_day)
{
	char buf[32];

	if (t == 0) {
		json_object_object_add(obj, key, NULL);
		return;
	}
	sr_policy_format_date(t, end_of_day, buf, sizeof(buf));
	json_object_object_add(obj, key, json_object_new_string(buf));
}

void
pol_json_str(struct json_object *obj, const char *key, const char *s)
{
	json_object_object_add(obj, key, s != NULL ? json_object_new_string(s) : NULL);
}
