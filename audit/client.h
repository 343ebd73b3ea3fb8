/*
 * client.h — what client.c and client_local.c share: the client itself.
 * Private to audit/.
 */
#ifndef SAFEROOM_AUDIT_CLIENT_H
#define SAFEROOM_AUDIT_CLIENT_H

#include <stdint.h>
#include <sys/un.h>

#include "saferoom/audit.h"
#include "wire.h"

/*
 * A client that is its own writer sends through these, to a store it holds
 * (client_local.c); client.c never names the store's functions.
 */
struct sr_audit_local {
	int (*append)(void *store, const struct sr_audit_event *ev, int64_t *seq_out,
		      struct sr_error *err);
	int (*prune)(void *store, const struct sr_audit_event *who, int retention_days,
		     int64_t *event_seq, struct sr_error *err);
	void (*free)(void *store);
};

struct sr_audit_client {
	int fd;                        /* -1 in local mode or once dead */
	void *store;                   /* local mode only: what local's functions work on */
	const struct sr_audit_local *local;
	struct json_tokener *tok;
	uint64_t sent_id;              /* id of the last event sent */
	uint64_t acked_id;             /* the writer's last cumulative ack */
	uint64_t synced_id;            /* the last id a SYNC was sent for */
	int64_t acked_seq;
	int welcomed;                  /* the writer's first ack arrived */
	uint64_t received;             /* messages from the writer, a sign of life */
	int dead;
	char why[SR_ERROR_MAX];        /* why it is dead */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned char buf[SR_WIRE_MSG_MAX];
};

/*
 * Connects to the writer at STATE_DIR/audit.sock.  When none listens there,
 * returns an unconnected client (fd -1) with *no_writer set, for
 * client_local.c to make its own writer, and err saying so.
 */
struct sr_audit_client *sr_audit_client_try_connect(const char *state_dir, int *no_writer,
						    struct sr_error *err);

#endif
