/*
 * lab.h - the orchestration floor: experiment files, preparing a run
 * (profile and measured data, price from the catalog, models checked,
 * planning, per-workload settings), and `igniter compare`. Above the
 * simulator (sim/) and the real provisioner (serve/), below the command
 * line.
 *
 * Named lab/ so that it is not confused with experiments/, the folder of
 * experiment files and their results. Nothing here prints: messages come
 * back in a ut_err or through a caller's callback, and the caller owns the
 * stop flag (set from its signal handler).
 */
#ifndef LAB_LAB_H
#define LAB_LAB_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "frontend/frontend.h"
#include "model/model.h"
#include "policies/policy.h"
#include "serve/serve.h"
#include "sim/sim.h"
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- experiment files ------------------------------------------------------ */

/*
 * An experiment file names what `igniter sim EXPERIMENT.json` runs:
 *   {"profile": P, "policy": NAME | "plan": PLAN.json,
 *    "workloads": [ {name, model, slo_ms, rate_rps, arrivals?, max_delay_ms?,
 *                    queue_limit?, service_ms?, service_dist?}, ...]
 *                 | "FILE.json",
 *    "backend": "model", "measured": M, "duration_s": D, "warmup_s": W,
 *    "seed": N, "interval_s": I, "arrivals": {default arrivals},
 *    "reconfig_delay_s": R, "faithful": B,
 *    "policies": [NAME, ...], "seeds": N, "focus": WORKLOAD,
 *    "slowdowns": [{"workload": W, "factor": F, "from_s": A, "to_s": B}],
 *    "wakes": [{"workload": W, "us": US}]}
 * Relative paths are relative to the experiment file's folder. A slow-down
 * (fe_slowdown, frontend.h) or a wake cost (fe_wake_parse) lands in the
 * settings (wcfg) of the workload named W, or of every workload of model W
 * when no workload is named so.
 */
#define LAB_MAX_POLICIES 16

typedef struct lab_experiment {
    char profile[UT_PATH_MAX];
    char plan[UT_PATH_MAX];          /* empty: plan with policy */
    char policy[POL_NAME_MAX];
    char backend[32];
    char measured[UT_PATH_MAX];
    char power[UT_PATH_MAX];         /* the power model, or "" */
    double duration_s, warmup_s, interval_s;
    uint64_t seed;
    int faithful;
    pol_workload *w;                 /* the workloads (for the policy) */
    fe_workload_cfg *wcfg;
    size_t nw;
    double reconfig_delay_s;         /* < 0: the default */
    /* igniter compare: the policies to compare, the number of seeds
     * (seed, seed + 1, ...), the workload whose latency and share over
     * time are plotted (default the first) */
    char policies[LAB_MAX_POLICIES][POL_NAME_MAX];
    size_t npolicies;
    int nseeds;
    char focus[POL_NAME_MAX];
} lab_experiment;

int lab_experiment_load(const char *path, lab_experiment *e, ut_err *err);
void lab_experiment_free(lab_experiment *e);

/* ---- preparing a run ---------------------------------------------------------- */

/* What the command line gives; each field overrides the experiment's.
 * Unset: NULL for strings, < 0 for numbers. */
typedef struct lab_opts {
    const char *experiment;          /* an experiment file, or NULL */
    const char *plan, *profile, *backend, *measured;
    const char *power;               /* the power model (measured-power.json) */
    const char *arrivals;            /* a spec for every workload */
    const char *service_dist;        /* "const", "exp" or "gamma:CV" */
    double duration_s, warmup_s, interval_s, max_delay_ms, service_ms;
    double reconfig_delay_s;
    long long seed, queue_limit, trace_max;
    /* --slowdown WORKLOAD_OR_MODEL:FACTOR[:FROM_S-TO_S] (fe_slowdown_parse),
     * each; when any is given they replace the experiment's "slowdowns",
     * and "none" stands for no slow-down at all */
    const char *const *slowdowns;
    size_t nslowdowns;
    /* --wake WORKLOAD_OR_MODEL:US (fe_wake_parse), each; when any is given
     * they replace the experiment's "wakes" ("none": no wake cost) */
    const char *const *wakes;
    size_t nwakes;
    int for_serve;                   /* a real run: no back end, no
                                        measured data */
    volatile sig_atomic_t *stop;
} lab_opts;

/* Every lab_opts field unset. */
void lab_opts_init(lab_opts *o);

/*
 * A run ready to simulate or serve: its plan (loaded, or made by the
 * policy from the experiment's workloads), the profile and measured data
 * the back end reads, the per-workload settings, and sim's configuration
 * pointing into all of these. Owns everything it points to.
 */
typedef struct lab_prepared {
    lab_experiment e;
    mdl_fitted fit;
    mdl_measured meas;
    int have_meas;
    mdl_power power;                 /* attached to meas when have_power */
    int have_power;
    pol_plan plan;
    int planned;                     /* the plan came from the policy */
    pol_request req;
    fe_workload_cfg *wcfg;           /* e.wcfg, or one per plan workload */
    int own_wcfg;
    char input_hash[17];
    char *slow_json;                 /* the slow-downs for summary.json, or
                                        NULL */
    sim_config cfg;                  /* cfg.run: the run itself */
} lab_prepared;

/*
 * Loads the experiment (if any) and everything it names, applies the
 * overrides, plans when there is no plan file, and fills p->cfg. A plan
 * file without an experiment runs one workload per distinct name in the
 * plan, Poisson at its instances' total rate. Every check that needs no
 * run happens here: a bad file, an unknown model or back end, a policy
 * that cannot plan. On error p is freed.
 */
int lab_prepare(const lab_opts *o, lab_prepared *p, ut_err *err);

/* The power model at path into *pw, attached to meas (meas->power), for
 * the measured back ends: an error (naming path) for another back end or
 * without measured data. */
int lab_power_attach(const char *path, const char *backend,
                     mdl_measured *meas, int have_meas, mdl_power *pw,
                     ut_err *err);
/* An error (naming path and the model) when a model of plan has no power
 * data in pw. */
int lab_power_check_plan(const mdl_power *pw, const mdl_measured *meas,
                         const pol_plan *plan, const char *path,
                         ut_err *err);
void lab_prepared_free(lab_prepared *p);

/* Simulates a prepared run into out_dir (created if missing). res may be
 * NULL; otherwise the caller frees it (fe_result_free). */
int lab_simulate(lab_prepared *p, const char *out_dir, fe_result *res,
                 ut_err *err);

/* The slow-downs and wake costs of wc[0..nw) as summary.json members
 * ("slowdowns": [...], "wakes": [...]; fe_slowdown_json, fe_wake_json), a
 * string to free, or NULL when there are none; *nslow (may be NULL): the
 * number of slow-down windows. */
char *lab_slow_json(const fe_workload_cfg *wc, size_t nw, size_t *nslow);

/* The largest --sensitivity, in percent. */
#define LAB_MAX_SENSITIVITY 50.0

/* Checks PCT and that every workload has room for one more slow-down;
 * errors name --sensitivity and the value or the workload. */
int lab_sensitivity_check(const lab_prepared *p, double pct, ut_err *err);

/*
 * How much a prepared run's answer hangs on its batch times (`igniter sim
 * --sensitivity PCT`, docs/simulator.md): after the run itself (nominal,
 * its result), the same run twice more, every workload's batch times
 * times 1 - PCT/100 and 1 + PCT/100 (a whole-run slow-down added to its
 * own, fe_slowdown), into OUT/sensitivity/xFACTOR/ (the same files as a
 * run, its input hash mixed with the added windows), then
 * OUT/sensitivity.csv: per workload and for all of them, each factor's
 * mean and P99 latency and SLO violation %. PCT in (0, LAB_MAX_SENSITIVITY].
 * var[0] and var[1]: the two runs' results, zeroed first and the
 * caller's to free (fe_result_free) whatever it returns. Returns 0; 1
 * when a run was stopped (its folder says "complete": false, no csv); -1
 * on error. The prepared run is as it was when it returns.
 */
int lab_sensitivity(lab_prepared *p, const char *out_dir, double pct,
                    const fe_result *nominal, fe_result var[2], ut_err *err);

/* The input hash of a run (hash0) with one more whole-run slow-down of
 * `factor` on each of wc[0..nw) (each must have room for it): what
 * lab_run_scaled records, for lab_run_status. */
void lab_scaled_hash(fe_workload_cfg *wc, size_t nw, const char *hash0,
                     double factor, char out[17]);
/* cfg's run (its wcfg is wc[0..nw), its input hash hash0) once more with
 * every batch time times `factor` (one more whole-run slow-down on each
 * workload, recorded in summary.json and mixed into its hash), into dir;
 * wc is as it was when it returns. sim_run's return; res may be NULL. */
int lab_run_scaled(sim_config *cfg, fe_workload_cfg *wc, size_t nw,
                   const char *hash0, double factor, const char *dir,
                   fe_result *res, ut_err *err);

/* A real run (serve.h's srv_run) of a prepared run on the GPU device of
 * build/libigniter-gpu.so. Returns what srv_run returns (0 complete, 1
 * stopped, 2 device error, -1 bad input), or -2 when the GPU library or
 * its device cannot start (err says why). */
typedef struct lab_serve_opts {
    const char *mechanism;           /* "green" (default) or "mps" */
    const char *models_dir;          /* NULL: the default */
    int verbose;
    int64_t poll_ns;
    int only_gpu;                    /* < 0: every plan GPU in turn */
    FILE *progress;                  /* serve's lines, or NULL */
} lab_serve_opts;

int lab_serve(lab_prepared *p, const lab_serve_opts *so, const char *out_dir,
              fe_result *res, srv_stats *st, ut_err *err);

/* A hash of what a run reads and what runs it (lab/hash.c says what),
 * as 16 hex digits: the program's executable, the experiment file (may be
 * NULL) and the workloads file it names, e's profile, measured data and
 * replay traces (e may be NULL), a plan file (may be NULL), the policy
 * and the seed, and e's slow-downs (lab_hash_slowdowns). Recorded in
 * summary.json ("input_hash"); compare reuses a finished run only when it
 * matches. */
void lab_run_hash(const lab_experiment *e, const char *exp_path,
                  const char *plan_path, const char *policy, uint64_t seed,
                  char hash[17]);
/* Mixes the slow-downs and then the wake costs of wc[0..nw) into hash (16
 * hex digits, rewritten in place); leaves it as it is when there are
 * none, so that a run without them keeps the hash it had before they
 * existed. */
void lab_hash_slowdowns(const fe_workload_cfg *wc, size_t nw, char hash[17]);
/* hash (16 hex digits) mixed with the bytes of the file at path; left as
 * it is when the file cannot be read. */
void lab_hash_mix_file(char hash[17], const char *path);
/* 1: dir holds a complete run whose input_hash is hash; 0: no complete
 * run there; -1: a complete run from other inputs (stale). */
int lab_run_status(const char *dir, const char *hash);

/* ---- igniter compare -------------------------------------------------------- */

/* What compare reports as it goes: one line per run (kept, done,
 * interrupted, failed) and a run's error; the caller prints them. */
typedef void (*lab_note_fn)(void *ud, const char *line);

/*
 * For each policy of the experiment and each seed, plan (each policy with
 * its own model and data) and simulate under the experiment's back end and
 * arrivals, up to `jobs` runs at a time in child processes, each into
 * out_dir/runs/POLICY-sSEED/. A run already complete there is kept, not run
 * again (an interrupted compare resumes). Then writes out_dir/results.csv
 * (one row per policy, seed and workload, and an "all" row),
 * out_dir/summary.csv (means and 95 % confidence intervals over seeds),
 * out_dir/cdf.csv and out_dir/timeseries.csv (first seed), and the figure
 * data in out_dir/figdata/. A finished run is kept only when its
 * summary.json's input_hash is lab_run_hash of its inputs now; a stale one
 * runs again, and note says how many of each. When *stop becomes non-zero,
 * no new run starts and the running ones end early; the tables are then
 * written from the finished runs (summary.csv's runs < seeds) and the call
 * returns 1 with err saying so. 0 when complete, -1 on error.
 */
int lab_compare(const char *exp_path, const char *out_dir, int jobs,
                int nseeds, volatile sig_atomic_t *stop, lab_note_fn note,
                void *note_ud, ut_err *err);

/*
 * lab_compare over the policies of `policies` instead of the experiment's
 * own list (NULL: the experiment's, as lab_compare): names separated by
 * commas, each registered (pol_find) and named once, compared in the
 * order given. A registered policy the experiment does not list is
 * compared too (a new policy on an existing experiment, without copying
 * it). A run's hash (lab_run_hash) does not include the list, so a run
 * made by a compare of all the policies is reused by one of some of them
 * and the reverse, while its own inputs are the same. A bad list is an
 * error (-1, nothing written) naming the value and, for an unknown name,
 * listing the registered ones.
 */
int lab_compare_policies(const char *exp_path, const char *out_dir,
                         const char *policies, int jobs, int nseeds,
                         volatile sig_atomic_t *stop, lab_note_fn note,
                         void *note_ud, ut_err *err);

/*
 * lab_compare_policies, and with longer_pct > 0 (`--longer PCT`, up to
 * LAB_MAX_SENSITIVITY) each run once more with every batch PCT % longer
 * (lab_run_scaled, into its folder's sensitivity/xFACTOR/, kept and run
 * again as the run itself is): results.csv gains slo_violation_pct_longer
 * and summary.csv slo_violation_pct_longer and its interval. Whether a
 * policy's attainment survives batch times a few percent longer than its
 * data says (a GPU at its power cap: experiments/validation/policies/).
 * 0: lab_compare_policies, the same files.
 */
int lab_compare_longer(const char *exp_path, const char *out_dir,
                       const char *policies, int jobs, int nseeds,
                       double longer_pct, volatile sig_atomic_t *stop,
                       lab_note_fn note, void *note_ud, ut_err *err);

/* ---- igniter sweep -------------------------------------------------------------- */

/*
 * A sweep file: a base experiment and axes, each a list of values; the
 * cross product of the axes (the last varying fastest), trimmed by
 * "include" (keep only cells matching one of its {axis: value} objects)
 * and "exclude" (drop those matching one), is the list of cells:
 *   {"base": "paper-12.json" | {...experiment...},
 *    "axes": {"workloads": ["w.json", {"generate": {"count": 12,
 *                "models": [...], "rate_rps": [lo, hi], "slo_ms": [lo, hi],
 *                "seed": 1}}],
 *             "arrivals": [{"kind": "poisson"}, {"kind": "gamma", "cv": 2}],
 *             "rate_scale": [0.5, 1, 1.5],
 *             "policy": ["igniter", "ffd"], "profile": [...],
 *             "backend": [...], "seed": [1, 2, 3],
 *             "ANY_EXPERIMENT_FIELD": [...]},
 *    "include": [{...}], "exclude": [{"policy": "gpulets",
 *                                     "rate_scale": 1.5}]}
 * Relative paths are taken from the folder of the file that names them.
 * docs/sweeps.md has a worked example.
 */
#define LAB_MAX_AXES 16
#define LAB_MAX_CELLS 10000000

typedef struct lab_cell {
    char id[13];                      /* 12 hex digits of its params */
    uint16_t vi[LAB_MAX_AXES];        /* index of its value on each axis */
} lab_cell;

typedef struct lab_sweep {
    char path[UT_PATH_MAX], dir[UT_PATH_MAX];
    cJSON *base;                      /* paths absolute, workloads inline */
    cJSON *axes;
    const char *axis_name[LAB_MAX_AXES];
    size_t naxes;
    lab_cell *cells;
    size_t ncells;
} lab_sweep;

int lab_sweep_load(const char *path, lab_sweep *s, ut_err *err);
void lab_sweep_free(lab_sweep *s);
/* The index of the axis named name, s->naxes where there is none. */
size_t lab_sweep_axis(const lab_sweep *s, const char *name);
/* Cell k's parameters as compact JSON {"axis": value, ...} (malloc'd). */
char *lab_cell_params(const lab_sweep *s, size_t k);
/* A short label of cell k's value on axis a, for tables and figures: a
 * file's name without ".json", a number, an arrival kind ("gamma:2"). */
void lab_cell_label(const lab_sweep *s, size_t k, size_t a, char *out,
                    size_t n);
/* Cell k as an experiment file's text (malloc'd), or NULL with err. */
char *lab_cell_experiment(const lab_sweep *s, size_t k, ut_err *err);
/* OUT/cells/ID. */
void lab_cell_dir(const char *out_dir, const lab_sweep *s, size_t k,
                  char *dir, size_t n);

/* What running one cell came to (also a child process's exit status). */
enum {
    LAB_CELL_DONE = 0,
    LAB_CELL_FAILED = 1,              /* error.txt in its folder says why */
    LAB_CELL_KEPT = 3,                /* finished before, same inputs */
    LAB_CELL_RERUN = 4,               /* finished before from other inputs:
                                         run again */
    LAB_CELL_STOPPED = 130,
};

/* Runs cell k into lab_cell_dir (its experiment.json, the simulator's
 * files, summary.json with "cell": {id, params}); a finished cell whose
 * input hash matches is kept, not run. With LAB_SWEEP_COMPACT a finished
 * cell keeps only what gather reads (experiment.json, summary.json,
 * cdf.csv: about 15 KB), not its timeseries.csv and workloads.csv. Never
 * prints. */
#define LAB_SWEEP_COMPACT 1
int lab_sweep_run_cell(const lab_sweep *s, size_t k, const char *out_dir,
                       int flags, volatile sig_atomic_t *stop, ut_err *err);

/* Runs cell k (lab_sweep_run_cell) in a child process, whose exit status
 * is the outcome; its pid, or -1 with errno. The child never calls MPI or
 * returns: a crash takes only its cell down. */
pid_t lab_sweep_fork_cell(const lab_sweep *s, size_t k, const char *out_dir,
                          int flags, volatile sig_atomic_t *stop);
/* The outcome (LAB_CELL_*) of cell k's child from its wait status; a
 * child killed by a signal is LAB_CELL_FAILED, with its error.txt saying
 * so (it could not). */
int lab_sweep_cell_reaped(const lab_sweep *s, size_t k, const char *out_dir,
                          int wait_status);

typedef struct lab_sweep_stats {
    size_t total, done, kept, rerun, failed, stopped;
    long max_cell_rss_kb;             /* the largest peak memory of a cell */
} lab_sweep_stats;

/* Counts a cell's outcome (LAB_CELL_*) into st. */
void lab_sweep_count(lab_sweep_stats *st, int status);

/* Called after each cell: its index, what it came to, the counts so far. */
typedef void (*lab_sweep_progress_fn)(void *ud, const lab_sweep *s, size_t k,
                                      int status, const lab_sweep_stats *st);

typedef struct lab_sweep_opts {
    int jobs;                         /* cells at a time (child processes) */
    int shard_k, shard_n;             /* run the cells k-1, k-1+n, ... of n
                                         slices (1-based; n 0: all) */
    int flags;                        /* LAB_SWEEP_COMPACT */
    volatile sig_atomic_t *stop;
    lab_sweep_progress_fn progress;
    void *progress_ud;
} lab_sweep_opts;

/* Runs every cell of the sweep (or of its shard) that is not finished with
 * the same inputs, keeping going past failed cells. 0 when every cell ran
 * or was kept, 1 when some failed, 2 when stopped; -1 on an error before
 * any cell ran. */
int lab_sweep_run(const lab_sweep *s, const char *out_dir,
                  const lab_sweep_opts *o, lab_sweep_stats *st, ut_err *err);

/* Reads every cell's summary.json and writes OUT/gather.csv (one row per
 * cell and workload and one per cell, "scope" all; every axis a column),
 * OUT/gather-summary.csv (per configuration, i.e. the axes but "seed":
 * n, mean and 95 % confidence interval of violation %, P99, cost per hour
 * and GPUs) and the figure data in OUT/figdata/. Cells not run yet are
 * counted (*missing) and left out. */
int lab_sweep_gather(const lab_sweep *s, const char *out_dir,
                     size_t *missing, ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
