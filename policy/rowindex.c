/*
 * rowindex.c — the index of a dataset's rows, used later to catch rows that
 * an export request copied verbatim from an approved dataset.
 *
 * Every .csv, .tsv and .txt file under the dataset is read through file
 * descriptors opened beneath the dataset's root with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, so a symlink planted inside a dataset can neither
 * lead the indexer out of it nor make it read a file twice.  Each data row
 * (CSV/TSV headers skipped, empty lines skipped) is hashed with
 * sr_policy_row_hash's normalisation and stored once per dataset.
 *
 * The walk runs twice: first to list the files and their sizes (so a
 * progress bar knows the total), then to hash them, all inside the caller's
 * transaction with one prepared INSERT reused for every row.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"

#define WALK_DEPTH_MAX 64
#define PROGRESS_EVERY (4u << 20)

struct file_entry {
	char *rel;               /* path relative to the dataset root */
	uint64_t size;
	int has_header;
};

struct walk {
	struct file_entry *files;
	size_t n, cap;
	uint64_t total;
};

static int
open2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	/* openat2 refuses O_PATH with any flag it ignores, such as O_NOCTTY. */
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY)),
		.resolve = resolve | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int
pol_openat_beneath(int dirfd, const char *rel, int flags)
{
	return open2(dirfd, rel, flags, RESOLVE_BENEATH);
}

int
pol_open_nosymlinks(const char *path, int flags)
{
	return open2(AT_FDCWD, path, flags, 0);
}

/* 1 for a file the index reads, with *header set for CSV/TSV. */
static int
indexed_name(const char *name, int *header)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL)
		return 0;
	*header = strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".tsv") == 0;
	return *header || strcasecmp(dot, ".txt") == 0;
}

static int
walk_add(struct walk *w, const char *rel, uint64_t size, int header)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct file_entry *f = realloc(w->files, cap * sizeof(*f));

		if (f == NULL)
			return -1;
		w->files = f;
		w->cap = cap;
	}
	w->files[w->n].rel = strdup(rel);
	if (w->files[w->n].rel == NULL)
		return -1;
	w->files[w->n].size = size;
	w->files[w->n].has_header = header;
	w->n++;
	w->total += size;
	return 0;
}

static void
walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->files[i].rel);
	free(w->files);
}

static int list_dir(struct walk *w, int rootfd, const char *rel, int depth, struct sr_error *err);

/* One directory entry: recurse into directories, note indexed regular files. */
static int
list_entry(struct walk *w, int rootfd, int dfd, const char *rel, const char *name, int depth,
	   struct sr_error *err)
{
	char child[PATH_MAX];
	struct stat st;
	int header;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return sr_error_errno(err, "dataset file %s/%s", rel, name);
	if (snprintf(child, sizeof(child), "%s/%s", rel, name) >= (int)sizeof(child))
		return sr_error_set(err, "dataset path too long: %s/%s", rel, name);
	if (S_ISDIR(st.st_mode))
		return list_dir(w, rootfd, child, depth + 1, err);
	if (!S_ISREG(st.st_mode) || !indexed_name(name, &header))
		return 0;   /* symlinks, devices, other types: never followed or read */
	if (walk_add(w, child, (uint64_t)st.st_size, header) < 0)
		return sr_error_set(err, "out of memory");
	return 0;
}

static int
list_dir(struct walk *w, int rootfd, const char *rel, int depth, struct sr_error *err)
{
	struct dirent *de;
	DIR *dir;
	int dfd, rc = 0;

	if (depth > WALK_DEPTH_MAX)
		return sr_error_set(err, "dataset directories nested deeper than %d at %s",
				    WALK_DEPTH_MAX, rel);
	dfd = pol_openat_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return sr_error_errno(err, "dataset directory %s", rel);
	dir = fdopendir(dfd);
	if (dir == NULL) {
		close(dfd);
		return sr_error_errno(err, "dataset directory %s", rel);
	}
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = list_entry(w, rootfd, dfd, rel, de->d_name, depth, err);
	}
	closedir(dir);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct file_entry *)a)->rel, ((const struct file_entry *)b)->rel);
}

/* Strips one trailing "\n" or "\r\n"; the single normalisation of a row. */
static size_t
row_strip(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n') {
		len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
	}
	return len;
}

static int
row_digest(EVP_MD_CTX *ctx, const EVP_MD *md, const char *line, size_t len,
	   unsigned char out[SR_POLICY_ROW_HASH_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	len = row_strip(line, len);
	if (len == 0)
		return -1;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, line, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, full, &n) != 1 || n < SR_POLICY_ROW_HASH_LEN)
		return -1;
	memcpy(out, full, SR_POLICY_ROW_HASH_LEN);
	return 0;
}

int
sr_policy_row_hash(const char *line, size_t len, unsigned char out[SR_POLICY_ROW_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc;

	if (ctx == NULL)
		return -1;
	rc = row_digest(ctx, EVP_sha256(), line, len, out);
	EVP_MD_CTX_free(ctx);
	return rc;
}

struct indexer {
	struct sr_policy *p;
	sqlite3_stmt *insert;
	EVP_MD_CTX *ctx;
	EVP_MD *md;
	int64_t dataset_id;
	int64_t rows;
	uint64_t done, total, reported;
	sr_policy_progress_fn progress;
	void *arg;
};

static int
index_row(struct indexer *ix, const char *line, size_t len, struct sr_error *err)
{
	unsigned char hash[SR_POLICY_ROW_HASH_LEN];

	if (row_digest(ix->ctx, ix->md, line, len, hash) < 0)
		return 0;   /* empty line */
	sqlite3_bind_blob(ix->insert, 1, hash, sizeof(hash), SQLITE_STATIC);
	if (sqlite3_step(ix->insert) != SQLITE_DONE) {
		sqlite3_reset(ix->insert);
		return pol_sql_error(ix->p, err, "row index");
	}
	ix->rows += sqlite3_changes(ix->p->db);
	sqlite3_reset(ix->insert);
	return 0;
}

static void
report(struct indexer *ix, size_t bytes)
{
	ix->done += bytes;
	if (ix->progress != NULL && ix->done - ix->reported >= PROGRESS_EVERY) {
		ix->reported = ix->done;
		ix->progress(ix->done, ix->total, ix->arg);
	}
}

static int
index_file(struct indexer *ix, int rootfd, const struct file_entry *f, struct sr_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	struct stat st;
	FILE *fp;
	int fd, rc = 0, first = 1;

	/* O_NONBLOCK: a file swapped for a FIFO since the listing cannot hang us. */
	fd = pol_openat_beneath(rootfd, f->rel, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return sr_error_errno(err, "dataset file %s", f->rel);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sr_error_set(err, "dataset file %s changed while indexing", f->rel);
	}
	fp = fdopen(fd, "r");
	if (fp == NULL) {
		close(fd);
		return sr_error_errno(err, "dataset file %s", f->rel);
	}
	while (rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
		report(ix, (size_t)len);
		if (!(first && f->has_header))
			rc = index_row(ix, line, (size_t)len, err);
		first = 0;
	}
	if (rc == 0 && ferror(fp))
		rc = sr_error_errno(err, "reading %s", f->rel);
	free(line);
	fclose(fp);
	return rc;
}

static int
indexer_init(struct indexer *ix, struct sr_policy *p, int64_t id, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	ix->p = p;
	ix->dataset_id = id;
	st = pol_prepare(p, "DELETE FROM dataset_rows WHERE dataset_id = ?", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return pol_sql_error(p, err, "row index");
	ix->insert = pol_prepare(p, "INSERT OR IGNORE INTO dataset_rows (hash, dataset_id) "
				 "VALUES (?, ?)", err);
	if (ix->insert == NULL)
		return -1;
	sqlite3_bind_int64(ix->insert, 2, id);
	ix->ctx = EVP_MD_CTX_new();
	ix->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (ix->ctx == NULL || ix->md == NULL)
		return sr_error_set(err, "libcrypto: no SHA-256");
	return 0;
}

static void
indexer_clear(struct indexer *ix)
{
	sqlite3_finalize(ix->insert);
	EVP_MD_CTX_free(ix->ctx);
	EVP_MD_free(ix->md);
}

int
pol_rows_build(struct sr_policy *p, int64_t dataset_id, const char *path,
	       sr_policy_progress_fn progress, void *arg, int64_t *files, int64_t *rows,
	       struct sr_error *err)
{
	struct indexer ix = { 0 };
	struct walk w = { 0 };
	int rootfd, rc = -1;

	/* The root itself: no symlink anywhere on the stored, resolved path. */
	rootfd = pol_open_nosymlinks(path, O_RDONLY | O_DIRECTORY);
	if (rootfd < 0)
		return sr_error_errno(err, "dataset %s", path);
	if (list_dir(&w, rootfd, ".", 0, err) < 0 || indexer_init(&ix, p, dataset_id, err) < 0)
		goto out;
	/* Sorted, so the index is built in the same order every time. */
	if (w.n > 0)
		qsort(w.files, w.n, sizeof(w.files[0]), entry_cmp);
	ix.total = w.total;
	ix.progress = progress;
	ix.arg = arg;
	sqlite3_exec(p->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
	for (size_t i = 0; i < w.n; i++) {
		if (index_file(&ix, rootfd, &w.files[i], err) < 0)
			goto out;
	}
	if (progress != NULL)
		progress(ix.total, ix.total, arg);
	*files = (int64_t)w.n;
	*rows = ix.rows;
	rc = 0;
out:
	indexer_clear(&ix);
	walk_free(&w);
	close(rootfd);
	return rc;
}

int
sr_policy_row_find(struct sr_policy *p, const char *project,
		   const unsigned char hash[SR_POLICY_ROW_HASH_LEN], char *dataset,
		   size_t dataset_len, struct sr_error *err)
{
	sqlite3_stmt *st;
	int rc;

	st = pol_cached(p, POL_ST_ROW_FIND, "SELECT d.name FROM dataset_rows r "
			"JOIN grants g ON g.dataset_id = r.dataset_id "
			"JOIN projects pr ON pr.id = g.project_id "
			"JOIN datasets d ON d.id = r.dataset_id "
			"WHERE r.hash = ? AND pr.name = ? LIMIT 1", err);
	if (st == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, hash, SR_POLICY_ROW_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, project, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && dataset != NULL)
		snprintf(dataset, dataset_len, "%s", sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return pol_sql_error(p, err, "row index");
}
