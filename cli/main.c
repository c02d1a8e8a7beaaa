/*
 * main.c - `igniter VERB [options]`: dispatch and the shared error helpers.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const cli_verb verbs[] = {
    {"fit", "fit the iGniter model to a profile and write the fitted model",
     cli_fit},
    {"convert", "convert a profile (the authors' JSON lines) to the project's "
     "format", cli_convert},
    {"predict", "predict latency and throughput of co-located workloads",
     cli_predict},
    {"accuracy", "the model's error on measured co-located pairs",
     cli_accuracy},
    {"plan", "provision GPUs for workloads with a policy (default igniter)",
     cli_plan},
    {"policies", "list the registered provisioning policies", cli_policies},
    {"catalog", "list the GPU types: price, SMs, share unit, profile",
     cli_catalog},
    {"sim", "simulate a plan: arrivals, dynamic batching, interference",
     cli_sim},
    {"serve", "run a plan on this machine's GPU (needs `make capture`)",
     cli_serve},
    {"compare", "compare policies on one experiment over seeds, with "
     "figures", cli_compare},
    {"sweep", "run a grid of experiments (workloads x arrivals x loads x "
     "policies x ... x seeds) and gather it", cli_sweep},
    {"derive", "a capture's raw records into a profile and measured files",
     cli_derive},
    {NULL, NULL, NULL},
};

int cli_fail(const char *verb, const ut_err *err)
{
    fprintf(stderr, "igniter %s: %s\n", verb, err->msg);
    return EXIT_BAD_INPUT;
}

int cli_usage(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "igniter %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'igniter %s --help')\n", verb);
    return EXIT_BAD_INPUT;
}

int cli_bad_option(const char *verb, char **argv)
{
    return cli_usage(verb, "unknown or incomplete option '%s'",
                     argv[optind - 1]);
}

int cli_one_arg(const char *verb, int argc, char **argv, const char *what)
{
    if (optind >= argc)
        return cli_usage(verb, "expected %s", what);
    if (optind + 1 < argc)
        return cli_usage(verb, "unexpected argument '%s'", argv[optind + 1]);
    return 0;
}

int cli_long_arg(const char *verb, const char *opt, const char *arg, long lo,
                 long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(arg, &end, 10);
    if (*end || errno || x < lo || x > hi)
        return cli_usage(verb, "--%s: expected an integer in %ld..%ld, got "
                         "'%s'", opt, lo, hi, arg);
    *v = x;
    return 0;
}

int cli_help(int argc, char **argv, const char *text)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))   /* what follows is not an option */
            break;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(text, stdout);
            return 1;
        }
    }
    return 0;
}

volatile sig_atomic_t cli_stop;

static void on_stop(int sig)
{
    (void)sig;
    cli_stop = 1;
}

static const int stop_signals[3] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved[3];

void cli_catch_stop(void)
{
    cli_stop = 0;
    ut_catch_signals(stop_signals, 3, on_stop, saved);
}

void cli_release_stop(void)
{
    for (int i = 0; i < 3; i++)
        sigaction(stop_signals[i], &saved[i], NULL);
}

int cli_run_script(const char *name, const char *arg)
{
    char exe[PATH_MAX], script[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return -1;
        *slash = '\0';
    }
    snprintf(script, sizeof script, "%s/scripts/%s", exe, name);
    if (access(script, R_OK) < 0) {
        fprintf(stderr, "igniter: no figures: %s not found\n", script);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", script, arg, (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
        return -1;
    return 0;
}

int cli_output(const char *verb, const char *path, const char *text)
{
    if (!path) {
        fputs(text, stdout);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "igniter %s: cannot write standard output\n",
                    verb);
            return 1;
        }
        return 0;
    }
    ut_err err;
    if (ut_write_atomic(path, text, strlen(text), &err) < 0)
        return cli_fail(verb, &err);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: igniter VERB [options]    (igniter VERB --help)\n\n"
            "GPU provisioning for DNN inference: the iGniter model and "
            "planner.\n\nverbs:\n");
    for (size_t i = 0; verbs[i].name; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n  --help     this text\n  --version  print the version\n"
            "\nexit status: 0 ok, 2 bad usage or input, 1 other failure\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_BAD_INPUT;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("igniter %s\n", IGNITER_VERSION);
        return 0;
    }
    for (size_t i = 0; verbs[i].name; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "igniter: unknown verb '%s'; expected one of:", argv[1]);
    for (size_t i = 0; verbs[i].name; i++)
        fprintf(stderr, " %s", verbs[i].name);
    fprintf(stderr, "\n");
    return EXIT_BAD_INPUT;
}
