/*
 * test_sweep.c - `igniter sweep` (lab/sweep*.c): a small grid (2 workload
 * sets x 2 arrivals x 2 policies x 2 seeds) gathers to the same tables
 * whether it runs one cell at a time, two at a time, as three shards or
 * under `mpirun -n 2` (when this build has build/igniter-mpi and mpirun);
 * an interrupted sweep resumes without rerunning its finished cells; a
 * changed input reruns exactly the cells that read it; a failing cell is
 * recorded and the others run; ids are stable and --list runs nothing.
 */
#include "testutil.h"
#include "lab/lab.h"

#include <sys/stat.h>

static char sweep_path[256], wl_a[256], wl_b[256];

static void write_workloads(const char *path, double rate)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"workloads\": [{\"name\": \"a\", \"model\": \"alexnet\", "
             "\"slo_ms\": 15, \"rate_rps\": %g}, {\"name\": \"r\", \"model\": "
             "\"resnet50\", \"slo_ms\": 40, \"rate_rps\": 150}]}", rate);
    ut_err err;
    assert_int_equal(ut_write_atomic(path, text, strlen(text), &err), 0);
}

/* The grid, written where the test's files live (relative paths taken
 * from the sweep file's folder). extra: more axes. */
static void write_sweep(const char *extra)
{
    const char *dir = tu_tmpdir();
    char cwd[512], text[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(wl_a, sizeof wl_a, "%s/set-a.json", dir);
    snprintf(wl_b, sizeof wl_b, "%s/set-b.json", dir);
    write_workloads(wl_a, 200);
    write_workloads(wl_b, 400);
    snprintf(text, sizeof text,
             "{\"base\": {\"profile\": \"%s/" V100_PROFILE "\", "
             "\"backend\": \"measured\", \"measured\": \"%s/" V100_MEASURED
             "\", \"duration_s\": 3, \"warmup_s\": 0.5, \"workloads\": []},"
             " \"axes\": {\"workloads\": [\"set-a.json\", \"set-b.json\"], "
             "\"arrivals\": [{\"kind\": \"poisson\"}, {\"kind\": \"gamma\", "
             "\"cv\": 2}], \"policy\": [\"igniter\", \"ffd\"], "
             "\"seed\": [1, 2]%s}}", cwd, cwd, extra ? extra : "");
    snprintf(sweep_path, sizeof sweep_path, "%s/sweep.json", dir);
    ut_err err;
    assert_int_equal(ut_write_atomic(sweep_path, text, strlen(text), &err),
                     0);
}


static lab_sweep_stats run(const lab_sweep *s, const char *out, int jobs,
                           int k, int n, int want_rc)
{
    lab_sweep_opts o = {jobs, k, n, 0, NULL, NULL, NULL};
    lab_sweep_stats st;
    ut_err err;
    int rc = lab_sweep_run(s, out, &o, &st, &err);
    if (rc != want_rc)
        fail_msg("lab_sweep_run: %d, expected %d (%s)", rc, want_rc,
                 rc < 0 ? err.msg : "");
    return st;
}

static void gather(const lab_sweep *s, const char *out)
{
    size_t missing;
    ut_err err;
    if (lab_sweep_gather(s, out, &missing, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(missing, 0);
}

static void same_tables(const char *d1, const char *d2)
{
    static const char *const files[] = {"gather.csv", "gather-summary.csv"};
    tu_same_files(d1, d2, files, 2);
}

static void test_grid_same_everywhere(void **state)
{
    (void)state;
    write_sweep(NULL);
    lab_sweep s;
    ut_err err;
    if (lab_sweep_load(sweep_path, &s, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.ncells, 16);
    /* ids: 12 hex digits, all different, the same on a second load */
    lab_sweep s2;
    assert_int_equal(lab_sweep_load(sweep_path, &s2, &err), 0);
    for (size_t k = 0; k < s.ncells; k++) {
        assert_int_equal(strlen(s.cells[k].id), 12);
        assert_string_equal(s.cells[k].id, s2.cells[k].id);
        for (size_t j = 0; j < k; j++)
            assert_string_not_equal(s.cells[k].id, s.cells[j].id);
    }
    lab_sweep_free(&s2);
    char d1[300], d2[300], d3[300], d4[300];
    snprintf(d1, sizeof d1, "%s/one", tu_tmpdir());
    snprintf(d2, sizeof d2, "%s/two", tu_tmpdir());
    snprintf(d3, sizeof d3, "%s/shards", tu_tmpdir());
    snprintf(d4, sizeof d4, "%s/mpi", tu_tmpdir());
    lab_sweep_stats st = run(&s, d1, 1, 0, 0, 0);
    assert_int_equal(st.done, 16);
    gather(&s, d1);
    run(&s, d2, 2, 0, 0, 0);
    gather(&s, d2);
    size_t ran = 0;
    for (int k = 1; k <= 3; k++)
        ran += run(&s, d3, 1, k, 3, 0).done;
    assert_int_equal(ran, 16);
    gather(&s, d3);
    same_tables(d1, d2);
    same_tables(d1, d3);
    /* compact: only what gather reads is kept, and it gathers the same */
    char d5[300];
    snprintf(d5, sizeof d5, "%s/compact", tu_tmpdir());
    lab_sweep_opts oc = {2, 0, 0, LAB_SWEEP_COMPACT, NULL, NULL, NULL};
    assert_int_equal(lab_sweep_run(&s, d5, &oc, &st, &err), 0);
    gather(&s, d5);
    same_tables(d1, d5);
    char cd[600], cp[700];
    lab_cell_dir(d5, &s, 0, cd, sizeof cd);
    snprintf(cp, sizeof cp, "%s/timeseries.csv", cd);
    struct stat sc;
    assert_int_equal(stat(cp, &sc), -1);
    /* one row per cell and workload plus one per cell */
    char *g = tu_read_in(d1, "gather.csv");
    int lines = 0;
    for (const char *c = g; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1 + 16 * 3);
    assert_non_null(strstr(g, ",set-a,gamma:2,ffd,2,1,all,"));
    free(g);
    /* per configuration over the two seeds: 8 rows with n = 2 */
    char *sm = tu_read_in(d1, "gather-summary.csv");
    assert_non_null(strstr(sm, "\nset-b,poisson,igniter,2,"));
    free(sm);
    /* MPI, where this build has it */
    const char *bin = getenv("IGNITER_BIN");
    char mpi[300];
    snprintf(mpi, sizeof mpi, "%s-mpi", bin ? bin : "build/igniter");
    struct stat sb;
    if (stat(mpi, &sb) == 0 && system("command -v mpirun >/dev/null") == 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd,
                 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                 "OMPI_MCA_rmaps_base_oversubscribe=1 "
                 "mpirun -n 2 --oversubscribe %s %s --out %s --quiet "
                 ">/dev/null 2>&1", mpi, sweep_path, d4);
        assert_int_equal(system(cmd), 0);
        same_tables(d1, d4);
    } else {
        print_message("(no %s or mpirun here: the MPI run is skipped)\n",
                      mpi);
    }
    lab_sweep_free(&s);
}

typedef struct stopper {
    volatile sig_atomic_t *stop;
    size_t after;
} stopper;

static void stop_after(void *ud, const lab_sweep *s, size_t k, int status,
                       const lab_sweep_stats *st)
{
    (void)s;
    (void)k;
    (void)status;
    stopper *p = ud;
    if (st->done >= p->after)
        *p->stop = 1;
}

static void test_resume_rerun_and_failures(void **state)
{
    (void)state;
    write_sweep(NULL);
    lab_sweep s;
    ut_err err;
    assert_int_equal(lab_sweep_load(sweep_path, &s, &err), 0);
    char out[300];
    snprintf(out, sizeof out, "%s/out", tu_tmpdir());
    /* interrupted after 5 cells (one at a time, so exactly 5 finish) */
    volatile sig_atomic_t stop = 0;
    stopper sp = {&stop, 5};
    lab_sweep_opts o = {1, 0, 0, 0, &stop, stop_after, &sp};
    lab_sweep_stats st;
    assert_int_equal(lab_sweep_run(&s, out, &o, &st, &err), 2);
    assert_int_equal(st.done, 5);
    /* resumed: the 5 are kept, the 11 others run */
    st = run(&s, out, 2, 0, 0, 0);
    assert_int_equal(st.kept, 5);
    assert_int_equal(st.done, 11);
    /* set-b changes: exactly its 8 cells run again */
    write_workloads(wl_b, 450);
    st = run(&s, out, 2, 0, 0, 0);
    assert_int_equal(st.kept, 8);
    assert_int_equal(st.rerun, 8);
    assert_int_equal(st.done, 8);
    lab_sweep_free(&s);
    /* a back end that cannot run these cells (fixed: no service time)
     * fails them; the others run, and each failure says why */
    write_sweep(", \"backend\": [\"measured\", \"fixed\"]");
    assert_int_equal(lab_sweep_load(sweep_path, &s, &err), 0);
    assert_int_equal(s.ncells, 32);
    snprintf(out, sizeof out, "%s/fail", tu_tmpdir());
    st = run(&s, out, 2, 0, 0, 1);
    assert_int_equal(st.failed, 16);
    assert_int_equal(st.done, 16);
    size_t failed_seen = 0;
    for (size_t k = 0; k < s.ncells; k++) {
        char dir[600];
        lab_cell_dir(out, &s, k, dir, sizeof dir);
        char p[700];
        snprintf(p, sizeof p, "%s/error.txt", dir);
        char *t = ut_read_file(p, NULL, NULL);
        if (t) {
            assert_non_null(strstr(t, "service_ms"));
            failed_seen++;
        }
        free(t);
    }
    assert_int_equal(failed_seen, 16);
    lab_sweep_free(&s);
}

static void test_trims_and_bad_files(void **state)
{
    (void)state;
    write_sweep(NULL);
    lab_sweep s;
    ut_err err;
    char text[2048];
    char *base = ut_read_file(sweep_path, NULL, &err);
    /* exclude ffd at gamma, include only set-a: 2 x 2 x 2 x 2 -> 6 */
    snprintf(text, sizeof text, "%.*s, \"exclude\": [{\"policy\": \"ffd\", "
             "\"arrivals\": {\"kind\": \"gamma\", \"cv\": 2}}], \"include\": "
             "[{\"workloads\": \"set-a.json\"}]}", (int)strlen(base) - 1,
             base);
    char *p = tu_write_temp("trim.json", text);
    if (lab_sweep_load(p, &s, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.ncells, 6);
    lab_sweep_free(&s);
    free(p);
    snprintf(text, sizeof text, "%.*s, \"exclude\": [{\"speed\": 2}]}",
             (int)strlen(base) - 1, base);
    p = tu_write_temp("bad.json", text);
    assert_int_equal(lab_sweep_load(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "exclude[0].speed"));
    free(p);
    p = tu_write_temp("bad2.json", "{\"base\": {}, \"axes\": {\"seed\": []}}");
    assert_int_equal(lab_sweep_load(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "axes.seed"));
    free(p);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_same_everywhere),
        cmocka_unit_test(test_resume_rerun_and_failures),
        cmocka_unit_test(test_trims_and_bad_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
