/*
 * derive.c - numbers from what the GPU tools report (capture.h,
 * "derivation"): per-inference kernel statistics of CUPTI records, and the
 * summary of an Nsight Compute CSV report. CPU only, and needing nothing
 * but util/: `make capture` links this file into igniter-capture, which
 * calls both while it measures. The derivation of a whole raw file into a
 * profile needs model/ and lives in derive_raw.c and derive_out.c.
 */
#include "capture/capture.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kernel statistics -------------------------------------------------- */

/*
 * Inference i is records [i n/iters, (i+1) n/iters). Its active time is the
 * length of the union of its kernel intervals; its idle time is the sum of
 * the gaps between consecutive kernels, measured from the running maximum
 * end, so an overlap (a kernel starting before an earlier one ended) is no
 * gap and never a negative one. The gap between one inference's last
 * kernel and the next one's first is host time, not the model's: left out.
 *
 * idle_per_kernel_ms = idle_ms / kernels, not / (kernels - 1): the iGniter
 * model charges each kernel one scheduling delay, t_idle = kernels d_sch +
 * idletime_1 (IGNITER-MODEL.md, "Prediction"), and fits d_sch from the
 * growth of this per-kernel idle time with the number of co-located copies
 * ("Fitting", step 2). Dividing by kernels keeps kernels x idle_per_kernel
 * equal to the idle time the prediction adds back.
 */
int cap_kernel_stats(const cap_kernel_rec *k, size_t n, int iters,
                     cap_kstats *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    if (iters < 1)
        return ut_errf(err, "kernel statistics: iters: expected a positive "
                       "integer, got %d", iters);
    if (n == 0 || n % (size_t)iters != 0)
        return ut_errf(err, "kernel statistics: expected a positive multiple "
                       "of iters (%d) kernel records, got n = %zu", iters, n);
    size_t per = n / (size_t)iters;
    if (per > INT_MAX)
        return ut_errf(err, "kernel statistics: expected at most %d kernels "
                       "per inference, got %zu", INT_MAX, per);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(k[i].start_ms) || !isfinite(k[i].end_ms) ||
            k[i].end_ms < k[i].start_ms)
            return ut_errf(err, "kernel record %zu (%.40s): expected finite "
                           "start_ms <= end_ms, got %g and %g", i, k[i].name,
                           k[i].start_ms, k[i].end_ms);
        if (i > 0 && k[i].start_ms < k[i - 1].start_ms)
            return ut_errf(err, "kernel record %zu (%.40s): expected records "
                           "sorted by start, got start %g after %g", i,
                           k[i].name, k[i].start_ms, k[i - 1].start_ms);
    }
    double active = 0, idle = 0;
    for (size_t it = 0; it < (size_t)iters; it++) {
        const cap_kernel_rec *g = k + it * per;
        double s = g[0].start_ms, e = g[0].end_ms;
        for (size_t j = 1; j < per; j++) {
            if (g[j].start_ms > e) {
                idle += g[j].start_ms - e;
                active += e - s;
                s = g[j].start_ms;
                e = g[j].end_ms;
            } else if (g[j].end_ms > e) {
                e = g[j].end_ms;
            }
        }
        active += e - s;
    }
    out->kernels = (int)per;
    out->active_ms = active / iters;
    out->idle_ms = idle / iters;
    out->idle_per_kernel_ms = out->idle_ms / (double)per;
    return 0;
}

/* ---- Nsight Compute CSV ------------------------------------------------- */

enum { NCU_TIME, NCU_HIT, NCU_L2, NCU_DRAM, NCU_NMETRICS };

static const char *const ncu_metric[NCU_NMETRICS] = {
    "gpu__time_duration.sum",
    "lts__t_sector_hit_rate.pct",
    "lts__t_sectors.avg.pct_of_peak_sustained_elapsed",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
};

#define NCU_MAX_FIELDS 128

typedef struct ncu_kernel {
    char id[32];
    double v[NCU_NMETRICS];   /* time in ms, the rest in % */
    unsigned have;            /* bit m: v[m] was reported */
} ncu_kernel;

typedef struct ncu_report {
    const char *path;
    ncu_kernel *k;
    size_t n, cap, last;
} ncu_report;

/*
 * Splits one CSV line in place into fields: a field in double quotes may
 * hold commas (kernel names with template arguments do) and "" for a
 * quote. Returns the number of fields, or -1 for an unterminated quote or
 * more than max fields.
 */
static int csv_split(char *s, char **f, int max)
{
    int n = 0;
    for (;;) {
        if (n == max)
            return -1;
        char *w = s;
        f[n++] = w;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s)
                    return -1;
                if (*s == '"' && s[1] == '"') {
                    *w++ = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    *w++ = *s++;
                }
            }
        }
        while (*s && *s != ',')
            *w++ = *s++;
        char c = *s;
        *w = '\0';
        if (c != ',')
            return n;
        s++;
    }
}

static int find_col(char **f, int nf, const char *name)
{
    for (int i = 0; i < nf; i++)
        if (!strcmp(f[i], name))
            return i;
    return -1;
}

static int metric_index(const char *name)
{
    for (int m = 0; m < NCU_NMETRICS; m++)
        if (!strcmp(name, ncu_metric[m]))
            return m;
    return -1;
}

/* A number as ncu prints it: thousands separators (commas) allowed. */
static int parse_value(const char *s, double *out)
{
    char buf[64];
    size_t k = 0;
    for (; *s; s++) {
        if (*s == ',')
            continue;
        if (k + 1 >= sizeof buf)
            return -1;
        buf[k++] = *s;
    }
    buf[k] = '\0';
    if (k == 0)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Milliseconds per unit of a duration; -1 for a unit we do not know. */
static int time_scale_ms(const char *unit, double *scale)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {
        {"nsecond", 1e-6}, {"ns", 1e-6}, {"usecond", 1e-3}, {"us", 1e-3},
        {"msecond", 1}, {"ms", 1}, {"second", 1e3}, {"s", 1e3},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(unit, units[i].unit)) {
            *scale = units[i].ms;
            return 0;
        }
    return -1;
}

/* The kernel with this ID, added if new. Rows of one kernel are adjacent
 * in ncu's output, so the last one found is tried first. */
static ncu_kernel *kernel_for(ncu_report *r, const char *id)
{
    if (r->n && !strcmp(r->k[r->last].id, id))
        return &r->k[r->last];
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->k[i].id, id)) {
            r->last = i;
            return &r->k[i];
        }
    UT_GROW(r->k, r->cap, r->n + 1);
    ncu_kernel *k = &r->k[r->n];
    memset(k, 0, sizeof *k);
    snprintf(k->id, sizeof k->id, "%s", id);
    r->last = r->n++;
    return k;
}

/* Stores one value; a duration is converted to ms with its unit. */
static int put_value(ncu_report *r, int line, const char *id, int m,
                     const char *value, const char *unit, ut_err *err)
{
    double v, scale = 1;
    if (parse_value(value, &v) < 0)
        return ut_errf(err, "%s:%d: %s: expected a number, got \"%.40s\"",
                       r->path, line, ncu_metric[m], value);
    if (m == NCU_TIME && time_scale_ms(unit, &scale) < 0)
        return ut_errf(err, "%s:%d: %s: expected a time unit (nsecond, "
                       "usecond, msecond, second), got \"%.40s\"", r->path,
                       line, ncu_metric[m], unit);
    if (!*id)
        return ut_errf(err, "%s:%d: ID: expected a kernel ID, got \"\"",
                       r->path, line);
    ncu_kernel *k = kernel_for(r, id);
    k->v[m] = v * scale;
    k->have |= 1u << m;
    return 0;
}

/* ncu prints its own messages (==PROF==, ==WARNING==) among the rows. */
static int skip_line(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return !*s || !strncmp(s, "==", 2);
}

/*
 * Two layouts. ncu --csv's default page ("details") is long: one row per
 * kernel and metric, with "ID", "Metric Name", "Metric Unit" and "Metric
 * Value" among the columns. --page raw is wide: one row per kernel, a
 * column per metric, and a second header row with the units (its ID
 * empty). The header is the first line that starts with "ID"; ncu's own
 * messages before and among the rows are skipped.
 */
static int ncu_rows(ncu_report *r, char *text, ut_err *err)
{
    char *f[NCU_MAX_FIELDS];
    int line = 0, header = 0, nf = 0;
    int c_id = -1, c_name = -1, c_unit = -1, c_value = -1;
    int c_metric[NCU_NMETRICS];
    char time_unit[32] = "nsecond";
    char *s = text;
    if (!strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    while (*s) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        size_t len = strlen(s);
        if (len && s[len - 1] == '\r')
            s[len - 1] = '\0';
        if (!header) {
            if (!strncmp(s, "\"ID\"", 4)) {
                header = line;
                nf = csv_split(s, f, NCU_MAX_FIELDS);
                if (nf < 0)
                    return ut_errf(err, "%s:%d: expected a CSV header of at "
                                   "most %d quoted columns, got more or an "
                                   "unterminated quote", r->path, line,
                                   NCU_MAX_FIELDS);
                c_id = find_col(f, nf, "ID");
                c_name = find_col(f, nf, "Metric Name");
                c_unit = find_col(f, nf, "Metric Unit");
                c_value = find_col(f, nf, "Metric Value");
                for (int m = 0; m < NCU_NMETRICS; m++)
                    c_metric[m] = find_col(f, nf, ncu_metric[m]);
                if (c_name >= 0 || c_value >= 0) {
                    const char *need = c_name < 0    ? "Metric Name"
                                       : c_unit < 0  ? "Metric Unit"
                                       : c_value < 0 ? "Metric Value"
                                                     : NULL;
                    if (need)
                        return ut_errf(err, "%s:%d: expected a column \"%s\" "
                                       "in the header, got none", r->path,
                                       line, need);
                } else {
                    for (int m = 0; m < NCU_NMETRICS; m++)
                        if (c_metric[m] < 0)
                            return ut_errf(err, "%s:%d: expected a column "
                                           "\"%s\" (or \"Metric Name\" and "
                                           "\"Metric Value\") in the header, "
                                           "got none", r->path, line,
                                           ncu_metric[m]);
                }
            }
        } else if (!skip_line(s)) {
            int k = csv_split(s, f, NCU_MAX_FIELDS);
            if (k < nf)
                return ut_errf(err, "%s:%d: expected %d fields like the "
                               "header (line %d), got %s", r->path, line, nf,
                               header, k < 0 ? "an unterminated quote or too "
                               "many" : "fewer");
            if (c_name >= 0) {
                int m = metric_index(f[c_name]);
                if (m >= 0 && put_value(r, line, f[c_id], m, f[c_value],
                                        f[c_unit], err) < 0)
                    return -1;
            } else if (!*f[c_id]) {
                /* the units row of the wide layout */
                snprintf(time_unit, sizeof time_unit, "%s",
                         f[c_metric[NCU_TIME]]);
            } else {
                for (int m = 0; m < NCU_NMETRICS; m++)
                    if (put_value(r, line, f[c_id], m, f[c_metric[m]],
                                  time_unit, err) < 0)
                        return -1;
            }
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    if (!header)
        return ut_errf(err, "%s: expected a CSV header line starting with "
                       "\"ID\" (ncu --csv), got none", r->path);
    return 0;
}

/*
 * The summary weighs each kernel's percentages by its duration, so that the
 * means are those of the inference as a whole (a 2 ms convolution counts
 * for more than a 5 us bias add). A report whose durations are all zero
 * gets plain means.
 */
int cap_ncu_parse(const char *csv_path, cap_ncu_summary *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    char *text = ut_read_file(csv_path, NULL, err);
    if (!text)
        return -1;
    ncu_report r = {csv_path, NULL, 0, 0, 0};
    int rc = ncu_rows(&r, text, err);
    free(text);
    if (rc == 0 && r.n == 0)
        rc = ut_errf(err, "%s: expected rows of kernel metrics, got none",
                     csv_path);
    for (int m = 0; rc == 0 && m < NCU_NMETRICS; m++) {
        size_t have = 0, miss = r.n;
        for (size_t i = 0; i < r.n; i++) {
            if (r.k[i].have & (1u << m))
                have++;
            else if (miss == r.n)
                miss = i;
        }
        if (have == 0)
            rc = ut_errf(err, "%s: expected rows of metric %s, got none",
                         csv_path, ncu_metric[m]);
        else if (miss < r.n)
            rc = ut_errf(err, "%s: kernel ID %s: expected metric %s, got "
                         "none", csv_path, r.k[miss].id, ncu_metric[m]);
    }
    if (rc == 0) {
        double t = 0, w[NCU_NMETRICS] = {0};
        for (size_t i = 0; i < r.n; i++)
            t += r.k[i].v[NCU_TIME];
        for (size_t i = 0; i < r.n; i++) {
            double wt = t > 0 ? r.k[i].v[NCU_TIME] / t : 1.0 / (double)r.n;
            for (int m = NCU_HIT; m < NCU_NMETRICS; m++)
                w[m] += wt * r.k[i].v[m];
        }
        out->kernels = (int)(r.n > INT_MAX ? INT_MAX : r.n);
        out->time_ms = t;
        out->l2_hit_pct = w[NCU_HIT];
        out->l2_util_pct = w[NCU_L2];
        out->dram_util_pct = w[NCU_DRAM];
    }
    free(r.k);
    return rc;
}
