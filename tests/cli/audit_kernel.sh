#!/bin/sh
# audit_kernel.sh — saferoom's records reach the kernel audit log, where
# `ausearch` finds them: USER_AUTH, USER_LOGIN, USER_START, USER_END,
# USER_CMD through the bridge, and the writer's seal of the chain head.
. "$SR_SRCDIR/tests/lib.sh"

require_root
EMIT="$SR_BUILDDIR/tests/tools/kaudit-emit"
PRODUCER="$SR_BUILDDIR/tests/tools/audit-producer"

state=$("$EMIT" seal 1 0000000000000000000000000000000000000000000000000000000000000000 2>&1)
[ "$state" = disabled ] && skip_all "this kernel has no audit support"
[ "$state" = enabled ] || bail "kaudit-emit: $state"

use_auditd
on_exit 'for j in $(jobs -p); do kill -9 $j; done'

u="srtest$$x$(date +%s)"

check "USER_LOGIN through the bridge" -- "$EMIT" login "$u" 4321 10.9.8.7 ok
find_audit_record USER_LOGIN "acct=\"$u\""
ok $? "ausearch finds the USER_LOGIN of $u"
grep -q 'addr=10.9.8.7' "$T/found" && grep -q 'res=success' "$T/found" && grep -q ' id=4321 ' "$T/found"
ok $? "with its address, uid and result"

check "a failed USER_LOGIN" -- "$EMIT" login "${u}f" 4321 10.9.8.7 fail
find_audit_record USER_LOGIN "acct=\"${u}f\""
ok $? "ausearch finds it"
grep -q 'res=failed' "$T/found"
ok $? "marked res=failed"

check "USER_AUTH through the bridge" -- "$EMIT" auth "$u" 10.9.8.7 publickey ok
find_audit_record USER_AUTH "acct=\"$u\""
ok $? "ausearch finds the USER_AUTH"
grep -q 'method="publickey"' "$T/found"
ok $? "naming the method"

check "USER_START" -- "$EMIT" start "$u" 4321 10.9.8.7 "sess-$u"
find_audit_record USER_START "saferoom_session=\"sess-$u\""
ok $? "ausearch finds the USER_START of the session"
check "USER_END" -- "$EMIT" end "$u" 4321 10.9.8.7 "sess-$u"
find_audit_record USER_END "saferoom_session=\"sess-$u\""
ok $? "ausearch finds the USER_END of the session"

check "USER_CMD" -- "$EMIT" cmd "$u" "python3 analysis.py --cohort 7" ok
find_audit_record USER_CMD "cmd=python3 analysis.py --cohort 7" -i
ok $? "ausearch -i finds the USER_CMD with its command line"

# A user name cannot forge fields: it is hex-encoded, not pasted in.
check "a hostile user name" -- "$EMIT" login "$u op=forged res=success" 1 10.9.8.7 fail
hex=$(printf '%s' "$u op=forged res=success" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
find_audit_record USER_LOGIN "acct=$hex"
ok $? "is written hex-encoded"
! grep -q 'op=forged' "$T/found"
ok $? "and forges no field"

# The writer seals its chain head into the kernel log too.
S="$T/state"
mkdir -m 0700 "$S"
"$AUDIT_WRITER" -d "$S" 2>"$T/writer.err" &
wpid=$!
i=0
while [ ! -S "$S/audit.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "events through the writer" -- "$PRODUCER" -d "$S" -n 25 -k 5 -t kseal
kill -TERM "$wpid"
wait "$wpid"
ok $? "the writer shuts down cleanly"
set -- $(tail -n 1 "$S/audit.seals")
ok $([ "$1" = 25 ]; echo $?) "its final seal is of seq 25 ($1)"
find_audit_record TRUSTED_APP "op=saferoom-seal seq=$1 hash=$2"
ok $? "ausearch finds the seal: seq $1 hash $2"
