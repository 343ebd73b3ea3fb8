/*
 * export_check_cells.c — small cells in tables: counts below export_min_cell
 * (10) and, with export_zero_disclosive (the default), zeros.  These are
 * SACRO/ACRO's threshold rules: a cell counting 3 patients with a rare
 * diagnosis in one district says something about those 3.
 *
 * The hard part is knowing which cells are counts.  A CSV/TSV table is read
 * twice: first every column is classified, then the cells of count columns
 * are compared with the thresholds.  The heuristic, conservative by design
 * (when unsure a cell goes to a human as "review", never silently "pass"):
 *
 *  1. The first record is the header unless every cell of it is a number;
 *     without a header nothing is known of the columns.
 *  2. A column can hold counts only if all its non-empty cells are whole
 *     numbers >= 0: "12", "1,234", "12.0" (pandas writes counts so when a
 *     column has gaps), or "12 (3.4%)" (the "n (%)" cells of a Table 1).
 *     Suppression marks ("<10", "*", "-", "NA", "x", ...) are allowed among
 *     them: those cells have already been suppressed.  Decimals, negatives
 *     or words make it a column of something else.
 *  3. The header names it, by tokens (ASCII, case-folded, split at anything
 *     not a letter or digit) and, for Korean, by the words it contains or
 *     ends with, in this order of precedence:
 *       identifier  (id, mrn, name, 번호, 이름, 주민, 연락처, ...): never a
 *                   count, and its presence says the table may be row-level
 *                   data rather than an aggregate: "review" at the header;
 *       statistic   (mean, sd, pct, rate, score, 평균, 비율, ...률/율): not a count;
 *       count       (n, count, cases, patients, deaths, total, ...수, ...명,
 *                   (명), (건), 빈도, 인원, ...): a count, flagged cells "fail";
 *       category    (year, age, stage, sex, code, region, 연도, 연령, 성별,
 *                   병기, 지역, ...): not a count;
 *       anything else (including headers that are values, as the years
 *                   across the top of a cross-table): perhaps a count,
 *                   flagged cells "review".
 *  4. A whole-number column that runs 0 or 1, 2, 3, ... is a row number,
 *     not a count.
 *
 * Text files that are not tables (txt, md, json, log) may carry counts in
 * prose or in tables of their own that no parser can tell apart from other
 * numbers, so for them this check says "review".
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_internal.h"

#define MAX_COLUMNS 65536
#define NAMES_MAX 120

enum kind { K_UNKNOWN, K_IDENTIFIER, K_STATISTIC, K_COUNT, K_CATEGORY };

enum value { V_EMPTY, V_INT, V_SUPPRESSED, V_OTHER };

struct column {
	enum kind named;
	int64_t n_int, n_other;
	int64_t prev;
	int sequential;         /* so far 0|1, 2, 3, ... */
	int counts;             /* 0 no, 1 perhaps (review), 2 yes (fail) */
	char name[48];          /* printable, for messages */
};

struct cells {
	struct export_file *f;
	struct export_result *r;
	struct column *cols;
	size_t n_cols;
	int header;             /* the first record is a header */
	int64_t small, zeros;
	struct export_pos pos;
};

/* ---- what a cell holds -------------------------------------------------------------- */

/* Digits with optional thousands commas and a ".0" tail; returns the bytes used, 0 if none. */
static size_t
parse_count(const unsigned char *v, size_t n, int64_t *out)
{
	size_t i = 0, group = 0;
	int64_t x = 0;
	int commas = 0;

	for (; i < n; i++) {
		if (isdigit(v[i])) {
			if (x > (INT64_MAX - 9) / 10)
				return 0;
			x = 10 * x + (v[i] - '0');
			group++;
		} else if (v[i] == ',' && group > 0 && group <= 3 && (!commas || group == 3) &&
			   i + 1 < n && isdigit(v[i + 1])) {
			commas = 1;
			group = 0;
		} else {
			break;
		}
	}
	if (i == 0 || (commas && group != 3))
		return 0;
	if (i + 1 < n && v[i] == '.' && v[i + 1] == '0') {
		for (i++; i < n && v[i] == '0'; i++)
			;
	}
	*out = x;
	return i;
}

static int
suppressed(const unsigned char *v, size_t n)
{
	static const char *const marks[] = {
		"*", "**", "***", "-", "--", ".", "x", "s", "c", "na", "n/a", "nan", "null",
		"none", "suppressed", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\xa2",
	};

	/* "<10", "< 5", "≤5", "(<10)": a count given only as a bound. */
	if (n > 0 && v[0] == '(') {
		v++;
		n--;
	}
	if (n > 0 && v[0] == '<')
		return 1;
	if (n >= 3 && memcmp(v, "\xe2\x89\xa4", 3) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (strlen(marks[i]) == n && strncasecmp((const char *)v, marks[i], n) == 0)
			return 1;
	}
	return 0;
}

static enum value
parse_value(const unsigned char *v, size_t n, int64_t *x)
{
	size_t used;

	if (n == 0)
		return V_EMPTY;
	if (suppressed(v, n))
		return V_SUPPRESSED;
	used = parse_count(v, n, x);
	if (used == 0)
		return V_OTHER;
	if (used == n)
		return V_INT;
	/* "12 (3.4%)": the count of an "n (%)" cell. */
	while (used < n && v[used] == ' ')
		used++;
	if (used < n && v[used] == '(' && v[n - 1] == ')')
		return V_INT;
	return V_OTHER;
}

/* A header cell that is itself a number: "2019", "-1.5", "10%". */
static int
numeric_like(const unsigned char *v, size_t n)
{
	int digits = 0;

	for (size_t i = 0; i < n; i++) {
		if (isdigit(v[i]))
			digits = 1;
		else if (strchr(".,-+%eE", v[i]) == NULL || v[i] == '\0')
			return 0;
	}
	return digits;
}

/* ---- what a header says ------------------------------------------------------------- */

static const char *const identifier_words[] = {
	"id", "uid", "pid", "mrn", "ssn", "rrn", "key", "identifier", "name", "firstname",
	"lastname", "fullname", "email", "mail", "phone", "tel", "mobile", "address", "addr",
	"dob", "birthdate", "birthday", "patientid", "patientno", "subjectid", "personid",
	"caseid", "chartno", "chart", NULL,
};
static const char *const statistic_words[] = {
	"mean", "avg", "average", "median", "med", "sd", "std", "stdev", "se", "sem", "var",
	"variance", "min", "max", "minimum", "maximum", "q1", "q3", "iqr", "ci", "lci", "uci",
	"lcl", "ucl", "lower", "upper", "p", "pval", "pvalue", "or", "rr", "irr", "hr", "aor",
	"ahr", "coef", "coefficient", "beta", "estimate", "est", "pct", "percent",
	"percentage", "rate", "ratio", "prop", "proportion", "prevalence", "incidence", "odds",
	"score", "dose", "weight", "wt", "height", "ht", "bmi", "sbp", "dbp", "bp", "los",
	"duration", "auc", "sensitivity", "specificity", "ppv", "npv", NULL,
};
static const char *const count_words[] = {
	"n", "count", "counts", "cnt", "freq", "frequency", "frequencies", "cases", "patients",
	"persons", "people", "subjects", "participants", "individuals", "deaths", "events",
	"births", "admissions", "visits", "number", "num", "nobs", "obs", "total", "sum",
	"records", "respondents", "population", "pop", "died", "survivors", "exposed",
	"controls", "users", "men", "women", "males", "females", "children", NULL,
};
static const char *const category_words[] = {
	"year", "yr", "yyyy", "age", "ages", "agegroup", "date", "dt", "month", "mon", "week",
	"wk", "day", "quarter", "qtr", "hour", "time", "period", "zip", "postcode", "postal",
	"seq", "index", "idx", "rank", "order", "grade", "stage", "level", "lvl", "group",
	"grp", "class", "category", "cat", "type", "code", "sex", "gender", "region", "sido",
	"sigungu", "area", "site", "center", "centre", "hospital", "flag", "yn", "status",
	"arm", "treatment", "trt", "cluster", "wave", "visit", "line", "cycle", "cohort", NULL,
};

/* Korean words: contained anywhere (c) or ending the header (e). */
static const char *const identifier_ko[] = {
	"c번호", "c이름", "c성명", "c주민", "c연락처", "c전화", "c주소", "c이메일",
	"c생년월일", "c아이디", NULL,
};
static const char *const statistic_ko[] = {
	"c평균", "c중앙값", "c표준편차", "c비율", "e율", "e률", "c점수", "c지수", "c계수",
	"c용량", "c체중", "c혈압", "c분율", NULL,
};
static const char *const count_ko[] = {
	"e수", "e명", "e건", "e례", "c인원", "c빈도", "c(명)", "c(건)", "c(례)", "e환자",
	"e사망자", "e대상자", "c건수", NULL,
};
static const char *const category_ko[] = {
	"c연도", "c년도", "c나이", "c연령", "c일자", "c날짜", "e월", "c분기", "c코드",
	"c등급", "c병기", "c그룹", "e군", "c성별", "c지역", "c시도", "c기관", "c병원", "c구분",
	"c유형", "c종류", "c차수", "c단계", NULL,
};

static int
in_list(const char *const *words, const char *tok)
{
	for (; *words != NULL; words++) {
		if (strcmp(*words, tok) == 0)
			return 1;
	}
	return 0;
}

static int
ko_match(const char *const *words, const char *compact)
{
	size_t n = strlen(compact);

	for (; *words != NULL; words++) {
		const char *w = *words + 1;
		size_t k = strlen(w);

		if ((*words)[0] == 'c' && strstr(compact, w) != NULL)
			return 1;
		if ((*words)[0] == 'e' && n >= k && strcmp(compact + n - k, w) == 0)
			return 1;
	}
	return 0;
}

/* Lower-case tokens (runs of letters, digits and non-ASCII bytes), NUL-separated. */
static size_t
tokens(const unsigned char *h, size_t n, char *out, size_t outlen, char *compact)
{
	size_t o = 0, c = 0, count = 0;
	int in = 0;

	for (size_t i = 0; i < n && o + 2 < outlen; i++) {
		int word = isalnum(h[i]) || h[i] >= 0x80;

		if (h[i] != ' ' && h[i] != '_' && h[i] != '-' && h[i] != '.')
			compact[c++] = (char)tolower(h[i]);
		if (word) {
			out[o++] = (char)tolower(h[i]);
			in = 1;
		} else if (in) {
			out[o++] = '\0';
			in = 0;
			count++;
		}
	}
	if (in) {
		out[o++] = '\0';
		count++;
	}
	out[o] = '\0';
	compact[c] = '\0';
	return count;
}

static int
any_token(const char *toks, size_t n, const char *const *words)
{
	for (size_t i = 0; i < n; i++, toks += strlen(toks) + 1) {
		if (in_list(words, toks))
			return 1;
	}
	return 0;
}

static enum kind
classify(const unsigned char *h, size_t n)
{
	char toks[256], compact[256];
	size_t nt;

	if (n > 200)
		n = 200;
	nt = tokens(h, n, toks, sizeof(toks), compact);
	if (any_token(toks, nt, identifier_words) || ko_match(identifier_ko, compact))
		return K_IDENTIFIER;
	if (any_token(toks, nt, statistic_words) || ko_match(statistic_ko, compact))
		return K_STATISTIC;
	if (any_token(toks, nt, count_words) || ko_match(count_ko, compact))
		return K_COUNT;
	if (any_token(toks, nt, category_words) || ko_match(category_ko, compact))
		return K_CATEGORY;
	return K_UNKNOWN;
}

/* A header as messages may quote it: printable UTF-8, cut on a character boundary. */
static void
printable_name(const unsigned char *v, size_t n, char *out, size_t outlen)
{
	size_t o = 0, i = 0, k;
	int32_t cp;

	while (i < n && o + 4 < outlen) {
		cp = export_utf8_decode(v, n, i, &k);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || k > outlen - o - 1) {
			out[o++] = '?';
			i += k;
			continue;
		}
		memcpy(out + o, v + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
}

/* ---- the two passes ----------------------------------------------------------------- */

static int
grow(struct cells *t, size_t n)
{
	struct column *c;

	if (n <= t->n_cols)
		return 0;
	if (n > MAX_COLUMNS)
		return -1;
	c = realloc(t->cols, n * sizeof(*c));
	if (c == NULL)
		return -1;
	memset(c + t->n_cols, 0, (n - t->n_cols) * sizeof(*c));
	for (size_t j = t->n_cols; j < n; j++)
		c[j].sequential = 1;
	t->cols = c;
	t->n_cols = n;
	return 0;
}

static int
read_header(struct cells *t, const struct export_csv *c)
{
	const unsigned char *v;
	size_t n;

	if (grow(t, c->n) < 0)
		return -1;
	t->header = 0;
	for (size_t j = 0; j < c->n; j++) {
		export_field_value(c->buf, &c->fields[j], &v, &n);
		if (n > 0 && !numeric_like(v, n))
			t->header = 1;
	}
	for (size_t j = 0; t->header && j < c->n; j++) {
		export_field_value(c->buf, &c->fields[j], &v, &n);
		t->cols[j].named = classify(v, n);
		printable_name(v, n, t->cols[j].name, sizeof(t->cols[j].name));
	}
	return 0;
}

static void
note_value(struct column *col, enum value kind, int64_t x)
{
	if (kind == V_OTHER)
		col->n_other++;
	if (kind != V_INT)
		return;
	if (col->sequential && (col->n_int == 0 ? (x != 0 && x != 1) : x != col->prev + 1))
		col->sequential = 0;
	col->prev = x;
	col->n_int++;
}

static int
survey(struct cells *t)
{
	const unsigned char *v;
	struct export_csv c;
	size_t n;
	int64_t x = 0;
	int rc, first = 1;

	export_csv_init(&c, t->f->buf, t->f->len, export_type_delim(t->f->type));
	while ((rc = export_csv_next(&c)) == 1) {
		if (first && read_header(t, &c) < 0)
			break;
		if (first && t->header) {
			first = 0;
			continue;
		}
		first = 0;
		if (grow(t, c.n) < 0)
			break;
		for (size_t j = 0; j < c.n; j++) {
			export_field_value(c.buf, &c.fields[j], &v, &n);
			note_value(&t->cols[j], parse_value(v, n, &x), x);
		}
	}
	export_csv_clear(&c);
	return rc == 0 ? 0 : -1;
}

static void
decide_columns(struct cells *t)
{
	for (size_t j = 0; j < t->n_cols; j++) {
		struct column *col = &t->cols[j];

		col->counts = 0;
		if (col->n_other > 0 || col->n_int == 0)
			continue;
		if (col->sequential && col->n_int >= 3)
			continue;   /* row numbers */
		if (col->named == K_COUNT)
			col->counts = 2;
		else if (col->named == K_UNKNOWN)
			col->counts = 1;
	}
}

static int
flag_cell(struct cells *t, const struct export_csv *c, size_t j, int64_t x, struct sr_error *err)
{
	enum sr_export_verdict v = t->cols[j].counts == 2 ? SR_EXPORT_FAIL : SR_EXPORT_REVIEW;
	char what[128];

	if (x == 0 && !t->f->lim->zero_disclosive)
		return 0;
	if (x >= t->f->lim->min_cell)
		return 0;
	if (x == 0)
		snprintf(what, sizeof(what), "zero%s", v == SR_EXPORT_REVIEW ? " (if a count)" : "");
	else
		snprintf(what, sizeof(what), "count below %lld%s", (long long)t->f->lim->min_cell,
			 v == SR_EXPORT_REVIEW ? " (if a count)" : "");
	if (x == 0)
		t->zeros++;
	else
		t->small++;
	return export_result_add(t->r, t->f, &t->pos, c->fields[j].off,
				 (uint32_t)c->fields[j].len, (uint32_t)j + 1, v, what, err);
}

static int
flag_identifier_columns(struct cells *t, const struct export_csv *c, struct sr_error *err)
{
	for (size_t j = 0; j < c->n && j < t->n_cols; j++) {
		if (t->cols[j].named != K_IDENTIFIER || t->cols[j].n_int + t->cols[j].n_other == 0)
			continue;
		if (export_result_add(t->r, t->f, &t->pos, c->fields[j].off,
				      (uint32_t)c->fields[j].len, (uint32_t)j + 1, SR_EXPORT_REVIEW,
				      "identifier column: row-level data?", err) < 0)
			return -1;
	}
	return 0;
}

static int
flag_record(struct cells *t, const struct export_csv *c, struct sr_error *err)
{
	const unsigned char *v;
	size_t n;
	int64_t x = 0;

	for (size_t j = 0; j < c->n && j < t->n_cols; j++) {
		if (t->cols[j].counts == 0)
			continue;
		export_field_value(c->buf, &c->fields[j], &v, &n);
		if (parse_value(v, n, &x) == V_INT && flag_cell(t, c, j, x, err) < 0)
			return -1;
	}
	return 0;
}

static int
flag(struct cells *t, struct sr_error *err)
{
	struct export_csv c;
	int rc, first = 1;

	export_csv_init(&c, t->f->buf, t->f->len, export_type_delim(t->f->type));
	while ((rc = export_csv_next(&c)) == 1) {
		if (first && t->header)
			rc = flag_identifier_columns(t, &c, err);
		else
			rc = flag_record(t, &c, err);
		first = 0;
		if (rc < 0)
			break;
	}
	export_csv_clear(&c);
	if (rc < 0 && err != NULL && err->msg[0] == '\0')
		sr_error_set(err, "out of memory");
	return rc < 0 ? -1 : 0;
}

/* "n, n_deaths" of the columns with counts == LEVEL. */
static void
names_of(const struct cells *t, int level, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t j = 0; j < t->n_cols && o < outlen; j++) {
		if (t->cols[j].counts != level)
			continue;
		if (t->cols[j].name[0] != '\0')
			o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "",
					      t->cols[j].name);
		else
			o += (size_t)snprintf(out + o, outlen - o, "%scolumn %zu", o ? ", " : "",
					      j + 1);
	}
	if (o >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

static void
summarise(struct cells *t)
{
	char sure[NAMES_MAX], unsure[NAMES_MAX];
	struct export_result *r = t->r;

	names_of(t, 2, sure, sizeof(sure));
	names_of(t, 1, unsure, sizeof(unsure));
	if (t->small + t->zeros == 0)
		export_result_say(r, "no cells below %lld%s; count columns: %s%s%s",
				  (long long)t->f->lim->min_cell,
				  t->f->lim->zero_disclosive ? " or zeros" : "", sure[0] ? sure : "none",
				  unsure[0] ? "; perhaps counts: " : "", unsure);
	else
		export_result_say(r, "cells below %lld: %lld, zeros: %lld; count columns: %s%s%s",
				  (long long)t->f->lim->min_cell, (long long)t->small,
				  (long long)t->zeros, sure[0] ? sure : "none",
				  unsure[0] ? "; perhaps counts (review): " : "", unsure);
	if (r->verdict == SR_EXPORT_PASS || r->n_locs == 0)
		return;
	for (size_t i = 0; i < r->n_locs; i++) {
		if (strncmp(r->locs[i].what, "identifier column", 17) == 0) {
			size_t len = strlen(r->message);

			snprintf(r->message + len, sizeof(r->message) - len, "; a column looks like "
				 "an identifier: is this row-level data?");
			break;
		}
	}
}

int
export_check_cells(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	struct cells t = { .f = f, .r = r };
	int rc = -1;

	if (!f->text || f->type == EXPORT_SVG) {
		export_result_unreadable(r, f);
		return 0;
	}
	if (export_type_delim(f->type) == 0) {
		export_result_say(r, "not a table: counts in free text cannot "
				  "be checked automatically");
		export_result_raise(r, SR_EXPORT_REVIEW);
		return 0;
	}
	if (survey(&t) < 0) {
		sr_error_set(err, "cells: out of memory or more than %d columns", MAX_COLUMNS);
		goto out;
	}
	decide_columns(&t);
	if (flag(&t, err) < 0)
		goto out;
	summarise(&t);
	rc = 0;
out:
	free(t.cols);
	return rc;
}
