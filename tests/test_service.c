/*
 * test_service.c - sampled service times in the simulator (the measured
 * back end, model/servdist.c): M/G/1 waiting time against
 * Pollaczek-Khinchine, the sampled mean against the interpolated mean,
 * determinism, streams that do not depend on other workloads, and the
 * mean-only variant.
 */
#include "testutil.h"

#include "model/model.h"
#include "sim/sim.h"

/* One model "m": batch 1 at 50 % (1.6 ms) and 100 % (1.0 ms), a wide
 * measured distribution at 100 % (its shape: SCV about 0.3) and a std
 * only at 50 %. */
static const char *meas_text =
    "{\"m\": {\"latency\": {\"1\": {\"50\": 1.6, \"100\": 1.0}}}}\n"
    "{\"m\": {\"std\": {\"1\": {\"50\": 0.4}}}}\n"
    "{\"m\": {\"quantiles\": {\"1\": {\"100\": [0.2, 0.3, 0.4, 0.5, 0.7, "
    "0.9, 1.1, 1.5, 1.9, 2.6, 3.2, 4.0]}}}}\n";

static mdl_measured meas;

static int setup(void **state)
{
    (void)state;
    ut_err err;
    char *path = tu_write_temp("meas.jsonl", meas_text);
    int rc = mdl_measured_load(path, &meas, &err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err.msg);
    free(path);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    mdl_measured_free(&meas);
    return 0;
}

/* A run of nw workloads of model m, batch 1, each alone on a GPU of its
 * own at share_pct, Poisson at rate_rps, for duration_s. */
static void run(const char *backend, size_t nw, double share_pct,
                double rate_rps, double duration_s, uint64_t seed,
                const char *dir, fe_result *r)
{
    pol_gpu g[4];
    pol_instance in[4];
    fe_workload_cfg w[4];
    assert_true(nw <= 4);
    memset(g, 0, sizeof g);
    memset(in, 0, sizeof in);
    for (size_t i = 0; i < nw; i++) {
        snprintf(in[i].name, sizeof in[i].name, "W%zu", i);
        snprintf(in[i].model, sizeof in[i].model, "m");
        in[i].batch = 1;
        in[i].share_pct = share_pct;
        in[i].rate_rps = rate_rps;
        in[i].slo_ms = 100;
        g[i].n = 1;
        g[i].inst = &in[i];
        fe_workload_defaults(&w[i], in[i].name, rate_rps);
        w[i].queue_limit = 10000000;
    }
    pol_plan p;
    memset(&p, 0, sizeof p);
    p.ngpus = nw;
    p.gpus = g;
    sim_config c;
    memset(&c, 0, sizeof c);
    c.run.plan = &p;
    c.measured = &meas;
    c.backend = backend;
    c.run.duration_s = duration_s;
    c.run.interval_s = 10;
    c.run.seed = seed;
    c.run.wcfg = w;
    c.run.nw = nw;
    ut_err err;
    if (sim_run(&c, dir, r, &err) < 0)
        fail_msg("%s", err.msg);
}

/*
 * M/G/1: Poisson arrivals at 700/s, batch 1, service drawn from the
 * measured shape at 1.0 ms mean (rho 0.7): the mean wait in queue must be
 * W = lambda E[S^2] / (2 (1 - rho)), E[S^2] the shape's exact second
 * moment. Tolerance: 1,400,000 requests; the mean wait of an M/M/1 at
 * rho 0.7 has an asymptotic variance of about 336 E[S]^2 / N (Daley's
 * formula), a standard error of 0.7 % of W here, and this shape's
 * variability is below the exponential's: 4 % is over 5 standard errors.
 * The measured-mean back end gives the M/D/1 wait, which is smaller.
 */
static void mg1_pollaczek_khinchine(void **state)
{
    (void)state;
    mdl_servdist d;
    mdl_measured_servdist(&meas, 0, 1, 100, &d);
    assert_int_equal(d.kind, MDL_SD_QUANT);
    double lambda = 700.0 / 1000, es = 1.0;          /* per ms; ms */
    double es2 = mdl_sd_moment2(&d) * es * es;
    double rho = lambda * es;
    double pk = lambda * es2 / (2 * (1 - rho));
    assert_true(es2 > 1.2);         /* the shape is wide: not M/D/1 */
    fe_result r;
    run("measured", 1, 100, 700, 2000, 1, tu_tmpdir(), &r);
    double wait = r.w[0].queue_ns_sum / (double)r.w[0].batch_items / 1e6;
    double svc = r.w[0].service_ns_sum / (double)r.w[0].service_batches / 1e6;
    if (fabs(wait - pk) > 0.04 * pk || fabs(svc - es) > 0.005)
        fail_msg("mean wait %.4f ms, Pollaczek-Khinchine %.4f ms; mean "
                 "service %.4f ms", wait, pk, svc);
    fe_result_free(&r);
    run("measured-mean", 1, 100, 700, 2000, 1, tu_tmpdir(), &r);
    double md1 = lambda * es * es / (2 * (1 - rho));
    wait = r.w[0].queue_ns_sum / (double)r.w[0].batch_items / 1e6;
    svc = r.w[0].service_ns_sum / (double)r.w[0].service_batches / 1e6;
    if (fabs(wait - md1) > 0.04 * md1 || svc != es)
        fail_msg("mean-only: mean wait %.4f ms, M/D/1 %.4f ms; service "
                 "%.6f ms", wait, md1, svc);
    fe_result_free(&r);
}

/* At 75 % (between the measured 50 and 100 %), the sampled service times
 * average to the interpolated mean: N = 300,000 batches of CV about 0.55
 * give a standard error of 0.1 %; 0.5 % allowed. */
static void sampled_mean_is_interpolated_mean(void **state)
{
    (void)state;
    double mean = mdl_measured_solo_ms(&meas, 0, 1, 75);
    assert_true(mean > 1.0 && mean < 1.6);
    fe_result r;
    run("measured", 1, 75, 300, 1000, 7, tu_tmpdir(), &r);
    double svc = r.w[0].service_ns_sum / (double)r.w[0].service_batches / 1e6;
    if (fabs(svc - mean) > 0.005 * mean)
        fail_msg("sampled mean %.5f ms, interpolated %.5f ms", svc, mean);
    fe_result_free(&r);
}

/* Same inputs and seed: the same bytes; another seed: other bytes. */
static void sampled_runs_are_deterministic(void **state)
{
    (void)state;
    const char *d[3] = {tu_tmpdir(), tu_tmpdir(), tu_tmpdir()};
    uint64_t seed[3] = {5, 5, 6};
    fe_result r;
    for (int i = 0; i < 3; i++) {
        run("measured", 2, 50, 400, 30, seed[i], d[i], &r);
        fe_result_free(&r);
    }
    static const char *files[] = {"workloads.csv", "timeseries.csv",
                                  "summary.json"};
    tu_same_files(d[0], d[1], files, 3);
    char *a = tu_read_in(d[0], files[0]), *c = tu_read_in(d[2], files[0]);
    assert_string_not_equal(a, c);
    free(a);
    free(c);
}

/* A workload's draws are its own: W0 alone and W0 beside W1 (on another
 * GPU) see the same service times, so the same statistics. */
static void streams_do_not_depend_on_other_workloads(void **state)
{
    (void)state;
    fe_result one, two;
    run("measured", 1, 50, 400, 20, 3, tu_tmpdir(), &one);
    run("measured", 2, 50, 400, 20, 3, tu_tmpdir(), &two);
    assert_true(one.w[0].service_ns_sum == two.w[0].service_ns_sum);
    assert_true(one.w[0].queue_ns_sum == two.w[0].queue_ns_sum);
    /* and the two workloads' streams differ */
    assert_true(two.w[0].service_ns_sum != two.w[1].service_ns_sum);
    fe_result_free(&one);
    fe_result_free(&two);
}

/* The shapes: quantiles normalised to mean 1, a lognormal's moments, the
 * nearest point's kind (quantiles at 100 %, std at 50 %). */
static void shapes(void **state)
{
    (void)state;
    mdl_servdist d;
    mdl_sd_lognormal(0.25, &d);
    assert_int_equal(d.kind, MDL_SD_LOGN);
    assert_true(fabs(mdl_sd_moment2(&d) - (1 + 0.0625)) < 1e-12);
    assert_true(fabs(mdl_sd_at(&d, 0.5) - exp(-d.sigma * d.sigma / 2))
                < 1e-12);
    mdl_sd_lognormal(0, &d);
    assert_int_equal(d.kind, MDL_SD_NONE);
    assert_true(mdl_sd_at(&d, 0.3) == 1 && mdl_sd_moment2(&d) == 1);
    /* the piecewise-linear quantile function integrates to 1: a fine
     * midpoint sum over u */
    mdl_measured_servdist(&meas, 0, 1, 100, &d);
    double s = 0, s2 = 0;
    int n = 1000000;
    for (int i = 0; i < n; i++) {
        double x = mdl_sd_at(&d, (i + 0.5) / n);
        s += x;
        s2 += x * x;
    }
    assert_true(fabs(s / n - 1) < 1e-6);
    assert_true(fabs(s2 / n - mdl_sd_moment2(&d)) < 1e-5);
    mdl_measured_servdist(&meas, 0, 1, 50, &d);
    assert_int_equal(d.kind, MDL_SD_LOGN);
    assert_true(fabs(mdl_sd_moment2(&d) - (1 + 0.25 * 0.25 * 1.0)) < 1e-12);
}

/* A distribution off the latency table, or a malformed one, is refused
 * naming the model and the point. */
static void bad_tables_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"m\": {\"latency\": {\"1\": {\"100\": 1}}, \"std\": {\"2\": "
         "{\"100\": 0.1}}}}\n",
         ": m.std.2.100: expected a point of the latency table"},
        {"{\"m\": {\"latency\": {\"1\": {\"100\": 1}}, \"std\": {\"1\": "
         "{\"100\": -1}}}}\n",
         ": m.std.1.100: expected a non-negative number, got -1"},
        {"{\"m\": {\"latency\": {\"1\": {\"100\": 1}}, \"quantiles\": "
         "{\"1\": {\"100\": [1, 2]}}}}\n",
         ": m.quantiles.1.100: expected 12 non-decreasing"},
        {"{\"m\": {\"latency\": {\"1\": {\"100\": 1}}, \"quantiles\": "
         "{\"1\": {\"100\": [3,2,3,4,5,6,7,8,9,10,11,12]}}}}\n",
         ": m.quantiles.1.100: expected 12 non-decreasing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = tu_write_temp("bad.jsonl", bad[i].text);
        mdl_measured m;
        ut_err err;
        assert_int_equal(mdl_measured_load(path, &m, &err), -1);
        if (!strstr(err.msg, bad[i].msg) || !strstr(err.msg, path))
            fail_msg("%zu: %s", i, err.msg);
        free(path);
    }
}

/* The V100 file has no solo spread: its models take the median CV of
 * their pair rows. */
static void v100_falls_back_to_pair_cv(void **state)
{
    (void)state;
    mdl_measured m;
    ut_err err;
    assert_int_equal(mdl_measured_load(V100_MEASURED, &m, &err), 0);
    for (size_t t = 0; t < m.nsolo; t++) {
        assert_true(m.solo[t].pair_cv > 0 && m.solo[t].pair_cv < 1);
        mdl_servdist d;
        mdl_measured_servdist(&m, (int)t, 4, 50, &d);
        assert_int_equal(d.kind, MDL_SD_LOGN);
        double cv = m.solo[t].pair_cv;
        assert_true(fabs(mdl_sd_moment2(&d) - (1 + cv * cv)) < 1e-9);
    }
    mdl_measured_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes),
        cmocka_unit_test(bad_tables_refused),
        cmocka_unit_test(v100_falls_back_to_pair_cv),
        cmocka_unit_test(mg1_pollaczek_khinchine),
        cmocka_unit_test(sampled_mean_is_interpolated_mean),
        cmocka_unit_test(sampled_runs_are_deterministic),
        cmocka_unit_test(streams_do_not_depend_on_other_workloads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
