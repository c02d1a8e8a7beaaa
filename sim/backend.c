/*
 * backend.c - the simulator's back ends (sim.h) and their registry.
 *
 *   fixed     a service time per workload, constant or exponential; no
 *             interference (queueing-theory validation)
 *   model     the iGniter model: a batch's latency alone and its slow-down
 *             beside whatever else runs on the GPU at that moment
 *   measured  measured V100 (or captured) latencies: solo tables and pair
 *             slow-downs (model/model.h, mdl_measured_colocated)
 *
 * A back end answers two questions: how long a batch takes alone, and how
 * much slower each of a set of co-running batches goes. The engine turns
 * those into overlap-aware durations.
 */
#include "sim/sim.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOLO_CACHE_BATCH 64

/* ---- fixed ----------------------------------------------------------------- */

typedef struct fixed_state {
    uint64_t seed;
    size_t n, cap;
    double *mean_ns;
    int *exp;
    gsl_rng **rng;
} fixed_state;

static void fixed_free(void *st)
{
    fixed_state *s = st;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->rng[i])
            gsl_rng_free(s->rng[i]);
    free(s->rng);
    free(s->mean_ns);
    free(s->exp);
    free(s);
}

static int fixed_set(void *st, int inst, const sim_inst_desc *d, ut_err *err)
{
    fixed_state *s = st;
    size_t i = (size_t)inst;
    if (!(d->service_ms > 0))
        return ut_errf(err, "workload \"%s\": service_ms: expected a "
                       "positive number for the fixed back end, got %g",
                       d->name, d->service_ms);
    if (i >= s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        while (cap <= i)
            cap *= 2;
        s->mean_ns = ut_xrealloc(s->mean_ns, cap * sizeof *s->mean_ns);
        s->exp = ut_xrealloc(s->exp, cap * sizeof *s->exp);
        s->rng = ut_xrealloc(s->rng, cap * sizeof *s->rng);
        for (size_t k = s->cap; k < cap; k++)
            s->rng[k] = NULL;
        s->cap = cap;
    }
    if (i >= s->n)
        s->n = i + 1;
    s->mean_ns[i] = d->service_ms * 1e6;
    s->exp[i] = d->service_exp;
    if (d->service_exp && !s->rng[i]) {
        char key[POL_NAME_MAX + 32];
        snprintf(key, sizeof key, "service:%s#%zu", d->name, i);
        s->rng[i] = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(s->rng[i], (unsigned long)trace_stream_seed(s->seed, key));
    }
    return 0;
}

static int fixed_init(const sim_backend_args *a, void **state, ut_err *err)
{
    fixed_state *s = ut_xcalloc(1, sizeof *s);
    s->seed = a->seed;
    for (size_t i = 0; i < a->ninst; i++)
        if (fixed_set(s, (int)i, &a->inst[i], err) < 0) {
            fixed_free(s);
            return -1;
        }
    *state = s;
    return 0;
}

static double fixed_solo(void *st, int inst, int batch)
{
    fixed_state *s = st;
    (void)batch;
    if (s->exp[inst])
        return gsl_ran_exponential(s->rng[inst], s->mean_ns[inst]);
    return s->mean_ns[inst];
}

static void fixed_factors(void *st, const sim_active *a, size_t n, double *f)
{
    (void)st;
    (void)a;
    for (size_t i = 0; i < n; i++)
        f[i] = 1;
}

/* ---- model and measured share the per-instance bookkeeping -------------- */

typedef struct pred_state {
    const mdl_fitted *fit;
    const mdl_measured *meas;
    size_t n, cap;
    int *model;          /* index into fit->models or meas->solo */
    double *share;
    double *solo_ms;     /* [inst * SOLO_CACHE_BATCH + batch - 1], 0 = unset */
} pred_state;

static void pred_free(void *st)
{
    pred_state *s = st;
    if (!s)
        return;
    free(s->model);
    free(s->share);
    free(s->solo_ms);
    free(s);
}

static int pred_set(void *st, int inst, const sim_inst_desc *d, ut_err *err)
{
    pred_state *s = st;
    size_t i = (size_t)inst;
    int m = s->meas ? mdl_measured_find(s->meas, d->model)
                    : mdl_find(s->fit, d->model);
    if (m < 0) {
        char names[256] = "";
        if (s->meas) {
            size_t len = 0;
            for (size_t k = 0; k < s->meas->nsolo; k++)
                len += (size_t)snprintf(names + len, sizeof names - len,
                                        "%s%s", k ? ", " : "",
                                        s->meas->solo[k].name);
        } else {
            mdl_names(s->fit, names, sizeof names);
        }
        return ut_errf(err, "workload \"%s\": model: the %s back end has %s, "
                       "not \"%s\"", d->name, s->meas ? "measured" : "model",
                       names, d->model);
    }
    if (i >= s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        while (cap <= i)
            cap *= 2;
        s->model = ut_xrealloc(s->model, cap * sizeof *s->model);
        s->share = ut_xrealloc(s->share, cap * sizeof *s->share);
        s->solo_ms = ut_xrealloc(s->solo_ms,
                                 cap * SOLO_CACHE_BATCH * sizeof *s->solo_ms);
        s->cap = cap;
    }
    if (i >= s->n)
        s->n = i + 1;
    s->model[i] = m;
    s->share[i] = d->share_pct;
    memset(&s->solo_ms[i * SOLO_CACHE_BATCH], 0,
           SOLO_CACHE_BATCH * sizeof *s->solo_ms);
    return 0;
}

static int pred_init(const sim_backend_args *a, void **state, int measured,
                     ut_err *err)
{
    if (measured ? !a->measured : !a->fit)
        return ut_errf(err, "backend %s: expected %s, got none",
                       measured ? "measured" : "model",
                       measured ? "measured data (--measured)"
                                : "a profile (--profile)");
    pred_state *s = ut_xcalloc(1, sizeof *s);
    s->fit = a->fit;
    s->meas = measured ? a->measured : NULL;
    for (size_t i = 0; i < a->ninst; i++)
        if (pred_set(s, (int)i, &a->inst[i], err) < 0) {
            pred_free(s);
            return -1;
        }
    *state = s;
    return 0;
}

static int model_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return pred_init(a, state, 0, err);
}

static int measured_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return pred_init(a, state, 1, err);
}

static void pred_lat_ms(const pred_state *s, const mdl_place *p, size_t n,
                        double *lat)
{
    if (s->meas)
        mdl_measured_colocated(s->meas, p, n, lat);
    else
        mdl_predict(s->fit, p, n, lat, NULL);
}

/* A batch's latency alone, cached per (instance, batch): the engine asks
 * for it at every batch start and for every factor. */
static double solo_ms(pred_state *s, int inst, int batch)
{
    double *c = batch <= SOLO_CACHE_BATCH
                    ? &s->solo_ms[(size_t)inst * SOLO_CACHE_BATCH + batch - 1]
                    : NULL;
    if (c && *c > 0)
        return *c;
    mdl_place p = {s->model[inst], batch, s->share[inst]};
    double lat;
    pred_lat_ms(s, &p, 1, &lat);
    if (c)
        *c = lat;
    return lat;
}

static double pred_solo(void *st, int inst, int batch)
{
    return solo_ms(st, inst, batch) * 1e6;
}

static void pred_factors(void *st, const sim_active *a, size_t n, double *f)
{
    pred_state *s = st;
    if (n == 1) {
        f[0] = 1;
        return;
    }
    mdl_place p[MDL_MAX_COLOC];
    double lat[MDL_MAX_COLOC];
    for (size_t i = 0; i < n; i++) {
        p[i].model = s->model[a[i].inst];
        p[i].batch = a[i].batch;
        p[i].share_pct = s->share[a[i].inst];
    }
    pred_lat_ms(s, p, n, lat);
    for (size_t i = 0; i < n; i++)
        f[i] = lat[i] / solo_ms(s, a[i].inst, a[i].batch);
}

/* ---- registry ------------------------------------------------------------- */

static const sim_backend_ops backends[] = {
    {SIM_BACKEND_VERSION, "fixed",
     "a given service time per workload (constant or exponential), no "
     "interference", fixed_init, fixed_set, fixed_solo, fixed_factors,
     fixed_free},
    {SIM_BACKEND_VERSION, "model",
     "the iGniter model fitted on the profile", model_init, pred_set,
     pred_solo, pred_factors, pred_free},
    {SIM_BACKEND_VERSION, "measured",
     "measured solo and pair latencies (--measured), interpolated",
     measured_init, pred_set, pred_solo, pred_factors, pred_free},
};

const sim_backend_ops *sim_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (!strcmp(backends[i].name, name))
            return &backends[i];
    return NULL;
}

const char *sim_backend_names(char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof backends / sizeof backends[0] && len < n;
         i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : "",
                                backends[i].name);
    return out;
}
