/*
 * limits.c — what a sandbox may consume: cgroups and rlimits.
 *
 * Each sandbox gets a cgroup of its own, PARENT/SESSION, with the configured
 * memory, pids and CPU limits.  cgroup v2 is used where the host has it
 * (ROOT/cgroup.controllers exists: the unified hierarchy); otherwise the v1
 * hierarchies of the memory, pids and cpu controllers, found in
 * /proc/self/mountinfo (the development machines have v1).  Either way a
 * limit whose controller is missing is an error: the sandbox never runs
 * with less than was configured.
 *
 * The cgroup outlives pid 1 only until sr_cgroup_destroy(): every process in
 * it is killed (v2: cgroup.kill; v1: SIGKILL through a pidfd to each member,
 * so that a recycled pid is never hit) and the directories are removed.
 *
 * rlimits: no core dumps (a core of R holding a dataset would be a copy of
 * it), and a cap on the size of any one file.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define CG_MAX_DIRS 3
#define CPU_PERIOD_US 100000
#define DESTROY_WAIT_MS 3000

struct cg_dir {
	char controller[16];   /* "" under v2 */
	int base_fd;           /* the hierarchy's root, where PARENT is */
	int parent_fd;         /* PARENT, where the sandbox's directory is */
	int fd;                /* PARENT/NAME */
};

struct sr_cgroup {
	enum sr_cgroup_version version;
	char parent[SR_SANDBOX_NAME_MAX + 1];
	char name[SR_SANDBOX_NAME_MAX + 1];
	struct cg_dir dirs[CG_MAX_DIRS];
	size_t n;
	int memory, pids;      /* index into dirs of that controller, or -1 */
};

static const char *const v1_controllers[] = { "memory", "pids", "cpu" };

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Writes TEXT to the control file NAME under DIRFD. */
static int
cg_write(int dirfd, const char *name, const char *text, struct sr_error *err)
{
	size_t len = strlen(text);
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return sr_error_errno(err, "sandbox: cgroup %s", name);
	if (write(fd, text, len) != (ssize_t)len) {
		sr_error_errno(err, "sandbox: cgroup %s <- %s", name, text);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Reads the control file NAME under DIRFD into buf; returns its length or -1. */
static ssize_t
cg_read(int dirfd, const char *name, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The value after "KEY " in a flat-keyed file (pids.events, memory.events, memory.oom_control). */
static uint64_t
cg_key(int dirfd, const char *file, const char *key)
{
	char buf[4096], *p;
	size_t klen = strlen(key);

	if (cg_read(dirfd, file, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

int
sr_cgroup_detect(const char *root)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (stat(path, &st) == 0)
		return SR_CGROUP_V2;
	snprintf(path, sizeof(path), "%s/pids/cgroup.procs", root);
	if (stat(path, &st) == 0)
		return SR_CGROUP_V1;
	snprintf(path, sizeof(path), "%s/memory/cgroup.procs", root);
	if (stat(path, &st) == 0)
		return SR_CGROUP_V1;
	return -1;
}

void
sr_cgroup_cpu_max(unsigned millis, char *buf, size_t len)
{
	if (millis == 0)
		snprintf(buf, len, "max %d", CPU_PERIOD_US);
	else
		snprintf(buf, len, "%llu %d",
			 (unsigned long long)millis * CPU_PERIOD_US / 1000, CPU_PERIOD_US);
}

/*
 * Finds the mount point of the v1 hierarchy that has CONTROLLER among its
 * super options, under ROOT, so that "cpu,cpuacct" co-mounts are found too.
 */
static int
v1_mount_point(const char *root, const char *controller, char *out, size_t len)
{
	char line[4096], mnt[1024], opts[1024];
	size_t rlen = strlen(root);
	FILE *f;
	int found = 0;

	f = fopen("/proc/self/mountinfo", "re");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *sep = strstr(line, " - cgroup ");
		char *tok, *save = NULL;

		if (sep == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep, " - cgroup %*s %1023s", opts) != 1)
			continue;
		if (strncmp(mnt, root, rlen) != 0 || mnt[rlen] != '/')
			continue;
		for (tok = strtok_r(opts, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
			if (strcmp(tok, controller) == 0)
				found = 1;
		if (found)
			snprintf(out, len, "%s", mnt);
	}
	fclose(f);
	return found;
}

/* 1 when the v2 cgroup at DIRFD offers CONTROLLER to its children. */
static int
v2_has(int dirfd, const char *file, const char *controller)
{
	char buf[1024], *tok, *save = NULL;

	if (cg_read(dirfd, file, buf, sizeof(buf)) < 0)
		return 0;
	for (tok = strtok_r(buf, " \n", &save); tok != NULL; tok = strtok_r(NULL, " \n", &save))
		if (strcmp(tok, controller) == 0)
			return 1;
	return 0;
}

/*
 * Makes PARENT under BASE (if missing) and NAME under it.  A NAME left by a
 * holder that died before its janitor ran is empty and is replaced; one
 * still in use cannot be removed (EBUSY) and is an error.  d->parent_fd is
 * set only once NAME is ours, so that a failure never removes another's.
 * PARENT is removed by the last sandbox to go (sr_cgroup_destroy), so it may
 * vanish between the two mkdirs: then both are made again.
 */
static int
make_dirs(int base, const char *parent, const char *name, struct cg_dir *d, struct sr_error *err)
{
	int pfd, tries;

	d->base_fd = d->parent_fd = d->fd = -1;
	for (tries = 0; tries < 5; tries++) {
		if (mkdirat(base, parent, 0755) < 0 && errno != EEXIST)
			return sr_error_errno(err, "sandbox: cgroup %s", parent);
		pfd = openat(base, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (pfd < 0 && errno == ENOENT)
			continue;
		if (pfd < 0)
			return sr_error_errno(err, "sandbox: cgroup %s", parent);
		if (mkdirat(pfd, name, 0755) == 0 ||
		    (errno == EEXIST && unlinkat(pfd, name, AT_REMOVEDIR) == 0 &&
		     mkdirat(pfd, name, 0755) == 0))
			break;
		close(pfd);
		if (errno != ENOENT)
			return sr_error_errno(err, "sandbox: cgroup %s/%s", parent, name);
	}
	if (tries == 5)
		return sr_error_set(err, "sandbox: cgroup %s keeps vanishing", parent);
	d->parent_fd = pfd;
	d->base_fd = fcntl(base, F_DUPFD_CLOEXEC, 0);
	d->fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->fd < 0 || d->base_fd < 0)
		return sr_error_errno(err, "sandbox: cgroup %s/%s", parent, name);
	return 0;
}

static int
v1_limits(struct sr_cgroup *cg, size_t i, const struct sr_sandbox_limits *lim,
	  struct sr_error *err)
{
	const char *ctl = cg->dirs[i].controller;
	int fd = cg->dirs[i].fd;
	char num[32];

	if (strcmp(ctl, "memory") == 0 && lim->memory_bytes != 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lim->memory_bytes);
		if (cg_write(fd, "memory.limit_in_bytes", num, err) < 0)
			return -1;
		/* With swap accounting, swap counts too, so that the limit is not just moved to disk. */
		if (faccessat(fd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0 &&
		    cg_write(fd, "memory.memsw.limit_in_bytes", num, err) < 0)
			return -1;
	}
	if (strcmp(ctl, "pids") == 0 && lim->pids != 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lim->pids);
		if (cg_write(fd, "pids.max", num, err) < 0)
			return -1;
	}
	if (strcmp(ctl, "cpu") == 0 && lim->cpu_millis != 0) {
		snprintf(num, sizeof(num), "%d", CPU_PERIOD_US);
		if (cg_write(fd, "cpu.cfs_period_us", num, err) < 0)
			return -1;
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)lim->cpu_millis * CPU_PERIOD_US / 1000);
		if (cg_write(fd, "cpu.cfs_quota_us", num, err) < 0)
			return -1;
	}
	return 0;
}

static int
v1_new(struct sr_cgroup *cg, const char *root, const char *parent,
       const struct sr_sandbox_limits *lim, struct sr_error *err)
{
	const int needed[] = { lim->memory_bytes != 0, lim->pids != 0, lim->cpu_millis != 0 };
	char mnt[1024];
	size_t i;
	int base, rc;

	for (i = 0; i < CG_MAX_DIRS; i++) {
		if (!v1_mount_point(root, v1_controllers[i], mnt, sizeof(mnt))) {
			if (needed[i])
				return sr_error_set(err, "sandbox: a %s limit is configured but the "
						    "host has no %s cgroup", v1_controllers[i],
						    v1_controllers[i]);
			continue;
		}
		base = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (base < 0)
			return sr_error_errno(err, "sandbox: %s", mnt);
		snprintf(cg->dirs[cg->n].controller, sizeof(cg->dirs[0].controller), "%s",
			 v1_controllers[i]);
		rc = make_dirs(base, parent, cg->name, &cg->dirs[cg->n], err);
		close(base);
		cg->n++;
		if (rc < 0 || v1_limits(cg, cg->n - 1, lim, err) < 0)
			return -1;
		if (i == 0)
			cg->memory = (int)cg->n - 1;
		if (i == 1)
			cg->pids = (int)cg->n - 1;
	}
	if (cg->n == 0)
		return sr_error_set(err, "sandbox: no cgroup v1 hierarchy under %s", root);
	return 0;
}

/* Enables the controllers the limits need in DIRFD's cgroup.subtree_control. */
static int
v2_enable(int dirfd, const int *needed, struct sr_error *err)
{
	static const char *const names[] = { "memory", "pids", "cpu" };
	char text[8];
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!needed[i] || v2_has(dirfd, "cgroup.subtree_control", names[i]))
			continue;
		if (!v2_has(dirfd, "cgroup.controllers", names[i]))
			return sr_error_set(err, "sandbox: a %s limit is configured but the host's "
					    "cgroup v2 does not offer the %s controller",
					    names[i], names[i]);
		snprintf(text, sizeof(text), "+%s", names[i]);
		if (cg_write(dirfd, "cgroup.subtree_control", text, err) < 0)
			return -1;
	}
	return 0;
}

static int
v2_limits(int fd, const struct sr_sandbox_limits *lim, struct sr_error *err)
{
	char num[64];

	if (lim->memory_bytes != 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lim->memory_bytes);
		if (cg_write(fd, "memory.max", num, err) < 0)
			return -1;
		/* No swap, so that the limit is not just moved to disk. */
		if (faccessat(fd, "memory.swap.max", F_OK, 0) == 0 &&
		    cg_write(fd, "memory.swap.max", "0", err) < 0)
			return -1;
	}
	if (lim->pids != 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lim->pids);
		if (cg_write(fd, "pids.max", num, err) < 0)
			return -1;
	}
	if (lim->cpu_millis != 0) {
		sr_cgroup_cpu_max(lim->cpu_millis, num, sizeof(num));
		if (cg_write(fd, "cpu.max", num, err) < 0)
			return -1;
	}
	return 0;
}

static int
v2_new(struct sr_cgroup *cg, const char *root, const char *parent,
       const struct sr_sandbox_limits *lim, struct sr_error *err)
{
	const int needed[] = { lim->memory_bytes != 0, lim->pids != 0, lim->cpu_millis != 0 };
	struct cg_dir *d = &cg->dirs[0];
	int base, rc;

	d->base_fd = d->parent_fd = d->fd = -1;
	cg->n = 1;
	base = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return sr_error_errno(err, "sandbox: %s", root);
	rc = v2_enable(base, needed, err);
	if (rc == 0)
		rc = make_dirs(base, parent, cg->name, d, err);
	close(base);
	if (rc < 0 || v2_enable(d->parent_fd, needed, err) < 0)
		return -1;
	/* Controllers enabled in the parent after NAME was made show up in NAME at once. */
	if (v2_limits(d->fd, lim, err) < 0)
		return -1;
	cg->memory = v2_has(d->parent_fd, "cgroup.subtree_control", "memory") ? 0 : -1;
	cg->pids = v2_has(d->parent_fd, "cgroup.subtree_control", "pids") ? 0 : -1;
	return 0;
}

struct sr_cgroup *
sr_cgroup_new(const char *root, const char *parent, const char *name,
	      const struct sr_sandbox_limits *lim, struct sr_error *err)
{
	struct sr_cgroup *cg;
	int version, rc;

	if (!sr_sandbox_name_ok(parent) || !sr_sandbox_name_ok(name)) {
		sr_error_set(err, "sandbox: bad cgroup name");
		return NULL;
	}
	version = sr_cgroup_detect(root);
	if (version < 0) {
		sr_error_set(err, "sandbox: no cgroup file system under %s", root);
		return NULL;
	}
	cg = calloc(1, sizeof(*cg));
	if (cg == NULL) {
		sr_error_errno(err, "sandbox");
		return NULL;
	}
	cg->version = version;
	cg->memory = cg->pids = -1;
	snprintf(cg->parent, sizeof(cg->parent), "%s", parent);
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	if (version == SR_CGROUP_V2)
		rc = v2_new(cg, root, parent, lim, err);
	else
		rc = v1_new(cg, root, parent, lim, err);
	if (rc < 0) {
		sr_cgroup_destroy(cg, NULL);
		sr_cgroup_free(cg);
		return NULL;
	}
	return cg;
}

enum sr_cgroup_version
sr_cgroup_version(const struct sr_cgroup *cg)
{
	return cg->version;
}

int
sr_cgroup_clone_fd(const struct sr_cgroup *cg)
{
	return cg->version == SR_CGROUP_V2 ? cg->dirs[0].fd : -1;
}

int
sr_cgroup_attach(struct sr_cgroup *cg, pid_t pid, struct sr_error *err)
{
	char num[32];
	size_t i;

	snprintf(num, sizeof(num), "%ld", (long)pid);
	for (i = 0; i < cg->n; i++)
		if (cg_write(cg->dirs[i].fd, "cgroup.procs", num, err) < 0)
			return -1;
	return 0;
}

int
sr_cgroup_counters(struct sr_cgroup *cg, struct sr_cgroup_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (cg->pids >= 0)
		out->pids_max = cg_key(cg->dirs[cg->pids].fd, "pids.events", "max");
	if (cg->memory >= 0)
		out->oom_kills = cg_key(cg->dirs[cg->memory].fd,
					cg->version == SR_CGROUP_V2 ? "memory.events"
								     : "memory.oom_control",
					"oom_kill");
	return 0;
}

size_t
sr_cgroup_fds(const struct sr_cgroup *cg, int *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < cg->n; i++) {
		if (cg->dirs[i].fd >= 0 && n < max)
			out[n++] = cg->dirs[i].fd;
		if (cg->dirs[i].parent_fd >= 0 && n < max)
			out[n++] = cg->dirs[i].parent_fd;
		if (cg->dirs[i].base_fd >= 0 && n < max)
			out[n++] = cg->dirs[i].base_fd;
	}
	return n;
}

/* The pids in cgroup.procs of DIRFD; returns how many (at most max), or -1. */
static int
cg_procs(int dirfd, pid_t *pids, int max)
{
	char buf[65536], *p, *end;
	int n = 0;

	if (cg_read(dirfd, "cgroup.procs", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; *p != '\0' && n < max; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[n++] = (pid_t)v;
	}
	return n;
}

int
sr_cgroup_nprocs(struct sr_cgroup *cg)
{
	pid_t pids[4096];

	if (cg->n == 0 || cg->dirs[0].fd < 0)
		return 0;
	return cg_procs(cg->dirs[0].fd, pids, 4096);
}

static int
is_member(int dirfd, pid_t pid)
{
	pid_t pids[4096];
	int i, n = cg_procs(dirfd, pids, 4096);

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/*
 * SIGKILL to every member.  The pidfd is opened first and membership checked
 * after, so that the pid cannot have been recycled by a process outside.
 */
static int
kill_members(struct cg_dir *d)
{
	pid_t pids[4096];
	int i, n, pfd;

	if (d->fd < 0)
		return 0;
	if (faccessat(d->fd, "cgroup.kill", F_OK, 0) == 0) {
		cg_write(d->fd, "cgroup.kill", "1", NULL);
		return cg_procs(d->fd, pids, 4096);
	}
	n = cg_procs(d->fd, pids, 4096);
	for (i = 0; i < n; i++) {
		pfd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (pfd < 0)
			continue;
		if (is_member(d->fd, pids[i]))
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		close(pfd);
	}
	return n;
}

int
sr_cgroup_destroy(struct sr_cgroup *cg, struct sr_error *err)
{
	int waited, rc = 0;
	size_t i;

	if (cg == NULL)
		return 0;
	for (i = 0; i < cg->n; i++) {
		struct cg_dir *d = &cg->dirs[i];

		for (waited = 0; kill_members(d) > 0 && waited < DESTROY_WAIT_MS; waited += 10)
			sleep_ms(10);
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		if (d->parent_fd < 0)
			continue;
		/* An emptied v1 memory cgroup can stay busy for a moment while it goes offline. */
		for (waited = 0; waited < DESTROY_WAIT_MS; waited += 10) {
			if (unlinkat(d->parent_fd, cg->name, AT_REMOVEDIR) == 0 || errno != EBUSY)
				break;
			sleep_ms(10);
		}
		if (faccessat(d->parent_fd, cg->name, F_OK, 0) == 0)
			rc = sr_error_set(err, "sandbox: could not remove cgroup %s%s%s",
					  d->controller, d->controller[0] ? "/" : "", cg->name);
		/* The last sandbox out removes PARENT too; with others in it, EBUSY says so. */
		unlinkat(d->base_fd, cg->parent, AT_REMOVEDIR);
	}
	return rc;
}

void
sr_cgroup_free(struct sr_cgroup *cg)
{
	size_t i;

	if (cg == NULL)
		return;
	for (i = 0; i < cg->n; i++) {
		if (cg->dirs[i].fd >= 0)
			close(cg->dirs[i].fd);
		if (cg->dirs[i].parent_fd >= 0)
			close(cg->dirs[i].parent_fd);
		if (cg->dirs[i].base_fd >= 0)
			close(cg->dirs[i].base_fd);
	}
	free(cg);
}

void
sr_rlimits_apply(int rfd, const struct sr_sandbox_limits *lim)
{
	struct rlimit none = { 0, 0 };
	struct rlimit fsize = { lim->max_file_bytes, lim->max_file_bytes };

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		sr_child_die_errno(rfd, "RLIMIT_CORE");
	if (lim->max_file_bytes != 0 && setrlimit(RLIMIT_FSIZE, &fsize) < 0)
		sr_child_die_errno(rfd, "RLIMIT_FSIZE");
}
