/*
 * colocation.c - latencies from the measured co-location data (model.h):
 * solo latency from the solo tables (solo.c), pair slow-downs
 * interpolated on the measured pair grid, and their composition for any
 * number of co-located workloads. This is the `measured` simulator back
 * end's notion of reality.
 */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- pair grids --------------------------------------------------------------- */

/* Position of v on an axis: cell index k (ax[k] <= v <= ax[k+1]) and the
 * weight of ax[k+1]; clamped to the axis. Batches are placed in log2. */
static void locate(const double *ax, size_t n, double v, int logscale,
                   size_t *k, double *w)
{
    if (n == 1 || v <= ax[0]) {
        *k = 0;
        *w = 0;
        return;
    }
    if (v >= ax[n - 1]) {
        *k = n - 2;
        *w = 1;
        return;
    }
    size_t i = 0;
    while (ax[i + 1] < v)
        i++;
    double x0 = logscale ? log2(ax[i]) : ax[i];
    double x1 = logscale ? log2(ax[i + 1]) : ax[i + 1];
    double x = logscale ? log2(v) : v;
    *k = i;
    *w = (x - x0) / (x1 - x0);
}

/* The nearest measured point of a grid, in units of its axes' cells:
 * the fallback when a cell of the trilinear interpolation has a hole. */
static double nearest(const mdl_pair_grid *g, double fa, double fb, double fr)
{
    double best = NAN, bd = INFINITY;
    for (size_t u = 0; u < g->nba; u++)
        for (size_t v = 0; v < g->nbb; v++)
            for (size_t w = 0; w < g->nr; w++) {
                if (isnan(g->s[u][v][w]))
                    continue;
                double d = (u - fa) * (u - fa) + (v - fb) * (v - fb) +
                           (w - fr) * (w - fr);
                if (d < bd) {
                    bd = d;
                    best = g->s[u][v][w];
                }
            }
    return best;
}

static double grid_at(const mdl_pair_grid *g, double ba, double bb, double ra)
{
    size_t i, j, k;
    double wi, wj, wk;
    locate(g->ba, g->nba, ba, 1, &i, &wi);
    locate(g->bb, g->nbb, bb, 1, &j, &wj);
    locate(g->r, g->nr, ra, 0, &k, &wk);
    size_t i1 = g->nba > 1 ? i + 1 : i, j1 = g->nbb > 1 ? j + 1 : j,
           k1 = g->nr > 1 ? k + 1 : k;
    double sum = 0;
    for (int c = 0; c < 8; c++) {
        size_t u = c & 1 ? i1 : i, v = c & 2 ? j1 : j, w = c & 4 ? k1 : k;
        double wt = (c & 1 ? wi : 1 - wi) * (c & 2 ? wj : 1 - wj) *
                    (c & 4 ? wk : 1 - wk);
        if (wt == 0)
            continue;
        if (isnan(g->s[u][v][w]))
            return nearest(g, (double)i + wi, (double)j + wj, (double)k + wk);
        sum += wt * g->s[u][v][w];
    }
    return sum;
}

double mdl_measured_slowdown(const mdl_measured *m, int a, int b,
                             double batch_a, double batch_b,
                             double share_a_pct)
{
    double sum = 0;
    int n = 0;
    for (size_t g = 0; g < m->ngrids; g++) {
        const mdl_pair_grid *gr = &m->grids[g];
        if (gr->a != a)
            continue;
        double s = grid_at(gr, batch_a, batch_b, share_a_pct);
        if (gr->b == b)
            return s;
        sum += s;
        n++;
    }
    return n ? sum / n : 1.0;   /* never measured beside b: the mean */
}

/* The slow-down of a beside b on the rest of the GPU, as the pair grids
 * hold it (interpolated, else the fallback over a's partners). */
static double grid_slowdown(const mdl_measured *m, const mdl_place *a,
                            const mdl_place *b)
{
    return mdl_measured_slowdown(m, a->model, b->model, a->batch, b->batch,
                                 a->share_pct);
}

/* The additive composition of pair slow-downs, each pair's from slowdown:
 * a measured pair gives the partner the rest of the GPU, 100 - share_i;
 * a partner with less than that interferes in proportion to its share
 * (its demand on L2 and memory grows with the SMs it runs on). */
static void compose(const mdl_measured *m, const mdl_place *w, size_t n,
                    double (*slowdown)(const mdl_measured *,
                                       const mdl_place *, const mdl_place *),
                    double *lat_ms)
{
    for (size_t i = 0; i < n; i++) {
        double f = 1, rest = 100 - w[i].share_pct;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            double weight = rest > 0 ? w[j].share_pct / rest : 1;
            if (weight > 1)
                weight = 1;
            f += (slowdown(m, &w[i], &w[j]) - 1) * weight;
        }
        lat_ms[i] = mdl_measured_solo_ms(m, w[i].model, w[i].batch,
                                         w[i].share_pct) *
                    f;
    }
}

void mdl_measured_interpolated(const mdl_measured *m, const mdl_place *w,
                               size_t n, double *lat_ms)
{
    compose(m, w, n, grid_slowdown, lat_ms);
}

/* The slow-down of a beside b as the pair grids hold it (b on the rest of
 * the GPU): the grid's where a and b were measured together, else the
 * learned predictor's for that pair, else (no predictor) the grid
 * fallback, the mean over a's measured partners. */
static double pair_slowdown(const mdl_measured *m, const mdl_place *a,
                            const mdl_place *b)
{
    int together = 0;
    for (size_t g = 0; g < m->ngrids && !together; g++)
        together = m->grids[g].a == a->model && m->grids[g].b == b->model;
    if (together || !m->has_interf)
        return grid_slowdown(m, a, b);
    mdl_place two[2] = {*a, *b};
    two[1].share_pct = 100 - a->share_pct;
    double lat[2];
    mdl_interf_predict(&m->interf, m, two, 2, lat);
    return lat[0] / mdl_measured_solo_ms(m, a->model, a->batch,
                                         a->share_pct);
}

/* Measured pairs are the ground truth where they exist, and their
 * additive composition predicted the H100's held-out runs of 3 and 4
 * better than the learned predictor alone (docs/predictor.md); so the
 * composition stays, and the learned predictor supplies what was never
 * measured: the slow-down of two models never run side by side. */
void mdl_measured_colocated(const mdl_measured *m, const mdl_place *w,
                            size_t n, double *lat_ms)
{
    compose(m, w, n, pair_slowdown, lat_ms);
}
