/*
 * mps.c - the MPS correction of green-context measured data (model.h,
 * "the MPS correction"): derived from a capture's MPS points by
 * `igniter derive` (measured-mps.jsonl), loaded beside the measured data
 * it corrects and applied by the composition (colocation.c) when the
 * simulator is asked for MPS.
 *
 * Why a correction and not tables of its own: the MPS campaign measures
 * a few percentages (on the H200 16) x 6 to 9 batches alone and pairs at
 * one batch; the green tables have 8 to 16 shares x 6 to 9 batches and
 * 270 pairs over batches and shares. The
 * ratio of the two is smooth where the latencies are not (the green
 * table's shape across share carries over), so the coarse grid is used
 * for what it can tell: how much slower MPS is, per model and batch.
 */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdl_mps_free(mdl_mps *x)
{
    free(x->models);
    free(x->pairs);
    memset(x, 0, sizeof *x);
}

/* A ratio the correction may hold (model.h, MDL_MPS_RATIO_MIN/MAX). */
static int in_range(double r)
{
    return r >= MDL_MPS_RATIO_MIN && r <= MDL_MPS_RATIO_MAX;
}

/* ---- lookups -------------------------------------------------------------- */

/* Points (pct[k], v[k]) with pct ascending and v NAN where absent, at
 * share: linear in 1/share between the bracketing points, clamped to the
 * first and last (NAN: no point). */
static double pct_at(const double *pct, const double *v, size_t n,
                     double share)
{
    size_t lo, hi;
    mdl_bracket(pct, v, n, share, &lo, &hi);
    if (lo == (size_t)-1 && hi == (size_t)-1)
        return NAN;
    if (lo == (size_t)-1)
        return v[hi];
    if (hi == (size_t)-1 || hi == lo)
        return v[lo];
    return mdl_lerp(1 / pct[lo], v[lo], 1 / pct[hi], v[hi], 1 / share);
}

/* mdl_rows_around's row of an MPS solo-ratio table */
typedef struct {
    const mdl_mps_model *t;
    double share;
} solo_at;

static double solo_batch_row(int b, const void *ud)
{
    const solo_at *u = ud;
    return pct_at(u->t->pct, u->t->solo[b], u->t->npct, u->share);
}

double mdl_mps_solo_ratio(const mdl_mps *x, int model, double batch,
                          double share_pct)
{
    if (model < 0 || (size_t)model >= x->nmodels || !x->models[model].has)
        return 1;
    const mdl_mps_model *t = &x->models[model];
    /* the measured rows at or around batch, clamped beyond them */
    solo_at u = {t, share_pct};
    int b0, b1;
    double y0, y1;
    mdl_rows_around(batch, solo_batch_row, &u, &b0, &y0, &b1, &y1);
    if (!b0)
        return b1 ? y1 : 1;
    if (!b1 || b1 == b0)
        return y0;
    return mdl_lerp(b0, y0, b1, y1, batch);
}

/* A curve over percentage: linear in the percentage, clamped. */
static double curve_at(const mdl_mps_curve *c, double share)
{
    if (c->n == 0)
        return 1;
    if (share <= c->pct[0])
        return c->v[0];
    size_t k = 1;
    while (k < c->n && c->pct[k] < share)
        k++;
    if (k == c->n)
        return c->v[c->n - 1];
    return mdl_lerp(c->pct[k - 1], c->v[k - 1], c->pct[k], c->v[k], share);
}

double mdl_mps_pair_ratio(const mdl_mps *x, int a, int b, double share_a_pct)
{
    for (size_t i = 0; i < x->npairs; i++)
        if (x->pairs[i].a == a && x->pairs[i].b == b)
            return curve_at(&x->pairs[i].c, share_a_pct);
    if (a < 0 || (size_t)a >= x->nmodels)
        return 1;
    return curve_at(&x->models[a].pair_mean, share_a_pct);
}

double mdl_mps_runs_feature(size_t n, double batch)
{
    if (n < 3)
        return 0;
    double b = batch < 1 ? 1 : batch > 32 ? 32 : batch;
    return (double)(n - 2) * log2(32 / b) / 5;
}

/* A partner's pair ratio counts as much as the partner interferes in the
 * green composition (colocation.c, compose): fully when it has the rest
 * of the GPU, in proportion to its share when less; as a power, so that
 * the ratios of several partners multiply. */
void mdl_mps_apply(const mdl_mps *x, const mdl_place *w, size_t n,
                   double *lat_ms)
{
    for (size_t i = 0; i < n; i++) {
        double f = mdl_mps_solo_ratio(x, w[i].model, w[i].batch,
                                      w[i].share_pct);
        double rest = 100 - w[i].share_pct;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            double wt = rest > 0 ? w[j].share_pct / rest : 1;
            if (wt > 1)
                wt = 1;
            double c = mdl_mps_pair_ratio(x, w[i].model, w[j].model,
                                          w[i].share_pct);
            f *= wt == 1 ? c : pow(c, wt);
        }
        if (n >= 3) {
            /* within the ratios' bounds, as every other factor here: a
             * negative k in a long run would otherwise turn it negative */
            double g = 1 + x->runs_k * mdl_mps_runs_feature(n, w[i].batch);
            f *= g < MDL_MPS_RATIO_MIN   ? MDL_MPS_RATIO_MIN
                 : g > MDL_MPS_RATIO_MAX ? MDL_MPS_RATIO_MAX
                                         : g;
        }
        lat_ms[i] *= f;
    }
}

/* ---- building ------------------------------------------------------------- */

/* The index of share on t's percentage axis, inserted (columns moved)
 * when new; -1 when the axis is full. */
static int pct_index(mdl_mps_model *t, double pct)
{
    size_t k = 0;
    while (k < t->npct && t->pct[k] < pct)
        k++;
    if (k < t->npct && t->pct[k] == pct)
        return (int)k;
    if (t->npct == MDL_MPS_PCTS)
        return -1;
    for (size_t j = t->npct; j > k; j--) {
        t->pct[j] = t->pct[j - 1];
        for (int b = 0; b <= MDL_MAX_BATCH; b++)
            t->solo[b][j] = t->solo[b][j - 1];
    }
    t->pct[k] = pct;
    for (int b = 0; b <= MDL_MAX_BATCH; b++)
        t->solo[b][k] = NAN;
    t->npct++;
    return (int)k;
}

static void model_init(mdl_mps_model *t)
{
    memset(t, 0, sizeof *t);
    for (int b = 0; b <= MDL_MAX_BATCH; b++)
        for (int k = 0; k < MDL_MPS_PCTS; k++)
            t->solo[b][k] = NAN;
}

/* Sets the curve's value at pct (replacing one there); -1 when full. */
static int curve_set(mdl_mps_curve *c, double pct, double v)
{
    size_t k = 0;
    while (k < c->n && c->pct[k] < pct)
        k++;
    if (k < c->n && c->pct[k] == pct) {
        c->v[k] = v;
        return 0;
    }
    if (c->n == MDL_MPS_PCTS)
        return -1;
    memmove(c->pct + k + 1, c->pct + k, (c->n - k) * sizeof *c->pct);
    memmove(c->v + k + 1, c->v + k, (c->n - k) * sizeof *c->v);
    c->pct[k] = pct;
    c->v[k] = v;
    c->n++;
    return 0;
}

static mdl_mps_pair *pair_for(mdl_mps *x, int a, int b)
{
    for (size_t i = 0; i < x->npairs; i++)
        if (x->pairs[i].a == a && x->pairs[i].b == b)
            return &x->pairs[i];
    x->pairs = ut_xrealloc(x->pairs, (x->npairs + 1) * sizeof *x->pairs);
    mdl_mps_pair *p = &x->pairs[x->npairs++];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    return p;
}

/* Each model's mean pair ratio over its measured partners, at each
 * percentage any of them was measured at (partners measured there). */
static void pair_means(mdl_mps *x)
{
    for (size_t a = 0; a < x->nmodels; a++) {
        mdl_mps_curve *mc = &x->models[a].pair_mean;
        memset(mc, 0, sizeof *mc);
        for (size_t i = 0; i < x->npairs; i++) {
            if (x->pairs[i].a != (int)a)
                continue;
            for (size_t k = 0; k < x->pairs[i].c.n; k++) {
                double pct = x->pairs[i].c.pct[k], sum = 0;
                int cnt = 0;
                for (size_t j = 0; j < x->npairs; j++) {
                    if (x->pairs[j].a != (int)a)
                        continue;
                    const mdl_mps_curve *c = &x->pairs[j].c;
                    for (size_t q = 0; q < c->n; q++)
                        if (c->pct[q] == pct) {
                            sum += c->v[q];
                            cnt++;
                        }
                }
                /* more distinct percentages over all partners than a
                 * curve holds: those met first are kept, the rest left out */
                curve_set(mc, pct, sum / cnt);
            }
        }
    }
}

/* Checks one raw point against the green data: its model's index, or -1
 * with err naming the file, line and field. */
static int point_check(const mdl_measured *m, const mdl_mps_point *p,
                       ut_err *err)
{
    char where[300], names[256];
    if (p->member < 0)
        snprintf(where, sizeof where, "%s:%d: solo", p->file, p->line);
    else
        snprintf(where, sizeof where, "%s:%d: coloc.members[%d]", p->file,
                 p->line, p->member);
    int k = mdl_measured_find(m, p->model);
    if (k < 0)
        return ut_errf(err, "%s.model: expected one of the measured data's "
                       "models (%s), got \"%s\"", where,
                       mdl_measured_names(m, names, sizeof names), p->model);
    if (p->batch < 1 || p->batch > MDL_MAX_BATCH)
        return ut_errf(err, "%s.batch: expected 1..%d, got %d", where,
                       MDL_MAX_BATCH, p->batch);
    if (!(p->pct > 0 && p->pct <= 100))
        return ut_errf(err, "%s.active_thread_pct: expected a percentage in "
                       "(0, 100], got %g", where, p->pct);
    if (!(p->mean_ms > 0) || !isfinite(p->mean_ms))
        return ut_errf(err, "%s.mean_ms: expected a positive number, got %g",
                       where, p->mean_ms);
    return k;
}

/* The runs term's k (model.h) from the runs of three or more of pts, by
 * least squares, over the correction x built so far (its k 0). */
static int fit_runs(const mdl_measured *m, const mdl_mps_point *pts,
                    size_t n, mdl_mps *x, ut_err *err)
{
    double num = 0, den = 0;
    x->runs_k = 0;
    for (size_t i = 0; i < n; i++) {
        if (pts[i].member != 0 || pts[i].run_n < 3)
            continue;
        const mdl_mps_point *r = &pts[i];
        size_t k = (size_t)r->run_n;
        mdl_place w[MDL_MAX_COLOC];
        double lat[MDL_MAX_COLOC];
        for (size_t s = 0; s < k; s++) {
            if (k > MDL_MAX_COLOC || i + s >= n || r[s].line != r->line ||
                r[s].member != (int)s)
                return ut_errf(err, "%s:%d: coloc.members: expected %zu "
                               "members, got fewer", r->file, r->line, k);
            int mi = point_check(m, &r[s], err);
            if (mi < 0)
                return -1;
            if (!x->models[mi].has)
                return ut_errf(err, "%s:%d: coloc.members[%zu].model: "
                               "expected a model with MPS solo points, got "
                               "\"%s\" with none", r->file, r->line, s,
                               r[s].model);
            if (!(r[s].alone_ms > 0) || !isfinite(r[s].alone_ms))
                return ut_errf(err, "%s:%d: coloc.members[%zu].alone_ms: "
                               "expected the member's window alone (a run "
                               "of %zu under MPS is read for its slow-down), "
                               "got nothing", r->file, r->line, s, k);
            w[s] = (mdl_place){mi, r[s].batch, r[s].pct};
        }
        mdl_measured_colocated(m, w, k, lat);
        mdl_mps_apply(x, w, k, lat);
        for (size_t s = 0; s < k; s++) {
            double solo = mdl_measured_solo_ms(m, w[s].model, w[s].batch,
                                               w[s].share_pct) *
                          mdl_mps_solo_ratio(x, w[s].model, w[s].batch,
                                             w[s].share_pct);
            double y = (r[s].mean_ms / r[s].alone_ms) / (lat[s] / solo);
            if (!in_range(y))
                return ut_errf(err, "%s:%d: coloc.members[%zu].mean_ms: "
                               "expected a slow-down within %g to %g times "
                               "the predicted one, got %g", r->file, r->line,
                               s, MDL_MPS_RATIO_MIN, MDL_MPS_RATIO_MAX, y);
            double f = mdl_mps_runs_feature(k, w[s].batch);
            num += (y - 1) * f;
            den += f * f;
            x->nrun_points++;
        }
        i += k - 1;
    }
    x->runs_k = den > 0 ? num / den : 0;
    return 0;
}

/* The correction from the raw points (model.h, mdl_mps_derive). */
static int build(const mdl_measured *m, const mdl_mps_point *pts, size_t n,
                 mdl_mps *x, ut_err *err)
{
    memset(x, 0, sizeof *x);
    x->nmodels = m->nsolo;
    x->models = ut_xcalloc(m->nsolo ? m->nsolo : 1, sizeof *x->models);
    for (size_t i = 0; i < m->nsolo; i++)
        model_init(&x->models[i]);
    /* solo points first: a pair's ratio needs its members' MPS solo */
    for (size_t i = 0; i < n; i++) {
        if (pts[i].member >= 0)
            continue;
        int k = point_check(m, &pts[i], err);
        if (k < 0)
            return -1;
        mdl_mps_model *t = &x->models[k];
        int j = pct_index(t, pts[i].pct);
        if (j < 0)
            return ut_errf(err, "%s:%d: solo.active_thread_pct: expected at "
                           "most %d distinct percentages for %s, got %g as "
                           "one more", pts[i].file, pts[i].line,
                           MDL_MPS_PCTS, pts[i].model, pts[i].pct);
        double green = mdl_measured_solo_ms(m, k, pts[i].batch, pts[i].pct);
        double r = pts[i].mean_ms / green;
        if (!in_range(r))
            return ut_errf(err, "%s:%d: solo.mean_ms: expected a latency "
                           "within %g to %g times the green-context one "
                           "(%g ms), got %g ms", pts[i].file, pts[i].line,
                           MDL_MPS_RATIO_MIN, MDL_MPS_RATIO_MAX, green,
                           pts[i].mean_ms);
        t->solo[pts[i].batch][j] = r;
        t->has = 1;
        x->nsolo_points++;
    }
    for (size_t i = 0; i < n; i++) {
        if (pts[i].member != 0 || pts[i].run_n > 2)
            continue;
        const mdl_mps_point *pp = &pts[i];
        if (i + 1 >= n || pts[i + 1].member != 1 ||
            pts[i + 1].line != pp->line)
            return ut_errf(err, "%s:%d: coloc.members: expected 2 members, "
                           "got 1", pp->file, pp->line);
        mdl_place w[2];
        for (int s = 0; s < 2; s++) {
            int k = point_check(m, &pp[s], err);
            if (k < 0)
                return -1;
            if (!x->models[k].has)
                return ut_errf(err, "%s:%d: coloc.members[%d].model: "
                               "expected a model with MPS solo points, got "
                               "\"%s\" with none", pp->file, pp->line, s,
                               pp[s].model);
            w[s] = (mdl_place){k, pp[s].batch, pp[s].pct};
        }
        double gc[2];
        mdl_measured_colocated(m, w, 2, gc);   /* green */
        for (int s = 0; s < 2; s++) {
            /* MPS slow-down / green slow-down, with the MPS solo latency
             * as the ratio times the green one: the green solo cancels */
            double r = mdl_mps_solo_ratio(x, w[s].model, w[s].batch,
                                          w[s].share_pct);
            double c = pp[s].mean_ms / (r * gc[s]);
            if (!in_range(c))
                return ut_errf(err, "%s:%d: coloc.members[%d].mean_ms: "
                               "expected a pair ratio in [%g, %g], got %g",
                               pp->file, pp->line, s, MDL_MPS_RATIO_MIN,
                               MDL_MPS_RATIO_MAX, c);
            mdl_mps_pair *p = pair_for(x, w[s].model, w[1 - s].model);
            if (curve_set(&p->c, w[s].share_pct, c) < 0)
                return ut_errf(err, "%s:%d: coloc.members[%d]."
                               "active_thread_pct: expected at most %d "
                               "percentages for %s beside %s, got more",
                               pp->file, pp->line, s, MDL_MPS_PCTS,
                               pp[s].model, pp[1 - s].model);
        }
        x->npair_points++;
        i++;
    }
    pair_means(x);
    return fit_runs(m, pts, n, x, err);
}

/* ---- the file ------------------------------------------------------------- */

/* A ratio as the shortest text that reads back to the same double, so
 * that a measured point is reproduced to the last bit the division left. */
static void put_ratio(ut_buf *b, double v)
{
    char s[40];
    for (int p = 15; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*g", p, v);
        if (strtod(s, NULL) == v)
            break;
    }
    ut_buf_printf(b, "%s", s);
}

static void put_curve(ut_buf *b, const mdl_mps_curve *c)
{
    ut_buf_printf(b, "{");
    for (size_t k = 0; k < c->n; k++) {
        ut_buf_printf(b, "%s\"%g\": ", k ? ", " : "", c->pct[k]);
        put_ratio(b, c->v[k]);
    }
    ut_buf_printf(b, "}");
}

/*
 * One line of what it is, then one line per model with MPS data:
 *   {"version": 1, "mechanism": "mps", "baseline": FILE,
 *    "solo_points": N, "pair_points": M}
 *   {"MODEL": {"solo_ratio": {"BATCH": {"PCT": r, ...}, ...},
 *              "pair_ratio": {"PARTNER": {"PCT": c, ...}, ...},
 *              "pair_ratio_mean": {"PCT": c, ...}}}
 * in the green data's model order, batches and percentages ascending.
 */
static char *text_of(const mdl_measured *m, const mdl_mps *x,
                     const char *baseline)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"version\": %d, \"mechanism\": \"mps\", "
                  "\"baseline\": ", MDL_MPS_VERSION);
    ut_buf_json_str(&b, baseline);
    ut_buf_printf(&b, ", \"solo_points\": %zu, \"pair_points\": %zu",
                  x->nsolo_points, x->npair_points);
    if (x->nrun_points) {
        ut_buf_printf(&b, ", \"run_points\": %zu, \"runs_k\": ",
                      x->nrun_points);
        put_ratio(&b, x->runs_k);
    }
    ut_buf_printf(&b, "}\n");
    for (size_t a = 0; a < x->nmodels; a++) {
        const mdl_mps_model *t = &x->models[a];
        if (!t->has)
            continue;
        ut_buf_printf(&b, "{");
        ut_buf_json_str(&b, m->solo[a].name);
        ut_buf_printf(&b, ": {\"solo_ratio\": {");
        int first = 1;
        for (int bt = 1; bt <= MDL_MAX_BATCH; bt++) {
            int any = 0;
            for (size_t k = 0; k < t->npct; k++)
                any |= !isnan(t->solo[bt][k]);
            if (!any)
                continue;
            ut_buf_printf(&b, "%s\"%d\": {", first ? "" : ", ", bt);
            first = 0;
            int f2 = 1;
            for (size_t k = 0; k < t->npct; k++) {
                if (isnan(t->solo[bt][k]))
                    continue;
                ut_buf_printf(&b, "%s\"%g\": ", f2 ? "" : ", ", t->pct[k]);
                put_ratio(&b, t->solo[bt][k]);
                f2 = 0;
            }
            ut_buf_printf(&b, "}");
        }
        ut_buf_printf(&b, "}, \"pair_ratio\": {");
        first = 1;
        for (size_t pb = 0; pb < x->nmodels; pb++)
            for (size_t i = 0; i < x->npairs; i++) {
                if (x->pairs[i].a != (int)a || x->pairs[i].b != (int)pb)
                    continue;
                ut_buf_printf(&b, "%s", first ? "" : ", ");
                ut_buf_json_str(&b, m->solo[pb].name);
                ut_buf_printf(&b, ": ");
                put_curve(&b, &x->pairs[i].c);
                first = 0;
            }
        ut_buf_printf(&b, "}, \"pair_ratio_mean\": ");
        put_curve(&b, &t->pair_mean);
        ut_buf_printf(&b, "}}\n");
    }
    return b.s;
}

int mdl_mps_derive(const mdl_measured *m, const mdl_mps_point *pts, size_t n,
                   const char *baseline, char **text, ut_err *err)
{
    mdl_mps x;
    *text = NULL;
    if (build(m, pts, n, &x, err) < 0) {
        mdl_mps_free(&x);
        return -1;
    }
    *text = text_of(m, &x, baseline);
    mdl_mps_free(&x);
    return 0;
}

/* A ratio in [MDL_MPS_RATIO_MIN, MDL_MPS_RATIO_MAX], or NAN. */
static double ratio_of(const cJSON *v)
{
    return cJSON_IsNumber(v) && in_range(v->valuedouble) ? v->valuedouble
                                                         : NAN;
}

/* {"PCT": ratio, ...} into c (or, with t, into t's solo row b). */
static int load_curve(const cJSON *o, const char *where, mdl_mps_curve *c,
                      mdl_mps_model *t, int b, ut_err *err)
{
    char d[64];
    if (!cJSON_IsObject(o) || !o->child)
        return ut_errf(err, "%s: expected an object of percentages, got %s",
                       where, cJSON_IsObject(o) ? "an empty object"
                                                : ut_json_describe(o, d,
                                                                   sizeof d));
    const cJSON *cell;
    cJSON_ArrayForEach(cell, o) {
        char *end;
        double pct = strtod(cell->string, &end);
        if (end == cell->string || *end || !(pct > 0 && pct <= 100))
            return ut_errf(err, "%s: expected percentage keys in (0, 100], "
                           "got \"%.40s\"", where, cell->string);
        double v = ratio_of(cell);
        if (isnan(v))
            return ut_errf(err, "%s.%s: expected a ratio in [%g, %g], got "
                           "%s", where, cell->string, MDL_MPS_RATIO_MIN,
                           MDL_MPS_RATIO_MAX,
                           ut_json_describe(cell, d, sizeof d));
        int j = t ? pct_index(t, pct) : curve_set(c, pct, v);
        if (j < 0)
            return ut_errf(err, "%s: expected at most %d percentages, got "
                           "more", where, MDL_MPS_PCTS);
        if (t)
            t->solo[b][j] = v;
    }
    return 0;
}

static int load_model(const cJSON *it, const char *path, int a,
                      const mdl_measured *m, mdl_mps *x, ut_err *err)
{
    char where[300], d[64], names[256];
    mdl_mps_model *t = &x->models[a];
    const cJSON *sr = cJSON_GetObjectItemCaseSensitive(it, "solo_ratio");
    snprintf(where, sizeof where, "%s: %s.solo_ratio", path, it->string);
    if (!cJSON_IsObject(sr) || !sr->child)
        return ut_errf(err, "%s: expected an object of batches, got %s",
                       where, ut_json_describe(sr, d, sizeof d));
    const cJSON *row;
    cJSON_ArrayForEach(row, sr) {
        char *end, w2[340];
        long b = strtol(row->string, &end, 10);
        if (!row->string[0] || *end || b < 1 || b > MDL_MAX_BATCH)
            return ut_errf(err, "%s: expected batch keys 1..%d, got \"%.40s\"",
                           where, MDL_MAX_BATCH, row->string);
        snprintf(w2, sizeof w2, "%s.%ld", where, b);
        if (load_curve(row, w2, NULL, t, (int)b, err) < 0)
            return -1;
    }
    t->has = 1;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(it, "pair_ratio");
    if (pr) {
        snprintf(where, sizeof where, "%s: %s.pair_ratio", path, it->string);
        if (!cJSON_IsObject(pr))
            return ut_errf(err, "%s: expected an object of partners, got %s",
                           where, ut_json_describe(pr, d, sizeof d));
        const cJSON *c;
        cJSON_ArrayForEach(c, pr) {
            int b = mdl_measured_find(m, c->string);
            if (b < 0)
                return ut_errf(err, "%s: expected partners among the "
                               "measured data's models (%s), got \"%.40s\"",
                               where, mdl_measured_names(m, names,
                                                         sizeof names),
                               c->string);
            char w2[340];
            snprintf(w2, sizeof w2, "%s.%s", where, c->string);
            if (load_curve(c, w2, &pair_for(x, a, b)->c, NULL, 0, err) < 0)
                return -1;
        }
    }
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(it, "pair_ratio_mean");
    snprintf(where, sizeof where, "%s: %s.pair_ratio_mean", path, it->string);
    if (pm && !(cJSON_IsObject(pm) && !pm->child) &&
        load_curve(pm, where, &t->pair_mean, NULL, 0, err) < 0)
        return -1;
    return 0;
}

int mdl_mps_load(const char *path, const mdl_measured *m, mdl_mps *out,
                 ut_err *err)
{
    memset(out, 0, sizeof *out);
    cJSON *root = ut_jsonl_merge_load(path, err);
    if (!root)
        return -1;
    out->nmodels = m->nsolo;
    out->models = ut_xcalloc(m->nsolo ? m->nsolo : 1, sizeof *out->models);
    for (size_t i = 0; i < m->nsolo; i++)
        model_init(&out->models[i]);
    int rc = 0, version = 0;
    char d[64], names[256];
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (rc < 0)
            break;
        if (!strcmp(it->string, "version")) {
            if (!cJSON_IsNumber(it) || it->valuedouble != MDL_MPS_VERSION)
                rc = ut_errf(err, "%s: version: expected %d, got %s", path,
                             MDL_MPS_VERSION,
                             ut_json_describe(it, d, sizeof d));
            version = 1;
            continue;
        }
        if (!strcmp(it->string, "mechanism")) {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, "mps"))
                rc = ut_errf(err, "%s: mechanism: expected \"mps\", got %s",
                             path, ut_json_describe(it, d, sizeof d));
            continue;
        }
        if (!strcmp(it->string, "runs_k")) {
            if (!cJSON_IsNumber(it) || !(fabs(it->valuedouble) < 100))
                rc = ut_errf(err, "%s: runs_k: expected a number within "
                             "(-100, 100), got %s", path,
                             ut_json_describe(it, d, sizeof d));
            else
                out->runs_k = it->valuedouble;
            continue;
        }
        if (!cJSON_IsObject(it)) {
            if (cJSON_IsNumber(it) && !strcmp(it->string, "run_points") &&
                it->valuedouble >= 0 && it->valuedouble < 1e15) {
                out->nrun_points = (size_t)it->valuedouble;
                continue;
            }
            if (cJSON_IsNumber(it) && it->valuedouble >= 0 &&
                it->valuedouble < 1e15 &&
                (!strcmp(it->string, "solo_points") ||
                 !strcmp(it->string, "pair_points"))) {
                *(it->string[0] == 's' ? &out->nsolo_points
                                       : &out->npair_points) =
                    (size_t)it->valuedouble;
            }
            continue;           /* baseline, and members to come */
        }
        int a = mdl_measured_find(m, it->string);
        if (a < 0) {
            rc = ut_errf(err, "%s: %s: expected one of the measured data's "
                         "models (%s), got \"%.40s\"", path, it->string,
                         mdl_measured_names(m, names, sizeof names),
                         it->string);
            break;
        }
        rc = load_model(it, path, a, m, out, err);
    }
    if (rc == 0 && !version)
        rc = ut_errf(err, "%s: version: expected %d, got nothing (missing "
                     "field)", path, MDL_MPS_VERSION);
    cJSON_Delete(root);
    if (rc < 0) {
        mdl_mps_free(out);
        return -1;
    }
    return 0;
}
