/*
 * export.h — export review: the only way a file leaves the safe room.
 *
 * Part of the policy module (policy/export_*.c, policy/quarantine.c); it has
 * its own header because three parties use it: the broker's monitor serves
 * the export socket of a session (sr_export_serve), the verbs give stewards
 * their review queue and researchers their fetch, and the saferoom-export
 * program inside the sandbox speaks the wire protocol described below.
 *
 * The life of a request (DESIGN.md, "Export review"):
 *
 *   submitted ──checks──> in_review ──N approvals──> approved ──fetch──> released
 *       │                     │ └──one rejection──> rejected
 *       └────────withdrawn by the requester────────┘ (before a decision)
 *
 * A submission is snapshotted into STATE_DIR/quarantine (root-only, written
 * once, read-only after) and hashed while it is copied; the checks, the
 * preview, the diff and the fetch all read that copy, and every read checks
 * it against the SHA-256 recorded at submission, so what a steward reviewed
 * is exactly what the requester gets.  Each step is an audit event carrying
 * that hash (export.submit, export.check, export.approve, export.reject,
 * export.withdraw, export.fetch; export.refused for a request turned down),
 * sent durably before the step is committed: no step without its event.
 *
 * Who asks always comes from a policy handle opened with that actor, or from
 * the session the monitor knows; never from what a client sends.
 */
#ifndef SAFEROOM_EXPORT_H
#define SAFEROOM_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "saferoom/error.h"
#include "saferoom/policy.h"

#define SR_EXPORT_QUARANTINE "quarantine"       /* under state_dir, mode 0700 */
#define SR_EXPORT_SOCKET_ENV "SAFEROOM_EXPORT_SOCKET"
#define SR_EXPORT_SOCKET_DEFAULT "/run/saferoom/export.sock"
#define SR_EXPORT_REASON_MAX 2000               /* bytes of a reason, note or rejection */
#define SR_EXPORT_PATH_MAX 1024                 /* bytes of a path as submitted */
#define SR_EXPORT_IO_TIMEOUT_MS 30000           /* a peer silent this long is dropped */

/*
 * Thresholds, with the configuration keyword of each.  The defaults are
 * SACRO/ACRO's: counts below 10 and zeros in tables are disclosive.
 */
struct sr_export_limits {
	int64_t max_size;       /* export_max_size: bytes of a submitted file (16M) */
	int64_t max_rows;       /* export_max_rows: data rows of a CSV/TSV table (5000) */
	int64_t min_cell;       /* export_min_cell: smallest count that may leave (10) */
	int zero_disclosive;    /* export_zero_disclosive: zero counts flagged (yes) */
	int approvals;          /* export_approvals: distinct stewards to approve (1) */
	const char *file_types; /* export_file_types: extensions, blank- or comma-separated
				 * ("csv tsv txt md json log png jpg svg pdf") */
};

/* Fills in the documented defaults. */
void sr_export_limits_init(struct sr_export_limits *l);
/* Checks values and that every listed type is one the checks know.  Returns 0 or -1. */
int sr_export_limits_check(const struct sr_export_limits *l, struct sr_error *err);

enum sr_export_verdict {
	SR_EXPORT_PASS = 0,
	SR_EXPORT_REVIEW = 1,   /* a steward must look: unsure, or cannot be checked */
	SR_EXPORT_FAIL = 2,     /* disclosive as it stands: can only be rejected */
};

const char *sr_export_verdict_name(enum sr_export_verdict v);

/* Parses a request id as typed ("12", "#12").  Returns 0 or -1. */
int sr_export_parse_id(const char *text, int64_t *id);

/* ---- export_submit.c: what the monitor does for saferoom-export submit --------------- */

/*
 * A session as the monitor knows it.  Everything here comes from the
 * session's own state, never from the client.
 */
struct sr_export_session {
	const char *state_dir;
	const char *user;           /* the researcher */
	const char *project;        /* the session's project */
	const char *source;         /* SSH source address, for the audit trail */
	const char *session;        /* audit session id, or NULL */
	int workspace_fd;           /* an open directory fd of the project workspace: /project */
	uid_t uid;                  /* the researcher's host uid: only files they own may be
				     * submitted, and the socket's peer must run as it */
	const struct sr_export_limits *limits;  /* NULL: defaults */
};

/*
 * Submits PATH (as typed inside the sandbox, absolute: "/project/out/t1.csv")
 * for export with REASON.  The file must be a regular file beneath the
 * workspace, reached without symlinks, mounts or "..", with a single link,
 * owned by who->uid and within the size cap; it is copied into quarantine
 * while hashed, the request is recorded, and the checks are run on the copy.
 * P must be opened with who->user as its actor.
 *
 * Returns 0 with the new request's id.  On -1 nothing is recorded when *id is
 * 0; when *id is set the request exists but its checks could not be run (it
 * stays "submitted", and a steward can only reject it).
 */
int sr_export_submit(struct sr_policy *p, const struct sr_export_session *who, const char *path,
		     const char *reason, int64_t *id, struct sr_error *err);

/* ---- export_serve.c: the export socket ------------------------------------------------- */

/*
 * Wire protocol of the export socket (a SOCK_STREAM unix socket): every
 * message is a 4-byte big-endian length and that many bytes of one JSON
 * object, at most SR_EXPORT_MSG_MAX.  The client sends requests, the server
 * answers each with one response, until the client closes.
 *
 *   {"op":"submit","path":"/project/t1.csv","reason":"Table 1 of the paper"}
 *   {"op":"list"}
 *   {"op":"withdraw","id":12}
 *
 *   {"ok":true,"message":"request 12 submitted","id":12,"verdict":"review",
 *    "checks":[{"name":"cells","verdict":"review","message":"..."}, ...]}
 *   {"ok":true,"requests":[{"id":12,"state":"in_review","path":"t1.csv",...}]}
 *   {"ok":false,"error":"one line saying why"}
 */
#define SR_EXPORT_MSG_MAX (1024 * 1024)

/* Sends MSG as one frame (MSG_NOSIGNAL: a vanished peer is an error, not a signal). */
int sr_export_msg_send(int fd, struct json_object *msg, struct sr_error *err);
/*
 * Receives one frame into *msg, waiting at most timeout_ms (-1: forever) for
 * each part.  Returns 1 with a message, 0 when the peer closed between
 * messages, -1 on a timeout, a malformed frame or an I/O error.
 */
int sr_export_msg_recv(int fd, int timeout_ms, struct json_object **msg, struct sr_error *err);

/*
 * Serves one connection of a session's export socket: answers requests until
 * the peer closes.  Identity is WHO; the peer's SO_PEERCRED uid must equal
 * who->uid, as a sanity check only.  Opens STATE_DIR's policy.db as
 * who->user for its own use.
 *
 * It blocks while it serves (each message waits at most
 * SR_EXPORT_IO_TIMEOUT_MS; a submission's checks take a few seconds for a
 * file at the size cap), so a monitor with an event loop calls it in a
 * forked child.  Returns 0 when the peer closed, -1 when the connection was
 * dropped (ERR says why; the peer got a last {"ok":false} when possible).
 */
int sr_export_serve(int connfd, const struct sr_export_session *who, struct sr_error *err);

/* ---- export_request.c: deciding and fetching -------------------------------------------- */

enum sr_export_vote {
	SR_EXPORT_APPROVE,
	SR_EXPORT_REJECT,
};

/*
 * The actor of P votes on request ID.  The actor must be a user holding the
 * steward role and must not be the requester; each steward votes once.  A
 * rejection needs a reason (NOTE) and decides at once; an approval decides
 * once the request's required number of distinct stewards approved.  A
 * request with a failed check cannot be approved.  STATE (may be NULL,
 * 16 bytes) receives the state after the vote.
 */
int sr_export_vote(struct sr_policy *p, int64_t id, enum sr_export_vote vote, const char *note,
		   char *state, struct sr_error *err);
/* The requester (the actor of P) withdraws ID before it is decided. */
int sr_export_withdraw(struct sr_policy *p, int64_t id, struct sr_error *err);
/*
 * The requester (the actor of P) fetches approved request ID: the quarantined
 * bytes are read, checked against the reviewed SHA-256, the fetch is audited
 * and the request marked released, and only then are the bytes written to
 * OUT.  A released request may be fetched again (the same approved bytes).
 */
int sr_export_fetch(struct sr_policy *p, int64_t id, FILE *out, struct sr_error *err);

/* ---- export_views.c: what list and show print ------------------------------------------ */

struct sr_export_filter {
	const char *state;          /* NULL: every state */
	const char *project;        /* NULL: every project */
	const char *requester;      /* NULL: everyone's */
	int64_t decided_since;      /* > 0: only requests decided at or after (seconds) */
};

/* An array of requests, newest first; json_object_put() it. */
struct json_object *sr_export_list(struct sr_policy *p, const struct sr_export_filter *f,
				   struct sr_error *err);
/* One request with its checks (and their locations) and reviews. */
struct json_object *sr_export_show(struct sr_policy *p, int64_t id, struct sr_error *err);
/*
 * The login banner's lines: requests of USER decided since SINCE (seconds),
 * one line each ("export 12 results/t1.csv: approved, fetch with `export
 * fetch 12`"), with "\r\n" line ends when crlf is set.  Writes nothing when
 * there are none.
 */
int sr_export_banner(struct sr_policy *p, const char *user, int64_t since, FILE *out, int crlf,
		     struct sr_error *err);

/* ---- export_preview.c and export_diff.c: what a steward reads --------------------------- */

/*
 * The start of a text or table file and every flagged line, numbered, with
 * flagged cells in colour (red: fail, yellow: review) or, without colour,
 * marked [[like this]].  Control characters and invalid UTF-8 are shown
 * escaped; Korean and other text stays as it is.
 */
int sr_export_preview(struct sr_policy *p, int64_t id, FILE *out, int colour,
		      struct sr_error *err);
/*
 * A unified diff of request ID against the previous submission of the same
 * path in the same project (or a line saying there is none, or that either
 * file is not text).  Bounded: past SR_EXPORT_DIFF_MAX_EDITS changed lines it
 * says so instead.
 */
#define SR_EXPORT_DIFF_MAX_EDITS 2000
int sr_export_diff(struct sr_policy *p, int64_t id, FILE *out, int colour, struct sr_error *err);

/*
 * Writes LEN bytes of S for a terminal: valid UTF-8 stays (Korean intact),
 * control characters (C0 but tab, DEL, C1), bidirectional overrides and
 * invalid bytes are written as \xNN or \uNNNN, so a file cannot drive the
 * steward's terminal.
 */
void sr_export_write_escaped(FILE *out, const char *s, size_t len);

#endif /* SAFEROOM_EXPORT_H */
