/*
 * export_check_identifiers.c — direct identifiers in the text of a file:
 * resident registration numbers (주민등록번호), Korean mobile numbers and
 * e-mail addresses.  Any one is a "fail": a result must not name a person.
 *
 * Resident registration numbers: YYMMDD-GNNNNNN, with a hyphen, a blank or
 * nothing between the halves, not part of a longer run of digits.  The
 * first half must be a real calendar date (29 February only in leap years)
 * in the century the seventh digit G gives:
 *     1 2  Koreans born 1900-1999       5 6  foreigners born 1900-1999
 *     3 4  Koreans born 2000-2099       7 8  foreigners born 2000-2099
 *     9 0  born 1800-1899
 * and, for the 2000s, not after today (in Korea).  The last digit is NOT
 * checked against the old checksum: numbers issued since October 2020 are
 * random after G and do not follow it, so a checksum test would wave them
 * through.  G = 9 or 0 is a real rule, but nobody born before 1900 is in
 * today's clinical data, so such a number is "review" rather than "fail".
 *
 * Mobile numbers: 010 (and the old 011, 016, 017, 018, 019), then 3 or 4
 * digits and 4 digits, with "-", ".", blanks or nothing between the groups
 * and the prefix optionally in parentheses; also +82 10 ..., +82 (0)10 ...
 * and 82-10-....
 *
 * E-mail addresses: local@domain.tld with an ASCII local part and a domain
 * of at least two labels (Korean IDN labels count), the last one letters.
 *
 * Korean text is read as UTF-8, so "주민번호:8001011234567" is found
 * (a hangul syllable is never a digit), and what people type in Korean
 * input methods is folded to ASCII first: full-width digits and signs
 * (０１０－１２３４－５６７８), dashes and the ideographic space.
 *
 * CSV/TSV files are scanned field by field, so a location names its field;
 * other text line by line.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "export_internal.h"

#define NC_OTHER 0x80   /* a valid non-ASCII character that folds to nothing */
#define NC_BAD 0x81     /* an invalid byte */

struct scan {
	struct export_file *f;
	struct export_result *r;
	struct export_pos pos;
	int today;              /* YYYYMMDD in Korea */
	int64_t rrn, phone, email;
};

/* The character at S[i] folded to ASCII where Korean typing makes it differ. */
static int
nchar(const unsigned char *s, size_t end, size_t i, size_t *next)
{
	size_t n;
	int32_t cp = export_utf8_decode(s, end, i, &n);

	*next = i + n;
	if (cp < 0)
		return NC_BAD;
	if (cp < 0x80)
		return cp;
	if (cp >= 0xff01 && cp <= 0xff5e)       /* full-width ASCII forms */
		return cp - 0xfee0;
	if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xfe63)
		return '-';
	if (cp == 0x3000 || cp == 0xa0)
		return ' ';
	return NC_OTHER;
}

struct cur {
	const unsigned char *s;
	size_t end, i;
};

static int
peek(const struct cur *c)
{
	size_t next;

	return c->i < c->end ? nchar(c->s, c->end, c->i, &next) : -1;
}

static void
advance(struct cur *c)
{
	size_t next;

	nchar(c->s, c->end, c->i, &next);
	c->i = next;
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* Exactly N digits into out (as characters); 0 or -1. */
static int
digits(struct cur *c, int n, char *out)
{
	for (int k = 0; k < n; k++) {
		int ch = peek(c);

		if (!is_digit(ch))
			return -1;
		out[k] = (char)ch;
		advance(c);
	}
	return 0;
}

static int
expect(struct cur *c, int ch)
{
	if (peek(c) != ch)
		return -1;
	advance(c);
	return 0;
}

/* Skips one separator of SEPS, if there is one. */
static void
separator(struct cur *c, const char *seps)
{
	int ch = peek(c);

	if (ch > 0 && ch < 0x80 && strchr(seps, ch) != NULL)
		advance(c);
}

/* The character before S[i] (never before START), folded; -1 at START. */
static int
before(const unsigned char *s, size_t start, size_t i)
{
	size_t j = i, next;

	if (i <= start)
		return -1;
	do
		j--;
	while (j > start && i - j < 4 && (s[j] & 0xc0) == 0x80);
	return nchar(s, i, j, &next);
}

static int
num(const char *d, int n)
{
	int x = 0;

	for (int k = 0; k < n; k++)
		x = 10 * x + (d[k] - '0');
	return x;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* The verdict for the 13 digits D, or -1 when they are not a registration number. */
static int
rrn_verdict(const char *d, int today)
{
	static const int century[10] = { 1800, 1900, 1900, 2000, 2000, 1900, 1900, 2000, 2000,
					 1800 };
	int g = d[6] - '0', y = century[g] + num(d, 2), m = num(d + 2, 2), day = num(d + 4, 2);

	if (m < 1 || m > 12 || day < 1 || day > days_in_month(y, m))
		return -1;
	if (y * 10000 + m * 100 + day > today)
		return -1;
	return (g == 9 || g == 0) ? SR_EXPORT_REVIEW : SR_EXPORT_FAIL;
}

static size_t
match_rrn(const struct scan *t, const unsigned char *s, size_t start, size_t end, size_t i,
	  int *verdict)
{
	struct cur c = { s, end, i };
	char d[13];

	if (is_digit(before(s, start, i)) || digits(&c, 6, d) < 0)
		return 0;
	separator(&c, "- ");
	if (digits(&c, 7, d + 6) < 0 || is_digit(peek(&c)))
		return 0;
	*verdict = rrn_verdict(d, t->today);
	return *verdict < 0 ? 0 : c.i;
}

/* "+82 10", "+82 (0)10", "+82 010", "82-10": the country code, then the 1 of 01X. */
static int
international_prefix(struct cur *c)
{
	if (peek(c) == '+')
		advance(c);
	if (expect(c, '8') < 0 || expect(c, '2') < 0)
		return -1;
	separator(c, "- .");
	if (peek(c) == '(') {
		advance(c);
		if (expect(c, '0') < 0 || expect(c, ')') < 0)
			return -1;
		separator(c, "- .");
	} else if (peek(c) == '0') {
		advance(c);
	}
	return 0;
}

/* The prefix of a mobile number: 01X, (01X), or an international form of it. */
static int
mobile_prefix(struct cur *c)
{
	int paren = 0, ch;

	if (peek(c) == '+' || peek(c) == '8') {
		if (international_prefix(c) < 0)
			return -1;
	} else {
		paren = peek(c) == '(';
		if (paren)
			advance(c);
		if (expect(c, '0') < 0)
			return -1;
	}
	if (expect(c, '1') < 0)
		return -1;
	ch = peek(c);
	if (!is_digit(ch) || strchr("016789", ch) == NULL)
		return -1;
	advance(c);
	if (paren && expect(c, ')') < 0)
		return -1;
	separator(c, "- .");
	return 0;
}

/* The subscriber part: MID (3 or 4) digits, a separator, 4 digits, no digit after. */
static size_t
mobile_rest(struct cur c, int mid)
{
	char d[4];

	if (digits(&c, mid, d) < 0)
		return 0;
	separator(&c, "- .");
	if (digits(&c, 4, d) < 0 || is_digit(peek(&c)))
		return 0;
	return c.i;
}

static size_t
match_phone(const unsigned char *s, size_t start, size_t end, size_t i)
{
	struct cur c = { s, end, i };
	size_t stop;

	if (is_digit(before(s, start, i)) || mobile_prefix(&c) < 0)
		return 0;
	stop = mobile_rest(c, 4);
	return stop != 0 ? stop : mobile_rest(c, 3);
}

static int
local_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
	       (ch != '\0' && strchr("._%+-", ch) != NULL);
}

static int
domain_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
	       ch == '-' || ch == '.' || ch == NC_OTHER;
}

/* The domain after the '@' at AT: returns its end, 0 when it is not one. */
static size_t
email_domain(const unsigned char *s, size_t end, size_t at)
{
	size_t i = at + 1, next, dot = 0, stop;
	int ch;

	while (i < end && domain_char(nchar(s, end, i, &next)))
		i = next;
	stop = i;
	/* A sentence may end right after the address. */
	while (stop > at + 1 && (s[stop - 1] == '.' || s[stop - 1] == '-'))
		stop--;
	for (i = stop; i > at + 1 && dot == 0; i--) {
		if (s[i - 1] == '.')
			dot = i - 1;
	}
	if (dot == 0 || dot == at + 1 || s[dot - 1] == '.' || stop - dot < 3)
		return 0;
	/* The top-level label: letters (or a Korean one), no digits. */
	for (i = dot + 1; i < stop; i = next) {
		ch = nchar(s, stop, i, &next);
		if (is_digit(ch) || ch == '-')
			return 0;
	}
	return stop;
}

static size_t
match_email(const unsigned char *s, size_t start, size_t end, size_t at, size_t *from)
{
	size_t ls = at;

	while (ls > start && s[ls - 1] < 0x80 && local_char(s[ls - 1]))
		ls--;
	while (ls < at && s[ls] == '.')
		ls++;
	if (ls == at)
		return 0;
	*from = ls;
	return email_domain(s, end, at);
}

static int
report(struct scan *t, size_t from, size_t to, uint32_t field, int verdict, const char *what,
       struct sr_error *err)
{
	return export_result_add(t->r, t->f, &t->pos, from, (uint32_t)(to - from), field,
				 (enum sr_export_verdict)verdict, what, err);
}

/* Can an identifier start at this byte?  Digits, '+', '(' or a full-width form. */
static int
may_start(unsigned char b)
{
	return is_digit(b) || b == '+' || b == '(' || b == 0xef;
}

/* Tries the matchers at I; returns where scanning goes on (I when nothing matched). */
static size_t
try_at(struct scan *t, size_t start, size_t end, size_t i, uint32_t field, struct sr_error *err,
       int *rc)
{
	const unsigned char *s = t->f->buf;
	size_t stop, from;
	int v;

	if (may_start(s[i]) && (stop = match_rrn(t, s, start, end, i, &v)) != 0) {
		t->rrn++;
		*rc = report(t, i, stop, field, v, "resident registration number", err);
		return stop;
	}
	if (may_start(s[i]) && (stop = match_phone(s, start, end, i)) != 0) {
		t->phone++;
		*rc = report(t, i, stop, field, SR_EXPORT_FAIL, "mobile phone number", err);
		return stop;
	}
	if (s[i] == '@' && (stop = match_email(s, start, end, i, &from)) != 0) {
		t->email++;
		*rc = report(t, from, stop, field, SR_EXPORT_FAIL, "e-mail address", err);
		return stop;
	}
	return i;
}

static int
scan_span(struct scan *t, size_t start, size_t end, uint32_t field, struct sr_error *err)
{
	size_t i = start, next;
	int rc = 0;

	while (i < end && rc == 0) {
		next = try_at(t, start, end, i, field, err, &rc);
		if (next == i)
			nchar(t->f->buf, end, i, &next);
		i = next;
	}
	return rc;
}

static int
scan_record(struct scan *t, const struct export_csv *c, struct sr_error *err)
{
	for (size_t j = 0; j < c->n; j++) {
		if (scan_span(t, c->fields[j].off, c->fields[j].off + c->fields[j].len,
			      (uint32_t)j + 1, err) < 0)
			return -1;
	}
	return 0;
}

static int
scan_table(struct scan *t, struct sr_error *err)
{
	struct export_csv c;
	int rc;

	export_csv_init(&c, t->f->buf, t->f->len, export_type_delim(t->f->type));
	while ((rc = export_csv_next(&c)) == 1) {
		if (scan_record(t, &c, err) < 0)
			break;
	}
	export_csv_clear(&c);
	if (rc < 0)
		return sr_error_set(err, "out of memory");
	return rc == 1 ? -1 : 0;
}

static int
scan_lines(struct scan *t, struct sr_error *err)
{
	size_t off = 0, next, end;

	while (off < t->f->len) {
		end = export_line_end(t->f->buf, t->f->len, off, &next);
		if (scan_span(t, off, end, 0, err) < 0)
			return -1;
		off = next;
	}
	return 0;
}

static int
today_in_korea(int64_t now)
{
	time_t t = (time_t)now + 9 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int
export_check_identifiers(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	struct scan t = { .f = f, .r = r, .today = today_in_korea(f->now) };
	int rc;

	if (!f->text) {
		export_result_unreadable(r, f);
		return 0;
	}
	rc = export_type_delim(f->type) != 0 ? scan_table(&t, err) : scan_lines(&t, err);
	if (rc < 0)
		return -1;
	if (t.rrn + t.phone + t.email == 0)
		export_result_say(r, "no resident registration numbers, "
				  "mobile numbers or e-mail addresses");
	else
		export_result_say(r, "resident registration numbers: %lld, mobile numbers: %lld, "
				  "e-mail addresses: %lld", (long long)t.rrn, (long long)t.phone,
				  (long long)t.email);
	return 0;
}
