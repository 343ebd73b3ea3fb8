/*
 * export_check_caps.c — the size cap and the row cap.
 *
 * Results leave the room, data does not: a table longer than
 * export_max_rows (5000 by default) is more likely an extract than a
 * result, and a file larger than export_max_size (16 MiB) more than any
 * steward can review.  Submission already refuses files over the size cap
 * before copying them; the check repeats it so the report states it.  Rows
 * are the data records of a CSV/TSV table: the header and empty lines do
 * not count.
 */
#include "config.h"

#include "export_internal.h"

static int
count_rows(struct export_file *f, struct export_result *r, int64_t *rows, struct sr_error *err)
{
	struct export_pos pos = { 0 };
	struct export_csv c;
	int rc, header = 1;

	*rows = 0;
	export_csv_init(&c, f->buf, f->len, export_type_delim(f->type));
	while ((rc = export_csv_next(&c)) == 1) {
		if (header) {
			header = 0;
			continue;
		}
		if (++*rows != f->lim->max_rows + 1)
			continue;
		if (export_result_add(r, f, &pos, c.rec_off, (uint32_t)(c.rec_end - c.rec_off), 0,
				      SR_EXPORT_FAIL, "first row over the cap", err) < 0) {
			export_csv_clear(&c);
			return -1;
		}
	}
	export_csv_clear(&c);
	if (rc < 0)
		return sr_error_set(err, "out of memory");
	return 0;
}

int
export_check_caps(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	int64_t rows = 0;

	if ((int64_t)f->len > f->lim->max_size) {
		export_result_say(r, "%zu bytes, more than export_max_size "
				  "%lld", f->len, (long long)f->lim->max_size);
		export_result_raise(r, SR_EXPORT_FAIL);
		return 0;
	}
	if (!f->text || export_type_delim(f->type) == 0) {
		export_result_say(r, "%zu bytes", f->len);
		return 0;
	}
	if (count_rows(f, r, &rows, err) < 0)
		return -1;
	if (rows > f->lim->max_rows)
		export_result_say(r, "%lld rows, more than export_max_rows %lld",
				  (long long)rows, (long long)f->lim->max_rows);
	else
		export_result_say(r, "%zu bytes, %lld rows", f->len,
				  (long long)rows);
	return 0;
}
