/*
 * sim.h - the discrete-event simulator: the shared serving layer
 * (frontend/frontend.h: arrivals, routing, dynamic batching, recording)
 * driven by simulated time, with a back end that says what a batch costs
 * on a GPU shared with others, replayed against a plan.
 *
 * One simulation is one sim_run() over a sim_config. Time is integer
 * nanoseconds; events are ordered by (time, insertion number), so ties are
 * broken the same way on every run; every random number comes from a
 * generator seeded from the run's seed and a stream name. Same inputs and
 * seed, byte-identical outputs.
 *
 * Back ends are plug-ins (SQLite's VFS shape): a versioned ops struct in
 * a file of its own (sim/be_*.c), listed once in sim/backend.c, found by
 * name. A new back end is one new file plus one line in that table; the
 * conformance suite (tests/test_backends.c) runs over every one.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "frontend/frontend.h"
#include "model/model.h"
#include "policies/policy.h"
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- back ends ---------------------------------------------------------------- */

/* What a back end is told about a plan instance. */
typedef struct sim_inst_desc {
    const char *name, *model;
    double share_pct;
    double service_ms;       /* fixed back end: one batch's service time */
    int service_exp;         /* fixed back end: exponential, not constant */
    double service_cv;       /* fixed back end: gamma of this CV when > 0 */
} sim_inst_desc;

typedef struct sim_backend_args {
    const mdl_fitted *fit;           /* model back end */
    const mdl_measured *measured;    /* measured back end */
    const sim_inst_desc *inst;
    size_t ninst;
    uint64_t seed;
} sim_backend_args;

/* One instance running a batch right now. */
typedef struct sim_active {
    int inst;
    int batch;               /* the batch's actual size (<= the plan's) */
} sim_active;

typedef struct sim_backend_ops {
    int version;             /* SIM_BACKEND_VERSION */
    const char *name;
    const char *summary;
    /* Resolves the instances (model names, shares); an unknown model is an
     * error naming it. */
    int (*init)(const sim_backend_args *a, void **state, ut_err *err);
    /* Defines instance `inst` anew (a reconfiguration), or adds it when it
     * is one past the last; same errors as init. */
    int (*set)(void *state, int inst, const sim_inst_desc *d, ut_err *err);
    /* Time of one batch of `batch` requests of instance `inst` alone on its
     * share, ns (may draw a random number: called once per batch). */
    double (*solo_ns)(void *state, int inst, int batch);
    /* For n instances running at once on one GPU: each one's slow-down
     * relative to running alone (1 = no interference). */
    void (*factors)(void *state, const sim_active *a, size_t n, double *f);
    void (*free)(void *state);
    /* 1 when factors always gives 1 (no interference): the engine then
     * times a batch once, when it starts, and never calls factors. */
    int no_interference;
} sim_backend_ops;

/* The version of sim_backend_ops this simulator was built with. A back end
 * of another version is not used (its struct may be laid out otherwise). */
#define SIM_BACKEND_VERSION 2

/* The back end called name, or NULL (an unknown name, or a back end of
 * another version). */
const sim_backend_ops *sim_backend_find(const char *name);
/* Every registered back end, NULL-terminated, in the table's order. */
const sim_backend_ops *const *sim_backend_all(void);
/* "fixed, model, measured": the names, for error messages. */
const char *sim_backend_names(char *out, size_t n);

/* The back ends of this build (one file each, sim/be_*.c). */
extern const sim_backend_ops sim_backend_fixed;
extern const sim_backend_ops sim_backend_model;
extern const sim_backend_ops sim_backend_measured;
extern const sim_backend_ops sim_backend_measured_solo;
extern const sim_backend_ops sim_backend_measured_mean;

/* ---- a simulation -------------------------------------------------------------- */

/* Time an instance serves nothing while its share or batch changes, or
 * while a new instance starts: an assumption (restarting an MPS client and
 * its server takes about a second) until the capture tool measures it. */
#define SIM_DEFAULT_RECONFIG_S 1.0

typedef struct sim_config {
    fe_run run;                       /* plan, workloads and arrivals,
                                         duration, warm-up, seed, interval,
                                         outputs, stop flag */
    const mdl_fitted *fit;            /* model back end */
    const mdl_measured *measured;     /* measured back end */
    const char *backend;
    /* The policy, when it has a runtime hook: called every interval_s
     * with what happened; its changes are applied after reconfig_delay_s
     * (< 0: SIM_DEFAULT_RECONFIG_S). req is what the policy planned from
     * (its workloads in order), NULL when the plan came from a file. */
    const pol_ops *policy;
    const pol_request *req;
    double reconfig_delay_s;
    /* Called about every 2^16 events: simulated time now and at the end. */
    void (*progress)(void *ud, int64_t now_ns, int64_t end_ns,
                     uint64_t requests);
    void *progress_ud;
    /* 1: the general event loop even for a single-server queue, which
     * otherwise runs a loop of its own (the same outputs, byte for byte;
     * tests compare the two). */
    int general_loop;
} sim_config;

/*
 * Runs the simulation and writes summary.json, workloads.csv,
 * timeseries.csv (and trace.json when trace_max > 0) into out_dir, each
 * atomically; out_dir and its parents are made if missing. Everything is
 * checked first (unknown back end, a plan model the back end lacks, a
 * workload without settings, limits): on such an error nothing is
 * written and no folder is made. res may be NULL;
 * otherwise the caller frees it with fe_result_free.
 */
int sim_run(const sim_config *cfg, const char *out_dir, fe_result *res,
            ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
