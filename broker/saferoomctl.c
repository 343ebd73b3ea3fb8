/*
 * saferoomctl — the admin's tool on the host.
 *
 * It reads the configuration, works out who is asking (the admin behind sudo,
 * for the audit trail), and hands the words to the same verb functions that
 * stewards and auditors reach over SSH.  Everything a verb changes is audited
 * by the verb itself.
 */
#include "config.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "saferoom/config.h"
#include "saferoom/verbs.h"

static void
usage(FILE *out)
{
	const struct sr_verb *v;

	fprintf(out, "usage: saferoomctl [-c CONF] VERB [ARGS...]\n\nverbs:\n");
	for (v = sr_verbs; v->name != NULL; v++) {
		const char *p = v->usage;

		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

			fprintf(out, "  %.*s\n", (int)len, p);
			p += len + (nl != NULL);
		}
	}
	fprintf(out, "\nCONF defaults to $SAFEROOM_CONF, then %s.\n", SR_CONFIG_DEFAULT_PATH);
}

/* A name is acceptable for the trail when it looks like a login name. */
static int
plausible_login(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Who is asking: the admin's own name when they came through sudo, so that
 * the trail names a person rather than "root"; otherwise the uid's name.
 */
static const char *
actor_name(void)
{
	static char buf[64];
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo != NULL && plausible_login(sudo)) {
		snprintf(buf, sizeof(buf), "%s", sudo);
		return buf;
	}
	pw = getpwuid(getuid());
	if (pw != NULL && plausible_login(pw->pw_name))
		snprintf(buf, sizeof(buf), "%s", pw->pw_name);
	else
		snprintf(buf, sizeof(buf), "uid:%ld", (long)getuid());
	return buf;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL;
	const struct sr_verb *v;
	struct sr_verb_ctx ctx;
	struct sr_config *cfg;
	struct sr_error err = { "" };
	int i = 1, rc;

	/* Everything saferoomctl creates (databases, keys, recordings) is private. */
	umask(077);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("saferoomctl %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "saferoomctl: unknown option %s (try --help)\n", argv[i]);
			return SR_VERB_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return SR_VERB_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (v = sr_verbs; v->name != NULL; v++)
		if (strcmp(v->name, argv[i]) == 0)
			break;
	if (v->name == NULL) {
		fprintf(stderr, "saferoomctl: unknown verb '%s' (try --help)\n", argv[i]);
		return SR_VERB_USAGE;
	}
	cfg = sr_config_load(conf, &err);
	if (cfg == NULL) {
		fprintf(stderr, "saferoomctl: %s\n", sr_error_msg(&err));
		return SR_VERB_FAIL;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.prog = "saferoomctl";
	ctx.cfg = cfg;
	ctx.actor = actor_name();
	ctx.roles = SR_ROLE_ADMIN;
	ctx.source = "local";
	ctx.out = stdout;
	ctx.err = stderr;
	ctx.out_is_tty = isatty(STDOUT_FILENO);
	rc = v->fn(&ctx, argc - i, argv + i);
	if (fflush(stdout) != 0 && rc == 0) {
		perror("saferoomctl: writing output");
		rc = SR_VERB_FAIL;
	}
	sr_config_free(cfg);
	return rc;
}
