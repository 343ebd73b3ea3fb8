/*
 * recorder.c — session recordings in asciicast v2, written as they happen.
 *
 * The monitor feeds every byte of a session's terminal through here: output
 * ("o"), input ("i") and resizes ("r").  A recording is evidence, so it must
 * stay readable whatever a researcher types or prints: each event's data is
 * emitted as a JSON string of valid UTF-8 whatever the input bytes were.
 * Control characters are escaped, invalid UTF-8 becomes U+FFFD (one per
 * maximal ill-formed subpart, as Unicode recommends), and a character whose
 * bytes arrive split across two reads of the same stream is joined rather
 * than mangled, because each stream keeps its own small decoder state.
 *
 * The file is written through our own buffer straight to the fd, checking
 * every write, and hashed (SHA-256) over exactly the bytes that reached
 * write(2), so that close() can hand the audit chain the hash of the file
 * without reading it back.  A failed write breaks the recorder for good:
 * the caller must end the session (fail closed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "saferoom/audit.h"

#define REC_BUF_SIZE 16384
/* TERM comes from the client; keep what a terminal name can reasonably be. */
#define REC_TERM_MAX 64
#define REC_DIM_MAX 65535

enum { STREAM_OUT, STREAM_IN, N_STREAMS };

/* A UTF-8 sequence in progress on one stream. */
struct utf8_state {
	unsigned char seq[4];
	int have;               /* bytes collected in seq */
	int need;               /* continuation bytes still to come */
	unsigned char lo, hi;   /* range the next byte must fall in */
};

struct sr_recorder {
	int fd;
	int broken;                     /* a write failed: nothing more goes out */
	EVP_MD_CTX *md;                 /* over every byte written so far */
	struct timespec start;          /* CLOCK_MONOTONIC at new() */
	struct utf8_state dec[N_STREAMS];
	size_t used;
	unsigned char buf[REC_BUF_SIZE];
};

/* One event being written: the event's prefix goes out only once it has data. */
struct event {
	struct sr_recorder *rec;
	char code;
	char time[32];
	int open;
	struct sr_error *err;
};

/* ---- the file ------------------------------------------------------------------ */

/* Writes the buffer out, hashing exactly what write(2) accepted. */
static int
rec_flush(struct sr_recorder *rec, struct sr_error *err)
{
	size_t done = 0;
	ssize_t n;

	while (done < rec->used) {
		n = write(rec->fd, rec->buf + done, rec->used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rec->broken = 1;
			if (n == 0)
				errno = EIO;
			return sr_error_errno(err, "recording: write");
		}
		if (EVP_DigestUpdate(rec->md, rec->buf + done, (size_t)n) != 1) {
			rec->broken = 1;
			return sr_error_set(err, "recording: SHA-256 update failed");
		}
		done += (size_t)n;
	}
	rec->used = 0;
	return 0;
}

static int
rec_put(struct sr_recorder *rec, const void *data, size_t len, struct sr_error *err)
{
	const unsigned char *p = data;
	size_t n;

	while (len > 0) {
		if (rec->used == sizeof(rec->buf) && rec_flush(rec, err) < 0)
			return -1;
		n = sizeof(rec->buf) - rec->used;
		if (n > len)
			n = len;
		memcpy(rec->buf + rec->used, p, n);
		rec->used += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int
rec_puts(struct sr_recorder *rec, const char *s, struct sr_error *err)
{
	return rec_put(rec, s, strlen(s), err);
}

/* Seconds since new() with six decimals, from integers so no locale intrudes. */
static void
elapsed(const struct sr_recorder *rec, char *out, size_t outlen)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(now.tv_sec - rec->start.tv_sec) * 1000000000 +
	     (now.tv_nsec - rec->start.tv_nsec);
	if (ns < 0)
		ns = 0;
	snprintf(out, outlen, "%" PRId64 ".%06" PRId64, ns / 1000000000,
		 (ns % 1000000000) / 1000);
}

/* ---- events ---------------------------------------------------------------------- */

static void
event_init(struct event *ev, struct sr_recorder *rec, char code, struct sr_error *err)
{
	ev->rec = rec;
	ev->code = code;
	ev->open = 0;
	ev->err = err;
	elapsed(rec, ev->time, sizeof(ev->time));
}

/* Data for the event; the first call writes `[TIME, "C", "`. */
static int
event_data(struct event *ev, const void *data, size_t len)
{
	char head[64];

	if (!ev->open) {
		snprintf(head, sizeof(head), "[%s, \"%c\", \"", ev->time, ev->code);
		if (rec_puts(ev->rec, head, ev->err) < 0)
			return -1;
		ev->open = 1;
	}
	return rec_put(ev->rec, data, len, ev->err);
}

/* Closes the event if anything was written; an event with no data is left out. */
static int
event_end(struct event *ev)
{
	if (!ev->open)
		return 0;
	return rec_puts(ev->rec, "\"]\n", ev->err);
}

/* One ASCII byte as JSON string content: short escapes where JSON has them. */
static int
emit_ascii(struct event *ev, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '"':  return event_data(ev, "\\\"", 2);
	case '\\': return event_data(ev, "\\\\", 2);
	case '\b': return event_data(ev, "\\b", 2);
	case '\f': return event_data(ev, "\\f", 2);
	case '\n': return event_data(ev, "\\n", 2);
	case '\r': return event_data(ev, "\\r", 2);
	case '\t': return event_data(ev, "\\t", 2);
	}
	if (c >= 0x20 && c != 0x7f)
		return event_data(ev, &c, 1);
	/* NUL, ESC and DEL escaped, so that no reader's terminal gets them raw. */
	snprintf(esc, sizeof(esc), "\\u%04x", c);
	return event_data(ev, esc, 6);
}

static int
emit_replacement(struct event *ev)
{
	return event_data(ev, "\xef\xbf\xbd", 3);
}

/* ---- UTF-8 --------------------------------------------------------------------- */

/*
 * Starts a sequence at lead byte c; 0 when c cannot start one.  The ranges
 * of the second byte exclude overlongs (E0, F0), surrogates (ED) and code
 * points above U+10FFFF (F4), per the table in Unicode §3.9.
 */
static int
utf8_start(struct utf8_state *st, unsigned char c)
{
	st->lo = 0x80;
	st->hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		st->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		st->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		st->need = 3;
	else
		return 0;
	if (c == 0xe0)
		st->lo = 0xa0;
	else if (c == 0xed)
		st->hi = 0x9f;
	else if (c == 0xf0)
		st->lo = 0x90;
	else if (c == 0xf4)
		st->hi = 0x8f;
	st->seq[0] = c;
	st->have = 1;
	return 1;
}

static void
utf8_reset(struct utf8_state *st)
{
	st->have = 0;
	st->need = 0;
}

/* Feeds one byte of a stream through its decoder into the event. */
static int
utf8_feed(struct utf8_state *st, unsigned char c, struct event *ev)
{
	size_t n;

	if (st->need > 0 && (c < st->lo || c > st->hi)) {
		/* The sequence so far is ill-formed; c itself is judged afresh. */
		utf8_reset(st);
		if (emit_replacement(ev) < 0)
			return -1;
	}
	if (st->need == 0) {
		if (c < 0x80)
			return emit_ascii(ev, c);
		if (!utf8_start(st, c))
			return emit_replacement(ev);
		return 0;
	}
	st->seq[st->have++] = c;
	st->lo = 0x80;
	st->hi = 0xbf;
	if (--st->need > 0)
		return 0;
	n = (size_t)st->have;
	utf8_reset(st);
	return event_data(ev, st->seq, n);
}

/* Bytes at P that JSON takes as they are (printable ASCII but " and \\). */
static size_t
plain_run(const unsigned char *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' && p[n] != '\\')
		n++;
	return n;
}

static int
record_bytes(struct sr_recorder *rec, int stream, char code, const void *buf, size_t len,
	     struct sr_error *err)
{
	const unsigned char *p = buf;
	struct event ev;
	size_t i = 0, run;

	if (rec->broken)
		return sr_error_set(err, "recording: an earlier write failed");
	event_init(&ev, rec, code, err);
	while (i < len) {
		/*
		 * Outside a UTF-8 sequence, a run of plain text is copied in one
		 * go: byte by byte it was most of a session's recording cost.
		 */
		run = rec->dec[stream].need == 0 ? plain_run(p + i, len - i) : 0;
		if (run > 0) {
			if (event_data(&ev, p + i, run) < 0)
				return -1;
			i += run;
			continue;
		}
		if (utf8_feed(&rec->dec[stream], p[i++], &ev) < 0)
			return -1;
	}
	return event_end(&ev);
}

/* A sequence cut short by the end of the session is one U+FFFD. */
static int
flush_pending(struct sr_recorder *rec, int stream, char code, struct sr_error *err)
{
	struct event ev;

	if (rec->dec[stream].have == 0)
		return 0;
	utf8_reset(&rec->dec[stream]);
	event_init(&ev, rec, code, err);
	if (emit_replacement(&ev) < 0)
		return -1;
	return event_end(&ev);
}

int
sr_recorder_output(struct sr_recorder *rec, const void *buf, size_t len, struct sr_error *err)
{
	return record_bytes(rec, STREAM_OUT, 'o', buf, len, err);
}

int
sr_recorder_input(struct sr_recorder *rec, const void *buf, size_t len, struct sr_error *err)
{
	return record_bytes(rec, STREAM_IN, 'i', buf, len, err);
}

int
sr_recorder_resize(struct sr_recorder *rec, int width, int height, struct sr_error *err)
{
	struct event ev;
	char size[32];

	if (rec->broken)
		return sr_error_set(err, "recording: an earlier write failed");
	/* Recorded as the client sent it, 0 included; only nonsense is refused. */
	if (width < 0 || height < 0 || width > REC_DIM_MAX || height > REC_DIM_MAX)
		return sr_error_set(err, "recording: bad terminal size %dx%d", width, height);
	snprintf(size, sizeof(size), "%dx%d", width, height);
	event_init(&ev, rec, 'r', err);
	if (event_data(&ev, size, strlen(size)) < 0)
		return -1;
	return event_end(&ev);
}

/* ---- open and close ------------------------------------------------------------- */

/* A single entry of the recordings directory: nothing that could walk out of it. */
static int
check_name(const char *name, struct sr_error *err)
{
	if (name == NULL || name[0] == '\0')
		return sr_error_set(err, "recording: empty file name");
	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return sr_error_set(err, "recording: \"%s\" is not a plain file name", name);
	if (strlen(name) > NAME_MAX)
		return sr_error_set(err, "recording: file name longer than %d bytes", NAME_MAX);
	return 0;
}

/* TERM as printable ASCII, so that json-c cannot be handed invalid UTF-8. */
static void
clean_term(const char *term, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; term[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (term[i] >= 0x20 && term[i] < 0x7f) ? term[i] : '?';
	out[i] = '\0';
}

static struct json_object *
header_object(int width, int height, const char *term, int64_t start_ms)
{
	struct json_object *h, *env;
	char clean[REC_TERM_MAX + 1];

	h = json_object_new_object();
	env = json_object_new_object();
	if (h == NULL || env == NULL)
		goto out_fail;
	if (term != NULL) {
		clean_term(term, clean, sizeof(clean));
		if (json_object_object_add(env, "TERM", json_object_new_string(clean)) < 0)
			goto out_fail;
	}
	if (json_object_object_add(env, "SHELL", json_object_new_string("/bin/bash")) < 0 ||
	    json_object_object_add(h, "version", json_object_new_int(2)) < 0 ||
	    json_object_object_add(h, "width", json_object_new_int(width)) < 0 ||
	    json_object_object_add(h, "height", json_object_new_int(height)) < 0 ||
	    json_object_object_add(h, "timestamp",
				   json_object_new_int64(start_ms / 1000)) < 0)
		goto out_fail;
	if (json_object_object_add(h, "env", env) < 0)
		goto out_fail;
	return h;

out_fail:
	json_object_put(env);
	json_object_put(h);
	return NULL;
}

static int
write_header(struct sr_recorder *rec, int width, int height, const char *term,
	     int64_t start_ms, struct sr_error *err)
{
	struct json_object *h;
	const char *text;
	int rc = -1;

	h = header_object(width, height, term, start_ms);
	if (h == NULL)
		return sr_error_set(err, "recording: cannot build the header (out of memory)");
	text = json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		sr_error_set(err, "recording: cannot format the header");
		goto out;
	}
	if (rec_puts(rec, text, err) < 0 || rec_puts(rec, "\n", err) < 0)
		goto out;
	rc = 0;
out:
	json_object_put(h);
	return rc;
}

/* Makes the new directory entry durable, so a crash cannot lose the file itself. */
static int
sync_dir(int dirfd, struct sr_error *err)
{
	int fd, rc = 0;

	/* Through ".", so that an O_PATH dirfd or AT_FDCWD works too. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sr_error_errno(err, "recording: open directory");
	if (fsync(fd) < 0)
		rc = sr_error_errno(err, "recording: fsync directory");
	close(fd);
	return rc;
}

static int
check_args(const char *name, int width, int height, struct sr_error *err)
{
	if (check_name(name, err) < 0)
		return -1;
	if (width < 1 || height < 1 || width > REC_DIM_MAX || height > REC_DIM_MAX)
		return sr_error_set(err, "recording: bad terminal size %dx%d", width, height);
	return 0;
}

struct sr_recorder *
sr_recorder_new(int dirfd, const char *name, int width, int height, const char *term,
		int64_t start_ms, struct sr_error *err)
{
	struct sr_recorder *rec;

	if (check_args(name, width, height, err) < 0)
		return NULL;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL) {
		sr_error_errno(err, "recording: calloc");
		return NULL;
	}
	rec->fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &rec->start);
	rec->md = EVP_MD_CTX_new();
	if (rec->md == NULL || EVP_DigestInit_ex(rec->md, EVP_sha256(), NULL) != 1) {
		sr_error_set(err, "recording: cannot set up SHA-256");
		goto out_free;
	}
	rec->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			 0600);
	if (rec->fd < 0) {
		sr_error_errno(err, "recording: create %s", name);
		goto out_free;
	}
	if (write_header(rec, width, height, term, start_ms, err) < 0 ||
	    rec_flush(rec, err) < 0 || sync_dir(dirfd, err) < 0)
		goto out_unlink;
	return rec;

out_unlink:
	/* A recording without its header is no recording; leave no half file behind. */
	unlinkat(dirfd, name, 0);
out_free:
	sr_recorder_free(rec);
	return NULL;
}

/*
 * Ends the recording: pending halves of characters become U+FFFD, the buffer
 * is written, the file fsynced and closed, and sha256 gets the hash of every
 * byte in it.  rec is freed whatever happens, like fclose().
 */
int
sr_recorder_close(struct sr_recorder *rec, unsigned char sha256[SR_AUDIT_HASH_LEN],
		  struct sr_error *err)
{
	unsigned int len = 0;
	int rc = -1, fd;

	if (rec == NULL)
		return sr_error_set(err, "recording: not open");
	if (rec->broken) {
		sr_error_set(err, "recording: an earlier write failed");
		goto out;
	}
	if (flush_pending(rec, STREAM_OUT, 'o', err) < 0 ||
	    flush_pending(rec, STREAM_IN, 'i', err) < 0 || rec_flush(rec, err) < 0)
		goto out;
	if (fsync(rec->fd) < 0) {
		sr_error_errno(err, "recording: fsync");
		goto out;
	}
	fd = rec->fd;
	rec->fd = -1;
	if (close(fd) < 0) {
		sr_error_errno(err, "recording: close");
		goto out;
	}
	if (EVP_DigestFinal_ex(rec->md, sha256, &len) != 1 || len != SR_AUDIT_HASH_LEN) {
		sr_error_set(err, "recording: SHA-256 final failed");
		goto out;
	}
	rc = 0;
out:
	sr_recorder_free(rec);
	return rc;
}

void
sr_recorder_free(struct sr_recorder *rec)
{
	if (rec == NULL)
		return;
	if (rec->fd >= 0)
		close(rec->fd);
	EVP_MD_CTX_free(rec->md);
	free(rec);
}
