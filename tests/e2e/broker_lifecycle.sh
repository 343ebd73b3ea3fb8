#!/bin/sh
# broker_lifecycle.sh — saferoomd's admission limits and its life as a
# daemon, with small limits in its configuration: failure rate limits per
# user and per source address, the cap on connections not yet authenticated
# (max_startups), the login grace time, SIGHUP (a new configuration for new
# connections, running sessions untouched), SIGTERM (sessions end cleanly
# with session.end) and failing closed when the audit writer dies (running
# sessions end, nothing new gets in).  The real OpenSSH client throughout.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_tool "$SQLITE3"
require_tool python3
BROKER_CONF_EXTRA="max_startups 2
login_grace_time 20
auth_fail_window 300
auth_fail_max_user 3
auth_fail_max_source 6
auth_fail_block 300"
broker_setup
alice_uid=$(ctl user show alice --json | sed -n 's/.*"uid":\([0-9]*\).*/\1/p')
[ -n "$alice_uid" ] || bail "no uid for alice"
printf 'exit 7\n' >"$T/in7"

# sshc6 KEY USER ARGS...: like sshc, from ::1 (another source address).
sshc6() {
	_k=$1; _u=$2; shift 2
	timeout 60 ssh -F /dev/null -o StrictHostKeyChecking=accept-new \
		-o UserKnownHostsFile="$T/known_hosts" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o LogLevel=ERROR -o ConnectTimeout=10 -i "$T/keys/$_k" -p "$PORT" "$@" "$_u@::1"
}
alice_in() { sshc alice alice -tt <"$T/in7" >/dev/null 2>&1; [ $? -eq 7 ]; }
log_has() { # log_has TEXT: waits up to 5 s for TEXT in saferoomd's log
	_i=0
	while ! grep -q "$1" "$T/saferoomd.log" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	grep -q "$1" "$T/saferoomd.log"
}

# ---- failure rate limits ----------------------------------------------------------------
broker_keys gina
ctl user add gina --role researcher --key "$T/keys/gina.pub" >/dev/null &&
ctl project member add lung gina >/dev/null || bail "could not add gina"
for i in 1 2 3; do sshc bob gina -tt </dev/null >/dev/null 2>&1; done
i=0
while [ "$(events "type='auth.fail' AND user='gina'" | wc -l)" -lt 3 ] && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
sshc gina gina -tt <"$T/in7" >"$T/out" 2>&1
ok $([ $? -eq 255 ] && echo 0 || echo 1) \
	"after auth_fail_max_user (3) failures even gina's own key is refused"
grep -q "Permission denied (publickey)" "$T/out"
ok $? "... and she is told no more than sshd would say"
has_event "the refusal is an auth.fail rate-limited" \
	"type='auth.fail' AND user='gina' AND json_extract(details,'$.reason')='rate-limited'"
alice_in
ok $? "another user from the same address still gets in"

for i in 1 2 3 4 5 6; do sshc6 bob "nobody$i" -tt </dev/null >/dev/null 2>&1; done
# The monitor counts a failure as its connection ends: let the last one land.
i=0
while [ "$(events "type='auth.fail' AND source='::1'" | wc -l)" -lt 6 ] && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
sshc6 alice alice -tt <"$T/in7" >"$T/out" 2>&1
ok $([ $? -eq 255 ] && echo 0 || echo 1) \
	"after auth_fail_max_source (6) failures from ::1, alice's good key from ::1 is refused"
log_has "::1: refused, blocked after repeated failures"
ok $? "... before any byte is read (the master refuses the connection)"
alice_in
ok $? "alice from 127.0.0.1 still gets in: the block is per source"

# ---- connections not yet authenticated ----------------------------------------------------
# hold N FILE: N connections that read the server's banner and then say nothing.
hold() {
	python3 - "$PORT" "$1" "$2" <<'PY' &
import socket, sys, time
port, n, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(256)             # the banner: the master has forked this one's monitor
    socks.append(s)
open(flag, "w").close()
time.sleep(60)
PY
	HOLDER=$!
	on_exit "kill $HOLDER"
	_i=0
	while [ ! -e "$2" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -e "$2" ]
}
hold 2 "$T/held"
ok $? "two connections are open and unauthenticated (max_startups 2)"
sshc alice alice -tt <"$T/in7" >/dev/null 2>&1
ok $([ $? -eq 255 ] && echo 0 || echo 1) "a third connection is refused while they wait"
log_has "refused, 2 connections not yet authenticated"
ok $? "... and saferoomd says why"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
i=0
while ! alice_in && [ $i -lt 20 ]; do sleep 0.25; i=$((i + 1)); done
ok $([ $i -lt 20 ] && echo 0 || echo 1) "once they are gone, alice gets in again"

# ---- SIGHUP: new settings for new connections, sessions go on ------------------------------
# session_start: alice's shell, `sleep 300` typed in through a fifo kept open on fd 7;
# the client's exit status lands in $T/session.rc.
session_start() {
	rm -f "$T/fifo" "$T/session.rc"; mkfifo "$T/fifo"
	( sshc alice alice -tt <"$T/fifo" >"$T/session.out" 2>&1; echo $? >"$T/session.rc" ) &
	exec 7>"$T/fifo"
	echo 'sleep 300' >&7
	_i=0
	while ! pgrep -u "$alice_uid" -x sleep >/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	pgrep -u "$alice_uid" -x sleep >/dev/null
}
session_wait() { # waits up to 15 s for the client to end; prints its exit status
	_i=0
	while [ ! -s "$T/session.rc" ] && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
	cat "$T/session.rc" 2>/dev/null
}
no_sandbox() { # waits up to 10 s for alice's processes to vanish
	_i=0
	while [ "$(sandbox_procs "$alice_uid")" -gt 0 ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ "$(sandbox_procs "$alice_uid")" -eq 0 ]
}

session_start
ok $? "a session runs sleep 300 before the reload"
sed -i 's/^login_grace_time 20$/login_grace_time 2/' "$CONF"
kill -HUP "$SAFEROOMD_PID"
log_has "configuration reloaded"
ok $? "SIGHUP re-reads the configuration"
sleep 1
pgrep -u "$alice_uid" -x sleep >/dev/null && [ ! -s "$T/session.rc" ]
ok $? "the running session is still there after the reload"
python3 - "$PORT" >"$T/grace" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(30)
t0 = time.monotonic()
try:
    while s.recv(256):
        pass
except OSError:
    pass
print("%.1f" % (time.monotonic() - t0))
PY
grace=$(cat "$T/grace")
python3 -c "import sys; sys.exit(0 if 1.5 <= float('$grace') <= 8 else 1)"
ok $? "a connection that never authenticates is dropped after the new login_grace_time (2 s; took ${grace} s)"
log_has "login grace time over"
ok $? "... and saferoomd says why"
pkill -u "$alice_uid" -x sleep
echo 'exit 3' >&7
exec 7>&-
[ "$(session_wait)" = 3 ]
ok $? "the session begun before the reload ends normally, with its exit status"
has_event "... and its session.end says exit" \
	"type='session.end' AND user='alice' AND json_extract(details,'$.reason')='exit' AND json_extract(details,'$.status')=3"

# ---- SIGTERM: sessions end cleanly, with their end events ------------------------------------
ends_before=$(events "type='session.end' AND json_extract(details,'$.reason')='shutdown'" | wc -l)
session_start
ok $? "a session runs sleep 300 before SIGTERM"
kill -TERM "$SAFEROOMD_PID"
wait "$SAFEROOMD_PID"; rc=$?
SAFEROOMD_PID=
ok $rc "saferoomd exits 0 on SIGTERM"
[ -n "$(session_wait)" ]
ok $? "the client's session ended"
grep -q "the gateway is shutting down" "$T/session.out"
ok $? "... and the user was told the gateway is shutting down"
exec 7>&-
no_sandbox
ok $? "no sandbox process is left"
ends_after=$(events "type='session.end' AND json_extract(details,'$.reason')='shutdown'" | wc -l)
[ "$ends_after" -eq $((ends_before + 1)) ]
ok $? "the session has its session.end (reason shutdown) with the recording's hash"
[ -n "$(events "type='session.end' AND json_extract(details,'$.reason')='shutdown' AND json_extract(details,'$.recording_sha256') IS NOT NULL")" ]
ok $? "... which carries recording_sha256"

# ---- the audit writer dies: fail closed -----------------------------------------------------
broker_start
alice_in
ok $? "saferoomd started again serves alice"
session_start
ok $? "a session runs sleep 300 before the writer dies"
writer=""
for c in $(pgrep -P "$SAFEROOMD_PID"); do
	[ "$(readlink "/proc/$c/exe")" = "$(readlink -f "$AUDIT_WRITER")" ] && writer=$c
done
[ -n "$writer" ]
ok $? "the audit writer is a child of the master (pid ${writer:-none})"
[ -n "$writer" ] && kill -9 "$writer"
i=0
while kill -0 "$SAFEROOMD_PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
wait "$SAFEROOMD_PID"; rc=$?
SAFEROOMD_PID=
ok $([ "$rc" -ne 0 ] && [ "$rc" -ne 127 ] && echo 0 || echo 1) \
	"the master stops with a failure status (got $rc)"
grep -q "failing closed" "$T/saferoomd.log"
ok $? "... saying it is failing closed"
[ -n "$(session_wait)" ]
ok $? "the running session ended"
exec 7>&-
no_sandbox
ok $? "no sandbox process is left"
sshc alice alice -tt <"$T/in7" >/dev/null 2>&1
ok $([ $? -eq 255 ] && echo 0 || echo 1) "a new login is refused: nothing runs without a trail"
