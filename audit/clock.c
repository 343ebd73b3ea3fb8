/*
 * clock.c — the two clocks saferoom reads: UTC for the time an event is
 * stamped with, and a monotonic one for timeouts and limits on elapsed time,
 * which setting the date must not stretch or cut.  On their own so that a
 * program needing only a clock links nothing else of audit/.
 */
#include "config.h"

#include <time.h>

#include "saferoom/audit.h"

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sr_audit_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
sr_audit_monotonic_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
