/*
 * registry.c - the table of policies and the GPU catalog.
 *
 * Adding a policy: write policies/<name>.c defining `const pol_ops pol_<name>`
 * and add one line to the table below (policies/README.md walks through it).
 */
#include "policies/policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const pol_ops pol_igniter, pol_igniter_sg, pol_igniter_plus, pol_ffd, pol_exclusive,
    pol_gslice, pol_gpulets, pol_gpulets_knee, pol_optimal, pol_example;

static const pol_ops *const registry[] = {
    &pol_igniter,
    &pol_igniter_sg,
    &pol_ffd,
    &pol_exclusive,
    &pol_gslice,
    &pol_gpulets,
    &pol_gpulets_knee,
    &pol_optimal,
    &pol_example,
    /* new policies go last: a policy's figure colour is its index here
     * (compare's figdata/meta), so the shipped figures keep theirs */
    &pol_igniter_plus,
    NULL,
};

const char *const pol_env_params[] = {
    "IGNITER_PLUS_MARGIN_PCT",   /* igniter_plus.c */
    "IGNITER_OPTIMAL_TIME_S",    /* optimal.c */
    "IGNITER_OPTIMAL_NODES",
    "IGNITER_OPTIMAL_SPLITS",
    NULL,
};

int pol_env_num(const char *name, double lo, double hi, int integer,
                const char *expect, double *v, ut_err *err)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || errno || !(x >= lo) || !(x <= hi) ||
        (integer && x != floor(x))) {
        if (expect)
            return ut_errf(err, "%s: expected %s, got \"%.40s\"", name,
                           expect, s);
        return ut_errf(err, "%s: expected a %snumber from %g to %g, got "
                       "\"%.40s\"", name, integer ? "whole " : "", lo, hi, s);
    }
    *v = x;
    return 0;
}

const pol_ops *const *pol_all(void) { return registry; }

const pol_ops *pol_find(const char *name)
{
    for (size_t i = 0; registry[i]; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

const char *pol_predicts(const char *name)
{
    const pol_ops *ops = pol_find(name);
    return ops ? ops->predicts : NULL;
}

static const char *policy_name(const void *ctx, size_t i)
{
    (void)ctx;
    return registry[i]->name;
}

const char *pol_names(char *out, size_t n)
{
    size_t count = 0;
    while (registry[count])
        count++;
    return ut_names(out, n, policy_name, NULL, count);
}

int pol_make_plan(const char *policy, const pol_request *req, pol_plan *out,
             ut_err *err)
{
    const pol_ops *ops = pol_find(policy);
    if (!ops) {
        char names[256];
        return ut_errf(err, "policy: expected one of %s, got \"%s\"",
                       pol_names(names, sizeof names), policy);
    }
    if (ops->version != POL_OPS_VERSION)
        return ut_errf(err, "policy \"%s\": built for interface version %d, "
                       "this build has %d", policy, ops->version,
                       POL_OPS_VERSION);
    if (pol_check_request(req, err) < 0)
        return -1;
    if (ops->plan(req, out, err) < 0)
        return -1;
    snprintf(out->policy, sizeof out->policy, "%s", ops->name);
    out->policy_version = ops->version;
    out->faithful = req->faithful;
    snprintf(out->gpu_type, sizeof out->gpu_type, "%s", req->fit->gpu);
    out->price_per_hour = pol_price_per_hour(req->fit->gpu,
                                             req->fit->price_per_hour);
    out->cost_per_hour = (double)out->ngpus * out->price_per_hour;
    if (pol_plan_check(out, req->fit, err) < 0) {
        ut_errprefix(err, "policy %s made an invalid plan", ops->name);
        pol_plan_free(out);
        return -1;
    }
    return 0;
}

/* Prices are on-demand, Linux, us-east-1, one GPU per instance where AWS
 * has one (AWS EC2 pricing pages for the instance types named). The share unit is the
 * profile's: 2.5 % (one 80th of the SMs, in pairs) on the V100, as the
 * iGniter authors used; 100/40 SMs in pairs for the T4. */
static const pol_gpu_type catalog[] = {
    {"V100", 3.06, 80, 2.5, "traces/v100/profile.json",
     "AWS EC2 p3.2xlarge on-demand, us-east-1 (the instance of the iGniter "
     "paper)"},
    {"T4", 0.526, 40, 5.0, NULL, "AWS EC2 g4dn.xlarge on-demand, us-east-1"},
    /* no one-GPU H100 instance: an eighth of the 8-GPU p5.48xlarge. The
     * share unit is a partition step of the capture tool, 8 of 132 SMs */
    {"H100", 12.29, 132, 100.0 * 8 / 132, "traces/h100/profile.json",
     "an eighth of AWS EC2 p5.48xlarge on-demand, us-east-1, $98.32/h for "
     "8 x H100 (price at launch, The Next Platform, 2023-07-27)"},
    {NULL, 0, 0, 0, NULL, NULL},
};

const pol_gpu_type *pol_catalog(void) { return catalog; }

const pol_gpu_type *pol_catalog_find(const char *name)
{
    for (size_t i = 0; catalog[i].name; i++)
        if (!strcmp(catalog[i].name, name))
            return &catalog[i];
    return NULL;
}

double pol_price_per_hour(const char *gpu, double given)
{
    if (given > 0)
        return given;
    const pol_gpu_type *t = pol_catalog_find(gpu);
    return t ? t->price_per_hour : 0;
}

int pol_check_name(const char *name, const char *where, ut_err *err)
{
    size_t n = strlen(name);
    int ctl = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        ctl |= *p < 0x20 || *p == 0x7f;
    if (n == 0 || n >= POL_NAME_MAX || ctl || !strcmp(name, "all")) {
        char d[96];
        ut_buf b = {0};
        ut_buf_json_str(&b, name);
        snprintf(d, sizeof d, "%.80s", b.s);
        ut_buf_free(&b);
        return ut_errf(err, "%s: expected a name of 1..%d characters with "
                       "no control characters, not \"all\" (the aggregate "
                       "rows' name), got %s", where, POL_NAME_MAX - 1, d);
    }
    return 0;
}

/* Workload i's checks, in the order of its fields; first: the earliest
 * workload of the same name (i itself if none is earlier). */
static int check_workload(const pol_request *req, size_t i, size_t first,
                          ut_err *err)
{
    const pol_workload *w = &req->w[i];
    char wn[48];
    snprintf(wn, sizeof wn, "workloads[%zu].name", i);
    if (pol_check_name(w->name, wn, err) < 0)
        return -1;
    char where[48];
    snprintf(where, sizeof where, "workloads[%zu].model", i);
    if (mdl_find_or_err(req->fit, w->model, where, err) < 0)
        return -1;
    if (!(w->slo_ms > 0) || !(w->slo_ms <= POL_MAX_SLO_MS))
        return ut_errf(err, "workloads[%zu].slo_ms: expected a positive "
                       "number of ms up to %g, got %g", i, POL_MAX_SLO_MS,
                       w->slo_ms);
    if (!(w->rate_rps > 0) || !(w->rate_rps <= POL_MAX_RATE_RPS))
        return ut_errf(err, "workloads[%zu].rate_rps: expected a "
                       "positive number of requests/s up to %g, got %g",
                       i, POL_MAX_RATE_RPS, w->rate_rps);
    if (first != i)
        return ut_errf(err, "workloads[%zu].name: expected a unique "
                       "name, got \"%s\" again (also [%zu])", i,
                       w->name, first);
    return 0;
}

/* Unique names through a sorted copy, not a scan of the earlier ones:
 * 100,000 workloads are checked in milliseconds. The messages name the
 * first bad workload, and the first earlier one of the same name, as the
 * scan did. */
int pol_check_request(const pol_request *req, ut_err *err)
{
    if (req->n == 0)
        return ut_errf(err, "workloads: expected at least one, got none");
    ut_key *x = ut_xmalloc(req->n * sizeof *x);
    size_t *first = ut_xmalloc(req->n * sizeof *first);
    for (size_t i = 0; i < req->n; i++)
        x[i] = (ut_key){req->w[i].name, i};
    ut_keys_sort(x, req->n);
    ut_keys_first(x, req->n, first);
    free(x);
    int rc = 0;
    for (size_t i = 0; i < req->n && rc == 0; i++)
        rc = check_workload(req, i, first[i], err);
    free(first);
    return rc;
}
