/*
 * prepare.c - from an experiment file and command-line overrides to a run
 * ready for the simulator or the real provisioner (lab.h): what
 * `igniter sim` and `igniter serve` share, and what compare does for each
 * of its runs.
 */
#include "lab/lab.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void lab_opts_init(lab_opts *o)
{
    memset(o, 0, sizeof *o);
    o->duration_s = o->warmup_s = o->interval_s = -1;
    o->max_delay_ms = o->service_ms = o->reconfig_delay_s = -1;
    o->seed = o->queue_limit = -1;
    o->trace_max = 0;
}

void lab_prepared_free(lab_prepared *p)
{
    free(p->slow_json);
    if (p->own_wcfg)
        free(p->wcfg);
    lab_experiment_free(&p->e);
    pol_plan_free(&p->plan);
    mdl_fitted_free(&p->fit);
    if (p->have_meas)
        mdl_measured_free(&p->meas);
    mdl_power_free(&p->power);
    memset(p, 0, sizeof *p);
}

char *lab_slow_json(const fe_workload_cfg *wc, size_t nw, size_t *nslow)
{
    ut_buf slow = {0}, wake = {0};
    size_t ns = fe_slowdown_json(&slow, wc, nw);
    size_t nk = fe_wake_json(&wake, wc, nw);
    if (nk)   /* recorded beside the slow-downs */
        ut_buf_printf(&slow, "%s%s", ns ? ", " : "", wake.s);
    ut_buf_free(&wake);
    if (nslow)
        *nslow = ns;
    if (ns || nk)
        return slow.s;
    ut_buf_free(&slow);
    return NULL;
}

/* One workload per distinct name in the plan, Poisson at the total rate of
 * its instances, in the order of their first instances. Names are matched
 * through a sort (ut_keys): a plan of 100,000 instances would take
 * minutes with a scan per instance. */
static fe_workload_cfg *wcfg_from_plan(const pol_plan *plan, size_t *nw)
{
    size_t ni = 0;
    for (size_t j = 0; j < plan->ngpus; j++)
        ni += plan->gpus[j].n;
    const pol_instance **pi = ut_xcalloc(ni ? ni : 1, sizeof *pi);
    ut_key *x = ut_xcalloc(ni ? ni : 1, sizeof *x);
    size_t i = 0;
    for (size_t j = 0; j < plan->ngpus; j++)
        for (size_t k = 0; k < plan->gpus[j].n; k++, i++) {
            pi[i] = &plan->gpus[j].inst[k];
            x[i] = (ut_key){pi[i]->name, i};
        }
    ut_keys_sort(x, ni);
    size_t *first = ut_xcalloc(ni ? ni : 1, sizeof *first);
    size_t *slot = ut_xcalloc(ni ? ni : 1, sizeof *slot);
    ut_keys_first(x, ni, first);
    size_t n = 0;
    for (i = 0; i < ni; i++)
        if (first[i] == i)
            slot[i] = n++;
    fe_workload_cfg *wcfg = ut_xmalloc((n ? n : 1) * sizeof *wcfg);
    for (i = 0; i < ni; i++) {
        if (first[i] == i)
            fe_workload_defaults(&wcfg[slot[i]], pi[i]->name, 0);
        wcfg[slot[first[i]]].arrivals.rate_rps += pi[i]->rate_rps;
    }
    free(pi);
    free(x);
    free(first);
    free(slot);
    *nw = n;
    return wcfg;
}

/*
 * Each workload's model: that of its first instance, found through the
 * sorted names (a plan may hold 100,000). The caller frees the array, not
 * the names (the plan's).
 */
static const char **models_of(const pol_plan *plan, const fe_workload_cfg *wc,
                              size_t nw)
{
    const char **models = ut_xcalloc(nw ? nw : 1, sizeof *models);
    ut_key *x = ut_xmalloc((nw ? nw : 1) * sizeof *x);
    for (size_t w = 0; w < nw; w++)
        x[w] = (ut_key){wc[w].name, w};
    ut_keys_sort(x, nw);
    for (size_t j = 0; j < plan->ngpus; j++)
        for (size_t k = 0; k < plan->gpus[j].n; k++) {
            size_t at = ut_keys_find(x, nw, plan->gpus[j].inst[k].name);
            if (at != SIZE_MAX && !models[at])
                models[at] = plan->gpus[j].inst[k].model;
        }
    free(x);
    return models;
}

/*
 * The command line's slow-downs (lab_opts.slowdowns) in place of the
 * experiment's: each names a workload of the run or, when none has that
 * name, a model of the plan (every workload whose instances run it).
 */
static int cli_slowdowns(const lab_opts *o, const pol_plan *plan,
                         fe_workload_cfg *wc, size_t nw, ut_err *err)
{
    if (o->nslowdowns == 0)
        return 0;
    for (size_t w = 0; w < nw; w++)
        wc[w].nslow = 0;
    const char **models = models_of(plan, wc, nw);
    int rc = 0;
    for (size_t i = 0; i < o->nslowdowns && rc == 0; i++) {
        const char *spec = o->slowdowns[i], *target;
        size_t tlen;
        fe_slowdown sd;
        char where[160];
        if (!strcmp(spec, "none"))
            continue;
        snprintf(where, sizeof where, "--slowdown '%.120s'", spec);
        rc = fe_slowdown_parse(spec, where, &target, &tlen, &sd, err);
        if (rc == 0)
            rc = fe_slowdown_add(wc, nw, models, target, tlen, &sd, where,
                                 err);
    }
    free(models);
    return rc;
}

/* The command line's wake costs (lab_opts.wakes) in place of the
 * experiment's, by the same rule. */
static int cli_wakes(const lab_opts *o, const pol_plan *plan,
                     fe_workload_cfg *wc, size_t nw, ut_err *err)
{
    if (o->nwakes == 0)
        return 0;
    for (size_t w = 0; w < nw; w++)
        wc[w].has_wake = 0, wc[w].wake_us = 0;
    const char **models = models_of(plan, wc, nw);
    int rc = 0;
    for (size_t i = 0; i < o->nwakes && rc == 0; i++) {
        const char *spec = o->wakes[i], *target;
        size_t tlen;
        double us;
        char where[160];
        if (!strcmp(spec, "none"))
            continue;
        snprintf(where, sizeof where, "--wake '%.120s'", spec);
        rc = fe_wake_parse(spec, where, &target, &tlen, &us, err);
        if (rc == 0)
            rc = fe_wake_add(wc, nw, models, target, tlen, us, where, err);
    }
    free(models);
    return rc;
}

int lab_power_attach(const char *path, const char *backend,
                     mdl_measured *meas, int have_meas, mdl_power *pw,
                     ut_err *err)
{
    if (!backend || (strcmp(backend, "measured") &&
                     strcmp(backend, "measured-mean")))
        return ut_errf(err, "%s: power: expected a measured back end with "
                       "interference (measured, measured-mean), got %s",
                       path, backend ? backend : "none");
    if (!have_meas)
        return ut_errf(err, "%s: power: expected measured data (--measured) "
                       "for it to apply to, got none", path);
    if (mdl_power_load(path, meas, pw, err) < 0)
        return -1;
    meas->power = pw;
    return 0;
}

int lab_power_check_plan(const mdl_power *pw, const mdl_measured *meas,
                         const pol_plan *plan, const char *path, ut_err *err)
{
    for (size_t g = 0; g < plan->ngpus; g++)
        for (size_t i = 0; i < plan->gpus[g].n; i++) {
            const char *model = plan->gpus[g].inst[i].model;
            int k = mdl_measured_find(meas, model);
            if (k >= 0 && !pw->models[k].has)
                return ut_errf(err, "%s: expected power data for every "
                               "model of the plan, got none for \"%s\"",
                               path, model);
        }
    return 0;
}

int lab_prepare(const lab_opts *o, lab_prepared *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    const char *exp_path = o->experiment, *profile = o->profile,
               *plan_path = o->plan, *backend = o->backend,
               *measured = o->measured, *power = o->power;
    double dur = o->duration_s, warm = o->warmup_s, iv = o->interval_s;
    long long seed = o->seed;
    lab_experiment *e = &p->e;
    if (exp_path) {
        if (lab_experiment_load(exp_path, e, err) < 0)
            goto fail;
        if (!profile)
            profile = e->profile;
        if (!plan_path && e->plan[0])
            plan_path = e->plan;
        if (!backend)
            backend = e->backend;
        if (!measured && e->measured[0])
            measured = e->measured;
        if (!power && e->power[0])
            power = e->power;
        if (dur < 0)
            dur = e->duration_s;
        if (warm < 0)
            warm = e->warmup_s;
        if (iv < 0)
            iv = e->interval_s;
        if (seed < 0)
            seed = (long long)e->seed;
    }
    if (!backend)
        backend = "model";
    if (!o->for_serve && !sim_backend_find(backend)) {
        char names[128];
        ut_errf(err, "%s%sbackend: expected one of %s, got \"%s\"",
                exp_path ? exp_path : "", exp_path ? ": " : "",
                sim_backend_names(names, sizeof names), backend);
        goto fail;
    }
    if (o->for_serve && !profile && !plan_path) {
        ut_errf(err, "%s: expected a profile to plan with, got none",
                exp_path ? exp_path : "experiment");
        goto fail;
    }
    if (profile && mdl_load(profile, &p->fit, err) < 0)
        goto fail;
    p->fit.price_per_hour = pol_price_per_hour(p->fit.gpu,
                                               p->fit.price_per_hour);
    if (measured && !o->for_serve) {
        if (mdl_measured_load(measured, &p->meas, err) < 0)
            goto fail;
        p->have_meas = 1;
    }
    const pol_ops *policy = NULL;
    if (plan_path) {
        if (pol_plan_load(plan_path, &p->plan, err) < 0 ||
            pol_plan_check(&p->plan, profile ? &p->fit : NULL, err) < 0) {
            ut_errprefix(err, "%s", plan_path);
            goto fail;
        }
    } else {
        p->req = (pol_request){e->w, e->nw, &p->fit,
                               p->have_meas ? &p->meas : NULL, e->faithful};
        if (pol_make_plan(e->policy, &p->req, &p->plan, err) < 0) {
            ut_errprefix(err, "%s", exp_path);
            goto fail;
        }
        p->planned = 1;
        policy = pol_find(e->policy);
    }
    if (o->for_serve)
        power = NULL;           /* a real GPU has its own clock */
    if (power) {
        if (lab_power_attach(power, backend, &p->meas, p->have_meas,
                             &p->power, err) < 0 ||
            lab_power_check_plan(&p->power, &p->meas, &p->plan, power,
                                 err) < 0) {
            if (exp_path && power == e->power)
                ut_errprefix(err, "%s", exp_path);
            goto fail;
        }
        p->have_power = 1;
    }
    size_t nw;
    if (exp_path) {
        p->wcfg = e->wcfg;
        nw = e->nw;
    } else {
        p->wcfg = wcfg_from_plan(&p->plan, &nw);
        p->own_wcfg = 1;
    }
    for (size_t w = 0; w < nw; w++) {
        fe_workload_cfg *wc = &p->wcfg[w];
        if (o->arrivals && trace_spec_parse(o->arrivals, wc->arrivals.rate_rps,
                                            &wc->arrivals, err) < 0)
            goto fail;
        if (o->max_delay_ms >= 0)
            wc->max_delay_ms = o->max_delay_ms;
        if (o->queue_limit > 0)
            wc->queue_limit = (size_t)o->queue_limit;
        if (o->service_ms > 0)
            wc->service_ms = o->service_ms;
        if (o->service_dist &&
            fe_service_dist_parse(o->service_dist, "--service-dist",
                                  &wc->service_exp, &wc->service_cv,
                                  err) < 0)
            goto fail;
    }
    if (cli_slowdowns(o, &p->plan, p->wcfg, nw, err) < 0 ||
        cli_wakes(o, &p->plan, p->wcfg, nw, err) < 0)
        goto fail;
    size_t nslow = 0;
    p->slow_json = lab_slow_json(p->wcfg, nw, &nslow);
    if (p->slow_json && o->for_serve) {
        ut_errf(err, "%s: %s: expected none with igniter serve (a simulator "
                "input: a real run measures its GPU)",
                exp_path ? exp_path : nslow ? "--slowdown" : "--wake",
                nslow ? "slowdowns" : "wakes");
        goto fail;
    }
    sim_config *c = &p->cfg;
    fe_run *run = &c->run;
    run->plan = &p->plan;
    run->wcfg = p->wcfg;
    run->nw = nw;
    run->duration_s = dur < 0 ? 60 : dur;
    run->warmup_s = warm < 0 ? 0 : warm;
    run->interval_s = iv < 0 ? 1 : iv;
    run->seed = seed < 0 ? 1 : (uint64_t)seed;
    run->trace_max = o->trace_max > 0 ? (size_t)o->trace_max : 0;
    run->plan_path = plan_path;
    run->profile_path = profile;
    run->measured_path = o->for_serve ? NULL : measured;
    run->power_path = power;
    run->experiment_path = exp_path;
    run->stop = o->stop;
    run->extra_json = p->slow_json;
    /* the options that change a run's outcome are all in its summary; the
     * hash covers the files it reads and the program */
    lab_run_hash(exp_path ? e : NULL, exp_path, plan_path,
                 plan_path ? NULL : e->policy, run->seed, p->input_hash);
    if (profile && !exp_path)
        lab_hash_mix_file(p->input_hash, profile);
    if (power && (!exp_path || power != e->power))   /* else mixed */
        lab_hash_mix_file(p->input_hash, power);
    if (!exp_path)   /* with one, lab_run_hash mixed them (e->wcfg) */
        lab_hash_slowdowns(p->wcfg, nw, p->input_hash);
    run->input_hash = p->input_hash;
    c->fit = &p->fit;
    c->measured = p->have_meas ? &p->meas : NULL;
    c->backend = o->for_serve ? NULL : backend;
    c->policy = policy;
    c->req = policy ? &p->req : NULL;
    c->reconfig_delay_s = o->reconfig_delay_s >= 0 ? o->reconfig_delay_s
                          : exp_path ? e->reconfig_delay_s : -1;
    return 0;
fail:
    lab_prepared_free(p);
    return -1;
}

int lab_simulate(lab_prepared *p, const char *out_dir, fe_result *res,
                 ut_err *err)
{
    return sim_run(&p->cfg, out_dir, res, err);
}

/* The GPU device comes from build/libigniter-gpu.so beside this program
 * (or $IGNITER_GPU_LIB): the igniter binary itself has no CUDA. */
int lab_serve(lab_prepared *p, const lab_serve_opts *so, const char *out_dir,
              fe_result *res, srv_stats *st, ut_err *err)
{
    const srv_gpu_plugin *gpu = NULL;
    void *lib = NULL;
    srv_device *dev = NULL;
    const char *mech = so->mechanism ? so->mechanism : "green";
    srv_gpu_opts go = {mech, so->models_dir, so->verbose};
    const char *env = getenv("IGNITER_GPU_LIB");
    if (srv_gpu_load(env && *env ? env : NULL, &gpu, &lib, err) < 0)
        return -2;
    if (gpu->device_new(&go, &dev, err) < 0) {
        srv_gpu_unload(lib);
        return -2;
    }
    /* a runtime hook's changes: the least hold is the one asked for
     * (--reconfig-delay-s, the experiment's), else only what the device
     * takes */
    srv_config sc = {&p->cfg.run, dev, &srv_clock_monotonic, so->poll_ns,
                     so->only_gpu, mech, so->progress, p->cfg.policy,
                     p->cfg.req, p->cfg.reconfig_delay_s >= 0
                                     ? p->cfg.reconfig_delay_s : 0};
    int rc = srv_run(&sc, out_dir, res, st, err);
    gpu->device_free(dev);
    srv_gpu_unload(lib);
    return rc;
}
