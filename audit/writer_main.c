/*
 * writer_main.c — saferoom-audit-writer, the process that owns audit.db.
 *
 *   saferoom-audit-writer -d STATE_DIR [-s SEAL_INTERVAL_S] [-r RETENTION_DAYS] [-R READY_FD]
 *
 * saferoomd starts it and passes READY_FD (one byte arrives once the socket
 * accepts connections); tests start it directly.  Exit status: 0 after a
 * clean SIGTERM/SIGINT shutdown, 1 when it could not start or could not
 * write (fail closed), 2 for bad arguments.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "saferoom/audit.h"

static const char usage[] =
	"usage: saferoom-audit-writer -d STATE_DIR [-s SEAL_INTERVAL_S] [-r RETENTION_DAYS]"
	" [-R READY_FD]";

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("saferoom-audit-writer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A whole decimal number in [min, max], or a one-line error naming the option. */
static int
parse_int(char opt, const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		die_usage("-%c: '%s' is not a number from %ld to %ld", opt, text, min, max);
	return (int)v;
}

int
main(int argc, char **argv)
{
	struct sr_audit_writer_config cfg = { .seal_interval_s = 60, .retention_days = 730 };
	struct sr_error err = { { 0 } };
	int c, ready_fd = -1;

	opterr = 0;
	while ((c = getopt(argc, argv, ":d:s:r:R:")) != -1) {
		switch (c) {
		case 'd':
			cfg.state_dir = optarg;
			break;
		case 's':
			cfg.seal_interval_s = parse_int('s', optarg, 1, 86400 * 7);
			break;
		case 'r':
			cfg.retention_days = parse_int('r', optarg, 1, 36500);
			break;
		case 'R':
			ready_fd = parse_int('R', optarg, 0, INT_MAX);
			if (fcntl(ready_fd, F_GETFD) < 0)
				die_usage("-R: %d is not an open file descriptor", ready_fd);
			break;
		case ':':
			die_usage("-%c needs a value; %s", optopt, usage);
		default:
			die_usage("unknown option -%c; %s", optopt, usage);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'; %s", argv[optind], usage);
	if (cfg.state_dir == NULL || cfg.state_dir[0] == '\0')
		die_usage("-d STATE_DIR is required; %s", usage);
	/* Keep the ready fd out of any child libaudit or SQLite might start. */
	if (ready_fd >= 0)
		(void)fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
	openlog("saferoom-audit-writer", LOG_PID, LOG_AUTHPRIV);
	if (sr_audit_writer_run(&cfg, ready_fd, &err) < 0) {
		fprintf(stderr, "saferoom-audit-writer: %s\n", sr_error_msg(&err));
		return 1;
	}
	return 0;
}
