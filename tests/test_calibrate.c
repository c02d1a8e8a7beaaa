/*
 * test_calibrate.c - calibrating the simulator with one real run
 * (scripts/calibrate.py, scripts/validate-matrix.py calibrate;
 * experiments/validation/README.md, "The matrix"). A "real GPU" is played
 * by the simulator with a slow-down the measured data does not know
 * (--slowdown): the factors must find it, and the calibrated simulation of
 * another load must come closer to that "real" run than the plain one.
 * With traces of both runs, and a wake cost (--wake) too, calibrate.py
 * must find both from the batches.
 */
#include "testutil.h"

#include <stdarg.h>

#define H100_MEASURED "traces/h100/measured-colocation.jsonl"

#define sh tu_sh

/* m2 (ResNet-50 and VGG-19) at load L: the "real" run (ResNet-50's
 * batches 1.15 times longer) into D/real/m2-lL-poisson, the plain
 * simulation into D/sim-measured/m2-lL-poisson. */
static void runs_at(const char *d, int load)
{
    for (int real = 0; real < 2; real++)
        assert_int_equal(sh("build/igniter sim --plan %s/plans/m2-l%d.json "
                            "--backend measured --measured %s --duration-s 4 "
                            "--warmup-s 1 --seed 1 --arrivals poisson "
                            "--quiet --out %s/%s/m2-l%d-poisson %s", d, load,
                            H100_MEASURED, d, real ? "real" : "sim-measured",
                            load, real ? "--slowdown resnet50:1.15" : ""),
                         0);
}

/* calibrate.py prints "--slowdown NAME:F ..." */
static double factor_of(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "--slowdown %s:", name);
    const char *p = strstr(out, key);
    assert_non_null(p);
    return strtod(p + strlen(key), NULL);
}

static void test_factors_find_the_slowdown(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(sh("python3 scripts/validate-matrix.py plans %s "
                        "%s/plans >/dev/null", H100_MEASURED, d), 0);
    runs_at(d, 50);
    char cmd[2048], out[512] = "";
    snprintf(cmd, sizeof cmd, "python3 scripts/calibrate.py "
             "%s/real/m2-l50-poisson %s/sim-measured/m2-l50-poisson", d, d);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    assert_int_equal(pclose(p), 0);
    /* the mean batch time of a run: the batch mix moves a little with the
     * longer batches, so within 3 % of the factor, and the other workload
     * near 1 */
    double fr = factor_of(out, "resnet50"), fv = factor_of(out, "vgg19");
    if (fabs(fr / 1.15 - 1) > 0.03 || fabs(fv - 1) > 0.03)
        fail_msg("factors resnet50 %g (want about 1.15), vgg19 %g (about 1): "
                 "%s", fr, fv, out);
    /* a workload the simulation lacks: one message naming the file */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bad && sed 's/\"vgg19\"/\"vggX\"/' "
             "%s/sim-measured/m2-l50-poisson/summary.json > "
             "%s/bad/summary.json", d, d, d);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "python3 scripts/calibrate.py "
             "%s/real/m2-l50-poisson %s/bad 2>&1", d, d);
    p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = 0;
    assert_non_null(fgets(out, sizeof out, p));
    assert_int_equal(WEXITSTATUS(pclose(p)), 2);
    assert_non_null(strstr(out, "bad/summary.json: no workload vgg19"));
}

/* The calibrated simulation of the 90 % run (factors from the 50 % run)
 * is within 5 % of the "real" one's mean latencies; the plain one is not. */
static void test_calibration_carries_to_high_load(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(sh("python3 scripts/validate-matrix.py plans %s "
                        "%s/plans >/dev/null", H100_MEASURED, d), 0);
    runs_at(d, 50);
    runs_at(d, 90);
    assert_int_equal(sh("python3 scripts/validate-matrix.py calibrate %s %s "
                        "%s/plans", d, H100_MEASURED, d), 0);
    assert_int_equal(sh("python3 scripts/validate-matrix.py table %s "
                        ">/dev/null", d), 0);
    char sum[1024], line[512];
    snprintf(sum, sizeof sum, "%s/matrix-summary.csv", d);
    FILE *f = fopen(sum, "r");
    assert_non_null(f);
    double plain90 = -1, cal90 = -1;
    assert_non_null(fgets(line, sizeof line, f));   /* header */
    while (fgets(line, sizeof line, f)) {
        int load;
        double m;
        char sd[32];
        const char *last = strrchr(line, ',');
        assert_non_null(last);
        assert_int_equal(sscanf(line, "green,%d,poisson,%*d,%*d,%lf", &load,
                                &m), 2);
        assert_int_equal(sscanf(last + 1, "%31s", sd), 1);
        if (load == 90 && !strcmp(sd, "calibrated"))
            cal90 = m;
        if (load == 90 && !strcmp(sd, "green"))
            plain90 = m;
    }
    fclose(f);
    if (!(cal90 >= 0 && cal90 < 5 && plain90 > 4 * cal90))
        fail_msg("90 %% load: calibrated %g %%, plain %g %% (want the "
                 "calibrated under 5 %% and well under the plain)", cal90,
                 plain90);
}

/* calibrate.py prints "... --wake NAME:US ..." when both runs have a
 * trace */
static double wake_of(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "--wake %s:", name);
    const char *p = strstr(out, key);
    if (!p)
        fail_msg("no %s in: %s", key, out);
    return strtod(p + strlen(key), NULL);
}

/* The "real GPU" slows ResNet-50's batches by 1.1 and adds 60 us to every
 * one that starts on an idle instance; both runs write every batch to
 * their trace (30 s at 50 %: the back-to-back batches are few, and their
 * times vary with the neighbour's, so fewer leave the wake cost to
 * chance: seeds 1 to 3 give 56, 59 and 64 us). The factor within 1.5 %,
 * the wake cost within 10 us, VGG-19 near 1 and 0. */
static void factor_and_wake_from_traces(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(sh("python3 scripts/validate-matrix.py plans %s "
                        "%s/plans >/dev/null", H100_MEASURED, d), 0);
    for (int real = 0; real < 2; real++)
        assert_int_equal(sh("build/igniter sim --plan %s/plans/m2-l50.json "
                            "--backend measured --measured %s --duration-s "
                            "30 --warmup-s 1 --seed 1 --arrivals poisson "
                            "--trace 1000000 --quiet --out %s/%s %s", d,
                            H100_MEASURED, d, real ? "real" : "sim",
                            real ? "--slowdown resnet50:1.1 --wake "
                                   "resnet50:60"
                                 : ""),
                         0);
    char cmd[2048], out[512] = "";
    snprintf(cmd, sizeof cmd, "python3 scripts/calibrate.py %s/real %s/sim",
             d, d);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    assert_int_equal(pclose(p), 0);
    double fr = factor_of(out, "resnet50"), wr = wake_of(out, "resnet50"),
           fv = factor_of(out, "vgg19"), wv = wake_of(out, "vgg19");
    if (fabs(fr / 1.1 - 1) > 0.015 || fabs(wr - 60) > 10 ||
        fabs(fv - 1) > 0.015 || wv > 5)
        fail_msg("resnet50 %g and %g us (want about 1.1 and 60), vgg19 %g "
                 "and %g us (about 1 and 0): %s", fr, wr, fv, wv, out);
    /* --json: an experiment's "slowdowns" and "wakes" */
    snprintf(cmd, sizeof cmd, "python3 scripts/calibrate.py %s/real %s/sim "
             "--json > %s/cal.json", d, d, d);
    assert_int_equal(system(cmd), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/cal.json", d);
    cJSON *j = ut_json_load(path, NULL);
    assert_non_null(j);
    const cJSON *wk = cJSON_GetObjectItemCaseSensitive(j, "wakes");
    assert_int_equal(cJSON_GetArraySize(wk), 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetArrayItem(wk, 0), "workload")
                            ->valuestring,
                        "resnet50");
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetArrayItem(wk, 0), "us")
                         ->valuedouble -
                     wr) < 0.051);
    cJSON_Delete(j);
    /* without a trace in one of them: the factors as before, no wake */
    snprintf(cmd, sizeof cmd, "rm %s/sim/trace.json && python3 "
             "scripts/calibrate.py %s/real %s/sim", d, d, d);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof out, p));
    assert_int_equal(pclose(p), 0);
    assert_null(strstr(out, "--wake"));
    assert_non_null(strstr(out, "--slowdown resnet50:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_factors_find_the_slowdown),
        cmocka_unit_test(test_calibration_carries_to_high_load),
        cmocka_unit_test(factor_and_wake_from_traces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
