#!/bin/sh
# files.sh — what a researcher can see and change on the file system.
# Attacks: reading /etc/shadow, another project's dataset, the host's home
# directories; writing, chmod-ing or deleting inside a dataset; remounting a
# dataset read-write or unmounting it; a symlink inside a dataset pointing
# outside; writing /proc/sys, /proc/sysrq-trigger or core_pattern, reading
# /proc/kcore; cgroup release_agent.  Positively: /data lists exactly the
# granted datasets, /project is writable and shared by two members.
. "$SR_SRCDIR/tests/escape/lib-escape.sh"

# The control: on the host, as root, the probe does read what it must not
# read inside, so that "blocked" below is not the probe failing on its own.
"$PROBE_BIN" read /etc/shadow "$D/other/secret.csv" >"$T/control" 2>&1
[ $? -eq 1 ]
ok $? "control: on the host the probe reads /etc/shadow and beta's dataset"

check "reading /etc/shadow, beta's dataset, /home and /root fails inside alpha" -- \
	sb alice alpha -- $PROBE read /etc/shadow /etc/gshadow "$D/other/secret.csv" \
	/data/other/secret.csv /home /root /root/.bashrc
check "/etc/passwd names only root, alice and nobody" -- \
	sb alice alpha -- sh -c 'cut -d: -f1 /etc/passwd | tr "\n" " " | grep -qx "root alice nobody "'
check "no /sys, no /home, no /root, no /boot inside" -- \
	sb alice alpha -- sh -c '! ls -d /sys /home /root /boot 2>/dev/null | grep .'

sb alice alpha -- ls /data >"$T/data" 2>&1
printf 'cohort\ngenome\n' | cmp -s - "$T/data"
ok $? "/data of alpha lists exactly cohort and genome"
sb carol beta -- ls /data >"$T/data" 2>&1
printf 'other\n' | cmp -s - "$T/data"
ok $? "/data of beta lists exactly other"
check "a dataset is readable" -- sb alice alpha -- grep -q '^2,51$' /data/cohort/table.csv

check "writing, chmod, chown, truncating, renaming, deleting in a dataset fail" -- \
	sb alice alpha -- $PROBE modify /data/cohort/table.csv
check "the dataset is unchanged on the host" -- grep -q '^2,51$' "$D/cohort/table.csv"
check "remounting a dataset read-write or unmounting it fails" -- \
	sb alice alpha -- $PROBE remount /data/cohort
check "the dataset is mounted ro,nosuid,nodev,noexec" -- \
	sb alice alpha -- sh -c 'grep " /data/cohort " /proc/self/mountinfo | grep -q "ro,nosuid,nodev,noexec"'
"$D/cohort/run.sh" >/dev/null
ok $? "control: on the host the dataset's script runs"
check "a program in a dataset cannot be run (noexec)" -- \
	sb alice alpha -- sh -c '! /data/cohort/run.sh 2>/dev/null'

check "symlinks in a dataset lead nowhere outside" -- \
	sb alice alpha -- $PROBE read /data/cohort/to-shadow /data/cohort/to-other \
	/data/cohort/sub/up-and-out

check "writing /proc/sys, sysrq-trigger, core_pattern and reading kcore fail" -- \
	sb alice alpha -- $PROBE proc
check "/proc/sys is mounted read-only" -- \
	sb alice alpha -- sh -c 'grep " /proc/sys " /proc/self/mountinfo | grep -q " ro,"'
check "cgroup release_agent: no cgroup mount, no /sys" -- sb alice alpha -- $PROBE cgroup

check "/ and /usr are read-only" -- \
	sb alice alpha -- sh -c '! touch /x 2>/dev/null && ! touch /usr/x 2>/dev/null && ! touch /etc/x 2>/dev/null'

# /project: alice writes, bob (same project) reads and appends, carol (beta) sees none of it.
check "alice writes /project/shared.txt" -- \
	sb alice alpha -- sh -c 'echo from-alice > /project/shared.txt'
check "bob reads and appends to it" -- \
	sb bob alpha -- sh -c 'grep -q from-alice /project/shared.txt && echo from-bob >> /project/shared.txt'
check "on the host it belongs to alice and the project group, mode 660" -- \
	sh -c "[ \"\$(stat -c '%u:%g %a' '$(ws alpha)/shared.txt')\" = '$(uid_of alice):$(gid_of alpha) 660' ]"
check "carol in beta cannot see alpha's workspace" -- \
	sb carol beta -- sh -c '! grep -rq from-alice /project /tmp 2>/dev/null'
check "bob cannot read alice's home" -- \
	sb bob alpha -- sh -c '! ls /project/home/alice 2>/dev/null'
sb alice alpha -- sh -c 'echo a > /tmp/t' && sb alice alpha -- sh -c '[ ! -e /tmp/t ]'
ok $? "/tmp is private to each sandbox"
