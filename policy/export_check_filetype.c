/*
 * export_check_filetype.c — is the file what its name says, and may that
 * kind of file leave?
 *
 * The extension must be on the export_file_types list, and the content must
 * agree with it, because a name is only a claim: a ".csv" that is really an
 * ELF binary, a ZIP archive (xlsx, a packed dataset) or an SQLite database
 * fails.  Text types must be UTF-8 without NUL bytes; control characters
 * other than tab and line ends are flagged for review (they could hide text
 * from a terminal).  Images and PDFs must carry their own signature, a PNG
 * may not carry data after its last chunk nor a ZIP inside it, and whatever
 * they show cannot be read by a program, so they are always "review", never
 * "pass" (DESIGN.md: nothing leaves without a human).
 *
 * The verdict here also tells the other checks whether they can read the
 * content (f->text).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "export_internal.h"

#define T_TEXT 1u
#define T_TABLE 2u

static const struct {
	const char *ext;
	unsigned flags;
	char delim;
	const char *what;
} types[] = {
	[EXPORT_CSV] = { "csv", T_TEXT | T_TABLE, ',', "CSV table" },
	[EXPORT_TSV] = { "tsv", T_TEXT | T_TABLE, '\t', "TSV table" },
	[EXPORT_TXT] = { "txt", T_TEXT, 0, "text" },
	[EXPORT_MD] = { "md", T_TEXT, 0, "Markdown text" },
	[EXPORT_JSON] = { "json", T_TEXT, 0, "JSON" },
	[EXPORT_LOG] = { "log", T_TEXT, 0, "log text" },
	[EXPORT_PNG] = { "png", 0, 0, "PNG image" },
	[EXPORT_JPG] = { "jpg", 0, 0, "JPEG image" },
	[EXPORT_SVG] = { "svg", T_TEXT, 0, "SVG image" },
	[EXPORT_PDF] = { "pdf", 0, 0, "PDF document" },
};

_Static_assert(sizeof(types) / sizeof(types[0]) == EXPORT_TYPE_UNKNOWN, "one entry per type");

/* Signatures of content that must never pass as text, and of the binary types. */
static const struct {
	const char *bytes;
	size_t len, at;
	const char *what;
} magics[] = {
	{ "\x7f" "ELF", 4, 0, "an ELF executable" },
	{ "PK\x03\x04", 4, 0, "a ZIP archive (or xlsx, docx, jar)" },
	{ "PK\x05\x06", 4, 0, "a ZIP archive" },
	{ "\x1f\x8b", 2, 0, "gzip-compressed data" },
	{ "\xfd" "7zXZ", 5, 0, "xz-compressed data" },
	{ "\x28\xb5\x2f\xfd", 4, 0, "zstd-compressed data" },
	{ "7z\xbc\xaf\x27\x1c", 6, 0, "a 7-Zip archive" },
	{ "Rar!\x1a\x07", 6, 0, "a RAR archive" },
	{ "%PDF-", 5, 0, "a PDF document" },
	{ "\x89PNG\r\n\x1a\n", 8, 0, "a PNG image" },
	{ "\xff\xd8\xff", 3, 0, "a JPEG image" },
	{ "GIF8", 4, 0, "a GIF image" },
	{ "SQLite format 3", 16, 0, "an SQLite database" },
	{ "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, 0, "an OLE2 document (xls, doc)" },
	{ "ustar", 5, 257, "a tar archive" },
	{ "PAR1", 4, 0, "a Parquet file" },
	{ "\x89HDF\r\n\x1a\n", 8, 0, "an HDF5 file" },
	{ "RDX2\n", 5, 0, "R data" },
	{ "RDX3\n", 5, 0, "R data" },
	{ "\x93NUMPY", 6, 0, "a NumPy array" },
	{ "\xca\xfe\xba\xbe", 4, 0, "a Java class or Mach-O binary" },
	{ "\xcf\xfa\xed\xfe", 4, 0, "a Mach-O binary" },
};

enum export_type
export_type_of(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == NULL || dot == base)
		return EXPORT_TYPE_UNKNOWN;
	if (strcasecmp(dot + 1, "jpeg") == 0)
		return EXPORT_JPG;
	for (int t = 0; t < EXPORT_TYPE_UNKNOWN; t++) {
		if (strcasecmp(dot + 1, types[t].ext) == 0)
			return (enum export_type)t;
	}
	return EXPORT_TYPE_UNKNOWN;
}

const char *
export_type_name(enum export_type t)
{
	return t < EXPORT_TYPE_UNKNOWN ? types[t].ext : "";
}

int
export_type_is_text(enum export_type t)
{
	return t < EXPORT_TYPE_UNKNOWN && (types[t].flags & T_TEXT) != 0;
}

char
export_type_delim(enum export_type t)
{
	return t < EXPORT_TYPE_UNKNOWN ? types[t].delim : 0;
}

/* 1 when the blank- or comma-separated LIST holds WORD. */
static int
list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (list != NULL && *list != '\0') {
		size_t len;

		list += strspn(list, " ,\t");
		len = strcspn(list, " ,\t");
		if (len == n && strncasecmp(list, word, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

int
export_type_allowed(const struct sr_export_limits *l, enum export_type t)
{
	return t < EXPORT_TYPE_UNKNOWN && list_has(l->file_types, types[t].ext);
}

/* The signature at the start of BUF, or NULL. */
static const char *
sniff(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		if (len >= magics[i].at + magics[i].len &&
		    memcmp(buf + magics[i].at, magics[i].bytes, magics[i].len) == 0)
			return magics[i].what;
	}
	return NULL;
}

static int
flag_at(struct export_file *f, struct export_result *r, size_t off, enum sr_export_verdict v,
	const char *what, struct sr_error *err)
{
	struct export_pos pos = { 0 };

	return export_result_add(r, f, &pos, off, 1, 0, v, what, err);
}

/* UTF-8 text without NUL; control characters other than tab, CR, LF, FF are for review. */
static int
check_text(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	const unsigned char *nul = memchr(f->buf, '\0', f->len);
	size_t bad, i;

	if (nul != NULL) {
		export_result_say(r, "binary content: a NUL byte in a .%s file",
				  export_type_name(f->type));
		return flag_at(f, r, (size_t)(nul - f->buf), SR_EXPORT_FAIL, "NUL byte", err);
	}
	if (!export_utf8_valid(f->buf, f->len, &bad)) {
		export_result_say(r, "not UTF-8 text: convert it first "
				  "(e.g. iconv -f cp949 -t utf-8)");
		return flag_at(f, r, bad, SR_EXPORT_FAIL, "invalid UTF-8", err);
	}
	f->text = 1;
	for (i = 0; i < f->len; i++) {
		unsigned char c = f->buf[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f)
			break;
	}
	export_result_say(r, "%s, UTF-8", types[f->type].what);
	if (i == f->len)
		return 0;
	export_result_say(r, "%s, UTF-8, with control characters that a "
			  "terminal would act on", types[f->type].what);
	return flag_at(f, r, i, SR_EXPORT_REVIEW, "control character", err);
}

static int
check_json(struct export_file *f, struct export_result *r)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	int ok;

	if (tok == NULL)
		return -1;
	obj = json_tokener_parse_ex(tok, (const char *)f->buf, (int)f->len);
	ok = obj != NULL && json_tokener_get_error(tok) == json_tokener_success;
	/* One value, then nothing but blanks. */
	for (size_t i = ok ? json_tokener_get_parse_end(tok) : f->len; i < f->len; i++)
		ok &= strchr(" \t\r\n", f->buf[i]) != NULL && f->buf[i] != '\0';
	json_object_put(obj);
	json_tokener_free(tok);
	if (!ok) {
		export_result_say(r, "a .json file that is not valid JSON");
		export_result_raise(r, SR_EXPORT_REVIEW);
	}
	return 0;
}

static int
check_svg(struct export_file *f, struct export_result *r)
{
	size_t n = f->len < 65536 ? f->len : 65536;

	if (memmem(f->buf, n, "<svg", 4) == NULL) {
		export_result_say(r, "content is not an SVG image");
		export_result_raise(r, SR_EXPORT_FAIL);
		return 0;
	}
	export_result_say(r, "SVG image: what it draws cannot be checked "
			  "automatically%s", memmem(f->buf, f->len, "<script", 7) != NULL ?
			  "; it contains a script" : "");
	export_result_raise(r, SR_EXPORT_REVIEW);
	return 0;
}

/* A PNG ends with its IEND chunk; anything after it is data hidden from viewers. */
static void
check_png_end(struct export_file *f, struct export_result *r)
{
	static const unsigned char iend[] = "IEND\xae\x42\x60\x82";

	if (f->len < 8 || memcmp(f->buf + f->len - 8, iend, 8) != 0) {
		export_result_say(r, "PNG image with data after its end: "
				  "data can hide there; save it again");
		export_result_raise(r, SR_EXPORT_FAIL);
	}
}

static int
check_binary(struct export_file *f, struct export_result *r)
{
	const char *is = sniff(f->buf, f->len);
	const char *want = f->type == EXPORT_PNG ? "a PNG image" :
			   f->type == EXPORT_JPG ? "a JPEG image" : "a PDF document";

	if (is == NULL || strcmp(is, want) != 0) {
		export_result_say(r, "content is %s, not %s",
				  is != NULL ? is : "not recognised", want);
		export_result_raise(r, SR_EXPORT_FAIL);
		return 0;
	}
	export_result_say(r, "%s: its content cannot be checked "
			  "automatically", types[f->type].what);
	export_result_raise(r, SR_EXPORT_REVIEW);
	if (f->type != EXPORT_PDF && (memmem(f->buf, f->len, "PK\x03\x04", 4) != NULL ||
				      memmem(f->buf, f->len, "PK\x05\x06", 4) != NULL)) {
		export_result_say(r, "%s with a ZIP archive inside it",
				  types[f->type].what);
		export_result_raise(r, SR_EXPORT_FAIL);
	} else if (f->type == EXPORT_PNG) {
		check_png_end(f, r);
	}
	return 0;
}

int
export_check_filetype(struct export_file *f, struct export_result *r, struct sr_error *err)
{
	const char *is;

	if (f->type == EXPORT_TYPE_UNKNOWN || !export_type_allowed(f->lim, f->type)) {
		export_result_say(r, "this type of file may not be exported "
				  "(allowed: %s)", f->lim->file_types);
		export_result_raise(r, SR_EXPORT_FAIL);
		return 0;
	}
	if (!export_type_is_text(f->type))
		return check_binary(f, r);
	is = sniff(f->buf, f->len);
	if (is != NULL) {
		export_result_say(r, "content is %s, not a .%s file", is,
				  export_type_name(f->type));
		export_result_raise(r, SR_EXPORT_FAIL);
		return 0;
	}
	if (check_text(f, r, err) < 0)
		return -1;
	if (!f->text)
		return 0;
	if (f->type == EXPORT_JSON && r->verdict == SR_EXPORT_PASS)
		return check_json(f, r) < 0 ? sr_error_set(err, "out of memory") : 0;
	if (f->type == EXPORT_SVG)
		return check_svg(f, r);
	return 0;
}
