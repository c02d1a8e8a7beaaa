/*
 * model.h - the iGniter performance model: profiles, fitting, prediction,
 * and the measured co-location data the model is judged against.
 *
 * Data flows one way:  profile (measured) --mdl_fit--> mdl_fitted --> predict.
 *
 * A profile comes in two formats, detected by content:
 *   - the authors' JSON lines (v100-igniter-profile.jsonl; lines merged key by
 *     key), and
 *   - the project's own JSON profile (`"format": "igniter-profile"`), which the
 *     capture tool writes; documented in traces/README.md.
 * A fitted model (`"format": "igniter-fitted"`) is what `igniter fit` writes;
 * mdl_load() accepts any of the three.
 *
 * Units are in the names: _ms, _mhz, _w, _pct (percent of SMs), _bytes, _rps.
 * Nothing here keeps global state; every function works on the structs it is
 * given. Errors: -1 and a message in the ut_err (see util/util.h).
 */
#ifndef MDL_MODEL_H
#define MDL_MODEL_H

#include <stddef.h>
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MDL_NAME_MAX 32
#define MDL_MAX_COPIES 16   /* runs of the n-copies experiment */
#define MDL_MAX_BATCH 32    /* largest batch the planner considers */

/* ---- raw profile (what a capture measured) ------------------------------ */

/* One solo measurement: a model alone on `share_pct` of the GPU. */
typedef struct mdl_grid_point {
    double batch, share_pct;
    double latency_ms;  /* GPU latency of one batch (no PCIe transfer) */
    double power_w;     /* whole-GPU power while it ran */
    double clock_mhz;   /* SM clock while it ran */
} mdl_grid_point;

/* L2 cache utilisation (%) of a model alone at (batch, share). */
typedef struct mdl_l2_point {
    double batch, share_pct, util_pct;
} mdl_l2_point;

typedef struct mdl_model_profile {
    char name[MDL_NAME_MAX];
    int kernels;               /* kernels launched per inference */
    double input_bytes;        /* per request, host to device */
    double output_bytes;       /* per request, device to host */
    double idle_ms;            /* solo idle time between kernels, per batch */
    size_t ngrid;
    mdl_grid_point *grid;      /* >= 5 points (five active-time coefficients) */
    size_t nl2;
    mdl_l2_point *l2;          /* >= 2 points */
    /* The two-copy experiment that gives the L2 sensitivity: the model at
     * batch 1 with one co-located copy of itself. */
    double active_solo_ms;     /* active time alone */
    double active_pair_ms;     /* active time beside one copy */
    double clock_pair_mhz;     /* clock during the pair run */
    double power_pair_w;       /* power during the pair run (kept, unused) */
    double pair_l2_util_pct;   /* L2 utilisation of the co-located copy */
} mdl_model_profile;

typedef struct mdl_profile {
    char gpu[MDL_NAME_MAX];    /* "V100"; the authors' format has no name */
    double max_clock_mhz, power_cap_w, idle_power_w;
    double share_unit_pct;     /* smallest share step */
    double pcie_bytes_per_ms;
    double price_per_hour;     /* 0 when the profile does not say */
    int sm_count;              /* 0 when unknown */
    /* The share two or more co-located workloads may have together, %;
     * 0: the whole GPU. Green contexts on the H100 reach 120 of its 132
     * SMs (90.9 %); one workload alone still has all of them. */
    double colocated_pct;
    /* The n-copies experiment: n = 1..ncopies co-located copies of one
     * compute-bound model; total power, clock, idle time per kernel. */
    size_t ncopies;
    double copies_power_w[MDL_MAX_COPIES];
    double copies_clock_mhz[MDL_MAX_COPIES];
    double copies_idle_ms[MDL_MAX_COPIES];
    size_t nmodels;
    mdl_model_profile *models;
} mdl_profile;

/*
 * The head that the profile (project format) and the fitted-model file
 * share, parsed in one place (model/profile.c) so that both read it by the
 * same rules: the root's "version" (1) and its "gpu" object (*gpu, for the
 * caller's own members), with name, max_clock_mhz, power_cap_w, idle_power_w,
 * share_unit_pct and pcie_bytes_per_ms positive; price_per_hour >= 0
 * (required when price_required, else 0 when absent); sm_count and
 * colocated_pct (in [share_unit_pct, 100]) optional, 0 when absent.
 * Errors are `PATH: gpu.FIELD: expected X, got Y`.
 */
typedef struct mdl_gpu_block {
    char name[MDL_NAME_MAX];
    double max_clock_mhz, power_cap_w, idle_power_w;
    double share_unit_pct, pcie_bytes_per_ms, price_per_hour;
    int sm_count;
    double colocated_pct;
} mdl_gpu_block;

int mdl_gpu_block_parse(const cJSON *root, const char *path,
                        int price_required, mdl_gpu_block *out,
                        const cJSON **gpu, ut_err *err);

/* The head of either file, as mdl_gpu_block_parse reads it: the format,
 * "version": 1, the gpu object's name (escaped) and the three members
 * both files write first, then ",\n" and the indent of the gpu object's
 * next member. */
void mdl_file_head_write(ut_buf *b, const char *format, const char *gpu,
                         double max_clock_mhz, double power_cap_w,
                         double idle_power_w);
/* The gpu object's optional members both files write alike, each where
 * it is set, each followed by ",\n" and the indent: sm_count (> 0) and
 * colocated_pct (strictly between 0 and 100). */
void mdl_gpu_optional_write(ut_buf *b, int sm_count, double colocated_pct);
/* The start of one model's object in either file: its name (escaped),
 * kernels, input_bytes, output_bytes and idle_ms, each member followed by
 * ",\n" and the indent of the next. */
void mdl_model_head_write(ut_buf *b, const char *name, int kernels,
                          double input_bytes, double output_bytes,
                          double idle_ms);

/* Copies the GPU block's fields between any two of mdl_gpu_block,
 * mdl_profile and mdl_fitted (they name them alike; the name is `name` in
 * the block, `gpu` in the others, hence the two forms). */
#define MDL_COPY_GPU_FIELDS(dst, src)                                        \
    do {                                                                     \
        (dst)->max_clock_mhz = (src)->max_clock_mhz;                         \
        (dst)->power_cap_w = (src)->power_cap_w;                             \
        (dst)->idle_power_w = (src)->idle_power_w;                           \
        (dst)->share_unit_pct = (src)->share_unit_pct;                       \
        (dst)->pcie_bytes_per_ms = (src)->pcie_bytes_per_ms;                 \
        (dst)->price_per_hour = (src)->price_per_hour;                       \
        (dst)->sm_count = (src)->sm_count;                                   \
        (dst)->colocated_pct = (src)->colocated_pct;                         \
    } while (0)

/* Loads a profile in either format. On error *p is left empty (nothing to
 * free). The caller frees a loaded profile with mdl_profile_free. */
int mdl_profile_load(const char *path, mdl_profile *p, ut_err *err);
void mdl_profile_free(mdl_profile *p);

/* The project's JSON profile format; malloc'd NUL-terminated text. */
char *mdl_profile_to_json(const mdl_profile *p);

/* ---- fitted model -------------------------------------------------------- */

typedef struct mdl_model {
    char name[MDL_NAME_MAX];
    int kernels;
    double input_bytes, output_bytes;
    double idle_ms;        /* base idle time (solo) */
    /* t_act(b, r) = (k1 b^2 + k2 b + k3) / (r + k4) + k5, ms */
    double k_act[5];
    double power_coef[2];  /* P_i = p0 c + p1 (W), c in req/s */
    double l2_coef[2];     /* L_i = q0 c + q1 (%) */
    double k_l2;           /* relative slow-down per % of others' L2 use */
} mdl_model;

typedef struct mdl_fitted {
    char gpu[MDL_NAME_MAX];
    double max_clock_mhz, power_cap_w, idle_power_w;
    double pcie_bytes_per_ms, share_unit_pct;
    double clock_per_watt;  /* a: f = a (P - P_max) + f_max above the cap */
    double sched_alpha_ms;  /* extra scheduling delay per kernel: */
    double sched_beta_ms;   /*   alpha p + beta for p >= 2 workloads */
    double price_per_hour;
    int sm_count;
    double colocated_pct;   /* as in mdl_profile; 0: the whole GPU */
    size_t nmodels;
    mdl_model *models;
} mdl_fitted;

/* The share co-located workloads may have together on f's GPU, %. */
static inline double mdl_colocated_pct(const mdl_fitted *f)
{
    return f->colocated_pct > 0 ? f->colocated_pct : 100;
}

/*
 * Fits the iGniter model to a profile (IGNITER-MODEL.md, "Fitting"), with
 * GSL: linear least squares for the clock slope, scheduling delay, power and
 * L2; Levenberg-Marquardt for the active time, started at all ones like the
 * reference. Fails, naming the model, if a fit does not converge or a
 * profile value makes a coefficient undefined (for example a zero L2 use).
 */
int mdl_fit(const mdl_profile *p, mdl_fitted *f, ut_err *err);

/* Loads a fitted model: a fitted file as is, or any profile fitted now. */
int mdl_load(const char *path, mdl_fitted *f, ut_err *err);
void mdl_fitted_free(mdl_fitted *f);
char *mdl_fitted_to_json(const mdl_fitted *f);

/* Index of the model called name, or -1. */
int mdl_find(const mdl_fitted *f, const char *name);
/* "alexnet, resnet50, vgg19, ssd" into out, for "unknown model" messages. */
const char *mdl_names(const mdl_fitted *f, char *out, size_t n);
/* mdl_find, or -1 with the one message for an unknown model:
 * `WHERE: expected one of alexnet, resnet50, ..., got "bert"`. */
int mdl_find_or_err(const mdl_fitted *f, const char *name, const char *where,
                    ut_err *err);

/* ---- prediction ---------------------------------------------------------- */

typedef struct mdl_place {
    int model;          /* index into f->models */
    int batch;          /* >= 1 */
    double share_pct;   /* > 0 */
} mdl_place;

/* Solo active time of model m at (batch, share), ms: the fitted curve. */
double mdl_active_ms(const mdl_model *m, double batch, double share_pct);

/* Algorithm 1's step-3 bound: the share, in units of unit %, at which
 * model m alone runs batch b within s_ms (the fitted curve solved for the
 * share, in the authors' order of operations, so that a caller's ceil()
 * rounds as theirs does), before rounding. *delta: the time left for the
 * share-dependent part (s_ms less idle time, transfers and the constant
 * term); the bound is meaningless unless it is positive. */
double mdl_share_bound_units(const mdl_fitted *f, const mdl_model *m, int b,
                             double s_ms, double unit, double *delta);

/*
 * Predicts, for n workloads sharing one GPU, each one's inference latency
 * (ms: GPU time plus input and output transfer) and throughput (req/s).
 * lat_ms and tput_rps may be NULL. n <= MDL_MAX_COLOC. Pure function.
 */
#define MDL_MAX_COLOC 128
void mdl_predict(const mdl_fitted *f, const mdl_place *w, size_t n,
                 double *lat_ms, double *tput_rps);

/* Latency of a batch with the GPU time only (no transfers), same inputs. */
void mdl_predict_gpu(const mdl_fitted *f, const mdl_place *w, size_t n,
                     double *gpu_ms);

/* ---- measured co-location data (the ground truth) ------------------------ */

/* A measured pair: model a on share_a %, model b on share_b % (the file's
 * optional interference.share_b_pct, one per row; default 100 - share_a,
 * as on the V100, where the two shares fill the GPU). */
typedef struct mdl_pair {
    char a[MDL_NAME_MAX], b[MDL_NAME_MAX];
    int batch_a, batch_b;
    double share_a_pct, share_b_pct;
    double lat_a_ms, lat_b_ms;
    double std_a_ms, std_b_ms;   /* NAN where the file has none */
} mdl_pair;

/* ---- service-time distributions (servdist.c) ---------------------------- */

/*
 * A batch's service time as a multiple of its mean: a shape of mean 1 that
 * the simulator scales to an interpolated mean. Three kinds: none (always
 * 1: the mean alone), a lognormal of a given coefficient of variation (the
 * family fitted where only a mean and a standard deviation were recorded),
 * or measured quantiles at MDL_SD_LEVELS, sampled by inverting the
 * piecewise-linear CDF through them.
 */
#define MDL_SD_NQ 12
/* The quantile levels of a measured distribution, the capture's q_ms
 * (capture/record.c): the smallest sample, p1 ... p99.9, the largest. */
#define MDL_SD_LEVELS {0, 0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, \
                       0.99, 0.999, 1}
typedef enum mdl_sd_kind { MDL_SD_NONE, MDL_SD_LOGN, MDL_SD_QUANT } mdl_sd_kind;
typedef struct mdl_servdist {
    mdl_sd_kind kind;
    double sigma;               /* MDL_SD_LOGN: of log X (mu = -sigma^2/2) */
    double q[MDL_SD_NQ];        /* MDL_SD_QUANT: non-decreasing, mean 1 */
} mdl_servdist;

/* The shape of the quantiles q_ms[MDL_SD_NQ] (non-decreasing, a positive
 * mean): q_ms over the mean of its piecewise-linear quantile function. */
void mdl_sd_from_quantiles(const double *q_ms, mdl_servdist *d);
/* A lognormal of mean 1 and coefficient of variation cv (<= 0: none). */
void mdl_sd_lognormal(double cv, mdl_servdist *d);
/* The multiple of the mean at probability u in [0, 1) (a uniform draw
 * gives a sample); >= 0, and exactly 1 for MDL_SD_NONE. */
double mdl_sd_at(const mdl_servdist *d, double u);
/* E[X^2] of the shape (its mean is 1): exact for every kind. */
double mdl_sd_moment2(const mdl_servdist *d);

/* Solo latency table of one model: lat[batch][share index], NAN if absent. */
#define MDL_MEAS_SHARES 20  /* every green-context size of an H200: 16 */
typedef struct mdl_solo_table {
    char name[MDL_NAME_MAX];
    size_t nshares;
    double share_pct[MDL_MEAS_SHARES];        /* ascending */
    double lat_ms[MDL_MAX_BATCH + 1][MDL_MEAS_SHARES];
    double l2_pct[MDL_MAX_BATCH + 1][MDL_MEAS_SHARES];
    double dram_pct[MDL_MAX_BATCH + 1][MDL_MEAS_SHARES];
    /* the distribution of each point (servdist.c): the file's "std" (ms)
     * and "quantiles" (q[..][0] NAN where none); pair_cv, the median
     * std / latency of the model's pair rows (NAN: none), for a file with
     * no solo spread (the V100's) */
    double std_ms[MDL_MAX_BATCH + 1][MDL_MEAS_SHARES];
    double q_ms[MDL_MAX_BATCH + 1][MDL_MEAS_SHARES][MDL_SD_NQ];
    double pair_cv;
} mdl_solo_table;

/* Slow-downs of model a beside model b on the measured pair grid, built by
 * mdl_measured_load: s[i][j][k] at batch_a = ba[i], batch_b = bb[j],
 * share_a = r[k] (NAN where not measured). */
#define MDL_GRID_MAX 8
typedef struct mdl_pair_grid {
    int a, b;                                 /* solo table indices */
    size_t nba, nbb, nr;
    double ba[MDL_GRID_MAX], bb[MDL_GRID_MAX], r[MDL_GRID_MAX];
    double s[MDL_GRID_MAX][MDL_GRID_MAX][MDL_GRID_MAX];
} mdl_pair_grid;

/*
 * A learned interference predictor (model/interfere.c), fitted on measured
 * co-location data by mdl_interf_fit. MDL_INTERF_LEARNED: ridge regression
 * of log(latency / solo latency) on features of the workload and sums over
 * its co-runners (share, L2 and DRAM utilisation from the solo tables,
 * batch, the co-runners' number and models; docs/predictor.md), so a run
 * of any size goes through the same coefficients. MDL_INTERF_LINEAR:
 * gpu-lets' model, ordinary least squares of the slow-down on
 * [1, own L2 %, own DRAM %, co-runners' L2 %, co-runners' DRAM %], at
 * least 1. Its per-model terms index the solo tables of the data it was
 * fitted on, so it predicts with that same mdl_measured.
 */
enum { MDL_INTERF_LEARNED = 0, MDL_INTERF_LINEAR = 1 };
#define MDL_INTERF_MAX_COEF 64
typedef struct mdl_interf {
    int kind;
    size_t nmodels;     /* solo tables it was fitted with */
    size_t ncoef;
    double coef[MDL_INTERF_MAX_COEF];
    size_t nrows;       /* co-located latencies fitted on */
} mdl_interf;

typedef struct mdl_measured {
    size_t nsolo;
    mdl_solo_table *solo;
    size_t npairs;
    mdl_pair *pairs;
    size_t ngrids;
    mdl_pair_grid *grids;
    /* the learned predictor, fitted on these pairs at load; has_interf 0
     * when it could not be (no utilisation, too few pairs): composition
     * then falls back to mdl_measured_interpolated */
    int has_interf;
    mdl_interf interf;
    /* the MPS correction (mps.c) the simulator's measured back ends apply
     * over mdl_measured_colocated (sim/be_model.c), or NULL (green
     * contexts, the data as measured): borrowed, attached by the caller
     * after loading (mdl_measured_load and _subset leave it NULL) */
    const struct mdl_mps *mps;
    /* the power cap (power.c) the same back ends apply after it, or NULL
     * (the clock of each measurement as it was): borrowed, attached like
     * mps */
    const struct mdl_power *power;
} mdl_measured;

/* Loads the measured file (v100-measured-colocation.jsonl shape). */
int mdl_measured_load(const char *path, mdl_measured *m, ut_err *err);
void mdl_measured_free(mdl_measured *m);

/* A copy of m with only the pairs i where keep[i] is set (grids and the
 * learned predictor made from those): a training split. */
int mdl_measured_subset(const mdl_measured *m, const unsigned char *keep,
                        mdl_measured *out, ut_err *err);

/* Index of the solo table of the model called name, or -1. */
int mdl_measured_find(const mdl_measured *m, const char *name);
/* "alexnet, resnet50, ...": the models with solo tables, for messages. */
const char *mdl_measured_names(const mdl_measured *m, char *out, size_t n);

/* Helpers of the measured tables' interpolation (solo.c, mps.c). The line
 * through (x0, y0), (x1, y1) at x (extrapolates; y0 if x0 == x1). */
double mdl_lerp(double x0, double y0, double x1, double y1, double x);
/* Of the points (x[k], v[k]), k < n, x ascending, v NAN where absent: the
 * last present at or below `at` (*lo) and the first at or above (*hi),
 * (size_t)-1 where there is none. */
void mdl_bracket(const double *x, const double *v, size_t n, double at,
                 size_t *lo, size_t *hi);
/* The measured batch rows nearest to batch: the last at or below it (*b0,
 * its value *y0) and the first at or above (*b1, *y1), 0 and NAN where
 * none; row(b, ud) is row b's value, NAN where b was not measured. */
void mdl_rows_around(double batch, double (*row)(int b, const void *ud),
                     const void *ud, int *b0, double *y0, int *b1,
                     double *y1);

/*
 * Latency (ms) of one batch of model `model` (an index into m->solo) alone
 * at (batch, share_pct), interpolated from the solo table: linear in
 * 1/share between the two nearest measured shares of that batch (latency is
 * close to a + c/share), linear in batch between measured batches; outside
 * the measured range, extrapolated from the two nearest points in the same
 * coordinates, and never below the smallest latency measured for that
 * model. Exact at every measured point.
 */
double mdl_measured_solo_ms(const mdl_measured *m, int model, double batch,
                            double share_pct);

/*
 * Slow-down of model a at (batch_a, share_a_pct) beside model b at batch_b:
 * measured pair latency / measured solo latency, interpolated trilinearly in
 * (log2 batch_a, log2 batch_b, share_a) over the measured pair grid and
 * clamped to its edges (the measured pairs give b the rest of the GPU,
 * 100 - share_a). A model pair that was never measured together (the V100
 * data has no pair of a model with itself) uses the mean slow-down of a
 * beside every partner it was measured with, at the same point. 1.0 if a
 * has no measured pair at all.
 */
double mdl_measured_slowdown(const mdl_measured *m, int a, int b,
                             double batch_a, double batch_b,
                             double share_a_pct);

/*
 * Latencies (ms) of n workloads running at once on one GPU, from the
 * measured data, the `measured` back end's notion of reality: two workloads
 * whose models were measured together are interpolated on their pair grid
 * (mdl_measured_interpolated; exact at every measured pair point); pairs
 * never measured together and runs of three or more are predicted by the
 * learned predictor m->interf. Without one (has_interf 0), everything goes
 * through mdl_measured_interpolated. w[i].model indexes m->solo.
 */
void mdl_measured_colocated(const mdl_measured *m, const mdl_place *w,
                            size_t n, double *lat_ms);

/*
 * The measured back end's composition before the learned predictor, kept
 * as a baseline (`igniter accuracy`'s measured-interp): each one's solo
 * latency times 1 + the sum over the others
 * of (slow-down - 1) x weight, where weight = share_j / (100 - share_i)
 * (at most 1) scales a partner's effect by its share against the rest of
 * the GPU it had in the measurement. Two workloads whose shares add up to
 * 100 at a measured pair point get exactly the measured pair latencies;
 * three or more compose the pair effects additively (as the iGniter
 * model's L2 term does). w[i].model indexes m->solo.
 */
void mdl_measured_interpolated(const mdl_measured *m, const mdl_place *w,
                               size_t n, double *lat_ms);

/*
 * The service-time shape of model `model` (an index into m->solo) at
 * (batch, share_pct): that of the nearest measured point (distance in
 * log batch plus log share), where the file gives it as quantiles; else a
 * lognormal with that point's std / latency; else a lognormal with the
 * model's pair_cv; else none. Pure function.
 */
void mdl_measured_servdist(const mdl_measured *m, int model, double batch,
                           double share_pct, mdl_servdist *d);

/* ---- the MPS correction of measured data (mps.c) ------------------------ */

/*
 * The measured data is captured with green contexts (SM partitions); under
 * MPS (a thread percentage per client process) the same batches run
 * otherwise. The MPS campaign (igniter-capture mps) measures too coarse a
 * grid for tables of its own (alone at a few percentages, or on the H200
 * at every green-context size's; pairs only at batch 8, at a few splits),
 * so MPS is a correction over the green data (docs/simulator.md, "MPS"):
 *   solo ratio  MPS latency / green latency (mdl_measured_solo_ms) at the
 *               same batch and share = percentage, per model, a table over
 *               (batch, percentage): linear in 1/share between measured
 *               percentages and linear in batch between measured batches,
 *               as the solo table, but clamped to the table's edges (a
 *               ratio has no trend worth extrapolating);
 *   pair ratio  the MPS pair slow-down (pair latency / interpolated MPS
 *               solo latency) over the green one (mdl_measured_colocated
 *               of the same two / green solo) at the same point, per
 *               ordered model pair, over the first one's percentage
 *               (linear, clamped); a pair never measured under MPS takes
 *               the model's mean over its measured partners, else 1.
 *   runs term   pairs compose short under MPS: in runs of three and four
 *               the slow-down is larger, the more so the smaller the batch
 *               (measured on the H200, 12 random runs: 2.3 and 4.9 % short
 *               on average, up to 16 % at batch 2). Where the MPS points
 *               hold runs of three or more whose members carry their own
 *               window alone (alone_ms), k is fitted by least squares on
 *               their slow-downs: measured (mean_ms / alone_ms) over
 *               predicted (without the term) = 1 + k f, f = (n - 2)
 *               log2(32 / batch) / 5; 0 without such runs.
 * Applied (mdl_mps_apply): latency_i = green co-located latency_i x solo
 * ratio_i x product over partners j of pair ratio_ij ^ w_ij, w_ij =
 * min(1, share_j / (100 - share_i)) as in the green composition, x (1 + k
 * f_i) in runs of three or more. At a measured point (shares adding up to
 * 100) it gives the measured MPS latency.
 */
#define MDL_MPS_PCTS 24           /* distinct percentages per model */
/* What an MPS / green ratio may be: beyond, the data is broken (a batch
 * a thousand times faster or slower than its green-context twin), and
 * interpolating between such ratios overflows. */
#define MDL_MPS_RATIO_MIN 1e-3
#define MDL_MPS_RATIO_MAX 1e3
#define MDL_MPS_VERSION 1         /* of measured-mps.jsonl */

/* A raw MPS point, as `igniter derive` read it: a model alone (solo) or
 * one member of a co-located run; file and line for messages. */
typedef struct mdl_mps_point {
    char model[MDL_NAME_MAX];
    int batch;
    double pct;                   /* active thread percentage */
    double mean_ms;
    const char *file;             /* borrowed */
    int line;
    int member;                   /* a run's member (0, 1, ...); -1: solo */
    int run_n;                    /* members of its run (1: solo) */
    double alone_ms;              /* a run member's window alone (NAN: none) */
} mdl_mps_point;

/* A curve over percentage: n points, pct ascending. */
typedef struct mdl_mps_curve {
    size_t n;
    double pct[MDL_MPS_PCTS], v[MDL_MPS_PCTS];
} mdl_mps_curve;

typedef struct mdl_mps_model {
    int has;                      /* 0: no MPS data for this model */
    size_t npct;
    double pct[MDL_MPS_PCTS];     /* ascending */
    double solo[MDL_MAX_BATCH + 1][MDL_MPS_PCTS];   /* NAN: not measured */
    mdl_mps_curve pair_mean;      /* n 0: no pair */
} mdl_mps_model;

typedef struct mdl_mps_pair {
    int a, b;                     /* solo table indices of the measured data */
    mdl_mps_curve c;              /* over a's percentage */
} mdl_mps_pair;

typedef struct mdl_mps {
    size_t nmodels;               /* = the measured data's nsolo */
    mdl_mps_model *models;        /* by solo table index */
    size_t npairs;
    mdl_mps_pair *pairs;
    size_t nsolo_points, npair_points;   /* what it was derived from */
    size_t nrun_points;           /* members of runs of three or more */
    double runs_k;                /* the runs term's k (0: none) */
} mdl_mps;

/*
 * The text of measured-mps.jsonl from the raw MPS points pts[0..n) (solo
 * points and runs' members, a run's members next to each other in order,
 * runs of three or more with alone_ms) over the green data m, which the
 * ratios are relative to; `baseline` names m's file in the output. A later point of
 * the same (model, batch, percentage) replaces an earlier one. Errors name
 * the point's file and line: an unknown model, a batch over MDL_MAX_BATCH,
 * a percentage outside (0, 100], more than MDL_MPS_PCTS percentages, a
 * pair's model without MPS solo points. *text is the caller's (free).
 */
int mdl_mps_derive(const mdl_measured *m, const mdl_mps_point *pts, size_t n,
                   const char *baseline, char **text, ut_err *err);
/* Loads measured-mps.jsonl against the green data m it corrects (model
 * names resolved to m's solo tables: a model m does not have is an error
 * naming the file). */
int mdl_mps_load(const char *path, const mdl_measured *m, mdl_mps *out,
                 ut_err *err);
void mdl_mps_free(mdl_mps *x);
/* The solo ratio of model (solo index) at (batch, share), or 1 where the
 * model has no MPS data. */
double mdl_mps_solo_ratio(const mdl_mps *x, int model, double batch,
                          double share_pct);
/* The pair ratio of a beside b at a's share (1: no pair data for a). */
double mdl_mps_pair_ratio(const mdl_mps *x, int a, int b, double share_a_pct);
/* The runs term's f for a member at batch in a run of n: (n - 2)
 * log2(32 / batch) / 5, batch clamped to 1..32; 0 for n < 3. */
double mdl_mps_runs_feature(size_t n, double batch);
/* Scales the green co-located latencies lat_ms[0..n) of w to MPS. */
void mdl_mps_apply(const mdl_mps *x, const mdl_place *w, size_t n,
                   double *lat_ms);

/* ---- the power cap (power.c) ------------------------------------------- */

/*
 * What instances side by side draw, and the SM clock the board then runs
 * at; derived by `igniter derive` from a capture's "power" records
 * (measured-power.json) and applied by the simulator's measured back ends
 * (`--power FILE`) over the co-located latencies.
 *
 * A model at a batch on a share, running back to back, draws dyn_w above
 * the board's idle power (its "solo" records: power - idle). Instances side
 * by side add their dyn_w: the demand. Where idle + demand passes hold_w,
 * the power the board holds under its cap, the clock falls to the ratio
 * r = ((hold_w - idle_w) / demand)^(1 / alpha) of its maximum: dynamic
 * power goes as the clock to the power alpha (voltage falls with it). A
 * batch then takes 1 / r as long (its kernels are bound by the clock;
 * memory-bound kernels would slow less). hold_w and alpha are fitted by
 * least squares on the measured clocks of the runs of several ("set"
 * records); a solo point measured below the maximum clock has its dyn_w
 * raised to the maximum's.
 *
 * Over the latencies of a set of co-running batches (each measured alone
 * or in a pair, at its own clock): each is multiplied by r_alone / r_set,
 * r_alone the ratio of its batch alone, so that a batch alone is as
 * measured and only the set's extra demand slows it.
 */
#define MDL_POWER_VERSION 1       /* of measured-power.json */
#define MDL_POWER_SHARES 16
#define MDL_POWER_BATCHES 12
#define MDL_POWER_MAX_MEMBERS 8

typedef struct mdl_power_model {
    char name[MDL_NAME_MAX];
    int has;                      /* 0: no power data for this model */
    size_t nshares, nbatches;
    double share_pct[MDL_POWER_SHARES];      /* ascending */
    double batch[MDL_POWER_BATCHES];         /* ascending */
    double dyn_w[MDL_POWER_BATCHES][MDL_POWER_SHARES];
} mdl_power_model;

typedef struct mdl_power {
    double idle_w, cap_w, hold_w, alpha, max_clock_mhz;
    size_t nmodels;               /* loaded: = the measured data's nsolo */
    mdl_power_model *models;      /* loaded: by solo table index */
} mdl_power;

/* A raw "power" record as `igniter derive` read it (file and line for
 * messages): n members (0: the board idle). */
typedef struct mdl_power_point {
    int n;
    char model[MDL_POWER_MAX_MEMBERS][MDL_NAME_MAX];
    int batch[MDL_POWER_MAX_MEMBERS];
    double share_pct[MDL_POWER_MAX_MEMBERS];
    double power_w, clock_mhz;
    const char *file;             /* borrowed */
    int line;
} mdl_power_point;

/* How well the fitted power model explains the runs of several. */
typedef struct mdl_power_fit {
    size_t sets, throttled;       /* sets; those below the maximum clock */
    double clock_err_mean_pct, clock_err_max_pct;    /* |r - measured| */
    double sum_err_mean_pct, sum_err_abs_pct;        /* idle + demand vs
                                   measured power, sets at the maximum */
} mdl_power_fit;

/*
 * The text of measured-power.json from the points pts[0..n): the idle
 * board (the last idle point), each model's solo points on a grid of
 * shares x batches (every model must have every pair of its own shares and
 * batches: a missing one is an error naming it), the sets for the fit.
 * cap_w and max_clock_mhz are the board's (the capture's meta); source
 * names the raw file. *fit (may be NULL) says how well it fits. *text is
 * the caller's (free). Errors name the point's file and line.
 */
int mdl_power_derive(const mdl_power_point *pts, size_t n, double cap_w,
                     double max_clock_mhz, const char *source, char **text,
                     mdl_power_fit *fit, ut_err *err);
/* Loads measured-power.json against the measured data m (model names
 * resolved to m's solo tables; a model m lacks is skipped). Errors name
 * the file and the field. */
int mdl_power_load(const char *path, const mdl_measured *m, mdl_power *out,
                   ut_err *err);
void mdl_power_free(mdl_power *p);
/* W above idle of a model (its index in p->models) at (batch, share):
 * linear in share between measured shares (in proportion to the share
 * below the first, extrapolated from the last two above the last), linear
 * in log2 batch between measured batches, clamped to the first and last
 * batch. 0 for a model without data. */
double mdl_power_dyn_w(const mdl_power *p, int model, double batch,
                       double share_pct);
/* The clock over its maximum at a demand (W above idle): 1 up to hold_w,
 * then ((hold_w - idle_w) / demand)^(1 / alpha), never below
 * MDL_POWER_MIN_CLOCK (no board throttles further; a batch is then at
 * most ten times as long, and its time stays a finite number of ns). */
#define MDL_POWER_MIN_CLOCK 0.1
double mdl_power_clock(const mdl_power *p, double demand_w);
/* Scales the co-located latencies lat_ms[0..n) of w by r_alone / r_set. */
void mdl_power_apply(const mdl_power *p, const mdl_place *w, size_t n,
                     double *lat_ms);

/* Absolute percentage errors of the model on the measured pairs. */
typedef struct mdl_error_stats {
    size_t n;                 /* latencies compared (2 per pair) */
    double mean_pct, median_pct, p90_pct, max_pct;
} mdl_error_stats;

/* Mean, median, P90 and max of n absolute percentage errors (sorts ape;
 * n 0: all NAN). */
void mdl_error_stats_of(double *ape, size_t n, mdl_error_stats *out);

/*
 * Predicts every pair of m with f and compares with the measured latencies.
 * Pairs whose models f lacks are an error naming the model. When
 * no_interference is set the prediction ignores co-location (each workload
 * predicted alone at its share): the baseline the model must beat.
 */
int mdl_pair_error(const mdl_fitted *f, const mdl_measured *m,
                   int no_interference, mdl_error_stats *out, ut_err *err);

/*
 * The same for measured runs of several workloads at once, one JSON object
 * a line (`igniter derive`'s colocations-multi.jsonl): {"colocate":
 * [{"model", "batch", "resource_pct", "latency_ms"}, ...], ...}. Only the
 * runs of exactly `workloads` members count (0: every run); *out->n is the
 * latencies compared (0 if none). Errors name the file, line and field.
 */
int mdl_multi_error(const mdl_fitted *f, const char *path, size_t workloads,
                    int no_interference, mdl_error_stats *out, ut_err *err);

/* ---- learned interference predictors and how every predictor is judged -- */

/* Utilisation (%) of L2 (which 0) or DRAM (which 1) of model `model` alone
 * at (batch, share_pct), from its solo table: linear in share between the
 * measured shares of a batch row and in log2 batch between rows, clamped
 * to the measured range. NAN if the table has none. */
double mdl_measured_util_pct(const mdl_measured *m, int model, int which,
                             double batch, double share_pct);

/* Measured runs of co-located workloads: pairs of a measured file or the
 * runs of a colocations-multi.jsonl, members of run k at
 * mem[start[k] .. start[k+1]), line[k] its line (pairs: its index). */
typedef struct mdl_run_member {
    char model[MDL_NAME_MAX];
    int batch;
    double share_pct, lat_ms;
} mdl_run_member;

typedef struct mdl_runs {
    char path[UT_PATH_MAX];
    size_t nruns, nmem;
    size_t *start;      /* nruns + 1 */
    int *line;
    mdl_run_member *mem;
} mdl_runs;

/* The runs of a multi file, one JSON object a line ({"colocate": [{"model",
 * "batch", "resource_pct", "latency_ms"}, ...]}); errors name the file,
 * line and field; on error *r is empty. */
int mdl_runs_load(const char *path, mdl_runs *r, ut_err *err);
/* The runs of all with exactly n members into *of_n, the others into
 * *rest, each in file order (the path stays all's). */
void mdl_runs_split(const mdl_runs *all, size_t n, mdl_runs *of_n,
                    mdl_runs *rest);
/* The pairs of m as runs of two (path names them in messages). */
void mdl_runs_from_pairs(const mdl_measured *m, const char *path,
                         mdl_runs *r);
/*
 * Holds a share out: the pairs of m whose first workload ran at share_pct
 * or at 100 - share_pct become runs named path (*held), the rest measured
 * data of their own (*train, its predictor refitted, as by
 * mdl_measured_subset). 0 when both are filled; 1, nothing filled, when
 * no pair or every pair is at that share; -1 with a message when the rest
 * cannot be refitted (nothing filled).
 */
int mdl_measured_hold_out(const mdl_measured *m, double share_pct,
                          const char *path, mdl_measured *train,
                          mdl_runs *held, ut_err *err);
void mdl_runs_free(mdl_runs *r);

/*
 * Fits a predictor of kind MDL_INTERF_LEARNED or MDL_INTERF_LINEAR on both
 * latencies of every pair of m and, when extra is not NULL, every member
 * of its runs (their models must have solo tables in m). Deterministic.
 * -1 with a message if too few latencies have utilisations or the fit
 * fails.
 */
int mdl_interf_fit(const mdl_measured *m, const mdl_runs *extra, int kind,
                   mdl_interf *p, ut_err *err);
/* Latencies (ms) of n workloads at once: measured solo latency x the
 * predicted slow-down. m is the data p was fitted on. */
void mdl_interf_predict(const mdl_interf *p, const mdl_measured *m,
                        const mdl_place *w, size_t n, double *lat_ms);

/* Any latency predictor, for judging them alike: find maps a model name
 * to the index its latency function takes (-1: unknown). */
typedef struct mdl_predictor {
    const char *name;
    int (*find)(const void *ctx, const char *model);
    void (*latency)(const void *ctx, const mdl_place *w, size_t n,
                    double *lat_ms);
    const void *ctx;
} mdl_predictor;

/* What the predictors below read; the caller owns it and keeps it alive
 * while the predictor is used. */
typedef struct mdl_predictor_ctx {
    const mdl_fitted *fit;          /* igniter, no-interference */
    const mdl_measured *meas;       /* the others: the training data */
    const mdl_interf *gpulets;      /* gpulets-linear */
    const mdl_interf *learned;      /* learned */
} mdl_predictor_ctx;

typedef enum mdl_predictor_kind {
    MDL_PRED_IGNITER,   /* "igniter": mdl_predict */
    MDL_PRED_ALONE,     /* "no-interference": each alone, mdl_predict */
    MDL_PRED_INTERP,    /* "measured-interp": mdl_measured_interpolated */
    MDL_PRED_MEASURED,  /* "measured": mdl_measured_colocated */
    MDL_PRED_GPULETS,   /* "gpulets-linear": mdl_interf_predict */
    MDL_PRED_LEARNED,   /* "learned": mdl_interf_predict */
    MDL_PRED_COUNT
} mdl_predictor_kind;

mdl_predictor mdl_predictor_make(mdl_predictor_kind kind,
                                 const mdl_predictor_ctx *ctx);

/*
 * Absolute percentage errors of p's latencies against the runs of r with
 * exactly `workloads` members (0: every run); out->n is 0 if none. -1 if a
 * run names a model p does not know (naming file, line and model).
 */
int mdl_runs_error(const mdl_runs *r, size_t workloads,
                   const mdl_predictor *p, mdl_error_stats *out, ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
