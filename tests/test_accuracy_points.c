/*
 * test_accuracy_points.c - `igniter accuracy --json --points`, what the
 * accuracy figures are drawn from: each predictor's object lists one
 * [model, measured_ms, predicted_ms] per latency it compared, as many as
 * its "latencies", and the errors of those points are its statistics
 * (mean, max); without --points the object is unchanged; --points
 * without --json is a usage error (exit 2); scripts/compose-bias.py
 * reads them as `igniter accuracy` judged them and fits its factor;
 * --fit-runs-of fits on a size of runs instead of judging it.
 */
#include "testutil.h"
#include "util/util.h"

#include <math.h>
#include <sys/wait.h>

/* igniter's stdout for the arguments (a shell line); *status its exit. */
static char *igniter(const char *args, int *status)
{
    const char *bin = getenv("IGNITER_BIN");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", bin ? bin : "build/igniter",
             args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    ut_buf b = {0};
    char chunk[8192];
    size_t k;
    ut_buf_printf(&b, "%s", "");
    while ((k = fread(chunk, 1, sizeof chunk, p)) > 0)
        ut_buf_printf(&b, "%.*s", (int)k, chunk);
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return b.s;
}

/* Checks one predictor object of root: points agree with its statistics. */
static void check_points(const cJSON *root, const char *key)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!o)
        fail_msg("no object %s", key);
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(o, "points");
    double n = cJSON_GetObjectItemCaseSensitive(o, "latencies")->valuedouble;
    assert_true(cJSON_IsArray(pts));
    assert_int_equal(cJSON_GetArraySize(pts), (int)n);
    double sum = 0, max = 0;
    const cJSON *pt;
    cJSON_ArrayForEach(pt, pts) {
        assert_int_equal(cJSON_GetArraySize(pt), 3);
        assert_true(cJSON_IsString(cJSON_GetArrayItem(pt, 0)));
        double m = cJSON_GetArrayItem(pt, 1)->valuedouble,
               p = cJSON_GetArrayItem(pt, 2)->valuedouble;
        assert_true(m > 0 && p > 0);
        double e = fabs(p - m) / m * 100;
        sum += e;
        max = e > max ? e : max;
    }
    /* points carry 6 significant digits; the statistics 4 decimals */
    double mean = cJSON_GetObjectItemCaseSensitive(o, "mean_pct")->valuedouble;
    double mx = cJSON_GetObjectItemCaseSensitive(o, "max_pct")->valuedouble;
    if (fabs(sum / n - mean) > 0.01 || fabs(max - mx) > 0.01)
        fail_msg("%s: points give mean %g max %g, the object %g %g", key,
                 sum / n, max, mean, mx);
}

static void test_points_are_what_was_compared(void **state)
{
    (void)state;
    int st;
    char *out = igniter("accuracy --profile " V100_PROFILE " --measured "
                        V100_MEASURED " --hold-out-share 40 --json --points",
                        &st);
    assert_int_equal(st, 0);
    cJSON *root = cJSON_Parse(out);
    assert_non_null(root);
    static const char *preds[] = {"igniter", "no-interference",
                                  "measured-interp", "measured",
                                  "gpulets-linear", "learned"};
    for (size_t i = 0; i < 6; i++)
        check_points(root, preds[i]);
    /* the pairs in file order: the first held-out pair's first member */
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "igniter"), "points"), 0);
    assert_string_equal(cJSON_GetArrayItem(first, 0)->valuestring, "alexnet");
    cJSON_Delete(root);
    free(out);
    /* runs of 3 and 4: NAME_3 and NAME_4 carry their own points */
    out = igniter("accuracy --profile traces/h100/profile.json --multi "
                  "traces/h100/colocations-multi.jsonl --train "
                  "traces/h100/measured-colocation.jsonl --json --points", &st);
    assert_int_equal(st, 0);
    root = cJSON_Parse(out);
    assert_non_null(root);
    check_points(root, "learned_3");
    check_points(root, "igniter_4");
    cJSON_Delete(root);
    free(out);
}

static void test_without_points_unchanged(void **state)
{
    (void)state;
    int st;
    char *out = igniter("accuracy --profile " V100_PROFILE " --measured "
                        V100_MEASURED " --hold-out-share 40 --json", &st);
    assert_int_equal(st, 0);
    assert_null(strstr(out, "\"points\""));
    assert_non_null(strstr(out, "\"max_pct\":18.4482}"));
    free(out);
    out = igniter("accuracy --profile " V100_PROFILE " --measured "
                  V100_MEASURED " --points", &st);
    assert_int_equal(st, 2);
    assert_string_equal(out, "");
    free(out);
}

/* scripts/compose-bias.py reads those points: its runs-of-3 and runs-of-4
 * errors with no factor are `measured_3` and `measured_4`'s mean_pct, and
 * its factor is the least-squares one (the runs of 3's error with it is no
 * larger than with 1 or with c +- 0.05, checked here from the points). */
static void test_compose_bias(void **state)
{
    (void)state;
    int st;
    const char *d = "traces/h200/dense";
    char args[512];
    snprintf(args, sizeof args, "accuracy --profile %s/profile.json --multi "
             "%s/colocations-multi.jsonl --train %s/measured-colocation.jsonl "
             "--json --points", d, d, d);
    char *out = igniter(args, &st);
    assert_int_equal(st, 0);
    cJSON *root = cJSON_Parse(out);
    assert_non_null(root);
    char cmd[512], line[512] = "";
    snprintf(cmd, sizeof cmd, "IGNITER=${IGNITER_BIN:-build/igniter} "
             "python3 scripts/compose-bias.py %s | tail -1", d);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    double a3, s3, c, a4, s4;
    char name[64];
    assert_int_equal(sscanf(line, "| %63s | %lf / %lf %% | %lf | %lf / %lf",
                            name, &a3, &s3, &c, &a4, &s4), 6);
    assert_string_equal(name, d);
    double m3 = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "measured_3"),
                                    "mean_pct")->valuedouble;
    double m4 = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "measured_4"),
                                    "mean_pct")->valuedouble;
    assert_true(fabs(a3 - m3) < 0.006 && fabs(a4 - m4) < 0.006);
    /* the squared relative error of the runs of 3 with factor f */
    const cJSON *mp = cJSON_GetObjectItem(cJSON_GetObjectItem(root,
                                          "measured_3"), "points");
    const cJSON *zp = cJSON_GetObjectItem(cJSON_GetObjectItem(root,
                                          "no-interference_3"), "points");
    double sq[4] = {0}, fs[4] = {c, 1, c - 0.05, c + 0.05};
    for (int k = 0; k < cJSON_GetArraySize(mp); k++) {
        double y = cJSON_GetArrayItem(cJSON_GetArrayItem(mp, k), 1)->valuedouble;
        double pr = cJSON_GetArrayItem(cJSON_GetArrayItem(mp, k), 2)->valuedouble;
        double so = cJSON_GetArrayItem(cJSON_GetArrayItem(zp, k), 2)->valuedouble;
        for (int f = 0; f < 4; f++) {
            double e = (so * (1 + fs[f] * (pr / so - 1)) - y) / y;
            sq[f] += e * e;
        }
    }
    for (int f = 1; f < 4; f++)
        assert_true(sq[0] <= sq[f] * (1 + 1e-3));   /* c: printed to 3 places */
    cJSON_Delete(root);
    free(out);
}

/* --fit-runs-of N: the runs of N are fitted on, not judged (no NAME_N
 * objects, fit_runs_of in the object); the fitted predictors change and
 * the others do not; bad uses are usage errors (exit 2, no output). */
static void test_fit_runs_of(void **state)
{
    (void)state;
    int st;
    const char *base = "accuracy --profile traces/h200/dense/profile.json "
                       "--multi traces/h200/dense/colocations-multi.jsonl "
                       "--train traces/h200/dense/measured-colocation.jsonl "
                       "--json";
    char args[600];
    char *plain = igniter(base, &st);
    assert_int_equal(st, 0);
    snprintf(args, sizeof args, "%s --fit-runs-of 3", base);
    char *fit = igniter(args, &st);
    assert_int_equal(st, 0);
    cJSON *a = cJSON_Parse(plain), *b = cJSON_Parse(fit);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(cJSON_GetObjectItem(a, "fit_runs_of"));
    assert_int_equal(cJSON_GetObjectItem(b, "fit_runs_of")->valueint, 3);
    assert_non_null(cJSON_GetObjectItem(a, "learned_3"));
    assert_null(cJSON_GetObjectItem(b, "learned_3"));
    assert_null(cJSON_GetObjectItem(b, "measured_3"));
    static const char *same[] = {"igniter_4", "no-interference_4",
                                 "measured-interp_4", "measured_4"};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
        assert_true(cJSON_Compare(cJSON_GetObjectItem(a, same[k]),
                                  cJSON_GetObjectItem(b, same[k]), 1));
    static const char *fitted[] = {"gpulets-linear_4", "learned_4"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *x = cJSON_GetObjectItem(a, fitted[k]);
        const cJSON *y = cJSON_GetObjectItem(b, fitted[k]);
        assert_int_equal(cJSON_GetObjectItem(x, "latencies")->valueint,
                         cJSON_GetObjectItem(y, "latencies")->valueint);
        assert_true(cJSON_GetObjectItem(x, "mean_pct")->valuedouble !=
                    cJSON_GetObjectItem(y, "mean_pct")->valuedouble);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(plain);
    free(fit);
    static const char *bad[] = {"--fit-runs-of 2", "--fit-runs-of 3.5",
                                "--fit-runs-of x", "--fit-runs-of 5"};
    for (int k = 0; k < 4; k++) {
        snprintf(args, sizeof args, "%s %s", base, bad[k]);
        char *o = igniter(args, &st);
        assert_int_equal(st, 2);
        assert_string_equal(o, "");
        free(o);
    }
    char *o = igniter("accuracy --profile " V100_PROFILE " --measured "
                      V100_MEASURED " --fit-runs-of 3", &st);
    assert_int_equal(st, 2);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points_are_what_was_compared),
        cmocka_unit_test(test_without_points_unchanged),
        cmocka_unit_test(test_compose_bias),
        cmocka_unit_test(test_fit_runs_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
