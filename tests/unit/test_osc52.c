/*
 * test_osc52.c — the clipboard-sequence filter of the session output.
 *
 * Every case is run whole and then split at every possible byte boundary
 * (and fed one byte at a time), because a shell's output reaches the
 * monitor in reads of whatever size the kernel hands over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osc52.h"
#include "tap.h"

struct tcase {
	const char *name;
	const char *in;
	const char *want;
	unsigned long stripped;
};

static const struct tcase cases[] = {
	{ "plain text passes", "hello, world\r\n", "hello, world\r\n", 0 },
	{ "OSC 52 ended by BEL is removed", "a\033]52;c;SGVsbG8=\007b", "ab", 1 },
	{ "OSC 52 ended by ST is removed", "a\033]52;c;SGVsbG8=\033\\b", "ab", 1 },
	{ "OSC 52 with an empty selection is removed", "\033]52;;SGk=\007x", "x", 1 },
	{ "OSC 52 query is removed too", "\033]52;c;?\007", "", 1 },
	{ "a window title (OSC 0) passes", "\033]0;title\007x", "\033]0;title\007x", 0 },
	{ "OSC 8 hyperlinks pass", "\033]8;;http://x\033\\l\033]8;;\033\\",
	  "\033]8;;http://x\033\\l\033]8;;\033\\", 0 },
	{ "OSC 520 is not OSC 52", "\033]520;x\007", "\033]520;x\007", 0 },
	{ "CSI sequences pass", "\033[1;31mred\033[0m", "\033[1;31mred\033[0m", 0 },
	{ "tmux passthrough is removed whole",
	  "a\033Ptmux;\033\033]52;c;SGk=\007\033\\b", "ab", 1 },
	{ "screen passthrough is removed whole", "a\033P\033]52;c;SGk=\007\033\\b", "ab", 1 },
	{ "other DCS strings pass", "\033P1$r0m\033\\", "\033P1$r0m\033\\", 0 },
	{ "an OSC 52 cut short by CAN is removed", "\033]52;c;SGk\030ok", "ok", 1 },
	{ "ESC inside OSC 52 ends it and starts afresh", "\033]52;c;SGk\033[1mB",
	  "\033[1mB", 1 },
	{ "Hangul (UTF-8 with 0x9d/0x90 bytes) passes", "\xea\xb0\x80\xec\x9d\xb4 \xed\x9d\x90",
	  "\xea\xb0\x80\xec\x9d\xb4 \xed\x9d\x90", 0 },
	{ "two sequences in a row", "\033]52;c;QQ==\007\033]52;p;Qg==\033\\z", "z", 2 },
	{ "a lone ESC at the end is kept", "abc\033", "abc\033", 0 },
};

/* Feeds in through the filter in pieces cut at the given positions. */
static char *
run(const char *in, size_t len, const size_t *cuts, size_t ncuts, unsigned long *stripped)
{
	struct sr_osc52 *f = sr_osc52_new();
	char *out = calloc(1, len + SR_OSC52_HOLD * (ncuts + 2) + 1);
	size_t off = 0, o = 0, i, end;

	for (i = 0; i <= ncuts; i++) {
		end = i < ncuts ? cuts[i] : len;
		o += sr_osc52_filter(f, in + off, end - off, out + o);
		off = end;
	}
	o += sr_osc52_flush(f, out + o);
	out[o] = '\0';
	*stripped = sr_osc52_stripped(f);
	sr_osc52_free(f);
	return out;
}

static int
check_case(const struct tcase *c, const size_t *cuts, size_t ncuts)
{
	unsigned long stripped;
	char *got = run(c->in, strlen(c->in), cuts, ncuts, &stripped);
	int good = strcmp(got, c->want) == 0 && stripped == c->stripped;

	free(got);
	return good;
}

static void
test_case(const struct tcase *c)
{
	size_t len = strlen(c->in), cut, i, *bytes;
	int whole, split = 1, single;

	whole = check_case(c, NULL, 0);
	ok(whole, "%s", c->name);
	for (cut = 1; cut < len; cut++)
		split &= check_case(c, &cut, 1);
	ok(split, "%s, split at every byte", c->name);
	bytes = calloc(len + 1, sizeof(*bytes));
	for (i = 0; i + 1 < len; i++)
		bytes[i] = i + 1;
	single = check_case(c, bytes, len > 0 ? len - 1 : 0);
	free(bytes);
	ok(single, "%s, one byte at a time", c->name);
}

/* A megabyte of output without any ESC comes out unchanged. */
static void
test_bulk(void)
{
	size_t len = 1 << 20, i;
	char *in = malloc(len), *out = malloc(len + SR_OSC52_HOLD);
	struct sr_osc52 *f = sr_osc52_new();
	size_t n;

	for (i = 0; i < len; i++)
		in[i] = (char)(' ' + i % 90);
	n = sr_osc52_filter(f, in, len, out);
	ok(n == len && memcmp(in, out, len) == 0, "1 MiB of text passes unchanged");
	sr_osc52_free(f);
	free(in);
	free(out);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test_case(&cases[i]);
	test_bulk();
	return done_testing();
}
