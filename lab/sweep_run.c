/*
 * sweep_run.c - running a sweep's cells on one machine, and gathering
 * every cell's results into tables (lab.h).
 *
 * Cells run in child processes, `jobs` at a time (fork, as compare does):
 * a cell that crashes takes only itself down, and memory is given back
 * after every cell, so a long sweep's workers stay flat. A cell's outcome
 * is its exit status (LAB_CELL_*). Keep going: a failed cell is recorded
 * (error.txt in its folder) and the others run.
 */
#include "lab/lab.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int in_shard(const lab_sweep_opts *o, size_t k)
{
    return o->shard_n <= 0 ||
           k % (size_t)o->shard_n == (size_t)(o->shard_k - 1);
}

void lab_sweep_count(lab_sweep_stats *st, int status)
{
    switch (status) {
    case LAB_CELL_DONE: st->done++; break;
    case LAB_CELL_KEPT: st->kept++; break;
    case LAB_CELL_RERUN: st->done++; st->rerun++; break;
    case LAB_CELL_STOPPED: st->stopped++; break;
    default: st->failed++; break;
    }
}

pid_t lab_sweep_fork_cell(const lab_sweep *s, size_t k, const char *out_dir,
                          int flags, volatile sig_atomic_t *stop)
{
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        ut_err e;
        _exit(lab_sweep_run_cell(s, k, out_dir, flags, stop, &e));
    }
    return p;
}

int lab_sweep_cell_reaped(const lab_sweep *s, size_t k, const char *out_dir,
                          int ws)
{
    if (WIFEXITED(ws))
        return WEXITSTATUS(ws);
    /* it died before it could say why: say it for it */
    char dir[UT_PATH_MAX + 64], path[UT_PATH_MAX + 96], msg[96];
    lab_cell_dir(out_dir, s, k, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/error.txt", dir);
    int n = snprintf(msg, sizeof msg, "killed by signal %d\n", WTERMSIG(ws));
    ut_write_atomic(path, msg, (size_t)n, NULL);
    return LAB_CELL_FAILED;
}

int lab_sweep_run(const lab_sweep *s, const char *out_dir,
                  const lab_sweep_opts *o, lab_sweep_stats *st, ut_err *err)
{
    memset(st, 0, sizeof *st);
    int jobs = o->jobs < 1 ? 1 : o->jobs;
    for (size_t k = 0; k < s->ncells; k++)
        st->total += in_shard(o, k);
    char cells[UT_PATH_MAX + 16];
    snprintf(cells, sizeof cells, "%s/cells", out_dir);
    if (ut_mkdir_p(cells, err) < 0)
        return -1;
    pid_t *pid = ut_xcalloc(s->ncells, sizeof *pid);
    size_t next = 0;
    int running = 0;
    for (;;) {
        while (running < jobs && next < s->ncells &&
               !(o->stop && *o->stop)) {
            size_t k = next++;
            if (!in_shard(o, k))
                continue;
            pid_t p = lab_sweep_fork_cell(s, k, out_dir, o->flags, o->stop);
            if (p < 0) {
                ut_errf(err, "cannot start a cell: %s", strerror(errno));
                next = s->ncells;
                break;
            }
            pid[k] = p;
            running++;
        }
        if (running == 0)
            break;
        int ws;
        pid_t p = wait(&ws);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        size_t k = 0;
        while (k < s->ncells && pid[k] != p)
            k++;
        if (k == s->ncells)
            continue;
        running--;
        pid[k] = 0;
        int status = lab_sweep_cell_reaped(s, k, out_dir, ws);
        lab_sweep_count(st, status);
        if (o->progress)
            o->progress(o->progress_ud, s, k, status, st);
    }
    free(pid);
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        st->max_cell_rss_kb = ru.ru_maxrss;
    if (o->stop && *o->stop)
        return 2;
    return st->failed ? 1 : 0;
}

/* ---- gather ------------------------------------------------------------- */

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void put(ut_buf *b, double v)
{
    if (isfinite(v))
        ut_buf_printf(b, ",%.6g", v);
    else
        ut_buf_printf(b, ",");
}

/* The requests of a workload, or of a whole cell, as summary.json counts
 * them ("late_at_end" 0 where an older summary has none) and as gather
 * writes them, in this order. */
typedef struct counts {
    double req, done, drop, late, viol;
} counts;

static void read_counts(const cJSON *o, counts *n)
{
    n->req = num(o, "requests");
    n->done = num(o, "completed");
    n->drop = num(o, "dropped");
    n->late = cJSON_GetObjectItemCaseSensitive(o, "late_at_end")
                  ? num(o, "late_at_end") : 0;
    n->viol = num(o, "slo_violation_pct");
}

static void put_counts(ut_buf *b, const counts *n)
{
    put(b, n->req);
    put(b, n->done);
    put(b, n->drop);
    put(b, n->late);
    put(b, n->viol);
}

/* What gather keeps of a cell's summary: totals and per-workload rows. */
typedef struct wrow {
    char name[POL_NAME_MAX], model[MDL_NAME_MAX];
    double slo, rate, mean, p99;
    counts n;
} wrow;

typedef struct cellres {
    int have, complete;
    double gpus, cph, gpu_hours, p99, mean;
    counts n;
    size_t nw;
    wrow *w;
    char key[1024];                   /* its configuration: axes but seed */
} cellres;

static void read_cell(const lab_sweep *s, const char *out_dir, size_t k,
                      cellres *c)
{
    char dir[UT_PATH_MAX + 64], path[UT_PATH_MAX + 96];
    lab_cell_dir(out_dir, s, k, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *j = ut_json_load(path, NULL);
    if (!j)
        return;
    c->have = 1;
    c->complete = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j,
                                                               "complete"));
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(j, "totals");
    c->gpus = num(tot, "num_gpus");
    c->gpu_hours = num(tot, "gpu_hours");
    c->cph = num(tot, "cost_per_hour");
    read_counts(tot, &c->n);
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "workloads");
    c->nw = (size_t)cJSON_GetArraySize(ws);
    c->w = ut_xcalloc(c->nw ? c->nw : 1, sizeof *c->w);
    size_t i = 0;
    double lat_sum = 0, ncomp = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, ws) {
        wrow *r = &c->w[i++];
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(w, "name");
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(w, "model");
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(w, "latency_ms");
        snprintf(r->name, sizeof r->name, "%s",
                 cJSON_IsString(nm) ? nm->valuestring : "?");
        snprintf(r->model, sizeof r->model, "%s",
                 cJSON_IsString(md) ? md->valuestring : "?");
        r->slo = num(w, "slo_ms");
        read_counts(w, &r->n);
        r->mean = num(lat, "mean");
        r->p99 = num(lat, "p99");
        r->rate = num(w, "throughput_rps");
        if (r->n.done > 0 && isfinite(r->mean)) {
            lat_sum += r->mean * r->n.done;
            ncomp += r->n.done;
        }
    }
    c->mean = ncomp > 0 ? lat_sum / ncomp : NAN;
    /* the P99 over every request, from the cell's CDF ("all" rows) */
    snprintf(path, sizeof path, "%s/cdf.csv", dir);
    char *t = ut_read_file(path, NULL, NULL);
    const char *q = t ? strstr(t, "\nall,0.99,") : NULL;
    c->p99 = q ? strtod(q + 10, NULL) : NAN;
    free(t);
    cJSON_Delete(j);
}

/* Mean and 95 % half-width (Student's t) of the finite values. */
static void mean_ci(const double *v, size_t n, double *m, double *ci,
                    size_t *used)
{
    double s = 0, s2 = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    *m = k ? s / (double)k : NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            s2 += (v[i] - *m) * (v[i] - *m);
    *ci = k > 1 ? gsl_cdf_tdist_Pinv(0.975, (double)k - 1) *
                      sqrt(s2 / (double)(k - 1)) / sqrt((double)k)
                : k ? 0 : NAN;
    *used = k;
}

/* qsort has no context argument: the cells being sorted, set just before
 * each sort (gather runs in one thread) */
static const cellres *sort_res;

static int by_key(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int c = strcmp(sort_res[a].key, sort_res[b].key);
    return c ? c : (a > b) - (a < b);
}

/* The mean of a quantity over the cells of each group (cells sharing the
 * labels of the axes in `by`), written as gnuplot blocks. */
static void group_means(const lab_sweep *s, const cellres *res,
                        const size_t *by, size_t nby, ut_buf *b)
{
    size_t n = s->ncells;
    size_t *idx = ut_xcalloc(n, sizeof *idx);
    cellres *tmp = ut_xcalloc(n, sizeof *tmp);
    for (size_t k = 0; k < n; k++) {
        idx[k] = k;
        tmp[k] = res[k];
        tmp[k].w = NULL;
        size_t len = 0;
        for (size_t i = 0; i < nby; i++) {
            char l[256];
            lab_cell_label(s, k, by[i], l, sizeof l);
            len += (size_t)snprintf(tmp[k].key + len, sizeof tmp[k].key - len,
                                    "%s%s", i ? "\t" : "", l);
        }
    }
    sort_res = tmp;
    qsort(idx, n, sizeof *idx, by_key);
    double *cph = ut_xcalloc(n, sizeof *cph), *viol = ut_xcalloc(n,
                                                                sizeof *viol);
    for (size_t i = 0; i < n;) {
        size_t j = i, m = 0;
        while (j < n && !strcmp(tmp[idx[j]].key, tmp[idx[i]].key)) {
            if (tmp[idx[j]].have && tmp[idx[j]].complete) {
                cph[m] = tmp[idx[j]].cph;
                viol[m] = tmp[idx[j]].n.viol;
                m++;
            }
            j++;
        }
        double cm, cci, vm, vci;
        size_t u1, u2;
        mean_ci(cph, m, &cm, &cci, &u1);
        mean_ci(viol, m, &vm, &vci, &u2);
        if (u1) {
            ut_buf_printf(b, "%s", tmp[idx[i]].key);
            ut_buf_printf(b, "\t%.6g\t%.6g\t%.6g\t%.6g\t%zu\n", cm, cci, vm,
                          vci, u1);
        }
        i = j;
    }
    free(cph);
    free(viol);
    free(tmp);
    free(idx);
}

int lab_sweep_gather(const lab_sweep *s, const char *out_dir,
                     size_t *missing, ut_err *err)
{
    size_t n = s->ncells;
    cellres *res = ut_xcalloc(n, sizeof *res);
    size_t seed_axis = lab_sweep_axis(s, "seed");
    *missing = 0;
    for (size_t k = 0; k < n; k++) {
        read_cell(s, out_dir, k, &res[k]);
        *missing += !res[k].have || !res[k].complete;
        size_t len = 0;
        for (size_t a = 0; a < s->naxes; a++) {
            if (a == seed_axis)
                continue;
            char l[256];
            lab_cell_label(s, k, a, l, sizeof l);
            len += (size_t)snprintf(res[k].key + len, sizeof res[k].key - len,
                                    "%s\x1f", l);
        }
    }
    /* the long table */
    ut_buf g = {0};
    ut_buf_printf(&g, "cell");
    for (size_t a = 0; a < s->naxes; a++)
        ut_buf_printf(&g, ",%s", s->axis_name[a]);
    ut_buf_printf(&g, ",complete,scope,workload,model,slo_ms,throughput_rps,"
                  "requests,completed,dropped,late_at_end,slo_violation_pct,"
                  "mean_ms,p99_ms,gpus,cost_per_hour,gpu_hours\n");
    for (size_t k = 0; k < n; k++) {
        const cellres *c = &res[k];
        if (!c->have)
            continue;
        ut_buf lead = {0};
        ut_buf_printf(&lead, "%s", s->cells[k].id);
        for (size_t a = 0; a < s->naxes; a++) {
            char l[256], q[520];
            lab_cell_label(s, k, a, l, sizeof l);
            ut_buf_printf(&lead, ",%s", ut_csv(l, q, sizeof q));
        }
        ut_buf_printf(&lead, ",%d", c->complete);
        for (size_t i = 0; i < c->nw; i++) {
            const wrow *r = &c->w[i];
            char q1[2 * POL_NAME_MAX + 4], q2[2 * MDL_NAME_MAX + 4];
            ut_buf_printf(&g, "%s,workload,%s,%s", lead.s,
                          ut_csv(r->name, q1, sizeof q1),
                          ut_csv(r->model, q2, sizeof q2));
            put(&g, r->slo);
            put(&g, r->rate);
            put_counts(&g, &r->n);
            put(&g, r->mean);
            put(&g, r->p99);
            ut_buf_printf(&g, ",,,\n");
        }
        ut_buf_printf(&g, "%s,all,,,,", lead.s);
        put_counts(&g, &c->n);
        put(&g, c->mean);
        put(&g, c->p99);
        put(&g, c->gpus);
        put(&g, c->cph);
        put(&g, c->gpu_hours);
        ut_buf_printf(&g, "\n");
        ut_buf_free(&lead);
    }
    /* per configuration, over seeds (complete cells only) */
    ut_buf sm = {0};
    size_t first_axis = 0;
    for (size_t a = 0; a < s->naxes; a++)
        if (a != seed_axis)
            ut_buf_printf(&sm, "%s%s", first_axis++ ? "," : "",
                          s->axis_name[a]);
    ut_buf_printf(&sm, "%sn,slo_violation_pct,slo_violation_ci,p99_ms,p99_ci,"
                  "cost_per_hour,cost_ci,gpus\n", first_axis ? "," : "");
    size_t *idx = ut_xcalloc(n, sizeof *idx);
    for (size_t k = 0; k < n; k++)
        idx[k] = k;
    sort_res = res;
    qsort(idx, n, sizeof *idx, by_key);
    double *v1 = ut_xcalloc(n, sizeof *v1), *v2 = ut_xcalloc(n, sizeof *v2),
           *v3 = ut_xcalloc(n, sizeof *v3), *v4 = ut_xcalloc(n, sizeof *v4);
    /* groups are runs of equal keys in idx (the smallest k first); they
     * are written in the order of the grid, each where its first cell
     * stands */
    typedef struct grp { size_t first, from, to; } grp;
    grp *gs = ut_xcalloc(n, sizeof *gs);
    size_t ng = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(res[idx[j]].key, res[idx[i]].key))
            j++;
        gs[ng++] = (grp){idx[i], i, j};
        i = j;
    }
    size_t *gof = ut_xcalloc(n, sizeof *gof);   /* first cell -> group + 1 */
    for (size_t g0 = 0; g0 < ng; g0++)
        gof[gs[g0].first] = g0 + 1;
    for (size_t k = 0; k < n; k++) {
        if (!gof[k])
            continue;
        size_t gi = gof[k] - 1;
        size_t m = 0;
        for (size_t j = gs[gi].from; j < gs[gi].to; j++) {
            size_t c = idx[j];
            if (!res[c].have || !res[c].complete)
                continue;
            v1[m] = res[c].n.viol;
            v2[m] = res[c].p99;
            v3[m] = res[c].cph;
            v4[m] = res[c].gpus;
            m++;
        }
        size_t a0 = 0;
        for (size_t a = 0; a < s->naxes; a++) {
            if (a == seed_axis)
                continue;
            char l[256], q[520];
            lab_cell_label(s, k, a, l, sizeof l);
            ut_buf_printf(&sm, "%s%s", a0++ ? "," : "",
                          ut_csv(l, q, sizeof q));
        }
        double mv, cv, mp, cp, mc, cc, mg, cg;
        size_t u;
        mean_ci(v1, m, &mv, &cv, &u);
        mean_ci(v2, m, &mp, &cp, &u);
        mean_ci(v3, m, &mc, &cc, &u);
        mean_ci(v4, m, &mg, &cg, &u);
        ut_buf_printf(&sm, "%s%zu", a0 ? "," : "", m);
        put(&sm, mv);
        put(&sm, cv);
        put(&sm, mp);
        put(&sm, cp);
        put(&sm, mc);
        put(&sm, cc);
        put(&sm, mg);
        ut_buf_printf(&sm, "\n");
    }
    free(gs);
    free(gof);
    free(idx);
    free(v1);
    free(v2);
    free(v3);
    free(v4);
    /* figure data: cost and violations against rate scale per policy;
     * cost against violations per workload set and policy (Pareto) */
    ut_buf rate = {0}, pareto = {0}, meta = {0};
    size_t ap = lab_sweep_axis(s, "policy"),
           ar = lab_sweep_axis(s, "rate_scale"),
           aw = lab_sweep_axis(s, "workloads");
    if (ap < s->naxes && ar < s->naxes) {
        size_t by[2] = {ap, ar};
        ut_buf_printf(&rate, "# policy rate_scale cost_per_hour cost_ci "
                      "slo_violation_pct slo_violation_ci n\n");
        group_means(s, res, by, 2, &rate);
    }
    if (ap < s->naxes) {
        size_t by[2] = {aw < s->naxes ? aw : ap, ap};
        ut_buf_printf(&pareto, "# workloads policy cost_per_hour cost_ci "
                      "slo_violation_pct slo_violation_ci n\n");
        group_means(s, res, by, aw < s->naxes ? 2 : 1, &pareto);
    }
    ut_buf_printf(&meta, "rate=%d\npareto=%d\n", rate.len > 0,
                  pareto.len > 0);
    for (size_t k = 0; k < n; k++)
        free(res[k].w);
    free(res);
    char path[UT_PATH_MAX + 64];
    int rc = 0;
    snprintf(path, sizeof path, "%s/gather.csv", out_dir);
    rc = ut_write_atomic(path, g.s ? g.s : "", g.len, err);
    snprintf(path, sizeof path, "%s/gather-summary.csv", out_dir);
    if (rc == 0)
        rc = ut_write_atomic(path, sm.s ? sm.s : "", sm.len, err);
    snprintf(path, sizeof path, "%s/figdata", out_dir);
    if (rc == 0)
        rc = ut_mkdir_p(path, err);
    const char *names[3] = {"sweep-rate.dat", "sweep-pareto.dat",
                            "sweep-meta"};
    ut_buf *bufs[3] = {&rate, &pareto, &meta};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/figdata/%s", out_dir, names[k]);
        if (rc == 0)
            rc = ut_write_atomic(path, bufs[k]->s ? bufs[k]->s : "",
                                 bufs[k]->len, err);
    }
    ut_buf_free(&g);
    ut_buf_free(&sm);
    ut_buf_free(&rate);
    ut_buf_free(&pareto);
    ut_buf_free(&meta);
    return rc;
}
