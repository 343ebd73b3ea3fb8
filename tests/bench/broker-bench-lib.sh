# tests/bench/broker-bench-lib.sh — saferoomd and its baseline side by side,
# for the tests/bench/broker_*.sh benchmarks.  Source it after tests/lib.sh
# and tests/e2e/broker-lib.sh.
#
# bench_setup starts saferoomd (broker_setup: alice in project lung with the
# dataset cohort) and, on another free loopback port, a private OpenSSH sshd
# with its own sshd_config, host key and AuthorizedKeysFile in $T/sshd, whose
# ForceCommand runs bubblewrap with the binds of saferoom's sandbox: /usr
# and the same /etc files read-only, the dataset read-only at /data/cohort,
# the project workspace read-write at /project, fresh /tmp, /proc and /dev,
# every namespace new (network: loopback only), alice's uid and the
# project's gid, hostname = project.  Both are reached with the same ssh
# client and options: sr_ssh and base_ssh take the client's arguments.
#
# sshd logs in as root (only so that no system account has to be made; the
# shell inside bwrap runs as alice's uid either way) and records nothing:
# what it costs saferoom to record, audit and police a session is exactly
# what these benchmarks show.

: "${BENCH_ROUNDS:=15}"

sshd_port() { # the first free port after $1
	_p=$(($1 + 1))
	while ss -Hltn "sport = :$_p" 2>/dev/null | grep -q .; do _p=$((_p + 1)); done
	echo "$_p"
}

bench_etc_binds() {
	for _e in alternatives bash.bashrc ld.so.cache ld.so.conf ld.so.conf.d localtime \
		nsswitch.conf passwd group profile; do
		[ -e "/etc/$_e" ] && printf ' --ro-bind /etc/%s /etc/%s' "$_e" "$_e"
	done
}

sshd_setup() {
	require_tool bwrap
	[ -x /usr/sbin/sshd ] || bail "needs /usr/sbin/sshd (openssh-server)"
	S2="$T/sshd"
	mkdir -p "$S2/ak"
	ssh-keygen -q -t ed25519 -N '' -f "$S2/host_key"
	cp "$T/keys/alice.pub" "$S2/ak/root"
	_uid=$(ctl user show alice --json | sed -n 's/.*"uid":\([0-9]*\).*/\1/p')
	_gid=$(ctl project show lung --json | sed -n 's/.*"gid":\([0-9]*\).*/\1/p')
	WS="$T/state/workspaces/lung"
	cat >"$S2/force.sh" <<FORCE
#!/bin/sh
exec bwrap --unshare-all --die-with-parent --cap-drop ALL \\
	--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib \\
	--symlink usr/lib64 /lib64 --symlink usr/sbin /sbin $(bench_etc_binds) \\
	--ro-bind "$T/data/cohort" /data/cohort --bind "$WS" /project \\
	--tmpfs /tmp --proc /proc --dev /dev --hostname lung \\
	--uid $_uid --gid $_gid --setenv HOME /project/home/alice --chdir /project \\
	bash -l
FORCE
	chmod 755 "$S2/force.sh"
	PORT2=$(sshd_port "$PORT")
	cat >"$S2/sshd_config" <<CONF
Port $PORT2
ListenAddress 127.0.0.1
HostKey $S2/host_key
PidFile $S2/sshd.pid
AuthorizedKeysFile $S2/ak/%u
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100:30:400
MaxSessions 10
ForceCommand $S2/force.sh
CONF
	if [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd
		on_exit "rmdir /run/sshd"
	fi
	/usr/sbin/sshd -D -e -f "$S2/sshd_config" 2>"$S2/sshd.log" &
	SSHD_PID=$!
	on_exit "kill $SSHD_PID"
	_i=0
	while ! ss -Hltn "sport = :$PORT2" | grep -q . && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ $_i -lt 100 ] || { cat "$S2/sshd.log" >&2; bail "sshd did not listen on $PORT2"; }
}

bench_setup() {
	broker_setup
	# alice's first login makes the workspace both servers bind.
	printf 'exit 0\n' >"$T/exit.in"
	sshc alice alice -tt <"$T/exit.in" >/dev/null 2>&1 || bail "alice cannot log in to saferoomd"
	sshd_setup
	base_ssh -tt <"$T/exit.in" >/dev/null 2>&1 || { cat "$S2/sshd.log" >&2; bail "cannot log in to sshd"; }
}

# sr_ssh / base_ssh [ARGS...]: the same client, the same options, either server.
ssh_opts() {
	echo "-F /dev/null -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$T/known_hosts \
-o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR -i $T/keys/alice"
}
# shellcheck disable=SC2046
sr_ssh() { ssh $(ssh_opts) -p "$PORT" "$@" alice@127.0.0.1; }
# shellcheck disable=SC2046
base_ssh() { ssh $(ssh_opts) -p "$PORT2" "$@" root@127.0.0.1; }

now_ns() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
