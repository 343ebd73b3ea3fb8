/*
 * quarantine.c — the copies that stewards review and requesters fetch.
 *
 * STATE_DIR/quarantine is a directory only the broker's user (root) can
 * enter (0700).  A submitted file is copied into a fresh file there
 * (O_EXCL, 0600) while it is hashed, fsync'd with its directory, and made
 * read-only (0400): it is never written again, so the hash recorded with the
 * request names these bytes for as long as the request exists.  Every later
 * reader (checks, preview, diff, fetch) goes through
 * export_quarantine_load(), which checks size and SHA-256 again before a
 * byte is used; a copy altered on disk is refused, never served.
 *
 * Names are random (the time and 128 bits from getrandom), so two sessions
 * submitting at the same moment never collide and a name reveals nothing
 * about the file.  Files are opened beneath the directory's fd without
 * following symlinks.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "export_internal.h"

#define COPY_CHUNK (64 * 1024)

static int
open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};

	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/*
 * Opens STATE_DIR/quarantine, creating it 0700 when missing, and refuses one
 * that others could enter or that belongs to someone else.
 */
static int
quarantine_dir(const char *state_dir, int create, struct sr_error *err)
{
	struct stat st;
	int sfd, dfd;

	sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return sr_error_errno(err, "state_dir %s", state_dir);
	if (create && mkdirat(sfd, SR_EXPORT_QUARANTINE, 0700) < 0 && errno != EEXIST) {
		sr_error_errno(err, "creating %s/%s", state_dir, SR_EXPORT_QUARANTINE);
		close(sfd);
		return -1;
	}
	dfd = open_beneath(sfd, SR_EXPORT_QUARANTINE, O_RDONLY | O_DIRECTORY, 0);
	close(sfd);
	if (dfd < 0)
		return sr_error_errno(err, "%s/%s", state_dir, SR_EXPORT_QUARANTINE);
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		close(dfd);
		return sr_error_set(err, "%s/%s must be a directory of uid %ld with mode 0700",
				    state_dir, SR_EXPORT_QUARANTINE, (long)geteuid());
	}
	return dfd;
}

static int
random_name(char *name, size_t len, struct sr_error *err)
{
	unsigned char rnd[16];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t off;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return sr_error_errno(err, "getrandom");
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	off = (size_t)snprintf(name, len, "%s-", stamp);
	for (size_t i = 0; i < sizeof(rnd) && off + 2 < len; i++, off += 2)
		snprintf(name + off, len - off, "%02x", rnd[i]);
	return 0;
}

static void
hex(const unsigned char *md, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copies FD to OUT while hashing; *copied counts the bytes, stopping past max_size. */
static int
copy_hashing(int fd, int out, int64_t max_size, EVP_MD_CTX *md, int64_t *copied,
	     struct sr_error *err)
{
	unsigned char *buf = malloc(COPY_CHUNK);
	ssize_t n;
	int rc = 0;

	if (buf == NULL)
		return sr_error_set(err, "out of memory");
	*copied = 0;
	while (rc == 0 && *copied <= max_size) {
		n = read(fd, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = sr_error_errno(err, "reading the file");
		else if (n == 0)
			break;
		else if (EVP_DigestUpdate(md, buf, (size_t)n) != 1)
			rc = sr_error_set(err, "libcrypto: SHA-256 failed");
		else if (write_all(out, buf, (size_t)n) < 0)
			rc = sr_error_errno(err, "writing the quarantine copy");
		else
			*copied += n;
	}
	free(buf);
	return rc;
}

/* The file must be what fstat said before the copy: same size, not written since. */
static int
unchanged(int fd, const struct stat *before, int64_t copied, int64_t max_size,
	  struct sr_error *err)
{
	struct stat after;

	if (copied > max_size)
		return sr_error_set(err, "the file grew past the export size cap (%lld bytes) "
				    "while it was being copied", (long long)max_size);
	if (fstat(fd, &after) < 0)
		return sr_error_errno(err, "fstat");
	if (copied != before->st_size || after.st_size != before->st_size ||
	    after.st_mtim.tv_sec != before->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != before->st_mtim.tv_nsec)
		return sr_error_set(err, "the file changed while it was being copied: wait until "
				    "it is complete and submit again");
	return 0;
}

/* Copies into the open quarantine file QFD; fills q's size and hash. */
static int
store_into(int qfd, int fd, const struct stat *st, int64_t max_size,
	   struct export_quarantined *q, struct sr_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		sr_error_set(err, "libcrypto: no SHA-256");
		goto out;
	}
	if (copy_hashing(fd, qfd, max_size, ctx, &q->size, err) < 0 ||
	    unchanged(fd, st, q->size, max_size, err) < 0)
		goto out;
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		sr_error_set(err, "libcrypto: SHA-256 failed");
		goto out;
	}
	hex(md, mdlen, q->sha256);
	/* Read-only from now on: the reviewed bytes are never written again. */
	if (fchmod(qfd, 0400) < 0 || fsync(qfd) < 0) {
		sr_error_errno(err, "quarantine copy");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
export_quarantine_store(const char *state_dir, int fd, const struct stat *st, int64_t max_size,
			struct export_quarantined *q, struct sr_error *err)
{
	int dfd, qfd, rc;

	dfd = quarantine_dir(state_dir, 1, err);
	if (dfd < 0)
		return -1;
	if (random_name(q->name, sizeof(q->name), err) < 0) {
		close(dfd);
		return -1;
	}
	qfd = open_beneath(dfd, q->name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (qfd < 0) {
		sr_error_errno(err, "creating the quarantine copy");
		close(dfd);
		return -1;
	}
	rc = store_into(qfd, fd, st, max_size, q, err);
	close(qfd);
	/* The directory entry must be durable before a request names it. */
	if (rc == 0 && fsync(dfd) < 0)
		rc = sr_error_errno(err, "fsync %s/%s", state_dir, SR_EXPORT_QUARANTINE);
	if (rc < 0)
		unlinkat(dfd, q->name, 0);
	close(dfd);
	return rc;
}

void
export_quarantine_discard(const char *state_dir, const char *name)
{
	int dfd = quarantine_dir(state_dir, 0, NULL);

	if (dfd < 0)
		return;
	unlinkat(dfd, name, 0);
	close(dfd);
}

static int
read_exact(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* 0 when BUF hashes to the hex SHA256. */
static int
hash_matches(const unsigned char *buf, size_t len, const char *sha256)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char got[65];

	if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	hex(md, mdlen, got);
	return strcmp(got, sha256) == 0 ? 0 : -1;
}

static int
load_from(int fd, const char *name, int64_t size, const char *sha256, unsigned char **buf,
	  struct sr_error *err)
{
	struct stat st;
	unsigned char extra;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != size)
		return sr_error_set(err, "quarantine copy %s is not the %lld bytes that were "
				    "reviewed: refusing it", name, (long long)size);
	*buf = malloc((size_t)size + 1);
	if (*buf == NULL)
		return sr_error_set(err, "out of memory");
	if (read_exact(fd, *buf, (size_t)size) < 0 || read(fd, &extra, 1) != 0 ||
	    hash_matches(*buf, (size_t)size, sha256) < 0) {
		free(*buf);
		*buf = NULL;
		return sr_error_set(err, "quarantine copy %s does not match the reviewed SHA-256 "
				    "%.16s...: refusing it", name, sha256);
	}
	(*buf)[size] = '\0';
	return 0;
}

int
export_quarantine_load(const char *state_dir, const char *name, int64_t size, const char *sha256,
		       unsigned char **buf, struct sr_error *err)
{
	int dfd, fd, rc;

	*buf = NULL;
	dfd = quarantine_dir(state_dir, 0, err);
	if (dfd < 0)
		return -1;
	fd = open_beneath(dfd, name, O_RDONLY | O_NONBLOCK, 0);
	close(dfd);
	if (fd < 0)
		return sr_error_errno(err, "quarantine copy %s", name);
	rc = load_from(fd, name, size, sha256, buf, err);
	close(fd);
	return rc;
}
