/*
 * monitor_proto.h — the messages between a monitor and its net child.
 *
 * The control socket is SOCK_SEQPACKET, so one recv() is one message:
 *
 *   u32 type, then fields: u32 integers and strings (u32 length, bytes)
 *
 * in host byte order (both ends are on one host).  The net child is assumed
 * compromised: the monitor decodes strictly, a string is at most
 * SR_MON_STR_MAX bytes with no NUL inside, and any malformed message ends
 * the connection.  Channel bytes do not travel here but on two stream
 * sockets (see broker.h), so a fast shell cannot delay a decision.
 */
#ifndef SAFEROOM_MONITOR_PROTO_H
#define SAFEROOM_MONITOR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "saferoom/error.h"

#define SR_MON_MSG_MAX 16384
#define SR_MON_STR_MAX 4096

enum sr_mon_type {
	/* net child -> monitor: requests, each allowed only in some states */
	SR_MON_REQ_PUBKEY = 1,     /* user, key type, fingerprint, signed(u32) -> ANS_AUTH */
	SR_MON_REQ_KBDINT_QUERY,   /* user -> ANS_KBDINT_QUERY */
	SR_MON_REQ_KBDINT_ANSWER,  /* code -> ANS_AUTH */
	SR_MON_REQ_AUTH_METHOD,    /* user, method: a method we never allow -> (none) */
	SR_MON_REQ_DENIED,         /* what, detail: refused by the net child -> (none) */
	SR_MON_REQ_ENV,            /* name, value -> ANS_OK */
	SR_MON_REQ_PTY,            /* term, cols, rows -> ANS_OK */
	SR_MON_REQ_SHELL,          /* -> ANS_OK */
	SR_MON_REQ_EXEC,           /* command -> ANS_OK */
	SR_MON_REQ_SUBSYSTEM,      /* name -> ANS_OK (always "no", but the monitor audits it) */
	SR_MON_REQ_WINCH,          /* cols, rows -> (none) */
	SR_MON_REQ_MAX,

	/* monitor -> net child */
	SR_MON_ANS_AUTH = 100,     /* result(u32 enum sr_mon_auth), banner */
	SR_MON_ANS_KBDINT_QUERY,   /* ok(u32), name, instruction, prompt */
	SR_MON_ANS_OK,             /* ok(u32), message for the user when not ok */
	SR_MON_MSG_EXIT,           /* status(u32): the command ended; drain, then close */
};

enum sr_mon_auth {
	SR_MON_AUTH_DENY = 0,
	SR_MON_AUTH_KEY_OK = 1,    /* a probe: this key would do */
	SR_MON_AUTH_PARTIAL = 2,   /* key accepted, TOTP must follow */
	SR_MON_AUTH_SUCCESS = 3,
};

/* A message being built or read. */
struct sr_mon_msg {
	uint32_t type;
	unsigned char buf[SR_MON_MSG_MAX];
	size_t len;   /* bytes in buf */
	size_t off;   /* read position */
	int bad;      /* set by any failed put or get; checked once at the end */
};

void sr_mon_msg_init(struct sr_mon_msg *m, uint32_t type);
void sr_mon_put_u32(struct sr_mon_msg *m, uint32_t v);
void sr_mon_put_str(struct sr_mon_msg *m, const char *s);
uint32_t sr_mon_get_u32(struct sr_mon_msg *m);
/* Copies a string into out (outlen >= 1); an empty string on failure. */
void sr_mon_get_str(struct sr_mon_msg *m, char *out, size_t outlen);
/* 0 when every get succeeded and nothing is left over, else -1. */
int sr_mon_msg_done(const struct sr_mon_msg *m);

/* Sends or receives one whole message; EOF is -1 with errno 0. */
int sr_mon_send(int fd, const struct sr_mon_msg *m, struct sr_error *err);
int sr_mon_recv(int fd, struct sr_mon_msg *m, struct sr_error *err);

#endif /* SAFEROOM_MONITOR_PROTO_H */
