/*
 * verbs_ssh.c — running verbs for users who came in over SSH.
 *
 * Runs in a child the monitor forked, with the channel (or a relayed and
 * recorded pty) as stdin, stdout and stderr.  The verb functions are the
 * very ones saferoomctl calls; the context says who asks (the SSH user, the
 * roles policy gave them) so each verb's own role check decides.  Before
 * that, a first gate here lets each role reach only its own verb groups, so
 * that a steward cannot even try `user add`.  Every command line is a
 * USER_CMD record in the kernel audit log.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "saferoom/audit.h"
#include "saferoom/verbs.h"
#include "lineedit.h"
#include "verbs_ssh.h"

#define MAX_WORDS 64
#define LINE_MAX_LEN 4096
#define HISTORY_MAX 100

int
sr_verbs_ssh_split(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;
	char quote;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (*r == '\0')
			break;
		if (argc >= max - 1)
			return -1;
		argv[argc++] = w;
		for (quote = 0; *r != '\0'; r++) {
			if (quote == 0 && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
				break;
			if (quote == 0 && (*r == '\'' || *r == '"')) {
				quote = *r;
			} else if (quote != 0 && *r == quote) {
				quote = 0;
			} else if (*r == '\\' && quote != '\'' && r[1] != '\0') {
				*w++ = *++r;
			} else {
				*w++ = *r;
			}
		}
		if (quote != 0)
			return -1;
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static int
is_id(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	}
	return 1;
}

int
sr_verbs_ssh_researcher_ok(const char *line)
{
	char copy[LINE_MAX_LEN], *argv[MAX_WORDS];
	int argc;

	snprintf(copy, sizeof(copy), "%s", line);
	argc = sr_verbs_ssh_split(copy, argv, MAX_WORDS);
	if (argc == 2 && strcmp(argv[0], "export") == 0 && strcmp(argv[1], "list") == 0)
		return 1;
	return argc == 3 && strcmp(argv[0], "export") == 0 && strcmp(argv[1], "fetch") == 0 &&
	       is_id(argv[2]);
}

/* Which verb groups each role may reach over SSH at all. */
static int
group_allowed(unsigned roles, const char *group)
{
	if (strcmp(group, "export") == 0)
		return (roles & (SR_ROLE_STEWARD | SR_ROLE_RESEARCHER)) != 0;
	if (strcmp(group, "audit") == 0)
		return (roles & SR_ROLE_AUDITOR) != 0;
	return 0;
}

static const struct sr_verb *
find_verb(const char *name)
{
	const struct sr_verb *v;

	for (v = sr_verbs; v->name != NULL; v++) {
		if (strcmp(v->name, name) == 0)
			return v;
	}
	return NULL;
}

static void
kaudit_command(const struct sr_verbs_ssh *c, const char *line, int success)
{
	struct sr_kaudit *k = sr_kaudit_open(NULL);

	if (k == NULL)
		return;
	sr_kaudit_command(k, c->user, line, c->tty ? "ssh-pty" : "ssh", success, NULL);
	sr_kaudit_free(k);
}

static void
print_help(const struct sr_verbs_ssh *c, FILE *out)
{
	const struct sr_verb *v;

	fprintf(out, "Commands:\n");
	for (v = sr_verbs; v->name != NULL; v++) {
		if (group_allowed(c->roles, v->name))
			fprintf(out, "%s\n", v->usage);
	}
	fprintf(out, "help | history | !N (repeat command N) | Up/Down: earlier commands | exit\n");
}

/* Runs one command line; returns the verb's status. */
static int
run_line(const struct sr_verbs_ssh *c, const char *line)
{
	struct sr_verb_ctx ctx = {
		.prog = "saferoom", .cfg = c->cfg, .actor = c->user, .roles = c->roles,
		.source = c->source, .session = c->session, .out = stdout, .err = stderr,
		.out_is_tty = c->tty,
	};
	char copy[LINE_MAX_LEN], *argv[MAX_WORDS];
	const struct sr_verb *v;
	int argc, rc;

	snprintf(copy, sizeof(copy), "%s", line);
	argc = sr_verbs_ssh_split(copy, argv, MAX_WORDS);
	if (argc < 0)
		return sr_verb_error(&ctx, SR_VERB_USAGE, "unbalanced quotes or too many words");
	if (argc == 0)
		return SR_VERB_OK;
	if (!group_allowed(c->roles, argv[0]) ||
	    ((c->roles & ~SR_ROLE_RESEARCHER) == 0 && !sr_verbs_ssh_researcher_ok(line))) {
		kaudit_command(c, line, 0);
		return sr_verb_error(&ctx, SR_VERB_DENIED, "%s: not available to you", argv[0]);
	}
	v = find_verb(argv[0]);
	if (v == NULL) {
		kaudit_command(c, line, 0);
		return sr_verb_error(&ctx, SR_VERB_FAIL, "%s: not available on this gateway",
				     argv[0]);
	}
	rc = v->fn(&ctx, argc, argv);
	kaudit_command(c, line, rc == SR_VERB_OK);
	fflush(stdout);
	fflush(stderr);
	return rc;
}

struct history {
	char *lines[HISTORY_MAX];
	int n;
};

/* "!N" and "!!" are replaced by the earlier line; returns NULL when there is none. */
static const char *
history_expand(const struct history *h, const char *line, FILE *err)
{
	long i;

	if (line[0] != '!')
		return line;
	i = strcmp(line, "!!") == 0 ? h->n : strtol(line + 1, NULL, 10);
	if (i < 1 || i > h->n) {
		fprintf(err, "saferoom: %s: no such command in history\n", line);
		return NULL;
	}
	return h->lines[i - 1];
}

static void
history_add(struct history *h, const char *line)
{
	if (h->n == HISTORY_MAX) {
		free(h->lines[0]);
		memmove(h->lines, h->lines + 1, sizeof(h->lines[0]) * (HISTORY_MAX - 1));
		h->n--;
	}
	h->lines[h->n] = strdup(line);
	if (h->lines[h->n] != NULL)
		h->n++;
}

/* One line of the prompt; returns 1 to go on, 0 to leave. */
static int
prompt_line(const struct sr_verbs_ssh *c, struct history *h, char *line, int *status)
{
	const char *cmd;
	int i;

	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "exit") == 0 || strcmp(line, "quit") == 0 || strcmp(line, "logout") == 0)
		return 0;
	if (strcmp(line, "help") == 0 || strcmp(line, "?") == 0) {
		print_help(c, stdout);
		return 1;
	}
	if (strcmp(line, "history") == 0) {
		for (i = 0; i < h->n; i++)
			printf("%4d  %s\n", i + 1, h->lines[i]);
		return 1;
	}
	cmd = history_expand(h, line, stderr);
	if (cmd == NULL || cmd[strspn(cmd, " \t")] == '\0')
		return 1;
	if (cmd != line)
		printf("%s\n", cmd);
	history_add(h, cmd);
	*status = run_line(c, h->lines[h->n - 1]);
	return 1;
}

/* One line from the user: edited with history keys on a terminal. */
static int
read_line(const struct sr_verbs_ssh *c, const struct history *h, char *line, size_t len)
{
	if (c->tty)
		return sr_lineedit(STDIN_FILENO, stdout, "saferoom> ", line, len, h->lines, h->n);
	printf("saferoom> ");
	fflush(stdout);
	return fgets(line, (int)len, stdin) == NULL ? -1 : 0;
}

static int
prompt(const struct sr_verbs_ssh *c)
{
	struct history h = { .n = 0 };
	char line[LINE_MAX_LEN];
	int status = 0, i;

	printf("saferoom: signed in as %s; type help for the commands.\n", c->user);
	for (;;) {
		if (read_line(c, &h, line, sizeof(line)) < 0)
			break;
		if (!prompt_line(c, &h, line, &status))
			break;
	}
	for (i = 0; i < h.n; i++)
		free(h.lines[i]);
	return status;
}

int
sr_verbs_ssh_main(void *arg)
{
	const struct sr_verbs_ssh *c = arg;

	if (c->command != NULL)
		return run_line(c, c->command);
	return prompt(c);
}
