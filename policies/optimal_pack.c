/*
 * optimal_pack.c - the `optimal` policy's first-fit placing of instances on
 * GPUs (optimal_int.h; the method is at the top of optimal.c): the first
 * solution, which GLPK starts from and which stands when the solve is not
 * run or finds nothing better, and the tidying of whichever solution won
 * (spread, merge, simplify), none of which opens a GPU.
 */
#include "policies/optimal_int.h"

#include <stdlib.h>
#include <string.h>

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
oitem *opt_items_of(const octx *c, const int *opt, size_t *nit)
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
    oitem *it = opt_items_of(c, opt, &nit);
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
long opt_first_solution(const octx *c, oinst **inst, size_t *ninst)
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
void opt_spread(const octx *c, oinst *in, size_t n)
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

/* The comparison of oords (optimal_int.h). */
int opt_ord_cmp(const void *x, const void *y)
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
void opt_merge(const octx *c, oinst *in, size_t *n)
{
    oord *ord = ut_xmalloc((*n ? *n : 1) * sizeof *ord);
    for (size_t q = 0; q < *n; q++)
        ord[q] = (oord){in[q].g, in[q].w, 0, q};
    qsort(ord, *n, sizeof *ord, opt_ord_cmp);
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
        int t = opt_type_for(w, cap);
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
void opt_simplify(const octx *c, oinst **inst, size_t *ninst)
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

