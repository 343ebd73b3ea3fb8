/*
 * export_text.c — UTF-8 for the export checks and for what a steward reads.
 *
 * Submitted files are written by researchers, so everything here treats
 * them as hostile bytes: decoding never reads past the end, invalid
 * sequences are one bad byte each, and text bound for a terminal goes
 * through sr_export_write_escaped(), which keeps Korean (and any other
 * printable text) intact but shows every control character, bidirectional
 * override and invalid byte as an escape, so that a file under review
 * cannot move the cursor, retitle the window, write the clipboard or
 * reorder what the steward sees.
 */
#include "config.h"

#include <string.h>

#include "export_internal.h"

int32_t
export_utf8_decode(const unsigned char *s, size_t len, size_t i, size_t *n)
{
	unsigned char c = s[i];
	int32_t cp, min;
	size_t k, need;

	*n = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return -1;
	}
	for (k = 1; k <= need; k++) {
		if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i + k] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*n = need + 1;
	return cp;
}

int
export_utf8_valid(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (export_utf8_decode(s, len, i, &n) < 0) {
			*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

/* Code points a terminal must not receive as they are. */
static int
unsafe_cp(int32_t cp)
{
	if (cp < 0x20)
		return cp != '\t';
	if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return 1;
	/* Bidirectional embeddings, overrides and isolates reorder what is shown. */
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200e || cp == 0x200f || cp == 0x061c;
}

void
sr_export_write_escaped(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0, n;
	int32_t cp;

	while (i < len) {
		cp = export_utf8_decode(s, len, i, &n);
		if (cp >= 0 && !unsafe_cp(cp)) {
			i += n;
			continue;
		}
		fwrite(s + start, 1, i - start, out);
		if (cp < 0)
			fprintf(out, "\\x%02x", s[i]);
		else if (cp < 0x80)
			fprintf(out, "\\x%02x", (unsigned)cp);
		else
			fprintf(out, "\\u%04x", (unsigned)cp);
		i += n;
		start = i;
	}
	fwrite(s + start, 1, i - start, out);
}

void
export_pos_advance(struct export_pos *pos, const unsigned char *buf, size_t off)
{
	if (pos->line == 0 || off < pos->off) {
		pos->off = 0;
		pos->line = 1;
		pos->column = 1;
	}
	while (pos->off < off) {
		if (buf[pos->off] == '\n') {
			pos->line++;
			pos->column = 1;
			pos->off++;
			continue;
		}
		/* A character is counted at its first byte (any byte but a continuation). */
		if ((buf[pos->off] & 0xc0) != 0x80)
			pos->column++;
		pos->off++;
	}
}

size_t
export_line_end(const unsigned char *buf, size_t len, size_t line_start, size_t *next)
{
	const unsigned char *nl = memchr(buf + line_start, '\n', len - line_start);
	size_t end = nl != NULL ? (size_t)(nl - buf) : len;

	*next = nl != NULL ? end + 1 : len;
	if (nl != NULL && end > line_start && buf[end - 1] == '\r')
		end--;
	return end;
}
