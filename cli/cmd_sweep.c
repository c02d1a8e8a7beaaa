/*
 * cmd_sweep.c - `igniter sweep`: a grid of experiments (lab_sweep_*), run
 * here with --jobs, as one of N shards, or listed; then gathered into one
 * table and figures.
 */
#include "cli/cli.h"
#include "lab/lab.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char sweep_help[] =
    "usage: igniter sweep SWEEP.json --out DIR [--jobs N] [--shard K/N]\n"
    "                     [--list] [--gather] [--no-figures] [--quiet]\n"
    "                     [--compact]\n\n"
    "Runs every cell of a sweep: the cross product of its axes (workload\n"
    "sets, arrivals, rate scales, policies, profiles, back ends, seeds, any\n"
    "experiment field) over a base experiment, each cell an experiment file\n"
    "simulated into DIR/cells/ID/ (ID: a hash of its parameters). A cell\n"
    "finished with the same inputs and program is kept; a stale one runs\n"
    "again. A failed cell is recorded (DIR/cells/ID/error.txt) and the\n"
    "others run. Then gathers DIR/gather.csv (one row per cell and workload\n"
    "and one per cell, every axis a column), DIR/gather-summary.csv (per\n"
    "configuration over seeds: n, means, 95 % intervals) and figures in\n"
    "DIR/figures/ (docs/sweeps.md).\n\n"
    "  --out DIR      results folder (created if missing)\n"
    "  --jobs N       cells at a time (default: every core)\n"
    "  --shard K/N    run only the K-th of N slices (cells K-1, K-1+N, ...),\n"
    "                 for job arrays; gather once all shards are done\n"
    "  --list         print the cells (id and parameters); run nothing\n"
    "  --gather       only gather what DIR holds; run nothing\n"
    "  --no-figures   skip the figures\n"
    "  --quiet        no line per cell\n"
    "  --compact      keep only what gather reads of each finished cell\n"
    "                 (experiment.json, summary.json, cdf.csv)\n\n"
    "For several machines: mpirun -n P build/igniter-mpi SWEEP.json --out DIR\n"
    "(built when mpicc exists). Exit status: 0 every cell done, 2 bad input,\n"
    "130 interrupted (finished cells are kept), 10 + the number of failed\n"
    "cells (at most 110) when some failed.\n";

typedef struct progress {
    int tty, quiet;
    struct timespec t0;
} progress;

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) +
           (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static const char *status_word(int st)
{
    switch (st) {
    case LAB_CELL_DONE: return "done";
    case LAB_CELL_KEPT: return "kept (same inputs)";
    case LAB_CELL_RERUN: return "done again (inputs or program changed)";
    case LAB_CELL_STOPPED: return "interrupted";
    default: return "FAILED";
    }
}

/* A bar on a terminal; otherwise one line per finished cell. */
static void show(void *ud, const lab_sweep *s, size_t k, int status,
                 const lab_sweep_stats *st)
{
    progress *p = ud;
    size_t fin = st->done + st->kept + st->failed + st->stopped;
    if (p->tty) {
        double t = elapsed(&p->t0), frac = (double)fin / (double)st->total;
        double eta = fin ? t * (1 - frac) / frac : 0;
        fprintf(stderr, "\r[%-30.*s] %zu/%zu cells, %zu failed, %zu kept, "
                "ETA %.0f s ", (int)(30 * frac),
                "##############################", fin, st->total, st->failed,
                st->kept, eta);
        if (status == LAB_CELL_FAILED || status > LAB_CELL_STOPPED) {
            fprintf(stderr, "\n");
        } else {
            return;
        }
    }
    if (p->quiet && status != LAB_CELL_FAILED)
        return;
    char *params = lab_cell_params(s, k);
    fprintf(stderr, "[%zu/%zu] %s %s: %s\n", fin, st->total, s->cells[k].id,
            params, status_word(status));
    free(params);
}

int cli_sweep(int argc, char **argv)
{
    if (cli_help(argc, argv, sweep_help))
        return 0;
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"shard", required_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"gather", no_argument, NULL, 'g'},
        {"no-figures", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"compact", no_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    int shard_k = 0, shard_n = 0, list = 0, gather_only = 0, figures = 1,
        quiet = 0, compact = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'l': list = 1; break;
        case 'g': gather_only = 1; break;
        case 'n': figures = 0; break;
        case 'q': quiet = 1; break;
        case 'c': compact = 1; break;
        case 'j':
            if (cli_long_arg("sweep", "jobs", optarg, 1, 4096, &jobs))
                return EXIT_BAD_INPUT;
            break;
        case 's':
            if (sscanf(optarg, "%d/%d%c", &shard_k, &shard_n, &(char){0}) !=
                    2 || shard_n < 1 || shard_k < 1 || shard_k > shard_n)
                return cli_usage("sweep", "--shard: expected K/N with 1 <= K "
                                 "<= N, got '%s'", optarg);
            break;
        default:
            return cli_bad_option("sweep", argv);
        }
    }
    int bad = cli_one_arg("sweep", argc, argv, "a sweep file");
    if (bad)
        return bad;
    if (!out && !list)
        return cli_usage("sweep", "--out is required");
    if (jobs < 1)
        jobs = 1;
    ut_err err;
    lab_sweep s;
    if (lab_sweep_load(argv[optind], &s, &err) < 0)
        return cli_fail("sweep", &err);
    if (list) {
        for (size_t k = 0; k < s.ncells; k++) {
            char *p = lab_cell_params(&s, k);
            printf("%s %s\n", s.cells[k].id, p);
            free(p);
        }
        lab_sweep_free(&s);
        return 0;
    }
    int rc = 0;
    if (!gather_only) {
        /* every cell must make an experiment before anything runs: a bad
         * axis value is bad input, not a failed cell */
        for (size_t k = 0; k < s.ncells; k++) {
            char *t = lab_cell_experiment(&s, k, &err);
            if (!t) {
                lab_sweep_free(&s);
                return cli_fail("sweep", &err);
            }
            free(t);
        }
        cli_catch_stop();
        progress pr = {isatty(2), quiet, {0, 0}};
        clock_gettime(CLOCK_MONOTONIC, &pr.t0);
        lab_sweep_opts o = {(int)jobs, shard_k, shard_n,
                            compact ? LAB_SWEEP_COMPACT : 0, &cli_stop,
                            show, &pr};
        lab_sweep_stats st;
        int r = lab_sweep_run(&s, out, &o, &st, &err);
        cli_release_stop();
        if (pr.tty)
            fprintf(stderr, "\n");
        if (r < 0) {
            lab_sweep_free(&s);
            return cli_fail("sweep", &err);
        }
        double secs = elapsed(&pr.t0);
        printf("sweep: %zu cells: %zu run, %zu kept, %zu failed%s in %.1f s "
               "(%.2f cells/s, %ld jobs, largest cell %.1f MB)\n", st.total,
               st.done, st.kept, st.failed, r == 2 ? ", interrupted" : "",
               secs, secs > 0 ? (double)(st.done + st.kept) / secs : 0, jobs,
               (double)st.max_cell_rss_kb / 1024);
        if (r == 2) {
            fprintf(stderr, "igniter sweep: interrupted; finished cells are "
                    "kept in %s/cells, and the same command again runs the "
                    "rest\n", out);
            rc = 130;
        } else if (st.failed) {
            fprintf(stderr, "igniter sweep: %zu cell%s failed (their "
                    "error.txt says why)\n", st.failed,
                    st.failed == 1 ? "" : "s");
            rc = 10 + (int)(st.failed < 100 ? st.failed : 100);
        }
        if (shard_n > 0 || rc == 130) {
            lab_sweep_free(&s);
            return rc;
        }
    }
    size_t missing;
    if (lab_sweep_gather(&s, out, &missing, &err) < 0) {
        lab_sweep_free(&s);
        return cli_fail("sweep", &err);
    }
    printf("gathered: %s/gather.csv, %s/gather-summary.csv%s\n", out, out,
           missing ? " (some cells not finished: left out)" : "");
    if (figures && cli_run_script("plot-sweep.sh", out) == 0)
        printf("figures: %s/figures/\n", out);
    lab_sweep_free(&s);
    return rc;
}
