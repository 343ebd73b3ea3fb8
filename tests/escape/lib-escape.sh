# tests/escape/lib-escape.sh — a small safe room for the attack tests.  Source it
# after nothing else:   . "$SR_SRCDIR/tests/escape/lib-escape.sh"
#
# Two projects: alpha (members alice and bob, datasets cohort and genome) and
# beta (member carol, dataset other).  Each project's workspace holds
# bin/sandbox-probe, the attack program (tests/tools/sandbox-probe.c).
#
#   sb USER PROJECT [--pty] -- CMD...    runs CMD in USER's sandbox in PROJECT
#   set_limit PROJECT KEY VALUE          memory, pids, tmp_size, max_file_size,
#                                        cpu (percent of a core), max_session (s)
#   mark; new_events TYPE                events of TYPE written since the mark
#
# The sandbox is started through `saferoomctl sandbox run`, built from a
# policy.db made with saferoomctl, exactly as an admin would.  For debugging
# the sandbox alone, SR_ESCAPE_VIA=sandbox-run starts it through
# tests/tools/sandbox-run instead, with the same spec given on its command
# line; both build it with the same library call.
. "$SR_SRCDIR/tests/lib.sh"

require_root
require_tool "${SQLITE3:=sqlite3}"
require_tool python3

RUN="$SR_BUILDDIR/tests/tools/sandbox-run"
PROBE_BIN="$SR_BUILDDIR/tests/tools/sandbox-probe"
S="$T/state"
D="$T/datasets"
CONF="$T/saferoom.conf"

# Every process this test starts is a job of this shell or a child of one (the
# process holding a sandbox); none may outlive it.
on_exit 'for j in $(jobs -p); do pkill -9 -P $j; kill -9 $j; done'

mkdir -p "$D/cohort/sub" "$D/genome" "$D/other"
printf 'id,age\n1,40\n2,51\n' >"$D/cohort/table.csv"
printf 'chr1,123\n' >"$D/genome/variants.csv"
printf 'secret of project beta\n' >"$D/other/secret.csv"
printf '#!/bin/sh\necho ran\n' >"$D/cohort/run.sh"
chmod 0755 "$D/cohort/run.sh"
# Symlinks a researcher might hope lead out of the dataset.
ln -s /etc/shadow "$D/cohort/to-shadow"
ln -s "$D/other/secret.csv" "$D/cohort/to-other"
ln -s ../../other/secret.csv "$D/cohort/sub/up-and-out"
chmod -R a+rX "$D"

cat >"$CONF" <<CONF
listen 127.0.0.1:2222
state_dir $S
host_key $S/host_key
CONF

# ---- the two ways in ----------------------------------------------------------

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }

# Builds the room with saferoomctl; fails when this tree cannot (yet).
setup_ctl() {
	ctl init >/dev/null 2>&1 &&
	ctl user add alice --role researcher &&
	ctl user add bob --role researcher &&
	ctl user add carol --role researcher &&
	ctl dataset add cohort "$D/cohort" &&
	ctl dataset add genome "$D/genome" &&
	ctl dataset add other "$D/other" &&
	ctl project add alpha --drb-ref DRB-1 --until 2099-12-31 &&
	ctl project add beta --drb-ref DRB-2 --until 2099-12-31 &&
	ctl project grant alpha cohort && ctl project grant alpha genome &&
	ctl project grant beta other &&
	ctl project member add alpha alice && ctl project member add alpha bob &&
	ctl project member add beta carol &&
	[ -f "$S/policy.db" ]
} >"$T/setup.log" 2>&1

ws() { echo "$S/workspaces/$1"; }

# Makes (as policy would) a project workspace: root:GID, 2770, with the probe in it.
make_workspace() { # PROJECT GID
	mkdir -p "$(ws "$1")/bin"
	chown 0:"$2" "$(ws "$1")"
	chmod 2770 "$(ws "$1")"
	install -m 0755 "$PROBE_BIN" "$(ws "$1")/bin/sandbox-probe"
}

uid_of() {
	case $SR_ESCAPE_VIA in
	saferoomctl) ctl user show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])' ;;
	*) case $1 in alice) echo 61001 ;; bob) echo 61002 ;; carol) echo 61003 ;; esac ;;
	esac
}

gid_of() {
	case $SR_ESCAPE_VIA in
	saferoomctl) ctl project show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["gid"])' ;;
	*) case $1 in alpha) echo 62001 ;; beta) echo 62002 ;; esac ;;
	esac
}

: "${SR_ESCAPE_VIA:=saferoomctl}"
if [ "$SR_ESCAPE_VIA" = saferoomctl ] && ! setup_ctl; then
	sed 's/^/# /' "$T/setup.log" | tail -n 5
	bail "saferoomctl could not build the room (SR_ESCAPE_VIA=sandbox-run bypasses policy)"
fi
if [ "$SR_ESCAPE_VIA" = sandbox-run ]; then
	rm -rf "$S"
	mkdir -m 0700 "$S"
	mkdir -m 0711 "$S/workspaces"
	# sandbox-run, like saferoomd's monitors, sends to a running writer only.
	mkfifo "$T/writer.ready"
	"$AUDIT_WRITER" -d "$S" -R 3 3>"$T/writer.ready" 2>"$T/writer.err" &
	[ "$(timeout 10 head -c 1 "$T/writer.ready")" = R ] || bail "the audit writer did not start"
fi
diag "sandboxes started through $SR_ESCAPE_VIA"
make_workspace alpha "$(gid_of alpha)"
make_workspace beta "$(gid_of beta)"

_lim() { eval "echo \${LIM_$1_$2:-}"; }

set_limit() { # PROJECT KEY VALUE
	case $SR_ESCAPE_VIA in
	saferoomctl) ctl project set "$1" "$2" "$3" >/dev/null ;;
	*) eval "LIM_$1_$2=\$3" ;;
	esac
}

_n=0
# sb USER PROJECT [--pty] -- CMD...: CMD's exit status; its output on stdout/stderr.
sb() {
	_u=$1 _p=$2; shift 2
	_pty=""
	[ "$1" = --pty ] && { _pty=--pty; shift; }
	[ "$1" = -- ] && shift
	case $SR_ESCAPE_VIA in
	saferoomctl) ctl sandbox run --user "$_u" --project "$_p" $_pty -- "$@" ;;
	*)
		_n=$((_n + 1))
		set -- --user "$_u" --uid "$(uid_of "$_u")" --project "$_p" --gid "$(gid_of "$_p")" \
			--session "esc-$$-$_n" --workspace "$(ws "$_p")" --home "home/$_u" \
			--state-dir "$S" --cgroup-parent saferoom $_pty \
			$(_opt "$_p" cpu --cpu) $(_opt "$_p" memory --memory) $(_opt "$_p" pids --pids) \
			$(_opt "$_p" tmp_size --tmp-size) $(_opt "$_p" max_file_size --max-file-size) \
			$(_opt "$_p" max_session --wall-clock) $(_opt "$_p" idle_timeout --idle) \
			$(_datasets "$_p") -- "$@"
		"$RUN" "$@" ;;
	esac
}

# A project's limit as a sandbox-run option (cpu: policy's percent, sandbox-run's thousandths).
_opt() {
	_v=$(_lim "$1" "$2")
	[ -n "$_v" ] || return 0
	[ "$2" = cpu ] && _v=$((_v * 10))
	echo "$3 $_v"
}

_datasets() {
	case $1 in
	alpha) echo "--dataset cohort=$D/cohort --dataset genome=$D/genome" ;;
	beta) echo "--dataset other=$D/other" ;;
	esac
}

# ---- the trail ------------------------------------------------------------------

q() { "$SQLITE3" "$S/audit.db" "$@"; }

MARK=0
mark() { MARK=$(q "SELECT coalesce(max(seq), 0) FROM events" 2>/dev/null || echo 0); }

# new_events TYPE: the details of each TYPE event since the mark, one per line.
new_events() { q "SELECT details FROM events WHERE seq > $MARK AND type = '$1' ORDER BY seq"; }

# The session id of the last sandbox started (from its exec events).
last_session() { q "SELECT session FROM events WHERE type = 'exec' ORDER BY seq DESC LIMIT 1"; }

PROBE=/project/bin/sandbox-probe

# The cgroup directories of sandbox SESSION that exist now (v2, or each v1 hierarchy).
cgroup_dirs() {
	for _c in /sys/fs/cgroup/saferoom/"$1" /sys/fs/cgroup/*/saferoom/"$1"; do
		[ -d "$_c" ] && echo "$_c"
	done
	return 0
}

# Waits up to $2 tenths of a second for SQL condition "$1" on the trail to hold.
wait_trail() {
	_i=0
	while [ "$_i" -lt "$2" ]; do
		[ "$(q "SELECT count(*) > 0 FROM events WHERE seq > $MARK AND $1" 2>/dev/null)" = 1 ] &&
			return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
