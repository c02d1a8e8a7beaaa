/*
 * power.c - the power cap (model.h, "the power cap"): what instances side
 * by side draw, the clock the board holds them to, and how much longer
 * their batches take then. Derived by `igniter derive` from a capture's
 * "power" records (measured-power.json) and applied by the simulator's
 * measured back ends over the co-located latencies (sim/be_model.c).
 *
 * Why a power term at all: the pair grid was measured two at a time, and
 * few pairs draw enough to reach the cap; four heavy instances filling a
 * GPU do, and then every batch on it runs at a lower clock
 * (experiments/validation/policies/: 9.7-11.8 % longer batches on the two
 * plan GPUs at 700 W).
 */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdl_power_free(mdl_power *p)
{
    free(p->models);
    memset(p, 0, sizeof *p);
}

/* ---- lookups -------------------------------------------------------------- */

/* Row b of t at share: linear between the measured shares, in proportion
 * to the share below the first, from the last two above the last; never
 * below 0. */
static double row_at(const mdl_power_model *t, size_t b, double share)
{
    const double *x = t->share_pct, *v = t->dyn_w[b];
    size_t n = t->nshares;
    if (n == 1 || share <= x[0])
        return v[0] * share / x[0];
    size_t k = 1;
    while (k < n - 1 && share > x[k])
        k++;
    return fmax(0, mdl_lerp(x[k - 1], v[k - 1], x[k], v[k], share));
}

double mdl_power_dyn_w(const mdl_power *p, int model, double batch,
                       double share_pct)
{
    if (model < 0 || (size_t)model >= p->nmodels || !p->models[model].has)
        return 0;
    const mdl_power_model *t = &p->models[model];
    size_t nb = t->nbatches;
    if (nb == 1 || batch <= t->batch[0])
        return row_at(t, 0, share_pct);
    if (batch >= t->batch[nb - 1])
        return row_at(t, nb - 1, share_pct);
    size_t k = 1;
    while (batch > t->batch[k])
        k++;
    return fmax(0, mdl_lerp(log2(t->batch[k - 1]), row_at(t, k - 1, share_pct),
                            log2(t->batch[k]), row_at(t, k, share_pct),
                            log2(batch)));
}

/* The clock ratio of a model with headroom head = hold - idle (> 0), never
 * below MDL_POWER_MIN_CLOCK. */
static double clock_of(double head, double alpha, double demand_w)
{
    if (demand_w <= head)
        return 1;
    return fmax(MDL_POWER_MIN_CLOCK, pow(head / demand_w, 1 / alpha));
}

double mdl_power_clock(const mdl_power *p, double demand_w)
{
    return clock_of(p->hold_w - p->idle_w, p->alpha, demand_w);
}

void mdl_power_apply(const mdl_power *p, const mdl_place *w, size_t n,
                     double *lat_ms)
{
    if (n < 2)
        return;
    double d[MDL_MAX_COLOC], total = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = mdl_power_dyn_w(p, w[i].model, w[i].batch, w[i].share_pct);
        total += d[i];
    }
    double r = mdl_power_clock(p, total);
    if (r >= 1)
        return;
    for (size_t i = 0; i < n; i++)
        lat_ms[i] *= mdl_power_clock(p, d[i]) / r;
}

/* ---- derive --------------------------------------------------------------- */

/* The model called name in p->models[0..nmodels), or -1. */
static int find_model(const mdl_power *p, const char *name)
{
    for (size_t i = 0; i < p->nmodels; i++)
        if (!strcmp(p->models[i].name, name))
            return (int)i;
    return -1;
}

/* v into the ascending x[0..*n) unless there (at most max): 0, or -1 when
 * full. */
static int insert_sorted(double *x, size_t *n, size_t max, double v)
{
    size_t k = 0;
    while (k < *n && x[k] < v)
        k++;
    if (k < *n && x[k] == v)
        return 0;
    if (*n == max)
        return -1;
    memmove(x + k + 1, x + k, (*n - k) * sizeof *x);
    x[k] = v;
    (*n)++;
    return 0;
}

static size_t index_of(const double *x, size_t n, double v)
{
    size_t k = 0;
    while (k < n && x[k] != v)
        k++;
    return k;
}

/* The solo points into p's tables (dyn_w: power - idle, not below 0), and
 * their clocks into clk (same layout; NAN where none). */
static int solo_tables(const mdl_power_point *pts, size_t n, double idle,
                       mdl_power *p, double (*clk)[MDL_POWER_BATCHES]
                                                 [MDL_POWER_SHARES],
                       ut_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const mdl_power_point *q = &pts[i];
        if (q->n != 1)
            continue;
        int m = find_model(p, q->model[0]);
        if (m < 0) {
            m = (int)p->nmodels++;
            snprintf(p->models[m].name, sizeof p->models[m].name, "%s",
                     q->model[0]);
            p->models[m].has = 1;
        }
        mdl_power_model *t = &p->models[m];
        if (insert_sorted(t->share_pct, &t->nshares, MDL_POWER_SHARES,
                          q->share_pct[0]) < 0 ||
            insert_sorted(t->batch, &t->nbatches, MDL_POWER_BATCHES,
                          q->batch[0]) < 0)
            return ut_errf(err, "%s:%d: power: %s: expected at most %d "
                           "shares and %d batches, got more", q->file,
                           q->line, q->model[0], MDL_POWER_SHARES,
                           MDL_POWER_BATCHES);
    }
    for (size_t m = 0; m < p->nmodels; m++)
        for (size_t b = 0; b < MDL_POWER_BATCHES; b++)
            for (size_t s = 0; s < MDL_POWER_SHARES; s++)
                p->models[m].dyn_w[b][s] = clk[m][b][s] = NAN;
    for (size_t i = 0; i < n; i++) {   /* a later point replaces */
        const mdl_power_point *q = &pts[i];
        if (q->n != 1)
            continue;
        int m = find_model(p, q->model[0]);
        mdl_power_model *t = &p->models[m];
        size_t b = index_of(t->batch, t->nbatches, q->batch[0]),
               s = index_of(t->share_pct, t->nshares, q->share_pct[0]);
        t->dyn_w[b][s] = fmax(0, q->power_w - idle);
        clk[m][b][s] = q->clock_mhz;
    }
    for (size_t m = 0; m < p->nmodels; m++) {
        const mdl_power_model *t = &p->models[m];
        for (size_t b = 0; b < t->nbatches; b++)
            for (size_t s = 0; s < t->nshares; s++)
                if (isnan(t->dyn_w[b][s]))
                    return ut_errf(err, "power: %s: expected a solo point "
                                   "at every batch and share of its grid, "
                                   "got none at batch %g, share %g %%",
                                   t->name, t->batch[b], t->share_pct[s]);
    }
    return 0;
}

/* A run of several: its demand (W above idle) and measured clock ratio. */
typedef struct set_obs {
    double demand, ratio, power_w;
} set_obs;

static int set_demands(const mdl_power_point *pts, size_t n, const mdl_power *p,
                       double max_clock, set_obs *obs, size_t *nobs,
                       ut_err *err)
{
    *nobs = 0;
    for (size_t i = 0; i < n; i++) {
        const mdl_power_point *q = &pts[i];
        if (q->n < 2)
            continue;
        double d = 0;
        for (int k = 0; k < q->n; k++) {
            int m = find_model(p, q->model[k]);
            if (m < 0)
                return ut_errf(err, "%s:%d: power.members[%d].model: "
                               "expected a model with solo power points, "
                               "got \"%s\"", q->file, q->line, k,
                               q->model[k]);
            d += mdl_power_dyn_w(p, m, q->batch[k], q->share_pct[k]);
        }
        obs[(*nobs)++] = (set_obs){d, fmin(1, q->clock_mhz / max_clock),
                                   q->power_w};
    }
    return 0;
}

/* hold_w and alpha minimising the squared error of the clock ratios:
 * hold from idle + 1 W to the cap by 1 W, alpha from 0.5 to 6 by 0.05,
 * the first minimum in that order. */
static void fit_hold(const set_obs *o, size_t n, double idle, double cap,
                     double *hold, double *alpha)
{
    double best = INFINITY;
    for (double h = floor(idle) + 1; h <= cap; h += 1)
        for (int a = 10; a <= 120; a++) {
            double e = 0;
            for (size_t i = 0; i < n && e < best; i++) {
                double r = clock_of(h - idle, a / 20.0, o[i].demand);
                e += (r - o[i].ratio) * (r - o[i].ratio);
            }
            if (e < best) {
                best = e;
                *hold = h;
                *alpha = a / 20.0;
            }
        }
}

static void write_json(const mdl_power *p, const char *source,
                       const mdl_power_fit *f, int fitted, char **text)
{
    ut_buf b = {0};
    char v[32];
    ut_buf_printf(&b, "{\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "version", MDL_POWER_VERSION, ",\n");
    ut_buf_printf(&b, "  \"source\": ");
    ut_buf_json_str(&b, source);
    ut_buf_printf(&b, ",\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "idle_w", p->idle_w, ",\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "cap_w", p->cap_w, ",\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "max_clock_mhz", p->max_clock_mhz, ",\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "hold_w", p->hold_w, ",\n");
    ut_buf_printf(&b, "  ");
    ut_buf_json_num(&b, "alpha", p->alpha, ",\n");
    ut_buf_printf(&b, "  \"fit\": {\"fitted\": %s, ", fitted ? "true"
                                                            : "false");
    ut_buf_printf(&b, "\"sets\": %zu, \"throttled\": %zu, ", f->sets,
                  f->throttled);
    ut_buf_printf(&b, "\"clock_err_mean_pct\": %.3f, ",
                  f->clock_err_mean_pct);
    ut_buf_printf(&b, "\"clock_err_max_pct\": %.3f, ", f->clock_err_max_pct);
    ut_buf_printf(&b, "\"sum_err_mean_pct\": %.3f, ", f->sum_err_mean_pct);
    ut_buf_printf(&b, "\"sum_err_abs_pct\": %.3f},\n", f->sum_err_abs_pct);
    ut_buf_printf(&b, "  \"models\": {");
    for (size_t m = 0; m < p->nmodels; m++) {
        const mdl_power_model *t = &p->models[m];
        ut_buf_printf(&b, "%s\n    ", m ? "," : "");
        ut_buf_json_str(&b, t->name);
        ut_buf_printf(&b, ": {\"share_pct\": [");
        for (size_t s = 0; s < t->nshares; s++)
            ut_buf_printf(&b, "%s%s", s ? ", " : "",
                          ut_fmt_double(t->share_pct[s], v));
        ut_buf_printf(&b, "], \"batch\": [");
        for (size_t k = 0; k < t->nbatches; k++)
            ut_buf_printf(&b, "%s%g", k ? ", " : "", t->batch[k]);
        ut_buf_printf(&b, "],\n      \"dyn_w\": [");
        for (size_t k = 0; k < t->nbatches; k++) {
            ut_buf_printf(&b, "%s[", k ? ",\n                 " : "");
            for (size_t s = 0; s < t->nshares; s++)
                ut_buf_printf(&b, "%s%.2f", s ? ", " : "", t->dyn_w[k][s]);
            ut_buf_printf(&b, "]");
        }
        ut_buf_printf(&b, "]}");
    }
    ut_buf_printf(&b, "\n  }\n}\n");
    *text = b.s;
}

int mdl_power_derive(const mdl_power_point *pts, size_t n, double cap_w,
                     double max_clock_mhz, const char *source, char **text,
                     mdl_power_fit *fit, ut_err *err)
{
    *text = NULL;
    if (!(cap_w > 0) || !(max_clock_mhz > 0))
        return ut_errf(err, "power: expected the board's power cap and "
                       "maximum SM clock (meta.power_cap_w, "
                       "meta.max_clock_mhz: NVML's), got %g W and %g MHz",
                       cap_w, max_clock_mhz);
    const mdl_power_point *idle = NULL;
    for (size_t i = 0; i < n; i++)
        if (pts[i].n == 0)
            idle = &pts[i];
    if (!idle)
        return ut_errf(err, "power: expected the board idle (a \"power\" "
                       "record of set \"idle\"), got none");
    if (!(idle->power_w < cap_w))
        return ut_errf(err, "%s:%d: power.power_w: expected the idle board "
                       "below its cap (%g W), got %g", idle->file,
                       idle->line, cap_w, idle->power_w);
    mdl_power p = {0};
    p.idle_w = idle->power_w;
    p.cap_w = cap_w;
    p.max_clock_mhz = max_clock_mhz;
    p.hold_w = cap_w;
    p.alpha = 3;
    p.models = ut_xcalloc(n ? n : 1, sizeof *p.models);
    double (*clk)[MDL_POWER_BATCHES][MDL_POWER_SHARES] =
        ut_xcalloc(n ? n : 1, sizeof *clk);
    set_obs *obs = ut_xcalloc(n ? n : 1, sizeof *obs);
    size_t nobs = 0;
    mdl_power_fit f = {0};
    int fitted = 0, rc = solo_tables(pts, n, p.idle_w, &p, clk, err);
    if (rc == 0 && p.nmodels == 0)
        rc = ut_errf(err, "power: expected solo points (set \"solo\"), got "
                     "none");
    /* fit; raise the solo points measured below the maximum clock to it
     * with that alpha (from what they measured); again until the fit no
     * longer changes (at most 10 times) */
    mdl_power_model *orig = ut_xcalloc(p.nmodels ? p.nmodels : 1,
                                       sizeof *orig);
    memcpy(orig, p.models, p.nmodels * sizeof *orig);
    for (int pass = 0; pass < 10 && rc == 0; pass++) {
        if ((rc = set_demands(pts, n, &p, max_clock_mhz, obs, &nobs,
                              err)) < 0)
            break;
        f.throttled = 0;
        for (size_t i = 0; i < nobs; i++)
            f.throttled += obs[i].ratio < 1;
        fitted = f.throttled > 0;
        double hold = p.hold_w, alpha = p.alpha;
        if (fitted)
            fit_hold(obs, nobs, p.idle_w, cap_w, &p.hold_w, &p.alpha);
        if (pass > 0 && hold == p.hold_w && alpha == p.alpha)
            break;
        for (size_t m = 0; m < p.nmodels; m++)
            for (size_t b = 0; b < p.models[m].nbatches; b++)
                for (size_t s = 0; s < p.models[m].nshares; s++)
                    if (clk[m][b][s] < max_clock_mhz)
                        p.models[m].dyn_w[b][s] =
                            orig[m].dyn_w[b][s] *
                            pow(max_clock_mhz / clk[m][b][s], p.alpha);
    }
    free(orig);
    if (rc == 0) {
        f.sets = nobs;
        size_t nsum = 0;
        for (size_t i = 0; i < nobs; i++) {
            double e = 100 * fabs(mdl_power_clock(&p, obs[i].demand) -
                                  obs[i].ratio);
            f.clock_err_mean_pct += e / (double)nobs;
            f.clock_err_max_pct = fmax(f.clock_err_max_pct, e);
            if (obs[i].ratio < 1)
                continue;
            double s = 100 * (p.idle_w + obs[i].demand - obs[i].power_w) /
                       obs[i].power_w;
            f.sum_err_mean_pct += s;
            f.sum_err_abs_pct += fabs(s);
            nsum++;
        }
        if (nsum) {
            f.sum_err_mean_pct /= (double)nsum;
            f.sum_err_abs_pct /= (double)nsum;
        }
        write_json(&p, source, &f, fitted, text);
        if (fit)
            *fit = f;
    }
    free(obs);
    free(clk);
    mdl_power_free(&p);
    return rc;
}

/* ---- load ----------------------------------------------------------------- */

/* An ascending array of 1..max positive numbers (batch: each >= 1; share:
 * each <= 100). */
static int load_axis(const cJSON *o, const char *key, const char *where,
                     double *x, size_t max, int batch, size_t *n,
                     ut_err *err)
{
    if (ut_json_numarr(o, key, where, x, 0, n, err) < 0)
        return -1;
    if (*n == 0 || *n > max)
        return ut_errf(err, "%s.%s: expected 1..%zu values, got %zu", where,
                       key, max, *n);
    for (size_t k = 0; k < *n; k++)
        if (!(batch ? x[k] >= 1 && x[k] <= 4096
                    : x[k] > 0 && x[k] <= 100) ||
            (k && !(x[k] > x[k - 1])))
            return ut_errf(err, "%s.%s[%zu]: expected %s, ascending, got %g",
                           where, key, k,
                           batch ? "a batch in [1, 4096]"
                                 : "a share in (0, 100]",
                           x[k]);
    return 0;
}

static int load_model(const cJSON *o, const char *where, mdl_power_model *t,
                      ut_err *err)
{
    char d[64];
    if (!cJSON_IsObject(o))
        return ut_errf(err, "%s: expected an object, got %s", where,
                       ut_json_describe(o, d, sizeof d));
    if (load_axis(o, "share_pct", where, t->share_pct, MDL_POWER_SHARES, 0,
                  &t->nshares, err) < 0 ||
        load_axis(o, "batch", where, t->batch, MDL_POWER_BATCHES, 1,
                  &t->nbatches, err) < 0)
        return -1;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(o, "dyn_w");
    if (!cJSON_IsArray(rows) ||
        (size_t)cJSON_GetArraySize(rows) != t->nbatches)
        return ut_errf(err, "%s.dyn_w: expected an array of %zu rows (one "
                       "per batch), got %s", where, t->nbatches,
                       ut_json_describe(rows, d, sizeof d));
    for (size_t b = 0; b < t->nbatches; b++) {
        const cJSON *row = cJSON_GetArrayItem(rows, (int)b);
        if (!cJSON_IsArray(row) ||
            (size_t)cJSON_GetArraySize(row) != t->nshares)
            return ut_errf(err, "%s.dyn_w[%zu]: expected an array of %zu "
                           "numbers (one per share), got %s", where, b,
                           t->nshares, ut_json_describe(row, d, sizeof d));
        for (size_t s = 0; s < t->nshares; s++) {
            const cJSON *c = cJSON_GetArrayItem(row, (int)s);
            if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0) ||
                !(c->valuedouble < 1e6))
                return ut_errf(err, "%s.dyn_w[%zu][%zu]: expected watts in "
                               "[0, 1e6), got %s", where, b, s,
                               ut_json_describe(c, d, sizeof d));
            t->dyn_w[b][s] = c->valuedouble;
        }
    }
    t->has = 1;
    return 0;
}

int mdl_power_load(const char *path, const mdl_measured *m, mdl_power *out,
                   ut_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return -1;
    char d[64];
    long version = 0;
    int rc = 0;
    if (!cJSON_IsObject(root))
        rc = ut_errf(err, "%s: expected an object, got %s", path,
                     ut_json_describe(root, d, sizeof d));
    if (rc == 0)
        rc = ut_json_int(root, "version", path, MDL_POWER_VERSION,
                         MDL_POWER_VERSION, &version, err);
    if (rc == 0)
        rc = ut_json_pos(root, "idle_w", path, &out->idle_w, err) < 0 ||
                     ut_json_pos(root, "cap_w", path, &out->cap_w, err) < 0 ||
                     ut_json_pos(root, "hold_w", path, &out->hold_w, err) < 0 ||
                     ut_json_pos(root, "alpha", path, &out->alpha, err) < 0 ||
                     ut_json_pos(root, "max_clock_mhz", path,
                                 &out->max_clock_mhz, err) < 0
                 ? -1
                 : 0;
    if (rc == 0 && !(out->hold_w > out->idle_w && out->hold_w < 1e6))
        rc = ut_errf(err, "%s.hold_w: expected more than idle_w (%g W), "
                     "below 1e6, got %g", path, out->idle_w, out->hold_w);
    if (rc == 0 && !(out->alpha >= 0.1 && out->alpha <= 20))
        rc = ut_errf(err, "%s.alpha: expected a number in [0.1, 20], got "
                     "%g", path, out->alpha);
    const cJSON *models = rc == 0
                              ? cJSON_GetObjectItemCaseSensitive(root,
                                                                 "models")
                              : NULL;
    if (rc == 0 && !cJSON_IsObject(models))
        rc = ut_errf(err, "%s.models: expected an object of models, got %s",
                     path, ut_json_describe(models, d, sizeof d));
    if (rc == 0) {
        out->nmodels = m->nsolo;
        out->models = ut_xcalloc(m->nsolo ? m->nsolo : 1,
                                 sizeof *out->models);
        const cJSON *it;
        cJSON_ArrayForEach(it, models) {
            int k = mdl_measured_find(m, it->string);
            char where[UT_PATH_MAX + 64];
            snprintf(where, sizeof where, "%s.models.%.40s", path,
                     it->string);
            if (k < 0)
                continue;       /* a model the measured data lacks */
            mdl_power_model *t = &out->models[k];
            snprintf(t->name, sizeof t->name, "%s", it->string);
            if ((rc = load_model(it, where, t, err)) < 0)
                break;
        }
    }
    cJSON_Delete(root);
    if (rc < 0)
        mdl_power_free(out);
    return rc;
}
