/*
 * keys.c — reading an administrator's public key file with libssh.
 *
 * Only a single OpenSSH public key line is accepted ("TYPE BASE64 [COMMENT]").
 * libssh would happily derive a public key from a *private* key file, which
 * would let a private key be copied into the policy store's neighbourhood and
 * hide the mistake, so such files are refused by name before libssh sees
 * them.  Certificates, DSA and RSA keys under 2048 bits are refused as well.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "internal.h"

#define KEY_FILE_MAX 16384
#define RSA_MIN_BITS 2048

/* Reads FILE whole (it is small) into a NUL-terminated buffer. */
static char *
slurp(const char *file, size_t *size, struct sr_error *err)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		sr_error_errno(err, "key file %s", file);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
		sr_error_set(err, "key file %s: not a public key file", file);
		goto out;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf == NULL) {
		sr_error_set(err, "out of memory");
		goto out;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size) {
		sr_error_set(err, "key file %s: short read", file);
		free(buf);
		buf = NULL;
	}
	*size = (size_t)st.st_size;
out:
	close(fd);
	return buf;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bit length of the RSA modulus: the third string of the wire blob (type, e, n). */
static int
rsa_bits(const unsigned char *blob, size_t len)
{
	size_t off = 0;
	uint32_t n = 0;

	for (int i = 0; i < 3; i++) {
		if (len - off < 4)
			return -1;
		n = get_u32(blob + off);
		off += 4;
		if (n > len - off)
			return -1;
		if (i < 2)
			off += n;
	}
	while (n > 0 && blob[off] == 0) {
		off++;
		n--;
	}
	if (n == 0)
		return 0;
	return (int)(n - 1) * 8 + (32 - __builtin_clz(blob[off]));
}

static int
decode_blob(const char *b64, struct sr_policy_pubkey *key)
{
	size_t len = strlen(b64), pad = 0;
	int n;

	if (len == 0 || len % 4 != 0)
		return -1;
	key->blob = malloc(len / 4 * 3);
	if (key->blob == NULL)
		return -1;
	n = EVP_DecodeBlock(key->blob, (const unsigned char *)b64, (int)len);
	if (n < 0)
		return -1;
	pad = (b64[len - 1] == '=') + (b64[len - 2] == '=');
	key->blob_len = (size_t)n - pad;
	return 0;
}

static int
key_bits(enum ssh_keytypes_e type, const struct sr_policy_pubkey *key)
{
	switch (type) {
	case SSH_KEYTYPE_RSA:
		return rsa_bits(key->blob, key->blob_len);
	case SSH_KEYTYPE_ECDSA_P384:
		return 384;
	case SSH_KEYTYPE_ECDSA_P521:
		return 521;
	default:
		return 256;   /* ed25519, ecdsa P-256 and their security-key forms */
	}
}

static int
type_allowed(enum ssh_keytypes_e type)
{
	switch (type) {
	case SSH_KEYTYPE_RSA:
	case SSH_KEYTYPE_ED25519:
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
	case SSH_KEYTYPE_SK_ECDSA:
	case SSH_KEYTYPE_SK_ED25519:
		return 1;
	default:
		return 0;
	}
}

static int
fingerprint(ssh_key k, struct sr_policy_pubkey *key)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != SSH_OK)
		return -1;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (fp == NULL || strlen(fp) >= sizeof(key->fingerprint)) {
		ssh_string_free_char(fp);
		return -1;
	}
	strcpy(key->fingerprint, fp);
	ssh_string_free_char(fp);
	return 0;
}

/* Checks one "TYPE BASE64 [COMMENT]" line and fills KEY. */
static int
parse_line(char *line, const char *file, struct sr_policy_pubkey *key, struct sr_error *err)
{
	char *type, *b64, *comment, *save = NULL;
	enum ssh_keytypes_e kt;
	ssh_key k = NULL;

	type = strtok_r(line, " \t", &save);
	b64 = strtok_r(NULL, " \t", &save);
	comment = strtok_r(NULL, "", &save);
	kt = type ? ssh_key_type_from_name(type) : SSH_KEYTYPE_UNKNOWN;
	if (b64 == NULL || kt == SSH_KEYTYPE_UNKNOWN)
		return sr_error_set(err, "%s: not an OpenSSH public key", file);
	if (!type_allowed(kt))
		return sr_error_set(err, "%s: %s keys are not accepted (use ed25519, ecdsa or "
				    "rsa >= %d bits)", file, type, RSA_MIN_BITS);
	if (ssh_pki_import_pubkey_base64(b64, kt, &k) != SSH_OK || ssh_key_type(k) != kt ||
	    decode_blob(b64, key) < 0 || fingerprint(k, key) < 0) {
		ssh_key_free(k);
		return sr_error_set(err, "%s: not a valid %s public key", file, type);
	}
	ssh_key_free(k);
	key->bits = key_bits(kt, key);
	if (kt == SSH_KEYTYPE_RSA && key->bits < RSA_MIN_BITS)
		return sr_error_set(err, "%s: RSA key of %d bits; at least %d are required", file,
				    key->bits, RSA_MIN_BITS);
	snprintf(key->type, sizeof(key->type), "%s", type);
	snprintf(key->comment, sizeof(key->comment), "%s", comment ? comment : "");
	return 0;
}

int
sr_policy_pubkey_read(const char *file, struct sr_policy_pubkey *key, struct sr_error *err)
{
	char *buf, *end;
	size_t size = 0;
	int rc = -1;

	memset(key, 0, sizeof(*key));
	buf = slurp(file, &size, err);
	if (buf == NULL)
		return -1;
	if (strstr(buf, "PRIVATE KEY") != NULL) {
		sr_error_set(err, "%s is a private key: give the public key (.pub) file", file);
		goto out;
	}
	end = buf + strlen(buf);
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	if (buf[0] == '\0' || strpbrk(buf, "\r\n") != NULL) {
		sr_error_set(err, "%s: expected exactly one public key line", file);
		goto out;
	}
	rc = parse_line(buf, file, key, err);
out:
	/* A private key's bytes may have been read: burn them. */
	explicit_bzero(buf, size);
	free(buf);
	if (rc < 0)
		sr_policy_pubkey_clear(key);
	return rc;
}

void
sr_policy_pubkey_clear(struct sr_policy_pubkey *key)
{
	if (key == NULL)
		return;
	free(key->blob);
	memset(key, 0, sizeof(*key));
}
