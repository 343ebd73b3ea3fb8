#!/bin/sh
# debian_package.sh — the Debian package builds, lints clean and carries
# what it should.
#
# One real build with packaging/build-deb.sh (dpkg-buildpackage -us -uc -b on
# a copy of the tree; nocheck, since this suite is the check), then: lintian
# reports no error and no warning; `dpkg-deb -c` lists every program and man
# page that `make install` installs, the systemd unit and the conffile, and
# nothing set-uid; the unit passes `systemd-analyze verify`; and the
# maintainer script, run in a private mount namespace over a copy of /etc,
# creates the `saferoom` system user and /var/lib/saferoom (0700) without
# touching the host.  Before the build, the packaging is checked against the
# rest of the tree: versions agree and every Build-Depends is installed by
# packaging/install-deps.sh.
. "$SR_SRCDIR/tests/lib.sh"

for t in dpkg-buildpackage dh lintian dpkg-deb dpkg-parsechangelog systemd-analyze man unshare; do
	require_tool "$t"
done
DEB="$SR_SRCDIR/packaging/debian"
DEPS="$SR_SRCDIR/packaging/install-deps.sh"

# ---- the packaging agrees with the tree -----------------------------------------------------
ac_version=$(sed -n 's/^AC_INIT(\[saferoom\], \[\([^]]*\)\].*/\1/p' "$SR_SRCDIR/configure.ac")
deb_version=$(dpkg-parsechangelog -l "$DEB/changelog" -S Version)
[ -n "$ac_version" ] && [ "$deb_version" = "$ac_version" ]
ok $? "debian/changelog's version ($deb_version) is configure.ac's ($ac_version)"

# Build-Depends as bare package names: no versions, no build profiles.
sed -n '/^Build-Depends:/,/^[A-Z]/p' "$DEB/control" | sed '$d;s/^Build-Depends://' |
	tr ',' '\n' | sed 's/[[(<].*//;s/[[:space:]]//g;/^$/d;s/^debhelper-compat$/debhelper/' \
	| sort -u >"$T/build-depends"
# The package names of install-deps.sh's lists.
sed -n '/^BUILD="/,/"$/p;/^TEST="/,/"$/p' "$DEPS" | sed 's/^[A-Z]*="//;s/"$//' |
	tr ' ' '\n' | sed '/^$/d' | sort -u >"$T/install-deps"
missing=$(comm -23 "$T/build-depends" "$T/install-deps" | tr '\n' ' ')
[ "$(wc -l <"$T/build-depends")" -gt 10 ] && [ -z "$missing" ]
ok $? "every Build-Depends is in install-deps.sh${missing:+ (missing: $missing)}"
# build-essential and dpkg-dev are implied by every Debian build.
sed -n '/^BUILD="/,/"$/p' "$DEPS" | sed 's/^BUILD="//;s/"$//' | tr ' ' '\n' |
	sed '/^$/d;/^build-essential$/d;/^dpkg-dev$/d' | sort -u >"$T/build-list"
extra=$(comm -23 "$T/build-list" "$T/build-depends" | tr '\n' ' ')
[ -z "$extra" ]
ok $? "every build package of install-deps.sh is a Build-Depends${extra:+ (not in control: $extra)}"

# ---- the build ----------------------------------------------------------------------------------
mkdir "$T/out"
# Nothing of this suite's make may leak into debian/rules' own make.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u GNUMAKEFLAGS \
	TMPDIR="$T" DEB_BUILD_OPTIONS="nocheck parallel=2" \
	"$SR_SRCDIR/packaging/build-deb.sh" -o "$T/out" >"$T/build.log" 2>&1
rc=$?
ok $rc "packaging/build-deb.sh builds the package (dpkg-buildpackage -us -uc -b)"
[ $rc -eq 0 ] || { tail -n 30 "$T/build.log" | sed 's/^/#   /'; exit 1; }
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
PKG="$T/out/saferoom_${deb_version}_${arch}.deb"
CHANGES="$T/out/saferoom_${deb_version}_${arch}.changes"
[ -f "$PKG" ] && [ -f "$CHANGES" ]
ok $? "the .deb and .changes are in the output directory"
[ -z "$(ls -A "$T" | grep '^saferoom-deb-')" ]
ok $? "build-deb.sh removed its scratch tree"

lintian --fail-on error,warning "$CHANGES" >"$T/lintian.out" 2>"$T/lintian.err"
ok $? "lintian reports no error and no warning"
sed 's/^/#   lintian: /' "$T/lintian.out"

# ---- contents -------------------------------------------------------------------------------------
dpkg-deb -c "$PKG" | awk '{ print $1, $2, $6 }' >"$T/contents"
has() { # has MODE PATH: the package holds PATH with that mode, owned by root
	grep -qxF -- "$1 root/root ./$2" "$T/contents"
}
# What `make install` installs, from the variables of the generated Makefile
# (read, not run: a make running inside this make could remake things).
mkvar() {
	awk -v v="$1" '$0 ~ "^" v " =" { f = 1; sub("^" v " = *", "") }
		f { c = sub(/\\$/, ""); printf "%s ", $0; if (!c) exit }' "$SR_BUILDDIR/Makefile" |
		sed 's/\$(EXEEXT)//g' | tr -s ' \t' '\n' | sed '/^$/d'
}
for kind in bin sbin pkglibexec; do
	mkvar "${kind}_PROGRAMS" | sed "s/^/$kind /"
done >"$T/installed"
mkvar dist_man_MANS | sed 's/^/man /' >>"$T/installed"
[ "$(grep -c '^sbin ' "$T/installed")" -ge 2 ] && [ "$(grep -c '^man ' "$T/installed")" -ge 4 ]
ok $? "the Makefile says what make install installs ($(wc -l <"$T/installed") programs and pages)"
while read -r kind name; do
	case $kind in
	bin) path=usr/bin/$name mode=-rwxr-xr-x ;;
	sbin) path=usr/sbin/$name mode=-rwxr-xr-x ;;
	pkglibexec) path=usr/libexec/saferoom/$name mode=-rwxr-xr-x ;;
	man) page=${name##*/}; path=usr/share/man/man${page##*.}/$page.gz mode=-rw-r--r-- ;;
	*) path=unknown mode=unknown ;;
	esac
	has "$mode" "$path"
	ok $? "the package carries $path"
done <"$T/installed"
has -rw-r--r-- etc/saferoom/saferoom.conf
ok $? "the package carries /etc/saferoom/saferoom.conf, 0644 root"
has -rw-r--r-- lib/systemd/system/saferoomd.service ||
	has -rw-r--r-- usr/lib/systemd/system/saferoomd.service
ok $? "the package carries the systemd unit saferoomd.service"
! awk '$1 ~ /^-/ && $1 ~ /[sS]/' "$T/contents" | grep -q .
ok $? "nothing in it is set-uid or set-gid"
! grep -q ' \./var/' "$T/contents"
ok $? "nothing under /var: the state directory is made on installation"

mkdir "$T/root" "$T/ctl"
dpkg-deb -x "$PKG" "$T/root" && dpkg-deb -e "$PKG" "$T/ctl"
ok $? "dpkg-deb extracts it"
cmp -s "$T/root/etc/saferoom/saferoom.conf" "$SR_SRCDIR/packaging/saferoom.conf"
ok $? "the conffile is packaging/saferoom.conf"
grep -qx /etc/saferoom/saferoom.conf "$T/ctl/conffiles"
ok $? "/etc/saferoom/saferoom.conf is a conffile"
UNIT=$(ls "$T"/root/lib/systemd/system/saferoomd.service "$T"/root/usr/lib/systemd/system/saferoomd.service 2>/dev/null | head -n 1)
cmp -s "$UNIT" "$SR_SRCDIR/packaging/systemd/saferoomd.service"
ok $? "the unit is packaging/systemd/saferoomd.service"
dpkg-deb -f "$PKG" Depends | grep -q 'adduser'
ok $? "it depends on adduser, which its postinst runs"
! grep -q 'systemctl.*start\|deb-systemd-invoke' "$T/ctl/postinst"
ok $? "postinst neither enables nor starts the gateway"

# ---- the unit -----------------------------------------------------------------------------------------
# verify checks every directive and the programs it names: point those at the
# extracted binaries, and man at the extracted pages for Documentation=.
sed "s|/usr/sbin/saferoomd|$T/root/usr/sbin/saferoomd|g" "$UNIT" >"$T/saferoomd.service"
MANPATH="$T/root/usr/share/man" systemd-analyze verify "$T/saferoomd.service" >"$T/verify.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/verify.out" ]
ok $? "systemd-analyze verify accepts the unit, without a word"
sed 's/^/#   /' "$T/verify.out"
grep -q '^ExecStart=/usr/sbin/saferoomd -D -f /etc/saferoom/saferoom.conf$' "$UNIT"
ok $? "ExecStart runs saferoomd -D -f /etc/saferoom/saferoom.conf"
awk '/^\[Service\]/ { s = 1; next } /^\[/ { s = 0 } s' "$UNIT" |
	awk 'NF == 0 { next } /^#/ { c = 1; next } { if (!c) print; c = 0 }' >"$T/bare"
[ ! -s "$T/bare" ]
ok $? "a comment stands above every directive of [Service]"
sed 's/^/#   no comment: /' "$T/bare"
for d in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes PrivateDevices=yes \
	ProtectKernelTunables=yes ProtectKernelModules=yes SystemCallArchitectures=native \
	LimitCORE=0 KillMode=mixed; do
	grep -qx "$d" "$UNIT"
	ok $? "the unit sets $d"
done
grep '^CapabilityBoundingSet=' "$UNIT" | grep -q 'CAP_SYS_MODULE\|CAP_SYS_RAWIO\|CAP_MKNOD\|CAP_SYS_BOOT\|CAP_BPF'
ok $(( $? == 0 )) "its bounding set leaves out module loading, raw I/O, mknod, reboot and bpf"
systemd-analyze security --offline=true "$T/saferoomd.service" 2>/dev/null |
	tail -n 1 | sed 's/^/# systemd-analyze security: /'

# ---- installing it -------------------------------------------------------------------------------------
# The postinst, run as dpkg would, in a private mount namespace over a copy of
# /etc and empty /var/lib and /var/log: the host's users stay as they are.
if [ "$(id -u)" -ne 0 ]; then
	[ "${CI:-}" = true ] && bail "installing needs root, and CI=true forbids skipping"
	_tap_n=$((_tap_n + 1)); echo "ok $_tap_n # SKIP installing needs root"
else
	sha256sum /etc/passwd /etc/group >"$T/host-before"
	cat >"$T/install.sh" <<'EOS'
set -e
T=$1
cp -a /etc "$T/etc"
# The package must create the user even where an earlier test made one.
for f in passwd group shadow gshadow; do
	[ -f "$T/etc/$f" ] && sed -i '/^saferoom:/d' "$T/etc/$f"
done
mount --bind "$T/etc" /etc
mkdir -p "$T/varlib" "$T/varlog"
mount --bind "$T/varlib" /var/lib
mount --bind "$T/varlog" /var/log
DPKG_MAINTSCRIPT_PACKAGE=saferoom DPKG_MAINTSCRIPT_NAME=postinst sh "$T/ctl/postinst" configure
# Configuring again (an upgrade) must work too.
DPKG_MAINTSCRIPT_PACKAGE=saferoom DPKG_MAINTSCRIPT_NAME=postinst sh "$T/ctl/postinst" configure ""
getent passwd saferoom >"$T/passwd.out"
getent group saferoom >"$T/group.out"
stat -c '%a %U %F' /var/lib/saferoom >"$T/statedir.out"
EOS
	unshare --mount --propagation private sh "$T/install.sh" "$T" >"$T/install.log" 2>&1
	rc=$?
	ok $rc "postinst configure runs (twice) as dpkg runs it"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$T/install.log"
	IFS=: read -r name _ uid gid _ home shell <"$T/passwd.out"
	[ "$name" = saferoom ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ]
	ok $? "it creates the system user saferoom (uid ${uid:-none})"
	[ "$home" = /nonexistent ] && [ ! -e /nonexistent ] && case $shell in */nologin|*/false) true ;; *) false ;; esac
	ok $? "with no home and no login shell ($home, $shell)"
	cut -d: -f3 "$T/group.out" | grep -qx "$gid"
	ok $? "and its own group saferoom"
	grep -qx '700 root directory' "$T/statedir.out"
	ok $? "it creates /var/lib/saferoom, mode 0700, owned by root"
	sha256sum -c --quiet "$T/host-before" >/dev/null 2>&1
	ok $? "the host's /etc/passwd and /etc/group are untouched"
fi
