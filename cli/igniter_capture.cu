/*
 * igniter_capture.cu - the `igniter-capture` tool, a thin layer: it parses
 * the options, calls the campaign of the capture library
 * (capture/campaign*.cu, cap_campaign_*), which measures real DNN
 * inference on the GPU and writes the raw JSON lines that `igniter derive`
 * turns into a profile and measured co-location files, and turns how each
 * verb ended into the exit status and its one error line.
 *
 *   igniter-capture run --out DIR [--steps LIST] [--models LIST] [--quick]
 *   igniter-capture infer --model M --batch B [--iters N] [--sms S]
 *   igniter-capture bench [--models LIST] [--batches LIST] [--iters N]
 *   igniter-capture check | mps --out DIR
 */
#include "capture/capture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef cap_campaign_opts opts;

static const char *usage_text =
    "usage: igniter-capture VERB [options]\n"
    "\n"
    "  run     the whole measurement campaign into --out DIR/raw.jsonl\n"
    "  infer   run one model (for ncu, the MPS clients and quick checks)\n"
    "  bench   solo latency on the whole GPU, graphs and plain launches\n"
    "  check   the runner's outputs: finite, equal across the requests of\n"
    "          a batch, graph = plain launches, batch 1 = batch 4\n"
    "  worker  one instance of `igniter serve --mechanism mps` (an MPS\n"
    "          client: --model M --batch B; batch sizes on standard input)\n"
    "  mps     MPS into --out DIR/raw.jsonl: a control daemon of its own,\n"
    "          one client process per workload (solo at 10-100 % of the\n"
    "          threads, pairs, a client restart); run it as a separate\n"
    "          command, never beside another CUDA process\n"
    "\n"
    "options:\n"
    "  --out DIR          output folder (run)\n"
    "  --models LIST      alexnet,resnet50,vgg19,ssd300,vit_b16 (default)\n"
    "  --models-dir DIR   layer graphs (default capture/models)\n"
    "  --steps LIST       run only these, in this order: meta,overhead,\n"
    "                     kernels,solo,pair_self,reconfig,coloc (the fitting\n"
    "                     pairs),copies,heldout (held-out 2-, 3-, 4-way),\n"
    "                     power (sustained power and clock),l2\n"
    "  --quick            fewer points and shorter windows (a smoke test)\n"
    "  --seed N           choice of held-out combinations (default 1)\n"
    "  --ncu PATH         Nsight Compute (default ncu)\n"
    "  --ncu-timeout S    seconds an ncu point may take (default 120)\n"
    "  --model M --batch B --iters N --sms S --no-graphs   (infer; --sms -1:\n"
    "                     the whole GPU, the default)\n"
    "  --json --batches LIST --start-at T --seconds S --spawned-at T\n"
    "                     (infer, as an MPS client: JSON lines, a common\n"
    "                     start in CLOCK_REALTIME seconds, a timed window)\n"
    "  --batches LIST     (bench, and run's solo step; default\n"
    "                     1,2,4,8,16,32; at most 16, the largest last)\n"
    "  --solo-sms LIST    run's solo step: partition sizes in SMs (a size\n"
    "                     of at least the GPU's SMs: the whole GPU; default\n"
    "                     8,16,32,48,64,96, the largest partition, the GPU)\n"
    "  --mps-pcts LIST    mps's solo step: active thread percentages, each\n"
    "                     in (0, 100], at most 32 (default 10,25,50,75,100);\n"
    "                     its batches are --batches'\n"
    "  --mps-splits LIST  mps's pairs step: A:B thread percentages of the\n"
    "                     first and second client, each in (0, 100], at\n"
    "                     most 32 (default 50:50,25:75); batch 8\n"
    "  --steps LIST       (mps) run only these, in this order: solo, pairs,\n"
    "                     reconfig (default all three)\n";

/* A whole number in [lo, hi], or one line naming the option and value. */
static int int_opt(const char *name, const char *v, long lo, long hi,
                   int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "igniter-capture: %s: expected a whole number in "
                "%ld..%ld, got '%s'\n", name, lo, hi, v);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int num_opt(const char *name, const char *v, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= 0)) {
        fprintf(stderr, "igniter-capture: %s: expected a number >= 0, got "
                "'%s'\n", name, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* One item of a list option: 0, or -1 after one line naming the option
 * and the item. */
typedef int (*list_item)(const char *name, const char *item, const void *arg);

/* A whole number in [lo, hi] (arg: long[2] {lo, hi}). */
static int whole_item(const char *name, const char *item, const void *arg)
{
    const long *r = (const long *)arg;
    int x;
    return int_opt(name, item, r[0], r[1], &x);
}

#define MAX_PCTS CAP_MPS_LIST

/* A percentage in (0, 100]. */
static int pct_item(const char *name, const char *item, const void *arg)
{
    (void)arg;
    char *end;
    double x = strtod(item, &end);
    if (end == item || *end || !(x > 0 && x <= 100)) {
        fprintf(stderr, "igniter-capture: %s: expected at most %d "
                "percentages in (0, 100], got '%s'\n", name, MAX_PCTS, item);
        return -1;
    }
    return 0;
}

/* Two percentages in (0, 100], A:B. */
static int split_item(const char *name, const char *item, const void *arg)
{
    (void)arg;
    char *end, *end2 = NULL;
    double a = strtod(item, &end), b = NAN;
    if (end != item && *end == ':')
        b = strtod(end + 1, &end2);
    if (end == item || *end != ':' || end2 == end + 1 || *end2 ||
        !(a > 0 && a <= 100) || !(b > 0 && b <= 100)) {
        fprintf(stderr, "igniter-capture: %s: expected at most %d pairs "
                "A:B of percentages in (0, 100], got '%s'\n", name,
                MAX_PCTS, item);
        return -1;
    }
    return 0;
}

/* A comma list of at most maxn items (what: "batch sizes"), each checked
 * by item(name, token, arg), short enough for a field of cap bytes; or
 * one line naming the option and value. */
static int list_opt(const char *name, const char *v, size_t cap, int maxn,
                    const char *what, list_item item, const void *arg)
{
    char buf[256];
    if (cap > sizeof buf)
        cap = sizeof buf;
    if (strlen(v) >= cap) {
        fprintf(stderr, "igniter-capture: %s: at most %zu characters, got "
                "'%s'\n", name, cap - 1, v);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0;
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","), n++) {
        if (n == maxn) {
            fprintf(stderr, "igniter-capture: %s: expected at most %d %s, "
                    "got '%s'\n", name, maxn, what, v);
            return -1;
        }
        if (item(name, t, arg) < 0)
            return -1;
    }
    if (n == 0) {
        fprintf(stderr, "igniter-capture: %s: expected %s, got '%s'\n",
                name, what, v);
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->models_dir = "capture/models";
    snprintf(o->models, sizeof o->models,
             "alexnet,resnet50,vgg19,ssd300,vit_b16");
    snprintf(o->batches, sizeof o->batches, "1,2,4,8,16,32");
    o->iters = 50;
    o->batch = 1;
    o->sms = -1;
    o->graphs = 1;
    o->seed = 1;
    o->ncu = "ncu";
    o->ncu_timeout = 120;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
        if (ARG("--out"))
            o->out = v;
        else if (ARG("--models"))
            snprintf(o->models, sizeof o->models, "%s", v);
        else if (ARG("--models-dir"))
            o->models_dir = v;
        else if (ARG("--steps"))
            o->steps = v;
        else if (ARG("--model"))
            snprintf(o->models, sizeof o->models, "%s", v);
        else if (ARG("--batch")) {
            if (int_opt(a, v, 1, 64, &o->batch) < 0)
                return -1;
        }
        else if (ARG("--batches")) {
            static const long r[2] = {1, 32};
            if (list_opt(a, v, sizeof o->batches, INT_MAX, "batch sizes",
                         whole_item, r) < 0)
                return -1;
            snprintf(o->batches, sizeof o->batches, "%s", v);
        }
        else if (ARG("--mps-pcts")) {
            if (list_opt(a, v, sizeof o->mps_pcts, MAX_PCTS, "percentages",
                         pct_item, NULL) < 0)
                return -1;
            snprintf(o->mps_pcts, sizeof o->mps_pcts, "%s", v);
        }
        else if (ARG("--mps-splits")) {
            if (list_opt(a, v, sizeof o->mps_splits, MAX_PCTS, "splits",
                         split_item, NULL) < 0)
                return -1;
            snprintf(o->mps_splits, sizeof o->mps_splits, "%s", v);
        }
        else if (ARG("--solo-sms")) {
            static const long r[2] = {1, 100000};
            if (list_opt(a, v, sizeof o->solo_sms, INT_MAX, "numbers of SMs",
                         whole_item, r) < 0)
                return -1;
            snprintf(o->solo_sms, sizeof o->solo_sms, "%s", v);
        }
        else if (ARG("--iters")) {
            if (int_opt(a, v, 1, 4000, &o->iters) < 0)
                return -1;
        }
        else if (ARG("--sms")) {
            /* -1: the whole GPU, as the campaign's ncu children ask */
            if (int_opt(a, v, -1, 100000, &o->sms) < 0 || o->sms == 0) {
                if (o->sms == 0)
                    fprintf(stderr, "igniter-capture: --sms: expected -1 "
                            "(the whole GPU) or a number of SMs, got 0\n");
                return -1;
            }
        }
        else if (ARG("--seed")) {
            if (int_opt(a, v, 0, 2147483647, &o->seed) < 0)
                return -1;
        }
        else if (ARG("--ncu"))
            o->ncu = v;
        else if (ARG("--ncu-timeout")) {
            if (int_opt(a, v, 1, 3600, &o->ncu_timeout) < 0)
                return -1;
        }
        else if (ARG("--start-at")) {
            if (num_opt(a, v, &o->start_at) < 0)
                return -1;
        } else if (ARG("--seconds")) {
            if (num_opt(a, v, &o->seconds) < 0)
                return -1;
        } else if (ARG("--spawned-at")) {
            if (num_opt(a, v, &o->spawned_at) < 0)
                return -1;
        }
        else if (!strcmp(a, "--json"))
            o->json = 1;
        else if (!strcmp(a, "--no-graphs"))
            o->graphs = 0;
        else if (!strcmp(a, "--quick"))
            o->quick = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else {
            fprintf(stderr, "igniter-capture: unknown option '%s'\n%s", a,
                    usage_text);
            return -1;
        }
#undef ARG
    }
    return 0;
}

/*
 * The exit status of a verb that ended so: 0; 1 after a failure (its
 * message, one line) or a failed check (the check's own lines said
 * which); 2 for an option the verb cannot do with; 130 after Ctrl-C or
 * SIGTERM, as a shell reports a command ended by SIGINT.
 */
static int exit_status(const char *verb, int end, const ut_err *err)
{
    switch (end) {
    case CAP_CAMPAIGN_OK:
        return 0;
    case CAP_CAMPAIGN_USAGE:
        fprintf(stderr, "igniter-capture %s: %s\n", verb, err->msg);
        return 2;
    case CAP_CAMPAIGN_INTERRUPTED:
        return 130;
    case CAP_CAMPAIGN_CHECK_FAILED:
        return 1;
    default:
        fprintf(stderr, "igniter-capture: %s\n", err->msg);
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cap_campaign_catch_crash();
    /* a hardware queue for each stream, as `igniter serve` has (its
     * comment says why); before CUDA starts */
    setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", 0);
    opts o;
    if (parse(argc, argv, &o) < 0)
        return 2;
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    const char *verb = argv[1];
    ut_err err;
    int end;
    if (!strcmp(verb, "run")) {
        end = cap_campaign_run(&o, self, &err);   /* catches Ctrl-C itself,
                                                     once the GPU is up */
    } else if (!strcmp(verb, "infer")) {
        cap_campaign_catch_stop();
        end = cap_campaign_infer(&o, &err);
    } else if (!strcmp(verb, "worker")) {
        return cap_worker_run(o.models_dir, o.models, o.batch);
    } else if (!strcmp(verb, "check")) {
        cap_campaign_catch_stop();
        end = cap_campaign_check(&o, &err);
    } else if (!strcmp(verb, "mps")) {
        cap_campaign_catch_stop();
        end = cap_campaign_mps(&o, self, &err);
    } else if (!strcmp(verb, "bench")) {
        end = cap_campaign_bench(&o, &err);
    } else {
        fprintf(stderr, "igniter-capture: unknown verb '%s'\n%s", verb,
                usage_text);
        return 2;
    }
    return exit_status(verb, end, &err);
}
