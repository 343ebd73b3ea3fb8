#!/bin/sh
# privileges.sh — the shell never has uid 0 on the host, any capability, or
# the ability to gain one.  Positively: uid and gid are the researcher's and
# the project's, every capability set is empty, NoNewPrivs is 1, Seccomp is 2,
# the securebits are locked.  Attacks: a setuid binary; `unshare -U`, clone
# with namespace flags, clone3; init_module, kexec_load, bpf,
# perf_event_open, keyctl, add_key, userfaultfd, open_by_handle_at, io_uring;
# 32-bit and x32 system calls; ptrace or signals to processes outside;
# TIOCSTI and TIOCLINUX, including the high-bits ioctl variant; descriptors
# leaked from the process that starts the sandbox.
. "$SR_SRCDIR/tests/escape/lib-escape.sh"

UID_A=$(uid_of alice)
GID_A=$(gid_of alpha)

sb alice alpha -- $PROBE ids >"$T/ids" 2>&1
ok $? "uid is not 0"
grep -qx "uid=$UID_A euid=$UID_A gid=$GID_A egid=$GID_A" "$T/ids"
ok $? "uid and gid are alice's ($UID_A) and alpha's ($GID_A)"
check "the only group is the project's" -- \
	sb alice alpha -- sh -c "[ \"\$(id -G)\" = $GID_A ]"

sb alice alpha -- $PROBE status >"$T/status" 2>&1
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	grep -qx "$set:	0000000000000000" "$T/status"
	ok $? "$set is empty"
done
grep -qx "NoNewPrivs:	1" "$T/status"
ok $? "NoNewPrivs is 1"
grep -qx "Seccomp:	2" "$T/status"
ok $? "Seccomp is 2 (filter)"
# NOROOT, NO_SETUID_FIXUP locked off, KEEP_CAPS locked off, NO_CAP_AMBIENT_RAISE: each locked.
grep -qx "Securebits:	0xeb" "$T/status"
ok $? "securebits set and locked (0xeb)"

# A setuid-root copy of the probe in the workspace.  The control shows the
# bit works on the host: run as nobody there, it gets euid 0.
install -o 0 -g 0 -m 4755 "$PROBE_BIN" "$(ws alpha)/bin/suid-probe"
cp -p "$(ws alpha)/bin/suid-probe" "$T/suid-probe"
setpriv --reuid=65534 --regid=65534 --clear-groups "$T/suid-probe" ids >"$T/control" 2>&1
grep -q "euid=0" "$T/control"
ok $? "control: on the host a setuid-root binary gives euid 0"
check "running a setuid-root binary inside gives no privilege" -- \
	sb alice alpha -- /project/bin/suid-probe ids
check "su does not work either" -- sb alice alpha -- sh -c '! su -c id root </dev/null'

check "unshare -U fails" -- sb alice alpha -- sh -c '! unshare -U true 2>/dev/null'
check "unshare -r (map root) fails" -- sb alice alpha -- sh -c '! unshare -r id 2>/dev/null'
check "clone with namespace flags, clone3, unshare, setns, chroot are refused" -- \
	sb alice alpha -- $PROBE namespaces
check "init_module, kexec_load, bpf, perf_event_open, keyctl, add_key, userfaultfd, open_by_handle_at, io_uring are refused" -- \
	sb alice alpha -- $PROBE syscalls
check "32-bit (int 0x80) and x32 system calls kill the caller" -- \
	sb alice alpha -- $PROBE abi
check "no ptrace, no signals, no pidfd to processes outside" -- \
	sb alice alpha -- $PROBE outside $$
check "pid 1 is the sandbox's own, and only its few processes are visible" -- \
	sb alice alpha -- sh -c '[ "$(cat /proc/1/comm)" = saferoom-init ] && [ "$(ls -d /proc/[0-9]* | wc -l)" -lt 10 ]'

# TIOCSTI/TIOCLINUX on the sandbox's own terminal.  The control runs the probe
# on a host pty (script(1)): there TIOCSTI works when the kernel allows it.
if [ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1)" = 1 ] &&
	command -v script >/dev/null; then
	script -qec "$PROBE_BIN tty" /dev/null </dev/null >"$T/control" 2>&1
	grep -q "ESCAPED: TIOCSTI$\|ESCAPED: TIOCSTI (" "$T/control"
	ok $? "control: on a host terminal TIOCSTI works"
fi
check "TIOCSTI and TIOCLINUX, with and without high bits, are refused" -- \
	sb alice alpha --pty -- $PROBE tty
check "without --pty the command has no controlling terminal" -- \
	sb alice alpha -- sh -c 'if (exec 3</dev/tty) 2>/dev/null; then exit 1; fi'

# A descriptor the caller leaks (not close-on-exec) must not reach the sandbox.
echo "host secret" >"$T/secret"
exec 7<"$T/secret"
check "descriptors of the starting process do not reach the sandbox" -- \
	sb alice alpha -- $PROBE fds
exec 7<&-
