/*
 * test_cli.c - the igniter binary end to end: the demo, every verb's
 * --help, predict's two input forms, and bad input: one clear message
 * naming the file, field and value, exit status 2, and no output file
 * (not even half of one) left behind.
 *
 * The binary is $IGNITER_BIN (tests/run.sh sets it), default build/igniter.
 */
#define TU_SYNTH_RAW
#define TU_RUN
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* slurp of the file name in the folder dir. */
static void slurp_in(const char *dir, const char *name, char *buf, size_t n)
{
    char path[UT_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    slurp(path, buf, n);
}

/* Exit 2, one line on stderr that contains every given fragment, nothing
 * on stdout. */
static void assert_bad_input(const char *frag1, const char *frag2,
                             const char *frag3)
{
    if (res.status != 2)
        fail_msg("exit status %d, expected 2; stderr: %s", res.status,
                 res.err);
    assert_contains(res.err, frag1);
    if (frag2)
        assert_contains(res.err, frag2);
    if (frag3)
        assert_contains(res.err, frag3);
    assert_string_equal(res.out, "");
    /* one line (plus the usage hint for option errors) */
    assert_non_null(strchr(res.err, '\n'));
}

/* No file in dir starts with the given prefix (no temporaries left). */
static int no_leftovers(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int ok = 1;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            ok = 0;
    if (d)
        closedir(d);
    return ok;
}

static void test_demo_plans_the_published_example(void **state)
{
    (void)state;
    assert_int_equal(run("plan", "--profile", V100_PROFILE, "--workloads",
                         "experiments/paper-example.json", NULL), 0);
    assert_contains(res.out, "alexnet        4     10.0");
    assert_contains(res.out, "resnet50       8     30.0");
    assert_contains(res.out, "vgg19          6     37.5");
    assert_contains(res.out, "1 x V100 at $3.060/h = $3.06 per hour");
}

static void test_plan_json_and_out(void **state)
{
    (void)state;
    char *out = tu_write_temp("p.json", "");
    unlink(out);
    assert_int_equal(run("plan", "--profile", V100_AUTHORS, "--workloads",
                         "experiments/paper-example.json", "--json", "--out",
                         out, NULL), 0);
    assert_contains(res.out, "\"format\": 1");
    assert_contains(res.out, "\"num_gpus\": 1");
    assert_contains(res.out, "\"resource_pct\": 37.5");
    char file[65536];
    slurp(out, file, sizeof file);
    assert_string_equal(file, res.out);
    free(out);
}

static void test_every_verb_has_help(void **state)
{
    (void)state;
    static const struct {
        const char *verb, *opts[12];
    } verbs[] = {
        {"fit", {"--profile", "--out", "--gpu", "--price"}},
        {"convert", {"--profile", "--out", "--gpu", "--price"}},
        {"predict", {"--profile", "--colocate", "--json", "--input", "--out"}},
        {"accuracy", {"--profile", "--measured", "--multi", "--train",
                      "--hold-out-share", "--json"}},
        {"plan", {"--profile", "--workloads", "--policy", "--json", "--out",
                  "--faithful"}},
        {"policies", {"igniter policies"}},
        {"sim", {"--out", "--plan", "--profile", "--backend", "--measured",
                 "--duration-s", "--warmup-s", "--seed"}},
        {"derive", {"RAW.jsonl", "--out", "--gpu", "--price"}},
        {"serve", {"--plan", "--out", "--mechanism", "--gpu", "--duration-s",
                   "--arrivals", "requests.csv"}},
    };
    assert_int_equal(run("--help", NULL), 0);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        assert_contains(res.out, verbs[i].verb);
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        assert_int_equal(run(verbs[i].verb, "--help", NULL), 0);
        for (size_t k = 0; verbs[i].opts[k]; k++)
            assert_contains(res.out, verbs[i].opts[k]);
    }
    assert_int_equal(run("nosuchverb", NULL), 2);
    assert_contains(res.err, "unknown verb 'nosuchverb'");
    assert_contains(res.err, "plan");
}

static void test_predict_colocate_and_input(void **state)
{
    (void)state;
    assert_int_equal(run("predict", "--profile", V100_PROFILE, "--colocate",
                         "alexnet:4:10", "--colocate", "resnet50:8:30",
                         "--colocate", "vgg19:6:37.5", "--json", NULL), 0);
    assert_contains(res.out, "\"latency_ms\":6.917788");
    assert_contains(res.out, "\"latency_ms\":28.73002");
    char *in = tu_write_temp("in.jsonl",
        "{\"colocate\":[{\"model\":\"alexnet\",\"batch\":4,\"resource_pct\":10}]}\n"
        "\n"
        "{\"colocate\":[{\"model\":\"resnet50\",\"batch\":8,\"resource_pct\":30},"
        "{\"model\":\"vgg19\",\"batch\":6,\"resource_pct\":37.5}]}\n");
    assert_int_equal(run("predict", "--profile", V100_PROFILE, "--input", in,
                         NULL), 0);
    /* one output line per input line with content, in order */
    char *l1 = res.out, *l2 = strchr(l1, '\n') + 1;
    assert_true(strncmp(l1, "{\"latency_ms\":[6.45272", 21) == 0);
    assert_true(strncmp(l2, "{\"latency_ms\":[18.3019", 21) == 0);
    assert_contains(l2, "\"throughput_rps\":[448.92");
    assert_string_equal(strchr(l2, '\n'), "\n");
    free(in);
}

/* One JSON shape for pairs and runs of several: an object per predictor,
 * NAME for runs of 2, NAME_K for runs of K, with the same five members. */
static void assert_accuracy_object(const char *key, size_t latencies)
{
    char want[128];
    snprintf(want, sizeof want, "\"%s\":{\"latencies\":%zu,\"mean_pct\":",
             key, latencies);
    assert_contains(res.out, want);
    const char *o = strstr(res.out, want);
    const char *end = strchr(o, '}');
    static const char *members[] = {"\"median_pct\":", "\"p90_pct\":",
                                    "\"max_pct\":"};
    for (size_t i = 0; i < 3; i++) {
        const char *m = strstr(o, members[i]);
        if (!m || m > end)
            fail_msg("%s lacks %s: %s", key, members[i], res.out);
    }
}

static void test_accuracy_reports_error(void **state)
{
    (void)state;
    static const char *preds[] = {"igniter", "no-interference",
                                  "measured-interp", "measured",
                                  "gpulets-linear", "learned"};
    assert_int_equal(run("accuracy", "--profile", V100_PROFILE, "--measured",
                         V100_MEASURED, "--json", NULL), 0);
    assert_contains(res.out, "\"in_sample\":true");
    assert_contains(res.out, "\"igniter\":{\"latencies\":1500,\"mean_pct\":3.");
    for (size_t i = 0; i < 6; i++)
        assert_accuracy_object(preds[i], 1500);
    /* held out: whole share points of the V100 pairs (40 and 60 %) */
    assert_int_equal(run("accuracy", "--profile", V100_PROFILE, "--measured",
                         V100_MEASURED, "--hold-out-share", "40", "--json",
                         NULL), 0);
    assert_contains(res.out, "\"in_sample\":false");
    for (size_t i = 0; i < 6; i++)
        assert_accuracy_object(preds[i], 600);
    /* runs of 3 and 4 workloads on the H100 capture, by size */
    assert_int_equal(run("accuracy", "--profile", "traces/h100/profile.json",
                         "--multi", "traces/h100/colocations-multi.jsonl",
                         "--train", "traces/h100/measured-colocation.jsonl",
                         "--json", NULL), 0);
    for (size_t i = 0; i < 6; i++) {
        char k[64];
        snprintf(k, sizeof k, "%s_3", preds[i]);
        assert_accuracy_object(k, 48);
        snprintf(k, sizeof k, "%s_4", preds[i]);
        assert_accuracy_object(k, 64);
    }
    run("accuracy", "--profile", V100_PROFILE, NULL);
    assert_bad_input("--measured and --multi", NULL, NULL);
    run("accuracy", "--profile", "traces/h100/profile.json", "--multi",
        "traces/h100/colocations-multi.jsonl", NULL);
    assert_bad_input("--multi needs --train", NULL, NULL);
    run("accuracy", "--profile", V100_PROFILE, "--measured", V100_MEASURED,
        "--hold-out-share", "33", NULL);
    assert_bad_input("--hold-out-share", "got 33", NULL);
}

static void test_fit_writes_a_fitted_model_others_accept(void **state)
{
    (void)state;
    char *out = tu_write_temp("fitted.json", "");
    assert_int_equal(run("fit", "--profile", V100_AUTHORS, "--out", out,
                         NULL), 0);
    assert_int_equal(run("plan", "--profile", out, "--workloads",
                         "experiments/paper-example.json", NULL), 0);
    assert_contains(res.out, "vgg19          6     37.5");
    free(out);
}

static void test_bad_workloads(void **state)
{
    (void)state;
    static const struct {
        const char *text, *f1, *f2;
    } cases[] = {
        {"{\"workloads\":[{\"name\":\"W1\",\"model\":\"alexnet\",\"slo_ms\":15,"
         "\"rate_rps\":-5}]}", "workloads[0].rate_rps", "got -5"},
        {"{\"workloads\":[{\"name\":\"W1\",\"model\":\"alexnet\",\"slo_ms\":0,"
         "\"rate_rps\":5}]}", "workloads[0].slo_ms", "got 0"},
        {"{\"workloads\":[{\"name\":\"W1\",\"model\":\"bert\",\"slo_ms\":10,"
         "\"rate_rps\":5}]}", "workloads[0].model", "got \"bert\""},
        {"{\"workloads\":[{\"name\":\"W1\",\"model\":\"alexnet\","
         "\"rate_rps\":5}]}", "workloads[0].slo_ms", "missing"},
        {"{\"workloads\":[{\"name\":\"W1\",\"model\":\"alexnet\",\"slo_ms\":10,"
         "\"rate_rps\":\"fast\"}]}", "rate_rps", "got \"fast\""},
        {"{\"workloads\": [\n  {\"name\": \"W1\",, }\n]}", ":2:", "valid JSON"},
        {"{\"workloads\":[]}", "workloads", "empty"},
    };
    char *out = tu_write_temp("never.json", "");
    unlink(out);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%zu.json", i);
        char *w = tu_write_temp(name, cases[i].text);
        run("plan", "--profile", V100_PROFILE, "--workloads", w, "--out", out,
            NULL);
        assert_bad_input(w, cases[i].f1, cases[i].f2);
        assert_false(tu_exists(out));
        free(w);
    }
    run("plan", "--profile", V100_PROFILE, "--workloads", "/nonexistent/w.json",
        NULL);
    assert_bad_input("cannot open '/nonexistent/w.json'",
                     "No such file or directory", NULL);
    free(out);
}

static void test_bad_profiles(void **state)
{
    (void)state;
    /* the V100 profile with one field removed or broken */
    char text[8192];
    slurp(V100_AUTHORS, text, sizeof text);
    char *cut = strstr(text, "{\"vgg19\": {\"kernel\": 29}}");
    assert_non_null(cut);
    memset(cut, ' ', strlen("{\"vgg19\": {\"kernel\": 29}}"));
    char *p = tu_write_temp("nokernel.jsonl", text);
    run("plan", "--profile", p, "--workloads", "experiments/paper-example.json",
        NULL);
    assert_bad_input(p, "vgg19.kernel", "missing");
    free(p);
    slurp(V100_AUTHORS, text, sizeof text);
    cut = strstr(text, "\"maxGPUpower\": 300");
    memcpy(cut, "\"maxGPUpower\": -30", 18);
    p = tu_write_temp("negpower.jsonl", text);
    run("fit", "--profile", p, NULL);
    assert_bad_input(p, "hardware.maxGPUpower", "got -30");
    free(p);
    p = tu_write_temp("broken.jsonl", "{\"hardware\": {\"idlepower\": 53.5}}\n"
                                      "{\"hardware\": {\"power\": [1, 2,}}\n");
    run("fit", "--profile", p, NULL);
    assert_bad_input(p, ":2:", "valid JSON");
    free(p);
    run("fit", "--profile", "/nonexistent.json", NULL);
    assert_bad_input("cannot open '/nonexistent.json'", NULL, NULL);
}

static void test_bad_predict_input(void **state)
{
    (void)state;
    run("predict", "--profile", V100_PROFILE, "--colocate", "bert:4:10", NULL);
    assert_bad_input("bert:4:10", "model", "alexnet, resnet50, vgg19, ssd");
    run("predict", "--profile", V100_PROFILE, "--colocate", "alexnet:0:10",
        NULL);
    assert_bad_input("batch", "'0'", NULL);
    run("predict", "--profile", V100_PROFILE, "--colocate", "alexnet:4:60",
        "--colocate", "vgg19:4:60", NULL);
    assert_bad_input("at most 100", "got 120", NULL);
    char *in = tu_write_temp("bad.jsonl",
        "{\"colocate\":[{\"model\":\"alexnet\",\"batch\":4,\"resource_pct\":10}]}\n"
        "{\"colocate\":[{\"model\":\"alexnet\",\"batch\":-1,\"resource_pct\":10}]}\n");
    char *out = tu_write_temp("pred.out", "");
    unlink(out);
    run("predict", "--profile", V100_PROFILE, "--input", in, "--out", out,
        NULL);
    assert_bad_input(":2:", "colocate[0].batch", "got -1");
    assert_false(tu_exists(out));   /* line 1 was fine: still nothing written */
    free(in);
    free(out);
}

static void test_unwritable_output(void **state)
{
    (void)state;
    run("plan", "--profile", V100_PROFILE, "--workloads",
        "experiments/paper-example.json", "--out", "/nonexistent-dir/p.json",
        NULL);
    assert_int_equal(res.status, 2);
    assert_contains(res.err, "cannot write '/nonexistent-dir/p.json'");
    /* a read-only directory: the temporary cannot be made; nothing left */
    char dir[64];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    chmod(dir, 0555);
    char path[128];
    snprintf(path, sizeof path, "%s/plan.json", dir);
    run("plan", "--profile", V100_PROFILE, "--workloads",
        "experiments/paper-example.json", "--out", path, NULL);
    if (geteuid() != 0) {   /* root writes anywhere */
        assert_int_equal(res.status, 2);
        assert_contains(res.err, "cannot write");
    }
    assert_true(no_leftovers(dir, "plan.json.tmp") &&
                no_leftovers(dir, ".plan.json.tmp"));
    unlink(path);
    chmod(dir, 0755);
}

static void test_unservable_is_a_clear_error(void **state)
{
    (void)state;
    char *w = tu_write_temp("tight.json",
        "{\"workloads\":[{\"name\":\"fast\",\"model\":\"resnet50\","
        "\"slo_ms\":2,\"rate_rps\":100}]}");
    run("plan", "--profile", V100_PROFILE, "--workloads", w, NULL);
    assert_bad_input("\"fast\"", "slo_ms", "cannot be met");
    free(w);
}

static void test_sim_demo_and_plan_file(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    assert_int_equal(run("sim", "experiments/paper-example.json", "--out", dir,
                         "--duration-s", "20", NULL), 0);
    assert_contains(res.out, "vgg19          6     37.5");
    assert_contains(res.out, "SLO violations:");
    assert_contains(res.out, "1 x V100, $3.06 per hour");
    char text[65536];
    slurp_in(dir, "summary.json", text, sizeof text);
    assert_contains(text, "\"complete\": true");
    assert_contains(text, "\"backend\": \"measured\"");
    /* a plan file and a profile, with options instead of an experiment */
    char plan[128];
    snprintf(plan, sizeof plan, "%s/plan.json", dir);
    assert_int_equal(run("plan", "--profile", V100_PROFILE, "--workloads",
                         "experiments/paper-12.json", "--out", plan, NULL), 0);
    assert_int_equal(run("sim", "--plan", plan, "--profile", V100_PROFILE,
                         "--out", dir, "--duration-s", "5", "--arrivals",
                         "gamma:2", "--trace", "100", "--quiet", NULL), 0);
    slurp_in(dir, "trace.json", text, sizeof text);
    assert_contains(text, "\"traceEvents\"");
    slurp_in(dir, "summary.json", text, sizeof text);
    assert_contains(text, "\"W12\": {\"kind\": \"gamma\"");
}

static void test_sim_bad_input(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char out[160];
    snprintf(out, sizeof out, "%s/out", dir);
    run("sim", "experiments/paper-example.json", "--out", out, "--backend",
        "oracle", NULL);
    assert_bad_input("--backend", "fixed, model, measured", "'oracle'");
    run("sim", "experiments/paper-example.json", "--out", out,
        "--duration-s", "-3", NULL);
    assert_bad_input("--duration-s", "'-3'", NULL);
    char *bad = tu_write_temp("badtrace.csv", "0.5\n0.7\nsoon\n");
    char spec[160];
    snprintf(spec, sizeof spec, "replay:%s", bad);
    run("sim", "experiments/paper-example.json", "--out", out, "--arrivals",
        spec, NULL);
    assert_bad_input(bad, ":3:", "'soon'");
    char *e = tu_write_temp("exp.json",
        "{\"profile\": \"" V100_PROFILE "\", \"duration_s\": 0,"
        " \"workloads\": []}");
    run("sim", e, "--out", out, NULL);
    assert_bad_input(e, "duration_s", "got 0");
    char cwd[512], text[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"workloads\": "
             "[{\"name\": \"a\", \"model\": \"bert\", \"slo_ms\": 10, "
             "\"rate_rps\": 10}]}", cwd);
    char *e2 = tu_write_temp("exp2.json", text);
    run("sim", e2, "--out", out, NULL);
    assert_bad_input("workloads[0].model", "\"bert\"", NULL);
    /* nothing was written for any of them */
    struct stat st;
    assert_true(stat(out, &st) != 0 ||
                (no_leftovers(out, "s") && no_leftovers(out, "w") &&
                 no_leftovers(out, "t") && no_leftovers(out, ".s") &&
                 no_leftovers(out, ".t")));
    run("sim", "experiments/paper-example.json", "--out",
        "/proc/igniter/out", NULL);
    assert_bad_input("cannot create", "/proc/igniter", NULL);
    free(bad);
    free(e);
    free(e2);
}

/* igniter serve on a machine without the GPU library (CI: no `make
 * capture`): one clear message, exit 1, nothing written; bad input is
 * still found first (exit 2), and sim's options are refused. */
static void test_serve_without_gpu(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char out[160];
    snprintf(out, sizeof out, "%s/out", dir);
    setenv("IGNITER_GPU_LIB", "/nonexistent/libigniter-gpu.so", 1);
    run("serve", "--plan", "experiments/validation/plans/example-igniter.json",
        "--out", out, "--duration-s", "5", NULL);
    assert_int_equal(res.status, 1);
    assert_contains(res.err, "igniter serve: the GPU library");
    assert_contains(res.err, "/nonexistent/libigniter-gpu.so");
    assert_contains(res.err, "make capture");
    assert_false(tu_exists(out));
    run("serve", "--plan", "no/such/plan.json", "--out", out, NULL);
    assert_bad_input("no/such/plan.json", NULL, NULL);
    run("serve", "--plan", "experiments/validation/plans/example-igniter.json",
        "--out", out, "--backend", "fixed", NULL);
    assert_bad_input("--backend", "igniter sim", NULL);
    run("sim", "experiments/paper-example.json", "--out", out, "--gpu", "1",
        NULL);
    assert_bad_input("--gpu", "igniter serve", NULL);
    run("serve", "--plan", "experiments/validation/plans/example-igniter.json",
        "--out", out, "--mechanism", "tpu", NULL);
    assert_bad_input("--mechanism", "'tpu'", NULL);
    unsetenv("IGNITER_GPU_LIB");
    assert_false(tu_exists(out));
}

/* Ctrl-C: the simulation stops at the current simulated time, writes what
 * it has with "complete": false, and exits 130. */
/* Ctrl-C, a kill and a closed terminal (SIGINT, SIGTERM, SIGHUP) stop a
 * run the same way: exit 130, the results so far written and marked
 * incomplete, no temporary file left behind. */
static void test_sim_signals_keep_results(void **state)
{
    (void)state;
    const char *bin = getenv("IGNITER_BIN");
    if (!bin)
        bin = "build/igniter";
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        const char *dir = tu_tmpdir();
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            dup2(fd, 2);
            execl(bin, bin, "sim", "experiments/paper-example.json", "--out",
                  dir, "--duration-s", "1000000", "--quiet", "--trace", "100",
                  (char *)NULL);
            _exit(127);
        }
        struct timespec half = {0, 500000000};
        nanosleep(&half, NULL);
        kill(pid, sigs[i]);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 130);
        char text[65536];
        slurp_in(dir, "summary.json", text, sizeof text);
        assert_contains(text, "\"complete\": false");
        slurp_in(dir, "workloads.csv", text, sizeof text);
        assert_contains(text, "workload,model");
        assert_true(no_leftovers(dir, ".timeseries.csv.tmp") &&
                    no_leftovers(dir, ".trace.json.tmp"));
    }
}

/* compare: every listed policy over the seeds; the summary has one row per
 * policy and workload plus an "all" row with finite means, and is the same,
 * byte for byte, whether the runs go one at a time or two in parallel. */
static void test_compare_summary_is_complete_and_deterministic(void **state)
{
    (void)state;
    char cwd[512], text[2048];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"backend\": "
             "\"measured\", \"measured\": \"%s/traces/v100/"
             "measured-colocation.jsonl\", \"duration_s\": 8, "
             "\"warmup_s\": 1, \"seed\": 3, \"seeds\": 2, "
             "\"policies\": [\"igniter\", \"gpulets\", \"exclusive\"], "
             "\"workloads\": ["
             "{\"name\": \"a\", \"model\": \"alexnet\", \"slo_ms\": 15, "
             "\"rate_rps\": 500},"
             "{\"name\": \"r\", \"model\": \"resnet50\", \"slo_ms\": 40, "
             "\"rate_rps\": 400}]}", cwd, cwd);
    char *e = tu_write_temp("cmp.json", text);
    const char *dir = tu_tmpdir();
    char d1[160], d2[160], p1[192], p2[192];
    snprintf(d1, sizeof d1, "%s/one", dir);
    snprintf(d2, sizeof d2, "%s/two", dir);
    assert_int_equal(run("compare", e, "--out", d1, "--jobs", "1",
                         "--no-figures", NULL), 0);
    assert_int_equal(run("compare", e, "--out", d2, "--jobs", "2",
                         "--no-figures", NULL), 0);
    snprintf(p1, sizeof p1, "%s/summary.csv", d1);
    snprintf(p2, sizeof p2, "%s/summary.csv", d2);
    static char s1[65536], s2[65536];
    slurp(p1, s1, sizeof s1);
    slurp(p2, s2, sizeof s2);
    assert_string_equal(s1, s2);
    int lines = 0;
    for (const char *c = s1; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1 + 3 * 3);
    static const char *pol[] = {"igniter", "gpulets", "exclusive"};
    for (int i = 0; i < 3; i++) {
        char key[64];
        /* runs 2 of seeds 2: complete */
        snprintf(key, sizeof key, "\n%s,all,2,2,", pol[i]);
        const char *row = strstr(s1, key);
        assert_non_null(row);
        /* violation, ci, p99, ci, mean: the mean is a number, not nan */
        const char *f = row + strlen(key);
        for (int k = 0; k < 4; k++)
            f = strchr(f, ',') + 1;
        double mean = strtod(f, NULL);
        assert_true(mean > 0 && mean < 40);
        snprintf(key, sizeof key, "\n%s,r,2,2,", pol[i]);
        assert_non_null(strstr(s1, key));
    }
    free(e);
}

/* derive: a synthetic capture into the four files, which fit, accuracy,
 * predict and plan then read; bad input is one line and exit 2. */
static void test_derive_and_use(void **state)
{
    (void)state;
    char *text = tu_synth_raw(NULL, TU_SYNTH_END);
    char *raw = tu_write_temp("capture-raw.jsonl", text);
    free(text);
    char dir[128], prof[160], held[160], multi[160], plan_w[160];
    snprintf(dir, sizeof dir, "%s/h100", tu_tmpdir());
    assert_int_equal(run("derive", raw, "--out", dir, "--price", "4.5", NULL),
                     0);
    assert_contains(res.out, "H100, 2 models");
    assert_contains(res.out, "4 fitting pairs");
    assert_contains(res.out, "2 held-out pairs");
    assert_contains(res.out, "1 held-out runs");
    assert_contains(res.out, "fit: ok");
    snprintf(prof, sizeof prof, "%s/profile.json", dir);
    snprintf(held, sizeof held, "%s/measured-heldout.jsonl", dir);
    snprintf(multi, sizeof multi, "%s/colocations-multi.jsonl", dir);
    assert_int_equal(run("fit", "--profile", prof, NULL), 0);
    assert_contains(res.out, "\"share_unit_pct\": 6.06060606");
    assert_int_equal(run("accuracy", "--profile", prof, "--measured", held,
                         "--json", NULL), 0);
    assert_contains(res.out, "\"igniter\":{\"latencies\":4,");
    /* too few pairs to fit the learned predictors on: left out */
    assert_true(strstr(res.out, "\"learned\"") == NULL);
    assert_int_equal(run("predict", "--profile", prof, "--input", multi,
                         NULL), 0);
    assert_contains(res.out, "{\"latency_ms\":[");
    /* shares in 8-SM units of 132 SMs plan like any others */
    char *w = tu_write_temp("h100-w.json",
        "{\"workloads\":[{\"name\":\"a\",\"model\":\"alpha\",\"slo_ms\":10,"
        "\"rate_rps\":800},{\"name\":\"b\",\"model\":\"beta\",\"slo_ms\":30,"
        "\"rate_rps\":300}]}");
    snprintf(plan_w, sizeof plan_w, "%s", w);
    assert_int_equal(run("plan", "--profile", prof, "--workloads", plan_w,
                         NULL), 0);
    assert_contains(res.out, "1 x H100 at $4.500/h");
    /* bad input: one line, exit 2, nothing written */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/never", tu_tmpdir());
    run("derive", "/nonexistent/raw.jsonl", "--out", bad, NULL);
    assert_bad_input("igniter derive: cannot open '/nonexistent/raw.jsonl'",
                     "No such file or directory", NULL);
    assert_false(tu_exists(bad));
    text = tu_synth_raw("pair_self", TU_SYNTH_END);
    char *nopair = tu_write_temp("nopair.jsonl", text);
    free(text);
    run("derive", nopair, "--out", bad, NULL);
    assert_bad_input(nopair, "alpha: expected a \"pair_self\" record",
                     "step pair_self");
    assert_false(tu_exists(bad));
    run("derive", raw, NULL);
    assert_bad_input("--out is required", NULL, NULL);
    run("derive", raw, "--out", bad, "--price", "free", NULL);
    assert_bad_input("--price", "'free'", NULL);
    free(nopair);
    free(w);
    free(raw);
}

/* Writes text to dir/name (dir exists). */
static void put(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Experiment files (issue 14): the top-level arrivals' replay path is the
 * experiment file's, relative to its folder, even when the workloads come
 * from a file in another folder (it was read from the workloads file's
 * folder); a policy named twice in `policies`, and a plan file beside a
 * policy, are errors naming the file and the field, no longer taken
 * silently. And `--out ""` is an error (ut_mkdir_p read the byte before
 * its buffer). */
static void test_experiment_files(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    char cwd[512], sub[600], text[2048], exp[600], out[600];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    put(dir, "trace.csv", "0\n0.01\n0.03\n0.04\n0.1\n");
    put(sub, "workloads.json",
        "{\"workloads\": [{\"name\": \"a\", \"model\": \"alexnet\", "
        "\"slo_ms\": 15, \"rate_rps\": 100}]}");
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"duration_s\": 2,"
             " \"arrivals\": {\"kind\": \"replay\", \"path\": "
             "\"trace.csv\", \"loop\": true},"
             " \"workloads\": \"sub/workloads.json\"}", cwd);
    put(dir, "exp.json", text);
    snprintf(exp, sizeof exp, "%s/exp.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    if (run("sim", exp, "--out", out, "--quiet", NULL) != 0)
        fail_msg("exit %d: %s", res.status, res.err);
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"policies\": "
             "[\"igniter\", \"ffd\", \"igniter\"], \"workloads\": "
             "\"sub/workloads.json\"}", cwd);
    put(dir, "twice.json", text);
    snprintf(exp, sizeof exp, "%s/twice.json", dir);
    run("compare", exp, "--out", out, NULL);
    assert_bad_input(exp, "policies[2]", "\"igniter\" again (also [0])");
    snprintf(text, sizeof text,
             "{\"profile\": \"%s/" V100_PROFILE "\", \"policy\": \"ffd\","
             " \"plan\": \"%s/experiments/validation/plans/"
             "example-igniter.json\", \"workloads\": "
             "\"sub/workloads.json\"}", cwd, cwd);
    put(dir, "both.json", text);
    snprintf(exp, sizeof exp, "%s/both.json", dir);
    run("sim", exp, "--out", out, NULL);
    assert_bad_input(exp, "policy: expected no policy beside a plan file",
                     NULL);
    run("sim", "experiments/paper-example.json", "--out", "", NULL);
    assert_bad_input("cannot create ''", "expected a directory name", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_plans_the_published_example),
        cmocka_unit_test(test_plan_json_and_out),
        cmocka_unit_test(test_every_verb_has_help),
        cmocka_unit_test(test_predict_colocate_and_input),
        cmocka_unit_test(test_accuracy_reports_error),
        cmocka_unit_test(test_fit_writes_a_fitted_model_others_accept),
        cmocka_unit_test(test_bad_workloads),
        cmocka_unit_test(test_bad_profiles),
        cmocka_unit_test(test_bad_predict_input),
        cmocka_unit_test(test_unwritable_output),
        cmocka_unit_test(test_unservable_is_a_clear_error),
        cmocka_unit_test(test_sim_demo_and_plan_file),
        cmocka_unit_test(test_sim_bad_input),
        cmocka_unit_test(test_serve_without_gpu),
        cmocka_unit_test(test_sim_signals_keep_results),
        cmocka_unit_test(test_compare_summary_is_complete_and_deterministic),
        cmocka_unit_test(test_derive_and_use),
        cmocka_unit_test(test_experiment_files),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
