/*
 * log.c — one logging path for every saferoomd process.
 *
 * In the foreground each line goes to stderr prefixed with the process role
 * and pid, because the master, the monitors and the net children interleave
 * there.  Otherwise lines go to syslog (LOG_AUTHPRIV, like sshd), which
 * keeps working inside the net child's empty chroot because openlog() with
 * LOG_NDELAY connects /dev/log before the chroot and the socket stays open.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int log_foreground = 1;
static int log_debug_on;
static char log_name[32] = "saferoomd";
static int log_fd = -1;

void
sr_log_init(const char *ident, int foreground, int debug)
{
	log_foreground = foreground;
	log_debug_on = debug;
	sr_log_ident(ident);
	if (!foreground)
		openlog("saferoomd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
sr_log_ident(const char *ident)
{
	snprintf(log_name, sizeof(log_name), "%s", ident);
}

void
sr_log(int prio, const char *func, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_fd >= 0) {
		/* A lost line is better than a net child blocked on its monitor. */
		dprintf(log_fd, "%d %s: %s\n", prio, func, line);
		return;
	}
	if (log_foreground) {
		/* One write() per line, so that processes do not interleave mid-line. */
		dprintf(STDERR_FILENO, "%s[%ld]: %s: %s\n", log_name, (long)getpid(), func, line);
		return;
	}
	syslog(prio, "%s: %s: %s", log_name, func, line);
}

void
sr_log_redirect(int fd)
{
	log_fd = fd;
}

void
sr_log_relay(const char *from, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	char line[1024];
	int prio;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		/* The sender is untrusted: clamp the priority and never pass %. */
		prio = line[0] >= '0' && line[0] <= '7' ? line[0] - '0' : LOG_INFO;
		if (prio < LOG_ERR)
			prio = LOG_ERR;
		sr_log(prio, from, "%s", line[0] != '\0' && line[1] == ' ' ? line + 2 : line);
	}
}
