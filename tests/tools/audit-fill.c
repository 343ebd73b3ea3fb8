/*
 * audit-fill — builds a real audit.db for tests, through the real store.
 *
 *   audit-fill [-b BATCH] [-r RETENTION_DAYS] [-s FIRST_SESSION] [-S] [-z] STATE_DIR COUNT
 *
 * Opens STATE_DIR in SR_AUDIT_WRITE mode (so it is refused while a writer
 * runs) and appends COUNT events in batches of BATCH, as the writer would.
 * The events follow a fixed script so that tests can predict them: session k
 * (sess-000000, sess-000001, ...) belongs to one of four users and two
 * projects and is auth.ok, session.start, k%3+1 exec events, a
 * channel.denied when k%3 == 2, an export.submit when k%5 == 4, and
 * session.end naming a real asciicast v2 recording written to
 * STATE_DIR/recordings with its SHA-256.  Every 7th session is preceded by
 * a policy.change from root.  The last session may be cut off by COUNT,
 * which leaves it running, as in a live trail.  A second fill of the same
 * trail should start its sessions past the first's (-s) to keep names unique.
 *
 * With -S, each batch is followed by a seal as the writer makes one: a line
 * in the witness file audit.seals, then an audit.seal event naming the head
 * (these events count towards COUNT).
 *
 * With -z, each recording is compressed (sr_recording_compress) once its
 * session.end is written, as saferoomd does at the end of a session.
 *
 * Events are stamped with the time of the append; tests that need old
 * events run audit-fill under faketime(1), which moves the store's clock
 * and SQLite's alike.
 *
 * Prints "appended N events, head seq S (R events/s)", the rate counting
 * only the time spent in sr_audit_store_append, so that it measures the store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "saferoom/audit.h"

#define FIELD 256
#define USAGE "usage: audit-fill [-b BATCH] [-r RETENTION_DAYS] [-s FIRST_SESSION] [-S] [-z] STATE_DIR COUNT"

static const char *const users[] = { "alice", "bob", "carol", "erin" };
static const char *const projects[] = { "onco-2026", "cardio-7" };
static const char *const datasets[] = { "cancer_registry", "ecg_waveforms,cancer_registry" };

/* The strings of one event; they must outlive the batch's append. */
struct slot {
	char type[32];
	char user[32];
	char project[32];
	char session[32];
	char source[32];
	char datasets[64];
	char details[FIELD];
};

/* A recording to compress once the session.end naming it is durable. */
struct pending {
	char name[64];
	unsigned char sha256[SR_AUDIT_HASH_LEN];
};

/* Where the script is: session k, step within it. */
struct script {
	const char *state_dir;
	int seal;                /* -S: seal after every batch */
	int compress;            /* -z: compress recordings once their batch is in */
	struct pending *pending; /* recordings named in the batch being appended */
	size_t n_pending;
	int64_t session;
	int step;
	int execs_done;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("audit-fill: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Writes a small asciicast v2 recording and returns its SHA-256 in hex. */
static void
write_recording(const char *state_dir, const char *name, int64_t k, char *hex)
{
	unsigned char md[SR_AUDIT_HASH_LEN];
	char path[4096], body[512];
	unsigned int mdlen;
	int fd, len;

	len = snprintf(body, sizeof(body),
		       "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": %lld,"
		       " \"env\": {\"TERM\": \"xterm-256color\", \"SHELL\": \"/bin/bash\"}}\n"
		       "[0.010000, \"o\", \"%s@%s:~$ \"]\n"
		       "[0.500000, \"i\", \"R --vanilla\\r\"]\n"
		       "[0.510000, \"o\", \"R --vanilla\\r\\nsession %lld\\r\\n\"]\n"
		       "[0.600000, \"r\", \"100x30\"]\n",
		       (long long)(1790000000 + k), users[k % 4], projects[k % 2], (long long)k);
	snprintf(path, sizeof(path), "%s/%s/%s", state_dir, SR_AUDIT_RECORDINGS, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, body, (size_t)len) != len || close(fd) < 0)
		die("%s: %s", path, strerror(errno));
	if (EVP_Digest(body, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
		die("sha256 failed");
	sr_audit_hex(md, hex);
}

/* Fills the fields every event of session k shares. */
static void
session_fields(struct slot *s, int64_t k)
{
	snprintf(s->user, sizeof(s->user), "%s", users[k % 4]);
	snprintf(s->project, sizeof(s->project), "%s", projects[k % 2]);
	snprintf(s->session, sizeof(s->session), "sess-%06lld", (long long)k);
	snprintf(s->source, sizeof(s->source), "10.20.%lld.%lld", (long long)(k / 250 % 250),
		 (long long)(k % 250 + 1));
	snprintf(s->datasets, sizeof(s->datasets), "%s", datasets[k % 2]);
}

/* The script's steps; each returns 1 when it produced an event into s. */
static int
step_event(struct script *sc, struct slot *s)
{
	int64_t k = sc->session;
	char hex[2 * SR_AUDIT_HASH_LEN + 1], name[64];

	memset(s, 0, sizeof(*s));
	switch (sc->step) {
	case 0:
		if (k % 7 != 0)
			return 0;
		snprintf(s->type, sizeof(s->type), "policy.change");
		snprintf(s->user, sizeof(s->user), "root");
		snprintf(s->source, sizeof(s->source), "local");
		snprintf(s->details, sizeof(s->details),
			 "{\"verb\":\"project grant\",\"project\":\"%s\"}", projects[k % 2]);
		return 1;
	case 1:
		session_fields(s, k);
		s->session[0] = '\0';
		snprintf(s->type, sizeof(s->type), "auth.ok");
		snprintf(s->details, sizeof(s->details), "{\"method\":\"publickey\"}");
		return 1;
	case 2:
		session_fields(s, k);
		snprintf(s->type, sizeof(s->type), "session.start");
		snprintf(s->details, sizeof(s->details), "{\"tty\":\"pts/%lld\"}", (long long)(k % 9));
		return 1;
	case 3:
		session_fields(s, k);
		snprintf(s->type, sizeof(s->type), "exec");
		snprintf(s->details, sizeof(s->details),
			 "{\"path\":\"/usr/bin/Rscript\",\"argv\":[\"Rscript\",\"step%d.R\"]}",
			 sc->execs_done);
		return 1;
	case 4:
		if (k % 3 != 2)
			return 0;
		session_fields(s, k);
		snprintf(s->type, sizeof(s->type), "channel.denied");
		snprintf(s->details, sizeof(s->details), "{\"channel\":\"sftp\"}");
		return 1;
	case 5:
		if (k % 5 != 4)
			return 0;
		session_fields(s, k);
		snprintf(s->type, sizeof(s->type), "export.submit");
		snprintf(s->details, sizeof(s->details),
			 "{\"id\":%lld,\"file\":\"/project/table.csv\"}", (long long)k);
		return 1;
	default:
		session_fields(s, k);
		snprintf(name, sizeof(name), "%s.cast", s->session);
		write_recording(sc->state_dir, name, k, hex);
		snprintf(s->type, sizeof(s->type), "session.end");
		snprintf(s->details, sizeof(s->details),
			 "{\"recording\":\"%s\",\"recording_sha256\":\"%s\"}", name, hex);
		if (sc->compress) {
			struct pending *p = &sc->pending[sc->n_pending++];

			snprintf(p->name, sizeof(p->name), "%s", name);
			if (sr_audit_unhex(hex, p->sha256) < 0)
				die("bad hash");
		}
		return 1;
	}
}

/* Moves to the next step, repeating exec k%3+1 times. */
static void
advance(struct script *sc)
{
	if (sc->step == 3 && ++sc->execs_done < sc->session % 3 + 1)
		return;
	if (sc->step == 6) {
		sc->session++;
		sc->step = 0;
		sc->execs_done = 0;
		return;
	}
	sc->step++;
}

static void
next_event(struct script *sc, struct slot *s, struct sr_audit_event *ev)
{
	while (!step_event(sc, s))
		advance(sc);
	advance(sc);
	ev->type = s->type;
	ev->user = s->user;
	ev->project = s->project;
	ev->session = s->session;
	ev->source = s->source;
	ev->datasets = s->datasets;
	ev->details = s->details;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
number(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0)
		die("bad %s: %s", what, s);
	return v;
}

/* Seals the head as the writer does: witness line first, then the audit.seal event. */
static void
seal_head(struct sr_audit_store *store, const char *state_dir)
{
	struct sr_error err = { "" };
	struct sr_audit_seal seal;
	struct sr_audit_event ev = { .type = "audit.seal", .source = "audit-fill" };
	char hex[2 * SR_AUDIT_HASH_LEN + 1], details[128];

	if (sr_audit_store_head(store, &seal.seq, seal.hash, &err) < 0 ||
	    sr_audit_seals_append(state_dir, &seal, sr_audit_now_ms(), &err) < 0)
		die("%s", sr_error_msg(&err));
	sr_audit_hex(seal.hash, hex);
	snprintf(details, sizeof(details), "{\"sealed_seq\":%lld,\"sealed_hash\":\"%s\"}",
		 (long long)seal.seq, hex);
	ev.details = details;
	if (sr_audit_store_append(store, &ev, 1, &err) < 0)
		die("%s", sr_error_msg(&err));
}

/*
 * Compresses the recordings whose session.end is now durable, checking each
 * against the hash the trail holds for it, as saferoomd does.
 */
static void
compress_pending(struct script *sc)
{
	struct sr_error err = { "" };
	char path[4096];
	int dirfd;

	if (sc->n_pending == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", sc->state_dir, SR_AUDIT_RECORDINGS);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < sc->n_pending; i++)
		if (sr_recording_compress(dirfd, sc->pending[i].name, sc->pending[i].sha256,
					  &err) < 0)
			die("%s", sr_error_msg(&err));
	close(dirfd);
	sc->n_pending = 0;
}

/* Appends count events; returns the seconds spent appending. */
static double
fill(struct sr_audit_store *store, struct script *sc, long count, long batch)
{
	struct sr_audit_event *evs = calloc((size_t)batch, sizeof(*evs));
	struct slot *slots = calloc((size_t)batch, sizeof(*slots));
	struct sr_error err = { "" };
	long done = 0, n, i;
	double spent = 0, t0;

	sc->pending = calloc((size_t)batch, sizeof(*sc->pending));
	if (evs == NULL || slots == NULL || sc->pending == NULL)
		die("out of memory");
	while (done < count) {
		n = count - done < batch ? count - done : batch;
		/* Leave room for the seal event that follows the batch. */
		if (sc->seal && n == count - done && n > 1)
			n--;
		memset(evs, 0, (size_t)n * sizeof(*evs));
		for (i = 0; i < n; i++)
			next_event(sc, &slots[i], &evs[i]);
		t0 = now_s();
		if (sr_audit_store_append(store, evs, (size_t)n, &err) < 0)
			die("%s", sr_error_msg(&err));
		spent += now_s() - t0;
		compress_pending(sc);
		done += n;
		if (sc->seal && done < count) {
			seal_head(store, sc->state_dir);
			done++;
		}
	}
	free(evs);
	free(slots);
	free(sc->pending);
	return spent;
}

int
main(int argc, char **argv)
{
	struct sr_error err = { "" };
	struct script sc = { 0 };
	struct sr_audit_store *store;
	unsigned char hash[SR_AUDIT_HASH_LEN];
	long count, batch = 500, retention = 0;
	char path[4096];
	double dt;
	int64_t head;
	int opt;

	while ((opt = getopt(argc, argv, "b:r:s:Sz")) != -1) {
		if (opt == 'b')
			batch = number(optarg, "batch size");
		else if (opt == 'r')
			retention = number(optarg, "retention days");
		else if (opt == 's')
			sc.session = number(optarg, "first session");
		else if (opt == 'S')
			sc.seal = 1;
		else if (opt == 'z')
			sc.compress = 1;
		else
			die("%s", USAGE);
	}
	if (argc - optind != 2 || batch < 1)
		die("%s", USAGE);
	sc.state_dir = argv[optind];
	count = number(argv[optind + 1], "count");
	snprintf(path, sizeof(path), "%s/%s", sc.state_dir, SR_AUDIT_RECORDINGS);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		die("%s: %s", path, strerror(errno));
	store = sr_audit_store_open(sc.state_dir, SR_AUDIT_WRITE, (int)retention, &err);
	if (store == NULL)
		die("%s", sr_error_msg(&err));
	dt = fill(store, &sc, count, batch);
	if (sr_audit_store_head(store, &head, hash, &err) < 0)
		die("%s", sr_error_msg(&err));
	sr_audit_store_free(store);
	printf("appended %ld events, head seq %lld (%.0f events/s)\n", count, (long long)head,
	       dt > 0 ? count / dt : 0.0);
	return 0;
}
