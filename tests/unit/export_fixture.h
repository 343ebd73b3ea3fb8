/*
 * export_fixture.h — a small safe room for the export tests: a state
 * directory with its audit writer running (forked, as saferoomd runs it),
 * policy.db with a dataset, a project "onco" granted it, and these people:
 *
 *   alice, bob   researchers, members of onco
 *   carol, dave  stewards
 *   erin         steward and researcher, member of onco
 *   olga         auditor
 *
 * and a workspace directory that plays /project.  Every helper opens a
 * policy handle as the person acting, does one thing and closes it, as the
 * verbs and the monitor do.
 */
#ifndef SAFEROOM_TEST_EXPORT_FIXTURE_H
#define SAFEROOM_TEST_EXPORT_FIXTURE_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "saferoom/audit.h"
#include "saferoom/config.h"
#include "saferoom/export.h"
#include "saferoom/policy.h"
#include "saferoom/verbs.h"
#include "tap.h"

/* The dataset's one file: its rows are indexed for the rows check. */
#define FX_DATASET "id,age,dx\n1,54,C34\n2,61,C50 breast cancer left side\n"

struct fx {
	char *dir;
	char state[512], ws[512], data[512];
	int wsfd;
	pid_t writer;
	struct sr_config cfg;
	struct sr_export_limits lim;
};

struct captured {
	char *out, *err;
	size_t out_len, err_len;
	int rc;
};

static inline int
fx_write(const char *path, const char *content, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok_ = fd >= 0 && write(fd, content, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok_ ? 0 : -1;
}

static inline struct sr_policy *
fx_open(struct fx *x, const char *user)
{
	struct sr_policy_actor actor = { .user = user, .source = "test" };
	struct sr_error err = { { 0 } };
	struct sr_policy *p = sr_policy_open(x->state, &actor, &err);

	if (p == NULL)
		diag("open policy as %s: %s", user, err.msg);
	return p;
}

/* Starts the audit writer in a child; returns once it accepts connections. */
static inline int
fx_start_writer(struct fx *x)
{
	struct sr_audit_writer_config wc = { .state_dir = x->state };
	int pfd[2];
	char c;

	if (pipe(pfd) < 0)
		return -1;
	x->writer = fork();
	if (x->writer == 0) {
		close(pfd[0]);
		_exit(sr_audit_writer_run(&wc, pfd[1], NULL) < 0 ? 1 : 0);
	}
	close(pfd[1]);
	if (x->writer < 0 || read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		return -1;
	}
	close(pfd[0]);
	return 0;
}

static inline int
fx_people(struct sr_policy *p, struct sr_error *err)
{
	static const struct {
		const char *name;
		unsigned roles;
	} people[] = {
		{ "alice", SR_POLICY_RESEARCHER }, { "bob", SR_POLICY_RESEARCHER },
		{ "carol", SR_POLICY_STEWARD }, { "dave", SR_POLICY_STEWARD },
		{ "erin", SR_POLICY_STEWARD | SR_POLICY_RESEARCHER },
		{ "olga", SR_POLICY_AUDITOR },
	};

	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		struct sr_policy_user_spec u = { .name = people[i].name, .roles = people[i].roles };

		if (sr_policy_user_add(p, &u, err) < 0)
			return -1;
	}
	return 0;
}

static inline int
fx_policy(struct fx *x)
{
	struct sr_policy_project_spec spec = { .name = "onco", .drb_ref = "DRB-2026-1",
					       .valid = { 0, 4102444800LL } };
	struct sr_policy_window always = { 0, 0 };
	struct sr_error err = { { 0 } };
	struct sr_policy *p = fx_open(x, "admin");
	int rc = -1;

	if (p != NULL && fx_people(p, &err) == 0 &&
	    sr_policy_dataset_add(p, "onc", x->data, NULL, NULL, NULL, &err) == 0 &&
	    sr_policy_project_add(p, &spec, &err) == 0 &&
	    sr_policy_project_grant(p, "onco", "onc", &always, &err) == 0 &&
	    sr_policy_project_member_add(p, "onco", "alice", &always, &err) == 0 &&
	    sr_policy_project_member_add(p, "onco", "bob", &always, &err) == 0 &&
	    sr_policy_project_member_add(p, "onco", "erin", &always, &err) == 0)
		rc = 0;
	if (rc < 0)
		diag("fixture: %s", err.msg);
	sr_policy_free(p);
	return rc;
}

static inline int
fx_setup(struct fx *x, const char *tag)
{
	char file[600];
	struct sr_error err = { { 0 } };

	memset(x, 0, sizeof(*x));
	x->dir = tap_tmpdir(tag);
	snprintf(x->state, sizeof(x->state), "%s/state", x->dir);
	snprintf(x->ws, sizeof(x->ws), "%s/ws", x->dir);
	snprintf(x->data, sizeof(x->data), "%s/data", x->dir);
	snprintf(file, sizeof(file), "%s/patients.csv", x->data);
	if (mkdir(x->state, 0700) < 0 || mkdir(x->ws, 0755) < 0 || mkdir(x->data, 0755) < 0 ||
	    fx_write(file, FX_DATASET, strlen(FX_DATASET)) < 0)
		return -1;
	x->wsfd = open(x->ws, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	x->cfg.state_dir = x->state;
	sr_export_limits_init(&x->lim);
	if (x->wsfd < 0 || sr_policy_init_db(x->state, &err) < 0 || fx_start_writer(x) < 0) {
		diag("fixture: %s", err.msg);
		return -1;
	}
	return fx_policy(x);
}

static inline void
fx_teardown(struct fx *x)
{
	if (x->writer > 0) {
		kill(x->writer, SIGTERM);
		waitpid(x->writer, NULL, 0);
	}
	if (x->wsfd >= 0)
		close(x->wsfd);
	tap_rm_rf(x->dir);
}

static inline struct sr_export_session
fx_session(struct fx *x, const char *user)
{
	struct sr_export_session who = {
		.state_dir = x->state, .user = user, .project = "onco", .source = "test",
		.workspace_fd = x->wsfd, .uid = getuid(), .limits = &x->lim,
	};

	return who;
}

/* USER submits PATH as typed ("/project/..."); returns the id or -1 (error in ERR). */
static inline int64_t
fx_submit_path(struct fx *x, const char *user, const char *path, struct sr_error *err)
{
	struct sr_export_session who = fx_session(x, user);
	struct sr_policy *p = fx_open(x, user);
	int64_t id = 0;
	int rc;

	if (p == NULL)
		return -1;
	rc = sr_export_submit(p, &who, path, "for the paper, 표 1", &id, err);
	sr_policy_free(p);
	return rc < 0 ? -1 : id;
}

/* Writes NAME in the workspace with CONTENT and submits it as USER. */
static inline int64_t
fx_submit(struct fx *x, const char *user, const char *name, const char *content)
{
	struct sr_error err = { { 0 } };
	char path[1024];
	int64_t id;

	snprintf(path, sizeof(path), "%s/%s", x->ws, name);
	unlink(path);
	if (fx_write(path, content, strlen(content)) < 0)
		return -1;
	snprintf(path, sizeof(path), "/project/%s", name);
	id = fx_submit_path(x, user, path, &err);
	if (id < 0)
		diag("submit %s as %s: %s", name, user, err.msg);
	return id;
}

/* Runs `export ARGS...` as ACTOR holding ROLES; captures both streams. */
static inline void
fx_verb(struct fx *x, const char *actor, unsigned roles, int tty, struct captured *c, int argc,
	char **argv)
{
	struct sr_verb_ctx ctx = {
		.prog = "test", .cfg = &x->cfg, .actor = actor, .roles = roles, .source = "test",
		.out_is_tty = tty,
	};

	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
	ctx.out = open_memstream(&c->out, &c->out_len);
	ctx.err = open_memstream(&c->err, &c->err_len);
	c->rc = sr_verb_export(&ctx, argc, argv);
	fclose(ctx.out);
	fclose(ctx.err);
}

struct fx_count {
	const char *needle;
	int64_t n;
};

static inline int
fx_count_row(const struct sr_audit_row *row, void *arg)
{
	struct fx_count *c = arg;

	if (c->needle == NULL || strstr(row->ev.details, c->needle) != NULL)
		c->n++;
	return 0;
}

/* Events of TYPE (or a prefix ending in '.') whose details contain NEEDLE (NULL: any). */
static inline int64_t
fx_events(struct fx *x, const char *type, const char *needle)
{
	struct sr_audit_filter f = { .type = type };
	struct fx_count c = { .needle = needle };
	struct sr_error err = { { 0 } };
	struct sr_audit_store *s = sr_audit_store_open(x->state, SR_AUDIT_READ, 0, &err);

	if (s == NULL || sr_audit_store_query(s, &f, fx_count_row, &c, &err) < 0) {
		diag("audit query: %s", err.msg);
		c.n = -1;
	}
	sr_audit_store_free(s);
	return c.n;
}

/* The request's state, "" when it cannot be read. */
static inline const char *
fx_state(struct fx *x, int64_t id)
{
	static char state[32];
	struct sr_policy *p = fx_open(x, "olga");
	struct json_object *o = p != NULL ? sr_export_show(p, id, NULL) : NULL, *v;

	state[0] = '\0';
	if (o != NULL && json_object_object_get_ex(o, "state", &v))
		snprintf(state, sizeof(state), "%s", json_object_get_string(v));
	json_object_put(o);
	sr_policy_free(p);
	return state;
}

#endif /* SAFEROOM_TEST_EXPORT_FIXTURE_H */
