/*
 * fuzz_multi.c - measured runs of several workloads at once, a JSON object
 * a line (mdl_multi_error, model/measured.c: what `igniter accuracy
 * --multi` reads), against the H100's fitted model.
 * Promise checked: the error statistics of runs that read are finite, for
 * every run size accuracy asks for and for all runs at once.
 */
#include <math.h>

#include "fuzz/fuzz.h"
#include "model/model.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

static mdl_fitted fit;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ut_err err;
    if (mdl_load(FUZZ_ROOT "/traces/h100/fitted.json", &fit, &err) < 0) {
        fprintf(stderr, "fuzz_multi: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("multi", ".jsonl", data, size);
    static const size_t sizes[] = {0, 2, 3, 4};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int noi = 0; noi < 2; noi++) {
            mdl_error_stats s;
            ut_err err;
            if (mdl_multi_error(&fit, path, sizes[k], noi, &s, &err) < 0)
                return 0;
            if (s.n && (!isfinite(s.mean_pct) || !isfinite(s.max_pct) ||
                        !isfinite(s.median_pct) || !isfinite(s.p90_pct)))
                fuzz_fail("runs of %zu: error statistics %g %g %g %g",
                          sizes[k], s.mean_pct, s.median_pct, s.p90_pct,
                          s.max_pct);
        }
    return 0;
}
