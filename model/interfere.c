/*
 * interfere.c - interference predictors learned from measured co-location
 * data (model.h, "Learned interference predictors"): the project's ridge
 * regression of the log slow-down on physical features of the co-runners,
 * and gpu-lets' linear regression of the slow-down on L2 and DRAM
 * utilisation; plus the measured runs they are fitted and judged on
 * (the judging is accuracy.c's).
 */
#include "model/model.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEAS_MIN_MS 1e-6
#define MEAS_MAX_MS 1e9

/* The ridge of the learned predictor, relative to the mean of diag(X'X). */
#define RIDGE 1e-4

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

void mdl_runs_split(const mdl_runs *all, size_t n, mdl_runs *of_n,
                    mdl_runs *rest)
{
    memset(of_n, 0, sizeof *of_n);
    memset(rest, 0, sizeof *rest);
    snprintf(of_n->path, sizeof of_n->path, "%s", all->path);
    snprintf(rest->path, sizeof rest->path, "%s", all->path);
    size_t cr[2] = {0, 0}, cm[2] = {0, 0};
    for (size_t k = 0; k < all->nruns; k++) {
        size_t s = all->start[k], cnt = all->start[k + 1] - s;
        int o = cnt != n;
        runs_add(o ? rest : of_n, &cr[o], &cm[o], all->mem + s, cnt,
                 all->line[k]);
    }
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
