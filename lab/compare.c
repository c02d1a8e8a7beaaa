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
    const char *exp_path, *out;
    int nseeds;
    volatile sig_atomic_t *stop;
    lab_note_fn note;
    void *note_ud;
    char (*hash)[17];             /* per run, policy-major */
    size_t kept, stale;
    /* the summary over seeds, for the figure data: per policy and
     * workload (nw + 1: "all" last) the mean violation %; per policy the
     * cost per hour, its interval and the GPUs */
    double *viol_m, *cost_m, *cost_ci, *gpus_m;
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
    run->stop = c->stop;
    run->input_hash = c->hash[p * (size_t)c->nseeds + (size_t)s];
    cfg.fit = &c->fit;
    cfg.measured = c->have_meas ? &c->meas : NULL;
    cfg.backend = c->e.backend;
    cfg.policy = pol_find(c->e.policies[p]);
    cfg.req = &req;
    cfg.reconfig_delay_s = c->e.reconfig_delay_s;
    int rc = sim_run(&cfg, dir, NULL, &err);
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
            int st = lab_run_status(dir, c->hash[next]);
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
    ut_buf_printf(&res, "policy,seed,complete,gpus,cost_per_hour,gpu_hours,"
                  "busy_pct,workload,violation_pct,p99_ms,mean_ms\n");
    ut_buf_printf(&sum, "policy,workload,runs,seeds,violation_pct,"
                  "violation_ci,p99_ms,p99_ci,mean_ms,mean_ci,cost_per_hour,"
                  "cost_ci,gpus\n");
    ut_buf_printf(&cdf, "policy,workload,quantile,latency_ms\n");
    ut_buf_printf(&ts, "policy,t_s,workload,arrivals,completions,p99_ms,"
                  "violations,share_pct,instances\n");
    double *v = ut_xcalloc((size_t)ns * nw * 3 + (size_t)ns * 2,
                           sizeof *v);
    c->viol_m = ut_xcalloc(np * nw, sizeof *c->viol_m);
    c->cost_m = ut_xcalloc(np, sizeof *c->cost_m);
    c->cost_ci = ut_xcalloc(np, sizeof *c->cost_ci);
    c->gpus_m = ut_xcalloc(np, sizeof *c->gpus_m);
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
            const cJSON *tot = cJSON_GetObjectItemCaseSensitive(j, "totals");
            double simulated = num(j, "simulated_s");
            double cph = num(tot, "cost") * 3600 / simulated;
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
                ut_buf_printf(&res, "\n");
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
            ut_buf_printf(&res, "\n");
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
        for (size_t wi = 0; wi < nw; wi++) {
            double col[3][1000], m[3], ci[3];
            for (int r = 0; r < nrun && r < 1000; r++)
                for (int q = 0; q < 3; q++)
                    col[q][r] = v[((size_t)r * nw + wi) * 3 + (size_t)q];
            for (int q = 0; q < 3; q++)
                mean_ci(col[q], nrun < 1000 ? nrun : 1000, &m[q], &ci[q]);
            c->viol_m[p * nw + wi] = m[0];
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
                ut_buf_printf(&sum, ",%.3f\n", gm);
            else
                ut_buf_printf(&sum, ",\n");
        }
        (void)gci;
    }
    free(v);
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

/*
 * Figure data, in the whitespace-separated blocks gnuplot reads best
 * (scripts/plot.sh draws them): cost.dat (policy, cost per hour, its 95 %
 * interval, GPUs, violation % of all requests), violations.dat (a row per
 * workload, a column per policy), cdf.dat and focus.dat (one block per
 * policy, first seed), and meta (the policies and the focus workload).
 * Built from the summary write_tables made, not by reading its CSV back.
 */
static int figure_data(const cmp *c, ut_err *err)
{
    char dir[UT_PATH_MAX + 32], path[UT_PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/figdata", c->out);
    if (make_dir(dir, err) < 0)
        return -1;
    size_t np = c->e.npolicies, nw = c->e.nw;
    ut_buf cost = {0}, vd = {0}, cdf = {0}, focus = {0}, meta = {0};
    ut_buf_printf(&cost, "# policy cost_per_hour cost_ci gpus violation_pct"
                  "\n");
    for (size_t p = 0; p < np; p++)
        if (isfinite(c->cost_m[p]))
            ut_buf_printf(&cost, "%s %.6f %.6f %.3f %.4f\n", c->e.policies[p],
                          c->cost_m[p], c->cost_ci[p], c->gpus_m[p],
                          c->viol_m[p * (nw + 1) + nw]);
    ut_buf_printf(&vd, "workload");
    for (size_t p = 0; p < np; p++)
        ut_buf_printf(&vd, " %s", c->e.policies[p]);
    ut_buf_printf(&vd, "\n");
    for (size_t w = 0; w <= nw; w++) {
        /* gnuplot splits on blanks: a name's blanks become '_' here */
        char name[POL_NAME_MAX];
        snprintf(name, sizeof name, "%s", w < nw ? c->e.w[w].name : "all");
        for (char *q = name; *q; q++)
            if (*q == ' ' || *q == '\t' || *q == '"')
                *q = '_';
        ut_buf_printf(&vd, "%s", name);
        for (size_t p = 0; p < np; p++) {
            double x = c->viol_m[p * (nw + 1) + w];
            ut_buf_printf(&vd, isfinite(x) ? " %.4f" : " NaN", x);
        }
        ut_buf_printf(&vd, "\n");
    }
    char fq[2 * POL_NAME_MAX + 4];
    const char *fname = ut_csv(c->e.focus, fq, sizeof fq);
    size_t flen = strlen(fname);
    for (size_t p = 0; p < np; p++) {
        char rd[UT_PATH_MAX + 64];
        run_dir(c, p, 0, rd, sizeof rd);
        ut_buf_printf(&cdf, "# %s\n", c->e.policies[p]);
        ut_buf_printf(&focus, "# %s: t_s p99_ms share_pct violations\n",
                      c->e.policies[p]);
        snprintf(path, sizeof path, "%s/cdf.csv", rd);
        char *t = ut_read_file(path, NULL, NULL);
        for (char *l = t ? strchr(t, '\n') : NULL; l && l[1];
             l = strchr(l + 1, '\n'))
            if (!strncmp(l + 1, "all,", 4)) {
                double q, ms;
                if (sscanf(l + 5, "%lf,%lf", &q, &ms) == 2)
                    ut_buf_printf(&cdf, "%.6f %.4f\n", ms, q);
            }
        free(t);
        snprintf(path, sizeof path, "%s/timeseries.csv", rd);
        t = ut_read_file(path, NULL, NULL);
        for (char *l = t ? strchr(t, '\n') : NULL; l && l[1];
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
        free(t);
        ut_buf_printf(&cdf, "\n\n");
        ut_buf_printf(&focus, "\n\n");
    }
    ut_buf_printf(&meta, "policies='");
    for (size_t p = 0; p < np; p++)
        ut_buf_printf(&meta, "%s%s", p ? " " : "", c->e.policies[p]);
    ut_buf_printf(&meta, "'\nfocus='");
    for (const char *q = c->e.focus; *q; q++)   /* a shell-quoted string */
        ut_buf_printf(&meta, *q == '\'' ? "'\\''" : "%c", *q);
    ut_buf_printf(&meta, "'\n");
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

int lab_compare(const char *exp_path, const char *out_dir, int jobs,
                int nseeds, volatile sig_atomic_t *stop, lab_note_fn note_fn,
                void *note_ud, ut_err *err)
{
    cmp c;
    memset(&c, 0, sizeof c);
    c.exp_path = exp_path;
    c.out = out_dir;
    c.stop = stop;
    c.note = note_fn;
    c.note_ud = note_ud;
    int rc = -1;
    if (lab_experiment_load(exp_path, &c.e, err) < 0)
        return -1;
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
    /* every policy must plan before anything runs: bad input stops here */
    for (size_t p = 0; p < c.e.npolicies; p++) {
        pol_request req;
        pol_plan plan;
        if (plan_for(&c, p, &req, &plan, err) < 0)
            goto out;
        pol_plan_free(&plan);
    }
    size_t total = c.e.npolicies * (size_t)c.nseeds;
    c.hash = ut_xcalloc(total, sizeof *c.hash);
    for (size_t k = 0; k < total; k++)
        lab_run_hash(&c.e, exp_path, c.e.plan[0] ? c.e.plan : NULL,
                     c.e.policies[k / (size_t)c.nseeds],
                     c.e.seed + k % (size_t)c.nseeds, c.hash[k]);
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
    free(c.viol_m);
    free(c.cost_m);
    free(c.cost_ci);
    free(c.gpus_m);
    if (c.have_meas)
        mdl_measured_free(&c.meas);
    mdl_fitted_free(&c.fit);
    lab_experiment_free(&c.e);
    return rc;
}
