/*
 * test_colocation.c - the measured back end's reality (model/colocation.c):
 * solo latencies exact at every measured point and sensible between and
 * beyond them, pair slow-downs that reproduce all 750 measured pairs
 * exactly, the fallback for unmeasured pairs, the composition for more
 * than two workloads, and bad measured files refused with a message.
 */
#include "testutil.h"
#include "model/model.h"

static mdl_measured m;

static int setup(void **state)
{
    (void)state;
    ut_err err;
    if (mdl_measured_load(V100_MEASURED, &m, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mdl_measured_free(&m);
    return 0;
}

static void test_solo_exact_at_measured_points(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t k = 0; k < m.nsolo; k++) {
        const mdl_solo_table *t = &m.solo[k];
        for (int b = 1; b <= MDL_MAX_BATCH; b++)
            for (size_t j = 0; j < t->nshares; j++) {
                if (isnan(t->lat_ms[b][j]))
                    continue;
                assert_close(mdl_measured_solo_ms(&m, (int)k, b,
                                                  t->share_pct[j]),
                             t->lat_ms[b][j], 1e-12);
                checked++;
            }
    }
    assert_int_equal(checked, 4 * (32 * 5 + 2));
}

static void test_solo_between_and_beyond(void **state)
{
    (void)state;
    int vg = mdl_measured_find(&m, "vgg19");
    assert_true(vg >= 0);
    const mdl_solo_table *t = &m.solo[vg];
    /* between 20 % (index 1) and 40 % (index 2) at batch 8 */
    double l30 = mdl_measured_solo_ms(&m, vg, 8, 30);
    assert_true(l30 < t->lat_ms[8][1] && l30 > t->lat_ms[8][2]);
    /* below the smallest measured share: slower than at 20 %, finite */
    double l75 = mdl_measured_solo_ms(&m, vg, 8, 7.5);
    assert_true(l75 > t->lat_ms[8][1] && isfinite(l75));
    /* batches beyond 32 keep growing */
    assert_true(mdl_measured_solo_ms(&m, vg, 40, 50) >
                mdl_measured_solo_ms(&m, vg, 32, 50));
    /* more share is faster, more batch is slower, across the table */
    for (int b = 2; b <= 32; b += 5)
        for (double r = 20; r < 100; r += 5) {
            assert_true(mdl_measured_solo_ms(&m, vg, b, r + 5) <
                        mdl_measured_solo_ms(&m, vg, b, r));
            assert_true(mdl_measured_solo_ms(&m, vg, b + 1, r) >
                        mdl_measured_solo_ms(&m, vg, b, r));
        }
}

static void test_pairs_reproduce_measurements(void **state)
{
    (void)state;
    assert_int_equal(m.npairs, 750);
    for (size_t i = 0; i < m.npairs; i++) {
        const mdl_pair *p = &m.pairs[i];
        mdl_place w[2] = {{mdl_measured_find(&m, p->a), p->batch_a,
                           p->share_a_pct},
                          {mdl_measured_find(&m, p->b), p->batch_b,
                           p->share_b_pct}};
        assert_close(p->share_b_pct, 100 - p->share_a_pct, 1e-12);
        double lat[2];
        mdl_measured_colocated(&m, w, 2, lat);
        assert_close(lat[0], p->lat_a_ms, 1e-12);
        assert_close(lat[1], p->lat_b_ms, 1e-12);
    }
}

static void test_one_workload_is_solo(void **state)
{
    (void)state;
    mdl_place w = {mdl_measured_find(&m, "ssd"), 5, 35};
    double lat;
    mdl_measured_colocated(&m, &w, 1, &lat);
    assert_true(lat == mdl_measured_solo_ms(&m, w.model, 5, 35));
}

static void test_clamping_and_fallback(void **state)
{
    (void)state;
    int ax = mdl_measured_find(&m, "alexnet"), rn = mdl_measured_find(&m,
                                                                   "resnet50");
    /* batch 1 is below the pair grid (2..32): clamped to batch 2 */
    assert_true(mdl_measured_slowdown(&m, ax, rn, 1, 4, 40) ==
                mdl_measured_slowdown(&m, ax, rn, 2, 4, 40));
    /* 10 % is below the grid's 20 % */
    assert_true(mdl_measured_slowdown(&m, ax, rn, 4, 4, 10) ==
                mdl_measured_slowdown(&m, ax, rn, 4, 4, 20));
    /* between grid points: between the neighbours' values */
    double lo = mdl_measured_slowdown(&m, ax, rn, 4, 4, 40),
           hi = mdl_measured_slowdown(&m, ax, rn, 4, 4, 50),
           mid = mdl_measured_slowdown(&m, ax, rn, 4, 4, 45);
    assert_close(mid, (lo + hi) / 2, 1e-12);
    /* alexnet beside alexnet was never measured: the mean over partners */
    double sum = 0;
    const char *partners[3] = {"resnet50", "vgg19", "ssd"};
    for (int k = 0; k < 3; k++)
        sum += mdl_measured_slowdown(&m, ax, mdl_measured_find(&m,
                                                               partners[k]),
                                     8, 8, 50);
    assert_close(mdl_measured_slowdown(&m, ax, ax, 8, 8, 50), sum / 3, 1e-12);
}

static void test_three_workloads_compose(void **state)
{
    (void)state;
    mdl_place w[3] = {{mdl_measured_find(&m, "alexnet"), 4, 10},
                      {mdl_measured_find(&m, "resnet50"), 8, 30},
                      {mdl_measured_find(&m, "vgg19"), 6, 37.5}};
    double lat[3];
    mdl_measured_colocated(&m, w, 3, lat);
    for (int i = 0; i < 3; i++) {
        double solo = mdl_measured_solo_ms(&m, w[i].model, w[i].batch,
                                           w[i].share_pct);
        double f = 1, rest = 100 - w[i].share_pct;
        for (int j = 0; j < 3; j++)
            if (j != i)
                f += (mdl_measured_slowdown(&m, w[i].model, w[j].model,
                                            w[i].batch, w[j].batch,
                                            w[i].share_pct) - 1) *
                     w[j].share_pct / rest;
        assert_close(lat[i], solo * f, 1e-12);
        assert_true(lat[i] > solo);
    }
}

/* Captured pairs need not fill the GPU (an H100 partition is whole groups
 * of 8 SMs): interference.share_b_pct gives b's own share, the slow-downs
 * are taken against the solo latency at that share, and a share that does
 * not fit beside a's is refused, naming the row. */
static void test_pairs_with_their_own_share_b(void **state)
{
    (void)state;
    static const char solo[] =
        "{\"x\": {\"latency\": {\"1\": {\"25\": 4.0, \"50\": 2.0, "
        "\"75\": 1.5}}}}\n"
        "{\"y\": {\"latency\": {\"1\": {\"25\": 8.0, \"50\": 5.0, "
        "\"75\": 4.0}}}}\n";
    char text[1024];
    snprintf(text, sizeof text, "%s{\"interference\": {\"latency\": "
             "[[\"x\", \"y\", 1, 1, 25, 4.4, 6.0]], \"share_b_pct\": [50]}}\n",
             solo);
    char *path = tu_write_temp("own-share.json", text);
    mdl_measured mm;
    ut_err err;
    if (mdl_measured_load(path, &mm, &err) < 0)
        fail_msg("%s", err.msg);
    assert_close(mm.pairs[0].share_b_pct, 50, 1e-12);
    mdl_place w[2] = {{mdl_measured_find(&mm, "x"), 1, 25},
                      {mdl_measured_find(&mm, "y"), 1, 50}};
    double lat[2];
    mdl_measured_colocated(&mm, w, 2, lat);
    assert_close(lat[0], 4.4, 1e-12);
    assert_close(lat[1], 6.0, 1e-12);   /* 1.2 x the solo 5.0 at 50 % */
    mdl_measured_free(&mm);
    free(path);
    snprintf(text, sizeof text, "%s{\"interference\": {\"latency\": "
             "[[\"x\", \"y\", 1, 1, 25, 4.4, 6.0]], \"share_b_pct\": [80]}}\n",
             solo);
    path = tu_write_temp("bad-share.json", text);
    assert_int_equal(mdl_measured_load(path, &mm, &err), -1);
    if (!strstr(err.msg, "share_b_pct[0]") || !strstr(err.msg, "(0, 75]"))
        fail_msg("unclear message: %s", err.msg);
    free(path);
}

/* Loads text as measured data and expects an error with both fragments. */
static void measured_fails(const char *text, const char *frag1,
                           const char *frag2)
{
    char *path = tu_write_temp("bad-measured.jsonl", text);
    mdl_measured mm;
    ut_err err;
    assert_int_equal(mdl_measured_load(path, &mm, &err), -1);
    if (!strstr(err.msg, path) || !strstr(err.msg, frag1) ||
        (frag2 && !strstr(err.msg, frag2)))
        fail_msg("for %s: expected \"%s\" and \"%s\" in: %s", text, frag1,
                 frag2 ? frag2 : "", err.msg);
    assert_int_equal(mm.nsolo, 0);
    free(path);
}

/* Measured data that once crashed or was taken silently (issue 14, found
 * by fuzz/fuzz_measured.c): a latency table or batch row that is an array
 * (its members have no names: NULL reached strtol, SIGSEGV); a batch of
 * 1e10 in a pair (an undefined cast to int); latencies that are negative,
 * infinite (1e999) or absurd, which every back end turns into integer
 * nanoseconds; a slow-down that overflows. Each is a message naming the
 * field and the value. */
static void test_bad_measured_data(void **state)
{
    (void)state;
    measured_fails("{\"a\":{\"latency\":[1]}}", "a.latency",
                   "expected an object of batches, got an array");
    measured_fails("{\"a\":{\"latency\":{\"1\":[1]}}}", "a.latency.1",
                   "expected an object of shares, got an array");
    measured_fails("{\"a\":{\"latency\":{}}}", "a.latency",
                   "an empty object");
    measured_fails("{\"a\":{\"latency\":{\"1\":{\"50\":-2}}}}",
                   "a.latency.1.50", "got -2");
    measured_fails("{\"a\":{\"latency\":{\"1\":{\"50\":1e999}}}}",
                   "a.latency.1.50", "[1e-06, 1e+09] ms");
    measured_fails("{\"a\":{\"latency\":{\"1\":{\"50\":1}},"
                   "\"l2cache\":{\"1\":{\"50\":300}}}}",
                   "a.l2cache.1.50", "a percentage in [0, 100], got 300");
    static const char ab[] =
        "{\"a\":{\"latency\":{\"1\":{\"50\":1}}}}\n"
        "{\"b\":{\"latency\":{\"1\":{\"50\":2}}}}\n";
    char text[512];
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1e10,1,50,1,2]]}}", ab);
    measured_fails(text, "latency[0][2]", "expected a batch in 1..32, got "
                   "1e+10");
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1,1.5,50,1,2]]}}", ab);
    measured_fails(text, "latency[0][3]", "got 1.5");
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1,1,50,1e999,2]]}}", ab);
    measured_fails(text, "latency[0][5]", "got infinity");
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1,1,50,1e300,2]]}}", ab);
    measured_fails(text, "latency[0]", "1e+300 ms");
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1,1,50,1e9,2]],\"share_b_pct\":[1e-300]}}",
             ab);
    measured_fails(text, "pair a/b", "expected a finite slow-down");
    snprintf(text, sizeof text, "%s{\"interference\":{\"latency\":"
             "[[\"a\",\"b\",1,1,50,1,2]]}}",
             "{\"\":{\"latency\":{\"1\":{\"50\":1}}}}\n");
    measured_fails(text, "expected a model name of 1..31 characters", NULL);
}

/* A solo table without a batch-1 row, asked for batch 1 (found by
 * fuzz/fuzz_measured.c): the latency of the nearest measured batch above,
 * never NaN (which every back end turns into an integer time). */
static void test_solo_without_batch_one(void **state)
{
    (void)state;
    char *path = tu_write_temp("no-batch-1.jsonl",
                               "{\"x\": {\"latency\": {\"2\": {\"50\": 3.0},"
                               " \"4\": {\"50\": 5.0}}}}\n");
    mdl_measured mm;
    ut_err err;
    if (mdl_measured_load(path, &mm, &err) < 0)
        fail_msg("%s", err.msg);
    assert_close(mdl_measured_solo_ms(&mm, 0, 1, 50), 3.0, 1e-12);
    assert_close(mdl_measured_solo_ms(&mm, 0, 1.5, 50), 3.0, 1e-12);
    assert_close(mdl_measured_solo_ms(&mm, 0, 3, 50), 4.0, 1e-12);
    mdl_measured_free(&mm);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solo_exact_at_measured_points),
        cmocka_unit_test(test_solo_between_and_beyond),
        cmocka_unit_test(test_pairs_reproduce_measurements),
        cmocka_unit_test(test_one_workload_is_solo),
        cmocka_unit_test(test_clamping_and_fallback),
        cmocka_unit_test(test_three_workloads_compose),
        cmocka_unit_test(test_pairs_with_their_own_share_b),
        cmocka_unit_test(test_bad_measured_data),
        cmocka_unit_test(test_solo_without_batch_one),
    };
    return cmocka_run_group_tests_name("colocation", tests, setup, teardown);
}
