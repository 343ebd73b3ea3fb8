/*
 * verbs_sandbox.c — `sandbox run`: a researcher's sandbox without SSH.
 *
 * `saferoomctl sandbox run --user U --project P [--pty] -- CMD [ARG...]`
 * builds from policy.db exactly the sandbox an SSH session of U in P gets
 * (same datasets, workspace, identity, filters, limits and exec logging) and
 * runs CMD in it with the caller's stdin, stdout and stderr, returning CMD's
 * exit status.  It is for admins testing and debugging a project's room, so
 * it is audited as a session of its own: session.start (durable, naming the
 * admin who ran it) before anything runs, exec events from inside, and
 * session.end with the status.  The login checks that need SSH (key, TOTP,
 * source network) do not apply; every other one does.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "saferoom/audit.h"
#include "saferoom/policy.h"
#include "saferoom/sandbox.h"
#include "saferoom/verbs.h"
#include "sandbox_limits.h"

struct run_args {
	const char *user;
	const char *project;
	int pty;
	char **argv;
};

static int
parse_args(struct sr_verb_ctx *ctx, int argc, char **argv, struct run_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return sr_verb_error(ctx, SR_VERB_USAGE,
				     "usage: sandbox run --user U --project P [--pty] -- CMD [ARG...]");
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			a->argv = argv + i + 1;
			break;
		}
		if (strcmp(argv[i], "--pty") == 0)
			a->pty = 1;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			a->user = argv[++i];
		else if (strcmp(argv[i], "--project") == 0 && i + 1 < argc)
			a->project = argv[++i];
		else
			return sr_verb_error(ctx, SR_VERB_USAGE, "sandbox run: unexpected %s", argv[i]);
	}
	if (a->user == NULL || a->project == NULL || a->argv == NULL || a->argv[0] == NULL)
		return sr_verb_error(ctx, SR_VERB_USAGE,
				     "usage: sandbox run --user U --project P [--pty] -- CMD [ARG...]");
	return SR_VERB_OK;
}

static int
session_id(char *out, size_t len)
{
	unsigned char rnd[12];
	size_t i;

	if (len < 2 * sizeof(rnd) + 1 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

/* Builds the comma-separated dataset list every event of the session carries. */
static char *
datasets_csv(const struct sr_policy_spec *ps)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < ps->n_datasets; i++)
		len += strlen(ps->datasets[i].name) + 1;
	s = calloc(1, len);
	for (i = 0; s != NULL && i < ps->n_datasets; i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, ps->datasets[i].name);
	}
	return s;
}

static int
session_event(struct sr_audit_client *audit, const struct sr_sandbox_spec *spec,
	      const char *datasets, const char *type, json_object *details, struct sr_error *err)
{
	struct sr_audit_event ev = {
		.type = type, .user = spec->user, .project = spec->project,
		.session = spec->session, .source = spec->source, .datasets = datasets,
		.details = json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN),
	};
	int rc = sr_audit_client_send(audit, &ev, SR_AUDIT_DURABLE, NULL, err);

	json_object_put(details);
	return rc;
}

/* Runs the sandbox between a durable session.start and a session.end. */
static int
run_session(struct sr_verb_ctx *ctx, struct sr_sandbox_spec *spec, const char *datasets,
	    struct sr_error *err)
{
	json_object *d = json_object_new_object(), *av = json_object_new_array();
	char **p;
	int rc;

	json_object_object_add(d, "kind", json_object_new_string("sandbox-run"));
	json_object_object_add(d, "actor", json_object_new_string(ctx->actor));
	for (p = (char **)spec->argv; *p != NULL; p++)
		json_object_array_add(av, json_object_new_string(*p));
	json_object_object_add(d, "argv", av);
	if (session_event(spec->audit, spec, datasets, "session.start", d, err) < 0)
		return -1;
	rc = sr_sandbox_run(spec, err);
	d = json_object_new_object();
	json_object_object_add(d, "status", json_object_new_int(rc));
	if (session_event(spec->audit, spec, datasets, "session.end", d, rc < 0 ? NULL : err) < 0)
		return -1;
	return rc;
}

static int
run(struct sr_verb_ctx *ctx, const struct run_args *a, const struct sr_policy_spec *ps)
{
	struct sr_sandbox_dataset ds[64];
	struct sr_sandbox_spec spec;
	struct sr_error err = { { 0 } };
	char session[32], *csv;
	size_t i;
	int rc;

	if (ps->n_datasets > sizeof(ds) / sizeof(ds[0]))
		return sr_verb_error(ctx, SR_VERB_FAIL, "sandbox run: more than 64 datasets");
	memset(&spec, 0, sizeof(spec));
	for (i = 0; i < ps->n_datasets; i++) {
		ds[i].name = ps->datasets[i].name;
		ds[i].path = ps->datasets[i].path;
	}
	if (session_id(session, sizeof(session)) < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "sandbox run: no random session id");
	spec.user = ps->user;
	spec.project = ps->project;
	spec.session = session;
	spec.source = ctx->source != NULL ? ctx->source : "local";
	spec.uid = (uid_t)ps->uid;
	spec.gid = (gid_t)ps->gid;
	spec.datasets = ds;
	spec.n_datasets = ps->n_datasets;
	spec.workspace = ps->workspace;
	spec.home = ps->home;
	sr_sandbox_limits_for(ctx->cfg, &ps->limits, &spec.limits);
	spec.argv = a->argv;
	spec.pty = a->pty;
	spec.term = getenv("TERM");
	spec.lang = getenv("LANG");
	spec.audit = sr_audit_client_open(ctx->cfg->state_dir, 1, &err);
	csv = datasets_csv(ps);
	if (spec.audit == NULL || csv == NULL) {
		sr_audit_client_free(spec.audit);
		free(csv);
		return sr_verb_error(ctx, SR_SANDBOX_EXIT_FAILED, "sandbox run: %s",
				     sr_error_msg(&err));
	}
	fflush(ctx->out);
	rc = run_session(ctx, &spec, csv, &err);
	if (sr_audit_client_flush(spec.audit, rc < 0 ? NULL : &err) < 0 && rc >= 0)
		rc = -1;
	sr_audit_client_free(spec.audit);
	free(csv);
	if (rc < 0)
		return sr_verb_error(ctx, SR_SANDBOX_EXIT_FAILED, "sandbox run: %s",
				     sr_error_msg(&err));
	return rc;
}

int
sr_verb_sandbox(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_policy_spec *ps;
	struct sr_policy *policy;
	struct sr_error err = { { 0 } };
	struct run_args a;
	int rc;

	rc = parse_args(ctx, argc, argv, &a);
	if (rc != SR_VERB_OK)
		return rc;
	if (!(ctx->roles & SR_ROLE_ADMIN))
		return sr_verb_error(ctx, SR_VERB_DENIED, "sandbox run: only for root on the host");
	policy = sr_policy_open(ctx->cfg->state_dir, NULL, &err);
	if (policy == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "sandbox run: %s", sr_error_msg(&err));
	ps = sr_policy_spec_new(policy, a.user, a.project, (int64_t)time(NULL), &err);
	sr_policy_free(policy);
	if (ps == NULL)
		return sr_verb_error(ctx, SR_VERB_FAIL, "sandbox run: %s", sr_error_msg(&err));
	rc = run(ctx, &a, ps);
	sr_policy_spec_free(ps);
	return rc;
}
