/*
 * client_local.c — the audit client that is its own writer.
 *
 * saferoomctl on a host where saferoomd (and so the writer) is not running
 * opens the store in write mode itself, which takes audit.lock, so there is
 * still exactly one writer; every send is then durable on return, and an
 * exec event then goes to the kernel audit log too, as the writer sends it
 * (writer.c, mirror_execs: while auditd runs).  Apart from client.c so that programs that only
 * talk to a running writer (sr_audit_client_connect) do not link the store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "saferoom/audit.h"

/* What a client that is its own writer holds. */
struct local {
	struct sr_audit_store *store;
	struct sr_kaudit *kaudit;   /* NULL: the kernel audit log could not be opened */
};

static int
local_append(void *arg, const struct sr_audit_event *ev, int64_t *seq_out,
	     struct sr_error *err)
{
	struct local *l = arg;
	struct sr_audit_event copy = *ev;
	struct sr_error e = { { 0 } };

	if (sr_audit_store_append(l->store, &copy, 1, err) < 0)
		return -1;
	if (seq_out != NULL)
		*seq_out = copy.seq;
	/* As the writer does: a failure of the kernel's copy is told, not fatal. */
	if (l->kaudit != NULL && strcmp(copy.type, "exec") == 0 &&
	    sr_kaudit_daemon_running(l->kaudit) && sr_kaudit_exec(l->kaudit, &copy, &e) < 0)
		fprintf(stderr, "saferoom: %s\n", e.msg);
	return 0;
}

/* Prunes in chunks, as the writer does, until nothing older is left. */
static int
local_prune(void *arg, const struct sr_audit_event *who, int retention_days,
	    int64_t *event_seq, struct sr_error *err)
{
	struct local *l = arg;
	struct sr_audit_prune_result res;

	do {
		if (sr_audit_store_prune(l->store, retention_days, who, &res, err) < 0)
			return -1;
		*event_seq = res.event_seq;
	} while (res.remaining > 0);
	return 0;
}

static void
local_free(void *arg)
{
	struct local *l = arg;

	if (l == NULL)
		return;
	sr_audit_store_free(l->store);
	sr_kaudit_free(l->kaudit);
	free(l);
}

static const struct sr_audit_local local_ops = {
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
		struct local *l = calloc(1, sizeof(*l));
		struct sr_error e = { { 0 } };

		if (l == NULL) {
			sr_error_errno(err, "audit client");
			goto out_free;
		}
		c->store = l;
		c->local = &local_ops;
		/* 0: keep the retention recorded by saferoomd's writer. */
		l->store = sr_audit_store_open(state_dir, SR_AUDIT_WRITE, 0, err);
		if (l->store == NULL)
			goto out_free;
		l->kaudit = sr_kaudit_open(&e);
		if (l->kaudit == NULL)
			fprintf(stderr, "saferoom: %s\n", e.msg);
		return c;
	}
out_free:
	sr_audit_client_free(c);
	return NULL;
}
