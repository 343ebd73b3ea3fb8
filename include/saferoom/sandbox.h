/*
 * sandbox.h — the per-session sandbox: the room's walls.
 *
 * A sandbox runs one command (a login shell for an SSH session) with only
 * what the project was approved for: its datasets read-only under /data, its
 * workspace read-write at /project, a sized /tmp, the system directories
 * read-only, a fresh /proc, a minimal /dev, loopback-only networking, the
 * researcher's host uid and the project's host gid, no capabilities and no
 * way to gain one, a seccomp filter, cgroup and rlimit limits, and every
 * execve/execveat recorded as an `exec` audit event by a listener that runs
 * in the calling process, outside the sandbox.
 *
 * The caller fills a struct sr_sandbox_spec (the broker and `saferoomctl
 * sandbox run` from policy and configuration, tests directly) and either
 * calls sr_sandbox_run(), which blocks until the command ends, or drives a
 * struct sr_sandbox from its own event loop (the broker's monitor does, since
 * it also relays the pty and records the session):
 *
 *	sb = sr_sandbox_new(&spec, &err);
 *	sr_sandbox_start(sb, &err);
 *	poll on sr_sandbox_fd(sb) and sr_sandbox_exec_fd(sb) (and sr_sandbox_pty(sb));
 *	when either is readable: sr_sandbox_dispatch(sb, &err) until it returns 1;
 *	status = sr_sandbox_status(sb);
 *	sr_sandbox_free(sb);
 *
 * The process that calls sr_sandbox_start() holds the sandbox: when it dies,
 * even by SIGKILL, the sandbox dies with it (parent-death signal on the
 * sandbox's pid 1, pid namespace) and a janitor process it started removes
 * the cgroups.  It must be single-threaded while it holds a sandbox, because
 * the parent-death signal follows the thread that started it.
 *
 * Module rule: sandbox depends only on audit.
 */
#ifndef SAFEROOM_SANDBOX_H
#define SAFEROOM_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "saferoom/audit.h"
#include "saferoom/error.h"

/* Exit status of sr_sandbox_run() callers when the sandbox itself failed, as chroot(1) and env(1) use it. */
#define SR_SANDBOX_EXIT_FAILED 125

/* The longest user, project, session or dataset name. */
#define SR_SANDBOX_NAME_MAX 64

/* One approved dataset: mounted read-only, nosuid, nodev, noexec at /data/NAME. */
struct sr_sandbox_dataset {
	const char *name;   /* [A-Za-z0-9._-], not "." or ".." */
	const char *path;   /* absolute host path, already resolved: no symlink anywhere on it */
};

/*
 * Limits of one sandbox.  Zero means "no limit" except for tmp_bytes, which
 * must be set (an unsized /tmp would be half the host's memory).
 * These come from saferoom.conf (sandbox_memory, sandbox_pids, sandbox_cpu,
 * sandbox_tmp_size, sandbox_max_file_size, sandbox_idle_timeout,
 * sandbox_wall_clock) overridden per project with `project set`.
 */
struct sr_sandbox_limits {
	uint64_t memory_bytes;    /* cgroup memory limit (swap included where the host can) */
	uint64_t pids;            /* cgroup pids limit: processes and threads together */
	unsigned cpu_millis;      /* CPU bandwidth in thousandths of a core (1500 = 1.5 cores) */
	uint64_t tmp_bytes;       /* size of the /tmp tmpfs */
	uint64_t max_file_bytes;  /* RLIMIT_FSIZE: the largest file a process may write */
	unsigned idle_s;          /* no terminal input for this long ends a pty session */
	unsigned wall_clock_s;    /* the session ends this long after it started */
};

struct sr_sandbox_spec {
	/* Who and what: names appear in /etc/passwd, /etc/group, the hostname and every event. */
	const char *user;
	const char *project;
	const char *session;      /* audit session id; also names the cgroup */
	const char *source;       /* source address for audit events; NULL means "local" */
	uid_t uid;                /* the researcher's host uid; never 0 */
	gid_t gid;                /* the project's host gid; never 0 */

	const struct sr_sandbox_dataset *datasets;
	size_t n_datasets;
	const char *workspace;    /* absolute host path of the project workspace, mounted at /project */
	const char *home;         /* the user's home relative to the workspace ("home/alice"); NULL: none */

	struct sr_sandbox_limits limits;

	char *const *argv;        /* the command; argv[0] without a '/' is looked up on PATH inside */
	int pty;                  /* 1: the command gets a terminal of the sandbox's own devpts */
	const char *term;         /* TERM for the command; NULL: "dumb" */
	const char *lang;         /* LANG for the command (locale is the only environment passed in) */

	/* Audit: exec and limit.hit events go to this client (borrowed; required). */
	struct sr_audit_client *audit;

	const char *cgroup_parent; /* cgroup under which each sandbox gets one; NULL: "saferoom" */

	/*
	 * The session's export socket: a unix socket the caller made on the host
	 * (absolute path, no symlink on it), bound at /run/saferoom/export.sock,
	 * where saferoom-export looks for it.  NULL: no export socket.
	 */
	const char *export_socket;
	/*
	 * Tests from a build tree only: a saferoom-export program (absolute host
	 * path) offered as /usr/local/bin/saferoom-export, since the installed
	 * /usr/bin one is not there.  NULL, as in production: none.
	 */
	const char *export_client;
	/* Benchmarks only: let execs through without a listener.  Neither
	 * saferoomd nor saferoomctl ever sets it. */
	int exec_log_off;
};

struct sr_sandbox;

/* Checks the spec and copies it, so the caller's strings may go.  Starts nothing. */
struct sr_sandbox *sr_sandbox_new(const struct sr_sandbox_spec *spec, struct sr_error *err);

/*
 * Builds the sandbox and starts the command in it: cgroup with limits, janitor,
 * namespaces, mounts, identity, capabilities dropped, seccomp, exec listener.
 * On return 0 the command is running (or about to exec).  On -1 nothing is
 * left behind: no process, no cgroup.
 */
int sr_sandbox_start(struct sr_sandbox *sb, struct sr_error *err);

/* A descriptor that becomes readable whenever sr_sandbox_dispatch() has work. */
int sr_sandbox_fd(const struct sr_sandbox *sb);
/*
 * The exec listener itself (-1 without exec logging), readable while an
 * exec waits.  sr_sandbox_fd() covers it too, but an exec waits for every
 * microsecond of the hand-off, and only a poll() on this descriptor lets the
 * kernel wake the caller on the trapped task's CPU (through an epoll
 * descriptor that hint is lost): poll both.
 */
int sr_sandbox_exec_fd(const struct sr_sandbox *sb);

/*
 * Does the sandbox's pending work: answers exec notifications (writing their
 * events), checks limits and timeouts, notices the end.  Never blocks for
 * long.  Returns 0 while the command runs, 1 once it has ended and everything
 * in the sandbox is gone, -1 when the sandbox had to be killed because the
 * audit trail could not be written (fail closed; it has then ended too).
 */
int sr_sandbox_dispatch(struct sr_sandbox *sb, struct sr_error *err);

/* The pty master of a pty sandbox (the caller relays and records it), or -1. */
int sr_sandbox_pty(const struct sr_sandbox *sb);
/* Tells the sandbox the user just typed something, so that the idle timeout restarts. */
void sr_sandbox_touch(struct sr_sandbox *sb);
/* Sets the terminal size of a pty sandbox.  Returns 0 or -1. */
int sr_sandbox_resize(struct sr_sandbox *sb, unsigned short cols, unsigned short rows,
		      struct sr_error *err);
/* Sends SIG to the command's process group (through the sandbox's pid 1). */
int sr_sandbox_signal(struct sr_sandbox *sb, int sig, struct sr_error *err);
/* Ends the sandbox now: every process in it is killed.  reason goes into a limit.hit
 * event when not NULL ("grant_revoked", ...). */
int sr_sandbox_kill(struct sr_sandbox *sb, const char *reason, struct sr_error *err);

/* The sandbox's pid 1 as the host sees it; 0 before start. */
pid_t sr_sandbox_pid(const struct sr_sandbox *sb);
/* Once ended: the command's exit status as a shell reports it (128+N for signal N). */
int sr_sandbox_status(const struct sr_sandbox *sb);
/* How many exec events were written. */
uint64_t sr_sandbox_exec_count(const struct sr_sandbox *sb);

/* Kills what still runs, removes the cgroups, flushes the audit events.  NULL is a no-op. */
void sr_sandbox_free(struct sr_sandbox *sb);

/*
 * Everything at once, for `saferoomctl sandbox run` and tests: starts the
 * sandbox, passes stdin/stdout/stderr through (relaying them through the pty
 * when spec->pty is set, with the caller's terminal in raw mode), forwards
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT, waits, and tears down.  Returns the
 * command's exit status, or -1 when the sandbox could not be built or failed
 * (err says why).
 */
int sr_sandbox_run(const struct sr_sandbox_spec *spec, struct sr_error *err);

/* 1 when NAME may be a user, project, session or dataset name, else 0. */
int sr_sandbox_name_ok(const char *name);

#endif /* SAFEROOM_SANDBOX_H */
