/*
 * export_preview.c — what a steward reads of a submitted file in `export
 * show`: the first lines and every line the checks flagged, numbered, with
 * the flagged cells highlighted (red for fail, yellow for review) on a
 * terminal, or marked [[like this]] in plain output.
 *
 * The bytes come from the quarantined copy, after its hash was checked, so
 * the preview shows exactly what would be released.  Every byte goes
 * through sr_export_write_escaped(): Korean text stays as it is, but a
 * file cannot send escape sequences to the steward's terminal.  The flagged
 * places come from the stored report (byte ranges); overlapping ones are
 * merged, keeping the worse verdict.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

#define PREVIEW_HEAD 40          /* lines always shown from the top */
#define PREVIEW_FLAGGED 200      /* flagged lines shown at most */
#define PREVIEW_WIDTH 1000       /* bytes of one line shown at most */

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define RESET "\033[0m"

struct span {
	size_t from, to;
	enum sr_export_verdict verdict;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

static int
span_add(struct spans *s, size_t from, size_t to, enum sr_export_verdict verdict)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct span *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct span){ from, to, verdict };
	return 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/* Sorts and merges overlapping spans, so that they are disjoint and in file order. */
static void
spans_merge(struct spans *s)
{
	size_t w = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	for (size_t i = 1; i < s->n; i++) {
		struct span *last = &s->v[w];

		if (s->v[i].from < last->to) {
			if (s->v[i].to > last->to)
				last->to = s->v[i].to;
			if (s->v[i].verdict > last->verdict)
				last->verdict = s->v[i].verdict;
			continue;
		}
		s->v[++w] = s->v[i];
	}
	s->n = w + 1;
}

static int
spans_from_check(struct spans *s, struct json_object *check, size_t len)
{
	struct json_object *locs, *v;
	size_t n;

	if (!json_object_object_get_ex(check, "locations", &locs))
		return 0;
	n = json_object_array_length(locs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(locs, i);
		int64_t off = 0, length = 0;
		enum sr_export_verdict verdict = SR_EXPORT_REVIEW;

		if (json_object_object_get_ex(l, "offset", &v))
			off = json_object_get_int64(v);
		if (json_object_object_get_ex(l, "length", &v))
			length = json_object_get_int64(v);
		if (json_object_object_get_ex(l, "verdict", &v) &&
		    strcmp(json_object_get_string(v), "fail") == 0)
			verdict = SR_EXPORT_FAIL;
		if (off < 0 || length <= 0 || (size_t)off >= len)
			continue;
		if ((size_t)(off + length) > len)
			length = (int64_t)len - off;
		if (span_add(s, (size_t)off, (size_t)(off + length), verdict) < 0)
			return -1;
	}
	return 0;
}

/* Writes [from, to) of one line, highlighting what the spans cover. */
static void
write_segment(FILE *out, const unsigned char *buf, size_t from, size_t to, const struct spans *s,
	      size_t k, int colour)
{
	size_t at = from;

	for (; k < s->n && s->v[k].from < to; k++) {
		size_t a = s->v[k].from > at ? s->v[k].from : at;
		size_t b = s->v[k].to < to ? s->v[k].to : to;

		if (b <= a)
			continue;
		sr_export_write_escaped(out, (const char *)buf + at, a - at);
		fputs(colour ? (s->v[k].verdict == SR_EXPORT_FAIL ? RED : YELLOW) : "[[", out);
		sr_export_write_escaped(out, (const char *)buf + a, b - a);
		fputs(colour ? RESET : "]]", out);
		at = b;
	}
	sr_export_write_escaped(out, (const char *)buf + at, to - at);
}

/* Cuts a line at PREVIEW_WIDTH bytes, on a character boundary. */
static size_t
cut(const unsigned char *buf, size_t from, size_t to)
{
	size_t end = from + PREVIEW_WIDTH;

	if (to - from <= PREVIEW_WIDTH)
		return to;
	while (end > from && (buf[end] & 0xc0) == 0x80)
		end--;
	return end;
}

struct walk {
	const unsigned char *buf;
	const struct spans *s;
	size_t k;               /* first span not wholly before the current line */
	unsigned flagged;       /* flagged lines shown */
	int gap;                /* lines were skipped since the last one shown */
	int colour;
};

static void
show_line(FILE *out, struct walk *w, unsigned line, size_t off, size_t end)
{
	size_t stop = cut(w->buf, off, end);
	int flagged;

	while (w->k < w->s->n && w->s->v[w->k].to <= off)
		w->k++;
	flagged = w->k < w->s->n && w->s->v[w->k].from < (end > off ? end : off + 1);
	if (line > PREVIEW_HEAD && (!flagged || w->flagged >= PREVIEW_FLAGGED)) {
		w->gap = 1;
		return;
	}
	if (w->gap)
		fputs("     ...\n", out);
	w->gap = 0;
	w->flagged += flagged;
	fprintf(out, "%6u  ", line);
	write_segment(out, w->buf, off, stop, w->s, w->k, w->colour);
	fputs(stop < end ? " \xe2\x80\xa6\n" : "\n", out);
}

static void
preview_text(FILE *out, const unsigned char *buf, size_t len, const struct spans *s, int colour)
{
	struct walk w = { .buf = buf, .s = s, .colour = colour };
	size_t off = 0, next, end;
	unsigned line = 1;

	/* The byte order mark is not text anyone needs to see. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	for (; off < len; off = next, line++) {
		end = export_line_end(buf, len, off, &next);
		show_line(out, &w, line, off, end);
	}
	if (w.gap)
		fprintf(out, "     ... (%u lines in all)\n", line - 1);
}

/* A NUL or invalid UTF-8: lines of it would be escapes from end to end. */
static int
is_binary(const unsigned char *buf, size_t len)
{
	size_t bad;

	return memchr(buf, '\0', len) != NULL || !export_utf8_valid(buf, len, &bad);
}

static int
collect(struct sr_policy *p, int64_t id, size_t len, struct spans *s, struct sr_error *err)
{
	struct json_object *show = sr_export_show(p, id, err), *checks;
	int rc = 0;

	if (show == NULL)
		return -1;
	if (json_object_object_get_ex(show, "checks", &checks)) {
		for (size_t i = 0; i < json_object_array_length(checks) && rc == 0; i++)
			rc = spans_from_check(s, json_object_array_get_idx(checks, i), len);
	}
	json_object_put(show);
	if (rc < 0)
		return sr_error_set(err, "out of memory");
	spans_merge(s);
	return 0;
}

int
sr_export_preview(struct sr_policy *p, int64_t id, FILE *out, int colour, struct sr_error *err)
{
	struct spans s = { 0 };
	struct export_request r;
	unsigned char *buf = NULL;
	int rc = -1;

	if (export_request_load(p, id, &r, err) < 0)
		return -1;
	if (!export_type_is_text(export_type_of(r.path))) {
		fprintf(out, "(a .%s file: no text preview; what it shows cannot be checked "
			"automatically)\n", r.file_type[0] ? r.file_type : "unknown");
		rc = 0;
		goto out;
	}
	if (export_quarantine_load(p->state_dir, r.quarantine, r.size, r.sha256, &buf, err) < 0 ||
	    collect(p, id, (size_t)r.size, &s, err) < 0)
		goto out;
	if (is_binary(buf, (size_t)r.size))
		fprintf(out, "(binary content in a .%s file: no preview; see the filetype check)\n",
			r.file_type);
	else
		preview_text(out, buf, (size_t)r.size, &s, colour);
	rc = 0;
out:
	free(s.v);
	free(buf);
	export_request_clear(&r);
	return rc;
}
