/*
 * qr.c — the TOTP enrolment URI as a QR code drawn in the terminal, so the
 * administrator can let a researcher scan it without the seed ever being
 * written to a file.
 *
 * Two module rows share one character cell through the Unicode half blocks.
 * The light modules are drawn as ink on explicitly black cells (ANSI colours,
 * when asked), because a phone needs dark modules on a light quiet zone
 * whatever the terminal's own colours are.
 */
#include "config.h"

#include <qrencode.h>

#include "internal.h"

#define QUIET 2   /* modules of quiet zone around the code */

static int
light(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 1;
	return !(qr->data[y * qr->width + x] & 1);
}

int
sr_policy_totp_qr(const char *uri, FILE *out, int ansi, struct sr_error *err)
{
	static const char *const cell[4] = { " ", "\u2584", "\u2580", "\u2588" };
	QRcode *qr;

	qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return sr_error_errno(err, "QR code");
	for (int y = -QUIET; y < qr->width + QUIET; y += 2) {
		if (ansi)
			fputs("\033[40;97m", out);
		for (int x = -QUIET; x < qr->width + QUIET; x++)
			fputs(cell[light(qr, x, y) << 1 | light(qr, x, y + 1)], out);
		fputs(ansi ? "\033[0m\n" : "\n", out);
	}
	/* The symbol encodes the seed: burn it before libqrencode frees it. */
	explicit_bzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return ferror(out) ? sr_error_set(err, "writing the QR code failed") : 0;
}
