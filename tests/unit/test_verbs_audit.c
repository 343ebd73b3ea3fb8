/*
 * test_verbs_audit.c — the `audit` verb group as the SSH side calls it: with
 * a caller's roles rather than saferoomctl's admin.  Only admins and auditors
 * may read the trail; a researcher or steward gets SR_VERB_DENIED and not a
 * byte of it.  And text from the network (a login name tried at auth.fail)
 * reaches the auditor's terminal with its control characters escaped.  Only
 * an admin may prune it.
 *
 * The rest of the verbs' behaviour is tested through the real saferoomctl
 * in tests/cli/audit_query.sh and audit_verify.sh.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "saferoom/audit.h"
#include "saferoom/config.h"
#include "saferoom/verbs.h"
#include "tap.h"

static char *dir;

struct captured {
	char *out, *err;
	size_t out_len, err_len;
	int rc;
};

/* Runs `audit ARGS...` as an actor holding ROLES; captures both streams. */
static void
run(unsigned roles, struct captured *c, int argc, char **argv)
{
	struct sr_config cfg = { .state_dir = dir, .audit_retention_days = 730 };
	struct sr_verb_ctx ctx = {
		.prog = "test", .cfg = &cfg, .actor = "dave", .roles = roles, .source = "test",
	};

	free(c->out);
	free(c->err);
	ctx.out = open_memstream(&c->out, &c->out_len);
	ctx.err = open_memstream(&c->err, &c->err_len);
	c->rc = sr_verb_audit(&ctx, argc, argv);
	fclose(ctx.out);
	fclose(ctx.err);
}

static void
fill(void)
{
	struct sr_error err = { "" };
	struct sr_audit_store *s = sr_audit_store_open(dir, SR_AUDIT_WRITE, 0, &err);
	struct sr_audit_event ev[2] = {
		{ .type = "auth.ok", .user = "alice", .source = "10.0.0.1" },
		/* A login name an attacker typed: an OSC 52 clipboard write, a C1 CSI, a bell. */
		{ .type = "auth.fail", .user = "x\033]52;c;ZXZpbA==\007y\xc2\x9b" "2J",
		  .source = "203.0.113.9" },
	};

	if (s == NULL || sr_audit_store_append(s, ev, 2, &err) < 0)
		diag("fill: %s", err.msg);
	sr_audit_store_free(s);
}

static void
test_roles(void)
{
	char *events[] = { "audit", "events", NULL };
	char *verify[] = { "audit", "verify", NULL };
	struct captured c = { 0 };

	run(SR_ROLE_RESEARCHER, &c, 2, events);
	is_int(c.rc, SR_VERB_DENIED, "a researcher is denied audit events");
	is_int(c.out_len, 0, "and sees nothing of the trail");
	ok(c.err_len > 0 && strchr(c.err, '\n') == c.err + c.err_len - 1, "one line says why");
	run(SR_ROLE_STEWARD | SR_ROLE_RESEARCHER, &c, 2, verify);
	is_int(c.rc, SR_VERB_DENIED, "a steward is denied audit verify");
	is_int(c.out_len, 0, "and sees nothing");
	run(SR_ROLE_AUDITOR, &c, 2, events);
	is_int(c.rc, SR_VERB_OK, "an auditor may list events");
	ok(c.out != NULL && strstr(c.out, "auth.ok") != NULL, "and sees them");
	run(SR_ROLE_ADMIN, &c, 2, verify);
	is_int(c.rc, SR_VERB_OK, "an admin may verify");
	ok(c.out != NULL && strcmp(c.out, "audit trail intact: 2 events, head seq 2\n") == 0,
	   "intact: 2 events, head seq 2");
	run(SR_ROLE_RESEARCHER, &c, 1, events);
	is_int(c.rc, SR_VERB_DENIED, "the role check comes before argument checks");
	free(c.out);
	free(c.err);
}

/* Removing events is an admin's decision; an auditor only reads. */
static void
test_prune_roles(void)
{
	char *prune[] = { "audit", "prune", NULL };
	char *dry[] = { "audit", "prune", "--dry-run", NULL };
	char *verify[] = { "audit", "verify", NULL };
	struct captured c = { 0 };

	run(SR_ROLE_AUDITOR, &c, 2, prune);
	is_int(c.rc, SR_VERB_DENIED, "an auditor is denied audit prune");
	is_int(c.out_len, 0, "and nothing is printed");
	run(SR_ROLE_AUDITOR, &c, 3, dry);
	is_int(c.rc, SR_VERB_DENIED, "even with --dry-run");
	run(SR_ROLE_RESEARCHER | SR_ROLE_STEWARD, &c, 2, prune);
	is_int(c.rc, SR_VERB_DENIED, "a steward is denied audit prune");
	run(SR_ROLE_ADMIN, &c, 2, verify);
	ok(c.rc == SR_VERB_OK && strcmp(c.out, "audit trail intact: 2 events, head seq 2\n") == 0,
	   "the trail is untouched");
	run(SR_ROLE_ADMIN, &c, 3, dry);
	ok(c.rc == SR_VERB_OK && strstr(c.out, "would remove 0 events") != NULL,
	   "an admin's --dry-run: nothing is old enough");
	free(c.out);
	free(c.err);
}

static void
test_escaping(void)
{
	char *events[] = { "audit", "events", "--type", "auth.fail", NULL };
	struct captured c = { 0 };

	run(SR_ROLE_AUDITOR, &c, 4, events);
	is_int(c.rc, SR_VERB_OK, "list the auth.fail event");
	ok(c.out != NULL && memchr(c.out, '\033', c.out_len) == NULL, "no raw ESC reaches the terminal");
	ok(c.out != NULL && memchr(c.out, '\007', c.out_len) == NULL, "no raw BEL either");
	ok(c.out != NULL && strstr(c.out, "\xc2\x9b") == NULL, "nor a UTF-8 C1 CSI");
	ok(c.out != NULL && strstr(c.out, "x\\x1b]52;c;ZXZpbA==\\x07y\\u009b2J") != NULL,
	   "they are shown escaped");
	free(c.out);
	free(c.err);
}

int
main(void)
{
	dir = tap_tmpdir("verbs-audit");
	fill();
	test_roles();
	test_prune_roles();
	test_escaping();
	tap_rm_rf(dir);
	return done_testing();
}
