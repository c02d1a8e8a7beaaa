/*
 * test_fastpath_md1.c - the shortcuts taken for the M/D/1 bench give what
 * the code they stand in for gives: fe_hist_add2 the bytes of two
 * fe_hist_add calls, fe_hist_quantile's walk from the top (quantiles above
 * one half) the nearest rank of the sorted values' buckets, and
 * fe_batcher_take what fe_batcher_ready and fe_batcher_pop take.
 */
#include "testutil.h"
#include "frontend/frontend.h"

#include <string.h>

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Values over many ranges, some exact, one hot bucket (counts widen). */
static int64_t draw(uint64_t *x, int i)
{
    uint64_t r = xorshift(x);
    if (i % 3 == 0)
        return 5000;
    if (i % 7 == 0)
        return (int64_t)(r % 100);
    if (i % 11 == 0)
        return -(int64_t)(r % 1000);   /* below 0: bucket 0 */
    return (int64_t)(r >> (20 + r % 24));
}

static void assert_same_hist(const fe_hist *a, const fe_hist *b)
{
    assert_int_equal(a->count, b->count);
    assert_memory_equal(&a->sum, &b->sum, sizeof a->sum);
    assert_int_equal(a->min, b->min);
    assert_int_equal(a->max, b->max);
    assert_int_equal(a->nblocks, b->nblocks);
    assert_int_equal(a->wlog, b->wlog);
    assert_memory_equal(a->slot, b->slot, sizeof a->slot);
    if (a->nblocks)
        assert_memory_equal(a->block, b->block,
                            ((size_t)a->nblocks * FE_HIST_SUB) << a->wlog);
}

/* Two histograms fed by fe_hist_add2 hold the bytes of two fed by
 * fe_hist_add, value by value, with resets between (an interval's) and
 * one fed alone now and then (requests of the warm-up). */
static void hist_add2_matches_two_adds(void **state)
{
    (void)state;
    fe_hist a1, b1, a2, b2;
    fe_hist_init(&a1);
    fe_hist_init(&b1);
    fe_hist_init(&a2);
    fe_hist_init(&b2);
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 300000; i++) {
        int64_t v = draw(&x, i);
        if (i % 5 == 1) {
            fe_hist_add(&a1, v);
            fe_hist_add(&a2, v);
        } else {
            fe_hist_add(&a1, v);
            fe_hist_add(&b1, v);
            fe_hist_add2(&a2, &b2, v);
        }
        if (i % 50000 == 49999) {
            assert_same_hist(&a1, &a2);
            fe_hist_reset(&a1);
            fe_hist_reset(&a2);
        }
    }
    assert_same_hist(&a1, &a2);
    assert_same_hist(&b1, &b2);
    fe_hist_free(&a1);
    fe_hist_free(&b1);
    fe_hist_free(&a2);
    fe_hist_free(&b2);
}

/* The histogram's bucket of v and its value, as frontend.h documents
 * them (the midpoint, the lower bound for exact ones), computed here
 * without hist.c. */
static int64_t bucket_mid(int64_t v)
{
    if (v < FE_HIST_SUB)
        return v < 0 ? 0 : v;
    int e = 63 - __builtin_clzll((unsigned long long)v);
    if (e > FE_HIST_MAX_LOG2) {
        e = FE_HIST_MAX_LOG2;
        v = ((int64_t)2 << FE_HIST_MAX_LOG2) - 1;   /* the top bucket */
    }
    int shift = e - FE_HIST_SUB_BITS;
    int64_t lo = (v >> shift) << shift;
    return lo + (((int64_t)1 << shift) >> 1);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank over the sorted values, the answer's bucket value kept
 * within [min, max], as fe_hist_quantile promises. */
static int64_t ref_quantile(const int64_t *sorted, size_t n, double q)
{
    uint64_t rank = (uint64_t)(q * (double)n);
    if ((double)rank < q * (double)n)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank >= n)
        return sorted[n - 1];
    int64_t v = bucket_mid(sorted[rank - 1]);
    return v < sorted[0] ? sorted[0] : v > sorted[n - 1] ? sorted[n - 1] : v;
}

/* Every quantile, the high ones from the top, of histograms of 1 to
 * 2,000 values and of 200,000 (counts past a byte and two). */
static void hist_quantile_matches_sorted(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 7, 100, 101, 999, 2000, 200000};
    int64_t *v = ut_xmalloc(200000 * sizeof *v);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        fe_hist h;
        fe_hist_init(&h);
        for (size_t i = 0; i < n; i++) {
            v[i] = draw(&x, (int)(i + s));
            if (v[i] < 0)
                v[i] = -v[i];   /* the recorder's latencies: never < 0 */
            fe_hist_add(&h, v[i]);
        }
        qsort(v, n, sizeof *v, cmp_i64);
        for (int q = 1; q <= 1000; q++)
            assert_int_equal(fe_hist_quantile(&h, q / 1000.0),
                             ref_quantile(v, n, q / 1000.0));
        const double odd[] = {0.5000001, 0.95, 0.99, 0.999, 0.9999, 1};
        for (size_t k = 0; k < sizeof odd / sizeof *odd; k++)
            assert_int_equal(fe_hist_quantile(&h, odd[k]),
                             ref_quantile(v, n, odd[k]));
        fe_hist_free(&h);
    }
    free(v);
}

/* fe_batcher_take against fe_batcher_ready then fe_batcher_pop, on two
 * queues fed the same arrivals, at batch sizes 1 to 5, with timeouts. */
static void batcher_take_matches_ready_pop(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int batch = 1; batch <= 5; batch++) {
        fe_batcher a, b;
        fe_batcher_init(&a, batch, 1000, 64);
        fe_batcher_init(&b, batch, 1000, 64);
        int64_t now = 0, out_a[8], out_b[8];
        for (int i = 0; i < 100000; i++) {
            now += (int64_t)(xorshift(&x) % 700);
            if (xorshift(&x) % 3)
                assert_int_equal(fe_batcher_push(&a, now),
                                 fe_batcher_push(&b, now));
            int k = fe_batcher_ready(&a, now);
            if (k)
                fe_batcher_pop(&a, k, out_a);
            assert_int_equal(fe_batcher_take(&b, now, out_b), k);
            assert_memory_equal(out_a, out_b, (size_t)k * sizeof *out_a);
            assert_int_equal(a.len, b.len);
            assert_int_equal(fe_batcher_deadline(&a),
                             fe_batcher_deadline(&b));
        }
        fe_batcher_free(&a);
        fe_batcher_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hist_add2_matches_two_adds),
        cmocka_unit_test(hist_quantile_matches_sorted),
        cmocka_unit_test(batcher_take_matches_ready_pop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
