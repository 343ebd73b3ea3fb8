/*
 * tap.h — a minimal Test Anything Protocol emitter for the C unit tests, so
 * that automake's tap-driver counts each check, not each program.
 */
#ifndef SAFEROOM_TAP_H
#define SAFEROOM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_count, tap_failed;

static inline void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define is_int(got, want, ...) do {					\
		long long g_ = (long long)(got), w_ = (long long)(want);	\
		ok(g_ == w_, __VA_ARGS__);				\
		if (g_ != w_)						\
			printf("#   got %lld, want %lld\n", g_, w_);	\
	} while (0)

#define is_str(got, want, ...) do {					\
		const char *g_ = (got), *w_ = (want);			\
		int same_ = (g_ == NULL && w_ == NULL) ||		\
			(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0); \
		ok(same_, __VA_ARGS__);					\
		if (!same_)						\
			printf("#   got \"%s\", want \"%s\"\n",	\
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");	\
	} while (0)

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Skips the whole program (TAP "1..0 # SKIP"); exits. */
static inline void
skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

/* Prints the plan and returns the exit status for main(). */
static inline int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

/* A fresh private directory for a test's files; removed by the caller's rm_rf. */
static inline char *
tap_tmpdir(const char *tag)
{
	static char path[256];

	snprintf(path, sizeof(path), "/tmp/sr-test-%s-XXXXXX", tag);
	if (mkdtemp(path) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		exit(1);
	}
	return path;
}

static inline void
tap_rm_rf(const char *dir)
{
	char cmd[512];

	if (dir == NULL || strncmp(dir, "/tmp/sr-test-", 13) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

#endif /* SAFEROOM_TAP_H */
