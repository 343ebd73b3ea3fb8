/*
 * supervise.c — the life of a sandbox's processes, and their end.
 *
 * Inside: pid 1 of the sandbox's pid namespace forks the command, forwards
 * the signals the holding process passes on, reaps orphans, and exits with
 * the command's status; its exit makes the kernel kill everything else in
 * the namespace.
 *
 * Outside: the holding process watches pid 1 through a pidfd, checks limits
 * and timeouts on a tick, relays the terminal for sr_sandbox_run(), and on
 * the end removes the cgroup.  Because the holding process can itself be
 * killed with SIGKILL, a janitor process, started before the sandbox and
 * outside its cgroup, waits for the holding process's end on a pipe and
 * then kills whatever is left in the cgroup and removes it; pid 1 dies by
 * its parent-death signal in that case.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#define SEARCH_PATH "/usr/local/bin:/usr/bin:/bin"

void
sr_close_fds_except(const int *keep, size_t n, int keep_stdio)
{
	unsigned int lo = keep_stdio ? 3 : 0;
	int fd;

	/* keep[] is tiny; walk the descriptors it names in ascending order. */
	for (;;) {
		unsigned int next = UINT_MAX;
		size_t i;

		for (i = 0; i < n; i++)
			if (keep[i] >= 0 && (unsigned)keep[i] >= lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next == UINT_MAX)
			break;
		if (next > lo)
			syscall(SYS_close_range, lo, next - 1, 0);
		lo = next + 1;
	}
	if (syscall(SYS_close_range, lo, ~0U, 0) < 0)
		for (fd = (int)lo; fd < 65536; fd++)
			close(fd);
}

/* ---- pid 1 inside ---------------------------------------------------------------- */

static volatile pid_t command_pid;

static void
forward_signal(int sig)
{
	if (command_pid > 0)
		kill(-command_pid, sig);
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* Finds ARGV0 on the sandbox's PATH, as the shell would. */
static int
find_command(const char *argv0, char *out, size_t len)
{
	const char *p = SEARCH_PATH;

	if (strchr(argv0, '/') != NULL) {
		snprintf(out, len, "%s", argv0);
		return 0;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)n, p, argv0);
		if (access(out, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	errno = ENOENT;
	return -1;
}

/* Only locale comes in from outside; everything else is the sandbox's own. */
static void
build_env(const struct sr_sandbox_spec *spec, const char *home, char **env, char *buf, size_t len)
{
	const char *shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
	size_t n = 0, off = 0;

#define ENV(...) do {								\
		int w_ = snprintf(buf + off, len - off, __VA_ARGS__);		\
		if (w_ > 0 && (size_t)w_ < len - off) {				\
			env[n++] = buf + off;					\
			off += (size_t)w_ + 1;					\
		}								\
	} while (0)
	ENV("PATH=%s", SEARCH_PATH);
	ENV("HOME=%s", home);
	ENV("USER=%s", spec->user);
	ENV("LOGNAME=%s", spec->user);
	ENV("SHELL=%s", shell);
	ENV("TERM=%s", spec->term != NULL ? spec->term : "dumb");
	ENV("TMPDIR=/tmp");
	ENV("SAFEROOM_PROJECT=%s", spec->project);
	ENV("SAFEROOM_SESSION=%s", spec->session);
	if (spec->lang != NULL)
		ENV("LANG=%s", spec->lang);
#undef ENV
	env[n] = NULL;
}

static void __attribute__((noreturn))
exec_command(const struct sr_sandbox *sb, int slave)
{
	char home[PATH_MAX], path[PATH_MAX], envbuf[4096], *env[16];
	size_t i;

	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], SIG_DFL);
	/* A session of its own: without a pty the command has no controlling
	 * terminal at all, so that it cannot push input into the caller's. */
	setsid();
	if (slave >= 0) {
		if (ioctl(slave, TIOCSCTTY, 0) < 0 || dup2(slave, 0) < 0 || dup2(slave, 1) < 0 ||
		    dup2(slave, 2) < 0)
			_exit(SR_SANDBOX_EXIT_FAILED);
	}
	sr_close_fds_except(NULL, 0, 1);
	umask(007); /* files in /project are the project's: group-writable, nothing for others */
	snprintf(home, sizeof(home), "/project%s%s", sb->spec.home != NULL ? "/" : "",
		 sb->spec.home != NULL ? sb->spec.home : "");
	if (chdir(home) < 0 && chdir("/project") < 0)
		_exit(SR_SANDBOX_EXIT_FAILED);
	build_env(&sb->spec, home, env, envbuf, sizeof(envbuf));
	if (find_command(sb->spec.argv[0], path, sizeof(path)) == 0)
		execve(path, sb->spec.argv, env);
	dprintf(STDERR_FILENO, "sandbox: %s: %s\n", sb->spec.argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

void
sr_supervise_init(const struct sr_sandbox *sb, int slave)
{
	struct sigaction sa;
	size_t i;
	pid_t pid;
	int st, null;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
	prctl(PR_SET_NAME, "saferoom-init");
	/* Out of the caller's session: terminal signals reach the holding
	 * process, which passes them on once, through this process. */
	setsid();
	pid = fork();
	if (pid < 0) {
		dprintf(STDERR_FILENO, "sandbox: fork: %s\n", strerror(errno));
		_exit(SR_SANDBOX_EXIT_FAILED);
	}
	if (pid == 0)
		exec_command(sb, slave);
	command_pid = pid;
	if (slave >= 0) {
		/* pid 1 keeps nothing of the caller's terminal when the command has its own. */
		close(slave);
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
	}
	for (;;) {
		pid_t r = waitpid(-1, &st, 0);

		if (r == pid)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		if (r < 0 && errno != EINTR)
			_exit(SR_SANDBOX_EXIT_FAILED);
	}
}

/* ---- the janitor ------------------------------------------------------------------- */

static void __attribute__((noreturn))
janitor(struct sr_cgroup *cg, int fd)
{
	int keep[1 + 3 * 3], n = 0, null, sig;

	keep[n++] = fd;
	n += (int)sr_cgroup_fds(cg, keep + n, sizeof(keep) / sizeof(keep[0]) - 1);
	/* Out of the caller's session and deaf to its signals, so that a ^C or a
	 * SIGTERM meant for the holding process does not stop the clean-up. */
	setsid();
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
			signal(sig, SIG_IGN);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	sr_close_fds_except(keep, (size_t)n, 1);
	prctl(PR_SET_NAME, "saferoom-janitor");
	while (read(fd, &null, 1) < 0 && errno == EINTR)
		;
	sr_cgroup_destroy(cg, NULL);
	_exit(0);
}

int
sr_supervise_janitor(struct sr_sandbox *sb, struct sr_error *err)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return sr_error_errno(err, "sandbox: pipe");
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return sr_error_errno(err, "sandbox: fork");
	}
	if (pid == 0)
		janitor(sb->cgroup, p[0]);
	close(p[0]);
	sb->janitor = pid;
	sb->janitor_fd = p[1];
	return 0;
}

/* ---- outside: limits, the end, teardown ------------------------------------------- */

static int
limit_hit(struct sr_sandbox *sb, const char *limit, const char *key, uint64_t value,
	  struct sr_error *err)
{
	char details[160];

	snprintf(details, sizeof(details), "{\"limit\":\"%s\",\"%s\":%llu}", limit, key,
		 (unsigned long long)value);
	return sr_sandbox_emit(sb, "limit.hit", details, err);
}

/* Each kind of limit is reported the first time it is hit. */
static int
report_limits(struct sr_sandbox *sb, struct sr_error *err)
{
	struct sr_cgroup_counters c;
	struct statfs st;

	if (sb->cgroup != NULL && sr_cgroup_counters(sb->cgroup, &c) == 0) {
		if (c.pids_max > 0 && sb->pids_events == 0 &&
		    limit_hit(sb, "pids", "max", sb->spec.limits.pids, err) < 0)
			return -1;
		if (c.oom_kills > 0 && sb->oom_kills == 0 &&
		    limit_hit(sb, "memory", "max", sb->spec.limits.memory_bytes, err) < 0)
			return -1;
		sb->pids_events = c.pids_max;
		sb->oom_kills = c.oom_kills;
	}
	if (sb->tmp_fd >= 0 && fstatfs(sb->tmp_fd, &st) == 0 && !sb->tmp_full &&
	    (st.f_bavail == 0 || st.f_ffree == 0)) {
		sb->tmp_full = 1;
		if (limit_hit(sb, "tmp", "size", sb->spec.limits.tmp_bytes, err) < 0)
			return -1;
	}
	return 0;
}

int
sr_supervise_tick(struct sr_sandbox *sb, struct sr_error *err)
{
	const struct sr_sandbox_limits *lim = &sb->spec.limits;
	int64_t now = sr_audit_monotonic_ms();

	if (report_limits(sb, err) < 0)
		return -1;
	if (lim->wall_clock_s != 0 && now - sb->start_ms >= (int64_t)lim->wall_clock_s * 1000)
		return sr_sandbox_kill(sb, "wall_clock", err);
	if (lim->idle_s != 0 && sb->pty_fd >= 0 &&
	    now - sb->activity_ms >= (int64_t)lim->idle_s * 1000)
		return sr_sandbox_kill(sb, "idle", err);
	return 0;
}

void
sr_supervise_reap(struct sr_sandbox *sb)
{
	siginfo_t si;
	int rc;

	if (sb->state != SR_SB_RUNNING)
		return;
	memset(&si, 0, sizeof(si));
	do
		rc = waitid((idtype_t)P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		sb->status = SR_SANDBOX_EXIT_FAILED;
	else if (si.si_code == CLD_EXITED)
		sb->status = si.si_status;
	else
		sb->status = 128 + si.si_status;
	sb->state = SR_SB_ENDED;
	/* A limit hit just before the end is still on the record. */
	report_limits(sb, NULL);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The end: the sandbox's events are made durable while its cgroup goes.  The
 * flush is asked for first, so that the writer's commit runs while the
 * cgroup is emptied and removed (and the janitor, told by the closed pipe,
 * finds nothing left and exits); then the ack is waited for.
 */
void
sr_supervise_teardown(struct sr_sandbox *sb)
{
	struct sr_error err;
	int flush = !sb->audit_failed && sb->state != SR_SB_NEW;

	if (flush && sr_audit_client_flush_begin(sb->spec.audit, &err) < 0) {
		sb->audit_failed = 1;
		flush = 0;
	}
	if (sb->cgroup != NULL) {
		if (sr_cgroup_destroy(sb->cgroup, &err) < 0)
			fprintf(stderr, "%s\n", err.msg);
		sr_cgroup_free(sb->cgroup);
		sb->cgroup = NULL;
	}
	if (sb->janitor_fd >= 0) {
		close_fd(&sb->janitor_fd);
		while (waitpid(sb->janitor, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close_fd(&sb->sock);
	close_fd(&sb->notify_fd);
	close_fd(&sb->tmp_fd);
	if (flush && sr_audit_client_flush(sb->spec.audit, &err) < 0)
		sb->audit_failed = 1;
	sb->state = sb->state == SR_SB_NEW ? SR_SB_NEW : SR_SB_ENDED;
}

/* ---- sr_sandbox_run's relay ---------------------------------------------------------- */

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
copy_winsize(struct sr_sandbox *sb)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		sr_sandbox_resize(sb, ws.ws_col, ws.ws_row, NULL);
}

/* Moves what one side has to the other; returns 0 at end of input. */
static int
pump(int from, int to)
{
	char buf[16384];
	ssize_t n;

	n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0 || write_all(to, buf, (size_t)n) < 0)
		return 0;
	return 1;
}

/* What the command wrote just before it ended is still shown. */
static void
drain(int pty)
{
	char buf[16384];
	ssize_t n;

	fcntl(pty, F_SETFL, O_NONBLOCK);
	while ((n = read(pty, buf, sizeof(buf))) > 0)
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
			break;
}

static void
on_signal(struct sr_sandbox *sb, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGWINCH)
			copy_winsize(sb);
		else
			sr_sandbox_signal(sb, (int)si.ssi_signo, NULL);
	}
}

int
sr_supervise_relay(struct sr_sandbox *sb, struct sr_error *err)
{
	struct termios saved, raw;
	sigset_t mask, old;
	int sfd, rc = 0, tty = 0, in_open = sb->pty_fd >= 0, out_open = sb->pty_fd >= 0;
	char eof = 4;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGWINCH);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sb->pty_fd >= 0 && tcgetattr(STDIN_FILENO, &saved) == 0) {
		tty = 1;
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		copy_winsize(sb);
	}
	while (rc == 0) {
		struct pollfd p[5] = {
			{ .fd = sr_sandbox_fd(sb), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = out_open ? sb->pty_fd : -1, .events = POLLIN },
			{ .fd = sr_sandbox_exec_fd(sb), .events = POLLIN },
		};

		if (poll(p, 5, -1) < 0 && errno != EINTR)
			break;
		if (p[3].revents != 0)
			out_open = pump(sb->pty_fd, STDOUT_FILENO);
		if (p[2].revents != 0) {
			in_open = pump(STDIN_FILENO, sb->pty_fd);
			sr_sandbox_touch(sb);
			if (!in_open && !tty)
				write_all(sb->pty_fd, &eof, 1);
		}
		if (p[1].revents != 0)
			on_signal(sb, sfd);
		if (p[0].revents != 0 || p[4].revents != 0)
			rc = sr_sandbox_dispatch(sb, err);
	}
	if (out_open)
		drain(sb->pty_fd);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc < 0 ? -1 : 0;
}
