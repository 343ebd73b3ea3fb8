/*
 * broker.h — what saferoomd's own files share: the entry points of each
 * process role (master, monitor, net child) and their helpers.  Every
 * tunable is a saferoom.conf keyword, read through struct sr_config.
 */
#ifndef SAFEROOM_BROKER_H
#define SAFEROOM_BROKER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "saferoom/config.h"
#include "saferoom/error.h"

#define SR_EMPTY_DIR "empty"          /* STATE_DIR/empty: the net child's chroot */

/* A numeric peer address ("127.0.0.1", "::1"); IPv4-mapped IPv6 is unmapped. */
void sr_sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outlen);

/* ---- listener.c ----------------------------------------------------------- */

struct sr_listener {
	int fds[SR_CONFIG_MAX_LISTEN];
	struct sr_listen addrs[SR_CONFIG_MAX_LISTEN];
	size_t n;
};

/* Binds every `listen` address of cfg (IPv6 sockets are IPV6_V6ONLY). */
int sr_listener_open(struct sr_listener *l, const struct sr_config *cfg, struct sr_error *err);
/* 1 when l listens on exactly cfg's addresses. */
int sr_listener_same(const struct sr_listener *l, const struct sr_config *cfg);
void sr_listener_close(struct sr_listener *l);

/* ---- ratelimit.c: failures shared by every monitor -------------------------- */

struct sr_ratelimit;

/* A table in shared memory, made by the master before it forks monitors. */
struct sr_ratelimit *sr_ratelimit_new(struct sr_error *err);
void sr_ratelimit_free(struct sr_ratelimit *rl);
/* Seconds KEY stays blocked (0: not blocked), with max failures per window. */
int sr_ratelimit_blocked(struct sr_ratelimit *rl, const char *key, int max, int window,
			 int block, time_t now);
/* Counts one failure of KEY. */
void sr_ratelimit_fail(struct sr_ratelimit *rl, const char *key, int window, time_t now);

/* ---- monitor.c: the privileged side of one connection ---------------------- */

struct sr_monitor_args {
	const struct sr_config *cfg;
	ssh_bind bind;                  /* host keys loaded; the net child accepts on it */
	int conn;                       /* the accepted TCP connection */
	char source[INET6_ADDRSTRLEN];  /* peer address */
	int source_port;
	struct sr_ratelimit *rl;
	int notify_fd;                  /* tells the master "authenticated" */
	uid_t net_uid;                  /* looked up by the master, before any chroot */
	gid_t net_gid;
};

/* Runs the connection to its end; returns the process exit status. */
int sr_monitor_run(const struct sr_monitor_args *a);

/* ---- netchild.c: the unprivileged SSH speaker ------------------------------ */

struct sr_netchild_args {
	ssh_bind bind;
	int conn;
	int ctl;        /* SOCK_SEQPACKET to the monitor: requests and answers */
	int data;       /* stream socket: channel stdin to the monitor, stdout back */
	int errs;       /* stream from the monitor: the channel's stderr */
	int log;        /* log lines to the monitor */
	const char *empty_dir;
	uid_t uid;
	gid_t gid;
	int max_auth_tries;
};

/* Never returns. */
void sr_netchild_run(const struct sr_netchild_args *a) __attribute__((noreturn));

/* ---- jail.c ----------------------------------------------------------------- */

/* Creates DIR as an empty directory owned by root, mode 0755, or checks that it is one. */
int sr_jail_prepare_dir(const char *dir, struct sr_error *err);
/*
 * Confines the calling process for good: chroot to the empty dir, drop to
 * uid/gid with no supplementary groups and no capabilities, no_new_privs,
 * then the seccomp allowlist.  Anything else is killed by the kernel.
 */
int sr_jail_enter(const char *empty_dir, uid_t uid, gid_t gid, struct sr_error *err);

#endif /* SAFEROOM_BROKER_H */
