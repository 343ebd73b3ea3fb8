/*
 * store.c — audit.db: opening it, its schema, and appending to the chain.
 *
 * audit.db is SQLite in WAL mode so that auditors can read while the writer
 * appends.  Only the writer opens it for writing, and it proves it is the
 * only one by holding an exclusive flock on audit.lock for its lifetime; a
 * second writer fails at open instead of forking the chain.  The writer keeps
 * the chain head (seq, time, hash) in memory, so an append is: check the
 * batch, hash each event onto the head, insert with one reused statement, and
 * commit once.  synchronous=FULL makes the commit the moment of durability,
 * which is what the writer acknowledges to producers.
 *
 * The schema carries PRAGMA user_version and is brought forward by a list of
 * migration steps, one per version, each applied in its own transaction.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "saferoom/audit.h"
#include "store.h"
#include "wire.h"

/* How long a statement waits for a lock held by someone else (a checkpoint, sqlite3(1)). */
#define BUSY_TIMEOUT_MS 10000

/*
 * Migration step N brings user_version from N-1 to N.  Never edit a step
 * that has shipped; add one.  Each step sets user_version itself so that the
 * schema change and the version move in one transaction.
 */
static const char *const migrations[] = {
	/* 1: events, the indexes the queries use, and the retention rule (730 days by default). */
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY,"
	" time_ms INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" user TEXT,"
	" project TEXT,"
	" session TEXT,"
	" source TEXT,"
	" datasets TEXT,"
	" details TEXT NOT NULL,"
	" prev_hash BLOB NOT NULL,"
	" hash BLOB NOT NULL);"
	/* An index on (x) is ordered by (x, seq): filtered walks come out in seq order. */
	"CREATE INDEX events_type ON events (type);"
	"CREATE INDEX events_user ON events (user);"
	"CREATE INDEX events_session ON events (session);"
	"CREATE INDEX events_time ON events (time_ms);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('retention_days', 730);"
	/*
	 * Nothing deletes an event younger than the retention period, whoever
	 * asks.  A missing meta row counts as a century, so removing it does not
	 * open the door.
	 */
	"CREATE TRIGGER events_retention BEFORE DELETE ON events"
	" WHEN old.time_ms > CAST(strftime('%s', 'now') AS INTEGER) * 1000 -"
	"  COALESCE((SELECT value FROM meta WHERE key = 'retention_days'), 36500) * 86400000"
	" BEGIN SELECT RAISE(ABORT,"
	"  'audit events younger than audit_retention_days cannot be deleted'); END;"
	/* Events are written once; a changed row would only be caught later by verify. */
	"CREATE TRIGGER events_append_only BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'audit events cannot be changed'); END;"
	"PRAGMA user_version = 1;",
	/*
	 * 2: where the chain starts once old events were pruned (audit/prune.c).
	 * One row: the first kept seq, the prev_hash it links to, and the seq
	 * of the audit.prune event that vouches for both.  Verify starts there.
	 */
	"CREATE TABLE prune_anchor ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" seq INTEGER NOT NULL,"
	" prev_hash BLOB NOT NULL,"
	" prune_seq INTEGER NOT NULL);"
	"PRAGMA user_version = 2;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
sr_audit_db_error(struct sr_audit_store *store, struct sr_error *err, const char *what)
{
	return sr_error_set(err, "%s: %s", what,
			    store->db != NULL ? sqlite3_errmsg(store->db) : "out of memory");
}

/* Steps a statement that returns no rows and resets it for its next use. */
static int
step_done(struct sr_audit_store *store, sqlite3_stmt *st, struct sr_error *err,
	  const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		sr_audit_db_error(store, err, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int
prepare(struct sr_audit_store *store, const char *sql, sqlite3_stmt **st, struct sr_error *err)
{
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing a statement");
	return 0;
}

static int
user_version(struct sr_audit_store *store, int *version, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: reading the schema version");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sr_audit_db_error(store, err, "audit.db: reading the schema version");
	return 0;
}

/* Applies every step above the db's version, each atomically with its version bump. */
static int
migrate(struct sr_audit_store *store, struct sr_error *err)
{
	char *msg = NULL;
	int version;

	if (user_version(store, &version, err) < 0)
		return -1;
	if (version > SCHEMA_VERSION)
		return sr_error_set(err, "audit.db: schema version %d is newer than this saferoom (%d)",
				    version, SCHEMA_VERSION);
	store->version = SCHEMA_VERSION;
	for (; version < SCHEMA_VERSION; version++) {
		if (sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(store->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(store->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
			goto out_fail;
	}
	return 0;
out_fail:
	sr_error_set(err, "audit.db: migrating to schema version %d: %s", version + 1,
		     msg != NULL ? msg : "unknown error");
	sqlite3_free(msg);
	if (!sqlite3_get_autocommit(store->db))
		sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Records the configured retention so the trigger enforces it; 0 keeps what is there. */
static int
set_retention(struct sr_audit_store *store, int retention_days, struct sr_error *err)
{
	static const char sql[] =
		"INSERT INTO meta (key, value) VALUES ('retention_days', ?1)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value";
	sqlite3_stmt *st;
	int rc;

	if (retention_days == 0)
		return 0;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: recording the retention period");
	sqlite3_bind_int(st, 1, retention_days);
	rc = step_done(store, st, err, "audit.db: recording the retention period");
	sqlite3_finalize(st);
	return rc;
}

/* Reads the last row's seq, time and hash; all zero on an empty trail. */
static int
load_head(struct sr_audit_store *store, int64_t *seq, int64_t *time_ms,
	  unsigned char hash[SR_AUDIT_HASH_LEN], struct sr_error *err)
{
	static const char sql[] = "SELECT seq, time_ms, hash FROM events ORDER BY seq DESC LIMIT 1";
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: reading the chain head");
	*seq = 0;
	*time_ms = 0;
	memset(hash, 0, SR_AUDIT_HASH_LEN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*time_ms = sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) != SR_AUDIT_HASH_LEN)
			ret = sr_error_set(err, "audit.db: seq %lld: hash is not %d bytes",
					   (long long)*seq, SR_AUDIT_HASH_LEN);
		else
			memcpy(hash, sqlite3_column_blob(st, 2), SR_AUDIT_HASH_LEN);
	} else if (rc != SQLITE_DONE) {
		ret = sr_audit_db_error(store, err, "audit.db: reading the chain head");
	}
	sqlite3_finalize(st);
	return ret;
}

/* Takes audit.lock without waiting: only one process may ever append. */
static int
take_lock(struct sr_audit_store *store, const char *state_dir, struct sr_error *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", state_dir, SR_AUDIT_LOCK);
	store->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (store->lock_fd < 0)
		return sr_error_errno(err, "%s", path);
	if (flock(store->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return sr_error_set(err, "%s: another audit writer is running", path);
		return sr_error_errno(err, "%s: flock", path);
	}
	return 0;
}

/* Creates the db file with mode 0600 before SQLite does (it would use the umask). */
static int
create_db_file(const char *path, struct sr_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return sr_error_errno(err, "%s", path);
	close(fd);
	return 0;
}

static int
open_db(struct sr_audit_store *store, const char *path, int flags, struct sr_error *err)
{
	if (sqlite3_open_v2(path, &store->db, flags | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		sr_error_set(err, "%s: %s", path,
			     store->db != NULL ? sqlite3_errmsg(store->db) : "out of memory");
		return -1;
	}
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
	return 0;
}

static int
prepare_writer(struct sr_audit_store *store, struct sr_error *err)
{
	static const char insert[] =
		"INSERT INTO events (" SR_AUDIT_ROW_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

	store->tok = sr_wire_tokener_new();
	if (store->tok == NULL)
		return sr_error_set(err, "out of memory");
	if (prepare(store, "BEGIN IMMEDIATE", &store->begin, err) < 0 ||
	    prepare(store, "COMMIT", &store->commit, err) < 0 ||
	    prepare(store, "ROLLBACK", &store->rollback, err) < 0 ||
	    prepare(store, insert, &store->insert, err) < 0)
		return -1;
	return 0;
}

/*
 * WAL lets readers run beside the writer; FULL syncs the WAL at each commit,
 * which is what makes an append durable when it returns.  The larger cache
 * keeps the indexes' hot pages in memory across batches.
 */
static const char writer_pragmas[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"PRAGMA journal_size_limit = 67108864;"
	"PRAGMA cache_size = -65536;";

static int
open_writer(struct sr_audit_store *store, const char *state_dir, const char *path,
	    int retention_days, struct sr_error *err)
{
	char *msg = NULL;

	if (retention_days < 0)
		return sr_error_set(err, "audit retention of %d days is negative", retention_days);
	if (take_lock(store, state_dir, err) < 0 || create_db_file(path, err) < 0 ||
	    open_db(store, path, SQLITE_OPEN_READWRITE, err) < 0)
		return -1;
	if (sqlite3_exec(store->db, writer_pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		sr_error_set(err, "%s: %s", path, msg != NULL ? msg : "setting journal mode");
		sqlite3_free(msg);
		return -1;
	}
	if (migrate(store, err) < 0 || set_retention(store, retention_days, err) < 0 ||
	    prepare_writer(store, err) < 0)
		return -1;
	return load_head(store, &store->head_seq, &store->head_time, store->head_hash, err);
}

static int
open_reader(struct sr_audit_store *store, const char *path, struct sr_error *err)
{
	struct stat sb;
	int version;

	/* SQLite's own message for a missing file is "unable to open database file". */
	if (stat(path, &sb) < 0)
		return sr_error_errno(err, "%s", path);
	if (open_db(store, path, SQLITE_OPEN_READONLY, err) < 0 ||
	    user_version(store, &version, err) < 0)
		return -1;
	if (version == 0)
		return sr_error_set(err, "%s: not an audit trail (no schema)", path);
	if (version > SCHEMA_VERSION)
		return sr_error_set(err, "%s: schema version %d is newer than this saferoom (%d)",
				    path, version, SCHEMA_VERSION);
	/* A reader never migrates: an older trail is read as it is. */
	store->version = version;
	return 0;
}

struct sr_audit_store *
sr_audit_store_open(const char *state_dir, enum sr_audit_open_mode mode, int retention_days,
		    struct sr_error *err)
{
	struct sr_audit_store *store;
	char path[PATH_MAX];
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, SR_AUDIT_DB) >= sizeof(path)) {
		sr_error_set(err, "%s: state directory path too long", state_dir);
		return NULL;
	}
	store = calloc(1, sizeof(*store));
	if (store == NULL) {
		sr_error_set(err, "out of memory");
		return NULL;
	}
	store->mode = mode;
	store->lock_fd = -1;
	/* Kept for prune, which removes recordings beside the db. */
	snprintf(store->state_dir, sizeof(store->state_dir), "%s", state_dir);
	if (mode == SR_AUDIT_WRITE)
		rc = open_writer(store, state_dir, path, retention_days, err);
	else
		rc = open_reader(store, path, err);
	if (rc < 0) {
		sr_audit_store_free(store);
		return NULL;
	}
	return store;
}

void
sr_audit_store_free(struct sr_audit_store *store)
{
	if (store == NULL)
		return;
	sqlite3_finalize(store->begin);
	sqlite3_finalize(store->commit);
	sqlite3_finalize(store->rollback);
	sqlite3_finalize(store->insert);
	sqlite3_close_v2(store->db);
	if (store->tok != NULL)
		json_tokener_free(store->tok);
	/* Released last, so that no second writer opens the db before we closed it. */
	if (store->lock_fd >= 0)
		close(store->lock_fd);
	free(store);
}

static size_t
len0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

static int
check_event(struct sr_audit_store *store, const struct sr_audit_event *ev, size_t i,
	    struct sr_error *err)
{
	size_t total;

	if (ev->type == NULL || ev->type[0] == '\0')
		return sr_error_set(err, "audit event %zu of the batch has no type", i);
	total = len0(ev->type) + len0(ev->user) + len0(ev->project) + len0(ev->session) +
		len0(ev->source) + len0(ev->datasets) + len0(ev->details);
	if (total > SR_AUDIT_EVENT_MAX)
		return sr_error_set(err, "audit event %zu (%.64s) is %zu bytes, over the %d limit",
				    i, ev->type, total, SR_AUDIT_EVENT_MAX);
	if (ev->details != NULL && !sr_wire_json_object(store->tok, ev->details))
		return sr_error_set(err, "audit event %zu (%.64s): details are not a JSON object",
				    i, ev->type);
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	/* STATIC: the batch outlives the statement's use of it (bindings are cleared after). */
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

/* Hashes ev onto prev, inserts it and leaves its hash in out. */
static int
insert_event(struct sr_audit_store *store, const struct sr_audit_event *ev,
	     const unsigned char prev[SR_AUDIT_HASH_LEN], unsigned char out[SR_AUDIT_HASH_LEN],
	     struct sr_error *err)
{
	sqlite3_stmt *st = store->insert;

	if (sr_audit_hash(prev, ev, out) < 0)
		return sr_error_set(err, "audit: hashing seq %lld failed", (long long)ev->seq);
	sqlite3_bind_int64(st, 1, ev->seq);
	sqlite3_bind_int64(st, 2, ev->time_ms);
	bind_text(st, 3, ev->type);
	bind_text(st, 4, ev->user);
	bind_text(st, 5, ev->project);
	bind_text(st, 6, ev->session);
	bind_text(st, 7, ev->source);
	bind_text(st, 8, ev->datasets);
	bind_text(st, 9, ev->details != NULL ? ev->details : "{}");
	sqlite3_bind_blob(st, 10, prev, SR_AUDIT_HASH_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 11, out, SR_AUDIT_HASH_LEN, SQLITE_TRANSIENT);
	return step_done(store, st, err, "audit.db: appending an event");
}

void
sr_audit_txn_rollback(struct sr_audit_store *store)
{
	sqlite3_clear_bindings(store->insert);
	if (!sqlite3_get_autocommit(store->db))
		step_done(store, store->rollback, NULL, "rollback");
}

int
sr_audit_txn_begin(struct sr_audit_store *store, struct sr_error *err)
{
	if (store->mode != SR_AUDIT_WRITE)
		return sr_error_set(err, "audit.db is open read-only");
	return step_done(store, store->begin, err, "audit.db: beginning a transaction");
}

int
sr_audit_txn_commit(struct sr_audit_store *store, struct sr_error *err)
{
	sqlite3_clear_bindings(store->insert);
	return step_done(store, store->commit, err, "audit.db: committing");
}

void
sr_audit_store_get_head(const struct sr_audit_store *store, struct sr_audit_head *head)
{
	head->seq = store->head_seq;
	head->time_ms = store->head_time;
	memcpy(head->hash, store->head_hash, SR_AUDIT_HASH_LEN);
}

void
sr_audit_store_set_head(struct sr_audit_store *store, const struct sr_audit_head *head)
{
	store->head_seq = head->seq;
	store->head_time = head->time_ms;
	memcpy(store->head_hash, head->hash, SR_AUDIT_HASH_LEN);
}

int
sr_audit_store_chain(struct sr_audit_store *store, struct sr_audit_event *evs, size_t n,
		     struct sr_audit_head *head, struct sr_error *err)
{
	unsigned char hash[SR_AUDIT_HASH_LEN];
	int64_t now;
	size_t i;

	/* The trail's clock never runs backwards, even when the host's does. */
	now = sr_audit_now_ms();
	if (now < head->time_ms)
		now = head->time_ms;
	for (i = 0; i < n; i++) {
		evs[i].seq = head->seq + 1;
		evs[i].time_ms = now;
		if (insert_event(store, &evs[i], head->hash, hash, err) < 0)
			return -1;
		head->seq++;
		memcpy(head->hash, hash, SR_AUDIT_HASH_LEN);
	}
	head->time_ms = now;
	return 0;
}

int
sr_audit_store_append(struct sr_audit_store *store, struct sr_audit_event *evs, size_t n,
		      struct sr_error *err)
{
	struct sr_audit_head head;
	size_t i;

	if (store->mode != SR_AUDIT_WRITE)
		return sr_error_set(err, "audit.db is open read-only");
	for (i = 0; i < n; i++)
		if (check_event(store, &evs[i], i, err) < 0)
			return -1;
	if (n == 0)
		return 0;
	if (sr_audit_txn_begin(store, err) < 0)
		return -1;
	sr_audit_store_get_head(store, &head);
	if (sr_audit_store_chain(store, evs, n, &head, err) < 0 ||
	    sr_audit_txn_commit(store, err) < 0)
		goto out_rollback;
	/* Only a committed batch moves the head. */
	sr_audit_store_set_head(store, &head);
	return 0;
out_rollback:
	sr_audit_txn_rollback(store);
	return -1;
}

int
sr_audit_store_head(struct sr_audit_store *store, int64_t *seq,
		    unsigned char hash[SR_AUDIT_HASH_LEN], struct sr_error *err)
{
	int64_t time_ms;

	if (store->mode == SR_AUDIT_WRITE) {
		*seq = store->head_seq;
		memcpy(hash, store->head_hash, SR_AUDIT_HASH_LEN);
		return 0;
	}
	/* A reader asks the db each time: the writer moves the head. */
	return load_head(store, seq, &time_ms, hash, err);
}

static const char *
column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

/* A hash column of the wrong size (only a hand-edited db has one) reads as zeros. */
static int
column_hash(sqlite3_stmt *st, int i, unsigned char out[SR_AUDIT_HASH_LEN])
{
	const void *blob = sqlite3_column_blob(st, i);

	if (blob == NULL || sqlite3_column_bytes(st, i) != SR_AUDIT_HASH_LEN) {
		memset(out, 0, SR_AUDIT_HASH_LEN);
		return -1;
	}
	memcpy(out, blob, SR_AUDIT_HASH_LEN);
	return 0;
}

int
sr_audit_row_decode(sqlite3_stmt *st, struct sr_audit_row *row)
{
	row->ev.seq = sqlite3_column_int64(st, 0);
	row->ev.time_ms = sqlite3_column_int64(st, 1);
	row->ev.type = column_text(st, 2);
	row->ev.user = column_text(st, 3);
	row->ev.project = column_text(st, 4);
	row->ev.session = column_text(st, 5);
	row->ev.source = column_text(st, 6);
	row->ev.datasets = column_text(st, 7);
	row->ev.details = column_text(st, 8);
	return column_hash(st, 9, row->prev_hash) | column_hash(st, 10, row->hash);
}
