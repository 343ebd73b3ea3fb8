#!/bin/sh
# broker_disk.sh — a state disk below min_free_space refuses new sessions
# with a clear message instead of running them unrecorded, and a finished
# recording is kept compressed yet replays.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"

broker_setup
broker_stop
# More free space than any disk has: every session must be refused.
echo "min_free_space 1000T" >>"$CONF"
broker_start

printf 'echo should-not-run; exit 0\n' >"$T/in"
sshc alice alice -tt <"$T/in" >"$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && ! grep -q "should-not-run" "$T/out"
ok $? "the shell does not start (exit $rc)"
grep -q "audit trail cannot be written" "$T/out"
ok $? "the researcher is told why"
[ -z "$(events "type='session.start' AND user='alice'")" ]
ok $? "no session.start was recorded"
grep -q "free" "$T/saferoomd.log"
ok $? "the daemon's log names the free space"

# Room again: sessions start, and their recordings end up gzip'd.  A monitor
# killed with SIGKILL leaves its export socket directory: a restart clears it.
broker_stop
sed -i '/^min_free_space /d' "$CONF"
mkdir -p "$T/state/run/stale-session" && : >"$T/state/run/stale-session/export.sock"
broker_start
[ ! -e "$T/state/run/stale-session" ]
ok $? "a restart clears stale export socket directories"
printf 'echo room-again; exit 0\n' >"$T/in"
sshc alice alice -tt <"$T/in" >"$T/out" 2>&1
ok $? "with space, the session runs"
has_event "and ends recorded" "type='session.end' AND user='alice'"
i=0
while ! ls "$T/state/recordings/"*.cast.gz >/dev/null 2>&1 && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
ls "$T/state/recordings/"*.cast.gz >/dev/null 2>&1
ok $? "the finished recording is compressed"
