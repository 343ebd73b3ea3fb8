/*
 * recording.c — finished session recordings: compressed for keeping, read
 * back for replay.
 *
 * A terminal session's asciicast is mostly repeated escape sequences and
 * prompts, which gzip shrinks several times over; recordings are kept for
 * the whole retention period, so they are compressed once the session has
 * ended.  The audit chain's session.end event keeps naming the plain file
 * (NAME) and the SHA-256 of its plain bytes: that hash is of the evidence
 * itself, does not depend on the compressor's version or level, and can be
 * taken before compressing, so nothing in the trail changes when a file is
 * compressed later or never.  `zcat NAME.gz | sha256sum` checks a file by
 * hand; `audit replay` does the same.
 *
 * Compression writes NAME.gz.tmp, fsyncs it, renames it to NAME.gz and only
 * then removes NAME, so a crash leaves a complete NAME, or both (identical
 * contents), or a complete NAME.gz, never a torn file in the only copy.
 * Reading prefers NAME, which exists alone or beside an identical NAME.gz.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "saferoom/audit.h"

#define CHUNK 65536
#define TMP_SUFFIX ".tmp"

/* ---- compressing ----------------------------------------------------------------- */

static int
check_name(const char *name, struct sr_error *err)
{
	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return sr_error_set(err, "recording: \"%s\" is not a plain file name",
				    name != NULL ? name : "");
	if (strlen(name) + sizeof(SR_RECORDING_GZ_SUFFIX TMP_SUFFIX) > NAME_MAX + 1)
		return sr_error_set(err, "recording: file name \"%s\" too long to compress", name);
	return 0;
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Runs deflate over what is in zs until it wants more input (or, finishing, is done). */
static int
deflate_out(z_stream *zs, int flush, int out_fd, const char *name, struct sr_error *err)
{
	unsigned char out[CHUNK];
	int rc;

	do {
		zs->next_out = out;
		zs->avail_out = sizeof(out);
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
			return sr_error_set(err, "recording %s: deflate failed", name);
		if (write_all(out_fd, out, sizeof(out) - zs->avail_out) < 0)
			return sr_error_errno(err, "recording %s: writing the compressed file", name);
	} while (zs->avail_out == 0);
	if (flush == Z_FINISH && rc != Z_STREAM_END)
		return sr_error_set(err, "recording %s: deflate did not finish", name);
	return 0;
}

/* Compresses in_fd into out_fd as one gzip member; md gets every plain byte. */
static int
gzip_copy(int in_fd, int out_fd, EVP_MD_CTX *md, const char *name, struct sr_error *err)
{
	unsigned char in[CHUNK];
	z_stream zs;
	ssize_t n;
	int rc = -1;

	memset(&zs, 0, sizeof(zs));
	/*
	 * 15 + 16: a gzip wrapper, so that zcat and gzip -t read it.  The
	 * default level: a long session's recording is compressed as the
	 * session ends, and level 9 would take several times as long for a few
	 * per cent.
	 */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return sr_error_set(err, "recording %s: cannot set up deflate", name);
	for (;;) {
		n = read(in_fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sr_error_errno(err, "recording %s: read", name);
			goto out;
		}
		if (EVP_DigestUpdate(md, in, (size_t)n) != 1) {
			sr_error_set(err, "recording %s: SHA-256 failed", name);
			goto out;
		}
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		if (deflate_out(&zs, n == 0 ? Z_FINISH : Z_NO_FLUSH, out_fd, name, err) < 0)
			goto out;
		if (n == 0)
			break;
	}
	rc = 0;
out:
	deflateEnd(&zs);
	return rc;
}

static int
check_digest(EVP_MD_CTX *md, const unsigned char want[SR_AUDIT_HASH_LEN], const char *name,
	     struct sr_error *err)
{
	unsigned char got[SR_AUDIT_HASH_LEN];
	char got_hex[2 * SR_AUDIT_HASH_LEN + 1], want_hex[2 * SR_AUDIT_HASH_LEN + 1];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(md, got, &len) != 1 || len != SR_AUDIT_HASH_LEN)
		return sr_error_set(err, "recording %s: SHA-256 failed", name);
	if (want == NULL || memcmp(got, want, SR_AUDIT_HASH_LEN) == 0)
		return 0;
	sr_audit_hex(got, got_hex);
	sr_audit_hex(want, want_hex);
	return sr_error_set(err, "recording %s: sha256 %s is not the %s the trail recorded;"
			    " left uncompressed", name, got_hex, want_hex);
}

/* Makes the directory's entries durable: the rename, then the removal. */
static int
sync_dir(int dirfd, const char *name, struct sr_error *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return sr_error_errno(err, "recording %s: open directory", name);
	if (fsync(fd) < 0)
		rc = sr_error_errno(err, "recording %s: fsync directory", name);
	close(fd);
	return rc;
}

/* NAME.gz.tmp, complete and on disk, or an error with the temporary file gone. */
static int
write_tmp(int dirfd, int in_fd, const char *name, const char *tmp,
	  const unsigned char sha256[SR_AUDIT_HASH_LEN], struct sr_error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int out_fd, rc = -1;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return sr_error_set(err, "recording %s: cannot set up SHA-256", name);
	}
	/* A temporary file left by a crash is ours and incomplete. */
	(void)unlinkat(dirfd, tmp, 0);
	out_fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out_fd < 0) {
		sr_error_errno(err, "recording %s: create %s", name, tmp);
		goto out_md;
	}
	if (gzip_copy(in_fd, out_fd, md, name, err) < 0 || check_digest(md, sha256, name, err) < 0)
		goto out_close;
	if (fsync(out_fd) < 0) {
		sr_error_errno(err, "recording %s: fsync %s", name, tmp);
		goto out_close;
	}
	rc = 0;
out_close:
	if (close(out_fd) < 0 && rc == 0)
		rc = sr_error_errno(err, "recording %s: close %s", name, tmp);
	if (rc < 0)
		(void)unlinkat(dirfd, tmp, 0);
out_md:
	EVP_MD_CTX_free(md);
	return rc;
}

int
sr_recording_compress(int dirfd, const char *name, const unsigned char sha256[SR_AUDIT_HASH_LEN],
		      struct sr_error *err)
{
	char gz[NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct stat sb;
	int in_fd, rc;

	if (check_name(name, err) < 0)
		return -1;
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", name, SR_RECORDING_GZ_SUFFIX) >= sizeof(gz) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s%s", gz, TMP_SUFFIX) >= sizeof(tmp))
		return sr_error_set(err, "recording: file name \"%s\" too long to compress", name);
	in_fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (in_fd < 0)
		return sr_error_errno(err, "recording %s", name);
	if (fstat(in_fd, &sb) < 0)
		rc = sr_error_errno(err, "recording %s: fstat", name);
	else if (!S_ISREG(sb.st_mode))
		rc = sr_error_set(err, "recording %s: not a regular file", name);
	else
		rc = write_tmp(dirfd, in_fd, name, tmp, sha256, err);
	close(in_fd);
	if (rc < 0)
		return -1;
	if (renameat(dirfd, tmp, dirfd, gz) < 0) {
		sr_error_errno(err, "recording %s: rename to %s", name, gz);
		(void)unlinkat(dirfd, tmp, 0);
		return -1;
	}
	/* NAME.gz must be on disk before the only other copy goes. */
	if (sync_dir(dirfd, name, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, 0) < 0)
		return sr_error_errno(err, "recording %s: remove after compressing", name);
	return sync_dir(dirfd, name, err);
}

/* ---- reading back ----------------------------------------------------------------- */

/* The name comes from the trail: open it beneath recordings/ and nowhere else. */
static int
open_beneath(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/* Reads the whole regular file, at most max bytes, so that the bytes hashed are the bytes used. */
static int
slurp(int fd, const char *name, size_t max, unsigned char **buf, size_t *len,
      struct sr_error *err)
{
	struct stat sb;
	ssize_t got;

	if (fstat(fd, &sb) < 0)
		return sr_error_errno(err, "%s", name);
	if (!S_ISREG(sb.st_mode))
		return sr_error_set(err, "%s: not a regular file", name);
	if ((uint64_t)sb.st_size > max)
		return sr_error_set(err, "%s: larger than %zu bytes", name, max);
	*buf = malloc((size_t)sb.st_size + 1);
	if (*buf == NULL)
		return sr_error_set(err, "out of memory");
	*len = 0;
	while ((got = read(fd, *buf + *len, (size_t)sb.st_size + 1 - *len)) > 0 ||
	       (got < 0 && errno == EINTR))
		*len += got > 0 ? (size_t)got : 0;
	/* One byte more than fstat said is a file still growing: not the one recorded. */
	if (got < 0 || *len != (size_t)sb.st_size) {
		free(*buf);
		*buf = NULL;
		return got < 0 ? sr_error_errno(err, "%s", name) :
			sr_error_set(err, "%s: changed while being read", name);
	}
	return 0;
}

/* Grows *out to hold at least need bytes, never beyond max + 1. */
static int
grow(unsigned char **out, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap != 0 ? *cap : CHUNK;
	unsigned char *p;

	while (n < need)
		n *= 2;
	if (n > max + 1)
		n = max + 1;
	p = realloc(*out, n);
	if (p == NULL)
		return -1;
	*out = p;
	*cap = n;
	return 0;
}

/* Inflates exactly one gzip member filling all of in[0..in_len), into at most max bytes. */
static int
gunzip(const unsigned char *in, size_t in_len, size_t max, unsigned char **out, size_t *len,
       const char *name, struct sr_error *err)
{
	size_t cap = 0;
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (in_len > UINT_MAX || inflateInit2(&zs, 15 + 16) != Z_OK)
		return sr_error_set(err, "%s: cannot set up inflate", name);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)in_len;
	*out = NULL;
	*len = 0;
	do {
		/* Room for one byte beyond max tells a recording too large (or a bomb). */
		if (*len == cap && cap > max) {
			rc = sr_error_set(err, "%s: decompresses to more than %zu bytes", name, max);
			goto out_fail;
		}
		if (*len == cap && grow(out, &cap, *len + CHUNK, max) < 0) {
			rc = sr_error_set(err, "out of memory");
			goto out_fail;
		}
		zs.next_out = *out + *len;
		zs.avail_out = (uInt)(cap - *len);
		rc = inflate(&zs, Z_NO_FLUSH);
		*len = cap - zs.avail_out;
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END || zs.avail_in != 0 || *len > max) {
		rc = sr_error_set(err, "%s: %s", name, rc != Z_STREAM_END ? "corrupt gzip data" :
				  zs.avail_in != 0 ? "data after the gzip stream" :
				  "decompresses to too many bytes");
		goto out_fail;
	}
	inflateEnd(&zs);
	return 0;
out_fail:
	inflateEnd(&zs);
	free(*out);
	*out = NULL;
	return rc;
}

int
sr_recording_read(const char *state_dir, const char *name, size_t max, unsigned char **buf,
		  size_t *len, struct sr_error *err)
{
	char dir[PATH_MAX], gz[NAME_MAX + 1];
	unsigned char *packed = NULL;
	size_t packed_len = 0;
	int dirfd, fd, rc;

	*buf = NULL;
	*len = 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", state_dir, SR_AUDIT_RECORDINGS) >=
	    sizeof(dir))
		return sr_error_set(err, "%s: path too long", state_dir);
	if ((size_t)snprintf(gz, sizeof(gz), "%s%s", name, SR_RECORDING_GZ_SUFFIX) >= sizeof(gz))
		return sr_error_set(err, "recording name \"%s\" too long", name);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return sr_error_errno(err, "%s", dir);
	fd = open_beneath(dirfd, name);
	if (fd >= 0) {
		rc = slurp(fd, name, max, buf, len, err);
		goto out;
	}
	if (errno != ENOENT) {
		rc = sr_error_errno(err, "%s/%s", dir, name);
		goto out_dir;
	}
	fd = open_beneath(dirfd, gz);
	if (fd < 0) {
		rc = errno == ENOENT ? sr_error_set(err, "%s/%s: no such recording (neither it nor"
						    " %s exists)", dir, name, gz) :
			sr_error_errno(err, "%s/%s", dir, gz);
		goto out_dir;
	}
	/* The compressed file is never larger than its contents, bar a few bytes of header. */
	rc = slurp(fd, gz, max + 4096, &packed, &packed_len, err);
	if (rc == 0)
		rc = gunzip(packed, packed_len, max, buf, len, gz, err);
	free(packed);
out:
	close(fd);
out_dir:
	close(dirfd);
	return rc;
}
