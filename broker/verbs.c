/*
 * verbs.c — the table of verb groups shared by saferoomctl and the SSH verbs.
 */
#include "config.h"

#include <stdarg.h>

#include "saferoom/verbs.h"

const struct sr_verb sr_verbs[] = {
	{ "init", sr_verb_init,
	  "init                                   create state_dir, databases and host key" },
	{ "audit", sr_verb_audit,
	  "audit events [--type T] [--user U] [--project P] [--session S] [--since TIME] [--until TIME] [--json]\n"
	  "audit sessions [--user U] [--since TIME] [--until TIME] [--json]\n"
	  "audit replay SESSION\n"
	  "audit export --format jsonl [--since TIME] [--until TIME]\n"
	  "audit verify [--seal SEQ:HASH]... [--json]" },
	{ NULL, NULL, NULL },
};

int
sr_verb_error(struct sr_verb_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	fputs("saferoom: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return status;
}
