/*
 * chain.c — the canonical encoding of an audit event and its chained hash.
 *
 * hash = SHA-256(prev_hash || canonical(event)).  canonical() is the
 * netstring "LEN:BYTES," of each field in a fixed order, so two different
 * events can never encode to the same bytes (no separator can be forged by a
 * field's content).  Verification recomputes exactly this; change it only
 * together with a schema version bump.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "saferoom/audit.h"

/*
 * The writer hashes every event on its hot path, so the digest context and
 * the SHA-256 implementation are made once per thread and reused; a thread
 * key frees them when a thread ends, so no thread leaves them behind.
 */
struct hash_state {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

static pthread_key_t hash_key;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void
hash_state_free(void *p)
{
	struct hash_state *st = p;

	EVP_MD_CTX_free(st->ctx);
	EVP_MD_free(st->md);
	free(st);
}

static void
hash_key_make(void)
{
	(void)pthread_key_create(&hash_key, hash_state_free);
}

static EVP_MD_CTX *
hash_begin(void)
{
	struct hash_state *st;

	if (pthread_once(&hash_once, hash_key_make) != 0)
		return NULL;
	st = pthread_getspecific(hash_key);
	if (st == NULL) {
		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return NULL;
		st->md = EVP_MD_fetch(NULL, "SHA256", NULL);
		st->ctx = EVP_MD_CTX_new();
		if (st->md == NULL || st->ctx == NULL || pthread_setspecific(hash_key, st) != 0) {
			hash_state_free(st);
			return NULL;
		}
	}
	if (EVP_DigestInit_ex2(st->ctx, st->md, NULL) != 1)
		return NULL;
	return st->ctx;
}

/* Writes the decimal digits of v (v >= 0 or not) at p; returns the length. */
static size_t
format_decimal(char *p, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		p[i++] = '-';
	while (n > 0)
		p[i++] = tmp[--n];
	return i;
}

/* Feeds the netstring "LEN:BYTES," of S (NULL is "") into the digest. */
static int
digest_netstring(EVP_MD_CTX *md, const char *s, size_t n)
{
	char len[24];
	size_t l;

	l = format_decimal(len, (int64_t)n);
	len[l++] = ':';
	if (EVP_DigestUpdate(md, len, l) != 1 ||
	    (n > 0 && EVP_DigestUpdate(md, s, n) != 1) ||
	    EVP_DigestUpdate(md, ",", 1) != 1)
		return -1;
	return 0;
}

static int
digest_string(EVP_MD_CTX *md, const char *s)
{
	return digest_netstring(md, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

static int
digest_number(EVP_MD_CTX *md, int64_t v)
{
	char num[24];

	return digest_netstring(md, num, format_decimal(num, v));
}

int
sr_audit_hash(const unsigned char prev[SR_AUDIT_HASH_LEN], const struct sr_audit_event *ev,
	      unsigned char out[SR_AUDIT_HASH_LEN])
{
	unsigned int outlen = 0;
	EVP_MD_CTX *md;

	md = hash_begin();
	if (md == NULL || EVP_DigestUpdate(md, prev, SR_AUDIT_HASH_LEN) != 1)
		return -1;
	if (digest_number(md, ev->seq) < 0 || digest_number(md, ev->time_ms) < 0 ||
	    digest_string(md, ev->type) < 0 || digest_string(md, ev->user) < 0 ||
	    digest_string(md, ev->project) < 0 || digest_string(md, ev->session) < 0 ||
	    digest_string(md, ev->source) < 0 || digest_string(md, ev->datasets) < 0 ||
	    digest_string(md, ev->details != NULL ? ev->details : "{}") < 0)
		return -1;
	if (EVP_DigestFinal_ex(md, out, &outlen) != 1 || outlen != SR_AUDIT_HASH_LEN)
		return -1;
	return 0;
}

void
sr_audit_hex(const unsigned char hash[SR_AUDIT_HASH_LEN], char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < SR_AUDIT_HASH_LEN; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 0xf];
	}
	out[2 * SR_AUDIT_HASH_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sr_audit_unhex(const char *hex, unsigned char out[SR_AUDIT_HASH_LEN])
{
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * SR_AUDIT_HASH_LEN)
		return -1;
	for (i = 0; i < SR_AUDIT_HASH_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void
sr_audit_format_time(int64_t time_ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(time_ms / 1000);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, outlen, "invalid-time");
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(time_ms % 1000));
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads exactly n digits at *p; returns the value or -1. */
static int
digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

int
sr_audit_parse_time(const char *text, int64_t *time_ms)
{
	int year, mon, day, hour = 0, min = 0, sec = 0, ms = 0;
	const char *p = text;
	struct tm tm;

	if (text == NULL)
		return -1;
	if ((year = digits(&p, 4)) < 1970 || *p++ != '-' || (mon = digits(&p, 2)) < 1 ||
	    mon > 12 || *p++ != '-' || (day = digits(&p, 2)) < 1 ||
	    day > days_in_month(year, mon))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if ((hour = digits(&p, 2)) < 0 || hour > 23 || *p++ != ':' ||
		    (min = digits(&p, 2)) < 0 || min > 59)
			return -1;
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0 || sec > 59)
				return -1;
			if (*p == '.') {
				p++;
				if ((ms = digits(&p, 3)) < 0)
					return -1;
			}
		}
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*time_ms = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}
