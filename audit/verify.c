/*
 * verify.c — is the audit trail what the writer wrote?
 *
 * Walks audit.db in seq order and recomputes the chain from the zero hash:
 * seq must run 1, 2, 3 ... without gaps, each prev_hash must be the hash of
 * the row before, and each hash must be SHA-256 of prev_hash and the row's
 * own contents.  That catches rows changed, deleted, inserted or reordered
 * by anyone who cannot recompute the chain.  Someone who can (root with
 * sqlite3) is caught by the seals: heads recorded outside audit.db (the
 * witness file, the kernel audit log, syslog) that the rewritten chain no
 * longer matches, or that name a seq the truncated trail no longer has.
 *
 * The writer also seals into the chain itself: an audit.seal event whose
 * details are {"sealed_seq":S,"sealed_hash":"H"}.  Each is checked like any
 * other seal, which catches a rewrite that recomputed the hashes but left
 * the seal events' contents alone.
 *
 * A pruned trail (prune.c) starts at its anchor instead of seq 1: the first
 * kept seq and the prev_hash it links to.  The anchor sits in the db, where
 * an attacker could move it after deleting more rows, so it counts only if
 * the last audit.prune event of the chain names exactly it; seals of pruned
 * seqs name rows that are rightly gone and are skipped.
 *
 * The walk stops at the first problem and names its seq: everything from
 * there on is unproven.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "store.h"

struct walk {
	struct sr_audit_verify_result *res;
	struct sr_error *err;
	sqlite3_stmt *hash_of;              /* the stored hash of a seq already walked */
	const struct sr_audit_seal *seals;  /* sorted by seq */
	size_t n_seals;
	size_t next_seal;                   /* first seal not yet matched to a row */
	int64_t start_seq;                  /* 1, or the prune anchor */
	int64_t expect_seq;
	int64_t prev_time;
	unsigned char prev[SR_AUDIT_HASH_LEN];
	/* The last audit.prune event walked and the start it names. */
	int64_t prune_seq;
	int64_t prune_first;
	unsigned char prune_prev[SR_AUDIT_HASH_LEN];
};

/* Records the first bad seq and why; returns 1 so that the walk stops there. */
static int __attribute__((format(printf, 3, 4)))
tampered(struct walk *w, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	w->res->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(w->res->reason, sizeof(w->res->reason), fmt, ap);
	va_end(ap);
	return 1;
}

/* The seals at this row's seq must all name its hash. */
static int
check_seals(struct walk *w, int64_t seq, const unsigned char hash[SR_AUDIT_HASH_LEN])
{
	for (; w->next_seal < w->n_seals && w->seals[w->next_seal].seq == seq; w->next_seal++) {
		if (memcmp(w->seals[w->next_seal].hash, hash, SR_AUDIT_HASH_LEN) != 0)
			return tampered(w, seq, "the chain does not match the seal of seq %lld:"
					" rewritten at or before it", (long long)seq);
	}
	return 0;
}

/* Reads {"sealed_seq":S,"sealed_hash":"H"}; 0 when details say so, else -1. */
static int
parse_chain_seal(const char *details, struct sr_audit_seal *seal)
{
	json_object *o = json_tokener_parse(details), *seq, *hash;
	int rc = -1;

	if (o != NULL && json_object_object_get_ex(o, "sealed_seq", &seq) &&
	    json_object_object_get_ex(o, "sealed_hash", &hash) &&
	    json_object_is_type(seq, json_type_int) && json_object_is_type(hash, json_type_string) &&
	    sr_audit_unhex(json_object_get_string(hash), seal->hash) == 0) {
		seal->seq = json_object_get_int64(seq);
		rc = 0;
	}
	json_object_put(o);
	return rc;
}

/*
 * An audit.seal event vouches for an earlier row, already walked and proven
 * to carry the hash it stores; that hash must be the one sealed.
 */
static int
check_chain_seal(struct walk *w, const struct sr_audit_row *row)
{
	struct sr_audit_seal seal;
	int64_t seq = row->ev.seq;
	int rc, same;

	/*
	 * Only the writer should write audit.seal events; one that names no
	 * earlier row is not a seal and proves nothing either way.
	 */
	if (strcmp(row->ev.type, "audit.seal") != 0 ||
	    parse_chain_seal(row->ev.details, &seal) < 0 || seal.seq < 1 || seal.seq >= seq)
		return 0;
	/* The row it sealed was pruned: nothing is left to compare. */
	if (seal.seq < w->start_seq)
		return 0;
	sqlite3_bind_int64(w->hash_of, 1, seal.seq);
	rc = sqlite3_step(w->hash_of);
	same = rc == SQLITE_ROW && sqlite3_column_bytes(w->hash_of, 0) == SR_AUDIT_HASH_LEN &&
	       memcmp(sqlite3_column_blob(w->hash_of, 0), seal.hash, SR_AUDIT_HASH_LEN) == 0;
	sqlite3_reset(w->hash_of);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sr_error_set(w->err, "audit.db: reading seq %lld: %s", (long long)seal.seq,
				    sqlite3_errstr(rc));
	if (!same)
		return tampered(w, seal.seq, "the chain does not match the audit.seal event at"
				" seq %lld: rewritten at or before seq %lld", (long long)seq,
				(long long)seal.seq);
	return 0;
}

/*
 * Notes an audit.prune event's {"first_seq":A,"first_prev_hash":"P"}: the
 * last one walked must name the anchor.  One that does not parse names
 * nothing, which matches no anchor.
 */
static void
note_prune(struct walk *w, const struct sr_audit_row *row)
{
	json_object *o, *first, *prev;

	if (strcmp(row->ev.type, "audit.prune") != 0)
		return;
	w->prune_seq = row->ev.seq;
	w->prune_first = 0;
	memset(w->prune_prev, 0, SR_AUDIT_HASH_LEN);
	o = json_tokener_parse(row->ev.details);
	if (o != NULL && json_object_object_get_ex(o, "first_seq", &first) &&
	    json_object_object_get_ex(o, "first_prev_hash", &prev) &&
	    json_object_is_type(first, json_type_int) && json_object_is_type(prev, json_type_string) &&
	    sr_audit_unhex(json_object_get_string(prev), w->prune_prev) == 0)
		w->prune_first = json_object_get_int64(first);
	json_object_put(o);
}

/* After the walk: the anchor the walk started from is the one the last prune named. */
static int
check_anchor(struct walk *w, const struct sr_audit_anchor *a, int have_anchor)
{
	if (!have_anchor && w->prune_seq == 0)
		return 0;
	if (!have_anchor)
		return tampered(w, w->prune_seq, "the audit.prune event at seq %lld has no prune"
				" anchor in the db (removed)", (long long)w->prune_seq);
	if (w->prune_seq != a->prune_seq || w->prune_first != a->seq ||
	    memcmp(w->prune_prev, a->prev_hash, SR_AUDIT_HASH_LEN) != 0)
		return tampered(w, a->seq, "the trail starts at seq %lld, but the last audit.prune"
				" event (seq %lld) does not name that start: rows deleted or the"
				" prune anchor moved", (long long)a->seq, (long long)w->prune_seq);
	return 0;
}

static int
check_row(const struct sr_audit_row *row, void *arg)
{
	struct walk *w = arg;
	int64_t seq = row->ev.seq;
	unsigned char hash[SR_AUDIT_HASH_LEN];
	int rc;

	if (seq > w->expect_seq)
		return tampered(w, w->expect_seq, "seq %lld is missing (deleted)",
				(long long)w->expect_seq);
	/* Rows come in seq order, so this is a row numbered below the start. */
	if (seq < w->expect_seq)
		return tampered(w, w->expect_seq, "a row numbered %lld precedes it (inserted)",
				(long long)seq);
	if (memcmp(row->prev_hash, w->prev, SR_AUDIT_HASH_LEN) != 0)
		return tampered(w, seq, "prev_hash does not link to the row before"
				" (inserted, deleted or reordered)");
	if (sr_audit_hash(row->prev_hash, &row->ev, hash) < 0)
		return sr_error_set(w->err, "audit: hashing seq %lld failed", (long long)seq);
	if (memcmp(row->hash, hash, SR_AUDIT_HASH_LEN) != 0)
		return tampered(w, seq, "contents do not match the hash (modified or inserted)");
	/* The writer never lets time run backwards; only a rewritten chain does. */
	if (row->ev.time_ms < w->prev_time)
		return tampered(w, seq, "time runs backwards (chain rewritten)");
	if (check_seals(w, seq, hash) != 0)
		return 1;
	rc = check_chain_seal(w, row);
	if (rc != 0)
		return rc;
	note_prune(w, row);
	memcpy(w->prev, hash, SR_AUDIT_HASH_LEN);
	w->prev_time = row->ev.time_ms;
	w->expect_seq = seq + 1;
	w->res->count++;
	w->res->head_seq = seq;
	return 0;
}

static int
seal_cmp(const void *a, const void *b)
{
	const struct sr_audit_seal *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The witness file's seals and the caller's, together, sorted by seq. */
static int
gather_seals(const char *state_dir, const struct sr_audit_seal *extra, size_t n_extra,
	     struct sr_audit_seal **out, size_t *n, struct sr_error *err)
{
	struct sr_audit_seal *all, *file = NULL;
	size_t n_file = 0, i;

	for (i = 0; i < n_extra; i++)
		if (extra[i].seq < 1)
			return sr_error_set(err, "a seal of seq %lld names no row",
					    (long long)extra[i].seq);
	if (state_dir != NULL && sr_audit_seals_read(state_dir, &file, &n_file, err) < 0)
		return -1;
	all = calloc(n_file + n_extra + 1, sizeof(*all));
	if (all == NULL) {
		free(file);
		return sr_error_set(err, "out of memory");
	}
	if (n_file > 0)
		memcpy(all, file, n_file * sizeof(*all));
	if (n_extra > 0)
		memcpy(all + n_file, extra, n_extra * sizeof(*all));
	free(file);
	*n = n_file + n_extra;
	qsort(all, *n, sizeof(*all), seal_cmp);
	*out = all;
	return 0;
}

int
sr_audit_verify(struct sr_audit_store *store, const char *state_dir,
		const struct sr_audit_seal *seals, size_t n_seals,
		struct sr_audit_verify_result *result, struct sr_error *err)
{
	struct walk w = { .res = result, .err = err, .start_seq = 1 };
	struct sr_audit_seal *all = NULL;
	struct sr_audit_anchor anchor;
	int rc, have_anchor;

	memset(result, 0, sizeof(*result));
	have_anchor = sr_audit_anchor_read(store, &anchor, err);
	if (have_anchor < 0)
		return -1;
	if (have_anchor) {
		w.start_seq = anchor.seq;
		memcpy(w.prev, anchor.prev_hash, SR_AUDIT_HASH_LEN);
	}
	w.expect_seq = w.start_seq;
	result->first_seq = w.start_seq;
	if (w.start_seq < 1)
		return tampered(&w, 1, "the prune anchor names seq %lld, which cannot exist",
				(long long)w.start_seq);
	/*
	 * Seals first, rows second: every seal already written names a committed
	 * seq, so the query's snapshot holds each one unless the trail was cut.
	 */
	if (gather_seals(state_dir, seals, n_seals, &all, &w.n_seals, err) < 0)
		return -1;
	w.seals = all;
	/* Seals of pruned rows: the rows are rightly gone. */
	while (w.next_seal < w.n_seals && all[w.next_seal].seq < w.start_seq)
		w.next_seal++;
	if (sqlite3_prepare_v2(store->db, "SELECT hash FROM events WHERE seq = ?1", -1, &w.hash_of,
			       NULL) != SQLITE_OK) {
		rc = sr_audit_db_error(store, err, "audit.db: preparing verify");
		goto out;
	}
	rc = sr_audit_store_query(store, NULL, check_row, &w, err);
	if (rc < 0)
		goto out;
	if (rc == 0 && w.next_seal < w.n_seals)
		rc = tampered(&w, w.expect_seq, "the trail ends at seq %lld but seq %lld was sealed"
			      " (tail truncated)", (long long)(w.expect_seq - 1),
			      (long long)all[w.next_seal].seq);
	if (rc == 0)
		rc = check_anchor(&w, &anchor, have_anchor);
	if (rc == 1 && sr_audit_store_head(store, &result->head_seq, w.prev, err) < 0)
		rc = -1;
out:
	sqlite3_finalize(w.hash_of);
	free(all);
	return rc;
}
