/*
 * wire.c — encoding and strict decoding of the audit socket's messages.
 *
 * The format is described in wire.h.  The writer decodes what any local
 * process with access to the socket sent it, so every length is checked
 * against what is left of the message before it is used, and a message must
 * end exactly where its last field ends: nothing is guessed or skipped.
 * Fields are decoded in place (each carries its own NUL), so the writer can
 * hand them to the store without copying.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "wire.h"

static void
put_header(unsigned char *buf, enum sr_wire_kind kind, uint32_t flags, uint64_t id)
{
	uint16_t magic = SR_WIRE_MAGIC;

	memcpy(buf, &magic, 2);
	buf[2] = SR_WIRE_VERSION;
	buf[3] = (unsigned char)kind;
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &id, 8);
}

/* The header and the seven length-prefixed fields of an EVENT or a PRUNE. */
static ssize_t
encode_fields(unsigned char *buf, size_t cap, enum sr_wire_kind kind, uint32_t flags,
	      uint64_t id, const struct sr_audit_event *ev)
{
	const char *f[SR_WIRE_NFIELDS] = { ev->type, ev->user, ev->project, ev->session,
					   ev->source, ev->datasets, ev->details };
	size_t off = SR_WIRE_HDR_LEN, total = 0;

	if (cap < SR_WIRE_HDR_LEN)
		return -1;
	put_header(buf, kind, flags, id);
	for (int i = 0; i < SR_WIRE_NFIELDS; i++) {
		size_t n = f[i] != NULL ? strlen(f[i]) : 0;
		uint32_t n32 = (uint32_t)n;

		total += n;
		if (total > SR_AUDIT_EVENT_MAX || cap - off < 4 + n + 1)
			return -1;
		memcpy(buf + off, &n32, 4);
		if (n > 0)
			memcpy(buf + off + 4, f[i], n);
		buf[off + 4 + n] = '\0';
		off += 4 + n + 1;
	}
	return (ssize_t)off;
}

ssize_t
sr_wire_encode_event(unsigned char *buf, size_t cap, uint32_t flags, uint64_t id,
		     const struct sr_audit_event *ev)
{
	return encode_fields(buf, cap, SR_WIRE_EVENT, flags, id, ev);
}

ssize_t
sr_wire_encode_prune(unsigned char *buf, size_t cap, uint64_t id,
		     const struct sr_audit_event *who, int retention_days)
{
	struct sr_audit_event ev = { .type = NULL };
	char details[48];

	if (who != NULL) {
		ev.user = who->user;
		ev.project = who->project;
		ev.session = who->session;
		ev.source = who->source;
	}
	snprintf(details, sizeof(details), "{\"retention_days\":%d}", retention_days);
	ev.details = details;
	return encode_fields(buf, cap, SR_WIRE_PRUNE, 0, id, &ev);
}

size_t
sr_wire_encode_sync(unsigned char *buf, uint64_t id)
{
	put_header(buf, SR_WIRE_SYNC, 0, id);
	return SR_WIRE_HDR_LEN;
}

size_t
sr_wire_encode_ack(unsigned char *buf, uint64_t id, int64_t seq)
{
	put_header(buf, SR_WIRE_ACK, 0, id);
	memcpy(buf + SR_WIRE_HDR_LEN, &seq, 8);
	return SR_WIRE_ACK_LEN;
}

size_t
sr_wire_encode_error(unsigned char *buf, const char *reason)
{
	size_t n = strnlen(reason, SR_WIRE_REASON_MAX - 1);

	put_header(buf, SR_WIRE_ERROR, 0, 0);
	memcpy(buf + SR_WIRE_HDR_LEN, reason, n);
	buf[SR_WIRE_HDR_LEN + n] = '\0';
	return SR_WIRE_HDR_LEN + n + 1;
}

/* The seven length-prefixed, NUL-terminated fields that follow an EVENT header. */
static int
decode_fields(const unsigned char *buf, size_t len, struct sr_wire_msg *msg, const char **why)
{
	size_t off = SR_WIRE_HDR_LEN, total = 0;

	for (int i = 0; i < SR_WIRE_NFIELDS; i++) {
		uint32_t n;

		if (len - off < 4) {
			*why = "event ends inside a field length";
			return -1;
		}
		memcpy(&n, buf + off, 4);
		off += 4;
		total += n;
		if (n > SR_AUDIT_EVENT_MAX || total > SR_AUDIT_EVENT_MAX) {
			*why = "event larger than SR_AUDIT_EVENT_MAX";
			return -1;
		}
		if (len - off < (size_t)n + 1) {
			*why = "field runs past the end of the event";
			return -1;
		}
		if (buf[off + n] != '\0' || memchr(buf + off, '\0', n) != NULL) {
			*why = "field is not a NUL-terminated string";
			return -1;
		}
		msg->field[i] = (const char *)buf + off;
		off += (size_t)n + 1;
	}
	if (off != len) {
		*why = "trailing bytes after the last field";
		return -1;
	}
	return 0;
}

static int
decode_error(const unsigned char *buf, size_t len, struct sr_wire_msg *msg, const char **why)
{
	size_t n = len - SR_WIRE_HDR_LEN;

	if (n < 1 || n > SR_WIRE_REASON_MAX || buf[len - 1] != '\0' ||
	    memchr(buf + SR_WIRE_HDR_LEN, '\0', n - 1) != NULL) {
		*why = "malformed error message";
		return -1;
	}
	msg->reason = (const char *)buf + SR_WIRE_HDR_LEN;
	return 0;
}

int
sr_wire_decode(const unsigned char *buf, size_t len, struct sr_wire_msg *msg, const char **why)
{
	uint16_t magic;

	memset(msg, 0, sizeof(*msg));
	if (len < SR_WIRE_HDR_LEN || len > SR_WIRE_MSG_MAX) {
		*why = "message length out of range";
		return -1;
	}
	memcpy(&magic, buf, 2);
	if (magic != SR_WIRE_MAGIC || buf[2] != SR_WIRE_VERSION) {
		*why = "bad magic or version";
		return -1;
	}
	msg->kind = (enum sr_wire_kind)buf[3];
	memcpy(&msg->flags, buf + 4, 4);
	memcpy(&msg->id, buf + 8, 8);
	if ((msg->flags & ~SR_WIRE_F_ALL) != 0 ||
	    (msg->kind != SR_WIRE_EVENT && msg->flags != 0)) {
		*why = "unknown flags";
		return -1;
	}
	switch (msg->kind) {
	case SR_WIRE_EVENT:
	case SR_WIRE_PRUNE:
		return decode_fields(buf, len, msg, why);
	case SR_WIRE_SYNC:
		break;
	case SR_WIRE_ACK:
		if (len != SR_WIRE_ACK_LEN) {
			*why = "wrong length for an ack";
			return -1;
		}
		memcpy(&msg->seq, buf + SR_WIRE_HDR_LEN, 8);
		return 0;
	case SR_WIRE_ERROR:
		return decode_error(buf, len, msg, why);
	default:
		*why = "unknown message kind";
		return -1;
	}
	if (len != SR_WIRE_HDR_LEN) {
		*why = "wrong length for its kind";
		return -1;
	}
	return 0;
}

void
sr_wire_event_fields(const struct sr_wire_msg *msg, struct sr_audit_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = msg->field[0];
	ev->user = msg->field[1];
	ev->project = msg->field[2];
	ev->session = msg->field[3];
	ev->source = msg->field[4];
	ev->datasets = msg->field[5];
	ev->details = msg->field[6][0] != '\0' ? msg->field[6] : NULL;
}

struct json_tokener *
sr_wire_tokener_new(void)
{
	struct json_tokener *tok = json_tokener_new();

	if (tok != NULL)
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	return tok;
}

static size_t
len0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/*
 * json-c's strict mode still takes single-quoted keys, NaN and Infinity,
 * which no SIEM would parse.  Outside double-quoted strings, standard JSON
 * has only structure, numbers and true/false/null: refuse any other byte.
 */
static int
plain_json_tokens(const char *text)
{
	static const char allowed[] = " \t\r\n{}[]:,0123456789+-.eEtruefalsn";
	int in_string = 0;

	for (const char *p = text; *p != '\0'; p++) {
		if (in_string && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			in_string = !in_string;
		else if (!in_string && strchr(allowed, *p) == NULL)
			return 0;
	}
	return 1;
}

int
sr_wire_json_object(struct json_tokener *tok, const char *text)
{
	size_t len = strlen(text);
	json_object *obj;
	int ok;

	/* The commonest details of all need no parser. */
	if (strcmp(text, "{}") == 0)
		return 1;
	if (!plain_json_tokens(text))
		return 0;
	json_tokener_reset(tok);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	ok = obj != NULL && json_object_is_type(obj, json_type_object) &&
	     json_tokener_get_error(tok) == json_tokener_success &&
	     json_tokener_get_parse_end(tok) == len;
	json_object_put(obj);
	return ok;
}

int
sr_wire_check_event(struct json_tokener *tok, const struct sr_audit_event *ev, const char **why)
{
	size_t total;

	if (ev->type == NULL || ev->type[0] == '\0') {
		*why = "event has no type";
		return -1;
	}
	/* audit.* events (seals) are the writer's own: a forged seal naming a
	 * wrong hash would make every later verify report tampering. */
	if (strncmp(ev->type, "audit.", 6) == 0) {
		*why = "audit.* events are written by the audit writer only";
		return -1;
	}
	total = len0(ev->type) + len0(ev->user) + len0(ev->project) + len0(ev->session) +
		len0(ev->source) + len0(ev->datasets) + len0(ev->details);
	if (total > SR_AUDIT_EVENT_MAX) {
		*why = "event larger than SR_AUDIT_EVENT_MAX";
		return -1;
	}
	if (ev->details != NULL && !sr_wire_json_object(tok, ev->details)) {
		*why = "details are not one JSON object";
		return -1;
	}
	return 0;
}
