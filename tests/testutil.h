/*
 * testutil.h - helpers shared by the test suites (header-only, static).
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "util/util.h"

#define V100_AUTHORS "traces/v100/igniter-profile.jsonl"
#define V100_PROFILE "traces/v100/profile.json"
#define V100_MEASURED "traces/v100/measured-colocation.jsonl"

/*
 * The suites' shared fixture, as cmocka group setup and teardown:
 * TU_FIT_FIXTURE(f, PROFILE) loads a fitted model into the suite's static
 * f; TU_FIT_MEASURED_FIXTURE(f, m) the V100's fitted profile into f and
 * its measured data into m. They define setup() and teardown().
 */
#define TU_FIXTURE_(LOADED, FREE)                                            \
    static int setup(void **state)                                           \
    {                                                                        \
        (void)state;                                                         \
        ut_err err_;                                                         \
        if (LOADED)                                                          \
            return 0;                                                        \
        fprintf(stderr, "%s\n", err_.msg);                                   \
        return -1;                                                           \
    }                                                                        \
    static int teardown(void **state)                                        \
    {                                                                        \
        (void)state;                                                         \
        FREE;                                                                \
        return 0;                                                            \
    }
#define TU_FIT_FIXTURE(F, PROFILE)                                           \
    static mdl_fitted F;                                                     \
    TU_FIXTURE_(mdl_load(PROFILE, &F, &err_) == 0, mdl_fitted_free(&F))
#define TU_FIT_MEASURED_FIXTURE(F, M)                                        \
    static mdl_fitted F;                                                     \
    static mdl_measured M;                                                   \
    TU_FIXTURE_(mdl_load(V100_PROFILE, &F, &err_) == 0 &&                    \
                    mdl_measured_load(V100_MEASURED, &M, &err_) == 0,        \
                (mdl_fitted_free(&F), mdl_measured_free(&M)))

/* |a - b| <= rel * |b| (or <= rel when b is 0) */
#define assert_close(a, b, rel)                                              \
    do {                                                                     \
        double a_ = (a), b_ = (b);                                           \
        double tol_ = (rel) * (b_ != 0 ? fabs(b_) : 1.0);                    \
        if (!(fabs(a_ - b_) <= tol_))                                        \
            fail_msg("%s = %.17g, expected %.17g (relative tolerance %g)",   \
                     #a, a_, b_, (double)(rel));                             \
    } while (0)

/* Temporary directories made by a test process are removed when it exits
 * (atexit), whatever the tests left in them. */
#include <ftw.h>

static char tu_dirs[64][64];
static int tu_ndirs;

static inline int tu_rm_one(const char *path, const struct stat *st, int flag,
                            struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void tu_cleanup(void)
{
    for (int i = 0; i < tu_ndirs; i++)
        nftw(tu_dirs[i], tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /tmp, removed at exit. Returns a static buffer
 * (one per call, up to 64 per process). */
static inline const char *tu_tmpdir(void)
{
    if (tu_ndirs == 64)
        abort();
    char *d = tu_dirs[tu_ndirs];
    snprintf(d, 64, "/tmp/igniter-test-XXXXXX");
    if (!mkdtemp(d))
        abort();
    if (tu_ndirs++ == 0)
        atexit(tu_cleanup);
    return d;
}

/* Writes text to a fresh file in a temporary directory; returns its
 * malloc'd path. */
static inline char *tu_write_temp(const char *name, const char *text)
{
    static const char *dir;
    if (!dir)
        dir = tu_tmpdir();
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return path;
}

/* The text of the file name in the folder dir, malloc'd (the caller
 * frees it); the test fails, with the reason, where it cannot be read. */
static inline char *tu_read_in(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ut_err err;
    char *s = ut_read_file(path, NULL, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

/* Writes text to the file name in the folder dir (the folder exists); the
 * test fails where it cannot. tu_read_in's twin. */
static inline void tu_write_in(const char *dir, const char *name,
                               const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fail_msg("%s: cannot write", path);
}

/* The file name in the folder dir, parsed as JSON (the caller frees it
 * with cJSON_Delete); the test fails where it cannot be read or parsed. */
static inline cJSON *tu_json_in(const char *dir, const char *name)
{
    char *s = tu_read_in(dir, name);
    cJSON *j = cJSON_Parse(s);
    free(s);
    if (!j)
        fail_msg("%s/%s: expected JSON", dir, name);
    return j;
}

/* The files names[0..n) of the folders a and b hold the same bytes; the
 * test fails naming the first that differs. */
static inline void tu_same_files(const char *a, const char *b,
                                 const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *x = tu_read_in(a, names[i]), *y = tu_read_in(b, names[i]);
        if (strcmp(x, y))
            fail_msg("%s differs between %s and %s", names[i], a, b);
        free(x);
        free(y);
    }
}

/* sim's outputs in folder a equal serve's in b: the files, and
 * summary.json's numbers (only the back end's name and the serve member
 * may differ). */
static inline void tu_same_as_sim(const char *a, const char *b)
{
    static const char *const same[] = {"workloads.csv", "timeseries.csv",
                                       "cdf.csv", "trace.json"};
    tu_same_files(a, b, same, 4);
    cJSON *x = tu_json_in(a, "summary.json"), *y = tu_json_in(b, "summary.json");
    const char *keys[] = {"totals", "workloads", "gpus", "complete"};
    for (size_t k = 0; k < 4; k++) {
        char *p = cJSON_PrintUnformatted(cJSON_GetObjectItem(x, keys[k]));
        char *q = cJSON_PrintUnformatted(cJSON_GetObjectItem(y, keys[k]));
        assert_non_null(p);
        if (strcmp(p, q))
            fail_msg("summary.json %s: sim %s, serve %s", keys[k], p, q);
        free(p);
        free(q);
    }
    cJSON_Delete(x);
    cJSON_Delete(y);
}

/* ---- running commands: igniter as a child, a shell line -------------- */

#include <fcntl.h>
#include <sys/wait.h>

/* What tu_igniter's child printed, and how it ended (its exit status, or
 * 128 + the signal). */
typedef struct tu_run_result {
    int status;
    char out[65536], err[8192];
} tu_run_result;

/* The file at path into buf (at most n - 1 bytes and a NUL; "" if none). */
static inline void tu_slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = '\0';
    if (f)
        fclose(f);
}

/* Runs igniter ($IGNITER_BIN, else build/igniter) with arg and the
 * NULL-terminated arguments of ap, standard input /dev/null; fills *r and
 * returns its status. */
static inline int tu_igniter_v(tu_run_result *r, const char *arg, va_list ap)
{
    const char *bin = getenv("IGNITER_BIN");
    if (!bin)
        bin = "build/igniter";
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
        argv[n++] = a;
    argv[n] = NULL;
    char outp[] = "/tmp/igniter-test-outXXXXXX",
         errp[] = "/tmp/igniter-test-errXXXXXX";
    int fo = mkstemp(outp), fe = mkstemp(errp);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        int fi = open("/dev/null", O_RDONLY);
        dup2(fi, 0);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    close(fo);
    close(fe);
    tu_slurp(outp, r->out, sizeof r->out);
    tu_slurp(errp, r->err, sizeof r->err);
    unlink(outp);
    unlink(errp);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r->status;
}

/* Runs igniter as tu_igniter_v does; its standard error into err[0..n),
 * its status back. */
static inline int tu_igniter_err(char *err, size_t n, const char *arg, ...)
{
    tu_run_result *r = malloc(sizeof *r);
    assert_non_null(r);
    va_list ap;
    va_start(ap, arg);
    int st = tu_igniter_v(r, arg, ap);
    va_end(ap);
    snprintf(err, n, "%s", r->err);
    free(r);
    return st;
}

/* system() of a printf-formatted shell line. */
__attribute__((format(printf, 1, 2)))
static inline int tu_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}


#endif

#if defined(TU_PLANS) || defined(TU_SIM) || defined(TU_RANDOM_WORKLOADS)
#ifndef TU_PLANS_DONE
#define TU_PLANS_DONE
#include "policies/policy.h"

/* The plan function of a scripted runtime policy that is only ever given
 * a plan (tests of the runtime hook). */
static inline int tu_never_plan(const pol_request *req, pol_plan *out,
                                ut_err *err)
{
    (void)req;
    (void)out;
    return ut_errf(err, "not used");
}

/* A workload request: name, model, SLO (ms) and rate (req/s). */
static inline pol_workload tu_wl(const char *name, const char *model,
                                 double slo_ms, double rate_rps)
{
    pol_workload w;
    memset(&w, 0, sizeof w);
    snprintf(w.name, sizeof w.name, "%s", name);
    snprintf(w.model, sizeof w.model, "%s", model);
    w.slo_ms = slo_ms;
    w.rate_rps = rate_rps;
    return w;
}

/* A plan's instance, every other field 0. */
static inline void tu_instance(pol_instance *in, const char *name,
                               const char *model, int batch, double share_pct,
                               double rate_rps, double slo_ms)
{
    memset(in, 0, sizeof *in);
    snprintf(in->name, sizeof in->name, "%s", name);
    snprintf(in->model, sizeof in->model, "%s", model);
    in->batch = batch;
    in->share_pct = share_pct;
    in->rate_rps = rate_rps;
    in->slo_ms = slo_ms;
}

/* A plan built by hand: up to 4 instances on each of up to 4 GPUs of one
 * type, policy "test". tu_hplan_init: ngpus GPUs of the type at
 * price_per_hour each (the plan's cost: that times ngpus), no instance;
 * tu_hplan_add: one instance more on GPU gpu (tu_instance's fields). */
typedef struct tu_hplan {
    pol_plan p;
    pol_gpu g[4];
    pol_instance in[4][4];
} tu_hplan;

static inline void tu_hplan_init(tu_hplan *t, size_t ngpus, const char *type,
                                 double price_per_hour)
{
    memset(t, 0, sizeof *t);
    snprintf(t->p.policy, sizeof t->p.policy, "test");
    snprintf(t->p.gpu_type, sizeof t->p.gpu_type, "%s", type);
    t->p.price_per_hour = price_per_hour;
    t->p.ngpus = ngpus;
    t->p.cost_per_hour = price_per_hour * (double)ngpus;
    t->p.gpus = t->g;
    for (size_t j = 0; j < ngpus; j++) {
        t->g[j].inst = t->in[j];
        snprintf(t->g[j].type, sizeof t->g[j].type, "%s", type);
    }
}

static inline void tu_hplan_add(tu_hplan *t, size_t gpu, const char *name,
                                const char *model, int batch, double share,
                                double rate, double slo)
{
    tu_instance(&t->in[gpu][t->g[gpu].n++], name, model, batch, share, rate,
                slo);
}

/* Plans a and b are the same, JSON byte for byte; both are freed. */
static inline void tu_same_plans(pol_plan *a, pol_plan *b)
{
    char *ja = pol_plan_to_json(a), *jb = pol_plan_to_json(b);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    pol_plan_free(a);
    pol_plan_free(b);
}

/* The paper's 12 workloads (experiments/paper-12.json), checked against
 * fit; the test fails where they do not load. The caller frees them. */
static inline pol_workload *tu_paper12(const mdl_fitted *fit, size_t *n)
{
    pol_workload *w;
    ut_err err;
    if (pol_workloads_load("experiments/paper-12.json", fit, &w, n, &err) < 0)
        fail_msg("%s", err.msg);
    return w;
}
#endif
#endif

#ifdef TU_SIM
#include "sim/sim.h"

/* Three instances of models every back end knows, on their shares (the
 * back ends' tests). */
static const sim_inst_desc tu_descs3[3] = {
    {"a", "alexnet", 30, 2.0, 0, 0},
    {"b", "resnet50", 40, 5.0, 1, 0},
    {"c", "vgg19", 30, 8.0, 0, 0.5},
};

/* Requests that arrived in run r, all workloads together. */
static inline uint64_t tu_arrived(const fe_result *r)
{
    uint64_t n = 0;
    for (size_t w = 0; w < r->nw; w++)
        n += r->w[w].arrived;
    return n;
}

/* A simulation of plan p with the workloads w[0..nw), on back end backend
 * (fit may be NULL for "fixed"), for duration_s with a 1 s interval and
 * the seed; every other field 0. */
static inline void tu_sim_config(sim_config *c, const pol_plan *p,
                                 const mdl_fitted *fit, const char *backend,
                                 const fe_workload_cfg *w, size_t nw,
                                 double duration_s, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->run.plan = p;
    c->fit = fit;
    c->backend = backend;
    c->run.duration_s = duration_s;
    c->run.interval_s = 1;
    c->run.seed = seed;
    c->run.wcfg = w;
    c->run.nw = nw;
}

/* For the benchmarks: iGniter's plan of w[0..n) on fit into *p, and each
 * workload's configuration with Poisson arrivals at its rate (calloc'd,
 * the caller frees); a failed plan exits with its message. */
static inline fe_workload_cfg *tu_igniter_poisson(const mdl_fitted *fit,
                                                  const pol_workload *w,
                                                  size_t n, pol_plan *p)
{
    ut_err err;
    pol_request req = {w, n, fit, NULL, 0};
    if (pol_make_plan("igniter", &req, p, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    fe_workload_cfg *wc = calloc(n, sizeof *wc);
    for (size_t i = 0; i < n; i++)
        fe_workload_defaults(&wc[i], w[i].name, w[i].rate_rps);
    return wc;
}
#endif

#ifdef TU_BENCH
#ifndef TU_BENCH_DONE
#define TU_BENCH_DONE
#include <sys/wait.h>
#include <time.h>

/* Seconds on the monotonic clock: a benchmark's wall time. */
static inline double tu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs fn(arg) in a process of its own (so that its peak memory is its
 * own, and one case's heap does not slow the next); exits 1 where the
 * child fails. */
static inline void tu_in_child(void (*fn)(const void *), const void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        fn(arg);
        fflush(stdout);
        tu_cleanup();   /* _exit skips atexit: the results folder goes here */
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        exit(1);
}
#endif
#endif

#ifdef TU_RANDOM_WORKLOADS
#include <gsl/gsl_rng.h>

/* n random workloads over the four V100 models, seeded: SLOs in a range
 * per model around the paper's (AlexNet 10-30 ms, ResNet-50 20-80,
 * VGG-19 40-120, SSD 60-200) and rates of 50-800 req/s. Shared by the plan
 * tests and the planning benchmark. */
static inline pol_workload *tu_random_workloads(size_t n, unsigned long seed)
{
    static const struct {
        const char *model;
        double slo_lo, slo_hi;
    } kinds[] = {{"alexnet", 10, 30}, {"resnet50", 20, 80},
                 {"vgg19", 40, 120}, {"ssd", 60, 200}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    pol_workload *w = calloc(n, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        size_t k = gsl_rng_uniform_int(r, 4);
        snprintf(w[i].name, sizeof w[i].name, "W%zu", i + 1);
        snprintf(w[i].model, sizeof w[i].model, "%s", kinds[k].model);
        w[i].slo_ms = round(kinds[k].slo_lo + gsl_rng_uniform(r) *
                            (kinds[k].slo_hi - kinds[k].slo_lo));
        w[i].rate_rps = round(50 + gsl_rng_uniform(r) * 750);
    }
    gsl_rng_free(r);
    return w;
}
#endif

#ifdef TU_SYNTH_RAW
#include "capture/capture.h"

/*
 * A small synthetic capture (igniter-capture's raw records, written with
 * the campaign's own writer: capture.h, "raw records") of a 132-SM GPU:
 * two models ("alpha", "beta") whose solo latencies follow the iGniter
 * active-time curve exactly, at batches 1, 8, 32 on 16, 32, 64 SMs and the
 * whole GPU; kernels, L2, pair_self, five copies runs, four "fit" pairs,
 * two held-out pairs and one held-out 3-way run. Lines of the kind `skip`
 * (NULL: none) are left out; `end` is the last line's text (NULL: no end
 * record). Returns malloc'd text.
 */
static inline double tu_synth_ms(int model, int batch, int sms)
{
    static const double k[2][5] = {{0.004, 8.7, 23.7, 0.06, 0.35},
                                   {0.0, 58.0, 1.0, 0.34, 1.9}};
    static const double idle[2] = {0.03, 0.07};
    double share = sms >= 132 ? 100 : 100.0 * sms / 132;
    double b = batch, xfer = b * (301056 + 2000) / (2 * 67108864 / 5.4);
    const double *c = k[model];
    return idle[model] + (c[0] * b * b + c[1] * b + c[2]) / (share + c[3]) +
           c[4] + xfer;
}

/* One record of tu_synth_raw, through the writer: TU_REC(&b, skip, id,
 * TU_N("batch", 8), TU_S("model", "alpha"), ...): a number or a string
 * per field, typed by the macro (no varargs). */
typedef struct tu_kv {
    const char *name, *s;
    double v;
} tu_kv;
#define TU_N(name, v) ((tu_kv){name, NULL, (double)(v)})
#define TU_S(name, s) ((tu_kv){name, s, 0})
#define TU_REC(b, skip, id, ...)                                             \
    tu_rec(b, skip, id, (const tu_kv[]){__VA_ARGS__, {NULL, NULL, 0}})

static inline void tu_rec(ut_buf *b, const char *skip, cap_rec_id id,
                          const tu_kv *kv)
{
    cap_rec r;
    cap_rec_init(&r, id);
    for (; kv->name; kv++) {
        if (kv->s)
            cap_rec_set_str(&r, kv->name, kv->s);
        else
            cap_rec_set(&r, kv->name, kv->v);
    }
    if (!skip || strcmp(skip, r.k->kind))
        cap_rec_write(&r, b);
}

static inline char *tu_synth_raw(const char *skip, const char *end)
{
    static const char *names[2] = {"alpha", "beta"};
    static const int sms[4] = {16, 32, 64, 132}, batches[3] = {1, 8, 32};
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", "");
    TU_REC(&b, skip, CAP_REC_META, TU_S("tool", "igniter-capture 0.1.0"),
           TU_S("time", "2026-12-01T10:00:00Z"), TU_S("host", "h"),
           TU_S("gpu", "NVIDIA H100 80GB HBM3"), TU_N("sm_count", 132),
           TU_N("min_partition_sms", 8), TU_N("partition_align_sms", 8),
           TU_N("mem_bytes", 85017755648.0), TU_N("l2_bytes", 52428800),
           TU_S("driver", "560.35.03"), TU_N("max_clock_mhz", 1980),
           TU_N("power_cap_w", 700), TU_N("seed", 1), TU_N("quick", 0),
           TU_S("mechanism", "green"),
           TU_S("versions", "\"cuda_runtime\":12060,\"cuda_driver\":12060,"
                "\"cudnn\":90300,\"cudnn_compiled\":90300,\"cublas\":"
                "120604,\"precision\":\"fp16\""));
    TU_REC(&b, skip, CAP_REC_IDLE, TU_N("power_w", 70),
           TU_N("clock_mhz", 345), TU_N("samples", 20));
    TU_REC(&b, skip, CAP_REC_PCIE, TU_N("bytes", 67108864),
           TU_N("h2d_ms", 2.6), TU_N("d2h_ms", 2.8),
           TU_N("h2d_bytes_per_ms", 2.58111e+07),
           TU_N("d2h_bytes_per_ms", 2.39675e+07));
    for (int m = 0; m < 2; m++)
        TU_REC(&b, skip, CAP_REC_MODEL, TU_S("model", names[m]),
               TU_N("params", 1000), TU_N("gflops", 1.5),
               TU_N("input_bytes", 301056), TU_N("output_bytes", 2000),
               TU_N("layers", 20), TU_S("precision", "fp16"));
    TU_REC(&b, skip, CAP_REC_STEP, TU_S("step", "meta"), TU_N("seconds", 2),
           TU_N("ok", 1));
    for (int m = 0; m < 2; m++)
        TU_REC(&b, skip, CAP_REC_KERNELS, TU_S("model", names[m]),
               TU_N("batch", 1), TU_N("sms", 132), TU_N("iters", 20),
               TU_N("kernels", m ? 80 : 20), TU_N("active_ms", 0.6),
               TU_N("idle_ms", m ? 0.07 : 0.03),
               TU_N("idle_per_kernel_ms", 0.0015));
    for (int s = 0; s < 4; s++)
        for (int m = 0; m < 2; m++)
            for (int i = 0; i < 3; i++) {
                double ms = tu_synth_ms(m, batches[i], sms[s]);
                TU_REC(&b, skip, CAP_REC_SOLO, TU_S("model", names[m]),
                       TU_N("batch", batches[i]), TU_N("sms", sms[s]),
                       TU_N("share_pct", 100.0 * sms[s] / 132),
                       TU_N("iters", 100), TU_N("mean_ms", ms),
                       TU_N("p50_ms", ms), TU_N("p99_ms", ms * 1.1),
                       TU_N("std_ms", ms * 0.02), TU_N("gpu_ms", ms * 0.97),
                       TU_N("power_w", 100 + sms[s] * 2.0 +
                                           batches[i] * (m + 1)),
                       TU_N("clock_mhz", 1980));
            }
    for (int m = 0; m < 2; m++)
        TU_REC(&b, skip, CAP_REC_PAIR_SELF, TU_S("model", names[m]),
               TU_N("batch", 1), TU_N("sms", 64), TU_N("kernels", 20),
               TU_N("active_solo_ms", 0.7),
               TU_N("active_pair_ms", m ? 0.77 : 0.74),
               TU_N("power_w", 300), TU_N("clock_mhz", 1980));
    static const double cp[5] = {150, 300, 450, 600, 700},
                        cc[5] = {1980, 1980, 1980, 1980, 1900},
                        ci[5] = {0.0014, 0.0017, 0.0068, 0.0119, 0.017};
    for (int n = 0; n < 5; n++)
        TU_REC(&b, skip, CAP_REC_COPIES, TU_S("model", "beta"),
               TU_N("batch", 16), TU_N("n", n + 1),
               TU_N("sms_each", n ? 132 / (n + 1) / 8 * 8 : 132),
               TU_N("power_w", cp[n]), TU_N("clock_mhz", cc[n]),
               TU_N("idle_per_kernel_ms", ci[n]), TU_N("mean_ms", 5));
    static const struct {
        const char *set;
        int n, m[3], b[3], s[3];
    } co[] = {
        {"fit", 2, {0, 1}, {1, 8}, {32, 100}},
        {"fit", 2, {0, 1}, {8, 8}, {32, 100}},
        {"fit", 2, {0, 1}, {1, 8}, {64, 68}},
        {"fit", 2, {0, 1}, {8, 8}, {64, 68}},
        {"test", 2, {0, 1}, {4, 2}, {48, 84}},
        {"test", 2, {1, 1}, {1, 16}, {24, 108}},
        {"test", 3, {0, 1, 0}, {2, 4, 8}, {40, 40, 52}},
    };
    for (size_t i = 0; i < sizeof co / sizeof co[0]; i++) {
        cap_rec r;
        cap_rec_init(&r, CAP_REC_COLOC);
        cap_rec_set_str(&r, "set", co[i].set);
        cap_rec_set(&r, "n", co[i].n);
        for (int k = 0; k < co[i].n; k++) {
            double ms = 1.1 * tu_synth_ms(co[i].m[k], co[i].b[k], co[i].s[k]);
            cap_rec_member_set_str(&r, k, "model", names[co[i].m[k]]);
            cap_rec_member_set(&r, k, "batch", co[i].b[k]);
            cap_rec_member_set(&r, k, "sms", co[i].s[k]);
            cap_rec_member_set(&r, k, "share_pct", 100.0 * co[i].s[k] / 132);
            cap_rec_member_set(&r, k, "iters", 50);
            cap_rec_member_set(&r, k, "mean_ms", ms);
            cap_rec_member_set(&r, k, "p50_ms", ms);
            cap_rec_member_set(&r, k, "p99_ms", ms * 1.2);
            cap_rec_member_set(&r, k, "std_ms", ms * 0.03);
        }
        cap_rec_set(&r, "power_w", 400);
        cap_rec_set(&r, "clock_mhz", 1980);
        if (!skip || strcmp(skip, "coloc"))
            cap_rec_write(&r, &b);
    }
    TU_REC(&b, skip, CAP_REC_NOTE, TU_S("step", "l2"), TU_S("model", "beta"),
           TU_N("batch", 4), TU_S("msg", "ncu exited 256"));
    static const int l2b[3] = {1, 32, 8}, l2s[3] = {132, 132, 64};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 3; i++)
            TU_REC(&b, skip, CAP_REC_L2, TU_S("model", names[m]),
                   TU_N("batch", l2b[i]), TU_N("sms", l2s[i]),
                   TU_N("share_pct", 100.0 * l2s[i] / 132),
                   TU_N("kernels", 20), TU_N("gpu_ms", 1.5),
                   TU_N("l2_hit_pct", 70),
                   TU_N("l2_util_pct", (m ? 12.0 : 10.0) + l2b[i]),
                   TU_N("dram_util_pct", (m ? 30.0 : 20.0) + l2b[i] / 2.0));
    if (end)
        ut_buf_printf(&b, "%s\n", end);
    return b.s;
}

#define TU_SYNTH_END "{\"kind\":\"end\",\"complete\":true,\"seconds\":900}"
#endif

/* A test of the igniter binary: `res` holds what the last run(...) printed
 * and its status (tu_igniter_v), slurp reads a file. */
#ifdef TU_RUN
static tu_run_result res;

#define slurp tu_slurp

/* Runs igniter with the NULL-terminated arguments; fills res. */
static int run(const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int st = tu_igniter_v(&res, arg, ap);
    va_end(ap);
    return st;
}

#define assert_contains(hay, needle)                                         \
    do {                                                                     \
        if (!strstr((hay), (needle)))                                        \
            fail_msg("expected \"%s\" in:\n%s", (needle), (hay));           \
    } while (0)

/* The last run: exit 2, one line on stderr holding every fragment (f2
 * and f3 may be NULL), nothing on stdout. */
static inline void tu_assert_bad_input(const char *f1, const char *f2,
                                       const char *f3)
{
    if (res.status != 2)
        fail_msg("exit status %d, expected 2; stderr: %s", res.status,
                 res.err);
    assert_contains(res.err, f1);
    if (f2)
        assert_contains(res.err, f2);
    if (f3)
        assert_contains(res.err, f3);
    assert_string_equal(res.out, "");
    char *nl = strchr(res.err, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");
}
#endif

static inline int tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Writes text to path. */
static inline void tu_put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A plan file of one H100 ($1/h) running workload "a" of model at batch
 * on 50 % of it, rate req/s, SLO 1 s. */
static inline void tu_put_plan1(const char *path, const char *model,
                                int batch, double rate)
{
    char text[700];
    snprintf(text, sizeof text,
             "{\"format\": 1, \"policy\": \"manual\", \"policy_version\": "
             "1, \"gpu_type\": \"H100\", \"price_per_hour\": 1, "
             "\"num_gpus\": 1, \"cost_per_hour\": 1, \"gpus\": [{\"gpu\": "
             "0, \"type\": \"H100\", \"replica\": false, \"workloads\": "
             "[{\"name\": \"a\", \"model\": \"%s\", \"batch\": %d, "
             "\"resource_pct\": 50, \"rate_rps\": %g, \"slo_ms\": "
             "1000}]}]}\n", model, batch, rate);
    tu_put(path, text);
}

/* The validation matrix's tools (scripts/validate-matrix.py). */
#ifdef TU_MATRIX
/* A template's capacity for a model in dir/capacity.csv (template,model,
 * batch,sms,batch_ms,capacity_rps); -1 when it has no such row. */
static inline double tu_capacity_of(const char *dir, const char *tpl,
                                    const char *model)
{
    char p[1024], line[256];
    snprintf(p, sizeof p, "%s/capacity.csv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    double cap = -1;
    while (fgets(line, sizeof line, f)) {
        char t[32], m[32];
        int b, sms;
        double ms, c;
        if (sscanf(line, "%31[^,],%31[^,],%d,%d,%lf,%lf", t, m, &b, &sms, &ms,
                   &c) == 6 && !strcmp(t, tpl) && !strcmp(m, model))
            cap = c;
    }
    fclose(f);
    return cap;
}
#endif

/* Refusals of the lab's inputs (lab/lab.h): one message naming what is
 * wrong, exit status 2, no output folder. */
#ifdef TU_LAB
#include "lab/lab.h"

/* `igniter sim EXP --out OUT OPT SPEC` exits 2 naming frag1 and frag2
 * and makes no OUT. */
static inline void tu_option_refused(const char *exp, const char *opt,
                                     const char *spec, const char *frag1,
                                     const char *frag2, const char *out)
{
    char err[4096];
    int rc = tu_igniter_err(err, sizeof err, "sim", exp, "--out", out, opt,
                            spec, NULL);
    if (rc != 2 || !strstr(err, frag1) || !strstr(err, frag2))
        fail_msg("%s %s: exit %d, stderr:\n%s", opt, spec, rc, err);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
}

/* The experiment file at path is refused: by lab_prepare with a message
 * naming path, frag1 and frag2, and by `igniter sim path --out OUT`
 * (exit 2, naming frag1, no OUT). */
static inline void tu_experiment_refused(const char *path, const char *frag1,
                                         const char *frag2, const char *out)
{
    lab_opts o;
    lab_prepared p;
    ut_err e;
    lab_opts_init(&o);
    o.experiment = path;
    if (lab_prepare(&o, &p, &e) != -1 || !strstr(e.msg, path) ||
        !strstr(e.msg, frag1) || !strstr(e.msg, frag2))
        fail_msg("%s: expected it refused naming %s and %s, got: %s", path,
                 frag1, frag2, e.msg);
    char err[4096];
    assert_int_equal(tu_igniter_err(err, sizeof err, "sim", path, "--out",
                                    out, NULL), 2);
    assert_non_null(strstr(err, frag1));
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
}
#endif
