/*
 * seals.c — the witness file STATE_DIR/audit.seals.
 *
 * Each seal of the chain head is also appended here as one line,
 * "SEQ HASHHEX TIME_MS\n", so that cutting rows off the end of audit.db is
 * detectable without the kernel audit log: a seal naming a seq the db no
 * longer has means the tail was removed.  Lines are only ever appended
 * (O_APPEND, one write each) and fsync'd before the seal counts.  The reader
 * is strict: a line that does not parse is an error naming the line, never
 * skipped, because a skipped seal is a check silently not made.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saferoom/audit.h"

/* "SEQ HASH TIME\n": two 19-digit numbers, 64 hex digits, separators. */
#define SEAL_LINE_MAX 128

static int
seals_path(const char *state_dir, char *path, size_t len, struct sr_error *err)
{
	if ((size_t)snprintf(path, len, "%s/%s", state_dir, SR_AUDIT_SEALS) >= len)
		return sr_error_set(err, "%s: state directory path too long", state_dir);
	return 0;
}

/* A non-negative decimal integer with nothing after it. */
static int
parse_int64(const char *s, int64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Parses "SEQ HASHHEX TIME_MS" (the newline already removed). */
static int
parse_line(char *line, struct sr_audit_seal *seal)
{
	char *seq, *hash, *time, *extra, *save = NULL;
	int64_t time_ms;

	seq = strtok_r(line, " ", &save);
	hash = strtok_r(NULL, " ", &save);
	time = strtok_r(NULL, " ", &save);
	extra = strtok_r(NULL, " ", &save);
	if (seq == NULL || hash == NULL || time == NULL || extra != NULL)
		return -1;
	if (parse_int64(seq, &seal->seq) < 0 || seal->seq < 1 ||
	    sr_audit_unhex(hash, seal->hash) < 0 || parse_int64(time, &time_ms) < 0)
		return -1;
	return 0;
}

static int
push_seal(struct sr_audit_seal **v, size_t *n, size_t *cap, const struct sr_audit_seal *s)
{
	struct sr_audit_seal *nv;

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 64;
		nv = realloc(*v, *cap * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = *s;
	return 0;
}

static int
read_lines(FILE *f, const char *path, struct sr_audit_seal **v, size_t *n,
	   struct sr_error *err)
{
	char line[SEAL_LINE_MAX];
	struct sr_audit_seal seal;
	size_t cap = 0, lineno = 0, len;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		/* A line without its newline is too long or was cut short: not a seal. */
		if (len == 0 || line[len - 1] != '\n')
			return sr_error_set(err, "%s:%zu: malformed seal line", path, lineno);
		line[len - 1] = '\0';
		if (parse_line(line, &seal) < 0)
			return sr_error_set(err, "%s:%zu: malformed seal line", path, lineno);
		if (push_seal(v, n, &cap, &seal) < 0)
			return sr_error_set(err, "out of memory");
	}
	if (ferror(f))
		return sr_error_errno(err, "%s: read", path);
	return 0;
}

int
sr_audit_seals_read(const char *state_dir, struct sr_audit_seal **out, size_t *n,
		    struct sr_error *err)
{
	char path[PATH_MAX];
	FILE *f;
	int fd, rc;

	*out = NULL;
	*n = 0;
	if (seals_path(state_dir, path, sizeof(path), err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return sr_error_errno(err, "%s", path);
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return sr_error_errno(err, "%s", path);
	}
	rc = read_lines(f, path, out, n, err);
	fclose(f);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Makes a newly created witness file's directory entry durable too. */
static int
sync_dir(const char *state_dir, struct sr_error *err)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return sr_error_errno(err, "%s", state_dir);
	if (fsync(fd) < 0)
		rc = sr_error_errno(err, "%s: fsync", state_dir);
	close(fd);
	return rc;
}

static int
open_witness(const char *path, int *created, struct sr_error *err)
{
	int fd;

	*created = 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 || errno != ENOENT)
		goto out;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	*created = fd >= 0;
out:
	if (fd < 0)
		sr_error_errno(err, "%s", path);
	return fd;
}

int
sr_audit_seals_append(const char *state_dir, const struct sr_audit_seal *seal,
		      int64_t time_ms, struct sr_error *err)
{
	char path[PATH_MAX], hex[2 * SR_AUDIT_HASH_LEN + 1], line[SEAL_LINE_MAX];
	int fd, created, len, rc = -1;
	ssize_t written;

	if (seal->seq < 1)
		return sr_error_set(err, "refusing to seal an empty audit trail");
	if (seals_path(state_dir, path, sizeof(path), err) < 0)
		return -1;
	sr_audit_hex(seal->hash, hex);
	len = snprintf(line, sizeof(line), "%" PRId64 " %s %" PRId64 "\n", seal->seq, hex, time_ms);
	fd = open_witness(path, &created, err);
	if (fd < 0)
		return -1;
	/* One write, so that concurrent readers see a whole line or none of it. */
	written = write(fd, line, (size_t)len);
	if (written != len) {
		if (written >= 0)
			errno = EIO;
		sr_error_errno(err, "%s: write", path);
		goto out_close;
	}
	if (fsync(fd) < 0) {
		sr_error_errno(err, "%s: fsync", path);
		goto out_close;
	}
	rc = created ? sync_dir(state_dir, err) : 0;
out_close:
	close(fd);
	return rc;
}
