#!/bin/bash
# sandbox_start.sh — saferoom's sandbox side by side with bubblewrap
# (`bwrap --unshare-all` with the same binds), in one run:
#   (1) start and exit of /bin/true;                  aim: ratio <= 0.8
#   (2) a 2000-exec shell loop with exec logging, without it, and under bwrap;
#       aim: logging costs at most 10%.
# Prints medians (ms) and ratios.  Root only; `make bench` runs it.  The
# audit writer runs, as under saferoomd, so that exec events are group-committed.
# saferoom's side is tests/tools/sandbox-run: the sandbox library's start, as
# a monitor of saferoomd calls it, plus an exec of a program that links what
# the library needs (libseccomp, libcap, json-c; no SQLite, no libcrypto).
# A session pays less (its monitor is already running); `saferoomctl sandbox
# run` pays more (it loads everything saferoomctl links and reads policy.db).
# bash for $EPOCHREALTIME: a clock read that forks nothing, so that the
# harness adds almost nothing to either contender's time (date(1) before and
# after each run added two processes, which shrank every ratio towards 1).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"   # make bench runs it with sh
set -eu
: "${SR_BUILDDIR:=.}"
RUN="$SR_BUILDDIR/tests/tools/sandbox-run"
WRITER="$SR_BUILDDIR/saferoom-audit-writer"
STARTS=${SR_BENCH_STARTS:-60}
LOOPS=${SR_BENCH_LOOPS:-7}
[ "$(id -u)" -eq 0 ] || { echo "sandbox_start: needs root" >&2; exit 1; }
[ -x "$RUN" ] || { echo "sandbox_start: build it first: make check" >&2; exit 1; }
command -v bwrap >/dev/null || { echo "sandbox_start: needs bwrap (bubblewrap)" >&2; exit 1; }

T=$(mktemp -d /tmp/sr-bench-sandbox-XXXXXX)
WPID=""
trap '[ -n "$WPID" ] && kill $WPID; rm -rf "$T"' EXIT
mkdir -m 0700 "$T/state"
mkdir -p "$T/data/cohort" "$T/ws"
echo "id,age" >"$T/data/cohort/table.csv"
chown 0:62001 "$T/ws"
chmod 2770 "$T/ws"

mkfifo "$T/ready"
"$WRITER" -d "$T/state" -R 3 3>"$T/ready" 2>"$T/writer.err" &
WPID=$!
[ "$(timeout 10 head -c 1 "$T/ready")" = R ] || { echo "audit writer did not start" >&2; exit 1; }

n=0
saferoom() { # [--no-exec-log] -- CMD...
	n=$((n + 1))
	"$RUN" --user alice --uid 61001 --project alpha --gid 62001 --session "bench-$$-$n" \
		--workspace "$T/ws" --home home/alice --state-dir "$T/state" \
		--dataset cohort="$T/data/cohort" --cgroup-parent saferoom-bench \
		--memory 1G --pids 512 --tmp-size 64M "$@"
}

# The same view of the host as saferoom's mount plan (sandbox/mounts.c): /usr
# read-only with the merged-/usr links, the same /etc entries read-only,
# passwd, group, hostname and hosts as files of the new root (saferoom writes
# its own; bwrap copies the host's with --file), the dataset read-only, the
# workspace read-write, a sized /tmp, a minimal /dev with its own devpts, a
# fresh /proc with /proc/sys read-only and the same host-revealing files
# masked, /var/tmp, every namespace new.  Kept in step with mounts.c by hand: when the
# plan changes, change this too, or the comparison flatters one side.
SYS=""
for e in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$e" ]; then
		SYS="$SYS --symlink $(readlink "/$e") /$e"
	elif [ -d "/$e" ]; then
		SYS="$SYS --ro-bind /$e /$e"
	fi
done
ETC=""
for e in alternatives bash.bashrc debian_version fonts gai.conf host.conf inputrc ld.so.cache \
	ld.so.conf ld.so.conf.d locale.alias localtime magic magic.mime mime.types nsswitch.conf \
	os-release profile profile.d protocols python3 services terminfo timezone vim; do
	[ -e "/etc/$e" ] && ETC="$ETC --ro-bind /etc/$e /etc/$e"
done
PROC=""
# (bwrap's --proc already makes sys, sysrq-trigger, irq and bus read-only)
for e in kcore kmsg keys timer_list sched_debug latency_stats; do
	[ -e "/proc/$e" ] && PROC="$PROC --ro-bind /dev/null /proc/$e"
done
echo "alpha" >"$T/hostname"
printf '127.0.0.1\tlocalhost alpha\n::1\tlocalhost\n' >"$T/hosts"
bw() {
	# shellcheck disable=SC2086
	bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL \
		--ro-bind /usr /usr $SYS $ETC \
		--file 10 /etc/passwd --file 11 /etc/group --file 12 /etc/hostname \
		--file 13 /etc/hosts \
		--ro-bind "$T/data/cohort" /data/cohort --bind "$T/ws" /project \
		--size $((64 << 20)) --tmpfs /tmp --dev /dev --proc /proc \
		$PROC --symlink /tmp /var/tmp \
		--hostname alpha --uid 61001 --gid 62001 --chdir /project "$@" \
		10</etc/passwd 11</etc/group 12<"$T/hostname" 13<"$T/hosts"
}

# For reference only (no aim): a lighter view than saferoom's, the ten /etc
# entries a shell needs and nothing masked in /proc.  bwrap's cost grows with
# every read-only bind (it reads mountinfo for each), so this shows how much
# of the ratio above comes from the size of the view.
bw_light() {
	# shellcheck disable=SC2086
	bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL \
		--ro-bind /usr /usr $SYS $ETC_LIGHT \
		--ro-bind "$T/data/cohort" /data/cohort --bind "$T/ws" /project \
		--tmpfs /tmp --proc /proc --dev /dev --hostname alpha \
		--uid 61001 --gid 62001 --chdir /project "$@"
}
ETC_LIGHT=""
for e in alternatives bash.bashrc ld.so.cache ld.so.conf ld.so.conf.d localtime nsswitch.conf \
	passwd group profile; do
	[ -e "/etc/$e" ] && ETC_LIGHT="$ETC_LIGHT --ro-bind /etc/$e /etc/$e"
done

# The machines are noisy: the contenders run interleaved, round by round, so
# that drift in the machine's load hits each of them alike; medians count.

# time_into FILE CMD...: runs CMD once and appends its wall time in ms to FILE.
time_into() {
	local f=$1 t0 t1
	shift
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>&1 || { echo "$* failed" >&2; exit 1; }
	t1=${EPOCHREALTIME/./}
	awk -v d=$((10#$t1 - 10#$t0)) 'BEGIN { printf "%.3f\n", d / 1000 }' >>"$f"
}

# med FILE: the median of the numbers in FILE.
med() {
	sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

show() { printf '  %-44s median %8s ms  (%s runs)\n' "$1" "$2" "$3"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== sandbox: start and exit of /bin/true"
: >"$T/t.sr"; : >"$T/t.bw"; : >"$T/t.bwl"
i=0
while [ $i -lt "$STARTS" ]; do
	time_into "$T/t.sr" saferoom -- /bin/true
	time_into "$T/t.bw" bw /bin/true
	time_into "$T/t.bwl" bw_light /bin/true
	i=$((i + 1))
done
SR=$(med "$T/t.sr"); BW=$(med "$T/t.bw"); BWL_START=$(med "$T/t.bwl")
show "saferoom (exec logging on)" "$SR" "$STARTS"
show "bwrap --unshare-all, the same binds" "$BW" "$STARTS"
show "bwrap, a lighter view (reference)" "$BWL_START" "$STARTS"
echo "  ratio saferoom/bwrap: $(ratio "$SR" "$BW")   (aim: <= 0.8)"
echo "  ratio saferoom/bwrap with the lighter view: $(ratio "$SR" "$BWL_START")   (no aim)"

LOOP='i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i + 1)); done'
echo "== sandbox: a 2000-exec shell loop"
: >"$T/l.on"; : >"$T/l.off"; : >"$T/l.bw"
i=0
while [ $i -lt "$LOOPS" ]; do
	time_into "$T/l.on" saferoom -- sh -c "$LOOP"
	time_into "$T/l.off" saferoom --no-exec-log -- sh -c "$LOOP"
	time_into "$T/l.bw" bw sh -c "$LOOP"
	i=$((i + 1))
done
ON=$(med "$T/l.on"); OFF=$(med "$T/l.off"); BWL=$(med "$T/l.bw")
show "saferoom, exec logging on" "$ON" "$LOOPS"
show "saferoom, exec logging off" "$OFF" "$LOOPS"
show "bwrap --unshare-all, the same binds" "$BWL" "$LOOPS"
echo "  logging cost (on/off): $(ratio "$ON" "$OFF")   (aim: <= 1.10)"
echo "  saferoom with logging / bwrap: $(ratio "$ON" "$BWL")"
echo "  exec events written: $(sqlite3 "$T/state/audit.db" "SELECT count(*) FROM events WHERE type = 'exec'" 2>/dev/null || echo '?')"
