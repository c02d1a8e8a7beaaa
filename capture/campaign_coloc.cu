/*
 * campaign_coloc.cu - the campaign's co-location steps (campaign_int.h):
 * green-context partitions side by side, one thread each, all timed over
 * the same window. pair_self (a model beside a copy of itself), coloc
 * (the fitting grid of pairs), copies (1..5 copies of one model) and
 * heldout (pairs, 3- and 4-way runs drawn from the seed).
 */
#include "capture/campaign_int.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- one thread per partition ------------------------------------------------ */

typedef struct member {
    const cg_model *m;
    int batch, sms_want, sms;
    int cupti;                   /* collect kernel stats */
    cap_partition *part;
    cap_runner *r;
    cg_lat s;
    cap_kstats ks;
    unsigned stream_id;
    ut_err err;
    int rc;
} member;

typedef struct corun {
    member mem[CG_MAX_CO];
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
        m->rc = cg_new_runner(m->m, m->batch, &m->r, err);
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
            m->rc = cg_time_runner(m->r, m->batch, 0, 5, c->run_s,
                                   c->run_s * 4, &m->s, err);
    }
    pthread_barrier_wait(&c->bar);
    return NULL;
}

static int corun_go(corun *c, int cupti, cap_kernel_rec **krec, size_t *kn,
                    ut_err *err)
{
    int want[CG_MAX_CO];
    for (int i = 0; i < c->n; i++)
        want[i] = c->mem[i].sms_want;
    cap_partition **p;
    if (cap_partitions_new(want, (size_t)c->n, &p, err) < 0)
        return -1;
    pthread_barrier_init(&c->bar, NULL, (unsigned)c->n);
    pthread_t th[CG_MAX_CO];
    targ ta[CG_MAX_CO];
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

/* The members of c into record r: model, batch, SMs and latency. */
static void set_members(cg_ctx *ctx, cap_rec *r, const corun *c)
{
    for (int i = 0; i < c->n; i++) {
        const member *m = &c->mem[i];
        cap_rec_member_set_str(r, i, "model", m->m->name);
        cap_rec_member_set(r, i, "batch", m->batch);
        cap_rec_member_set(r, i, "sms", m->sms);
        cap_rec_member_set(r, i, "share_pct", cg_share_of(ctx, m->sms));
        cap_rec_member_set(r, i, "iters", m->s.iters);
        cap_rec_member_set(r, i, "mean_ms", m->s.mean);
        cap_rec_member_set(r, i, "p50_ms", m->s.p50);
        cap_rec_member_set(r, i, "p99_ms", m->s.p99);
        cap_rec_member_set(r, i, "std_ms", m->s.std);
        if (m->s.iters > 0)
            cap_rec_set_quant(r, i, m->s.q);
    }
}

/* The window every member of c was timed in. */
static void common_window(const corun *c, double *t0, double *t1)
{
    *t0 = 0;
    *t1 = 1e300;
    for (int i = 0; i < c->n; i++) {
        *t0 = fmax(*t0, c->mem[i].s.t0);
        *t1 = fmin(*t1, c->mem[i].s.t1);
    }
}

/* One "coloc" record: every member's latency, power and clock over the
 * window all of them were timed in. */
static void emit_coloc(cg_ctx *ctx, const corun *c, const char *set)
{
    double t0, t1;
    common_window(c, &t0, &t1);
    double p = NAN, clk = NAN;
    int ns = 0;
    if (ctx->nvml && t1 > t0)
        cap_nvml_window(ctx->nvml, t0, t1, &p, &clk, &ns);
    cap_rec r;
    cap_rec_init(&r, CAP_REC_COLOC);
    cap_rec_set_str(&r, "set", set);
    cap_rec_set(&r, "n", c->n);
    set_members(ctx, &r, c);
    cap_rec_set(&r, "power_w", p);
    cap_rec_set(&r, "clock_mhz", clk);
    cg_emit(ctx, &r);
}

/* splitmix64 for the seeded choice of combinations */
static uint64_t rng_next(cg_ctx *c)
{
    uint64_t z = (c->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int rng_int(cg_ctx *c, int n)
{
    return (int)(rng_next(c) % (uint64_t)n);
}

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

/* way members drawn from the seed: SMs in groups of 8 (the last member
 * on the rest of the GPU), then for each its model and its batch among
 * batches[0..nb), in this order. */
static void draw_set(cg_ctx *ctx, corun *c, int way, const int *batches,
                     int nb)
{
    int left = ctx->gpu.partition_sms / 8;   /* in groups of 8 SMs */
    for (int i = 0; i < way; i++) {
        int rest = way - 1 - i;
        int units = i == way - 1
                        ? 0
                        : 1 + rng_int(ctx, left - rest > 1 ? left - rest
                                                           : 1);
        if (i < way - 1 && units > left - rest)
            units = left - rest;
        left -= units;
        /* in this order: the model's draw, then the batch's */
        const cg_model *m = &ctx->models[rng_int(ctx, ctx->nmodels)];
        c->mem[i] = (member){m, batches[rng_int(ctx, nb)], units * 8};
    }
}

static int step_coloc(cg_ctx *ctx, int fit, int test, ut_err *err)
{
    const cap_campaign_opts *o = ctx->o;
    int fit_b[] = {1, 8, 32};
    int fit_s[] = {32, 64, 96};
    int all_b[] = {1, 2, 4, 8, 16, 32};
    double run_s = 0.4 * ctx->tscale, warm_s = 0.1 * ctx->tscale;
    int done = 0;
    ctx->rng = (uint64_t)o->seed * 7919u + 17;
    /* 1. the fitting grid: every pair of distinct models, batches and
     * shares on a grid, the second model on the rest of the GPU */
    for (int a = 0; a < ctx->nmodels && fit && !cg_stopped(ctx); a++)
        for (int bm = a + 1; bm < ctx->nmodels && !cg_stopped(ctx); bm++)
            for (int i = 0; i < 3 && !cg_stopped(ctx); i++)
                for (int j = 0; j < 3 && !cg_stopped(ctx); j++)
                    for (int k = 0; k < 3 && !cg_stopped(ctx); k++) {
                        if (o->quick && (i != j || k != 1))
                            continue;
                        corun c;
                        memset(&c, 0, sizeof c);
                        c.n = 2;
                        c.warm_s = warm_s;
                        c.run_s = run_s;
                        c.mem[0] = (member){&ctx->models[a], fit_b[i],
                                            fit_s[k]};
                        c.mem[1] = (member){&ctx->models[bm], fit_b[j], 0};
                        if (corun_go(&c, 0, NULL, NULL, err) < 0)
                            return -1;
                        emit_coloc(ctx, &c, "fit");
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
    for (int way = 2; way <= 4 && !cg_stopped(ctx); way++)
        for (int t = 0; t < counts[way - 2] && !cg_stopped(ctx); t++) {
            corun c;
            memset(&c, 0, sizeof c);
            c.n = way;
            c.warm_s = warm_s;
            c.run_s = run_s;
            draw_set(ctx, &c, way, all_b, 6);
            int cupti = way == 3 && t == 0;
            cap_kernel_rec *k = NULL;
            size_t kn = 0;
            if (corun_go(&c, cupti, &k, &kn, err) < 0)
                return -1;
            emit_coloc(ctx, &c, "test");
            if (cupti) {
                if (write_trace(o->out, &c, k, kn, err) < 0)
                    return -1;
                free(k);
            }
        }
    fprintf(stderr, "coloc: held-out runs done\n");
    return 0;
}

int cg_step_coloc(cg_ctx *c, ut_err *err)
{
    return step_coloc(c, 1, 0, err);
}

int cg_step_heldout(cg_ctx *c, ut_err *err)
{
    return step_coloc(c, 0, 1, err);
}

/* ---- kernels of co-located runs ------------------------------------------------ */

/* Kernels per inference of model m at batch b on the whole GPU. */
static int kernels_per_inference(const cg_model *m, int b, int *kpi,
                                 ut_err *err)
{
    cap_runner *r;
    if (cg_new_runner(m, b, &r, err) < 0)
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
        rc = cg_kstats_of(r, k, n, 5, &ks, NULL, err);
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
int cg_step_pair_self(cg_ctx *ctx, ut_err *err)
{
    int half = ctx->gpu.partition_sms / 2 / 8 * 8;
    for (int i = 0; i < ctx->nmodels && !cg_stopped(ctx); i++) {
        const cg_model *model = &ctx->models[i];
        double act[2] = {NAN, NAN}, p = NAN, clk = NAN;
        int kpi;
        if (kernels_per_inference(model, 1, &kpi, err) < 0)
            return -1;
        for (int n = 1; n <= 2; n++) {
            corun c;
            memset(&c, 0, sizeof c);
            c.n = n;
            c.warm_s = 0.1 * ctx->tscale;
            c.run_s = 0.4 * ctx->tscale;
            for (int k = 0; k < n; k++)
                c.mem[k] = (member){model, 1, half};
            cap_kernel_rec *kr = NULL;
            size_t kn;
            if (corun_go(&c, 1, &kr, &kn, err) < 0)
                return -1;
            cap_kstats ks;
            int rc = member_kstats(&c, 0, kr, kn, kpi, &ks, err);
            free(kr);
            if (rc < 0)
                return ut_errprefix(err, "pair_self %s", model->name);
            act[n - 1] = ks.active_ms;
            if (n == 2)
                cg_window(ctx, &c.mem[0].s, &p, &clk);
        }
        cap_rec r;
        cap_rec_init(&r, CAP_REC_PAIR_SELF);
        cap_rec_set_str(&r, "model", model->name);
        cap_rec_set(&r, "batch", 1);
        cap_rec_set(&r, "sms", half);
        cap_rec_set(&r, "kernels", kpi);
        cap_rec_set(&r, "active_solo_ms", act[0]);
        cap_rec_set(&r, "active_pair_ms", act[1]);
        cap_rec_set(&r, "power_w", p);
        cap_rec_set(&r, "clock_mhz", clk);
        cg_emit(ctx, &r);
    }
    return 0;
}

/* n = 1..5 co-located copies of VGG-19 (or the first model), each on
 * 1/n of the GPU: power, clock, idle time per kernel. */
int cg_step_copies(cg_ctx *ctx, ut_err *err)
{
    const cg_model *m = cg_find_model(ctx, "vgg19");
    if (!m)
        m = &ctx->models[0];
    int kpi;
    if (kernels_per_inference(m, 16, &kpi, err) < 0)
        return -1;
    for (int n = 1; n <= 5 && !cg_stopped(ctx); n++) {
        corun c;
        memset(&c, 0, sizeof c);
        c.n = n;
        c.warm_s = 0.5 * ctx->tscale;
        c.run_s = 1.0 * ctx->tscale;
        int each = ctx->gpu.partition_sms / n / 8 * 8;
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
        cg_lat w = c.mem[0].s;
        double p, clk;
        cg_window(ctx, &w, &p, &clk);
        cap_rec r;
        cap_rec_init(&r, CAP_REC_COPIES);
        cap_rec_set_str(&r, "model", m->name);
        cap_rec_set(&r, "batch", 16);
        cap_rec_set(&r, "n", n);
        cap_rec_set(&r, "sms_each", c.mem[0].sms);
        cap_rec_set(&r, "power_w", p);
        cap_rec_set(&r, "clock_mhz", clk);
        cap_rec_set(&r, "idle_per_kernel_ms", used ? idle / used : NAN);
        cap_rec_set(&r, "mean_ms", mean);
        cg_emit(ctx, &r);
    }
    return 0;
}

/* ---- sustained power -------------------------------------------------------- */

/* One "power" record: the members of c (none: idle) and what NVML saw in
 * [t0, t1]. */
static void emit_power(cg_ctx *ctx, const corun *c, const char *set,
                       double t0, double t1)
{
    cap_nvml_stats st;
    cap_nvml_stats_window(ctx->nvml, t0, t1, &st);
    int energy = isfinite(st.energy_w);
    cap_rec r;
    cap_rec_init(&r, CAP_REC_POWER);
    cap_rec_set_str(&r, "set", set);
    cap_rec_set(&r, "n", c ? c->n : 0);
    if (c)
        set_members(ctx, &r, c);
    cap_rec_set(&r, "window_s", t1 - t0);
    cap_rec_set(&r, "power_w", energy ? st.energy_w : st.power_w);
    cap_rec_set_str(&r, "power_from", energy ? "energy" : "samples");
    cap_rec_set(&r, "power_sampled_w", st.power_w);
    cap_rec_set(&r, "clock_mhz", st.clock_mhz);
    cap_rec_set(&r, "clock_min_mhz", st.clock_min_mhz);
    cap_rec_set(&r, "reasons", (double)st.reasons);
    cap_rec_set(&r, "samples", st.n);
    cg_emit(ctx, &r);
}

static int power_run(cg_ctx *ctx, corun *c, double warm_s, double run_s,
                     const char *set, ut_err *err)
{
    c->warm_s = warm_s;
    c->run_s = run_s;
    if (corun_go(c, 0, NULL, NULL, err) < 0)
        return -1;
    double t0, t1;
    common_window(c, &t0, &t1);
    emit_power(ctx, c, set, t0, t1);
    return 0;
}

/*
 * What the GPU draws under sustained load, for a power model: the board
 * idle; each model alone, back to back, on a few SM counts and batches
 * (the whole GPU too); and sets of 2, 3 and 4 models side by side drawn
 * from the seed, at the batches where power matters. Each window is a
 * second after half a second of warm-up, since NVML's power readings
 * average over up to a second: the energy counter gives the window's own
 * mean. The other steps' windows are shorter and their power lags.
 */
int cg_step_power(cg_ctx *ctx, ut_err *err)
{
    if (!ctx->nvml)
        return ut_errf(err, "power: NVML is not available on this machine");
    const int q = ctx->o->quick;
    double warm_s = 0.5 * ctx->tscale, run_s = 1.0 * ctx->tscale;
    double t0 = cap_now();
    struct timespec ts = {(time_t)run_s, (long)((run_s - (int)run_s) * 1e9)};
    nanosleep(&ts, NULL);
    emit_power(ctx, NULL, "idle", t0, cap_now());
    int pb = ctx->gpu.partition_sms;
    int sms[] = {pb / 8 / 8 * 8, pb / 3 / 8 * 8, pb / 2 / 8 * 8,
                 3 * pb / 4 / 8 * 8, -1};
    int batches[] = {1, 8, 32, 64};
    int done = 0;
    for (int m = 0; m < ctx->nmodels && !cg_stopped(ctx); m++)
        for (int i = 0; i < 5 && !cg_stopped(ctx); i++)
            for (int j = 0; j < 4 && !cg_stopped(ctx); j++) {
                if ((sms[i] >= 0 && sms[i] < 8) || (q && (i % 2 || j % 2)))
                    continue;
                corun c;
                memset(&c, 0, sizeof c);
                c.n = 1;
                c.mem[0] = (member){&ctx->models[m], batches[j], sms[i]};
                if (power_run(ctx, &c, warm_s, run_s, "solo", err) < 0)
                    return ut_errprefix(err, "power %s batch %d",
                                        ctx->models[m].name, batches[j]);
                done++;
            }
    fprintf(stderr, "power: %d solo points done\n", done);
    int heavy[] = {4, 16, 32, 64};
    ctx->rng = (uint64_t)ctx->o->seed * 7919u + 29;
    for (int way = 2; way <= 4 && !cg_stopped(ctx); way++)
        for (int t = 0; t < (q ? 1 : 10) && !cg_stopped(ctx); t++) {
            corun c;
            memset(&c, 0, sizeof c);
            c.n = way;
            draw_set(ctx, &c, way, heavy, 4);
            if (power_run(ctx, &c, warm_s, run_s, "set", err) < 0)
                return -1;
        }
    fprintf(stderr, "power: sets done\n");
    return 0;
}
