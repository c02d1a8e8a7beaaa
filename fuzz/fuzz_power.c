/*
 * fuzz_power.c - the power model (mdl_power_load, model/power.c: what
 * `igniter sim --power` reads from measured-power.json), against the
 * H200's measured data (traces/h200/).
 * Promises checked: a model that loads gives a finite, non-negative draw
 * at any batch in 1..128 and share in (0, 100], a clock ratio in
 * [MDL_POWER_MIN_CLOCK, 1] at any demand, and applied to finite latencies
 * of 2 and 8 workloads leaves them finite, positive and at most
 * 1 / MDL_POWER_MIN_CLOCK times as long (the measured back end turns them
 * into integer nanoseconds).
 */
#include <math.h>

#include "fuzz/fuzz.h"
#include "model/model.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

static mdl_measured meas;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ut_err err;
    if (mdl_measured_load(FUZZ_ROOT "/traces/h200/measured-colocation.jsonl",
                          &meas, &err) < 0) {
        fprintf(stderr, "fuzz_power: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("power", ".json", data, size);
    mdl_power p;
    ut_err err;
    if (mdl_power_load(path, &meas, &p, &err) < 0)
        return 0;
    static const double batch[] = {1, 3, 8, 32, 128};
    static const double share[] = {0.5, 12.5, 50, 100};
    for (size_t a = 0; a < meas.nsolo; a++)
        for (size_t i = 0; i < 5; i++)
            for (size_t j = 0; j < 4; j++) {
                double d = mdl_power_dyn_w(&p, (int)a, batch[i], share[j]);
                if (!(d >= 0) || !isfinite(d))
                    fuzz_fail("%s: draw at batch %g, share %g: %g",
                              meas.solo[a].name, batch[i], share[j], d);
            }
    static const double demand[] = {0, 1, 1e3, 1e6, 1e300};
    for (size_t k = 0; k < 5; k++) {
        double r = mdl_power_clock(&p, demand[k]);
        if (!(r >= MDL_POWER_MIN_CLOCK && r <= 1))
            fuzz_fail("clock at %g W: %g", demand[k], r);
    }
    for (size_t n = 2; n <= 8 && meas.nsolo; n += 6) {
        mdl_place w[8];
        double lat[8];
        for (size_t i = 0; i < n; i++) {
            w[i] = (mdl_place){0};
            w[i].model = (int)(i % meas.nsolo);
            w[i].batch = (int)batch[i % 5];
            w[i].share_pct = 100.0 / (double)n;
            lat[i] = 1;
        }
        mdl_power_apply(&p, w, n, lat);
        for (size_t i = 0; i < n; i++)
            if (!(lat[i] >= 1) || !(lat[i] <= 1 / MDL_POWER_MIN_CLOCK))
                fuzz_fail("%zu workloads: latency %g of %s", n, lat[i],
                          meas.solo[w[i].model].name);
    }
    mdl_power_free(&p);
    return 0;
}
