/*
 * exclusive.c - no sharing: every workload on whole GPUs of its own, with
 * the batch that serves it on the fewest GPUs while meeting its budget.
 *
 * The budget is iGniter's: half the SLO for a batch to run (the other half
 * to fill it). A batch b qualifies when its predicted latency alone on a
 * whole GPU is within the budget and it fills within half the SLO at the
 * rate each GPU receives; each GPU is loaded to at most 90 % of its
 * predicted throughput, as iGniter loads its whole-GPU replicas. Among the
 * qualifying batches the one needing the fewest GPUs wins, the smaller
 * batch on ties (lower latency).
 */
#include "policies/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HEADROOM 0.9

static int exclusive_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    const mdl_fitted *f = req->fit;
    memset(out, 0, sizeof *out);
    size_t cap = 16;
    out->gpus = ut_xcalloc(cap, sizeof *out->gpus);
    for (size_t i = 0; i < req->n; i++) {
        const pol_workload *w = &req->w[i];
        int m = mdl_find(f, w->model);   /* checked by the caller */
        double s = w->slo_ms / 2;
        int best_b = 0;
        long best_n = 0;
        double best_lat = 0, best_tput = 0;
        for (int b = 1; b <= MDL_MAX_BATCH; b++) {
            mdl_place p = {m, b, 100};
            double lat, tput;
            mdl_predict(f, &p, 1, &lat, &tput);
            if (lat > s)
                break;
            long n = (long)ceil(w->rate_rps / (HEADROOM * tput));
            double per = w->rate_rps / (double)n;
            if (b > pol_igniter_batch(f, &f->models[m], w->slo_ms, per))
                continue;   /* would not fill in time at this rate */
            if (best_b == 0 || n < best_n) {
                best_b = b;
                best_n = n;
                best_lat = lat;
                best_tput = tput;
            }
        }
        if (best_b == 0) {
            pol_plan_free(out);
            return ut_errf(err, "workload \"%s\" (%s): slo_ms: cannot be met, "
                           "no batch runs within half the SLO (%.3g ms) on a "
                           "whole %s", w->name, w->model, s, f->gpu);
        }
        for (long k = 0; k < best_n; k++) {
            UT_GROW(out->gpus, cap, out->ngpus + 1);
            pol_gpu *g = &out->gpus[out->ngpus++];
            memset(g, 0, sizeof *g);
            memcpy(g->type, f->gpu, sizeof g->type);
            g->replica = 1;
            g->n = 1;
            g->inst = ut_xcalloc(1, sizeof *g->inst);
            pol_instance *in = &g->inst[0];
            memcpy(in->name, w->name, sizeof in->name);
            memcpy(in->model, w->model, sizeof in->model);
            in->batch = best_b;
            in->share_pct = 100;
            in->rate_rps = w->rate_rps / (double)best_n;
            in->slo_ms = w->slo_ms;
            in->predicted_latency_ms = best_lat;
            in->predicted_throughput_rps = best_tput;
        }
    }
    return 0;
}

const pol_ops pol_exclusive = {
    .version = POL_OPS_VERSION,
    .name = "exclusive",
    .summary = "no sharing: whole GPUs per workload, the batch needing the fewest",
    .plan = exclusive_plan,
};
