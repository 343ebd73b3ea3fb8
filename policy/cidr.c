/*
 * cidr.c — allowed source networks: parsing "a.b.c.d/n" and "x::y/n" and
 * deciding whether an address lies in one.
 *
 * Policy keeps its own few lines for this rather than borrow the broker's
 * config parser, so that the module depends on audit alone.  An IPv4 client
 * seen on an IPv6 socket ("::ffff:10.0.0.5") is matched as the IPv4 address
 * it is, so a v4 allow list cannot be bypassed or broken by the socket type.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#define LIST_MAX 1024

static int
parse_addr(const char *text, int *family, unsigned char addr[16])
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) != 1)
		return -1;
	*family = AF_INET6;
	if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

static void
mask(unsigned char addr[16], int prefix)
{
	for (int i = 0; i < 16; i++) {
		int bits = prefix - 8 * i;

		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
	}
}

int
pol_cidr_parse(const char *text, struct pol_cidr *out)
{
	char buf[64], *slash, *end;
	long prefix;
	int max;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parse_addr(buf, &out->family, out->addr) < 0)
		return -1;
	/* A v4-mapped address was turned into IPv4 above: no v6 prefixes on it. */
	if (out->family == AF_INET && strchr(buf, ':') != NULL && slash != NULL)
		return -1;
	max = out->family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL) {
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || prefix < 0 || prefix > max)
			return -1;
	}
	out->prefix = (int)prefix;
	mask(out->addr, out->prefix);
	return 0;
}

int
pol_cidr_contains(const struct pol_cidr *net, const char *addr)
{
	unsigned char a[16];
	int family;

	if (addr == NULL || parse_addr(addr, &family, a) < 0 || family != net->family)
		return 0;
	mask(a, net->prefix);
	return memcmp(a, net->addr, 16) == 0;
}

static void
format_cidr(const struct pol_cidr *c, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, addr, sizeof(addr));
	snprintf(out, outlen, "%s/%d", addr, c->prefix);
}

int
pol_cidr_list_parse(const char *text, char **norm, struct sr_error *err)
{
	char buf[LIST_MAX], out[LIST_MAX], one[80], *tok, *save = NULL;
	size_t len = 0;

	*norm = NULL;
	if (text == NULL || strcmp(text, "any") == 0)
		return 0;
	if (strlen(text) >= sizeof(buf))
		return sr_error_set(err, "allow_from: list too long");
	strcpy(buf, text);
	out[0] = '\0';
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		struct pol_cidr c;

		if (pol_cidr_parse(tok, &c) < 0)
			return sr_error_set(err, "allow_from: bad network \"%s\": use a.b.c.d/n "
					    "or x::y/n, comma-separated, or any", tok);
		format_cidr(&c, one, sizeof(one));
		len += snprintf(out + len, sizeof(out) - len, "%s%s", len ? "," : "", one);
		if (len >= sizeof(out))
			return sr_error_set(err, "allow_from: list too long");
	}
	if (len == 0)
		return sr_error_set(err, "allow_from: empty list: give networks or any");
	*norm = strdup(out);
	if (*norm == NULL)
		return sr_error_set(err, "out of memory");
	return 0;
}

int
pol_cidr_list_contains(const char *list, const char *addr)
{
	char buf[LIST_MAX], *tok, *save = NULL;

	if (list == NULL || list[0] == '\0')
		return 1;
	if (strlen(list) >= sizeof(buf))
		return 0;
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		struct pol_cidr c;

		if (pol_cidr_parse(tok, &c) == 0 && pol_cidr_contains(&c, addr))
			return 1;
	}
	return 0;
}
