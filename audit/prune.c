/*
 * prune.c — removing audit events once their retention period is over.
 *
 * A hospital must keep access records for a fixed time and should not keep
 * personal data much longer; audit_retention_days is that time.  Pruning
 * deletes the oldest events, those from before now - retention, together
 * with the session recordings their session.end events name, and never
 * anything younger: the cutoff is computed here, and the BEFORE DELETE
 * trigger of store.c refuses any younger row whatever this code does.  The
 * retention applied is the longer of the one asked for and the one the
 * writer recorded in the db, so that neither a stale saferoom.conf nor a
 * stale writer can shorten it.
 *
 * The chain must still verify afterwards, but it no longer starts at seq 1
 * with a zero prev_hash.  So one transaction does three things: it appends
 * an audit.prune event naming the new first seq and the prev_hash that row
 * links to, deletes the rows before it, and records the same pair with the
 * event's seq as the prune anchor (table prune_anchor).  Verify starts at
 * the anchor and requires the last audit.prune event of the chain to name
 * exactly it, so that deleting more rows and moving the anchor is caught
 * unless the whole chain after it is recomputed, which the seals catch.
 * Events older than the cutoff are always a prefix of the chain, because
 * the writer never lets time run backwards.
 *
 * One call removes at most PRUNE_CHUNK events, each call its own transaction
 * with its own audit.prune event, so that the writer, which serves every
 * session meanwhile, never stops for long and the WAL stays small; callers
 * repeat until nothing older is left.
 *
 * Only the writer prunes (audit.prune is an audit.* type, which producers
 * cannot send): saferoomctl asks a running writer through the socket
 * (client.c, writer.c), or becomes the writer itself when none runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "saferoom/audit.h"
#include "store.h"

#define DAY_MS ((int64_t)86400000)
/* Events removed per transaction: a few tens of milliseconds of the writer's time. */
#define PRUNE_CHUNK 10000
/* What the retention trigger assumes when the meta row is missing: a century. */
#define RETENTION_MISSING_DAYS 36500

/* Recording files named by the events a prune removes. */
struct names {
	char **v;
	size_t n;
};

static void
names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = 0;
}

/* One value of a one-row, one-column query with an optional int64 parameter. */
static int
query_int64(struct sr_audit_store *store, const char *sql, int n_params, int64_t param,
	    int64_t *out, int *is_null, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing prune");
	if (n_params > 0)
		sqlite3_bind_int64(st, 1, param);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (is_null != NULL)
			*is_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
		*out = sqlite3_column_int64(st, 0);
	} else if (rc == SQLITE_DONE && is_null != NULL) {
		*is_null = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sr_audit_db_error(store, err, "audit.db: planning a prune");
	return 0;
}

/* The longer of the retention asked for and the one the db records. */
static int
effective_retention(struct sr_audit_store *store, int asked, int *days, struct sr_error *err)
{
	int64_t recorded = RETENTION_MISSING_DAYS;
	int is_null = 1;

	if (query_int64(store, "SELECT value FROM meta WHERE key = 'retention_days'", 0, 0,
			&recorded, &is_null, err) < 0)
		return -1;
	if (is_null || recorded < 1 || recorded > RETENTION_MISSING_DAYS)
		recorded = RETENTION_MISSING_DAYS;
	*days = asked > recorded ? asked : (int)recorded;
	return 0;
}

/* The prev_hash stored with row seq, which is the hash of the row before it. */
static int
prev_hash_of(struct sr_audit_store *store, int64_t seq, unsigned char out[SR_AUDIT_HASH_LEN],
	     struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(store->db, "SELECT prev_hash FROM events WHERE seq = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing prune");
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SR_AUDIT_HASH_LEN)
		memcpy(out, sqlite3_column_blob(st, 0), SR_AUDIT_HASH_LEN);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		ret = sr_error_set(err, "audit.db: seq %lld has no usable prev_hash; run"
				   " `audit verify` before pruning", (long long)seq);
	else
		ret = sr_audit_db_error(store, err, "audit.db: reading a prev_hash");
	sqlite3_finalize(st);
	return ret;
}

/*
 * Works out what a prune now would do, without changing anything: the
 * retention and cutoff, the first seq kept and the prev_hash it links to,
 * how many events go.  head is the chain head (the writer's cached one, or
 * read from the db).  With chunk > 0, at most that many events go and
 * res->remaining counts those older ones left for the next call.
 */
static int
plan(struct sr_audit_store *store, int asked_days, const struct sr_audit_head *head,
     int64_t chunk, struct sr_audit_prune_result *res,
     unsigned char first_prev[SR_AUDIT_HASH_LEN], struct sr_error *err)
{
	int64_t first = 0, oldest = 0, all;
	int is_null = 1, empty = 1;

	memset(res, 0, sizeof(*res));
	if (effective_retention(store, asked_days, &res->retention_days, err) < 0)
		return -1;
	/*
	 * Whole seconds, as the retention trigger counts them: a cutoff with
	 * milliseconds could fall a fraction of a second after the trigger's
	 * bound and make it refuse the whole prune.
	 */
	res->cutoff_ms = sr_audit_now_ms() / 1000 * 1000 - (int64_t)res->retention_days * DAY_MS;
	if (query_int64(store, "SELECT min(seq) FROM events WHERE time_ms >= ?1", 1, res->cutoff_ms,
			&first, &is_null, err) < 0)
		return -1;
	/* Nothing young enough to keep: the chain will start at the prune event itself. */
	res->first_seq = is_null ? head->seq + 1 : first;
	if (query_int64(store, "SELECT min(seq) FROM events", 0, 0, &oldest, &empty, err) < 0)
		return -1;
	/* A chain has no gaps (verify says so), so seqs count the events before first_seq. */
	all = empty ? 0 : res->first_seq - oldest;
	if (chunk > 0 && all > chunk) {
		res->first_seq = oldest + chunk;
		res->remaining = all - chunk;
		is_null = 0;
	}
	if (query_int64(store, "SELECT count(*) FROM events WHERE seq < ?1", 1, res->first_seq,
			&res->deleted, NULL, err) < 0)
		return -1;
	if (is_null) {
		memcpy(first_prev, head->hash, SR_AUDIT_HASH_LEN);
		return 0;
	}
	return prev_hash_of(store, res->first_seq, first_prev, err);
}

/* How many session.end events lie before seq first. */
static int
count_ended(struct sr_audit_store *store, int64_t first, int64_t *n, struct sr_error *err)
{
	static const char sql[] = "SELECT count(*) FROM events INDEXED BY events_type"
				  " WHERE type = ?1 AND seq < ?2";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing prune");
	sqlite3_bind_text(st, 1, "session.end", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, first);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sr_audit_db_error(store, err, "audit.db: counting pruned sessions");
	return 0;
}

int
sr_audit_prune_plan(struct sr_audit_store *store, int retention_days,
		    struct sr_audit_prune_result *res, struct sr_error *err)
{
	unsigned char prev[SR_AUDIT_HASH_LEN];
	struct sr_audit_head head = { 0 };

	if (retention_days < 1)
		return sr_error_set(err, "audit prune: retention of %d days is below one day",
				    retention_days);
	if (store->mode == SR_AUDIT_WRITE)
		sr_audit_store_get_head(store, &head);
	else if (sr_audit_store_head(store, &head.seq, head.hash, err) < 0)
		return -1;
	if (plan(store, retention_days, &head, 0, res, prev, err) < 0)
		return -1;
	/* Each session.end names its recording: a count of sessions, not of files. */
	return count_ended(store, res->first_seq, &res->recordings, err);
}

/* ---- the recordings of pruned sessions -------------------------------------- */

/* A single entry of recordings/, as the recorder accepts: nothing that could leave it. */
static int
plain_name(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strlen(name) + sizeof(SR_RECORDING_GZ_SUFFIX) <= NAME_MAX;
}

static int
names_add(struct names *nm, const char *name)
{
	char **v = realloc(nm->v, (nm->n + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	nm->v = v;
	nm->v[nm->n] = strdup(name);
	if (nm->v[nm->n] == NULL)
		return -1;
	nm->n++;
	return 0;
}

/* The recordings named by session.end events before seq first. */
static int
collect_recordings(struct sr_audit_store *store, int64_t first, struct names *nm,
		   struct sr_error *err)
{
	static const char sql[] = "SELECT details FROM events INDEXED BY events_type"
				  " WHERE type = ?1 AND seq < ?2";
	json_object *o, *rec;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing prune");
	sqlite3_bind_text(st, 1, "session.end", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, first);
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
		if (o != NULL && json_object_object_get_ex(o, "recording", &rec) &&
		    json_object_is_type(rec, json_type_string) &&
		    plain_name(json_object_get_string(rec)) &&
		    names_add(nm, json_object_get_string(rec)) < 0)
			ret = sr_error_set(err, "audit prune: out of memory");
		json_object_put(o);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sr_audit_db_error(store, err, "audit.db: reading pruned sessions");
	sqlite3_finalize(st);
	return ret;
}

/*
 * Removes each named recording, plain or compressed, once the events that
 * vouched for them are gone.  Returns how many files went; a file that
 * cannot be removed is left for the next prune (its name is gone from the
 * trail, so it is only disk space, and `ls recordings/` shows it).
 */
static int64_t
remove_recordings(const char *state_dir, const struct names *nm)
{
	char dir[PATH_MAX], gz[NAME_MAX + 1];
	int64_t removed = 0;
	int dirfd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", state_dir, SR_AUDIT_RECORDINGS) >=
	    sizeof(dir))
		return 0;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return 0;
	for (size_t i = 0; i < nm->n; i++) {
		removed += unlinkat(dirfd, nm->v[i], 0) == 0;
		/* plain_name() made sure the suffix fits. */
		if ((size_t)snprintf(gz, sizeof(gz), "%s%s", nm->v[i], SR_RECORDING_GZ_SUFFIX) <
		    sizeof(gz))
			removed += unlinkat(dirfd, gz, 0) == 0;
	}
	if (removed > 0)
		(void)fsync(dirfd);
	close(dirfd);
	return removed;
}

/* ---- the transaction -------------------------------------------------------------- */

static char *
prune_details(const struct sr_audit_prune_result *res,
	      const unsigned char first_prev[SR_AUDIT_HASH_LEN])
{
	char hex[2 * SR_AUDIT_HASH_LEN + 1], when[32];
	json_object *o = json_object_new_object();
	char *out = NULL;

	if (o == NULL)
		return NULL;
	sr_audit_hex(first_prev, hex);
	sr_audit_format_time(res->cutoff_ms, when, sizeof(when));
	if (json_object_object_add(o, "retention_days",
				   json_object_new_int(res->retention_days)) == 0 &&
	    json_object_object_add(o, "cutoff", json_object_new_string(when)) == 0 &&
	    json_object_object_add(o, "cutoff_ms", json_object_new_int64(res->cutoff_ms)) == 0 &&
	    json_object_object_add(o, "deleted", json_object_new_int64(res->deleted)) == 0 &&
	    json_object_object_add(o, "recordings", json_object_new_int64(res->recordings)) == 0 &&
	    json_object_object_add(o, "first_seq", json_object_new_int64(res->first_seq)) == 0 &&
	    json_object_object_add(o, "first_prev_hash", json_object_new_string(hex)) == 0)
		out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static int
exec_bound(struct sr_audit_store *store, const char *sql, int64_t a, const void *blob, int64_t b,
	   struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: preparing prune");
	sqlite3_bind_int64(st, 1, a);
	if (blob != NULL) {
		sqlite3_bind_blob(st, 2, blob, SR_AUDIT_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, b);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sr_audit_db_error(store, err, "audit.db: pruning");
	return 0;
}

/* Inside the transaction: the event, the deletion and the anchor. */
static int
prune_locked(struct sr_audit_store *store, const struct sr_audit_event *who,
	     const unsigned char first_prev[SR_AUDIT_HASH_LEN], struct sr_audit_prune_result *res,
	     struct sr_audit_head *head, struct sr_error *err)
{
	struct sr_audit_event ev = {
		.type = "audit.prune",
		.user = who != NULL ? who->user : NULL,
		.session = who != NULL ? who->session : NULL,
		.source = who != NULL ? who->source : NULL,
	};
	char *details = prune_details(res, first_prev);
	int rc;

	if (details == NULL)
		return sr_error_set(err, "audit prune: out of memory");
	ev.details = details;
	rc = sr_audit_store_chain(store, &ev, 1, head, err);
	free(details);
	if (rc < 0)
		return -1;
	res->event_seq = ev.seq;
	if (res->deleted > 0 &&
	    exec_bound(store, "DELETE FROM events WHERE seq < ?1", res->first_seq, NULL, 0,
		       err) < 0)
		return -1;
	return exec_bound(store, "INSERT INTO prune_anchor (id, seq, prev_hash, prune_seq)"
			  " VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET"
			  " seq = excluded.seq, prev_hash = excluded.prev_hash,"
			  " prune_seq = excluded.prune_seq",
			  res->first_seq, first_prev, res->event_seq, err);
}

/*
 * With nothing to delete the chain still starts where it did, and the new
 * audit.prune event must name that start, not the head.
 */
static int
keep_start(struct sr_audit_store *store, struct sr_audit_prune_result *res,
	   unsigned char first_prev[SR_AUDIT_HASH_LEN], struct sr_error *err)
{
	struct sr_audit_anchor a;
	int rc;

	rc = sr_audit_anchor_read(store, &a, err);
	if (rc < 0)
		return -1;
	res->first_seq = rc == 1 ? a.seq : 1;
	if (rc == 1)
		memcpy(first_prev, a.prev_hash, SR_AUDIT_HASH_LEN);
	else
		memset(first_prev, 0, SR_AUDIT_HASH_LEN);
	return 0;
}

int
sr_audit_store_prune(struct sr_audit_store *store, int retention_days,
		     const struct sr_audit_event *who, struct sr_audit_prune_result *res,
		     struct sr_error *err)
{
	unsigned char first_prev[SR_AUDIT_HASH_LEN];
	struct names nm = { NULL, 0 };
	struct sr_audit_head head;

	if (store->mode != SR_AUDIT_WRITE)
		return sr_error_set(err, "audit.db is open read-only");
	if (retention_days < 1)
		return sr_error_set(err, "audit prune: retention of %d days is below one day",
				    retention_days);
	if (store->version < 2)
		return sr_error_set(err, "audit.db: schema version %d cannot record a prune",
				    store->version);
	if (sr_audit_txn_begin(store, err) < 0)
		return -1;
	/* Planned inside the transaction, so that what is counted is what is deleted. */
	sr_audit_store_get_head(store, &head);
	if (plan(store, retention_days, &head, PRUNE_CHUNK, res, first_prev, err) < 0 ||
	    (res->deleted == 0 && keep_start(store, res, first_prev, err) < 0) ||
	    collect_recordings(store, res->first_seq, &nm, err) < 0)
		goto out_rollback;
	res->recordings = (int64_t)nm.n;
	if (prune_locked(store, who, first_prev, res, &head, err) < 0 ||
	    sr_audit_txn_commit(store, err) < 0)
		goto out_rollback;
	sr_audit_store_set_head(store, &head);
	/* Files go only once the commit made the deletion final. */
	res->files_removed = remove_recordings(store->state_dir, &nm);
	names_free(&nm);
	return 0;
out_rollback:
	sr_audit_txn_rollback(store);
	names_free(&nm);
	return -1;
}

/* ---- the anchor, for verify ----------------------------------------------------------- */

int
sr_audit_anchor_read(struct sr_audit_store *store, struct sr_audit_anchor *a,
		     struct sr_error *err)
{
	static const char sql[] = "SELECT seq, prev_hash, prune_seq FROM prune_anchor WHERE id = 1";
	sqlite3_stmt *st;
	int rc, ret = 0;

	memset(a, 0, sizeof(*a));
	/* A trail from before prune existed was never pruned. */
	if (store->version < 2)
		return 0;
	if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sr_audit_db_error(store, err, "audit.db: reading the prune anchor");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		a->seq = sqlite3_column_int64(st, 0);
		a->prune_seq = sqlite3_column_int64(st, 2);
		/* A malformed anchor reads as zeros, which no real chain links to. */
		if (sqlite3_column_bytes(st, 1) == SR_AUDIT_HASH_LEN)
			memcpy(a->prev_hash, sqlite3_column_blob(st, 1), SR_AUDIT_HASH_LEN);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = sr_audit_db_error(store, err, "audit.db: reading the prune anchor");
	}
	sqlite3_finalize(st);
	return ret;
}
