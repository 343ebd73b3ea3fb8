/*
 * netchild.c — the only process that parses SSH: libssh, unprivileged,
 * chrooted, under seccomp (jail.c).
 *
 * It holds the host key and the TCP connection and nothing else.  Every
 * decision goes to the monitor through monitor_wrap.c: whether a key or a
 * TOTP code is good, whether a pty, a shell or a command may be had.  What
 * the net child may refuse on its own it refuses and reports (forwarding,
 * X11, agent), so that each attempt is still an audit event.
 *
 * Channel bytes flow over two stream sockets: `data` carries the client's
 * stdin to the monitor and the session's output back, `errs` the output for
 * the channel's stderr.  The monitor does all recording and filtering.  The
 * loop is non-blocking both ways and lets SSH's window do flow control, so a
 * shell that prints without end cannot make typed input wait, or the other
 * way round.
 *
 * A known limitation: the net child, not the monitor, verifies public-key
 * signatures, and it holds the host private key.  libssh 0.10.6 signs the
 * key exchange with the host key inside the library (no signing hook), and
 * its public API exposes neither the session identifier (the exchange hash
 * H) nor the signature blob of a publickey USERAUTH_REQUEST: the pubkey
 * callback gets only the key and a signature state, and packet callbacks
 * cannot be registered from outside the library.  So the monitor cannot do
 * what OpenSSH's monitor does (sign H with the host key, and so learn the
 * true session identifier, then verify the user's signature over it).  A
 * net child taken over before login could therefore claim "signature valid"
 * for any registered public key (public keys are public) without any
 * signature from its owner, and could read the host key and leak it over
 * its own connection.  What bounds it:
 *   - taking the net child over needs code execution in a process that runs
 *     as an unprivileged user, in an empty chroot, with no capabilities,
 *     no_new_privs and a seccomp allowlist, one per connection (jail.c);
 *   - every other admission rule is still the monitor's, from its own data:
 *     the user's status and expiry, the key being registered to that user,
 *     membership, grants, allow_from networks (the source address comes
 *     from the master's accept(), never from the net child), rate limits;
 *   - the TOTP code is checked in the monitor and is good for one login
 *     only, so with `totp_required yes` a compromised net child still cannot
 *     let anyone in without a fresh code from that user's authenticator.
 *     Sites that want public-key proof to survive a net child compromise
 *     should set it;
 *   - after a suspected compromise, replace the host key (clients will see
 *     the change) and review auth.ok events, which name the key claimed.
 * What would close it: a libssh with a signing hook and access to the
 * session identifier and the USERAUTH signature (the monitor would then
 * hold the host key, sign H, and verify the user's signature with
 * libcrypto against the registered key blob), or OpenSSH's sshd as the
 * protocol engine in front of the monitor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "broker.h"
#include "log.h"
#include "monitor_wrap.h"

#define NC_BUF 32768

struct netchild {
	ssh_session session;
	ssh_event event;
	ssh_channel channel;          /* the one session channel */
	struct ssh_channel_callbacks_struct chan_cb;
	int ctl, data, errs;
	int data_w;                   /* a dup of data, polled for POLLOUT on its own */
	int authenticated;
	int started;                  /* a shell or command runs */
	int data_eof, errs_eof;       /* the monitor closed its side */
	int exit_status;              /* from SR_MON_MSG_EXIT, -1 until then */
	int done;
	int closing;                  /* our close is sent; the client's is awaited */
	/* Client bytes libssh handed us that the monitor could not take yet. */
	unsigned char in_buf[NC_BUF];
	size_t in_len;
	int in_blocked;               /* data_w is polled for POLLOUT */
	int in_eof;                   /* the client sent EOF: pass it on once drained */
	int out_paused;               /* data/errs removed from the event: no window */
	char user[256];
};

/* ---- authentication --------------------------------------------------------- */

static int
nc_fingerprint(ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL)
		return -1;
	snprintf(out, outlen, "%s", fp);
	ssh_string_free_char(fp);
	return 0;
}

static int
nc_auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
	       char signature_state, void *userdata)
{
	struct netchild *nc = userdata;
	char fp[128];
	int state;
	enum sr_mon_auth r;

	if (nc_fingerprint(pubkey, fp, sizeof(fp)) < 0)
		return SSH_AUTH_DENIED;
	if (signature_state == SSH_PUBLICKEY_STATE_NONE)
		state = 0;
	else if (signature_state == SSH_PUBLICKEY_STATE_VALID)
		state = 1;
	else
		state = 2;
	r = mm_auth_pubkey(user, ssh_key_type_to_char(ssh_key_type(pubkey)), fp, state);
	if (state == 0)
		return r == SR_MON_AUTH_KEY_OK ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
	snprintf(nc->user, sizeof(nc->user), "%s", user);
	if (r == SR_MON_AUTH_PARTIAL) {
		/* The key is right; now the TOTP code, and nothing else. */
		ssh_set_auth_methods(session, SSH_AUTH_METHOD_INTERACTIVE);
		return SSH_AUTH_PARTIAL;
	}
	if (r == SR_MON_AUTH_SUCCESS) {
		nc->authenticated = 1;
		return SSH_AUTH_SUCCESS;
	}
	return SSH_AUTH_DENIED;
}

static int
nc_auth_none(ssh_session session, const char *user, void *userdata)
{
	return SSH_AUTH_DENIED;
}

static void
nc_kbdint(struct netchild *nc, ssh_message msg)
{
	char name[128], instr[512], prompt[128], code[64];
	const char *prompts[1];
	char echo[1] = { 0 };
	const char *answer;

	if (!ssh_message_auth_kbdint_is_response(msg)) {
		if (!mm_kbdint_query(ssh_message_auth_user(msg), name, sizeof(name), instr,
				     sizeof(instr), prompt, sizeof(prompt))) {
			ssh_message_reply_default(msg);
			return;
		}
		prompts[0] = prompt;
		ssh_message_auth_interactive_request(msg, name, instr, 1, prompts, echo);
		return;
	}
	answer = ssh_userauth_kbdint_getnanswers(nc->session) == 1 ?
		 ssh_userauth_kbdint_getanswer(nc->session, 0) : NULL;
	snprintf(code, sizeof(code), "%s", answer != NULL ? answer : "");
	if (mm_kbdint_answer(code) == SR_MON_AUTH_SUCCESS) {
		nc->authenticated = 1;
		ssh_message_auth_reply_success(msg, 0);
		return;
	}
	ssh_message_reply_default(msg);
}

/* ---- what the message callback sees: everything the callbacks do not take --- */

static void
nc_open_denied(ssh_message msg)
{
	char detail[300];
	const char *what;

	switch (ssh_message_subtype(msg)) {
	case SSH_CHANNEL_DIRECT_TCPIP:
		what = "forward-local";
		break;
	case SSH_CHANNEL_FORWARDED_TCPIP:
		what = "forward-remote";
		break;
	case SSH_CHANNEL_X11:
		what = "x11";
		break;
	case SSH_CHANNEL_AUTH_AGENT:
		what = "agent";
		break;
	default:
		what = "channel";
		break;
	}
	snprintf(detail, sizeof(detail), "%.255s:%d",
		 ssh_message_channel_request_open_destination(msg) ?: "",
		 ssh_message_channel_request_open_destination_port(msg));
	mm_denied(what, detail);
}

static void
nc_global_denied(ssh_message msg)
{
	char detail[300];

	if (ssh_message_subtype(msg) != SSH_GLOBAL_REQUEST_TCPIP_FORWARD)
		return;
	snprintf(detail, sizeof(detail), "%.255s:%d",
		 ssh_message_global_request_address(msg) ?: "",
		 ssh_message_global_request_port(msg));
	mm_denied("forward-remote", detail);
}

static void
nc_channel_request_denied(ssh_message msg)
{
	switch (ssh_message_subtype(msg)) {
	case SSH_CHANNEL_REQUEST_X11:
		mm_denied("x11", "x11-req");
		break;
	case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
		break;  /* taken by the window-change callback as well */
	default:
		mm_denied("channel-request", "unknown request");
		break;
	}
}

/* Returns 0: handled; 1: libssh sends the default refusal. */
static int
nc_message(ssh_session session, ssh_message msg, void *userdata)
{
	struct netchild *nc = userdata;

	switch (ssh_message_type(msg)) {
	case SSH_REQUEST_AUTH:
		if (ssh_message_subtype(msg) == SSH_AUTH_METHOD_INTERACTIVE) {
			nc_kbdint(nc, msg);
			return 0;
		}
		if (ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD)
			mm_auth_method(ssh_message_auth_user(msg), "password");
		return 1;
	case SSH_REQUEST_CHANNEL_OPEN:
		if (nc->authenticated)
			nc_open_denied(msg);
		return 1;
	case SSH_REQUEST_GLOBAL:
		if (nc->authenticated)
			nc_global_denied(msg);
		return 1;
	case SSH_REQUEST_CHANNEL:
		if (ssh_message_subtype(msg) == SSH_CHANNEL_REQUEST_WINDOW_CHANGE)
			return 0;   /* want_reply is false; answering would be a protocol error */
		nc_channel_request_denied(msg);
		return 1;
	default:
		return 1;
	}
}

/* ---- the session channel ----------------------------------------------------- */

/* Refuses after the fact: the message on stderr, status 1, close. */
static void
nc_refuse(struct netchild *nc, const char *msg)
{
	char line[600];

	snprintf(line, sizeof(line), "%s\r\n", msg);
	ssh_channel_write_stderr(nc->channel, line, (uint32_t)strlen(line));
	ssh_channel_request_send_exit_status(nc->channel, 1);
	ssh_channel_send_eof(nc->channel);
	ssh_channel_close(nc->channel);
	nc->closing = 1;
}

static int
nc_pty(ssh_session session, ssh_channel channel, const char *term, int cols, int rows,
       int px, int py, void *userdata)
{
	char msg[512];

	return mm_pty(term, cols, rows, msg, sizeof(msg)) ? 0 : -1;
}

static int
nc_winch(ssh_session session, ssh_channel channel, int cols, int rows, int px, int py,
	 void *userdata)
{
	mm_winch(cols, rows);
	return 0;
}

static int
nc_env(ssh_session session, ssh_channel channel, const char *name, const char *value,
       void *userdata)
{
	char msg[512];

	return mm_env(name, value, msg, sizeof(msg)) ? 0 : -1;
}

static int
nc_shell(ssh_session session, ssh_channel channel, void *userdata)
{
	struct netchild *nc = userdata;
	char msg[512];

	if (nc->started)
		return -1;
	nc->started = 1;
	/* Accept, then refuse with words: a bare failure tells the user nothing. */
	if (!mm_shell(msg, sizeof(msg)))
		nc_refuse(nc, msg);
	return 0;
}

static int
nc_exec(ssh_session session, ssh_channel channel, const char *command, void *userdata)
{
	struct netchild *nc = userdata;
	char msg[512];

	if (nc->started)
		return -1;
	nc->started = 1;
	if (strlen(command) > SR_MON_STR_MAX - 1) {
		mm_denied("exec", "(a command longer than 4095 bytes)");
		nc_refuse(nc, "saferoom: command too long");
		return 0;
	}
	if (!mm_exec(command, msg, sizeof(msg)))
		nc_refuse(nc, msg);
	return 0;
}

static int
nc_subsystem(ssh_session session, ssh_channel channel, const char *name, void *userdata)
{
	struct netchild *nc = userdata;
	char msg[512], line[600];

	if (mm_subsystem(name, msg, sizeof(msg)))
		return -1;  /* the monitor never allows one; no path leads here */
	snprintf(line, sizeof(line), "%s\r\n", msg);
	ssh_channel_write_stderr(nc->channel, line, (uint32_t)strlen(line));
	return -1;
}

static void
nc_agent(ssh_session session, ssh_channel channel, void *userdata)
{
	mm_denied("agent", "auth-agent-req@openssh.com");
}

static void
nc_in_pump(struct netchild *nc);

/* Client stdin: to the monitor, or held (and the SSH window with it). */
static int
nc_data(ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr,
	void *userdata)
{
	struct netchild *nc = userdata;
	size_t take;

	if (!nc->started)
		return 0;
	take = sizeof(nc->in_buf) - nc->in_len;
	if (take > len)
		take = len;
	memcpy(nc->in_buf + nc->in_len, data, take);
	nc->in_len += take;
	nc_in_pump(nc);
	return (int)take;
}

static void
nc_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct netchild *nc = userdata;

	/* Passed on after what is still buffered, by the pump. */
	nc->in_eof = 1;
	nc_in_pump(nc);
}

static void
nc_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct netchild *nc = userdata;

	nc->done = 1;
}

static int nc_out_ready(socket_t fd, int revents, void *userdata);
static int nc_errs_ready(socket_t fd, int revents, void *userdata);

/* The client's window has room again: read the monitor's output again. */
static void
nc_out_resume(struct netchild *nc)
{
	if (!nc->out_paused || nc->channel == NULL || ssh_channel_window_size(nc->channel) == 0)
		return;
	nc->out_paused = 0;
	if (!nc->data_eof)
		ssh_event_add_fd(nc->event, nc->data, POLLIN, nc_out_ready, nc);
	if (!nc->errs_eof)
		ssh_event_add_fd(nc->event, nc->errs, POLLIN, nc_errs_ready, nc);
}

static int
nc_window(ssh_session session, ssh_channel channel, uint32_t bytes, void *userdata)
{
	nc_out_resume(userdata);
	return 0;
}

static ssh_channel
nc_open_session(ssh_session session, void *userdata)
{
	struct netchild *nc = userdata;

	if (nc->channel != NULL) {
		mm_denied("channel", "a second session channel");
		return NULL;
	}
	nc->channel = ssh_channel_new(session);
	if (nc->channel == NULL)
		return NULL;
	memset(&nc->chan_cb, 0, sizeof(nc->chan_cb));
	nc->chan_cb.userdata = nc;
	nc->chan_cb.channel_data_function = nc_data;
	nc->chan_cb.channel_eof_function = nc_eof;
	nc->chan_cb.channel_close_function = nc_close;
	nc->chan_cb.channel_pty_request_function = nc_pty;
	nc->chan_cb.channel_pty_window_change_function = nc_winch;
	nc->chan_cb.channel_env_request_function = nc_env;
	nc->chan_cb.channel_shell_request_function = nc_shell;
	nc->chan_cb.channel_exec_request_function = nc_exec;
	nc->chan_cb.channel_subsystem_request_function = nc_subsystem;
	nc->chan_cb.channel_auth_agent_req_function = nc_agent;
	nc->chan_cb.channel_write_wontblock_function = nc_window;
	ssh_callbacks_init(&nc->chan_cb);
	ssh_set_channel_callbacks(nc->channel, &nc->chan_cb);
	return nc->channel;
}

/* ---- the byte pumps --------------------------------------------------------- */

static int nc_in_ready(socket_t fd, int revents, void *userdata);

static void
nc_in_pump(struct netchild *nc)
{
	ssize_t w;

	while (nc->in_len > 0) {
		w = send(nc->data_w, nc->in_buf, nc->in_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			nc->done = 1;
			return;
		}
		memmove(nc->in_buf, nc->in_buf + w, nc->in_len - (size_t)w);
		nc->in_len -= (size_t)w;
	}
	if (nc->in_len == 0 && nc->in_eof == 1) {
		shutdown(nc->data_w, SHUT_WR);
		nc->in_eof = 2;
	}
	/* Otherwise the POLLOUT watch (nc_in_ready) comes back for the rest. */
}

static int
nc_in_ready(socket_t fd, int revents, void *userdata)
{
	struct netchild *nc = userdata;

	nc_in_pump(nc);
	return 0;
}

/* Monitor output -> channel, never more than the client's window takes. */
static int
nc_pump_out(struct netchild *nc, int fd, int is_stderr, int *eof)
{
	unsigned char buf[NC_BUF];
	uint32_t window = ssh_channel_window_size(nc->channel);
	size_t want = sizeof(buf) < window ? sizeof(buf) : window;
	ssize_t r;

	if (want == 0) {
		nc->out_paused = 1;
		ssh_event_remove_fd(nc->event, nc->data);
		ssh_event_remove_fd(nc->event, nc->errs);
		return 0;
	}
	r = recv(fd, buf, want, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0) {
		*eof = 1;
		ssh_event_remove_fd(nc->event, fd);
		return 0;
	}
	if (is_stderr)
		return ssh_channel_write_stderr(nc->channel, buf, (uint32_t)r) < 0 ? -1 : 0;
	return ssh_channel_write(nc->channel, buf, (uint32_t)r) < 0 ? -1 : 0;
}

static int
nc_out_ready(socket_t fd, int revents, void *userdata)
{
	struct netchild *nc = userdata;

	if (nc->channel == NULL || nc_pump_out(nc, nc->data, 0, &nc->data_eof) < 0)
		nc->done = 1;
	return 0;
}

static int
nc_errs_ready(socket_t fd, int revents, void *userdata)
{
	struct netchild *nc = userdata;

	if (nc->channel == NULL || nc_pump_out(nc, nc->errs, 1, &nc->errs_eof) < 0)
		nc->done = 1;
	return 0;
}

/* The monitor says the command ended (or the session must end). */
static int
nc_ctl_ready(socket_t fd, int revents, void *userdata)
{
	struct netchild *nc = userdata;
	struct sr_error err = { "" };
	struct sr_mon_msg m;
	uint32_t status;

	if (sr_mon_recv(nc->ctl, &m, &err) < 0 || m.type != SR_MON_MSG_EXIT) {
		nc->done = 1;
		return 0;
	}
	status = sr_mon_get_u32(&m);
	if (sr_mon_msg_done(&m) < 0) {
		nc->done = 1;
		return 0;
	}
	nc->exit_status = (int)(status & 0xff);
	ssh_event_remove_fd(nc->event, nc->ctl);
	return 0;
}

/* After the exit message and both output streams' end: status, EOF, close. */
static void
nc_maybe_finish(struct netchild *nc)
{
	if (nc->exit_status < 0 || !nc->data_eof || !nc->errs_eof || nc->channel == NULL)
		return;
	ssh_channel_request_send_exit_status(nc->channel, nc->exit_status);
	ssh_channel_send_eof(nc->channel);
	ssh_channel_close(nc->channel);
	nc->exit_status = -1;
	nc->closing = 1;
}

/* ---- set-up and loop --------------------------------------------------------- */

/*
 * Runs until the client has gone.  After our channel close, the client
 * closes its side and then the connection, as with sshd; a client that does
 * not gets CLOSE_WAIT_S seconds.
 */
#define CLOSE_WAIT_S 5

static void
nc_loop(struct netchild *nc)
{
	time_t deadline = 0;

	while (!nc->done) {
		if (ssh_event_dopoll(nc->event, nc->closing ? 1000 : -1) == SSH_ERROR)
			break;
		if (nc->closing && deadline == 0)
			deadline = time(NULL) + CLOSE_WAIT_S;
		if (deadline != 0 && time(NULL) >= deadline)
			break;
		if (nc->in_len > 0 && !nc->in_blocked) {
			nc->in_blocked = 1;
			ssh_event_add_fd(nc->event, nc->data_w, POLLOUT, nc_in_ready, nc);
		} else if (nc->in_len == 0 && nc->in_blocked) {
			nc->in_blocked = 0;
			ssh_event_remove_fd(nc->event, nc->data_w);
		}
		/*
		 * libssh 0.10 calls the write-wontblock callback when its socket
		 * drains, not when a WINDOW_ADJUST opens the window: a window that
		 * reopens while the socket is already empty would leave output
		 * paused for good.  So look after every round.
		 */
		nc_out_resume(nc);
		nc_maybe_finish(nc);
		if (ssh_get_status(nc->session) & (SSH_CLOSED | SSH_CLOSED_ERROR))
			break;
	}
	/* Let the last packets leave, and the client hang up first, as it expects to. */
	ssh_blocking_flush(nc->session, 2000);
	deadline = time(NULL) + CLOSE_WAIT_S;
	while (!(ssh_get_status(nc->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) &&
	       time(NULL) < deadline) {
		if (ssh_event_dopoll(nc->event, 1000) == SSH_ERROR)
			break;
	}
}

static struct ssh_server_callbacks_struct nc_server_cb = {
	.auth_pubkey_function = nc_auth_pubkey,
	.auth_none_function = nc_auth_none,
	.channel_open_request_session_function = nc_open_session,
};

static int
nc_setup(struct netchild *nc, const struct sr_netchild_args *a, struct sr_error *err)
{
	nc->session = ssh_new();
	if (nc->session == NULL)
		return sr_error_set(err, "ssh_new failed");
	if (ssh_bind_accept_fd(a->bind, nc->session, a->conn) != SSH_OK)
		return sr_error_set(err, "accept: %s", ssh_get_error(a->bind));
	nc->data_w = dup(nc->data);
	if (nc->data_w < 0)
		return sr_error_errno(err, "dup");
	/* From here on the process parses network input: confine it first. */
	if (sr_jail_enter(a->empty_dir, a->uid, a->gid, err) < 0)
		return -1;
	nc_server_cb.userdata = nc;
	ssh_callbacks_init(&nc_server_cb);
	ssh_set_server_callbacks(nc->session, &nc_server_cb);
	ssh_set_message_callback(nc->session, nc_message, nc);
	ssh_set_auth_methods(nc->session, SSH_AUTH_METHOD_PUBLICKEY);
	if (ssh_handle_key_exchange(nc->session) != SSH_OK)
		return sr_error_set(err, "key exchange: %s", ssh_get_error(nc->session));
	ssh_set_blocking(nc->session, 0);
	nc->event = ssh_event_new();
	if (nc->event == NULL || ssh_event_add_session(nc->event, nc->session) != SSH_OK)
		return sr_error_set(err, "ssh event");
	ssh_event_add_fd(nc->event, nc->ctl, POLLIN, nc_ctl_ready, nc);
	ssh_event_add_fd(nc->event, nc->data, POLLIN, nc_out_ready, nc);
	ssh_event_add_fd(nc->event, nc->errs, POLLIN, nc_errs_ready, nc);
	return 0;
}

/* Closes every fd but the ones the net child works with. */
static void
close_others(const struct sr_netchild_args *a)
{
	int keep[] = { a->conn, a->ctl, a->data, a->errs, a->log };
	int fd, i, kept;

	for (fd = 3; fd < 1024; fd++) {
		for (i = 0, kept = 0; i < 5; i++)
			kept |= keep[i] == fd;
		if (!kept)
			close(fd);
	}
}

void
sr_netchild_run(const struct sr_netchild_args *a)
{
	static struct netchild nc;
	struct sr_error err = { "" };

	sr_log_ident("net");
	sr_log_redirect(a->log);
	close_others(a);
	mm_init(a->ctl);
	nc.ctl = a->ctl;
	nc.data = a->data;
	nc.errs = a->errs;
	nc.exit_status = -1;
	if (nc_setup(&nc, a, &err) < 0) {
		log_info("%s", sr_error_msg(&err));
		_exit(1);
	}
	nc_loop(&nc);
	ssh_disconnect(nc.session);
	_exit(0);
}
