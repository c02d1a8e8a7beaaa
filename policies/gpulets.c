/*
 * gpulets.c - gpu-lets+, the second baseline of the iGniter paper (after
 * Choi et al., "Serving heterogeneous machine learning models on multi-GPU
 * servers with spatio-temporal sharing", USENIX ATC 2022): fixed-size GPU
 * partitions ("gpu-lets"), at most two per GPU, sized per workload at the
 * knee of throughput per share, and placed in pairs that gpu-lets' own
 * linear interference model says will still meet both SLOs.
 *
 * It plans from the measured data (req->measured: solo tables with L2 and
 * DRAM utilisation, and the measured pairs), as gpu-lets plans from its
 * profiles; the fitted iGniter model is used for one thing only, the
 * project's rule for the batch that fills in half the SLO
 * (pol_igniter_batch), so that every policy batches alike.
 *
 * 1. Partitions are 20, 40, 50, 60, 80 and 100 % of the GPU, nothing else;
 *    a GPU holds at most two instances and their shares add up to <= 100.
 *
 * 2. Budget (iGniter's, the simulator's default batching timeout, and
 *    gpu-lets' rule for a saturated gpu-let, 2 L <= SLO): a batch b runs
 *    within half the SLO alone, L(b, p) <= SLO/2, with L the measured solo
 *    latency (mdl_measured_solo_ms) on a batch row the table measured; and
 *    it fills within the other half at the rate r its instance receives,
 *    b <= pol_igniter_batch(SLO, r). An instance is loaded to at most
 *    HEADROOM (90 %) of its solo throughput b * 1000 / L, as exclusive.c
 *    and iGniter's whole-GPU replicas are.
 *
 *    Throughput of a partition, T(p): the largest b * 1000 / L(b, p) over
 *    the batches that meet the budget when the instance is saturated
 *    (receives HEADROOM x that throughput), smaller batch on ties.
 *
 *    The ideal partition, two rules (two registered policies):
 *
 *    `gpulets` (gpu-lets' own, getMaxReturnPart in casys-kaist/glet's
 *    src/scheduler/scheduler_incremental.cpp): over consecutive partition
 *    sizes p < q among 20, 40, 50, 60, 80 (the step to 100 is never
 *    weighed there, so 100 is never chosen), skip a step that raises T by
 *    less than 5 %, and take the q of the largest marginal gain
 *    (T(q) - T(p)) / (q - p); 20 if no step qualifies. Its bulk: while
 *    the rate left exceeds what that partition carries (HEADROOM x T),
 *    one more instance of that partition (gpu-lets' "saturated" gpu-lets,
 *    which carry their whole T there; the headroom is the project's, so
 *    that a saturated instance's queue stays bounded in the simulator);
 *    the rest to the smallest partition, up to the ideal one, with a batch
 *    meeting the budget at that rest (gpu-lets' getMinPart).
 *
 *    `gpulets-knee` (the project's earlier reading, kept to compare): the
 *    knee, the smallest p whose T(p) / p is at least KNEE (90 %) of the
 *    best T(p) / p. A workload whose rate the knee carries gets one
 *    instance there; a heavier one gets whole GPUs (the partition of
 *    highest T), each carrying HEADROOM x T, while the rate left exceeds
 *    that; the rest to the smallest partition with a batch that meets the
 *    budget at that rest. Filling the bulk with knee partitions made 25
 *    instances and 17 GPUs of experiments/paper-12.json (the knee is 20 %
 *    for 9 of the 12 workloads on the V100 data).
 *
 *    Either way the instances' rates add up to the workload's.
 *
 * 3. Interference: gpu-lets' linear model of the slow-down of a beside b
 *    (co-located latency / solo latency at the same batch and share),
 *    s = c . [1, l2_a, dram_a, l2_b, dram_b], with each one's L2 and DRAM
 *    utilisation (%) taken from the solo tables at its batch and share
 *    (the nearest measured share of that batch row where the cell is
 *    missing). A prediction below 1 is raised to 1 (co-location never
 *    speeds a workload up; no measured pair does). Products l2_a l2_b and
 *    dram_a dram_b were tried and left out: they did not lower the
 *    held-out error on the V100 data (mean 2.3 % with them, 2.2 % without).
 *    Fitted with GSL's ordinary least squares on every measured pair whose
 *    index i (file order) has i % HOLDOUT != 0, both directions of each
 *    pair; the pairs with i % HOLDOUT == 0 are held out for the error
 *    (pol_gpulets_predictor_error). Fitted at every plan call: a
 *    5-column least squares over about a thousand rows costs well under a
 *    millisecond, and the plan then depends on nothing but the request.
 *
 * 4. Placement, `gpulets` (gpu-lets' scheduler, scheduler_incremental.cpp):
 *    a pool of n whole GPUs; workloads by rate x SLO increasing. A
 *    workload's estimate (step 2), largest gpu-let first, goes by best
 *    fit: a free partition of its size, else a whole GPU (split into the
 *    gpu-let and the leftover 100 - p), else the smallest larger free
 *    partition, which the gpu-let takes whole at the largest batch meeting
 *    the budget there. Beside an instance, both predicted latencies (solo
 *    x predicted slow-down) must pass gpu-lets' test, duty cycle + latency
 *    <= SLO with a latency no longer than the duty cycle (a batch must
 *    finish before the next one has filled, or the queue grows without
 *    bound); the duty cycle is the fill time b * 1000 / r capped at SLO/2
 *    by the batcher's timeout, so the test reads: predicted latency <=
 *    min(SLO/2, b * 1000 / r). If a gpu-let finds no partition, the
 *    estimate is taken back and gpu-lets' readjust places the whole rate
 *    (readjust below). n = 1, 2, ... until every workload is placed.
 *    `gpulets-knee`: instances by share decreasing, each beside the
 *    single instance of an open GPU with room where both pass, best fit,
 *    else a new GPU. The headroom of step 2 is what co-location may eat.
 *
 * Not modelled: gpu-lets' time-sharing of one gpu-let by several models
 * and its re-partitioning as rates change; this is the static plan.
 */
#include "policies/gpulets_int.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPARTS 6
static const double parts[NPARTS] = {20, 40, 50, 60, 80, 100};

#define KNEE 0.9        /* of the best throughput per share */
#define MIN_GAIN 1.05   /* gpu-lets' MIN_THRESHOLD: a step must raise T 5 % */
#define HEADROOM 0.9    /* load of an instance, of its solo throughput */

/* ---- sizing --------------------------------------------------------------- */

typedef struct gl_inst {
    int w;                /* index into req->w */
    const char *name;     /* req->w[w].name */
    int model;            /* index into req->measured->solo */
    int batch;
    double share_pct;
    double rate_rps;
    double slo_ms;
    double solo_ms;       /* L(batch, share) */
    size_t order;         /* creation order, the last tie-break */
} gl_inst;

typedef struct gl_list {
    gl_inst *v;
    size_t n, cap;
} gl_list;

/* What one workload needs to size its instances. */
typedef struct gl_wl {
    const mdl_fitted *f;
    const mdl_model *fm;  /* for the fill batch */
    const mdl_measured *m;
    int model;            /* solo table */
    double slo_ms;
} gl_wl;

/* Step 2's table of one workload: T(p) and its batch per partition. */
typedef struct gl_sized {
    int w;                /* index into req->w */
    gl_wl z;
    double tput[NPARTS];
    int batch[NPARTS];
    int ideal;            /* max_return's, or the knee under gpulets-knee */
    int big;              /* the partition of highest T */
} gl_sized;

typedef struct gl_ctx {
    int knee_rule;        /* 1: gpulets-knee, 0: gpu-lets' marginal gain */
    const pol_request *req;
    const mdl_measured *m;
    gl_predictor pred;
    gl_sized *sz;         /* one per workload, in request order */
    size_t made;          /* instances made so far: their order */
} gl_ctx;

/* Whether the solo table measured batch row b at some share. */
static int row_measured(const mdl_solo_table *t, int b)
{
    for (size_t j = 0; j < t->nshares; j++)
        if (!isnan(t->lat_ms[b][j]))
            return 1;
    return 0;
}

/* The budget of step 2 for batch b on share p at rate r (r <= 0: the
 * saturated rate, HEADROOM x the batch's throughput). Fills *lat_ms. */
static int budget_ok(const gl_wl *z, int b, double p, double r,
                     double *lat_ms)
{
    if (!row_measured(&z->m->solo[z->model], b))
        return 0;
    double lat = mdl_measured_solo_ms(z->m, z->model, b, p);
    *lat_ms = lat;
    if (!(lat > 0 && lat <= z->slo_ms / 2))
        return 0;
    double tput = b * 1000.0 / lat;
    if (r <= 0)
        r = HEADROOM * tput;
    return r <= HEADROOM * tput &&
           b <= pol_igniter_batch(z->f, z->fm, z->slo_ms, r);
}

/* T(p): the saturated throughput of share p and its batch; 0 if no batch
 * meets the budget. */
static double saturated(const gl_wl *z, double p, int *batch)
{
    double best = 0;
    *batch = 0;
    for (int b = 1; b <= MDL_MAX_BATCH; b++) {
        double lat;
        if (!budget_ok(z, b, p, 0, &lat))
            continue;
        double t = b * 1000.0 / lat;
        if (t > best) {
            best = t;
            *batch = b;
        }
    }
    return best;
}

/* The largest batch meeting the budget on share p at rate r; 0 if none. */
static int batch_at(const gl_wl *z, double p, double r)
{
    for (int b = MDL_MAX_BATCH; b >= 1; b--) {
        double lat;
        if (budget_ok(z, b, p, r, &lat))
            return b;
    }
    return 0;
}


/* Appends instance (batch, p, r) of sized workload s to l. */
static void add_inst(gl_ctx *c, gl_list *l, const gl_sized *s, int batch,
                     double p, double r)
{
    UT_GROW(l->v, l->cap, l->n + 1);
    gl_inst *in = &l->v[l->n++];
    in->w = s->w;
    in->name = c->req->w[s->w].name;
    in->model = s->z.model;
    in->batch = batch;
    in->share_pct = p;
    in->rate_rps = r;
    in->slo_ms = c->req->w[s->w].slo_ms;
    in->solo_ms = mdl_measured_solo_ms(c->m, s->z.model, batch, p);
    in->order = c->made++;
}

/* gpu-lets' partition of largest marginal gain (getMaxReturnPart): the
 * larger end of the step, among 20..80, that adds the most throughput per
 * share point, steps under MIN_GAIN skipped; the smallest partition that
 * serves at all when none qualifies (gpu-lets' default, 20, where T > 0). */
static int max_return(const double tput[NPARTS])
{
    int best = -1;
    double best_ret = 0;
    for (int k = 1; k < NPARTS - 1; k++) {
        if (tput[k - 1] > 0 && tput[k] / tput[k - 1] < MIN_GAIN)
            continue;
        double ret = (tput[k] - tput[k - 1]) / (parts[k] - parts[k - 1]);
        if (ret > best_ret) {
            best_ret = ret;
            best = k;
        }
    }
    if (best < 0 || tput[best] <= 0)
        for (best = 0; best < NPARTS - 1 && tput[best] <= 0; best++)
            ;
    return best;
}

/* The index of partition size p in parts[]. */
static int part_index(double p)
{
    int k = 0;
    while (k < NPARTS - 1 && parts[k] != p)
        k++;
    return k;
}

/* Step 2 by gpu-lets' rule (estimateTrp) for rate r: saturated instances
 * of the ideal partition while the rate exceeds what one carries, then the
 * residue on the smallest partition up to the ideal one that meets the
 * budget at it (getMinPart); if none does (a residue whose fill batch
 * rounds just under the partition's), the ideal partition at its
 * saturated batch. The first instance made is gpu-lets' candidates[0]. */
static void estimate(gl_ctx *c, const gl_sized *s, double r, gl_list *l)
{
    int ideal = s->ideal;
    double rest = r, per = HEADROOM * s->tput[ideal];
    while (rest > per) {
        add_inst(c, l, s, s->batch[ideal], parts[ideal], per);
        rest -= per;
    }
    for (int k = 0; k <= ideal; k++) {
        int b = batch_at(&s->z, parts[k], rest);
        if (b > 0) {
            add_inst(c, l, s, b, parts[k], rest);
            return;
        }
    }
    add_inst(c, l, s, s->batch[ideal], parts[ideal], rest);
}

/* Step 2's knee rule (gpulets-knee) for the workload's whole rate. */
static void estimate_knee(gl_ctx *c, const gl_sized *s, gl_list *l)
{
    double rest = c->req->w[s->w].rate_rps;
    int from = s->ideal;
    if (rest > HEADROOM * s->tput[s->ideal]) {
        double per = HEADROOM * s->tput[s->big];
        while (rest > per) {
            add_inst(c, l, s, s->batch[s->big], parts[s->big], per);
            rest -= per;
        }
        from = 0;
    }
    for (int k = from; k < NPARTS; k++) {
        int b = batch_at(&s->z, parts[k], rest);
        if (b > 0) {
            add_inst(c, l, s, b, parts[k], rest);
            return;
        }
    }
    /* Reached only where the fill batch at this rate rounds just below a
     * partition's saturated batch and is then too slow for the rate (ssd,
     * SLO 67 ms, 308 req/s, among the tests' random workloads): the
     * partition of highest throughput carries the rest at its saturated
     * batch, which fills in a little more than half the SLO; the batcher
     * sends what has waited half the SLO, so the SLO still holds. */
    add_inst(c, l, s, s->batch[s->big], parts[s->big], rest);
}

/* Step 2's table for workload i into *s. */
static int size_table(gl_ctx *c, int i, gl_sized *s, ut_err *err)
{
    const pol_workload *w = &c->req->w[i];
    const mdl_fitted *f = c->req->fit;
    char names[256];
    int fm = mdl_find(f, w->model);   /* checked by the caller */
    int model = mdl_measured_find(c->m, w->model);
    if (model < 0)
        return ut_errf(err, "workload \"%s\": model: the measured data has "
                       "%s, not \"%s\"", w->name,
                       mdl_measured_names(c->m, names, sizeof names),
                       w->model);
    gl_wl z = {f, &f->models[fm], c->m, model, w->slo_ms};
    s->w = i;
    s->z = z;
    double best_eff = 0;
    for (int k = 0; k < NPARTS; k++) {
        s->tput[k] = saturated(&s->z, parts[k], &s->batch[k]);
        if (s->tput[k] / parts[k] > best_eff)
            best_eff = s->tput[k] / parts[k];
    }
    if (best_eff == 0)
        return ut_errf(err, "workload \"%s\" (%s): slo_ms: cannot be met, no "
                       "measured batch runs within half the SLO (%.3g ms) on "
                       "any partition, a whole %s included (batch 1 takes "
                       "%.3g ms there)", w->name, w->model, w->slo_ms / 2,
                       f->gpu, mdl_measured_solo_ms(c->m, model, 1, 100));
    /* the partition of highest throughput: the whole GPU on any sane table */
    s->big = 0;
    for (int k = 1; k < NPARTS; k++)
        if (s->tput[k] >= s->tput[s->big])
            s->big = k;
    if (!c->knee_rule) {
        s->ideal = max_return(s->tput);
        return 0;
    }
    int knee = 0;
    while (!(s->tput[knee] > 0 &&
             s->tput[knee] / parts[knee] >= KNEE * best_eff))
        knee++;
    s->ideal = knee;
    return 0;
}

/* ---- pairing ------------------------------------------------------------- */

/* gpu-lets' test for instance x at co-located latency lat (step 4). */
static int meets(const gl_inst *x, double lat)
{
    double duty = x->batch * 1000.0 / x->rate_rps;
    return lat <= x->slo_ms / 2 && lat <= duty;
}

/* Predicted latencies of x beside y; 0 if either would miss. */
static int pair_ok(const gl_ctx *c, const gl_inst *x, const gl_inst *y,
                   double *lx, double *ly)
{
    double sx = gl_predict(&c->pred, c->m, x->model, x->batch, x->share_pct,
                        y->model, y->batch, y->share_pct);
    double sy = gl_predict(&c->pred, c->m, y->model, y->batch, y->share_pct,
                        x->model, x->batch, x->share_pct);
    if (isnan(sx) || isnan(sy))
        return 0;   /* no utilisation data: gpu-lets cannot tell, so no */
    *lx = x->solo_ms * sx;
    *ly = y->solo_ms * sy;
    return meets(x, *lx) && meets(y, *ly);
}

/* Step 4's order: share decreasing, then workload name, then creation. */
static int by_share(const void *pa, const void *pb)
{
    const gl_inst *a = pa, *b = pb;
    if (a->share_pct != b->share_pct)
        return a->share_pct > b->share_pct ? -1 : 1;
    int d = strcmp(a->name, b->name);
    if (d)
        return d;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* A GPU of the plan: one or two instances (indices into a list). */
typedef struct gl_gpu {
    size_t n;
    size_t idx[2];
} gl_gpu;

/* ---- gpulets-knee's placement ---------------------------------------------- */

/* Best fit of the instances, share decreasing, beside the single instance
 * of an open GPU where both pass; at most one GPU per instance. */
static size_t place_knee(const gl_ctx *c, const gl_list *l, gl_gpu *g)
{
    size_t ng = 0;
    for (size_t k = 0; k < l->n; k++) {
        const gl_inst *x = &l->v[k];
        size_t best = ng;
        double best_left = INFINITY, share[2] = {0, 0};
        for (size_t j = 0; j < ng; j++) {
            share[0] = l->v[g[j].idx[0]].share_pct;
            double left = mdl_colocated_pct(c->req->fit) - share[0] -
                          x->share_pct,
                   lx, ly;
            if (g[j].n != 1 || left < 0 || !(left < best_left) ||
                !pair_ok(c, x, &l->v[g[j].idx[0]], &lx, &ly))
                continue;
            best = j;
            best_left = left;
        }
        if (best == ng) {
            g[ng].n = 1;
            g[ng].idx[0] = k;
            ng++;
        } else {
            g[best].n = 2;
            g[best].idx[1] = k;
        }
    }
    return ng;
}

/* ---- gpu-lets' scheduler on a pool of GPUs ---------------------------------- */

/* A partition of a pool GPU, free (inst < 0) or holding one instance. */
typedef struct gl_slot {
    double share_pct;
    long inst;            /* into the pool's list; -1: free */
} gl_slot;

typedef struct gl_pool {
    size_t ngpus;
    int *nslots;          /* per GPU, 1 or 2 */
    gl_slot *slot;        /* GPU j's at 2 j and 2 j + 1 */
    gl_list inst;
} gl_pool;

#define RATE_EPS 1e-9     /* req/s: a rest below this is carried */

/* Whether GPU j is whole and free (gpu-lets' 100 % node). */
static int unsplit(const gl_pool *pl, size_t j)
{
    return pl->nslots[j] == 1 && pl->slot[2 * j].share_pct == 100 &&
           pl->slot[2 * j].inst < 0;
}

/* The partition left beside p: the largest size that fits within the
 * co-located limit (100 - p on the V100); 0 if none does. */
static double leftover(const gl_ctx *c, double p)
{
    double room = mdl_colocated_pct(c->req->fit) - p + 1e-9;
    for (int k = NPARTS - 1; k >= 0; k--)
        if (parts[k] <= room)
            return parts[k];
    return 0;
}

/* Splits whole GPU j into p and its leftover (gpu-lets' repartition);
 * returns 1 if a second partition was made. */
static int split(const gl_ctx *c, gl_pool *pl, size_t j, double p)
{
    if (p >= 100)
        return 0;
    pl->slot[2 * j].share_pct = p;
    double left = leftover(c, p);
    if (left <= 0)
        return 0;
    pl->slot[2 * j + 1] = (gl_slot){left, -1};
    pl->nslots[j] = 2;
    return 1;
}

/* The instance beside slot k of GPU j, or NULL. */
static const gl_inst *partner(const gl_pool *pl, size_t j, int k)
{
    if (pl->nslots[j] < 2 || pl->slot[2 * j + 1 - k].inst < 0)
        return NULL;
    return &pl->inst.v[pl->slot[2 * j + 1 - k].inst];
}

/* Puts x into slot k of GPU j, splitting a whole GPU first. */
static void put(const gl_ctx *c, gl_pool *pl, size_t j, int k,
                const gl_inst *x)
{
    if (unsplit(pl, j))
        split(c, pl, j, x->share_pct);
    UT_GROW(pl->inst.v, pl->inst.cap, pl->inst.n + 1);
    pl->inst.v[pl->inst.n] = *x;
    pl->slot[2 * j + k].inst = (long)pl->inst.n++;
}

/*
 * Whether gpu-let g may go into slot k of GPU j (findBestFit's test), and
 * as what (*out): unchanged on a slot of its size or a whole GPU (which
 * put splits); on a larger free partition it takes the whole partition,
 * as allocateFit does, with the largest batch meeting the budget there at
 * its rate. Beside an instance, both must pass the interference test.
 */
static int fits(const gl_ctx *c, const gl_pool *pl, size_t j, int k,
                const gl_inst *g, gl_inst *out)
{
    const gl_slot *s = &pl->slot[2 * j + k];
    if (s->inst >= 0 || s->share_pct < g->share_pct)
        return 0;
    *out = *g;
    if (s->share_pct > g->share_pct && !unsplit(pl, j)) {
        const gl_sized *z = &c->sz[g->w];
        int b = batch_at(&z->z, s->share_pct, g->rate_rps);
        if (b == 0)
            return 0;
        out->share_pct = s->share_pct;
        out->batch = b;
        out->solo_ms = mdl_measured_solo_ms(c->m, g->model, b, s->share_pct);
    }
    const gl_inst *y = partner(pl, j, k);
    double lx, ly;
    return !y || pair_ok(c, out, y, &lx, &ly);
}

/*
 * findBestFit over the pool: a free partition of g's size first, else a
 * whole GPU, else the smallest larger free partition; the lowest GPU on
 * ties. Returns 0 with (*jo, *ko, *out) or -1 if no partition passes.
 */
static int best_fit(const gl_ctx *c, const gl_pool *pl, const gl_inst *g,
                    size_t *jo, int *ko, gl_inst *out)
{
    int best_rank = 3;
    double best_size = INFINITY;
    gl_inst x;
    for (size_t j = 0; j < pl->ngpus; j++)
        for (int k = 0; k < pl->nslots[j]; k++) {
            double size = pl->slot[2 * j + k].share_pct;
            int rank = size == g->share_pct ? 0 : unsplit(pl, j) ? 1 : 2;
            if (rank > best_rank || (rank == best_rank && !(size < best_size)))
                continue;
            if (!fits(c, pl, j, k, g, &x))
                continue;
            best_rank = rank;
            best_size = size;
            *jo = j;
            *ko = k;
            *out = x;
        }
    return best_rank < 3 ? 0 : -1;
}

/* Free partitions, largest first, then by GPU and slot (readjust's order). */
typedef struct gl_free {
    size_t j;
    int k;
    double share_pct;
} gl_free;

static int by_free(const void *pa, const void *pb)
{
    const gl_free *a = pa, *b = pb;
    if (a->share_pct != b->share_pct)
        return a->share_pct > b->share_pct ? -1 : 1;
    if (a->j != b->j)
        return a->j < b->j ? -1 : 1;
    return a->k - b->k;
}

/* gpu-lets' first candidate for rate r: the split a whole GPU gets. */
static gl_inst first_candidate(gl_ctx *c, const gl_sized *s, double r)
{
    gl_list l = {0};
    estimate(c, s, r, &l);
    gl_inst x = l.v[0];
    free(l.v);
    return x;
}

/* Takes the front free partition, splitting a whole GPU as gpu-lets'
 * estimate for rate r would and queueing its leftover in order. */
static gl_free front(gl_ctx *c, gl_pool *pl, const gl_sized *s, double r,
                     gl_free *fr, size_t *nfr)
{
    gl_free f = fr[0];
    if (unsplit(pl, f.j)) {
        gl_inst x = first_candidate(c, s, r);
        if (split(c, pl, f.j, x.share_pct)) {
            fr[(*nfr)++] = (gl_free){f.j, 1, pl->slot[2 * f.j + 1].share_pct};
            qsort(fr + 1, *nfr - 1, sizeof *fr, by_free);
        }
        f.share_pct = fr[0].share_pct = x.share_pct;
    }
    return f;
}

/* Drops the front free partition. */
static void pop(gl_free *fr, size_t *nfr)
{
    memmove(fr, fr + 1, (*nfr - 1) * sizeof *fr);
    (*nfr)--;
}

/* A gpu-let of s at batch b carrying rate r on free partition f, put there
 * when the partition's neighbour, if any, passes the interference check
 * with it: 1 if put. one is scratch space. */
static int try_put(gl_ctx *c, gl_pool *pl, const gl_sized *s, gl_free f,
                   int b, double r, gl_list *one)
{
    double lx, ly;
    one->n = 0;
    add_inst(c, one, s, b, f.share_pct, r);
    const gl_inst *y = partner(pl, f.j, f.k);
    if (y && !pair_ok(c, &one->v[0], y, &lx, &ly))
        return 0;
    put(c, pl, f.j, f.k, &one->v[0]);
    return 1;
}

/*
 * gpu-lets' readjust, for a workload whose estimate found no fit: over the
 * free partitions, largest first (whole GPUs split as the estimate for the
 * rate left would split them), saturated instances of each partition's own
 * size while one carries less than the rate left, then the rest on the
 * next partition at the largest batch meeting the budget; a placement
 * whose pair fails the interference test is undone and the partition
 * skipped. Returns -1 if rate is left over (gpu-lets fails the schedule).
 */
static int readjust(gl_ctx *c, gl_pool *pl, const gl_sized *s)
{
    size_t nfr = 0;
    gl_free *fr = ut_xcalloc(2 * pl->ngpus + 1, sizeof *fr);
    for (size_t j = 0; j < pl->ngpus; j++)
        for (int k = 0; k < pl->nslots[j]; k++)
            if (pl->slot[2 * j + k].inst < 0)
                fr[nfr++] = (gl_free){j, k, pl->slot[2 * j + k].share_pct};
    qsort(fr, nfr, sizeof *fr, by_free);
    double rest = c->req->w[s->w].rate_rps;
    int residue = 0;
    gl_list one = {0};
    while (rest > RATE_EPS && nfr > 0) {
        gl_free f = front(c, pl, s, rest, fr, &nfr);
        int k = part_index(f.share_pct), b = s->batch[k];
        if (s->tput[k] <= 0) {
            pop(fr, &nfr);
            continue;
        }
        double carry = HEADROOM * b * 1000.0 /
                       mdl_measured_solo_ms(c->m, s->z.model, b, f.share_pct);
        if (carry > rest) {
            residue = 1;
            break;
        }
        if (try_put(c, pl, s, f, b, carry, &one))
            rest -= carry;
        pop(fr, &nfr);
    }
    while (residue && rest > RATE_EPS && nfr > 0) {
        gl_free f = front(c, pl, s, rest, fr, &nfr);
        int b = batch_at(&s->z, f.share_pct, rest);
        if (b == 0)
            break;
        if (try_put(c, pl, s, f, b, rest, &one))
            rest = 0;
        pop(fr, &nfr);
    }
    free(one.v);
    free(fr);
    return rest > RATE_EPS ? -1 : 0;
}

/* Schedules sized workload s into the pool (addModeltoSchedule): its
 * estimate's gpu-lets, largest first, each by best_fit; if one finds no
 * partition, the pool goes back to how it was and readjust takes the
 * whole rate. -1 if that fails too. */
static int schedule(gl_ctx *c, gl_pool *pl, const gl_sized *s)
{
    gl_list est = {0};
    estimate(c, s, c->req->w[s->w].rate_rps, &est);
    qsort(est.v, est.n, sizeof *est.v, by_share);
    size_t n0 = pl->inst.n;
    int *ns0 = ut_xmalloc(pl->ngpus * sizeof *ns0);
    gl_slot *sl0 = ut_xmalloc(2 * pl->ngpus * sizeof *sl0);
    memcpy(ns0, pl->nslots, pl->ngpus * sizeof *ns0);
    memcpy(sl0, pl->slot, 2 * pl->ngpus * sizeof *sl0);
    size_t i;
    for (i = 0; i < est.n; i++) {
        size_t j;
        int k;
        gl_inst x;
        if (best_fit(c, pl, &est.v[i], &j, &k, &x) < 0)
            break;
        put(c, pl, j, k, &x);
    }
    int rc = 0;
    if (i < est.n) {
        pl->inst.n = n0;
        memcpy(pl->nslots, ns0, pl->ngpus * sizeof *ns0);
        memcpy(pl->slot, sl0, 2 * pl->ngpus * sizeof *sl0);
        rc = readjust(c, pl, s);
    }
    free(ns0);
    free(sl0);
    free(est.v);
    return rc;
}

/* gpu-lets' order of models: rate x SLO increasing, the later workload
 * first on ties (cmp_task_dsc). */
typedef struct gl_order {
    double key;           /* rate_rps x slo_ms */
    int w;
} gl_order;

static int by_rate_slo(const void *pa, const void *pb)
{
    const gl_order *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return b->w - a->w;
}

/*
 * gpu-lets' schedule on a pool of n whole GPUs (initiateDevs, then
 * elasticPartitioning): every workload in gpu-lets' order. Returns 0 when
 * all are placed, -1 when one is not (the pool is too small).
 */
static int schedule_pool(gl_ctx *c, const gl_order *ord, size_t n,
                         gl_pool *pl)
{
    pl->ngpus = n;
    pl->inst.n = 0;
    for (size_t j = 0; j < n; j++) {
        pl->nslots[j] = 1;
        pl->slot[2 * j] = (gl_slot){100, -1};
        pl->slot[2 * j + 1] = (gl_slot){0, -1};
    }
    for (size_t i = 0; i < c->req->n; i++)
        if (schedule(c, pl, &c->sz[ord[i].w]) < 0)
            return -1;
    return 0;
}

/*
 * gpulets' GPUs: the smallest pool on which gpu-lets' schedule places
 * every workload, trying 1, 2, ... GPUs (gpu-lets schedules onto the
 * cluster it is given; the iGniter authors' gpu-lets+ script tries pool
 * sizes upwards the same way). A pool of one GPU per estimated gpu-let
 * always succeeds (each finds a whole GPU), which ends the search. Fills
 * *l with the instances and g (at least one slot per instance) with the
 * used GPUs, in pool order; returns their number.
 */
static size_t plan_pool(gl_ctx *c, gl_list *l, gl_gpu **gout)
{
    const pol_request *req = c->req;
    gl_order *ord = ut_xcalloc(req->n ? req->n : 1, sizeof *ord);
    size_t most = 0;
    gl_list tmp = {0};
    for (size_t i = 0; i < req->n; i++) {
        ord[i] = (gl_order){req->w[i].rate_rps * req->w[i].slo_ms, (int)i};
        tmp.n = 0;
        estimate(c, &c->sz[i], req->w[i].rate_rps, &tmp);
        most += tmp.n;
    }
    free(tmp.v);
    qsort(ord, req->n, sizeof *ord, by_rate_slo);
    gl_pool pl = {0};
    pl.nslots = ut_xcalloc(most ? most : 1, sizeof *pl.nslots);
    pl.slot = ut_xcalloc(2 * (most ? most : 1), sizeof *pl.slot);
    size_t n = 1;
    while (n < most && schedule_pool(c, ord, n, &pl) < 0)
        n++;
    if (n == most && schedule_pool(c, ord, n, &pl) < 0)
        assert(!"a pool of one GPU per gpu-let always fits");
    gl_gpu *g = ut_xcalloc(n ? n : 1, sizeof *g);
    size_t ng = 0;
    for (size_t j = 0; j < n; j++) {
        for (int k = 0; k < pl.nslots[j]; k++)
            if (pl.slot[2 * j + k].inst >= 0)
                g[ng].idx[g[ng].n++] = (size_t)pl.slot[2 * j + k].inst;
        ng += g[ng].n > 0;
    }
    *l = pl.inst;
    *gout = g;
    free(pl.nslots);
    free(pl.slot);
    free(ord);
    return ng;
}

/* ---- the plan ------------------------------------------------------------- */

static int plan_rule(const pol_request *req, pol_plan *out, int knee_rule,
                     ut_err *err)
{
    memset(out, 0, sizeof *out);
    if (!req->measured)
        return ut_errf(err, "gpulets plans from measured latencies: expected "
                       "measured data of the GPU type (--measured, or "
                       "\"measured\" in the experiment), got none");
    gl_ctx c;
    memset(&c, 0, sizeof c);
    c.knee_rule = knee_rule;
    c.req = req;
    c.m = req->measured;
    if (gl_fit(c.m, &c.pred, err) < 0)
        return -1;
    c.sz = ut_xcalloc(req->n ? req->n : 1, sizeof *c.sz);
    for (size_t i = 0; i < req->n; i++)
        if (size_table(&c, (int)i, &c.sz[i], err) < 0) {
            free(c.sz);
            return -1;
        }
    gl_list l = {0};
    gl_gpu *g;
    size_t ng;
    if (knee_rule) {
        for (size_t i = 0; i < req->n; i++)
            estimate_knee(&c, &c.sz[i], &l);
        qsort(l.v, l.n, sizeof *l.v, by_share);
        g = ut_xcalloc(l.n ? l.n : 1, sizeof *g);
        ng = place_knee(&c, &l, g);
    } else {
        ng = plan_pool(&c, &l, &g);
    }
    out->ngpus = ng;
    out->gpus = ut_xcalloc(ng ? ng : 1, sizeof *out->gpus);
    for (size_t j = 0; j < ng; j++) {
        pol_gpu *pg = &out->gpus[j];
        double lat[2];
        memcpy(pg->type, req->fit->gpu, sizeof pg->type);
        pg->n = g[j].n;
        pg->inst = ut_xcalloc(g[j].n, sizeof *pg->inst);
        if (g[j].n == 2)
            pair_ok(&c, &l.v[g[j].idx[0]], &l.v[g[j].idx[1]], &lat[0],
                    &lat[1]);
        else
            lat[0] = l.v[g[j].idx[0]].solo_ms;
        for (size_t i = 0; i < g[j].n; i++) {
            const gl_inst *x = &l.v[g[j].idx[i]];
            const pol_workload *w = &req->w[x->w];
            pol_instance *in = &pg->inst[i];
            memcpy(in->name, w->name, sizeof in->name);
            memcpy(in->model, w->model, sizeof in->model);
            in->batch = x->batch;
            in->share_pct = x->share_pct;
            in->rate_rps = x->rate_rps;
            in->slo_ms = w->slo_ms;
            in->predicted_latency_ms = lat[i];
            in->predicted_throughput_rps = x->batch * 1000.0 / lat[i];
        }
    }
    free(g);
    free(l.v);
    free(c.sz);
    return 0;
}

static int gpulets_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return plan_rule(req, out, 0, err);
}

static int knee_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return plan_rule(req, out, 1, err);
}

const pol_ops pol_gpulets = {
    .version = POL_OPS_VERSION,
    .name = "gpulets",
    .summary = "gpu-lets+: fixed partitions (20-100 %) chosen by gpu-lets' "
        "largest marginal throughput gain, two per GPU, scheduled as "
        "gpu-lets does onto the fewest GPUs, paired by a linear L2/DRAM "
        "interference model",
    .predicts = "the measured data",
    .plan = gpulets_plan,
};

const pol_ops pol_gpulets_knee = {
    .version = POL_OPS_VERSION,
    .name = "gpulets-knee",
    .summary = "gpu-lets+ with the project's knee rule (90 % of the best "
        "throughput per share) and whole GPUs for the bulk",
    .predicts = "the measured data",
    .plan = knee_plan,
};
