/*
 * backend_int.h - private to sim/'s back ends: the predictor-driven core
 * that the model and measured back ends share (be_model.c). Not part of
 * sim's API; nothing outside sim/be_*.c includes it.
 */
#ifndef SIM_BACKEND_INT_H
#define SIM_BACKEND_INT_H

#include "sim/sim.h"

/* measured: 0 asks a->fit (the model), 1 asks a->measured; sample (with
 * measured only): each batch's service time is drawn from the measured
 * distribution around its interpolated mean, else it is that mean. */
int sim_pred_init(const sim_backend_args *a, void **state, int measured,
                  int sample, ut_err *err);
int sim_pred_set(void *st, int inst, const sim_inst_desc *d, ut_err *err);
double sim_pred_solo(void *st, int inst, int batch);
void sim_pred_factors(void *st, const sim_active *a, size_t n, double *f);
void sim_pred_free(void *st);

#endif
