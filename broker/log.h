/*
 * log.h — saferoomd's logging: stderr in the foreground (-D), syslog
 * otherwise.  Every line names the function it comes from, so that a log
 * read months later still points at the code that wrote it.  The audit trail
 * is not a log: what a security officer must be able to prove goes to
 * audit.db through the audit client; this is for the operator.
 */
#ifndef SAFEROOM_BROKER_LOG_H
#define SAFEROOM_BROKER_LOG_H

#include <stddef.h>
#include <syslog.h>

/* Where lines go from now on; ident names the process ("saferoomd", "monitor"). */
void sr_log_init(const char *ident, int foreground, int debug);
/* Renames the process in later lines (after a fork), keeping the destination. */
void sr_log_ident(const char *ident);
/*
 * Sends every later line to fd instead, as "PRIO LINE\n", for the monitor to
 * log (sr_log_relay): the net child has neither /dev/log nor a terminal it
 * may trust after its chroot.
 */
void sr_log_redirect(int fd);
/* Logs the lines read from a redirected process; buf holds whole lines. */
void sr_log_relay(const char *from, const char *buf, size_t len);

void sr_log(int prio, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)   sr_log(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)  sr_log(LOG_WARNING, __func__, __VA_ARGS__)
#define log_info(...)  sr_log(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) sr_log(LOG_DEBUG, __func__, __VA_ARGS__)

#endif /* SAFEROOM_BROKER_LOG_H */
