#!/bin/sh
# audit_verify.sh — `saferoomctl audit verify` against real tampering.
#
# Each case builds a fresh audit.db through the store (audit-fill), then
# changes it the way an attacker with the file would, with the sqlite3 tool:
# drop the triggers that stand in the way, then modify, delete, insert or
# reorder rows, cut the tail, or rewrite the whole chain with correct hashes.
# verify must exit 1 and name the first bad seq; only the last attack needs a
# seal kept outside the db to be caught.  The untouched db must verify.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
require_tool python3
FILL="$SR_BUILDDIR/tests/tools/audit-fill"
S="$T/state"
CONF=$(make_conf)

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
q() { "$SQLITE3" "$S/audit.db" "$@"; }

# A new trail of 100 events.
fresh() {
	rm -rf "$S"
	mkdir -m 0700 "$S"
	"$FILL" "$S" 100 >/dev/null || bail "audit-fill failed"
}

# intact DESC [ARGS]: verify exits 0 and says so.
intact() {
	_d=$1
	shift
	ctl audit verify "$@" >"$T/v.out" 2>"$T/v.err"
	ok $(( $? != 0 )) "$_d: verify exits 0"
	grep -q '^audit trail intact: 100 events, head seq 100$' "$T/v.out"
	ok $? "$_d: says intact, 100 events, head seq 100"
}

# tampered DESC SEQ WORD [ARGS]: verify exits 1 naming SEQ, the reason containing WORD.
tampered() {
	_d=$1 _seq=$2 _word=$3
	shift 3
	ctl audit verify "$@" >"$T/v.out" 2>"$T/v.err"
	ok $(( $? != 1 )) "$_d: verify exits 1"
	grep -q "^audit trail TAMPERED at seq $_seq: .*$_word" "$T/v.out"
	_found=$?
	ok $_found "$_d: names seq $_seq ($_word)"
	[ $_found -eq 0 ] || sed 's/^/#   /' "$T/v.out" "$T/v.err"
}

hash_of() { q "SELECT lower(hex(hash)) FROM events WHERE seq = $1"; }

# ---- untouched ------------------------------------------------------------------------
fresh
intact "untouched trail"
ctl audit verify --json >"$T/v.json" 2>"$T/v.err"
python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["intact"] is True and v["events"] == 100 and v["head_seq"] == 100 and v["first_bad_seq"] is None else 1)' "$T/v.json"
ok $? "verify --json: intact, 100 events, head 100"
intact "with a matching --seal" --seal "60:$(hash_of 60)" --seal "100:$(hash_of 100)"

# ---- the triggers are the first line ---------------------------------------------------
q "UPDATE events SET details = '{}' WHERE seq = 40" 2>/dev/null
ok $(( $? == 0 )) "sqlite3 UPDATE of an event is refused by the append-only trigger"
q "DELETE FROM events WHERE seq = 50" 2>/dev/null
ok $(( $? == 0 )) "sqlite3 DELETE of a young event is refused by the retention trigger"
intact "after refused changes"

# ---- modified row -----------------------------------------------------------------------
q "DROP TRIGGER events_append_only; UPDATE events SET details = '{\"path\":\"/bin/true\"}' WHERE seq = 40"
tampered "modified row (details)" 40 modified

fresh
q "DROP TRIGGER events_append_only; UPDATE events SET user = 'mallory' WHERE seq = 77"
tampered "modified row (user)" 77 modified

# ---- deleted row ------------------------------------------------------------------------
fresh
q "DROP TRIGGER events_retention; DELETE FROM events WHERE seq = 50"
tampered "deleted row" 50 missing

# ---- inserted row (later rows renumbered to make room) --------------------------------------
fresh
q "DROP TRIGGER events_append_only;
   UPDATE events SET seq = seq + 1000 WHERE seq > 60;
   UPDATE events SET seq = seq - 999 WHERE seq > 1000;
   INSERT INTO events SELECT 61, time_ms, 'exec', 'alice', project, session, source, datasets,
     '{\"path\":\"/bin/ls\"}', hash, hash FROM events WHERE seq = 60;"
ok $(( $(q "SELECT max(seq) FROM events") != 101 )) "a row was inserted at seq 61"
tampered "inserted row" 61 "inserted"

fresh
q "INSERT INTO events SELECT 0, time_ms, type, user, project, session, source, datasets,
     details, zeroblob(32), prev_hash FROM events WHERE seq = 1;"
tampered "row inserted before the first" 1 "inserted"

# ---- reordered rows (two rows' contents swapped, seqs kept) --------------------------------
fresh
q "DROP TRIGGER events_append_only;
   CREATE TEMP TABLE pair AS SELECT * FROM events WHERE seq IN (30, 31);
   UPDATE events SET (time_ms, type, user, project, session, source, datasets, details,
     prev_hash, hash) = (SELECT time_ms, type, user, project, session, source, datasets,
     details, prev_hash, hash FROM pair WHERE pair.seq = 61 - events.seq)
   WHERE seq IN (30, 31);"
tampered "reordered rows" 30 "reordered"

# ---- truncated tail below the last seal ---------------------------------------------------
fresh
echo "90 $(hash_of 90) $(q 'SELECT time_ms FROM events WHERE seq = 90')" >>"$S/audit.seals"
intact "with a witness seal at seq 90"
H95=$(hash_of 95)
q "DROP TRIGGER events_retention; DELETE FROM events WHERE seq > 80"
tampered "tail cut below the witness seal" 81 truncated
rm "$S/audit.seals"
ctl audit verify >/dev/null 2>&1
ok $(( $? != 0 )) "without any seal, a cut tail is invisible (hence the seals)"
tampered "tail cut below an external --seal" 81 truncated --seal "95:$H95"

# The attacker who ages the rows instead of dropping the trigger fares no better.
fresh
H95=$(hash_of 95)
q "DROP TRIGGER events_append_only;
   UPDATE events SET time_ms = time_ms - 800 * 86400000 WHERE seq > 85;
   DELETE FROM events WHERE seq > 85;"
ok $(( $(q "SELECT count(*) FROM events") != 85 )) "old-looking rows could be deleted"
tampered "tail cut after back-dating, external --seal" 86 truncated --seal "95:$H95"

# ---- a fully recomputed chain --------------------------------------------------------------
fresh
SEAL30="30:$(hash_of 30)"
SEAL50="50:$(hash_of 50)"
SEAL100="100:$(hash_of 100)"
q "DROP TRIGGER events_append_only; UPDATE events SET details = '{\"path\":\"/bin/cat\",\"argv\":[\"cat\",\"secret.csv\"]}' WHERE seq = 40"
python3 - "$S/audit.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def ns(v):
    b = str(v if v is not None else "").encode()
    return str(len(b)).encode() + b":" + b + b","
prev = bytes(32)
rows = db.execute("SELECT seq, time_ms, type, user, project, session, source, datasets,"
                  " details FROM events ORDER BY seq").fetchall()
for row in rows:
    h = hashlib.sha256(prev + b"".join(ns(v) for v in row)).digest()
    db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, row[0]))
    prev = h
db.commit()
PY
intact "a recomputed chain fools a verify without seals"
tampered "a recomputed chain against external seals" 50 "seal" --seal "$SEAL30" --seal "$SEAL50" --seal "$SEAL100"
ctl audit verify --json --seal "$SEAL100" >"$T/v.json" 2>"$T/v.err"
RC=$?
python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
sys.exit(0 if v["intact"] is False and v["first_bad_seq"] == 100 and v["reason"] else 1)' "$T/v.json"
ok $(( $? != 0 || RC != 1 )) "verify --json: intact false, first_bad_seq, reason; exit 1"

# The writer also seals into the chain (audit.seal events) and the witness file;
# audit-fill -S seals after every batch the same way.  A rewrite that recomputes
# every hash is caught by both, even once the attacker deletes the witness file.
recompute_after_change() {
	q "DROP TRIGGER events_append_only; UPDATE events SET details = '{\"path\":\"/bin/cat\"}' WHERE seq = 40"
	python3 - "$S/audit.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def ns(v):
    b = str(v if v is not None else "").encode()
    return str(len(b)).encode() + b":" + b + b","
prev = bytes(32)
for row in db.execute("SELECT seq, time_ms, type, user, project, session, source, datasets,"
                      " details FROM events ORDER BY seq").fetchall():
    h = hashlib.sha256(prev + b"".join(ns(v) for v in row)).digest()
    db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, row[0]))
    prev = h
db.commit()
PY
}
rm -rf "$S"
mkdir -m 0700 "$S"
"$FILL" -S -b 20 "$S" 100 >/dev/null || bail "audit-fill -S failed"
ok $(( $(q "SELECT count(*) FROM events WHERE type = 'audit.seal'") != 5 )) "audit-fill -S: 5 seal events"
ok $(( $(wc -l <"$S/audit.seals") != 5 )) "audit-fill -S: 5 witness lines"
intact "a sealed trail"
FIRST_SEAL_AFTER_40=$(q "SELECT min(json_extract(details, '\$.sealed_seq')) FROM events WHERE type = 'audit.seal' AND json_extract(details, '\$.sealed_seq') >= 40")
recompute_after_change
tampered "recomputed chain vs the witness file" "$FIRST_SEAL_AFTER_40" "seal of seq"
rm "$S/audit.seals"
tampered "recomputed chain vs the audit.seal events" "$FIRST_SEAL_AFTER_40" "audit.seal event"

# ---- bad input ----------------------------------------------------------------------------------
fresh
check_fails "--seal without a hash" -- ctl audit verify --seal 5
check_fails "--seal with a short hash" -- ctl audit verify --seal 5:abcd
check_fails "--seal of seq 0" -- ctl audit verify --seal "0:$(hash_of 1)"
check_fails "--seal of a negative seq" -- ctl audit verify --seal "-5:$(hash_of 1)"
check_fails "--seal without a value" -- ctl audit verify --seal
check_fails "verify with a stray argument" -- ctl audit verify 100
check_fails "verify --bogus" -- ctl audit verify --bogus
printf '90 %s 1\nnot a seal\n' "$(hash_of 90)" >>"$S/audit.seals"
check_fails "a malformed witness file is an error" -- ctl audit verify
grep -q 'audit.seals:2:' "$T/last.err"
ok $? "naming its line"
rm -rf "$S"
check_fails "no audit.db: an error, not 'intact'" -- ctl audit verify
