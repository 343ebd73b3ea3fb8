#!/bin/sh
# recorder_asciinema.sh — a recording full of hostile bytes is still a valid
# asciicast v2 file: the real `asciinema cat` accepts it, Python's json parses
# every line of it as strict UTF-8, Korean text comes through intact, and the
# hash the recorder reported is the hash of the file.
. "$SR_SRCDIR/tests/lib.sh"

ASCIINEMA=${ASCIINEMA:-asciinema}
require_tool "$ASCIINEMA"
require_tool python3
require_tool script
RECORD="$SR_BUILDDIR/tests/tools/record-bytes"
CAST="$T/hostile.cast"

# asciinema cat insists on a /dev/tty, which `make check` does not have:
# script(1) lends it a pty, while the cast's text goes straight to a file.
asciinema_cat() { # asciinema_cat CAST OUT
	script -qec "'$ASCIINEMA' cat '$1' >'$2'" /dev/null </dev/null >"$T/script.log" 2>&1
}

check "record-bytes records hostile bytes" -- "$RECORD" "$T" hostile.cast
sha=$(cat "$T/last.out")

# First show that the check has teeth: a raw 0xff byte in an event is refused.
printf '{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "\377"]\n' >"$T/broken.cast"
asciinema_cat "$T/broken.cast" "$T/broken.out"
[ $? -ne 0 ]
ok $? "asciinema cat refuses a cast with invalid UTF-8 (control)"

asciinema_cat "$CAST" "$T/cat.out"
rc=$?
ok $rc "asciinema cat accepts the recording"
[ $rc -eq 0 ] || sed 's/^/#   /' "$T/script.log" | tail -n 5
grep -q "안녕하세요, 폐쇄 분석환경입니다." "$T/cat.out"
ok $? "asciinema cat shows the Korean text intact"
grep -q "환경" "$T/cat.out"
ok $? "a Hangul syllable split across writes comes out whole"

check "every line is JSON, the file strict UTF-8, events well-formed" -- python3 - "$CAST" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8", errors="strict")
lines = text.split("\n")
assert lines[-1] == "", "file does not end with a newline"
header = json.loads(lines[0])
assert header["version"] == 2 and header["width"] == 80 and header["height"] == 24, header
assert header["env"]["TERM"] == "xterm-256color", header
last = 0.0
kinds = set()
for n, line in enumerate(lines[1:-1], start=2):
    ev = json.loads(line)
    assert isinstance(ev, list) and len(ev) == 3, (n, line[:80])
    t, kind, data = ev
    assert isinstance(t, float) and t >= last, (n, t)
    assert kind in ("o", "i", "r"), (n, kind)
    assert isinstance(data, str) and data, (n,)
    data.encode("utf-8")  # no lone surrogates
    last = t
    kinds.add(kind)
assert kinds == {"o", "i", "r"}, kinds
PY

python3 - "$CAST" >"$T/checks" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[1:-1]
ev = [json.loads(l) for l in lines]
out = "".join(d for _, k, d in ev if k == "o")
inp = "".join(d for _, k, d in ev if k == "i")
print("every-byte", out.startswith("".join(map(chr, range(128))) + "\ufffd" * 128))
print("osc52", "\x1b]52;c;SGVsbG8gd29ybGQ=\x07" in out)
print("input-nul", "\x00\x03\x04\x1b[A\x7f" in inp)
print("input-split", "한글\r" in inp)
print("resize", ["r", "100x30"] in [e[1:] for e in ev])
print("pending", out.endswith("끝\ufffd"))
PY
for c in every-byte osc52 input-nul input-split resize pending; do
	grep -qx "$c True" "$T/checks"
	ok $? "decoded recording: $c"
done

got=$(sha256sum "$CAST" | cut -d' ' -f1)
[ -n "$sha" ] && [ "$got" = "$sha" ]
ok $? "the SHA-256 from close() is the file's"

check_fails "an existing recording is not overwritten" -- "$RECORD" "$T" hostile.cast
