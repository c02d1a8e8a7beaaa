/*
 * test_matrix_calib.c - the validation matrix's plans at a calibrated
 * capacity and its simulations with another folder's calibration
 * (scripts/validate-matrix.py plans --calibration, calibrate --calibration;
 * experiments/validation/README.md, "MPS at 90 % of its own capacity"):
 * a known slow-down lowers the capacity by itself, a run that is the
 * slowed simulation is matched exactly by the calibrated one, a bad
 * calibration file is one message naming its line, and the band of
 * `igniter sim --sensitivity` (validate-matrix.py band) holds a run a
 * little slower and not one much slower; validate-matrix.py alone and
 * alone-table find a known slow-down alone and none in the co-location;
 * validate-matrix.py chips finds none between a run and itself and the
 * summaries' own difference between a run and a slower one, and floor
 * sums them up per load; validate-policies.py finds a known slow-down on
 * the plan GPU that has it; capture-power.py finds no error where pairs
 * draw their members' sum.
 */
#define TU_MATRIX
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sys/wait.h>

/* a shell line's exit status */
static int sh_exit(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

#define H100_MEASURED "traces/h100/measured-colocation.jsonl"

/* A calibration.csv of m4's four workloads, every factor f (mechanism
 * mech), into dir/calib.csv. */
static void write_calibration(const char *dir, const char *mech, double f)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/calib.csv", dir);
    FILE *o = fopen(p, "w");
    assert_non_null(o);
    fprintf(o, "mechanism,template,workload,factor,b2b_factor,wake_us\n");
    static const char *ws[] = {"alexnet", "resnet50", "vgg19", "ssd300"};
    for (int i = 0; i < 4; i++)
        fprintf(o, "%s,m4,%s,%.4f,,\n", mech, ws[i], f);
    fclose(o);
}

/* 1.25 times slower batches: m4's capacity is 1/1.25 of the plain one,
 * for each workload (the slow-down scales the batch, interference and
 * all), and the templates the calibration lacks get no plans. */
static void test_calibrated_capacity(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    write_calibration(d, "green", 1.25);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans %s "
                           "%s/plain >/dev/null", H100_MEASURED, d), 0);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans "
                           "--calibration %s/calib.csv %s %s/cal >/dev/null",
                           d, H100_MEASURED, d), 0);
    static const char *ws[] = {"alexnet", "resnet50", "vgg19", "ssd300"};
    char p[1024];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/plain", d);
        double plain = tu_capacity_of(p, "m4", ws[i]);
        snprintf(p, sizeof p, "%s/cal", d);
        double cal = tu_capacity_of(p, "m4", ws[i]);
        assert_true(plain > 0 && cal > 0);
        assert_close(cal, plain / 1.25, 0.01 * plain / 1.25);
        assert_true(tu_capacity_of(p, "m3", "alexnet") < 0);
    }
    snprintf(p, sizeof p, "%s/cal/m4-l90.json", d);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/cal/m3-l90.json", d);
    assert_int_equal(access(p, F_OK), -1);
    cJSON *pl = tu_json_in(d, "cal/m4-l90.json");
    assert_non_null(pl);
    assert_non_null(strstr(cJSON_GetObjectItem(pl, "generator")->valuestring,
                           "calibrated with the green factors"));
    cJSON_Delete(pl);
    /* its mps rows are not green ones */
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py plans "
                                   "--mps --calibration %s/calib.csv %s "
                                   "%s/none >/dev/null 2>&1", d,
                                   H100_MEASURED, d)), 2);
}

/* OUT with one "real" run that is the simulation slowed 1.25 times and
 * no 50 % run of its own: calibrate --calibration with 1.25 matches it
 * exactly (error 0), and the plain simulation does not. */
static void test_calibrate_with_given_factors(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    write_calibration(d, "green", 1.25);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans %s "
                           "%s/plans >/dev/null", H100_MEASURED, d), 0);
    const char *run = "m4-l50-poisson";
    const char *sl = "--slowdown alexnet:1.2500 --slowdown resnet50:1.2500 "
                     "--slowdown vgg19:1.2500 --slowdown ssd300:1.2500";
    for (int k = 0; k < 2; k++)
        assert_int_equal(tu_sh("build/igniter sim --plan %s/plans/m4-l50.json "
                               "--backend measured --measured %s "
                               "--duration-s 4 --warmup-s 1 --seed 1 "
                               "--arrivals poisson --trace 2000 --quiet %s "
                               "--out %s/o/%s/%s", d, H100_MEASURED,
                               k ? "" : sl, d, k ? "sim-measured" : "real",
                               run), 0);
    /* renamed so that no 50 % run is there: the factors must come from
     * the file */
    assert_int_equal(tu_sh("mv %s/o/real/%s %s/o/real/m4-l90-poisson && "
                           "mv %s/o/sim-measured/%s "
                           "%s/o/sim-measured/m4-l90-poisson && "
                           "cp %s/plans/m4-l50.json %s/plans/m4-l90.json",
                           d, run, d, d, run, d, d, d), 0);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py "
                                   "calibrate %s/o %s %s/plans >/dev/null "
                                   "2>&1", d, H100_MEASURED, d)), 2);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py calibrate "
                           "%s/o %s %s/plans --calibration %s/calib.csv",
                           d, H100_MEASURED, d, d), 0);
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/o/real/m4-l90-poisson", d);
    snprintf(b, sizeof b, "%s/o/sim-calibrated/m4-l90-poisson", d);
    tu_same_as_sim(a, b);
    char *cal = tu_read_in(d, "o/calibration.csv");
    assert_non_null(strstr(cal, "green,m4,vgg19,1.2500"));
    free(cal);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py table %s/o "
                           ">/dev/null", d), 0);
    char *m = tu_read_in(d, "o/matrix.csv");
    assert_non_null(m);
    /* the calibrated rows have 0 error in the mean, the plain ones not */
    int zero = 0, plain_off = 0;
    for (char *l = strtok(m, "\n"); l; l = strtok(NULL, "\n")) {
        double e = 0;
        char *c = l;
        for (int f = 0; f < 13 && c; f++)
            c = strchr(c + 1, ',');
        if (!c || sscanf(c + 1, "%lf", &e) != 1)
            continue;
        if (strstr(l, ",calibrated"))
            zero += e == 0;
        else if (strstr(l, ",green"))
            plain_off += e != 0;
    }
    free(m);
    assert_int_equal(zero, 4);
    assert_int_equal(plain_off, 4);
}

/* A calibration file with a factor that is no number: exit 2, its line
 * named, no plan written. */
static void test_bad_calibration_named(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    char p[1024];
    snprintf(p, sizeof p, "%s/calib.csv", d);
    FILE *o = fopen(p, "w");
    assert_non_null(o);
    fprintf(o, "mechanism,template,workload,factor,b2b_factor,wake_us\n"
               "green,m4,alexnet,1.1,,\ngreen,m4,vgg19,fast,,\n");
    fclose(o);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py plans "
                                   "--calibration %s %s %s/cal 2>%s/err", p,
                                   H100_MEASURED, d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "calib.csv: line 3: factor"));
    assert_non_null(strstr(err, "'fast'"));
    free(err);
    snprintf(p, sizeof p, "%s/cal/m4-l90.json", d);
    assert_int_equal(access(p, F_OK), -1);
}

/* band: a "real" run that is the simulation slowed 1.02 times lies inside
 * the 3 % band for every workload, one slowed 1.3 times outside it. */
static void test_band(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans %s "
                           "%s/plans >/dev/null", H100_MEASURED, d), 0);
    static const char *const fs[] = {"1.0200", "1.3000"};
    for (int k = 0; k < 2; k++) {
        char cmd[2048] = "";
        static const char *ws[] = {"alexnet", "resnet50", "vgg19", "ssd300"};
        for (int i = 0; i < 4; i++)
            snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
                     " --slowdown %s:%s", ws[i], fs[k]);
        assert_int_equal(tu_sh("build/igniter sim --plan %s/plans/m4-l75.json "
                               "--backend measured --measured %s "
                               "--duration-s 4 --warmup-s 1 --seed 1 "
                               "--arrivals poisson --quiet%s "
                               "--out %s/o%d/real/m4-l75-poisson", d,
                               H100_MEASURED, cmd, d, k), 0);
        assert_int_equal(tu_sh("python3 scripts/validate-matrix.py band "
                               "%s/o%d %s %s/plans 3 >/dev/null", d, k,
                               H100_MEASURED, d), 0);
        char name[64];
        snprintf(name, sizeof name, "o%d/band-3.csv", k);
        char *csv = tu_read_in(d, name);
        int inside = 0, rows = 0;
        char *save = NULL;
        for (char *l = strtok_r(strchr(csv, '\n') + 1, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save), rows++) {
            char *c = l;
            for (int f = 0; f < 9 && c; f++)
                c = strchr(c + 1, ',');
            assert_non_null(c);
            inside += c[1] == '1';
        }
        free(csv);
        assert_int_equal(rows, 4);
        assert_int_equal(inside, k ? 0 : 4);
    }
}

/* igniter sim of PLAN into OUT (the matrix's duration and seed), with
 * the options slow (--slowdown W:F ..., or "") */
static int sim_into(const char *plan, const char *out, const char *slow)
{
    return tu_sh("build/igniter sim --plan %s --backend measured --measured "
                 "%s --duration-s 4 --warmup-s 1 --seed 1 --arrivals poisson "
                 "--quiet %s --out %s", plan, H100_MEASURED, slow, out);
}

/* validate-matrix.py alone: a plan of one workload per workload, same
 * batch, share, rate and SLO; alone-table: a "real" run 1.1 times slower
 * than its simulation, alone and co-located, is -9.1 % alone and 1.0 in
 * the co-location's slow-down; the capture's column comes from
 * mps-coloc.jsonl, for MPS rows only; a run of another name is refused. */
static void test_alone(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans %s "
                           "%s/plans >/dev/null", H100_MEASURED, d), 0);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py alone %s/alone "
                           "%s/plans/m4-l75.json >/dev/null", d, d), 0);
    cJSON *co = tu_json_in(d, "plans/m4-l75.json");
    assert_non_null(co);
    cJSON *cws = cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(co, "gpus"), 0), "workloads");
    assert_int_equal(cJSON_GetArraySize(cws), 4);
    char p[1024], q[1024];
    for (int i = 0; i < 4; i++) {
        cJSON *w = cJSON_GetArrayItem(cws, i);
        const char *name = cJSON_GetObjectItem(w, "name")->valuestring;
        snprintf(p, sizeof p, "alone/m4-l75-%s.json", name);
        cJSON *one = tu_json_in(d, p);
        assert_non_null(one);
        cJSON *ows = cJSON_GetObjectItem(cJSON_GetArrayItem(
            cJSON_GetObjectItem(one, "gpus"), 0), "workloads");
        assert_int_equal(cJSON_GetArraySize(ows), 1);
        assert_true(cJSON_Compare(cJSON_GetArrayItem(ows, 0), w, 1));
        cJSON_Delete(one);
        /* the "real" runs alone, 1.1 times slower, and their simulations,
         * under both mechanisms */
        for (int m = 0; m < 2; m++) {
            const char *r = m ? "real-mps" : "real";
            const char *s = m ? "sim-measured-mps" : "sim-measured";
            snprintf(p, sizeof p, "%s/alone/m4-l75-%s.json", d, name);
            snprintf(q, sizeof q, "%s/A/%s/m4-l75-%s-poisson", d, r, name);
            char sl[128];
            snprintf(sl, sizeof sl, "--slowdown %s:1.1", name);
            assert_int_equal(sim_into(p, q, sl), 0);
            snprintf(q, sizeof q, "%s/A/%s/m4-l75-%s-poisson", d, s, name);
            assert_int_equal(sim_into(p, q, ""), 0);
        }
    }
    cJSON_Delete(co);
    /* co-located, 1.1 times slower and plain */
    snprintf(p, sizeof p, "%s/plans/m4-l75.json", d);
    for (int m = 0; m < 2; m++) {
        snprintf(q, sizeof q, "%s/G/%s/m4-l75-poisson", d,
                 m ? "real-mps" : "real");
        assert_int_equal(sim_into(p, q, "--slowdown alexnet:1.1 "
                                  "--slowdown resnet50:1.1 --slowdown "
                                  "vgg19:1.1 --slowdown ssd300:1.1"), 0);
        snprintf(q, sizeof q, "%s/G/%s/m4-l75-poisson", d,
                 m ? "sim-measured-mps" : "sim-measured");
        assert_int_equal(sim_into(p, q, ""), 0);
    }
    tu_write_in(d, "A/mps-coloc.jsonl",
                "{\"plan\":\"m4-l75\",\"run\":\"alone\",\"pct\":18.2,"
                "\"model\":\"alexnet\",\"batch\":6,\"mean_ms\":0.5}\n"
                "{\"plan\":\"m4-l75\",\"run\":\"together\",\"pct\":18.2,"
                "\"model\":\"alexnet\",\"batch\":6,\"mean_ms\":0.6}\n");
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py alone-table "
                           "%s/A %s/G %s/G >/dev/null", d, d, d), 0);
    char *t = tu_read_in(d, "A/alone.csv");
    assert_non_null(t);
    int rows = 0;
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
        char mech[16], run[64], w[32];
        double ra, sa, e, rc, sc, rs, ss, ratio;
        if (strncmp(l, "mechanism,", 10) == 0)
            continue;
        l[strcspn(l, "\r")] = 0;   /* Python's csv ends lines with \r\n */
        assert_int_equal(sscanf(l, "%15[^,],%63[^,],%31[^,],%lf,%lf,%lf,%lf,"
                                "%lf,%lf,%lf,%lf", mech, run, w, &ra, &sa, &e,
                                &rc, &sc, &rs, &ss, &ratio), 11);
        assert_string_equal(run, "m4-l75-poisson");
        assert_true(e > -10.5 && e < -7.5);        /* 1/1.1 - 1 = -9.1 % */
        assert_close(ratio, 1.0, 0.03);
        assert_close(rs, rc / ra, 1e-3);
        const char *cap = strrchr(l, ',') + 1;
        if (strcmp(mech, "mps") == 0 && strcmp(w, "alexnet") == 0)
            assert_string_equal(cap, "1.2000");
        else
            assert_string_equal(cap, "");
        rows++;
    }
    assert_int_equal(rows, 8);
    free(t);
    /* a run that is not T-lLL-W-ARRIVALS */
    assert_int_equal(tu_sh("mkdir -p %s/B/real/odd && cp %s/A/real/"
                           "m4-l75-vgg19-poisson/summary.json %s/B/real/odd/",
                           d, d, d), 0);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py "
                                   "alone-table %s/B %s/G %s/G 2>%s/err",
                                   d, d, d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "odd: expected a run named T-lLL-W-ARRIVALS"));
    free(err);
}

/* The mean of |b - a| / a over the workloads of two summaries' mean
 * latencies, in percent. */
static double mean_diff(const char *a, const char *b)
{
    cJSON *ja = tu_json_in(a, "summary.json"), *jb = tu_json_in(b,
                                                               "summary.json");
    assert_non_null(ja);
    assert_non_null(jb);
    cJSON *wa = cJSON_GetObjectItem(ja, "workloads");
    cJSON *wb = cJSON_GetObjectItem(jb, "workloads");
    double sum = 0;
    int n = cJSON_GetArraySize(wa);
    for (int i = 0; i < n; i++) {
        double x = cJSON_GetObjectItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(wa, i), "latency_ms"), "mean")->valuedouble;
        double y = cJSON_GetObjectItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(wb, i), "latency_ms"), "mean")->valuedouble;
        sum += fabs(y - x) / x * 100;
    }
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return sum / n;
}

/* validate-matrix.py chips: a run against itself differs by nothing; a run
 * 1.1 times slower differs by what the summaries say; folders not in pairs,
 * or with no run in common, are refused naming them. */
static void test_chips(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py plans %s "
                           "%s/plans >/dev/null", H100_MEASURED, d), 0);
    char p[1024], q[1024], r[1024];
    snprintf(p, sizeof p, "%s/plans/m4-l75.json", d);
    snprintf(q, sizeof q, "%s/A/real/m4-l75-poisson", d);
    assert_int_equal(sim_into(p, q, ""), 0);
    snprintf(r, sizeof r, "%s/B/real/m4-l75-poisson", d);
    assert_int_equal(sim_into(p, r, "--slowdown alexnet:1.1 --slowdown "
                              "resnet50:1.1 --slowdown vgg19:1.1 "
                              "--slowdown ssd300:1.1"), 0);
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py chips "
                           "%s/c.csv %s/A %s/A %s/A %s/B >/dev/null",
                           d, d, d, d, d), 0);
    char *t = tu_read_in(d, "c.csv");
    assert_non_null(t);
    int rows = 0;
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
        char a[16], b[16], mech[16], arr[16];
        int load, n;
        double m, mx, p99, p99x, v, vx;
        if (strncmp(l, "a,", 2) == 0)
            continue;
        assert_int_equal(sscanf(l, "%15[^,],%15[^,],%15[^,],%d,%15[^,],%d,"
                                "%lf,%lf,%lf,%lf,%lf,%lf", a, b, mech, &load,
                                arr, &n, &m, &mx, &p99, &p99x, &v, &vx), 12);
        assert_string_equal(a, "A");
        assert_string_equal(mech, "green");
        assert_int_equal(load, 75);
        assert_string_equal(arr, "poisson");
        assert_int_equal(n, 4);
        if (strcmp(b, "A") == 0) {
            assert_true(m == 0 && mx == 0 && p99 == 0 && v == 0);
        } else {
            assert_close(m, mean_diff(q, r), 0.006);
            assert_true(m > 1 && mx >= m);
        }
        rows++;
    }
    assert_int_equal(rows, 2);
    free(t);
    /* refused: an odd number of folders; two with no run in common */
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py chips "
                                   "%s/c.csv %s/A %s/B %s/A 2>%s/err",
                                   d, d, d, d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "expected folders in pairs A B, got 3"));
    free(err);
    assert_int_equal(tu_sh("mkdir -p %s/C/real", d), 0);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py chips "
                                   "%s/c.csv %s/A %s/C 2>%s/err",
                                   d, d, d, d)), 2);
    err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "/A and "));
    assert_non_null(strstr(err, "/C have no complete run in common"));
    free(err);
}

/* validate-matrix.py floor: per mechanism, load and arrivals, the mean,
 * least and largest over the folders' summaries and over the chips rows
 * between two of them; a mechanism no two chips ran is left out; no such
 * row at all is refused naming the file. */
static void test_floor(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    const char *hdr = "mechanism,load_pct,arrivals,runs,workloads,"
                      "mean_err_pct,mean_err_max_pct,p99_err_pct,"
                      "p99_err_max_pct,service_err_signed_pct,"
                      "slo_violation_diff_pts,slo_violation_diff_max_pts,"
                      "sim_data";
    for (int k = 1; k <= 2; k++) {
        char name[64], text[1024];
        assert_int_equal(tu_sh("mkdir -p %s/F/c%d", d, k), 0);
        snprintf(name, sizeof name, "F/c%d/matrix-summary.csv", k);
        snprintf(text, sizeof text,
                 "%s\ngreen,90,poisson,4,12,%d.00,1,1,1,0,0,0,green\n"
                 "green,90,poisson,4,12,%d.00,1,1,1,0,0,0,calibrated\n"
                 "green,90,poisson,4,12,99.00,1,1,1,0,0,0,calibrated-wake\n"
                 "mps,90,poisson,4,12,50.00,1,1,1,0,0,0,mps\n", hdr,
                 10 * k, 2 * k);
        tu_write_in(d, name, text);
    }
    tu_write_in(d, "F/chips.csv",
                "a,b,mechanism,load_pct,arrivals,workloads,mean_diff_pct,"
                "mean_diff_max_pct,p99_diff_pct,p99_diff_max_pct,"
                "slo_violation_diff_pts,slo_violation_diff_max_pts\n"
                "c1,c2,green,90,poisson,12,3.00,9,1,1,0,0\n"
                "c1,other,green,90,poisson,12,40.00,9,1,1,0,0\n");
    assert_int_equal(tu_sh("python3 scripts/validate-matrix.py floor "
                           "%s/F/floor.csv %s/F/chips.csv %s/F/c1 %s/F/c2 "
                           ">/dev/null", d, d, d, d), 0);
    char *t = tu_read_in(d, "F/floor.csv");
    assert_non_null(t);
    assert_non_null(strstr(t, "green,90,poisson,predicted,2,15.00,10.00,"
                              "20.00"));
    assert_non_null(strstr(t, "green,90,poisson,calibrated,2,3.00,2.00,"
                              "4.00"));
    assert_non_null(strstr(t, "green,90,poisson,real-vs-real,1,3.00,3.00,"
                              "3.00"));
    assert_null(strstr(t, "mps"));
    assert_null(strstr(t, "99.00"));
    assert_null(strstr(t, "40.00"));
    free(t);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-matrix.py floor "
                                   "%s/F/x.csv %s/F/chips.csv %s/F/c1 "
                                   "2>%s/err", d, d, d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "chips.csv: no row whose folders are both "
                                "among the DIRs (c1)"));
    free(err);
}

/* sim of a policies plan (H200 data) into dir/sub/run, slow extra args */
static int sim_policy(const char *d, const char *plan, const char *sub,
                      const char *run, const char *slow)
{
    return tu_sh("build/igniter sim --plan experiments/validation/policies/"
                 "plans/%s.json --backend measured --measured "
                 "traces/h200/measured-colocation.jsonl --duration-s 3 "
                 "--warmup-s 1 --seed 1 --arrivals poisson --quiet %s "
                 "--out %s/%s/%s", plan, slow, d, sub, run);
}

/* validate-policies.py: a "real" run that is its simulation has no error
 * and the simulation's violations; one whose second plan GPU is 1.2 times
 * slower shows it on that GPU's batch times (about -1/6) and not on the
 * first GPU's; the ranking lines order the policies by violations; band
 * holds a run that is its simulation; a bad PCT is refused naming it, and
 * an incomplete real run naming it, with nothing written. */
static void test_validate_policies(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
    const char *slow = "--slowdown W8:1.2 --slowdown W9:1.2 "
                       "--slowdown W10:1.2 --slowdown W11:1.2";
    assert_int_equal(sim_policy(d, "x2-ffd", "real", "x2-ffd-poisson", ""),
                     0);
    assert_int_equal(sim_policy(d, "x2-ffd", "sim-a", "x2-ffd-poisson", ""),
                     0);
    assert_int_equal(sim_policy(d, "x2-igniter", "real",
                                "x2-igniter-poisson", slow), 0);
    assert_int_equal(sim_policy(d, "x2-igniter", "sim-a",
                                "x2-igniter-poisson", ""), 0);
    assert_int_equal(tu_sh("python3 scripts/validate-policies.py %s > "
                           "%s/out.md", d, d), 0);
    char *t = tu_read_in(d, "policies.csv");
    assert_non_null(t);
    assert_non_null(strstr(t, "run,scale,policy,arrivals,gpus,real_viol_pct,"
                              "again_viol_pct,again_mean_err_pct,a_viol_pct,"
                              "a_mean_err_pct,a_p99_err_pct\n"));
    char *l = strstr(t, "\nx2-ffd-poisson,x2,ffd,poisson,1,");
    assert_non_null(l);
    double rv, sv, me, pe;
    assert_int_equal(sscanf(l, "\nx2-ffd-poisson,x2,ffd,poisson,1,%lf,,,"
                            "%lf,%lf,%lf", &rv, &sv, &me, &pe), 4);
    assert_true(rv == sv && me == 0 && pe == 0);
    assert_non_null(strstr(t, "\nx2-igniter-poisson,x2,igniter,poisson,2,"));
    free(t);
    t = tu_read_in(d, "policies-gpus.csv");
    assert_non_null(t);
    int rows = 0;
    for (char *x = strtok(t, "\n"); x; x = strtok(NULL, "\n")) {
        char run[64];
        int gpu, n, sms;
        double umax, umean, e, worst;
        if (strncmp(x, "run,", 4) == 0)
            continue;
        assert_int_equal(sscanf(x, "%63[^,],%d,%d,%d,%lf,%lf,%lf,%lf", run,
                                &gpu, &n, &sms, &umax, &umean, &e, &worst),
                         8);
        assert_true(umax >= umean && umean > 0 && sms % 8 == 0);
        if (strcmp(run, "x2-igniter-poisson") == 0 && gpu == 1) {
            assert_true(e < -13 && e > -20 && worst <= e);
        } else {
            assert_true(e == 0 && worst == 0);
        }
        rows++;
    }
    assert_int_equal(rows, 3);   /* ffd's one GPU, igniter's two */
    free(t);
    /* the ranking line of x2 Poisson orders by violations, then GPUs */
    char *md = tu_read_in(d, "out.md");
    assert_non_null(md);
    char *line = strstr(md, "x2 poisson: real: ");
    assert_non_null(line);
    char *ig = strstr(line, "igniter ("), *ff = strstr(line, "ffd (");
    assert_true(ig && ff);
    free(md);
    /* band: the simulation 20 % either way; ffd's real run, its own
     * simulation, lies inside, at the band's middle */
    assert_int_equal(tu_sh("python3 scripts/validate-policies.py band %s 20 "
                           "traces/h200/measured-colocation.jsonl > "
                           "%s/band.md", d, d), 0);
    t = tu_read_in(d, "band-20.csv");
    assert_non_null(t);
    l = strstr(t, "\nx2-ffd-poisson,");
    assert_non_null(l);
    double sim, lo, hi, real;
    int inside;
    assert_int_equal(sscanf(l, "\nx2-ffd-poisson,%lf,%lf,%lf,%lf,%d", &sim,
                            &lo, &hi, &real, &inside), 5);
    assert_true(sim == real && lo <= sim && sim <= hi && lo < hi);
    assert_int_equal(inside, 1);
    free(t);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-policies.py band "
                                   "%s 0 traces/h200/measured-colocation.jsonl"
                                   " 2>%s/err", d, d)), 2);
    char *e0 = tu_read_in(d, "err");
    assert_non_null(strstr(e0, "PCT: expected a number in (0, 50], got '0'"));
    free(e0);
    /* an incomplete real run: refused, naming it; nothing rewritten */
    assert_int_equal(tu_sh("rm %s/policies.csv && sed -i "
                           "'s/\"complete\": true/\"complete\": false/' "
                           "%s/real/x2-ffd-poisson/summary.json", d, d), 0);
    assert_int_equal(sh_exit(tu_sh("python3 scripts/validate-policies.py %s "
                                   ">/dev/null 2>%s/err", d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "real/x2-ffd-poisson: incomplete"));
    free(err);
    char p[1024];
    snprintf(p, sizeof p, "%s/policies.csv", d);
    assert_int_equal(access(p, F_OK), -1);
}

/* capture-power.py: pairs whose power is the sum of their members' solo
 * power above idle are predicted with no error and a correlation of 1;
 * a capped pair and a pair with a member never measured alone are left
 * out; a record without its fields is one message naming file and line. */
static void test_capture_power(void **state)
{
    (void)state;
    const char *d = tu_tmpdir();
#define SOLO "{\"kind\":\"solo\",\"model\":\"%s\",\"sms\":%d,"          \
             "\"batch\":%d,\"iters\":100,\"mean_ms\":%g,\"power_w\":%g}\n"
#define PAIR "{\"kind\":\"coloc\",\"n\":2,\"members\":[{\"model\":\"a\","      \
             "\"sms\":%d,\"batch\":1},{\"model\":\"%s\",\"sms\":16,"          \
             "\"batch\":2}],\"power_w\":%g,\"clock_mhz\":%g}\n"
    char raw[4096];
    int n = snprintf(raw, sizeof raw, "{\"kind\":\"meta\",\"max_clock_mhz\":"
                     "1980}\n{\"kind\":\"idle\",\"power_w\":90}\n"
                     "{\"kind\":\"idle\",\"power_w\":110}\n");
    n += snprintf(raw + n, sizeof raw - n, SOLO, "a", 8, 1, 1.0, 150.0);
    n += snprintf(raw + n, sizeof raw - n, SOLO, "b", 16, 2, 2.0, 170.0);
    n += snprintf(raw + n, sizeof raw - n, SOLO, "a", 16, 1, 3.0, 160.0);
    n += snprintf(raw + n, sizeof raw - n, PAIR, 8, "b", 220.0, 1980.0);
    n += snprintf(raw + n, sizeof raw - n, PAIR, 16, "b", 230.0, 1979.5);
    n += snprintf(raw + n, sizeof raw - n, PAIR, 8, "b", 700.0, 1800.0);
    snprintf(raw + n, sizeof raw - n, PAIR, 8, "c", 300.0, 1980.0);
    tu_write_in(d, "raw.jsonl", raw);
    assert_int_equal(tu_sh("python3 scripts/capture-power.py %s/raw.jsonl "
                           "> %s/out", d, d), 0);
    char *t = tu_read_in(d, "out");
    assert_non_null(t);
    assert_non_null(strstr(t, "idle 100.0 W; 2 unthrottled pairs (of 4)"));
    assert_non_null(strstr(t, "mean signed +0.0 %, mean absolute 0.0 %, "
                              "correlation 1.00"));
    assert_non_null(strstr(t, "a solo point ran 0.20 s (median of 3)"));
    free(t);
    /* one pair drawing 10 % more than its sum: the error says so */
    tu_write_in(d, "raw2.jsonl", "{\"kind\":\"meta\",\"max_clock_mhz\":1980}\n"
                "{\"kind\":\"idle\",\"power_w\":100}\n");
    assert_int_equal(tu_sh("grep solo %s/raw.jsonl >> %s/raw2.jsonl && "
                           "grep '\"power_w\":220' %s/raw.jsonl >> "
                           "%s/raw2.jsonl && grep '\"power_w\":230' "
                           "%s/raw.jsonl | sed 's/230/209.090909/' >> "
                           "%s/raw2.jsonl", d, d, d, d, d, d), 0);
    assert_int_equal(tu_sh("python3 scripts/capture-power.py %s/raw2.jsonl "
                           "> %s/out2", d, d), 0);
    t = tu_read_in(d, "out2");
    assert_non_null(strstr(t, "mean signed +5.0 %, mean absolute 5.0 %"));
    free(t);
    /* a pair without members: file and line named, exit 2 */
    tu_write_in(d, "bad.jsonl", "{\"kind\":\"meta\",\"max_clock_mhz\":1980}\n"
                "{\"kind\":\"coloc\",\"n\":2,\"power_w\":1}\n");
    assert_int_equal(sh_exit(tu_sh("python3 scripts/capture-power.py "
                                   "%s/bad.jsonl 2>%s/err", d, d)), 2);
    char *err = tu_read_in(d, "err");
    assert_non_null(strstr(err, "bad.jsonl:2: expected a raw record"));
    free(err);
#undef SOLO
#undef PAIR
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibrated_capacity),
        cmocka_unit_test(test_calibrate_with_given_factors),
        cmocka_unit_test(test_bad_calibration_named),
        cmocka_unit_test(test_band),
        cmocka_unit_test(test_alone),
        cmocka_unit_test(test_chips),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_validate_policies),
        cmocka_unit_test(test_capture_power),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
