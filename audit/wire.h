/*
 * wire.h — the messages spoken on STATE_DIR/audit.sock between producers and
 * the audit writer.  Internal to audit/.
 *
 * The socket is SOCK_SEQPACKET, so the kernel keeps message boundaries and
 * one recv() is exactly one message.  Both ends are on the same host, so
 * integers are in host byte order.  Every message starts with the same
 * 16-byte header:
 *
 *   u16 magic 0x5352 ("SR")  u8 version  u8 kind  u32 flags  u64 id
 *
 * Producer -> writer:
 *   EVENT  id = the producer's own counter (1, 2, 3, ...); flags may carry
 *          SR_WIRE_F_DURABLE ("ack me once this is on disk"); then the seven
 *          string fields type, user, project, session, source, datasets,
 *          details, each as u32 length, the bytes, and a NUL.  A field must
 *          not contain a NUL (NULL is sent as "").  All field bytes together
 *          are at most SR_AUDIT_EVENT_MAX.
 *   SYNC   id = the producer's last event id; asks for an ack (flush).
 *   PRUNE  id = the producer's next event id, as for an EVENT: "prune the
 *          trail" (prune.c).  Framed like an EVENT; user, project, session
 *          and source say who asks, details is {"retention_days":N}, the
 *          other fields are empty.  The writer answers with an ACK of this
 *          id naming the seq of the audit.prune event it wrote, or with an
 *          ERROR.  The producer sends nothing more until then.
 *
 * Writer -> producer:
 *   ACK    cumulative: every event of this producer up to id is durable and
 *          the one with that id got seq (an i64 after the header).  Sent
 *          once on accept with id 0, so that a producer knows it was let in.
 *   ERROR  "the writer cannot serve you: REASON" (text after the header,
 *          NUL-terminated); the writer closes the connection after it.
 *
 * Decoding is strict: a message whose length, magic, version, kind, flags
 * or field framing is not exactly right is refused as a whole.
 */
#ifndef SAFEROOM_AUDIT_WIRE_H
#define SAFEROOM_AUDIT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "saferoom/audit.h"

#define SR_WIRE_MAGIC 0x5352
#define SR_WIRE_VERSION 1
#define SR_WIRE_HDR_LEN 16
#define SR_WIRE_NFIELDS 7
/* Largest message of any kind: an EVENT with every field at its limit. */
#define SR_WIRE_MSG_MAX (SR_WIRE_HDR_LEN + SR_WIRE_NFIELDS * 5 + SR_AUDIT_EVENT_MAX)
#define SR_WIRE_ACK_LEN (SR_WIRE_HDR_LEN + 8)
#define SR_WIRE_REASON_MAX 256

enum sr_wire_kind {
	SR_WIRE_EVENT = 1,
	SR_WIRE_SYNC = 2,
	SR_WIRE_ACK = 3,
	SR_WIRE_ERROR = 4,
	SR_WIRE_PRUNE = 5,
};

#define SR_WIRE_F_DURABLE 0x1u
#define SR_WIRE_F_ALL SR_WIRE_F_DURABLE

/* A decoded message; the strings point into the buffer it was decoded from. */
struct sr_wire_msg {
	enum sr_wire_kind kind;
	uint32_t flags;
	uint64_t id;
	int64_t seq;                            /* ACK */
	const char *field[SR_WIRE_NFIELDS];     /* EVENT, in wire order */
	const char *reason;                     /* ERROR */
};

/*
 * Encodes an EVENT into buf (cap bytes, SR_WIRE_MSG_MAX is always enough).
 * Returns its length, or -1 when the fields together exceed
 * SR_AUDIT_EVENT_MAX or the message does not fit in cap.
 */
ssize_t sr_wire_encode_event(unsigned char *buf, size_t cap, uint32_t flags, uint64_t id,
			     const struct sr_audit_event *ev);
/*
 * Encodes a PRUNE asked by who (user, project, session, source) with at
 * least retention_days; buf must hold SR_WIRE_MSG_MAX.  Returns the length or -1.
 */
ssize_t sr_wire_encode_prune(unsigned char *buf, size_t cap, uint64_t id,
			     const struct sr_audit_event *who, int retention_days);
/* The fixed-size messages; buf must hold SR_WIRE_ACK_LEN (SYNC: SR_WIRE_HDR_LEN). */
size_t sr_wire_encode_sync(unsigned char *buf, uint64_t id);
size_t sr_wire_encode_ack(unsigned char *buf, uint64_t id, int64_t seq);
/* ERROR with REASON cut to SR_WIRE_REASON_MAX-1 bytes; buf must hold
 * SR_WIRE_HDR_LEN + SR_WIRE_REASON_MAX. */
size_t sr_wire_encode_error(unsigned char *buf, const char *reason);

/*
 * Decodes one message of len bytes.  Returns 0, or -1 with *why naming what
 * is wrong (a static string).
 */
int sr_wire_decode(const unsigned char *buf, size_t len, struct sr_wire_msg *msg,
		   const char **why);

/*
 * The fields of a decoded EVENT as an audit event (seq and time_ms zero).
 * An empty details field is the producer's NULL and becomes NULL ("{}").
 */
void sr_wire_event_fields(const struct sr_wire_msg *msg, struct sr_audit_event *ev);

struct json_tokener;
/*
 * Checks an event the way the store will: a type (not audit.*, which only the
 * writer itself emits), at most SR_AUDIT_EVENT_MAX
 * bytes, details NULL or exactly one JSON object in valid UTF-8.  The client
 * checks before sending, so that a caller's mistake is its own error; when
 * the store refuses a batch, the writer checks each event to find the one at
 * fault, so that one bad producer cannot fail everyone's batch.
 * tok is the caller's, reused.  Returns 0, or -1 with *why set (static).
 */
int sr_wire_check_event(struct json_tokener *tok, const struct sr_audit_event *ev,
			const char **why);
/* The tokener the store and every check use (strict, UTF-8 checked); NULL on ENOMEM. */
struct json_tokener *sr_wire_tokener_new(void);
/*
 * 1 when text is exactly one JSON object in standard JSON (no NaN, Infinity
 * or single quotes, which json-c's strict mode lets through) and valid UTF-8,
 * with nothing after it.  The one test of details, for the store and for
 * sr_wire_check_event() alike.
 */
int sr_wire_json_object(struct json_tokener *tok, const char *text);

#endif /* SAFEROOM_AUDIT_WIRE_H */
