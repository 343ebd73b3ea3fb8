/*
 * test_sandbox_spec.c — what the sandbox accepts before it builds anything:
 * names, paths, limits; the /etc/passwd and /etc/group it generates; the
 * cgroup v2 cpu.max text; the listener's reading of another task's strings.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

static char *cmd[] = { "true", NULL };
static const struct sr_sandbox_dataset two[] = {
	{ "cohort", "/srv/data/cohort" }, { "genome", "/srv/data/genome" },
};

/* A stand-in for an audit client: sr_sandbox_new() only keeps the pointer. */
static char not_a_client;

static struct sr_sandbox_spec
good_spec(void)
{
	struct sr_sandbox_spec s;

	memset(&s, 0, sizeof(s));
	s.user = "alice";
	s.project = "alpha";
	s.session = "0123abcd";
	s.uid = 61001;
	s.gid = 62001;
	s.datasets = two;
	s.n_datasets = 2;
	s.workspace = "/var/lib/saferoom/workspaces/alpha";
	s.home = "home/alice";
	s.limits.tmp_bytes = 1 << 20;
	s.argv = cmd;
	s.audit = (struct sr_audit_client *)(void *)&not_a_client; /* only kept, never used here */
	return s;
}

/* sr_sandbox_new() on a spec changed by one field must fail with a message naming it. */
static void
rejects(struct sr_sandbox_spec s, const char *what, const char *word)
{
	struct sr_error err = { { 0 } };
	struct sr_sandbox *sb = sr_sandbox_new(&s, &err);

	ok(sb == NULL && strstr(err.msg, word) != NULL, "rejects %s (%s)", what, err.msg);
	sr_sandbox_free(sb);
}

static void
test_names(void)
{
	ok(sr_sandbox_name_ok("alice"), "alice is a name");
	ok(sr_sandbox_name_ok("cohort_2024.v1-b"), "letters, digits, _ . - are fine");
	ok(!sr_sandbox_name_ok(""), "empty is not a name");
	ok(!sr_sandbox_name_ok(".."), ".. is not a name");
	ok(!sr_sandbox_name_ok(".hidden"), "a leading dot is not allowed");
	ok(!sr_sandbox_name_ok("-rf"), "a leading dash is not allowed");
	ok(!sr_sandbox_name_ok("a/b"), "a slash is not allowed");
	ok(!sr_sandbox_name_ok("eve:x:0:0"), "a colon (passwd injection) is not allowed");
	ok(!sr_sandbox_name_ok("a\nroot"), "a newline is not allowed");
	ok(!sr_sandbox_name_ok("0123456789012345678901234567890123456789012345678901234567890123456789"),
	   "more than 64 characters is not a name");
}

static void
test_spec(void)
{
	struct sr_sandbox_spec s = good_spec();
	struct sr_sandbox_dataset dup[] = { { "a", "/x" }, { "a", "/y" } };
	struct sr_sandbox_dataset rel[] = { { "a", "relative/path" } };
	struct sr_error err = { { 0 } };
	struct sr_sandbox *sb;
	char *empty[] = { NULL };

	sb = sr_sandbox_new(&s, &err);
	ok(sb != NULL, "a good spec is accepted %s", err.msg);
	if (sb != NULL) {
		is_str(sb->datasets_csv, "cohort,genome", "events carry the datasets as cohort,genome");
		is_str(sb->spec.source, "local", "the source defaults to local");
		is_str(sb->spec.cgroup_parent, "saferoom", "the cgroup parent defaults to saferoom");
		ok(sb->spec.user != s.user && sb->spec.argv != s.argv, "the spec is copied");
		is_int(sr_sandbox_pid(sb), 0, "no pid before start");
	}
	sr_sandbox_free(sb);
	sr_sandbox_free(NULL);
	ok(1, "sr_sandbox_free(NULL) is a no-op");

	s = good_spec(); s.uid = 0; rejects(s, "uid 0", "uid");
	s = good_spec(); s.gid = 0; rejects(s, "gid 0", "gid");
	s = good_spec(); s.user = "a:b"; rejects(s, "a user name with ':'", "names");
	s = good_spec(); s.project = "../x"; rejects(s, "a project name with '/'", "names");
	s = good_spec(); s.session = NULL; rejects(s, "no session", "names");
	s = good_spec(); s.workspace = "relative"; rejects(s, "a relative workspace", "workspace");
	s = good_spec(); s.home = "../bob"; rejects(s, "a home leaving the workspace", "home");
	s = good_spec(); s.home = "/etc"; rejects(s, "an absolute home", "home");
	s = good_spec(); s.home = "home/./alice"; rejects(s, "a home with a . component", "home");
	s = good_spec(); s.argv = empty; rejects(s, "no command", "command");
	s = good_spec(); s.limits.tmp_bytes = 0; rejects(s, "an unsized /tmp", "tmp");
	s = good_spec(); s.audit = NULL; rejects(s, "no audit trail", "audit");
	s = good_spec(); s.datasets = dup; rejects(s, "a dataset given twice", "twice");
	s = good_spec(); s.datasets = rel; s.n_datasets = 1;
	rejects(s, "a relative dataset path", "absolute");
	s = good_spec(); s.cgroup_parent = "a/b"; rejects(s, "a cgroup parent with '/'", "cgroup");
}

static void
test_identity(void)
{
	struct sr_sandbox_spec s = good_spec();
	char *pw = sr_identity_passwd(&s, "/bin/bash");
	char *gr = sr_identity_group(&s);

	is_str(pw, "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		   "alice:x:61001:62001:alice:/project/home/alice:/bin/bash\n"
		   "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
	       "/etc/passwd names root, the user (home in /project) and nobody");
	is_str(gr, "root:x:0:\nalpha:x:62001:alice\nnogroup:x:65534:\n",
	       "/etc/group names root, the project with its member, and nogroup");
	free(pw);
	free(gr);
	s.home = NULL;
	pw = sr_identity_passwd(&s, "/bin/sh");
	ok(pw != NULL && strstr(pw, "alice:x:61001:62001:alice:/project:/bin/sh\n") != NULL,
	   "without a home the user's home is /project");
	free(pw);
}

static void
test_cpu_max(void)
{
	char buf[64];

	sr_cgroup_cpu_max(1500, buf, sizeof(buf));
	is_str(buf, "150000 100000", "1.5 cores is 150000 per 100000");
	sr_cgroup_cpu_max(250, buf, sizeof(buf));
	is_str(buf, "25000 100000", "a quarter core is 25000 per 100000");
	sr_cgroup_cpu_max(0, buf, sizeof(buf));
	is_str(buf, "max 100000", "no limit is max");
}

/* The listener reads strings out of another task's memory; here out of our own. */
static void
test_read_string(void)
{
	long page = sysconf(_SC_PAGESIZE);
	pid_t self = getpid();
	char *map, *s;

	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		ok(0, "mapping for the read test");
		return;
	}
	/* A string that crosses a page boundary. */
	memcpy(map + page - 3, "/usr/bin/true", 14);
	s = sr_exec_read_string(self, (uint64_t)(uintptr_t)(map + page - 3), 4096);
	is_str(s, "/usr/bin/true", "a string across a page boundary is read whole");
	free(s);
	s = sr_exec_read_string(self, (uint64_t)(uintptr_t)(map + page - 3), 5);
	is_str(s, "/usr/", "a long string is cut at the limit");
	free(s);
	/* Unterminated up to an unmapped page: what could be read, no more. */
	munmap(map + page, (size_t)page);
	memset(map + page - 4, 'x', 4);
	s = sr_exec_read_string(self, (uint64_t)(uintptr_t)(map + page - 4), 4096);
	is_str(s, "xxxx", "a string running into unmapped memory stops there");
	free(s);
	s = sr_exec_read_string(self, 0, 4096);
	ok(s == NULL, "a NULL pointer reads as nothing");
	s = sr_exec_read_string(self, (uint64_t)(uintptr_t)(map + page), 4096);
	ok(s == NULL, "an unmapped address reads as nothing");
	munmap(map, (size_t)page);
}

int
main(void)
{
	test_names();
	test_spec();
	test_identity();
	test_cpu_max();
	test_read_string();
	return done_testing();
}
