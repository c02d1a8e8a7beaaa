/*
 * serve.h - the real provisioner: runs a plan on a real GPU with the
 * shared serving layer (frontend/frontend.h: the simulator's own arrival
 * generation, routing, dynamic batcher and result files).
 *
 * The engine here is plain C and knows no GPU: a device (srv_device) starts
 * a plan GPU's instances and runs batches on them, a clock (srv_clock) says
 * what time it is and waits. serve/gpu.cu provides the CUDA device
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
#include "frontend/frontend.h"

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

/* One reading of the GPU's power and clock (srv_device.power). */
typedef struct srv_power_sample {
    int64_t t_ns;               /* on the clock's time (srv_clock.now) */
    double power_w, clock_mhz;
    uint64_t reasons;           /* NVML's clock-event reasons: 4 the power
                                   cap, 8 and 128 hardware slow-downs */
} srv_power_sample;

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
    /* Optional; needed only for a policy with a runtime hook. Changes
     * instance i of the open GPU, which has no batch running, to the
     * settings of *pi (its model, share and batch): a new partition or
     * worker of the new share, ready for batches of 1..pi->batch when it
     * returns. i one past the last instance ever opened adds an instance;
     * pi NULL stops instance i for good. Indices never shift: a stopped
     * instance keeps its number, unused. Blocks for as long as the change
     * really takes (the engine measures it); -1 with err (a bad share, out
     * of memory), which ends the run as a device error; 1 with err when
     * the device cannot give the new settings now (too few SMs free
     * beside the other instances), decided before anything changes: the
     * instance keeps its old settings and runs on (a new one is not
     * added, and its index stays the next one), and the engine logs the
     * change as not applied, with err's message. Stopping (pi NULL)
     * never answers 1. */
    int (*reconfigure)(void *ud, size_t i, const pol_instance *pi,
                       ut_err *err);
    void *ud;
    /* Optional (NULL: none recorded): the GPU's power and clock readings
     * taken in [t0_ns, t1_ns] of the clock's time, oldest first, at most
     * max of them into out; how many. serve asks after each pass and
     * writes them to power.csv. */
    size_t (*power)(void *ud, int64_t t0_ns, int64_t t1_ns,
                    srv_power_sample *out, size_t max);
} srv_device;

typedef struct srv_config {
    const fe_run *run;          /* plan, workloads and arrivals, duration,
                                   warm-up, seed, interval, trace_max,
                                   inputs, stop flag */
    const srv_device *dev;
    const srv_clock *clock;
    int64_t poll_ns;            /* wait between polls while a batch runs
                                   (0: poll continuously) */
    int only_gpu;               /* < 0: every plan GPU in turn */
    const char *mechanism;      /* "green" or "mps", recorded */
    FILE *progress;             /* a line per pass and at the end */
    /* A policy with a runtime hook (NULL: the plan is served as it is),
     * the request it planned from (its workloads in order), and the
     * least time an instance serves nothing after a change that is not
     * hot, from the control time, s (as the simulator's
     * reconfig_delay_s; 0: only what the device takes). See srv_run. */
    const pol_ops *policy;
    const pol_request *req;
    double reconfig_delay_s;
} srv_config;

/* What the host loop itself did, beside the requests' statistics. */
typedef struct srv_stats {
    size_t passes;              /* plan GPUs run */
    fe_hist lateness;          /* arrivals: handled - drawn, ns; the
                                   caller frees it (fe_hist_free) when
                                   srv_run returns 0 or more */
    uint64_t launches;
    size_t reconfigs;           /* runtime changes applied */
    size_t not_applied;         /* runtime changes serve could not apply
                                   (logged in reconfig.csv) */
    int error;                  /* a pass ended on a device error */
    char error_msg[UT_ERR_MAX];
} srv_stats;

/*
 * Runs the plan (cfg->run->plan) and writes summary.json (with a "serve"
 * member: device, mechanism, passes, lateness), workloads.csv, cdf.csv,
 * timeseries.csv, trace.json (when trace_max > 0), requests.csv (every
 * request: workload, instance, GPU, arrival, lateness, dispatch, completion)
 * and, when the device gives power readings, power.csv (plan GPU, time from
 * its pass's start, power, SM clock, clock-event reasons) into out_dir. Bad input (a workload without settings, an unknown model,
 * a share the device cannot give) is an error before anything runs, and
 * nothing is written. A device error or the stop flag during a run ends it:
 * the results so far are written, marked incomplete ("complete": false,
 * the error in "serve"), and srv_run returns 1 (stopped) or 2 (device
 * error); 0 when complete, -1 on an error before the run.
 */
int srv_run(const srv_config *cfg, const char *out_dir, fe_result *res,
            srv_stats *st, ut_err *err);

/*
 * A policy's runtime hook (cfg->policy with runtime != NULL): every pass
 * makes the policy's runtime state afresh (runtime_new on the plan) and
 * calls the hook at every control interval (interval_s) with the same
 * observations the simulator gives (fe_rec_observe: the interval's
 * arrivals, P99, violations, drops; what is queued now) and the pass's
 * live plan, then applies each change as the simulator does:
 *   SET     on the GPU being served: the instance keeps its queue (routing
 *           still sends it requests) and launches nothing until the change
 *           is done: after its running batch ends, the device reconfigures
 *           it (dev->reconfigure), and it serves again at the later of
 *           that and the control time + reconfig_delay_s (hot changes:
 *           + 0);
 *   ADD     on the GPU being served: a new device instance, which joins
 *           routing at the later of its start and the control time +
 *           reconfig_delay_s (hot: + 0);
 *   REMOVE  on the GPU being served: it leaves routing at once, its queue
 *           goes to the workload's other instances (fe_batcher_requeue's
 *           order), its running batch ends, then its device instance
 *           stops.
 * What a one-GPU machine cannot do is not applied, and logged so: a
 * change on another plan GPU than the pass's, an ADD on a new GPU, a
 * REMOVE of a workload that has instances on other plan GPUs (its queue
 * would go to a GPU this pass does not run); and a SET or ADD the device
 * refuses (dev->reconfigure answers 1: too few SM groups free): the
 * instance keeps its settings, its hold and its queue and runs on, the
 * live plan the hook sees is as before the change. A change that breaks a
 * plan's invariants (the simulator's checks, and batches of at most
 * CAP_MAX_BATCH) ends the run as an error. Every change, applied or not, is a row of
 * reconfig.csv (control time, GPU, instance, workload, kind, old and new
 * share and batch, the device's time to make it, when the instance served
 * again); summary.json's "serve" member counts them ("runtime"). With
 * the fake device and clock of the tests, a one-GPU plan gives exactly
 * what `igniter sim` gives with the fixed back end and the same delay.
 * On a plan of several GPUs each pass sees only its own GPU's requests.
 */

/* ---- the GPU device (serve/gpu.cu, build/libigniter-gpu.so) ------------- */

/*
 * The device of a real GPU: a green context and a capture runner for each
 * instance of the plan GPU being served, or, with the mechanism "mps", a
 * worker process each (`igniter-capture worker`, capture/worker.cu) under
 * an MPS daemon of its own. CUDA code: `make capture` builds it into
 * build/libigniter-gpu.so, which the CUDA-free igniter loads at run time
 * (srv_gpu_load) and reaches through the plug-in table below.
 */
typedef struct srv_gpu_opts {
    const char *mechanism;        /* "green" (the default) or "mps" */
    const char *models_dir;       /* NULL: capture/models */
    int verbose;                  /* a line per instance started */
} srv_gpu_opts;

/* Makes the device, *out until srv_gpu_device_free; -1 with err (an
 * unknown mechanism, no GPU, an unreadable algorithm cache, no
 * igniter-capture beside the library for MPS). */
int srv_gpu_device_new(const srv_gpu_opts *o, srv_device **out,
                       ut_err *err);
/* Stops what the device started (MPS: its workers and daemon); NULL is a
 * no-op. */
void srv_gpu_device_free(srv_device *d);
typedef int (*srv_gpu_device_new_fn)(const srv_gpu_opts *, srv_device **,
                                     ut_err *);
typedef void (*srv_gpu_device_free_fn)(srv_device *);

/*
 * The plug-in: build/libigniter-gpu.so exports one table, found by name
 * (SRV_GPU_PLUGIN_SYMBOL), so that a library built against other headers
 * than the igniter loading it is refused with a message rather than read
 * with the wrong layouts.
 *
 * The version rule: SRV_GPU_PLUGIN_VERSION goes up by one whenever
 * anything both sides share changes layout or meaning: this table,
 * srv_device, srv_gpu_opts, what device_new and device_free do, or a
 * structure the device reads (pol_plan, pol_gpu, pol_instance, ut_err).
 * The sizes in the table catch a forgotten bump of most layout changes,
 * not a reordering of members: hence the rule. version and plugin_size
 * come first and never move, so any version's table reads that far.
 *   0  no table: two bare functions, cap_serve_device_new and _free
 *   1  this table
 *   2  srv_device.reconfigure (a runtime hook's changes)
 *   3  reconfigure may answer 1: the change refused, nothing changed
 *   4  srv_device.power (the GPU's power and clock, power.csv)
 */
#define SRV_GPU_PLUGIN_VERSION 4
#define SRV_GPU_PLUGIN_SYMBOL "srv_gpu_plugin_export"

typedef struct srv_gpu_plugin {
    int version;                  /* SRV_GPU_PLUGIN_VERSION, as built */
    size_t plugin_size;           /* sizeof (srv_gpu_plugin), as built */
    size_t device_size;           /* sizeof (srv_device) */
    size_t opts_size;             /* sizeof (srv_gpu_opts) */
    size_t plan_size;             /* sizeof (pol_plan) */
    size_t gpu_size;              /* sizeof (pol_gpu) */
    size_t instance_size;         /* sizeof (pol_instance) */
    size_t err_size;              /* sizeof (ut_err) */
    srv_gpu_device_new_fn device_new;
    srv_gpu_device_free_fn device_free;
} srv_gpu_plugin;

/* The table, in build/libigniter-gpu.so only (not in libigniter.a). */
extern const srv_gpu_plugin srv_gpu_plugin_export;

/*
 * Loads the plug-in (serve/plugin.c): path, or NULL for libigniter-gpu.so
 * in the folder of the running executable (/proc/self/exe). On success,
 * *out is the library's table, valid until srv_gpu_unload(*handle). -1 with
 * err, and nothing left loaded, when the library does not load ("the GPU
 * library: DLERROR (build it with `make capture` ...)"), has no table, or
 * was built against another plug-in version or other structure sizes
 * ("PATH: built against plug-in version X, expected Y: rebuild with `make
 * capture`").
 */
int srv_gpu_load(const char *path, const srv_gpu_plugin **out,
                 void **handle, ut_err *err);
/* Unloads what srv_gpu_load loaded; NULL is a no-op. Free the devices
 * first: their code is in the library. */
void srv_gpu_unload(void *handle);

#ifdef __cplusplus
}
#endif

#endif
