/*
 * sensitivity.c - how much a run's answer hangs on its batch times
 * (`igniter sim --sensitivity PCT`, lab.h; docs/simulator.md,
 * "Sensitivity"). Near capacity a few percent of batch time is tens of
 * percent of latency, and no measured data predicts an unmeasured
 * configuration to better than a few percent (experiments/validation/
 * README.md, "The matrix"): the same run with every batch PCT % shorter
 * and PCT % longer says whether a result survives that.
 */
#include "lab/lab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lab_sensitivity_check(const lab_prepared *p, double pct, ut_err *err)
{
    if (!(pct > 0 && pct <= LAB_MAX_SENSITIVITY))
        return ut_errf(err, "--sensitivity: expected a percentage in (0, "
                       "%g], got %g", LAB_MAX_SENSITIVITY, pct);
    const fe_run *r = &p->cfg.run;
    for (size_t w = 0; w < r->nw; w++)
        if (p->wcfg[w].nslow >= FE_MAX_SLOWDOWNS)
            return ut_errf(err, "--sensitivity: workload %s has %d "
                           "slow-downs already, the most it can have, and "
                           "this needs one more", p->wcfg[w].name,
                           FE_MAX_SLOWDOWNS);
    return 0;
}

/* The rows of one run at factor f: a workload each, then "all". */
static void rows(ut_buf *b, const fe_result *r, double f)
{
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *s = &r->w[w];
        ut_buf_printf(b, "%s,%g,", s->name, f);
        if (s->lat.count)   /* nothing completed: no latency */
            ut_buf_printf(b, "%.4f,%.4f", fe_hist_mean(&s->lat) / 1e6,
                          (double)fe_hist_quantile(&s->lat, 0.99) / 1e6);
        else
            ut_buf_printf(b, ",");
        ut_buf_printf(b, ",%.4f\n", fe_violation_pct(s));
    }
    ut_buf_printf(b, "all,%g,,,%.4f\n", f, fe_total_violation_pct(r));
}

/* One more whole-run window of factor f on each of wc[0..nw). */
static void add_window(fe_workload_cfg *wc, size_t nw, double f)
{
    const fe_slowdown sd = {f, 0, INFINITY};
    for (size_t w = 0; w < nw; w++)
        wc[w].slow[wc[w].nslow++] = sd;
}

static void drop_window(fe_workload_cfg *wc, size_t nw)
{
    for (size_t w = 0; w < nw; w++)
        wc[w].nslow--;
}

void lab_scaled_hash(fe_workload_cfg *wc, size_t nw, const char *hash0,
                     double factor, char out[17])
{
    add_window(wc, nw, factor);
    memcpy(out, hash0, 17);
    lab_hash_slowdowns(wc, nw, out);
    drop_window(wc, nw);
}

int lab_run_scaled(sim_config *cfg, fe_workload_cfg *wc, size_t nw,
                   const char *hash0, double factor, const char *dir,
                   fe_result *res, ut_err *err)
{
    fe_run *run = &cfg->run;
    const char *extra = run->extra_json, *h0 = run->input_hash;
    char hash[17];
    lab_scaled_hash(wc, nw, hash0, factor, hash);
    add_window(wc, nw, factor);
    char *js = lab_slow_json(wc, nw, NULL);
    run->extra_json = js;
    run->input_hash = hash;
    int rc = sim_run(cfg, dir, res, err);
    run->extra_json = extra;
    run->input_hash = h0;
    free(js);
    drop_window(wc, nw);
    return rc;
}

int lab_sensitivity(lab_prepared *p, const char *out_dir, double pct,
                    const fe_result *nominal, fe_result var[2], ut_err *err)
{
    const double fs[2] = {1 - pct / 100, 1 + pct / 100};
    int rc = 0;
    memset(var, 0, 2 * sizeof *var);
    if (lab_sensitivity_check(p, pct, err) < 0)
        return -1;
    for (int k = 0; k < 2 && rc == 0; k++) {
        char dir[UT_PATH_MAX + 64];
        snprintf(dir, sizeof dir, "%s/sensitivity/x%g", out_dir, fs[k]);
        int src = lab_run_scaled(&p->cfg, p->wcfg, p->cfg.run.nw,
                                 p->input_hash, fs[k], dir, &var[k], err);
        if (src < 0)
            rc = -1;
        else if (!var[k].complete)
            rc = 1;
    }
    if (rc)
        return rc;
    ut_buf b = {0};
    ut_buf_printf(&b, "workload,batch_time_factor,mean_ms,p99_ms,"
                  "slo_violation_pct\n");
    rows(&b, &var[0], fs[0]);
    rows(&b, nominal, 1);
    rows(&b, &var[1], fs[1]);
    char path[UT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/sensitivity.csv", out_dir);
    rc = ut_write_atomic(path, b.s, b.len, err);
    ut_buf_free(&b);
    return rc < 0 ? -1 : 0;
}
