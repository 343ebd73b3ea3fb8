/*
 * test_lineedit.c — the `saferoom>` prompt's line editor, fed keys through
 * a pipe (and once through a real pty, where it must switch the terminal
 * out of canonical mode and back).  What matters: the line returned is what
 * the keys mean, Up and Down walk the history, and no control byte typed by
 * the user is ever drawn on the terminal.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lineedit.h"
#include "tap.h"

static char *const hist[] = { "export list", "export show 12", "audit verify" };

/* Runs the editor on KEYS; returns its result, the line in LINE, the drawing in DRAWN. */
static int
edit(const char *keys, char *line, size_t len, char *drawn, size_t drawnlen)
{
	FILE *out = fmemopen(drawn, drawnlen, "w");
	int p[2], rc;

	if (out == NULL || pipe(p) < 0) {
		printf("Bail out! pipe\n");
		exit(1);
	}
	if (write(p[1], keys, strlen(keys)) != (ssize_t)strlen(keys))
		exit(1);
	close(p[1]);
	rc = sr_lineedit(p[0], out, "saferoom> ", line, len, hist, 3);
	fclose(out);
	close(p[0]);
	return rc;
}

struct tcase {
	const char *name;
	const char *keys;
	int rc;
	const char *want;
};

static const struct tcase cases[] = {
	{ "a plain line", "export list\r", 11, "export list" },
	{ "newline ends a line too", "help\n", 4, "help" },
	{ "backspace (DEL) removes a byte", "hellp\177o\r", 5, "hello" },
	{ "backspace (^H) too", "ab\010c\r", 2, "ac" },
	{ "backspace on an empty line does nothing", "\177\177x\r", 1, "x" },
	{ "^U clears the line", "rm -rf\025help\r", 4, "help" },
	{ "^C cancels the line", "oops\003help\r", 4, "help" },
	{ "Up gives the newest history line", "\033[A\r", 12, "audit verify" },
	{ "Up twice the one before", "\033[A\033[A\r", 14, "export show 12" },
	{ "Up past the oldest stays there", "\033[A\033[A\033[A\033[A\033[A\r", 11, "export list" },
	{ "Down comes back", "\033[A\033[A\033[B\r", 12, "audit verify" },
	{ "Down to the end is an empty line", "\033[A\033[B\r", 0, "" },
	{ "application-mode arrows (ESC O A)", "\033OA\r", 12, "audit verify" },
	{ "Left, Right and other sequences are dropped", "a\033[D\033[Cb\r", 2, "ab" },
	{ "other control bytes are dropped", "a\001\002\007\tb\r", 2, "ab" },
	{ "UTF-8 passes", "export show \xec\x8b\xa4\r", 15, "export show \xec\x8b\xa4" },
	{ "^D on an empty line is the end", "\004", -1, "" },
	{ "^D inside a line is ignored", "ab\004\r", 2, "ab" },
	{ "end of input is the end", "abc", -1, NULL },
};

static void
test_cases(void)
{
	char line[64], drawn[4096];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(drawn, 0, sizeof(drawn));
		rc = edit(cases[i].keys, line, sizeof(line), drawn, sizeof(drawn));
		ok(rc == cases[i].rc && (cases[i].want == NULL || strcmp(line, cases[i].want) == 0),
		   "%s", cases[i].name);
		if (rc != cases[i].rc)
			diag("got %d \"%s\"", rc, line);
	}
}

/* Only printable bytes, CR, LF and the editor's own redraw sequence reach the terminal. */
static void
test_no_control_echo(void)
{
	char line[64], drawn[4096], *p;
	int clean = 1;

	memset(drawn, 0, sizeof(drawn));
	edit("a\033]52;c;SGk=\007b\033[2Jc\001\r", line, sizeof(line), drawn, sizeof(drawn));
	for (p = drawn; *p != '\0'; p++) {
		if (*p == '\033' && strncmp(p, "\033[K", 3) == 0) {
			p += 2;
			continue;
		}
		if ((unsigned char)*p < 0x20 && *p != '\r' && *p != '\n')
			clean = 0;
	}
	ok(clean, "typed escape sequences (OSC 52, clear screen) are not drawn back");
}

static void
test_long_line(void)
{
	char line[8], drawn[4096];

	is_int(edit("abcdefghijkl\r", line, sizeof(line), drawn, sizeof(drawn)), 7,
	       "a line longer than the buffer is cut, not overrun");
	is_str(line, "abcdefg", "... keeping what fits");
}

/* On a real terminal: canonical mode off while typing, back on afterwards. */
static void
test_pty(void)
{
	struct termios before, after;
	char line[64], drawn[4096], slave[128];
	FILE *out = fmemopen(drawn, sizeof(drawn), "w");
	int m, s, rc;

	m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, slave, sizeof(slave)) != 0 ||
	    (s = open(slave, O_RDWR | O_NOCTTY)) < 0 || out == NULL) {
		ok(0, "a pty for the terminal test");
		return;
	}
	tcgetattr(s, &before);
	/* Typed ahead, before the editor switches modes: still read, \r included. */
	if (write(m, "\033[Ahi\r", 6) != 6)
		exit(1);
	usleep(100 * 1000);
	rc = sr_lineedit(s, out, "saferoom> ", line, sizeof(line), hist, 3);
	fclose(out);
	tcgetattr(s, &after);
	ok(rc == 14 && strcmp(line, "audit verifyhi") == 0, "on a pty: Up and typed-ahead keys work");
	ok((before.c_lflag & ICANON) && (after.c_lflag & ICANON) &&
	   (after.c_lflag & ECHO) == (before.c_lflag & ECHO), "... and the terminal is put back");
	close(s);
	close(m);
}

int
main(void)
{
	test_cases();
	test_no_control_echo();
	test_long_line();
	test_pty();
	return done_testing();
}
