/*
 * monitor_export.c — the export socket of a researcher's session: how
 * `saferoom-export submit FILE --reason TEXT`, typed inside the sandbox,
 * reaches this monitor outside it (DESIGN.md, "Export review").
 *
 * For each sandbox session the monitor makes STATE_DIR/run/SESSION/ (root,
 * 0700) and a listening unix socket export.sock in it, owned by the
 * researcher with mode 0600.  The sandbox binds that socket file, alone, at
 * /run/saferoom/export.sock (where saferoom-export looks), so inside only the
 * socket's own owner and mode count, and on the host nobody but root can
 * reach it through the directory.  Each connection is served by a forked
 * child that calls sr_export_serve() with the session as this monitor knows
 * it: user, project, uid, source, session id and workspace come from here,
 * never from what the client sends.  The monitor's loop only accepts and
 * reaps, so a submission being copied, hashed and checked never holds up
 * the terminal relay; at most MAX_SERVERS connections are served at once,
 * and further ones wait in the listen backlog.
 *
 * SQLite state must not cross a fork (see start_verbs in monitor_session.c),
 * and a server opens policy.db itself: so the monitor closes its own handle
 * before each fork, and recheck() opens it again when it next needs it.
 *
 * Tests run saferoomd from a build tree, where no saferoom-export is
 * installed in /usr/bin: SAFEROOM_EXPORT_BIN, set for a saferoomd started by
 * root, names the program to offer inside instead (the sandbox puts it at
 * /usr/local/bin/saferoom-export).  It is for tests only, like
 * SAFEROOM_AUDIT_WRITER; a packaged saferoomd never has it set.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "saferoom/export.h"
#include "export_limits.h"
#include "log.h"
#include "monitor.h"

#define RUN_DIR "run"
#define SOCKET_NAME "export.sock"
#define MAX_SERVERS (MON_EXPORT_POLLFDS - 1)
/* At session end a server still busy with a submission gets this long to finish it. */
#define CLOSE_WAIT_MS 10000
#define TEST_CLIENT_ENV "SAFEROOM_EXPORT_BIN"

struct mon_export {
	int listen_fd;
	int dir_fd;                  /* STATE_DIR/run/SESSION, O_PATH */
	int workspace_fd;            /* the project workspace: /project inside */
	char dir[PATH_MAX];
	char sock[PATH_MAX];         /* the socket's host path, for the sandbox to bind */
	char client[PATH_MAX];       /* tests: the saferoom-export to offer; "" otherwise */
	struct sr_export_limits limits;
	pid_t pid[MAX_SERVERS];
	int pidfd[MAX_SERVERS];
	size_t n;
};

/* A host directory from policy, opened without following any symlink on the way. */
static int
open_dir_nofollow(const char *path, struct sr_error *err)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return sr_error_errno(err, "%s", path);
	return fd;
}

/*
 * SAFEROOM_EXPORT_BIN, when a test set it for a saferoomd that root started:
 * resolved to a real path (the sandbox opens it refusing symlinks), and
 * only a regular, executable file.
 */
static void
test_client(struct mon_export *x)
{
	const char *env = getenv(TEST_CLIENT_ENV);
	struct stat st;

	if (env == NULL || env[0] == '\0' || getuid() != 0)
		return;
	if (env[0] != '/' || realpath(env, x->client) == NULL || stat(x->client, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
		log_warn("%s=%s: not an executable file; not offered", TEST_CLIENT_ENV, env);
		x->client[0] = '\0';
	}
}

/* Binds and listens on DIR/export.sock; hers, 0600.  Through /proc, so that
 * a long state_dir cannot overflow sun_path. */
static int
listen_socket(struct mon_export *x, uid_t uid, gid_t gid, struct sr_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" SOCKET_NAME, x->dir_fd);
	x->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->listen_fd < 0)
		return sr_error_errno(err, "socket");
	if (bind(x->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return sr_error_errno(err, "%s", x->sock);
	/* chmod after chown, as make_dir does; the directory is root's alone meanwhile. */
	if (fchownat(x->dir_fd, SOCKET_NAME, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(x->dir_fd, SOCKET_NAME, 0600, 0) < 0)
		return sr_error_errno(err, "%s", x->sock);
	if (listen(x->listen_fd, 16) < 0)
		return sr_error_errno(err, "listen on %s", x->sock);
	return 0;
}

int
mon_export_open(struct monitor *m, struct sr_error *err)
{
	const char *state = m->a->cfg->state_dir;
	struct mon_export *x;
	char run[PATH_MAX];
	size_t i;

	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return sr_error_errno(err, "export socket");
	x->listen_fd = x->dir_fd = x->workspace_fd = -1;
	for (i = 0; i < MAX_SERVERS; i++)
		x->pidfd[i] = -1;
	/* Set now, so that mon_export_close() undoes whatever was made. */
	m->export = x;
	sr_export_limits_for(m->a->cfg, &x->limits);
	test_client(x);
	snprintf(run, sizeof(run), "%s/" RUN_DIR, state);
	if (mkdir(run, 0700) < 0 && errno != EEXIST)
		return sr_error_errno(err, "%s", run);
	if ((size_t)snprintf(x->dir, sizeof(x->dir), "%s/%s", run, m->session_id) >=
	    sizeof(x->dir) ||
	    (size_t)snprintf(x->sock, sizeof(x->sock), "%s/" SOCKET_NAME, x->dir) >=
	    sizeof(x->sock)) {
		x->dir[0] = '\0';
		return sr_error_set(err, "%s: path too long", run);
	}
	if (mkdir(x->dir, 0700) < 0) {
		sr_error_errno(err, "%s", x->dir);
		x->dir[0] = '\0';  /* not ours to remove */
		return -1;
	}
	x->dir_fd = open(x->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x->dir_fd < 0)
		return sr_error_errno(err, "%s", x->dir);
	if (listen_socket(x, (uid_t)m->spec->uid, (gid_t)m->spec->gid, err) < 0)
		return -1;
	x->workspace_fd = open_dir_nofollow(m->spec->workspace, err);
	return x->workspace_fd < 0 ? -1 : 0;
}

void
mon_export_spec(const struct monitor *m, struct sr_sandbox_spec *spec)
{
	if (m->export == NULL)
		return;
	spec->export_socket = m->export->sock;
	spec->export_client = m->export->client[0] != '\0' ? m->export->client : NULL;
}

int
mon_export_pollfds(struct monitor *m, struct pollfd *fds, int max)
{
	struct mon_export *x = m->export;
	int n = 0;
	size_t i;

	if (x == NULL)
		return 0;
	if (x->listen_fd >= 0 && x->n < MAX_SERVERS && n < max)
		fds[n++] = (struct pollfd){ .fd = x->listen_fd, .events = POLLIN };
	for (i = 0; i < x->n && n < max; i++)
		if (x->pidfd[i] >= 0)
			fds[n++] = (struct pollfd){ .fd = x->pidfd[i], .events = POLLIN };
	return n;
}

/* Closes every descriptor from 3 up but A and B, so that a server holds
 * nothing of the monitor's: not the net child's sockets, the pty, the
 * sandbox's exec listener or the audit connection. */
static void
close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		syscall(SYS_close_range, 3u, (unsigned)lo - 1, 0u);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u);
	syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u);
}

/* The child serving one connection; never returns. */
static void __attribute__((noreturn))
serve(struct monitor *m, int conn, pid_t monitor_pid)
{
	struct mon_export *x = m->export;
	struct sr_error err = { "" };
	struct sr_export_session who = {
		.state_dir = m->a->cfg->state_dir, .user = m->user, .project = m->project,
		.source = m->a->source, .session = m->session_id,
		.workspace_fd = x->workspace_fd, .uid = (uid_t)m->spec->uid, .limits = &x->limits,
	};
	int rc;

	/* Nothing outlives the monitor: a half-served client then just sees EOF. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor_pid)
		_exit(1);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sr_log_ident("export");
	/* syslog's socket is about to be closed under it: forget it first, so
	 * that the next line reconnects instead of writing to a reused fd. */
	closelog();
	close_all_but(conn, x->workspace_fd);
	rc = sr_export_serve(conn, &who, &err);
	if (rc < 0)
		log_info("export socket of %s (%s): %s", m->user, m->session_id,
			 sr_error_msg(&err));
	_exit(rc < 0 ? 1 : 0);
}

static void
accept_one(struct monitor *m)
{
	struct mon_export *x = m->export;
	pid_t self = getpid(), pid;
	int conn;

	conn = accept4(x->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("export socket of %s: accept: %s", m->session_id, strerror(errno));
		return;
	}
	/* The served connection blocks: it is the child's, not the loop's. */
	if (fcntl(conn, F_SETFL, 0) < 0) {
		close(conn);
		return;
	}
	sr_policy_free(m->policy);
	m->policy = NULL;
	pid = fork();
	if (pid == 0)
		serve(m, conn, self);
	close(conn);
	if (pid < 0) {
		log_err("export socket of %s: fork: %s", m->session_id, strerror(errno));
		return;
	}
	x->pid[x->n] = pid;
	x->pidfd[x->n] = pidfd_open(pid, 0);
	if (x->pidfd[x->n] < 0)
		log_warn("export server %ld: pidfd_open: %s", (long)pid, strerror(errno));
	x->n++;
}

/* Reaps servers that ended; with wait_ms > 0, waits for them that long in all. */
static void
reap(struct mon_export *x, int wait_ms)
{
	size_t i = 0;
	int st;

	while (i < x->n) {
		pid_t r = waitpid(x->pid[i], &st, WNOHANG);

		if (r == 0 && wait_ms > 0 && x->pidfd[i] >= 0) {
			struct pollfd p = { .fd = x->pidfd[i], .events = POLLIN };
			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			poll(&p, 1, wait_ms);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			wait_ms -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
					 (t1.tv_nsec - t0.tv_nsec) / 1000000);
			continue;
		}
		if (r == 0) {
			i++;
			continue;
		}
		if (x->pidfd[i] >= 0)
			close(x->pidfd[i]);
		x->n--;
		x->pid[i] = x->pid[x->n];
		x->pidfd[i] = x->pidfd[x->n];
		x->pidfd[x->n] = -1;
	}
}

void
mon_export_poll(struct monitor *m, const struct pollfd *fds, int n)
{
	struct mon_export *x = m->export;
	int i, ready = 0;

	if (x == NULL)
		return;
	reap(x, 0);
	for (i = 0; i < n; i++)
		if (fds[i].fd == x->listen_fd && (fds[i].revents & POLLIN))
			ready = 1;
	while (ready && x->n < MAX_SERVERS) {
		size_t before = x->n;

		accept_one(m);
		if (x->n == before)
			break;
	}
}

void
mon_export_close(struct monitor *m)
{
	struct mon_export *x = m->export;
	size_t i;

	if (x == NULL)
		return;
	m->export = NULL;
	if (x->listen_fd >= 0)
		close(x->listen_fd);
	if (x->dir_fd >= 0) {
		unlinkat(x->dir_fd, SOCKET_NAME, 0);
		close(x->dir_fd);
	}
	if (x->dir[0] != '\0' && rmdir(x->dir) < 0 && errno != ENOENT)
		log_warn("%s: %s", x->dir, strerror(errno));
	/* Their clients are gone with the sandbox; one may be finishing a submission. */
	reap(x, CLOSE_WAIT_MS);
	for (i = 0; i < x->n; i++) {
		log_warn("export server %ld of %s still busy: killed", (long)x->pid[i],
			 m->session_id);
		kill(x->pid[i], SIGKILL);
		waitpid(x->pid[i], NULL, 0);
		if (x->pidfd[i] >= 0)
			close(x->pidfd[i]);
	}
	if (x->workspace_fd >= 0)
		close(x->workspace_fd);
	free(x);
}
