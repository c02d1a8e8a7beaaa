/*
 * test_sensitivity.c - `igniter sim --sensitivity PCT` (lab/sensitivity.c):
 * the run itself writes the bytes it writes without the option; each of
 * the two runs beside it is, byte for byte in its results, the run with
 * every workload slowed by that factor (--slowdown); sensitivity.csv has
 * the three runs' rows in order, latencies growing with the factor; bad
 * values and serve are refused with one message, exit 2 and no output,
 * and so is a workload with no room for one more slow-down.
 */
#define TU_RUN
#define TU_LAB
#include "testutil.h"

#include <sys/stat.h>

#define PLAN "experiments/validation/plans/coloc4.json"
#define H100_MEASURED "traces/h100/measured-colocation.jsonl"

static const char *const models[] = {"alexnet", "resnet50", "vgg19",
                                     "ssd300"};

/* igniter sim of the 4-way plan on the H100 data into out, with extra
 * arguments (NULL-terminated, at most 22). */
static int sim4(const char *out, const char *const *extra)
{
    const char *a[41] = {"sim", "--plan", PLAN, "--backend", "measured",
                         "--measured", H100_MEASURED, "--duration-s", "6",
                         "--warmup-s", "1", "--seed", "3", "--trace", "200",
                         "--quiet", "--out", out};
    size_t n = 18;
    for (size_t k = 0; extra && extra[k]; k++) {
        assert_true(n < 40);
        a[n++] = extra[k];
    }
    a[n] = NULL;   /* the rest are NULL too: run() stops at the first */
    return run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
               a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
               a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27],
               a[28], a[29], a[30], a[31], a[32], a[33], a[34], a[35], a[36],
               a[37], a[38], a[39], NULL);
}

static void runs_and_csv(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    char plain[1024], with[1024], var[1024];
    snprintf(plain, sizeof plain, "%s/plain", d);
    snprintf(with, sizeof with, "%s/with", d);
    assert_int_equal(sim4(plain, NULL), 0);
    const char *sens[] = {"--sensitivity", "10", NULL};
    assert_int_equal(sim4(with, sens), 0);

    /* the run itself: the same bytes, summary.json included */
    static const char *const files[] = {"workloads.csv", "timeseries.csv",
                                        "cdf.csv", "trace.json",
                                        "summary.json"};
    tu_same_files(plain, with, files, 5);

    /* each variant: the run with every workload slowed by its factor */
    static const char *const fs[] = {"0.9", "1.1"};
    for (int k = 0; k < 2; k++) {
        char slowed[1024], specs[4][64];
        snprintf(slowed, sizeof slowed, "%s/slowed-%s", d, fs[k]);
        const char *extra[9];
        for (int m = 0; m < 4; m++) {
            snprintf(specs[m], sizeof specs[m], "%s:%s", models[m], fs[k]);
            extra[2 * m] = "--slowdown";
            extra[2 * m + 1] = specs[m];
        }
        extra[8] = NULL;
        assert_int_equal(sim4(slowed, extra), 0);
        snprintf(var, sizeof var, "%s/sensitivity/x%s", with, fs[k]);
        tu_same_as_sim(slowed, var);
        cJSON *s = tu_json_in(var, "summary.json");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s,
                                                                "slowdowns")),
                         4);
        cJSON_Delete(s);
    }

    /* the csv: 5 rows (4 workloads and all) for each of 0.9, 1, 1.1 */
    char *csv = tu_read_in(with, "sensitivity.csv");
    assert_non_null(strstr(csv, "workload,batch_time_factor,mean_ms,p99_ms,"
                                "slo_violation_pct\n"));
    double mean[3][4];
    int rows = 0, alls = 0;
    char *save = NULL;
    for (char *l = strtok_r(strchr(csv, '\n') + 1, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save), rows++) {
        char name[32];
        double f, m, p, v;
        if (sscanf(l, "all,%lf,,,%lf", &f, &v) == 2) {
            assert_true(rows % 5 == 4);
            alls++;
            continue;
        }
        assert_int_equal(sscanf(l, "%31[^,],%lf,%lf,%lf,%lf", name, &f, &m,
                                &p, &v), 5);
        int k = rows / 5, w = rows % 5;
        assert_string_equal(name, models[w]);
        assert_true(fabs(f - (k == 0 ? 0.9 : k == 1 ? 1 : 1.1)) < 1e-12);
        mean[k][w] = m;
        assert_true(p >= m);
    }
    free(csv);
    assert_int_equal(rows, 15);
    assert_int_equal(alls, 3);
    for (int w = 0; w < 4; w++)
        assert_true(mean[0][w] < mean[1][w] && mean[1][w] < mean[2][w]);
}

static void refused(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    char out[1024];
    snprintf(out, sizeof out, "%s/o", d);
    static const char *const bad[] = {"0", "60", "x", "-3", "nan"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        const char *e[] = {"--sensitivity", bad[k], NULL};
        assert_int_equal(sim4(out, e), 2);
        assert_non_null(strstr(res.err, "--sensitivity"));
        assert_non_null(strstr(res.err, bad[k]));
        struct stat st;
        assert_int_not_equal(stat(out, &st), 0);
    }
    /* serve takes no such option */
    assert_int_equal(run("serve", "--plan", PLAN, "--out", out,
                         "--sensitivity", "3", NULL), 2);
    assert_non_null(strstr(res.err, "--sensitivity: an option of igniter "
                                    "sim"));
    /* alexnet with the most slow-downs it can have: no room for one more */
    const char *e[20];
    size_t n = 0;
    for (int k = 0; k < 8; k++) {
        e[n++] = "--slowdown";
        e[n++] = "alexnet:1.01";
    }
    e[n++] = "--sensitivity";
    e[n++] = "3";
    e[n] = NULL;
    assert_int_equal(sim4(out, e), 2);
    assert_non_null(strstr(res.err, "workload alexnet has 8 slow-downs"));
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_and_csv),
        cmocka_unit_test(refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
