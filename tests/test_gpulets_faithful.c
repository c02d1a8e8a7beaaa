/*
 * test_gpulets_faithful.c - gpu-lets+ (policies/gpulets.c) against two
 * things gpu-lets' own scheduler does (issue 16):
 *
 * 1. GPUs against not sharing: on seeded random sets, how many plans need
 *    more GPUs than `exclusive`; asserted to be none of the sets listed.
 * 2. Lone partitions: for every two GPUs that each hold a single gpu-let
 *    below 100 %, of different workloads, whose shares fit on one GPU
 *    together, gpu-lets+ planning just those two gpu-lets (each as a
 *    workload of its instance's model, SLO and rate) also needs two GPUs:
 *    its own rule could not have put them on one GPU.
 */
#define TU_RANDOM_WORKLOADS
#include "testutil.h"

TU_FIT_MEASURED_FIXTURE(fit, meas)

static void plan_or_fail(const char *policy, const pol_request *req,
                         pol_plan *p)
{
    ut_err err;
    if (pol_make_plan(policy, req, p, &err) < 0)
        fail_msg("%s: %s", policy, err.msg);
}

static void test_not_more_gpus_than_exclusive(void **state)
{
    (void)state;
    static const size_t sizes[] = {8, 12, 16, 20};
    for (size_t s = 0; s < 4; s++)
        for (unsigned long seed = 1; seed <= 5; seed++) {
            size_t n = sizes[s];
            pol_workload *w = tu_random_workloads(n, seed);
            pol_request req = {w, n, &fit, &meas, 0};
            pol_plan g, x;
            plan_or_fail("gpulets", &req, &g);
            plan_or_fail("exclusive", &req, &x);
            if (g.ngpus > x.ngpus)
                fail_msg("%zu workloads, seed %lu: gpulets %zu GPUs, "
                         "exclusive %zu", n, seed, g.ngpus, x.ngpus);
            pol_plan_free(&g);
            pol_plan_free(&x);
            free(w);
        }
}

/* Item 2 on one request. */
static void check_lone(const pol_workload *w, size_t n, const char *what)
{
    pol_request req = {w, n, &fit, &meas, 0};
    pol_plan p;
    plan_or_fail("gpulets", &req, &p);
    for (size_t a = 0; a < p.ngpus; a++)
        for (size_t b = a + 1; b < p.ngpus; b++) {
            const pol_instance *x = &p.gpus[a].inst[0],
                               *y = &p.gpus[b].inst[0];
            if (p.gpus[a].n != 1 || p.gpus[b].n != 1 ||
                x->share_pct >= 100 || y->share_pct >= 100 ||
                x->share_pct + y->share_pct > 100 ||
                strcmp(x->name, y->name) == 0)
                continue;
            pol_workload two[2] = {tu_wl("x", x->model, x->slo_ms,
                                         x->rate_rps),
                                   tu_wl("y", y->model, y->slo_ms,
                                         y->rate_rps)};
            pol_request r2 = {two, 2, &fit, &meas, 0};
            pol_plan q;
            plan_or_fail("gpulets", &r2, &q);
            if (q.ngpus < 2)
                fail_msg("%s: %s (%g %%, GPU %zu) and %s (%g %%, GPU %zu) "
                         "are alone, yet gpu-lets+ pairs them by themselves",
                         what, x->name, x->share_pct, a, y->name,
                         y->share_pct, b);
            pol_plan_free(&q);
        }
    pol_plan_free(&p);
}

static void test_no_lone_partition_a_partner_could_fill(void **state)
{
    (void)state;
    size_t n;
    pol_workload *w = tu_paper12(&fit, &n);
    check_lone(w, n, "paper-12");
    free(w);
    for (unsigned long seed = 1; seed <= 5; seed++) {
        w = tu_random_workloads(12, seed);
        char what[32];
        snprintf(what, sizeof what, "random 12, seed %lu", seed);
        check_lone(w, 12, what);
        free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_more_gpus_than_exclusive),
        cmocka_unit_test(test_no_lone_partition_a_partner_could_fill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
