/*
 * test_policy_validate.c — what policy accepts from an administrator, table by
 * table: names, dates and windows, roles, limits, networks, and public keys
 * (real ones made by ssh-keygen, and everything that must be refused).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tap.h"

static char *dir;

static void
test_names(void)
{
	static const struct { const char *name; int user, object; } t[] = {
		{ "alice", 0, 0 }, { "a", 0, 0 }, { "_svc", 0, -1 }, { "kim-ji_woo", 0, 0 },
		{ "3d", -1, 0 }, { "lung.ct-2024_v2", -1, 0 }, { "", -1, -1 }, { "Alice", -1, -1 },
		{ "al ice", -1, -1 }, { "../x", -1, -1 }, { "a/b", -1, -1 }, { "-x", -1, -1 },
		{ ".hidden", -1, -1 }, { "alice+p1", -1, -1 }, { "al\tice", -1, -1 },
		{ "abcdefghijklmnopqrstuvwxyz012345", 0, 0 },
		{ "abcdefghijklmnopqrstuvwxyz0123456", -1, 0 },
		{ "a123456789012345678901234567890123456789012345678901234567890123", -1, 0 },
		{ "a1234567890123456789012345678901234567890123456789012345678901234", -1, -1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		is_int(sr_policy_user_name_ok(t[i].name), t[i].user, "user name \"%s\"", t[i].name);
		is_int(sr_policy_object_name_ok(t[i].name), t[i].object, "object name \"%s\"",
		       t[i].name);
	}
}

static void
test_dates(void)
{
	static const struct { const char *text; int end; int64_t want; } good[] = {
		{ "2026-01-01", 0, INT64_C(1767225600) },
		{ "2026-01-01", 1, INT64_C(1767225600) + 86400 },
		{ "2026-01-01T09:30", 1, INT64_C(1767225600) + 9 * 3600 + 1800 },
		{ "2026-01-01T09:30:15Z", 0, INT64_C(1767225600) + 9 * 3600 + 1815 },
		{ "2028-02-29", 0, INT64_C(1835395200) },
	};
	static const char *const bad[] = {
		"", "2026", "2026-13-01", "2026-02-30", "2027-02-29", "2026-1-1", "01/02/2026",
		"2026-01-01T25:00", "2026-01-01 garbage", "tomorrow", "1970-01-01",
	};
	struct sr_policy_window w;
	struct sr_error err = { { 0 } };
	char buf[32];
	int64_t t;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t = 0;
		ok(sr_policy_parse_date(good[i].text, good[i].end, &t, &err) == 0 &&
		   t == good[i].want, "date %s (end of day %d) = %lld", good[i].text, good[i].end,
		   (long long)t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(sr_policy_parse_date(bad[i], 0, &t, &err) < 0 && strstr(err.msg, "bad date"),
		   "malformed date \"%s\" refused", bad[i]);
	sr_policy_format_date(INT64_C(1767225600) + 86400, 1, buf, sizeof(buf));
	is_str(buf, "2026-01-01", "an until at midnight reads back as the day typed");
	sr_policy_format_date(INT64_C(1767225600) + 3600, 1, buf, sizeof(buf));
	is_str(buf, "2026-01-01T01:00:00Z", "an until with a time reads back as that time");
	ok(sr_policy_window_parse("2026-01-01", "2026-01-01", &w, &err) == 0,
	   "a one-day window (from and until the same day) is fine");
	ok(sr_policy_window_parse("2026-01-02", "2026-01-01", &w, &err) < 0 &&
	   strstr(err.msg, "before it starts"), "a window ending before it starts: %s", err.msg);
	ok(sr_policy_window_parse("2026-01-01T10:00", "2026-01-01T10:00", &w, &err) < 0,
	   "an empty window is refused");
	ok(sr_policy_window_parse(NULL, NULL, &w, &err) == 0 && w.from == 0 && w.until == 0,
	   "no dates: open on both sides");
}

static void
test_roles(void)
{
	struct sr_error err = { { 0 } };
	unsigned r = 0;
	char buf[64];

	ok(sr_policy_roles_parse("steward,auditor", &r, &err) == 0 &&
	   r == (SR_POLICY_STEWARD | SR_POLICY_AUDITOR), "comma-separated roles");
	ok(sr_policy_roles_parse("researcher", &r, &err) == 0 && (r & SR_POLICY_RESEARCHER),
	   "a repeated --role adds");
	sr_policy_roles_format(r, buf, sizeof(buf));
	is_str(buf, "researcher,steward,auditor", "roles format in a fixed order");
	ok(sr_policy_roles_parse("admin", &r, &err) < 0 && strstr(err.msg, "unknown role"),
	   "unknown role refused: %s", err.msg);
	ok(sr_policy_roles_parse("steward,,auditor", &r, &err) < 0, "empty role refused");
	ok(sr_policy_roles_parse("", &r, &err) < 0, "no role refused");
}

static void
test_limits(void)
{
	static const struct { const char *key, *value; int64_t want; } good[] = {
		{ "memory", "512M", INT64_C(512) << 20 }, { "memory", "4G", INT64_C(4) << 30 },
		{ "memory", "4GiB", INT64_C(4) << 30 }, { "memory", "1048576", 1048576 },
		{ "pids", "256", 256 }, { "cpu", "150", 150 }, { "tmp_size", "default", 0 },
		{ "idle_timeout", "30m", 1800 }, { "max_session", "8h", 28800 },
		{ "max_file_size", "0", 0 },
	};
	static const struct { const char *key, *value; } bad[] = {
		{ "memory", "-1" }, { "memory", "4X" }, { "memory", "" }, { "memory", "G" },
		{ "pids", "10k" }, { "pids", "99999999999" }, { "cpu", "1.5" },
		{ "idle_timeout", "5y" }, { "memory", "99999999999999999999" }, { "swap", "1G" },
		{ "memory", "+5" },
	};
	struct sr_error err = { { 0 } };
	int64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(sr_policy_limit_parse(good[i].key, good[i].value, &v, &err) == 0 &&
		   v == good[i].want, "%s %s", good[i].key, good[i].value);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(sr_policy_limit_parse(bad[i].key, bad[i].value, &v, &err) < 0,
		   "%s \"%s\" refused: %s", bad[i].key, bad[i].value, err.msg);
}

static void
test_cidr(void)
{
	static const struct { const char *net, *addr; int in; } t[] = {
		{ "10.0.0.0/8", "10.255.1.2", 1 }, { "10.0.0.0/8", "11.0.0.1", 0 },
		{ "10.1.2.3/8", "10.9.9.9", 1 }, { "192.168.1.0/24", "192.168.1.255", 1 },
		{ "192.168.1.0/24", "192.168.2.0", 0 }, { "0.0.0.0/0", "8.8.8.8", 1 },
		{ "127.0.0.1", "127.0.0.1", 1 }, { "127.0.0.1", "127.0.0.2", 0 },
		{ "2001:db8::/32", "2001:db8:1::5", 1 }, { "2001:db8::/32", "2001:db9::1", 0 },
		{ "10.0.0.0/8", "::ffff:10.0.0.1", 1 }, { "10.0.0.0/8", "2001:db8::1", 0 },
		{ "fe80::/10", "fe80::1", 1 }, { "10.0.0.0/8", "not-an-address", 0 },
	};
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "::/129", "host.example", "10.0.0.0/8x", "",
	};
	struct sr_error err = { { 0 } };
	struct pol_cidr c;
	char *norm;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(pol_cidr_parse(t[i].net, &c) == 0 && pol_cidr_contains(&c, t[i].addr) == t[i].in,
		   "%s %s %s", t[i].addr, t[i].in ? "in" : "not in", t[i].net);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(pol_cidr_parse(bad[i], &c) < 0, "bad network \"%s\" refused", bad[i]);
	ok(pol_cidr_list_parse("10.1.2.3/8, 192.168.0.0/16", &norm, &err) < 0,
	   "a list with a blank is refused");
	ok(pol_cidr_list_parse("10.1.2.3/8,192.168.0.0/16", &norm, &err) == 0 && norm != NULL,
	   "a list is accepted");
	is_str(norm, "10.0.0.0/8,192.168.0.0/16", "... and stored canonical");
	ok(pol_cidr_list_contains(norm, "192.168.4.4") && !pol_cidr_list_contains(norm, "8.8.8.8"),
	   "list membership");
	free(norm);
	ok(pol_cidr_list_parse("any", &norm, &err) == 0 && norm == NULL, "\"any\" clears");
	ok(pol_cidr_list_contains(NULL, "8.8.8.8"), "no list: every source");
}

static void
key_case(const char *file, const char *want_err, const char *desc)
{
	struct sr_policy_pubkey k;
	struct sr_error err = { { 0 } };
	int rc = sr_policy_pubkey_read(file, &k, &err);

	if (want_err == NULL) {
		ok(rc == 0 && strncmp(k.fingerprint, "SHA256:", 7) == 0, "%s: %s", desc,
		   rc == 0 ? k.fingerprint : err.msg);
		sr_policy_pubkey_clear(&k);
		return;
	}
	ok(rc < 0 && strstr(err.msg, want_err) != NULL && strchr(err.msg, '\n') == NULL,
	   "%s refused: %s", desc, err.msg);
}

static void
gen(const char *args, const char *name)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "ssh-keygen -q %s -N '' -C 'lab key' -f '%s/%s'", args, dir,
		 name);
	if (system(cmd) != 0)
		printf("Bail out! %s\n", cmd), exit(1);
}

static void
test_keys(void)
{
	char f[400], cmd[600], want[80];
	struct sr_policy_pubkey k;
	struct sr_error err = { { 0 } };
	FILE *p;

	gen("-t ed25519", "ed");
	gen("-t rsa -b 2048", "rsa2k");
	gen("-t rsa -b 1024", "rsa1k");
	gen("-t ecdsa -b 384", "ec");
#define F(name) (snprintf(f, sizeof(f), "%s/%s", dir, name), f)
	key_case(F("ed.pub"), NULL, "ed25519 public key");
	key_case(F("rsa2k.pub"), NULL, "2048-bit RSA public key");
	key_case(F("ec.pub"), NULL, "ECDSA P-384 public key");
	key_case(F("rsa1k.pub"), "1024 bits", "1024-bit RSA key");
	key_case(F("ed"), "private key", "private key file");
	key_case(F("rsa2k"), "private key", "RSA private key file");
	key_case(F("nosuch.pub"), "No such file", "missing file");
	key_case(dir, "not a public key file", "a directory");
	snprintf(cmd, sizeof(cmd), "head -c 300 /dev/urandom > '%s/garbage'", dir);
	ok(system(cmd) == 0, "garbage made");
	key_case(F("garbage"), "", "garbage file");
	snprintf(cmd, sizeof(cmd), "printf 'ssh-ed25519 AAAAnotbase64!!\\n' > '%s/bad64'", dir);
	ok(system(cmd) == 0, "bad base64 made");
	key_case(F("bad64"), "not a valid", "truncated base64");
	snprintf(cmd, sizeof(cmd), "cat '%s/ed.pub' '%s/rsa2k.pub' > '%s/two'", dir, dir, dir);
	ok(system(cmd) == 0, "two-key file made");
	key_case(F("two"), "exactly one", "two keys in one file");
	snprintf(cmd, sizeof(cmd), ": > '%s/empty'", dir);
	ok(system(cmd) == 0, "empty file made");
	key_case(F("empty"), "exactly one", "empty file");
	snprintf(cmd, sizeof(cmd), "sed 's/^ssh-ed25519/ssh-rsa/' '%s/ed.pub' > '%s/mislabel'",
		 dir, dir);
	ok(system(cmd) == 0, "mislabelled key made");
	key_case(F("mislabel"), "not a valid", "a key whose type lies");
	snprintf(cmd, sizeof(cmd), "cd '%s' && ssh-keygen -q -s ed -I id -n alice ed.pub", dir);
	ok(system(cmd) == 0, "certificate made");
	key_case(F("ed-cert.pub"), "not accepted", "an OpenSSH certificate");

	/* The fingerprint is OpenSSH's own. */
	snprintf(cmd, sizeof(cmd), "ssh-keygen -lf '%s/rsa2k.pub' | cut -d' ' -f2", dir);
	p = popen(cmd, "r");
	ok(p != NULL && fgets(want, sizeof(want), p) != NULL, "ssh-keygen -l ran");
	if (p != NULL)
		pclose(p);
	want[strcspn(want, "\n")] = '\0';
	ok(sr_policy_pubkey_read(F("rsa2k.pub"), &k, &err) == 0, "rsa2k read");
	is_str(k.fingerprint, want, "fingerprint equals ssh-keygen -l");
	is_int(k.bits, 2048, "RSA size");
	is_str(k.comment, "lab key", "comment kept");
	is_str(k.type, "ssh-rsa", "type");
	sr_policy_pubkey_clear(&k);
#undef F
}

int
main(void)
{
	dir = tap_tmpdir("policy-validate");
	test_names();
	test_dates();
	test_roles();
	test_limits();
	test_cidr();
	test_keys();
	tap_rm_rf(dir);
	return done_testing();
}
