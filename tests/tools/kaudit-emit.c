/*
 * kaudit-emit.c — sends one record through saferoom's kernel audit bridge,
 * so that tests can look for it with ausearch.
 *
 *   kaudit-emit auth USER ADDR METHOD ok|fail
 *   kaudit-emit login USER UID ADDR ok|fail
 *   kaudit-emit start|end USER UID ADDR SESSION
 *   kaudit-emit cmd USER COMMAND ok|fail
 *   kaudit-emit seal SEQ HASH
 *
 * Prints "enabled" when the records reach the kernel, "disabled" when this
 * kernel has no audit support; exits 1 with a message when sending failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saferoom/audit.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: kaudit-emit auth|login|start|end|cmd|seal ARGS...\n");
	exit(2);
}

static int
result(const char *s)
{
	if (strcmp(s, "ok") == 0)
		return 1;
	if (strcmp(s, "fail") == 0)
		return 0;
	usage();
}

static int
emit(struct sr_kaudit *k, int argc, char **argv, struct sr_error *err)
{
	const char *what = argv[1];

	if (strcmp(what, "auth") == 0 && argc == 6)
		return sr_kaudit_auth(k, argv[2], argv[3], argv[4], result(argv[5]), err);
	if (strcmp(what, "login") == 0 && argc == 6)
		return sr_kaudit_login(k, argv[2], atol(argv[3]), argv[4], NULL,
				       result(argv[5]), err);
	if (strcmp(what, "start") == 0 && argc == 6)
		return sr_kaudit_session_start(k, argv[2], atol(argv[3]), argv[4], NULL, argv[5],
					       err);
	if (strcmp(what, "end") == 0 && argc == 6)
		return sr_kaudit_session_end(k, argv[2], atol(argv[3]), argv[4], NULL, argv[5],
					     err);
	if (strcmp(what, "cmd") == 0 && argc == 5)
		return sr_kaudit_command(k, argv[2], argv[3], NULL, result(argv[4]), err);
	if (strcmp(what, "seal") == 0 && argc == 4)
		return sr_kaudit_seal(k, atoll(argv[2]), argv[3], err);
	usage();
}

int
main(int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_kaudit *k;
	int rc;

	if (argc < 2)
		usage();
	k = sr_kaudit_open(&err);
	if (k == NULL) {
		fprintf(stderr, "kaudit-emit: %s\n", sr_error_msg(&err));
		return 1;
	}
	rc = emit(k, argc, argv, &err);
	if (rc < 0)
		fprintf(stderr, "kaudit-emit: %s\n", sr_error_msg(&err));
	else
		printf("%s\n", sr_kaudit_enabled(k) ? "enabled" : "disabled");
	sr_kaudit_free(k);
	return rc < 0 ? 1 : 0;
}
