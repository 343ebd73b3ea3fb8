/*
 * test_audit_prune.c — retention and disk use of the audit trail, at the
 * library level: sr_audit_store_prune() removes exactly the events older
 * than the retention period and never one younger (checked a few seconds
 * either side of the cutoff), works in chunks, leaves a chain that
 * sr_audit_verify() proves from its anchor and that still shows tampering;
 * sr_recording_compress() and sr_recording_read() keep a recording's bytes
 * and refuse what the trail does not vouch for; sr_audit_space_ok() tells a
 * full disk.
 *
 * Old events cannot come from the store, which stamps the current time; the
 * test writes them into audit.db itself with a correct chain, as an old
 * trail would hold them, before the store opens it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "saferoom/audit.h"
#include "tap.h"
#include "wire.h"

#define DAY_MS ((int64_t)86400000)

static char *dir;

static char *
path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
reset_dir(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'/* && mkdir '%s/recordings'", dir, dir);
	if (system(cmd) != 0)
		diag("reset failed");
}

/* A fresh audit.db with the current schema and retention, and no events. */
static void
make_schema(int retention_days)
{
	struct sr_error err = { "" };
	struct sr_audit_store *s = sr_audit_store_open(dir, SR_AUDIT_WRITE, retention_days, &err);

	if (s == NULL)
		diag("schema: %s", err.msg);
	sr_audit_store_free(s);
}

/*
 * Appends n exec events stamped at times[i], chained onto the db's head,
 * with sqlite3 directly: the trail an old writer would have left.
 */
static void
insert_old(const int64_t *times, size_t n)
{
	static const char ins[] = "INSERT INTO events (seq, time_ms, type, user, project, session,"
				  " source, datasets, details, prev_hash, hash)"
				  " VALUES (?1, ?2, 'exec', 'alice', 'onco', 's1', '10.0.0.1', 'reg',"
				  " '{}', ?3, ?4)";
	unsigned char prev[SR_AUDIT_HASH_LEN] = { 0 }, hash[SR_AUDIT_HASH_LEN];
	sqlite3_stmt *head, *st;
	int64_t seq = 0;
	sqlite3 *db;

	if (sqlite3_open(path_of(SR_AUDIT_DB), &db) != SQLITE_OK)
		diag("open: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", -1, &head,
			   NULL);
	if (sqlite3_step(head) == SQLITE_ROW) {
		seq = sqlite3_column_int64(head, 0);
		memcpy(prev, sqlite3_column_blob(head, 1), SR_AUDIT_HASH_LEN);
	}
	sqlite3_finalize(head);
	sqlite3_prepare_v2(db, ins, -1, &st, NULL);
	for (size_t i = 0; i < n; i++) {
		struct sr_audit_event ev = {
			.seq = ++seq, .time_ms = times[i], .type = "exec", .user = "alice",
			.project = "onco", .session = "s1", .source = "10.0.0.1",
			.datasets = "reg", .details = "{}",
		};

		sr_audit_hash(prev, &ev, hash);
		sqlite3_bind_int64(st, 1, ev.seq);
		sqlite3_bind_int64(st, 2, ev.time_ms);
		sqlite3_bind_blob(st, 3, prev, SR_AUDIT_HASH_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, hash, SR_AUDIT_HASH_LEN, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			diag("insert: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		memcpy(prev, hash, SR_AUDIT_HASH_LEN);
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

/* Runs SQL on audit.db behind the store's back (an attacker with the file). */
static int
raw_sql(const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(path_of(SR_AUDIT_DB), &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static int64_t
count_where(const char *where_sql)
{
	char sql[256];
	sqlite3_stmt *st;
	int64_t n = -1;
	sqlite3 *db;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE %s", where_sql);
	if (sqlite3_open(path_of(SR_AUDIT_DB), &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* verify's verdict: 0 intact, 1 tampered (res says where), -1 error. */
static int
verify(struct sr_audit_verify_result *res)
{
	struct sr_error err = { "" };
	struct sr_audit_store *r = sr_audit_store_open(dir, SR_AUDIT_READ, 0, &err);
	int rc;

	if (r == NULL) {
		diag("verify open: %s", err.msg);
		return -1;
	}
	rc = sr_audit_verify(r, dir, NULL, 0, res, &err);
	if (rc < 0)
		diag("verify: %s", err.msg);
	sr_audit_store_free(r);
	return rc;
}

/* ---- prune ------------------------------------------------------------------------ */

static void
test_boundary(void)
{
	int64_t now = sr_audit_now_ms(), t[6];
	struct sr_audit_event who = { .user = "root", .source = "local" };
	struct sr_audit_prune_result res;
	struct sr_audit_verify_result v;
	struct sr_error err = { "" };
	struct sr_audit_store *s;

	reset_dir();
	make_schema(730);
	/* Three well past the cutoff, one just past it, two just inside retention. */
	t[0] = now - 900 * DAY_MS;
	t[1] = now - 800 * DAY_MS;
	t[2] = now - 731 * DAY_MS;
	t[3] = now - 730 * DAY_MS - 5000;
	t[4] = now - 730 * DAY_MS + 5000;
	t[5] = now - 10 * DAY_MS;
	insert_old(t, 6);
	is_int(verify(&v), 0, "the hand-made old trail verifies");

	s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);
	ok(sr_audit_prune_plan(s, 730, &res, &err) == 0 && res.deleted == 4 && res.first_seq == 5,
	   "plan: 4 events older than 730 days, the trail would start at seq 5");
	is_int(count_where("1"), 6, "planning removed nothing");
	ok(sr_audit_store_prune(s, 730, &who, &res, &err) == 0, "prune: %s", err.msg);
	is_int(res.deleted, 4, "removed the 4 events older than retention");
	is_int(res.first_seq, 5, "the trail starts at seq 5");
	is_int(res.event_seq, 7, "the prune is recorded as seq 7");
	is_int(res.remaining, 0, "nothing older is left");
	is_int(count_where("seq IN (5, 6, 7)"), 3, "the event 5 s inside retention is kept");
	is_int(count_where("seq < 5"), 0, "the one 5 s past the cutoff is gone");
	is_int(count_where("type = 'audit.prune' AND user = 'root' AND source = 'local'"), 1,
	       "audit.prune names who asked");
	sr_audit_store_free(s);

	is_int(verify(&v), 0, "the pruned trail verifies");
	is_int(v.first_seq, 5, "from seq 5");
	is_int(v.count, 3, "3 events");

	/* The db's recorded retention wins over a shorter one asked for. */
	s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);
	ok(sr_audit_store_prune(s, 1, &who, &res, &err) == 0 && res.retention_days == 730 &&
	   res.deleted == 0, "asking for 1 day still keeps 730 (the db's): deleted %lld",
	   (long long)res.deleted);
	ok(sr_audit_store_prune(s, 0, &who, &res, &err) < 0, "a retention of 0 days is refused");
	sr_audit_store_free(s);
	is_int(verify(&v), 0, "still verifies after a prune that removed nothing");
	is_int(v.first_seq, 5, "and still starts at seq 5");

	/* A writer started with a shorter retention lets the next prune go further. */
	s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 9, &err);
	ok(sr_audit_store_prune(s, 9, &who, &res, &err) == 0 && res.deleted == 2 &&
	   res.first_seq == 7, "with 9 days: seqs 5 and 6 go too (deleted %lld, first %lld)",
	   (long long)res.deleted, (long long)res.first_seq);
	sr_audit_store_free(s);
	is_int(verify(&v), 0, "verifies from seq 7");

	s = sr_audit_store_open(dir, SR_AUDIT_READ, 0, &err);
	ok(sr_audit_store_prune(s, 730, &who, &res, &err) < 0 && strstr(err.msg, "read-only"),
	   "a read-only store cannot prune");
	sr_audit_store_free(s);
}

static void
test_chunks(void)
{
	enum { N = 25000 };
	int64_t *t = calloc(N, sizeof(*t)), now = sr_audit_now_ms();
	struct sr_audit_prune_result res;
	struct sr_audit_verify_result v;
	struct sr_error err = { "" };
	struct sr_audit_store *s;
	int calls = 0;

	reset_dir();
	make_schema(30);
	for (int i = 0; i < N; i++)
		t[i] = now - 100 * DAY_MS + i;
	insert_old(t, N);
	free(t);
	s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);
	do {
		if (sr_audit_store_prune(s, 30, NULL, &res, &err) < 0) {
			diag("prune: %s", err.msg);
			break;
		}
		calls++;
		ok(res.deleted <= 10000, "call %d removed %lld, at most 10000", calls,
		   (long long)res.deleted);
	} while (res.remaining > 0 && calls < 10);
	sr_audit_store_free(s);
	is_int(calls, 3, "25000 old events take 3 calls");
	is_int(count_where("type = 'exec'"), 0, "every old event is gone");
	is_int(count_where("type = 'audit.prune'"), 3, "one audit.prune event per call");
	is_int(verify(&v), 0, "the chain verifies from the last prune");
	is_int(v.first_seq, N + 1, "which starts at the first prune's own event");
}

static void
test_tamper_after_prune(void)
{
	int64_t now = sr_audit_now_ms(), t[40];
	struct sr_audit_prune_result res;
	struct sr_audit_verify_result v;
	struct sr_error err = { "" };
	struct sr_audit_store *s;

	reset_dir();
	make_schema(30);
	for (int i = 0; i < 40; i++)
		t[i] = now - (i < 20 ? 60 : 5) * DAY_MS + i;
	insert_old(t, 40);
	s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);
	if (sr_audit_store_prune(s, 30, NULL, &res, &err) < 0)
		diag("prune: %s", err.msg);
	sr_audit_store_free(s);
	is_int(res.first_seq, 21, "the trail starts at seq 21");
	is_int(verify(&v), 0, "intact");

	/* Deleting more and moving the anchor along, as root with sqlite3 would. */
	ok(raw_sql("DROP TRIGGER events_retention; DELETE FROM events WHERE seq < 26;"
		   "UPDATE prune_anchor SET seq = 26, prev_hash ="
		   " (SELECT prev_hash FROM events WHERE seq = 26)") == 0,
	   "rows 21..25 deleted and the anchor moved to 26");
	is_int(verify(&v), 1, "verify: tampered");
	is_int(v.first_bad_seq, 26, "at the moved anchor");
	ok(strstr(v.reason, "audit.prune") != NULL, "the last audit.prune event does not name it: %s",
	   v.reason);
	ok(raw_sql("DELETE FROM prune_anchor") == 0, "the anchor removed altogether");
	is_int(verify(&v), 1, "verify: tampered");
	is_int(v.first_bad_seq, 1, "seq 1 is missing: %s", v.reason);
}

/* ---- recordings --------------------------------------------------------------------- */

static void
write_file(const char *name, const void *data, size_t len)
{
	int fd = open(path_of(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		diag("write %s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void
test_compress(void)
{
	static const char cast[] = "{\"version\": 2, \"width\": 80, \"height\": 24}\n"
				   "[0.1, \"o\", \"\\u001b[1m\uc548\ub155\\u001b[0m $ \"]\n";
	unsigned char sha[SR_AUDIT_HASH_LEN], wrong[SR_AUDIT_HASH_LEN] = { 0 }, *buf = NULL;
	struct sr_error err = { "" };
	struct stat sb;
	unsigned int mdlen;
	size_t len = 0, big = 200000;
	char *zeros;
	int dfd;

	reset_dir();
	dfd = open(path_of("recordings"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	EVP_Digest(cast, sizeof(cast) - 1, sha, &mdlen, EVP_sha256(), NULL);
	write_file("recordings/a.cast", cast, sizeof(cast) - 1);

	ok(sr_recording_compress(dfd, "a.cast", wrong, &err) < 0 && strstr(err.msg, "sha256"),
	   "a recording whose hash is not the trail's is refused: %s", err.msg);
	ok(stat(path_of("recordings/a.cast"), &sb) == 0, "and stays as it is");
	ok(stat(path_of("recordings/a.cast.gz"), &sb) < 0 &&
	   stat(path_of("recordings/a.cast.gz.tmp"), &sb) < 0, "with no .gz or temporary file");

	ok(sr_recording_compress(dfd, "a.cast", sha, &err) == 0, "compress: %s", err.msg);
	ok(stat(path_of("recordings/a.cast"), &sb) < 0 && errno == ENOENT, "the plain file is gone");
	ok(stat(path_of("recordings/a.cast.gz"), &sb) == 0 && (sb.st_mode & 07777) == 0600,
	   "a.cast.gz is there, mode 0600");
	ok(sr_recording_read(dir, "a.cast", 1 << 20, &buf, &len, &err) == 0 &&
	   len == sizeof(cast) - 1 && memcmp(buf, cast, len) == 0,
	   "reading a.cast gives the plain bytes back: %s", err.msg);
	free(buf);

	ok(sr_recording_compress(dfd, "a.cast", NULL, &err) < 0, "compressing twice: no a.cast");
	ok(sr_recording_compress(dfd, "../a.cast", NULL, &err) < 0, "a name with a slash is refused");
	ok(sr_recording_compress(dfd, "..", NULL, &err) < 0, "so is ..");
	ok(sr_recording_read(dir, "../x", 1 << 20, &buf, &len, &err) < 0,
	   "reading outside recordings/ is refused");
	ok(sr_recording_read(dir, "none.cast", 1 << 20, &buf, &len, &err) < 0 &&
	   strstr(err.msg, "no such recording"), "a missing recording: %s", err.msg);

	/* A gzip bomb: 200 kB of zeros are a few hundred bytes compressed. */
	zeros = calloc(1, big);
	write_file("recordings/z.cast", zeros, big);
	free(zeros);
	ok(sr_recording_compress(dfd, "z.cast", NULL, &err) == 0, "compress 200 kB of zeros");
	ok(stat(path_of("recordings/z.cast.gz"), &sb) == 0 && sb.st_size < 2000,
	   "to %lld bytes", (long long)sb.st_size);
	ok(sr_recording_read(dir, "z.cast", 100000, &buf, &len, &err) < 0 &&
	   strstr(err.msg, "more than"), "read with a 100 kB limit is refused: %s", err.msg);
	ok(sr_recording_read(dir, "z.cast", big, &buf, &len, &err) == 0 && len == big,
	   "and with a 200 kB limit it reads");
	free(buf);

	write_file("recordings/bad.cast.gz", "\037\213\010\000garbage", 12);
	ok(sr_recording_read(dir, "bad.cast", 1 << 20, &buf, &len, &err) < 0 &&
	   strstr(err.msg, "corrupt"), "a corrupt .gz is an error: %s", err.msg);
	close(dfd);
}

/* ---- the PRUNE message ------------------------------------------------------------------ */

static void
test_wire(void)
{
	struct sr_audit_event who = { .user = "admin", .source = "local", .session = "s9" };
	unsigned char buf[SR_WIRE_MSG_MAX];
	struct sr_wire_msg msg;
	const char *why = NULL;
	ssize_t len;

	len = sr_wire_encode_prune(buf, sizeof(buf), 7, &who, 730);
	ok(len > 0 && sr_wire_decode(buf, (size_t)len, &msg, &why) == 0,
	   "a PRUNE decodes: %s", why != NULL ? why : "");
	ok(msg.kind == SR_WIRE_PRUNE && msg.id == 7 && msg.flags == 0, "as a PRUNE of id 7");
	ok(strcmp(msg.field[1], "admin") == 0 && strcmp(msg.field[4], "local") == 0 &&
	   strcmp(msg.field[3], "s9") == 0, "naming who asks, from where, in which session");
	is_str(msg.field[6], "{\"retention_days\":730}", "and the retention asked for");
	buf[4] = 1;
	ok(sr_wire_decode(buf, (size_t)len, &msg, &why) < 0, "a PRUNE with flags is refused");
}

/* ---- disk space --------------------------------------------------------------------------- */

static void
test_space(void)
{
	struct sr_error err = { "" };

	ok(sr_audit_space_ok(dir, 0, &err) == 0, "nothing required: fine");
	ok(sr_audit_space_ok(dir, 4096, &err) == 0, "4 KiB free: fine");
	ok(sr_audit_space_ok(dir, UINT64_MAX, &err) < 0, "16 EiB required: refused");
	ok(strstr(err.msg, "free") != NULL && strstr(err.msg, "no new sessions") != NULL,
	   "saying how much is free and what follows: %s", err.msg);
	ok(sr_audit_space_ok("/nonexistent/state", 0, &err) < 0, "no such directory: an error");
}

int
main(void)
{
	dir = tap_tmpdir("prune");
	test_boundary();
	test_chunks();
	test_tamper_after_prune();
	test_compress();
	test_wire();
	test_space();
	tap_rm_rf(dir);
	return done_testing();
}
