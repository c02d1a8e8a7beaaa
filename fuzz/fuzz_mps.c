/*
 * fuzz_mps.c - the MPS correction (mdl_mps_load, model/mps.c: what
 * `igniter sim --mechanism mps` reads from measured-mps.jsonl), against
 * the H200's green data it corrects (traces/h200/dense/).
 * Promises checked: a correction that loads gives finite, positive solo
 * and pair ratios at any batch in 1..MDL_MAX_BATCH and share in (0, 100],
 * and applied to finite green latencies it leaves them finite and
 * positive (the measured back end turns them into integer nanoseconds).
 */
#include <math.h>

#include "fuzz/fuzz.h"
#include "model/model.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

static mdl_measured green;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ut_err err;
    if (mdl_measured_load(FUZZ_ROOT "/traces/h200/dense/measured-colocation"
                          ".jsonl", &green, &err) < 0) {
        fprintf(stderr, "fuzz_mps: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("mps", ".jsonl", data, size);
    mdl_mps x;
    ut_err err;
    if (mdl_mps_load(path, &green, &x, &err) < 0)
        return 0;
    static const double batch[] = {1, 3, 8, MDL_MAX_BATCH};
    static const double share[] = {1, 12.5, 50, 100};
    for (size_t a = 0; a < green.nsolo; a++)
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++) {
                double r = mdl_mps_solo_ratio(&x, (int)a, batch[i], share[j]);
                if (!(r > 0) || !isfinite(r))
                    fuzz_fail("%s: solo ratio at batch %g, share %g: %g",
                              green.solo[a].name, batch[i], share[j], r);
                for (size_t b = 0; b < green.nsolo; b++) {
                    double c = mdl_mps_pair_ratio(&x, (int)a, (int)b,
                                                  share[j]);
                    if (!(c > 0) || !isfinite(c))
                        fuzz_fail("%s beside %s: pair ratio at %g %%: %g",
                                  green.solo[a].name, green.solo[b].name,
                                  share[j], c);
                }
            }
    /* two and three workloads on one GPU, green latencies of 1 ms */
    for (size_t n = 2; n <= 3 && green.nsolo; n++) {
        mdl_place w[3];
        double lat[3];
        for (size_t i = 0; i < n; i++) {
            w[i] = (mdl_place){0};
            w[i].model = (int)(i % green.nsolo);
            w[i].batch = (int)batch[i];
            w[i].share_pct = 100.0 / (double)n;
            lat[i] = 1;
        }
        mdl_mps_apply(&x, w, n, lat);
        for (size_t i = 0; i < n; i++)
            if (!(lat[i] > 0) || !isfinite(lat[i]))
                fuzz_fail("%zu workloads: corrected latency %g of %s", n,
                          lat[i], green.solo[w[i].model].name);
    }
    mdl_mps_free(&x);
    return 0;
}
