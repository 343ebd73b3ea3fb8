/*
 * store.h — what store.c shares with query.c and verify.c, and nothing else.
 *
 * The store object is opaque outside audit/; inside, the query and verify
 * code read the same SQLite handle and decode rows the same way, so that a
 * row means one thing wherever it is read.
 */
#ifndef SAFEROOM_AUDIT_STORE_H
#define SAFEROOM_AUDIT_STORE_H

#include <limits.h>

#include <sqlite3.h>

#include "saferoom/audit.h"

/* The columns every row-reading SELECT names, in this order, from column 0. */
#define SR_AUDIT_ROW_COLUMNS \
	"seq, time_ms, type, user, project, session, source, datasets, details, prev_hash, hash"

struct sr_audit_store {
	sqlite3 *db;
	enum sr_audit_open_mode mode;
	int version;                 /* schema version (PRAGMA user_version) */
	char state_dir[PATH_MAX];    /* where audit.db and recordings/ live */
	int lock_fd;                 /* audit.lock, held for the writer's lifetime */
	struct json_tokener *tok;    /* reused to check details cheaply */
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *insert;
	/* The chain head, cached in write mode (nobody else may move it). */
	int64_t head_seq;
	int64_t head_time;
	unsigned char head_hash[SR_AUDIT_HASH_LEN];
};

/* A chain head: the last row's seq, time and hash (zeros on an empty trail). */
struct sr_audit_head {
	int64_t seq;
	int64_t time_ms;
	unsigned char hash[SR_AUDIT_HASH_LEN];
};

/*
 * Transactions of the writer, for work that must append and change other
 * rows atomically (prune).  Between begin and commit, sr_audit_store_chain()
 * appends evs onto *head (a copy of the store's, from get_head) with the
 * same rules as sr_audit_store_append(), which is begin + chain + commit;
 * only after a successful commit may the caller set_head() it.  Events are
 * not checked here: the caller builds them.
 */
int sr_audit_txn_begin(struct sr_audit_store *store, struct sr_error *err);
int sr_audit_txn_commit(struct sr_audit_store *store, struct sr_error *err);
void sr_audit_txn_rollback(struct sr_audit_store *store);
void sr_audit_store_get_head(const struct sr_audit_store *store, struct sr_audit_head *head);
void sr_audit_store_set_head(struct sr_audit_store *store, const struct sr_audit_head *head);
int sr_audit_store_chain(struct sr_audit_store *store, struct sr_audit_event *evs, size_t n,
			 struct sr_audit_head *head, struct sr_error *err);

/* Where a pruned chain starts (prune.c). */
struct sr_audit_anchor {
	int64_t seq;                              /* the first kept row */
	unsigned char prev_hash[SR_AUDIT_HASH_LEN]; /* what that row links to */
	int64_t prune_seq;                        /* the audit.prune event naming both */
};

/* Returns 1 with the anchor, 0 when the trail was never pruned (a zeroed), or -1. */
int sr_audit_anchor_read(struct sr_audit_store *store, struct sr_audit_anchor *a,
			 struct sr_error *err);

/*
 * Decodes the current row of a statement selecting SR_AUDIT_ROW_COLUMNS.
 * Strings point into the statement and live until it steps again; NULL
 * columns read as "".  Returns 0, or -1 when a hash column has the wrong size
 * (only a hand-edited db has one); that hash then reads as zeros.
 */
int sr_audit_row_decode(sqlite3_stmt *st, struct sr_audit_row *row);

/* Sets err to "WHAT: <sqlite message>" and returns -1. */
int sr_audit_db_error(struct sr_audit_store *store, struct sr_error *err, const char *what);

#endif /* SAFEROOM_AUDIT_STORE_H */
