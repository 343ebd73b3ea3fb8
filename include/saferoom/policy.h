/*
 * policy.h — who may do what in the safe room: the record of what a data
 * review board approved, and the decisions made from it.
 *
 * STATE_DIR/policy.db (SQLite, WAL, mode 0600) holds users (host uid, status,
 * expiry, TOTP seed, roles, public keys), datasets (resolved host path and an
 * index of row hashes), projects (DRB reference, validity window, host gid,
 * limit overrides), grants (project <-> dataset) and memberships (project <->
 * user) each with its own validity window, and allowed source networks per
 * user and per project, and export requests with their checks and reviews
 * (their interface is include/saferoom/export.h).  The global allow_from list
 * of the configuration is given to the handle by the caller.
 *
 * Every validity window is half-open, [from, until), in seconds since the
 * epoch (UTC); 0 means "open on that side".  A date given as "YYYY-MM-DD" for
 * an `until` means the end of that day, so "--until 2026-12-31" includes the
 * 31st.  Every decision takes the time to decide at, so that tests and the
 * broker's periodic recheck say exactly what they decide about.
 *
 * A handle opened with an actor may change policy: each change runs in one
 * transaction that is committed only after its `policy.change` audit event is
 * durable, so a failed change leaves no event and a change whose event could
 * not be written is not made.  A handle without an actor only reads.
 *
 * Module rule: policy depends on audit and on no other saferoom module.
 */
#ifndef SAFEROOM_POLICY_H
#define SAFEROOM_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saferoom/error.h"

#define SR_POLICY_DB "policy.db"
#define SR_POLICY_WORKSPACES "workspaces"
#define SR_POLICY_SCHEMA_VERSION 4
#define SR_POLICY_NAME_MAX 64          /* dataset, project and user names */
#define SR_POLICY_ROW_HASH_LEN 16      /* truncated SHA-256 of one row */

struct json_object;
struct sr_policy;

/* Roles of a user.  The bits equal enum sr_role's in verbs.h. */
enum sr_policy_role {
	SR_POLICY_RESEARCHER = 1 << 1,
	SR_POLICY_STEWARD = 1 << 2,
	SR_POLICY_AUDITOR = 1 << 3,
};

/* Who makes changes: recorded in every policy.change event. */
struct sr_policy_actor {
	const char *user;     /* SUDO_USER or the uid's name */
	const char *source;   /* "local" on the host, else the SSH source address */
	const char *session;  /* audit session id, or NULL */
};

/* ---- db.c: the store ---------------------------------------------------- */

/*
 * Creates STATE_DIR/policy.db (mode 0600, WAL) when missing and migrates it to
 * SR_POLICY_SCHEMA_VERSION.  Running it again changes nothing.
 */
int sr_policy_init_db(const char *state_dir, struct sr_error *err);

/*
 * Opens an existing policy.db, migrating an older schema forward.  With an
 * actor the handle may change policy (and sends events to STATE_DIR's audit
 * writer, becoming the writer itself when none runs); with NULL it only reads.
 */
struct sr_policy *sr_policy_open(const char *state_dir, const struct sr_policy_actor *actor,
				 struct sr_error *err);
void sr_policy_free(struct sr_policy *p);

/* The host id ranges for new users (uids) and projects (gids). */
void sr_policy_set_id_ranges(struct sr_policy *p, long uid_min, long uid_max, long gid_min,
			     long gid_max);
/*
 * The configuration's allow_from networks ("a.b.c.d/n", "x::y/n"); none means
 * every source passes the global check.  Returns -1 on a malformed network.
 */
int sr_policy_set_global_allow(struct sr_policy *p, const char *const *cidrs, size_t n,
			       struct sr_error *err);

/* ---- validate.c: what users type --------------------------------------- */

/* 0 when NAME is a valid user name (POSIX login name, at most 32 bytes), else -1. */
int sr_policy_user_name_ok(const char *name);
/* 0 when NAME matches [a-z0-9][a-z0-9._-]{0,63} (datasets and projects), else -1. */
int sr_policy_object_name_ok(const char *name);
/*
 * Parses an ISO 8601 date or time: "2026-11-28", "2026-11-28T13:06[:05]" with
 * an optional "Z" (UTC).  A bare date is the start of that day, or with
 * end_of_day set the start of the next one (an exclusive `until`).
 */
int sr_policy_parse_date(const char *text, int end_of_day, int64_t *out, struct sr_error *err);
/*
 * "2026-11-28T13:06:05Z", or "2026-11-28" at midnight; "-" for 0.  With
 * end_of_day an exclusive `until` at midnight is shown as the day it ends,
 * the way it was typed.  out must hold 24 bytes.
 */
void sr_policy_format_date(int64_t t, int end_of_day, char *out, size_t outlen);
/* Adds "researcher", "steward" or "auditor" (comma-separated) to *roles. */
int sr_policy_roles_parse(const char *text, unsigned *roles, struct sr_error *err);
/* "researcher,steward" into out. */
void sr_policy_roles_format(unsigned roles, char *out, size_t outlen);

/* ---- users.c ------------------------------------------------------------ */

struct sr_policy_user_spec {
	const char *name;
	unsigned roles;         /* at least one enum sr_policy_role bit */
	const char *key_file;   /* an OpenSSH public key file, or NULL */
	int64_t expires;        /* the account stops working at this time; 0 never */
};

int sr_policy_user_add(struct sr_policy *p, const struct sr_policy_user_spec *spec,
		       struct sr_error *err);
/* Registers the public key in FILE; refuses private keys, certificates, DSA, RSA < 2048. */
int sr_policy_user_key_add(struct sr_policy *p, const char *name, const char *key_file,
			   struct sr_error *err);
/* FINGERPRINT is "SHA256:..." as `ssh-keygen -lf` prints it. */
int sr_policy_user_key_remove(struct sr_policy *p, const char *name, const char *fingerprint,
			      struct sr_error *err);
int sr_policy_user_lock(struct sr_policy *p, const char *name, int locked, struct sr_error *err);
/* KEY is "expires" (a date, or "never") or "allow_from" (CIDRs, comma-separated, or "any"). */
int sr_policy_user_set(struct sr_policy *p, const char *name, const char *key, const char *value,
		       struct sr_error *err);
/*
 * Gives the user a fresh TOTP seed and returns in *uri the otpauth:// URI
 * (issuer saferoom, SHA1, 6 digits, 30 s) holding it.  Free *uri with
 * sr_policy_secret_free(), which wipes it.
 */
int sr_policy_user_totp_enable(struct sr_policy *p, const char *name, char **uri,
			       struct sr_error *err);
int sr_policy_user_totp_disable(struct sr_policy *p, const char *name, struct sr_error *err);
/* 1 when CODE is the user's TOTP code at NOW (one step either side), 0 when not, -1 on error. */
int sr_policy_totp_verify(struct sr_policy *p, const char *name, const char *code, int64_t now,
			  struct sr_error *err);
/*
 * Like sr_policy_totp_verify(), for a login: a code is good once.  The time
 * step it matched is recorded for the user, and a code of that step or an
 * earlier one is refused afterwards (RFC 6238, section 5.2), with *replayed
 * set (may be NULL).  Check and record are one transaction.  This is state,
 * not a policy change: it needs no actor and writes no policy.change event.
 * 1 accepted, 0 refused, -1 on error.
 */
int sr_policy_totp_verify_once(struct sr_policy *p, const char *name, const char *code,
			       int64_t now, int *replayed, struct sr_error *err);
void sr_policy_secret_free(char *secret);
/* qr.c: draws URI as a QR code of Unicode half blocks; ansi adds explicit colours. */
int sr_policy_totp_qr(const char *uri, FILE *out, int ansi, struct sr_error *err);
/* The user's enum sr_policy_role bits; -1 when unknown. */
int sr_policy_user_roles(struct sr_policy *p, const char *name, unsigned *roles,
			 struct sr_error *err);

/* JSON views for list/show (--json prints them as they are); json_object_put() them. */
struct json_object *sr_policy_user_list(struct sr_policy *p, struct sr_error *err);
struct json_object *sr_policy_user_show(struct sr_policy *p, const char *name,
					struct sr_error *err);

/* ---- keys.c ------------------------------------------------------------- */

struct sr_policy_pubkey {
	char type[32];          /* "ssh-ed25519", "ssh-rsa", ... */
	unsigned char *blob;    /* the key in SSH wire format */
	size_t blob_len;
	int bits;               /* modulus or curve size */
	char fingerprint[64];   /* "SHA256:..." as ssh-keygen -l prints it */
	char comment[256];
};

/* Reads one OpenSSH public key line from FILE and checks it with libssh. */
int sr_policy_pubkey_read(const char *file, struct sr_policy_pubkey *key, struct sr_error *err);
void sr_policy_pubkey_clear(struct sr_policy_pubkey *key);

/* ---- datasets.c and rowindex.c ------------------------------------------ */

/* Called now and then while the row index is built: bytes hashed of the total. */
typedef void (*sr_policy_progress_fn)(uint64_t done, uint64_t total, void *arg);

/*
 * Registers the directory PATH as dataset NAME and indexes its rows.  PATH
 * must exist, contain no symlink, not lie under state_dir (nor contain it);
 * it is stored resolved.
 */
int sr_policy_dataset_add(struct sr_policy *p, const char *name, const char *path,
			  const char *description, sr_policy_progress_fn progress, void *arg,
			  struct sr_error *err);
/* Rebuilds NAME's row index from the files as they are now. */
int sr_policy_dataset_reindex(struct sr_policy *p, const char *name, sr_policy_progress_fn progress,
			      void *arg, struct sr_error *err);
struct json_object *sr_policy_dataset_list(struct sr_policy *p, struct sr_error *err);
struct json_object *sr_policy_dataset_show(struct sr_policy *p, const char *name,
					   struct sr_error *err);

/*
 * The row hash of the index: the line without a trailing "\n" or "\r\n",
 * SHA-256, first SR_POLICY_ROW_HASH_LEN bytes.  Export checks hash candidate
 * rows with this very function.  Returns 0, or -1 when LINE is empty after
 * stripping (empty lines are not indexed).
 */
int sr_policy_row_hash(const char *line, size_t len, unsigned char out[SR_POLICY_ROW_HASH_LEN]);
/*
 * Is HASH a row of a dataset granted to PROJECT (any grant, active or not)?
 * Returns 1 and the dataset's name in dataset (may be NULL), 0 when not, -1 on error.
 */
int sr_policy_row_find(struct sr_policy *p, const char *project,
		       const unsigned char hash[SR_POLICY_ROW_HASH_LEN], char *dataset,
		       size_t dataset_len, struct sr_error *err);

/* ---- projects.c --------------------------------------------------------- */

/* A validity window [from, until); 0 leaves a side open. */
struct sr_policy_window {
	int64_t from;
	int64_t until;
};

/* Parses optional --from/--until texts (NULL: open) and checks until > from. */
int sr_policy_window_parse(const char *from, const char *until, struct sr_policy_window *w,
			   struct sr_error *err);

struct sr_policy_project_spec {
	const char *name;
	const char *drb_ref;    /* the data review board's approval reference */
	struct sr_policy_window valid;  /* until is required */
};

int sr_policy_project_add(struct sr_policy *p, const struct sr_policy_project_spec *spec,
			  struct sr_error *err);
int sr_policy_project_grant(struct sr_policy *p, const char *project, const char *dataset,
			    const struct sr_policy_window *w, struct sr_error *err);
int sr_policy_project_revoke(struct sr_policy *p, const char *project, const char *dataset,
			     struct sr_error *err);
int sr_policy_project_member_add(struct sr_policy *p, const char *project, const char *user,
				 const struct sr_policy_window *w, struct sr_error *err);
int sr_policy_project_member_remove(struct sr_policy *p, const char *project, const char *user,
				    struct sr_error *err);
/*
 * KEY is a limit (memory, pids, cpu, tmp_size, max_file_size, idle_timeout,
 * max_session; VALUE 0 or "default" means the global default), "allow_from"
 * (CIDRs, comma-separated, or "any"), "drb_ref", "from" or "until".
 */
int sr_policy_project_set(struct sr_policy *p, const char *project, const char *key,
			  const char *value, struct sr_error *err);
struct json_object *sr_policy_project_list(struct sr_policy *p, struct sr_error *err);
struct json_object *sr_policy_project_show(struct sr_policy *p, const char *name,
					   struct sr_error *err);

/* ---- limits.c: per-project overrides of the sandbox's global defaults --- */

/* Units: bytes (memory, tmp_size, max_file_size), processes, percent of one
 * CPU (cpu: 150 is one and a half), seconds (idle_timeout, max_session).
 * 0 everywhere means "use the configuration's default". */
struct sr_policy_limits {
	int64_t memory;
	int64_t pids;
	int64_t cpu;
	int64_t tmp_size;
	int64_t max_file_size;
	int64_t idle_timeout;
	int64_t max_session;
};

/* Parses VALUE for limit KEY ("512M", "100", "2h", "default").  -1 on a bad key or value. */
int sr_policy_limit_parse(const char *key, const char *value, int64_t *out, struct sr_error *err);

/* ---- decide.c: login, session spec, recheck ------------------------------ */

enum sr_policy_reason {
	SR_POLICY_ALLOW = 0,
	SR_POLICY_NO_USER,              /* no such user */
	SR_POLICY_USER_LOCKED,
	SR_POLICY_USER_EXPIRED,
	SR_POLICY_KEY_UNKNOWN,          /* key not registered to this user */
	SR_POLICY_TOTP_INVALID,         /* a TOTP code was given and is wrong */
	SR_POLICY_SOURCE_DENIED,        /* global, user or project networks */
	SR_POLICY_NO_PROJECT,           /* no such project, or a researcher in none */
	SR_POLICY_PROJECT_AMBIGUOUS,    /* active in several projects and none named */
	SR_POLICY_NOT_MEMBER,
	SR_POLICY_MEMBER_NOT_STARTED,
	SR_POLICY_MEMBER_EXPIRED,
	SR_POLICY_PROJECT_NOT_STARTED,
	SR_POLICY_PROJECT_ENDED,
	SR_POLICY_NO_GRANT,             /* no dataset grant active now */
	SR_POLICY_GRANT_REVOKED,        /* recheck: a dataset of the session lost its grant */
};

/* A stable token for the reason ("user-locked"), for logs and --json. */
const char *sr_policy_reason_name(enum sr_policy_reason r);

struct sr_policy_login {
	const char *user;
	const char *project;         /* NULL: the user's only active project, if any */
	const char *source;          /* numeric address, or NULL to skip the network check */
	const char *key_fingerprint; /* "SHA256:...", or NULL to skip the key check */
	const char *totp_code;       /* NULL to skip */
	int64_t now;                 /* seconds since the epoch */
};

struct sr_policy_decision {
	enum sr_policy_reason reason;
	char message[256];           /* one line saying why, for admins and logs */
	char project[SR_POLICY_NAME_MAX + 1];  /* the project the login lands in, "" for staff */
	unsigned roles;
	long uid;
	int totp_required;           /* the user has TOTP enabled */
};

/*
 * Decides whether the login would be allowed at req->now.  Returns 0 with the
 * answer in *d (allowed or not), -1 when it could not decide (db error).
 * Staff (steward/auditor without the researcher role) log in without a project.
 */
int sr_policy_login_check(struct sr_policy *p, const struct sr_policy_login *req,
			  struct sr_policy_decision *d, struct sr_error *err);

/* What the sandbox builds for (user, project). */
struct sr_policy_spec_dataset {
	char *name;
	char *path;                  /* resolved host path, to open beneath nothing else */
};

struct sr_policy_spec {
	char *user;
	char *project;
	long uid;                    /* the user's host uid */
	long gid;                    /* the project's host gid */
	char *workspace;             /* STATE_DIR/workspaces/PROJECT */
	char *home;                  /* the home relative to the workspace: "home/USER" */
	struct sr_policy_spec_dataset *datasets;   /* actively granted, by name */
	size_t n_datasets;
	struct sr_policy_limits limits;
};

/*
 * Builds the spec for (user, project) at NOW; fails with the decision's
 * message unless the login (without key and source checks) is allowed.
 */
struct sr_policy_spec *sr_policy_spec_new(struct sr_policy *p, const char *user,
					  const char *project, int64_t now, struct sr_error *err);
void sr_policy_spec_free(struct sr_policy_spec *spec);

/*
 * For a running session: decides REQ again at req->now and also reports
 * SR_POLICY_GRANT_REVOKED when a dataset of SPEC is no longer actively
 * granted.  Returns 0 with the answer in *d, -1 when it could not decide.
 */
int sr_policy_recheck(struct sr_policy *p, const struct sr_policy_login *req,
		      const struct sr_policy_spec *spec, struct sr_policy_decision *d,
		      struct sr_error *err);

#endif /* SAFEROOM_POLICY_H */
