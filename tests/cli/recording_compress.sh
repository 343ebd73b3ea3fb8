#!/bin/sh
# recording_compress.sh — recordings compressed at session end still replay.
#
# audit-fill -z compresses each recording once its session.end is written,
# with sr_recording_compress() as saferoomd does.  The trail keeps naming
# NAME and the SHA-256 of its plain bytes; `audit replay` must hand back
# exactly those bytes from NAME.gz, which the real `asciinema cat` accepts,
# and refuse a compressed file whose contents are not what the trail says.
. "$SR_SRCDIR/tests/lib.sh"

require_tool "${ASCIINEMA:=asciinema}"
require_tool script
require_tool gzip
require_tool python3
FILL="$SR_BUILDDIR/tests/tools/audit-fill"
S="$T/state"
mkdir -m 0700 "$S"
CONF=$(make_conf)

ctl() { "$SAFEROOMCTL" -c "$CONF" "$@"; }

# The trail's hash of a session's recording, read without saferoom.
trail_sha() {
	python3 -c 'import json,sqlite3,sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
d = db.execute("SELECT details FROM events WHERE type = ? AND session = ?",
               ("session.end", sys.argv[2])).fetchone()[0]
print(json.loads(d)["recording_sha256"])' "$S/audit.db" "$1"
}

check "fill 60 events, compressing each recording at its session's end" -- "$FILL" -z "$S" 60
ls "$S/recordings" >"$T/ls"
! grep -q '\.cast$' "$T/ls" && grep -q '^sess-000002\.cast\.gz$' "$T/ls"
ok $? "only .cast.gz files are left, no plain ones"
! grep -q '\.tmp$' "$T/ls"
ok $? "and no temporary files"
gzip -t "$S/recordings/sess-000002.cast.gz"
ok $? "gzip -t accepts a compressed recording"
[ "$(gzip -dc "$S/recordings/sess-000002.cast.gz" | sha256sum | cut -d' ' -f1)" = "$(trail_sha sess-000002)" ]
ok $? "zcat | sha256sum gives the hash in the trail (the check an auditor can do by hand)"
[ "$(stat -c %a "$S/recordings/sess-000002.cast.gz")" = 600 ]
ok $? "the compressed file is mode 0600"

ctl audit replay sess-000002 >"$T/r.cast" 2>"$T/err"
ok $? "replay of a compressed recording"
gzip -dc "$S/recordings/sess-000002.cast.gz" | cmp -s - "$T/r.cast"
ok $? "gives the recorded bytes"
script -qec "'$ASCIINEMA' cat '$T/r.cast' >'$T/cat.out'" /dev/null </dev/null >"$T/script.log" 2>&1
ok $? "asciinema cat accepts the replayed recording"
grep -q 'session 2' "$T/cat.out"
ok $? "and prints what was recorded"

# After a crash between rename and unlink both files exist, with the same bytes.
gzip -dc "$S/recordings/sess-000003.cast.gz" >"$S/recordings/sess-000003.cast"
ctl audit replay sess-000003 >"$T/r3.cast" 2>"$T/err"
ok $? "replay when both NAME and NAME.gz exist"
cmp -s "$T/r3.cast" "$S/recordings/sess-000003.cast"
ok $? "reads NAME"

# A forged compressed recording: valid gzip, other contents.
gzip -dc "$S/recordings/sess-000005.cast.gz" >"$T/plain"
printf '[0.7, "o", "forged"]\n' >>"$T/plain"
gzip -c "$T/plain" >"$S/recordings/sess-000005.cast.gz"
check_fails "replay refuses a compressed recording the trail does not vouch for" -- \
	ctl audit replay sess-000005
ok $(( $(wc -c <"$T/last.out") != 0 )) "and writes none of it"
grep -q 'does not match' "$T/last.err"
ok $? "saying it does not match"

head -c 40 "$S/recordings/sess-000006.cast.gz" >"$T/cut" && mv "$T/cut" "$S/recordings/sess-000006.cast.gz"
check_fails "replay of a truncated .gz is an error" -- ctl audit replay sess-000006
grep -q 'corrupt gzip' "$T/last.err"
ok $? "naming it corrupt"

rm "$S/recordings/sess-000007.cast.gz"
check_fails "replay of a recording that is gone" -- ctl audit replay sess-000007
grep -q 'no such recording' "$T/last.err"
ok $? "saying neither form exists"

ln -s /etc/passwd "$S/recordings/sess-000008.cast"
check_fails "a symlink in place of a recording is not followed" -- ctl audit replay sess-000008
