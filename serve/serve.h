/*
 * serve.h - the real provisioner: runs a plan on a real GPU with the
 * simulator's own arrival generation, routing and dynamic batcher, and
 * writes the simulator's result files.
 *
 * The engine here is plain C and knows no GPU: a device (srv_device) starts
 * a plan GPU's instances and runs batches on them, a clock (srv_clock) says
 * what time it is and waits. capture/serve.cu provides the CUDA device
 * (green contexts, the capture runner); tests provide a fake device and a
 * fake clock, and must then get exactly what `igniter sim` gets with the
 * fixed back end.
 *
 * The load generator is open-loop: a request's arrival time is the one its
 * generator drew, whether or not the loop got to it on time; how late the
 * loop was (its lateness) is recorded apart, so an overloaded host shows as
 * lateness, not as GPU latency. On a machine with one GPU, a plan of several
 * GPUs is run one plan GPU at a time: every pass draws the same arrivals
 * and routes them the same way, and serves the requests routed to its GPU.
 */
#ifndef SERVE_SERVE_H
#define SERVE_SERVE_H

#include <signal.h>
#include <stdint.h>
#include "sim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct srv_clock {
    int64_t (*now)(void *ud);                 /* monotonic ns */
    /* Returns at t or earlier (a signal, a spin slice); never much later. */
    void (*wait_until)(void *ud, int64_t t);
    void *ud;
} srv_clock;

/* The monotonic clock of the machine (CLOCK_MONOTONIC; waits sleep until
 * about 50 us before t and spin the rest). */
extern const srv_clock srv_clock_monotonic;

typedef struct srv_device {
    const char *name;           /* for summary.json: GPU, mechanism */
    /* Optional: checks the whole plan before anything runs (every model
     * known, every share one the device can give); -1 with err. */
    int (*check)(void *ud, const pol_plan *p, ut_err *err);
    /* Starts the instances of plan GPU `gpu` (their models, shares and
     * batch sizes), ready for batches of 1..batch requests; -1 with err
     * (an unknown model, a share the device cannot give, out of memory). */
    int (*open)(void *ud, const pol_gpu *g, size_t gpu, ut_err *err);
    /* Starts a batch of k requests on instance i of the open GPU. */
    int (*launch)(void *ud, size_t i, int k, ut_err *err);
    /* 1 when instance i's batch has completed, 0 not yet, -1 on error. */
    int (*poll)(void *ud, size_t i, ut_err *err);
    /* Stops the open GPU's instances (after their batches end). */
    void (*close)(void *ud);
    void *ud;
} srv_device;

typedef struct srv_config {
    const sim_config *sim;      /* plan, workloads and arrivals, duration,
                                   warm-up, seed, interval, trace_max,
                                   inputs, stop flag */
    const srv_device *dev;
    const srv_clock *clock;
    int64_t poll_ns;            /* wait between polls while a batch runs
                                   (0: poll continuously) */
    int only_gpu;               /* < 0: every plan GPU in turn */
    const char *mechanism;      /* "green" or "mps", recorded */
    FILE *progress;             /* a line per pass and at the end */
} srv_config;

/* What the host loop itself did, beside the requests' statistics. */
typedef struct srv_stats {
    size_t passes;              /* plan GPUs run */
    sim_hist lateness;          /* arrivals: handled - drawn, ns */
    uint64_t launches;
    int error;                  /* a pass ended on a device error */
    char error_msg[UT_ERR_MAX];
} srv_stats;

/*
 * Runs the plan (cfg->sim->plan) and writes summary.json (with a "serve"
 * member: device, mechanism, passes, lateness), workloads.csv, cdf.csv,
 * timeseries.csv, trace.json (when trace_max > 0) and requests.csv (every
 * request: workload, instance, GPU, arrival, lateness, dispatch, completion)
 * into out_dir. Bad input (a workload without settings, an unknown model,
 * a share the device cannot give) is an error before anything runs, and
 * nothing is written. A device error or the stop flag during a run ends it:
 * the results so far are written, marked incomplete ("complete": false,
 * the error in "serve"), and srv_run returns 1 (stopped) or 2 (device
 * error); 0 when complete, -1 on an error before the run.
 */
int srv_run(const srv_config *cfg, const char *out_dir, sim_result *res,
            srv_stats *st, ut_err *err);

#ifdef __cplusplus
}
#endif

#endif
