/*
 * test_scalein.c - scaling in at run time (POL_RECONF_REMOVE, sim/reconf.c):
 * a removed instance gets no more requests (routing), its queued requests
 * move to the workload's other instances with none lost, a GPU left empty
 * stops costing and can be rented again, bad removals end the run with a
 * message naming the policy, outputs stay byte-identical run to run, and
 * igniter-sg gives back what it added once the rate falls.
 */
#define TU_SIM
#include "testutil.h"

TU_FIT_FIXTURE(fit, V100_PROFILE)

typedef tu_hplan tplan;

/* A plan of one workload W on two V100s at 3.6 $/h, one instance each. */
static void tp_make(tplan *t, int batch)
{
    tu_hplan_init(t, 2, "V100", 3.6);
    for (size_t j = 0; j < 2; j++)
        tu_hplan_add(t, j, "W", "alexnet", batch, 50, 100, 1000);
}

/* The test policy's script: at remove_s remove instance 0 of GPU
 * remove_gpu; at add_s (if > 0) add one back on GPU add_gpu. */
typedef struct script {
    double remove_s, add_s;
    size_t remove_gpu, remove_index, add_gpu;
    int done_remove, done_add;
    uint64_t queued_at_remove;
} script;

static script sc;


static void *sc_new(const pol_request *req, const pol_plan *plan)
{
    (void)req;
    (void)plan;
    return &sc;
}

static void sc_free(void *st)
{
    (void)st;
}

static void sc_runtime(void *st, double now_s, const pol_plan *p,
                       const pol_observation *obs, size_t nobs,
                       pol_reconfig *out, size_t *n)
{
    script *s = st;
    (void)nobs;
    *n = 0;
    if (!s->done_remove && now_s >= s->remove_s) {
        s->done_remove = 1;
        s->queued_at_remove = obs[0].queued;
        memset(&out[*n], 0, sizeof out[*n]);
        out[*n].kind = POL_RECONF_REMOVE;
        out[*n].gpu = s->remove_gpu;
        out[*n].index = s->remove_index;
        (*n)++;
    }
    if (s->add_s > 0 && !s->done_add && now_s >= s->add_s) {
        s->done_add = 1;
        /* the plan shows the removed GPU empty, still at its index */
        assert_int_equal(p->ngpus, 2);
        assert_int_equal(p->gpus[s->add_gpu].n, 0);
        memset(&out[*n], 0, sizeof out[*n]);
        out[*n].kind = POL_RECONF_ADD;
        out[*n].gpu = s->add_gpu;
        snprintf(out[*n].name, sizeof out[*n].name, "W");
        out[*n].batch = 1;
        out[*n].share_pct = 50;
        out[*n].rate_rps = 100;
        out[*n].hot = 1;
        (*n)++;
    }
}

static const pol_ops scripted = {
    .version = POL_OPS_VERSION,
    .name = "scripted",
    .summary = "test",
    .plan = tu_never_plan,
    .runtime_new = sc_new,
    .runtime = sc_runtime,
    .runtime_free = sc_free,
};

static pol_workload wl = {"W", "alexnet", 1000, 200};
static pol_request req = {&wl, 1, NULL, NULL, 0};

static void reset_script(void)
{
    memset(&sc, 0, sizeof sc);
    sc.remove_s = 5;
}

/* 20 s of W at 200 req/s, 2 ms per batch on the fixed back end. */
static void cfg_make(sim_config *c, fe_workload_cfg *w, const tplan *t)
{
    fe_workload_defaults(w, "W", 200);
    w->service_ms = 2;
    tu_sim_config(c, &t->p, &fit, "fixed", w, 1, 20, 5);
    c->policy = &scripted;
    req.fit = &fit;
    c->req = &req;
}


/* A test's whole set-up: the plan of tp_make at the batch, the run of
 * cfg_make over it, the script reset (removal at 5 s). */
typedef struct rig {
    tplan t;
    fe_workload_cfg w;
    sim_config c;
} rig;

static void rig_make(rig *g, int batch)
{
    tp_make(&g->t, batch);
    cfg_make(&g->c, &g->w, &g->t);
    reset_script();
}

static fe_result run_ok(const sim_config *c, const char *dir)
{
    fe_result r;
    ut_err err;
    if (sim_run(c, dir, &r, &err) < 0)
        fail_msg("%s", err.msg);
    /* nothing lost: every request completed, dropped or still queued */
    for (size_t w = 0; w < r.nw; w++)
        assert_int_equal(r.w[w].arrived, r.w[w].completed + r.w[w].dropped +
                                              r.w[w].queued_end);
    return r;
}

/* After the removal at 5 s, GPU 1 serves nothing: its busy time is what
 * it did in the first 5 s, and GPU 0 takes the whole rate from then on. */
static void test_removed_instance_gets_no_requests(void **state)
{
    (void)state;
    rig g;
    rig_make(&g, 1);
    sc.remove_gpu = 1;
    fe_result r = run_ok(&g.c, tu_tmpdir());
    assert_true(sc.done_remove);
    assert_int_equal(r.ngpus, 2);
    assert_int_equal(r.w[0].dropped, 0);
    /* each instance ran at load 100 x 2 ms = 0.2 while both served;
     * GPU 1 for 5 of 20 s, GPU 0 at 0.4 for the other 15 */
    assert_true(r.gpu_busy[1] > 0.03 && r.gpu_busy[1] < 0.07);
    assert_true(r.gpu_busy[0] > 0.30 && r.gpu_busy[0] < 0.40);
    assert_int_equal(r.reconfigs, 1);
    fe_result_free(&r);
}

/* GPU 1, emptied at 5 s, costs 5 s; rented again at 12 s, 8 s more. */
static void test_empty_gpu_stops_costing_and_rents_again(void **state)
{
    (void)state;
    rig g;
    rig_make(&g, 1);
    sc.remove_gpu = 1;
    fe_result r = run_ok(&g.c, tu_tmpdir());
    assert_close(r.gpu_hours, (20.0 + 5.0) / 3600, 1e-3);
    assert_close(r.cost, r.gpu_hours * 3.6, 1e-9);
    assert_int_equal(r.peak_gpus, 2);
    fe_result_free(&r);

    reset_script();
    sc.remove_gpu = 1;
    sc.add_s = 12;
    sc.add_gpu = 1;
    r = run_ok(&g.c, tu_tmpdir());
    assert_true(sc.done_add);
    assert_int_equal(r.ngpus, 2);
    assert_close(r.gpu_hours, (20.0 + 5.0 + 8.0) / 3600, 1e-3);
    /* the instance added back serves again: GPU 1 busy after 12 s */
    assert_true(r.gpu_busy[1] > 0.09);
    fe_result_free(&r);
}

/* Instance 0 of GPU 0 removed with requests waiting (batch 50, a 400 ms
 * batching delay: its queue always holds some): none is dropped, and
 * they complete on the other instance. */
static void test_queued_requests_move_to_other_instances(void **state)
{
    (void)state;
    rig g;
    rig_make(&g, 50);
    g.w.max_delay_ms = 400;
    sc.remove_s = 5.5;   /* the 6th interval ends at 6 s: 1 s of arrivals */
    sc.remove_gpu = 0;
    fe_result r = run_ok(&g.c, tu_tmpdir());
    assert_true(sc.queued_at_remove > 0);
    assert_int_equal(r.w[0].dropped, 0);
    /* every request of the first 19 s completed (batches of 50 or 400 ms) */
    assert_true(r.w[0].completed + 200 >= r.w[0].arrived);
    /* none waited past what the batching delay and one 2 ms batch allow:
     * the requeued ones kept their arrival times and order */
    assert_true(fe_hist_quantile(&r.w[0].lat, 1.0) < 420e6);
    fe_result_free(&r);
}

static void test_bad_removals_end_the_run(void **state)
{
    (void)state;
    rig g;
    rig_make(&g, 1);
    ut_err err;
    sc.remove_gpu = 2;   /* no such GPU */
    assert_int_equal(sim_run(&g.c, tu_tmpdir(), NULL, &err), -1);
    assert_non_null(strstr(err.msg, "policy scripted"));
    assert_non_null(strstr(err.msg, "no instance 0 on GPU 2"));
    /* the last instance of a workload */
    g.t.p.ngpus = 1;
    reset_script();
    assert_int_equal(sim_run(&g.c, tu_tmpdir(), NULL, &err), -1);
    assert_non_null(strstr(err.msg, "\"W\" would have no instance left"));
}

/* The same removal and re-rent twice: the same bytes. */
static void test_deterministic(void **state)
{
    (void)state;
    rig g;
    rig_make(&g, 4);
    g.w.arrivals.kind = TRACE_GAMMA;
    g.w.arrivals.cv = 2;
    const char *dir[2];
    for (int k = 0; k < 2; k++) {
        reset_script();
        sc.remove_gpu = 0;
        sc.add_s = 9;
        sc.add_gpu = 0;
        dir[k] = tu_tmpdir();
        fe_result r = run_ok(&g.c, dir[k]);
        fe_result_free(&r);
    }
    static const char *files[] = {"summary.json", "timeseries.csv",
                                  "workloads.csv"};
    tu_same_files(dir[0], dir[1], files, 3);
}

/* igniter-sg: a workload it scaled out is scaled back in once its rate
 * has stayed low; never its last instance. */
static void test_igniter_sg_gives_back_when_the_rate_falls(void **state)
{
    (void)state;
    pol_workload w[1] = {{"a", "vgg19", 60, 200}};
    pol_request r = {w, 1, &fit, NULL, 0};
    pol_plan p;
    ut_err err;
    assert_int_equal(pol_make_plan("igniter-sg", &r, &p, &err), 0);
    assert_int_equal(p.ngpus, 1);
    const pol_ops *o = pol_find("igniter-sg");
    void *st = o->runtime_new(&r, &p);   /* made from the initial plan */
    /* the plan after a scale-out: a second instance on a second GPU */
    pol_gpu *g = realloc(p.gpus, 2 * sizeof *g);
    p.gpus = g;
    memset(&g[1], 0, sizeof g[1]);
    snprintf(g[1].type, sizeof g[1].type, "%s", g[0].type);
    g[1].n = 1;
    g[1].inst = calloc(1, sizeof *g[1].inst);
    g[1].inst[0] = g[0].inst[0];
    g[1].inst[0].rate_rps = 100;
    p.ngpus = 2;
    pol_reconfig out[POL_MAX_RECONF];
    size_t n = 1;
    /* at the planned rate: nothing to give back */
    pol_observation ok = {"a", 60, 200, 30, 20, 0, 200, 0, 0, 0};
    for (int k = 0; k < 10; k++) {
        o->runtime(st, k, &p, &ok, 1, out, &n);
        assert_int_equal(n, 0);
    }
    /* at half of it, no violation: after a few intervals, one REMOVE */
    pol_observation low = {"a", 60, 90, 20, 15, 0, 90, 0, 0, 0};
    size_t removes = 0, gpu = 0;
    for (int k = 10; k < 30 && removes == 0; k++) {
        o->runtime(st, k, &p, &low, 1, out, &n);
        for (size_t i = 0; i < n; i++)
            if (out[i].kind == POL_RECONF_REMOVE) {
                removes++;
                gpu = out[i].gpu;
            }
    }
    assert_int_equal(removes, 1);
    assert_int_equal(gpu, 1);   /* the newest instance goes first */
    o->runtime_free(st);
    /* with one instance left, it never removes */
    p.ngpus = 1;
    st = o->runtime_new(&r, &p);
    for (int k = 0; k < 30; k++) {
        o->runtime(st, k, &p, &low, 1, out, &n);
        for (size_t i = 0; i < n; i++)
            assert_true(out[i].kind != POL_RECONF_REMOVE);
    }
    o->runtime_free(st);
    p.ngpus = 2;
    pol_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removed_instance_gets_no_requests),
        cmocka_unit_test(test_empty_gpu_stops_costing_and_rents_again),
        cmocka_unit_test(test_queued_requests_move_to_other_instances),
        cmocka_unit_test(test_bad_removals_end_the_run),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_igniter_sg_gives_back_when_the_rate_falls),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
