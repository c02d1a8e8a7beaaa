/*
 * test_plan.c - the iGniter policy (policies/igniter.c): the paper's
 * published example, Algorithm 1's steps checked by hand, the replica path,
 * unservable SLOs, each fixed defect of the reference beside its faithful
 * behaviour, invariants on random workload sets, plans of random sets
 * pinned to digests (igniter and ffd, V100 and H100), and the plan file
 * (round trip, and bad files refused with a message, never a crash).
 */
#define TU_RANDOM_WORKLOADS
#include "testutil.h"
#include "policies/policy.h"

TU_FIT_FIXTURE(f, V100_PROFILE)

static int plan(const pol_workload *w, size_t n, int faithful, pol_plan *p,
                ut_err *err)
{
    pol_request req = {w, n, &f, NULL, faithful};
    return pol_make_plan("igniter", &req, p, err);
}

static void must_plan(const pol_workload *w, size_t n, int faithful,
                      pol_plan *p)
{
    ut_err err;
    if (plan(w, n, faithful, p, &err) < 0)
        fail_msg("%s", err.msg);
}

static const pol_instance *find(const pol_plan *p, const char *name,
                                size_t *gpu)
{
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t i = 0; i < p->gpus[j].n; i++)
            if (!strcmp(p->gpus[j].inst[i].name, name)) {
                if (gpu)
                    *gpu = j;
                return &p->gpus[j].inst[i];
            }
    return NULL;
}

static void test_published_example(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("a", "alexnet", 15, 500),
                        tu_wl("r", "resnet50", 40, 400),
                        tu_wl("v", "vgg19", 60, 200)};
    for (int faithful = 0; faithful <= 1; faithful++) {
        pol_plan p;
        must_plan(w, 3, faithful, &p);
        assert_int_equal(p.ngpus, 1);
        const pol_instance *a = find(&p, "a", NULL), *r = find(&p, "r", NULL),
                           *v = find(&p, "v", NULL);
        assert_int_equal(a->batch, 4);
        assert_true(a->share_pct == 10);
        assert_int_equal(r->batch, 8);
        assert_true(r->share_pct == 30);
        assert_int_equal(v->batch, 6);
        assert_true(v->share_pct == 37.5);
        assert_true(p.cost_per_hour == 3.06);
        pol_plan_free(&p);
    }
}

/* Step 2 by hand: b = ceil(s lambda B / (B + in lambda)). AlexNet, 15 ms,
 * 500 req/s: 7.5 * 0.5 * 1e7 / (1e7 + 602112 * 0.5) = 3.64 -> 4. */
static void test_batch_by_hand(void **state)
{
    (void)state;
    const mdl_model *ax = &f.models[mdl_find(&f, "alexnet")];
    assert_int_equal(pol_igniter_batch(&f, ax, 15, 500), 4);
    /* VGG-19, 60 ms, 200 req/s: 30 * 0.2 * 1e7 / (1e7 + 120422.4) = 5.93 */
    const mdl_model *vg = &f.models[mdl_find(&f, "vgg19")];
    assert_int_equal(pol_igniter_batch(&f, vg, 60, 200), 6);
    /* a trickle still gets batch 1 */
    assert_int_equal(pol_igniter_batch(&f, vg, 60, 1), 1);
}

/* The largest batch, scanning up from 1, whose solo latency on a whole GPU
 * is below half the SLO; computed here from the predictor directly. */
static int replica_batch(const char *model, double slo, double *tput)
{
    int best = 0;
    for (int b = 1; b <= 32; b++) {
        mdl_place p = {mdl_find(&f, model), b, 100};
        double l, t;
        mdl_predict(&f, &p, 1, &l, &t);
        if (!(l < slo / 2))
            break;
        best = b;
        *tput = t;
    }
    return best;
}

static void test_replicas_for_a_workload_larger_than_a_gpu(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("big", "resnet50", 40, 3000)};
    pol_plan p;
    must_plan(w, 1, 0, &p);
    double tput = 0;
    int b = replica_batch("resnet50", 40, &tput);
    assert_true(b > 1);
    double per = ceil(0.9 * tput);
    size_t nrep = 0;
    double total = 0;
    for (size_t j = 0; j < p.ngpus; j++)
        for (size_t i = 0; i < p.gpus[j].n; i++) {
            const pol_instance *in = &p.gpus[j].inst[i];
            total += in->rate_rps;
            if (p.gpus[j].replica) {
                nrep++;
                assert_int_equal(p.gpus[j].n, 1);
                assert_true(in->share_pct == 100);
                assert_int_equal(in->batch, b);      /* defect 1 fixed */
                assert_true(in->rate_rps == per);
            } else {
                assert_true(in->rate_rps <= per);    /* the remainder */
            }
        }
    assert_true(total == 3000);
    assert_int_equal(nrep, (size_t)ceil(3000 / per) - 1);
    assert_true(p.cost_per_hour == 3.06 * (double)p.ngpus);
    pol_plan_free(&p);
}

/* Defect 1: the reference writes batch[max_batch] for a replica, the batch
 * of whichever workload sits at that index, or crashes when there is none. */
static void test_faithful_replica_batch_defect(void **state)
{
    (void)state;
    double tput;
    int b = replica_batch("resnet50", 40, &tput);
    pol_workload one[] = {tu_wl("big", "resnet50", 40, 3000)};
    pol_plan p;
    ut_err err;
    assert_int_equal(plan(one, 1, 1, &p, &err), -1);
    assert_non_null(strstr(err.msg, "big"));
    assert_non_null(strstr(err.msg, "--faithful"));
    /* with enough workloads the index exists, and names another one's batch */
    pol_workload many[40];
    many[0] = tu_wl("big", "resnet50", 40, 3000);
    for (int i = 1; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        many[i] = tu_wl(name, "alexnet", 30, 10 * i);
    }
    must_plan(many, 40, 1, &p);
    pol_plan q;
    must_plan(many, 40, 0, &q);
    int want = pol_igniter_batch(&f, &f.models[mdl_find(&f, "alexnet")], 30,
                                 10 * b);
    for (size_t j = 0; j < p.ngpus; j++)
        if (p.gpus[j].replica) {
            assert_int_equal(p.gpus[j].inst[0].batch, want);
            assert_true(want != b);
        }
    for (size_t j = 0; j < q.ngpus; j++)
        if (q.gpus[j].replica)
            assert_int_equal(q.gpus[j].inst[0].batch, b);
    pol_plan_free(&p);
    pol_plan_free(&q);
}

static void test_unservable_slo_names_the_workload(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("ok", "alexnet", 15, 500),
                        tu_wl("tight", "resnet50", 2, 100)};
    pol_plan p;
    ut_err err;
    assert_int_equal(plan(w, 2, 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "\"tight\""));
    assert_non_null(strstr(err.msg, "slo_ms"));
    assert_non_null(strstr(err.msg, "resnet50"));
}

/* Defect 2: AlexNet at 3 ms and 50,000 req/s gets batch 19, whose transfer
 * alone (19 x 0.06 ms) nearly fills the 1.5 ms budget: the bound's
 * denominator is negative. The reference plans a negative share, which the
 * plan check refuses (no tool may act on it); fixed, the workload goes to
 * replicas at a batch that fits and is fully served. */
static void test_negative_bound_defect(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("r", "alexnet", 3, 50000)};
    pol_plan p;
    ut_err err;
    assert_int_equal(plan(w, 1, 1, &p, &err), -1);
    assert_non_null(strstr(err.msg, "invalid plan"));
    assert_non_null(strstr(err.msg, "share_pct"));
    assert_non_null(strstr(err.msg, "got -"));
    must_plan(w, 1, 0, &p);
    double total = 0;
    for (size_t j = 0; j < p.ngpus; j++)
        for (size_t i = 0; i < p.gpus[j].n; i++) {
            const pol_instance *in = &p.gpus[j].inst[i];
            assert_true(in->share_pct > 0);
            assert_true(in->predicted_latency_ms <= in->slo_ms / 2);
            total += in->rate_rps;
        }
    assert_true(total == 50000);
    pol_plan_free(&p);
}

/* Defect 3: VGG-19 at 100 ms, 600 req/s wants batch 29 and a share the
 * solo model puts at 100 %, but the power model lowers the clock and the
 * prediction misses. The reference opens the GPU anyway; fixed, the check
 * sends it through replicas and the plan meets every budget. */
static void test_new_gpu_is_checked_defect(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("v", "vgg19", 100, 600)};
    pol_plan p;
    must_plan(w, 1, 1, &p);
    const pol_instance *in = find(&p, "v", NULL);
    assert_true(in->predicted_latency_ms > 50);
    pol_plan_free(&p);
    must_plan(w, 1, 0, &p);
    double total = 0;
    for (size_t j = 0; j < p.ngpus; j++)
        for (size_t i = 0; i < p.gpus[j].n; i++) {
            assert_true(p.gpus[j].inst[i].predicted_latency_ms <= 50);
            total += p.gpus[j].inst[i].rate_rps;
        }
    assert_true(total == 600);
    pol_plan_free(&p);
}

/* Invariants on random sets (fixed mode): every workload's rate is served
 * in full, no GPU is over 100 %, shares are whole units, batches >= 1, and
 * re-predicting each GPU independently meets every budget. */
static void test_random_sets_invariants(void **state)
{
    (void)state;
    for (unsigned long seed = 1; seed <= 20; seed++) {
        size_t n = 5 + seed * 7;
        pol_workload *w = tu_random_workloads(n, seed);
        pol_plan p;
        must_plan(w, n, 0, &p);
        double *served = calloc(n, sizeof *served);
        for (size_t j = 0; j < p.ngpus; j++) {
            const pol_gpu *g = &p.gpus[j];
            double total = 0;
            mdl_place pl[MDL_MAX_COLOC];
            double lat[MDL_MAX_COLOC];
            for (size_t i = 0; i < g->n; i++) {
                const pol_instance *in = &g->inst[i];
                assert_true(in->batch >= 1);
                assert_true(in->share_pct > 0);
                assert_true(fmod(in->share_pct, 2.5) == 0);
                total += in->share_pct;
                pl[i] = (mdl_place){mdl_find(&f, in->model), in->batch,
                                    in->share_pct};
                size_t k = (size_t)atoi(in->name + 1) - 1;
                served[k] += in->rate_rps;
            }
            assert_true(total <= 100);
            mdl_predict(&f, pl, g->n, lat, NULL);
            for (size_t i = 0; i < g->n; i++) {
                assert_true(lat[i] <= g->inst[i].slo_ms / 2);
                assert_true(lat[i] == g->inst[i].predicted_latency_ms);
            }
        }
        for (size_t k = 0; k < n; k++)
            assert_close(served[k], w[k].rate_rps, 1e-12);
        free(served);
        pol_plan_free(&p);
        free(w);
    }
}

static void test_plans_are_deterministic(void **state)
{
    (void)state;
    pol_workload *w = tu_random_workloads(300, 42);
    pol_plan a, b;
    must_plan(w, 300, 0, &a);
    must_plan(w, 300, 0, &b);
    tu_same_plans(&a, &b);
    free(w);
}

static void test_plan_file_round_trip(void **state)
{
    (void)state;
    pol_workload *w = tu_random_workloads(50, 7);
    pol_plan a, b;
    must_plan(w, 50, 0, &a);
    char *ja = pol_plan_to_json(&a);
    char *path = tu_write_temp("plan.json", ja);
    ut_err err;
    if (pol_plan_load(path, &b, &err) < 0)
        fail_msg("%s", err.msg);
    char *jb = pol_plan_to_json(&b);
    assert_string_equal(ja, jb);
    assert_int_equal(b.ngpus, a.ngpus);
    free(ja);
    free(jb);
    free(path);
    pol_plan_free(&a);
    pol_plan_free(&b);
    free(w);
}

/* A plan file whose num_gpus differs from the length of gpus (issue 14):
 * once a SIGSEGV, the count set before the array and the error path
 * freeing GPUs that were never allocated. Now a message naming the field;
 * the same for a count that matches an object that is not a GPU. */
static void test_plan_file_num_gpus_mismatch(void **state)
{
    (void)state;
    static const char head[] =
        "{\"format\":1,\"policy\":\"p\",\"gpu_type\":\"V100\","
        "\"price_per_hour\":1,\"cost_per_hour\":1,";
    char text[512];
    snprintf(text, sizeof text, "%s\"num_gpus\":0,\"gpus\":[{}]}", head);
    char *path = tu_write_temp("mismatch.json", text);
    pol_plan p;
    ut_err err;
    assert_int_equal(pol_plan_load(path, &p, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "num_gpus: expected 1"));
    assert_non_null(strstr(err.msg, "got 0"));
    assert_int_equal(p.ngpus, 0);
    free(path);
    snprintf(text, sizeof text, "%s\"num_gpus\":1,\"gpus\":[{}]}", head);
    path = tu_write_temp("empty-gpu.json", text);
    assert_int_equal(pol_plan_load(path, &p, &err), -1);
    assert_non_null(strstr(err.msg, "gpus[0].type"));
    free(path);
    snprintf(text, sizeof text, "%s\"num_gpus\":1,\"gpus\":5}", head);
    path = tu_write_temp("gpus-number.json", text);
    assert_int_equal(pol_plan_load(path, &p, &err), -1);
    assert_non_null(strstr(err.msg, "gpus: expected an array, got 5"));
    free(path);
}

static void test_bad_requests(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("x", "bert", 15, 500)};
    pol_plan p;
    ut_err err;
    assert_int_equal(plan(w, 1, 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "\"bert\""));
    assert_non_null(strstr(err.msg, "alexnet, resnet50, vgg19, ssd"));
    pol_request req = {w, 1, &f, NULL, 0};
    assert_int_equal(pol_make_plan("nosuch", &req, &p, &err), -1);
    assert_non_null(strstr(err.msg, "igniter"));
    assert_non_null(strstr(err.msg, "\"nosuch\""));
    assert_null(pol_find("nosuch"));
    assert_non_null(pol_find("igniter"));
}

/* The name checks go through a sort (100,000 workloads) but say what a
 * scan of every earlier name said: the first bad workload in order, after
 * its other fields, and the first earlier one of its name; in a plan, the
 * first instance whose name an earlier instance gives another model, and
 * that name's first instance. */
static void test_name_checks_name_the_first_clash(void **state)
{
    (void)state;
    pol_workload w[] = {tu_wl("b", "alexnet", 15, 500),
                        tu_wl("a", "vgg19", 60, 50),
                        tu_wl("c", "ssd", 60, 50),
                        tu_wl("a", "resnet50", 40, 50),
                        tu_wl("b", "bert", 15, 500),
                        tu_wl("a", "ssd", 60, 50)};
    pol_plan p;
    ut_err err;
    assert_int_equal(plan(w, 6, 0, &p, &err), -1);
    assert_string_equal(err.msg, "workloads[3].name: expected a unique name, "
                                 "got \"a\" again (also [1])");
    w[3].slo_ms = -1;     /* an earlier field of the same workload first */
    assert_int_equal(plan(w, 6, 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "workloads[3].slo_ms"));
    snprintf(w[3].name, sizeof w[3].name, "d");
    w[3].slo_ms = 40;
    assert_int_equal(plan(w, 6, 0, &p, &err), -1);
    assert_non_null(strstr(err.msg, "workloads[4].model"));
    snprintf(w[4].model, sizeof w[4].model, "alexnet");
    assert_int_equal(plan(w, 6, 0, &p, &err), -1);
    assert_string_equal(err.msg, "workloads[4].name: expected a unique name, "
                                 "got \"b\" again (also [0])");

    pol_instance in[6] = {
        {.name = "x", .model = "alexnet", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 20},
        {.name = "y", .model = "vgg19", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 60},
        {.name = "x", .model = "alexnet", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 20},
        {.name = "y", .model = "ssd", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 60},
        {.name = "x", .model = "vgg19", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 20},
        {.name = "x", .model = "resnet50", .batch = 1, .share_pct = 10,
         .rate_rps = 10, .slo_ms = 20},
    };
    pol_gpu g[3] = {{.type = "V100", .inst = in, .n = 2},
                    {.type = "V100", .inst = in + 2, .n = 3},
                    {.type = "V100", .inst = in + 5, .n = 1}};
    pol_plan hand = {.policy = "hand", .gpu_type = "V100", .ngpus = 3,
                     .gpus = g, .price_per_hour = 3.06, .cost_per_hour = 9.18};
    assert_int_equal(pol_plan_check(&hand, &f, &err), -1);
    assert_string_equal(err.msg, "plan: gpus[1].workloads[1]: workload \"y\" "
                                 "is model \"ssd\" here and \"vgg19\" on GPU 0");
    in[3].batch = 0;      /* the same instance's batch first */
    assert_int_equal(pol_plan_check(&hand, &f, &err), -1);
    assert_non_null(strstr(err.msg, "gpus[1].workloads[1].batch"));
    in[3].batch = 1;
    snprintf(in[3].model, sizeof in[3].model, "vgg19");
    assert_int_equal(pol_plan_check(&hand, &f, &err), -1);
    assert_string_equal(err.msg, "plan: gpus[1].workloads[2]: workload \"x\" "
                                 "is model \"vgg19\" here and \"alexnet\" on GPU 0");
    snprintf(in[4].model, sizeof in[4].model, "alexnet");
    assert_int_equal(pol_plan_check(&hand, &f, &err), -1);
    assert_non_null(strstr(err.msg, "gpus[2].workloads[0]: workload \"x\" is "
                                    "model \"resnet50\""));
    snprintf(in[5].model, sizeof in[5].model, "alexnet");
    assert_int_equal(pol_plan_check(&hand, &f, &err), 0);
}

/* A GPU whose co-located partitions reach less than all of it (green
 * contexts on the H100: 120 of 132 SMs): iGniter and FFD+ never give two
 * or more workloads more than the profile's colocated_pct together, while
 * one workload alone may have the whole GPU. The same workloads without
 * that limit pack tighter, so the limit is what holds them. */
static void test_colocated_capacity(void **state)
{
    (void)state;
    mdl_fitted h;
    ut_err err;
    if (mdl_load("traces/h100/profile.json", &h, &err) < 0)
        fail_msg("%s", err.msg);
    assert_close(mdl_colocated_pct(&h), 100.0 * 120 / 132, 1e-9);
    static const char *models[] = {"alexnet", "resnet50", "vgg19", "ssd300"};
    pol_workload w[24];
    for (int i = 0; i < 24; i++) {
        char name[8];
        snprintf(name, sizeof name, "W%d", i + 1);
        w[i] = tu_wl(name, models[i % 4], 20 + 5 * (i % 5),
                     150 + 50 * (i % 7));
    }
    const char *pols[] = {"igniter", "ffd"};
    for (int k = 0; k < 2; k++) {
        size_t ngpus[2];
        for (int lim = 0; lim < 2; lim++) {
            double keep = h.colocated_pct;
            if (!lim)
                h.colocated_pct = 0;   /* the whole GPU */
            pol_request req = {w, 24, &h, NULL, 0};
            pol_plan p;
            int rc = pol_make_plan(pols[k], &req, &p, &err);
            h.colocated_pct = keep;
            if (rc < 0)
                fail_msg("%s: %s", pols[k], err.msg);
            ngpus[lim] = p.ngpus;
            for (size_t j = 0; j < p.ngpus && lim; j++)
                if (p.gpus[j].n >= 2 &&
                    pol_gpu_share(&p, j) > mdl_colocated_pct(&h) + 1e-9)
                    fail_msg("%s: GPU %zu holds %zu workloads on %g %%",
                             pols[k], j, p.gpus[j].n, pol_gpu_share(&p, j));
            pol_plan_free(&p);
        }
        assert_true(ngpus[1] >= ngpus[0]);
    }
    mdl_fitted_free(&h);
    /* a profile that says more than the whole GPU is refused, by name */
    char *text = ut_read_file("traces/h100/profile.json", NULL, &err);
    assert_non_null(text);
    char *at = strstr(text, "\"colocated_pct\": ");
    assert_non_null(at);
    at += strlen("\"colocated_pct\": ");
    memcpy(at, "120.00", 6);     /* over the number's own digits */
    char *bad = tu_write_temp("cap.json", text);
    mdl_profile pr;
    assert_int_equal(mdl_profile_load(bad, &pr, &err), -1);
    if (!strstr(err.msg, "gpu.colocated_pct") || !strstr(err.msg, "120"))
        fail_msg("unclear message: %s", err.msg);
    free(text);
    free(bad);
}

/* A digest of what a plan decides, GPU by GPU: replica or shared, and
 * each instance's workload, batch, share and rate (not the predictions,
 * nor the generator's version). */
static unsigned long long plan_digest(const pol_plan *p)
{
    unsigned long long h = UT_HASH_INIT;
    char line[256];
    for (size_t j = 0; j < p->ngpus; j++) {
        int n = snprintf(line, sizeof line, "gpu %zu %d\n", j,
                         p->gpus[j].replica);
        h = ut_hash(h, line, (size_t)n);
        for (size_t k = 0; k < p->gpus[j].n; k++) {
            const pol_instance *in = &p->gpus[j].inst[k];
            n = snprintf(line, sizeof line, "%s %d %.17g %.17g\n", in->name,
                         in->batch, in->share_pct, in->rate_rps);
            h = ut_hash(h, line, (size_t)n);
        }
    }
    return h;
}

/*
 * The plans of random sets, pinned: iGniter and FFD+, fixed and faithful,
 * on the V100's and the H100's fitted models, for sets of 400 and 3,000
 * workloads and one whose rates (x 6) need replicas. The digests are those
 * of the planner before its GPU scan learned to skip GPUs (kinds and the
 * change log, policies/alg1.c), whose plans matched the reference's: any
 * change of placement shows here. An error (faithful mode's defects) is
 * pinned by its message. The fitted files, not the profiles, so that a
 * change of the fit does not move them; PRINT_DIGESTS=1 prints the
 * digests instead of checking them, to pin an intended change.
 */
static void test_random_plans_pinned(void **state)
{
    (void)state;
    static const struct {
        const char *fitted;
        size_t n;
        unsigned long seed;
        double rate_x;
        unsigned long long digest[2][2];   /* [faithful][igniter, ffd] */
    } cases[] = {
        {"traces/v100/fitted.json", 400, 1, 1,
         {{0x2ff33c159133e2a0ULL, 0x1752d84f133df169ULL},
          {0x3a98ad6dbaf69038ULL, 0xfcf3374b80be1041ULL}}},
        {"traces/v100/fitted.json", 3000, 2, 1,
         {{0x4b55500654640ca9ULL, 0xc8b41dcd26bb4ef4ULL},
          {0xec4b55332ab6c5f5ULL, 0xd3827d1efcaa3044ULL}}},
        {"traces/v100/fitted.json", 400, 3, 6,
         {{0x14e7a788906e3540ULL, 0x42cea8230f1dde48ULL},
          {0x6faccecb9e02a267ULL, 0xc65e655446d4bd74ULL}}},
        {"traces/h100/fitted.json", 400, 4, 1,
         {{0x9f2e9d86cd4454dcULL, 0xeb1dcc5be7e6bdd3ULL},
          {0x3ec1bd15683900c1ULL, 0x6ada44c37bf55713ULL}}},
        {"traces/h100/fitted.json", 3000, 5, 1,
         {{0x65b3e3d2c38fe782ULL, 0x9b4e66f54bd9e2ddULL},
          {0x82cdbe05b4999885ULL, 0x6ada44c37bf55713ULL}}},
        {"traces/h100/fitted.json", 400, 6, 6,
         {{0x12cacf875e5cb675ULL, 0x2b0feb4c9602d728ULL},
          {0x12cacf875e5cb675ULL, 0x2b0feb4c9602d728ULL}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mdl_fitted fit;
        ut_err err;
        if (mdl_load(cases[c].fitted, &fit, &err) < 0)
            fail_msg("%s", err.msg);
        pol_workload *w = tu_random_workloads(cases[c].n, cases[c].seed);
        for (size_t i = 0; i < cases[c].n; i++) {
            w[i].rate_rps *= cases[c].rate_x;
            if (mdl_find(&fit, w[i].model) < 0)   /* the H100 has ssd300 */
                snprintf(w[i].model, sizeof w[i].model, "ssd300");
        }
        for (int faithful = 0; faithful < 2; faithful++)
            for (int k = 0; k < 2; k++) {
                pol_request req = {w, cases[c].n, &fit, NULL, faithful};
                pol_plan p;
                unsigned long long d;
                if (pol_make_plan(k ? "ffd" : "igniter", &req, &p, &err) < 0) {
                    d = ut_hash(UT_HASH_INIT, err.msg, strlen(err.msg));
                } else {
                    d = plan_digest(&p);
                    pol_plan_free(&p);
                }
                if (getenv("PRINT_DIGESTS"))
                    printf("%s %zu %lu %g f%d %s: 0x%016llxULL\n",
                           cases[c].fitted, cases[c].n, cases[c].seed,
                           cases[c].rate_x, faithful, k ? "ffd" : "igniter", d);
                else if (d != cases[c].digest[faithful][k])
                    fail_msg("%s, %zu workloads (seed %lu, rates x %g), %s, "
                             "faithful %d: digest 0x%016llx, expected "
                             "0x%016llx", cases[c].fitted, cases[c].n,
                             cases[c].seed, cases[c].rate_x,
                             k ? "ffd" : "igniter", faithful, d,
                             cases[c].digest[faithful][k]);
            }
        free(w);
        mdl_fitted_free(&fit);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_example),
        cmocka_unit_test(test_batch_by_hand),
        cmocka_unit_test(test_replicas_for_a_workload_larger_than_a_gpu),
        cmocka_unit_test(test_faithful_replica_batch_defect),
        cmocka_unit_test(test_unservable_slo_names_the_workload),
        cmocka_unit_test(test_negative_bound_defect),
        cmocka_unit_test(test_new_gpu_is_checked_defect),
        cmocka_unit_test(test_random_sets_invariants),
        cmocka_unit_test(test_colocated_capacity),
        cmocka_unit_test(test_plans_are_deterministic),
        cmocka_unit_test(test_random_plans_pinned),
        cmocka_unit_test(test_plan_file_round_trip),
        cmocka_unit_test(test_plan_file_num_gpus_mismatch),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_name_checks_name_the_first_clash),
    };
    return cmocka_run_group_tests_name("plan", tests, setup, teardown);
}
