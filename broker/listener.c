/*
 * listener.c — the master's listening sockets.
 *
 * saferoomd makes its own sockets rather than letting libssh bind, because
 * it listens on several addresses of both families and forks before libssh
 * sees a connection (ssh_bind_accept_fd in the net child).  An IPv6 socket
 * is IPV6_V6ONLY so that "[::]:22" and "0.0.0.0:22" can both be listed and
 * an IPv4 client always arrives with an IPv4 address, which is what
 * allow_from networks are written in.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

void
sr_sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outlen);
		return;
	}
	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)outlen);
		return;
	}
	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen);
		return;
	}
	snprintf(out, outlen, "unknown");
}

static int
listen_one(const struct sr_listen *addr, struct sr_error *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)addr->port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)addr->port);
		len = sizeof(*s6);
	} else {
		return sr_error_set(err, "listen %s: not a numeric address", addr->host);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sr_error_errno(err, "listen %s:%d: socket", addr->host, addr->port);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		sr_error_errno(err, "listen %s:%d", addr->host, addr->port);
		close(fd);
		return -1;
	}
	return fd;
}

int
sr_listener_open(struct sr_listener *l, const struct sr_config *cfg, struct sr_error *err)
{
	size_t i;
	int fd;

	l->n = 0;
	for (i = 0; i < cfg->n_listen; i++) {
		fd = listen_one(&cfg->listen[i], err);
		if (fd < 0) {
			sr_listener_close(l);
			return -1;
		}
		l->fds[l->n] = fd;
		l->addrs[l->n] = cfg->listen[i];
		l->n++;
	}
	return 0;
}

int
sr_listener_same(const struct sr_listener *l, const struct sr_config *cfg)
{
	size_t i;

	if (l->n != cfg->n_listen)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->addrs[i].host, cfg->listen[i].host) != 0 ||
		    l->addrs[i].port != cfg->listen[i].port)
			return 0;
	}
	return 1;
}

void
sr_listener_close(struct sr_listener *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		close(l->fds[i]);
	l->n = 0;
}
