/*
 * cmd_derive.c - `igniter derive`: a capture's raw records into a profile
 * and the measured co-location files (cap_derive), then a check that the
 * profile fits.
 */
#include "capture/capture.h"
#include "cli/cli.h"
#include "model/model.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char derive_help[] =
    "usage: igniter derive RAW.jsonl --out DIR [--gpu NAME]\n"
    "                      [--price USD_PER_HOUR]\n\n"
    "Derives, from the raw records igniter-capture wrote (capture/README.md,\n"
    "\"Raw records\"), into DIR:\n"
    "  profile.json               the profile the model is fitted from\n"
    "  measured-colocation.jsonl  solo tables and the fitting pairs\n"
    "  measured-heldout.jsonl     solo tables and the held-out pairs\n"
    "  colocations-multi.jsonl    held-out runs of 3 and 4 workloads (input\n"
    "                             for igniter predict --input)\n"
    "All four or none: a raw file that lacks a step's records is an error\n"
    "naming the step. Then fits the profile, as a check.\n\n"
    "  --out DIR      output folder (created if missing)\n"
    "  --gpu NAME     GPU name in the profile (default: from the capture,\n"
    "                 \"NVIDIA H100 80GB HBM3\" -> H100)\n"
    "  --price X      price per hour in USD to record (default: none)\n";

/* Pairs in a measured file, for the summary line; -1 if it does not load. */
static long count_pairs(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mdl_measured m;
    ut_err err;
    if (mdl_measured_load(path, &m, &err) < 0)
        return -1;
    long n = (long)m.npairs;
    mdl_measured_free(&m);
    return n;
}

static long count_lines(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ut_err err;
    char *text = ut_read_file(path, NULL, &err);
    if (!text)
        return -1;
    long n = 0;
    for (const char *c = text; *c; c++)
        n += *c == '\n';
    free(text);
    return n;
}

int cli_derive(int argc, char **argv)
{
    if (cli_help(argc, argv, derive_help))
        return 0;
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"gpu", required_argument, NULL, 'g'},
        {"price", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *gpu = NULL;
    double price = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'g': gpu = optarg; break;
        case 'c': {
            char *end;
            errno = 0;
            price = strtod(optarg, &end);
            if (*end || errno || !(price > 0) || !isfinite(price))
                return cli_usage("derive", "--price: expected a positive "
                                 "number, got '%s'", optarg);
            break;
        }
        default:
            return cli_bad_option("derive", argv);
        }
    }
    int bad = cli_one_arg("derive", argc, argv, "a raw file (RAW.jsonl)");
    if (bad)
        return bad;
    if (!out)
        return cli_usage("derive", "--out is required");
    if (gpu && (!*gpu || strlen(gpu) >= MDL_NAME_MAX))
        return cli_usage("derive", "--gpu: expected 1..%d characters, got "
                         "'%s'", MDL_NAME_MAX - 1, gpu);
    ut_err err;
    if (cap_derive(argv[optind], out, gpu, price, &err) < 0)
        return cli_fail("derive", &err);

    char path[4096];
    snprintf(path, sizeof path, "%s/profile.json", out);
    mdl_profile p;
    if (mdl_profile_load(path, &p, &err) < 0)
        return cli_fail("derive", &err);
    printf("%s/profile.json: %s, %zu models\n", out, p.gpu, p.nmodels);
    printf("%s/measured-colocation.jsonl: %ld fitting pairs\n", out,
           count_pairs(out, "measured-colocation.jsonl"));
    printf("%s/measured-heldout.jsonl: %ld held-out pairs\n", out,
           count_pairs(out, "measured-heldout.jsonl"));
    printf("%s/colocations-multi.jsonl: %ld held-out runs of 3 or more\n",
           out, count_lines(out, "colocations-multi.jsonl"));
    mdl_fitted f;
    int rc = mdl_fit(&p, &f, &err);
    mdl_profile_free(&p);
    if (rc < 0) {
        /* the files are the measurements and stay; the fit is a check */
        fprintf(stderr, "igniter derive: %s: written, but does not fit: %s\n",
                path, err.msg);
        return 1;
    }
    mdl_fitted_free(&f);
    printf("fit: ok (igniter fit --profile %s)\n", path);
    return 0;
}
