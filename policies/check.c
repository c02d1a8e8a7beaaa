/*
 * check.c - the invariants every plan keeps, however it was made (policy.h,
 * pol_plan_check): checked before a plan is written, simulated or served,
 * so that no tool acts on a plan no GPU could run.
 */
#include "policies/policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int pol_plan_check(const pol_plan *p, const mdl_fitted *fit, ut_err *err)
{
    if (fit && strcmp(p->gpu_type, fit->gpu))
        return ut_errf(err, "plan: gpu_type: expected the profile's GPU, "
                       "\"%s\", got \"%s\"", fit->gpu, p->gpu_type);
    double co = fit && fit->colocated_pct > 0 ? fit->colocated_pct : 100;
    for (size_t j = 0; j < p->ngpus; j++) {
        const pol_gpu *g = &p->gpus[j];
        double total = 0;
        for (size_t k = 0; k < g->n; k++) {
            const pol_instance *pi = &g->inst[k];
            if (pi->batch < 1)
                return ut_errf(err, "plan: gpus[%zu].workloads[%zu].batch: "
                               "expected at least 1, got %d", j, k,
                               pi->batch);
            if (!(pi->share_pct > 0) || pi->share_pct > 100 + 1e-9)
                return ut_errf(err, "plan: gpus[%zu].workloads[%zu]."
                               "share_pct: expected a share in (0, 100], got "
                               "%g", j, k, pi->share_pct);
            total += pi->share_pct;
            /* one name, one model: the name is what arrivals, routing and
             * results go by */
            for (size_t jj = 0; jj <= j; jj++)
                for (size_t kk = 0; kk < p->gpus[jj].n; kk++) {
                    const pol_instance *o = &p->gpus[jj].inst[kk];
                    if (jj == j && kk >= k)
                        break;
                    if (!strcmp(o->name, pi->name) &&
                        strcmp(o->model, pi->model))
                        return ut_errf(err, "plan: gpus[%zu].workloads[%zu]:"
                                       " workload \"%s\" is model \"%s\" "
                                       "here and \"%s\" on GPU %zu", j, k,
                                       pi->name, pi->model, o->model, jj);
                }
        }
        if (total > 100 + 1e-9)
            return ut_errf(err, "plan: gpus[%zu]: expected shares adding up "
                           "to at most 100 %%, got %g %%", j, total);
        if (g->n > 1 && total > co + 1e-6)
            return ut_errf(err, "plan: gpus[%zu]: expected co-located shares "
                           "adding up to at most %g %% (the profile's "
                           "colocated_pct), got %g %%", j, co, total);
    }
    return 0;
}
