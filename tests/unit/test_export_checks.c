/*
 * test_export_checks.c — every automatic export check fires on a file made
 * to trip it, at the place it should name, and stays quiet on a clean
 * aggregated table: file type (by extension and by content), size and row
 * caps, small cells (what counts as a count column), identifiers
 * (주민등록번호 dates and gender digits, mobile number and e-mail variants,
 * Korean text, full-width digits), and rows copied verbatim from a granted
 * dataset.  Checks run on in-memory files through the same entry point as
 * on a quarantined copy (export_checks_run).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_internal.h"
#include "tap.h"

/* 2026-06-01T00:00:00Z: births after this are not births. */
#define NOW 1780272000

static char *dir, *state;
static struct sr_policy *pol;
static struct sr_export_limits lim;
static struct export_result res[EXPORT_N_CHECKS];

static const char *const names[EXPORT_N_CHECKS] = {
	"filetype", "caps", "cells", "identifiers", "rows",
};

static const struct export_result *
result(const char *check)
{
	for (int i = 0; i < EXPORT_N_CHECKS; i++) {
		if (strcmp(names[i], check) == 0)
			return &res[i];
	}
	return NULL;
}

/* Runs every check on LEN bytes of BUF as a file named NAME. */
static int
run_bytes(const char *name, const char *buf, size_t len)
{
	struct export_file f = {
		.buf = (const unsigned char *)buf, .len = len, .type = export_type_of(name),
		.lim = &lim, .p = pol, .project = "onco", .now = NOW,
	};
	struct sr_error err = { { 0 } };
	int rc;

	export_results_clear(res);
	rc = export_checks_run(&f, res, &err);
	if (rc < 0)
		diag("checks failed: %s", err.msg);
	return rc;
}

static int
run(const char *name, const char *text)
{
	return run_bytes(name, text, strlen(text));
}

static const char *
verdict(const char *check)
{
	return sr_export_verdict_name(result(check)->verdict);
}

/* The text a location covers. */
static int
loc_is(const char *check, size_t i, const char *text, const char *want)
{
	const struct export_result *r = result(check);
	const struct export_loc *l;
	int same;

	if (i >= r->n_locs) {
		diag("%s: no location %zu (%zu)", check, i, r->n_locs);
		return 0;
	}
	l = &r->locs[i];
	same = strlen(want) == l->length && memcmp(text + l->offset, want, l->length) == 0;
	if (!same)
		diag("%s location %zu covers \"%.*s\", want \"%s\"", check, i, (int)l->length,
		     text + l->offset, want);
	return same;
}

/* ---- a clean aggregated table ------------------------------------------------------ */

static const char clean[] =
	"region,year,sex,stage,n_patients,mean_age,pct\n"
	"서울,2021,M,I,120,61.2,12.5\n"
	"서울,2021,F,I,98,59.8,10.2\n"
	"부산,2021,M,II,45,63.0,4.7\n"
	"부산,2021,F,II,\"1,234\",58.1,3.9\n";

static void
test_clean(void)
{
	ok(run("t1.csv", clean) == 0, "a clean aggregated table is checked");
	for (int i = 0; i < EXPORT_N_CHECKS; i++)
		is_str(verdict(names[i]), "pass", "clean table: %s passes", names[i]);
	ok(strstr(result("cells")->message, "n_patients") != NULL,
	   "cells names the count column it checked: %s", result("cells")->message);
	is_int(result("cells")->n_locs, 0, "and flags nothing");
}

/* ---- file type ----------------------------------------------------------------------- */

static void
test_filetype(void)
{
	static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR....\0\0\0\0IEND\xae\x42\x60\x82";
	static const char png_zip[] = "\x89PNG\r\n\x1a\nPK\x03\x04....\0\0\0\0IEND\xae\x42\x60\x82";
	static const char png_tail[] = "\x89PNG\r\n\x1a\n\0\0\0\0IEND\xae\x42\x60\x82secret,rows\n";
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0";
	static const char zip[] = "PK\x03\x04\x14\0\0\0\x08\0";

	run_bytes("x.csv", elf, sizeof(elf) - 1);
	is_str(verdict("filetype"), "fail", "a .csv that is an ELF binary fails");
	ok(strstr(result("filetype")->message, "ELF") != NULL, "and says so: %s",
	   result("filetype")->message);
	is_str(verdict("identifiers"), "review", "its content is not checked as text: review");
	run_bytes("x.csv", zip, sizeof(zip) - 1);
	is_str(verdict("filetype"), "fail", "a .csv that is a ZIP (xlsx) fails");
	run_bytes("x.txt", "a\0b\n", 4);
	is_str(verdict("filetype"), "fail", "a NUL byte in a .txt fails");
	run("x.txt", "\xc7\xd1\xb1\xdb \xc5\xd8\xbd\xba\xc6\xae\n");
	is_str(verdict("filetype"), "fail", "CP949 (EUC-KR) text fails: not UTF-8");
	ok(strstr(result("filetype")->message, "iconv") != NULL, "with a hint how to convert");
	run("x.txt", "정상 한국어 문장입니다.\n");
	is_str(verdict("filetype"), "pass", "UTF-8 Korean text passes");
	run("x.txt", "colour \033[31mred\033[0m\n");
	is_str(verdict("filetype"), "review", "terminal escapes in text: review");
	run("model.rds", "text");
	is_str(verdict("filetype"), "fail", "an extension not on the list fails");
	run("Makefile", "all:\n");
	is_str(verdict("filetype"), "fail", "no extension fails");
	lim.file_types = "csv,tsv";
	run("x.txt", "hello\n");
	is_str(verdict("filetype"), "fail", "txt fails when export_file_types is csv,tsv");
	sr_export_limits_init(&lim);
	run_bytes("fig.png", png, sizeof(png) - 1);
	is_str(verdict("filetype"), "review", "a real PNG: review, never pass");
	is_str(verdict("cells"), "review", "its cells cannot be checked: review");
	is_str(verdict("identifiers"), "review", "nor its identifiers");
	is_str(verdict("rows"), "review", "nor its rows");
	run_bytes("FIG.PNG", png, sizeof(png) - 1);
	is_str(verdict("filetype"), "review", "extensions are case-insensitive");
	run_bytes("fig.png", png_zip, sizeof(png_zip) - 1);
	is_str(verdict("filetype"), "fail", "a PNG with a ZIP inside fails");
	run_bytes("fig.png", png_tail, sizeof(png_tail) - 1);
	is_str(verdict("filetype"), "fail", "a PNG with data after IEND fails");
	run("fig.png", "not an image\n");
	is_str(verdict("filetype"), "fail", "a .png that is text fails");
	run_bytes("photo.jpeg", "\xff\xd8\xff\xe0\0\x10JFIF\0\xff\xd9", 14);
	is_str(verdict("filetype"), "review", "a JPEG (.jpeg): review");
	run("paper.pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
	is_str(verdict("filetype"), "review", "a PDF: review");
	run("paper.pdf", "PK\x03\x04 zip");
	is_str(verdict("filetype"), "fail", "a .pdf that is a ZIP fails");
	run("plot.svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
	is_str(verdict("filetype"), "review", "an SVG: review");
	is_str(verdict("identifiers"), "pass", "but its text is checked for identifiers");
	run("plot.svg", "just text\n");
	is_str(verdict("filetype"), "fail", "a .svg without <svg fails");
	run("r.json", "{\"n\": 12, \"이름\": \"값\"}\n");
	is_str(verdict("filetype"), "pass", "valid JSON passes");
	run("r.json", "{\"n\": 12,\n");
	is_str(verdict("filetype"), "review", "invalid JSON: review");
	run("r.json", "{} {}");
	is_str(verdict("filetype"), "review", "two JSON values: review");
}

/* ---- caps ------------------------------------------------------------------------------ */

static char *
table_of(int rows)
{
	size_t cap = 32 + (size_t)rows * 16, off;
	char *t = malloc(cap);

	off = (size_t)snprintf(t, cap, "group,n\n");
	for (int i = 0; i < rows; i++)
		off += (size_t)snprintf(t + off, cap - off, "g%d,%d\n", i, 100 + i);
	return t;
}

static void
test_caps(void)
{
	char *t = table_of(5000);

	run("big.csv", t);
	is_str(verdict("caps"), "pass", "5000 rows pass the row cap");
	free(t);
	t = table_of(5001);
	run("big.csv", t);
	is_str(verdict("caps"), "fail", "5001 rows fail it");
	ok(result("caps")->n_locs == 1 && result("caps")->locs[0].line == 5002,
	   "at the first row over the cap, line 5002");
	free(t);
	run("big.txt", "1\n2\n3\n");
	is_str(verdict("caps"), "pass", "text files have no row cap");
	lim.max_size = 10;
	run("x.csv", "a,b\n1234,5678\n");
	is_str(verdict("caps"), "fail", "over export_max_size fails");
	sr_export_limits_init(&lim);
	run("x.tsv", "a\tn\n\n\nb\t12\n\n");
	ok(strstr(result("caps")->message, "1 rows") != NULL, "empty lines are not rows: %s",
	   result("caps")->message);
}

/* ---- small cells ------------------------------------------------------------------------ */

static void
test_cells_counts(void)
{
	static const char t[] = "sex,stage,n\nM,I,120\nF,I,3\nF,II,0\nM,II,10\n";
	static const char table1[] = "variable,n (%)\nage<40,\"3 (2.1%)\"\nage>=40,\"140 (97.9%)\"\n";

	run("t.csv", t);
	is_str(verdict("cells"), "fail", "a count of 3 and a zero in column n fail");
	is_int(result("cells")->n_locs, 2, "two cells flagged (10 is not below 10)");
	ok(loc_is("cells", 0, t, "3") && result("cells")->locs[0].line == 3 &&
	   result("cells")->locs[0].field == 3, "the 3 at line 3, field 3");
	ok(loc_is("cells", 1, t, "0") && result("cells")->locs[1].line == 4, "the zero at line 4");
	lim.zero_disclosive = 0;
	run("t.csv", t);
	is_int(result("cells")->n_locs, 1, "export_zero_disclosive no: only the 3");
	lim.min_cell = 3;
	run("t.csv", t);
	is_str(verdict("cells"), "pass", "export_min_cell 3: nothing below it");
	sr_export_limits_init(&lim);
	run("t1.csv", table1);
	is_str(verdict("cells"), "fail", "the n of an \"n (%%)\" cell counts");
	ok(loc_is("cells", 0, table1, "\"3 (2.1%)\""), "and is flagged whole");
	run("t.csv", "group,n\na,<10\nb,*\nc,-\nd,NA\ne,120\n");
	is_str(verdict("cells"), "pass", "suppressed cells (<10, *, -, NA) pass");
	run("t.tsv", "group\tcount\na\t5\n");
	is_str(verdict("cells"), "fail", "TSV tables too");
	run("t.csv", "\"group, label\",n\n\"a,\nb\",4\n");
	ok(result("cells")->n_locs == 1 && result("cells")->locs[0].field == 2 &&
	   result("cells")->locs[0].line == 3, "quoted commas and line breaks keep fields apart");
	run("t.csv", "\xef\xbb\xbfn,group\n4,a\n");
	is_str(verdict("cells"), "fail", "a byte order mark does not hide the header n");
	run("t.csv", "group,n\na,12.0\nb,4.0\n");
	is_str(verdict("cells"), "fail", "pandas-style 4.0 is a count");
}

static void
test_cells_columns(void)
{
	run("t.csv", "year,age,n\n2019,5,120\n2020,7,130\n");
	is_str(verdict("cells"), "pass", "year and age columns are not counts");
	run("t.csv", "group,mean,sd,pct,n\na,3,1,2,50\n");
	is_str(verdict("cells"), "pass", "statistics are not counts");
	run("t.csv", "group,value\na,4\nb,50\n");
	is_str(verdict("cells"), "review", "an unnamed whole-number column with a 4: review");
	is_str(sr_export_verdict_name(result("cells")->locs[0].verdict), "review",
	       "its location is review too");
	run("t.csv", "stage,2019,2020\nI,4,30\nII,40,31\n");
	is_str(verdict("cells"), "review", "a cross-table with years across the top: review");
	run("t.csv", "1,2,3\n4,5,6\n");
	is_str(verdict("cells"), "review", "no header: small numbers are for review");
	run("t.csv", "row,group\n1,a\n2,b\n3,c\n4,d\n");
	is_str(verdict("cells"), "pass", "a column 1, 2, 3, 4 is row numbers, not counts");
	run("t.csv", "patient_id,dx\n10023,C34\n10024,C50\n");
	is_str(verdict("cells"), "review", "an identifier column: review as row-level data");
	ok(strstr(result("cells")->message, "row-level") != NULL, "saying why: %s",
	   result("cells")->message);
	run("t.csv", "지역,연령,환자수\n서울,5,3\n부산,7,120\n");
	is_str(verdict("cells"), "fail", "Korean: 환자수 is a count column, 연령 is not");
	is_int(result("cells")->n_locs, 1, "only the 3 is flagged");
	run("t.csv", "시도,사망률,건수\n서울,3.2,45\n");
	is_str(verdict("cells"), "pass", "Korean: 사망률 is a rate, 건수 >= 10 passes");
	run("t.csv", "진단,환자 수(명)\n폐암,8\n");
	is_str(verdict("cells"), "fail", "Korean: 환자 수(명) is a count");
	run("notes.txt", "Three patients (n=3) had the event.\n");
	is_str(verdict("cells"), "review", "free text cannot be checked: review");
}

/* ---- identifiers ------------------------------------------------------------------------- */

static void
expect_ids(const char *text, const char *want_verdict, size_t n, const char *what)
{
	run("x.txt", text);
	ok(strcmp(verdict("identifiers"), want_verdict) == 0 && result("identifiers")->n_locs == n,
	   "%s: %s with %zu finding(s)", what, want_verdict, n);
	if (result("identifiers")->n_locs != n || strcmp(verdict("identifiers"), want_verdict))
		diag("got %s with %zu: %s", verdict("identifiers"), result("identifiers")->n_locs,
		     result("identifiers")->message);
}

static void
test_rrn(void)
{
	static const char korean[] = "환자 주민번호:800101-1234567입니다\n";

	expect_ids("id 800101-1234567\n", "fail", 1, "RRN with a hyphen");
	expect_ids("8001011234567\n", "fail", 1, "RRN without the hyphen");
	expect_ids("800101 1234567\n", "fail", 1, "RRN with a blank");
	expect_ids("800101-1234568\n", "fail", 1, "RRN with a wrong checksum (post-2020 numbers)");
	expect_ids("801301-1234567\n", "pass", 0, "month 13 is no date");
	expect_ids("800132-1234567\n", "pass", 0, "day 32 is no date");
	expect_ids("800431-1234567\n", "pass", 0, "31 April is no date");
	expect_ids("000229-3123456\n", "fail", 1, "29 Feb 2000 (leap) with G=3");
	expect_ids("000229-1123456\n", "pass", 0, "29 Feb 1900 is no date (1900 was not leap)");
	expect_ids("010229-3123456\n", "pass", 0, "29 Feb 2001 is no date");
	expect_ids("850615-5123456\n", "fail", 1, "foreigner, 1900s (G=5)");
	expect_ids("100615-8123456\n", "fail", 1, "foreigner, 2000s (G=8)");
	expect_ids("991231-3123456\n", "pass", 0, "born 2099 (G=3): after today, no date");
	expect_ids("260601-4123456\n", "fail", 1, "born today, 2026-06-01 (G=4)");
	expect_ids("260602-4123456\n", "pass", 0, "born tomorrow: no date of birth yet");
	expect_ids("850615-9123456\n", "review", 1, "G=9 (born 1800s): review");
	expect_ids("850615-0123456\n", "review", 1, "G=0 (born 1800s): review");
	expect_ids("18001011234567\n", "pass", 0, "14 digits are not an RRN");
	expect_ids("phone 28001011234567\n", "pass", 0, "nor part of a longer number");
	run("x.txt", korean);
	is_str(verdict("identifiers"), "fail", "an RRN between Korean words");
	ok(loc_is("identifiers", 0, korean, "800101-1234567"), "covering exactly the number");
	is_int(result("identifiers")->locs[0].column, 9, "at column 9 in characters, not bytes");
	expect_ids("８００１０１－１２３４５６７\n", "fail", 1, "full-width digits and hyphen");
}

static void
test_phones(void)
{
	static const char *const phones[] = {
		"010-1234-5678", "01012345678", "010 1234 5678", "010.1234.5678",
		"(010) 1234-5678", "+82 10-1234-5678", "+82-10-1234-5678", "+821012345678",
		"+82 (0)10 1234 5678", "82-10-1234-5678", "011-123-4567", "016-1234-5678",
		"０１０－１２３４－５６７８", "연락처:010-9876-5432번",
	};
	static const char *const not_phones[] = {
		"02-123-4567", "010-1234-567", "1010-1234-5678", "2010-12-31", "015-1234-5678",
		"01012345678901",
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(phones) / sizeof(phones[0]); i++) {
		snprintf(buf, sizeof(buf), "call %s today\n", phones[i]);
		expect_ids(buf, "fail", 1, phones[i]);
	}
	for (size_t i = 0; i < sizeof(not_phones) / sizeof(not_phones[0]); i++) {
		snprintf(buf, sizeof(buf), "see %s\n", not_phones[i]);
		expect_ids(buf, "pass", 0, not_phones[i]);
	}
}

static void
test_emails(void)
{
	static const char sentence[] = "Mail a.b@x.co.kr. Thanks\n";

	expect_ids("contact hong.gildong@snuh.org\n", "fail", 1, "an e-mail address");
	expect_ids("담당자: kim_01+tag@병원.한국 입니다\n", "fail", 1, "an address with a Korean domain");
	expect_ids("user@localhost\n", "pass", 0, "no dot in the domain");
	expect_ids("a@b.c\n", "pass", 0, "a one-letter top-level label");
	expect_ids("x@1.2.3.4\n", "pass", 0, "a numeric top-level label");
	expect_ids("@handle and foo@\n", "pass", 0, "a lone @");
	run("x.txt", sentence);
	ok(loc_is("identifiers", 0, sentence, "a.b@x.co.kr"), "the sentence's full stop is not in it");
}

static void
test_identifiers_table(void)
{
	static const char t[] = "name,phone,n\nA,010-1111-2222,12\nB,none,13\n";

	run("t.csv", t);
	is_str(verdict("identifiers"), "fail", "a phone number in a CSV cell");
	ok(result("identifiers")->locs[0].field == 2 && result("identifiers")->locs[0].line == 2,
	   "named by line 2, field 2");
	ok(loc_is("identifiers", 0, t, "010-1111-2222"), "covering the number only");
	run("t.csv", clean);
	is_str(verdict("identifiers"), "pass", "the clean table has none");
}

/* ---- rows ------------------------------------------------------------------------------- */

static void
test_rows(void)
{
	static const char leak[] = "id,age,dx\n2,61,C50 breast cancer left side\n";

	run("leak.csv", leak);
	is_str(verdict("rows"), "fail", "a dataset row copied into a CSV fails");
	ok(result("rows")->n_locs == 1 && result("rows")->locs[0].line == 2, "at line 2");
	ok(strstr(result("rows")->locs[0].what, "onc") != NULL, "naming the dataset: %s",
	   result("rows")->locs[0].what);
	run("leak.txt", "notes\r\n2,61,C50 breast cancer left side\r\n");
	is_str(verdict("rows"), "fail", "with CRLF line ends too");
	run("short.csv", "x\n1,54,C34\n");
	is_str(verdict("rows"), "review", "a matching row of 8 bytes may match by chance: review");
	run("short.txt", "yes\n");
	is_str(verdict("rows"), "review", "so may a one-word line");
	run("short.txt", "C34\nno\n");
	is_str(verdict("rows"), "pass", "lines that are no dataset row pass");
	run("t1.csv", clean);
	is_str(verdict("rows"), "pass", "the clean table copies no row");
}

/* ---- set-up ----------------------------------------------------------------------------- */

static int
setup(void)
{
	struct sr_policy_actor actor = { .user = "test", .source = "local" };
	struct sr_policy_project_spec spec = { .name = "onco", .drb_ref = "DRB-1",
					       .valid = { 0, 4102444800LL } };
	struct sr_policy_window always = { 0, 0 };
	struct sr_error err = { { 0 } };
	static char st[512];
	char data[512], file[600];
	FILE *f;

	/* A dataset may not lie inside the state directory: they are siblings. */
	snprintf(st, sizeof(st), "%s/state", dir);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(file, sizeof(file), "%s/patients.csv", data);
	state = st;
	if (mkdir(st, 0700) < 0 || mkdir(data, 0700) < 0 || (f = fopen(file, "w")) == NULL)
		return -1;
	fputs("id,age,dx\n1,54,C34\n2,61,C50 breast cancer left side\nyes\n", f);
	fclose(f);
	if (sr_policy_init_db(state, &err) < 0 ||
	    (pol = sr_policy_open(state, &actor, &err)) == NULL ||
	    sr_policy_dataset_add(pol, "onc", data, NULL, NULL, NULL, &err) < 0 ||
	    sr_policy_project_add(pol, &spec, &err) < 0 ||
	    sr_policy_project_grant(pol, "onco", "onc", &always, &err) < 0) {
		diag("setup: %s", err.msg);
		return -1;
	}
	return 0;
}

int
main(void)
{
	dir = tap_tmpdir("export-checks");
	sr_export_limits_init(&lim);
	if (setup() < 0) {
		printf("Bail out! set-up failed\n");
		tap_rm_rf(dir);
		return 1;
	}
	test_clean();
	test_filetype();
	test_caps();
	test_cells_counts();
	test_cells_columns();
	test_rrn();
	test_phones();
	test_emails();
	test_identifiers_table();
	test_rows();
	export_results_clear(res);
	sr_policy_free(pol);
	tap_rm_rf(dir);
	return done_testing();
}
