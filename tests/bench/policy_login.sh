#!/bin/sh
# policy_login.sh — login decision latency with 10,000 users, 1,000 projects and
# 100 datasets per project (median and p99 in microseconds).  `make bench` runs it.
set -eu
: "${SR_BUILDDIR:=.}"
BENCH="$SR_BUILDDIR/tests/bench/policy-login-bench"
[ -x "$BENCH" ] || { echo "policy_login: build it first: make check (or make $BENCH)" >&2; exit 1; }
T=$(mktemp -d /tmp/sr-bench-policy-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -m 0700 "$T/state"
echo "== policy: login decision latency"
"$BENCH" "$T/state" "${SR_BENCH_ROUNDS:-20000}"
