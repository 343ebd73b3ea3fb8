/*
 * sandbox.c — the sandbox object and the order in which a sandbox is built.
 *
 * Two recipes live here, each readable top to bottom: sr_sandbox_start() is
 * what the holding process does (cgroup, janitor, clone, place the child,
 * collect its descriptors), and sandbox_child() is what the child does before
 * it becomes the sandbox's pid 1 (namespaces, mounts, limits, identity,
 * capabilities, seccomp last).  Every step is a call into the file named for
 * its kernel facility, so that the order is written once and in one place.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define SETUP_TIMEOUT_MS 30000

/* Linux 6.6's <linux/seccomp.h>; Debian 12's headers predate it. */
#define SR_SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#define SR_SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
/* How often limits and timeouts are checked, so that a limit is reported within a second. */
#define TICK_MS 250

enum { TAG_NOTIFY = 1, TAG_PIDFD, TAG_TIMER };

/* ---- reporting from the child ------------------------------------------ */

static void __attribute__((noreturn, format(printf, 3, 0)))
child_vdie(int fd, int with_errno, const char *fmt, va_list ap)
{
	char msg[SR_ERROR_MAX];
	int saved = errno;
	size_t len;

	msg[0] = 'E';
	vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	len = strlen(msg);
	if (with_errno)
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		dprintf(STDERR_FILENO, "sandbox: %s\n", msg + 1);
	_exit(SR_SANDBOX_EXIT_FAILED);
}

void
sr_child_die(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	child_vdie(fd, 0, fmt, ap);
}

void
sr_child_die_errno(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	child_vdie(fd, 1, fmt, ap);
}

/* ---- the spec ------------------------------------------------------------ */

int
sr_sandbox_name_ok(const char *name)
{
	size_t i, len;

	if (name == NULL)
		return 0;
	len = strlen(name);
	if (len == 0 || len > SR_SANDBOX_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* A relative path with no "." or ".." component, so that it stays inside the workspace. */
static int
rel_path_ok(const char *path)
{
	const char *p = path;

	if (path[0] == '\0' || path[0] == '/' || strlen(path) > 1024)
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int
check_spec(const struct sr_sandbox_spec *s, struct sr_error *err)
{
	size_t i, j;

	if (!sr_sandbox_name_ok(s->user) || !sr_sandbox_name_ok(s->project) ||
	    !sr_sandbox_name_ok(s->session))
		return sr_error_set(err, "sandbox: user, project and session need names of [A-Za-z0-9._-]");
	if (s->uid == 0 || s->gid == 0)
		return sr_error_set(err, "sandbox: uid and gid must not be 0");
	if (s->workspace == NULL || s->workspace[0] != '/')
		return sr_error_set(err, "sandbox: workspace must be an absolute path");
	if (s->home != NULL && !rel_path_ok(s->home))
		return sr_error_set(err, "sandbox: home must be a plain path inside the workspace");
	if (s->argv == NULL || s->argv[0] == NULL || s->argv[0][0] == '\0')
		return sr_error_set(err, "sandbox: no command");
	if (s->limits.tmp_bytes == 0)
		return sr_error_set(err, "sandbox: /tmp needs a size");
	if (s->audit == NULL)
		return sr_error_set(err, "sandbox: no audit trail to write exec events to");
	if (s->cgroup_parent != NULL && !sr_sandbox_name_ok(s->cgroup_parent))
		return sr_error_set(err, "sandbox: bad cgroup parent name");
	if ((s->export_socket != NULL && s->export_socket[0] != '/') ||
	    (s->export_client != NULL && s->export_client[0] != '/'))
		return sr_error_set(err, "sandbox: export socket and client need absolute paths");
	for (i = 0; i < s->n_datasets; i++) {
		if (!sr_sandbox_name_ok(s->datasets[i].name))
			return sr_error_set(err, "sandbox: bad dataset name");
		if (s->datasets[i].path == NULL || s->datasets[i].path[0] != '/')
			return sr_error_set(err, "sandbox: dataset %s: path must be absolute",
					    s->datasets[i].name);
		for (j = 0; j < i; j++)
			if (strcmp(s->datasets[i].name, s->datasets[j].name) == 0)
				return sr_error_set(err, "sandbox: dataset %s given twice",
						    s->datasets[i].name);
	}
	return 0;
}

static char *
dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*failed = 1;
	return d;
}

/* Deep-copies the strings of the spec into sb, so that the caller's may go. */
static int
copy_spec(struct sr_sandbox *sb, const struct sr_sandbox_spec *s)
{
	struct sr_sandbox_spec *c = &sb->spec;
	size_t i, argc, csv = 1;
	int failed = 0;

	*c = *s;
	c->user = dup_or_null(s->user, &failed);
	c->project = dup_or_null(s->project, &failed);
	c->session = dup_or_null(s->session, &failed);
	c->source = dup_or_null(s->source != NULL ? s->source : "local", &failed);
	c->workspace = dup_or_null(s->workspace, &failed);
	c->home = dup_or_null(s->home, &failed);
	c->term = dup_or_null(s->term, &failed);
	c->lang = dup_or_null(s->lang, &failed);
	c->cgroup_parent = dup_or_null(s->cgroup_parent != NULL ? s->cgroup_parent : "saferoom",
				       &failed);
	c->export_socket = dup_or_null(s->export_socket, &failed);
	c->export_client = dup_or_null(s->export_client, &failed);
	for (argc = 0; s->argv[argc] != NULL; argc++)
		;
	sb->argv = calloc(argc + 1, sizeof(char *));
	sb->datasets = calloc(s->n_datasets + 1, sizeof(*sb->datasets));
	if (sb->argv == NULL || sb->datasets == NULL)
		return -1;
	for (i = 0; i < argc; i++)
		sb->argv[i] = dup_or_null(s->argv[i], &failed);
	for (i = 0; i < s->n_datasets; i++) {
		sb->datasets[i].name = dup_or_null(s->datasets[i].name, &failed);
		sb->datasets[i].path = dup_or_null(s->datasets[i].path, &failed);
		csv += strlen(s->datasets[i].name) + 1;
	}
	c->argv = sb->argv;
	c->datasets = sb->datasets;
	sb->datasets_csv = calloc(1, csv);
	if (sb->datasets_csv == NULL || failed)
		return -1;
	for (i = 0; i < s->n_datasets; i++) {
		if (i > 0)
			strcat(sb->datasets_csv, ",");
		strcat(sb->datasets_csv, s->datasets[i].name);
	}
	return 0;
}

struct sr_sandbox *
sr_sandbox_new(const struct sr_sandbox_spec *spec, struct sr_error *err)
{
	struct sr_sandbox *sb;

	if (check_spec(spec, err) < 0)
		return NULL;
	sb = calloc(1, sizeof(*sb));
	if (sb == NULL) {
		sr_error_errno(err, "sandbox");
		return NULL;
	}
	sb->janitor_fd = sb->pidfd = sb->sock = sb->notify_fd = -1;
	sb->pty_fd = sb->tmp_fd = sb->epfd = sb->timerfd = sb->proc_fd = sb->pidns_fd = -1;
	if (copy_spec(sb, spec) < 0) {
		sr_error_set(err, "sandbox: out of memory");
		sr_sandbox_free(sb);
		return NULL;
	}
	return sb;
}

/* ---- events ---------------------------------------------------------------- */

int
sr_sandbox_emit(struct sr_sandbox *sb, const char *type, const char *details,
		struct sr_error *err)
{
	struct sr_audit_event ev = {
		.type = type,
		.user = sb->spec.user,
		.project = sb->spec.project,
		.session = sb->spec.session,
		.source = sb->spec.source,
		.datasets = sb->datasets_csv,
		.details = details,
	};

	if (sb->audit_failed)
		return sr_error_set(err, "sandbox: the audit trail failed earlier");
	if (sr_audit_client_send(sb->spec.audit, &ev, SR_AUDIT_ASYNC, NULL, err) < 0) {
		sb->audit_failed = 1;
		return -1;
	}
	return 0;
}

/* ---- the child's recipe ---------------------------------------------------- */

/*
 * Waits for the holding process to say the child sits in its cgroup; the
 * message carries the compiled seccomp filter, which the holding process
 * compiles while the child builds its file system.
 */
static size_t
child_wait_go(int fd, unsigned char *bpf, size_t max)
{
	char go = 0;
	struct iovec iov[2] = { { .iov_base = &go, .iov_len = 1 },
				{ .iov_base = bpf, .iov_len = max } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	do
		n = recvmsg(fd, &mh, 0);
	while (n < 0 && errno == EINTR);
	/* The holding process is gone or garbled: nobody to tell. */
	if (n < 1 || go != 'G' || (mh.msg_flags & MSG_TRUNC) ||
	    (n - 1) % (ssize_t)sizeof(struct sock_filter) != 0)
		_exit(SR_SANDBOX_EXIT_FAILED);
	return (size_t)(n - 1);
}

/*
 * Dies unless the holding process is still there, so that a parent-death
 * signal set too late cannot be missed.
 */
static void
child_check_parent(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	if (poll(&p, 1, 0) != 0)
		_exit(SR_SANDBOX_EXIT_FAILED);
}

/* The holding process's signal state (a broker's handlers, a test's masks) stays behind. */
static void
child_reset_signals(void)
{
	sigset_t all;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* Opens a terminal of the sandbox's own devpts, as the user, so that the user owns it. */
static void
child_open_pty(int fd, int *master, int *slave)
{
	char name[64];
	int unlock = 0;

	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		sr_child_die_errno(fd, "open /dev/ptmx");
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0 || ptsname_r(*master, name, sizeof(name)) != 0)
		sr_child_die_errno(fd, "pty");
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		sr_child_die_errno(fd, "open %s", name);
}

/* Hands the descriptors the holding process watches over to it: /tmp, the listener, the pty. */
static void
child_send_ready(int fd, int tmp_fd, int notify_fd, int pty_fd)
{
	char buf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	char msg[3] = { 'R', notify_fd >= 0 ? 'N' : '-', pty_fd >= 0 ? 'P' : '-' };
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf };
	struct cmsghdr *cm;
	int fds[3], n = 0;

	fds[n++] = tmp_fd;
	if (notify_fd >= 0)
		fds[n++] = notify_fd;
	if (pty_fd >= 0)
		fds[n++] = pty_fd;
	mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		sr_child_die_errno(fd, "sending descriptors");
}

/*
 * Everything the child does to become the sandbox, in order.  Its
 * namespaces and file system are built while the holding process prepares
 * the rest (the cgroup under v1, the janitor, the seccomp filter); the child
 * waits for the go, which comes once it sits in its cgroup, before anything
 * of the user's can run, so that the limits hold from the first instruction
 * of the command.  Seccomp comes last so that
 * none of the set-up needs a hole in the filter; the pty is opened after the
 * uid change so that the user owns it; the parent-death signal is set again
 * after the uid change because changing credentials clears it.
 */
static void __attribute__((noreturn))
sandbox_child(const struct sr_sandbox *sb, int fd)
{
	static unsigned char bpf[SR_SECCOMP_BPF_MAX];
	int tmp_fd, notify_fd, master = -1, slave = -1, keep[] = { fd };
	size_t bpf_len;

	child_reset_signals();
	/* The caller's umask (saferoomctl's is 077) must not shape the sandbox's own tree. */
	umask(022);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sr_close_fds_except(keep, 1, 1);
	sr_ns_unshare(fd);
	sr_ns_setup_uts_net(fd, sb->spec.project);
	sr_mounts_build(fd, sb, &tmp_fd);
	sr_rlimits_apply(fd, &sb->spec.limits);
	bpf_len = child_wait_go(fd, bpf, sizeof(bpf));
	sr_ns_enter_cgroup(fd);
	sr_caps_lock(fd);
	sr_identity_drop(fd, sb->spec.uid, sb->spec.gid);
	sr_caps_clear(fd);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		sr_child_die_errno(fd, "PR_SET_PDEATHSIG");
	child_check_parent(fd);
	if (sb->spec.pty)
		child_open_pty(fd, &master, &slave);
	notify_fd = sr_seccomp_load(fd, bpf, bpf_len, !sb->spec.exec_log_off);
	child_send_ready(fd, tmp_fd, notify_fd, master);
	close(tmp_fd);
	if (notify_fd >= 0)
		close(notify_fd);
	if (master >= 0)
		close(master);
	close(fd);
	sr_supervise_init(sb, slave);
}

/* ---- the holding process's recipe ------------------------------------------ */

/* Receives "R" with the child's descriptors, or "E" with the reason it gave up. */
static int
recv_ready(struct sr_sandbox *sb, struct sr_error *err)
{
	char msg[SR_ERROR_MAX + 1] = { 0 }, buf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
			     .msg_controllen = sizeof(buf) };
	struct pollfd p = { .fd = sb->sock, .events = POLLIN };
	struct cmsghdr *cm;
	int fds[3] = { -1, -1, -1 }, n = 0, i = 0;
	ssize_t len;

	if (poll(&p, 1, SETUP_TIMEOUT_MS) != 1)
		return sr_error_set(err, "sandbox: set-up did not finish in %d s",
				    SETUP_TIMEOUT_MS / 1000);
	len = recvmsg(sb->sock, &mh, MSG_CMSG_CLOEXEC);
	if (len <= 0)
		return sr_error_set(err, "sandbox: set-up failed without a reason");
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_type == SCM_RIGHTS) {
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(cm), (n > 3 ? 3 : n) * sizeof(int));
	}
	if (msg[0] == 'E')
		return sr_error_set(err, "sandbox: %s", msg + 1);
	if (len != 3 || msg[0] != 'R' || n < 1)
		return sr_error_set(err, "sandbox: garbled set-up message");
	sb->tmp_fd = fds[i++];
	if (msg[1] == 'N')
		sb->notify_fd = fds[i++];
	if (msg[2] == 'P')
		sb->pty_fd = fds[i++];
	return 0;
}

static int
watch(struct sr_sandbox *sb, int fd, int tag, struct sr_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	if (epoll_ctl(sb->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return sr_error_errno(err, "sandbox: epoll");
	return 0;
}

/* One descriptor for the caller's poll loop: the listener, pid 1's end, and the tick. */
static int
setup_events(struct sr_sandbox *sb, struct sr_error *err)
{
	struct itimerspec tick = {
		.it_interval = { 0, TICK_MS * 1000000L },
		.it_value = { 0, TICK_MS * 1000000L },
	};

	sb->epfd = epoll_create1(EPOLL_CLOEXEC);
	sb->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sb->epfd < 0 || sb->timerfd < 0 || timerfd_settime(sb->timerfd, 0, &tick, NULL) < 0)
		return sr_error_errno(err, "sandbox: event set-up");
	if (watch(sb, sb->pidfd, TAG_PIDFD, err) < 0 || watch(sb, sb->timerfd, TAG_TIMER, err) < 0)
		return -1;
	if (sb->notify_fd >= 0 && watch(sb, sb->notify_fd, TAG_NOTIFY, err) < 0)
		return -1;
	return 0;
}

/*
 * What the listener looks the trapped tasks up in: the host's /proc, and
 * the sandbox's pid namespace (pid 1 is our child, not yet reaped, so that
 * its pid names it).
 */
static int
open_listener_fds(struct sr_sandbox *sb, struct sr_error *err)
{
	char path[64];

	if (sb->notify_fd < 0)
		return 0;
	/*
	 * An exec waits while the listener works, so each notification is a
	 * hand-off: this asks the kernel to wake the listener on the trapped
	 * task's CPU and the task on the listener's, instead of waking another,
	 * possibly idle, CPU each way (Linux 6.6; older kernels refuse the
	 * flag, which costs only speed).
	 */
	(void)ioctl(sb->notify_fd, SR_SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		    (unsigned long)SR_SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	sb->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sb->proc_fd < 0)
		return sr_error_errno(err, "sandbox: /proc");
	snprintf(path, sizeof(path), "%ld/ns/pid", (long)sb->pid);
	sb->pidns_fd = openat(sb->proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (sb->pidns_fd < 0)
		return sr_error_errno(err, "sandbox: /proc/%s", path);
	return 0;
}

static int
memfd_exec_sealable(void)
{
	/* vm.memfd_noexec (Linux 6.3) lets a pid namespace make every memfd non-executable. */
	return access("/proc/sys/vm/memfd_noexec", F_OK) == 0;
}

/* The cgroup and, at once, the janitor that removes it should we die. */
static int
make_cgroup(struct sr_sandbox *sb, struct sr_error *err)
{
	sb->cgroup = sr_cgroup_new("/sys/fs/cgroup", sb->spec.cgroup_parent, sb->spec.session,
				   &sb->spec.limits, err);
	if (sb->cgroup == NULL)
		return -1;
	return sr_supervise_janitor(sb, err);
}

/* 'G' and the compiled filter: the child may go on, it sits in its cgroup. */
static int
send_go(struct sr_sandbox *sb, struct sr_error *err)
{
	char go = 'G';
	struct iovec iov[2] = { { .iov_base = &go, .iov_len = 1 },
				{ .iov_base = sb->bpf, .iov_len = sb->bpf_len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sb->bpf_len > SR_SECCOMP_BPF_MAX)
		return sr_error_set(err, "sandbox: seccomp filter too large");
	if (sendmsg(sb->sock, &mh, MSG_NOSIGNAL) != (ssize_t)(1 + sb->bpf_len))
		return sr_error_errno(err, "sandbox: starting the child");
	return 0;
}

/*
 * The holding process's side.  Under cgroup v2 the child is born in its
 * cgroup (CLONE_INTO_CGROUP: no migration, which would wait for an RCU grace
 * period), so the cgroup and its janitor come first; under v1 the child is
 * moved into its cgroups after the clone.  Everything else the holding
 * process needs (the cgroup under v1, the compiled filter) is made after
 * the clone, while the child builds its
 * namespaces and file system on the other CPU; the child waits for the go
 * before anything of the user's runs.  Then the descriptors the child hands
 * back once it is ready.
 */
int
sr_sandbox_start(struct sr_sandbox *sb, struct sr_error *err)
{
	int sv[2], born_in_cgroup;

	if (sb->state != SR_SB_NEW)
		return sr_error_set(err, "sandbox: already started");
	born_in_cgroup = sr_cgroup_detect("/sys/fs/cgroup") == SR_CGROUP_V2;
	if (born_in_cgroup && make_cgroup(sb, err) < 0)
		goto out_cgroup;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		sr_error_errno(err, "sandbox: socketpair");
		goto out_cgroup;
	}
	sb->pid = sr_ns_clone(born_in_cgroup ? sr_cgroup_clone_fd(sb->cgroup) : -1, &sb->pidfd,
			      err);
	if (sb->pid == 0) {
		close(sv[0]);
		sandbox_child(sb, sv[1]);
	}
	close(sv[1]);
	sb->sock = sv[0];
	if (sb->pid < 0)
		goto out_cgroup;
	sb->state = SR_SB_RUNNING;
	sb->start_ms = sb->activity_ms = sr_audit_monotonic_ms();
	if (!born_in_cgroup &&
	    (make_cgroup(sb, err) < 0 || sr_cgroup_attach(sb->cgroup, sb->pid, err) < 0))
		goto out_kill;
	if (sr_seccomp_build(!sb->spec.exec_log_off, memfd_exec_sealable(), &sb->bpf,
			     &sb->bpf_len, err) < 0 ||
	    send_go(sb, err) < 0)
		goto out_kill;
	if (recv_ready(sb, err) < 0 || open_listener_fds(sb, err) < 0 ||
	    setup_events(sb, err) < 0)
		goto out_kill;
	return 0;

out_kill:
	syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
	sr_supervise_reap(sb);
out_cgroup:
	sr_supervise_teardown(sb);
	return -1;
}

/* ---- driving it ----------------------------------------------------------- */

int
sr_sandbox_fd(const struct sr_sandbox *sb)
{
	return sb->epfd;
}

int
sr_sandbox_exec_fd(const struct sr_sandbox *sb)
{
	return sb->state == SR_SB_RUNNING && !sb->listener_done ? sb->notify_fd : -1;
}

int
sr_sandbox_pty(const struct sr_sandbox *sb)
{
	return sb->pty_fd;
}

pid_t
sr_sandbox_pid(const struct sr_sandbox *sb)
{
	return sb->pid;
}

int
sr_sandbox_status(const struct sr_sandbox *sb)
{
	return sb->status;
}

uint64_t
sr_sandbox_exec_count(const struct sr_sandbox *sb)
{
	return sb->exec_count;
}

void
sr_sandbox_touch(struct sr_sandbox *sb)
{
	sb->activity_ms = sr_audit_monotonic_ms();
}

int
sr_sandbox_resize(struct sr_sandbox *sb, unsigned short cols, unsigned short rows,
		  struct sr_error *err)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	if (sb->pty_fd < 0)
		return sr_error_set(err, "sandbox: no terminal to resize");
	if (ioctl(sb->pty_fd, TIOCSWINSZ, &ws) < 0)
		return sr_error_errno(err, "sandbox: TIOCSWINSZ");
	return 0;
}

int
sr_sandbox_signal(struct sr_sandbox *sb, int sig, struct sr_error *err)
{
	if (sb->state != SR_SB_RUNNING)
		return 0;
	/* pid 1 forwards it to the command's process group. */
	if (syscall(SYS_pidfd_send_signal, sb->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return sr_error_errno(err, "sandbox: signal");
	return 0;
}

int
sr_sandbox_kill(struct sr_sandbox *sb, const char *reason, struct sr_error *err)
{
	char details[128];

	if (sb->state != SR_SB_RUNNING)
		return 0;
	if (reason != NULL && sb->killed_for == 0) {
		sb->killed_for = 1;
		snprintf(details, sizeof(details), "{\"limit\":\"%s\"}", reason);
		if (sr_sandbox_emit(sb, "limit.hit", details, err) < 0)
			return -1;
	}
	if (syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return sr_error_errno(err, "sandbox: kill");
	return 0;
}

int
sr_sandbox_dispatch(struct sr_sandbox *sb, struct sr_error *err)
{
	struct epoll_event evs[4];
	uint64_t ticks;
	int i, n, rc = 0;

	if (sb->state != SR_SB_RUNNING)
		return sb->audit_failed ? -1 : 1;
	n = epoll_wait(sb->epfd, evs, 4, 0);
	for (i = 0; i < n && rc == 0 && sb->state == SR_SB_RUNNING; i++) {
		switch (evs[i].data.u32) {
		case TAG_NOTIFY:
			if (evs[i].events & EPOLLIN) {
				rc = sr_exec_monitor_handle(sb, err);
			} else {
				/* Nothing left that can exec: stop watching it. */
				epoll_ctl(sb->epfd, EPOLL_CTL_DEL, sb->notify_fd, NULL);
				sb->listener_done = 1;
			}
			break;
		case TAG_TIMER:
			if (read(sb->timerfd, &ticks, sizeof(ticks)) > 0)
				rc = sr_supervise_tick(sb, err);
			break;
		case TAG_PIDFD:
			sr_supervise_reap(sb);
			break;
		}
	}
	if (rc < 0) {
		/* Fail closed: a sandbox whose execs cannot be recorded does not go on. */
		syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
		sr_supervise_reap(sb);
	}
	if (sb->state != SR_SB_ENDED)
		return 0;
	sr_supervise_teardown(sb);
	if (sb->audit_failed)
		return sr_error_set(err, "sandbox: ended because the audit trail could not be written");
	return 1;
}

void
sr_sandbox_free(struct sr_sandbox *sb)
{
	size_t i;

	if (sb == NULL)
		return;
	if (sb->state == SR_SB_RUNNING) {
		syscall(SYS_pidfd_send_signal, sb->pidfd, SIGKILL, NULL, 0);
		sr_supervise_reap(sb);
	}
	sr_supervise_teardown(sb);
	if (sb->pty_fd >= 0)
		close(sb->pty_fd);
	if (sb->epfd >= 0)
		close(sb->epfd);
	if (sb->timerfd >= 0)
		close(sb->timerfd);
	if (sb->pidfd >= 0)
		close(sb->pidfd);
	if (sb->proc_fd >= 0)
		close(sb->proc_fd);
	if (sb->pidns_fd >= 0)
		close(sb->pidns_fd);
	free((char *)sb->spec.user);
	free((char *)sb->spec.project);
	free((char *)sb->spec.session);
	free((char *)sb->spec.source);
	free((char *)sb->spec.workspace);
	free((char *)sb->spec.home);
	free((char *)sb->spec.term);
	free((char *)sb->spec.lang);
	free((char *)sb->spec.cgroup_parent);
	free((char *)sb->spec.export_socket);
	free((char *)sb->spec.export_client);
	for (i = 0; sb->argv != NULL && sb->argv[i] != NULL; i++)
		free(sb->argv[i]);
	free(sb->argv);
	for (i = 0; sb->datasets != NULL && i < sb->spec.n_datasets; i++) {
		free((char *)sb->datasets[i].name);
		free((char *)sb->datasets[i].path);
	}
	free(sb->datasets);
	free(sb->datasets_csv);
	free(sb->bpf);
	free(sb->scratch);
	seccomp_notify_free(sb->notif_req, sb->notif_resp);
	free(sb);
}

int
sr_sandbox_run(const struct sr_sandbox_spec *spec, struct sr_error *err)
{
	struct sr_sandbox *sb;
	int rc;

	sb = sr_sandbox_new(spec, err);
	if (sb == NULL)
		return -1;
	if (sr_sandbox_start(sb, err) < 0) {
		sr_sandbox_free(sb);
		return -1;
	}
	rc = sr_supervise_relay(sb, err);
	if (rc == 0)
		rc = sb->status;
	sr_sandbox_free(sb);
	return rc;
}
