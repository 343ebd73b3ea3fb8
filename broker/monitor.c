/*
 * monitor.c — the privileged side of one connection.
 *
 * The monitor runs as root for as long as the connection lasts and never
 * parses SSH: its net child does (netchild.c), confined, and asks for every
 * decision over a socketpair.  Requests are looked up in mon_table[], the
 * permit table: each has a handler and flags saying in which state it may
 * come (before authentication, after), whether it may come only once, and
 * whether it decides authentication.  `permit` holds the requests allowed
 * right now, and handlers open and close doors as the connection moves on
 * (a TOTP answer only after a good key, a shell only once).  Anything not
 * permitted now, or malformed, ends the connection: a net child that asks
 * out of turn is a net child that has been taken over.
 *
 * Besides deciding, the monitor writes the audit trail of the connection
 * (auth.ok, auth.fail, channel.denied, session.start, session.end and their
 * kernel audit records) and relays the session (session.c).  If the trail
 * cannot be written, it refuses and ends: fail closed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "saferoom/policy.h"
#include "saferoom/sandbox.h"
#include "saferoom/verbs.h"
#include "broker.h"
#include "log.h"
#include "monitor.h"
#include "monitor_proto.h"
#include "session.h"
#include "verbs_ssh.h"

static int sig_pipe[2] = { -1, -1 };

/* ---- the audit trail -------------------------------------------------------- */

int
mon_event(struct monitor *m, const char *type, json_object *details, int durable)
{
	struct sr_error err = { "" };
	struct sr_audit_event ev = {
		.type = type, .user = m->user, .project = m->project,
		.session = m->session_id, .source = m->a->source, .datasets = m->datasets,
	};
	int rc;

	ev.details = details != NULL ? json_object_to_json_string_ext(details,
					JSON_C_TO_STRING_PLAIN) : NULL;
	rc = m->audit == NULL ? -1 :
	     sr_audit_client_send(m->audit, &ev, durable ? SR_AUDIT_DURABLE : SR_AUDIT_ASYNC,
				  NULL, &err);
	json_object_put(details);
	if (rc < 0) {
		/* Fail closed: whatever runs ends, nothing new starts. */
		log_err("audit trail: %s: ending the connection", sr_error_msg(&err));
		m->ending = 1;
		m->end_reason = "audit-unavailable";
		if (m->sess != NULL)
			sr_session_kill(m->sess, NULL);
	}
	return rc;
}

json_object *
details_new(const char *key, const char *value)
{
	json_object *o = json_object_new_object();

	if (key != NULL)
		json_object_object_add(o, key, json_object_new_string(value ?: ""));
	return o;
}

void
details_add(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value ?: ""));
}

void
mon_denied(struct monitor *m, const char *what, const char *detail)
{
	json_object *d = details_new("what", what);

	details_add(d, "detail", detail);
	log_info("%s from %s: %s refused (%s)", m->user, m->a->source, what, detail);
	mon_event(m, "channel.denied", d, 0);
}

/* ---- rate limits and failures --------------------------------------------------- */

static void
key_for(char *out, size_t len, const char *kind, const char *value)
{
	snprintf(out, len, "%s:%s", kind, value);
}

static void
mon_fail(struct monitor *m, const char *reason, const char *message)
{
	const struct sr_config *cfg = m->a->cfg;
	json_object *d = details_new("method", m->method);
	char key[96];
	time_t now = time(NULL);

	details_add(d, "reason", reason);
	details_add(d, "message", message);
	if (m->fingerprint[0] != '\0')
		details_add(d, "key", m->fingerprint);
	mon_event(m, "auth.fail", d, 0);
	sr_kaudit_auth(m->kaudit, m->user, m->a->source, m->method, 0, NULL);
	log_info("refused %s from %s: %s", m->user, m->a->source, message);
	key_for(key, sizeof(key), "src", m->a->source);
	sr_ratelimit_fail(m->a->rl, key, cfg->auth_fail_window, now);
	key_for(key, sizeof(key), "user", m->user);
	sr_ratelimit_fail(m->a->rl, key, cfg->auth_fail_window, now);
	m->failed = 1;
	m->tries++;
}

/* 1 when the user or the source is blocked for earlier failures. */
static int
mon_blocked(struct monitor *m)
{
	const struct sr_config *cfg = m->a->cfg;
	time_t now = time(NULL);
	char key[96];

	key_for(key, sizeof(key), "user", m->user);
	if (sr_ratelimit_blocked(m->a->rl, key, cfg->auth_fail_max_user, cfg->auth_fail_window,
				 cfg->auth_fail_block, now) > 0)
		return 1;
	key_for(key, sizeof(key), "src", m->a->source);
	return sr_ratelimit_blocked(m->a->rl, key, cfg->auth_fail_max_source, cfg->auth_fail_window,
				    cfg->auth_fail_block, now) > 0;
}

/* ---- answers --------------------------------------------------------------------- */

static int
mon_reply(struct monitor *m, struct sr_mon_msg *r)
{
	struct sr_error err = { "" };

	if (sr_mon_send(m->ctl, r, &err) < 0) {
		log_debug("%s", sr_error_msg(&err));
		return -1;
	}
	return 0;
}

static int
mon_reply_auth(struct monitor *m, enum sr_mon_auth result)
{
	struct sr_mon_msg r;

	sr_mon_msg_init(&r, SR_MON_ANS_AUTH);
	sr_mon_put_u32(&r, result);
	return mon_reply(m, &r);
}

int
mon_reply_ok(struct monitor *m, int ok, const char *message)
{
	struct sr_mon_msg r;

	sr_mon_msg_init(&r, SR_MON_ANS_OK);
	sr_mon_put_u32(&r, ok ? 1 : 0);
	sr_mon_put_str(&r, message);
	return mon_reply(m, &r);
}

/* ---- authentication ---------------------------------------------------------------- */

/* "alice" or "alice+PROJECT" into user and project; 0, or -1 when malformed. */
static int
split_login(struct monitor *m, const char *login)
{
	const char *plus = strchr(login, '+');
	size_t ulen = plus != NULL ? (size_t)(plus - login) : strlen(login);

	if (ulen == 0 || ulen >= sizeof(m->user) ||
	    (plus != NULL && strlen(plus + 1) >= sizeof(m->project)))
		return -1;
	memcpy(m->user, login, ulen);
	m->user[ulen] = '\0';
	snprintf(m->project, sizeof(m->project), "%s", plus != NULL ? plus + 1 : "");
	if (sr_policy_user_name_ok(m->user) < 0)
		return -1;
	return plus == NULL || sr_policy_object_name_ok(m->project) == 0 ? 0 : -1;
}

static int
mon_decide(struct monitor *m, const char *totp, struct sr_policy_decision *d)
{
	struct sr_error err = { "" };
	struct sr_policy_login req = {
		.user = m->user, .project = m->project[0] != '\0' ? m->project : NULL,
		.source = m->a->source, .key_fingerprint = m->fingerprint,
		.totp_code = totp, .now = time(NULL),
	};

	if (sr_policy_login_check(m->policy, &req, d, &err) < 0) {
		log_err("policy: %s", sr_error_msg(&err));
		d->reason = SR_POLICY_NO_USER;
		snprintf(d->message, sizeof(d->message), "the policy store could not decide");
		return -1;
	}
	return 0;
}

/*
 * "log in as alice+lung or alice+heart": the projects she could enter now,
 * each decided like a login that names it.
 */
static void
mon_ambiguous(struct monitor *m, char *out, size_t outlen)
{
	struct sr_policy_login req = {
		.user = m->user, .source = m->a->source, .key_fingerprint = m->fingerprint,
		.now = time(NULL),
	};
	struct sr_policy_decision d;
	json_object *u, *projects, *name;
	size_t i, off, n = 0;

	off = (size_t)snprintf(out, outlen, "saferoom: %s is in several projects; log in as",
			       m->user);
	u = sr_policy_user_show(m->policy, m->user, NULL);
	if (u == NULL || !json_object_object_get_ex(u, "projects", &projects))
		goto out;
	for (i = 0; i < json_object_array_length(projects) && off < outlen; i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(projects, i), "project",
					       &name))
			continue;
		req.project = json_object_get_string(name);
		if (sr_policy_login_check(m->policy, &req, &d, NULL) < 0 ||
		    d.reason != SR_POLICY_ALLOW)
			continue;
		off += (size_t)snprintf(out + off, outlen - off, "%s %s+%s", n++ ? " or" : "",
					m->user, req.project);
	}
out:
	if (off < outlen)
		snprintf(out + off, outlen - off, "%s", n ? "" : " USER+PROJECT");
	json_object_put(u);
}

/* The door to the session opens; the master learns this connection is in. */
static int
mon_authenticated(struct monitor *m, const struct sr_policy_decision *d)
{
	json_object *det = details_new("method", m->method);
	struct sr_error kerr = { "" };
	pid_t self = getpid();

	m->authenticated = 1;
	m->roles = d->roles;
	m->uid = d->uid;
	if (d->project[0] != '\0')
		snprintf(m->project, sizeof(m->project), "%s", d->project);
	details_add(det, "key", m->fingerprint);
	if (mon_event(m, "auth.ok", det, 1) < 0)
		return -1;
	if (sr_kaudit_auth(m->kaudit, m->user, m->a->source, m->method, 1, &kerr) < 0 ||
	    sr_kaudit_login(m->kaudit, m->user, m->uid, m->a->source, NULL, 1, &kerr) < 0)
		log_warn("kernel audit: %s", sr_error_msg(&kerr));
	if (write(m->a->notify_fd, &self, sizeof(self)) != sizeof(self))
		log_warn("could not tell the master this connection is in");
	m->permit = PERMIT(SR_MON_REQ_DENIED) | PERMIT(SR_MON_REQ_ENV) | PERMIT(SR_MON_REQ_PTY) |
		    PERMIT(SR_MON_REQ_SHELL) | PERMIT(SR_MON_REQ_EXEC) |
		    PERMIT(SR_MON_REQ_SUBSYSTEM) | PERMIT(SR_MON_REQ_WINCH);
	log_info("%s%s%s logged in from %s (%s)", m->user, m->project[0] ? "+" : "", m->project,
		 m->a->source, m->method);
	return 0;
}

/*
 * The key is known to be good (libssh checked the signature in the net
 * child) and the login is allowed; TOTP may still be due.
 */
static int
mon_key_accepted(struct monitor *m, const struct sr_policy_decision *d)
{
	if (d->totp_required) {
		snprintf(m->method, sizeof(m->method), "publickey+totp");
		m->permit = PERMIT(SR_MON_REQ_KBDINT_QUERY) | PERMIT(SR_MON_REQ_KBDINT_ANSWER);
		return mon_reply_auth(m, SR_MON_AUTH_PARTIAL);
	}
	if (m->a->cfg->totp_required) {
		mon_fail(m, "totp-not-enrolled", "TOTP is required and the user has none");
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	if (mon_authenticated(m, d) < 0)
		return -1;
	return mon_reply_auth(m, SR_MON_AUTH_SUCCESS);
}

static int
mm_answer_pubkey(struct monitor *m, struct sr_mon_msg *q)
{
	char login[256], type[64];
	struct sr_policy_decision d;
	uint32_t state;

	sr_mon_get_str(q, login, sizeof(login));
	sr_mon_get_str(q, type, sizeof(type));
	sr_mon_get_str(q, m->fingerprint, sizeof(m->fingerprint));
	state = sr_mon_get_u32(q);
	if (sr_mon_msg_done(q) < 0 || state > 2)
		return -1;
	snprintf(m->method, sizeof(m->method), "publickey");
	if (split_login(m, login) < 0) {
		snprintf(m->user, sizeof(m->user), "%.*s", (int)sizeof(m->user) - 1, login);
		mon_fail(m, sr_policy_reason_name(SR_POLICY_NO_USER), "malformed login name");
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	if (mon_blocked(m)) {
		mon_fail(m, "rate-limited", "too many recent failures for this user or source");
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	if (state == 2) {
		mon_fail(m, "bad-signature", "the key's signature did not verify");
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	mon_decide(m, NULL, &d);
	if (d.reason == SR_POLICY_PROJECT_AMBIGUOUS) {
		/* Let her in far enough to read which projects she may name. */
		if (state == 1)
			mon_ambiguous(m, m->refusal, sizeof(m->refusal));
		d.reason = SR_POLICY_ALLOW;
	}
	if (d.reason != SR_POLICY_ALLOW) {
		/* A probe with a key that is simply not hers is what every agent does. */
		if (state == 1 || d.reason != SR_POLICY_KEY_UNKNOWN)
			mon_fail(m, sr_policy_reason_name(d.reason), d.message);
		else
			m->tries++;
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	if (state == 0)
		return mon_reply_auth(m, SR_MON_AUTH_KEY_OK);
	return mon_key_accepted(m, &d);
}

static int
mm_answer_kbdint_query(struct monitor *m, struct sr_mon_msg *q)
{
	char login[256];
	struct sr_mon_msg r;

	sr_mon_get_str(q, login, sizeof(login));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	sr_mon_msg_init(&r, SR_MON_ANS_KBDINT_QUERY);
	sr_mon_put_u32(&r, 1);
	sr_mon_put_str(&r, "saferoom");
	sr_mon_put_str(&r, "Enter the 6-digit code of your authenticator app.");
	sr_mon_put_str(&r, "TOTP code: ");
	return mon_reply(m, &r);
}

/*
 * The TOTP code, good for one login only: the step it matched is spent in
 * policy.db, so a code read over a shoulder or replayed from a recorded
 * keyboard-interactive exchange does not let anyone in again within its
 * window.  Returns 1 accepted, 0 refused (and counted), -1 undecidable.
 */
static int
mon_totp_once(struct monitor *m, const char *code)
{
	struct sr_error err = { "" };
	int replayed = 0, rc;

	rc = sr_policy_totp_verify_once(m->policy, m->user, code, time(NULL), &replayed, &err);
	if (rc < 0) {
		log_err("policy: %s", sr_error_msg(&err));
		mon_fail(m, "policy-error", "the policy store could not decide");
		return -1;
	}
	if (rc == 0 && replayed)
		mon_fail(m, "totp-replayed", "this TOTP code has already been used to log in");
	else if (rc == 0)
		mon_fail(m, sr_policy_reason_name(SR_POLICY_TOTP_INVALID),
			 "the TOTP code is not valid now");
	return rc;
}

static int
mm_answer_kbdint_answer(struct monitor *m, struct sr_mon_msg *q)
{
	struct sr_policy_decision d;
	char code[64];
	int rc;

	sr_mon_get_str(q, code, sizeof(code));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	if (mon_blocked(m)) {
		explicit_bzero(code, sizeof(code));
		mon_fail(m, "rate-limited", "too many recent failures for this user or source");
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	/* Everything but the code first, so a refused login spends no code. */
	mon_decide(m, NULL, &d);
	if (d.reason == SR_POLICY_PROJECT_AMBIGUOUS && m->refusal[0] != '\0')
		d.reason = SR_POLICY_ALLOW;
	if (d.reason != SR_POLICY_ALLOW) {
		explicit_bzero(code, sizeof(code));
		mon_fail(m, sr_policy_reason_name(d.reason), d.message);
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	}
	rc = mon_totp_once(m, code);
	explicit_bzero(code, sizeof(code));
	if (rc <= 0)
		return mon_reply_auth(m, SR_MON_AUTH_DENY);
	if (mon_authenticated(m, &d) < 0)
		return -1;
	return mon_reply_auth(m, SR_MON_AUTH_SUCCESS);
}

static int
mm_answer_auth_method(struct monitor *m, struct sr_mon_msg *q)
{
	char login[256], method[32];

	sr_mon_get_str(q, login, sizeof(login));
	sr_mon_get_str(q, method, sizeof(method));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	if (split_login(m, login) < 0)
		snprintf(m->user, sizeof(m->user), "%.*s", (int)sizeof(m->user) - 1, login);
	snprintf(m->method, sizeof(m->method), "%s", method);
	m->fingerprint[0] = '\0';
	mon_fail(m, "method-not-allowed", "only public keys (and TOTP) are accepted");
	return 0;
}

/* ---- after authentication ------------------------------------------------------------ */

static int
mm_answer_denied(struct monitor *m, struct sr_mon_msg *q)
{
	char what[64], detail[512];

	sr_mon_get_str(q, what, sizeof(what));
	sr_mon_get_str(q, detail, sizeof(detail));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	mon_denied(m, what, detail);
	return 0;
}

/* A locale name: letters, digits and ._@- only, so nothing rides along in it. */
static int
locale_ok(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n < 64 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789._@-") == n;
}

static int
mm_answer_env(struct monitor *m, struct sr_mon_msg *q)
{
	char name[256], value[SR_MON_STR_MAX], detail[300];

	sr_mon_get_str(q, name, sizeof(name));
	sr_mon_get_str(q, value, sizeof(value));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	if ((strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0) && locale_ok(value)) {
		if (strcmp(name, "LANG") == 0)
			snprintf(m->lang, sizeof(m->lang), "%s", value);
		return mon_reply_ok(m, 1, "");
	}
	snprintf(detail, sizeof(detail), "%.255s", name);
	mon_denied(m, "env", detail);
	return mon_reply_ok(m, 0, "saferoom: only LANG and LC_* may be passed");
}

static int
mm_answer_pty(struct monitor *m, struct sr_mon_msg *q)
{
	sr_mon_get_str(q, m->term, sizeof(m->term));
	m->cols = (int)sr_mon_get_u32(q);
	m->rows = (int)sr_mon_get_u32(q);
	if (sr_mon_msg_done(q) < 0)
		return -1;
	if (m->cols <= 0 || m->cols > 10000)
		m->cols = 80;
	if (m->rows <= 0 || m->rows > 10000)
		m->rows = 24;
	m->pty = 1;
	return mon_reply_ok(m, 1, "");
}

static int
mm_answer_winch(struct monitor *m, struct sr_mon_msg *q)
{
	int cols = (int)sr_mon_get_u32(q), rows = (int)sr_mon_get_u32(q);

	if (sr_mon_msg_done(q) < 0)
		return -1;
	if (m->sess != NULL)
		sr_session_resize(m->sess, cols, rows);
	return 0;
}

static int
mm_answer_subsystem(struct monitor *m, struct sr_mon_msg *q)
{
	char name[256];

	sr_mon_get_str(q, name, sizeof(name));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	mon_denied(m, strcmp(name, "sftp") == 0 ? "sftp" : "subsystem", name);
	return mon_reply_ok(m, 0, "saferoom: file transfer is not available; files leave the "
			    "room only through export review (saferoom-export submit)");
}

/* ---- the permit table ------------------------------------------------------------------ */

struct mon_dispatch {
	enum sr_mon_type type;
	unsigned flags;
	int (*handler)(struct monitor *m, struct sr_mon_msg *q);
};

static const struct mon_dispatch mon_table[] = {
	{ SR_MON_REQ_PUBKEY,        MON_PREAUTH | MON_AUTHDECIDE, mm_answer_pubkey },
	{ SR_MON_REQ_KBDINT_QUERY,  MON_PREAUTH,                  mm_answer_kbdint_query },
	{ SR_MON_REQ_KBDINT_ANSWER, MON_PREAUTH | MON_AUTHDECIDE, mm_answer_kbdint_answer },
	{ SR_MON_REQ_AUTH_METHOD,   MON_PREAUTH,                  mm_answer_auth_method },
	{ SR_MON_REQ_DENIED,        MON_POSTAUTH,                 mm_answer_denied },
	{ SR_MON_REQ_ENV,           MON_POSTAUTH,                 mm_answer_env },
	{ SR_MON_REQ_PTY,           MON_POSTAUTH | MON_ONCE,      mm_answer_pty },
	{ SR_MON_REQ_SHELL,         MON_POSTAUTH | MON_ONCE,      mm_answer_shell },
	{ SR_MON_REQ_EXEC,          MON_POSTAUTH | MON_ONCE,      mm_answer_exec },
	{ SR_MON_REQ_SUBSYSTEM,     MON_POSTAUTH,                 mm_answer_subsystem },
	{ SR_MON_REQ_WINCH,         MON_POSTAUTH,                 mm_answer_winch },
};

static const struct mon_dispatch *
mon_lookup(const struct monitor *m, uint32_t type)
{
	size_t i;

	for (i = 0; i < sizeof(mon_table) / sizeof(mon_table[0]); i++) {
		if (mon_table[i].type != type)
			continue;
		if (type >= 32 || !(m->permit & PERMIT(type)))
			return NULL;
		if (!(mon_table[i].flags & (m->authenticated ? MON_POSTAUTH : MON_PREAUTH)))
			return NULL;
		return &mon_table[i];
	}
	return NULL;
}

/* One request: -1 ends the connection. */
static int
mon_dispatch_one(struct monitor *m)
{
	struct sr_error err = { "" };
	const struct mon_dispatch *ent;
	struct sr_mon_msg q;

	if (sr_mon_recv(m->ctl, &q, &err) < 0) {
		log_debug("net child: %s", sr_error_msg(&err));
		return -1;
	}
	ent = mon_lookup(m, q.type);
	if (ent == NULL) {
		log_warn("request %u not permitted now (%s from %s): ending the connection",
			 q.type, m->user[0] ? m->user : "-", m->a->source);
		return -1;
	}
	if (ent->flags & MON_ONCE)
		m->permit &= ~PERMIT(q.type);
	if (ent->handler(m, &q) < 0)
		return -1;
	if (!m->authenticated && m->tries >= m->a->cfg->max_auth_tries) {
		log_info("%s from %s: too many authentication failures", m->user, m->a->source);
		return -1;
	}
	return 0;
}

/* ---- set-up, loop and end --------------------------------------------------------------- */

static void
mon_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* The pipe is full: a wake-up is already pending. */
	}
	errno = saved;
}

static int
mon_fork_net(struct monitor *m, struct sr_error *err)
{
	int ctl[2], data[2], errs[2], logp[2];
	struct sr_netchild_args na;
	char empty[4096];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, data) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, errs) < 0 ||
	    pipe2(logp, O_CLOEXEC) < 0)
		return sr_error_errno(err, "socketpair");
	snprintf(empty, sizeof(empty), "%s/%s", m->a->cfg->state_dir, SR_EMPTY_DIR);
	m->net_pid = fork();
	if (m->net_pid < 0)
		return sr_error_errno(err, "fork");
	if (m->net_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ctl[0]);
		close(data[0]);
		close(errs[0]);
		close(logp[0]);
		sr_ratelimit_free(m->a->rl);
		close(m->a->notify_fd);
		na = (struct sr_netchild_args){
			.bind = m->a->bind, .conn = m->a->conn, .ctl = ctl[1], .data = data[1],
			.errs = errs[1], .log = logp[1], .empty_dir = empty,
			.uid = m->a->net_uid, .gid = m->a->net_gid,
			.max_auth_tries = m->a->cfg->max_auth_tries,
		};
		sr_netchild_run(&na);
	}
	close(ctl[1]);
	close(data[1]);
	close(errs[1]);
	close(logp[1]);
	/* The monitor never touches network bytes. */
	close(m->a->conn);
	m->ctl = ctl[0];
	m->data = data[0];
	m->errs = errs[0];
	m->log = logp[0];
	return 0;
}

static int
mon_open(struct monitor *m, struct sr_error *err)
{
	const struct sr_config *cfg = m->a->cfg;
	unsigned char rnd[12];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sr_error_errno(err, "getrandom");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(m->session_id + 2 * i, 3, "%02x", rnd[i]);
	m->audit = sr_audit_client_connect(cfg->state_dir, err);
	if (m->audit == NULL)
		return -1;
	m->kaudit = sr_kaudit_open(err);
	if (m->kaudit == NULL)
		return -1;
	return mon_policy_open(m, err);
}

int
mon_policy_open(struct monitor *m, struct sr_error *err)
{
	const struct sr_config *cfg = m->a->cfg;
	const char *nets[SR_CONFIG_MAX_ALLOW];
	size_t i;

	m->policy = sr_policy_open(cfg->state_dir, NULL, err);
	if (m->policy == NULL)
		return -1;
	sr_policy_set_id_ranges(m->policy, cfg->uid_min, cfg->uid_max, cfg->gid_min, cfg->gid_max);
	for (i = 0; i < cfg->n_allow_from; i++)
		nets[i] = cfg->allow_from[i].text;
	return sr_policy_set_global_allow(m->policy, nets, cfg->n_allow_from, err);
}

static void
mon_relay_log(struct monitor *m)
{
	char buf[4096];
	ssize_t r;

	r = read(m->log, buf, sizeof(buf));
	if (r <= 0) {
		close(m->log);
		m->log = -1;
		return;
	}
	sr_log_relay("net", buf, (size_t)r);
}

static int
mon_timeout(struct monitor *m)
{
	time_t now = time(NULL), until;

	if (!m->authenticated && m->a->cfg->login_grace_time > 0)
		until = m->grace_end;
	else if (m->sess != NULL && m->spec != NULL)
		until = m->next_recheck;
	else
		return -1;
	return until <= now ? 0 : (int)(until - now) * 1000;
}

static void
mon_signals(struct monitor *m)
{
	unsigned char c;

	while (read(sig_pipe[0], &c, 1) == 1) {
		if (c == SIGTERM || c == SIGINT) {
			m->ending = 1;
			m->end_reason = "shutdown";
			if (m->sess != NULL) {
				sr_session_say(m->sess, "\r\nsaferoom: the gateway is shutting down\r\n");
				sr_session_kill(m->sess, NULL);
			}
		}
	}
}

/* One round of poll; returns -1 when the connection is over. */
static int
mon_poll_once(struct monitor *m)
{
	struct pollfd fds[8 + MON_EXPORT_POLLFDS];
	int n = 3, ns = 0, ne, rc;

	fds[0] = (struct pollfd){ .fd = m->ctl, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = m->log, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
	if (m->sess != NULL)
		ns = sr_session_pollfds(m->sess, fds + 3, 5);
	ne = mon_export_pollfds(m, fds + 3 + ns, MON_EXPORT_POLLFDS);
	n += ns + ne;
	rc = poll(fds, (nfds_t)n, mon_timeout(m));
	if (rc < 0 && errno != EINTR)
		return -1;
	if (rc < 0)
		return 0;
	if (fds[2].revents & POLLIN)
		mon_signals(m);
	if (fds[1].revents & (POLLIN | POLLHUP))
		mon_relay_log(m);
	if (!m->authenticated && time(NULL) >= m->grace_end && m->a->cfg->login_grace_time > 0) {
		log_info("%s: login grace time over", m->a->source);
		return -1;
	}
	/* Before the session's turn, which may end the session and the export socket. */
	mon_export_poll(m, fds + 3 + ns, ne);
	if (m->sess != NULL && mon_session_poll(m, fds + 3, ns) < 0)
		return -1;
	if (fds[0].revents & (POLLIN | POLLHUP | POLLERR) && mon_dispatch_one(m) < 0)
		return -1;
	return m->ending && m->sess == NULL ? -1 : 0;
}

static void
mon_wait_net(struct monitor *m)
{
	struct pollfd p = { .fd = m->ctl, .events = POLLIN };
	char buf[64];
	int i;

	for (i = 0; i < 50; i++) {
		if (poll(&p, 1, 100) > 0 && recv(m->ctl, buf, sizeof(buf), MSG_DONTWAIT) == 0)
			return;
	}
}

static void
mon_close(struct monitor *m)
{
	int st;

	if (m->sess != NULL)
		mon_session_end(m, m->end_reason ?: "disconnect");
	mon_export_close(m);
	if (!m->authenticated && m->tries > 0 && !m->failed)
		mon_fail(m, "no-key-accepted", "no offered key was accepted");
	if (m->net_pid > 0) {
		/* Give it a moment to hand the exit status and last bytes to the client. */
		if (m->exit_sent)
			mon_wait_net(m);
		kill(m->net_pid, SIGKILL);
		waitpid(m->net_pid, &st, 0);
	}
	sr_sandbox_free(m->sb);
	sr_policy_spec_free(m->spec);
	sr_policy_free(m->policy);
	if (m->audit != NULL)
		sr_audit_client_flush(m->audit, NULL);
	sr_audit_client_free(m->audit);
	sr_kaudit_free(m->kaudit);
	/* The client is gone by now; the compressor may take its time. */
	mon_compress_wait(m);
}

int
sr_monitor_run(const struct sr_monitor_args *a)
{
	static struct monitor m;
	struct sr_error err = { "" };
	struct sigaction sa;

	m.a = a;
	m.ctl = m.data = m.errs = m.log = -1;
	m.permit = PERMIT(SR_MON_REQ_PUBKEY) | PERMIT(SR_MON_REQ_AUTH_METHOD);
	m.grace_end = time(NULL) + a->cfg->login_grace_time;
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mon_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sr_log_ident("monitor");
	if (mon_fork_net(&m, &err) < 0 || mon_open(&m, &err) < 0) {
		log_err("%s: %s", a->source, sr_error_msg(&err));
		mon_close(&m);
		return 1;
	}
	while (mon_poll_once(&m) == 0)
		;
	mon_close(&m);
	return 0;
}
