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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"

#define ARGV_MAX 1024              /* arguments recorded at most */
#define ARGV_BYTES (32 * 1024)     /* bytes of argument text recorded at most */

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

/* argv: the pointer array read 64 entries at a time, until NULL, within ARGV_MAX and ARGV_BYTES. */
static json_object *
read_argv(pid_t pid, uint64_t addr, int *truncated)
{
	json_object *arr = json_object_new_array();
	uint64_t ptrs[64];
	size_t bytes = 0, i, n = 0;

	for (i = 0; addr != 0 && i < ARGV_MAX; i++) {
		char *arg, *clean;

		if (i % 64 == 0) {
			ssize_t r = peek(pid, addr + i * sizeof(uint64_t), ptrs, sizeof(ptrs));

			/* The array may end just before unmapped memory: fall back to one at a time. */
			if (r < (ssize_t)sizeof(uint64_t))
				r = peek(pid, addr + i * sizeof(uint64_t), ptrs, sizeof(uint64_t));
			if (r < (ssize_t)sizeof(uint64_t))
				return arr;
			n = (size_t)r / sizeof(uint64_t);
		}
		if (i % 64 >= n || ptrs[i % 64] == 0)
			return arr;
		if (bytes >= ARGV_BYTES)
			break;
		arg = sr_exec_read_string(pid, ptrs[i % 64], ARGV_BYTES - bytes);
		clean = utf8_clean(arg != NULL ? arg : "");
		bytes += strlen(arg != NULL ? arg : "") + 1;
		json_object_array_add(arr, json_object_new_string(clean != NULL ? clean : ""));
		free(arg);
		free(clean);
	}
	*truncated = addr != 0;
	return arr;
}

static char *
proc_link(pid_t pid, const char *what)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* The task's pid in its own (the sandbox's) pid namespace: the last NSpid field. */
static long
inner_pid(pid_t pid)
{
	char path[64], buf[4096], *line, *last;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
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
exec_read(int notify_fd, const struct seccomp_notif *req, struct exec_info *x)
{
	const __u64 *a = req->data.args;
	pid_t pid = (pid_t)req->pid;
	char path[64];
	int dirfd;

	memset(x, 0, sizeof(*x));
	x->execveat = req->data.nr == SYS_execveat;
	errno = 0;
	x->filename = sr_exec_read_string(pid, x->execveat ? a[1] : a[0], PATH_MAX);
	/* Memory the kernel can read but we cannot (no ptrace right) is refused, never passed unseen. */
	x->unreadable = x->filename == NULL && errno == EPERM;
	x->argv = read_argv(pid, x->execveat ? a[2] : a[1], &x->truncated);
	x->cwd = proc_link(pid, "cwd");
	dirfd = x->execveat ? (int)a[0] : AT_FDCWD;
	if (dirfd != AT_FDCWD) {
		snprintf(path, sizeof(path), "fd/%d", dirfd);
		x->dir = proc_link(pid, path);
	}
	x->flags = x->execveat ? a[4] : 0;
	x->pid = inner_pid(pid);
	if (seccomp_notify_id_valid(notify_fd, req->id) != 0) {
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
	if (exec_read(sb->notify_fd, req, &x) < 0)
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
