#!/bin/sh
# demo.sh — the README's first command, packaging/demo.sh, run the way a
# newcomer runs it but in a scratch directory and on a free port (with this
# build tree instead of installing and building): it makes the room, prints
# the ssh command lines, and serves them.  The printed command for alice
# gives a shell that lists /data (through a pty, with the real ssh client),
# dave's verifies the trail; a second run reuses the room, --fresh makes it
# again from the same seed.
. "$SR_SRCDIR/tests/lib.sh"
. "$SR_SRCDIR/tests/e2e/broker-lib.sh"
require_root
require_tool ssh
require_tool ssh-keygen
require_tool python3
require_tool ss
DEMO_DIR="$T/demo"
PORT=$(free_port)

# demo_start [ARGS]: runs packaging/demo.sh in the background, waits for its listener.
demo_start() {
	SAFEROOM_DEMO_DIR="$DEMO_DIR" SAFEROOM_DEMO_PORT="$PORT" SAFEROOM_DEMO_BUILDDIR="$SR_BUILDDIR" \
		sh "$SR_SRCDIR/packaging/demo.sh" "$@" >"$T/demo.out" 2>"$T/demo.err" &
	DEMO_PID=$!
	on_exit "demo_stop"
	_i=0
	while ! ss -Hltn "sport = :$PORT" | grep -q . && [ $_i -lt 600 ]; do
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1; _i=$((_i + 1))
	done
	ss -Hltn "sport = :$PORT" | grep -q .
}
demo_stop() {
	[ -n "${DEMO_PID:-}" ] || return 0
	kill -TERM "$DEMO_PID" 2>/dev/null
	wait "$DEMO_PID" 2>/dev/null
	_rc=$?
	DEMO_PID=
	return $_rc
}
# printed WHO WHAT: the ssh line demo.sh printed for WHO ending in WHAT, without the indent.
printed() { grep -E "^  ssh .*-i [^ ]*/keys/$1 $1@127\.0\.0\.1$2\$" "$T/demo.out" | head -n 1 | sed 's/^  //'; }
# run_printed LINE [SSH OPTIONS]: the printed line, with test options inserted after "ssh".
run_printed() {
	_l=$1; shift
	# shellcheck disable=SC2086
	timeout 60 ssh -o BatchMode=yes -o LogLevel=ERROR "$@" ${_l#ssh }
}

demo_start
ok $? "packaging/demo.sh makes the room and listens on 127.0.0.1:$PORT"
[ -f "$DEMO_DIR/data/cancer_cohort/patients.csv" ] && [ -f "$DEMO_DIR/data/cancer_cohort/treatments.csv" ] &&
	[ -f "$DEMO_DIR/data/lung_screening/screening.csv" ]
ok $? "it made the two synthetic datasets"
rows=$(($(wc -l <"$DEMO_DIR/data/cancer_cohort/patients.csv") - 1))
[ "$rows" -ge 2000 ]
ok $? "the cancer cohort has a few thousand patients ($rows)"
head -n 1 "$DEMO_DIR/data/cancer_cohort/patients.csv" | grep -q "patient_id,sex,age_at_diagnosis,diagnosis_year,icd10,site,stage"
ok $? "... with pseudonymous id, sex, age, year, ICD-10 code, site and stage"
[ "$(cut -d, -f5 "$DEMO_DIR/data/cancer_cohort/patients.csv" | sed 1d | grep -cv '^C[0-9][0-9]')" -eq 0 ]
ok $? "... every diagnosis an ICD-10 C code"
sha_before=$(cat "$DEMO_DIR"/data/*/*.csv | sha256sum)
for u in alice bob carol dave; do
	[ -f "$DEMO_DIR/keys/$u" ] && [ -f "$DEMO_DIR/keys/$u.pub" ] || break
done
ok $? "each person has an ed25519 key in demo/keys"
"$SAFEROOMCTL" -c "$DEMO_DIR/saferoom.conf" project list >"$T/projects" 2>&1 &&
	grep -q onco-survival "$T/projects" && grep -q lung-screen "$T/projects" && grep -q DRB- "$T/projects"
ok $? "two projects with DRB references"

alice_line=$(printed alice "")
[ -n "$alice_line" ]
ok $? "demo.sh prints alice's ssh command line: $alice_line"
printf 'ls /data\ncommand -v saferoom-export >/dev/null && echo export-tool-$((40+2))\nexit 0\n' >"$T/in"
run_printed "$alice_line" -tt <"$T/in" >"$T/out" 2>&1
ok $? "that command gives alice a shell through a pty"
grep -q cancer_cohort "$T/out"
ok $? "... where ls /data shows her project's dataset"
grep -q "export-tool-42" "$T/out"
ok $? "... and saferoom-export is there to submit results"
! grep -q lung_screening "$T/out"
ok $? "... and not the other project's"
grep -q "project onco-survival (DRB DRB-2026-014)" "$T/out"
ok $? "... after a banner naming the project and its DRB reference"

dave_line=$(printed dave " audit verify")
[ -n "$dave_line" ]
ok $? "demo.sh prints dave's audit verify"
run_printed "$dave_line" </dev/null >"$T/out" 2>&1 && grep -q "audit trail intact" "$T/out"
ok $? "dave's audit verify says the trail is intact"
carol_line=$(printed carol " export list")
run_printed "$carol_line" </dev/null >"$T/out" 2>&1
ok $? "carol's export list runs"

demo_stop
ok $? "Ctrl-C (SIGTERM) stops the demo cleanly"

# Again: the room is reused, keys and all.
key_before=$(cat "$DEMO_DIR/keys/alice.pub")
demo_start
ok $? "a second run starts again"
grep -q "reusing" "$T/demo.err"
ok $? "... reusing the room"
[ "$(cat "$DEMO_DIR/keys/alice.pub")" = "$key_before" ]
ok $? "... with the same keys"
run_printed "$alice_line" -tt <"$T/in" >"$T/out" 2>&1 && grep -q cancer_cohort "$T/out"
ok $? "... and alice gets in with the printed command"
demo_stop

demo_start --fresh
ok $? "--fresh starts over"
[ "$(cat "$DEMO_DIR/keys/alice.pub")" != "$key_before" ]
ok $? "... with new keys"
[ "$(cat "$DEMO_DIR"/data/*/*.csv | sha256sum)" = "$sha_before" ]
ok $? "... and the very same synthetic data (fixed seed)"
demo_stop

mkdir -p "$T/notdemo"
echo precious >"$T/notdemo/file"
SAFEROOM_DEMO_DIR="$T/notdemo" SAFEROOM_DEMO_PORT="$PORT" SAFEROOM_DEMO_BUILDDIR="$SR_BUILDDIR" \
	sh "$SR_SRCDIR/packaging/demo.sh" --fresh >/dev/null 2>"$T/err"
ok $([ $? -ne 0 ] && [ -f "$T/notdemo/file" ] && echo 0 || echo 1) \
	"--fresh never removes a directory demo.sh did not make"
