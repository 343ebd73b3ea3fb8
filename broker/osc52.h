/*
 * osc52.h — removes clipboard-writing escape sequences from a terminal
 * output stream, so that nothing inside the room can put data into the
 * clipboard of the researcher's own computer.
 *
 * OSC 52 (ESC ] 52 ; Pc ; Pd BEL|ST) asks the terminal to set its clipboard
 * to Pd.  Terminal multiplexers also forward sequences wrapped in a DCS
 * ("ESC P tmux; ..." or screen's "ESC P ESC ] ..."), so those passthrough
 * wrappers are removed whole.  Everything else passes byte for byte.  The
 * filter is stateful: a sequence split across reads at any byte is still
 * recognised, at the cost of holding back at most SR_OSC52_HOLD bytes of an
 * unfinished escape prefix until the next read decides it.
 *
 * Only 7-bit introducers count: in UTF-8 the C1 bytes 0x9d and 0x90 are
 * continuation bytes of ordinary characters (Hangul among them).
 */
#ifndef SAFEROOM_BROKER_OSC52_H
#define SAFEROOM_BROKER_OSC52_H

#include <stddef.h>

#define SR_OSC52_HOLD 8

struct sr_osc52;

struct sr_osc52 *sr_osc52_new(void);
void sr_osc52_free(struct sr_osc52 *f);

/* Filters in[0..len) into out, which must hold len + SR_OSC52_HOLD bytes; returns the count. */
size_t sr_osc52_filter(struct sr_osc52 *f, const void *in, size_t len, void *out);
/* At the end of the stream: returns the held-back bytes (out holds SR_OSC52_HOLD). */
size_t sr_osc52_flush(struct sr_osc52 *f, void *out);
/* How many sequences were removed so far. */
unsigned long sr_osc52_stripped(const struct sr_osc52 *f);

#endif /* SAFEROOM_BROKER_OSC52_H */
