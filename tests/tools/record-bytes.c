/*
 * record-bytes.c — records a session's worth of hostile bytes with the real
 * recorder, so that tests/cli/recorder_asciinema.sh can hand the file to the
 * real asciinema and to Python's json module.
 *
 *   record-bytes DIR NAME
 *
 * Writes DIR/NAME and prints the SHA-256 that sr_recorder_close() returned.
 * The bytes: every byte value, terminal escape sequences (CSI, OSC title,
 * OSC 52 clipboard, DCS), Korean text split mid-character, NUL and control
 * keys on input, a resize, and 256 KiB of pseudo-random bytes in
 * pseudo-random pieces on both streams from a fixed seed, so a failure can
 * be reproduced.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saferoom/audit.h"

static uint64_t seed = 0x5afe2007c0ffee11ULL;

/* xorshift64: the same bytes on every machine, unlike rand(). */
static uint64_t
next_random(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void
die(const char *what, const struct sr_error *err)
{
	fprintf(stderr, "record-bytes: %s: %s\n", what, sr_error_msg(err));
	exit(1);
}

static void
out(struct sr_recorder *rec, const char *s, size_t len)
{
	struct sr_error err = { "" };

	if (sr_recorder_output(rec, s, len, &err) < 0)
		die("output", &err);
}

static void
in(struct sr_recorder *rec, const char *s, size_t len)
{
	struct sr_error err = { "" };

	if (sr_recorder_input(rec, s, len, &err) < 0)
		die("input", &err);
}

#define OUT(s) out(rec, s, sizeof(s) - 1)
#define IN(s) in(rec, s, sizeof(s) - 1)

static void
record_fixed(struct sr_recorder *rec)
{
	struct sr_error err = { "" };
	char every[256];
	int i;

	for (i = 0; i < 256; i++)
		every[i] = (char)i;
	out(rec, every, sizeof(every));
	IN("ls -l\r");
	OUT("\x1b[2J\x1b[H\x1b[1;31mred\x1b[0m \x1b[38;5;196mx\x1b[m\r\n");
	OUT("\x1b]0;a title\x07\x1b]52;c;SGVsbG8gd29ybGQ=\x07\x1bPq#0;2;0;0;0\x1b\\");
	OUT("안녕하세요, 폐쇄 분석환경입니다.\r\n");
	/* 환 is ed 99 98: split after its first and second bytes. */
	OUT("\xed");
	OUT("\x99");
	OUT("\x98경\r\n");
	IN("\0\x03\x04\x1b[A\x7f");
	IN("한\xea");
	IN("\xb8\x80\r");
	if (sr_recorder_resize(rec, 100, 30, &err) < 0)
		die("resize", &err);
}

static void
record_random(struct sr_recorder *rec)
{
	char chunk[4096];
	size_t total = 0, n, i;

	while (total < 256 * 1024) {
		n = 1 + next_random() % sizeof(chunk);
		for (i = 0; i < n; i++)
			chunk[i] = (char)(next_random() >> 32);
		if (next_random() % 4 == 0)
			in(rec, chunk, n);
		else
			out(rec, chunk, n);
		total += n;
	}
}

int
main(int argc, char **argv)
{
	unsigned char sha[SR_AUDIT_HASH_LEN];
	char hex[2 * SR_AUDIT_HASH_LEN + 1];
	struct sr_error err = { "" };
	struct sr_recorder *rec;
	int dirfd;

	if (argc != 3) {
		fprintf(stderr, "usage: record-bytes DIR NAME\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		perror(argv[1]);
		return 1;
	}
	rec = sr_recorder_new(dirfd, argv[2], 80, 24, "xterm-256color", sr_audit_now_ms(), &err);
	if (rec == NULL)
		die("new", &err);
	record_fixed(rec);
	record_random(rec);
	/* Leave half a character pending: close() must turn it into U+FFFD. */
	OUT("끝\xeb");
	if (sr_recorder_close(rec, sha, &err) < 0)
		die("close", &err);
	sr_audit_hex(sha, hex);
	printf("%s\n", hex);
	close(dirfd);
	return 0;
}
