/*
 * test_export_request.c — the export state machine and the export verbs as
 * each role calls them: stewards approve and reject (a reason required),
 * the requester can never approve their own request even holding the
 * steward role (nor behind the code's back: the schema refuses it), two
 * stewards when export_approvals is 2, withdrawal, fetch only by the
 * requester and only once approved, the fetched bytes are the reviewed ones
 * even after the workspace file changed, a quarantined copy altered on disk
 * is refused, a failed check blocks approval, and every step is an audit
 * event carrying the file's hash.
 */
#include "config.h"

#include <sqlite3.h>

#include "export_fixture.h"

static struct fx x;

static const char clean[] = "stage,n\nI,120\nII,98\n";
static const char small[] = "stage,n\nI,120\nII,3\n";

#define VERB(actor, roles, c, ...) do {						\
		char *argv_[] = { "export", __VA_ARGS__, NULL };		\
		fx_verb(&x, actor, roles, 0, c, (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_); \
	} while (0)

static int
vote_as(const char *user, int64_t id, enum sr_export_vote v, const char *note, char *state,
	struct sr_error *err)
{
	struct sr_policy *p = fx_open(&x, user);
	int rc = p != NULL ? sr_export_vote(p, id, v, note, state, err) : -1;

	sr_policy_free(p);
	return rc;
}

static int
withdraw_as(const char *user, int64_t id, struct sr_error *err)
{
	struct sr_policy *p = fx_open(&x, user);
	int rc = p != NULL ? sr_export_withdraw(p, id, err) : -1;

	sr_policy_free(p);
	return rc;
}

static char *
sha_of(int64_t id)
{
	static char sha[80];
	struct sr_policy *p = fx_open(&x, "olga");
	struct json_object *o = sr_export_show(p, id, NULL), *v;

	snprintf(sha, sizeof(sha), "\"sha256\":\"%s\"",
		 o != NULL && json_object_object_get_ex(o, "sha256", &v) ? json_object_get_string(v)
									  : "?");
	json_object_put(o);
	sr_policy_free(p);
	return sha;
}

static char *
idstr(int64_t id)
{
	static char buf[4][24];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%lld", (long long)id);
	return buf[k];
}

static void
test_flow(void)
{
	struct captured c = { 0 };
	struct sr_error err = { { 0 } };
	int64_t id = fx_submit(&x, "alice", "t1.csv", clean);
	char *sha = sha_of(id);

	ok(id > 0, "alice submits a clean table");
	is_str(fx_state(&x, id), "in_review", "the checks ran: in_review");
	ok(vote_as("bob", id, SR_EXPORT_APPROVE, NULL, NULL, &err) < 0 &&
	   strstr(err.msg, "only a steward") != NULL, "a researcher cannot approve");
	ok(vote_as("alice", id, SR_EXPORT_APPROVE, NULL, NULL, &err) < 0 &&
	   strstr(err.msg, "you submitted it") != NULL, "nor can the requester");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "approve", idstr(id));
	is_int(c.rc, SR_VERB_DENIED, "the approve verb denies a researcher");
	VERB("olga", SR_ROLE_AUDITOR, &c, "list");
	is_int(c.rc, SR_VERB_DENIED, "an auditor has no export verbs");
	VERB("carol", SR_ROLE_STEWARD, &c, "approve", idstr(id), "--note", "집계표, 문제 없음");
	is_int(c.rc, SR_VERB_OK, "carol approves");
	ok(c.out != NULL && strstr(c.out, "approved") != NULL, "and is told: %s", c.out);
	is_str(fx_state(&x, id), "approved", "approved with one steward (export_approvals 1)");
	VERB("bob", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_DENIED, "another researcher cannot fetch it");
	is_int(c.out_len, 0, "and gets not a byte");
	VERB("carol", SR_ROLE_STEWARD, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_DENIED, "nor can the steward");
	fx_verb(&x, "alice", SR_ROLE_RESEARCHER, 1, &c, 3, (char *[]){ "export", "fetch",
								    idstr(id), NULL });
	is_int(c.rc, SR_VERB_USAGE, "fetch refuses to write a file to a terminal");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_OK, "alice fetches it");
	ok(c.out_len == strlen(clean) && memcmp(c.out, clean, c.out_len) == 0,
	   "the bytes she submitted");
	is_str(fx_state(&x, id), "released", "the request is released");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	ok(c.rc == SR_VERB_OK && c.out_len == strlen(clean), "a released request can be fetched "
	   "again");
	is_int(fx_events(&x, "export.submit", sha), 1, "export.submit with the file's hash");
	is_int(fx_events(&x, "export.check", sha), 1, "export.check with it");
	is_int(fx_events(&x, "export.approve", sha), 1, "export.approve with it");
	is_int(fx_events(&x, "export.fetch", sha), 2, "export.fetch, each time, with it");
	is_int(fx_events(&x, "export.refused", "\"op\":\"fetch\""), 1,
	       "bob's refused fetch is audited (carol's never reached the request)");
	free(c.out);
	free(c.err);
}

static void
test_own_request(void)
{
	struct captured c = { 0 };
	struct sr_error err = { { 0 } };
	int64_t id = fx_submit(&x, "erin", "erin.csv", clean);
	char sql[256], *msg = NULL;
	char db[600];
	sqlite3 *h;
	int rc;

	ok(id > 0, "erin, steward and researcher, submits");
	VERB("erin", SR_ROLE_STEWARD | SR_ROLE_RESEARCHER, &c, "approve", idstr(id));
	is_int(c.rc, SR_VERB_DENIED, "erin cannot approve her own request");
	ok(c.err != NULL && strstr(c.err, "you submitted it") != NULL, "saying why: %s", c.err);
	ok(vote_as("erin", id, SR_EXPORT_REJECT, "no", NULL, &err) < 0, "nor reject it");
	is_str(fx_state(&x, id), "in_review", "it is still in review");
	ok(fx_events(&x, "export.refused", "\"op\":\"approve\"") >= 1, "the attempt is audited");
	snprintf(db, sizeof(db), "%s/policy.db", x.state);
	snprintf(sql, sizeof(sql), "INSERT INTO export_reviews VALUES (%lld, 'erin', 'approve', "
		 "NULL, 1)", (long long)id);
	rc = sqlite3_open(db, &h) == SQLITE_OK ? sqlite3_exec(h, sql, NULL, NULL, &msg) : SQLITE_OK;
	ok(rc != SQLITE_OK && msg != NULL && strstr(msg, "requester") != NULL,
	   "policy.db itself refuses it: %s", msg != NULL ? msg : "-");
	sqlite3_free(msg);
	msg = NULL;
	rc = sqlite3_exec(h, "UPDATE export_requests SET sha256 = printf('%064d', 0)", NULL, NULL,
			  &msg);
	ok(rc != SQLITE_OK && msg != NULL && strstr(msg, "never changes") != NULL,
	   "and any change to what was submitted: %s", msg != NULL ? msg : "-");
	sqlite3_free(msg);
	sqlite3_close(h);
	VERB("carol", SR_ROLE_STEWARD, &c, "approve", idstr(id));
	is_int(c.rc, SR_VERB_OK, "another steward approves it");
	free(c.out);
	free(c.err);
}

static void
test_two_stewards(void)
{
	struct captured c = { 0 };
	struct sr_error err = { { 0 } };
	char state[16];
	int64_t id;

	x.lim.approvals = 2;
	id = fx_submit(&x, "alice", "t2.csv", clean);
	x.lim.approvals = 1;
	ok(vote_as("carol", id, SR_EXPORT_APPROVE, NULL, state, &err) == 0 &&
	   strcmp(state, "in_review") == 0, "export_approvals 2: one approval leaves it in review");
	ok(vote_as("carol", id, SR_EXPORT_APPROVE, NULL, NULL, &err) < 0 &&
	   strstr(err.msg, "already") != NULL, "the same steward cannot approve twice: %s", err.msg);
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_FAIL, "it cannot be fetched with one approval");
	VERB("dave", SR_ROLE_STEWARD, &c, "approve", idstr(id));
	is_int(c.rc, SR_VERB_OK, "a second steward approves");
	is_str(fx_state(&x, id), "approved", "two distinct stewards: approved");
	free(c.out);
	free(c.err);
}

static void
test_reject(void)
{
	struct captured c = { 0 };
	struct sr_error err = { { 0 } };
	int64_t id = fx_submit(&x, "alice", "t3.csv", small);

	is_str(fx_state(&x, id), "in_review", "a table with a small cell is in review");
	VERB("carol", SR_ROLE_STEWARD, &c, "approve", idstr(id));
	is_int(c.rc, SR_VERB_FAIL, "a failed check blocks approval");
	ok(c.err != NULL && strstr(c.err, "failed an automatic check") != NULL, "saying so");
	VERB("carol", SR_ROLE_STEWARD, &c, "reject", idstr(id));
	is_int(c.rc, SR_VERB_USAGE, "reject without --reason is a usage error");
	ok(vote_as("carol", id, SR_EXPORT_REJECT, "   ", NULL, &err) < 0 &&
	   strstr(err.msg, "required") != NULL, "a blank reason is no reason: %s", err.msg);
	ok(vote_as("carol", id, SR_EXPORT_REJECT, "line\nbreak", NULL, &err) < 0,
	   "a reason is one line");
	VERB("carol", SR_ROLE_STEWARD, &c, "reject", idstr(id), "--reason", "II기 3명: 억제 필요");
	is_int(c.rc, SR_VERB_OK, "reject with a Korean reason");
	is_str(fx_state(&x, id), "rejected", "rejected");
	ok(vote_as("dave", id, SR_EXPORT_APPROVE, NULL, NULL, &err) < 0, "a rejected request "
	   "cannot be approved later");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_FAIL, "nor fetched");
	is_int(fx_events(&x, "export.reject", "억제 필요"), 1, "export.reject carries the reason");
	free(c.out);
	free(c.err);
}

static void
test_withdraw(void)
{
	struct sr_error err = { { 0 } };
	int64_t id = fx_submit(&x, "alice", "t4.csv", clean);

	ok(withdraw_as("bob", id, &err) < 0 && strstr(err.msg, "not yours") != NULL,
	   "bob cannot withdraw alice's request: %s", err.msg);
	ok(withdraw_as("alice", id, &err) == 0, "alice withdraws it");
	is_str(fx_state(&x, id), "withdrawn", "withdrawn");
	ok(vote_as("carol", id, SR_EXPORT_APPROVE, NULL, NULL, &err) < 0,
	   "a withdrawn request cannot be approved");
	ok(withdraw_as("alice", id, &err) < 0, "nor withdrawn twice");
	is_int(fx_events(&x, "export.withdraw", sha_of(id)), 1, "export.withdraw with the hash");
	id = fx_submit(&x, "alice", "t5.csv", clean);
	vote_as("carol", id, SR_EXPORT_APPROVE, NULL, NULL, &err);
	ok(withdraw_as("alice", id, &err) < 0, "an approved request cannot be withdrawn");
}

static void
test_snapshot(void)
{
	struct captured c = { 0 };
	char path[600];
	int64_t id = fx_submit(&x, "alice", "t6.csv", clean);

	snprintf(path, sizeof(path), "%s/t6.csv", x.ws);
	fx_write(path, small, strlen(small));
	VERB("carol", SR_ROLE_STEWARD, &c, "approve", idstr(id));
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	ok(c.rc == SR_VERB_OK && c.out_len == strlen(clean) && memcmp(c.out, clean, c.out_len) == 0,
	   "the workspace file changed after submitting: the submitted bytes are fetched");
	free(c.out);
	free(c.err);
}

/* Finds the quarantine file of request ID and changes one byte of it. */
static int
tamper(int64_t id)
{
	char db[600], path[800], name[128] = "";
	sqlite3_stmt *st;
	sqlite3 *h;
	FILE *f;

	snprintf(db, sizeof(db), "%s/policy.db", x.state);
	if (sqlite3_open(db, &h) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT quarantine FROM export_requests WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(name, sizeof(name), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
	snprintf(path, sizeof(path), "%s/quarantine/%s", x.state, name);
	if (chmod(path, 0600) < 0 || (f = fopen(path, "r+")) == NULL)
		return -1;
	fputc('X', f);
	fclose(f);
	return 0;
}

static void
test_tamper(void)
{
	struct captured c = { 0 };
	int64_t id = fx_submit(&x, "alice", "t7.csv", clean);

	VERB("carol", SR_ROLE_STEWARD, &c, "approve", idstr(id));
	ok(tamper(id) == 0, "the quarantined copy is altered on disk");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "fetch", idstr(id));
	is_int(c.rc, SR_VERB_FAIL, "fetch refuses it");
	is_int(c.out_len, 0, "and writes nothing");
	ok(c.err != NULL && strstr(c.err, "does not match the reviewed SHA-256") != NULL,
	   "because it is not what was reviewed: %s", c.err);
	is_str(fx_state(&x, id), "approved", "the request is not released");
	ok(fx_events(&x, "export.refused", "does not match") == 1, "the refusal is audited");
	free(c.out);
	free(c.err);
}

/* N lines "TAG I"; the buffer is reused by the next call. */
static const char *
many_lines(int n, char tag)
{
	static char buf[64 * 1024];
	size_t off = 0;

	for (int i = 0; i < n && off + 32 < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%c %d\n", tag, i);
	return buf;
}

static void
test_views(void)
{
	struct captured c = { 0 };
	int64_t bobs = fx_submit(&x, "bob", "bob.csv", clean);
	int64_t id = fx_submit(&x, "alice", "t8.csv", small), id2;

	VERB("alice", SR_ROLE_RESEARCHER, &c, "list");
	ok(c.rc == SR_VERB_OK && strstr(c.out, "t8.csv") != NULL && strstr(c.out, "bob.csv") == NULL,
	   "a researcher's list shows her requests, not bob's");
	VERB("alice", SR_ROLE_RESEARCHER, &c, "show", idstr(id));
	is_int(c.rc, SR_VERB_DENIED, "a researcher cannot show requests");
	VERB("carol", SR_ROLE_STEWARD, &c, "list", "--state", "released");
	ok(c.rc == SR_VERB_OK && strstr(c.out, "bob.csv") == NULL && strstr(c.out, "t1.csv"),
	   "a steward's list filtered by state");
	VERB("carol", SR_ROLE_STEWARD, &c, "list", "--state", "bogus");
	is_int(c.rc, SR_VERB_FAIL, "an unknown state is an error");
	VERB("carol", SR_ROLE_STEWARD, &c, "show", idstr(id));
	ok(c.rc == SR_VERB_OK && strstr(c.out, "II,[[3]]") != NULL, "show marks the small cell "
	   "[[3]] in plain output");
	ok(strstr(c.out, "for the paper, 표 1") != NULL, "and shows the reason, Korean intact");
	fx_verb(&x, "carol", SR_ROLE_STEWARD, 1, &c, 3, (char *[]){ "export", "show", idstr(id),
								    NULL });
	ok(c.rc == SR_VERB_OK && strstr(c.out, "II,\033[1;31m3\033[0m") != NULL,
	   "and in red on a terminal");
	VERB("carol", SR_ROLE_STEWARD, &c, "show", idstr(id), "--json");
	ok(c.rc == SR_VERB_OK && strstr(c.out, "\"locations\":[{\"line\":3") != NULL,
	   "show --json has the locations");
	id2 = fx_submit(&x, "alice", "t8.csv", "stage,n\nI,120\nII,<10\n");
	VERB("carol", SR_ROLE_STEWARD, &c, "diff", idstr(id2));
	ok(c.rc == SR_VERB_OK && strstr(c.out, "\n-II,3\n+II,<10\n") != NULL &&
	   strstr(c.out, "@@ -1,3 +1,3 @@") != NULL, "diff against the earlier t8.csv");
	VERB("carol", SR_ROLE_STEWARD, &c, "diff", idstr(bobs));
	ok(c.rc == SR_VERB_OK && strstr(c.out, "no earlier submission") != NULL,
	   "a first submission has nothing to diff against");
	ok(fx_submit(&x, "alice", "wide.txt", many_lines(2500, 'a')) > 0 &&
	   (id2 = fx_submit(&x, "alice", "wide.txt", many_lines(2500, 'b'))) > 0,
	   "a text of 2500 lines, then all of them changed");
	VERB("carol", SR_ROLE_STEWARD, &c, "diff", idstr(id2));
	ok(c.rc == SR_VERB_OK && strstr(c.out, "too many lines for a line diff") != NULL,
	   "diff is bounded: it says so instead (%d edits at most)", SR_EXPORT_DIFF_MAX_EDITS);
	VERB("carol", SR_ROLE_STEWARD, &c, "show", "99999");
	is_int(c.rc, SR_VERB_FAIL, "an unknown request is an error");
	VERB("carol", SR_ROLE_STEWARD, &c, "show", "12abc");
	is_int(c.rc, SR_VERB_USAGE, "a malformed id is a usage error");
	free(c.out);
	free(c.err);
}

static void
test_preview_escapes(void)
{
	static const char nasty[] = "이름,n\n\"\033]52;c;ZXZpbA==\007\",12\n한글 셀,\xe2\x80\xae" "40\n";
	struct captured c = { 0 };
	int64_t id = fx_submit(&x, "alice", "nasty.csv", nasty);

	VERB("carol", SR_ROLE_STEWARD, &c, "show", idstr(id));
	ok(c.rc == SR_VERB_OK && memchr(c.out, '\033', c.out_len) == NULL &&
	   memchr(c.out, '\007', c.out_len) == NULL, "no raw escape reaches the steward");
	ok(strstr(c.out, "[[\\x1b]]]52;c;ZXZpbA==\\x07") != NULL,
	   "it is shown escaped, and marked where the filetype check found it");
	ok(strstr(c.out, "\\u202e40") != NULL, "so is a right-to-left override");
	ok(strstr(c.out, "한글 셀") != NULL, "Korean text is intact");
	free(c.out);
	free(c.err);
}

static void
test_banner(void)
{
	struct sr_policy *p = fx_open(&x, "alice");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ok(sr_export_banner(p, "alice", 1, out, 1, NULL) == 0, "the login banner");
	fclose(out);
	ok(text != NULL && strstr(text, "approved: fetch it with `export fetch") != NULL &&
	   strstr(text, "\r\n") != NULL, "lists alice's decisions");
	ok(strstr(text, "rejected") != NULL, "the rejection too");
	free(text);
	sr_policy_free(p);
}

int
main(void)
{
	if (fx_setup(&x, "export-request") < 0) {
		printf("Bail out! fixture\n");
		fx_teardown(&x);
		return 1;
	}
	test_flow();
	test_own_request();
	test_two_stewards();
	test_reject();
	test_withdraw();
	test_snapshot();
	test_tamper();
	test_views();
	test_preview_escapes();
	test_banner();
	fx_teardown(&x);
	return done_testing();
}
