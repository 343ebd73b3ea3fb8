/*
 * export-server.c — the monitor's side of one session's export socket, for
 * tests: what saferoomd's monitor does for `saferoom-export` inside a
 * sandbox, without SSH and without a sandbox.
 *
 *   export-server -d STATE_DIR -u USER -p PROJECT -w WORKSPACE -s SOCKET
 *                 [-U UID] [-m MAX_SIZE] [-r MAX_ROWS] [-a APPROVALS] [-R FD]
 *
 * Listens on SOCKET (a unix socket, mode 0666 so that a client running
 * under another uid can connect: the uid check is sr_export_serve's), and
 * serves each connection in a forked child with sr_export_serve(), exactly
 * as a monitor with an event loop would.  The session is USER in PROJECT
 * with WORKSPACE as /project; UID (default: ours) is the researcher's host
 * uid.  With -R, one byte is written to FD once the socket accepts
 * connections.  Runs until SIGTERM or SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "saferoom/export.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: export-server -d STATE_DIR -u USER -p PROJECT -w WORKSPACE "
		"-s SOCKET [-U UID] [-m MAX_SIZE] [-r MAX_ROWS] [-a APPROVALS] [-R FD]\n");
	exit(2);
}

static long
number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 0)
		usage();
	return v;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		usage();
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 16) < 0) {
		perror("export-server: socket");
		exit(1);
	}
	return fd;
}

static void
serve_child(int conn, const struct sr_export_session *who)
{
	struct sr_error err = { { 0 } };

	if (sr_export_serve(conn, who, &err) < 0)
		fprintf(stderr, "export-server: %s\n", sr_error_msg(&err));
	_exit(0);
}

static void
accept_loop(int lfd, const struct sr_export_session *who)
{
	pid_t pid;
	int conn;

	while (!stop) {
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (conn < 0)
			continue;
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve_child(conn, who);
		}
		if (pid < 0)
			perror("export-server: fork");
		close(conn);
	}
	while (wait(NULL) > 0)
		;
}

int
main(int argc, char **argv)
{
	struct sr_export_session who = { .source = "test", .uid = getuid() };
	struct sr_export_limits lim;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *sock = NULL, *workspace = NULL;
	int c, ready = -1, lfd;

	sr_export_limits_init(&lim);
	while ((c = getopt(argc, argv, "d:u:p:w:s:U:m:r:a:R:")) != -1) {
		switch (c) {
		case 'd':
			who.state_dir = optarg;
			break;
		case 'u':
			who.user = optarg;
			break;
		case 'p':
			who.project = optarg;
			break;
		case 'w':
			workspace = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'U':
			who.uid = (uid_t)number(optarg);
			break;
		case 'm':
			lim.max_size = number(optarg);
			break;
		case 'r':
			lim.max_rows = number(optarg);
			break;
		case 'a':
			lim.approvals = (int)number(optarg);
			break;
		case 'R':
			ready = (int)number(optarg);
			break;
		default:
			usage();
		}
	}
	if (who.state_dir == NULL || who.user == NULL || who.project == NULL ||
	    workspace == NULL || sock == NULL)
		usage();
	who.limits = &lim;
	who.workspace_fd = open(workspace, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (who.workspace_fd < 0) {
		perror(workspace);
		return 1;
	}
	/* accept() must return on SIGTERM, so no SA_RESTART. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(sock);
	if (ready >= 0 && (write(ready, "R", 1) != 1 || close(ready) < 0))
		return 1;
	accept_loop(lfd, &who);
	close(lfd);
	unlink(sock);
	return 0;
}
