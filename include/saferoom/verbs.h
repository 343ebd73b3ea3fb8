/*
 * verbs.h — the commands users type, whoever types them.
 *
 * `saferoomctl audit verify` on the host and `ssh dave@host audit verify` run
 * the very same function: a verb gets a context saying who is asking and in
 * which role, its arguments, and streams to write to.  Each verb group lives
 * in broker/verbs_<group>.c.  The role check happens in the verb, so no
 * caller can forget it.
 */
#ifndef SAFEROOM_VERBS_H
#define SAFEROOM_VERBS_H

#include <stdio.h>

#include "saferoom/config.h"

/* Exit statuses of verbs, as the shell sees them. */
enum sr_verb_status {
	SR_VERB_OK = 0,
	SR_VERB_FAIL = 1,   /* the verb ran and the answer is "no" or it failed */
	SR_VERB_USAGE = 2,  /* bad arguments: nothing was done */
	SR_VERB_DENIED = 3, /* the caller's role does not allow it */
};

enum sr_role {
	SR_ROLE_ADMIN = 1 << 0,      /* root on the host, through saferoomctl */
	SR_ROLE_RESEARCHER = 1 << 1,
	SR_ROLE_STEWARD = 1 << 2,
	SR_ROLE_AUDITOR = 1 << 3,
};

struct sr_verb_ctx {
	const char *prog;       /* names the program in error messages */
	const struct sr_config *cfg;
	const char *actor;      /* the account asking: SUDO_USER or uid name, or the SSH user */
	unsigned roles;         /* enum sr_role bits the actor holds */
	const char *source;     /* source address for the audit trail ("local" on the host) */
	const char *session;    /* audit session id, or NULL */
	FILE *out;
	FILE *err;
	int out_is_tty;         /* colour and progress bars only on a terminal */
};

typedef int (*sr_verb_fn)(struct sr_verb_ctx *ctx, int argc, char **argv);

struct sr_verb {
	const char *name;       /* first word: "audit", "user", "export", ... */
	sr_verb_fn fn;
	const char *usage;      /* one line per sub-verb, for help */
};

/* Verb groups.  argv[0] is the group name ("audit"); argv[1] the sub-verb. */
int sr_verb_init(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_audit(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_user(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_dataset(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_project(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_export(struct sr_verb_ctx *ctx, int argc, char **argv);
int sr_verb_sandbox(struct sr_verb_ctx *ctx, int argc, char **argv);

/* The table of every group, NULL-terminated; used by saferoomctl and the SSH verbs. */
extern const struct sr_verb sr_verbs[];

/* Prints "PROG: MSG" on ctx->err as one line; returns status. */
int sr_verb_error(struct sr_verb_ctx *ctx, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* SAFEROOM_VERBS_H */
