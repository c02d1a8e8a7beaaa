/*
 * test_backends.c - the conformance suite every simulator back end passes
 * (sim/backend.c's table, SQLite-VFS style): a complete, versioned ops
 * struct found by its name; init over a plan's instances; a finite,
 * positive solo time for every batch, the same on every run with the same
 * seed; no slow-down alone; finite, positive factors beside others; set()
 * redefines an instance and adds one past the last; an unknown model (or a
 * missing setting) is an error naming the workload; and a whole
 * simulation with it conserves requests. A new back end added to the
 * table is tested here with no edit to this file.
 */
#define TU_SIM
#include "testutil.h"

#include <math.h>

TU_FIT_MEASURED_FIXTURE(fit, meas)

#define descs tu_descs3

static sim_backend_args args_of(const sim_inst_desc *d, size_t n,
                                uint64_t seed)
{
    sim_backend_args a = {&fit, &meas, d, n, seed};
    return a;
}

static void test_table_is_complete_and_found_by_name(void **state)
{
    (void)state;
    const sim_backend_ops *const *all = sim_backend_all();
    size_t n = 0;
    char names[256];
    sim_backend_names(names, sizeof names);
    for (; all[n]; n++) {
        const sim_backend_ops *b = all[n];
        assert_int_equal(b->version, SIM_BACKEND_VERSION);
        assert_non_null(b->name);
        assert_true(b->name[0] != '\0');
        assert_non_null(b->summary);
        assert_non_null(b->init);
        assert_non_null(b->set);
        assert_non_null(b->solo_ns);
        assert_non_null(b->factors);
        assert_non_null(b->free);
        assert_ptr_equal(sim_backend_find(b->name), b);
        assert_non_null(strstr(names, b->name));
        for (size_t k = 0; k < n; k++)
            assert_string_not_equal(all[k]->name, b->name);
    }
    assert_true(n >= 3);
    assert_null(sim_backend_find("no-such-backend"));
}

static void test_solo_and_factors(void **state)
{
    (void)state;
    for (const sim_backend_ops *const *b = sim_backend_all(); *b; b++) {
        void *st = NULL;
        ut_err err;
        sim_backend_args a = args_of(descs, 3, 11);
        if ((*b)->init(&a, &st, &err) < 0)
            fail_msg("%s: %s", (*b)->name, err.msg);
        for (int i = 0; i < 3; i++)
            for (int batch = 1; batch <= 16; batch++) {
                double ns = (*b)->solo_ns(st, i, batch);
                if (!(ns > 0) || !isfinite(ns))
                    fail_msg("%s: solo_ns(%d, %d) = %g", (*b)->name, i, batch,
                             ns);
            }
        /* alone: no slow-down */
        sim_active one = {1, 4};
        double f1 = 0;
        (*b)->factors(st, &one, 1, &f1);
        assert_close(f1, 1.0, 1e-12);
        /* beside others: finite and positive */
        sim_active three[3] = {{0, 4}, {1, 8}, {2, 2}};
        double f[3];
        (*b)->factors(st, three, 3, f);
        for (int i = 0; i < 3; i++)
            if (!(f[i] > 0) || !isfinite(f[i]))
                fail_msg("%s: factor %d = %g", (*b)->name, i, f[i]);
        (*b)->free(st);
    }
}

/* Same seed, same numbers (the fixed back end's exponential draws
 * included); set() redefines an instance and adds one past the last. */
static void test_deterministic_and_set(void **state)
{
    (void)state;
    for (const sim_backend_ops *const *b = sim_backend_all(); *b; b++) {
        void *s1 = NULL, *s2 = NULL;
        ut_err err;
        sim_backend_args a = args_of(descs, 3, 5);
        assert_int_equal((*b)->init(&a, &s1, &err), 0);
        assert_int_equal((*b)->init(&a, &s2, &err), 0);
        for (int k = 0; k < 50; k++)
            assert_true((*b)->solo_ns(s1, k % 3, 1 + k % 8) ==
                        (*b)->solo_ns(s2, k % 3, 1 + k % 8));
        sim_inst_desc more = {"d", "alexnet", 10, 3.0, 0, 0};
        if ((*b)->set(s1, 3, &more, &err) < 0)
            fail_msg("%s: adding instance 3: %s", (*b)->name, err.msg);
        double ns = (*b)->solo_ns(s1, 3, 2);
        assert_true(ns > 0 && isfinite(ns));
        sim_inst_desc again = descs[0];
        again.share_pct = 60;
        again.service_ms = 4.0;
        assert_int_equal((*b)->set(s1, 0, &again, &err), 0);
        assert_true((*b)->solo_ns(s1, 0, 4) > 0);
        (*b)->free(s1);
        (*b)->free(s2);
    }
}

/* What a back end cannot run is an error naming the workload. */
static void test_bad_instance_names_the_workload(void **state)
{
    (void)state;
    sim_inst_desc bad[2] = {descs[0], {"odd", "bert", 20, 0, 0, 0}};
    for (const sim_backend_ops *const *b = sim_backend_all(); *b; b++) {
        void *st = NULL;
        ut_err err = {""};
        sim_backend_args a = args_of(bad, 2, 1);
        if ((*b)->init(&a, &st, &err) == 0) {
            (*b)->free(st);
            fail_msg("%s accepted model bert with no service time",
                     (*b)->name);
        }
        if (!strstr(err.msg, "\"odd\""))
            fail_msg("%s: the message does not name the workload: %s",
                     (*b)->name, err.msg);
    }
}

/* A whole simulation with each back end: requests are conserved. */
static void test_simulation_conserves_requests(void **state)
{
    (void)state;
    pol_instance in[2] = {
        {.name = "a", .model = "alexnet", .batch = 4, .share_pct = 40,
         .rate_rps = 300, .slo_ms = 20},
        {.name = "b", .model = "resnet50", .batch = 4, .share_pct = 60,
         .rate_rps = 200, .slo_ms = 40},
    };
    pol_gpu g = {.type = "V100", .inst = in, .n = 2};
    pol_plan p = {.policy = "test", .gpu_type = "V100", .ngpus = 1,
                  .gpus = &g, .price_per_hour = 3.06, .cost_per_hour = 3.06};
    fe_workload_cfg w[2];
    fe_workload_defaults(&w[0], "a", 300);
    fe_workload_defaults(&w[1], "b", 200);
    w[0].service_ms = 2;
    w[1].service_ms = 5;
    for (const sim_backend_ops *const *b = sim_backend_all(); *b; b++) {
        sim_config c;
        tu_sim_config(&c, &p, &fit, (*b)->name, w, 2, 20, 3);
        c.run.warmup_s = 2;
        c.measured = &meas;
        fe_result r;
        ut_err err;
        if (sim_run(&c, tu_tmpdir(), &r, &err) < 0)
            fail_msg("%s: %s", (*b)->name, err.msg);
        assert_true(r.complete);
        for (size_t k = 0; k < r.nw; k++) {
            const fe_wstats *s = &r.w[k];
            assert_true(s->arrived > 1000);
            assert_int_equal(s->arrived,
                             s->completed + s->dropped + s->queued_end);
        }
        fe_result_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_complete_and_found_by_name),
        cmocka_unit_test(test_solo_and_factors),
        cmocka_unit_test(test_deterministic_and_set),
        cmocka_unit_test(test_bad_instance_names_the_workload),
        cmocka_unit_test(test_simulation_conserves_requests),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
