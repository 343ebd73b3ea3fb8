#!/bin/sh
# network.sh — the sandbox reaches no network: not an address outside, not a
# port on the host's 127.0.0.1, not a host abstract unix socket, and no
# packet, netlink, vsock or raw socket.  Each host-side target is shown
# reachable from the host first, so that "blocked" inside means something.
# (The "outside" address is TEST-NET-1, 192.0.2.1, which is never routed:
# no packet leaves this machine even if the test were to fail.)
. "$SR_SRCDIR/tests/escape/lib-escape.sh"

# A TCP listener on the host's loopback and a listening host abstract socket.
ABS="saferoom-escape-$$"
python3 - "$ABS" >"$T/port" <<'PY' &
import socket, sys, time
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(8)
u = socket.socket(socket.AF_UNIX); u.bind("\0" + sys.argv[1]); u.listen(8)
print(t.getsockname()[1], flush=True)
time.sleep(120)
PY
LISTENER=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
[ -n "$PORT" ] || bail "the host listener did not start"

"$PROBE_BIN" connect 127.0.0.1 "$PORT" >"$T/control" 2>&1
[ $? -eq 1 ]
ok $? "control: on the host the probe connects to 127.0.0.1:$PORT"
"$PROBE_BIN" abstract "$ABS" >"$T/control" 2>&1
[ $? -eq 1 ]
ok $? "control: on the host the probe connects to the abstract socket"

check "no connection to 127.0.0.1:$PORT of the host" -- \
	sb alice alpha -- $PROBE connect 127.0.0.1 "$PORT"
check "no connection to an address outside (TCP and UDP)" -- \
	sb alice alpha -- $PROBE connect 192.0.2.1 80
check "no connection to the host's abstract unix socket" -- \
	sb alice alpha -- $PROBE abstract "$ABS"
check "AF_PACKET, AF_NETLINK, AF_VSOCK, raw and SOCK_PACKET sockets are refused" -- \
	sb alice alpha -- $PROBE sockets
check "the only interface is lo" -- \
	sb alice alpha -- sh -c '[ "$(ls /proc/sys/net/ipv4/conf | tr "\n" " ")" = "all default lo " ]'
check "loopback inside works (a researcher's local servers)" -- \
	sb alice alpha -- sh -c 'grep -q "^ *lo:" /proc/net/dev'
check "unix sockets between the sandbox's own processes work" -- \
	sb alice alpha -- sh -c 'python3 -c "import socket; a,b = socket.socketpair(); a.send(b\"x\"); assert b.recv(1) == b\"x\""'
kill "$LISTENER" 2>/dev/null
