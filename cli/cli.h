/*
 * cli.h - the igniter command line: one function per verb. Private to cli/.
 *
 * Every verb parses its options, calls one component's API, and prints.
 * Exit status: 0 success, 2 bad usage or bad input (the message names the
 * file, field and value), 1 anything else.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <signal.h>
#include <stdio.h>
#include "util/util.h"

#define EXIT_BAD_INPUT 2

typedef struct cli_verb {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_verb;

int cli_fit(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_accuracy(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_policies(int argc, char **argv);
int cli_sim(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_catalog(int argc, char **argv);
int cli_derive(int argc, char **argv);

/* A run's stop flag: set by SIGINT, SIGTERM and SIGHUP (Ctrl-C, a kill, a
 * closed terminal) from cli_catch_stop() until cli_release_stop(), which
 * gives the handlers before back. The run ends early and keeps what it
 * finished; the verb exits 130. */
extern volatile sig_atomic_t cli_stop;
void cli_catch_stop(void);
void cli_release_stop(void);

/* 1 (after printing text on stdout) when the arguments ask for --help or
 * -h, else 0: `if (cli_help(argc, argv, help)) return 0;`. */
int cli_help(int argc, char **argv, const char *text);

/* Prints "igniter VERB: message" to stderr and returns EXIT_BAD_INPUT. */
int cli_fail(const char *verb, const ut_err *err);
/* Prints a usage error and the hint to run --help; returns EXIT_BAD_INPUT. */
int cli_usage(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The usage error of an option getopt_long did not know or that lacked
 * its argument (argv[optind - 1]); returns EXIT_BAD_INPUT. */
int cli_bad_option(const char *verb, char **argv);
/* After the options: 0 when exactly one argument is left (argv[optind]),
 * else the usage error "expected WHAT" or "unexpected argument";
 * returns EXIT_BAD_INPUT then. */
int cli_one_arg(const char *verb, int argc, char **argv, const char *what);
/* --OPT's argument as a whole number in lo..hi: 0 with *v set, else the
 * usage error naming the range (EXIT_BAD_INPUT); *v untouched then. */
int cli_long_arg(const char *verb, const char *opt, const char *arg, long lo,
                 long hi, long *v);
/* Runs `sh scripts/NAME ARG` from the repository this binary was built in
 * (two folders above it: build/igniter); 0 when it succeeded, -1 when it
 * is missing or failed (it prints its own messages). */
int cli_run_script(const char *name, const char *arg);
/* Writes text to path atomically, or to stdout when path is NULL. */
int cli_output(const char *verb, const char *path, const char *text);

#endif
