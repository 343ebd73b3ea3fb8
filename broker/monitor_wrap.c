/*
 * monitor_wrap.c — requests from the net child to its monitor.
 *
 * Mirrors the handler table of monitor.c: one function per request type.  A
 * broken control socket means the monitor has ended the connection (grace
 * time, too many failures, the audit trail gone), so the net child simply
 * exits: it has nothing to save and no one else to tell.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "monitor_wrap.h"

static int mm_fd = -1;

void
mm_init(int ctl)
{
	mm_fd = ctl;
}

static void __attribute__((noreturn))
mm_fatal(const char *what, const struct sr_error *err)
{
	log_debug("%s: %s", what, sr_error_msg(err));
	_exit(1);
}

static void
mm_send(struct sr_mon_msg *m)
{
	struct sr_error err = { "" };

	if (sr_mon_send(mm_fd, m, &err) < 0)
		mm_fatal("send", &err);
}

/* Sends m and reads the answer of type want into m. */
static void
mm_request(struct sr_mon_msg *m, uint32_t want)
{
	struct sr_error err = { "" };

	mm_send(m);
	if (sr_mon_recv(mm_fd, m, &err) < 0)
		mm_fatal("receive", &err);
	if (m->type != want) {
		sr_error_set(&err, "answer %u where %u was due", m->type, want);
		mm_fatal("receive", &err);
	}
}

/* Reads the common "ok, message" answer. */
static int
mm_answer_ok(struct sr_mon_msg *m, char *msg, size_t msglen)
{
	struct sr_error err = { "" };
	uint32_t ok;

	mm_request(m, SR_MON_ANS_OK);
	ok = sr_mon_get_u32(m);
	sr_mon_get_str(m, msg, msglen);
	if (sr_mon_msg_done(m) < 0) {
		sr_error_set(&err, "malformed answer");
		mm_fatal("receive", &err);
	}
	return ok == 1;
}

enum sr_mon_auth
mm_auth_pubkey(const char *user, const char *type, const char *fingerprint, int state)
{
	struct sr_mon_msg m;
	uint32_t r;

	sr_mon_msg_init(&m, SR_MON_REQ_PUBKEY);
	sr_mon_put_str(&m, user);
	sr_mon_put_str(&m, type);
	sr_mon_put_str(&m, fingerprint);
	sr_mon_put_u32(&m, (uint32_t)state);
	mm_request(&m, SR_MON_ANS_AUTH);
	r = sr_mon_get_u32(&m);
	return sr_mon_msg_done(&m) == 0 ? (enum sr_mon_auth)r : SR_MON_AUTH_DENY;
}

int
mm_kbdint_query(const char *user, char *name, size_t namelen, char *instruction,
		size_t instrlen, char *prompt, size_t promptlen)
{
	struct sr_mon_msg m;
	uint32_t ok;

	sr_mon_msg_init(&m, SR_MON_REQ_KBDINT_QUERY);
	sr_mon_put_str(&m, user);
	mm_request(&m, SR_MON_ANS_KBDINT_QUERY);
	ok = sr_mon_get_u32(&m);
	sr_mon_get_str(&m, name, namelen);
	sr_mon_get_str(&m, instruction, instrlen);
	sr_mon_get_str(&m, prompt, promptlen);
	return sr_mon_msg_done(&m) == 0 && ok == 1;
}

enum sr_mon_auth
mm_kbdint_answer(const char *code)
{
	struct sr_mon_msg m;
	uint32_t r;

	sr_mon_msg_init(&m, SR_MON_REQ_KBDINT_ANSWER);
	sr_mon_put_str(&m, code);
	mm_request(&m, SR_MON_ANS_AUTH);
	r = sr_mon_get_u32(&m);
	return sr_mon_msg_done(&m) == 0 ? (enum sr_mon_auth)r : SR_MON_AUTH_DENY;
}

void
mm_auth_method(const char *user, const char *method)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_AUTH_METHOD);
	sr_mon_put_str(&m, user);
	sr_mon_put_str(&m, method);
	mm_send(&m);
}

void
mm_denied(const char *what, const char *detail)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_DENIED);
	sr_mon_put_str(&m, what);
	sr_mon_put_str(&m, detail);
	mm_send(&m);
}

int
mm_env(const char *name, const char *value, char *msg, size_t msglen)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_ENV);
	sr_mon_put_str(&m, name);
	sr_mon_put_str(&m, value);
	return mm_answer_ok(&m, msg, msglen);
}

int
mm_pty(const char *term, int cols, int rows, char *msg, size_t msglen)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_PTY);
	sr_mon_put_str(&m, term);
	sr_mon_put_u32(&m, (uint32_t)cols);
	sr_mon_put_u32(&m, (uint32_t)rows);
	return mm_answer_ok(&m, msg, msglen);
}

int
mm_shell(char *msg, size_t msglen)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_SHELL);
	return mm_answer_ok(&m, msg, msglen);
}

int
mm_exec(const char *command, char *msg, size_t msglen)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_EXEC);
	sr_mon_put_str(&m, command);
	return mm_answer_ok(&m, msg, msglen);
}

int
mm_subsystem(const char *name, char *msg, size_t msglen)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_SUBSYSTEM);
	sr_mon_put_str(&m, name);
	return mm_answer_ok(&m, msg, msglen);
}

void
mm_winch(int cols, int rows)
{
	struct sr_mon_msg m;

	sr_mon_msg_init(&m, SR_MON_REQ_WINCH);
	sr_mon_put_u32(&m, (uint32_t)cols);
	sr_mon_put_u32(&m, (uint32_t)rows);
	mm_send(&m);
}
