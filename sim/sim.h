/*
 * sim.h - the discrete-event simulator: arrivals, dynamic batching and
 * overlap-aware interference, replayed against a plan.
 *
 * One simulation is one sim_run() over a sim_config. Time is integer
 * nanoseconds; events are ordered by (time, insertion number), so ties are
 * broken the same way on every run; every random number comes from a
 * generator seeded from config->seed and a stream name. Same inputs and
 * seed, byte-identical outputs.
 *
 * Pieces, each usable alone (the real provisioner links the same ones):
 *   sim_hist     latency histogram with bounded relative error
 *   sim_batcher  Triton-style dynamic batcher, a pure state machine
 *   sim_backend  what a batch costs on a GPU shared with others
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "model/model.h"
#include "policies/policy.h"
#include "traces/traces.h"
#include "util/util.h"

/* ---- histogram ------------------------------------------------------------ */

/*
 * Log-linear buckets (HDR-style): values below 2^SIM_HIST_SUB_BITS ns are
 * exact; above, each power-of-two range is cut into 2^SIM_HIST_SUB_BITS equal
 * buckets, so a bucket is at most 1/128 of its lower bound wide and a
 * quantile (the bucket's midpoint) is within 0.4 % of the true sample.
 * Values above 2^SIM_HIST_MAX_LOG2 ns (about 73 minutes) share the top
 * bucket; min, max, count and sum are exact. Fixed size: 35 KiB.
 */
#define SIM_HIST_SUB_BITS 7
#define SIM_HIST_MAX_LOG2 42
#define SIM_HIST_BUCKETS \
    ((1 << SIM_HIST_SUB_BITS) * (SIM_HIST_MAX_LOG2 - SIM_HIST_SUB_BITS + 2))
#define SIM_HIST_REL_ERR (1.0 / (2 << SIM_HIST_SUB_BITS))

typedef struct sim_hist {
    uint64_t count;
    double sum;
    int64_t min, max;
    uint64_t bucket[SIM_HIST_BUCKETS];
} sim_hist;

void sim_hist_reset(sim_hist *h);
void sim_hist_add(sim_hist *h, int64_t v);
/* The q-quantile (0 < q <= 1; nearest rank); 0 when empty. */
int64_t sim_hist_quantile(const sim_hist *h, double q);
double sim_hist_mean(const sim_hist *h);

/* ---- dynamic batcher -------------------------------------------------------- */

/*
 * One instance's queue. A batch is dispatched when the instance is free and
 * the queue holds `batch` requests, or its oldest request has waited
 * `max_delay_ns` (then everything queued, up to `batch`, goes). A request
 * arriving at a full queue (`limit`) is dropped. Times are whatever clock
 * the caller uses: simulated or real.
 */
typedef struct sim_batcher {
    int64_t *q;          /* ring buffer of arrival times */
    size_t cap, head, len, limit;
    int batch;
    int64_t max_delay_ns;
} sim_batcher;

void sim_batcher_init(sim_batcher *b, int batch, int64_t max_delay_ns,
                      size_t limit);
void sim_batcher_free(sim_batcher *b);
/* 0, or -1 when the queue is full and the request is dropped. */
int sim_batcher_push(sim_batcher *b, int64_t t_arrival);
/* How many requests to dispatch now if the instance is free (0: wait). */
int sim_batcher_ready(const sim_batcher *b, int64_t now);
/* When the oldest request times out; INT64_MAX if the queue is empty. */
int64_t sim_batcher_deadline(const sim_batcher *b);
/* Removes the k oldest arrival times into out. */
void sim_batcher_pop(sim_batcher *b, int k, int64_t *out);

/* ---- back ends ---------------------------------------------------------------- */

/* What a back end is told about a plan instance. */
typedef struct sim_inst_desc {
    const char *name, *model;
    double share_pct;
    double service_ms;       /* fixed back end: one batch's service time */
    int service_exp;         /* fixed back end: exponential, not constant */
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
} sim_backend_ops;

#define SIM_BACKEND_VERSION 1

const sim_backend_ops *sim_backend_find(const char *name);
const char *sim_backend_names(char *out, size_t n);

/* ---- a simulation -------------------------------------------------------------- */

#define SIM_DEFAULT_QUEUE_LIMIT 10000
/* Time an instance serves nothing while its share or batch changes, or
 * while a new instance starts: an assumption (restarting an MPS client and
 * its server takes about a second) until the capture tool measures it. */
#define SIM_DEFAULT_RECONFIG_S 1.0

/* Per-workload settings beyond the plan. */
typedef struct sim_workload_cfg {
    char name[POL_NAME_MAX];
    trace_spec arrivals;     /* rate_rps: the workload's total rate */
    double max_delay_ms;     /* < 0: default, half the SLO */
    size_t queue_limit;      /* per instance; 0: SIM_DEFAULT_QUEUE_LIMIT */
    double service_ms;       /* fixed back end */
    int service_exp;
} sim_workload_cfg;

typedef struct sim_config {
    const pol_plan *plan;
    const mdl_fitted *fit;            /* model back end; also GPU price */
    const mdl_measured *measured;     /* measured back end */
    const char *backend;
    double duration_s, warmup_s;
    double interval_s;                /* timeseries interval (default 1) */
    uint64_t seed;
    const sim_workload_cfg *wcfg;     /* one per workload name in the plan */
    size_t nw;
    size_t trace_max;                 /* trace.json slices; 0: no trace */
    /* The policy, when it has a runtime hook: called every interval_s
     * with what happened; its changes are applied after reconfig_delay_s
     * (< 0: SIM_DEFAULT_RECONFIG_S). req is what the policy planned from
     * (its workloads in order), NULL when the plan came from a file. */
    const pol_ops *policy;
    const pol_request *req;
    double reconfig_delay_s;
    /* Inputs recorded in summary.json (file names, as given). */
    const char *plan_path, *profile_path, *measured_path, *experiment_path;
    /* Set to non-zero (from a signal handler) to stop at the current
     * simulated time; the results so far are kept, marked incomplete. */
    volatile sig_atomic_t *stop;
    /* Called about every 2^16 events: simulated time now and at the end. */
    void (*progress)(void *ud, int64_t now_ns, int64_t end_ns,
                     uint64_t requests);
    void *progress_ud;
} sim_config;

/* Per-workload results (requests arriving after the warm-up). */
typedef struct sim_wstats {
    char name[POL_NAME_MAX];
    char model[MDL_NAME_MAX];
    double slo_ms, rate_rps;
    int instances;
    uint64_t arrived, completed, dropped, violations;
    uint64_t queued_end;     /* counted in the queues and running batches
                                at the end (conservation: arrived =
                                completed + dropped + queued_end) */
    uint64_t batches, batch_items;
    double service_ns_sum;   /* batch completion - dispatch, summed over
                                batches dispatched after the warm-up */
    uint64_t service_batches;
    double queue_ns_sum;     /* dispatch - arrival, completed requests */
    double area_ns;          /* time in system, summed: Little's L x T */
    sim_hist lat;            /* arrival to completion */
} sim_wstats;

typedef struct sim_result {
    int complete;            /* 0 if stopped early */
    double sim_end_s;        /* simulated time reached */
    double window_s;         /* measured: sim_end_s - warmup_s */
    size_t nw;
    sim_wstats *w;
    size_t ngpus;
    double *gpu_busy;        /* fraction of [warmup, end] with a batch */
    double cost;             /* GPU-hours x price (GPUs added at run
                                time count from when they were added) */
    double gpu_hours;
    size_t reconfigs;        /* runtime changes applied */
    uint64_t events;
} sim_result;

/*
 * Runs the simulation and writes summary.json, workloads.csv,
 * timeseries.csv (and trace.json when trace_max > 0) into out_dir, each
 * atomically. out_dir must exist. Everything is checked before the first
 * event (unknown back end, a plan model the back end lacks, a workload
 * without settings): on such an error nothing is written. res may be NULL;
 * otherwise the caller frees it with sim_result_free.
 */
int sim_run(const sim_config *cfg, const char *out_dir, sim_result *res,
            ut_err *err);
void sim_result_free(sim_result *r);

/* ---- recording: what sim and serve both measure and write ------------------- */

/*
 * The statistics and output files of a run, fed with what happens to each
 * request. The simulator feeds it as events happen; the real provisioner
 * (serve/) feeds it afterwards from its request log, in time order. Both
 * therefore count, bucket and write alike: a difference between their
 * results comes from the GPU, not from the bookkeeping.
 *
 * Times are ns since the start of the run. Only requests arriving after
 * the warm-up count in the totals; the timeseries counts every request in
 * the interval it happens in. Before an event at time t, the caller ends
 * every interval with sim_rec_interval_end() while t >= next_iv.
 */
typedef struct sim_rec_iv {
    uint64_t arr, done, viol, drop;   /* this interval */
    sim_hist *h;                      /* this interval's latencies */
    int64_t slo_ns;
} sim_rec_iv;

typedef struct sim_rec {
    size_t nw;
    sim_wstats *st;          /* totals; the caller names them */
    sim_rec_iv *iv;
    int64_t warm_ns, iv_ns, next_iv;
    FILE *ts, *tr;           /* timeseries.csv, trace.json (or NULL) */
    size_t trace_n, trace_max;
    uint64_t requests;       /* completed, warm-up included */
    void *files;             /* the files being written */
} sim_rec;

void sim_rec_init(sim_rec *r, size_t nw, int64_t warm_ns, int64_t iv_ns,
                  size_t trace_max);
void sim_rec_free(sim_rec *r);
/* Opens out_dir/timeseries.csv (and trace.json when trace_max > 0, with a
 * track per instance of plan, numbered in plan order) under temporary
 * names: sim_rec_commit renames them when complete, sim_rec_abort removes
 * them. */
int sim_rec_open(sim_rec *r, const char *out_dir, const pol_plan *plan,
                 ut_err *err);
int sim_rec_commit(sim_rec *r, ut_err *err);
void sim_rec_abort(sim_rec *r);
void sim_rec_arrival(sim_rec *r, int w, int64_t t, int dropped);
/* A batch of k requests (arrival times arr) starts at now. */
void sim_rec_dispatch(sim_rec *r, int w, const int64_t *arr, int k,
                      int64_t now);
/* That batch, started at start, completes at now on instance track tid of
 * GPU gpu. */
void sim_rec_complete(sim_rec *r, int w, const int64_t *arr, int k,
                      int64_t start, int64_t now, int gpu, int tid);
/* A request that arrived at t is still queued or running at the end. */
void sim_rec_unfinished(sim_rec *r, int w, int64_t t, int64_t end);
/* Writes the rows of the interval ending at next_iv (share and instance
 * count per workload), then sim_rec_interval_reset starts the next one;
 * between the two the counts are the interval's (runtime policies read
 * them). */
void sim_rec_interval_rows(sim_rec *r, const double *share,
                           const int *count);
void sim_rec_interval_reset(sim_rec *r);

/*
 * Writes summary.json, workloads.csv and cdf.csv of a finished run into
 * out_dir, each atomically. backend names what judged the latencies;
 * extra_json, when not NULL, is inserted as more top-level members of
 * summary.json (e.g. "\"serve\": {...}").
 */
int sim_write_results(const sim_config *c, const char *backend,
                      const sim_result *r, const char *extra_json,
                      const char *out_dir, ut_err *err);

/* Smooth weighted round robin over a workload's instances: deterministic,
 * as even as integer counts allow. rr is indexed by the ids in idx. */
typedef struct sim_wrr {
    double weight, current;
    int active;
} sim_wrr;

int sim_wrr_pick(sim_wrr *rr, const int *idx, size_t n, double total);

/* ---- experiment files ------------------------------------------------------------ */

/*
 * An experiment file names what `igniter sim EXPERIMENT.json` runs:
 *   {"profile": P, "policy": NAME | "plan": PLAN.json,
 *    "workloads": [ {name, model, slo_ms, rate_rps, arrivals?, max_delay_ms?,
 *                    queue_limit?, service_ms?, service_dist?}, ...]
 *                 | "FILE.json",
 *    "backend": "model", "measured": M, "duration_s": D, "warmup_s": W,
 *    "seed": N, "interval_s": I, "arrivals": {default arrivals}}
 * Relative paths are relative to the experiment file's folder.
 */
typedef struct sim_experiment {
    char profile[TRACE_PATH_MAX];
    char plan[TRACE_PATH_MAX];       /* empty: plan with policy */
    char policy[POL_NAME_MAX];
    char backend[32];
    char measured[TRACE_PATH_MAX];
    double duration_s, warmup_s, interval_s;
    uint64_t seed;
    int faithful;
    pol_workload *w;                 /* the workloads (for the policy) */
    sim_workload_cfg *wcfg;
    size_t nw;
    double reconfig_delay_s;         /* < 0: the default */
    /* igniter compare: the policies to compare, the number of seeds
     * (seed, seed + 1, ...), the workload whose latency and share over
     * time are plotted (default the first) */
    char policies[16][POL_NAME_MAX];
    size_t npolicies;
    int nseeds;
    char focus[POL_NAME_MAX];
} sim_experiment;

int sim_experiment_load(const char *path, sim_experiment *e, ut_err *err);

/*
 * `igniter compare`: for each policy of the experiment and each seed, plan
 * (each policy with its own model and data) and simulate under the
 * experiment's back end and arrivals, up to `jobs` runs at a time in child
 * processes, each into out_dir/runs/POLICY-sSEED/. A run already complete
 * there is kept, not run again (an interrupted compare resumes). Then
 * writes out_dir/results.csv (one row per policy, seed and workload, and an
 * "all" row), out_dir/summary.csv (means and 95 % confidence intervals over
 * seeds), and out_dir/cdf.csv and out_dir/timeseries.csv (first seed) for
 * the figures. Progress lines go to `progress` when not NULL.
 */
int sim_compare(const char *exp_path, const char *out_dir, int jobs,
                int nseeds, FILE *progress, ut_err *err);
void sim_experiment_free(sim_experiment *e);

/* Default per-workload settings: Poisson at rate_rps, delay half the SLO. */
void sim_workload_defaults(sim_workload_cfg *c, const char *name,
                           double rate_rps);

#endif
