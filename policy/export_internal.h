/*
 * export_internal.h — what the export files of policy/ share and nothing
 * outside sees: the request row, the quarantine store, the file types, the
 * report each automatic check fills in, the CSV/TSV reader and the UTF-8
 * helpers the checks and the preview use.
 *
 * Where things happen, by file:
 *   export_submit.c      a file from the workspace becomes a request
 *   quarantine.c         the root-only, write-once copies and their hashes
 *   export_request.c     the state machine: votes, withdrawal, fetch
 *   export_checks.c      runs every check on the quarantined copy, stores the report
 *   export_check_*.c     one check each: filetype, caps, cells, identifiers, rows
 *   export_table.c       the CSV/TSV reader the checks share
 *   export_text.c        UTF-8, escaping for terminals, positions in a file
 *   export_views.c       list, show, the login banner
 *   export_preview.c     a steward's view of the file with flagged cells marked
 *   export_diff.c        the diff against the previous submission
 *   export_proto.c       the socket's wire format (also linked into saferoom-export)
 *   export_serve.c       the monitor's side of the socket
 *   export_client.c      the saferoom-export program inside the sandbox
 */
#ifndef SAFEROOM_POLICY_EXPORT_INTERNAL_H
#define SAFEROOM_POLICY_EXPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "saferoom/export.h"
#include "internal.h"

/* ---- export_request.c: one row of export_requests -------------------------------------- */

#define EXPORT_STATE_LEN 16
#define EXPORT_QNAME_LEN 64

struct export_request {
	int64_t id;
	char project[SR_POLICY_NAME_MAX + 1];
	char requester[SR_POLICY_NAME_MAX + 1];
	char *path;                     /* relative to the workspace */
	char *reason;
	int64_t size;
	char sha256[65];                /* hex */
	char quarantine[EXPORT_QNAME_LEN];
	char file_type[16];
	int approvals_needed;
	char state[EXPORT_STATE_LEN];
	char verdict[8];                /* "" until checked */
	int64_t created, decided, released;
};

/* Loads request ID; "no export request N" when there is none. */
int export_request_load(struct sr_policy *p, int64_t id, struct export_request *r,
			struct sr_error *err);
void export_request_clear(struct export_request *r);
/* export_views.c: the previous submission of R's path in R's project; 0 for none, -1 on error. */
int64_t export_previous(struct sr_policy *p, const struct export_request *r, struct sr_error *err);
/* The datasets granted to PROJECT, comma-separated (the audit event's "whose data"); malloc'd. */
char *export_project_datasets(struct sr_policy *p, const char *project);
/*
 * Refuses an operation on an existing request: rolls back any open change,
 * sets ERR to the message and records an export.refused event (best effort:
 * the operation is refused whether or not the event is written).  Returns -1.
 */
int export_refuse(struct sr_policy *p, const char *op, const struct export_request *r,
		  struct sr_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A reason, note or rejection: 1..SR_EXPORT_REASON_MAX bytes of UTF-8 on one line. */
int export_text_ok(const char *what, const char *text, struct sr_error *err);

/* ---- quarantine.c ------------------------------------------------------------------------ */

struct export_quarantined {
	char name[EXPORT_QNAME_LEN];
	int64_t size;
	char sha256[65];
};

/*
 * Copies the regular file FD (ST is its fstat) into a new quarantine file,
 * hashing it on the way; fails when it holds more than max_size bytes or
 * changed while being copied.  The copy is fsync'd and made read-only.
 */
int export_quarantine_store(const char *state_dir, int fd, const struct stat *st,
			    int64_t max_size, struct export_quarantined *q, struct sr_error *err);
/* Removes a copy that no request refers to (the request could not be recorded). */
void export_quarantine_discard(const char *state_dir, const char *name);
/*
 * Reads quarantine file NAME into *buf (malloc'd, NUL-terminated past SIZE)
 * and checks it is exactly SIZE bytes hashing to SHA256: what was reviewed.
 */
int export_quarantine_load(const char *state_dir, const char *name, int64_t size,
			   const char *sha256, unsigned char **buf, struct sr_error *err);

/* ---- file types (export_check_filetype.c) ------------------------------------------------ */

enum export_type {
	EXPORT_CSV, EXPORT_TSV, EXPORT_TXT, EXPORT_MD, EXPORT_JSON, EXPORT_LOG,
	EXPORT_PNG, EXPORT_JPG, EXPORT_SVG, EXPORT_PDF,
	EXPORT_TYPE_UNKNOWN,
};

/* The type named by the extension of PATH's last component ("jpeg" is jpg). */
enum export_type export_type_of(const char *path);
/* "csv", ...; "" for unknown. */
const char *export_type_name(enum export_type t);
/* 1 for types whose content the checks can read: text (csv tsv txt md json log svg). */
int export_type_is_text(enum export_type t);
/* The delimiter of a table type, or 0 for anything else. */
char export_type_delim(enum export_type t);
/* 1 when the type is in the limits' export_file_types list. */
int export_type_allowed(const struct sr_export_limits *l, enum export_type t);

/* ---- the checks -------------------------------------------------------------------------- */

#define EXPORT_LOC_MAX 200      /* locations kept per check; hits go on being counted */
#define EXPORT_N_CHECKS 5

/*
 * One flagged place.  Its position only: what is there (an identifier, a
 * small count) is never copied into policy.db or the trail; the preview
 * reads it from the quarantined file.
 */
struct export_loc {
	uint64_t offset;        /* bytes from the start of the file */
	uint32_t length;        /* bytes */
	uint32_t line;          /* 1-based */
	uint32_t column;        /* 1-based, in characters */
	uint32_t field;         /* 1-based field of a CSV/TSV record; 0 when not a table */
	enum sr_export_verdict verdict;
	char what[128];         /* "count below 10", "mobile number", "row of dataset x" */
};

struct export_result {
	const char *name;
	enum sr_export_verdict verdict;
	char message[256];
	int64_t hits;
	struct export_loc *locs;
	size_t n_locs, cap;
};

/* The file under check, read from quarantine. */
struct export_file {
	const unsigned char *buf;
	size_t len;
	enum export_type type;
	int text;               /* set by the filetype check: the content is readable text */
	const struct sr_export_limits *lim;
	struct sr_policy *p;    /* for the row index; NULL skips the rows check's lookups */
	const char *project;
	int64_t now;            /* seconds; birth dates after it are not dates of birth */
};

typedef int (*export_check_fn)(struct export_file *f, struct export_result *r,
			       struct sr_error *err);

int export_check_filetype(struct export_file *f, struct export_result *r, struct sr_error *err);
int export_check_caps(struct export_file *f, struct export_result *r, struct sr_error *err);
int export_check_cells(struct export_file *f, struct export_result *r, struct sr_error *err);
int export_check_identifiers(struct export_file *f, struct export_result *r,
			     struct sr_error *err);
int export_check_rows(struct export_file *f, struct export_result *r, struct sr_error *err);

/*
 * Runs every check in order (filetype first: it decides whether the others
 * can read the content) into res[0..EXPORT_N_CHECKS).  Clear them with
 * export_results_clear() even after a failure.
 */
int export_checks_run(struct export_file *f, struct export_result res[EXPORT_N_CHECKS],
		      struct sr_error *err);
void export_results_clear(struct export_result res[EXPORT_N_CHECKS]);
/* Runs the checks on request ID's quarantined copy, stores the report, moves it to in_review. */
int export_checks_record(struct sr_policy *p, int64_t id, const struct sr_export_limits *lim,
			 struct sr_error *err);

/* Sets R's message (one line; cut to fit). */
void export_result_say(struct export_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Raises R's verdict to at least V. */
void export_result_raise(struct export_result *r, enum sr_export_verdict v);
/*
 * Adds a location (counted in hits; kept while fewer than EXPORT_LOC_MAX)
 * and raises the verdict.  POS is the caller's position cursor over the
 * file, so that line and column come cheaply in file order.
 */
struct export_pos {
	size_t off;
	uint32_t line, column;
};
int export_result_add(struct export_result *r, const struct export_file *f,
		      struct export_pos *pos, size_t offset, size_t length, uint32_t field,
		      enum sr_export_verdict v, const char *what, struct sr_error *err);
/* "csv", "a PNG image": what cannot be checked, for the messages of content checks. */
void export_result_unreadable(struct export_result *r, const struct export_file *f);

/* ---- export_table.c: a CSV/TSV reader (RFC 4180 quoting) --------------------------------- */

struct export_field {
	size_t off, len;        /* the raw field in the buffer, quotes included */
};

struct export_csv {
	const unsigned char *buf;
	size_t len, pos;
	char delim;
	uint32_t line;          /* line of the next record */
	/* the record just read */
	struct export_field *fields;
	size_t n, cap;
	size_t rec_off, rec_end;
	uint32_t rec_line;
};

void export_csv_init(struct export_csv *c, const unsigned char *buf, size_t len, char delim);
/* Reads the next non-empty record.  Returns 1, 0 at the end, -1 out of memory. */
int export_csv_next(struct export_csv *c);
void export_csv_clear(struct export_csv *c);
/* A field's value: blanks around it and one pair of double quotes removed. */
void export_field_value(const unsigned char *buf, const struct export_field *fl,
			const unsigned char **v, size_t *vlen);

/* ---- export_text.c ----------------------------------------------------------------------- */

/*
 * Decodes the UTF-8 sequence at S[i] (i < len): returns its code point and
 * its length in *n, or -1 with *n = 1 for an invalid byte.
 */
int32_t export_utf8_decode(const unsigned char *s, size_t len, size_t i, size_t *n);
/* 1 when S[0..len) is valid UTF-8; else 0 with the offset of the first bad byte. */
int export_utf8_valid(const unsigned char *s, size_t len, size_t *bad);
/* Moves POS forward (or restarts it) to byte OFF of BUF, counting lines and characters. */
void export_pos_advance(struct export_pos *pos, const unsigned char *buf, size_t off);
/* The bytes of line LINE_START (an offset) to its end, without "\n" or "\r\n". */
size_t export_line_end(const unsigned char *buf, size_t len, size_t line_start, size_t *next);

#endif /* SAFEROOM_POLICY_EXPORT_INTERNAL_H */
