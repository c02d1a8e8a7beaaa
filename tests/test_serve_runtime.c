/*
 * test_serve_runtime.c - a policy's runtime hook in the real provisioner
 * (serve/serve.c) on a fake clock and a fake device that can reconfigure
 * its instances: on one plan GPU, serve with igniter-sg and with GSLICE+
 * (hot share changes), and with a scripted policy that changes a batch
 * with a delay, adds an instance and removes one, gives exactly what
 * `igniter sim` gives with the fixed back end and the same reconfiguration
 * delay; the device is asked for each change once its instance's batch has
 * ended; what one GPU at a time cannot do (another plan GPU, a new GPU) is
 * logged as not applied, never dropped silently; a static policy leaves
 * serve's output as it was (no runtime member, no reconfig.csv); bad
 * settings and a device without the op are refused before anything runs.
 */
#define TU_SIM
#include "testutil.h"
#include "serve/serve.h"
#include "capture/capture.h"

#include <cjson/cJSON.h>

TU_FIT_FIXTURE(fit, V100_PROFILE)

/* ---- a fake clock and a fake device that reconfigures ------------------- */

#define MAXI 16

typedef struct fake {
    int64_t now;
    int64_t svc_ns[MAXI];      /* per device instance */
    int64_t done_at[MAXI];
    int busy[MAXI], open[MAXI];
    size_t n;                  /* device instances ever opened this GPU */
    const fe_workload_cfg *w;  /* service_ms of each workload, by name */
    size_t nw;
    int opens, closes, launches;
    int sets, adds, stops;     /* reconfigure calls of each kind */
    int64_t op_ns;             /* each reconfigure takes this long */
    int refuse;                /* SETs and ADDs refused (1: too few SMs
                                  free), before anything changes */
    int refused;
} fake;

static int64_t svc_of(const fake *f, const char *name)
{
    for (size_t w = 0; w < f->nw; w++)
        if (!strcmp(f->w[w].name, name))
            return llround(f->w[w].service_ms * 1e6);
    fail_msg("no workload %s", name);
    return 0;
}

static int64_t f_now(void *ud)
{
    return ((fake *)ud)->now;
}

/* Jumps to t, or to the first completion before it. */
static void f_wait(void *ud, int64_t t)
{
    fake *f = ud;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < f->n; i++)
        if (f->busy[i] && f->done_at[i] > f->now && f->done_at[i] < next)
            next = f->done_at[i];
    int64_t to = t > f->now ? t : next;
    if (next < to)
        to = next;
    if (to == INT64_MAX)
        to = f->now + 1000;
    f->now = to;
}

static int f_open(void *ud, const pol_gpu *g, size_t gpu, ut_err *err)
{
    fake *f = ud;
    (void)gpu;
    (void)err;
    assert_true(g->n <= MAXI);
    f->n = g->n;
    for (size_t i = 0; i < g->n; i++) {
        f->svc_ns[i] = svc_of(f, g->inst[i].name);
        f->busy[i] = 0;
        f->open[i] = 1;
    }
    f->opens++;
    return 0;
}

static int f_launch(void *ud, size_t i, int k, ut_err *err)
{
    fake *f = ud;
    (void)err;
    assert_true(k >= 1);
    assert_true(i < f->n && f->open[i]);
    assert_false(f->busy[i]);
    f->busy[i] = 1;
    f->done_at[i] = f->now + f->svc_ns[i];
    f->launches++;
    return 0;
}

static int f_poll(void *ud, size_t i, ut_err *err)
{
    fake *f = ud;
    (void)err;
    if (f->busy[i] && f->now >= f->done_at[i]) {
        f->busy[i] = 0;
        return 1;
    }
    return 0;
}

static void f_close(void *ud)
{
    fake *f = ud;
    f->closes++;
    f->n = 0;
}

/* The op under test: never on a running batch, a new instance exactly one
 * past the last, a stopped one never used again. */
static int f_reconfigure(void *ud, size_t i, const pol_instance *pi,
                         ut_err *err)
{
    fake *f = ud;
    assert_true(i <= f->n);
    if (i < f->n) {
        assert_false(f->busy[i]);
        assert_true(f->open[i]);
    }
    if (pi && (pi->batch < 1 || !(pi->share_pct > 0)))
        return ut_errf(err, "bad settings");
    if (pi && f->refuse) {
        f->refused++;
        ut_errf(err, "%s: too few SM groups free", pi->name);
        return 1;
    }
    f->now += f->op_ns;
    if (!pi) {
        f->open[i] = 0;
        f->stops++;
        return 0;
    }
    if (i == f->n) {
        assert_true(f->n < MAXI);
        f->n++;
        f->adds++;
    } else {
        f->sets++;
    }
    f->open[i] = 1;
    f->busy[i] = 0;
    f->svc_ns[i] = svc_of(f, pi->name);
    return 0;
}

static srv_device fake_dev(fake *f)
{
    srv_device d = {"fake device", NULL, f_open, f_launch, f_poll, f_close,
                    f_reconfigure, f, NULL};
    return d;
}

/* serve of c's run on the fake device, with c's policy and delay */
static int srv_go(const sim_config *c, fake *f, const char *out,
                  fe_result *r, srv_stats *st, ut_err *err)
{
    srv_device d = fake_dev(f);
    srv_clock clk = {f_now, f_wait, f};
    f->w = c->run.wcfg;
    f->nw = c->run.nw;
    srv_config sc = {&c->run, &d, &clk, 1000000000, -1, "fake", NULL,
                     c->policy, c->req,
                     c->reconfig_delay_s >= 0 ? c->reconfig_delay_s
                                              : SIM_DEFAULT_RECONFIG_S};
    return srv_run(&sc, out, r, st, err);
}


/* reconfig.csv's rows (without the header) and how many say "not
 * applied" */
static int log_rows(const char *dir, int *not_applied)
{
    char *s = tu_read_in(dir, "reconfig.csv");
    assert_non_null(s);
    static const char head[] = "time_s,pass_gpu,gpu,index,instance,workload,";
    assert_true(!strncmp(s, head, sizeof head - 1));
    int rows = -1;
    *not_applied = 0;
    for (char *l = strtok(s, "\n"); l; l = strtok(NULL, "\n")) {
        rows++;
        *not_applied += strstr(l, "not applied") != NULL;
    }
    free(s);
    return rows;
}

static const cJSON *runtime_of(cJSON *summary)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(summary, "serve"),
                               "runtime");
}

/* ---- a policy's own plan of the safeguard experiment's workloads -------- */

typedef struct prun {
    pol_workload wl[3];
    pol_request req;
    pol_plan plan;
    fe_workload_cfg w[3];
    sim_config c;
} prun;

/* The workloads of experiments/safeguard.json planned by `policy` on the
 * V100, Poisson at their rates, each batch taking svc_ms[w] on the fixed
 * back end, for dur s. */
static void prun_make(prun *p, const char *policy, const double *svc_ms,
                      double dur)
{
    memset(p, 0, sizeof *p);
    p->wl[0] = tu_wl("alexnet", "alexnet", 15, 500);
    p->wl[1] = tu_wl("resnet50", "resnet50", 40, 400);
    p->wl[2] = tu_wl("vgg19", "vgg19", 60, 200);
    p->req = (pol_request){p->wl, 3, &fit, NULL, 0};
    ut_err err;
    if (pol_make_plan(policy, &p->req, &p->plan, &err) < 0)
        fail_msg("%s", err.msg);
    for (size_t w = 0; w < 3; w++) {
        fe_workload_defaults(&p->w[w], p->wl[w].name, p->wl[w].rate_rps);
        p->w[w].service_ms = svc_ms[w];
    }
    tu_sim_config(&p->c, &p->plan, &fit, "fixed", p->w, 3, dur, 7);
    p->c.run.trace_max = 300;
    p->c.policy = pol_find(policy);
    p->c.req = &p->req;
    p->c.reconfig_delay_s = 0.5;
}

/* sim and serve of p; both results returned, the sim's checked to have
 * stayed on one GPU with at least min_changes changes */
static void both(prun *p, const char *a, const char *b, fake *f,
                 fe_result *rs, fe_result *rv, srv_stats *st,
                 size_t min_changes)
{
    ut_err err;
    if (sim_run(&p->c, a, rs, &err) < 0)
        fail_msg("sim: %s", err.msg);
    assert_int_equal(rs->ngpus, 1);
    if (rs->reconfigs < min_changes)
        fail_msg("the hook changed %zu things, expected at least %zu",
                 rs->reconfigs, min_changes);
    int rc = srv_go(&p->c, f, b, rv, st, &err);
    if (rc < 0)
        fail_msg("serve: %s", err.msg);
    if (rc != 0)
        fail_msg("serve: rc %d: %s", rc, st->error_msg);
}

/* igniter-sg on an overloaded AlexNet: the safeguard raises its share,
 * hot, again and again (a share does not speed the fixed back end up):
 * serve applies each on the device and gives sim's results. */
static void test_igniter_sg_serve_equals_sim(void **state)
{
    (void)state;
    prun p;
    static const double svc[] = {9, 6, 12};
    prun_make(&p, "igniter-sg", svc, 12);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    fake f = {0};
    fe_result rs, rv;
    srv_stats st;
    both(&p, a, b, &f, &rs, &rv, &st, 1);
    tu_same_as_sim(a, b);
    assert_int_equal(rv.reconfigs, rs.reconfigs);
    assert_int_equal(st.reconfigs, rs.reconfigs);
    assert_int_equal(st.not_applied, 0);
    assert_int_equal(f.sets, (int)rs.reconfigs);
    int na, rows = log_rows(b, &na);
    assert_int_equal(rows, (int)rs.reconfigs);
    assert_int_equal(na, 0);
    cJSON *y = tu_json_in(b, "summary.json");
    const cJSON *rt = runtime_of(y);
    assert_non_null(rt);
    assert_string_equal(cJSON_GetObjectItem(rt, "policy")->valuestring,
                        "igniter-sg");
    assert_int_equal(cJSON_GetObjectItem(rt, "applied")->valueint,
                     (int)rs.reconfigs);
    cJSON_Delete(y);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
    pol_plan_free(&p.plan);
}

/* GSLICE+ with slack and violations: shares go up and down and batches
 * change, all hot; serve gives sim's results. */
static void test_gslice_serve_equals_sim(void **state)
{
    (void)state;
    prun p;
    static const double svc[] = {8, 4, 5};
    prun_make(&p, "gslice", svc, 8);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    fake f = {0};
    fe_result rs, rv;
    srv_stats st;
    both(&p, a, b, &f, &rs, &rv, &st, 2);
    tu_same_as_sim(a, b);
    assert_int_equal(rv.reconfigs, rs.reconfigs);
    assert_int_equal(st.not_applied, 0);
    assert_int_equal(f.sets, (int)rs.reconfigs);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
    pol_plan_free(&p.plan);
}

/* ---- a scripted policy: every kind of change, on a plan of one GPU ----- */

typedef struct script {
    size_t gpu;        /* where its ADD goes (0: the one served) */
    size_t other_gpu;  /* where its second SET goes */
    int step;
} script;

static script sc;


static void *sc_new(const pol_request *req, const pol_plan *plan)
{
    (void)req;
    (void)plan;
    memset(&sc.step, 0, sizeof sc.step);
    return &sc;
}

static void sc_free(void *st)
{
    (void)st;
}

/* At 3 s: W1's instance 0 gets batch 2 (not hot: the delay); at 6 s: a
 * new W1 instance on GPU sc.gpu, not hot; at 10 s: instance 0 of GPU 0
 * (W1's first) goes, its queue to the new one; at 12 s a SET of instance
 * 0 of GPU sc.other_gpu, hot. */
static void sc_runtime(void *st, double now_s, const pol_plan *p,
                       const pol_observation *obs, size_t nobs,
                       pol_reconfig *out, size_t *n)
{
    script *s = st;
    (void)obs;
    (void)nobs;
    *n = 0;
    pol_reconfig r;
    memset(&r, 0, sizeof r);
    if (s->step == 0 && now_s >= 3) {
        r.kind = POL_RECONF_SET;
        r.gpu = 0;
        r.index = 0;
        r.batch = 2;
        r.share_pct = p->gpus[0].inst[0].share_pct;
    } else if (s->step == 1 && now_s >= 6) {
        r.kind = POL_RECONF_ADD;
        r.gpu = s->gpu;
        snprintf(r.name, sizeof r.name, "W1");
        r.batch = 4;
        r.share_pct = 20;
        r.rate_rps = 300;
    } else if (s->step == 2 && now_s >= 10) {
        r.kind = POL_RECONF_REMOVE;
        r.gpu = 0;
        r.index = 0;
    } else if (s->step == 3 && now_s >= 12) {
        r.kind = POL_RECONF_SET;
        r.gpu = s->other_gpu;
        r.index = 0;
        r.batch = 1;
        r.share_pct = 10;
        r.hot = 1;
    } else {
        return;
    }
    s->step++;
    out[(*n)++] = r;
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

typedef struct srun {
    tu_hplan t;
    pol_workload wl[2];
    pol_request req;
    fe_workload_cfg w[2];
    sim_config c;
} srun;

/* W1 (two instances on GPU 0) and W2 (one on GPU 0, and with ngpus 2 one
 * on GPU 1), 15 s, delay 0.7 s. */
static void srun_make(srun *r, size_t ngpus)
{
    memset(r, 0, sizeof *r);
    tu_hplan_init(&r->t, ngpus, "V100", 3.6);
    tu_hplan_add(&r->t, 0, "W1", "alexnet", 4, 25, 300, 30);
    tu_hplan_add(&r->t, 0, "W1", "alexnet", 4, 25, 300, 30);
    tu_hplan_add(&r->t, 0, "W2", "resnet50", 2, 25, 100, 50);
    if (ngpus > 1)
        tu_hplan_add(&r->t, 1, "W2", "resnet50", 2, 25, 100, 50);
    r->wl[0] = tu_wl("W1", "alexnet", 30, 600);
    r->wl[1] = tu_wl("W2", "resnet50", 50, ngpus > 1 ? 200 : 100);
    r->req = (pol_request){r->wl, 2, &fit, NULL, 0};
    for (size_t w = 0; w < 2; w++)
        fe_workload_defaults(&r->w[w], r->wl[w].name, r->wl[w].rate_rps);
    r->w[0].service_ms = 3;
    r->w[1].service_ms = 7;
    tu_sim_config(&r->c, &r->t.p, &fit, "fixed", r->w, 2, 15, 3);
    r->c.run.trace_max = 400;
    r->c.policy = &scripted;
    r->c.req = &r->req;
    r->c.reconfig_delay_s = 0.7;
}

/* SET with a delay, ADD and REMOVE on the GPU served: sim's results, the
 * device asked once for each (the REMOVE after its instance's batch), the
 * log's rows in order with the delay in ready_s. */
static void test_every_kind_serve_equals_sim(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 1);
    memset(&sc, 0, sizeof sc);
    sc.other_gpu = 0;
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    ut_err err;
    fe_result rs, rv;
    if (sim_run(&r.c, a, &rs, &err) < 0)
        fail_msg("sim: %s", err.msg);
    assert_int_equal(rs.reconfigs, 4);
    fake f = {0};
    srv_stats st;
    assert_int_equal(srv_go(&r.c, &f, b, &rv, &st, &err), 0);
    tu_same_as_sim(a, b);
    assert_int_equal(rv.reconfigs, 4);
    assert_int_equal(f.sets, 2);
    assert_int_equal(f.adds, 1);
    assert_int_equal(f.stops, 1);
    /* the added instance counts in W1's instances, as sim counts it */
    assert_int_equal(rv.w[0].instances, 3);
    char *s = tu_read_in(b, "reconfig.csv");
    assert_non_null(s);
    /* 3 s: W1's instance 0, batch 4 -> 2, served again at 3.7 s */
    assert_non_null(strstr(s, "\n3.000000,0,0,0,0,W1,set,0,25,25,4,2,1,0.000,"
                              "3.700000,\n"));
    assert_non_null(strstr(s, "\n6.000000,0,0,3,3,W1,add,0,0,20,0,4,1,0.000,"
                              "6.700000,\n"));
    /* 10 s: that instance (batch 2 by then) goes; 12 s: the hot SET of the
     * instance now at index 0 (W1's second), served again at once */
    assert_non_null(strstr(s, "\n10.000000,0,0,0,0,W1,remove,0,25,0,2,0,1,"
                              "0.000,,\n"));
    assert_non_null(strstr(s, "\n12.000000,0,0,0,1,W1,set,1,25,10,4,1,1,"
                              "0.000,12.000000,\n"));
    free(s);
    fe_result_free(&rs);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* A device whose changes take time: the instance serves again only once
 * the change is done (the later of that and the delay), and the log shows
 * what the device took. */
static void test_device_time_is_the_downtime(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 1);
    memset(&sc, 0, sizeof sc);
    r.c.reconfig_delay_s = 0;
    const char *b = tu_tmpdir();
    ut_err err;
    fe_result rv;
    fake f = {0};
    f.op_ns = 250000000;   /* 250 ms each */
    srv_stats st;
    assert_int_equal(srv_go(&r.c, &f, b, &rv, &st, &err), 0);
    char *s = tu_read_in(b, "reconfig.csv");
    assert_non_null(s);
    /* the SET at 3 s: asked at once (no batch of W1 runs at a control
     * time of this fake), done 250 ms later, served from then */
    assert_non_null(strstr(s, ",W1,set,0,25,25,4,2,1,250.000,3.250000,\n"));
    free(s);
    cJSON *y = tu_json_in(b, "summary.json");
    const cJSON *dm = cJSON_GetObjectItem(runtime_of(y), "device_ms");
    assert_int_equal(cJSON_GetObjectItem(dm, "count")->valueint, 4);
    assert_close(cJSON_GetObjectItem(dm, "max")->valuedouble, 250, 1e-9);
    cJSON_Delete(y);
    /* the clock stood still for 250 ms four times: arrivals then were
     * handled late, and the lateness says so */
    assert_true(st.lateness.max >= 200000000);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* A plan of two GPUs, one at a time: an ADD on a new GPU, a SET on the
 * other plan GPU and a REMOVE of a workload with an instance elsewhere
 * are not applied; each is a row of the log saying so, counted in
 * summary.json, and the run completes. */
static void test_what_one_gpu_cannot_do_is_logged(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 2);
    memset(&sc, 0, sizeof sc);
    sc.gpu = 2;          /* a new GPU */
    sc.other_gpu = 1;
    const char *b = tu_tmpdir();
    ut_err err;
    fe_result rv;
    fake f = {0};
    srv_stats st;
    assert_int_equal(srv_go(&r.c, &f, b, &rv, &st, &err), 0);
    assert_int_equal(st.passes, 2);
    int na, rows = log_rows(b, &na);
    /* each pass is asked for the four changes: pass 0 makes the batch SET
     * and the REMOVE (W1 is all on GPU 0), not the ADD (a new GPU) nor
     * the SET on GPU 1; pass 1 makes only the SET on GPU 1 */
    assert_int_equal(rows, 8);
    assert_int_equal(na, 5);
    char *s = tu_read_in(b, "reconfig.csv");
    assert_non_null(s);
    assert_non_null(strstr(s, "\n6.000000,0,2,0,-1,W1,add,0,0,20,0,4,0,,,"
                              "not applied: a new GPU"));
    assert_non_null(strstr(s, "\n12.000000,0,1,0,-1,W2,set,1,25,10,2,1,0,,,"
                              "not applied: another plan GPU"));
    assert_non_null(strstr(s, "\n10.000000,1,0,0,-1,W1,remove,0,25,0,"));
    assert_non_null(strstr(s, "\n12.000000,1,1,0,3,W2,set,1,25,10,2,1,1,"));
    free(s);
    assert_int_equal((int)st.not_applied, na);
    cJSON *y = tu_json_in(b, "summary.json");
    assert_int_equal(cJSON_GetObjectItem(runtime_of(y),
                                         "not_applied")->valueint, na);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(y, "complete")));
    cJSON_Delete(y);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* A device that refuses every SET and ADD (too few SMs free): the run
 * completes; each is a row of the log, not applied, with the device's
 * reason; the REMOVE is made; the refused ADD adds no instance and the
 * refused SETs leave their instances as they were. */
static void test_refused_changes_are_logged(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 1);
    memset(&sc, 0, sizeof sc);
    const char *b = tu_tmpdir();
    ut_err err;
    fe_result rv;
    fake f = {0};
    f.refuse = 1;
    srv_stats st;
    assert_int_equal(srv_go(&r.c, &f, b, &rv, &st, &err), 0);
    assert_int_equal(f.refused, 3);
    assert_int_equal(f.sets + f.adds, 0);
    assert_int_equal(f.stops, 1);
    assert_int_equal(st.reconfigs, 1);
    assert_int_equal(st.not_applied, 3);
    assert_int_equal(rv.w[0].instances, 2);
    int na, rows = log_rows(b, &na);
    assert_int_equal(rows, 4);
    assert_int_equal(na, 3);
    char *s = tu_read_in(b, "reconfig.csv");
    assert_non_null(s);
    assert_non_null(strstr(s, "\n3.000000,0,0,0,0,W1,set,0,25,25,4,2,0,,,"
                              "not applied: W1: too few SM groups free\n"));
    assert_non_null(strstr(s, "\n6.000000,0,0,0,-1,W1,add,0,0,20,0,4,0,,,"
                              "not applied: W1: too few SM groups free\n"));
    assert_non_null(strstr(s, "\n10.000000,0,0,0,0,W1,remove,0,25,0,4,0,1,"
                              "0.000,,\n"));
    assert_non_null(strstr(s, "\n12.000000,0,0,0,1,W1,set,1,25,10,4,1,0,,,"
                              "not applied: W1: too few SM groups free\n"));
    free(s);
    cJSON *y = tu_json_in(b, "summary.json");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(y, "complete")));
    assert_int_equal(cJSON_GetObjectItem(runtime_of(y),
                                         "not_applied")->valueint, 3);
    cJSON_Delete(y);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

/* p served twice: without its policy into a (a fake device of its own),
 * then with it on *f2 into b; *s2 the second run's statistics (the
 * caller frees their lateness). */
static void without_and_with(prun *p, fake *f2, const char *a,
                             const char *b, srv_stats *s2)
{
    ut_err err;
    fe_result r1, r2;
    srv_stats s1;
    fake f1 = {0};
    sim_config none = p->c;
    none.policy = NULL;
    none.req = NULL;
    assert_int_equal(srv_go(&none, &f1, a, &r1, &s1, &err), 0);
    assert_int_equal(srv_go(&p->c, f2, b, &r2, s2, &err), 0);
    fe_result_free(&r1);
    fe_result_free(&r2);
    fe_hist_free(&s1.lateness);
}

/* igniter-sg on a device that refuses every change: the instances run on
 * as planned, so the requests' results are those of a run without a
 * policy, and every change asked for is logged as not applied. */
static void test_refused_sets_leave_the_plan(void **state)
{
    (void)state;
    prun p;
    static const double svc[] = {9, 6, 12};
    prun_make(&p, "igniter-sg", svc, 12);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    srv_stats s2;
    fake f2 = {0};
    f2.refuse = 1;
    without_and_with(&p, &f2, a, b, &s2);
    assert_true(f2.refused >= 1);
    assert_int_equal(f2.sets + f2.adds + f2.stops, 0);
    assert_int_equal(s2.reconfigs, 0);
    assert_int_equal((int)s2.not_applied, f2.refused);
    int na, rows = log_rows(b, &na);
    assert_int_equal(rows, f2.refused);
    assert_int_equal(na, f2.refused);
    static const char *const files[] = {"workloads.csv", "timeseries.csv",
                                        "cdf.csv", "trace.json"};
    tu_same_files(a, b, files, 4);
    fe_hist_free(&s2.lateness);
    pol_plan_free(&p.plan);
}

/* A policy without a hook (igniter): serve's files are those of a run
 * with no policy at all, byte for byte; no runtime member, no
 * reconfig.csv, the device never asked to reconfigure. */
static void test_static_policy_output_unchanged(void **state)
{
    (void)state;
    prun p;
    static const double svc[] = {9, 6, 12};
    prun_make(&p, "igniter", svc, 6);
    assert_null(p.c.policy->runtime);
    const char *a = tu_tmpdir(), *b = tu_tmpdir();
    srv_stats s2;
    fake f2 = {0};
    without_and_with(&p, &f2, a, b, &s2);
    static const char *const files[] = {"workloads.csv", "timeseries.csv",
                                        "cdf.csv", "trace.json",
                                        "requests.csv", "summary.json"};
    tu_same_files(a, b, files, 6);
    char path[512];
    snprintf(path, sizeof path, "%s/reconfig.csv", b);
    assert_int_equal(access(path, F_OK), -1);
    cJSON *y = tu_json_in(b, "summary.json");
    assert_null(runtime_of(y));
    cJSON_Delete(y);
    assert_int_equal(f2.sets + f2.adds + f2.stops, 0);
    fe_hist_free(&s2.lateness);
    pol_plan_free(&p.plan);
}

/* Refused before anything runs, nothing written: a hook without the
 * workloads it planned, a device that cannot reconfigure, a negative
 * delay, and a policy that asks for a batch the runner cannot hold ends
 * the run with its name. */
static void test_bad_input(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 1);
    memset(&sc, 0, sizeof sc);
    const char *b = tu_tmpdir();
    ut_err err;
    fe_result rv;
    srv_stats st;
    fake f = {0};
    f.w = r.w;
    f.nw = 2;
    srv_device d = fake_dev(&f);
    srv_clock clk = {f_now, f_wait, &f};
    srv_config c = {&r.c.run, &d, &clk, 1000000000, -1, "fake", NULL,
                    &scripted, NULL, 0};
    assert_int_equal(srv_run(&c, b, &rv, &st, &err), -1);
    assert_non_null(strstr(err.msg, "policy scripted: its runtime hook needs "
                                    "the workloads"));
    c.req = &r.req;
    d.reconfigure = NULL;
    assert_int_equal(srv_run(&c, b, &rv, &st, &err), -1);
    assert_non_null(strstr(err.msg, "cannot"));
    d.reconfigure = f_reconfigure;
    c.reconfig_delay_s = -1;
    assert_int_equal(srv_run(&c, b, &rv, &st, &err), -1);
    assert_non_null(strstr(err.msg, "reconfig_delay_s: expected seconds"));
    assert_int_equal(f.opens, 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 0", b);
    assert_int_equal(system(cmd), 0);
}

/* A change the runner cannot make (batch 100) ends the run as an error
 * naming the policy; the results so far are kept. */
static int big_plan_never(const pol_request *req, pol_plan *out, ut_err *err)
{
    return tu_never_plan(req, out, err);
}

static void big_runtime(void *st, double now_s, const pol_plan *p,
                        const pol_observation *obs, size_t nobs,
                        pol_reconfig *out, size_t *n)
{
    (void)st;
    (void)obs;
    (void)nobs;
    *n = 0;
    if (now_s < 2)
        return;
    memset(out, 0, sizeof *out);
    out->kind = POL_RECONF_SET;
    out->batch = CAP_MAX_BATCH + 1;
    out->share_pct = p->gpus[0].inst[0].share_pct;
    *n = 1;
}

static const pol_ops big = {
    .version = POL_OPS_VERSION,
    .name = "big",
    .summary = "test",
    .plan = big_plan_never,
    .runtime_new = sc_new,
    .runtime = big_runtime,
    .runtime_free = sc_free,
};

static void test_bad_change_ends_the_run(void **state)
{
    (void)state;
    srun r;
    srun_make(&r, 1);
    r.c.policy = &big;
    const char *b = tu_tmpdir();
    ut_err err;
    fe_result rv;
    srv_stats st;
    fake f = {0};
    assert_int_equal(srv_go(&r.c, &f, b, &rv, &st, &err), 2);
    assert_true(st.error);
    assert_non_null(strstr(st.error_msg, "policy big: runtime change: "
                                         "batch: expected 1..128 (the runner's "
                                         "buffers), got 129"));
    assert_false(rv.complete);
    assert_close(rv.sim_end_s, 2.0, 1e-9);
    fe_result_free(&rv);
    fe_hist_free(&st.lateness);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_igniter_sg_serve_equals_sim),
        cmocka_unit_test(test_gslice_serve_equals_sim),
        cmocka_unit_test(test_every_kind_serve_equals_sim),
        cmocka_unit_test(test_device_time_is_the_downtime),
        cmocka_unit_test(test_what_one_gpu_cannot_do_is_logged),
        cmocka_unit_test(test_refused_changes_are_logged),
        cmocka_unit_test(test_refused_sets_leave_the_plan),
        cmocka_unit_test(test_static_policy_output_unchanged),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bad_change_ends_the_run),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
