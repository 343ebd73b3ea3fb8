/*
 * exec_monitor.c — every exec in the sandbox becomes an `exec` audit event.
 *
 * The seccomp filter sends execve and execveat to a user-notification
 * listener; the listener's descriptor lives in the holding process, outside
 * the sandbox, so that nothing inside can answer its own notifications.  For
 * each one the listener reads the path and argv from the task's memory
 * (process_vm_readv, a page at a time), its cwd, the directory descriptor of
 * execveat and its pid inside from /proc, then checks that the notification
 * is still valid (so that everything read came from the trapped task and not
 * from one that took its pid after it died), writes the event, and only
 * then lets the call continue.
 *
 * What this guarantees, and what it does not:
 *
 *  - No exec happens without an event written before it: the task waits in
 *    the kernel until the listener answers, and if the listener is gone the
 *    call fails (ENOSYS) instead of running.  If the event cannot be handed
 *    to the audit writer the exec is refused and the sandbox ended.
 *  - pid (as seen inside), cwd and the execveat directory are those of the
 *    trapped task at the time of the call.
 *  - The path and argv are what the task's memory held when the listener read
 *    them.  SECCOMP_USER_NOTIF_FLAG_CONTINUE makes the kernel read that
 *    memory again, so another thread of the same process (or a process
 *    sharing the memory) can change it in between, and the program that
 *    really runs may differ from the one recorded.  The filter narrows this
 *    (no ptrace, no process_vm_writev, no executable memfd), but only a
 *    listener that ran the exec itself could close it, and seccomp offers no
 *    such answer.  An event is therefore evidence that an exec was attempted
 *    by that task with those arguments, not proof of what the kernel loaded.
 *  - Code can run without any exec at all (an interpreter, a JIT, a user-space
 *    loader mapping a file from /project).  Exec logging records program
 *    launches; the walls that keep data in are the mounts, the network
 *    namespace and the export review, not this log.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"

#define ARGV_MAX 1024              /* arguments recorded at most */
#define ARGV_BYTES (32 * 1024)     /* bytes of argument text recorded at most */
#define BATCH 64                   /* argv entries read per round */
#define SCRATCH ((BATCH + 1) * 4097)   /* a page and a NUL for the path and each of a batch */

#ifndef NS_GET_PID_IN_PIDNS
#define NS_GET_PID_IN_PIDNS _IOR(0xb7, 0x8, int)   /* Linux 6.10 */
#endif

/* ---- reading the task --------------------------------------------------------- */

/* Reads up to LEN bytes at ADDR of PID; a short read stops at unmapped memory. */
static ssize_t
peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0);
}

/*
 * One process_vm_readv() per page the string touches, never across a page
 * boundary, so that a string ending just before unmapped memory still reads.
 */
char *
sr_exec_read_string(pid_t pid, uint64_t addr, size_t max)
{
	size_t got = 0;
	char *buf;

	if (addr == 0)
		return NULL;
	buf = malloc(max + 1);
	if (buf == NULL)
		return NULL;
	while (got < max) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		ssize_t n;

		if (chunk > max - got)
			chunk = max - got;
		n = peek(pid, addr + got, buf + got, chunk);
		if (n <= 0)
			break;
		if (memchr(buf + got, '\0', (size_t)n) != NULL)
			return buf; /* NUL-terminated in place */
		got += (size_t)n;
	}
	if (got == 0) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	return buf;
}

/*
 * Valid UTF-8 is kept; every other byte becomes U+FFFD, so that the audit
 * writer accepts the JSON.
 */
static char *
utf8_clean(const char *s)
{
	size_t len = strlen(s), i = 0, o = 0;
	char *out = malloc(len * 3 + 1);

	if (out == NULL)
		return NULL;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		size_t k;

		for (k = 1; n > 1 && k < n; k++)
			if (i + k >= len || ((unsigned char)s[i + k] >> 6) != 2)
				n = 0;
		if (n == 0 || (n == 2 && c < 0xc2)) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static void
add_string(json_object *obj, const char *key, const char *value)
{
	char *clean = value != NULL ? utf8_clean(value) : NULL;

	json_object_object_add(obj, key, clean != NULL ? json_object_new_string(clean) : NULL);
	free(clean);
}

/* Bytes from ADDR to the end of its page, at most MAX. */
static size_t
page_rest(uint64_t addr, size_t max)
{
	size_t rest = 4096 - (addr & 4095);

	return rest < max ? rest : max;
}

/*
 * Reads N strings in one process_vm_readv(): for each, the bytes from
 * addr[i] to the end of its page (at most max[i]) into buf.  A remote range
 * never crosses a page, so it is read whole or not at all; out[i] is the
 * string when that range held its NUL (or filled max[i]), else NULL, and the
 * caller reads that one the slow way (it runs on into the next page, or its
 * page is unmapped).  buf holds SCRATCH bytes.
 */
static void
read_strings(pid_t pid, const uint64_t *addr, const size_t *max, size_t n, char *buf,
	     char **out)
{
	struct iovec local[BATCH + 1], remote[BATCH + 1];
	size_t i, off = 0, len[BATCH + 1];
	ssize_t got;

	for (i = 0; i < n; i++) {
		out[i] = NULL;
		len[i] = addr[i] != 0 ? page_rest(addr[i], max[i]) : 0;
		local[i] = (struct iovec){ .iov_base = buf + off, .iov_len = len[i] };
		remote[i] = (struct iovec){ .iov_base = (void *)(uintptr_t)addr[i],
					    .iov_len = len[i] };
		off += len[i] + 1;
	}
	got = process_vm_readv(pid, local, n, remote, n, 0);
	for (i = 0; i < n && got > 0 && (size_t)got >= len[i]; got -= (ssize_t)len[i], i++) {
		char *s = local[i].iov_base;

		if (len[i] == 0)
			continue;
		if (memchr(s, '\0', len[i]) != NULL || len[i] == max[i]) {
			s[len[i]] = '\0';
			out[i] = strdup(s);
		}
	}
}

/* The pointers of argv[first..], up to BATCH; returns how many could be read. */
static size_t
read_ptrs(pid_t pid, uint64_t addr, size_t first, uint64_t *ptrs)
{
	ssize_t r = peek(pid, addr + first * sizeof(uint64_t), ptrs, BATCH * sizeof(uint64_t));

	/* The array may end just before unmapped memory: fall back to one at a time. */
	if (r < (ssize_t)sizeof(uint64_t))
		r = peek(pid, addr + first * sizeof(uint64_t), ptrs, sizeof(uint64_t));
	return r < (ssize_t)sizeof(uint64_t) ? 0 : (size_t)r / sizeof(uint64_t);
}

/*
 * The path and argv: the pointer array is read BATCH entries at a time, and
 * each batch of strings (the path with the first) in one call, within
 * ARGV_MAX entries and ARGV_BYTES of text.  Returns the path, or NULL when
 * it could not be read; *unreadable is set when that was for want of the
 * right to read the task's memory (EPERM).
 */
static char *
read_exec_args(pid_t pid, uint64_t path_addr, uint64_t argv_addr, char *buf, json_object *arr,
	       int *truncated, int *unreadable)
{
	uint64_t ptrs[BATCH], addr[BATCH + 1];
	size_t max[BATCH + 1], bytes = 0, i = 0, n, k, j, np;
	char *str[BATCH + 1], *path = NULL;
	int path_done = 0, complete = argv_addr == 0;

	*truncated = *unreadable = 0;
	while (!path_done || (!complete && i < ARGV_MAX)) {
		n = 0;
		if (!complete && i < ARGV_MAX) {
			np = read_ptrs(pid, argv_addr, i, ptrs);
			while (n < np && ptrs[n] != 0 && i + n < ARGV_MAX)
				n++;
			complete = np == 0 || (n < np && ptrs[n] == 0);
		}
		k = path_done ? 0 : 1;
		addr[0] = path_addr;
		max[0] = PATH_MAX;
		for (j = 0; j < n; j++) {
			addr[k + j] = ptrs[j];
			max[k + j] = ARGV_BYTES;
		}
		read_strings(pid, addr, max, n + k, buf, str);
		if (!path_done) {
			errno = 0;
			path = str[0] != NULL ? str[0] : sr_exec_read_string(pid, path_addr, PATH_MAX);
			*unreadable = path == NULL && errno == EPERM;
			path_done = 1;
		}
		for (j = 0; j < n; j++, i++) {
			char *arg = str[k + j], *clean;
			size_t left = ARGV_BYTES - bytes;

			if (bytes >= ARGV_BYTES) {
				for (; j < n; j++)
					free(str[k + j]);
				*truncated = 1;
				return path;
			}
			if (arg == NULL)
				arg = sr_exec_read_string(pid, ptrs[j], left);
			else if (strlen(arg) > left)
				arg[left] = '\0';
			clean = utf8_clean(arg != NULL ? arg : "");
			bytes += strlen(arg != NULL ? arg : "") + 1;
			json_object_array_add(arr, json_object_new_string(clean != NULL ? clean : ""));
			free(arg);
			free(clean);
		}
	}
	*truncated = !complete;
	return path;
}

/* readlink of PID/WHAT under the host's /proc (proc_fd). */
static char *
proc_link(int proc_fd, pid_t pid, const char *what)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%ld/%s", (long)pid, what);
	n = readlinkat(proc_fd, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* The pid in the sandbox's namespace from the last NSpid field of /proc/PID/status. */
static long
inner_pid_status(int proc_fd, pid_t pid)
{
	char path[64], buf[4096], *line, *last;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%ld/status", (long)pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	line = strstr(buf, "\nNSpid:");
	if (line == NULL)
		return -1;
	line[strcspn(line + 1, "\n") + 1] = '\0';
	last = strrchr(line, '\t');
	return last != NULL ? strtol(last + 1, NULL, 10) : -1;
}

/*
 * The task's pid in its own (the sandbox's) pid namespace: one ioctl on the
 * namespace (Linux 6.10), or /proc/PID/status on older kernels.
 */
static long
inner_pid(const struct sr_sandbox *sb, pid_t pid)
{
	int r;

	if (sb->pidns_fd >= 0) {
		r = ioctl(sb->pidns_fd, NS_GET_PID_IN_PIDNS, (unsigned long)pid);
		if (r > 0)
			return r;
		if (errno != ENOTTY && errno != EINVAL)
			return -1;
	}
	return inner_pid_status(sb->proc_fd, pid);
}

/* ---- one notification ------------------------------------------------------------ */

struct exec_info {
	int execveat;
	char *filename;
	char *cwd;
	char *dir;             /* execveat's directory, when not AT_FDCWD */
	long pid;
	uint64_t flags;
	json_object *argv;
	int truncated;
	int unreadable;        /* its memory could not be opened: the exec is refused */
};

static void
exec_info_clear(struct exec_info *x)
{
	free(x->filename);
	free(x->cwd);
	free(x->dir);
	json_object_put(x->argv);
	memset(x, 0, sizeof(*x));
}

/*
 * Reads everything about the exec, then checks that the notification is
 * still valid: only then is it certain that PID was the trapped task all
 * along, not one that took its pid after it died.  Returns 0, or -1 when the
 * task is gone (nothing ran, nothing to record).
 */
static int
exec_read(const struct sr_sandbox *sb, const struct seccomp_notif *req, struct exec_info *x)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	char path[64];
	int dirfd;

	memset(x, 0, sizeof(*x));
	x->execveat = req->data.nr == SYS_execveat;
	x->argv = json_object_new_array();
	/* Memory the kernel can read but we cannot (no ptrace right) is refused, never passed unseen. */
	x->filename = read_exec_args(pid, x->execveat ? a[1] : a[0], x->execveat ? a[2] : a[1],
				     sb->scratch, x->argv, &x->truncated, &x->unreadable);
	x->cwd = proc_link(sb->proc_fd, pid, "cwd");
	dirfd = x->execveat ? (int)a[0] : AT_FDCWD;
	if (dirfd != AT_FDCWD) {
		snprintf(path, sizeof(path), "fd/%d", dirfd);
		x->dir = proc_link(sb->proc_fd, pid, path);
	}
	x->flags = x->execveat ? a[4] : 0;
	x->pid = inner_pid(sb, pid);
	if (seccomp_notify_id_valid(sb->notify_fd, req->id) != 0) {
		exec_info_clear(x);
		return -1;
	}
	return 0;
}

/*
 * Drops "." components and repeated slashes in place ("/usr/./bin//true" ->
 * "/usr/bin/true").  ".." stays: resolving it lexically would be wrong
 * across a symlink, and the listener does not follow symlinks for the record.
 */
static void
clean_path(char *p)
{
	char *r = p, *w = p;

	while (*r != '\0') {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || r[2] == '\0')))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

/* The executable as the sandbox names it: absolute, relative to cwd or to execveat's directory. */
static char *
exec_path(const struct exec_info *x)
{
	const char *base = x->dir != NULL ? x->dir : x->cwd;
	char *path = NULL;

	if (x->filename == NULL)
		return NULL;
	if (x->filename[0] == '\0' && (x->flags & AT_EMPTY_PATH))
		path = x->dir != NULL ? strdup(x->dir) : NULL;
	else if (x->filename[0] == '/' || base == NULL)
		path = strdup(x->filename);
	else if (asprintf(&path, "%s/%s", base, x->filename) < 0)
		path = NULL;
	if (path != NULL)
		clean_path(path);
	return path;
}

static char *
exec_details(const struct exec_info *x)
{
	json_object *obj = json_object_new_object();
	char *path = exec_path(x), *text;

	json_object_object_add(obj, "syscall",
			       json_object_new_string(x->execveat ? "execveat" : "execve"));
	add_string(obj, "path", path);
	json_object_object_add(obj, "argv", x->argv != NULL ? json_object_get(x->argv)
							    : json_object_new_array());
	if (x->truncated)
		json_object_object_add(obj, "argv_truncated", json_object_new_boolean(1));
	if (x->unreadable)
		json_object_object_add(obj, "refused", json_object_new_string("memory unreadable"));
	add_string(obj, "cwd", x->cwd);
	json_object_object_add(obj, "pid", json_object_new_int64(x->pid));
	text = strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
	free(path);
	return text;
}

int
sr_exec_monitor_handle(struct sr_sandbox *sb, struct sr_error *err)
{
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	struct exec_info x;
	char *details;
	int rc = 0;

	if (sb->notif_req == NULL &&
	    seccomp_notify_alloc(&sb->notif_req, &sb->notif_resp) != 0)
		return sr_error_set(err, "sandbox: out of memory for a notification");
	if (sb->scratch == NULL && (sb->scratch = malloc(SCRATCH)) == NULL)
		return sr_error_set(err, "sandbox: out of memory for a notification");
	req = sb->notif_req;
	resp = sb->notif_resp;
	/* The kernel refuses a receive buffer that is not zeroed. */
	memset(req, 0, sizeof(*req));
	memset(resp, 0, sizeof(*resp));
	if (seccomp_notify_receive(sb->notify_fd, req) != 0) {
		if (errno == ENOENT || errno == EINTR)
			return 0; /* the task died while waiting: nothing ran */
		return sr_error_errno(err, "sandbox: receiving an exec notification");
	}
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (exec_read(sb, req, &x) < 0)
		return 0; /* likewise */
	details = exec_details(&x);
	if (x.unreadable) {
		resp->flags = 0;
		resp->error = -EPERM;
	}
	exec_info_clear(&x);
	if (details == NULL || sr_sandbox_emit(sb, "exec", details, err) < 0) {
		/* Fail closed: an exec that cannot be recorded does not happen. */
		resp->flags = 0;
		resp->error = -EPERM;
		rc = -1;
		if (details == NULL)
			sr_error_set(err, "sandbox: out of memory describing an exec");
	} else {
		sb->exec_count++;
	}
	free(details);
	seccomp_notify_respond(sb->notify_fd, resp);
	return rc;
}
