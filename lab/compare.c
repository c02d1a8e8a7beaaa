/*
 * compare.c - `igniter compare`: every policy of an experiment, planned
 * with its own model and data, simulated under the same arrivals and judged
 * by the same back end, over several seeds; then the tables the figures
 * are drawn from (lab.h, lab_compare).
 *
 * Runs are independent processes (fork), so `--jobs N` runs N at a time
 * and the results cannot depend on N: each run is deterministic and the
 * tables are assembled afterwards in a fixed order. A run's outputs are the
 * simulator's own files, so an interrupted compare keeps every finished
 * run and the next one only runs what is missing. A finished run is reused
 * only when the hash of its inputs and of the program (lab_run_hash) is
 * the one recorded in its summary.json: a changed experiment, file,
 * policy or program runs it again.
 *
 * One file of a run is compare's own: the first seed's run also writes
 * cdf-fine.csv, its latency quantiles per workload at about 480 points
 * (cdf.csv has 20), taken from the recorder's histograms that sim_run
 * hands back, for the figures' CDFs. A run without it (stopped between
 * the two files) is drawn from its cdf.csv.
 */
#include "lab/lab.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cmp {
    lab_experiment e;
    mdl_fitted fit;
    mdl_measured meas;
    int have_meas;
    mdl_power power;              /* attached to meas when e.power names one */
    const char *exp_path, *out;
    int nseeds;
    volatile sig_atomic_t *stop;
    lab_note_fn note;
    void *note_ud;
    char (*hash)[17];             /* per run, policy-major */
    double longer_pct;            /* --longer: each run again with every
                                     batch this % longer; 0: not */
    char (*lhash)[17];            /* as hash: those runs' */
    size_t kept, stale;
    /* the summary over seeds, for the figure data: per policy and
     * workload (nw + 1: "all" last) the mean violation %; per policy the
     * cost per hour, its interval and the GPUs */
    double *viol_m, *cost_m, *cost_ci, *gpus_m;
    double *viol_ci;              /* as viol_m: its 95 % interval */
    int *nrun;                    /* per policy: the complete runs */
} cmp;

static int stopped(const cmp *c)
{
    return c->stop && *c->stop;
}

static void note(const cmp *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const cmp *c, const char *fmt, ...)
{
    if (!c->note)
        return;
    char line[UT_PATH_MAX + UT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->note(c->note_ud, line);
}

static void run_dir(const cmp *c, size_t p, int s, char *out, size_t n)
{
    snprintf(out, n, "%s/runs/%s-s%llu", c->out, c->e.policies[p],
             (unsigned long long)(c->e.seed + (uint64_t)s));
}

/* Where run dir's --longer run goes (as sim --sensitivity names it). */
static void longer_dir(const cmp *c, const char *dir, char *out, size_t n)
{
    snprintf(out, n, "%s/sensitivity/x%g", dir, 1 + c->longer_pct / 100);
}

/* 1 when run k (dir) and, with --longer, its longer run are complete with
 * their inputs now; -1 when one of them is stale; 0 when one is missing. */
static int run_status(const cmp *c, size_t k, const char *dir)
{
    int st = lab_run_status(dir, c->hash[k]);
    if (st <= 0 || !(c->longer_pct > 0))
        return st;
    char ld[UT_PATH_MAX + 96];
    longer_dir(c, dir, ld, sizeof ld);
    return lab_run_status(ld, c->lhash[k]);
}

static int make_dir(const char *d, ut_err *err)
{
    if (mkdir(d, 0755) < 0 && errno != EEXIST)
        return ut_errf(err, "cannot create '%s': %s", d, strerror(errno));
    return 0;
}


static int plan_for(const cmp *c, size_t p, pol_request *req, pol_plan *plan,
                    ut_err *err)
{
    *req = (pol_request){c->e.w, c->e.nw, &c->fit,
                         c->have_meas ? &c->meas : NULL, c->e.faithful};
    if (pol_make_plan(c->e.policies[p], req, plan, err) < 0)
        return ut_errprefix(err, "policy %s", c->e.policies[p]);
    return 0;
}

/* ---- the fine CDF of a run --------------------------------------------------- */

#define CMP_FINE_CDF "cdf-fine.csv"
#define CMP_FINE_MAX 1024

/* The quantiles of cdf-fine.csv, ascending: every 1/400 up to 0.99 for the
 * body, then 20 a decade into the tail (1 - q = 10^-2.05, 10^-2.1, ...)
 * while a point still stands for a request (1 - q >= 1/count), then 1
 * (the maximum). About 480 points for 10^6 requests: a tail on a log scale
 * is drawn down to its last request, where cdf.csv stops at 0.999. */
static size_t fine_quantiles(uint64_t count, double *q)
{
    size_t n = 0;
    for (int k = 1; k <= 396; k++)
        q[n++] = k / 400.0;
    for (int j = 41; n < CMP_FINE_MAX - 1; j++) {
        double tail = pow(10, -j / 20.0);
        if (tail * (double)count < 1)
            break;
        q[n++] = 1 - tail;
    }
    q[n++] = 1;
    return n;
}

/* Writes dir/cdf-fine.csv (workload,quantile,latency_ms, as cdf.csv, of
 * the completed requests after the warm-up) from the run's histograms.
 * Only fe_hist_quantile is used, so the histogram's layout may change. */
static int write_fine_cdf(const fe_result *r, const char *dir, ut_err *err)
{
    double *q = ut_xmalloc(CMP_FINE_MAX * sizeof *q);
    ut_buf b = {0};
    ut_buf_printf(&b, "workload,quantile,latency_ms\n");
    for (size_t w = 0; w < r->nw; w++) {
        const fe_hist *h = &r->w[w].lat;
        char nm[2 * POL_NAME_MAX + 4];
        const char *name = ut_csv(r->w[w].name, nm, sizeof nm);
        size_t n = h->count ? fine_quantiles(h->count, q) : 0;
        for (size_t k = 0; k < n; k++)
            ut_buf_printf(&b, "%s,%.10g,%.6f\n", name, q[k],
                          (double)fe_hist_quantile(h, q[k]) / 1e6);
    }
    char path[UT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, CMP_FINE_CDF);
    int rc = ut_write_atomic(path, b.s, b.len, err);
    ut_buf_free(&b);
    free(q);
    return rc;
}

/* One run, in the child process: its exit status. */
static int run_one(const cmp *c, size_t p, int s, const char *dir)
{
    ut_err err;
    pol_request req;
    pol_plan plan;
    if (plan_for(c, p, &req, &plan, &err) < 0) {
        note(c, "igniter compare: %s", err.msg);
        return 2;
    }
    sim_config cfg;
    memset(&cfg, 0, sizeof cfg);
    fe_run *run = &cfg.run;
    run->plan = &plan;
    run->duration_s = c->e.duration_s;
    run->warmup_s = c->e.warmup_s;
    run->interval_s = c->e.interval_s;
    run->seed = c->e.seed + (uint64_t)s;
    run->wcfg = c->e.wcfg;
    run->nw = c->e.nw;
    run->experiment_path = c->exp_path;
    run->profile_path = c->e.profile;
    run->measured_path = c->have_meas ? c->e.measured : NULL;
    run->power_path = c->e.power[0] ? c->e.power : NULL;
    run->stop = c->stop;
    run->input_hash = c->hash[p * (size_t)c->nseeds + (size_t)s];
    cfg.fit = &c->fit;
    cfg.measured = c->have_meas ? &c->meas : NULL;
    cfg.backend = c->e.backend;
    cfg.policy = pol_find(c->e.policies[p]);
    cfg.req = &req;
    cfg.reconfig_delay_s = c->e.reconfig_delay_s;
    /* the first seed's histograms, for the figures' fine CDF */
    fe_result res;
    memset(&res, 0, sizeof res);
    size_t k = p * (size_t)c->nseeds + (size_t)s;
    int rc = 0;
    if (lab_run_status(dir, c->hash[k]) <= 0) {  /* else only --longer's */
        rc = sim_run(&cfg, dir, s == 0 ? &res : NULL, &err);
        if (rc == 0 && s == 0 && res.complete)
            rc = write_fine_cdf(&res, dir, &err);
        fe_result_free(&res);
    }
    if (rc == 0 && c->longer_pct > 0 && !stopped(c)) {
        /* this process's copy of the workloads takes the window */
        char ld[UT_PATH_MAX + 96];
        longer_dir(c, dir, ld, sizeof ld);
        rc = lab_run_scaled(&cfg, c->e.wcfg, c->e.nw,
                            c->hash[k], 1 + c->longer_pct / 100, ld, NULL,
                            &err);
    }
    pol_plan_free(&plan);
    if (rc < 0) {
        note(c, "igniter compare: %s: %s", dir, err.msg);
        return 2;
    }
    return stopped(c) ? 130 : 0;
}

/* Runs every (policy, seed) not yet complete, `jobs` at a time. */
static int run_all(cmp *c, int jobs, ut_err *err)
{
    size_t total = c->e.npolicies * (size_t)c->nseeds, next = 0, done = 0;
    int running = 0, failed = 0;
    pid_t *pids = ut_xcalloc(total, sizeof *pids);
    while ((next < total || running > 0)) {
        while (next < total && running < jobs && !stopped(c) && !failed) {
            size_t p = next / (size_t)c->nseeds;
            int s = (int)(next % (size_t)c->nseeds);
            char dir[UT_PATH_MAX + 64];
            run_dir(c, p, s, dir, sizeof dir);
            int st = run_status(c, next, dir);
            if (st > 0) {
                done++;
                c->kept++;
                note(c, "[%zu/%zu] %s: kept (complete, same inputs)", done,
                     total, dir);
                next++;
                continue;
            }
            if (st < 0) {
                c->stale++;
                note(c, "[%zu/%zu] %s: its inputs or the program changed: "
                     "run again", done + 1, total, dir);
            }
            if (make_dir(dir, err) < 0) {
                failed = 1;
                break;
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0)
                _exit(run_one(c, p, s, dir));
            if (pid < 0) {
                ut_errf(err, "cannot start a run: %s", strerror(errno));
                failed = 1;
                break;
            }
            pids[next++] = pid;
            running++;
        }
        if (running == 0)
            break;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0)
            continue;
        running--;
        size_t k = 0;
        while (k < total && pids[k] != pid)
            k++;
        done++;
        char dir[UT_PATH_MAX + 64];
        run_dir(c, k / (size_t)c->nseeds, (int)(k % (size_t)c->nseeds), dir,
                sizeof dir);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        note(c, "[%zu/%zu] %s: %s", done, total, dir,
             code == 0 ? "done" : code == 130 ? "interrupted" : "failed");
        if (code != 0 && code != 130 && !failed) {
            ut_errf(err, "run %s failed (exit status %d)", dir, code);
            failed = 1;
        }
    }
    free(pids);
    return failed ? -1 : 0;
}

/* ---- the tables ------------------------------------------------------------ */

typedef struct row {
    double viol, p99, mean;
} row;

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Mean and 95 % confidence half-width (Student's t) of the finite values
 * among v[0..n) (a workload that completed nothing has no latency);
 * NAN when none. */
static void mean_ci(const double *v, int n, double *mean, double *ci)
{
    double s = 0, s2 = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            s2 += (v[i] - *mean) * (v[i] - *mean);
    *ci = k > 1 ? gsl_cdf_tdist_Pinv(0.975, k - 1) * sqrt(s2 / (k - 1)) /
                      sqrt(k)
                : k ? 0 : NAN;
}

/* ",%.6f", or "," for a number that is not there (NAN). */
static void put(ut_buf *b, double v)
{
    if (isfinite(v))
        ut_buf_printf(b, ",%.6f", v);
    else
        ut_buf_printf(b, ",");
}

/* Appends a run's CSV (skipping its header) with the policy prepended.
 * Fields are copied as they are: quoted names stay quoted, and no field
 * holds a line break (names with control characters are refused). */
static void append_csv(ut_buf *b, const char *dir, const char *file,
                       const char *policy)
{
    char path[UT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = ut_read_file(path, NULL, NULL);
    if (!text)
        return;
    char *line = strchr(text, '\n');
    while (line && line[1]) {
        char *nl = strchr(line + 1, '\n');
        if (nl)
            *nl = '\0';
        ut_buf_printf(b, "%s,%s\n", policy, line + 1);
        line = nl;
    }
    free(text);
}

/* The P99 over all of a run's requests, from its cdf.csv ("all" rows, a
 * name no workload may have); NAN when it has none. */
/* The member of summary j's "workloads" called name, or NULL. */
static const cJSON *workload_named(const cJSON *j, const char *name)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "workloads")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(w, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
            return w;
    }
    return NULL;
}

static double all_p99(const char *dir)
{
    char path[UT_PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/cdf.csv", dir);
    char *t = ut_read_file(path, NULL, NULL);
    double v = NAN;
    const char *q = t ? strstr(t, "\nall,0.99,") : NULL;
    if (q)
        v = strtod(q + 10, NULL);
    free(t);
    return v;
}

static int write_tables(cmp *c, ut_err *err)
{
    size_t np = c->e.npolicies, nw = c->e.nw + 1;   /* + "all" */
    int ns = c->nseeds;
    ut_buf res = {0}, sum = {0}, cdf = {0}, ts = {0};
    const int lg = c->longer_pct > 0;   /* --longer: one more column */
    ut_buf_printf(&res, "policy,seed,complete,gpus,cost_per_hour,gpu_hours,"
                  "busy_pct,workload,slo_violation_pct,p99_ms,mean_ms%s\n",
                  lg ? ",slo_violation_pct_longer" : "");
    ut_buf_printf(&sum, "policy,workload,runs,seeds,slo_violation_pct,"
                  "slo_violation_ci,p99_ms,p99_ci,mean_ms,mean_ci,cost_per_hour,"
                  "cost_ci,gpus%s\n",
                  lg ? ",slo_violation_pct_longer,slo_violation_longer_ci" : "");
    ut_buf_printf(&cdf, "policy,workload,quantile,latency_ms\n");
    ut_buf_printf(&ts, "policy,t_s,workload,arrivals,completions,p99_ms,"
                  "violations,share_pct,instances,batch\n");
    double *v = ut_xcalloc((size_t)ns * nw * 3 + (size_t)ns * 2,
                           sizeof *v);
    double *lv = ut_xcalloc((size_t)ns * nw, sizeof *lv);   /* --longer */
    c->viol_m = ut_xcalloc(np * nw, sizeof *c->viol_m);
    c->cost_m = ut_xcalloc(np, sizeof *c->cost_m);
    c->cost_ci = ut_xcalloc(np, sizeof *c->cost_ci);
    c->gpus_m = ut_xcalloc(np, sizeof *c->gpus_m);
    c->viol_ci = ut_xcalloc(np * nw, sizeof *c->viol_ci);
    c->nrun = ut_xcalloc(np, sizeof *c->nrun);
    int rc = 0;
    for (size_t p = 0; p < np && rc == 0; p++) {
        const char *pn = c->e.policies[p];
        int nrun = 0;
        double *cost = v + (size_t)ns * nw * 3, *gpus = cost + ns;
        for (int s = 0; s < ns; s++) {
            char dir[UT_PATH_MAX + 64], path[UT_PATH_MAX + 96];
            run_dir(c, p, s, dir, sizeof dir);
            snprintf(path, sizeof path, "%s/summary.json", dir);
            cJSON *j = ut_json_load(path, NULL);
            if (!j)
                continue;
            unsigned long long seed = c->e.seed + (uint64_t)s;
            int complete = cJSON_IsTrue(
                cJSON_GetObjectItemCaseSensitive(j, "complete"));
            cJSON *lj = NULL;   /* the --longer run's summary */
            if (lg) {
                char ld[UT_PATH_MAX + 96], lp[UT_PATH_MAX + 128];
                longer_dir(c, dir, ld, sizeof ld);
                snprintf(lp, sizeof lp, "%s/summary.json", ld);
                lj = ut_json_load(lp, NULL);
                complete = complete && lj &&
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                               lj, "complete"));
            }
            const cJSON *tot = cJSON_GetObjectItemCaseSensitive(j, "totals");
            double cph = num(tot, "cost_per_hour");
            double ng = num(tot, "num_gpus"), busy = 0;
            const cJSON *g, *w;
            int k = 0;
            cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "gpus")) {
                busy += num(g, "busy_pct");
                k++;
            }
            busy = k ? busy / k : 0;
            size_t wi = 0;
            double lat_sum = 0, ncomp = 0;
            cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j,
                                                                  "workloads")) {
                const cJSON *lat = cJSON_GetObjectItemCaseSensitive(w,
                                                                   "latency_ms");
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(w, "name");
                row r = {num(w, "slo_violation_pct"), num(lat, "p99"),
                         num(lat, "mean")};
                char q[2 * POL_NAME_MAX + 4];
                ut_buf_printf(&res, "%s,%llu,%d,%g,%.6f,%.6f,%.4f,%s", pn,
                              seed, complete, ng, cph, num(tot, "gpu_hours"),
                              busy,
                              ut_csv(cJSON_IsString(nm) ? nm->valuestring
                                                        : "?", q, sizeof q));
                put(&res, r.viol);
                put(&res, r.p99);
                put(&res, r.mean);
                const cJSON *lw = lj && cJSON_IsString(nm)
                                      ? workload_named(lj, nm->valuestring)
                                      : NULL;
                double lviol = lw ? num(lw, "slo_violation_pct") : NAN;
                if (lg)
                    put(&res, lviol);
                ut_buf_printf(&res, "\n");
                if (complete && wi < nw - 1)
                    lv[(size_t)nrun * nw + wi] = lviol;
                if (num(w, "completed") > 0 && isfinite(r.mean)) {
                    lat_sum += r.mean * num(w, "completed");
                    ncomp += num(w, "completed");
                }
                if (complete && wi < nw - 1) {
                    double *cell = v + ((size_t)nrun * nw + wi) * 3;
                    cell[0] = r.viol;
                    cell[1] = r.p99;
                    cell[2] = r.mean;
                }
                wi++;
            }
            /* the "all" row: totals; the mean over all completed requests
             * (the workloads' means weighted by their completions); the P99
             * over all requests from the run's CDF file */
            double ap99 = all_p99(dir);
            double amean = ncomp > 0 ? lat_sum / ncomp : NAN;
            double viol = num(tot, "slo_violation_pct");
            ut_buf_printf(&res, "%s,%llu,%d,%g,%.6f,%.6f,%.4f,all", pn, seed,
                          complete, ng, cph, num(tot, "gpu_hours"), busy);
            put(&res, viol);
            put(&res, ap99);
            put(&res, amean);
            double lall = lj ? num(cJSON_GetObjectItemCaseSensitive(lj,
                                                                   "totals"),
                                   "slo_violation_pct")
                             : NAN;
            if (lg)
                put(&res, lall);
            ut_buf_printf(&res, "\n");
            cJSON_Delete(lj);
            if (complete)
                lv[(size_t)nrun * nw + nw - 1] = lall;
            if (complete) {
                double *cell = v + ((size_t)nrun * nw + nw - 1) * 3;
                cell[0] = viol;
                cell[1] = ap99;
                cell[2] = amean;
                cost[nrun] = cph;
                gpus[nrun] = ng;
                nrun++;
            }
            if (s == 0) {
                append_csv(&cdf, dir, "cdf.csv", pn);
                append_csv(&ts, dir, "timeseries.csv", pn);
            }
            cJSON_Delete(j);
        }
        double cm, cci, gm, gci;
        mean_ci(cost, nrun, &cm, &cci);
        mean_ci(gpus, nrun, &gm, &gci);
        c->cost_m[p] = cm;
        c->cost_ci[p] = cci;
        c->gpus_m[p] = gm;
        c->nrun[p] = nrun;
        for (size_t wi = 0; wi < nw; wi++) {
            double col[3][1000], m[3], ci[3];
            for (int r = 0; r < nrun && r < 1000; r++)
                for (int q = 0; q < 3; q++)
                    col[q][r] = v[((size_t)r * nw + wi) * 3 + (size_t)q];
            for (int q = 0; q < 3; q++)
                mean_ci(col[q], nrun < 1000 ? nrun : 1000, &m[q], &ci[q]);
            c->viol_m[p * nw + wi] = m[0];
            c->viol_ci[p * nw + wi] = ci[0];
            char q[2 * POL_NAME_MAX + 4];
            ut_buf_printf(&sum, "%s,%s,%d,%d", pn,
                          wi < nw - 1 ? ut_csv(c->e.w[wi].name, q, sizeof q)
                                      : "all",
                          nrun, ns);
            for (int k = 0; k < 3; k++) {
                put(&sum, m[k]);
                put(&sum, ci[k]);
            }
            put(&sum, cm);
            put(&sum, cci);
            if (isfinite(gm))
                ut_buf_printf(&sum, ",%.3f", gm);
            else
                ut_buf_printf(&sum, ",");
            if (lg) {
                double lc[1000], lm, lci;
                for (int r = 0; r < nrun && r < 1000; r++)
                    lc[r] = lv[(size_t)r * nw + wi];
                mean_ci(lc, nrun < 1000 ? nrun : 1000, &lm, &lci);
                put(&sum, lm);
                put(&sum, lci);
            }
            ut_buf_printf(&sum, "\n");
        }
        (void)gci;
    }
    free(v);
    free(lv);
    static const char *names[4] = {"results.csv", "summary.csv", "cdf.csv",
                                   "timeseries.csv"};
    ut_buf *bufs[4] = {&res, &sum, &cdf, &ts};
    for (int k = 0; k < 4; k++) {
        char path[UT_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", c->out, names[k]);
        if (rc == 0)
            rc = ut_write_atomic(path, bufs[k]->s, bufs[k]->len, err);
        ut_buf_free(bufs[k]);
    }
    return rc;
}

/* ---- the figure data -------------------------------------------------------- */

/* A name as one word of a figdata list: meta is read by sh and by gnuplot
 * in single quotes, and gnuplot's words() splits on blanks, so blanks,
 * quotes, backslashes and control characters become '_'. */
static const char *fig_word(const char *s, char *out, size_t n)
{
    snprintf(out, n, "%s", s);
    for (char *q = out; *q; q++)
        if (*q == ' ' || *q == '\'' || *q == '"' || *q == '\\' ||
            (unsigned char)*q < 0x20)
            *q = '_';
    return out;
}

/* One workload's latency quantiles in a run (its completed requests):
 * q ascending, ms non-decreasing. */
typedef struct qpt {
    double q, ms;
} qpt;

typedef struct qtab {
    qpt *p;
    size_t n, cap;
} qtab;

/* Reads a run's quantiles (workload,quantile,latency_ms) into t[0..nw),
 * in the experiment's workload order: cdf-fine.csv, else cdf.csv (20
 * points; its "all" rows, a name no workload has, are skipped). Names are
 * matched as written, CSV-quoted. -1 when neither file is there. */
static int read_quantiles(const cmp *c, const char *rd, qtab *t)
{
    char path[UT_PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/%s", rd, CMP_FINE_CDF);
    char *text = ut_read_file(path, NULL, NULL);
    if (!text) {
        snprintf(path, sizeof path, "%s/cdf.csv", rd);
        text = ut_read_file(path, NULL, NULL);
    }
    if (!text)
        return -1;
    size_t nw = c->e.nw;
    char (*nm)[2 * POL_NAME_MAX + 4] = ut_xcalloc(nw, sizeof *nm);
    for (size_t w = 0; w < nw; w++) {
        char q[sizeof *nm];
        snprintf(nm[w], sizeof nm[w], "%s",
                 ut_csv(c->e.w[w].name, q, sizeof q));
    }
    size_t w = 0;                    /* rows come grouped: try the last first */
    for (char *l = strchr(text, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        for (size_t k = 0; k < nw; k++, w = (w + 1) % nw) {
            size_t len = strlen(nm[w]);
            qpt pt;
            if (strncmp(l + 1, nm[w], len) || l[1 + len] != ',' ||
                sscanf(l + 2 + len, "%lf,%lf", &pt.q, &pt.ms) != 2)
                continue;
            UT_GROW(t[w].p, t[w].cap, t[w].n + 1);
            t[w].p[t[w].n++] = pt;
            break;
        }
    }
    free(nm);
    free(text);
    return 0;
}

/* The fraction of a table's requests at most ms: linear between its
 * points, 0 below the first, 1 from the last (the maximum). */
static double qtab_cdf(const qtab *t, double ms)
{
    if (t->n == 0 || ms < t->p[0].ms)
        return 0;
    if (ms >= t->p[t->n - 1].ms)
        return 1;
    size_t lo = 0, hi = t->n - 1;    /* p[lo].ms <= ms < p[hi].ms */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->p[mid].ms <= ms)
            lo = mid;
        else
            hi = mid;
    }
    const qpt *a = &t->p[lo], *b = &t->p[hi];
    return a->q + (b->q - a->q) * (ms - a->ms) / (b->ms - a->ms);
}

/* What a workload's CDF counts, from the run's summary.json: its completed
 * requests, and those that can only be late (dropped, or already past the
 * SLO at the end), drawn as never served. Over both, the fraction above
 * latency/SLO = 1 is the violation % of fe_violation_pct. Without the
 * summary: the completed ones only. */
typedef struct wcount {
    double done, never;
} wcount;

static void read_counts(const cmp *c, const char *rd, const qtab *t,
                        wcount *n)
{
    char path[UT_PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/summary.json", rd);
    cJSON *j = ut_json_load(path, NULL);
    for (size_t w = 0; w < c->e.nw; w++) {
        n[w] = (wcount){t[w].n ? 1 : 0, 0};
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(j,
                                                              "workloads")) {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
            if (!cJSON_IsString(nm) || strcmp(nm->valuestring,
                                              c->e.w[w].name))
                continue;
            double done = num(o, "completed"), drop = num(o, "dropped"),
                   late = num(o, "late_at_end");   /* absent when none */
            if (isfinite(done) && isfinite(drop))
                n[w] = (wcount){t[w].n ? done : 0,
                                drop + (isfinite(late) ? late : 0)};
            break;
        }
    }
    cJSON_Delete(j);
}

/* The x that stands for "never served" in cdf.dat, beyond any latency:
 * its rows are flagged (third column 1) so that the plot leaves them out
 * of its x range and draws the line out to the edge. */
#define FIG_NEVER_X 1e9

/*
 * One CDF block of cdf.dat: rows "latency/SLO, fraction of the requests
 * above it, 0", the tail that a log scale shows. A workload's block is
 * its own quantiles (runs of equal latency kept by their ends); "all
 * requests" (t and n over every workload, slo_ms each its own) is the
 * mixture of the workloads' CDFs, each weighted by its requests, at 400
 * points spaced evenly in log(latency/SLO). A block is never empty (a
 * NaN row), so gnuplot's index counts it.
 */
static void cdf_block(ut_buf *b, const qtab *t, const wcount *n,
                      const double *slo_ms, size_t nt, int mix)
{
    size_t rows = 0;
    double done = 0, never = 0, xmin = INFINITY, xmax = 0;
    for (size_t w = 0; w < nt; w++) {
        done += n[w].done;
        never += n[w].never;
        if (t[w].n && n[w].done > 0) {
            xmin = fmin(xmin, t[w].p[0].ms / slo_ms[w]);
            xmax = fmax(xmax, t[w].p[t[w].n - 1].ms / slo_ms[w]);
        }
    }
    double all = done + never;
    if (!mix && nt == 1 && all > 0)
        for (size_t k = 0; k < t->n; k++) {
            if (k > 0 && k + 1 < t->n && t->p[k - 1].ms == t->p[k].ms &&
                t->p[k + 1].ms == t->p[k].ms)
                continue;
            double y = (done * (1 - t->p[k].q) + never) / all;
            if (y > 0 && t->p[k].ms > 0) {
                ut_buf_printf(b, "%.6g %.6g 0\n", t->p[k].ms / slo_ms[0], y);
                rows++;
            }
        }
    if (mix && all > 0 && xmax > 0 && xmin > 0) {
        int npt = xmax > xmin ? 400 : 1;
        for (int i = 0; i < npt; i++) {
            double x = npt > 1 ? xmin * pow(xmax / xmin, i / (npt - 1.0))
                               : xmin, above = never;
            for (size_t w = 0; w < nt; w++)
                above += n[w].done * (1 - qtab_cdf(&t[w], x * slo_ms[w]));
            if (above > 0) {
                ut_buf_printf(b, "%.6g %.6g 0\n", x, above / all);
                rows++;
            }
        }
    }
    if (never > 0 && all > 0) {
        ut_buf_printf(b, "%g %.6g 1\n", FIG_NEVER_X, never / all);
        rows++;
    }
    if (rows == 0)
        ut_buf_printf(b, "NaN NaN 0\n");
}

/*
 * Figure data, in the whitespace-separated blocks gnuplot reads best
 * (scripts/plot.sh draws them), built from the summary write_tables made
 * and the first seed's runs:
 *   cost.dat        a row per policy: name, cost per hour, its 95 %
 *                   interval, GPUs, violation % of all requests, its place
 *                   in the experiment (x) and in the registry (colour)
 *   violations.dat  a block per policy, a row per workload and "all":
 *                   x, name, violation %, its 95 % interval
 *   cdf.dat         a block per policy and panel ("all" first, then the
 *                   workloads): latency/SLO, fraction above it (cdf_block)
 *   focus.dat       a block per policy: the focus workload over time
 *   meta            what the titles and lines need: experiment, seeds,
 *                   policies and their colours, workloads and SLOs, the
 *                   focus and its SLO, warm-up, and the times and factors
 *                   of the focus workload's rate schedule. Plain
 *                   name='value' lines that sh and gnuplot both read.
 * A policy's colour is its place in the registry (pol_all), so it is the
 * same in every figure of every experiment.
 */
static int figure_data(const cmp *c, ut_err *err)
{
    char dir[UT_PATH_MAX + 32], path[UT_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/figdata", c->out);
    if (make_dir(dir, err) < 0)
        return -1;
    size_t np = c->e.npolicies, nw = c->e.nw;
    ut_buf cost = {0}, vd = {0}, cdf = {0}, focus = {0}, meta = {0};
    int *colour = ut_xcalloc(np, sizeof *colour), seeds = c->nseeds;
    for (size_t p = 0; p < np; p++) {
        const pol_ops *const *o = pol_all();
        while (o[colour[p]] && strcmp(o[colour[p]]->name, c->e.policies[p]))
            colour[p]++;
        if (c->nrun[p] < seeds)
            seeds = c->nrun[p];
    }
    ut_buf_printf(&cost, "# policy cost_per_hour cost_ci gpus slo_violation_pct"
                  " x colour\n");
    for (size_t p = 0; p < np; p++)
        if (isfinite(c->cost_m[p]))
            ut_buf_printf(&cost, "%s %.6f %.6f %.3f %.4f %zu %d\n",
                          c->e.policies[p], c->cost_m[p], c->cost_ci[p],
                          c->gpus_m[p], c->viol_m[p * (nw + 1) + nw], p,
                          colour[p]);
    char word[POL_NAME_MAX];
    for (size_t p = 0; p < np; p++) {
        ut_buf_printf(&vd, "# %s: x workload slo_violation_pct slo_violation_ci\n",
                      c->e.policies[p]);
        for (size_t w = 0; w <= nw; w++) {
            double x = c->viol_m[p * (nw + 1) + w],
                   ci = c->viol_ci[p * (nw + 1) + w];
            ut_buf_printf(&vd, "%zu %s", w,
                          fig_word(w < nw ? c->e.w[w].name : "all", word,
                                   sizeof word));
            ut_buf_printf(&vd, isfinite(x) ? " %.4f" : " NaN", x);
            ut_buf_printf(&vd, isfinite(ci) ? " %.4f\n" : " 0\n", ci);
        }
        ut_buf_printf(&vd, "\n\n");
    }
    char fq[2 * POL_NAME_MAX + 4];
    const char *fname = ut_csv(c->e.focus, fq, sizeof fq);
    size_t flen = strlen(fname), fi = 0;
    while (fi + 1 < nw && strcmp(c->e.w[fi].name, c->e.focus))
        fi++;
    qtab *t = ut_xcalloc(nw, sizeof *t);
    wcount *n = ut_xcalloc(nw, sizeof *n);
    double *slo = ut_xcalloc(nw, sizeof *slo);
    for (size_t w = 0; w < nw; w++)
        slo[w] = c->e.w[w].slo_ms;
    for (size_t p = 0; p < np; p++) {
        char rd[UT_PATH_MAX + 64];
        run_dir(c, p, 0, rd, sizeof rd);
        for (size_t w = 0; w < nw; w++)
            t[w].n = 0;
        read_quantiles(c, rd, t);
        read_counts(c, rd, t, n);
        for (size_t w = 0; w <= nw; w++) {
            ut_buf_printf(&cdf, "# %s, %s: latency/slo fraction_above "
                          "never\n", c->e.policies[p],
                          w ? fig_word(c->e.w[w - 1].name, word, sizeof word)
                            : "all");
            if (w == 0)
                cdf_block(&cdf, t, n, slo, nw, 1);
            else
                cdf_block(&cdf, &t[w - 1], &n[w - 1], &slo[w - 1], 1, 0);
            ut_buf_printf(&cdf, "\n\n");
        }
        ut_buf_printf(&focus, "# %s: t_s p99_ms share_pct violations\n",
                      c->e.policies[p]);
        snprintf(path, sizeof path, "%s/timeseries.csv", rd);
        char *text = ut_read_file(path, NULL, NULL);
        for (char *l = text ? strchr(text, '\n') : NULL; l && l[1];
             l = strchr(l + 1, '\n')) {
            char *f = strchr(l + 1, ',');
            if (!f || strncmp(f + 1, fname, flen) || f[1 + flen] != ',')
                continue;
            double tsv = strtod(l + 1, NULL), arr, done, p99, viol2, share;
            if (sscanf(f + 2 + flen, "%lf,%lf,%lf,%lf,%lf", &arr, &done, &p99,
                       &viol2, &share) == 5)
                ut_buf_printf(&focus, "%g %.4f %.4g %g\n", tsv, p99, share,
                              viol2);
        }
        free(text);
        ut_buf_printf(&focus, "\n\n");
    }
    for (size_t w = 0; w < nw; w++)
        free(t[w].p);
    free(t);
    free(n);

    /* the experiment's name: its file's, without the folder and ".json" */
    char ename[UT_PATH_MAX];
    const char *base = strrchr(c->exp_path, '/');
    fig_word(base ? base + 1 : c->exp_path, ename, sizeof ename);
    size_t bl = strlen(ename);
    if (bl > 5 && !strcmp(ename + bl - 5, ".json"))
        ename[bl - 5] = '\0';
    ut_buf_printf(&meta, "# igniter compare's figure data (lab/compare.c, "
                  "figure_data), read by sh and gnuplot\n");
    ut_buf_printf(&meta, "experiment='%s'\n", ename);
    ut_buf_printf(&meta, "# complete runs of every policy, of seeds_asked\n"
                  "seeds=%d\nseeds_asked=%d\n", seeds, c->nseeds);
    ut_buf_printf(&meta, "policies='");
    for (size_t p = 0; p < np; p++)
        ut_buf_printf(&meta, "%s%s", p ? " " : "",
                      fig_word(c->e.policies[p], word, sizeof word));
    ut_buf_printf(&meta, "'\n# each policy's place in the registry: its "
                  "colour\ncolours='");
    for (size_t p = 0; p < np; p++)
        ut_buf_printf(&meta, "%s%d", p ? " " : "", colour[p]);
    ut_buf_printf(&meta, "'\nworkloads='");
    for (size_t w = 0; w < nw; w++)
        ut_buf_printf(&meta, "%s%s", w ? " " : "",
                      fig_word(c->e.w[w].name, word, sizeof word));
    ut_buf_printf(&meta, "'\nslos='");
    for (size_t w = 0; w < nw; w++)
        ut_buf_printf(&meta, "%s%g", w ? " " : "", slo[w]);
    ut_buf_printf(&meta, "'\nfocus='%s'\nfocus_slo=%g\nwarmup=%g\n",
                  fig_word(c->e.focus, word, sizeof word), slo[fi],
                  c->e.warmup_s);
    /* the focus workload's rate steps after the start (time, factor) */
    const trace_spec *a = &c->e.wcfg[fi].arrivals;
    size_t ns = a->kind == TRACE_SCHEDULE ? a->nsteps : 0;
    ut_buf_printf(&meta, "# the focus workload's rate steps: times (s) and "
                  "factors of its rate\nsteps='");
    for (size_t k = 1; k < ns; k++)
        ut_buf_printf(&meta, "%s%g", k > 1 ? " " : "", a->step_s[k]);
    ut_buf_printf(&meta, "'\nfactors='");
    for (size_t k = 1; k < ns; k++)
        ut_buf_printf(&meta, "%s%g", k > 1 ? " " : "", a->factor[k]);
    ut_buf_printf(&meta, "'\n");
    free(slo);
    free(colour);
    static const char *names[5] = {"cost.dat", "violations.dat", "cdf.dat",
                                   "focus.dat", "meta"};
    ut_buf *bufs[5] = {&cost, &vd, &cdf, &focus, &meta};
    int rc = 0;
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (rc == 0)
            rc = ut_write_atomic(path, bufs[k]->s, bufs[k]->len, err);
        ut_buf_free(bufs[k]);
    }
    return rc;
}

/*
 * The policies of a --policies list into e, replacing the experiment's:
 * "a,b,c", each registered and named once, in the order given. The
 * registry, not the experiment, decides what may be compared, so a policy
 * the experiment does not list is allowed. -1 with a message naming the
 * value on a bad list (e untouched then).
 */
static int select_policies(const char *list, lab_experiment *e, ut_err *err)
{
    char got[LAB_MAX_POLICIES][POL_NAME_MAX];
    size_t n = 0;
    const char *s = list;
    for (;;) {
        size_t len = strcspn(s, ",");
        char names[256];
        if (len == 0)
            return ut_errf(err, "--policies: expected policy names separated "
                           "by commas, got \"%s\"", list);
        if (n == LAB_MAX_POLICIES)
            return ut_errf(err, "--policies: expected at most %d policies, "
                           "got more in \"%s\"", LAB_MAX_POLICIES, list);
        if (len >= POL_NAME_MAX)
            return ut_errf(err, "--policies: expected one of %s, got \"%.*s\"",
                           pol_names(names, sizeof names), (int)len, s);
        memcpy(got[n], s, len);
        got[n][len] = '\0';
        if (!pol_find(got[n]))
            return ut_errf(err, "--policies: expected one of %s, got \"%s\"",
                           pol_names(names, sizeof names), got[n]);
        /* each once: compare keys its runs by policy name */
        for (size_t k = 0; k < n; k++)
            if (!strcmp(got[k], got[n]))
                return ut_errf(err, "--policies: expected each policy once, "
                               "got \"%s\" twice", got[n]);
        n++;
        if (!s[len])
            break;
        s += len + 1;
    }
    memcpy(e->policies, got, sizeof got);
    e->npolicies = n;
    return 0;
}

int lab_compare(const char *exp_path, const char *out_dir, int jobs,
                int nseeds, volatile sig_atomic_t *stop, lab_note_fn note_fn,
                void *note_ud, ut_err *err)
{
    return lab_compare_policies(exp_path, out_dir, NULL, jobs, nseeds, stop,
                                note_fn, note_ud, err);
}

int lab_compare_policies(const char *exp_path, const char *out_dir,
                         const char *policies, int jobs, int nseeds,
                         volatile sig_atomic_t *stop, lab_note_fn note_fn,
                         void *note_ud, ut_err *err)
{
    return lab_compare_longer(exp_path, out_dir, policies, jobs, nseeds, 0,
                              stop, note_fn, note_ud, err);
}

int lab_compare_longer(const char *exp_path, const char *out_dir,
                       const char *policies, int jobs, int nseeds,
                       double longer_pct, volatile sig_atomic_t *stop,
                       lab_note_fn note_fn, void *note_ud, ut_err *err)
{
    cmp c;
    memset(&c, 0, sizeof c);
    if (!(longer_pct >= 0 && longer_pct <= LAB_MAX_SENSITIVITY))
        return ut_errf(err, "--longer: expected a percentage in (0, %g], "
                       "got %g", LAB_MAX_SENSITIVITY, longer_pct);
    c.longer_pct = longer_pct;
    c.exp_path = exp_path;
    c.out = out_dir;
    c.stop = stop;
    c.note = note_fn;
    c.note_ud = note_ud;
    int rc = -1;
    if (!out_dir[0])   /* "" would put runs/ and the tables in / */
        return ut_errf(err, "--out: expected a folder, got \"\"");
    if (lab_experiment_load(exp_path, &c.e, err) < 0)
        return -1;
    if (policies && select_policies(policies, &c.e, err) < 0) {
        lab_experiment_free(&c.e);
        return -1;
    }
    if (c.e.npolicies == 0)
        for (const pol_ops *const *o = pol_all(); *o && c.e.npolicies < 16;
             o++)
            snprintf(c.e.policies[c.e.npolicies++], POL_NAME_MAX, "%s",
                     (*o)->name);
    c.nseeds = nseeds > 0 ? nseeds : c.e.nseeds;
    if (jobs < 1)
        jobs = 1;
    if (!sim_backend_find(c.e.backend)) {
        char names[128];
        ut_errf(err, "%s: backend: expected one of %s, got \"%s\"", exp_path,
                sim_backend_names(names, sizeof names), c.e.backend);
        goto out;
    }
    if (mdl_load(c.e.profile, &c.fit, err) < 0)
        goto out;

    if (c.e.measured[0]) {
        if (mdl_measured_load(c.e.measured, &c.meas, err) < 0)
            goto out;
        c.have_meas = 1;
    }
    if (c.e.power[0] && lab_power_attach(c.e.power, c.e.backend, &c.meas,
                                         c.have_meas, &c.power, err) < 0) {
        ut_errprefix(err, "%s", exp_path);
        goto out;
    }
    /* every policy must plan before anything runs: bad input stops here */
    for (size_t p = 0; p < c.e.npolicies; p++) {
        pol_request req;
        pol_plan plan;
        if (plan_for(&c, p, &req, &plan, err) < 0)
            goto out;
        int bad = c.e.power[0] && lab_power_check_plan(&c.power, &c.meas,
                                                       &plan, c.e.power,
                                                       err) < 0;
        pol_plan_free(&plan);
        if (bad)
            goto out;
    }
    if (c.longer_pct > 0)
        for (size_t w = 0; w < c.e.nw; w++)
            if (c.e.wcfg[w].nslow >= FE_MAX_SLOWDOWNS) {
                ut_errf(err, "--longer: workload %s has %d slow-downs "
                        "already, the most it can have, and this needs one "
                        "more", c.e.wcfg[w].name, FE_MAX_SLOWDOWNS);
                goto out;
            }
    size_t total = c.e.npolicies * (size_t)c.nseeds;
    c.hash = ut_xcalloc(total, sizeof *c.hash);
    c.lhash = ut_xcalloc(total, sizeof *c.lhash);
    for (size_t k = 0; k < total; k++) {
        lab_run_hash(&c.e, exp_path, c.e.plan[0] ? c.e.plan : NULL,
                     c.e.policies[k / (size_t)c.nseeds],
                     c.e.seed + k % (size_t)c.nseeds, c.hash[k]);
        if (c.longer_pct > 0)
            lab_scaled_hash(c.e.wcfg, c.e.nw, c.hash[k],
                            1 + c.longer_pct / 100, c.lhash[k]);
    }
    char runs[UT_PATH_MAX + 16];
    snprintf(runs, sizeof runs, "%s/runs", out_dir);
    if (ut_mkdir_p(runs, err) < 0)
        goto out;
    if (run_all(&c, jobs, err) < 0)
        goto out;
    if (c.kept || c.stale)
        note(&c, "igniter compare: %zu run%s kept (same inputs), %zu run "
             "again (inputs or program changed)", c.kept,
             c.kept == 1 ? "" : "s", c.stale);
    rc = write_tables(&c, err);
    if (rc == 0)
        rc = figure_data(&c, err);
    if (rc == 0 && stopped(&c)) {
        ut_errf(err, "interrupted: the tables hold the finished runs only "
                "(summary.csv: runs < seeds); they are kept in %s/runs, and "
                "the same command again completes the rest", out_dir);
        rc = 1;
    }
out:
    free(c.hash);
    free(c.lhash);
    free(c.viol_m);
    free(c.cost_m);
    free(c.cost_ci);
    free(c.gpus_m);
    free(c.viol_ci);
    free(c.nrun);
    if (c.have_meas)
        mdl_measured_free(&c.meas);
    mdl_power_free(&c.power);
    mdl_fitted_free(&c.fit);
    lab_experiment_free(&c.e);
    return rc;
}
