/*
 * audit-raw-sqlite.c — the baseline of the audit benchmark: what producers
 * would get by inserting into SQLite themselves, with no writer, no socket
 * and no hash chain.
 *
 *   audit-raw-sqlite -f DB -n N [-p PROCS] [-b BATCH] [-P PAD]
 *
 * PROCS processes (default 4) each insert N/PROCS rows of the same shape as
 * audit.db's events (same columns, indexes, details JSON, 32-byte hash
 * blobs, but zeros: no SHA-256 is computed) into DB in WAL mode with
 * synchronous=FULL, BATCH rows per transaction (1: one per event).  Prints
 * "raw N events in S s: R events/s".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static const char schema[] =
	"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" type TEXT NOT NULL, user TEXT, project TEXT, session TEXT, source TEXT, datasets TEXT,"
	" details TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_type ON events (type);"
	"CREATE INDEX IF NOT EXISTS events_user ON events (user);"
	"CREATE INDEX IF NOT EXISTS events_session ON events (session);"
	"CREATE INDEX IF NOT EXISTS events_time ON events (time_ms);";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *
open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "audit-raw-sqlite: %s: %s\n", path, sqlite3_errmsg(db));
		exit(1);
	}
	sqlite3_busy_timeout(db, 60000);
	if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "audit-raw-sqlite: schema: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	return db;
}

static void
check(sqlite3 *db, int rc, const char *what)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE)
		return;
	fprintf(stderr, "audit-raw-sqlite: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

/* One producer: n rows, batch per transaction. */
static void
produce(const char *path, int who, long n, long batch, int pad)
{
	static const unsigned char zero[32];
	sqlite3 *db = open_db(path);
	sqlite3_stmt *ins;
	char session[32], details[50100];

	check(db, sqlite3_prepare_v2(db, "INSERT INTO events (time_ms, type, user, project,"
				     " session, source, datasets, details, prev_hash, hash)"
				     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL),
	      "prepare");
	snprintf(session, sizeof(session), "raw%d", who);
	for (long i = 1; i <= n; i++) {
		if ((i - 1) % batch == 0)
			check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
		snprintf(details, sizeof(details), "{\"i\":%ld,\"pad\":\"%0*d\"}", i, pad, 0);
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)(now_s() * 1000));
		sqlite3_bind_text(ins, 2, "test.event", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, "producer", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 4, "bench", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, session, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 6, "127.0.0.1", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 7, "none", -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 8, details, -1, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 9, zero, 32, SQLITE_STATIC);
		sqlite3_bind_blob(ins, 10, zero, 32, SQLITE_STATIC);
		check(db, sqlite3_step(ins), "insert");
		sqlite3_reset(ins);
		if (i % batch == 0 || i == n)
			check(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	}
	sqlite3_finalize(ins);
	sqlite3_close(db);
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	long n = 0, batch = 1, procs = 4;
	int c, pad = 0, failed = 0;
	double t0;

	while ((c = getopt(argc, argv, "f:n:p:b:P:")) != -1) {
		switch (c) {
		case 'f': path = optarg; break;
		case 'n': n = atol(optarg); break;
		case 'p': procs = atol(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 'P': pad = atoi(optarg); break;
		default: goto out_usage;
		}
	}
	if (path == NULL || n <= 0 || procs <= 0 || batch <= 0 || pad < 0 || pad > 50000)
		goto out_usage;
	sqlite3_close(open_db(path));
	t0 = now_s();
	for (long p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid == 0) {
			produce(path, (int)p, n / procs, batch, pad);
			_exit(0);
		}
		if (pid < 0) {
			perror("audit-raw-sqlite: fork");
			return 1;
		}
	}
	for (long p = 0; p < procs; p++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	if (failed)
		return 1;
	t0 = now_s() - t0;
	printf("raw %ld events in %.3f s: %.0f events/s\n", n / procs * procs, t0,
	       (double)(n / procs * procs) / t0);
	return 0;
out_usage:
	fprintf(stderr, "usage: audit-raw-sqlite -f DB -n N [-p PROCS] [-b BATCH] [-P PAD]\n");
	return 2;
}
