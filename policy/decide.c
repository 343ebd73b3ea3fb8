/*
 * decide.c — the decisions the broker and the sandbox ask of policy: may this
 * login go ahead, what does its sandbox hold, and may a running session go on.
 *
 * A login is allowed only when the user, the key, the source network, the
 * membership, the project and at least one grant are all active at the time
 * asked about.  The checks run in a fixed order and the first that fails is
 * the answer, so "why can't she log in" always has one exact reason.  The
 * statements are prepared once per handle: the broker asks on every login
 * and every minute of every session.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The reason tokens, in enum order. */
static const char *const reason_names[] = {
	"allow", "no-user", "user-locked", "user-expired", "key-unknown", "totp-invalid",
	"source-denied", "no-project", "project-ambiguous", "not-member", "member-not-started",
	"member-expired", "project-not-started", "project-ended", "no-grant", "grant-revoked",
};

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == SR_POLICY_GRANT_REVOKED + 1,
	       "one name per reason");

const char *
sr_policy_reason_name(enum sr_policy_reason r)
{
	if ((unsigned)r > SR_POLICY_GRANT_REVOKED)
		return "unknown";
	return reason_names[r];
}

static int __attribute__((format(printf, 3, 4)))
refuse(struct sr_policy_decision *d, enum sr_policy_reason r, const char *fmt, ...)
{
	va_list ap;

	d->reason = r;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
	return 0;
}

/* 1 when T lies in [from, until), 0 meaning open on that side. */
static int
in_window(int64_t t, int64_t from, int64_t until)
{
	return (from == 0 || t >= from) && (until == 0 || t < until);
}

struct user_row {
	int64_t id;
	int64_t expires;
	int locked;
	char *allow_from;
};

static int
load_user(struct sr_policy *p, const char *name, struct user_row *u, struct sr_policy_decision *d,
	  struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_USER, "SELECT id, uid, status = 'locked', expires, allow_from, "
			"totp_secret IS NOT NULL, (SELECT group_concat(role) FROM user_roles "
			"WHERE user_id = users.id) FROM users WHERE name = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *roles = (const char *)sqlite3_column_text(st, 6);
		const char *allow = (const char *)sqlite3_column_text(st, 4);

		u->id = sqlite3_column_int64(st, 0);
		d->uid = (long)sqlite3_column_int64(st, 1);
		u->locked = sqlite3_column_int(st, 2);
		u->expires = sqlite3_column_int64(st, 3);
		u->allow_from = allow != NULL ? strdup(allow) : NULL;
		d->totp_required = sqlite3_column_int(st, 5);
		d->roles = 0;
		if (roles != NULL)
			sr_policy_roles_parse(roles, &d->roles, NULL);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "users");
}

static int
key_registered(struct sr_policy *p, int64_t user_id, const char *fp, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_KEY, "SELECT 1 FROM user_keys WHERE user_id = ? AND "
			"fingerprint = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "user_keys");
}

static int
global_allows(const struct sr_policy *p, const char *addr)
{
	if (p->n_allow == 0)
		return 1;
	for (size_t i = 0; i < p->n_allow; i++) {
		if (pol_cidr_contains(&p->allow[i], addr))
			return 1;
	}
	return 0;
}

/* The user-level checks, in order.  Returns 1 to go on, 0 refused, -1 error. */
static int
check_user(struct sr_policy *p, const struct sr_policy_login *req, const struct user_row *u,
	   struct sr_policy_decision *d, struct sr_error *err)
{
	char date[32];
	int rc;

	if (u->locked)
		return refuse(d, SR_POLICY_USER_LOCKED, "user %s is locked", req->user);
	if (u->expires != 0 && req->now >= u->expires) {
		sr_policy_format_date(u->expires, 1, date, sizeof(date));
		return refuse(d, SR_POLICY_USER_EXPIRED, "user %s expired (valid until %s)",
			      req->user, date);
	}
	if (req->key_fingerprint != NULL) {
		rc = key_registered(p, u->id, req->key_fingerprint, err);
		if (rc <= 0)
			return rc < 0 ? -1 : refuse(d, SR_POLICY_KEY_UNKNOWN, "key %s is not "
						    "registered to %s", req->key_fingerprint,
						    req->user);
	}
	if (req->totp_code != NULL) {
		rc = sr_policy_totp_verify(p, req->user, req->totp_code, req->now, err);
		if (rc <= 0)
			return rc < 0 ? -1 : refuse(d, SR_POLICY_TOTP_INVALID, "TOTP code for %s "
						    "is not valid now", req->user);
	}
	if (req->source != NULL && !global_allows(p, req->source))
		return refuse(d, SR_POLICY_SOURCE_DENIED, "source %s is not in the global "
			      "allow_from", req->source);
	if (req->source != NULL && !pol_cidr_list_contains(u->allow_from, req->source))
		return refuse(d, SR_POLICY_SOURCE_DENIED, "source %s is not in %s's allow_from (%s)",
			      req->source, req->user, u->allow_from);
	return 1;
}

static int
active_grants(struct sr_policy *p, int64_t project_id, int64_t now, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	st = pol_cached(p, POL_ST_GRANTS, "SELECT EXISTS (SELECT 1 FROM grants WHERE "
			"project_id = ?1 AND (valid_from = 0 OR valid_from <= ?2) AND "
			"(valid_until = 0 OR valid_until > ?2))", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, project_id);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? n : pol_sql_error(p, err, "grants");
}

struct project_row {
	int64_t id;
	int64_t from, until;
	int member;
	int64_t m_from, m_until;
	char allow_from[1024];
};

static int
load_project(struct sr_policy *p, int64_t user_id, const char *name, struct project_row *r,
	     struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_PROJECT, "SELECT pr.id, pr.valid_from, pr.valid_until, "
			"coalesce(pr.allow_from, ''), m.user_id IS NOT NULL, "
			"coalesce(m.valid_from, 0), coalesce(m.valid_until, 0) FROM projects pr "
			"LEFT JOIN members m ON m.project_id = pr.id AND m.user_id = ?1 "
			"WHERE pr.name = ?2", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->from = sqlite3_column_int64(st, 1);
		r->until = sqlite3_column_int64(st, 2);
		snprintf(r->allow_from, sizeof(r->allow_from), "%s", sqlite3_column_text(st, 3));
		r->member = sqlite3_column_int(st, 4);
		r->m_from = sqlite3_column_int64(st, 5);
		r->m_until = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "projects");
}

static int
refuse_window(struct sr_policy_decision *d, enum sr_policy_reason early,
	      enum sr_policy_reason late, const char *what, int64_t now, int64_t from,
	      int64_t until)
{
	char date[32];

	if (from != 0 && now < from) {
		sr_policy_format_date(from, 0, date, sizeof(date));
		return refuse(d, early, "%s starts on %s", what, date);
	}
	sr_policy_format_date(until, 1, date, sizeof(date));
	return refuse(d, late, "%s ended (valid until %s)", what, date);
}

/* The project-level checks for USER in PROJECT.  Returns 1 allowed, 0 refused, -1 error. */
static int
check_project(struct sr_policy *p, const struct sr_policy_login *req, int64_t user_id,
	      const char *project, struct sr_policy_decision *d, struct sr_error *err)
{
	struct project_row r;
	char what[160];
	int rc;

	rc = load_project(p, user_id, project, &r, err);
	if (rc <= 0)
		return rc < 0 ? -1 : refuse(d, SR_POLICY_NO_PROJECT, "no project %s", project);
	if (!r.member)
		return refuse(d, SR_POLICY_NOT_MEMBER, "%s is not a member of %s", req->user,
			      project);
	snprintf(what, sizeof(what), "%s's membership of %s", req->user, project);
	if (!in_window(req->now, r.m_from, r.m_until))
		return refuse_window(d, SR_POLICY_MEMBER_NOT_STARTED, SR_POLICY_MEMBER_EXPIRED,
				     what, req->now, r.m_from, r.m_until);
	snprintf(what, sizeof(what), "project %s", project);
	if (!in_window(req->now, r.from, r.until))
		return refuse_window(d, SR_POLICY_PROJECT_NOT_STARTED, SR_POLICY_PROJECT_ENDED,
				     what, req->now, r.from, r.until);
	if (req->source != NULL && !pol_cidr_list_contains(r.allow_from, req->source))
		return refuse(d, SR_POLICY_SOURCE_DENIED, "source %s is not in project %s's "
			      "allow_from (%s)", req->source, project, r.allow_from);
	rc = active_grants(p, r.id, req->now, err);
	if (rc <= 0)
		return rc < 0 ? -1 : refuse(d, SR_POLICY_NO_GRANT, "project %s has no active "
					    "dataset grant", project);
	snprintf(d->project, sizeof(d->project), "%s", project);
	d->reason = SR_POLICY_ALLOW;
	snprintf(d->message, sizeof(d->message), "%s may log in to project %s", req->user,
		 project);
	return 1;
}

/* The names of USER's projects, ordered; *names is a malloc'd array of strings. */
static int
memberships(struct sr_policy *p, int64_t user_id, char ***names, size_t *n, struct sr_error *err)
{
	sqlite3_stmt *st;
	char **v = NULL, **nv;
	int rc;

	*n = 0;
	st = pol_cached(p, POL_ST_MEMBERSHIPS, "SELECT pr.name FROM members m JOIN projects pr "
			"ON pr.id = m.project_id WHERE m.user_id = ? ORDER BY pr.name", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL)
			break;
		v = nv;
		if ((v[*n] = strdup((const char *)sqlite3_column_text(st, 0))) == NULL)
			break;
		(*n)++;
	}
	sqlite3_reset(st);
	*names = v;
	if (rc == SQLITE_ROW)
		return sr_error_set(err, "out of memory");
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "members");
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * No project named: the one active project among the user's memberships.
 * With none active, the first membership's refusal is the answer, unless the
 * user is also staff, who may come in without a project.
 */
static int
pick_project(struct sr_policy *p, const struct sr_policy_login *req, int64_t user_id,
	     struct sr_policy_decision *d, struct sr_error *err)
{
	struct sr_policy_decision first = { 0 }, cur;
	char **names;
	size_t n, active = 0;
	int rc = 0;

	if (memberships(p, user_id, &names, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		cur = *d;
		rc = check_project(p, req, user_id, names[i], &cur, err);
		if (rc == 1 && active++ == 0)
			*d = cur;
		if (i == 0)
			first = cur;
	}
	free_names(names, n);
	if (rc < 0)
		return -1;
	if (active > 1)
		return refuse(d, SR_POLICY_PROJECT_AMBIGUOUS, "%s is active in %zu projects: log in "
			      "as %s+PROJECT", req->user, active, req->user);
	if (active == 1)
		return 0;
	if (d->roles & (SR_POLICY_STEWARD | SR_POLICY_AUDITOR)) {
		d->reason = SR_POLICY_ALLOW;
		snprintf(d->message, sizeof(d->message), "%s may log in (staff, no project)",
			 req->user);
		return 0;
	}
	if (n == 0)
		return refuse(d, SR_POLICY_NO_PROJECT, "%s is a member of no project", req->user);
	*d = first;
	return 0;
}

int
sr_policy_login_check(struct sr_policy *p, const struct sr_policy_login *req,
		      struct sr_policy_decision *d, struct sr_error *err)
{
	struct user_row u = { 0 };
	int rc;

	memset(d, 0, sizeof(*d));
	d->uid = -1;
	rc = load_user(p, req->user, &u, d, err);
	if (rc <= 0)
		return rc < 0 ? -1 : refuse(d, SR_POLICY_NO_USER, "no user %s", req->user);
	rc = check_user(p, req, &u, d, err);
	free(u.allow_from);
	if (rc <= 0)
		return rc;
	if (req->project != NULL)
		return check_project(p, req, u.id, req->project, d, err) < 0 ? -1 : 0;
	return pick_project(p, req, u.id, d, err);
}

/* ---- the sandbox spec ------------------------------------------------------ */

static int
spec_datasets(struct sr_policy *p, struct sr_policy_spec *s, int64_t now, struct sr_error *err)
{
	sqlite3_stmt *st;
	struct sr_policy_spec_dataset *v;
	int rc;

	st = pol_cached(p, POL_ST_SPEC_DATASETS, "SELECT d.name, d.path FROM grants g "
			"JOIN datasets d ON d.id = g.dataset_id JOIN projects pr ON "
			"pr.id = g.project_id WHERE pr.name = ?1 AND (g.valid_from = 0 OR "
			"g.valid_from <= ?2) AND (g.valid_until = 0 OR g.valid_until > ?2) "
			"ORDER BY d.name", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, s->project, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = realloc(s->datasets, (s->n_datasets + 1) * sizeof(*v));
		if (v == NULL)
			break;
		s->datasets = v;
		v += s->n_datasets;
		v->name = strdup((const char *)sqlite3_column_text(st, 0));
		v->path = strdup((const char *)sqlite3_column_text(st, 1));
		s->n_datasets++;
		if (v->name == NULL || v->path == NULL)
			break;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return sr_error_set(err, "out of memory");
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "grants");
}

static int
spec_project(struct sr_policy *p, struct sr_policy_spec *s, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_SPEC_PROJECT, "SELECT pr.gid, l.key, l.value FROM projects pr "
			"LEFT JOIN project_limits l ON l.project_id = pr.id WHERE pr.name = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, s->project, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 1);
		int64_t *slots[] = { &s->limits.memory, &s->limits.pids, &s->limits.cpu,
				     &s->limits.tmp_size, &s->limits.max_file_size,
				     &s->limits.idle_timeout, &s->limits.max_session };
		int i = key != NULL ? pol_limit_index(key) : -1;

		s->gid = (long)sqlite3_column_int64(st, 0);
		if (i >= 0)
			*slots[i] = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "projects");
}

struct sr_policy_spec *
sr_policy_spec_new(struct sr_policy *p, const char *user, const char *project, int64_t now,
		   struct sr_error *err)
{
	struct sr_policy_login req = { .user = user, .project = project, .now = now };
	struct sr_policy_decision d;
	struct sr_policy_spec *s;

	if (sr_policy_login_check(p, &req, &d, err) < 0)
		return NULL;
	if (d.reason != SR_POLICY_ALLOW) {
		sr_error_set(err, "%s", d.message);
		return NULL;
	}
	if (d.project[0] == '\0') {
		sr_error_set(err, "%s has no project to work in", user);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->user = strdup(user)) == NULL || (s->project = strdup(d.project)) == NULL ||
	    asprintf(&s->workspace, "%s/%s/%s", p->state_dir, SR_POLICY_WORKSPACES, d.project) < 0 ||
	    asprintf(&s->home, "home/%s", user) < 0) {
		sr_error_set(err, "out of memory");
		goto out_free;
	}
	s->uid = d.uid;
	if (spec_project(p, s, err) < 0 || spec_datasets(p, s, now, err) < 0)
		goto out_free;
	return s;
out_free:
	sr_policy_spec_free(s);
	return NULL;
}

void
sr_policy_spec_free(struct sr_policy_spec *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_datasets; i++) {
		free(s->datasets[i].name);
		free(s->datasets[i].path);
	}
	free(s->datasets);
	free(s->user);
	free(s->project);
	free(s->workspace);
	free(s->home);
	free(s);
}

/* ---- recheck ----------------------------------------------------------------- */

static int
grant_active(struct sr_policy *p, const char *project, const char *dataset, int64_t now,
	     struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_GRANT_ACTIVE, "SELECT 1 FROM grants g JOIN datasets d ON "
			"d.id = g.dataset_id JOIN projects pr ON pr.id = g.project_id WHERE "
			"pr.name = ?1 AND d.name = ?2 AND (g.valid_from = 0 OR g.valid_from <= ?3) "
			"AND (g.valid_until = 0 OR g.valid_until > ?3)", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dataset, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : pol_sql_error(p, err, "grants");
}

int
sr_policy_recheck(struct sr_policy *p, const struct sr_policy_login *req,
		  const struct sr_policy_spec *spec, struct sr_policy_decision *d,
		  struct sr_error *err)
{
	struct sr_policy_login again = *req;
	int rc;

	if (spec != NULL)
		again.project = spec->project;
	if (sr_policy_login_check(p, &again, d, err) < 0)
		return -1;
	if (d->reason != SR_POLICY_ALLOW || spec == NULL)
		return 0;
	for (size_t i = 0; i < spec->n_datasets; i++) {
		rc = grant_active(p, spec->project, spec->datasets[i].name, req->now, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return refuse(d, SR_POLICY_GRANT_REVOKED, "dataset %s is no longer granted "
				      "to %s", spec->datasets[i].name, spec->project);
	}
	return 0;
}
