/*
 * plan.c - the workloads file, and the plan file (format 1) written by
 * every policy and read by the simulator and the real provisioner.
 */
#include "policies/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pol_plan_free(pol_plan *p)
{
    for (size_t i = 0; i < p->ngpus; i++)
        free(p->gpus[i].inst);
    free(p->gpus);
    memset(p, 0, sizeof *p);
}

/* The string member key of o into dst (cap bytes, NUL included). */
static int str_field(const cJSON *o, const char *key, const char *where,
                     char *dst, size_t cap, ut_err *err)
{
    const char *src;
    if (ut_json_str(o, key, where, &src, err) < 0)
        return -1;
    if (strlen(src) >= cap)
        return ut_errf(err, "%s.%s: expected at most %zu characters, got "
                       "\"%.40s...\"", where, key, cap - 1, src);
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

int pol_workloads_from_json(const cJSON *arr, const char *where0,
                            const mdl_fitted *fit, pol_workload **out,
                            size_t *n, ut_err *err)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        char d[64];
        return ut_errf(err, "%s: expected a non-empty array, got %s", where0,
                       cJSON_IsArray(arr) ? "an empty array"
                                          : ut_json_describe(arr, d, sizeof d));
    }
    size_t cnt = (size_t)cJSON_GetArraySize(arr), i = 0;
    pol_workload *w = ut_xcalloc(cnt, sizeof *w);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        char where[300];
        snprintf(where, sizeof where, "%s[%zu]", where0, i);
        if (!cJSON_IsObject(e)) {
            ut_errf(err, "%s: expected an object, got something else", where);
            goto fail;
        }
        if (str_field(e, "name", where, w[i].name, sizeof w[i].name, err) ||
            str_field(e, "model", where, w[i].model, sizeof w[i].model,
                      err) ||
            ut_json_pos(e, "slo_ms", where, &w[i].slo_ms, err) ||
            ut_json_pos(e, "rate_rps", where, &w[i].rate_rps, err))
            goto fail;
        char wm[320];
        snprintf(wm, sizeof wm, "%s.model", where);
        if (fit && mdl_find_or_err(fit, w[i].model, wm, err) < 0)
            goto fail;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(w[j].name, w[i].name)) {
                ut_errf(err, "%s.name: expected a unique name, got \"%s\" "
                        "again (also [%zu])", where, w[i].name, j);
                goto fail;
            }
        i++;
    }
    *out = w;
    *n = cnt;
    return 0;
fail:
    free(w);
    return -1;
}

int pol_workloads_load(const char *path, const mdl_fitted *fit,
                       pol_workload **out, size_t *n, ut_err *err)
{
    *out = NULL;
    *n = 0;
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return -1;
    char where[300];
    snprintf(where, sizeof where, "%s: workloads", path);
    int rc = pol_workloads_from_json(
        cJSON_GetObjectItemCaseSensitive(root, "workloads"), where, fit, out,
        n, err);
    cJSON_Delete(root);
    return rc;
}

char *pol_plan_to_json(const pol_plan *p)
{
    ut_buf b = {0};
    char d[32];
    ut_buf_printf(&b, "{\n  \"format\": %d,\n  \"generator\": \"igniter %s\","
                  "\n  \"policy\": ", POL_PLAN_FORMAT, IGNITER_VERSION);
    ut_buf_json_str(&b, p->policy);
    ut_buf_printf(&b, ",\n  \"policy_version\": %d,\n  \"faithful\": %s,\n"
                  "  \"gpu_type\": ", p->policy_version,
                  p->faithful ? "true" : "false");
    ut_buf_json_str(&b, p->gpu_type);
    ut_buf_printf(&b, ",\n  \"price_per_hour\": %s,\n",
                  ut_fmt_double(p->price_per_hour, d));
    ut_buf_printf(&b, "  \"num_gpus\": %zu,\n  \"cost_per_hour\": %s,\n"
                  "  \"gpus\": [", p->ngpus,
                  ut_fmt_double(p->cost_per_hour, d));
    for (size_t j = 0; j < p->ngpus; j++) {
        const pol_gpu *g = &p->gpus[j];
        ut_buf_printf(&b, "%s\n    {\"gpu\": %zu, \"type\": ", j ? "," : "",
                      j);
        ut_buf_json_str(&b, g->type);
        ut_buf_printf(&b, ", \"replica\": %s, \"workloads\": [",
                      g->replica ? "true" : "false");
        for (size_t i = 0; i < g->n; i++) {
            const pol_instance *in = &g->inst[i];
            ut_buf_printf(&b, "%s\n      {\"name\": ", i ? "," : "");
            ut_buf_json_str(&b, in->name);
            ut_buf_printf(&b, ", \"model\": ");
            ut_buf_json_str(&b, in->model);
            ut_buf_printf(&b, ", \"batch\": %d, ", in->batch);
            ut_buf_printf(&b, "\"resource_pct\": %s, ",
                          ut_fmt_double(in->share_pct, d));
            ut_buf_printf(&b, "\"rate_rps\": %s, ",
                          ut_fmt_double(in->rate_rps, d));
            ut_buf_printf(&b, "\"slo_ms\": %s,\n       ",
                          ut_fmt_double(in->slo_ms, d));
            ut_buf_printf(&b, "\"predicted_latency_ms\": %s, ",
                          ut_fmt_double(in->predicted_latency_ms, d));
            ut_buf_printf(&b, "\"predicted_throughput_rps\": %s}",
                          ut_fmt_double(in->predicted_throughput_rps, d));
        }
        ut_buf_printf(&b, "\n    ]}");
    }
    ut_buf_printf(&b, "\n  ]");
    if (p->solve_status[0]) {
        /* only exact policies set it: other plans stay byte for byte */
        double gap = p->ngpus ? 100 * ((double)p->ngpus - p->solve_bound_gpus)
                                    / (double)p->ngpus
                              : 0;
        ut_buf_printf(&b, ",\n  \"solve\": {\"status\": ");
        ut_buf_json_str(&b, p->solve_status);
        ut_buf_printf(&b, ", \"lower_bound_gpus\": %s, ",
                      ut_fmt_double(p->solve_bound_gpus, d));
        ut_buf_printf(&b, "\"gap_pct\": %s, ", ut_fmt_double(gap, d));
        ut_buf_printf(&b, "\"max_split\": %d}", p->solve_max_split);
    }
    ut_buf_printf(&b, "\n}\n");
    return b.s;
}

char *pol_plan_table(const pol_plan *p, const char *predicts)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "%-4s %-12s %-10s %5s %8s %11s %9s %8s %11s\n", "GPU",
                  "workload", "model", "batch", "share %", "predicted",
                  "SLO/2", "SLO", "rate");
    ut_buf_printf(&b, "%-4s %-12s %-10s %5s %8s %11s %9s %8s %11s\n", "", "",
                  "", "", "", "ms", "ms", "ms", "req/s");
    for (size_t j = 0; j < p->ngpus; j++) {
        const pol_gpu *g = &p->gpus[j];
        for (size_t i = 0; i < g->n; i++) {
            const pol_instance *in = &g->inst[i];
            const char *ok = in->predicted_latency_ms <= in->slo_ms / 2
                                 ? " "
                                 : "!";
            ut_buf_printf(&b, "%-4zu %-12.12s %-10.10s %5d %8.1f %10.2f%s "
                          "%9.2f %8.1f %11.1f%s\n", j, in->name, in->model,
                          in->batch, in->share_pct, in->predicted_latency_ms,
                          ok, in->slo_ms / 2, in->slo_ms, in->rate_rps,
                          g->replica ? "  (whole-GPU replica)" : "");
        }
    }
    ut_buf_printf(&b, "\npolicy %s%s: %zu x %s at $%.3f/h = $%.2f per hour\n",
                  p->policy, p->faithful ? " (faithful to the reference)" : "",
                  p->ngpus, p->gpu_type, p->price_per_hour, p->cost_per_hour);
    if (!strcmp(p->solve_status, "optimal"))
        ut_buf_printf(&b, "solve: optimal (no plan of this formulation has "
                      "fewer GPUs)\n");
    else if (p->solve_status[0])
        ut_buf_printf(&b, "solve: stopped (%s): at least %g GPUs, gap %.1f "
                      "%%\n", p->solve_status, p->solve_bound_gpus,
                      p->ngpus ? 100 * ((double)p->ngpus -
                                        p->solve_bound_gpus) /
                                     (double)p->ngpus
                               : 0);
    ut_buf_printf(&b, "(predicted: latency of one batch by %s, against "
                  "SLO/2, the execution budget; '!' marks a miss)\n",
                  predicts ? predicts : "iGniter's model");
    return b.s;
}

int pol_plan_load(const char *path, pol_plan *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return -1;
    long fmt, ver = 0;
    double num_gpus;
    const cJSON *gpus;
    if (ut_json_int(root, "format", path, POL_PLAN_FORMAT, POL_PLAN_FORMAT,
                    &fmt, err) ||
        str_field(root, "policy", path, p->policy, sizeof p->policy, err) ||
        str_field(root, "gpu_type", path, p->gpu_type, sizeof p->gpu_type,
                  err) ||
        ut_json_nonneg(root, "price_per_hour", path, &p->price_per_hour,
                       err) ||
        ut_json_nonneg(root, "cost_per_hour", path, &p->cost_per_hour, err) ||
        ut_json_nonneg(root, "num_gpus", path, &num_gpus, err))
        goto fail;
    if (cJSON_GetObjectItemCaseSensitive(root, "policy_version") &&
        ut_json_int(root, "policy_version", path, 0, 1000000, &ver, err))
        goto fail;
    p->policy_version = (int)ver;
    p->faithful = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root,
                                                               "faithful"));
    const cJSON *solve = cJSON_GetObjectItemCaseSensitive(root, "solve");
    if (solve) {
        char sw[UT_PATH_MAX + 16];
        snprintf(sw, sizeof sw, "%s: solve", path);
        if (str_field(solve, "status", sw, p->solve_status,
                      sizeof p->solve_status, err) ||
            ut_json_nonneg(solve, "lower_bound_gpus", sw,
                           &p->solve_bound_gpus, err))
            goto fail;
        long split = 0;
        if (cJSON_GetObjectItemCaseSensitive(solve, "max_split") &&
            ut_json_int(solve, "max_split", sw, 0, 1000000, &split, err))
            goto fail;
        p->solve_max_split = (int)split;
    }
    gpus = cJSON_GetObjectItemCaseSensitive(root, "gpus");
    if (!cJSON_IsArray(gpus)) {
        char d[64];
        ut_errf(err, "%s: gpus: expected an array, got %s", path,
                ut_json_describe(gpus, d, sizeof d));
        goto fail;
    }
    /* the count is set only together with the array it counts, so that
     * pol_plan_free on the error path never walks gpus it was not given */
    size_t ngpus = (size_t)cJSON_GetArraySize(gpus);
    if ((double)ngpus != num_gpus) {
        ut_errf(err, "%s: num_gpus: expected %zu (the length of gpus), got %g",
                path, ngpus, num_gpus);
        goto fail;
    }
    p->gpus = ut_xcalloc(ngpus, sizeof *p->gpus);
    p->ngpus = ngpus;
    size_t j = 0;
    const cJSON *g;
    cJSON_ArrayForEach(g, gpus) {
        char where[300];
        snprintf(where, sizeof where, "%s: gpus[%zu]", path, j);
        pol_gpu *pg = &p->gpus[j++];
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "workloads");
        if (str_field(g, "type", where, pg->type, sizeof pg->type, err))
            goto fail;
        pg->replica = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g,
                                                                   "replica"));
        if (!cJSON_IsArray(ws) || cJSON_GetArraySize(ws) == 0) {
            ut_errf(err, "%s.workloads: expected a non-empty array", where);
            goto fail;
        }
        pg->n = (size_t)cJSON_GetArraySize(ws);
        pg->inst = ut_xcalloc(pg->n, sizeof *pg->inst);
        size_t i = 0;
        double total = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, ws) {
            char wh[340];
            snprintf(wh, sizeof wh, "%s.workloads[%zu]", where, i);
            pol_instance *in = &pg->inst[i++];
            long batch;
            if (str_field(w, "name", wh, in->name, sizeof in->name, err) ||
                str_field(w, "model", wh, in->model, sizeof in->model, err) ||
                ut_json_int(w, "batch", wh, 1, 1000000, &batch, err) ||
                ut_json_pos(w, "resource_pct", wh, &in->share_pct, err) ||
                ut_json_pos(w, "rate_rps", wh, &in->rate_rps, err) ||
                ut_json_pos(w, "slo_ms", wh, &in->slo_ms, err))
                goto fail;
            in->batch = (int)batch;
            in->predicted_latency_ms = in->predicted_throughput_rps = NAN;
            ut_json_num(w, "predicted_latency_ms", wh,
                        &in->predicted_latency_ms, NULL);
            ut_json_num(w, "predicted_throughput_rps", wh,
                        &in->predicted_throughput_rps, NULL);
            if (in->share_pct > 100) {
                ut_errf(err, "%s.resource_pct: expected at most 100, got %g",
                        wh, in->share_pct);
                goto fail;
            }
            total += in->share_pct;
        }
        if (total > 100 + 1e-9) {
            ut_errf(err, "%s: expected shares that add up to at most 100 %%, "
                    "got %g", where, total);
            goto fail;
        }
    }
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    pol_plan_free(p);
    return -1;
}

double pol_gpu_share(const pol_plan *p, size_t j)
{
    double sum = 0;
    for (size_t k = 0; k < p->gpus[j].n; k++)
        sum += p->gpus[j].inst[k].share_pct;
    return sum;
}

double pol_gpu_room(const pol_plan *p, size_t j, double colocated_pct)
{
    return (p->gpus[j].n >= 2 ? colocated_pct : 100) - pol_gpu_share(p, j);
}

size_t pol_instances_of(const pol_plan *p, const char *name, size_t *gpu,
                        size_t *index, size_t max)
{
    size_t n = 0;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++)
            if (!strcmp(p->gpus[j].inst[k].name, name)) {
                if (n < max) {
                    gpu[n] = j;
                    index[n] = k;
                }
                n++;
            }
    return n;
}
