#!/bin/sh
# broker_sessions.sh — researcher sessions end to end: recorded (asciicast
# that asciinema replays, its hash in session.end), in the kernel audit log
# (the login, and every exec as USER_CMD), twenty at once, and never
# outliving the broker process that holds them (kill -9 of the master, a
# monitor or a net child mid-session).
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_tool "$SQLITE3"
: "${ASCIINEMA:=asciinema}"
require_tool "$ASCIINEMA"
require_tool script
# auditd (shared: use_auditd takes turns) runs before the broker, as on a
# real host, so that its writer sends exec records from the first one.
use_auditd
broker_setup
alice_uid=$(ctl user show alice --json | sed -n 's/.*"uid":\([0-9]*\).*/\1/p')
[ -n "$alice_uid" ] || bail "no uid for alice"

# One recorded session.
printf 'echo marker-$((6*7)); exit 0\n' >"$T/in"
sshc alice alice -tt <"$T/in" >"$T/out" 2>&1
ok $? "a session runs and exits 0"
has_event "session.start and session.end are recorded" "type='session.end' AND user='alice'"
rec=$(events "type='session.end' AND user='alice'" | sed -n 's/.*"recording":"\([^"]*\)".*/\1/p' | tail -n 1)
sha=$(events "type='session.end' AND user='alice'" | sed -n 's/.*"recording_sha256":"\([0-9a-f]*\)".*/\1/p' | tail -n 1)
# A finished recording is kept gzip'd (by a child of the monitor, once the
# client has its exit status); the chain names the plain bytes' hash.
i=0
while [ ! -f "$T/state/recordings/$rec.gz" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -n "$rec" ] && [ -f "$T/state/recordings/$rec.gz" ] && [ ! -e "$T/state/recordings/$rec" ]
ok $? "the recording exists, compressed once the session ended"
[ "$(zcat "$T/state/recordings/$rec.gz" | sha256sum | cut -d' ' -f1)" = "$sha" ]
ok $? "session.end holds the recording's SHA-256"
sid=$("$SQLITE3" -readonly "$T/state/audit.db" \
	"SELECT session FROM events WHERE type='session.end' AND user='alice' ORDER BY seq DESC LIMIT 1")
ctl audit replay "$sid" >"$T/rec.cast"
ok $? "audit replay gives the recording back, hash checked"
# asciinema cat insists on a /dev/tty; script(1) lends it one.
script -qec "'$ASCIINEMA' cat '$T/rec.cast' >'$T/replay'" /dev/null \
	</dev/null >/dev/null 2>&1
grep -q "marker-42" "$T/replay"
ok $? "asciinema cat replays the session's output"

# The kernel audit log has the login.
sshc alice alice -tt <"$T/in" >/dev/null 2>&1
find_audit_record USER_LOGIN "acct=alice" -i
ok $? "ausearch finds alice's USER_LOGIN"
# ... and every exec in her sandbox, as a USER_CMD record the audit writer
# sends once the exec event is in the chain.
m="usercmd-$$"
printf '/bin/echo %s; exit 0\n' "$m" >"$T/in2"
sshc alice alice -tt <"$T/in2" >/dev/null 2>&1
find_audit_record USER_CMD "$m" -i && grep "acct=alice" "$T/found" >"$T/ucmd"
ok $? "ausearch finds the exec of alice's command as a USER_CMD"
grep -Eq 'saferoom_exe="?/bin/echo[" ]' "$T/ucmd" && grep -Eq 'cwd="?/project/home/alice[" ]' "$T/ucmd" &&
	grep -q "res=success" "$T/ucmd"
ok $? "... naming the executable and cwd as the sandbox sees them ($(head -c 400 "$T/ucmd"))"

# Twenty sessions at once.
printf 'sleep 2; exit 5\n' >"$T/in20"
i=0
while [ $i -lt 20 ]; do
	( sshc alice alice -tt <"$T/in20" >/dev/null 2>&1; echo $? >"$T/rc.$i" ) &
	clients="${clients:-} $!"
	i=$((i + 1))
done
for p in $clients; do wait "$p"; done
good=$(cat "$T"/rc.* | grep -c '^5$')
ok $([ "$good" -eq 20 ] && echo 0 || echo 1) "twenty concurrent sessions all ran (got $good)"

# kill -9 mid-session: no process of the sandbox may survive.
gone() { # gone DESC: waits up to 10 s for alice's processes to vanish
	i=0
	while [ "$(sandbox_procs "$alice_uid")" -gt 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ok $([ "$(sandbox_procs "$alice_uid")" -eq 0 ] && echo 0 || echo 1) "$1"
}
# The shell gets `sleep 300` typed in through a fifo.
session_with_sleep() {
	rm -f "$T/fifo"; mkfifo "$T/fifo"
	( sshc alice alice -tt <"$T/fifo" >/dev/null 2>&1 ) &
	exec 7>"$T/fifo"
	echo 'sleep 300' >&7
	i=0
	while ! pgrep -u "$alice_uid" -x sleep >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	pgrep -u "$alice_uid" -x sleep >/dev/null
}
monitor_of_session() { # the monitor: the master's child that has a sandbox below it
	for c in $(pgrep -P "$SAFEROOMD_PID"); do
		[ "$(cat /proc/$c/comm)" = saferoomd ] && pgrep -P "$c" >/dev/null && [ "$(pgrep -P "$c" | wc -l)" -ge 2 ] && { echo "$c"; return; }
	done
}
netchild_of() { # the child of a monitor running as the saferoom user
	for c in $(pgrep -P "$1"); do
		[ "$(stat -c %U /proc/$c)" = saferoom ] && { echo "$c"; return; }
	done
}

session_with_sleep; ok $? "a session with a running sleep (net child case)"
mon=$(monitor_of_session); net=$(netchild_of "$mon")
[ -n "$net" ] && kill -9 "$net"
exec 7>&-
gone "kill -9 of the net child leaves no sandbox process"
has_event "... and the session still ends with session.end" \
	"type='session.end' AND json_extract(details,'$.reason')='disconnect'"

session_with_sleep; ok $? "a session with a running sleep (monitor case)"
mon=$(monitor_of_session)
[ -n "$mon" ] && kill -9 "$mon"
exec 7>&-
gone "kill -9 of the monitor leaves no sandbox process"

session_with_sleep; ok $? "a session with a running sleep (master case)"
kill -9 "$SAFEROOMD_PID"; wait "$SAFEROOMD_PID" 2>/dev/null; SAFEROOMD_PID=
exec 7>&-
gone "kill -9 of the master leaves no sandbox process"
