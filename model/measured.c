/*
 * measured.c - the measured co-location data (solo tables and pairs) and
 * the model's error against it.
 */
#include "model/model.h"
#include "model/servdist_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A measured latency, ms: from 1 ns (nothing a GPU does takes less) to
 * about 11.6 days, so that every ratio and interpolation of two of them
 * stays finite and every time made from one fits int64 nanoseconds. */
#define MEAS_MIN_MS 1e-6
#define MEAS_MAX_MS 1e9

void mdl_measured_free(mdl_measured *m)
{
    free(m->solo);
    free(m->pairs);
    free(m->grids);
    memset(m, 0, sizeof *m);
}

static int share_index(mdl_solo_table *t, double share, const char *where,
                       ut_err *err)
{
    for (size_t i = 0; i < t->nshares; i++)
        if (t->share_pct[i] == share)
            return (int)i;
    if (t->nshares == MDL_MEAS_SHARES)
        return ut_errf(err, "%s: expected at most %d distinct shares, got "
                       "more", where, MDL_MEAS_SHARES);
    /* insert keeping the shares ascending; move the columns along */
    size_t k = t->nshares;
    while (k > 0 && t->share_pct[k - 1] > share)
        k--;
    for (size_t j = t->nshares; j > k; j--) {
        t->share_pct[j] = t->share_pct[j - 1];
        for (int b = 0; b <= MDL_MAX_BATCH; b++) {
            t->lat_ms[b][j] = t->lat_ms[b][j - 1];
            t->l2_pct[b][j] = t->l2_pct[b][j - 1];
            t->dram_pct[b][j] = t->dram_pct[b][j - 1];
        }
    }
    t->share_pct[k] = share;
    for (int b = 0; b <= MDL_MAX_BATCH; b++)
        t->lat_ms[b][k] = t->l2_pct[b][k] = t->dram_pct[b][k] = NAN;
    t->nshares++;
    return (int)k;
}

/*
 * table: {"batch": {"share": value}} into one of the solo matrices. Every
 * level must be an object (an array has members without names, which once
 * reached strtol as NULL); latencies are positive, utilisations percent in
 * [0, 100], all finite: the back ends turn them into integer times.
 */
static int load_table(mdl_solo_table *t, const cJSON *obj, const char *key,
                      const char *where, int which, ut_err *err)
{
    const cJSON *tab = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[64];
    if (!tab)
        return which == 0 ? ut_errf(err, "%s.%s: expected an object, got "
                                    "nothing (missing field)", where, key)
                          : 0;
    if (!cJSON_IsObject(tab) || (which == 0 && !tab->child))
        return ut_errf(err, "%s.%s: expected an object of batches, got %s",
                       where, key,
                       cJSON_IsObject(tab) ? "an empty object"
                                           : ut_json_describe(tab, d,
                                                              sizeof d));
    const cJSON *row, *cell;
    cJSON_ArrayForEach(row, tab) {
        char *end;
        long b = strtol(row->string, &end, 10);
        if (!row->string[0] || *end || b < 1 || b > MDL_MAX_BATCH)
            return ut_errf(err, "%s.%s: expected batch keys 1..%d, got "
                           "\"%.40s\"", where, key, MDL_MAX_BATCH,
                           row->string);
        if (!cJSON_IsObject(row) || !row->child)
            return ut_errf(err, "%s.%s.%ld: expected an object of shares, got "
                           "%s", where, key, b,
                           cJSON_IsObject(row) ? "an empty object"
                                               : ut_json_describe(row, d,
                                                                  sizeof d));
        cJSON_ArrayForEach(cell, row) {
            double s = strtod(cell->string, &end);
            if (end == cell->string || *end || !(s > 0 && s <= 100))
                return ut_errf(err, "%s.%s.%ld: expected share keys in "
                               "(0, 100], got \"%.40s\"", where, key, b,
                               cell->string);
            double v = cJSON_IsNumber(cell) ? cell->valuedouble : NAN;
            if (which == 0 ? !(v >= MEAS_MIN_MS && v <= MEAS_MAX_MS)
                           : !(v >= 0 && v <= 100))
                return ut_errf(err, "%s.%s.%ld.%s: expected %s, got %s", where,
                               key, b, cell->string,
                               which == 0 ? "a latency in [1e-06, 1e+09] ms"
                                          : "a percentage in [0, 100]",
                               ut_json_describe(cell, d, sizeof d));
            int j = share_index(t, s, where, err);
            if (j < 0)
                return -1;
            double *dst = which == 0   ? &t->lat_ms[b][j]
                          : which == 1 ? &t->l2_pct[b][j]
                                       : &t->dram_pct[b][j];
            *dst = v;
        }
    }
    return 0;
}

static int load_rows(const cJSON *arr, const char *where, mdl_measured *m,
                     int is_std, ut_err *err)
{
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (!is_std) {
        m->pairs = ut_xcalloc(n, sizeof *m->pairs);
        m->npairs = n;
    } else if (n != m->npairs) {
        return ut_errf(err, "%s.std: expected %zu rows like latency, got %zu",
                       where, m->npairs, n);
    }
    size_t i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, arr) {
        const char *k = is_std ? "std" : "latency";
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != 7)
            return ut_errf(err, "%s.%s[%zu]: expected [model1, model2, batch1,"
                           " batch2, share1, value1, value2]", where, k, i);
        const cJSON *e[7];
        for (int j = 0; j < 7; j++)
            e[j] = cJSON_GetArrayItem(row, j);
        for (int j = 0; j < 2; j++)
            if (!cJSON_IsString(e[j]) || !e[j]->valuestring[0] ||
                strlen(e[j]->valuestring) >= MDL_NAME_MAX) {
                char d[64];
                return ut_errf(err, "%s.%s[%zu][%d]: expected a model name of "
                               "1..%d characters, got %s", where, k, i, j,
                               MDL_NAME_MAX - 1,
                               ut_json_describe(e[j], d, sizeof d));
            }
        for (int j = 2; j < 7; j++)
            if (!cJSON_IsNumber(e[j]) || !(e[j]->valuedouble >= 0) ||
                !isfinite(e[j]->valuedouble)) {
                char d[64];
                return ut_errf(err, "%s.%s[%zu][%d]: expected a non-negative "
                               "number, got %s", where, k, i, j,
                               ut_json_describe(e[j], d, sizeof d));
            }
        mdl_pair *p = &m->pairs[i];
        if (!is_std) {
            /* batches are checked as doubles before they become ints:
             * a cast of 1e10 to int is undefined */
            for (int j = 2; j < 4; j++) {
                double b = e[j]->valuedouble;
                if (b != floor(b) || b < 1 || b > MDL_MAX_BATCH)
                    return ut_errf(err, "%s.latency[%zu][%d]: expected a batch"
                                   " in 1..%d, got %g", where, i, j,
                                   MDL_MAX_BATCH, b);
            }
            snprintf(p->a, sizeof p->a, "%s", e[0]->valuestring);
            snprintf(p->b, sizeof p->b, "%s", e[1]->valuestring);
            p->batch_a = (int)e[2]->valuedouble;
            p->batch_b = (int)e[3]->valuedouble;
            p->share_a_pct = e[4]->valuedouble;
            p->share_b_pct = 100 - p->share_a_pct;
            p->lat_a_ms = e[5]->valuedouble;
            p->lat_b_ms = e[6]->valuedouble;
            p->std_a_ms = p->std_b_ms = NAN;
            if (!(p->share_a_pct > 0) || !(p->share_a_pct < 100) ||
                !(p->lat_a_ms >= MEAS_MIN_MS) || !(p->lat_a_ms <= MEAS_MAX_MS)
                || !(p->lat_b_ms >= MEAS_MIN_MS) ||
                !(p->lat_b_ms <= MEAS_MAX_MS))
                return ut_errf(err, "%s.latency[%zu]: expected a share in "
                               "(0, 100) and latencies in [1e-06, 1e+09] ms, "
                               "got %g %%, %g ms and %g ms", where, i,
                               p->share_a_pct, p->lat_a_ms, p->lat_b_ms);
        } else {
            p->std_a_ms = e[5]->valuedouble;
            p->std_b_ms = e[6]->valuedouble;
        }
        i++;
    }
    return 0;
}

static size_t axis_add(double *ax, size_t *n, double v)
{
    size_t k = 0;
    while (k < *n && ax[k] < v)
        k++;
    if (k < *n && ax[k] == v)
        return k;
    if (*n == MDL_GRID_MAX)
        return (size_t)-1;
    memmove(ax + k + 1, ax + k, (*n - k) * sizeof *ax);
    ax[k] = v;
    (*n)++;
    return k;
}

static size_t axis_find(const double *ax, size_t n, double v)
{
    for (size_t k = 0; k < n; k++)
        if (ax[k] == v)
            return k;
    return (size_t)-1;
}

static mdl_pair_grid *grid_for(mdl_measured *m, int a, int b)
{
    for (size_t g = 0; g < m->ngrids; g++)
        if (m->grids[g].a == a && m->grids[g].b == b)
            return &m->grids[g];
    m->grids = ut_xrealloc(m->grids, (m->ngrids + 1) * sizeof *m->grids);
    mdl_pair_grid *g = &m->grids[m->ngrids++];
    memset(g, 0, sizeof *g);
    g->a = a;
    g->b = b;
    return g;
}

/*
 * Builds one grid per ordered model pair from the pair rows. Two passes:
 * first the axes (the distinct batches and shares measured), then the
 * slow-downs, each measured latency over the solo latency at the same
 * point (mdl_measured_solo_ms, exact at measured points). Called at the end
 * of mdl_measured_load; returns -1 if a pair has
 * more than MDL_GRID_MAX distinct values on an axis.
 */
static int build_grids(mdl_measured *m, ut_err *err)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < m->npairs; i++) {
            const mdl_pair *p = &m->pairs[i];
            int ia = mdl_measured_find(m, p->a), ib = mdl_measured_find(m, p->b);
            for (int side = 0; side < 2; side++) {
                int x = side ? ib : ia, y = side ? ia : ib;
                double bx = side ? p->batch_b : p->batch_a;
                double by = side ? p->batch_a : p->batch_b;
                double rx = side ? p->share_b_pct : p->share_a_pct;
                double lat = side ? p->lat_b_ms : p->lat_a_ms;
                mdl_pair_grid *g = grid_for(m, x, y);
                if (pass == 0) {
                    if (axis_add(g->ba, &g->nba, bx) == (size_t)-1 ||
                        axis_add(g->bb, &g->nbb, by) == (size_t)-1 ||
                        axis_add(g->r, &g->nr, rx) == (size_t)-1)
                        return ut_errf(err, "interference.latency: pair %s/%s:"
                                       " expected at most %d distinct batches "
                                       "and shares", m->solo[x].name,
                                       m->solo[y].name, MDL_GRID_MAX);
                    continue;
                }
                if (i == 0 && side == 0)
                    for (size_t q = 0; q < m->ngrids; q++)
                        for (size_t u = 0; u < MDL_GRID_MAX; u++)
                            for (size_t v = 0; v < MDL_GRID_MAX; v++)
                                for (size_t w = 0; w < MDL_GRID_MAX; w++)
                                    m->grids[q].s[u][v][w] = NAN;
                size_t u = axis_find(g->ba, g->nba, bx),
                       v = axis_find(g->bb, g->nbb, by),
                       w = axis_find(g->r, g->nr, rx);
                /* the slow-down as if the partner had all the rest of
                 * the GPU, the convention of mdl_measured_colocated, which
                 * weighs it back by the partner's share: a pair measured
                 * with the partner on less than the rest (an H100 capture)
                 * is then reproduced exactly */
                double ry = side ? p->share_a_pct : p->share_b_pct;
                double rest = 100 - rx;
                double sd = lat / mdl_measured_solo_ms(m, x, bx, rx);
                double sw = ry > 0 && ry < rest ? 1 + (sd - 1) * rest / ry
                                                : sd;
                if (!isfinite(sw))
                    return ut_errf(err, "interference.latency[%zu]: pair "
                                   "%s/%s: expected a finite slow-down, got "
                                   "%g (partner share %g %%)", i,
                                   m->solo[x].name, m->solo[y].name, sw, ry);
                g->s[u][v][w] = sw;
            }
        }
    return 0;
}

int mdl_measured_load(const char *path, mdl_measured *m, ut_err *err)
{
    memset(m, 0, sizeof *m);
    cJSON *root = ut_jsonl_merge_load(path, err);
    if (!root)
        return -1;
    char where[256];
    size_t n = (size_t)cJSON_GetArraySize(root);
    m->solo = ut_xcalloc(n, sizeof *m->solo);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        if (!strcmp(it->string, "interference")) {
            snprintf(where, sizeof where, "%s: interference", path);
            const cJSON *lat = cJSON_GetObjectItemCaseSensitive(it, "latency");
            const cJSON *sd = cJSON_GetObjectItemCaseSensitive(it, "std");
            if (!cJSON_IsArray(lat)) {
                ut_errf(err, "%s.latency: expected an array of pairs, got "
                        "nothing", where);
                goto fail;
            }
            if (load_rows(lat, where, m, 0, err) < 0)
                goto fail;
            if (cJSON_IsArray(sd) && load_rows(sd, where, m, 1, err) < 0)
                goto fail;
            const cJSON *sb = cJSON_GetObjectItemCaseSensitive(it,
                                                               "share_b_pct");
            if (sb) {
                size_t k = 0;
                const cJSON *v;
                if (!cJSON_IsArray(sb) ||
                    (size_t)cJSON_GetArraySize(sb) != m->npairs) {
                    ut_errf(err, "%s.share_b_pct: expected %zu numbers like "
                            "latency", where, m->npairs);
                    goto fail;
                }
                cJSON_ArrayForEach(v, sb) {
                    mdl_pair *q = &m->pairs[k];
                    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) ||
                        v->valuedouble + q->share_a_pct > 100 + 1e-9) {
                        ut_errf(err, "%s.share_b_pct[%zu]: expected a share "
                                "in (0, %g], got %s", where, k,
                                100 - q->share_a_pct,
                                cJSON_IsNumber(v) ? "a number out of range"
                                                  : "no number");
                        goto fail;
                    }
                    q->share_b_pct = v->valuedouble;
                    k++;
                }
            }
            continue;
        }
        mdl_solo_table *t = &m->solo[m->nsolo++];
        snprintf(where, sizeof where, "%s: %s", path, it->string);
        if (!it->string[0] || strlen(it->string) >= MDL_NAME_MAX) {
            ut_errf(err, "%s: expected a model name of 1..%d characters, got "
                    "\"%.40s\"", where, MDL_NAME_MAX - 1, it->string);
            goto fail;
        }
        strcpy(t->name, it->string);
        for (int b = 0; b <= MDL_MAX_BATCH; b++)
            for (int j = 0; j < MDL_MEAS_SHARES; j++)
                t->lat_ms[b][j] = t->l2_pct[b][j] = t->dram_pct[b][j] = NAN;
        if (load_table(t, it, "latency", where, 0, err) < 0 ||
            load_table(t, it, "l2cache", where, 1, err) < 0 ||
            load_table(t, it, "dram", where, 2, err) < 0 ||
            mdl_sd_load_tables(t, it, where, err) < 0)
            goto fail;
    }
    /* the pair rows must name models that have solo tables */
    for (size_t i = 0; i < m->npairs; i++) {
        const char *names[2] = {m->pairs[i].a, m->pairs[i].b};
        for (int k = 0; k < 2; k++) {
            size_t j = 0;
            while (j < m->nsolo && strcmp(m->solo[j].name, names[k]))
                j++;
            if (j == m->nsolo) {
                ut_errf(err, "%s: interference.latency[%zu]: expected a model "
                        "with a solo table, got \"%s\"", path, i, names[k]);
                goto fail;
            }
        }
    }
    if (build_grids(m, err) < 0) {
        ut_errprefix(err, "%s", path);
        goto fail;
    }
    mdl_sd_pair_cvs(m);
    /* the learned predictor for what was not measured; data it cannot be
     * fitted on (no utilisation) keeps the interpolation alone */
    ut_err ferr;
    m->has_interf = mdl_interf_fit(m, NULL, MDL_INTERF_LEARNED, &m->interf,
                                   &ferr) == 0;
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    mdl_measured_free(m);
    return -1;
}

int mdl_measured_subset(const mdl_measured *m, const unsigned char *keep,
                        mdl_measured *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    out->nsolo = m->nsolo;
    out->solo = ut_xmalloc((m->nsolo + 1) * sizeof *out->solo);
    memcpy(out->solo, m->solo, m->nsolo * sizeof *out->solo);
    out->pairs = ut_xmalloc((m->npairs + 1) * sizeof *out->pairs);
    for (size_t i = 0; i < m->npairs; i++)
        if (keep[i])
            out->pairs[out->npairs++] = m->pairs[i];
    if (build_grids(out, err) < 0) {
        mdl_measured_free(out);
        return -1;
    }
    ut_err ferr;
    out->has_interf = mdl_interf_fit(out, NULL, MDL_INTERF_LEARNED,
                                     &out->interf, &ferr) == 0;
    return 0;
}

static const char *solo_name(const void *m, size_t k)
{
    return ((const mdl_measured *)m)->solo[k].name;
}

const char *mdl_measured_names(const mdl_measured *m, char *out, size_t n)
{
    return ut_names(out, n, solo_name, m, m->nsolo);
}
