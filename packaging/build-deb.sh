#!/bin/sh
# build-deb.sh - builds the saferoom Debian package from this source tree.
#
#   packaging/build-deb.sh [-o OUTDIR] [-l]
#
# The Debian packaging lives in packaging/debian, not in debian/, so that the
# top level stays the autotools tree.  This script copies the sources to a
# scratch directory saferoom-VERSION/ (in a git work tree: the files git
# tracks plus new ones it does not ignore, so uncommitted work is included
# and build output is not), puts packaging/debian there as debian/, and runs
#   dpkg-buildpackage -us -uc -b
# in the copy, which never touches the work tree.  The .deb, .buildinfo and
# .changes files end up in OUTDIR (default: the current directory); -l runs
# lintian on them as well and fails on any error it reports.
#
# DEB_BUILD_OPTIONS=nocheck skips the unit tests at build time (the nocheck
# build profile is then set too, so their tools need not be installed).
# Needs: dpkg-dev, debhelper, and the Build-Depends of packaging/debian/control
# (packaging/install-deps.sh installs them all).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(pwd)
lint=0
while getopts o:l opt; do
	case $opt in
	o) out=$(cd "$OPTARG" && pwd) ;;
	l) lint=1 ;;
	*) echo "usage: $0 [-o OUTDIR] [-l]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "usage: $0 [-o OUTDIR] [-l]" >&2; exit 2; }

version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/saferoom-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src="$work/saferoom-$version"
mkdir "$src"

# The sources, without anything a build left behind.
# Only when $top is itself a work tree's top: an unpacked release tarball
# may sit inside someone else's checkout (make distcheck does exactly that).
if [ "$(git -C "$top" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$top" && pwd -P)" ]; then
	git -C "$top" ls-files -z --cached --others --exclude-standard |
		(cd "$top" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		(cd "$top" && tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$top" --exclude=./debian -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -R "$top/packaging/debian" "$src/debian"

profiles=""
case " ${DEB_BUILD_OPTIONS:-} " in
*" nocheck "*) profiles="-Pnocheck" ;;
esac
(cd "$src" && dpkg-buildpackage -us -uc -b $profiles)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes="$work/saferoom_${version}_${arch}.changes"
for f in $(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]* [0-9]* [^ ]* [^ ]* //p' "$changes") \
	"saferoom_${version}_${arch}.changes"; do
	cp "$work/$f" "$out/"
done
echo "build-deb.sh: $out/saferoom_${version}_${arch}.deb"
if [ $lint -eq 1 ]; then
	lintian --fail-on error "$out/saferoom_${version}_${arch}.changes"
fi
