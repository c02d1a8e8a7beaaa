/*
 * test_lab.c - the orchestration floor (lab/): compare reuses a finished
 * run only while its inputs and the program are the same (a changed
 * experiment runs it again), an interrupted compare writes its tables from
 * the finished runs only, says so and returns 1 (the CLI's 130); sim
 * applies an experiment's reconfiguration delay; compare's figure data.
 * (Signals stopping a run: test_cli.c.)
 */
#include "testutil.h"
#include "lab/lab.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

typedef struct notes {
    int kept, again, done;
} notes;

static void count_note(void *ud, const char *line)
{
    notes *n = ud;
    n->kept += strstr(line, ": kept") != NULL;
    n->again += strstr(line, ": its inputs or the program changed") != NULL;
    n->done += strstr(line, ": done") != NULL;
}

/* An experiment file NAME: the V100 profile and measured data (absolute
 * paths) and the members given. */
static char *exp_file(const char *name, const char *members)
{
    char cwd[512], text[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"measured\": \"%s/"
             V100_MEASURED "\", %s}", cwd, cwd, members);
    return tu_write_temp(name, text);
}

/* lab_prepare of experiment e with the options o (set up here, then the
 * caller's changes); a failure fails the test. */
static void prepare(const char *e, lab_opts *o, lab_prepared *p)
{
    o->experiment = e;
    ut_err err;
    if (lab_prepare(o, p, &err) < 0)
        fail_msg("%s", err.msg);
}

static char *experiment(double duration_s)
{
    char m[1024];
    snprintf(m, sizeof m,
             "\"backend\": \"measured\", \"duration_s\": %g, \"seed\": 3, "
             "\"seeds\": 2, \"policies\": [\"igniter\", \"exclusive\"], "
             "\"workloads\": [{\"name\": \"a\", \"model\": \"alexnet\", "
             "\"slo_ms\": 15, \"rate_rps\": 300}]", duration_s);
    return exp_file("lab-exp.json", m);
}

static void test_compare_reuses_only_unchanged_runs(void **state)
{
    (void)state;
    char *e = experiment(3);
    char out[300];
    snprintf(out, sizeof out, "%s/cmp", tu_tmpdir());
    ut_err err;
    notes n = {0, 0, 0};
    assert_int_equal(lab_compare(e, out, 2, 0, NULL, count_note, &n, &err),
                     0);
    assert_int_equal(n.done, 4);
    assert_int_equal(n.kept, 0);
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare(e, out, 2, 0, NULL, count_note, &n, &err),
                     0);
    assert_int_equal(n.kept, 4);
    assert_int_equal(n.done, 0);
    /* the same file name, another duration: every run is stale */
    free(e);
    e = experiment(4);
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare(e, out, 2, 0, NULL, count_note, &n, &err),
                     0);
    assert_int_equal(n.kept, 0);
    assert_int_equal(n.again, 4);
    assert_int_equal(n.done, 4);
    /* the runs record it */
    char p[400];
    snprintf(p, sizeof p, "%s/runs/igniter-s3/summary.json", out);
    char *t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    assert_non_null(strstr(t, "\"input_hash\": \""));
    assert_non_null(strstr(t, "\"duration_s\": 4"));
    assert_non_null(strstr(t, "\"commit\": \""));
    free(t);
    free(e);
}

static void test_interrupted_compare_is_partial(void **state)
{
    (void)state;
    char *e = experiment(3);
    char out[300];
    snprintf(out, sizeof out, "%s/cmp", tu_tmpdir());
    volatile sig_atomic_t stop = 1;   /* Ctrl-C before the first run */
    ut_err err;
    assert_int_equal(lab_compare(e, out, 1, 0, &stop, NULL, NULL, &err), 1);
    assert_non_null(strstr(err.msg, "interrupted"));
    /* an empty output folder is refused, not taken as / */
    assert_int_equal(lab_compare(e, "", 1, 0, NULL, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--out"));
    char p[400];
    snprintf(p, sizeof p, "%s/summary.csv", out);
    char *t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    /* runs 0 of seeds 2: visibly partial, with no numbers made up */
    assert_non_null(strstr(t, "\nigniter,all,0,2,"));
    assert_null(strstr(t, "nan"));
    free(t);
    free(e);
}

/* igniter sim EXP.json applies the experiment's reconfig_delay_s, as
 * compare does; the command line's wins. */
static void test_sim_honours_reconfig_delay(void **state)
{
    (void)state;
    char *e = exp_file("reconf.json",
        "\"policy\": \"gslice\", \"reconfig_delay_s\": 0.25, \"workloads\": "
        "[{\"name\": \"a\", \"model\": \"alexnet\", \"slo_ms\": 15, "
        "\"rate_rps\": 300}]");
    lab_opts o;
    lab_opts_init(&o);
    lab_prepared p;
    prepare(e, &o, &p);
    assert_true(p.cfg.reconfig_delay_s == 0.25);
    assert_non_null(p.cfg.policy);
    lab_prepared_free(&p);
    o.reconfig_delay_s = 2;
    prepare(e, &o, &p);
    assert_true(p.cfg.reconfig_delay_s == 2);
    lab_prepared_free(&p);
    free(e);
}

/* compare's figure data: meta names the experiment, its seeds, each
 * policy's colour (its place in the registry), the focus and the steps of
 * its rate schedule; the first seed's run has a fine CDF (cdf-fine.csv,
 * more than cdf.csv's 20 points), the others none; and a workload's tail
 * in cdf.dat at latency/SLO = 1 is its violation %. */
static void test_compare_figure_data(void **state)
{
    (void)state;
    char *e = exp_file("lab-fig.json",
        "\"backend\": \"measured\", \"duration_s\": 4, \"warmup_s\": 1, "
        "\"seed\": 3, \"seeds\": 2, \"focus\": \"r\", "
        "\"policies\": [\"exclusive\", \"igniter\"], \"workloads\": ["
        "{\"name\": \"a\", \"model\": \"alexnet\", \"slo_ms\": 15, "
        "\"rate_rps\": 500}, "
        "{\"name\": \"r\", \"model\": \"resnet50\", \"slo_ms\": 40, "
        "\"rate_rps\": 300, \"arrivals\": {\"kind\": \"schedule\", "
        "\"steps\": [[0, 1], [2, 3]]}}]");
    char out[300], p[400];
    snprintf(out, sizeof out, "%s/fig", tu_tmpdir());
    ut_err err;
    assert_int_equal(lab_compare(e, out, 2, 0, NULL, NULL, NULL, &err), 0);
    snprintf(p, sizeof p, "%s/figdata/meta", out);
    char *t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    int ex = -1, ig = -1;
    for (int i = 0; pol_all()[i]; i++) {
        if (!strcmp(pol_all()[i]->name, "exclusive"))
            ex = i;
        if (!strcmp(pol_all()[i]->name, "igniter"))
            ig = i;
    }
    char want[64];
    snprintf(want, sizeof want, "\ncolours='%d %d'\n", ex, ig);
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "\nexperiment='lab-fig'\n"));
    assert_non_null(strstr(t, "\nseeds=2\nseeds_asked=2\n"));
    assert_non_null(strstr(t, "\npolicies='exclusive igniter'\n"));
    assert_non_null(strstr(t, "\nworkloads='a r'\nslos='15 40'\n"));
    assert_non_null(strstr(t, "\nfocus='r'\nfocus_slo=40\n"));
    assert_non_null(strstr(t, "\nsteps='2'\nfactors='3'\n"));
    free(t);
    /* the fine CDF: the first seed only, past cdf.csv's 20 points */
    snprintf(p, sizeof p, "%s/runs/igniter-s4/cdf-fine.csv", out);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/runs/igniter-s3/cdf-fine.csv", out);
    t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    int rows = 0;
    for (const char *l = strstr(t, "\na,"); l; l = strstr(l + 1, "\na,"))
        rows++;
    assert_true(rows > 100);
    free(t);
    /* igniter's workload "a" (the 2nd policy, panel 1 after "all"): its
     * fraction above latency/SLO = 1, against results.csv's first seed */
    snprintf(p, sizeof p, "%s/results.csv", out);
    t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    const char *row = strstr(t, "\nigniter,3,");
    assert_non_null(row);
    const char *f = row + 1;
    for (int k = 0; k < 8; k++)
        f = strchr(f, ',') + 1;
    double viol = strtod(f, NULL) / 100;
    free(t);
    snprintf(p, sizeof p, "%s/figdata/cdf.dat", out);
    t = ut_read_file(p, NULL, &err);
    assert_non_null(t);
    const char *b = strstr(t, "# igniter, a:");
    assert_non_null(b);
    double x0 = 0, y0 = 1, x, y, at = -1;
    for (const char *l = strchr(b, '\n'); l && l[1] && l[1] != '\n' &&
                                          l[1] != '#';
         l = strchr(l + 1, '\n')) {
        assert_int_equal(sscanf(l + 1, "%lf %lf", &x, &y), 2);
        if (x >= 1 && at < 0)
            at = x0 < 1 ? y0 + (y - y0) * (1 - x0) / (x - x0) : y;
        x0 = x;
        y0 = y;
    }
    if (at < 0)                      /* every request within the SLO */
        at = 0;
    assert_true(fabs(at - viol) < 0.02);
    free(t);
    free(e);
}

/* timeseries.csv carries each workload's planned share and batch per
 * interval, so a runtime policy's changes show: GSLICE+ raises vgg19's
 * share on the paper's example (it changes a batch only where it can
 * neither raise a share nor move the instance), within the largest
 * profiled batch. */
static void test_timeseries_shows_batch_changes(void **state)
{
    (void)state;
    char *e = exp_file("gs.json",
        "\"policy\": \"gslice\", \"backend\": \"measured\", "
        "\"duration_s\": 30, \"reconfig_delay_s\": 0.5, \"workloads\": ["
        "{\"name\": \"alexnet\", \"model\": \"alexnet\", \"slo_ms\": 15, "
        "\"rate_rps\": 500}, {\"name\": \"resnet50\", \"model\": "
        "\"resnet50\", \"slo_ms\": 40, \"rate_rps\": 400}, {\"name\": "
        "\"vgg19\", \"model\": \"vgg19\", \"slo_ms\": 60, \"rate_rps\": 200}]");
    lab_opts o;
    lab_opts_init(&o);
    lab_prepared p;
    prepare(e, &o, &p);
    ut_err err;
    const char *dir = tu_tmpdir();
    if (lab_simulate(&p, dir, NULL, &err) < 0)
        fail_msg("%s", err.msg);
    lab_prepared_free(&p);
    char path[400];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    char *t = ut_read_file(path, NULL, &err);
    assert_non_null(t);
    assert_non_null(strstr(t, ",instances,batch\n"));
    /* the last field of each row: the batches seen for vgg19 */
    double seen_share[64];
    int distinct = 0;
    for (char *l = strstr(t, "\n"); l && l[1]; l = strchr(l + 1, '\n')) {
        char *nl = strchr(l + 1, '\n');
        if (strncmp(strchr(l + 1, ',') + 1, "vgg19,", 6))
            continue;
        char *c = nl ? nl : l + strlen(l);
        while (c > l && c[-1] != ',')
            c--;
        int b = atoi(c);
        assert_true(b >= 1 && b <= MDL_MAX_BATCH);
        /* the share: three fields before the batch */
        char *f = c - 1;
        for (int k = 0; k < 2; k++) {
            f--;
            while (f > l && *f != ',')
                f--;
        }
        double sh = atof(f + 1);
        int known = 0;
        for (int k = 0; k < distinct; k++)
            known |= seen_share[k] == sh;
        if (!known && distinct < 64)
            seen_share[distinct++] = sh;
    }
    assert_true(distinct >= 2);
    free(t);
    free(e);
}

/* A policy's parameters from the environment are in a run's hash: a run
 * made at another setting is not reused, one made at the same is. And
 * every IGNITER_ variable a policy reads is listed in pol_env_params. */
static void test_policy_parameters_in_run_hash(void **state)
{
    (void)state;
    char a[17], b[17], c[17], d[17];
    unsetenv("IGNITER_PLUS_MARGIN_PCT");
    lab_run_hash(NULL, NULL, "experiments/validation/plans/coloc4.json",
                 "igniter-plus", 1, a);
    setenv("IGNITER_PLUS_MARGIN_PCT", "10", 1);
    lab_run_hash(NULL, NULL, "experiments/validation/plans/coloc4.json",
                 "igniter-plus", 1, b);
    setenv("IGNITER_PLUS_MARGIN_PCT", "20", 1);
    lab_run_hash(NULL, NULL, "experiments/validation/plans/coloc4.json",
                 "igniter-plus", 1, c);
    lab_run_hash(NULL, NULL, "experiments/validation/plans/coloc4.json",
                 "igniter-plus", 1, d);
    unsetenv("IGNITER_PLUS_MARGIN_PCT");
    assert_string_not_equal(a, b);
    assert_string_not_equal(b, c);
    assert_string_equal(c, d);
    FILE *f = popen("grep -ho 'IGNITER_[A-Z_]*\"' policies/*.c | "
                    "grep -v '^IGNITER_OPTIMAL_\"' | sort -u", "r");
    assert_non_null(f);
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\"\n")] = '\0';
        int listed = 0;
        for (const char *const *v = pol_env_params; *v; v++)
            listed |= !strcmp(*v, line);
        if (!listed)
            fail_msg("policies/ reads %s, which pol_env_params lacks", line);
        n++;
    }
    pclose(f);
    assert_true(n >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_reuses_only_unchanged_runs),
        cmocka_unit_test(test_interrupted_compare_is_partial),
        cmocka_unit_test(test_sim_honours_reconfig_delay),
        cmocka_unit_test(test_compare_figure_data),
        cmocka_unit_test(test_timeseries_shows_batch_changes),
        cmocka_unit_test(test_policy_parameters_in_run_hash),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
