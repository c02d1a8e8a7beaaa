/*
 * predict.c - the iGniter latency and throughput predictor
 * (IGNITER-MODEL.md, "Prediction for a set of p workloads on one GPU").
 *
 * Called in the planner's inner loop, so it allocates nothing and makes one
 * pass to total the power and L2 demand and one to compute each latency.
 */
#include "model/model.h"

#include <assert.h>

double mdl_active_ms(const mdl_model *m, double batch, double share_pct)
{
    const double *k = m->k_act;
    return (k[0] * batch * batch + k[1] * batch + k[2]) / (share_pct + k[3]) +
           k[4];
}

void mdl_predict_gpu(const mdl_fitted *f, const mdl_place *w, size_t n,
                     double *gpu_ms)
{
    assert(n <= MDL_MAX_COLOC);
    double solo[MDL_MAX_COLOC], l2[MDL_MAX_COLOC];
    double power = f->idle_power_w, l2_total = 0;
    for (size_t i = 0; i < n; i++) {
        const mdl_model *m = &f->models[w[i].model];
        solo[i] = mdl_active_ms(m, w[i].batch, w[i].share_pct);
        double c = 1000.0 * w[i].batch / solo[i];
        power += m->power_coef[0] * c + m->power_coef[1];
        l2[i] = m->l2_coef[0] * c + m->l2_coef[1];
        l2_total += l2[i];
    }
    double clock = f->max_clock_mhz;
    if (power > f->power_cap_w)
        clock = f->clock_per_watt * (power - f->power_cap_w) +
                f->max_clock_mhz;
    double sched = n >= 2 ? f->sched_alpha_ms * (double)n + f->sched_beta_ms
                          : 0;
    for (size_t i = 0; i < n; i++) {
        const mdl_model *m = &f->models[w[i].model];
        double idle = m->kernels * sched + m->idle_ms;
        double act = solo[i] * (1 + m->k_l2 * (l2_total - l2[i]));
        gpu_ms[i] = (idle + act) / (clock / f->max_clock_mhz);
    }
}

void mdl_predict(const mdl_fitted *f, const mdl_place *w, size_t n,
                 double *lat_ms, double *tput_rps)
{
    double gpu[MDL_MAX_COLOC];
    mdl_predict_gpu(f, w, n, gpu);
    for (size_t i = 0; i < n; i++) {
        const mdl_model *m = &f->models[w[i].model];
        double b = w[i].batch;
        if (lat_ms)
            lat_ms[i] = gpu[i] + (m->input_bytes + m->output_bytes) * b /
                                     f->pcie_bytes_per_ms;
        if (tput_rps)
            tput_rps[i] = 1000.0 * b /
                          (gpu[i] + m->output_bytes * b / f->pcie_bytes_per_ms);
    }
}

double mdl_share_bound_units(const mdl_fitted *f, const mdl_model *m, int b,
                             double s_ms, double unit, double *delta)
{
    const double *k = m->k_act;
    double db = b;
    double gamma = k[0] * (db * db) + k[1] * db + k[2];
    *delta = s_ms - m->idle_ms -
             db * (m->input_bytes + m->output_bytes) / f->pcie_bytes_per_ms -
             k[4];
    return (gamma / *delta - k[3]) / unit;
}
