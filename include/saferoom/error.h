/*
 * error.h — the one error idiom of saferoom's libraries.
 *
 * A function that can fail returns -1 (or NULL) and, when the caller passed a
 * struct sr_error, leaves a one-line message in it that names the problem.
 * The caller decides what to do with it: print it and exit (programs), pass it
 * on, or log it.  Header-only so that no module depends on another for it.
 */
#ifndef SAFEROOM_ERROR_H
#define SAFEROOM_ERROR_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SR_ERROR_MAX 512

struct sr_error {
	char msg[SR_ERROR_MAX];
};

/* Sets the message; always returns -1 so that `return sr_error_set(...)` reads well. */
static inline int __attribute__((format(printf, 2, 3)))
sr_error_set(struct sr_error *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Like sr_error_set() with ": strerror(errno)" appended; errno is preserved. */
static inline int __attribute__((format(printf, 2, 3)))
sr_error_errno(struct sr_error *e, const char *fmt, ...)
{
	int saved = errno;
	size_t len;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

static inline const char *
sr_error_msg(const struct sr_error *e)
{
	return (e != NULL && e->msg[0] != '\0') ? e->msg : "unknown error";
}

#endif /* SAFEROOM_ERROR_H */
