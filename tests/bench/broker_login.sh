#!/bin/sh
# broker_login.sh — login -> shell -> exit with the real ssh client on a pty,
# saferoomd against OpenSSH sshd + a bubblewrap ForceCommand with the same
# binds (tests/bench/broker-bench-lib.sh), rounds interleaved so that both
# see the same machine.  Prints the medians (ms) and the ratio
# saferoom/sshd; aim: 0.9 or below.  Root only; `make bench` runs it.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
. "$SR_SRCDIR/tests/bench/broker-bench-lib.sh"
bench_setup

# once SSH-FUNCTION FILE: one login, `exit` typed at the shell; adds its ns to FILE.
once() {
	_t0=$(now_ns)
	"$1" -tt <"$T/exit.in" >/dev/null 2>&1 || bail "$1: login failed"
	echo $(( $(now_ns) - _t0 )) >>"$2"
}
: >"$T/sr.ns"; : >"$T/base.ns"
i=0
while [ $i -lt "$BENCH_ROUNDS" ]; do
	once sr_ssh "$T/sr.ns"
	once base_ssh "$T/base.ns"
	i=$((i + 1))
done
sr=$(median <"$T/sr.ns"); base=$(median <"$T/base.ns")
diag "== broker: login -> shell -> exit ($BENCH_ROUNDS rounds each)"
diag "$(printf '  %-40s median %7.1f ms' saferoomd "$(ratio "$sr" 1000000)")"
diag "$(printf '  %-40s median %7.1f ms' 'sshd + bwrap ForceCommand' "$(ratio "$base" 1000000)")"
diag "  ratio saferoomd/sshd: $(ratio "$sr" "$base")   (aim: <= 0.90)"
