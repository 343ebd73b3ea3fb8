/*
 * seccomp.c — the system call filter, loaded last (libseccomp).
 *
 * A deny list in the style of Docker's default profile, since a researcher's
 * R, Python and shell need the ordinary calls, plus what a closed room must
 * refuse:
 *
 *  - any architecture but the native one is killed (int 0x80 and x32 calls),
 *    so that the table of another ABI cannot be used to slip past the rules;
 *  - namespace flags to clone(), unshare() and setns() (no new user
 *    namespace to regain capabilities); clone3() answers ENOSYS because its
 *    flags sit in memory a filter cannot read, and libc falls back to clone();
 *  - TIOCSTI and TIOCLINUX compared on the low 32 bits only, because the
 *    kernel truncates the request to an int: a request with high bits set is
 *    the same ioctl;
 *  - sockets other than AF_UNIX, AF_INET and AF_INET6, and raw or packet
 *    sockets (no netlink, packet, vsock);
 *  - io_uring (its operations bypass this filter), bpf, perf_event_open,
 *    keyrings, userfaultfd, open_by_handle_at, module and kexec calls, mount
 *    and the new mount API, ptrace and process_vm_*, and the rest of the
 *    clock, swap, reboot and quota family;
 *  - memfd_create() with MFD_EXEC (or at all where the kernel cannot seal
 *    memfds non-executable), so that nothing runs from a file without a name.
 *
 * execve and execveat go to the user-notification listener (exec_monitor.c)
 * when exec logging is on.  The filter is compiled in the holding process,
 * before the clone, and the child only loads the finished BPF program.
 */
#include "config.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

struct denied {
	int nr;
	int err;
};

/*
 * Refused outright.  Numbers come from the kernel headers, so that a call
 * libseccomp does not know yet is still refused.
 */
static const struct denied denied_calls[] = {
	{ SYS_acct, EPERM }, { SYS_add_key, EPERM }, { SYS_bpf, EPERM },
	{ SYS_chroot, EPERM }, { SYS_clock_adjtime, EPERM }, { SYS_clock_settime, EPERM },
	{ SYS_create_module, EPERM }, { SYS_delete_module, EPERM },
	{ SYS_finit_module, EPERM }, { SYS_fsconfig, EPERM }, { SYS_fsmount, EPERM },
	{ SYS_fsopen, EPERM }, { SYS_fspick, EPERM }, { SYS_get_kernel_syms, EPERM },
	{ SYS_init_module, EPERM }, { SYS_io_uring_enter, EPERM },
	{ SYS_io_uring_register, EPERM }, { SYS_io_uring_setup, EPERM },
	{ SYS_ioperm, EPERM }, { SYS_iopl, EPERM }, { SYS_kcmp, EPERM },
	{ SYS_kexec_file_load, EPERM }, { SYS_kexec_load, EPERM }, { SYS_keyctl, EPERM },
	{ SYS_lookup_dcookie, EPERM }, { SYS_mount, EPERM }, { SYS_mount_setattr, EPERM },
	{ SYS_move_mount, EPERM }, { SYS_name_to_handle_at, EPERM },
	{ SYS_nfsservctl, EPERM }, { SYS_open_by_handle_at, EPERM },
	{ SYS_open_tree, EPERM }, { SYS_perf_event_open, EPERM },
	{ SYS_pidfd_getfd, EPERM }, { SYS_pivot_root, EPERM },
	{ SYS_process_vm_readv, EPERM }, { SYS_process_vm_writev, EPERM },
	{ SYS_ptrace, EPERM }, { SYS_query_module, EPERM }, { SYS_quotactl, EPERM },
	{ SYS_reboot, EPERM }, { SYS_request_key, EPERM }, { SYS_setns, EPERM },
	{ SYS_settimeofday, EPERM }, { SYS_swapoff, EPERM }, { SYS_swapon, EPERM },
	{ SYS_syslog, EPERM }, { SYS__sysctl, EPERM }, { SYS_sysfs, EPERM },
	{ SYS_umount2, EPERM }, { SYS_unshare, EPERM }, { SYS_uselib, EPERM },
	{ SYS_userfaultfd, EPERM }, { SYS_ustat, EPERM }, { SYS_vhangup, EPERM },
#ifdef SYS_quotactl_fd
	{ SYS_quotactl_fd, EPERM },
#endif
	{ SYS_clone3, ENOSYS },
};

static const uint64_t ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	CLONE_NEWCGROUP,
};

static int
rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n, const struct scmp_arg_cmp *cmp,
     struct sr_error *err)
{
	int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);

	if (rc < 0)
		return sr_error_set(err, "sandbox: seccomp rule for syscall %d: %s", nr,
				    strerror(-rc));
	return 0;
}

static int
deny_clone_namespaces(scmp_filter_ctx ctx, struct sr_error *err)
{
	size_t i;

	/* One rule per flag: the test is "any of these bits", which one masked compare cannot say. */
	for (i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++) {
		struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);

		if (rule(ctx, SCMP_ACT_ERRNO(EPERM), SYS_clone, 1, &c, err) < 0)
			return -1;
	}
	return 0;
}

static int
deny_tty_injection(scmp_filter_ctx ctx, struct sr_error *err)
{
	struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI);
	struct scmp_arg_cmp lnx = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCLINUX);

	if (rule(ctx, SCMP_ACT_ERRNO(EPERM), SYS_ioctl, 1, &sti, err) < 0)
		return -1;
	return rule(ctx, SCMP_ACT_ERRNO(EPERM), SYS_ioctl, 1, &lnx, err);
}

/* Only AF_UNIX (1), AF_INET (2) and AF_INET6 (10); any value with high bits set is >= 11. */
static int
deny_socket_families(scmp_filter_ctx ctx, int nr, struct sr_error *err)
{
	struct scmp_arg_cmp c;
	uint64_t fam;

	for (fam = 0; fam < 10; fam++) {
		if (fam == AF_UNIX || fam == AF_INET)
			continue;
		c = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_EQ, fam);
		if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1, &c, err) < 0)
			return -1;
	}
	c = (struct scmp_arg_cmp)SCMP_A0(SCMP_CMP_GE, AF_INET6 + 1);
	if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1, &c, err) < 0)
		return -1;
	/* The type's low four bits are the kind; the rest are SOCK_NONBLOCK/SOCK_CLOEXEC. */
	c = (struct scmp_arg_cmp)SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW);
	if (rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c, err) < 0)
		return -1;
	c = (struct scmp_arg_cmp)SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_PACKET);
	return rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1, &c, err);
}

static int
deny_memfd_exec(scmp_filter_ctx ctx, int sealable, struct sr_error *err)
{
	struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, MFD_EXEC, MFD_EXEC);

	if (!sealable)
		return rule(ctx, SCMP_ACT_ERRNO(EPERM), SYS_memfd_create, 0, NULL, err);
	return rule(ctx, SCMP_ACT_ERRNO(EPERM), SYS_memfd_create, 1, &c, err);
}

static int
add_rules(scmp_filter_ctx ctx, int exec_notify, int sealable, struct sr_error *err)
{
	size_t i;

	for (i = 0; i < sizeof(denied_calls) / sizeof(denied_calls[0]); i++)
		if (rule(ctx, SCMP_ACT_ERRNO(denied_calls[i].err), denied_calls[i].nr, 0, NULL,
			 err) < 0)
			return -1;
	if (deny_clone_namespaces(ctx, err) < 0 || deny_tty_injection(ctx, err) < 0 ||
	    deny_socket_families(ctx, SYS_socket, err) < 0 ||
	    deny_socket_families(ctx, SYS_socketpair, err) < 0 ||
	    deny_memfd_exec(ctx, sealable, err) < 0)
		return -1;
	if (!exec_notify)
		return 0;
	if (rule(ctx, SCMP_ACT_NOTIFY, SYS_execve, 0, NULL, err) < 0)
		return -1;
	return rule(ctx, SCMP_ACT_NOTIFY, SYS_execveat, 0, NULL, err);
}

/* libseccomp 2.5 can only export to a descriptor; a memfd keeps it off the disk. */
static int
export_bpf(scmp_filter_ctx ctx, unsigned char **bpf, size_t *len, struct sr_error *err)
{
	off_t size;
	int fd, rc = -1;

	fd = memfd_create("sr-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return sr_error_errno(err, "sandbox: memfd for seccomp");
	if (seccomp_export_bpf(ctx, fd) < 0) {
		sr_error_set(err, "sandbox: exporting the seccomp filter");
		goto out;
	}
	size = lseek(fd, 0, SEEK_END);
	*bpf = malloc(size > 0 ? (size_t)size : 1);
	if (size <= 0 || *bpf == NULL || pread(fd, *bpf, (size_t)size, 0) != size) {
		sr_error_set(err, "sandbox: reading the seccomp filter back");
		goto out;
	}
	*len = (size_t)size;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
sr_seccomp_build(int exec_notify, int sealable, unsigned char **bpf, size_t *len,
		 struct sr_error *err)
{
	scmp_filter_ctx ctx;
	int rc = -1;

	*bpf = NULL;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		return sr_error_set(err, "sandbox: seccomp_init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
		sr_error_set(err, "sandbox: seccomp attributes");
		goto out;
	}
	if (add_rules(ctx, exec_notify, sealable, err) < 0)
		goto out;
	rc = export_bpf(ctx, bpf, len, err);
out:
	seccomp_release(ctx);
	return rc;
}

/*
 * no_new_privs first (so that no exec can add privilege, and so that the
 * filter may be loaded without CAP_SYS_ADMIN), then the filter.  With a
 * listener the wait for its answer is killable, so that a sandbox blocked in
 * execve still dies at once when it is torn down.
 */
int
sr_seccomp_load(int rfd, const unsigned char *bpf, size_t len, int exec_notify)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)(uintptr_t)bpf,
	};
	unsigned long flags = exec_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sr_child_die_errno(rfd, "no_new_privs");
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		     flags | (exec_notify ? SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0), &prog);
	if (fd < 0 && errno == EINVAL && exec_notify)
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (fd < 0)
		sr_child_die_errno(rfd, "loading the seccomp filter");
	return exec_notify ? (int)fd : -1;
}
