/*
 * mounts.c — the sandbox's file system: everything it can see, built from
 * nothing.
 *
 *	/            a small tmpfs, read-only once built
 *	/usr         the host's, read-only, nosuid, nodev; /bin, /lib... as the host has them
 *	/etc         a directory of the root tmpfs: generated passwd, group, hostname,
 *	             hosts, and read-only binds of the few host files programs need
 *	             (never shadow, ssh, sudoers or the host's passwd)
 *	/data/NAME   each approved dataset, read-only, nosuid, nodev, noexec
 *	/project     the project workspace, read-write, nosuid, nodev
 *	/tmp         a tmpfs of the configured size, nosuid, nodev
 *	/proc        a fresh proc of the sandbox's pid namespace; /proc/sys read-only,
 *	             kcore, kmsg, sysrq-trigger, keys and timer_list masked
 *	/dev         null zero full random urandom tty, its own devpts, shm -> /tmp
 *	/run/saferoom/export.sock
 *	             the session's export socket, when the caller made one
 *
 * There is no /sys and no /home; nothing else of the host is reachable.
 *
 * Every host path is opened first, as an O_PATH descriptor, with openat2()
 * below "/" and no symlink allowed anywhere on it; the binds are then made
 * from those descriptors with open_tree()/move_mount(), so that no path
 * string is resolved twice and a symlink swapped in between cannot redirect
 * a mount.  All of this happens in the child's private mount namespace, so
 * the host's mount table never changes.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define ROOT_SIZE "4m"
#define DEV_SIZE "64k"

/* Host directories: bound read-only when directories, copied when symlinks (merged /usr). */
static const char *const system_entries[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", NULL,
};

/* What programs need from /etc.  passwd, group, hostname and hosts are generated instead. */
static const char *const etc_entries[] = {
	"R", "alternatives", "bash.bashrc", "debian_version", "fonts", "gai.conf", "host.conf",
	"inputrc", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias", "localtime",
	"magic", "magic.mime", "mime.types", "nsswitch.conf", "os-release", "profile",
	"profile.d", "protocols", "python3", "services", "terminfo", "timezone", "vim", NULL,
};

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty", NULL };

/* proc files that reveal or reach the host kernel; /dev/null is bound over them. */
static const char *const proc_masked[] = {
	"kcore", "kmsg", "sysrq-trigger", "keys", "timer_list", "sched_debug", "latency_stats",
	NULL,
};

/* A host file or directory (fd) or a symlink to recreate (link). */
struct host_entry {
	const char *name;
	int fd;
	int is_dir;
	char link[PATH_MAX];
};

struct plan {
	int host_root;
	struct host_entry sys[16];
	size_t n_sys;
	struct host_entry etc[48];
	size_t n_etc;
	int dev[8];
	int *data;
	int *data_dir;
	int workspace;
	int has_bash;
	int export_socket;     /* -1: none */
	int export_client;     /* -1: none (production) */
};

int
sr_open_beneath(int dirfd, const char *path, int flags, struct sr_error *err)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	while (path[0] == '/')
		path++;
	if (path[0] == '\0')
		path = ".";
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return sr_error_errno(err, "%s", path);
	return fd;
}

/* ---- collecting host paths --------------------------------------------------- */

/* Fills E from NAME under DIRFD: a symlink by its target, anything else opened O_PATH. */
static int
host_entry_get(int dirfd, const char *name, struct host_entry *e)
{
	struct stat st;
	ssize_t n;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	e->name = name;
	e->fd = -1;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd, name, e->link, sizeof(e->link) - 1);
		if (n <= 0)
			return 0;
		e->link[n] = '\0';
		return 1;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;
	e->is_dir = S_ISDIR(st.st_mode);
	e->fd = sr_open_beneath(dirfd, name, O_PATH | O_NOFOLLOW, NULL);
	return e->fd >= 0;
}

/*
 * The project workspace; made on first use (root:GID, 2770, so that files
 * made in it belong to the project group) when its parent exists.
 */
static int
open_workspace(int rfd, int host_root, const struct sr_sandbox_spec *spec)
{
	char parent[PATH_MAX];
	const char *base = strrchr(spec->workspace, '/') + 1;
	struct sr_error err;
	int fd, pfd;

	fd = sr_open_beneath(host_root, spec->workspace, O_PATH | O_DIRECTORY, &err);
	if (fd >= 0 || errno != ENOENT || *base == '\0')
		goto out;
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - spec->workspace), spec->workspace);
	pfd = sr_open_beneath(host_root, parent, O_RDONLY | O_DIRECTORY, &err);
	if (pfd < 0)
		goto out;
	if (mkdirat(pfd, base, 02770) == 0) {
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchown(fd, 0, spec->gid) < 0 || fchmod(fd, 02770) < 0)
			sr_child_die_errno(rfd, "creating workspace %s", spec->workspace);
		close(fd);
	}
	fd = sr_open_beneath(pfd, base, O_PATH | O_DIRECTORY, &err);
	close(pfd);
out:
	if (fd < 0)
		sr_child_die(rfd, "workspace %s", err.msg);
	return fd;
}

static void
collect_host(int rfd, struct plan *p, const struct sr_sandbox *sb)
{
	struct sr_error err;
	struct stat st;
	size_t i;
	int etc;

	p->host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->host_root < 0)
		sr_child_die_errno(rfd, "open /");
	for (i = 0; system_entries[i] != NULL; i++)
		p->n_sys += host_entry_get(p->host_root, system_entries[i], &p->sys[p->n_sys]);
	p->has_bash = fstatat(p->host_root, "usr/bin/bash", &st, 0) == 0;
	etc = sr_open_beneath(p->host_root, "etc", O_PATH | O_DIRECTORY, &err);
	if (etc < 0)
		sr_child_die(rfd, "host %s", err.msg);
	for (i = 0; etc_entries[i] != NULL; i++)
		p->n_etc += host_entry_get(etc, etc_entries[i], &p->etc[p->n_etc]);
	close(etc);
	for (i = 0; dev_nodes[i] != NULL; i++) {
		char path[32];

		snprintf(path, sizeof(path), "dev/%s", dev_nodes[i]);
		p->dev[i] = sr_open_beneath(p->host_root, path, O_PATH, &err);
		if (p->dev[i] < 0)
			sr_child_die(rfd, "host %s", err.msg);
	}
	p->data = calloc(sb->spec.n_datasets + 1, sizeof(int));
	p->data_dir = calloc(sb->spec.n_datasets + 1, sizeof(int));
	if (p->data == NULL || p->data_dir == NULL)
		sr_child_die(rfd, "out of memory");
	for (i = 0; i < sb->spec.n_datasets; i++) {
		p->data[i] = sr_open_beneath(p->host_root, sb->spec.datasets[i].path, O_PATH, &err);
		if (p->data[i] < 0 || fstat(p->data[i], &st) < 0)
			sr_child_die(rfd, "dataset %s: %s", sb->spec.datasets[i].name, err.msg);
		p->data_dir[i] = S_ISDIR(st.st_mode);
	}
	p->workspace = open_workspace(rfd, p->host_root, &sb->spec);
	p->export_socket = p->export_client = -1;
	if (sb->spec.export_socket != NULL) {
		p->export_socket = sr_open_beneath(p->host_root, sb->spec.export_socket, O_PATH, &err);
		if (p->export_socket < 0 || fstat(p->export_socket, &st) < 0 || !S_ISSOCK(st.st_mode))
			sr_child_die(rfd, "export socket %s: not a socket", sb->spec.export_socket);
	}
	if (sb->spec.export_client != NULL) {
		p->export_client = sr_open_beneath(p->host_root, sb->spec.export_client, O_PATH, &err);
		if (p->export_client < 0 || fstat(p->export_client, &st) < 0 || !S_ISREG(st.st_mode))
			sr_child_die(rfd, "export client %s: not a file", sb->spec.export_client);
	}
}

/* ---- making mounts ------------------------------------------------------------- */

/* A new, detached file system instance: fsopen + fsconfig + fsmount. */
static int
new_fs(int rfd, const char *type, const char *const *opts, unsigned attrs)
{
	int fs, mnt;

	fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		sr_child_die_errno(rfd, "fsopen %s", type);
	for (; opts != NULL && opts[0] != NULL; opts += 2)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[0], opts[1], 0) < 0)
			sr_child_die_errno(rfd, "%s option %s=%s", type, opts[0], opts[1]);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		sr_child_die_errno(rfd, "creating %s", type);
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		sr_child_die_errno(rfd, "fsmount %s", type);
	close(fs);
	return mnt;
}

static void
set_attrs(int rfd, int mnt, uint64_t attrs, const char *what)
{
	struct mount_attr attr = { .attr_set = attrs, .propagation = MS_PRIVATE };

	if (mount_setattr(mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		sr_child_die_errno(rfd, "mount attributes of %s", what);
}

static void
attach(int rfd, int mnt, int dirfd, const char *name)
{
	if (move_mount(mnt, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		sr_child_die_errno(rfd, "mounting %s", name);
}

/* Binds what SRC refers to onto NAME under DIRFD, with ATTRS, and nothing under it. */
static void
bind_fd(int rfd, int src, int dirfd, const char *name, uint64_t attrs)
{
	int tree;

	tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		sr_child_die_errno(rfd, "open_tree for %s", name);
	set_attrs(rfd, tree, attrs, name);
	attach(rfd, tree, dirfd, name);
	close(tree);
}

/* Creates NAME under DIRFD as a directory or an empty file, to mount on. */
static void
mount_point(int rfd, int dirfd, const char *name, int is_dir)
{
	int fd;

	if (is_dir) {
		if (mkdirat(dirfd, name, 0755) < 0)
			sr_child_die_errno(rfd, "mkdir %s", name);
		return;
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		sr_child_die_errno(rfd, "creating %s", name);
	close(fd);
}

static int
subdir(int rfd, int dirfd, const char *name)
{
	int fd;

	mount_point(rfd, dirfd, name, 1);
	fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		sr_child_die_errno(rfd, "open %s", name);
	return fd;
}

static void
write_file(int rfd, int dirfd, const char *name, const char *text)
{
	size_t len = strlen(text);
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		sr_child_die_errno(rfd, "writing /etc/%s", name);
	close(fd);
}

static void
place_entry(int rfd, int dirfd, const struct host_entry *e, uint64_t attrs)
{
	if (e->fd < 0) {
		if (symlinkat(e->link, dirfd, e->name) < 0)
			sr_child_die_errno(rfd, "symlink %s", e->name);
		return;
	}
	mount_point(rfd, dirfd, e->name, e->is_dir);
	bind_fd(rfd, e->fd, dirfd, e->name, attrs);
}

/* ---- the tree --------------------------------------------------------------------- */

static void
build_system(int rfd, const struct plan *p, int root)
{
	size_t i;

	for (i = 0; i < p->n_sys; i++)
		place_entry(rfd, root, &p->sys[i],
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

static void
build_etc(int rfd, const struct plan *p, int root, const struct sr_sandbox *sb)
{
	const char *shell = p->has_bash ? "/bin/bash" : "/bin/sh";
	char hosts[256], hostname[SR_SANDBOX_NAME_MAX + 2];
	char *passwd, *group;
	size_t i;
	int etc;

	etc = subdir(rfd, root, "etc");
	for (i = 0; i < p->n_etc; i++)
		place_entry(rfd, etc, &p->etc[i],
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    MOUNT_ATTR_NOEXEC);
	passwd = sr_identity_passwd(&sb->spec, shell);
	group = sr_identity_group(&sb->spec);
	if (passwd == NULL || group == NULL)
		sr_child_die(rfd, "out of memory");
	write_file(rfd, etc, "passwd", passwd);
	write_file(rfd, etc, "group", group);
	snprintf(hostname, sizeof(hostname), "%s\n", sb->spec.project);
	write_file(rfd, etc, "hostname", hostname);
	snprintf(hosts, sizeof(hosts), "127.0.0.1\tlocalhost %s\n::1\tlocalhost\n",
		 sb->spec.project);
	write_file(rfd, etc, "hosts", hosts);
	free(passwd);
	free(group);
	close(etc);
}

static void
build_data(int rfd, const struct plan *p, int root, const struct sr_sandbox *sb)
{
	size_t i;
	int data;

	data = subdir(rfd, root, "data");
	for (i = 0; i < sb->spec.n_datasets; i++) {
		mount_point(rfd, data, sb->spec.datasets[i].name, p->data_dir[i]);
		bind_fd(rfd, p->data[i], data, sb->spec.datasets[i].name,
			MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	}
	close(data);
}

/*
 * The user's home inside the workspace: made (mode 0700, the user's) on first
 * use, like pam_mkhomedir.  Each component is made and opened relative to the
 * one before, never following a symlink, so that a symlink a researcher
 * planted in the workspace cannot make root create a directory elsewhere.
 */
static void
ensure_home(int rfd, int workspace, const struct sr_sandbox_spec *spec)
{
	char *path, *comp, *save = NULL;
	struct sr_error err;
	int dir, next, last, made;

	if (spec->home == NULL)
		return;
	path = strdup(spec->home);
	dir = dup(workspace);
	if (path == NULL || dir < 0)
		sr_child_die(rfd, "out of memory");
	for (comp = strtok_r(path, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		last = strchr(spec->home + (comp - path), '/') == NULL;
		/* Directories on the way (home/) are root's and traversable; the home itself is the user's. */
		made = mkdirat(dir, comp, last ? 0700 : 0755) == 0;
		if (!made && errno != EEXIST)
			sr_child_die_errno(rfd, "creating home %s", spec->home);
		if (made && last) {
			next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0 || fchown(next, spec->uid, spec->gid) < 0 || fchmod(next, 0700) < 0)
				sr_child_die_errno(rfd, "creating home %s", spec->home);
			close(next);
		}
		next = sr_open_beneath(dir, comp, O_RDONLY | O_DIRECTORY, &err);
		if (next < 0)
			sr_child_die(rfd, "home %s", err.msg);
		close(dir);
		dir = next;
	}
	close(dir);
	free(path);
}

static void
build_project(int rfd, const struct plan *p, int root, const struct sr_sandbox *sb)
{
	int ws;

	ws = sr_open_beneath(p->workspace, ".", O_RDONLY | O_DIRECTORY, NULL);
	if (ws < 0)
		sr_child_die_errno(rfd, "workspace");
	ensure_home(rfd, ws, &sb->spec);
	close(ws);
	mount_point(rfd, root, "project", 1);
	bind_fd(rfd, p->workspace, root, "project", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

/* A sized /tmp; returns its mount so that the holding process can watch how full it gets. */
static int
build_tmp(int rfd, int root, const struct sr_sandbox_limits *lim)
{
	char size[32], inodes[32];
	const char *opts[] = { "size", size, "nr_inodes", inodes, "mode", "1777", NULL };
	uint64_t n = lim->tmp_bytes / 4096;
	int tmp;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)lim->tmp_bytes);
	/* Inodes too, so that many empty files cannot fill kernel memory instead. */
	snprintf(inodes, sizeof(inodes), "%llu", (unsigned long long)(n < 1024 ? 1024 : n));
	mount_point(rfd, root, "tmp", 1);
	tmp = new_fs(rfd, "tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	attach(rfd, tmp, root, "tmp");
	return tmp;
}

static void
build_dev(int rfd, const struct plan *p, int root)
{
	static const char *const dev_opts[] = { "size", DEV_SIZE, "mode", "0755", NULL };
	static const char *const pts_opts[] = { "ptmxmode", "0666", "mode", "0620", NULL };
	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" }, { "shm", "/tmp" },
	};
	size_t i;
	int dev, pts;

	mount_point(rfd, root, "dev", 1);
	dev = new_fs(rfd, "tmpfs", dev_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	attach(rfd, dev, root, "dev");
	for (i = 0; dev_nodes[i] != NULL; i++) {
		mount_point(rfd, dev, dev_nodes[i], 0);
		bind_fd(rfd, p->dev[i], dev, dev_nodes[i], MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	}
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][1], dev, links[i][0]) < 0)
			sr_child_die_errno(rfd, "symlink /dev/%s", links[i][0]);
	/* Its own devpts instance, so that no terminal of the host is reachable. */
	mount_point(rfd, dev, "pts", 1);
	pts = new_fs(rfd, "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	attach(rfd, pts, dev, "pts");
	close(pts);
	set_attrs(rfd, dev, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev");
	close(dev);
}

/*
 * memfds of this pid namespace are sealed non-executable unless created with
 * MFD_EXEC, which the seccomp filter refuses: so that code cannot be run from
 * a file that has no name on any file system.  Kernels before 6.3 lack the
 * setting; there seccomp refuses memfd_create() altogether.
 */
static void
memfd_noexec(int rfd, int proc)
{
	int fd;

	fd = openat(proc, "sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		sr_child_die_errno(rfd, "vm.memfd_noexec");
	}
	if (write(fd, "1", 1) != 1)
		sr_child_die_errno(rfd, "vm.memfd_noexec");
	close(fd);
}

static void
build_proc(int rfd, const struct plan *p, int root)
{
	int proc, sys;
	size_t i;

	mount_point(rfd, root, "proc", 1);
	proc = new_fs(rfd, "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	attach(rfd, proc, root, "proc");
	memfd_noexec(rfd, proc);
	/* /proc/sys read-only even for a process that somehow became root. */
	sys = open_tree(proc, "sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (sys < 0)
		sr_child_die_errno(rfd, "open_tree /proc/sys");
	set_attrs(rfd, sys, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		  MOUNT_ATTR_NOEXEC, "/proc/sys");
	attach(rfd, sys, proc, "sys");
	close(sys);
	for (i = 0; proc_masked[i] != NULL; i++)
		if (faccessat(proc, proc_masked[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			bind_fd(rfd, p->dev[0], proc, proc_masked[i],
				MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
	close(proc);
}

/*
 * /run/saferoom/export.sock: the host socket itself, bound, so that a
 * connect() inside reaches the monitor listening outside.  Read-only, so
 * that its mode cannot be changed from inside; connecting needs no write
 * access to the mount, only to the socket (hers, 0600).
 */
static void
build_run(int rfd, const struct plan *p, int root)
{
	int run, dir;

	if (p->export_socket < 0)
		return;
	run = subdir(rfd, root, "run");
	dir = subdir(rfd, run, "saferoom");
	mount_point(rfd, dir, "export.sock", 0);
	bind_fd(rfd, p->export_socket, dir, "export.sock",
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(dir);
	close(run);
}

/*
 * Tests from a build tree: a small tmpfs holding only the given
 * saferoom-export, over /usr/local/bin.  There rather than in a directory
 * of our own put on PATH, because a login shell's /etc/profile sets PATH
 * anew, and /usr/local/bin is on the PATH it sets.
 */
static void
build_export_client(int rfd, const struct plan *p, int root)
{
	static const char *const opts[] = { "size", "64k", "nr_inodes", "16", "mode", "0755", NULL };
	struct sr_error err;
	int local, bin;

	if (p->export_client < 0)
		return;
	local = sr_open_beneath(root, "usr/local", O_PATH | O_DIRECTORY, &err);
	if (local < 0 || faccessat(local, "bin", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		sr_child_die(rfd, "no /usr/local/bin to offer saferoom-export in");
	bin = new_fs(rfd, "tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	attach(rfd, bin, local, "bin");
	mount_point(rfd, bin, "saferoom-export", 0);
	bind_fd(rfd, p->export_client, bin, "saferoom-export",
		MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	set_attrs(rfd, bin, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
		  "/usr/local/bin");
	close(bin);
	close(local);
}

static void
build_var(int rfd, int root)
{
	int var;

	var = subdir(rfd, root, "var");
	if (symlinkat("/tmp", var, "tmp") < 0)
		sr_child_die_errno(rfd, "symlink /var/tmp");
	close(var);
}

/* Makes ROOT the root and drops the host's tree from this mount namespace. */
static void
pivot(int rfd, int root)
{
	if (fchdir(root) < 0)
		sr_child_die_errno(rfd, "chdir to new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		sr_child_die_errno(rfd, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		sr_child_die_errno(rfd, "detaching the host's root");
	if (chdir("/") < 0)
		sr_child_die_errno(rfd, "chdir /");
}

static void
close_plan(struct plan *p, const struct sr_sandbox *sb)
{
	size_t i;

	for (i = 0; i < p->n_sys; i++)
		if (p->sys[i].fd >= 0)
			close(p->sys[i].fd);
	for (i = 0; i < p->n_etc; i++)
		if (p->etc[i].fd >= 0)
			close(p->etc[i].fd);
	for (i = 0; dev_nodes[i] != NULL; i++)
		close(p->dev[i]);
	for (i = 0; i < sb->spec.n_datasets; i++)
		close(p->data[i]);
	free(p->data);
	free(p->data_dir);
	close(p->workspace);
	if (p->export_socket >= 0)
		close(p->export_socket);
	if (p->export_client >= 0)
		close(p->export_client);
	close(p->host_root);
	free(p);
}

void
sr_mounts_build(int rfd, const struct sr_sandbox *sb, int *tmp_fd)
{
	static const char *const root_opts[] = {
		"size", ROOT_SIZE, "nr_inodes", "4096", "mode", "0755", NULL,
	};
	struct plan *p;
	int root;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		sr_child_die(rfd, "out of memory");
	/* Nothing mounted from here on may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sr_child_die_errno(rfd, "making / private");
	collect_host(rfd, p, sb);
	/* The new root needs a place in this namespace to pivot from; /tmp is
	 * hidden under it from now on, which is why every host path is already open. */
	root = new_fs(rfd, "tmpfs", root_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	attach(rfd, root, p->host_root, "tmp");
	build_system(rfd, p, root);
	build_etc(rfd, p, root, sb);
	build_data(rfd, p, root, sb);
	build_project(rfd, p, root, sb);
	*tmp_fd = build_tmp(rfd, root, &sb->spec.limits);
	build_dev(rfd, p, root);
	build_proc(rfd, p, root);
	build_var(rfd, root);
	build_run(rfd, p, root);
	build_export_client(rfd, p, root);
	close_plan(p, sb);
	pivot(rfd, root);
	set_attrs(rfd, root, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, "/");
	close(root);
}
