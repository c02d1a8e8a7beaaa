/*
 * gpulets_model.c - gpu-lets+'s interference model (policies/gpulets.c,
 * gpulets_int.h): gpu-lets' linear regression of a co-located latency's
 * slow-down on the two workloads' L2 and DRAM utilisation, fitted on the
 * measured pairs with every fifth held out, and its error on them
 * (pol_gpulets_predictor_error).
 */
#include "policies/gpulets_int.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLDOUT 5       /* pair i is held out when i % HOLDOUT == 0 */

/* ---- the interference model -------------------------------------------- */

/* Utilisation (%) of one solo table, L2 (which 0) or DRAM (which 1), at
 * (batch, share): the measured cell, else the nearest measured share of the
 * same batch row (the lower one on ties); NAN if the row has none. */
static double util_at(const mdl_solo_table *t, int which, int batch,
                      double share_pct)
{
    if (batch < 1)
        batch = 1;
    if (batch > MDL_MAX_BATCH)
        batch = MDL_MAX_BATCH;
    const double *row = which ? t->dram_pct[batch] : t->l2_pct[batch];
    double best = NAN, dist = INFINITY;
    for (size_t j = 0; j < t->nshares; j++) {
        if (isnan(row[j]))
            continue;
        double d = fabs(t->share_pct[j] - share_pct);
        if (d < dist) {
            dist = d;
            best = row[j];
        }
    }
    return best;
}

/* The feature row of "a at (ba, sa) beside b at (bb, sb)"; -1 if a
 * utilisation is missing. */
static int features(const mdl_measured *m, int a, int ba, double sa, int b,
                    int bb, double sb, double x[NFEAT])
{
    double l2a = util_at(&m->solo[a], 0, ba, sa);
    double dra = util_at(&m->solo[a], 1, ba, sa);
    double l2b = util_at(&m->solo[b], 0, bb, sb);
    double drb = util_at(&m->solo[b], 1, bb, sb);
    if (isnan(l2a) || isnan(dra) || isnan(l2b) || isnan(drb))
        return -1;
    x[0] = 1;
    x[1] = l2a;
    x[2] = dra;
    x[3] = l2b;
    x[4] = drb;
    return 0;
}

/* Predicted slow-down of a beside b (>= 1), NAN if it cannot be predicted
 * (a utilisation is missing). */
double gl_predict(const gl_predictor *g, const mdl_measured *m, int a,
                      int ba, double sa, int b, int bb, double sb)
{
    double x[NFEAT];
    if (features(m, a, ba, sa, b, bb, sb, x) < 0)
        return NAN;
    double s = 0;
    for (int k = 0; k < NFEAT; k++)
        s += g->c[k] * x[k];
    return s < 1 ? 1 : s;
}

/* One side of measured pair i: model, batch and share of the workload
 * (side 0: a, 1: b) and of its partner, and the measured latency. -1 if a
 * model has no solo table (mdl_measured_load rules that out). */
typedef struct gl_side {
    int me, other, bme, bother;
    double sme, sother, lat_ms;
} gl_side;

static int pair_side(const mdl_measured *m, size_t i, int side, gl_side *s)
{
    const mdl_pair *p = &m->pairs[i];
    int ia = mdl_measured_find(m, p->a), ib = mdl_measured_find(m, p->b);
    if (ia < 0 || ib < 0)
        return -1;
    s->me = side ? ib : ia;
    s->other = side ? ia : ib;
    s->bme = side ? p->batch_b : p->batch_a;
    s->bother = side ? p->batch_a : p->batch_b;
    s->sme = side ? p->share_b_pct : p->share_a_pct;
    s->sother = side ? p->share_a_pct : p->share_b_pct;
    s->lat_ms = side ? p->lat_b_ms : p->lat_a_ms;
    return 0;
}

/*
 * Fits the model by ordinary least squares (gsl_multifit_linear, SVD) on
 * both sides of every training pair with its utilisations known; the
 * target is the measured slow-down, pair latency over the solo latency at
 * the same point. Fails if fewer rows than twice the coefficients remain.
 */
int gl_fit(const mdl_measured *m, gl_predictor *g, ut_err *err)
{
    size_t n = 0;
    double *rows = ut_xmalloc((2 * m->npairs + 1) * NFEAT * sizeof *rows);
    double *ys = ut_xmalloc((2 * m->npairs + 1) * sizeof *ys);
    for (size_t i = 0; i < m->npairs; i++) {
        if (i % HOLDOUT == 0)
            continue;
        for (int side = 0; side < 2; side++) {
            gl_side s;
            if (pair_side(m, i, side, &s) < 0 ||
                features(m, s.me, s.bme, s.sme, s.other, s.bother, s.sother,
                         &rows[n * NFEAT]) < 0)
                continue;
            double solo = mdl_measured_solo_ms(m, s.me, s.bme, s.sme);
            if (!(solo > 0) || !isfinite(solo))
                continue;
            ys[n++] = s.lat_ms / solo;
        }
    }
    if (n < 2 * NFEAT) {
        free(rows);
        free(ys);
        return ut_errf(err, "measured data: gpulets' interference model: "
                       "expected at least %d pair latencies with L2 and DRAM "
                       "utilisation (\"l2cache\", \"dram\") to fit on, got "
                       "%zu", 2 * NFEAT, n);
    }
    gsl_matrix_view X = gsl_matrix_view_array(rows, n, NFEAT);
    gsl_vector_view y = gsl_vector_view_array(ys, n);
    gsl_vector *c = gsl_vector_alloc(NFEAT);
    gsl_matrix *cov = gsl_matrix_alloc(NFEAT, NFEAT);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, NFEAT);
    double chisq;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = gsl_multifit_linear(&X.matrix, &y.vector, c, cov, &chisq, w);
    gsl_set_error_handler(old);
    int finite = 1;
    for (int k = 0; k < NFEAT; k++) {
        g->c[k] = gsl_vector_get(c, (size_t)k);
        finite &= isfinite(g->c[k]);
    }
    gsl_multifit_linear_free(w);
    gsl_matrix_free(cov);
    gsl_vector_free(c);
    free(rows);
    free(ys);
    if (status != GSL_SUCCESS || !finite)
        return ut_errf(err, "measured data: gpulets' interference model: the "
                       "least-squares fit failed (%s)", gsl_strerror(status));
    return 0;
}

int pol_gpulets_predictor_error(const mdl_measured *m, mdl_error_stats *train,
                                mdl_error_stats *test, ut_err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    gl_predictor g;
    if (gl_fit(m, &g, err) < 0)
        return -1;
    double *ape[2];
    size_t n[2] = {0, 0};
    ape[0] = ut_xmalloc((2 * m->npairs + 1) * sizeof *ape[0]);
    ape[1] = ut_xmalloc((2 * m->npairs + 1) * sizeof *ape[1]);
    for (size_t i = 0; i < m->npairs; i++) {
        int set = i % HOLDOUT == 0;   /* 1: held out */
        for (int side = 0; side < 2; side++) {
            gl_side s;
            if (pair_side(m, i, side, &s) < 0)
                continue;
            double f = gl_predict(&g, m, s.me, s.bme, s.sme, s.other, s.bother,
                                  s.sother);
            if (isnan(f))
                continue;
            double lat = mdl_measured_solo_ms(m, s.me, s.bme, s.sme) * f;
            ape[set][n[set]++] = fabs(lat - s.lat_ms) / s.lat_ms * 100;
        }
    }
    mdl_error_stats_of(ape[0], n[0], train);
    mdl_error_stats_of(ape[1], n[1], test);
    free(ape[0]);
    free(ape[1]);
    return 0;
}

