/*
 * be_model.c - the `model` back end (sim.h): the iGniter model fitted on
 * the profile gives a batch's latency alone on its share and beside
 * whatever else runs on the GPU at that moment. The per-instance
 * bookkeeping (sim_pred_*) is shared with the `measured` back ends
 * (be_measured.c), which ask measured data instead of the model and may
 * draw each batch's service time from its measured distribution.
 */
#include "sim/backend_int.h"

#include <gsl/gsl_rng.h>
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
    /* sampled service times: the shape per batch (sd_ok[batch - 1]: 1
     * once computed), nsd of them, and the instance's own stream */
    int nsd;
    mdl_servdist *sd;
    unsigned char *sd_ok;
    gsl_rng *rng;
} pred_inst;

/*
 * The factors of a set of co-running batches, cached: they depend only on
 * the ordered (instance, batch) pairs running, and the engine asks for
 * them at every batch start and end, where the measured data's
 * interpolations cost about half of a run. Direct-mapped (a collision
 * replaces), at most FC_MAXN batches a set (a larger set is computed every
 * time), and valid for one generation: sim_pred_set, which may change an
 * instance's model or share, starts a new one, so that nothing stale is
 * ever returned (and an init of 100,000 instances clears nothing).
 */
#define FC_MAXN 8
#define FC_SLOTS 16384          /* a power of 2; about 2.4 MiB */
typedef struct fc_entry {
    uint32_t gen, n;
    int32_t key[2 * FC_MAXN];   /* inst, batch, ... */
    double f[FC_MAXN];
} fc_entry;

/* Instances per workload name, for the sampling streams' keys. */
typedef struct name_count {
    char *name;
    int n;
} name_count;

typedef struct pred_state {
    const mdl_fitted *fit;
    const mdl_measured *meas;
    int sample;          /* draw service times (measured back end) */
    uint64_t seed;
    size_t n, cap;
    pred_inst *in;
    uint32_t gen;        /* the factor cache's generation, from 1 */
    fc_entry *fc;        /* FC_SLOTS, allocated at the first set of 2 */
    name_count *names;   /* open addressing, ncap slots (a power of 2) */
    size_t nnames, ncap;
} pred_state;

void sim_pred_free(void *st)
{
    pred_state *s = st;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->in[i].solo_ms);
        free(s->in[i].sd);
        free(s->in[i].sd_ok);
        if (s->in[i].rng)
            gsl_rng_free(s->in[i].rng);
    }
    for (size_t i = 0; i < s->ncap; i++)
        free(s->names[i].name);
    free(s->names);
    free(s->in);
    free(s->fc);
    free(s);
}

/* How many instances of workload `name` came before this one (0 for the
 * first): its sampling stream is "service:NAME#K", so that it does not
 * change with the number of instances of other workloads. */
static int name_rank(pred_state *s, const char *name)
{
    if (2 * (s->nnames + 1) > s->ncap) {
        size_t ncap = s->ncap ? 2 * s->ncap : 64;
        name_count *t = ut_xcalloc(ncap, sizeof *t);
        for (size_t i = 0; i < s->ncap; i++) {
            if (!s->names[i].name)
                continue;
            const char *nm = s->names[i].name;
            size_t h = ut_hash(UT_HASH_INIT, nm, strlen(nm));
            while (t[h & (ncap - 1)].name)
                h++;
            t[h & (ncap - 1)] = s->names[i];
        }
        free(s->names);
        s->names = t;
        s->ncap = ncap;
    }
    size_t h = ut_hash(UT_HASH_INIT, name, strlen(name));
    for (;; h++) {
        name_count *e = &s->names[h & (s->ncap - 1)];
        if (!e->name) {
            e->name = ut_xmalloc(strlen(name) + 1);
            strcpy(e->name, name);
            s->nnames++;
        } else if (strcmp(e->name, name)) {
            continue;
        }
        return e->n++;
    }
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
    if (I->nsd)
        memset(I->sd_ok, 0, (size_t)I->nsd);
    if (s->sample && !I->rng) {
        char key[POL_NAME_MAX + 32];
        snprintf(key, sizeof key, "service:%s#%d", d->name,
                 name_rank(s, d->name));
        I->rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(I->rng, (unsigned long)trace_stream_seed(s->seed, key));
    }
    if (++s->gen == 0)          /* wrapped: entries of generation 0 */
        s->gen = 1;             /* could look valid; start over */
    if (s->gen == 1 && s->fc)
        memset(s->fc, 0, FC_SLOTS * sizeof *s->fc);
    return 0;
}

int sim_pred_init(const sim_backend_args *a, void **state, int measured,
                  int sample, ut_err *err)
{
    if (measured ? !a->measured : !a->fit)
        return ut_errf(err, "backend %s: expected %s, got none",
                       measured ? "measured" : "model",
                       measured ? "measured data (--measured)"
                                : "a profile (--profile)");
    pred_state *s = ut_xcalloc(1, sizeof *s);
    s->fit = a->fit;
    s->meas = measured ? a->measured : NULL;
    s->sample = measured && sample;
    s->seed = a->seed;
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
    if (s->meas) {
        mdl_measured_colocated(s->meas, p, n, lat);
        if (s->meas->mps)       /* MPS: the correction over green (mps.c) */
            mdl_mps_apply(s->meas->mps, p, n, lat);
        if (s->meas->power)     /* the clock under the power cap */
            mdl_power_apply(s->meas->power, p, n, lat);
    } else
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

/* The service-time shape of a batch of instance inst, per batch size up
 * to SOLO_CACHE_BATCH (above it, found each time into *tmp). */
static const mdl_servdist *shape(pred_state *s, int inst, int batch,
                                 mdl_servdist *tmp)
{
    pred_inst *I = &s->in[inst];
    if (batch > SOLO_CACHE_BATCH) {
        mdl_measured_servdist(s->meas, I->model, batch, I->share, tmp);
        return tmp;
    }
    if (batch > I->nsd) {
        I->sd = ut_xrealloc(I->sd, (size_t)batch * sizeof *I->sd);
        I->sd_ok = ut_xrealloc(I->sd_ok, (size_t)batch);
        memset(I->sd_ok + I->nsd, 0, (size_t)(batch - I->nsd));
        I->nsd = batch;
    }
    if (!I->sd_ok[batch - 1]) {
        mdl_measured_servdist(s->meas, I->model, batch, I->share,
                              &I->sd[batch - 1]);
        I->sd_ok[batch - 1] = 1;
    }
    return &I->sd[batch - 1];
}

/* Mean-only: the interpolated mean, as before sampling existed (the same
 * bytes). Sampled: that mean times a draw of the nearest measured point's
 * shape (mean 1), from the instance's own stream. */
double sim_pred_solo(void *st, int inst, int batch)
{
    pred_state *s = st;
    double mean_ns = solo_ms(s, inst, batch) * 1e6;
    if (!s->sample)
        return mean_ns;
    mdl_servdist tmp;
    const mdl_servdist *d = shape(s, inst, batch, &tmp);
    if (d->kind == MDL_SD_NONE)
        return mean_ns;
    return mean_ns * mdl_sd_at(d, gsl_rng_uniform(s->in[inst].rng));
}

void sim_pred_factors(void *st, const sim_active *a, size_t n,
                      double *f)
{
    pred_state *s = st;
    if (n == 1) {
        f[0] = 1;
        return;
    }
    fc_entry *e = NULL;
    if (n <= FC_MAXN) {
        int32_t key[2 * FC_MAXN];
        for (size_t i = 0; i < n; i++) {
            key[2 * i] = a[i].inst;
            key[2 * i + 1] = a[i].batch;
        }
        if (!s->fc)
            s->fc = ut_xcalloc(FC_SLOTS, sizeof *s->fc);
        uint64_t h = ut_hash(UT_HASH_INIT, key, 2 * n * sizeof *key);
        e = &s->fc[(h ^ (h >> 29)) & (FC_SLOTS - 1)];
        if (e->gen == s->gen && e->n == n &&
            !memcmp(e->key, key, 2 * n * sizeof *key)) {
            memcpy(f, e->f, n * sizeof *f);
            return;
        }
        e->gen = s->gen;
        e->n = (uint32_t)n;
        memcpy(e->key, key, 2 * n * sizeof *key);
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
    if (e)
        memcpy(e->f, f, n * sizeof *f);
}

static int model_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 0, 0, err);
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
