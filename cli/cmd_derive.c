/*
 * cmd_derive.c - `igniter derive`: a capture's raw records into a profile
 * and the measured co-location files (cap_derive), then a check that the
 * profile fits. With MPS records (igniter-capture mps, in the raw file or
 * a file of their own), the MPS correction over the green data too
 * (measured-mps.jsonl, model/mps.c); with "power" records, the power
 * model (measured-power.json, model/power.c). Those records are read
 * here, at the edge that sees both the raw schema (capture/) and the model
 * (model/).
 */
#include "capture/capture.h"
#include "cli/cli.h"
#include "model/model.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char derive_help[] =
    "usage: igniter derive RAW.jsonl --out DIR [--gpu NAME]\n"
    "                      [--price USD_PER_HOUR] [--mps MPS.jsonl]\n"
    "                      [--power POWER.jsonl]\n\n"
    "Derives, from the raw records igniter-capture wrote (capture/README.md,\n"
    "\"Raw records\"), into DIR:\n"
    "  profile.json               the profile the model is fitted from\n"
    "  measured-colocation.jsonl  solo tables and the fitting pairs\n"
    "  measured-heldout.jsonl     solo tables and the held-out pairs\n"
    "  colocations-multi.jsonl    held-out runs of 3 and 4 workloads (input\n"
    "                             for igniter predict --input)\n"
    "and, when there are MPS records (igniter-capture mps: \"mech\":\"mps\"\n"
    "solo and coloc records, in RAW.jsonl or in --mps MPS.jsonl):\n"
    "  measured-mps.jsonl         the MPS correction over the green data:\n"
    "                             MPS / green solo latency per model, batch\n"
    "                             and percentage, and MPS / green pair\n"
    "                             slow-down per model pair (igniter sim\n"
    "                             --mechanism mps; docs/simulator.md, MPS)\n"
    "and, when there are \"power\" records (igniter-capture run --steps\n"
    "meta,power, in RAW.jsonl or in --power POWER.jsonl):\n"
    "  measured-power.json        what each model draws on each share and\n"
    "                             batch, and the clock the board holds a\n"
    "                             set of them to under its power cap\n"
    "                             (igniter sim --power; docs/simulator.md)\n"
    "All or none: a raw file that lacks a step's records is an error\n"
    "naming the step. Without MPS records a measured-mps.jsonl left in DIR\n"
    "by an earlier derive is removed (it would correct other data), and\n"
    "likewise measured-power.json without power records. Then fits the\n"
    "profile, as a check.\n\n"
    "  --out DIR      output folder (created if missing)\n"
    "  --gpu NAME     GPU name in the profile (default: from the capture,\n"
    "                 \"NVIDIA H100 80GB HBM3\" -> H100)\n"
    "  --price X      price per hour in USD to record (default: none)\n"
    "  --mps FILE     more MPS records, from a capture of their own (only\n"
    "                 its \"mech\":\"mps\" solo and coloc records are read)\n"
    "  --power FILE   power records from a capture of their own (its meta\n"
    "                 and \"power\" records are read)\n";

#define MPS_FILE "measured-mps.jsonl"

/* The MPS points of a raw file, appended to *pts: every "solo" and
 * "coloc" record with "mech":"mps", checked against the raw schema
 * (capture/record.c: FILE:LINE: KIND.FIELD: expected X, got Y). Runs of
 * three or more are read for the correction's runs term (their members'
 * alone_ms: model.h, "the MPS correction"). Other
 * records are cap_derive's, and so are the green capture's lines that are
 * not JSON (own 0: cap_derive reads the file next and says where); in a
 * file of MPS records alone (own 1) such a line is an error here. */
static int read_mps(const char *path, int own, mdl_mps_point **pts,
                    size_t *n, size_t *cap, ut_err *err)
{
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return -1;
    int line = 0, rc = 0;
    cap_rec *v = ut_xmalloc(sizeof *v);
    for (char *s = text; *s && rc == 0;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        line++;
        if (*ut_skip_blank(s)) {
            cJSON *o = cJSON_ParseWithOpts(s, NULL, 1);
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "mech");
            int solo = cJSON_IsString(k) && !strcmp(k->valuestring, "solo");
            int coloc = cJSON_IsString(k) && !strcmp(k->valuestring, "coloc");
            char where[300];
            snprintf(where, sizeof where, "%s:%d: %s", path, line,
                     solo ? "solo" : "coloc");
            if (!o && own)
                rc = ut_errf(err, "%s:%d: expected valid JSON, got '%.20s'",
                             path, line, s);
            else if ((solo || coloc) && cJSON_IsString(m) &&
                     !strcmp(m->valuestring, "mps")) {
                rc = cap_rec_read(o, solo ? CAP_REC_SOLO_MPS
                                          : CAP_REC_COLOC_MPS,
                                  where, v, err);
                int nm = solo ? 1 : v->nmembers;
                for (int i = 0; rc == 0 && i < nm; i++) {
                    const cap_rec_val *(*get)(const cap_rec *, int,
                                              const char *) =
                        cap_rec_member_get;
                    const cap_rec_val *mv = solo ? cap_rec_get(v, "model")
                                                 : get(v, i, "model");
                    UT_GROW(*pts, *cap, *n + 1);
                    mdl_mps_point *p = *pts + *n;
                    memset(p, 0, sizeof *p);
                    snprintf(p->model, sizeof p->model, "%s", mv->str);
#define MPS_NUM(f) (solo ? cap_rec_get(v, f) : get(v, i, f))->num
                    p->batch = (int)MPS_NUM("batch");
                    p->pct = MPS_NUM("active_thread_pct");
                    p->mean_ms = MPS_NUM("mean_ms");
#undef MPS_NUM
                    p->file = path;
                    p->line = line;
                    p->member = solo ? -1 : i;
                    p->run_n = nm;
                    const cap_rec_val *al = solo ? NULL
                                                 : get(v, i, "alone_ms");
                    p->alone_ms = al && al->set ? al->num : NAN;
                    (*n)++;
                }
            }
            cJSON_Delete(o);
        }
        if (!nl)
            break;
        s = nl + 1;
    }
    free(v);
    free(text);
    return rc;
}

#define POWER_FILE "measured-power.json"

/* The board's limits and SM count: the last meta record before a power
 * record of its file. */
typedef struct power_meta {
    double cap_w, max_clock_mhz, sm_count;
} power_meta;

/* The "power" records of a raw file, appended to *pts, checked against the
 * raw schema; each member's share from its SMs and its file's meta. Other
 * lines are cap_derive's (own 0), or skipped in a file of its own (own
 * 1), where a line that is not JSON is an error. */
static int read_power(const char *path, int own, mdl_power_point **pts,
                      size_t *n, size_t *cap, power_meta *pm, ut_err *err)
{
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return -1;
    int line = 0, rc = 0;
    power_meta meta = {0, 0, 0};
    cap_rec *v = ut_xmalloc(sizeof *v);
    char *cur = text, *s;
    while (rc == 0 && (s = ut_line_next(&cur, &line))) {
        if (!*ut_skip_blank(s))
            continue;
        cJSON *o = cJSON_ParseWithOpts(s, NULL, 1);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");
        const char *kind = cJSON_IsString(k) ? k->valuestring : "";
        char where[300];
        snprintf(where, sizeof where, "%s:%d: %s", path, line, kind);
        if (!o && own) {
            rc = ut_errf(err, "%s:%d: expected valid JSON, got '%.20s'",
                         path, line, s);
        } else if (!strcmp(kind, "meta")) {
            if ((rc = cap_rec_read(o, CAP_REC_META, where, v, err)) == 0)
                meta = (power_meta){cap_rec_get(v, "power_cap_w")->num,
                                    cap_rec_get(v, "max_clock_mhz")->num,
                                    cap_rec_get(v, "sm_count")->num};
        } else if (!strcmp(kind, "power")) {
            rc = cap_rec_read(o, CAP_REC_POWER, where, v, err);
            if (rc == 0 && !(meta.sm_count > 0))
                rc = ut_errf(err, "%s: expected a meta record before it "
                             "(the GPU's SMs, power cap and clock), got "
                             "none", where);
            const char *set = rc == 0 ? cap_rec_get(v, "set")->str : "";
            int nm = rc == 0 ? v->nmembers : 0;
            int want = !strcmp(set, "idle") ? 0 : !strcmp(set, "solo") ? 1
                                                                        : -1;
            if (rc == 0 && (want >= 0 ? nm != want : nm < 2))
                rc = ut_errf(err, "%s.members: expected %s for set \"%s\", "
                             "got %d", where, want == 0 ? "none"
                             : want == 1 ? "one" : "2 or more", set, nm);
            if (rc == 0) {
                UT_GROW(*pts, *cap, *n + 1);
                mdl_power_point *p = *pts + *n;
                memset(p, 0, sizeof *p);
                p->n = nm;
                for (int i = 0; i < nm; i++) {
                    snprintf(p->model[i], sizeof p->model[i], "%s",
                             cap_rec_member_get(v, i, "model")->str);
                    p->batch[i] = (int)cap_rec_member_get(v, i, "batch")->num;
                    p->share_pct[i] =
                        100 * cap_rec_member_get(v, i, "sms")->num /
                        meta.sm_count;
                }
                p->power_w = cap_rec_get(v, "power_w")->num;
                p->clock_mhz = cap_rec_get(v, "clock_mhz")->num;
                p->file = path;
                p->line = line;
                (*n)++;
                *pm = meta;
            }
        }
        cJSON_Delete(o);
    }
    free(v);
    free(text);
    return rc;
}

/* The power model's text from the power records of raw and of the file
 * power (may be NULL); *text NULL when there are none (an error for the
 * file of its own). */
static int derive_power(const char *raw, const char *power, char **text,
                        mdl_power_fit *fit, size_t *npts, ut_err *err)
{
    mdl_power_point *pts = NULL;
    size_t n = 0, cap = 0;
    power_meta pm = {0, 0, 0};
    *text = NULL;
    int rc = read_power(raw, 0, &pts, &n, &cap, &pm, err);
    size_t in_raw = n;
    if (rc == 0 && power)
        rc = read_power(power, 1, &pts, &n, &cap, &pm, err);
    if (rc == 0 && power && n == in_raw)
        rc = ut_errf(err, "%s: --power: expected \"power\" records, got "
                     "none", power);
    if (rc == 0 && n)
        rc = mdl_power_derive(pts, n, pm.cap_w, pm.max_clock_mhz,
                              power && n > in_raw ? power : raw, text, fit,
                              err);
    *npts = n;
    free(pts);
    return rc;
}

static const char *const staged[] = {
    "profile.json", "measured-colocation.jsonl", "measured-heldout.jsonl",
    "colocations-multi.jsonl", MPS_FILE};
#define NSTAGED (sizeof staged / sizeof *staged)

/*
 * Derives with MPS, all or nothing: cap_derive into a fresh folder inside
 * out (so the green data is there to take ratios over, and nothing is in
 * out yet), the correction beside it, loaded back, then every file renamed
 * into out. A bad MPS point (an unknown model) leaves out as it was.
 */
static int derive_mps(const char *raw, const char *out, const char *gpu,
                      double price, const mdl_mps_point *pts, size_t n,
                      ut_err *err)
{
    struct stat st;
    int existed = stat(out, &st) == 0;
    if (ut_mkdir_p(out, err) < 0)
        return -1;
    char stage[4096], from[4200], to[4200];
    snprintf(stage, sizeof stage, "%s/.derive-mps-XXXXXX", out);
    if (!mkdtemp(stage)) {
        ut_errf(err, "cannot write into '%s': %s", out, strerror(errno));
        if (!existed)
            rmdir(out);
        return -1;
    }
    char *text = NULL;
    mdl_measured green;
    memset(&green, 0, sizeof green);
    int rc = cap_derive(raw, stage, gpu, price, err);
    if (rc == 0) {
        snprintf(from, sizeof from, "%s/%s", stage, staged[1]);
        rc = mdl_measured_load(from, &green, err);
    }
    if (rc == 0)
        rc = mdl_mps_derive(&green, pts, n, staged[1], &text, err);
    if (rc == 0) {
        snprintf(from, sizeof from, "%s/%s", stage, MPS_FILE);
        rc = ut_write_atomic(from, text, strlen(text), err);
    }
    if (rc == 0) {
        mdl_mps x;
        if ((rc = mdl_mps_load(from, &green, &x, err)) < 0)
            ut_errprefix(err, "derived %s does not load", MPS_FILE);
        else
            mdl_mps_free(&x);
    }
    for (size_t f = 0; f < NSTAGED && rc == 0; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, staged[f]);
        snprintf(to, sizeof to, "%s/%s", out, staged[f]);
        if (rename(from, to) < 0)
            rc = ut_errf(err, "cannot write '%s': %s", to, strerror(errno));
    }
    for (size_t f = 0; f < NSTAGED; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, staged[f]);
        unlink(from);
    }
    rmdir(stage);
    if (rc < 0 && !existed)
        rmdir(out);
    free(text);
    mdl_measured_free(&green);
    return rc;
}

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
        {"mps", required_argument, NULL, 'm'},
        {"power", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *gpu = NULL, *mps = NULL, *power = NULL;
    double price = 0;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'g': gpu = optarg; break;
        case 'm': mps = optarg; break;
        case 'p': power = optarg; break;
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
    mdl_mps_point *pts = NULL;
    size_t npts = 0, cap = 0;
    if (read_mps(argv[optind], 0, &pts, &npts, &cap, &err) < 0 ||
        (mps && read_mps(mps, 1, &pts, &npts, &cap, &err) < 0)) {
        free(pts);
        return cli_fail("derive", &err);
    }
    if (mps && npts == 0) {
        free(pts);
        return cli_usage("derive", "--mps: expected MPS records "
                         "(\"mech\":\"mps\") in '%s', got none", mps);
    }
    /* the power model before anything is written: a bad power record
     * leaves out as it was */
    char *ptext = NULL;
    mdl_power_fit pfit;
    size_t npower = 0;
    if (derive_power(argv[optind], power, &ptext, &pfit, &npower, &err) < 0) {
        free(pts);
        return cli_fail("derive", &err);
    }
    int rcd = npts ? derive_mps(argv[optind], out, gpu, price, pts, npts,
                                &err)
                   : cap_derive(argv[optind], out, gpu, price, &err);
    free(pts);
    char ppath[4096];
    snprintf(ppath, sizeof ppath, "%s/%s", out, POWER_FILE);
    if (rcd == 0 && ptext)
        rcd = ut_write_atomic(ppath, ptext, strlen(ptext), &err);
    free(ptext);
    if (rcd < 0)
        return cli_fail("derive", &err);
    if (!npower && unlink(ppath) == 0)
        printf("%s: removed (no power records in this capture)\n", ppath);
    else if (npower)
        printf("%s: %zu power points; clock over %zu runs of several (%zu "
               "below the maximum): mean error %.2f %%, max %.2f %%; "
               "summed power of those at the maximum: %+.1f %% (abs "
               "%.1f %%)\n", ppath, npower, pfit.sets, pfit.throttled,
               pfit.clock_err_mean_pct, pfit.clock_err_max_pct,
               pfit.sum_err_mean_pct, pfit.sum_err_abs_pct);
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/%s", out, MPS_FILE);
    if (!npts && unlink(mpath) == 0)
        printf("%s: removed (no MPS records in this capture)\n", mpath);

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
    if (npts) {
        char gpath[4096];
        snprintf(gpath, sizeof gpath, "%s/measured-colocation.jsonl", out);
        mdl_measured g;
        mdl_mps x;
        if (mdl_measured_load(gpath, &g, &err) == 0) {
            if (mdl_mps_load(mpath, &g, &x, &err) == 0) {
                size_t nm = 0;
                for (size_t i = 0; i < x.nmodels; i++)
                    nm += (size_t)x.models[i].has;
                printf("%s: MPS correction of %zu models from %zu solo "
                       "points and %zu pairs\n", mpath, nm, x.nsolo_points,
                       x.npair_points);
                mdl_mps_free(&x);
            }
            mdl_measured_free(&g);
        }
    }
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
