/*
 * test_serve.c - the real provisioner's engine (serve/) on a fake clock and
 * a fake device: with a device that takes the fixed back end's service
 * time, `serve` must give exactly what `sim` gives (same arrivals, routing
 * and batcher: they are the same code); an overloaded host shows as
 * lateness and arrivals stay open-loop; a device error and a stop keep the
 * results so far, marked incomplete; bad input writes nothing; a device's
 * power readings go to power.csv.
 */
#define TU_SIM
#include "testutil.h"
#include "serve/serve.h"
#include "capture/capture.h"

#include <cjson/cJSON.h>

/* ---- a fake clock and device -------------------------------------------- */

#define MAXI 8

typedef struct fake {
    int64_t now;
    int64_t overshoot;         /* every wait ends this much late */
    int64_t svc_ns[MAXI];      /* per instance of the open GPU */
    int64_t done_at[MAXI];
    int busy[MAXI];
    size_t n;
    int64_t fail_after;        /* poll fails from this time on (0: never) */
    int64_t stop_after;        /* sets *stop from this time on (0: never) */
    volatile sig_atomic_t *stop;
    const pol_plan *plan;
    double svc_ms;             /* every instance */
    int opens, closes, launches;
    const char *reject_model;  /* check: this model is unknown */
    /* the device's power readings (NULL: none) */
    size_t (*power)(void *ud, int64_t t0, int64_t t1, srv_power_sample *out,
                    size_t max);
} fake;

static int64_t f_now(void *ud)
{
    fake *f = ud;
    if (f->stop_after && f->now >= f->stop_after && f->stop)
        *f->stop = 1;
    return f->now;
}

/* Jumps to t, or to the first completion before it: what a real clock
 * would show when the loop next looks. */
static void f_wait(void *ud, int64_t t)
{
    fake *f = ud;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < f->n; i++)
        if (f->busy[i] && f->done_at[i] > f->now && f->done_at[i] < next)
            next = f->done_at[i];
    int64_t to = t > f->now ? t : next;
    if (next < to)
        to = next;
    if (to == INT64_MAX)
        to = f->now + 1000;
    f->now = to + f->overshoot;
}

static int f_check(void *ud, const pol_plan *p, ut_err *err)
{
    fake *f = ud;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++)
            if (f->reject_model &&
                !strcmp(p->gpus[j].inst[k].model, f->reject_model))
                return ut_errf(err, "plan: gpus[%zu].workloads[%zu].model: "
                               "the runner has no model \"%s\"", j, k,
                               f->reject_model);
    return 0;
}

static int f_open(void *ud, const pol_gpu *g, size_t gpu, ut_err *err)
{
    fake *f = ud;
    (void)gpu;
    (void)err;
    f->n = g->n;
    for (size_t i = 0; i < g->n; i++) {
        f->svc_ns[i] = llround(f->svc_ms * 1e6);
        f->busy[i] = 0;
    }
    f->opens++;
    return 0;
}

static int f_launch(void *ud, size_t i, int k, ut_err *err)
{
    fake *f = ud;
    (void)err;
    assert_true(k >= 1);
    assert_false(f->busy[i]);
    f->busy[i] = 1;
    f->done_at[i] = f->now + f->svc_ns[i];
    f->launches++;
    return 0;
}

static int f_poll(void *ud, size_t i, ut_err *err)
{
    fake *f = ud;
    if (f->fail_after && f->now >= f->fail_after)
        return ut_errf(err, "worker %zu: exited with signal 9", i);
    if (f->busy[i] && f->now >= f->done_at[i]) {
        f->busy[i] = 0;
        return 1;
    }
    return 0;
}

static void f_close(void *ud)
{
    fake *f = ud;
    f->closes++;
    f->n = 0;
}

/* ---- a plan and its workloads ------------------------------------------- */

typedef struct tplan {
    pol_plan p;
    pol_gpu g[3];
    pol_instance in[3][MAXI];
    fe_workload_cfg w[8];
    size_t nw;
} tplan;

static void add(tplan *t, size_t gpu, const char *name, const char *model,
                int batch, double share, double rate, double slo)
{
    if (gpu + 1 > t->p.ngpus)
        t->p.ngpus = gpu + 1;
    tu_instance(&t->in[gpu][t->g[gpu].n++], name, model, batch, share, rate,
                slo);
    size_t w = 0;
    while (w < t->nw && strcmp(t->w[w].name, name))
        w++;
    if (w == t->nw)
        fe_workload_defaults(&t->w[t->nw++], name, 0);
    t->w[w].arrivals.rate_rps += rate;
}

/* Three workloads on two GPUs; W1 has an instance on each. */
static void plan3(tplan *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->p.policy, sizeof t->p.policy, "test");
    snprintf(t->p.gpu_type, sizeof t->p.gpu_type, "H100");
    t->p.price_per_hour = 12.29;
    t->p.gpus = t->g;
    for (size_t j = 0; j < 3; j++)
        t->g[j].inst = t->in[j];
    add(t, 0, "W1", "resnet50", 8, 50, 600, 40);
    add(t, 0, "W2", "alexnet", 4, 25, 300, 20);
    add(t, 1, "W1", "resnet50", 8, 50, 400, 40);
    add(t, 1, "W3", "vgg19", 2, 50, 150, 60);
    t->p.cost_per_hour = t->p.price_per_hour * (double)t->p.ngpus;
    for (size_t w = 0; w < t->nw; w++)
        t->w[w].service_ms = 3.5;
}

static void cfg_of(sim_config *c, const tplan *t, double dur, double warm)
{
    memset(c, 0, sizeof *c);
    c->run.plan = &t->p;
    c->backend = "fixed";
    c->run.duration_s = dur;
    c->run.warmup_s = warm;
    c->run.interval_s = 1;
    c->run.seed = 11;
    c->run.wcfg = t->w;
    c->run.nw = t->nw;
    c->run.trace_max = 200;
}

static srv_device fake_dev(fake *f)
{
    srv_device d = {"fake device", f_check, f_open, f_launch, f_poll, f_close,
                    NULL, f, f->power};
    return d;
}

static int srv_go(const sim_config *c, fake *f, const char *out,
                  fe_result *r, srv_stats *st, ut_err *err)
{
    srv_device d = fake_dev(f);
    srv_clock clk = {f_now, f_wait, f};
    /* a long poll: the fake clock itself stops at each completion */
    srv_config sc = {&c->run, &d, &clk, 1000000000, -1, "fake", NULL, NULL,
                     NULL, 0};
    return srv_run(&sc, out, r, st, err);
}

/* ---- tests -------------------------------------------------------------- */

/* c simulated into a and served on f into b, complete, the same files
 * (tu_same_as_sim). */
static void sim_and_serve(const sim_config *c, fake *f, const char *a,
                          const char *b, fe_result *rs, fe_result *rv,
                          srv_stats *st)
{
    ut_err err;
    if (sim_run(c, a, rs, &err) < 0)
        fail_msg("%s", err.msg);
    int rc = srv_go(c, f, b, rv, st, &err);
    if (rc < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(rc, 0);
    tu_same_as_sim(a, b);
}

/* The heart of it: serve on a device that takes exactly the fixed back
 * end's time writes what sim writes (timeseries, workloads, CDF, trace, and
 * summary.json's numbers), a plan of two GPUs run one at a time. */
static void test_serve_equals_sim_on_a_fixed_device(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 20, 2);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    fe_result rs, rv;
    fake f = {0};
    f.svc_ms = 3.5;
    srv_stats st;
    sim_and_serve(&c, &f, a, b, &rs, &rv, &st);
    assert_int_equal(f.opens, 2);
    assert_int_equal(f.closes, 2);
    assert_int_equal(st.passes, 2);
    cJSON *x = tu_json_in(a, "summary.json"), *y = tu_json_in(b, "summary.json");
    const cJSON *sv = cJSON_GetObjectItem(y, "serve");
    assert_non_null(sv);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sv, "one_gpu_at_a_time")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sv, "passes")), 2);
    assert_null(cJSON_GetObjectItem(x, "serve"));
    cJSON_Delete(x);
    cJSON_Delete(y);
    /* the requests were real work: some thousands, in every workload */
    for (size_t w = 0; w < rv.nw; w++)
        assert_true(rv.w[w].completed > 2000);
    assert_int_equal(st.launches, (uint64_t)f.launches);
    /* the fake clock is never late */
    assert_int_equal(st.lateness.max, 0);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* The fake GPU's readings: every 50 ms of the fake clock, 400 W and the
 * full clock for the first 5 s of each window asked for, then 700 W held
 * at 1800 MHz by the power cap (reason 4). */
static size_t f_power(void *ud, int64_t t0, int64_t t1,
                      srv_power_sample *out, size_t max)
{
    (void)ud;
    size_t n = 0;
    for (int64_t t = (t0 + 49999999) / 50000000 * 50000000; t <= t1 && n < max;
         t += 50000000) {
        int capped = t - t0 >= 5000000000LL;
        out[n++] = (srv_power_sample){t, capped ? 700 : 400,
                                      capped ? 1800 : 1980, capped ? 4 : 0};
    }
    return n;
}

/* A device with power readings: power.csv holds them pass by pass, times
 * from each pass's start, and summary.json counts them; every other file
 * is what it is without them (and what sim writes); without readings
 * there is no power.csv. */
static void test_power_readings(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 20, 2);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    ut_err err;
    fe_result rs, rv;
    fake f = {0};
    f.svc_ms = 3.5;
    f.power = f_power;
    srv_stats st;
    sim_and_serve(&c, &f, a, b, &rs, &rv, &st);
    char *csv = tu_read_in(b, "power.csv");
    assert_true(!strncmp(csv, "gpu,t_s,power_w,clock_mhz,reasons\n", 34));
    size_t rows[2] = {0, 0}, capped = 0;
    double last[2] = {-1, -1};
    for (char *l = strchr(csv, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        unsigned g;
        double ts, pw, clk_mhz;
        unsigned long long why;
        assert_int_equal(sscanf(l, "%u,%lf,%lf,%lf,%llu", &g, &ts, &pw,
                                &clk_mhz, &why), 5);
        assert_true(g < 2);
        assert_true(ts > last[g] && ts >= 0 && ts <= 20.5);
        last[g] = ts;
        rows[g]++;
        assert_true(ts < 5 ? pw == 400 && clk_mhz == 1980 && why == 0
                           : pw == 700 && clk_mhz == 1800 && why == 4);
        capped += why == 4;
    }
    free(csv);
    /* each pass: 20 s and the last batches, a reading every 50 ms */
    assert_true(rows[0] >= 400 && rows[0] <= 412);
    assert_true(rows[1] >= 400 && rows[1] <= 412);
    cJSON *y = tu_json_in(b, "summary.json");
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "serve"),
                                         "power");
    assert_int_equal(cJSON_GetObjectItem(p, "readings")->valueint,
                     (int)(rows[0] + rows[1]));
    assert_close(cJSON_GetObjectItem(p, "power_capped_pct")->valuedouble,
                 100.0 * (double)capped / (double)(rows[0] + rows[1]), 1e-3);
    assert_string_equal(cJSON_GetObjectItem(p, "log")->valuestring,
                        "power.csv");
    cJSON_Delete(y);
    /* the same device without readings: no power.csv, no power member */
    const char *e = tu_tmpdir();
    fake g = {0};
    g.svc_ms = 3.5;
    srv_stats st2;
    fe_result rw;
    assert_int_equal(srv_go(&c, &g, e, &rw, &st2, &err), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/power.csv", e);
    assert_false(tu_exists(path));
    y = tu_json_in(e, "summary.json");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(y, "serve"),
                                    "power"));
    cJSON_Delete(y);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_result_free(&rw);
    fe_hist_free(&st.lateness);
    fe_hist_free(&st2.lateness);
}

/* requests.csv: one row per request, in the same count as the workloads'
 * arrivals, each completion after its dispatch after its arrival. */
static void test_requests_log(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 5, 0);
    const char *b = tu_tmpdir();
    fake f = {0};
    f.svc_ms = 3.5;
    ut_err err;
    fe_result r;
    srv_stats st;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), 0);
    char *s = tu_read_in(b, "requests.csv");
    assert_non_null(s);
    assert_true(!strncmp(s, "workload,instance,gpu,arrival_ms,lateness_ms,"
                         "dispatch_ms,completion_ms,batch,status\n", 80));
    uint64_t rows = 0, done = 0;
    char *save = NULL;
    strtok_r(s, "\n", &save);
    for (char *l = strtok_r(NULL, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char wname[16], status[16];
        int inst, gpu, k;
        double ta, late, td, tc;
        if (sscanf(l, "%15[^,],%d,%d,%lf,%lf,%lf,%lf,%d,%15s", wname, &inst,
                   &gpu, &ta, &late, &td, &tc, &k, status) == 9) {
            assert_string_equal(status, "done");
            assert_true(ta <= td && td < tc && k >= 1 && k <= 8);
            assert_true(late == 0);
            done++;
        }
        rows++;
    }
    free(s);
    uint64_t arrived = 0, completed = 0;
    for (size_t w = 0; w < r.nw; w++) {
        arrived += r.w[w].arrived;
        completed += r.w[w].completed;
    }
    assert_int_equal(rows, arrived);
    assert_int_equal(done, completed);
    fe_result_free(&r);
    fe_hist_free(&st.lateness);
}

/* A host that wakes 2 ms late every time: the arrivals stay those the
 * generator drew (open loop: the same count as sim's), the lateness says
 * 2 ms, and the latency includes it. */
static void test_late_host_is_visible_as_lateness(void **state)
{
    (void)state;
    tplan t;
    memset(&t, 0, sizeof t);
    snprintf(t.p.policy, sizeof t.p.policy, "test");
    t.p.gpus = t.g;
    t.g[0].inst = t.in[0];
    add(&t, 0, "W", "alexnet", 1, 100, 50, 100);
    t.w[0].service_ms = 1;
    t.w[0].arrivals.kind = TRACE_CONSTANT;
    sim_config c;
    cfg_of(&c, &t, 10, 0);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    ut_err err;
    fe_result rs, rv;
    assert_int_equal(sim_run(&c, a, &rs, &err), 0);
    fake f = {0};
    f.svc_ms = 1;
    f.overshoot = 2000000;
    srv_stats st;
    assert_int_equal(srv_go(&c, &f, b, &rv, &st, &err), 0);
    assert_int_equal(rv.w[0].arrived, rs.w[0].arrived);
    assert_int_equal(rv.w[0].arrived, 499);   /* 20 ms, 40 ms, ..., 9.98 s */
    assert_close(fe_hist_mean(&st.lateness), 2e6, 0.01);
    /* sim: 1 ms each; serve: 2 ms late to see it, 1 ms of service, then
     * 2 ms late to see it done */
    assert_close(fe_hist_mean(&rs.w[0].lat), 1e6, 1e-9);
    assert_close(fe_hist_mean(&rv.w[0].lat), 5e6, 0.01);
    cJSON *y = tu_json_in(b, "summary.json");
    const cJSON *late = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "serve"),
                                            "lateness_ms");
    assert_close(cJSON_GetObjectItem(late, "mean")->valuedouble, 2.0, 0.01);
    cJSON_Delete(y);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* A worker that fails mid-run: srv_run says so (2), the results so far
 * are written and marked incomplete, with the error, and the device was
 * closed; the second plan GPU never ran. */
static void test_device_error_keeps_results(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 10, 0);
    const char *b = tu_tmpdir();
    fake f = {0};
    f.svc_ms = 3.5;
    f.fail_after = 4000000000LL;
    ut_err err;
    fe_result r;
    srv_stats st;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), 2);
    assert_false(r.complete);
    assert_true(st.error);
    assert_non_null(strstr(st.error_msg, "plan GPU 0: worker"));
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.closes, 1);
    assert_true(r.w[0].completed > 1000);
    cJSON *y = tu_json_in(b, "summary.json");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(y, "complete")));
    const cJSON *stop = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "serve"),
                                            "stopped");
    assert_true(cJSON_IsString(stop));
    assert_non_null(strstr(stop->valuestring, "signal 9"));
    cJSON_Delete(y);
    char *ts = tu_read_in(b, "timeseries.csv");
    assert_non_null(ts);
    assert_non_null(strstr(ts, "\n3,W1,"));
    free(ts);
    fe_result_free(&r);
    fe_hist_free(&st.lateness);
}

/* The stop flag (Ctrl-C) during the first pass: 1, incomplete, the
 * conservation of requests still holds. */
static void test_stop_keeps_results(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 10, 0);
    volatile sig_atomic_t stop = 0;
    c.run.stop = &stop;
    const char *b = tu_tmpdir();
    fake f = {0};
    f.svc_ms = 3.5;
    f.stop = &stop;
    f.stop_after = 2500000000LL;
    ut_err err;
    fe_result r;
    srv_stats st;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), 1);
    assert_false(r.complete);
    assert_false(st.error);
    assert_int_equal(f.closes, 1);
    assert_close(r.sim_end_s, 2.5, 0.01);
    for (size_t w = 0; w < r.nw; w++)
        assert_int_equal(r.w[w].arrived, r.w[w].completed + r.w[w].dropped +
                                             r.w[w].queued_end);
    cJSON *y = tu_json_in(b, "summary.json");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(y, "complete")));
    cJSON_Delete(y);
    fe_result_free(&r);
    fe_hist_free(&st.lateness);
}

static int count_files(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* Bad input: an error before anything runs, naming the field and value,
 * nothing written, the device never opened. */
static void test_bad_input_writes_nothing(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    sim_config c;
    cfg_of(&c, &t, 5, 0);
    ut_err err;
    fe_result r;
    srv_stats st;
    const char *b = tu_tmpdir();
    fake f = {0};
    f.svc_ms = 1;
    f.reject_model = "vgg19";
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), -1);
    assert_non_null(strstr(err.msg, "gpus[1].workloads[1].model"));
    assert_non_null(strstr(err.msg, "\"vgg19\""));
    assert_int_equal(f.opens, 0);
    assert_int_equal(count_files(b), 0);
    /* a plan workload without arrival settings */
    f.reject_model = NULL;
    c.run.nw = 2;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), -1);
    assert_non_null(strstr(err.msg, "\"W3\" has no arrival settings"));
    assert_int_equal(count_files(b), 0);
    c.run.nw = t.nw;
    c.run.warmup_s = 5;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), -1);
    assert_non_null(strstr(err.msg, "warmup_s"));
    assert_int_equal(count_files(b), 0);
    c.run.warmup_s = 0;
    /* a batch above the runner's tables: named, with its value */
    t.in[1][1].batch = CAP_MAX_BATCH + 1;
    assert_int_equal(srv_go(&c, &f, b, &r, &st, &err), -1);
    assert_non_null(strstr(err.msg, "gpus[1].workloads[1].batch: "
                                    "expected 1..128, got 129"));
    assert_int_equal(count_files(b), 0);
    assert_int_equal(f.opens, 0);
}

/* sim and serve write the same set of result files with the same headers
 * (serve adds requests.csv), so every script reads both. */
static void test_same_files_and_headers(void **state)
{
    (void)state;
    tplan t;
    plan3(&t);
    t.w[0].service_ms = 20;      /* overloaded: drops and a queue at the end */
    t.w[0].queue_limit = 50;
    sim_config c;
    cfg_of(&c, &t, 3, 1);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    ut_err err;
    fe_result rs, rv;
    assert_int_equal(sim_run(&c, a, &rs, &err), 0);
    fake f = {0};
    f.svc_ms = 20;
    srv_stats st;
    assert_int_equal(srv_go(&c, &f, b, &rv, &st, &err), 0);
    const char *files[] = {"summary.json", "workloads.csv", "timeseries.csv",
                           "cdf.csv", "trace.json"};
    for (size_t k = 0; k < 5; k++) {
        char *x = tu_read_in(a, files[k]), *y = tu_read_in(b, files[k]);
        assert_non_null(x);
        assert_non_null(y);
        size_t n = strcspn(x, "\n");
        assert_true(n == strcspn(y, "\n") && !strncmp(x, y, n));
        free(x);
        free(y);
    }
    char *req = tu_read_in(b, "requests.csv");
    assert_non_null(req);
    assert_non_null(strstr(req, ",dropped\n"));
    free(req);
    assert_true(rv.w[0].dropped > 0 && rv.w[0].queued_end > 0);
    assert_int_equal(rv.w[0].dropped, rs.w[0].dropped);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* scripts/validate-table.py on the committed validation runs: each
 * back end's totals (ALL-STABLE, ALL-ALL) count every workload of the runs
 * they cover once (an earlier version counted the stable runs twice in
 * ALL-ALL). */
static void test_validation_table_totals(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd experiments/validation/results && "
             "tar cf - real/*/workloads.csv sim-measured/*/workloads.csv "
             "sim-model/*/workloads.csv | (cd %s && tar xf -) && cd - "
             ">/dev/null && python3 scripts/validate-table.py %s >/dev/null",
             d, d);
    assert_int_equal(system(cmd), 0);
    char *fid = tu_read_in(d, "fidelity.csv");
    assert_non_null(fid);
    /* run,backend,stable,workloads,... */
    int runs = 0, sum_all = 0, sum_stable = 0, tot_all = -1, tot_stable = -1;
    for (char *line = strtok(fid, "\n"); line; line = strtok(NULL, "\n")) {
        char run[64], be[16], stable[16];
        int wl;
        if (sscanf(line, "%63[^,],%15[^,],%15[^,],%d", run, be, stable,
                   &wl) != 4 || strcmp(be, "measured"))
            continue;
        if (!strcmp(run, "ALL-ALL"))
            tot_all = wl;
        else if (!strcmp(run, "ALL-STABLE"))
            tot_stable = wl;
        else {
            runs++;
            sum_all += wl;
            sum_stable += strcmp(stable, "yes") ? 0 : wl;
        }
    }
    free(fid);
    assert_int_equal(runs, 10);
    assert_true(sum_stable > 0 && sum_stable < sum_all);
    assert_int_equal(tot_all, sum_all);
    assert_int_equal(tot_stable, sum_stable);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_equals_sim_on_a_fixed_device),
        cmocka_unit_test(test_requests_log),
        cmocka_unit_test(test_late_host_is_visible_as_lateness),
        cmocka_unit_test(test_device_error_keeps_results),
        cmocka_unit_test(test_stop_keeps_results),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_same_files_and_headers),
        cmocka_unit_test(test_validation_table_totals),
        cmocka_unit_test(test_power_readings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
