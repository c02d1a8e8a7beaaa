/*
 * ffd.c - FFD+, the first baseline of the iGniter paper: iGniter's batches
 * and share lower bounds (Algorithm 1, steps 1-5), placed first-fit
 * decreasing with no interference awareness: a GPU is full at 100 % (at the
 * profile's colocated_pct once it holds two workloads) and no
 * share is raised for co-location. Its plans therefore use the fewest GPUs
 * and the plan's predicted latencies show where interference will bite.
 */
#include "policies/alg1.h"

static int ffd_place(alg1 *a, int w, ut_err *err)
{
    (void)err;
    long r = alg1_bound(a, w);
    size_t n = alg1_ngpus(a);
    for (size_t j = 0; j < n; j++)
        if (alg1_gpu_total(a, j) + r <= alg1_colocated_units(a) &&
            alg1_gpu_count(a, j) < MDL_MAX_COLOC) {
            alg1_put(a, j, w, r);
            return 0;
        }
    alg1_put(a, n, w, r);
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
