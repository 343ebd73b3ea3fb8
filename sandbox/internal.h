/*
 * internal.h — what the files of sandbox/ share and nothing outside uses
 * (except the sandbox's own unit tests).
 *
 * One file per kernel facility, as in nsjail: namespaces.c, mounts.c,
 * identity.c, capabilities.c, seccomp.c, limits.c (cgroups and rlimits),
 * exec_monitor.c (the seccomp user-notification listener) and supervise.c
 * (pid 1 inside, the janitor and the teardown outside).  sandbox.c holds the
 * one function that performs the set-up in order.
 *
 * Two error idioms meet here, each in its own place: functions that run in
 * the holding process return -1 and fill a struct sr_error; functions that
 * run in the sandbox's pid 1 during set-up call sr_child_die(), which reports
 * one line to the holding process and exits, because there is nobody to
 * return to.
 */
#ifndef SAFEROOM_SANDBOX_INTERNAL_H
#define SAFEROOM_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <stdint.h>
#include <sys/types.h>

#include "saferoom/sandbox.h"

/* ---- sandbox.c: the object and the child's reporting -------------------- */

enum sr_sandbox_state {
	SR_SB_NEW = 0,
	SR_SB_RUNNING,
	SR_SB_ENDED,
};

struct sr_cgroup;
struct seccomp_notif;
struct seccomp_notif_resp;

struct sr_sandbox {
	struct sr_sandbox_spec spec;      /* every pointer in it points into this object */
	struct sr_sandbox_dataset *datasets;
	char **argv;
	char *datasets_csv;               /* "a,b": the datasets field of every event */
	unsigned char *bpf;               /* the compiled seccomp filter */
	size_t bpf_len;

	enum sr_sandbox_state state;
	struct sr_cgroup *cgroup;
	pid_t janitor;
	int janitor_fd;                   /* write end; the janitor cleans up when it closes */
	pid_t pid;                        /* the sandbox's pid 1, in the host's pid namespace */
	int pidfd;
	int sock;                         /* set-up channel to pid 1 */
	int notify_fd;                    /* seccomp listener */
	int pty_fd;                       /* pty master, or -1 */
	int tmp_fd;                       /* the sandbox's /tmp, for fstatfs */
	int epfd;
	int timerfd;

	int audit_failed;                 /* spec.audit failed: no more events, fail closed */

	int64_t start_ms;                 /* sr_audit_monotonic_ms() */
	int64_t activity_ms;
	uint64_t pids_events, oom_kills;  /* counters already reported */
	int tmp_full;                     /* /tmp was full at the last check */
	int killed_for;                   /* the limit that ended it, so it is reported once */
	int status;
	uint64_t exec_count;
	struct seccomp_notif *notif_req;  /* the listener's buffers, kept for the sandbox's life */
	struct seccomp_notif_resp *notif_resp;
	char *scratch;                    /* where the listener reads strings into */
	int proc_fd;                      /* the host's /proc, for the trapped task's cwd */
	int pidns_fd;                     /* the sandbox's pid namespace, to name pids as inside */
	int listener_done;                /* the listener hung up: no task can exec any more */
};

/* Reports "sandbox: MSG" to the holding process on fd and _exit()s.  Child only. */
void sr_child_die(int fd, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/* Same, with ": strerror(errno)" appended. */
void sr_child_die_errno(int fd, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Sends an event of TYPE with DETAILS (a JSON object's text) for this sandbox. */
int sr_sandbox_emit(struct sr_sandbox *sb, const char *type, const char *details,
		    struct sr_error *err);

/* ---- namespaces.c ------------------------------------------------------- */

/*
 * clone3() into a new pid namespace, and straight into the cgroup CGROUP_FD
 * when it is >= 0 (v2); returns like fork().
 */
pid_t sr_ns_clone(int cgroup_fd, int *pidfd, struct sr_error *err);
/* Child, first of all: new mount, net, ipc and uts namespaces. */
void sr_ns_unshare(int report_fd);
/* Child: enters a new cgroup namespace rooted at the cgroup it was just moved into. */
void sr_ns_enter_cgroup(int report_fd);
/* Child: hostname = project, and loopback up (the only interface of the net namespace). */
void sr_ns_setup_uts_net(int report_fd, const char *hostname);

/* ---- mounts.c ------------------------------------------------------------ */

/*
 * Child: builds the new root and pivots into it.  *tmp_fd receives an O_PATH
 * descriptor of /tmp so that the holding process can watch how full it is.
 */
void sr_mounts_build(int report_fd, const struct sr_sandbox *sb, int *tmp_fd);
/* Opens PATH (absolute) below "/" without following any symlink; O_PATH. */
int sr_open_beneath(int dirfd, const char *path, int flags, struct sr_error *err);

/* ---- identity.c ---------------------------------------------------------- */

/* The text of the sandbox's /etc/passwd and /etc/group; malloc'd. */
char *sr_identity_passwd(const struct sr_sandbox_spec *spec, const char *shell);
char *sr_identity_group(const struct sr_sandbox_spec *spec);
/* Child: setgroups(gid), setresgid(gid), setresuid(uid), and checks it stuck. */
void sr_identity_drop(int report_fd, uid_t uid, gid_t gid);

/* ---- capabilities.c ------------------------------------------------------ */

/* Child, still root: empties the bounding set and locks the securebits. */
void sr_caps_lock(int report_fd);
/* Child, after the uid change: empties every remaining set and checks it. */
void sr_caps_clear(int report_fd);

/* ---- seccomp.c ----------------------------------------------------------- */

/* The largest filter the kernel loads, in bytes of classic BPF. */
#define SR_SECCOMP_BPF_MAX (BPF_MAXINSNS * sizeof(struct sock_filter))

/* Holding process: compiles the filter (libseccomp) into classic BPF. */
int sr_seccomp_build(int exec_notify, int memfd_exec_sealable, unsigned char **bpf,
		     size_t *len, struct sr_error *err);
/* Child: no_new_privs, then loads the filter; returns the listener fd (or -1 without notify). */
int sr_seccomp_load(int report_fd, const unsigned char *bpf, size_t len, int exec_notify);

/* ---- limits.c ------------------------------------------------------------ */

enum sr_cgroup_version {
	SR_CGROUP_V1 = 1,
	SR_CGROUP_V2 = 2,
};

struct sr_cgroup_counters {
	uint64_t pids_max;    /* forks refused by pids.max */
	uint64_t oom_kills;   /* processes killed by the memory limit */
};

/* v2 when ROOT/cgroup.controllers exists (unified), else v1; -1 when neither is mounted. */
int sr_cgroup_detect(const char *root);
/*
 * Creates ROOT/[controller/]PARENT/NAME (for v1 under each of memory, pids and
 * cpu) and writes the limits.  A limit whose controller is missing is an
 * error: the sandbox never runs with less than was configured.
 */
struct sr_cgroup *sr_cgroup_new(const char *root, const char *parent, const char *name,
				const struct sr_sandbox_limits *lim, struct sr_error *err);
enum sr_cgroup_version sr_cgroup_version(const struct sr_cgroup *cg);
/* The v2 cgroup's directory, for CLONE_INTO_CGROUP; -1 under v1. */
int sr_cgroup_clone_fd(const struct sr_cgroup *cg);
/* Moves PID into the cgroup (every hierarchy under v1). */
int sr_cgroup_attach(struct sr_cgroup *cg, pid_t pid, struct sr_error *err);
int sr_cgroup_counters(struct sr_cgroup *cg, struct sr_cgroup_counters *out);
/* The descriptors the handle holds (at most max), so that a forked janitor can keep them. */
size_t sr_cgroup_fds(const struct sr_cgroup *cg, int *out, size_t max);
/* Number of processes in the cgroup, or -1. */
int sr_cgroup_nprocs(struct sr_cgroup *cg);
/* Kills every process in it, waits until it is empty, removes the directories. */
int sr_cgroup_destroy(struct sr_cgroup *cg, struct sr_error *err);
/* Frees the handle; the directories stay unless destroyed.  NULL is a no-op. */
void sr_cgroup_free(struct sr_cgroup *cg);
/* The text written to v2 cpu.max for MILLIS thousandths of a core ("50000 100000"). */
void sr_cgroup_cpu_max(unsigned millis, char *buf, size_t len);
/* Child: core dumps off, file size cap. */
void sr_rlimits_apply(int report_fd, const struct sr_sandbox_limits *lim);

/* ---- exec_monitor.c ------------------------------------------------------ */

/* Answers one pending notification.  Returns 0, or -1 when the audit trail failed. */
int sr_exec_monitor_handle(struct sr_sandbox *sb, struct sr_error *err);
/* Reads a NUL-terminated string of at most MAX bytes at ADDR in process PID. */
char *sr_exec_read_string(pid_t pid, uint64_t addr, size_t max);

/* ---- supervise.c --------------------------------------------------------- */

/* Holding process: forks the janitor that removes the cgroup if we die. */
int sr_supervise_janitor(struct sr_sandbox *sb, struct sr_error *err);
/* Holding process: normal teardown; waits for the janitor. */
void sr_supervise_teardown(struct sr_sandbox *sb);
/* Child: the rest of pid 1's life; forks the command and reaps until it ends. */
void sr_supervise_init(const struct sr_sandbox *sb, int pty_slave) __attribute__((noreturn));
/* Closes every descriptor from 3 up except keep[0..n) (and 0-2 unless close_stdio). */
void sr_close_fds_except(const int *keep, size_t n, int keep_stdio);
/* Holding process: periodic checks of limits and timeouts. */
int sr_supervise_tick(struct sr_sandbox *sb, struct sr_error *err);
/* Holding process: pid 1 ended; collects its status and the last counters. */
void sr_supervise_reap(struct sr_sandbox *sb);
/* Holding process: relays stdio and the pty until the sandbox ends. */
int sr_supervise_relay(struct sr_sandbox *sb, struct sr_error *err);

#endif /* SAFEROOM_SANDBOX_INTERNAL_H */
