#!/bin/sh
# export_loop.sh — export review end to end through saferoomd and the real
# OpenSSH client: a researcher's shell in the sandbox submits a file with
# saferoom-export over the session's export socket (/run/saferoom/export.sock,
# served by her monitor), a steward reviews and approves it over SSH, and she
# fetches exactly the bytes that were reviewed.  Also: who asks comes from
# the session, not from what the client sends; the requester cannot approve;
# another researcher cannot fetch; the checks fire on crafted files; refused
# kinds of submission from the shell; two-steward mode; two sessions
# submitting at once; the socket's place on the host; the audit trail.
#
# saferoomd runs from the build tree, where no saferoom-export is installed:
# SAFEROOM_EXPORT_BIN (for tests only) makes the sandbox offer the built one
# as /usr/local/bin/saferoom-export.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_tool "$SQLITE3"
require_tool sha256sum
require_tool python3
export SAFEROOM_EXPORT_BIN="$SR_BUILDDIR/saferoom-export"
broker_setup
broker_keys bob erin
ctl user add bob --role researcher --key "$T/keys/bob.pub" >/dev/null &&
ctl user add erin --role steward,researcher --key "$T/keys/erin.pub" >/dev/null &&
ctl user add frank --role steward >/dev/null &&
ctl project member add lung bob >/dev/null &&
ctl project member add lung erin >/dev/null || bail "could not add bob, erin and frank"
broker_keys frank
ctl user key add frank "$T/keys/frank.pub" >/dev/null || bail "frank's key"

# shell USER FILE: runs the lines of FILE in USER's shell in the sandbox (a
# pty, as a person at a terminal with a UTF-8 locale); what the terminal
# showed goes to $T/USER.out.
shell() {
	sshc "$1" "$1" -tt -o SetEnv=LANG=C.UTF-8 <"$2" >"$T/$1.out" 2>&1
}
# submitted USER: the request ids USER's last shell saw submitted.
submitted() { grep -ao 'request [0-9][0-9]* submitted' "$T/$1.out" | sed 's/[^0-9]//g'; }
# put FILE PATH: a shell line that writes FILE's bytes to PATH inside (base64,
# so that no byte depends on how the terminal and readline treat it).
put() { printf "base64 -d >%s <<'B64'\n%s\nB64\n" "$2" "$(base64 <"$1")"; }
state() { "$SQLITE3" -cmd '.timeout 5000' "$T/state/policy.db" "SELECT state FROM export_requests WHERE id = $1"; }
sha() { sha256sum | cut -d' ' -f1; }

TABLE='region,year,sex,n_patients,mean_age
서울,2021,M,120,61.2
서울,2021,F,98,59.8
부산,2021,M,45,63.0'
printf '%s\n' "$TABLE" >"$T/table.orig"
SHA=$(sha <"$T/table.orig")

# ---- the whole loop -------------------------------------------------------------------------
{ put "$T/table.orig" /project/result.csv; cat <<EOF
ls -l /run/saferoom/export.sock; echo "sock-rc=\$?"
saferoom-export submit /project/result.csv --reason "논문 표 1 (Table 1)"; echo "submit-rc=\$?"
echo '부산,2021,F,2,60.0' >>/project/result.csv
saferoom-export list
exit
EOF
} >"$T/in"
shell alice "$T/in"
ok $? "alice's shell session runs and exits 0"
grep -q 'sock-rc=0' "$T/alice.out"
ok $? "the export socket is at /run/saferoom/export.sock inside the sandbox"
grep -q 'submit-rc=0' "$T/alice.out"
ok $? "saferoom-export submit succeeds from her shell"
ID=$(submitted alice)
[ -n "$ID" ]
ok $? "... and prints 'request N submitted' (N=$ID)"
[ -n "$ID" ] || { sed 's/^/#   /' "$T/alice.out"; bail "no request id"; }
grep -q "^$ID *in_review" "$T/alice.out"
ok $? "saferoom-export list shows request $ID in review"
[ "$("$SQLITE3" "$T/state/policy.db" "SELECT requester || ' ' || project FROM export_requests WHERE id = $ID")" = "alice lung" ]
ok $? "the request is alice's, in project lung (from her session)"
[ "$("$SQLITE3" "$T/state/policy.db" "SELECT sha256 FROM export_requests WHERE id = $ID")" = "$SHA" ]
ok $? "... recorded with the SHA-256 of the bytes she submitted"
has_event "export.submit names her session" \
	"type='export.submit' AND user='alice' AND project='lung' AND session IN (SELECT session FROM events WHERE type='session.start' AND user='alice') AND details LIKE '%$SHA%'"

sshcmd carol carol export list >"$T/out" 2>&1
ok $? "carol lists the queue over SSH"
grep -q "^$ID .*alice.*result.csv" "$T/out"
ok $? "... with alice's request $ID"
sshcmd carol carol export show "$ID" >"$T/show" 2>&1
ok $? "carol reads request $ID"
grep -q '논문 표 1 (Table 1)' "$T/show"
ok $? "... with the reason, Korean intact"
grep -q '부산,2021,M,45,63.0' "$T/show" && ! grep -q '부산,2021,F,2,60.0' "$T/show"
ok $? "... and a preview of the submitted bytes, not of the file changed since"

sshcmd alice alice export approve "$ID" >"$T/out" 2>&1
[ $? -ne 0 ] && [ "$(state "$ID")" = in_review ]
ok $? "alice cannot approve her own request"
sshcmd alice alice export fetch "$ID" >"$T/early" 2>"$T/err"
[ $? -ne 0 ] && [ ! -s "$T/early" ]
ok $? "alice cannot fetch it before a decision"
sshcmd carol carol export approve "$ID" --note "'aggregated, fine'" >"$T/out" 2>&1
ok $? "carol approves request $ID"
[ "$(state "$ID")" = approved ]
ok $? "... it is approved"
# The banner of her next login names the decision.
printf 'exit\n' >"$T/in"
shell alice "$T/in"
grep -Eq "(export|request) $ID[ :(].*approved" "$T/alice.out"
r=$?
ok $r "her next login's banner lists the decision"
[ $r -eq 0 ] || { sed 's/^/#   /' "$T/alice.out"; grep 'export' "$T/saferoomd.log" | sed 's/^/#   /'; }
sshcmd bob bob export fetch "$ID" >"$T/bob.csv" 2>"$T/err"
[ $? -ne 0 ] && [ ! -s "$T/bob.csv" ]
ok $? "bob (another researcher of the project) cannot fetch it"
sshcmd alice alice export fetch "$ID" >"$T/fetched.csv" 2>"$T/err"
ok $? "alice fetches it over SSH"
[ "$(sha <"$T/fetched.csv")" = "$SHA" ]
ok $? "... exactly the bytes she submitted, not the file as changed after"
[ "$(state "$ID")" = released ]
ok $? "... and the request is released"


# ---- who asks comes from the session, not from the client ------------------------------
# A client of her own making names someone else, another project and a
# requester: the monitor takes none of it.
cat >"$T/forge.py" <<'PY'
import json, socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/run/saferoom/export.sock")
m = json.dumps({"op": "submit", "path": "/project/forged.csv", "reason": "forged",
                "user": "carol", "requester": "carol", "project": "other", "uid": 0}).encode()
s.sendall(struct.pack(">I", len(m)) + m)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
print("forge:", json.loads(s.recv(n, socket.MSG_WAITALL)).get("message"))
PY
printf 'g,n\na,120\n' >"$T/forged.csv"
{ put "$T/forged.csv" /project/forged.csv; put "$T/forge.py" /tmp/forge.py
  echo 'python3 /tmp/forge.py; echo "forge-rc=$?"'; echo exit; } >"$T/in"
shell alice "$T/in"
FID=$(grep -ao 'forge: request [0-9]* submitted' "$T/alice.out" | sed 's/[^0-9]//g')
[ -n "$FID" ]
ok $? "a hand-made client inside the sandbox submits over the socket"
[ -n "$FID" ] && [ "$("$SQLITE3" "$T/state/policy.db" "SELECT requester || ' ' || project FROM export_requests WHERE id = $FID")" = "alice lung" ]
ok $? "... as alice in lung, whatever user, requester and project it sent"

# ---- the checks, and what cannot be submitted, from the shell ----------------------------
printf 'name,note\nA,주민번호 900101-1234567\n' >"$T/rrn.csv"
printf 'stage,n_patients\nI,120\nII,3\nIII,0\n' >"$T/cells.csv"
{ put "$T/rrn.csv" /project/rrn.csv; put "$T/cells.csv" /project/cells.csv
  cat <<'EOF'
saferoom-export submit /project/rrn.csv --reason rrn
saferoom-export submit /project/cells.csv --reason cells
saferoom-export submit /data/cohort/patients.csv --reason x; echo "rc-data=$?"
ln -s /etc/passwd /project/out.csv
saferoom-export submit /project/out.csv --reason x; echo "rc-symlink=$?"
ln -s /data/cohort/patients.csv /project/data.csv
saferoom-export submit /project/data.csv --reason x; echo "rc-datalink=$?"
mkfifo /project/pipe.csv
timeout 20 saferoom-export submit /project/pipe.csv --reason x; echo "rc-fifo=$?"
saferoom-export submit /proc/self/environ --reason x; echo "rc-proc=$?"
exit
EOF
} >"$T/in"
shell alice "$T/in"
set -- $(submitted alice)
RRN=${1:-0} CELLS=${2:-0}
[ "$RRN" -gt 0 ] && [ "$CELLS" -gt 0 ]
ok $? "crafted files are submitted (requests $RRN and $CELLS)"
sshcmd carol carol export show "$RRN" >"$T/show" 2>&1
grep -q 'identifiers *fail' "$T/show"
ok $? "export show: a resident registration number fails the identifiers check"
sshcmd carol carol export show "$CELLS" >"$T/show" 2>&1
grep -q 'cells *fail' "$T/show"
ok $? "export show: a count of 3 and a zero fail the small-cells check"
sshcmd carol carol export approve "$CELLS" >"$T/out" 2>&1
[ $? -ne 0 ] && [ "$(state "$CELLS")" = in_review ]
ok $? "a request that failed a check cannot be approved"
for k in data symlink datalink fifo proc; do
	grep -aq "rc-$k=1" "$T/alice.out"
	ok $? "refused from the shell: $k"
done
grep -aq 'only files under /project' "$T/alice.out"
ok $? "... /data and /proc: only files under /project"
grep -aq 'is a symlink' "$T/alice.out"
ok $? "... symlinks: saying so"
grep -aq 'FIFO' "$T/alice.out"
ok $? "... the FIFO: saying so, without hanging"
[ "$("$SQLITE3" "$T/state/policy.db" "SELECT count(*) FROM export_requests WHERE path IN ('out.csv','data.csv','pipe.csv') OR path LIKE '%environ%' OR path LIKE '%patients%'")" = 0 ]
ok $? "... and none of them was recorded"

# ---- a steward who submits cannot approve her own --------------------------------------------
printf 'stage,n\nI,120\n' >"$T/erin.csv"
{ put "$T/erin.csv" /project/erin.csv; echo 'saferoom-export submit /project/erin.csv --reason mine'; echo exit; } >"$T/in"
shell erin "$T/in"
EID=$(submitted erin)
[ -n "$EID" ]
ok $? "erin (steward and researcher) submits from her shell"
sshcmd erin erin export approve "$EID" >"$T/out" 2>&1
[ $? -ne 0 ] && grep -q 'you submitted it' "$T/out" && [ "$(state "$EID")" = in_review ]
ok $? "... and cannot approve it herself"

# ---- two sessions submitting at the same moment ------------------------------------------------
for u in alice bob; do
	: >"$T/$u.in"
	for i in 1 2 3; do
		printf 'g,n_patients\n%s,%d\n' "$u" $((100 + i)) >"$T/$u$i.csv"
		put "$T/$u$i.csv" "/project/$u$i.csv" >>"$T/$u.in"
	done
	echo "saferoom-export submit /project/${u}1.csv --reason c & saferoom-export submit /project/${u}2.csv --reason c & saferoom-export submit /project/${u}3.csv --reason c; wait" >>"$T/$u.in"
	echo exit >>"$T/$u.in"
done
shell alice "$T/alice.in" &
pa=$!
shell bob "$T/bob.in" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
ok $((ra + rb)) "alice and bob each submit three files at once, from two sessions"
ids="$(submitted alice) $(submitted bob)"
[ "$(echo $ids | wc -w)" -eq 6 ] && [ "$(printf '%s\n' $ids | sort -u | wc -l)" -eq 6 ]
ok $? "... six requests, six distinct ids ($(echo $ids))"
[ "$("$SQLITE3" "$T/state/policy.db" "SELECT count(*) FROM export_requests WHERE (requester = 'alice' AND path GLOB 'alice?.csv') OR (requester = 'bob' AND path GLOB 'bob?.csv')")" -eq 6 ]
ok $? "... each the submitter's own"

# ---- two-steward mode (export_approvals 2) ------------------------------------------------------
broker_stop
echo "export_approvals 2" >>"$CONF"
broker_start
printf 'stage,n_patients\nI,120\nII,130\n' >"$T/two.csv"
{ put "$T/two.csv" /project/two.csv; echo 'saferoom-export submit /project/two.csv --reason two'; echo exit; } >"$T/in"
shell alice "$T/in"
TID=$(submitted alice)
[ -n "$TID" ]
ok $? "a submission when two stewards must approve (request $TID)"
sshcmd carol carol export approve "$TID" >"$T/out" 2>&1
ok $? "carol approves"
[ "$(state "$TID")" = in_review ]
ok $? "... one approval is not enough"
sshcmd alice alice export fetch "$TID" >"$T/two.out" 2>&1
[ $? -ne 0 ] && ! grep -q 'II,130' "$T/two.out"
ok $? "... alice cannot fetch it yet"
sshcmd carol carol export approve "$TID" >"$T/out" 2>&1
[ $? -ne 0 ] && [ "$(state "$TID")" = in_review ]
ok $? "... carol's second vote does not count"
sshcmd frank frank export approve "$TID" >"$T/out" 2>&1
ok $? "frank, a second steward, approves"
[ "$(state "$TID")" = approved ]
ok $? "... now it is approved"
sshcmd alice alice export fetch "$TID" >"$T/two.out" 2>"$T/err"
ok $? "alice fetches it"
cmp -s "$T/two.out" "$T/two.csv"
ok $? "... the bytes she submitted"

# ---- the socket on the host, and the trail ------------------------------------------------------
[ "$(stat -c %a "$T/state/run")" = 700 ]
ok $? "the export sockets' directory on the host is root's alone (0700)"
i=0
while [ -n "$(ls -A "$T/state/run")" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -z "$(ls -A "$T/state/run")" ]
ok $? "each session's socket is gone when the session ends"
ctl audit events --type export. >"$T/events" 2>&1
ok $? "saferoomctl audit events --type export. runs"
for t in submit check approve fetch refused; do
	grep -q "export\.$t" "$T/events"
	ok $? "... lists export.$t events"
done
for t in submit check approve fetch; do
	[ -n "$(events "type='export.$t' AND user IN ('alice','carol') AND details LIKE '%$SHA%'")" ]
	ok $? "export.$t of request $ID carries its SHA-256"
done
[ -n "$(events "type='export.refused' AND user='alice' AND session IN (SELECT session FROM events WHERE type='session.start' AND user='alice')")" ]
ok $? "refused submissions are audited with alice's session"
ctl audit verify >/dev/null 2>&1
ok $? "the audit chain is intact"
