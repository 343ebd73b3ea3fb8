/*
 * namespaces.c — the namespaces a sandbox lives in.
 *
 * Mount (its own tree), pid (its own pid 1, so that the whole sandbox dies
 * with it), net (only a loopback that reaches nothing of the host's), ipc
 * (no shared memory or semaphores with the host), uts (hostname = project)
 * and cgroup (its cgroup is its root).  No user namespace: the set-up runs as
 * real root and then drops to the researcher's real host uid, so that files
 * in /project belong to that uid on the host and nothing in the sandbox is
 * root of anything.
 */
#include "config.h"

#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/*
 * Like fork(), but the child starts as pid 1 of a new pid namespace; *pidfd
 * refers to it, so that signals cannot hit a recycled pid.  Under cgroup v2
 * it is born in its cgroup (no migration, which would wait for an RCU grace
 * period).  The other namespaces are the child's first act
 * (sr_ns_unshare): made by the caller of clone3() they would cost the
 * holding process most of a millisecond (a net namespace is the dearest)
 * that it can spend preparing the rest while the child makes them.  The
 * cgroup namespace is entered later by the child itself, once it sits in
 * its own cgroup, so that the namespace is rooted there.
 */
pid_t
sr_ns_clone(int cgroup_fd, int *pidfd, struct sr_error *err)
{
	struct clone_args args;
	long pid;

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_NEWPID | CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return sr_error_errno(err, "sandbox: clone3");
	return (pid_t)pid;
}

void
sr_ns_unshare(int report_fd)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		sr_child_die_errno(report_fd, "new mount, net, ipc and uts namespaces");
}

void
sr_ns_enter_cgroup(int report_fd)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		sr_child_die_errno(report_fd, "cgroup namespace");
}

/* Brings up lo, the only interface a new net namespace has; it reaches only the sandbox itself. */
static void
loopback_up(int report_fd)
{
	struct ifreq ifr;
	int s;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		sr_child_die_errno(report_fd, "socket for lo");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		sr_child_die_errno(report_fd, "lo flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		sr_child_die_errno(report_fd, "bringing lo up");
	close(s);
}

void
sr_ns_setup_uts_net(int report_fd, const char *hostname)
{
	if (sethostname(hostname, strlen(hostname)) < 0)
		sr_child_die_errno(report_fd, "sethostname");
	if (setdomainname("(none)", 6) < 0)
		sr_child_die_errno(report_fd, "setdomainname");
	loopback_up(report_fd);
}
