#!/bin/sh
# audit_query.sh — `saferoomctl audit events|sessions|export|replay` on a real
# audit.db built through the store by audit-fill.  Every answer is checked
# against the db itself, read with python's sqlite3 module: JSON output must
# parse, each filter must select exactly the rows SQL says it should, replay
# must hand asciinema the recorded bytes and refuse bytes the chain does not
# vouch for, and bad arguments get one line on stderr and nothing else.
. "$SR_SRCDIR/tests/lib.sh"

require_tool python3
require_tool "${ASCIINEMA:=asciinema}"
require_tool script
FILL="$SR_BUILDDIR/tests/tools/audit-fill"
S="$T/state"
mkdir -m 0700 "$S"
CONF=$(make_conf)

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }

# sql QUERY: one value from audit.db, read independently of saferoom.
sql() {
	python3 -c 'import sqlite3,sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(db.execute(sys.argv[2]).fetchone()[0])' "$S/audit.db" "$1"
}

# json_check FILE PYTHON-EXPR: the JSON in FILE (as v) satisfies the expression.
json_check() {
	python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# Two fills a moment apart, so that --since/--until have a boundary to find.
check "fill 200 events" -- "$FILL" "$S" 200
sleep 0.05
check "fill 100 more, sessions numbered from 100" -- "$FILL" -s 100 "$S" 100
TOTAL=$(sql "SELECT count(*) FROM events")
ok $(( TOTAL != 300 )) "the trail holds 300 events"
T2=$(sql "SELECT min(time_ms) FROM events WHERE seq > 200")
T2ISO=$(python3 -c 'import datetime,sys
t = datetime.datetime.fromtimestamp(int(sys.argv[1]) / 1000, datetime.timezone.utc)
print(t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (int(sys.argv[1]) % 1000))' "$T2")

# ---- events ---------------------------------------------------------------------
ctl audit events --json >"$T/all.json" 2>"$T/err"
ok $? "events --json"
json_check "$T/all.json" '[e["seq"] for e in v] == list(range(1, 301))'
ok $? "events --json: a JSON array of all 300 events in seq order"
json_check "$T/all.json" 'all(isinstance(e["details"], dict) and len(e["hash"]) == 64 and e["time"].endswith("Z") for e in v)'
ok $? "events --json: details are objects, hashes hex, times ISO UTC"

ctl audit events >"$T/table" 2>"$T/err"
ok $? "events (table)"
ok $(( $(wc -l <"$T/table") != 301 )) "table: a header and 300 rows"
grep -q '^SEQ .*TIME .*TYPE .*USER .*PROJECT .*SESSION .*SOURCE .*DETAILS' "$T/table"
ok $? "table header names seq, time, type, user, project, session, source, details"
grep -q '^17 .*session\.end .*carol .*onco-2026 .*sess-000002 ' "$T/table"
ok $? "table row shows the event's fields"

# filter_is DESC SQL-WHERE PY-PREDICATE -- ARGS...: the filtered listing is
# exactly the rows the WHERE clause selects, and each satisfies the predicate.
filter_is() {
	_desc=$1 _where=$2 _pred=$3
	shift 4
	_want=$(sql "SELECT group_concat(seq) FROM (SELECT seq FROM events WHERE $_where ORDER BY seq)")
	ctl audit events "$@" --json >"$T/f.json" 2>"$T/err"
	json_check "$T/f.json" "','.join(str(e['seq']) for e in v) == '$_want' and len(v) > 0 and all($_pred for e in v)"
	ok $? "$_desc"
}
filter_is "--type exec" "type = 'exec'" "e['type'] == 'exec'" -- --type exec
filter_is "--type session. (prefix)" "type LIKE 'session.%'" "e['type'].startswith('session.')" -- --type session.
filter_is "--user bob" "user = 'bob'" "e['user'] == 'bob'" -- --user bob
filter_is "--project cardio-7 --type exec" "project = 'cardio-7' AND type = 'exec'" \
	"e['project'] == 'cardio-7'" -- --project cardio-7 --type exec
filter_is "--session sess-000003" "session = 'sess-000003'" "e['session'] == 'sess-000003'" \
	-- --session sess-000003
filter_is "--since (the second fill)" "seq > 200" "e['time_ms'] >= $T2" -- --since "$T2ISO"
filter_is "--until (the first fill)" "seq <= 200" "e['time_ms'] < $T2" -- --until "$T2ISO"
filter_is "--user alice --until" "user = 'alice' AND seq <= 200" "e['user'] == 'alice'" \
	-- --until "$T2ISO" --user=alice
ctl audit events --user nobody --json >"$T/f.json" 2>"$T/err"
json_check "$T/f.json" 'v == []'
ok $? "no match: an empty JSON array"

# ---- sessions --------------------------------------------------------------------
ctl audit sessions --json >"$T/s.json" 2>"$T/err"
ok $? "sessions --json"
NSESS=$(sql "SELECT count(*) FROM events WHERE type = 'session.start'")
json_check "$T/s.json" "len(v) == $NSESS and all(s['session'].startswith('sess-') for s in v)"
ok $? "sessions --json: one object per session.start ($NSESS)"
python3 - "$S/audit.db" "$T/s.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for s in json.load(open(sys.argv[2])):
    n = db.execute("SELECT count(*) FROM events WHERE session = ? AND type = 'exec'",
                   (s["session"],)).fetchone()[0]
    end = db.execute("SELECT details FROM events WHERE session = ? AND type = 'session.end'",
                     (s["session"],)).fetchone()
    assert s["exec_count"] == n, s
    if end is None:
        assert s["end"] is None and s["recording"] is None, s
    else:
        d = json.loads(end[0])
        assert s["recording"] == d["recording"] and s["recording_sha256"] == d["recording_sha256"], s
        assert s["end_ms"] >= s["start_ms"], s
PY
ok $? "sessions: exec counts, end times and recordings agree with the db"
json_check "$T/s.json" 'any(s["end"] is None for s in v)'
ok $? "sessions: a session cut off by the fill is still running"
ctl audit sessions --user erin --json >"$T/s.json" 2>"$T/err"
json_check "$T/s.json" 'len(v) > 0 and all(s["user"] == "erin" for s in v)'
ok $? "sessions --user erin"
ctl audit sessions --since "$T2ISO" --json >"$T/s.json" 2>"$T/err"
json_check "$T/s.json" 'len(v) > 0 and all(int(s["session"][5:]) >= 100 or s["end"] is None for s in v)'
ok $? "sessions --since: those running at or after that time"
ctl audit sessions >"$T/table" 2>"$T/err"
ok $(( $? != 0 || $(wc -l <"$T/table") != NSESS + 1 )) "sessions (table): a header and a row each"
grep -q '^sess-000002 .*carol .*onco-2026 .*sess-000002\.cast$' "$T/table"
ok $? "sessions table row shows user, project and recording"

# ---- export ----------------------------------------------------------------------
ctl audit export --format jsonl >"$T/x.jsonl" 2>"$T/err"
ok $? "export --format jsonl"
python3 - "$T/x.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]
assert [e["seq"] for e in evs] == list(range(1, 301))
for a, b in zip(evs, evs[1:]):
    assert b["prev_hash"] == a["hash"]
for e in evs:
    assert set(e) >= {"seq", "time", "time_ms", "type", "user", "project", "session",
                      "source", "datasets", "details", "prev_hash", "hash"}
PY
ok $? "export: one JSON object per line, every field, chained hashes"
ctl audit export --format jsonl --since "$T2ISO" >"$T/x.jsonl" 2>"$T/err"
ok $(( $? != 0 || $(wc -l <"$T/x.jsonl") != 100 )) "export --since: the 100 later events"
ctl audit export --until "$T2ISO" >"$T/x.jsonl" 2>"$T/err"
ok $(( $? != 0 || $(wc -l <"$T/x.jsonl") != 200 )) "export without --format is jsonl; --until"

# ---- replay ----------------------------------------------------------------------
ctl audit replay sess-000002 >"$T/r.cast" 2>"$T/err"
ok $? "replay sess-000002"
cmp -s "$T/r.cast" "$S/recordings/sess-000002.cast"
ok $? "replay writes the recording's bytes"
script -qec "$ASCIINEMA cat $T/r.cast" /dev/null >"$T/cat.out" 2>&1
ok $? "asciinema cat accepts the replayed recording"
grep -q 'session 2' "$T/cat.out"
ok $? "and prints what was recorded"
printf '[0.7, "o", "forged"]\n' >>"$S/recordings/sess-000005.cast"
check_fails "replay refuses a recording that does not match the chain" -- \
	ctl audit replay sess-000005
ok $(( $(wc -c <"$T/last.out") != 0 )) "and writes none of it"
grep -q 'does not match' "$T/last.err"
ok $? "saying it does not match"
RUNNING=$(sql "SELECT s.session FROM events s WHERE s.type = 'session.start' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.session = s.session AND e.type = 'session.end') LIMIT 1")
check_fails "replay of a running session: no recording yet" -- ctl audit replay "$RUNNING"
check_fails "replay of an unknown session" -- ctl audit replay sess-999999

# ---- bad arguments: one line on stderr, exit 2, nothing on stdout ---------------------
bad_args() {
	check_fails "$@"
	ok $(( _rc != 2 || $(wc -c <"$T/last.out") != 0 )) "  ... exit 2 and nothing on stdout"
}
bad_args "events --bogus" -- ctl audit events --bogus
bad_args "events --user without a value" -- ctl audit events --user
bad_args "events --since 2026-02-30 (no such date)" -- ctl audit events --since 2026-02-30
bad_args "events --since yesterday" -- ctl audit events --since yesterday
bad_args "events --until before --since" -- ctl audit events --since 2026-03-02 --until 2026-03-01
bad_args "events --user given twice" -- ctl audit events --user a --user b
bad_args "events with a stray argument" -- ctl audit events alice
bad_args "sessions --type (not a sessions filter)" -- ctl audit sessions --type exec
bad_args "export --format csv" -- ctl audit export --format csv
bad_args "export --json (jsonl is the format)" -- ctl audit export --json
bad_args "replay without a session" -- ctl audit replay
bad_args "unknown sub-verb" -- ctl audit frobnicate
bad_args "no sub-verb" -- ctl audit
