/*
 * alg1.h - private to policies/: the steps of iGniter's Algorithm 1 that
 * other policies reuse. A policy that differs from iGniter only in where it
 * places each workload (step 6) supplies a placer and gets everything else:
 * half-SLO budgets, batches, share bounds, whole-GPU replicas, the largest-
 * bound-first order, and the plan with each GPU's predicted latencies.
 */
#ifndef POL_ALG1_H
#define POL_ALG1_H

#include "policies/policy.h"

typedef struct alg1 alg1;

/* Places workload w (its share bound is alg1_bound) on a GPU with
 * alg1_put; returns 0, or -1 with a message. */
typedef int (*alg1_place_fn)(alg1 *a, int w, ut_err *err);

/*
 * The latency predictor Algorithm 1 plans with. NULL everywhere means the
 * paper's model (mdl_predict on req->fit), with step 3's share bound in
 * its closed form; that is pol_igniter's, and its plans do not change.
 *
 * predict: each of n workloads' latency (ms) and throughput (req/s; tput
 * may be NULL) when they run at once on one GPU; w[i].model indexes
 * req->fit->models. A pure function of its arguments and ctx: the
 * placement remembers answers (best_gpu in alg1.c). n <= MDL_MAX_COLOC.
 *
 * With a predictor, step 3's bound is a search, as no closed form exists
 * for it: the fewest share units (1 .. a whole GPU) at which the workload
 * alone, at its batch, is predicted within half its SLO; none meets it:
 * the bound is infinite and the workload takes the replica step, as an
 * infinite closed-form bound does.
 */
typedef struct alg1_predictor {
    void (*predict)(const void *ctx, const mdl_place *w, size_t n,
                    double *lat_ms, double *tput_rps);
    const void *ctx;
    const char *name;   /* in messages: "the model predicts ..." */
    /* A safety margin on the execution budget, in [0, 1): every latency
     * Algorithm 1 checks (share bound, raise loop, replica batch) must be
     * within (1 - margin) x SLO/2 instead of SLO/2. The batch (step 2)
     * still comes from the whole SLO, so the margin is time left for
     * queueing and the spread of service times. 0: Algorithm 1's budget. */
    double margin;
} alg1_predictor;

int alg1_plan(const pol_request *req, alg1_place_fn place, pol_plan *out,
              ut_err *err);
/* alg1_plan with pred's latencies instead of the paper's model (NULL: the
 * paper's model); place NULL is iGniter's own step 6 (the raise loop).
 * The request must not be faithful: the reference's defects are those of
 * the paper's model's planner. */
int alg1_plan_with(const pol_request *req, const alg1_predictor *pred,
                   alg1_place_fn place, pol_plan *out, ut_err *err);

long alg1_bound(const alg1 *a, int w);      /* in share units */
long alg1_max_units(const alg1 *a);         /* units in a whole GPU */
/* units that two or more co-located workloads may have together */
long alg1_colocated_units(const alg1 *a);
size_t alg1_ngpus(const alg1 *a);
long alg1_gpu_total(const alg1 *a, size_t j);
size_t alg1_gpu_count(const alg1 *a, size_t j);
/* Puts w with `units` on GPU j; j == alg1_ngpus() opens a new GPU. */
void alg1_put(alg1 *a, size_t j, int w, long units);
/* The first GPU where `units` more fit before any raise (fewer than
 * MDL_MAX_COLOC workloads and the total within alg1_colocated_units), or
 * alg1_ngpus() if none: what a scan in GPU order finds, in O(log n). */
size_t alg1_first_fit(const alg1 *a, long units);

#endif
