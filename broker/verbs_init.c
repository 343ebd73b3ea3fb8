/*
 * verbs_init.c — `saferoomctl init`: lay out a safe room's state directory.
 *
 * Creates state_dir (mode 0700, owned by the admin) with audit.db, policy.db,
 * recordings/, quarantine/, workspaces/ and an ed25519 host key, each only if
 * missing, so that running init again is harmless.  An existing state_dir that
 * someone else owns, or that others can enter, is refused rather than silently
 * trusted: every later decision rests on what is in there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libssh/libssh.h>

#include "saferoom/audit.h"
#include "saferoom/policy.h"
#include "saferoom/verbs.h"

static const char *const state_subdirs[] = {
	SR_AUDIT_RECORDINGS, "quarantine", "workspaces", NULL,
};

/* mkdir -p for the parents of PATH (0755), then PATH itself (0700). */
static int
make_state_dir(const char *path, int *created, struct sr_error *err)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return sr_error_set(err, "state_dir %s: path too long", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return sr_error_errno(err, "cannot create %s", buf);
		*p = '/';
	}
	*created = 0;
	if (mkdir(path, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return sr_error_errno(err, "cannot create state_dir %s", path);
	if (lstat(path, &st) < 0)
		return sr_error_errno(err, "state_dir %s", path);
	if (!S_ISDIR(st.st_mode))
		return sr_error_set(err, "state_dir %s is not a directory", path);
	if (st.st_uid != geteuid())
		return sr_error_set(err, "state_dir %s is owned by uid %ld, not by us (uid %ld)",
				    path, (long)st.st_uid, (long)geteuid());
	if ((st.st_mode & 077) != 0)
		return sr_error_set(err, "state_dir %s has mode %04o; it must be 0700 (chmod 700 %s)",
				    path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

static int
make_subdir(int dirfd, const char *name, json_object *created, struct sr_error *err)
{
	struct stat st;

	if (mkdirat(dirfd, name, 0700) == 0) {
		json_object_array_add(created, json_object_new_string(name));
		return 0;
	}
	if (errno != EEXIST)
		return sr_error_errno(err, "cannot create %s", name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sr_error_errno(err, "%s", name);
	if (!S_ISDIR(st.st_mode))
		return sr_error_set(err, "%s in state_dir is not a directory", name);
	return 0;
}

/* Generates an ed25519 host key at PATH unless a file is already there. */
static int
make_host_key(const char *path, json_object *created, struct sr_error *err)
{
	ssh_key key = NULL;
	struct stat st;
	int rc;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return sr_error_set(err, "host_key %s is not a regular file", path);
		return 0;
	}
	if (errno != ENOENT)
		return sr_error_errno(err, "host_key %s", path);
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
		return sr_error_set(err, "cannot generate an ed25519 host key");
	rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path);
	ssh_key_free(key);
	if (rc != SSH_OK)
		return sr_error_set(err, "cannot write host_key %s", path);
	if (chmod(path, 0600) < 0)
		return sr_error_errno(err, "chmod host_key %s", path);
	json_object_array_add(created, json_object_new_string("host_key"));
	return 0;
}

/* Records what init did; the trail starts with the room's own creation. */
static int
audit_init(struct sr_verb_ctx *ctx, json_object *created, struct sr_error *err)
{
	struct sr_audit_client *client;
	struct sr_audit_event ev;
	json_object *details;
	int rc;

	client = sr_audit_client_open(ctx->cfg->state_dir, 1, err);
	if (client == NULL)
		return -1;
	details = json_object_new_object();
	json_object_object_add(details, "action", json_object_new_string("init"));
	json_object_object_add(details, "created", json_object_get(created));
	memset(&ev, 0, sizeof(ev));
	ev.type = "policy.change";
	ev.user = ctx->actor;
	ev.source = ctx->source;
	ev.session = ctx->session;
	ev.details = json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = sr_audit_client_send(client, &ev, SR_AUDIT_DURABLE, NULL, err);
	json_object_put(details);
	sr_audit_client_free(client);
	return rc;
}

int
sr_verb_init(struct sr_verb_ctx *ctx, int argc, char **argv)
{
	const char *state_dir = ctx->cfg->state_dir;
	struct sr_error err = { "" };
	json_object *created;
	int dirfd = -1, fresh = 0, rc = SR_VERB_FAIL;
	size_t i;

	if (!(ctx->roles & SR_ROLE_ADMIN))
		return sr_verb_error(ctx, SR_VERB_DENIED, "init: only the admin may do that");
	if (argc != 1)
		return sr_verb_error(ctx, SR_VERB_USAGE, "init takes no arguments");
	created = json_object_new_array();
	if (make_state_dir(state_dir, &fresh, &err) < 0)
		goto out;
	if (fresh)
		json_object_array_add(created, json_object_new_string(state_dir));
	dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0) {
		sr_error_errno(&err, "state_dir %s", state_dir);
		goto out;
	}
	for (i = 0; state_subdirs[i] != NULL; i++)
		if (make_subdir(dirfd, state_subdirs[i], created, &err) < 0)
			goto out;
	if (make_host_key(ctx->cfg->host_key, created, &err) < 0)
		goto out;
	if (faccessat(dirfd, "policy.db", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		json_object_array_add(created, json_object_new_string("policy.db"));
	if (sr_policy_init_db(state_dir, &err) < 0)
		goto out;
	/* The audit client creates audit.db when no writer is running yet. */
	if (audit_init(ctx, created, &err) < 0)
		goto out;
	fprintf(ctx->out, "saferoom state in %s is ready", state_dir);
	for (i = 0; i < json_object_array_length(created); i++)
		fprintf(ctx->out, "%s%s", i == 0 ? "; created " : ", ",
			json_object_get_string(json_object_array_get_idx(created, i)));
	fputc('\n', ctx->out);
	rc = SR_VERB_OK;
out:
	if (rc != SR_VERB_OK)
		sr_verb_error(ctx, rc, "init: %s", sr_error_msg(&err));
	if (dirfd >= 0)
		close(dirfd);
	json_object_put(created);
	return rc;
}
