/*
 * optimal_mip.c - the `optimal` policy's integer program (optimal_int.h;
 * the formulation and why it has this form are at the top of optimal.c):
 * the arc-flow columns and rows built for GLPK, the first solution given
 * as GLPK's start, the branch-and-bound run within the limits, and the
 * solution decoded into instances on GPUs.
 */
#include "policies/optimal_int.h"

#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

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
    oitem *it = opt_items_of(c, opt, &nit);
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

void opt_program(octx *c, long bound, long G, oinst **inst, size_t *ninst,
                 oresult *res)
{
    oflow fl = {0};
    if (flow_layout(c, &fl) > OPT_MAX_COLS) {
        *res = (oresult){"too large", (double)bound};
    } else {
        glp_prob *P = flow_build(c, &fl, bound);
        double *x = flow_start(c, &fl, *inst, *ninst);
        int nw = 0;
        for (size_t i = 0; i < c->n; i++)
            nw += c->wl[i].no;
        if (run_mip(c, P, x, (double)bound, nw, res)) {
            for (int j = 1; j <= fl.ncols; j++)
                x[j] = glp_mip_col_val(P, j);
            oinst *d;
            size_t nd;
            long gd = decode(c, &fl, x, &d, &nd);
            if (gd < G) {
                free(*inst);
                *inst = d;
                *ninst = nd;
            } else {
                free(d);
            }
        }
        free(x);
        glp_delete_prob(P);
    }
    flow_free(&fl);
}
