/*
 * cmd_plan.c - `igniter plan` and `igniter policies`.
 */
#include "cli/cli.h"
#include "model/model.h"
#include "policies/policy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plan_help[] =
    "usage: igniter plan --profile P --workloads W.json [--policy NAME]\n"
    "                    [--json] [--out PLAN.json] [--faithful]\n"
    "                    [--measured M]\n\n"
    "Provisions GPUs for the workloads of W.json ({\"workloads\":[{\"name\",\n"
    "\"model\",\"slo_ms\",\"rate_rps\"},...]}) with a policy, and prints the\n"
    "plan as a table (or JSON). The plan file (format 1) is what `igniter\n"
    "sim` and `igniter serve` read.\n\n"
    "  --profile P     profile or fitted model of the GPU type\n"
    "  --workloads W   workloads file\n"
    "  --policy NAME   provisioning policy (default igniter; see\n"
    "                  `igniter policies`)\n"
    "  --json          print the JSON plan on standard output\n"
    "  --out F         also write the JSON plan to F (atomically)\n"
    "  --faithful      reproduce the reference implementation's known defects\n"
    "                  (docs/igniter-model.md) instead of fixing them\n"
    "  --measured M    measured co-location data of the GPU type, for\n"
    "                  policies that plan from measurements (gpulets)\n";

int cli_plan(int argc, char **argv)
{
    if (cli_help(argc, argv, plan_help))
        return 0;
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"workloads", required_argument, NULL, 'w'},
        {"policy", required_argument, NULL, 'P'},
        {"json", no_argument, NULL, 'j'},
        {"out", required_argument, NULL, 'o'},
        {"faithful", no_argument, NULL, 'f'},
        {"measured", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *wpath = NULL, *policy = "igniter",
               *out = NULL, *measured = NULL;
    int json = 0, faithful = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'w': wpath = optarg; break;
        case 'P': policy = optarg; break;
        case 'j': json = 1; break;
        case 'o': out = optarg; break;
        case 'f': faithful = 1; break;
        case 'm': measured = optarg; break;
        default:
            return cli_bad_option("plan", argv);
        }
    }
    if (optind < argc)
        return cli_usage("plan", "unexpected argument '%s'", argv[optind]);
    if (!profile || !wpath)
        return cli_usage("plan", "--profile and --workloads are required");
    if (!pol_find(policy)) {
        char names[256];
        return cli_usage("plan", "--policy: expected one of %s, got '%s'",
                         pol_names(names, sizeof names), policy);
    }
    ut_err err;
    mdl_fitted f;
    if (mdl_load(profile, &f, &err) < 0)
        return cli_fail("plan", &err);
    pol_workload *w;
    size_t n;
    if (pol_workloads_load(wpath, &f, &w, &n, &err) < 0) {
        mdl_fitted_free(&f);
        return cli_fail("plan", &err);
    }
    mdl_measured meas;
    int have_meas = 0;
    if (measured) {
        if (mdl_measured_load(measured, &meas, &err) < 0) {
            free(w);
            mdl_fitted_free(&f);
            return cli_fail("plan", &err);
        }
        have_meas = 1;
    }
    pol_request req = {w, n, &f, have_meas ? &meas : NULL, faithful};
    pol_plan plan;
    int rc = 0;
    if (pol_make_plan(policy, &req, &plan, &err) < 0) {
        rc = cli_fail("plan", &err);
        goto out;
    }
    char *js = pol_plan_to_json(&plan);
    if (out)
        rc = cli_output("plan", out, js);
    if (rc == 0) {
        if (json) {
            rc = cli_output("plan", NULL, js);
        } else {
            char *table = pol_plan_table(&plan, pol_predicts(plan.policy));
            rc = cli_output("plan", NULL, table);
            free(table);
        }
    }
    free(js);
    pol_plan_free(&plan);
out:
    if (have_meas)
        mdl_measured_free(&meas);
    free(w);
    mdl_fitted_free(&f);
    return rc;
}

int cli_catalog(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: igniter catalog\n\nLists the GPU types the project "
              "knows: price per hour, SM count,\nshare unit, shipped "
              "profile, and where the price comes from.\n", stdout);
        return 0;
    }
    if (argc > 1)
        return cli_usage("catalog", "unexpected argument '%s'", argv[1]);
    printf("%-6s %8s %4s %6s  %-26s %s\n", "GPU", "$/hour", "SMs", "unit%",
           "profile", "price source");
    for (const pol_gpu_type *t = pol_catalog(); t->name; t++)
        printf("%-6s %8.3f %4d %6.2f  %-26s %s\n", t->name, t->price_per_hour,
               t->sm_count, t->share_unit_pct,
               t->profile ? t->profile : "(none yet)", t->price_source);
    return 0;
}

int cli_policies(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs("usage: igniter policies\n\nLists the registered provisioning "
              "policies, one line each.\n", stdout);
        return 0;
    }
    if (argc > 1)
        return cli_usage("policies", "unexpected argument '%s'", argv[1]);
    for (const pol_ops *const *p = pol_all(); *p; p++)
        printf("%-10s v%d  %s\n", (*p)->name, (*p)->version, (*p)->summary);
    return 0;
}
