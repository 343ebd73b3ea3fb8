/*
 * test_sandbox_seccomp.c — the filter on its own, loaded into a child that is
 * still root with every capability: whatever it refuses there is refused by
 * the filter, not by missing privilege.  Also the exec listener's contract:
 * an exec waits for the answer, CONTINUE lets it run, and with the listener
 * gone the exec fails instead of running unrecorded.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static int report = -1;

/* In the child: one line "1 name" or "0 name (errno)" per check, read by the parent. */
static void
child_check(const char *name, long rc, int want_errno)
{
	char line[256];
	int pass = want_errno == 0 ? rc >= 0 : (rc < 0 && errno == want_errno);

	snprintf(line, sizeof(line), "%d %s (rc %ld, %s)\n", pass, name, rc,
		 rc < 0 ? strerror(errno) : "ok");
	if (write(report, line, strlen(line)) < 0)
		_exit(3);
}

static long
raw_clone(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static void
filtered_checks(void)
{
	char c = 'x', buf[128] = { 0 };
	int fd;

	child_check("unshare(CLONE_NEWUSER) is EPERM even for root", unshare(CLONE_NEWUSER), EPERM);
	child_check("unshare(CLONE_NEWNS) is EPERM", unshare(CLONE_NEWNS), EPERM);
	child_check("clone(CLONE_NEWUSER) is EPERM", raw_clone(CLONE_NEWUSER), EPERM);
	child_check("clone(CLONE_NEWNET) is EPERM", raw_clone(CLONE_NEWNET), EPERM);
	child_check("clone(CLONE_NEWCGROUP) is EPERM", raw_clone(CLONE_NEWCGROUP), EPERM);
	child_check("clone without namespace flags works", raw_clone(0), 0);
	child_check("clone3 is ENOSYS", syscall(SYS_clone3, NULL, 0), ENOSYS);
	child_check("setns is EPERM", setns(0, 0), EPERM);
	child_check("mount is EPERM even for root", mount("none", "/", "tmpfs", 0, NULL), EPERM);
	child_check("fsopen is EPERM", syscall(SYS_fsopen, "tmpfs", 0), EPERM);
	child_check("init_module is EPERM", syscall(SYS_init_module, buf, 0, ""), EPERM);
	child_check("kexec_load is EPERM", syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
	child_check("bpf is EPERM", syscall(SYS_bpf, 0, buf, 64), EPERM);
	child_check("perf_event_open is EPERM", syscall(SYS_perf_event_open, buf, 0, -1, -1, 0), EPERM);
	child_check("keyctl is EPERM", syscall(SYS_keyctl, 0, -3, 1), EPERM);
	child_check("add_key is EPERM", syscall(SYS_add_key, "user", "k", "v", 1, -3), EPERM);
	child_check("userfaultfd is EPERM", syscall(SYS_userfaultfd, 0), EPERM);
	child_check("open_by_handle_at is EPERM", syscall(SYS_open_by_handle_at, -1, buf, 0), EPERM);
	child_check("io_uring_setup is EPERM", syscall(SYS_io_uring_setup, 8, buf), EPERM);
	child_check("ptrace is EPERM", syscall(SYS_ptrace, 0, 0, 0, 0), EPERM);
	child_check("process_vm_writev is EPERM", syscall(SYS_process_vm_writev, 1, 0, 0, 0, 0, 0), EPERM);
	child_check("AF_NETLINK is refused", socket(AF_NETLINK, SOCK_DGRAM, 0), EAFNOSUPPORT);
	child_check("AF_PACKET is refused", socket(AF_PACKET, SOCK_DGRAM, 0), EAFNOSUPPORT);
	child_check("AF_VSOCK is refused", socket(40, SOCK_STREAM, 0), EAFNOSUPPORT);
	child_check("family 0 is refused", socket(0, SOCK_STREAM, 0), EAFNOSUPPORT);
	child_check("AF_UNIX with high bits set is refused",
		    syscall(SYS_socket, (1UL << 32) | AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
	child_check("SOCK_RAW is EPERM even for root", socket(AF_INET, SOCK_RAW, 1), EPERM);
	child_check("SOCK_RAW|SOCK_NONBLOCK is EPERM",
		    socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, 58), EPERM);
	child_check("AF_UNIX works", fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	child_check("AF_INET stream works", socket(AF_INET, SOCK_STREAM, 0), 0);
	child_check("AF_INET6 datagram works", socket(AF_INET6, SOCK_DGRAM, 0), 0);
	child_check("TIOCSTI is EPERM", ioctl(0, TIOCSTI, &c), EPERM);
	child_check("TIOCSTI with bit 32 set is EPERM",
		    syscall(SYS_ioctl, 0, (1UL << 32) | TIOCSTI, &c), EPERM);
	child_check("TIOCLINUX with high bits set is EPERM",
		    syscall(SYS_ioctl, 0, 0xabcd000000000000UL | TIOCLINUX, &c), EPERM);
	child_check("other ioctls work (FIONREAD on a socket)", ioctl(fd, FIONREAD, &fd), 0);
	child_check("memfd_create(MFD_EXEC) is EPERM", syscall(SYS_memfd_create, "x", MFD_EXEC), EPERM);
	child_check("getpid works", getpid(), 0);
}

/* Dies by SIGSYS when the architecture check works: returns its status for the parent. */
static int
foreign_abi(int x32)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		long r = 0;

		if (x32)
			syscall(0x40000000L | SYS_getpid);
		else
			__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
		_exit(r >= 0 ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	return st;
}

/* Forks a child that loads the filter (no listener) and runs the checks. */
static void
test_filter(const unsigned char *bpf, size_t len)
{
	char buf[8192], *line, *save = NULL;
	int p[2], st;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		report = p[1];
		sr_seccomp_load(p[1], bpf, len, 0);
		filtered_checks();
		st = foreign_abi(0);
		child_check("int 0x80 kills the caller with SIGSYS",
			    WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS ? 0 : -1, 0);
		st = foreign_abi(1);
		child_check("an x32 call kills the caller with SIGSYS",
			    WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS ? 0 : -1, 0);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the filtered child ran to the end");
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		ok(line[0] == '1', "%s", line + 2);
}

static int
recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	int fd = -1;

	if (recvmsg(sock, &mh, 0) <= 0 || CMSG_FIRSTHDR(&mh) == NULL)
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	return fd;
}

static void
send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, c = 'F';
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) < 0)
		_exit(4);
}

/*
 * A child loads the filter with a listener, hands the listener over and runs
 * /bin/true.  With ANSWER the parent continues the exec; without it the
 * parent closes the listener unanswered.  Returns the child's exit status.
 */
static int
exec_through_listener(const unsigned char *bpf, size_t len, int answer, long *nr)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int sv[2], fd, st = -1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "true", NULL };

		close(sv[0]);
		fd = sr_seccomp_load(sv[1], bpf, len, 1);
		send_fd(sv[1], fd);
		close(fd);
		if (read(sv[1], &st, 1) < 0) /* wait until the parent is ready */
			_exit(5);
		execv("/bin/true", argv);
		_exit(errno == ENOSYS ? 38 : 6);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	*nr = -1;
	if (fd >= 0 && !answer)
		close(fd);
	if (write(sv[0], "G", 1) != 1)
		fd = -1;
	if (fd >= 0 && answer && seccomp_notify_alloc(&req, &resp) == 0 &&
	    seccomp_notify_receive(fd, req) == 0) {
		*nr = req->data.nr;
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		seccomp_notify_respond(fd, resp);
	}
	seccomp_notify_free(req, resp);
	waitpid(pid, &st, 0);
	if (fd >= 0 && answer)
		close(fd);
	close(sv[0]);
	return st;
}

int
main(void)
{
	unsigned char *bpf = NULL;
	struct sr_error err = { { 0 } };
	size_t len = 0;
	long nr;
	int st;

	if (geteuid() != 0)
		skip_all("needs root, so that refusals are the filter's");
	ok(sr_seccomp_build(0, 1, &bpf, &len, &err) == 0 && len > 0,
	   "the filter compiles (%zu instructions) %s", len / 8, err.msg);
	test_filter(bpf, len);
	free(bpf);

	ok(sr_seccomp_build(1, 1, &bpf, &len, &err) == 0, "the filter with exec notification compiles");
	st = exec_through_listener(bpf, len, 1, &nr);
	is_int(nr, SYS_execve, "execve reaches the listener");
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after CONTINUE the exec runs (/bin/true exits 0)");
	st = exec_through_listener(bpf, len, 0, &nr);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 38,
	   "with the listener gone the exec fails with ENOSYS instead of running (status %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	free(bpf);
	return done_testing();
}
