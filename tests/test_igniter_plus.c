/*
 * test_igniter_plus.c - igniter-plus (policies/igniter_plus.c): Algorithm 1
 * planned with the measured data's latencies. Its plans on the H100 and
 * H200 captures are valid and serve every workload, its predicted
 * latencies are the measured data's and within half the SLO, it refuses
 * requests it cannot plan (no measured data, a model with no solo table,
 * --faithful, an SLO no share meets), it is deterministic, and on the
 * paper's 12 workloads it uses no more GPUs than iGniter (fewer on the
 * H100, where the paper's model sends ssd300 to a second GPU). Its safety
 * margin (IGNITER_PLUS_MARGIN_PCT, default 20): every instance's predicted
 * latency is within (1 - m) x SLO/2, unset is the default, 0 is the
 * unmargined plan, a bad value is refused by name, and on the paper's 12
 * workloads (x1 and x8) a larger margin never uses fewer GPUs.
 */
#define TU_PLANS
#include "testutil.h"

#define H200_EXP "experiments/igniter-plus-h200.json"
#define H100_EXP "experiments/igniter-plus-h100.json"
#define MARGIN_ENV "IGNITER_PLUS_MARGIN_PCT"
#define MARGIN_DEFAULT_PCT 20.0

/* The paper's 12 workloads, x1 and x8, on both GPUs. */
static const char *const exps4[] = {
    H200_EXP, H100_EXP, "experiments/igniter-plus-h200-x8.json",
    "experiments/igniter-plus-h100-x8.json"};

static mdl_fitted f200, f100;
static mdl_measured m200, m100;

static int setup(void **state)
{
    (void)state;
    ut_err err;
    unsetenv(MARGIN_ENV);   /* the default margin unless a test sets one */
    if (mdl_load("traces/h200/profile.json", &f200, &err) < 0 ||
        mdl_measured_load("traces/h200/measured-colocation.jsonl", &m200,
                          &err) < 0 ||
        mdl_load("traces/h100/profile.json", &f100, &err) < 0 ||
        mdl_measured_load("traces/h100/measured-colocation.jsonl", &m100,
                          &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mdl_fitted_free(&f200);
    mdl_fitted_free(&f100);
    mdl_measured_free(&m200);
    mdl_measured_free(&m100);
    return 0;
}

/* The paper's 12 workloads as the experiment gives them (ssd300). */
static pol_workload *paper12(const char *exp, const mdl_fitted *f, size_t *n)
{
    pol_workload *w;
    ut_err err;
    if (pol_workloads_load(exp, f, &w, n, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(*n, 12);
    return w;
}

static void plan_ok(const char *policy, const pol_request *req, pol_plan *p)
{
    ut_err err;
    if (pol_make_plan(policy, req, p, &err) < 0)
        fail_msg("%s: %s", policy, err.msg);
}

/* Every workload's rate served in full, each GPU within the GPU (100 %,
 * colocated_pct for two or more), shares whole units, and each
 * instance's predicted latency the measured data's for its GPU, within
 * (1 - margin_pct / 100) x half its SLO, the budget the planner uses
 * (computed as alg1.c does). Shares are whole units but for a replica's
 * 100 %. */
static void check_plus_plan(const pol_request *req, const pol_plan *p,
                            double margin_pct)
{
    ut_err err;
    const mdl_fitted *f = req->fit;
    const mdl_measured *m = req->measured;
    if (pol_plan_check(p, f, &err) < 0)
        fail_msg("%s", err.msg);
    for (size_t k = 0; k < req->n; k++) {
        double served = 0;
        for (size_t j = 0; j < p->ngpus; j++)
            for (size_t i = 0; i < p->gpus[j].n; i++)
                if (!strcmp(p->gpus[j].inst[i].name, req->w[k].name))
                    served += p->gpus[j].inst[i].rate_rps;
        assert_close(served, req->w[k].rate_rps, 1e-9);
    }
    for (size_t j = 0; j < p->ngpus; j++) {
        const pol_gpu *g = &p->gpus[j];
        mdl_place pl[MDL_MAX_COLOC];
        double lat[MDL_MAX_COLOC], total = 0;
        assert_true(g->n >= 1 && g->n <= MDL_MAX_COLOC);
        for (size_t i = 0; i < g->n; i++) {
            const pol_instance *in = &g->inst[i];
            double units = in->share_pct / f->share_unit_pct;
            if (!g->replica)   /* a replica has the whole GPU */
                assert_close(units, round(units), 1e-9);
            else
                assert_true(in->share_pct == 100);
            total += in->share_pct;
            pl[i].model = mdl_measured_find(m, in->model);
            assert_true(pl[i].model >= 0);
            pl[i].batch = in->batch;
            pl[i].share_pct = in->share_pct;
        }
        assert_true(total <= (g->n >= 2 ? mdl_colocated_pct(f) : 100) + 1e-9);
        mdl_measured_colocated(m, pl, g->n, lat);
        for (size_t i = 0; i < g->n; i++) {
            const pol_instance *in = &g->inst[i];
            assert_close(in->predicted_latency_ms, lat[i], 1e-12);
            double budget = in->slo_ms / 2;
            if (margin_pct > 0)
                budget *= 1 - margin_pct / 100;
            if (!(lat[i] <= budget))
                fail_msg("GPU %zu, %s: %g ms over the budget, %g ms (margin "
                         "%g %%)", j, in->name, lat[i], budget, margin_pct);
        }
    }
}

static void test_valid_plans(void **state)
{
    (void)state;
    const char *const *exps = exps4;
    unsetenv(MARGIN_ENV);
    for (size_t e = 0; e < 4; e++) {
        int h100 = strstr(exps[e], "h100") != NULL;
        const mdl_fitted *f = h100 ? &f100 : &f200;
        size_t n;
        pol_workload *w;
        ut_err err;
        if (pol_workloads_load(exps[e], f, &w, &n, &err) < 0)
            fail_msg("%s", err.msg);
        pol_request req = {w, n, f, h100 ? &m100 : &m200, 0};
        pol_plan a, b;
        plan_ok("igniter-plus", &req, &a);
        check_plus_plan(&req, &a, MARGIN_DEFAULT_PCT);
        /* deterministic: the same request, the same bytes */
        plan_ok("igniter-plus", &req, &b);
        tu_same_plans(&a, &b);
        free(w);
    }
}

/* Measured on these captures (policies/README.md, "igniter-plus"): the
 * paper's 12 workloads fit on one GPU either way on the H200; on the H100
 * iGniter's model puts ssd300's W12 on a second GPU. */
static void test_no_more_gpus_than_igniter(void **state)
{
    (void)state;
    struct {
        const char *exp;
        const mdl_fitted *f;
        const mdl_measured *m;
        size_t igniter, plus;
    } cases[] = {{H200_EXP, &f200, &m200, 1, 1}, {H100_EXP, &f100, &m100, 2, 1}};
    for (size_t c = 0; c < 2; c++) {
        size_t n;
        pol_workload *w = paper12(cases[c].exp, cases[c].f, &n);
        pol_request req = {w, n, cases[c].f, cases[c].m, 0};
        pol_plan ig, plus;
        plan_ok("igniter", &req, &ig);
        plan_ok("igniter-plus", &req, &plus);
        assert_true(plus.ngpus <= ig.ngpus);
        assert_int_equal(ig.ngpus, cases[c].igniter);
        assert_int_equal(plus.ngpus, cases[c].plus);
        /* the batches are Algorithm 1's, from the rate, in both */
        for (size_t k = 0; k < n; k++) {
            size_t gi[4], ii[4], gp[4], ip[4];
            assert_int_equal(pol_instances_of(&ig, w[k].name, gi, ii, 4), 1);
            assert_int_equal(pol_instances_of(&plus, w[k].name, gp, ip, 4),
                             1);
            assert_int_equal(ig.gpus[gi[0]].inst[ii[0]].batch,
                             plus.gpus[gp[0]].inst[ip[0]].batch);
        }
        pol_plan_free(&ig);
        pol_plan_free(&plus);
        free(w);
    }
}

static void expect_refusal(const pol_request *req, const char *needle)
{
    pol_plan p;
    ut_err err;
    assert_int_equal(pol_make_plan("igniter-plus", req, &p, &err), -1);
    if (!strstr(err.msg, needle))
        fail_msg("message lacks \"%s\": %s", needle, err.msg);
}

static void test_refusals(void **state)
{
    (void)state;
    size_t n;
    pol_workload *w = paper12(H200_EXP, &f200, &n);
    pol_request req = {w, n, &f200, NULL, 0};
    expect_refusal(&req, "--measured");
    /* a model with no solo table is named, with the ones there are */
    mdl_measured some = m200;
    some.solo = malloc(m200.nsolo * sizeof *some.solo);
    memcpy(some.solo, m200.solo, m200.nsolo * sizeof *some.solo);
    int r = mdl_measured_find(&m200, "vgg19");
    assert_true(r >= 0);
    snprintf(some.solo[r].name, sizeof some.solo[r].name, "vgg-x");
    req.measured = &some;
    expect_refusal(&req, "workload \"W7\": model:");
    expect_refusal(&req, "not \"vgg19\"");
    free(some.solo);
    /* the reference's defects are not this planner's */
    req.measured = &m200;
    req.faithful = 1;
    expect_refusal(&req, "without --faithful");
    /* half an SLO that no batch meets even on a whole GPU */
    req.faithful = 0;
    pol_workload tight = tu_wl("tight", "vgg19", 0.2, 100);
    pol_request one = {&tight, 1, &f200, &m200, 0};
    expect_refusal(&one, "workload \"tight\" (vgg19): slo_ms: cannot be met");
    expect_refusal(&one, "the measured data predicts");
    free(w);
}

/* A heavy workload goes through Algorithm 1's whole-GPU replicas, each at
 * the largest batch the measured whole GPU runs within the budget (half
 * the SLO less the default margin: 12 ms of 15) and loaded to at most
 * 90 % of its measured throughput. */
static void test_replicas(void **state)
{
    (void)state;
    pol_workload w = tu_wl("heavy", "resnet50", 30, 40000);
    pol_request req = {&w, 1, &f200, &m200, 0};
    pol_plan p;
    unsetenv(MARGIN_ENV);
    plan_ok("igniter-plus", &req, &p);
    check_plus_plan(&req, &p, MARGIN_DEFAULT_PCT);
    size_t replicas = 0;
    int m = mdl_measured_find(&m200, "resnet50");
    for (size_t j = 0; j < p.ngpus; j++) {
        if (!p.gpus[j].replica)
            continue;
        replicas++;
        const pol_instance *in = &p.gpus[j].inst[0];
        double lat = mdl_measured_solo_ms(&m200, m, in->batch, 100);
        assert_close(in->predicted_latency_ms, lat, 1e-12);
        assert_true(in->rate_rps <= 0.9 * 1000 * in->batch / lat + 1);
        if (in->batch < MDL_MAX_BATCH)
            assert_true(mdl_measured_solo_ms(&m200, m, in->batch + 1, 100) >=
                        15 * (1 - MARGIN_DEFAULT_PCT / 100));
    }
    assert_true(replicas >= 1);
    pol_plan_free(&p);
}

/* Plans the workloads of exp with the margin env (NULL: unset). */
static void plan_margin(const char *exp, const char *env, pol_plan *p,
                        pol_request *req_out, pol_workload **w_out)
{
    int h100 = strstr(exp, "h100") != NULL;
    const mdl_fitted *f = h100 ? &f100 : &f200;
    size_t n;
    ut_err err;
    if (pol_workloads_load(exp, f, w_out, &n, &err) < 0)
        fail_msg("%s", err.msg);
    *req_out = (pol_request){*w_out, n, f, h100 ? &m100 : &m200, 0};
    if (env)
        setenv(MARGIN_ENV, env, 1);
    else
        unsetenv(MARGIN_ENV);
    plan_ok("igniter-plus", req_out, p);
    unsetenv(MARGIN_ENV);
}

/* The margin is applied: at each margin every instance is predicted
 * within (1 - m) x SLO/2, and the check is not vacuous, as the
 * unmargined x8 plans have instances above 80 % of SLO/2 (ssd300's W10:
 * 12.02 of 12.5 ms on the H100). Unset is the default, 20 %. */
static void test_margin_applied(void **state)
{
    (void)state;
    const char *envs[] = {"0", "2.5", "5", "10", "20", "35", "50"};
    for (size_t e = 0; e < 4; e++) {
        for (size_t k = 0; k < sizeof envs / sizeof *envs; k++) {
            pol_plan p;
            pol_request req;
            pol_workload *w;
            plan_margin(exps4[e], envs[k], &p, &req, &w);
            check_plus_plan(&req, &p, atof(envs[k]));
            if (!strcmp(envs[k], "0") && strstr(exps4[e], "x8")) {
                int above = 0;
                for (size_t j = 0; j < p.ngpus; j++)
                    for (size_t i = 0; i < p.gpus[j].n; i++) {
                        const pol_instance *in = &p.gpus[j].inst[i];
                        above |= in->predicted_latency_ms >
                                 0.8 * in->slo_ms / 2;
                    }
                assert_true(above);
            }
            pol_plan_free(&p);
            free(w);
        }
        /* unset is the default: the same bytes as "20" */
        pol_plan a, b;
        pol_request req;
        pol_workload *wa, *wb;
        plan_margin(exps4[e], NULL, &a, &req, &wa);
        plan_margin(exps4[e], "20", &b, &req, &wb);
        tu_same_plans(&a, &b);
        free(wa);
        free(wb);
    }
}

/* A larger margin never uses fewer GPUs on the paper's 12 workloads, x1
 * and x8, H100 and H200, from 0 to 50 % in steps of 2.5 (not a property
 * of Algorithm 1 in general, whose placement is greedy: measured here).
 * The counts the documentation reports: x8 takes 2 GPUs up to a 5 %
 * margin and 3 from 7.5 to 30 % on both GPUs; x1 takes 1 throughout. */
static void test_larger_margin_not_fewer_gpus(void **state)
{
    (void)state;
    for (size_t e = 0; e < 4; e++) {
        size_t last = 0;
        int x8 = strstr(exps4[e], "x8") != NULL;
        for (int tenths = 0; tenths <= 500; tenths += 25) {
            char env[16];
            snprintf(env, sizeof env, "%g", tenths / 10.0);
            pol_plan p;
            pol_request req;
            pol_workload *w;
            plan_margin(exps4[e], env, &p, &req, &w);
            if (p.ngpus < last)
                fail_msg("%s: margin %s %%: %zu GPUs, fewer than %zu at a "
                         "smaller margin", exps4[e], env, p.ngpus, last);
            last = p.ngpus;
            if (!x8)
                assert_int_equal(p.ngpus, 1);
            else if (tenths <= 50)
                assert_int_equal(p.ngpus, 2);
            else if (tenths >= 75 && tenths <= 300)
                assert_int_equal(p.ngpus, 3);
            pol_plan_free(&p);
            free(w);
        }
    }
}

/* A margin that is not a percentage from 0 to 50 is refused by name. */
static void test_margin_refusals(void **state)
{
    (void)state;
    const char *bad[] = {"abc", "-1", "50.5", "20x", "nan", "1e400"};
    size_t n;
    pol_workload *w = paper12(H200_EXP, &f200, &n);
    pol_request req = {w, n, &f200, &m200, 0};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        setenv(MARGIN_ENV, bad[k], 1);
        expect_refusal(&req, "IGNITER_PLUS_MARGIN_PCT: expected a percentage "
                       "from 0 to 50");
    }
    unsetenv(MARGIN_ENV);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_plans),
        cmocka_unit_test(test_no_more_gpus_than_igniter),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_replicas),
        cmocka_unit_test(test_margin_applied),
        cmocka_unit_test(test_larger_margin_not_fewer_gpus),
        cmocka_unit_test(test_margin_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
