#!/bin/sh
# broker_channels.sh — nothing else gets out: every refused request gets a
# clear message and a channel.denied event (exec, sftp, scp, forwarding of
# every kind, X11, agent, environment), and clipboard sequences (OSC 52)
# never reach the client.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_tool curl
require_tool "$SQLITE3"
require_tool sftp
broker_setup

denied() { # denied DESC WHAT
	has_event "$1" "type='channel.denied' AND user='alice' AND json_extract(details,'$.what')='$2'"
}

sshcmd alice alice 'cat /data/cohort/patients.csv' >"$T/out" 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && [ ! -s "$T/out" ] && grep -q "cannot be run" "$T/err"
ok $? "an arbitrary command is refused with a message and no output"
denied "... and recorded as channel.denied exec" exec

timeout 30 sftp -F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$T/known_hosts" \
	-o BatchMode=yes -o IdentitiesOnly=yes -i "$T/keys/alice" -P "$PORT" \
	alice@127.0.0.1:/data/cohort/patients.csv "$T/got.csv" >/dev/null 2>&1
[ $? -ne 0 ] && [ ! -e "$T/got.csv" ]
ok $? "sftp gets nothing"
denied "... and is recorded as channel.denied sftp" sftp

timeout 30 scp -O -F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$T/known_hosts" \
	-o BatchMode=yes -o IdentitiesOnly=yes -i "$T/keys/alice" -P "$PORT" \
	alice@127.0.0.1:/data/cohort/patients.csv "$T/got2.csv" >/dev/null 2>&1
[ $? -ne 0 ] && [ ! -e "$T/got2.csv" ]
ok $? "legacy scp gets nothing"
denied "... and is recorded as channel.denied scp" scp

# Local forwarding (-W is the same direct-tcpip channel as -L and -D).
sshc alice alice -W 127.0.0.1:"$PORT" </dev/null >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "a direct-tcpip channel (-W/-L) is refused"
denied "... and recorded as channel.denied forward-local" forward-local

# Dynamic forwarding through a SOCKS client.
lport=$((PORT + 1))
sshc alice alice -N -D 127.0.0.1:$lport >/dev/null 2>&1 &
fwd=$!
i=0; while ! ss -Hltn "sport = :$lport" | grep -q . && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
curl -s -m 5 --socks5 127.0.0.1:$lport http://127.0.0.1:$PORT/ >/dev/null 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "a dynamic (SOCKS) forward is refused"
kill $fwd 2>/dev/null; wait $fwd 2>/dev/null

sshc alice alice -N -o ExitOnForwardFailure=yes -R 127.0.0.1:0:127.0.0.1:22 >"$T/out" 2>&1
ok $([ $? -ne 0 ] && echo 0 || echo 1) "remote forwarding is refused"
denied "... and recorded as channel.denied forward-remote" forward-remote

# Agent and X11 ride along with a shell; the shell still works, they do not.
eval "$(ssh-agent -s)" >/dev/null
on_exit "kill $SSH_AGENT_PID"
printf 'echo "agent=[$SSH_AUTH_SOCK] display=[$DISPLAY]"; exit 0\n' >"$T/in"
DISPLAY=:42 sshc alice alice -tt -A -o ForwardX11=yes -o ForwardX11Trusted=yes \
	-o XAuthLocation=/nonexistent <"$T/in" >"$T/out" 2>&1
grep -q "agent=\[\] display=\[\]" "$T/out"
ok $? "the shell gets neither an agent socket nor a DISPLAY"
denied "agent forwarding is recorded as channel.denied agent" agent
denied "X11 forwarding is recorded as channel.denied x11" x11

# Environment: locale passes, anything else is refused and recorded.
printf 'echo "lang=[$LANG] foo=[$FOO]"; exit 0\n' >"$T/in"
sshc alice alice -tt -o SetEnv="LANG=C.UTF-8 FOO=bar" <"$T/in" >"$T/out" 2>&1
grep -q "foo=\[\]" "$T/out"
ok $? "FOO does not reach the shell"
has_event "FOO is recorded as channel.denied env" \
	"type='channel.denied' AND json_extract(details,'$.what')='env' AND json_extract(details,'$.detail')='FOO'"
[ -z "$(events "type='channel.denied' AND json_extract(details,'$.detail')='LANG'")" ]
ok $? "LANG is not a refusal"

# OSC 52: a program inside tries to write the client's clipboard.
# The payload is printed in two halves, so that the terminal's echo of the
# typed command does not contain it whole.
printf 'printf "A\\033]52;c;%%s%%s\\007B\\n" c2Vj cmV0; exit 0\n' >"$T/in"
sshc alice alice -tt <"$T/in" >"$T/out" 2>&1
grep -q "AB" "$T/out" && ! grep -q "c2VjcmV0" "$T/out"
ok $? "the OSC 52 sequence is stripped from the output, the text around it is not"
denied "... and the attempt is recorded as channel.denied osc52" osc52
