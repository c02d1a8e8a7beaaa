/*
 * bench_serve.c - `make bench`: how many requests a second igniter serve's
 * host loop keeps up with, on this machine's monotonic clock, with a
 * device that needs no GPU (each batch of 8 takes 1 ms; 12 instances, so
 * 96,000 requests a second of capacity). Per offered rate: the load
 * generator's lateness (how late the loop handled arrivals) and the CPU
 * time of the run (the 5 s loop, which spins while a batch runs, and the
 * writing of the results). Results go in README.md.
 */
#define TU_SIM
#include "testutil.h"
#include "serve/serve.h"

#include <sys/resource.h>
#include <time.h>

#define NI 12

typedef struct dev {
    int64_t done_at[NI];
    int busy[NI];
} dev;

static int64_t mono(void)
{
    return srv_clock_monotonic.now(NULL);
}

static int d_open(void *ud, const pol_gpu *g, size_t gpu, ut_err *err)
{
    (void)g;
    (void)gpu;
    (void)err;
    memset(ud, 0, sizeof(dev));
    return 0;
}

static int d_launch(void *ud, size_t i, int k, ut_err *err)
{
    dev *d = ud;
    (void)k;
    (void)err;
    d->busy[i] = 1;
    d->done_at[i] = mono() + 1000000;
    return 0;
}

static int d_poll(void *ud, size_t i, ut_err *err)
{
    dev *d = ud;
    (void)err;
    if (d->busy[i] && mono() >= d->done_at[i]) {
        d->busy[i] = 0;
        return 1;
    }
    return 0;
}

static void d_close(void *ud)
{
    (void)ud;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static void run(double total_rps, double seconds)
{
    pol_plan p;
    pol_gpu g;
    pol_instance in[NI];
    fe_workload_cfg w[NI];
    memset(&p, 0, sizeof p);
    memset(&g, 0, sizeof g);
    memset(in, 0, sizeof in);
    snprintf(p.policy, sizeof p.policy, "bench");
    p.ngpus = 1;
    p.gpus = &g;
    g.inst = in;
    g.n = NI;
    for (int i = 0; i < NI; i++) {
        char name[16];
        snprintf(name, sizeof name, "W%d", i + 1);
        tu_instance(&in[i], name, "fake", 8, 100.0 / NI, total_rps / NI, 20);
        fe_workload_defaults(&w[i], in[i].name, total_rps / NI);
    }
    sim_config c;
    tu_sim_config(&c, &p, NULL, NULL, w, NI, seconds, 1);
    dev d;
    srv_device sd = {"bench", NULL, d_open, d_launch, d_poll, d_close, NULL,
                     &d, NULL};
    srv_config sc = {&c.run, &sd, &srv_clock_monotonic, 0, -1, "bench", NULL,
                     NULL, NULL, 0};
    fe_result r;
    srv_stats st;
    ut_err err;
    double c0 = cpu_s();
    if (srv_run(&sc, tu_tmpdir(), &r, &st, &err) != 0) {
        fprintf(stderr, "bench_serve: %s\n", err.msg);
        exit(1);
    }
    double cpu = cpu_s() - c0;
    uint64_t n = tu_arrived(&r);
    printf("%11.0f %10llu %10.4f %10.4f %10.3f %8.2f\n", total_rps,
           (unsigned long long)n, fe_hist_mean(&st.lateness) / 1e6,
           (double)fe_hist_quantile(&st.lateness, 0.99) / 1e6,
           (double)st.lateness.max / 1e6, cpu);
    fe_result_free(&r);
    fe_hist_free(&st.lateness);
}

int main(void)
{
    printf("serve's host loop, 12 instances, a fake 1 ms device, 5 s each\n");
    printf("%11s %10s %10s %10s %10s %8s\n", "offered/s", "requests",
           "late mean", "late P99", "late max", "CPU");
    printf("%11s %10s %10s %10s %10s %8s\n", "", "", "ms", "ms", "ms",
           "s");
    static const double rates[] = {1000, 10000, 40000, 80000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        run(rates[i], 5);
    return 0;
}
