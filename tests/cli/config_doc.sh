#!/bin/sh
# config_doc.sh — packaging/saferoom.conf documents exactly the keywords of
# the table in broker/config.c: each keyword has its paragraph ("# KEYWORD
# ...") and a commented sample line ("#KEYWORD VALUE"), and no sample line
# names a keyword the table lacks, so the sample cannot drift from the code.
. "$SR_SRCDIR/tests/lib.sh"

SRC="$SR_SRCDIR/broker/config.c"
DOC="$SR_SRCDIR/packaging/saferoom.conf"

# The rows of keywords[]: from its opening line to the closing "};".
sed -n '/^static const struct keyword keywords\[\] = {/,/^};/p' "$SRC" |
	sed -n -e 's/^[[:space:]]*{ *"\([a-z0-9_]*\)".*/\1/p' \
		-e 's/^[[:space:]]*CUSTOM("\([a-z0-9_]*\)",.*/\1/p' \
		-e 's/^[[:space:]]*[A-Z_]*(\([a-z0-9_]*\),.*/\1/p' >"$T/keywords"
n=$(grep -c . "$T/keywords")
[ "$n" -ge 8 ]
ok $? "found the keyword table in broker/config.c ($n keywords)"

while read -r kw; do
	grep -q "^# $kw " "$DOC"
	ok $? "$kw has its paragraph in packaging/saferoom.conf"
	grep -q "^#$kw " "$DOC"
	ok $? "$kw has a commented sample line in packaging/saferoom.conf"
done <"$T/keywords"

# Every sample line must name a keyword of the table.
sed -n 's/^#\([a-z][a-z0-9_]*\) .*/\1/p' "$DOC" | sort -u >"$T/documented"
stale=$(sort -u "$T/keywords" | comm -13 - "$T/documented")
[ -z "$stale" ]
ok $? "no sample line names an unknown keyword${stale:+ (stale: $stale)}"
