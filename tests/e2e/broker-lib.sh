# tests/e2e/broker-lib.sh — a running saferoomd for an end-to-end test.
# Source it after tests/lib.sh:   . "$SR_SRCDIR/tests/e2e/broker-lib.sh"
#
# broker_setup makes a state directory in $T with a project "lung" granting
# dataset "cohort", researcher alice (member), steward carol, auditor dave,
# their keys in $T/keys, and starts saferoomd in the foreground on a free
# loopback port (IPv4 and IPv6), with the lines of $BROKER_CONF_EXTRA added
# to its saferoom.conf; the daemon is stopped at exit.  Everything
# goes through saferoomctl and the real OpenSSH client, as a person would.

SAFEROOMD="$SR_BUILDDIR/saferoomd"
export SAFEROOM_AUDIT_WRITER="$AUDIT_WRITER"

# saferoomd's net child runs as this system user; a test machine may not have it yet.
broker_user() {
	id saferoom >/dev/null 2>&1 && return 0
	adduser --system --group --no-create-home --home /nonexistent saferoom >/dev/null 2>&1 ||
		bail "could not create the saferoom system user"
}

free_port() {
	_p=$(( 20000 + $$ % 20000 ))
	while ss -Hltn "sport = :$_p" 2>/dev/null | grep -q .; do _p=$((_p + 1)); done
	echo "$_p"
}

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }

broker_keys() {
	mkdir -p "$T/keys"
	for _u in "$@"; do
		[ -f "$T/keys/$_u" ] || ssh-keygen -q -t ed25519 -N '' -C "$_u" -f "$T/keys/$_u"
	done
}

broker_setup() {
	require_root
	require_tool ssh
	require_tool ssh-keygen
	require_tool ss
	broker_user
	PORT=$(free_port)
	CONF=$(make_conf "$PORT")
	echo "listen [::1]:$PORT" >>"$CONF"
	# Host ids of this test alone (by its port), so that counting a user's
	# processes never counts another test's sessions running at the same time.
	_ids=$((200000 + PORT * 50))
	printf 'uid_range %d-%d\ngid_range %d-%d\n' $_ids $((_ids + 49)) $_ids $((_ids + 49)) >>"$CONF"
	# A test's own settings (small limits), one keyword per line.
	[ -z "${BROKER_CONF_EXTRA:-}" ] || printf '%s\n' "$BROKER_CONF_EXTRA" >>"$CONF"
	chmod 600 "$CONF"
	ctl init >/dev/null || bail "saferoomctl init failed"
	[ -f "$T/state/policy.db" ] || bail "saferoomctl init made no policy.db"
	broker_keys alice bob carol dave
	mkdir -p "$T/data/cohort"
	printf 'id,age,stage\n1,61,II\n2,57,III\n' >"$T/data/cohort/patients.csv"
	ctl user add alice --role researcher --key "$T/keys/alice.pub" >/dev/null &&
	ctl user add carol --role steward --key "$T/keys/carol.pub" >/dev/null &&
	ctl user add dave --role auditor --key "$T/keys/dave.pub" >/dev/null &&
	ctl dataset add cohort "$T/data/cohort" >/dev/null &&
	ctl project add lung --drb-ref DRB-2026-001 --until 2099-12-31 >/dev/null &&
	ctl project grant lung cohort >/dev/null &&
	ctl project member add lung alice >/dev/null || bail "could not set up policy"
	broker_start
}

broker_start() {
	"$SAFEROOMD" -f "$CONF" -D 2>"$T/saferoomd.log" &
	SAFEROOMD_PID=$!
	on_exit "broker_stop"
	_i=0
	while ! ss -Hltn "sport = :$PORT" | grep -q . && [ $_i -lt 100 ]; do
		kill -0 "$SAFEROOMD_PID" 2>/dev/null || { cat "$T/saferoomd.log" >&2; bail "saferoomd died"; }
		sleep 0.1; _i=$((_i + 1))
	done
	[ $_i -lt 100 ] || bail "saferoomd did not listen on $PORT"
}

broker_stop() {
	[ -n "${SAFEROOMD_PID:-}" ] || return 0
	kill -TERM "$SAFEROOMD_PID" 2>/dev/null
	_i=0
	while kill -0 "$SAFEROOMD_PID" 2>/dev/null && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -KILL "$SAFEROOMD_PID" 2>/dev/null
	wait "$SAFEROOMD_PID" 2>/dev/null
	SAFEROOMD_PID=
}

# sshc KEY USER [ssh options and command...]: the OpenSSH client, non-interactive.
sshc() {
	_k=$1; _u=$2; shift 2
	timeout 60 ssh -F /dev/null -o StrictHostKeyChecking=accept-new \
		-o UserKnownHostsFile="$T/known_hosts" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o LogLevel=ERROR -o ConnectTimeout=10 -i "$T/keys/$_k" -p "$PORT" "$@" "$_u@127.0.0.1"
}

# sshcmd KEY USER COMMAND...: runs a command (OpenSSH puts the host last, so it is separate).
sshcmd() {
	_k=$1; _u=$2; shift 2
	timeout 60 ssh -F /dev/null -o StrictHostKeyChecking=accept-new \
		-o UserKnownHostsFile="$T/known_hosts" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o LogLevel=ERROR -o ConnectTimeout=10 -i "$T/keys/$_k" -p "$PORT" "$_u@127.0.0.1" "$@"
}

# events SQL-WHERE: matching audit events as "type|user|project|details" lines.
events() {
	"$SQLITE3" -readonly "$T/state/audit.db" \
		"SELECT type, user, project, details FROM events WHERE $1 ORDER BY seq"
}

# has_event DESC WHERE: one check that at least one event matches (waits up to 5 s,
# since some events are sent asynchronously).
has_event() {
	_i=0
	while [ -z "$(events "$2")" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -n "$(events "$2")" ]
	ok $? "$1"
}

# Processes of the project sandbox still alive (run as a researcher's uid).
sandbox_procs() { pgrep -u "$1" 2>/dev/null | wc -l; }
