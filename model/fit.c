/*
 * fit.c - fitting the iGniter model to a profile, and the fitted-model file.
 *
 * Every fit is a GSL call: gsl_fit_mul / gsl_fit_linear for the straight
 * lines, gsl_multifit_nlinear (Levenberg-Marquardt) for the active-time
 * curve. The steps and their order follow IGNITER-MODEL.md, "Fitting".
 */
#include "model/model.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A clock within 1 MHz of the maximum counts as not throttled: captured
 * clocks are averages and never read exactly the maximum. */
#define CLOCK_TOL_MHZ 1.0

void mdl_fitted_free(mdl_fitted *f)
{
    free(f->models);
    memset(f, 0, sizeof *f);
}

/*
 * Step 1: the slope a of f = a (P - P_max) + f_max. The n-copies runs that
 * hit the power cap report the capped power, so from the first throttled run
 * on, power is replaced by what the GPU would have drawn without a cap: the
 * previous run's plus the mean step between unthrottled runs. No throttled
 * run means the profile never saw the cap: a = 0 (the clock never drops).
 */
static int fit_clock(const mdl_profile *p, mdl_fitted *f, ut_err *err)
{
    size_t n = p->ncopies, first = n;
    for (size_t i = 0; i < n; i++)
        if (p->copies_clock_mhz[i] < p->max_clock_mhz - CLOCK_TOL_MHZ) {
            first = i;
            break;
        }
    if (first == n) {
        f->clock_per_watt = 0;
        return 0;
    }
    double step;
    if (first >= 2)
        step = (p->copies_power_w[first - 1] - p->copies_power_w[0]) /
               (double)(first - 1);
    else
        step = p->copies_power_w[0] - p->idle_power_w;
    double x[MDL_MAX_COPIES], y[MDL_MAX_COPIES], prev;
    prev = first ? p->copies_power_w[first - 1] : p->idle_power_w;
    size_t m = 0;
    for (size_t i = first; i < n; i++) {
        double pw = prev + step;
        prev = pw;
        x[m] = pw - p->power_cap_w;
        y[m] = p->copies_clock_mhz[i] - p->max_clock_mhz;
        m++;
    }
    double a, cov, sumsq;
    if (gsl_fit_mul(x, 1, y, 1, m, &a, &cov, &sumsq) != GSL_SUCCESS ||
        !isfinite(a))
        return ut_errf(err, "gpu.copies: cannot fit the power-to-clock "
                       "slope");
    f->clock_per_watt = a;
    return 0;
}

/* Step 2: extra idle time per kernel, normalised to full clock, against the
 * number of co-located copies: v_n - v_1 = alpha n + beta, n = 2..N. */
static int fit_sched(const mdl_profile *p, mdl_fitted *f, ut_err *err)
{
    double x[MDL_MAX_COPIES], y[MDL_MAX_COPIES];
    double v1 = p->copies_idle_ms[0] * p->copies_clock_mhz[0] /
                p->max_clock_mhz;
    size_t m = 0;
    for (size_t i = 1; i < p->ncopies; i++) {
        x[m] = (double)(i + 1);
        y[m] = p->copies_idle_ms[i] * p->copies_clock_mhz[i] /
               p->max_clock_mhz - v1;
        m++;
    }
    if (m == 0) {
        /* no co-located run at all: nothing says there is a delay */
        f->sched_alpha_ms = f->sched_beta_ms = 0;
        return 0;
    }
    if (m < 2) {
        /* one co-located run: a line through the origin's neighbour */
        f->sched_alpha_ms = y[0] / x[0];
        f->sched_beta_ms = 0;
        return 0;
    }
    double c0, c1, c00, c01, c11, sumsq;
    if (gsl_fit_linear(x, 1, y, 1, m, &c0, &c1, &c00, &c01, &c11, &sumsq) !=
        GSL_SUCCESS || !isfinite(c0) || !isfinite(c1))
        return ut_errf(err, "gpu.copies: cannot fit the scheduling delay");
    f->sched_alpha_ms = c1;
    f->sched_beta_ms = c0;
    return 0;
}

struct act_data {
    size_t n;
    const double *b, *r, *y;
};

static int act_f(const gsl_vector *k, void *data, gsl_vector *res)
{
    const struct act_data *d = data;
    double k1 = gsl_vector_get(k, 0), k2 = gsl_vector_get(k, 1),
           k3 = gsl_vector_get(k, 2), k4 = gsl_vector_get(k, 3),
           k5 = gsl_vector_get(k, 4);
    for (size_t i = 0; i < d->n; i++) {
        double b = d->b[i];
        double t = (k1 * b * b + k2 * b + k3) / (d->r[i] + k4) + k5;
        gsl_vector_set(res, i, t - d->y[i]);
    }
    return GSL_SUCCESS;
}

static int act_df(const gsl_vector *k, void *data, gsl_matrix *J)
{
    const struct act_data *d = data;
    double k1 = gsl_vector_get(k, 0), k2 = gsl_vector_get(k, 1),
           k3 = gsl_vector_get(k, 2), k4 = gsl_vector_get(k, 3);
    for (size_t i = 0; i < d->n; i++) {
        double b = d->b[i], den = d->r[i] + k4;
        double num = k1 * b * b + k2 * b + k3;
        gsl_matrix_set(J, i, 0, b * b / den);
        gsl_matrix_set(J, i, 1, b / den);
        gsl_matrix_set(J, i, 2, 1 / den);
        gsl_matrix_set(J, i, 3, -num / (den * den));
        gsl_matrix_set(J, i, 4, 1);
    }
    return GSL_SUCCESS;
}

/*
 * Step 3: the solo active-time curve. Samples are the grid latencies,
 * brought back to full clock where the GPU throttled, minus the base idle
 * time. Levenberg-Marquardt from k = (1,1,1,1,1), as the reference does
 * (scipy's curve_fit); tolerances tight enough that the result matches
 * scipy's to about 1e-6 relative on the V100 profile.
 */
static int fit_active(const mdl_profile *p, const mdl_model_profile *mp,
                      mdl_model *m, ut_err *err)
{
    size_t n = mp->ngrid;
    double *b = ut_xmalloc(3 * n * sizeof *b), *r = b + n, *y = b + 2 * n;
    for (size_t i = 0; i < n; i++) {
        const mdl_grid_point *g = &mp->grid[i];
        double t = g->latency_ms;
        if (g->clock_mhz < p->max_clock_mhz)
            t *= g->clock_mhz / p->max_clock_mhz;
        b[i] = g->batch;
        r[i] = g->share_pct;
        y[i] = t - mp->idle_ms;
    }
    struct act_data d = {n, b, r, y};
    gsl_multifit_nlinear_fdf fdf = {0};
    fdf.f = act_f;
    fdf.df = act_df;
    fdf.n = n;
    fdf.p = 5;
    fdf.params = &d;
    gsl_multifit_nlinear_parameters par =
        gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, 5);
    double k0[5] = {1, 1, 1, 1, 1};
    gsl_vector_view kv = gsl_vector_view_array(k0, 5);
    gsl_multifit_nlinear_init(&kv.vector, &fdf, w);
    int info = 0;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int status = gsl_multifit_nlinear_driver(10000, 1e-14, 1e-14, 1e-14, NULL,
                                             NULL, &info, w);
    gsl_set_error_handler(old);
    const gsl_vector *k = gsl_multifit_nlinear_position(w);
    for (int i = 0; i < 5; i++)
        m->k_act[i] = gsl_vector_get(k, (size_t)i);
    gsl_multifit_nlinear_free(w);
    free(b);
    int finite = 1;
    for (int i = 0; i < 5; i++)
        finite &= isfinite(m->k_act[i]);
    /* GSL_ENOPROG means no further progress is possible: at a minimum to
     * machine precision, which is a success for our purpose. */
    if ((status != GSL_SUCCESS && status != GSL_ENOPROG) || !finite)
        return ut_errf(err, "models.%s: the active-time fit did not "
                       "converge (%s)", mp->name, gsl_strerror(status));
    return 0;
}

/* Step 4: power and L2 use per unit of throughput c = 1000 b / (latency -
 * idle), raw latency (no clock correction), as in the reference. */
static int fit_power_l2(const mdl_profile *p, const mdl_model_profile *mp,
                        mdl_model *m, ut_err *err)
{
    size_t n = mp->ngrid, k = 0;
    double *x = ut_xmalloc(2 * n * sizeof *x), *y = x + n;
    for (size_t i = 0; i < n; i++) {
        const mdl_grid_point *g = &mp->grid[i];
        if (g->clock_mhz <= p->max_clock_mhz - CLOCK_TOL_MHZ)
            continue;
        x[k] = 1000 * g->batch / (g->latency_ms - mp->idle_ms);
        y[k] = g->power_w - p->idle_power_w;
        k++;
    }
    double c00, c01, c11, sumsq;
    int rc = 0;
    if (k < 2 || gsl_fit_linear(x, 1, y, 1, k, &m->power_coef[1],
                                &m->power_coef[0], &c00, &c01, &c11,
                                &sumsq) != GSL_SUCCESS) {
        rc = ut_errf(err, "models.%s.solo: expected at least 2 points at full "
                     "clock for the power fit, got %zu", mp->name, k);
        goto out;
    }
    double *xl = ut_xmalloc(2 * mp->nl2 * sizeof *xl), *yl = xl + mp->nl2;
    for (size_t i = 0; i < mp->nl2; i++) {
        const mdl_l2_point *q = &mp->l2[i];
        const mdl_grid_point *g = NULL;
        for (size_t j = 0; j < n; j++)
            if (mp->grid[j].batch == q->batch &&
                mp->grid[j].share_pct == q->share_pct)
                g = &mp->grid[j];
        if (!g) {
            free(xl);
            rc = ut_errf(err, "models.%s.l2[%zu]: expected a (batch, share) "
                         "point that the solo grid has, got (%g, %g)",
                         mp->name, i, q->batch, q->share_pct);
            goto out;
        }
        xl[i] = 1000 * g->batch / (g->latency_ms - mp->idle_ms);
        yl[i] = q->util_pct;
    }
    gsl_fit_linear(xl, 1, yl, 1, mp->nl2, &m->l2_coef[1], &m->l2_coef[0],
                   &c00, &c01, &c11, &sumsq);
    free(xl);
    if (!isfinite(m->l2_coef[0]) || !isfinite(m->l2_coef[1]) ||
        !isfinite(m->power_coef[0]) || !isfinite(m->power_coef[1]))
        rc = ut_errf(err, "models.%s: the power or L2 fit is degenerate "
                     "(equal throughputs at every point?)", mp->name);
out:
    free(x);
    return rc;
}

int mdl_fit(const mdl_profile *p, mdl_fitted *f, ut_err *err)
{
    memset(f, 0, sizeof *f);
    memcpy(f->gpu, p->gpu, sizeof f->gpu);
    MDL_COPY_GPU_FIELDS(f, p);
    if (fit_clock(p, f, err) < 0 || fit_sched(p, f, err) < 0)
        return -1;
    /* values near DBL_MAX overflow on the way: an error, never a model
     * that predicts infinity or NaN */
    if (!isfinite(f->sched_alpha_ms) || !isfinite(f->sched_beta_ms))
        return ut_errf(err, "gpu.copies: expected idle times and clocks "
                       "that give a finite scheduling delay, got %g ms per "
                       "workload", f->sched_alpha_ms);
    f->models = ut_xcalloc(p->nmodels, sizeof *f->models);
    for (size_t i = 0; i < p->nmodels; i++) {
        const mdl_model_profile *mp = &p->models[i];
        mdl_model *m = &f->models[i];
        f->nmodels = i + 1;
        memcpy(m->name, mp->name, sizeof m->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(f->models[j].name, m->name)) {
                ut_errf(err, "models.%s: expected unique model names, got it "
                        "twice", m->name);
                goto fail;
            }
        m->kernels = mp->kernels;
        m->input_bytes = mp->input_bytes;
        m->output_bytes = mp->output_bytes;
        m->idle_ms = mp->idle_ms;
        for (size_t j = 0; j < mp->ngrid; j++)
            if (!(mp->grid[j].latency_ms > mp->idle_ms)) {
                ut_errf(err, "models.%s.solo[%zu].latency_ms: expected more "
                        "than the idle time %g, got %g", mp->name, j,
                        mp->idle_ms, mp->grid[j].latency_ms);
                goto fail;
            }
        if (fit_active(p, mp, m, err) < 0 || fit_power_l2(p, mp, m, err) < 0)
            goto fail;
        /* Step 5: L2 sensitivity from the two-copy run. */
        m->k_l2 = ((mp->active_pair_ms * mp->clock_pair_mhz /
                    p->max_clock_mhz) / mp->active_solo_ms - 1) /
                  mp->pair_l2_util_pct;
        if (!isfinite(m->k_l2)) {
            ut_errf(err, "models.%s.pair: expected values that give a finite "
                    "L2 sensitivity, got %g", mp->name, m->k_l2);
            goto fail;
        }
    }
    return 0;
fail:
    mdl_fitted_free(f);
    return -1;
}

int mdl_find(const mdl_fitted *f, const char *name)
{
    for (size_t i = 0; i < f->nmodels; i++)
        if (!strcmp(f->models[i].name, name))
            return (int)i;
    return -1;
}

static const char *model_name(const void *f, size_t i)
{
    return ((const mdl_fitted *)f)->models[i].name;
}

const char *mdl_names(const mdl_fitted *f, char *out, size_t n)
{
    return ut_names(out, n, model_name, f, f->nmodels);
}

int mdl_find_or_err(const mdl_fitted *f, const char *name, const char *where,
                    ut_err *err)
{
    int m = mdl_find(f, name);
    if (m < 0) {
        char names[256];
        return ut_errf(err, "%s: expected one of %s, got \"%s\"", where,
                       mdl_names(f, names, sizeof names), name);
    }
    return m;
}

/* ---- the fitted-model file ------------------------------------------------ */

char *mdl_fitted_to_json(const mdl_fitted *f)
{
    ut_buf b = {0};
    char d[32];
    mdl_file_head_write(&b, "igniter-fitted", f->gpu, f->max_clock_mhz,
                        f->power_cap_w, f->idle_power_w);
    ut_buf_json_num(&b, "pcie_bytes_per_ms", f->pcie_bytes_per_ms, ",\n    ");
    ut_buf_json_num(&b, "share_unit_pct", f->share_unit_pct, ",\n    ");
    ut_buf_json_num(&b, "clock_per_watt", f->clock_per_watt, ",\n    ");
    ut_buf_json_num(&b, "sched_alpha_ms", f->sched_alpha_ms, ",\n    ");
    ut_buf_json_num(&b, "sched_beta_ms", f->sched_beta_ms, ",\n    ");
    mdl_gpu_optional_write(&b, f->sm_count, f->colocated_pct);
    ut_buf_json_num(&b, "price_per_hour", f->price_per_hour,
                    "\n  },\n  \"models\": {\n");
    for (size_t i = 0; i < f->nmodels; i++) {
        const mdl_model *m = &f->models[i];
        mdl_model_head_write(&b, m->name, m->kernels, m->input_bytes,
                             m->output_bytes, m->idle_ms);
        ut_buf_printf(&b, "\"k_act\": [");
        for (int j = 0; j < 5; j++)
            ut_buf_printf(&b, "%s%s", j ? ", " : "",
                          ut_fmt_double(m->k_act[j], d));
        ut_buf_printf(&b, "],\n      \"power_coef\": [%s, ",
                      ut_fmt_double(m->power_coef[0], d));
        ut_buf_printf(&b, "%s],\n      \"l2_coef\": [%s, ",
                      ut_fmt_double(m->power_coef[1], d),
                      ut_fmt_double(m->l2_coef[0], (char[32]){0}));
        ut_buf_printf(&b, "%s],\n      ", ut_fmt_double(m->l2_coef[1], d));
        ut_buf_json_num(&b, "k_l2", m->k_l2, "\n");
        ut_buf_printf(&b, "    }%s\n", i + 1 < f->nmodels ? "," : "");
    }
    ut_buf_printf(&b, "  }\n}\n");
    return b.s;
}

static int fitted_from_json(const char *path, const cJSON *root,
                            mdl_fitted *f, ut_err *err)
{
    char where[256];
    const cJSON *gpu;
    mdl_gpu_block g;
    snprintf(where, sizeof where, "%s: gpu", path);
    if (mdl_gpu_block_parse(root, path, 1, &g, &gpu, err) < 0 ||
        ut_json_num(gpu, "clock_per_watt", where, &f->clock_per_watt, err) ||
        ut_json_num(gpu, "sched_alpha_ms", where, &f->sched_alpha_ms, err) ||
        ut_json_num(gpu, "sched_beta_ms", where, &f->sched_beta_ms, err))
        return -1;
    memcpy(f->gpu, g.name, sizeof f->gpu);
    MDL_COPY_GPU_FIELDS(f, &g);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (!cJSON_IsObject(models) || !models->child)
        return ut_errf(err, "%s: models: expected an object with at least one "
                       "model, got %s", path,
                       models ? "none" : "nothing (missing field)");
    f->models = ut_xcalloc((size_t)cJSON_GetArraySize(models),
                           sizeof *f->models);
    const cJSON *it;
    cJSON_ArrayForEach(it, models) {
        mdl_model *m = &f->models[f->nmodels++];
        snprintf(where, sizeof where, "%s: models.%s", path, it->string);
        if (strlen(it->string) == 0 || strlen(it->string) >= MDL_NAME_MAX)
            return ut_errf(err, "%s: expected a name of 1..%d characters",
                           where, MDL_NAME_MAX - 1);
        /* as mdl_fit checks a profile's: mdl_find would see only the
         * first of two models of one name */
        if (mdl_find(f, it->string) >= 0)
            return ut_errf(err, "%s: expected unique model names, got it "
                           "twice", where);
        strcpy(m->name, it->string);
        long kernels;
        if (!cJSON_IsObject(it))
            return ut_errf(err, "%s: expected an object, got something else",
                           where);
        if (ut_json_int(it, "kernels", where, 1, 1000000, &kernels, err) ||
            ut_json_pos(it, "input_bytes", where, &m->input_bytes, err) ||
            ut_json_nonneg(it, "output_bytes", where, &m->output_bytes, err) ||
            ut_json_nonneg(it, "idle_ms", where, &m->idle_ms, err) ||
            ut_json_numarr(it, "k_act", where, m->k_act, 5, NULL, err) ||
            ut_json_numarr(it, "power_coef", where, m->power_coef, 2, NULL,
                           err) ||
            ut_json_numarr(it, "l2_coef", where, m->l2_coef, 2, NULL, err) ||
            ut_json_num(it, "k_l2", where, &m->k_l2, err))
            return -1;
        m->kernels = (int)kernels;
    }
    return 0;
}

int mdl_load(const char *path, mdl_fitted *f, ut_err *err)
{
    memset(f, 0, sizeof *f);
    ut_err e1;
    cJSON *root = ut_json_load(path, &e1);
    const cJSON *fmt = root ? cJSON_GetObjectItemCaseSensitive(root, "format")
                            : NULL;
    if (cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "igniter-fitted")) {
        int rc = fitted_from_json(path, root, f, err);
        cJSON_Delete(root);
        if (rc < 0)
            mdl_fitted_free(f);
        return rc;
    }
    cJSON_Delete(root);
    mdl_profile p;
    if (mdl_profile_load(path, &p, err) < 0)
        return -1;
    int rc = mdl_fit(&p, f, err);
    if (rc < 0)
        ut_errprefix(err, "%s", path);
    mdl_profile_free(&p);
    return rc;
}
