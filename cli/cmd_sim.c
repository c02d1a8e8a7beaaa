/*
 * cmd_sim.c - `igniter sim` and `igniter serve`: plan (or read a plan),
 * then simulate it or run it on the GPU, and report. Both verbs take the
 * same options for the plan, workloads and arrivals, so that a real run
 * and its simulation are asked for with the same words.
 */
#include "cli/cli.h"
#include "lab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char sim_help[] =
    "usage: igniter sim EXPERIMENT.json --out DIR [options]\n"
    "       igniter sim --plan PLAN.json --profile P --out DIR [options]\n\n"
    "Replays arrivals against a provisioning plan in a discrete-event\n"
    "simulation (dynamic batching, overlap-aware interference) and writes\n"
    "summary.json, workloads.csv, cdf.csv, timeseries.csv (and trace.json)\n"
    "into DIR.\n"
    "An experiment file names the profile, the policy or plan, the workloads\n"
    "with their arrivals, the back end, duration, warm-up and seed (see\n"
    "README.md); options given here override it.\n\n"
    "  --out DIR           output folder (created if missing)\n"
    "  --plan PLAN.json    a plan file (igniter plan --out)\n"
    "  --profile P         profile or fitted model (the model back end; the\n"
    "                      GPU price); not needed with --plan and a measured\n"
    "                      back end\n"
    "  --backend NAME      fixed | model | measured | measured-mean |\n"
    "                      measured-solo (default model); measured draws\n"
    "                      each batch's service time from the measured\n"
    "                      distribution, measured-mean uses its mean\n"
    "  --measured M        measured co-location data (measured back end)\n"
    "  --mechanism M       green (default: the measured data as captured,\n"
    "                      green contexts) or mps: the measured back ends\n"
    "                      scale it by the MPS correction that igniter\n"
    "                      derive wrote beside it (measured-mps.jsonl in\n"
    "                      the folder of --measured; docs/simulator.md, MPS)\n"
    "  --power FILE        the power model igniter derive wrote from a\n"
    "                      capture's power step (measured-power.json): the\n"
    "                      measured back ends slow the batches of a set that\n"
    "                      draws more than the board holds by the clock it\n"
    "                      then runs at (docs/simulator.md, power cap)\n"
    "  --duration-s D      simulated seconds (default 60)\n"
    "  --warmup-s W        seconds not counted in the statistics (default 0)\n"
    "  --seed N            master seed of every random stream (default 1)\n"
    "  --arrivals SPEC     for every workload: poisson | constant | gamma:CV |\n"
    "                      schedule:T0=F0,T1=F1,... | replay:FILE[:loop]\n"
    "                      (default poisson at each workload's rate)\n"
    "  --interval-s I      timeseries interval (default 1)\n"
    "  --max-delay-ms X    batcher's maximum queue delay for every workload\n"
    "                      (default half of each workload's SLO)\n"
    "  --queue-limit N     requests queued per instance before drops\n"
    "                      (default 10000)\n"
    "  --service-ms X      fixed back end: service time of one batch\n"
    "  --service-dist D    fixed back end: const (default), exp or gamma:CV\n"
    "                      (gamma with that coefficient of variation)\n"
    "  --trace N           also write trace.json with at most N batches\n"
    "  --reconfig-delay-s X  time an instance serves nothing while a runtime\n"
    "                      policy changes it (default 1)\n"
    "  --slowdown WORKLOAD_OR_MODEL:FACTOR[:FROM_S-TO_S]\n"
    "                      every batch of that workload (or of every workload\n"
    "                      of that model) starting in [FROM_S, TO_S) of the\n"
    "                      run (default: all of it) takes FACTOR (0.001 to 1000)\n"
    "                      times what the back end says: interference the\n"
    "                      planner did not predict; repeatable; replaces the\n"
    "                      experiment's \"slowdowns\" (none: no slow-down)\n"
    "  --wake WORKLOAD_OR_MODEL:US\n"
    "                      every batch of that workload that starts on an idle\n"
    "                      instance (nothing running, previous batch ended\n"
    "                      before) takes US (0 to 1e6) microseconds more,\n"
    "                      after the slow-down: a wake-up the planner did not\n"
    "                      predict (MPS workers); repeatable; replaces the\n"
    "                      experiment's \"wakes\" (none: no wake cost)\n"
    "  --sensitivity PCT   then the same run with every batch PCT % (0 to 50)\n"
    "                      shorter and PCT % longer, into DIR/sensitivity/\n"
    "                      x0.97/ and x1.03/ (PCT 3), and each workload's mean,\n"
    "                      P99 and SLO violations at the three in\n"
    "                      DIR/sensitivity.csv: how much the answer hangs on\n"
    "                      batch times the data gets right to a few percent\n"
    "  --quiet             no table on standard output\n";

static const char serve_help[] =
    "usage: igniter serve EXPERIMENT.json --out DIR [options]\n"
    "       igniter serve --plan PLAN.json --out DIR [options]\n\n"
    "Runs a provisioning plan on this machine's GPU: each instance of a plan\n"
    "GPU gets a green context of its share's SMs and the capture runner of\n"
    "its model (FP16, random weights), fed by the simulator's own arrival\n"
    "generation and dynamic batcher. Writes what `igniter sim` writes\n"
    "(summary.json, workloads.csv, timeseries.csv, cdf.csv, trace.json)\n"
    "and requests.csv (every request) into DIR. A plan of several GPUs is\n"
    "run one plan GPU at a time, each with the same arrivals.\n"
    "Needs build/libigniter-gpu.so (`make capture`) and an NVIDIA GPU.\n\n"
    "  --out DIR           output folder (created if missing)\n"
    "  --plan PLAN.json    a plan file (igniter plan --out)\n"
    "  --profile P         profile (only to plan an experiment's policy)\n"
    "  --mechanism M       green (default: green contexts, one process) or\n"
    "                      mps (an MPS daemon, one worker process per\n"
    "                      instance at its share of the threads)\n"
    "  --gpu N             run only plan GPU N\n"
    "  --models-dir D      the runner's layer graphs (default\n"
    "                      capture/models)\n"
    "  --poll-us U         wait between polls of a running batch (default 0:\n"
    "                      poll continuously, one core)\n"
    "  --duration-s D      seconds per plan GPU (default 60)\n"
    "  --warmup-s W        seconds not counted in the statistics (default 0)\n"
    "  --seed N            master seed of every random stream (default 1)\n"
    "  --arrivals SPEC     as for igniter sim (default poisson)\n"
    "  --interval-s I      timeseries interval (default 1)\n"
    "  --max-delay-ms X    batcher's maximum queue delay (default SLO/2)\n"
    "  --queue-limit N     requests queued per instance before drops\n"
    "  --trace N           also write trace.json with at most N batches\n"
    "  --reconfig-delay-s X  a runtime policy's change that is not hot\n"
    "                      holds its instance at least X s (default: the\n"
    "                      experiment's, else 0: only what the GPU takes)\n"
    "  --quiet             no table on standard output\n\n"
    "A policy with a runtime hook (igniter-sg, gslice) is called every\n"
    "interval as in igniter sim; its changes on the plan GPU being served are\n"
    "made on the GPU (a new partition or MPS worker for the instance), the\n"
    "others (another plan GPU, a new GPU) are logged as not applied. Every\n"
    "change is a row of reconfig.csv, with the time the GPU took.\n\n"
    "Each instance is prepared at every batch up to its own before the\n"
    "clock starts. cuDNN's algorithm choices are loaded from and saved to\n"
    "build/cudnn-algos.txt ($IGNITER_ALGO_CACHE; empty: none);\n"
    "IGNITER_ALGO_COARSE=1 searches only at powers of two and at the\n"
    "instance's batch (a batch between runs the choice below it). On an\n"
    "H200, a plan at batches up to 71 took 42-95 s with it, its two or\n"
    "three plan GPUs served 12 s each included; without it, one plan GPU\n"
    "had not started after 6 minutes.\n\n"
    "Exit status: 0 complete; 130 interrupted (Ctrl-C: the results so far\n"
    "are written, \"complete\": false); 1 a device error during the run\n"
    "(the same); 2 bad input, before anything runs.\n";

typedef struct progress {
    int tty;
    struct timespec t0, last;
} progress;

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

/* A progress line on a terminal, at most twice a second: simulated time,
 * simulated requests per second of wall time, time left. */
static void show_progress(void *ud, int64_t now, int64_t end, uint64_t reqs)
{
    progress *p = ud;
    if (!p->tty)
        return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (since(&p->last, &t) < 0.5)
        return;
    p->last = t;
    double wall = since(&p->t0, &t), frac = (double)now / (double)end;
    double eta = frac > 0 ? wall * (1 - frac) / frac : 0;
    fprintf(stderr, "\r[%-30.*s] %5.1f%%  sim %.1f / %.1f s  %.2f M req/s  "
            "ETA %.0f s ", (int)(30 * frac), "##############################",
            100 * frac, (double)now / 1e9, (double)end / 1e9,
            wall > 0 ? (double)reqs / wall / 1e6 : 0, eta);
}

/* backend NULL: a real run (igniter serve). */
static void print_report(const fe_result *r, const pol_plan *p,
                         const char *backend, const char *out)
{
    if (!backend)
        printf("\nran %.1f s%s per plan GPU on this machine's GPU; results "
               "in %s/\n", r->sim_end_s,
               r->complete ? "" : " (stopped early: incomplete)", out);
    else
        printf("\nsimulated %.1f s%s with the %s back end; results in %s/\n",
               r->sim_end_s, r->complete ? "" : " (stopped early: incomplete)",
               backend, out);
    printf("%-12s %-10s %9s %10s %10s %10s %8s %9s\n", "workload", "model",
           "requests", "mean ms", "P99 ms", "SLO ms", "viol %", "dropped");
    uint64_t judged = 0;
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *s = &r->w[w];
        char mean[16] = "-", p99[16] = "-";
        if (s->lat.count) {   /* nothing completed: no latency to show */
            snprintf(mean, sizeof mean, "%.2f", fe_hist_mean(&s->lat) / 1e6);
            snprintf(p99, sizeof p99, "%.2f",
                     (double)fe_hist_quantile(&s->lat, 0.99) / 1e6);
        }
        printf("%-12.12s %-10.10s %9llu %10s %10s %10.1f %8.2f %9llu\n",
               s->name, s->model, (unsigned long long)s->arrived, mean, p99,
               s->slo_ms, fe_violation_pct(s),
               (unsigned long long)s->dropped);
        judged += s->completed + s->late_end + s->dropped;
    }
    /* the cost as every output gives it (fe_cost_per_hour); the GPUs the
     * run used, and the plan's where a runtime policy added some */
    char planned[64] = "";
    if (r->ngpus != p->ngpus)
        snprintf(planned, sizeof planned, " (%zu planned, $%.2f per hour)",
                 p->ngpus, p->cost_per_hour);
    printf("\nSLO violations: %.2f %% of %llu requests; %zu x %s%s, $%.2f per "
           "hour on average ($%.4f for the simulated time)\n",
           fe_total_violation_pct(r), (unsigned long long)judged, r->ngpus,
           p->gpu_type, planned, fe_cost_per_hour(r), r->cost);
}

/* Each workload's mean latency, P99 and violations at batch times
 * 1 - pct, 1 and 1 + pct (lab_sensitivity). */
static void print_sensitivity(const fe_result *r, const fe_result var[2],
                              double pct, const char *out)
{
    printf("\nsensitivity: every batch %g %% shorter / as simulated / %g %% "
           "longer (%s/sensitivity.csv)\n", pct, pct, out);
    printf("%-12s %26s %26s %26s\n", "workload", "mean ms", "P99 ms",
           "viol %");
    const fe_result *rs[3] = {&var[0], r, &var[1]};
    for (size_t w = 0; w < r->nw; w++) {
        char col[3][32];
        for (int m = 0; m < 3; m++) {
            double v[3];
            for (int k = 0; k < 3; k++) {
                const fe_wstats *s = &rs[k]->w[w];
                v[k] = m == 2 ? fe_violation_pct(s)
                     : !s->lat.count ? NAN
                     : m == 0 ? fe_hist_mean(&s->lat) / 1e6
                     : (double)fe_hist_quantile(&s->lat, 0.99) / 1e6;
            }
            snprintf(col[m], sizeof col[m], "%.2f / %.2f / %.2f", v[0],
                     v[1], v[2]);
        }
        printf("%-12.12s %26s %26s %26s\n", r->w[w].name, col[0], col[1],
               col[2]);
    }
    printf("all SLO violations: %.2f / %.2f / %.2f %%\n",
           fe_total_violation_pct(&var[0]), fe_total_violation_pct(r),
           fe_total_violation_pct(&var[1]));
}

static void print_serve(const srv_stats *st)
{
    const fe_hist *h = &st->lateness;
    printf("load generator lateness: mean %.3f ms, P99 %.3f ms, max %.3f ms "
           "over %llu arrivals; %llu batches; %zu plan GPU%s run\n",
           fe_hist_mean(h) / 1e6, (double)fe_hist_quantile(h, 0.99) / 1e6,
           (double)(h->count ? h->max : 0) / 1e6,
           (unsigned long long)h->count, (unsigned long long)st->launches,
           st->passes, st->passes == 1 ? "" : "s");
}

/*
 * --mechanism mps in a simulation: the MPS correction that igniter derive
 * wrote beside the measured data (DIR/measured-mps.jsonl) attached to it,
 * so that the measured back ends' solo and co-located latencies are MPS's
 * (model/mps.c). It is applied where the back end fills its caches, not
 * per batch. The run records it in summary.json ("mechanism",
 * "measured_mps") and its hash covers the file. Errors: a back end that
 * does not read measured data, data without MPS records (naming its
 * folder), a plan model the correction does not cover.
 */
static int attach_mps(lab_prepared *p, mdl_mps *mps, char **json,
                      ut_err *err)
{
    const char *be = p->cfg.backend, *meas = p->cfg.run.measured_path;
    if (!be || strncmp(be, "measured", 8))
        return ut_errf(err, "--mechanism mps: expected a measured back end "
                       "(measured, measured-mean, measured-solo), got %s",
                       be ? be : "none");
    if (!meas || !p->have_meas)
        return ut_errf(err, "--mechanism mps: expected measured data "
                       "(--measured), got none");
    char dir[UT_PATH_MAX], path[UT_PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", meas);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(path, sizeof path, "%s/%s", dir, "measured-mps.jsonl");
    struct stat st;
    if (stat(path, &st) < 0)
        return ut_errf(err, "%s: --mechanism mps: expected MPS data "
                       "(measured-mps.jsonl), got none; derive it from a "
                       "capture with MPS records (igniter-capture mps): "
                       "igniter derive RAW.jsonl [--mps MPS.jsonl] --out %s",
                       dir, dir);
    if (mdl_mps_load(path, &p->meas, mps, err) < 0)
        return -1;
    for (size_t g = 0; g < p->plan.ngpus; g++)
        for (size_t i = 0; i < p->plan.gpus[g].n; i++) {
            const char *model = p->plan.gpus[g].inst[i].model;
            int k = mdl_measured_find(&p->meas, model);
            if (k >= 0 && !mps->models[k].has)
                return ut_errf(err, "%s: expected MPS data for every model "
                               "of the plan, got none for \"%s\"", path,
                               model);
        }
    p->meas.mps = mps;
    ut_buf b = {0};
    ut_buf_printf(&b, "\"mechanism\": \"mps\",\n  \"measured_mps\": ");
    ut_buf_json_str(&b, path);
    *json = b.s;
    p->cfg.run.extra_json = b.s;
    lab_hash_mix_file(p->input_hash, path);
    return 0;
}

/* A --slowdown (wake 0) or --wake (wake 1) value: checked here, resolved
 * against the run's workloads later ("none": clears the list there), and
 * kept in list[*n] (max at most); a usage error's status, else 0. */
static int keep_spec(const char *verb, int wake, const char *spec,
                     const char **list, size_t *n, size_t max)
{
    const char *opt = wake ? "--wake" : "--slowdown";
    if (*n == max)
        return cli_usage(verb, "%s: expected at most %zu, got more", opt,
                         max);
    if (strcmp(spec, "none")) {
        char where[160];
        snprintf(where, sizeof where, "%s '%.120s'", opt, spec);
        const char *t;
        size_t tl;
        ut_err e;
        fe_slowdown sd;
        double us;
        if ((wake ? fe_wake_parse(spec, where, &t, &tl, &us, &e)
                  : fe_slowdown_parse(spec, where, &t, &tl, &sd, &e)) < 0)
            return cli_usage(verb, "%s", e.msg);
    }
    list[(*n)++] = spec;
    return 0;
}

static int run_verb(int argc, char **argv, int serve)
{
    const char *verb = serve ? "serve" : "sim";
    if (cli_help(argc, argv, serve ? serve_help : sim_help))
        return 0;
    enum { O_OUT = 256, O_PLAN, O_PROFILE, O_BACKEND, O_MEAS, O_DUR, O_WARM,
           O_SEED, O_ARR, O_IV, O_DELAY, O_QLIM, O_SVC, O_SDIST, O_TRACE,
           O_QUIET, O_RECONF, O_MECH, O_GPU, O_MDIR, O_POLL, O_SLOW, O_WAKE,
           O_SENS, O_POWER };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT},
        {"plan", required_argument, NULL, O_PLAN},
        {"profile", required_argument, NULL, O_PROFILE},
        {"backend", required_argument, NULL, O_BACKEND},
        {"measured", required_argument, NULL, O_MEAS},
        {"duration-s", required_argument, NULL, O_DUR},
        {"warmup-s", required_argument, NULL, O_WARM},
        {"seed", required_argument, NULL, O_SEED},
        {"arrivals", required_argument, NULL, O_ARR},
        {"interval-s", required_argument, NULL, O_IV},
        {"max-delay-ms", required_argument, NULL, O_DELAY},
        {"queue-limit", required_argument, NULL, O_QLIM},
        {"service-ms", required_argument, NULL, O_SVC},
        {"service-dist", required_argument, NULL, O_SDIST},
        {"trace", required_argument, NULL, O_TRACE},
        {"quiet", no_argument, NULL, O_QUIET},
        {"reconfig-delay-s", required_argument, NULL, O_RECONF},
        {"mechanism", required_argument, NULL, O_MECH},
        {"gpu", required_argument, NULL, O_GPU},
        {"models-dir", required_argument, NULL, O_MDIR},
        {"poll-us", required_argument, NULL, O_POLL},
        {"slowdown", required_argument, NULL, O_SLOW},
        {"wake", required_argument, NULL, O_WAKE},
        {"sensitivity", required_argument, NULL, O_SENS},
        {"power", required_argument, NULL, O_POWER},
        {NULL, 0, NULL, 0},
    };
    /* options of one verb only */
    static const int sim_only[] = {O_BACKEND, O_MEAS, O_SVC, O_SDIST,
                                   O_SLOW, O_WAKE, O_SENS, O_POWER};
    static const int serve_only[] = {O_GPU, O_MDIR, O_POLL};
    const char *out = NULL, *plan_path = NULL, *profile = NULL,
               *backend = NULL, *measured = NULL, *arrivals = NULL,
               *sdist = NULL, *mech = NULL, *mdir = NULL, *power = NULL;
    double dur = -1, warm = -1, iv = -1, delay = -1, svc = -1, reconf = -1,
           poll_us = 0, sens = 0;
    long long seed = -1, qlim = -1, trace = 0, only_gpu = -1;
    int quiet = 0, c;
    const char *slow[64];    /* the --slowdown values, in order */
    size_t nslow = 0;
    const char *wake[64];    /* the --wake values, in order */
    size_t nwake = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        const char *oname = "option";
        for (const struct option *o = opts; o->name; o++)
            if (o->val == c)
                oname = o->name;
        const int *other = serve ? sim_only : serve_only;
        size_t nother = serve ? sizeof sim_only / sizeof *sim_only
                              : sizeof serve_only / sizeof *serve_only;
        for (size_t k = 0; k < nother; k++)
            if (c == other[k])
                return cli_usage(verb, "--%s: an option of igniter %s, not "
                                 "of igniter %s", oname,
                                 serve ? "sim" : "serve", verb);
        errno = 0;
        switch (c) {
        case O_MECH: mech = optarg; break;
        case O_POWER: power = optarg; break;
        case O_MDIR: mdir = optarg; break;
        case O_POLL: {
            double v = strtod(optarg, &end);
            if (*end || errno || !isfinite(v) || v < 0 || v > 1e6)
                return cli_usage(verb, "--poll-us: expected microseconds in "
                                 "[0, 1e6], got '%s'", optarg);
            poll_us = v;
            break;
        }
        case O_SENS: {
            double v = strtod(optarg, &end);
            if (*end || errno || !(v > 0 && v <= LAB_MAX_SENSITIVITY))
                return cli_usage(verb, "--sensitivity: expected a "
                                 "percentage in (0, %g], got '%s'",
                                 LAB_MAX_SENSITIVITY, optarg);
            sens = v;
            break;
        }
        case O_GPU: {
            long long v = strtoll(optarg, &end, 10);
            if (*end || errno || v < 0 || v > 100000)
                return cli_usage(verb, "--gpu: expected a plan GPU number, "
                                 "got '%s'", optarg);
            only_gpu = v;
            break;
        }
        case O_OUT: out = optarg; break;
        case O_PLAN: plan_path = optarg; break;
        case O_PROFILE: profile = optarg; break;
        case O_BACKEND: backend = optarg; break;
        case O_MEAS: measured = optarg; break;
        case O_ARR: arrivals = optarg; break;
        case O_SDIST: sdist = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_SLOW:
        case O_WAKE: {
            int wk = c == O_WAKE;
            int rc = keep_spec(verb, wk, optarg, wk ? wake : slow,
                               wk ? &nwake : &nslow,
                               wk ? sizeof wake / sizeof *wake
                                  : sizeof slow / sizeof *slow);
            if (rc)
                return rc;
            break;
        }
        case O_DUR: case O_WARM: case O_IV: case O_DELAY: case O_SVC:
        case O_RECONF: {
            double v = strtod(optarg, &end);
            if (*end || errno || !isfinite(v) || v < 0 ||
                (v == 0 && c != O_WARM && c != O_DELAY && c != O_RECONF))
                return cli_usage(verb, "--%s: expected a positive number, "
                                 "got '%s'", oname, optarg);
            *(c == O_DUR ? &dur : c == O_WARM ? &warm : c == O_IV ? &iv
              : c == O_DELAY ? &delay : c == O_SVC ? &svc : &reconf) = v;
            break;
        }
        case O_SEED: case O_QLIM: case O_TRACE: {
            long long v = strtoll(optarg, &end, 10);
            if (*end || errno || v < 0 || (c == O_QLIM && v == 0) ||
                v > 4294967295LL)
                return cli_usage(verb, "--%s: expected a non-negative "
                                 "integer, got '%s'", oname, optarg);
            *(c == O_SEED ? &seed : c == O_QLIM ? &qlim : &trace) = v;
            break;
        }
        default:
            return cli_bad_option(verb, argv);
        }
    }
    const char *exp_path = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc)
        return cli_usage(verb, "unexpected argument '%s'", argv[optind + 1]);
    if (!out)
        return cli_usage(verb, "--out is required");
    /* a plan on measured data needs no profile: the plan has the price */
    int need_profile = !serve && !(measured && backend &&
                                   strcmp(backend, "model") &&
                                   strcmp(backend, "fixed"));
    if (!exp_path && (!plan_path || (!profile && need_profile)))
        return cli_usage(verb, "expected an experiment file, or --plan%s",
                         serve ? "" : " and --profile (or --measured M with "
                         "a measured back end)");
    if (mech && strcmp(mech, "green") && strcmp(mech, "mps"))
        return cli_usage(verb, "--mechanism: expected green or mps, got '%s'",
                         mech);
    if (sdist) {
        int e;
        double cv;
        ut_err err;
        if (fe_service_dist_parse(sdist, "--service-dist", &e, &cv, &err) < 0)
            return cli_usage(verb, "%s", err.msg);
    }
    if (backend && !sim_backend_find(backend)) {
        char names[128];
        return cli_usage(verb, "--backend: expected one of %s, got '%s'",
                         sim_backend_names(names, sizeof names), backend);
    }

    ut_err err;
    lab_opts lo;
    lab_opts_init(&lo);
    lo.experiment = exp_path;
    lo.plan = plan_path;
    lo.profile = profile;
    lo.backend = backend;
    lo.measured = measured;
    lo.power = power;
    lo.arrivals = arrivals;
    lo.service_dist = sdist;
    lo.duration_s = dur;
    lo.warmup_s = warm;
    lo.interval_s = iv;
    lo.max_delay_ms = delay;
    lo.service_ms = svc;
    lo.reconfig_delay_s = reconf;
    lo.seed = seed;
    lo.queue_limit = qlim;
    lo.trace_max = trace;
    lo.slowdowns = slow;
    lo.nslowdowns = nslow;
    lo.wakes = wake;
    lo.nwakes = nwake;
    lo.for_serve = serve;
    lo.stop = &cli_stop;
    lab_prepared p;
    if (lab_prepare(&lo, &p, &err) < 0)
        return cli_fail(verb, &err);
    if (sens > 0 && lab_sensitivity_check(&p, sens, &err) < 0) {
        lab_prepared_free(&p);
        return cli_fail(verb, &err);
    }
    mdl_mps mps;
    memset(&mps, 0, sizeof mps);
    char *mps_json = NULL;
    if (!serve && mech && !strcmp(mech, "mps") &&
        attach_mps(&p, &mps, &mps_json, &err) < 0) {
        mdl_mps_free(&mps);
        lab_prepared_free(&p);
        return cli_fail(verb, &err);
    }
    /* the plan a policy made, printed after a good run */
    char *table = p.planned && !quiet ? pol_plan_table(&p.plan, pol_predicts(p.plan.policy)) : NULL;
    int rc = EXIT_BAD_INPUT;
    progress pr = {isatty(2), {0, 0}, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    p.cfg.progress = show_progress;
    p.cfg.progress_ud = &pr;
    /* Ctrl-C, a kill and a closed terminal all stop the run cleanly: the
     * results so far are written, marked incomplete, no temporary left */
    cli_catch_stop();
    fe_result res;
    srv_stats sst;
    int src;
    if (serve) {
        lab_serve_opts so = {mech ? mech : "green", mdir, !quiet,
                             llround(poll_us * 1e3), (int)only_gpu,
                             quiet ? NULL : stderr};
        if (table)
            fputs(table, stdout);
        free(table);
        table = NULL;
        src = lab_serve(&p, &so, out, &res, &sst, &err);
    } else {
        src = lab_simulate(&p, out, &res, &err);
    }
    cli_release_stop();
    if (pr.tty && !serve)
        fprintf(stderr, "\r%90s\r", "");
    if (src == -2) {
        cli_fail(verb, &err);
        rc = 1;
        goto done;
    }
    if (src < 0)
        goto fail;
    if (table)
        fputs(table, stdout);
    if (!quiet)
        print_report(&res, &p.plan, serve ? NULL : p.cfg.backend, out);
    if (serve && !quiet)
        print_serve(&sst);
    if (sens > 0 && res.complete) {
        fe_result var[2];
        cli_catch_stop();
        int s2 = lab_sensitivity(&p, out, sens, &res, var, &err);
        cli_release_stop();
        if (pr.tty)
            fprintf(stderr, "\r%90s\r", "");
        if (s2 == 0 && !quiet)
            print_sensitivity(&res, var, sens, out);
        fe_result_free(&var[0]);
        fe_result_free(&var[1]);
        if (s2 < 0) {
            fe_result_free(&res);
            goto fail;
        }
        if (s2 > 0) {
            fprintf(stderr, "igniter sim: interrupted in the sensitivity "
                    "runs; the run itself is complete in %s/, no "
                    "sensitivity.csv\n", out);
            fe_result_free(&res);
            rc = 130;
            goto done;
        }
    }
    if (serve && sst.error)
        fprintf(stderr, "igniter serve: %s; results so far are in %s/ "
                "(\"complete\": false)\n", sst.error_msg, out);
    else if (!res.complete)
        fprintf(stderr, "igniter %s: interrupted at %.3f s; results so far "
                "are in %s/ (\"complete\": false)\n", verb, res.sim_end_s,
                out);
    rc = res.complete ? 0 : serve && sst.error ? 1 : 130;
    fe_result_free(&res);
    if (serve)
        fe_hist_free(&sst.lateness);
    goto done;
fail:
    cli_fail(verb, &err);
done:
    free(table);
    lab_prepared_free(&p);
    mdl_mps_free(&mps);
    free(mps_json);
    return rc;
}

int cli_sim(int argc, char **argv)
{
    return run_verb(argc, argv, 0);
}

int cli_serve(int argc, char **argv)
{
    return run_verb(argc, argv, 1);
}
