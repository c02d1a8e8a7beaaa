/*
 * be_measured.c - the `measured` back end (sim.h): latencies from measured
 * data (a GPU's solo tables and co-located pairs, model/model.h's
 * mdl_measured_colocated, interpolated across batch and share) instead of
 * a model: what judges every policy alike. Each batch's service time is
 * drawn from the measured distribution of the nearest measured point,
 * scaled to the interpolated mean (mdl_measured_servdist; seeded per
 * instance), since a queue near capacity or under bursts waits on the
 * spread as much as on the mean (Pollaczek-Khinchine: E[S^2]).
 *
 * `measured-mean` is the same back end with every batch at its mean, as
 * `measured` was before the distributions: the same bytes as then. The
 * per-instance bookkeeping is the model back end's (sim_pred_*,
 * be_model.c).
 */
#include "sim/backend_int.h"

static int measured_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 1, 1, err);
}

static int mean_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 1, 0, err);
}

const sim_backend_ops sim_backend_measured = {
    .version = SIM_BACKEND_VERSION,
    .name = "measured",
    .summary = "measured solo and pair latencies (--measured), interpolated;"
               " service times drawn from the measured distributions",
    .init = measured_init,
    .set = sim_pred_set,
    .solo_ns = sim_pred_solo,
    .factors = sim_pred_factors,
    .free = sim_pred_free,
};

const sim_backend_ops sim_backend_measured_mean = {
    .version = SIM_BACKEND_VERSION,
    .name = "measured-mean",
    .summary = "measured, every batch at its interpolated mean service time",
    .init = mean_init,
    .set = sim_pred_set,
    .solo_ns = sim_pred_solo,
    .factors = sim_pred_factors,
    .free = sim_pred_free,
};
