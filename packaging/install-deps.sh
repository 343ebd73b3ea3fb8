#!/bin/sh
# install-deps.sh — installs what saferoom needs to build, test and run, from
# Debian's archive only.  Idempotent: installs only what is missing.
set -eu

# Build: toolchain, autotools and the -dev packages configure checks for.
BUILD="build-essential autoconf automake libtool pkg-config
libssh-dev libseccomp-dev libcap-dev libsqlite3-dev libaudit-dev libssl-dev
libjson-c-dev liboath-dev libqrencode-dev"
# Tests and the demo: the real tools saferoom is tested against.
TEST="sqlite3 auditd asciinema openssh-client openssh-server putty-tools
bubblewrap oathtool zbar-tools procps iproute2 util-linux python3 hyperfine"

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
