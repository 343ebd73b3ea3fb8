/*
 * writer.c — the single writer of audit.db.
 *
 * Producers (saferoomd's monitors, saferoomctl) connect to
 * STATE_DIR/audit.sock and stream events.  The writer's main thread runs one
 * poll() loop: it accepts producers, reads and checks everything waiting on
 * every connection into a batch, and acknowledges.  A second thread, the
 * committer, appends one batch at a time to the store in one transaction
 * (group commit).  While the committer is inside a commit and its fsync, the
 * main thread keeps filling the next batch, so the disk's latency becomes
 * batch size instead of idle producers: the busier the producers, the bigger
 * the batch, up to max_batch.  The two threads share nothing but the batch
 * being handed over (under a mutex) and the store (used by the main thread
 * only while the committer is idle: seals).
 *
 * An ack is cumulative ("all your events up to id N are durable, N got seq
 * S") and is sent only once the commit that made them durable has returned,
 * to the producers that asked (a DURABLE event or a SYNC).
 *
 * Fail closed: when a commit fails (disk full, I/O error), every producer is
 * told why, every connection is closed and sr_audit_writer_run() returns -1,
 * so that saferoomd refuses new sessions and ends running ones rather than
 * letting anyone work unrecorded.
 *
 * Seals.  Every seal_interval_s, and once more at shutdown, the chain head
 * (seq S, hash H) is sealed: written first to the witness file audit.seals,
 * then to syslog (authpriv.notice) and the kernel audit log, and last into
 * the chain itself as an audit.seal event at S+1 whose details are
 * {"sealed_seq":S,"sealed_hash":"H"}.  So what is sealed is always the head
 * *before* the seal event, and the same (S, H) can be found in all four
 * places; the seal event itself is covered by the next seal.  A periodic seal
 * is skipped when nothing but our own last seal event was appended since.
 * A kernel audit failure is logged but not fatal: the witness file and the
 * chain, which are, have already been written.
 *
 * Prunes.  A producer (saferoomctl audit prune) may ask the writer to prune
 * the trail, since only the writer may change audit.db.  The request waits
 * until the main thread has committed everything read so far and the
 * committer is idle, as a seal does; the prune (prune.c) is then one
 * transaction of its own, and its audit.prune event's seq is acked to the
 * producer that asked.  A prune that fails is that producer's error, not a
 * reason to stop: its transaction was rolled back and the trail is as it was.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "wire.h"

#define DEFAULT_SEAL_INTERVAL_S 60
#define DEFAULT_RETENTION_DAYS 730
#define DEFAULT_MAX_BATCH 4096
/* More connections than saferoomd can have monitors means something is wrong. */
#define MAX_PRODUCERS 4096
/* Messages taken from one producer per recvmmsg(), so that no one starves the rest. */
#define RECV_VEC 64
/* Room for a batch's bytes; a full RECV_VEC of the largest messages always fits on top. */
#define ARENA_BASE (4u << 20)
#define ARENA_SIZE (ARENA_BASE + RECV_VEC * (size_t)SR_WIRE_MSG_MAX)

#define wlog(...) writer_log(__func__, __VA_ARGS__)

/* A prune asked for, waiting for the committer to be idle. */
struct prune_req {
	uint64_t id;
	int days;
	char *field[4];        /* user, project, session, source of who asked */
};

/*
 * A connected producer.  Its slot in writer.prod never moves while events
 * of it sit in a batch (pending > 0), because batches name it by slot.
 */
struct producer {
	int fd;                /* -1: a free slot */
	uid_t uid;
	pid_t pid;
	uint64_t last_id;      /* last event id received */
	uint64_t durable_id;   /* last event id committed */
	int64_t durable_seq;   /* the seq it got */
	uint64_t ack_target;   /* an ack is owed once durable_id reaches this */
	size_t pending;        /* its events in batches not yet committed */
	int want_ack;          /* a DURABLE event or a SYNC is waiting for its ack */
	int ack_blocked;       /* the ack did not fit in the socket; retry on POLLOUT */
	int closing;           /* EOF, error or malformed: close once nothing is pending */
	int64_t last_read_ms;  /* when events nobody waits for were last read from it */
	int64_t resting_until; /* not polled for input before this (rest_producers()) */
	struct prune_req *prune; /* not read from again until this is answered */
};

/* A batch of events and the bytes they point into. */
struct batch {
	struct sr_audit_event *evs;
	struct { size_t slot; uint64_t id; } *origin;   /* who sent each event */
	size_t n;
	unsigned char *arena;
	size_t used;
	int rc;                /* the committer's result */
	struct sr_error err;
};

struct writer {
	const struct sr_audit_writer_config *cfg;
	int max_batch;
	struct sr_audit_store *store;
	struct sr_kaudit *kaudit;
	struct json_tokener *tok;
	int listen_fd;
	int signal_fd;
	sigset_t old_mask;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int sock_bound;
	struct producer *prod;
	size_t n_slots;           /* slots in use or used before: prod[0..n_slots) */
	struct pollfd *pfd;
	size_t *pfd_slot;         /* pfd[i] watches prod[pfd_slot[i]] */
	struct batch batches[2];
	struct batch *filling;    /* the main thread reads into this one */
	struct batch *committing; /* handed to the committer, or NULL */
	struct mmsghdr msgs[RECV_VEC];
	struct iovec iov[RECV_VEC];
	/* The committer thread and its handover. */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *job;        /* set by the main thread, cleared by the committer */
	int quit;
	int done_fd;              /* eventfd: the committer finished a job */
	uint64_t kaudit_failures; /* exec events the kernel audit log did not take */
	int64_t last_seal_event;  /* seq of our last audit.seal event, 0 before the first */
	int64_t next_seal_ms;     /* CLOCK_MONOTONIC */
	int64_t filling_since_ms; /* when the filling batch got its first event; 0: empty */
	int urgent;               /* a producer waits for durability: commit at once */
	size_t prunes_waiting;    /* producers whose prune is not yet run */
	int stop;
};

static void __attribute__((format(printf, 2, 3)))
writer_log(const char *func, const char *fmt, ...)
{
	char msg[SR_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "saferoom-audit-writer: %s: %s\n", func, msg);
}

/* ---- producers ------------------------------------------------------------ */

/* Best effort: a producer whose socket is full learns from the close instead. */
static void
send_error(int fd, const char *reason)
{
	unsigned char buf[SR_WIRE_HDR_LEN + SR_WIRE_REASON_MAX];
	size_t len = sr_wire_encode_error(buf, reason);

	(void)send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
drop_producer(struct producer *p, const char *why)
{
	wlog("dropping producer pid %ld uid %ld: %s", (long)p->pid, (long)p->uid, why);
	send_error(p->fd, why);
	p->closing = 1;
}

/* Sends p its cumulative ack; returns 0, or -1 when the producer is gone. */
static int
send_ack(struct producer *p)
{
	unsigned char buf[SR_WIRE_ACK_LEN];
	size_t len = sr_wire_encode_ack(buf, p->durable_id, p->durable_seq);

	if (send(p->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) {
		p->ack_blocked = 0;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
		/* Acks are cumulative: the next one we manage to send says it all. */
		p->ack_blocked = 1;
		return 0;
	}
	return -1;
}

/* Only root and the writer's own user may write the trail. */
static int
peer_allowed(int fd, struct producer *p, char *why, size_t whylen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(why, whylen, "cannot read peer credentials: %s", strerror(errno));
		return 0;
	}
	p->uid = cred.uid;
	p->pid = cred.pid;
	if (cred.uid != 0 && cred.uid != geteuid()) {
		snprintf(why, whylen, "permission denied: uid %ld may not write the audit trail",
			 (long)cred.uid);
		return 0;
	}
	return 1;
}

static struct producer *
free_slot(struct writer *w)
{
	for (size_t i = 0; i < w->n_slots; i++)
		if (w->prod[i].fd < 0)
			return &w->prod[i];
	if (w->n_slots == MAX_PRODUCERS)
		return NULL;
	return &w->prod[w->n_slots++];
}

static void
accept_one(struct writer *w, int fd)
{
	struct producer p = { .fd = fd }, *slot;
	char why[SR_WIRE_REASON_MAX];

	if (!peer_allowed(fd, &p, why, sizeof(why)))
		goto out_refuse;
	slot = free_slot(w);
	if (slot == NULL) {
		snprintf(why, sizeof(why), "too many producers (%d)", MAX_PRODUCERS);
		goto out_refuse;
	}
	/* The welcome: an ack of nothing, so the producer knows it was let in. */
	if (send_ack(&p) < 0 || p.ack_blocked) {
		close(fd);
		return;
	}
	*slot = p;
	return;
out_refuse:
	wlog("refusing producer pid %ld uid %ld: %s", (long)p.pid, (long)p.uid, why);
	send_error(fd, why);
	close(fd);
}

static void
accept_all(struct writer *w)
{
	for (;;) {
		int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				wlog("accept: %s", strerror(errno));
			return;
		}
		accept_one(w, fd);
	}
}

static void
prune_req_free(struct prune_req *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < 4; i++)
		free(r->field[i]);
	free(r);
}

/* Forgets p's prune request, run or not. */
static void
drop_prune(struct writer *w, struct producer *p)
{
	if (p->prune == NULL)
		return;
	prune_req_free(p->prune);
	p->prune = NULL;
	w->prunes_waiting--;
}

/* Closes the producers marked closing that no batch refers to any more. */
static void
reap_producers(struct writer *w)
{
	for (size_t i = 0; i < w->n_slots; i++) {
		struct producer *p = &w->prod[i];

		if (p->fd < 0 || !p->closing || p->pending > 0)
			continue;
		drop_prune(w, p);
		close(p->fd);
		memset(p, 0, sizeof(*p));
		p->fd = -1;
	}
	while (w->n_slots > 0 && w->prod[w->n_slots - 1].fd < 0)
		w->n_slots--;
}

/* Sends every ack that is owed: the events asked about are durable now. */
static void
send_acks(struct writer *w)
{
	for (size_t i = 0; i < w->n_slots; i++) {
		struct producer *p = &w->prod[i];
		int owed = p->want_ack && p->durable_id >= p->ack_target;

		if (p->fd < 0 || p->closing || !(owed || p->ack_blocked))
			continue;
		if (owed)
			p->want_ack = 0;
		if (send_ack(p) < 0)
			p->closing = 1;
	}
}

/* ---- reading a batch ---------------------------------------------------- */

static int
batch_full(const struct writer *w, const struct batch *b)
{
	return b->n >= (size_t)w->max_batch || ARENA_SIZE - b->used < RECV_VEC * SR_WIRE_MSG_MAX;
}

/* {"retention_days":N} with N in 1..36500, as saferoom.conf allows; else 0. */
static int
prune_days(const char *details)
{
	json_object *o = json_tokener_parse(details), *v;
	int64_t days = 0;

	if (o != NULL && json_object_object_get_ex(o, "retention_days", &v) &&
	    json_object_is_type(v, json_type_int))
		days = json_object_get_int64(v);
	json_object_put(o);
	return days >= 1 && days <= 36500 ? (int)days : 0;
}

/* Takes a PRUNE: noted now, run by serve() once the committer is idle. */
static int
take_prune(struct writer *w, struct producer *p, const struct sr_wire_msg *msg,
	   const char **why)
{
	struct prune_req *r;

	*why = "event ids out of order";
	if (msg->id != p->last_id + 1)
		return -1;
	*why = "a prune request with no retention_days from 1 to 36500";
	if (prune_days(msg->field[6]) == 0)
		return -1;
	*why = "out of memory";
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->id = msg->id;
	r->days = prune_days(msg->field[6]);
	for (int i = 0; i < 4; i++) {
		r->field[i] = strdup(msg->field[i + 1]);
		if (r->field[i] == NULL) {
			prune_req_free(r);
			return -1;
		}
	}
	p->prune = r;
	p->last_id = msg->id;
	w->prunes_waiting++;
	return 0;
}

/* Takes one message of producer slot i into the filling batch; -1 drops the producer. */
static int
take_message(struct writer *w, size_t i, const unsigned char *buf, size_t len)
{
	struct producer *p = &w->prod[i];
	struct batch *b = w->filling;
	struct sr_wire_msg msg;
	const char *why;

	if (sr_wire_decode(buf, len, &msg, &why) < 0)
		goto out_drop;
	why = "a message after a prune request, before its answer";
	if (p->prune != NULL)
		goto out_drop;
	if (msg.kind == SR_WIRE_PRUNE) {
		if (take_prune(w, p, &msg, &why) < 0)
			goto out_drop;
		return 0;
	}
	if (msg.kind == SR_WIRE_SYNC) {
		why = "sync for events never sent";
		if (msg.id != p->last_id)
			goto out_drop;
		p->want_ack = 1;
		p->ack_target = msg.id;
		w->urgent = 1;
		return 0;
	}
	why = "unexpected message kind";
	if (msg.kind != SR_WIRE_EVENT)
		goto out_drop;
	why = "event ids out of order";
	if (msg.id != p->last_id + 1)
		goto out_drop;
	sr_wire_event_fields(&msg, &b->evs[b->n]);
	/* Checked here, off the committer's path, so one bad event cannot fail a batch. */
	if (sr_wire_check_event(w->tok, &b->evs[b->n], &why) < 0)
		goto out_drop;
	b->origin[b->n].slot = i;
	b->origin[b->n].id = msg.id;
	b->n++;
	p->pending++;
	p->last_id = msg.id;
	if (msg.flags & SR_WIRE_F_DURABLE) {
		p->want_ack = 1;
		p->ack_target = msg.id;
		w->urgent = 1;
	}
	return 0;
out_drop:
	drop_producer(p, why);
	return -1;
}

/*
 * One recvmmsg() from producer slot i into the filling batch's arena.  Each
 * message gets a slot of SR_WIRE_MSG_MAX bytes, so none is ever truncated;
 * the received ones are then packed down so the arena holds only real bytes
 * (message k moves to at most where slot k began, so no unread message is
 * overwritten).  Returns the number of messages taken.
 */
static int
read_producer(struct writer *w, size_t i)
{
	struct producer *p = &w->prod[i];
	struct batch *b = w->filling;
	size_t slots = RECV_VEC, room = (size_t)w->max_batch - b->n;
	unsigned char *base = b->arena + b->used;
	int r;

	if (slots > room)
		slots = room;
	for (size_t k = 0; k < slots; k++) {
		w->iov[k].iov_base = base + k * SR_WIRE_MSG_MAX;
		w->iov[k].iov_len = SR_WIRE_MSG_MAX;
		memset(&w->msgs[k], 0, sizeof(w->msgs[k]));
		w->msgs[k].msg_hdr.msg_iov = &w->iov[k];
		w->msgs[k].msg_hdr.msg_iovlen = 1;
	}
	r = recvmmsg(p->fd, w->msgs, (unsigned int)slots, MSG_DONTWAIT, NULL);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			p->closing = 1;
		return 0;
	}
	for (int k = 0; k < r; k++) {
		size_t len = w->msgs[k].msg_len;
		unsigned char *dst = b->arena + b->used;

		if (len == 0) {
			/* SEQPACKET reports the peer's close as an empty message. */
			p->closing = 1;
			return k;
		}
		if (w->msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
			drop_producer(p, "message larger than the protocol allows");
			return k;
		}
		memmove(dst, w->iov[k].iov_base, len);
		if (take_message(w, i, dst, len) < 0)
			return k;
		b->used += len;
	}
	return r;
}

/*
 * Round-robin passes over the producers poll() found readable until they
 * are dry or the batch is full.  Returns the number of messages taken.
 */
static size_t
read_batch(struct writer *w, size_t n_pfd)
{
	size_t taken = 0;
	int r = 1;

	while (r > 0 && !batch_full(w, w->filling)) {
		r = 0;
		for (size_t k = 0; k < n_pfd && !batch_full(w, w->filling); k++) {
			size_t i = w->pfd_slot[k];

			/* A producer waiting for its prune is read again once answered. */
			if (w->prod[i].closing || w->prod[i].prune != NULL ||
			    !(w->pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r += read_producer(w, i);
		}
		taken += (size_t)r;
	}
	return taken;
}

/* ---- the committer ---------------------------------------------------------- */

static void *
committer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct batch *b;

		while (w->job == NULL && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->job == NULL)
			break;
		b = w->job;
		pthread_mutex_unlock(&w->lock);
		b->rc = sr_audit_store_append(w->store, b->evs, b->n, &b->err);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
		(void)!write(w->done_fd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Hands the filling batch to the committer and starts filling the other one. */
static void
start_commit(struct writer *w)
{
	struct batch *b = w->filling;

	w->filling = b == &w->batches[0] ? &w->batches[1] : &w->batches[0];
	w->committing = b;
	w->filling_since_ms = 0;
	w->urgent = 0;
	pthread_mutex_lock(&w->lock);
	w->job = b;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/*
 * Every exec event, once durable, also goes to the kernel audit log as a
 * USER_CMD record (DESIGN: command events reach ausearch too).  Here rather
 * than in the sandbox's listener, so that the exec does not wait for the
 * kernel's answer.  Only while an audit daemon is registered: without one
 * the kernel just prints records, rate-limited, so that a record per exec
 * would cost every exec a little (a netlink round trip, kauditd's work) and
 * reach nobody; logins, sessions and seals are sent regardless.  Like a
 * seal's, a failure is logged, not fatal: the trail itself has the event.
 */
static void
mirror_execs(struct writer *w, const struct batch *b)
{
	if (!sr_kaudit_daemon_running(w->kaudit))
		return;
	for (size_t k = 0; k < b->n; k++) {
		struct sr_error e = { { 0 } };

		if (strcmp(b->evs[k].type, "exec") != 0)
			continue;
		if (sr_kaudit_exec(w->kaudit, &b->evs[k], &e) < 0 && w->kaudit_failures++ == 0)
			wlog("exec %" PRId64 " not in the kernel audit log (%s); further failures "
			     "are counted at shutdown", b->evs[k].seq, e.msg);
	}
}

/*
 * Takes the committer's result: the batch's events are durable, so their
 * producers' durable marks move.  Returns -1 when the commit failed.
 */
static int
finish_commit(struct writer *w, struct sr_error *err)
{
	struct batch *b = w->committing;
	uint64_t count;

	(void)!read(w->done_fd, &count, sizeof(count));
	/* The lock orders our reads of the batch after the committer's writes. */
	pthread_mutex_lock(&w->lock);
	pthread_mutex_unlock(&w->lock);
	w->committing = NULL;
	if (b->rc < 0)
		return sr_error_set(err, "cannot write the audit trail: %s", b->err.msg);
	for (size_t k = 0; k < b->n; k++) {
		struct producer *p = &w->prod[b->origin[k].slot];

		p->durable_id = b->origin[k].id;
		p->durable_seq = b->evs[k].seq;
		p->pending--;
	}
	/* The acks first: nobody waits for the kernel's copy. */
	send_acks(w);
	mirror_execs(w, b);
	b->n = 0;
	b->used = 0;
	return 0;
}

/* Waits for the committer to finish the batch it has, if any. */
static int
wait_commit(struct writer *w, struct sr_error *err)
{
	struct pollfd pfd = { .fd = w->done_fd, .events = POLLIN };

	if (w->committing == NULL)
		return 0;
	while (poll(&pfd, 1, -1) < 0)
		if (errno != EINTR)
			return sr_error_errno(err, "audit writer: poll");
	return finish_commit(w, err);
}

/* Tells every producer why we stop, and closes them all: fail closed. */
static void
fail_all(struct writer *w, const char *reason)
{
	wlog("%s", reason);
	syslog(LOG_AUTHPRIV | LOG_CRIT, "saferoom audit writer stops: %s", reason);
	for (size_t i = 0; i < w->n_slots; i++) {
		if (w->prod[i].fd < 0)
			continue;
		send_error(w->prod[i].fd, reason);
		close(w->prod[i].fd);
		w->prod[i].fd = -1;
	}
}

/* ---- seals ------------------------------------------------------------------- */

static char *
seal_details(int64_t seq, const char *hex)
{
	json_object *o = json_object_new_object();
	char *out = NULL;

	if (o == NULL)
		return NULL;
	if (json_object_object_add(o, "sealed_seq", json_object_new_int64(seq)) == 0 &&
	    json_object_object_add(o, "sealed_hash", json_object_new_string(hex)) == 0)
		out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static int
append_seal_event(struct writer *w, int64_t seq, const char *hex, struct sr_error *err)
{
	struct sr_audit_event ev = { .type = "audit.seal", .source = "saferoom-audit-writer" };
	struct sr_error e = { { 0 } };
	char *details = seal_details(seq, hex);

	if (details == NULL)
		return sr_error_set(err, "sealing the audit trail: out of memory");
	ev.details = details;
	if (sr_audit_store_append(w->store, &ev, 1, &e) < 0) {
		free(details);
		return sr_error_set(err, "cannot write the audit trail: %s", e.msg);
	}
	free(details);
	w->last_seal_event = ev.seq;
	return 0;
}

/*
 * Seals the head as described at the top of this file.  final: at shutdown.
 * Runs on the main thread while the committer is idle.
 */
static int
seal(struct writer *w, int final, struct sr_error *err)
{
	struct sr_audit_seal s;
	struct sr_error e = { { 0 } };
	char hex[2 * SR_AUDIT_HASH_LEN + 1];

	if (sr_audit_store_head(w->store, &s.seq, s.hash, &e) < 0)
		return sr_error_set(err, "sealing the audit trail: %s", e.msg);
	if (s.seq == 0 || (!final && s.seq == w->last_seal_event))
		return 0;
	sr_audit_hex(s.hash, hex);
	if (sr_audit_seals_append(w->cfg->state_dir, &s, sr_audit_now_ms(), &e) < 0)
		return sr_error_set(err, "cannot write the seal witness: %s", e.msg);
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "saferoom audit seal seq=%" PRId64 " hash=%s", s.seq, hex);
	if (sr_kaudit_seal(w->kaudit, s.seq, hex, &e) < 0)
		wlog("%s", e.msg);
	return append_seal_event(w, s.seq, hex, err);
}

/* ---- setup and teardown ------------------------------------------------------ */

static int
open_signals(struct writer *w, struct sr_error *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before the committer starts, so that it inherits the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, &w->old_mask) != 0)
		return sr_error_set(err, "audit writer: blocking signals failed");
	w->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->signal_fd < 0)
		return sr_error_errno(err, "audit writer: signalfd");
	return 0;
}

/*
 * Binds STATE_DIR/audit.sock with mode 0600.  Called only once the store is
 * open, i.e. once we hold audit.lock: a socket file left there can then only
 * be a dead writer's, and removing it cannot steal a live writer's socket.
 */
static int
open_socket(struct writer *w, struct sr_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_umask;
	int rc;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", w->cfg->state_dir,
			     SR_AUDIT_SOCK) >= sizeof(sa.sun_path))
		return sr_error_set(err, "%s/%s: path too long for a unix socket",
				    w->cfg->state_dir, SR_AUDIT_SOCK);
	memcpy(w->sock_path, sa.sun_path, sizeof(w->sock_path));
	w->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->listen_fd < 0)
		return sr_error_errno(err, "audit writer: socket");
	if (unlink(sa.sun_path) < 0 && errno != ENOENT)
		return sr_error_errno(err, "%s: removing a stale socket", sa.sun_path);
	/* The umask makes the file 0600 from its first moment; no window for a connect. */
	old_umask = umask(0177);
	rc = bind(w->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (rc < 0)
		return sr_error_errno(err, "%s: bind", sa.sun_path);
	w->sock_bound = 1;
	if (listen(w->listen_fd, SOMAXCONN) < 0)
		return sr_error_errno(err, "%s: listen", sa.sun_path);
	return 0;
}

static int
alloc_batch(struct writer *w, struct batch *b)
{
	b->evs = calloc((size_t)w->max_batch, sizeof(*b->evs));
	b->origin = calloc((size_t)w->max_batch, sizeof(*b->origin));
	b->arena = malloc(ARENA_SIZE);
	return b->evs != NULL && b->origin != NULL && b->arena != NULL ? 0 : -1;
}

static int
alloc_writer(struct writer *w, struct sr_error *err)
{
	w->prod = calloc(MAX_PRODUCERS, sizeof(*w->prod));
	w->pfd = calloc(MAX_PRODUCERS + 3, sizeof(*w->pfd));
	w->pfd_slot = calloc(MAX_PRODUCERS, sizeof(*w->pfd_slot));
	w->tok = sr_wire_tokener_new();
	if (w->prod == NULL || w->pfd == NULL || w->pfd_slot == NULL || w->tok == NULL ||
	    alloc_batch(w, &w->batches[0]) < 0 || alloc_batch(w, &w->batches[1]) < 0)
		return sr_error_set(err, "audit writer: out of memory");
	w->filling = &w->batches[0];
	return 0;
}

static int
start_committer(struct writer *w, struct sr_error *err)
{
	int rc;

	w->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->done_fd < 0)
		return sr_error_errno(err, "audit writer: eventfd");
	rc = pthread_create(&w->thread, NULL, committer_main, w);
	if (rc != 0) {
		errno = rc;
		return sr_error_errno(err, "audit writer: starting the committer");
	}
	w->thread_started = 1;
	return 0;
}

static int
start(struct writer *w, int ready_fd, struct sr_error *err)
{
	w->store = sr_audit_store_open(w->cfg->state_dir, SR_AUDIT_WRITE,
				       w->cfg->retention_days > 0 ? w->cfg->retention_days :
				       DEFAULT_RETENTION_DAYS, err);
	if (w->store == NULL)
		return -1;
	w->kaudit = sr_kaudit_open(err);
	if (w->kaudit == NULL || alloc_writer(w, err) < 0 || open_signals(w, err) < 0 ||
	    start_committer(w, err) < 0 || open_socket(w, err) < 0)
		return -1;
	if (ready_fd >= 0) {
		/* The caller waits for this byte (or for EOF, should we die first). */
		(void)!write(ready_fd, "R", 1);
		close(ready_fd);
	}
	return 0;
}

static void
stop_committer(struct writer *w)
{
	if (!w->thread_started)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
}

static void
finish(struct writer *w)
{
	/* A commit in flight ends before we take the store away from it. */
	stop_committer(w);
	for (size_t i = 0; i < w->n_slots; i++) {
		if (w->prod[i].fd >= 0)
			close(w->prod[i].fd);
		prune_req_free(w->prod[i].prune);
	}
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	/* While we still hold audit.lock (the store is open), the socket is ours to remove. */
	if (w->sock_bound)
		unlink(w->sock_path);
	if (w->signal_fd >= 0) {
		close(w->signal_fd);
		pthread_sigmask(SIG_SETMASK, &w->old_mask, NULL);
	}
	if (w->done_fd >= 0)
		close(w->done_fd);
	sr_audit_store_free(w->store);
	if (w->kaudit_failures > 1)
		wlog("%" PRIu64 " exec events in all did not reach the kernel audit log",
		     w->kaudit_failures);
	sr_kaudit_free(w->kaudit);
	if (w->tok != NULL)
		json_tokener_free(w->tok);
	for (int i = 0; i < 2; i++) {
		free(w->batches[i].evs);
		free(w->batches[i].origin);
		free(w->batches[i].arena);
	}
	free(w->prod);
	free(w->pfd);
	free(w->pfd_slot);
}

/* ---- the loop ---------------------------------------------------------------- */

static void
read_signals(struct writer *w)
{
	struct signalfd_siginfo si;

	while (read(w->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			w->stop = 1;
}

/*
 * The poll set: every producer (readable only while the filling batch has
 * room, writable while an ack waits for space), then the listening socket,
 * the signals and the committer.  Returns the number of producer entries.
 */
static size_t
build_poll_set(struct writer *w)
{
	short in = batch_full(w, w->filling) ? 0 : POLLIN;
	int64_t now = sr_audit_monotonic_ms();
	size_t n = 0;

	for (size_t i = 0; i < w->n_slots; i++) {
		struct producer *p = &w->prod[i];

		if (p->fd < 0 || p->closing)
			continue;
		w->pfd_slot[n] = i;
		w->pfd[n++] = (struct pollfd){ .fd = p->fd,
					       .events = (p->prune != NULL || p->resting_until > now
							  ? 0 : in) |
							 (p->ack_blocked ? POLLOUT : 0) };
	}
	w->pfd[n] = (struct pollfd){ .fd = w->listen_fd, .events = POLLIN };
	w->pfd[n + 1] = (struct pollfd){ .fd = w->signal_fd, .events = POLLIN };
	w->pfd[n + 2] = (struct pollfd){ .fd = w->done_fd, .events = POLLIN };
	return n;
}

/*
 * Events nobody waits for (ASYNC: a sandbox's exec events, arriving one at
 * a time while a researcher's script runs) may wait COMMIT_DELAY_MS for
 * company, so that a stream of them costs one transaction and one fsync per
 * window instead of one per event: a commit writes a dozen pages (the table
 * and its four indexes) whether it carries one event or a hundred, and on a
 * virtual machine's disk each page is an exit to the host.  A DURABLE event
 * or a SYNC, a full batch, or a batch that waited long enough goes at once,
 * so nobody who waits for an ack waits for the window.  The window only
 * bounds what a crash of the host can lose of events nobody was told were
 * durable; a session's end (DURABLE) commits everything before it.
 */
#define COMMIT_DELAY_MS 10

/*
 * A producer that streams such events (reads of them close together, and
 * nothing it waits for) rests: it is not polled for input for
 * REST_MS, and what it sends meanwhile waits in its socket, where the
 * kernel holds it as our batch would.  Its sends then wake nobody.  That
 * matters because a sandbox's exec monitor sends an exec's event while the
 * exec waits: a send that wakes the writer costs the exec a wake-up of
 * another CPU, and each wake-up costs the writer more than the event does.
 * REST_MS is short so that a resting producer cannot fill its socket (it
 * would block until the rest ends).  The price is that a DURABLE event or
 * SYNC sent by a streaming producer waits up to REST_MS longer; a lone
 * event never makes its producer rest, nor does one anyone waits for.
 */
#define REST_MS 2

static void
rest_producers(struct writer *w, size_t n_pfd)
{
	int64_t now = sr_audit_monotonic_ms();

	for (size_t k = 0; k < n_pfd; k++) {
		struct producer *p = &w->prod[w->pfd_slot[k]];

		if (!(w->pfd[k].events & POLLIN) || !(w->pfd[k].revents & POLLIN) || p->fd < 0 ||
		    p->closing || p->prune != NULL)
			continue;
		if (p->want_ack) {
			p->last_read_ms = 0;
			continue;
		}
		/* Twice REST_MS: a read just after a rest continues the stream. */
		if (p->last_read_ms != 0 && now - p->last_read_ms <= 2 * REST_MS)
			p->resting_until = now + REST_MS;
		p->last_read_ms = now;
	}
}

/* The earliest end of a producer's rest, or INT64_MAX. */
static int64_t
first_rest_end(const struct writer *w, int64_t now)
{
	int64_t first = INT64_MAX;

	for (size_t i = 0; i < w->n_slots; i++)
		if (w->prod[i].fd >= 0 && w->prod[i].resting_until > now &&
		    w->prod[i].resting_until < first)
			first = w->prod[i].resting_until;
	return first;
}

static int
commit_due(const struct writer *w)
{
	return w->urgent || batch_full(w, w->filling) ||
	       sr_audit_monotonic_ms() - w->filling_since_ms >= COMMIT_DELAY_MS;
}

static int
poll_timeout(const struct writer *w)
{
	int64_t now = sr_audit_monotonic_ms(), left = w->next_seal_ms - now, rest = first_rest_end(w, now);

	if (rest - now < left)
		left = rest - now;

	if (w->committing == NULL && w->filling->n > 0) {
		int64_t due = w->filling_since_ms + COMMIT_DELAY_MS - now;

		if (due < left)
			left = due;
	}

	/* A prune in chunks goes on as soon as producers are served. */
	if (w->prunes_waiting > 0)
		return 0;
	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* One turn: wait; take the committer's result; read; hand over; ack; accept. */
static int
turn(struct writer *w, struct sr_error *err)
{
	size_t n = build_poll_set(w);

	if (poll(w->pfd, n + 3, poll_timeout(w)) < 0) {
		if (errno != EINTR)
			return sr_error_errno(err, "audit writer: poll");
		return 0;
	}
	if ((w->pfd[n + 2].revents & POLLIN) && finish_commit(w, err) < 0)
		return -1;
	read_batch(w, n);
	rest_producers(w, n);
	if (w->filling->n > 0 && w->filling_since_ms == 0)
		w->filling_since_ms = sr_audit_monotonic_ms();
	if (w->committing == NULL && w->filling->n > 0 && commit_due(w))
		start_commit(w);
	send_acks(w);
	reap_producers(w);
	if (w->pfd[n].revents & POLLIN)
		accept_all(w);
	if (w->pfd[n + 1].revents & POLLIN)
		read_signals(w);
	return 0;
}

/* Commits the filling batch and waits for it: no commit is in flight after. */
static int
commit_now(struct writer *w, struct sr_error *err)
{
	if (wait_commit(w, err) < 0)
		return -1;
	if (w->filling->n == 0)
		return 0;
	start_commit(w);
	return wait_commit(w, err);
}

/* At shutdown: take what producers already sent, so that no event in a socket is lost. */
static int
drain(struct writer *w, struct sr_error *err)
{
	size_t taken;

	do {
		size_t n;

		if (commit_now(w, err) < 0)
			return -1;
		send_acks(w);
		n = build_poll_set(w);
		for (size_t k = 0; k < n; k++)
			w->pfd[k].revents = POLLIN;
		taken = read_batch(w, n);
	} while (taken > 0);
	if (commit_now(w, err) < 0)
		return -1;
	send_acks(w);
	reap_producers(w);
	return 0;
}

/* ---- prunes ------------------------------------------------------------------ */

/* Runs p's prune; the answer is an ack naming the audit.prune event, or an error. */
static void
run_prune(struct writer *w, struct producer *p)
{
	struct prune_req *r = p->prune;
	struct sr_audit_event who = { .user = r->field[0], .project = r->field[1],
				      .session = r->field[2], .source = r->field[3] };
	struct sr_audit_prune_result res;
	struct sr_error e = { { 0 } };
	char when[32];

	if (sr_audit_store_prune(w->store, r->days, &who, &res, &e) < 0) {
		wlog("prune asked by pid %ld uid %ld failed: %s", (long)p->pid, (long)p->uid, e.msg);
		drop_producer(p, e.msg);
		drop_prune(w, p);
		return;
	}
	sr_audit_format_time(res.cutoff_ms, when, sizeof(when));
	syslog(LOG_AUTHPRIV | LOG_NOTICE, "saferoom audit prune seq=%" PRId64 ": %" PRId64
	       " events before %s removed, trail starts at seq %" PRId64, res.event_seq,
	       res.deleted, when, res.first_seq);
	if (res.remaining > 0) {
		/* More next turn, after serving everyone else; meanwhile a sign of life. */
		if (send_ack(p) < 0)
			p->closing = 1;
		return;
	}
	p->durable_id = r->id;
	p->durable_seq = res.event_seq;
	p->want_ack = 1;
	p->ack_target = r->id;
	drop_prune(w, p);
}

/*
 * Runs one chunk of every prune asked for, between commits: what producers
 * sent before asking is committed first, so that a prune never overtakes
 * their events.  A prune with more to do stays waiting for the next turn.
 */
static int
run_prunes(struct writer *w, struct sr_error *err)
{
	if (commit_now(w, err) < 0)
		return -1;
	for (size_t i = 0; i < w->n_slots && w->prunes_waiting > 0; i++)
		if (w->prod[i].fd >= 0 && w->prod[i].prune != NULL && !w->prod[i].closing)
			run_prune(w, &w->prod[i]);
	send_acks(w);
	reap_producers(w);
	return 0;
}

static int
serve(struct writer *w, struct sr_error *err)
{
	int64_t interval = (w->cfg->seal_interval_s > 0 ? w->cfg->seal_interval_s :
			    DEFAULT_SEAL_INTERVAL_S) * (int64_t)1000;

	w->next_seal_ms = sr_audit_monotonic_ms() + interval;
	while (!w->stop) {
		if (turn(w, err) < 0)
			return -1;
		if (w->prunes_waiting > 0 && run_prunes(w, err) < 0)
			return -1;
		if (sr_audit_monotonic_ms() < w->next_seal_ms)
			continue;
		/* The store is the committer's while it commits; seal between commits. */
		if (wait_commit(w, err) < 0 || seal(w, 0, err) < 0)
			return -1;
		w->next_seal_ms = sr_audit_monotonic_ms() + interval;
	}
	if (drain(w, err) < 0 || seal(w, 1, err) < 0)
		return -1;
	return 0;
}

int
sr_audit_writer_run(const struct sr_audit_writer_config *cfg, int ready_fd,
		    struct sr_error *err)
{
	struct writer w = { .cfg = cfg, .listen_fd = -1, .signal_fd = -1, .done_fd = -1,
			    .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int rc = -1;

	w.max_batch = cfg->max_batch > 0 ? cfg->max_batch : DEFAULT_MAX_BATCH;
	if (start(&w, ready_fd, err) < 0)
		goto out;
	rc = serve(&w, err);
	if (rc < 0) {
		/* No commit may still be running once producers are told we stopped. */
		stop_committer(&w);
		w.thread_started = 0;
		fail_all(&w, sr_error_msg(err));
	}
out:
	finish(&w);
	return rc;
}
