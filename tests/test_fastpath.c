/*
 * test_fastpath.c - the simulator's fast paths give the numbers of the
 * slower code they replace: the arrival generators' own Mersenne Twister
 * against GSL's mt19937 and gsl_ran_exponential, draw by draw, and the
 * histogram's direct increment against its general path (counts that
 * widen past a byte, ranges made in any order).
 */
#include "testutil.h"
#include "frontend/frontend.h"
#include "traces/traces.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

/* The reference: the generator's clock as a double, to integer ns as
 * trace_gen_next does (llround; never before the last time). */
static int64_t ref_ns(double t, int64_t *last)
{
    int64_t v = t <= 0 ? 0 : llround(t);
    if (v < *last)
        v = *last;
    *last = v;
    return v;
}

/* Poisson: the same times as gsl_rng_mt19937 + gsl_ran_exponential for
 * several seeds (0 included: GSL's default 4357) and keys, over more than
 * one refill of the twister's 624 words. */
static void poisson_matches_gsl(void **state)
{
    (void)state;
    const uint64_t seeds[] = {0, 1, 2, 42, 0xffffffffULL, 1ULL << 32,
                              0x123456789abcdefULL};
    const char *keys[] = {"w0", "resnet50", ""};
    const double rates[] = {1, 800, 1234.5, 1e6};
    for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++)
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            double rate = rates[(s + k) % 4];
            trace_spec sp;
            ut_err err;
            assert_int_equal(trace_spec_parse("poisson", rate, &sp, &err), 0);
            trace_gen *g = trace_gen_new(&sp, seeds[s], keys[k], &err);
            assert_non_null(g);
            gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(r, (unsigned long)trace_stream_seed(seeds[s], keys[k]));
            double t = 0;
            int64_t last = 0;
            for (int i = 0; i < 5000; i++) {
                t += gsl_ran_exponential(r, 1e9 / rate);
                int64_t want = ref_ns(t, &last);
                int64_t got = trace_gen_next(g);
                if (got != want)
                    fail_msg("seed %llu key '%s' draw %d: got %lld, "
                             "expected %lld", (unsigned long long)seeds[s],
                             keys[k], i, (long long)got, (long long)want);
            }
            gsl_rng_free(r);
            trace_gen_free(g);
        }
}

/* Schedule: the same gaps, step boundaries included. */
static void schedule_matches_gsl(void **state)
{
    (void)state;
    trace_spec sp;
    ut_err err;
    assert_int_equal(trace_spec_parse("schedule:0=1,2=3,5=0.5", 1000, &sp,
                                      &err), 0);
    trace_gen *g = trace_gen_new(&sp, 7, "w", &err);
    assert_non_null(g);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, (unsigned long)trace_stream_seed(7, "w"));
    double t = 0;
    size_t step = 0;
    int64_t last = 0;
    for (int i = 0; i < 20000; i++) {
        double tn;
        for (;;) {
            double rate = 1000 * sp.factor[step] / 1e9;
            tn = t + gsl_ran_exponential(r, 1 / rate);
            if (step + 1 < sp.nsteps && tn >= sp.step_s[step + 1] * 1e9) {
                t = sp.step_s[++step] * 1e9;
                continue;
            }
            break;
        }
        t = tn;
        assert_int_equal(trace_gen_next(g), ref_ns(t, &last));
    }
    assert_int_equal(step, 2);   /* every step was crossed */
    gsl_rng_free(r);
    trace_gen_free(g);
}

/* A histogram fed through fe_hist_add holds what one fed value by value
 * through fe_hist_merge of one-value histograms holds (the general path):
 * same quantiles, count, sum, min and max, with counts past 255 and
 * 65535 (widening) and ranges first met out of order. */
static void hist_fast_path_matches_merge(void **state)
{
    (void)state;
    fe_hist a, b, one;
    fe_hist_init(&a);
    fe_hist_init(&b);
    fe_hist_init(&one);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t v;
        if (i % 3 == 0)
            v = 5000;                             /* one hot bucket */
        else if (i % 7 == 0)
            v = (int64_t)(x % 100);               /* exact values */
        else
            v = (int64_t)(x >> (20 + x % 24));    /* ranges at random */
        fe_hist_add(&a, v);
        fe_hist_reset(&one);
        fe_hist_add(&one, v);
        fe_hist_merge(&b, &one);
    }
    assert_int_equal(a.count, b.count);
    assert_true(a.sum == b.sum);
    assert_int_equal(a.min, b.min);
    assert_int_equal(a.max, b.max);
    for (int q = 1; q <= 1000; q++)
        assert_int_equal(fe_hist_quantile(&a, q / 1000.0),
                         fe_hist_quantile(&b, q / 1000.0));
    fe_hist_free(&a);
    fe_hist_free(&b);
    fe_hist_free(&one);
}

/* trace_round_ns is llround over [0, 2^63): halves (up), the doubles
 * either side of them, integers, values where a double has no fraction
 * left, and random ones over the whole range. */
static void round_matches_llround(void **state)
{
    (void)state;
    const double fixed[] = {0, 0.25, 0.5, 1.5, 2.5, 0.49999999999999994,
                            4503599627370495.5, 4503599627370496.0,
                            9007199254740993.0, 1e18, 4e18, 9.2e18};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        double x = fixed[i];
        assert_int_equal(trace_round_ns(x), llround(x));
        double up = nextafter(x, INFINITY), down = nextafter(x, 0);
        assert_int_equal(trace_round_ns(up), llround(up));
        assert_int_equal(trace_round_ns(down), llround(down));
    }
    uint64_t s = 1;
    for (int i = 0; i < 1000000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double x = ldexp((double)(s >> 11), -(int)(s % 64));  /* < 2^53 */
        x *= (double)(1 + s % 1000);
        if (x >= 9.2e18)
            continue;
        if (trace_round_ns(x) != llround(x))
            fail_msg("x = %.17g: got %lld, llround %lld", x,
                     (long long)trace_round_ns(x), llround(x));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poisson_matches_gsl),
        cmocka_unit_test(schedule_matches_gsl),
        cmocka_unit_test(hist_fast_path_matches_merge),
        cmocka_unit_test(round_matches_llround),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
