/*
 * campaign.cu - the measurement campaign of `igniter-capture` (the CLI,
 * cli/igniter_capture.cu, parses the options, calls these and turns what
 * they return into the exit status): the context every step shares, the
 * steps of `run` (meta, overhead, kernels, solo, reconfig, l2; the
 * co-location steps are campaign_coloc.cu's) on the runner (runner.cu),
 * the partitions and probes (gpu.cu) and the child processes (mps.c).
 * The other verbs: campaign_check.cu (infer, check, bench) and
 * campaign_mps.cu. Raw records: capture.h, "raw records" (record.c).
 *
 * Every record is written and flushed as soon as it is measured; Ctrl-C
 * stops after the point in progress, writes {"kind":"end","complete":
 * false} and returns CAP_CAMPAIGN_INTERRUPTED, so finished points are
 * kept.
 */
#include "capture/campaign_int.h"

#include <cuda_runtime.h>
#include <errno.h>
#include <execinfo.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- Ctrl-C and crashes ----------------------------------------------------- */

/* The one piece of state outside the context: a signal handler cannot be
 * given one, and sig_atomic_t is all it may safely write. */
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
    static const int stop_signals[2] = {SIGINT, SIGTERM};
    ut_catch_signals(stop_signals, 2, on_sigint, NULL);
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

void cap_campaign_catch_crash(void)
{
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGABRT, on_crash);
}

/* ---- the context ------------------------------------------------------------ */

void cg_init(cg_ctx *c, const cap_campaign_opts *o, const char *self)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    c->self = self;
    c->tscale = 1.0;
}

void cg_free(cg_ctx *c)
{
    for (int i = 0; i < c->nmodels; i++)
        cap_graph_free(&c->models[i].g);
    c->nmodels = 0;
    if (c->nvml)
        cap_nvml_close(c->nvml);
    c->nvml = NULL;
    if (c->raw)
        fclose(c->raw);
    c->raw = NULL;
}

int cg_stopped(const cg_ctx *c)
{
    return stop_flag || c->stop;
}

double cg_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cg_parse_list(const char *s, int *v, int max)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok(buf, ","); t && n < max; t = strtok(NULL, ","))
        v[n++] = atoi(t);
    return n;
}

static int has_step(const cap_campaign_opts *o, const char *step)
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

int cg_load_models(cg_ctx *c, ut_err *err)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", c->o->models);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (c->nmodels == CG_MAX_MODELS)
            return ut_errf(err, "--models: at most %d", CG_MAX_MODELS);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.json", c->o->models_dir, t);
        cg_model *m = &c->models[c->nmodels];
        if (cap_graph_load(path, &m->g, err) < 0)
            return -1;
        snprintf(m->name, CAP_NAME_MAX, "%s", t);
        c->nmodels++;
    }
    return 0;
}

cg_model *cg_find_model(cg_ctx *c, const char *name)
{
    for (int i = 0; i < c->nmodels; i++)
        if (!strcmp(c->models[i].name, name))
            return &c->models[i];
    return NULL;
}

int cg_new_runner(const cg_model *m, int max_batch, cap_runner **r,
                  ut_err *err)
{
    cap_runner_opts ro;
    cap_runner_defaults(&ro);
    ro.max_batch = max_batch;
    return cap_runner_new(&m->g, &ro, r, err);
}

/* ---- output ----------------------------------------------------------------- */

int cg_open_raw(cg_ctx *c, ut_err *err)
{
    if (ut_mkdir_p(c->o->out, err) < 0)
        return -1;
    char path[600];
    snprintf(path, sizeof path, "%s/raw.jsonl", c->o->out);
    c->raw = fopen(path, "a");
    if (!c->raw)
        return ut_errf(err, "cannot open '%s': %s", path, strerror(errno));
    return 0;
}

void cg_emit(cg_ctx *c, const cap_rec *r)
{
    ut_buf b = {NULL, 0, 0};
    cap_rec_write(r, &b);
    fputs(b.s, c->raw);
    fflush(c->raw);
    ut_buf_free(&b);
}

void cg_emit_step(cg_ctx *c, const char *step, double seconds, int ok,
                  const char *error)
{
    cap_rec r;
    cap_rec_init(&r, CAP_REC_STEP);
    cap_rec_set_str(&r, "step", step);
    cap_rec_set(&r, "seconds", seconds);
    cap_rec_set(&r, "ok", ok);
    cap_rec_set_str(&r, "error", error);
    cg_emit(c, &r);
}

void cg_emit_end(cg_ctx *c, int complete, int failed_steps, double seconds)
{
    cap_rec r;
    cap_rec_init(&r, CAP_REC_END);
    cap_rec_set(&r, "complete", complete);
    cap_rec_set(&r, "failed_steps", failed_steps);
    cap_rec_set(&r, "seconds", seconds);
    cg_emit(c, &r);
}

/* ---- timing ----------------------------------------------------------------- */

int cg_dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats_of(double *v, int n, cg_lat *s)
{
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    s->iters = n;
    s->mean = n ? sum / n : NAN;
    for (int i = 0; i < n; i++)
        sq += (v[i] - s->mean) * (v[i] - s->mean);
    s->std = n > 1 ? sqrt(sq / (n - 1)) : 0;
    qsort(v, (size_t)n, sizeof *v, cg_dcmp);
    s->p50 = n ? v[(n - 1) / 2] : NAN;
    int k = (int)ceil(0.99 * n) - 1;
    s->p99 = n ? v[k < 0 ? 0 : k] : NAN;
    cap_rec_quantiles(v, n, s->q);
}

/* The latencies go to the heap, allocated before the first timed
 * inference: 32 KiB, and co-location runs this on threads of its own. */
int cg_time_runner(cap_runner *r, int batch, int warm, int min_iters,
                   double min_s, double max_s, cg_lat *s, ut_err *err)
{
    double gsum = 0;
    if (cap_runner_prepare(r, batch, err) < 0)
        return -1;
    for (int i = 0; i < warm; i++)
        if (cap_runner_enqueue(r, batch, err) < 0 ||
            cap_runner_wait(r, NULL, err) < 0)
            return -1;
    double *v = (double *)ut_xmalloc(CG_MAX_ITERS * sizeof *v);
    int n = 0;
    double start = cap_now();
    s->t0 = start;
    for (;;) {
        double t0 = cap_now(), g;
        if (cap_runner_enqueue(r, batch, err) < 0 ||
            cap_runner_wait(r, &g, err) < 0) {
            free(v);
            return -1;
        }
        double t1 = cap_now();
        v[n++] = (t1 - t0) * 1e3;
        gsum += g;
        double el = t1 - start;
        if (n >= CG_MAX_ITERS || el >= max_s ||
            (n >= min_iters && el >= min_s))
            break;
    }
    s->t1 = cap_now();
    stats_of(v, n, s);
    s->gpu_mean = gsum / n;
    free(v);
    return 0;
}

int cg_window(const cg_ctx *c, const cg_lat *s, double *p, double *clk)
{
    int n = 0;
    *p = *clk = NAN;
    if (c->nvml)
        cap_nvml_window(c->nvml, s->t0, s->t1, p, clk, &n);
    return n;
}

double cg_share_of(const cg_ctx *c, int sms)
{
    return 100.0 * sms / c->gpu.sm_count;
}

/* ---- the steps of `run` ------------------------------------------------------- */

static int step_meta(cg_ctx *c, ut_err *err)
{
    char ver[512], drv[64] = "unknown", tbuf[64], host[128] = "?";
    double cap = 0, maxclk = 0;
    cap_runner_versions(ver, sizeof ver);
    if (c->nvml)
        cap_nvml_limits(c->nvml, &cap, &maxclk, drv, sizeof drv);
    c->gpu.power_cap_w = cap;
    c->gpu.max_clock_mhz = maxclk;
    time_t now = time(NULL);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    gethostname(host, sizeof host);
    const char *hwq = getenv("CUDA_DEVICE_MAX_CONNECTIONS");
    cap_rec r;
    cap_rec_init(&r, CAP_REC_META);
    cap_rec_set_str(&r, "tool", "igniter-capture " IGNITER_VERSION);
    cap_rec_set_str(&r, "time", tbuf);
    cap_rec_set_str(&r, "host", host);
    cap_rec_set_str(&r, "gpu", c->gpu.name);
    cap_rec_set(&r, "sm_count", c->gpu.sm_count);
    cap_rec_set(&r, "min_partition_sms", c->gpu.min_partition_sms);
    cap_rec_set(&r, "partition_align_sms", c->gpu.partition_align_sms);
    cap_rec_set(&r, "partition_sms", c->gpu.partition_sms);
    cap_rec_set(&r, "mem_bytes", (double)c->gpu.mem_bytes);
    cap_rec_set(&r, "l2_bytes", (double)c->gpu.l2_bytes);
    cap_rec_set_str(&r, "driver", drv);
    cap_rec_set(&r, "max_clock_mhz", maxclk);
    cap_rec_set(&r, "power_cap_w", cap);
    cap_rec_set(&r, "seed", c->o->seed);
    cap_rec_set(&r, "quick", c->o->quick);
    cap_rec_set_str(&r, "mechanism", "green");
    cap_rec_set_str(&r, "hw_queues", hwq ? hwq : "default");
    cap_rec_set_str(&r, "versions", ver);
    cg_emit(c, &r);
    (void)err;
    return 0;
}

static int step_idle_pcie(cg_ctx *c, ut_err *err)
{
    cap_rec r;
    if (c->nvml) {
        /* the GPU has nothing to do: 20 direct readings over 1 s */
        struct timespec ts = {0, 50000000};
        double p = 0, clk = 0;
        int n = 0;
        for (int i = 0; i < 20; i++) {
            double pi, ci;
            ut_err e;
            if (cap_nvml_read(c->nvml, &pi, &ci, &e) == 0)
                p += pi, clk += ci, n++;
            nanosleep(&ts, NULL);
        }
        cap_rec_init(&r, CAP_REC_IDLE);
        cap_rec_set(&r, "power_w", n ? p / n : NAN);
        cap_rec_set(&r, "clock_mhz", n ? clk / n : NAN);
        cap_rec_set(&r, "samples", n);
        cg_emit(c, &r);
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
    cap_rec_init(&r, CAP_REC_PCIE);
    cap_rec_set(&r, "bytes", (double)bytes);
    cap_rec_set(&r, "h2d_ms", best[0]);
    cap_rec_set(&r, "d2h_ms", best[1]);
    /* in float, as it always was: the bytes over a float time */
    cap_rec_set(&r, "h2d_bytes_per_ms", bytes / best[0]);
    cap_rec_set(&r, "d2h_bytes_per_ms", bytes / best[1]);
    cg_emit(c, &r);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaFreeHost(h);
    cudaFree(d);
    return 0;
}

static int step_models(cg_ctx *c, ut_err *err)
{
    for (int i = 0; i < c->nmodels; i++) {
        const cg_model *m = &c->models[i];
        cap_runner *run;
        if (cg_new_runner(m, 1, &run, err) < 0)
            return -1;
        cap_rec r;
        cap_rec_init(&r, CAP_REC_MODEL);
        cap_rec_set_str(&r, "model", m->name);
        cap_rec_set(&r, "params", (double)m->g.params);
        cap_rec_set(&r, "gflops", m->g.flops / 1e9);
        cap_rec_set(&r, "input_bytes", (double)cap_runner_input_bytes(run));
        cap_rec_set(&r, "output_bytes",
                    (double)cap_runner_output_bytes(run));
        cap_rec_set(&r, "layers", (double)m->g.n);
        cap_rec_set_str(&r, "precision", cap_runner_precision());
        cg_emit(c, &r);
        cap_runner_free(run);
    }
    return 0;
}

/* meta: what the GPU and the software are, idle power, PCIe, the models. */
static int step_meta_all(cg_ctx *c, ut_err *err)
{
    return step_meta(c, err) < 0 || step_idle_pcie(c, err) < 0 ||
                   step_models(c, err) < 0
               ? -1
               : 0;
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

int cg_kstats_of(cap_runner *r, const cap_kernel_rec *k, size_t n,
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
static int step_overhead(cg_ctx *c, ut_err *err)
{
    enum { MODES = 3, REPS = 5 };
    int batches[] = {1, 8};
    for (int i = 0; i < c->nmodels && !cg_stopped(c); i++) {
        cap_runner *run;
        if (cg_new_runner(&c->models[i], 8, &run, err) < 0)
            return -1;
        for (int bi = 0; bi < 2; bi++) {
            int b = batches[bi];
            double v[MODES][REPS], med[MODES];
            for (int rep = 0; rep < REPS; rep++)
                for (int mode = 0; mode < MODES; mode++) {
                    cg_lat s;
                    if (mode == 1 && c->nvml &&
                        cap_nvml_start(c->nvml, 20, err) < 0)
                        return -1;
                    if (mode == 2 && cap_cupti_start(err) < 0)
                        return -1;
                    if (cg_time_runner(run, b, 3, 50, 0.3 * c->tscale, 3,
                                       &s, err) < 0)
                        return -1;
                    if (mode == 2) {
                        cap_kernel_rec *k;
                        size_t n;
                        if (cap_cupti_stop(&k, &n, err) < 0)
                            return -1;
                        free(k);
                    }
                    v[mode][rep] = s.p50;
                    if (mode == 1 && c->nvml)
                        cap_nvml_close(c->nvml), c->nvml = NULL,
                            cap_nvml_open(&c->nvml, err);
                }
            for (int mode = 0; mode < MODES; mode++) {
                qsort(v[mode], REPS, sizeof v[mode][0], cg_dcmp);
                med[mode] = v[mode][REPS / 2];
            }
            cap_rec r;
            cap_rec_init(&r, CAP_REC_OVERHEAD);
            cap_rec_set_str(&r, "model", c->models[i].name);
            cap_rec_set(&r, "batch", b);
            cap_rec_set(&r, "rounds", REPS);
            cap_rec_set(&r, "plain_ms", med[0]);
            cap_rec_set(&r, "nvml_ms", med[1]);
            cap_rec_set(&r, "cupti_ms", med[2]);
            cap_rec_set(&r, "nvml_pct", 100 * (med[1] / med[0] - 1));
            cap_rec_set(&r, "cupti_pct", 100 * (med[2] / med[0] - 1));
            cg_emit(c, &r);
        }
        cap_runner_free(run);
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
    qsort(g, (size_t)iters, sizeof *g, cg_dcmp);
    *ms = g[iters / 2];
    return 0;
}

static int step_kernels(cg_ctx *c, ut_err *err)
{
    int batches[] = {1, 8, 32};
    for (int i = 0; i < c->nmodels && !cg_stopped(c); i++) {
        const cg_model *m = &c->models[i];
        cap_runner *run;
        if (cg_new_runner(m, 32, &run, err) < 0)
            return -1;
        for (int bi = 0; bi < 3; bi++) {
            int b = batches[bi], iters = 20;
            /* GPU time (events around the launch) without CUPTI and with
             * it, beside the kernels' span: whether tracing stretches the
             * kernels' timeline or only adds time around it */
            double gp, gc;
            if (cap_runner_prepare(run, b, err) < 0 ||
                median_gpu_ms(run, b, iters, &gp, err) < 0 ||
                cap_cupti_start(err) < 0 ||
                median_gpu_ms(run, b, iters, &gc, err) < 0)
                return -1;
            cap_kernel_rec *k;
            size_t n;
            if (cap_cupti_stop(&k, &n, err) < 0)
                return -1;
            cap_kstats ks;
            ut_buf top = {NULL, 0, 0};
            int rc = cg_kstats_of(run, k, n, iters, &ks, &top, err);
            free(k);
            if (rc < 0) {
                ut_buf_free(&top);
                return ut_errprefix(err, "kernels of %s batch %d", m->name,
                                    b);
            }
            cap_rec r;
            cap_rec_init(&r, CAP_REC_KERNELS);
            cap_rec_set_str(&r, "model", m->name);
            cap_rec_set(&r, "batch", b);
            cap_rec_set(&r, "sms", c->gpu.sm_count);
            cap_rec_set(&r, "iters", iters);
            cap_rec_set(&r, "kernels", ks.kernels);
            cap_rec_set(&r, "active_ms", ks.active_ms);
            cap_rec_set(&r, "idle_ms", ks.idle_ms);
            cap_rec_set(&r, "idle_per_kernel_ms", ks.idle_per_kernel_ms);
            cap_rec_set(&r, "gpu_plain_ms", gp);
            cap_rec_set(&r, "gpu_cupti_ms", gc);
            cap_rec_set(&r, "span_vs_plain_pct",
                        100 * ((ks.active_ms + ks.idle_ms) / gp - 1));
            cap_rec_set_str(&r, "top", top.s);
            cg_emit(c, &r);
            ut_buf_free(&top);
        }
        cap_runner_free(run);
    }
    return 0;
}

static void emit_solo(cg_ctx *c, const char *name, int b, int sms,
                      const cg_lat *s)
{
    double p, clk;
    int ns = cg_window(c, s, &p, &clk);
    cap_rec r;
    cap_rec_init(&r, CAP_REC_SOLO);
    cap_rec_set_str(&r, "model", name);
    cap_rec_set(&r, "batch", b);
    cap_rec_set(&r, "sms", sms);
    cap_rec_set(&r, "share_pct", cg_share_of(c, sms));
    cap_rec_set(&r, "iters", s->iters);
    cap_rec_set(&r, "mean_ms", s->mean);
    cap_rec_set(&r, "p50_ms", s->p50);
    cap_rec_set(&r, "p99_ms", s->p99);
    cap_rec_set(&r, "std_ms", s->std);
    if (s->iters > 0)
        cap_rec_set_quant(&r, -1, s->q);
    cap_rec_set(&r, "gpu_ms", s->gpu_mean);
    cap_rec_set(&r, "power_w", p);
    cap_rec_set(&r, "clock_mhz", clk);
    cap_rec_set(&r, "samples", ns);
    cg_emit(c, &r);
}

/* Every model alone on partitions of each size (--solo-sms; 1000: the
 * whole GPU), every batch of --batches (--quick: fewer of both). */
static int step_solo(cg_ctx *c, ut_err *err)
{
    int pm = c->gpu.partition_sms;
    int sms_full[] = {8, 16, 32, 48, 64, 96, pm, 1000};
    int sms_quick[] = {16, 64, 1000};
    int sms_given[32];
    const int *sms = c->o->quick ? sms_quick : sms_full;
    int nsms = c->o->quick ? 3 : 8;
    if (c->o->solo_sms[0]) {    /* --solo-sms: a denser or partial grid */
        nsms = cg_parse_list(c->o->solo_sms, sms_given, 32);
        sms = sms_given;
    }
    int batches[16];
    int nb = cg_parse_list(c->o->quick ? "1,8" : c->o->batches, batches, 16);
    int bmax = 1;
    for (int bi = 0; bi < nb; bi++)
        bmax = batches[bi] > bmax ? batches[bi] : bmax;
    for (int si = 0; si < nsms && !cg_stopped(c); si++) {
        int want = sms[si] >= c->gpu.sm_count ? -1 : sms[si];
        cap_partition **p;
        if (cap_partitions_new(&want, 1, &p, err) < 0)
            return -1;
        if (cap_partition_use(p[0], err) < 0)
            return -1;
        int got = cap_partition_sms(p[0]);
        for (int i = 0; i < c->nmodels && !cg_stopped(c); i++) {
            cap_runner *run;
            if (cg_new_runner(&c->models[i], bmax, &run, err) < 0)
                return -1;
            for (int bi = 0; bi < nb && !cg_stopped(c); bi++) {
                cg_lat s;
                if (cg_time_runner(run, batches[bi], 3, 30,
                                   0.25 * c->tscale, 4 * c->tscale, &s,
                                   err) < 0)
                    return ut_errprefix(err, "solo %s batch %d on %d SMs",
                                        c->models[i].name, batches[bi],
                                        got);
                emit_solo(c, c->models[i].name, batches[bi], got, &s);
            }
            cap_runner_free(run);
        }
        cap_partitions_free(p, 1);
        fprintf(stderr, "solo: %d SMs done\n", got);
    }
    return 0;
}

/* The time to give a workload a new share: a new green context, a new
 * runner (weights, buffers) and its graph, for the same model. */
static int step_reconfig(cg_ctx *c, ut_err *err)
{
    cg_model *m = cg_find_model(c, "resnet50");
    if (!m)
        m = &c->models[0];
    int from = 32, to = 64;
    for (int rep = 0; rep < 5 && !cg_stopped(c); rep++) {
        int want = rep % 2 ? from : to;
        double t0 = cap_now();
        cap_partition **p;
        if (cap_partitions_new(&want, 1, &p, err) < 0 ||
            cap_partition_use(p[0], err) < 0)
            return -1;
        double t1 = cap_now();
        cap_runner *run;
        if (cg_new_runner(m, 8, &run, err) < 0)
            return -1;
        double t2 = cap_now();
        if (cap_runner_prepare(run, 8, err) < 0 ||
            cap_runner_enqueue(run, 8, err) < 0 ||
            cap_runner_wait(run, NULL, err) < 0)
            return -1;
        double t3 = cap_now();
        cap_runner_free(run);
        cap_partitions_free(p, 1);
        double t4 = cap_now();
        cap_rec r;
        cap_rec_init(&r, CAP_REC_RECONFIG);
        cap_rec_set_str(&r, "model", m->name);
        cap_rec_set(&r, "batch", 8);
        cap_rec_set(&r, "to_sms", want);
        cap_rec_set(&r, "context_ms", (t1 - t0) * 1e3);
        cap_rec_set(&r, "runner_ms", (t2 - t1) * 1e3);
        cap_rec_set(&r, "first_inference_ms", (t3 - t2) * 1e3);
        cap_rec_set(&r, "teardown_ms", (t4 - t3) * 1e3);
        cap_rec_set(&r, "total_ms", (t3 - t0) * 1e3);
        cg_emit(c, &r);
    }
    return 0;
}

/* L2 and DRAM through ncu, a child process per point: the whole GPU at
 * batch 1 and 32, batch 8 on 64 SMs, and batch 1 on the half of
 * pair_self (the pair's L2 in the profile). */
static int step_l2(cg_ctx *c, ut_err *err)
{
    const cap_campaign_opts *o = c->o;
    int half = c->gpu.partition_sms / 2 / 8 * 8;
    int pts[][2] = {{1, -1}, {32, -1}, {8, 64}, {1, half}};
    for (int i = 0; i < c->nmodels && !cg_stopped(c); i++)
        for (int k = 0; k < 4 && !cg_stopped(c); k++) {
            const char *name = c->models[i].name;
            int b = pts[k][0], sms = pts[k][1];
            char csv[512], cmd[2048];
            snprintf(csv, sizeof csv, "%s/ncu-%s-b%d-s%d.csv", o->out, name,
                     b, sms);
            snprintf(cmd, sizeof cmd,
                     "IGNITER_ALGO_CACHE=%s/cudnn-algos.txt "
                     "%s --csv --print-units base --profile-from-start off "
                     "--metrics "
                     "gpu__time_duration.sum,lts__t_sector_hit_rate.pct,"
                     "lts__t_sectors.avg.pct_of_peak_sustained_elapsed,"
                     "dram__throughput.avg.pct_of_peak_sustained_elapsed "
                     "%s infer --models-dir %s --model %s --batch %d "
                     "--iters 1 --sms %d --no-graphs > %s 2>%s.err",
                     o->out, o->ncu, c->self, o->models_dir, name, b, sms,
                     csv, csv);
            cap_child ch;
            const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
            if (cap_child_spawn((char *const *)argv, NULL, &ch, err) < 0)
                return -1;
            /* ncu replays every kernel for its counters: 10 to 20 s a
             * point on the H100; two minutes (the default) is plenty */
            int rc;
            if (cap_child_wait_timeout(&ch, o->ncu_timeout, &rc) == 1)
                rc = 124;
            if (cg_stopped(c))
                break;
            cap_rec r;
            if (rc != 0) {
                char msg[128];
                snprintf(msg, sizeof msg, "ncu exited %d (124: ended after "
                         "%d s)", rc, o->ncu_timeout);
                cap_rec_init(&r, CAP_REC_NOTE);
                cap_rec_set_str(&r, "step", "l2");
                cap_rec_set_str(&r, "model", name);
                cap_rec_set(&r, "batch", b);
                cap_rec_set_str(&r, "msg", msg);
                cg_emit(c, &r);
                continue;
            }
            cap_ncu_summary s;
            if (cap_ncu_parse(csv, &s, err) < 0)
                return -1;
            int got = sms < 0 ? c->gpu.sm_count : sms;
            cap_rec_init(&r, CAP_REC_L2);
            cap_rec_set_str(&r, "model", name);
            cap_rec_set(&r, "batch", b);
            cap_rec_set(&r, "sms", got);
            cap_rec_set(&r, "share_pct", cg_share_of(c, got));
            cap_rec_set(&r, "kernels", s.kernels);
            cap_rec_set(&r, "gpu_ms", s.time_ms);
            cap_rec_set(&r, "l2_hit_pct", s.l2_hit_pct);
            cap_rec_set(&r, "l2_util_pct", s.l2_util_pct);
            cap_rec_set(&r, "dram_util_pct", s.dram_util_pct);
            cg_emit(c, &r);
            remove(csv);
            char e[600];
            snprintf(e, sizeof e, "%s.err", csv);
            remove(e);
        }
    return 0;
}

/* ---- run -------------------------------------------------------------------- */

/*
 * One step of the campaign: skipped after a stop, when --steps leaves it
 * out, and (meta) once anything failed. A step that fails is recorded
 * with its error and the campaign goes on with the next one (each step's
 * records stand alone); only a failure of meta, which everything needs,
 * ends it. cuDNN's choices are saved after every step, so that a
 * campaign run in parts runs the same kernels in every part.
 */
static void run_step(cg_ctx *c, const char *name,
                     int (*step)(cg_ctx *, ut_err *), const char *algos,
                     int *failed, ut_err *err)
{
    int meta = !strcmp(name, "meta");
    if (cg_stopped(c) || !has_step(c->o, name) || (*failed && meta))
        return;
    double ts = cap_now();
    int rc = step(c, err);
    fprintf(stderr, "step %s: %.1f s%s%s\n", name, cap_now() - ts,
            rc ? " (failed) " : "", rc ? err->msg : "");
    cg_emit_step(c, name, cap_now() - ts, rc == 0, rc ? err->msg : "");
    if (cap_algo_cache_save(algos, err) < 0)
        fprintf(stderr, "igniter-capture: %s\n", err->msg);
    if (rc) {
        (*failed)++;
        if (meta)
            c->stop = 1;
    }
}

static int run_steps(cg_ctx *c, ut_err *err)
{
    /* cuDNN's choices of algorithm, kept in OUT between the calls of a
     * campaign run in parts, so that every part (and step l2's ncu
     * children) runs the same kernels for a model, batch and SM count:
     * cuDNN's search, timed anew, can pick another algorithm each time */
    char algos[1100];
    snprintf(algos, sizeof algos, "%s/cudnn-algos.txt", c->o->out);
    if (cap_gpu_init(&c->gpu, err) < 0 || cg_load_models(c, err) < 0 ||
        cap_algo_cache_load(algos, err) < 0)
        return CAP_CAMPAIGN_FAILED;
    if (cap_nvml_open(&c->nvml, err) < 0) {
        fprintf(stderr, "igniter-capture: no NVML (%s): power and clock "
                "are not recorded\n", err->msg);
        c->nvml = NULL;
    }
    cap_campaign_catch_stop();
    double t0 = cap_now();
    int failed = 0;
    run_step(c, "meta", step_meta_all, algos, &failed, err);
    run_step(c, "overhead", step_overhead, algos, &failed, err);
    if (c->nvml && cap_nvml_start(c->nvml, 20, err) < 0) {
        fprintf(stderr, "igniter-capture: %s: power and clock are not "
                "recorded\n", err->msg);
        cap_nvml_close(c->nvml);
        c->nvml = NULL;
    }
    run_step(c, "kernels", step_kernels, algos, &failed, err);
    run_step(c, "solo", step_solo, algos, &failed, err);
    run_step(c, "pair_self", cg_step_pair_self, algos, &failed, err);
    run_step(c, "reconfig", step_reconfig, algos, &failed, err);
    run_step(c, "coloc", cg_step_coloc, algos, &failed, err);
    run_step(c, "copies", cg_step_copies, algos, &failed, err);
    run_step(c, "heldout", cg_step_heldout, algos, &failed, err);
    run_step(c, "power", cg_step_power, algos, &failed, err);
    if (c->nvml) {
        cap_nvml_close(c->nvml);
        c->nvml = NULL;
    }
    run_step(c, "l2", step_l2, algos, &failed, err);
    int interrupted = cg_stopped(c) && failed == 0;
    cg_emit_end(c, !cg_stopped(c) && failed == 0, failed, cap_now() - t0);
    if (failed)
        return ut_errf(err, "%d step(s) failed (see the step records of "
                       "%s/raw.jsonl)", failed, c->o->out);
    return interrupted ? CAP_CAMPAIGN_INTERRUPTED : CAP_CAMPAIGN_OK;
}

int cap_campaign_run(const cap_campaign_opts *o, const char *self,
                     ut_err *err)
{
    if (!o->out) {
        ut_errf(err, "--out DIR is required");
        return CAP_CAMPAIGN_USAGE;
    }
    cg_ctx c;
    cg_init(&c, o, self);
    c.tscale = o->quick ? 0.3 : 1.0;
    int rc = cg_open_raw(&c, err);
    if (rc == 0)
        rc = run_steps(&c, err);
    cg_free(&c);
    return rc;
}
