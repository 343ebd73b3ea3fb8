/*
 * verbs_ssh.h — the verbs of DESIGN.md typed over SSH by stewards and
 * auditors (and `export list` / `export fetch ID` by researchers), through
 * the same functions as saferoomctl: only the caller's identity differs.
 */
#ifndef SAFEROOM_BROKER_VERBS_SSH_H
#define SAFEROOM_BROKER_VERBS_SSH_H

#include "saferoom/config.h"

struct sr_verbs_ssh {
	const struct sr_config *cfg;
	const char *user;
	unsigned roles;        /* enum sr_role bits from policy */
	const char *source;
	const char *session;
	const char *command;   /* one command line, or NULL for the prompt */
	int tty;               /* stdin is a terminal */
};

/* An sr_session_fn: runs the command or the prompt on fds 0-2; returns the status. */
int sr_verbs_ssh_main(void *arg);

/*
 * Splits a command line into at most max-1 words (shell-like quoting: '...',
 * "..." and backslash), NULL-terminated, in place.  Returns the count, or -1
 * on unbalanced quotes or too many words.
 */
int sr_verbs_ssh_split(char *line, char **argv, int max);

/* 1 when a researcher may run this command line over SSH: `export list`, `export fetch ID`. */
int sr_verbs_ssh_researcher_ok(const char *line);

#endif /* SAFEROOM_BROKER_VERBS_SSH_H */
