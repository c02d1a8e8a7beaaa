/*
 * profile.c - reading profiles in the authors' JSON-lines format and in the
 * project's own format, and writing the project's format.
 *
 * Both readers fill the same mdl_profile, so the fit never knows where its
 * numbers came from. Messages name the file and the field path, e.g.
 *   profile.json: models.vgg19.solo[3].latency_ms: expected a positive
 *   number, got -1
 */
#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_GRID 3
static const double auth_batch[AUTH_GRID] = {1, 16, 32};
static const double auth_share[AUTH_GRID] = {10, 50, 100};

void mdl_profile_free(mdl_profile *p)
{
    for (size_t i = 0; i < p->nmodels; i++) {
        free(p->models[i].grid);
        free(p->models[i].l2);
    }
    free(p->models);
    memset(p, 0, sizeof *p);
}

static int copy_name(char *dst, const char *src, const char *where,
                     ut_err *err)
{
    size_t n = strlen(src);
    if (n == 0 || n >= MDL_NAME_MAX)
        return ut_errf(err, "%s: expected a name of 1..%d characters, got "
                       "\"%.40s\"", where, MDL_NAME_MAX - 1, src);
    memcpy(dst, src, n + 1);
    return 0;
}

/* The next model of p, named by the member it (an object) of either
 * format; NULL with err where it is not an object or its name does not
 * fit. */
static mdl_model_profile *add_model(mdl_profile *p, const cJSON *it,
                                    const char *where, ut_err *err)
{
    mdl_model_profile *m = &p->models[p->nmodels++];
    if (!cJSON_IsObject(it)) {
        ut_errf(err, "%s: expected an object, got something else", where);
        return NULL;
    }
    if (copy_name(m->name, it->string, where, err) < 0)
        return NULL;
    return m;
}

/* A 3x3 matrix of numbers, [batch index][share index]. */
static int auth_matrix(const cJSON *obj, const char *key, const char *where,
                       double out[AUTH_GRID][AUTH_GRID], ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != AUTH_GRID) {
        char d[64];
        return ut_errf(err, "%s.%s: expected a 3x3 array of numbers, got %s",
                       where, key, ut_json_describe(v, d, sizeof d));
    }
    for (int i = 0; i < AUTH_GRID; i++) {
        char w[160];
        snprintf(w, sizeof w, "%s.%s", where, key);
        const cJSON *row = cJSON_GetArrayItem(v, i);
        if (!cJSON_IsArray(row)) {
            char d[64];
            return ut_errf(err, "%s[%d]: expected an array of 3 numbers, "
                           "got %s", w, i, ut_json_describe(row, d, sizeof d));
        }
        if (cJSON_GetArraySize(row) != AUTH_GRID)
            return ut_errf(err, "%s[%d]: expected an array of 3 numbers, got "
                           "%d elements", w, i, cJSON_GetArraySize(row));
        for (int j = 0; j < AUTH_GRID; j++) {
            const cJSON *e = cJSON_GetArrayItem(row, j);
            if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) ||
                e->valuedouble <= 0) {
                char d[64];
                return ut_errf(err, "%s[%d][%d]: expected a positive number, "
                               "got %s", w, i, j,
                               ut_json_describe(e, d, sizeof d));
            }
            out[i][j] = e->valuedouble;
        }
    }
    return 0;
}

static int load_copies(mdl_profile *p, const cJSON *hw, const char *where,
                       const char *kp, const char *kf, const char *ki,
                       ut_err *err)
{
    size_t np, nf, ni;
    if (ut_json_numarr(hw, kp, where, NULL, 0, &np, err) < 0 ||
        ut_json_numarr(hw, kf, where, NULL, 0, &nf, err) < 0 ||
        ut_json_numarr(hw, ki, where, NULL, 0, &ni, err) < 0)
        return -1;
    if (np != nf || np != ni)
        return ut_errf(err, "%s: expected %s, %s and %s of equal length, got "
                       "%zu, %zu and %zu", where, kp, kf, ki, np, nf, ni);
    if (np < 2 || np > MDL_MAX_COPIES)
        return ut_errf(err, "%s.%s: expected 2..%d runs, got %zu", where, kp,
                       MDL_MAX_COPIES, np);
    p->ncopies = np;
    ut_json_numarr(hw, kp, where, p->copies_power_w, np, NULL, err);
    ut_json_numarr(hw, kf, where, p->copies_clock_mhz, np, NULL, err);
    ut_json_numarr(hw, ki, where, p->copies_idle_ms, np, NULL, err);
    for (size_t i = 0; i < np; i++)
        if (!(p->copies_power_w[i] > 0) || !(p->copies_clock_mhz[i] > 0) ||
            p->copies_idle_ms[i] < 0)
            return ut_errf(err, "%s: run %zu: expected positive power and "
                           "clock and non-negative idle time, got %g W, %g "
                           "MHz, %g ms", where, i + 1, p->copies_power_w[i],
                           p->copies_clock_mhz[i], p->copies_idle_ms[i]);
    return 0;
}

static int load_authors(const char *path, const cJSON *root, mdl_profile *p,
                        ut_err *err)
{
    char where[256];
    const cJSON *hw = cJSON_GetObjectItemCaseSensitive(root, "hardware");
    if (!cJSON_IsObject(hw))
        return ut_errf(err, "%s: hardware: expected an object, got nothing "
                       "(missing field)", path);
    snprintf(where, sizeof where, "%s: hardware", path);
    strcpy(p->gpu, "V100");   /* the authors' format only exists for it */
    if (ut_json_pos(hw, "maxGPUfrequency", where, &p->max_clock_mhz, err) ||
        ut_json_pos(hw, "maxGPUpower", where, &p->power_cap_w, err) ||
        ut_json_pos(hw, "idlepower", where, &p->idle_power_w, err) ||
        ut_json_pos(hw, "unit", where, &p->share_unit_pct, err) ||
        ut_json_pos(hw, "bandwidth", where, &p->pcie_bytes_per_ms, err))
        return -1;
    if (load_copies(p, hw, where, "power", "frequency", "idletime", err) < 0)
        return -1;

    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
        if (strcmp(it->string, "hardware") != 0)
            n++;
    if (n == 0)
        return ut_errf(err, "%s: expected at least one model, got none", path);
    p->models = ut_xcalloc(n, sizeof *p->models);
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "hardware") == 0)
            continue;
        snprintf(where, sizeof where, "%s: %s", path, it->string);
        mdl_model_profile *m = add_model(p, it, where, err);
        if (!m)
            return -1;
        long kernels;
        double lat[3][3], pw[3][3], fr[3][3], l2[3];
        if (ut_json_int(it, "kernel", where, 1, 1000000, &kernels, err) ||
            ut_json_pos(it, "inputdata", where, &m->input_bytes, err) ||
            ut_json_nonneg(it, "outputdata", where, &m->output_bytes, err) ||
            ut_json_nonneg(it, "idletime_1", where, &m->idle_ms, err) ||
            auth_matrix(it, "gpulatency", where, lat, err) ||
            auth_matrix(it, "power", where, pw, err) ||
            auth_matrix(it, "frequency", where, fr, err) ||
            ut_json_numarr(it, "l2caches", where, l2, 3, NULL, err) ||
            ut_json_pos(it, "activetime_1", where, &m->active_solo_ms, err) ||
            ut_json_pos(it, "activetime_2", where, &m->active_pair_ms, err) ||
            ut_json_pos(it, "frequency_2", where, &m->clock_pair_mhz, err) ||
            ut_json_pos(it, "l2cache", where, &m->pair_l2_util_pct, err))
            return -1;
        m->power_pair_w = NAN;
        ut_json_num(it, "power_2", where, &m->power_pair_w, NULL);
        m->kernels = (int)kernels;
        m->ngrid = AUTH_GRID * AUTH_GRID;
        m->grid = ut_xcalloc(m->ngrid, sizeof *m->grid);
        for (int i = 0; i < AUTH_GRID; i++)
            for (int j = 0; j < AUTH_GRID; j++) {
                mdl_grid_point *g = &m->grid[i * AUTH_GRID + j];
                g->batch = auth_batch[i];
                g->share_pct = auth_share[j];
                g->latency_ms = lat[i][j];
                g->power_w = pw[i][j];
                g->clock_mhz = fr[i][j];
            }
        /* l2caches holds the diagonal (1,10), (16,50), (32,100); a
         * utilisation is what the project's format checks it is, so a
         * profile converted from this one loads again */
        for (int i = 0; i < 3; i++)
            if (!(l2[i] >= 0) || !isfinite(l2[i]))
                return ut_errf(err, "%s.l2caches[%d]: expected a non-negative "
                               "number, got %g", where, i, l2[i]);
        m->nl2 = 3;
        m->l2 = ut_xcalloc(3, sizeof *m->l2);
        for (int i = 0; i < 3; i++) {
            m->l2[i].batch = auth_batch[i];
            m->l2[i].share_pct = auth_share[i];
            m->l2[i].util_pct = l2[i];
        }
    }
    return 0;
}

static int load_points(const cJSON *mobj, const char *key, const char *where,
                       int is_l2, mdl_model_profile *m, ut_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(mobj, key);
    size_t need = is_l2 ? 2 : 5;
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) < need) {
        char d[64];
        if (cJSON_IsArray(arr))
            snprintf(d, sizeof d, "%d points", cJSON_GetArraySize(arr));
        else
            ut_json_describe(arr, d, sizeof d);
        return ut_errf(err, "%s.%s: expected an array of at least %zu points,"
                       " got %s", where, key, need, d);
    }
    size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
    if (is_l2) {
        m->l2 = ut_xcalloc(n, sizeof *m->l2);
        m->nl2 = n;
    } else {
        m->grid = ut_xcalloc(n, sizeof *m->grid);
        m->ngrid = n;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        char w[256];
        snprintf(w, sizeof w, "%s.%s[%zu]", where, key, i);
        if (!cJSON_IsObject(e))
            return ut_errf(err, "%s: expected an object, got something else",
                           w);
        if (is_l2) {
            mdl_l2_point *q = &m->l2[i];
            if (ut_json_pos(e, "batch", w, &q->batch, err) ||
                ut_json_pos(e, "share_pct", w, &q->share_pct, err) ||
                ut_json_nonneg(e, "util_pct", w, &q->util_pct, err))
                return -1;
        } else {
            mdl_grid_point *g = &m->grid[i];
            if (ut_json_pos(e, "batch", w, &g->batch, err) ||
                ut_json_pos(e, "share_pct", w, &g->share_pct, err) ||
                ut_json_pos(e, "latency_ms", w, &g->latency_ms, err) ||
                ut_json_pos(e, "power_w", w, &g->power_w, err) ||
                ut_json_pos(e, "clock_mhz", w, &g->clock_mhz, err))
                return -1;
        }
        i++;
    }
    return 0;
}

int mdl_gpu_block_parse(const cJSON *root, const char *path,
                        int price_required, mdl_gpu_block *g,
                        const cJSON **gpu_out, ut_err *err)
{
    memset(g, 0, sizeof *g);
    long version;
    if (ut_json_int(root, "version", path, 1, 1, &version, err) < 0)
        return -1;
    const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(root, "gpu");
    if (!cJSON_IsObject(gpu))
        return ut_errf(err, "%s: gpu: expected an object, got nothing "
                       "(missing field)", path);
    *gpu_out = gpu;
    char where[256], wn[300];
    snprintf(where, sizeof where, "%s: gpu", path);
    const char *name;
    snprintf(wn, sizeof wn, "%s.name", where);
    if (ut_json_str(gpu, "name", where, &name, err) ||
        copy_name(g->name, name, wn, err) ||
        ut_json_pos(gpu, "max_clock_mhz", where, &g->max_clock_mhz, err) ||
        ut_json_pos(gpu, "power_cap_w", where, &g->power_cap_w, err) ||
        ut_json_pos(gpu, "idle_power_w", where, &g->idle_power_w, err) ||
        ut_json_pos(gpu, "share_unit_pct", where, &g->share_unit_pct, err) ||
        ut_json_pos(gpu, "pcie_bytes_per_ms", where, &g->pcie_bytes_per_ms,
                    err))
        return -1;
    if ((price_required ||
         cJSON_GetObjectItemCaseSensitive(gpu, "price_per_hour")) &&
        ut_json_nonneg(gpu, "price_per_hour", where, &g->price_per_hour, err))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(gpu, "sm_count")) {
        long sm;
        if (ut_json_int(gpu, "sm_count", where, 1, 100000, &sm, err))
            return -1;
        g->sm_count = (int)sm;
    }
    if (cJSON_GetObjectItemCaseSensitive(gpu, "colocated_pct")) {
        if (ut_json_pos(gpu, "colocated_pct", where, &g->colocated_pct, err))
            return -1;
        if (g->colocated_pct > 100 || g->colocated_pct < g->share_unit_pct)
            return ut_errf(err, "%s.colocated_pct: expected a share between "
                           "share_unit_pct and 100, got %g", where,
                           g->colocated_pct);
    }
    return 0;
}

static int load_ours(const char *path, const cJSON *root, mdl_profile *p,
                     ut_err *err)
{
    char where[256];
    const cJSON *gpu;
    mdl_gpu_block g;
    if (mdl_gpu_block_parse(root, path, 0, &g, &gpu, err) < 0)
        return -1;
    snprintf(where, sizeof where, "%s: gpu", path);
    memcpy(p->gpu, g.name, sizeof p->gpu);
    MDL_COPY_GPU_FIELDS(p, &g);
    const cJSON *cp = cJSON_GetObjectItemCaseSensitive(gpu, "copies");
    if (!cJSON_IsObject(cp))
        return ut_errf(err, "%s.copies: expected an object, got nothing "
                       "(missing field)", where);
    snprintf(where, sizeof where, "%s: gpu.copies", path);
    if (load_copies(p, cp, where, "power_w", "clock_mhz", "idle_per_kernel_ms",
                    err) < 0)
        return -1;

    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (!cJSON_IsObject(models) || !models->child)
        return ut_errf(err, "%s: models: expected an object with at least one "
                       "model, got %s", path,
                       models ? "none" : "nothing (missing field)");
    size_t n = (size_t)cJSON_GetArraySize(models);
    p->models = ut_xcalloc(n, sizeof *p->models);
    const cJSON *it;
    cJSON_ArrayForEach(it, models) {
        snprintf(where, sizeof where, "%s: models.%s", path, it->string);
        mdl_model_profile *m = add_model(p, it, where, err);
        if (!m)
            return -1;
        long kernels;
        if (ut_json_int(it, "kernels", where, 1, 1000000, &kernels, err) ||
            ut_json_pos(it, "input_bytes", where, &m->input_bytes, err) ||
            ut_json_nonneg(it, "output_bytes", where, &m->output_bytes, err) ||
            ut_json_nonneg(it, "idle_ms", where, &m->idle_ms, err) ||
            load_points(it, "solo", where, 0, m, err) ||
            load_points(it, "l2", where, 1, m, err))
            return -1;
        m->kernels = (int)kernels;
        const cJSON *pair = cJSON_GetObjectItemCaseSensitive(it, "pair");
        char pw[280];
        snprintf(pw, sizeof pw, "%s.pair", where);
        if (!cJSON_IsObject(pair))
            return ut_errf(err, "%s: expected an object, got nothing (missing "
                           "field)", pw);
        m->power_pair_w = NAN;
        if (ut_json_pos(pair, "active_solo_ms", pw, &m->active_solo_ms, err) ||
            ut_json_pos(pair, "active_pair_ms", pw, &m->active_pair_ms, err) ||
            ut_json_pos(pair, "clock_mhz", pw, &m->clock_pair_mhz, err) ||
            ut_json_pos(pair, "l2_util_pct", pw, &m->pair_l2_util_pct, err))
            return -1;
        ut_json_num(pair, "power_w", pw, &m->power_pair_w, NULL);
    }
    return 0;
}

/* Our own files are one JSON object with a "format" member; anything else
 * is read as the authors' JSON lines. */
int mdl_profile_load(const char *path, mdl_profile *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    ut_err e1;
    cJSON *root = ut_json_load(path, &e1);
    int rc;
    if (root && cJSON_GetObjectItemCaseSensitive(root, "format")) {
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
        if (cJSON_IsString(fmt) && !strcmp(fmt->valuestring,
                                           "igniter-profile")) {
            rc = load_ours(path, root, p, err);
        } else {
            char d[64];
            rc = ut_errf(err, "%s: format: expected \"igniter-profile\", got "
                         "%s", path, ut_json_describe(fmt, d, sizeof d));
        }
    } else {
        cJSON_Delete(root);
        root = ut_jsonl_merge_load(path, err);
        if (!root) {
            /* a missing file reads the same both ways: keep that message */
            return -1;
        }
        rc = load_authors(path, root, p, err);
    }
    cJSON_Delete(root);
    if (rc < 0)
        mdl_profile_free(p);
    return rc;
}

/* Names are JSON strings, escaped: a name read from a file may hold a
 * quote or a control character. */
void mdl_file_head_write(ut_buf *b, const char *format, const char *gpu,
                         double max_clock_mhz, double power_cap_w,
                         double idle_power_w)
{
    ut_buf_printf(b, "{\n  \"format\": \"%s\",\n  \"version\": 1,\n"
                  "  \"gpu\": {\n    \"name\": ", format);
    ut_buf_json_str(b, gpu);
    ut_buf_printf(b, ",\n    ");
    ut_buf_json_num(b, "max_clock_mhz", max_clock_mhz, ",\n    ");
    ut_buf_json_num(b, "power_cap_w", power_cap_w, ",\n    ");
    ut_buf_json_num(b, "idle_power_w", idle_power_w, ",\n    ");
}

void mdl_gpu_optional_write(ut_buf *b, int sm_count, double colocated_pct)
{
    if (sm_count > 0)
        ut_buf_printf(b, "\"sm_count\": %d,\n    ", sm_count);
    if (colocated_pct > 0 && colocated_pct < 100)
        ut_buf_json_num(b, "colocated_pct", colocated_pct, ",\n    ");
}

void mdl_model_head_write(ut_buf *b, const char *name, int kernels,
                          double input_bytes, double output_bytes,
                          double idle_ms)
{
    ut_buf_printf(b, "    ");
    ut_buf_json_str(b, name);
    ut_buf_printf(b, ": {\n      \"kernels\": %d,\n      ", kernels);
    ut_buf_json_num(b, "input_bytes", input_bytes, ",\n      ");
    ut_buf_json_num(b, "output_bytes", output_bytes, ",\n      ");
    ut_buf_json_num(b, "idle_ms", idle_ms, ",\n      ");
}

char *mdl_profile_to_json(const mdl_profile *p)
{
    ut_buf b = {0};
    char d[32];
    mdl_file_head_write(&b, "igniter-profile", p->gpu, p->max_clock_mhz,
                        p->power_cap_w, p->idle_power_w);
    ut_buf_json_num(&b, "share_unit_pct", p->share_unit_pct, ",\n    ");
    ut_buf_json_num(&b, "pcie_bytes_per_ms", p->pcie_bytes_per_ms,
                    ",\n    ");
    if (p->price_per_hour > 0)
        ut_buf_json_num(&b, "price_per_hour", p->price_per_hour, ",\n    ");
    mdl_gpu_optional_write(&b, p->sm_count, p->colocated_pct);
    const char *keys[3] = {"power_w", "clock_mhz", "idle_per_kernel_ms"};
    const double *vals[3] = {p->copies_power_w, p->copies_clock_mhz,
                             p->copies_idle_ms};
    ut_buf_printf(&b, "\"copies\": {\n");
    for (int k = 0; k < 3; k++) {
        ut_buf_printf(&b, "      \"%s\": [", keys[k]);
        for (size_t i = 0; i < p->ncopies; i++)
            ut_buf_printf(&b, "%s%s", i ? ", " : "",
                          ut_fmt_double(vals[k][i], d));
        ut_buf_printf(&b, "]%s\n", k < 2 ? "," : "");
    }
    ut_buf_printf(&b, "    }\n  },\n  \"models\": {\n");
    for (size_t i = 0; i < p->nmodels; i++) {
        const mdl_model_profile *m = &p->models[i];
        mdl_model_head_write(&b, m->name, m->kernels, m->input_bytes,
                             m->output_bytes, m->idle_ms);
        ut_buf_printf(&b, "\"solo\": [\n");
        for (size_t j = 0; j < m->ngrid; j++) {
            const mdl_grid_point *g = &m->grid[j];
            char d2[32], d3[32], d4[32], d5[32];
            ut_buf_printf(&b, "        {\"batch\": %s, \"share_pct\": %s, "
                          "\"latency_ms\": %s, \"power_w\": %s, "
                          "\"clock_mhz\": %s}%s\n",
                          ut_fmt_double(g->batch, d),
                          ut_fmt_double(g->share_pct, d2),
                          ut_fmt_double(g->latency_ms, d3),
                          ut_fmt_double(g->power_w, d4),
                          ut_fmt_double(g->clock_mhz, d5),
                          j + 1 < m->ngrid ? "," : "");
        }
        ut_buf_printf(&b, "      ],\n      \"l2\": [\n");
        for (size_t j = 0; j < m->nl2; j++) {
            char d2[32], d3[32];
            ut_buf_printf(&b, "        {\"batch\": %s, \"share_pct\": %s, "
                          "\"util_pct\": %s}%s\n",
                          ut_fmt_double(m->l2[j].batch, d),
                          ut_fmt_double(m->l2[j].share_pct, d2),
                          ut_fmt_double(m->l2[j].util_pct, d3),
                          j + 1 < m->nl2 ? "," : "");
        }
        ut_buf_printf(&b, "      ],\n      \"pair\": {");
        ut_buf_json_num(&b, "active_solo_ms", m->active_solo_ms, ", ");
        ut_buf_json_num(&b, "active_pair_ms", m->active_pair_ms, ", ");
        ut_buf_json_num(&b, "clock_mhz", m->clock_pair_mhz, ", ");
        if (isfinite(m->power_pair_w))
            ut_buf_json_num(&b, "power_w", m->power_pair_w, ", ");
        ut_buf_json_num(&b, "l2_util_pct", m->pair_l2_util_pct, "}\n");
        ut_buf_printf(&b, "    }%s\n", i + 1 < p->nmodels ? "," : "");
    }
    ut_buf_printf(&b, "  }\n}\n");
    return b.s;
}
