/*
 * config.c — reads saferoom.conf, the one configuration file of a safe room.
 *
 * The file is `keyword value` lines in the manner of sshd_config.  Every
 * keyword lives in the table keywords[] below with its parser, its default
 * and whether it may repeat, so that adding a keyword is one line here plus
 * its paragraph in packaging/saferoom.conf (tests/cli/config_doc.sh checks
 * that the two agree).  Anything doubtful is an error naming FILE:LINE: a
 * gateway that guessed what its administrator meant would be worse than one
 * that refuses to start.  Like sshd's StrictModes, a file that someone other
 * than its owner could rewrite is refused, because it decides who may reach
 * clinical data.
 *
 * The sandbox limits are written in the units of `project set` and read by
 * the policy module's parser, so that a default and a project's override can
 * never be spelt differently.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saferoom/config.h"
#include "saferoom/export.h"
#include "saferoom/policy.h"

/* Longest line accepted, not counting its newline. */
#define LINE_MAX_LEN 1024
/* A configuration file is a few dozen lines; anything this big is a mistake. */
#define FILE_MAX_LEN (1024 * 1024)
/* Highest uid or gid handed out: 2^31-2, below (uid_t)-1 and every signed-int trap. */
#define ID_MAX 2147483646L
#define ID_MIN 1000L

typedef int (*parse_fn)(struct sr_config *cfg, const char *value, struct sr_error *err);

/*
 * Most keywords are plain typed values and need no parser of their own: the
 * kind says how to read the value and off where in struct sr_config it goes.
 */
enum kind {
	K_CUSTOM,   /* parse() does it all */
	K_INT,      /* int in [min, max] */
	K_BOOL,     /* int, "yes" or "no" */
	K_LIMIT,    /* int64_t in the units of `project set LIMIT`, above zero */
	K_NAME,     /* a login name, char[SR_CONFIG_NAME_MAX] */
};

struct keyword {
	const char *name;
	parse_fn parse;
	const char *def;   /* fed to parse when the file never names it; NULL: none */
	int repeatable;
	enum kind kind;
	size_t off;
	long min, max;     /* K_INT */
	const char *limit; /* K_LIMIT: the project setting with the same units */
};

static int parse_listen(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_state_dir(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_host_key(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_seal_interval(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_retention(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_allow_from(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_uid_range(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_gid_range(struct sr_config *cfg, const char *value, struct sr_error *err);
static int parse_file_types(struct sr_config *cfg, const char *value, struct sr_error *err);

/*
 * The keywords.  host_key has no fixed default because it follows state_dir;
 * derive_defaults() fills it in.  Keep packaging/saferoom.conf in step.
 */
static const struct keyword keywords[] = {
#define CUSTOM(name, parse, def, repeatable) \
	{ name, parse, def, repeatable, K_CUSTOM, 0, 0, 0, NULL }
	CUSTOM("listen", parse_listen, "0.0.0.0:22", 1),
	CUSTOM("state_dir", parse_state_dir, "/var/lib/saferoom", 0),
	CUSTOM("host_key", parse_host_key, NULL, 0),
	CUSTOM("audit_seal_interval", parse_seal_interval, "60", 0),
	CUSTOM("audit_retention_days", parse_retention, "730", 0),
	CUSTOM("allow_from", parse_allow_from, NULL, 1),
	CUSTOM("uid_range", parse_uid_range, "60000-64999", 0),
	CUSTOM("gid_range", parse_gid_range, "60000-64999", 0),
#define INT(name, def, min, max) \
	{ #name, NULL, def, 0, K_INT, offsetof(struct sr_config, name), min, max, NULL }
#define BOOL(name, def) \
	{ #name, NULL, def, 0, K_BOOL, offsetof(struct sr_config, name), 0, 1, NULL }
#define LIMIT(name, def, unit_of) \
	{ #name, NULL, def, 0, K_LIMIT, offsetof(struct sr_config, name), 0, 0, unit_of }
#define LIMIT_MAX(name, def, unit_of, max) \
	{ #name, NULL, def, 0, K_LIMIT, offsetof(struct sr_config, name), 0, max, unit_of }
	/* Admission: how long, how often, how many, as sshd's knobs. */
	INT(login_grace_time,        "60",   1, 3600),
	INT(max_auth_tries,          "6",    1, 100),
	INT(max_startups,            "20",   1, 10000),
	INT(max_connections,         "400",  1, 100000),
	INT(auth_fail_window,        "300",  1, 86400),
	INT(auth_fail_max_source,    "20",   1, 100000),
	INT(auth_fail_max_user,      "10",   1, 100000),
	INT(auth_fail_block,         "600",  1, 86400 * 7),
	BOOL(totp_required,          "no"),
	INT(policy_recheck_interval, "30",   1, 60),
	{ "netchild_user", NULL, "saferoom", 0, K_NAME, offsetof(struct sr_config, netchild_user),
	  0, 0, NULL },
	/* Sandbox defaults; a project may override each (`project set`). */
	LIMIT(sandbox_memory,        "4G",   "memory"),
	LIMIT(sandbox_pids,          "512",  "pids"),
	LIMIT(sandbox_cpu,           "200",  "cpu"),
	LIMIT(sandbox_tmp_size,      "1G",   "tmp_size"),
	LIMIT(sandbox_max_file_size, "8G",   "max_file_size"),
	LIMIT(idle_timeout,          "1h",   "idle_timeout"),
	LIMIT(max_session,           "12h",  "max_session"),
	/* Below this much free space in state_dir no session starts unrecorded. */
	LIMIT(min_free_space,        "1G",   "tmp_size"),
	/* Export review: what may be submitted and what the checks flag. */
	LIMIT_MAX(export_max_size,   "16M",  "tmp_size", 1L << 30),
	INT(export_max_rows,         "5000", 1, 100000000),
	INT(export_min_cell,         "10",   1, 1000000),
	BOOL(export_zero_disclosive, "yes"),
	INT(export_approvals,        "1",    1, 16),
	CUSTOM("export_file_types", parse_file_types, "csv,tsv,txt,md,json,log,png,jpg,svg,pdf", 0),
#undef CUSTOM
#undef INT
#undef BOOL
#undef LIMIT
#undef LIMIT_MAX
};
#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/* ---- values --------------------------------------------------------------- */

/*
 * Parses a decimal integer in [min, max].  Only digits: no sign, no blanks,
 * no hex, and no leading zero, which some readers take for octal.
 */
static int
parse_long(const char *text, long min, long max, long *out, struct sr_error *err)
{
	const char *p;
	long v = 0;

	if (*text == '\0')
		return sr_error_set(err, "empty number");
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return sr_error_set(err, "\"%s\" is not a decimal number", text);
		if (v > (LONG_MAX - (*p - '0')) / 10)
			return sr_error_set(err, "%s is out of range %ld..%ld", text, min, max);
		v = v * 10 + (*p - '0');
	}
	if (text[0] == '0' && text[1] != '\0')
		return sr_error_set(err, "\"%s\" has a leading zero", text);
	if (v < min || v > max)
		return sr_error_set(err, "%s is out of range %ld..%ld", text, min, max);
	*out = v;
	return 0;
}

static int
parse_int(const char *text, long min, long max, int *out, struct sr_error *err)
{
	long v;

	if (parse_long(text, min, max, &v, err) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* An absolute path, stored as a fresh copy in *slot. */
static int
parse_abs_path(const char *value, char **slot, struct sr_error *err)
{
	char *copy;
	size_t n;

	if (value[0] != '/')
		return sr_error_set(err, "\"%s\" is not an absolute path", value);
	if (strlen(value) >= PATH_MAX)
		return sr_error_set(err, "path is longer than %d bytes", PATH_MAX - 1);
	copy = strdup(value);
	if (copy == NULL)
		return sr_error_errno(err, "strdup");
	/* "/srv/saferoom/" and "/srv/saferoom" must name files below them alike. */
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	free(*slot);
	*slot = copy;
	return 0;
}

/* "MIN-MAX" with ID_MIN <= MIN <= MAX <= ID_MAX. */
static int
parse_id_range(const char *value, long *min, long *max, struct sr_error *err)
{
	char lo[32], *dash;
	size_t n;

	dash = strchr(value, '-');
	if (dash == NULL)
		return sr_error_set(err, "\"%s\" is not MIN-MAX", value);
	n = (size_t)(dash - value);
	if (n >= sizeof(lo))
		return sr_error_set(err, "\"%s\" is not MIN-MAX", value);
	memcpy(lo, value, n);
	lo[n] = '\0';
	if (parse_long(lo, ID_MIN, ID_MAX, min, err) < 0 ||
	    parse_long(dash + 1, ID_MIN, ID_MAX, max, err) < 0)
		return -1;
	if (*min > *max)
		return sr_error_set(err, "%ld is above %ld", *min, *max);
	return 0;
}

/*
 * "ADDR:PORT" or "[ADDR6]:PORT", numeric only: a listener that depended on
 * name resolution would start on whatever the resolver said that day.
 */
static int
split_listen(const char *value, char *host, size_t hostlen, const char **port,
	     struct sr_error *err)
{
	const char *start = value, *end;

	if (value[0] == '[') {
		start = value + 1;
		end = strchr(start, ']');
		if (end == NULL || end[1] != ':')
			return sr_error_set(err, "\"%s\" is not [ADDR]:PORT", value);
		*port = end + 2;
	} else {
		end = strrchr(value, ':');
		if (end == NULL)
			return sr_error_set(err, "\"%s\" has no :PORT", value);
		if (memchr(value, ':', (size_t)(end - value)) != NULL)
			return sr_error_set(err, "\"%s\": write IPv6 addresses as [ADDR]:PORT",
					    value);
		*port = end + 1;
	}
	if ((size_t)(end - start) >= hostlen || end == start)
		return sr_error_set(err, "\"%s\" has no usable address", value);
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	return 0;
}

static int
parse_listen(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	struct sr_listen *l;
	unsigned char bin[16];
	const char *port = NULL;
	size_t i;

	if (cfg->n_listen == SR_CONFIG_MAX_LISTEN)
		return sr_error_set(err, "more than %d listen addresses", SR_CONFIG_MAX_LISTEN);
	l = &cfg->listen[cfg->n_listen];
	if (split_listen(value, l->host, sizeof(l->host), &port, err) < 0)
		return -1;
	if (inet_pton(value[0] == '[' ? AF_INET6 : AF_INET, l->host, bin) != 1)
		return sr_error_set(err, "\"%s\" is not a numeric %s address", l->host,
				    value[0] == '[' ? "IPv6" : "IPv4");
	if (parse_int(port, 1, 65535, &l->port, err) < 0)
		return -1;
	for (i = 0; i < cfg->n_listen; i++) {
		if (strcmp(cfg->listen[i].host, l->host) == 0 && cfg->listen[i].port == l->port)
			return sr_error_set(err, "%s is already listed", value);
	}
	cfg->n_listen++;
	return 0;
}

static int
parse_state_dir(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_abs_path(value, &cfg->state_dir, err);
}

static int
parse_host_key(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_abs_path(value, &cfg->host_key, err);
}

static int
parse_seal_interval(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_int(value, 1, 86400, &cfg->audit_seal_interval, err);
}

static int
parse_retention(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_int(value, 1, 36500, &cfg->audit_retention_days, err);
}

static int cidr_parse(const char *text, struct sr_cidr *out, struct sr_error *err);

static int
parse_allow_from(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	if (cfg->n_allow_from == SR_CONFIG_MAX_ALLOW)
		return sr_error_set(err, "more than %d allow_from networks", SR_CONFIG_MAX_ALLOW);
	if (cidr_parse(value, &cfg->allow_from[cfg->n_allow_from], err) < 0)
		return -1;
	cfg->n_allow_from++;
	return 0;
}

static int
parse_uid_range(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_id_range(value, &cfg->uid_min, &cfg->uid_max, err);
}

static int
parse_gid_range(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	return parse_id_range(value, &cfg->gid_min, &cfg->gid_max, err);
}

/*
 * A comma-separated list of file types the export checks know; checked by
 * the export module itself, so that the list here can never name a type no
 * check understands.
 */
static int
parse_file_types(struct sr_config *cfg, const char *value, struct sr_error *err)
{
	struct sr_export_limits l;

	if (strlen(value) >= sizeof(cfg->export_file_types))
		return sr_error_set(err, "list longer than %zu bytes", sizeof(cfg->export_file_types) - 1);
	sr_export_limits_init(&l);
	l.file_types = value;
	if (sr_export_limits_check(&l, err) < 0)
		return -1;
	snprintf(cfg->export_file_types, sizeof(cfg->export_file_types), "%s", value);
	return 0;
}

/* ---- networks --------------------------------------------------------------- */

static const unsigned char v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * Parses ADDR into addr (16 bytes) and returns its family.  An IPv4-mapped
 * IPv6 address becomes the IPv4 address it stands for: a dual-stack listener
 * reports IPv4 clients that way, and the same client must get the same answer
 * whichever socket it came in on.
 */
static int
addr_parse(const char *text, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, text, addr) != 1)
		return -1;
	if (memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) != 0)
		return AF_INET6;
	memmove(addr, addr + 12, 4);
	memset(addr + 4, 0, 12);
	return AF_INET;
}

/* masked = addr with every bit after the first `prefix` cleared. */
static void
mask_host_bits(const unsigned char addr[16], int prefix, unsigned char masked[16])
{
	int whole = prefix / 8, rest = prefix % 8;

	memset(masked, 0, 16);
	memcpy(masked, addr, (size_t)whole);
	if (rest != 0)
		masked[whole] = (unsigned char)(addr[whole] & (0xff << (8 - rest)));
}

/* 1 when the first `prefix` bits of a and b agree. */
static int
prefix_equal(const unsigned char a[16], const unsigned char b[16], int prefix)
{
	unsigned char ma[16], mb[16];

	mask_host_bits(a, prefix, ma);
	mask_host_bits(b, prefix, mb);
	return memcmp(ma, mb, sizeof(ma)) == 0;
}

/*
 * Host bits beyond the prefix are refused rather than cleared: "10.0.0.1/8"
 * is far more likely a typo for /32 than a wish to admit 16 million hosts.
 */
static int
cidr_parse(const char *text, struct sr_cidr *out, struct sr_error *err)
{
	char addr[INET6_ADDRSTRLEN + 1], canon[INET6_ADDRSTRLEN];
	unsigned char net[16];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	long prefix, max;
	int mapped_bits;

	if (n == 0 || n >= sizeof(addr))
		return sr_error_set(err, "\"%s\" is not ADDR/PREFIX", text);
	memcpy(addr, text, n);
	addr[n] = '\0';
	memset(out, 0, sizeof(*out));
	out->family = addr_parse(addr, out->addr);
	if (out->family < 0)
		return sr_error_set(err, "\"%s\" is not a numeric IPv4 or IPv6 address", addr);
	/* A mapped network ::ffff:a.b.c.d/N counts its prefix in IPv6 bits. */
	mapped_bits = out->family == AF_INET && strchr(addr, ':') != NULL ? 96 : 0;
	max = (out->family == AF_INET ? 32 : 128) + mapped_bits;
	prefix = max;
	if (slash != NULL && parse_long(slash + 1, mapped_bits, max, &prefix, err) < 0)
		return -1;
	out->prefix = (int)(prefix - mapped_bits);
	mask_host_bits(out->addr, out->prefix, net);
	if (inet_ntop(out->family, net, canon, sizeof(canon)) == NULL)
		return sr_error_errno(err, "inet_ntop");
	if (memcmp(net, out->addr, sizeof(net)) != 0)
		return sr_error_set(err, "\"%s\" has host bits set beyond the prefix"
				    " (the network is %s/%d)", text, canon, out->prefix);
	snprintf(out->text, sizeof(out->text), "%s/%d", canon, out->prefix);
	return 0;
}

int
sr_cidr_parse(const char *text, struct sr_cidr *out)
{
	return cidr_parse(text, out, NULL);
}

int
sr_cidr_contains(const struct sr_cidr *net, const char *addr)
{
	unsigned char bin[16];

	if (addr == NULL || addr_parse(addr, bin) != net->family)
		return 0;
	return prefix_equal(bin, net->addr, net->prefix);
}

/* ---- the file ------------------------------------------------------------------ */

const char *
sr_config_path(const char *path)
{
	const char *env;

	if (path != NULL)
		return path;
	env = getenv("SAFEROOM_CONF");
	if (env != NULL && env[0] != '\0')
		return env;
	return SR_CONFIG_DEFAULT_PATH;
}

/*
 * Refuses what sshd's StrictModes would: anything but a regular file, and a
 * file that group or others may write or that belongs to neither root nor
 * us, since whoever can edit it decides who reaches the data.
 */
static int
check_file(const char *path, const struct stat *st, struct sr_error *err)
{
	if (!S_ISREG(st->st_mode))
		return sr_error_set(err, "%s: not a regular file", path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sr_error_set(err, "%s: writable by group or others (mode %04o);"
				    " run chmod go-w on it", path, (unsigned)(st->st_mode & 07777));
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return sr_error_set(err, "%s: owned by uid %u, neither root nor uid %u",
				    path, (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_size > FILE_MAX_LEN)
		return sr_error_set(err, "%s: larger than %d bytes", path, FILE_MAX_LEN);
	return 0;
}

/* Reads the whole file into a NUL-terminated buffer; *len excludes the NUL. */
static char *
read_file(const char *path, size_t *len, struct sr_error *err)
{
	struct stat st;
	char *data = NULL;
	size_t have = 0;
	ssize_t got;
	int fd;

	/* O_NONBLOCK so that a FIFO in its place cannot hang us before fstat. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		sr_error_errno(err, "%s: cannot open", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sr_error_errno(err, "%s: fstat", path);
		goto out_close;
	}
	if (check_file(path, &st, err) < 0)
		goto out_close;
	/* One byte more than allowed, so that a file that grew is still caught. */
	data = malloc(FILE_MAX_LEN + 2);
	if (data == NULL) {
		sr_error_errno(err, "%s: malloc", path);
		goto out_close;
	}
	while (have <= FILE_MAX_LEN) {
		got = read(fd, data + have, FILE_MAX_LEN + 1 - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			sr_error_errno(err, "%s: cannot read", path);
			goto out_free;
		}
		if (got == 0)
			break;
		have += (size_t)got;
	}
	if (have > FILE_MAX_LEN) {
		sr_error_set(err, "%s: larger than %d bytes", path, FILE_MAX_LEN);
		goto out_free;
	}
	data[have] = '\0';
	*len = have;
	close(fd);
	return data;

out_free:
	free(data);
	data = NULL;
out_close:
	close(fd);
	return data;
}

/* Login names as useradd takes them: the net child's user must look like one. */
static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= SR_CONFIG_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* Reads VALUE into the field KW names, by its kind. */
static int
parse_value(struct sr_config *cfg, const struct keyword *kw, const char *value,
	    struct sr_error *err)
{
	char *field = (char *)cfg + kw->off;
	int64_t v;

	switch (kw->kind) {
	case K_CUSTOM:
		return kw->parse(cfg, value, err);
	case K_INT:
		return parse_int(value, kw->min, kw->max, (int *)(void *)field, err);
	case K_BOOL:
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return sr_error_set(err, "\"%s\" is neither yes nor no", value);
		*(int *)(void *)field = strcmp(value, "yes") == 0;
		return 0;
	case K_LIMIT:
		if (sr_policy_limit_parse(kw->limit, value, &v, err) < 0)
			return -1;
		/* "default" means the configuration's value, so it cannot be one. */
		if (v <= 0)
			return sr_error_set(err, "\"%s\": give a value above zero", value);
		if (kw->max > 0 && v > kw->max)
			return sr_error_set(err, "\"%s\" is above the maximum of %ld bytes", value,
					    kw->max);
		*(int64_t *)(void *)field = v;
		return 0;
	case K_NAME:
		if (!name_ok(value))
			return sr_error_set(err, "\"%s\" is not a login name", value);
		snprintf(field, SR_CONFIG_NAME_MAX, "%s", value);
		return 0;
	}
	return sr_error_set(err, "keyword of unknown kind");
}

static const struct keyword *
find_keyword(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYWORDS; i++) {
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	}
	return NULL;
}

/*
 * Cuts the line at its comment and splits it into at most three words; a
 * third word only exists to be reported.  Returns the number of words.
 * A '#' inside a word ("/srv/room#2") is part of the word, as in sshd.
 */
static int
split_words(char *line, char *words[3])
{
	char *p = line;
	int n = 0;

	while (n < 3) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			break;
		words[n++] = p;
		p += strcspn(p, " \t");
		if (*p == '\0')
			break;
		*p++ = '\0';
	}
	return n;
}

/* Control characters have no business in a value and hide in terminals. */
static int
check_chars(const char *line, size_t len, struct sr_error *err)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)line[i];
		if (c == '\0')
			return sr_error_set(err, "NUL byte");
		if (c == '\r')
			return sr_error_set(err, "carriage return (DOS line ending?)");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return sr_error_set(err, "control character 0x%02x", c);
	}
	return 0;
}

/* Parses one line; the message in err lacks the FILE:LINE the caller adds. */
static int
parse_line(struct sr_config *cfg, char *line, unsigned int lineno, unsigned int first[],
	   struct sr_error *err)
{
	const struct keyword *kw;
	struct sr_error why = { "" };
	char *words[3];
	size_t k;
	int n;

	n = split_words(line, words);
	if (n == 0)
		return 0;
	kw = find_keyword(words[0]);
	if (kw == NULL)
		return sr_error_set(err, "unknown keyword \"%s\"", words[0]);
	if (n == 1)
		return sr_error_set(err, "%s needs a value", kw->name);
	if (n == 3)
		return sr_error_set(err, "%s takes one value; extra words from \"%s\"",
				    kw->name, words[2]);
	k = (size_t)(kw - keywords);
	if (first[k] != 0 && !kw->repeatable)
		return sr_error_set(err, "%s given again (first on line %u)", kw->name, first[k]);
	if (parse_value(cfg, kw, words[1], &why) < 0)
		return sr_error_set(err, "bad %s: %s", kw->name, sr_error_msg(&why));
	if (first[k] == 0)
		first[k] = lineno;
	return 0;
}

static int
parse_text(struct sr_config *cfg, char *data, size_t len, unsigned int first[],
	   struct sr_error *err)
{
	struct sr_error why = { "" };
	unsigned int lineno = 0;
	char *line = data, *end = data + len, *nl;
	size_t n;
	int rc;

	while (line < end) {
		lineno++;
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		if (n > LINE_MAX_LEN)
			rc = sr_error_set(&why, "line longer than %d bytes", LINE_MAX_LEN);
		else
			rc = check_chars(line, n, &why);
		if (rc == 0) {
			line[n] = '\0';
			rc = parse_line(cfg, line, lineno, first, &why);
		}
		if (rc < 0)
			return sr_error_set(err, "%s:%u: %s", cfg->path, lineno, why.msg);
		line += n + 1;
	}
	return 0;
}

/*
 * Gives every keyword the file left out its default, through the same parser
 * so that a default can never be a value the file could not hold.
 */
static int
apply_defaults(struct sr_config *cfg, const unsigned int first[], struct sr_error *err)
{
	struct sr_error why = { "" };
	size_t i, n;

	for (i = 0; i < N_KEYWORDS; i++) {
		if (first[i] != 0 || keywords[i].def == NULL)
			continue;
		if (parse_value(cfg, &keywords[i], keywords[i].def, &why) < 0)
			return sr_error_set(err, "built-in default of %s: %s", keywords[i].name,
					    why.msg);
	}
	if (cfg->host_key != NULL)
		return 0;
	/* The host key follows state_dir unless the file says otherwise. */
	n = strlen(cfg->state_dir);
	if (asprintf(&cfg->host_key, "%s%shost_key", cfg->state_dir,
		     cfg->state_dir[n - 1] == '/' ? "" : "/") < 0) {
		cfg->host_key = NULL;
		return sr_error_errno(err, "asprintf");
	}
	return 0;
}

struct sr_config *
sr_config_load(const char *path, struct sr_error *err)
{
	unsigned int first[N_KEYWORDS] = { 0 };
	struct sr_config *cfg;
	char *data;
	size_t len;

	path = sr_config_path(path);
	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		sr_error_errno(err, "calloc");
		return NULL;
	}
	cfg->path = strdup(path);
	if (cfg->path == NULL) {
		sr_error_errno(err, "strdup");
		goto out_free;
	}
	data = read_file(path, &len, err);
	if (data == NULL)
		goto out_free;
	if (parse_text(cfg, data, len, first, err) < 0 ||
	    apply_defaults(cfg, first, err) < 0)
		goto out_data;
	free(data);
	return cfg;

out_data:
	free(data);
out_free:
	sr_config_free(cfg);
	return NULL;
}

void
sr_config_free(struct sr_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->host_key);
	free(cfg);
}
