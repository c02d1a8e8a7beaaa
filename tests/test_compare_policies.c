/*
 * test_compare_policies.c - `igniter compare --policies` (lab.h,
 * lab_compare_policies): only the policies named are compared, in the
 * order given, a registered policy the experiment does not list included;
 * a run is reused across a compare of all the policies and one of some of
 * them, and run again when its inputs change; a bad list (unknown name,
 * empty name, a name twice) is one message naming the value, and nothing
 * is written. The CLI end: exit 2 with the registered names listed.
 * --longer (lab_compare_longer): each run again with every batch longer,
 * the same as a run of the experiment with that slow-down; its columns in
 * the tables; kept as the runs are; a bad percentage refused.
 */
#include "testutil.h"
#include "lab/lab.h"

#include <fcntl.h>
#include <sys/wait.h>

typedef struct notes {
    int kept, done;
} notes;

static void count_note(void *ud, const char *line)
{
    notes *n = ud;
    n->kept += strstr(line, ": kept") != NULL;
    n->done += strstr(line, ": done") != NULL;
}

/* A 3-second experiment of one AlexNet workload on the V100 data, listing
 * igniter and exclusive, two seeds; duration_s varies it. */
static char *experiment(double duration_s)
{
    char cwd[512], text[2048];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"measured\": \"%s/"
             V100_MEASURED "\", \"backend\": \"measured\", \"duration_s\": %g,"
             " \"seed\": 3, \"seeds\": 2, \"policies\": [\"igniter\", "
             "\"exclusive\"], \"workloads\": [{\"name\": \"a\", \"model\": "
             "\"alexnet\", \"slo_ms\": 15, \"rate_rps\": 300}]}",
             cwd, cwd, duration_s);
    return tu_write_temp("cp-exp.json", text);
}

static char *read_in(const char *dir, const char *name)
{
    char p[600];
    ut_err err;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return ut_read_file(p, NULL, &err);
}

/* The policies of summary.csv's "all" rows, in order: "ffd igniter ". */
static void summary_policies(const char *dir, char *out, size_t n)
{
    char *t = read_in(dir, "summary.csv");
    assert_non_null(t);
    out[0] = '\0';
    for (char *l = strchr(t, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        char *c = strchr(l + 1, ',');
        if (c && !strncmp(c, ",all,", 5))
            snprintf(out + strlen(out), n - strlen(out), "%.*s ",
                     (int)(c - l - 1), l + 1);
    }
    free(t);
}

static void test_only_the_named_policies_in_order(void **state)
{
    (void)state;
    char *e = experiment(3);
    char out[300], got[256];
    snprintf(out, sizeof out, "%s/cmp", tu_tmpdir());
    ut_err err;
    notes n = {0, 0};
    /* ffd is registered but not in the experiment's list: allowed */
    assert_int_equal(lab_compare_policies(e, out, "ffd,igniter", 1, 0, NULL,
                                          count_note, &n, &err), 0);
    assert_int_equal(n.done, 4);
    summary_policies(out, got, sizeof got);
    assert_string_equal(got, "ffd igniter ");
    char *meta = read_in(out, "figdata/meta");
    assert_non_null(meta);
    assert_non_null(strstr(meta, "\npolicies='ffd igniter'\n"));
    free(meta);
    char p[400];
    snprintf(p, sizeof p, "%s/runs/exclusive-s3", out);
    assert_int_equal(access(p, F_OK), -1);   /* not compared, not run */
    /* without the list: the experiment's own, igniter's runs reused */
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare(e, out, 1, 0, NULL, count_note, &n, &err),
                     0);
    assert_int_equal(n.kept, 2);
    assert_int_equal(n.done, 2);
    summary_policies(out, got, sizeof got);
    assert_string_equal(got, "igniter exclusive ");
    /* and back to a subset: every run reused, none made */
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare_policies(e, out, "exclusive", 1, 0, NULL,
                                          count_note, &n, &err), 0);
    assert_int_equal(n.kept, 2);
    assert_int_equal(n.done, 0);
    summary_policies(out, got, sizeof got);
    assert_string_equal(got, "exclusive ");
    /* a changed experiment runs the named policies again */
    free(e);
    e = experiment(4);
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare_policies(e, out, "exclusive", 1, 0, NULL,
                                          count_note, &n, &err), 0);
    assert_int_equal(n.kept, 0);
    assert_int_equal(n.done, 2);
    free(e);
}

static void test_bad_lists_write_nothing(void **state)
{
    (void)state;
    char *e = experiment(3);
    static const struct {
        const char *list, *frag1, *frag2;
    } bad[] = {
        {"igniter,nosuch", "expected one of igniter, ", "got \"nosuch\""},
        {"", "separated by commas", "got \"\""},
        {"igniter,", "separated by commas", "got \"igniter,\""},
        {",ffd", "separated by commas", "got \",ffd\""},
        {"ffd,igniter,ffd", "each policy once", "\"ffd\" twice"},
        {"IGNITER", "expected one of", "got \"IGNITER\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[300];
        snprintf(out, sizeof out, "%s/bad%zu", tu_tmpdir(), i);
        ut_err err;
        assert_int_equal(lab_compare_policies(e, out, bad[i].list, 1, 0, NULL,
                                              NULL, NULL, &err), -1);
        if (!strstr(err.msg, "--policies: ") ||
            !strstr(err.msg, bad[i].frag1) || !strstr(err.msg, bad[i].frag2))
            fail_msg("list \"%s\": %s", bad[i].list, err.msg);
        assert_int_equal(access(out, F_OK), -1);
    }
    /* 17 names: more than an experiment may list */
    char many[1024] = "";
    for (int k = 0; k < LAB_MAX_POLICIES + 1; k++)
        strcat(many, k ? ",igniter" : "igniter");
    ut_err err;
    char out[300];
    snprintf(out, sizeof out, "%s/many", tu_tmpdir());
    assert_int_equal(lab_compare_policies(e, out, many, 1, 0, NULL, NULL,
                                          NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--policies"));
    free(e);
}

/* The CLI: an unknown name is exit 2, one message listing every
 * registered policy, nothing on stdout, no output folder. */
static void test_cli_unknown_policy(void **state)
{
    (void)state;
    const char *bin = getenv("IGNITER_BIN");
    if (!bin)
        bin = "build/igniter";
    char *e = experiment(3);
    char out[300], errp[300];
    snprintf(out, sizeof out, "%s/cli", tu_tmpdir());
    snprintf(errp, sizeof errp, "%s/cli.err", tu_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fo = open("/dev/null", O_WRONLY);
        dup2(fe, 2);
        dup2(fo, 1);
        execl(bin, bin, "compare", e, "--out", out, "--policies",
              "igniter,nosuch", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    ut_err err;
    char *msg = ut_read_file(errp, NULL, &err);
    assert_non_null(msg);
    for (const pol_ops *const *o = pol_all(); *o; o++)
        if (!strstr(msg, (*o)->name))
            fail_msg("%s is not listed: %s", (*o)->name, msg);
    assert_non_null(strstr(msg, "igniter compare: --policies: "));
    assert_non_null(strstr(msg, "got \"nosuch\""));
    assert_int_equal(access(out, F_OK), -1);
    free(msg);
    free(e);
}

/* experiment(3) with a whole-run slow-down of f on its workload. */
static char *experiment_slowed(double f)
{
    char *e = experiment(3);
    ut_err err;
    char *t = ut_read_file(e, NULL, &err);
    assert_non_null(t);
    char text[2600];
    size_t n = strlen(t);
    while (n && t[n - 1] != '}')   /* the object's last brace */
        n--;
    assert_true(n > 0);
    snprintf(text, sizeof text, "%.*s, \"slowdowns\": [{\"workload\": \"a\", "
             "\"factor\": %g}]}", (int)(n - 1), t, f);
    free(t);
    free(e);
    return tu_write_temp("cp-exp-slowed.json", text);
}

/* summary.csv's "all" row of policy pn: its fields from the k-th on. */
static void all_fields(const char *dir, const char *pn, int k, char *out,
                       size_t n)
{
    char *t = read_in(dir, "summary.csv");
    assert_non_null(t);
    char key[64];
    snprintf(key, sizeof key, "\n%s,all,", pn);
    char *l = strstr(t, key);
    assert_non_null(l);
    l++;
    for (int i = 0; i < k; i++) {
        l = strchr(l, ',');
        assert_non_null(l);
        l++;
    }
    size_t len = strcspn(l, "\n");
    snprintf(out, n, "%.*s", (int)len, l);
    free(t);
}

/* text begins with prefix */
static int starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void test_longer(void **state)
{
    (void)state;
    char *e = experiment(3);
    char out[300], ref[300];
    snprintf(out, sizeof out, "%s/longer", tu_tmpdir());
    snprintf(ref, sizeof ref, "%s/slowed", tu_tmpdir());
    ut_err err;
    notes n = {0, 0};
    assert_int_equal(lab_compare_longer(e, out, NULL, 2, 0, 10, NULL,
                                        count_note, &n, &err), 0);
    assert_int_equal(n.done, 4);
    /* the longer run is the experiment slowed 1.1 times */
    char *es = experiment_slowed(1.1);
    assert_int_equal(lab_compare(es, ref, 2, 0, NULL, NULL, NULL, &err), 0);
    char a[400], b[400];
    snprintf(a, sizeof a, "%s/runs/igniter-s4/sensitivity/x1.1", out);
    snprintf(b, sizeof b, "%s/runs/igniter-s4", ref);
    char *x = read_in(a, "workloads.csv"), *y = read_in(b, "workloads.csv");
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(x, y);
    free(x);
    free(y);
    /* the tables: the nominal columns as a plain compare's, then the
     * longer one's violations, which are the slowed compare's */
    char *h = read_in(out, "summary.csv");
    assert_true(starts(h, "policy,workload,runs,seeds,slo_violation_pct,"
                       "slo_violation_ci,p99_ms,p99_ci,mean_ms,mean_ci,"
                       "cost_per_hour,cost_ci,gpus,slo_violation_pct_longer,"
                       "slo_violation_longer_ci\n"));
    free(h);
    h = read_in(out, "results.csv");
    assert_non_null(strstr(h, "mean_ms,slo_violation_pct_longer\n"));
    free(h);
    char got[200], want[200];
    for (int k = 0; k < 2; k++) {
        const char *pn = k ? "exclusive" : "igniter";
        all_fields(out, pn, 13, got, sizeof got);
        all_fields(ref, pn, 4, want, sizeof want);
        want[strcspn(want, ",")] = '\0';   /* the violation % ... */
        got[strcspn(got, ",")] = '\0';
        assert_string_equal(got, want);
    }
    /* again: every run kept, its longer run too */
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare_longer(e, out, NULL, 1, 0, 10, NULL,
                                        count_note, &n, &err), 0);
    assert_int_equal(n.kept, 4);
    assert_int_equal(n.done, 0);
    /* another percentage: the runs themselves kept, the longer ones made
     * (the same runs, "done") */
    memset(&n, 0, sizeof n);
    assert_int_equal(lab_compare_longer(e, out, NULL, 1, 0, 20, NULL,
                                        count_note, &n, &err), 0);
    assert_int_equal(n.kept, 0);
    assert_int_equal(n.done, 4);
    snprintf(a, sizeof a, "%s/runs/igniter-s3/sensitivity/x1.2/summary.json",
             out);
    assert_int_equal(access(a, F_OK), 0);
    /* without it: the plain tables */
    assert_int_equal(lab_compare(e, out, 1, 0, NULL, NULL, NULL, &err), 0);
    h = read_in(out, "summary.csv");
    assert_true(starts(h, "policy,workload,runs,seeds,slo_violation_pct,"
                       "slo_violation_ci,p99_ms,p99_ci,mean_ms,mean_ci,"
                       "cost_per_hour,cost_ci,gpus\n"));
    free(h);
    /* refused: out of range, nothing run */
    assert_int_equal(lab_compare_longer(e, out, NULL, 1, 0, 60, NULL, NULL,
                                        NULL, &err), -1);
    assert_non_null(strstr(err.msg, "--longer: expected a percentage in (0, "
                                    "50], got 60"));
    free(es);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_the_named_policies_in_order),
        cmocka_unit_test(test_bad_lists_write_nothing),
        cmocka_unit_test(test_cli_unknown_policy),
        cmocka_unit_test(test_longer),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_cleanup();
    return rc;
}
