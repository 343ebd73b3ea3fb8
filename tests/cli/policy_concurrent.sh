#!/bin/sh
# policy_concurrent.sh — two saferoomctl processes changing policy at the same
# moment: each either succeeds or fails cleanly with one line, the store stays
# consistent (integrity, distinct host ids), and the audit trail holds exactly
# one event per change that was made.  Run twice: with saferoomctl as its own
# audit writer (local fallback, the writer's lock passes between them) and with
# the audit writer daemon serving both.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
CONF=$(make_conf 2222)
S="$T/state"
ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
q() { "$SQLITE3" "$S/policy.db" "$@"; }
events() { "$SQLITE3" "$S/audit.db" "SELECT count(*) FROM events WHERE type = 'policy.change'"; }
on_exit 'for j in $(jobs -p); do kill -9 $j; done'

check "init" -- ctl init
[ -f "$S/policy.db" ] || bail "init did not create $S/policy.db"
mkdir -p "$T/data/d"
printf 'a\n' >"$T/data/d/x.txt"
check "dataset add" -- ctl dataset add d "$T/data/d"

# pair TAG "ARGS1" "ARGS2": runs both at once (plain words, split on blanks);
# counts successes in OKS and clean one-line failures in FAILS.
pair() {
	# shellcheck disable=SC2086
	ctl $2 >"$T/$1.a.out" 2>"$T/$1.a.err" &
	_pa=$!
	# shellcheck disable=SC2086
	ctl $3 >"$T/$1.b.out" 2>"$T/$1.b.err" &
	_pb=$!
	wait $_pa
	_ra=$?
	wait $_pb
	_rb=$?
	_tag=$1
	for _x in "a $_ra" "b $_rb"; do
		set -- $_x
		if [ "$2" -eq 0 ]; then
			OKS=$((OKS + 1))
		elif [ "$(grep -c . "$T/$_tag.$1.err")" -eq 1 ]; then
			FAILS=$((FAILS + 1))
			diag "$_tag.$1 failed cleanly: $(cat "$T/$_tag.$1.err")"
		else
			ok 1 "$_tag.$1: exit $2 without a one-line error"
			sed 's/^/#   /' "$T/$_tag.$1.err"
		fi
	done
}

# round MODE: eight pairs of different changes and one pair racing for one name.
round() {
	OKS=0 FAILS=0
	e0=$(events)
	for i in 1 2 3 4 5 6 7 8; do
		pair "$1$i" "user add $1u$i --role researcher" \
			"project add $1p$i --drb-ref D --until 2099-01-01"
	done
	pair "$1dup" "user add $1same --role researcher" "user add $1same --role steward"
	check "$1: every process succeeded or failed cleanly" -- test $((OKS + FAILS)) -eq 18
	check "$1: the race for one name had exactly one winner" -- \
		test "$(q "SELECT count(*) FROM users WHERE name = '$1same'")" = 1
	check "$1: one audit event per change made ($OKS)" -- test "$(events)" -eq $((e0 + OKS))
	check "$1: users and projects made = successes" -- test "$(q "SELECT
		(SELECT count(*) FROM users WHERE name LIKE '$1%') +
		(SELECT count(*) FROM projects WHERE name LIKE '$1%')")" -eq "$OKS"
	check "$1: integrity_check" -- test "$(q 'PRAGMA integrity_check')" = ok
	check "$1: no uid given twice" -- test "$(q 'SELECT count(DISTINCT uid) = count(*) FROM users')" = 1
	check "$1: no gid given twice" -- test "$(q 'SELECT count(DISTINCT gid) = count(*) FROM projects')" = 1
}

round local
check "local fallback: both of every different pair succeeded" -- test "$OKS" -eq 17

# The same with the audit writer daemon serving both processes.
rm -f "$T/ready"
mkfifo "$T/ready"
"$AUDIT_WRITER" -d "$S" -R 3 3>"$T/ready" 2>"$T/writer.err" &
WPID=$!
check "audit writer up" -- test "$(timeout 10 head -c 1 "$T/ready")" = R
round daemon
check "daemon: both of every different pair succeeded" -- test "$OKS" -eq 17
kill -TERM "$WPID"
wait "$WPID"
check "audit writer stopped cleanly" -- test $? -eq 0
