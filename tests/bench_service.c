/*
 * bench_service.c - `make bench`: simulated requests per second of wall
 * time, on one core, of the iGniter plan of the paper's 12 workloads under
 * Poisson arrivals (experiments/paper-12-poisson.json's setting) judged by
 * the V100's measured data: the `measured` back end (service times
 * sampled), `measured-mean` (every batch at its mean) and `model`, each in
 * its own process. Results go in docs/simulator.md.
 */
#include "testutil.h"
#include "sim/sim.h"

#include <sys/wait.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void paper12(const char *backend, double duration_s)
{
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
    pol_request req = {w, n, &f, NULL, 0};
    pol_plan p;
    if (pol_make_plan("igniter", &req, &p, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    fe_workload_cfg *wc = calloc(n, sizeof *wc);
    for (size_t i = 0; i < n; i++)
        fe_workload_defaults(&wc[i], w[i].name, w[i].rate_rps);  /* Poisson */
    sim_config c;
    memset(&c, 0, sizeof c);
    c.run.plan = &p;
    c.fit = &f;
    c.measured = &m;
    c.backend = backend;
    c.run.duration_s = duration_s;
    c.run.interval_s = 1;
    c.run.seed = 1;
    c.run.wcfg = wc;
    c.run.nw = n;
    const char *dir = tu_tmpdir();
    fe_result r;
    double t0 = now_s();
    if (sim_run(&c, dir, &r, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    double wall = now_s() - t0;
    uint64_t req_n = 0;
    for (size_t i = 0; i < r.nw; i++)
        req_n += r.w[i].arrived;
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

static void in_child(const char *backend, double duration_s)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        paper12(backend, duration_s);
        fflush(stdout);
        tu_cleanup();
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        exit(1);
}

int main(void)
{
    printf("igniter sim, one core; each line its own process\n");
    printf("%-42s %11s %9s %10s\n", "case", "requests", "wall s", "M req/s");
    in_child("measured", 2000);
    in_child("measured-mean", 2000);
    in_child("model", 2000);
    return 0;
}
