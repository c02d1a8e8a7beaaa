/*
 * capture.h - the capture component: DNN layer graphs (CPU: parsing, shape
 * inference, parameter and FLOP counts) and, built only with CUDA
 * (`make capture`), the inference runner and the measurements of
 * `igniter-capture`.
 *
 * A model is a JSON layer graph (capture/models/NAME.json, written by
 * scripts/gen-models.py): an input shape and a list of layers, each with
 * an op, its parameters and its inputs (by default the layer before). The
 * same graph drives the runner and the checks of tests/test_capture.c.
 */
#ifndef CAP_CAPTURE_H
#define CAP_CAPTURE_H

#include <stddef.h>
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAP_NAME_MAX 48
#define CAP_MAX_OUTPUTS 16

typedef enum cap_op {
    CAP_CONV,       /* out, kernel, stride, pad, dilation, groups, bias */
    CAP_BN,         /* batch norm (inference: scale and shift per channel) */
    CAP_RELU,
    CAP_MAXPOOL,    /* kernel, stride, pad, ceil */
    CAP_AVGPOOL,    /* adaptive average pool to out x out */
    CAP_FC,         /* out; flattens its input; token: one token's vector */
    CAP_ADD,        /* two inputs of equal shape */
    CAP_L2NORM,     /* per-position L2 normalisation, a scale per channel */
    CAP_TOKENS,     /* C x H x W feature map -> (H W + cls) tokens of C,
                       plus a learned position embedding */
    CAP_ENCODER,    /* pre-norm transformer block: heads, mlp */
    CAP_LAYERNORM,
    CAP_NOPS
} cap_op;

/* Shapes are per request (the batch is the runner's): a feature map is
 * c x h x w; a token sequence is h tokens of c features (w = 1). */
typedef struct cap_layer {
    char name[CAP_NAME_MAX];
    cap_op op;
    int nin, in[2];          /* indices of earlier layers; -1: the input */
    int out, kernel, stride, pad, dilation, groups, bias, ceil, heads, mlp;
    int cls, token;          /* tokens: add a class token; fc: use token */
    int c, h, w;             /* output shape */
    long params;
    double flops;            /* multiply-adds x 2, per request */
} cap_layer;

typedef struct cap_graph {
    char name[CAP_NAME_MAX];
    int in_c, in_h, in_w;
    size_t n;
    cap_layer *l;
    size_t nout;
    int out[CAP_MAX_OUTPUTS];   /* output layers (default: the last) */
    long params;
    double flops;
} cap_graph;

/* Loads and checks a graph, inferring every shape; errors name the file,
 * the layer and the field: `alexnet.json: layers[3] (conv2).kernel:
 * expected a positive integer, got 0`, or a shape that does not fit. */
int cap_graph_load(const char *path, cap_graph *g, ut_err *err);
void cap_graph_free(cap_graph *g);
/* Index of the layer called name, or -1. */
int cap_graph_find(const cap_graph *g, const char *name);
const char *cap_op_name(cap_op op);
/* Elements of a layer's output per request. */
long cap_layer_size(const cap_layer *l);

/* ---- the inference runner (CUDA: capture/runner.cu, `make capture`) ---- */

/*
 * Runs a graph's inference on the GPU in FP16 (NHWC activations, FP32
 * accumulation, tensor cores): cuDNN convolutions (algorithm found by
 * cudnnFindConvolutionForwardAlgorithmEx once per layer and batch, cached
 * for the process), cuBLAS GEMMs for fully connected layers and attention,
 * small kernels of our own for the rest. Batch norm is folded into the
 * convolution before it and ReLU into the kernel before it, as inference
 * engines do. Weights and inputs are random with a fixed seed. One
 * inference is: input host->device (pinned), every layer, outputs
 * device->host; each batch size is captured once as a CUDA graph and
 * replayed.
 *
 * A runner belongs to the CUDA context current when it is made (a green
 * context's, for an SM partition) and owns its stream; use it from one
 * thread at a time, with that context current. (Its code: runner.cu and
 * the files its private header, capture/runner_int.cuh, lists.)
 */
/* The largest batch a runner takes (its per-batch tables are sized for
 * it): serve refuses a plan or runtime change above it. */
#define CAP_MAX_BATCH 128

typedef struct cap_runner cap_runner;

typedef struct cap_runner_opts {
    int max_batch;                /* buffers are sized for it
                                     (1..CAP_MAX_BATCH) */
    unsigned long long seed;      /* weights and inputs */
    int graphs;                   /* 1: replay CUDA graphs; 0: launch */
    size_t workspace_bytes;       /* cuDNN workspace; 0: 256 MiB */
    int attn_ref;                 /* 0 the fast path (encoders' attention
                                     GEMMs on the qkv layout, warp
                                     softmax; encoders' and fully
                                     connected layers' GEMMs in cuBLASLt
                                     with bias, activation and residual
                                     fused), 1 the unfused reference
                                     (heads copied out and back, block
                                     softmax, separate bias/activation
                                     kernels), -1 1 if the environment has
                                     IGNITER_ATTN_REF set and not "0"
                                     (read once, by cap_runner_new) */
    int coarse_search;            /* 1: cuDNN's search of a convolution's
                                     algorithm only at batches that are
                                     powers of two and at max_batch; a
                                     batch between, with no cached
                                     choice, takes the choice of the
                                     power of two below it (prepared
                                     first) where cuDNN accepts it there,
                                     unsaved. 0 (default): every batch */
} cap_runner_opts;

/* Defaults: max_batch 32, seed 1, graphs 1, workspace 256 MiB, attn_ref
 * -1. */
void cap_runner_defaults(cap_runner_opts *o);
int cap_runner_new(const cap_graph *g, const cap_runner_opts *o,
                   cap_runner **out, ut_err *err);
/* Finds algorithms and captures the graph of one batch size now, so that
 * the first timed inference does not pay for it. */
int cap_runner_prepare(cap_runner *r, int batch, ut_err *err);
/* Enqueues one inference of `batch` requests on the runner's stream. */
int cap_runner_enqueue(cap_runner *r, int batch, ut_err *err);
/* Waits for what was enqueued; *gpu_ms (may be NULL): the time between
 * the last enqueue's first and last operation on the GPU (CUDA events). */
int cap_runner_wait(cap_runner *r, double *gpu_ms, ut_err *err);
/* The process-wide cache of cuDNN's algorithm choices (keyed by model,
 * layer, batch and SM count), kept in a file between processes: load adds
 * the file's entries (a missing file or another cuDNN version's: none),
 * returning how many; save writes every entry, atomically. */
int cap_algo_cache_load(const char *path, ut_err *err);
int cap_algo_cache_save(const char *path, ut_err *err);
/* Without waiting: 1 when what was enqueued has completed, 0 not yet, -1
 * on an error (with the runner's context current). */
int cap_runner_poll(cap_runner *r, ut_err *err);
void cap_runner_free(cap_runner *r);
/* Bytes copied in and out per request (FP16). */
size_t cap_runner_input_bytes(const cap_runner *r);
size_t cap_runner_output_bytes(const cap_runner *r);
/* The pinned host buffers the inputs are copied from and the outputs to:
 * max_batch requests of input_bytes / output_bytes each, FP16, request
 * after request (the outputs of a graph with several, one after another,
 * per batch). Inputs start as a fixed pattern; the outputs are valid after
 * cap_runner_wait. */
void *cap_runner_input_host(cap_runner *r);
const void *cap_runner_output_host(const cap_runner *r);
/* The runner's cudaStream_t, as a pointer. */
void *cap_runner_stream(const cap_runner *r);
/* "fp16" */
const char *cap_runner_precision(void);
/* cuDNN, cuBLAS, CUDA runtime and driver versions as one JSON object's
 * members ("cudnn":91900,...), for provenance lines. */
void cap_runner_versions(char *out, size_t n);

/* ---- the GPU, its SM partitions, NVML and CUPTI (capture/gpu.cu) ------- */

typedef struct cap_gpu_info {
    char name[96];
    int sm_count;
    int min_partition_sms;        /* green contexts: smallest partition */
    int partition_align_sms;      /*   and its step */
    int partition_sms;            /* SMs the partitions can use together:
                                     whole groups of 8 (H100: 120 of 132) */
    double max_clock_mhz;         /* NVML max SM clock (0 without NVML) */
    double power_cap_w;           /* NVML enforced limit (0 without) */
    size_t mem_bytes, l2_bytes;
    char driver[32];
} cap_gpu_info;

/* Initialises the CUDA driver on device 0 and reads what is known of it. */
int cap_gpu_init(cap_gpu_info *info, ut_err *err);

/* Green contexts' SMs come in groups of CAP_SM_GROUP; at most
 * CAP_MAX_GROUPS groups are used (a 64-bit mask holds a set of them). */
#define CAP_SM_GROUP 8
#define CAP_MAX_GROUPS 64

/* SM partitions as green contexts, made of the device's SMs in groups of
 * 8 (one split; the H100's 132 SMs give 15 groups, 120 SMs: a group lies
 * within one GPC, and the SMs left over are never used by a partition). sms[i] > 0: that many SMs, rounded
 * up to whole groups (cap_partition_sms says how many); sms[i] == 0: every
 * group the others left (at most one, the last); sms[i] < 0: the whole
 * GPU, all its SMs (the primary context). The total must fit. */
typedef struct cap_partition cap_partition;
int cap_partitions_new(const int *sms, size_t n, cap_partition ***out,
                       ut_err *err);
/* One partition of the groups idx[0..k) of that same split: any k of
 * them, adjacent or not, each once (group i is the i-th of the split;
 * cap_partitions_new hands them out in order). Its SMs
 * (cap_partition_sms) are those of the groups. Free it with
 * cap_partition_free. */
int cap_partition_from_groups(const int *idx, size_t k, cap_partition **out,
                              ut_err *err);
/* Makes partition p current on the calling thread. */
int cap_partition_use(cap_partition *p, ut_err *err);
int cap_partition_sms(const cap_partition *p);
void cap_partitions_free(cap_partition **p, size_t n);
/* One partition (NULL: a no-op); the primary context is current after. */
void cap_partition_free(cap_partition *p);

/* Monotonic seconds. */
double cap_now(void);

/* NVML, loaded with dlopen, sampled by a thread of its own. */
typedef struct cap_nvml cap_nvml;
int cap_nvml_open(cap_nvml **out, ut_err *err);
/* Samples power and SM clock every 1/hz s until cap_nvml_close. */
int cap_nvml_start(cap_nvml *nv, double hz, ut_err *err);
/* Mean power (W) and SM clock (MHz) of the samples in [t0, t1] (cap_now
 * seconds); *n samples (0: NAN both). */
void cap_nvml_window(cap_nvml *nv, double t0, double t1, double *power_w,
                     double *clock_mhz, int *n);
/* What the samples in [t0, t1] say: how many; the mean of NVML's power
 * readings (each a board average over up to a second, so they lag a
 * change); the mean power from the energy counter between the first and
 * last sample (NAN without it or with fewer than 2 samples), which does
 * not lag; the mean and lowest SM clock; the OR of the reasons NVML gave
 * for a clock below its maximum (nvmlClocksEventReasons: 0x4 the power
 * cap, 0x8 and 0x80 hardware slow-downs, 0x20 and 0x40 thermal). NAN
 * fields where there is no sample. */
typedef struct cap_nvml_stats {
    int n;
    double power_w, energy_w, clock_mhz, clock_min_mhz;
    unsigned long long reasons;
} cap_nvml_stats;
void cap_nvml_stats_window(cap_nvml *nv, double t0, double t1,
                           cap_nvml_stats *st);
/* One reading (cap_now seconds; the clock-event reasons as above). */
typedef struct cap_nvml_sample {
    double t, power_w, clock_mhz;
    unsigned long long reasons;
} cap_nvml_sample;
/* The readings in [t0, t1], oldest first, at most max into out; how many. */
size_t cap_nvml_samples(cap_nvml *nv, double t0, double t1,
                        cap_nvml_sample *out, size_t max);
int cap_nvml_read(cap_nvml *nv, double *power_w, double *clock_mhz,
                  ut_err *err);
void cap_nvml_limits(cap_nvml *nv, double *power_cap_w,
                     double *max_clock_mhz, char *driver, size_t n);
void cap_nvml_close(cap_nvml *nv);

/* A kernel's execution, from CUPTI activity records (ms on one clock). */
typedef struct cap_kernel_rec {
    double start_ms, end_ms;
    unsigned stream;              /* CUPTI's stream id */
    char name[64];
} cap_kernel_rec;

/* Starts collecting kernel records (CUPTI activity API,
 * CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL). CUPTI_ACTIVITY_KIND_KERNEL looks
 * cheaper (3 % against 14-21 % at batch 1 on the H100) but gives a CUDA
 * graph's kernels no times of their own: the first carries the graph's
 * whole span, the others none. */
int cap_cupti_start(ut_err *err);
/* Stops, flushes and hands over the records, sorted by start (malloc'd). */
int cap_cupti_stop(cap_kernel_rec **out, size_t *n, ut_err *err);
/* CUPTI's id of a runner's stream (for cap_kernel_rec.stream). */
int cap_cupti_stream_id(void *stream, unsigned *id, ut_err *err);

/* ---- raw records (CPU: capture/record.c) --------------------------------- */

/*
 * The one schema of a capture's raw JSON lines (raw.jsonl; capture/README.md,
 * "Raw records"): for each record shape, its fields in the order written,
 * each with a type, whether a reader needs it and its number format. The
 * campaign writes through it, the tests' synthetic captures too, and
 * `igniter derive` checks every line it reads against it.
 *
 * A record is one line {"kind":K,FIELDS...}: a field is written when set,
 * in the table's order; strings JSON-escaped; numbers with the field's
 * format. Reading, a field marked CAP_REC_REQ must be there and valid;
 * CAP_REC_OPT, valid when there (a null measurement reads as unset); any
 * other is stored when valid and otherwise left unset, never an error.
 * Every error is `FILE:LINE: KIND.FIELD: expected X, got Y`.
 */
typedef enum cap_rec_type {
    CAP_REC_STR,       /* a string (a needed one not empty) */
    CAP_REC_NAME,      /* a model name: 1..CAP_REC_NAME_MAX-1 letters,
                          digits, '_', '-' or '.' (JSON keys, file names) */
    CAP_REC_INT,       /* a whole number in [lo, hi] */
    CAP_REC_NUM,       /* a finite number */
    CAP_REC_POS,       /* a finite number > 0 */
    CAP_REC_NONNEG,    /* a finite number >= 0 */
    CAP_REC_FLAG,      /* true or false (CAP_REC_01: 1 or 0); read, anything
                          but true or a non-zero number is false */
    CAP_REC_JSON,      /* JSON text, written as is; never read */
    CAP_REC_SPLICE,    /* an object's members written as is without a key
                          (meta's library versions); never read */
    CAP_REC_QUANT,     /* the latency distribution: an array of CAP_REC_NQ
                          non-decreasing non-negative numbers, the quantiles
                          at cap_rec_q_levels (at most one such field per
                          record and one per member) */
    CAP_REC_MEMBERS    /* an array of lo..CAP_REC_MAX_MEMBERS objects (lo 0:
                          2), each with the shape's member fields (coloc,
                          power) */
} cap_rec_type;

#define CAP_REC_REQ 1u    /* derive needs it */
#define CAP_REC_OPT 2u    /* derive reads it when it is there */
#define CAP_REC_NULL 4u   /* written null when not finite (NVML's power or
                             clock over a window with no sample) */
#define CAP_REC_01 8u     /* a flag written 1 or 0 */
#define CAP_REC_G (-1)    /* fmt: "%g" */

#define CAP_REC_NAME_MAX 32      /* = model/'s MDL_NAME_MAX */
#define CAP_REC_MAX_COPIES 16    /* copies.n; = MDL_MAX_COPIES */
#define CAP_REC_MAX_MEMBERS 8    /* workloads of one co-location run */
#define CAP_REC_MAX_FIELDS 20
/* A point's latency distribution ("q_ms"): its nearest-rank quantiles at
 * these levels (0: the smallest sample, 1: the largest; 0.5 and 0.99 are
 * the p50_ms and p99_ms the campaign always wrote). Twelve numbers: enough
 * for the tail a simulator needs (p99.9), small beside a record. */
#define CAP_REC_NQ 12
extern const double cap_rec_q_levels[CAP_REC_NQ];

typedef struct cap_rec_field {
    const char *name;
    cap_rec_type type;
    unsigned flags;               /* CAP_REC_REQ, _OPT, _NULL, _01 */
    long lo, hi;                  /* CAP_REC_INT's range; hi -1: at most
                                     the record's sm_count (meta) */
    int fmt;                      /* a number: n >= 0 "%.nf" (0: a whole
                                     number), CAP_REC_G "%g" */
    const char *one_of;           /* CAP_REC_STR: the values it may take,
                                     "fit|test"; NULL: any */
} cap_rec_field;

/* The record shapes; a kind with two sharing mechanisms has one of each,
 * told apart by the "mech" field. */
typedef enum cap_rec_id {
    CAP_REC_META, CAP_REC_IDLE, CAP_REC_PCIE, CAP_REC_MODEL,
    CAP_REC_OVERHEAD, CAP_REC_KERNELS, CAP_REC_SOLO, CAP_REC_SOLO_MPS,
    CAP_REC_PAIR_SELF, CAP_REC_COPIES, CAP_REC_COLOC, CAP_REC_COLOC_MPS,
    CAP_REC_RECONFIG, CAP_REC_RECONFIG_MPS, CAP_REC_L2, CAP_REC_POWER,
    CAP_REC_NOTE,
    CAP_REC_STEP, CAP_REC_END, CAP_REC_NKINDS
} cap_rec_id;

typedef struct cap_rec_kind {
    const char *kind;             /* "solo" */
    const char *mech;             /* its "mech" ("green", "mps") or NULL */
    const cap_rec_field *fields;
    int nfields;
    const cap_rec_field *member;  /* CAP_REC_MEMBERS' fields, or NULL */
    int nmember;
} cap_rec_kind;

/* The table's entry for a shape (static; never NULL). */
const cap_rec_kind *cap_rec_kind_of(cap_rec_id id);

/* A field's value: unset, or a number (NAN: null) or a string. */
typedef struct cap_rec_val {
    int set;
    double num;
    const char *str;              /* borrowed: the writer's caller or the
                                     cJSON read keeps it alive */
} cap_rec_val;

/* One record: values in the order of its shape's fields. About 4 KiB. */
typedef struct cap_rec {
    const cap_rec_kind *k;
    cap_rec_val v[CAP_REC_MAX_FIELDS];
    int nmembers;
    cap_rec_val m[CAP_REC_MAX_MEMBERS][CAP_REC_MAX_FIELDS];
    /* the CAP_REC_QUANT field's values: [0] the record's, [1 + i]
     * member i's */
    double q[1 + CAP_REC_MAX_MEMBERS][CAP_REC_NQ];
} cap_rec;

/* An empty record of a shape, its "mech" set. */
void cap_rec_init(cap_rec *r, cap_rec_id id);
/* Set a field by name (numbers, whole numbers and flags: _set; strings,
 * JSON and splice text: _set_str, which keeps the pointer). Members are
 * added in order: setting a field of member nmembers adds it. A name the
 * shape does not have is the caller's bug (assert). */
void cap_rec_set(cap_rec *r, const char *name, double v);
void cap_rec_set_str(cap_rec *r, const char *name, const char *s);
void cap_rec_member_set(cap_rec *r, int member, const char *name, double v);
void cap_rec_member_set_str(cap_rec *r, int member, const char *name,
                            const char *s);
/* A field's value (never NULL; unset: set 0, num NAN, str NULL). */
/* The CAP_REC_QUANT field of the record (member < 0) or of a member:
 * set copies q[CAP_REC_NQ] (the caller's quantiles at cap_rec_q_levels,
 * sorted); get returns the CAP_REC_NQ values, or NULL when unset. */
void cap_rec_set_quant(cap_rec *r, int member, const double *q);
const double *cap_rec_get_quant(const cap_rec *r, int member);
/* q[CAP_REC_NQ]: the nearest-rank quantiles of the n sorted samples v
 * (NAN when n is 0): the one rule the campaign's clients share. */
void cap_rec_quantiles(const double *v, int n, double *q);
const cap_rec_val *cap_rec_get(const cap_rec *r, const char *name);
const cap_rec_val *cap_rec_member_get(const cap_rec *r, int member,
                                      const char *name);
/* Appends the record as one line, '\n' included. */
void cap_rec_write(const cap_rec *r, ut_buf *b);
/* Checks the object o against shape id into r (strings point into o).
 * `where` prefixes errors: "raw.jsonl:12: solo" gives "raw.jsonl:12:
 * solo.mean_ms: expected a positive number, got -1". */
int cap_rec_read(const cJSON *o, cap_rec_id id, const char *where,
                 cap_rec *r, ut_err *err);

/* ---- derivation (CPU: capture/derive.c) --------------------------------- */

/* Per-inference kernel statistics of `iters` back-to-back inferences whose
 * kernels are k[0..n) (one stream, sorted by start; n a multiple of
 * iters): kernels per inference, active time (the union of kernel
 * intervals) and idle time (the gaps between an inference's consecutive
 * kernels, overlaps counting as no gap), both in ms per inference. */
typedef struct cap_kstats {
    int kernels;
    double active_ms, idle_ms, idle_per_kernel_ms;
} cap_kstats;
int cap_kernel_stats(const cap_kernel_rec *k, size_t n, int iters,
                     cap_kstats *out, ut_err *err);

/* Duration-weighted means over the kernels of an `ncu --csv` report with
 * the metrics gpu__time_duration.sum, lts__t_sector_hit_rate.pct,
 * lts__t_sectors.avg.pct_of_peak_sustained_elapsed and
 * dram__throughput.avg.pct_of_peak_sustained_elapsed. */
typedef struct cap_ncu_summary {
    int kernels;
    double time_ms, l2_hit_pct, l2_util_pct, dram_util_pct;
} cap_ncu_summary;
int cap_ncu_parse(const char *csv_path, cap_ncu_summary *out, ut_err *err);

/* Derives, from a capture's raw JSON lines (capture/README.md), into
 * out_dir: profile.json (the project's profile, traces/README.md);
 * measured-colocation.jsonl (solo tables and the fitting pairs, in the
 * shape of traces/v100/measured-colocation.jsonl); measured-heldout.jsonl
 * (the same solo tables and the held-out pairs); colocations-multi.jsonl
 * (the held-out 3- and 4-way runs, one per line). `gpu_name` names the GPU
 * in the profile (NULL: from the raw file, "NVIDIA H100 80GB HBM3" ->
 * "H100"); price_per_hour <= 0 leaves the price out. Errors name the raw
 * file's line; nothing is written unless everything derives. */
/* (In capture/derive_raw.c and derive_out.c, not derive.c: they need
 * model/, which `make capture` does not link into igniter-capture.) */
int cap_derive(const char *raw_path, const char *out_dir,
               const char *gpu_name, double price_per_hour, ut_err *err);

/* ---- child processes and MPS (CPU: capture/mps.c) ------------------------ */

#include <stdio.h>
#include <sys/types.h>

/* A child process whose standard output comes back through `out`. */
typedef struct cap_child {
    pid_t pid;
    FILE *out;                    /* its standard output */
    int in;                       /* its standard input (spawn_io), or -1 */
} cap_child;
/* Runs argv (PATH searched) with the extra "NAME=VALUE" strings of env
 * (NULL-terminated, or NULL) added to its environment. */
int cap_child_spawn(char *const argv[], const char *const *env,
                    cap_child *c, ut_err *err);
/* The same, with a pipe to its standard input too (c->in). */
int cap_child_spawn_io(char *const argv[], const char *const *env,
                       cap_child *c, ut_err *err);
/* Waits for it; *status is its exit status, or 128 + the signal. */
int cap_child_wait(cap_child *c, int *status);
/* The same, at most `seconds`: then the child's group gets SIGTERM, and
 * SIGKILL half a second later. Returns 1 if it had to be ended so. */
int cap_child_wait_timeout(cap_child *c, double seconds, int *status);
/* Ends every child still running, with whatever it started (each child
 * leads a process group of its own): SIGTERM, SIGKILL after 2 s. */
void cap_children_kill(void);
/* Sends sig to every child's group; async-signal-safe (for a handler). */
void cap_children_signal(int sig);

/* 1, with a description in why, if an MPS control daemon this process did
 * not start is running (its socket in $CUDA_MPS_PIPE_DIRECTORY or
 * /tmp/nvidia-mps, or a process named nvidia-cuda-mps*). */
int cap_mps_foreign(char *why, size_t n);
/* Starts a control daemon of our own, pipe and log folder a new
 * /tmp/igniter-mps-XXXXXX exported to the children as
 * CUDA_MPS_PIPE_DIRECTORY and CUDA_MPS_LOG_DIRECTORY; refuses if a
 * foreign one runs. The binary: $IGNITER_MPS_CONTROL, else
 * nvidia-cuda-mps-control from /usr/local/nvidia/bin, /usr/bin, PATH. */
int cap_mps_start(ut_err *err);
/* Sends it "quit", waits up to 5 s, removes its folder (no-op if none). */
void cap_mps_stop(void);
/* Our daemon's folder, "" when none runs. */
const char *cap_mps_dir(void);
/* Starts argv as a client of our daemon (cap_mps_start first): a child
 * (cap_child_spawn; with_stdin: cap_child_spawn_io) with
 * CUDA_MPS_PIPE_DIRECTORY and CUDA_MPS_LOG_DIRECTORY our daemon's folder
 * and CUDA_MPS_ACTIVE_THREAD_PERCENTAGE thread_pct, written "%g" (six
 * significant digits, never rounded to a whole percent). Errors: no daemon
 * of ours, thread_pct outside (0, 100], or the spawn's. */
int cap_mps_client_spawn(char *const argv[], double thread_pct,
                         int with_stdin, cap_child *c, ut_err *err);

/* ---- the campaign of igniter-capture (CUDA: capture/campaign*.cu) ------- */

/* What the igniter-capture CLI parsed; the verbs read what they need. */
typedef struct cap_campaign_opts {
    const char *out, *models_dir, *steps, *model, *ncu;
    char models[256];
    int quick, iters, batch, sms, graphs, seed;
    int ncu_timeout;            /* run: seconds an ncu child may take */
    int json;                   /* infer: one JSON line per batch */
    double start_at, seconds;   /* infer: start at this CLOCK_REALTIME
                                   second, time for this long */
    double spawned_at;          /* infer: when the parent spawned it */
    char batches[128];
    char solo_sms[128];         /* run's solo step, "" for the default */
    char mps_pcts[256];         /* mps's solo step: thread percentages, ""
                                   for the default; CAP_MPS_LIST at most */
    char mps_splits[256];       /* mps's pairs step: A:B percentages, ""
                                   for the default; CAP_MPS_LIST at most */
} cap_campaign_opts;

/* The most items --mps-pcts and --mps-splits take. */
#define CAP_MPS_LIST 32

/* How a verb ended; the CLI turns it into the exit status. */
typedef enum cap_campaign_end {
    CAP_CAMPAIGN_OK = 0,
    CAP_CAMPAIGN_FAILED = -1,        /* err says what */
    CAP_CAMPAIGN_USAGE = -2,         /* an option the verb cannot do
                                        with: err says which */
    CAP_CAMPAIGN_INTERRUPTED = -3,   /* Ctrl-C or SIGTERM: stopped after
                                        the point in progress, what was
                                        measured is kept */
    CAP_CAMPAIGN_CHECK_FAILED = -4   /* check: a model failed; its printed
                                        line says which */
} cap_campaign_end;

/* The verbs; each returns a cap_campaign_end, with err filled for FAILED
 * and USAGE. `self` is the tool's own path (for the ncu and MPS
 * children). run and mps append records to o->out/raw.jsonl (USAGE
 * without o->out) and print their progress on standard error; infer,
 * check and bench print their results on standard output. Only check
 * returns CHECK_FAILED; check stops after the model in progress on
 * Ctrl-C and says OK or CHECK_FAILED for what it checked. */
int cap_campaign_run(const cap_campaign_opts *o, const char *self,
                     ut_err *err);
int cap_campaign_infer(const cap_campaign_opts *o, ut_err *err);
int cap_campaign_bench(const cap_campaign_opts *o, ut_err *err);
int cap_campaign_check(const cap_campaign_opts *o, ut_err *err);
int cap_campaign_mps(const cap_campaign_opts *o, const char *self,
                     ut_err *err);
/* Ctrl-C and SIGTERM stop after the point in progress and end the
 * children; a crash prints the stack. */
void cap_campaign_catch_stop(void);
void cap_campaign_catch_crash(void);

/* ---- the MPS worker (CUDA: capture/worker.cu) --------------------------- */

/* `igniter-capture worker`: one instance of `igniter serve --mechanism
 * mps` (serve/gpu.cu spawns it, an MPS client at its share of the
 * threads). Prepares a runner of models_dir/model.json for batches 1 to
 * batch, then prints "ready SMS|VERSIONS|GPU NAME" and, for each batch
 * size read on standard input, runs it and prints "done GPU_MS"; an error
 * prints "error MESSAGE". Returns the exit status: 0 at the end of its
 * input, 1 after an error. */
int cap_worker_run(const char *models_dir, const char *model, int batch);

#ifdef __cplusplus
}
#endif

#endif
