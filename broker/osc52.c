/*
 * osc52.c — the clipboard-sequence filter of the session output (osc52.h).
 *
 * A byte-at-a-time state machine with a fast path: in the ground state the
 * stream is copied up to the next ESC with memchr, so the cost on ordinary
 * output is one scan.  Bytes of an escape prefix whose fate is not yet known
 * ("ESC ] 5") wait in `held`; they are written out once the sequence proves
 * harmless, or dropped with it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "osc52.h"

#define ESC 0x1b
#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a

enum osc_state {
	S_GROUND,
	S_ESC,        /* after ESC */
	S_OSC_PS,     /* after ESC ]: reading the number before ';' */
	S_DCS_START,  /* after ESC P: is it a passthrough wrapper? */
	S_DROP_OSC,   /* inside an OSC 52: dropping to BEL or ST */
	S_DROP_OSC_ESC,
	S_DROP_DCS,   /* inside a passthrough DCS: dropping to ST */
	S_DROP_DCS_ESC,
};

struct sr_osc52 {
	enum osc_state state;
	unsigned char held[SR_OSC52_HOLD];
	size_t n_held;
	unsigned long stripped;
};

struct sr_osc52 *
sr_osc52_new(void)
{
	return calloc(1, sizeof(struct sr_osc52));
}

void
sr_osc52_free(struct sr_osc52 *f)
{
	free(f);
}

unsigned long
sr_osc52_stripped(const struct sr_osc52 *f)
{
	return f->stripped;
}

/* The held prefix was harmless: it goes out, and we are back on the ground. */
static size_t
release(struct sr_osc52 *f, unsigned char *out)
{
	size_t n = f->n_held;

	memcpy(out, f->held, n);
	f->n_held = 0;
	f->state = S_GROUND;
	return n;
}

static void
drop(struct sr_osc52 *f, enum osc_state next)
{
	f->n_held = 0;
	f->stripped++;
	f->state = next;
}

/* After ESC ]: digits up to ';' say which OSC this is. */
static size_t
step_osc_ps(struct sr_osc52 *f, unsigned char c, unsigned char *out)
{
	if (c == ';' && f->n_held == 4 && memcmp(f->held, "\033]52", 4) == 0) {
		drop(f, S_DROP_OSC);
		return 0;
	}
	if (c >= '0' && c <= '9' && f->n_held < 4) {
		f->held[f->n_held++] = c;
		return 0;
	}
	f->held[f->n_held++] = c;
	return release(f, out);
}

/* After ESC P: "tmux;" or a nested ESC means a passthrough wrapper. */
static size_t
step_dcs_start(struct sr_osc52 *f, unsigned char c, unsigned char *out)
{
	static const char tmux[] = "tmux;";
	size_t i = f->n_held - 2;

	if (i == 0 && c == ESC) {
		drop(f, S_DROP_DCS);
		return 0;
	}
	if (c == (unsigned char)tmux[i]) {
		f->held[f->n_held++] = c;
		if (i + 1 == sizeof(tmux) - 1)
			drop(f, S_DROP_DCS);
		return 0;
	}
	f->held[f->n_held++] = c;
	return release(f, out);
}

static size_t
step(struct sr_osc52 *f, unsigned char c, unsigned char *out)
{
	switch (f->state) {
	case S_GROUND:
		if (c != ESC) {
			out[0] = c;
			return 1;
		}
		f->held[f->n_held++] = c;
		f->state = S_ESC;
		return 0;
	case S_ESC:
		f->held[f->n_held++] = c;
		if (c == ']')
			f->state = S_OSC_PS;
		else if (c == 'P')
			f->state = S_DCS_START;
		else
			return release(f, out);
		return 0;
	case S_OSC_PS:
		return step_osc_ps(f, c, out);
	case S_DCS_START:
		return step_dcs_start(f, c, out);
	case S_DROP_OSC:
		if (c == BEL || c == CAN || c == SUB)
			f->state = S_GROUND;
		else if (c == ESC)
			f->state = S_DROP_OSC_ESC;
		return 0;
	case S_DROP_OSC_ESC:
		/* ESC \ ends it; any other ESC X ends it too and X starts afresh. */
		f->state = S_GROUND;
		if (c == '\\')
			return 0;
		f->held[f->n_held++] = ESC;
		f->state = S_ESC;
		return step(f, c, out);
	case S_DROP_DCS:
		if (c == CAN || c == SUB)
			f->state = S_GROUND;
		else if (c == ESC)
			f->state = S_DROP_DCS_ESC;
		return 0;
	case S_DROP_DCS_ESC:
		/* Inside passthrough, ESC ESC is an escaped ESC; only ESC \ ends it. */
		f->state = c == '\\' ? S_GROUND : S_DROP_DCS;
		return 0;
	}
	return 0;
}

size_t
sr_osc52_filter(struct sr_osc52 *f, const void *in, size_t len, void *out)
{
	const unsigned char *p = in, *end = p + len, *esc;
	unsigned char *o = out;

	while (p < end) {
		if (f->state == S_GROUND) {
			esc = memchr(p, ESC, (size_t)(end - p));
			if (esc == NULL)
				esc = end;
			memcpy(o, p, (size_t)(esc - p));
			o += esc - p;
			p = esc;
			if (p == end)
				break;
		}
		o += step(f, *p++, o);
	}
	return (size_t)(o - (unsigned char *)out);
}

size_t
sr_osc52_flush(struct sr_osc52 *f, void *out)
{
	if (f->state == S_DROP_OSC || f->state == S_DROP_OSC_ESC || f->state == S_DROP_DCS ||
	    f->state == S_DROP_DCS_ESC) {
		f->state = S_GROUND;
		return 0;
	}
	return release(f, out);
}
