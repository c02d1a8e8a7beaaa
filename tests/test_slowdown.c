/*
 * test_slowdown.c - slow-downs the planner did not predict
 * (fe_slowdown, `igniter sim --slowdown`, an experiment's "slowdowns"):
 * a batch starting in [from_s, to_s) takes exactly factor times the back
 * end's time and one outside it exactly the back end's (fixed and model
 * back ends); factor 1 changes no output byte; the paper's Fig. 17
 * scenario (experiments/fig17.json) makes igniter-sg switch with the
 * slow-down and not without; sim, compare and a sweep cell run the same
 * bytes; the run hash follows the slow-downs; two runs are byte-identical;
 * the parser reads names with colons; overlapping windows multiply, up to
 * a cap; bad input on the command line and in an experiment file is
 * refused with a message naming where and the value, exit status 2 and no
 * output.
 */
#define TU_SIM
#define TU_LAB
#include "testutil.h"
#include "lab/lab.h"


TU_FIT_FIXTURE(fit, V100_PROFILE)

#define FIG17 "experiments/fig17.json"

/* One workload "W" (model alexnet, batch 1, whole GPU) at constant
 * arrivals of rate_rps on back end `backend` (fixed: service_ms each),
 * with the slow-downs sd[0..n), simulated over [warm_s, dur_s). */
static fe_result run_w(const char *backend, double rate_rps,
                       double service_ms, const fe_slowdown *sd, size_t n,
                       double warm_s, double dur_s)
{
    tu_hplan t;
    tu_hplan_init(&t, 1, "V100", 3.06);
    tu_hplan_add(&t, 0, "W", "alexnet", 1, 100, rate_rps, 100);
    fe_workload_cfg w;
    fe_workload_defaults(&w, "W", rate_rps);
    w.arrivals.kind = TRACE_CONSTANT;
    w.service_ms = service_ms;
    for (size_t k = 0; k < n; k++)
        w.slow[w.nslow++] = sd[k];
    sim_config c;
    tu_sim_config(&c, &t.p, &fit, backend, &w, 1, dur_s, 7);
    c.run.warmup_s = warm_s;
    fe_result r;
    ut_err err;
    if (sim_run(&c, tu_tmpdir(), &r, &err) < 0)
        fail_msg("%s", err.msg);
    return r;
}

/* Fixed back end, 2 ms a batch of one, a request every 10 ms: nothing
 * waits, so a request's latency is its batch's time. With x1.5 over
 * [2, 4) s: every request arriving (and so starting) in [2, 4), the one
 * at exactly 2 s included, takes exactly 3 ms; every one before 2 s or
 * from 4 s on, the one at exactly 4 s included, exactly 2 ms. */
static void window_exact_on_fixed(void **state)
{
    (void)state;
    fe_slowdown sd = {1.5, 2, 4};
    struct {
        double warm, dur, want_ns;
    } cut[] = {{0, 2, 2e6}, {2, 4, 3e6}, {4, 6, 2e6}};
    for (size_t i = 0; i < 3; i++) {
        fe_result r = run_w("fixed", 100, 2, &sd, 1, cut[i].warm, cut[i].dur);
        const fe_wstats *s = &r.w[0];
        assert_true(s->completed >= 199);
        assert_int_equal(s->lat.min, (int64_t)cut[i].want_ns);
        assert_int_equal(s->lat.max, (int64_t)cut[i].want_ns);
        assert_close(s->service_ns_sum / (double)s->service_batches,
                     cut[i].want_ns, 1e-12);
        fe_result_free(&r);
    }
    /* the same run without it: 2 ms throughout */
    fe_result r = run_w("fixed", 100, 2, NULL, 0, 0, 6);
    assert_int_equal(r.w[0].lat.min, 2000000);
    assert_int_equal(r.w[0].lat.max, 2000000);
    fe_result_free(&r);
}

/* Overlapping windows multiply; the model back end (deterministic solo
 * latency) is slowed by exactly the factor too. */
static void any_backend_and_overlap(void **state)
{
    (void)state;
    fe_slowdown two[] = {{2, 0, 3}, {1.25, 1, INFINITY}};
    fe_result r = run_w("fixed", 50, 4, two, 2, 1, 3);   /* [1, 3): x2.5 */
    assert_int_equal(r.w[0].lat.min, 10000000);
    assert_int_equal(r.w[0].lat.max, 10000000);
    fe_result_free(&r);
    fe_result a = run_w("model", 50, 0, NULL, 0, 0, 4);
    fe_slowdown sd = {1.7, 0, INFINITY};
    fe_result b = run_w("model", 50, 0, &sd, 1, 0, 4);
    double ma = a.w[0].service_ns_sum / (double)a.w[0].service_batches;
    double mb = b.w[0].service_ns_sum / (double)b.w[0].service_batches;
    assert_true(ma > 1e5);
    assert_close(mb / ma, 1.7, 1e-6);   /* completions are whole ns */
    fe_result_free(&a);
    fe_result_free(&b);
}

/* lab_prepare of experiment e with the slow-downs spec[0..n) (n 0: the
 * experiment's), duration dur_s; the test fails where it is refused. */
static void prepare(const char *e, const char *const *spec, size_t n,
                    double dur_s, lab_prepared *p)
{
    lab_opts o;
    lab_opts_init(&o);
    o.experiment = e;
    o.slowdowns = spec;
    o.nslowdowns = n;
    o.duration_s = dur_s;
    ut_err err;
    if (lab_prepare(&o, p, &err) < 0)
        fail_msg("%s", err.msg);
}

/* Simulates p into a fresh folder; its results in *r, the folder back. */
static const char *simulate(lab_prepared *p, fe_result *r)
{
    const char *dir = tu_tmpdir();
    ut_err err;
    if (lab_simulate(p, dir, r, &err) < 0)
        fail_msg("%s", err.msg);
    return dir;
}

static const char *const outputs[] = {"summary.json", "workloads.csv",
                                      "timeseries.csv", "cdf.csv"};

/* The paper's Fig. 17: with AlexNet x1.172 the safeguard switches it to
 * more share at the end of second 1 (3 control intervals of 1/3 s over
 * the SLO); without, nothing fires. And on safeguard.json (1 s
 * intervals), a slow-down makes it fire where none does not. */
static void safeguard_fires_with_slowdown_only(void **state)
{
    (void)state;
    static const char *const none[] = {"none"};
    lab_prepared p;
    fe_result r;
    prepare(FIG17, NULL, 0, 3, &p);
    const char *dir = simulate(&p, &r);
    assert_int_equal(r.reconfigs, 1);
    fe_result_free(&r);
    lab_prepared_free(&p);
    /* AlexNet's share: 10 % in the intervals of second 1, 15 % after */
    char *ts = tu_read_in(dir, "timeseries.csv");
    assert_non_null(strstr(ts, "\n0.666666666,alexnet,"));
    const char *a = strstr(ts, "\n0.666666666,alexnet,"),
               *b = strstr(ts, "\n0.999999999,alexnet,");
    assert_non_null(b);
    int sa = 0, sb = 0;
    assert_int_equal(sscanf(a, "\n%*[^,],%*[^,],%*d,%*d,%*g,%*d,%d", &sa), 1);
    assert_int_equal(sscanf(b, "\n%*[^,],%*[^,],%*d,%*d,%*g,%*d,%d", &sb), 1);
    assert_int_equal(sa, 10);
    assert_int_equal(sb, 15);
    free(ts);
    prepare(FIG17, none, 1, 3, &p);
    simulate(&p, &r);
    assert_int_equal(r.reconfigs, 0);
    assert_true(fe_violation_pct(&r.w[0]) == 0);
    fe_result_free(&r);
    lab_prepared_free(&p);

    static const char *const slow[] = {"alexnet:1.3"};
    prepare("experiments/safeguard.json", slow, 1, 8, &p);
    simulate(&p, &r);
    assert_true(r.reconfigs >= 1);
    fe_result_free(&r);
    lab_prepared_free(&p);
    prepare("experiments/safeguard.json", NULL, 0, 8, &p);
    simulate(&p, &r);
    assert_int_equal(r.reconfigs, 0);
    fe_result_free(&r);
    lab_prepared_free(&p);
}

/* Same inputs, same bytes (slow-down events included); a factor of 1
 * changes no output but the record of it in summary.json. */
static void deterministic_and_factor_one_neutral(void **state)
{
    (void)state;
    lab_prepared p;
    fe_result r;
    prepare(FIG17, NULL, 0, 4, &p);
    const char *d1 = simulate(&p, &r);
    fe_result_free(&r);
    lab_prepared_free(&p);
    prepare(FIG17, NULL, 0, 4, &p);
    const char *d2 = simulate(&p, &r);
    fe_result_free(&r);
    lab_prepared_free(&p);
    tu_same_files(d1, d2, outputs, 4);

    static const char *const none[] = {"none"},
                             *const one[] = {"alexnet:1:0.5-2.5",
                                             "vgg19:1"};
    prepare(FIG17, none, 1, 4, &p);
    const char *d3 = simulate(&p, &r);
    fe_result_free(&r);
    lab_prepared_free(&p);
    prepare(FIG17, one, 2, 4, &p);
    const char *d4 = simulate(&p, &r);
    fe_result_free(&r);
    lab_prepared_free(&p);
    tu_same_files(d3, d4, outputs + 1, 3);
    char *s = tu_read_in(d4, "summary.json");
    assert_non_null(strstr(s, "\"slowdowns\": [{\"workload\": \"alexnet\", "
                              "\"factor\": 1, \"from_s\": 0.5, \"to_s\": "
                              "2.5}, {\"workload\": \"vgg19\""));
    free(s);
    s = tu_read_in(d3, "summary.json");
    assert_null(strstr(s, "slowdowns"));
    free(s);
}

/* An experiment file in a temporary folder: the V100 files (absolute
 * paths), igniter-sg, fig17's workloads and the members given. */
static char *exp_file(const char *name, const char *members)
{
    char cwd[512], text[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"measured\": \"%s/"
             V100_MEASURED "\", \"backend\": \"measured\", \"policy\": "
             "\"igniter-sg\", \"duration_s\": 3, \"interval_s\": "
             "0.3333333333333333, \"arrivals\": {\"kind\": \"constant\"}, "
             "\"workloads\": [{\"name\": \"alexnet\", \"model\": \"alexnet\","
             " \"slo_ms\": 15, \"rate_rps\": 500}, {\"name\": \"resnet50\", "
             "\"model\": \"resnet50\", \"slo_ms\": 40, \"rate_rps\": 400}, "
             "{\"name\": \"vgg19\", \"model\": \"vgg19\", \"slo_ms\": 60, "
             "\"rate_rps\": 200}]%s%s}", cwd, cwd, members[0] ? ", " : "",
             members);
    return tu_write_temp(name, text);
}

/* compare (its one run) and a sweep cell run what sim runs: the same
 * timeseries, workloads and CDF bytes. The run hash follows the
 * slow-downs: another factor, none, or the same spelt otherwise. */
static void compare_sweep_and_hash(void **state)
{
    (void)state;
    char *e = exp_file("sd-exp.json",
                       "\"seeds\": 1, \"policies\": [\"igniter-sg\"], "
                       "\"slowdowns\": [{\"workload\": \"alexnet\", "
                       "\"factor\": 1.172}]");
    lab_prepared p;
    fe_result r;
    prepare(e, NULL, 0, -1, &p);
    const char *ds = simulate(&p, &r);
    assert_int_equal(r.reconfigs, 1);
    fe_result_free(&r);
    char h_file[17];
    memcpy(h_file, p.input_hash, sizeof h_file);
    lab_prepared_free(&p);

    const char *dc = tu_tmpdir();
    ut_err err;
    if (lab_compare(e, dc, 1, 0, NULL, NULL, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    char run[600];
    snprintf(run, sizeof run, "%s/runs/igniter-sg-s1", dc);
    tu_same_files(ds, run, outputs + 1, 3);

    char cwd[512], text[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text, "{\"base\": \"%s\", \"axes\": {\"seed\": "
             "[1]}}", e);
    char *sw = tu_write_temp("sd-sweep.json", text);
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

    /* the hash: the file's slow-down, the same from the command line,
     * another factor, none */
    static const char *const same[] = {"alexnet:1.172"},
                             *const other[] = {"alexnet:1.171"},
                             *const none[] = {"none"};
    char h[3][17];
    const char *const *spec[] = {same, other, none};
    for (int i = 0; i < 3; i++) {
        prepare(e, spec[i], 1, -1, &p);
        memcpy(h[i], p.input_hash, 17);
        lab_prepared_free(&p);
    }
    assert_string_equal(h[0], h_file);
    assert_string_not_equal(h[1], h_file);
    assert_string_not_equal(h[2], h_file);
    assert_string_not_equal(h[1], h[2]);
    free(e);
}

/* The command-line form: a name with colons, a window, exponents. */
static void parse_forms(void **state)
{
    (void)state;
    const char *t;
    size_t n;
    fe_slowdown sd;
    ut_err err;
    assert_int_equal(fe_slowdown_parse("my:wl:1.5", "x", &t, &n, &sd, &err),
                     0);
    assert_int_equal(n, 5);
    assert_memory_equal(t, "my:wl", 5);
    assert_true(sd.factor == 1.5 && sd.from_s == 0 && isinf(sd.to_s));
    assert_int_equal(fe_slowdown_parse("a:2:0.5-1e1", "x", &t, &n, &sd, &err),
                     0);
    assert_true(n == 1 && sd.factor == 2 && sd.from_s == 0.5 &&
                sd.to_s == 10);
    assert_int_equal(fe_slowdown_parse("a:1e-1", "x", &t, &n, &sd, &err), 0);
    assert_true(n == 1 && sd.factor == 0.1);
    fe_workload_cfg wc;
    fe_workload_defaults(&wc, "a", 1);
    assert_true(fe_slowdown_factor(&wc, 0) == 1);
    /* overlapping windows multiply, capped at 1000 (int64 time) */
    fe_slowdown big = {600, 1, 3};
    wc.slow[wc.nslow++] = big;
    big.from_s = 2;
    big.to_s = 4;
    wc.slow[wc.nslow++] = big;
    assert_true(fe_slowdown_factor(&wc, 1500000000) == 600);
    assert_true(fe_slowdown_factor(&wc, 2000000000) == 1000);
    assert_true(fe_slowdown_factor(&wc, 3000000000) == 600);
    assert_true(fe_slowdown_factor(&wc, 999999999) == 1);
    fe_workload_defaults(&wc, "a", 1);
    fe_slowdown tiny = {0.01, 0, INFINITY};
    wc.slow[wc.nslow++] = tiny;
    wc.slow[wc.nslow++] = tiny;
    assert_true(fe_slowdown_factor(&wc, 0) == 0.001);
}

#define run_cli tu_igniter_err

/* Bad input: one message naming the option or the file and field and the
 * bad value, exit status 2, no output folder made. */
static void bad_input_refused(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *frag1, *frag2;
    } cli[] = {
        {"foo:1.5", "--slowdown 'foo:1.5'", "got \"foo\""},
        {"alexnet:0", "--slowdown 'alexnet:0'", "got 0"},
        {"alexnet:-2", "factor", "got -2"},
        {"alexnet:1e-4", "[0.001, 1000]", "got 0.0001"},
        {"alexnet:1001", "factor", "got 1001"},
        {"alexnet:abc", "factor", "got 'abc'"},
        {"alexnet:nan", "factor", "got 'nan'"},
        {"alexnet:1.5:2-1", "--slowdown 'alexnet:1.5:2-1'", "got 1"},
        {"alexnet", "WORKLOAD_OR_MODEL:FACTOR", "got 'alexnet'"},
    };
    const char *root = tu_tmpdir();
    for (size_t i = 0; i < sizeof cli / sizeof *cli; i++) {
        char out[600];
        snprintf(out, sizeof out, "%s/out%zu", root, i);
        tu_option_refused(FIG17, "--slowdown", cli[i].spec, cli[i].frag1,
                          cli[i].frag2, out);
    }
    /* serve has no slow-down: a real run measures its GPU */
    char err[4096], out[600];
    snprintf(out, sizeof out, "%s/serve", root);
    assert_int_equal(run_cli(err, sizeof err, "serve", FIG17, "--out", out,
                             "--slowdown", "alexnet:2", NULL), 2);
    assert_non_null(strstr(err, "--slowdown"));
    lab_opts o;
    lab_opts_init(&o);
    o.experiment = FIG17;
    o.for_serve = 1;
    lab_prepared p;
    ut_err e;
    assert_int_equal(lab_prepare(&o, &p, &e), -1);
    assert_non_null(strstr(e.msg, "slowdowns: expected none with igniter "
                                  "serve"));

    /* the experiment file: its path, the field and the value */
    static const struct {
        const char *member, *frag1, *frag2;
    } exp[] = {
        {"{\"workload\": \"foo\", \"factor\": 2}", "slowdowns[0].workload",
         "got \"foo\""},
        {"{\"workload\": \"alexnet\", \"factor\": 0}", "slowdowns[0]: factor",
         "got 0"},
        {"{\"workload\": \"alexnet\", \"factor\": \"x\"}",
         "slowdowns[0].factor", "got \"x\""},
        {"{\"workload\": \"alexnet\", \"factor\": 2, \"from_s\": 2, "
         "\"to_s\": 1}", "slowdowns[0]: to_s", "got 1"},
        {"{\"workload\": \"alexnet\", \"factor\": 2, \"to\": 1}",
         "slowdowns[0]", "got \"to\""},
        {"{\"workload\": \"alexnet\"}", "slowdowns[0].factor", "nothing"},
    };
    for (size_t i = 0; i < sizeof exp / sizeof *exp; i++) {
        char m[512], name[32];
        snprintf(m, sizeof m, "\"slowdowns\": [%s]", exp[i].member);
        snprintf(name, sizeof name, "sd-bad%zu.json", i);
        char *path = exp_file(name, m);
        snprintf(out, sizeof out, "%s/exp%zu", root, i);
        tu_experiment_refused(path, exp[i].frag1, exp[i].frag2, out);
        free(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_exact_on_fixed),
        cmocka_unit_test(any_backend_and_overlap),
        cmocka_unit_test(safeguard_fires_with_slowdown_only),
        cmocka_unit_test(deterministic_and_factor_one_neutral),
        cmocka_unit_test(compare_sweep_and_hash),
        cmocka_unit_test(parse_forms),
        cmocka_unit_test(bad_input_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
