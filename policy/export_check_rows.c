/*
 * export_check_rows.c — rows copied verbatim from an approved dataset.
 *
 * When a dataset is registered its rows are indexed (rowindex.c: every line
 * of its .csv, .tsv and .txt files, SHA-256 truncated).  Every line of a
 * submitted text file is hashed the very same way, with
 * sr_policy_row_hash(), and looked up among the datasets granted to the
 * request's project: a hit means a record of the source data is about to
 * leave as it is, which is "fail".  A hit on a line of at most 8 bytes
 * ("1", "yes", "C34") is "review" instead: such lines match by chance.
 *
 * Only the project's own datasets are asked about: a researcher cannot have
 * copied rows from a dataset the project never saw, and the answer must not
 * tell them what other datasets hold.
 */
#include "config.h"

#include <string.h>

#include "export_internal.h"

#define SHORT_ROW 8

struct rows {
	int64_t hits;
	char first[SR_POLICY_NAME_MAX + 1];     /* the first dataset matched */
	int several;                            /* more than one dataset matched */
	struct export_pos pos;
};

static int
check_line(struct export_file *f, struct export_result *r, struct rows *t, size_t off,
	   size_t end, size_t next, struct sr_error *err)
{
	unsigned char hash[SR_POLICY_ROW_HASH_LEN];
	char dataset[SR_POLICY_NAME_MAX + 1], what[128];
	enum sr_export_verdict v;
	int found;

	/* The line as the index hashed it: with its line end, which the hash strips. */
	if (sr_policy_row_hash((const char *)f->buf + off, next - off, hash) < 0)
		return 0;       /* an empty line */
	found = sr_policy_row_find(f->p, f->project, hash, dataset, sizeof(dataset), err);
	if (found <= 0)
		return found;
	t->hits++;
	if (t->first[0] == '\0')
		snprintf(t->first, sizeof(t->first), "%s", dataset);
	else if (strcmp(t->first, dataset) != 0)
		t->several = 1;
	v = end - off <= SHORT_ROW ? SR_EXPORT_REVIEW : SR_EXPORT_FAIL;
	snprintf(what, sizeof(what), "row of dataset %s%s", dataset,
		 v == SR_EXPORT_REVIEW ? " (short: may match by chance)" : "");
	return export_result_add(r, f, &t->pos, off, (uint32_t)(end - off), 0, v, what, err);
}

int
export_check_rows(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	struct rows t = { 0 };
	size_t off = 0, next, end;

	if (!f->text) {
		export_result_unreadable(r, f);
		return 0;
	}
	if (f->p == NULL || f->project == NULL) {
		export_result_say(r, "not checked: no row index to compare with");
		export_result_raise(r, SR_EXPORT_REVIEW);
		return 0;
	}
	while (off < f->len) {
		end = export_line_end(f->buf, f->len, off, &next);
		if (check_line(f, r, &t, off, end, next, err) < 0)
			return -1;
		off = next;
	}
	if (t.hits == 0)
		export_result_say(r, "no row of the project's datasets");
	else
		export_result_say(r, "rows copied from dataset %s%s: %lld", t.first,
				  t.several ? " and others" : "", (long long)t.hits);
	return 0;
}
