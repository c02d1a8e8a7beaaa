/*
 * be_fixed.c - the `fixed` back end (sim.h): a given service time per
 * workload, constant, exponential or gamma with a given coefficient of
 * variation (seeded per instance), and no interference. For checking the
 * engine against queueing theory (M/D/1, M/M/1, M/G/1) and for what-if
 * runs without a profile.
 */
#include "sim/sim.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct fixed_inst {
    double mean_ns;
    int exp;
    double cv;               /* gamma: shape 1/cv^2, scale mean cv^2 */
    gsl_rng *rng;            /* exponential or gamma: its own stream */
} fixed_inst;

typedef struct fixed_state {
    uint64_t seed;
    size_t n, cap;
    fixed_inst *in;
} fixed_state;

static void fixed_free(void *st)
{
    fixed_state *s = st;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->in[i].rng)
            gsl_rng_free(s->in[i].rng);
    free(s->in);
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
    UT_GROW(s->in, s->cap, i + 1);   /* zeroed: no generator yet */
    if (i >= s->n)
        s->n = i + 1;
    fixed_inst *I = &s->in[i];
    I->mean_ns = d->service_ms * 1e6;
    I->exp = d->service_exp;
    I->cv = d->service_exp ? 0 : d->service_cv;
    if ((d->service_exp || I->cv > 0) && !I->rng) {
        char key[POL_NAME_MAX + 32];
        snprintf(key, sizeof key, "service:%s#%zu", d->name, i);
        I->rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(I->rng, (unsigned long)trace_stream_seed(s->seed, key));
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
    const fixed_inst *I = &s->in[inst];
    if (!I->rng)   /* constant: the one test of every M/D/1 batch */
        return I->mean_ns;
    if (I->exp)
        return gsl_ran_exponential(I->rng, I->mean_ns);
    if (I->cv > 0)
        return gsl_ran_gamma(I->rng, 1 / (I->cv * I->cv),
                             I->mean_ns * I->cv * I->cv);
    return I->mean_ns;
}

static void fixed_factors(void *st, const sim_active *a, size_t n, double *f)
{
    (void)st;
    (void)a;
    for (size_t i = 0; i < n; i++)
        f[i] = 1;
}

const sim_backend_ops sim_backend_fixed = {
    .version = SIM_BACKEND_VERSION,
    .name = "fixed",
    .summary = "a given service time per workload (constant, "
               "exponential or gamma), no interference",
    .init = fixed_init,
    .set = fixed_set,
    .solo_ns = fixed_solo,
    .factors = fixed_factors,
    .free = fixed_free,
    .no_interference = 1,
};
