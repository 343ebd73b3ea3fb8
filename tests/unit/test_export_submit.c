/*
 * test_export_submit.c — what may be submitted for export, as the monitor
 * does it on the host: only regular files under /project, owned by the
 * researcher, with one link, within the size cap.  Each refused kind (a
 * dataset file reached through a symlink, a symlink out, a directory
 * symlink on the way, "..", a hard link, a FIFO, a device, a socket, a
 * /proc path, a directory, a file over the cap, someone else's file) is
 * refused with a one-line message naming it, records nothing, leaves no
 * quarantine copy, and is audited.  An accepted file is copied into a
 * root-only quarantine, read-only, with the SHA-256 of what was submitted.
 * Two processes submitting at once both succeed with distinct requests.
 */
#include "config.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <openssl/evp.h>

#include "export_fixture.h"

static struct fx x;

static int
quarantined_files(void)
{
	char path[600];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/quarantine", x.state);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int64_t
requests(void)
{
	struct sr_export_filter f = { 0 };
	struct sr_policy *p = fx_open(&x, "olga");
	struct json_object *arr = p != NULL ? sr_export_list(p, &f, NULL) : NULL;
	int64_t n = arr != NULL ? (int64_t)json_object_array_length(arr) : -1;

	json_object_put(arr);
	sr_policy_free(p);
	return n;
}

static void
ws_path(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", x.ws, name);
}

/* PATH (as typed) is refused with a message containing WANT; nothing is left behind. */
static void
refused(const char *path, const char *want, const char *what)
{
	struct sr_error err = { { 0 } };
	int64_t before = requests(), refusals = fx_events(&x, "export.refused", NULL);
	int files = quarantined_files();
	int64_t id = fx_submit_path(&x, "alice", path, &err);

	ok(id < 0 && strstr(err.msg, want) != NULL && strchr(err.msg, '\n') == NULL,
	   "%s is refused: %s", what, err.msg);
	ok(requests() == before && quarantined_files() == files,
	   "... no request and no quarantine copy");
	is_int(fx_events(&x, "export.refused", NULL), refusals + 1, "... and it is audited");
}

static void
test_paths(void)
{
	char a[600], b[600];

	ws_path("link-out.csv", a, sizeof(a));
	symlink("/etc/passwd", a);
	refused("/project/link-out.csv", "symlink", "a symlink out of the workspace");
	snprintf(b, sizeof(b), "%s/patients.csv", x.data);
	ws_path("dataset.csv", a, sizeof(a));
	symlink(b, a);
	refused("/project/dataset.csv", "symlink", "a symlink to a dataset file");
	ws_path("datadir", a, sizeof(a));
	symlink(x.data, a);
	refused("/project/datadir/patients.csv", "symlink", "a path through a directory symlink");
	ws_path("hard.csv", a, sizeof(a));
	ok(link(b, a) == 0, "a hard link to the dataset file, inside the workspace");
	refused("/project/hard.csv", "hard links", "the hard link");
	refused("/project/../data/patients.csv", "outside /project", "a path with ..");
	refused("/proc/self/root/etc/passwd", "only files under /project", "a /proc path");
	refused("/data/onc/patients.csv", "only files under /project", "a /data path");
	refused("/projects/x.csv", "only files under /project", "a path that only starts like it");
	refused("/project", "is a directory", "/project itself");
	ws_path("home", a, sizeof(a));
	mkdir(a, 0755);
	refused("/project/home", "a directory", "a directory");
	refused("/project/nothing.csv", "no such file", "a missing file");
	refused("/project/home/x\033[2J.csv", "control characters", "a path with an escape");
}

static void
test_kinds(void)
{
	char a[600];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	ws_path("fifo.csv", a, sizeof(a));
	ok(mkfifo(a, 0644) == 0, "a FIFO in the workspace");
	refused("/project/fifo.csv", "FIFO", "a FIFO (without blocking)");
	ws_path("null.csv", a, sizeof(a));
	if (mknod(a, S_IFCHR | 0666, makedev(1, 3)) == 0)
		refused("/project/null.csv", "device", "a character device");
	else
		diag("mknod not permitted here: skipping the device case");
	ws_path("sock.csv", a, sizeof(a));
	if (strlen(a) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, a, strlen(a) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ok(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "a socket in the workspace");
	refused("/project/sock.csv", "socket", "a socket");
	close(s);
}

static void
test_owner_and_size(void)
{
	char a[600], big[200];

	ws_path("theirs.csv", a, sizeof(a));
	fx_write(a, "a,n\nx,12\n", 9);
	ok(chown(a, getuid() + 4242, (gid_t)-1) == 0, "a file of another uid");
	refused("/project/theirs.csv", "another user", "someone else's file");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ws_path("big.txt", a, sizeof(a));
	fx_write(a, big, sizeof(big));
	x.lim.max_size = 100;
	refused("/project/big.txt", "more than the export size cap", "a file over the size cap");
	x.lim.max_size = 16 * 1024 * 1024;
}

static void
test_reason(void)
{
	struct sr_export_session who = fx_session(&x, "alice");
	struct sr_error err = { { 0 } };
	struct sr_policy *p = fx_open(&x, "alice");
	char a[600];
	int64_t id = 0;

	ws_path("r.csv", a, sizeof(a));
	fx_write(a, "a,n\nx,12\n", 9);
	ok(sr_export_submit(p, &who, "/project/r.csv", NULL, &id, &err) < 0 && id == 0 &&
	   strstr(err.msg, "reason") != NULL, "no reason: refused (%s)", err.msg);
	ok(sr_export_submit(p, &who, "/project/r.csv", "two\nlines", &id, &err) < 0,
	   "a reason of two lines: refused");
	sr_policy_free(p);
	p = fx_open(&x, "bob");
	ok(sr_export_submit(p, &who, "/project/r.csv", "x", &id, &err) < 0 &&
	   strstr(err.msg, "session's user") != NULL, "a handle acting as someone else: refused");
	sr_policy_free(p);
}

static void
sha256_hex(const char *s, size_t len, char *out)
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(s, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
test_quarantine(void)
{
	static const char table[] = "지역,n\n서울,120\n";
	char dir[600], want[65], needle[100];
	struct stat st;
	int64_t id = fx_submit(&x, "alice", "q.csv", table);

	ok(id > 0, "a regular file is accepted");
	snprintf(dir, sizeof(dir), "%s/quarantine", x.state);
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700 && st.st_uid == geteuid(),
	   "quarantine/ is 0700, ours");
	is_int(quarantined_files(), 1, "one copy in quarantine");
	sha256_hex(table, strlen(table), want);
	snprintf(needle, sizeof(needle), "\"sha256\":\"%s\"", want);
	is_int(fx_events(&x, "export.submit", needle), 1, "the recorded SHA-256 is the file's");
}

static void
test_copy_mode(void)
{
	char dir[600], path[900];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int all = 1, n = 0;

	snprintf(dir, sizeof(dir), "%s/quarantine", x.state);
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n++;
		all &= stat(path, &st) == 0 && (st.st_mode & 0777) == 0400 && st.st_uid == geteuid();
	}
	if (d != NULL)
		closedir(d);
	ok(n > 0 && all, "every quarantine copy is read-only and root's (0400)");
}

/* Two processes, each submitting N files as a different researcher. */
static void
test_concurrent(void)
{
	enum { N = 8 };
	int64_t before = requests();
	pid_t kids[2];
	int status, good = 1;

	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] != 0)
			continue;
		for (int i = 0; i < N; i++) {
			char name[64], body[64];

			snprintf(name, sizeof(name), "c%d-%d.csv", k, i);
			snprintf(body, sizeof(body), "group,n\ng%d,%d\n", i, 100 + k * 10 + i);
			if (fx_submit(&x, k ? "bob" : "alice", name, body) <= 0)
				_exit(1);
		}
		_exit(0);
	}
	for (int k = 0; k < 2; k++)
		good &= waitpid(kids[k], &status, 0) == kids[k] && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0;
	ok(good, "two processes submitted %d files each at the same time", N);
	is_int(requests(), before + 2 * N, "every one became a request");
	is_int(fx_events(&x, "export.check", "\"path\":\"c"), 2 * N, "and was checked");
}

int
main(void)
{
	if (fx_setup(&x, "export-submit") < 0) {
		printf("Bail out! fixture\n");
		fx_teardown(&x);
		return 1;
	}
	if (geteuid() != 0)
		diag("not root: the device case may be skipped");
	test_paths();
	test_kinds();
	test_owner_and_size();
	test_reason();
	test_quarantine();
	test_concurrent();
	test_copy_mode();
	fx_teardown(&x);
	return done_testing();
}
