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

int alg1_plan(const pol_request *req, alg1_place_fn place, pol_plan *out,
              ut_err *err);

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
