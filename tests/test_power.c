/*
 * test_power.c - the power cap end to end: `igniter derive` of a
 * synthetic power capture (idle, solo points, runs of several whose
 * clocks follow a known hold and exponent) gives measured-power.json with
 * those back and the solo power as measured (a solo point measured below
 * the maximum clock raised to it); the lookups interpolate as model.h
 * says; `igniter sim --power` slows the batches of a set over the hold by
 * exactly the clock ratio and leaves a set under it byte for byte; an
 * experiment's "power" reaches every run of `igniter compare`, and a
 * sweep's, relative to the sweep file, every cell; bad
 * input is one message naming the file, line or field, exit 2, nothing
 * written.
 *
 * The binary is $IGNITER_BIN (tests/run.sh sets it), default build/igniter.
 */
#define TU_SYNTH_RAW
#define TU_RUN
#include "testutil.h"
#include "model/model.h"

#include <math.h>

/* ---- the synthetic power capture ---------------------------------------- */

/* The truth: the board idles at 100 W and holds 500 W; dynamic power goes
 * as the clock to the 2.5. Each model's draw above idle at batches 1, 32
 * on 16, 64 SMs; alpha at batch 32 on 64 SMs (450 W) is over the hold on
 * its own, so its point is measured at the clock that holds it (below the
 * maximum, at 500 W). */
#define IDLE 100.0
#define HOLD 500.0
#define ALPHA 2.5
#define MAXCLK 1980.0
static const char *const names[2] = {"alpha", "beta"};
static const int p_sms[2] = {16, 64}, p_batch[2] = {1, 32};
static const double dyn[2][2][2] = {{{20, 60}, {150, 450}},
                                    {{30, 90}, {180, 450}}};

static double ratio_at(double demand)
{
    return demand <= HOLD - IDLE ? 1 : pow((HOLD - IDLE) / demand, 1 / ALPHA);
}

/* runs of several, at grid points: model, batch index, SMs index */
static const struct {
    int n, m[2], b[2], s[2];
} sets[] = {
    {2, {0, 1}, {1, 1}, {0, 1}},    /* 150 + 450: over */
    {2, {0, 1}, {0, 0}, {1, 1}},    /* 60 + 90: under */
    {2, {0, 1}, {1, 0}, {1, 0}},    /* 450 + 30: over */
    {2, {1, 1}, {1, 1}, {0, 1}},    /* 180 + 450: over */
    {2, {0, 1}, {1, 1}, {0, 0}},    /* 150 + 180: under */
};
#define NSETS (sizeof sets / sizeof sets[0])

static void member(cap_rec *r, int i, int m, int b, int sms)
{
    cap_rec_member_set_str(r, i, "model", names[m]);
    cap_rec_member_set(r, i, "batch", b);
    cap_rec_member_set(r, i, "sms", sms);
    cap_rec_member_set(r, i, "share_pct", 100.0 * sms / 132);
    cap_rec_member_set(r, i, "iters", 10);
    cap_rec_member_set(r, i, "mean_ms", 1.5);
    cap_rec_member_set(r, i, "std_ms", 0.01);
}

static void power_fields(cap_rec *r, double power, double clock)
{
    cap_rec_set(r, "window_s", 1);
    cap_rec_set(r, "power_w", power);
    cap_rec_set_str(r, "power_from", "energy");
    cap_rec_set(r, "power_sampled_w", power);
    cap_rec_set(r, "clock_mhz", clock);
    cap_rec_set(r, "samples", 20);
}

/* The power records (after a meta record of their own when meta), into
 * a text to free. bad: 0 none; 1 a solo record with two members; 2 no
 * solo point for beta at batch 32 on 64 SMs; 3 no idle record. */
static char *power_records(int meta, int bad)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", "");
    if (meta)
        TU_REC(&b, NULL, CAP_REC_META, TU_S("gpu", "NVIDIA H100 80GB HBM3"),
               TU_N("sm_count", 132), TU_N("max_clock_mhz", MAXCLK),
               TU_N("power_cap_w", 700));
    cap_rec r;
    if (bad != 3) {
        cap_rec_init(&r, CAP_REC_POWER);
        cap_rec_set_str(&r, "set", "idle");
        cap_rec_set(&r, "n", 0);
        power_fields(&r, IDLE, MAXCLK);
        cap_rec_write(&r, &b);
    }
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 2; i++)
            for (int s = 0; s < 2; s++) {
                if (bad == 2 && m == 1 && i == 1 && s == 1)
                    continue;
                double d = dyn[m][i][s], rr = ratio_at(d);
                cap_rec_init(&r, CAP_REC_POWER);
                cap_rec_set_str(&r, "set", "solo");
                cap_rec_set(&r, "n", 1);
                member(&r, 0, m, p_batch[i], p_sms[s]);
                if (bad == 1 && m == 0 && i == 0 && s == 0)
                    member(&r, 1, 1, 1, 16);
                power_fields(&r, IDLE + d * pow(rr, ALPHA), MAXCLK * rr);
                cap_rec_write(&r, &b);
            }
    for (size_t k = 0; k < NSETS; k++) {
        double d = 0;
        cap_rec_init(&r, CAP_REC_POWER);
        cap_rec_set_str(&r, "set", "set");
        cap_rec_set(&r, "n", sets[k].n);
        for (int i = 0; i < sets[k].n; i++) {
            int m = sets[k].m[i], bi = sets[k].b[i], si = sets[k].s[i];
            member(&r, i, m, p_batch[bi], p_sms[si]);
            d += dyn[m][bi][si];
        }
        double rr = ratio_at(d);
        power_fields(&r, IDLE + d * pow(rr, ALPHA), MAXCLK * rr);
        cap_rec_write(&r, &b);
    }
    return b.s;
}

/* A fresh folder with the green capture (dir/raw.jsonl) and the power
 * records in a file of their own (dir/power.jsonl); paths of 256 bytes. */
static const char *capture(char *raw, char *pw, int bad)
{
    const char *dir = tu_tmpdir();
    char *green = tu_synth_raw(NULL, TU_SYNTH_END);
    snprintf(raw, 256, "%s/raw.jsonl", dir);
    tu_put(raw, green);
    free(green);
    char *p = power_records(1, bad);
    snprintf(pw, 256, "%s/power.jsonl", dir);
    tu_put(pw, p);
    free(p);
    return dir;
}

/* Derives a good capture into dir/out; dir. */
static const char *derived(void)
{
    char raw[256], pw[256], out[300];
    const char *dir = capture(raw, pw, 0);
    snprintf(out, sizeof out, "%s/out", dir);
    if (run("derive", raw, "--power", pw, "--out", out, NULL) != 0)
        fail_msg("derive: %s", res.err);
    assert_contains(res.out, "measured-power.json: 14 power points; clock "
                    "over 5 runs of several (3 below the maximum)");
    return dir;
}

/* derived(), and its measured data and power model loaded. */
static const char *derive_and_load(mdl_measured *m, mdl_power *p)
{
    char out[300], path[340];
    const char *dir = derived();
    snprintf(out, sizeof out, "%s/out", dir);
    ut_err err;
    snprintf(path, sizeof path, "%s/measured-colocation.jsonl", out);
    if (mdl_measured_load(path, m, &err) < 0)
        fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/measured-power.json", out);
    if (mdl_power_load(path, m, p, &err) < 0)
        fail_msg("%s", err.msg);
    return dir;
}

/* ---- tests -------------------------------------------------------------- */

/* The fit gives the hold and the exponent back, the table is each solo
 * point's power above idle (the throttled one raised to the maximum
 * clock: 450 W, not the 400 W measured), and the lookups interpolate as
 * model.h says. */
static void test_derive_gives_the_truth_back(void **state)
{
    (void)state;
    mdl_measured m;
    mdl_power p;
    derive_and_load(&m, &p);
    assert_close(p.idle_w, IDLE, 0);
    assert_close(p.hold_w, HOLD, 0);
    assert_close(p.alpha, ALPHA, 1e-12);
    assert_close(p.cap_w, 700, 0);
    int a = mdl_measured_find(&m, "alpha"), b = mdl_measured_find(&m, "beta");
    double s16 = 100.0 * 16 / 132, s64 = 100.0 * 64 / 132;
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 2; s++) {
            double sh = s ? s64 : s16;
            /* 2 decimals in the file, the clock's 6 digits in the raw */
            assert_true(fabs(mdl_power_dyn_w(&p, a, p_batch[i], sh) -
                             dyn[0][i][s]) < 0.02);
            assert_true(fabs(mdl_power_dyn_w(&p, b, p_batch[i], sh) -
                             dyn[1][i][s]) < 0.02);
        }
    /* halfway in share; in proportion below the first share; log2 in
     * batch (4 is 2/5 of the way from 1 to 32); clamped above 32 */
    assert_close(mdl_power_dyn_w(&p, b, 1, (s16 + s64) / 2), 60, 1e-9);
    assert_close(mdl_power_dyn_w(&p, b, 1, s16 / 2), 15, 1e-9);
    assert_close(mdl_power_dyn_w(&p, b, 4, s16), 30 + 0.4 * 150, 1e-9);
    assert_close(mdl_power_dyn_w(&p, b, 64, s16), 180, 1e-9);
    /* above the last share: the line of the last two */
    assert_close(mdl_power_dyn_w(&p, b, 1, 100.0 * 112 / 132), 150, 1e-9);
    /* the clock: full up to the hold, then (head / demand)^(1 / alpha) */
    assert_close(mdl_power_clock(&p, 399), 1, 0);
    assert_close(mdl_power_clock(&p, 800), pow(0.5, 0.4), 1e-12);
    /* a set: each batch by its clock alone over the set's */
    mdl_place w[2] = {{a, 32, s64}, {b, 32, s64}};
    double lat[2] = {2, 3};
    double ra = mdl_power_clock(&p, mdl_power_dyn_w(&p, a, 32, s64)),
           rb = mdl_power_clock(&p, mdl_power_dyn_w(&p, b, 32, s64)),
           rs = mdl_power_clock(&p, mdl_power_dyn_w(&p, a, 32, s64) +
                                        mdl_power_dyn_w(&p, b, 32, s64));
    mdl_power_apply(&p, w, 2, lat);
    assert_close(lat[0], 2 * ra / rs, 1e-12);
    assert_close(lat[1], 3 * rb / rs, 1e-12);
    assert_true(lat[0] > 2 * 1.3);   /* (900 / 450)^0.4 = 1.32 */
    /* alone, or a set under the hold: as measured */
    mdl_power_apply(&p, w, 1, lat);
    assert_close(lat[0], 2 * ra / rs, 1e-12);
    mdl_place u[2] = {{a, 1, s16}, {b, 1, s16}};
    double l2[2] = {2, 3};
    mdl_power_apply(&p, u, 2, l2);
    assert_close(l2[0], 2, 0);
    assert_close(l2[1], 3, 0);
    mdl_power_free(&p);
    mdl_measured_free(&m);
}

/* Power records in the raw file itself give the same model; the green
 * files are the same bytes with or without them; derived anew without
 * any, an old measured-power.json goes. */
static void test_derive_in_raw_and_green_unchanged(void **state)
{
    (void)state;
    char raw[256], pw[256], o1[300], o2[300], o3[300];
    const char *dir = capture(raw, pw, 0);
    snprintf(o1, sizeof o1, "%s/o1", dir);
    snprintf(o2, sizeof o2, "%s/o2", dir);
    snprintf(o3, sizeof o3, "%s/o3", dir);
    assert_int_equal(run("derive", raw, "--power", pw, "--out", o1, NULL), 0);
    char *green = tu_read_in(dir, "raw.jsonl"),
         *power = power_records(0, 0);
    char both[300];
    snprintf(both, sizeof both, "%s/both.jsonl", dir);
    ut_buf b = {0};
    ut_buf_printf(&b, "%s%s", green, power);
    tu_put(both, b.s);
    ut_buf_free(&b);
    free(green);
    free(power);
    assert_int_equal(run("derive", both, "--out", o2, NULL), 0);
    assert_int_equal(run("derive", raw, "--out", o3, NULL), 0);
    char *x = tu_read_in(o1, "measured-power.json"),
         *y = tu_read_in(o2, "measured-power.json");
    /* the same but for the source it names */
    assert_contains(x, "power.jsonl");
    assert_contains(y, "both.jsonl");
    assert_string_equal(strstr(x, "\"idle_w\""), strstr(y, "\"idle_w\""));
    free(x);
    free(y);
    static const char *const files[] = {
        "profile.json", "measured-colocation.jsonl", "measured-heldout.jsonl",
        "colocations-multi.jsonl"};
    tu_same_files(o1, o3, files, 4);
    char stale[340];
    snprintf(stale, sizeof stale, "%s/measured-power.json", o1);
    assert_int_equal(run("derive", raw, "--out", o1, NULL), 0);
    assert_contains(res.out, "measured-power.json: removed");
    assert_false(tu_exists(stale));
}

/* Two instances on one GPU, both always busy (every batch full): with
 * --power each batch takes its clock alone over the set's as long, and
 * the summary names the power file; a set under the hold gives the same
 * workloads.csv as without it. */
static void test_sim_power_slows_a_set_over_the_hold(void **state)
{
    (void)state;
    mdl_measured m;
    mdl_power p;
    const char *dir = derive_and_load(&m, &p);
    char plan[300], meas[300], pj[300], o0[300], o1[300];
    snprintf(meas, sizeof meas, "%s/out/measured-colocation.jsonl", dir);
    snprintf(pj, sizeof pj, "%s/out/measured-power.json", dir);
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    snprintf(o0, sizeof o0, "%s/s0", dir);
    snprintf(o1, sizeof o1, "%s/s1", dir);
    double share = 100.0 * 64 / 132;
    for (int heavy = 1; heavy >= 0; heavy--) {
        int batch = heavy ? 32 : 1;
        char text[1200];
        snprintf(text, sizeof text,
                 "{\"format\": 1, \"policy\": \"manual\", \"policy_version\":"
                 " 1, \"gpu_type\": \"H100\", \"price_per_hour\": 1, "
                 "\"num_gpus\": 1, \"cost_per_hour\": 1, \"gpus\": [{\"gpu\":"
                 " 0, \"type\": \"H100\", \"replica\": false, \"workloads\": "
                 "[{\"name\": \"a\", \"model\": \"alpha\", \"batch\": %d, "
                 "\"resource_pct\": %.17g, \"rate_rps\": 1000000, "
                 "\"slo_ms\": 1000}, {\"name\": \"b\", \"model\": \"beta\", "
                 "\"batch\": %d, \"resource_pct\": %.17g, \"rate_rps\": "
                 "1000000, \"slo_ms\": 1000}]}]}\n", batch, share, batch,
                 share);
        tu_put(plan, text);
#define SIM(o, ...)                                                          \
    run("sim", "--plan", plan, "--measured", meas, "--backend",              \
        "measured-mean", "--duration-s", "1", "--warmup-s", "0.1",           \
        "--queue-limit", "100000", "--seed", "3", "--quiet", "--out", o,     \
        __VA_ARGS__)
        assert_int_equal(SIM(o0, NULL), 0);
        assert_int_equal(SIM(o1, "--power", pj, NULL), 0);
#undef SIM
        char *a = tu_read_in(o0, "workloads.csv"),
             *b = tu_read_in(o1, "workloads.csv");
        if (!heavy)
            assert_string_equal(a, b);
        else
            assert_string_not_equal(a, b);
        free(a);
        free(b);
        if (!heavy)
            break;
        ut_err err;
        double svc[2][2];
        const char *dirs[2] = {o0, o1};
        for (int i = 0; i < 2; i++) {
            char path[340];
            snprintf(path, sizeof path, "%s/summary.json", dirs[i]);
            cJSON *s = ut_json_load(path, &err);
            assert_non_null(s);
            const cJSON *ws = cJSON_GetObjectItemCaseSensitive(s, "workloads");
            for (int k = 0; k < 2; k++) {
                const cJSON *w = cJSON_GetArrayItem(ws, k);
                assert_close(cJSON_GetObjectItemCaseSensitive(w, "mean_batch")
                                 ->valuedouble, 32, 0);
                svc[i][k] = cJSON_GetObjectItemCaseSensitive(
                                w, "mean_service_ms")->valuedouble;
            }
            const cJSON *in = cJSON_GetObjectItemCaseSensitive(s, "inputs");
            const cJSON *pwr = cJSON_GetObjectItemCaseSensitive(in, "power");
            if (i == 1) {
                assert_true(cJSON_IsString(pwr));
                assert_string_equal(pwr->valuestring, pj);
            } else {
                assert_null(pwr);
            }
            cJSON_Delete(s);
        }
        int ia = mdl_measured_find(&m, "alpha"),
            ib = mdl_measured_find(&m, "beta");
        double da = mdl_power_dyn_w(&p, ia, 32, share),
               db = mdl_power_dyn_w(&p, ib, 32, share),
               rs = mdl_power_clock(&p, da + db);
        assert_close(svc[1][0] / svc[0][0], mdl_power_clock(&p, da) / rs,
                     1e-5);
        assert_close(svc[1][1] / svc[0][1], mdl_power_clock(&p, db) / rs,
                     1e-5);
    }
    mdl_power_free(&p);
    mdl_measured_free(&m);
}

/* `igniter compare` of an experiment with "power": every run records it
 * and equals `igniter sim` of the experiment with its policy and seed;
 * FFD+'s plan, both workloads on one GPU, runs slower with it than
 * without (a hold 1 W over idle: any two batches together are held back),
 * the exclusive plan (one workload a GPU) the same. */
static void test_compare_with_power(void **state)
{
    (void)state;
    const char *dir = derived();
    char pj[300], exp[2][300], cmp[2][300], sim[300], text[1500];
    snprintf(pj, sizeof pj, "%s/tight-power.json", dir);
    tu_put(pj, "{\"version\": 1, \"idle_w\": 100, \"cap_w\": 700, "
               "\"max_clock_mhz\": 1980, \"hold_w\": 101, \"alpha\": 2, "
               "\"models\": {\"alpha\": {\"share_pct\": [10, 50], "
               "\"batch\": [1], \"dyn_w\": [[50, 200]]}, \"beta\": "
               "{\"share_pct\": [10, 50], \"batch\": [1], \"dyn_w\": "
               "[[50, 200]]}}}\n");
    for (int k = 0; k < 2; k++) {
        snprintf(exp[k], sizeof exp[k], "%s/exp%d.json", dir, k);
        snprintf(cmp[k], sizeof cmp[k], "%s/cmp%d", dir, k);
        snprintf(text, sizeof text,
                 "{\"profile\": \"%s/out/profile.json\", \"measured\": "
                 "\"%s/out/measured-colocation.jsonl\", %s%s%s"
                 "\"backend\": \"measured-mean\", \"duration_s\": 3, "
                 "\"seed\": 1, \"seeds\": 1, \"policy\": \"ffd\", "
                 "\"policies\": [\"ffd\", \"exclusive\"], \"workloads\": "
                 "[{\"name\": \"a\", \"model\": \"alpha\", \"slo_ms\": 40, "
                 "\"rate_rps\": 200}, {\"name\": \"b\", \"model\": "
                 "\"beta\", \"slo_ms\": 60, \"rate_rps\": 100}]}\n", dir,
                 dir, k ? "\"power\": \"" : "", k ? pj : "", k ? "\", " : "");
        tu_put(exp[k], text);
        if (run("compare", exp[k], "--out", cmp[k], "--jobs", "1", NULL))
            fail_msg("compare: %s", res.err);
    }
    snprintf(sim, sizeof sim, "%s/sim", dir);
    if (run("sim", exp[1], "--out", sim, "--quiet", NULL))
        fail_msg("sim: %s", res.err);
    char ffd[2][340], ex[2][340];
    for (int k = 0; k < 2; k++) {
        snprintf(ffd[k], sizeof ffd[k], "%s/runs/ffd-s1", cmp[k]);
        snprintf(ex[k], sizeof ex[k], "%s/runs/exclusive-s1", cmp[k]);
    }
    static const char *const w[] = {"workloads.csv"};
    tu_same_files(ffd[1], sim, w, 1);
    tu_same_files(ex[0], ex[1], w, 1);
    char *a = tu_read_in(ffd[0], "workloads.csv"),
         *b = tu_read_in(ffd[1], "workloads.csv");
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    cJSON *s = tu_json_in(ffd[1], "summary.json");
    const cJSON *in = cJSON_GetObjectItem(s, "inputs");
    assert_string_equal(cJSON_GetObjectItem(in, "power")->valuestring, pj);
    /* one GPU, both workloads */
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "totals"),
                                         "num_gpus")->valueint, 1);
    cJSON_Delete(s);
    s = tu_json_in(ffd[0], "summary.json");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "inputs"),
                                    "power"));
    cJSON_Delete(s);
}

/* A sweep whose base names its power model relative to the sweep file:
 * every cell's run reads that file (summary.json names it, absolute). */
static void test_sweep_with_power(void **state)
{
    (void)state;
    const char *dir = derived();
    char sw[300], out[300], text[1500], pj[300];
    snprintf(pj, sizeof pj, "%s/out/measured-power.json", dir);
    snprintf(sw, sizeof sw, "%s/sweep.json", dir);
    snprintf(out, sizeof out, "%s/sw", dir);
    snprintf(text, sizeof text,
             "{\"base\": {\"profile\": \"out/profile.json\", "
             "\"measured\": \"out/measured-colocation.jsonl\", \"power\": "
             "\"out/measured-power.json\", \"backend\": \"measured-mean\", "
             "\"duration_s\": 2, \"workloads\": [{\"name\": \"a\", "
             "\"model\": \"alpha\", \"slo_ms\": 40, \"rate_rps\": 200}, "
             "{\"name\": \"b\", \"model\": \"beta\", \"slo_ms\": 60, "
             "\"rate_rps\": 100}]}, \"axes\": {\"policy\": [\"ffd\"], "
             "\"seed\": [1]}}\n");
    tu_put(sw, text);
    if (run("sweep", sw, "--out", out, "--jobs", "1", "--quiet", NULL))
        fail_msg("sweep: %s", res.err);
    char list[340];
    snprintf(list, sizeof list, "%s/list", dir);
    assert_int_equal(tu_sh("find %s -name summary.json > %s", out, list), 0);
    char *found = tu_read_in(dir, "list");
    char *nl = strchr(found, '\n');
    assert_non_null(nl);
    *nl = '\0';
    cJSON *s = ut_json_load(found, NULL);
    assert_non_null(s);
    const cJSON *pw = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "inputs"),
                                          "power");
    assert_true(cJSON_IsString(pw));
    char want[4096], got[4096];
    assert_non_null(realpath(pj, want));
    assert_non_null(realpath(pw->valuestring, got));
    assert_string_equal(got, want);
    cJSON_Delete(s);
    free(found);
}

/* `igniter sim` of plan with the power file bad holding text (after the
 * fields every good file has: "version" 1, "idle_w" 100, "cap_w" 700,
 * "max_clock_mhz" 1980); expects one message holding bad's path and
 * frag, and nothing in o. */
static void sim_refuses(const char *plan, const char *meas, const char *bad,
                        const char *o, const char *text, const char *frag)
{
    char json[600];
    snprintf(json, sizeof json, "{\"version\": 1, \"idle_w\": 100, "
             "\"cap_w\": 700, \"max_clock_mhz\": 1980, %s}\n", text);
    tu_put(bad, json);
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--power", bad, "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(bad, frag, NULL);
    assert_false(tu_exists(o));
}

/* Bad power records and files: one message naming the file, line or
 * field, exit 2, nothing written. */
static void test_power_bad_input(void **state)
{
    (void)state;
    char raw[256], pw[256], out[300];
    const char *dir = capture(raw, pw, 1);
    snprintf(out, sizeof out, "%s/out", dir);
    run("derive", raw, "--power", pw, "--out", out, NULL);
    tu_assert_bad_input(":3: power.members: expected one for set \"solo\", "
                        "got 2", pw, NULL);
    assert_false(tu_exists(out));
    dir = capture(raw, pw, 2);
    snprintf(out, sizeof out, "%s/out", dir);
    run("derive", raw, "--power", pw, "--out", out, NULL);
    tu_assert_bad_input("power: beta: expected a solo point at every batch and "
                        "share of its grid, got none at batch 32, share 48.4",
                        NULL, NULL);
    assert_false(tu_exists(out));
    dir = capture(raw, pw, 3);
    snprintf(out, sizeof out, "%s/out", dir);
    run("derive", raw, "--power", pw, "--out", out, NULL);
    tu_assert_bad_input("expected the board idle", NULL, NULL);
    assert_false(tu_exists(out));
    /* a file of its own without power records, and one without its meta */
    run("derive", raw, "--power", raw, "--out", out, NULL);
    tu_assert_bad_input(raw, "--power: expected \"power\" records, got none",
                        NULL);
    char *p = power_records(0, 0);
    tu_put(pw, p);
    free(p);
    run("derive", raw, "--power", pw, "--out", out, NULL);
    tu_assert_bad_input(":1: power: expected a meta record before it", pw,
                        NULL);
    assert_false(tu_exists(out));

    /* the simulator's side */
    dir = derived();
    char plan[300], meas[300], pj[300], prof[300], o[300], bad[300];
    snprintf(meas, sizeof meas, "%s/out/measured-colocation.jsonl", dir);
    snprintf(pj, sizeof pj, "%s/out/measured-power.json", dir);
    snprintf(prof, sizeof prof, "%s/out/profile.json", dir);
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    snprintf(o, sizeof o, "%s/sim", dir);
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    tu_put_plan1(plan, "beta", 8, 100);
    run("sim", "--plan", plan, "--measured", meas, "--profile", prof,
        "--backend", "model", "--power", pj, "--duration-s", "1", "--out", o,
        NULL);
    tu_assert_bad_input(pj, "power: expected a measured back end with "
                        "interference (measured, measured-mean), got model",
                        NULL);
    run("sim", "--plan", plan, "--measured", meas, "--backend",
        "measured-solo", "--power", pj, "--duration-s", "1", "--out", o,
        NULL);
    tu_assert_bad_input(pj, "got measured-solo", NULL);
    assert_false(tu_exists(o));
    sim_refuses(plan, meas, bad, o, "\"hold_w\": 500, \"alpha\": -1, "
                "\"models\": {}", ".alpha: expected a positive number, got -1");
    sim_refuses(plan, meas, bad, o, "\"hold_w\": 50, \"alpha\": 2, "
                "\"models\": {}", ".hold_w: expected more than idle_w (100 "
                "W), below 1e6, got 50");
    sim_refuses(plan, meas, bad, o, "\"hold_w\": 500, \"alpha\": 2, "
                "\"models\": {\"alpha\": {\"share_pct\": [10, 50], "
                "\"batch\": [1], \"dyn_w\": [[1, \"x\"]]}}",
                ".models.alpha.dyn_w[0][1]: expected watts in [0, 1e6), got "
                "\"x\"");
    /* alpha alone has power data; the plan runs beta */
    sim_refuses(plan, meas, bad, o, "\"hold_w\": 500, \"alpha\": 2, "
                "\"models\": {\"alpha\": {\"share_pct\": [10, 50], "
                "\"batch\": [1], \"dyn_w\": [[1, 2]]}}",
                "expected power data for every model of the plan, got none "
                "for \"beta\"");
    run("serve", "--plan", plan, "--power", pj, "--out", o, NULL);
    assert_int_equal(res.status, 2);
    assert_contains(res.err, "--power: an option of igniter sim");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_gives_the_truth_back),
        cmocka_unit_test(test_derive_in_raw_and_green_unchanged),
        cmocka_unit_test(test_sim_power_slows_a_set_over_the_hold),
        cmocka_unit_test(test_power_bad_input),
        cmocka_unit_test(test_compare_with_power),
        cmocka_unit_test(test_sweep_with_power),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
