/*
 * test_traces.c - arrival processes (traces/): the statistics of each
 * generator, the Azure trace and its rescaling, per-stream determinism,
 * every parse error naming its input, the bounds that keep a generator
 * advancing, and trace files read strictly.
 */
#include "testutil.h"
#include "traces/traces.h"

#define AZURE "traces/azure/azure-llm-2023-code.csv"

static trace_gen *gen(const char *spec, double rate, uint64_t seed,
                      const char *key)
{
    trace_spec s;
    ut_err err;
    if (trace_spec_parse(spec, rate, &s, &err) < 0)
        fail_msg("%s", err.msg);
    trace_gen *g = trace_gen_new(&s, seed, key, &err);
    if (!g)
        fail_msg("%s", err.msg);
    return g;
}

/* mean and squared coefficient of variation of n inter-arrival gaps (s) */
static void gaps(trace_gen *g, size_t n, double *mean, double *scv)
{
    double prev = 0, s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)trace_gen_next(g) / 1e9, d = t - prev;
        prev = t;
        s += d;
        s2 += d * d;
    }
    *mean = s / (double)n;
    *scv = (s2 / (double)n - *mean * *mean) / (*mean * *mean);
}

static void test_poisson_and_gamma_moments(void **state)
{
    (void)state;
    double mean, scv;
    trace_gen *g = gen("poisson", 200, 1, "W1");
    gaps(g, 1000000, &mean, &scv);
    assert_close(mean, 1.0 / 200, 0.01);
    assert_close(scv, 1, 0.02);
    trace_gen_free(g);
    g = gen("gamma:2", 200, 1, "W1");
    gaps(g, 1000000, &mean, &scv);
    assert_close(mean, 1.0 / 200, 0.01);
    assert_close(scv, 4, 0.03);
    trace_gen_free(g);
}

static void test_constant_is_exact(void **state)
{
    (void)state;
    trace_gen *g = gen("constant", 3, 1, "W");
    for (int i = 1; i <= 1000; i++)
        assert_true(trace_gen_next(g) == llround(i * 1e9 / 3));
    trace_gen_free(g);
}

static void test_schedule_doubles_the_rate(void **state)
{
    (void)state;
    trace_gen *g = gen("schedule:0=1,300=2", 100, 3, "W");
    size_t before = 0, after = 0;
    for (;;) {
        int64_t t = trace_gen_next(g);
        if (t >= 600000000000LL)
            break;
        if (t < 300000000000LL)
            before++;
        else
            after++;
    }
    assert_close((double)before, 30000, 0.01);
    assert_close((double)after, 60000, 0.01);
    trace_gen_free(g);
}

static void test_replay_rescales_and_loops(void **state)
{
    (void)state;
    char *csv = tu_write_temp("small.csv", "t\n10\n10.5\n12\n13\n");
    char spec[256];
    /* 4 arrivals spanning 3 s: period 4 s; at 2 req/s the period is 2 s,
     * so times scale by 0.5 */
    snprintf(spec, sizeof spec, "replay:%s:loop", csv);
    trace_gen *g = gen(spec, 2, 1, "W");
    static const double want[] = {0, 0.25, 1, 1.5, 2, 2.25, 3, 3.5, 4};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(trace_gen_next(g) == llround(want[i] * 1e9));
    trace_gen_free(g);
    snprintf(spec, sizeof spec, "replay:%s", csv);
    g = gen(spec, 2, 1, "W");
    for (int i = 0; i < 4; i++)
        assert_true(trace_gen_next(g) < INT64_MAX);
    assert_true(trace_gen_next(g) == INT64_MAX);
    trace_gen_free(g);
    free(csv);
}

static void test_azure_trace(void **state)
{
    (void)state;
    double *t;
    size_t n;
    ut_err err;
    if (trace_load_csv(AZURE, &t, &n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 8819);   /* data rows of the file */
    assert_true(t[0] == 0);
    for (size_t i = 1; i < n; i++)
        assert_true(t[i] >= t[i - 1]);
    /* second row: 18:17:04.0319600 - 18:17:03.9799600 */
    assert_close(t[1], 0.052, 1e-9);
    free(t);
    /* at 10 req/s, one loop of 8819 arrivals lasts 881.9 s */
    trace_gen *g = gen("replay:" AZURE ":loop", 10, 1, "W");
    int64_t last = 0;
    for (size_t i = 0; i <= n; i++)
        last = trace_gen_next(g);
    assert_close((double)last / 1e9, 881.9, 1e-9);
    trace_gen_free(g);
}

static void test_streams_are_independent_and_deterministic(void **state)
{
    (void)state;
    trace_gen *a = gen("poisson", 100, 42, "W1");
    trace_gen *other = gen("poisson", 100, 42, "W2");
    trace_gen *b = gen("poisson", 100, 42, "W1");
    int same_other = 1;
    for (int i = 0; i < 1000; i++) {
        int64_t x = trace_gen_next(a), y = trace_gen_next(b);
        assert_true(x == y);
        if (trace_gen_next(other) != x)
            same_other = 0;
    }
    assert_false(same_other);
    trace_gen_free(a);
    trace_gen_free(b);
    trace_gen_free(other);
    assert_true(trace_stream_seed(1, "W1") != trace_stream_seed(2, "W1"));
    assert_true(trace_stream_seed(1, "W1") == trace_stream_seed(1, "W1"));
}

static void parse_fails(const char *spec, const char *frag)
{
    trace_spec s;
    ut_err err;
    assert_int_equal(trace_spec_parse(spec, 10, &s, &err), -1);
    if (!strstr(err.msg, frag))
        fail_msg("'%s': expected \"%s\" in: %s", spec, frag, err.msg);
}

static void test_bad_specs(void **state)
{
    (void)state;
    parse_fails("nosuch", "poisson, constant, gamma, schedule, replay");
    parse_fails("gamma:-1", "'-1'");
    parse_fails("gamma", "coefficient of variation");
    parse_fails("schedule:10=1", "time 0");
    parse_fails("schedule:0=1,300=2,200=3", "after 300");
    parse_fails("schedule:0=1,300=0", "positive factor");
    parse_fails("schedule:0=1,x", "SECONDS=FACTOR");
    cJSON *j = cJSON_Parse("{\"kind\":\"gamma\",\"cv\":-2}");
    trace_spec s;
    ut_err err;
    assert_int_equal(trace_spec_from_json(j, 10, "exp.json: w[0].arrivals",
                                          NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "exp.json: w[0].arrivals.cv"));
    assert_non_null(strstr(err.msg, "-2"));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"kind\":\"burst\"}");
    assert_int_equal(trace_spec_from_json(j, 10, "x", NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "x.kind"));
    assert_non_null(strstr(err.msg, "\"burst\""));
    cJSON_Delete(j);
    j = cJSON_Parse("{\"kind\":\"schedule\",\"steps\":[[0,1],[60,2]]}");
    assert_int_equal(trace_spec_from_json(j, 10, "x", NULL, &s, &err), 0);
    assert_int_equal(s.nsteps, 2);
    char *back = trace_spec_to_json(&s);
    assert_string_equal(back, "{\"kind\": \"schedule\", \"rate_rps\": 10, "
                              "\"steps\": [[0, 1], [60, 2]]}");
    free(back);
    cJSON_Delete(j);
}

static void test_bad_trace_files(void **state)
{
    (void)state;
    double *t;
    size_t n;
    ut_err err;
    char *p = tu_write_temp("bad.csv", "TIMESTAMP,x\n2023-11-16 18:17:03.1,1\n"
                                       "2023-11-16 18:17:04.5,2\nyesterday,3\n");
    assert_int_equal(trace_load_csv(p, &t, &n, &err), -1);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, ":4:"));
    assert_non_null(strstr(err.msg, "'yesterday'"));
    free(p);
    p = tu_write_temp("back.csv", "1.5\n2.5\n2.0\n");
    assert_int_equal(trace_load_csv(p, &t, &n, &err), -1);
    assert_non_null(strstr(err.msg, ":3:"));
    assert_non_null(strstr(err.msg, "not before"));
    free(p);
    p = tu_write_temp("one.csv", "header\n5\n");
    assert_int_equal(trace_load_csv(p, &t, &n, &err), -1);
    assert_non_null(strstr(err.msg, "at least 2"));
    free(p);
    assert_int_equal(trace_load_csv("/nonexistent.csv", &t, &n, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open '/nonexistent.csv'"));
}

/* Specs that once hung the simulator or made arrivals go back (issue 14,
 * found again by fuzz/fuzz_arrivals.c): gamma:1e-200 and gamma:1e300 gave
 * NaN gaps (llround(NaN) put an arrival at INT64_MIN), gamma:1e10 and
 * schedule:0=1e300 gaps that are all 0, time never advancing. Each
 * parameter is bounded, and the message says the bounds. */
static void test_spec_bounds(void **state)
{
    (void)state;
    parse_fails("gamma:1e-200", "[0.01, 10], got '1e-200'");
    parse_fails("gamma:1e300", "[0.01, 10], got '1e300'");
    parse_fails("gamma:1e10", "[0.01, 10], got '1e10'");
    parse_fails("gamma:nan", "got 'nan'");
    parse_fails("schedule:0=1e300", "[1e-06, 1e+09], got 1e+300");
    parse_fails("schedule:0=1,1e300=2", "at most 9e+09 s, got 1e+300");
    parse_fails("schedule:0=1e-300", "positive factor");
    trace_spec s;
    ut_err err;
    assert_int_equal(trace_spec_parse("poisson", 1e12, &s, &err), -1);
    assert_non_null(strstr(err.msg, "--arrivals: expected a rate in [1e-06, "
                                    "1e+09] requests/s, got 1e+12"));
    cJSON *j = cJSON_Parse("{\"kind\":\"gamma\",\"cv\":1e10}");
    assert_int_equal(trace_spec_from_json(j, 10, "x", NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "x.cv: expected a coefficient of "
                                    "variation in [0.01, 10], got 1e+10"));
    cJSON_Delete(j);
    /* the bounds hold at the edges */
    trace_gen *g = gen("gamma:10", 1e9, 1, "W");
    int64_t prev = trace_gen_next(g), first = prev;
    for (int i = 0; i < 1000; i++) {
        int64_t t = trace_gen_next(g);
        assert_true(t >= prev);
        prev = t;
    }
    assert_true(prev > first);
    trace_gen_free(g);
}

/* The generator checks its spec again (a caller may set the rate after
 * parsing) and keeps its promise whatever a kind computes: never a
 * negative time, never one before the last, and the end stays the end. */
static void test_generator_refuses_and_never_goes_back(void **state)
{
    (void)state;
    trace_spec s;
    ut_err err;
    if (trace_spec_parse("gamma:2", 10, &s, &err) < 0)
        fail_msg("%s", err.msg);
    s.cv = 1e-200;
    assert_null(trace_gen_new(&s, 1, "W", &err));
    assert_non_null(strstr(err.msg, "coefficient of variation"));
    s.cv = 2;
    s.rate_rps = 1e300;
    assert_null(trace_gen_new(&s, 1, "W", &err));
    assert_non_null(strstr(err.msg, "got 1e+300"));
    if (trace_spec_parse("schedule:0=1,1=100", 1e6, &s, &err) < 0)
        fail_msg("%s", err.msg);
    s.rate_rps = 1e8;
    assert_null(trace_gen_new(&s, 1, "W", &err));
    assert_non_null(strstr(err.msg, "schedule: step 1"));
    s.rate_rps = 1e4;
    trace_gen *g = trace_gen_new(&s, 1, "W", &err);
    assert_non_null(g);
    int64_t prev = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t t = trace_gen_next(g);
        assert_true(t >= prev);
        prev = t;
    }
    assert_true(prev > (int64_t)1e9);   /* past the step at 1 s */
    trace_gen_free(g);
}

/* Trace files taken silently or read with undefined behaviour (issue 14):
 * a time of 1e19 s (an undefined cast to int64), "-1" on the first line
 * taken as a header, dates and plain numbers mixed, a fraction that strtod
 * read as ".5e3", a day that does not exist. */
static void test_trace_file_checks(void **state)
{
    (void)state;
    static const struct {
        const char *text, *frag1, *frag2;
    } bad[] = {
        {"0\n1e19\n", ":2:", "seconds in [0, 1e+12]"},
        {"-1\n1\n2\n", ":1:", "'-1'"},
        {"0\n2023-11-16 18:17:03\n", ":2:",
         "expected a number of seconds like the first one"},
        {"2023-11-16 18:17:03\n2023-11-16 18:17:04\n1800000000\n", ":3:",
         "expected a date and time like the first one"},
        {"2023-11-16 18:17:03\n2023-11-16 18:17:03.5e3\n", ":2:",
         "'2023-11-16 18:17:03.5e3'"},
        {"t\n2023-02-28 10:00:00\n2023-02-29 10:00:00\n", ":3:",
         "'2023-02-29 10:00:00'"},
        {"t\n2023-11-16 -1:17:03\n2023-11-16 18:17:04\n", ":2:", "-1:17"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *p = tu_write_temp("bad.csv", bad[i].text);
        double *t;
        size_t n;
        ut_err err;
        if (trace_load_csv(p, &t, &n, &err) == 0)
            fail_msg("%s: loaded %zu timestamps", bad[i].text, n);
        if (!strstr(err.msg, p) || !strstr(err.msg, bad[i].frag1) ||
            !strstr(err.msg, bad[i].frag2))
            fail_msg("%s: expected \"%s\" and \"%s\" in: %s", bad[i].text,
                     bad[i].frag1, bad[i].frag2, err.msg);
        free(p);
    }
    /* what stays good: a header, a leap day, a leap second, fractions */
    char *p = tu_write_temp("good.csv", "TIMESTAMP,x\n"
                                        "2024-02-29 23:59:59.5,1\n"
                                        "2024-02-29 23:59:60.25,2\n"
                                        "2024-03-01 00:00:01,3\n");
    double *t;
    size_t n;
    ut_err err;
    if (trace_load_csv(p, &t, &n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(n, 3);
    assert_close(t[1], 0.75, 1e-12);
    assert_close(t[2], 1.5, 1e-12);   /* second 60 is the next minute's 0 */
    free(t);
    free(p);
}

/* A trace file replayed by many streams is read once: the second stream
 * of a trace_files does not open it again (it is gone by then), and both
 * give the arrivals a stream of its own gives. */
static void test_replay_file_loaded_once(void **state)
{
    (void)state;
    char *csv = tu_write_temp("once.csv", "t\n0\n0.5\n1.25\n2\n3\n");
    trace_spec sp;
    char spec[600];
    snprintf(spec, sizeof spec, "replay:%s:loop", csv);
    ut_err err;
    assert_int_equal(trace_spec_parse(spec, 10, &sp, &err), 0);
    trace_gen *alone = trace_gen_new(&sp, 1, "a", &err);
    assert_non_null(alone);
    trace_files *tf = trace_files_new();
    trace_gen *g1 = trace_gen_new_shared(&sp, 1, "a", tf, &err);
    assert_non_null(g1);
    unlink(csv);
    trace_gen *g2 = trace_gen_new_shared(&sp, 1, "b", tf, &err);
    if (!g2)
        fail_msg("the second stream read the file again: %s", err.msg);
    for (int k = 0; k < 20; k++) {
        int64_t t = trace_gen_next(alone);
        assert_true(trace_gen_next(g1) == t);
        assert_true(trace_gen_next(g2) == t);
    }
    trace_gen_free(g1);
    trace_gen_free(g2);
    trace_gen_free(alone);
    trace_files_free(tf);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_poisson_and_gamma_moments),
        cmocka_unit_test(test_constant_is_exact),
        cmocka_unit_test(test_schedule_doubles_the_rate),
        cmocka_unit_test(test_replay_rescales_and_loops),
        cmocka_unit_test(test_azure_trace),
        cmocka_unit_test(test_streams_are_independent_and_deterministic),
        cmocka_unit_test(test_bad_specs),
        cmocka_unit_test(test_bad_trace_files),
        cmocka_unit_test(test_replay_file_loaded_once),
        cmocka_unit_test(test_spec_bounds),
        cmocka_unit_test(test_generator_refuses_and_never_goes_back),
        cmocka_unit_test(test_trace_file_checks),
    };
    return cmocka_run_group_tests_name("traces", tests, NULL, NULL);
}
