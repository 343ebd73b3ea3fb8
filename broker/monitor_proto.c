/*
 * monitor_proto.c — encoding and transport of monitor messages.
 *
 * Deliberately dull: fixed-size buffers, no allocation, a sticky `bad` flag
 * instead of an error check after every field, so that a decoder written as
 * a straight list of gets cannot forget one.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "monitor_proto.h"

void
sr_mon_msg_init(struct sr_mon_msg *m, uint32_t type)
{
	m->type = type;
	m->len = 0;
	m->off = 0;
	m->bad = 0;
}

static void
put_bytes(struct sr_mon_msg *m, const void *p, size_t n)
{
	if (m->bad || n > sizeof(m->buf) - m->len) {
		m->bad = 1;
		return;
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

void
sr_mon_put_u32(struct sr_mon_msg *m, uint32_t v)
{
	put_bytes(m, &v, sizeof(v));
}

void
sr_mon_put_str(struct sr_mon_msg *m, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n > SR_MON_STR_MAX) {
		m->bad = 1;
		return;
	}
	sr_mon_put_u32(m, (uint32_t)n);
	put_bytes(m, s, n);
}

uint32_t
sr_mon_get_u32(struct sr_mon_msg *m)
{
	uint32_t v;

	if (m->bad || m->len - m->off < sizeof(v)) {
		m->bad = 1;
		return 0;
	}
	memcpy(&v, m->buf + m->off, sizeof(v));
	m->off += sizeof(v);
	return v;
}

void
sr_mon_get_str(struct sr_mon_msg *m, char *out, size_t outlen)
{
	uint32_t n = sr_mon_get_u32(m);

	out[0] = '\0';
	if (m->bad || n > SR_MON_STR_MAX || n >= outlen || m->len - m->off < n ||
	    memchr(m->buf + m->off, '\0', n) != NULL) {
		m->bad = 1;
		return;
	}
	memcpy(out, m->buf + m->off, n);
	out[n] = '\0';
	m->off += n;
}

int
sr_mon_msg_done(const struct sr_mon_msg *m)
{
	return (m->bad || m->off != m->len) ? -1 : 0;
}

int
sr_mon_send(int fd, const struct sr_mon_msg *m, struct sr_error *err)
{
	unsigned char frame[sizeof(uint32_t) + SR_MON_MSG_MAX];
	size_t n = sizeof(uint32_t) + m->len;
	ssize_t w;

	if (m->bad)
		return sr_error_set(err, "monitor message %u too large", m->type);
	memcpy(frame, &m->type, sizeof(uint32_t));
	memcpy(frame + sizeof(uint32_t), m->buf, m->len);
	do {
		w = send(fd, frame, n, MSG_NOSIGNAL);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return sr_error_errno(err, "monitor socket");
	return 0;
}

int
sr_mon_recv(int fd, struct sr_mon_msg *m, struct sr_error *err)
{
	unsigned char frame[sizeof(uint32_t) + SR_MON_MSG_MAX + 1];
	ssize_t r;

	do {
		r = recv(fd, frame, sizeof(frame), 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return sr_error_errno(err, "monitor socket");
	if (r == 0) {
		errno = 0;
		return sr_error_set(err, "monitor socket closed");
	}
	if ((size_t)r < sizeof(uint32_t) || (size_t)r > sizeof(uint32_t) + SR_MON_MSG_MAX)
		return sr_error_set(err, "monitor message of %zd bytes", r);
	sr_mon_msg_init(m, 0);
	memcpy(&m->type, frame, sizeof(uint32_t));
	m->len = (size_t)r - sizeof(uint32_t);
	memcpy(m->buf, frame + sizeof(uint32_t), m->len);
	return 0;
}
