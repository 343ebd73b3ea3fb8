/*
 * store.h — what store.c shares with query.c and verify.c, and nothing else.
 *
 * The store object is opaque outside audit/; inside, the query and verify
 * code read the same SQLite handle and decode rows the same way, so that a
 * row means one thing wherever it is read.
 */
#ifndef SAFEROOM_AUDIT_STORE_H
#define SAFEROOM_AUDIT_STORE_H

#include <sqlite3.h>

#include "saferoom/audit.h"

/* The columns every row-reading SELECT names, in this order, from column 0. */
#define SR_AUDIT_ROW_COLUMNS \
	"seq, time_ms, type, user, project, session, source, datasets, details, prev_hash, hash"

struct sr_audit_store {
	sqlite3 *db;
	enum sr_audit_open_mode mode;
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
