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
            return cli_bad_option(verb, argv);
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
            return cli_bad_option("predict", argv);
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
    "usage: igniter accuracy --profile P (--measured M | --multi F)\n"
    "                        [--train T [--fit-runs-of N]]\n"
    "                        [--hold-out-share S] [--json [--points]]\n\n"
    "Judges every latency predictor on measured co-located runs: the pairs\n"
    "of M (the shape of traces/v100/measured-colocation.jsonl) or the runs\n"
    "of F (igniter derive's colocations-multi.jsonl), reporting the absolute\n"
    "percentage error of the latencies (mean, median, P90, max) for each\n"
    "run size. Predictors: igniter (iGniter's model fitted on P),\n"
    "no-interference (each alone at its share, same model), measured-interp\n"
    "(the measured back end's pair-grid interpolation and additive\n"
    "composition before the learned predictor), measured (the back end\n"
    "now), gpulets-linear (gpu-lets' linear regression of the slow-down on\n"
    "L2 and DRAM utilisation) and learned (docs/predictor.md). The last four\n"
    "are fitted on T's solo tables and pairs; without --train, on M itself\n"
    "(in sample: the measured ones are then exact), or, with\n"
    "--hold-out-share S, on M's pairs whose first share is neither S nor\n"
    "100 - S, and judged on those that are.\n\n"
    "  --profile P          profile or fitted model\n"
    "  --measured M         measured co-location data (pairs)\n"
    "  --multi F            measured runs of several workloads, a JSON line\n"
    "                       each (needs --train)\n"
    "  --train T            measured co-location data to fit on\n"
    "  --fit-runs-of N      with --multi: F's runs of N workloads are not\n"
    "                       judged but fitted on, by gpulets-linear and\n"
    "                       learned, beside T's pairs (N 3: judged on the\n"
    "                       runs of 4 and more)\n"
    "  --hold-out-share S   with --measured and no --train: hold out M's\n"
    "                       pairs at share S (and 100 - S) %\n"
    "  --json               one JSON object instead of a table: per predictor\n"
    "                       NAME (runs of 2) or NAME_K (runs of K), each\n"
    "                       {latencies, mean_pct, median_pct, p90_pct, max_pct}\n"
    "  --points             with --json: each object also lists what it\n"
    "                       compared, points: one [model, measured_ms,\n"
    "                       predicted_ms] per latency, in file order (for\n"
    "                       figures: scripts/paper-figs.sh fig11, accuracy-cdf)\n";

/* The test runs and the training data of one accuracy call. */
typedef struct acc_data {
    mdl_measured train;
    mdl_runs test;
    mdl_runs extra;     /* --fit-runs-of's runs (nruns 0: none) */
    mdl_interf gpulets, learned;
    /* why a learned predictor could not be fitted ("" if it was): it is
     * then left out of the report, with the reason in the table */
    char no_gpulets[UT_ERR_MAX], no_learned[UT_ERR_MAX];
    const char *train_path;
    size_t fit_n;       /* --fit-runs-of (0: none) */
    int in_sample;
} acc_data;

static int acc_prepare(const char *measured, const char *multi,
                       const char *train, size_t fit_n, double hold,
                       acc_data *d, ut_err *err)
{
    memset(d, 0, sizeof *d);
    if (multi) {
        if (mdl_runs_load(multi, &d->test, err) < 0)
            return -1;
    } else {
        mdl_measured m;
        if (mdl_measured_load(measured, &m, err) < 0)
            return -1;
        if (m.npairs == 0) {
            mdl_measured_free(&m);
            return ut_errf(err, "%s: expected measured pairs, got none",
                           measured);
        }
        if (train || hold <= 0) {
            mdl_runs_from_pairs(&m, measured, &d->test);
            if (train)
                mdl_measured_free(&m);
            else
                d->train = m;
            d->in_sample = !train;
        } else {
            int rc = mdl_measured_hold_out(&m, hold, measured, &d->train,
                                           &d->test, err);
            if (rc == 1)
                rc = ut_errf(err, "--hold-out-share: expected a share that "
                             "some but not all pairs of %s have, got %g",
                             measured, hold);
            mdl_measured_free(&m);
            if (rc < 0)
                return -1;
        }
        d->train_path = measured;
    }
    if (train) {
        if (mdl_measured_load(train, &d->train, err) < 0)
            return -1;
        d->train_path = train;
    }
    const mdl_runs *extra = NULL;
    if (fit_n) {
        mdl_runs all = d->test;
        mdl_runs_split(&all, fit_n, &d->extra, &d->test);
        mdl_runs_free(&all);
        if (d->extra.nruns == 0 || d->test.nruns == 0)
            return ut_errf(err, "--fit-runs-of: expected %s to hold runs of "
                           "%zu workloads and runs of other sizes, got %zu "
                           "and %zu", multi, fit_n, d->extra.nruns,
                           d->test.nruns);
        d->fit_n = fit_n;
        extra = &d->extra;
    }
    ut_err ferr;
    if (mdl_interf_fit(&d->train, extra, MDL_INTERF_LINEAR, &d->gpulets,
                       &ferr) < 0)
        snprintf(d->no_gpulets, sizeof d->no_gpulets, "%s", ferr.msg);
    if (mdl_interf_fit(&d->train, extra, MDL_INTERF_LEARNED, &d->learned,
                       &ferr) < 0)
        snprintf(d->no_learned, sizeof d->no_learned, "%s", ferr.msg);
    return 0;
}

static void acc_free(acc_data *d)
{
    mdl_measured_free(&d->train);
    mdl_runs_free(&d->test);
    mdl_runs_free(&d->extra);
}

/*
 * The latencies behind one predictor's statistics, for figures (a CDF of
 * the error, predicted against observed): ",\"points\":[[model,
 * measured_ms, predicted_ms],...]" for the runs of exactly n members, in
 * file order. The error itself stays mdl_runs_error's to compute; this
 * only lists what it compared. Called after mdl_runs_error succeeded on
 * the same runs, so every model is known to p.
 */
static void json_points(ut_buf *b, const mdl_runs *r, size_t n,
                        const mdl_predictor *p)
{
    const char *sep = "";
    ut_buf_printf(b, ",\"points\":[");
    for (size_t k = 0; k < r->nruns; k++) {
        size_t s = r->start[k], cnt = r->start[k + 1] - s;
        if (cnt != n)
            continue;
        mdl_place w[MDL_MAX_COLOC];
        double lat[MDL_MAX_COLOC];
        for (size_t i = 0; i < cnt; i++) {
            w[i].model = p->find(p->ctx, r->mem[s + i].model);
            w[i].batch = r->mem[s + i].batch;
            w[i].share_pct = r->mem[s + i].share_pct;
        }
        p->latency(p->ctx, w, cnt, lat);
        for (size_t i = 0; i < cnt; i++) {
            ut_buf_printf(b, "%s[", sep);
            ut_buf_json_str(b, r->mem[s + i].model);
            ut_buf_printf(b, ",%.6g,%.6g]", r->mem[s + i].lat_ms, lat[i]);
            sep = ",";
        }
    }
    ut_buf_printf(b, "]");
}

/* Every predictor on every run size of the test runs. */
static int accuracy_report(const mdl_fitted *f, acc_data *d, int json,
                           int points)
{
    mdl_predictor_ctx ctx = {f, &d->train, &d->gpulets, &d->learned};
    ut_buf b = {0};
    ut_err err;
    int rows = 0;
    size_t maxn = 0;
    for (size_t k = 0; k < d->test.nruns; k++)
        if (d->test.start[k + 1] - d->test.start[k] > maxn)
            maxn = d->test.start[k + 1] - d->test.start[k];
    if (json) {
        ut_buf_printf(&b, "{\"test\":\"%s\",\"train\":\"%s\","
                      "\"in_sample\":%s", d->test.path, d->train_path,
                      d->in_sample ? "true" : "false");
        if (d->fit_n)
            ut_buf_printf(&b, ",\"fit_runs_of\":%zu", d->fit_n);
    } else {
        char also[96] = "";
        if (d->fit_n)
            snprintf(also, sizeof also, " (gpulets-linear and learned also "
                     "on the test file's runs of %zu)", d->fit_n);
        ut_buf_printf(&b, "test %s, fitted on %s%s%s; absolute percentage "
                      "error:\n%-16s %9s %9s %8s %8s %8s %8s\n", d->test.path,
                      d->train_path, d->in_sample ? " (in sample)" : "",
                      also, "predictor", "workloads", "latencies", "mean %",
                      "median %", "P90 %", "max %");
    }
    for (size_t n = 2; n <= maxn; n++)
        for (int k = 0; k < MDL_PRED_COUNT; k++) {
            const char *why = k == MDL_PRED_GPULETS   ? d->no_gpulets
                              : k == MDL_PRED_LEARNED ? d->no_learned
                                                      : "";
            mdl_predictor p = mdl_predictor_make((mdl_predictor_kind)k, &ctx);
            if (why[0]) {
                if (!json && n == 2)
                    ut_buf_printf(&b, "%-16s not fitted: %s\n", p.name, why);
                continue;
            }
            mdl_error_stats s;
            if (mdl_runs_error(&d->test, n, &p, &s, &err) < 0) {
                ut_buf_free(&b);
                return cli_fail("accuracy", &err);
            }
            if (s.n == 0)
                continue;
            char key[64];
            if (n == 2)
                snprintf(key, sizeof key, "%s", p.name);
            else
                snprintf(key, sizeof key, "%s_%zu", p.name, n);
            if (json) {
                ut_buf_printf(&b, ",\"%s\":{\"latencies\":%zu,"
                              "\"mean_pct\":%.4f,\"median_pct\":%.4f,"
                              "\"p90_pct\":%.4f,\"max_pct\":%.4f", key, s.n,
                              s.mean_pct, s.median_pct, s.p90_pct, s.max_pct);
                if (points)
                    json_points(&b, &d->test, n, &p);
                ut_buf_printf(&b, "}");
            } else
                ut_buf_printf(&b, "%-16s %9zu %9zu %8.2f %8.2f %8.2f %8.2f\n",
                              p.name, n, s.n, s.mean_pct, s.median_pct,
                              s.p90_pct, s.max_pct);
            rows++;
        }
    if (rows == 0) {
        ut_buf_free(&b);
        ut_errf(&err, "%s: expected runs of 2 to %d workloads, got none",
                d->test.path, MDL_MAX_COLOC);
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
        {"train", required_argument, NULL, 't'},
        {"fit-runs-of", required_argument, NULL, 'r'},
        {"hold-out-share", required_argument, NULL, 'h'},
        {"json", no_argument, NULL, 'j'},
        {"points", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *measured = NULL, *multi = NULL,
               *train = NULL;
    double fit_n = 0;
    double hold = 0;
    int json = 0, points = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': profile = optarg; break;
        case 'm': measured = optarg; break;
        case 'u': multi = optarg; break;
        case 't': train = optarg; break;
        case 'r':
            if ((c = opt_pos("accuracy", "--fit-runs-of", optarg, &fit_n)))
                return c;
            if (fit_n != (int)fit_n || fit_n < 3 || fit_n > MDL_MAX_COLOC)
                return cli_usage("accuracy", "--fit-runs-of: expected a "
                                 "whole number of workloads, 3 to %d, got %s",
                                 MDL_MAX_COLOC, optarg);
            break;
        case 'h':
            if ((c = opt_pos("accuracy", "--hold-out-share", optarg, &hold)))
                return c;
            if (hold >= 100)
                return cli_usage("accuracy", "--hold-out-share: expected a "
                                 "share below 100, got %s", optarg);
            break;
        case 'j': json = 1; break;
        case 'P': points = 1; break;
        default:
            return cli_bad_option("accuracy", argv);
        }
    }
    if (optind < argc)
        return cli_usage("accuracy", "unexpected argument '%s'", argv[optind]);
    if (!measured == !multi)
        return cli_usage("accuracy", "one of --measured and --multi is "
                         "required");
    if (multi && !train)
        return cli_usage("accuracy", "--multi needs --train (the measured "
                         "data the measured predictors are fitted on)");
    if (fit_n && !multi)
        return cli_usage("accuracy", "--fit-runs-of needs --multi (the file "
                         "whose runs it fits on)");
    if (points && !json)
        return cli_usage("accuracy", "--points needs --json (it adds to the "
                         "JSON object)");
    if (hold > 0 && (train || multi))
        return cli_usage("accuracy", "--hold-out-share splits --measured; "
                         "it takes no --train or --multi");
    mdl_fitted f;
    int rc = load_fitted("accuracy", profile, &f);
    if (rc)
        return rc;
    ut_err err;
    acc_data d;
    if (acc_prepare(measured, multi, train, (size_t)fit_n, hold, &d,
                    &err) < 0)
        rc = cli_fail("accuracy", &err);
    else
        rc = accuracy_report(&f, &d, json, points);
    acc_free(&d);
    mdl_fitted_free(&f);
    return rc;
}
