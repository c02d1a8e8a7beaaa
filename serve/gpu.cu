/*
 * gpu.cu - the real device of `igniter serve` (serve/serve.h): each plan
 * instance of the GPU being served is a green context of its share's SMs
 * with a capture runner of its model, all in this process and driven by
 * the serve engine's one thread. Built into build/libigniter-gpu.so, which
 * `igniter serve` loads (serve/plugin.c) and reaches through one versioned
 * table, srv_gpu_plugin_export.
 *
 * Shares become SMs as the capture campaign measured them: share x the
 * device's SMs, rounded up to whole 8-SM groups; a lone instance with the
 * whole GPU (100 %) gets the primary context and every SM. Co-located
 * instances together get at most the SMs the groups cover (H100: 120 of
 * 132), as the profile's colocated_pct says.
 *
 * With MPS (--mechanism mps) each instance is a worker process instead,
 * `igniter-capture worker` (capture/worker.cu), a client of an MPS control
 * daemon this process starts and stops, with
 * CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = its share. The serve process itself
 * never touches CUDA then. A worker reads a batch size per line on its
 * standard input, runs it, and answers "done GPU_MS"; the engine's poll
 * reads its answers without blocking. A worker that dies
 * is an error naming it; the workers end when their input closes.
 *
 * A runtime hook's change (srv_device.reconfigure, called by serve only
 * when the instance has no batch running) reopens that one instance and
 * leaves the others running: green contexts free its runner and
 * partition, make a partition of the new share's SMs from the SM groups
 * no other instance uses (the lowest free ones, adjacent or not) and a
 * new runner, warmed on every batch size as at the start; MPS ends its
 * worker and starts one at the new thread percentage, ready when it says
 * so. Serve measures how long that takes: the instance's downtime. When
 * the free groups are too few (or another instance has the whole GPU),
 * the change is refused before anything stops (1: the instance keeps its
 * partition and runs on; serve logs it as not applied).
 */
#include "capture/capture.h"
#include "serve/serve.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the GPU's power and clock (both devices) ---------------------------- */

/* NVML sampled at 20 Hz from the device's start, for power.csv; NULL where
 * NVML is missing or IGNITER_SERVE_POWER is 0 (serve then records none). */
static cap_nvml *power_open(int verbose)
{
    const char *env = getenv("IGNITER_SERVE_POWER");
    if (env && !strcmp(env, "0"))
        return NULL;
    cap_nvml *nv = NULL;
    ut_err e;
    if (cap_nvml_open(&nv, &e) < 0 || cap_nvml_start(nv, 20, &e) < 0) {
        if (verbose)
            fprintf(stderr, "igniter serve: no power readings (%s)\n", e.msg);
        cap_nvml_close(nv);
        return NULL;
    }
    return nv;
}

/* srv_device.power over a sampler: srv_clock_monotonic's ns and cap_now's
 * seconds are both CLOCK_MONOTONIC. */
static size_t power_of(cap_nvml *nv, int64_t t0_ns, int64_t t1_ns,
                       srv_power_sample *out, size_t max)
{
    if (!nv || max == 0)
        return 0;
    cap_nvml_sample *tmp =
        (cap_nvml_sample *)ut_xmalloc(max * sizeof *tmp);
    size_t n = cap_nvml_samples(nv, (double)t0_ns / 1e9, (double)t1_ns / 1e9,
                                tmp, max);
    for (size_t i = 0; i < n; i++)
        out[i] = srv_power_sample{(int64_t)llround(tmp[i].t * 1e9),
                                  tmp[i].power_w, tmp[i].clock_mhz,
                                  (uint64_t)tmp[i].reasons};
    free(tmp);
    return n;
}

typedef struct gdev {
    srv_device dev;
    cap_nvml *nv;                 /* power readings, or NULL */
    char name[400];
    char models_dir[256];
    cap_gpu_info info;
    int verbose;
    char algo_cache[256];         /* cuDNN's choices, kept between runs */
    int algos_loaded;
    /* the open plan GPU */
    size_t n;
    cap_partition **part;
    cap_runner **run;
    cap_graph *graph;
    unsigned long long *groups;   /* each partition's SM groups of the
                                     one split, a bit each (0: the primary
                                     context, or stopped) */
} gdev;

/* The SM group of green contexts (gpu_sms's rounding). */
static int sm_group(const gdev *d)
{
    return d->info.partition_align_sms > 0 ? d->info.partition_align_sms : 8;
}

/* The SMs of a share of the device, in whole groups, at least the
 * smallest partition. */
static int share_sms(const gdev *d, double share)
{
    int group = sm_group(d);
    int s = (int)ceil(share * d->info.sm_count / 100 - 1e-6);
    s = (s + group - 1) / group * group;
    return s < d->info.min_partition_sms ? d->info.min_partition_sms : s;
}

/* SMs per instance of plan GPU g; -1 for a lone instance of 100 %. */
static int gpu_sms(const gdev *d, const pol_gpu *g, size_t gi, int *sms,
                   ut_err *err)
{
    int group = sm_group(d);
    int total = 0;
    for (size_t k = 0; k < g->n; k++) {
        double share = g->inst[k].share_pct;
        if (!(share > 0) || share > 100 + 1e-9)
            return ut_errf(err, "plan: gpus[%zu].workloads[%zu].share_pct: "
                           "expected (0, 100], got %g", gi, k, share);
        if (g->n == 1 && share > 100 - 1e-6) {
            sms[k] = -1;
            return 0;
        }
        sms[k] = share_sms(d, share);
        total += sms[k];
    }
    if (total > d->info.partition_sms)
        return ut_errf(err, "plan: gpus[%zu]: shares need %d SMs in %d-SM "
                       "groups, the %s's green contexts give at most %d "
                       "(%.1f %% of %d SMs together)", gi, total, group,
                       d->info.name, d->info.partition_sms,
                       100.0 * d->info.partition_sms / d->info.sm_count,
                       d->info.sm_count);
    return 0;
}

static int load_graph(const char *models_dir, const char *model, size_t gi,
                      size_t k, cap_graph *g, ut_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", models_dir, model);
    if (cap_graph_load(path, g, err) < 0)
        return ut_errprefix(err, "plan: gpus[%zu].workloads[%zu].model: the "
                            "runner has no model \"%s\"", gi, k, model);
    return 0;
}

static int dev_check(void *ud, const pol_plan *p, ut_err *err)
{
    gdev *d = (gdev *)ud;
    for (size_t j = 0; j < p->ngpus; j++) {
        const pol_gpu *g = &p->gpus[j];
        int *sms = (int *)ut_xcalloc(g->n ? g->n : 1, sizeof *sms);
        int rc = gpu_sms(d, g, j, sms, err);
        free(sms);
        if (rc < 0)
            return -1;
        for (size_t k = 0; k < g->n; k++) {
            cap_graph gr;
            if (load_graph(d->models_dir, g->inst[k].model, j, k, &gr,
                           err) < 0)
                return -1;
            cap_graph_free(&gr);
        }
    }
    return 0;
}

static void dev_close(void *ud)
{
    gdev *d = (gdev *)ud;
    for (size_t k = 0; k < d->n; k++) {
        if (d->run && d->run[k]) {
            cap_partition_use(d->part[k], NULL);
            cap_runner_free(d->run[k]);
        }
        if (d->graph)
            cap_graph_free(&d->graph[k]);
    }
    if (d->part)
        cap_partitions_free(d->part, d->n);
    free(d->run);
    free(d->graph);
    free(d->groups);
    d->part = NULL;
    d->run = NULL;
    d->graph = NULL;
    d->groups = NULL;
    d->n = 0;
}

/* The graph and runner of instance k on its partition, warmed on every
 * batch size the batcher may release (algorithms found and graphs
 * captured now, then one run of each, not timed). */
static int start_runner(gdev *d, size_t k, const pol_instance *pi, size_t gi,
                        int sms, ut_err *err)
{
    double t0 = cap_now();
    cap_runner_opts o;
    cap_runner_defaults(&o);
    o.max_batch = pi->batch;
    o.attn_ref = 0;
    /* IGNITER_ALGO_COARSE: cuDNN searched at powers of two only (serve
     * --help says what it saved) */
    const char *c = getenv("IGNITER_ALGO_COARSE");
    o.coarse_search = c && *c && strcmp(c, "0") != 0;
    int rc = load_graph(d->models_dir, pi->model, gi, k, &d->graph[k], err);
    if (rc == 0)
        rc = cap_partition_use(d->part[k], err);
    if (rc == 0)
        rc = cap_runner_new(&d->graph[k], &o, &d->run[k], err);
    for (int b = 1; b <= pi->batch && rc == 0; b++) {
        rc = cap_runner_prepare(d->run[k], b, err);
        if (rc == 0)
            rc = cap_runner_enqueue(d->run[k], b, err);
        if (rc == 0)
            rc = cap_runner_wait(d->run[k], NULL, err);
    }
    if (rc < 0)   /* serve names the plan GPU; the device, the instance */
        return ut_errprefix(err, "%s (%s, batch %d, %d SMs)", pi->name,
                            pi->model, pi->batch,
                            sms < 0 ? d->info.sm_count : sms);
    if (d->verbose)
        fprintf(stderr, "igniter serve:   %s: %s, batch %d, %d SMs, "
                "ready in %.1f s\n", pi->name, pi->model, pi->batch,
                cap_partition_sms(d->part[k]), cap_now() - t0);
    return 0;
}

/* Stops instance k for good: its runner, graph and partition. */
static void stop_instance(gdev *d, size_t k)
{
    if (d->run[k]) {
        cap_partition_use(d->part[k], NULL);
        cap_runner_free(d->run[k]);
        d->run[k] = NULL;
    }
    cap_graph_free(&d->graph[k]);
    cap_partition_free(d->part[k]);
    d->part[k] = NULL;
    d->groups[k] = 0;
}

/*
 * The SM groups for instance i's new share (*sms SMs, -1: the primary
 * context, for a lone instance of 100 %): the lowest k groups no other
 * running instance uses, in *mask. 1 with err when they are too few or
 * another instance has the whole GPU (nothing changed); -1 on a bad
 * share.
 */
static int pick_groups(const gdev *d, size_t i, const pol_instance *pi,
                       int *sms, unsigned long long *mask, ut_err *err)
{
    double share = pi->share_pct;
    if (!(share > 0) || share > 100 + 1e-9)
        return ut_errf(err, "%s: share_pct: expected (0, 100], got %g",
                       pi->name, share);
    int alone = 1, primary = 0;
    unsigned long long used = 0;
    for (size_t k = 0; k < d->n; k++) {
        if (k == i || !d->run[k])
            continue;
        alone = 0;
        primary |= d->groups[k] == 0;
        used |= d->groups[k];
    }
    *sms = -1;
    *mask = 0;
    if (alone && share > 100 - 1e-6)
        return 0;
    int s = share_sms(d, share);
    int want = (s + CAP_SM_GROUP - 1) / CAP_SM_GROUP, got = 0;
    int total = d->info.partition_sms / CAP_SM_GROUP;
    if (total > CAP_MAX_GROUPS)
        total = CAP_MAX_GROUPS;
    int nfree = 0;
    for (int q = 0; q < total; q++)
        nfree += !(used >> q & 1);
    if (primary) {
        ut_errf(err, "%s: another instance has the whole GPU", pi->name);
        return 1;
    }
    if (nfree < want) {
        ut_errf(err, "%s: %d SMs (%d groups of %d) do not fit in the %d "
                "groups the other instances leave free (%d groups in all)",
                pi->name, s, want, CAP_SM_GROUP, nfree, total);
        return 1;
    }
    for (int q = 0; q < total && got < want; q++)
        if (!(used >> q & 1)) {
            *mask |= 1ull << q;
            got++;
        }
    *sms = s;
    return 0;
}

/*
 * A runtime change of instance i (one past the last: a new one; pi NULL:
 * stop it). The groups are chosen first (pick_groups): when they are too
 * few, 1 and nothing changes. Otherwise the instance stops and its new
 * partition is made of those groups (cap_partition_from_groups); a lone
 * instance of 100 % gets the primary context, as at the start. The others
 * keep running.
 */
static size_t dev_power(void *ud, int64_t t0_ns, int64_t t1_ns,
                        srv_power_sample *out, size_t max)
{
    return power_of(((gdev *)ud)->nv, t0_ns, t1_ns, out, max);
}

static int dev_reconfigure(void *ud, size_t i, const pol_instance *pi,
                           ut_err *err)
{
    gdev *d = (gdev *)ud;
    if (i > d->n)
        return ut_errf(err, "instance %zu: expected at most %zu", i, d->n);
    if (!pi) {
        if (i < d->n)
            stop_instance(d, i);   /* serve calls between its batches */
        return 0;
    }
    int sms = -1;
    unsigned long long mask = 0;
    int rc = pick_groups(d, i, pi, &sms, &mask, err);
    if (rc != 0)
        return rc;
    if (i == d->n) {
        size_t n = d->n + 1;
        d->part = (cap_partition **)ut_xrealloc(d->part, n * sizeof *d->part);
        d->run = (cap_runner **)ut_xrealloc(d->run, n * sizeof *d->run);
        d->graph = (cap_graph *)ut_xrealloc(d->graph, n * sizeof *d->graph);
        d->groups = (unsigned long long *)ut_xrealloc(
            d->groups, n * sizeof *d->groups);
        d->part[i] = NULL;
        d->run[i] = NULL;
        memset(&d->graph[i], 0, sizeof d->graph[i]);
        d->groups[i] = 0;
        d->n = n;
    } else {
        stop_instance(d, i);   /* serve calls between its batches */
    }
    if (sms < 0) {
        cap_partition **p = NULL;
        int whole = -1;
        rc = cap_partitions_new(&whole, 1, &p, err);
        if (rc == 0) {
            d->part[i] = p[0];
            free(p);
        }
    } else {
        int idx[CAP_MAX_GROUPS];
        size_t k = 0;
        for (int q = 0; q < CAP_MAX_GROUPS; q++)
            if (mask >> q & 1)
                idx[k++] = q;
        rc = cap_partition_from_groups(idx, k, &d->part[i], err);
    }
    if (rc < 0)
        return ut_errprefix(err, "%s", pi->name);
    d->groups[i] = mask;
    if (start_runner(d, i, pi, 0, sms, err) < 0) {
        stop_instance(d, i);
        return -1;
    }
    if (d->algo_cache[0]) {
        ut_err e2;
        if (cap_algo_cache_save(d->algo_cache, &e2) < 0)
            fprintf(stderr, "igniter serve: %s (not kept)\n", e2.msg);
    }
    return 0;
}

static int dev_open(void *ud, const pol_gpu *g, size_t gi, ut_err *err)
{
    gdev *d = (gdev *)ud;
    size_t n = g->n;
    int *sms = (int *)ut_xcalloc(n ? n : 1, sizeof *sms);
    d->run = (cap_runner **)ut_xcalloc(n ? n : 1, sizeof *d->run);
    d->graph = (cap_graph *)ut_xcalloc(n ? n : 1, sizeof *d->graph);
    d->groups = (unsigned long long *)ut_xcalloc(n ? n : 1,
                                                 sizeof *d->groups);
    d->n = n;
    int rc = gpu_sms(d, g, gi, sms, err);
    if (rc == 0)
        rc = cap_partitions_new(sms, n, &d->part, err);
    if (rc < 0) {
        d->part = NULL;
        goto out;
    }
    /* the partitions took their groups in order (cap_partitions_new) */
    for (size_t k = 0, next = 0; k < n; k++) {
        int ng = sms[k] < 0 ? 0 : (sms[k] + CAP_SM_GROUP - 1) / CAP_SM_GROUP;
        for (int q = 0; q < ng && next < CAP_MAX_GROUPS; q++)
            d->groups[k] |= 1ull << next++;
    }
    for (size_t k = 0; k < n && rc == 0; k++)
        rc = start_runner(d, k, &g->inst[k], gi, sms[k], err);
    if (rc == 0 && d->algo_cache[0]) {
        ut_err e2;
        if (cap_algo_cache_save(d->algo_cache, &e2) < 0)
            fprintf(stderr, "igniter serve: %s (not kept)\n", e2.msg);
    }
out:
    free(sms);
    if (rc < 0)
        dev_close(d);
    return rc;
}

static int dev_launch(void *ud, size_t i, int k, ut_err *err)
{
    gdev *d = (gdev *)ud;
    if (cap_partition_use(d->part[i], err) < 0)
        return -1;
    return cap_runner_enqueue(d->run[i], k, err);
}

static int dev_poll(void *ud, size_t i, ut_err *err)
{
    gdev *d = (gdev *)ud;
    if (cap_partition_use(d->part[i], err) < 0)
        return -1;
    return cap_runner_poll(d->run[i], err);
}

/* ---- MPS: one worker process per instance ------------------------------- */

typedef struct mworker {
    cap_child c;
    ut_linebuf lb;               /* its output, a line at a time */
    char what[160];              /* "W3 (vgg19)" for messages */
} mworker;

typedef struct mdev {
    srv_device dev;
    cap_nvml *nv;                 /* power readings, or NULL */
    char name[700];
    char models_dir[256];
    char self[4096];             /* igniter-capture, beside this library */
    int verbose, mps_on;
    size_t n;
    mworker *w;
} mdev;

static size_t m_power(void *ud, int64_t t0_ns, int64_t t1_ns,
                      srv_power_sample *out, size_t max)
{
    return power_of(((mdev *)ud)->nv, t0_ns, t1_ns, out, max);
}

/* A whole line from worker i: 1 (in line, without the newline), 0 not yet,
 * -1 at the end of its output. */
static int m_line(mworker *w, char *line, size_t n)
{
    if (!w->c.out)
        return -1;   /* reaped already */
    return ut_fd_line(fileno(w->c.out), &w->lb, line, n);
}

/* Why worker i stopped answering (it is reaped). */
static int m_dead(mworker *w, const char *line, ut_err *err)
{
    int st = 0;
    if (w->c.pid <= 0)
        return ut_errf(err, "worker %s: gone", w->what);
    cap_child_wait_timeout(&w->c, 2, &st);
    if (line && line[0])
        return ut_errf(err, "worker %s: %s", w->what, line);
    return ut_errf(err, "worker %s: exited %s %d", w->what,
                   st > 128 ? "with signal" : "with status",
                   st > 128 ? st - 128 : st);
}

static void m_stop(mdev *d, size_t k);

static void m_close(void *ud)
{
    mdev *d = (mdev *)ud;
    for (size_t i = 0; i < d->n; i++)
        m_stop(d, i);
    free(d->w);
    d->w = NULL;
    d->n = 0;
}

static int m_check(void *ud, const pol_plan *p, ut_err *err)
{
    mdev *d = (mdev *)ud;
    for (size_t j = 0; j < p->ngpus; j++)
        for (size_t k = 0; k < p->gpus[j].n; k++) {
            const pol_instance *pi = &p->gpus[j].inst[k];
            if (!(pi->share_pct >= 1) || pi->share_pct > 100 + 1e-9)
                return ut_errf(err, "plan: gpus[%zu].workloads[%zu]."
                               "share_pct: expected an MPS thread "
                               "percentage in [1, 100], got %g", j, k,
                               pi->share_pct);
            cap_graph g;
            if (load_graph(d->models_dir, pi->model, j, k, &g, err) < 0)
                return -1;
            cap_graph_free(&g);
        }
    return 0;
}

/* Starts worker k of instance pi (not waiting for it to be ready). */
static int m_spawn(mdev *d, size_t k, const pol_instance *pi, ut_err *err)
{
    mworker *w = &d->w[k];
    memset(w, 0, sizeof *w);
    w->c.pid = 0;
    w->c.in = -1;
    snprintf(w->what, sizeof w->what, "%s (%s)", pi->name, pi->model);
    char batch[16];
    snprintf(batch, sizeof batch, "%d", pi->batch);
    const char *argv[] = {d->self, "worker", "--model", pi->model,
                          "--batch", batch, "--models-dir",
                          d->models_dir, NULL};
    int rc = cap_mps_client_spawn((char *const *)argv, pi->share_pct, 1,
                                  &w->c, err);
    if (rc == 0)
        fcntl(fileno(w->c.out), F_SETFL,
              fcntl(fileno(w->c.out), F_GETFL) | O_NONBLOCK);
    return rc;
}

/* Waits (from t0, at most 600 s) for worker k's "ready" line, into line. */
static int m_ready(mdev *d, size_t k, double t0, char *line, size_t n,
                   ut_err *err)
{
    mworker *w = &d->w[k];
    int got;
    while ((got = m_line(w, line, n)) == 0) {
        if (cap_now() - t0 > 600)
            return ut_errf(err, "worker %s: not ready after 600 s", w->what);
        struct pollfd pf = {fileno(w->c.out), POLLIN, 0};
        poll(&pf, 1, 200);
    }
    if (got < 0 || strncmp(line, "ready ", 6))
        return m_dead(w, got < 0 ? NULL : line, err);
    return 0;
}

/* Ends worker k (its input closed; it finishes what it runs). */
static void m_stop(mdev *d, size_t k)
{
    mworker *w = &d->w[k];
    if (w->c.pid <= 0)
        return;
    if (w->c.in >= 0) {
        close(w->c.in);
        w->c.in = -1;
    }
    int st;
    cap_child_wait_timeout(&w->c, 10, &st);
}

static int m_open(void *ud, const pol_gpu *g, size_t gi, ut_err *err)
{
    mdev *d = (mdev *)ud;
    if (!d->mps_on) {
        if (cap_mps_start(err) < 0)
            return -1;
        d->mps_on = 1;
    }
    d->n = g->n;
    d->w = (mworker *)ut_xcalloc(g->n ? g->n : 1, sizeof *d->w);
    for (size_t k = 0; k < g->n; k++)
        d->w[k].c.in = -1;
    int rc = 0;
    for (size_t k = 0; k < g->n && rc == 0; k++)
        rc = m_spawn(d, k, &g->inst[k], err);
    /* every worker prepares its batch sizes at once; each says "ready" */
    double t0 = cap_now();
    for (size_t k = 0; k < g->n && rc == 0; k++) {
        char line[512];
        rc = m_ready(d, k, t0, line, sizeof line, err);
        if (rc)
            break;
        if (k == 0 && gi == 0) {
            /* "ready SMS|VERSIONS|GPU NAME" */
            char *v = strchr(line + 6, '|');
            char *nm = v ? strchr(v + 1, '|') : NULL;
            if (v && nm) {
                *v = *nm = 0;
                snprintf(d->name, sizeof d->name, "%s, fp16, MPS (active "
                         "thread percentage = share), {%s}", nm + 1, v + 1);
            }
        }
        if (d->verbose)
            fprintf(stderr, "igniter serve:   %s: batch %d, %d %% of the "
                    "threads, ready after %.1f s\n", d->w[k].what,
                    g->inst[k].batch, (int)lround(g->inst[k].share_pct),
                    cap_now() - t0);
    }
    if (rc < 0)   /* serve names the plan GPU in the message */
        m_close(d);
    return rc;
}

/* A runtime change: worker i ends and one at the new thread percentage
 * and batch takes its place (one past the last: a new worker; pi NULL:
 * it only ends). */
static int m_reconfigure(void *ud, size_t i, const pol_instance *pi,
                         ut_err *err)
{
    mdev *d = (mdev *)ud;
    if (i > d->n)
        return ut_errf(err, "instance %zu: expected at most %zu", i, d->n);
    if (i == d->n) {
        if (!pi)
            return 0;
        d->w = (mworker *)ut_xrealloc(d->w, (d->n + 1) * sizeof *d->w);
        memset(&d->w[i], 0, sizeof d->w[i]);
        d->w[i].c.in = -1;
        d->n++;
    } else {
        m_stop(d, i);
    }
    if (!pi)
        return 0;
    if (!(pi->share_pct >= 1) || pi->share_pct > 100 + 1e-9)
        return ut_errf(err, "%s: share_pct: expected an MPS thread "
                       "percentage in [1, 100], got %g", pi->name,
                       pi->share_pct);
    double t0 = cap_now();
    char line[512];
    if (m_spawn(d, i, pi, err) < 0 ||
        m_ready(d, i, t0, line, sizeof line, err) < 0)
        return -1;
    if (d->verbose)
        fprintf(stderr, "igniter serve:   %s: batch %d, %g %% of the "
                "threads, ready after %.1f s (runtime change)\n",
                d->w[i].what, pi->batch, pi->share_pct, cap_now() - t0);
    return 0;
}

static int m_launch(void *ud, size_t i, int k, ut_err *err)
{
    mdev *d = (mdev *)ud;
    char cmd[16];
    int n = snprintf(cmd, sizeof cmd, "%d\n", k);
    if (d->w[i].c.in < 0 || write(d->w[i].c.in, cmd, (size_t)n) != n)
        return m_dead(&d->w[i], NULL, err);
    return 0;
}

static int m_poll(void *ud, size_t i, ut_err *err)
{
    mdev *d = (mdev *)ud;
    char line[512];
    int got = m_line(&d->w[i], line, sizeof line);
    if (got == 0)
        return 0;
    if (got > 0 && !strncmp(line, "done", 4))
        return 1;
    return m_dead(&d->w[i], got > 0 ? line : NULL, err);
}

static int mps_device_new(const srv_gpu_opts *o, srv_device **out,
                          ut_err *err)
{
    mdev *d = (mdev *)ut_xcalloc(1, sizeof *d);
    Dl_info info;
    if (!dladdr((void *)mps_device_new, &info) || !info.dli_fname) {
        free(d);
        return ut_errf(err, "MPS: cannot tell where the GPU library is");
    }
    snprintf(d->self, sizeof d->self, "%s", info.dli_fname);
    char *slash = strrchr(d->self, '/');
    snprintf(slash ? slash + 1 : d->self,
             sizeof d->self - (size_t)(slash ? slash + 1 - d->self : 0),
             "igniter-capture");
    if (access(d->self, X_OK) < 0) {
        int e = errno;
        ut_errf(err, "MPS: the workers are %s: %s (make capture)", d->self,
                strerror(e));
        free(d);
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);   /* a dead worker is an error, not a signal */
    snprintf(d->name, sizeof d->name, "MPS");
    snprintf(d->models_dir, sizeof d->models_dir, "%s",
             o->models_dir ? o->models_dir : "capture/models");
    d->verbose = o->verbose;
    d->nv = power_open(d->verbose);
    d->dev = srv_device{d->name, m_check, m_open, m_launch, m_poll, m_close,
                        m_reconfigure, d, m_power};
    *out = &d->dev;
    return 0;
}

extern "C" int srv_gpu_device_new(const srv_gpu_opts *o, srv_device **out,
                                  ut_err *err)
{
    if (o->mechanism && !strcmp(o->mechanism, "mps"))
        return mps_device_new(o, out, err);
    if (o->mechanism && strcmp(o->mechanism, "green"))
        return ut_errf(err, "--mechanism: expected green or mps, got \"%s\"",
                       o->mechanism);
    /* Every instance's stream needs a hardware queue of its own: with the
     * default 8, a plan GPU of 12 instances runs two streams on one queue,
     * whose batches then wait for each other (measured on the H100: 97.8 %
     * SLO violations instead of 0.4 %, experiments/validation/README.md).
     * 32 is the most the driver gives; set before CUDA starts. */
    setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", 0);
    gdev *d = (gdev *)ut_xcalloc(1, sizeof *d);
    if (cap_gpu_init(&d->info, err) < 0) {
        free(d);
        return -1;
    }
    char v[256];
    cap_runner_versions(v, sizeof v);
    /* versions as in every capture record: {"cudnn":..,"driver":..} */
    snprintf(d->name, sizeof d->name, "%s, %d SMs, %s, %s hardware queues, "
             "{%s}", d->info.name, d->info.sm_count, cap_runner_precision(),
             getenv("CUDA_DEVICE_MAX_CONNECTIONS"), v);
    snprintf(d->models_dir, sizeof d->models_dir, "%s",
             o->models_dir ? o->models_dir : "capture/models");
    d->verbose = o->verbose;
    const char *ac = getenv("IGNITER_ALGO_CACHE");
    snprintf(d->algo_cache, sizeof d->algo_cache, "%s",
             ac ? ac : "build/cudnn-algos.txt");
    if (d->algo_cache[0]) {
        int n = cap_algo_cache_load(d->algo_cache, err);
        if (n < 0) {
            free(d);
            return -1;
        }
        if (n > 0 && d->verbose)
            fprintf(stderr, "igniter serve: %d cuDNN algorithm choices from "
                    "%s\n", n, d->algo_cache);
    }
    d->nv = power_open(d->verbose);
    d->dev = srv_device{d->name, dev_check, dev_open, dev_launch, dev_poll,
                        dev_close, dev_reconfigure, d, dev_power};
    *out = &d->dev;
    return 0;
}

extern "C" void srv_gpu_device_free(srv_device *dev)
{
    if (!dev)
        return;
    if (dev->open == m_open) {
        mdev *m = (mdev *)dev->ud;
        m_close(m);
        if (m->mps_on)
            cap_mps_stop();
        cap_nvml_close(m->nv);
        free(m);
        return;
    }
    gdev *d = (gdev *)dev->ud;
    dev_close(d);
    cap_nvml_close(d->nv);
    free(d);
}

/* What serve/plugin.c finds by name (SRV_GPU_PLUGIN_SYMBOL) and checks:
 * the version and the sizes of the structures both sides must agree on,
 * as this library was compiled. */
extern "C" const srv_gpu_plugin srv_gpu_plugin_export = {
    SRV_GPU_PLUGIN_VERSION, sizeof(srv_gpu_plugin), sizeof(srv_device),
    sizeof(srv_gpu_opts), sizeof(pol_plan), sizeof(pol_gpu),
    sizeof(pol_instance), sizeof(ut_err), srv_gpu_device_new,
    srv_gpu_device_free};
