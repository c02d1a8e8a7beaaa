/*
 * servdist_int.h - private to model/: what mdl_measured_load (measured.c)
 * calls to read the service-time distributions of the measured file
 * (servdist.c). Nothing outside model/ includes it.
 */
#ifndef MODEL_SERVDIST_INT_H
#define MODEL_SERVDIST_INT_H

#include "model/model.h"

/* Reads model t's optional "std" and "quantiles" tables from obj (its
 * "latency" table already read: their points must be latency's); where
 * names the model in messages. */
int mdl_sd_load_tables(mdl_solo_table *t, const cJSON *obj,
                       const char *where, ut_err *err);
/* Sets every table's pair_cv from the pair rows' std (after the rows). */
void mdl_sd_pair_cvs(mdl_measured *m);

#endif
