/*
 * worker.cu - `igniter-capture worker` (cap_worker_run): one instance of
 * `igniter serve --mechanism mps`, as a process of its own, an MPS client
 * whose share of the GPU is its CUDA_MPS_ACTIVE_THREAD_PERCENTAGE (set by
 * whoever spawned it: serve/gpu.cu).
 *
 * The protocol, a line each way: when every batch size up to its planned
 * batch is prepared and has run once, it prints "ready SMS|VERSIONS|GPU
 * NAME" (SMS: the device's; VERSIONS: cap_runner_versions' JSON members);
 * then, for each batch size read on its standard input, it runs that batch
 * and prints "done GPU_MS" (the batch's time between its first and last
 * operation on the GPU). An error prints "error MESSAGE" (one line) and
 * ends it; so does the end of its input, quietly.
 */
#include "capture/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" int cap_worker_run(const char *models_dir, const char *model,
                              int batch)
{
    ut_err err;
    char path[512], line[64];
    cap_graph g;
    cap_gpu_info info;
    cap_runner *r = NULL;
    int rc = -1;
    memset(&g, 0, sizeof g);
    snprintf(path, sizeof path, "%s/%s.json", models_dir, model);
    const char *ac = getenv("IGNITER_ALGO_CACHE");
    if (!ac)
        ac = "build/cudnn-algos.txt";
    if (cap_graph_load(path, &g, &err) == 0 && cap_gpu_init(&info, &err) == 0
        && (!ac[0] || cap_algo_cache_load(ac, &err) >= 0)) {
        cap_runner_opts o;
        cap_runner_defaults(&o);
        o.max_batch = batch;
        o.attn_ref = 0;
        rc = cap_runner_new(&g, &o, &r, &err);
        for (int b = 1; b <= batch && rc == 0; b++)
            if (cap_runner_prepare(r, b, &err) < 0 ||
                cap_runner_enqueue(r, b, &err) < 0 ||
                cap_runner_wait(r, NULL, &err) < 0)
                rc = -1;
    }
    if (rc == 0) {
        if (ac[0])
            cap_algo_cache_save(ac, &err);
        char v[256];
        cap_runner_versions(v, sizeof v);
        printf("ready %d|%s|%s\n", info.sm_count, v, info.name);
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            int k = atoi(line);
            double ms = 0;
            if (cap_runner_enqueue(r, k, &err) < 0 ||
                cap_runner_wait(r, &ms, &err) < 0) {
                rc = -1;
                break;
            }
            printf("done %.5f\n", ms);
            fflush(stdout);
        }
    }
    if (rc < 0) {
        for (char *c = err.msg; *c; c++)
            if (*c == '\n')
                *c = ' ';
        printf("error %s\n", err.msg);
        fflush(stdout);
    }
    cap_runner_free(r);
    cap_graph_free(&g);
    return rc < 0 ? 1 : 0;
}
