/*
 * test_audit_store.c — audit.db: append and head, batch validation, the
 * single-writer lock, read-only opening, queries and their filters, sessions,
 * the JSON line format, the retention and append-only triggers, seals and
 * verify on an intact and on a hand-edited db.
 *
 * Tampering here goes through SQLite directly, as an attacker with the file
 * would; tests/cli/audit_verify.sh does the same with the sqlite3 tool.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "saferoom/audit.h"
#include "tap.h"

static char *dir;

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);
}

static struct sr_audit_store *
open_store(enum sr_audit_open_mode mode, int retention)
{
	struct sr_error err = { "" };
	struct sr_audit_store *s = sr_audit_store_open(dir, mode, retention, &err);

	if (s == NULL)
		diag("open: %s", err.msg);
	return s;
}

/* Runs SQL on audit.db behind the store's back; returns the SQLite result code. */
static int
raw_sql(const char *sql, char *msg, size_t msglen)
{
	char path[512], *emsg = NULL;
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, SR_AUDIT_DB);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", emsg != NULL ? emsg : "");
	sqlite3_free(emsg);
	sqlite3_close(db);
	return rc;
}

static int
mode_of(const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

/* A session's events: start, two execs, a denied channel, end with a recording. */
static void
session_events(struct sr_audit_event *ev, const char *user, const char *session, int end)
{
	static const char *const types[] = { "session.start", "exec", "exec", "channel.denied",
					     "session.end" };

	for (int i = 0; i < 5; i++) {
		ev[i] = (struct sr_audit_event){ .type = types[i], .user = user,
						 .project = "onco", .session = session,
						 .source = "10.1.2.3", .datasets = "registry" };
	}
	ev[1].details = "{\"path\":\"/usr/bin/R\"}";
	ev[4].details = end ? "{\"recording\":\"r.cast\",\"recording_sha256\":\"00ff\"}" : NULL;
	if (!end)
		ev[4].type = "exec";
}

static void
test_open_and_append(struct sr_audit_store *w)
{
	struct sr_error err = { "" };
	unsigned char head[SR_AUDIT_HASH_LEN], h[SR_AUDIT_HASH_LEN], prev[SR_AUDIT_HASH_LEN] = { 0 };
	struct sr_audit_event ev[3] = {
		{ .type = "auth.ok", .user = "alice", .source = "10.1.2.3" },
		{ .type = "policy.change", .user = "root", .details = "{\"verb\":\"user add\"}" },
		{ .type = "auth.fail", .user = "mallory", .details = "{}" },
	};
	int64_t seq = -1;

	is_int(mode_of(SR_AUDIT_DB), 0600, "audit.db is mode 0600");
	is_int(mode_of(SR_AUDIT_LOCK), 0600, "audit.lock is mode 0600");
	ok(sr_audit_store_head(w, &seq, head, &err) == 0 && seq == 0, "empty trail: head seq 0");
	ok(memcmp(head, prev, sizeof(head)) == 0, "empty trail: head hash is zeros");
	ok(sr_audit_store_append(w, ev, 3, &err) == 0, "append a batch of 3");
	ok(ev[0].seq == 1 && ev[1].seq == 2 && ev[2].seq == 3, "seq assigned 1..3");
	ok(ev[0].time_ms > 0 && ev[2].time_ms >= ev[0].time_ms, "time assigned, not decreasing");
	for (int i = 0; i < 3; i++) {
		sr_audit_hash(prev, &ev[i], h);
		memcpy(prev, h, sizeof(h));
	}
	sr_audit_store_head(w, &seq, head, &err);
	is_int(seq, 3, "head seq 3");
	ok(memcmp(head, prev, sizeof(head)) == 0, "head hash is the recomputed chain");
	ok(sr_audit_store_append(w, ev, 0, &err) == 0, "empty batch is a no-op");
}

static int64_t
head_seq(struct sr_audit_store *s)
{
	unsigned char h[SR_AUDIT_HASH_LEN];
	int64_t seq = -1;

	sr_audit_store_head(s, &seq, h, NULL);
	return seq;
}

static void
refuse_batch(struct sr_audit_store *w, const char *type, const char *details, const char *what)
{
	struct sr_error err = { "" };
	struct sr_audit_event ev[3] = {
		{ .type = "auth.ok", .user = "alice" },
		{ .type = type, .user = "alice", .details = details },
		{ .type = "auth.ok", .user = "bob" },
	};
	int64_t before = head_seq(w);

	ok(sr_audit_store_append(w, ev, 3, &err) == -1 && err.msg[0] != '\0',
	   "refuse a batch with %s", what);
	is_int(head_seq(w), before, "nothing of that batch appended (%s)", what);
}

static void
test_validation(struct sr_audit_store *w)
{
	static char big[SR_AUDIT_EVENT_MAX + 16];

	refuse_batch(w, "", NULL, "an empty type");
	refuse_batch(w, NULL, NULL, "no type");
	refuse_batch(w, "exec", "[1,2]", "array details");
	refuse_batch(w, "exec", "\"text\"", "string details");
	refuse_batch(w, "exec", "{\"a\":", "truncated details");
	refuse_batch(w, "exec", "{} {}", "trailing data after details");
	refuse_batch(w, "exec", "{'a':1}", "single-quoted keys");
	refuse_batch(w, "exec", "{\"a\":NaN}", "NaN in details");
	refuse_batch(w, "exec", "{\"a\":-Infinity}", "Infinity in details");
	refuse_batch(w, "exec", "not json", "non-JSON details");
	refuse_batch(w, "exec", "{\"a\":\"\xff\xfe\"}", "invalid UTF-8 in details");
	memset(big, 'x', sizeof(big) - 1);
	big[0] = '{';
	memcpy(big + 1, "\"k\":\"", 5);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	refuse_batch(w, "exec", big, "an event over SR_AUDIT_EVENT_MAX");
}

/* JSON that looks odd to a byte scanner but is standard must still pass. */
static void
test_accepts(struct sr_audit_store *w)
{
	struct sr_audit_event ev[2] = {
		{ .type = "exec", .details = "{\"argv\":[\"echo\",\"it's \\\"NaN\\\" \\\\\"]}" },
		{ .type = "limit.hit", .details = " {\"n\": -1.5e3, \"ok\": [true, false, null]}\n" },
	};
	int64_t before = head_seq(w);

	ok(sr_audit_store_append(w, ev, 2, NULL) == 0, "quotes, escapes, numbers and literals pass");
	is_int(head_seq(w), before + 2, "both appended");
}

static void
test_second_writer(void)
{
	struct sr_error err = { "" };
	struct sr_audit_store *s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);

	ok(s == NULL, "a second writer is refused");
	ok(strstr(err.msg, "another audit writer") != NULL, "and told why: %s", err.msg);
	sr_audit_store_free(s);
}

static void
test_reader(struct sr_audit_store *w)
{
	struct sr_audit_store *r = open_store(SR_AUDIT_READ, 0);
	struct sr_error err = { "" };
	struct sr_audit_event ev = { .type = "auth.ok" };

	ok(r != NULL, "a reader opens beside the writer");
	if (r == NULL)
		return;
	is_int(head_seq(r), head_seq(w), "the reader sees the writer's head");
	ok(sr_audit_store_append(r, &ev, 1, &err) == -1, "a reader cannot append");
	sr_audit_store_append(w, &ev, 1, NULL);
	is_int(head_seq(r), head_seq(w), "the reader follows the head as it moves");
	sr_audit_store_free(r);
}

struct collect {
	int64_t seqs[64];
	int n;
	int stop_after;
};

static int
collect_row(const struct sr_audit_row *row, void *arg)
{
	struct collect *c = arg;

	if (c->n < 64)
		c->seqs[c->n] = row->ev.seq;
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after ? 42 : 0;
}

static int
count_rows(struct sr_audit_store *s, const struct sr_audit_filter *f)
{
	struct collect c = { .n = 0 };
	struct sr_error err = { "" };

	if (sr_audit_store_query(s, f, collect_row, &c, &err) != 0) {
		diag("query: %s", err.msg);
		return -1;
	}
	for (int i = 1; i < c.n && i < 64; i++)
		if (c.seqs[i] <= c.seqs[i - 1])
			return -2;
	return c.n;
}

/* Appends two sessions: s-a by alice (ended), then later s-b by bob (running). */
static int64_t
add_sessions(struct sr_audit_store *w)
{
	struct sr_audit_event a[5], b[5];

	session_events(a, "alice", "s-a", 1);
	sr_audit_store_append(w, a, 5, NULL);
	pause_ms(20);
	session_events(b, "bob", "s-b", 0);
	sr_audit_store_append(w, b, 5, NULL);
	return b[0].time_ms;
}

static void
test_queries(struct sr_audit_store *r, int64_t t_b)
{
	struct sr_audit_filter f;
	struct collect c = { .stop_after = 3 };
	struct sr_error err = { "" };

	/* Rows so far: 1-3 earlier batch, 4 auth.ok, 5-9 s-a, 10-14 s-b. */
	is_int(count_rows(r, NULL), 14, "no filter: every row, in seq order");
	f = (struct sr_audit_filter){ .type = "exec" };
	is_int(count_rows(r, &f), 5, "type exec (exact)");
	f = (struct sr_audit_filter){ .type = "session." };
	is_int(count_rows(r, &f), 3, "type prefix session.");
	f = (struct sr_audit_filter){ .type = "session" };
	is_int(count_rows(r, &f), 0, "a type without the dot is exact, not a prefix");
	f = (struct sr_audit_filter){ .type = "auth." };
	is_int(count_rows(r, &f), 3, "type prefix auth.");
	f = (struct sr_audit_filter){ .user = "alice" };
	is_int(count_rows(r, &f), 6, "user alice");
	f = (struct sr_audit_filter){ .user = "alice", .type = "exec" };
	is_int(count_rows(r, &f), 2, "user and type together");
	f = (struct sr_audit_filter){ .session = "s-b" };
	is_int(count_rows(r, &f), 5, "session s-b");
	f = (struct sr_audit_filter){ .project = "onco", .type = "channel.denied" };
	is_int(count_rows(r, &f), 2, "project and type");
	f = (struct sr_audit_filter){ .since_ms = t_b };
	is_int(count_rows(r, &f), 5, "since the second session");
	f = (struct sr_audit_filter){ .until_ms = t_b };
	is_int(count_rows(r, &f), 9, "until the second session (exclusive)");
	f = (struct sr_audit_filter){ .until_ms = t_b, .user = "bob" };
	is_int(count_rows(r, &f), 0, "until and user together");
	f = (struct sr_audit_filter){ .after_seq = 12 };
	is_int(count_rows(r, &f), 2, "after_seq 12");
	f = (struct sr_audit_filter){ .user = "nobody" };
	is_int(count_rows(r, &f), 0, "unknown user: nothing");
	is_int(sr_audit_store_query(r, NULL, collect_row, &c, &err), 42,
	       "a callback's non-zero return stops the walk and is returned");
	is_int(c.n, 3, "after exactly that many rows");
}

struct sess {
	int n;
	char name[8][16];
	int64_t end_ms[8], execs[8];
	char recording[8][32], sha[8][32];
};

static int
collect_session(const struct sr_audit_session *s, void *arg)
{
	struct sess *c = arg;

	if (c->n >= 8)
		return 1;
	snprintf(c->name[c->n], 16, "%s", s->session);
	c->end_ms[c->n] = s->end_ms;
	c->execs[c->n] = s->exec_count;
	snprintf(c->recording[c->n], 32, "%s", s->recording ? s->recording : "(none)");
	snprintf(c->sha[c->n], 32, "%s", s->recording_sha256 ? s->recording_sha256 : "(none)");
	c->n++;
	return 0;
}

static void
test_sessions(struct sr_audit_store *r, int64_t t_b)
{
	struct sess c = { 0 };
	struct sr_audit_filter f = { .user = "bob" };

	ok(sr_audit_store_sessions(r, NULL, collect_session, &c, NULL) == 0 && c.n == 2,
	   "two sessions");
	is_str(c.name[0], "s-a", "first is s-a");
	ok(c.end_ms[0] > 0, "s-a ended");
	is_int(c.execs[0], 2, "s-a ran 2 commands");
	is_str(c.recording[0], "r.cast", "s-a recording from session.end");
	is_str(c.sha[0], "00ff", "s-a recording hash from session.end");
	is_int(c.end_ms[1], 0, "s-b is still running");
	is_int(c.execs[1], 3, "s-b ran 3 commands");
	is_str(c.recording[1], "(none)", "s-b has no recording yet");
	memset(&c, 0, sizeof(c));
	sr_audit_store_sessions(r, &f, collect_session, &c, NULL);
	ok(c.n == 1 && strcmp(c.name[0], "s-b") == 0, "sessions of user bob");
	memset(&c, 0, sizeof(c));
	f = (struct sr_audit_filter){ .since_ms = t_b };
	sr_audit_store_sessions(r, &f, collect_session, &c, NULL);
	ok(c.n == 1 && strcmp(c.name[0], "s-b") == 0, "sessions since t_b: the running one");
	memset(&c, 0, sizeof(c));
	is_int(sr_audit_store_session(r, "s-a", collect_session, &c, NULL), 1, "look up s-a");
	is_str(c.name[0], "s-a", "and get s-a");
	is_int(sr_audit_store_session(r, "s-zz", collect_session, &c, NULL), 0,
	       "an unknown session is not found");
}

static int
first_row_json(const struct sr_audit_row *row, void *arg)
{
	return sr_audit_row_write_json(row, arg) == 0 ? 1 : -1;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void
test_json(struct sr_audit_store *r)
{
	struct sr_audit_filter f = { .type = "exec" };
	json_object *o, *d;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	ok(sr_audit_store_query(r, &f, first_row_json, mem, NULL) == 1, "write one row as JSON");
	fclose(mem);
	ok(len > 0 && buf[len - 1] == '\n' && strchr(buf, '\n') == buf + len - 1,
	   "one line, newline-terminated");
	o = json_tokener_parse(buf);
	ok(o != NULL && json_object_is_type(o, json_type_object), "the line is a JSON object");
	is_str(jstr(o, "type"), "exec", "type");
	is_str(jstr(o, "user"), "alice", "user");
	is_str(jstr(o, "session"), "s-a", "session");
	is_str(jstr(o, "datasets"), "registry", "datasets");
	ok(jstr(o, "seq") != NULL && atoll(jstr(o, "seq")) == 6, "seq");
	ok(jstr(o, "time") != NULL && strlen(jstr(o, "time")) == 24 && jstr(o, "time")[23] == 'Z',
	   "ISO time with ms and Z");
	ok(jstr(o, "hash") != NULL && strlen(jstr(o, "hash")) == 64, "hash in hex");
	ok(jstr(o, "prev_hash") != NULL && strlen(jstr(o, "prev_hash")) == 64, "prev_hash in hex");
	ok(json_object_object_get_ex(o, "details", &d) && json_object_is_type(d, json_type_object),
	   "details is an object, not a string");
	is_str(jstr(d, "path"), "/usr/bin/R", "details content");
	json_object_put(o);
	free(buf);
}

/* Nothing deletes a young event, and nothing changes any event. */
static void
test_triggers(void)
{
	char msg[256];

	ok(raw_sql("DELETE FROM events WHERE seq = 1", msg, sizeof(msg)) != SQLITE_OK,
	   "deleting a young event is refused");
	ok(strstr(msg, "retention") != NULL, "by the retention trigger: %s", msg);
	ok(raw_sql("UPDATE events SET details = '{}' WHERE seq = 2", msg, sizeof(msg)) != SQLITE_OK,
	   "changing an event is refused: %s", msg);
}

/* Events older than the retention period may go (verify is done with this db by now). */
static void
test_expiry(void)
{
	char msg[256];

	/* Age seq 1 past the 730 days (needs the append-only trigger out of the way). */
	raw_sql("DROP TRIGGER IF EXISTS events_append_only;"
		"UPDATE events SET time_ms = time_ms - 731 * 86400000 WHERE seq = 1", NULL, 0);
	ok(raw_sql("DELETE FROM events WHERE seq = 2", msg, sizeof(msg)) != SQLITE_OK,
	   "a young event still cannot be deleted");
	ok(raw_sql("DELETE FROM events WHERE seq = 1", msg, sizeof(msg)) == SQLITE_OK,
	   "an event older than the retention period can be: %s", msg);
}

static void
test_retention_setting(void)
{
	struct sr_audit_store *w;
	char msg[256];

	w = open_store(SR_AUDIT_WRITE, 3000);
	sr_audit_store_free(w);
	/* seq 3 aged 731 days: deletable under 730, not under 3000. */
	raw_sql("DROP TRIGGER IF EXISTS events_append_only;"
		"UPDATE events SET time_ms = time_ms - 731 * 86400000 WHERE seq = 3", NULL, 0);
	ok(raw_sql("DELETE FROM events WHERE seq = 3", msg, sizeof(msg)) != SQLITE_OK,
	   "retention_days from the writer's open is enforced");
	w = open_store(SR_AUDIT_WRITE, 0);
	sr_audit_store_free(w);
	ok(raw_sql("DELETE FROM events WHERE seq = 3", msg, sizeof(msg)) != SQLITE_OK,
	   "retention 0 keeps the recorded value");
	ok(sr_audit_store_open(dir, SR_AUDIT_WRITE, -1, NULL) == NULL, "negative retention refused");
}

static int
verify(struct sr_audit_store *r, const struct sr_audit_seal *seals, size_t n,
       struct sr_audit_verify_result *res)
{
	struct sr_error err = { "" };
	int rc = sr_audit_verify(r, dir, seals, n, res, &err);

	if (rc < 0)
		diag("verify: %s", err.msg);
	if (rc == 1)
		diag("verify: seq %lld: %s", (long long)res->first_bad_seq, res->reason);
	return rc;
}

static void
test_verify(struct sr_audit_store *w)
{
	struct sr_audit_store *r = open_store(SR_AUDIT_READ, 0);
	struct sr_audit_verify_result res;
	struct sr_audit_seal seal = { 0 }, bad;
	struct sr_error err = { "" };

	if (r == NULL)
		return;
	is_int(verify(r, NULL, 0, &res), 0, "a fresh trail verifies");
	is_int(res.count, 14, "all 14 rows checked");
	is_int(res.head_seq, 14, "head seq 14");
	sr_audit_store_head(w, &seal.seq, seal.hash, NULL);
	ok(sr_audit_seals_append(dir, &seal, sr_audit_now_ms(), &err) == 0, "append a seal");
	is_int(mode_of(SR_AUDIT_SEALS), 0600, "audit.seals is mode 0600");
	is_int(verify(r, NULL, 0, &res), 0, "verifies with the witness seal");
	bad = seal;
	bad.hash[0] ^= 1;
	is_int(verify(r, &bad, 1, &res), 1, "a seal with another hash: tampered");
	is_int(res.first_bad_seq, 14, "at the sealed seq");
	bad = seal;
	bad.seq = 20;
	is_int(verify(r, &bad, 1, &res), 1, "a seal beyond the last row: tampered");
	is_int(res.first_bad_seq, 15, "first missing seq named");
	ok(strstr(res.reason, "truncated") != NULL, "reason says truncated");
	raw_sql("DROP TRIGGER IF EXISTS events_append_only;"
		"UPDATE events SET details = '{\"path\":\"/bin/true\"}' WHERE seq = 6", NULL, 0);
	is_int(verify(r, NULL, 0, &res), 1, "a modified row: tampered");
	is_int(res.first_bad_seq, 6, "at the modified seq");
	is_int(res.count, 5, "rows before it checked");
	sr_audit_store_free(r);
}

/* audit.seal events in the chain are seals too; ones that name nothing are ignored. */
static void
test_chain_seals(void)
{
	struct sr_audit_event ev[3] = {
		{ .type = "auth.ok", .user = "alice" },
		{ .type = "audit.seal", .details = "{\"note\":\"not a seal\"}" },
		{ .type = "audit.seal", .details = "{\"sealed_seq\":99,\"sealed_hash\":\"00\"}" },
	};
	struct sr_audit_event s = { .type = "audit.seal" };
	struct sr_audit_verify_result res;
	struct sr_audit_store *w, *r;
	struct sr_audit_seal head;
	char hex[2 * SR_AUDIT_HASH_LEN + 1], details[160];

	w = open_store(SR_AUDIT_WRITE, 0);
	if (w == NULL)
		return;
	sr_audit_store_append(w, ev, 3, NULL);
	sr_audit_store_head(w, &head.seq, head.hash, NULL);
	sr_audit_hex(head.hash, hex);
	snprintf(details, sizeof(details), "{\"sealed_seq\":%lld,\"sealed_hash\":\"%s\"}",
		 (long long)head.seq, hex);
	s.details = details;
	sr_audit_store_append(w, &s, 1, NULL);
	sr_audit_store_append(w, ev, 1, NULL);
	r = open_store(SR_AUDIT_READ, 0);
	is_int(verify(r, NULL, 0, &res), 0, "an audit.seal event naming the head before it verifies");
	is_int(res.count, 5, "with audit.seal events that name nothing ignored");
	/* Claim the sealed hash was something else: the row no longer matches its seal. */
	head.hash[0] ^= 0xff;
	sr_audit_hex(head.hash, hex);
	snprintf(details, sizeof(details), "{\"sealed_seq\":2,\"sealed_hash\":\"%s\"}", hex);
	s.details = details;
	sr_audit_store_append(w, &s, 1, NULL);
	is_int(verify(r, NULL, 0, &res), 1, "an audit.seal event that the chain does not match");
	is_int(res.first_bad_seq, 2, "names the sealed seq");
	ok(strstr(res.reason, "audit.seal event at seq 6") != NULL, "and the seal: %s", res.reason);
	sr_audit_store_free(r);
	sr_audit_store_free(w);
}

static void
test_seals_file(void)
{
	struct sr_audit_seal *seals = NULL;
	struct sr_error err = { "" };
	char path[512];
	size_t n = 0;
	int fd;

	ok(sr_audit_seals_read(dir, &seals, &n, &err) == 0 && n == 1, "witness file reads back");
	free(seals);
	snprintf(path, sizeof(path), "%s/%s", dir, SR_AUDIT_SEALS);
	fd = open(path, O_WRONLY | O_APPEND);
	if (write(fd, "15 zz 1\n", 8) != 8)
		diag("write failed");
	close(fd);
	ok(sr_audit_seals_read(dir, &seals, &n, &err) == -1, "a malformed seal line is an error");
	ok(strstr(err.msg, "audit.seals:2:") != NULL, "naming the line: %s", err.msg);
	unlink(path);
	ok(sr_audit_seals_read(dir, &seals, &n, &err) == 0 && n == 0, "no witness file: no seals");
}

static void
test_schema(void)
{
	struct sr_error err = { "" };
	struct sr_audit_store *s;
	char path[512];

	raw_sql("PRAGMA user_version = 99", NULL, 0);
	s = sr_audit_store_open(dir, SR_AUDIT_READ, 0, &err);
	ok(s == NULL && strstr(err.msg, "newer") != NULL, "a newer schema is refused: %s", err.msg);
	sr_audit_store_free(s);
	raw_sql("PRAGMA user_version = 1", NULL, 0);
	snprintf(path, sizeof(path), "%s/%s", dir, SR_AUDIT_DB);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-wal", dir, SR_AUDIT_DB);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-shm", dir, SR_AUDIT_DB);
	unlink(path);
	s = sr_audit_store_open(dir, SR_AUDIT_READ, 0, &err);
	ok(s == NULL && strstr(err.msg, SR_AUDIT_DB) != NULL, "no audit.db: a clear error: %s",
	   err.msg);
}

int
main(void)
{
	struct sr_audit_store *w, *r;
	int64_t t_b;

	dir = tap_tmpdir("store");
	w = open_store(SR_AUDIT_WRITE, 730);
	ok(w != NULL, "open a new trail for writing");
	if (w == NULL)
		goto out;
	test_open_and_append(w);
	test_validation(w);
	test_second_writer();
	test_reader(w);
	t_b = add_sessions(w);
	r = open_store(SR_AUDIT_READ, 0);
	ok(r != NULL, "open the trail for reading");
	if (r != NULL) {
		test_queries(r, t_b);
		test_sessions(r, t_b);
		test_json(r);
	}
	sr_audit_store_free(r);
	test_triggers();
	test_verify(w);
	test_accepts(w);
	sr_audit_store_free(w);
	test_expiry();
	test_retention_setting();
	test_seals_file();
	test_schema();
	tap_rm_rf(dir);
	dir = tap_tmpdir("store-seals");
	test_chain_seals();
out:
	tap_rm_rf(dir);
	return done_testing();
}
