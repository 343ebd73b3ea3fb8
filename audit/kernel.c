/*
 * kernel.c — the bridge to the kernel audit subsystem (libaudit), so that
 * `ausearch` finds saferoom's logins, sessions, commands and chain seals next
 * to sshd's and sudo's, in a log that root on the gateway cannot quietly edit
 * without the kernel's own records showing it.
 *
 * Every record goes through audit_log_user_message(), one return convention
 * to get right.  libaudit returns the netlink sequence number (> 0) when the
 * kernel took the record, a negative errno when it did not, and 0 when the
 * kernel answered ECONNREFUSED: that is the kernel refusing audit to this
 * process (a non-initial user namespace), which libaudit deliberately reports
 * as "audit not available".  We treat 0 like a kernel without audit support:
 * noted once on stderr, the handle switched off, the call a success.  A
 * missing auditd is not an error at all: the kernel then hands the record to
 * printk, and the send still returns > 0.
 *
 * Values a user controls (names, commands, session ids) are written with
 * audit_encode_nv_string(), which quotes or hex-encodes them so that no one
 * can forge a field by choosing a clever user name.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libaudit.h>

#include "saferoom/audit.h"

struct sr_kaudit {
	int fd;        /* -1 when disabled */
	int daemon;             /* an audit daemon was registered at the last look */
	int64_t daemon_seen_ms; /* when that was (CLOCK_MONOTONIC); 0: never looked */
};

static void
note_disabled(const char *why)
{
	static int noted;

	if (noted++)
		return;
	fprintf(stderr, "saferoom: kernel audit unavailable (%s); records go to audit.db only\n",
		why);
}

struct sr_kaudit *
sr_kaudit_open(struct sr_error *err)
{
	struct sr_kaudit *k;

	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		sr_error_errno(err, "kernel audit");
		return NULL;
	}
	k->fd = audit_open();
	if (k->fd >= 0)
		return k;
	if (errno == EINVAL || errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) {
		note_disabled(strerror(errno));
		return k;
	}
	sr_error_errno(err, "kernel audit: audit_open");
	free(k);
	return NULL;
}

void
sr_kaudit_free(struct sr_kaudit *k)
{
	if (k == NULL)
		return;
	if (k->fd >= 0)
		audit_close(k->fd);
	free(k);
}

int
sr_kaudit_enabled(const struct sr_kaudit *k)
{
	return k != NULL && k->fd >= 0;
}

/* Sends one record; msg is the op=... part, libaudit adds exe, hostname, addr, terminal, res. */
static int
send_record(struct sr_kaudit *k, int type, const char *msg, const char *addr, const char *tty,
	    int success, struct sr_error *err)
{
	int rc;

	if (k->fd < 0)
		return 0;
	errno = 0;
	rc = audit_log_user_message(k->fd, type, msg, NULL, addr, tty, success ? 1 : 0);
	if (rc > 0)
		return 0;
	if (rc == 0) {
		note_disabled("the kernel refused audit records from this namespace");
		audit_close(k->fd);
		k->fd = -1;
		return 0;
	}
	errno = -rc;
	return sr_error_errno(err, "kernel audit: sending %s record",
			      audit_msg_type_to_name(type));
}

/*
 * Formats "op=OP", "id=ID" when id >= 0 (a number of ours, written bare as
 * auditd expects), then NAME=VALUE pairs (a NULL-terminated list of name,
 * value) whose values libaudit quotes or hex-encodes.  Returns a malloc'd
 * string, or NULL.
 */
static char *
format_record(const char *op, long id, ...)
{
	char *out = NULL, *next;
	const char *name;
	va_list ap;

	if ((id >= 0 ? asprintf(&out, "op=%s id=%ld", op, id) : asprintf(&out, "op=%s", op)) < 0)
		return NULL;
	va_start(ap, id);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		char *nv = audit_encode_nv_string(name, value != NULL ? value : "?", 0);

		next = NULL;
		if (nv == NULL || asprintf(&next, "%s %s", out, nv) < 0)
			next = NULL;
		free(nv);
		free(out);
		out = next;
		if (out == NULL)
			break;
	}
	va_end(ap);
	return out;
}

static int
emit(struct sr_kaudit *k, int type, char *msg, const char *addr, const char *tty, int success,
     struct sr_error *err)
{
	int rc;

	if (msg == NULL)
		return sr_error_errno(err, "kernel audit: formatting a record");
	rc = send_record(k, type, msg, addr, tty, success, err);
	free(msg);
	return rc;
}

int
sr_kaudit_auth(struct sr_kaudit *k, const char *user, const char *addr, const char *method,
	       int success, struct sr_error *err)
{
	if (k->fd < 0)
		return 0;
	return emit(k, AUDIT_USER_AUTH,
		    format_record("saferoom-auth", -1, "acct", user, "method", method, NULL),
		    addr, NULL, success, err);
}

int
sr_kaudit_login(struct sr_kaudit *k, const char *user, long uid, const char *addr,
		const char *tty, int success, struct sr_error *err)
{
	if (k->fd < 0)
		return 0;
	return emit(k, AUDIT_USER_LOGIN, format_record("login", uid, "acct", user, NULL),
		    addr, tty, success, err);
}

static int
session_record(struct sr_kaudit *k, int type, const char *op, const char *user, long uid,
	       const char *addr, const char *tty, const char *session, struct sr_error *err)
{
	if (k->fd < 0)
		return 0;
	return emit(k, type,
		    format_record(op, uid, "acct", user, "saferoom_session", session, NULL),
		    addr, tty, 1, err);
}

int
sr_kaudit_session_start(struct sr_kaudit *k, const char *user, long uid, const char *addr,
			const char *tty, const char *session, struct sr_error *err)
{
	return session_record(k, AUDIT_USER_START, "session_open", user, uid, addr, tty,
			      session, err);
}

int
sr_kaudit_session_end(struct sr_kaudit *k, const char *user, long uid, const char *addr,
		      const char *tty, const char *session, struct sr_error *err)
{
	return session_record(k, AUDIT_USER_END, "session_close", user, uid, addr, tty,
			      session, err);
}

int
sr_kaudit_command(struct sr_kaudit *k, const char *user, const char *command, const char *tty,
		  int success, struct sr_error *err)
{
	if (k->fd < 0)
		return 0;
	return emit(k, AUDIT_USER_CMD,
		    format_record("command", -1, "acct", user, "cmd", command, NULL),
		    NULL, tty, success, err);
}

/* How long an answer about auditd holds: long when one runs, short when none did. */
#define DAEMON_RECHECK_MS 1000
#define NO_DAEMON_RECHECK_MS 100
#define STATUS_TIMEOUT_MS 200

/*
 * Asks the kernel whether an audit daemon is registered: 1 or 0, or -1 when
 * it could not be told.  On a netlink socket of its own, so that the status
 * reply and its ack never mix with the acks audit_log_user_message() waits
 * for on k->fd.  The reply may come before or after the ack.
 */
static int
query_daemon(void)
{
	struct audit_reply rep;
	int fd, i, rc = -1;

	fd = audit_open();
	if (fd < 0)
		return -1;
	if (audit_request_status(fd) > 0) {
		for (i = 0; i < 4 && rc < 0; i++) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, STATUS_TIMEOUT_MS) != 1 ||
			    audit_get_reply(fd, &rep, GET_REPLY_NONBLOCKING, 0) <= 0)
				break;
			if (rep.type == AUDIT_GET)
				rc = rep.status->pid != 0;
		}
	}
	audit_close(fd);
	return rc;
}

int
sr_kaudit_daemon_running(struct sr_kaudit *k)
{
	int64_t now = sr_audit_monotonic_ms();
	int r;

	if (k->fd < 0)
		return 0;
	if (k->daemon_seen_ms != 0 &&
	    now - k->daemon_seen_ms < (k->daemon ? DAEMON_RECHECK_MS : NO_DAEMON_RECHECK_MS))
		return k->daemon;
	r = query_daemon();
	/* Not knowing is not a reason to drop records. */
	k->daemon = r != 0;
	k->daemon_seen_ms = now;
	return k->daemon;
}

/* Longest command line put in a record: hex-encoded it must fit libaudit's 8970 bytes. */
#define EXEC_CMD_MAX 2048

/* argv of an exec event's details, joined by spaces, cut at EXEC_CMD_MAX bytes. */
static char *
join_argv(json_object *argv)
{
	size_t i, n = argv != NULL ? json_object_array_length(argv) : 0, len = 0;
	char *out = malloc(EXEC_CMD_MAX + 1);

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < n && len < EXEC_CMD_MAX; i++) {
		const char *arg = json_object_get_string(json_object_array_get_idx(argv, i));
		int w = snprintf(out + len, EXEC_CMD_MAX + 1 - len, "%s%s", i > 0 ? " " : "",
				 arg != NULL ? arg : "");

		len += w < 0 ? 0 : (size_t)w;
	}
	if (len > EXEC_CMD_MAX)
		len = EXEC_CMD_MAX;
	out[len] = '\0';
	return out;
}

static const char *
detail(json_object *details, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(details, key, &v) ? json_object_get_string(v) : NULL;
}

int
sr_kaudit_exec(struct sr_kaudit *k, const struct sr_audit_event *ev, struct sr_error *err)
{
	json_object *details, *argv = NULL;
	char *cmd;
	int rc;

	if (k->fd < 0)
		return 0;
	details = json_tokener_parse(ev->details != NULL ? ev->details : "{}");
	if (details == NULL)
		return sr_error_set(err, "kernel audit: exec event %" PRId64 " has no details", ev->seq);
	json_object_object_get_ex(details, "argv", &argv);
	cmd = join_argv(argv);
	rc = emit(k, AUDIT_USER_CMD,
		  cmd == NULL ? NULL
			      : format_record("saferoom-exec", -1, "acct", ev->user, "cmd", cmd,
					      "saferoom_exe", detail(details, "path"), "cwd",
					      detail(details, "cwd"), "saferoom_project", ev->project,
					      "saferoom_session", ev->session, NULL),
		  NULL, NULL, detail(details, "refused") == NULL, err);
	free(cmd);
	json_object_put(details);
	return rc;
}

/*
 * The seal is an AUDIT_TRUSTED_APP record "op=saferoom-seal seq=N hash=H".
 * seq and hash are ours, not a user's, so they are written bare; that keeps
 * them easy to match for whoever reads them back from the kernel log.
 */
int
sr_kaudit_seal(struct sr_kaudit *k, int64_t seq, const char *hash_hex, struct sr_error *err)
{
	unsigned char raw[SR_AUDIT_HASH_LEN];
	char *msg;

	if (k->fd < 0)
		return 0;
	if (sr_audit_unhex(hash_hex, raw) < 0)
		return sr_error_set(err, "kernel audit: seal hash is not 64 hex digits");
	if (asprintf(&msg, "op=saferoom-seal seq=%" PRId64 " hash=%s", seq, hash_hex) < 0)
		msg = NULL;
	return emit(k, AUDIT_TRUSTED_APP, msg, NULL, NULL, 1, err);
}
