/*
 * saferoom-export — the researcher's way out of the room, from inside the
 * sandbox:
 *
 *	saferoom-export submit FILE --reason TEXT
 *	saferoom-export list
 *	saferoom-export withdraw ID
 *
 * It only asks: the session's monitor, outside the sandbox, answers on the
 * unix socket at $SAFEROOM_EXPORT_SOCKET (SR_EXPORT_SOCKET_DEFAULT when
 * unset), knows who is asking from the session itself, and does the
 * copying, hashing and checking.  This program sends the path as the
 * sandbox shows it (made absolute against the working directory, nothing
 * resolved: the monitor resolves it, safely, beneath the workspace) and
 * prints the answer.  Exit status: 0 done, 1 refused or failed, 2 usage.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "saferoom/export.h"

#define PROG "saferoom-export"

static int __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: " PROG " submit FILE --reason TEXT\n"
		"       " PROG " list\n"
		"       " PROG " withdraw ID\n"
		"Files leave the room only after a data steward approved them.\n");
	exit(status);
}

static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
connect_service(struct sr_error *err)
{
	const char *path = getenv(SR_EXPORT_SOCKET_ENV);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || path[0] == '\0')
		path = SR_EXPORT_SOCKET_DEFAULT;
	if (strlen(path) >= sizeof(sa.sun_path))
		return sr_error_set(err, "socket path %s is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sr_error_errno(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		sr_error_errno(err, "cannot reach the export service at %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends REQ (consumed) and returns the answer, or NULL after printing why. */
static struct json_object *
ask(struct json_object *req)
{
	struct sr_error err = { { 0 } };
	struct json_object *resp = NULL;
	int fd, rc;

	fd = connect_service(&err);
	if (fd >= 0 && sr_export_msg_send(fd, req, &err) == 0) {
		rc = sr_export_msg_recv(fd, -1, &resp, &err);
		if (rc == 0)
			sr_error_set(&err, "the export service closed the connection");
	}
	json_object_put(req);
	if (fd >= 0)
		close(fd);
	if (resp == NULL)
		fail("%s", sr_error_msg(&err));
	return resp;
}

static const char *
str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "-";
	return json_object_get_string(v);
}

static void
print_text(const char *s)
{
	sr_export_write_escaped(stdout, s, strlen(s));
}

/* 0 when the answer says ok; else prints its error and returns 1. */
static int
answered_ok(struct json_object *resp)
{
	struct json_object *v;

	if (json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v))
		return 0;
	fputs(PROG ": ", stderr);
	sr_export_write_escaped(stderr, str(resp, "error"), strlen(str(resp, "error")));
	fputc('\n', stderr);
	return 1;
}

static void
print_checks(struct json_object *resp)
{
	struct json_object *checks;

	if (!json_object_object_get_ex(resp, "checks", &checks))
		return;
	printf("automatic checks (overall: %s):\n", str(resp, "verdict"));
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);

		printf("  %-12s %-7s ", str(c, "name"), str(c, "verdict"));
		print_text(str(c, "message"));
		putchar('\n');
	}
	printf("A data steward reviews it; `" PROG " list` shows its state.\n");
}

/* The path as the sandbox shows it, made absolute against the working directory. */
static int
absolute(const char *file, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (file[0] == '/')
		return snprintf(out, len, "%s", file) < (int)len ? 0 : -1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(out, len, "%s/%s", cwd, file) < (int)len ? 0 : -1;
}

static int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct json_object *req, *resp;
	const char *reason = NULL;
	char path[SR_EXPORT_PATH_MAX + PATH_MAX];
	int c, rc;

	while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
		if (c == 'r')
			reason = optarg;
		else
			usage(c == 'h' ? 0 : 2);
	}
	if (argc - optind != 1 || reason == NULL)
		return fail("usage: " PROG " submit FILE --reason TEXT") + 1;
	if (absolute(argv[optind], path, sizeof(path)) < 0)
		return fail("%s: path too long", argv[optind]);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("submit"));
	json_object_object_add(req, "path", json_object_new_string(path));
	json_object_object_add(req, "reason", json_object_new_string(reason));
	resp = ask(req);
	if (resp == NULL)
		return 1;
	rc = answered_ok(resp);
	if (rc == 0) {
		print_text(str(resp, "message"));
		putchar('\n');
		print_checks(resp);
	}
	json_object_put(resp);
	return rc;
}

static void
print_request(struct json_object *r)
{
	printf("%-5s %-10s %-7s %-9s %-20s ", str(r, "id"), str(r, "state"), str(r, "verdict"),
	       str(r, "approvals"), str(r, "submitted"));
	print_text(str(r, "path"));
	putchar('\n');
	if (strcmp(str(r, "state"), "rejected") == 0 && strcmp(str(r, "rejection"), "-") != 0) {
		printf("      rejected because: ");
		print_text(str(r, "rejection"));
		putchar('\n');
	}
}

static int
cmd_list(int argc, char **argv)
{
	struct json_object *req, *resp, *list;
	int rc;

	if (argc != 1)
		return fail("usage: " PROG " list") + 1;
	(void)argv;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("list"));
	resp = ask(req);
	if (resp == NULL)
		return 1;
	rc = answered_ok(resp);
	if (rc == 0 && json_object_object_get_ex(resp, "requests", &list)) {
		if (json_object_array_length(list) == 0)
			printf("no export requests yet: " PROG " submit FILE --reason TEXT\n");
		else
			printf("%-5s %-10s %-7s %-9s %-20s %s\n", "ID", "STATE", "VERDICT",
			       "APPROVALS", "SUBMITTED", "PATH");
		for (size_t i = 0; i < json_object_array_length(list); i++)
			print_request(json_object_array_get_idx(list, i));
	}
	json_object_put(resp);
	return rc;
}

static int
cmd_withdraw(int argc, char **argv)
{
	struct json_object *req, *resp;
	int64_t id;
	int rc;

	if (argc != 2 || sr_export_parse_id(argv[1], &id) < 0)
		return fail("usage: " PROG " withdraw ID (the number `" PROG " list` shows)") + 1;
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("withdraw"));
	json_object_object_add(req, "id", json_object_new_int64(id));
	resp = ask(req);
	if (resp == NULL)
		return 1;
	rc = answered_ok(resp);
	if (rc == 0) {
		print_text(str(resp, "message"));
		putchar('\n');
	}
	json_object_put(resp);
	return rc;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 2)
		usage(2);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		usage(0);
	if (strcmp(argv[1], "submit") == 0)
		rc = cmd_submit(argc - 1, argv + 1);
	else if (strcmp(argv[1], "list") == 0)
		rc = cmd_list(argc - 1, argv + 1);
	else if (strcmp(argv[1], "withdraw") == 0)
		rc = cmd_withdraw(argc - 1, argv + 1);
	else
		return fail("unknown command \"%s\" (submit, list, withdraw)", argv[1]) + 1;
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail("writing output");
	return rc;
}
