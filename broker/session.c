/*
 * session.c — relays, records and filters a session's terminal on the
 * monitor side (session.h).
 *
 * Two buffers, one per direction, and non-blocking I/O everywhere, so that a
 * process flooding its terminal never stops the user's keystrokes (and ^C)
 * from getting in.  Output passes the OSC 52 filter before it is recorded and
 * sent: the recording shows what the user saw.  A recording that cannot be
 * written ends the session, because an unrecorded session must not go on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "osc52.h"
#include "session.h"

#define IN_CAP 16384
#define OUT_READ 32768

struct sr_session {
	struct sr_sandbox *sb;
	pid_t pid;
	int pidfd;
	int pty;
	int data, errs;
	int status;
	int ended;            /* the command is gone */
	int pty_eof;
	int net_eof;
	struct sr_recorder *rec;
	struct sr_osc52 *osc;
	unsigned char in[IN_CAP];
	size_t in_len;
	unsigned char out[OUT_READ + SR_OSC52_HOLD + 4096];
	size_t out_len, out_off;
};

static struct sr_session *
session_alloc(const struct sr_session_io *io, struct sr_error *err)
{
	struct sr_session *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		sr_error_errno(err, "session");
		return NULL;
	}
	s->pid = -1;
	s->pidfd = -1;
	s->pty = -1;
	s->data = io->data;
	s->errs = io->errs;
	s->osc = sr_osc52_new();
	if (s->osc == NULL) {
		sr_error_errno(err, "session");
		free(s);
		return NULL;
	}
	if (io->rec_dir < 0)
		return s;
	s->rec = sr_recorder_new(io->rec_dir, io->rec_name, io->cols, io->rows, io->term,
				 sr_audit_now_ms(), err);
	if (s->rec == NULL) {
		sr_session_free(s);
		return NULL;
	}
	return s;
}

struct sr_session *
sr_session_sandbox(struct sr_sandbox *sb, const struct sr_session_io *io, struct sr_error *err)
{
	struct sr_session *s;

	s = session_alloc(io, err);
	if (s == NULL)
		return NULL;
	if (sr_sandbox_start(sb, err) < 0) {
		sr_session_free(s);
		return NULL;
	}
	s->sb = sb;
	s->pty = sr_sandbox_pty(sb);
	if (s->pty >= 0)
		fcntl(s->pty, F_SETFL, fcntl(s->pty, F_GETFL) | O_NONBLOCK);
	sr_sandbox_resize(sb, (unsigned short)io->cols, (unsigned short)io->rows, NULL);
	return s;
}

/* ---- a forked child of the monitor ------------------------------------------ */

static int
open_pty(int cols, int rows, char *slave, size_t slavelen, struct sr_error *err)
{
	struct winsize ws = { .ws_col = (unsigned short)cols, .ws_row = (unsigned short)rows };
	int fd;

	fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 ||
	    ptsname_r(fd, slave, slavelen) != 0) {
		sr_error_errno(err, "pty");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ioctl(fd, TIOCSWINSZ, &ws);
	return fd;
}

static void __attribute__((noreturn))
child_exec(sr_session_fn fn, void *arg, const char *slave, int data, int errs)
{
	int fd;

	signal(SIGPIPE, SIG_DFL);
	if (slave != NULL) {
		setsid();
		fd = open(slave, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	} else {
		dup2(data, 0);
		dup2(data, 1);
		dup2(errs, 2);
	}
	/* Only the channel goes along: no net child socket, no policy handle. */
	close_range(3, ~0U, 0);
	_exit(fn(arg) & 0xff);
}

struct sr_session *
sr_session_child(sr_session_fn fn, void *arg, int pty, const struct sr_session_io *io,
		 struct sr_error *err)
{
	struct sr_session *s;
	char slave[128];

	s = session_alloc(io, err);
	if (s == NULL)
		return NULL;
	if (pty) {
		s->pty = open_pty(io->cols, io->rows, slave, sizeof(slave), err);
		if (s->pty < 0)
			goto fail;
		fcntl(s->pty, F_SETFL, fcntl(s->pty, F_GETFL) | O_NONBLOCK);
	}
	s->pid = fork();
	if (s->pid < 0) {
		sr_error_errno(err, "fork");
		goto fail;
	}
	if (s->pid == 0)
		child_exec(fn, arg, pty ? slave : NULL, io->data, io->errs);
	s->pidfd = pidfd_open(s->pid, 0);
	if (s->pidfd < 0) {
		sr_error_errno(err, "pidfd_open");
		goto fail;
	}
	return s;
fail:
	sr_session_free(s);
	return NULL;
}

/* ---- relaying ----------------------------------------------------------------- */

/* Queues output for the user (already filtered) and records it. */
static int
session_output(struct sr_session *s, const unsigned char *buf, size_t n, struct sr_error *err)
{
	if (n == 0)
		return 0;
	if (s->rec != NULL && sr_recorder_output(s->rec, buf, n, err) < 0)
		return -1;
	memcpy(s->out + s->out_len, buf, n);
	s->out_len += n;
	return 0;
}

void
sr_session_say(struct sr_session *s, const char *text)
{
	size_t n = strlen(text), room = sizeof(s->out) - s->out_len;

	if (n > room)
		n = room;
	if (session_output(s, (const unsigned char *)text, n, NULL) < 0)
		log_warn("recording: could not record a notice");
}

int
sr_session_pollfds(struct sr_session *s, struct pollfd *fds, int max)
{
	if (max < 4)
		return 0;
	fds[0].fd = s->pty >= 0 ? s->data : -1;
	fds[0].events = 0;
	if (!s->net_eof && s->in_len < sizeof(s->in))
		fds[0].events |= POLLIN;
	if (s->out_len > s->out_off)
		fds[0].events |= POLLOUT;
	fds[1].fd = s->pty;
	fds[1].events = 0;
	if (!s->pty_eof && s->out_len == 0)
		fds[1].events |= POLLIN;
	if (s->in_len > 0)
		fds[1].events |= POLLOUT;
	fds[2].fd = s->ended ? -1 : (s->sb != NULL ? sr_sandbox_fd(s->sb) : s->pidfd);
	fds[2].events = POLLIN;
	/* An exec waiting on its listener: polled directly (sr_sandbox_exec_fd()). */
	fds[3].fd = s->ended || s->sb == NULL ? -1 : sr_sandbox_exec_fd(s->sb);
	fds[3].events = POLLIN;
	return 4;
}

static int
relay_from_net(struct sr_session *s, struct sr_error *err)
{
	ssize_t r;

	r = recv(s->data, s->in + s->in_len, sizeof(s->in) - s->in_len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0) {
		/* The client closed stdin: nothing more to type; the command goes on, as with sshd. */
		s->net_eof = 1;
		return 0;
	}
	if (s->rec != NULL && sr_recorder_input(s->rec, s->in + s->in_len, (size_t)r, err) < 0)
		return -1;
	s->in_len += (size_t)r;
	if (s->sb != NULL)
		sr_sandbox_touch(s->sb);
	return 0;
}

static void
relay_to_pty(struct sr_session *s)
{
	ssize_t w;

	w = write(s->pty, s->in, s->in_len);
	if (w <= 0)
		return;
	memmove(s->in, s->in + w, s->in_len - (size_t)w);
	s->in_len -= (size_t)w;
}

/*
 * Reads what the terminal holds, up to OUT_READ bytes.  A pty hands over at
 * most a few KiB per read, so one read per poll round would mean one
 * recording event and one send to the net child per few KiB: reading on
 * until the pty is empty batches a flood into a few large events.
 */
static ssize_t
read_pty(struct sr_session *s, unsigned char *raw, size_t cap)
{
	size_t got = 0;
	ssize_t r;

	while (got < cap) {
		r = read(s->pty, raw + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (got > 0 || (r < 0 && errno == EAGAIN))
			break;
		return -1;  /* EIO or EOF: every slave is closed */
	}
	return (ssize_t)got;
}

static int
relay_from_pty(struct sr_session *s, struct sr_error *err)
{
	unsigned char raw[OUT_READ], clean[OUT_READ + SR_OSC52_HOLD];
	ssize_t r;
	size_t n;

	r = read_pty(s, raw, sizeof(raw));
	if (r == 0)
		return 0;
	if (r < 0) {
		/* The terminal is finished. */
		s->pty_eof = 1;
		n = sr_osc52_flush(s->osc, clean);
		return session_output(s, clean, n, err);
	}
	n = sr_osc52_filter(s->osc, raw, (size_t)r, clean);
	return session_output(s, clean, n, err);
}

static void
relay_to_net(struct sr_session *s)
{
	ssize_t w;

	w = send(s->data, s->out + s->out_off, s->out_len - s->out_off,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		/* The net child is gone: nothing more will be read. */
		s->out_len = s->out_off = 0;
		return;
	}
	if (w > 0)
		s->out_off += (size_t)w;
	if (s->out_off == s->out_len)
		s->out_len = s->out_off = 0;
}

static int
proc_check(struct sr_session *s, struct sr_error *err)
{
	int st, rc;

	if (s->sb != NULL) {
		rc = sr_sandbox_dispatch(s->sb, err);
		if (rc != 0) {
			s->ended = 1;
			s->status = sr_sandbox_status(s->sb);
		}
		return rc < 0 ? -1 : 0;
	}
	if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
		s->ended = 1;
		s->pid = -1;
		s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return 0;
}

/* The command is gone: read what its terminal still holds, then we are done. */
static int
session_finish(struct sr_session *s, struct sr_error *err)
{
	while (s->pty >= 0 && !s->pty_eof && s->out_len == 0) {
		if (relay_from_pty(s, err) < 0)
			return -1;
		if (s->out_len == 0)
			s->pty_eof = 1;  /* nothing more right now: the end */
	}
	if (s->out_len > s->out_off)
		return 0;
	shutdown(s->data, SHUT_WR);
	shutdown(s->errs, SHUT_WR);
	return 1;
}

int
sr_session_handle(struct sr_session *s, const struct pollfd *fds, int n, struct sr_error *err)
{
	if (n < 4)
		return sr_error_set(err, "session: short poll set");
	if (fds[0].revents & (POLLIN | POLLHUP | POLLERR) && relay_from_net(s, err) < 0)
		return -1;
	if (fds[1].revents & POLLOUT || (s->in_len > 0 && s->pty >= 0))
		relay_to_pty(s);
	if (fds[1].revents & (POLLIN | POLLHUP | POLLERR) && relay_from_pty(s, err) < 0)
		return -1;
	if (s->out_len > s->out_off)
		relay_to_net(s);
	if ((fds[2].revents & (POLLIN | POLLHUP) || fds[3].revents & (POLLIN | POLLHUP)) &&
	    proc_check(s, err) < 0)
		return -1;
	if (!s->ended)
		return 0;
	return session_finish(s, err);
}

void
sr_session_resize(struct sr_session *s, int cols, int rows)
{
	struct winsize ws = { .ws_col = (unsigned short)cols, .ws_row = (unsigned short)rows };

	if (cols <= 0 || rows <= 0 || cols > 10000 || rows > 10000 || s->pty < 0)
		return;
	if (s->sb != NULL)
		sr_sandbox_resize(s->sb, ws.ws_col, ws.ws_row, NULL);
	else
		ioctl(s->pty, TIOCSWINSZ, &ws);
	if (s->rec != NULL && sr_recorder_resize(s->rec, cols, rows, NULL) < 0)
		log_warn("recording: could not record a resize");
}

void
sr_session_kill(struct sr_session *s, const char *reason)
{
	if (s->ended)
		return;
	if (s->sb != NULL) {
		sr_sandbox_kill(s->sb, reason, NULL);
		return;
	}
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
}

int
sr_session_status(const struct sr_session *s)
{
	return s->status;
}

int
sr_session_recording(struct sr_session *s, unsigned char sha256[SR_AUDIT_HASH_LEN],
		     struct sr_error *err)
{
	int rc;

	if (s->rec == NULL)
		return 0;
	rc = sr_recorder_close(s->rec, sha256, err);
	s->rec = NULL;
	return rc < 0 ? -1 : 1;
}

uint64_t
sr_session_exec_count(const struct sr_session *s)
{
	return s->sb != NULL ? sr_sandbox_exec_count(s->sb) : 0;
}

unsigned long
sr_session_stripped(const struct sr_session *s)
{
	return sr_osc52_stripped(s->osc);
}

void
sr_session_free(struct sr_session *s)
{
	int st;

	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
	}
	if (s->pidfd >= 0)
		close(s->pidfd);
	/* The sandbox owns its pty; only a child's pty is ours to close. */
	if (s->sb == NULL && s->pty >= 0)
		close(s->pty);
	sr_recorder_free(s->rec);
	sr_osc52_free(s->osc);
	free(s);
}
