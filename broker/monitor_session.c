/*
 * monitor_session.c — what the monitor starts once a user is in: the
 * researcher's shell in her project's sandbox, a steward's or auditor's
 * `saferoom>` prompt, or one verb; and how each ends.
 *
 * The order for a recorded session is fixed by what must be provable later:
 * the session.start event is durable before anything runs, so a session
 * that the trail does not know about cannot exist; session.end carries the
 * recording's SHA-256, so the recording cannot be swapped afterwards.
 * A running session is re-decided against policy every recheck_interval
 * seconds: a revoked grant, a locked user or an ended membership ends it.
 * The researcher's banner names her project, its DRB reference and end
 * date, the datasets mounted, and her export requests decided lately.
 */
#include "config.h"

#include <sys/wait.h>
#include <syslog.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "saferoom/export.h"
#include "saferoom/verbs.h"
#include "log.h"
#include "monitor.h"
#include "sandbox_limits.h"

static const char MSG_TRAIL[] =
	"saferoom: the audit trail cannot be written, so no session can start";

/*
 * STATE_DIR/recordings, made when missing.  Refused when the state disk is
 * below min_free_space: a session must not start that could not be recorded
 * to its end.
 */
static int
open_recordings(struct monitor *m, struct sr_error *err)
{
	char path[4096];
	int fd;

	if (sr_audit_space_ok(m->a->cfg->state_dir, (uint64_t)m->a->cfg->min_free_space, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", m->a->cfg->state_dir, SR_AUDIT_RECORDINGS);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return sr_error_errno(err, "%s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sr_error_errno(err, "%s", path);
	return fd;
}

/* session.start, durable, before anything runs. */
static int
session_start_event(struct monitor *m, const char *kind)
{
	json_object *d = details_new("kind", kind);

	snprintf(m->rec_name, sizeof(m->rec_name), "%s.cast", m->session_id);
	details_add(d, "recording", m->rec_name);
	details_add(d, "term", m->term);
	json_object_object_add(d, "cols", json_object_new_int(m->cols));
	json_object_object_add(d, "rows", json_object_new_int(m->rows));
	if (mon_event(m, "session.start", d, 1) < 0)
		return -1;
	m->recorded = 1;
	sr_kaudit_session_start(m->kaudit, m->user, m->uid, m->a->source, "ssh-pty",
				m->session_id, NULL);
	return 0;
}

static void
datasets_text(struct monitor *m)
{
	size_t i, off = 0;

	m->datasets[0] = '\0';
	for (i = 0; i < m->spec->n_datasets && off < sizeof(m->datasets); i++)
		off += (size_t)snprintf(m->datasets + off, sizeof(m->datasets) - off, "%s%s",
					i ? "," : "", m->spec->datasets[i].name);
}

static void
sandbox_limits(struct monitor *m, struct sr_sandbox_limits *l)
{
	sr_sandbox_limits_for(m->a->cfg, &m->spec->limits, l);
}

static struct sr_sandbox *
sandbox_build(struct monitor *m, struct sr_error *err)
{
	static char *const argv[] = { "bash", "-l", NULL };
	struct sr_sandbox_dataset ds[64];
	struct sr_sandbox_spec spec;
	size_t i;

	if (m->spec->n_datasets > 64) {
		sr_error_set(err, "more than 64 datasets");
		return NULL;
	}
	for (i = 0; i < m->spec->n_datasets; i++) {
		ds[i].name = m->spec->datasets[i].name;
		ds[i].path = m->spec->datasets[i].path;
	}
	memset(&spec, 0, sizeof(spec));
	spec.user = m->user;
	spec.project = m->project;
	spec.session = m->session_id;
	spec.source = m->a->source;
	spec.uid = (uid_t)m->spec->uid;
	spec.gid = (gid_t)m->spec->gid;
	spec.datasets = ds;
	spec.n_datasets = m->spec->n_datasets;
	spec.workspace = m->spec->workspace;
	spec.home = m->spec->home;
	sandbox_limits(m, &spec.limits);
	spec.argv = argv;
	spec.pty = 1;
	spec.term = m->term[0] != '\0' ? m->term : NULL;
	spec.lang = m->lang[0] != '\0' ? m->lang : NULL;
	spec.audit = m->audit;
	mon_export_spec(m, &spec);
	return sr_sandbox_new(&spec, err);
}

/*
 * Her export requests decided in the last EXPORT_BANNER_DAYS, one line
 * each, so that an approval reaches her at her next login.
 */
#define EXPORT_BANNER_DAYS 14

static void
banner_exports(struct monitor *m)
{
	struct sr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	if (f == NULL)
		return;
	if (sr_export_banner(m->policy, m->user, time(NULL) - EXPORT_BANNER_DAYS * 86400, f, 1,
			     &err) < 0)
		log_warn("export requests of %s: %s", m->user, sr_error_msg(&err));
	fclose(f);
	if (text != NULL && len > 0)
		sr_session_say(m->sess, text);
	free(text);
}

/* The login banner: where she is, what she may read, until when. */
static void
banner(struct monitor *m)
{
	char text[2048], until[32] = "-";
	size_t off, i;
	json_object *p, *v;
	const char *drb = "-";

	p = sr_policy_project_show(m->policy, m->project, NULL);
	if (p != NULL && json_object_object_get_ex(p, "drb_ref", &v))
		drb = json_object_get_string(v);
	if (p != NULL && json_object_object_get_ex(p, "valid_until", &v) &&
	    json_object_get_type(v) != json_type_null) {
		if (json_object_is_type(v, json_type_int))
			sr_policy_format_date(json_object_get_int64(v), 1, until, sizeof(until));
		else
			snprintf(until, sizeof(until), "%s", json_object_get_string(v));
	}
	off = (size_t)snprintf(text, sizeof(text),
			       "saferoom: project %s (DRB %s), approved until %s\r\n"
			       "Datasets (read-only):", m->project, drb, until);
	for (i = 0; i < m->spec->n_datasets && off < sizeof(text); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, " /data/%s",
					m->spec->datasets[i].name);
	if (off < sizeof(text))
		snprintf(text + off, sizeof(text) - off,
			 "\r\nWork in /project.  Files leave only through review: "
			 "saferoom-export submit FILE --reason TEXT\r\n"
			 "This session is recorded.\r\n");
	json_object_put(p);
	sr_session_say(m->sess, text);
	banner_exports(m);
}

static struct sr_session_io
session_io(struct monitor *m, int rec_dir)
{
	struct sr_session_io io = {
		.data = m->data, .errs = m->errs, .rec_dir = rec_dir, .rec_name = m->rec_name,
		.term = m->term[0] != '\0' ? m->term : NULL, .cols = m->cols, .rows = m->rows,
	};

	return io;
}

/* Makes DIR with the owner and mode given, unless it exists. */
static int
make_dir(const char *dir, mode_t mode, uid_t uid, gid_t gid, struct sr_error *err)
{
	if (mkdir(dir, mode) < 0)
		return errno == EEXIST ? 0 : sr_error_errno(err, "%s", dir);
	/* chmod after chown: chown clears the setgid bit. */
	if (chown(dir, uid, gid) < 0 || chmod(dir, mode) < 0)
		return sr_error_errno(err, "%s", dir);
	return 0;
}

/*
 * The project workspace and her home in it, made on first use: the
 * workspace and home/ belong to root and the project group (setgid, so
 * files stay the project's), her home to her.
 */
static int
make_workspace(struct monitor *m, struct sr_error *err)
{
	const struct sr_policy_spec *sp = m->spec;
	char path[4096];

	if (make_dir(sp->workspace, 02770, 0, (gid_t)sp->gid, err) < 0)
		return -1;
	if (sp->home == NULL || strchr(sp->home, '/') == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s/%.*s", sp->workspace,
		 (int)(strrchr(sp->home, '/') - sp->home), sp->home);
	if (make_dir(path, 02770, 0, (gid_t)sp->gid, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", sp->workspace, sp->home);
	return make_dir(path, 02750, (uid_t)sp->uid, (gid_t)sp->gid, err);
}

static int
start_sandbox(struct monitor *m)
{
	struct sr_error err = { "" };
	struct sr_session_io io;
	char msg[700];
	int rec_dir;

	if (!m->pty)
		return mon_reply_ok(m, 0, "saferoom: a shell needs a terminal: use ssh -t");
	m->spec = sr_policy_spec_new(m->policy, m->user, m->project, time(NULL), &err);
	if (m->spec == NULL) {
		snprintf(msg, sizeof(msg), "saferoom: %s", sr_error_msg(&err));
		return mon_reply_ok(m, 0, msg);
	}
	datasets_text(m);
	if (make_workspace(m, &err) < 0) {
		log_err("%s", sr_error_msg(&err));
		return mon_reply_ok(m, 0, "saferoom: the project workspace could not be made");
	}
	if (mon_export_open(m, &err) < 0) {
		log_err("export socket of %s: %s", m->session_id, sr_error_msg(&err));
		return mon_reply_ok(m, 0, "saferoom: the export service could not be started");
	}
	rec_dir = open_recordings(m, &err);
	if (rec_dir < 0 || session_start_event(m, "shell") < 0) {
		log_err("%s", rec_dir < 0 ? sr_error_msg(&err) : "session.start not written");
		if (rec_dir >= 0)
			close(rec_dir);
		return mon_reply_ok(m, 0, MSG_TRAIL);
	}
	io = session_io(m, rec_dir);
	m->sb = sandbox_build(m, &err);
	if (m->sb != NULL)
		m->sess = sr_session_sandbox(m->sb, &io, &err);
	close(rec_dir);
	if (m->sess == NULL) {
		log_err("sandbox for %s in %s: %s", m->user, m->project, sr_error_msg(&err));
		mon_session_end(m, "sandbox-failed");
		return mon_reply_ok(m, 0, "saferoom: the sandbox could not be started");
	}
	banner(m);
	m->next_recheck = time(NULL) + m->a->cfg->policy_recheck_interval;
	return mon_reply_ok(m, 1, "");
}

static int
start_verbs(struct monitor *m, const char *command)
{
	struct sr_error err = { "" };
	struct sr_session_io io;
	int rec_dir = -1;

	m->verb = (struct sr_verbs_ssh){
		.cfg = m->a->cfg, .user = m->user, .roles = m->roles, .source = m->a->source,
		.session = m->session_id, .command = command, .tty = m->pty,
	};
	if (m->pty) {
		rec_dir = open_recordings(m, &err);
		if (rec_dir < 0 || session_start_event(m, command ? "verb" : "prompt") < 0) {
			if (rec_dir >= 0)
				close(rec_dir);
			return mon_reply_ok(m, 0, MSG_TRAIL);
		}
	}
	/*
	 * The verbs open policy.db themselves.  SQLite's state must not cross a
	 * fork: a child that inherits an open connection's locks and WAL index
	 * mapping fails on its own connection to the same file ("locking
	 * protocol").  A verb session never rechecks, so the monitor is done
	 * with its handle.
	 */
	sr_policy_free(m->policy);
	m->policy = NULL;
	io = session_io(m, rec_dir);
	m->sess = sr_session_child(sr_verbs_ssh_main, &m->verb, m->pty, &io, &err);
	if (rec_dir >= 0)
		close(rec_dir);
	if (m->sess == NULL) {
		log_err("%s", sr_error_msg(&err));
		if (m->recorded)
			mon_session_end(m, "start-failed");
		return mon_reply_ok(m, 0, "saferoom: the command could not be started");
	}
	return mon_reply_ok(m, 1, "");
}

static int
is_staff(const struct monitor *m)
{
	return (m->roles & (SR_ROLE_STEWARD | SR_ROLE_AUDITOR)) != 0;
}

int
mm_answer_shell(struct monitor *m, struct sr_mon_msg *q)
{
	if (sr_mon_msg_done(q) < 0)
		return -1;
	m->permit &= ~(PERMIT(SR_MON_REQ_ENV) | PERMIT(SR_MON_REQ_PTY) | PERMIT(SR_MON_REQ_EXEC));
	if (m->refusal[0] != '\0')
		return mon_reply_ok(m, 0, m->refusal);
	if (m->ending)
		return mon_reply_ok(m, 0, MSG_TRAIL);
	if ((m->roles & SR_ROLE_RESEARCHER) && m->project[0] != '\0')
		return start_sandbox(m);
	if (is_staff(m))
		return start_verbs(m, NULL);
	return mon_reply_ok(m, 0, "saferoom: you have no project to enter");
}

/* What a refused command looks like, for the channel.denied event. */
static const char *
exec_kind(const char *command)
{
	if (strncmp(command, "scp ", 4) == 0)
		return "scp";
	if (strncmp(command, "rsync ", 6) == 0)
		return "rsync";
	if (strncmp(command, "sftp", 4) == 0 || strstr(command, "sftp-server") != NULL)
		return "sftp";
	return "exec";
}

int
mm_answer_exec(struct monitor *m, struct sr_mon_msg *q)
{
	sr_mon_get_str(q, m->verb_cmd, sizeof(m->verb_cmd));
	if (sr_mon_msg_done(q) < 0)
		return -1;
	m->permit &= ~(PERMIT(SR_MON_REQ_ENV) | PERMIT(SR_MON_REQ_PTY) | PERMIT(SR_MON_REQ_SHELL));
	if (m->refusal[0] != '\0')
		return mon_reply_ok(m, 0, m->refusal);
	if (m->ending)
		return mon_reply_ok(m, 0, MSG_TRAIL);
	if (!is_staff(m) && !sr_verbs_ssh_researcher_ok(m->verb_cmd)) {
		mon_denied(m, exec_kind(m->verb_cmd), m->verb_cmd);
		return mon_reply_ok(m, 0, "saferoom: commands cannot be run over SSH here; log in "
				    "for a shell (ssh -t), or use `export list` and "
				    "`export fetch ID`");
	}
	return start_verbs(m, m->verb_cmd);
}

/* Decides the running session again; ends it when policy no longer allows it. */
static void
recheck(struct monitor *m)
{
	struct sr_error err = { "" };
	struct sr_policy_decision d;
	struct sr_policy_login req = {
		.user = m->user, .project = m->project, .source = m->a->source,
		.now = time(NULL),
	};
	char text[400];

	m->next_recheck = time(NULL) + m->a->cfg->policy_recheck_interval;
	/* Closed before each export server was forked (monitor_export.c). */
	if (m->policy == NULL && mon_policy_open(m, &err) < 0) {
		log_err("recheck of %s: %s: ending it", m->session_id, sr_error_msg(&err));
		sr_session_say(m->sess, "\r\nsaferoom: this session has ended: policy unavailable\r\n");
		m->end_reason = "policy-unavailable";
		sr_session_kill(m->sess, m->end_reason);
		return;
	}
	if (sr_policy_recheck(m->policy, &req, m->spec, &d, &err) < 0) {
		log_warn("recheck of %s: %s", m->session_id, sr_error_msg(&err));
		return;
	}
	if (d.reason == SR_POLICY_ALLOW)
		return;
	snprintf(text, sizeof(text), "\r\nsaferoom: this session has ended: %s\r\n", d.message);
	sr_session_say(m->sess, text);
	m->end_reason = sr_policy_reason_name(d.reason);
	log_info("ending %s of %s: %s", m->session_id, m->user, d.message);
	sr_session_kill(m->sess, m->end_reason);
}

int
mon_session_poll(struct monitor *m, const struct pollfd *fds, int n)
{
	struct sr_error err = { "" };
	int rc;

	rc = sr_session_handle(m->sess, fds, n, &err);
	if (rc < 0) {
		log_err("session %s: %s", m->session_id, sr_error_msg(&err));
		sr_session_kill(m->sess, NULL);
		mon_session_end(m, "error");
		return 0;
	}
	if (rc == 1) {
		mon_session_end(m, m->end_reason ?: "exit");
		return 0;
	}
	if (m->spec != NULL && time(NULL) >= m->next_recheck)
		recheck(m);
	return 0;
}

static void compress_recording(struct monitor *m, const unsigned char sha[SR_AUDIT_HASH_LEN]);

static void
session_end_event(struct monitor *m, const char *reason, int status)
{
	unsigned char sha[SR_AUDIT_HASH_LEN];
	char hex[2 * SR_AUDIT_HASH_LEN + 1];
	struct sr_error err = { "" };
	json_object *d = details_new("reason", reason);
	unsigned long stripped = m->sess != NULL ? sr_session_stripped(m->sess) : 0;
	int have_recording = 0;

	json_object_object_add(d, "status", json_object_new_int(status));
	if (m->sess != NULL && sr_session_recording(m->sess, sha, &err) == 1) {
		sr_audit_hex(sha, hex);
		details_add(d, "recording", m->rec_name);
		details_add(d, "recording_sha256", hex);
		have_recording = 1;
	} else if (err.msg[0] != '\0') {
		log_err("recording %s: %s", m->rec_name, sr_error_msg(&err));
	}
	if (m->sess != NULL)
		json_object_object_add(d, "exec_count",
				       json_object_new_int64((int64_t)sr_session_exec_count(m->sess)));
	if (stripped > 0) {
		snprintf(hex, sizeof(hex), "%lu clipboard sequence(s) removed", stripped);
		mon_denied(m, "osc52", hex);
	}
	mon_event(m, "session.end", d, 1);
	sr_kaudit_session_end(m->kaudit, m->user, m->uid, m->a->source, "ssh-pty", m->session_id,
			      NULL);
	if (have_recording)
		compress_recording(m, sha);
}

/*
 * Gzips the finished recording in a child, so that neither the client
 * waiting for its exit status nor the next session waits for it (a long
 * session's recording takes seconds).  The chain names the plain bytes'
 * hash; the gzip'd file still replays.  The child keeps no descriptor of the
 * connection: it opens what it needs itself.
 */
static void
compress_recording(struct monitor *m, const unsigned char sha[SR_AUDIT_HASH_LEN])
{
	struct sr_error err = { "" };
	int dirfd, rec, rc = 1;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		log_err("compressing %s: fork: %s", m->rec_name, strerror(errno));
		return;
	}
	if (pid > 0) {
		m->compress_pid = pid;
		return;
	}
	closelog();
	close_range(3, ~0U, 0);
	if (nice(10) < 0)
		errno = 0;
	dirfd = open(m->a->cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	rec = dirfd < 0 ? -1 : openat(dirfd, SR_AUDIT_RECORDINGS,
				      O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rec >= 0 && sr_recording_compress(rec, m->rec_name, sha, &err) == 0)
		rc = 0;
	else
		log_err("compressing %s: %s", m->rec_name,
			rec < 0 ? "cannot open the recordings directory" : sr_error_msg(&err));
	_exit(rc);
}

void
mon_compress_wait(struct monitor *m)
{
	if (m->compress_pid > 0)
		waitpid(m->compress_pid, NULL, 0);
	m->compress_pid = 0;
}

void
mon_session_end(struct monitor *m, const char *reason)
{
	struct sr_error err = { "" };
	struct sr_mon_msg msg;
	int status = m->sess != NULL ? sr_session_status(m->sess) : 1;
	int had_session = m->sess != NULL;

	if (m->recorded)
		session_end_event(m, reason, status);
	m->recorded = 0;
	sr_session_free(m->sess);
	m->sess = NULL;
	sr_sandbox_free(m->sb);
	m->sb = NULL;
	mon_export_close(m);
	/* A session that never started is refused by the pending answer instead. */
	if (!had_session)
		return;
	sr_mon_msg_init(&msg, SR_MON_MSG_EXIT);
	sr_mon_put_u32(&msg, (uint32_t)status);
	if (sr_mon_send(m->ctl, &msg, &err) == 0)
		m->exit_sent = 1;
}
