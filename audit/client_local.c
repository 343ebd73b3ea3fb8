/*
 * client_local.c — the audit client that is its own writer.
 *
 * saferoomctl on a host where saferoomd (and so the writer) is not running
 * opens the store in write mode itself, which takes audit.lock, so there is
 * still exactly one writer; every send is then durable on return.  Apart
 * from client.c so that programs that only talk to a running writer
 * (sr_audit_client_connect) do not link the store.
 */
#include "config.h"

#include <stdlib.h>

#include "client.h"
#include "saferoom/audit.h"

static int
local_append(void *store, const struct sr_audit_event *ev, int64_t *seq_out,
	     struct sr_error *err)
{
	struct sr_audit_event copy = *ev;

	if (sr_audit_store_append(store, &copy, 1, err) < 0)
		return -1;
	if (seq_out != NULL)
		*seq_out = copy.seq;
	return 0;
}

/* Prunes in chunks, as the writer does, until nothing older is left. */
static int
local_prune(void *store, const struct sr_audit_event *who, int retention_days,
	    int64_t *event_seq, struct sr_error *err)
{
	struct sr_audit_prune_result res;

	do {
		if (sr_audit_store_prune(store, retention_days, who, &res, err) < 0)
			return -1;
		*event_seq = res.event_seq;
	} while (res.remaining > 0);
	return 0;
}

static void
local_free(void *store)
{
	sr_audit_store_free(store);
}

static const struct sr_audit_local store_ops = {
	.append = local_append,
	.prune = local_prune,
	.free = local_free,
};

struct sr_audit_client *
sr_audit_client_open(const char *state_dir, int local_fallback, struct sr_error *err)
{
	struct sr_audit_client *c;
	int no_writer;

	c = sr_audit_client_try_connect(state_dir, &no_writer, err);
	if (c == NULL || !no_writer)
		return c;
	if (local_fallback) {
		/* 0: keep the retention recorded by saferoomd's writer. */
		c->store = sr_audit_store_open(state_dir, SR_AUDIT_WRITE, 0, err);
		if (c->store != NULL) {
			c->local = &store_ops;
			return c;
		}
	}
	sr_audit_client_free(c);
	return NULL;
}
