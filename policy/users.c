/*
 * users.c — researchers, stewards and auditors: their host uid, status,
 * expiry, roles, public keys, source networks and TOTP seed.
 *
 * Each function that changes a user is one change (see db.c): arguments are
 * checked before the transaction, names against the store inside it, and the
 * audit event says what changed without ever carrying a secret.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/rand.h>

#include "internal.h"

#define TOTP_SEED_LEN 20   /* 160 bits, as RFC 4226 recommends for SHA-1 */
#define TOTP_STEP 30
#define TOTP_DIGITS 6

int64_t
pol_user_id(struct sr_policy *p, const char *name, struct sr_error *err)
{
	int64_t id;

	if (sr_policy_user_name_ok(name) < 0)
		return sr_error_set(err, "bad user name \"%s\"", name ? name : "");
	id = pol_lookup(p, "SELECT id FROM users WHERE name = ?", name, err);
	if (id == 0)
		return sr_error_set(err, "unknown user \"%s\"", name);
	return id;
}

static int
step_done(struct sr_policy *p, sqlite3_stmt *st, const char *what, struct sr_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return sr_error_set(err, "%s: already exists", what);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, what);
	return 0;
}

static int
insert_key(struct sr_policy *p, int64_t user_id, const struct sr_policy_pubkey *key,
	   struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t owner;

	owner = pol_lookup(p, "SELECT user_id FROM user_keys WHERE fingerprint = ?",
			   key->fingerprint, err);
	if (owner < 0)
		return -1;
	if (owner > 0)
		return sr_error_set(err, "key %s is already registered", key->fingerprint);
	st = pol_prepare(p, "INSERT INTO user_keys (user_id, type, blob, fingerprint, comment, "
			 "added) VALUES (?, ?, ?, ?, ?, strftime('%s', 'now'))", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, key->type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, key->blob, (int)key->blob_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, key->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, key->comment, -1, SQLITE_STATIC);
	return step_done(p, st, "key", err);
}

static int
insert_roles(struct sr_policy *p, int64_t user_id, unsigned roles, struct sr_error *err)
{
	static const char *const names[] = { "researcher", "steward", "auditor" };

	for (size_t i = 0; i < 3; i++) {
		sqlite3_stmt *st;

		if (!(roles & pol_role_bit(names[i])))
			continue;
		st = pol_prepare(p, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", err);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
		if (step_done(p, st, "role", err) < 0)
			return -1;
	}
	return 0;
}

static int64_t
insert_user(struct sr_policy *p, const struct sr_policy_user_spec *spec, long uid,
	    struct sr_error *err)
{
	sqlite3_stmt *st;

	st = pol_prepare(p, "INSERT INTO users (name, uid, expires, created) "
			 "VALUES (?, ?, ?, strftime('%s', 'now'))", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spec->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, spec->expires);
	if (step_done(p, st, "user", err) < 0)
		return -1;
	return sqlite3_last_insert_rowid(p->db);
}

static struct json_object *
user_details(const char *name)
{
	struct json_object *d = json_object_new_object();

	if (d != NULL)
		json_object_object_add(d, "user", json_object_new_string(name));
	return d;
}

/* Adds the user's rows inside an open change; *uid gets the host uid. */
static int
add_rows(struct sr_policy *p, const struct sr_policy_user_spec *spec,
	 const struct sr_policy_pubkey *key, long *uid, struct sr_error *err)
{
	int64_t id;

	id = pol_lookup(p, "SELECT id FROM users WHERE name = ?", spec->name, err);
	if (id != 0)
		return id < 0 ? -1 : sr_error_set(err, "user \"%s\" already exists", spec->name);
	if (pol_alloc_id(p, "uid", p->uid_min, p->uid_max, uid, err) < 0)
		return -1;
	id = insert_user(p, spec, *uid, err);
	if (id < 0 || insert_roles(p, id, spec->roles, err) < 0)
		return -1;
	if (key->blob != NULL && insert_key(p, id, key, err) < 0)
		return -1;
	return 0;
}

int
sr_policy_user_add(struct sr_policy *p, const struct sr_policy_user_spec *spec,
		   struct sr_error *err)
{
	struct sr_policy_pubkey key = { 0 };
	struct json_object *d;
	char roles[64];
	long uid;
	int rc = -1;

	if (sr_policy_user_name_ok(spec->name) < 0)
		return sr_error_set(err, "bad user name \"%s\": use a POSIX login name "
				    "([a-z_][a-z0-9_-]*, at most 32)", spec->name ? spec->name : "");
	if (spec->roles == 0)
		return sr_error_set(err, "user %s: give a --role", spec->name);
	if (spec->key_file != NULL && sr_policy_pubkey_read(spec->key_file, &key, err) < 0)
		return -1;
	if (pol_change_begin(p, err) < 0)
		goto out;
	if (add_rows(p, spec, &key, &uid, err) < 0) {
		pol_change_abort(p);
		goto out;
	}
	d = user_details(spec->name);
	sr_policy_roles_format(spec->roles, roles, sizeof(roles));
	json_object_object_add(d, "uid", json_object_new_int64(uid));
	json_object_object_add(d, "roles", json_object_new_string(roles));
	pol_json_date(d, "expires", spec->expires, 1);
	if (key.blob != NULL)
		json_object_object_add(d, "key", json_object_new_string(key.fingerprint));
	rc = pol_change_commit(p, "user.add", NULL, d, err);
out:
	sr_policy_pubkey_clear(&key);
	return rc;
}

int
sr_policy_user_key_add(struct sr_policy *p, const char *name, const char *key_file,
		       struct sr_error *err)
{
	struct sr_policy_pubkey key;
	struct json_object *d;
	int64_t id;
	int rc = -1;

	if (sr_policy_pubkey_read(key_file, &key, err) < 0)
		return -1;
	if (pol_change_begin(p, err) < 0)
		goto out;
	id = pol_user_id(p, name, err);
	if (id < 0 || insert_key(p, id, &key, err) < 0) {
		pol_change_abort(p);
		goto out;
	}
	d = user_details(name);
	json_object_object_add(d, "key", json_object_new_string(key.fingerprint));
	json_object_object_add(d, "type", json_object_new_string(key.type));
	rc = pol_change_commit(p, "user.key.add", NULL, d, err);
out:
	sr_policy_pubkey_clear(&key);
	return rc;
}

/* Runs ST (already bound) inside the open change; it must change exactly one row. */
static int
change_one(struct sr_policy *p, sqlite3_stmt *st, const char *what, struct sr_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, what);
	if (sqlite3_changes(p->db) != 1)
		return sr_error_set(err, "%s", what);
	return 0;
}

int
sr_policy_user_key_remove(struct sr_policy *p, const char *name, const char *fingerprint,
			  struct sr_error *err)
{
	struct json_object *d;
	sqlite3_stmt *st;
	int64_t id;
	char what[160];

	if (pol_change_begin(p, err) < 0)
		return -1;
	id = pol_user_id(p, name, err);
	if (id < 0)
		goto out_abort;
	st = pol_prepare(p, "DELETE FROM user_keys WHERE user_id = ? AND fingerprint = ?", err);
	if (st == NULL)
		goto out_abort;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
	snprintf(what, sizeof(what), "user %s has no key %s", name, fingerprint);
	if (change_one(p, st, what, err) < 0)
		goto out_abort;
	d = user_details(name);
	json_object_object_add(d, "key", json_object_new_string(fingerprint));
	return pol_change_commit(p, "user.key.remove", NULL, d, err);
out_abort:
	pol_change_abort(p);
	return -1;
}

int
sr_policy_user_lock(struct sr_policy *p, const char *name, int locked, struct sr_error *err)
{
	const char *status = locked ? "locked" : "active";
	struct json_object *d;
	sqlite3_stmt *st;
	int64_t id;
	char what[96];

	if (pol_change_begin(p, err) < 0)
		return -1;
	id = pol_user_id(p, name, err);
	if (id < 0)
		goto out_abort;
	st = pol_prepare(p, "UPDATE users SET status = ?1 WHERE id = ?2 AND status != ?1", err);
	if (st == NULL)
		goto out_abort;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	snprintf(what, sizeof(what), "user %s is already %s", name, status);
	if (change_one(p, st, what, err) < 0)
		goto out_abort;
	d = user_details(name);
	json_object_object_add(d, "status", json_object_new_string(status));
	return pol_change_commit(p, locked ? "user.lock" : "user.unlock", NULL, d, err);
out_abort:
	pol_change_abort(p);
	return -1;
}

/* Binds the new value of a `user set` KEY to parameter 1 of ST. */
static int
bind_setting(sqlite3_stmt *st, const char *key, const char *value, struct json_object *d,
	     struct sr_error *err)
{
	if (strcmp(key, "expires") == 0) {
		int64_t t = 0;

		if (strcmp(value, "never") != 0 && sr_policy_parse_date(value, 1, &t, err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, t);
		pol_json_date(d, "expires", t, 1);
		return 0;
	}
	char *norm;

	if (pol_cidr_list_parse(value, &norm, err) < 0)
		return -1;
	if (norm != NULL)
		sqlite3_bind_text(st, 1, norm, -1, free);
	pol_json_str(d, "allow_from", norm);
	return 0;
}

int
sr_policy_user_set(struct sr_policy *p, const char *name, const char *key, const char *value,
		   struct sr_error *err)
{
	struct json_object *d;
	sqlite3_stmt *st;
	const char *sql;
	int64_t id;

	if (strcmp(key, "expires") == 0)
		sql = "UPDATE users SET expires = ? WHERE id = ?";
	else if (strcmp(key, "allow_from") == 0)
		sql = "UPDATE users SET allow_from = ? WHERE id = ?";
	else
		return sr_error_set(err, "unknown user setting \"%s\": use expires or allow_from",
				    key);
	if (pol_change_begin(p, err) < 0)
		return -1;
	id = pol_user_id(p, name, err);
	if (id < 0 || (st = pol_prepare(p, sql, err)) == NULL)
		goto out_abort;
	d = user_details(name);
	if (bind_setting(st, key, value, d, err) < 0) {
		sqlite3_finalize(st);
		json_object_put(d);
		goto out_abort;
	}
	sqlite3_bind_int64(st, 2, id);
	if (change_one(p, st, "user set", err) < 0) {
		json_object_put(d);
		goto out_abort;
	}
	return pol_change_commit(p, "user.set", NULL, d, err);
out_abort:
	pol_change_abort(p);
	return -1;
}

/* ---- TOTP ---------------------------------------------------------------- */

void
sr_policy_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static char *
totp_uri(const char *name, const unsigned char seed[TOTP_SEED_LEN], struct sr_error *err)
{
	char *b32 = NULL, *uri = NULL;
	size_t b32len = 0;

	if (oath_base32_encode((const char *)seed, TOTP_SEED_LEN, &b32, &b32len) != OATH_OK) {
		sr_error_set(err, "base32 encoding failed");
		return NULL;
	}
	if (asprintf(&uri, "otpauth://totp/saferoom:%s?secret=%s&issuer=saferoom&"
		     "algorithm=SHA1&digits=%d&period=%d", name, b32, TOTP_DIGITS, TOTP_STEP) < 0) {
		uri = NULL;
		sr_error_set(err, "out of memory");
	}
	sr_policy_secret_free(b32);
	return uri;
}

static int
store_seed(struct sr_policy *p, int64_t id, const unsigned char *seed, size_t len,
	   const char *what, struct sr_error *err)
{
	sqlite3_stmt *st;

	st = pol_prepare(p, seed != NULL ?
			 "UPDATE users SET totp_secret = ?1 WHERE id = ?2 AND totp_secret IS NULL" :
			 "UPDATE users SET totp_secret = NULL WHERE id = ?2 AND "
			 "totp_secret IS NOT NULL", err);
	if (st == NULL)
		return -1;
	if (seed != NULL)
		sqlite3_bind_blob(st, 1, seed, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	return change_one(p, st, what, err);
}

int
sr_policy_user_totp_enable(struct sr_policy *p, const char *name, char **uri,
			   struct sr_error *err)
{
	unsigned char seed[TOTP_SEED_LEN];
	char what[96];
	int64_t id;
	int rc = -1;

	*uri = NULL;
	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return sr_error_set(err, "no randomness for a TOTP seed");
	if (pol_change_begin(p, err) < 0)
		goto out;
	snprintf(what, sizeof(what), "user %s already has TOTP: disable it first", name);
	id = pol_user_id(p, name, err);
	if (id < 0 || store_seed(p, id, seed, sizeof(seed), what, err) < 0 ||
	    (*uri = totp_uri(name, seed, err)) == NULL) {
		pol_change_abort(p);
		goto out;
	}
	rc = pol_change_commit(p, "user.totp.enable", NULL, user_details(name), err);
	if (rc < 0) {
		sr_policy_secret_free(*uri);
		*uri = NULL;
	}
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

int
sr_policy_user_totp_disable(struct sr_policy *p, const char *name, struct sr_error *err)
{
	char what[96];
	int64_t id;

	if (pol_change_begin(p, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "user %s has no TOTP", name);
	id = pol_user_id(p, name, err);
	if (id < 0 || store_seed(p, id, NULL, 0, what, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	return pol_change_commit(p, "user.totp.disable", NULL, user_details(name), err);
}

static int
totp_code_ok(const char *code)
{
	return code != NULL && strlen(code) == TOTP_DIGITS &&
	       strspn(code, "0123456789") == TOTP_DIGITS;
}

int
sr_policy_totp_verify(struct sr_policy *p, const char *name, const char *code, int64_t now,
		      struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc, valid = 0;

	st = pol_prepare(p, "SELECT totp_secret FROM users WHERE name = ? AND "
			 "totp_secret IS NOT NULL", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && totp_code_ok(code) && oath_init() == OATH_OK) {
		/* One step either side forgives a little clock skew. */
		valid = oath_totp_validate(sqlite3_column_blob(st, 0),
					   (size_t)sqlite3_column_bytes(st, 0), (time_t)now,
					   TOTP_STEP, 0, 1, code) >= 0;
		oath_done();
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		valid = pol_sql_error(p, err, "totp");
	}
	/* SQLite's copy of the seed is freed here; its pages are the db's. */
	sqlite3_finalize(st);
	return valid;
}

/* The step the code matched, or -1 when it matches none near NOW. */
static int64_t
totp_step(const void *seed, size_t seed_len, const char *code, int64_t now)
{
	int pos = 0, rc;

	if (!totp_code_ok(code) || oath_init() != OATH_OK)
		return -1;
	/* One step either side forgives a little clock skew. */
	rc = oath_totp_validate2(seed, seed_len, (time_t)now, TOTP_STEP, 0, 1, &pos, code);
	oath_done();
	return rc < 0 ? -1 : now / TOTP_STEP + pos;
}

static int
totp_record(struct sr_policy *p, int64_t user_id, int64_t step, struct sr_error *err)
{
	sqlite3_stmt *st;

	st = pol_prepare(p, "UPDATE users SET totp_last_step = ?1 WHERE id = ?2", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_int64(st, 2, user_id);
	return step_done(p, st, "totp", err);
}

/* Inside the transaction: 1 accepted and recorded, 0 refused, -1 error. */
static int
totp_once(struct sr_policy *p, const char *name, const char *code, int64_t now, int *replayed,
	  struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t step = -1, last = 0, id = 0;
	int rc;

	st = pol_prepare(p, "SELECT id, totp_secret, totp_last_step FROM users WHERE name = ? "
			 "AND totp_secret IS NOT NULL", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		step = totp_step(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
				 code, now);
		last = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pol_sql_error(p, err, "totp");
	if (step < 0)
		return 0;
	if (step <= last) {
		*replayed = 1;
		return 0;
	}
	return totp_record(p, id, step, err) < 0 ? -1 : 1;
}

int
sr_policy_totp_verify_once(struct sr_policy *p, const char *name, const char *code,
			   int64_t now, int *replayed, struct sr_error *err)
{
	int rc, dummy = 0;

	if (replayed == NULL)
		replayed = &dummy;
	*replayed = 0;
	/* IMMEDIATE: two logins racing with one code cannot both read the old step. */
	if (pol_exec(p, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	rc = totp_once(p, name, code, now, replayed, err);
	if (rc < 0 || pol_exec(p, "COMMIT", err) < 0) {
		pol_exec(p, "ROLLBACK", NULL);
		return -1;
	}
	return rc;
}

int
sr_policy_user_roles(struct sr_policy *p, const char *name, unsigned *roles,
		     struct sr_error *err)
{
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	id = pol_user_id(p, name, err);
	if (id < 0)
		return -1;
	st = pol_prepare(p, "SELECT role FROM user_roles WHERE user_id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	*roles = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*roles |= pol_role_bit((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "roles");
	return 0;
}
