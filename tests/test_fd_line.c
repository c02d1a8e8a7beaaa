/*
 * test_fd_line.c - ut_fd_line, the line reader of serve's MPS workers and
 * of what reads their answers (util/util.h): lines come whole and in
 * order however the bytes arrive, a non-blocking pipe with half a line
 * says "not yet", the end of the input says so once every line is taken,
 * and a line longer than the buffer is dropped, not split.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void pieces_and_end(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    ut_linebuf lb;
    memset(&lb, 0, sizeof lb);
    char line[64];
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 0);
    put(p[1], "do");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 0);
    put(p[1], "ne 1.5\n12\n2");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "done 1.5");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "12");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 0);
    put(p[1], "4\n\n");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "24");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "");
    put(p[1], "last\n");
    close(p[1]);
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "last");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), -1);
    close(p[0]);
}

/* A line as long as the buffer is dropped; the next one comes whole. A
 * line longer than line[] is cut to it. */
static void too_long(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    ut_linebuf lb;
    memset(&lb, 0, sizeof lb);
    char big[2048], line[8];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\0';
    put(p[1], big);
    put(p[1], "\nready 132\n");
    close(p[1]);
    char wide[64];
    int r = ut_fd_line(p[0], &lb, wide, sizeof wide);
    /* the long one is gone; what is left of it after the last drop may
     * come as a line of x's, never as part of the next */
    while (r == 1 && wide[0] == 'x')
        r = ut_fd_line(p[0], &lb, wide, sizeof wide);
    assert_int_equal(r, 1);
    assert_string_equal(wide, "ready 132");
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), -1);
    close(p[0]);

    assert_int_equal(pipe(p), 0);
    memset(&lb, 0, sizeof lb);
    put(p[1], "done 12.345\n");
    close(p[1]);
    assert_int_equal(ut_fd_line(p[0], &lb, line, sizeof line), 1);
    assert_string_equal(line, "done 12");
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pieces_and_end),
        cmocka_unit_test(too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
