/*
 * lineedit.c — the `saferoom>` prompt's line editor (lineedit.h).
 *
 * The terminal stays in the kernel's hands for output; only input is taken
 * out of canonical mode, and only while a line is being typed, so that a
 * verb's output and ^C during a verb behave as on any terminal.  Keys are
 * read one byte at a time: the prompt is typed by a person, and a byte-wise
 * state machine has no buffer to overrun.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lineedit.h"

#define KEY_CTRL_C 0x03
#define KEY_CTRL_D 0x04
#define KEY_CTRL_U 0x15
#define KEY_ESC 0x1b
#define KEY_BS 0x08
#define KEY_DEL 0x7f

struct edit {
	int in;
	FILE *out;
	const char *prompt;
	char *line;
	size_t len, cap;
	char *const *hist;
	int nhist;
	int pos;        /* history entry shown: nhist is the line being typed */
};

static int
key(int in)
{
	unsigned char c;
	ssize_t r;

	do
		r = read(in, &c, 1);
	while (r < 0 && errno == EINTR);
	return r == 1 ? c : -1;
}

static void
redraw(struct edit *e)
{
	fprintf(e->out, "\r\033[K%s%s", e->prompt, e->line);
	fflush(e->out);
}

static void
set_line(struct edit *e, const char *text)
{
	snprintf(e->line, e->cap, "%s", text);
	e->len = strlen(e->line);
	redraw(e);
}

/* Up (-1) or Down (+1) through the history; the typed line is not kept. */
static void
history_move(struct edit *e, int dir)
{
	int to = e->pos + dir;

	if (to < 0 || to > e->nhist)
		return;
	e->pos = to;
	set_line(e, to == e->nhist ? "" : e->hist[to]);
}

/* After ESC: "[A" or "OA" style arrows; anything else is dropped. */
static void
escape(struct edit *e)
{
	int c = key(e->in);

	if (c != '[' && c != 'O')
		return;
	c = key(e->in);
	if (c == 'A')
		history_move(e, -1);
	else if (c == 'B')
		history_move(e, 1);
	/* Right, Left and the rest: not supported, and never echoed. */
}

static void
insert(struct edit *e, int c)
{
	if (e->len + 1 >= e->cap)
		return;
	e->line[e->len++] = (char)c;
	e->line[e->len] = '\0';
	fputc(c, e->out);
	fflush(e->out);
}

/* 1 while the line goes on, 0 when it is complete, -1 at end of input. */
static int
edit_key(struct edit *e, int c)
{
	switch (c) {
	case -1:
		return -1;
	case '\r':
	case '\n':
		fputs("\r\n", e->out);
		return 0;
	case KEY_CTRL_D:
		return e->len == 0 ? -1 : 1;
	case KEY_CTRL_C:
		fputs("^C\r\n", e->out);
		e->pos = e->nhist;
		set_line(e, "");
		return 1;
	case KEY_CTRL_U:
		set_line(e, "");
		return 1;
	case KEY_BS:
	case KEY_DEL:
		if (e->len > 0)
			e->line[--e->len] = '\0';
		redraw(e);
		return 1;
	case KEY_ESC:
		escape(e);
		return 1;
	default:
		/* Printable ASCII and UTF-8 bytes; other control bytes are dropped. */
		if (c >= 0x20)
			insert(e, c);
		return 1;
	}
}

int
sr_lineedit(int in, FILE *out, const char *prompt, char *line, size_t len,
	    char *const *hist, int nhist)
{
	struct edit e = {
		.in = in, .out = out, .prompt = prompt, .line = line, .cap = len,
		.hist = hist, .nhist = nhist, .pos = nhist,
	};
	struct termios saved, raw;
	int tty = tcgetattr(in, &saved) == 0, rc;

	if (len == 0)
		return -1;
	line[0] = '\0';
	if (tty) {
		raw = saved;
		/* Our own echo and keys; output processing (ONLCR) stays on. */
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
		raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		/* TCSANOW, not TCSAFLUSH: keys typed ahead are kept. */
		tcsetattr(in, TCSANOW, &raw);
	}
	fputs(prompt, out);
	fflush(out);
	while ((rc = edit_key(&e, key(in))) > 0)
		;
	fflush(out);
	if (tty)
		tcsetattr(in, TCSANOW, &saved);
	return rc < 0 ? -1 : (int)e.len;
}
