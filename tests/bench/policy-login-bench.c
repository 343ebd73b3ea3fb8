/*
 * policy-login-bench.c — login decision latency on a policy.db of hospital
 * size: 10,000 users, 1,000 projects, 100 datasets granted to each project.
 *
 *   policy-login-bench STATE_DIR [ROUNDS]
 *
 * The store is filled directly with SQL in one transaction (going through the
 * audited verbs would measure the audit trail, not the decision), then
 * sr_policy_login_check() is timed for random members of random projects, as
 * the broker calls it: with a key fingerprint, a source address and the
 * project named, and again with no project named (the broker's usual case).
 * Prints median and p99 in microseconds.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "saferoom/policy.h"

#define USERS 10000
#define PROJECTS 1000
#define DATASETS_PER_PROJECT 100
#define NOW INT64_C(1780000000)

static int
fill(sqlite3 *db)
{
	sqlite3_stmt *u, *r, *k, *p, *d, *g, *m;
	int rc = 0;

	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO users (id, name, uid, created) VALUES (?1, "
			   "printf('user%05d', ?1), 60000 + ?1, 0)", -1, &u, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO user_roles VALUES (?1, 'researcher')", -1, &r, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO user_keys (user_id, type, blob, fingerprint, added) "
			   "VALUES (?1, 'ssh-ed25519', randomblob(51), printf('SHA256:key%05d', ?1), "
			   "0)", -1, &k, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO projects (id, name, gid, drb_ref, valid_from, "
			   "valid_until, created) VALUES (?1, printf('proj%04d', ?1), 60000 + ?1, "
			   "'DRB', ?2, ?3, 0)", -1, &p, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO datasets (id, name, path, created) VALUES (?1, "
			   "printf('ds%06d', ?1), printf('/srv/data/ds%06d', ?1), 0)", -1, &d, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO grants VALUES (?1, ?2, ?3, ?4)", -1, &g, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO members VALUES (?1, ?2, 0, 0)", -1, &m, NULL);
	for (int i = 1; i <= USERS && rc == 0; i++) {
		sqlite3_bind_int(u, 1, i);
		sqlite3_bind_int(r, 1, i);
		sqlite3_bind_int(k, 1, i);
		rc |= sqlite3_step(u) != SQLITE_DONE || sqlite3_step(r) != SQLITE_DONE ||
		      sqlite3_step(k) != SQLITE_DONE;
		sqlite3_reset(u);
		sqlite3_reset(r);
		sqlite3_reset(k);
	}
	for (int j = 1; j <= PROJECTS && rc == 0; j++) {
		sqlite3_bind_int(p, 1, j);
		sqlite3_bind_int64(p, 2, NOW - 86400 * (j % 300));
		sqlite3_bind_int64(p, 3, NOW + 86400 * (1 + j % 300));
		rc |= sqlite3_step(p) != SQLITE_DONE;
		sqlite3_reset(p);
		for (int x = 0; x < DATASETS_PER_PROJECT && rc == 0; x++) {
			int ds = (j - 1) * DATASETS_PER_PROJECT + x + 1;

			sqlite3_bind_int(d, 1, ds);
			sqlite3_bind_int(g, 1, j);
			sqlite3_bind_int(g, 2, ds);
			/* most grants are windowed, and the first ones are already over */
			sqlite3_bind_int64(g, 3, x % 2 ? NOW - 86400 : 0);
			sqlite3_bind_int64(g, 4, x < 50 ? NOW - 1 : NOW + 86400);
			rc |= sqlite3_step(d) != SQLITE_DONE || sqlite3_step(g) != SQLITE_DONE;
			sqlite3_reset(d);
			sqlite3_reset(g);
		}
	}
	/* Ten members per project; every tenth user is in a second project too. */
	for (int i = 1; i <= USERS && rc == 0; i++) {
		sqlite3_bind_int(m, 1, (i - 1) % PROJECTS + 1);
		sqlite3_bind_int(m, 2, i);
		rc |= sqlite3_step(m) != SQLITE_DONE;
		sqlite3_reset(m);
		if (i % 10 != 0)
			continue;
		sqlite3_bind_int(m, 1, (i + 500) % PROJECTS + 1);
		sqlite3_bind_int(m, 2, i);
		rc |= sqlite3_step(m) != SQLITE_DONE;
		sqlite3_reset(m);
	}
	sqlite3_finalize(u);
	sqlite3_finalize(r);
	sqlite3_finalize(k);
	sqlite3_finalize(p);
	sqlite3_finalize(d);
	sqlite3_finalize(g);
	sqlite3_finalize(m);
	if (rc != 0) {
		fprintf(stderr, "fill: %s\n", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Times ROUNDS decisions; named picks the project explicitly. */
static int
measure(struct sr_policy *p, int rounds, int named, double *lat, int *allowed)
{
	char user[32], fp[32], project[32];
	struct sr_policy_decision d;
	struct sr_error err = { { 0 } };

	*allowed = 0;
	for (int n = 0; n < rounds; n++) {
		int i = (int)(random() % USERS) + 1;
		struct sr_policy_login req = {
			.user = user, .key_fingerprint = fp, .source = "10.20.30.40", .now = NOW,
			.project = named ? project : NULL,
		};
		double t;

		snprintf(user, sizeof(user), "user%05d", i);
		snprintf(fp, sizeof(fp), "SHA256:key%05d", i);
		snprintf(project, sizeof(project), "proj%04d", (i - 1) % PROJECTS + 1);
		t = now_us();
		if (sr_policy_login_check(p, &req, &d, &err) < 0) {
			fprintf(stderr, "decision: %s\n", sr_error_msg(&err));
			return -1;
		}
		lat[n] = now_us() - t;
		*allowed += d.reason == SR_POLICY_ALLOW;
	}
	qsort(lat, (size_t)rounds, sizeof(lat[0]), cmp_double);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *const allow[] = { "10.0.0.0/8", "192.168.0.0/16" };
	struct sr_error err = { { 0 } };
	int rounds = argc > 2 ? atoi(argv[2]) : 20000, allowed;
	struct sr_policy *p;
	char path[4096];
	sqlite3 *db;
	double *lat;

	if (argc < 2 || rounds < 100) {
		fprintf(stderr, "usage: policy-login-bench STATE_DIR [ROUNDS>=100]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%s", argv[1], SR_POLICY_DB);
	if (sr_policy_init_db(argv[1], &err) < 0 || sqlite3_open(path, &db) != SQLITE_OK ||
	    fill(db) < 0) {
		fprintf(stderr, "policy-login-bench: %s\n", sr_error_msg(&err));
		return 1;
	}
	sqlite3_close(db);
	p = sr_policy_open(argv[1], NULL, &err);
	lat = calloc((size_t)rounds, sizeof(*lat));
	if (p == NULL || lat == NULL || sr_policy_set_global_allow(p, allow, 2, &err) < 0)
		return 1;
	srandom(42);
	printf("policy.db: %d users, %d projects, %d datasets per project\n", USERS, PROJECTS,
	       DATASETS_PER_PROJECT);
	for (int named = 1; named >= 0; named--) {
		if (measure(p, rounds, named, lat, &allowed) < 0)
			return 1;
		printf("login decision, project %-8s %d rounds (%d allowed): median %.1f us, "
		       "p99 %.1f us\n", named ? "named:" : "implied:", rounds, allowed,
		       lat[rounds / 2], lat[rounds * 99 / 100]);
	}
	free(lat);
	sr_policy_free(p);
	return 0;
}
