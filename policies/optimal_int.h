/*
 * optimal_int.h - private to the `optimal` policy's files; nothing else
 * includes it (the policy is reached through pol_optimal, policy.h):
 *
 *   optimal.c       the formulation (types and options per workload), the
 *                   limits from the environment, the plan emitted, and the
 *                   driver; its top comment describes the whole method
 *   optimal_pack.c  first-fit placing on GPUs: the first solution, and the
 *                   tidying of a solution (spread, merge, simplify)
 *   optimal_mip.c   the arc-flow integer program, solved with GLPK, and
 *                   its solution decoded into instances on GPUs
 *
 * Shared functions carry the prefix opt_; the types keep their short
 * o-names.
 */
#ifndef POL_OPTIMAL_INT_H
#define POL_OPTIMAL_INT_H

#include "policies/policy.h"

#include <stddef.h>


/* The largest batch considered. Algorithm 1's batch has no cap; past it
 * (a loose SLO at a high rate: half the SLO times the rate above 4096
 * requests) the fitted curves extrapolate far beyond the profile's 32
 * (ResNet-50's and VGG-19's V100 curves turn down near 3300), and no
 * bound on iGniter is claimed there (docs/optimal.md). */
#define OPT_MAX_BATCH 4096
#define OPT_MAX_SPLIT 64        /* equal-split options beyond the first */
#define OPT_SPLIT_DEFAULT 0     /* Algorithm 1's shape (optimal.c) */
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

/* An instance to place, with its sort key: workloads with more
 * instances first, then larger shares, then request order. */
typedef struct oitem {
    long many, units;
    oinst in;
} oitem;

/* An instance's place in one of the orders of opt_merge() and emit():
 * keys a, b, c in turn, then the instance's index q (so that qsort's
 * order is total). */
typedef struct oord {
    long a, b, c;
    size_t q;
} oord;

/* How a solve ended. */
typedef struct oresult {
    const char *status;   /* "optimal", "time limit", "node limit",
                             "too large" */
    double bound_gpus;
} oresult;

static inline long part_units(const owl *w, const oopt *o, int p)
{
    return w->t[o->part[p].t].units;
}

static inline long inst_units(const octx *c, const oinst *in)
{
    return c->wl[in->w].t[in->t].units;
}

/* The smallest type of w carrying at least r req/s; the largest if none. */
static inline int opt_type_for(const owl *w, double r)
{
    for (size_t t = 0; t < w->nt; t++)
        if (w->t[t].cap_rps >= r * (1 - OPT_RATE_TOL))
            return (int)t;
    return (int)w->nt - 1;
}

/* ---- optimal_pack.c ------------------------------------------------------- */

/* qsort's comparison of oord: a, b, c, then q, ascending. */
int opt_ord_cmp(const void *x, const void *y);

/* The instances of option opt[i] of every workload (c->n of them), in
 * placing order; *nit of them, malloc'd (the caller frees). */
oitem *opt_items_of(const octx *c, const int *opt, size_t *nit);

/* The first solution (optimal_pack.c says which): fills *inst (malloc'd)
 * with *ninst instances and returns the number of GPUs. */
long opt_first_solution(const octx *c, oinst **inst, size_t *ninst);

/* The tidying of a solution, in this order, none opening a GPU: spread
 * instances of a workload that share a GPU onto others, merge those that
 * remain together (may lower *n), and simplify to fewer instances (may
 * reallocate *inst). */
void opt_spread(const octx *c, oinst *in, size_t n);
void opt_merge(const octx *c, oinst *in, size_t *n);
void opt_simplify(const octx *c, oinst **inst, size_t *ninst);

/* ---- optimal_mip.c -------------------------------------------------------- */

/*
 * The integer program for a request whose first solution (*inst, *ninst,
 * on G GPUs) is above the bound from shares alone: built (unless it has
 * more than OPT_MAX_COLS columns: then *res is "too large" at bound),
 * started from the first solution and solved within c's limits. Its
 * solution replaces *inst where it has fewer GPUs. *res says how the
 * solve ended and the bound it proved, never below bound.
 */
void opt_program(octx *c, long bound, long G, oinst **inst, size_t *ninst,
                 oresult *res);

#endif
