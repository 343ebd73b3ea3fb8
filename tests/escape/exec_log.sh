#!/bin/sh
# exec_log.sh — every exec in the sandbox is on the record, and cannot be
# hidden: a 500-exec shell loop yields 500 exec events; each event names
# user, project, session, datasets, argv, the executable, cwd and the pid as
# seen inside; execveat (by directory and by descriptor) is recorded with the
# file it runs; an exec from a memfd is refused (and the attempt recorded);
# each exec is a USER_CMD record in the kernel audit log too; without an
# audit trail no sandbox starts.
. "$SR_SRCDIR/tests/escape/lib-escape.sh"
# auditd first: exec records go to the kernel log only while a daemon runs.
use_auditd

mark
sb alice alpha -- sh -c 'i=0; while [ $i -lt 500 ]; do /bin/true; i=$((i + 1)); done'
ok $? "a 500-exec shell loop runs"
n=$(new_events exec | grep -c '"path":"/bin/true"')
ok $(( n != 500 )) "it yields 500 exec events of /bin/true (got $n)"
n=$(new_events exec | grep -c .)
ok $(( n != 501 )) "and one for the shell: 501 in all (got $n)"

mark
sb alice alpha -- sh -c 'cd /usr && bin/ls -d ./lib >/dev/null'
q "SELECT user, project, session != '', datasets, source FROM events
   WHERE seq > $MARK AND type = 'exec' ORDER BY seq LIMIT 1" >"$T/row"
grep -qx "alice|alpha|1|cohort,genome|local" "$T/row"
ok $? "an exec event names user, project, session, datasets and source ($(cat "$T/row"))"
new_events exec | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
sh, ls = ev[0], ev[1]
assert sh["syscall"] == "execve" and sh["path"] == "/usr/bin/sh", sh
assert sh["argv"][:2] == ["sh", "-c"] and sh["pid"] == 2, sh
assert sh["cwd"] == "/project/home/alice", sh
assert ls["path"] == "/usr/bin/ls" and ls["argv"] == ["bin/ls", "-d", "./lib"], ls
assert ls["cwd"] == "/usr" and ls["pid"] == 3, ls
' 2>"$T/err"
ok $? "details: argv, resolved executable, cwd and the pid inside $(head -c 300 "$T/err")"

mark
sb alice alpha -- $PROBE execveat >"$T/out" 2>&1
grep -q "execveat dirfd: status 0" "$T/out" && grep -q "execveat empty path: status 0" "$T/out"
ok $? "execveat by directory and by descriptor run"
new_events exec | grep -q '"syscall":"execveat","path":"/usr/bin/true","argv":\["true","via-execveat"\]'
ok $? "execveat(dirfd, \"true\") is recorded as /usr/bin/true"
new_events exec | grep -q '"syscall":"execveat","path":"/usr/bin/id","argv":\["id","-u"\]'
ok $? "execveat(fd, \"\", AT_EMPTY_PATH) is recorded as /usr/bin/id"

mark
sb alice alpha -- $PROBE memfd /usr/bin/true >"$T/out" 2>&1
ok $? "running a copy from a memfd is refused ($(grep -c blocked "$T/out") attempts blocked)"
new_events exec | grep -q '"path":"/memfd:hidden (deleted)"'
ok $? "... and the attempt is on the record"
check "the copy never ran: no exec of it succeeded" -- \
	sh -c "! grep -q ESCAPED '$T/out'"

# Each exec also reaches the kernel audit log as a USER_CMD record (sent by
# saferoomctl, its own writer here, or by the audit writer under sandbox-run).
m="usercmd-$$"
sb alice alpha -- /bin/echo "$m" >/dev/null
find_audit_record USER_CMD "$m" -i && grep "acct=alice" "$T/found" >"$T/ucmd"
ok $? "ausearch finds the exec as a USER_CMD of alice"
grep -Eq 'saferoom_exe="?/bin/echo[" ]' "$T/ucmd" && grep -Eq 'saferoom_project="?alpha[" ]' "$T/ucmd" &&
	grep -q "res=success" "$T/ucmd"
ok $? "... with the executable, the project and the result ($(head -c 400 "$T/ucmd"))"

# No trail, no sandbox: a state directory where no audit.db can be made.
case $SR_ESCAPE_VIA in
sandbox-run)
	"$RUN" --user alice --uid 61001 --project alpha --gid 62001 --workspace "$(ws alpha)" \
		--state-dir /proc/self --dataset cohort="$D/cohort" -- true >/dev/null 2>"$T/err"
	rc=$?
	;;
*)
	chmod 0 "$S/audit.db"
	mv "$S/audit.db" "$S/audit.db.moved" && mkdir "$S/audit.db"
	sb alice alpha -- true >/dev/null 2>"$T/err"
	rc=$?
	rmdir "$S/audit.db" && mv "$S/audit.db.moved" "$S/audit.db" && chmod 0600 "$S/audit.db"
	;;
esac
ok $(( rc == 0 )) "without an audit trail the sandbox does not start (status $rc: $(head -c 120 "$T/err"))"
