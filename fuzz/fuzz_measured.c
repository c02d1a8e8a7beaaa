/*
 * fuzz_measured.c - measured co-location data (mdl_measured_load,
 * model/measured.c): solo tables and pairs, JSON lines merged.
 * Promises checked: data that loads gives every model a finite, positive
 * solo latency and finite slow-downs at any batch in
 * 1..MDL_MAX_BATCH and share in (0, 100] (the measured back end turns
 * them into integer nanoseconds).
 */
#include <math.h>

#include "fuzz/fuzz.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("measured", ".jsonl", data, size);
    mdl_measured m;
    ut_err err;
    if (mdl_measured_load(path, &m, &err) < 0)
        return 0;
    static const double batch[] = {1, 3, 8, MDL_MAX_BATCH};
    static const double share[] = {1, 12.5, 50, 100};
    for (size_t a = 0; a < m.nsolo; a++)
        for (size_t i = 0; i < 4; i++)
            for (size_t j = 0; j < 4; j++) {
                double s = mdl_measured_solo_ms(&m, (int)a, batch[i],
                                                share[j]);
                if (!(s > 0) || !isfinite(s))
                    fuzz_fail("%s: solo latency at batch %g, share %g: %g",
                              m.solo[a].name, batch[i], share[j], s);
                for (size_t b = 0; b < m.nsolo; b++) {
                    double d = mdl_measured_slowdown(&m, (int)a, (int)b,
                                                     batch[i], batch[j],
                                                     share[j]);
                    if (!isfinite(d))
                        fuzz_fail("%s beside %s: slow-down %g",
                                  m.solo[a].name, m.solo[b].name, d);
                }
            }
    mdl_measured_free(&m);
    return 0;
}
