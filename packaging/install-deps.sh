#!/bin/sh
# install-deps.sh — installs what saferoom needs to build, test and run, from
# Debian's archive only.  Idempotent: installs only what is missing.
set -eu

# Build: toolchain, autotools, the -dev packages configure checks for, and
# debhelper for the Debian package (packaging/build-deb.sh).  Keep this list and
# the Build-Depends of packaging/debian/control the same, but for
# build-essential and dpkg-dev, which every Debian build has
# (tests/cli/debian_package.sh checks).
BUILD="build-essential dpkg-dev debhelper autoconf automake libtool pkg-config
libssh-dev libseccomp-dev libcap-dev libsqlite3-dev libaudit-dev libssl-dev
libjson-c-dev liboath-dev libqrencode-dev zlib1g-dev"
# Tests and the demo: the real tools saferoom is tested against; lintian,
# mandoc, man-db and systemd's systemd-analyze check the package, the man
# pages and the unit; faketime makes old audit events for the retention tests.
TEST="sqlite3 auditd asciinema openssh-client openssh-server putty-tools
bubblewrap oathtool zbar-tools curl procps iproute2 util-linux python3 hyperfine
faketime mandoc man-db lintian systemd"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (sudo packaging/install-deps.sh)" >&2
	exit 1
fi

missing=""
for p in $BUILD $TEST; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps.sh: all packages present"
	exit 0
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
