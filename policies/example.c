/*
 * example.c - the smallest useful policy, the one policies/README.md walks
 * through: every workload on whole GPUs of its own, at the batch iGniter's
 * Algorithm 1 would give it, as many GPUs as its rate needs by the fitted
 * model. No sharing, no runtime hook. Copy it to start a policy of your
 * own.
 */
#include "policies/policy.h"

#include <math.h>
#include <string.h>

static int example_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    (void)err;   /* nothing can fail once pol_make_plan checked req */
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < req->n; i++) {
        const pol_workload *w = &req->w[i];
        int m = mdl_find(req->fit, w->model);   /* checked by the caller */
        /* the batch that fills in half the SLO, run on a whole GPU */
        mdl_place p = {m, pol_igniter_batch(req->fit, &req->fit->models[m],
                                            w->slo_ms, w->rate_rps), 100};
        double lat, tput;
        mdl_predict(req->fit, &p, 1, &lat, &tput);
        size_t k = (size_t)ceil(w->rate_rps / tput);
        out->gpus = ut_xrealloc(out->gpus,
                                (out->ngpus + k) * sizeof *out->gpus);
        for (size_t j = 0; j < k; j++) {
            pol_gpu *g = &out->gpus[out->ngpus++];
            memset(g, 0, sizeof *g);
            memcpy(g->type, req->fit->gpu, sizeof g->type);
            g->n = 1;
            g->inst = ut_xcalloc(1, sizeof *g->inst);
            pol_instance *in = &g->inst[0];
            memcpy(in->name, w->name, sizeof in->name);
            memcpy(in->model, w->model, sizeof in->model);
            in->batch = p.batch;
            in->share_pct = 100;
            in->rate_rps = w->rate_rps / (double)k;
            in->slo_ms = w->slo_ms;
            in->predicted_latency_ms = lat;
            in->predicted_throughput_rps = tput;
        }
    }
    return 0;
}

const pol_ops pol_example = {
    .version = POL_OPS_VERSION,
    .name = "example",
    .summary = "the example of policies/README.md: whole GPUs at iGniter's "
               "batch, no sharing",
    .plan = example_plan,
};
