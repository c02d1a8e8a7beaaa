/*
 * sweep.c - `igniter sweep`: a grid of experiments (lab.h).
 *
 * A sweep file is a base experiment and axes; the cross product of the
 * axes' values, trimmed by include/exclude, is the list of cells. A cell
 * is an ordinary experiment file, written into its own folder
 * (OUT/cells/ID/experiment.json, every path made absolute) and simulated
 * there as `igniter sim` would, so any cell can be rerun or inspected
 * alone. Its id is a hash of its parameters (not of the files they name),
 * so it stays the same while the grid grows; the input hash of
 * lab_run_hash (the cell's experiment, the files it reads, the program)
 * decides whether a finished cell is still valid.
 *
 * The grid is enumerated the same way on every machine, so cell k is the
 * same cell for --jobs, --shard and every MPI rank: no cell list has to be
 * sent anywhere.
 */
#include "lab/lab.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- loading -------------------------------------------------------------- */


/* An absolute path for a path relative to dir (the folder of the file that
 * names it): cells live in their own folders. */
static int abs_path(const char *dir, const char *p, char *out, size_t n,
                    const char *where, ut_err *err)
{
    char joined[UT_PATH_MAX];
    if (snprintf(joined, sizeof joined, "%s%s", p[0] == '/' ? "" : dir, p) >=
        (int)sizeof joined)
        return ut_errf(err, "%s: expected a path shorter than %d characters",
                       where, UT_PATH_MAX);
    if (joined[0] == '/') {
        snprintf(out, n, "%s", joined);
        return 0;
    }
    char cwd[UT_PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return ut_errf(err, "%s: cannot tell the working folder: %s", where,
                       strerror(errno));
    if (snprintf(out, n, "%s/%s", cwd, joined) >= (int)n)
        return ut_errf(err, "%s: expected a path shorter than %d characters",
                       where, UT_PATH_MAX);
    return 0;
}

/* Replaces a string member holding a path by its absolute form. */
static int fix_path(cJSON *o, const char *key, const char *dir,
                    const char *where, ut_err *err)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return 0;
    char p[UT_PATH_MAX], w[600];
    snprintf(w, sizeof w, "%s.%s", where, key);
    if (abs_path(dir, v->valuestring, p, sizeof p, w, err) < 0)
        return -1;
    cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_CreateString(p));
    return 0;
}

/* The replay paths of an arrivals object (or of each workload's). */
static int fix_arrivals(cJSON *arr, const char *dir, const char *where,
                        ut_err *err)
{
    if (cJSON_IsObject(arr))
        return fix_path(arr, "path", dir, where, err);
    return 0;
}

/* A workloads array loaded from a file into the experiment, its replay
 * paths taken from the file's folder. */
static cJSON *load_workloads(const char *path, const char *where, ut_err *err)
{
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return NULL;
    cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(root, "workloads");
    cJSON_Delete(root);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        ut_errf(err, "%s: %s: workloads: expected an array", where, path);
        return NULL;
    }
    char dir[UT_PATH_MAX];
    ut_dir_of(path, dir, sizeof dir);
    cJSON *w;
    cJSON_ArrayForEach(w, arr)
        if (fix_arrivals(cJSON_GetObjectItemCaseSensitive(w, "arrivals"), dir,
                         path, err) < 0) {
            cJSON_Delete(arr);
            return NULL;
        }
    return arr;
}

/* splitmix64: the workload generator's numbers, from its seed alone. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(mix(s) >> 11) / 9007199254740992.0;
}

static int range_of(const cJSON *g, const char *key, const char *where,
                    double *lo, double *hi, ut_err *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(g, key);
    const cJSON *a = cJSON_GetArrayItem(r, 0), *b = cJSON_GetArrayItem(r, 1);
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 ||
        !cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !(a->valuedouble > 0) ||
        !(b->valuedouble >= a->valuedouble) || !isfinite(b->valuedouble))
        return ut_errf(err, "%s.%s: expected [low, high] with 0 < low <= "
                       "high", where, key);
    *lo = a->valuedouble;
    *hi = b->valuedouble;
    return 0;
}

/*
 * {"generate": {"count": N, "models": [...], "rate_rps": [lo, hi],
 *  "slo_ms": [lo, hi], "seed": S}}: N workloads w1..wN, each a model drawn
 * from the list, a rate and an SLO drawn uniformly (rates to 1 req/s, SLOs
 * to 1 ms), the paper's random sets' shape. Deterministic in its seed.
 */
static cJSON *generate(const cJSON *g, const char *where, ut_err *err)
{
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(g, "count");
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(g, "models");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(g, "seed");
    double rlo, rhi, slo, shi;
    if (!cJSON_IsNumber(cnt) || cnt->valuedouble < 1 ||
        cnt->valuedouble > 100000 || cnt->valuedouble != floor(cnt->valuedouble)) {
        ut_errf(err, "%s.count: expected a whole number in 1..100000", where);
        return NULL;
    }
    if (!cJSON_IsArray(models) || cJSON_GetArraySize(models) < 1) {
        ut_errf(err, "%s.models: expected an array of model names", where);
        return NULL;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, models)
        if (!cJSON_IsString(m)) {
            ut_errf(err, "%s.models: expected an array of model names",
                    where);
            return NULL;
        }
    if (range_of(g, "rate_rps", where, &rlo, &rhi, err) < 0 ||
        range_of(g, "slo_ms", where, &slo, &shi, err) < 0)
        return NULL;
    uint64_t s = cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 1;
    int nm = cJSON_GetArraySize(models);
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < (int)cnt->valuedouble; i++) {
        cJSON *w = cJSON_CreateObject();
        char name[32];
        snprintf(name, sizeof name, "w%d", i + 1);
        cJSON_AddStringToObject(w, "name", name);
        cJSON_AddStringToObject(
            w, "model",
            cJSON_GetArrayItem(models, (int)(mix(&s) % (uint64_t)nm))
                ->valuestring);
        cJSON_AddNumberToObject(w, "slo_ms", round(uniform(&s, slo, shi)));
        cJSON_AddNumberToObject(w, "rate_rps", round(uniform(&s, rlo, rhi)));
        cJSON_AddItemToArray(arr, w);
    }
    return arr;
}

void lab_sweep_free(lab_sweep *s)
{
    cJSON_Delete(s->base);
    cJSON_Delete(s->axes);
    free(s->cells);
    memset(s, 0, sizeof *s);
}

size_t lab_sweep_axis(const lab_sweep *s, const char *name)
{
    size_t a = 0;
    while (a < s->naxes && strcmp(s->axis_name[a], name))
        a++;
    return a;
}

/* Does cell vi match every key: value of the object m? */
static int matches(const lab_sweep *s, const uint16_t *vi, const cJSON *m)
{
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) {
        size_t a = lab_sweep_axis(s, kv->string);
        if (a == s->naxes)
            return 0;
        const cJSON *v = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(s->axes, s->axis_name[a]),
            (int)vi[a]);
        if (!cJSON_Compare(v, kv, 1))
            return 0;
    }
    return 1;
}

static int check_trims(const lab_sweep *s, const cJSON *list, const char *key,
                       ut_err *err)
{
    if (!list)
        return 0;
    if (!cJSON_IsArray(list))
        return ut_errf(err, "%s: %s: expected an array of {axis: value} "
                       "objects", s->path, key);
    const cJSON *m;
    int i = 0;
    cJSON_ArrayForEach(m, list) {
        if (!cJSON_IsObject(m))
            return ut_errf(err, "%s: %s[%d]: expected an object of axis "
                           "values", s->path, key, i);
        const cJSON *kv;
        cJSON_ArrayForEach(kv, m) {
            if (lab_sweep_axis(s, kv->string) == s->naxes)
                return ut_errf(err, "%s: %s[%d].%s: expected an axis of the "
                               "sweep", s->path, key, i, kv->string);
        }
        i++;
    }
    return 0;
}

int lab_sweep_load(const char *path, lab_sweep *s, ut_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    ut_dir_of(path, s->dir, sizeof s->dir);
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return -1;
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        ut_errf(err, "%s: expected a JSON object", path);
        goto out;
    }
    /* the base experiment: a file, or an object written inline */
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base");
    char bdir[UT_PATH_MAX];
    if (cJSON_IsString(base)) {
        char bp[UT_PATH_MAX];
        if (abs_path(s->dir, base->valuestring, bp, sizeof bp, "base", err) <
            0)
            goto out;
        if (!(s->base = ut_json_load(bp, err)))
            goto out;
        ut_dir_of(bp, bdir, sizeof bdir);
    } else if (cJSON_IsObject(base)) {
        s->base = cJSON_Duplicate(base, 1);
        snprintf(bdir, sizeof bdir, "%s", s->dir);
    } else {
        ut_errf(err, "%s: base: expected an experiment file or object", path);
        goto out;
    }
    if (!cJSON_IsObject(s->base)) {
        ut_errf(err, "%s: base: expected a JSON object", path);
        goto out;
    }
    /* every path of the base from its own folder, workloads inlined */
    static const char *paths[] = {"profile", "measured", "plan", "power"};
    for (size_t k = 0; k < 4; k++)
        if (fix_path(s->base, paths[k], bdir, "base", err) < 0)
            goto out;
    if (fix_arrivals(cJSON_GetObjectItemCaseSensitive(s->base, "arrivals"),
                     bdir, "base.arrivals", err) < 0)
        goto out;
    cJSON *bw = cJSON_GetObjectItemCaseSensitive(s->base, "workloads");
    if (cJSON_IsString(bw)) {
        char wp[UT_PATH_MAX];
        if (abs_path(bdir, bw->valuestring, wp, sizeof wp, "base.workloads",
                     err) < 0)
            goto out;
        cJSON *arr = load_workloads(wp, "base.workloads", err);
        if (!arr)
            goto out;
        cJSON_ReplaceItemInObjectCaseSensitive(s->base, "workloads", arr);
    } else if (cJSON_IsArray(bw)) {
        cJSON *w;
        cJSON_ArrayForEach(w, bw)
            if (fix_arrivals(cJSON_GetObjectItemCaseSensitive(w, "arrivals"),
                             bdir, "base.workloads", err) < 0)
                goto out;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(s->base, "policies");
    cJSON_DeleteItemFromObjectCaseSensitive(s->base, "seeds");
    /* the axes, in the file's order */
    const cJSON *axes = cJSON_GetObjectItemCaseSensitive(root, "axes");
    if (!cJSON_IsObject(axes) || !axes->child) {
        ut_errf(err, "%s: axes: expected an object of at least one axis, "
                "each a list of values", path);
        goto out;
    }
    s->axes = cJSON_Duplicate(axes, 1);
    const cJSON *ax;
    s->ncells = 1;
    cJSON_ArrayForEach(ax, s->axes) {
        if (s->naxes == LAB_MAX_AXES) {
            ut_errf(err, "%s: axes: expected at most %d axes", path,
                    LAB_MAX_AXES);
            goto out;
        }
        if (!cJSON_IsArray(ax) || cJSON_GetArraySize(ax) < 1 ||
            cJSON_GetArraySize(ax) > 65535) {
            ut_errf(err, "%s: axes.%s: expected a list of 1..65535 values",
                    path, ax->string);
            goto out;
        }
        if (strlen(ax->string) == 0 || strlen(ax->string) >= 48 ||
            strpbrk(ax->string, ",\"\n\r ")) {
            ut_errf(err, "%s: axes: expected an axis name of 1..47 "
                    "characters without blanks, commas or quotes, got \"%s\"",
                    path, ax->string);
            goto out;
        }
        s->axis_name[s->naxes++] = ax->string;
        s->ncells *= (size_t)cJSON_GetArraySize(ax);
        if (s->ncells > LAB_MAX_CELLS) {
            ut_errf(err, "%s: axes: expected at most %d cells, the product "
                    "of the axes is larger", path, LAB_MAX_CELLS);
            goto out;
        }
    }
    const cJSON *inc = cJSON_GetObjectItemCaseSensitive(root, "include");
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(root, "exclude");
    if (check_trims(s, inc, "include", err) < 0 ||
        check_trims(s, exc, "exclude", err) < 0)
        goto out;
    /* enumerate: the last axis varies fastest */
    size_t total = s->ncells, n = 0;
    s->cells = ut_xcalloc(total ? total : 1, sizeof *s->cells);
    for (size_t k = 0; k < total; k++) {
        lab_cell *c = &s->cells[n];
        size_t r = k;
        for (size_t a = s->naxes; a-- > 0;) {
            size_t len = (size_t)cJSON_GetArraySize(
                cJSON_GetObjectItemCaseSensitive(s->axes, s->axis_name[a]));
            c->vi[a] = (uint16_t)(r % len);
            r /= len;
        }
        int keep = 1;
        if (inc) {
            keep = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, inc) keep |= matches(s, c->vi, m);
        }
        if (exc && keep) {
            const cJSON *m;
            cJSON_ArrayForEach(m, exc) keep &= !matches(s, c->vi, m);
        }
        if (!keep)
            continue;
        char *pj = lab_cell_params(s, n);
        unsigned long long h = ut_hash(UT_HASH_INIT, pj, strlen(pj));
        free(pj);
        snprintf(c->id, sizeof c->id, "%012llx", h & 0xffffffffffffULL);
        n++;
    }
    s->ncells = n;
    if (n == 0) {
        ut_errf(err, "%s: include and exclude leave no cell", path);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    if (rc < 0)
        lab_sweep_free(s);
    return rc;
}

/* ---- a cell ---------------------------------------------------------------- */

static const cJSON *value_of(const lab_sweep *s, size_t k, size_t a)
{
    return cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(s->axes, s->axis_name[a]),
        (int)s->cells[k].vi[a]);
}

char *lab_cell_params(const lab_sweep *s, size_t k)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t a = 0; a < s->naxes; a++)
        cJSON_AddItemToObject(o, s->axis_name[a],
                              cJSON_Duplicate(value_of(s, k, a), 1));
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return t;
}

void lab_cell_label(const lab_sweep *s, size_t k, size_t a, char *out,
                    size_t n)
{
    const cJSON *v = value_of(s, k, a);
    if (cJSON_IsString(v)) {
        /* a file: its name without the folder and ".json" */
        const char *b = strrchr(v->valuestring, '/');
        b = b ? b + 1 : v->valuestring;
        snprintf(out, n, "%s", b);
        size_t len = strlen(out);
        if (len > 5 && !strcmp(out + len - 5, ".json"))
            out[len - 5] = '\0';
    } else if (cJSON_IsNumber(v)) {
        snprintf(out, n, "%g", v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsObject(v) &&
               cJSON_GetObjectItemCaseSensitive(v, "generate")) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "generate");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(g, "count");
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(g, "seed");
        snprintf(out, n, "random-%g-s%g", cJSON_IsNumber(c) ? c->valuedouble
                                                           : 0,
                 cJSON_IsNumber(sd) ? sd->valuedouble : 1);
    } else if (cJSON_IsObject(v) &&
               cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "kind"))) {
        /* an arrival spec: its kind and first parameter */
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(v, "cv");
        const cJSON *pth = cJSON_GetObjectItemCaseSensitive(v, "path");
        if (cJSON_IsNumber(cv))
            snprintf(out, n, "%s:%g", kind->valuestring, cv->valuedouble);
        else if (cJSON_IsString(pth)) {
            const char *b = strrchr(pth->valuestring, '/');
            snprintf(out, n, "%s:%s", kind->valuestring,
                     b ? b + 1 : pth->valuestring);
        } else
            snprintf(out, n, "%s", kind->valuestring);
    } else {
        char *t = cJSON_PrintUnformatted(v);
        snprintf(out, n, "%s", t ? t : "?");
        free(t);
    }
}

/* The axes that change the experiment in a way other than setting a
 * member: workloads (a file, an inline list or a generator), rate_scale
 * (every rate times it) and arrivals (every workload's). The rest set the
 * member of their name: policy, profile, backend, seed, duration_s, ... */
static int apply(const lab_sweep *s, size_t k, cJSON *x, ut_err *err)
{
    char where[160];
    for (size_t a = 0; a < s->naxes; a++) {
        const char *name = s->axis_name[a];
        const cJSON *v = value_of(s, k, a);
        snprintf(where, sizeof where, "%s: axes.%s[%u]", s->path, name,
                 (unsigned)s->cells[k].vi[a]);
        if (!strcmp(name, "workloads")) {
            cJSON *arr = NULL;
            if (cJSON_IsString(v)) {
                char wp[UT_PATH_MAX];
                if (abs_path(s->dir, v->valuestring, wp, sizeof wp, where,
                             err) < 0)
                    return -1;
                arr = load_workloads(wp, where, err);
            } else if (cJSON_IsObject(v) &&
                       cJSON_GetObjectItemCaseSensitive(v, "generate")) {
                strncat(where, ".generate", sizeof where - strlen(where) - 1);
                arr = generate(cJSON_GetObjectItemCaseSensitive(v, "generate"),
                               where, err);
            } else if (cJSON_IsArray(v)) {
                arr = cJSON_Duplicate(v, 1);
            } else {
                return ut_errf(err, "%s: expected a workloads file, an array "
                               "of workloads or {\"generate\": {...}}", where);
            }
            if (!arr)
                return -1;
            cJSON_DeleteItemFromObjectCaseSensitive(x, "workloads");
            cJSON_AddItemToObject(x, "workloads", arr);
        }
    }
    cJSON *wl = cJSON_GetObjectItemCaseSensitive(x, "workloads");
    for (size_t a = 0; a < s->naxes; a++) {
        const char *name = s->axis_name[a];
        const cJSON *v = value_of(s, k, a);
        snprintf(where, sizeof where, "%s: axes.%s[%u]", s->path, name,
                 (unsigned)s->cells[k].vi[a]);
        if (!strcmp(name, "workloads"))
            continue;
        if (!strcmp(name, "rate_scale")) {
            if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
                return ut_errf(err, "%s: expected a positive factor", where);
            cJSON *w;
            cJSON_ArrayForEach(w, wl) {
                cJSON *r = cJSON_GetObjectItemCaseSensitive(w, "rate_rps");
                if (cJSON_IsNumber(r))
                    cJSON_SetNumberValue(r, r->valuedouble * v->valuedouble);
            }
        } else if (!strcmp(name, "arrivals")) {
            if (!cJSON_IsObject(v))
                return ut_errf(err, "%s: expected an arrivals object like "
                               "{\"kind\": \"poisson\"}", where);
            cJSON *arr = cJSON_Duplicate(v, 1);
            if (fix_arrivals(arr, s->dir, where, err) < 0) {
                cJSON_Delete(arr);
                return -1;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(x, "arrivals");
            cJSON_AddItemToObject(x, "arrivals", arr);
            cJSON *w;
            cJSON_ArrayForEach(w, wl)
                cJSON_DeleteItemFromObjectCaseSensitive(w, "arrivals");
        } else {
            cJSON *nv = cJSON_Duplicate(v, 1);
            if (cJSON_IsString(nv) &&
                (!strcmp(name, "profile") || !strcmp(name, "measured") ||
                 !strcmp(name, "plan") || !strcmp(name, "power"))) {
                char p[UT_PATH_MAX];
                if (abs_path(s->dir, nv->valuestring, p, sizeof p, where,
                             err) < 0) {
                    cJSON_Delete(nv);
                    return -1;
                }
                cJSON_Delete(nv);
                nv = cJSON_CreateString(p);
            }
            cJSON_DeleteItemFromObjectCaseSensitive(x, name);
            cJSON_AddItemToObject(x, name, nv);
        }
    }
    return 0;
}

char *lab_cell_experiment(const lab_sweep *s, size_t k, ut_err *err)
{
    cJSON *x = cJSON_Duplicate(s->base, 1);
    if (apply(s, k, x, err) < 0) {
        cJSON_Delete(x);
        return NULL;
    }
    char *t = cJSON_Print(x);
    cJSON_Delete(x);
    return t;
}

void lab_cell_dir(const char *out_dir, const lab_sweep *s, size_t k,
                  char *dir, size_t n)
{
    snprintf(dir, n, "%s/cells/%s", out_dir, s->cells[k].id);
}

/* The cell's "cell" member of summary.json: id and parameters. */
static char *cell_json(const lab_sweep *s, size_t k)
{
    char *pj = lab_cell_params(s, k);
    ut_buf b = {0};
    ut_buf_printf(&b, "\"cell\": {\"id\": \"%s\", \"params\": %s}",
                  s->cells[k].id, pj);
    free(pj);
    return b.s;
}


int lab_sweep_run_cell(const lab_sweep *s, size_t k, const char *out_dir,
                       int flags, volatile sig_atomic_t *stop, ut_err *err)
{
    char dir[UT_PATH_MAX + 64], path[UT_PATH_MAX + 96];
    lab_cell_dir(out_dir, s, k, dir, sizeof dir);
    char *text = lab_cell_experiment(s, k, err);
    if (!text)
        return LAB_CELL_FAILED;
    snprintf(path, sizeof path, "%s/experiment.json", dir);
    if (ut_mkdir_p(dir, err) < 0 ||
        ut_write_atomic(path, text, strlen(text), err) < 0) {
        free(text);
        return LAB_CELL_FAILED;
    }
    free(text);
    lab_opts o;
    lab_opts_init(&o);
    o.experiment = path;
    o.stop = stop;
    lab_prepared p;
    int rc;
    char epath[UT_PATH_MAX + 96];
    snprintf(epath, sizeof epath, "%s/error.txt", dir);
    if (lab_prepare(&o, &p, err) < 0) {
        rc = LAB_CELL_FAILED;
    } else {
        int st = lab_run_status(dir, p.input_hash);
        if (st > 0) {
            rc = LAB_CELL_KEPT;
        } else {
            char *cj = cell_json(s, k);
            p.cfg.run.extra_json = cj;
            fe_result res;
            if (lab_simulate(&p, dir, &res, err) < 0) {
                rc = LAB_CELL_FAILED;
            } else {
                rc = res.complete ? (st < 0 ? LAB_CELL_RERUN : LAB_CELL_DONE)
                                  : LAB_CELL_STOPPED;
                fe_result_free(&res);
                if (rc != LAB_CELL_STOPPED && (flags & LAB_SWEEP_COMPACT)) {
                    static const char *drop[] = {"timeseries.csv",
                                                 "workloads.csv"};
                    for (int i = 0; i < 2; i++) {
                        snprintf(path, sizeof path, "%s/%s", dir, drop[i]);
                        unlink(path);
                    }
                }
            }
            free(cj);
        }
        lab_prepared_free(&p);
    }
    if (rc == LAB_CELL_FAILED) {
        ut_buf b = {0};
        ut_buf_printf(&b, "%s\n", err->msg);
        ut_write_atomic(epath, b.s, b.len, NULL);
        ut_buf_free(&b);
    } else if (rc != LAB_CELL_STOPPED) {
        unlink(epath);
    }
    return rc;
}
