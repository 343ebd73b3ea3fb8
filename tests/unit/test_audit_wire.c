/*
 * test_audit_wire.c — the audit socket's message format: what round-trips,
 * and that every malformed message is refused rather than half-read.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "wire.h"

static unsigned char buf[SR_WIRE_MSG_MAX + 64];

static const struct sr_audit_event sample = {
	.type = "exec", .user = "alice", .project = "onco", .session = "s1",
	.source = "10.0.0.7", .datasets = "cohort,labs", .details = "{\"path\":\"/usr/bin/R\"}",
};

static void
test_event_roundtrip(void)
{
	struct sr_wire_msg m;
	struct sr_audit_event ev;
	const char *why = NULL;
	ssize_t len = sr_wire_encode_event(buf, sizeof(buf), SR_WIRE_F_DURABLE, 42, &sample);

	ok(len > SR_WIRE_HDR_LEN, "event encodes");
	is_int(sr_wire_decode(buf, (size_t)len, &m, &why), 0, "event decodes");
	is_int(m.kind, SR_WIRE_EVENT, "kind is EVENT");
	is_int(m.flags, SR_WIRE_F_DURABLE, "durable flag kept");
	is_int(m.id, 42, "id kept");
	sr_wire_event_fields(&m, &ev);
	is_str(ev.type, "exec", "type");
	is_str(ev.user, "alice", "user");
	is_str(ev.project, "onco", "project");
	is_str(ev.session, "s1", "session");
	is_str(ev.source, "10.0.0.7", "source");
	is_str(ev.datasets, "cohort,labs", "datasets");
	is_str(ev.details, "{\"path\":\"/usr/bin/R\"}", "details");
}

static void
test_null_fields(void)
{
	struct sr_audit_event in = { .type = "auth.ok" }, out;
	struct sr_wire_msg m;
	const char *why;
	ssize_t len = sr_wire_encode_event(buf, sizeof(buf), 0, 1, &in);

	is_int(sr_wire_decode(buf, (size_t)len, &m, &why), 0, "event with NULL fields decodes");
	sr_wire_event_fields(&m, &out);
	is_str(out.user, "", "NULL user arrives as \"\"");
	ok(out.details == NULL, "NULL details arrive as NULL");
}

/* The decoder must refuse buf[0..len); why is read only after it ran. */
static void
refused(size_t len, const char *what)
{
	struct sr_wire_msg m;
	const char *why = "";
	int rc = sr_wire_decode(buf, len, &m, &why);

	ok(rc < 0, "%s refused: %s", what, why);
}

/* Every proper prefix of a valid event must be refused. */
static void
test_truncations(void)
{
	ssize_t len = sr_wire_encode_event(buf, sizeof(buf), 0, 7, &sample);
	struct sr_wire_msg m;
	const char *why;
	int accepted = 0;

	for (ssize_t cut = 0; cut < len; cut++)
		if (sr_wire_decode(buf, (size_t)cut, &m, &why) == 0)
			accepted++;
	is_int(accepted, 0, "no truncated event decodes");
	buf[len] = 'x';
	refused((size_t)len + 1, "trailing byte");
}

static void
test_corruptions(void)
{
	ssize_t len = sr_wire_encode_event(buf, sizeof(buf), 0, 7, &sample);
	uint32_t big = SR_AUDIT_EVENT_MAX + 1, flags = 0x80;

	buf[0] ^= 1;
	refused((size_t)len, "bad magic");
	buf[0] ^= 1;
	buf[2] = 2;
	refused((size_t)len, "unknown version");
	buf[2] = SR_WIRE_VERSION;
	buf[3] = 9;
	refused((size_t)len, "unknown kind");
	buf[3] = SR_WIRE_EVENT;
	memcpy(buf + 4, &flags, 4);
	refused((size_t)len, "unknown flag");
	flags = 0;
	memcpy(buf + 4, &flags, 4);
	/* The type field is "exec": make its terminator something else. */
	buf[SR_WIRE_HDR_LEN + 4 + 4] = 'X';
	refused((size_t)len, "missing NUL");
	buf[SR_WIRE_HDR_LEN + 4 + 4] = '\0';
	buf[SR_WIRE_HDR_LEN + 4 + 1] = '\0';
	refused((size_t)len, "NUL inside a field");
	buf[SR_WIRE_HDR_LEN + 4 + 1] = 'x';
	memcpy(buf + SR_WIRE_HDR_LEN, &big, 4);
	refused((size_t)len, "huge field length");
	big = UINT32_MAX;
	memcpy(buf + SR_WIRE_HDR_LEN, &big, 4);
	refused((size_t)len, "length 2^32-1");
}

static void
test_size_limit(void)
{
	char *big = malloc(SR_AUDIT_EVENT_MAX + 1);
	struct sr_audit_event ev = { .type = "x" };
	struct sr_wire_msg m;
	const char *why;
	ssize_t len;

	memset(big, 'a', SR_AUDIT_EVENT_MAX);
	big[SR_AUDIT_EVENT_MAX - 1] = '\0';
	ev.user = big;
	len = sr_wire_encode_event(buf, sizeof(buf), 0, 1, &ev);
	ok(len > 0, "an event of exactly SR_AUDIT_EVENT_MAX bytes encodes");
	is_int(sr_wire_decode(buf, (size_t)len, &m, &why), 0, "and decodes");
	big[SR_AUDIT_EVENT_MAX - 1] = 'a';
	big[SR_AUDIT_EVENT_MAX] = '\0';
	ok(sr_wire_encode_event(buf, sizeof(buf), 0, 1, &ev) < 0, "one byte more does not");
	ok(sr_wire_encode_event(buf, 40, 0, 1, &sample) < 0, "a buffer too small is refused");
	free(big);
}

static void
test_small_messages(void)
{
	unsigned char b[SR_WIRE_HDR_LEN + SR_WIRE_REASON_MAX];
	char reason[400];
	struct sr_wire_msg m;
	const char *why;
	size_t len;

	len = sr_wire_encode_ack(b, 99, 12345);
	is_int(sr_wire_decode(b, len, &m, &why), 0, "ack decodes");
	ok(m.kind == SR_WIRE_ACK && m.id == 99 && m.seq == 12345, "ack id and seq kept");
	ok(sr_wire_decode(b, len - 1, &m, &why) < 0, "short ack refused");
	ok(sr_wire_decode(b, SR_WIRE_HDR_LEN, &m, &why) < 0, "ack without seq refused");
	len = sr_wire_encode_sync(b, 5);
	is_int(sr_wire_decode(b, len, &m, &why), 0, "sync decodes");
	ok(m.kind == SR_WIRE_SYNC && m.id == 5, "sync id kept");
	len = sr_wire_encode_error(b, "disk full");
	is_int(sr_wire_decode(b, len, &m, &why), 0, "error decodes");
	is_str(m.reason, "disk full", "error reason kept");
	ok(sr_wire_decode(b, len - 1, &m, &why) < 0, "error without its NUL refused");
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	len = sr_wire_encode_error(b, reason);
	is_int(len, SR_WIRE_HDR_LEN + SR_WIRE_REASON_MAX, "long reason is cut to the limit");
	is_int(sr_wire_decode(b, len, &m, &why), 0, "and still decodes");
}

static void
test_check_event(void)
{
	struct json_tokener *tok = sr_wire_tokener_new();
	struct sr_audit_event ev = sample;
	const char *why;

	is_int(sr_wire_check_event(tok, &ev, &why), 0, "a proper event passes");
	ev.details = NULL;
	is_int(sr_wire_check_event(tok, &ev, &why), 0, "NULL details pass");
	ev.details = "[1,2]";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "a JSON array is refused");
	ev.details = "{\"a\":1} {}";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "two objects are refused");
	ev.details = "{\"a\":\"\xff\"}";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "invalid UTF-8 is refused");
	ev.details = "";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "empty details are refused");
	/* What the store refuses must be refused here too, or one producer's
	 * event would fail the writer's whole batch (and stop the writer). */
	ev.details = "{\"a\":NaN}";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "NaN is refused, as the store refuses it");
	ev.details = "{'a':1}";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "single-quoted keys are refused, as by the store");
	ev.details = "{\"argv\":[\"it's NaN\"]}";
	is_int(sr_wire_check_event(tok, &ev, &why), 0, "NaN and quotes inside strings pass");
	ev.details = "{}";
	ev.type = "";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "an empty type is refused");
	ev.type = "audit.seal";
	ok(sr_wire_check_event(tok, &ev, &why) < 0, "a producer cannot forge a seal");
	ev.type = "auditx";
	is_int(sr_wire_check_event(tok, &ev, &why), 0, "only the audit. prefix is reserved");
	json_tokener_free(tok);
}

int
main(void)
{
	test_event_roundtrip();
	test_null_fields();
	test_truncations();
	test_corruptions();
	test_size_limit();
	test_small_messages();
	test_check_event();
	return done_testing();
}
