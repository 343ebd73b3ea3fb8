/*
 * internal.h — what the files of policy/ share and nothing outside sees: the
 * handle, the change protocol (transaction + audit event + commit) and small
 * SQLite helpers.
 */
#ifndef SAFEROOM_POLICY_INTERNAL_H
#define SAFEROOM_POLICY_INTERNAL_H

#include <sqlite3.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "saferoom/policy.h"

#define POL_MAX_ALLOW 64

/* A network in CIDR form; policy keeps its own so it depends on no broker code. */
struct pol_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

/* Statements prepared once per handle: those on the login and export paths. */
enum pol_stmt {
	POL_ST_USER,
	POL_ST_KEY,
	POL_ST_GRANTS,
	POL_ST_PROJECT,
	POL_ST_MEMBERSHIPS,
	POL_ST_SPEC_DATASETS,
	POL_ST_SPEC_PROJECT,
	POL_ST_GRANT_ACTIVE,
	POL_ST_ROW_FIND,
	POL_ST_MAX
};

struct sr_policy {
	sqlite3 *db;
	char *state_dir;
	char *actor;              /* NULL: read-only handle */
	char *source;
	char *session;
	struct sr_audit_client *audit;
	long uid_min, uid_max, gid_min, gid_max;
	struct pol_cidr allow[POL_MAX_ALLOW];
	size_t n_allow;
	sqlite3_stmt *cache[POL_ST_MAX];
};

/* db.c */
int pol_sql_error(struct sr_policy *p, struct sr_error *err, const char *what);
sqlite3_stmt *pol_prepare(struct sr_policy *p, const char *sql, struct sr_error *err);
/* The cached statement SLOT (prepared from SQL on first use), reset and unbound. */
sqlite3_stmt *pol_cached(struct sr_policy *p, enum pol_stmt slot, const char *sql,
			 struct sr_error *err);
/* Runs a statement without results; returns 0 or -1. */
int pol_exec(struct sr_policy *p, const char *sql, struct sr_error *err);
/* Starts a change: refuses read-only handles, connects to the audit writer, BEGIN IMMEDIATE. */
int pol_change_begin(struct sr_policy *p, struct sr_error *err);
/*
 * Ends a change: sends one durable policy.change event (details: ACTION plus
 * the members of DETAILS, which is consumed), then commits.  When the event or
 * the commit fails the change is rolled back and -1 returned.
 */
int pol_change_commit(struct sr_policy *p, const char *action, const char *project,
		      struct json_object *details, struct sr_error *err);
void pol_change_abort(struct sr_policy *p);
/* Connects the handle's audit client (local fallback; waits for a busy one). */
int pol_audit_connect(struct sr_policy *p, struct sr_error *err);
/* Sends one durable event of TYPE as the handle's actor; DETAILS is borrowed. */
int pol_audit_send(struct sr_policy *p, const char *type, const char *project, const char *datasets,
		   struct json_object *details, struct sr_error *err);
/* pol_change_commit() with an event of TYPE whose details are DETAILS as they are (consumed). */
int pol_change_commit_event(struct sr_policy *p, const char *type, const char *project,
			    const char *datasets, struct json_object *details, struct sr_error *err);
/* Runs SQL (one bound text parameter, one integer column): >0, 0 when no row, -1 on error. */
int64_t pol_lookup(struct sr_policy *p, const char *sql, const char *name, struct sr_error *err);
/* Allocates the next host id of KIND ("uid", "gid") within [min, max]; never reused. */
int pol_alloc_id(struct sr_policy *p, const char *kind, long min, long max, long *out,
		 struct sr_error *err);

/* cidr.c */
int pol_cidr_parse(const char *text, struct pol_cidr *out);
int pol_cidr_contains(const struct pol_cidr *net, const char *addr);
/* Checks a comma-separated list ("any" or "" clears); *norm is the canonical text or NULL. */
int pol_cidr_list_parse(const char *text, char **norm, struct sr_error *err);
/* 1 when ADDR is in the comma-separated LIST (NULL or empty: everything). */
int pol_cidr_list_contains(const char *list, const char *addr);

/* users.c / datasets.c / projects.c lookups with a one-line "unknown" error */
int64_t pol_user_id(struct sr_policy *p, const char *name, struct sr_error *err);
int64_t pol_dataset_id(struct sr_policy *p, const char *name, struct sr_error *err);
int64_t pol_project_id(struct sr_policy *p, const char *name, struct sr_error *err);

/* validate.c: the bit of one role name, 0 when unknown */
unsigned pol_role_bit(const char *name);

/* json helpers */
/*
 * A date as sr_policy_format_date() writes it (an `until` at midnight as the
 * last day it includes, so that it reads back as typed), or null for 0.
 */
void pol_json_date(struct json_object *obj, const char *key, int64_t t, int end_of_day);
void pol_json_str(struct json_object *obj, const char *key, const char *s);

/* rowindex.c: openat2 without symlinks, beneath DIRFD or from the root */
int pol_openat_beneath(int dirfd, const char *rel, int flags);
int pol_open_nosymlinks(const char *path, int flags);
/* rowindex.c: replaces the dataset's rows inside the caller's change */
int pol_rows_build(struct sr_policy *p, int64_t dataset_id, const char *path,
		   sr_policy_progress_fn progress, void *arg, int64_t *files, int64_t *rows,
		   struct sr_error *err);

/* views.c: one JSON object per result row, built from the row's columns and ARG. */
typedef struct json_object *(*pol_row_fn)(sqlite3_stmt *st, const void *arg);
/*
 * Runs SQL with ?1 = ID and returns an array holding ROW's object for each
 * result row, in order.  On failure returns NULL with ERR set (naming WHAT
 * when stepping fails) and nothing left allocated.
 */
struct json_object *pol_rows_by_id(struct sr_policy *p, const char *sql, int64_t id,
				   pol_row_fn row, const void *arg, const char *what,
				   struct sr_error *err);

/* limits.c: the position of KEY in struct sr_policy_limits, or -1 */
int pol_limit_index(const char *key);

#endif /* SAFEROOM_POLICY_INTERNAL_H */
