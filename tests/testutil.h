/*
 * testutil.h - helpers shared by the test suites (header-only, static).
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700   /* nftw */
#endif

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
#include <sys/stat.h>

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

/* Temporary directories made by a test process are removed when it exits
 * (atexit), whatever the tests left in them. */
#include <ftw.h>

static char tu_dirs[64][64];
static int tu_ndirs;

static inline int tu_rm_one(const char *path, const struct stat *st, int flag,
                            struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static inline void tu_cleanup(void)
{
    for (int i = 0; i < tu_ndirs; i++)
        nftw(tu_dirs[i], tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under /tmp, removed at exit. Returns a static buffer
 * (one per call, up to 64 per process). */
static inline const char *tu_tmpdir(void)
{
    if (tu_ndirs == 64)
        abort();
    char *d = tu_dirs[tu_ndirs];
    snprintf(d, 64, "/tmp/igniter-test-XXXXXX");
    if (!mkdtemp(d))
        abort();
    if (tu_ndirs++ == 0)
        atexit(tu_cleanup);
    return d;
}

/* Writes text to a fresh file in a temporary directory; returns its
 * malloc'd path. */
static inline char *tu_write_temp(const char *name, const char *text)
{
    static const char *dir;
    if (!dir)
        dir = tu_tmpdir();
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
