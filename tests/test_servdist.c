/*
 * test_servdist.c - service-time distributions: the raw record's latency
 * quantiles ("q_ms", capture/record.c) written, read back and refused
 * when malformed; `igniter derive` carrying them into the measured data,
 * and the measured back end's loader reading them.
 */
#define TU_SYNTH_RAW
#include "testutil.h"

#include "capture/capture.h"
#include "model/model.h"

#include <cjson/cJSON.h>

/* The quantiles of 1..100 by nearest rank: 0.5 -> 50, 0.99 -> 99. */
static void quantiles_nearest_rank(void **state)
{
    (void)state;
    double v[100], q[CAP_REC_NQ];
    for (int i = 0; i < 100; i++)
        v[i] = i + 1;
    cap_rec_quantiles(v, 100, q);
    for (int i = 0; i < CAP_REC_NQ; i++) {
        double want = ceil(cap_rec_q_levels[i] * 100);
        if (want < 1)
            want = 1;
        assert_true(q[i] == want);
    }
    cap_rec_quantiles(v, 0, q);
    assert_true(isnan(q[0]));
}

static int read_line(const char *line, cap_rec_id id, cap_rec *r,
                     cJSON **keep, ut_err *err)
{
    *keep = cJSON_Parse(line);
    assert_non_null(*keep);
    return cap_rec_read(*keep, id, "raw.jsonl:7", r, err);
}

/* A solo record and a co-location member carry q_ms; reading returns the
 * written values (to the format's 5 decimals). */
static void quant_round_trip(void **state)
{
    (void)state;
    double q[CAP_REC_NQ];
    for (int i = 0; i < CAP_REC_NQ; i++)
        q[i] = 1.0 + i * 0.123456;
    cap_rec w, r;
    cap_rec_init(&w, CAP_REC_COLOC);
    cap_rec_set_str(&w, "set", "fit");
    for (int m = 0; m < 2; m++) {
        cap_rec_member_set_str(&w, m, "model", m ? "vgg19" : "resnet50");
        cap_rec_member_set(&w, m, "batch", 4);
        cap_rec_member_set(&w, m, "sms", 32);
        cap_rec_member_set(&w, m, "mean_ms", 2);
        cap_rec_member_set(&w, m, "std_ms", 0.1);
    }
    cap_rec_set_quant(&w, 1, q);     /* member 0 has none */
    ut_buf b = {0};
    cap_rec_write(&w, &b);
    assert_non_null(strstr(b.s, "\"q_ms\":[1.00000,1.12346,"));
    cJSON *j;
    ut_err err;
    assert_int_equal(read_line(b.s, CAP_REC_COLOC, &r, &j, &err), 0);
    assert_null(cap_rec_get_quant(&r, 0));
    const double *g = cap_rec_get_quant(&r, 1);
    assert_non_null(g);
    for (int i = 0; i < CAP_REC_NQ; i++)
        assert_true(fabs(g[i] - q[i]) < 1e-5);
    cJSON_Delete(j);
    ut_buf_free(&b);

    cap_rec_init(&w, CAP_REC_SOLO);
    cap_rec_set_str(&w, "model", "resnet50");
    cap_rec_set(&w, "batch", 1);
    cap_rec_set(&w, "sms", 8);
    cap_rec_set(&w, "mean_ms", 1);
    cap_rec_set(&w, "std_ms", 0.1);
    cap_rec_set_quant(&w, -1, q);
    cap_rec_write(&w, &b);
    assert_int_equal(read_line(b.s, CAP_REC_SOLO, &r, &j, &err), 0);
    assert_true(fabs(cap_rec_get_quant(&r, -1)[11] - q[11]) < 1e-5);
    cJSON_Delete(j);
    ut_buf_free(&b);
}

/* Old records (no q_ms) stay valid; a short, decreasing or negative
 * vector is refused with the line and the field. */
static void quant_checked(void **state)
{
    (void)state;
    const char *base = "{\"kind\":\"solo\",\"model\":\"a\",\"batch\":1,"
                       "\"sms\":8,\"mean_ms\":1,\"std_ms\":0.1";
    char line[512];
    cap_rec r;
    cJSON *j;
    ut_err err;
    snprintf(line, sizeof line, "%s}", base);
    assert_int_equal(read_line(line, CAP_REC_SOLO, &r, &j, &err), 0);
    assert_null(cap_rec_get_quant(&r, -1));
    cJSON_Delete(j);
    static const struct {
        const char *q, *msg;
    } bad[] = {
        {"[1,2,3]", "got 3 elements"},
        {"[1,2,3,4,5,6,7,8,9,10,11,10]", "got element 11 10"},
        {"[-1,2,3,4,5,6,7,8,9,10,11,12]", "got element 0 -1"},
        {"\"x\"", "got \"x\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "%s,\"q_ms\":%s}", base, bad[i].q);
        assert_int_equal(read_line(line, CAP_REC_SOLO, &r, &j, &err), -1);
        assert_non_null(strstr(err.msg, "raw.jsonl:7.q_ms: expected an "
                                         "array of 12 non-decreasing"));
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("%s: %s", bad[i].q, err.msg);
        cJSON_Delete(j);
    }
}

/* A synthetic capture whose alpha (batch 8, 64 SMs) point was timed
 * again with its distribution (a later record replaces the earlier):
 * derive writes its quantiles, the loader reads them, and the point's
 * shape is the measured one (mean 1); a point without them keeps the
 * lognormal of its std. */
static void derive_carries_quantiles(void **state)
{
    (void)state;
    char *raw = tu_synth_raw(NULL, NULL);
    ut_buf b = {0};
    ut_buf_printf(&b, "%s", raw);
    double mean = tu_synth_ms(0, 8, 64), q[CAP_REC_NQ];
    for (int i = 0; i < CAP_REC_NQ; i++)
        q[i] = mean * (0.8 + 0.4 * cap_rec_q_levels[i]);
    cap_rec r;
    cap_rec_init(&r, CAP_REC_SOLO);
    cap_rec_set_str(&r, "model", "alpha");
    cap_rec_set(&r, "batch", 8);
    cap_rec_set(&r, "sms", 64);
    cap_rec_set(&r, "iters", 100);
    cap_rec_set(&r, "mean_ms", mean);
    cap_rec_set(&r, "std_ms", mean * 0.1);
    cap_rec_set_quant(&r, -1, q);
    cap_rec_write(&r, &b);
    ut_buf_printf(&b, "%s\n", TU_SYNTH_END);
    char *path = tu_write_temp("raw-q.jsonl", b.s);
    const char *out = tu_tmpdir();
    ut_err err;
    if (cap_derive(path, out, NULL, 0, &err) < 0)
        fail_msg("%s", err.msg);
    char mpath[256];
    snprintf(mpath, sizeof mpath, "%s/measured-colocation.jsonl", out);
    mdl_measured m;
    if (mdl_measured_load(mpath, &m, &err) < 0)
        fail_msg("%s", err.msg);
    int a = mdl_measured_find(&m, "alpha");
    assert_true(a >= 0);
    double share = 100.0 * 64 / 132;
    mdl_servdist d;
    mdl_measured_servdist(&m, a, 8, share, &d);
    assert_int_equal(d.kind, MDL_SD_QUANT);
    /* q is linear in the level: its piecewise mean is mean * 1.0 */
    for (int i = 0; i < CAP_REC_NQ; i++)
        assert_true(fabs(d.q[i] - q[i] / mean) < 1e-4);
    mdl_measured_servdist(&m, a, 1, 100, &d);      /* std only: 2 % */
    assert_int_equal(d.kind, MDL_SD_LOGN);
    assert_true(fabs(mdl_sd_moment2(&d) - (1 + 0.02 * 0.02)) < 1e-6);
    mdl_measured_free(&m);
    free(path);
    free(raw);
    ut_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_nearest_rank),
        cmocka_unit_test(quant_round_trip),
        cmocka_unit_test(quant_checked),
        cmocka_unit_test(derive_carries_quantiles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
