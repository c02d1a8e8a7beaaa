/*
 * interfere.c - interference predictors learned from measured co-location
 * data (model.h, "Learned interference predictors"): the project's ridge
 * regression of the log slow-down on physical features of the co-runners,
 * and gpu-lets' linear regression of the slow-down on L2 and DRAM
 * utilisation; plus the measured runs they are judged on and the one
 * error loop every predictor goes through (mdl_runs_error).
 */
#include "model/model.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEAS_MIN_MS 1e-6
#define MEAS_MAX_MS 1e9

/* The ridge of the learned predictor, relative to the mean of diag(X'X). */
#define RIDGE 1e-4

/* ---- solo-table utilisation ------------------------------------------------ */

/* One batch row of a utilisation matrix at a share: linear in share
 * between the bracketing measured shares, clamped to the row's ends (a
 * utilisation is a bounded quantity: no extrapolation). NAN if the row has
 * no measured share. */
static double util_row(const mdl_solo_table *t, const double *row,
                       double share)
{
    size_t lo = (size_t)-1, hi = (size_t)-1;
    for (size_t j = 0; j < t->nshares; j++) {
        if (isnan(row[j]))
            continue;
        if (t->share_pct[j] <= share)
            lo = j;
        if (t->share_pct[j] >= share && hi == (size_t)-1)
            hi = j;
    }
    if (lo == (size_t)-1 && hi == (size_t)-1)
        return NAN;
    if (lo == (size_t)-1)
        return row[hi];
    if (hi == (size_t)-1 || hi == lo)
        return row[lo];
    double x0 = t->share_pct[lo], x1 = t->share_pct[hi];
    return row[lo] + (row[hi] - row[lo]) * (share - x0) / (x1 - x0);
}

double mdl_measured_util_pct(const mdl_measured *m, int model, int which,
                             double batch, double share_pct)
{
    const mdl_solo_table *t = &m->solo[model];
    if (batch < 1)
        batch = 1;
    if (batch > MDL_MAX_BATCH)
        batch = MDL_MAX_BATCH;
    /* the measured rows at or around batch, linear in log2 batch */
    int b0 = 0, b1 = 0;
    double y0 = NAN, y1 = NAN;
    for (int b = 1; b <= MDL_MAX_BATCH; b++) {
        double y = util_row(t, which ? t->dram_pct[b] : t->l2_pct[b],
                            share_pct);
        if (isnan(y))
            continue;
        if (b <= batch) {
            b0 = b;
            y0 = y;
        }
        if (b >= batch && !b1) {
            b1 = b;
            y1 = y;
        }
    }
    if (!b0)
        return y1;
    if (!b1 || b1 == b0)
        return y0;
    double w = (log2(batch) - log2(b0)) / (log2(b1) - log2(b0));
    return y0 + (y1 - y0) * w;
}

/* ---- features ------------------------------------------------------------- */

/* What the predictors know of one workload: solo-table quantities at its
 * batch and share, as fractions. */
typedef struct wl_feat {
    int model;
    double share, l2, dram, lbatch, lsolo;
} wl_feat;

static int wl_feat_of(const mdl_measured *m, const mdl_place *p, wl_feat *o)
{
    o->model = p->model;
    o->share = p->share_pct / 100;
    o->l2 = mdl_measured_util_pct(m, p->model, 0, p->batch, p->share_pct) /
            100;
    o->dram = mdl_measured_util_pct(m, p->model, 1, p->batch, p->share_pct) /
              100;
    o->lbatch = log2(p->batch) / 5;
    o->lsolo = log(mdl_measured_solo_ms(m, p->model, p->batch,
                                        p->share_pct));
    return isnan(o->l2) || isnan(o->dram) ? -1 : 0;
}

/* The number of coefficients of a predictor of kind over nmodels. */
static size_t ncoef_of(int kind, size_t nmodels)
{
    if (kind == MDL_INTERF_LINEAR)
        return 5;
    return 13 + 2 * nmodels;
}

/*
 * The feature row of workload i among n. The ridge predictor's terms are
 * sums over the co-runners, so a run of any size is predicted by the same
 * coefficients as a pair, and a workload alone gets slow-down 1:
 *   N; sum share; sum DRAM; sum L2; own DRAM x sum DRAM; own L2 x sum L2;
 *   own share x N; own DRAM x N; own L2 x N; own log batch x N;
 *   sum log batch; own share x sum share; sum share x DRAM;
 *   per model: [own model is k] x N; number of co-runners of model k.
 * gpu-lets' linear model: 1, own L2, own DRAM, sum L2, sum DRAM (in %, as
 * the paper writes it; sums for runs of more than two).
 */
static void feature_row(int kind, size_t nmodels, const wl_feat *f, size_t n,
                        size_t i, double *x)
{
    double N = (double)n - 1, sr = 0, sd = 0, sl = 0, sb = 0, srd = 0;
    for (size_t j = 0; j < n; j++) {
        if (j == i)
            continue;
        sr += f[j].share;
        sd += f[j].dram;
        sl += f[j].l2;
        sb += f[j].lbatch;
        srd += f[j].share * f[j].dram;
    }
    const wl_feat *me = &f[i];
    if (kind == MDL_INTERF_LINEAR) {
        x[0] = 1;
        x[1] = me->l2 * 100;
        x[2] = me->dram * 100;
        x[3] = sl * 100;
        x[4] = sd * 100;
        return;
    }
    double r[13] = {N,
                    sr,
                    sd,
                    sl,
                    me->dram * sd,
                    me->l2 * sl,
                    me->share * N,
                    me->dram * N,
                    me->l2 * N,
                    me->lbatch * N,
                    sb,
                    me->share * sr,
                    srd};
    memcpy(x, r, sizeof r);
    for (size_t k = 0; k < nmodels; k++) {
        x[13 + k] = (size_t)me->model == k ? N : 0;
        double c = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i && (size_t)f[j].model == k)
                c++;
        x[13 + nmodels + k] = c;
    }
}

/* The slow-down the predictor gives workload i among n (features made). */
static double slowdown_of(const mdl_interf *p, const wl_feat *f, size_t n,
                          size_t i)
{
    if (n < 2)
        return 1;
    double x[MDL_INTERF_MAX_COEF], s = 0;
    feature_row(p->kind, p->nmodels, f, n, i, x);
    for (size_t k = 0; k < p->ncoef; k++)
        s += p->coef[k] * x[k];
    if (p->kind == MDL_INTERF_LINEAR)
        return s < 1 ? 1 : s;   /* gpu-lets: co-location never speeds up */
    /* the log slow-down, kept within what a GPU shows: 1/2 to 8 x */
    if (s < -0.7)
        s = -0.7;
    if (s > 2.1)
        s = 2.1;
    return exp(s);
}

void mdl_interf_predict(const mdl_interf *p, const mdl_measured *m,
                        const mdl_place *w, size_t n, double *lat_ms)
{
    wl_feat f[MDL_MAX_COLOC];
    for (size_t i = 0; i < n; i++)
        wl_feat_of(m, &w[i], &f[i]);
    for (size_t i = 0; i < n; i++)
        lat_ms[i] = exp(f[i].lsolo) * slowdown_of(p, f, n, i);
}

/* ---- fitting ---------------------------------------------------------------- */

/*
 * Rows: both sides of every pair of m, then every member of every run of
 * `extra` (NULL: none). A latency whose model lacks a utilisation is left
 * out. The ridge target is log(latency / solo), gpu-lets' latency / solo.
 * Solved as (X'X + lambda I) c = X'y by Cholesky: the ridge term keeps
 * the per-model columns determined when a model never ran beside another.
 * Deterministic: no random start, rows in file order.
 */
int mdl_interf_fit(const mdl_measured *m, const mdl_runs *extra, int kind,
                   mdl_interf *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->nmodels = m->nsolo;
    size_t nc = ncoef_of(kind, m->nsolo);
    if (nc > MDL_INTERF_MAX_COEF)
        return ut_errf(err, "measured data: interference predictor: expected "
                       "at most %d models, got %zu",
                       (MDL_INTERF_MAX_COEF - 13) / 2, m->nsolo);
    p->ncoef = nc;
    gsl_matrix *A = gsl_matrix_calloc(nc, nc);
    gsl_vector *b = gsl_vector_calloc(nc);
    size_t rows = 0;
    double x[MDL_INTERF_MAX_COEF];
    size_t nruns = m->npairs + (extra ? extra->nruns : 0);
    for (size_t r = 0; r < nruns; r++) {
        mdl_place w[MDL_MAX_COLOC];
        double meas[MDL_MAX_COLOC];
        size_t n = 0;
        if (r < m->npairs) {
            const mdl_pair *q = &m->pairs[r];
            w[0] = (mdl_place){mdl_measured_find(m, q->a), q->batch_a,
                               q->share_a_pct};
            w[1] = (mdl_place){mdl_measured_find(m, q->b), q->batch_b,
                               q->share_b_pct};
            meas[0] = q->lat_a_ms;
            meas[1] = q->lat_b_ms;
            n = 2;
        } else {
            const mdl_runs *e = extra;
            size_t k = r - m->npairs;
            for (size_t u = e->start[k]; u < e->start[k + 1]; u++, n++) {
                w[n] = (mdl_place){mdl_measured_find(m, e->mem[u].model),
                                   e->mem[u].batch, e->mem[u].share_pct};
                meas[n] = e->mem[u].lat_ms;
                if (w[n].model < 0) {
                    gsl_matrix_free(A);
                    gsl_vector_free(b);
                    return ut_errf(err, "%s:%d: model \"%s\" has no solo "
                                   "table", e->path, e->line[k],
                                   e->mem[u].model);
                }
            }
        }
        wl_feat f[MDL_MAX_COLOC];
        int ok = n >= 2;
        for (size_t i = 0; i < n; i++)
            ok &= wl_feat_of(m, &w[i], &f[i]) == 0;
        if (!ok)
            continue;
        for (size_t i = 0; i < n; i++) {
            double solo = exp(f[i].lsolo);
            double y = kind == MDL_INTERF_LINEAR ? meas[i] / solo
                                                 : log(meas[i] / solo);
            if (!isfinite(y))
                continue;
            feature_row(kind, p->nmodels, f, n, i, x);
            for (size_t u = 0; u < nc; u++) {
                *gsl_vector_ptr(b, u) += x[u] * y;
                for (size_t v = 0; v < nc; v++)
                    *gsl_matrix_ptr(A, u, v) += x[u] * x[v];
            }
            rows++;
        }
    }
    p->nrows = rows;
    if (rows < 2 * nc) {
        gsl_matrix_free(A);
        gsl_vector_free(b);
        return ut_errf(err, "measured data: interference predictor: expected "
                       "at least %zu co-located latencies with L2 and DRAM "
                       "utilisation (\"l2cache\", \"dram\") to fit on, got "
                       "%zu", 2 * nc, rows);
    }
    /* ridge for the learned predictor (relative to the data's scale);
     * gpu-lets' is ordinary least squares, with a trace of ridge only
     * to keep Cholesky defined when two columns coincide */
    double tr = 0;
    for (size_t u = 0; u < nc; u++)
        tr += gsl_matrix_get(A, u, u);
    double lambda = (kind == MDL_INTERF_LINEAR ? 1e-9 : RIDGE) *
                    tr / (double)nc;
    for (size_t u = 0; u < nc; u++)
        *gsl_matrix_ptr(A, u, u) += lambda;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_linalg_cholesky_decomp1(A);
    gsl_vector *c = gsl_vector_alloc(nc);
    if (st == GSL_SUCCESS)
        st = gsl_linalg_cholesky_solve(A, b, c);
    gsl_set_error_handler(old);
    int finite = st == GSL_SUCCESS;
    for (size_t u = 0; u < nc && finite; u++) {
        p->coef[u] = gsl_vector_get(c, u);
        finite = isfinite(p->coef[u]);
    }
    gsl_vector_free(c);
    gsl_matrix_free(A);
    gsl_vector_free(b);
    if (!finite)
        return ut_errf(err, "measured data: interference predictor: the "
                       "least-squares fit failed (%s)",
                       st == GSL_SUCCESS ? "not finite" : gsl_strerror(st));
    return 0;
}

/* ---- measured runs ------------------------------------------------------- */

void mdl_runs_free(mdl_runs *r)
{
    free(r->start);
    free(r->line);
    free(r->mem);
    memset(r, 0, sizeof *r);
}

static void runs_add(mdl_runs *r, size_t *cap_runs, size_t *cap_mem,
                     const mdl_run_member *mem, size_t n, int line)
{
    if (r->nruns + 2 > *cap_runs) {
        *cap_runs = 2 * *cap_runs + 16;
        r->start = ut_xrealloc(r->start, *cap_runs * sizeof *r->start);
        r->line = ut_xrealloc(r->line, *cap_runs * sizeof *r->line);
    }
    if (r->nmem + n > *cap_mem) {
        *cap_mem = 2 * *cap_mem + n + 16;
        r->mem = ut_xrealloc(r->mem, *cap_mem * sizeof *r->mem);
    }
    r->start[r->nruns] = r->nmem;
    r->line[r->nruns] = line;
    memcpy(r->mem + r->nmem, mem, n * sizeof *mem);
    r->nmem += n;
    r->nruns++;
    r->start[r->nruns] = r->nmem;
}

void mdl_runs_from_pairs(const mdl_measured *m, const char *path,
                         mdl_runs *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    size_t cr = 0, cm = 0;
    for (size_t i = 0; i < m->npairs; i++) {
        const mdl_pair *p = &m->pairs[i];
        mdl_run_member two[2];
        memset(two, 0, sizeof two);
        snprintf(two[0].model, MDL_NAME_MAX, "%s", p->a);
        snprintf(two[1].model, MDL_NAME_MAX, "%s", p->b);
        two[0].batch = p->batch_a;
        two[1].batch = p->batch_b;
        two[0].share_pct = p->share_a_pct;
        two[1].share_pct = p->share_b_pct;
        two[0].lat_ms = p->lat_a_ms;
        two[1].lat_ms = p->lat_b_ms;
        runs_add(r, &cr, &cm, two, 2, (int)i);
    }
}

int mdl_runs_load(const char *path, mdl_runs *r, ut_err *err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return -1;
    size_t cr = 0, cm = 0;
    int line = 0, rc = 0;
    mdl_run_member *mem = ut_xmalloc(MDL_MAX_COLOC * sizeof *mem);
    for (char *l = text, *next; l && *l && rc == 0; l = next) {
        next = strchr(l, '\n');
        if (next)
            *next++ = '\0';
        line++;
        if (strspn(l, " \t\r") == strlen(l))
            continue;
        char where[300];
        snprintf(where, sizeof where, "%s:%d", path, line);
        /* the whole line is one object: text after it is an error */
        cJSON *run = cJSON_ParseWithOpts(l, NULL, 1);
        const cJSON *co = cJSON_GetObjectItemCaseSensitive(run, "colocate");
        size_t k = (size_t)cJSON_GetArraySize(co);
        if (!cJSON_IsArray(co) || k == 0 || k > MDL_MAX_COLOC) {
            rc = ut_errf(err, "%s: expected an object with \"colocate\": "
                         "1 to %d workloads", where, MDL_MAX_COLOC);
            cJSON_Delete(run);
            break;
        }
        size_t i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, co) {
            const char *name;
            long b;
            char wh[340];
            mdl_run_member *u = &mem[i];
            memset(u, 0, sizeof *u);
            snprintf(wh, sizeof wh, "%s: colocate[%zu]", where, i);
            if (ut_json_str(it, "model", wh, &name, err) ||
                ut_json_int(it, "batch", wh, 1, 1000000, &b, err) ||
                ut_json_pos(it, "resource_pct", wh, &u->share_pct, err) ||
                ut_json_pos(it, "latency_ms", wh, &u->lat_ms, err)) {
                rc = -1;
                break;
            }
            if (u->share_pct > 100) {
                rc = ut_errf(err, "%s.resource_pct: expected at most 100, got "
                             "%g", wh, u->share_pct);
                break;
            }
            if (!(u->lat_ms >= MEAS_MIN_MS && u->lat_ms <= MEAS_MAX_MS)) {
                rc = ut_errf(err, "%s.latency_ms: expected a latency in "
                             "[1e-06, 1e+09] ms, got %g", wh, u->lat_ms);
                break;
            }
            if (!name[0] || strlen(name) >= MDL_NAME_MAX) {
                rc = ut_errf(err, "%s.model: expected a name of 1..%d "
                             "characters, got \"%.40s\"", wh,
                             MDL_NAME_MAX - 1, name);
                break;
            }
            snprintf(u->model, MDL_NAME_MAX, "%s", name);
            u->batch = (int)b;
            i++;
        }
        if (rc == 0)
            runs_add(r, &cr, &cm, mem, k, line);
        cJSON_Delete(run);
    }
    free(mem);
    free(text);
    if (rc < 0)
        mdl_runs_free(r);
    return rc;
}

/* ---- judging a predictor -------------------------------------------------- */

/* Sorts ape[0..n) (n > 0) and summarises it. */
static void ape_stats(double *ape, size_t n, mdl_error_stats *out)
{
    gsl_sort(ape, 1, n);
    out->n = n;
    out->mean_pct = gsl_stats_mean(ape, 1, n);
    out->median_pct = gsl_stats_quantile_from_sorted_data(ape, 1, n, 0.5);
    out->p90_pct = gsl_stats_quantile_from_sorted_data(ape, 1, n, 0.9);
    out->max_pct = ape[n - 1];
}

int mdl_runs_error(const mdl_runs *r, size_t workloads,
                   const mdl_predictor *p, mdl_error_stats *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    double *ape = ut_xmalloc((r->nmem + 1) * sizeof *ape);
    for (size_t k = 0; k < r->nruns; k++) {
        size_t s = r->start[k], e = r->start[k + 1], cnt = e - s;
        mdl_place w[MDL_MAX_COLOC];
        double lat[MDL_MAX_COLOC];
        for (size_t i = 0; i < cnt; i++) {
            const mdl_run_member *u = &r->mem[s + i];
            w[i].model = p->find(p->ctx, u->model);
            w[i].batch = u->batch;
            w[i].share_pct = u->share_pct;
            if (w[i].model < 0) {
                free(ape);
                return ut_errf(err, "%s:%d: colocate[%zu].model: \"%s\" is "
                               "not in the %s predictor's data", r->path,
                               r->line[k], i, u->model, p->name);
            }
        }
        if (workloads && cnt != workloads)
            continue;
        p->latency(p->ctx, w, cnt, lat);
        for (size_t i = 0; i < cnt; i++)
            ape[n++] = fabs(lat[i] - r->mem[s + i].lat_ms) /
                       r->mem[s + i].lat_ms * 100;
    }
    if (n)
        ape_stats(ape, n, out);
    free(ape);
    return 0;
}

/* ---- the predictors, behind one interface ------------------------------- */

static int find_fitted(const void *ctx, const char *name)
{
    return mdl_find(((const mdl_predictor_ctx *)ctx)->fit, name);
}

static int find_measured(const void *ctx, const char *name)
{
    return mdl_measured_find(((const mdl_predictor_ctx *)ctx)->meas, name);
}

static void lat_igniter(const void *ctx, const mdl_place *w, size_t n,
                        double *lat)
{
    mdl_predict(((const mdl_predictor_ctx *)ctx)->fit, w, n, lat, NULL);
}

static void lat_alone(const void *ctx, const mdl_place *w, size_t n,
                      double *lat)
{
    for (size_t i = 0; i < n; i++)
        mdl_predict(((const mdl_predictor_ctx *)ctx)->fit, &w[i], 1, &lat[i],
                    NULL);
}

static void lat_interp(const void *ctx, const mdl_place *w, size_t n,
                       double *lat)
{
    mdl_measured_interpolated(((const mdl_predictor_ctx *)ctx)->meas, w, n,
                              lat);
}

static void lat_measured(const void *ctx, const mdl_place *w, size_t n,
                         double *lat)
{
    mdl_measured_colocated(((const mdl_predictor_ctx *)ctx)->meas, w, n, lat);
}

static void lat_gpulets(const void *ctx, const mdl_place *w, size_t n,
                        double *lat)
{
    const mdl_predictor_ctx *c = ctx;
    mdl_interf_predict(c->gpulets, c->meas, w, n, lat);
}

static void lat_learned(const void *ctx, const mdl_place *w, size_t n,
                        double *lat)
{
    const mdl_predictor_ctx *c = ctx;
    mdl_interf_predict(c->learned, c->meas, w, n, lat);
}

mdl_predictor mdl_predictor_make(mdl_predictor_kind kind,
                                 const mdl_predictor_ctx *ctx)
{
    static const struct {
        const char *name;
        int measured;
        void (*latency)(const void *, const mdl_place *, size_t, double *);
    } kinds[] = {
        [MDL_PRED_IGNITER] = {"igniter", 0, lat_igniter},
        [MDL_PRED_ALONE] = {"no-interference", 0, lat_alone},
        [MDL_PRED_INTERP] = {"measured-interp", 1, lat_interp},
        [MDL_PRED_MEASURED] = {"measured", 1, lat_measured},
        [MDL_PRED_GPULETS] = {"gpulets-linear", 1, lat_gpulets},
        [MDL_PRED_LEARNED] = {"learned", 1, lat_learned},
    };
    mdl_predictor p = {kinds[kind].name,
                       kinds[kind].measured ? find_measured : find_fitted,
                       kinds[kind].latency, ctx};
    return p;
}

/* ---- the iGniter model's error (igniter accuracy's first rows) ----------- */

int mdl_pair_error(const mdl_fitted *f, const mdl_measured *m,
                   int no_interference, mdl_error_stats *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    if (m->npairs == 0)
        return ut_errf(err, "expected measured pairs, got none");
    mdl_runs r;
    mdl_runs_from_pairs(m, "pair", &r);
    mdl_predictor_ctx c = {.fit = f};
    mdl_predictor p = mdl_predictor_make(no_interference ? MDL_PRED_ALONE
                                                         : MDL_PRED_IGNITER,
                                         &c);
    int rc = mdl_runs_error(&r, 0, &p, out, err);
    mdl_runs_free(&r);
    return rc;
}

int mdl_multi_error(const mdl_fitted *f, const char *path, size_t workloads,
                    int no_interference, mdl_error_stats *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    mdl_runs r;
    if (mdl_runs_load(path, &r, err) < 0)
        return -1;
    mdl_predictor_ctx c = {.fit = f};
    mdl_predictor p = mdl_predictor_make(no_interference ? MDL_PRED_ALONE
                                                         : MDL_PRED_IGNITER,
                                         &c);
    int rc = mdl_runs_error(&r, workloads, &p, out, err);
    mdl_runs_free(&r);
    return rc;
}
