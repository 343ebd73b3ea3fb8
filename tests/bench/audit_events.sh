#!/bin/sh
# audit_events.sh — durable audit events per second through saferoom's audit
# writer (hash-chained, group-committed, acknowledged) beside what four
# processes get from SQLite directly with no chain at all (the baseline).
#
# Everything is durable: WAL with synchronous=FULL on both sides.  Each
# configuration runs SR_BENCH_REPEAT times (default 3) and the median counts.
#   writer, pipelined   4 producers send ASYNC and flush at the end
#   writer, each acked  4 producers send every event DURABLE (one in flight each)
#   raw, 1 per txn      4 processes, one transaction per event
#   raw, batched        4 processes, SR_BENCH_BATCH events per transaction
# Sizes: SR_BENCH_N events per pipelined/batched run (default 400000),
# SR_BENCH_N_EACH per one-at-a-time run (default 8000).
set -u
: "${SR_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SR_BUILDDIR:=$SR_SRCDIR}"
WRITER="$SR_BUILDDIR/saferoom-audit-writer"
PRODUCER="$SR_BUILDDIR/tests/tools/audit-producer"
RAW="$SR_BUILDDIR/tests/bench/audit-raw-sqlite"
REPEAT=${SR_BENCH_REPEAT:-3}
N=${SR_BENCH_N:-400000}
N_EACH=${SR_BENCH_N_EACH:-8000}
BATCH=${SR_BENCH_BATCH:-1000}
PAD=40     # details like {"i":123,"pad":"000...0"}: about the size of an exec event's
PROCS=4

for f in "$WRITER" "$PRODUCER" "$RAW"; do
	[ -x "$f" ] || { echo "audit_events.sh: $f missing (make check builds it)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/sr-bench-XXXXXX) || exit 1
wpid=""
cleanup() {
	[ -n "$wpid" ] && kill -9 "$wpid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ns() { date +%s%N; }

# writer_run N EVERY: one run through a fresh writer; prints events/s.
writer_run() {
	rm -rf "$W/s"
	mkdir -m 0700 "$W/s"
	"$WRITER" -d "$W/s" -s 3600 2>"$W/writer.err" &
	wpid=$!
	while [ ! -S "$W/s/audit.sock" ]; do
		kill -0 "$wpid" 2>/dev/null || { cat "$W/writer.err" >&2; exit 1; }
		sleep 0.02
	done
	per=$(($1 / PROCS))
	t0=$(now_ns)
	pids=""
	for p in $(seq 1 $PROCS); do
		"$PRODUCER" -d "$W/s" -n "$per" -k "$2" -p $PAD -t "b$p" >/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || { echo "audit_events.sh: a producer failed" >&2; exit 1; }
	done
	t1=$(now_ns)
	kill -TERM "$wpid"
	wait "$wpid"
	wpid=""
	echo $((per * PROCS * 1000000000 / (t1 - t0)))
}

# raw_run N BATCH: prints events/s.
raw_run() {
	rm -f "$W/raw.db" "$W/raw.db-wal" "$W/raw.db-shm"
	"$RAW" -f "$W/raw.db" -n "$1" -p $PROCS -b "$2" -P $PAD |
		sed -n 's/.*: \([0-9]*\) events\/s$/\1/p'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench NAME CMD...: runs CMD REPEAT times, prints every result and the median.
bench() {
	name=$1
	shift
	: >"$W/results"
	for r in $(seq 1 "$REPEAT"); do
		"$@" >>"$W/results" || exit 1
	done
	m=$(median <"$W/results")
	printf '  %-34s %9s events/s   (runs: %s)\n' "$name" "$m" "$(tr '\n' ' ' <"$W/results")"
	last=$m
}

echo "audit events, $PROCS producer processes, WAL + synchronous=FULL, median of $REPEAT"
bench "writer, pipelined (async+flush)" writer_run "$N" 0
w_pipe=$last
bench "writer, every event acked" writer_run "$N_EACH" 1
w_each=$last
bench "raw SQLite, 1 txn per event" raw_run "$N_EACH" 1
r_each=$last
bench "raw SQLite, $BATCH per txn" raw_run "$N" "$BATCH"
r_batch=$last
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "  writer pipelined / raw batched:    $(ratio "$w_pipe" "$r_batch")"
echo "  writer each acked / raw per event: $(ratio "$w_each" "$r_each")"
echo "  (the writer also computes the SHA-256 chain and checks every event; raw does neither)"
