/*
 * test_cost.c - the one definition of a run's cost per hour
 * (fe_cost_per_hour, frontend/run.c): the run's cost over its simulated
 * time; summary.json gives it as totals.cost_per_hour beside the plan's
 * (plan_cost_per_hour) and GPUs (plan_gpus), so that sim's summary line,
 * compare and sweep read one number.
 */
#include "testutil.h"
#include "sim/sim.h"
#include "util/util.h"

#include <cjson/cJSON.h>

TU_FIT_FIXTURE(fit, V100_PROFILE)

static double total(const cJSON *j, const char *key)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "totals");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, key);
    if (!cJSON_IsNumber(v))
        fail_msg("summary.json: totals.%s missing", key);
    return v->valuedouble;
}

/* A plan that never changes costs its own price per hour, whatever the
 * simulated time: 2 GPUs at $3.06/h give $6.12/h. */
static void test_static_plan_costs_its_price(void **state)
{
    (void)state;
    pol_instance in[2];
    pol_gpu g[2];
    memset(in, 0, sizeof in);
    memset(g, 0, sizeof g);
    fe_workload_cfg w[2];
    for (int k = 0; k < 2; k++) {
        snprintf(in[k].name, sizeof in[k].name, "w%d", k);
        snprintf(in[k].model, sizeof in[k].model, "alexnet");
        in[k].batch = 4;
        in[k].share_pct = 50;
        in[k].rate_rps = 100;
        in[k].slo_ms = 20;
        snprintf(g[k].type, sizeof g[k].type, "V100");
        g[k].inst = &in[k];
        g[k].n = 1;
        fe_workload_defaults(&w[k], in[k].name, 100);
        w[k].service_ms = 1;
    }
    pol_plan p = {.ngpus = 2, .gpus = g, .price_per_hour = 3.06,
                  .cost_per_hour = 6.12};
    snprintf(p.policy, sizeof p.policy, "test");
    snprintf(p.gpu_type, sizeof p.gpu_type, "V100");
    sim_config c;
    memset(&c, 0, sizeof c);
    c.run.plan = &p;
    c.run.wcfg = w;
    c.run.nw = 2;
    c.run.duration_s = 7;
    c.run.warmup_s = 2;
    c.run.interval_s = 1;
    c.run.seed = 3;
    c.fit = &fit;
    c.backend = "fixed";
    const char *dir = tu_tmpdir();
    fe_result r;
    ut_err err;
    if (sim_run(&c, dir, &r, &err) < 0)
        fail_msg("%s", err.msg);
    assert_close(fe_cost_per_hour(&r), 6.12, 1e-9);
    char path[400];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *j = ut_json_load(path, &err);
    if (!j)
        fail_msg("%s", err.msg);
    assert_close(total(j, "cost_per_hour"), 6.12, 1e-6);
    assert_close(total(j, "plan_cost_per_hour"), 6.12, 1e-12);
    assert_close(total(j, "num_gpus"), 2, 0);
    assert_close(total(j, "plan_gpus"), 2, 0);
    /* the cost is for the whole simulated time, warm-up included */
    assert_close(total(j, "cost"), 6.12 * 7 / 3600, 1e-5);
    cJSON_Delete(j);
    fe_result_free(&r);
}

/* GPUs added at run time count from when they were added: one GPU-hour
 * over half an hour is $6.12/h at $3.06 a GPU-hour; no time, no cost. */
static void test_time_average(void **state)
{
    (void)state;
    fe_result r;
    memset(&r, 0, sizeof r);
    r.sim_end_s = 1800;
    r.gpu_hours = 1;
    r.cost = 3.06;
    assert_close(fe_cost_per_hour(&r), 6.12, 1e-12);
    r.sim_end_s = 0;
    assert_close(fe_cost_per_hour(&r), 0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_plan_costs_its_price),
        cmocka_unit_test(test_time_average),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
