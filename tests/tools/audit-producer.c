/*
 * audit-producer.c — a test and benchmark producer for the audit writer.
 *
 *   audit-producer -d STATE_DIR -n N [-t TAG] [-k K] [-a ACKFILE] [-p PAD] [-l]
 *
 * Sends N events of type "test.event" with session TAG and details
 * {"i":I,"pad":"..."} (I counts from 1; PAD bytes of padding).  With -k K,
 * every Kth event (and the last) is sent DURABLE and the others ASYNC; without
 * it all are ASYNC and one flush at the end makes them durable.  -l allows
 * the local fallback when no writer runs.
 *
 * What the writer confirmed is reported as "acked COUNT seq SEQ": on stdout
 * at the end, and with -a appended to ACKFILE after every confirmation, so
 * that a test that kills the writer mid-burst still knows exactly which
 * events it was promised.  On an error the message goes to stderr, the last
 * "acked" line to stdout, and the exit status is 1.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saferoom/audit.h"

struct opts {
	const char *state_dir;
	const char *tag;
	const char *ack_file;
	long n;
	long every;
	long pad;
	int local;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: audit-producer -d STATE_DIR -n N [-t TAG] [-k K] [-a ACKFILE]"
		" [-p PAD] [-l]\n");
	exit(2);
}

static long
number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0)
		usage();
	return v;
}

static void
parse(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "d:n:t:k:a:p:l")) != -1) {
		switch (c) {
		case 'd': o->state_dir = optarg; break;
		case 'n': o->n = number(optarg); break;
		case 't': o->tag = optarg; break;
		case 'k': o->every = number(optarg); break;
		case 'a': o->ack_file = optarg; break;
		case 'p': o->pad = number(optarg); break;
		case 'l': o->local = 1; break;
		default: usage();
		}
	}
	if (o->state_dir == NULL || o->n <= 0 || optind != argc || o->pad > 50000)
		usage();
}

/* One line per confirmation; O_APPEND writes survive our being killed. */
static void
report(int fd, long count, int64_t seq)
{
	char line[64];
	int len = snprintf(line, sizeof(line), "acked %ld seq %" PRId64 "\n", count, seq);

	if (fd >= 0 && write(fd, line, (size_t)len) != len)
		perror("audit-producer: ack file");
}

int
main(int argc, char **argv)
{
	struct opts o = { .tag = "producer" };
	struct sr_error err = { { 0 } };
	struct sr_audit_client *c;
	char *details;
	long i, acked = 0;
	int64_t seq = 0;
	int ack_fd = -1;

	parse(argc, argv, &o);
	if (o.ack_file != NULL &&
	    (ack_fd = open(o.ack_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		perror(o.ack_file);
		return 1;
	}
	details = malloc((size_t)o.pad + 64);
	c = sr_audit_client_open(o.state_dir, o.local, &err);
	if (c == NULL || details == NULL)
		goto out_fail;
	for (i = 1; i <= o.n; i++) {
		struct sr_audit_event ev = { .type = "test.event", .user = "producer",
					     .project = "bench", .session = o.tag,
					     .source = "127.0.0.1", .datasets = "none",
					     .details = details };
		int durable = o.every > 0 && (i % o.every == 0 || i == o.n);
		int64_t s = 0;

		snprintf(details, (size_t)o.pad + 64, "{\"i\":%ld,\"pad\":\"%0*d\"}", i,
			 (int)o.pad, 0);
		if (sr_audit_client_send(c, &ev, durable ? SR_AUDIT_DURABLE : SR_AUDIT_ASYNC, &s,
					 &err) < 0)
			goto out_fail;
		if (durable) {
			acked = i;
			seq = s;
			report(ack_fd, acked, seq);
		}
	}
	if (sr_audit_client_flush(c, &err) < 0)
		goto out_fail;
	if (acked != o.n) {
		acked = o.n;
		report(ack_fd, acked, seq);
	}
	printf("acked %ld seq %" PRId64 "\n", acked, seq);
	sr_audit_client_free(c);
	free(details);
	return 0;
out_fail:
	fprintf(stderr, "audit-producer: %s\n", sr_error_msg(&err));
	printf("acked %ld seq %" PRId64 "\n", acked, seq);
	sr_audit_client_free(c);
	free(details);
	return 1;
}
