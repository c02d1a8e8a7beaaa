/*
 * policy.h - provisioning policies, the plan they produce, and the GPU
 * catalog.
 *
 * A policy is a versioned ops struct registered in one table
 * (policies/registry.c); callers find it by name. It turns workloads (model,
 * SLO, rate) and a fitted model of one GPU type into a plan: which GPU each
 * workload instance runs on, with what share and batch size. The plan file
 * (`"format": 1`, see pol_plan_to_json) is what the simulator and the real
 * provisioner read; it is the project's stable interface, so its fields only
 * ever get added.
 */
#ifndef POL_POLICY_H
#define POL_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "model/model.h"
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define POL_NAME_MAX 64
/* Bounds of a workload: an SLO as long as the longest run (about 116
 * days, so that times stay inside int64 nanoseconds), and a rate far above
 * any one model's but small enough that planning it stays bounded (a
 * rate of 1e30 once asked the planner for more GPUs than memory holds). */
#define POL_MAX_SLO_MS 1e10
#define POL_MAX_RATE_RPS 1e7
#define POL_PLAN_FORMAT 1
#define POL_OPS_VERSION 1

/* A workload: requests for one model at a rate, with a latency SLO. */
typedef struct pol_workload {
    char name[POL_NAME_MAX];
    char model[MDL_NAME_MAX];
    double slo_ms;     /* > 0: end-to-end latency objective */
    double rate_rps;   /* > 0: mean request rate */
} pol_workload;

/*
 * Loads {"workloads":[{"name","model","slo_ms","rate_rps"}, ...]}.
 * When fit is not NULL every model must be one it has (the message lists the
 * valid ones). Names must be unique. *out is malloc'd; free() it.
 */
int pol_workloads_load(const char *path, const mdl_fitted *fit,
                       pol_workload **out, size_t *n, ut_err *err);
/* The same from an already parsed array; `where` prefixes messages
 * ("exp.json: workloads"). */
int pol_workloads_from_json(const cJSON *arr, const char *where,
                            const mdl_fitted *fit, pol_workload **out,
                            size_t *n, ut_err *err);

/* One instance of a workload on a GPU. */
typedef struct pol_instance {
    char name[POL_NAME_MAX];   /* the workload's name */
    char model[MDL_NAME_MAX];
    int batch;
    double share_pct;          /* "resource_pct" in the plan file */
    double rate_rps;           /* the part of the workload's rate it serves */
    double slo_ms;
    double predicted_latency_ms;
    double predicted_throughput_rps;
} pol_instance;

typedef struct pol_gpu {
    char type[MDL_NAME_MAX];
    int replica;               /* a whole GPU for one workload's overflow */
    size_t n;
    pol_instance *inst;
} pol_gpu;

typedef struct pol_plan {
    char policy[POL_NAME_MAX];
    int policy_version;
    int faithful;              /* planned with the reference's defects */
    char gpu_type[MDL_NAME_MAX];
    double price_per_hour;
    double cost_per_hour;      /* ngpus * price_per_hour */
    size_t ngpus;
    pol_gpu *gpus;
    /* Optional, set only by a policy that solves exactly (`optimal`;
     * empty otherwise, and then not written): how its solve ended,
     * "optimal" (ngpus proven the fewest) or what stopped it ("time
     * limit", "node limit", "too large"); the fewest GPUs it proved any
     * plan of its formulation needs (<= ngpus; equal when optimal); and
     * its formulation's limit on splitting a workload into equal
     * instances (docs/optimal.md). The plan file writes them as "solve":
     * {"status", "lower_bound_gpus", "gap_pct", "max_split"}, gap_pct =
     * 100 (ngpus - bound) / ngpus. */
    char solve_status[16];
    double solve_bound_gpus;
    int solve_max_split;
} pol_plan;

void pol_plan_free(pol_plan *p);

/* The plan file, format 1: malloc'd NUL-terminated JSON text. */
char *pol_plan_to_json(const pol_plan *p);
/* A readable table (GPU, workload, model, batch, share, predicted latency
 * against the SLO, rate) and the cost line; `predicts` names what the
 * predicted latencies come from (pol_predicts; NULL: iGniter's model).
 * malloc'd text. */
char *pol_plan_table(const pol_plan *p, const char *predicts);
/* Reads a plan file back; every field is checked and named on error. */
int pol_plan_load(const char *path, pol_plan *p, ut_err *err);
/* The invariants every plan keeps, however it was made (policies/check.c):
 * the profile's GPU type (when fit is not NULL), batches >= 1, shares in
 * (0, 100], a GPU's shares adding up to at most 100 % and, for two or
 * more workloads, to at most the profile's colocated_pct, one model per
 * workload name. pol_make_plan checks every plan it returns; lab checks
 * every plan it loads. */
int pol_plan_check(const pol_plan *p, const mdl_fitted *fit, ut_err *err);

/* What a policy is given. */
typedef struct pol_request {
    const pol_workload *w;
    size_t n;
    const mdl_fitted *fit;     /* the GPU type's fitted model */
    /* Measured solo tables and pairs of the same GPU type (with L2 and DRAM
     * utilisation), for policies that plan from measurements (gpu-lets+);
     * NULL when none was given: such a policy then fails with a message
     * asking for --measured. */
    const mdl_measured *measured;
    /* Reproduce the reference implementation's known defects instead of
     * fixing them (docs/igniter-model.md lists both behaviours). */
    int faithful;
} pol_request;

/* What the simulator observed of one workload over the last control
 * interval (all requests completed in it, warm-up included). */
typedef struct pol_observation {
    const char *name;
    double slo_ms;
    double arrival_rps;        /* arrivals in the interval / its length */
    double p99_ms, mean_ms;    /* latency of requests completed in it */
    double violation_pct;      /* of those, over the SLO */
    uint64_t completed, violations, dropped;
    uint64_t queued;           /* waiting in its queues now */
} pol_observation;

/* A change a policy asks for at run time. SET and ADD take effect after
 * the simulator's reconfiguration delay, during which the instance serves
 * nothing (its running batch finishes first); `hot` asks for no gap (a
 * standby instance already running takes over). REMOVE takes effect at
 * once (docs: policies/README.md, "Reacting at run time"). */
typedef enum pol_reconf_kind {
    POL_RECONF_SET,            /* new share and batch for instance
                                  (gpu, index) of the current plan */
    POL_RECONF_ADD,            /* a new instance of workload `name` on
                                  `gpu`; gpu == ngpus opens a new GPU, and
                                  a GPU left empty by REMOVE is rented
                                  again */
    POL_RECONF_REMOVE,         /* instance (gpu, index) of the current plan
                                  stops: routing skips it from now on, its
                                  queued requests go to the workload's other
                                  instances (by routing weight, in arrival
                                  order, none dropped), its running batch
                                  finishes. A workload keeps at least one
                                  instance. A GPU left with no instance is
                                  given back and stops costing once its
                                  last batch ends; it stays in the plan
                                  with no instances, so GPU indices never
                                  shift, while the later instances of the
                                  same GPU move down one index. Only
                                  gpu and index are read. */
} pol_reconf_kind;

typedef struct pol_reconfig {
    pol_reconf_kind kind;
    size_t gpu, index;
    char name[POL_NAME_MAX];
    int batch;                 /* >= 1 (SET, ADD) */
    double share_pct;          /* > 0; a GPU's shares stay <= 100 (SET,
                                  ADD) */
    double rate_rps;           /* ADD: the rate routed to it (a weight) */
    int hot;
} pol_reconfig;

#define POL_MAX_RECONF 64

typedef struct pol_ops {
    int version;               /* POL_OPS_VERSION */
    const char *name;
    const char *summary;       /* one line for `igniter policies` */
    /* What the plan's predicted latencies come from, for the plan table
     * ("the measured data"); NULL: iGniter's model. */
    const char *predicts;
    /* Fills *out (which the caller frees with pol_plan_free) or returns -1
     * with a message naming the workload that cannot be served. Must be
     * deterministic: the same request gives the same plan. */
    int (*plan)(const pol_request *req, pol_plan *out, ut_err *err);
    /* Optional (NULL for a static policy): state for the runtime hook,
     * made once per simulation from the request and the initial plan. */
    void *(*runtime_new)(const pol_request *req, const pol_plan *plan);
    /* Called every control interval with the current plan (as the
     * simulator has reconfigured it) and one observation per workload, in
     * the order of req->w. Writes at most POL_MAX_RECONF changes into out
     * and their count into *n; they apply in that order, each to the plan
     * as the ones before it left it (so after a REMOVE the later indices
     * of that GPU are one lower). Deterministic. */
    void (*runtime)(void *state, double now_s, const pol_plan *current,
                    const pol_observation *obs, size_t nobs,
                    pol_reconfig *out, size_t *n);
    void (*runtime_free)(void *state);
} pol_ops;

/* Helpers for runtime hooks. The total share of GPU j of a plan, and the
 * locations (gpu, index) of workload name's instances: fills at most max,
 * returns how many there are. */
double pol_gpu_share(const pol_plan *p, size_t j);
/* What plan GPU j has left for raising a share: colocated_pct (what
 * co-located workloads may have together, mdl_colocated_pct) when it holds
 * two or more instances, else 100, less pol_gpu_share. */
double pol_gpu_room(const pol_plan *p, size_t j, double colocated_pct);
size_t pol_instances_of(const pol_plan *p, const char *name, size_t *gpu,
                        size_t *index, size_t max);

/* The registry: NULL if there is no policy of that name. */
const pol_ops *pol_find(const char *name);
/* What the plans of policy `name` predict latencies with (its ops'
 * .predicts), NULL for iGniter's model or a policy not registered. */
const char *pol_predicts(const char *name);
/* The NULL-terminated table of every registered policy. */
const pol_ops *const *pol_all(void);
/* "igniter, ffd, ..." for "unknown policy" messages. */
const char *pol_names(char *out, size_t n);
/* The environment variables a policy reads as its parameters
 * (IGNITER_PLUS_MARGIN_PCT, IGNITER_OPTIMAL_*), NULL-terminated: a policy
 * that reads a new one adds it here, and a run's hash (lab/hash.c) mixes
 * their values, so a run made under another setting is not reused. */
extern const char *const pol_env_params[];
/* One of them read: *v unchanged when name is unset or empty; else its
 * value, which must be a number in [lo, hi] (a whole one if integer), or
 * an error "NAME: expected EXPECT, got ..." (EXPECT, when NULL: "a whole
 * number from LO to HI" or "a number from LO to HI"). */
int pol_env_num(const char *name, double lo, double hi, int integer,
                const char *expect, double *v, ut_err *err);

/*
 * Plans with the named policy; an unknown name is an error listing the
 * valid ones. The request is checked here, once, before any policy sees
 * it (pol_check_request), so a policy may take a valid request for
 * granted.
 */
int pol_make_plan(const char *policy, const pol_request *req, pol_plan *out,
                  ut_err *err);

/* The checks every request passes: at least one workload; each with a
 * name, a model the fitted model knows, an SLO and a rate that are
 * positive and finite; names unique. Errors name the workload by index:
 * `workloads[2].model: expected one of alexnet, ..., got "x"`. */
int pol_check_request(const pol_request *req, ut_err *err);

/* A workload name every output can carry: 1..POL_NAME_MAX-1 characters,
 * none a control character, and not "all" (the name of the aggregate
 * rows of cdf.csv and compare's tables). -1 with `WHERE: expected ...`. */
int pol_check_name(const char *name, const char *where, ut_err *err);

/* ---- GPU catalog ----------------------------------------------------------- */

typedef struct pol_gpu_type {
    const char *name;
    double price_per_hour;     /* USD, on demand */
    int sm_count;
    double share_unit_pct;     /* smallest share step */
    const char *profile;       /* shipped profile, NULL if none yet */
    const char *price_source;
} pol_gpu_type;

/* NULL if the catalog has no such GPU. */
const pol_gpu_type *pol_catalog_find(const char *name);
/* The price per hour of a GPU type: `given` when positive (a profile's
 * own), else the catalog's, else 0. The one rule every caller applies. */
double pol_price_per_hour(const char *gpu, double given);
/* The catalog, ending with an entry whose name is NULL. */
const pol_gpu_type *pol_catalog(void);

/* ---- the iGniter policy's building blocks (tested directly) -------------- */

/* Algorithm 1, step 2: the batch that fills in half the SLO at this rate. */
int pol_igniter_batch(const mdl_fitted *f, const mdl_model *m, double slo_ms,
                      double rate_rps);

/* ---- the gpu-lets+ policy's interference model (tested directly) --------- */

/*
 * How well gpu-lets' linear interference model (policies/gpulets.c) fits
 * the measured pairs of m: fitted, as the policy fits it, on the pairs whose
 * index i (file order) has i % 5 != 0, and judged on both latencies of
 * every pair, as the absolute percentage error of the predicted co-located
 * latency (measured solo latency x predicted slow-down) against the
 * measured one: *train over the training pairs, *test over the held-out
 * ones (i % 5 == 0). A latency whose L2 or DRAM utilisation the solo tables
 * lack is left out of both (n counts those compared). Returns -1 with a
 * message if too few pairs have utilisations to fit on, or the fit fails.
 */
int pol_gpulets_predictor_error(const mdl_measured *m, mdl_error_stats *train,
                                mdl_error_stats *test, ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
