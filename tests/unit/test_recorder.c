/*
 * test_recorder.c — asciicast v2 recordings stay valid JSON of valid UTF-8
 * whatever bytes a session produces.  Each case feeds hostile bytes through
 * the recorder, parses every line of the file back with json-c (strict, with
 * UTF-8 validation) and compares the decoded event data with what a correct
 * decoder must give: control characters intact, invalid UTF-8 as U+FFFD,
 * characters split across calls joined.  Also checks the header, the file's
 * mode, the SHA-256 close() returns, name checks, and that a failed write
 * breaks the recorder for good.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "saferoom/audit.h"
#include "tap.h"

#define FFFD "\xef\xbf\xbd"

static const char *dir;
static int dirfd_;
static int file_no;

/* ---- reading a recording back -------------------------------------------------- */

struct parsed {
	int lines_ok;            /* every line parsed and had the right shape */
	int times_ok;            /* times as D.DDDDDD and never decreasing */
	struct json_object *header;
	char data[3][1 << 18];   /* decoded "o", "i", "r" data, concatenated */
	size_t len[3];
	int events[3];
	double last_time;
};

static struct parsed P;

static char *
slurp(const char *name, size_t *len)
{
	char path[512], *buf;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		close(fd);
		free(buf);
		return NULL;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static struct json_object *
parse_line(const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj != NULL && json_tokener_get_parse_end(tok) != len) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* "12.345678, " exactly: six decimals, as asciinema writes them. */
static int
time_text_ok(const char *line)
{
	const char *p = line + 1;

	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '.')
		return 0;
	for (int i = 0; i < 6; i++, p++) {
		if (*p < '0' || *p > '9')
			return 0;
	}
	return p[0] == ',' && p[1] == ' ';
}

static int
take_event(const char *line, struct json_object *ev)
{
	struct json_object *t, *code, *data;
	const char *c;
	int k;

	if (!json_object_is_type(ev, json_type_array) || json_object_array_length(ev) != 3)
		return 0;
	t = json_object_array_get_idx(ev, 0);
	code = json_object_array_get_idx(ev, 1);
	data = json_object_array_get_idx(ev, 2);
	if (!json_object_is_type(t, json_type_double) ||
	    !json_object_is_type(code, json_type_string) ||
	    !json_object_is_type(data, json_type_string))
		return 0;
	c = json_object_get_string(code);
	k = strcmp(c, "o") == 0 ? 0 : strcmp(c, "i") == 0 ? 1 : strcmp(c, "r") == 0 ? 2 : -1;
	if (k < 0 || json_object_get_string_len(data) == 0)
		return 0;
	if (!time_text_ok(line) || json_object_get_double(t) < P.last_time)
		P.times_ok = 0;
	P.last_time = json_object_get_double(t);
	if (P.len[k] + (size_t)json_object_get_string_len(data) > sizeof(P.data[k]))
		return 0;
	memcpy(P.data[k] + P.len[k], json_object_get_string(data),
	       (size_t)json_object_get_string_len(data));
	P.len[k] += (size_t)json_object_get_string_len(data);
	P.events[k]++;
	return 1;
}

/* Parses the recording NAME into P. */
static void
parse_recording(const char *name)
{
	char *text, *line, *nl;
	struct json_object *obj;
	size_t len;

	json_object_put(P.header);
	memset(&P, 0, sizeof(P));
	P.times_ok = 1;
	text = slurp(name, &len);
	if (text == NULL || len == 0 || text[len - 1] != '\n')
		goto out;
	P.lines_ok = 1;
	for (line = text; line < text + len; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(text + len - line));
		obj = parse_line(line, (size_t)(nl - line));
		if (obj == NULL)
			P.lines_ok = 0;
		else if (line == text)
			P.header = json_object_get(obj);
		else if (!take_event(line, obj))
			P.lines_ok = 0;
		json_object_put(obj);
	}
	if (P.header == NULL)
		P.lines_ok = 0;
out:
	free(text);
}

static int
file_sha256(const char *name, unsigned char out[SR_AUDIT_HASH_LEN])
{
	unsigned int n = 0;
	size_t len;
	char *text = slurp(name, &len);
	int rc;

	if (text == NULL)
		return -1;
	rc = EVP_Digest(text, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
	free(text);
	return rc;
}

/* ---- the hostile-bytes table ---------------------------------------------------- */

struct chunk {
	char stream;        /* 'o' or 'i' */
	const char *bytes;
	size_t len;
};

#define O(s) { 'o', s, sizeof(s) - 1 }
#define I(s) { 'i', s, sizeof(s) - 1 }
#define WANT(s) s, sizeof(s) - 1

struct bytes_case {
	const char *what;
	struct chunk chunks[5];
	const char *want_o;
	size_t want_o_len;
	const char *want_i;
	size_t want_i_len;
};

static const struct bytes_case cases[] = {
	{ "plain ASCII", { O("hello, world") }, WANT("hello, world"), WANT("") },
	{ "quote and backslash", { O("say \"hi\" \\ bye") }, WANT("say \"hi\" \\ bye"), WANT("") },
	{ "NUL and every short escape", { O("a\0b\b\f\n\r\t/") },
	  WANT("a\0b\b\f\n\r\t/"), WANT("") },
	{ "ESC sequences and DEL", { O("\x1b[31mred\x1b[0m\x7f\x01\x1f") },
	  WANT("\x1b[31mred\x1b[0m\x7f\x01\x1f"), WANT("") },
	{ "OSC 52 clipboard write", { O("\x1b]52;c;SGVsbG8=\x07") },
	  WANT("\x1b]52;c;SGVsbG8=\x07"), WANT("") },
	{ "Korean text", { O("안녕하세요, 한국어 분석 환경입니다.\r\n") },
	  WANT("안녕하세요, 한국어 분석 환경입니다.\r\n"), WANT("") },
	{ "Hangul split after the lead byte", { O("\xec"), O("\x95\x88") }, WANT("안"), WANT("") },
	{ "Hangul split in the middle", { O("x\xec\x95"), O("\x88y") }, WANT("x안y"), WANT("") },
	{ "4-byte character split over four calls",
	  { O("\xf0"), O("\x9f"), O("\x98"), O("\x80") }, WANT("\xf0\x9f\x98\x80"), WANT("") },
	{ "streams keep separate carries",
	  { O("\xec\x95"), I("\xed\x95"), I("\x9c"), O("\x88") }, WANT("안"), WANT("한") },
	{ "stray continuation byte", { O("a\x80" "b") }, WANT("a" FFFD "b"), WANT("") },
	{ "overlong 2-byte", { O("\xc0\xaf") }, WANT(FFFD FFFD), WANT("") },
	{ "overlong 3-byte", { O("\xe0\x80\xaf") }, WANT(FFFD FFFD FFFD), WANT("") },
	{ "overlong 4-byte", { O("\xf0\x80\x80\xaf") }, WANT(FFFD FFFD FFFD FFFD), WANT("") },
	{ "UTF-8 encoded surrogate", { O("\xed\xa0\x80") }, WANT(FFFD FFFD FFFD), WANT("") },
	{ "above U+10FFFF", { O("\xf4\x90\x80\x80|\xf5\x80|\xff") },
	  WANT(FFFD FFFD FFFD FFFD "|" FFFD FFFD "|" FFFD), WANT("") },
	{ "truncated sequence then ASCII", { O("\xe4\xbd" "a") }, WANT(FFFD "a"), WANT("") },
	{ "truncated across calls", { O("\xec\x95"), O("x") }, WANT(FFFD "x"), WANT("") },
	{ "split then invalid lead", { O("\xec"), O("\xec\x95\x88") }, WANT(FFFD "안"), WANT("") },
	{ "pending half at close", { O("ab\xec\x95") }, WANT("ab" FFFD), WANT("") },
	{ "pending half of input at close", { I("q\xf0\x9f") }, WANT(""), WANT("q" FFFD) },
	{ "Latin-1 is not UTF-8", { O("caf\xe9!") }, WANT("caf" FFFD "!"), WANT("") },
	{ "boundaries that are valid",
	  { O("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"),
	    O("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf") },
	  WANT("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
	       "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), WANT("") },
	{ "input keystrokes", { I("ls -l\r"), I("\x03"), I("\x1b[A") },
	  WANT(""), WANT("ls -l\r\x03\x1b[A") },
};

static char *
next_name(void)
{
	static char name[64];

	snprintf(name, sizeof(name), "rec%d.cast", ++file_no);
	return name;
}

static int
feed(struct sr_recorder *rec, char stream, const void *buf, size_t len, struct sr_error *err)
{
	if (stream == 'i')
		return sr_recorder_input(rec, buf, len, err);
	return sr_recorder_output(rec, buf, len, err);
}

static void
check_sha(const char *name, const unsigned char got[SR_AUDIT_HASH_LEN], const char *what)
{
	unsigned char want[SR_AUDIT_HASH_LEN];

	ok(file_sha256(name, want) == 0 && memcmp(got, want, sizeof(want)) == 0,
	   "%s: close() returns the SHA-256 of the file", what);
}

static void
run_case(const struct bytes_case *c)
{
	unsigned char sha[SR_AUDIT_HASH_LEN];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	const char *name = next_name();
	int failed = 0;
	size_t i;

	rec = sr_recorder_new(dirfd_, name, 80, 24, "xterm-256color", 0, &err);
	if (rec == NULL) {
		ok(0, "%s: new (%s)", c->what, err.msg);
		return;
	}
	for (i = 0; i < 5 && c->chunks[i].bytes != NULL; i++)
		failed |= feed(rec, c->chunks[i].stream, c->chunks[i].bytes, c->chunks[i].len,
			       &err) < 0;
	failed |= sr_recorder_close(rec, sha, &err) < 0;
	if (failed) {
		ok(0, "%s: recording (%s)", c->what, err.msg);
		return;
	}
	parse_recording(name);
	ok(P.lines_ok && P.times_ok, "%s: every line is strict JSON of valid UTF-8", c->what);
	ok(P.len[0] == c->want_o_len && memcmp(P.data[0], c->want_o, P.len[0]) == 0,
	   "%s: output decodes to the expected text", c->what);
	ok(P.len[1] == c->want_i_len && memcmp(P.data[1], c->want_i, P.len[1]) == 0,
	   "%s: input decodes to the expected text", c->what);
	check_sha(name, sha, c->what);
}

/* ---- further cases -------------------------------------------------------------- */

/* All 256 byte values in one call: ASCII intact, each of 0x80..0xff one U+FFFD. */
static void
test_every_byte(void)
{
	unsigned char sha[SR_AUDIT_HASH_LEN], in[256];
	char want[128 + 128 * 3];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	const char *name = next_name();
	int i, rc;

	for (i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	for (i = 0; i < 128; i++)
		want[i] = (char)i;
	for (i = 0; i < 128; i++)
		memcpy(want + 128 + 3 * i, FFFD, 3);
	rec = sr_recorder_new(dirfd_, name, 80, 24, NULL, 0, &err);
	rc = rec ? sr_recorder_output(rec, in, sizeof(in), &err) : -1;
	rc |= rec ? sr_recorder_close(rec, sha, &err) : -1;
	ok(rc == 0, "every byte value records (%s)", err.msg);
	parse_recording(name);
	ok(P.lines_ok, "every byte value: strict JSON of valid UTF-8");
	ok(P.len[0] == sizeof(want) && memcmp(P.data[0], want, sizeof(want)) == 0,
	   "every byte value: ASCII kept, 128 replacement characters");
	check_sha(name, sha, "every byte value");
}

/*
 * Korean text cut at every possible place and fed in pieces bigger than the
 * recorder's buffer: joining must work across calls and across flushes.
 */
static void
test_long_korean(void)
{
	static const char line[] = "환자 데이터는 반출 심사 후에만 나갑니다. ";
	unsigned char sha[SR_AUDIT_HASH_LEN];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	const char *name = next_name();
	size_t len = 0, off = 0, n, step = 1;
	char *text;
	int rc = 0;

	text = malloc(100000);
	while (len + sizeof(line) < 100000) {
		memcpy(text + len, line, sizeof(line) - 1);
		len += sizeof(line) - 1;
	}
	rec = sr_recorder_new(dirfd_, name, 120, 40, "xterm", 0, &err);
	if (rec == NULL) {
		ok(0, "long Korean: new (%s)", err.msg);
		free(text);
		return;
	}
	while (off < len && rc == 0) {
		n = step < len - off ? step : len - off;
		rc = sr_recorder_output(rec, text + off, n, &err);
		off += n;
		step = step * 7 % 40009 + 1;   /* 1, 8, 57, ... odd sizes up to ~40 KB */
	}
	rc |= sr_recorder_close(rec, sha, &err);
	ok(rc == 0, "long Korean in odd pieces records (%s)", err.msg);
	parse_recording(name);
	ok(P.lines_ok, "long Korean: strict JSON of valid UTF-8");
	ok(P.len[0] == len && memcmp(P.data[0], text, len) == 0,
	   "long Korean survives byte for byte (%zu bytes)", len);
	check_sha(name, sha, "long Korean");
	free(text);
}

static void
test_header_and_resize(void)
{
	unsigned char sha[SR_AUDIT_HASH_LEN];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	struct json_object *env, *v;
	const char *name = next_name();
	struct timespec pause = { 0, 30 * 1000 * 1000 };
	char path[512];
	struct stat st;
	int rc;

	rec = sr_recorder_new(dirfd_, name, 132, 43, "xterm\x1b[2J\xff", 1790000123456LL, &err);
	if (rec == NULL) {
		ok(0, "header: new (%s)", err.msg);
		return;
	}
	rc = sr_recorder_output(rec, "$ ", 2, &err);
	nanosleep(&pause, NULL);
	rc |= sr_recorder_resize(rec, 200, 50, &err);
	rc |= sr_recorder_output(rec, "", 0, &err);
	rc |= sr_recorder_close(rec, sha, &err);
	ok(rc == 0, "header case records (%s)", err.msg);
	parse_recording(name);
	ok(P.lines_ok && P.times_ok, "header case: every line parses, times rise");
	is_int(json_object_get_int(json_object_object_get(P.header, "version")), 2, "version 2");
	is_int(json_object_get_int(json_object_object_get(P.header, "width")), 132, "width");
	is_int(json_object_get_int(json_object_object_get(P.header, "height")), 43, "height");
	is_int(json_object_get_int64(json_object_object_get(P.header, "timestamp")),
	       1790000123LL, "timestamp is start_ms in whole seconds");
	env = json_object_object_get(P.header, "env");
	is_str(json_object_get_string(json_object_object_get(env, "TERM")), "xterm?[2J?",
	       "a hostile TERM is reduced to printable ASCII");
	is_str(json_object_get_string(json_object_object_get(env, "SHELL")), "/bin/bash",
	       "SHELL is in env");
	is_int(P.events[2], 1, "one resize event");
	ok(P.len[2] == 6 && memcmp(P.data[2], "200x50", 6) == 0, "resize data is COLSxROWS");
	is_int(P.events[0], 1, "an empty write makes no event");
	ok(P.last_time >= 0.03, "event times come from the clock since new() (%.6f)",
	   P.last_time);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "the recording is mode 0600");

	name = next_name();
	rec = sr_recorder_new(dirfd_, name, 80, 24, NULL, 0, &err);
	rc = rec ? sr_recorder_close(rec, sha, &err) : -1;
	parse_recording(name);
	env = json_object_object_get(P.header, "env");
	ok(rc == 0 && P.lines_ok && !json_object_object_get_ex(env, "TERM", &v),
	   "no TERM: env has no TERM");
	check_sha(name, sha, "header only");
}

static void
test_refusals(void)
{
	static const char *const bad_names[] = { "", "a/b", ".", "..", "../x", "/etc/passwd" };
	unsigned char sha[SR_AUDIT_HASH_LEN];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	const char *name;
	char target[512];
	size_t i;

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		rec = sr_recorder_new(dirfd_, bad_names[i], 80, 24, NULL, 0, &err);
		ok(rec == NULL && strstr(err.msg, "file name") != NULL,
		   "name \"%s\" is refused (%s)", bad_names[i], err.msg);
		sr_recorder_free(rec);
	}
	rec = sr_recorder_new(dirfd_, "size.cast", 0, 24, NULL, 0, &err);
	ok(rec == NULL && strstr(err.msg, "terminal size") != NULL, "width 0 is refused");
	sr_recorder_free(rec);

	name = next_name();
	rec = sr_recorder_new(dirfd_, name, 80, 24, NULL, 0, &err);
	ok(rec != NULL && sr_recorder_close(rec, sha, &err) == 0, "a recording is made");
	rec = sr_recorder_new(dirfd_, name, 80, 24, NULL, 0, &err);
	ok(rec == NULL && strstr(err.msg, "File exists") != NULL,
	   "an existing recording is never overwritten (%s)", err.msg);
	sr_recorder_free(rec);

	snprintf(target, sizeof(target), "%s/target", dir);
	ok(symlinkat(target, dirfd_, "link.cast") == 0, "made a symlink");
	rec = sr_recorder_new(dirfd_, "link.cast", 80, 24, NULL, 0, &err);
	ok(rec == NULL && access(target, F_OK) < 0, "a symlink is not followed (%s)", err.msg);
	sr_recorder_free(rec);
	sr_recorder_free(NULL);
	ok(1, "sr_recorder_free(NULL) is a no-op");
}

/*
 * A write that fails (here: past RLIMIT_FSIZE) must be reported, and the
 * recorder must refuse everything after it, so that the session ends.
 */
static void
test_write_failure(void)
{
	unsigned char sha[SR_AUDIT_HASH_LEN];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	struct rlimit old, small;
	char big[4096];
	int i, rc = 0;

	memset(big, 'x', sizeof(big));
	signal(SIGXFSZ, SIG_IGN);
	rec = sr_recorder_new(dirfd_, next_name(), 80, 24, NULL, 0, &err);
	if (rec == NULL || getrlimit(RLIMIT_FSIZE, &old) < 0) {
		ok(0, "set up the write-failure case (%s)", err.msg);
		sr_recorder_free(rec);
		return;
	}
	small = old;
	small.rlim_cur = 8192;
	if (setrlimit(RLIMIT_FSIZE, &small) < 0) {
		ok(0, "setrlimit");
		sr_recorder_free(rec);
		return;
	}
	for (i = 0; i < 64 && rc == 0; i++)
		rc = sr_recorder_output(rec, big, sizeof(big), &err);
	ok(rc < 0 && strstr(err.msg, "write") != NULL, "a failed write is reported (%s)",
	   err.msg);
	rc = sr_recorder_output(rec, "x", 1, &err);
	ok(rc < 0 && strstr(err.msg, "earlier write failed") != NULL,
	   "the recorder refuses more output after it (%s)", err.msg);
	rc = sr_recorder_resize(rec, 80, 24, &err);
	ok(rc < 0, "and resizes");
	ok(sr_recorder_close(rec, sha, &err) < 0, "and close() fails rather than hash a torn file");
	setrlimit(RLIMIT_FSIZE, &old);
}

int
main(void)
{
	size_t i;

	dir = tap_tmpdir("recorder");
	dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0) {
		printf("Bail out! open %s\n", dir);
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_every_byte();
	test_long_korean();
	test_header_and_resize();
	test_refusals();
	test_write_failure();
	json_object_put(P.header);
	close(dirfd_);
	tap_rm_rf(dir);
	return done_testing();
}
