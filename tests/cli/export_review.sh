#!/bin/sh
# export_review.sh — export review end to end without SSH: the real
# saferoom-export client talks to the monitor's side of the export socket
# (tests/tools/export-server, which calls sr_export_serve() for each
# connection as saferoomd's monitor does), and stewards and researchers use
# the real saferoomctl export verbs, run "through sudo" (SUDO_USER) so that
# they act with their own policy roles.  Covered: the whole loop from submit
# to fetch; each automatic check firing on a crafted file and quiet on a
# clean aggregated table; each refused kind of submission; approval by the
# requester refused; two-steward mode; rejection needs a reason; withdrawal;
# the workspace file changing after submission; another researcher fetching;
# concurrent submissions from two sessions; and the audit trail of it all.
. "$SR_SRCDIR/tests/lib.sh"

require_root
require_tool "${SQLITE3:=sqlite3}"
require_tool python3
require_tool sha256sum
CONF=$(make_conf 2222)
S="$T/state"
WS="$T/workspace"
SERVER="$SR_BUILDDIR/tests/tools/export-server"
CLIENT="$SR_BUILDDIR/saferoom-export"
ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }
# as USER ARGS...: saferoomctl run by USER through sudo.
as() { _u=$1; shift; SUDO_USER=$_u "$SAFEROOMCTL" -c "$CONF" "$@"; }
# client SESSION ARGS...: saferoom-export inside SESSION's sandbox.
client() { _n=$1; shift; SAFEROOM_EXPORT_SOCKET="$T/$_n.sock" "$CLIENT" "$@"; }
# The servers' connections come and go: wait for a busy database rather than fail.
q() { "$SQLITE3" -cmd '.timeout 5000' "$S/policy.db" "$@"; }
# check and check_fails, keeping what the command printed in $T/out and $T/err.
keep() { cp "$T/last.out" "$T/out"; cp "$T/last.err" "$T/err"; }
checked() { check "$@"; _r=$?; keep; return $_r; }
refused() { check_fails "$@"; keep; }
events() { "$SQLITE3" -cmd '.timeout 5000' "$S/audit.db" "SELECT count(*) FROM events WHERE type = '$1' AND details LIKE '%$2%'"; }
# verdict ID CHECK: the verdict of one check of request ID.
verdict() {
	as carol export show "$1" --json | python3 -c "import json,sys
print([c['verdict'] for c in json.load(sys.stdin)['checks'] if c['name'] == '$2'][0])"
}
state() { q "SELECT state FROM export_requests WHERE id = $1"; }
# submitted SESSION FILE: submits /project/FILE, prints the new id.
submitted() {
	client "$1" submit "/project/$2" --reason "결과표 반출 (test)" >"$T/sub.out" 2>"$T/sub.err" &&
		sed -n 's/^request \([0-9]*\) submitted$/\1/p' "$T/sub.out"
}
on_exit 'for j in $(jobs -p); do kill $j; done; sleep 0.2'

# serve NAME USER [ARGS...]: the export socket $T/NAME.sock of USER's session in onco.
serve() {
	_n=$1 _u=$2
	shift 2
	rm -f "$T/$_n.ready"
	mkfifo "$T/$_n.ready"
	"$SERVER" -d "$S" -u "$_u" -p onco -w "$WS" -s "$T/$_n.sock" -R 3 "$@" \
		3>"$T/$_n.ready" 2>>"$T/server.err" &
	check "export socket of session $_n ($_u) up" -- \
		test "$(timeout 10 head -c 1 "$T/$_n.ready")" = R
}

# ---- a room: people, a dataset, a project, a workspace ---------------------------------
check "init" -- ctl init
[ -f "$S/policy.db" ] || bail "init did not create $S/policy.db"
rm -f "$T/ready"
mkfifo "$T/ready"
"$AUDIT_WRITER" -d "$S" -R 3 3>"$T/ready" 2>"$T/writer.err" &
check "audit writer up" -- test "$(timeout 10 head -c 1 "$T/ready")" = R
mkdir -p "$T/data/onc" "$WS/home/alice"
printf 'id,age,dx\n1,54,C34\n2,61,C50 breast cancer left side\n' >"$T/data/onc/patients.csv"
for u in alice:researcher bob:researcher carol:steward dave:steward erin:steward,researcher; do
	ctl user add "${u%%:*}" --role "${u#*:}" >/dev/null || bail "user add $u"
done
ctl dataset add onc "$T/data/onc" >/dev/null || bail "dataset add"
ctl project add onco --drb-ref DRB-2026-7 --until 2099-12-31 >/dev/null || bail "project add"
ctl project grant onco onc >/dev/null || bail "grant"
for u in alice bob erin; do ctl project member add onco $u >/dev/null || bail "member $u"; done
serve alice alice
serve bob bob
serve erin erin
serve alice2 alice -a 2
serve tiny alice -m 1000

# ---- the whole loop ------------------------------------------------------------------------
printf 'region,year,sex,n_patients,mean_age\n서울,2021,M,120,61.2\n서울,2021,F,98,59.8\n부산,2021,M,45,63.0\n' \
	>"$WS/table1.csv"
cp "$WS/table1.csv" "$T/table1.orig"
checked "saferoom-export submit a clean aggregated table" -- \
	client alice submit /project/table1.csv --reason "논문 표 1"
check "... prints the request id" -- grep -qx 'request 1 submitted' "$T/out"
check "... and the check report: all pass" -- grep -q 'overall: pass' "$T/out"
check "the workspace file changes after submitting" -- sh -c "echo '부산,2021,F,2,60.0' >>'$WS/table1.csv'"
checked "saferoom-export list shows it in review" -- client alice list
check "... as request 1, in_review" -- grep -q '^1 *in_review *pass' "$T/out"
for c in filetype caps cells identifiers rows; do
	check "clean table: $c passes" -- test "$(verdict 1 $c)" = pass
done
checked "a steward lists the queue" -- as carol export list --state in_review
check "... with request 1" -- grep -q '^1 .*alice .*table1.csv$' "$T/out"
checked "the steward reads request 1" -- as carol export show 1
check "... with the reason, Korean intact" -- grep -q '^reason *논문 표 1$' "$T/out"
check "... and a preview of the submitted bytes" -- grep -q '^ *4  부산,2021,M,45,63.0$' "$T/out"
check "... not of the changed workspace file" -- sh -c "! grep -q '부산,2021,F,2' '$T/out'"
checked "carol approves" -- as carol export approve 1 --note "aggregated, fine"
check "... request 1 approved" -- grep -qx 'request 1 approved' "$T/out"
check_fails "bob cannot fetch alice's file" -- as bob export fetch 1
check "... exit status 3 (denied)" -- sh -c "SUDO_USER=bob '$SAFEROOMCTL' -c '$CONF' export fetch 1 >/dev/null 2>&1; test \$? -eq 3"
check_fails "carol cannot fetch it either" -- as carol export fetch 1
check "alice fetches it" -- sh -c "SUDO_USER=alice '$SAFEROOMCTL' -c '$CONF' export fetch 1 >'$T/fetched'"
check "... exactly the bytes she submitted (not the file as it is now)" -- cmp "$T/fetched" "$T/table1.orig"
check "... and request 1 is released" -- test "$(state 1)" = released

# ---- each check fires on a file made to trip it --------------------------------------------
# crafted NAME CHECK VERDICT DESCRIPTION: submits $WS/NAME, expects CHECK to give VERDICT.
crafted() {
	_id=$(submitted alice "$1")
	if [ -z "$_id" ]; then
		ok 1 "$4: submitted"
		sed 's/^/#   /' "$T/sub.err"
		return
	fi
	check "$4: $2 says $3" -- test "$(verdict "$_id" "$2")" = "$3"
}
printf 'stage,n\nI,120\nII,3\nIII,0\n' >"$WS/cells.csv"
crafted cells.csv cells fail "a count of 3 and a zero"
printf 'name,note\nA,주민번호 800101-1234567\n' >"$WS/rrn.csv"
crafted rrn.csv identifiers fail "a resident registration number"
printf '연락처: 010-1234-5678\n' >"$WS/phone.txt"
crafted phone.txt identifiers fail "a mobile number"
printf '# Methods\nContact hong.gildong@snuh.org\n' >"$WS/email.md"
crafted email.md identifiers fail "an e-mail address"
printf 'id,age,dx\n2,61,C50 breast cancer left side\n' >"$WS/copied.csv"
crafted copied.csv rows fail "a row copied from the dataset"
cp /bin/true "$WS/elf.csv"
crafted elf.csv filetype fail "an ELF binary named .csv"
python3 -c "print('g,n'); [print('g%d,%d' % (i, 100 + i)) for i in range(5001)]" >"$WS/long.csv"
crafted long.csv caps fail "5001 rows"
printf '\211PNG\r\n\032\n\0\0\0\0IEND\256B`\202' >"$WS/plot.png"
crafted plot.png filetype review "a PNG image (never pass)"
check "a failed check blocks approval" -- sh -c "! SUDO_USER=carol '$SAFEROOMCTL' -c '$CONF' export approve 2 2>'$T/verb.err'"
check "... saying so" -- grep -q 'failed an automatic check' "$T/verb.err"
checked "show marks the flagged cells in plain output" -- as carol export show 2
check "... [[3]] and [[0]]" -- grep -q '^ *3  II,\[\[3\]\]$' "$T/out"
check "... and the location" -- grep -q 'line 3, field 2: count below 10 (fail)' "$T/out"

# ---- what cannot be submitted --------------------------------------------------------------
ln -s /etc/passwd "$WS/out.csv"
check_fails "a symlink out of the workspace" -- client alice submit /project/out.csv --reason x
ln -s "$T/data/onc/patients.csv" "$WS/dataset.csv"
refused "a symlink to a dataset file" -- client alice submit /project/dataset.csv --reason x
check "... saying it is a symlink" -- grep -q 'is a symlink' "$T/err"
ln "$T/data/onc/patients.csv" "$WS/hard.csv"
refused "a hard link to a dataset file" -- client alice submit /project/hard.csv --reason x
check "... saying why" -- grep -q 'hard links' "$T/err"
mkfifo "$WS/pipe.csv"
refused "a FIFO, without hanging" -- timeout 20 env SAFEROOM_EXPORT_SOCKET="$T/alice.sock" \
	"$CLIENT" submit /project/pipe.csv --reason x
check "... saying it is a FIFO" -- grep -q FIFO "$T/err"
mknod "$WS/null.csv" c 1 3
check_fails "a device" -- client alice submit /project/null.csv --reason x
refused "a /proc path" -- client alice submit /proc/self/environ --reason x
check "... only files under /project" -- grep -q 'only files under /project' "$T/err"
check_fails "a directory" -- client alice submit /project/home --reason x
check_fails "a path out through .." -- client alice submit /project/../state/policy.db --reason x
head -c 2000 /dev/zero | tr '\0' 'x' >"$WS/big.txt"
refused "a file over the size cap (1000 bytes in this session)" -- client tiny submit /project/big.txt --reason x
check "... saying so" -- grep -q 'more than the export size cap of 1000 bytes' "$T/err"
check_fails "a submission without --reason" -- client alice submit /project/table1.csv
check_fails "a relative path outside /project" -- sh -c "cd '$T' && SAFEROOM_EXPORT_SOCKET='$T/alice.sock' '$CLIENT' submit table1.csv --reason x"
check "refusals are audited" -- test "$(events export.refused '"op":"submit"')" -ge 9
check "no request was recorded for any of them" -- \
	test "$(q "SELECT count(*) FROM export_requests WHERE path IN ('out.csv','dataset.csv','hard.csv','pipe.csv','null.csv','big.txt')")" = 0

# ---- deciding ------------------------------------------------------------------------------
printf 'stage,n\nI,120\n' >"$WS/erin.csv"
ID=$(submitted erin erin.csv)
check "erin (steward and researcher) submits" -- test -n "$ID"
check "erin cannot approve her own request (exit 3)" -- sh -c "SUDO_USER=erin '$SAFEROOMCTL' -c '$CONF' export approve $ID 2>'$T/verb.err'; test \$? -eq 3"
check "... saying why" -- grep -q 'you submitted it' "$T/verb.err"
check_fails "root without a steward account cannot approve" -- ctl export approve "$ID"
check "the admin may still read the queue" -- ctl export list
check_fails "reject without a reason" -- as carol export reject "$ID"
check "reject with a reason" -- as carol export reject "$ID" --reason "표본 수가 너무 적음"
checked "erin's list shows the rejection and why" -- client erin list
check "... with the reason" -- grep -q 'rejected because: 표본 수가 너무 적음' "$T/out"
check_fails "a rejected request cannot be fetched" -- as erin export fetch "$ID"

printf 'stage,n\nI,120\nII,130\n' >"$WS/two.csv"
ID=$(submitted alice2 two.csv)
check "a submission needing two stewards (export_approvals 2)" -- test -n "$ID"
checked "carol approves" -- as carol export approve "$ID"
check "... it needs more" -- grep -q 'it needs more' "$T/out"
check "... still in review" -- test "$(state "$ID")" = in_review
check_fails "carol cannot approve twice" -- as carol export approve "$ID"
check_fails "alice cannot fetch it yet" -- as alice export fetch "$ID"
check "dave approves" -- as dave export approve "$ID"
check "... approved" -- test "$(state "$ID")" = approved
check "alice fetches it" -- sh -c "SUDO_USER=alice '$SAFEROOMCTL' -c '$CONF' export fetch $ID >'$T/two.out'"
check "... the same bytes" -- cmp "$T/two.out" "$WS/two.csv"

printf 'stage,n\nI,120\nII,<10\n' >"$WS/cells.csv"
ID=$(submitted alice cells.csv)
check "a corrected table is resubmitted" -- test -n "$ID"
checked "export diff shows the correction" -- as carol export diff "$ID"
check "... -II,3 +II,<10" -- sh -c "grep -qx -- '-II,3' '$T/out' && grep -qx -- '+II,<10' '$T/out'"
checked "alice withdraws it" -- client alice withdraw "$ID"
check "... request $ID withdrawn" -- grep -qx "request $ID withdrawn" "$T/out"
check_fails "a withdrawn request cannot be approved" -- as carol export approve "$ID"
printf 'stage,n\nI,120\n' >"$WS/bobs.csv"
ID=$(submitted bob bobs.csv)
check_fails "alice cannot withdraw bob's request" -- client alice withdraw "$ID"
check "bob's request stays in review" -- test "$(state "$ID")" = in_review

# ---- concurrent sessions, and the socket's sanity check -------------------------------------
n0=$(q "SELECT count(*) FROM export_requests")
for i in 1 2 3 4 5; do
	printf 'g,n\na,%d\n' $((100 + i)) >"$WS/ca$i.csv"
	printf 'g,n\nb,%d\n' $((200 + i)) >"$WS/cb$i.csv"
	client alice submit "/project/ca$i.csv" --reason concurrent >"$T/ca$i.out" 2>&1 &
	pa=$!
	client bob submit "/project/cb$i.csv" --reason concurrent >"$T/cb$i.out" 2>&1 &
	pb=$!
	wait $pa
	ra=$?
	wait $pb
	rb=$?
	ok $((ra + rb)) "round $i: two sessions submit at the same moment"
done
check "ten requests, ten distinct ids" -- \
	test "$(q "SELECT count(DISTINCT id) FROM export_requests")" -eq $((n0 + 10))
check "each with its own quarantine copy" -- \
	test "$(q "SELECT count(DISTINCT quarantine) FROM export_requests")" -eq $((n0 + 10))
serve wrong alice -U 4242
refused "a peer that is not the session's uid is refused" -- client wrong list
check "... as a sanity check failure" -- grep -q "not the session's user" "$T/err"
refused "no export service: one clear line" -- client nowhere list
check "... naming the socket" -- grep -q 'cannot reach the export service' "$T/err"

# ---- the quarantine and the trail -----------------------------------------------------------
check "quarantine/ is root-only (0700)" -- test "$(stat -c %a "$S/quarantine")" = 700
check "quarantine copies are read-only, root's (0400)" -- \
	test -z "$(find "$S/quarantine" -type f ! -perm 0400)$(find "$S/quarantine" -type f ! -user root)"
SHA=$(sha256sum <"$T/table1.orig" | cut -d' ' -f1)
for t in submit check approve fetch; do
	check "export.$t of request 1 carries its SHA-256" -- test "$(events export.$t "$SHA")" -ge 1
done
for t in reject withdraw refused; do
	check "export.$t events are in the trail" -- test "$(events export.$t '')" -ge 1
done
check "the audit chain is intact" -- ctl audit verify
