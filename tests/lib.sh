# tests/lib.sh — TAP helpers for saferoom's shell tests.  Source it:
#   . "$SR_SRCDIR/tests/lib.sh"
# Every check is one TAP line, so the tap-driver counts checks.
# Tests that need root skip when not root; under CI (CI=true) they must run.

: "${SR_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SR_BUILDDIR:=$SR_SRCDIR}"
SAFEROOMCTL="$SR_BUILDDIR/saferoomctl"
AUDIT_WRITER="$SR_BUILDDIR/saferoom-audit-writer"
export SR_SRCDIR SR_BUILDDIR SAFEROOMCTL AUDIT_WRITER

_tap_n=0
_tap_failed=0
_tap_cleanups=""

ok() { # ok COND-EXIT-STATUS DESCRIPTION
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $2"
	fi
}

# check DESCRIPTION -- CMD...: one check that CMD exits 0.
check() {
	_d=$1; shift; [ "$1" = "--" ] && shift
	"$@" >"$T/last.out" 2>"$T/last.err"
	_rc=$?
	ok $_rc "$_d"
	[ $_rc -eq 0 ] || { sed 's/^/#   /' "$T/last.err" | head -n 20; }
	return $_rc
}

# check_fails DESCRIPTION -- CMD...: CMD must exit non-zero with a one-line error.
check_fails() {
	_d=$1; shift; [ "$1" = "--" ] && shift
	"$@" >"$T/last.out" 2>"$T/last.err"
	_rc=$?
	_lines=$(grep -c . "$T/last.err")
	if [ $_rc -ne 0 ] && [ "$_lines" -eq 1 ]; then
		ok 0 "$_d"
	else
		ok 1 "$_d"
		echo "#   exit $_rc, stderr had $_lines lines:"
		sed 's/^/#   /' "$T/last.err" | head -n 10
	fi
}

diag() { echo "# $*"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# Root is needed for namespaces, kernel audit, chown.  Skipping is allowed
# only outside CI; under CI a skipped security test is a failure.
require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		[ "${CI:-}" = true ] && bail "needs root, and CI=true forbids skipping"
		skip_all "needs root"
	fi
}

require_tool() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "${CI:-}" = true ] && bail "needs $1, and CI=true forbids skipping"
	skip_all "needs $1"
}

on_exit() { _tap_cleanups="$*; $_tap_cleanups"; }

_tap_finish() {
	_rc=$?
	eval "$_tap_cleanups" >/dev/null 2>&1
	[ -n "${T:-}" ] && case "$T" in /tmp/sr-test-*) rm -rf "$T" ;; esac
	if [ $_rc -ne 0 ] && [ $_tap_n -eq 0 ]; then exit $_rc; fi
	echo "1..$_tap_n"
	[ $_tap_failed -eq 0 ] && [ $_rc -eq 0 ]
	exit $?
}

# A private scratch directory, removed at exit with everything registered by on_exit.
T=$(mktemp -d /tmp/sr-test-XXXXXX) || bail "mktemp failed"
trap _tap_finish EXIT
trap 'exit 1' INT TERM

# A minimal saferoom.conf in $T for a test: state in $T/state.
make_conf() {
	cat >"$T/saferoom.conf" <<CONF
listen 127.0.0.1:${1:-2222}
state_dir $T/state
host_key $T/state/host_key
audit_seal_interval ${2:-60}
CONF
	echo "$T/saferoom.conf"
}

# Every ausearch in a test needs --input-logs: without it ausearch reads its
# standard input whenever that is not a terminal (as under make -j), and
# finds nothing.
#
# use_auditd: the kernel audit daemon, shared by every test that reads the
# kernel audit log.  Tests take turns under one lock (held until the test
# exits, on fd 9), so that none stops the auditd another is reading; the
# test that started auditd stops it and puts the kernel's switch back.
auditd_pid() { auditctl -s | awk '$1 == "pid" { print $2 }'; }

# find_audit_record TYPE PATTERN [-i]: waits up to 10 s (auditd writes
# asynchronously) for records of TYPE from the last minutes whose text holds
# the fixed string PATTERN, and leaves them in $T/found.
find_audit_record() {
	_i=0
	while [ $_i -lt 100 ]; do
		ausearch --input-logs -m "$1" -ts recent $3 2>/dev/null | grep -F -- "$2" >"$T/found" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
use_auditd() {
	require_tool auditd
	require_tool auditctl
	require_tool ausearch
	require_tool flock
	require_tool pidof
	mkdir -p /run/lock
	exec 9>/run/lock/saferoom-tests-auditd.lock
	flock -w 300 9 || bail "another test holds the auditd lock"
	_was_enabled=$(auditctl -s | awk '$1 == "enabled" { print $2 }')
	if [ "$(auditd_pid)" = 0 ]; then
		# An auditd that has let go of the kernel may still be writing its
		# last records: two daemons appending to one log lose records.
		_i=0
		while pidof auditd >/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
		pidof auditd >/dev/null && bail "a stopping auditd does not go away"
		mkdir -p /var/log/audit
		auditd || bail "could not start auditd"
		_i=0
		while [ "$(auditd_pid)" = 0 ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
		_auditd=$(auditd_pid)
		on_exit 'auditctl --signal TERM; _i=0; while kill -0 '"$_auditd"' 2>/dev/null && [ $_i -lt 100 ]; do
			sleep 0.1; _i=$((_i + 1)); done; auditctl -e '"$_was_enabled"
		diag "started auditd (pid $_auditd)"
	fi
	[ "$(auditd_pid)" != 0 ] || bail "auditd is not running"
	auditctl -s | grep -q '^enabled [12]' || bail "kernel audit is disabled (auditctl -e 1)"
}
