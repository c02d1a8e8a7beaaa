/*
 * test_wake.c - the wake cost the planner did not predict (fe_wake_*,
 * `igniter sim --wake`, an experiment's "wakes"): on the fixed back end a
 * batch that starts on an idle instance takes exactly the back end's time
 * plus the cost, and one started at the instant the previous one ended
 * takes exactly the back end's time (an arrival at that very instant
 * included); the cost comes after the slow-down factor; two runs are
 * byte-identical, --wake none changes nothing, and summary.json and the
 * run hash record the costs; compare and a sweep cell run the bytes sim
 * runs; bad input on the command line and in an
 * experiment file is refused with a message naming where and the value,
 * exit status 2 and no output; serve refuses them.
 */
#define TU_SIM
#define TU_LAB
#include "testutil.h"
#include "lab/lab.h"


TU_FIT_FIXTURE(fit, V100_PROFILE)

#define FIG17 "experiments/fig17.json"

/* One workload "W" (batch 1, whole GPU) at constant arrivals of rate_rps
 * on the fixed back end (service_ms a batch), slowed by factor (1: none),
 * with a wake cost of wake_us (< 0: none), over [warm_s, dur_s). */
static fe_result run_w(double rate_rps, double service_ms, double factor,
                       double wake_us, double warm_s, double dur_s)
{
    tu_hplan t;
    tu_hplan_init(&t, 1, "V100", 3.06);
    tu_hplan_add(&t, 0, "W", "alexnet", 1, 100, rate_rps, 100);
    fe_workload_cfg w;
    fe_workload_defaults(&w, "W", rate_rps);
    w.arrivals.kind = TRACE_CONSTANT;
    w.service_ms = service_ms;
    if (factor != 1)
        w.slow[w.nslow++] = (fe_slowdown){factor, 0, INFINITY};
    if (wake_us >= 0) {
        w.has_wake = 1;
        w.wake_us = wake_us;
    }
    sim_config c;
    tu_sim_config(&c, &t.p, &fit, "fixed", &w, 1, dur_s, 7);
    c.run.warmup_s = warm_s;
    fe_result r;
    ut_err err;
    if (sim_run(&c, tu_tmpdir(), &r, &err) < 0)
        fail_msg("%s", err.msg);
    return r;
}

/* 2 ms a batch of one, a request every 10 ms: every batch starts idle, so
 * every latency is exactly 2 ms + 50 us, and x1.5 makes it 3 ms + 50 us
 * (the cost is not slowed). A request every 1 ms: after the first batch
 * (idle, at time 0) every one starts at the previous one's end, so the
 * batches' time sums to n x 2 ms + 50 us exactly, and after a warm-up
 * every one takes 2 ms. A request every 2 ms: the second arrives before
 * the first (2.05 ms) ends and every later one at or before its
 * predecessor's end: one idle start only. */
static void idle_and_back_to_back_exact(void **state)
{
    (void)state;
    fe_result r = run_w(100, 2, 1, 50, 0, 2);
    assert_true(r.w[0].completed >= 199);
    assert_int_equal(r.w[0].lat.min, 2050000);
    assert_int_equal(r.w[0].lat.max, 2050000);
    assert_true(r.w[0].service_ns_sum ==
                2050000.0 * (double)r.w[0].service_batches);
    fe_result_free(&r);

    r = run_w(100, 2, 1.5, 50, 0, 2);
    assert_int_equal(r.w[0].lat.min, 3050000);
    assert_int_equal(r.w[0].lat.max, 3050000);
    fe_result_free(&r);

    /* no cost given, or 0: the back end's time */
    for (int k = 0; k < 2; k++) {
        r = run_w(100, 2, 1, k ? 0 : -1, 0, 2);
        assert_int_equal(r.w[0].lat.min, 2000000);
        assert_int_equal(r.w[0].lat.max, 2000000);
        fe_result_free(&r);
    }

    static const double rate[] = {1000, 500};
    for (size_t i = 0; i < 2; i++) {
        r = run_w(rate[i], 2, 1, 50, 0, 2);
        double n = (double)r.w[0].service_batches;
        assert_true(n > 900);
        if (r.w[0].service_ns_sum != n * 2e6 + 50e3)
            fail_msg("%g rps: %g batches took %.0f ns, want %.0f (one idle "
                     "start)", rate[i], n, r.w[0].service_ns_sum,
                     n * 2e6 + 50e3);
        fe_result_free(&r);
    }
    r = run_w(1000, 2, 1, 50, 1, 2);
    assert_true(r.w[0].service_ns_sum ==
                2e6 * (double)r.w[0].service_batches);
    fe_result_free(&r);
}

/* lab_prepare of experiment e with the wake costs spec[0..n) (n 0: the
 * experiment's), 3 s; the test fails where it is refused. */
static void prepare(const char *e, const char *const *spec, size_t n,
                    lab_prepared *p)
{
    lab_opts o;
    lab_opts_init(&o);
    o.experiment = e;
    o.wakes = spec;
    o.nwakes = n;
    o.duration_s = 3;
    ut_err err;
    if (lab_prepare(&o, p, &err) < 0)
        fail_msg("%s", err.msg);
}

static const char *simulate(lab_prepared *p, char hash[17])
{
    const char *dir = tu_tmpdir();
    fe_result r;
    ut_err err;
    if (lab_simulate(p, dir, &r, &err) < 0)
        fail_msg("%s", err.msg);
    fe_result_free(&r);
    memcpy(hash, p->input_hash, 17);
    lab_prepared_free(p);
    return dir;
}

static const char *const outputs[] = {"summary.json", "workloads.csv",
                                      "timeseries.csv", "cdf.csv"};

/* Fig. 17 with a cost on AlexNet twice: the same bytes. With "none", the
 * bytes and hash of the run without; with a cost, another hash, a longer
 * AlexNet batch time, and "wakes" in summary.json. */
static void deterministic_recorded_hashed(void **state)
{
    (void)state;
    static const char *const cost[] = {"alexnet:80"}, *const none[] = {
                                                          "none"};
    lab_prepared p;
    char h0[17], h1[17], h2[17], h3[17];
    prepare(FIG17, NULL, 0, &p);
    const char *d0 = simulate(&p, h0);
    prepare(FIG17, none, 1, &p);
    const char *d1 = simulate(&p, h1);
    tu_same_files(d0, d1, outputs, 4);
    assert_string_equal(h0, h1);
    prepare(FIG17, cost, 1, &p);
    const char *d2 = simulate(&p, h2);
    prepare(FIG17, cost, 1, &p);
    const char *d3 = simulate(&p, h3);
    tu_same_files(d2, d3, outputs, 4);
    assert_string_equal(h2, h3);
    assert_string_not_equal(h0, h2);
    char *s = tu_read_in(d2, "summary.json");
    assert_non_null(strstr(s, "\"wakes\": [{\"workload\": \"alexnet\", "
                              "\"us\": 80}]"));
    free(s);
    s = tu_read_in(d0, "summary.json");
    assert_null(strstr(s, "wakes"));
    free(s);
    cJSON *a = tu_json_in(d0, "summary.json"), *b = tu_json_in(d2,
                                                                "summary.json");
    const cJSON *wa = cJSON_GetArrayItem(
                    cJSON_GetObjectItemCaseSensitive(a, "workloads"), 0),
                *wb = cJSON_GetArrayItem(
                    cJSON_GetObjectItemCaseSensitive(b, "workloads"), 0);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(wa, "name")->valuestring, "alexnet");
    assert_true(cJSON_GetObjectItemCaseSensitive(wb, "mean_service_ms")
                    ->valuedouble >
                cJSON_GetObjectItemCaseSensitive(wa, "mean_service_ms")
                    ->valuedouble);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

#define run_cli tu_igniter_err

/* An experiment file in a temporary folder: fig17's without a policy
 * (absolute paths) and the members given. */
static char *exp_file(const char *name, const char *members)
{
    char cwd[512], text[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"measured\": \"%s/"
             V100_MEASURED "\", \"backend\": \"measured\", \"policy\": "
             "\"igniter\", \"duration_s\": 3, \"arrivals\": {\"kind\": "
             "\"constant\"}, \"workloads\": [{\"name\": \"alexnet\", "
             "\"model\": \"alexnet\", \"slo_ms\": 15, \"rate_rps\": 500}, "
             "{\"name\": \"vgg19\", \"model\": \"vgg19\", \"slo_ms\": 60, "
             "\"rate_rps\": 200}], %s}", cwd, cwd, members);
    return tu_write_temp(name, text);
}

static void bad_input_refused(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *frag1, *frag2;
    } cli[] = {
        {"foo:50", "--wake 'foo:50'", "got \"foo\""},
        {"alexnet:-1", "--wake 'alexnet:-1': us", "got -1"},
        {"alexnet:2e6", "[0, 1e+06]", "got 2e+06"},
        {"alexnet:abc", "us", "got 'abc'"},
        {"alexnet:inf", "us", "got 'inf'"},
        {"alexnet", "WORKLOAD_OR_MODEL:US", "got 'alexnet'"},
    };
    const char *root = tu_tmpdir();
    char out[600], err[4096];
    for (size_t i = 0; i < sizeof cli / sizeof *cli; i++) {
        snprintf(out, sizeof out, "%s/out%zu", root, i);
        tu_option_refused(FIG17, "--wake", cli[i].spec, cli[i].frag1,
                          cli[i].frag2, out);
    }
    /* one workload given two costs (by name and by model) */
    snprintf(out, sizeof out, "%s/twice", root);
    assert_int_equal(run_cli(err, sizeof err, "sim", FIG17, "--out", out,
                             "--wake", "alexnet:1", "--wake", "alexnet:2",
                             NULL), 2);
    assert_non_null(strstr(err, "--wake 'alexnet:2': expected one wake "
                                "cost of workload \"alexnet\""));
    /* serve has none: a real run measures its GPU */
    snprintf(out, sizeof out, "%s/serve", root);
    assert_int_equal(run_cli(err, sizeof err, "serve", FIG17, "--out", out,
                             "--wake", "alexnet:2", NULL), 2);
    assert_non_null(strstr(err, "--wake"));
    char *ok = exp_file("wake-ok.json",
                        "\"wakes\": [{\"workload\": \"alexnet\", \"us\": 5}]");
    lab_opts o;
    lab_opts_init(&o);
    o.experiment = ok;
    o.for_serve = 1;
    lab_prepared p;
    ut_err e;
    assert_int_equal(lab_prepare(&o, &p, &e), -1);
    assert_non_null(strstr(e.msg, "wakes: expected none with igniter serve"));
    free(ok);

    static const struct {
        const char *member, *frag1, *frag2;
    } exp[] = {
        {"{\"workload\": \"foo\", \"us\": 2}", "wakes[0].workload",
         "got \"foo\""},
        {"{\"workload\": \"alexnet\", \"us\": -3}", "wakes[0]: us", "got -3"},
        {"{\"workload\": \"alexnet\", \"us\": 1e7}", "wakes[0]: us",
         "got 1e+07"},
        {"{\"workload\": \"alexnet\", \"us\": \"x\"}", "wakes[0].us",
         "got \"x\""},
        {"{\"workload\": \"alexnet\", \"us\": 2, \"factor\": 1}", "wakes[0]",
         "got \"factor\""},
        {"{\"workload\": \"alexnet\"}", "wakes[0].us", "nothing"},
    };
    for (size_t i = 0; i < sizeof exp / sizeof *exp; i++) {
        char m[512], name[32];
        snprintf(m, sizeof m, "\"wakes\": [%s]", exp[i].member);
        snprintf(name, sizeof name, "wake-bad%zu.json", i);
        char *path = exp_file(name, m);
        snprintf(out, sizeof out, "%s/exp%zu", root, i);
        tu_experiment_refused(path, exp[i].frag1, exp[i].frag2, out);
        free(path);
    }
}

/* An experiment's "wakes": compare (its one run) and a sweep cell run
 * what sim runs, and a run without them does not; the same cost from
 * the command line has the file's hash, another does not. */
static void compare_and_sweep_alike(void **state)
{
    (void)state;
    char *e = exp_file("wake-exp.json",
                       "\"seeds\": 1, \"policies\": [\"igniter\"], "
                       "\"wakes\": [{\"workload\": \"alexnet\", "
                       "\"us\": 120}]");
    lab_prepared p;
    char h_file[17], h_none[17], h_same[17], h_other[17];
    static const char *const none[] = {"none"}, *const same[] = {
                                                    "alexnet:120"},
                             *const other[] = {"alexnet:121"};
    prepare(e, NULL, 0, &p);
    const char *ds = simulate(&p, h_file);
    prepare(e, none, 1, &p);
    const char *dn = simulate(&p, h_none);
    prepare(e, same, 1, &p);
    memcpy(h_same, p.input_hash, 17);
    lab_prepared_free(&p);
    prepare(e, other, 1, &p);
    memcpy(h_other, p.input_hash, 17);
    lab_prepared_free(&p);
    assert_string_equal(h_same, h_file);
    assert_string_not_equal(h_other, h_file);
    assert_string_not_equal(h_none, h_file);
    char *a = tu_read_in(ds, "workloads.csv"), *b = tu_read_in(dn,
                                                               "workloads.csv");
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    const char *dc = tu_tmpdir();
    ut_err err;
    if (lab_compare(e, dc, 1, 0, NULL, NULL, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    char run[600];
    snprintf(run, sizeof run, "%s/runs/igniter-s1", dc);
    tu_same_files(ds, run, outputs + 1, 3);

    char text[1024];
    snprintf(text, sizeof text, "{\"base\": \"%s\", \"axes\": {\"seed\": "
             "[1]}}", e);
    char *sw = tu_write_temp("wake-sweep.json", text);
    lab_sweep s;
    if (lab_sweep_load(sw, &s, &err) < 0)
        fail_msg("%s", err.msg);
    const char *dw = tu_tmpdir();
    assert_int_equal(lab_sweep_run_cell(&s, 0, dw, 0, NULL, &err),
                     LAB_CELL_DONE);
    char cell[900];
    lab_cell_dir(dw, &s, 0, cell, sizeof cell);
    tu_same_files(ds, cell, outputs + 1, 3);
    lab_sweep_free(&s);
    free(sw);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_and_back_to_back_exact),
        cmocka_unit_test(deterministic_recorded_hashed),
        cmocka_unit_test(compare_and_sweep_alike),
        cmocka_unit_test(bad_input_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
