/*
 * fuzz_replay.c - the CSV trace file (trace_load_csv, traces/arrivals.c)
 * and its replay (`--arrivals replay:FILE[:loop]`).
 * Input: one byte choosing the rate and loop, then the file.
 * Promises checked: timestamps that load start at 0, are finite and never
 * decrease; the replay either is refused with a message or keeps the
 * promise of traces.h over two loops of the file (fuzz_check_arrivals).
 */
#include <math.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double rates[8] = {1e-6, 0.5, 10, 1000, 1e5, 1e7, 1e9, 3};
    if (size < 1)
        return 0;
    const char *path = fuzz_write("replay", ".csv", data + 1, size - 1);
    double *t;
    size_t n;
    ut_err err;
    if (trace_load_csv(path, &t, &n, &err) < 0)
        return 0;
    if (n < 2 || t[0] != 0)
        fuzz_fail("%zu timestamps, the first %g", n, n ? t[0] : NAN);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(t[i]) || (i && t[i] < t[i - 1]))
            fuzz_fail("timestamp %zu: %g after %g", i, t[i],
                      i ? t[i - 1] : NAN);
    free(t);
    char spec[300];
    snprintf(spec, sizeof spec, "replay:%s%s", path,
             data[0] & 8 ? ":loop" : "");
    trace_spec s;
    if (trace_spec_parse(spec, rates[data[0] & 7], &s, &err) < 0)
        fuzz_fail("a replay spec of a good file: %s", err.msg);
    trace_gen *g = trace_gen_new(&s, 1, "w", &err);
    if (!g)
        return 0;
    fuzz_check_arrivals(g, 2 * n + 2, "replay");
    trace_gen_free(g);
    return 0;
}
