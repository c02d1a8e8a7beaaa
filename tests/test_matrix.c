/*
 * test_matrix.c - the validation matrix's tools (scripts/validate-matrix.py,
 * experiments/validation/README.md "The matrix"): plans at the loads they
 * claim of the capacity the measured data predicts, a plan simulated on
 * measured data with no profile, and the error table, which must say 0 where
 * "real" and simulated runs are the same and more where they differ.
 */
#define TU_MATRIX
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <sys/wait.h>

#define H100_MEASURED "traces/h100/measured-colocation.jsonl"

#define sh tu_sh

/* Every plan's rates are its load of the capacity; the 90 % plan of m4
 * simulated with the measured back end (no profile) serves its rate with
 * batches below the template's, and a 50 % plan has smaller batches still. */
static void test_plans_at_their_loads(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(sh("python3 scripts/validate-matrix.py plans %s %s "
                        ">/dev/null", H100_MEASURED, d), 0);
    static const char *tpls[] = {"m2", "m3", "m3v", "m4"};
    static const int loads[] = {50, 75, 90};
    for (size_t t = 0; t < 4; t++)
        for (size_t l = 0; l < 3; l++) {
            char name[64];
            snprintf(name, sizeof name, "%s-l%d.json", tpls[t], loads[l]);
            cJSON *p = tu_json_in(d, name);
            assert_non_null(p);
            cJSON *ws = cJSON_GetObjectItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(p, "gpus"), 0),
                "workloads");
            assert_true(cJSON_GetArraySize(ws) >= 2);
            double total = 0;
            cJSON *w;
            cJSON_ArrayForEach(w, ws) {
                const char *m = cJSON_GetObjectItem(w, "model")->valuestring;
                double cap = tu_capacity_of(d, tpls[t], m);
                double rate = cJSON_GetObjectItem(w, "rate_rps")->valuedouble;
                assert_true(cap > 0);
                assert_close(rate, loads[l] / 100.0 * cap, 1e-3);
                total += cJSON_GetObjectItem(w, "resource_pct")->valuedouble;
            }
            assert_true(total <= 100 + 1e-9);
            cJSON_Delete(p);
        }
    double mean_batch[2];
    for (int k = 0; k < 2; k++) {
        char out[1024], plan[1024];
        snprintf(out, sizeof out, "%s/sim%d", d, k);
        snprintf(plan, sizeof plan, "%s/m4-l%d.json", d, k ? 90 : 50);
        assert_int_equal(sh("build/igniter sim --plan %s --backend measured "
                            "--measured %s --duration-s 6 --warmup-s 1 "
                            "--quiet --out %s", plan, H100_MEASURED, out), 0);
        cJSON *s = tu_json_in(out, "summary.json");
        assert_non_null(s);
        mean_batch[k] = 0;
        cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(s, "workloads")) {
            double rate = cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(
                    cJSON_GetObjectItem(s, "inputs"), "arrivals"),
                    cJSON_GetObjectItem(w, "name")->valuestring),
                "rate_rps")->valuedouble;
            assert_close(cJSON_GetObjectItem(w, "throughput_rps")->valuedouble,
                         rate, 0.05);
            mean_batch[k] += cJSON_GetObjectItem(w, "mean_batch")->valuedouble;
        }
        cJSON_Delete(s);
    }
    assert_true(mean_batch[0] < mean_batch[1]);
}

/* The model back end still needs a profile: exit 2, one line naming it. */
static void test_model_backend_needs_a_profile(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "build/igniter sim --plan "
             "experiments/validation/plans/coloc4.json --backend model "
             "--measured %s --out %s/o 2>%s/err", H100_MEASURED, d, d);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    char p[1024], buf[512] = "";
    snprintf(p, sizeof p, "%s/err", d);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "--profile"));
    snprintf(p, sizeof p, "%s/o", d);
    assert_int_equal(access(p, F_OK), -1);
}

/* The table: "real" runs that are the simulator's own (same seed) give 0
 * error; another seed gives some, and both loads and arrivals appear. */
static void test_table_zero_when_identical(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(sh("python3 scripts/validate-matrix.py plans %s %s/plans "
                        ">/dev/null", H100_MEASURED, d), 0);
    static const char *runs[] = {"m2-l50-poisson", "m2-l90-poisson"};
    for (size_t r = 0; r < 2; r++) {
        char plan[1024], o[3][1024];
        snprintf(plan, sizeof plan, "%s/plans/%.6s.json", d, runs[r]);
        snprintf(o[0], sizeof o[0], "%s/same/real/%s", d, runs[r]);
        snprintf(o[1], sizeof o[1], "%s/same/sim-measured/%s", d, runs[r]);
        snprintf(o[2], sizeof o[2], "%s/diff/real/%s", d, runs[r]);
        for (int k = 0; k < 3; k++) {
            char cmd[4096];
            snprintf(cmd, sizeof cmd, "build/igniter sim --plan %s --backend "
                     "measured --measured %s --duration-s 4 --seed %d "
                     "--quiet --out %s", plan, H100_MEASURED, k == 2 ? 7 : 1,
                     o[k]);
            assert_int_equal(system(cmd), 0);
        }
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "mkdir -p %s/diff/sim-measured && cp -r "
                 "%s %s/diff/sim-measured/", d, o[1], d);
        assert_int_equal(system(cmd), 0);
    }
    /* the summaries say "complete": true, as real ones do */
    for (int k = 0; k < 2; k++) {
        char sum[1024];
        snprintf(sum, sizeof sum, "%s/%s/matrix-summary.csv", d,
                 k ? "diff" : "same");
        assert_int_equal(sh("python3 scripts/validate-matrix.py table "
                            "%s/%s >/dev/null", d, k ? "diff" : "same"),
                         0);
        FILE *f = fopen(sum, "r");
        assert_non_null(f);
        char line[512];
        int rows = 0;
        double worst = 0;
        assert_non_null(fgets(line, sizeof line, f));   /* header */
        while (fgets(line, sizeof line, f)) {
            char mech[16], arr[16];
            int load, nruns, nw;
            double m;
            assert_int_equal(sscanf(line, "%15[^,],%d,%15[^,],%d,%d,%lf",
                                    mech, &load, arr, &nruns, &nw, &m), 6);
            assert_string_equal(mech, "green");
            assert_true(load == 50 || load == 90);
            assert_int_equal(nw, 2);
            worst = m > worst ? m : worst;
            rows++;
        }
        fclose(f);
        assert_int_equal(rows, 2);
        if (k)
            assert_true(worst > 0.01);
        else
            assert_true(worst == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans_at_their_loads),
        cmocka_unit_test(test_model_backend_needs_a_profile),
        cmocka_unit_test(test_table_zero_when_identical),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
