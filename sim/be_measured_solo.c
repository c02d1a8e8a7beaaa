/*
 * be_measured_solo.c - the `measured-solo` back end (sim.h): the measured
 * back end's solo latencies with no interference at all (every slow-down
 * 1). A reference point, not a GPU: simulating a plan under it and under
 * `measured` separates what queueing costs from what co-location costs,
 * and it is the "no interference" predictor that the H100 and H200
 * captures found closer to the measured pairs than iGniter's model.
 * Service times are drawn as `measured` draws them, so that the two
 * differ by interference only.
 */
#include "sim/backend_int.h"

static int solo_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 1, 1, err);
}

static void solo_factors(void *st, const sim_active *a, size_t n, double *f)
{
    (void)st;
    (void)a;
    for (size_t i = 0; i < n; i++)
        f[i] = 1;
}

const sim_backend_ops sim_backend_measured_solo = {
    .version = SIM_BACKEND_VERSION,
    .name = "measured-solo",
    .summary = "measured solo latencies, interference ignored (a reference)",
    .init = solo_init,
    .set = sim_pred_set,
    .solo_ns = sim_pred_solo,
    .factors = solo_factors,
    .free = sim_pred_free,
    .no_interference = 1,
};
