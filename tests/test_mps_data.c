/*
 * test_mps_data.c - the MPS correction of measured data end to end:
 * `igniter derive` of a synthetic capture (tests/testutil.h's green
 * capture, with MPS solo and pair records appended, or in a file of their
 * own) gives measured-mps.jsonl whose ratios are exactly MPS / green at
 * the measured points; attached to the green data, the composition gives
 * the MPS latencies there; `igniter sim --mechanism mps` scales a solo
 * batch by the ratio and leaves green runs as they were; runs of three
 * and four give the runs term back (scripts/mps-coloc-raw.py writes
 * them from mps-coloc-gpu.sh's windows); bad input is one
 * message naming the file, line and field, exit 2, nothing written.
 *
 * The binary is $IGNITER_BIN (tests/run.sh sets it), default build/igniter.
 */
#define TU_SYNTH_RAW
#define TU_RUN
#include "testutil.h"
#include "model/model.h"

#include <fcntl.h>
#include <sys/wait.h>

/* a shell line's exit status */
static int sh_status(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : -1; }

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- the synthetic MPS campaign ------------------------------------------ */

/* MPS latencies, ms (5 decimals: what the record writer keeps): alpha and
 * beta alone at batches 1, 8, 32 and percentages 25, 50, 100, slower than
 * green by a factor that grows with the batch; the pairs at batch 8,
 * 50/50 and 25/75, 1.2 and 1.3 times the MPS solo latency. */
static const char *const names[2] = {"alpha", "beta"};
static const int mps_batch[3] = {1, 8, 32};
static const double mps_pct[3] = {25, 50, 100};

static double mps_solo_ms(int m, int b, int p)
{
    double ms = (m ? 2.0 : 0.5) * (1 + 0.25 * b) * 100 / mps_pct[p];
    return round(ms * 1e5) / 1e5;
}

/* pair k: (alpha pct, beta pct) = (50, 50) or (25, 75); member s */
static double mps_pair_ms(int k, int s)
{
    static const double base[2][2] = {{3.0, 12.0}, {6.0, 8.0}};
    return base[k][s] * (s ? 1.3 : 1.2);
}

static const double pair_pct[2][2] = {{50, 50}, {25, 75}};

/* The MPS records, as igniter-capture mps writes them. bad: 0 none;
 * 1 a negative mean_ms (solo); 2 no mean_ms (solo); 3 an unknown model
 * (solo); 4 an unknown model (a pair's second member). */
static char *mps_records(int bad)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", "");
    for (int m = 0; m < 2; m++)
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < 3; i++) {
                cap_rec r;
                cap_rec_init(&r, CAP_REC_SOLO_MPS);
                int first = m == 0 && p == 0 && i == 0;
                cap_rec_set_str(&r, "model", first && bad == 3 ? "gamma"
                                                               : names[m]);
                cap_rec_set(&r, "batch", mps_batch[i]);
                cap_rec_set(&r, "active_thread_pct", mps_pct[p]);
                cap_rec_set(&r, "share_pct", mps_pct[p]);
                cap_rec_set(&r, "iters", 100);
                if (!(first && bad == 2))
                    cap_rec_set(&r, "mean_ms", first && bad == 1
                                                   ? -1
                                                   : mps_solo_ms(m, mps_batch[i],
                                                                 p));
                cap_rec_set(&r, "std_ms", 0.01);
                cap_rec_write(&r, &b);
            }
    for (int k = 0; k < 2; k++) {
        cap_rec r;
        cap_rec_init(&r, CAP_REC_COLOC_MPS);
        cap_rec_set_str(&r, "set", "mps");
        cap_rec_set(&r, "n", 2);
        for (int s = 0; s < 2; s++) {
            cap_rec_member_set_str(&r, s, "model", s && bad == 4 && k == 1
                                                       ? "gamma"
                                                       : names[s]);
            cap_rec_member_set(&r, s, "batch", 8);
            cap_rec_member_set(&r, s, "active_thread_pct", pair_pct[k][s]);
            cap_rec_member_set(&r, s, "share_pct", pair_pct[k][s]);
            cap_rec_member_set(&r, s, "mean_ms", mps_pair_ms(k, s));
            cap_rec_member_set(&r, s, "std_ms", 0.01);
        }
        cap_rec_write(&r, &b);
    }
    return b.s;
}

/* The green capture with the MPS records appended, into dir/raw.jsonl;
 * *mps_line: the line of the first MPS record. */
static void write_raw(const char *dir, int with_mps, int bad, int *mps_line)
{
    char *green = tu_synth_raw(NULL, TU_SYNTH_END);
    char *mps = mps_records(bad);
    ut_buf b = {0};
    ut_buf_printf(&b, "%s%s", green, with_mps ? mps : "");
    if (mps_line)
        *mps_line = count_lines(green) + 1;
    char path[256];
    snprintf(path, sizeof path, "%s/raw.jsonl", dir);
    tu_put(path, b.s);
    ut_buf_free(&b);
    free(green);
    free(mps);
}

/* Derives dir/raw.jsonl into dir/out; the loaded green data and MPS
 * correction. */
static void derive_and_load(const char *dir, mdl_measured *m, mdl_mps *x)
{
    char raw[256], out[256], path[300];
    snprintf(raw, sizeof raw, "%s/raw.jsonl", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    if (run("derive", raw, "--out", out, NULL) != 0)
        fail_msg("derive: %s", res.err);
    assert_contains(res.out, "measured-mps.jsonl: MPS correction of 2 models "
                    "from 18 solo points and 2 pairs");
    ut_err err;
    snprintf(path, sizeof path, "%s/measured-colocation.jsonl", out);
    if (mdl_measured_load(path, m, &err) < 0)
        fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/measured-mps.jsonl", out);
    if (mdl_mps_load(path, m, x, &err) < 0)
        fail_msg("%s", err.msg);
}

/* A fresh folder with the green capture alone (dir/raw.jsonl), and the
 * paths of its raw file, an output folder and a file of MPS records to
 * come (dir/out, dir/mps.jsonl), each of 256 bytes. */
static void green_and_paths(char *raw, char *out, char *mps)
{
    const char *dir = tu_tmpdir();
    write_raw(dir, 0, 0, NULL);
    snprintf(raw, 256, "%s/raw.jsonl", dir);
    snprintf(out, 256, "%s/out", dir);
    snprintf(mps, 256, "%s/mps.jsonl", dir);
}

/* ---- tests ------------------------------------------------------------------ */

/* At every measured MPS solo point the stored ratio is exactly the MPS
 * latency over the green data's interpolated one at the same batch and
 * share, and the lookup returns it; the green composition with the
 * correction attached gives the MPS latency there. */
static void test_derive_solo_ratios_exact(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    write_raw(dir, 1, 0, NULL);
    mdl_measured m;
    mdl_mps x;
    derive_and_load(dir, &m, &x);
    assert_int_equal(x.nsolo_points, 18);
    assert_int_equal(x.npair_points, 2);
    for (int mi = 0; mi < 2; mi++) {
        int k = mdl_measured_find(&m, names[mi]);
        assert_true(k >= 0);
        assert_true(x.models[k].has);
        assert_int_equal(x.models[k].npct, 3);
        for (int p = 0; p < 3; p++)
            for (int i = 0; i < 3; i++) {
                int b = mps_batch[i];
                double want = mps_solo_ms(mi, b, p) /
                              mdl_measured_solo_ms(&m, k, b, mps_pct[p]);
                assert_true(x.models[k].pct[p] == mps_pct[p]);
                assert_true(x.models[k].solo[b][p] == want);
                assert_true(mdl_mps_solo_ratio(&x, k, b, mps_pct[p]) ==
                            want);
                /* the MPS latency back, through the composition and the
                 * correction, as the measured back ends apply them */
                mdl_place w = {k, b, mps_pct[p]};
                double lat;
                mdl_measured_colocated(&m, &w, 1, &lat);
                mdl_mps_apply(&x, &w, 1, &lat);
                assert_close(lat, mps_solo_ms(mi, b, p), 1e-12);
            }
        /* between measured points: linear in 1/share and in batch,
         * clamped outside the grid */
        double r25 = x.models[k].solo[8][0], r50 = x.models[k].solo[8][1];
        double mid = r25 + (r50 - r25) * (1 / 35.0 - 1 / 25.0) /
                               (1 / 50.0 - 1 / 25.0);
        assert_close(mdl_mps_solo_ratio(&x, k, 8, 35), mid, 1e-12);
        assert_true(mdl_mps_solo_ratio(&x, k, 8, 5) == r25);
        assert_true(mdl_mps_solo_ratio(&x, k, 64, 50) ==
                    x.models[k].solo[32][1]);
        double r1 = x.models[k].solo[1][1], r8 = x.models[k].solo[8][1];
        assert_close(mdl_mps_solo_ratio(&x, k, 4, 50),
                     r1 + (r8 - r1) * 3 / 7, 1e-12);
    }
    mdl_mps_free(&x);
    mdl_measured_free(&m);
}

/* A pair's ratio is the MPS slow-down over the green one at the same
 * point, exactly as defined; with the correction attached the two
 * members get their measured MPS latencies; a partner never measured
 * under MPS gets the mean over measured partners. */
static void test_derive_pair_ratios_exact(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    write_raw(dir, 1, 0, NULL);
    mdl_measured m;
    mdl_mps x;
    derive_and_load(dir, &m, &x);
    int ka = mdl_measured_find(&m, "alpha"), kb = mdl_measured_find(&m,
                                                                     "beta");
    for (int k = 0; k < 2; k++) {
        mdl_place w[2] = {{ka, 8, pair_pct[k][0]}, {kb, 8, pair_pct[k][1]}};
        double gc[2];
        mdl_measured_colocated(&m, w, 2, gc);
        for (int s = 0; s < 2; s++) {
            int me = s ? kb : ka, other = s ? ka : kb;
            double gs = mdl_measured_solo_ms(&m, me, 8, pair_pct[k][s]);
            double mps_solo = mdl_mps_solo_ratio(&x, me, 8, pair_pct[k][s]) *
                              gs;
            double want = (mps_pair_ms(k, s) / mps_solo) / (gc[s] / gs);
            assert_close(mdl_mps_pair_ratio(&x, me, other, pair_pct[k][s]),
                         want, 1e-14);
        }
        double lat[2];
        mdl_measured_colocated(&m, w, 2, lat);
        mdl_mps_apply(&x, w, 2, lat);
        assert_close(lat[0], mps_pair_ms(k, 0), 1e-12);
        assert_close(lat[1], mps_pair_ms(k, 1), 1e-12);
    }
    /* alpha beside itself: never measured, the mean over its partners
     * (beta alone here) */
    assert_true(mdl_mps_pair_ratio(&x, ka, ka, 50) ==
                mdl_mps_pair_ratio(&x, ka, kb, 50));
    mdl_mps_free(&x);
    mdl_measured_free(&m);
}

/* The same records in a file of their own (--mps) give the same
 * correction; the green files are those of a capture without MPS
 * records; a capture without MPS records removes an old correction. */
static void test_derive_separate_file_and_green_unchanged(void **state)
{
    (void)state;
    const char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *d3 = tu_tmpdir();
    write_raw(d1, 1, 0, NULL);
    write_raw(d2, 0, 0, NULL);
    write_raw(d3, 0, 0, NULL);
    char raw[256], out[256], mps[256];
    snprintf(raw, sizeof raw, "%s/raw.jsonl", d1);
    snprintf(out, sizeof out, "%s/out", d1);
    assert_int_equal(run("derive", raw, "--out", out, NULL), 0);
    char *text = mps_records(0);
    snprintf(mps, sizeof mps, "%s/mps.jsonl", d2);
    tu_put(mps, text);
    free(text);
    snprintf(raw, sizeof raw, "%s/raw.jsonl", d2);
    snprintf(out, sizeof out, "%s/out", d2);
    assert_int_equal(run("derive", raw, "--mps", mps, "--out", out, NULL), 0);
    snprintf(raw, sizeof raw, "%s/raw.jsonl", d3);
    snprintf(out, sizeof out, "%s/out", d3);
    assert_int_equal(run("derive", raw, "--out", out, NULL), 0);
    assert_true(strstr(res.out, "MPS") == NULL);
    char o1[256], o2[256], o3[256];
    snprintf(o1, sizeof o1, "%s/out", d1);
    snprintf(o2, sizeof o2, "%s/out", d2);
    snprintf(o3, sizeof o3, "%s/out", d3);
    char *a = tu_read_in(o1, "measured-mps.jsonl");
    char *b = tu_read_in(o2, "measured-mps.jsonl");
    assert_string_equal(a, b);
    free(a);
    free(b);
    static const char *const green[] = {
        "profile.json", "measured-colocation.jsonl", "measured-heldout.jsonl",
        "colocations-multi.jsonl"};
    for (int f = 0; f < 4; f++) {
        a = tu_read_in(o2, green[f]);
        b = tu_read_in(o3, green[f]);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    char stale[300];
    snprintf(stale, sizeof stale, "%s/measured-mps.jsonl", o3);
    assert_false(tu_exists(stale));
    /* an old correction beside data derived anew without MPS goes */
    tu_put(stale, "{\"version\": 1}\n");
    assert_int_equal(run("derive", raw, "--out", out, NULL), 0);
    assert_contains(res.out, "measured-mps.jsonl: removed");
    assert_false(tu_exists(stale));
    /* --mps with no MPS records in it */
    run("derive", raw, "--mps", raw, "--out", out, NULL);
    assert_int_equal(res.status, 2);
    assert_contains(res.err, "--mps: expected MPS records");
}

/* A plan of one instance alone, saturated so that every batch is full:
 * measured-mean's mean service time is the solo latency; with
 * --mechanism mps it is the MPS latency at that measured point, the green
 * one times the ratio; --mechanism green is the run without it, byte for
 * byte. */
static void test_sim_mps_scales_a_solo_batch(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    write_raw(dir, 1, 0, NULL);
    mdl_measured m;
    mdl_mps x;
    derive_and_load(dir, &m, &x);
    char plan[256], meas[256], g0[256], g1[256], mp[256];
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    tu_put_plan1(plan, "alpha", 8, 100000);
    snprintf(meas, sizeof meas, "%s/out/measured-colocation.jsonl", dir);
    snprintf(g0, sizeof g0, "%s/g0", dir);
    snprintf(g1, sizeof g1, "%s/g1", dir);
    snprintf(mp, sizeof mp, "%s/mps", dir);
#define SIM(o, ...)                                                          \
    run("sim", "--plan", plan, "--measured", meas, "--backend",              \
        "measured-mean", "--duration-s", "2", "--seed", "3", "--quiet",      \
        "--out", o, __VA_ARGS__)
    assert_int_equal(SIM(g0, NULL), 0);
    assert_int_equal(SIM(g1, "--mechanism", "green", NULL), 0);
    assert_int_equal(SIM(mp, "--mechanism", "mps", NULL), 0);
#undef SIM
    char *a = tu_read_in(g0, "workloads.csv"), *b = tu_read_in(g1,
                                                               "workloads.csv");
    assert_string_equal(a, b);
    free(a);
    free(b);
    a = tu_read_in(g0, "summary.json");
    assert_true(strstr(a, "\"mechanism\"") == NULL);
    free(a);
    int k = mdl_measured_find(&m, "alpha");
    double green = mdl_measured_solo_ms(&m, k, 8, 50);
    double ratio = mdl_mps_solo_ratio(&x, k, 8, 50);
    ut_err err;
    double svc[2];
    const char *dirs[2] = {g0, mp};
    for (int i = 0; i < 2; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/summary.json", dirs[i]);
        cJSON *s = ut_json_load(path, &err);
        assert_non_null(s);
        const cJSON *w = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(s, "workloads"), 0);
        assert_close(cJSON_GetObjectItemCaseSensitive(w, "mean_batch")
                         ->valuedouble, 8, 0);
        svc[i] = cJSON_GetObjectItemCaseSensitive(w, "mean_service_ms")
                     ->valuedouble;
        if (i == 1) {
            const cJSON *mech = cJSON_GetObjectItemCaseSensitive(s,
                                                                 "mechanism");
            assert_true(cJSON_IsString(mech));
            assert_string_equal(mech->valuestring, "mps");
        }
        cJSON_Delete(s);
    }
    /* summary.json keeps 6 decimals of a millisecond */
    assert_close(svc[0], green, 1e-6 / green);
    assert_close(svc[1], green * ratio, 1e-6 / (green * ratio));
    assert_close(svc[1], mps_solo_ms(0, 8, 1), 2e-6 / svc[1]);
    assert_true(ratio > 1.1);      /* the synthetic MPS is slower */
    mdl_mps_free(&x);
    mdl_measured_free(&m);
}

/* A bad MPS record: one line naming the raw file, the line and the field,
 * exit 2, and the output folder not made (or left as it was). */
static void test_derive_bad_mps_records(void **state)
{
    (void)state;
    static const struct {
        int bad, line_off;
        const char *field, *what;
    } cases[] = {
        {1, 0, ": solo.mean_ms: ", "expected a positive number"},
        {2, 0, ": solo.mean_ms: ", "missing field"},
        {3, 0, ": solo.model: ", "got \"gamma\""},
        {4, 19, ": coloc.members[1].model: ", "got \"gamma\""},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *dir = tu_tmpdir();
        int line;
        write_raw(dir, 1, cases[c].bad, &line);
        char raw[256], out[256], where[300];
        snprintf(raw, sizeof raw, "%s/raw.jsonl", dir);
        snprintf(out, sizeof out, "%s/out", dir);
        snprintf(where, sizeof where, "%s:%d%s", raw, line + cases[c].line_off,
                 cases[c].field);
        run("derive", raw, "--out", out, NULL);
        tu_assert_bad_input("igniter derive: ", where, cases[c].what);
        assert_false(tu_exists(out));
        /* an output folder that was there keeps what it had, and no
         * staging folder is left in it */
        mkdir(out, 0755);
        char keep[300];
        snprintf(keep, sizeof keep, "%s/measured-colocation.jsonl", out);
        tu_put(keep, "old\n");
        run("derive", raw, "--out", out, NULL);
        tu_assert_bad_input(where, cases[c].what, NULL);
        char *t = tu_read_in(out, "measured-colocation.jsonl");
        assert_string_equal(t, "old\n");
        free(t);
        snprintf(keep, sizeof keep, "%s/measured-mps.jsonl", out);
        assert_false(tu_exists(keep));
        assert_int_equal(rmdir(out), -1);   /* not empty: only "old" */
        snprintf(keep, sizeof keep, "%s/measured-colocation.jsonl", out);
        unlink(keep);
        assert_int_equal(rmdir(out), 0);    /* nothing else was left */
    }
    /* a file of MPS records alone: a line that is not JSON is named */
    char raw[256], out[256], mps[256];
    green_and_paths(raw, out, mps);
    char *text = mps_records(0);
    ut_buf b = {0};
    ut_buf_printf(&b, "%s{\"kind\": \"solo\", \"mech\n", text);
    tu_put(mps, b.s);
    ut_buf_free(&b);
    free(text);
    char where[300];
    snprintf(where, sizeof where, "%s:21: expected valid JSON", mps);
    run("derive", raw, "--mps", mps, "--out", out, NULL);
    tu_assert_bad_input(where, NULL, NULL);
    assert_false(tu_exists(out));
}

/* A model may have MDL_MPS_PCTS distinct percentages (an H200's 16
 * green-context sizes and more); one more is refused, naming its line. */
static void test_derive_most_percentages(void **state)
{
    (void)state;
    /* traces/h200/dense: 15 sizes of 8 to 120 SMs and the whole GPU */
    assert_true(MDL_MPS_PCTS >= 16);
    for (int extra = 0; extra < 2; extra++) {
        char raw[256], out[256], mps[256];
        green_and_paths(raw, out, mps);
        char *text = mps_records(0);   /* alpha at 25, 50 and 100 % */
        ut_buf b = {0};
        ut_buf_printf(&b, "%s", text);
        int n = MDL_MPS_PCTS - 3 + extra;
        for (int i = 1; i <= n; i++) {   /* 3, 6, ...: none of those */
            cap_rec r;
            cap_rec_init(&r, CAP_REC_SOLO_MPS);
            cap_rec_set_str(&r, "model", "alpha");
            cap_rec_set(&r, "batch", 8);
            cap_rec_set(&r, "active_thread_pct", 3 * i);
            cap_rec_set(&r, "share_pct", 3 * i);
            cap_rec_set(&r, "iters", 100);
            cap_rec_set(&r, "mean_ms", round(1.5 * 100 / (3 * i) * 1e5) / 1e5);
            cap_rec_set(&r, "std_ms", 0.01);
            cap_rec_write(&r, &b);
        }
        tu_put(mps, b.s);
        ut_buf_free(&b);
        free(text);
        run("derive", raw, "--mps", mps, "--out", out, NULL);
        if (!extra) {
            if (res.status != 0)
                fail_msg("derive: %s", res.err);
            char want[128];
            snprintf(want, sizeof want, "from %d solo points", 18 + n);
            assert_contains(res.out, want);
            continue;
        }
        char where[300], what[128];
        /* 18 solo and 2 pair records, then the extra ones */
        snprintf(where, sizeof where, "%s:%d: solo.active_thread_pct: ", mps,
                 20 + n);
        snprintf(what, sizeof what, "expected at most %d distinct "
                 "percentages for alpha, got %d as one more", MDL_MPS_PCTS,
                 3 * n);
        tu_assert_bad_input(where, what, NULL);
        assert_false(tu_exists(out));
    }
}

/* --mechanism mps needs the correction beside the data (the message names
 * its folder), a measured back end, and a correction of the data's own
 * models. */
static void test_sim_mps_errors(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    write_raw(dir, 0, 0, NULL);
    char raw[256], out[256], meas[300], plan[256], o[256], mps[300];
    snprintf(raw, sizeof raw, "%s/raw.jsonl", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    assert_int_equal(run("derive", raw, "--out", out, NULL), 0);
    snprintf(meas, sizeof meas, "%s/measured-colocation.jsonl", out);
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    tu_put_plan1(plan, "alpha", 8, 100);
    snprintf(o, sizeof o, "%s/sim", dir);
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(out, "--mechanism mps: expected MPS data "
                        "(measured-mps.jsonl), got none", "igniter derive");
    assert_false(tu_exists(o));
    char prof[300];
    snprintf(prof, sizeof prof, "%s/profile.json", out);
    run("sim", "--plan", plan, "--measured", meas, "--profile", prof,
        "--backend", "fixed", "--service-ms",
        "1", "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input("--mechanism mps: expected a measured back end", NULL,
                        NULL);
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "quantum", "--duration-s", "1", "--out", o, NULL);
    assert_int_equal(res.status, 2);
    assert_contains(res.err, "--mechanism: expected green or mps");
    /* a correction naming a model the data does not have */
    snprintf(mps, sizeof mps, "%s/measured-mps.jsonl", out);
    tu_put(mps, "{\"version\": 1, \"mechanism\": \"mps\"}\n"
             "{\"gamma\": {\"solo_ratio\": {\"8\": {\"50\": 1.1}}}}\n");
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(mps,
                        "gamma: expected one of the measured data's models",
                        NULL);
    /* and one that leaves the plan's model out */
    tu_put(mps, "{\"version\": 1, \"mechanism\": \"mps\"}\n"
             "{\"beta\": {\"solo_ratio\": {\"8\": {\"50\": 1.1}}}}\n");
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(mps, "got none for \"alpha\"", NULL);
    /* a ratio that is not a positive number */
    tu_put(mps, "{\"version\": 1, \"mechanism\": \"mps\"}\n"
             "{\"alpha\": {\"solo_ratio\": {\"8\": {\"50\": -2}}}}\n");
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(mps, "alpha.solo_ratio.8.50: expected a ratio in "
                        "[0.001, 1000]", "-2");
    assert_false(tu_exists(o));
    /* one too large to interpolate (fuzz_mps found 1.1e308 overflowing
     * between percentages to an infinite latency) */
    tu_put(mps, "{\"version\": 1, \"mechanism\": \"mps\"}\n"
             "{\"alpha\": {\"solo_ratio\": {\"8\": {\"50\": 1.1}}, "
             "\"pair_ratio_mean\": {\"25\": 1.04, \"75\": 1.1e308}}}\n");
    run("sim", "--plan", plan, "--measured", meas, "--backend", "measured",
        "--mechanism", "mps", "--duration-s", "1", "--out", o, NULL);
    tu_assert_bad_input(mps, "alpha.pair_ratio_mean.75: expected a ratio in "
                        "[0.001, 1000]", "1.1e+308");
    assert_false(tu_exists(o));
}

/* Runs of three and four (members with their own window alone, alone_ms):
 * the runs term's k is fitted from them; made 1 + 0.05 f slower than the
 * correction predicts, they give k = 0.05 back, and the correction then
 * predicts them; pairs are as before; the file says how many members and
 * k, one without runs says neither (k 0 on loading); a member without
 * alone_ms is one message naming the line and field, nothing written. */
static void test_derive_runs_term(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    write_raw(dir, 1, 0, NULL);
    mdl_measured m;
    mdl_mps x0;
    derive_and_load(dir, &m, &x0);
    assert_true(x0.runs_k == 0 && x0.nrun_points == 0);
    char *t0 = tu_read_in(dir, "out/measured-mps.jsonl");
    assert_null(strstr(t0, "runs_k"));
    free(t0);
    int ka = mdl_measured_find(&m, "alpha"), kb = mdl_measured_find(&m,
                                                                     "beta");
    const double k_true = 0.05;
    mdl_place runs[2][4] = {
        {{ka, 1, 25}, {kb, 8, 25}, {ka, 32, 50}},
        {{ka, 2, 25}, {kb, 4, 25}, {ka, 8, 25}, {kb, 16, 25}}};
    const size_t rn[2] = {3, 4};
    double want[2][4];
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", "");
    for (int r = 0; r < 2; r++) {
        double lat[4];
        mdl_measured_colocated(&m, runs[r], rn[r], lat);
        mdl_mps_apply(&x0, runs[r], rn[r], lat);
        cap_rec rec;
        cap_rec_init(&rec, CAP_REC_COLOC_MPS);
        cap_rec_set_str(&rec, "set", "mps");
        cap_rec_set(&rec, "n", (double)rn[r]);
        for (size_t i = 0; i < rn[r]; i++) {
            const mdl_place *w = &runs[r][i];
            double solo = mdl_measured_solo_ms(&m, w->model, w->batch,
                                               w->share_pct) *
                          mdl_mps_solo_ratio(&x0, w->model, w->batch,
                                             w->share_pct);
            double f = mdl_mps_runs_feature(rn[r], w->batch);
            want[r][i] = lat[i] * (1 + k_true * f);
            /* alone 1.5 times the prediction alone: the slow-down is
             * what counts, not the kernels a process chose */
            double alone = round(1.5 * solo * 1e5) / 1e5;
            cap_rec_member_set_str(&rec, (int)i, "model", names[w->model ==
                                                                 kb]);
            cap_rec_member_set(&rec, (int)i, "batch", w->batch);
            cap_rec_member_set(&rec, (int)i, "active_thread_pct",
                               w->share_pct);
            cap_rec_member_set(&rec, (int)i, "mean_ms",
                               want[r][i] * alone / solo);
            cap_rec_member_set(&rec, (int)i, "std_ms", 0.01);
            cap_rec_member_set(&rec, (int)i, "alone_ms", alone);
        }
        cap_rec_write(&rec, &b);
    }
    char path[300];
    snprintf(path, sizeof path, "%s/raw.jsonl", dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs(b.s, f);
    fclose(f);
    mdl_mps x1;
    mdl_measured_free(&m);      /* the same green data again */
    derive_and_load(dir, &m, &x1);
    assert_int_equal(x1.nrun_points, 7);
    assert_close(x1.runs_k, k_true, 2e-4);      /* 5 decimals of the file */
    char *t1 = tu_read_in(dir, "out/measured-mps.jsonl");
    assert_non_null(strstr(t1, "\"run_points\": 7, \"runs_k\": 0.0"));
    free(t1);
    for (int r = 0; r < 2; r++) {
        double lat[4];
        mdl_measured_colocated(&m, runs[r], rn[r], lat);
        mdl_mps_apply(&x1, runs[r], rn[r], lat);
        for (size_t i = 0; i < rn[r]; i++)
            assert_close(lat[i] / want[r][i], 1, 2e-4);
    }
    mdl_place two[2] = {{ka, 2, 50}, {kb, 2, 50}};
    double p0[2], p1[2];
    mdl_measured_colocated(&m, two, 2, p0);
    mdl_measured_colocated(&m, two, 2, p1);
    mdl_mps_apply(&x0, two, 2, p0);
    mdl_mps_apply(&x1, two, 2, p1);
    assert_true(p0[0] == p1[0] && p0[1] == p1[1]);
    mdl_mps_free(&x0);
    mdl_mps_free(&x1);
    mdl_measured_free(&m);
    /* a member without its window alone */
    char *bad = strdup(b.s);
    char *al = strstr(bad, ",\"alone_ms\":");
    assert_non_null(al);
    char *end = strchr(al + 1, '}');
    memmove(al, end, strlen(end) + 1);
    const char *d2 = tu_tmpdir();
    int line;
    write_raw(d2, 1, 0, &line);
    char raw[256], out[256], where[300];
    snprintf(raw, sizeof raw, "%s/raw.jsonl", d2);
    snprintf(out, sizeof out, "%s/out", d2);
    f = fopen(raw, "a");
    assert_non_null(f);
    fputs(bad, f);
    fclose(f);
    snprintf(where, sizeof where, "%s:%d: coloc.members[0].alone_ms: ", raw,
             line + 20);
    run("derive", raw, "--out", out, NULL);
    tu_assert_bad_input(where, "expected the member's window alone", NULL);
    assert_false(tu_exists(out));
    free(bad);
    ut_buf_free(&b);
}

/* scripts/mps-coloc-raw.py: a plan's windows alone and together become one
 * raw run whose members carry their windows alone, in the together
 * windows' order, and the record reads back through the raw schema; a
 * member never timed alone is refused naming the plan, nothing written. */
static void test_mps_coloc_raw(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char in[300], out[300];
    snprintf(in, sizeof in, "%s/coloc.jsonl", dir);
    snprintf(out, sizeof out, "%s/raw.jsonl", dir);
    static const char *const ms[3] = {"alpha", "beta", "gamma"};
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", "");
    for (int run = 0; run < 2; run++)
        for (int i = 0; i < 3; i++)
            ut_buf_printf(&b, "{\"plan\":\"p-l75\",\"run\":\"%s\","
                          "\"pct\":%d,\"model\":\"%s\",\"batch\":%d,"
                          "\"iters\":10,\"mean_ms\":%g,\"std_ms\":0.01,"
                          "\"t0\":%g}\n", run ? "together" : "alone",
                          20 + 10 * i, ms[2 - i], 1 << i,
                          (run ? 1.5 : 1.0) * (i + 1), 100.0 + 0.01 * i);
    tu_put(in, b.s);
    ut_buf_free(&b);
    assert_int_equal(tu_sh("python3 scripts/mps-coloc-raw.py %s > %s", in,
                           out), 0);
    char *t = tu_read_in(dir, "raw.jsonl");
    cJSON *o = cJSON_Parse(t);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItem(o, "n")->valueint, 3);
    cap_rec r;
    ut_err err;
    if (cap_rec_read(o, CAP_REC_COLOC_MPS, "raw", &r, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(r.nmembers, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(cap_rec_member_get(&r, i, "model")->str,
                            ms[2 - i]);
        assert_close(cap_rec_member_get(&r, i, "mean_ms")->num,
                     1.5 * (i + 1), 1e-9);
        assert_close(cap_rec_member_get(&r, i, "alone_ms")->num, i + 1,
                     1e-9);
    }
    assert_close(cJSON_GetObjectItem(o, "start_skew_ms")->valuedouble, 20,
                 1e-6);
    cJSON_Delete(o);
    free(t);
    /* gamma never timed alone */
    char *all = tu_read_in(dir, "coloc.jsonl");
    char *nl = strchr(all, '\n');
    tu_put(in, nl + 1);
    free(all);
    unlink(out);
    assert_int_equal(sh_status(tu_sh("python3 scripts/mps-coloc-raw.py %s "
                                     "> %s 2> %s/err", in, out, dir)), 2);
    char *e = tu_read_in(dir, "err");
    assert_contains(e, "plan p-l75: expected every member timed alone and "
                    "together, got 2 alone and 3 together");
    free(e);
    t = tu_read_in(dir, "raw.jsonl");
    assert_string_equal(t, "");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_solo_ratios_exact),
        cmocka_unit_test(test_derive_pair_ratios_exact),
        cmocka_unit_test(test_derive_separate_file_and_green_unchanged),
        cmocka_unit_test(test_sim_mps_scales_a_solo_batch),
        cmocka_unit_test(test_derive_bad_mps_records),
        cmocka_unit_test(test_derive_most_percentages),
        cmocka_unit_test(test_sim_mps_errors),
        cmocka_unit_test(test_derive_runs_term),
        cmocka_unit_test(test_mps_coloc_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
