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
	  "audit verify [--seal SEQ:HASH]... [--json]\n"
	  "audit prune [--dry-run] [--json]" },
	{ "user", sr_verb_user,
	  "user add NAME --role researcher|steward|auditor [--key FILE] [--expires DATE]\n"
	  "user key add NAME FILE | user key remove NAME FINGERPRINT\n"
	  "user lock NAME | user unlock NAME | user list [--json] | user show NAME [--json]\n"
	  "user set NAME expires DATE|never | user set NAME allow_from CIDR[,CIDR...]|any\n"
	  "user totp enable NAME | user totp disable NAME\n"
	  "user check NAME [--project P] [--from ADDR] [--key FILE] [--totp CODE] [--at TIME] [--json]" },
	{ "dataset", sr_verb_dataset,
	  "dataset add NAME PATH [--description TEXT] | dataset list [--json] | dataset show NAME [--json] | dataset reindex NAME" },
	{ "project", sr_verb_project,
	  "project add NAME --drb-ref REF --until DATE [--from DATE]\n"
	  "project grant PROJECT DATASET [--from DATE] [--until DATE] | project revoke PROJECT DATASET\n"
	  "project member add PROJECT USER [--from DATE] [--until DATE] | project member remove PROJECT USER\n"
	  "project set NAME memory|pids|cpu|tmp_size|max_file_size|idle_timeout|max_session VALUE|default\n"
	  "project set NAME allow_from CIDR[,CIDR...]|any | project set NAME drb_ref|from|until VALUE\n"
	  "project list [--json] | project show NAME [--json]" },
	{ "export", sr_verb_export,
	  "export list [--state S] [--project P] [--json] | export show ID [--json] | export diff ID\n"
	  "export approve ID [--note TEXT] | export reject ID --reason TEXT\n"
	  "export fetch ID > FILE" },
	{ "sandbox", sr_verb_sandbox,
	  "sandbox run --user U --project P [--pty] -- CMD [ARG...]" },
	{ NULL, NULL, NULL },
};

int
sr_verb_error(struct sr_verb_ctx *ctx, int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(ctx->err, "%s: ", ctx->prog != NULL ? ctx->prog : "saferoom");
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return status;
}
