/*
 * gpulets_int.h - private to gpu-lets+ (policies/gpulets.c, the scheduler,
 * and policies/gpulets_model.c, its interference model).
 */
#ifndef GPULETS_INT_H
#define GPULETS_INT_H

#include "policies/policy.h"

#define NFEAT 5

/* gpu-lets' linear interference model: slow-down = c . features. */
typedef struct gl_predictor {
    double c[NFEAT];
} gl_predictor;

/* Fits g on m's measured pairs (every fifth held out); an error names
 * what the data lacks (L2 and DRAM utilisation). */
int gl_fit(const mdl_measured *m, gl_predictor *g, ut_err *err);

/* Slow-down (at least 1) of model a at (ba, sa %) beside model b at
 * (bb, sb %); NAN where the solo tables lack a utilisation. */
double gl_predict(const gl_predictor *g, const mdl_measured *m, int a,
                  int ba, double sa, int b, int bb, double sb);

#endif
