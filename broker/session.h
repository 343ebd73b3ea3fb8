/*
 * session.h — the monitor's side of what runs behind a channel: a researcher's
 * sandboxed shell, a steward's or auditor's prompt, or one verb.
 *
 * Whatever runs, its terminal is relayed here, on the monitor side of the
 * pty, never inside the sandbox: input and output are recorded (asciicast,
 * through the audit recorder) and OSC 52 clipboard sequences are stripped
 * from the output before they reach the network.  A verb without a terminal
 * writes straight into the channel's sockets instead; verbs audit themselves.
 */
#ifndef SAFEROOM_BROKER_SESSION_H
#define SAFEROOM_BROKER_SESSION_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "saferoom/audit.h"
#include "saferoom/error.h"
#include "saferoom/sandbox.h"

struct sr_session;

/* What the session runs in. */
struct sr_session_io {
	int data;                  /* the channel's stdin/stdout socket */
	int errs;                  /* the channel's stderr socket */
	int rec_dir;               /* STATE_DIR/recordings, for a recorded session; -1: none */
	const char *rec_name;      /* the recording's file name */
	const char *term;
	int cols, rows;
};

/* A sandbox (already built by sr_sandbox_new, not started): relayed and recorded. */
struct sr_session *sr_session_sandbox(struct sr_sandbox *sb, const struct sr_session_io *io,
				      struct sr_error *err);
/*
 * A forked child of the monitor running fn(arg) with the channel as its
 * stdin/stdout/stderr, or on a pty (relayed and recorded) when pty is set.
 * fn's return value is the exit status.
 */
typedef int (*sr_session_fn)(void *arg);
struct sr_session *sr_session_child(sr_session_fn fn, void *arg, int pty,
				    const struct sr_session_io *io, struct sr_error *err);

/* Shows text to the user ahead of everything else (banners, the reason a session ends). */
void sr_session_say(struct sr_session *s, const char *text);

/* The fds to poll: fills at most max entries and returns how many. */
int sr_session_pollfds(struct sr_session *s, struct pollfd *fds, int max);
/* Does the work poll found; 0 while running, 1 once ended and drained, -1 on failure. */
int sr_session_handle(struct sr_session *s, const struct pollfd *fds, int n, struct sr_error *err);

void sr_session_resize(struct sr_session *s, int cols, int rows);
/* Ends it now (reason goes to the sandbox's limit.hit event; NULL for none). */
void sr_session_kill(struct sr_session *s, const char *reason);

/* Once ended: the exit status, and the recording's hash (1) or none (0). */
int sr_session_status(const struct sr_session *s);
int sr_session_recording(struct sr_session *s, unsigned char sha256[SR_AUDIT_HASH_LEN],
			 struct sr_error *err);
uint64_t sr_session_exec_count(const struct sr_session *s);
/* OSC 52 sequences stripped so far. */
unsigned long sr_session_stripped(const struct sr_session *s);
void sr_session_free(struct sr_session *s);

#endif /* SAFEROOM_BROKER_SESSION_H */
