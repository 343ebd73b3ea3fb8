/*
 * validate.c — checks of what administrators type: names, dates, roles.
 *
 * Names end up in paths (/data/NAME, workspaces/PROJECT), in login names
 * (alice+PROJECT) and in audit records, so they are held to a small alphabet
 * that cannot carry a path separator, a '+' or a control character.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define USER_NAME_MAX 32

/* Like Debian's NAME_REGEX, ^[a-z_][a-z0-9_-]*$, at most 32 bytes. */
int
sr_policy_user_name_ok(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > USER_NAME_MAX)
		return -1;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return -1;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n ? 0 : -1;
}

/* [a-z0-9][a-z0-9._-]{0,63}, and never "." or ".." as a whole. */
int
sr_policy_object_name_ok(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > SR_POLICY_NAME_MAX)
		return -1;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return -1;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n ? 0 : -1;
}

int
sr_policy_parse_date(const char *text, int end_of_day, int64_t *out, struct sr_error *err)
{
	int64_t ms;

	if (text == NULL || sr_audit_parse_time(text, &ms) < 0 || ms < 1000)
		return sr_error_set(err, "bad date \"%s\": use ISO 8601, e.g. 2026-12-31 or "
				    "2026-12-31T18:00Z (UTC)", text ? text : "");
	*out = ms / 1000;
	/* A bare date as an end means "through that day". */
	if (end_of_day && strlen(text) == 10)
		*out += 24 * 3600;
	return 0;
}

/*
 * An `until` at midnight is shown as the last day it includes, so what an
 * administrator typed ("--until 2026-12-31") is what they read back.
 */
void
sr_policy_format_date(int64_t t, int end_of_day, char *out, size_t outlen)
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (t == 0) {
		snprintf(out, outlen, "-");
		return;
	}
	if (end_of_day && t % 86400 == 0)
		secs -= 86400;
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, outlen, "?");
		return;
	}
	if (t % 86400 == 0)
		snprintf(out, outlen, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
	else
		snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const struct {
	const char *name;
	unsigned bit;
} roles[] = {
	{ "researcher", SR_POLICY_RESEARCHER },
	{ "steward", SR_POLICY_STEWARD },
	{ "auditor", SR_POLICY_AUDITOR },
};

unsigned
pol_role_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(roles[i].name, name) == 0)
			return roles[i].bit;
	}
	return 0;
}

int
sr_policy_roles_parse(const char *text, unsigned *out, struct sr_error *err)
{
	const char *p = text;

	if (text == NULL || text[0] == '\0')
		return sr_error_set(err, "empty role: use researcher, steward or auditor");
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char word[32];
		unsigned bit = 0;

		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			bit = pol_role_bit(word);
		}
		if (bit == 0)
			return sr_error_set(err, "unknown role \"%.*s\": use researcher, steward "
					    "or auditor", (int)(n < 32 ? n : 32), p);
		*out |= bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

void
sr_policy_roles_format(unsigned bits, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (!(bits & roles[i].bit))
			continue;
		len += snprintf(out + len, len < outlen ? outlen - len : 0, "%s%s",
				len ? "," : "", roles[i].name);
	}
}

int
sr_policy_window_parse(const char *from, const char *until, struct sr_policy_window *w,
		       struct sr_error *err)
{
	w->from = 0;
	w->until = 0;
	if (from != NULL && sr_policy_parse_date(from, 0, &w->from, err) < 0)
		return -1;
	if (until != NULL && sr_policy_parse_date(until, 1, &w->until, err) < 0)
		return -1;
	if (w->from != 0 && w->until != 0 && w->until <= w->from)
		return sr_error_set(err, "the window ends (%s) before it starts (%s)", until, from);
	return 0;
}
