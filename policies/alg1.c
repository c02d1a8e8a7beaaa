/*
 * alg1.c - Algorithm 1 of the iGniter paper, as the authors' code computes
 * it (IGNITER-MODEL.md, "Provisioning"), and the iGniter policy. Steps 1-5
 * and 7 (budgets, batches, share bounds, whole-GPU replicas, ordering, the
 * plan) are shared through alg1.h with the policies that differ only in
 * step 6, the placement (FFD+). Every latency comes from one predictor,
 * the paper's model unless a policy gives another (alg1_plan_with:
 * igniter-plus plans with the measured data's).
 *
 * Shares are kept as integer counts of the GPU's share unit (2.5 % on the
 * V100), so "total <= 100 %" is an exact integer test and plans do not
 * depend on floating-point sums.
 *
 * Fixed defects of the reference (req->faithful = 0; docs/igniter-model.md):
 *  1. a whole-GPU replica runs the batch found for it (the reference writes
 *     batch[max_batch], an unrelated workload's batch, or crashes);
 *  2. a workload whose share bound is negative or infinite (half its SLO is
 *     less than its fixed costs at the batch its rate asks for) goes to the
 *     replica path, and is reported unservable, by name, if no batch meets
 *     half its SLO even on a whole GPU;
 *  3. a new GPU is checked with the predictor like any other, and shares
 *     are raised until the workload meets its SLO there; a workload that
 *     misses even alone on a whole GPU goes through the replica step and
 *     its remainder is placed again (on replicas if it still misses);
 *  and, not listed in the reference's notes: a share bound is at least one
 *  unit, and a remainder that still needs more than a GPU after the
 *  replicas gets one more replica instead of a GPU filled over 100 %.
 *
 * Speed: placing a workload asks, of every open GPU, how much its total
 * share would grow (try_gpu), and takes the least growth, the first GPU on
 * a tie, as the reference does; nothing grows less than the workload's
 * bound, so the first GPU where it fits with no raise ends the scan. A scan
 * of every GPU made planning quadratic (83 s for 100,000 workloads), so
 * best_gpu gets the same answer from less: an index skips the GPUs without
 * room for the bound, and each kind of workload (model, batch, budget,
 * bound) remembers where it fitted and looks again only at the GPUs
 * changed since (best_gpu says why that is exact). tests/test_plan.c pins
 * plans of random sets to those of the full scan.
 */
#include "policies/alg1.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLICA_HEADROOM 0.9   /* a replica is loaded to 90 % of its rate */
#define UNITS_INF (LONG_MAX / 4)

typedef struct wl {
    int model;
    double s_ms;      /* the execution budget: half the SLO, less the
                         predictor's margin (alg1.h) */
    double rate_rps;  /* what is left after whole-GPU replicas */
    int batch;
    long units;       /* share lower bound, in share units */
    int bad_bound;    /* the bound was negative or infinite */
    int div_zero;     /* the bound divided by exactly zero */
} wl;

typedef struct gpu {
    size_t n, cap;
    int *w;
    long *units;
    long total;
} gpu;

typedef struct replica {
    int w, batch;
    double rate_rps, lat_ms, tput_rps;
} replica;

/* A max-tree over the open GPUs' free units before any raise: the cap for
 * one more workload minus the total, LONG_MIN for a GPU that holds
 * MDL_MAX_COLOC workloads. Finds, in GPU order, each GPU where r units fit
 * (try_gpu's first test) in O(log n). */
typedef struct gpu_index {
    long *t;          /* t[1] is the root; GPU j's leaf is t[size + j] */
    size_t size;      /* leaves: a power of two, 0 before the first GPU */
} gpu_index;

/* One kind of workload as try_gpu sees it (model, batch, budget, units),
 * and the GPUs it fitted on when last placed: try_gpu is a pure function
 * of the kind and the GPU, so a GPU that has not changed since gives the
 * same answer again. */
typedef struct fit {
    size_t gpu;
    long growth;
} fit;

typedef struct kind {
    int model, batch;
    double s_ms;
    long units;
    size_t seen;      /* changes (ctx.nlog) when last placed; SIZE_MAX: never */
    size_t upto;      /* GPUs 0..upto-1 are known */
    fit *fits;        /* those of them with try_gpu >= 0, as of seen */
    size_t nfit, fcap;
} kind;

struct alg1 {
    const pol_request *req;
    const mdl_fitted *f;
    const alg1_predictor *pred;  /* NULL: the paper's model */
    double unit;
    long max_units;            /* one workload alone: the whole GPU */
    long co_units;             /* two or more: mdl_colocated_pct */
    wl *wl;
    gpu *gpus;
    size_t ngpus, gcap;
    replica *reps;
    size_t nreps, rcap;
    gpu_index ix;
    size_t *log;               /* the GPU changed by each change, in order */
    size_t nlog, lcap;
    size_t *mark;              /* per GPU: the scan that last marked it */
    size_t mcap, scan;
    size_t *changed;           /* this scan's changed GPUs */
    size_t ccap;
    kind *kinds;
    size_t nkinds, kcap;
    size_t *kslot;             /* open addressing: 1 + index into kinds */
    size_t kslots;             /* a power of two, 0 before the first */
    /* try_gpu's workloads for the predictor: in the context, zeroed with
     * it, rather than zeroed (2 KiB) on each of millions of calls */
    mdl_place place[MDL_MAX_COLOC];
};
typedef struct alg1 ctx;

int pol_igniter_batch(const mdl_fitted *f, const mdl_model *m, double slo_ms,
                      double rate_rps)
{
    double s = slo_ms / 2, lam = rate_rps / 1000, B = f->pcie_bytes_per_ms;
    (void)m;
    double b = ceil(s * lam * B / (B + m->input_bytes * lam));
    return b < 1 ? 1 : b > INT_MAX ? INT_MAX : (int)b;
}

/* Every latency Algorithm 1 asks for goes through here: the paper's model
 * unless a predictor was given (alg1.h). */
static void predict(const ctx *c, const mdl_place *p, size_t n, double *lat,
                    double *tput)
{
    if (c->pred)
        c->pred->predict(c->pred->ctx, p, n, lat, tput);
    else
        mdl_predict(c->f, p, n, lat, tput);
}

/*
 * Step 3 with a predictor (alg1.h): the fewest units, scanning up from 1,
 * at which the workload alone runs batch b within s; UNITS_INF if not even
 * a whole GPU does. A scan, not a bisection: an interpolated latency need
 * not fall monotonically with the share, and a whole GPU is at most a few
 * dozen units.
 */
static long search_units(const ctx *c, int model, double s, int b)
{
    for (long u = 1; u <= c->max_units; u++) {
        mdl_place p = {model, b, (double)u * c->unit};
        double l;
        predict(c, &p, 1, &l, NULL);
        if (l <= s)
            return u;
    }
    return UNITS_INF;
}

/*
 * Step 3: the smallest share (in units) at which the solo model, with no
 * interference, runs batch b within s. Written in the reference's order of
 * operations so that ceil() sees the same rounding. Returns UNITS_INF when
 * the bound is infinite, and sets *bad when it is negative or infinite.
 */
static long lower_units(const ctx *c, const mdl_model *m, double s, int b,
                        int *bad, int *div_zero)
{
    double delta;
    double x = mdl_share_bound_units(c->f, m, b, s, c->unit, &delta);
    *bad = !(delta > 0);
    *div_zero = delta == 0;
    if (!isfinite(x) || x > 1e12)
        return UNITS_INF;
    if (x < -1e12)
        return -UNITS_INF;
    long u = (long)ceil(x);
    if (!c->req->faithful && u < 1)
        u = 1;
    return u;
}

static void compute_bound(ctx *c, int i)
{
    wl *w = &c->wl[i];
    const mdl_model *m = &c->f->models[w->model];
    /* from the whole SLO, not 2 s_ms: the margin leaves the batch alone */
    w->batch = pol_igniter_batch(c->f, m, c->req->w[i].slo_ms, w->rate_rps);
    if (c->pred) {
        w->units = search_units(c, w->model, w->s_ms, w->batch);
        w->bad_bound = w->div_zero = 0;
        return;
    }
    w->units = lower_units(c, m, w->s_ms, w->batch, &w->bad_bound,
                           &w->div_zero);
}

static void add_replica(ctx *c, int w, int batch, double rate, double lat,
                        double tput)
{
    UT_GROW(c->reps, c->rcap, c->nreps + 1);
    c->reps[c->nreps++] = (replica){w, batch, rate, lat, tput};
}

/* Step 4: the largest batch (scanning up from 1, stopping at the first that
 * fails) whose solo latency on a whole GPU is within s. 0 if none. */
static int replica_batch(const ctx *c, int i, double *lat, double *tput)
{
    const wl *w = &c->wl[i];
    int best = 0;
    for (int b = 1; b <= MDL_MAX_BATCH; b++) {
        mdl_place p = {w->model, b, 100};
        double l, t;
        predict(c, &p, 1, &l, &t);
        if (!(l < w->s_ms))
            break;
        best = b;
        *lat = l;
        *tput = t;
    }
    return best;
}

static int unservable(const ctx *c, int i, ut_err *err)
{
    const pol_workload *pw = &c->req->w[i];
    const wl *w = &c->wl[i];
    mdl_place p = {w->model, 1, 100};
    double l;
    predict(c, &p, 1, &l, NULL);
    double margin = c->pred ? c->pred->margin : 0;
    char against[64] = "half the SLO";
    if (margin > 0)
        snprintf(against, sizeof against, "%g %% under half the SLO",
                 100 * margin);
    return ut_errf(err, "workload \"%s\" (%s): slo_ms: cannot be met, even on a"
                   " whole %s at batch 1 %s predicts %.3g ms against "
                   "%s, %.3g ms", pw->name, pw->model, c->f->gpu,
                   c->pred ? c->pred->name : "the model", l, against,
                   w->s_ms);
}

/* Whole-GPU replicas of workload i at the largest batch that meets its
 * budget, each loaded to at most 90 % of its predicted throughput: step 4
 * (all 0) while its rate is more than one such replica carries, the rest
 * left to share a GPU; fixed mode's last resort for a workload no shared
 * GPU can hold (all 1) its whole remaining rate, the last replica taking
 * the remainder. */
static int replicas(ctx *c, int i, int all, ut_err *err)
{
    wl *w = &c->wl[i];
    double lat = 0, tput = 0;
    int b = replica_batch(c, i, &lat, &tput);
    if (b == 0)
        return unservable(c, i, err);
    double per = ceil(tput * REPLICA_HEADROOM);
    while (all ? w->rate_rps > 0 : w->rate_rps > per) {
        double r = w->rate_rps > per ? per : w->rate_rps;
        add_replica(c, i, b, r, lat, tput);
        w->rate_rps -= r;
    }
    if (all)
        w->rate_rps = 0;
    return 0;
}

static long units_total(const gpu *g) { return g->total; }

static void gpu_push(gpu *g, int w, long units)
{
    if (g->n == g->cap) {
        size_t cap = g->cap;
        UT_GROW(g->w, cap, g->n + 1);
        UT_GROW(g->units, g->cap, g->n + 1);
    }
    g->w[g->n] = w;
    g->units[g->n] = units;
    g->n++;
    g->total += units;
}

/* ---- which GPUs can take r units: the index and the change log -------- */

/* What try_gpu's first test allows on g: the units one more workload may
 * bring before any raise, LONG_MIN when g cannot take another workload. */
static long free_units(const ctx *c, const gpu *g)
{
    size_t n = g->n + 1;
    if (n > MDL_MAX_COLOC)
        return LONG_MIN;
    return (n >= 2 ? c->co_units : c->max_units) - units_total(g);
}

static void index_set(gpu_index *x, size_t j, long v)
{
    if (j >= x->size) {
        size_t size = x->size ? x->size : 16;
        while (size <= j)
            size *= 2;
        long *t = ut_xmalloc(2 * size * sizeof *t);
        for (size_t i = 0; i < 2 * size; i++)
            t[i] = LONG_MIN;
        for (size_t i = 0; i < x->size; i++)
            t[size + i] = x->t[x->size + i];
        for (size_t i = size - 1; i >= 1; i--)
            t[i] = t[2 * i] > t[2 * i + 1] ? t[2 * i] : t[2 * i + 1];
        free(x->t);
        x->t = t;
        x->size = size;
    }
    size_t i = x->size + j;
    x->t[i] = v;
    for (i /= 2; i >= 1; i /= 2) {
        long m = x->t[2 * i] > x->t[2 * i + 1] ? x->t[2 * i] : x->t[2 * i + 1];
        if (x->t[i] == m)
            break;
        x->t[i] = m;
    }
}

/* The first GPU j >= from with at least r free units, or SIZE_MAX. */
static size_t index_next(const gpu_index *x, size_t from, long r)
{
    if (from >= x->size)
        return SIZE_MAX;
    size_t i = x->size + from;
    while (x->t[i] < r) {
        while (i & 1) {           /* a right child: its parent is done */
            i /= 2;
            if (i == 0)
                return SIZE_MAX;
        }
        i++;                      /* the next subtree to the right */
    }
    while (i < x->size) {         /* down to its leftmost such leaf */
        i *= 2;
        if (x->t[i] < r)
            i++;
    }
    return i - x->size;
}

/* Every change of a GPU's workloads or shares goes through here: the index
 * follows and the change log says which GPUs a kind must look at again. */
static void gpu_changed(ctx *c, size_t j)
{
    index_set(&c->ix, j, free_units(c, &c->gpus[j]));
    UT_GROW(c->log, c->lcap, c->nlog + 1);
    c->log[c->nlog++] = j;
}

static gpu *open_gpu(ctx *c)
{
    UT_GROW(c->gpus, c->gcap, c->ngpus + 1);
    UT_GROW(c->mark, c->mcap, c->ngpus + 1);
    gpu *g = &c->gpus[c->ngpus++];
    memset(g, 0, sizeof *g);
    return g;
}

/*
 * Step 6 for one GPU: tentatively add workload w with r units, then raise
 * by one unit every workload predicted over its budget, until none is or the
 * GPU is over 100 %. Returns the growth of the GPU's total in units, or -1
 * if it ends over 100 %; units_out receives the tentative shares.
 */
static long try_gpu(ctx *c, const gpu *g, int w, long r, long *units_out)
{
    size_t n = g->n + 1;
    if (n > MDL_MAX_COLOC)
        return -1;
    long total = units_total(g) + r;
    long cap = n >= 2 ? c->co_units : c->max_units;
    if (total > cap)
        return -1;
    mdl_place *p = c->place;
    double lat[MDL_MAX_COLOC];
    int wi[MDL_MAX_COLOC];
    for (size_t i = 0; i < g->n; i++) {
        wi[i] = g->w[i];
        units_out[i] = g->units[i];
    }
    wi[g->n] = w;
    units_out[g->n] = r;
    for (size_t i = 0; i < n; i++) {
        p[i].model = c->wl[wi[i]].model;
        p[i].batch = c->wl[wi[i]].batch;
    }
    int raised = 1;
    while (total <= cap && raised) {
        raised = 0;
        for (size_t i = 0; i < n; i++)
            p[i].share_pct = (double)units_out[i] * c->unit;
        predict(c, p, n, lat, NULL);
        for (size_t i = 0; i < n; i++)
            if (lat[i] > c->wl[wi[i]].s_ms) {
                units_out[i]++;
                total++;
                raised = 1;
            }
    }
    if (total > cap)
        return -1;
    return total - units_total(g);
}

/* ---- placing with a memory: kinds of workload ------------------------- */

static int kind_eq(const kind *k, const wl *x, long r)
{
    return k->model == x->model && k->batch == x->batch &&
           !memcmp(&k->s_ms, &x->s_ms, sizeof k->s_ms) && k->units == r;
}

static size_t kind_hash(const wl *x, long r)
{
    uint64_t bits;
    memcpy(&bits, &x->s_ms, sizeof bits);
    uint64_t h = (uint64_t)x->model * 0x9e3779b97f4a7c15u;
    h = (h ^ (uint64_t)x->batch) * 0xbf58476d1ce4e5b9u;
    h = (h ^ bits) * 0x94d049bb133111ebu;
    h = (h ^ (uint64_t)r) * 0x9e3779b97f4a7c15u;
    return (size_t)(h ^ (h >> 31));
}

/* Workload w's kind at r units, made on first sight. */
static kind *kind_of(ctx *c, int w, long r)
{
    const wl *x = &c->wl[w];
    if (2 * (c->nkinds + 1) > c->kslots) {      /* at most half full */
        size_t n = c->kslots ? 2 * c->kslots : 64;
        free(c->kslot);
        c->kslot = ut_xcalloc(n, sizeof *c->kslot);
        c->kslots = n;
        for (size_t k = 0; k < c->nkinds; k++) {
            const kind *e = &c->kinds[k];
            wl y = {.model = e->model, .batch = e->batch, .s_ms = e->s_ms};
            size_t i = kind_hash(&y, e->units) & (n - 1);
            while (c->kslot[i])
                i = (i + 1) & (n - 1);
            c->kslot[i] = k + 1;
        }
    }
    size_t i = kind_hash(x, r) & (c->kslots - 1);
    for (; c->kslot[i]; i = (i + 1) & (c->kslots - 1))
        if (kind_eq(&c->kinds[c->kslot[i] - 1], x, r))
            return &c->kinds[c->kslot[i] - 1];
    UT_GROW(c->kinds, c->kcap, c->nkinds + 1);
    kind *k = &c->kinds[c->nkinds++];
    *k = (kind){x->model, x->batch, x->s_ms, r, SIZE_MAX, 0, NULL, 0, 0};
    c->kslot[i] = c->nkinds;
    return k;
}

static void kind_try(ctx *c, kind *k, int w, size_t j, long *tent)
{
    long growth = try_gpu(c, &c->gpus[j], w, k->units, tent);
    if (growth < 0)
        return;
    UT_GROW(k->fits, k->fcap, k->nfit + 1);
    k->fits[k->nfit++] = (fit){j, growth};
}

/* The best of k's fits: least growth, then the first GPU; SIZE_MAX if
 * none. */
static size_t kind_best(const kind *k, long *growth)
{
    size_t best = SIZE_MAX;
    *growth = LONG_MAX;
    for (size_t f = 0; f < k->nfit; f++)
        if (k->fits[f].growth < *growth ||
            (k->fits[f].growth == *growth && k->fits[f].gpu < best)) {
            *growth = k->fits[f].growth;
            best = k->fits[f].gpu;
        }
    return best;
}

/*
 * The GPU where workload w at r units grows least (ties: the first), as
 * the reference's scan of every open GPU finds it, or SIZE_MAX; tent gets
 * the shares there. Growth is never below r, so the first GPU where it is
 * r ends the scan.
 *
 * try_gpu is a pure function of the GPU and of w's kind (model, batch,
 * budget, r), so a kind remembers what it found: every GPU it fits on
 * among the first `upto`, as of `seen` changes. Next time it looks again
 * only at the GPUs changed since (the change log), and scans further only
 * when none of those it knows takes r with no raise; a scan skips, through
 * the index, every GPU without r free units. Random workloads come in far
 * fewer kinds than workloads (about 6,000 in 100,000), and the order
 * (largest bound first) brings a kind back soon, so most placements look
 * at a handful of GPUs instead of all of them.
 */
static size_t best_gpu(ctx *c, int w, long r, long *tent)
{
    kind *k = kind_of(c, w, r);
    if (k->seen == SIZE_MAX || c->nlog - k->seen > c->ngpus) {
        k->nfit = 0;
        k->upto = 0;
    } else if (k->seen < c->nlog) {
        size_t id = ++c->scan, nc = 0;
        for (size_t e = k->seen; e < c->nlog; e++) {
            size_t j = c->log[e];
            if (j >= k->upto || c->mark[j] == id)
                continue;
            c->mark[j] = id;
            UT_GROW(c->changed, c->ccap, nc + 1);
            c->changed[nc++] = j;
        }
        size_t n = 0;
        for (size_t f = 0; f < k->nfit; f++)
            if (c->mark[k->fits[f].gpu] != id)
                k->fits[n++] = k->fits[f];
        k->nfit = n;
        for (size_t e = 0; e < nc; e++)
            if (free_units(c, &c->gpus[c->changed[e]]) >= r)
                kind_try(c, k, w, c->changed[e], tent);
    }
    k->seen = c->nlog;
    long growth;
    size_t best = kind_best(k, &growth);
    if (growth != r) {
        size_t j = index_next(&c->ix, k->upto, r);
        for (; j != SIZE_MAX; j = index_next(&c->ix, j + 1, r)) {
            size_t nfit = k->nfit;
            kind_try(c, k, w, j, tent);
            if (k->nfit > nfit && k->fits[nfit].growth == r)
                break;
        }
        k->upto = j != SIZE_MAX ? j + 1 : c->ngpus;
        best = kind_best(k, &growth);
    }
    if (best != SIZE_MAX)
        try_gpu(c, &c->gpus[best], w, r, tent);   /* its shares again */
    return best;
}

static int igniter_place_try(ctx *c, int w, int retry, ut_err *err)
{
    long r = c->wl[w].units;
    long tent[MDL_MAX_COLOC];
    size_t best = best_gpu(c, w, r, tent);
    if (best != SIZE_MAX) {
        gpu *g = &c->gpus[best];
        gpu_push(g, w, 0);
        g->total = 0;
        for (size_t i = 0; i < g->n; i++) {
            g->units[i] = tent[i];
            g->total += tent[i];
        }
        gpu_changed(c, best);
        return 0;
    }
    if (c->req->faithful) {
        gpu_push(open_gpu(c), w, r);
        gpu_changed(c, c->ngpus - 1);
        return 0;
    }
    /* fixed: a new GPU goes through the predictor too; if the workload
     * misses its budget even alone at 100 %, it gets replicas */
    gpu empty = {0};
    if (try_gpu(c, &empty, w, r, tent) < 0) {
        /* first the reference's replica step, then one more try with the
         * smaller remainder, which may share a GPU */
        if (retry) {
            if (replicas(c, w, 0, err) < 0)
                return -1;
            compute_bound(c, w);
            if (c->wl[w].units <= c->max_units && !c->wl[w].bad_bound)
                return igniter_place_try(c, w, 0, err);
        }
        return replicas(c, w, 1, err);
    }
    gpu_push(open_gpu(c), w, tent[0]);
    gpu_changed(c, c->ngpus - 1);
    return 0;
}

static void ctx_free(ctx *c)
{
    for (size_t j = 0; j < c->ngpus; j++) {
        free(c->gpus[j].w);
        free(c->gpus[j].units);
    }
    free(c->gpus);
    free(c->reps);
    free(c->wl);
    free(c->ix.t);
    free(c->log);
    free(c->mark);
    free(c->changed);
    for (size_t k = 0; k < c->nkinds; k++)
        free(c->kinds[k].fits);
    free(c->kinds);
    free(c->kslot);
}

static void fill_instance(const ctx *c, pol_instance *in, int w, int batch,
                          double share, double rate, double lat, double tput)
{
    const pol_workload *pw = &c->req->w[w];
    memcpy(in->name, pw->name, sizeof in->name);
    memcpy(in->model, pw->model, sizeof in->model);
    in->batch = batch;
    in->share_pct = share;
    in->rate_rps = rate;
    in->slo_ms = pw->slo_ms;
    in->predicted_latency_ms = lat;
    in->predicted_throughput_rps = tput;
}

static int build_plan(const ctx *c, pol_plan *out, ut_err *err)
{
    const mdl_fitted *f = c->f;
    out->ngpus = c->ngpus + c->nreps;
    out->gpus = ut_xcalloc(out->ngpus, sizeof *out->gpus);
    for (size_t j = 0; j < c->ngpus; j++) {
        const gpu *g = &c->gpus[j];
        pol_gpu *pg = &out->gpus[j];
        memcpy(pg->type, f->gpu, sizeof pg->type);
        pg->n = g->n;
        pg->inst = ut_xcalloc(g->n, sizeof *pg->inst);
        mdl_place p[MDL_MAX_COLOC];
        double lat[MDL_MAX_COLOC], tput[MDL_MAX_COLOC];
        for (size_t i = 0; i < g->n; i++) {
            p[i].model = c->wl[g->w[i]].model;
            p[i].batch = c->wl[g->w[i]].batch;
            p[i].share_pct = (double)g->units[i] * c->unit;
        }
        predict(c, p, g->n, lat, tput);
        for (size_t i = 0; i < g->n; i++)
            fill_instance(c, &pg->inst[i], g->w[i], p[i].batch, p[i].share_pct,
                          c->wl[g->w[i]].rate_rps, lat[i], tput[i]);
    }
    for (size_t k = 0; k < c->nreps; k++) {
        const replica *r = &c->reps[k];
        pol_gpu *pg = &out->gpus[c->ngpus + k];
        memcpy(pg->type, f->gpu, sizeof pg->type);
        pg->replica = 1;
        pg->n = 1;
        pg->inst = ut_xcalloc(1, sizeof *pg->inst);
        int batch = r->batch;
        if (c->req->faithful) {
            /* defect 1: the reference writes batch[max_batch] */
            if ((size_t)r->batch >= c->req->n)
                return ut_errf(err, "workload \"%s\": the reference "
                               "implementation fails here (it indexes the "
                               "batch list of %zu workloads with the "
                               "replica's batch %d); plan without --faithful",
                               c->req->w[r->w].name, c->req->n, r->batch);
            batch = c->wl[r->batch].batch;
        }
        fill_instance(c, &pg->inst[0], r->w, batch, 100, r->rate_rps,
                      r->lat_ms, r->tput_rps);
    }
    return 0;
}

/* Step 6 of iGniter: interference-aware placement (the raise loop). */
static int igniter_place(ctx *c, int w, ut_err *err)
{
    return igniter_place_try(c, w, 1, err);
}

int alg1_plan(const pol_request *req, alg1_place_fn place, pol_plan *out,
              ut_err *err)
{
    return alg1_plan_with(req, NULL, place, out, err);
}

int alg1_plan_with(const pol_request *req, const alg1_predictor *pred,
                   alg1_place_fn place, pol_plan *out, ut_err *err)
{
    if (!place)
        place = igniter_place;
    if (pred && !(pred->margin >= 0 && pred->margin < 1))
        return ut_errf(err, "margin: expected a fraction in [0, 1), got %g",
                       pred->margin);
    if (pred && req->faithful)
        return ut_errf(err, "faithful: the reference's defects belong to "
                       "planning with the paper's model, not with %s; plan "
                       "without --faithful", pred->name);
    ctx c = {0};
    c.req = req;
    c.pred = pred;
    c.f = req->fit;
    c.unit = c.f->share_unit_pct;
    c.max_units = (long)floor(100 / c.unit + 1e-9);
    c.co_units = (long)floor(mdl_colocated_pct(c.f) / c.unit + 1e-9);
    memset(out, 0, sizeof *out);
    c.wl = ut_xcalloc(req->n, sizeof *c.wl);
    int rc = -1;
    /* step 1-3: budgets, batches, share bounds */
    for (size_t i = 0; i < req->n; i++) {
        int m = mdl_find(c.f, req->w[i].model);  /* checked by the caller */
        c.wl[i].model = m;
        c.wl[i].s_ms = req->w[i].slo_ms / 2;
        if (pred && pred->margin > 0)
            c.wl[i].s_ms *= 1 - pred->margin;
        c.wl[i].rate_rps = req->w[i].rate_rps;
        compute_bound(&c, (int)i);
    }
    /* step 4: whole-GPU replicas for what a GPU cannot hold */
    for (size_t i = 0; i < req->n; i++) {
        int over = c.wl[i].units > c.max_units;
        if (!req->faithful && c.wl[i].bad_bound)
            over = 1;
        if (req->faithful && c.wl[i].div_zero) {
            ut_errf(err, "workload \"%s\": the reference implementation "
                    "divides by zero here; plan without --faithful",
                    req->w[i].name);
            goto out;
        }
        if (!over)
            continue;
        if (replicas(&c, (int)i, 0, err) < 0)
            goto out;
    }
    for (size_t i = 0; i < req->n; i++) {
        compute_bound(&c, (int)i);
        if (req->faithful || (c.wl[i].units <= c.max_units &&
                              !c.wl[i].bad_bound))
            continue;
        /* fixed: the remainder still needs a whole GPU */
        if (replicas(&c, (int)i, 1, err) < 0)
            goto out;
    }
    /* step 5: largest bound first; the index breaks ties, which makes
     * qsort stable like the reference's sort */
    ut_rank *order = ut_xmalloc(req->n * sizeof *order);
    size_t no = 0;
    for (size_t i = 0; i < req->n; i++)
        if (c.wl[i].rate_rps > 0)
            order[no++] = (ut_rank){c.wl[i].units, (int)i};
    ut_rank_sort(order, no);
    /* step 6: place */
    for (size_t k = 0; k < no; k++)
        if (place(&c, order[k].i, err) < 0) {
            free(order);
            goto out;
        }
    free(order);
    /* step 7: the plan and its cost */
    if (build_plan(&c, out, err) < 0) {
        pol_plan_free(out);
        goto out;
    }
    rc = 0;
out:
    ctx_free(&c);
    return rc;
}

static int igniter_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return alg1_plan(req, igniter_place, out, err);
}

/* ---- the placer API of alg1.h ------------------------------------------- */

long alg1_bound(const alg1 *a, int w) { return a->wl[w].units; }
long alg1_max_units(const alg1 *a) { return a->max_units; }
long alg1_colocated_units(const alg1 *a) { return a->co_units; }
size_t alg1_ngpus(const alg1 *a) { return a->ngpus; }
long alg1_gpu_total(const alg1 *a, size_t j) { return a->gpus[j].total; }
size_t alg1_gpu_count(const alg1 *a, size_t j) { return a->gpus[j].n; }

void alg1_put(alg1 *a, size_t j, int w, long units)
{
    if (j >= a->ngpus) {
        open_gpu(a);
        j = a->ngpus - 1;
    }
    gpu_push(&a->gpus[j], w, units);
    gpu_changed(a, j);
}

size_t alg1_first_fit(const alg1 *a, long units)
{
    size_t j = index_next(&a->ix, 0, units);
    return j < a->ngpus ? j : a->ngpus;
}

const pol_ops pol_igniter = {
    .version = POL_OPS_VERSION,
    .name = "igniter",
    .summary = "iGniter (Xu et al., TPDS 2023): interference-aware shares, batches and "
        "placement",
    .plan = igniter_plan,
};
