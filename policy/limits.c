/*
 * limits.c — per-project overrides of the sandbox's resource limits
 * (`project set NAME KEY VALUE`) and the units they are written in.
 *
 * An override of 0 ("default") means "use the configuration's default", so
 * a project only records what its data review board asked to differ.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum unit { BYTES, COUNT, PERCENT, SECONDS };

static const struct {
	const char *key;
	enum unit unit;
	int64_t max;
} limits[] = {	/* in the order of struct sr_policy_limits */
	{ "memory", BYTES, INT64_C(1) << 50 },
	{ "pids", COUNT, 1 << 22 },
	{ "cpu", PERCENT, 100 * 1024 },
	{ "tmp_size", BYTES, INT64_C(1) << 50 },
	{ "max_file_size", BYTES, INT64_C(1) << 50 },
	{ "idle_timeout", SECONDS, 366 * 86400 },
	{ "max_session", SECONDS, 366 * 86400 },
};

int
pol_limit_index(const char *key)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (strcmp(limits[i].key, key) == 0)
			return (int)i;
	}
	return -1;
}

/* The multiplier of a unit suffix, or 0 when SUFFIX is not one of UNIT's. */
static int64_t
suffix_scale(enum unit unit, const char *suffix)
{
	static const char bytes[] = "KMGT", secs[] = "smhd";
	static const int64_t sec_scale[] = { 1, 60, 3600, 86400 };
	const char *hit;

	if (*suffix == '\0')
		return 1;
	if (suffix[1] != '\0' && !(unit == BYTES && strcmp(suffix + 1, "iB") == 0))
		return 0;
	if (unit == BYTES && (hit = strchr(bytes, suffix[0])) != NULL)
		return INT64_C(1) << (10 * (hit - bytes + 1));
	if (unit == SECONDS && (hit = strchr(secs, suffix[0])) != NULL)
		return sec_scale[hit - secs];
	return 0;
}

int
sr_policy_limit_parse(const char *key, const char *value, int64_t *out, struct sr_error *err)
{
	int i = pol_limit_index(key);
	int64_t scale;
	long long n;
	char *end;

	if (i < 0)
		return sr_error_set(err, "unknown project setting \"%s\"", key);
	if (strcmp(value, "default") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	n = strtoll(value, &end, 10);
	if (end == value || value[0] == '-' || value[0] == '+' || errno != 0 ||
	    (scale = suffix_scale(limits[i].unit, end)) == 0 || n > limits[i].max / scale)
		goto bad;
	*out = (int64_t)n * scale;
	if (*out > limits[i].max)
		goto bad;
	return 0;
bad:
	return sr_error_set(err, "bad value \"%s\" for %s: %s", value, key,
			    limits[i].unit == BYTES ? "bytes, e.g. 512M or 4G, or default" :
			    limits[i].unit == SECONDS ? "seconds, e.g. 900, 30m or 8h, or default" :
			    limits[i].unit == PERCENT ? "percent of one CPU, e.g. 150, or default" :
			    "a count, e.g. 256, or default");
}
