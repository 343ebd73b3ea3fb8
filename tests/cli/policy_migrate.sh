#!/bin/sh
# policy_migrate.sh — forward migration of policy.db: a schema-version-1 store,
# written here by hand as the first release laid it out, is opened by the
# current saferoomctl, which migrates it to the current version in place and
# keeps every user, key, project, dataset, grant and membership.  Version 1
# handed out max(uid)+1, so a deleted top uid came back; after migration ids
# continue above everything ever seen.  A newer schema than ours is refused,
# and init on an existing store changes nothing.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
require_tool python3
CONF=$(make_conf 2222)
S="$T/state"
ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
q() { "$SQLITE3" "$S/policy.db" "$@"; }

check "init" -- ctl init
[ -f "$S/policy.db" ] || bail "init did not create $S/policy.db"
snap1=$(sha256sum <"$S/policy.db")
check "init again" -- ctl init
check "init on an existing store leaves it byte-for-byte alone" -- \
	test "$(sha256sum <"$S/policy.db")" = "$snap1"
check "a fresh store is at version 4" -- test "$(q 'PRAGMA user_version')" = 4

# ---- a version-1 store, by hand ---------------------------------------------------------
rm -f "$S/policy.db" "$S/policy.db-wal" "$S/policy.db-shm"
mkdir -p "$T/data/registry"
printf 'id,dx\n1,C34\n' >"$T/data/registry/dx.csv"
(umask 077 && "$SQLITE3" "$S/policy.db" >/dev/null) <<SQL
PRAGMA journal_mode = WAL;
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  uid INTEGER NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked')),
  expires INTEGER NOT NULL DEFAULT 0, totp_secret BLOB, allow_from TEXT,
  created INTEGER NOT NULL);
CREATE TABLE user_roles (user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('researcher', 'steward', 'auditor')),
  PRIMARY KEY (user_id, role)) WITHOUT ROWID;
CREATE TABLE user_keys (id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, type TEXT NOT NULL,
  blob BLOB NOT NULL, fingerprint TEXT NOT NULL UNIQUE, comment TEXT, added INTEGER NOT NULL);
CREATE INDEX user_keys_user ON user_keys(user_id);
CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, path TEXT NOT NULL,
  description TEXT, created INTEGER NOT NULL);
CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  gid INTEGER NOT NULL UNIQUE, drb_ref TEXT NOT NULL, valid_from INTEGER NOT NULL DEFAULT 0,
  valid_until INTEGER NOT NULL, allow_from TEXT, created INTEGER NOT NULL);
CREATE TABLE grants (project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  valid_from INTEGER NOT NULL DEFAULT 0, valid_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, dataset_id)) WITHOUT ROWID;
CREATE TABLE members (project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  valid_from INTEGER NOT NULL DEFAULT 0, valid_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, user_id)) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id);
INSERT INTO users VALUES (1, 'alice', 60007, 'active', 0, NULL, NULL, 1700000000);
INSERT INTO users VALUES (2, 'carol', 60003, 'locked', 4102444800, NULL, '10.0.0.0/8', 1700000000);
INSERT INTO user_roles VALUES (1, 'researcher'), (2, 'steward'), (2, 'auditor');
INSERT INTO user_keys VALUES (1, 1, 'ssh-ed25519', x'00', 'SHA256:v1key', 'alice@old', 1700000000);
INSERT INTO datasets VALUES (1, 'registry', '$T/data/registry', 'v1 data', 1700000000);
INSERT INTO projects VALUES (1, 'legacy', 60011, 'DRB-2023-9', 1672531200, 4102444800, NULL, 1700000000);
INSERT INTO grants VALUES (1, 1, 0, 0);
INSERT INTO members VALUES (1, 1, 0, 4070908800);
PRAGMA user_version = 1;
SQL
check "the hand-made store is version 1" -- test "$(q 'PRAGMA user_version')" = 1
check "saferoomctl opens it" -- ctl user list --json
cp "$T/last.out" "$T/users.json"
check "... and migrated it to version 4" -- test "$(q 'PRAGMA user_version')" = 4
check "users kept, with uids, status, expiry, roles, networks" -- python3 - "$T/users.json" <<'PY'
import json, sys
u = {x['name']: x for x in json.load(open(sys.argv[1]))}
a, c = u['alice'], u['carol']
assert a['uid'] == 60007 and a['status'] == 'active' and a['roles'] == ['researcher'] and a['keys'] == 1
assert c['uid'] == 60003 and c['status'] == 'locked' and c['roles'] == ['steward', 'auditor']
assert c['expires'] == '2099-12-31' and c['allow_from'] == '10.0.0.0/8'
PY
check "project, grant and membership kept" -- ctl project show legacy --json
cp "$T/last.out" "$T/legacy.json"
check "... with their windows" -- python3 - "$T/legacy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p['gid'] == 60011 and p['drb_ref'] == 'DRB-2023-9'
assert p['valid_from'] == '2023-01-01' and p['valid_until'] == '2099-12-31'
assert p['members'] == [{'user': 'alice', 'valid_from': None, 'valid_until': '2098-12-31'}]
assert [d['dataset'] for d in p['datasets']] == ['registry']
PY
check "the migrated store decides logins" -- ctl user check alice --project legacy
check "the new tables exist" -- test "$(q "SELECT count(*) FROM sqlite_master WHERE name IN ('host_ids','project_limits','dataset_rows')")" = 3
check "the export review tables exist" -- test "$(q "SELECT count(*) FROM sqlite_master WHERE name IN ('export_requests','export_checks','export_reviews')")" = 3
check "new columns on datasets, with defaults" -- test "$(q "SELECT row_count, file_count, indexed FROM datasets")" = "0|0|0"
check "users have totp_last_step, 0 after migration" -- test "$(q "SELECT DISTINCT totp_last_step FROM users")" = 0
check "a v1 dataset can be indexed after migration" -- ctl dataset reindex registry
check "... and its rows are" -- test "$(q "SELECT row_count FROM datasets WHERE name = 'registry'")" = 1
check "new limits work on old projects" -- ctl project set legacy memory 1G

# ids continue above all ever handed out, even when the top one goes away
q "PRAGMA foreign_keys = ON; DELETE FROM users WHERE name = 'alice'"
check "user add after migration" -- ctl user add newbie --role researcher
check "the new uid is above the deleted top uid (60007)" -- \
	test "$(q "SELECT uid FROM users WHERE name = 'newbie'")" = 60008
check "project add after migration" -- ctl project add fresh --drb-ref D --until 2099-01-01
check "the new gid continues above v1's" -- test "$(q "SELECT gid FROM projects WHERE name = 'fresh'")" = 60012
check "policy.db is still 0600" -- test "$(stat -c %a "$S/policy.db")" = 600

# ---- a store from the future ------------------------------------------------------------------
q "PRAGMA user_version = 99"
snap=$(sha256sum <"$S/policy.db")
check_fails "a newer schema is refused" -- ctl user list
cp "$T/last.err" "$T/future.err"
check "... naming the versions" -- grep -q 'schema version 99, newer than' "$T/future.err"
check "... and left alone" -- test "$(sha256sum <"$S/policy.db")" = "$snap"
