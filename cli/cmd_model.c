/*
 * cmd_model.c - verbs on the performance model: fit, convert, predict,
 * accuracy.
 */
#include "cli/cli.h"
#include "model/model.h"
#include "policies/policy.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a positive number option; returns 0 or a usage error. */
static int opt_pos(const char *verb, const char *opt, const char *s,
                   double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !(v > 0) || !isfinite(v))
        return cli_usage(verb, "%s: expected a positive number, got '%s'",
                         opt, s);
    *out = v;
    return 0;
}

/* Loads the fitted model and fills the price from the catalog when the
 * profile does not carry one. */
static int load_fitted(const char *verb, const char *path, mdl_fitted *f)
{
    ut_err err;
    if (!path)
        return cli_usage(verb, "--profile is required");
    if (mdl_load(path, f, &err) < 0)
        return cli_fail(verb, &err);
    f->price_per_hour = pol_price_per_hour(f->gpu, f->price_per_hour);
    return 0;
}

static const char fit_help[] =
    "usage: igniter fit --profile PROFILE [--out FITTED.json] [--gpu NAME]\n"
    "                   [--price USD_PER_HOUR]\n\n"
    "Fits the iGniter performance model to a profile (the authors' JSON lines\n"
    "or the project's JSON profile) and writes the fitted model as JSON.\n\n"
    "  --profile P   profile to fit\n"
    "  --out F       write the fitted model to F (atomically); default stdout\n"
    "  --gpu NAME    GPU name to record (default: the profile's, or V100 for\n"
    "                the authors' format, which has none)\n"
    "  --price X     price per hour in USD (default: the profile's, else the\n"
    "                GPU catalog's)\n";

static int fit_or_convert(int argc, char **argv, int convert,
                          const char *help)
{
    const char *verb = convert ? "convert" : "fit";
    if (cli_help(argc, argv, help))
        return 0;
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"gpu", required_argument, NULL, 'g'},
        {"price", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *out = NULL, *gpu = NULL;
    double price = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'o': out = optarg; break;
        case 'g': gpu = optarg; break;
        case 'c':
            if (opt_pos(verb, "--price", optarg, &price))
                return EXIT_BAD_INPUT;
            break;
        default:
            return cli_usage(verb, "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(verb, "unexpected argument '%s'", argv[optind]);
    if (!profile)
        return cli_usage(verb, "--profile is required");
    if (gpu && strlen(gpu) >= MDL_NAME_MAX)
        return cli_usage(verb, "--gpu: expected at most %d characters",
                         MDL_NAME_MAX - 1);
    ut_err err;
    mdl_profile p;
    if (mdl_profile_load(profile, &p, &err) < 0)
        return cli_fail(verb, &err);
    if (gpu)
        snprintf(p.gpu, sizeof p.gpu, "%s", gpu);
    if (price > 0)
        p.price_per_hour = price;
    p.price_per_hour = pol_price_per_hour(p.gpu, p.price_per_hour);
    char *text;
    if (convert) {
        text = mdl_profile_to_json(&p);
    } else {
        mdl_fitted f;
        if (mdl_fit(&p, &f, &err) < 0) {
            mdl_profile_free(&p);
            ut_errprefix(&err, "%s", profile);
            return cli_fail(verb, &err);
        }
        text = mdl_fitted_to_json(&f);
        mdl_fitted_free(&f);
    }
    mdl_profile_free(&p);
    int rc = cli_output(verb, out, text);
    free(text);
    return rc;
}

int cli_fit(int argc, char **argv)
{
    return fit_or_convert(argc, argv, 0, fit_help);
}

static const char convert_help[] =
    "usage: igniter convert --profile PROFILE [--out PROFILE.json]\n"
    "                       [--gpu NAME] [--price USD_PER_HOUR]\n\n"
    "Reads a profile in either format and writes it in the project's JSON\n"
    "profile format (traces/README.md).\n\n"
    "  --profile P   profile to read\n"
    "  --out F       write to F (atomically); default stdout\n"
    "  --gpu NAME    GPU name to record (the authors' format has none: V100)\n"
    "  --price X     price per hour in USD to record\n";

int cli_convert(int argc, char **argv)
{
    return fit_or_convert(argc, argv, 1, convert_help);
}

/* ---- predict --------------------------------------------------------------- */

static const char predict_help[] =
    "usage: igniter predict --profile P --colocate MODEL:BATCH:SHARE\n"
    "                       [--colocate ...] [--json]\n"
    "       igniter predict --profile P --input FILE [--out FILE]\n\n"
    "Predicts, with the iGniter model, the latency (ms, one batch including\n"
    "PCIe transfers) and throughput (req/s) of workloads sharing one GPU.\n\n"
    "  --profile P         profile or fitted model\n"
    "  --colocate M:B:S    a workload: model, batch size, GPU share in %;\n"
    "                      repeat for each co-located workload\n"
    "  --json              print one JSON object instead of a table\n"
    "  --input FILE        JSON lines, each {\"colocate\":[{\"model\":..,\n"
    "                      \"batch\":..,\"resource_pct\":..},...]}; writes one\n"
    "                      line {\"latency_ms\":[..],\"throughput_rps\":[..]}\n"
    "                      per input line, in order\n"
    "  --out FILE          with --input: write there (atomically), not stdout\n";

/* Checks one co-location set: known models, batch >= 1, shares in (0, 100]
 * adding up to at most 100. */
static int check_set(const mdl_fitted *f, const mdl_place *w, size_t n,
                     const char *where, ut_err *err)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i].share_pct;
    if (total > 100 + 1e-9)
        return ut_errf(err, "%s: expected shares adding up to at most 100 %%, "
                       "got %g", where, total);
    (void)f;
    return 0;
}

static int parse_colocate(const mdl_fitted *f, const char *s, mdl_place *w,
                          ut_err *err)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return ut_errf(err, "--colocate: expected MODEL:BATCH:SHARE, got "
                       "'%.40s...'", s);
    strcpy(buf, s);
    char *b = strchr(buf, ':'), *r = b ? strchr(b + 1, ':') : NULL;
    if (!b || !r)
        return ut_errf(err, "--colocate: expected MODEL:BATCH:SHARE, got '%s'",
                       s);
    *b++ = '\0';
    *r++ = '\0';
    char where[160];
    snprintf(where, sizeof where, "--colocate %s: model", s);
    int m = mdl_find_or_err(f, buf, where, err);
    if (m < 0)
        return -1;
    char *end;
    errno = 0;
    long batch = strtol(b, &end, 10);
    if (*end || errno || batch < 1 || batch > 100000)
        return ut_errf(err, "--colocate %s: batch: expected an integer >= 1, "
                       "got '%s'", s, b);
    double share = strtod(r, &end);
    if (*end || !(share > 0) || share > 100)
        return ut_errf(err, "--colocate %s: share: expected a number in "
                       "(0, 100], got '%s'", s, r);
    w->model = m;
    w->batch = (int)batch;
    w->share_pct = share;
    return 0;
}

static int parse_set_json(const mdl_fitted *f, const cJSON *line,
                          const char *where, mdl_place *w, size_t *n,
                          ut_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(line, "colocate");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > MDL_MAX_COLOC)
        return ut_errf(err, "%s: colocate: expected an array of 1..%d "
                       "workloads", where, MDL_MAX_COLOC);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        char wh[300];
        snprintf(wh, sizeof wh, "%s: colocate[%zu]", where, i);
        const char *model;
        long batch;
        double share;
        if (ut_json_str(e, "model", wh, &model, err) ||
            ut_json_int(e, "batch", wh, 1, 100000, &batch, err) ||
            ut_json_pos(e, "resource_pct", wh, &share, err))
            return -1;
        char wm[320];
        snprintf(wm, sizeof wm, "%s.model", wh);
        int m = mdl_find_or_err(f, model, wm, err);
        if (m < 0)
            return -1;
        if (share > 100)
            return ut_errf(err, "%s.resource_pct: expected at most 100, got "
                           "%g", wh, share);
        w[i].model = m;
        w[i].batch = (int)batch;
        w[i].share_pct = share;
        i++;
    }
    *n = i;
    return check_set(f, w, i, where, err);
}

static void json_nums(ut_buf *b, const double *v, size_t n)
{
    char d[32];
    ut_buf_printf(b, "[");
    for (size_t i = 0; i < n; i++)
        ut_buf_printf(b, "%s%s", i ? "," : "", ut_fmt_double(v[i], d));
    ut_buf_printf(b, "]");
}

/* All lines are checked before anything is written, so bad input never
 * leaves half an output. */
static int predict_file(const mdl_fitted *f, const char *in, const char *out)
{
    ut_err err;
    char *text = ut_read_file(in, NULL, &err);
    if (!text)
        return cli_fail("predict", &err);
    ut_buf b = {0};
    int lineno = 0, rc = 0;
    char *cur = text, *line;
    while ((line = ut_line_next(&cur, &lineno))) {
        const char *p = ut_skip_blank(line);
        if (!*p)
            continue;
        char where[300];
        snprintf(where, sizeof where, "%s:%d", in, lineno);
        cJSON *obj = cJSON_ParseWithOpts(line, NULL, 1);
        mdl_place w[MDL_MAX_COLOC];
        size_t n = 0;
        if (!obj) {
            ut_errf(&err, "%s: expected a JSON object, got '%.30s'", where, p);
            rc = -1;
        } else if (parse_set_json(f, obj, where, w, &n, &err) < 0) {
            rc = -1;
        }
        cJSON_Delete(obj);
        if (rc < 0)
            break;
        double lat[MDL_MAX_COLOC], tput[MDL_MAX_COLOC];
        mdl_predict(f, w, n, lat, tput);
        ut_buf_printf(&b, "{\"latency_ms\":");
        json_nums(&b, lat, n);
        ut_buf_printf(&b, ",\"throughput_rps\":");
        json_nums(&b, tput, n);
        ut_buf_printf(&b, "}\n");
    }
    free(text);
    if (rc < 0) {
        ut_buf_free(&b);
        return cli_fail("predict", &err);
    }
    int orc = cli_output("predict", out, b.s ? b.s : "");
    ut_buf_free(&b);
    return orc;
}

int cli_predict(int argc, char **argv)
{
    if (cli_help(argc, argv, predict_help))
        return 0;
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"colocate", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"input", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *input = NULL, *out = NULL;
    const char *sets[MDL_MAX_COLOC];
    size_t nsets = 0;
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'c':
            if (nsets == MDL_MAX_COLOC)
                return cli_usage("predict", "--colocate: at most %d",
                                 MDL_MAX_COLOC);
            sets[nsets++] = optarg;
            break;
        case 'j': json = 1; break;
        case 'i': input = optarg; break;
        case 'o': out = optarg; break;
        default:
            return cli_usage("predict", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("predict", "unexpected argument '%s'", argv[optind]);
    if (!input == !nsets)
        return cli_usage("predict", "expected either --colocate (one or more)"
                         " or --input");
    if (out && !input)
        return cli_usage("predict", "--out goes with --input");
    mdl_fitted f;
    int rc = load_fitted("predict", profile, &f);
    if (rc)
        return rc;
    if (input) {
        rc = predict_file(&f, input, out);
        mdl_fitted_free(&f);
        return rc;
    }
    mdl_place w[MDL_MAX_COLOC];
    ut_err err;
    for (size_t i = 0; i < nsets; i++)
        if (parse_colocate(&f, sets[i], &w[i], &err) < 0) {
            mdl_fitted_free(&f);
            return cli_fail("predict", &err);
        }
    if (check_set(&f, w, nsets, "--colocate", &err) < 0) {
        mdl_fitted_free(&f);
        return cli_fail("predict", &err);
    }
    double lat[MDL_MAX_COLOC], tput[MDL_MAX_COLOC];
    mdl_predict(&f, w, nsets, lat, tput);
    ut_buf b = {0};
    char d[32];
    if (json) {
        ut_buf_printf(&b, "{\"gpu\":\"%s\",\"workloads\":[", f.gpu);
        for (size_t i = 0; i < nsets; i++) {
            ut_buf_printf(&b, "%s{\"model\":\"%s\",\"batch\":%d,", i ? "," : "",
                          f.models[w[i].model].name, w[i].batch);
            ut_buf_printf(&b, "\"resource_pct\":%s,",
                          ut_fmt_double(w[i].share_pct, d));
            ut_buf_printf(&b, "\"latency_ms\":%s,", ut_fmt_double(lat[i], d));
            ut_buf_printf(&b, "\"throughput_rps\":%s}",
                          ut_fmt_double(tput[i], d));
        }
        ut_buf_printf(&b, "]}\n");
    } else {
        ut_buf_printf(&b, "%-10s %5s %8s %11s %17s\n", "model", "batch",
                      "share %", "latency ms", "throughput req/s");
        for (size_t i = 0; i < nsets; i++)
            ut_buf_printf(&b, "%-10s %5d %8.1f %11.3f %17.1f\n",
                          f.models[w[i].model].name, w[i].batch,
                          w[i].share_pct, lat[i], tput[i]);
        ut_buf_printf(&b, "(%s, iGniter model; latency of one batch including "
                      "PCIe transfers)\n", f.gpu);
    }
    rc = cli_output("predict", NULL, b.s);
    ut_buf_free(&b);
    mdl_fitted_free(&f);
    return rc;
}

/* ---- accuracy -------------------------------------------------------------- */

static const char accuracy_help[] =
    "usage: igniter accuracy --profile P (--measured M | --multi F) [--json]\n\n"
    "Predicts every measured co-located pair of M (the shape of\n"
    "traces/v100/measured-colocation.jsonl) with the iGniter model fitted on\n"
    "P, and reports the absolute percentage error of the latencies: mean,\n"
    "median, P90, max; and the same for a no-interference baseline (each\n"
    "workload predicted alone at its share). With --multi, the same for\n"
    "measured runs of several workloads (igniter derive's\n"
    "colocations-multi.jsonl), by the number of workloads in a run.\n\n"
    "  --profile P   profile or fitted model\n"
    "  --measured M  measured co-location data (pairs)\n"
    "  --multi F     measured runs of several workloads, a JSON line each\n"
    "  --json        one JSON object instead of a table\n";

/* --multi: the error by the number of co-located workloads. */
static int accuracy_multi(const mdl_fitted *f, const char *path, int json)
{
    static const char *names[2] = {"igniter", "no-interference"};
    ut_buf b = {0};
    ut_err err;
    int rows = 0;
    if (json)
        ut_buf_printf(&b, "{");
    else
        ut_buf_printf(&b, "%-16s %9s %9s %8s %8s %8s %8s\n", "model",
                      "workloads", "latencies", "mean %", "median %",
                      "P90 %", "max %");
    for (size_t n = 2; n <= MDL_MAX_COLOC; n++)
        for (int k = 0; k < 2; k++) {
            mdl_error_stats s;
            if (mdl_multi_error(f, path, n, k, &s, &err) < 0) {
                ut_buf_free(&b);
                return cli_fail("accuracy", &err);
            }
            if (s.n == 0)
                continue;
            if (json)
                ut_buf_printf(&b, "%s\"%s_%zu\":{\"latencies\":%zu,"
                              "\"mean_pct\":%.4f,\"median_pct\":%.4f,"
                              "\"p90_pct\":%.4f,\"max_pct\":%.4f}",
                              rows ? "," : "", names[k], n, s.n, s.mean_pct,
                              s.median_pct, s.p90_pct, s.max_pct);
            else
                ut_buf_printf(&b, "%-16s %9zu %9zu %8.2f %8.2f %8.2f %8.2f\n",
                              names[k], n, s.n, s.mean_pct, s.median_pct,
                              s.p90_pct, s.max_pct);
            rows++;
        }
    if (rows == 0) {
        ut_buf_free(&b);
        ut_errf(&err, "%s: expected runs of 2 to %d workloads, got none",
                path, MDL_MAX_COLOC);
        return cli_fail("accuracy", &err);
    }
    if (json)
        ut_buf_printf(&b, "}\n");
    int rc = cli_output("accuracy", NULL, b.s);
    ut_buf_free(&b);
    return rc;
}

int cli_accuracy(int argc, char **argv)
{
    if (cli_help(argc, argv, accuracy_help))
        return 0;
    static const struct option opts[] = {
        {"profile", required_argument, NULL, 'p'},
        {"measured", required_argument, NULL, 'm'},
        {"multi", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *measured = NULL, *multi = NULL;
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'm': measured = optarg; break;
        case 'u': multi = optarg; break;
        case 'j': json = 1; break;
        default:
            return cli_usage("accuracy", "unknown or incomplete option '%s'",
                             argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage("accuracy", "unexpected argument '%s'", argv[optind]);
    if (!measured == !multi)
        return cli_usage("accuracy", "one of --measured and --multi is "
                         "required");
    mdl_fitted f;
    int rc = load_fitted("accuracy", profile, &f);
    if (rc)
        return rc;
    if (multi) {
        rc = accuracy_multi(&f, multi, json);
        mdl_fitted_free(&f);
        return rc;
    }
    ut_err err;
    mdl_measured m;
    mdl_error_stats s[2];
    if (mdl_measured_load(measured, &m, &err) < 0) {
        mdl_fitted_free(&f);
        return cli_fail("accuracy", &err);
    }
    rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        if (mdl_pair_error(&f, &m, k, &s[k], &err) < 0) {
            ut_errprefix(&err, "%s", measured);
            rc = cli_fail("accuracy", &err);
        }
    mdl_measured_free(&m);
    mdl_fitted_free(&f);
    if (rc)
        return rc;
    const char *names[2] = {"igniter", "no-interference"};
    ut_buf b = {0};
    if (json) {
        ut_buf_printf(&b, "{\"pairs\":%zu,\"latencies\":%zu", s[0].n / 2,
                      s[0].n);
        for (int k = 0; k < 2; k++)
            ut_buf_printf(&b, ",\"%s\":{\"mean_pct\":%.4f,\"median_pct\":"
                          "%.4f,\"p90_pct\":%.4f,\"max_pct\":%.4f}", names[k],
                          s[k].mean_pct, s[k].median_pct, s[k].p90_pct,
                          s[k].max_pct);
        ut_buf_printf(&b, "}\n");
    } else {
        ut_buf_printf(&b, "%zu measured pairs, %zu latencies; absolute "
                      "percentage error:\n", s[0].n / 2, s[0].n);
        ut_buf_printf(&b, "%-16s %8s %8s %8s %8s\n", "model", "mean %",
                      "median %", "P90 %", "max %");
        for (int k = 0; k < 2; k++)
            ut_buf_printf(&b, "%-16s %8.2f %8.2f %8.2f %8.2f\n", names[k],
                          s[k].mean_pct, s[k].median_pct, s[k].p90_pct,
                          s[k].max_pct);
    }
    rc = cli_output("accuracy", NULL, b.s);
    ut_buf_free(&b);
    return rc;
}
