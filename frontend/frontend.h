/*
 * frontend.h - the shared serving layer: what an inference server does in
 * front of the GPU, used alike by the simulator (sim/) and the real
 * provisioner (serve/), so that a difference between their results can
 * only come from the GPU.
 *
 *   fe_run       a run's configuration (plan, workloads and arrivals,
 *                duration, warm-up, seed, interval, outputs, stop flag),
 *                checked once and bound to the plan's instances once
 *   fe_wrr       routing: smooth weighted round robin over instances
 *   fe_batcher   Triton-style dynamic batcher, a pure state machine
 *   fe_hist      latency histogram with bounded relative error
 *   fe_rec       the recorder: statistics per request and per interval,
 *                timeseries.csv and trace.json as the run goes
 *   fe_write_results  summary.json, workloads.csv and cdf.csv at the end
 *
 * Times are integer nanoseconds of whatever clock the caller runs:
 * simulated or real.
 */
#ifndef FE_FRONTEND_H
#define FE_FRONTEND_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "model/model.h"
#include "policies/policy.h"
#include "traces/traces.h"
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- histogram ------------------------------------------------------------ */

/*
 * Log-linear buckets (HDR-style): values below 2^FE_HIST_SUB_BITS ns are
 * exact; above, each power-of-two range is cut into 2^FE_HIST_SUB_BITS equal
 * buckets, so a bucket is at most 1/128 of its lower bound wide and a
 * quantile (the bucket's midpoint) is within 0.4 % of the true sample.
 * Values above 2^FE_HIST_MAX_LOG2 ns (about 73 minutes) share the top
 * bucket; min, max, count and sum are exact.
 *
 * Memory follows what it holds: 80 bytes, plus a block of 128 counts for
 * each range (the exact values, then each power of two) a value has
 * fallen in, each count 1, 2, 4 or 8 bytes as the largest needs (0.5 KiB
 * for a 1 s interval of a few hundred requests), made on first use and
 * kept until fe_hist_free. A histogram owns that memory: copy one only by
 * fe_hist_merge into another, never by value.
 */
#define FE_HIST_SUB_BITS 7
#define FE_HIST_MAX_LOG2 42
#define FE_HIST_SUB (1 << FE_HIST_SUB_BITS)   /* buckets per range */
#define FE_HIST_RANGES (FE_HIST_MAX_LOG2 - FE_HIST_SUB_BITS + 2)
#define FE_HIST_BUCKETS (FE_HIST_SUB * FE_HIST_RANGES)
#define FE_HIST_REL_ERR (1.0 / (2 << FE_HIST_SUB_BITS))

typedef struct fe_hist {
    uint64_t count;
    double sum;
    int64_t min, max;                 /* INT64_MAX, INT64_MIN when empty */
    void *block;                      /* nblocks x FE_HIST_SUB counts */
    uint8_t slot[FE_HIST_RANGES];     /* range -> 1 + its block; 0: none */
    uint8_t nblocks;
    uint8_t wlog;                     /* a count is 1 << wlog bytes */
} fe_hist;

/* An empty histogram over memory of any content; it owns nothing yet. */
void fe_hist_init(fe_hist *h);
/* Empties h (initialized), keeping its memory for the same ranges. */
void fe_hist_reset(fe_hist *h);
/* Releases h's memory; h is empty and initialized again. */
void fe_hist_free(fe_hist *h);
void fe_hist_add(fe_hist *h, int64_t v);
/* fe_hist_add(a, v) then fe_hist_add(b, v), the bucket found once; a and
 * b are two different histograms. */
void fe_hist_add2(fe_hist *a, fe_hist *b, int64_t v);
/* Adds every value of from into into (both initialized). */
void fe_hist_merge(fe_hist *into, const fe_hist *from);
/* The q-quantile (0 < q <= 1; nearest rank); 0 when empty. */
int64_t fe_hist_quantile(const fe_hist *h, double q);
double fe_hist_mean(const fe_hist *h);

/* ---- dynamic batcher -------------------------------------------------------- */

/*
 * One instance's queue. A batch is dispatched when the instance is free and
 * the queue holds `batch` requests, or its oldest request has waited
 * `max_delay_ns` (then everything queued, up to `batch`, goes). A request
 * arriving at a full queue (`limit`) is dropped. Times are whatever clock
 * the caller uses: simulated or real.
 */
typedef struct fe_batcher {
    int64_t *q;          /* ring buffer of arrival times */
    size_t cap, head, len, limit;
    int batch;
    int64_t max_delay_ns;
} fe_batcher;

void fe_batcher_init(fe_batcher *b, int batch, int64_t max_delay_ns,
                     size_t limit);
void fe_batcher_free(fe_batcher *b);
/* 0, or -1 when the queue is full and the request is dropped. */
int fe_batcher_push(fe_batcher *b, int64_t t_arrival);
/* Takes in a request another queue had admitted (its instance was removed
 * at run time): placed by arrival time, so the oldest still leads and its
 * timeout stands, and never dropped, the limit notwithstanding (the
 * request was admitted once; dropping it now would count it twice). */
void fe_batcher_requeue(fe_batcher *b, int64_t t_arrival);
/* How many requests to dispatch now if the instance is free (0: wait). */
int fe_batcher_ready(const fe_batcher *b, int64_t now);
/* When the oldest request times out; INT64_MAX if the queue is empty. */
int64_t fe_batcher_deadline(const fe_batcher *b);
/* Removes the k oldest arrival times into out. */
void fe_batcher_pop(fe_batcher *b, int k, int64_t *out);
/* fe_batcher_ready(b, now), and the k requests it says popped into out
 * (room for b->batch) as fe_batcher_pop would; returns k (0: none taken).
 * One call per batch, with a path of its own for k = 1. */
int fe_batcher_take(fe_batcher *b, int64_t now, int64_t *out);

/* ---- routing ------------------------------------------------------------------ */

/* Smooth weighted round robin over a workload's instances: deterministic,
 * as even as integer counts allow. rr is indexed by the ids in idx; an
 * inactive entry (an instance still starting) is skipped. total is the sum
 * of the active weights. An instance removed at run time is taken out of
 * idx by its caller (sim's remove_instance), so it is never picked again;
 * if no entry is active, idx[0] is (its queue waits for it to start). */
typedef struct fe_wrr {
    double weight, current;
    int active;
} fe_wrr;

int fe_wrr_pick(fe_wrr *rr, const int *idx, size_t n, double total);

/* ---- a run's configuration --------------------------------------------------- */

#define FE_DEFAULT_QUEUE_LIMIT 10000
/* The longest run, simulated or real, in seconds (about 116 days), and the
 * most timeseries intervals: beyond them int64 nanoseconds and the
 * recorder's memory are no longer safe. */
#define FE_MAX_DURATION_S 1e7
#define FE_MAX_INTERVALS 1e7
/* The longest SLO or batcher delay, ms: as long as the longest run, so
 * that every time stays far inside int64 nanoseconds. */
#define FE_MAX_TIME_MS (FE_MAX_DURATION_S * 1e3)

/*
 * A slow-down the planner did not predict (a simulator input; the real
 * provisioner measures its GPU instead): every batch of the workload that
 * starts in [from_s, to_s) of the run takes factor times what the back
 * end says, whatever the back end. Windows of one workload that overlap
 * multiply, within [FE_MIN_SLOWDOWN_FACTOR, FE_MAX_SLOWDOWN_FACTOR] in
 * all. Reproduces what a real GPU showed and a model did not (the
 * paper's Fig. 17: docs/simulator.md).
 */
#define FE_MAX_SLOWDOWNS 8
#define FE_MIN_SLOWDOWN_FACTOR 0.001
#define FE_MAX_SLOWDOWN_FACTOR 1000.0

typedef struct fe_slowdown {
    double factor;           /* in [FE_MIN_SLOWDOWN_FACTOR,
                                FE_MAX_SLOWDOWN_FACTOR] */
    double from_s, to_s;     /* 0 <= from_s < to_s; to_s INFINITY: to the
                                end of the run */
} fe_slowdown;

/* Per-workload settings beyond the plan. */
typedef struct fe_workload_cfg {
    char name[POL_NAME_MAX];
    trace_spec arrivals;     /* rate_rps: the workload's total rate */
    double max_delay_ms;     /* < 0: default, half the SLO */
    size_t queue_limit;      /* per instance; 0: FE_DEFAULT_QUEUE_LIMIT */
    double service_ms;       /* fixed back end */
    int service_exp;         /* fixed back end: exponential */
    double service_cv;       /* fixed back end: gamma of this coefficient
                                of variation when > 0 */
    fe_slowdown slow[FE_MAX_SLOWDOWNS];   /* simulator only; nslow 0: none */
    size_t nslow;
    int has_wake;            /* simulator only: a wake cost was given */
    double wake_us;          /* in [0, FE_MAX_WAKE_US]; see fe_wake_parse */
} fe_workload_cfg;

/* Checks one slow-down (factor, window); errors name `where` and the bad
 * value. */
int fe_slowdown_check(const fe_slowdown *sd, const char *where, ut_err *err);

/*
 * Parses the command-line form TARGET:FACTOR[:FROM_S-TO_S] (no window:
 * the whole run) into *target (its length *target_len; not
 * NUL-terminated, a part of s) and *sd, checked. TARGET may itself hold
 * colons: the factor and window are read from the right. Errors name
 * `where` and the value.
 */
int fe_slowdown_parse(const char *s, const char *where, const char **target,
                      size_t *target_len, fe_slowdown *sd, ut_err *err);

/*
 * Adds sd to every workload of wc[0..nw) whose name is target or, when
 * no name is, whose model (models[w]; models may be NULL) is. Unknown
 * target: an error naming `where` and listing the workloads; more than
 * FE_MAX_SLOWDOWNS on one workload: an error too.
 */
int fe_slowdown_add(fe_workload_cfg *wc, size_t nw,
                    const char *const *models, const char *target,
                    size_t target_len, const fe_slowdown *sd,
                    const char *where, ut_err *err);

/* The factor on a batch of wc starting at t_ns: the product over the
 * windows holding t_ns (1 when none), kept within [FE_MIN_SLOWDOWN_FACTOR,
 * FE_MAX_SLOWDOWN_FACTOR]. */
double fe_slowdown_factor(const fe_workload_cfg *wc, int64_t t_ns);

/* A window edge as the run's integer time. */
int64_t fe_slowdown_ns(double s);

/* Appends the slow-downs of every workload as a JSON array member
 * "slowdowns": [{"workload", "factor", "from_s", "to_s"?}, ...] (to_s left
 * out when open); appends nothing and returns 0 when there are none, else
 * returns the number of windows. */
size_t fe_slowdown_json(ut_buf *b, const fe_workload_cfg *wc, size_t nw);

/*
 * A wake cost the planner did not predict (a simulator input, beside the
 * slow-downs): a batch of the workload that starts while its instance was
 * idle (nothing running, and its previous batch ended strictly before, or
 * none yet) takes wake_us microseconds more than the back end says, after
 * the slow-down factor. What serve's MPS workers showed on a real H200
 * (docs/simulator.md, "Wake cost").
 */
#define FE_MAX_WAKE_US 1e6

/* Checks one wake cost; errors name `where` and the value. */
int fe_wake_check(double us, const char *where, ut_err *err);

/* Parses the command-line form TARGET:US into *target (its length
 * *target_len; a part of s) and *us, checked. Errors name `where` and the
 * value. */
int fe_wake_parse(const char *s, const char *where, const char **target,
                  size_t *target_len, double *us, ut_err *err);

/* Sets the wake cost us of every workload that target names, by the rule
 * of fe_slowdown_add. Unknown target, or a workload given a wake cost
 * twice: an error naming `where`. */
int fe_wake_add(fe_workload_cfg *wc, size_t nw, const char *const *models,
                const char *target, size_t target_len, double us,
                const char *where, ut_err *err);

/* Appends "wakes": [{"workload", "us"}, ...] of the workloads given one;
 * appends nothing and returns 0 when none is, else returns their
 * number. */
size_t fe_wake_json(ut_buf *b, const fe_workload_cfg *wc, size_t nw);

/* The fixed back end's service-time distribution, from its one spelling
 * ("const", "exp" or "gamma:CV", CV in (0, 10]): sets *exp and *cv (0
 * unless gamma). Errors name `where` and the bad value. */
int fe_service_dist_parse(const char *s, const char *where, int *exp,
                          double *cv, ut_err *err);

/* Default per-workload settings: Poisson at rate_rps, delay half the SLO. */
void fe_workload_defaults(fe_workload_cfg *c, const char *name,
                          double rate_rps);

/* The batcher's maximum delay of an instance of a workload with this
 * setting and SLO: the setting, or by default half the SLO (iGniter gives
 * a batch half the SLO to fill). */
int64_t fe_batch_delay_ns(const fe_workload_cfg *wc, double slo_ms);

/* What both sim and serve run: everything but how batches are executed. */
typedef struct fe_run {
    const pol_plan *plan;
    const fe_workload_cfg *wcfg;      /* one per workload name in the plan */
    size_t nw;
    double duration_s, warmup_s;
    double interval_s;                /* timeseries interval (0: 1 s) */
    uint64_t seed;
    size_t trace_max;                 /* trace.json slices; 0: no trace */
    /* Inputs recorded in summary.json (file names, as given), and a hash of
     * everything the run reads and the program that ran it (the caller's,
     * lab_run_hash; NULL: none), by which a finished run is known to be
     * still valid. */
    const char *plan_path, *profile_path, *measured_path, *experiment_path;
    const char *power_path;           /* the power model (sim --power) */
    const char *input_hash;
    /* More top-level members of summary.json, as JSON text without braces
     * (a sweep's "cell": {...}); NULL: none. */
    const char *extra_json;
    /* Set to non-zero (from a signal handler) to stop at the current time;
     * the results so far are kept, marked incomplete. */
    volatile sig_atomic_t *stop;
} fe_run;

/*
 * A run bound to its plan: for every instance of the plan, in plan order
 * (GPU by GPU), its workload, GPU, slot on that GPU and plan entry; for
 * every workload, its instances and their routing weights. Made once by
 * fe_bind, for the simulator and the real provisioner alike.
 */
typedef struct fe_binding {
    size_t ninst, nw;
    int *inst_w, *inst_gpu, *inst_slot;
    const pol_instance **inst_pi;
    int **winst;                      /* per workload: its instances */
    size_t *nwinst;
    fe_wrr *rr;                       /* per instance: weight = its rate */
    double *wtotal;                   /* per workload: sum of the weights */
    int64_t end_ns, warm_ns, iv_ns;
    /* the trace files the workloads replay, each loaded once: make the
     * run's generators with trace_gen_new_shared(..., files, ...); a
     * caller that outlives the binding takes it (and sets it NULL) */
    trace_files *files;
} fe_binding;

/*
 * Checks the run (duration, warm-up, interval, a plan with a GPU, unique
 * workload names, every plan instance's workload has settings, every
 * workload has an instance, every arrival spec makes a generator) and
 * binds it. On error err names the field and value, and b is empty (no
 * need to free it).
 */
int fe_bind(const fe_run *run, fe_binding *b, ut_err *err);
void fe_binding_free(fe_binding *b);

/* GPU-hours of a GPU that existed from created_ns to end_ns. */
double fe_gpu_hours(int64_t created_ns, int64_t end_ns);

/* ---- results ----------------------------------------------------------------- */

/* Per-workload results (requests arriving after the warm-up). */
typedef struct fe_wstats {
    char name[POL_NAME_MAX];
    char model[MDL_NAME_MAX];
    double slo_ms, rate_rps;
    int instances;
    uint64_t arrived, completed, dropped, violations;
    uint64_t queued_end;     /* counted in the queues and running batches
                                at the end (conservation: arrived =
                                completed + dropped + queued_end) */
    uint64_t late_end;       /* of those, already past their SLO at the
                                end: they can only finish late, so they
                                are violations (the others' outcome is
                                unknown: left out of violation %) */
    uint64_t batches, batch_items;
    double service_ns_sum;   /* batch completion - dispatch, summed over
                                batches dispatched after the warm-up */
    uint64_t service_batches;
    double queue_ns_sum;     /* dispatch - arrival, completed requests */
    double area_ns;          /* time in system, summed: Little's L x T */
    fe_hist lat;             /* arrival to completion (owned) */
} fe_wstats;

typedef struct fe_result {
    int complete;            /* 0 if stopped early */
    double sim_end_s;        /* time reached */
    double window_s;         /* measured: sim_end_s - warmup_s */
    size_t nw;
    fe_wstats *w;
    size_t ngpus;            /* every GPU the run rented */
    size_t peak_gpus;        /* the most rented at once (a runtime policy
                                gives GPUs back: fewer than ngpus) */
    double *gpu_busy;        /* fraction of [warmup, end] with a batch */
    double cost;             /* GPU-hours x price (GPUs added at run
                                time count from when they were added,
                                GPUs given back until they were) */
    double gpu_hours;
    size_t reconfigs;        /* runtime changes applied */
    uint64_t events;
} fe_result;

/*
 * The run's cost per hour, the one definition every output uses (sim's
 * summary line, summary.json's cost_per_hour, compare's and sweep's
 * tables): its cost (GPU-hours x price, a GPU counting from when it was
 * created to the end) over the simulated time, warm-up included, in $/h.
 * A plan that never changes gives its own cost per hour; a runtime policy
 * that adds GPUs gives the time average, which lies between the plan's
 * and the peak's. 0 for a run that reached no time.
 */
double fe_cost_per_hour(const fe_result *r);

/* Frees the workloads' statistics (with their histograms) and the GPUs'. */
void fe_result_free(fe_result *r);

/* A workload's SLO violation %: (late completions + late at the end +
 * drops) over (completions + late at the end + drops); 0 when none. */
double fe_violation_pct(const fe_wstats *st);
/* The same over every workload of a run. */
double fe_total_violation_pct(const fe_result *r);

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
 * every interval with fe_rec_interval_rows + _reset while t >= next_iv.
 */
typedef struct fe_rec_iv {
    uint64_t arr, done, viol, drop;   /* this interval */
    fe_hist h;                        /* this interval's latencies */
    int64_t slo_ns;
} fe_rec_iv;

typedef struct fe_rec {
    size_t nw;
    fe_wstats *st;           /* totals; the caller names them */
    fe_rec_iv *iv;
    int64_t warm_ns, iv_ns, next_iv;
    FILE *ts, *tr;           /* timeseries.csv, trace.json (or NULL) */
    size_t trace_n, trace_max;
    uint64_t requests;       /* completed, warm-up included */
    void *files;             /* the files being written */
} fe_rec;

void fe_rec_init(fe_rec *r, size_t nw, int64_t warm_ns, int64_t iv_ns,
                 size_t trace_max);
/* fe_rec_init for a bound run, with every workload's name, model, SLO,
 * rate and instance count filled in from the run and its binding. */
void fe_rec_init_bound(fe_rec *r, const fe_run *run, const fe_binding *b);
void fe_rec_free(fe_rec *r);
/* Opens out_dir/timeseries.csv (and trace.json when trace_max > 0, with a
 * track per instance of plan, numbered in plan order) under temporary
 * names: fe_rec_commit renames them when complete, fe_rec_abort removes
 * them. */
int fe_rec_open(fe_rec *r, const char *out_dir, const pol_plan *plan,
                ut_err *err);
int fe_rec_commit(fe_rec *r, ut_err *err);
void fe_rec_abort(fe_rec *r);
void fe_rec_arrival(fe_rec *r, int w, int64_t t, int dropped);
/* A batch of k requests (arrival times arr) starts at now. */
void fe_rec_dispatch(fe_rec *r, int w, const int64_t *arr, int k,
                     int64_t now);
/* That batch, started at start, completes at now on instance track tid of
 * GPU gpu. */
void fe_rec_complete(fe_rec *r, int w, const int64_t *arr, int k,
                     int64_t start, int64_t now, int gpu, int tid);
/* A request that arrived at t is still queued or running at the end. */
void fe_rec_unfinished(fe_rec *r, int w, int64_t t, int64_t end);
/* Writes the rows of the interval ending at next_iv (per workload: its
 * instances' planned share, their count and the largest planned batch
 * among them), then fe_rec_interval_reset starts the next one; between
 * the two the counts are the interval's (runtime policies read them). */
void fe_rec_interval_rows(fe_rec *r, const double *share, const int *count,
                          const int *batch);
void fe_rec_interval_reset(fe_rec *r);
/*
 * What a policy's runtime hook is shown of each workload over the interval
 * ending at r->next_iv (call it before fe_rec_interval_reset): obs[w], one
 * per workload of r (r->nw), from that interval's counts and latencies;
 * queued[w] is what waits in the workload's queues now (NULL: none). The
 * names point into r->st. The one construction sim and serve share, so a
 * policy sees the same numbers from either.
 */
void fe_rec_observe(const fe_rec *r, const uint64_t *queued,
                    pol_observation *obs);

/*
 * Writes summary.json, workloads.csv and cdf.csv of a finished run into
 * out_dir, each atomically. backend names what judged the latencies;
 * extra_json, when not NULL, is inserted as more top-level members of
 * summary.json (e.g. "\"serve\": {...}").
 */
int fe_write_results(const fe_run *run, const char *backend,
                     const fe_result *r, const char *extra_json,
                     const char *out_dir, ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
