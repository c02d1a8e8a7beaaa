/*
 * campaign.cu - the measurement campaign of `igniter-capture` (the CLI,
 * cli/igniter_capture.cu, parses the options and calls these): every step
 * of `run` (meta, overhead, kernels, solo, pair_self, reconfig, coloc,
 * copies, heldout, l2), `infer`, `bench`, `check` and `mps`, on the runner
 * (runner.cu), the partitions and probes (gpu.cu) and the child processes
 * (mps.c). Raw records: capture/README.md.
 *
 * Every record is written and flushed as soon as it is measured; Ctrl-C
 * stops after the point in progress, writes {"kind":"end","complete":
 * false} and exits 130, so finished points are kept.
 */
#include "capture/capture.h"

#include <cuda_fp16.h>
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>
#include <errno.h>
#include <execinfo.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_MODELS 8
#define MAX_CO 5   /* copies: up to 5 */

static volatile sig_atomic_t stop_flag;
/* Ctrl-C or SIGTERM: stop after the point in progress, and pass it on to
 * the child processes (ncu, MPS clients) so that none outlives us. */
static void on_sigint(int sig)
{
    (void)sig;
    stop_flag = 1;
    cap_children_signal(SIGTERM);
}

/* Without SA_RESTART, so that a wait for a child returns at once. */
void cap_campaign_catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* A crash prints its stack (build/igniter-capture is linked with
 * -export-dynamic, so the frames have names) before the default action. */
static void on_crash(int sig)
{
    void *fr[64];
    int n = backtrace(fr, 64);
    static const char msg[] = "igniter-capture: crashed; stack:\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(128 + sig);
    backtrace_symbols_fd(fr, n, 2);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int die(const ut_err *e)
{
    fprintf(stderr, "igniter-capture: %s\n", e->msg);
    return 1;
}

/* ---- options ---------------------------------------------------------- */

typedef cap_campaign_opts opts;

static double realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_list(const char *s, int *v, int max)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok(buf, ","); t && n < max; t = strtok(NULL, ","))
        v[n++] = atoi(t);
    return n;
}

static int has_step(const opts *o, const char *step)
{
    if (!o->steps)
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", o->steps);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
        if (!strcmp(t, step))
            return 1;
    return 0;
}

/* ---- output --------------------------------------------------------------- */

static FILE *raw;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(raw, fmt, ap);
    va_end(ap);
    fputc('\n', raw);
    fflush(raw);
}

static const char *num(double v, char buf[32])
{
    if (!isfinite(v))
        return "null";
    snprintf(buf, 32, "%.6g", v);
    return buf;
}

/* ---- the models ------------------------------------------------------------ */

typedef struct model {
    cap_graph g;
    char name[CAP_NAME_MAX];
} model;

static model models[MAX_MODELS];
static int nmodels;

static int load_models(const opts *o, ut_err *err)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", o->models);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (nmodels == MAX_MODELS)
            return ut_errf(err, "--models: at most %d", MAX_MODELS);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", o->models_dir, t);
        if (cap_graph_load(path, &models[nmodels].g, err) < 0)
            return -1;
        snprintf(models[nmodels].name, CAP_NAME_MAX, "%s", t);
        nmodels++;
    }
    return 0;
}

static model *find_model(const char *name)
{
    for (int i = 0; i < nmodels; i++)
        if (!strcmp(models[i].name, name))
            return &models[i];
    return NULL;
}

/* ---- timing --------------------------------------------------------------- */

typedef struct lat_stats {
    int iters;
    double mean, p50, p99, std, gpu_mean, t0, t1;
} lat_stats;

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats_of(double *v, int n, lat_stats *s)
{
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    s->iters = n;
    s->mean = n ? sum / n : NAN;
    for (int i = 0; i < n; i++)
        sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->std = n > 1 ? sqrt(sq / (n - 1)) : 0;
    qsort(v, (size_t)n, sizeof *v, dcmp);
    s->p50 = n ? v[(n - 1) / 2] : NAN;
    int k = (int)ceil(0.99 * n) - 1;
    s->p99 = n ? v[k < 0 ? 0 : k] : NAN;
}

#define MAX_ITERS 4000

/* Back-to-back inferences: `warm` untimed, then until min_iters and
 * min_s are both reached (at most MAX_ITERS, at most max_s). Latency is
 * host wall time from enqueue to completion. */
static int time_runner(cap_runner *r, int batch, int warm, int min_iters,
                       double min_s, double max_s, lat_stats *s, ut_err *err)
{
    static __thread double v[MAX_ITERS];
    double gsum = 0;
    if (cap_runner_prepare(r, batch, err) < 0)
        return -1;
    for (int i = 0; i < warm; i++)
        if (cap_runner_enqueue(r, batch, err) < 0 ||
            cap_runner_wait(r, NULL, err) < 0)
            return -1;
    int n = 0;
    double start = cap_now();
    s->t0 = start;
    for (;;) {
        double t0 = cap_now(), g;
        if (cap_runner_enqueue(r, batch, err) < 0 ||
            cap_runner_wait(r, &g, err) < 0)
            return -1;
        double t1 = cap_now();
        v[n++] = (t1 - t0) * 1e3;
        gsum += g;
        double el = t1 - start;
        if (n >= MAX_ITERS || el >= max_s ||
            (n >= min_iters && el >= min_s))
            break;
    }
    s->t1 = cap_now();
    stats_of(v, n, s);
    s->gpu_mean = gsum / n;
    return 0;
}

/* ---- the campaign ------------------------------------------------------- */

static cap_gpu_info gpu;
static cap_nvml *nvml;
static double tscale = 1.0;     /* --quick shortens every window */

/* Mean power and clock over a timed window; returns the samples in it. */
static int window(const lat_stats *s, double *p, double *c)
{
    int n = 0;
    *p = *c = NAN;
    if (nvml)
        cap_nvml_window(nvml, s->t0, s->t1, p, c, &n);
    return n;
}

static double share_of(int sms) { return 100.0 * sms / gpu.sm_count; }

static int step_meta(const opts *o, ut_err *err)
{
    char ver[512], drv[64] = "unknown", tbuf[64], host[128] = "?";
    double cap = 0, maxclk = 0;
    cap_runner_versions(ver, sizeof ver);
    if (nvml)
        cap_nvml_limits(nvml, &cap, &maxclk, drv, sizeof drv);
    gpu.power_cap_w = cap;
    gpu.max_clock_mhz = maxclk;
    time_t now = time(NULL);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof host);
    emit("{\"kind\":\"meta\",\"tool\":\"igniter-capture %s\",\"time\":\"%s\","
         "\"host\":\"%s\",\"gpu\":\"%s\",\"sm_count\":%d,"
         "\"min_partition_sms\":%d,\"partition_align_sms\":%d,"
         "\"partition_sms\":%d,"
         "\"mem_bytes\":%zu,\"l2_bytes\":%zu,\"driver\":\"%s\","
         "\"max_clock_mhz\":%g,\"power_cap_w\":%g,\"seed\":%d,"
         "\"quick\":%d,\"mechanism\":\"green\",\"hw_queues\":\"%s\",%s}",
         IGNITER_VERSION, tbuf, host, gpu.name, gpu.sm_count,
         gpu.min_partition_sms, gpu.partition_align_sms, gpu.partition_sms,
         gpu.mem_bytes,
         gpu.l2_bytes, drv, maxclk, cap, o->seed, o->quick,
         getenv("CUDA_DEVICE_MAX_CONNECTIONS") ? getenv(
             "CUDA_DEVICE_MAX_CONNECTIONS") : "default", ver);
    (void)err;
    return 0;
}

static int step_idle_pcie(ut_err *err)
{
    if (nvml) {
        /* the GPU has nothing to do: 20 direct readings over 1 s */
        struct timespec ts = {0, 50000000};
        double p = 0, c = 0;
        int n = 0;
        for (int i = 0; i < 20; i++) {
            double pi, ci;
            ut_err e;
            if (cap_nvml_read(nvml, &pi, &ci, &e) == 0)
                p += pi, c += ci, n++;
            nanosleep(&ts, NULL);
        }
        p = n ? p / n : NAN;
        c = n ? c / n : NAN;
        char b1[32], b2[32];
        emit("{\"kind\":\"idle\",\"power_w\":%s,\"clock_mhz\":%s,"
             "\"samples\":%d}", num(p, b1), num(c, b2), n);
    }
    size_t bytes = (size_t)64 << 20;
    void *h, *d;
    if (cudaMallocHost(&h, bytes) != cudaSuccess ||
        cudaMalloc(&d, bytes) != cudaSuccess)
        return ut_errf(err, "pcie: cannot allocate 64 MiB");
    memset(h, 1, bytes);
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    float best[2] = {1e30f, 1e30f};
    for (int rep = 0; rep < 10; rep++)
        for (int dir = 0; dir < 2; dir++) {
            float ms;
            cudaEventRecord(e0, 0);
            if (dir == 0)
                cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, 0);
            else
                cudaMemcpyAsync(h, d, bytes, cudaMemcpyDeviceToHost, 0);
            cudaEventRecord(e1, 0);
            cudaEventSynchronize(e1);
            cudaEventElapsedTime(&ms, e0, e1);
            if (ms < best[dir])
                best[dir] = ms;
        }
    emit("{\"kind\":\"pcie\",\"bytes\":%zu,\"h2d_ms\":%.5f,\"d2h_ms\":%.5f,"
         "\"h2d_bytes_per_ms\":%.6g,\"d2h_bytes_per_ms\":%.6g}",
         bytes, best[0], best[1], bytes / best[0], bytes / best[1]);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFreeHost(h);
    cudaFree(d);
    return 0;
}

static int new_runner(const model *m, int max_batch, cap_runner **r,
                      ut_err *err)
{
    cap_runner_opts ro;
    cap_runner_defaults(&ro);
    ro.max_batch = max_batch;
    return cap_runner_new(&m->g, &ro, r, err);
}

static int step_models(ut_err *err)
{
    for (int i = 0; i < nmodels; i++) {
        cap_runner *r;
        if (new_runner(&models[i], 1, &r, err) < 0)
            return -1;
        emit("{\"kind\":\"model\",\"model\":\"%s\",\"params\":%ld,"
             "\"gflops\":%.4f,\"input_bytes\":%zu,\"output_bytes\":%zu,"
             "\"layers\":%zu,\"precision\":\"%s\"}",
             models[i].name, models[i].g.params, models[i].g.flops / 1e9,
             cap_runner_input_bytes(r), cap_runner_output_bytes(r),
             models[i].g.n, cap_runner_precision());
        cap_runner_free(r);
    }
    return 0;
}

/* The heaviest kernels by name, ms per inference, as a JSON array. */
#define TOP_KERNELS 6
static void top_kernels(const cap_kernel_rec *k, size_t n, int iters,
                        ut_buf *b)
{
    struct agg {
        char name[64];
        double ms;
        int count;
    } *a = (struct agg *)ut_xcalloc(n ? n : 1, sizeof *a);
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < na && strcmp(a[j].name, k[i].name))
            j++;
        if (j == na)
            snprintf(a[na++].name, sizeof a[0].name, "%s", k[i].name);
        a[j].ms += k[i].end_ms - k[i].start_ms;
        a[j].count++;
    }
    ut_buf_printf(b, "[");
    for (int t = 0; t < TOP_KERNELS && na; t++) {
        size_t best = 0;
        for (size_t j = 1; j < na; j++)
            if (a[j].ms > a[best].ms)
                best = j;
        if (a[best].ms < 0)
            break;
        ut_buf_printf(b, "%s{\"name\":", t ? "," : "");
        ut_buf_json_str(b, a[best].name);
        ut_buf_printf(b, ",\"ms\":%.5f,\"per_inference\":%.2f}",
                      a[best].ms / iters, (double)a[best].count / iters);
        a[best].ms = -1;
    }
    ut_buf_printf(b, "]");
    free(a);
}

static int kstats_of(cap_runner *r, const cap_kernel_rec *k, size_t n,
                     int iters, cap_kstats *ks, ut_buf *top, ut_err *err)
{
    unsigned sid;
    if (cap_cupti_stream_id(cap_runner_stream(r), &sid, err) < 0)
        return -1;
    cap_kernel_rec *mine = (cap_kernel_rec *)ut_xmalloc((n ? n : 1) *
                                                        sizeof *mine);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (k[i].stream == sid)
            mine[m++] = k[i];
    int rc = cap_kernel_stats(mine, m, iters, ks, err);
    if (rc == 0 && top)
        top_kernels(mine, m, iters, top);
    free(mine);
    return rc;
}

/* Latency with nothing, with NVML sampling, with CUPTI records. The modes
 * alternate, 5 rounds; each figure is the median over rounds of a round's
 * median latency, which a slow spell of the host (seen on the lent
 * machines) moves less than a mean. */
static int step_overhead(ut_err *err)
{
    enum { MODES = 3, REPS = 5 };
    int batches[] = {1, 8};
    for (int i = 0; i < nmodels && !stop_flag; i++) {
        cap_runner *r;
        if (new_runner(&models[i], 8, &r, err) < 0)
            return -1;
        for (int bi = 0; bi < 2; bi++) {
            int b = batches[bi];
            double v[MODES][REPS], med[MODES];
            for (int rep = 0; rep < REPS; rep++)
                for (int mode = 0; mode < MODES; mode++) {
                    lat_stats s;
                    if (mode == 1 && nvml && cap_nvml_start(nvml, 20, err) < 0)
                        return -1;
                    if (mode == 2 && cap_cupti_start(err) < 0)
                        return -1;
                    if (time_runner(r, b, 3, 50, 0.3 * tscale, 3, &s,
                                    err) < 0)
                        return -1;
                    if (mode == 2) {
                        cap_kernel_rec *k;
                        size_t n;
                        if (cap_cupti_stop(&k, &n, err) < 0)
                            return -1;
                        free(k);
                    }
                    v[mode][rep] = s.p50;
                    if (mode == 1 && nvml)
                        cap_nvml_close(nvml), nvml = NULL,
                            cap_nvml_open(&nvml, err);
                }
            for (int mode = 0; mode < MODES; mode++) {
                qsort(v[mode], REPS, sizeof v[mode][0], dcmp);
                med[mode] = v[mode][REPS / 2];
            }
            emit("{\"kind\":\"overhead\",\"model\":\"%s\",\"batch\":%d,"
                 "\"rounds\":%d,\"plain_ms\":%.5f,\"nvml_ms\":%.5f,"
                 "\"cupti_ms\":%.5f,\"nvml_pct\":%.3f,\"cupti_pct\":%.3f}",
                 models[i].name, b, REPS, med[0], med[1], med[2],
                 100 * (med[1] / med[0] - 1), 100 * (med[2] / med[0] - 1));
        }
        cap_runner_free(r);
    }
    return 0;
}

/* iters back-to-back inferences at batch b (at most 64); *ms: the median
 * of their GPU times (events around the launch). */
static int median_gpu_ms(cap_runner *r, int b, int iters, double *ms,
                         ut_err *err)
{
    double g[64];
    for (int it = 0; it < iters; it++)
        if (cap_runner_enqueue(r, b, err) < 0 ||
            cap_runner_wait(r, &g[it], err) < 0)
            return -1;
    qsort(g, (size_t)iters, sizeof *g, dcmp);
    *ms = g[iters / 2];
    return 0;
}

static int step_kernels(ut_err *err)
{
    int batches[] = {1, 8, 32};
    for (int i = 0; i < nmodels && !stop_flag; i++) {
        cap_runner *r;
        if (new_runner(&models[i], 32, &r, err) < 0)
            return -1;
        for (int bi = 0; bi < 3; bi++) {
            int b = batches[bi], iters = 20;
            /* GPU time (events around the launch) without CUPTI and with
             * it, beside the kernels' span: whether tracing stretches the
             * kernels' timeline or only adds time around it */
            double gp, gc;
            if (cap_runner_prepare(r, b, err) < 0 ||
                median_gpu_ms(r, b, iters, &gp, err) < 0 ||
                cap_cupti_start(err) < 0 ||
                median_gpu_ms(r, b, iters, &gc, err) < 0)
                return -1;
            cap_kernel_rec *k;
            size_t n;
            if (cap_cupti_stop(&k, &n, err) < 0)
                return -1;
            cap_kstats ks;
            ut_buf top = {NULL, 0, 0};
            int rc = kstats_of(r, k, n, iters, &ks, &top, err);
            free(k);
            if (rc < 0) {
                ut_buf_free(&top);
                return ut_errprefix(err, "kernels of %s batch %d",
                                    models[i].name, b);
            }
            emit("{\"kind\":\"kernels\",\"model\":\"%s\",\"batch\":%d,"
                 "\"sms\":%d,\"iters\":%d,\"kernels\":%d,\"active_ms\":%.6f,"
                 "\"idle_ms\":%.6f,\"idle_per_kernel_ms\":%.7f,"
                 "\"gpu_plain_ms\":%.6f,\"gpu_cupti_ms\":%.6f,"
                 "\"span_vs_plain_pct\":%.3f,\"top\":%s}",
                 models[i].name, b, gpu.sm_count, iters, ks.kernels,
                 ks.active_ms, ks.idle_ms, ks.idle_per_kernel_ms,
                 gp, gc, 100 * ((ks.active_ms + ks.idle_ms) / gp - 1),
                 top.s);
            ut_buf_free(&top);
        }
        cap_runner_free(r);
    }
    return 0;
}

static void emit_solo(const char *mech, const char *name, int b, int sms,
                      const lat_stats *s)
{
    double p, c;
    char b1[32], b2[32];
    int ns = window(s, &p, &c);
    emit("{\"kind\":\"solo\",\"mech\":\"%s\",\"model\":\"%s\",\"batch\":%d,"
         "\"sms\":%d,\"share_pct\":%.4f,\"iters\":%d,\"mean_ms\":%.5f,"
         "\"p50_ms\":%.5f,\"p99_ms\":%.5f,\"std_ms\":%.5f,"
         "\"gpu_ms\":%.5f,\"power_w\":%s,\"clock_mhz\":%s,\"samples\":%d}",
         mech, name, b, sms, share_of(sms), s->iters, s->mean, s->p50,
         s->p99, s->std, s->gpu_mean, num(p, b1), num(c, b2), ns);
}

static int step_solo(const opts *o, const int *sms, int nsms,
                     const int *batches, int nb, ut_err *err)
{
    (void)o;
    for (int si = 0; si < nsms && !stop_flag; si++) {
        int want = sms[si] >= gpu.sm_count ? -1 : sms[si];
        cap_partition **p;
        if (cap_partitions_new(&want, 1, &p, err) < 0)
            return -1;
        if (cap_partition_use(p[0], err) < 0)
            return -1;
        int got = cap_partition_sms(p[0]);
        for (int i = 0; i < nmodels && !stop_flag; i++) {
            cap_runner *r;
            if (new_runner(&models[i], batches[nb - 1], &r, err) < 0)
                return -1;
            for (int bi = 0; bi < nb && !stop_flag; bi++) {
                lat_stats s;
                if (time_runner(r, batches[bi], 3, 30, 0.25 * tscale,
                                4 * tscale, &s, err) < 0)
                    return ut_errprefix(err, "solo %s batch %d on %d SMs",
                                        models[i].name, batches[bi], got);
                emit_solo("green", models[i].name, batches[bi], got, &s);
            }
            cap_runner_free(r);
        }
        cap_partitions_free(p, 1);
        fprintf(stderr, "solo: %d SMs done\n", got);
    }
    return 0;
}

/* ---- co-location: one thread per partition ----------------------------- */

typedef struct member {
    const model *m;
    int batch, sms_want, sms;
    int cupti;                   /* collect kernel stats */
    cap_partition *part;
    cap_runner *r;
    lat_stats s;
    cap_kstats ks;
    unsigned stream_id;
    ut_err err;
    int rc;
} member;

typedef struct corun {
    member mem[MAX_CO];
    int n;
    double warm_s, run_s;
    pthread_barrier_t bar;
} corun;

typedef struct targ {
    corun *c;
    int i;
} targ;

static void *co_thread(void *arg)
{
    targ *t = (targ *)arg;
    corun *c = t->c;
    member *m = &c->mem[t->i];
    ut_err *err = &m->err;
    m->rc = cap_partition_use(m->part, err);
    if (m->rc == 0)
        m->rc = new_runner(m->m, m->batch, &m->r, err);
    if (m->rc == 0)
        m->rc = cap_runner_prepare(m->r, m->batch, err);
    if (m->rc == 0)
        m->rc = cap_cupti_stream_id(cap_runner_stream(m->r), &m->stream_id,
                                    err);
    pthread_barrier_wait(&c->bar);
    if (m->rc == 0) {
        /* warm-up with the others running, then the timed window; keep
         * running until every thread's window has ended */
        double t_end = cap_now() + c->warm_s;
        while (m->rc == 0 && cap_now() < t_end)
            m->rc = cap_runner_enqueue(m->r, m->batch, err) < 0 ||
                            cap_runner_wait(m->r, NULL, err) < 0
                        ? -1
                        : 0;
        if (m->rc == 0)
            m->rc = time_runner(m->r, m->batch, 0, 5, c->run_s,
                                c->run_s * 4, &m->s, err);
    }
    pthread_barrier_wait(&c->bar);
    return NULL;
}

static int corun_go(corun *c, int cupti, cap_kernel_rec **krec, size_t *kn,
                    ut_err *err)
{
    int want[MAX_CO];
    for (int i = 0; i < c->n; i++)
        want[i] = c->mem[i].sms_want;
    cap_partition **p;
    if (cap_partitions_new(want, (size_t)c->n, &p, err) < 0)
        return -1;
    pthread_barrier_init(&c->bar, NULL, (unsigned)c->n);
    pthread_t th[MAX_CO];
    targ ta[MAX_CO];
    if (cupti && cap_cupti_start(err) < 0)
        return -1;
    for (int i = 0; i < c->n; i++) {
        c->mem[i].part = p[i];
        c->mem[i].sms = cap_partition_sms(p[i]);
        c->mem[i].r = NULL;
        ta[i] = (targ){c, i};
        pthread_create(&th[i], NULL, co_thread, &ta[i]);
    }
    for (int i = 0; i < c->n; i++)
        pthread_join(th[i], NULL);
    int rc = 0;
    if (cupti) {
        if (cap_cupti_stop(krec, kn, err) < 0)
            rc = -1;
    }
    for (int i = 0; i < c->n; i++) {
        if (c->mem[i].rc < 0 && rc == 0) {
            *err = c->mem[i].err;
            rc = -1;
        }
        if (c->mem[i].r) {
            cap_partition_use(p[i], err);
            cap_runner_free(c->mem[i].r);
        }
    }
    pthread_barrier_destroy(&c->bar);
    cap_partitions_free(p, (size_t)c->n);
    return rc;
}

static void emit_coloc(const corun *c, const char *set)
{
    double t0 = 0, t1 = 1e300;
    for (int i = 0; i < c->n; i++) {
        t0 = fmax(t0, c->mem[i].s.t0);
        t1 = fmin(t1, c->mem[i].s.t1);
    }
    double p = NAN, clk = NAN;
    int ns = 0;
    if (nvml && t1 > t0)
        cap_nvml_window(nvml, t0, t1, &p, &clk, &ns);
    char buf[4096], b1[32], b2[32];
    size_t len = 0;
    for (int i = 0; i < c->n; i++) {
        const member *m = &c->mem[i];
        len += (size_t)snprintf(
            buf + len, sizeof buf - len,
            "%s{\"model\":\"%s\",\"batch\":%d,\"sms\":%d,\"share_pct\":%.4f,"
            "\"iters\":%d,\"mean_ms\":%.5f,\"p50_ms\":%.5f,\"p99_ms\":%.5f,"
            "\"std_ms\":%.5f}",
            i ? "," : "", m->m->name, m->batch, m->sms, share_of(m->sms),
            m->s.iters, m->s.mean, m->s.p50, m->s.p99, m->s.std);
    }
    emit("{\"kind\":\"coloc\",\"mech\":\"green\",\"set\":\"%s\",\"n\":%d,"
         "\"members\":[%s],\"power_w\":%s,\"clock_mhz\":%s}",
         set, c->n, buf, num(p, b1), num(clk, b2));
}

/* splitmix64 for the seeded choice of combinations */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int rng_int(int n) { return (int)(rng_next() % (uint64_t)n); }

static int write_trace(const char *dir, const corun *c,
                       const cap_kernel_rec *k, size_t n, ut_err *err)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    for (int i = 0; i < c->n; i++)
        ut_buf_printf(&b, "%s{\"name\":\"thread_name\",\"ph\":\"M\","
                      "\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"%s b%d on "
                      "%d SMs\"}}", i ? "," : "", i, c->mem[i].m->name,
                      c->mem[i].batch, c->mem[i].sms);
    double t0 = n ? k[0].start_ms : 0;
    size_t shown = 0;
    for (size_t j = 0; j < n && shown < 200000; j++) {
        int tid = -1;
        for (int i = 0; i < c->n; i++)
            if (c->mem[i].stream_id == k[j].stream)
                tid = i;
        if (tid < 0)
            continue;
        ut_buf_printf(&b, ",{\"name\":");
        ut_buf_json_str(&b, k[j].name);
        ut_buf_printf(&b, ",\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,"
                      "\"dur\":%.3f}", tid, (k[j].start_ms - t0) * 1e3,
                      (k[j].end_ms - k[j].start_ms) * 1e3);
        shown++;
    }
    ut_buf_printf(&b, "]}\n");
    char path[512];
    snprintf(path, sizeof path, "%s/coloc-trace.json", dir);
    int rc = ut_write_atomic(path, b.s, b.len, err);
    ut_buf_free(&b);
    return rc;
}

static int step_coloc(const opts *o, int fit, int test, ut_err *err)
{
    int fit_b[] = {1, 8, 32};
    int fit_s[] = {32, 64, 96};
    int all_b[] = {1, 2, 4, 8, 16, 32};
    double run_s = 0.4 * tscale, warm_s = 0.1 * tscale;
    int done = 0;
    rng_state = (uint64_t)o->seed * 7919u + 17;
    /* 1. the fitting grid: every pair of distinct models, batches and
     * shares on a grid, the second model on the rest of the GPU */
    for (int a = 0; a < nmodels && fit && !stop_flag; a++)
        for (int bm = a + 1; bm < nmodels && !stop_flag; bm++)
            for (int i = 0; i < 3 && !stop_flag; i++)
                for (int j = 0; j < 3 && !stop_flag; j++)
                    for (int k = 0; k < 3 && !stop_flag; k++) {
                        if (o->quick && (i != j || k != 1))
                            continue;
                        corun c;
                        memset(&c, 0, sizeof c);
                        c.n = 2;
                        c.warm_s = warm_s;
                        c.run_s = run_s;
                        c.mem[0] = (member){&models[a], fit_b[i], fit_s[k]};
                        c.mem[1] = (member){&models[bm], fit_b[j], 0};
                        if (corun_go(&c, 0, NULL, NULL, err) < 0)
                            return -1;
                        emit_coloc(&c, "fit");
                        done++;
                    }
    if (fit)
        fprintf(stderr, "coloc: %d fitting pairs done\n", done);
    if (!test)
        return 0;
    /* 2. held out: drawn up front from the seed, never used for fitting:
     * pairs (a model may meet itself), then 3- and 4-way */
    int counts[3] = {o->quick ? 4 : 40, o->quick ? 2 : 16,
                     o->quick ? 2 : 16};
    for (int way = 2; way <= 4 && !stop_flag; way++)
        for (int t = 0; t < counts[way - 2] && !stop_flag; t++) {
            corun c;
            memset(&c, 0, sizeof c);
            c.n = way;
            c.warm_s = warm_s;
            c.run_s = run_s;
            int left = gpu.partition_sms / 8;   /* in groups of 8 SMs */
            for (int i = 0; i < way; i++) {
                int rest = way - 1 - i;
                int units = i == way - 1
                                ? 0
                                : 1 + rng_int(left - rest > 1
                                                  ? left - rest - 0
                                                  : 1);
                if (i < way - 1 && units > left - rest)
                    units = left - rest;
                left -= units;
                c.mem[i] = (member){&models[rng_int(nmodels)],
                                    all_b[rng_int(6)], units * 8};
            }
            int cupti = way == 3 && t == 0;
            cap_kernel_rec *k = NULL;
            size_t kn = 0;
            if (corun_go(&c, cupti, &k, &kn, err) < 0)
                return -1;
            emit_coloc(&c, "test");
            if (cupti) {
                if (write_trace(o->out, &c, k, kn, err) < 0)
                    return -1;
                free(k);
            }
        }
    fprintf(stderr, "coloc: held-out runs done\n");
    return 0;
}

/* Kernels per inference of model m at batch b on the whole GPU. */
static int kernels_per_inference(const model *m, int b, int *kpi,
                                 ut_err *err)
{
    cap_runner *r;
    if (new_runner(m, b, &r, err) < 0)
        return -1;
    int rc = cap_runner_prepare(r, b, err);
    if (rc == 0)
        rc = cap_cupti_start(err);
    for (int it = 0; it < 5 && rc == 0; it++)
        rc = cap_runner_enqueue(r, b, err) < 0 ||
                     cap_runner_wait(r, NULL, err) < 0
                 ? -1
                 : 0;
    cap_kernel_rec *k = NULL;
    size_t n = 0;
    if (rc == 0)
        rc = cap_cupti_stop(&k, &n, err);
    cap_kstats ks;
    if (rc == 0)
        rc = kstats_of(r, k, n, 5, &ks, NULL, err);
    free(k);
    cap_runner_free(r);
    *kpi = rc == 0 ? ks.kernels : 0;
    return rc;
}

/* Stats of the last whole inferences of member i's kernels in k. */
static int member_kstats(const corun *c, int i, const cap_kernel_rec *k,
                         size_t kn, int kpi, cap_kstats *ks, ut_err *err)
{
    cap_kernel_rec *mine =
        (cap_kernel_rec *)ut_xmalloc((kn ? kn : 1) * sizeof *mine);
    size_t m = 0;
    for (size_t j = 0; j < kn; j++)
        if (k[j].stream == c->mem[i].stream_id)
            mine[m++] = k[j];
    /* the timed inferences are the stream's last ones: only those count
     * (before them come the algorithm search, the eager run and the
     * warm-up, whose kernels differ) */
    size_t inf = m / (size_t)kpi;
    if (c->mem[i].s.iters > 0 && inf > (size_t)c->mem[i].s.iters)
        inf = (size_t)c->mem[i].s.iters;
    size_t whole = inf * (size_t)kpi;
    int rc = whole ? cap_kernel_stats(mine + (m - whole), whole,
                                      (int)(whole / (size_t)kpi), ks, err)
                   : ut_errf(err, "no whole inference among %zu kernel "
                             "records", m);
    free(mine);
    return rc;
}

/* batch 1 alone on half the GPU, then beside a copy of itself on the
 * other half: active time (CUPTI), power and clock. */
static int step_pair_self(ut_err *err)
{
    int half = gpu.partition_sms / 2 / 8 * 8;
    for (int i = 0; i < nmodels && !stop_flag; i++) {
        double act[2] = {NAN, NAN}, p = NAN, clk = NAN;
        int kpi;
        if (kernels_per_inference(&models[i], 1, &kpi, err) < 0)
            return -1;
        for (int n = 1; n <= 2; n++) {
            corun c;
            memset(&c, 0, sizeof c);
            c.n = n;
            c.warm_s = 0.1 * tscale;
            c.run_s = 0.4 * tscale;
            for (int k = 0; k < n; k++)
                c.mem[k] = (member){&models[i], 1, half};
            cap_kernel_rec *kr = NULL;
            size_t kn;
            if (corun_go(&c, 1, &kr, &kn, err) < 0)
                return -1;
            cap_kstats ks;
            int rc = member_kstats(&c, 0, kr, kn, kpi, &ks, err);
            free(kr);
            if (rc < 0)
                return ut_errprefix(err, "pair_self %s", models[i].name);
            act[n - 1] = ks.active_ms;
            if (n == 2)
                window(&c.mem[0].s, &p, &clk);
        }
        char b1[32], b2[32];
        emit("{\"kind\":\"pair_self\",\"model\":\"%s\",\"batch\":1,"
             "\"sms\":%d,\"kernels\":%d,\"active_solo_ms\":%.6f,"
             "\"active_pair_ms\":%.6f,\"power_w\":%s,\"clock_mhz\":%s}",
             models[i].name, half, kpi, act[0], act[1], num(p, b1),
             num(clk, b2));
    }
    return 0;
}

/* n = 1..5 co-located copies of VGG-19 (or the first model), each on
 * 1/n of the GPU: power, clock, idle time per kernel. */
static int step_copies(ut_err *err)
{
    model *m = find_model("vgg19");
    if (!m)
        m = &models[0];
    int kpi;
    if (kernels_per_inference(m, 16, &kpi, err) < 0)
        return -1;
    for (int n = 1; n <= 5 && !stop_flag; n++) {
        corun c;
        memset(&c, 0, sizeof c);
        c.n = n;
        c.warm_s = 0.5 * tscale;
        c.run_s = 1.0 * tscale;
        int each = gpu.partition_sms / n / 8 * 8;
        for (int k = 0; k < n; k++)
            c.mem[k] = (member){m, 16, n == 1 ? -1 : each};
        cap_kernel_rec *kr = NULL;
        size_t kn;
        if (corun_go(&c, 1, &kr, &kn, err) < 0)
            return -1;
        /* idle per kernel: mean over the copies */
        double idle = 0, mean = 0;
        int used = 0;
        for (int k = 0; k < n; k++) {
            cap_kstats ks;
            if (member_kstats(&c, k, kr, kn, kpi, &ks, err) == 0) {
                idle += ks.idle_per_kernel_ms;
                used++;
            }
            mean += c.mem[k].s.mean / n;
        }
        free(kr);
        lat_stats w = c.mem[0].s;
        double p, clk;
        window(&w, &p, &clk);
        char b1[32], b2[32], b3[32];
        emit("{\"kind\":\"copies\",\"model\":\"%s\",\"batch\":16,\"n\":%d,"
             "\"sms_each\":%d,\"power_w\":%s,\"clock_mhz\":%s,"
             "\"idle_per_kernel_ms\":%s,\"mean_ms\":%.5f}",
             m->name, n, c.mem[0].sms, num(p, b1), num(clk, b2),
             num(used ? idle / used : NAN, b3), mean);
    }
    return 0;
}

/* The time to give a workload a new share: a new green context, a new
 * runner (weights, buffers) and its graph, for the same model. */
static int step_reconfig(ut_err *err)
{
    model *m = find_model("resnet50");
    if (!m)
        m = &models[0];
    int from = 32, to = 64;
    for (int rep = 0; rep < 5 && !stop_flag; rep++) {
        int want = rep % 2 ? from : to;
        double t0 = cap_now();
        cap_partition **p;
        if (cap_partitions_new(&want, 1, &p, err) < 0 ||
            cap_partition_use(p[0], err) < 0)
            return -1;
        double t1 = cap_now();
        cap_runner *r;
        if (new_runner(m, 8, &r, err) < 0)
            return -1;
        double t2 = cap_now();
        if (cap_runner_prepare(r, 8, err) < 0 ||
            cap_runner_enqueue(r, 8, err) < 0 ||
            cap_runner_wait(r, NULL, err) < 0)
            return -1;
        double t3 = cap_now();
        cap_runner_free(r);
        cap_partitions_free(p, 1);
        double t4 = cap_now();
        emit("{\"kind\":\"reconfig\",\"mech\":\"green\",\"model\":\"%s\","
             "\"batch\":8,\"to_sms\":%d,\"context_ms\":%.3f,"
             "\"runner_ms\":%.3f,\"first_inference_ms\":%.3f,"
             "\"teardown_ms\":%.3f,\"total_ms\":%.3f}",
             m->name, want, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
             (t3 - t2) * 1e3, (t4 - t3) * 1e3, (t3 - t0) * 1e3);
    }
    return 0;
}

/* ---- L2 and DRAM through ncu, a child process --------------------------- */

static int step_l2(const opts *o, const char *self, ut_err *err)
{
    /* whole GPU at batch 1 and 32, batch 8 on 64 SMs, and batch 1 on the
     * half of pair_self (the pair's L2 in the profile) */
    int half = gpu.partition_sms / 2 / 8 * 8;
    int pts[][2] = {{1, -1}, {32, -1}, {8, 64}, {1, half}};
    for (int i = 0; i < nmodels && !stop_flag; i++)
        for (int k = 0; k < 4 && !stop_flag; k++) {
            int b = pts[k][0], sms = pts[k][1];
            char csv[512], cmd[2048];
            snprintf(csv, sizeof csv, "%s/ncu-%s-b%d-s%d.csv", o->out,
                     models[i].name, b, sms);
            snprintf(cmd, sizeof cmd,
                     "IGNITER_ALGO_CACHE=%s/cudnn-algos.txt "
                     "%s --csv --print-units base --profile-from-start off "
                     "--metrics "
                     "gpu__time_duration.sum,lts__t_sector_hit_rate.pct,"
                     "lts__t_sectors.avg.pct_of_peak_sustained_elapsed,"
                     "dram__throughput.avg.pct_of_peak_sustained_elapsed "
                     "%s infer --models-dir %s --model %s --batch %d "
                     "--iters 1 --sms %d --no-graphs > %s 2>%s.err",
                     o->out, o->ncu, self, o->models_dir, models[i].name, b,
                     sms, csv, csv);
            cap_child ch;
            const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
            if (cap_child_spawn((char *const *)argv, NULL, &ch, err) < 0)
                return -1;
            /* ncu replays every kernel for its counters: 10 to 20 s a
             * point on the H100; two minutes (the default) is plenty */
            int rc;
            if (cap_child_wait_timeout(&ch, o->ncu_timeout, &rc) == 1)
                rc = 124;
            if (stop_flag)
                break;
            if (rc != 0) {
                emit("{\"kind\":\"note\",\"step\":\"l2\",\"model\":\"%s\","
                     "\"batch\":%d,\"msg\":\"ncu exited %d (124: ended "
                     "after %d s)\"}",
                     models[i].name, b, rc, o->ncu_timeout);
                continue;
            }
            cap_ncu_summary s;
            if (cap_ncu_parse(csv, &s, err) < 0)
                return -1;
            int got = sms < 0 ? gpu.sm_count : sms;
            emit("{\"kind\":\"l2\",\"model\":\"%s\",\"batch\":%d,\"sms\":%d,"
                 "\"share_pct\":%.4f,\"kernels\":%d,\"gpu_ms\":%.5f,"
                 "\"l2_hit_pct\":%.3f,\"l2_util_pct\":%.3f,"
                 "\"dram_util_pct\":%.3f}",
                 models[i].name, b, got, share_of(got), s.kernels, s.time_ms,
                 s.l2_hit_pct, s.l2_util_pct, s.dram_util_pct);
            remove(csv);
            char e[600];
            snprintf(e, sizeof e, "%s.err", csv);
            remove(e);
        }
    return 0;
}

/* ---- verbs ---------------------------------------------------------------- */


/* One model on a partition (or, --sms beyond the GPU, all of it: the
 * primary context, which is what an MPS client gets, its share set by
 * CUDA_MPS_ACTIVE_THREAD_PERCENTAGE), one or several batches. --json: a
 * line per batch for the parent (`igniter-capture mps`); --start-at and
 * --seconds: wait for a common start, then time for that long, so that
 * co-located children overlap; --spawned-at: report the time from the
 * parent's spawn to the end of the first inference (an MPS
 * reconfiguration: a new client process). */
int cap_campaign_infer(const opts *o)
{
    ut_err err;
    /* the campaign's choices of cuDNN algorithm, so that its ncu children
     * (step l2) count the kernels its timed runs ran: cuDNN's own search
     * under ncu's replays picks others */
    const char *ac = getenv("IGNITER_ALGO_CACHE");
    if (cap_gpu_init(&gpu, &err) < 0 || load_models(o, &err) < 0 ||
        (ac && *ac && cap_algo_cache_load(ac, &err) < 0))
        return die(&err);
    int b[16];
    int nb = o->json ? parse_list(o->batches, b, 16) : 0;
    if (!o->json || nb == 0) {
        b[0] = o->batch;
        nb = 1;
    }
    int maxb = 1;
    for (int i = 0; i < nb; i++) {
        if (b[i] < 1 || b[i] > 32) {
            fprintf(stderr, "igniter-capture infer: batch: expected 1..32, "
                    "got %d\n", b[i]);
            return 2;
        }
        maxb = b[i] > maxb ? b[i] : maxb;
    }
    cap_partition **p;
    int want = o->sms >= gpu.sm_count || o->sms < 0 ? -1 : o->sms;
    if (cap_partitions_new(&want, 1, &p, &err) < 0 ||
        cap_partition_use(p[0], &err) < 0)
        return die(&err);
    cap_runner_opts ro;
    cap_runner_defaults(&ro);
    ro.max_batch = maxb;
    ro.graphs = o->graphs;
    cap_runner *r;
    if (cap_runner_new(&models[0].g, &ro, &r, &err) < 0)
        return die(&err);
    double startup_ms = NAN;
    for (int i = 0; i < nb && !stop_flag; i++) {
        /* the search for algorithms and the graph come first, outside the
         * profiled range: `ncu --profile-from-start off` (step l2) sees
         * the timed inferences only */
        lat_stats s;
        if (cap_runner_prepare(r, b[i], &err) < 0)
            return die(&err);
        if (i == 0 && o->spawned_at > 0) {
            if (cap_runner_enqueue(r, b[i], &err) < 0 ||
                cap_runner_wait(r, NULL, &err) < 0)
                return die(&err);
            startup_ms = (realtime() - o->spawned_at) * 1e3;
        }
        if (o->start_at > 0) {
            double wait = o->start_at - realtime();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait,
                                      (long)((wait - (time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        double min_s = o->seconds > 0 ? o->seconds : 0;
        cudaProfilerStart();
        int trc = time_runner(r, b[i], o->json ? 3 : 0, o->iters, min_s,
                              min_s > 0 ? 4 * min_s : 60, &s, &err);
        cudaProfilerStop();
        if (trc < 0)
            return die(&err);
        if (o->json) {
            char b1[32];
            printf("{\"model\":\"%s\",\"batch\":%d,\"sms\":%d,\"iters\":%d,"
                   "\"mean_ms\":%.5f,\"p50_ms\":%.5f,\"p99_ms\":%.5f,"
                   "\"std_ms\":%.5f,\"gpu_ms\":%.5f,\"startup_ms\":%s,"
                   "\"t0\":%.6f}\n", models[0].name, b[i],
                   cap_partition_sms(p[0]), s.iters, s.mean, s.p50, s.p99,
                   s.std, s.gpu_mean, num(startup_ms, b1),
                   realtime() - (cap_now() - s.t0));
            fflush(stdout);
        } else {
            printf("%s batch %d on %d SMs: mean %.4f ms, p50 %.4f, p99 %.4f "
                   "(%d iterations)\n", models[0].name, b[i],
                   cap_partition_sms(p[0]), s.mean, s.p50, s.p99, s.iters);
        }
    }
    cap_runner_free(r);
    cap_partitions_free(p, 1);
    return stop_flag ? 130 : 0;
}

/* ---- check: the runner computes the same thing every way it can --------- */

/* Largest |a - b| over the n values, relative to the largest |a|. */
static double rel_diff(const __half *a, const __half *b, size_t n,
                       int *finite)
{
    double dmax = 0, amax = 0;
    for (size_t i = 0; i < n; i++) {
        double x = __half2float(a[i]), y = __half2float(b[i]);
        if (!isfinite(x) || !isfinite(y))
            *finite = 0;
        dmax = fmax(dmax, fabs(x - y));
        amax = fmax(amax, fabs(x));
    }
    return amax > 0 ? dmax / amax : (dmax > 0 ? INFINITY : 0);
}

/* Runs model m at batch nb (graph or not; fast or reference path attn_ref,
 * as cap_runner_opts's) on a fresh runner whose requests all carry request
 * 0's input; copies the outputs into out. */
static int check_run(const model *m, int nb, int graphs, int attn_ref,
                     __half *out, size_t out_elems, ut_err *err)
{
    cap_runner_opts ro;
    cap_runner_defaults(&ro);
    ro.max_batch = nb;
    ro.graphs = graphs;
    ro.attn_ref = attn_ref;
    cap_runner *r;
    if (cap_runner_new(&m->g, &ro, &r, err) < 0)
        return -1;
    size_t ib = cap_runner_input_bytes(r);
    char *in = (char *)cap_runner_input_host(r);
    for (int j = 1; j < nb; j++)
        memcpy(in + (size_t)j * ib, in, ib);
    int rc = cap_runner_prepare(r, nb, err);
    if (rc == 0)
        rc = cap_runner_enqueue(r, nb, err);
    if (rc == 0)
        rc = cap_runner_wait(r, NULL, err);
    if (rc == 0)
        memcpy(out, cap_runner_output_host(r), out_elems * sizeof(__half));
    cap_runner_free(r);
    return rc;
}

/* A model with layers the fast path runs differently (encoders: attention
 * on the qkv layout and cuBLASLt GEMMs with fused bias, GELU and residual;
 * fully connected layers: cuBLASLt with fused bias and ReLU; convolutions:
 * cuDNN's fused bias and ReLU, the direct first-layer kernel; max pooling
 * 8 channels a thread): its outputs
 * at batch 4 (graphs) on the fast path against the unfused reference
 * (cap_runner_opts.attn_ref), whatever IGNITER_ATTN_REF says. FP16 rounds
 * differently on the two paths (scores padded or not, other GEMM kernels,
 * bias added before or after rounding the GEMM's output), so the bound is
 * max |fast - ref| <= 2e-2 max(1, max |ref|). Prints one line; returns 1
 * if it passed or the model has no such layer, 0 if not, -1 on an
 * error. */
static int check_attention(const model *m, size_t per, ut_err *err)
{
    int fused = 0;
    for (size_t i = 0; i < m->g.n; i++)
        fused |= m->g.l[i].op == CAP_ENCODER || m->g.l[i].op == CAP_FC ||
                 m->g.l[i].op == CAP_CONV || m->g.l[i].op == CAP_MAXPOOL;
    if (!fused)
        return 1;
    size_t n = 4 * per;
    __half *fast = (__half *)ut_xmalloc(n * sizeof(__half));
    __half *ref = (__half *)ut_xmalloc(n * sizeof(__half));
    int rc = check_run(m, 4, 1, 0, fast, n, err);
    if (rc == 0)
        rc = check_run(m, 4, 1, 1, ref, n, err);
    if (rc < 0) {
        free(fast), free(ref);
        return -1;
    }
    int finite = 1;
    double dmax = 0, rmax = 0;
    for (size_t i = 0; i < n; i++) {
        double a = __half2float(fast[i]), b = __half2float(ref[i]);
        if (!isfinite(a) || !isfinite(b))
            finite = 0;
        dmax = fmax(dmax, fabs(a - b));
        rmax = fmax(rmax, fabs(b));
    }
    double lim = 2e-2 * fmax(1, rmax);
    int ok = finite && dmax <= lim;
    printf("check %-9s %s: fused/ref: finite %d, max |diff| "
           "%.3g, max |ref| %.3g, limit %.3g\n", m->name,
           ok ? "ok  " : "FAIL", finite, dmax, rmax, lim);
    free(fast), free(ref);
    return ok;
}

/* `igniter-capture check`: for each model, the outputs are finite and not
 * all zero; the four requests of a batch of four identical inputs give the
 * same outputs; the CUDA graph gives what plain launches give; batch 1
 * gives what request 0 of the batch of four gives (other algorithms may
 * round differently: 5 % of the largest output); for a model with
 * encoders or fully connected layers, the fast path (fused attention and
 * GEMM epilogues) gives what the unfused reference gives
 * (check_attention). Exit 1 on a failure. */
int cap_campaign_check(const opts *o)
{
    ut_err err;
    if (cap_gpu_init(&gpu, &err) < 0 || load_models(o, &err) < 0)
        return die(&err);
    int bad = 0;
    for (int i = 0; i < nmodels && !stop_flag; i++) {
        const model *m = &models[i];
        size_t per = 0;   /* output elements per request */
        for (size_t k = 0; k < m->g.nout; k++)
            per += (size_t)cap_layer_size(&m->g.l[m->g.out[k]]);
        __half *g4 = (__half *)ut_xmalloc(4 * per * sizeof(__half));
        __half *e4 = (__half *)ut_xmalloc(4 * per * sizeof(__half));
        __half *g1 = (__half *)ut_xmalloc(per * sizeof(__half));
        if (check_run(m, 4, 1, -1, g4, 4 * per, &err) < 0 ||
            check_run(m, 4, 0, -1, e4, 4 * per, &err) < 0 ||
            check_run(m, 1, 1, -1, g1, per, &err) < 0) {
            fprintf(stderr, "check %s: %s\n", m->name, err.msg);
            bad++;
            free(g4), free(e4), free(g1);
            continue;
        }
        int finite = 1;
        double rows = 0, eager, one = 0, spread = 0;
        size_t off = 0;
        for (size_t k = 0; k < m->g.nout; k++) {
            size_t e = (size_t)cap_layer_size(&m->g.l[m->g.out[k]]);
            const __half *o4 = g4 + 4 * off;   /* output k, 4 requests */
            for (int j = 1; j < 4; j++)
                rows = fmax(rows, rel_diff(o4, o4 + j * e, e, &finite));
            one = fmax(one, rel_diff(o4, g1 + off, e, &finite));
            double lo = INFINITY, hi = -INFINITY;
            for (size_t q = 0; q < e; q++) {
                lo = fmin(lo, __half2float(o4[q]));
                hi = fmax(hi, __half2float(o4[q]));
            }
            spread = fmax(spread, hi - lo);
            off += e;
        }
        eager = rel_diff(g4, e4, 4 * per, &finite);
        int ok = finite && spread > 0 && rows <= 0.02 && eager <= 0.02 &&
                 one <= 0.05;
        printf("check %-9s %s: finite %d, spread %.3g, requests %.2e, "
               "graph/plain %.2e, batch 1/4 %.2e\n", m->name,
               ok ? "ok  " : "FAIL", finite, spread, rows, eager, one);
        bad += !ok;
        free(g4), free(e4), free(g1);
        int att = check_attention(m, per, &err);
        if (att < 0)
            fprintf(stderr, "check %s: fused/ref: %s\n", m->name, err.msg);
        bad += att != 1;
    }
    return bad ? 1 : 0;
}

/* ---- MPS: a daemon of our own, a client process per workload ------------- */

/* Spawns `self infer` for model m with the given MPS percentage; extra
 * arguments after the fixed ones. */
static int spawn_infer(const opts *o, const char *self, const char *m,
                       double pct, const char *batches, double start_at,
                       double seconds, double spawned_at, cap_child *c,
                       ut_err *err)
{
    char a_start[32], a_sec[32], a_sp[32], a_it[16], env0[64];
    snprintf(a_start, sizeof a_start, "%.3f", start_at);
    snprintf(a_sec, sizeof a_sec, "%.3f", seconds);
    snprintf(a_sp, sizeof a_sp, "%.6f", spawned_at);
    snprintf(a_it, sizeof a_it, "%d", o->quick ? 20 : 50);
    snprintf(env0, sizeof env0, "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=%g", pct);
    const char *env[] = {env0, NULL};
    const char *argv[] = {self, "infer", "--json", "--models-dir",
                          o->models_dir, "--model", m, "--batches", batches,
                          "--iters", a_it, "--sms", "1000", "--start-at",
                          a_start, "--seconds", a_sec, "--spawned-at", a_sp,
                          NULL};
    return cap_child_spawn((char *const *)argv, env, c, err);
}

/* Reads the child's JSON lines into recs (up to n), waits for it. */
static int collect(cap_child *c, cJSON **recs, int n, int *got, ut_err *err)
{
    char line[2048];
    *got = 0;
    while (fgets(line, sizeof line, c->out)) {
        cJSON *j = cJSON_Parse(line);
        if (j && *got < n)
            recs[(*got)++] = j;
        else
            cJSON_Delete(j);
    }
    int st;
    cap_child_wait(c, &st);
    if (st != 0)
        return ut_errf(err, "an MPS client exited %d%s", st,
                       stop_flag ? " (interrupted)" : "");
    return 0;
}

static double jnum(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void emit_member(ut_buf *b, const cJSON *j, double pct)
{
    ut_buf_printf(b, "{\"model\":");
    ut_buf_json_str(b, cJSON_GetObjectItemCaseSensitive(j, "model")
                           ? cJSON_GetObjectItemCaseSensitive(j, "model")
                                 ->valuestring
                           : "?");
    ut_buf_printf(b, ",\"batch\":%d,\"active_thread_pct\":%g,"
                  "\"share_pct\":%g,\"iters\":%d,\"mean_ms\":%.5f,"
                  "\"p50_ms\":%.5f,\"p99_ms\":%.5f,\"std_ms\":%.5f,"
                  "\"gpu_ms\":%.5f}", (int)jnum(j, "batch"), pct, pct,
                  (int)jnum(j, "iters"), jnum(j, "mean_ms"),
                  jnum(j, "p50_ms"), jnum(j, "p99_ms"), jnum(j, "std_ms"),
                  jnum(j, "gpu_ms"));
}

static int mps_steps(const opts *o, const char *self, ut_err *err)
{
    /* solo: every model at each percentage, every batch, one client each */
    static const double pct_full[] = {10, 25, 50, 75, 100};
    static const double pct_quick[] = {25, 100};
    const double *pct = o->quick ? pct_quick : pct_full;
    int npct = o->quick ? 2 : 5;
    const char *batches = o->quick ? "1,8" : "1,2,4,8,16,32";
    for (int i = 0; i < nmodels && !stop_flag; i++)
        for (int k = 0; k < npct && !stop_flag; k++) {
            cap_child c;
            if (spawn_infer(o, self, models[i].name, pct[k], batches, 0,
                            o->quick ? 0.1 : 0.25, 0, &c, err) < 0)
                return -1;
            cJSON *rec[16];
            int got;
            if (collect(&c, rec, 16, &got, err) < 0)
                return ut_errprefix(err, "MPS solo %s at %g %%",
                                    models[i].name, pct[k]);
            for (int r = 0; r < got; r++) {
                ut_buf b = {NULL, 0, 0};
                emit_member(&b, rec[r], pct[k]);
                emit("{\"kind\":\"solo\",\"mech\":\"mps\",%s", b.s + 1);
                ut_buf_free(&b);
                cJSON_Delete(rec[r]);
            }
        }
    fprintf(stderr, "mps: solo done\n");
    /* co-located: each pair of distinct models at batch 8, 50/50 and
     * 25/75, both clients timed over the same second */
    static const double split[][2] = {{50, 50}, {25, 75}};
    for (int a = 0; a < nmodels && !stop_flag; a++)
        for (int bm = a + 1; bm < nmodels && !stop_flag; bm++)
            for (int sp = 0; sp < (o->quick ? 1 : 2) && !stop_flag; sp++) {
                if (o->quick && bm != a + 1)
                    continue;
                /* clients take 2 to 4 s to start (CUDA, cuDNN, the search
                 * for algorithms): both wait for a common start */
                double at = realtime() + 8, sec = o->quick ? 0.3 : 1.0;
                cap_child c[2];
                if (spawn_infer(o, self, models[a].name, split[sp][0], "8",
                                at, sec, 0, &c[0], err) < 0)
                    return -1;
                if (spawn_infer(o, self, models[bm].name, split[sp][1], "8",
                                at, sec, 0, &c[1], err) < 0) {
                    cap_children_kill();
                    return -1;
                }
                cJSON *r0[2], *r1[2];
                int g0 = 0, g1 = 0;
                int rc0 = collect(&c[0], r0, 2, &g0, err);
                int rc1 = rc0 == 0 ? collect(&c[1], r1, 2, &g1, err) : -1;
                if (rc0 < 0 || rc1 < 0 || g0 < 1 || g1 < 1) {
                    cap_children_kill();
                    for (int q = 0; q < g0; q++)
                        cJSON_Delete(r0[q]);
                    for (int q = 0; q < g1; q++)
                        cJSON_Delete(r1[q]);
                    if (rc0 == 0 && rc1 == 0)
                        ut_errf(err, "an MPS client printed no result");
                    return ut_errprefix(err, "MPS pair %s/%s",
                                        models[a].name, models[bm].name);
                }
                ut_buf b = {NULL, 0, 0};
                emit_member(&b, r0[0], split[sp][0]);
                ut_buf_printf(&b, ",");
                emit_member(&b, r1[0], split[sp][1]);
                /* did the timed windows overlap? */
                double o0 = jnum(r0[0], "t0"), o1 = jnum(r1[0], "t0");
                emit("{\"kind\":\"coloc\",\"mech\":\"mps\",\"set\":\"mps\","
                     "\"n\":2,\"members\":[%s],\"start_skew_ms\":%.3f}",
                     b.s, fabs(o0 - o1) * 1e3);
                ut_buf_free(&b);
                cJSON_Delete(r0[0]);
                cJSON_Delete(r1[0]);
            }
    fprintf(stderr, "mps: pairs done\n");
    /* reconfiguration: a new client process at another percentage, from
     * spawn to the end of its first inference */
    model *m = find_model("resnet50");
    if (!m)
        m = &models[0];
    for (int rep = 0; rep < 4 && !stop_flag; rep++) {
        double p = rep % 2 ? 25 : 50;
        cap_child c;
        if (spawn_infer(o, self, m->name, p, "8", 0, 0.05, realtime(), &c,
                        err) < 0)
            return -1;
        cJSON *rec[2];
        int got;
        if (collect(&c, rec, 2, &got, err) < 0 || got < 1)
            return got < 1 ? ut_errf(err, "MPS reconfig: no result") : -1;
        emit("{\"kind\":\"reconfig\",\"mech\":\"mps\",\"model\":\"%s\","
             "\"batch\":8,\"to_pct\":%g,\"total_ms\":%.3f}", m->name, p,
             jnum(rec[0], "startup_ms"));
        cJSON_Delete(rec[0]);
    }
    return 0;
}

/* Opens DIR/raw.jsonl for appending (DIR made if missing) into `raw`;
 * 0, or the exit status after one line on stderr. */
static int open_raw(const opts *o, const char *verb)
{
    ut_err err;
    if (!o->out) {
        fprintf(stderr, "igniter-capture %s: --out DIR is required\n", verb);
        return 2;
    }
    if (ut_mkdir_p(o->out, &err) < 0)
        return die(&err);
    char path[600];
    snprintf(path, sizeof path, "%s/raw.jsonl", o->out);
    raw = fopen(path, "a");
    if (!raw) {
        fprintf(stderr, "igniter-capture: cannot open '%s': %s\n", path,
                strerror(errno));
        return 1;
    }
    return 0;
}

/* `igniter-capture mps --out DIR`: no CUDA in this process (an MPS
 * client must not share the GPU with a non-MPS context); appends to
 * DIR/raw.jsonl. The daemon is stopped and every client ended on
 * success, error and Ctrl-C. */
int cap_campaign_mps(const opts *o, const char *self)
{
    ut_err err;
    if (load_models(o, &err) < 0)
        return die(&err);
    int orc = open_raw(o, "mps");
    if (orc)
        return orc;
    if (cap_mps_start(&err) < 0) {
        fclose(raw);
        return die(&err);
    }
    fprintf(stderr, "mps: control daemon in %s\n", cap_mps_dir());
    double t0 = cap_now();
    int rc = mps_steps(o, self, &err);
    cap_children_kill();
    cap_mps_stop();
    ut_buf eb = {NULL, 0, 0};
    ut_buf_json_str(&eb, rc ? err.msg : "");
    emit("{\"kind\":\"step\",\"step\":\"mps\",\"seconds\":%.2f,\"ok\":%d,"
         "\"error\":%s}", cap_now() - t0, rc == 0 && !stop_flag, eb.s);
    ut_buf_free(&eb);
    emit("{\"kind\":\"end\",\"complete\":%s,\"failed_steps\":%d,"
         "\"seconds\":%.1f}", rc == 0 && !stop_flag ? "true" : "false",
         rc != 0, cap_now() - t0);
    fclose(raw);
    if (stop_flag)
        return 130;     /* whatever the interrupted client's error was */
    if (rc)
        return die(&err);
    return 0;
}

int cap_campaign_bench(const opts *o)
{
    ut_err err;
    int b[16];
    int nb = parse_list(o->batches, b, 16);
    if (cap_gpu_init(&gpu, &err) < 0 || load_models(o, &err) < 0)
        return die(&err);
    for (int i = 0; i < nmodels; i++)
        for (int g = 1; g >= 0; g--) {
            cap_runner_opts ro;
            cap_runner_defaults(&ro);
            ro.max_batch = b[nb - 1];
            ro.graphs = g;
            cap_runner *r;
            if (cap_runner_new(&models[i].g, &ro, &r, &err) < 0)
                return die(&err);
            for (int k = 0; k < nb; k++) {
                lat_stats s;
                if (time_runner(r, b[k], 5, o->iters, 0.3, 10, &s, &err) < 0)
                    return die(&err);
                printf("{\"model\":\"%s\",\"batch\":%d,\"graphs\":%d,"
                       "\"mean_ms\":%.5f,\"p50_ms\":%.5f,\"gpu_ms\":%.5f,"
                       "\"iters\":%d}\n", models[i].name, b[k], g, s.mean,
                       s.p50, s.gpu_mean, s.iters);
                fflush(stdout);
            }
            cap_runner_free(r);
        }
    return 0;
}

int cap_campaign_run(const opts *o, const char *self)
{
    ut_err err;
    int orc = open_raw(o, "run");
    if (orc)
        return orc;
    tscale = o->quick ? 0.3 : 1.0;
    /* cuDNN's choices of algorithm, kept in OUT between the calls of a
     * campaign run in parts, so that every part (and step l2's ncu
     * children) runs the same kernels for a model, batch and SM count:
     * cuDNN's search, timed anew, can pick another algorithm each time */
    char algos[1100];
    snprintf(algos, sizeof algos, "%s/cudnn-algos.txt", o->out);
    if (cap_gpu_init(&gpu, &err) < 0 || load_models(o, &err) < 0 ||
        cap_algo_cache_load(algos, &err) < 0)
        return die(&err);
    if (cap_nvml_open(&nvml, &err) < 0) {
        fprintf(stderr, "igniter-capture: no NVML (%s): power and clock "
                "are not recorded\n", err.msg);
        nvml = NULL;
    }
    cap_campaign_catch_stop();
    double t0 = cap_now();
    int failed = 0;
    /* A step that fails is recorded with its error and the campaign goes
     * on with the next one (each step's records stand alone); only a
     * failure of meta, which everything needs, ends it. */
#define STEP(name, call)                                                    \
    if (!stop_flag && has_step(o, name) && (failed == 0 ||                 \
                                             strcmp(name, "meta"))) {       \
        double ts_ = cap_now();                                             \
        int src_ = (call);                                                  \
        fprintf(stderr, "step %s: %.1f s%s%s\n", name, cap_now() - ts_,    \
                src_ ? " (failed) " : "", src_ ? err.msg : "");             \
        ut_buf eb_ = {NULL, 0, 0};                                          \
        ut_buf_json_str(&eb_, src_ ? err.msg : "");                         \
        emit("{\"kind\":\"step\",\"step\":\"%s\",\"seconds\":%.2f,"        \
             "\"ok\":%d,\"error\":%s}", name, cap_now() - ts_, src_ == 0,   \
             eb_.s);                                                        \
        ut_buf_free(&eb_);                                                  \
        if (cap_algo_cache_save(algos, &err) < 0)                           \
            fprintf(stderr, "igniter-capture: %s\n", err.msg);              \
        if (src_) {                                                         \
            failed++;                                                       \
            if (!strcmp(name, "meta"))                                      \
                stop_flag = 1;                                              \
        }                                                                   \
    }
    STEP("meta", step_meta(o, &err) < 0 || step_idle_pcie(&err) < 0 ||
                         step_models(&err) < 0 ? -1 : 0);
    STEP("overhead", step_overhead(&err));
    if (nvml && cap_nvml_start(nvml, 20, &err) < 0) {
        fprintf(stderr, "igniter-capture: %s: power and clock are not "
                "recorded\n", err.msg);
        cap_nvml_close(nvml);
        nvml = NULL;
    }
    STEP("kernels", step_kernels(&err));
    {
        int pm = gpu.partition_sms;
        int sms_full[] = {8, 16, 32, 48, 64, 96, pm, 1000};
        int sms_quick[] = {16, 64, 1000};
        int b[16];
        int nb = parse_list(o->quick ? "1,8" : o->batches, b, 16);
        STEP("solo", o->quick ? step_solo(o, sms_quick, 3, b, nb, &err)
                              : step_solo(o, sms_full, 8, b, nb, &err));
    }
    STEP("pair_self", step_pair_self(&err));
    STEP("reconfig", step_reconfig(&err));
    STEP("coloc", step_coloc(o, 1, 0, &err));
    STEP("copies", step_copies(&err));
    STEP("heldout", step_coloc(o, 0, 1, &err));
    if (nvml) {
        cap_nvml_close(nvml);
        nvml = NULL;
    }
    STEP("l2", step_l2(o, self, &err));
#undef STEP
    int interrupted = stop_flag && failed == 0;
    emit("{\"kind\":\"end\",\"complete\":%s,\"failed_steps\":%d,"
         "\"seconds\":%.1f}", !stop_flag && failed == 0 ? "true" : "false",
         failed, cap_now() - t0);
    fclose(raw);
    if (failed) {
        fprintf(stderr, "igniter-capture: %d step(s) failed (see the step "
                "records of %s/raw.jsonl)\n", failed, o->out);
        return 1;
    }
    return interrupted ? 130 : 0;
}

void cap_campaign_catch_crash(void)
{
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGABRT, on_crash);
}
