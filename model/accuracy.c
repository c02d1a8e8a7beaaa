/*
 * accuracy.c - the one error loop every latency predictor goes through
 * (mdl_runs_error): the predictors behind one interface (mdl_predictor:
 * iGniter's model, no interference, the measured data interpolated and
 * composed, gpu-lets' and the learned regressions), and the iGniter
 * model's error on measured pairs and multi-way runs. Above what it
 * judges: predict.c, colocation.c, interfere.c.
 */
#include "model/model.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- judging a predictor -------------------------------------------------- */

void mdl_error_stats_of(double *ape, size_t n, mdl_error_stats *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0) {
        out->mean_pct = out->median_pct = out->p90_pct = out->max_pct = NAN;
        return;
    }
    gsl_sort(ape, 1, n);
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
        mdl_error_stats_of(ape, n, out);
    free(ape);
    return 0;
}

int mdl_measured_hold_out(const mdl_measured *m, double share_pct,
                          const char *path, mdl_measured *train,
                          mdl_runs *held, ut_err *err)
{
    unsigned char *keep = ut_xmalloc(m->npairs ? m->npairs : 1);
    mdl_measured out = *m;
    out.pairs = ut_xmalloc((m->npairs ? m->npairs : 1) * sizeof *out.pairs);
    out.npairs = 0;
    for (size_t i = 0; i < m->npairs; i++) {
        double s = m->pairs[i].share_a_pct;
        keep[i] = fabs(s - share_pct) > 1e-9 &&
                  fabs(s - (100 - share_pct)) > 1e-9;
        if (!keep[i])
            out.pairs[out.npairs++] = m->pairs[i];
    }
    int rc = out.npairs == 0 || out.npairs == m->npairs
                 ? 1
                 : mdl_measured_subset(m, keep, train, err);
    if (rc == 0)
        mdl_runs_from_pairs(&out, path, held);
    free(out.pairs);
    free(keep);
    return rc;
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
