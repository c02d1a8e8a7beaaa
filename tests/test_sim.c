/*
 * test_sim.c - the simulator (sim/): queueing theory (M/D/1 against
 * Pollaczek-Khinchine, M/M/1 sojourn), Little's law and conservation on
 * every run, the batcher (full batch, timeout, queue limit), overlap-aware
 * rescaling (always-busy pairs run at exactly the back end's pair latency,
 * a lone workload at its solo latency), the histogram's error bound and
 * its blocks made on demand against one flat array,
 * determinism, interruption, and bad input.
 */
#define TU_SIM
#include "testutil.h"

#include <sys/stat.h>

TU_FIT_FIXTURE(fit, V100_PROFILE)

/* A plan built by hand (testutil.h): V100s at 3.06 $/h. */
typedef tu_hplan tplan;

static void tp_init(tplan *t, size_t ngpus)
{
    tu_hplan_init(t, ngpus, "V100", 3.06);
}

#define tp_add tu_hplan_add

/* One workload "W" alone on one GPU, at its defaults. */
static void tp_one(tplan *t, fe_workload_cfg *w, const char *model, int batch,
                   double rate, double slo)
{
    tp_init(t, 1);
    tp_add(t, 0, "W", model, batch, 100, rate, slo);
    fe_workload_defaults(w, "W", rate);
}

static const char *fresh_dir(void)
{
    return tu_tmpdir();
}

static void base_cfg(sim_config *c, const pol_plan *p, const char *backend,
                     fe_workload_cfg *w, size_t nw, double dur, double warm)
{
    tu_sim_config(c, p, &fit, backend, w, nw, dur, 7);
    c->run.warmup_s = warm;
}

/* Little's law and conservation: asserted on every run of this file. */
static void check_invariants(const fe_result *r)
{
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *s = &r->w[w];
        assert_int_equal(s->arrived, s->completed + s->dropped + s->queued_end);
        if (s->completed < 1000)
            continue;
        double T = r->window_s * 1e9;
        double L = s->area_ns / T;
        double lambda = (double)(s->arrived - s->dropped) / T;
        double W = s->lat.sum / (double)s->lat.count;
        assert_close(L, lambda * W, 0.01);
    }
}

static fe_result run_ok(const sim_config *c)
{
    fe_result r;
    ut_err err;
    if (sim_run(c, fresh_dir(), &r, &err) < 0)
        fail_msg("%s", err.msg);
    check_invariants(&r);
    return r;
}

/* The one workload of t (tp_one) simulated on backend. */
static fe_result run_one(const tplan *t, fe_workload_cfg *w,
                         const char *backend, double dur, double warm)
{
    sim_config c;
    base_cfg(&c, &t->p, backend, w, 1, dur, warm);
    return run_ok(&c);
}

/* M/D/1, service 1 ms: mean wait rho / (2 mu (1 - rho)). */
static void mdl1_case(double rate, double want_ms)
{
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 1, rate, 1000);
    w.service_ms = 1;
    w.queue_limit = 1000000;
    fe_result r = run_one(&t, &w, "fixed", 4e6 / rate, 10);
    const fe_wstats *s = &r.w[0];
    assert_int_equal(s->dropped, 0);
    double wq = s->queue_ns_sum / (double)s->batch_items / 1e6;
    assert_close(wq, want_ms, 0.02);
    assert_close(s->service_ns_sum / (double)s->service_batches, 1e6, 1e-9);
    fe_result_free(&r);
}

static void test_md1_matches_pollaczek_khinchine(void **state)
{
    (void)state;
    mdl1_case(500, 0.5 / (2 * 0.5));    /* rho 0.5: 0.5 ms */
    mdl1_case(800, 0.8 / (2 * 0.2));    /* rho 0.8: 2 ms */
}

static void test_mm1_sojourn(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 1, 500, 1000);
    w.service_ms = 1;
    w.service_exp = 1;
    w.queue_limit = 1000000;
    fe_result r = run_one(&t, &w, "fixed", 8000, 10);
    /* 1 / (mu - lambda) = 1 / (1 - 0.5) per ms = 2 ms */
    assert_close(fe_hist_mean(&r.w[0].lat) / 1e6, 2.0, 0.02);
    fe_result_free(&r);
}

static void test_batcher_unit(void **state)
{
    (void)state;
    fe_batcher b;
    fe_batcher_init(&b, 4, 1000, 6);
    assert_int_equal(fe_batcher_ready(&b, 0), 0);
    assert_true(fe_batcher_deadline(&b) == INT64_MAX);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fe_batcher_push(&b, 100 + i), 0);
    assert_int_equal(fe_batcher_ready(&b, 500), 0);     /* not full, fresh */
    assert_true(fe_batcher_deadline(&b) == 1100);
    assert_int_equal(fe_batcher_ready(&b, 1099), 0);
    assert_int_equal(fe_batcher_ready(&b, 1100), 3);    /* timed out */
    assert_int_equal(fe_batcher_push(&b, 200), 0);
    assert_int_equal(fe_batcher_ready(&b, 201), 4);     /* full batch */
    assert_int_equal(fe_batcher_push(&b, 201), 0);
    assert_int_equal(fe_batcher_push(&b, 202), 0);
    assert_int_equal(fe_batcher_push(&b, 203), -1);     /* limit 6 */
    int64_t out[4];
    fe_batcher_pop(&b, 4, out);
    assert_true(out[0] == 100 && out[3] == 200);
    assert_int_equal(b.len, 2);
    assert_true(fe_batcher_deadline(&b) == 1201);
    /* the ring wraps */
    for (int i = 0; i < 4; i++)
        assert_int_equal(fe_batcher_push(&b, 300 + i), 0);
    fe_batcher_pop(&b, 4, out);
    assert_true(out[0] == 201 && out[1] == 202 && out[2] == 300);
    fe_batcher_free(&b);
}

/* Constant arrivals every 100 ms, batch 4, max delay 5 ms: a batch never
 * fills, each request waits exactly the 5 ms delay and goes alone. */
static void test_batcher_timeout_in_sim(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 4, 10, 100);
    w.arrivals.kind = TRACE_CONSTANT;
    w.max_delay_ms = 5;
    w.service_ms = 2;
    fe_result r = run_one(&t, &w, "fixed", 100, 0);
    const fe_wstats *s = &r.w[0];
    assert_true(s->batches == s->batch_items);
    assert_close(s->queue_ns_sum / (double)s->batch_items, 5e6, 1e-9);
    assert_close(fe_hist_mean(&s->lat), 7e6, 1e-9);
    fe_result_free(&r);
}

/* Constant arrivals at 1000/s, batch 4, service 2 ms: batches fill (4 per
 * 4 ms) and never wait for the delay. */
static void test_batcher_full_batches_in_sim(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 4, 1000, 100);
    w.arrivals.kind = TRACE_CONSTANT;
    w.max_delay_ms = 50;
    w.service_ms = 2;
    fe_result r = run_one(&t, &w, "fixed", 50, 1);
    const fe_wstats *s = &r.w[0];
    assert_close((double)s->batch_items / (double)s->batches, 4, 1e-3);
    /* the 4th request of a batch waits 0, the 1st 3 ms: mean 1.5 ms */
    assert_close(s->queue_ns_sum / (double)s->batch_items, 1.5e6, 1e-3);
    fe_result_free(&r);
}

/* Overload: lambda = 2 mu with a queue limit; about half is dropped. */
static void test_queue_limit_drops(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 1, 2000, 100);
    w.service_ms = 1;
    w.queue_limit = 50;
    fe_result r = run_one(&t, &w, "fixed", 200, 1);
    const fe_wstats *s = &r.w[0];
    assert_true(s->queued_end <= 51);
    assert_close((double)s->dropped / (double)s->arrived, 0.5, 0.02);
    /* a full queue of 50 ahead: latency about 51 ms */
    assert_close(fe_hist_mean(&s->lat) / 1e6, 51, 0.02);
    fe_result_free(&r);
}

/* Two always-busy workloads on one GPU: every batch after the warm-up runs
 * beside the other's, at exactly the model's pair latency. A lone one runs
 * at its solo latency. */
static void test_overlap_pair_and_solo(void **state)
{
    (void)state;
    tplan t;
    tp_init(&t, 2);
    tp_add(&t, 0, "A", "resnet50", 8, 40, 5000, 1000);
    tp_add(&t, 0, "B", "vgg19", 4, 60, 5000, 1000);
    tp_add(&t, 1, "C", "ssd", 2, 50, 5000, 1000);
    fe_workload_cfg w[3];
    fe_workload_defaults(&w[0], "A", 5000);
    fe_workload_defaults(&w[1], "B", 5000);
    fe_workload_defaults(&w[2], "C", 5000);
    for (int i = 0; i < 3; i++)
        w[i].queue_limit = 100;
    sim_config c;
    base_cfg(&c, &t.p, "model", w, 3, 100, 2);
    fe_result r = run_ok(&c);
    mdl_place pair[2] = {{mdl_find(&fit, "resnet50"), 8, 40},
                         {mdl_find(&fit, "vgg19"), 4, 60}};
    double lat[2], solo;
    mdl_predict(&fit, pair, 2, lat, NULL);
    mdl_place lone = {mdl_find(&fit, "ssd"), 2, 50};
    mdl_predict(&fit, &lone, 1, &solo, NULL);
    for (int i = 0; i < 3; i++)
        assert_true(r.w[i].service_batches > 100);
    assert_close(r.w[0].service_ns_sum / (double)r.w[0].service_batches / 1e6,
                 lat[0], 1e-6);
    assert_close(r.w[1].service_ns_sum / (double)r.w[1].service_batches / 1e6,
                 lat[1], 1e-6);
    assert_close(r.w[2].service_ns_sum / (double)r.w[2].service_batches / 1e6,
                 solo, 1e-6);
    fe_result_free(&r);
}

/* A always busy, B rarely: A's batches take between its solo and its pair
 * latency, weighted by how much of each batch B overlapped. */
static void test_partial_overlap_is_in_between(void **state)
{
    (void)state;
    tplan t;
    tp_init(&t, 1);
    tp_add(&t, 0, "A", "resnet50", 8, 40, 5000, 1000);
    tp_add(&t, 0, "B", "vgg19", 1, 60, 20, 1000);
    fe_workload_cfg w[2];
    fe_workload_defaults(&w[0], "A", 5000);
    fe_workload_defaults(&w[1], "B", 20);
    w[0].queue_limit = 100;
    w[1].max_delay_ms = 0;
    sim_config c;
    base_cfg(&c, &t.p, "model", w, 2, 60, 2);
    fe_result r = run_ok(&c);
    mdl_place pair[2] = {{mdl_find(&fit, "resnet50"), 8, 40},
                         {mdl_find(&fit, "vgg19"), 1, 60}};
    double lat[2], solo;
    mdl_predict(&fit, pair, 2, lat, NULL);
    mdl_predict(&fit, pair, 1, &solo, NULL);
    double a = r.w[0].service_ns_sum / (double)r.w[0].service_batches / 1e6;
    assert_true(a > solo * (1 + 1e-6) && a < lat[0] * (1 - 1e-6));
    fe_result_free(&r);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_histogram_error_bound(void **state)
{
    (void)state;
    fe_hist hist, *h = &hist;
    fe_hist_init(h);
    size_t n = 100000;
    int64_t *v = malloc(n * sizeof *v);
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {   /* xorshift: spread over 1 us..10 s */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = (int64_t)(1000 * exp((double)(x % 1000000) / 1e6 * log(1e7)));
        fe_hist_add(h, v[i]);
    }
    qsort(v, n, sizeof *v, cmp_i64);
    static const double qs[] = {0.01, 0.25, 0.5, 0.9, 0.99, 0.999};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        size_t rank = (size_t)ceil(qs[k] * (double)n);
        double exact = (double)v[rank - 1];
        double got = (double)fe_hist_quantile(h, qs[k]);
        assert_true(fabs(got - exact) <= FE_HIST_REL_ERR * exact + 1);
    }
    assert_true(fe_hist_quantile(h, 1.0) == v[n - 1]);
    assert_true(h->min == v[0] && h->max == v[n - 1]);
    free(v);
    fe_hist_free(h);
}

/* The histogram as it was before its buckets came in blocks made on
 * demand: one flat array of every bucket, the same mapping. */
typedef struct flat_hist {
    uint64_t count, bucket[FE_HIST_BUCKETS];
    int64_t min, max;
} flat_hist;

static int flat_bucket(int64_t v)
{
    if (v < FE_HIST_SUB)
        return v < 0 ? 0 : (int)v;
    int e = 63 - __builtin_clzll((unsigned long long)v);
    if (e > FE_HIST_MAX_LOG2)
        return FE_HIST_BUCKETS - 1;
    int shift = e - FE_HIST_SUB_BITS;
    return FE_HIST_SUB + shift * FE_HIST_SUB +
           (int)((v >> shift) - FE_HIST_SUB);
}

static int64_t flat_quantile(const flat_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max;
    uint64_t seen = 0;
    for (int i = 0; i < FE_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen < rank)
            continue;
        int64_t v = i;
        if (i >= FE_HIST_SUB) {
            int shift = (i - FE_HIST_SUB) / FE_HIST_SUB;
            v = ((int64_t)(FE_HIST_SUB + (i - FE_HIST_SUB) % FE_HIST_SUB)
                 << shift) + (((int64_t)1 << shift) >> 1);
        }
        return v < h->min ? h->min : v > h->max ? h->max : v;
    }
    return h->max;
}

static void flat_add(flat_hist *h, int64_t v)
{
    h->bucket[flat_bucket(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* Blocks made on demand answer exactly what the flat array answers, at
 * every quantile the outputs print, through reset and merge (cdf.csv's
 * "all"), from exact values to past the top bucket; and they hold only
 * the ranges used. */
static void test_histogram_blocks_match_flat(void **state)
{
    (void)state;
    static const double qs[] = {0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98,
                                0.99, 0.995, 0.999, 1};
    flat_hist *f = calloc(1, sizeof *f), *fall = calloc(1, sizeof *fall);
    fall->min = INT64_MAX;
    fall->max = INT64_MIN;
    fe_hist h, all;
    fe_hist_init(&h);
    fe_hist_init(&all);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 6; round++) {
        memset(f, 0, sizeof *f);
        f->min = INT64_MAX;
        f->max = INT64_MIN;
        fe_hist_reset(&h);
        int n = round == 0 ? 0 : 1 + round * 3000;
        for (int i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* a few ranges per round, now and then anywhere at all */
            int64_t v = (int64_t)(x % 4000000) + ((int64_t)round << 20);
            if (x % 97 == 0)
                v = (int64_t)(x >> (x % 64)) - 5;
            fe_hist_add(&h, v);
            flat_add(f, v);
            flat_add(fall, v);
        }
        assert_int_equal(h.count, f->count);
        assert_true(h.count == 0 || (h.min == f->min && h.max == f->max));
        assert_true(h.nblocks <= FE_HIST_RANGES);
        for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
            assert_true(fe_hist_quantile(&h, qs[k]) ==
                        flat_quantile(f, qs[k]));
        fe_hist_merge(&all, &h);
    }
    assert_int_equal(all.count, fall->count);
    assert_true(all.min == fall->min && all.max == fall->max);
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
        assert_true(fe_hist_quantile(&all, qs[k]) ==
                    flat_quantile(fall, qs[k]));
    /* one range used, one block held; counts widened from 1 to 2 to 4
     * bytes as they pass 255 and 65,535 (and merged into a wider one) */
    fe_hist one;
    fe_hist_init(&one);
    memset(f, 0, sizeof *f);
    f->min = INT64_MAX;
    f->max = INT64_MIN;
    for (int64_t v = 5000000; v < 5100000; v += 7) {
        fe_hist_add(&one, v);
        flat_add(f, v);
    }
    assert_int_equal(one.nblocks, 1);
    assert_int_equal(one.wlog, 1);
    for (int i = 0; i < 70000; i++) {
        fe_hist_add(&one, 5050505);
        flat_add(f, 5050505);
    }
    assert_int_equal(one.nblocks, 1);
    assert_int_equal(one.wlog, 2);
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
        assert_true(fe_hist_quantile(&one, qs[k]) == flat_quantile(f, qs[k]));
    fe_hist_merge(&h, &one);
    assert_int_equal(h.wlog, 2);
    fe_hist_free(&one);
    assert_true(one.count == 0 && one.nblocks == 0 && one.block == NULL);
    fe_hist_free(&h);
    fe_hist_free(&all);
    free(f);
    free(fall);
}

static void run_to(const sim_config *c, char *dir)
{
    snprintf(dir, 64, "%s", tu_tmpdir());
    ut_err err;
    if (sim_run(c, dir, NULL, &err) < 0)
        fail_msg("%s", err.msg);
}

static void test_deterministic_outputs(void **state)
{
    (void)state;
    tplan t;
    tp_init(&t, 1);
    tp_add(&t, 0, "A", "alexnet", 4, 10, 500, 15);
    tp_add(&t, 0, "B", "resnet50", 8, 30, 400, 40);
    fe_workload_cfg w[2];
    fe_workload_defaults(&w[0], "A", 500);
    fe_workload_defaults(&w[1], "B", 400);
    w[1].arrivals.kind = TRACE_GAMMA;
    w[1].arrivals.cv = 2;
    sim_config c;
    base_cfg(&c, &t.p, "model", w, 2, 30, 1);
    c.run.trace_max = 1000;
    char d1[64], d2[64], d3[64];
    run_to(&c, d1);
    run_to(&c, d2);
    c.run.seed = 8;
    run_to(&c, d3);
    static const char *files[] = {"summary.json", "workloads.csv",
                                  "timeseries.csv", "trace.json"};
    tu_same_files(d1, d2, files, 4);
    char *a = tu_read_in(d1, "summary.json"), *b = tu_read_in(d3, "summary.json");
    assert_string_not_equal(a, b);
    assert_non_null(strstr(a, "\"seed\": 7"));
    assert_non_null(strstr(a, "\"complete\": true"));
    free(a);
    free(b);
    /* the trace is capped and valid enough: it ends the array */
    char *tr = tu_read_in(d1, "trace.json");
    assert_non_null(strstr(tr, "\"traceEvents\""));
    assert_string_equal(tr + strlen(tr) - 4, "\n]}\n");
    size_t slices = 0;
    for (char *p = tr; (p = strstr(p, "\"ph\":\"X\"")); p++)
        slices++;
    assert_int_equal(slices, 1000);
    free(tr);
}

static void test_interrupt_keeps_results(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "alexnet", 1, 500, 100);
    w.service_ms = 1;
    sim_config c;
    base_cfg(&c, &t.p, "fixed", &w, 1, 3600, 0);
    volatile sig_atomic_t stop = 1;
    c.run.stop = &stop;
    fe_result r;
    ut_err err;
    const char *dir = fresh_dir();
    assert_int_equal(sim_run(&c, dir, &r, &err), 0);
    assert_false(r.complete);
    assert_true(r.sim_end_s > 0 && r.sim_end_s < 3600);
    check_invariants(&r);
    char *s = tu_read_in(dir, "summary.json");
    assert_non_null(strstr(s, "\"complete\": false"));
    free(s);
    fe_result_free(&r);
}

static int dir_is_empty(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s)\"", dir);
    return system(cmd) == 0;
}

static void test_bad_input(void **state)
{
    (void)state;
    tplan t;
    fe_workload_cfg w;
    tp_one(&t, &w, "bert", 1, 500, 100);
    sim_config c;
    base_cfg(&c, &t.p, "model", &w, 1, 10, 0);
    ut_err err;
    const char *dir = fresh_dir();
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "\"bert\""));
    assert_true(dir_is_empty(dir));
    snprintf(t.in[0][0].model, sizeof t.in[0][0].model, "alexnet");
    c.backend = "nosuch";
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "fixed, model, measured"));
    c.backend = "model";
    c.run.duration_s = 0;
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "duration_s"));
    c.run.duration_s = 10;
    c.run.warmup_s = 10;
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "warmup_s"));
    c.run.warmup_s = 0;
    c.backend = "fixed";   /* no service time */
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "service_ms"));
    c.backend = "model";
    snprintf(w.name, sizeof w.name, "other");
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "\"W\""));
    assert_true(dir_is_empty(dir));
    snprintf(w.name, sizeof w.name, "W");
    /* a name given twice: found by a sort, said as before */
    fe_workload_cfg two[2] = {w, w};
    c.run.wcfg = two;
    c.run.nw = 2;
    assert_int_equal(sim_run(&c, dir, NULL, &err), -1);
    assert_string_equal(err.msg, "workload \"W\": expected unique names, got "
                                 "it twice");
    assert_true(dir_is_empty(dir));
    c.run.wcfg = &w;
    c.run.nw = 1;
    /* the output folder is made after the checks; one that cannot be made
     * (below a file, so even root cannot) is an error naming it */
    assert_int_equal(sim_run(&c, "/dev/null/x", NULL, &err), -1);
    assert_non_null(strstr(err.msg, "cannot create '/dev/null"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md1_matches_pollaczek_khinchine),
        cmocka_unit_test(test_mm1_sojourn),
        cmocka_unit_test(test_batcher_unit),
        cmocka_unit_test(test_batcher_timeout_in_sim),
        cmocka_unit_test(test_batcher_full_batches_in_sim),
        cmocka_unit_test(test_queue_limit_drops),
        cmocka_unit_test(test_overlap_pair_and_solo),
        cmocka_unit_test(test_partial_overlap_is_in_between),
        cmocka_unit_test(test_histogram_error_bound),
        cmocka_unit_test(test_histogram_blocks_match_flat),
        cmocka_unit_test(test_deterministic_outputs),
        cmocka_unit_test(test_interrupt_keeps_results),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("sim", tests, setup, teardown);
}
