#!/bin/sh
# policy_badinput.sh — bad input to every policy verb: a one-line error, a
# non-zero exit, and policy.db byte-for-byte unchanged.
#
# "Byte-for-byte" is checked in its strongest honest form: every saferoomctl
# run closes its connection, which checkpoints the WAL into policy.db and
# removes policy.db-wal, so policy.db alone is the whole database between
# runs.  Before and after each bad command we compare the SHA-256 of the file
# itself, require that no -wal file is left holding unmerged changes, compare
# the logical `.dump`, and compare the number of audit events (a refused
# change must not be on the record either).
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
require_tool ssh-keygen
CONF=$(make_conf 2222)
S="$T/state"
ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }

snapshot() {
	{
		sha256sum <"$S/policy.db"
		# A WAL with frames would mean the file alone is not the database.
		if [ -s "$S/policy.db-wal" ]; then echo "policy.db-wal has frames"; fi
		"$SQLITE3" "$S/policy.db" .dump | sha256sum
		"$SQLITE3" "$S/audit.db" "SELECT count(*) FROM events"
	} >"$1"
}

# bad DESCRIPTION ARGS...: saferoomctl ARGS fails with one line and changes nothing.
bad() {
	_desc=$1
	shift
	snapshot "$T/before"
	check_fails "$_desc" -- ctl "$@"
	diag "$(head -n 1 "$T/last.err")"
	snapshot "$T/after"
	if ! cmp -s "$T/before" "$T/after"; then
		ok 1 "$_desc: policy.db unchanged"
		diff "$T/before" "$T/after" | sed 's/^/#   /'
	fi
	N_BAD=$((N_BAD + 1))
}
N_BAD=0

# ---- a small room to be wrong about -------------------------------------------------
check "init" -- ctl init
[ -f "$S/policy.db" ] || bail "init did not create $S/policy.db"
ssh-keygen -q -t ed25519 -N '' -f "$T/good"
ssh-keygen -q -t ed25519 -N '' -f "$T/good2"
ssh-keygen -q -t rsa -b 1024 -N '' -f "$T/rsa1024"
head -c 600 /dev/urandom >"$T/garbage"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBROKEN\n' >"$T/truncated.pub"
mkdir -p "$T/data/real/sub" "$T/data/other"
printf 'a,b\n1,2\n' >"$T/data/real/t.csv"
ln -s "$T/data/real" "$T/data/link"
ln -s "$T/data" "$T/datalink"
: >"$T/data/plainfile"
check "user add alice" -- ctl user add alice --role researcher --key "$T/good.pub"
check "user add bob (locked)" -- ctl user add bob --role researcher
check "lock bob" -- ctl user lock bob
check "user add carol (steward)" -- ctl user add carol --role steward
check "user add tina (TOTP on)" -- ctl user add tina --role researcher
check "enable tina's TOTP" -- ctl user totp enable tina
check "dataset add real" -- ctl dataset add real "$T/data/real"
check "dataset add other" -- ctl dataset add other "$T/data/other"
check "project add p1" -- ctl project add p1 --drb-ref DRB-1 --from 2026-01-01 --until 2099-12-31
check "grant" -- ctl project grant p1 real
check "member" -- ctl project member add p1 alice
check "no WAL left behind by a finished command" -- test ! -s "$S/policy.db-wal"

# ---- the verbs themselves ---------------------------------------------------------------
bad "user: no sub-verb" user
bad "user: unknown sub-verb" user frobnicate
bad "dataset: unknown sub-verb" dataset remove real
bad "project: unknown sub-verb" project delete p1

# ---- user add ---------------------------------------------------------------------------
bad "user add: malformed expiry" user add bob2 --role researcher --expires 2026-13-45
bad "user add: expiry not a date" user add bob2 --role researcher --expires tomorrow
bad "user add: duplicate name" user add alice --role researcher
bad "user add: bad name" user add 'Bob!' --role researcher
bad "user add: name with a plus" user add alice+p1 --role researcher
bad "user add: unknown role" user add bob2 --role admin
bad "user add: no role" user add bob2
bad "user add: unknown option" user add bob2 --role researcher --shell /bin/sh
bad "user add: garbage key file" user add bob2 --role researcher --key "$T/garbage"
bad "user add: private key file" user add bob2 --role researcher --key "$T/good"
bad "user add: 1024-bit RSA key" user add bob2 --role researcher --key "$T/rsa1024.pub"
bad "user add: truncated key" user add bob2 --role researcher --key "$T/truncated.pub"
bad "user add: missing key file" user add bob2 --role researcher --key "$T/nosuch.pub"
bad "user add: key already someone's" user add bob2 --role researcher --key "$T/good.pub"

# ---- user key -----------------------------------------------------------------------------
bad "user key add: unknown user" user key add nobody "$T/good2.pub"
bad "user key add: garbage" user key add alice "$T/garbage"
bad "user key add: private key" user key add alice "$T/good2"
bad "user key add: 1024-bit RSA" user key add alice "$T/rsa1024.pub"
bad "user key add: duplicate key" user key add alice "$T/good.pub"
bad "user key add: missing file" user key add alice "$T/nosuch.pub"
bad "user key add: a directory" user key add alice "$T/data"
bad "user key remove: unknown user" user key remove nobody SHA256:abc
bad "user key remove: unknown fingerprint" user key remove alice SHA256:notthere
bad "user key: missing argument" user key add alice

# ---- lock, unlock, set ----------------------------------------------------------------------
bad "user lock: unknown user" user lock nobody
bad "user lock: already locked" user lock bob
bad "user unlock: already active" user unlock alice
bad "user unlock: bad name" user unlock ../etc
bad "user set: unknown user" user set nobody expires 2030-01-01
bad "user set: unknown key" user set alice shell /bin/sh
bad "user set: malformed date" user set alice expires 2030-02-30
bad "user set: bad network" user set alice allow_from 10.0.0.0/33
bad "user set: not a network" user set alice allow_from intranet

# ---- TOTP -------------------------------------------------------------------------------------
bad "user totp enable: unknown user" user totp enable nobody
bad "user totp enable: already enabled" user totp enable tina
bad "user totp disable: not enabled" user totp disable alice
bad "user totp: unknown action" user totp reset tina

# ---- reads and checks change nothing either ------------------------------------------------------
bad "user show: unknown user" user show nobody
bad "user check: malformed --at" user check alice --at 2026-02-30
bad "user check: bad key file" user check alice --key "$T/garbage"
bad "user check: bad project name" user check alice --project 'P 1'
bad "user list: extra argument" user list everyone
bad "dataset show: unknown" dataset show nosuch
bad "project show: unknown" project show nosuch

# ---- dataset add / reindex -------------------------------------------------------------------------
bad "dataset add: duplicate name" dataset add real "$T/data/other"
bad "dataset add: bad name" dataset add Real "$T/data/other"
bad "dataset add: missing path" dataset add ghost "$T/data/ghost"
bad "dataset add: symlink path" dataset add linked "$T/data/link"
bad "dataset add: symlink inside the path" dataset add linked "$T/datalink/real/sub"
bad "dataset add: path under state_dir" dataset add state "$S/workspaces"
bad "dataset add: state_dir itself" dataset add state "$S"
bad "dataset add: path containing state_dir" dataset add everything "$T"
bad "dataset add: a file" dataset add file "$T/data/plainfile"
bad "dataset add: no path" dataset add lonely
bad "dataset reindex: unknown" dataset reindex nosuch

# ---- project add --------------------------------------------------------------------------------------
bad "project add: malformed --until" project add p2 --drb-ref D --until 2099-12-32
bad "project add: malformed --from" project add p2 --drb-ref D --from yesterday --until 2099-12-31
bad "project add: missing --until" project add p2 --drb-ref D
bad "project add: missing --drb-ref" project add p2 --until 2099-12-31
bad "project add: window ends before it starts" project add p2 --drb-ref D --from 2030-01-02 --until 2030-01-01
bad "project add: duplicate name" project add p1 --drb-ref D --until 2099-12-31
bad "project add: bad name" project add 'p/2' --drb-ref D --until 2099-12-31
bad "project add: empty drb-ref" project add p2 --drb-ref '' --until 2099-12-31

# ---- grants ----------------------------------------------------------------------------------------------
bad "project grant: unknown project" project grant nosuch real
bad "project grant: unknown dataset" project grant p1 nosuch
bad "project grant: duplicate" project grant p1 real
bad "project grant: malformed date" project grant p1 other --until 2030-1-1
bad "project grant: window ends before it starts" project grant p1 other --from 2030-06-01 --until 2030-05-31
bad "project revoke: not granted" project revoke p1 other
bad "project revoke: unknown dataset" project revoke p1 nosuch
bad "project revoke: unknown project" project revoke nosuch real

# ---- members -------------------------------------------------------------------------------------------------
bad "member add: unknown user" project member add p1 nobody
bad "member add: unknown project" project member add nosuch alice
bad "member add: duplicate" project member add p1 alice
bad "member add: not a researcher" project member add p1 carol
bad "member add: malformed date" project member add p1 tina --from 2026/01/01
bad "member add: window ends before it starts" project member add p1 tina --from 2030-01-01 --until 2029-12-31
bad "member remove: not a member" project member remove p1 tina
bad "member remove: unknown user" project member remove p1 nobody
bad "member: unknown action" project member kick p1 alice

# ---- project set -----------------------------------------------------------------------------------------------
bad "project set: unknown project" project set nosuch memory 1G
bad "project set: unknown key" project set p1 swap 1G
bad "project set: bad memory" project set p1 memory lots
bad "project set: negative pids" project set p1 pids -5
bad "project set: bad network" project set p1 allow_from 300.1.1.1/8
bad "project set: malformed until" project set p1 until 2099-02-30
bad "project set: until before from" project set p1 until 2025-12-31
bad "project set: from after until" project set p1 from 2100-01-01
bad "project set: missing value" project set p1 memory

check "the matrix covered $N_BAD bad commands" -- test "$N_BAD" -ge 90
check "policy.db still passes integrity_check" -- test "$("$SQLITE3" "$S/policy.db" 'PRAGMA integrity_check')" = ok
