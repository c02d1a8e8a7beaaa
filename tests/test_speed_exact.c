/*
 * test_speed_exact.c - the simulator's fast paths give exactly what the
 * paths they short-cut give (issue 13, item 7: every output byte kept).
 * Here: a back end that says it has no interference (no_interference,
 * which lets the engine time a batch once and never ask for factors)
 * gives exactly 1 for every factor, alone and beside others, so that
 * skipping factors changes no completion time.
 */
#define TU_SIM
#include "testutil.h"

TU_FIT_MEASURED_FIXTURE(fit, meas)

#define descs tu_descs3

static void test_no_interference_means_every_factor_is_one(void **state)
{
    (void)state;
    int flagged = 0;
    for (const sim_backend_ops *const *b = sim_backend_all(); *b; b++) {
        if (!(*b)->no_interference)
            continue;
        flagged++;
        void *st = NULL;
        ut_err err;
        sim_backend_args a = {&fit, &meas, descs, 3, 7};
        if ((*b)->init(&a, &st, &err) < 0)
            fail_msg("%s: %s", (*b)->name, err.msg);
        for (size_t n = 1; n <= 3; n++)
            for (int batch = 1; batch <= 32; batch *= 2) {
                sim_active act[3] = {{0, batch}, {1, 33 - batch}, {2, 1}};
                double f[3] = {0, 0, 0};
                (*b)->factors(st, act, n, f);
                for (size_t i = 0; i < n; i++)
                    if (f[i] != 1)
                        fail_msg("%s: factor %zu of %zu = %.17g", (*b)->name,
                                 i, n, f[i]);
            }
        (*b)->free(st);
    }
    assert_true(flagged >= 2);   /* fixed and measured-solo */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_interference_means_every_factor_is_one),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
