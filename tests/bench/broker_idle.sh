#!/bin/sh
# broker_idle.sh — 200 concurrent idle sessions (each a shell on a pty),
# saferoomd against OpenSSH sshd + a bubblewrap ForceCommand with the same
# binds.  With them all open it prints
#   - the broker's memory per session: PSS (and RSS) of saferoomd's monitor
#     and net child, against sshd's per-connection processes; aim <= 2 MiB;
#   - keystroke echo latency in one more session, typed one key at a time
#     and timed until the key comes back: p50 and p99.
# Root only; `make bench` runs it.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
. "$SR_SRCDIR/tests/bench/broker-bench-lib.sh"
: "${BENCH_SESSIONS:=200}"
: "${BENCH_KEYS:=300}"
BROKER_CONF_EXTRA="max_startups 100"
bench_setup
SR_NET_UID=$(id -u saferoom)

# tree ROOT KIND: walks ROOT's descendants.  Prints "shells N" (the
# `bash -l` login shells below it) and, per class of broker process, "CLASS count pss_kb
# rss_kb".  KIND saferoom: monitors are the master's children (but the audit
# writer), net children their children running as the saferoom user, and
# sandbox supervisors their other children; KIND sshd: every sshd below the
# listener.
tree() {
	python3 - "$1" "$2" "$SR_NET_UID" "$(readlink -f "$AUDIT_WRITER")" <<'PY'
import os, sys
root, kind, net_uid, writer = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
kids, info = {}, {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        st = open("/proc/%s/stat" % d).read()
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        uid = os.stat("/proc/" + d).st_uid
        mem = {}
        for line in open("/proc/%s/smaps_rollup" % d):
            k, v = line.split(":", 1)
            if k in ("Pss", "Rss"):
                mem[k] = int(v.split()[0])
        exe = os.readlink("/proc/%s/exe" % d)
        login_shell = open("/proc/%s/cmdline" % d, "rb").read() == b"bash\0-l\0"
    except (OSError, ValueError):
        continue
    info[int(d)] = (comm, uid, mem.get("Pss", 0), mem.get("Rss", 0), exe, login_shell)
    kids.setdefault(ppid, []).append(int(d))
classes, shells = {}, 0
def add(cls, pid):
    c = classes.setdefault(cls, [0, 0, 0])
    c[0] += 1; c[1] += info[pid][2]; c[2] += info[pid][3]
def walk(pid, depth, parent_cls):
    global shells
    for k in kids.get(pid, []):
        comm, uid = info[k][0], info[k][1]
        cls = None
        if info[k][5]:
            shells += 1
        elif kind == "saferoom" and depth == 1 and info[k][4] != writer:
            cls = "monitor"
        elif kind == "saferoom" and parent_cls == "monitor":
            cls = "net-child" if uid == net_uid else "sandbox-supervisor"
        elif kind == "sshd" and comm == "sshd":
            cls = "sshd"
        if cls:
            add(cls, k)
        walk(k, depth + 1, cls)
walk(root, 1, None)
print("shells", shells)
for cls, (n, pss, rss) in sorted(classes.items()):
    print(cls, n, pss, rss)
PY
}

# open_sessions SSH-FUNCTION ROOT KIND: BENCH_SESSIONS idle shells, 20 at a time.
open_sessions() {
	_n=0
	while [ $_n -lt "$BENCH_SESSIONS" ]; do
		_b=0
		while [ $_b -lt 20 ] && [ $_n -lt "$BENCH_SESSIONS" ]; do
			( "$1" -tt <"$T/idle" >/dev/null 2>&1 ) &
			CLIENTS="$CLIENTS $!"
			_b=$((_b + 1)); _n=$((_n + 1))
		done
		_i=0
		while [ "$(tree "$2" "$3" | awk '$1 == "shells" { print $2 }')" -lt $_n ] && [ $_i -lt 600 ]; do
			sleep 0.1; _i=$((_i + 1))
		done
		[ $_i -lt 600 ] || bail "$1: only $(tree "$2" "$3" | awk '$1 == "shells" { print $2 }') of $_n sessions came up"
	done
}
close_sessions() {
	for _p in $CLIENTS; do pkill -P "$_p" 2>/dev/null; done
	for _p in $CLIENTS; do wait "$_p" 2>/dev/null; done
	CLIENTS=""
}
on_exit "close_sessions"
# An open, silent stdin for every idle client.
mkfifo "$T/idle"
exec 8<>"$T/idle"

# echo_latency PORT USER: types BENCH_KEYS keys into a new shell; prints "p50 p99 max" ms.
echo_latency() {
	# shellcheck disable=SC2046
	python3 - "$BENCH_KEYS" ssh $(ssh_opts) -tt -p "$1" "$2@127.0.0.1" <<'PY'
import os, pty, select, sys, time
n, argv = int(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
def read_until(token, timeout):
    buf, end = b"", time.monotonic() + timeout
    while token not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SystemExit("timed out waiting for %r; got %r" % (token, buf[-200:]))
        buf += os.read(fd, 65536)
    return buf
time.sleep(0.5)
os.write(fd, b'echo RE""ADY\r')
read_until(b"READY", 60)
time.sleep(0.3)
lat = []
for i in range(n):
    c = bytes([ord("a") + i % 26])
    t0 = time.monotonic()
    os.write(fd, c)
    read_until(c, 10)
    lat.append((time.monotonic() - t0) * 1000)
    if i % 40 == 39:
        os.write(fd, b"\x15")      # ^U: a fresh line now and then
        time.sleep(0.05)
        while select.select([fd], [], [], 0)[0]:
            os.read(fd, 65536)
    time.sleep(0.01)
os.write(fd, b"\x15exit\r")
time.sleep(0.5)
lat.sort()
print("%.2f %.2f %.2f" % (lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1]))
PY
}

# per_session ROOT KIND CLASSES...: PSS and RSS in MiB per session of the named classes.
per_session() {
	_r=$1 _k=$2; shift 2
	tree "$_r" "$_k" >"$T/tree"
	awk -v n="$BENCH_SESSIONS" -v want=" $* " '
		index(want, " " $1 " ") { pss += $3; rss += $4 }
		END { printf "%.2f %.2f", pss / 1024 / n, rss / 1024 / n }' "$T/tree"
}

CLIENTS=""
diag "== broker: $BENCH_SESSIONS idle sessions"
open_sessions sr_ssh "$SAFEROOMD_PID" saferoom
sr_mem=$(per_session "$SAFEROOMD_PID" saferoom monitor net-child)
sr_sup=$(per_session "$SAFEROOMD_PID" saferoom sandbox-supervisor)
sr_lat=$(echo_latency "$PORT" alice)
sed 's/^/#   saferoomd: /' "$T/tree"
close_sessions

open_sessions base_ssh "$SSHD_PID" sshd
base_mem=$(per_session "$SSHD_PID" sshd sshd)
base_lat=$(echo_latency "$PORT2" root)
sed 's/^/#   sshd: /' "$T/tree"
close_sessions

set -- $sr_mem; sr_pss=$1 sr_rss=$2
set -- $sr_sup; sup_pss=$1
set -- $base_mem; base_pss=$1 base_rss=$2
diag "  memory per session, MiB           PSS      RSS"
diag "$(printf '  %-30s %6s   %6s' 'saferoomd monitor + net child' "$sr_pss" "$sr_rss")"
diag "$(printf '  %-30s %6s' '  (+ sandbox supervisor' "$sup_pss)")"
diag "$(printf '  %-30s %6s   %6s' 'sshd (per connection)' "$base_pss" "$base_rss")"
diag "  aim: saferoomd PSS <= 2 MiB per session"
set -- $sr_lat; diag "$(printf '  echo latency, saferoomd:  p50 %s ms  p99 %s ms  max %s ms' "$1" "$2" "$3")"
set -- $base_lat; diag "$(printf '  echo latency, sshd:       p50 %s ms  p99 %s ms  max %s ms' "$1" "$2" "$3")"
