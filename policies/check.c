/*
 * check.c - the invariants every plan keeps, however it was made (policy.h,
 * pol_plan_check): checked before a plan is written, simulated or served,
 * so that no tool acts on a plan no GPU could run.
 */
#include "policies/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An instance by its position in plan order (GPU by GPU). */
typedef struct placed {
    const pol_instance *pi;
    size_t gpu;
    size_t clash;     /* see name_clashes */
} placed;

/*
 * The plan's n instances in plan order, each with, in clash, the position
 * of an earlier instance naming the same workload with another model, set
 * only for the first instance of a name that disagrees with the name's
 * first model (SIZE_MAX for every other). The scan of every earlier
 * instance that this replaces stopped at the first instance in plan order
 * with a disagreeing earlier one, and named the first of those: the
 * name's first instance, since every instance before the first to
 * disagree has its model. A sort keeps 100,000 instances fast.
 */
static placed *name_clashes(const pol_plan *p, size_t *n)
{
    *n = 0;
    for (size_t j = 0; j < p->ngpus; j++)
        *n += p->gpus[j].n;
    placed *at = ut_xmalloc((*n ? *n : 1) * sizeof *at);
    ut_key *x = ut_xmalloc((*n ? *n : 1) * sizeof *x);
    size_t q = 0;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++, q++) {
            at[q] = (placed){&p->gpus[j].inst[k], j, SIZE_MAX};
            x[q] = (ut_key){at[q].pi->name, q};
        }
    ut_keys_sort(x, *n);
    for (size_t a = 0; a < *n;) {
        size_t b = a + 1;
        while (b < *n && !strcmp(x[b].s, x[a].s))
            b++;
        for (size_t e = a + 1; e < b; e++)
            if (strcmp(at[x[e].i].pi->model, at[x[a].i].pi->model)) {
                at[x[e].i].clash = x[a].i;
                break;
            }
        a = b;
    }
    free(x);
    return at;
}

int pol_plan_check(const pol_plan *p, const mdl_fitted *fit, ut_err *err)
{
    if (fit && strcmp(p->gpu_type, fit->gpu))
        return ut_errf(err, "plan: gpu_type: expected the profile's GPU, "
                       "\"%s\", got \"%s\"", fit->gpu, p->gpu_type);
    double co = fit && fit->colocated_pct > 0 ? fit->colocated_pct : 100;
    size_t n, q = 0;
    placed *at = name_clashes(p, &n);
    int rc = 0;
    for (size_t j = 0; j < p->ngpus && rc == 0; j++) {
        const pol_gpu *g = &p->gpus[j];
        double total = 0;
        for (size_t k = 0; k < g->n && rc == 0; k++, q++) {
            const pol_instance *pi = &g->inst[k];
            if (pi->batch < 1)
                rc = ut_errf(err, "plan: gpus[%zu].workloads[%zu].batch: "
                             "expected at least 1, got %d", j, k, pi->batch);
            else if (!(pi->share_pct > 0) || pi->share_pct > 100 + 1e-9)
                rc = ut_errf(err, "plan: gpus[%zu].workloads[%zu]."
                             "share_pct: expected a share in (0, 100], got "
                             "%g", j, k, pi->share_pct);
            /* one name, one model: the name is what arrivals, routing and
             * results go by */
            else if (at[q].clash != SIZE_MAX)
                rc = ut_errf(err, "plan: gpus[%zu].workloads[%zu]: workload "
                             "\"%s\" is model \"%s\" here and \"%s\" on GPU "
                             "%zu", j, k, pi->name, pi->model,
                             at[at[q].clash].pi->model, at[at[q].clash].gpu);
            total += pi->share_pct;
        }
        if (rc == 0 && total > 100 + 1e-9)
            rc = ut_errf(err, "plan: gpus[%zu]: expected shares adding up "
                         "to at most 100 %%, got %g %%", j, total);
        else if (rc == 0 && g->n > 1 && total > co + 1e-6)
            rc = ut_errf(err, "plan: gpus[%zu]: expected co-located shares "
                         "adding up to at most %g %% (the profile's "
                         "colocated_pct), got %g %%", j, co, total);
    }
    free(at);
    return rc;
}
