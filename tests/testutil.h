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

#ifdef TU_SYNTH_RAW
#include "util/util.h"

/*
 * A small synthetic capture (igniter-capture's raw records) of a 132-SM
 * GPU: two models ("alpha", "beta") whose solo latencies follow the
 * iGniter active-time curve exactly, at batches 1, 8, 32 on 16, 32, 64 SMs
 * and the whole GPU; kernels, L2, pair_self, five copies runs, four "fit"
 * pairs, two held-out pairs and one held-out 3-way run. Lines of the kind
 * `skip` (NULL: none) are left out; `end` is the last line's text (NULL:
 * no end record). Returns malloc'd text.
 */
static inline double tu_synth_ms(int model, int batch, int sms)
{
    static const double k[2][5] = {{0.004, 8.7, 23.7, 0.06, 0.35},
                                   {0.0, 58.0, 1.0, 0.34, 1.9}};
    static const double idle[2] = {0.03, 0.07};
    double share = sms >= 132 ? 100 : 100.0 * sms / 132;
    double b = batch, xfer = b * (301056 + 2000) / (2 * 67108864 / 5.4);
    const double *c = k[model];
    return idle[model] + (c[0] * b * b + c[1] * b + c[2]) / (share + c[3]) +
           c[4] + xfer;
}

static inline char *tu_synth_raw(const char *skip, const char *end)
{
    static const char *names[2] = {"alpha", "beta"};
    static const int sms[4] = {16, 32, 64, 132}, batches[3] = {1, 8, 32};
    ut_buf b = {0};
    ut_buf_printf(&b, "{\"kind\":\"meta\",\"tool\":\"igniter-capture 0.1.0\","
        "\"time\":\"2026-12-01T10:00:00Z\",\"host\":\"h\",\"gpu\":\"NVIDIA "
        "H100 80GB HBM3\",\"sm_count\":132,\"min_partition_sms\":8,"
        "\"partition_align_sms\":8,\"mem_bytes\":85017755648,\"l2_bytes\":"
        "52428800,\"driver\":\"560.35.03\",\"max_clock_mhz\":1980,"
        "\"power_cap_w\":700,\"seed\":1,\"quick\":0,\"mechanism\":\"green\","
        "\"cuda_runtime\":12060,\"cuda_driver\":12060,\"cudnn\":90300,"
        "\"cudnn_compiled\":90300,\"cublas\":120604,"
        "\"precision\":\"fp16\"}\n");
    ut_buf_printf(&b, "{\"kind\":\"idle\",\"power_w\":70,\"clock_mhz\":345,"
                  "\"samples\":20}\n");
    ut_buf_printf(&b, "{\"kind\":\"pcie\",\"bytes\":67108864,\"h2d_ms\":2.6,"
                  "\"d2h_ms\":2.8,\"h2d_bytes_per_ms\":2.58111e+07,"
                  "\"d2h_bytes_per_ms\":2.39675e+07}\n");
    for (int m = 0; m < 2; m++)
        ut_buf_printf(&b, "{\"kind\":\"model\",\"model\":\"%s\",\"params\":"
                      "1000,\"gflops\":1.5,\"input_bytes\":301056,"
                      "\"output_bytes\":2000,\"layers\":20,\"precision\":"
                      "\"fp16\"}\n", names[m]);
    ut_buf_printf(&b, "{\"kind\":\"step\",\"step\":\"meta\",\"seconds\":2,"
                  "\"ok\":1}\n");
    for (int m = 0; m < 2; m++)
        ut_buf_printf(&b, "{\"kind\":\"kernels\",\"model\":\"%s\",\"batch\":1,"
                      "\"sms\":132,\"iters\":20,\"kernels\":%d,\"active_ms\":"
                      "0.6,\"idle_ms\":%g,\"idle_per_kernel_ms\":0.0015}\n",
                      names[m], m ? 80 : 20, m ? 0.07 : 0.03);
    for (int s = 0; s < 4; s++)
        for (int m = 0; m < 2; m++)
            for (int i = 0; i < 3; i++) {
                double ms = tu_synth_ms(m, batches[i], sms[s]);
                ut_buf_printf(&b, "{\"kind\":\"solo\",\"mech\":\"green\","
                    "\"model\":\"%s\",\"batch\":%d,\"sms\":%d,\"share_pct\":"
                    "%.4f,\"iters\":100,\"mean_ms\":%.5f,\"p50_ms\":%.5f,"
                    "\"p99_ms\":%.5f,\"std_ms\":%.5f,\"gpu_ms\":%.5f,"
                    "\"power_w\":%g,\"clock_mhz\":1980}\n", names[m],
                    batches[i], sms[s], 100.0 * sms[s] / 132, ms, ms,
                    ms * 1.1, ms * 0.02, ms * 0.97,
                    100 + sms[s] * 2.0 + batches[i] * (m + 1));
            }
    for (int m = 0; m < 2; m++)
        ut_buf_printf(&b, "{\"kind\":\"pair_self\",\"model\":\"%s\","
                      "\"batch\":1,\"sms\":64,\"kernels\":20,"
                      "\"active_solo_ms\":0.7,\"active_pair_ms\":%g,"
                      "\"power_w\":300,\"clock_mhz\":1980}\n", names[m],
                      m ? 0.77 : 0.74);
    static const double cp[5] = {150, 300, 450, 600, 700},
                        cc[5] = {1980, 1980, 1980, 1980, 1900},
                        ci[5] = {0.0014, 0.0017, 0.0068, 0.0119, 0.017};
    for (int n = 0; n < 5; n++)
        ut_buf_printf(&b, "{\"kind\":\"copies\",\"model\":\"beta\",\"batch\":"
                      "16,\"n\":%d,\"sms_each\":%d,\"power_w\":%g,"
                      "\"clock_mhz\":%g,\"idle_per_kernel_ms\":%g,"
                      "\"mean_ms\":5}\n", n + 1, n ? 132 / (n + 1) / 8 * 8
                      : 132, cp[n], cc[n], ci[n]);
    static const struct {
        const char *set;
        int n, m[3], b[3], s[3];
    } co[] = {
        {"fit", 2, {0, 1}, {1, 8}, {32, 100}},
        {"fit", 2, {0, 1}, {8, 8}, {32, 100}},
        {"fit", 2, {0, 1}, {1, 8}, {64, 68}},
        {"fit", 2, {0, 1}, {8, 8}, {64, 68}},
        {"test", 2, {0, 1}, {4, 2}, {48, 84}},
        {"test", 2, {1, 1}, {1, 16}, {24, 108}},
        {"test", 3, {0, 1, 0}, {2, 4, 8}, {40, 40, 52}},
    };
    for (size_t i = 0; i < sizeof co / sizeof co[0]; i++) {
        ut_buf_printf(&b, "{\"kind\":\"coloc\",\"mech\":\"green\",\"set\":"
                      "\"%s\",\"n\":%d,\"members\":[", co[i].set, co[i].n);
        for (int k = 0; k < co[i].n; k++) {
            double ms = 1.1 * tu_synth_ms(co[i].m[k], co[i].b[k], co[i].s[k]);
            ut_buf_printf(&b, "%s{\"model\":\"%s\",\"batch\":%d,\"sms\":%d,"
                          "\"share_pct\":%.4f,\"iters\":50,\"mean_ms\":%.5f,"
                          "\"p50_ms\":%.5f,\"p99_ms\":%.5f,\"std_ms\":%.5f}",
                          k ? "," : "", names[co[i].m[k]], co[i].b[k],
                          co[i].s[k], 100.0 * co[i].s[k] / 132, ms, ms,
                          ms * 1.2, ms * 0.03);
        }
        ut_buf_printf(&b, "],\"power_w\":400,\"clock_mhz\":1980}\n");
    }
    ut_buf_printf(&b, "{\"kind\":\"note\",\"step\":\"l2\",\"model\":\"beta\","
                  "\"batch\":4,\"msg\":\"ncu exited 256\"}\n");
    static const int l2b[3] = {1, 32, 8}, l2s[3] = {132, 132, 64};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < 3; i++)
            ut_buf_printf(&b, "{\"kind\":\"l2\",\"model\":\"%s\",\"batch\":%d,"
                          "\"sms\":%d,\"share_pct\":%.4f,\"kernels\":20,"
                          "\"gpu_ms\":1.5,\"l2_hit_pct\":70,\"l2_util_pct\":"
                          "%g,\"dram_util_pct\":%g}\n", names[m], l2b[i],
                          l2s[i], 100.0 * l2s[i] / 132,
                          (m ? 12.0 : 10.0) + l2b[i],
                          (m ? 30.0 : 20.0) + l2b[i] / 2.0);
    if (end)
        ut_buf_printf(&b, "%s\n", end);
    /* drop the lines of the kind to skip */
    char pat[64];
    snprintf(pat, sizeof pat, "{\"kind\":\"%s\"", skip ? skip : "");
    char *out = ut_xmalloc(b.len + 1), *w = out;
    for (char *l = b.s; *l;) {
        char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);
        if (!skip || strncmp(l, pat, strlen(pat))) {
            memcpy(w, l, n);
            w += n;
        }
        l += n;
    }
    *w = '\0';
    ut_buf_free(&b);
    return out;
}

#define TU_SYNTH_END "{\"kind\":\"end\",\"complete\":true,\"seconds\":900}"
#endif
