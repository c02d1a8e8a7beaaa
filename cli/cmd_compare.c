/*
 * cmd_compare.c - `igniter compare`: policies against each other on one
 * experiment (lab_compare), then the figures (scripts/plot.sh).
 */
#include "cli/cli.h"
#include "lab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char compare_help[] =
    "usage: igniter compare EXPERIMENT.json --out DIR [--jobs N] [--seeds N]\n"
    "                       [--policies A,B,...] [--longer PCT]\n"
    "                       [--no-figures]\n\n"
    "Runs every policy listed in the experiment (\"policies\": [...]; default\n"
    "all registered), or those of --policies, over \"seeds\" seeds: each\n"
    "policy plans with its own model and data, then the simulator judges\n"
    "the plan with the experiment's back end and arrivals. Writes\n"
    "DIR/results.csv (policy, seed, GPUs, cost per hour, per-workload\n"
    "violation %, P99, mean latency, GPU busy %), DIR/summary.csv (means\n"
    "and 95 % confidence intervals), each run's own outputs in DIR/runs/,\n"
    "and figures in DIR/figures/ (PNG and SVG, by scripts/plot.sh with\n"
    "gnuplot). A run already complete in\n"
    "DIR is kept while its inputs (files, policy, seed) and the program are\n"
    "the same (summary.json's input_hash); otherwise it runs again. An\n"
    "interrupted compare (Ctrl-C, SIGTERM, SIGHUP) writes the tables of the\n"
    "finished runs (summary.csv: runs < seeds), exits 130, and resumes\n"
    "where it stopped when run again.\n\n"
    "  --out DIR      results folder (created if missing)\n"
    "  --jobs N       runs at a time, in parallel processes (default 1)\n"
    "  --seeds N      number of seeds (default the experiment's \"seeds\")\n"
    "  --policies A,B,...\n"
    "                 compare these registered policies, in this order,\n"
    "                 instead of the experiment's list (one it does not list\n"
    "                 is allowed); their runs are the same runs a compare of\n"
    "                 all would make, and reused the same way\n"
    "  --longer PCT   also run each plan with every batch PCT % (0 to 50)\n"
    "                 longer, into its run's sensitivity/xFACTOR/:\n"
    "                 results.csv and summary.csv gain its violation %,\n"
    "                 whether a policy's attainment survives batch times\n"
    "                 a few percent longer than its data says\n"
    "  --no-figures   skip the figures\n";

static void print_note(void *ud, const char *line)
{
    fprintf(ud, "%s\n", line);
}

int cli_compare(int argc, char **argv)
{
    if (cli_help(argc, argv, compare_help))
        return 0;
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"seeds", required_argument, NULL, 's'},
        {"no-figures", no_argument, NULL, 'n'},
        {"policies", required_argument, NULL, 'p'},
        {"longer", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *policies = NULL;
    long jobs = 1, seeds = 0;
    double longer = 0;
    int figures = 1, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': figures = 0; break;
        case 'p': policies = optarg; break;
        case 'l': {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || errno ||
                !(v > 0 && v <= LAB_MAX_SENSITIVITY))
                return cli_usage("compare", "--longer: expected a percentage "
                                 "in (0, %g], got '%s'", LAB_MAX_SENSITIVITY,
                                 optarg);
            longer = v;
            break;
        }
        case 'j':
        case 's':
            if (cli_long_arg("compare", c == 'j' ? "jobs" : "seeds", optarg,
                             1, 1000, c == 'j' ? &jobs : &seeds))
                return EXIT_BAD_INPUT;
            break;
        default:
            return cli_bad_option("compare", argv);
        }
    }
    int bad = cli_one_arg("compare", argc, argv, "an experiment file");
    if (bad)
        return bad;
    if (!out)
        return cli_usage("compare", "--out is required");
    ut_err err;
    cli_catch_stop();
    int rc = lab_compare_longer(argv[optind], out, policies, (int)jobs,
                                (int)seeds, longer, &cli_stop, print_note,
                                stderr, &err);
    cli_release_stop();
    if (rc < 0)
        return cli_fail("compare", &err);
    if (rc == 1) {   /* interrupted: partial tables written */
        fprintf(stderr, "igniter compare: %s\n", err.msg);
        return 130;
    }
    printf("results: %s/results.csv, %s/summary.csv\n", out, out);
    if (figures) {
        if (cli_run_script("plot.sh", out) == 0)
            printf("figures: %s/figures/\n", out);
        else
            fprintf(stderr, "igniter compare: figures not drawn (see the "
                    "message above); the tables are in %s/\n", out);
    }
    return 0;
}
