/*
 * client.c — how producers hand events to the audit writer.
 *
 * A client is one SOCK_SEQPACKET connection to STATE_DIR/audit.sock.  Sends
 * are pipelined: an ASYNC event is written to the socket and the call
 * returns; a DURABLE event (or a flush) then waits for the writer's
 * cumulative ack, which covers everything this client sent before it.  When
 * the writer is slow the socket fills up and send() waits: that is the
 * backpressure, and it is bounded by CLIENT_TIMEOUT_MS like every wait here,
 * so that a stuck writer shows up as an error instead of a hung session.
 *
 * Once the writer has gone away or reported that it cannot write, the
 * client is dead: every later call fails at once with the reason, because a
 * producer that carried on would be working unrecorded.
 *
 * The local fallback (saferoomctl on a host where saferoomd is not running:
 * the client is its own writer) lives in client_local.c and reaches the
 * store only through struct sr_audit_local, so that a program that only ever
 * talks to a running writer (sr_audit_client_connect) links neither SQLite
 * nor libcrypto, and does not pay for loading them at every start.
 *
 * A client is not shared between threads, nor used across fork().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "saferoom/audit.h"
#include "wire.h"

/* Longest wait for the writer: connect handshake, a full socket, a durable ack. */
#define CLIENT_TIMEOUT_MS 30000

/* Marks the client dead (the first reason wins) and fails with it. */
static int __attribute__((format(printf, 3, 4)))
kill_client(struct sr_audit_client *c, struct sr_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!c->dead) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
		c->dead = 1;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
	}
	return sr_error_set(err, "%s", c->why);
}

/* One message from the writer: an ack moves acked_id, an error kills the client. */
static int
handle_message(struct sr_audit_client *c, const unsigned char *buf, size_t len,
	       struct sr_error *err)
{
	struct sr_wire_msg msg;
	const char *why;

	if (sr_wire_decode(buf, len, &msg, &why) < 0)
		return kill_client(c, err, "audit writer at %s: protocol error: %s", c->path, why);
	if (msg.kind == SR_WIRE_ERROR)
		return kill_client(c, err, "audit writer: %s", msg.reason);
	if (msg.kind != SR_WIRE_ACK || msg.id < c->acked_id || msg.id > c->sent_id)
		return kill_client(c, err, "audit writer at %s: protocol error: unexpected %s",
				   c->path, msg.kind == SR_WIRE_ACK ? "ack" : "message");
	c->acked_id = msg.id;
	c->acked_seq = msg.seq;
	c->welcomed = 1;
	c->received++;
	return 0;
}

/*
 * Reads every message waiting (never blocks).  Returns 0, or -1 once the
 * client is dead.  A writer that hung up may have left its reason queued:
 * the kernel reports the reset (sk_err) before the queued messages, so after
 * an error we read on, and the writer's own words win over "gone".
 */
static int
read_messages(struct sr_audit_client *c, struct sr_error *err)
{
	unsigned char buf[SR_WIRE_HDR_LEN + SR_WIRE_REASON_MAX];
	int first_errno = 0;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n > (ssize_t)sizeof(buf))
			return kill_client(c, err, "audit writer at %s: protocol error: "
					   "message too long", c->path);
		if (n > 0) {
			if (handle_message(c, buf, (size_t)n, err) < 0)
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && first_errno == 0) {
			first_errno = errno;
			continue;
		}
		break;
	}
	if (first_errno != 0)
		return kill_client(c, err, "audit writer at %s is gone: %s", c->path,
				   strerror(first_errno));
	if (n < 0)
		return 0;       /* EAGAIN: nothing more for now */
	return kill_client(c, err, "audit writer at %s is gone", c->path);
}

/* Waits up to the deadline for events on the socket and handles what came. */
static int
wait_socket(struct sr_audit_client *c, short events, int64_t deadline, const char *what,
	    struct sr_error *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = events | POLLIN };
	int64_t left = deadline - sr_audit_monotonic_ms();
	int rc;

	if (left <= 0)
		return kill_client(c, err, "audit writer at %s did not %s within %d s", c->path,
				   what, CLIENT_TIMEOUT_MS / 1000);
	rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
	if (rc < 0 && errno != EINTR)
		return kill_client(c, err, "audit writer at %s: poll: %s", c->path,
				   strerror(errno));
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		return read_messages(c, err);
	return 0;
}

/* Waits until the writer's ack covers id. */
static int
wait_acked(struct sr_audit_client *c, uint64_t id, struct sr_error *err)
{
	int64_t deadline = sr_audit_monotonic_ms() + CLIENT_TIMEOUT_MS;

	while (c->acked_id < id)
		if (wait_socket(c, 0, deadline, "confirm the event durable", err) < 0)
			return -1;
	return 0;
}

/* Sends one message, waiting (bounded) while the socket is full. */
static int
send_message(struct sr_audit_client *c, const unsigned char *buf, size_t len,
	     struct sr_error *err)
{
	int64_t deadline = 0;

	for (;;) {
		if (send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			int saved = errno;

			/* Its last words, if it left any, say more than EPIPE. */
			if (read_messages(c, err) < 0)
				return -1;
			return kill_client(c, err, "audit writer at %s is gone: %s", c->path,
					   strerror(saved));
		}
		if (deadline == 0)
			deadline = sr_audit_monotonic_ms() + CLIENT_TIMEOUT_MS;
		if (wait_socket(c, POLLOUT, deadline, "take an event", err) < 0)
			return -1;
	}
}

/* ---- opening ---------------------------------------------------------------- */

/* Connects; returns 0, 1 when no writer listens there, or -1. */
static int
connect_writer(struct sr_audit_client *c, struct sr_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return sr_error_errno(err, "audit client: socket");
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		sr_error_errno(err, "no audit writer at %s", c->path);
		close(c->fd);
		c->fd = -1;
		return 1;
	}
	return sr_error_errno(err, "audit writer at %s", c->path);
}

/* The writer greets every producer it lets in with an ack of nothing. */
static int
await_welcome(struct sr_audit_client *c, struct sr_error *err)
{
	int64_t deadline = sr_audit_monotonic_ms() + CLIENT_TIMEOUT_MS;
	int flags = fcntl(c->fd, F_GETFL);

	if (flags < 0 || fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return sr_error_errno(err, "audit client: fcntl");
	while (!c->welcomed)
		if (wait_socket(c, 0, deadline, "let us in", err) < 0)
			return -1;
	return 0;
}

struct sr_audit_client *
sr_audit_client_try_connect(const char *state_dir, int *no_writer, struct sr_error *err)
{
	struct sr_audit_client *c;
	int rc;

	*no_writer = 0;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sr_error_errno(err, "audit client");
		return NULL;
	}
	c->fd = -1;
	c->tok = sr_wire_tokener_new();
	if (c->tok == NULL) {
		sr_error_set(err, "audit client: out of memory");
		goto out_free;
	}
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s/%s", state_dir, SR_AUDIT_SOCK) >=
	    sizeof(c->path)) {
		sr_error_set(err, "%s/%s: path too long for a unix socket", state_dir,
			     SR_AUDIT_SOCK);
		goto out_free;
	}
	rc = connect_writer(c, err);
	if (rc == 1) {
		/* No writer: the caller may become one (client_local.c) with this client. */
		*no_writer = 1;
		return c;
	}
	if (rc == 0 && await_welcome(c, err) == 0)
		return c;
out_free:
	sr_audit_client_free(c);
	return NULL;
}

struct sr_audit_client *
sr_audit_client_connect(const char *state_dir, struct sr_error *err)
{
	struct sr_audit_client *c;
	int no_writer;

	c = sr_audit_client_try_connect(state_dir, &no_writer, err);
	if (c != NULL && no_writer) {
		sr_audit_client_free(c);
		return NULL;
	}
	return c;
}

void
sr_audit_client_free(struct sr_audit_client *c)
{
	if (c == NULL)
		return;
	/* Events already sent stay queued for the writer after we close. */
	if (c->fd >= 0)
		close(c->fd);
	if (c->local != NULL)
		c->local->free(c->store);
	if (c->tok != NULL)
		json_tokener_free(c->tok);
	free(c);
}

/* ---- sending ------------------------------------------------------------------- */

int
sr_audit_client_send(struct sr_audit_client *c, const struct sr_audit_event *ev,
		     enum sr_audit_send_flags flags, int64_t *seq_out, struct sr_error *err)
{
	const char *why;
	ssize_t len;

	if (seq_out != NULL)
		*seq_out = 0;
	if (c->dead)
		return sr_error_set(err, "%s", c->why);
	if (sr_wire_check_event(c->tok, ev, &why) < 0)
		return sr_error_set(err, "audit event %.64s: %s",
				    ev->type != NULL ? ev->type : "(no type)", why);
	if (c->local != NULL)
		return c->local->append(c->store, ev, seq_out, err);
	len = sr_wire_encode_event(c->buf, sizeof(c->buf),
				   flags == SR_AUDIT_DURABLE ? SR_WIRE_F_DURABLE : 0,
				   c->sent_id + 1, ev);
	if (len < 0)
		return sr_error_set(err, "audit event %.64s: larger than %d bytes", ev->type,
				    SR_AUDIT_EVENT_MAX);
	if (send_message(c, c->buf, (size_t)len, err) < 0)
		return -1;
	c->sent_id++;
	if (flags != SR_AUDIT_DURABLE)
		return 0;
	if (wait_acked(c, c->sent_id, err) < 0)
		return -1;
	if (seq_out != NULL)
		*seq_out = c->acked_seq;
	return 0;
}

int
sr_audit_client_flush_begin(struct sr_audit_client *c, struct sr_error *err)
{
	unsigned char buf[SR_WIRE_HDR_LEN];

	if (c->dead)
		return sr_error_set(err, "%s", c->why);
	if (c->local != NULL || c->acked_id == c->sent_id || c->synced_id == c->sent_id)
		return 0;
	if (send_message(c, buf, sr_wire_encode_sync(buf, c->sent_id), err) < 0)
		return -1;
	c->synced_id = c->sent_id;
	return 0;
}

int
sr_audit_client_flush(struct sr_audit_client *c, struct sr_error *err)
{
	if (sr_audit_client_flush_begin(c, err) < 0)
		return -1;
	if (c->local != NULL || c->acked_id == c->sent_id)
		return 0;
	return wait_acked(c, c->sent_id, err);
}

/* ---- pruning -------------------------------------------------------------------- */

/*
 * Waits until the writer's ack covers id.  A large prune takes the writer
 * many chunks; it acks what it already had after each one, and each such
 * sign of life restarts the timeout, so that only a silent writer fails it.
 */
static int
wait_prune(struct sr_audit_client *c, uint64_t id, struct sr_error *err)
{
	int64_t deadline = sr_audit_monotonic_ms() + CLIENT_TIMEOUT_MS;
	uint64_t seen = c->received;

	while (c->acked_id < id) {
		if (wait_socket(c, 0, deadline, "finish the prune", err) < 0)
			return -1;
		if (c->received != seen) {
			seen = c->received;
			deadline = sr_audit_monotonic_ms() + CLIENT_TIMEOUT_MS;
		}
	}
	return 0;
}

int
sr_audit_client_prune(struct sr_audit_client *c, const struct sr_audit_event *who,
		      int retention_days, int64_t *event_seq, struct sr_error *err)
{
	ssize_t len;

	*event_seq = 0;
	if (c->dead)
		return sr_error_set(err, "%s", c->why);
	if (c->local != NULL)
		return c->local->prune(c->store, who, retention_days, event_seq, err);
	len = sr_wire_encode_prune(c->buf, sizeof(c->buf), c->sent_id + 1, who, retention_days);
	if (len < 0)
		return sr_error_set(err, "audit prune: request larger than %d bytes",
				    SR_AUDIT_EVENT_MAX);
	if (send_message(c, c->buf, (size_t)len, err) < 0)
		return -1;
	c->sent_id++;
	/* The writer answers once the prune is committed: an ack, or its reason for refusing. */
	if (wait_prune(c, c->sent_id, err) < 0)
		return -1;
	*event_seq = c->acked_seq;
	return 0;
}
