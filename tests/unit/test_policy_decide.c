/*
 * test_policy_decide.c — the login decision, table-driven: every refusal
 * reason, and both edges of every validity window (user expiry, membership,
 * project, grant), decided at injected times.  Then the sandbox spec, the
 * recheck of a running session, host ids that are never reused, and the
 * audit events of changes (one per change, none for a failed one, and no
 * change when the trail cannot be written).
 */
#include "config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <liboath/oath.h>

#include "saferoom/policy.h"
#include "tap.h"

#define DAY 86400
#define T0 INT64_C(1767225600)   /* 2026-01-01T00:00:00Z */

static char *dir;
static char state[300];
static struct sr_policy *pol;
static char key_fp[64], other_fp[64];

static void
must(int rc, const char *what, const struct sr_error *err)
{
	if (rc < 0) {
		printf("Bail out! %s: %s\n", what, sr_error_msg(err));
		tap_rm_rf(dir);
		exit(1);
	}
}

static void
run(const char *cmd)
{
	if (system(cmd) != 0) {
		printf("Bail out! %s\n", cmd);
		tap_rm_rf(dir);
		exit(1);
	}
}

/* Runs the shell command FMT with one %s. */
#define sh(fmt, arg) do {						\
		char cmd_[1024];					\
		snprintf(cmd_, sizeof(cmd_), fmt, arg);			\
		run(cmd_);						\
	} while (0)

static int64_t
count_events(void)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	snprintf(path, sizeof(path), "%s/audit.db", state);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE type = 'policy.change'",
			       -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
add_user(const char *name, unsigned roles, const char *key, int64_t expires)
{
	struct sr_policy_user_spec u = { .name = name, .roles = roles, .key_file = key,
					 .expires = expires };
	struct sr_error err = { { 0 } };

	must(sr_policy_user_add(pol, &u, &err), name, &err);
}

static void
add_project(const char *name, int64_t from, int64_t until)
{
	struct sr_policy_project_spec s = { .name = name, .drb_ref = "DRB-TEST",
					    .valid = { from, until } };
	struct sr_error err = { { 0 } };

	must(sr_policy_project_add(pol, &s, &err), name, &err);
}

static void
grant(const char *project, const char *dataset, int64_t from, int64_t until)
{
	struct sr_policy_window w = { from, until };
	struct sr_error err = { { 0 } };

	must(sr_policy_project_grant(pol, project, dataset, &w, &err), dataset, &err);
}

static void
member(const char *project, const char *user, int64_t from, int64_t until)
{
	struct sr_policy_window w = { from, until };
	struct sr_error err = { { 0 } };

	must(sr_policy_project_member_add(pol, project, user, &w, &err), user, &err);
}

static void
dataset(const char *name)
{
	struct sr_error err = { { 0 } };
	char path[400];

	snprintf(path, sizeof(path), "%s/data/%s", dir, name);
	sh("mkdir -p '%s'", path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/rows.csv");
	sh("printf 'id,name\\n1,kim\\n2,lee\\r\\n' > '%s'", path);
	*strrchr(path, '/') = '\0';
	must(sr_policy_dataset_add(pol, name, path, NULL, NULL, NULL, &err), name, &err);
}

static void
read_fp(const char *pub, char *out)
{
	struct sr_policy_pubkey k;
	struct sr_error err = { { 0 } };

	must(sr_policy_pubkey_read(pub, &k, &err), pub, &err);
	strcpy(out, k.fingerprint);
	sr_policy_pubkey_clear(&k);
}

/* The fixture: who is what, where, and when (T0 = 2026-01-01). */
static void
populate(void)
{
	char key[400], other[400];
	const char *const allow[] = { "10.0.0.0/8", "192.168.0.0/16", "::1" };
	struct sr_error err = { { 0 } };

	snprintf(key, sizeof(key), "%s/k1", dir);
	snprintf(other, sizeof(other), "%s/k2", dir);
	sh("ssh-keygen -q -t ed25519 -N '' -C test -f '%s'", key);
	sh("ssh-keygen -q -t ed25519 -N '' -C test -f '%s'", other);
	strcat(key, ".pub");
	strcat(other, ".pub");
	read_fp(key, key_fp);
	read_fp(other, other_fp);
	must(sr_policy_set_global_allow(pol, allow, 3, &err), "allow", &err);

	add_user("alice", SR_POLICY_RESEARCHER, key, 0);
	add_user("bob", SR_POLICY_RESEARCHER, NULL, 0);
	must(sr_policy_user_lock(pol, "bob", 1, &err), "lock", &err);
	add_user("eve", SR_POLICY_RESEARCHER, NULL, T0 + 100 * DAY);
	add_user("carol", SR_POLICY_STEWARD, NULL, 0);
	add_user("dan", SR_POLICY_RESEARCHER, NULL, 0);
	must(sr_policy_user_set(pol, "dan", "allow_from", "10.1.0.0/16", &err), "set", &err);
	add_user("frank", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("gina", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("henry", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("ivan", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("judy", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("kate", SR_POLICY_RESEARCHER, NULL, 0);
	add_user("multi", SR_POLICY_RESEARCHER | SR_POLICY_AUDITOR, NULL, 0);
	add_user("otto", SR_POLICY_RESEARCHER, NULL, 0);

	dataset("d1");
	dataset("d2");
	dataset("d3");
	add_project("p1", T0, T0 + 365 * DAY);
	add_project("p2", T0, T0 + 365 * DAY);
	add_project("p3", T0 + 50 * DAY, T0 + 80 * DAY);
	add_project("p4", T0, T0 + 365 * DAY);
	add_project("p5", T0, T0 + 365 * DAY);
	must(sr_policy_project_set(pol, "p5", "allow_from", "192.168.0.0/24", &err), "set", &err);
	must(sr_policy_project_set(pol, "p1", "memory", "2G", &err), "set", &err);
	grant("p1", "d1", 0, 0);
	grant("p1", "d3", 0, 0);
	grant("p2", "d2", T0 + 30 * DAY, T0 + 60 * DAY);
	grant("p3", "d1", 0, 0);
	grant("p5", "d1", 0, 0);
	member("p1", "alice", 0, 0);
	member("p1", "eve", 0, 0);
	member("p1", "dan", 0, 0);
	member("p1", "frank", T0 + 10 * DAY, T0 + 20 * DAY);
	member("p1", "multi", 0, 0);
	member("p2", "multi", 0, 0);
	member("p2", "henry", 0, 0);
	member("p3", "ivan", 0, 0);
	member("p4", "judy", 0, 0);
	member("p5", "kate", 0, 0);
	member("p1", "otto", 0, T0 + 5 * DAY);
	member("p2", "otto", 0, T0 + 5 * DAY);
}

enum key { NOKEY, GOODKEY, OTHERKEY };

static const struct decide_case {
	const char *desc;
	const char *user, *project, *source;
	enum key key;
	int64_t now;
	enum sr_policy_reason want;
	const char *want_project;
} cases[] = {
	{ "alice, her only project", "alice", NULL, "10.0.0.1", GOODKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "alice names p1", "alice", "p1", NULL, NOKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "unknown user", "nobody", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_NO_USER, NULL },
	{ "locked user", "bob", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_USER_LOCKED, NULL },
	{ "key not registered", "alice", NULL, NULL, OTHERKEY, T0 + DAY, SR_POLICY_KEY_UNKNOWN, NULL },
	{ "source outside global allow_from", "alice", NULL, "8.8.8.8", GOODKEY, T0 + DAY, SR_POLICY_SOURCE_DENIED, NULL },
	{ "IPv6 source outside global allow_from", "alice", NULL, "2001:db8::1", GOODKEY, T0 + DAY, SR_POLICY_SOURCE_DENIED, NULL },
	{ "IPv6 source in global allow_from", "alice", NULL, "::1", GOODKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "source outside the user's allow_from", "dan", NULL, "10.2.0.1", NOKEY, T0 + DAY, SR_POLICY_SOURCE_DENIED, NULL },
	{ "source inside the user's allow_from", "dan", NULL, "10.1.2.3", NOKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "v4-mapped source inside the user's allow_from", "dan", NULL, "::ffff:10.1.2.3", NOKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "source outside the project's allow_from", "kate", "p5", "10.0.0.5", NOKEY, T0 + DAY, SR_POLICY_SOURCE_DENIED, NULL },
	{ "source inside the project's allow_from", "kate", "p5", "192.168.0.7", NOKEY, T0 + DAY, SR_POLICY_ALLOW, "p5" },
	{ "unknown project", "alice", "nosuch", NULL, NOKEY, T0 + DAY, SR_POLICY_NO_PROJECT, NULL },
	{ "researcher in no project", "gina", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_NO_PROJECT, NULL },
	{ "not a member", "alice", "p2", NULL, NOKEY, T0 + DAY, SR_POLICY_NOT_MEMBER, NULL },
	{ "several active projects, none named", "multi", NULL, NULL, NOKEY, T0 + 40 * DAY, SR_POLICY_PROJECT_AMBIGUOUS, NULL },
	{ "several projects, one active", "multi", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_ALLOW, "p1" },
	{ "several projects, one named", "multi", "p2", NULL, NOKEY, T0 + 40 * DAY, SR_POLICY_ALLOW, "p2" },
	{ "staff without a project", "carol", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_ALLOW, "" },
	{ "no active grant at all", "judy", NULL, NULL, NOKEY, T0 + DAY, SR_POLICY_NO_GRANT, NULL },
	{ "two memberships, both over: the first's reason", "otto", NULL, NULL, NOKEY, T0 + 5 * DAY, SR_POLICY_MEMBER_EXPIRED, NULL },
	/* user expiry [.., T0+100d) */
	{ "user expiry: last second", "eve", NULL, NULL, NOKEY, T0 + 100 * DAY - 1, SR_POLICY_ALLOW, "p1" },
	{ "user expiry: first second after", "eve", NULL, NULL, NOKEY, T0 + 100 * DAY, SR_POLICY_USER_EXPIRED, NULL },
	/* membership [T0+10d, T0+20d) */
	{ "membership: before it starts", "frank", NULL, NULL, NOKEY, T0 + 10 * DAY - 1, SR_POLICY_MEMBER_NOT_STARTED, NULL },
	{ "membership: first second", "frank", NULL, NULL, NOKEY, T0 + 10 * DAY, SR_POLICY_ALLOW, "p1" },
	{ "membership: last second", "frank", "p1", NULL, NOKEY, T0 + 20 * DAY - 1, SR_POLICY_ALLOW, "p1" },
	{ "membership: first second after", "frank", "p1", NULL, NOKEY, T0 + 20 * DAY, SR_POLICY_MEMBER_EXPIRED, NULL },
	/* project p3 [T0+50d, T0+80d) */
	{ "project: before it starts", "ivan", NULL, NULL, NOKEY, T0 + 50 * DAY - 1, SR_POLICY_PROJECT_NOT_STARTED, NULL },
	{ "project: first second", "ivan", NULL, NULL, NOKEY, T0 + 50 * DAY, SR_POLICY_ALLOW, "p3" },
	{ "project: last second", "ivan", NULL, NULL, NOKEY, T0 + 80 * DAY - 1, SR_POLICY_ALLOW, "p3" },
	{ "project: first second after", "ivan", NULL, NULL, NOKEY, T0 + 80 * DAY, SR_POLICY_PROJECT_ENDED, NULL },
	{ "project p1: before it starts", "alice", NULL, NULL, NOKEY, T0 - 1, SR_POLICY_PROJECT_NOT_STARTED, NULL },
	{ "project p1: ended", "alice", NULL, NULL, NOKEY, T0 + 365 * DAY, SR_POLICY_PROJECT_ENDED, NULL },
	/* grant of d2 to p2 [T0+30d, T0+60d) */
	{ "grant: before it starts", "henry", NULL, NULL, NOKEY, T0 + 30 * DAY - 1, SR_POLICY_NO_GRANT, NULL },
	{ "grant: first second", "henry", NULL, NULL, NOKEY, T0 + 30 * DAY, SR_POLICY_ALLOW, "p2" },
	{ "grant: last second", "henry", NULL, NULL, NOKEY, T0 + 60 * DAY - 1, SR_POLICY_ALLOW, "p2" },
	{ "grant: first second after", "henry", NULL, NULL, NOKEY, T0 + 60 * DAY, SR_POLICY_NO_GRANT, NULL },
};

static void
run_cases(void)
{
	unsigned seen = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct decide_case *c = &cases[i];
		struct sr_policy_login req = {
			.user = c->user, .project = c->project, .source = c->source, .now = c->now,
			.key_fingerprint = c->key == GOODKEY ? key_fp :
					   c->key == OTHERKEY ? other_fp : NULL,
		};
		struct sr_policy_decision d;
		struct sr_error err = { { 0 } };

		must(sr_policy_login_check(pol, &req, &d, &err), c->desc, &err);
		is_str(sr_policy_reason_name(d.reason), sr_policy_reason_name(c->want), "%s",
		       c->desc);
		if (c->want_project != NULL)
			is_str(d.project, c->want_project, "%s: lands in the right project",
			       c->desc);
		if (d.reason != SR_POLICY_ALLOW)
			ok(d.message[0] != '\0' && strchr(d.message, '\n') == NULL,
			   "%s: one-line reason \"%s\"", c->desc, d.message);
		seen |= 1u << c->want;
	}
	/* Every reason a login can be refused for is covered above (TOTP below,
	 * GRANT_REVOKED only by recheck). */
	for (int r = SR_POLICY_NO_USER; r <= SR_POLICY_NO_GRANT; r++) {
		if (r != SR_POLICY_TOTP_INVALID)
			ok(seen & (1u << r), "the table covers %s",
			   sr_policy_reason_name((enum sr_policy_reason)r));
	}
}

/* A login's code is good once: its step, and every earlier one, are spent. */
static void
test_totp_once(const char *secret, size_t secretlen, int64_t now)
{
	struct sr_error err = { { 0 } };
	char code[16], later[16], earlier[16];
	int replayed = -1;

	oath_totp_generate(secret, secretlen, (time_t)now, 30, 0, 6, code);
	oath_totp_generate(secret, secretlen, (time_t)now + 30, 30, 0, 6, later);
	oath_totp_generate(secret, secretlen, (time_t)now - 30, 30, 0, 6, earlier);
	ok(sr_policy_totp_verify_once(pol, "alice", code, now, &replayed, &err) == 1 &&
	   replayed == 0, "verify_once accepts a fresh code");
	ok(sr_policy_totp_verify_once(pol, "alice", code, now + 10, &replayed, &err) == 0 &&
	   replayed == 1, "... and refuses the same code again, as a replay");
	ok(sr_policy_totp_verify_once(pol, "alice", earlier, now, &replayed, &err) == 0 &&
	   replayed == 1, "a code of the step before, still in the window, is refused too");
	ok(sr_policy_totp_verify(pol, "alice", code, now, &err) == 1,
	   "sr_policy_totp_verify (user check) still says the code is right: it spends nothing");
	ok(sr_policy_totp_verify_once(pol, "alice", "000000", now, &replayed, &err) == 0 &&
	   replayed == 0, "a wrong code is refused, not as a replay");
	ok(sr_policy_totp_verify_once(pol, "alice", later, now, &replayed, &err) == 1,
	   "the next step's code is accepted once");
	ok(sr_policy_totp_verify_once(pol, "alice", later, now + 30, &replayed, &err) == 0 &&
	   replayed == 1, "... and only once");
	ok(sr_policy_totp_verify_once(pol, "nobody", code, now, &replayed, &err) == 0,
	   "an unknown user's code is refused");
}

/* TOTP: the seed in the URI gives codes that the decision accepts. */
static void
test_totp(void)
{
	struct sr_policy_login req = { .user = "alice", .now = T0 + DAY };
	struct sr_policy_decision d;
	struct sr_error err = { { 0 } };
	char *uri = NULL, *secret = NULL, code[16], *b32, *amp;
	size_t secretlen = 0;

	must(sr_policy_user_totp_enable(pol, "alice", &uri, &err), "totp", &err);
	ok(strncmp(uri, "otpauth://totp/saferoom:alice?secret=", 37) == 0, "otpauth URI: %s",
	   "otpauth://totp/saferoom:alice?secret=...");
	ok(strstr(uri, "issuer=saferoom") && strstr(uri, "algorithm=SHA1") &&
	   strstr(uri, "digits=6") && strstr(uri, "period=30"), "URI names issuer, SHA1, 6, 30");
	b32 = strstr(uri, "secret=") + 7;
	amp = strchr(b32, '&');
	oath_init();
	ok(oath_base32_decode(b32, (size_t)(amp - b32), &secret, &secretlen) == OATH_OK &&
	   secretlen == 20, "the seed is 160 bits");
	oath_totp_generate(secret, secretlen, (time_t)req.now, 30, 0, 6, code);
	req.totp_code = code;
	must(sr_policy_login_check(pol, &req, &d, &err), "check", &err);
	is_str(sr_policy_reason_name(d.reason), "allow", "a code from the seed is accepted");
	ok(d.totp_required, "the decision says TOTP is required");
	oath_totp_generate(secret, secretlen, (time_t)req.now + 300, 30, 0, 6, code);
	must(sr_policy_login_check(pol, &req, &d, &err), "check", &err);
	is_str(sr_policy_reason_name(d.reason), "totp-invalid", "a code of 5 minutes later is refused");
	req.totp_code = "12345x";
	must(sr_policy_login_check(pol, &req, &d, &err), "check", &err);
	is_str(sr_policy_reason_name(d.reason), "totp-invalid", "a malformed code is refused");
	test_totp_once(secret, secretlen, req.now);
	must(sr_policy_user_totp_disable(pol, "alice", &err), "totp off", &err);
	req.totp_code = NULL;
	must(sr_policy_login_check(pol, &req, &d, &err), "check", &err);
	ok(!d.totp_required, "after disable TOTP is no longer required");
	explicit_bzero(secret, secretlen);
	free(secret);
	oath_done();
	sr_policy_secret_free(uri);
}

static void
test_spec_and_recheck(void)
{
	struct sr_policy_login req = { .user = "alice", .project = "p1", .now = T0 + DAY };
	struct sr_policy_decision d;
	struct sr_policy_spec *s;
	struct sr_error err = { { 0 } };
	char want[400];

	s = sr_policy_spec_new(pol, "alice", NULL, T0 + DAY, &err);
	ok(s != NULL, "spec for alice: %s", s ? "built" : sr_error_msg(&err));
	if (s == NULL)
		return;
	is_str(s->project, "p1", "spec: project");
	snprintf(want, sizeof(want), "%s/workspaces/p1", state);
	is_str(s->workspace, want, "spec: workspace under state_dir");
	is_str(s->home, "home/alice", "spec: home inside the workspace");
	ok(s->uid >= 60000 && s->gid >= 60000, "spec: uid %ld gid %ld from the ranges", s->uid,
	   s->gid);
	is_int(s->n_datasets, 2, "spec: two datasets granted");
	if (s->n_datasets == 2) {
		is_str(s->datasets[0].name, "d1", "spec: d1 first");
		snprintf(want, sizeof(want), "%s/data/d3", dir);
		is_str(s->datasets[1].path, want, "spec: d3's resolved path");
	}
	is_int(s->limits.memory, INT64_C(2) << 30, "spec: project memory override");
	is_int(s->limits.pids, 0, "spec: pids left to the default");

	must(sr_policy_recheck(pol, &req, s, &d, &err), "recheck", &err);
	is_str(sr_policy_reason_name(d.reason), "allow", "recheck: still allowed");
	must(sr_policy_project_revoke(pol, "p1", "d3", &err), "revoke", &err);
	must(sr_policy_recheck(pol, &req, s, &d, &err), "recheck", &err);
	is_str(sr_policy_reason_name(d.reason), "grant-revoked",
	       "recheck: a revoked grant of the session's dataset ends it");
	must(sr_policy_login_check(pol, &req, &d, &err), "check", &err);
	is_str(sr_policy_reason_name(d.reason), "allow", "a new login still gets the rest");
	req.now = T0 + 365 * DAY;
	must(sr_policy_recheck(pol, &req, s, &d, &err), "recheck", &err);
	is_str(sr_policy_reason_name(d.reason), "project-ended", "recheck: project expiry");
	req.now = T0 + DAY;
	must(sr_policy_user_lock(pol, "alice", 1, &err), "lock", &err);
	must(sr_policy_recheck(pol, &req, s, &d, &err), "recheck", &err);
	is_str(sr_policy_reason_name(d.reason), "user-locked", "recheck: lock ends the session");
	must(sr_policy_user_lock(pol, "alice", 0, &err), "unlock", &err);
	sr_policy_spec_free(s);

	s = sr_policy_spec_new(pol, "carol", NULL, T0 + DAY, &err);
	ok(s == NULL && strstr(err.msg, "no project"), "no spec for staff: %s", err.msg);
	s = sr_policy_spec_new(pol, "bob", "p1", T0 + DAY, &err);
	ok(s == NULL && strstr(err.msg, "locked"), "no spec for a refused login: %s", err.msg);
}

/* The row hash: one normalisation for the index and the export checks. */
static void
test_rows(void)
{
	unsigned char a[SR_POLICY_ROW_HASH_LEN], b[SR_POLICY_ROW_HASH_LEN];
	unsigned char c[SR_POLICY_ROW_HASH_LEN];
	struct sr_error err = { { 0 } };
	char name[80] = "";

	ok(sr_policy_row_hash("1,kim\n", 6, a) == 0 && sr_policy_row_hash("1,kim\r\n", 7, b) == 0 &&
	   sr_policy_row_hash("1,kim", 5, c) == 0 && memcmp(a, b, sizeof(a)) == 0 &&
	   memcmp(a, c, sizeof(a)) == 0, "\\n, \\r\\n and no newline hash alike");
	/* SHA-256("1,kim") begins 9f74a982e4bff1d9 */
	ok(a[0] == 0x9f && a[1] == 0x74 && a[2] == 0xa9 && a[7] == 0xd9,
	   "the row hash is a prefix of SHA-256 of the line");
	ok(sr_policy_row_hash("1,kim ", 6, b) == 0 && memcmp(a, b, sizeof(a)) != 0,
	   "other bytes, other hash");
	ok(sr_policy_row_hash("\r\n", 2, b) < 0, "an empty line has no hash");
	is_int(sr_policy_row_find(pol, "p1", a, name, sizeof(name), &err), 1,
	       "a data row of a granted dataset is found");
	is_str(name, "d1", "... in d1");
	sr_policy_row_hash("id,name", 7, b);
	is_int(sr_policy_row_find(pol, "p1", b, NULL, 0, &err), 0, "the CSV header is not indexed");
	is_int(sr_policy_row_find(pol, "p4", a, NULL, 0, &err), 0,
	       "a row of a dataset the project was not granted is not its");
}

/* uids are never handed out twice, even after the user row is gone. */
static void
test_ids_not_reused(void)
{
	struct sr_error err = { { 0 } };
	char path[400];
	sqlite3 *db;
	unsigned roles;
	struct json_object *o;
	long before, after;

	o = sr_policy_user_show(pol, "otto", &err);
	before = o ? (long)json_object_get_int64(json_object_object_get(o, "uid")) : -1;
	json_object_put(o);
	snprintf(path, sizeof(path), "%s/policy.db", state);
	ok(sqlite3_open(path, &db) == SQLITE_OK &&
	   sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM users WHERE name = 'otto'",
			NULL, NULL, NULL) == SQLITE_OK, "otto deleted behind policy's back");
	sqlite3_close(db);
	add_user("newbie", SR_POLICY_RESEARCHER, NULL, 0);
	o = sr_policy_user_show(pol, "newbie", &err);
	after = o ? (long)json_object_get_int64(json_object_object_get(o, "uid")) : -1;
	json_object_put(o);
	ok(after > before && before > 0, "the next uid (%ld) is not the deleted one's (%ld)", after,
	   before);
	ok(sr_policy_user_roles(pol, "otto", &roles, &err) < 0 && strstr(err.msg, "unknown user"),
	   "otto is gone");
}

/* One event per change, none for a failed one; no change without its event. */
static void
test_audit(void)
{
	struct sr_policy_actor actor = { .user = "other-admin", .source = "local" };
	struct sr_policy *second;
	struct sr_error err = { { 0 } };
	struct sr_policy_user_spec u = { .name = "alice", .roles = SR_POLICY_RESEARCHER };
	int64_t n = count_events();
	int rc;

	ok(n > 40, "every change of the fixture was audited (%lld events)", (long long)n);
	rc = sr_policy_user_add(pol, &u, &err);
	ok(rc < 0 && strstr(err.msg, "already exists"), "duplicate refused: %s", err.msg);
	is_int(count_events(), n, "a failed change emits no event");
	must(sr_policy_user_lock(pol, "carol", 1, &err), "lock", &err);
	is_int(count_events(), n + 1, "a change emits exactly one event");

	/* This process is the audit writer (local fallback) and holds its lock; a
	 * second handle cannot reach any writer, so its change must not happen. */
	second = sr_policy_open(state, &actor, &err);
	ok(second != NULL, "a second handle opens");
	u.name = "mallory";
	rc = second ? sr_policy_user_add(second, &u, &err) : -1;
	ok(rc < 0, "a change whose event cannot be written fails: %s", err.msg);
	sr_policy_free(second);
	ok(sr_policy_user_roles(pol, "mallory", (unsigned[]){ 0 }, &err) < 0,
	   "... and was not made");
	second = sr_policy_open(state, NULL, &err);
	rc = second ? sr_policy_user_lock(second, "carol", 0, &err) : 0;
	ok(rc < 0 && strstr(err.msg, "may not change"), "a read-only handle changes nothing");
	sr_policy_free(second);
}

int
main(void)
{
	struct sr_policy_actor actor = { .user = "tester", .source = "local" };
	struct sr_error err = { { 0 } };

	dir = tap_tmpdir("policy");
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	must(sr_policy_init_db(state, &err), "init", &err);
	pol = sr_policy_open(state, &actor, &err);
	must(pol ? 0 : -1, "open", &err);
	populate();
	run_cases();
	test_totp();
	test_spec_and_recheck();
	test_rows();
	test_ids_not_reused();
	test_audit();
	sr_policy_free(pol);
	tap_rm_rf(dir);
	return done_testing();
}
