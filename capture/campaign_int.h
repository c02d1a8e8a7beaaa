/*
 * campaign_int.h - private to the campaign's files: its context and the
 * functions one of them calls in another. Nothing else includes it; the
 * component's API is capture/capture.h (cap_campaign_*).
 *
 *   campaign.cu        the context, Ctrl-C, models, timing and the raw
 *                      file; `run` and its steps but co-location
 *   campaign_coloc.cu  partitions side by side, one thread each: the
 *                      steps pair_self, coloc, copies, heldout and power
 *   campaign_check.cu  the one-model verbs: infer, check, bench
 *   campaign_mps.cu    `mps`: a daemon of our own, a client per workload
 *
 * Shared names carry the prefix cg_.
 */
#ifndef CAP_CAMPAIGN_INT_H
#define CAP_CAMPAIGN_INT_H

#include "capture/capture.h"

#include <stdint.h>
#include <stdio.h>

#define CG_MAX_MODELS 8
#define CG_MAX_CO 5      /* partitions side by side: copies goes to 5 */
#define CG_MAX_ITERS 4000

typedef struct cg_model {
    cap_graph g;
    char name[CAP_NAME_MAX];
} cg_model;

/*
 * Everything a verb's steps share, owned by the verb's call (no state at
 * file level): what was asked, the models, the GPU, the probes and the
 * raw file. The one exception is the Ctrl-C flag, which only a signal
 * handler can set (campaign.cu); cg_stopped reads both.
 */
typedef struct cg_ctx {
    const cap_campaign_opts *o;
    const char *self;            /* the tool's path: ncu and MPS children */
    cg_model models[CG_MAX_MODELS];
    int nmodels;
    cap_gpu_info gpu;
    cap_nvml *nvml;              /* NULL: power and clock not recorded */
    double tscale;               /* --quick shortens every window */
    FILE *raw;                   /* OUT/raw.jsonl, appended to */
    uint64_t rng;                /* splitmix64: the held-out draws */
    int stop;                    /* stop after the point in progress: a
                                    step everything needs failed */
} cg_ctx;

/* Latency of back-to-back inferences: ms; t0, t1 the window (cap_now);
 * q the distribution, quantiles at cap_rec_q_levels. */
typedef struct cg_lat {
    int iters;
    double mean, p50, p99, std, gpu_mean, t0, t1;
    double q[CAP_REC_NQ];
} cg_lat;

/* ---- campaign.cu ---------------------------------------------------------- */

void cg_init(cg_ctx *c, const cap_campaign_opts *o, const char *self);
/* Closes what the context holds (models, NVML, the raw file). */
void cg_free(cg_ctx *c);
/* 1 when the verb should stop after the point in progress: Ctrl-C or
 * SIGTERM (with cap_campaign_catch_stop), or c->stop. */
int cg_stopped(const cg_ctx *c);
/* The models of o->models, from o->models_dir. */
int cg_load_models(cg_ctx *c, ut_err *err);
cg_model *cg_find_model(cg_ctx *c, const char *name);
/* A runner of m with the defaults but max_batch. */
int cg_new_runner(const cg_model *m, int max_batch, cap_runner **r,
                  ut_err *err);
/* Up to max whole numbers of a comma-separated list; how many. */
int cg_parse_list(const char *s, int *v, int max);
double cg_realtime(void);
int cg_dcmp(const void *a, const void *b);
/* Back-to-back inferences: `warm` untimed, then until min_iters and min_s
 * are both reached (at most CG_MAX_ITERS, at most max_s). Latency is host
 * wall time from enqueue to completion. */
int cg_time_runner(cap_runner *r, int batch, int warm, int min_iters,
                   double min_s, double max_s, cg_lat *s, ut_err *err);
/* Share of the GPU (%) of sms SMs. */
double cg_share_of(const cg_ctx *c, int sms);
/* Mean power and clock over a timed window (NAN without NVML or a
 * sample); returns the samples in it. */
int cg_window(const cg_ctx *c, const cg_lat *s, double *power_w,
              double *clock_mhz);
/* Per-inference statistics of runner r's kernels among k[0..n); top (may
 * be NULL): the heaviest kernels by name as a JSON array. */
int cg_kstats_of(cap_runner *r, const cap_kernel_rec *k, size_t n,
                 int iters, cap_kstats *ks, ut_buf *top, ut_err *err);
/* Opens OUT/raw.jsonl for appending (OUT made if missing) into c->raw. */
int cg_open_raw(cg_ctx *c, ut_err *err);
/* Writes one record to the raw file, flushed at once: what was measured
 * is kept whatever happens next. */
void cg_emit(cg_ctx *c, const cap_rec *r);
/* The "step" record: how long a step took, whether it failed and why. */
void cg_emit_step(cg_ctx *c, const char *step, double seconds, int ok,
                  const char *error);
/* The "end" record. */
void cg_emit_end(cg_ctx *c, int complete, int failed_steps, double seconds);

/* ---- campaign_coloc.cu ------------------------------------------------------ */

int cg_step_pair_self(cg_ctx *c, ut_err *err);
int cg_step_coloc(cg_ctx *c, ut_err *err);      /* the fitting pairs */
int cg_step_copies(cg_ctx *c, ut_err *err);
int cg_step_heldout(cg_ctx *c, ut_err *err);    /* held out: 2-, 3-, 4-way */
int cg_step_power(cg_ctx *c, ut_err *err);      /* sustained power */

#endif
