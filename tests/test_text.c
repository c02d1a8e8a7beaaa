/*
 * test_text.c - the small text helpers of util/ that the line formats and
 * the hand-laid JSON writers share: ut_line_next (lines split in place,
 * numbered, a last line without '\n', blank lines kept for the caller to
 * skip), ut_skip_blank and ut_buf_json_num.
 */
#include "testutil.h"
#include "util/util.h"

static void test_line_next_splits_and_counts(void **state)
{
    (void)state;
    char text[] = "a\n\n  \r\nlast";
    char *cur = text, *line;
    int n = 0;
    const char *want[] = {"a", "", "  \r", "last"};
    for (int i = 0; i < 4; i++) {
        line = ut_line_next(&cur, &n);
        assert_non_null(line);
        assert_string_equal(line, want[i]);
        assert_int_equal(n, i + 1);
    }
    assert_null(ut_line_next(&cur, &n));
    assert_int_equal(n, 4);
    assert_null(ut_line_next(&cur, &n));   /* stays at the end */
    /* a final '\n' ends the last line, it does not start an empty one */
    char t2[] = "x\ny\n";
    cur = t2;
    n = 0;
    assert_string_equal(ut_line_next(&cur, &n), "x");
    assert_string_equal(ut_line_next(&cur, &n), "y");
    assert_null(ut_line_next(&cur, &n));
    assert_int_equal(n, 2);
    char empty[] = "";
    cur = empty;
    n = 0;
    assert_null(ut_line_next(&cur, &n));
    assert_int_equal(n, 0);
}

static void test_skip_blank(void **state)
{
    (void)state;
    assert_string_equal(ut_skip_blank(" \t\r x y"), "x y");
    assert_string_equal(ut_skip_blank(" \t\r"), "");
    assert_string_equal(ut_skip_blank("\nx"), "\nx");   /* not a blank */
}

static void test_buf_json_num(void **state)
{
    (void)state;
    ut_buf b = {0};
    ut_buf_json_num(&b, "a", 1.5, ", ");
    ut_buf_json_num(&b, "b_ms", 2, "");
    char d[32];
    char want[128];
    snprintf(want, sizeof want, "\"a\": %s, \"b_ms\": 2",
             ut_fmt_double(1.5, d));
    assert_string_equal(b.s, want);
    /* a value that needs all 17 digits reads back exactly */
    ut_buf_free(&b);
    ut_buf_json_num(&b, "x", 0.1 + 0.2, "");
    assert_true(strtod(b.s + 5, NULL) == 0.1 + 0.2);
    ut_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_next_splits_and_counts),
        cmocka_unit_test(test_skip_blank),
        cmocka_unit_test(test_buf_json_num),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
