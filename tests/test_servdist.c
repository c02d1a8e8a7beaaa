/*
 * test_servdist.c - service-time distributions: the raw record's latency
 * quantiles ("q_ms", capture/record.c) written, read back and refused
 * when malformed.
 */
#include "testutil.h"

#include "capture/capture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_nearest_rank),
        cmocka_unit_test(quant_round_trip),
        cmocka_unit_test(quant_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
