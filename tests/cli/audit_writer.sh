#!/bin/sh
# audit_writer.sh — the single audit writer against real producer processes:
# group commit under concurrency, acks that mean durable (kill -9 mid-burst),
# one writer per state directory, fail closed when the disk is full, peers
# that may not write, malformed messages, seals, and the local fallback.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${SQLITE3:=sqlite3}"
require_tool python3
PRODUCER="$SR_BUILDDIR/tests/tools/audit-producer"
S="$T/state"
mkdir -m 0700 "$S"
CONF=$(make_conf 2222 1)

# Every process this test starts is a job of this shell; none may outlive it.
on_exit 'for j in $(jobs -p); do kill -9 $j; done'

q() { "$SQLITE3" "$S/audit.db" "$@"; }

# Starts a writer on $S (extra args allowed) and waits for its ready byte.
start_writer() {
	rm -f "$T/ready"
	mkfifo "$T/ready"
	"$AUDIT_WRITER" -d "$S" -R 3 "$@" 3>"$T/ready" 2>>"$T/writer.err" &
	WPID=$!
	READY=$(timeout 10 head -c 1 "$T/ready")
	[ "$READY" = R ]
}

# Stops the writer with SIGTERM and leaves its exit status in WRC.
stop_writer() {
	kill -TERM "$WPID"
	wait "$WPID"
	WRC=$?
}

# An independent implementation of the chain (audit.h) recomputes every hash,
# then `saferoomctl audit verify` checks the chain and the witness seals.
chain_ok() {
	python3 - "$S/audit.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
prev, want = bytes(32), 1
def ns(v):
    b = str(v if v is not None else "").encode()
    return str(len(b)).encode() + b":" + b + b","
for row in db.execute("SELECT seq, time_ms, type, user, project, session, source,"
                      " datasets, details, prev_hash, hash FROM events ORDER BY seq"):
    if row[0] != want or bytes(row[9]) != prev:
        sys.exit("seq %d: gap or broken link" % row[0])
    h = hashlib.sha256(prev + b"".join(ns(v) for v in row[:9])).digest()
    if h != bytes(row[10]):
        sys.exit("seq %d: hash mismatch" % row[0])
    prev, want = h, want + 1
print("intact, %d events" % (want - 1))
PY
	[ $? -eq 0 ] || return 1
	# And saferoom's own verifier, which also checks the seals in audit.seals.
	"$SAFEROOMCTL" -c "$CONF" audit verify
}

# ---- arguments ----------------------------------------------------------------
"$AUDIT_WRITER" >/dev/null 2>"$T/err"
ok $(( $? != 2 )) "no -d: exit status 2"
check_fails "no -d: one-line error" -- "$AUDIT_WRITER"
check_fails "-s must be a number" -- "$AUDIT_WRITER" -d "$S" -s 1x
check_fails "-s 0 is refused" -- "$AUDIT_WRITER" -d "$S" -s 0
check_fails "-R must be an open fd" -- "$AUDIT_WRITER" -d "$S" -R 99
check_fails "unknown option" -- "$AUDIT_WRITER" -d "$S" -x
check_fails "stray argument" -- "$AUDIT_WRITER" -d "$S" extra
check_fails "missing state dir" -- "$AUDIT_WRITER" -d "$T/nonexistent"

# ---- start, one writer only ------------------------------------------------------
start_writer -s 1
ok $? "writer signals ready on -R"
ok $([ "$(stat -c %a "$S/audit.sock")" = 600 ]; echo $?) "audit.sock has mode 0600"
check_fails "a second writer on the same state_dir is refused" -- "$AUDIT_WRITER" -d "$S"
grep -q "another audit writer" "$T/last.err"
ok $? "and says another writer is running"
ok $([ -S "$S/audit.sock" ]; echo $?) "the refused writer left the first one's socket alone"

# ---- many producers at once -------------------------------------------------------
for p in 1 2 3 4; do
	"$PRODUCER" -d "$S" -n 5000 -t "p$p" >"$T/p$p.out" 2>"$T/p$p.err" &
	eval "pp$p=\$!"
done
fails=0
for p in 1 2 3 4; do
	eval "wait \$pp$p" || fails=$((fails + 1))
done
ok $fails "4 concurrent producers of 5000 events each succeed"
ok $(cat "$T"/p?.out | grep -c '^acked 5000 ' | grep -qx 4; echo $?) "each was acked all 5000"
n=$(q "SELECT count(*) FROM events WHERE type = 'test.event'")
ok $([ "$n" = 20000 ]; echo $?) "all 20000 events are in audit.db ($n)"
bad=$(q "SELECT count(*) FROM (SELECT json_extract(details, '$.i') -
	row_number() OVER (PARTITION BY session ORDER BY seq) AS d
	FROM events WHERE type = 'test.event') WHERE d != 0")
ok $([ "$bad" = 0 ]; echo $?) "each producer's events are in its order, none twice or missing"
check "the chain is intact (recomputed here, and by saferoomctl audit verify)" -- chain_ok

# ---- durable sends report the seq they got ---------------------------------------------
"$PRODUCER" -d "$S" -n 300 -k 1 -t dur >"$T/dur.out" 2>&1
ok $? "300 durable events"
set -- $(cat "$T/dur.out")
row=$(q "SELECT session || ' ' || json_extract(details, '$.i') FROM events WHERE seq = $4")
ok $([ "$row" = "dur 300" ]; echo $?) "the seq of the last durable ack is that event's ($row)"

# ---- seals ---------------------------------------------------------------------------
sleep 2.2
n=$(q "SELECT count(*) FROM events WHERE type = 'audit.seal'")
ok $([ "$n" -ge 1 ]; echo $?) "with -s 1 audit.seal events appear ($n)"
bad=$(q "SELECT count(*) FROM events s LEFT JOIN events h
	ON h.seq = json_extract(s.details, '$.sealed_seq')
	WHERE s.type = 'audit.seal' AND (h.seq IS NULL OR h.seq != s.seq - 1 OR
	lower(hex(h.hash)) != json_extract(s.details, '$.sealed_hash'))")
ok $([ "$bad" = 0 ]; echo $?) "each seal event names the head just before it, with its hash"
q "SELECT json_extract(details, '$.sealed_seq') || ' ' || json_extract(details, '$.sealed_hash')
	FROM events WHERE type = 'audit.seal' ORDER BY seq" >"$T/seals.db"
cut -d' ' -f1,2 "$S/audit.seals" >"$T/seals.file"
check "the witness file holds the same seals" -- cmp "$T/seals.db" "$T/seals.file"
sleep 1.5
n2=$(q "SELECT count(*) FROM events WHERE type = 'audit.seal'")
ok $([ "$n2" = "$n" ]; echo $?) "an idle writer does not seal its own seal again"
head_before=$(q "SELECT max(seq) FROM events")
stop_writer
ok $WRC "SIGTERM: the writer exits 0"
last=$(q "SELECT seq || ' ' || type || ' ' || json_extract(details, '$.sealed_seq') FROM events
	ORDER BY seq DESC LIMIT 1")
ok $([ "$last" = "$((head_before + 1)) audit.seal $head_before" ]; echo $?) \
	"SIGTERM seals the head once more ($last)"
ok $([ "$(tail -n 1 "$S/audit.seals" | cut -d' ' -f1)" = "$head_before" ]; echo $?) \
	"and the witness file has that final seal"
ok $([ ! -e "$S/audit.sock" ]; echo $?) "the socket is removed at shutdown"
check "the chain is intact after shutdown" -- chain_ok

# ---- local fallback ---------------------------------------------------------------------
check_fails "no writer, no fallback: the producer fails" -- "$PRODUCER" -d "$S" -n 1
grep -q "no audit writer" "$T/last.err"
ok $? "and says no writer is running"
check "no writer, fallback: the producer writes itself" -- "$PRODUCER" -d "$S" -n 50 -l -k 1 -t local
n=$(q "SELECT count(*) FROM events WHERE session = 'local'")
ok $([ "$n" = 50 ]; echo $?) "the 50 fallback events are there"
check "the chain is intact after the fallback" -- chain_ok

# ---- kill -9 during a burst: what was acked survives ----------------------------------------
start_writer
ok $? "a writer restarts on the same state_dir"
for p in 1 2 3 4; do
	rm -f "$T/k$p.acks"
	"$PRODUCER" -d "$S" -n 1000000 -k 37 -t "k$p" -a "$T/k$p.acks" >"$T/k$p.out" 2>"$T/k$p.err" &
	eval "kp$p=\$!"
done
sleep 1
kill -9 "$WPID"
wait "$WPID" 2>/dev/null
died=0
for p in 1 2 3 4; do
	eval "kpid=\$kp$p"
	# The producer must notice at once, not after a timeout.
	timeout 5 sh -c "while kill -0 $kpid 2>/dev/null; do sleep 0.05; done" || died=1
	wait "$kpid" && died=1
done
ok $died "every producer fails at once when the writer is killed"
grep -q "is gone" "$T/k1.err"
ok $? "with a clear message: $(head -n 1 "$T/k1.err")"
start_writer
ok $? "the writer restarts after kill -9 (stale socket replaced)"
lost=0
for p in 1 2 3 4; do
	set -- $(tail -n 1 "$T/k$p.acks" 2>/dev/null) "" 0 "" 0
	acked=$2 seq=$4
	have=$(q "SELECT count(*) FROM events WHERE session = 'k$p'
		AND json_extract(details, '$.i') <= $acked")
	row=$(q "SELECT json_extract(details, '$.i') FROM events WHERE seq = $seq AND session = 'k$p'")
	diag "k$p: acked $acked (seq $seq), in db $have"
	[ "$acked" -gt 0 ] && [ "$have" = "$acked" ] && [ "$row" = "$acked" ] || lost=1
done
ok $lost "every acknowledged event survived kill -9, at the seq it was promised"
check "the chain is intact after kill -9" -- chain_ok

# ---- malformed input and peers that may not write --------------------------------------------
python3 - "$S/audit.sock" >"$T/raw.out" 2>&1 <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.settimeout(5)
hello = s.recv(512)                        # the welcome ack
s.send(b"not a saferoom message at all")
err = s.recv(512)
magic, ver, kind = struct.unpack("=HBB", err[:4])
print(kind, err[16:-1].decode())
print(len(s.recv(512)))                    # then EOF
PY
ok $([ "$(head -n 1 "$T/raw.out" | cut -d' ' -f1)" = 4 ]; echo $?) \
	"a malformed message gets an error reply: $(head -n 1 "$T/raw.out")"
ok $([ "$(sed -n 2p "$T/raw.out")" = 0 ]; echo $?) "and the connection is closed"
grep -q "dropping producer" "$T/writer.err"
ok $? "and the writer logs it"
check "the writer still serves others" -- "$PRODUCER" -d "$S" -n 10 -k 1 -t after

chmod 0755 "$T" "$S"
check_fails "uid nobody cannot reach the 0600 socket" -- \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRODUCER" -d "$S" -n 1
if setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override true 2>/dev/null; then
	check_fails "uid nobody with CAP_DAC_OVERRIDE is refused by the writer" -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+dac_override \
		--ambient-caps=+dac_override "$PRODUCER" -d "$S" -n 1
	grep -q "uid 65534 may not write" "$T/last.err"
	ok $? "with the reason: $(cat "$T/last.err")"
else
	ok 0 "uid nobody with CAP_DAC_OVERRIDE # SKIP setpriv cannot grant ambient caps here"
fi
chmod 0700 "$T" "$S"
stop_writer
ok $WRC "the writer shuts down cleanly after all that"

# ---- fail closed: a full disk ------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$T/full"
	mount -t tmpfs -o size=1m,mode=0700 tmpfs "$T/full"
	# Registered last, so it runs first: stop what may still use the mount, then unmount.
	on_exit 'for j in $(jobs -p); do kill -9 $j; done; sleep 0.2; umount "$T/full"'
	S="$T/full"
	start_writer
	ok $? "a writer on a 1 MiB tmpfs starts"
	"$PRODUCER" -d "$S" -n 100000 -k 10 -p 3000 >"$T/full.out" 2>"$T/full.err"
	ok $(( $? != 1 )) "the producer fails when the disk fills"
	grep -q "cannot write the audit trail" "$T/full.err"
	ok $? "and is told why: $(cat "$T/full.err")"
	timeout 10 sh -c "while kill -0 $WPID 2>/dev/null; do sleep 0.05; done"
	wait "$WPID"
	WRC=$?
	ok $(( WRC == 0 )) "the writer exits non-zero ($WRC): fail closed"
	grep -q "cannot write the audit trail" "$T/writer.err"
	ok $? "and logs why"
	check_fails "no producer is accepted afterwards" -- "$PRODUCER" -d "$S" -n 1
	umount "$T/full"
else
	ok 0 "full disk # SKIP needs root for a tmpfs"
fi
