/*
 * test_optimal.c - the `optimal` policy (policies/optimal.c): its plans
 * are valid, proven optimal and never use more GPUs than iGniter, FFD+,
 * GSLICE+ (its first plan) and exclusive, on the paper's 12 workloads and
 * seeded random sets; every instance those policies plan is admissible in
 * its formulation (the argument that makes it a lower bound, checked on
 * their plans); it equals a brute-force optimum of the same formulation,
 * written again here from its definition (docs/optimal.md), on tiny sets,
 * with and without equal splits; a solve stopped by its node or time
 * limit still returns a plan with its bound and gap, the same one each
 * time under the node limit; bad limits are refused by name; without
 * splits every workload keeps Algorithm 1's shape; the plan file keeps
 * the solve's record; and the H100's co-located limit.
 */
#define TU_RANDOM_WORKLOADS
#include "testutil.h"
#include <limits.h>
#include "lab/lab.h"
#include "policies/policy.h"

static mdl_fitted fit, h100;
static mdl_measured meas;

static int setup(void **state)
{
    (void)state;
    ut_err err;
    if (mdl_load(V100_PROFILE, &fit, &err) < 0 ||
        mdl_load("traces/h100/profile.json", &h100, &err) < 0 ||
        mdl_measured_load(V100_MEASURED, &meas, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mdl_fitted_free(&fit);
    mdl_fitted_free(&h100);
    mdl_measured_free(&meas);
    return 0;
}

/* Every limit back to its default. */
static void limits_default(void)
{
    unsetenv("IGNITER_OPTIMAL_TIME_S");
    unsetenv("IGNITER_OPTIMAL_NODES");
    unsetenv("IGNITER_OPTIMAL_SPLITS");
}

static void must_plan(const char *policy, const mdl_fitted *f,
                      const pol_workload *w, size_t n, pol_plan *p)
{
    pol_request req = {w, n, f, &meas, 0};
    ut_err err;
    if (pol_make_plan(policy, &req, p, &err) < 0)
        fail_msg("%s: %s", policy, err.msg);
}

/* ---- the formulation, written again from docs/optimal.md --------------- */

/* Algorithm 1's step-3 bound of batch b within s, in units (at least
 * one); LONG_MAX if none up to the whole GPU. */
static long bound_units(const mdl_fitted *f, const mdl_model *m, double s,
                        int b)
{
    const double *k = m->k_act;
    double den = s - m->idle_ms - b * (m->input_bytes + m->output_bytes) /
                                      f->pcie_bytes_per_ms - k[4];
    if (!(den > 0))
        return LONG_MAX;
    double x = ((k[0] * (double)b * b + k[1] * b + k[2]) / den - k[3]) /
               f->share_unit_pct;
    long max = (long)floor(100 / f->share_unit_pct + 1e-9);
    if (!(x <= (double)max))
        return LONG_MAX;
    return x < 1 ? 1 : (long)ceil(x);
}

/* The solo throughput at full clock, req/s. */
static double tput(const mdl_fitted *f, const mdl_model *m, int b, long u)
{
    return 1000.0 * b /
           (m->idle_ms + mdl_active_ms(m, b, (double)u * f->share_unit_pct) +
            m->output_bytes * b / f->pcie_bytes_per_ms);
}

static int batch_hi(const mdl_fitted *f, const mdl_model *m,
                    const pol_workload *w)
{
    int b = pol_igniter_batch(f, m, w->slo_ms, w->rate_rps);
    b = b < MDL_MAX_BATCH ? MDL_MAX_BATCH : b;
    return b > 4096 ? 4096 : b;
}

typedef struct bf_opt {
    long units[2], count[2];
    int nparts;
} bf_opt;

/* The options of w, at most max_split equal splits beyond the first:
 * each a list of (units, count). */
static size_t bf_options(const mdl_fitted *f, const pol_workload *w,
                         long max_split, bf_opt *opt)
{
    const mdl_model *m = &f->models[mdl_find(f, w->model)];
    double s = w->slo_ms / 2, lam = w->rate_rps;
    long max = (long)floor(100 / f->share_unit_pct + 1e-9);
    int bh = batch_hi(f, m, w);
    long tu[64];
    double tc[64];
    size_t nt = 0;
    double n_hi = 1;
    for (int b = 1; b <= bh; b++) {
        long u = bound_units(f, m, s, b);
        if (u != LONG_MAX && ceil(lam / tput(f, m, b, u)) > n_hi)
            n_hi = ceil(lam / tput(f, m, b, u));
    }
    for (long u = 1; u <= max && (nt == 0 || tc[nt - 1] < lam); u++) {
        double best = 0;
        for (int b = 1; b <= bh; b++)
            if (bound_units(f, m, s, b) <= u) {
                double t = fmin(tput(f, m, b, u), lam);
                best = fmax(best, t);
            }
        if (best > (nt ? tc[nt - 1] : 0)) {
            tu[nt] = u;
            tc[nt++] = best;
        }
    }
    assert_true(nt > 0);
    /* the smallest type carrying r */
#define TYPE_FOR(r, out)                                                     \
    do {                                                                     \
        size_t t_ = 0;                                                       \
        while (t_ + 1 < nt && tc[t_] < (r) * (1 - 1e-6))                     \
            t_++;                                                            \
        (out) = t_;                                                          \
    } while (0)
    size_t no = 0, top = nt - 1;
    long k = 0;
    if (tc[top] >= lam) {
        opt[no++] = (bf_opt){{tu[top], 0}, {1, 0}, 1};
    } else {
        k = (long)ceil(lam / tc[top] - 1e-6) - 1;
        k = k < 1 ? 1 : k;
        size_t t;
        TYPE_FOR(lam - (double)k * tc[top], t);
        if (t == top)
            opt[no++] = (bf_opt){{tu[top], 0}, {k + 1, 0}, 1};
        else
            opt[no++] = (bf_opt){{tu[top], tu[t]}, {k, 1}, 2};
    }
    long prev = LONG_MAX, hi = (long)n_hi > k + 1 ? (long)n_hi : k + 1;
    hi = hi > k + 65 ? k + 65 : hi;
    for (long n = k + 1; n <= hi && (long)no < max_split + 1; n++) {
        size_t t;
        TYPE_FOR(lam / (double)n, t);
        if (tu[t] >= prev)
            continue;
        prev = tu[t];
        if (opt[0].nparts == 1 && opt[0].units[0] == tu[t] &&
            opt[0].count[0] == n)
            continue;
        opt[no++] = (bf_opt){{tu[t], 0}, {n, 0}, 1};
    }
#undef TYPE_FOR
    return no;
}

/* Exact bin packing by depth-first search: the fewest bins of capacity
 * cap for items (sorted, largest first; rest[k] the units of items k..),
 * below *best. */
static void bf_pack(const long *item, const long *rest, size_t n, size_t k,
                    long *load, long nb, long cap, long *best)
{
    if (nb >= *best)
        return;
    if (k == n) {
        *best = nb;
        return;
    }
    long room = 0;
    for (long b = 0; b < nb; b++)
        room += cap - load[b];
    if (rest[k] > room &&
        nb + (rest[k] - room + cap - 1) / cap >= *best)
        return;
    for (long b = 0; b < nb; b++) {
        int seen = 0;   /* a bin with the same load was tried already */
        for (long e = 0; e < b && !seen; e++)
            seen = load[e] == load[b];
        if (seen || load[b] + item[k] > cap)
            continue;
        load[b] += item[k];
        bf_pack(item, rest, n, k + 1, load, nb, cap, best);
        load[b] -= item[k];
    }
    load[nb] = item[k];
    bf_pack(item, rest, n, k + 1, load, nb + 1, cap, best);
    load[nb] = 0;
}

static int long_desc(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x < y) - (x > y);
}

/* The fewest GPUs over every choice of options and every packing, if
 * fewer than `above`; else `above`. */
static long brute_force(const mdl_fitted *f, const pol_workload *w, size_t n,
                        long max_split, long above)
{
    long co = (long)floor(mdl_colocated_pct(f) / f->share_unit_pct + 1e-9);
    bf_opt opt[8][80];
    size_t no[8], pick[8] = {0};
    assert_true(n <= 8);
    double combos = 1;
    for (size_t i = 0; i < n; i++) {
        no[i] = bf_options(f, &w[i], max_split, opt[i]);
        combos *= (double)no[i];
    }
    if (getenv("BF_DEBUG"))
        fprintf(stderr, "brute force: %g combinations\n", combos);
    long best = above;
    for (;;) {
        long item[512], rest[513], load[512] = {0};
        size_t ni = 0;
        long alone = 0, sum = 0;
        for (size_t i = 0; i < n; i++) {
            const bf_opt *o = &opt[i][pick[i]];
            for (int p = 0; p < o->nparts; p++)
                for (long c = 0; c < o->count[p]; c++) {
                    if (o->units[p] > co) {
                        alone++;
                    } else {
                        assert_true(ni < 512);
                        item[ni++] = o->units[p];
                        sum += o->units[p];
                    }
                }
        }
        if (alone + (sum + co - 1) / co < best) {
            qsort(item, ni, sizeof *item, long_desc);
            rest[ni] = 0;
            for (size_t q = ni; q-- > 0;)
                rest[q] = rest[q + 1] + item[q];
            long bins = best - alone;
            bf_pack(item, rest, ni, 0, load, 0, co, &bins);
            if (alone + bins < best)
                best = alone + bins;
        }
        size_t i = 0;
        while (i < n && ++pick[i] == no[i])
            pick[i++] = 0;
        if (i == n)
            break;
    }
    return best;
}

/* ---- checks on a plan ------------------------------------------------------ */

/* Every instance of p is admissible in the formulation: its share a whole
 * number of units, at least its batch's bound, carrying at most the solo
 * throughput; GPUs within their limits; every rate served in full. */
static void check_admissible(const char *policy, const mdl_fitted *f,
                             const pol_workload *w, size_t n,
                             const pol_plan *p)
{
    double unit = f->share_unit_pct;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++) {
            const pol_instance *in = &p->gpus[j].inst[k];
            size_t i = 0;
            while (i < n && strcmp(w[i].name, in->name))
                i++;
            assert_true(i < n);
            const mdl_model *m = &f->models[mdl_find(f, in->model)];
            long u = lround(in->share_pct / unit);
            assert_true(fabs((double)u * unit - in->share_pct) < 1e-9);
            if (bound_units(f, m, w[i].slo_ms / 2, in->batch) > u)
                fail_msg("%s: %s on GPU %zu: %g %% is below the bound of "
                         "batch %d", policy, in->name, j, in->share_pct,
                         in->batch);
            assert_true(in->batch <= batch_hi(f, m, &w[i]));
            if (in->rate_rps > tput(f, m, in->batch, u) * (1 + 1e-5))
                fail_msg("%s: %s on GPU %zu carries %g req/s, more than %g",
                         policy, in->name, j, in->rate_rps,
                         tput(f, m, in->batch, u));
        }
    for (size_t i = 0; i < n; i++) {
        double served = 0;
        for (size_t j = 0; j < p->ngpus; j++)
            for (size_t k = 0; k < p->gpus[j].n; k++)
                if (!strcmp(p->gpus[j].inst[k].name, w[i].name))
                    served += p->gpus[j].inst[k].rate_rps;
        assert_close(served, w[i].rate_rps, 1e-9);
    }
}

/* optimal: valid, proven, admissible, and no more GPUs than the three
 * policies whose plans its formulation holds (their instances checked
 * admissible too: the argument of docs/optimal.md, on their plans). */
static void check_set(const pol_workload *w, size_t n, size_t *opt_gpus)
{
    pol_plan o;
    must_plan("optimal", &fit, w, n, &o);
    if (strcmp(o.solve_status, "optimal") ||
        o.solve_bound_gpus != (double)o.ngpus)
        fail_msg("%zu workloads: %s, %zu GPUs, bound %g", n, o.solve_status,
                 o.ngpus, o.solve_bound_gpus);
    check_admissible("optimal", &fit, w, n, &o);
    static const char *const others[] = {"igniter", "ffd", "exclusive",
                                         "gslice"};
    for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
        pol_plan q;
        must_plan(others[k], &fit, w, n, &q);
        check_admissible(others[k], &fit, w, n, &q);
        if (q.ngpus < o.ngpus)
            fail_msg("%s plans %zu GPUs, optimal %zu", others[k], q.ngpus,
                     o.ngpus);
        pol_plan_free(&q);
    }
    if (opt_gpus)
        *opt_gpus = o.ngpus;
    pol_plan_free(&o);
}

static void test_paper_12(void **state)
{
    (void)state;
    limits_default();
    lab_experiment e;
    ut_err err;
    if (lab_experiment_load("experiments/paper-12.json", &e, &err) < 0)
        fail_msg("%s", err.msg);
    size_t g;
    check_set(e.w, e.nw, &g);
    /* 5 V100s when written: iGniter plans 6 */
    assert_int_equal(g, 5);
    lab_experiment_free(&e);
}

static void test_random_sets(void **state)
{
    (void)state;
    limits_default();
    static const size_t sizes[] = {8, 12, 16, 20};
    for (size_t k = 0; k < 4; k++)
        for (unsigned long seed = 1; seed <= 3; seed++) {
            pol_workload *w = tu_random_workloads(sizes[k], 700 + seed);
            check_set(w, sizes[k], NULL);
            free(w);
        }
}

/* Tiny sets, and one that needs replicas and splits, against the brute
 * force, with splits limited (IGNITER_OPTIMAL_SPLITS) so that the brute
 * force's packings stay few enough to enumerate. */
static void test_equals_brute_force(void **state)
{
    (void)state;
    limits_default();
    static const long splits[] = {0, 2, 64};
    for (size_t si = 0; si < 3; si++) {
        long split = splits[si];
        char v[8];
        snprintf(v, sizeof v, "%ld", split);
        setenv("IGNITER_OPTIMAL_SPLITS", v, 1);
        /* every split: three workloads */
        for (size_t n = 3; n <= (split == 64 ? 3u : 5u); n++)
            for (unsigned long seed = 1; seed <= 5; seed++) {
                pol_workload *w = tu_random_workloads(n, 50 * n + seed);
                pol_plan p;
                must_plan("optimal", &fit, w, n, &p);
                /* told to look below one more GPU than the policy found,
                 * the brute force must find exactly as many */
                long bf = brute_force(&fit, w, n, split, (long)p.ngpus + 1);
                if ((long)p.ngpus != bf)
                    fail_msg("%zu workloads, seed %lu, %ld splits: optimal "
                             "%zu GPUs, brute force %ld", n, seed, split,
                             p.ngpus, bf);
                pol_plan_free(&p);
                free(w);
            }
    }
    /* AlexNet beyond a whole GPU (replicas), tight SLOs (splits pay) */
    pol_workload w[4];
    memset(w, 0, sizeof w);
    static const struct {
        const char *model;
        double slo, rate;
    } k[4] = {{"alexnet", 12, 10000}, {"resnet50", 18, 700},
              {"vgg19", 24, 350}, {"ssd", 60, 90}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(w[i].name, sizeof w[i].name, "X%zu", i);
        snprintf(w[i].model, sizeof w[i].model, "%s", k[i].model);
        w[i].slo_ms = k[i].slo;
        w[i].rate_rps = k[i].rate;
    }
    setenv("IGNITER_OPTIMAL_SPLITS", "2", 1);
    pol_plan p;
    must_plan("optimal", &fit, w, 4, &p);
    check_admissible("optimal", &fit, w, 4, &p);
    assert_int_equal((long)p.ngpus,
                     brute_force(&fit, w, 4, 2, (long)p.ngpus + 1));
    size_t nx0 = 0;
    for (size_t j = 0; j < p.ngpus; j++)
        for (size_t i = 0; i < p.gpus[j].n; i++)
            nx0 += !strcmp(p.gpus[j].inst[i].name, "X0");
    assert_true(nx0 >= 2);
    pol_plan_free(&p);
    limits_default();
}

/* A set the solve cannot finish within one node or a millisecond (with
 * splits, which make the search longer): a plan all the same, valid,
 * with its bound and gap; the node limit stops it at the same point
 * every time. */
static void test_stopped_solve_states_its_gap(void **state)
{
    (void)state;
    limits_default();
    pol_workload *w = tu_random_workloads(40, 1);
    setenv("IGNITER_OPTIMAL_SPLITS", "64", 1);
    setenv("IGNITER_OPTIMAL_NODES", "1", 1);
    pol_plan a, b;
    must_plan("optimal", &fit, w, 40, &a);
    must_plan("optimal", &fit, w, 40, &b);
    assert_string_equal(a.solve_status, "node limit");
    assert_true(a.solve_bound_gpus >= 1 &&
                a.solve_bound_gpus < (double)a.ngpus);
    char *ja = pol_plan_to_json(&a), *jb = pol_plan_to_json(&b);
    assert_string_equal(ja, jb);
    assert_non_null(strstr(ja, "\"status\": \"node limit\""));
    assert_non_null(strstr(ja, "\"gap_pct\""));
    char *t = pol_plan_table(&a, pol_predicts(a.policy));
    assert_non_null(strstr(t, "solve: stopped (node limit)"));
    free(t);
    free(ja);
    free(jb);
    /* the full solve is at least as good and within the bound */
    unsetenv("IGNITER_OPTIMAL_NODES");
    pol_plan full;
    must_plan("optimal", &fit, w, 40, &full);
    assert_string_equal(full.solve_status, "optimal");
    assert_true(full.ngpus <= a.ngpus);
    assert_true((double)full.ngpus >= a.solve_bound_gpus);
    pol_plan_free(&full);
    pol_plan_free(&a);
    pol_plan_free(&b);
    setenv("IGNITER_OPTIMAL_TIME_S", "0.001", 1);
    must_plan("optimal", &fit, w, 40, &a);
    assert_true(!strcmp(a.solve_status, "time limit") ||
                !strcmp(a.solve_status, "optimal"));
    assert_true(a.solve_bound_gpus <= (double)a.ngpus);
    pol_plan_free(&a);
    limits_default();
    free(w);
}

static void test_bad_limits_are_named(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"IGNITER_OPTIMAL_TIME_S", "0"}, {"IGNITER_OPTIMAL_TIME_S", "x"},
        {"IGNITER_OPTIMAL_NODES", "1.5"}, {"IGNITER_OPTIMAL_NODES", "-1"},
        {"IGNITER_OPTIMAL_SPLITS", "65"}};
    pol_workload *w = tu_random_workloads(3, 1);
    pol_request req = {w, 3, &fit, NULL, 0};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        limits_default();
        setenv(bad[k][0], bad[k][1], 1);
        pol_plan p;
        ut_err err;
        assert_int_equal(pol_make_plan("optimal", &req, &p, &err), -1);
        if (!strstr(err.msg, bad[k][0]))
            fail_msg("message does not name %s: %s", bad[k][0], err.msg);
    }
    limits_default();
    free(w);
}

/* By default (no splits) every workload keeps Algorithm 1's shape: one
 * instance, or whole GPUs and one more; with splits the optimum can only
 * be lower, and the plan records which. */
static void test_splits(void **state)
{
    (void)state;
    pol_workload *w = tu_random_workloads(16, 4);
    limits_default();
    pol_plan one, all;
    must_plan("optimal", &fit, w, 16, &one);
    setenv("IGNITER_OPTIMAL_SPLITS", "64", 1);
    must_plan("optimal", &fit, w, 16, &all);
    limits_default();
    assert_string_equal(all.solve_status, "optimal");
    assert_int_equal(one.solve_max_split, 0);
    assert_int_equal(all.solve_max_split, 64);
    assert_true(all.ngpus <= one.ngpus);
    check_admissible("optimal", &fit, w, 16, &all);
    for (size_t i = 0; i < 16; i++) {
        size_t gpu[64], idx[64];
        size_t k = pol_instances_of(&one, w[i].name, gpu, idx, 64);
        size_t whole = 0;
        for (size_t q = 0; q < k && q < 64; q++)
            whole += one.gpus[gpu[q]].inst[idx[q]].share_pct == 100;
        assert_true(k >= 1 && whole + 1 >= k);
    }
    pol_plan_free(&all);
    pol_plan_free(&one);
    free(w);
}

/* The plan file keeps the solve's record; other policies' plans do not
 * get one. */
static void test_plan_file_round_trip(void **state)
{
    (void)state;
    limits_default();
    pol_workload *w = tu_random_workloads(12, 9);
    pol_plan p, q, r;
    must_plan("optimal", &fit, w, 12, &p);
    char *js = pol_plan_to_json(&p);
    char *path = tu_write_temp("optimal-plan.json", js);
    ut_err err;
    if (pol_plan_load(path, &q, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(q.solve_status, p.solve_status);
    assert_true(q.solve_bound_gpus == p.solve_bound_gpus);
    assert_int_equal(q.solve_max_split, p.solve_max_split);
    assert_int_equal(pol_plan_check(&q, &fit, &err), 0);
    char *js2 = pol_plan_to_json(&q);
    /* the generator line aside, the same file */
    assert_string_equal(strstr(js, "\"policy\""), strstr(js2, "\"policy\""));
    must_plan("igniter", &fit, w, 12, &r);
    char *ji = pol_plan_to_json(&r);
    assert_null(strstr(ji, "\"solve\""));
    free(ji);
    free(js);
    free(js2);
    free(path);
    pol_plan_free(&p);
    pol_plan_free(&q);
    pol_plan_free(&r);
    free(w);
}

/* The H100's green contexts: two or more instances share at most
 * colocated_pct, one alone may have the whole GPU. */
static void test_colocated_limit(void **state)
{
    (void)state;
    limits_default();
    static const struct {
        const char *model;
        double slo, rate;
    } k[] = {{"alexnet", 10, 4000}, {"resnet50", 20, 1500},
             {"vgg19", 30, 900},    {"vit_b16", 40, 600},
             {"alexnet", 15, 900},  {"resnet50", 30, 400},
             {"vgg19", 50, 300},    {"vit_b16", 60, 200}};
    size_t n = sizeof k / sizeof *k;
    pol_workload w[8];
    memset(w, 0, sizeof w);
    for (size_t i = 0; i < n; i++) {
        snprintf(w[i].name, sizeof w[i].name, "H%zu", i);
        snprintf(w[i].model, sizeof w[i].model, "%s", k[i].model);
        w[i].slo_ms = k[i].slo;
        w[i].rate_rps = k[i].rate;
    }
    pol_plan p;
    must_plan("optimal", &h100, w, n, &p);   /* pol_plan_check ran */
    assert_string_equal(p.solve_status, "optimal");
    check_admissible("optimal", &h100, w, n, &p);
    for (size_t j = 0; j < p.ngpus; j++)
        if (p.gpus[j].n >= 2)
            assert_true(pol_gpu_share(&p, j) <=
                        mdl_colocated_pct(&h100) + 1e-9);
    static const char *const others[] = {"igniter", "ffd", "exclusive"};
    for (size_t o = 0; o < 3; o++) {
        pol_plan q;
        must_plan(others[o], &h100, w, n, &q);
        assert_true(q.ngpus >= p.ngpus);
        pol_plan_free(&q);
    }
    pol_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_12),
        cmocka_unit_test(test_random_sets),
        cmocka_unit_test(test_equals_brute_force),
        cmocka_unit_test(test_stopped_solve_states_its_gap),
        cmocka_unit_test(test_bad_limits_are_named),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_plan_file_round_trip),
        cmocka_unit_test(test_colocated_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
