/*
 * export_diff.c — `export diff ID`: what changed since the previous
 * submission of the same path in the same project, as a unified diff, so
 * that a steward reviewing a corrected table reads only the correction.
 *
 * Both sides are quarantined copies, read after their hashes are checked.
 * The diff is Myers' O(ND) greedy algorithm (the one GNU diff and git use)
 * on lines, after trimming the common head and tail.  It keeps every
 * round's frontier for the backtrack, (D+1)^2 integers (16 MB at the
 * bound), so D is bounded by SR_EXPORT_DIFF_MAX_EDITS: past that the files
 * are said to differ too much for a line diff, which is itself something a
 * steward should know.  Lines
 * are printed through sr_export_write_escaped(), like the preview.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

#define CONTEXT 3
#define MAX_LINES 200000         /* changed lines of both sides, after the common ones */

struct line {
	size_t off, len;
	uint64_t hash;
};

struct side {
	struct export_request r;
	unsigned char *buf;
	struct line *lines;
	size_t n;
};

enum op { OP_EQ, OP_DEL, OP_INS };

struct edit {
	enum op op;
	size_t a, b;            /* line index in the old and the new file */
};

struct script {
	struct edit *v;
	size_t n, cap;
};

static uint64_t
fnv1a(const unsigned char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

static int
split_lines(struct side *s)
{
	size_t off = 0, next, end, cap = 0, len = (size_t)s->r.size;

	while (off < len) {
		if (s->n == cap) {
			struct line *l;

			cap = cap ? 2 * cap : 256;
			l = realloc(s->lines, cap * sizeof(*l));
			if (l == NULL)
				return -1;
			s->lines = l;
		}
		end = export_line_end(s->buf, len, off, &next);
		s->lines[s->n++] = (struct line){ off, end - off, fnv1a(s->buf + off, end - off) };
		off = next;
	}
	return 0;
}

static int
same(const struct side *a, size_t i, const struct side *b, size_t j)
{
	const struct line *x = &a->lines[i], *y = &b->lines[j];

	return x->hash == y->hash && x->len == y->len &&
	       memcmp(a->buf + x->off, b->buf + y->off, x->len) == 0;
}

static int
script_add(struct script *s, enum op op, size_t a, size_t b)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct edit *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct edit){ op, a, b };
	return 0;
}

/* ---- Myers ----------------------------------------------------------------------------- */

struct myers {
	const struct side *a, *b;
	size_t lo_a, lo_b;      /* the common head trimmed off */
	long n, m;              /* lengths of the middle parts */
	int32_t *trace;         /* round d's frontier at [d*d + k + d], k = -d..d */
	long d;                 /* edits found */
};

/* The frontier V[k] of round D, -d <= k <= d. */
static long
frontier(const struct myers *my, long d, long k)
{
	return my->trace[d * d + k + d];
}

static int
down(const struct myers *my, long d, long k)
{
	return k == -d || (k != d && frontier(my, d - 1, k - 1) < frontier(my, d - 1, k + 1));
}

/* Runs rounds until both ends are reached; -1 when more than limit edits are needed. */
static int
myers_forward(struct myers *my, long limit)
{
	long x, y;

	for (long d = 0; d <= limit; d++) {
		for (long k = -d; k <= d; k += 2) {
			if (d == 0)
				x = 0;
			else
				x = down(my, d, k) ? frontier(my, d - 1, k + 1) :
						     frontier(my, d - 1, k - 1) + 1;
			y = x - k;
			while (x < my->n && y < my->m &&
			       same(my->a, my->lo_a + (size_t)x, my->b, my->lo_b + (size_t)y))
				x++, y++;
			my->trace[d * d + k + d] = (int32_t)x;
			if (x >= my->n && y >= my->m) {
				my->d = d;
				return 0;
			}
		}
	}
	return -1;
}

/* Walks back from the end, writing the middle's edits in reverse order. */
static int
myers_back(const struct myers *my, struct script *rev)
{
	long x = my->n, y = my->m, px, py, pk;
	int rc = 0;

	for (long d = my->d; d > 0 && rc == 0; d--) {
		pk = down(my, d, x - y) ? x - y + 1 : x - y - 1;
		px = frontier(my, d - 1, pk);
		py = px - pk;
		while (x > px && y > py && rc == 0) {
			x--, y--;
			rc = script_add(rev, OP_EQ, my->lo_a + (size_t)x, my->lo_b + (size_t)y);
		}
		if (rc == 0 && pk == x - y + 1)
			rc = script_add(rev, OP_INS, my->lo_a + (size_t)x, my->lo_b + (size_t)py);
		else if (rc == 0)
			rc = script_add(rev, OP_DEL, my->lo_a + (size_t)px, my->lo_b + (size_t)y);
		x = px, y = py;
	}
	while (x > 0 && y > 0 && rc == 0) {
		x--, y--;
		rc = script_add(rev, OP_EQ, my->lo_a + (size_t)x, my->lo_b + (size_t)y);
	}
	return rc;
}

/* The edit script from A to B; 1 when they differ in more than the limit. */
static int
diff_lines(const struct side *a, const struct side *b, struct script *out)
{
	struct myers my = { .a = a, .b = b };
	struct script rev = { 0 };
	size_t hi_a = a->n, hi_b = b->n, i;
	long limit;
	int rc = -1, rc_add = 0;

	while (my.lo_a < hi_a && my.lo_b < hi_b && same(a, my.lo_a, b, my.lo_b))
		my.lo_a++, my.lo_b++;
	while (hi_a > my.lo_a && hi_b > my.lo_b && same(a, hi_a - 1, b, hi_b - 1))
		hi_a--, hi_b--;
	my.n = (long)(hi_a - my.lo_a);
	my.m = (long)(hi_b - my.lo_b);
	/* The work is O((n + m) * D): both ends of it are bounded. */
	if (my.n + my.m > MAX_LINES)
		return 1;
	limit = my.n + my.m < SR_EXPORT_DIFF_MAX_EDITS ? my.n + my.m : SR_EXPORT_DIFF_MAX_EDITS;
	my.trace = malloc((size_t)(limit + 1) * (size_t)(limit + 1) * sizeof(*my.trace));
	if (my.trace == NULL)
		return -1;
	if (myers_forward(&my, limit) < 0) {
		rc = 1;
		goto out;
	}
	/* The common head, the middle (walked back, so reversed), the common tail. */
	for (i = 0; i < my.lo_a && rc_add == 0; i++)
		rc_add = script_add(out, OP_EQ, i, i);
	if (rc_add == 0)
		rc_add = myers_back(&my, &rev);
	for (i = rev.n; i > 0 && rc_add == 0; i--)
		rc_add = script_add(out, rev.v[i - 1].op, rev.v[i - 1].a, rev.v[i - 1].b);
	for (i = 0; hi_a + i < a->n && rc_add == 0; i++)
		rc_add = script_add(out, OP_EQ, hi_a + i, hi_b + i);
	rc = rc_add;
out:
	free(rev.v);
	free(my.trace);
	return rc;
}

/* ---- unified output ------------------------------------------------------------------ */

struct printer {
	FILE *out;
	const struct side *a, *b;
	int colour;
};

static void
print_line(const struct printer *pr, const struct edit *e)
{
	const struct side *s = e->op == OP_INS ? pr->b : pr->a;
	const struct line *l = &s->lines[e->op == OP_INS ? e->b : e->a];
	const char *mark = e->op == OP_EQ ? " " : e->op == OP_DEL ? "-" : "+";

	if (pr->colour && e->op != OP_EQ)
		fputs(e->op == OP_DEL ? "\033[31m" : "\033[32m", pr->out);
	fputs(mark, pr->out);
	sr_export_write_escaped(pr->out, (const char *)s->buf + l->off, l->len);
	fputs(pr->colour && e->op != OP_EQ ? "\033[0m\n" : "\n", pr->out);
}

/* Prints script[from, to) as one hunk. */
static void
print_hunk(const struct printer *pr, const struct script *s, size_t from, size_t to)
{
	size_t old_n = 0, new_n = 0, old_at = 0, new_at = 0;

	for (size_t i = 0; i < from; i++) {
		old_at += s->v[i].op != OP_INS;
		new_at += s->v[i].op != OP_DEL;
	}
	for (size_t i = from; i < to; i++) {
		old_n += s->v[i].op != OP_INS;
		new_n += s->v[i].op != OP_DEL;
	}
	fprintf(pr->out, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", pr->colour ? "\033[36m" : "",
		old_n ? old_at + 1 : old_at, old_n, new_n ? new_at + 1 : new_at, new_n,
		pr->colour ? "\033[0m" : "");
	for (size_t i = from; i < to; i++)
		print_line(pr, &s->v[i]);
}

static void
print_hunks(const struct printer *pr, const struct script *s)
{
	size_t i = 0, from, last;

	while (i < s->n) {
		while (i < s->n && s->v[i].op == OP_EQ)
			i++;
		if (i == s->n)
			break;
		from = i > CONTEXT ? i - CONTEXT : 0;
		last = i;
		/* Changes closer than twice the context share a hunk. */
		for (; i < s->n; i++) {
			if (s->v[i].op != OP_EQ)
				last = i;
			else if (i - last > 2 * CONTEXT)
				break;
		}
		print_hunk(pr, s, from, last + CONTEXT + 1 < s->n ? last + CONTEXT + 1 : s->n);
		i = last + 1;
	}
}

/* ---- the verb's body ------------------------------------------------------------------- */

static int
load_side(struct sr_policy *p, int64_t id, struct side *s, struct sr_error *err)
{
	if (export_request_load(p, id, &s->r, err) < 0)
		return -1;
	if (export_quarantine_load(p->state_dir, s->r.quarantine, s->r.size, s->r.sha256, &s->buf,
				   err) < 0)
		return -1;
	return 0;
}

static void
side_clear(struct side *s)
{
	export_request_clear(&s->r);
	free(s->buf);
	free(s->lines);
}

static int
is_text(const struct side *s)
{
	size_t bad;

	return export_type_is_text(export_type_of(s->r.path)) &&
	       memchr(s->buf, '\0', (size_t)s->r.size) == NULL &&
	       export_utf8_valid(s->buf, (size_t)s->r.size, &bad);
}

static int
compare(FILE *out, struct side *a, struct side *b, int colour, struct sr_error *err)
{
	struct printer pr = { out, a, b, colour };
	struct script s = { 0 };
	int rc;

	fprintf(out, "--- request %lld  %.16s  ", (long long)a->r.id, a->r.sha256);
	sr_export_write_escaped(out, a->r.path, strlen(a->r.path));
	fprintf(out, "\n+++ request %lld  %.16s  ", (long long)b->r.id, b->r.sha256);
	sr_export_write_escaped(out, b->r.path, strlen(b->r.path));
	fputc('\n', out);
	if (strcmp(a->r.sha256, b->r.sha256) == 0) {
		fprintf(out, "(identical)\n");
		return 0;
	}
	if (!is_text(a) || !is_text(b)) {
		fprintf(out, "(not text: the files differ)\n");
		return 0;
	}
	if (split_lines(a) < 0 || split_lines(b) < 0)
		return sr_error_set(err, "out of memory");
	rc = diff_lines(a, b, &s);
	if (rc == 1)
		fprintf(out, "(the files differ in too many lines for a line diff: %zu lines "
			"before, %zu now)\n", a->n, b->n);
	else if (rc == 0)
		print_hunks(&pr, &s);
	free(s.v);
	return rc < 0 ? sr_error_set(err, "out of memory") : 0;
}

int
sr_export_diff(struct sr_policy *p, int64_t id, FILE *out, int colour, struct sr_error *err)
{
	struct side a = { 0 }, b = { 0 };
	int64_t prev;
	int rc = -1;

	if (load_side(p, id, &b, err) < 0)
		goto out;
	prev = export_previous(p, &b.r, err);
	if (prev < 0)
		goto out;
	if (prev == 0) {
		fprintf(out, "request %lld: no earlier submission of ", (long long)id);
		sr_export_write_escaped(out, b.r.path, strlen(b.r.path));
		fprintf(out, " in project %s\n", b.r.project);
		rc = 0;
		goto out;
	}
	if (load_side(p, prev, &a, err) < 0)
		goto out;
	rc = compare(out, &a, &b, colour, err);
out:
	side_clear(&a);
	side_clear(&b);
	return rc;
}
