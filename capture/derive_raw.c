/*
 * derive_raw.c - a capture's raw JSON lines (capture/README.md, "Raw
 * records") into what the rest of the testbed reads (capture.h,
 * cap_derive): the profile the model is fitted from, the measured solo
 * tables and pairs that the simulator's `measured` back end, gpu-lets+ and
 * `igniter accuracy` read, and the held-out multi-way runs.
 *
 * It needs model/ (the profile writer, and the loaders that check what was
 * written), so it is a file of its own: `make capture` links derive.c into
 * igniter-capture without model/ or GSL, and only the CPU binary derives.
 *
 * Reading is in two passes: every line is parsed and checked field by field
 * (errors name the line), then the records are put together (errors name
 * the model and the capture step that should have produced what is
 * missing). Nothing is written until all four files are made in memory,
 * written to a folder of their own inside the output folder and loaded back
 * with the project's loaders; only then are they renamed into place.
 */
#include "capture/capture.h"
#include "model/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DV_MAX_CO 8        /* members of one co-location run */
#define DV_MIN_SOLO 5      /* points of the active-time fit (five terms) */
#define DV_MIN_L2 2        /* points of the L2 line */
#define DV_STEP_SMS 8      /* the capture's partition step without meta's */

/* ---- records ---------------------------------------------------------- */

typedef struct dv_model {
    char name[MDL_NAME_MAX];
    int line;
    double input_bytes, output_bytes;
} dv_model;

typedef struct dv_solo {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms, iters;
    double mean_ms, std_ms, p50_ms, p99_ms, power_w, clock_mhz;
} dv_solo;

typedef struct dv_kern {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms, kernels;
    double idle_ms;
} dv_kern;

typedef struct dv_l2 {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms;
    double hit_pct, l2_pct, dram_pct;
} dv_l2;

typedef struct dv_pself {
    char model[MDL_NAME_MAX];
    int mi, line, sms;
    double active_solo_ms, active_pair_ms, power_w, clock_mhz;
} dv_pself;

typedef struct dv_copy {
    int n, line;
    double power_w, clock_mhz, idle_per_kernel_ms;
} dv_copy;

typedef struct dv_member {
    char model[MDL_NAME_MAX];
    int mi, batch, sms, iters;
    double mean_ms, std_ms, p50_ms, p99_ms;
} dv_member;

typedef struct dv_coloc {
    int line, test, n;
    dv_member m[DV_MAX_CO];
    double power_w, clock_mhz;
} dv_coloc;

typedef struct dv_step {
    char name[32];
    int line, ok;
    char error[96];               /* the step's message when it failed */
} dv_step;

typedef struct dv_raw {
    const char *path;
    cJSON *meta;                  /* the last meta record, less "kind" */
    int meta_line, idle_line, pcie_line, end_line, complete;
    char gpu[96];
    int sm_count, align_sms;
    int partition_sms;         /* meta: SMs co-located partitions reach */
    double max_clock_mhz, power_cap_w, idle_power_w, pcie_bytes_per_ms;
    dv_model *model;
    size_t nmodel;
    dv_solo *solo;
    size_t nsolo;
    dv_kern *kern;
    size_t nkern;
    dv_l2 *l2;
    size_t nl2;
    dv_pself *pself;
    size_t npself;
    dv_copy *copy;
    size_t ncopy;
    dv_coloc *coloc;
    size_t ncoloc;
    dv_step *step;
    size_t nstep;
} dv_raw;

/* Appends one zeroed element to a malloc'd array and yields it. */
#define DV_PUSH(arr, n)                                                      \
    ((arr) = ut_xrealloc((arr), ((n) + 1) * sizeof *(arr)),                  \
     memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])

static void raw_free(dv_raw *r)
{
    cJSON_Delete(r->meta);
    free(r->model);
    free(r->solo);
    free(r->kern);
    free(r->l2);
    free(r->pself);
    free(r->copy);
    free(r->coloc);
    free(r->step);
}

/* ---- fields ------------------------------------------------------------- */

/* Model names become JSON keys and file names elsewhere: keep them plain. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MDL_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              *s == '.'))
            return 0;
    return 1;
}

static int get_model(const cJSON *o, const char *where, char *out,
                     ut_err *err)
{
    const char *s;
    if (ut_json_str(o, "model", where, &s, err) < 0)
        return -1;
    if (!name_ok(s))
        return ut_errf(err, "%s.model: expected a name of 1..%d letters, "
                       "digits, '_', '-' or '.', got \"%.40s\"", where,
                       MDL_NAME_MAX - 1, s);
    strcpy(out, s);
    return 0;
}

static int get_int(const cJSON *o, const char *key, const char *where,
                   long lo, long hi, int *out, ut_err *err)
{
    long v;
    if (ut_json_int(o, key, where, lo, hi, &v, err) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* An optional positive number: NAN when absent or null (the capture writes
 * null for a power or clock it could not sample), else it must be > 0. */
static int opt_pos(const cJSON *o, const char *key, const char *where,
                   double *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NAN;
    if (!v || cJSON_IsNull(v))
        return 0;
    return ut_json_pos(o, key, where, out, err);
}

static int opt_nonneg(const cJSON *o, const char *key, const char *where,
                      double *out, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NAN;
    if (!v || cJSON_IsNull(v))
        return 0;
    return ut_json_nonneg(o, key, where, out, err);
}

/* true, false, or the capture's 1 and 0 */
static int get_flag(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsTrue(v) || (cJSON_IsNumber(v) && v->valuedouble != 0);
}

/* ---- one record per kind ------------------------------------------------ */

static int rec_meta(dv_raw *r, const cJSON *o, const char *where, int line,
                    ut_err *err)
{
    const char *gpu;
    int sm, align = 0;
    double clk, cap;
    if (ut_json_str(o, "gpu", where, &gpu, err) ||
        get_int(o, "sm_count", where, 1, 100000, &sm, err) ||
        ut_json_pos(o, "max_clock_mhz", where, &clk, err) ||
        ut_json_pos(o, "power_cap_w", where, &cap, err))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "partition_align_sms") &&
        get_int(o, "partition_align_sms", where, 0, sm, &align, err))
        return -1;
    int psm = 0;
    if (cJSON_GetObjectItemCaseSensitive(o, "partition_sms") &&
        get_int(o, "partition_sms", where, 0, sm, &psm, err))
        return -1;
    if (r->meta && (strcmp(r->gpu, gpu) || r->sm_count != sm))
        return ut_errf(err, "%s.gpu: expected the GPU of line %d (\"%s\", %d "
                       "SMs; one GPU per raw file), got \"%.60s\" with %d SMs",
                       where, r->meta_line, r->gpu, r->sm_count, gpu, sm);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    r->sm_count = sm;
    r->align_sms = align;
    r->partition_sms = psm;
    r->max_clock_mhz = clk;
    r->power_cap_w = cap;
    r->meta_line = line;
    cJSON_Delete(r->meta);
    r->meta = cJSON_Duplicate(o, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(r->meta, "kind");
    return 0;
}

static int rec_pcie(dv_raw *r, const cJSON *o, const char *where, int line,
                    ut_err *err)
{
    double bytes, h2d, d2h;
    if (ut_json_pos(o, "bytes", where, &bytes, err) ||
        ut_json_pos(o, "h2d_ms", where, &h2d, err) ||
        ut_json_pos(o, "d2h_ms", where, &d2h, err))
        return -1;
    /* The model has one bandwidth for both directions; the mean rate over
     * one copy each way is exact when a model's input and output are the
     * same size and close otherwise (SSD-300's output is larger than its
     * input, so neither direction alone would do). */
    r->pcie_bytes_per_ms = 2 * bytes / (h2d + d2h);
    r->pcie_line = line;
    return 0;
}

static int rec_model(dv_raw *r, const cJSON *o, const char *where, int line,
                     ut_err *err)
{
    dv_model m = {.line = line};
    if (get_model(o, where, m.name, err) ||
        ut_json_pos(o, "input_bytes", where, &m.input_bytes, err) ||
        ut_json_nonneg(o, "output_bytes", where, &m.output_bytes, err))
        return -1;
    for (size_t i = 0; i < r->nmodel; i++)
        if (!strcmp(r->model[i].name, m.name)) {
            r->model[i] = m;
            return 0;
        }
    *DV_PUSH(r->model, r->nmodel) = m;
    return 0;
}

static int rec_kernels(dv_raw *r, const cJSON *o, const char *where,
                       int line, ut_err *err)
{
    dv_kern k = {.line = line};
    if (get_model(o, where, k.model, err) ||
        get_int(o, "batch", where, 1, 100000, &k.batch, err) ||
        get_int(o, "sms", where, 1, 100000, &k.sms, err) ||
        get_int(o, "kernels", where, 1, 100000000, &k.kernels, err) ||
        ut_json_nonneg(o, "idle_ms", where, &k.idle_ms, err))
        return -1;
    for (size_t i = 0; i < r->nkern; i++)
        if (!strcmp(r->kern[i].model, k.model) && r->kern[i].batch ==
            k.batch && r->kern[i].sms == k.sms) {
            r->kern[i] = k;
            return 0;
        }
    *DV_PUSH(r->kern, r->nkern) = k;
    return 0;
}

static int rec_solo(dv_raw *r, const cJSON *o, const char *where, int line,
                    ut_err *err)
{
    const cJSON *mech = cJSON_GetObjectItemCaseSensitive(o, "mech");
    if (cJSON_IsString(mech) && strcmp(mech->valuestring, "green"))
        return 0;   /* another sharing mechanism: not this profile's */
    dv_solo s = {.line = line};
    if (get_model(o, where, s.model, err) ||
        get_int(o, "batch", where, 1, 100000, &s.batch, err) ||
        get_int(o, "sms", where, 1, 100000, &s.sms, err) ||
        ut_json_pos(o, "mean_ms", where, &s.mean_ms, err) ||
        ut_json_nonneg(o, "std_ms", where, &s.std_ms, err) ||
        opt_nonneg(o, "p50_ms", where, &s.p50_ms, err) ||
        opt_nonneg(o, "p99_ms", where, &s.p99_ms, err) ||
        opt_pos(o, "power_w", where, &s.power_w, err) ||
        opt_pos(o, "clock_mhz", where, &s.clock_mhz, err))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "iters") &&
        get_int(o, "iters", where, 1, 100000000, &s.iters, err))
        return -1;
    for (size_t i = 0; i < r->nsolo; i++)
        if (!strcmp(r->solo[i].model, s.model) && r->solo[i].batch ==
            s.batch && r->solo[i].sms == s.sms) {
            r->solo[i] = s;
            return 0;
        }
    *DV_PUSH(r->solo, r->nsolo) = s;
    return 0;
}

static int rec_l2(dv_raw *r, const cJSON *o, const char *where, int line,
                  ut_err *err)
{
    dv_l2 q = {.line = line};
    if (get_model(o, where, q.model, err) ||
        get_int(o, "batch", where, 1, 100000, &q.batch, err) ||
        get_int(o, "sms", where, 1, 100000, &q.sms, err) ||
        ut_json_nonneg(o, "l2_util_pct", where, &q.l2_pct, err) ||
        ut_json_nonneg(o, "dram_util_pct", where, &q.dram_pct, err) ||
        opt_nonneg(o, "l2_hit_pct", where, &q.hit_pct, err))
        return -1;
    for (size_t i = 0; i < r->nl2; i++)
        if (!strcmp(r->l2[i].model, q.model) && r->l2[i].batch == q.batch &&
            r->l2[i].sms == q.sms) {
            r->l2[i] = q;
            return 0;
        }
    *DV_PUSH(r->l2, r->nl2) = q;
    return 0;
}

static int rec_pair_self(dv_raw *r, const cJSON *o, const char *where,
                         int line, ut_err *err)
{
    dv_pself q = {.line = line};
    if (get_model(o, where, q.model, err) ||
        get_int(o, "sms", where, 1, 100000, &q.sms, err) ||
        ut_json_pos(o, "active_solo_ms", where, &q.active_solo_ms, err) ||
        ut_json_pos(o, "active_pair_ms", where, &q.active_pair_ms, err) ||
        ut_json_pos(o, "clock_mhz", where, &q.clock_mhz, err) ||
        opt_pos(o, "power_w", where, &q.power_w, err))
        return -1;
    for (size_t i = 0; i < r->npself; i++)
        if (!strcmp(r->pself[i].model, q.model)) {
            r->pself[i] = q;
            return 0;
        }
    *DV_PUSH(r->pself, r->npself) = q;
    return 0;
}

static int rec_copies(dv_raw *r, const cJSON *o, const char *where, int line,
                      ut_err *err)
{
    dv_copy c = {.line = line};
    if (get_int(o, "n", where, 1, MDL_MAX_COPIES, &c.n, err) ||
        ut_json_pos(o, "power_w", where, &c.power_w, err) ||
        ut_json_pos(o, "clock_mhz", where, &c.clock_mhz, err) ||
        ut_json_nonneg(o, "idle_per_kernel_ms", where, &c.idle_per_kernel_ms,
                       err))
        return -1;
    for (size_t i = 0; i < r->ncopy; i++)
        if (r->copy[i].n == c.n) {
            r->copy[i] = c;
            return 0;
        }
    *DV_PUSH(r->copy, r->ncopy) = c;
    return 0;
}

static int rec_coloc(dv_raw *r, const cJSON *o, const char *where, int line,
                     ut_err *err)
{
    dv_coloc c = {.line = line};
    const char *set;
    if (ut_json_str(o, "set", where, &set, err))
        return -1;
    if (strcmp(set, "fit") && strcmp(set, "test"))
        return ut_errf(err, "%s.set: expected \"fit\" or \"test\", got "
                       "\"%.40s\"", where, set);
    c.test = !strcmp(set, "test");
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(o, "members");
    int n = cJSON_IsArray(mem) ? cJSON_GetArraySize(mem) : -1;
    if (n < 2 || n > DV_MAX_CO) {
        char d[64];
        if (n >= 0)
            snprintf(d, sizeof d, "%d members", n);
        return ut_errf(err, "%s.members: expected an array of 2..%d "
                       "members, got %s", where, DV_MAX_CO,
                       n >= 0 ? d : ut_json_describe(mem, d, sizeof d));
    }
    if (!c.test && n != 2)
        return ut_errf(err, "%s.members: expected 2 members in a \"fit\" "
                       "set, got %d", where, n);
    if (cJSON_GetObjectItemCaseSensitive(o, "n")) {
        int k;
        if (get_int(o, "n", where, 2, DV_MAX_CO, &k, err))
            return -1;
        if (k != n)
            return ut_errf(err, "%s.n: expected %d like members, got %d",
                           where, n, k);
    }
    c.n = n;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(mem, i);
        dv_member *m = &c.m[i];
        char w[400];
        snprintf(w, sizeof w, "%s.members[%d]", where, i);
        if (!cJSON_IsObject(e)) {
            char d[64];
            return ut_errf(err, "%s: expected an object, got %s", w,
                           ut_json_describe(e, d, sizeof d));
        }
        if (get_model(e, w, m->model, err) ||
            get_int(e, "batch", w, 1, 100000, &m->batch, err) ||
            get_int(e, "sms", w, 1, 100000, &m->sms, err) ||
            ut_json_pos(e, "mean_ms", w, &m->mean_ms, err) ||
            ut_json_nonneg(e, "std_ms", w, &m->std_ms, err) ||
            opt_nonneg(e, "p50_ms", w, &m->p50_ms, err) ||
            opt_nonneg(e, "p99_ms", w, &m->p99_ms, err))
            return -1;
        if (cJSON_GetObjectItemCaseSensitive(e, "iters") &&
            get_int(e, "iters", w, 1, 100000000, &m->iters, err))
            return -1;
    }
    if (opt_pos(o, "power_w", where, &c.power_w, err) ||
        opt_pos(o, "clock_mhz", where, &c.clock_mhz, err))
        return -1;
    *DV_PUSH(r->coloc, r->ncoloc) = c;
    return 0;
}

static int rec_step(dv_raw *r, const cJSON *o, const char *where, int line,
                    ut_err *err)
{
    const char *name;
    if (ut_json_str(o, "step", where, &name, err))
        return -1;
    dv_step *s = DV_PUSH(r->step, r->nstep);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = line;
    s->ok = get_flag(o, "ok");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (cJSON_IsString(e))
        snprintf(s->error, sizeof s->error, "%s", e->valuestring);
    return 0;
}

/* One line: a JSON object with a "kind". Kinds the derivation does not
 * need (overhead, reconfig, note) and kinds still to come are skipped. */
static int parse_line(dv_raw *r, const char *text, int line, ut_err *err)
{
    cJSON *o = cJSON_ParseWithOpts(text, NULL, 1);
    if (!o) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text ? (size_t)(at - text) : 0;
        char near[24];
        size_t k = 0;
        while (at && k < sizeof near - 1 && at[k] && at[k] != '\r')
            near[k] = at[k], k++;
        near[k] = '\0';
        if (k)
            return ut_errf(err, "%s:%d:%zu: expected valid JSON, got '%s'",
                           r->path, line, off + 1, near);
        return ut_errf(err, "%s:%d:%zu: expected valid JSON, got the end of "
                       "the line", r->path, line, off + 1);
    }
    int rc = 0;
    char where[300], d[64];
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsObject(o)) {
        rc = ut_errf(err, "%s:%d: expected a JSON object, got %s", r->path,
                     line, ut_json_describe(o, d, sizeof d));
    } else if (!cJSON_IsString(kv)) {
        rc = ut_errf(err, "%s:%d: kind: expected a string, got %s%s",
                     r->path, line, ut_json_describe(kv, d, sizeof d),
                     kv ? "" : " (missing field)");
    } else {
        const char *kind = kv->valuestring;
        snprintf(where, sizeof where, "%s:%d: %.20s", r->path, line, kind);
        if (!strcmp(kind, "meta")) {
            rc = rec_meta(r, o, where, line, err);
        } else if (!strcmp(kind, "idle")) {
            rc = ut_json_pos(o, "power_w", where, &r->idle_power_w, err);
            r->idle_line = line;
        } else if (!strcmp(kind, "pcie")) {
            rc = rec_pcie(r, o, where, line, err);
        } else if (!strcmp(kind, "model")) {
            rc = rec_model(r, o, where, line, err);
        } else if (!strcmp(kind, "kernels")) {
            rc = rec_kernels(r, o, where, line, err);
        } else if (!strcmp(kind, "solo")) {
            rc = rec_solo(r, o, where, line, err);
        } else if (!strcmp(kind, "l2")) {
            rc = rec_l2(r, o, where, line, err);
        } else if (!strcmp(kind, "pair_self")) {
            rc = rec_pair_self(r, o, where, line, err);
        } else if (!strcmp(kind, "copies")) {
            rc = rec_copies(r, o, where, line, err);
        } else if (!strcmp(kind, "coloc")) {
            rc = rec_coloc(r, o, where, line, err);
        } else if (!strcmp(kind, "step")) {
            rc = rec_step(r, o, where, line, err);
        } else if (!strcmp(kind, "end")) {
            r->end_line = line;
            r->complete = get_flag(o, "complete");
        }
    }
    cJSON_Delete(o);
    return rc;
}

static int read_raw(dv_raw *r, ut_err *err)
{
    char *text = ut_read_file(r->path, NULL, err);
    if (!text)
        return -1;
    int line = 0, rc = 0;
    char *s = text;
    while (*s && rc == 0) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        const char *p = s;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (*p)
            rc = parse_line(r, s, line, err);
        if (!nl)
            break;
        s = nl + 1;
    }
    free(text);
    return rc;
}

/* ---- putting the records together --------------------------------------- */

/*
 * Why a step's records may be missing, for the message: the step failed,
 * the capture stopped before it (Ctrl-C: "end" with complete false; a
 * crash: no "end" at all), or it was left out with --steps.
 */
static const char *step_hint(const dv_raw *r, const char *step, char *buf,
                             size_t n)
{
    for (size_t i = r->nstep; i-- > 0;) {
        const dv_step *s = &r->step[i];
        if (strcmp(s->name, step))
            continue;
        if (s->ok)
            snprintf(buf, n, "step %s ran (line %d) but recorded none", step,
                     s->line);
        else
            snprintf(buf, n, "step %s failed (line %d)%s%s", step, s->line,
                     s->error[0] ? ": " : "", s->error);
        return buf;
    }
    if (!r->end_line)
        snprintf(buf, n, "step %s did not run: the raw file has no \"end\" "
                 "record, the capture was interrupted", step);
    else if (!r->complete)
        snprintf(buf, n, "step %s did not run: the capture stopped early "
                 "(line %d: end, complete false)", step, r->end_line);
    else
        snprintf(buf, n, "step %s was not run: see igniter-capture run "
                 "--steps", step);
    return buf;
}

static int find_model(const dv_raw *r, const char *name)
{
    for (size_t i = 0; i < r->nmodel; i++)
        if (!strcmp(r->model[i].name, name))
            return (int)i;
    return -1;
}

static int check_model(const dv_raw *r, const char *name, int line,
                       const char *field, int *mi, ut_err *err)
{
    *mi = find_model(r, name);
    if (*mi >= 0)
        return 0;
    char names[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < r->nmodel && len < sizeof names - 1; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                i ? ", " : "", r->model[i].name);
    return ut_errf(err, "%s:%d: %s: expected a model with a \"model\" record "
                   "(%s), got \"%s\"", r->path, line, field, names, name);
}

static int check_sms(const dv_raw *r, int sms, int line, const char *field,
                     ut_err *err)
{
    if (sms <= r->sm_count)
        return 0;
    return ut_errf(err, "%s:%d: %s: expected 1..%d SMs (meta.sm_count), got "
                   "%d", r->path, line, field, r->sm_count, sms);
}

/* Every record names a captured model and fits the GPU. */
static int resolve(dv_raw *r, ut_err *err)
{
    char hint[256];
    if (!r->meta)
        return ut_errf(err, "%s: expected a \"meta\" record, got none (%s)",
                       r->path, step_hint(r, "meta", hint, sizeof hint));
    if (!r->idle_line)
        return ut_errf(err, "%s: expected an \"idle\" record (idle power, "
                       "NVML), got none (%s)", r->path,
                       step_hint(r, "meta", hint, sizeof hint));
    if (!r->pcie_line)
        return ut_errf(err, "%s: expected a \"pcie\" record, got none (%s)",
                       r->path, step_hint(r, "meta", hint, sizeof hint));
    if (!r->nmodel)
        return ut_errf(err, "%s: expected \"model\" records, got none (%s)",
                       r->path, step_hint(r, "meta", hint, sizeof hint));
    for (size_t i = 0; i < r->nsolo; i++)
        if (check_model(r, r->solo[i].model, r->solo[i].line, "solo.model",
                        &r->solo[i].mi, err) ||
            check_sms(r, r->solo[i].sms, r->solo[i].line, "solo.sms", err))
            return -1;
    for (size_t i = 0; i < r->nkern; i++)
        if (check_model(r, r->kern[i].model, r->kern[i].line,
                        "kernels.model", &r->kern[i].mi, err))
            return -1;
    for (size_t i = 0; i < r->nl2; i++)
        if (check_model(r, r->l2[i].model, r->l2[i].line, "l2.model",
                        &r->l2[i].mi, err) ||
            check_sms(r, r->l2[i].sms, r->l2[i].line, "l2.sms", err))
            return -1;
    for (size_t i = 0; i < r->npself; i++)
        if (check_model(r, r->pself[i].model, r->pself[i].line,
                        "pair_self.model", &r->pself[i].mi, err) ||
            check_sms(r, r->pself[i].sms, r->pself[i].line, "pair_self.sms",
                      err))
            return -1;
    for (size_t i = 0; i < r->ncoloc; i++) {
        dv_coloc *c = &r->coloc[i];
        int total = 0;
        for (int k = 0; k < c->n; k++) {
            char f[48];
            snprintf(f, sizeof f, "coloc.members[%d].model", k);
            if (check_model(r, c->m[k].model, c->line, f, &c->m[k].mi, err))
                return -1;
            total += c->m[k].sms;
        }
        if (total > r->sm_count)
            return ut_errf(err, "%s:%d: coloc.members: expected at most %d "
                           "SMs in all (meta.sm_count), got %d", r->path,
                           c->line, r->sm_count, total);
    }
    return 0;
}

/* Share of the GPU (%) of a partition; the whole GPU is exactly 100. */
static double share_of(const dv_raw *r, int sms)
{
    return sms >= r->sm_count ? 100.0 : 100.0 * sms / r->sm_count;
}

/* Distance between two (batch, share) points for "the nearest measured
 * point": log2 batch over its range (1..32, 5 doublings) plus share over
 * 100, so that both axes count alike. */
static double point_dist(double b1, double s1, double b2, double s2)
{
    return fabs(log2(b1 / b2)) / 5 + fabs(s1 - s2) / 100;
}

/* The model's L2 record nearest to (batch, share); NULL if it has none.
 * Ties go to the earlier record. */
static const dv_l2 *nearest_l2(const dv_raw *r, int mi, double batch,
                               double share)
{
    const dv_l2 *best = NULL;
    double bd = INFINITY;
    for (size_t i = 0; i < r->nl2; i++) {
        const dv_l2 *q = &r->l2[i];
        if (q->mi != mi)
            continue;
        double d = point_dist(batch, share, q->batch, share_of(r, q->sms));
        if (d < bd) {
            bd = d;
            best = q;
        }
    }
    return best;
}

static int solo_cmp(const void *a, const void *b)
{
    const dv_solo *x = *(const dv_solo *const *)a;
    const dv_solo *y = *(const dv_solo *const *)b;
    if (x->batch != y->batch)
        return x->batch < y->batch ? -1 : 1;
    if (x->sms != y->sms)
        return x->sms < y->sms ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* The solo records of model mi, by batch then SMs (malloc'd). */
static const dv_solo **solo_of(const dv_raw *r, int mi, size_t *n)
{
    const dv_solo **v = ut_xmalloc((r->nsolo ? r->nsolo : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < r->nsolo; i++)
        if (r->solo[i].mi == mi)
            v[k++] = &r->solo[i];
    qsort(v, k, sizeof *v, solo_cmp);
    *n = k;
    return v;
}

/* "NVIDIA H100 80GB HBM3" -> "H100", "Tesla V100-SXM2-16GB" -> "V100",
 * "NVIDIA RTX A6000" -> "RTX A6000": the vendor and family words dropped,
 * then the first word up to a space or '-', with the next word when the
 * first has no digit. */
static void short_gpu_name(const char *full, char *out, size_t n)
{
    static const char *drop[] = {"NVIDIA ", "Tesla ", "GeForce ", "Quadro "};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
            if (!strncmp(full, drop[i], strlen(drop[i]))) {
                full += strlen(drop[i]);
                again = 1;
            }
    }
    size_t k = strcspn(full, " -");
    int digit = 0;
    for (size_t i = 0; i < k; i++)
        digit |= full[i] >= '0' && full[i] <= '9';
    if (!digit && full[k] == ' ' && full[k + 1])
        k += 1 + strcspn(full + k + 1, " -");
    snprintf(out, n, "%.*s", (int)k, full);
}

/* A GPU name goes into JSON as is: no quotes, backslashes or controls. */
static int gpu_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MDL_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static int build_copies(const dv_raw *r, mdl_profile *p, ut_err *err)
{
    char hint[256];
    size_t n = 0;
    for (size_t want = 1; want <= MDL_MAX_COPIES; want++) {
        const dv_copy *c = NULL;
        for (size_t i = 0; i < r->ncopy; i++)
            if (r->copy[i].n == (int)want)
                c = &r->copy[i];
        if (!c)
            break;
        p->copies_power_w[n] = c->power_w;
        p->copies_clock_mhz[n] = c->clock_mhz;
        p->copies_idle_ms[n] = c->idle_per_kernel_ms;
        n++;
    }
    if (n < 2 || n < r->ncopy)
        return ut_errf(err, "%s: expected \"copies\" records for n = 1, 2, "
                       "... without a gap (at least 2), got %zu record%s and "
                       "n = %zu missing (%s)", r->path, r->ncopy,
                       r->ncopy == 1 ? "" : "s", n + 1,
                       step_hint(r, "copies", hint, sizeof hint));
    p->ncopies = n;
    return 0;
}

/* One model of the profile: the batch-1 kernel record, the solo points
 * that have power and clock, the L2 points on solo points, the pair. */
static int build_model(const dv_raw *r, int mi, mdl_model_profile *m,
                       ut_err *err)
{
    const dv_model *dm = &r->model[mi];
    char hint[256];
    strcpy(m->name, dm->name);
    m->input_bytes = dm->input_bytes;
    m->output_bytes = dm->output_bytes;

    const dv_kern *kr = NULL;
    for (size_t i = 0; i < r->nkern; i++) {
        const dv_kern *k = &r->kern[i];
        if (k->mi == mi && k->batch == 1 &&
            (!kr || (k->sms == r->sm_count && kr->sms != r->sm_count)))
            kr = k;
    }
    if (!kr)
        return ut_errf(err, "%s: %s: expected a \"kernels\" record at batch "
                       "1, got none (%s)", r->path, dm->name,
                       step_hint(r, "kernels", hint, sizeof hint));
    m->kernels = kr->kernels;
    m->idle_ms = kr->idle_ms;

    size_t ns, unpowered = 0;
    const dv_solo **s = solo_of(r, mi, &ns);
    m->grid = ut_xcalloc(ns ? ns : 1, sizeof *m->grid);
    double per_req_ms = (dm->input_bytes + dm->output_bytes) /
                        r->pcie_bytes_per_ms;
    for (size_t i = 0; i < ns; i++) {
        if (!isfinite(s[i]->power_w) || !isfinite(s[i]->clock_mhz)) {
            unpowered++;
            continue;
        }
        /* The model adds the transfers to the GPU time it predicts, so the
         * profile holds the measured latency less the same transfer time:
         * the prediction of a solo point is then what was measured. */
        double xfer = s[i]->batch * per_req_ms;
        if (!(s[i]->mean_ms > xfer)) {
            const dv_solo *x = s[i];
            free(s);
            return ut_errf(err, "%s:%d: solo.mean_ms: expected more than the "
                           "PCIe transfer time of batch %d (%g ms), got %g",
                           r->path, x->line, x->batch, xfer, x->mean_ms);
        }
        mdl_grid_point *g = &m->grid[m->ngrid++];
        g->batch = s[i]->batch;
        g->share_pct = share_of(r, s[i]->sms);
        g->latency_ms = s[i]->mean_ms - xfer;
        g->power_w = s[i]->power_w;
        g->clock_mhz = s[i]->clock_mhz;
    }
    free(s);
    if (m->ngrid < DV_MIN_SOLO) {
        if (ns >= DV_MIN_SOLO)
            return ut_errf(err, "%s: %s: expected at least %d solo points "
                           "with power and clock, got %zu (%zu without: no "
                           "NVML sample in their window)", r->path, dm->name,
                           DV_MIN_SOLO, m->ngrid, unpowered);
        return ut_errf(err, "%s: %s: expected at least %d \"solo\" records, "
                       "got %zu (%s)", r->path, dm->name, DV_MIN_SOLO, ns,
                       step_hint(r, "solo", hint, sizeof hint));
    }

    /* L2 points sit on solo points (the fit looks their throughput up
     * there): each record goes to the nearest solo point. */
    size_t nq = 0;
    for (size_t i = 0; i < r->nl2; i++)
        nq += r->l2[i].mi == mi;
    if (nq < DV_MIN_L2)
        return ut_errf(err, "%s: %s: expected at least %d \"l2\" records, got "
                       "%zu (%s)", r->path, dm->name, DV_MIN_L2, nq,
                       step_hint(r, "l2", hint, sizeof hint));
    m->l2 = ut_xcalloc(nq, sizeof *m->l2);
    for (size_t i = 0; i < r->nl2; i++) {
        const dv_l2 *q = &r->l2[i];
        if (q->mi != mi)
            continue;
        const mdl_grid_point *best = NULL;
        double bd = INFINITY;
        for (size_t j = 0; j < m->ngrid; j++) {
            double d = point_dist(q->batch, share_of(r, q->sms),
                                  m->grid[j].batch, m->grid[j].share_pct);
            if (d < bd) {
                bd = d;
                best = &m->grid[j];
            }
        }
        if (!best)      /* only with a NaN share: refused earlier */
            return ut_errf(err, "%s: %s: no solo point near the l2 record "
                           "of batch %d on %d SMs", r->path, dm->name,
                           q->batch, q->sms);
        mdl_l2_point *lp = &m->l2[m->nl2++];
        lp->batch = best->batch;
        lp->share_pct = best->share_pct;
        lp->util_pct = q->l2_pct;
    }

    const dv_pself *ps = NULL;
    for (size_t i = 0; i < r->npself; i++)
        if (r->pself[i].mi == mi)
            ps = &r->pself[i];
    if (!ps)
        return ut_errf(err, "%s: %s: expected a \"pair_self\" record, got "
                       "none (%s)", r->path, dm->name,
                       step_hint(r, "pair_self", hint, sizeof hint));
    m->active_solo_ms = ps->active_solo_ms;
    m->active_pair_ms = ps->active_pair_ms;
    m->clock_pair_mhz = ps->clock_mhz;
    m->power_pair_w = ps->power_w;
    /* The copy beside it runs batch 1 on the other partition: its L2 use
     * is that of the nearest L2 record to (1, its share). */
    const dv_l2 *q = nearest_l2(r, mi, 1, share_of(r, ps->sms));
    if (!(q->l2_pct > 0))
        return ut_errf(err, "%s:%d: l2.l2_util_pct: expected a positive L2 "
                       "use for %s's pair (the L2 sensitivity divides by "
                       "it), got %g", r->path, q->line, dm->name, q->l2_pct);
    m->pair_l2_util_pct = q->l2_pct;
    return 0;
}

static int build_profile(const dv_raw *r, const char *gpu_name,
                         double price_per_hour, mdl_profile *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    char name[96];
    if (gpu_name)
        snprintf(name, sizeof name, "%s", gpu_name);
    else
        short_gpu_name(r->gpu, name, sizeof name);
    if (!gpu_name_ok(name))
        return ut_errf(err, "%s: GPU name: expected 1..%d characters without "
                       "quotes or backslashes, got \"%.40s\"%s", r->path,
                       MDL_NAME_MAX - 1, name,
                       gpu_name ? "" : " (from meta.gpu; give one)");
    strcpy(p->gpu, name);
    p->max_clock_mhz = r->max_clock_mhz;
    p->power_cap_w = r->power_cap_w;
    p->idle_power_w = r->idle_power_w;
    int step = r->align_sms > 0 ? r->align_sms : DV_STEP_SMS;
    p->share_unit_pct = 100.0 * step / r->sm_count;
    p->pcie_bytes_per_ms = r->pcie_bytes_per_ms;
    p->price_per_hour = price_per_hour > 0 ? price_per_hour : 0;
    p->sm_count = r->sm_count;
    /* co-located partitions together reach partition_sms of the SMs */
    if (r->partition_sms > 0 && r->partition_sms < r->sm_count)
        p->colocated_pct = 100.0 * r->partition_sms / r->sm_count;
    if (build_copies(r, p, err) < 0)
        return -1;
    p->models = ut_xcalloc(r->nmodel, sizeof *p->models);
    for (size_t i = 0; i < r->nmodel; i++) {
        p->nmodels = i + 1;
        if (build_model(r, (int)i, &p->models[i], err) < 0)
            return -1;
    }
    return 0;
}

/* The profile's text with the provenance ("meta": the capture's meta
 * record, whether it completed, what derived it) after "version". */
static char *profile_text(const dv_raw *r, const mdl_profile *p)
{
    char *body = mdl_profile_to_json(p);
    cJSON *meta = cJSON_Duplicate(r->meta, 1);
    cJSON_AddBoolToObject(meta, "capture_complete",
                          r->end_line && r->complete);
    const char *base = strrchr(r->path, '/');
    cJSON_AddStringToObject(meta, "raw", base ? base + 1 : r->path);
    cJSON_AddStringToObject(meta, "derived_by", "igniter derive "
                            IGNITER_VERSION);
    char *mj = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    static const char anchor[] = "  \"version\": 1,\n";
    char *at = strstr(body, anchor);
    ut_buf b = {0};
    if (!at) {
        /* mdl_profile_to_json always writes the anchor; without it, keep
         * the profile and lose only the provenance */
        ut_buf_printf(&b, "%s", body);
    } else {
        at += sizeof anchor - 1;
        ut_buf_printf(&b, "%.*s  \"meta\": %s,\n%s", (int)(at - body), body,
                      mj ? mj : "{}", at);
    }
    free(mj);
    free(body);
    return b.s;
}

/* ---- measured files ----------------------------------------------------- */

enum { T_LATENCY, T_THROUGHPUT, T_L2, T_DRAM, T_STD, T_N };
static const char *const table_name[T_N] = {"latency", "throughput",
                                            "l2cache", "dram", "std"};

/*
 * The solo tables, one line per model and table, as in
 * traces/v100/measured-colocation.jsonl: {"M": {"latency": {"BATCH":
 * {"SHARE": ms}}}}, then throughput (req/s, batch / mean latency: the runs
 * are closed-loop, one batch after another), l2cache and dram (%: the
 * nearest ncu point of the model, as gpu-lets+ reads them per cell), and
 * std (ms; an addition: loaders skip tables they do not know). Shares are
 * written in full precision, so that pair rows of the same partition name
 * the same share. Batches above MDL_MAX_BATCH are not in the tables.
 */
static int solo_tables(const dv_raw *r, ut_buf *b, ut_err *err)
{
    char d1[32], d2[32];
    for (size_t mi = 0; mi < r->nmodel; mi++) {
        size_t ns, nsh = 0;
        const dv_solo **s = solo_of(r, (int)mi, &ns);
        int sms_seen[MDL_MEAS_SHARES + 1];
        for (size_t i = 0; i < ns; i++) {
            size_t j = 0;
            while (j < nsh && sms_seen[j] != s[i]->sms)
                j++;
            if (j == nsh && s[i]->batch <= MDL_MAX_BATCH) {
                if (nsh == MDL_MEAS_SHARES) {
                    const dv_solo *x = s[i];
                    free(s);
                    return ut_errf(err, "%s:%d: solo.sms: expected at most "
                                   "%d partition sizes per model (the "
                                   "measured tables' limit), got a %dth: %d",
                                   r->path, x->line, MDL_MEAS_SHARES,
                                   MDL_MEAS_SHARES + 1, x->sms);
                }
                sms_seen[nsh++] = s[i]->sms;
            }
        }
        int have_l2 = nearest_l2(r, (int)mi, 1, 100) != NULL;
        for (int t = 0; t < T_N; t++) {
            if ((t == T_L2 || t == T_DRAM) && !have_l2)
                continue;
            ut_buf_printf(b, "{\"%s\": {\"%s\": {", r->model[mi].name,
                          table_name[t]);
            int row = -1;
            for (size_t i = 0; i < ns; i++) {
                const dv_solo *x = s[i];
                if (x->batch > MDL_MAX_BATCH)
                    continue;
                if (x->batch != row)
                    ut_buf_printf(b, "%s\"%d\": {", row < 0 ? "" : "}, ",
                                  x->batch);
                double share = share_of(r, x->sms), v;
                const dv_l2 *q = nearest_l2(r, (int)mi, x->batch, share);
                switch (t) {
                case T_LATENCY: v = x->mean_ms; break;
                case T_THROUGHPUT: v = 1000.0 * x->batch / x->mean_ms; break;
                case T_L2: v = q->l2_pct; break;
                case T_DRAM: v = q->dram_pct; break;
                default: v = x->std_ms; break;
                }
                ut_buf_printf(b, "%s\"%s\": %s", x->batch == row ? ", " : "",
                              ut_fmt_double(share, d1), ut_fmt_double(v, d2));
                row = x->batch;
            }
            ut_buf_printf(b, "%s}}}\n", row < 0 ? "" : "}");
        }
        free(s);
    }
    return 0;
}

/*
 * The pairs of one set, as the V100 file's "interference": latency and std
 * rows [model_a, model_b, batch_a, batch_b, share_a, a, b], the first
 * member as a. The format gives b 100 - share_a; green-context partitions
 * need not add up to the whole GPU (the rest partition is rounded to the
 * driver's step), so b's real share goes alongside, row by row, in
 * "share_b_pct" (loaders skip it).
 */
static size_t pair_rows(const dv_raw *r, int test, ut_buf *b, ut_err *err)
{
    size_t n = 0;
    ut_buf lat = {0}, sd = {0}, sb = {0};
    char d[6][32];
    for (size_t i = 0; i < r->ncoloc; i++) {
        const dv_coloc *c = &r->coloc[i];
        if (c->test != test || c->n != 2)
            continue;
        const dv_member *x = &c->m[0], *y = &c->m[1];
        double sa = share_of(r, x->sms);
        if (!(sa < 100)) {
            ut_errf(err, "%s:%d: coloc.members[0].sms: expected fewer than "
                    "%d SMs in a pair, got %d", r->path, c->line,
                    r->sm_count, x->sms);
            n = (size_t)-1;
            break;
        }
        const char *sep = n ? ", " : "";
        ut_buf_printf(&lat, "%s[\"%s\", \"%s\", %d, %d, %s, %s, %s]", sep,
                      x->model, y->model, x->batch, y->batch,
                      ut_fmt_double(sa, d[0]), ut_fmt_double(x->mean_ms, d[1]),
                      ut_fmt_double(y->mean_ms, d[2]));
        ut_buf_printf(&sd, "%s[\"%s\", \"%s\", %d, %d, %s, %s, %s]", sep,
                      x->model, y->model, x->batch, y->batch, d[0],
                      ut_fmt_double(x->std_ms, d[3]),
                      ut_fmt_double(y->std_ms, d[4]));
        ut_buf_printf(&sb, "%s%s", n ? ", " : "",
                      ut_fmt_double(share_of(r, y->sms), d[5]));
        n++;
    }
    if (n && n != (size_t)-1)
        ut_buf_printf(b, "{\"interference\": {\"latency\": [%s]}}\n"
                      "{\"interference\": {\"std\": [%s]}}\n"
                      "{\"interference\": {\"share_b_pct\": [%s]}}\n",
                      lat.s, sd.s, sb.s);
    ut_buf_free(&lat);
    ut_buf_free(&sd);
    ut_buf_free(&sb);
    return n;
}

/*
 * colocations-multi.jsonl: one held-out run of 3 or more workloads per
 * line, shaped so that `igniter predict --input` reads it as is:
 *   {"n": 3, "colocate": [{"model", "batch", "resource_pct", "sms",
 *    "latency_ms", "std_ms", "p50_ms", "p99_ms", "iters"}, ...],
 *    "power_w", "clock_mhz", "raw_line"}
 * latency_ms is the measured mean, like the pair files'; resource_pct the
 * member's share of the GPU; power and clock only where NVML sampled.
 */
static void multi_lines(const dv_raw *r, ut_buf *b)
{
    char d[32];
    for (size_t i = 0; i < r->ncoloc; i++) {
        const dv_coloc *c = &r->coloc[i];
        if (!c->test || c->n < 3)
            continue;
        ut_buf_printf(b, "{\"n\": %d, \"colocate\": [", c->n);
        for (int k = 0; k < c->n; k++) {
            const dv_member *m = &c->m[k];
            ut_buf_printf(b, "%s{\"model\": \"%s\", \"batch\": %d, "
                          "\"resource_pct\": %s, \"sms\": %d", k ? ", " : "",
                          m->model, m->batch,
                          ut_fmt_double(share_of(r, m->sms), d), m->sms);
            ut_buf_printf(b, ", \"latency_ms\": %s",
                          ut_fmt_double(m->mean_ms, d));
            ut_buf_printf(b, ", \"std_ms\": %s", ut_fmt_double(m->std_ms, d));
            if (isfinite(m->p50_ms))
                ut_buf_printf(b, ", \"p50_ms\": %s",
                              ut_fmt_double(m->p50_ms, d));
            if (isfinite(m->p99_ms))
                ut_buf_printf(b, ", \"p99_ms\": %s",
                              ut_fmt_double(m->p99_ms, d));
            if (m->iters)
                ut_buf_printf(b, ", \"iters\": %d", m->iters);
            ut_buf_printf(b, "}");
        }
        ut_buf_printf(b, "]");
        if (isfinite(c->power_w))
            ut_buf_printf(b, ", \"power_w\": %s",
                          ut_fmt_double(c->power_w, d));
        if (isfinite(c->clock_mhz))
            ut_buf_printf(b, ", \"clock_mhz\": %s",
                          ut_fmt_double(c->clock_mhz, d));
        ut_buf_printf(b, ", \"raw_line\": %d}\n", c->line);
    }
}

/* ---- writing ------------------------------------------------------------ */

enum { F_PROFILE, F_MEASURED, F_HELDOUT, F_MULTI, F_N };
static const char *const out_name[F_N] = {
    "profile.json", "measured-colocation.jsonl", "measured-heldout.jsonl",
    "colocations-multi.jsonl"};

/* Loads back what was staged with the project's own loaders: a file that
 * does not load is a bug here, and must not reach the output folder. */
static int check_staged(const char *dir, ut_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, out_name[F_PROFILE]);
    mdl_profile p;
    if (mdl_profile_load(path, &p, err) < 0)
        return ut_errprefix(err, "derived %s does not load",
                            out_name[F_PROFILE]);
    mdl_profile_free(&p);
    for (int f = F_MEASURED; f <= F_HELDOUT; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, out_name[f]);
        mdl_measured m;
        if (mdl_measured_load(path, &m, err) < 0)
            return ut_errprefix(err, "derived %s does not load", out_name[f]);
        mdl_measured_free(&m);
    }
    return 0;
}

/*
 * All or nothing: the files go to a fresh folder inside out_dir (same file
 * system), are loaded back, then renamed into out_dir one by one. A rename
 * within one folder does not fail for want of space, so the window where
 * only some files are new is a crash between renames. On failure the
 * staging folder goes, and so does out_dir if this call made it.
 */
static int write_all(const char *out_dir, char *const text[F_N],
                     ut_err *err)
{
    struct stat st;
    int existed = stat(out_dir, &st) == 0;
    if (ut_mkdir_p(out_dir, err) < 0)
        return -1;
    size_t n = strlen(out_dir);
    char *stage = ut_xmalloc(n + 32);
    snprintf(stage, n + 32, "%s/.derive-XXXXXX", out_dir);
    if (!mkdtemp(stage)) {
        ut_errf(err, "cannot write into '%s': %s", out_dir, strerror(errno));
        free(stage);
        if (!existed)
            rmdir(out_dir);
        return -1;
    }
    char from[4096], to[4096];
    int rc = 0, f;
    for (f = 0; f < F_N && rc == 0; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        rc = ut_write_atomic(from, text[f], strlen(text[f]), err);
    }
    if (rc == 0)
        rc = check_staged(stage, err);
    for (f = 0; f < F_N && rc == 0; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        snprintf(to, sizeof to, "%s/%s", out_dir, out_name[f]);
        if (rename(from, to) < 0)
            rc = ut_errf(err, "cannot write '%s': %s", to, strerror(errno));
    }
    for (f = 0; f < F_N; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        unlink(from);
    }
    rmdir(stage);
    free(stage);
    if (rc < 0 && !existed)
        rmdir(out_dir);
    return rc;
}

int cap_derive(const char *raw_path, const char *out_dir,
               const char *gpu_name, double price_per_hour, ut_err *err)
{
    dv_raw r;
    memset(&r, 0, sizeof r);
    r.path = raw_path;
    mdl_profile p;
    memset(&p, 0, sizeof p);
    char *text[F_N] = {NULL, NULL, NULL, NULL};
    ut_buf solo = {0}, b = {0};
    char hint[256];
    int rc = -1;
    if (read_raw(&r, err) < 0 || resolve(&r, err) < 0 ||
        build_profile(&r, gpu_name, price_per_hour, &p, err) < 0 ||
        solo_tables(&r, &solo, err) < 0)
        goto out;
    text[F_PROFILE] = profile_text(&r, &p);
    ut_buf_printf(&b, "%s", solo.s);
    size_t nfit = pair_rows(&r, 0, &b, err);
    text[F_MEASURED] = b.s;
    b = (ut_buf){0};
    if (nfit == (size_t)-1)
        goto out;
    if (nfit == 0) {
        ut_errf(err, "%s: expected co-located pairs of the \"fit\" set, got "
                "none (%s)", raw_path,
                step_hint(&r, "coloc", hint, sizeof hint));
        goto out;
    }
    ut_buf_printf(&b, "%s", solo.s);
    if (pair_rows(&r, 1, &b, err) == (size_t)-1) {
        ut_buf_free(&b);
        goto out;
    }
    text[F_HELDOUT] = b.s;
    b = (ut_buf){0};
    multi_lines(&r, &b);
    ut_buf_printf(&b, "%s", "");   /* an empty file is still a file */
    text[F_MULTI] = b.s;
    rc = write_all(out_dir, text, err);
out:
    for (int f = 0; f < F_N; f++)
        free(text[f]);
    ut_buf_free(&solo);
    mdl_profile_free(&p);
    raw_free(&r);
    return rc;
}
