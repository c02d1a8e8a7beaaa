/*
 * bench_plan.c - `make bench`: iGniter planning time (pol_make_plan: the
 * request's checks, the plan, the plan's checks) for 10 to 100,000 random
 * workloads (seeded, tests/testutil.h), on one core, and the peak memory of
 * a process that plans each size. Results go in README.md.
 */
#define TU_RANDOM_WORKLOADS
#define TU_BENCH
#include "testutil.h"
#include "policies/policy.h"

#include <sys/resource.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* In a child process, so that its peak RSS is this size's alone. */
static void bench_size(const mdl_fitted *f, size_t n)
{
    pol_workload *w = tu_random_workloads(n, 2023);
    pol_request req = {w, n, f, NULL, 0};
    int reps = n <= 100 ? 200 : n <= 1000 ? 20 : n <= 10000 ? 5 : 3;
    double t[200];
    size_t gpus = 0;
    for (int r = 0; r < reps; r++) {
        pol_plan p;
        ut_err err;
        double t0 = tu_now_s();
        if (pol_make_plan("igniter", &req, &p, &err) < 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
        t[r] = tu_now_s() - t0;
        gpus = p.ngpus;
        pol_plan_free(&p);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%9zu %8zu %12.3f %12.3f %11.1f\n", n, gpus, t[reps / 2] * 1e3,
           t[0] * 1e3, (double)ru.ru_maxrss / 1024);
    free(w);
}

int main(void)
{
    mdl_fitted f;
    ut_err err;
    if (mdl_load(V100_PROFILE, &f, &err) < 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    printf("igniter plan on %s, random workloads (seed 2023), one core\n",
           V100_PROFILE);
    printf("%9s %8s %12s %12s %11s\n", "workloads", "GPUs", "median ms",
           "min ms", "peak MiB");
    static const size_t sizes[] = {10, 100, 1000, 10000, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            bench_size(&f, sizes[i]);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    mdl_fitted_free(&f);
    return 0;
}
