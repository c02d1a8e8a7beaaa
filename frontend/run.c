/*
 * run.c - a run's configuration checked and bound to its plan, routing,
 * and the defaults both the simulator and the real provisioner apply
 * (frontend.h). Kept in one place so that sim and serve cannot drift: the
 * limits, the default batcher delay and the binding of plan instances to
 * workloads are the same for both by construction.
 */
#include "frontend/frontend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fe_workload_defaults(fe_workload_cfg *c, const char *name,
                          double rate_rps)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->arrivals.kind = TRACE_POISSON;
    c->arrivals.rate_rps = rate_rps;
    c->max_delay_ms = -1;
}

int64_t fe_batch_delay_ns(const fe_workload_cfg *wc, double slo_ms)
{
    double ms = wc->max_delay_ms >= 0 ? wc->max_delay_ms : slo_ms / 2;
    return llround(ms * 1e6);
}

/* Smooth weighted round robin (nginx's): every active entry gains its
 * weight, the largest is picked and pays the total back. Deterministic and
 * as even as integer counts allow, with no random number to seed. */
int fe_wrr_pick(fe_wrr *rr, const int *idx, size_t n, double total)
{
    if (n == 1)
        return idx[0];
    int best = -1;
    for (size_t j = 0; j < n; j++) {
        fe_wrr *e = &rr[idx[j]];
        if (!e->active)
            continue;
        e->current += e->weight;
        if (best < 0 || e->current > rr[best].current)
            best = idx[j];
    }
    if (best < 0)
        return idx[0];
    rr[best].current -= total;
    return best;
}

/* Checks the run; on success *names holds the workloads' names sorted
 * (the caller frees it), for finding a plan instance's workload without a
 * scan, and for unique names without comparing every pair: 100,000
 * workloads. */
static int check_run(const fe_run *c, ut_key **names, ut_err *err)
{
    *names = NULL;
    if (!(c->duration_s > 0) || !isfinite(c->duration_s) ||
        c->duration_s > FE_MAX_DURATION_S)
        return ut_errf(err, "duration_s: expected a positive number of "
                       "seconds, got %g", c->duration_s);
    if (!(c->warmup_s >= 0) || c->warmup_s >= c->duration_s)
        return ut_errf(err, "warmup_s: expected a number in [0, duration_s = "
                       "%g), got %g", c->duration_s, c->warmup_s);
    if (c->interval_s < 0 || (c->interval_s > 0 &&
                              c->duration_s / c->interval_s >
                                  FE_MAX_INTERVALS))
        return ut_errf(err, "interval_s: expected a positive number of "
                       "seconds, at most 1e7 intervals, got %g", c->interval_s);
    if (!c->plan || c->plan->ngpus == 0)
        return ut_errf(err, "plan: expected at least one GPU, got none");
    ut_key *x = ut_xmalloc((c->nw ? c->nw : 1) * sizeof *x);
    size_t *first = ut_xmalloc((c->nw ? c->nw : 1) * sizeof *first);
    for (size_t w = 0; w < c->nw; w++)
        x[w] = (ut_key){c->wcfg[w].name, w};
    ut_keys_sort(x, c->nw);
    ut_keys_first(x, c->nw, first);
    int rc = 0;
    for (size_t w = 0; w < c->nw && rc == 0; w++) {
        if (pol_check_name(c->wcfg[w].name, "workload", err) < 0)
            rc = -1;
        else if (first[w] != w)
            rc = ut_errf(err, "workload \"%s\": expected unique names, "
                         "got it twice", c->wcfg[w].name);
    }
    free(first);
    if (rc < 0)
        free(x);
    else
        *names = x;
    return rc;
}

void fe_binding_free(fe_binding *b)
{
    trace_files_free(b->files);
    for (size_t w = 0; b->winst && w < b->nw; w++)
        free(b->winst[w]);
    free(b->winst);
    free(b->nwinst);
    free(b->wtotal);
    free(b->inst_w);
    free(b->inst_gpu);
    free(b->inst_slot);
    free(b->inst_pi);
    free(b->rr);
    memset(b, 0, sizeof *b);
}

int fe_bind(const fe_run *c, fe_binding *b, ut_err *err)
{
    memset(b, 0, sizeof *b);
    ut_key *names;
    if (check_run(c, &names, err) < 0)
        return -1;
    const pol_plan *p = c->plan;
    b->files = trace_files_new();
    for (size_t j = 0; j < p->ngpus; j++)
        b->ninst += p->gpus[j].n;
    b->nw = c->nw;
    size_t ni = b->ninst ? b->ninst : 1, nw = c->nw ? c->nw : 1;
    b->inst_w = ut_xcalloc(ni, sizeof *b->inst_w);
    b->inst_gpu = ut_xcalloc(ni, sizeof *b->inst_gpu);
    b->inst_slot = ut_xcalloc(ni, sizeof *b->inst_slot);
    b->inst_pi = ut_xcalloc(ni, sizeof *b->inst_pi);
    b->rr = ut_xcalloc(ni, sizeof *b->rr);
    b->winst = ut_xcalloc(nw, sizeof *b->winst);
    b->nwinst = ut_xcalloc(nw, sizeof *b->nwinst);
    b->wtotal = ut_xcalloc(nw, sizeof *b->wtotal);
    size_t i = 0;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++, i++) {
            const pol_instance *pi = &p->gpus[j].inst[k];
            if (!(pi->slo_ms > 0) || !(pi->slo_ms <= FE_MAX_TIME_MS)) {
                ut_errf(err, "plan: gpus[%zu].workloads[%zu].slo_ms: "
                        "expected a positive number of ms up to %g, got %g",
                        j, k, FE_MAX_TIME_MS, pi->slo_ms);
                goto fail;
            }
            if (!(pi->rate_rps >= 0) || !isfinite(pi->rate_rps)) {
                ut_errf(err, "plan: gpus[%zu].workloads[%zu].rate_rps: "
                        "expected a finite number >= 0, got %g", j, k,
                        pi->rate_rps);
                goto fail;
            }
            size_t w = ut_keys_find(names, c->nw, pi->name);
            if (w == SIZE_MAX) {
                ut_errf(err, "plan: gpus[%zu].workloads[%zu]: workload "
                        "\"%s\" has no arrival settings (not in the "
                        "workloads)", j, k, pi->name);
                goto fail;
            }
            b->inst_w[i] = (int)w;
            b->inst_gpu[i] = (int)j;
            b->inst_slot[i] = (int)k;
            b->inst_pi[i] = pi;
            b->rr[i].weight = pi->rate_rps;
            b->rr[i].active = 1;
            b->wtotal[w] += pi->rate_rps;
            b->nwinst[w]++;
        }
    /* each workload's instances, in plan order, in an array of their
     * number (not one of every instance per workload: 100,000 of each) */
    for (size_t w = 0; w < c->nw; w++) {
        b->winst[w] = ut_xmalloc((b->nwinst[w] ? b->nwinst[w] : 1) *
                                 sizeof *b->winst[w]);
        b->nwinst[w] = 0;
    }
    for (i = 0; i < b->ninst; i++)
        b->winst[b->inst_w[i]][b->nwinst[b->inst_w[i]]++] = (int)i;
    for (size_t w = 0; w < c->nw; w++) {
        double d = c->wcfg[w].max_delay_ms;
        if (!(d < 0) && !(d <= FE_MAX_TIME_MS)) {
            ut_errf(err, "workload \"%s\": max_delay_ms: expected a number "
                    "of ms up to %g (or none: half the SLO), got %g",
                    c->wcfg[w].name, FE_MAX_TIME_MS, d);
            goto fail;
        }
        for (size_t k = 0; k < c->wcfg[w].nslow && k < FE_MAX_SLOWDOWNS;
             k++) {
            char where[POL_NAME_MAX + 40];
            snprintf(where, sizeof where, "workload \"%s\": slowdowns[%zu]",
                     c->wcfg[w].name, k);
            if (fe_slowdown_check(&c->wcfg[w].slow[k], where, err) < 0)
                goto fail;
        }
        if (c->wcfg[w].has_wake) {
            char where[POL_NAME_MAX + 40];
            snprintf(where, sizeof where, "workload \"%s\": wakes",
                     c->wcfg[w].name);
            if (fe_wake_check(c->wcfg[w].wake_us, where, err) < 0)
                goto fail;
        }
        if (b->nwinst[w] == 0) {
            ut_errf(err, "workload \"%s\": expected an instance in the plan, "
                    "got none", c->wcfg[w].name);
            goto fail;
        }
        /* made and dropped here so that a bad spec or trace file is an
         * error before anything runs; the runs make their own from the
         * same loaded files */
        trace_gen *g = trace_gen_new_shared(&c->wcfg[w].arrivals, c->seed,
                                            c->wcfg[w].name, b->files, err);
        if (!g) {
            ut_errprefix(err, "workload \"%s\": arrivals", c->wcfg[w].name);
            goto fail;
        }
        trace_gen_free(g);
    }
    free(names);
    b->end_ns = llround(c->duration_s * 1e9);
    b->warm_ns = llround(c->warmup_s * 1e9);
    b->iv_ns = llround((c->interval_s > 0 ? c->interval_s : 1) * 1e9);
    return 0;
fail:
    free(names);
    fe_binding_free(b);
    return -1;
}

void fe_rec_init_bound(fe_rec *r, const fe_run *run, const fe_binding *b)
{
    fe_rec_init(r, run->nw, b->warm_ns, b->iv_ns, run->trace_max);
    for (size_t w = 0; w < run->nw; w++) {
        fe_wstats *ws = &r->st[w];
        snprintf(ws->name, sizeof ws->name, "%s", run->wcfg[w].name);
        ws->rate_rps = run->wcfg[w].arrivals.rate_rps;
    }
    for (size_t i = 0; i < b->ninst; i++) {
        const pol_instance *pi = b->inst_pi[i];
        fe_wstats *ws = &r->st[b->inst_w[i]];
        snprintf(ws->model, sizeof ws->model, "%s", pi->model);
        ws->slo_ms = pi->slo_ms;
        ws->instances++;
        r->iv[b->inst_w[i]].slo_ns = llround(pi->slo_ms * 1e6);
    }
}

int fe_service_dist_parse(const char *s, const char *where, int *exp,
                          double *cv, ut_err *err)
{
    *exp = 0;
    *cv = 0;
    if (!strcmp(s, "const"))
        return 0;
    if (!strcmp(s, "exp")) {
        *exp = 1;
        return 0;
    }
    if (!strncmp(s, "gamma:", 6)) {
        char *end;
        double v = strtod(s + 6, &end);
        if (end != s + 6 && !*end && v > 0 && v <= 10) {
            *cv = v;
            return 0;
        }
    }
    return ut_errf(err, "%s: expected const, exp or gamma:CV (CV in (0, "
                   "10]), got \"%s\"", where, s);
}
