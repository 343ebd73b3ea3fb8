#!/bin/sh
# tests/check.sh — the README's test command: `sudo tests/check.sh`.
#
# Installs what the suites need (apt only), builds with autotools in build/,
# runs every suite with `make check`, and ends with one line
#   N passed, N failed, N skipped
# summing every check of every suite.  Exits non-zero when anything failed.
# Under CI (CI=true) a skipped check counts as failed: a security test that
# did not run is not a security test that passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "$(id -u)" -eq 0 ]; then
	packaging/install-deps.sh || { echo "check.sh: installing dependencies failed" >&2; exit 1; }
else
	echo "check.sh: not root: dependencies not installed, root-only suites will skip" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
build="$top/build"
set -e
autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
# --enable-debug: warnings are errors, so the suite also guards the build.
"$top/configure" -q --enable-debug ${SR_CONFIGURE_FLAGS:-}
make -s -j"$jobs"
set +e
# Old results must not be counted again.
find . -name '*.trs' -delete
make -s -j"$jobs" check >"$build/check-output.log" 2>&1
make_rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' "$build/check-output.log" | grep -Ev '^(PASS|XFAIL):' || true

count() { find . -name '*.trs' -exec grep -h "^:test-result: $1" {} + 2>/dev/null | wc -l; }
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count XPASS) + $(count ERROR) ))
skip=$(count SKIP)
if [ "${CI:-}" = true ] && [ "$skip" -gt 0 ]; then
	echo "check.sh: CI=true: $skip skipped checks count as failed" >&2
	fail=$((fail + skip))
	skip=0
fi
if [ "$make_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	# make failed before any test said so (a build error in a test program).
	tail -n 30 "$build/check-output.log" >&2
	fail=1
fi
if [ "$fail" -ne 0 ]; then
	echo "check.sh: failures; details in $build/test-suite.log and $build/tests/" >&2
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
