/*
 * experiment.c - experiment files for `igniter sim EXPERIMENT.json`
 * (format in lab.h). Every field is checked and named on error; relative
 * paths are taken from the experiment file's folder, so an experiment runs
 * from any working directory.
 */
#include "lab/lab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lab_experiment_free(lab_experiment *e)
{
    free(e->w);
    free(e->wcfg);
    memset(e, 0, sizeof *e);
}


static int get_path(const cJSON *root, const char *key, const char *where,
                    const char *dir, char *out, int required, ut_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v && !required)
        return 0;
    const char *s;
    if (ut_json_str(root, key, where, &s, err) < 0)
        return -1;
    int n = s[0] == '/' ? snprintf(out, UT_PATH_MAX, "%s", s)
                        : snprintf(out, UT_PATH_MAX, "%s%s", dir, s);
    if (n >= UT_PATH_MAX)
        return ut_errf(err, "%s.%s: expected a path shorter than %d "
                       "characters", where, key, UT_PATH_MAX);
    return 0;
}

/* An optional name into out (size n): a non-empty string that fits, never
 * cut short (a cut name could match another one). */
static int opt_name(const cJSON *root, const char *key, const char *where,
                    char *out, size_t n, ut_err *err)
{
    const char *s;
    if (!cJSON_GetObjectItemCaseSensitive(root, key))
        return 0;
    if (ut_json_str(root, key, where, &s, err) < 0)
        return -1;
    if (strlen(s) >= n)
        return ut_errf(err, "%s: %s: expected at most %zu characters, got "
                       "\"%.40s...\"", where, key, n - 1, s);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static int opt_num(const cJSON *o, const char *key, const char *where,
                   double *out, int positive, ut_err *err)
{
    if (!cJSON_GetObjectItemCaseSensitive(o, key))
        return 0;
    return positive ? ut_json_pos(o, key, where, out, err)
                    : ut_json_nonneg(o, key, where, out, err);
}

/* A workload's simulation settings, from its object in the workloads array
 * (the planning fields were read by pol_workloads_from_json). */
static int load_wcfg(const cJSON *o, const char *where, const char *dir,
                     const cJSON *default_arrivals, const char *default_where,
                     const char *default_dir, const pol_workload *w,
                     fe_workload_cfg *c, ut_err *err)
{
    fe_workload_defaults(c, w->name, w->rate_rps);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "arrivals");
    char wh[300];
    snprintf(wh, sizeof wh, "%s.arrivals", where);
    /* the experiment's default arrivals are the experiment file's: a
     * replay path in them is relative to its folder, not to that of the
     * workloads file (README: relative to the file that names it) */
    if (arr && trace_spec_from_json(arr, w->rate_rps, wh, dir, &c->arrivals,
                                    err) < 0)
        return -1;
    if (!arr && default_arrivals &&
        trace_spec_from_json(default_arrivals, w->rate_rps, default_where,
                             default_dir, &c->arrivals, err) < 0)
        return -1;
    if (opt_num(o, "max_delay_ms", where, &c->max_delay_ms, 0, err) ||
        opt_num(o, "service_ms", where, &c->service_ms, 1, err))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(o, "queue_limit")) {
        long lim;
        if (ut_json_int(o, "queue_limit", where, 1, 100000000, &lim, err))
            return -1;
        c->queue_limit = (size_t)lim;
    }
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(o, "service_dist");
    if (dist) {
        char wd[600];
        snprintf(wd, sizeof wd, "%s.service_dist", where);
        if (!cJSON_IsString(dist)) {
            char d[64];
            return ut_errf(err, "%s: expected const, exp or gamma:CV, got %s",
                           wd, ut_json_describe(dist, d, sizeof d));
        }
        if (fe_service_dist_parse(dist->valuestring, wd, &c->service_exp,
                                  &c->service_cv, err) < 0)
            return -1;
    }
    return 0;
}

/* One entry of a list of per-workload inputs, checked and added to the
 * workloads' settings (models[w]: workload w's model, for the name rule
 * of fe_slowdown_add); where names the entry. */
typedef int (*entry_fn)(const cJSON *o, const char *where, lab_experiment *e,
                        const char **models, ut_err *err);

/* "key": [{...}, ...], each an object of the members `members` (NULL-
 * terminated; any other is refused, as a misspelt "to_s" would otherwise
 * slow the whole run), added by fn. shape ("{workload, us}") and
 * members_text ("workload and us") are for the messages. */
static int load_list(const cJSON *root, const char *path, lab_experiment *e,
                     const char *key, const char *const *members,
                     const char *shape, const char *members_text,
                     entry_fn fn, ut_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr)) {
        char d[64];
        return ut_errf(err, "%s: %s: expected an array of %s, got %s", path,
                       key, shape, ut_json_describe(arr, d, sizeof d));
    }
    const char **models = ut_xcalloc(e->nw ? e->nw : 1, sizeof *models);
    for (size_t w = 0; w < e->nw; w++)
        models[w] = e->w[w].model;
    size_t k = 0;
    int rc = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        char where[UT_PATH_MAX + 32];
        snprintf(where, sizeof where, "%s: %s[%zu]", path, key, k++);
        if (!cJSON_IsObject(o)) {
            char d[64];
            rc = ut_errf(err, "%s: expected an object %s, got %s", where,
                         shape, ut_json_describe(o, d, sizeof d));
            break;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, o) {
            size_t i = 0;
            while (members[i] && strcmp(m->string, members[i]))
                i++;
            if (!members[i])
                break;
        }
        if (m) {
            rc = ut_errf(err, "%s: expected the members %s, got \"%.40s\"",
                         where, members_text, m->string);
            break;
        }
        if (fn(o, where, e, models, err) < 0) {
            rc = -1;
            break;
        }
    }
    free(models);
    return rc;
}

/* A slow-down: {"workload": W, "factor": F, "from_s": A, "to_s": B}
 * (fe_slowdown_add: W names a workload, or the model of some when no
 * workload has that name; from_s 0 and to_s the end of the run by
 * default). */
static int slowdown_entry(const cJSON *o, const char *where,
                          lab_experiment *e, const char **models,
                          ut_err *err)
{
    const char *target;
    fe_slowdown sd = {0, 0, INFINITY};
    if (ut_json_str(o, "workload", where, &target, err) < 0 ||
        ut_json_num(o, "factor", where, &sd.factor, err) < 0 ||
        (cJSON_GetObjectItemCaseSensitive(o, "from_s") &&
         ut_json_num(o, "from_s", where, &sd.from_s, err) < 0) ||
        (cJSON_GetObjectItemCaseSensitive(o, "to_s") &&
         ut_json_num(o, "to_s", where, &sd.to_s, err) < 0) ||
        fe_slowdown_check(&sd, where, err) < 0)
        return -1;
    char wwhere[UT_PATH_MAX + 48];
    snprintf(wwhere, sizeof wwhere, "%s.workload", where);
    return fe_slowdown_add(e->wcfg, e->nw, models, target, strlen(target),
                           &sd, wwhere, err);
}

/* A wake cost: {"workload": W, "us": US} (fe_wake_add: W by the
 * slow-downs' rule). */
static int wake_entry(const cJSON *o, const char *where, lab_experiment *e,
                      const char **models, ut_err *err)
{
    const char *target;
    double us;
    char wwhere[UT_PATH_MAX + 48];
    snprintf(wwhere, sizeof wwhere, "%s.workload", where);
    if (ut_json_str(o, "workload", where, &target, err) < 0 ||
        ut_json_num(o, "us", where, &us, err) < 0 ||
        fe_wake_check(us, where, err) < 0)
        return -1;
    return fe_wake_add(e->wcfg, e->nw, models, target, strlen(target), us,
                       wwhere, err);
}

static int load_slowdowns(const cJSON *root, const char *path,
                          lab_experiment *e, ut_err *err)
{
    static const char *const members[] = {"workload", "factor", "from_s",
                                          "to_s", NULL};
    return load_list(root, path, e, "slowdowns", members,
                     "{workload, factor, from_s, to_s}",
                     "workload, factor, from_s and to_s", slowdown_entry,
                     err);
}

static int load_wakes(const cJSON *root, const char *path, lab_experiment *e,
                      ut_err *err)
{
    static const char *const members[] = {"workload", "us", NULL};
    return load_list(root, path, e, "wakes", members, "{workload, us}",
                     "workload and us", wake_entry, err);
}

int lab_experiment_load(const char *path, lab_experiment *e, ut_err *err)
{
    memset(e, 0, sizeof *e);
    cJSON *root = ut_json_load(path, err), *wroot = NULL;
    if (!root)
        return -1;
    char dir[UT_PATH_MAX], wdir[UT_PATH_MAX], where[300];
    ut_dir_of(path, dir, sizeof dir);
    if (!cJSON_IsObject(root)) {
        ut_errf(err, "%s: expected a JSON object", path);
        goto fail;
    }
    if (get_path(root, "profile", path, dir, e->profile, 1, err) ||
        get_path(root, "plan", path, dir, e->plan, 0, err) ||
        get_path(root, "measured", path, dir, e->measured, 0, err) ||
        get_path(root, "power", path, dir, e->power, 0, err))
        goto fail;
    /* a plan file is the plan: a policy beside it would be ignored */
    if (e->plan[0] && cJSON_GetObjectItemCaseSensitive(root, "policy")) {
        ut_errf(err, "%s: policy: expected no policy beside a plan file, got "
                "both", path);
        goto fail;
    }
    snprintf(e->policy, sizeof e->policy, "igniter");
    snprintf(e->backend, sizeof e->backend, "model");
    if (opt_name(root, "policy", path, e->policy, sizeof e->policy, err) ||
        opt_name(root, "backend", path, e->backend, sizeof e->backend, err))
        goto fail;
    e->faithful = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root,
                                                               "faithful"));
    e->duration_s = 60;
    e->warmup_s = 0;
    e->interval_s = 1;
    e->seed = 1;
    if (opt_num(root, "duration_s", path, &e->duration_s, 1, err) ||
        opt_num(root, "warmup_s", path, &e->warmup_s, 0, err) ||
        opt_num(root, "interval_s", path, &e->interval_s, 1, err))
        goto fail;
    if (cJSON_GetObjectItemCaseSensitive(root, "seed")) {
        long seed;
        if (ut_json_int(root, "seed", path, 0, 4294967295L, &seed, err))
            goto fail;
        e->seed = (uint64_t)seed;
    }
    e->reconfig_delay_s = -1;
    if (opt_num(root, "reconfig_delay_s", path, &e->reconfig_delay_s, 0, err))
        goto fail;
    e->nseeds = 1;
    if (cJSON_GetObjectItemCaseSensitive(root, "seeds")) {
        long ns;
        if (ut_json_int(root, "seeds", path, 1, 1000, &ns, err))
            goto fail;
        e->nseeds = (int)ns;
    }
    const cJSON *pols = cJSON_GetObjectItemCaseSensitive(root, "policies");
    if (pols) {
        if (!cJSON_IsArray(pols) || cJSON_GetArraySize(pols) < 1 ||
            cJSON_GetArraySize(pols) > 16) {
            ut_errf(err, "%s: policies: expected an array of 1..16 policy "
                    "names", path);
            goto fail;
        }
        const cJSON *pn;
        cJSON_ArrayForEach(pn, pols) {
            if (!cJSON_IsString(pn) || !pol_find(pn->valuestring)) {
                char names[256], d[64];
                ut_errf(err, "%s: policies[%zu]: expected one of %s, got %s",
                        path, e->npolicies, pol_names(names, sizeof names),
                        ut_json_describe(pn, d, sizeof d));
                goto fail;
            }
            /* each policy once: compare keys its runs by policy name */
            for (size_t k = 0; k < e->npolicies; k++)
                if (!strcmp(e->policies[k], pn->valuestring)) {
                    ut_errf(err, "%s: policies[%zu]: expected a policy not "
                            "named before, got \"%s\" again (also [%zu])",
                            path, e->npolicies, pn->valuestring, k);
                    goto fail;
                }
            snprintf(e->policies[e->npolicies++], POL_NAME_MAX, "%s",
                     pn->valuestring);
        }
    }
    if (opt_name(root, "focus", path, e->focus, sizeof e->focus, err))
        goto fail;
    /* workloads: inline, or the name of a workloads file */
    const cJSON *warr = cJSON_GetObjectItemCaseSensitive(root, "workloads");
    snprintf(wdir, sizeof wdir, "%s", dir);
    snprintf(where, sizeof where, "%s: workloads", path);
    if (cJSON_IsString(warr)) {
        char wpath[UT_PATH_MAX];
        if (get_path(root, "workloads", path, dir, wpath, 1, err))
            goto fail;
        if (!(wroot = ut_json_load(wpath, err)))
            goto fail;
        warr = cJSON_GetObjectItemCaseSensitive(wroot, "workloads");
        ut_dir_of(wpath, wdir, sizeof wdir);
        snprintf(where, sizeof where, "%s: workloads", wpath);
    }
    if (pol_workloads_from_json(warr, where, NULL, &e->w, &e->nw, err) < 0)
        goto fail;
    e->wcfg = ut_xcalloc(e->nw, sizeof *e->wcfg);
    const cJSON *defarr = cJSON_GetObjectItemCaseSensitive(root, "arrivals");
    char defwhere[UT_PATH_MAX + 16];
    snprintf(defwhere, sizeof defwhere, "%s: arrivals", path);
    size_t i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, warr) {
        char wh[320];
        snprintf(wh, sizeof wh, "%s[%zu]", where, i);
        if (load_wcfg(o, wh, wdir, defarr, defwhere, dir, &e->w[i],
                      &e->wcfg[i], err) < 0)
            goto fail;
        i++;
    }
    if (load_slowdowns(root, path, e, err) < 0 ||
        load_wakes(root, path, e, err) < 0)
        goto fail;
    if (e->focus[0]) {
        size_t k = 0;
        while (k < e->nw && strcmp(e->w[k].name, e->focus))
            k++;
        if (k == e->nw) {
            ut_errf(err, "%s: focus: expected a workload name, got \"%s\"",
                    path, e->focus);
            goto fail;
        }
    } else {
        snprintf(e->focus, sizeof e->focus, "%s", e->w[0].name);
    }
    cJSON_Delete(wroot);
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(wroot);
    cJSON_Delete(root);
    lab_experiment_free(e);
    return -1;
}
