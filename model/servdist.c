/*
 * servdist.c - service-time distributions (model.h, "service-time
 * distributions"): the shape of a batch's service time around its mean,
 * from measured quantiles or fitted to a mean and a standard deviation,
 * and how the measured file carries them.
 *
 * Why a normalised shape: the means are interpolated across batch and
 * share (mdl_measured_solo_ms) and the shape of the nearest measured point
 * is then scaled to that mean, so that sampling changes the spread and
 * never the mean the rest of the testbed was built on.
 *
 * Why a lognormal where only mean and std were recorded (the H100 capture
 * before q_ms; the V100 pairs): service times are positive and skewed to
 * the right (on the H100 capture's solo points the median is below the
 * mean and the p99 above mean + 2.33 std, as a lognormal's are); a normal
 * would give negative times at a high CV; two moments fix a lognormal's
 * two parameters with no further choice.
 */
#include "model/servdist_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double levels[MDL_SD_NQ] = MDL_SD_LEVELS;

/* The mean of the piecewise-linear quantile function through q at the
 * levels: the integral of Q(u) over [0, 1], trapezoid by trapezoid. */
static double pw_mean(const double *q)
{
    double s = 0;
    for (int i = 0; i + 1 < MDL_SD_NQ; i++)
        s += (levels[i + 1] - levels[i]) * (q[i] + q[i + 1]) / 2;
    return s;
}

void mdl_sd_from_quantiles(const double *q_ms, mdl_servdist *d)
{
    double mean = pw_mean(q_ms);
    memset(d, 0, sizeof *d);
    if (!(mean > 0) || !isfinite(mean)) {
        d->kind = MDL_SD_NONE;
        return;
    }
    d->kind = MDL_SD_QUANT;
    for (int i = 0; i < MDL_SD_NQ; i++)
        d->q[i] = q_ms[i] / mean;
}

void mdl_sd_lognormal(double cv, mdl_servdist *d)
{
    memset(d, 0, sizeof *d);
    if (!(cv > 0) || !isfinite(cv)) {
        d->kind = MDL_SD_NONE;
        return;
    }
    d->kind = MDL_SD_LOGN;
    d->sigma = sqrt(log1p(cv * cv));
}

double mdl_sd_at(const mdl_servdist *d, double u)
{
    switch (d->kind) {
    case MDL_SD_LOGN: {
        /* u = 0 is the lognormal's 0; keep clear of the CDF's ends */
        if (u <= 0)
            return 0;
        double z = gsl_cdf_ugaussian_Pinv(u);
        return exp(d->sigma * z - d->sigma * d->sigma / 2);
    }
    case MDL_SD_QUANT: {
        int i = 0;
        while (i + 2 < MDL_SD_NQ && u >= levels[i + 1])
            i++;
        double w = (u - levels[i]) / (levels[i + 1] - levels[i]);
        return d->q[i] + w * (d->q[i + 1] - d->q[i]);
    }
    default:
        return 1;
    }
}

double mdl_sd_moment2(const mdl_servdist *d)
{
    switch (d->kind) {
    case MDL_SD_LOGN:
        return exp(d->sigma * d->sigma);
    case MDL_SD_QUANT: {
        /* Q linear on each segment: the integral of (a + (b - a) t)^2 over
         * t in [0, 1] is (a^2 + a b + b^2) / 3 */
        double s = 0;
        for (int i = 0; i + 1 < MDL_SD_NQ; i++) {
            double a = d->q[i], b = d->q[i + 1];
            s += (levels[i + 1] - levels[i]) * (a * a + a * b + b * b) / 3;
        }
        return s;
    }
    default:
        return 1;
    }
}

/* ---- the measured file --------------------------------------------------- */

/* The column of share s in t, or -1: a distribution's point must be one
 * of the latency table's. */
static int share_col(const mdl_solo_table *t, double s)
{
    for (size_t j = 0; j < t->nshares; j++)
        if (t->share_pct[j] == s)
            return (int)j;
    return -1;
}

/* One cell key pair (batch row, share key) checked against the latency
 * table: 0 with *b and *j set, else -1 with the message. */
static int cell_of(const mdl_solo_table *t, const char *where,
                   const char *key, const char *bkey, const char *skey,
                   int *b, int *j, ut_err *err)
{
    char *end;
    long bl = strtol(bkey, &end, 10);
    double s = bkey[0] && !*end ? strtod(skey, &end) : NAN;
    int col = bl >= 1 && bl <= MDL_MAX_BATCH && skey[0] && !*end
                  ? share_col(t, s)
                  : -1;
    if (col < 0 || isnan(t->lat_ms[bl][col]))
        return ut_errf(err, "%s.%s.%.20s.%.40s: expected a point of the "
                       "latency table, got none there", where, key, bkey,
                       skey);
    *b = (int)bl;
    *j = col;
    return 0;
}

int mdl_sd_load_tables(mdl_solo_table *t, const cJSON *obj,
                       const char *where, ut_err *err)
{
    for (int b = 0; b <= MDL_MAX_BATCH; b++)
        for (int j = 0; j < MDL_MEAS_SHARES; j++) {
            t->std_ms[b][j] = NAN;
            for (int k = 0; k < MDL_SD_NQ; k++)
                t->q_ms[b][j][k] = NAN;
        }
    t->pair_cv = NAN;
    static const char *const keys[2] = {"std", "quantiles"};
    for (int which = 0; which < 2; which++) {
        const cJSON *tab = cJSON_GetObjectItemCaseSensitive(obj, keys[which]);
        const cJSON *row, *cell;
        char d[64];
        if (!tab)
            continue;
        if (!cJSON_IsObject(tab))
            return ut_errf(err, "%s.%s: expected an object of batches, got %s",
                           where, keys[which],
                           ut_json_describe(tab, d, sizeof d));
        cJSON_ArrayForEach(row, tab) {
            if (!cJSON_IsObject(row))
                return ut_errf(err, "%s.%s.%.20s: expected an object of "
                               "shares, got %s", where, keys[which],
                               row->string, ut_json_describe(row, d,
                                                             sizeof d));
            cJSON_ArrayForEach(cell, row) {
                int b = 0, j = 0;
                if (cell_of(t, where, keys[which], row->string, cell->string,
                            &b, &j, err) < 0)
                    return -1;
                if (which == 0) {
                    double v = cJSON_IsNumber(cell) ? cell->valuedouble : NAN;
                    if (!(v >= 0 && isfinite(v)))
                        return ut_errf(err, "%s.std.%d.%s: expected a "
                                       "non-negative number, got %s", where,
                                       b, cell->string,
                                       ut_json_describe(cell, d, sizeof d));
                    t->std_ms[b][j] = v;
                    continue;
                }
                int n = cJSON_IsArray(cell) ? cJSON_GetArraySize(cell) : -1;
                double *q = t->q_ms[b][j];
                for (int k = 0; k < n && n == MDL_SD_NQ; k++) {
                    const cJSON *e = cJSON_GetArrayItem(cell, k);
                    q[k] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
                    if (!(isfinite(q[k]) && q[k] >= 0 &&
                          (k == 0 || q[k] >= q[k - 1]))) {
                        n = -1;
                        break;
                    }
                }
                if (n != MDL_SD_NQ || !(q[MDL_SD_NQ - 1] > 0))
                    return ut_errf(err, "%s.quantiles.%d.%s: expected %d "
                                   "non-decreasing non-negative latencies "
                                   "(ms), not all 0, got %s", where, b,
                                   cell->string, MDL_SD_NQ,
                                   ut_json_describe(cell, d, sizeof d));
            }
        }
    }
    return 0;
}

void mdl_sd_pair_cvs(mdl_measured *m)
{
    double *cv = ut_xmalloc((2 * m->npairs + 1) * sizeof *cv);
    for (size_t t = 0; t < m->nsolo; t++) {
        size_t n = 0;
        for (size_t i = 0; i < m->npairs; i++) {
            const mdl_pair *p = &m->pairs[i];
            if (!strcmp(p->a, m->solo[t].name) && isfinite(p->std_a_ms))
                cv[n++] = p->std_a_ms / p->lat_a_ms;
            if (!strcmp(p->b, m->solo[t].name) && isfinite(p->std_b_ms))
                cv[n++] = p->std_b_ms / p->lat_b_ms;
        }
        if (n == 0)
            continue;
        gsl_sort(cv, 1, n);
        m->solo[t].pair_cv = n % 2 ? cv[n / 2] : (cv[n / 2 - 1] + cv[n / 2]) / 2;
    }
    free(cv);
}

void mdl_measured_servdist(const mdl_measured *m, int model, double batch,
                           double share_pct, mdl_servdist *d)
{
    const mdl_solo_table *t = &m->solo[model];
    int bb = -1, bj = -1;
    double best = INFINITY;
    for (int b = 1; b <= MDL_MAX_BATCH; b++)
        for (size_t j = 0; j < t->nshares; j++) {
            if (isnan(t->lat_ms[b][j]))
                continue;
            double dist = fabs(log(batch / b)) +
                          fabs(log(share_pct / t->share_pct[j]));
            if (dist < best) {
                best = dist;
                bb = b;
                bj = (int)j;
            }
        }
    if (bb > 0 && !isnan(t->q_ms[bb][bj][0]))
        mdl_sd_from_quantiles(t->q_ms[bb][bj], d);
    else if (bb > 0 && !isnan(t->std_ms[bb][bj]))
        mdl_sd_lognormal(t->std_ms[bb][bj] / t->lat_ms[bb][bj], d);
    else
        mdl_sd_lognormal(t->pair_cv, d);
}
