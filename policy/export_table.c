/*
 * export_table.c — the CSV/TSV reader the export checks share.
 *
 * It reads records in place (fields are offsets into the quarantined
 * buffer, nothing is copied), so a check can make two passes over a table
 * at the size cap without holding it twice.  Quoting follows RFC 4180: a
 * field that starts with a double quote runs to the closing quote, may hold
 * the delimiter and line breaks, and writes a quote as two.  A quote
 * anywhere else is an ordinary character, and a quote left open runs to the
 * end of the file, which makes one long record rather than an error: the
 * checks still see every byte.  Line numbers count every "\n", inside
 * quotes too, so that they match what an editor shows.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

void
export_csv_init(struct export_csv *c, const unsigned char *buf, size_t len, char delim)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->len = len;
	c->delim = delim;
	c->line = 1;
	/* A UTF-8 byte order mark (Excel writes one) is not part of the first header. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->pos = 3;
}

static int
push_field(struct export_csv *c, size_t off, size_t len)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct export_field *f = realloc(c->fields, cap * sizeof(*f));

		if (f == NULL)
			return -1;
		c->fields = f;
		c->cap = cap;
	}
	c->fields[c->n].off = off;
	c->fields[c->n].len = len;
	c->n++;
	return 0;
}

/* Ends the record at END (the "\n" at END, if any, is consumed). */
static int
end_record(struct export_csv *c, size_t start, size_t end)
{
	size_t stop = end;

	if (end < c->len && stop > start && c->buf[stop - 1] == '\r')
		stop--;
	if (push_field(c, start, stop - start) < 0)
		return -1;
	c->rec_end = stop;
	c->pos = end < c->len ? end + 1 : end;
	if (end < c->len)
		c->line++;
	return 0;
}

/* Skips a quoted field's body from after its opening quote; returns where its closing quote ends. */
static size_t
skip_quoted(struct export_csv *c, size_t i)
{
	while (i < c->len) {
		if (c->buf[i] == '"') {
			if (i + 1 < c->len && c->buf[i + 1] == '"') {
				i += 2;
				continue;
			}
			return i + 1;
		}
		if (c->buf[i] == '\n')
			c->line++;
		i++;
	}
	return i;
}

static int
read_record(struct export_csv *c)
{
	size_t i = c->pos, start = i;

	c->n = 0;
	c->rec_off = i;
	c->rec_line = c->line;
	while (i < c->len) {
		if (i == start && c->buf[i] == '"') {
			i = skip_quoted(c, i + 1);
			continue;
		}
		if (c->buf[i] == '\n')
			return end_record(c, start, i);
		if (c->buf[i] == (unsigned char)c->delim) {
			if (push_field(c, start, i - start) < 0)
				return -1;
			start = ++i;
			continue;
		}
		i++;
	}
	return end_record(c, start, i);
}

/* A record of one blank field is an empty line, not a row. */
static int
blank_record(const struct export_csv *c)
{
	const struct export_field *f = &c->fields[0];

	if (c->n != 1)
		return 0;
	for (size_t k = 0; k < f->len; k++) {
		if (c->buf[f->off + k] != ' ' && c->buf[f->off + k] != '\t')
			return 0;
	}
	return 1;
}

int
export_csv_next(struct export_csv *c)
{
	while (c->pos < c->len) {
		if (read_record(c) < 0)
			return -1;
		if (!blank_record(c))
			return 1;
	}
	c->n = 0;
	return 0;
}

void
export_csv_clear(struct export_csv *c)
{
	free(c->fields);
	c->fields = NULL;
	c->n = c->cap = 0;
}

void
export_field_value(const unsigned char *buf, const struct export_field *fl,
		   const unsigned char **v, size_t *vlen)
{
	const unsigned char *s = buf + fl->off;
	size_t n = fl->len;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
		while (n > 0 && s[0] == ' ') {
			s++;
			n--;
		}
		while (n > 0 && s[n - 1] == ' ')
			n--;
	}
	*v = s;
	*vlen = n;
}
