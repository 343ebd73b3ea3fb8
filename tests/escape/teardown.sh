#!/bin/sh
# teardown.sh — when the command exits, or when the process holding the
# sandbox is killed with SIGKILL, every process in the sandbox is gone within
# a second, and no mount, cgroup or network namespace is left behind.
. "$SR_SRCDIR/tests/escape/lib-escape.sh"

mounts_before=$(wc -l </proc/self/mountinfo)

# The namespaces a process of the sandbox was in, as "net:[N] mnt:[M]".
ns_of_run() { cat "$(ws alpha)/ns.$1" 2>/dev/null; }

# Clock ticks since boot now; a process's start time is counted in the same.
TICKS=$(getconf CLK_TCK)
ticks_now() { awk -v t="$TICKS" '{ printf "%d", $1 * t }' /proc/uptime; }
ticks_started() { sed 's/.*) //' "$1/stat" 2>/dev/null | awk '{ print $20 }'; }

# 0 when a process on the host that started no later than tick $2 is in a
# namespace listed in file ns.$1.  Namespace numbers are reused as soon as a
# namespace is freed, and other tests make sandboxes at the same time: a
# process started after the sandbox was gone is never one of its own.
ns_in_use() {
	for _ns in $(ns_of_run "$1"); do
		for _p in /proc/[0-9]*; do
			case "$(readlink "$_p/ns/net" "$_p/ns/mnt" 2>/dev/null)" in
			*"$_ns"*) [ "$(ticks_started "$_p")" -le "$2" ] 2>/dev/null && return 0 ;;
			esac
		done
	done
	return 1
}

# Within the issue's second (10 x 0.1 s): an exiting process may still show
# its namespaces for a moment under load.
ns_gone() {
	[ -n "$(ns_of_run "$1")" ] || return 1
	_i=0
	while ns_in_use "$1" "$2"; do
		[ $_i -ge 10 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}

# Waits up to 1 s (10 x 0.1 s) for every trace of sandbox $1 (marker $2) to go.
all_gone() {
	_i=0
	while [ $_i -le 10 ]; do
		if ! pgrep -f "$2" >/dev/null && [ -z "$(cgroup_dirs "$1")" ]; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# 1. The command exits and leaves a background process behind.
MARKER=4711.$$
mark
sb alice alpha -- sh -c "sleep $MARKER & echo \$(readlink /proc/self/ns/net /proc/self/ns/mnt) > /project/ns.1; cat /proc/uptime > /project/up.1; exit 3"
ok $(( $? != 3 )) "the command's exit status comes back (3)"
S1=$(last_session)
all_gone "$S1" "sleep $MARKER"
ok $? "its background process and its cgroup are gone at once"
END1=$(awk -v t="$TICKS" '{ printf "%d", $1 * t + 1 }' "$(ws alpha)/up.1")
ns_gone 1 "$END1"
ok $? "its network and mount namespaces are gone ($(ns_of_run 1))"
[ "$(wc -l </proc/self/mountinfo)" -eq "$mounts_before" ]
ok $? "the host's mount table is unchanged"

# 2. The holding process is killed with SIGKILL while the sandbox runs.
MARKER=4712.$$
mark
sb alice alpha -- sh -c "echo \$(readlink /proc/self/ns/net /proc/self/ns/mnt) > /project/ns.2; sleep $MARKER & sleep $MARKER" &
RUNNER=$!
wait_trail "type = 'exec' AND details LIKE '%$MARKER%'" 100
S2=$(last_session)
HOLDER=$(pgrep -P $RUNNER)
[ -n "$S2" ] && [ -n "$HOLDER" ] && [ -n "$(cgroup_dirs "$S2")" ] && pgrep -f "sleep $MARKER" >/dev/null
ok $? "a sandbox runs: holder $HOLDER, cgroups $(cgroup_dirs "$S2" | wc -l), session $S2"
JANITOR=$(ps -o pid=,comm= --ppid "$HOLDER" | awk '$2 ~ /janito/ { print $1 }')
END2=$(ticks_now)
kill -9 "$HOLDER"
all_gone "$S2" "sleep $MARKER"
ok $? "after SIGKILL of the holder, its processes and cgroups are gone within a second"
wait $RUNNER 2>/dev/null
ns_gone 2 "$END2"
ok $? "... and its namespaces ($(ns_of_run 2))"
# Finished: gone, or a zombie waiting for whoever inherited it to reap it.
[ -n "$JANITOR" ] && ! ps -o stat= -p "$JANITOR" | grep -q '^[^Z]'
ok $? "the janitor ($JANITOR) cleaned up and finished"
[ "$(wc -l </proc/self/mountinfo)" -eq "$mounts_before" ]
ok $? "the host's mount table is unchanged"

# 3. SIGTERM to the holder is passed to the command, which ends the sandbox.
MARKER=4713.$$
mark
sb alice alpha -- sh -c "trap 'exit 42' TERM; sleep $MARKER & wait" &
RUNNER=$!
wait_trail "type = 'exec' AND details LIKE '%$MARKER%'" 100
kill -TERM "$(pgrep -P $RUNNER)"
wait $RUNNER
ok $(( $? != 42 )) "SIGTERM to the holder reaches the command (status 42)"
all_gone "$(last_session)" "sleep $MARKER"
ok $? "... and everything of that sandbox is gone"
