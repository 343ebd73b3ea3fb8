/*
 * monitor.h — the state of one connection's monitor, shared by monitor.c
 * (the permit table and authentication) and monitor_session.c (what runs
 * once the user is in).  Internal to broker/.
 */
#ifndef SAFEROOM_BROKER_MONITOR_H
#define SAFEROOM_BROKER_MONITOR_H

#include <poll.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "saferoom/policy.h"
#include "saferoom/sandbox.h"
#include "broker.h"
#include "monitor_proto.h"
#include "session.h"
#include "verbs_ssh.h"

#define PERMIT(t) (1u << (t))

#define NAME_LEN (SR_POLICY_NAME_MAX + 1)

enum mon_flags {
	MON_PREAUTH = 1 << 0,   /* may come before authentication */
	MON_POSTAUTH = 1 << 1,  /* may come after it */
	MON_ONCE = 1 << 2,      /* closes its own door when answered */
	MON_AUTHDECIDE = 1 << 3,/* its answer may authenticate the connection */
};

struct monitor {
	const struct sr_monitor_args *a;
	pid_t net_pid;
	pid_t compress_pid;          /* gzip'ing the finished recording, or 0 */
	int ctl, data, errs, log;
	uint32_t permit;             /* bit (1 << type) for each request allowed now */
	int authenticated;
	int tries;                   /* failed attempts on this connection */
	int failed;                  /* a failure was counted for the rate limits */
	int ending;                  /* SIGTERM, the trail gone, or the net child gone */
	char session_id[32];
	char user[NAME_LEN];         /* the account, without "+PROJECT" */
	char project[NAME_LEN];      /* named or decided */
	char fingerprint[128];
	char method[32];
	unsigned roles;
	long uid;
	char refusal[600];           /* logged in, but no session may start (and why) */
	char term[64], lang[64];
	int cols, rows, pty;
	char datasets[1024];         /* the session's datasets, comma-separated, for events */
	struct sr_policy *policy;
	struct sr_policy_spec *spec;
	struct sr_audit_client *audit;
	struct sr_kaudit *kaudit;
	struct sr_sandbox *sb;
	struct sr_session *sess;
	struct mon_export *export;   /* a researcher session's export socket, or NULL */
	struct sr_verbs_ssh verb;
	char verb_cmd[SR_MON_STR_MAX];
	char rec_name[64];
	const char *end_reason;
	int recorded;                /* the session has a recording and session events */
	int exit_sent;               /* the net child was told the command ended */
	time_t next_recheck;
	time_t grace_end;
};

/* Sends an event with the connection's user, project, session and source;
 * takes details (may be NULL).  On failure the connection is ending. */
int mon_event(struct monitor *m, const char *type, json_object *details, int durable);
json_object *details_new(const char *key, const char *value);
void details_add(json_object *o, const char *key, const char *value);
/* A refused request: channel.denied and a log line. */
void mon_denied(struct monitor *m, const char *what, const char *detail);
int mon_reply_ok(struct monitor *m, int ok, const char *message);
/* Opens policy.db into m->policy, with the configured id ranges and networks. */
int mon_policy_open(struct monitor *m, struct sr_error *err);

/* monitor_session.c */
int mm_answer_shell(struct monitor *m, struct sr_mon_msg *q);
int mm_answer_exec(struct monitor *m, struct sr_mon_msg *q);
/* After poll: the session's fds; -1 ends the connection. */
int mon_session_poll(struct monitor *m, const struct pollfd *fds, int n);
/* Ends the session now, writing session.end. */
void mon_session_end(struct monitor *m, const char *reason);

/* monitor_export.c: the export socket of a researcher session */
#define MON_EXPORT_POLLFDS 5
/* Makes the socket, before the sandbox is built; m->export is set. */
int mon_export_open(struct monitor *m, struct sr_error *err);
/* Fills the spec's export_socket (and export_client, in tests). */
void mon_export_spec(const struct monitor *m, struct sr_sandbox_spec *spec);
/* Up to MON_EXPORT_POLLFDS descriptors to poll; how many. */
int mon_export_pollfds(struct monitor *m, struct pollfd *fds, int max);
/* After poll: accepts connections, reaps their servers. */
void mon_export_poll(struct monitor *m, const struct pollfd *fds, int n);
/* Removes the socket and waits for the servers; NULL-safe, may be called twice. */
void mon_export_close(struct monitor *m);

/* Waits for the recording compressor, if one runs (monitor_session.c). */
void mon_compress_wait(struct monitor *m);

#endif /* SAFEROOM_BROKER_MONITOR_H */
