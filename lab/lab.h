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
 *    "policies": [NAME, ...], "seeds": N, "focus": WORKLOAD}
 * Relative paths are relative to the experiment file's folder.
 */
#define LAB_MAX_POLICIES 16

typedef struct lab_experiment {
    char profile[UT_PATH_MAX];
    char plan[UT_PATH_MAX];          /* empty: plan with policy */
    char policy[POL_NAME_MAX];
    char backend[32];
    char measured[UT_PATH_MAX];
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
    const char *arrivals;            /* a spec for every workload */
    const char *service_dist;        /* "const" or "exp" */
    double duration_s, warmup_s, interval_s, max_delay_ms, service_ms;
    double reconfig_delay_s;
    long long seed, queue_limit, trace_max;
    int for_serve;                   /* a real run: no back end, no
                                        measured data, no runtime policy */
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
    pol_plan plan;
    int planned;                     /* the plan came from the policy */
    pol_request req;
    fe_workload_cfg *wcfg;           /* e.wcfg, or one per plan workload */
    int own_wcfg;
    /* serve only: the policy has a runtime hook that a real run does not
     * apply (its first plan is served as it is) */
    const char *runtime_dropped;
    char input_hash[17];
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
void lab_prepared_free(lab_prepared *p);

/* Simulates a prepared run into out_dir (created if missing). res may be
 * NULL; otherwise the caller frees it (fe_result_free). */
int lab_simulate(lab_prepared *p, const char *out_dir, fe_result *res,
                 ut_err *err);

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
 * and the seed. Recorded in summary.json ("input_hash"); compare reuses a
 * finished run only when it matches. */
void lab_run_hash(const lab_experiment *e, const char *exp_path,
                  const char *plan_path, const char *policy, uint64_t seed,
                  char out[17]);

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

#ifdef __cplusplus
}
#endif

#endif
