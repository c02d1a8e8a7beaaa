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
 * against the one schema of raw records (capture/record.c; errors name the
 * line and the field), then the records are put together (errors name the
 * model and the capture step that should have produced what is missing).
 * What is written, and how (derive_out.c, cap_derive): nothing until all
 * four files are made in memory, written to a folder of their own inside
 * the output folder and loaded back with the project's loaders; only then
 * are they renamed into place.
 */
#include "capture/derive_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema's limits are the profile's (capture.h cannot include model/) */
_Static_assert(CAP_REC_NAME_MAX == MDL_NAME_MAX, "model names");
_Static_assert(CAP_REC_MAX_COPIES == MDL_MAX_COPIES, "copies runs");

void dv_raw_free(dv_raw *r)
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

/* ---- one record per kind ------------------------------------------------ */

/* The schema (capture/record.c) has checked every field these read: a
 * needed one is there and valid, an optional one is unset (NAN) or valid.
 * What is left here is what one record cannot say alone: the same GPU on
 * every meta line, a set's members, a later record of a point replacing
 * an earlier one. */

static double num(const cap_rec *v, const char *f)
{
    return cap_rec_get(v, f)->num;
}

/* A whole number, 0 when unset. */
static int whole(const cap_rec_val *x)
{
    return x->set ? (int)x->num : 0;
}

static int rec_meta(dv_raw *r, const cap_rec *v, const cJSON *o,
                    const char *where, int line, ut_err *err)
{
    const char *gpu = cap_rec_get(v, "gpu")->str;
    int sm = whole(cap_rec_get(v, "sm_count"));
    if (r->meta && (strcmp(r->gpu, gpu) || r->sm_count != sm))
        return ut_errf(err, "%s.gpu: expected the GPU of line %d (\"%s\", %d "
                       "SMs; one GPU per raw file), got \"%.60s\" with %d SMs",
                       where, r->meta_line, r->gpu, r->sm_count, gpu, sm);
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    r->sm_count = sm;
    r->align_sms = whole(cap_rec_get(v, "partition_align_sms"));
    r->partition_sms = whole(cap_rec_get(v, "partition_sms"));
    r->max_clock_mhz = num(v, "max_clock_mhz");
    r->power_cap_w = num(v, "power_cap_w");
    r->meta_line = line;
    cJSON_Delete(r->meta);
    r->meta = cJSON_Duplicate(o, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(r->meta, "kind");
    return 0;
}

static int rec_idle(dv_raw *r, const cap_rec *v, int line)
{
    r->idle_power_w = num(v, "power_w");
    r->idle_line = line;
    return 0;
}

static int rec_pcie(dv_raw *r, const cap_rec *v, int line)
{
    /* The model has one bandwidth for both directions; the mean rate over
     * one copy each way is exact when a model's input and output are the
     * same size and close otherwise (SSD-300's output is larger than its
     * input, so neither direction alone would do). */
    r->pcie_bytes_per_ms = 2 * num(v, "bytes") /
                           (num(v, "h2d_ms") + num(v, "d2h_ms"));
    r->pcie_line = line;
    return 0;
}

static int rec_model(dv_raw *r, const cap_rec *v, int line)
{
    dv_model m = {.line = line};
    snprintf(m.name, sizeof m.name, "%s", cap_rec_get(v, "model")->str);
    m.input_bytes = num(v, "input_bytes");
    m.output_bytes = num(v, "output_bytes");
    for (size_t i = 0; i < r->nmodel; i++)
        if (!strcmp(r->model[i].name, m.name)) {
            r->model[i] = m;
            return 0;
        }
    *DV_PUSH(r->model, r->nmodel) = m;
    return 0;
}

/* Model, batch and SMs of a record (or of member i >= 0): the key of a
 * measured point. */
static void point_of(const cap_rec *v, int i, char *model, int *batch,
                     int *sms)
{
    const cap_rec_val *m = i < 0 ? cap_rec_get(v, "model")
                                 : cap_rec_member_get(v, i, "model");
    snprintf(model, MDL_NAME_MAX, "%s", m->str);
    *batch = whole(i < 0 ? cap_rec_get(v, "batch")
                         : cap_rec_member_get(v, i, "batch"));
    *sms = whole(i < 0 ? cap_rec_get(v, "sms")
                       : cap_rec_member_get(v, i, "sms"));
}

static int rec_kernels(dv_raw *r, const cap_rec *v, int line)
{
    dv_kern k = {.line = line};
    point_of(v, -1, k.model, &k.batch, &k.sms);
    k.kernels = whole(cap_rec_get(v, "kernels"));
    k.idle_ms = num(v, "idle_ms");
    for (size_t i = 0; i < r->nkern; i++)
        if (!strcmp(r->kern[i].model, k.model) && r->kern[i].batch ==
            k.batch && r->kern[i].sms == k.sms) {
            r->kern[i] = k;
            return 0;
        }
    *DV_PUSH(r->kern, r->nkern) = k;
    return 0;
}

static int rec_solo(dv_raw *r, const cap_rec *v, int line)
{
    dv_solo s = {.line = line};
    point_of(v, -1, s.model, &s.batch, &s.sms);
    s.mean_ms = num(v, "mean_ms");
    s.std_ms = num(v, "std_ms");
    s.p50_ms = num(v, "p50_ms");
    s.p99_ms = num(v, "p99_ms");
    s.power_w = num(v, "power_w");
    s.clock_mhz = num(v, "clock_mhz");
    s.iters = whole(cap_rec_get(v, "iters"));
    const double *q = cap_rec_get_quant(v, -1);
    if (q) {
        s.has_q = 1;
        memcpy(s.q_ms, q, sizeof s.q_ms);
    }
    for (size_t i = 0; i < r->nsolo; i++)
        if (!strcmp(r->solo[i].model, s.model) && r->solo[i].batch ==
            s.batch && r->solo[i].sms == s.sms) {
            r->solo[i] = s;
            return 0;
        }
    *DV_PUSH(r->solo, r->nsolo) = s;
    return 0;
}

static int rec_l2(dv_raw *r, const cap_rec *v, int line)
{
    dv_l2 q = {.line = line};
    point_of(v, -1, q.model, &q.batch, &q.sms);
    q.l2_pct = num(v, "l2_util_pct");
    q.dram_pct = num(v, "dram_util_pct");
    q.hit_pct = num(v, "l2_hit_pct");
    for (size_t i = 0; i < r->nl2; i++)
        if (!strcmp(r->l2[i].model, q.model) && r->l2[i].batch == q.batch &&
            r->l2[i].sms == q.sms) {
            r->l2[i] = q;
            return 0;
        }
    *DV_PUSH(r->l2, r->nl2) = q;
    return 0;
}

static int rec_pair_self(dv_raw *r, const cap_rec *v, int line)
{
    dv_pself q = {.line = line};
    snprintf(q.model, sizeof q.model, "%s", cap_rec_get(v, "model")->str);
    q.sms = whole(cap_rec_get(v, "sms"));
    q.active_solo_ms = num(v, "active_solo_ms");
    q.active_pair_ms = num(v, "active_pair_ms");
    q.clock_mhz = num(v, "clock_mhz");
    q.power_w = num(v, "power_w");
    for (size_t i = 0; i < r->npself; i++)
        if (!strcmp(r->pself[i].model, q.model)) {
            r->pself[i] = q;
            return 0;
        }
    *DV_PUSH(r->pself, r->npself) = q;
    return 0;
}

static int rec_copies(dv_raw *r, const cap_rec *v, int line)
{
    dv_copy c = {.line = line};
    c.n = whole(cap_rec_get(v, "n"));
    c.power_w = num(v, "power_w");
    c.clock_mhz = num(v, "clock_mhz");
    c.idle_per_kernel_ms = num(v, "idle_per_kernel_ms");
    for (size_t i = 0; i < r->ncopy; i++)
        if (r->copy[i].n == c.n) {
            r->copy[i] = c;
            return 0;
        }
    *DV_PUSH(r->copy, r->ncopy) = c;
    return 0;
}

static int rec_coloc(dv_raw *r, const cap_rec *v, const char *where,
                     int line, ut_err *err)
{
    dv_coloc c = {.line = line};
    c.test = !strcmp(cap_rec_get(v, "set")->str, "test");
    c.n = v->nmembers;
    if (!c.test && c.n != 2)
        return ut_errf(err, "%s.members: expected 2 members in a \"fit\" "
                       "set, got %d", where, c.n);
    const cap_rec_val *n = cap_rec_get(v, "n");
    if (n->set && whole(n) != c.n)
        return ut_errf(err, "%s.n: expected %d like members, got %d", where,
                       c.n, whole(n));
    for (int i = 0; i < c.n; i++) {
        dv_member *m = &c.m[i];
        point_of(v, i, m->model, &m->batch, &m->sms);
        m->mean_ms = cap_rec_member_get(v, i, "mean_ms")->num;
        m->std_ms = cap_rec_member_get(v, i, "std_ms")->num;
        m->p50_ms = cap_rec_member_get(v, i, "p50_ms")->num;
        m->p99_ms = cap_rec_member_get(v, i, "p99_ms")->num;
        m->iters = whole(cap_rec_member_get(v, i, "iters"));
        const double *q = cap_rec_get_quant(v, i);
        if (q) {
            m->has_q = 1;
            memcpy(m->q_ms, q, sizeof m->q_ms);
        }
    }
    c.power_w = num(v, "power_w");
    c.clock_mhz = num(v, "clock_mhz");
    *DV_PUSH(r->coloc, r->ncoloc) = c;
    return 0;
}

static int rec_step(dv_raw *r, const cap_rec *v, int line)
{
    dv_step *s = DV_PUSH(r->step, r->nstep);
    snprintf(s->name, sizeof s->name, "%s", cap_rec_get(v, "step")->str);
    s->line = line;
    s->ok = whole(cap_rec_get(v, "ok"));
    const char *e = cap_rec_get(v, "error")->str;
    if (e)
        snprintf(s->error, sizeof s->error, "%s", e);
    return 0;
}

static int rec_end(dv_raw *r, const cap_rec *v, int line)
{
    r->end_line = line;
    r->complete = whole(cap_rec_get(v, "complete"));
    return 0;
}

/* The kinds derive reads, and the shape each is checked against. A
 * "solo" or "coloc" of another mechanism (MPS) is not this profile's:
 * left out before it is checked (`igniter derive` reads the MPS records
 * on its own, model/mps.c). Kinds the derivation does not need (overhead,
 * reconfig, note) and kinds still to come are skipped. */
static const struct {
    const char *kind;
    cap_rec_id id;
    int green_only;
} reads[] = {
    {"meta", CAP_REC_META, 0},       {"idle", CAP_REC_IDLE, 0},
    {"pcie", CAP_REC_PCIE, 0},       {"model", CAP_REC_MODEL, 0},
    {"kernels", CAP_REC_KERNELS, 0}, {"solo", CAP_REC_SOLO, 1},
    {"l2", CAP_REC_L2, 0},           {"pair_self", CAP_REC_PAIR_SELF, 0},
    {"copies", CAP_REC_COPIES, 0},   {"coloc", CAP_REC_COLOC, 1},
    {"step", CAP_REC_STEP, 0},       {"end", CAP_REC_END, 0},
};

static int read_record(dv_raw *r, const cJSON *o, const char *kind,
                       int line, ut_err *err)
{
    size_t k = 0, nk = sizeof reads / sizeof reads[0];
    while (k < nk && strcmp(reads[k].kind, kind))
        k++;
    if (k == nk)
        return 0;
    const cJSON *mech = cJSON_GetObjectItemCaseSensitive(o, "mech");
    if (reads[k].green_only && cJSON_IsString(mech) &&
        strcmp(mech->valuestring, "green"))
        return 0;
    char where[300];
    snprintf(where, sizeof where, "%s:%d: %.20s", r->path, line, kind);
    cap_rec *v = ut_xmalloc(sizeof *v);
    int rc = cap_rec_read(o, reads[k].id, where, v, err);
    if (rc == 0) {
        switch (reads[k].id) {
        case CAP_REC_META: rc = rec_meta(r, v, o, where, line, err); break;
        case CAP_REC_IDLE: rc = rec_idle(r, v, line); break;
        case CAP_REC_PCIE: rc = rec_pcie(r, v, line); break;
        case CAP_REC_MODEL: rc = rec_model(r, v, line); break;
        case CAP_REC_KERNELS: rc = rec_kernels(r, v, line); break;
        case CAP_REC_SOLO: rc = rec_solo(r, v, line); break;
        case CAP_REC_L2: rc = rec_l2(r, v, line); break;
        case CAP_REC_PAIR_SELF: rc = rec_pair_self(r, v, line); break;
        case CAP_REC_COPIES: rc = rec_copies(r, v, line); break;
        case CAP_REC_COLOC: rc = rec_coloc(r, v, where, line, err); break;
        case CAP_REC_STEP: rc = rec_step(r, v, line); break;
        default: rc = rec_end(r, v, line); break;
        }
    }
    free(v);
    return rc;
}

/* One line: a JSON object with a "kind". */
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
    char d[64];
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(o, "kind");
    if (!cJSON_IsObject(o))
        rc = ut_errf(err, "%s:%d: expected a JSON object, got %s", r->path,
                     line, ut_json_describe(o, d, sizeof d));
    else if (!cJSON_IsString(kv))
        rc = ut_errf(err, "%s:%d: kind: expected a string, got %s%s",
                     r->path, line, ut_json_describe(kv, d, sizeof d),
                     kv ? "" : " (missing field)");
    else
        rc = read_record(r, o, kv->valuestring, line, err);
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
const char *dv_step_hint(const dv_raw *r, const char *step, char *buf,
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
                       r->path, dv_step_hint(r, "meta", hint, sizeof hint));
    if (!r->idle_line)
        return ut_errf(err, "%s: expected an \"idle\" record (idle power, "
                       "NVML), got none (%s)", r->path,
                       dv_step_hint(r, "meta", hint, sizeof hint));
    if (!r->pcie_line)
        return ut_errf(err, "%s: expected a \"pcie\" record, got none (%s)",
                       r->path, dv_step_hint(r, "meta", hint, sizeof hint));
    if (!r->nmodel)
        return ut_errf(err, "%s: expected \"model\" records, got none (%s)",
                       r->path, dv_step_hint(r, "meta", hint, sizeof hint));
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

int dv_raw_read(dv_raw *r, ut_err *err)
{
    return read_raw(r, err) < 0 || resolve(r, err) < 0 ? -1 : 0;
}

/* Share of the GPU (%) of a partition; the whole GPU is exactly 100. */
double dv_share_of(const dv_raw *r, int sms)
{
    return sms >= r->sm_count ? 100.0 : 100.0 * sms / r->sm_count;
}

/* Distance between two (batch, share) points for "the nearest measured
 * point": log2 batch over its range (1..32, 5 doublings) plus share over
 * 100, so that both axes count alike. */
double dv_point_dist(double b1, double s1, double b2, double s2)
{
    return fabs(log2(b1 / b2)) / 5 + fabs(s1 - s2) / 100;
}

/* The model's L2 record nearest to (batch, share); NULL if it has none.
 * Ties go to the earlier record. */
const dv_l2 *dv_nearest_l2(const dv_raw *r, int mi, double batch,
                               double share)
{
    const dv_l2 *best = NULL;
    double bd = INFINITY;
    for (size_t i = 0; i < r->nl2; i++) {
        const dv_l2 *q = &r->l2[i];
        if (q->mi != mi)
            continue;
        double d = dv_point_dist(batch, share, q->batch, dv_share_of(r, q->sms));
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
const dv_solo **dv_solo_of(const dv_raw *r, int mi, size_t *n)
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
