/*
 * optimal.c - the `optimal` policy: the fewest GPUs that iGniter's
 * formulation allows, solved exactly as an integer program with GLPK. Its
 * cost is a lower bound on what iGniter, FFD+ and exclusive plan;
 * docs/optimal.md says what is and is not modelled and gives the argument.
 *
 * The formulation. For workload i (model m, rate lambda, s = SLO / 2):
 *  - an instance runs a batch b on u share units (u * share_unit_pct %).
 *    It is admissible when u is at least Algorithm 1's step-3 bound for b
 *    (the solo model at full clock and with no interference; alg1.c's
 *    formula and rounding, at least one unit), and it carries at most
 *    T(b, u), the same model's throughput. b ranges over 1..max(32,
 *    pol_igniter_batch(lambda)), capped at OPT_MAX_BATCH: every batch
 *    iGniter, FFD+ or exclusive can give the workload, below the cap.
 *  - Only the most rate some batch carries on u units matters, so a
 *    "type" is a share u with that rate (capped at lambda), kept where it
 *    grows with u, up to the first that carries all of lambda. The batch
 *    choice is thereby made for the program: a smaller share that carries
 *    the same rate is never worse.
 *  - A workload has Algorithm 1's shape: one instance, of the smallest
 *    type that carries lambda, or, when no GPU can, k whole-GPU instances
 *    of the largest type, k as small as it can be, and one of the smallest
 *    type that carries the rest (alg1.c's replica path). Optionally
 *    (max_split > 0) it may instead be split into n equal instances, each
 *    of the smallest type that carries lambda / n, for each n up to the
 *    most instances any batch at its bound needs, ceil(lambda / T(b,
 *    bound(b))), where the type is smaller than for n - 1: at most
 *    max_split such options. Each is an option.
 *  - A GPU's shares add up to at most the whole GPU for one instance and
 *    to mdl_colocated_pct (C units) for two or more.
 * Minimise the number of GPUs. Interference, the power cap's clock drop
 * and iGniter's 90 % replica headroom only ever raise what a plan needs,
 * so they are left out.
 *
 * Splits are off by default: on the fitted curves (k4 > 0) small shares
 * carry more per unit, so with them the optimum cuts workloads into many
 * one-unit instances, which only the interference left out here makes
 * costly, and it stacks them on one GPU (below); the bound is then far
 * from any plan of iGniter's shape (docs/optimal.md has both).
 *
 * The program is in Valerio de Carvalho's arc-flow form: a GPU is a path
 * from node 0 to node C whose arcs are its instances' shares (a -> a + u)
 * and its unused units (a -> a + 1); integer flows f on the arcs,
 * binaries w_io (workload i served by option o):
 *     min  sum_u f(0 -> u) + sum_io alone_io w_io
 *     sum_o w_io = 1                                 for each workload
 *     flow in = flow out                             at nodes 1..C-1
 *     sum_a f(a -> a + u) >= sum_io count_iou w_io   for each share u
 *     (the objective) >= the bound from shares alone
 * where alone_io counts the instances above C, which take a GPU each.
 * Its LP bound is the configuration LP's (Gilmore and Gomory). The
 * assignment form (x_igt, y_g, with the symmetry cuts y_g <= y_{g-1} and
 * workload k on a GPU labelled k or less), tried first, left 3 of 40
 * random sets of 8-20 workloads open after 3 s even without splits: its
 * LP bound is the shares' sum, and proving one GPU fewer impossible took
 * too many nodes. This form has no GPU labels to be symmetric in;
 * branching on the options before the flows (on_tree) keeps it fast with
 * splits too. Arcs of one share are interchangeable, so with splits the
 * form cannot keep two instances of a workload on different GPUs and may
 * stack them on one (two processes of the model, each on its own share),
 * which iGniter never does; it only lowers the bound. Without splits a
 * workload has at most one instance that shares a GPU, so the question
 * does not arise. The decoding spreads stacked instances where it can,
 * and joins the rest where one instance carries as much (merge()).
 *
 * GLPK starts from the better of two first-fit-decreasing packings
 * (every workload in its first option; every workload at its fewest
 * units), so that a stopped solve still has a plan; any optimum will do
 * for the program, so the plan is then simplified (fewer instances at the
 * same GPUs). Limits, from the environment (read per plan; the plan file
 * records how the solve ended): IGNITER_OPTIMAL_TIME_S (seconds, default
 * 10) is GLPK's tm_lim; IGNITER_OPTIMAL_NODES (branch-and-bound nodes,
 * default 20000, 0 for none) stops the search at the same point on every
 * run, so that a stopped plan is still deterministic unless the time
 * limit stops it first; IGNITER_OPTIMAL_SPLITS (0..64, default 0) is
 * max_split. A stopped solve returns its best plan and the lower bound it
 * proved (pol_plan.solve_status, solve_bound_gpus; the plan file's
 * "solve").
 *
 * This file holds the formulation, the limits, the plan and the driver;
 * the placing and tidying are in optimal_pack.c, the program in
 * optimal_mip.c (optimal_int.h).
 */
#include "policies/optimal_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* ---- the solo model at full clock ---------------------------------------- */

/*
 * Algorithm 1's step-3 share bound of batch b within s, in units, as
 * alg1.c computes it (same order of operations, so the same rounding),
 * at least one unit. LONG_MAX when no share up to the whole GPU is
 * enough (a zero or negative denominator included).
 */
static long solo_units(const octx *c, const mdl_model *m, double s, int b)
{
    double delta;
    double x = mdl_share_bound_units(c->f, m, b, s, c->unit, &delta);
    if (!(delta > 0))
        return LONG_MAX;
    if (!(x <= (double)c->max_units))
        return LONG_MAX;
    long u = (long)ceil(x);
    return u < 1 ? 1 : u;
}

/* The solo throughput at full clock, req/s: mdl_predict's for one
 * workload below the power cap. */
static double solo_tput(const octx *c, const mdl_model *m, int b, long u)
{
    double gpu = m->idle_ms + mdl_active_ms(m, b, (double)u * c->unit);
    double t = 1000.0 * b / (gpu + m->output_bytes * b /
                                       c->f->pcie_bytes_per_ms);
    return isfinite(t) && t > 0 ? t : 0;
}

/* The types of workload i (see the top of the file) and n_hi; -1 with a
 * message naming the workload when no batch meets half its SLO on a
 * whole GPU. */
static int build_types(octx *c, size_t i, ut_err *err)
{
    owl *w = &c->wl[i];
    const pol_workload *pw = &c->req->w[i];
    const mdl_model *m = &c->f->models[w->model];
    int bi = pol_igniter_batch(c->f, m, pw->slo_ms, pw->rate_rps);
    w->b_hi = bi < MDL_MAX_BATCH ? MDL_MAX_BATCH : bi;
    if (w->b_hi > OPT_MAX_BATCH)
        w->b_hi = OPT_MAX_BATCH;
    long *umin = ut_xmalloc((size_t)w->b_hi * sizeof *umin);
    double n_hi = 1;
    for (int b = 1; b <= w->b_hi; b++) {
        umin[b - 1] = solo_units(c, m, w->s_ms, b);
        if (umin[b - 1] == LONG_MAX)
            continue;
        double t = solo_tput(c, m, b, umin[b - 1]);
        double need = t > 0 ? ceil(w->rate_rps / t) : 1;
        if (need > n_hi)
            n_hi = need;
    }
    w->n_hi = n_hi > INT_MAX / 2 ? INT_MAX / 2 : (int)n_hi;
    size_t cap = 0;
    double best_prev = 0;
    for (long u = 1; u <= c->max_units; u++) {
        double best = 0;
        int bb = 0;
        for (int b = 1; b <= w->b_hi; b++) {
            if (umin[b - 1] > u)
                continue;
            double t = solo_tput(c, m, b, u);
            if (t > w->rate_rps)
                t = w->rate_rps;
            if (t > best) {
                best = t;
                bb = b;
            }
        }
        if (!(best > best_prev))
            continue;
        UT_GROW(w->t, cap, w->nt + 1);
        w->t[w->nt++] = (otype){u, best, bb};
        best_prev = best;
        if (best >= w->rate_rps)
            break;
    }
    free(umin);
    if (w->nt == 0)
        return ut_errf(err, "workload \"%s\" (%s): slo_ms: cannot be met, no "
                       "batch runs within half the SLO (%.3g ms) even on a "
                       "whole %s", pw->name, pw->model, w->s_ms, c->f->gpu);
    return 0;
}

static void add_option(owl *w, int t1, long n1, int t2, long n2)
{
    oopt *o = &w->o[w->no++];
    memset(o, 0, sizeof *o);
    o->part[0] = (opart){t1, n1};
    o->nparts = 1;
    o->units = w->t[t1].units * n1;
    if (n2 > 0) {
        o->part[1] = (opart){t2, n2};
        o->nparts = 2;
        o->units += w->t[t2].units * n2;
    }
}

/* The options of a workload (see the top of the file), at most
 * max_split of them equal splits beyond the first. */
static void build_options(owl *w, int max_split)
{
    int top = (int)w->nt - 1;
    double cap = w->t[top].cap_rps;
    long k = 0;            /* whole-GPU instances before the rest */
    w->no = 0;
    if (cap >= w->rate_rps) {
        add_option(w, top, 1, 0, 0);
    } else {
        /* cap * (k + 1) >= rate: k of the largest type and one more */
        k = (long)ceil(w->rate_rps / cap - OPT_RATE_TOL) - 1;
        if (k < 1)
            k = 1;
        int t = opt_type_for(w, w->rate_rps - (double)k * cap);
        if (t == top)
            add_option(w, top, k + 1, 0, 0);
        else
            add_option(w, top, k, t, 1);
    }
    long prev = LONG_MAX;
    long hi = w->n_hi > k + 1 ? w->n_hi : k + 1;
    if (hi > k + 1 + OPT_MAX_SPLIT)
        hi = k + 1 + OPT_MAX_SPLIT;
    for (long n = k + 1; n <= hi && w->no < max_split + 1; n++) {
        int t = opt_type_for(w, w->rate_rps / (double)n);
        if (w->t[t].units >= prev)
            continue;
        prev = w->t[t].units;
        if (w->o[0].nparts == 1 && w->o[0].part[0].t == t &&
            w->o[0].part[0].count == n)
            continue;      /* the first option again */
        add_option(w, t, n, 0, 0);
    }
    w->cheapest = 0;
    for (int o = 1; o < w->no; o++)
        if (w->o[o].units < w->o[w->cheapest].units)
            w->cheapest = o;
}

/* ---- limits ---------------------------------------------------------------- */

static int read_limits(octx *c, ut_err *err)
{
    double t = OPT_TIME_S_DEFAULT, nodes = (double)OPT_NODES_DEFAULT;
    double split = OPT_SPLIT_DEFAULT;
    if (pol_env_num("IGNITER_OPTIMAL_TIME_S", 1e-3, 1e6, 0,
                    "a positive number of seconds", &t, err) < 0 ||
        pol_env_num("IGNITER_OPTIMAL_NODES", 0, 1e9, 1, NULL, &nodes,
                    err) < 0 ||
        pol_env_num("IGNITER_OPTIMAL_SPLITS", 0, OPT_MAX_SPLIT, 1, NULL,
                    &split, err) < 0)
        return -1;
    c->time_s = t;
    c->node_lim = (long)nodes;
    c->max_split = (int)split;
    return 0;
}

/* ---- the plan ---------------------------------------------------------------- */

/*
 * The batch an instance of workload w runs on u units at rate r: among
 * the batches u admits that carry r, the one closest below iGniter's (the
 * batch that fills in half the SLO), first where the model with the power
 * cap also predicts it within half the SLO, else by the full-clock model
 * alone; the type's own batch if none.
 */
static int pick_batch(const octx *c, const owl *w, const pol_workload *pw,
                      long u, int type_batch, double r)
{
    const mdl_model *m = &c->f->models[w->model];
    int bi = pol_igniter_batch(c->f, m, pw->slo_ms, r);
    if (bi > w->b_hi)
        bi = w->b_hi;
    for (int capped = 1; capped >= 0; capped--)
        for (int b = bi; b >= 1; b--) {
            if (solo_units(c, m, w->s_ms, b) > u ||
                solo_tput(c, m, b, u) < r * (1 - OPT_RATE_TOL))
                continue;
            if (capped) {
                mdl_place pl = {w->model, b, (double)u * c->unit};
                double lat, tput;
                mdl_predict(c->f, &pl, 1, &lat, &tput);
                if (lat > w->s_ms || tput < r)
                    continue;
            }
            return b;
        }
    return type_batch;
}

/*
 * The plan of a solution. It is tidied first (a stopped search may keep
 * instances it does not need): per workload, its largest instances that
 * cover its rate, each shrunk to the smallest type that covers what is
 * left; the rate is then shared in proportion to their capacities. GPUs
 * in order, workloads in request order within a GPU; the predicted
 * latencies are the solo ones (the program's model, with the power cap).
 */
static void emit(const octx *c, const oinst *in, size_t nin, pol_plan *out)
{
    const mdl_fitted *f = c->f;
    size_t m = nin ? nin : 1;
    int *keep = ut_xcalloc(m, sizeof *keep), *type = ut_xcalloc(m,
                                                                sizeof *type);
    double *rate = ut_xcalloc(m, sizeof *rate);
    oord *ord = ut_xmalloc(m * sizeof *ord);
    /* per workload, by capacity (largest first), then GPU */
    for (size_t q = 0; q < nin; q++) {
        type[q] = in[q].t;
        ord[q] = (oord){in[q].w, -(long)type[q], in[q].g, q};
    }
    qsort(ord, nin, sizeof *ord, opt_ord_cmp);
    for (size_t a = 0, b; a < nin; a = b) {
        for (b = a; b < nin && ord[b].a == ord[a].a; b++)
            ;
        const owl *w = &c->wl[ord[a].a];
        double sum = 0;
        size_t used = 0;
        while (a + used < b && sum < w->rate_rps * (1 - OPT_RATE_TOL)) {
            size_t q = ord[a + used++].q;
            int t = opt_type_for(w, w->rate_rps - sum);
            if (t < type[q])
                type[q] = t;   /* smaller: fits where the larger did */
            sum += w->t[type[q]].cap_rps;
            keep[q] = 1;
        }
        double given = 0;
        for (size_t e = 0; e < used; e++) {
            size_t q = ord[a + e].q;
            rate[q] = e + 1 == used ? w->rate_rps - given
                                    : w->rate_rps * w->t[type[q]].cap_rps / sum;
            given += rate[q];
        }
    }
    /* by GPU, then request order */
    size_t nk = 0;
    for (size_t q = 0; q < nin; q++)
        if (keep[q])
            ord[nk++] = (oord){in[q].g, in[q].w, 0, q};
    qsort(ord, nk, sizeof *ord, opt_ord_cmp);
    out->gpus = ut_xcalloc(nk ? nk : 1, sizeof *out->gpus);
    for (size_t a = 0, b; a < nk; a = b) {
        for (b = a; b < nk && ord[b].a == ord[a].a; b++)
            ;
        pol_gpu *pg = &out->gpus[out->ngpus++];
        memcpy(pg->type, f->gpu, sizeof pg->type);
        pg->inst = ut_xcalloc(b - a, sizeof *pg->inst);
        for (size_t e = a; e < b; e++) {
            size_t q = ord[e].q;
            const owl *w = &c->wl[in[q].w];
            const pol_workload *pw = &c->req->w[in[q].w];
            const otype *t = &w->t[type[q]];
            pol_instance *pi = &pg->inst[pg->n++];
            memcpy(pi->name, pw->name, sizeof pi->name);
            memcpy(pi->model, pw->model, sizeof pi->model);
            pi->batch = pick_batch(c, w, pw, t->units, t->batch, rate[q]);
            pi->share_pct = (double)t->units * c->unit;
            pi->rate_rps = rate[q];
            pi->slo_ms = pw->slo_ms;
            mdl_place pl = {w->model, pi->batch, pi->share_pct};
            mdl_predict(f, &pl, 1, &pi->predicted_latency_ms,
                        &pi->predicted_throughput_rps);
            pg->replica = b - a == 1 && t->units == c->max_units &&
                          w->t[w->nt - 1].cap_rps < w->rate_rps;
        }
    }
    free(keep);
    free(type);
    free(rate);
    free(ord);
}

/*
 * The driver: a first-fit packing of each workload's fewest-share option
 * (a plan whatever happens next) and the bound from shares alone; where
 * they differ, the program, whose best solution replaces the packing when
 * it has fewer GPUs. The plan records how the solve ended.
 */
static int optimal_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    octx c = {0};
    c.req = req;
    c.f = req->fit;
    c.n = req->n;
    c.unit = c.f->share_unit_pct;
    c.max_units = (long)floor(100 / c.unit + 1e-9);
    c.co_units = (long)floor(mdl_colocated_pct(c.f) / c.unit + 1e-9);
    if (read_limits(&c, err) < 0)
        return -1;
    c.wl = ut_xcalloc(c.n, sizeof *c.wl);
    int rc = -1;
    oinst *inst = NULL;
    double units = 0;
    for (size_t i = 0; i < c.n; i++) {
        c.wl[i].model = mdl_find(c.f, req->w[i].model);  /* checked */
        c.wl[i].s_ms = req->w[i].slo_ms / 2;
        c.wl[i].rate_rps = req->w[i].rate_rps;
        if (build_types(&c, i, err) < 0)
            goto out;
        build_options(&c.wl[i], c.max_split);
        units += (double)c.wl[i].o[c.wl[i].cheapest].units;
    }
    size_t ninst;
    long G = opt_first_solution(&c, &inst, &ninst);
    /* each workload needs its fewest units, a GPU has max_units */
    long bound = (long)ceil(units / (double)c.max_units - 1e-9);
    if (bound < 1)
        bound = 1;
    oresult res = {"optimal", (double)G};
    if (bound < G)
        opt_program(&c, bound, G, &inst, &ninst, &res);
    opt_spread(&c, inst, ninst);
    opt_merge(&c, inst, &ninst);
    opt_simplify(&c, &inst, &ninst);
    emit(&c, inst, ninst, out);
    if (res.bound_gpus >= (double)out->ngpus) {
        res.status = "optimal";
        res.bound_gpus = (double)out->ngpus;
    }
    snprintf(out->solve_status, sizeof out->solve_status, "%s", res.status);
    out->solve_bound_gpus = res.bound_gpus;
    out->solve_max_split = c.max_split;
    rc = 0;
out:
    for (size_t i = 0; i < c.n; i++)
        free(c.wl[i].t);
    free(c.wl);
    free(inst);
    return rc;
}

const pol_ops pol_optimal = {
    .version = POL_OPS_VERSION,
    .name = "optimal",
    .summary = "the fewest GPUs iGniter's formulation allows (GLPK integer "
               "program): a lower bound on its cost",
    .plan = optimal_plan,
};
