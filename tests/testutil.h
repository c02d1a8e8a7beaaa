/*
 * testutil.h - helpers shared by the test suites (header-only, static).
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define V100_AUTHORS "traces/v100/igniter-profile.jsonl"
#define V100_PROFILE "traces/v100/profile.json"
#define V100_MEASURED "traces/v100/measured-colocation.jsonl"

/* |a - b| <= rel * |b| (or <= rel when b is 0) */
#define assert_close(a, b, rel)                                              \
    do {                                                                     \
        double a_ = (a), b_ = (b);                                           \
        double tol_ = (rel) * (b_ != 0 ? fabs(b_) : 1.0);                    \
        if (!(fabs(a_ - b_) <= tol_))                                        \
            fail_msg("%s = %.17g, expected %.17g (relative tolerance %g)",   \
                     #a, a_, b_, (double)(rel));                             \
    } while (0)

/* Writes text to a fresh file in a temporary directory; returns its path
 * (static buffer per call site is not enough: caller gets malloc'd path). */
static inline char *tu_write_temp(const char *name, const char *text)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/igniter-test-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return path;
}

#endif

#ifdef TU_RANDOM_WORKLOADS
#include <gsl/gsl_rng.h>
#include "policies/policy.h"

/* n random workloads over the four V100 models, seeded: SLOs in a range
 * per model around the paper's (AlexNet 10-30 ms, ResNet-50 20-80,
 * VGG-19 40-120, SSD 60-200) and rates of 50-800 req/s. Shared by the plan
 * tests and the planning benchmark. */
static inline pol_workload *tu_random_workloads(size_t n, unsigned long seed)
{
    static const struct {
        const char *model;
        double slo_lo, slo_hi;
    } kinds[] = {{"alexnet", 10, 30}, {"resnet50", 20, 80},
                 {"vgg19", 40, 120}, {"ssd", 60, 200}};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    pol_workload *w = calloc(n, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        size_t k = gsl_rng_uniform_int(r, 4);
        snprintf(w[i].name, sizeof w[i].name, "W%zu", i + 1);
        snprintf(w[i].model, sizeof w[i].model, "%s", kinds[k].model);
        w[i].slo_ms = round(kinds[k].slo_lo + gsl_rng_uniform(r) *
                            (kinds[k].slo_hi - kinds[k].slo_lo));
        w[i].rate_rps = round(50 + gsl_rng_uniform(r) * 750);
    }
    gsl_rng_free(r);
    return w;
}
#endif
