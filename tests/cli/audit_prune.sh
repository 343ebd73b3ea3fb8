#!/bin/sh
# audit_prune.sh — `saferoomctl audit prune` on a real trail with old events.
#
# audit-fill writes the events through the real store; faketime(1) moves the
# clock back so that some of them are 800 and 400 days old, as in a trail
# that has run for years.  Checked against the db itself (python's sqlite3):
# prune removes every event older than audit_retention_days and nothing
# younger, takes the recordings of pruned sessions with it, is itself an
# audit.prune event, goes through a running audit writer when there is one,
# and leaves a trail that verify proves intact and in which tampering still
# shows.
. "$SR_SRCDIR/tests/lib.sh"

require_tool faketime
require_tool python3
require_tool "${SQLITE3:=sqlite3}"
FILL="$SR_BUILDDIR/tests/tools/audit-fill"
S="$T/state"
CONF=$(make_conf)

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
q() { "$SQLITE3" "$S/audit.db" "$@"; }
DAY=86400000

# faketime itself must work here, or every age below is a lie.
[ "$(ASAN_OPTIONS=verify_asan_link_order=0 faketime -f '-800d' date -u +%Y)" -lt "$(date -u +%Y)" ]
ok $? "faketime moves the clock back"

# fresh: 100 events 800 days old (sealed, recordings compressed), 50 events
# 400 days old, 30 of today; retention 730 days.
fresh() {
	rm -rf "$S"
	mkdir -m 0700 "$S"
	ASAN_OPTIONS=verify_asan_link_order=0 faketime -f '-800d' "$FILL" -S -b 25 -z -r 730 "$S" 100 >/dev/null &&
		ASAN_OPTIONS=verify_asan_link_order=0 faketime -f '-400d' "$FILL" -s 100 "$S" 50 >/dev/null &&
		"$FILL" -s 200 "$S" 30 >/dev/null || bail "audit-fill failed"
}

# Everything the trail holds, seq and time, before the prune.
snapshot() { q "SELECT seq || ' ' || time_ms FROM events ORDER BY seq" >"$1"; }

fresh
snapshot "$T/before"
NOW_MS=$(python3 -c 'import time; print(int(time.time()) * 1000)')
CUT=$((NOW_MS - 730 * DAY))
OLD=$(awk -v c="$CUT" '$2 < c' "$T/before" | wc -l)
ok $(( OLD != 100 )) "100 events are older than 730 days ($OLD)"
ctl audit verify >/dev/null 2>&1
ok $? "the filled trail verifies"

# ---- dry run ----------------------------------------------------------------------------
ctl audit prune --dry-run >"$T/out" 2>"$T/err"
ok $? "prune --dry-run"
grep -q '^audit prune: would remove 100 events older than .* (retention 730 days) .* would start at seq 101$' "$T/out"
ok $? "says it would remove the 100 old events and start at seq 101"
[ "$(q 'SELECT count(*) FROM events')" -eq 180 ]
ok $? "and removed nothing"

# ---- prune ---------------------------------------------------------------------------------
GONE_RECS=$(q "SELECT json_extract(details, '\$.recording') FROM events WHERE type = 'session.end' AND seq <= 100")
KEPT_RECS=$(q "SELECT json_extract(details, '\$.recording') FROM events WHERE type = 'session.end' AND seq > 100")
ctl audit prune >"$T/out" 2>"$T/err"
ok $? "prune"
grep -q '^audit prune: removed 100 events older than .* the trail now starts at seq 101 (recorded as audit.prune, seq 181)$' "$T/out"
ok $? "says what it removed and where the trail starts"
[ -z "$(q "SELECT seq FROM events WHERE time_ms < $CUT AND type <> 'audit.prune'")" ]
ok $? "no event older than the retention period is left"
snapshot "$T/after"
awk -v c="$CUT" '$2 >= c' "$T/before" >"$T/young"
grep -vxFf "$T/after" "$T/young" >"$T/lost"
[ ! -s "$T/lost" ]
ok $? "every event younger than the retention period is still there"
[ "$(q 'SELECT min(seq) FROM events')" -eq 101 ]
ok $? "the trail starts at seq 101"
# saferoomctl names the admin behind sudo, else the uid's own name.
ACTOR=$(id -un)
[ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && ACTOR=$SUDO_USER
q "SELECT user, source, json_extract(details, '\$.deleted'), json_extract(details, '\$.first_seq') FROM events WHERE type = 'audit.prune'" >"$T/ev"
grep -qx "$ACTOR|local|100|101" "$T/ev"
ok $? "the audit.prune event names who, from where, how many and the new start"
missing=0
for r in $GONE_RECS; do
	[ -e "$S/recordings/$r" ] || [ -e "$S/recordings/$r.gz" ] && missing=$((missing + 1))
done
ok $missing "the recordings of pruned sessions are gone"
left=0
for r in $KEPT_RECS; do
	[ -e "$S/recordings/$r" ] || [ -e "$S/recordings/$r.gz" ] || left=$((left + 1))
done
ok $left "the recordings of kept sessions are still there"

ctl audit verify >"$T/out" 2>"$T/err"
ok $? "verify after the prune"
grep -q '^audit trail intact: 81 events, head seq 181 (events before seq 101 pruned)$' "$T/out"
ok $? "intact from seq 101, the pruned seals notwithstanding"
ctl audit verify --json >"$T/v.json" 2>"$T/err"
python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["intact"] and v["first_seq"] == 101 and v["head_seq"] == 181 else 1)' "$T/v.json"
ok $? "verify --json names first_seq 101"

ctl audit prune --json >"$T/p.json" 2>"$T/err"
python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["deleted"] == 0 and v["first_seq"] == 101 and v["event_seq"] == 182 else 1)' "$T/p.json"
ok $? "a second prune removes nothing and says so (--json)"
ctl audit verify >/dev/null 2>&1
ok $? "still verifies"

# ---- the retention period decides, whoever asks ------------------------------------------------
echo "audit_retention_days 365" >>"$CONF"
ctl audit prune --json >"$T/p.json" 2>"$T/err"
python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["deleted"] == 0 and v["retention_days"] == 730 else 1)' "$T/p.json"
ok $? "a config asking for 365 days removes nothing: the writer recorded 730"
"$FILL" -r 365 "$S" 0 >/dev/null
ctl audit prune >"$T/out" 2>"$T/err"
grep -q 'removed 50 events .*(retention 365 days)' "$T/out"
ok $? "once the writer runs with 365 days, the 400-day-old events go"
ctl audit verify >/dev/null 2>&1
ok $? "and the trail verifies"

# A young event cannot be pruned by anyone: the trigger stands behind the code.
q "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)" 2>/dev/null
ok $(( $? == 0 )) "sqlite3 cannot delete a young event either"

# ---- through a running writer ---------------------------------------------------------------------
fresh
"$AUDIT_WRITER" -d "$S" -s 3600 -r 730 2>"$T/writer.err" &
WPID=$!
on_exit "kill $WPID"
i=0
while [ ! -S "$S/audit.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ctl audit prune >"$T/out" 2>"$T/err"
ok $? "prune through the running writer"
grep -q 'removed 100 events' "$T/out"
ok $? "removed the 100 old events"
kill -0 $WPID
ok $? "the writer still runs"
ctl audit verify >/dev/null 2>&1
ok $? "the trail verifies while the writer runs"
"$FILL" "$S" 1 >/dev/null 2>&1
ok $(( $? == 0 )) "nobody else became a writer meanwhile (audit.lock held)"
kill $WPID
wait $WPID
ok $? "the writer stops cleanly"
ctl audit verify >"$T/out" 2>&1
grep -q 'intact: .* (events before seq 101 pruned)$' "$T/out"
ok $? "verify after its shutdown seal"

# ---- tampering still shows after a prune ---------------------------------------------------------------
fresh
ctl audit prune >/dev/null 2>&1 || bail "prune failed"
q "DROP TRIGGER events_append_only; UPDATE events SET user = 'mallory' WHERE seq = 120"
ctl audit verify >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q '^audit trail TAMPERED at seq 120: .*modified' "$T/out"
ok $? "a modified kept row is caught"

fresh
ctl audit prune >/dev/null 2>&1 || bail "prune failed"
q "DROP TRIGGER events_retention; DELETE FROM events WHERE seq = 101"
ctl audit verify >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q '^audit trail TAMPERED at seq 101: seq 101 is missing' "$T/out"
ok $? "deleting the first kept row is caught"

fresh
ctl audit prune >/dev/null 2>&1 || bail "prune failed"
q "DROP TRIGGER events_retention; DELETE FROM events WHERE seq < 130;
   UPDATE prune_anchor SET seq = 130, prev_hash = (SELECT prev_hash FROM events WHERE seq = 130)"
ctl audit verify >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q '^audit trail TAMPERED at seq 130: .*audit.prune' "$T/out"
ok $? "deleting more and moving the anchor along is caught"

fresh
ctl audit prune >/dev/null 2>&1 || bail "prune failed"
q "DROP TRIGGER events_retention; DELETE FROM events WHERE type = 'audit.prune'"
ctl audit verify >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q 'TAMPERED' "$T/out"
ok $? "deleting the audit.prune event is caught"

# ---- bad arguments ---------------------------------------------------------------------------------------
check_fails "prune with a stray argument" -- ctl audit prune 30
check_fails "prune --days (retention comes from saferoom.conf)" -- ctl audit prune --days 1
rm -rf "$S"
check_fails "prune without a trail" -- ctl audit prune
