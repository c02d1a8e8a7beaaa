/*
 * solo.c - lookups in the measured solo tables (model.h): a model's table
 * by name, its solo latency and its L2 and DRAM utilisation at any batch
 * and share, interpolated between the measured points. Below both users:
 * the co-location composition (colocation.c) and the learned predictors'
 * features (interfere.c).
 */
#include "model/model.h"

#include <math.h>
#include <string.h>

int mdl_measured_find(const mdl_measured *m, const char *name)
{
    for (size_t i = 0; i < m->nsolo; i++)
        if (!strcmp(m->solo[i].name, name))
            return (int)i;
    return -1;
}

double mdl_lerp(double x0, double y0, double x1, double y1, double x)
{
    if (x1 == x0)
        return y0;
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

void mdl_bracket(const double *x, const double *v, size_t n, double at,
                 size_t *lo, size_t *hi)
{
    *lo = *hi = (size_t)-1;
    for (size_t k = 0; k < n; k++) {
        if (isnan(v[k]))
            continue;
        if (x[k] <= at)
            *lo = k;
        if (x[k] >= at && *hi == (size_t)-1)
            *hi = k;
    }
}

void mdl_rows_around(double batch, double (*row)(int b, const void *ud),
                     const void *ud, int *b0, double *y0, int *b1,
                     double *y1)
{
    *b0 = *b1 = 0;
    *y0 = *y1 = NAN;
    for (int b = 1; b <= MDL_MAX_BATCH; b++) {
        double y = row(b, ud);
        if (isnan(y))
            continue;
        if (b <= batch) {
            *b0 = b;
            *y0 = y;
        }
        if (b >= batch && !*b1) {
            *b1 = b;
            *y1 = y;
        }
    }
}

/* One batch row of a solo table at a share: linear in 1/share between the
 * bracketing measured shares, or through the two nearest at either end.
 * NAN if the row has no measured share. */
static double row_at(const mdl_solo_table *t, int b, double share)
{
    double xs[MDL_MEAS_SHARES], ys[MDL_MEAS_SHARES];
    size_t n = 0;
    /* shares ascending, so 1/share descending: store in ascending x */
    for (size_t j = t->nshares; j-- > 0;)
        if (!isnan(t->lat_ms[b][j])) {
            xs[n] = 1 / t->share_pct[j];
            ys[n] = t->lat_ms[b][j];
            n++;
        }
    if (n == 0)
        return NAN;
    if (n == 1)
        return ys[0];
    double x = 1 / share;
    size_t k = 1;
    while (k < n - 1 && xs[k] < x)
        k++;
    return mdl_lerp(xs[k - 1], ys[k - 1], xs[k], ys[k], x);
}

static double table_min(const mdl_solo_table *t)
{
    double lo = INFINITY;
    for (int b = 1; b <= MDL_MAX_BATCH; b++)
        for (size_t j = 0; j < t->nshares; j++)
            if (t->lat_ms[b][j] < lo)
                lo = t->lat_ms[b][j];
    return lo;
}

double mdl_measured_solo_ms(const mdl_measured *m, int model, double batch,
                            double share_pct)
{
    const mdl_solo_table *t = &m->solo[model];
    if (batch < 1)
        batch = 1;
    /* the measured rows around batch (the two last ones beyond them) */
    int b0 = (int)floor(batch), b1 = b0 + 1;
    if (b0 >= MDL_MAX_BATCH) {
        b0 = MDL_MAX_BATCH - 1;
        b1 = MDL_MAX_BATCH;
    }
    while (b0 > 1 && isnan(row_at(t, b0, share_pct)))
        b0--;
    while (b1 < MDL_MAX_BATCH && isnan(row_at(t, b1, share_pct)))
        b1++;
    double y0 = row_at(t, b0, share_pct), y1 = row_at(t, b1, share_pct);
    /* y0 is NaN when no row is at or below batch (a table without batch
     * 1, asked for batch 1): the row above it is then the answer */
    double y = isnan(y0)                   ? y1
               : batch == b0 || isnan(y1) ? y0
                                          : mdl_lerp(b0, y0, b1, y1, batch);
    double lo = table_min(t);
    return y < lo ? lo : y;
}
/* ---- utilisation ----------------------------------------------------------- */

/* One batch row of a utilisation matrix at a share: linear in share
 * between the bracketing measured shares, clamped to the row's ends (a
 * utilisation is a bounded quantity: no extrapolation). NAN if the row has
 * no measured share. */
static double util_row(const mdl_solo_table *t, const double *row,
                       double share)
{
    size_t lo, hi;
    mdl_bracket(t->share_pct, row, t->nshares, share, &lo, &hi);
    if (lo == (size_t)-1 && hi == (size_t)-1)
        return NAN;
    if (lo == (size_t)-1)
        return row[hi];
    if (hi == (size_t)-1 || hi == lo)
        return row[lo];
    double x0 = t->share_pct[lo], x1 = t->share_pct[hi];
    return row[lo] + (row[hi] - row[lo]) * (share - x0) / (x1 - x0);
}

/* mdl_rows_around's row of a utilisation matrix (which: 0 L2, 1 DRAM) */
typedef struct {
    const mdl_solo_table *t;
    int which;
    double share;
} util_at;

static double util_batch_row(int b, const void *ud)
{
    const util_at *u = ud;
    return util_row(u->t, u->which ? u->t->dram_pct[b] : u->t->l2_pct[b],
                    u->share);
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
    util_at u = {t, which, share_pct};
    int b0, b1;
    double y0, y1;
    mdl_rows_around(batch, util_batch_row, &u, &b0, &y0, &b1, &y1);
    if (!b0)
        return y1;
    if (!b1 || b1 == b0)
        return y0;
    double w = (log2(batch) - log2(b0)) / (log2(b1) - log2(b0));
    return y0 + (y1 - y0) * w;
}
