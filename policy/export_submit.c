/*
 * export_submit.c — where a file in a project workspace becomes an export
 * request: `saferoom-export submit FILE --reason TEXT`, as the monitor
 * carries it out outside the sandbox, as root.
 *
 * Because the monitor is root and the path comes from inside the sandbox,
 * the path is never resolved as a string on the host.  It must be written
 * as the sandbox shows it, "/project/...", and is turned lexically into a
 * path relative to the workspace; that is opened beneath the workspace's
 * directory fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), first as O_PATH so that nothing
 * is opened that is not a regular file (opening a FIFO would block, opening
 * a device can have effects), then for reading, checking it is the same
 * inode.  It is refused when it is:
 *   - outside /project, or reached through "..", a symlink, a /proc magic
 *     link or a mount point: datasets live at /data, and the only way to
 *     make them look like a workspace file is one of these;
 *   - not a regular file: a directory, FIFO, device or socket;
 *   - hard-linked (st_nlink > 1): the other name may be outside the
 *     workspace, even a dataset file on the same file system;
 *   - not owned by the researcher: root can read any file of the shared
 *     workspace, the researcher perhaps not, and export must not lend them
 *     root's eyes;
 *   - larger than export_max_size.
 * Every refusal says which in one line and is audited (export.refused).
 *
 * Accepted files are copied into quarantine while hashed (quarantine.c),
 * recorded (export.submit, durable before the commit; a request that cannot
 * be recorded leaves no copy behind), and checked on the copy
 * (export_checks.c).  Changing the workspace file afterwards changes nothing
 * of what is reviewed or fetched.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "export_internal.h"

#define WORKSPACE_ROOT "/project"

static int
open_in_workspace(int wsfd, const char *rel, int flags)
{
	/* openat2 refuses O_PATH with flags it would ignore, such as O_NOCTTY. */
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};

	return (int)syscall(SYS_openat2, wsfd, rel, &how, sizeof(how));
}

/* The path as typed must be printable UTF-8 before it is ever echoed back. */
static int
printable_path(const char *typed, struct sr_error *err)
{
	size_t len = typed != NULL ? strlen(typed) : 0, bad;

	if (len == 0)
		return sr_error_set(err, "which file? give a path under /project");
	if (len > SR_EXPORT_PATH_MAX)
		return sr_error_set(err, "the path is longer than %d bytes", SR_EXPORT_PATH_MAX);
	if (!export_utf8_valid((const unsigned char *)typed, len, &bad))
		return sr_error_set(err, "the path is not UTF-8: rename the file");
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)typed[i] < 0x20 || typed[i] == 0x7f)
			return sr_error_set(err, "the path holds control characters: rename the file");
	}
	return 0;
}

/* Appends component C (of length n) to REL, or removes the last one for "..". */
static int
add_component(char *rel, size_t *len, const char *c, size_t n)
{
	if (n == 0 || (n == 1 && c[0] == '.'))
		return 0;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		if (*len == 0)
			return -1;
		while (*len > 0 && rel[*len - 1] != '/')
			(*len)--;
		if (*len > 0)
			(*len)--;
		rel[*len] = '\0';
		return 0;
	}
	if (*len > 0)
		rel[(*len)++] = '/';
	memcpy(rel + *len, c, n);
	*len += n;
	rel[*len] = '\0';
	return 0;
}

/* "/project/a/./b//c.csv" -> "a/b/c.csv"; REL holds SR_EXPORT_PATH_MAX + 1 bytes. */
static int
workspace_relative(const char *typed, char *rel, struct sr_error *err)
{
	size_t root = strlen(WORKSPACE_ROOT), len = 0, n;
	const char *s;

	if (strncmp(typed, WORKSPACE_ROOT, root) != 0 || (typed[root] != '/' && typed[root] != '\0'))
		return sr_error_set(err, "%s: only files under /project can be submitted (copy it "
				    "there first)", typed);
	rel[0] = '\0';
	for (s = typed + root; *s != '\0'; s += n) {
		s += strspn(s, "/");
		n = strcspn(s, "/");
		if (add_component(rel, &len, s, n) < 0)
			return sr_error_set(err, "%s leads outside /project", typed);
	}
	if (len == 0)
		return sr_error_set(err, "%s is a directory: give a file", typed);
	return 0;
}

static int
refuse_errno(const char *typed, int e, struct sr_error *err)
{
	switch (e) {
	case ELOOP:
		return sr_error_set(err, "%s is a symlink or lies behind one: only regular files "
				    "under /project can be submitted", typed);
	case EXDEV:
		return sr_error_set(err, "%s leads outside the project workspace (or across a "
				    "mount)", typed);
	case ENOENT:
		return sr_error_set(err, "%s: no such file", typed);
	case ENOTDIR:
		return sr_error_set(err, "%s: a part of the path is not a directory", typed);
	default:
		errno = e;
		return sr_error_errno(err, "%s", typed);
	}
}

static const char *
kind_of(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symlink";
	return "not a regular file";
}

/* What makes the file at ST unfit for export, or 0. */
static int
refuse_stat(const struct sr_export_session *who, const char *typed, const struct stat *st,
	    int64_t max_size, struct sr_error *err)
{
	if (!S_ISREG(st->st_mode))
		return sr_error_set(err, "%s is %s: only regular files can be submitted", typed,
				    kind_of(st->st_mode));
	if (st->st_nlink != 1)
		return sr_error_set(err, "%s has %lu hard links: another name may lie outside the "
				    "workspace; submit a copy (cp) instead", typed,
				    (unsigned long)st->st_nlink);
	if (st->st_uid != who->uid)
		return sr_error_set(err, "%s belongs to another user: submit your own copy of it",
				    typed);
	if (st->st_size > max_size)
		return sr_error_set(err, "%s is %lld bytes, more than the export size cap of %lld "
				    "bytes", typed, (long long)st->st_size, (long long)max_size);
	return 0;
}

/* Opens the file for reading, having checked what it is before opening it. */
static int
open_submission(const struct sr_export_session *who, const char *rel, const char *typed,
		int64_t max_size, struct stat *st, struct sr_error *err)
{
	struct stat again;
	int pfd, fd;

	pfd = open_in_workspace(who->workspace_fd, rel, O_PATH);
	if (pfd < 0)
		return refuse_errno(typed, errno, err);
	if (fstat(pfd, st) < 0) {
		sr_error_errno(err, "%s", typed);
		close(pfd);
		return -1;
	}
	close(pfd);
	if (refuse_stat(who, typed, st, max_size, err) < 0)
		return -1;
	fd = open_in_workspace(who->workspace_fd, rel, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return refuse_errno(typed, errno, err);
	if (fstat(fd, &again) < 0) {
		sr_error_errno(err, "%s", typed);
		close(fd);
		return -1;
	}
	if (again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		sr_error_set(err, "%s changed while being submitted: try again", typed);
		close(fd);
		return -1;
	}
	if (refuse_stat(who, typed, &again, max_size, err) < 0) {
		close(fd);
		return -1;
	}
	*st = again;
	return fd;
}

static struct json_object *
submit_details(int64_t id, const char *rel, const char *reason, const char *type,
	       const struct export_quarantined *q, int approvals)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "id", json_object_new_int64(id));
	json_object_object_add(d, "path", json_object_new_string(rel));
	json_object_object_add(d, "sha256", json_object_new_string(q->sha256));
	json_object_object_add(d, "size", json_object_new_int64(q->size));
	json_object_object_add(d, "type", json_object_new_string(type));
	json_object_object_add(d, "quarantine", json_object_new_string(q->name));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	json_object_object_add(d, "approvals_needed", json_object_new_int(approvals));
	return d;
}

static int64_t
insert_request(struct sr_policy *p, const struct sr_export_session *who, const char *rel,
	       const char *reason, const char *type, const struct export_quarantined *q,
	       int approvals, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_prepare(p, "INSERT INTO export_requests (project, requester, path, reason, size, "
			 "sha256, quarantine, file_type, approvals_needed, created) "
			 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, who->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, who->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, q->size);
	sqlite3_bind_text(st, 6, q->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, q->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, type, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, approvals);
	sqlite3_bind_int64(st, 10, time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "export_requests");
	return sqlite3_last_insert_rowid(p->db);
}

/* Records the request; export.submit is durable before it is committed. */
static int
create_request(struct sr_policy *p, const struct sr_export_session *who, const char *rel,
	       const char *reason, const struct export_quarantined *q,
	       const struct sr_export_limits *lim, int64_t *id, struct sr_error *err)
{
	const char *type = export_type_name(export_type_of(rel));
	char *datasets;
	int64_t rid;
	int rc;

	if (pol_change_begin(p, err) < 0)
		return -1;
	if (pol_project_id(p, who->project, err) < 0) {
		pol_change_abort(p);
		return -1;
	}
	rid = insert_request(p, who, rel, reason, type, q, lim->approvals, err);
	if (rid < 0) {
		pol_change_abort(p);
		return -1;
	}
	datasets = export_project_datasets(p, who->project);
	rc = pol_change_commit_event(p, "export.submit", who->project, datasets,
				     submit_details(rid, rel, reason, type, q, lim->approvals), err);
	free(datasets);
	if (rc == 0)
		*id = rid;
	return rc;
}

/* Audits a refused submission (best effort) and returns -1 with ERR as it is. */
static int
refused(struct sr_policy *p, const struct sr_export_session *who, const char *shown,
	struct sr_error *err)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "op", json_object_new_string("submit"));
	json_object_object_add(d, "path", shown != NULL ? json_object_new_string(shown) : NULL);
	json_object_object_add(d, "why", json_object_new_string(sr_error_msg(err)));
	pol_audit_send(p, "export.refused", who->project, NULL, d, NULL);
	json_object_put(d);
	return -1;
}

static int
session_ok(struct sr_policy *p, const struct sr_export_session *who,
	   const struct sr_export_limits *lim, struct sr_error *err)
{
	struct stat st;

	if (p->actor == NULL || who->user == NULL || strcmp(p->actor, who->user) != 0)
		return sr_error_set(err, "export: the policy handle must act as the session's user");
	if (who->project == NULL || sr_policy_object_name_ok(who->project) < 0)
		return sr_error_set(err, "export: the session has no project");
	if (who->workspace_fd < 0 || fstat(who->workspace_fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return sr_error_set(err, "export: the session's workspace is not an open directory");
	return sr_export_limits_check(lim, err);
}

int
sr_export_submit(struct sr_policy *p, const struct sr_export_session *who, const char *path,
		 const char *reason, int64_t *id, struct sr_error *err)
{
	struct sr_export_limits defaults;
	const struct sr_export_limits *lim = who->limits;
	struct export_quarantined q = { .size = 0 };
	char rel[SR_EXPORT_PATH_MAX + 1];
	struct stat st;
	int fd, rc;

	*id = 0;
	if (lim == NULL) {
		sr_export_limits_init(&defaults);
		lim = &defaults;
	}
	if (session_ok(p, who, lim, err) < 0)
		return -1;
	if (printable_path(path, err) < 0)
		return refused(p, who, NULL, err);
	if (export_text_ok("a reason (--reason TEXT)", reason, err) < 0 ||
	    workspace_relative(path, rel, err) < 0)
		return refused(p, who, path, err);
	fd = open_submission(who, rel, path, lim->max_size, &st, err);
	if (fd < 0)
		return refused(p, who, path, err);
	rc = export_quarantine_store(p->state_dir, fd, &st, lim->max_size, &q, err);
	close(fd);
	if (rc < 0)
		return refused(p, who, path, err);
	if (create_request(p, who, rel, reason, &q, lim, id, err) < 0) {
		export_quarantine_discard(p->state_dir, q.name);
		return -1;
	}
	return export_checks_record(p, *id, lim, err);
}
