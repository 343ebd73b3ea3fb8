/*
 * jail.c — the net child's confinement: the code that parses what a stranger
 * on the network sends must not be able to do anything else.
 *
 * The order is the recipe, top to bottom in sr_jail_enter():
 *   1. chroot to an empty root-owned directory, so that no file is reachable;
 *   2. drop to the unprivileged user: groups, gid, then uid, all three ids,
 *      so that nothing can switch back, and with them every capability;
 *   3. resource limits that make fork and file creation pointless;
 *   4. no_new_privs, which seccomp needs and which makes setuid binaries inert;
 *   5. the seccomp allowlist, last, because every step above needs calls it
 *      forbids.  Anything not on it kills the process.
 * Everything that needs a file (host keys, OpenSSL's configuration, passwd
 * look-ups, syslog's socket) is done by the caller before.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "broker.h"

int
sr_jail_prepare_dir(const char *dir, struct sr_error *err)
{
	struct stat st;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return sr_error_errno(err, "%s", dir);
	if (lstat(dir, &st) < 0)
		return sr_error_errno(err, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0)
		return sr_error_set(err, "%s: must be a directory owned by root, not group- or "
				    "world-writable", dir);
	if (st.st_nlink != 2)
		return sr_error_set(err, "%s: must be empty", dir);
	return 0;
}

static int
drop_identity(uid_t uid, gid_t gid, struct sr_error *err)
{
	if (uid == 0 || gid == 0)
		return sr_error_set(err, "refusing to run the net child as root");
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return sr_error_errno(err, "dropping to uid %ld", (long)uid);
	/* Paranoia that costs one call: the way back must be closed. */
	if (setuid(0) == 0 || setgid(0) == 0)
		return sr_error_set(err, "could regain root after dropping it");
	return 0;
}

static int
set_limits(struct sr_error *err)
{
	struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_FSIZE, &zero) < 0 || setrlimit(RLIMIT_NPROC, &zero) < 0 ||
	    setrlimit(RLIMIT_CORE, &zero) < 0)
		return sr_error_errno(err, "setrlimit");
	return 0;
}

/* What libssh, OpenSSL and glibc need to speak SSH over fds they already hold. */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(fcntl),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(getrandom), SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static int
load_seccomp(struct sr_error *err)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return sr_error_set(err, "seccomp_init failed");
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* ioctl only to ask for or set non-blocking mode, never on a terminal. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, FIONBIO));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		errno = -rc;
		return sr_error_errno(err, "seccomp");
	}
	return 0;
}

int
sr_jail_enter(const char *empty_dir, uid_t uid, gid_t gid, struct sr_error *err)
{
	if (chdir(empty_dir) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return sr_error_errno(err, "chroot %s", empty_dir);
	if (drop_identity(uid, gid, err) < 0)
		return -1;
	/* Changing credentials cleared the parent-death signal: a net child must
	 * not outlive its monitor. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return sr_error_errno(err, "PR_SET_PDEATHSIG");
	if (set_limits(err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sr_error_errno(err, "no_new_privs");
	return load_seccomp(err);
}
