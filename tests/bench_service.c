/*
 * bench_service.c - `make bench`: simulated requests per second of wall
 * time, on one core, of the iGniter plan of the paper's 12 workloads under
 * Poisson arrivals (experiments/paper-12-poisson.json's setting) judged by
 * the V100's measured data: the `measured` back end (service times
 * sampled), `measured-mean` (every batch at its mean) and `model`, each in
 * its own process. Results go in docs/simulator.md.
 */
#define TU_SIM
#define TU_BENCH
#include "testutil.h"

static const double duration_s = 2000;

/* arg: the back end's name */
static void paper12(const void *arg)
{
    const char *backend = arg;
    mdl_fitted f;
    mdl_measured m;
    ut_err err;
    pol_workload *w;
    size_t n;
    if (mdl_load(V100_PROFILE, &f, &err) < 0 ||
        mdl_measured_load(V100_MEASURED, &m, &err) < 0 ||
        pol_workloads_load("experiments/paper-12.json", &f, &w, &n, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    pol_plan p;
    fe_workload_cfg *wc = tu_igniter_poisson(&f, w, n, &p);
    sim_config c;
    tu_sim_config(&c, &p, &f, backend, wc, n, duration_s, 1);
    c.measured = &m;
    const char *dir = tu_tmpdir();
    fe_result r;
    double t0 = tu_now_s();
    if (sim_run(&c, dir, &r, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    double wall = tu_now_s() - t0;
    uint64_t req_n = tu_arrived(&r);
    printf("paper-12 Poisson, %-13s %5.0f s %11llu %9.2f %10.2f\n", backend,
           duration_s, (unsigned long long)req_n, wall,
           (double)req_n / wall / 1e6);
    fe_result_free(&r);
    pol_plan_free(&p);
    free(wc);
    free(w);
    mdl_measured_free(&m);
    mdl_fitted_free(&f);
}

int main(void)
{
    printf("igniter sim, one core; each line its own process\n");
    printf("%-42s %11s %9s %10s\n", "case", "requests", "wall s", "M req/s");
    tu_in_child(paper12, "measured");
    tu_in_child(paper12, "measured-mean");
    tu_in_child(paper12, "model");
    return 0;
}
