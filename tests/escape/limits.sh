#!/bin/sh
# limits.sh — a fork bomb, a memory bomb, filling /tmp, a file beyond the
# size cap and a CPU spin beyond the wall-clock limit are each stopped by
# their limit and leave a limit.hit event; the cgroup carries the project's
# limits while the sandbox runs; core dumps are off.
. "$SR_SRCDIR/tests/escape/lib-escape.sh"

set_limit alpha pids 64
set_limit alpha memory 64M
set_limit alpha tmp_size 8M
set_limit alpha max_file_size 16M
set_limit alpha cpu 50
set_limit alpha max_session 3

hit() { new_events limit.hit | grep -q "\"limit\":\"$1\""; }

# While a sandbox runs, its cgroup holds the limits.
mark
sb alice alpha -- sleep 30 >/dev/null 2>&1 &
RUNNER=$!
wait_trail "type = 'exec' AND details LIKE '%\"sleep\"%'" 100
SESSION=$(last_session)
DIRS=$(cgroup_dirs "$SESSION")
ok $(( $(echo "$DIRS" | grep -c .) == 0 )) "the sandbox has cgroup directories ($(echo $DIRS))"
if [ -d "/sys/fs/cgroup/saferoom/$SESSION" ]; then
	C=/sys/fs/cgroup/saferoom/$SESSION
	[ "$(cat $C/pids.max)" = 64 ] && [ "$(cat $C/memory.max)" = $((64 << 20)) ] &&
		[ "$(cat $C/cpu.max)" = "50000 100000" ]
	ok $? "cgroup v2: pids.max 64, memory.max 64M, cpu.max 50000 100000"
else
	[ "$(cat /sys/fs/cgroup/pids/saferoom/$SESSION/pids.max)" = 64 ] &&
		[ "$(cat /sys/fs/cgroup/memory/saferoom/$SESSION/memory.limit_in_bytes)" = $((64 << 20)) ] &&
		[ "$(cat /sys/fs/cgroup/cpu/saferoom/$SESSION/cpu.cfs_quota_us)" = 50000 ]
	ok $? "cgroup v1: pids.max 64, memory limit 64M, cfs quota 50000/100000"
fi
kill -TERM "$(pgrep -P $RUNNER)" 2>/dev/null
wait $RUNNER

mark
sb alice alpha -- $PROBE forkbomb >"$T/out" 2>&1
grep -q "fork refused after [0-9]* children" "$T/out" &&
	[ "$(sed -n 's/.*after \([0-9]*\) children.*/\1/p' "$T/out")" -lt 64 ]
ok $? "a fork bomb is stopped by the pids limit ($(cat "$T/out"))"
hit pids
ok $? "... with a limit.hit event for pids"

mark
start=$(date +%s)
sb alice alpha -- sh -c 'b() { b | b & }; b; sleep 10' >/dev/null 2>&1
rc=$?
[ $(( $(date +%s) - start )) -le 10 ]
ok $? "a shell fork bomb is contained and ends at the wall-clock limit (status $rc)"
hit pids
ok $? "... with a limit.hit event for pids"

mark
sb alice alpha -- $PROBE membomb >"$T/out" 2>&1
ok $(( $? != 137 )) "a memory bomb is killed by the memory limit"
hit memory
ok $? "... with a limit.hit event for memory"

mark
sb alice alpha -- $PROBE filltmp >"$T/out" 2>&1
grep -q "No space left on device" "$T/out"
ok $? "filling /tmp stops at its size ($(cat "$T/out"))"
hit tmp
ok $? "... with a limit.hit event for tmp"

check "a file beyond max_file_size cannot be written" -- \
	sb alice alpha -- sh -c '! dd if=/dev/zero of=/project/big bs=1M count=20 2>/dev/null; [ "$(stat -c %s /project/big)" -le 16777216 ]'
check "core dumps are off" -- sb alice alpha -- sh -c '[ "$(ulimit -c)" = 0 ]'

mark
start=$(date +%s)
sb alice alpha -- $PROBE spin >/dev/null 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[ $rc -eq 137 ] && [ $elapsed -ge 2 ] && [ $elapsed -le 8 ]
ok $? "a CPU spin is killed at the wall-clock limit (3 s; took $elapsed s, status $rc)"
hit wall_clock
ok $? "... with a limit.hit event for wall_clock"

# Last, since it stays set: a pty session with no input ends at the idle timeout.
set_limit alpha idle_timeout 2
mark
start=$(date +%s)
sb alice alpha --pty -- sleep 30 </dev/null >/dev/null 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[ $rc -eq 137 ] && [ $elapsed -le 8 ]
ok $? "a terminal session without input ends at the idle timeout (2 s; took $elapsed s)"
hit idle
ok $? "... with a limit.hit event for idle"
