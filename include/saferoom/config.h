/*
 * config.h — saferoom.conf, the one configuration file of a safe room.
 *
 * `keyword value` lines, `#` starts a comment, blank lines are ignored, like
 * sshd_config.  Every keyword is listed in one table in broker/config.c with
 * its parser and default; packaging/saferoom.conf documents each one.  An
 * unknown keyword, a repeated one (except `listen` and `allow_from`) or a bad
 * value is an error naming FILE:LINE.
 */
#ifndef SAFEROOM_CONFIG_H
#define SAFEROOM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "saferoom/error.h"

#define SR_CONFIG_DEFAULT_PATH "/etc/saferoom/saferoom.conf"
#define SR_CONFIG_MAX_LISTEN 8
#define SR_CONFIG_MAX_ALLOW 64
#define SR_CONFIG_NAME_MAX 33

struct sr_listen {
	char host[64];   /* numeric IPv4 or IPv6 address, no brackets */
	int port;
};

/* A network in CIDR form, as given to allow_from. */
struct sr_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
	char text[64];
};

struct sr_config {
	char *path;                      /* the file it came from */
	struct sr_listen listen[SR_CONFIG_MAX_LISTEN];
	size_t n_listen;
	char *state_dir;                 /* policy.db, audit.db, recordings/, ... */
	char *host_key;                  /* ed25519 host key; made by `init` if missing */
	int audit_seal_interval;         /* seconds between seals of the chain head */
	int audit_retention_days;        /* nothing younger is ever deleted */
	struct sr_cidr allow_from[SR_CONFIG_MAX_ALLOW];
	size_t n_allow_from;             /* 0 means every source is allowed */
	long uid_min, uid_max;           /* host uids given to researchers */
	long gid_min, gid_max;           /* host gids given to projects */

	/* Admission (saferoomd). */
	int login_grace_time;            /* seconds to authenticate */
	int max_auth_tries;              /* failed attempts per connection */
	int max_startups;                /* connections not yet authenticated */
	int max_connections;             /* connections in any state */
	int auth_fail_window;            /* seconds over which failures count */
	int auth_fail_max_source;        /* failures that block a source address */
	int auth_fail_max_user;          /* failures that block a user name */
	int auth_fail_block;             /* seconds a block lasts */
	int totp_required;               /* every login needs a TOTP code */
	int policy_recheck_interval;     /* seconds between re-decisions of a session */
	char netchild_user[SR_CONFIG_NAME_MAX]; /* system user of the SSH-speaking child */

	/* Sandbox defaults, in the units of `project set` (bytes, count,
	 * percent of one CPU, seconds); a project may override each. */
	int64_t sandbox_memory;
	int64_t sandbox_pids;
	int64_t sandbox_cpu;
	int64_t sandbox_tmp_size;
	int64_t sandbox_max_file_size;
	int64_t idle_timeout;
	int64_t max_session;
	int64_t min_free_space;          /* bytes free in state_dir for a session to start */

	/* Export review (see export.h: struct sr_export_limits). */
	int64_t export_max_size;         /* bytes of a submitted file */
	int export_max_rows;             /* data rows of a CSV/TSV table */
	int export_min_cell;             /* smallest count that may leave */
	int export_zero_disclosive;      /* zero counts are flagged */
	int export_approvals;            /* distinct stewards who must approve */
	char export_file_types[256];     /* comma-separated extensions */
};

/*
 * Which file to read: PATH when not NULL, else $SAFEROOM_CONF when set, else
 * SR_CONFIG_DEFAULT_PATH.
 */
const char *sr_config_path(const char *path);

/* Reads and checks the file.  Returns NULL with a FILE:LINE message on error. */
struct sr_config *sr_config_load(const char *path, struct sr_error *err);
void sr_config_free(struct sr_config *cfg);

/* Parses "a.b.c.d/n" or "x::y/n" (a bare address is a host route). */
int sr_cidr_parse(const char *text, struct sr_cidr *out);
/* 1 when the numeric address ADDR lies in the network, else 0. */
int sr_cidr_contains(const struct sr_cidr *net, const char *addr);

#endif /* SAFEROOM_CONFIG_H */
