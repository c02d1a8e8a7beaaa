/*
 * fuzz_fitted.c - the fitted model (mdl_load, model/fit.c): a fitted file
 * as it is, or a profile fitted on loading.
 * Promises checked: every coefficient of a loaded model is finite (a fit
 * fails rather than giving NaN or infinity, model.h), and the model
 * written with mdl_fitted_to_json loads again as the same model.
 */
#include <math.h>

#include "fuzz/fuzz.h"
#include "model/model.h"

static void check_finite(const mdl_fitted *f)
{
    double g[] = {f->max_clock_mhz, f->power_cap_w, f->idle_power_w,
                  f->pcie_bytes_per_ms, f->share_unit_pct, f->clock_per_watt,
                  f->sched_alpha_ms, f->sched_beta_ms, f->price_per_hour};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        if (!isfinite(g[i]))
            fuzz_fail("gpu value %zu is %g", i, g[i]);
    for (size_t i = 0; i < f->nmodels; i++) {
        const mdl_model *m = &f->models[i];
        double v[] = {m->input_bytes, m->output_bytes, m->idle_ms,
                      m->k_act[0], m->k_act[1], m->k_act[2], m->k_act[3],
                      m->k_act[4], m->power_coef[0], m->power_coef[1],
                      m->l2_coef[0], m->l2_coef[1], m->k_l2};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            if (!isfinite(v[k]))
                fuzz_fail("models.%s: value %zu is %g", m->name, k, v[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("fitted", ".json", data, size);
    mdl_fitted a, b;
    ut_err err;
    if (mdl_load(path, &a, &err) < 0)
        return 0;
    check_finite(&a);
    char *ja = mdl_fitted_to_json(&a);
    fuzz_write("fitted", ".json", (const uint8_t *)ja, strlen(ja));
    if (mdl_load(path, &b, &err) < 0)
        fuzz_fail("a written model does not load again: %s\n%s", err.msg, ja);
    char *jb = mdl_fitted_to_json(&b);
    if (strcmp(ja, jb) || a.nmodels != b.nmodels)
        fuzz_fail("a model changed on its way through its file:\n%s\n%s", ja,
                  jb);
    free(ja);
    free(jb);
    mdl_fitted_free(&a);
    mdl_fitted_free(&b);
    return 0;
}
