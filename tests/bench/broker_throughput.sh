#!/bin/sh
# broker_throughput.sh — 256 MiB printed by the shell through the pty to the
# ssh client, saferoomd (recording the session, filtering OSC 52) against
# OpenSSH sshd + a bubblewrap ForceCommand with the same binds.  Prints the
# median MiB/s of each and the ratio saferoom/sshd; aim: 0.8 or above.
# Root only; `make bench` runs it.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
. "$SR_SRCDIR/tests/bench/broker-bench-lib.sh"
: "${BENCH_MIB:=256}"
: "${BENCH_FLOW_ROUNDS:=3}"
bench_setup
# 64-byte lines of text, as a program printing a table would.
printf 'yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY | head -c %d; exit 0\n' \
	$((BENCH_MIB * 1048576)) >"$T/flood.in"

# once SSH-FUNCTION FILE: adds the ns of the whole flood to FILE; checks the bytes arrived.
once() {
	_t0=$(now_ns)
	"$1" -tt <"$T/flood.in" 2>/dev/null | wc -c >"$T/bytes"
	_t=$(( $(now_ns) - _t0 ))
	[ "$(cat "$T/bytes")" -ge $((BENCH_MIB * 1048576)) ] || bail "$1: only $(cat "$T/bytes") bytes arrived"
	echo "$_t" >>"$2"
}
mibs() { awk -v ns="$1" -v m="$BENCH_MIB" 'BEGIN { printf "%.1f", m / (ns / 1e9) }'; }
: >"$T/sr.ns"; : >"$T/base.ns"
i=0
while [ $i -lt "$BENCH_FLOW_ROUNDS" ]; do
	once sr_ssh "$T/sr.ns"
	# Each recording is as big as the flood: keep the disk from filling.
	rm -f "$T/state/recordings/"*
	once base_ssh "$T/base.ns"
	i=$((i + 1))
done
sr=$(mibs "$(median <"$T/sr.ns")"); base=$(mibs "$(median <"$T/base.ns")")
diag "== broker: $BENCH_MIB MiB through the pty ($BENCH_FLOW_ROUNDS rounds each)"
diag "$(printf '  %-40s median %7s MiB/s' 'saferoomd (recorded)' "$sr")"
diag "$(printf '  %-40s median %7s MiB/s' 'sshd + bwrap ForceCommand' "$base")"
diag "  ratio saferoomd/sshd: $(ratio "$sr" "$base")   (aim: >= 0.80)"
