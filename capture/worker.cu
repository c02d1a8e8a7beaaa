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
 *
 * Between batches it spins on its input (a read that finds nothing, then
 * sched_yield), as serve's own thread polls its green contexts. A worker
 * blocked in read() is woken by the kernel when serve writes, and on the
 * H200 machine that made a batch that started on an idle worker 53 us
 * slower on average than one started back to back (10 to 130 us per
 * workload; experiments/validation/README.md, "The wake cost"): a cost of
 * this process, not of MPS or the GPU, that a simulator fed with the
 * capture's timings never sees. IGNITER_WORKER_WAIT=block restores the
 * blocking read (a machine with fewer cores than workers).
 */
#include "capture/capture.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The next line of standard input (ut_fd_line, not stdio, whose
 * buffering would hide what is there from a non-blocking read): 1, or 0 at
 * its end (or on a read error); spinning when spin, else blocking. */
static int next_line(ut_linebuf *lb, int spin, char *line, size_t n)
{
    int r;
    while ((r = ut_fd_line(0, lb, line, n)) == 0)
        if (spin)
            sched_yield();
    return r > 0;
}

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
        ut_linebuf in;
        memset(&in, 0, sizeof in);
        const char *wt = getenv("IGNITER_WORKER_WAIT");
        int spin = !(wt && !strcmp(wt, "block"));
        if (spin)
            fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
        printf("ready %d|%s|%s\n", info.sm_count, v, info.name);
        fflush(stdout);
        while (next_line(&in, spin, line, sizeof line)) {
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
