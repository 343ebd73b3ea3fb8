/*
 * verbs_user.c — `saferoomctl user ...`: accounts, their keys, roles, TOTP,
 * and `user check`, which answers "why can't she log in" with the very
 * decision the broker makes.
 *
 * Each verb checks its arguments, then makes one policy change (one audit
 * event); anything malformed is a one-line error and changes nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "verbs_policy.h"

static int
user_add(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "expires", required_argument, NULL, 'e' },
		{ 0 },
	};
	struct sr_policy_user_spec spec = { 0 };
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int c, first = 1;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		if (c == '?')
			return SR_VERB_USAGE;
		if ((c == 'r' && sr_policy_roles_parse(optarg, &spec.roles, &err) < 0) ||
		    (c == 'e' && sr_policy_parse_date(optarg, 1, &spec.expires, &err) < 0))
			return sr_verb_error(ctx, SR_VERB_USAGE, "%s", sr_error_msg(&err));
		if (c == 'k')
			spec.key_file = optarg;
	}
	if (argc - optind != 1 || spec.roles == 0)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user add NAME --role "
				     "researcher|steward|auditor [--key FILE] [--expires DATE]");
	spec.name = argv[optind];
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_user_add(p, &spec, &err), &err);
}

static int
user_key(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int add, rc;

	add = argc == 4 && strcmp(argv[1], "add") == 0;
	if (!add && !(argc == 4 && strcmp(argv[1], "remove") == 0))
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user key add NAME FILE | "
				     "user key remove NAME FINGERPRINT");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	if (add)
		rc = sr_policy_user_key_add(p, argv[2], argv[3], &err);
	else
		rc = sr_policy_user_key_remove(p, argv[2], argv[3], &err);
	return vp_done(ctx, p, rc, &err);
}

static int
user_lock_or_unlock(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int lock = strcmp(argv[0], "lock") == 0;

	if (argc != 2)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user %s NAME", argv[0]);
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_user_lock(p, argv[1], lock, &err), &err);
}

static int
user_set(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;

	if (argc != 4)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user set NAME expires DATE|never "
				     "| user set NAME allow_from CIDR[,CIDR...]|any");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	return vp_done(ctx, p, sr_policy_user_set(p, argv[1], argv[2], argv[3], &err), &err);
}

static int
totp_enable(struct sr_verb_ctx *ctx, struct sr_policy *p, const char *name)
{
	struct sr_error err = { { 0 } };
	char *uri = NULL;

	if (sr_policy_user_totp_enable(p, name, &uri, &err) < 0)
		return vp_done(ctx, p, -1, &err);
	fprintf(ctx->out, "%s\n\n", uri);
	if (sr_policy_totp_qr(uri, ctx->out, ctx->out_is_tty, &err) < 0)
		sr_verb_error(ctx, SR_VERB_OK, "TOTP is enabled; only the QR code failed: %s",
			      sr_error_msg(&err));
	fprintf(ctx->out, "\nScan it with an authenticator app (issuer saferoom, account %s).\n",
		name);
	sr_policy_secret_free(uri);
	return vp_done(ctx, p, 0, &err);
}

static int
user_totp(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int enable;

	enable = argc == 3 && strcmp(argv[1], "enable") == 0;
	if (!enable && !(argc == 3 && strcmp(argv[1], "disable") == 0))
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user totp enable|disable NAME");
	p = vp_open(ctx);
	if (p == NULL)
		return SR_VERB_FAIL;
	if (enable)
		return totp_enable(ctx, p, argv[2]);
	return vp_done(ctx, p, sr_policy_user_totp_disable(p, argv[2], &err), &err);
}

static int
user_list(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, sr_policy_user_list, NULL);
}

static int
user_show(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_view(ctx, argc, argv, NULL, sr_policy_user_show);
}

/* ---- user check ------------------------------------------------------------- */

static int
check_print(struct sr_verb_ctx *ctx, const struct sr_policy_decision *d, int as_json)
{
	int allowed = d->reason == SR_POLICY_ALLOW;
	struct json_object *o;

	if (!as_json) {
		if (allowed)
			fprintf(ctx->out, "allowed: %s\n", d->message);
		else
			fprintf(ctx->out, "refused (%s): %s\n", sr_policy_reason_name(d->reason),
				d->message);
		return allowed ? SR_VERB_OK : SR_VERB_FAIL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "allowed", json_object_new_boolean(allowed));
	json_object_object_add(o, "reason",
			       json_object_new_string(sr_policy_reason_name(d->reason)));
	json_object_object_add(o, "message", json_object_new_string(d->message));
	json_object_object_add(o, "project", d->project[0] ? json_object_new_string(d->project)
							    : NULL);
	json_object_object_add(o, "totp_required", json_object_new_boolean(d->totp_required));
	fprintf(ctx->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return allowed ? SR_VERB_OK : SR_VERB_FAIL;
}

static int
check_run(struct sr_verb_ctx *ctx, struct sr_policy_login *req, const char *key_file,
	  int as_json)
{
	struct sr_policy_pubkey key = { 0 };
	struct sr_policy_decision d;
	struct sr_error err = { { 0 } };
	struct sr_policy *p;
	int rc;

	if (key_file != NULL) {
		if (sr_policy_pubkey_read(key_file, &key, &err) < 0)
			return sr_verb_error(ctx, SR_VERB_USAGE, "%s", sr_error_msg(&err));
		req->key_fingerprint = key.fingerprint;
	}
	p = vp_open(ctx);
	if (p == NULL) {
		sr_policy_pubkey_clear(&key);
		return SR_VERB_FAIL;
	}
	rc = sr_policy_login_check(p, req, &d, &err);
	sr_policy_free(p);
	sr_policy_pubkey_clear(&key);
	if (rc < 0)
		return sr_verb_error(ctx, SR_VERB_FAIL, "%s", sr_error_msg(&err));
	return check_print(ctx, &d, as_json);
}

static int
user_check(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "project", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' },
		{ "totp", required_argument, NULL, 't' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	struct sr_policy_login req = { .now = time(NULL) };
	struct sr_error err = { { 0 } };
	const char *key_file = NULL;
	int c, first = 1, as_json = 0;

	while ((c = vp_getopt(ctx, argc, argv, opts, &first)) != -1) {
		switch (c) {
		case 'p':
			req.project = optarg;
			break;
		case 'f':
			req.source = optarg;
			break;
		case 'k':
			key_file = optarg;
			break;
		case 't':
			req.totp_code = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'a':
			if (sr_policy_parse_date(optarg, 0, &req.now, &err) < 0)
				return sr_verb_error(ctx, SR_VERB_USAGE, "%s", sr_error_msg(&err));
			break;
		default:
			return SR_VERB_USAGE;
		}
	}
	if (argc - optind != 1)
		return sr_verb_error(ctx, SR_VERB_USAGE, "usage: user check NAME [--project P] "
				     "[--from ADDR] [--key FILE] [--totp CODE] [--at TIME] [--json]");
	req.user = argv[optind];
	if (sr_policy_user_name_ok(req.user) < 0 ||
	    (req.project != NULL && sr_policy_object_name_ok(req.project) < 0))
		return sr_verb_error(ctx, SR_VERB_USAGE, "user check: bad user or project name");
	return check_run(ctx, &req, key_file, as_json);
}

static const struct vp_sub subs[] = {
	{ "add", user_add },
	{ "key", user_key },
	{ "lock", user_lock_or_unlock },
	{ "unlock", user_lock_or_unlock },
	{ "set", user_set },
	{ "totp", user_totp },
	{ "list", user_list },
	{ "show", user_show },
	{ "check", user_check },
	{ NULL, NULL },
};

int
sr_verb_user(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	return vp_dispatch(ctx, "user", subs, argc, argv);
}
