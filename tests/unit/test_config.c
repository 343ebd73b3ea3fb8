/*
 * test_config.c — saferoom.conf parsing: every keyword, every kind of bad
 * line (each must be refused with FILE:LINE), the file checks borrowed from
 * sshd's StrictModes, SAFEROOM_CONF precedence, and CIDR matching including
 * IPv6 and IPv4-mapped addresses.  Also checks that the defaults written in
 * packaging/saferoom.conf are the built-in ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saferoom/config.h"
#include "tap.h"

static const char *dir;
static int file_no;

/* Writes len bytes to a fresh file in dir with the given mode; returns its path. */
static char *
write_file(const char *data, size_t len, mode_t mode)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/conf%d", dir, ++file_no);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) < 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
	return path;
}

static struct sr_config *
load_text(const char *text, struct sr_error *err)
{
	return sr_config_load(write_file(text, strlen(text), 0644), err);
}

/* ---- good files ------------------------------------------------------------ */

static void
check_defaults(const struct sr_config *cfg, const char *what)
{
	is_int(cfg->n_listen, 1, "%s: one listen address", what);
	is_str(cfg->listen[0].host, "0.0.0.0", "%s: listens on 0.0.0.0", what);
	is_int(cfg->listen[0].port, 22, "%s: on port 22", what);
	is_str(cfg->state_dir, "/var/lib/saferoom", "%s: state_dir", what);
	is_str(cfg->host_key, "/var/lib/saferoom/host_key", "%s: host_key", what);
	is_int(cfg->audit_seal_interval, 60, "%s: audit_seal_interval", what);
	is_int(cfg->audit_retention_days, 730, "%s: audit_retention_days", what);
	is_int(cfg->uid_min, 60000, "%s: uid_min", what);
	is_int(cfg->uid_max, 64999, "%s: uid_max", what);
	is_int(cfg->gid_min, 60000, "%s: gid_min", what);
	is_int(cfg->gid_max, 64999, "%s: gid_max", what);
	is_int(cfg->login_grace_time, 60, "%s: login_grace_time", what);
	is_int(cfg->max_auth_tries, 6, "%s: max_auth_tries", what);
	is_int(cfg->max_startups, 20, "%s: max_startups", what);
	is_int(cfg->max_connections, 400, "%s: max_connections", what);
	is_int(cfg->auth_fail_window, 300, "%s: auth_fail_window", what);
	is_int(cfg->auth_fail_max_source, 20, "%s: auth_fail_max_source", what);
	is_int(cfg->auth_fail_max_user, 10, "%s: auth_fail_max_user", what);
	is_int(cfg->auth_fail_block, 600, "%s: auth_fail_block", what);
	is_int(cfg->totp_required, 0, "%s: totp_required", what);
	is_int(cfg->policy_recheck_interval, 30, "%s: policy_recheck_interval", what);
	is_str(cfg->netchild_user, "saferoom", "%s: netchild_user", what);
	is_int(cfg->sandbox_memory, 4LL << 30, "%s: sandbox_memory", what);
	is_int(cfg->sandbox_pids, 512, "%s: sandbox_pids", what);
	is_int(cfg->sandbox_cpu, 200, "%s: sandbox_cpu", what);
	is_int(cfg->sandbox_tmp_size, 1LL << 30, "%s: sandbox_tmp_size", what);
	is_int(cfg->sandbox_max_file_size, 8LL << 30, "%s: sandbox_max_file_size", what);
	is_int(cfg->idle_timeout, 3600, "%s: idle_timeout", what);
	is_int(cfg->max_session, 12 * 3600, "%s: max_session", what);
	is_int(cfg->min_free_space, 1LL << 30, "%s: min_free_space", what);
	is_int(cfg->export_max_size, 16LL << 20, "%s: export_max_size", what);
	is_int(cfg->export_max_rows, 5000, "%s: export_max_rows", what);
	is_int(cfg->export_min_cell, 10, "%s: export_min_cell", what);
	is_int(cfg->export_zero_disclosive, 1, "%s: export_zero_disclosive", what);
	is_int(cfg->export_approvals, 1, "%s: export_approvals", what);
	is_str(cfg->export_file_types, "csv,tsv,txt,md,json,log,png,jpg,svg,pdf",
	       "%s: export_file_types", what);
}

static void
test_defaults(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;

	cfg = load_text("", &err);
	ok(cfg != NULL, "an empty file loads (%s)", err.msg);
	if (cfg == NULL)
		return;
	check_defaults(cfg, "empty file");
	is_int(cfg->n_allow_from, 0, "empty file: allow_from is empty (everyone)");
	sr_config_free(cfg);
}

static const char every_keyword[] =
	"# a safe room\n"
	"\n"
	"   \t\n"
	"listen 127.0.0.1:2222\n"
	"listen\t[::1]:2223  \t\n"
	"  state_dir   /srv/room/   # trailing comment\n"
	"host_key /etc/saferoom/key#1\n"
	"audit_seal_interval 86400\n"
	"audit_retention_days 1\n"
	"allow_from 10.0.0.0/8\n"
	"allow_from 2001:DB8:0::/32\n"
	"allow_from ::ffff:192.168.1.0/120\n"
	"uid_range 1000-2147483646\n"
	"login_grace_time 3600\n"
	"max_auth_tries 1\n"
	"totp_required yes\n"
	"netchild_user sr-net_1\n"
	"sandbox_memory 512M\n"
	"sandbox_cpu 150\n"
	"idle_timeout 30m\n"
	"max_session 2d\n"
	"gid_range 5000-5000";   /* no newline at the end */

static void
test_every_keyword(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;

	cfg = load_text(every_keyword, &err);
	ok(cfg != NULL, "a file with every keyword loads (%s)", err.msg);
	if (cfg == NULL)
		return;
	is_int(cfg->n_listen, 2, "two listen addresses");
	is_str(cfg->listen[0].host, "127.0.0.1", "IPv4 listen address");
	is_int(cfg->listen[0].port, 2222, "IPv4 listen port");
	is_str(cfg->listen[1].host, "::1", "IPv6 listen address, brackets gone");
	is_int(cfg->listen[1].port, 2223, "IPv6 listen port, trailing blanks trimmed");
	is_str(cfg->state_dir, "/srv/room", "state_dir, trailing slash and comment gone");
	is_str(cfg->host_key, "/etc/saferoom/key#1", "a # inside a word is not a comment");
	is_int(cfg->audit_seal_interval, 86400, "audit_seal_interval at its maximum");
	is_int(cfg->audit_retention_days, 1, "audit_retention_days at its minimum");
	is_int(cfg->n_allow_from, 3, "three allow_from networks");
	is_str(cfg->allow_from[0].text, "10.0.0.0/8", "IPv4 network");
	is_int(cfg->allow_from[1].family, AF_INET6, "IPv6 network family");
	is_str(cfg->allow_from[1].text, "2001:db8::/32", "IPv6 network in canonical form");
	is_int(cfg->allow_from[2].family, AF_INET, "a mapped network becomes IPv4");
	is_str(cfg->allow_from[2].text, "192.168.1.0/24", "mapped /120 is IPv4 /24");
	is_int(cfg->uid_min, 1000, "uid_min at its minimum");
	is_int(cfg->uid_max, 2147483646, "uid_max at its maximum");
	is_int(cfg->gid_min, 5000, "gid range of one");
	is_int(cfg->gid_max, 5000, "gid range of one, last line without newline");
	is_int(cfg->login_grace_time, 3600, "login_grace_time at its maximum");
	is_int(cfg->max_auth_tries, 1, "max_auth_tries at its minimum");
	is_int(cfg->totp_required, 1, "totp_required yes");
	is_str(cfg->netchild_user, "sr-net_1", "netchild_user");
	is_int(cfg->sandbox_memory, 512LL << 20, "sandbox_memory with a suffix");
	is_int(cfg->sandbox_cpu, 150, "sandbox_cpu in percent");
	is_int(cfg->idle_timeout, 1800, "idle_timeout in minutes");
	is_int(cfg->max_session, 2 * 86400, "max_session in days");
	sr_config_free(cfg);
}

static void
test_good_edges(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	char text[2048];
	size_t i;

	cfg = load_text("state_dir /srv/x\n", &err);
	ok(cfg != NULL && strcmp(cfg->host_key, "/srv/x/host_key") == 0,
	   "host_key follows state_dir by default");
	sr_config_free(cfg);

	cfg = load_text("state_dir /\n", &err);
	ok(cfg != NULL && strcmp(cfg->host_key, "/host_key") == 0,
	   "state_dir / gives /host_key, not //host_key");
	sr_config_free(cfg);

	/* A comment line of exactly 1024 bytes is still fine. */
	memset(text, 'x', 1024);
	text[0] = '#';
	memcpy(text + 1024, "\n", 2);
	cfg = load_text(text, &err);
	ok(cfg != NULL, "a line of exactly 1024 bytes is accepted (%s)", err.msg);
	sr_config_free(cfg);

	text[0] = '\0';
	for (i = 0; i < SR_CONFIG_MAX_LISTEN; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "listen 127.0.0.1:%zu\n", 2000 + i);
	cfg = load_text(text, &err);
	ok(cfg != NULL && cfg->n_listen == SR_CONFIG_MAX_LISTEN,
	   "%d listen lines are accepted (%s)", SR_CONFIG_MAX_LISTEN, err.msg);
	sr_config_free(cfg);

	cfg = load_text("listen 0.0.0.0:65535\nlisten [::]:1\n", &err);
	ok(cfg != NULL && cfg->listen[0].port == 65535 && cfg->listen[1].port == 1,
	   "ports 1 and 65535 are accepted (%s)", err.msg);
	sr_config_free(cfg);
}

/* ---- bad lines --------------------------------------------------------------- */

struct bad_case {
	const char *text;
	int line;            /* where the error must point */
	const char *needle;  /* what the message must say */
};

static const struct bad_case bad_cases[] = {
	{ "state_dirr /x\n", 1, "unknown keyword \"state_dirr\"" },
	{ "State_Dir /x\n", 1, "unknown keyword" },
	{ "# ok\nlisten\n", 2, "listen needs a value" },
	{ "listen   # nothing\n", 1, "listen needs a value" },
	{ "state_dir /a /b\n", 1, "extra words" },
	{ "uid_range 1000 - 2000\n", 1, "extra words" },
	{ "state_dir /a\n\nstate_dir /b\n", 3, "given again (first on line 1)" },
	{ "audit_seal_interval 60\naudit_seal_interval 60\n", 2, "given again" },
	{ "uid_range 60000-64999\nuid_range 60000-64999\n", 2, "given again" },
	{ "host_key /a\nhost_key /a\n", 2, "given again" },
	/* integers: strict */
	{ "audit_seal_interval 0\n", 1, "out of range 1..86400" },
	{ "audit_seal_interval 86401\n", 1, "out of range" },
	{ "audit_seal_interval -5\n", 1, "not a decimal number" },
	{ "audit_seal_interval +5\n", 1, "not a decimal number" },
	{ "audit_seal_interval 5x\n", 1, "not a decimal number" },
	{ "audit_seal_interval 0x10\n", 1, "not a decimal number" },
	{ "audit_seal_interval 1.5\n", 1, "not a decimal number" },
	{ "audit_seal_interval 060\n", 1, "leading zero" },
	{ "audit_seal_interval 99999999999999999999999999\n", 1, "out of range" },
	{ "audit_seal_interval 18446744073709551676\n", 1, "out of range" },
	{ "audit_retention_days 36501\n", 1, "out of range 1..36500" },
	{ "audit_retention_days 0\n", 1, "out of range" },
	{ "max_auth_tries 0\n", 1, "out of range 1..100" },
	{ "policy_recheck_interval 61\n", 1, "out of range 1..60" },
	{ "totp_required maybe\n", 1, "neither yes nor no" },
	{ "totp_required YES\n", 1, "neither yes nor no" },
	{ "netchild_user Root\n", 1, "not a login name" },
	{ "netchild_user a/b\n", 1, "not a login name" },
	{ "sandbox_memory lots\n", 1, "bad value" },
	{ "sandbox_memory default\n", 1, "above zero" },
	{ "sandbox_pids 0\n", 1, "above zero" },
	{ "sandbox_cpu -1\n", 1, "bad value" },
	{ "idle_timeout 5y\n", 1, "bad value" },
	{ "max_session 1h\nmax_session 2h\n", 2, "given again" },
	{ "export_approvals 17\n", 1, "out of range 1..16" },
	{ "export_zero_disclosive 0\n", 1, "neither yes nor no" },
	{ "export_file_types csv,exe\n", 1, "exe" },
	{ "export_max_size 2G\n", 1, "above the maximum" },
	/* listen */
	{ "listen 127.0.0.1\n", 1, "no :PORT" },
	{ "listen 127.0.0.1:0\n", 1, "out of range 1..65535" },
	{ "listen 127.0.0.1:65536\n", 1, "out of range" },
	{ "listen 127.0.0.1:\n", 1, "empty number" },
	{ "listen 127.0.0.1:22x\n", 1, "not a decimal number" },
	{ "listen :22\n", 1, "no usable address" },
	{ "listen localhost:22\n", 1, "not a numeric IPv4 address" },
	{ "listen 127.1:22\n", 1, "not a numeric IPv4 address" },
	{ "listen ::1:22\n", 1, "[ADDR]:PORT" },
	{ "listen [::1]22\n", 1, "is not [ADDR]:PORT" },
	{ "listen [::1\n", 1, "is not [ADDR]:PORT" },
	{ "listen [127.0.0.1]:22\n", 1, "not a numeric IPv6 address" },
	{ "listen [fe80::1%eth0]:22\n", 1, "not a numeric IPv6 address" },
	{ "listen 10.0.0.1:22\nlisten 10.0.0.1:22\n", 2, "already listed" },
	/* paths */
	{ "state_dir var/lib/saferoom\n", 1, "not an absolute path" },
	{ "host_key ~/key\n", 1, "not an absolute path" },
	/* allow_from */
	{ "allow_from 10.0.0.1/8\n", 1, "host bits set beyond the prefix (the network is 10.0.0.0/8)" },
	{ "allow_from 2001:db8::1/32\n", 1, "host bits set" },
	{ "allow_from 10.0.0.0/33\n", 1, "out of range 0..32" },
	{ "allow_from ::/129\n", 1, "out of range 0..128" },
	{ "allow_from 10.0.0.0/\n", 1, "empty number" },
	{ "allow_from 10.0.0.0/08\n", 1, "leading zero" },
	{ "allow_from ::ffff:10.0.0.0/95\n", 1, "out of range 96..128" },
	{ "allow_from intranet/8\n", 1, "not a numeric IPv4 or IPv6 address" },
	{ "allow_from /8\n", 1, "not ADDR/PREFIX" },
	/* id ranges */
	{ "uid_range 999-2000\n", 1, "out of range 1000..2147483646" },
	{ "uid_range 2000-1000\n", 1, "2000 is above 1000" },
	{ "uid_range 1000-2147483647\n", 1, "out of range" },
	{ "uid_range 1000\n", 1, "not MIN-MAX" },
	{ "uid_range 1000-\n", 1, "empty number" },
	{ "uid_range -1000\n", 1, "empty number" },
	{ "uid_range 1000--2000\n", 1, "not a decimal number" },
	{ "gid_range 70000-60000\n", 1, "70000 is above 60000" },
	{ "gid_range 0-100\n", 1, "out of range" },
	/* bytes that do not belong in a text file */
	{ "state_dir /x\r\n", 1, "carriage return" },
	{ "# ok\nstate_dir /a\x1b[31m\n", 2, "control character 0x1b" },
	{ "state_dir /a\x7f\n", 1, "control character 0x7f" },
};

static void
test_bad_lines(void)
{
	struct sr_error err;
	struct sr_config *cfg;
	char where[600];
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];

		memset(&err, 0, sizeof(err));
		path = write_file(c->text, strlen(c->text), 0644);
		snprintf(where, sizeof(where), "%s:%d: ", path, c->line);
		cfg = sr_config_load(path, &err);
		ok(cfg == NULL && strncmp(err.msg, where, strlen(where)) == 0 &&
		   strstr(err.msg, c->needle) != NULL && strchr(err.msg, '\n') == NULL,
		   "bad line %zu refused at line %d with \"%s\"", i, c->line, c->needle);
		if (cfg != NULL || strstr(err.msg, c->needle) == NULL)
			diag("got: %s", cfg ? "(loaded)" : err.msg);
		sr_config_free(cfg);
	}
}

/* Errors that need more than one literal line. */
static void
test_bad_generated(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	char text[4096], *path;
	size_t i;

	memset(text, 'x', 1025);
	text[0] = '#';
	memcpy(text + 1025, "\n", 2);
	cfg = sr_config_load(path = write_file(text, strlen(text), 0644), &err);
	ok(cfg == NULL && strstr(err.msg, ":1: line longer than 1024 bytes") != NULL,
	   "a 1025-byte line is refused (%s)", err.msg);

	cfg = sr_config_load(write_file("# a\nstate_dir /a\0b\n", 19, 0644), &err);
	ok(cfg == NULL && strstr(err.msg, ":2: NUL byte") != NULL,
	   "a NUL byte is refused with its line (%s)", err.msg);

	text[0] = '\0';
	for (i = 0; i <= SR_CONFIG_MAX_LISTEN; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "listen 127.0.0.1:%zu\n", 2000 + i);
	cfg = sr_config_load(path = write_file(text, strlen(text), 0644), &err);
	ok(cfg == NULL && strstr(err.msg, ":9: bad listen: more than 8") != NULL,
	   "a ninth listen line is refused (%s)", err.msg);

	text[0] = '\0';
	for (i = 0; i <= SR_CONFIG_MAX_ALLOW; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "allow_from 10.0.%zu.0/24\n", i);
	cfg = sr_config_load(write_file(text, strlen(text), 0644), &err);
	ok(cfg == NULL && strstr(err.msg, ":65: bad allow_from: more than 64") != NULL,
	   "a 65th allow_from line is refused (%s)", err.msg);
	(void)path;
}

/* ---- the file itself ------------------------------------------------------- */

static void
test_file_checks(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	char missing[512], *path;

	snprintf(missing, sizeof(missing), "%s/no-such.conf", dir);
	cfg = sr_config_load(missing, &err);
	ok(cfg == NULL && strstr(err.msg, missing) != NULL &&
	   strstr(err.msg, "No such file") != NULL, "a missing file is named (%s)", err.msg);

	cfg = sr_config_load(dir, &err);
	ok(cfg == NULL && strstr(err.msg, "not a regular file") != NULL,
	   "a directory is refused (%s)", err.msg);

	path = write_file("state_dir /x\n", 13, 0664);
	cfg = sr_config_load(path, &err);
	ok(cfg == NULL && strstr(err.msg, path) != NULL &&
	   strstr(err.msg, "writable by group or others (mode 0664)") != NULL,
	   "a group-writable file is refused (%s)", err.msg);

	path = write_file("state_dir /x\n", 13, 0602);
	cfg = sr_config_load(path, &err);
	ok(cfg == NULL && strstr(err.msg, "writable by group or others") != NULL,
	   "an other-writable file is refused (%s)", err.msg);

	path = write_file("state_dir /x\n", 13, 0600);
	cfg = sr_config_load(path, &err);
	ok(cfg != NULL, "a 0600 file loads");
	sr_config_free(cfg);

	if (geteuid() != 0) {
		path = write_file("state_dir /x\n", 13, 0);
		cfg = sr_config_load(path, &err);
		ok(cfg == NULL && strstr(err.msg, path) != NULL &&
		   strstr(err.msg, "Permission denied") != NULL,
		   "an unreadable file is named (%s)", err.msg);
		return;
	}
	/* As root: a file owned by someone else is refused, as sshd would. */
	path = write_file("state_dir /x\n", 13, 0644);
	if (chown(path, 12345, 12345) < 0) {
		ok(0, "chown for the foreign-owner test");
		return;
	}
	cfg = sr_config_load(path, &err);
	ok(cfg == NULL && strstr(err.msg, "owned by uid 12345") != NULL,
	   "a file owned by another user is refused (%s)", err.msg);
}

static void
test_path_precedence(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	char *path;

	unsetenv("SAFEROOM_CONF");
	is_str(sr_config_path(NULL), SR_CONFIG_DEFAULT_PATH, "no PATH, no $SAFEROOM_CONF: default");
	setenv("SAFEROOM_CONF", "/etc/other.conf", 1);
	is_str(sr_config_path(NULL), "/etc/other.conf", "$SAFEROOM_CONF beats the default");
	is_str(sr_config_path("/x.conf"), "/x.conf", "PATH beats $SAFEROOM_CONF");
	setenv("SAFEROOM_CONF", "", 1);
	is_str(sr_config_path(NULL), SR_CONFIG_DEFAULT_PATH, "an empty $SAFEROOM_CONF is unset");

	path = write_file("audit_seal_interval 7\n", 22, 0644);
	setenv("SAFEROOM_CONF", path, 1);
	cfg = sr_config_load(NULL, &err);
	ok(cfg != NULL && cfg->audit_seal_interval == 7 && strcmp(cfg->path, path) == 0,
	   "sr_config_load(NULL) reads $SAFEROOM_CONF (%s)", err.msg);
	sr_config_free(cfg);
	unsetenv("SAFEROOM_CONF");
}

/* ---- networks ---------------------------------------------------------------- */

struct cidr_case {
	const char *net;
	const char *addr;
	int want;
};

static const struct cidr_case cidr_cases[] = {
	{ "10.0.0.0/8", "10.255.1.2", 1 },
	{ "10.0.0.0/8", "11.0.0.1", 0 },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
	{ "10.0.0.0/8", "::ffff:11.1.2.3", 0 },
	{ "10.0.0.0/8", "::10.1.2.3", 0 },           /* IPv4-compatible is not mapped */
	{ "::ffff:10.0.0.0/104", "10.9.9.9", 1 },
	{ "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1 },
	{ "10.0.0.0/9", "10.127.255.255", 1 },
	{ "10.0.0.0/9", "10.128.0.1", 0 },
	{ "192.168.1.0/24", "192.168.2.1", 0 },
	{ "127.0.0.1", "127.0.0.1", 1 },            /* bare address: one host */
	{ "127.0.0.1", "127.0.0.2", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "::1", 0 },
	{ "::/0", "10.0.0.1", 0 },                  /* an IPv6 network admits no IPv4 client */
	{ "::/0", "::ffff:10.0.0.1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	{ "10.0.0.0/8", "nonsense", 0 },
	{ "10.0.0.0/8", "", 0 },
	{ "10.0.0.0/8", "10.0.0.1/32", 0 },
};

static const char *const cidr_bad[] = {
	"", "/8", "10.0.0.1/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1",
	"10.0.0.0/+8", "10.0.0.0/08", "10.0.0/8", "2001:db8::1/32", "::ffff:10.0.0.0/95",
	"host.example/8", "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0//8", "fe80::1%lo/64",
};

static void
test_cidr(void)
{
	struct sr_cidr net;
	size_t i;

	for (i = 0; i < sizeof(cidr_cases) / sizeof(cidr_cases[0]); i++) {
		const struct cidr_case *c = &cidr_cases[i];

		if (sr_cidr_parse(c->net, &net) < 0) {
			ok(0, "parse %s", c->net);
			continue;
		}
		is_int(sr_cidr_contains(&net, c->addr), c->want, "%s %s %s", c->net,
		       c->want ? "contains" : "does not contain", c->addr);
	}
	ok(sr_cidr_parse("10.0.0.0/8", &net) == 0 && sr_cidr_contains(&net, NULL) == 0,
	   "a NULL address is in no network");
	for (i = 0; i < sizeof(cidr_bad) / sizeof(cidr_bad[0]); i++)
		is_int(sr_cidr_parse(cidr_bad[i], &net), -1, "\"%s\" is refused", cidr_bad[i]);

	ok(sr_cidr_parse("2001:DB8:0:0::/48", &net) == 0, "upper-case IPv6 parses");
	is_str(net.text, "2001:db8::/48", "and is kept in canonical form");
	is_int(net.prefix, 48, "with its prefix");
	ok(sr_cidr_parse("::ffff:192.0.2.7", &net) == 0 && net.family == AF_INET &&
	   net.prefix == 32, "a bare mapped address is an IPv4 host");
	is_str(net.text, "192.0.2.7/32", "shown as IPv4");
	ok(sr_cidr_parse("0.0.0.0/0", &net) == 0 && net.prefix == 0, "/0 parses");
}

/* ---- the shipped sample ------------------------------------------------------ */

/*
 * packaging/saferoom.conf shows each keyword commented out with its default.
 * Loading it as shipped, and again with every sample line uncommented, must
 * both give the built-in defaults: the documentation cannot lie about them.
 */
static void
test_sample(void)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	const char *srcdir = getenv("SR_SRCDIR");
	char path[512], *text, *p;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/packaging/saferoom.conf", srcdir ? srcdir : ".");
	f = fopen(path, "r");
	if (f == NULL || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0) {
		ok(0, "read %s", path);
		return;
	}
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	if (text == NULL || fread(text, 1, (size_t)len, f) != (size_t)len) {
		ok(0, "read %s", path);
		return;
	}
	fclose(f);

	cfg = load_text(text, &err);
	ok(cfg != NULL, "the shipped sample loads (%s)", err.msg);
	if (cfg != NULL)
		check_defaults(cfg, "shipped sample");
	sr_config_free(cfg);

	/* "#keyword value" lines become "keyword value". */
	for (p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		if (p[2] >= 'a' && p[2] <= 'z')
			p[1] = ' ';
	}
	cfg = load_text(text, &err);
	ok(cfg != NULL, "the sample with every line uncommented loads (%s)", err.msg);
	if (cfg != NULL) {
		check_defaults(cfg, "uncommented sample");
		is_int(cfg->n_allow_from, 1, "uncommented sample: its allow_from example");
	}
	sr_config_free(cfg);
	free(text);
}

int
main(void)
{
	dir = tap_tmpdir("config");
	test_defaults();
	test_every_keyword();
	test_good_edges();
	test_bad_lines();
	test_bad_generated();
	test_file_checks();
	test_path_precedence();
	test_cidr();
	test_sample();
	tap_rm_rf(dir);
	return done_testing();
}
