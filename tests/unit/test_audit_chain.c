/*
 * test_audit_chain.c — the canonical encoding, the chained hash, hex and
 * time handling of audit/chain.c.
 *
 * The expected hash is computed here from the encoding written out by hand,
 * so a change to chain.c that would orphan every existing audit.db fails.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "saferoom/audit.h"
#include "tap.h"

static const unsigned char zeros[SR_AUDIT_HASH_LEN];

static struct sr_audit_event
sample(void)
{
	struct sr_audit_event ev = {
		.seq = 7,
		.time_ms = 1795870000123,
		.type = "exec",
		.user = "alice",
		.project = "onco",
		.session = "s1",
		.source = "10.0.0.5",
		.datasets = "registry",
		.details = "{\"path\":\"/usr/bin/R\"}",
	};
	return ev;
}

static int
same_hash(const struct sr_audit_event *a, const struct sr_audit_event *b)
{
	unsigned char ha[SR_AUDIT_HASH_LEN], hb[SR_AUDIT_HASH_LEN];

	if (sr_audit_hash(zeros, a, ha) < 0 || sr_audit_hash(zeros, b, hb) < 0)
		return -1;
	return memcmp(ha, hb, sizeof(ha)) == 0;
}

static void
test_known_encoding(void)
{
	static const char canon[] =
		"1:7,13:1795870000123,4:exec,5:alice,4:onco,2:s1,8:10.0.0.5,8:registry,"
		"21:{\"path\":\"/usr/bin/R\"},";
	struct sr_audit_event ev = sample();
	unsigned char want[SR_AUDIT_HASH_LEN], got[SR_AUDIT_HASH_LEN], prev[SR_AUDIT_HASH_LEN];
	unsigned char buf[SR_AUDIT_HASH_LEN + sizeof(canon)];
	unsigned int len;

	memset(prev, 0xab, sizeof(prev));
	memcpy(buf, prev, sizeof(prev));
	memcpy(buf + sizeof(prev), canon, sizeof(canon) - 1);
	EVP_Digest(buf, sizeof(prev) + sizeof(canon) - 1, want, &len, EVP_sha256(), NULL);
	ok(sr_audit_hash(prev, &ev, got) == 0, "hash succeeds");
	ok(memcmp(got, want, sizeof(got)) == 0,
	   "hash is SHA-256(prev || netstrings of seq..details)");
}

static void
test_determinism(void)
{
	struct sr_audit_event a = sample(), b = sample();
	unsigned char h1[SR_AUDIT_HASH_LEN], h2[SR_AUDIT_HASH_LEN], p[SR_AUDIT_HASH_LEN];

	is_int(same_hash(&a, &b), 1, "equal events hash equal");
	b.seq = 8;
	is_int(same_hash(&a, &b), 0, "seq is hashed");
	b = sample();
	b.time_ms++;
	is_int(same_hash(&a, &b), 0, "time is hashed");
	b = sample();
	b.details = "{\"path\":\"/usr/bin/r\"}";
	is_int(same_hash(&a, &b), 0, "details are hashed");
	b = sample();
	b.datasets = "registry,ecg";
	is_int(same_hash(&a, &b), 0, "datasets are hashed");
	memset(p, 1, sizeof(p));
	sr_audit_hash(zeros, &a, h1);
	sr_audit_hash(p, &a, h2);
	ok(memcmp(h1, h2, sizeof(h1)) != 0, "prev_hash is hashed");
}

static void
test_null_fields(void)
{
	struct sr_audit_event a = { .seq = 1, .time_ms = 5, .type = "auth.fail" };
	struct sr_audit_event b = { .seq = 1, .time_ms = 5, .type = "auth.fail", .user = "",
				    .project = "", .session = "", .source = "", .datasets = "",
				    .details = "{}" };

	is_int(same_hash(&a, &b), 1, "NULL strings hash as \"\" and NULL details as {}");
}

static void
test_unambiguous(void)
{
	struct sr_audit_event a = sample(), b = sample();

	a.user = "a";
	a.project = "bc";
	b.user = "ab";
	b.project = "c";
	is_int(same_hash(&a, &b), 0, "user a + project bc differs from user ab + project c");
	a = sample();
	b = sample();
	a.session = "x,1:y";
	a.source = "";
	b.session = "x";
	b.source = "y";
	is_int(same_hash(&a, &b), 0, "netstring syntax inside a field cannot forge a boundary");
	a = sample();
	b = sample();
	a.datasets = "";
	a.details = "{}";
	b.datasets = "{}";
	b.details = "";
	is_int(same_hash(&a, &b), 0, "moving a value to the next field changes the hash");
}

static void
test_hex(void)
{
	unsigned char h[SR_AUDIT_HASH_LEN], back[SR_AUDIT_HASH_LEN];
	char hex[2 * SR_AUDIT_HASH_LEN + 1], upper[2 * SR_AUDIT_HASH_LEN + 1];

	for (size_t i = 0; i < sizeof(h); i++)
		h[i] = (unsigned char)(i * 37 + 11);
	sr_audit_hex(h, hex);
	is_int(strlen(hex), 64, "hex is 64 digits");
	ok(strspn(hex, "0123456789abcdef") == 64, "hex is lower case");
	ok(sr_audit_unhex(hex, back) == 0 && memcmp(h, back, sizeof(h)) == 0, "hex round trip");
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	ok(sr_audit_unhex(upper, back) == 0 && memcmp(h, back, sizeof(h)) == 0,
	   "upper-case hex parses");
	hex[63] = '\0';
	is_int(sr_audit_unhex(hex, back), -1, "63 digits refused");
	sr_audit_hex(h, hex);
	hex[10] = 'g';
	is_int(sr_audit_unhex(hex, back), -1, "non-hex digit refused");
	is_int(sr_audit_unhex("", back), -1, "empty refused");
	is_int(sr_audit_unhex(NULL, back), -1, "NULL refused");
}

static void
parses_to(const char *text, const char *want)
{
	char got[32] = "";
	int64_t ms = 0;

	if (sr_audit_parse_time(text, &ms) == 0)
		sr_audit_format_time(ms, got, sizeof(got));
	is_str(got, want, "parse \"%s\"", text);
}

static void
refused(const char *text)
{
	int64_t ms = 0;

	is_int(sr_audit_parse_time(text, &ms), -1, "refuse \"%s\"", text);
}

static void
test_time(void)
{
	char out[32];
	int64_t ms = 0;

	sr_audit_format_time(0, out, sizeof(out));
	is_str(out, "1970-01-01T00:00:00.000Z", "epoch formats");
	sr_audit_format_time(1795870000123, out, sizeof(out));
	ok(sr_audit_parse_time(out, &ms) == 0 && ms == 1795870000123, "format/parse round trip");
	parses_to("2026-11-28T13:06:05.123Z", "2026-11-28T13:06:05.123Z");
	parses_to("2026-11-28", "2026-11-28T00:00:00.000Z");
	parses_to("2026-11-28T13:06", "2026-11-28T13:06:00.000Z");
	parses_to("2026-11-28 13:06:05", "2026-11-28T13:06:05.000Z");
	parses_to("2024-02-29", "2024-02-29T00:00:00.000Z");
	parses_to("2000-02-29T23:59:59.999", "2000-02-29T23:59:59.999Z");
	refused("2026-02-30");
	refused("2023-02-29");
	refused("1900-02-29");
	refused("2026-04-31");
	refused("2026-13-01");
	refused("2026-00-10");
	refused("2026-11-00");
	refused("2026-11-28T24:00");
	refused("2026-11-28T13:60");
	refused("2026-11-28T13:06:60");
	refused("2026-11-28T13:06:05.12");
	refused("2026-11-28T13");
	refused("2026-11-28Zjunk");
	refused("2026-11-28+09:00");
	refused("26-11-28");
	refused("1969-12-31");
	refused("yesterday");
	refused("");
	refused(NULL);
}

int
main(void)
{
	test_known_encoding();
	test_determinism();
	test_null_fields();
	test_unambiguous();
	test_hex();
	test_time();
	return done_testing();
}
