/*
 * bench_sim.c - `make bench`: simulated requests per second of wall time,
 * on one core, for an M/D/1 queue (fixed back end), for the iGniter plan
 * of the paper's 12 workloads and for those of 10,000 and 100,000 random
 * workloads (model back end), each in its own process with its peak
 * memory; then the same M/D/1 queue in SimPy (scripts/simpy_md1.py) for
 * comparison. Results go in README.md.
 */
#define TU_RANDOM_WORKLOADS
#define TU_SIM
#define TU_BENCH
#include "testutil.h"

#include <sys/resource.h>

static void report(const char *what, const fe_result *r, double wall)
{
    uint64_t n = tu_arrived(r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-34s %11llu %9.2f %10.2f %10.1f\n", what, (unsigned long long)n,
           wall, (double)n / wall / 1e6, (double)ru.ru_maxrss / 1024);
}

/* Simulates c (into a fresh folder), times it and reports it as what;
 * the results in *r (the caller frees them). */
static void timed_run(const sim_config *c, const char *what, fe_result *r)
{
    const char *dir = tu_tmpdir();
    ut_err err;
    double t0 = tu_now_s();
    if (sim_run(c, dir, r, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    report(what, r, tu_now_s() - t0);
}

static void md1(const void *arg)
{
    double duration_s = *(const double *)arg;
    pol_instance in;
    tu_instance(&in, "W", "alexnet", 1, 100, 800, 10);
    pol_gpu g = {.inst = &in, .n = 1};
    pol_plan p = {.gpus = &g, .ngpus = 1};
    fe_workload_cfg w;
    fe_workload_defaults(&w, "W", 800);
    w.service_ms = 1;
    w.queue_limit = 1000000;
    sim_config c;
    tu_sim_config(&c, &p, NULL, "fixed", &w, 1, duration_s, 1);
    char what[64];
    snprintf(what, sizeof what, "M/D/1 rho 0.8, %.0f s simulated", duration_s);
    fe_result r;
    timed_run(&c, what, &r);
    printf("%34s mean wait %.3f ms (Pollaczek-Khinchine 2.000)\n", "",
           r.w[0].queue_ns_sum / (double)r.w[0].batch_items / 1e6);
    fe_result_free(&r);
}

/* The iGniter plan of the n workloads w on the V100's fitted model f,
 * simulated on the model back end for duration_s (Poisson arrivals at
 * their rates). */
static void plan_and_run(const mdl_fitted *f, const pol_workload *w, size_t n,
                         double duration_s, const char *what)
{
    pol_plan p;
    fe_workload_cfg *wc = tu_igniter_poisson(f, w, n, &p);
    sim_config c;
    tu_sim_config(&c, &p, f, "model", wc, n, duration_s, 1);
    fe_result r;
    timed_run(&c, what, &r);
    fe_result_free(&r);
    pol_plan_free(&p);
    free(wc);
}

static mdl_fitted v100(void)
{
    mdl_fitted f;
    ut_err err;
    if (mdl_load(V100_PROFILE, &f, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return f;
}

static void paper12(const void *arg)
{
    double duration_s = *(const double *)arg;
    mdl_fitted f = v100();
    size_t n;
    pol_workload *w = tu_paper12(&f, &n);
    char what[64];
    snprintf(what, sizeof what, "paper-12 plan, model, %.0f s", duration_s);
    plan_and_run(&f, w, n, duration_s, what);
    free(w);
    mdl_fitted_free(&f);
}

/* The iGniter plan of n random workloads (tests/testutil.h, seed 2023,
 * Poisson arrivals at their rates), simulated for duration_s: memory per
 * workload (peak RSS, planning included) and speed at scale. */
static void random_plan(size_t n, double duration_s)
{
    mdl_fitted f = v100();
    pol_workload *w = tu_random_workloads(n, 2023);
    char what[64];
    snprintf(what, sizeof what, "%zu random, model, %.0f s", n, duration_s);
    plan_and_run(&f, w, n, duration_s, what);
    free(w);
    mdl_fitted_free(&f);
}

static void random_10k(const void *duration_s)
{
    random_plan(10000, *(const double *)duration_s);
}

static void random_100k(const void *duration_s)
{
    random_plan(100000, *(const double *)duration_s);
}

int main(void)
{
    printf("igniter sim, one core; each line its own process\n");
    printf("%-34s %11s %9s %10s %10s\n", "case", "requests", "wall s",
           "M req/s", "peak MiB");
    tu_in_child(md1, &(double){2500});
    tu_in_child(md1, &(double){25000});
    tu_in_child(paper12, &(double){200});
    tu_in_child(paper12, &(double){2000});
    tu_in_child(random_10k, &(double){2});
    tu_in_child(random_100k, &(double){2});
    return 0;
}
