/*
 * audit.h — saferoom's tamper-evident audit trail.
 *
 * Every event is a row of audit.db (SQLite, WAL) chained to its predecessor:
 *
 *   hash = SHA-256(prev_hash || canonical(event))
 *
 * where canonical() is the netstring ("LEN:BYTES,") of each of seq, time_ms,
 * type, user, project, session, source, datasets and details, in that order.
 * Netstrings are unambiguous, so no two events share an encoding.  The first
 * event's prev_hash is 32 zero bytes.
 *
 * Events older than the retention period (audit_retention_days) can be
 * pruned; the chain then starts at a recorded anchor that verify checks.
 *
 * Exactly one process writes audit.db: the audit writer.  It holds an
 * exclusive lock (audit.lock) and serves producers on a unix socket
 * (audit.sock) in the state directory; it group-commits what they send and
 * acknowledges an event only once it is durable.  Periodically and at shutdown
 * it seals the chain head into the kernel audit log, syslog, the witness file
 * audit.seals, and an audit.seal event, so that truncation is detectable.
 *
 * Module rule: audit depends on no other saferoom module.
 */
#ifndef SAFEROOM_AUDIT_H
#define SAFEROOM_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saferoom/error.h"

#define SR_AUDIT_HASH_LEN 32
#define SR_AUDIT_DB "audit.db"
#define SR_AUDIT_LOCK "audit.lock"
#define SR_AUDIT_SOCK "audit.sock"
#define SR_AUDIT_SEALS "audit.seals"
#define SR_AUDIT_RECORDINGS "recordings"
/* Largest event a producer may send, all fields together. */
#define SR_AUDIT_EVENT_MAX (60 * 1024)

/*
 * One event.  Producers fill type..details; the writer assigns seq and time_ms.
 * String fields may be NULL, which is stored and hashed as "".  details is the
 * text of a JSON object (NULL means "{}"); the writer refuses anything else.
 *
 * The five fields of an access record (Korea's 개인정보의 안전성 확보조치 기준 §8):
 * account = user, time = time_ms, source = source, whose data = datasets
 * (comma-separated dataset names), action = type + details.
 */
struct sr_audit_event {
	int64_t seq;
	int64_t time_ms; /* UTC milliseconds since the epoch */
	const char *type;
	const char *user;
	const char *project;
	const char *session;
	const char *source;
	const char *datasets;
	const char *details;
};

/* A stored row: the event with its chain links. */
struct sr_audit_row {
	struct sr_audit_event ev;
	unsigned char prev_hash[SR_AUDIT_HASH_LEN];
	unsigned char hash[SR_AUDIT_HASH_LEN];
};

/* ---- chain.c: canonical encoding and hashing -------------------------- */

/* hash = SHA-256(prev || canonical(ev)).  Returns 0, or -1 on a libcrypto failure. */
int sr_audit_hash(const unsigned char prev[SR_AUDIT_HASH_LEN],
		  const struct sr_audit_event *ev,
		  unsigned char out[SR_AUDIT_HASH_LEN]);
/* Lower-case hex of a hash; out must hold 2*SR_AUDIT_HASH_LEN+1 bytes. */
void sr_audit_hex(const unsigned char hash[SR_AUDIT_HASH_LEN], char *out);
/* Parses 64 hex digits.  Returns 0 or -1. */
int sr_audit_unhex(const char *hex, unsigned char out[SR_AUDIT_HASH_LEN]);
/* Milliseconds since the epoch, UTC.  (clock.c) */
int64_t sr_audit_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC, for timeouts and elapsed time.  (clock.c) */
int64_t sr_audit_monotonic_ms(void);
/* "2026-11-28T13:06:05.123Z"; out must hold 25 bytes. */
void sr_audit_format_time(int64_t time_ms, char *out, size_t outlen);
/*
 * Parses an ISO 8601 UTC time: "2026-11-28", "2026-11-28T13:06",
 * "2026-11-28T13:06:05", optional ".mmm" and optional "Z".  Returns 0 or -1.
 */
int sr_audit_parse_time(const char *text, int64_t *time_ms);

/* ---- store.c: audit.db ------------------------------------------------- */

struct sr_audit_store;

enum sr_audit_open_mode {
	SR_AUDIT_READ = 0,   /* queries and verify; never writes */
	SR_AUDIT_WRITE = 1,  /* the single writer: creates the db, takes audit.lock */
};

/*
 * Opens STATE_DIR/audit.db.  In SR_AUDIT_WRITE mode the schema is created or
 * migrated and audit.lock is taken without waiting: a second writer fails.
 * retention_days (write mode only) is recorded in the db and enforced by a
 * trigger so that no event younger than it can be deleted; 0 keeps the value
 * already recorded (730 for a new db), a negative value is an error.  Events
 * are also protected by a trigger against UPDATE: the table is append-only.
 */
struct sr_audit_store *sr_audit_store_open(const char *state_dir, enum sr_audit_open_mode mode,
					   int retention_days, struct sr_error *err);
void sr_audit_store_free(struct sr_audit_store *store);

/*
 * Appends evs[0..n) in one transaction, assigning seq, time_ms (now, never
 * earlier than the previous event) and the chain.  On return 0 the events are
 * durable (synchronous=FULL).  On -1 nothing was appended.
 */
int sr_audit_store_append(struct sr_audit_store *store, struct sr_audit_event *evs, size_t n,
			  struct sr_error *err);
/* The chain head: last seq (0 when empty) and its hash (zeros when empty). */
int sr_audit_store_head(struct sr_audit_store *store, int64_t *seq,
			unsigned char hash[SR_AUDIT_HASH_LEN], struct sr_error *err);

/* ---- prune.c: retention ------------------------------------------------- */

/* What a prune did (or, planned, would do). */
struct sr_audit_prune_result {
	int retention_days;      /* applied: the longer of the one asked and the db's */
	int64_t cutoff_ms;       /* events before this time are removed */
	int64_t first_seq;       /* the chain starts here afterwards */
	int64_t deleted;         /* events removed */
	int64_t recordings;      /* recordings named by the removed session.end events */
	int64_t files_removed;   /* recording files removed (plain or .gz); prune only */
	int64_t event_seq;       /* the audit.prune event that records it; prune only */
	int64_t remaining;       /* older events left for the next call; prune only */
};

/*
 * Removes every event older than the retention period, and the recordings
 * their session.end events name; never an event younger (the store's
 * trigger refuses it too).  retention_days >= 1; the db's own recorded
 * retention wins when it is longer.  In one transaction it appends an
 * audit.prune event (user, session and source from who, which may be NULL)
 * whose details name the new first seq and its prev_hash, deletes, and
 * records that anchor, so that sr_audit_verify() still proves the rest.
 * One call removes at most 10000 events (one transaction, so that the
 * writer is never held up for long); res->remaining counts the older ones
 * left: call again until it is 0.  Writer mode only; nothing is changed on
 * -1.  Producers ask the writer with sr_audit_client_prune().
 */
int sr_audit_store_prune(struct sr_audit_store *store, int retention_days,
			 const struct sr_audit_event *who, struct sr_audit_prune_result *res,
			 struct sr_error *err);
/* What pruning until nothing is left would remove now; any mode, changes nothing. */
int sr_audit_prune_plan(struct sr_audit_store *store, int retention_days,
			struct sr_audit_prune_result *res, struct sr_error *err);

/*
 * 0 when the file system of STATE_DIR has at least min_free_bytes (and a
 * few inodes) available; -1 with a message saying how much is left when it
 * has not, or when statvfs fails.  saferoomd asks before every new session,
 * so that a full disk refuses sessions instead of running them unrecorded.
 */
int sr_audit_space_ok(const char *state_dir, uint64_t min_free_bytes, struct sr_error *err);

/* ---- query.c: what security staff ask ---------------------------------- */

struct sr_audit_filter {
	const char *type;    /* exact type, or a prefix ending in '.' ("export.") */
	const char *user;
	const char *project;
	const char *session;
	int64_t since_ms;    /* 0: no lower bound */
	int64_t until_ms;    /* 0: no upper bound (exclusive) */
	int64_t after_seq;   /* only rows with seq > after_seq */
};

/*
 * Called for each row in seq order; a non-zero return stops the walk and is
 * returned.  The row's strings are valid only while fn runs.
 */
typedef int (*sr_audit_row_fn)(const struct sr_audit_row *row, void *arg);

int sr_audit_store_query(struct sr_audit_store *store, const struct sr_audit_filter *filter,
			 sr_audit_row_fn fn, void *arg, struct sr_error *err);

/* One session as the trail tells it (session.start joined with session.end). */
struct sr_audit_session {
	const char *session;
	const char *user;
	const char *project;
	const char *source;
	int64_t start_ms;
	int64_t end_ms;          /* 0 while running or when it never ended cleanly */
	const char *recording;   /* file name under recordings/, or NULL */
	const char *recording_sha256; /* hex, or NULL */
	int64_t exec_count;
};
typedef int (*sr_audit_session_fn)(const struct sr_audit_session *s, void *arg);
int sr_audit_store_sessions(struct sr_audit_store *store, const struct sr_audit_filter *filter,
			    sr_audit_session_fn fn, void *arg, struct sr_error *err);
/*
 * Looks up one session; returns 1 found, 0 not found, -1 error.  As with
 * every callback here, the strings are valid only while fn runs.
 */
int sr_audit_store_session(struct sr_audit_store *store, const char *session,
			   sr_audit_session_fn fn, void *arg, struct sr_error *err);

/* Writes one row as a JSON object on one line (the SIEM/jsonl format). */
int sr_audit_row_write_json(const struct sr_audit_row *row, FILE *out);

/* ---- verify.c: is the chain intact? ------------------------------------ */

/* A seal recorded outside audit.db (witness file, kernel audit log, syslog). */
struct sr_audit_seal {
	int64_t seq;
	unsigned char hash[SR_AUDIT_HASH_LEN];
};

struct sr_audit_verify_result {
	int64_t count;          /* rows checked */
	int64_t first_seq;      /* where the chain starts: 1, or the prune anchor */
	int64_t head_seq;
	int64_t first_bad_seq;  /* 0 when intact */
	char reason[256];       /* what is wrong at first_bad_seq */
};

/*
 * Recomputes every hash in seq order from the start of the chain (seq 1 and
 * a zero prev_hash, or after a prune its anchor, which the last audit.prune
 * event must name) and checks seq continuity, prev_hash links, and every
 * seal of a seq not pruned: the witness file STATE_DIR/audit.seals (when present)
 * plus seals[0..n_seals) given by the caller (taken from the kernel audit log
 * or syslog).  A seal whose seq is beyond the last row means the tail was cut.
 * Returns 0 intact, 1 tampered (result says where and why), -1 could not check.
 */
int sr_audit_verify(struct sr_audit_store *store, const char *state_dir,
		    const struct sr_audit_seal *seals, size_t n_seals,
		    struct sr_audit_verify_result *result, struct sr_error *err);

/* Reads the witness file; *out is malloc'd.  A missing file is 0 seals.  Returns 0 or -1. */
int sr_audit_seals_read(const char *state_dir, struct sr_audit_seal **out, size_t *n,
			struct sr_error *err);
/* Appends one seal line to the witness file and fsyncs it. */
int sr_audit_seals_append(const char *state_dir, const struct sr_audit_seal *seal,
			  int64_t time_ms, struct sr_error *err);

/* ---- client.c: producers ------------------------------------------------ */

struct sr_audit_client;

/*
 * Connects to the writer at STATE_DIR/audit.sock; fails when none is
 * running.  Links no store: a program that only ever sends events to a
 * running writer (saferoomd's monitors, the sandbox launcher) uses this.
 */
struct sr_audit_client *sr_audit_client_connect(const char *state_dir, struct sr_error *err);
/*
 * The same, but when no writer is running and local_fallback is set
 * (saferoomctl on a host without saferoomd), the client becomes the writer
 * itself for its lifetime by opening the store in SR_AUDIT_WRITE mode, which
 * takes the same lock: there is still one writer.  (client_local.c)
 */
struct sr_audit_client *sr_audit_client_open(const char *state_dir, int local_fallback,
					     struct sr_error *err);
void sr_audit_client_free(struct sr_audit_client *client);

enum sr_audit_send_flags {
	SR_AUDIT_ASYNC = 0,   /* return once sent; durability confirmed by a later flush */
	SR_AUDIT_DURABLE = 1, /* return only once this event (and all before it) is on disk */
};

/*
 * Hands one event to the writer.  seq_out (may be NULL) receives the assigned
 * seq when the call waited for durability, else 0.  Fails at once when the
 * writer is gone or reported that it cannot write; the client is then dead.
 */
int sr_audit_client_send(struct sr_audit_client *client, const struct sr_audit_event *ev,
			 enum sr_audit_send_flags flags, int64_t *seq_out, struct sr_error *err);
/* Waits until every event sent so far is durable.  Returns 0 or -1. */
int sr_audit_client_flush(struct sr_audit_client *client, struct sr_error *err);
/*
 * Asks the writer to make every event sent so far durable without waiting,
 * so that the commit overlaps the caller's work until sr_audit_client_flush().
 */
int sr_audit_client_flush_begin(struct sr_audit_client *client, struct sr_error *err);
/*
 * Has the writer prune the trail (sr_audit_store_prune, repeated until no
 * older event is left) with at least retention_days, recording who asked
 * (user, project, session, source of who).  Waits for it, as long as the
 * writer keeps reporting progress; *event_seq gets the seq of the last
 * audit.prune event (there is one per chunk), whose details say what was
 * removed.  In local-fallback mode the client prunes itself.  A refusal by
 * the writer kills the client, like any error.
 */
int sr_audit_client_prune(struct sr_audit_client *client, const struct sr_audit_event *who,
			  int retention_days, int64_t *event_seq, struct sr_error *err);

/* ---- writer.c: the single writer ---------------------------------------- */

struct sr_audit_writer_config {
	const char *state_dir;
	int seal_interval_s;   /* default 60 */
	int retention_days;    /* default 730 */
	int max_batch;         /* events per transaction at most; default 4096 */
};

/*
 * Runs the writer until SIGTERM or SIGINT (the writer blocks both and takes
 * them through a signalfd; the old mask is restored on return): opens the
 * store, binds STATE_DIR/audit.sock (mode 0600), serves producers, seals on
 * the interval and once more at shutdown.  If a commit fails the writer tells
 * every producer, stops accepting events and returns -1: fail closed.
 * ready_fd, when >= 0, gets one byte once the socket accepts connections,
 * and is then closed.
 */
int sr_audit_writer_run(const struct sr_audit_writer_config *cfg, int ready_fd,
			struct sr_error *err);

/* ---- kernel.c: the kernel audit bridge (libaudit) ------------------------ */

struct sr_kaudit;

/*
 * Opens a netlink audit socket.  A kernel without audit support (EINVAL,
 * EPROTONOSUPPORT, EAFNOSUPPORT) gives a handle that is noted once on stderr
 * and then accepts every record silently; any other failure is an error.
 */
struct sr_kaudit *sr_kaudit_open(struct sr_error *err);
void sr_kaudit_free(struct sr_kaudit *k);
/* 1 when records really reach the kernel, 0 when it has no audit support. */
int sr_kaudit_enabled(const struct sr_kaudit *k);

/* Each returns 0 or -1.  addr and tty may be NULL; success is 1 or 0. */
int sr_kaudit_auth(struct sr_kaudit *k, const char *user, const char *addr, const char *method,
		   int success, struct sr_error *err);                       /* USER_AUTH */
int sr_kaudit_login(struct sr_kaudit *k, const char *user, long uid, const char *addr,
		    const char *tty, int success, struct sr_error *err);     /* USER_LOGIN */
int sr_kaudit_session_start(struct sr_kaudit *k, const char *user, long uid, const char *addr,
			    const char *tty, const char *session, struct sr_error *err); /* USER_START */
int sr_kaudit_session_end(struct sr_kaudit *k, const char *user, long uid, const char *addr,
			  const char *tty, const char *session, struct sr_error *err);   /* USER_END */
int sr_kaudit_command(struct sr_kaudit *k, const char *user, const char *command,
		      const char *tty, int success, struct sr_error *err);   /* USER_CMD */
/*
 * 1 when an audit daemon (auditd) is registered with the kernel, looked up at
 * most once a second (every 100 ms while none is).  Without one the kernel
 * only prints records to its own log, rate-limited: sr_kaudit_exec() callers
 * skip the per-exec records then.  1 too when the kernel cannot be asked.
 */
int sr_kaudit_daemon_running(struct sr_kaudit *k);
/*
 * An exec event of the trail (type "exec"): a USER_CMD record with acct,
 * cmd (argv), saferoom_exe, cwd, project and session; res=failed when it was
 * refused.  (libaudit adds exe=, the program sending the record.)
 */
int sr_kaudit_exec(struct sr_kaudit *k, const struct sr_audit_event *ev, struct sr_error *err);
/* The seal of the chain head: an AUDIT_TRUSTED_APP record "op=saferoom-seal seq=N hash=HEX". */
int sr_kaudit_seal(struct sr_kaudit *k, int64_t seq, const char *hash_hex, struct sr_error *err);

/* ---- recorder.c: asciicast v2 session recordings ------------------------- */

struct sr_recorder;

/*
 * Creates NAME (O_EXCL, mode 0600) relative to dirfd and writes the asciicast
 * v2 header.  Events are timed from this call.  TERM may be NULL.
 */
struct sr_recorder *sr_recorder_new(int dirfd, const char *name, int width, int height,
				    const char *term, int64_t start_ms, struct sr_error *err);
/* Records bytes as an "o" (output) or "i" (input) event.  Any bytes are fine:
 * invalid UTF-8 becomes U+FFFD, a sequence split across calls is joined. */
int sr_recorder_output(struct sr_recorder *rec, const void *buf, size_t len, struct sr_error *err);
int sr_recorder_input(struct sr_recorder *rec, const void *buf, size_t len, struct sr_error *err);
/* Records a terminal resize as an "r" event ("COLSxROWS"). */
int sr_recorder_resize(struct sr_recorder *rec, int width, int height, struct sr_error *err);
/*
 * Flushes, fsyncs and closes; sha256 receives the finished file's hash.
 * Always frees REC, even on failure (like fclose): never sr_recorder_free() it after.
 */
int sr_recorder_close(struct sr_recorder *rec, unsigned char sha256[SR_AUDIT_HASH_LEN],
		      struct sr_error *err);
/* Frees without closing cleanly (after an error); NULL is a no-op. */
void sr_recorder_free(struct sr_recorder *rec);

/* ---- recording.c: finished recordings, compressed -------------------------- */

/* A compressed recording is NAME + this suffix, a gzip file of NAME's bytes. */
#define SR_RECORDING_GZ_SUFFIX ".gz"

/*
 * Compresses the finished recording NAME (a plain name under dirfd, the
 * recordings directory) into NAME.gz, mode 0600, then removes NAME.  When
 * sha256 is not NULL, NAME must hash to it (the hash the audit chain
 * recorded at session end), or nothing is done: what is kept is what the
 * trail vouches for.  The chain keeps naming NAME and the hash of its plain
 * bytes; sr_recording_read() finds either form.  Safe against a crash at
 * any point: there is always a complete NAME or a complete NAME.gz.
 */
int sr_recording_compress(int dirfd, const char *name,
			  const unsigned char sha256[SR_AUDIT_HASH_LEN], struct sr_error *err);
/*
 * Reads recording NAME from STATE_DIR/recordings: NAME itself, else
 * NAME.gz decompressed.  NAME is opened beneath the directory only, no
 * symlink followed.  *buf (malloc'd) gets the plain bytes, at most max of
 * them (a larger recording, or a gzip bomb, is an error).  The caller checks
 * the hash against the trail.
 */
int sr_recording_read(const char *state_dir, const char *name, size_t max, unsigned char **buf,
		      size_t *len, struct sr_error *err);

#endif /* SAFEROOM_AUDIT_H */
