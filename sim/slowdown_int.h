/*
 * slowdown_int.h - private to sim/: the slow-downs of a run's workloads
 * (fe_workload_cfg.slow, frontend.h) as one factor per workload that the
 * engine updates at the windows' edges, so that a batch pays one multiply
 * when it starts and no search; and the workloads' wake costs, one compare
 * and add when a batch starts. Not part of sim's API.
 */
#ifndef SIM_SLOWDOWN_INT_H
#define SIM_SLOWDOWN_INT_H

#include "frontend/frontend.h"

typedef struct sim_slow {
    double *factor;          /* per workload, for a batch starting now;
                                NULL when the run has no slow-down */
    int64_t *edge_ns;        /* the windows' edges in (0, end), ascending,
                                each once */
    size_t nedges;
    int64_t *wake_ns;        /* per workload, added to a batch that starts
                                on an idle instance; NULL when no workload
                                has a wake cost above 0 */
} sim_slow;

/* The factors at time 0 and the edges before end_ns of run's workloads
 * (checked by fe_bind); an empty sim_slow (factor NULL) when none has a
 * slow-down; the wake costs in ns (wake_ns NULL when none is above 0). */
void sim_slow_init(sim_slow *sl, const fe_run *run, int64_t end_ns);
/* The factors from t_ns on (at an edge). */
void sim_slow_update(sim_slow *sl, const fe_run *run, int64_t t_ns);
void sim_slow_free(sim_slow *sl);

#endif
