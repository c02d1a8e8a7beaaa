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
 */
#include "policies/policy.h"

#include <errno.h>
#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest batch considered. Algorithm 1's batch has no cap; past it
 * (a loose SLO at a high rate: half the SLO times the rate above 4096
 * requests) the fitted curves extrapolate far beyond the profile's 32
 * (ResNet-50's and VGG-19's V100 curves turn down near 3300), and no
 * bound on iGniter is claimed there (docs/optimal.md). */
#define OPT_MAX_BATCH 4096
#define OPT_MAX_SPLIT 64        /* equal-split options beyond the first */
#define OPT_SPLIT_DEFAULT 0     /* Algorithm 1's shape (see the top) */
#define OPT_TIME_S_DEFAULT 10.0
#define OPT_NODES_DEFAULT 20000L
/* Programs with more columns are not attempted (the packing and its bound
 * are returned, marked "too large"): GLPK's simplex would take minutes. */
#define OPT_MAX_COLS 200000L
/* Coverage tolerance: GLPK accepts rows to about 1e-7 relative. */
#define OPT_RATE_TOL 1e-6

typedef struct otype {
    long units;
    double cap_rps;    /* min(T(batch, units), rate): what it may carry */
    int batch;         /* the smallest batch that reaches cap_rps */
} otype;

typedef struct opart {
    int t;             /* count instances of type t */
    long count;
} opart;

typedef struct oopt {
    opart part[2];
    int nparts;
    long units;        /* all its instances together */
    int col_w;         /* its column in the program */
} oopt;

typedef struct owl {
    int model;
    double s_ms, rate_rps;
    int b_hi;          /* batches 1..b_hi */
    int n_hi;          /* the most instances a batch at its bound needs */
    otype *t;          /* ascending in units and in capacity */
    size_t nt;
    oopt o[OPT_MAX_SPLIT + 1];
    int no;
    int cheapest;      /* the option with the fewest units */
} owl;

/* An instance: part p of option o of workload w, of type t (the part's,
 * until merge() joins instances), on GPU g. */
typedef struct oinst {
    int w, o, p, t;
    long g;
} oinst;

typedef struct octx {
    const pol_request *req;
    const mdl_fitted *f;
    double unit;
    long max_units, co_units;
    owl *wl;
    size_t n;
    double time_s;
    long node_lim;
    int max_split;     /* equal-split options beyond the first, at most */
} octx;

static long part_units(const owl *w, const oopt *o, int p)
{
    return w->t[o->part[p].t].units;
}

static long inst_units(const octx *c, const oinst *in)
{
    return c->wl[in->w].t[in->t].units;
}

/* ---- the solo model at full clock ---------------------------------------- */

/*
 * Algorithm 1's step-3 share bound of batch b within s, in units, as
 * alg1.c computes it (same order of operations, so the same rounding),
 * at least one unit. LONG_MAX when no share up to the whole GPU is
 * enough (a zero or negative denominator included).
 */
static long solo_units(const octx *c, const mdl_model *m, double s, int b)
{
    const double *k = m->k_act;
    double db = b;
    double gamma = k[0] * (db * db) + k[1] * db + k[2];
    double delta = s - m->idle_ms -
                   db * (m->input_bytes + m->output_bytes) /
                       c->f->pcie_bytes_per_ms -
                   k[4];
    if (!(delta > 0))
        return LONG_MAX;
    double x = (gamma / delta - k[3]) / c->unit;
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

/* The smallest type carrying at least r req/s; the largest if none. */
static int type_for(const owl *w, double r)
{
    for (size_t t = 0; t < w->nt; t++)
        if (w->t[t].cap_rps >= r * (1 - OPT_RATE_TOL))
            return (int)t;
    return (int)w->nt - 1;
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
        int t = type_for(w, w->rate_rps - (double)k * cap);
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
        int t = type_for(w, w->rate_rps / (double)n);
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

static int env_num(const char *name, double lo, double hi, double *v,
                   int integer, ut_err *err)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno || !(x >= lo) || !(x <= hi) ||
        (integer && x != floor(x))) {
        if (integer)
            return ut_errf(err, "%s: expected a whole number from %g to %g,"
                           " got \"%.40s\"", name, lo, hi, s);
        return ut_errf(err, "%s: expected a positive number of seconds, got "
                       "\"%.40s\"", name, s);
    }
    *v = x;
    return 0;
}

static int read_limits(octx *c, ut_err *err)
{
    double t = OPT_TIME_S_DEFAULT, nodes = (double)OPT_NODES_DEFAULT;
    double split = OPT_SPLIT_DEFAULT;
    if (env_num("IGNITER_OPTIMAL_TIME_S", 1e-3, 1e6, &t, 0, err) < 0 ||
        env_num("IGNITER_OPTIMAL_NODES", 0, 1e9, &nodes, 1, err) < 0 ||
        env_num("IGNITER_OPTIMAL_SPLITS", 0, OPT_MAX_SPLIT, &split, 1,
                err) < 0)
        return -1;
    c->time_s = t;
    c->node_lim = (long)nodes;
    c->max_split = (int)split;
    return 0;
}

/* ---- placing instances on GPUs ------------------------------------------- */

/* An instance to place, with its sort key: workloads with more
 * instances first, then larger shares, then request order. */
typedef struct oitem {
    long many, units;
    oinst in;
} oitem;

static int item_cmp(const void *a, const void *b)
{
    const oitem *x = a, *y = b;
    if (x->many != y->many)
        return x->many > y->many ? -1 : 1;
    if (x->units != y->units)
        return x->units > y->units ? -1 : 1;
    if (x->in.w != y->in.w)
        return x->in.w < y->in.w ? -1 : 1;
    return (x->in.p > y->in.p) - (x->in.p < y->in.p);
}

/* Appends the instances of option o of workload w to it[0..*n). */
static oitem *add_items(const octx *c, int w, int o, oitem *it, size_t *n,
                        size_t *cap)
{
    const owl *wl = &c->wl[w];
    const oopt *op = &wl->o[o];
    long many = 0;
    for (int p = 0; p < op->nparts; p++)
        many += op->part[p].count;
    for (int p = 0; p < op->nparts; p++)
        for (long k = 0; k < op->part[p].count; k++) {
            UT_GROW(it, *cap, *n + 1);
            it[(*n)++] = (oitem){many, part_units(wl, op, p),
                                 {w, o, p, op->part[p].t, 0}};
        }
    return it;
}

/* The instances of option opt[i] of every workload, sorted by item_cmp
 * (its key leaves only interchangeable instances tied, so qsort's order
 * is deterministic). */
static oitem *items_of(const octx *c, const int *opt, size_t *nit)
{
    oitem *it = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < c->n; i++)
        it = add_items(c, (int)i, opt[i], it, &n, &cap);
    qsort(it, n, sizeof *it, item_cmp);
    *nit = n;
    return it;
}

/* The instances of option o of workload w, largest first. */
static oitem *items_of_one(const octx *c, int w, int o, size_t *nit)
{
    size_t n = 0, cap = 0;
    oitem *it = add_items(c, w, o, NULL, &n, &cap);
    qsort(it, n, sizeof *it, item_cmp);
    *nit = n;
    return it;
}

/* The GPUs one workload has an instance on. */
typedef struct olist {
    long *g;
    size_t n, cap;
} olist;

/* GPUs being filled: each one's units and instances, and per workload
 * the GPUs it is on (so that "one instance of a workload per GPU" costs
 * a look at a list of one, not at every instance). */
typedef struct ogpus {
    long *total, *count;
    long n;
    size_t cap, cap2;
    olist *on;
} ogpus;

static void gpus_init(const octx *c, ogpus *s)
{
    memset(s, 0, sizeof *s);
    s->on = ut_xcalloc(c->n ? c->n : 1, sizeof *s->on);
}

static void gpus_free(const octx *c, ogpus *s)
{
    for (size_t i = 0; i < c->n; i++)
        free(s->on[i].g);
    free(s->on);
    free(s->total);
    free(s->count);
}

static long gpus_open(ogpus *s)
{
    UT_GROW(s->total, s->cap, (size_t)s->n + 1);
    UT_GROW(s->count, s->cap2, (size_t)s->n + 1);
    return s->n++;
}

/* Puts instance in on its GPU (sign 1) or takes it off (-1). */
static void gpus_put(const octx *c, ogpus *s, const oinst *in, int sign)
{
    s->total[in->g] += sign * inst_units(c, in);
    s->count[in->g] += sign;
    olist *l = &s->on[in->w];
    if (sign > 0) {
        UT_GROW(l->g, l->cap, l->n + 1);
        l->g[l->n++] = in->g;
        return;
    }
    for (size_t q = 0; q < l->n; q++)
        if (l->g[q] == in->g) {
            l->g[q] = l->g[--l->n];
            return;
        }
}

/* Whether workload w has an instance on GPU g. */
static int holds(const ogpus *s, int w, long g)
{
    for (size_t q = 0; q < s->on[w].n; q++)
        if (s->on[w].g[q] == g)
            return 1;
    return 0;
}

/* Whether u more units fit on GPU g: the whole GPU for one instance, the
 * co-located limit for two or more. */
static int gpus_fit(const octx *c, const ogpus *s, long g, long u)
{
    return s->count[g] == 0 ? u <= c->max_units
                            : s->total[g] + u <= c->co_units;
}

/* First fit of the sorted items onto s (opening GPUs when allow_new),
 * one instance of a workload per GPU; appends to inst[*ninst..] (room
 * made by the caller). Returns 0, or -1 when an item found no GPU
 * (!allow_new; what it placed stays, for the caller to take off). */
static int place_items(const octx *c, ogpus *s, const oitem *it, size_t nit,
                       oinst *inst, size_t *ninst, int allow_new)
{
    for (size_t k = 0; k < nit; k++) {
        long g;
        for (g = 0; g < s->n; g++)
            if (gpus_fit(c, s, g, it[k].units) && !holds(s, it[k].in.w, g))
                break;
        if (g == s->n) {
            if (!allow_new)
                return -1;
            g = gpus_open(s);
        }
        inst[*ninst] = it[k].in;
        inst[*ninst].g = g;
        gpus_put(c, s, &inst[(*ninst)++], 1);
    }
    return 0;
}

/*
 * The options opt[] packed first-fit decreasing (by share). Fills *inst
 * (malloc'd) and returns the number of GPUs.
 */
static long first_fit(const octx *c, const int *opt, oinst **inst,
                      size_t *ninst)
{
    size_t nit;
    oitem *it = items_of(c, opt, &nit);
    for (size_t k = 0; k < nit; k++)
        it[k].many = 0;    /* decreasing share alone */
    qsort(it, nit, sizeof *it, item_cmp);
    ogpus s;
    gpus_init(c, &s);
    *inst = ut_xmalloc((nit ? nit : 1) * sizeof **inst);
    *ninst = 0;
    place_items(c, &s, it, nit, *inst, ninst, 1);
    long G = s.n;
    free(it);
    gpus_free(c, &s);
    return G;
}

/*
 * The first solution: Algorithm 1's shape for every workload (option 0)
 * and each one's fewest-share option, each packed first fit; the one with
 * fewer GPUs (Algorithm 1's shape on ties).
 */
static long first_solution(const octx *c, oinst **inst, size_t *ninst)
{
    int *opt = ut_xmalloc((c->n ? c->n : 1) * sizeof *opt);
    for (size_t i = 0; i < c->n; i++)
        opt[i] = 0;
    long G = first_fit(c, opt, inst, ninst);
    for (size_t i = 0; i < c->n; i++)
        opt[i] = c->wl[i].cheapest;
    oinst *b;
    size_t nb;
    long Gb = first_fit(c, opt, &b, &nb);
    free(opt);
    if (Gb < G) {
        free(*inst);
        *inst = b;
        *ninst = nb;
        return Gb;
    }
    free(b);
    return G;
}

/* How many instances of workload w GPU g holds. */
static size_t holds_n(const ogpus *s, int w, long g)
{
    size_t k = 0;
    for (size_t q = 0; q < s->on[w].n; q++)
        k += s->on[w].g[q] == g;
    return k;
}

/*
 * Spreads instances that the program put on a GPU beside another of their
 * workload (its arcs of one share are interchangeable; see the top of the
 * file): each such instance moves to a GPU with room that has none of its
 * workload, else swaps with an instance of the same share of another
 * workload that the two GPUs allow. Never opens a GPU; what cannot be
 * spread stays (and is a plan all the same).
 */
static void spread(const octx *c, oinst *in, size_t n)
{
    ogpus s;
    gpus_init(c, &s);
    for (size_t q = 0; q < n; q++) {
        while (in[q].g >= s.n)
            gpus_open(&s);
        gpus_put(c, &s, &in[q], 1);
    }
    for (int pass = 0, moved = 1; pass < 4 && moved; pass++) {
        moved = 0;
        for (size_t q = 0; q < n; q++) {
            int w = in[q].w;
            long g = in[q].g, u = inst_units(c, &in[q]);
            if (holds_n(&s, w, g) < 2)
                continue;
            gpus_put(c, &s, &in[q], -1);
            long h;
            for (h = 0; h < s.n; h++)
                if (h != g && !holds(&s, w, h) && gpus_fit(c, &s, h, u))
                    break;
            if (h < s.n) {
                in[q].g = h;
                gpus_put(c, &s, &in[q], 1);
                moved = 1;
                continue;
            }
            gpus_put(c, &s, &in[q], 1);
            for (size_t r = 0; r < n; r++) {
                if (in[r].g == g || in[r].w == w ||
                    inst_units(c, &in[r]) != u || holds(&s, w, in[r].g) ||
                    holds(&s, in[r].w, g))
                    continue;
                gpus_put(c, &s, &in[q], -1);
                gpus_put(c, &s, &in[r], -1);
                in[q].g = in[r].g;
                in[r].g = g;
                gpus_put(c, &s, &in[q], 1);
                gpus_put(c, &s, &in[r], 1);
                moved = 1;
                break;
            }
        }
    }
    gpus_free(c, &s);
}

/* An instance's place in one of the orders of merge() and emit(): keys a, b, c in turn,
 * then the instance's index q (so that qsort's order is total). */
typedef struct oord {
    long a, b, c;
    size_t q;
} oord;

static int oord_cmp(const void *x, const void *y)
{
    const oord *p = x, *r = y;
    if (p->a != r->a)
        return p->a < r->a ? -1 : 1;
    if (p->b != r->b)
        return p->b < r->b ? -1 : 1;
    if (p->c != r->c)
        return p->c < r->c ? -1 : 1;
    return (p->q > r->q) - (p->q < r->q);
}

/*
 * Joins the instances of a workload that share a GPU (what spread() could
 * not separate) into one, of the smallest type that carries what they
 * carried together, where that type has no more units than they had:
 * then the GPU holds it. The plan is then no longer of the program's
 * options, but every instance is still admissible and the GPUs the same.
 */
static void merge(const octx *c, oinst *in, size_t *n)
{
    oord *ord = ut_xmalloc((*n ? *n : 1) * sizeof *ord);
    for (size_t q = 0; q < *n; q++)
        ord[q] = (oord){in[q].g, in[q].w, 0, q};
    qsort(ord, *n, sizeof *ord, oord_cmp);
    char *gone = ut_xcalloc(*n ? *n : 1, 1);
    for (size_t a = 0, b; a < *n; a = b) {
        for (b = a; b < *n && ord[b].a == ord[a].a && ord[b].b == ord[a].b;
             b++)
            ;
        if (b - a < 2)
            continue;
        const owl *w = &c->wl[ord[a].b];
        long units = 0;
        double cap = 0;
        for (size_t e = a; e < b; e++) {
            units += w->t[in[ord[e].q].t].units;
            cap += w->t[in[ord[e].q].t].cap_rps;
        }
        if (cap > w->rate_rps)
            cap = w->rate_rps;
        int t = type_for(w, cap);
        if (w->t[t].cap_rps < cap * (1 - OPT_RATE_TOL) ||
            w->t[t].units > units)
            continue;
        in[ord[a].q].t = t;
        for (size_t e = a + 1; e < b; e++)
            gone[ord[e].q] = 1;
    }
    size_t m = 0;
    for (size_t q = 0; q < *n; q++)
        if (!gone[q])
            in[m++] = in[q];
    *n = m;
    free(gone);
    free(ord);
}

/*
 * Fewer instances at the same number of GPUs: any optimum will do for the
 * program, and its optimum may split workloads it need not. Per workload,
 * most instances first, its instances are taken off and the options with
 * fewer instances (or as many without two on one GPU), fewest first, are
 * tried first fit on the GPUs as they are; the first that fits stays.
 * Never opens a GPU; replaces *inst.
 */
static void simplify(const octx *c, oinst **inst, size_t *ninst)
{
    size_t n = *ninst;
    oinst *in = *inst;
    ogpus s;
    gpus_init(c, &s);
    long *many = ut_xcalloc(c->n ? c->n : 1, sizeof *many);
    int *dup = ut_xcalloc(c->n ? c->n : 1, sizeof *dup);
    for (size_t q = 0; q < n; q++) {
        while (in[q].g >= s.n)
            gpus_open(&s);
        many[in[q].w]++;
        dup[in[q].w] |= holds(&s, in[q].w, in[q].g);
        gpus_put(c, &s, &in[q], 1);
    }
    /* workloads by instance count, most first, then request order */
    ut_rank *order = ut_xmalloc((c->n ? c->n : 1) * sizeof *order);
    for (size_t i = 0; i < c->n; i++)
        order[i] = (ut_rank){many[i], (int)i};
    ut_rank_sort(order, c->n);
    oinst *keep = ut_xmalloc((n ? n : 1) * sizeof *keep);
    for (size_t k = 0; k < c->n; k++) {
        int w = order[k].i;
        const owl *wl = &c->wl[w];
        if (many[w] == 1 && !dup[w])
            continue;      /* nothing to gain */
        /* its instances off */
        size_t nk = 0, rest = 0;
        for (size_t q = 0; q < n; q++) {
            if (in[q].w == w) {
                keep[nk++] = in[q];
                gpus_put(c, &s, &in[q], -1);
            } else {
                in[rest++] = in[q];
            }
        }
        int done = 0;
        for (long want = 1; want <= many[w] && !done; want++)
            for (int o = 0; o < wl->no && !done; o++) {
                long cnt = 0;
                for (int p = 0; p < wl->o[o].nparts; p++)
                    cnt += wl->o[o].part[p].count;
                if (cnt != want || (cnt == many[w] && !dup[w]))
                    continue;
                size_t nit = 0;
                oitem *it = items_of_one(c, w, o, &nit);
                size_t before = rest;
                in = ut_xrealloc(in, (rest + nit + nk + 1) * sizeof *in);
                if (place_items(c, &s, it, nit, in, &rest, 0) == 0) {
                    done = 1;
                } else {
                    for (size_t q = before; q < rest; q++)
                        gpus_put(c, &s, &in[q], -1);
                    rest = before;
                }
                free(it);
            }
        if (!done)
            for (size_t q = 0; q < nk; q++) {
                in[rest] = keep[q];
                gpus_put(c, &s, &in[rest++], 1);
            }
        n = rest;
    }
    free(keep);
    free(order);
    free(many);
    free(dup);
    gpus_free(c, &s);
    *inst = in;
    *ninst = n;
}

/* ---- the program ------------------------------------------------------------ */

typedef struct oflow {
    long C;            /* co_units: a path's length */
    long *size;        /* the distinct shares <= C, largest first */
    int ns;
    int *col_f;        /* [a * ns + k]: the arc a -> a + size[k], or 0 */
    int *col_l;        /* [a]: a -> a + 1, a = 1..C-1 */
    int ncols;
} oflow;

/* Lays the columns out: w, then the arcs. Returns the number of columns
 * (a long, checked against OPT_MAX_COLS before anything is built). */
static long flow_layout(octx *c, oflow *fl)
{
    fl->C = c->co_units;
    char *seen = ut_xcalloc((size_t)fl->C + 1, 1);
    long col = 1;
    for (size_t i = 0; i < c->n; i++)
        for (int o = 0; o < c->wl[i].no; o++) {
            oopt *op = &c->wl[i].o[o];
            op->col_w = col <= INT_MAX ? (int)col : 0;
            col++;
            for (int p = 0; p < op->nparts; p++)
                if (part_units(&c->wl[i], op, p) <= fl->C)
                    seen[part_units(&c->wl[i], op, p)] = 1;
        }
    fl->size = ut_xmalloc((size_t)fl->C * sizeof *fl->size);
    for (long u = fl->C; u >= 1; u--)
        if (seen[u])
            fl->size[fl->ns++] = u;
    free(seen);
    fl->col_f = ut_xcalloc((size_t)fl->C * (size_t)(fl->ns ? fl->ns : 1),
                           sizeof *fl->col_f);
    for (long a = 0; a < fl->C; a++)
        for (int k = 0; k < fl->ns; k++)
            if (a + fl->size[k] <= fl->C)
                fl->col_f[a * fl->ns + k] = col <= INT_MAX ? (int)col++ : 0;
    fl->col_l = ut_xcalloc((size_t)fl->C, sizeof *fl->col_l);
    for (long a = 1; a < fl->C; a++)
        fl->col_l[a] = col <= INT_MAX ? (int)col++ : 0;
    fl->ncols = col - 1 <= INT_MAX ? (int)(col - 1) : INT_MAX;
    return col - 1;
}

static void flow_free(oflow *fl)
{
    free(fl->size);
    free(fl->col_f);
    free(fl->col_l);
}

/* Instances of option o above C: each takes a GPU of its own. */
static long alone_count(const octx *c, const owl *w, const oopt *o)
{
    long n = 0;
    for (int p = 0; p < o->nparts; p++)
        if (part_units(w, o, p) > c->co_units)
            n += o->part[p].count;
    return n;
}

/* The constraint matrix, GLPK's 1-based triplets. */
typedef struct omat {
    int *ia, *ja;
    double *ar;
    size_t n, cap, cap2, cap3;
} omat;

static void nz(omat *r, int i, int j, double v)
{
    size_t need = r->n + 2;
    UT_GROW(r->ia, r->cap, need);
    UT_GROW(r->ja, r->cap2, need);
    UT_GROW(r->ar, r->cap3, need);
    r->n++;
    r->ia[r->n] = i;
    r->ja[r->n] = j;
    r->ar[r->n] = v;
}

static int add_row(glp_prob *P, int type, double lo, double hi)
{
    int i = glp_add_rows(P, 1);
    glp_set_row_bnds(P, i, type, lo, hi);
    return i;
}

static glp_prob *flow_build(const octx *c, const oflow *fl, long lb0)
{
    glp_prob *P = glp_create_prob();
    glp_set_obj_dir(P, GLP_MIN);
    glp_add_cols(P, fl->ncols);
    for (int j = 1; j <= fl->ncols; j++) {
        glp_set_col_kind(P, j, GLP_IV);
        glp_set_col_bnds(P, j, GLP_LO, 0, 0);
    }
    omat r = {0};
    int lbrow = add_row(P, GLP_LO, (double)lb0, 0);
    for (size_t i = 0; i < c->n; i++) {
        const owl *w = &c->wl[i];
        int row = add_row(P, GLP_FX, 1, 1);
        for (int o = 0; o < w->no; o++) {
            glp_set_col_kind(P, w->o[o].col_w, GLP_BV);
            nz(&r, row, w->o[o].col_w, 1);
            long alone = alone_count(c, w, &w->o[o]);
            if (alone) {
                glp_set_obj_coef(P, w->o[o].col_w, (double)alone);
                nz(&r, lbrow, w->o[o].col_w, (double)alone);
            }
        }
    }
    for (int k = 0; k < fl->ns; k++) {
        glp_set_obj_coef(P, fl->col_f[k], 1);   /* leaving node 0 */
        nz(&r, lbrow, fl->col_f[k], 1);
    }
    for (long a = 1; a < fl->C; a++) {
        int row = add_row(P, GLP_FX, 0, 0);
        for (int k = 0; k < fl->ns; k++) {
            if (a - fl->size[k] >= 0)
                nz(&r, row, fl->col_f[(a - fl->size[k]) * fl->ns + k], 1);
            if (fl->col_f[a * fl->ns + k])
                nz(&r, row, fl->col_f[a * fl->ns + k], -1);
        }
        if (a >= 2)
            nz(&r, row, fl->col_l[a - 1], 1);
        nz(&r, row, fl->col_l[a], -1);
    }
    for (int k = 0; k < fl->ns; k++) {
        int row = add_row(P, GLP_LO, 0, 0);
        for (long a = 0; a + fl->size[k] <= fl->C; a++)
            nz(&r, row, fl->col_f[a * fl->ns + k], 1);
        for (size_t i = 0; i < c->n; i++)
            for (int o = 0; o < c->wl[i].no; o++) {
                const oopt *op = &c->wl[i].o[o];
                long cnt = 0;
                for (int p = 0; p < op->nparts; p++)
                    if (part_units(&c->wl[i], op, p) == fl->size[k])
                        cnt += op->part[p].count;
                if (cnt)
                    nz(&r, row, op->col_w, -(double)cnt);
            }
    }
    glp_load_matrix(P, (int)r.n, r.ia, r.ja, r.ar);
    free(r.ia);
    free(r.ja);
    free(r.ar);
    return P;
}

/* A solution (n instances) as the program's column values (1-based,
 * malloc'd): its options, and each GPU's instances as a path, largest
 * share first, then unused units. */
static double *flow_start(const octx *c, const oflow *fl, const oinst *in,
                          size_t n)
{
    double *x = ut_xcalloc((size_t)fl->ncols + 1, sizeof *x);
    long G = 0;
    for (size_t q = 0; q < n; q++) {
        x[c->wl[in[q].w].o[in[q].o].col_w] = 1;
        if (in[q].g + 1 > G)
            G = in[q].g + 1;
    }
    long *sz = ut_xmalloc((n ? n : 1) * sizeof *sz);
    for (long g = 0; g < G; g++) {
        size_t m = 0;
        for (size_t q = 0; q < n; q++)
            if (in[q].g == g)
                sz[m++] = inst_units(c, &in[q]);
        if (m == 0 || (m == 1 && sz[0] > fl->C))
            continue;
        for (size_t a = 1; a < m; a++)   /* largest first; m is small */
            for (size_t b = a; b > 0 && sz[b - 1] < sz[b]; b--) {
                long t = sz[b];
                sz[b] = sz[b - 1];
                sz[b - 1] = t;
            }
        long at = 0;
        for (size_t q = 0; q < m; q++) {
            int k = 0;
            while (fl->size[k] != sz[q])
                k++;
            x[fl->col_f[at * fl->ns + k]] += 1;
            at += sz[q];
        }
        for (; at < fl->C; at++)
            x[fl->col_l[at]] += 1;
    }
    free(sz);
    return x;
}

typedef struct oresult {
    const char *status;   /* "optimal", "time limit", "node limit",
                             "too large" */
    double bound_gpus;
} oresult;

typedef struct ocb {
    double *start;     /* 1-based column values of the first solution */
    int given;
    long node_lim;
    int node_stop;
    double bound;      /* the best global lower bound seen */
    int nw;            /* columns 1..nw are the options' */
} ocb;

/* GLPK's callback: hands over the first solution, follows the bound (the
 * best active node's; it only rises, so the last one seen is valid),
 * branches on the options before the flows and stops the search after
 * node_lim nodes. */
static void on_tree(glp_tree *T, void *info)
{
    ocb *cb = info;
    int best = glp_ios_best_node(T);
    if (best) {
        double b = glp_ios_node_bound(T, best);
        if (b > cb->bound)
            cb->bound = b;
    }
    if (glp_ios_reason(T) == GLP_IHEUR && !cb->given) {
        cb->given = 1;
        glp_ios_heur_sol(T, cb->start);
    }
    if (glp_ios_reason(T) == GLP_IBRANCH && cb->nw > 0) {
        /* branch on the most fractional option first, up: with the
         * options fixed, the rest is a packing whose LP bound is tight,
         * whereas branching on flows (GLPK's choice) left sets of 8
         * workloads open after 20 s */
        glp_prob *P = glp_ios_get_prob(T);
        int bj = 0;
        double bd = 2;
        for (int j = 1; j <= cb->nw; j++)
            if (glp_ios_can_branch(T, j)) {
                double v = glp_get_col_prim(P, j);
                double d = fabs(v - 0.5);
                if (d < bd) {
                    bd = d;
                    bj = j;
                }
            }
        if (bj)
            glp_ios_branch_upon(T, bj, GLP_UP_BRNCH);
    }
    int a, n, t;
    glp_ios_tree_size(T, &a, &n, &t);
    if (cb->node_lim > 0 && t > cb->node_lim && !cb->node_stop) {
        cb->node_stop = 1;
        glp_ios_terminate(T);
    }
}

/*
 * Runs GLPK on P: the LP relaxation, then branch and bound from `start`
 * within c->time_s and c->node_lim. Returns 1 when P holds an integer
 * solution. *res says whether it is proven optimal and the best bound
 * (rounded up: the objective is a count), never below lb.
 */
static int run_mip(const octx *c, glp_prob *P, double *start, double lb,
                   int nw, oresult *res)
{
    ocb cb = {start, 0, c->node_lim, 0, lb, nw};
    *res = (oresult){"time limit", lb};
    int tm_ms = c->time_s * 1000 >= INT_MAX ? INT_MAX
                                             : (int)ceil(c->time_s * 1000);
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.tm_lim = tm_ms;
    double t0 = glp_time();
    if (glp_simplex(P, &sp) != 0 || glp_get_status(P) != GLP_OPT)
        return 0;
    glp_iocp ip;
    glp_init_iocp(&ip);
    ip.msg_lev = GLP_MSG_OFF;
    /* the callback's columns are the program's own only without the
     * presolver */
    ip.presolve = GLP_OFF;
    /* the search gets what the LP left of the limit */
    double left = tm_ms - (glp_time() - t0);
    ip.tm_lim = left < 1 ? 1 : (int)left;
    /* GPUs are whole: no relative gap is small enough to matter but zero
     * (GLPK rounds the bound up itself, the objective being integral) */
    ip.mip_gap = 0;
    ip.cb_func = on_tree;
    ip.cb_info = &cb;
    int rc = glp_intopt(P, &ip);
    int st = glp_mip_status(P);
    if (rc == 0 && st == GLP_OPT) {
        /* a count, as GLPK's floating point has it */
        *res = (oresult){"optimal", ceil(glp_mip_obj_val(P) - 1e-6)};
    } else {
        res->status = cb.node_stop ? "node limit" : "time limit";
        double b = ceil(cb.bound - 1e-6);
        if (b > res->bound_gpus)
            res->bound_gpus = b;
    }
    return st == GLP_OPT || st == GLP_FEAS;
}

/*
 * GPUs from the program's solution x: the flow split into paths, each a
 * GPU, and the chosen options' instances put on unused arcs of their
 * share, workloads with the most instances first, each instance on the
 * GPU with the most unused arcs of its share among those without one of
 * its workload (Ryser's rule, which finds such a placement whenever one
 * exists for one share), else on the first GPU with one; instances above
 * C on GPUs of their own. Fills *inst (malloc'd) and returns the number
 * of GPUs.
 */
static long decode(const octx *c, const oflow *fl, const double *x,
                   oinst **inst, size_t *ninst)
{
    size_t narcs = (size_t)fl->C * (size_t)(fl->ns ? fl->ns : 1);
    long *f = ut_xcalloc(narcs, sizeof *f);
    long *l = ut_xcalloc((size_t)fl->C, sizeof *l);
    for (size_t j = 0; j < narcs; j++)
        if (fl->col_f[j])
            f[j] = lround(x[fl->col_f[j]]);
    for (long a = 1; a < fl->C; a++)
        l[a] = lround(x[fl->col_l[a]]);
    /* the paths: the shares of each GPU's arcs */
    long *arc = NULL, *first = NULL;
    size_t narc = 0, acap = 0, fcap = 0;
    long nb = 0;
    for (;;) {
        int k = 0;
        while (k < fl->ns && f[k] == 0)
            k++;
        if (k == fl->ns)
            break;
        UT_GROW(first, fcap, (size_t)nb + 2);
        first[nb++] = (long)narc;
        long at = 0;
        while (at < fl->C) {
            for (k = 0; k < fl->ns; k++)
                if (fl->col_f[at * fl->ns + k] && f[at * fl->ns + k] > 0)
                    break;
            if (k < fl->ns) {
                f[at * fl->ns + k]--;
                UT_GROW(arc, acap, narc + 1);
                arc[narc++] = fl->size[k];
                at += fl->size[k];
            } else if (at >= 1 && l[at] > 0) {
                l[at]--;
                at++;
            } else {
                break;   /* cannot happen: integer flows are conserved */
            }
        }
    }
    UT_GROW(first, fcap, (size_t)nb + 1);
    first[nb] = (long)narc;
    int *opt = ut_xmalloc((c->n ? c->n : 1) * sizeof *opt);
    for (size_t i = 0; i < c->n; i++) {
        const owl *w = &c->wl[i];
        opt[i] = w->cheapest;   /* if none were chosen, which cannot be */
        for (int o = 0; o < w->no; o++)
            if (x[w->o[o].col_w] > 0.5)
                opt[i] = o;
    }
    size_t nit;
    oitem *it = items_of(c, opt, &nit);
    free(opt);
    int *owner = ut_xmalloc((narc ? narc : 1) * sizeof *owner);
    for (size_t q = 0; q < narc; q++)
        owner[q] = -1;
    long G = nb;
    *inst = ut_xmalloc((nit ? nit : 1) * sizeof **inst);
    *ninst = nit;
    for (size_t q = 0; q < nit; q++) {
        oinst in = it[q].in;
        if (it[q].units > fl->C) {
            in.g = G++;
            (*inst)[q] = in;
            continue;
        }
        long best_at = -1, best_free = 0, any_at = -1, any_g = -1;
        in.g = -1;
        for (long b = 0; b < nb; b++) {
            long free_at = -1, nfree = 0;
            int dup = 0;
            for (long s = first[b]; s < first[b + 1]; s++) {
                dup |= owner[s] == in.w;
                if (owner[s] < 0 && arc[s] == it[q].units) {
                    nfree++;
                    if (free_at < 0)
                        free_at = s;
                }
            }
            if (free_at >= 0 && any_at < 0) {
                any_at = free_at;
                any_g = b;
            }
            if (!dup && nfree > best_free) {
                best_free = nfree;
                best_at = free_at;
                in.g = b;
            }
        }
        if (best_at < 0) {
            /* the flow put two instances of the workload together */
            best_at = any_at;
            in.g = any_g;
        }
        if (best_at < 0) {
            in.g = G++;     /* cannot happen: the arcs cover the demand */
        } else {
            owner[best_at] = in.w;
        }
        (*inst)[q] = in;
    }
    /* GPUs whose arcs all went unused are dropped, the rest renumbered */
    long *lab = ut_xcalloc((size_t)G ? (size_t)G : 1, sizeof *lab);
    long used = 0;
    for (size_t q = 0; q < nit; q++)
        lab[(*inst)[q].g] = 1;
    for (long g = 0; g < G; g++)
        lab[g] = lab[g] ? used++ : -1;
    for (size_t q = 0; q < nit; q++)
        (*inst)[q].g = lab[(*inst)[q].g];
    free(lab);
    free(f);
    free(l);
    free(arc);
    free(first);
    free(it);
    free(owner);
    return used;
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
    qsort(ord, nin, sizeof *ord, oord_cmp);
    for (size_t a = 0, b; a < nin; a = b) {
        for (b = a; b < nin && ord[b].a == ord[a].a; b++)
            ;
        const owl *w = &c->wl[ord[a].a];
        double sum = 0;
        size_t used = 0;
        while (a + used < b && sum < w->rate_rps * (1 - OPT_RATE_TOL)) {
            size_t q = ord[a + used++].q;
            int t = type_for(w, w->rate_rps - sum);
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
    qsort(ord, nk, sizeof *ord, oord_cmp);
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
    long G = first_solution(&c, &inst, &ninst);
    /* each workload needs its fewest units, a GPU has max_units */
    long bound = (long)ceil(units / (double)c.max_units - 1e-9);
    if (bound < 1)
        bound = 1;
    oresult res = {"optimal", (double)G};
    if (bound < G) {
        oflow fl = {0};
        if (flow_layout(&c, &fl) > OPT_MAX_COLS) {
            res = (oresult){"too large", (double)bound};
        } else {
            glp_prob *P = flow_build(&c, &fl, bound);
            double *x = flow_start(&c, &fl, inst, ninst);
            int nw = 0;
            for (size_t i = 0; i < c.n; i++)
                nw += c.wl[i].no;
            if (run_mip(&c, P, x, (double)bound, nw, &res)) {
                for (int j = 1; j <= fl.ncols; j++)
                    x[j] = glp_mip_col_val(P, j);
                oinst *d;
                size_t nd;
                long gd = decode(&c, &fl, x, &d, &nd);
                if (gd < G) {
                    free(inst);
                    inst = d;
                    ninst = nd;
                } else {
                    free(d);
                }
            }
            free(x);
            glp_delete_prob(P);
        }
        flow_free(&fl);
    }
    spread(&c, inst, ninst);
    merge(&c, inst, &ninst);
    simplify(&c, &inst, &ninst);
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
