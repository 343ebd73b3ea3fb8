#!/bin/sh
# policy_roundtrip.sh — the policy verbs of saferoomctl end to end: what goes in
# with add/set comes back out of list/show (text and --json, parsed by python3),
# `user check` gives the broker's answer and its reason, TOTP enrolment yields
# codes that oathtool agrees with, the row index counts what is on disk, and
# every change is exactly one policy.change audit event naming the admin.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
require_tool python3
require_tool ssh-keygen
require_tool oathtool
require_tool script
require_tool zbarimg
CONF=$(make_conf 2222)
S="$T/state"
ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
events() { "$SQLITE3" "$S/audit.db" "SELECT count(*) FROM events WHERE type = 'policy.change'"; }
# refused REASON DESCRIPTION ARGS...: `user check ARGS` says no, for exactly that reason.
refused() {
	_r=$1 _d=$2
	shift 2
	ctl user check "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	[ $_rc -eq 1 ] && grep -q "^refused ($_r): " "$T/out"
	ok $? "$_d"
	[ $_rc -eq 1 ] || sed 's/^/#   /' "$T/out" "$T/err"
}
# cctl DESCRIPTION ARGS...: one check that `saferoomctl ARGS` succeeds; its output stays in $T/out.
cctl() {
	_d=$1
	shift
	check "$_d" -- ctl "$@"
	cp "$T/last.out" "$T/out"
	cp "$T/last.err" "$T/err"
}
# json EXPR: a python expression over the JSON in $T/out, as `j`.
json() { python3 -c "import json,sys; j=json.load(open('$T/out')); sys.exit(0 if ($1) else 1)"; }

cctl "init" init
[ -f "$S/policy.db" ] || bail "init did not create $S/policy.db"
check "policy.db exists, mode 0600" -- test "$(stat -c %a "$S/policy.db")" = 600
check "policy.db is in WAL mode" -- test "$("$SQLITE3" "$S/policy.db" 'PRAGMA journal_mode')" = wal
ssh-keygen -q -t ed25519 -N '' -C alice@lab -f "$T/alice"
ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f "$T/alice2"
FP=$(ssh-keygen -lf "$T/alice.pub" | cut -d' ' -f2)
FP2=$(ssh-keygen -lf "$T/alice2.pub" | cut -d' ' -f2)
mkdir -p "$T/data/cancer/2024" "$T/data/empty"
printf 'id,age,stage\n1,54,II\n2,61,III\r\n\n3,47,I\n' >"$T/data/cancer/patients.csv"
printf 'id\tdrug\n1\tcisplatin\n' >"$T/data/cancer/2024/drugs.tsv"
printf 'free text line\n' >"$T/data/cancer/2024/notes.txt"
printf 'not,indexed\n' >"$T/data/cancer/2024/image.dcm"
n0=$(events)

# ---- users ------------------------------------------------------------------
check "user add alice with a key and expiry" -- \
	ctl user add alice --role researcher --key "$T/alice.pub" --expires 2099-12-31
check "user add carol with two roles (repeated --role)" -- \
	ctl user add carol --role steward --role auditor
cctl "user add dave with comma-separated roles" user add dave --role auditor,steward
cctl "user list --json" user list --json
check "list: three users, sorted" -- json "[u['name'] for u in j] == ['alice','carol','dave']"
check "list: roles" -- json "j[1]['roles'] == ['steward','auditor'] and j[2]['roles'] == ['steward','auditor']"
check "list: distinct uids from the range" -- json "len({u['uid'] for u in j}) == 3 and min(u['uid'] for u in j) >= 60000"
check "list: expiry reads back as typed" -- json "j[0]['expires'] == '2099-12-31' and j[1]['expires'] is None"
cctl "user key add alice a second key" user key add alice "$T/alice2.pub"
cctl "user show alice --json" user show alice --json
check "show: both keys with ssh-keygen's fingerprints" -- \
	json "[k['fingerprint'] for k in j['keys']] == ['$FP', '$FP2'] and j['keys'][0]['comment'] == 'alice@lab'"
cctl "user key remove" user key remove alice "$FP2"
check "show: one key left" -- sh -c "'$SAFEROOMCTL' -c '$CONF' user show alice | grep -c SHA256: | grep -qx 1"
cctl "user lock" user lock alice
check "show: locked" -- sh -c "'$SAFEROOMCTL' -c '$CONF' user show alice --json | grep -q '\"status\":\"locked\"'"
cctl "user unlock" user unlock alice
cctl "user set expires" user set alice expires 2099-12-31T12:00
cctl "user set allow_from" user set alice allow_from 10.0.0.0/8,192.168.1.0/24
cctl "user show text" user show alice
check "text show names the fields" -- grep -q '^expires *2099-12-31T12:00:00Z$' "$T/out"
check "text show: allow_from canonical" -- grep -q '^allow_from *10.0.0.0/8,192.168.1.0/24$' "$T/out"
check "user list text has a header" -- sh -c "'$SAFEROOMCTL' -c '$CONF' user list | head -1 | grep -q '^NAME  *UID  *STATUS'"

# ---- datasets -------------------------------------------------------------------
cctl "dataset add" dataset add cancer "$T/data/cancer" --description "cancer registry 2024"
check "add reports files and rows" -- grep -q '3 files, 5 distinct rows' "$T/out"
check "no progress bar when stderr is not a terminal" -- test ! -s "$T/err"
check "dataset add, relative path" -- sh -c "cd '$T' && '$SAFEROOMCTL' -c '$CONF' dataset add empty data/empty"
cctl "dataset list --json" dataset list --json
check "list: rows, files, resolved paths" -- \
	json "j[0]['name'] == 'cancer' and j[0]['rows'] == 5 and j[0]['files'] == 3 and j[1]['path'] == '$T/data/empty' and j[1]['rows'] == 0"
printf '4,70,IV\n' >>"$T/data/cancer/patients.csv"
cctl "dataset reindex" dataset reindex cancer
check "reindex counts the new row" -- grep -q '6 distinct rows' "$T/out"
check "the index holds the rows' hashes" -- test "$("$SQLITE3" "$S/policy.db" \
	"SELECT count(*) FROM dataset_rows WHERE hash = x'$(printf '4,70,IV' | sha256sum | cut -c1-32)'")" = 1
script -qec "'$SAFEROOMCTL' -c '$CONF' dataset reindex cancer" /dev/null >"$T/tty.out" 2>&1
check "a progress bar on a terminal" -- grep -q 'cancer \[#*\] 100%' "$T/tty.out"

# ---- projects -------------------------------------------------------------------
cctl "project add" project add lung-2026 --drb-ref "DRB-2026-017" --from 2026-01-01 --until 2099-12-31
cctl "project grant" project grant lung-2026 cancer
cctl "project grant with a window" project grant lung-2026 empty --from 2026-02-01 --until 2026-03-01
cctl "project member add" project member add lung-2026 alice --until 2099-06-30
cctl "project set memory" project set lung-2026 memory 2G
cctl "project set cpu" project set lung-2026 cpu 150
cctl "project set idle_timeout" project set lung-2026 idle_timeout 30m
cctl "project set pids back to default" project set lung-2026 pids default
cctl "project show --json" project show lung-2026 --json
check "show: drb, window" -- json "j['drb_ref'] == 'DRB-2026-017' and j['valid_from'] == '2026-01-01' and j['valid_until'] == '2099-12-31'"
check "show: limits in bytes, percent, seconds" -- json "j['limits'] == {'cpu': 150, 'idle_timeout': 1800, 'memory': 2147483648}"
check "show: member and grants with windows" -- \
	json "j['members'] == [{'user':'alice','valid_from':None,'valid_until':'2099-06-30'}] and [d['dataset'] for d in j['datasets']] == ['cancer','empty'] and j['datasets'][1]['valid_until'] == '2026-03-01'"
cctl "project list --json" project list --json
check "list: counts" -- json "j[0]['name'] == 'lung-2026' and j[0]['members'] == 1 and j[0]['datasets'] == 2 and j[0]['gid'] >= 60000"
cctl "dataset show lists the projects granted" dataset show cancer --json
check "dataset show: lung-2026" -- json "[p['project'] for p in j['projects']] == ['lung-2026']"
cctl "project show text" project show lung-2026
check "text: members listed" -- grep -q '^  alice  -  2099-06-30$' "$T/out"

# ---- user check -------------------------------------------------------------------
cctl "user check alice: allowed" user check alice --key "$T/alice.pub" --from 10.1.2.3
check "... and says where" -- grep -q '^allowed: alice may log in to project lung-2026$' "$T/out"
cctl "user check --json" user check alice --project lung-2026 --json
check "json: allowed" -- json "j['allowed'] is True and j['reason'] == 'allow' and j['project'] == 'lung-2026'"
refused key-unknown "user check: removed key" alice --key "$T/alice2.pub"
refused source-denied "user check: source" alice --from 172.16.0.1
refused member-expired "user check: after the membership" alice --at 2099-07-01
refused project-not-started "user check: before the project" alice --at 2025-12-31T23:59:59
cctl "user check carol: staff without a project" user check carol
refused no-user "user check: unknown user" nobody

# ---- TOTP ---------------------------------------------------------------------------
cctl "user totp enable" user totp enable alice
cp "$T/out" "$T/totp.out"
check "prints an otpauth URI" -- \
	grep -Eq '^otpauth://totp/saferoom:alice\?secret=[A-Z2-7]+=*&issuer=saferoom&algorithm=SHA1&digits=6&period=30$' "$T/totp.out"
check "draws a QR code with half blocks" -- test "$(grep -c '[▀▄█]' "$T/totp.out")" -ge 10
# Paint the half blocks into an image (light modules white) and let zbar read it.
python3 - "$T/totp.out" "$T/qr.pgm" <<'PY'
import sys
rows = []
for line in open(sys.argv[1], encoding='utf-8'):
    if any(c in line for c in '\u2580\u2584\u2588'):
        rows.append([c in '\u2580\u2588' for c in line.rstrip('\n')])
        rows.append([c in '\u2584\u2588' for c in line.rstrip('\n')])
w, s = max(map(len, rows)), 6
with open(sys.argv[2], 'w') as f:
    f.write('P2\n%d %d\n255\n' % (w * s, len(rows) * s))
    for r in rows:
        px = ' '.join('255' if i < len(r) and r[i] else '0' for i in range(w) for _ in range(s))
        f.write((px + '\n') * s)
PY
zbarimg -q --raw "$T/qr.pgm" 2>/dev/null >"$T/qr.txt"
check "the QR code scans to the URI" -- test "$(cat "$T/qr.txt")" = "$(head -n 1 "$T/totp.out")"
SECRET=$(sed -n 's/^otpauth:.*secret=\([A-Z2-7=]*\)&.*/\1/p' "$T/totp.out")
CODE=$(oathtool --totp -b "$SECRET")
cctl "an oathtool code validates" user check alice --totp "$CODE"
WRONG=$(oathtool --totp -b "$SECRET" --now "$(date -u -d '+10 min' '+%Y-%m-%d %H:%M:%S UTC')")
refused totp-invalid "a code from another time does not" alice --totp "$WRONG"
check "the seed is not in the audit trail" -- test "$("$SQLITE3" "$S/audit.db" "SELECT count(*) FROM events WHERE details LIKE '%$SECRET%'")" = 0
cctl "user totp disable" user totp disable alice
check "show: totp off" -- sh -c "'$SAFEROOMCTL' -c '$CONF' user show alice --json | grep -q '\"totp\":false'"

# ---- revoke and remove ---------------------------------------------------------------
cctl "project revoke" project revoke lung-2026 cancer
refused no-grant "no active grant left" alice --project lung-2026
cctl "project member remove" project member remove lung-2026 alice
refused no-project "no project left" alice

# ---- the audit trail --------------------------------------------------------------------
# 3 user add, key add/remove, lock, unlock, 2 user set, 2 dataset add, 2 reindex (one on
# a tty), project add, 2 grants, member add, 4 project set, totp on/off, revoke, remove.
want=$((n0 + 25))
[ -x "$(command -v script)" ] || want=$((want - 1))
check "one policy.change event per change ($want)" -- test "$(events)" = "$want"
check "events name the action" -- test "$("$SQLITE3" "$S/audit.db" \
	"SELECT count(*) FROM events WHERE type = 'policy.change' AND details LIKE '{\"action\":\"project.grant\"%'")" = 2
check "grant events name the dataset (whose data)" -- test "$("$SQLITE3" "$S/audit.db" \
	"SELECT datasets FROM events WHERE details LIKE '%\"project.revoke\"%'")" = cancer
check "project events carry the project" -- test "$("$SQLITE3" "$S/audit.db" \
	"SELECT DISTINCT project FROM events WHERE details LIKE '%\"action\":\"project.set\"%'")" = lung-2026
if [ "$(id -u)" -eq 0 ]; then
	check "the admin behind sudo is the actor" -- env SUDO_USER=drkim "$SAFEROOMCTL" -c "$CONF" user lock carol
	check "... in the event" -- test "$("$SQLITE3" "$S/audit.db" "SELECT user FROM events ORDER BY seq DESC LIMIT 1")" = drkim
fi
