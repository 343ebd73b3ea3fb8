/*
 * lineedit.h — the line editor of the `saferoom>` prompt: typing, backspace,
 * ^U, ^C and ^D, and the arrow keys Up and Down walking the history.
 *
 * Deliberately small: it runs in the verb child, which runs as root, so it
 * understands a handful of keys and ignores every other escape sequence
 * rather than interpret it.  Nothing it reads is ever echoed back as a
 * control character: only printable bytes reach the terminal.
 */
#ifndef SAFEROOM_BROKER_LINEEDIT_H
#define SAFEROOM_BROKER_LINEEDIT_H

#include <stddef.h>
#include <stdio.h>

/*
 * Reads one line from fd IN (a terminal put into non-canonical mode for the
 * duration, or anything else read as it is), drawing PROMPT and the line on
 * OUT.  HIST holds NHIST earlier lines, oldest first, for Up and Down.
 * Returns the line's length (the line in LINE, NUL-terminated, without the
 * newline), or -1 at end of input (^D on an empty line, EOF).
 */
int sr_lineedit(int in, FILE *out, const char *prompt, char *line, size_t len,
		char *const *hist, int nhist);

#endif /* SAFEROOM_BROKER_LINEEDIT_H */
