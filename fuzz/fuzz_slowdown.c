/*
 * fuzz_slowdown.c - the slow-down of the command line
 * (`igniter sim --slowdown`, fe_slowdown_parse and fe_slowdown_add,
 * frontend/slowdown.c) against the workloads "alexnet" (model alexnet),
 * "a:b" (model vgg19) and "c" (model alexnet).
 * Input: the spec, as given to --slowdown.
 * Promise checked: a spec that parses names a part of the input and a
 * checked window (factor in [0.001, 1000], 0 <= from < to); once added,
 * every workload holds at most FE_MAX_SLOWDOWNS windows, and the factor
 * at any time is in [0.001, 1000] (overlapping windows multiply, kept in
 * those bounds), 1 where a workload has none. The same input as a wake
 * cost (`--wake`, fe_wake_parse and fe_wake_add, which share the rule of
 * which workloads a target names): a spec that parses names a part of
 * the input and a cost in [0, FE_MAX_WAKE_US]; added twice, the second is
 * refused and the first stands.
 */
#include "fuzz/fuzz.h"
#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    memcpy(spec, data, size);
    spec[size] = '\0';
    static const char *const models[] = {"alexnet", "vgg19", "alexnet"};
    fe_workload_cfg wc[3];
    fe_workload_defaults(&wc[0], "alexnet", 1);
    fe_workload_defaults(&wc[1], "a:b", 1);
    fe_workload_defaults(&wc[2], "c", 1);
    const char *t;
    size_t n;
    fe_slowdown sd;
    ut_err err;
    if (fe_slowdown_parse(spec, "--slowdown", &t, &n, &sd, &err) == 0) {
        if (t != spec || n > strlen(spec))
            fuzz_fail("'%s': target outside the input", spec);
        if (!(sd.factor >= FE_MIN_SLOWDOWN_FACTOR &&
              sd.factor <= FE_MAX_SLOWDOWN_FACTOR) ||
            !(sd.from_s >= 0) || !(sd.to_s > sd.from_s))
            fuzz_fail("'%s': window not checked (%g, %g, %g)", spec,
                      sd.factor, sd.from_s, sd.to_s);
        for (int k = 0; k < 10; k++)
            if (fe_slowdown_add(wc, 3, models, t, n, &sd, "x", &err) < 0)
                break;
        int64_t at[] = {0, fe_slowdown_ns(sd.from_s),
                        fe_slowdown_ns(sd.to_s), INT64_MAX - 1};
        for (int w = 0; w < 3; w++) {
            if (wc[w].nslow > FE_MAX_SLOWDOWNS)
                fuzz_fail("'%s': %zu windows", spec, wc[w].nslow);
            for (int i = 0; i < 4; i++) {
                double f = fe_slowdown_factor(&wc[w], at[i]);
                if (!(f >= FE_MIN_SLOWDOWN_FACTOR) ||
                    !(f <= FE_MAX_SLOWDOWN_FACTOR) ||
                    (wc[w].nslow == 0 && f != 1))
                    fuzz_fail("'%s': factor %g at %lld", spec, f,
                              (long long)at[i]);
            }
        }
    }
    double us;
    if (fe_wake_parse(spec, "--wake", &t, &n, &us, &err) == 0) {
        if (t != spec || n >= strlen(spec))
            fuzz_fail("'%s': wake target outside the input", spec);
        if (!(us >= 0 && us <= FE_MAX_WAKE_US))
            fuzz_fail("'%s': wake cost not checked (%g)", spec, us);
        fe_workload_cfg wk[3];
        fe_workload_defaults(&wk[0], "alexnet", 1);
        fe_workload_defaults(&wk[1], "a:b", 1);
        fe_workload_defaults(&wk[2], "c", 1);
        if (fe_wake_add(wk, 3, models, t, n, us, "x", &err) == 0) {
            if (fe_wake_add(wk, 3, models, t, n, us + 1, "x", &err) == 0)
                fuzz_fail("'%s': a second wake cost accepted", spec);
            for (int w = 0; w < 3; w++)
                if (wk[w].has_wake && wk[w].wake_us != us)
                    fuzz_fail("'%s': wake cost %g, want %g", spec,
                              wk[w].wake_us, us);
        }
    }
    free(spec);
    return 0;
}
