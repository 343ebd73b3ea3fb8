/*
 * saferoomd.c — the master process of the SSH gateway.
 *
 * It reads the configuration, listens, starts the audit writer, and forks a
 * monitor for every connection (monitor.c), which forks the confined net
 * child that speaks SSH.  The master itself never reads a byte from the
 * network, so a bug in protocol handling can take over at worst one
 * confined child.  It restarts nothing on its own: if the audit writer dies,
 * the gateway fails closed and stops, because sessions without a trail must
 * not exist.
 *
 *   SIGTERM, SIGINT  end every session cleanly (with its session.end), then exit
 *   SIGHUP           re-read the configuration; running sessions go on as they were
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "saferoom/audit.h"
#include "broker.h"
#include "log.h"

#define MAX_CHILDREN 4096
#define WRITER_READY_S 30
#define STOP_GRACE_S 10

struct child {
	pid_t pid;
	int authenticated;
};

struct master {
	const char *conf_path;
	struct sr_config *cfg;
	const char *audit_writer;     /* the writer program */
	struct sr_listener lis;
	ssh_bind bind;
	struct sr_ratelimit *rl;
	uid_t net_uid;
	gid_t net_gid;
	pid_t writer;
	int notify[2];           /* monitors -> master: "pid authenticated" */
	struct child kids[MAX_CHILDREN];
	int n_kids;
	int stopping;
	pid_t pid;
};

static int sig_pipe[2] = { -1, -1 };

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "saferoomd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: saferoomd [-f CONF] [-D] [-d] [-t]\n");
	exit(2);
}

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* Full: a wake-up is already pending. */
	}
	errno = saved;
}

/* ---- what a configuration needs besides parsing ---------------------------- */

/* The host key, the net child's user and its empty root: all checked by -t too. */
static int
prepare(struct master *ms, const struct sr_config *cfg, ssh_bind *bind_out,
	struct sr_error *err)
{
	char empty[4096];
	struct passwd *pw;
	ssh_key key = NULL;
	ssh_bind b;
	int no = 0;

	pw = getpwnam(cfg->netchild_user);
	if (pw == NULL)
		return sr_error_set(err, "user %s does not exist (create it: adduser --system "
				    "--group --no-create-home --home /nonexistent %s)",
				    cfg->netchild_user, cfg->netchild_user);
	ms->net_uid = pw->pw_uid;
	ms->net_gid = pw->pw_gid;
	snprintf(empty, sizeof(empty), "%s/%s", cfg->state_dir, SR_EMPTY_DIR);
	if (sr_jail_prepare_dir(empty, err) < 0)
		return -1;
	if (ssh_pki_import_privkey_file(cfg->host_key, NULL, NULL, NULL, &key) != SSH_OK)
		return sr_error_set(err, "%s: cannot read the host key (saferoomctl init makes it)",
				    cfg->host_key);
	b = ssh_bind_new();
	if (b == NULL) {
		ssh_key_free(key);
		return sr_error_set(err, "ssh_bind_new failed");
	}
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(key);
		ssh_bind_free(b);
		return sr_error_set(err, "%s: unusable host key", cfg->host_key);
	}
	*bind_out = b;
	return 0;
}

/* ---- the audit writer --------------------------------------------------------- */

static int
writer_wait_ready(int fd, struct sr_error *err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, WRITER_READY_S * 1000) <= 0 || read(fd, &c, 1) != 1)
		return sr_error_set(err, "the audit writer did not become ready");
	return 0;
}

static int
writer_start(struct master *ms, struct sr_error *err)
{
	char seal[16], ret[16], readyfd[16];
	int p[2];

	if (pipe(p) < 0)
		return sr_error_errno(err, "pipe");
	ms->writer = fork();
	if (ms->writer < 0)
		return sr_error_errno(err, "fork");
	if (ms->writer == 0) {
		/* Not left holding audit.lock against the next saferoomd. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(p[0]);
		snprintf(seal, sizeof(seal), "%d", ms->cfg->audit_seal_interval);
		snprintf(ret, sizeof(ret), "%d", ms->cfg->audit_retention_days);
		snprintf(readyfd, sizeof(readyfd), "%d", p[1]);
		execl(ms->audit_writer, "saferoom-audit-writer", "-d", ms->cfg->state_dir,
		      "-s", seal, "-r", ret, "-R", readyfd, (char *)NULL);
		dprintf(2, "saferoomd: %s: %s\n", ms->audit_writer, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (writer_wait_ready(p[0], err) < 0) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return 0;
}

/* ---- connections --------------------------------------------------------------- */

static int
count_unauth(const struct master *ms)
{
	int i, n = 0;

	for (i = 0; i < ms->n_kids; i++)
		n += !ms->kids[i].authenticated;
	return n;
}

/* Admission before any byte is read: caps and per-source blocks, like MaxStartups. */
static int
admit(struct master *ms, const char *source)
{
	char key[96];

	if (ms->n_kids >= ms->cfg->max_connections || ms->n_kids >= MAX_CHILDREN) {
		log_warn("%s: refused, %d connections already", source, ms->n_kids);
		return 0;
	}
	if (count_unauth(ms) >= ms->cfg->max_startups) {
		log_warn("%s: refused, %d connections not yet authenticated", source,
			 count_unauth(ms));
		return 0;
	}
	snprintf(key, sizeof(key), "src:%s", source);
	if (sr_ratelimit_blocked(ms->rl, key, ms->cfg->auth_fail_max_source, ms->cfg->auth_fail_window,
				 ms->cfg->auth_fail_block, time(NULL)) > 0) {
		log_info("%s: refused, blocked after repeated failures", source);
		return 0;
	}
	return 1;
}

static void __attribute__((noreturn))
monitor_child(struct master *ms, int conn, const struct sockaddr_storage *ss)
{
	struct sr_monitor_args a = {
		.cfg = ms->cfg, .bind = ms->bind, .conn = conn, .rl = ms->rl,
		.notify_fd = ms->notify[1], .net_uid = ms->net_uid, .net_gid = ms->net_gid,
	};

	/* A master killed outright must not leave sessions behind: they end cleanly. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != ms->pid)
		_exit(1);
	sr_listener_close(&ms->lis);
	close(ms->notify[0]);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	signal(SIGCHLD, SIG_DFL);
	sr_sockaddr_text(ss, a.source, sizeof(a.source));
	_exit(sr_monitor_run(&a));
}

static void
accept_one(struct master *ms, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char source[INET6_ADDRSTRLEN];
	pid_t pid;
	int conn;

	conn = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (conn < 0)
		return;
	sr_sockaddr_text(&ss, source, sizeof(source));
	if (ms->stopping || !admit(ms, source)) {
		close(conn);
		return;
	}
	pid = fork();
	if (pid == 0)
		monitor_child(ms, conn, &ss);
	close(conn);
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		return;
	}
	ms->kids[ms->n_kids++] = (struct child){ .pid = pid };
	log_debug("connection from %s: monitor %ld", source, (long)pid);
}

static void
read_notify(struct master *ms)
{
	pid_t pid;
	int i;

	while (read(ms->notify[0], &pid, sizeof(pid)) == sizeof(pid)) {
		for (i = 0; i < ms->n_kids; i++) {
			if (ms->kids[i].pid == pid)
				ms->kids[i].authenticated = 1;
		}
	}
}

static void
forget_child(struct master *ms, pid_t pid)
{
	int i;

	for (i = 0; i < ms->n_kids; i++) {
		if (ms->kids[i].pid == pid) {
			ms->kids[i] = ms->kids[--ms->n_kids];
			return;
		}
	}
}

static void
signal_children(struct master *ms, int sig)
{
	int i;

	for (i = 0; i < ms->n_kids; i++)
		kill(ms->kids[i].pid, sig);
}

/* Returns -1 when the audit writer is gone: the gateway must stop. */
static int
reap(struct master *ms)
{
	pid_t pid;
	int st, rc = 0;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == ms->writer) {
			log_err("the audit writer exited (status %d): failing closed",
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			ms->writer = -1;
			rc = -1;
			continue;
		}
		forget_child(ms, pid);
	}
	return rc;
}

/* ---- reload and stop ------------------------------------------------------------- */

static void
reload(struct master *ms)
{
	struct sr_error err = { "" };
	struct sr_config *cfg;
	struct sr_listener lis = { .n = 0 };
	ssh_bind b = NULL;

	cfg = sr_config_load(ms->conf_path, &err);
	if (cfg == NULL || prepare(ms, cfg, &b, &err) < 0) {
		log_err("reload: %s; keeping the running configuration", sr_error_msg(&err));
		sr_config_free(cfg);
		return;
	}
	if (!sr_listener_same(&ms->lis, cfg)) {
		sr_listener_close(&ms->lis);
		if (sr_listener_open(&lis, cfg, &err) < 0)
			log_err("reload: %s; not listening until the next reload",
				sr_error_msg(&err));
		ms->lis = lis;
	}
	/* Monitors already forked keep their copies; new ones get these. */
	sr_config_free(ms->cfg);
	ms->cfg = cfg;
	ssh_bind_free(ms->bind);
	ms->bind = b;
	log_info("configuration reloaded from %s", cfg->path);
}

static void
stop(struct master *ms)
{
	time_t until = time(NULL) + STOP_GRACE_S;

	sr_listener_close(&ms->lis);
	signal_children(ms, SIGTERM);
	while (ms->n_kids > 0 && time(NULL) < until) {
		usleep(50 * 1000);
		reap(ms);
	}
	signal_children(ms, SIGKILL);
	while (ms->n_kids > 0 && reap(ms) >= 0 && ms->n_kids > 0)
		usleep(10 * 1000);
	if (ms->writer > 0) {
		kill(ms->writer, SIGTERM);
		waitpid(ms->writer, NULL, 0);
	}
}

/* ---- the loop ---------------------------------------------------------------------- */

/* Returns 1 to go on, 0 to stop cleanly, -1 to stop failing closed. */
static int
handle_signals(struct master *ms)
{
	unsigned char c;
	int rc = 1;

	while (read(sig_pipe[0], &c, 1) == 1) {
		if (c == SIGCHLD && reap(ms) < 0)
			rc = -1;
		else if (c == SIGHUP)
			reload(ms);
		else if ((c == SIGTERM || c == SIGINT) && rc > 0)
			rc = 0;
	}
	return rc;
}

static int
serve(struct master *ms)
{
	struct pollfd fds[SR_CONFIG_MAX_LISTEN + 2];
	size_t i, n;
	int rc;

	for (;;) {
		fds[0] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = ms->notify[0], .events = POLLIN };
		for (i = 0; i < ms->lis.n; i++)
			fds[2 + i] = (struct pollfd){ .fd = ms->lis.fds[i], .events = POLLIN };
		n = 2 + ms->lis.n;
		if (poll(fds, (nfds_t)n, -1) < 0 && errno != EINTR)
			return -1;
		if (fds[1].revents & POLLIN)
			read_notify(ms);
		if (fds[0].revents & POLLIN) {
			rc = handle_signals(ms);
			if (rc <= 0)
				return rc;
		}
		for (i = 0; i < ms->lis.n && 2 + i < n; i++) {
			if (fds[2 + i].revents & POLLIN)
				accept_one(ms, fds[2 + i].fd);
		}
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die("pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Per-session export sockets live in STATE_DIR/run/SESSION/.  A monitor
 * killed with SIGKILL cannot remove its own; no session survives a restart
 * of the daemon, so at start every entry there is stale.  Removed relative
 * to the directory's fd, no symlink followed: only what the monitors made.
 */
static void
clear_stale_run(const struct sr_config *cfg)
{
	char path[4096];
	struct dirent *de;
	DIR *dir;
	int fd, sub;

	snprintf(path, sizeof(path), "%s/run", cfg->state_dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

		if (sub >= 0) {
			unlinkat(sub, "export.sock", 0);
			close(sub);
		}
		if (unlinkat(fd, de->d_name, AT_REMOVEDIR) < 0)
			log_err("stale %s/%s left: %s", path, de->d_name, strerror(errno));
	}
	closedir(dir);
}

static void
start(struct master *ms)
{
	struct sr_error err = { "" };

	clear_stale_run(ms->cfg);
	ms->rl = sr_ratelimit_new(&err);
	if (ms->rl == NULL)
		die("%s", sr_error_msg(&err));
	if (pipe2(ms->notify, O_CLOEXEC | O_NONBLOCK | O_DIRECT) < 0)
		die("pipe: %s", strerror(errno));
	install_signals();
	if (writer_start(ms, &err) < 0)
		die("%s", sr_error_msg(&err));
	if (sr_listener_open(&ms->lis, ms->cfg, &err) < 0) {
		kill(ms->writer, SIGTERM);
		die("%s", sr_error_msg(&err));
	}
}

int
main(int argc, char **argv)
{
	static struct master ms;
	struct sr_error err = { "" };
	int opt, foreground = 0, debug = 0, test = 0, rc;

	while ((opt = getopt(argc, argv, "f:Ddt")) != -1) {
		switch (opt) {
		case 'f': ms.conf_path = optarg; break;
		case 'D': foreground = 1; break;
		case 'd': debug = 1; break;
		case 't': test = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	ms.cfg = sr_config_load(ms.conf_path, &err);
	if (ms.cfg == NULL)
		die("%s", sr_error_msg(&err));
	ms.conf_path = ms.cfg->path;
	/* Tests and the demo run the writer from a build tree. */
	ms.audit_writer = getenv("SAFEROOM_AUDIT_WRITER");
	if (ms.audit_writer == NULL)
		ms.audit_writer = SR_LIBEXECDIR "/saferoom-audit-writer";
	/* OpenSSL reads its configuration now, while files can still be read. */
	if (ssh_init() != SSH_OK)
		die("libssh failed to initialise");
	if (prepare(&ms, ms.cfg, &ms.bind, &err) < 0)
		die("%s", sr_error_msg(&err));
	if (test) {
		printf("saferoomd: %s: configuration OK\n", ms.cfg->path);
		return 0;
	}
	if (getuid() != 0)
		die("must run as root (it drops privileges per connection)");
	sr_log_init("saferoomd", foreground, debug);
	/* Without -D: detached, as an init system without supervision expects. */
	if (!foreground && daemon(0, 0) < 0)
		die("daemon: %s", strerror(errno));
	ms.pid = getpid();
	start(&ms);
	log_info("listening on %zu address(es), state in %s", ms.lis.n, ms.cfg->state_dir);
	rc = serve(&ms);
	stop(&ms);
	log_info(rc == 0 ? "stopped" : "stopped: failing closed");
	return rc == 0 ? 0 : 1;
}
