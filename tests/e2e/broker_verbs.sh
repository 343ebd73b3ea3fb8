#!/bin/sh
# broker_verbs.sh — the verbs over SSH: the same functions as saferoomctl,
# checked against the SSH user's roles.  A steward lists, shows and approves
# export requests (`ssh carol@host export ...`); the researcher lists hers
# and fetches the approved file, byte for byte, on the channel's stdout
# (`ssh alice@host export fetch ID > file`); an auditor verifies the trail;
# every role is refused what is not theirs; and on a terminal staff get the
# `saferoom>` prompt with help and history (Up key, `history`, `!N`).
#
# The request itself is submitted the way a session does it: the real
# saferoom-export client against the monitor's side of the export socket
# (tests/tools/export-server calls sr_export_serve, as the monitor does).
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_tool "$SQLITE3"
require_tool python3
require_tool sha256sum
broker_setup
SERVER="$SR_BUILDDIR/tests/tools/export-server"
CLIENT="$SR_BUILDDIR/saferoom-export"
WS="$T/state/workspaces/lung"

# alice's first login makes the project workspace.
printf 'exit 0\n' >"$T/in0"
sshc alice alice -tt <"$T/in0" >/dev/null 2>&1
[ -d "$WS" ] || bail "no workspace after alice's login"

# A clean aggregated table, 2000 rows, CRLF line ends and a Korean header:
# what comes back must be these bytes exactly.
python3 - "$WS/table2.csv" <<'PY'
import random, sys
r = random.Random(5)
rows = ["지역,연도,성별,병기,환자수"] + ["r%04d,%d,%s,%s,%d" % (i, 2015 + i % 8, "MF"[i % 2],
        "I II III IV".split()[i % 4], r.randint(10, 900)) for i in range(2000)]
open(sys.argv[1], "wb").write("\r\n".join(rows).encode())
PY
rm -f "$T/xs.ready"; mkfifo "$T/xs.ready"
"$SERVER" -d "$T/state" -u alice -p lung -w "$WS" -s "$T/xs.sock" -R 3 \
	3>"$T/xs.ready" 2>"$T/export-server.err" &
XS=$!
on_exit "kill $XS"
[ "$(timeout 10 head -c 1 "$T/xs.ready")" = R ] || bail "export server did not start"
SAFEROOM_EXPORT_SOCKET="$T/xs.sock" "$CLIENT" submit /project/table2.csv \
	--reason "Table 2 of the paper" >"$T/sub.out" 2>&1 || { cat "$T/sub.out" >&2; bail "submit failed"; }
id=$(sed -n 's/^request \([0-9]*\) submitted$/\1/p' "$T/sub.out")
[ -n "$id" ] || bail "no request id in: $(cat "$T/sub.out")"

# ---- the steward ------------------------------------------------------------------------
sshcmd carol carol export list >"$T/out" 2>&1
ok $? "ssh carol export list runs"
grep -q "^$id .*alice .*table2.csv$" "$T/out"
ok $? "... and shows alice's request $id"
sshcmd carol carol export show "$id" >"$T/out" 2>&1 && grep -q "Table 2 of the paper" "$T/out"
ok $? "ssh carol export show $id shows the reason"
sshcmd carol carol user list >"$T/out" 2>&1
ok $([ $? -ne 0 ] && grep -q "not available to you" "$T/out" && echo 0 || echo 1) \
	"a steward cannot reach the admin verbs (user list)"

# ---- the researcher before approval --------------------------------------------------------
sshcmd alice alice export list >"$T/out" 2>&1
ok $? "ssh alice export list runs"
grep -q "^$id " "$T/out"
ok $? "... and shows her request"
sshcmd alice alice export fetch "$id" >"$T/fetched" 2>"$T/err"
ok $([ $? -ne 0 ] && [ ! -s "$T/fetched" ] && echo 0 || echo 1) \
	"before approval, fetch gives nothing"
sshcmd alice alice export approve "$id" >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "alice cannot approve her own request over SSH"
has_event "... which is a channel.denied" \
	"type='channel.denied' AND user='alice' AND details LIKE '%export approve%'"

# ---- approval, then the fetch ---------------------------------------------------------------
sshcmd dave dave export approve "$id" >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "an auditor cannot approve"
# ssh joins its arguments with blanks; the gateway splits them like a shell.
sshcmd carol carol export approve "$id" --note "'aggregated, fine'" >"$T/out" 2>&1
ok $? "ssh carol export approve $id"
grep -q "request $id approved" "$T/out"
ok $? "... says approved"
sshc alice alice -tt <"$T/in0" >"$T/out" 2>&1
grep -q "export request $id (table2.csv) approved: fetch it with \`export fetch $id\`" "$T/out"
ok $? "alice's login banner tells her request $id was approved"
sshcmd alice alice export fetch "$id" >"$T/fetched" 2>"$T/err"
ok $? "ssh alice export fetch $id > file"
[ "$(sha256sum <"$T/fetched" | cut -d' ' -f1)" = "$(sha256sum <"$WS/table2.csv" | cut -d' ' -f1)" ]
ok $? "... gives exactly the submitted bytes (SHA-256 equal, $(wc -c <"$T/fetched") bytes)"
has_event "the fetch is an export.fetch event" "type='export.fetch' AND user='alice'"
timeout 60 ssh -F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$T/known_hosts" \
	-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -tt -i "$T/keys/alice" -p "$PORT" \
	alice@127.0.0.1 export fetch "$id" </dev/null >"$T/out" 2>&1
ok $([ $? -eq 2 ] && grep -q "redirect it" "$T/out" && ! grep -q '^r0001,' "$T/out" && echo 0 || echo 1) \
	"on a terminal, fetch refuses (the file is not text for a terminal)"
sshcmd carol carol export fetch "$id" >"$T/out" 2>&1
ok $([ $? -ne 0 ] && ! grep -q '^r0001,' "$T/out" && echo 0 || echo 1) "the steward cannot fetch"
ctl user add bob --role researcher --key "$T/keys/bob.pub" >/dev/null &&
ctl project member add lung bob >/dev/null || bail "could not add bob"
sshcmd bob bob export fetch "$id" >"$T/bobs" 2>"$T/err"
ok $([ $? -ne 0 ] && [ ! -s "$T/bobs" ] && echo 0 || echo 1) "another researcher cannot fetch it"

# ---- the auditor --------------------------------------------------------------------------
sshcmd dave dave audit verify >"$T/out" 2>&1
ok $? "ssh dave audit verify says the trail is intact"
sshcmd dave dave audit events --type export.approve >"$T/out" 2>&1 && grep -q carol "$T/out"
ok $? "ssh dave audit events --type export.approve shows carol's approval"
sshcmd dave dave export list >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "an auditor cannot read the export queue"
sshcmd carol carol audit verify >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "a steward cannot run audit verbs"

# ---- the prompt ---------------------------------------------------------------------------
# Up (ESC [ A) then Enter runs the last command again.
printf 'help\nexport list\n\033[A\nhistory\n!1\nexit\n' >"$T/prompt.in"
sshc carol carol -tt <"$T/prompt.in" >"$T/out" 2>&1
ok $? "carol's interactive prompt ends with exit"
grep -q "saferoom> " "$T/out"
ok $? "... shows the saferoom> prompt"
grep -q "export approve ID" "$T/out" && ! grep -q "user add" "$T/out"
ok $? "... help lists her verbs and not the admin's"
[ "$(grep -c "table2.csv" "$T/out")" -ge 3 ]
ok $? "... runs export list, again with the Up key, and again from history (!1)"
grep -q '^ *2  export list' "$T/out"
ok $? "... and the Up key's command is in the history"
has_event "the prompt session is recorded" \
	"type='session.start' AND user='carol' AND json_extract(details,'$.kind')='prompt'"
