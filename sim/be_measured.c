/*
 * be_measured.c - the `measured` back end (sim.h): latencies from measured
 * data (a GPU's solo tables and co-located pairs, model/model.h's
 * mdl_measured_colocated, interpolated across batch and share) instead of
 * a model: what judges every policy alike. The per-instance bookkeeping is
 * the model back end's (sim_pred_*, be_model.c).
 */
#include "sim/backend_int.h"

static int measured_init(const sim_backend_args *a, void **state, ut_err *err)
{
    return sim_pred_init(a, state, 1, err);
}

const sim_backend_ops sim_backend_measured = {
    .version = SIM_BACKEND_VERSION,
    .name = "measured",
    .summary = "measured solo and pair latencies (--measured), interpolated",
    .init = measured_init,
    .set = sim_pred_set,
    .solo_ns = sim_pred_solo,
    .factors = sim_pred_factors,
    .free = sim_pred_free,
};
