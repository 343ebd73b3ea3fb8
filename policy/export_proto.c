/*
 * export_proto.c — the frames of the export socket, shared by the monitor's
 * side (export_serve.c) and saferoom-export inside the sandbox.
 *
 * A frame is a 4-byte big-endian length and that many bytes of one JSON
 * object (see export.h for the requests and responses).  The length is
 * checked before anything is allocated, every wait has a deadline so that a
 * client that stops mid-frame cannot hold the monitor, and sends use
 * MSG_NOSIGNAL so that a peer that went away is an error, not a SIGPIPE.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "saferoom/export.h"

static int
send_all(int fd, const void *buf, size_t len, struct sr_error *err)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sr_error_errno(err, "export socket: send");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sr_export_msg_send(int fd, struct json_object *msg, struct sr_error *err)
{
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	unsigned char hdr[4];

	if (len > SR_EXPORT_MSG_MAX)
		return sr_error_set(err, "export socket: message of %zu bytes is too long", len);
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	if (send_all(fd, hdr, sizeof(hdr), err) < 0 || send_all(fd, text, len, err) < 0)
		return -1;
	return 0;
}

/* Reads exactly LEN bytes; 0 when the peer closed before the first, -1 otherwise. */
static int
read_full(int fd, unsigned char *buf, size_t len, int timeout_ms, struct sr_error *err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < len) {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return sr_error_errno(err, "export socket: poll");
		if (rc == 0)
			return sr_error_set(err, "export socket: the peer said nothing for %d ms",
					    timeout_ms);
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sr_error_errno(err, "export socket: recv");
		if (n == 0)
			return got == 0 ? 0 : sr_error_set(err, "export socket: cut off mid-message");
		got += (size_t)n;
	}
	return 1;
}

static struct json_object *
parse(const unsigned char *text, size_t len, struct sr_error *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;

	if (tok == NULL) {
		sr_error_set(err, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, (const char *)text, (int)len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
		sr_error_set(err, "export socket: a message that is not one JSON object");
	}
	json_tokener_free(tok);
	return obj;
}

int
sr_export_msg_recv(int fd, int timeout_ms, struct json_object **msg, struct sr_error *err)
{
	unsigned char hdr[4], *text;
	size_t len;
	int rc;

	*msg = NULL;
	rc = read_full(fd, hdr, sizeof(hdr), timeout_ms, err);
	if (rc <= 0)
		return rc;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > SR_EXPORT_MSG_MAX)
		return sr_error_set(err, "export socket: bad message length %zu", len);
	text = malloc(len);
	if (text == NULL)
		return sr_error_set(err, "out of memory");
	rc = read_full(fd, text, len, timeout_ms, err);
	if (rc == 0)
		rc = sr_error_set(err, "export socket: cut off mid-message");
	if (rc > 0) {
		*msg = parse(text, len, err);
		rc = *msg != NULL ? 1 : -1;
	}
	free(text);
	return rc;
}

/* Request ids as users type them, on either side of the socket. */
int
sr_export_parse_id(const char *text, int64_t *id)
{
	char *end;
	long long v;

	if (text == NULL)
		return -1;
	if (text[0] == '#')
		text++;
	if (text[0] < '1' || text[0] > '9' || strlen(text) > 18)
		return -1;
	v = strtoll(text, &end, 10);
	if (*end != '\0' || v < 1)
		return -1;
	*id = v;
	return 0;
}
