/*
 * identity.c — who the sandbox runs as.
 *
 * Each researcher has a host uid and each project a host gid; inside the
 * sandbox the command runs with exactly those, with the project gid as its
 * only group, so that files in /project belong to the researcher and are
 * shared with the project through the group.  The sandbox's /etc/passwd and
 * /etc/group are generated from the spec (root, the user, nobody; root, the
 * project, nogroup), so that no other account of the host is even named.
 * The names were checked against [A-Za-z0-9._-] when the spec was accepted,
 * so that no ':' or newline can forge an entry.
 */
#include "config.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

char *
sr_identity_passwd(const struct sr_sandbox_spec *spec, const char *shell)
{
	char *text = NULL;

	if (asprintf(&text,
		     "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		     "%s:x:%lu:%lu:%s:/project%s%s:%s\n"
		     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		     spec->user, (unsigned long)spec->uid, (unsigned long)spec->gid, spec->user,
		     spec->home != NULL ? "/" : "", spec->home != NULL ? spec->home : "",
		     shell) < 0)
		return NULL;
	return text;
}

char *
sr_identity_group(const struct sr_sandbox_spec *spec)
{
	char *text = NULL;

	if (asprintf(&text, "root:x:0:\n%s:x:%lu:%s\nnogroup:x:65534:\n", spec->project,
		     (unsigned long)spec->gid, spec->user) < 0)
		return NULL;
	return text;
}

/*
 * Group first (changing it needs the privilege the uid change gives up), then
 * the uid; real, effective and saved alike, so that nothing can switch back.
 */
void
sr_identity_drop(int rfd, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &gid) < 0)
		sr_child_die_errno(rfd, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		sr_child_die_errno(rfd, "setresgid %lu", (unsigned long)gid);
	if (setresuid(uid, uid, uid) < 0)
		sr_child_die_errno(rfd, "setresuid %lu", (unsigned long)uid);
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		sr_child_die_errno(rfd, "getresuid");
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		sr_child_die(rfd, "uid or gid did not change");
	if (setresuid(0, 0, 0) == 0)
		sr_child_die(rfd, "could become root again");
}
