/*
 * serve.cu - the real device of `igniter serve` (serve/serve.h): each plan
 * instance of the GPU being served is a green context of its share's SMs
 * with a capture runner of its model, all in this process and driven by
 * the serve engine's one thread. Built into build/libigniter-gpu.so, which
 * `igniter serve` loads (cap_serve_device_new).
 *
 * Shares become SMs as the capture campaign measured them: share x the
 * device's SMs, rounded up to whole 8-SM groups; a lone instance with the
 * whole GPU (100 %) gets the primary context and every SM. Co-located
 * instances together get at most the SMs the groups cover (H100: 120 of
 * 132), as the profile's colocated_pct says.
 */
#include "capture/capture.h"
#include "serve/serve.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gdev {
    srv_device dev;
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
} gdev;

/* SMs per instance of plan GPU g; -1 for a lone instance of 100 %. */
static int gpu_sms(const gdev *d, const pol_gpu *g, size_t gi, int *sms,
                   ut_err *err)
{
    int group = d->info.partition_align_sms > 0 ? d->info.partition_align_sms
                                                : 8;
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
        int s = (int)ceil(share * d->info.sm_count / 100 - 1e-6);
        s = (s + group - 1) / group * group;
        if (s < d->info.min_partition_sms)
            s = d->info.min_partition_sms;
        sms[k] = s;
        total += s;
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

static int load_graph(const gdev *d, const char *model, size_t gi, size_t k,
                      cap_graph *g, ut_err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", d->models_dir, model);
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
            if (load_graph(d, g->inst[k].model, j, k, &gr, err) < 0)
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
    d->part = NULL;
    d->run = NULL;
    d->graph = NULL;
    d->n = 0;
}

static int dev_open(void *ud, const pol_gpu *g, size_t gi, ut_err *err)
{
    gdev *d = (gdev *)ud;
    size_t n = g->n;
    int *sms = (int *)ut_xcalloc(n ? n : 1, sizeof *sms);
    d->run = (cap_runner **)ut_xcalloc(n ? n : 1, sizeof *d->run);
    d->graph = (cap_graph *)ut_xcalloc(n ? n : 1, sizeof *d->graph);
    d->n = n;
    int rc = gpu_sms(d, g, gi, sms, err);
    if (rc == 0)
        rc = cap_partitions_new(sms, n, &d->part, err);
    if (rc < 0) {
        d->part = NULL;
        goto out;
    }
    for (size_t k = 0; k < n && rc == 0; k++) {
        const pol_instance *pi = &g->inst[k];
        double t0 = cap_now();
        cap_runner_opts o;
        cap_runner_defaults(&o);
        o.max_batch = pi->batch;
        o.attn_ref = 0;
        rc = load_graph(d, pi->model, gi, k, &d->graph[k], err);
        if (rc == 0)
            rc = cap_partition_use(d->part[k], err);
        if (rc == 0)
            rc = cap_runner_new(&d->graph[k], &o, &d->run[k], err);
        /* every batch size the batcher may release: algorithms found and
         * graphs captured now, then one run of each, not timed */
        for (int b = 1; b <= pi->batch && rc == 0; b++) {
            rc = cap_runner_prepare(d->run[k], b, err);
            if (rc == 0)
                rc = cap_runner_enqueue(d->run[k], b, err);
            if (rc == 0)
                rc = cap_runner_wait(d->run[k], NULL, err);
        }
        if (rc < 0) {
            ut_errprefix(err, "plan GPU %zu, %s (%s, batch %d, %d SMs)", gi,
                         pi->name, pi->model, pi->batch,
                         sms[k] < 0 ? d->info.sm_count : sms[k]);
            break;
        }
        if (d->verbose)
            fprintf(stderr, "igniter serve:   %s: %s, batch %d, %d SMs, "
                    "ready in %.1f s\n", pi->name, pi->model, pi->batch,
                    cap_partition_sms(d->part[k]), cap_now() - t0);
    }
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

extern "C" int cap_serve_device_new(const cap_serve_opts *o,
                                    srv_device **out, ut_err *err)
{
    if (o->mechanism && strcmp(o->mechanism, "green"))
        return ut_errf(err, "--mechanism: this build serves with green "
                       "contexts only, got \"%s\"", o->mechanism);
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
    d->dev.name = d->name;
    d->dev.check = dev_check;
    d->dev.open = dev_open;
    d->dev.launch = dev_launch;
    d->dev.poll = dev_poll;
    d->dev.close = dev_close;
    d->dev.ud = d;
    *out = &d->dev;
    return 0;
}

extern "C" void cap_serve_device_free(srv_device *dev)
{
    if (!dev)
        return;
    gdev *d = (gdev *)dev->ud;
    dev_close(d);
    free(d);
}
