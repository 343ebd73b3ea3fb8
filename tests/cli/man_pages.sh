#!/bin/sh
# man_pages.sh — the man pages render cleanly and match the code.
#
# Each page passes `mandoc -Tlint` and `groff -ww` without a message.  Then,
# so that the pages cannot drift from the code: every keyword of the table
# in broker/config.c has its entry in saferoom.conf(5); every command and
# every option in the usage strings of broker/verbs.c appears in
# saferoomctl(8); every command saferoom-export's own help names appears in
# saferoom-export(1); and saferoomd's options are in saferoomd(8).  The
# pages are compared as rendered text, so markup cannot hide a word.
. "$SR_SRCDIR/tests/lib.sh"

require_tool mandoc
require_tool groff
MAN="$SR_SRCDIR/packaging/man"
PAGES="saferoom-export.1 saferoom.conf.5 saferoomctl.8 saferoomd.8"

# ---- rendering ---------------------------------------------------------------------------------
for p in $PAGES; do
	mandoc -Tlint -W warning "$MAN/$p" >"$T/lint" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T/lint" ]
	ok $? "mandoc -Tlint: $p is clean"
	sed 's/^/#   /' "$T/lint"
	groff -mdoc -ww -z "$MAN/$p" >"$T/groff" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T/groff" ]
	ok $? "groff -ww: $p renders without a warning"
	sed 's/^/#   /' "$T/groff"
	# Rendered as a reader sees it, one blank per run of blanks, for the checks below.
	mandoc -Tascii "$MAN/$p" | col -b | tr -s ' \t' '  ' >"$T/$p.txt"
done

# ---- saferoom.conf(5): every keyword -----------------------------------------------------------
# The rows of keywords[], whether written { "name", ... } or through a macro,
# CUSTOM("name", ...) or INT(name, ...); the macros' own definitions skipped.
awk '/^static const struct keyword keywords\[\] = \{/ { t = 1; next }
	t && /^\};/ { t = 0 }
	t { if (cont || /^#/) { cont = /\\$/; next } print }' "$SR_SRCDIR/broker/config.c" |
	sed -nE 's/^[[:space:]]*([A-Z_]+\(|\{)[[:space:]]*"?([a-z][a-z0-9_]*)"?[[:space:]]*,.*/\2/p' \
	>"$T/keywords"
n=$(grep -c . "$T/keywords")
[ "$n" -ge 8 ]
ok $? "found the keyword table in broker/config.c ($n keywords)"
while read -r kw; do
	# An entry of KEYWORDS: the keyword at the start of a tagged line.
	grep -q "^ *$kw " "$T/saferoom.conf.5.txt"
	ok $? "saferoom.conf(5) documents $kw"
done <"$T/keywords"

# ---- saferoomctl(8): every command and option of broker/verbs.c ----------------------------------------
# The usage strings: each line of each C string in sr_verbs[], with " | "
# separating commands on one line and a description after a run of blanks.
sed -n '/^const struct sr_verb sr_verbs\[\] = {/,/^};/p' "$SR_SRCDIR/broker/verbs.c" |
	grep -o '"[^"]*"' | sed 's/^"//;s/"$//;s/\\n$//' | grep ' ' |
	sed 's/ | /\n/g' | sed 's/   *.*//' >"$T/usages"
[ "$(grep -c . "$T/usages")" -ge 20 ]
ok $? "found the usage strings in broker/verbs.c ($(grep -c . "$T/usages") commands)"
# A command is its leading lower-case words: "user key add", "audit prune".
awk '{ c = $1; for (i = 2; i <= NF && $i ~ /^[a-z][a-z_]*$/; i++) c = c " " $i; print c }' \
	"$T/usages" | sort -u >"$T/commands"
while read -r cmd; do
	grep -q "^ *$cmd\( \|$\)" "$T/saferoomctl.8.txt"
	ok $? "saferoomctl(8) has an entry for: $cmd"
done <"$T/commands"
grep -o -- '--[a-z][a-z-]*' "$T/usages" | sort -u >"$T/options"
while read -r opt; do
	grep -q -- "$opt\([^a-z-]\|$\)" "$T/saferoomctl.8.txt"
	ok $? "saferoomctl(8) describes $opt"
done <"$T/options"
# Every word a command takes literally (roles, settings): "researcher",
# "allow_from", "never"; upper case is a placeholder, -- an option.
tr -s ' |[],.>' '\n' <"$T/usages" | grep -x '[a-z][a-z_]*' | sort -u >"$T/literals"
while read -r w; do
	grep -qw -- "$w" "$T/saferoomctl.8.txt"
	ok $? "saferoomctl(8) names $w"
done <"$T/literals"

# ---- saferoom-export(1) ------------------------------------------------------------------------------
EXPORT="$SR_BUILDDIR/saferoom-export"
[ -x "$EXPORT" ]
ok $? "saferoom-export is built"
"$EXPORT" --help >"$T/export-help" 2>&1
sed -n 's/.*saferoom-export \([a-z]\+\).*/\1/p' "$T/export-help" | sort -u >"$T/export-cmds"
[ -s "$T/export-cmds" ]
ok $? "saferoom-export --help names its commands"
while read -r cmd; do
	grep -q "^ *$cmd\( \|$\)" "$T/saferoom-export.1.txt"
	ok $? "saferoom-export(1) has an entry for: $cmd"
done <"$T/export-cmds"
grep -o -- '--[a-z][a-z-]*' "$T/export-help" | grep -vx -- '--help' | sort -u |
	while read -r opt; do
		grep -q -- "$opt" "$T/saferoom-export.1.txt" || echo "$opt"
	done >"$T/export-missing"
[ ! -s "$T/export-missing" ]
ok $? "saferoom-export(1) describes every option of its help$(tr '\n' ' ' <"$T/export-missing")"

# ---- saferoomd(8) --------------------------------------------------------------------------------------
SAFEROOMD="$SR_BUILDDIR/saferoomd"
"$SAFEROOMD" -x >/dev/null 2>"$T/usage"
sed -n 's/^usage: saferoomd //p' "$T/usage" | grep -o -- '-[A-Za-z]' | tr -d - | sort -u >"$T/d-opts"
[ -s "$T/d-opts" ]
ok $? "saferoomd's usage names its options ($(tr '\n' ' ' <"$T/d-opts"))"
while read -r o; do
	grep -q "^ *-$o\( \|$\)" "$T/saferoomd.8.txt"
	ok $? "saferoomd(8) describes -$o"
done <"$T/d-opts"

# ---- installation ------------------------------------------------------------------------------------------
for p in $PAGES; do
	grep -q "packaging/man/$p" "$SR_SRCDIR/packaging/local.mk"
	ok $? "make install installs $p (packaging/local.mk)"
done
