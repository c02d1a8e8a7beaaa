/*
 * util.c - error formatting, JSON loading, atomic output.
 */
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ut_errf(ut_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ut_errprefix(ut_err *err, const char *fmt, ...)
{
    if (err) {
        char pre[UT_ERR_MAX], old[UT_ERR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pre, sizeof pre, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
    }
    return -1;
}

void *ut_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "igniter: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *ut_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) {
        fprintf(stderr, "igniter: out of memory (%zu x %zu bytes)\n", n, sz);
        abort();
    }
    return p;
}

void *ut_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "igniter: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

char *ut_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(ut_xmalloc(n), s, n);
}

char *ut_read_file(const char *path, size_t *len_out, ut_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ut_errf(err, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = ut_xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = ut_xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        ut_errf(err, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        ut_errf(err, "%s: expected text, got a NUL byte", path);
        return NULL;
    }
    if (len_out)
        *len_out = len;
    return buf;
}

void ut_line_col(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* cJSON reports the position where parsing stopped; turn it into line and
 * column and show a few characters of what was there. */
static int json_syntax_err(const char *path, const char *text, int line_base,
                           ut_err *err)
{
    const char *at = cJSON_GetErrorPtr();
    size_t off = at && at >= text ? (size_t)(at - text) : 0;
    int line, col;
    ut_line_col(text, off, &line, &col);
    char near[24] = "";
    if (at && *at) {
        size_t k = 0;
        while (k < sizeof near - 1 && at[k] && at[k] != '\n')
            near[k] = at[k], k++;
        near[k] = '\0';
    }
    if (near[0])
        return ut_errf(err, "%s:%d:%d: expected valid JSON, got '%s'", path,
                       line + line_base, col, near);
    return ut_errf(err, "%s:%d:%d: expected valid JSON, got end of input",
                   path, line + line_base, col);
}

/* Blanks // and slash-star comments outside strings, keeping every line
 * break: a commented experiment file (as the README shows one) parses, and
 * the line and column of a syntax error stay those of the file. */
static void blank_comments(char *t)
{
    int in_str = 0;
    for (char *p = t; *p; p++) {
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (p[0] == '/' && p[1] == '/') {
            while (p[1] && p[1] != '\n')
                *p++ = ' ';
            *p = ' ';
        } else if (p[0] == '/' && p[1] == '*') {
            char *q = p + 2;
            while (*q && !(q[0] == '*' && q[1] == '/'))
                q++;
            if (!*q)
                return;     /* unterminated: let the parser say where */
            for (; p < q + 2; p++)
                if (*p != '\n')
                    *p = ' ';
            p--;
        }
    }
}

cJSON *ut_json_load(const char *path, ut_err *err)
{
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return NULL;
    blank_comments(text);
    cJSON *root = cJSON_ParseWithOpts(text, NULL, 1);
    if (!root)
        json_syntax_err(path, text, 0, err);
    free(text);
    return root;
}

static void merge_into(cJSON *dst, cJSON *src)
{
    cJSON *item = src->child;
    while (item) {
        cJSON *next = item->next;
        cJSON *have = cJSON_GetObjectItemCaseSensitive(dst, item->string);
        cJSON_DetachItemViaPointer(src, item);
        if (have && cJSON_IsObject(have) && cJSON_IsObject(item)) {
            merge_into(have, item);
            cJSON_Delete(item);
        } else if (have) {
            cJSON_ReplaceItemViaPointer(dst, have, item);
        } else {
            cJSON_AddItemToObject(dst, item->string, item);
        }
        item = next;
    }
}

char *ut_line_next(char **cur, int *lineno)
{
    char *line = *cur;
    if (!*line)
        return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cur = nl + 1;
    } else {
        *cur = line + strlen(line);
    }
    (*lineno)++;
    return line;
}

const char *ut_skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

cJSON *ut_jsonl_merge_load(const char *path, ut_err *err)
{
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    int lineno = 0;
    char *cur = text, *line;
    while ((line = ut_line_next(&cur, &lineno))) {
        if (!*ut_skip_blank(line))
            continue;
        cJSON *obj = cJSON_ParseWithOpts(line, NULL, 1);
        if (!obj) {
            json_syntax_err(path, line, lineno - 1, err);
            goto fail;
        }
        if (!cJSON_IsObject(obj)) {
            char d[64];
            ut_errf(err, "%s:%d: expected a JSON object, got %s", path,
                    lineno, ut_json_describe(obj, d, sizeof d));
            cJSON_Delete(obj);
            goto fail;
        }
        merge_into(root, obj);
        cJSON_Delete(obj);
    }
    free(text);
    return root;
fail:
    free(text);
    cJSON_Delete(root);
    return NULL;
}

int ut_afile_open(ut_afile *a, const char *path, ut_err *err)
{
    memset(a, 0, sizeof *a);
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    a->path = ut_xstrdup(path);
    a->tmp = ut_xmalloc(n + 16);
    snprintf(a->tmp, n + 16, "%.*s.%s.tmpXXXXXX", (int)dlen, path,
             path + dlen);
    int fd = mkstemp(a->tmp);
    if (fd < 0 || !(a->f = fdopen(fd, "w"))) {
        ut_errf(err, "cannot write '%s': %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        free(a->path);
        free(a->tmp);
        memset(a, 0, sizeof *a);
        return -1;
    }
    return 0;
}

int ut_afile_commit(ut_afile *a, ut_err *err)
{
    int bad = ferror(a->f) | (fflush(a->f) != 0);
    bad |= fchmod(fileno(a->f), 0644) != 0;
    bad |= fsync(fileno(a->f)) != 0;
    int e = errno;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad || rename(a->tmp, a->path) < 0) {
        ut_errf(err, "cannot write '%s': %s", a->path,
                strerror(bad && e ? e : errno));
        unlink(a->tmp);
        ut_afile_abort(a);
        return -1;
    }
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
    return 0;
}

void ut_afile_abort(ut_afile *a)
{
    if (a->f) {
        fclose(a->f);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

int ut_clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* ".NAME.tmpXXXXXX": exactly what ut_afile_open makes */
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != '.' || len < 12 ||
            strncmp(e->d_name + len - 10, ".tmp", 4))
            continue;
        char path[UT_PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        n += unlink(path) == 0;
    }
    closedir(d);
    return n;
}

int ut_write_atomic(const char *path, const char *buf, size_t len, ut_err *err)
{
    ut_afile a;
    if (ut_afile_open(&a, path, err) < 0)
        return -1;
    if (len && fwrite(buf, 1, len, a.f) != len) {
        ut_errf(err, "cannot write '%s': %s", path, strerror(errno));
        ut_afile_abort(&a);
        return -1;
    }
    return ut_afile_commit(&a, err);
}

int ut_fd_line(int fd, ut_linebuf *lb, char *line, size_t n)
{
    for (;;) {
        char *nl = memchr(lb->buf, '\n', lb->len);
        if (nl) {
            size_t k = (size_t)(nl - lb->buf);
            snprintf(line, n, "%.*s", (int)k, lb->buf);
            memmove(lb->buf, nl + 1, lb->len - k - 1);
            lb->len -= k + 1;
            return 1;
        }
        if (lb->len == sizeof lb->buf - 1)
            lb->len = 0;   /* a line too long to be ours: dropped */
        ssize_t r = read(fd, lb->buf + lb->len, sizeof lb->buf - 1 - lb->len);
        if (r > 0) {
            lb->len += (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                      errno == EINTR))
            return 0;
        return -1;
    }
}

int ut_mkdir_p(const char *dir, ut_err *err)
{
    size_t n = strlen(dir);
    /* the walk below starts at the second byte: "" has none */
    if (n == 0)
        return ut_errf(err, "cannot create '': expected a directory name, "
                       "got an empty one");
    char *buf = ut_xmalloc(n + 1);
    memcpy(buf, dir, n + 1);
    int rc = 0;
    for (char *p = buf + 1;; p++) {
        if (*p && *p != '/')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
            rc = ut_errf(err, "cannot create '%s': %s", buf, strerror(errno));
            break;
        }
        *p = c;
        if (!c)
            break;
    }
    struct stat st;
    if (rc == 0 && (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode)))
        rc = ut_errf(err, "cannot create '%s': not a directory", buf);
    free(buf);
    return rc;
}

const char *ut_json_describe(const cJSON *v, char *out, size_t n)
{
    if (!v)
        snprintf(out, n, "nothing");
    else if (cJSON_IsNumber(v)) {
        /* cJSON reads 1e999 as infinity, which ut_fmt_double writes as
         * JSON's null: a message says what it is */
        char d[32];
        snprintf(out, n, "%s", isfinite(v->valuedouble)
                                   ? ut_fmt_double(v->valuedouble, d)
                                   : v->valuedouble > 0 ? "infinity"
                                                        : "-infinity");
    } else if (cJSON_IsString(v))
        snprintf(out, n, "\"%.40s\"", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        snprintf(out, n, "null");
    else if (cJSON_IsArray(v))
        snprintf(out, n, "an array");
    else if (cJSON_IsObject(v))
        snprintf(out, n, "an object");
    else
        snprintf(out, n, "an invalid value");
    return out;
}

static int bad_field(const cJSON *v, const char *where, const char *key,
                     const char *expect, ut_err *err)
{
    char d[64];
    if (!v)
        return ut_errf(err, "%s.%s: expected %s, got nothing (missing field)",
                       where, key, expect);
    return ut_errf(err, "%s.%s: expected %s, got %s", where, key, expect,
                   ut_json_describe(v, d, sizeof d));
}

int ut_json_num(const cJSON *obj, const char *key, const char *where,
                double *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bad_field(v, where, key, "a number", err);
    *out = v->valuedouble;
    return 0;
}

int ut_json_pos(const cJSON *obj, const char *key, const char *where,
                double *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        !(v->valuedouble > 0))
        return bad_field(v, where, key, "a positive number", err);
    *out = v->valuedouble;
    return 0;
}

int ut_json_nonneg(const cJSON *obj, const char *key, const char *where,
                   double *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble < 0)
        return bad_field(v, where, key, "a non-negative number", err);
    *out = v->valuedouble;
    return 0;
}

int ut_json_int(const cJSON *obj, const char *key, const char *where,
                long lo, long hi, long *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < (double)lo || v->valuedouble > (double)hi) {
        char expect[96];
        snprintf(expect, sizeof expect, "an integer in %ld..%ld", lo, hi);
        return bad_field(v, where, key, expect, err);
    }
    *out = (long)v->valuedouble;
    return 0;
}

int ut_json_str(const cJSON *obj, const char *key, const char *where,
                const char **out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return bad_field(v, where, key, "a non-empty string", err);
    *out = v->valuestring;
    return 0;
}

int ut_json_numarr(const cJSON *obj, const char *key, const char *where,
                   double *out, size_t n, size_t *len_out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char expect[64];
    if (n)
        snprintf(expect, sizeof expect, "an array of %zu numbers", n);
    else
        snprintf(expect, sizeof expect, "an array of numbers");
    if (!cJSON_IsArray(v))
        return bad_field(v, where, key, expect, err);
    size_t len = (size_t)cJSON_GetArraySize(v);
    if ((n && len != n) || len == 0) {
        return ut_errf(err, "%s.%s: expected %s, got %zu elements", where, key,
                       expect, len);
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble)) {
            char d[64];
            return ut_errf(err, "%s.%s[%zu]: expected a number, got %s", where,
                           key, i, ut_json_describe(e, d, sizeof d));
        }
        if (out)
            out[i] = e->valuedouble;
        i++;
    }
    if (len_out)
        *len_out = len;
    return 0;
}

void ut_buf_printf(ut_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t need = b->len + (size_t)n + 1;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        b->s = ut_xrealloc(b->s, cap);
        b->cap = cap;
    }
}

void ut_buf_json_str(ut_buf *b, const char *s)
{
    ut_buf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            ut_buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            ut_buf_printf(b, "\\u%04x", ch);
        else
            ut_buf_printf(b, "%c", ch);
    }
    ut_buf_printf(b, "\"");
}

void ut_buf_json_num(ut_buf *b, const char *key, double v, const char *end)
{
    char d[32];
    ut_buf_printf(b, "\"%s\": %s%s", key, ut_fmt_double(v, d), end);
}

unsigned long long ut_hash(unsigned long long h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int ut_hash_file(unsigned long long *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char buf[65536];
    size_t n;
    unsigned long long x = *h;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        x = ut_hash(x, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return -1;
    *h = x;
    return 0;
}

const char *ut_csv(const char *s, char *out, size_t n)
{
    if (!strpbrk(s, ",\"\r\n"))
        return s;
    size_t k = 0;
    if (n < 3)
        return "";
    out[k++] = '"';
    for (; *s && k + 3 < n; s++) {
        if (*s == '"')
            out[k++] = '"';
        out[k++] = *s;
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

void ut_fputs_json(FILE *f, const char *s)
{
    ut_buf b = {0};
    ut_buf_json_str(&b, s);
    fputs(b.s, f);
    ut_buf_free(&b);
}

void ut_buf_free(ut_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *ut_fmt_double(double v, char out[32])
{
    if (!isfinite(v)) {
        snprintf(out, 32, "null");
        return out;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return out;
    }
    return out;
}

void *ut_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t old = *cap, c = old ? old : 8;
    while (c < need)
        c *= 2;
    p = ut_xrealloc(p, c * elem);
    memset((char *)p + old * elem, 0, (c - old) * elem);
    *cap = c;
    return p;
}

void ut_dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) + 1 : 0;
    if (len >= n)
        len = 0;
    memcpy(dir, path, len);
    dir[len] = '\0';
}

const char *ut_names(char *out, size_t n, ut_name_fn name, const void *ctx,
                     size_t count)
{
    size_t len = 0;
    if (n)
        out[0] = '\0';
    for (size_t i = 0; i < count && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "",
                                name(ctx, i));
    return out;
}

static int key_cmp(const void *a, const void *b)
{
    const ut_key *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

void ut_keys_sort(ut_key *x, size_t n)
{
    if (n > 1)
        qsort(x, n, sizeof *x, key_cmp);
}

size_t ut_keys_find(const ut_key *x, size_t n, const char *s)
{
    size_t lo = 0, hi = n;           /* the first entry not below s */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(x[mid].s, s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && !strcmp(x[lo].s, s) ? x[lo].i : SIZE_MAX;
}

void ut_keys_first(const ut_key *x, size_t n, size_t *first)
{
    for (size_t k = 0; k < n; k++)
        first[x[k].i] = k && !strcmp(x[k].s, x[k - 1].s) ? first[x[k - 1].i]
                                                         : x[k].i;
}

static int rank_cmp(const void *a, const void *b)
{
    const ut_rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void ut_rank_sort(ut_rank *x, size_t n)
{
    if (n > 1)
        qsort(x, n, sizeof *x, rank_cmp);
}

void ut_catch_signals(const int *sigs, size_t n, void (*handler)(int),
                      struct sigaction *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < n; i++)
        sigaction(sigs[i], &sa, saved ? &saved[i] : NULL);
}
