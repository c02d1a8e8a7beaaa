/*
 * ffd.c - FFD+, the first baseline of the iGniter paper: iGniter's batches
 * and share lower bounds (Algorithm 1, steps 1-5), placed first-fit
 * decreasing with no interference awareness: a GPU is full at 100 % (at the
 * profile's colocated_pct once it holds two workloads) and no
 * share is raised for co-location. Its plans therefore use the fewest GPUs
 * and the plan's predicted latencies show where interference will bite.
 * The first fit comes from alg1's index of free shares, not a scan of
 * every GPU: 100,000 workloads place in a tenth of a second.
 */
#include "policies/alg1.h"

static int ffd_place(alg1 *a, int w, ut_err *err)
{
    (void)err;
    long r = alg1_bound(a, w);
    alg1_put(a, alg1_first_fit(a, r), w, r);
    return 0;
}

static int ffd_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return alg1_plan(req, ffd_place, out, err);
}

const pol_ops pol_ffd = {
    .version = POL_OPS_VERSION,
    .name = "ffd",
    .summary = "FFD+: iGniter's batches and share bounds, first-fit decreasing, "
        "interference-unaware",
    .plan = ffd_plan,
};
