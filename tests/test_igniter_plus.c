/*
 * test_igniter_plus.c - igniter-plus (policies/igniter_plus.c): Algorithm 1
 * planned with the measured data's latencies. Its plans on the H100 and
 * H200 captures are valid and serve every workload, its predicted
 * latencies are the measured data's and within half the SLO, it refuses
 * requests it cannot plan (no measured data, a model with no solo table,
 * --faithful, an SLO no share meets), it is deterministic, and on the
 * paper's 12 workloads it uses no more GPUs than iGniter (fewer on the
 * H100, where the paper's model sends ssd300 to a second GPU).
 */
#define TU_PLANS
#include "testutil.h"

#define H200_EXP "experiments/igniter-plus-h200.json"
#define H100_EXP "experiments/igniter-plus-h100.json"

static mdl_fitted f200, f100;
static mdl_measured m200, m100;

static int setup(void **state)
{
    (void)state;
    ut_err err;
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
 * half its SLO. Shares are whole units but for a replica's 100 %. */
static void check_plus_plan(const pol_request *req, const pol_plan *p)
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
            if (!(lat[i] <= in->slo_ms / 2))
                fail_msg("GPU %zu, %s: %g ms over half the SLO, %g ms", j,
                         in->name, lat[i], in->slo_ms / 2);
        }
    }
}

static void test_valid_plans(void **state)
{
    (void)state;
    const char *exps[] = {H200_EXP, H100_EXP, "experiments/"
                          "igniter-plus-h200-x8.json", "experiments/"
                          "igniter-plus-h100-x8.json"};
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
        check_plus_plan(&req, &a);
        /* deterministic: the same request, the same bytes */
        plan_ok("igniter-plus", &req, &b);
        char *ja = pol_plan_to_json(&a), *jb = pol_plan_to_json(&b);
        assert_string_equal(ja, jb);
        free(ja);
        free(jb);
        pol_plan_free(&a);
        pol_plan_free(&b);
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
 * the largest batch the measured whole GPU runs within half the SLO and
 * loaded to at most 90 % of its measured throughput. */
static void test_replicas(void **state)
{
    (void)state;
    pol_workload w = tu_wl("heavy", "resnet50", 30, 40000);
    pol_request req = {&w, 1, &f200, &m200, 0};
    pol_plan p;
    plan_ok("igniter-plus", &req, &p);
    check_plus_plan(&req, &p);
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
                        15);
    }
    assert_true(replicas >= 1);
    pol_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_plans),
        cmocka_unit_test(test_no_more_gpus_than_igniter),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_replicas),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
