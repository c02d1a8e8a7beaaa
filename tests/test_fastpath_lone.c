/*
 * test_fastpath_lone.c - the simulator's loop for a single-server queue
 * (run_lone, sim/sim.c: one workload, one instance of batch 1, a back end
 * without interference) gives what the general event loop gives for the
 * same run (sim_config.general_loop = 1): every output file byte for byte,
 * the results, and the progress reports, over arrival kinds (ties of an
 * arrival and a completion at the same ns among them), service
 * distributions, warm-ups, drops at a full queue, a trace, intervals that
 * do not divide the run, a stop, and the measured-solo back end.
 */
#define TU_SIM
#include "testutil.h"

#include <sys/stat.h>

TU_FIT_MEASURED_FIXTURE(fit, meas)

/* A hash of every progress report, in order. */
static void progress(void *ud, int64_t now_ns, int64_t end_ns,
                     uint64_t requests)
{
    uint64_t *h = ud;
    uint64_t v[3] = {(uint64_t)now_ns, (uint64_t)end_ns, requests};
    for (int k = 0; k < 3; k++)
        *h = (*h ^ v[k]) * 1099511628211ULL;
}

/* The file name in folder dir, or NULL when there is none. */
static char *read_if_any(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? tu_read_in(dir, name) : NULL;
}

/* Runs c through both loops and checks they agree. */
static void both_loops(sim_config *c, const char *what)
{
    static const char *const files[] = {"summary.json", "workloads.csv",
                                        "timeseries.csv", "cdf.csv",
                                        "trace.json"};
    const char *dir[2];
    fe_result r[2];
    uint64_t hash[2];
    for (int general = 0; general < 2; general++) {
        hash[general] = 14695981039346656037ULL;
        c->progress = progress;
        c->progress_ud = &hash[general];
        c->general_loop = general;
        dir[general] = tu_tmpdir();
        ut_err err;
        if (sim_run(c, dir[general], &r[general], &err) < 0)
            fail_msg("%s: %s", what, err.msg);
    }
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char *a = read_if_any(dir[0], files[k]);
        char *b = read_if_any(dir[1], files[k]);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b)))
            fail_msg("%s: %s differs between the loops", what, files[k]);
        free(a);
        free(b);
    }
    if (hash[0] != hash[1])
        fail_msg("%s: the progress reports differ", what);
    assert_int_equal(r[0].events, r[1].events);
    assert_int_equal(r[0].complete, r[1].complete);
    assert_memory_equal(&r[0].sim_end_s, &r[1].sim_end_s, sizeof(double));
    assert_int_equal(tu_arrived(&r[0]), tu_arrived(&r[1]));
    assert_true(tu_arrived(&r[0]) > 0);
    fe_result_free(&r[0]);
    fe_result_free(&r[1]);
}

/* One workload W of rate req/s on one instance of batch 1, service_ms
 * constant, on backend (fixed or measured-solo), dur s. */
typedef struct lone {
    tu_hplan t;
    fe_workload_cfg w;
    sim_config c;
} lone;

static void lone_init(lone *l, const char *backend, double rate,
                      double service_ms, double dur)
{
    tu_hplan_init(&l->t, 1, "V100", 3.06);
    tu_hplan_add(&l->t, 0, "W", "alexnet", 1, 100, rate, 10);
    fe_workload_defaults(&l->w, "W", rate);
    l->w.service_ms = service_ms;
    tu_sim_config(&l->c, &l->t.p, &fit, backend, &l->w, 1, dur, 3);
    l->c.measured = &meas;
}

static void test_md1_and_mg1(void **state)
{
    (void)state;
    lone l;
    lone_init(&l, "fixed", 800, 1, 40);
    l.w.queue_limit = 1000000;
    l.c.run.warmup_s = 2;
    both_loops(&l.c, "M/D/1 rho 0.8");
    l.w.service_cv = 1.5;
    both_loops(&l.c, "M/G/1 gamma CV 1.5");
    l.w.service_cv = 0;
    l.w.service_exp = 1;
    both_loops(&l.c, "M/M/1");
    lone_init(&l, "fixed", 20, 3, 30);
    both_loops(&l.c, "M/D/1 mostly idle");
}

/* Constant arrivals every 1 ms and 0.5 ms against a 1 ms service: the
 * arrival and the completion fall on the same ns, and their numbers
 * decide which runs first. */
static void test_ties(void **state)
{
    (void)state;
    lone l;
    lone_init(&l, "fixed", 1000, 1, 10);
    l.w.arrivals.kind = TRACE_CONSTANT;
    both_loops(&l.c, "D/D/1 at rho 1");
    lone_init(&l, "fixed", 2000, 0.5, 10);
    l.w.arrivals.kind = TRACE_CONSTANT;
    l.c.run.warmup_s = 1;
    both_loops(&l.c, "D/D/1, 0.5 ms");
    lone_init(&l, "fixed", 500, 2, 10);
    l.w.arrivals.kind = TRACE_CONSTANT;
    l.w.queue_limit = 3;
    both_loops(&l.c, "D/D/1 at rho 1, 2 ms");
}

/* Overload with a short queue (drops), a trace, intervals of 0.7 s in a
 * 10.5 s run, gamma arrivals, and a service longer than the run. */
static void test_drops_trace_intervals(void **state)
{
    (void)state;
    lone l;
    lone_init(&l, "fixed", 1500, 1, 10.5);
    l.w.queue_limit = 50;
    l.c.run.warmup_s = 1.3;
    l.c.run.interval_s = 0.7;
    l.c.run.trace_max = 300;
    both_loops(&l.c, "overload, drops, trace");
    l.w.arrivals.kind = TRACE_GAMMA;
    l.w.arrivals.cv = 3;
    both_loops(&l.c, "gamma arrivals");
    lone_init(&l, "fixed", 100, 5000, 3);
    both_loops(&l.c, "a service longer than the run");
}

/* A stop flag already set: both loops stop at the first check, at the
 * same event, and the run is incomplete. */
static void test_stop(void **state)
{
    (void)state;
    lone l;
    lone_init(&l, "fixed", 800, 1, 200);
    volatile sig_atomic_t stop = 1;
    l.c.run.stop = &stop;
    both_loops(&l.c, "stopped");
}

/* measured-solo: a batch's time from the measured data, no interference. */
static void test_measured_solo(void **state)
{
    (void)state;
    lone l;
    lone_init(&l, "measured-solo", 300, 1, 20);
    l.c.run.warmup_s = 1;
    both_loops(&l.c, "measured-solo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md1_and_mg1),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_drops_trace_intervals),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_measured_solo),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    tu_cleanup();
    return rc;
}
