/*
 * util.h - the small pieces every component shares: error reporting, JSON
 * file loading and atomic file output.
 *
 * Error convention (STYLE.md rule 5): library functions return 0 on success
 * and -1 on failure, and fill a caller-owned ut_err with one lowercase line
 * shaped `file:line: field: expected X, got Y` (the parts that are known).
 * Only main() prints it.
 */
#ifndef UT_UTIL_H
#define UT_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a message naming the longest path (UT_PATH_MAX) and why. */
#define UT_ERR_MAX 5120
/* The longest file path any component accepts (Linux's PATH_MAX); a longer
 * one is an error naming it, never silently cut. */
#define UT_PATH_MAX 4096

/* The project version, recorded in every output file. */
#define IGNITER_VERSION "0.1.0"

/* The git commit the program was built from (`git describe --always
 * --dirty`), "unknown" outside a checkout. */
const char *ut_commit(void);

/* 64-bit FNV-1a of n bytes, continuing from h (start with UT_HASH_INIT):
 * for telling inputs apart (a changed file, a rebuilt program), not for
 * security. */
#define UT_HASH_INIT 0xcbf29ce484222325ULL
unsigned long long ut_hash(unsigned long long h, const void *p, size_t n);
/* ut_hash over a file's bytes; h unchanged (and -1) when it cannot be
 * read. */
int ut_hash_file(unsigned long long *h, const char *path);

typedef struct ut_err {
    char msg[UT_ERR_MAX];
} ut_err;

/* printf-style: writes the message into err (if err is not NULL) and returns
 * -1, so that error paths read `return ut_errf(err, "...")`. */
int ut_errf(ut_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefix an existing message: "prefix: old message". Returns -1. */
int ut_errprefix(ut_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads a whole file into a NUL-terminated malloc'd buffer (caller frees).
 * On failure returns NULL with err = "cannot open 'path': strerror". */
char *ut_read_file(const char *path, size_t *len_out, ut_err *err);

/* Splits a text into lines in place, for readers of line formats (JSON
 * lines, CSV): each call returns the next line, its '\n' replaced by
 * '\0', and adds one to *lineno; NULL after the last. A last line without
 * '\n' counts; an empty text has no line. *cur starts at the text. */
char *ut_line_next(char **cur, int *lineno);

/* The first character of s that is not a space, tab or '\r' (the '\0' at
 * the end where the line is blank). */
const char *ut_skip_blank(const char *s);

/* Parses a JSON document from a file; // and slash-star comments are
 * allowed. The caller owns the tree (cJSON_Delete). Syntax errors name the
 * file, line and column. */
cJSON *ut_json_load(const char *path, ut_err *err);

/* Parses a JSON-lines file where every line is an object and lines are
 * merged key by key: a later line's top-level key that is already present
 * as an object gets the new line's members added (replacing equal names).
 * This is the format of the iGniter authors' profile. */
cJSON *ut_jsonl_merge_load(const char *path, ut_err *err);

/* Line number (1-based) and column of a byte offset into text. */
void ut_line_col(const char *text, size_t off, int *line, int *col);

/* Writes buf to path atomically: a temporary file in the same directory,
 * flushed, then renamed over path. On error nothing is left at path
 * (an earlier file at path is untouched) and the temporary is removed. */
int ut_write_atomic(const char *path, const char *buf, size_t len, ut_err *err);

/*
 * A file written through a temporary name in the same folder
 * (`DIR/.NAME.tmpXXXXXX`) and renamed over its path only when complete, so
 * a reader never sees half of it and a killed run leaves no half-written
 * result, only a hidden temporary that ut_clean_temps removes next time.
 * Committed files are 0644, like every output.
 */
typedef struct ut_afile {
    char *path, *tmp;
    FILE *f;
} ut_afile;

int ut_afile_open(ut_afile *a, const char *path, ut_err *err);
/* Flushes, syncs and renames; on error removes the temporary. */
int ut_afile_commit(ut_afile *a, ut_err *err);
/* Removes the temporary (nothing when not open). */
void ut_afile_abort(ut_afile *a);
/* Removes the temporaries of ut_afile left in dir by a run that was
 * killed; returns how many. */
int ut_clean_temps(const char *dir);

/* The folder of path with its trailing slash ("a/b/" of "a/b/c.json"), ""
 * for a bare file name (or one whose folder does not fit in n). */
void ut_dir_of(const char *path, char *dir, size_t n);

/* Creates a directory and its missing parents (mkdir -p); an existing
 * directory is fine, an empty name an error. Errors name the path that
 * could not be made. */
int ut_mkdir_p(const char *dir, ut_err *err);

/* A line-at-a-time reader of a file descriptor (a pipe): lb.buf holds
 * what was read past the last line taken. */
typedef struct ut_linebuf {
    char buf[512];
    size_t len;
} ut_linebuf;

/* The next whole line of fd into line (n bytes; without its newline): 1,
 * 0 when none is complete yet (a non-blocking fd with nothing more, or a
 * read interrupted), -1 at the end of the input or on a read error. A line
 * longer than the buffer is dropped. */
int ut_fd_line(int fd, ut_linebuf *lb, char *line, size_t n);

/* Describes a JSON value for error messages ("-5", "\"abc\"", "an object",
 * "nothing"). Writes into out (size n) and returns out. */
const char *ut_json_describe(const cJSON *v, char *out, size_t n);

/*
 * Typed field getters for error messages that name the field. `where` is the
 * prefix for messages ("plan.json: workloads[2]"), `key` the member name.
 * They return 0 and store the value, or -1 with
 *   `where.key: expected a positive number, got -5`.
 * The _opt variants leave *out untouched and return 0 if the key is absent.
 */
int ut_json_num(const cJSON *obj, const char *key, const char *where,
                double *out, ut_err *err);
int ut_json_pos(const cJSON *obj, const char *key, const char *where,
                double *out, ut_err *err);
int ut_json_nonneg(const cJSON *obj, const char *key, const char *where,
                   double *out, ut_err *err);
int ut_json_int(const cJSON *obj, const char *key, const char *where,
                long lo, long hi, long *out, ut_err *err);
int ut_json_str(const cJSON *obj, const char *key, const char *where,
                const char **out, ut_err *err);
/* Array of exactly n numbers (n > 0), or any length if n == 0; *len_out
 * receives the length when not NULL. */
int ut_json_numarr(const cJSON *obj, const char *key, const char *where,
                   double *out, size_t n, size_t *len_out, ut_err *err);

/* Growable string buffer for writing JSON and tables. Allocation failure
 * aborts: these outputs are small and an out-of-memory here is not an
 * input error the user can fix. */
typedef struct ut_buf {
    char *s;
    size_t len, cap;
} ut_buf;

void ut_buf_printf(ut_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ut_buf_free(ut_buf *b);
/* Appends s as a JSON string literal, quoted and escaped: the one JSON
 * string writer of the project. */
void ut_buf_json_str(ut_buf *b, const char *s);
/* Appends `"key": v` (v as ut_fmt_double writes it) and then end: one
 * member of a JSON object that a writer lays out by hand. */
void ut_buf_json_num(ut_buf *b, const char *key, double v, const char *end);
/* The same literal written to f. */
void ut_fputs_json(FILE *f, const char *s);
/* s as one CSV field (RFC 4180): s itself when it needs no quoting, else
 * quoted into out (size n; quotes doubled); the one CSV field writer. */
const char *ut_csv(const char *s, char *out, size_t n);

/* "a, b, c": the names name(ctx, 0..count-1) joined for a message
 * ("expected one of ..."), cut to fit out (size n); returns out. The one
 * list writer behind every "expected one of". */
typedef const char *(*ut_name_fn)(const void *ctx, size_t i);
const char *ut_names(char *out, size_t n, ut_name_fn name, const void *ctx,
                     size_t count);

/* Items ranked largest key first, ties in index order: what qsort gives
 * stably (the reference's sort is stable). */
typedef struct ut_rank {
    long key;
    int i;
} ut_rank;
void ut_rank_sort(ut_rank *x, size_t n);

/* Shortest round-trip formatting of a double ("%.17g" trimmed): what we
 * write to JSON so that reading it back yields the same bits. */
const char *ut_fmt_double(double v, char out[32]);

/* Checked allocation: aborts with a message on out-of-memory. */
void *ut_xmalloc(size_t n);
void *ut_xcalloc(size_t n, size_t sz);
void *ut_xrealloc(void *p, size_t n);
char *ut_xstrdup(const char *s);

/*
 * Growth arrays: makes room for `need` elements in the array p whose
 * capacity is cap (both lvalues, cap a size_t), doubling cap from 8 until
 * it holds need; the new elements are zeroed. Doubling keeps appends
 * amortised O(1); zeroing costs one memset per growth and spares every
 * caller its own.
 *     UT_GROW(a, cap, n + 1);
 *     a[n++] = v;
 */
#define UT_GROW(p, cap, need)                                            \
    do {                                                                 \
        if ((size_t)(need) > (cap))                                      \
            (p) = ut_grow((p), &(cap), (size_t)(need), sizeof *(p));     \
    } while (0)
void *ut_grow(void *p, size_t *cap, size_t need, size_t elem);

/*
 * Keys: strings (workload names) with their positions, sorted so that one
 * is found by value in O(log n) and equal ones are adjacent, instead of a
 * scan of every earlier one (100,000 workloads). The caller fills
 * x[k] = {string, position} for n strings (not copied: they must outlive
 * x) and sorts x with ut_keys_sort: by string, then position.
 */
typedef struct ut_key {
    const char *s;
    size_t i;
} ut_key;
void ut_keys_sort(ut_key *x, size_t n);
/* The earliest position of string s in sorted x, or SIZE_MAX if none. */
size_t ut_keys_find(const ut_key *x, size_t n, const char *s);
/* first[i] = the earliest position with the same string as position i
 * (i itself for a string's first appearance), for every position i in
 * sorted x; first has room for the largest position + 1. */
void ut_keys_first(const ut_key *x, size_t n, size_t *first);

/*
 * Stop signals: installs handler for the n signals sigs[0..n), with an
 * empty mask and without SA_RESTART, so that a blocking call (a wait for
 * a child, a sleep) returns at once with EINTR and the caller looks at
 * its stop flag; the actions they had go to saved[0..n) unless saved is
 * NULL. The one way the programs catch Ctrl-C and SIGTERM.
 */
void ut_catch_signals(const int *sigs, size_t n, void (*handler)(int),
                      struct sigaction *saved);

#ifdef __cplusplus
}
#endif

#endif
