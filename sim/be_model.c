/*
 * be_model.c - the `model` back end (sim.h): the iGniter model fitted on
 * the profile gives a batch's latency alone on its share and beside
 * whatever else runs on the GPU at that moment. The per-instance
 * bookkeeping (sim_pred_*) is shared with the `measured` back end
 * (be_measured.c), which asks measured data instead of the model.
 */
#include "sim/backend_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOLO_CACHE_BATCH 64

/* The solo latencies cached per batch size, as many as the largest batch
 * asked so far (up to SOLO_CACHE_BATCH): a fixed array of 64 was 0.5 KiB
 * per instance, 64 MiB for a plan of 100,000 workloads. */
typedef struct pred_inst {
    int model;           /* index into fit->models or meas->solo */
    int nsolo;
    double share;
    double *solo_ms;     /* [batch - 1], nsolo of them; 0 = not yet */
} pred_inst;

typedef struct pred_state {
    const mdl_fitted *fit;
    const mdl_measured *meas;
    size_t n, cap;
    pred_inst *in;
} pred_state;

void sim_pred_free(void *st)
{
    pred_state *s = st;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->in[i].solo_ms);
    free(s->in);
    free(s);
}

int sim_pred_set(void *st, int inst, const sim_inst_desc *d, ut_err *err)
{
    pred_state *s = st;
    size_t i = (size_t)inst;
    int m = s->meas ? mdl_measured_find(s->meas, d->model)
                    : mdl_find(s->fit, d->model);
    if (m < 0) {
        char names[256];
        return ut_errf(err, "workload \"%s\": model: the %s back end has %s, "
                       "not \"%s\"", d->name, s->meas ? "measured" : "model",
                       s->meas ? mdl_measured_names(s->meas, names,
                                                    sizeof names)
                               : mdl_names(s->fit, names, sizeof names),
                       d->model);
    }
    UT_GROW(s->in, s->cap, i + 1);
    if (i >= s->n)
        s->n = i + 1;
    pred_inst *I = &s->in[i];
    I->model = m;
    I->share = d->share_pct;
    if (I->nsolo)
        memset(I->solo_ms, 0, (size_t)I->nsolo * sizeof *I->solo_ms);
    return 0;
}

int sim_pred_init(const sim_backend_args *a, void **state, int measured,
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
        if (sim_pred_set(s, (int)i, &a->inst[i], err) < 0) {
            sim_pred_free(s);
            return -1;
        }
    *state = s;
    return 0;
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
    pred_inst *I = &s->in[inst];
    if (batch <= SOLO_CACHE_BATCH && batch > I->nsolo) {
        I->solo_ms = ut_xrealloc(I->solo_ms, (size_t)batch *
                                                 sizeof *I->solo_ms);
        memset(I->solo_ms + I->nsolo, 0,
               (size_t)(batch - I->nsolo) * sizeof *I->solo_ms);
        I->nsolo = batch;
    }
    double *c = batch <= SOLO_CACHE_BATCH ? &I->solo_ms[batch - 1] : NULL;
    if (c && *c > 0)
        return *c;
    mdl_place p = {I->model, batch, I->share};
    double lat;
    pred_lat_ms(s, &p, 1, &lat);
    if (c)
        *c = lat;
    return lat;
}

double sim_pred_solo(void *st, int inst, int batch)
{
    return solo_ms(st, inst, batch) * 1e6;
}

void sim_pred_factors(void *st, const sim_active *a, size_t n,
                      double *f)
{
    pred_state *s = st;
    if (n == 1) {
        f[0] = 1;
        return;
    }
    mdl_place p[MDL_MAX_COLOC];
    double lat[MDL_MAX_COLOC];
    for (size_t i = 0; i < n; i++) {
        p[i].model = s->in[a[i].inst].model;
        p[i].batch = a[i].batch;
        p[i].share_pct = s->in[a[i].inst].share;
    }
    pred_lat_ms(s, p, n, lat);
    for (size_t i = 0; i < n; i++)
        f[i] = lat[i] / solo_ms(s, a[i].inst, a[i].batch);
}

static int model_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 0, err);
}

const sim_backend_ops sim_backend_model = {
    .version = SIM_BACKEND_VERSION,
    .name = "model",
    .summary = "the iGniter model fitted on the profile",
    .init = model_init,
    .set = sim_pred_set,
    .solo_ns = sim_pred_solo,
    .factors = sim_pred_factors,
    .free = sim_pred_free,
};
