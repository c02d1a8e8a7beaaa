/*
 * gpu.cu - the device under measurement: its properties, SM partitions
 * (green contexts), NVML power and clock sampling (dlopen'd, so the tool
 * runs where NVML is missing, without those readings) and CUPTI kernel
 * records.
 */
#include "capture/capture.h"

#include <cuda.h>
#include <cuda_runtime.h>
#include <cupti.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A driver or CUPTI call whose result should equal ok; otherwise an error
 * naming the call, the name the library gives the result, and its code. */
#define CK_RESULT(call, T, ok, name)                                        \
    do {                                                                    \
        T r_ = (call);                                                      \
        if (r_ != (ok)) {                                                   \
            const char *s_ = NULL;                                          \
            name(r_, &s_);                                                  \
            return ut_errf(err, "%s: %s (%d)", #call, s_ ? s_ : "?",       \
                           (int)r_);                                        \
        }                                                                   \
    } while (0)

#define CK_CU(call) CK_RESULT(call, CUresult, CUDA_SUCCESS, cuGetErrorName)
#define CK_CUPTI(call) CK_RESULT(call, CUptiResult, CUPTI_SUCCESS, \
                                 cuptiGetResultString)

extern "C" double cap_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static CUdevice dev;

/* ---- NVML ----------------------------------------------------------------- */

typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;

typedef struct nv_sample {
    double t, power_w, clock_mhz;
    double energy_mj;            /* the board's energy counter; NAN without */
    unsigned long long reasons;  /* why the clock is below its maximum */
} nv_sample;

struct cap_nvml {
    void *lib;
    nvmlDevice_t dev;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*power)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*clock)(nvmlDevice_t, int, unsigned *);
    nvmlReturn_t (*maxclock)(nvmlDevice_t, int, unsigned *);
    nvmlReturn_t (*limit)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*driver)(char *, unsigned);
    const char *(*errstr)(nvmlReturn_t);
    /* optional (NULL where the library lacks them) */
    nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long *);
    nvmlReturn_t (*reasons)(nvmlDevice_t, unsigned long long *);
    pthread_t thr;
    int running, stop;
    double period;
    pthread_mutex_t lock;
    nv_sample *s;
    size_t n, cap;
};

#define NVML_CLOCK_SM 1

static int nv_err(ut_err *err, cap_nvml *nv, const char *call, int rc)
{
    return ut_errf(err, "%s: %s (%d)", call,
                   nv->errstr ? nv->errstr(rc) : "?", rc);
}

extern "C" int cap_nvml_open(cap_nvml **out, ut_err *err)
{
    *out = NULL;
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    if (!lib)
        return ut_errf(err, "dlopen libnvidia-ml.so.1: %s", dlerror());
    cap_nvml *nv = (cap_nvml *)ut_xcalloc(1, sizeof *nv);
    nv->lib = lib;
#define SYM(f, name)                                                        \
    do {                                                                    \
        *(void **)&nv->f = dlsym(lib, name);                                \
        if (!nv->f) {                                                       \
            dlclose(lib);                                                   \
            free(nv);                                                       \
            return ut_errf(err, "libnvidia-ml.so.1: no symbol %s", name);  \
        }                                                                   \
    } while (0)
    SYM(init, "nvmlInit_v2");
    SYM(shutdown, "nvmlShutdown");
    SYM(handle, "nvmlDeviceGetHandleByIndex_v2");
    SYM(power, "nvmlDeviceGetPowerUsage");
    SYM(clock, "nvmlDeviceGetClockInfo");
    SYM(maxclock, "nvmlDeviceGetMaxClockInfo");
    SYM(limit, "nvmlDeviceGetEnforcedPowerLimit");
    SYM(driver, "nvmlSystemGetDriverVersion");
    SYM(errstr, "nvmlErrorString");
#undef SYM
    /* the energy counter (Volta on) and the clock's event reasons, under
     * their name since CUDA 12.2 or the older one */
    *(void **)&nv->energy = dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
    *(void **)&nv->reasons =
        dlsym(lib, "nvmlDeviceGetCurrentClocksEventReasons");
    if (!nv->reasons)
        *(void **)&nv->reasons =
            dlsym(lib, "nvmlDeviceGetCurrentClocksThrottleReasons");
    int rc = nv->init();
    if (rc) {
        nv_err(err, nv, "nvmlInit_v2", rc);
        dlclose(lib);
        free(nv);
        return -1;
    }
    rc = nv->handle(0, &nv->dev);
    if (rc) {
        nv_err(err, nv, "nvmlDeviceGetHandleByIndex_v2", rc);
        nv->shutdown();
        dlclose(lib);
        free(nv);
        return -1;
    }
    pthread_mutex_init(&nv->lock, NULL);
    *out = nv;
    return 0;
}

extern "C" int cap_nvml_read(cap_nvml *nv, double *power_w,
                             double *clock_mhz, ut_err *err)
{
    unsigned mw = 0, mhz = 0;
    int rc = nv->power(nv->dev, &mw);
    if (rc)
        return nv_err(err, nv, "nvmlDeviceGetPowerUsage", rc);
    rc = nv->clock(nv->dev, NVML_CLOCK_SM, &mhz);
    if (rc)
        return nv_err(err, nv, "nvmlDeviceGetClockInfo", rc);
    *power_w = mw / 1000.0;
    *clock_mhz = mhz;
    return 0;
}

extern "C" void cap_nvml_limits(cap_nvml *nv, double *power_cap_w,
                                double *max_clock_mhz, char *driver,
                                size_t n)
{
    unsigned mw = 0, mhz = 0;
    *power_cap_w = nv->limit(nv->dev, &mw) ? 0 : mw / 1000.0;
    *max_clock_mhz = nv->maxclock(nv->dev, NVML_CLOCK_SM, &mhz) ? 0 : mhz;
    if (driver && nv->driver(driver, (unsigned)n))
        snprintf(driver, n, "unknown");
}

static void *nv_thread(void *arg)
{
    cap_nvml *nv = (cap_nvml *)arg;
    struct timespec ts = {0, (long)(nv->period * 1e9)};
    for (;;) {
        pthread_mutex_lock(&nv->lock);
        int stop = nv->stop;
        pthread_mutex_unlock(&nv->lock);
        if (stop)
            break;
        double p, c;
        ut_err e;
        if (cap_nvml_read(nv, &p, &c, &e) == 0) {
            unsigned long long mj = 0, why = 0;
            double energy = nv->energy && !nv->energy(nv->dev, &mj)
                                ? (double)mj
                                : NAN;
            if (nv->reasons && nv->reasons(nv->dev, &why))
                why = 0;
            pthread_mutex_lock(&nv->lock);
            if (nv->n == nv->cap) {
                nv->cap = nv->cap ? 2 * nv->cap : 4096;
                nv->s = (nv_sample *)ut_xrealloc(nv->s,
                                                 nv->cap * sizeof *nv->s);
            }
            nv->s[nv->n++] = (nv_sample){cap_now(), p, c, energy, why};
            pthread_mutex_unlock(&nv->lock);
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

extern "C" int cap_nvml_start(cap_nvml *nv, double hz, ut_err *err)
{
    if (nv->running)
        return 0;
    nv->period = 1.0 / hz;
    nv->stop = 0;
    if (pthread_create(&nv->thr, NULL, nv_thread, nv))
        return ut_errf(err, "nvml sampler: pthread_create failed");
    nv->running = 1;
    return 0;
}

/* The first sample at or after t0 (samples are in time order). */
static size_t nv_first(const cap_nvml *nv, double t0)
{
    size_t lo = 0, hi = nv->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nv->s[mid].t < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

extern "C" void cap_nvml_stats_window(cap_nvml *nv, double t0, double t1,
                                      cap_nvml_stats *st)
{
    memset(st, 0, sizeof *st);
    st->power_w = st->energy_w = st->clock_mhz = st->clock_min_mhz = NAN;
    double sp = 0, sc = 0, cmin = INFINITY;
    pthread_mutex_lock(&nv->lock);
    size_t i0 = nv_first(nv, t0), i = i0;
    for (; i < nv->n && nv->s[i].t <= t1; i++) {
        sp += nv->s[i].power_w;
        sc += nv->s[i].clock_mhz;
        cmin = fmin(cmin, nv->s[i].clock_mhz);
        st->reasons |= nv->s[i].reasons;
        st->n++;
    }
    if (st->n >= 2) {
        const nv_sample *a = &nv->s[i0], *b = &nv->s[i - 1];
        if (isfinite(a->energy_mj) && isfinite(b->energy_mj) &&
            b->energy_mj > a->energy_mj && b->t > a->t)
            st->energy_w = (b->energy_mj - a->energy_mj) / 1e3 / (b->t - a->t);
    }
    pthread_mutex_unlock(&nv->lock);
    if (st->n) {
        st->power_w = sp / st->n;
        st->clock_mhz = sc / st->n;
        st->clock_min_mhz = cmin;
    }
}

extern "C" size_t cap_nvml_samples(cap_nvml *nv, double t0, double t1,
                                   cap_nvml_sample *out, size_t max)
{
    size_t k = 0;
    pthread_mutex_lock(&nv->lock);
    for (size_t i = nv_first(nv, t0); i < nv->n && nv->s[i].t <= t1 && k < max;
         i++)
        out[k++] = cap_nvml_sample{nv->s[i].t, nv->s[i].power_w,
                                   nv->s[i].clock_mhz, nv->s[i].reasons};
    pthread_mutex_unlock(&nv->lock);
    return k;
}

extern "C" void cap_nvml_window(cap_nvml *nv, double t0, double t1,
                                double *power_w, double *clock_mhz, int *n)
{
    cap_nvml_stats st;
    cap_nvml_stats_window(nv, t0, t1, &st);
    *n = st.n;
    *power_w = st.power_w;
    *clock_mhz = st.clock_mhz;
}

extern "C" void cap_nvml_close(cap_nvml *nv)
{
    if (!nv)
        return;
    if (nv->running) {
        pthread_mutex_lock(&nv->lock);
        nv->stop = 1;
        pthread_mutex_unlock(&nv->lock);
        pthread_join(nv->thr, NULL);
    }
    nv->shutdown();
    dlclose(nv->lib);
    free(nv->s);
    free(nv);
}

/* ---- the device and its partitions ------------------------------------- */

extern "C" int cap_gpu_init(cap_gpu_info *info, ut_err *err)
{
    memset(info, 0, sizeof *info);
    CK_CU(cuInit(0));
    CK_CU(cuDeviceGet(&dev, 0));
    CK_CU(cuDeviceGetName(info->name, sizeof info->name, dev));
    int v = 0;
    CK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                               dev));
    info->sm_count = v;
    CK_CU(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev));
    info->l2_bytes = (size_t)v;
    CK_CU(cuDeviceTotalMem(&info->mem_bytes, dev));
    CUdevResource res;
    CK_CU(cuDeviceGetDevResource(dev, &res, CU_DEV_RESOURCE_TYPE_SM));
    info->min_partition_sms = (int)res.sm.minSmPartitionSize;
    info->partition_align_sms = (int)res.sm.smCoscheduledAlignment;
    {
        unsigned ng = 0;
        CUresult r = cuDevSmResourceSplitByCount(NULL, &ng, &res, NULL, 0,
                                                 CAP_SM_GROUP);
        info->partition_sms = r == CUDA_SUCCESS ? (int)ng * CAP_SM_GROUP : 0;
    }
    /* the runtime's primary context, current on this thread */
    cudaError_t e = cudaSetDevice(0);
    if (e == cudaSuccess)
        e = cudaFree(0);
    if (e != cudaSuccess)
        return ut_errf(err, "cudaFree(0): %s (%d)", cudaGetErrorName(e),
                       (int)e);
    return 0;
}

struct cap_partition {
    int sms;
    CUgreenCtx green;          /* NULL: the primary context */
    CUcontext ctx;
};

/* The device's SMs in structured groups of CAP_SM_GROUP, split once; a
 * partition is the union of whole groups (cuDevResourceGenerateDesc takes
 * several resources of one split, adjacent or not). The split's remainder
 * (4 SMs on the H100) is left out: it is "unstructured" (no co-scheduling
 * guarantee), and cuBLAS's cluster kernels fail in it
 * (CUBLAS_STATUS_EXECUTION_FAILED), and a group cannot be split again
 * without a green context of its own. */

/* The device's SMs (*all) and, when split, its groups (*ng of them, at
 * most CAP_MAX_GROUPS). */
static int sm_groups(CUdevResource *all, CUdevResource *groups, unsigned *ng,
                     int split, ut_err *err)
{
    CK_CU(cuDeviceGetDevResource(dev, all, CU_DEV_RESOURCE_TYPE_SM));
    *ng = all->sm.smCount / CAP_SM_GROUP;
    if (*ng > CAP_MAX_GROUPS)
        *ng = CAP_MAX_GROUPS;
    if (!split)
        return 0;
    CUdevResource rem;
    CUresult r = cuDevSmResourceSplitByCount(groups, ng, all, &rem, 0,
                                             CAP_SM_GROUP);
    if (r != CUDA_SUCCESS) {
        const char *s = NULL;
        cuGetErrorName(r, &s);
        return ut_errf(err, "cuDevSmResourceSplitByCount(%u SMs into "
                       "groups of %d): %s (%d)", all->sm.smCount,
                       CAP_SM_GROUP, s ? s : "?", (int)r);
    }
    return 0;
}

/* Partition p as a green context of the k group resources res (of one
 * split); p->sms their SMs. what names it in an error. */
static int green_partition(cap_partition *p, const CUdevResource *res,
                           unsigned k, const char *what, ut_err *err)
{
    CUdevResourceDesc desc;
    CUresult r = cuDevResourceGenerateDesc(&desc, (CUdevResource *)res, k);
    if (r == CUDA_SUCCESS)
        r = cuGreenCtxCreate(&p->green, desc, dev,
                             CU_GREEN_CTX_DEFAULT_STREAM);
    if (r == CUDA_SUCCESS)
        r = cuCtxFromGreenCtx(&p->ctx, p->green);
    if (r != CUDA_SUCCESS) {
        const char *s = NULL;
        cuGetErrorName(r, &s);
        return ut_errf(err, "%s (%u SMs): green context: %s (%d)", what,
                       k * CAP_SM_GROUP, s ? s : "?", (int)r);
    }
    unsigned got = 0;
    for (unsigned j = 0; j < k; j++)
        got += res[j].sm.smCount;
    p->sms = (int)got;
    return 0;
}

extern "C" int cap_partitions_new(const int *sms, size_t n,
                                  cap_partition ***out, ut_err *err)
{
    *out = NULL;
    CUdevResource all, groups[CAP_MAX_GROUPS];
    unsigned ng;
    int need_split = 0;
    for (size_t i = 0; i < n; i++)
        need_split |= sms[i] >= 0;
    if (sm_groups(&all, groups, &ng, need_split, err) < 0)
        return -1;
    cap_partition **p = (cap_partition **)ut_xcalloc(n, sizeof *p);
    unsigned next = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        p[i] = (cap_partition *)ut_xcalloc(1, sizeof **p);
        if (sms[i] < 0) {
            CUcontext c;
            CUresult r = cuDevicePrimaryCtxRetain(&c, dev);
            if (r == CUDA_SUCCESS) {
                cuDevicePrimaryCtxRelease(dev);
                p[i]->ctx = c;
                p[i]->sms = (int)all.sm.smCount;
            } else {
                rc = ut_errf(err, "cuDevicePrimaryCtxRetain: %d", (int)r);
            }
            continue;
        }
        unsigned k = sms[i] == 0 ? ng - next
                                 : (unsigned)(sms[i] + CAP_SM_GROUP - 1) /
                                       CAP_SM_GROUP;
        if (k == 0 || next + k > ng) {
            rc = ut_errf(err, "partition %zu: %d SMs do not fit the %u "
                         "groups of %d SMs left", i, sms[i], ng - next,
                         CAP_SM_GROUP);
            break;
        }
        char what[32];
        snprintf(what, sizeof what, "partition %zu", i);
        rc = green_partition(p[i], groups + next, k, what, err);
        next += k;
    }
    if (rc < 0) {
        cap_partitions_free(p, n);
        return -1;
    }
    *out = p;
    return 0;
}

extern "C" int cap_partition_from_groups(const int *idx, size_t k,
                                         cap_partition **out, ut_err *err)
{
    *out = NULL;
    CUdevResource all, groups[CAP_MAX_GROUPS], pick[CAP_MAX_GROUPS];
    unsigned ng;
    if (sm_groups(&all, groups, &ng, 1, err) < 0)
        return -1;
    if (k == 0 || k > ng)
        return ut_errf(err, "partition: expected 1..%u groups of %d SMs, "
                       "got %zu", ng, CAP_SM_GROUP, k);
    unsigned long long seen = 0;
    for (size_t j = 0; j < k; j++) {
        if (idx[j] < 0 || (unsigned)idx[j] >= ng ||
            (seen >> idx[j] & 1))
            return ut_errf(err, "partition: group %d: expected one of 0..%u, "
                           "each once", idx[j], ng - 1);
        seen |= 1ull << idx[j];
        pick[j] = groups[idx[j]];
    }
    cap_partition *p = (cap_partition *)ut_xcalloc(1, sizeof *p);
    if (green_partition(p, pick, (unsigned)k, "partition", err) < 0) {
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

extern "C" int cap_partition_use(cap_partition *p, ut_err *err)
{
    CK_CU(cuCtxSetCurrent(p->ctx));
    return 0;
}

extern "C" int cap_partition_sms(const cap_partition *p) { return p->sms; }

static void destroy_partition(cap_partition *p)
{
    if (p && p->green)
        cuGreenCtxDestroy(p->green);
    free(p);
}

/* Leaves the primary context current for what comes next. */
static void primary_current(void)
{
    CUcontext c;
    if (cuDevicePrimaryCtxRetain(&c, dev) == CUDA_SUCCESS) {
        cuCtxSetCurrent(c);
        cuDevicePrimaryCtxRelease(dev);
    }
}

extern "C" void cap_partitions_free(cap_partition **p, size_t n)
{
    if (!p)
        return;
    for (size_t i = 0; i < n; i++)
        destroy_partition(p[i]);
    free(p);
    primary_current();
}

extern "C" void cap_partition_free(cap_partition *p)
{
    if (!p)
        return;
    destroy_partition(p);
    primary_current();
}

/* ---- CUPTI kernel records ----------------------------------------------- */

static pthread_mutex_t cu_lock = PTHREAD_MUTEX_INITIALIZER;
static cap_kernel_rec *cu_recs;
static size_t cu_n, cu_cap;
static int cu_registered;

static void CUPTIAPI buf_requested(uint8_t **buf, size_t *size,
                                   size_t *max_records)
{
    *size = (size_t)8 << 20;
    *buf = (uint8_t *)aligned_alloc(8, *size);
    *max_records = 0;
}

static void CUPTIAPI buf_completed(CUcontext ctx, uint32_t stream,
                                   uint8_t *buf, size_t size, size_t valid)
{
    (void)ctx;
    (void)stream;
    (void)size;
    CUpti_Activity *rec = NULL;
    pthread_mutex_lock(&cu_lock);
    while (cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS) {
        if (rec->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL &&
            rec->kind != CUPTI_ACTIVITY_KIND_KERNEL)
            continue;
        const CUpti_ActivityKernel10 *k = (const CUpti_ActivityKernel10 *)rec;
        if (cu_n == cu_cap) {
            cu_cap = cu_cap ? 2 * cu_cap : 65536;
            cu_recs = (cap_kernel_rec *)ut_xrealloc(cu_recs,
                                                    cu_cap * sizeof *cu_recs);
        }
        cap_kernel_rec *o = &cu_recs[cu_n++];
        o->start_ms = (double)k->start / 1e6;
        o->end_ms = (double)k->end / 1e6;
        o->stream = k->streamId;
        snprintf(o->name, sizeof o->name, "%s", k->name ? k->name : "?");
    }
    pthread_mutex_unlock(&cu_lock);
    free(buf);
}

extern "C" int cap_cupti_start(ut_err *err)
{
    if (!cu_registered) {
        CK_CUPTI(cuptiActivityRegisterCallbacks(buf_requested,
                                                buf_completed));
        cu_registered = 1;
    }
    pthread_mutex_lock(&cu_lock);
    cu_n = 0;
    pthread_mutex_unlock(&cu_lock);
    CK_CUPTI(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
    return 0;
}

static int rec_cmp(const void *a, const void *b)
{
    double x = ((const cap_kernel_rec *)a)->start_ms;
    double y = ((const cap_kernel_rec *)b)->start_ms;
    return (x > y) - (x < y);
}

extern "C" int cap_cupti_stop(cap_kernel_rec **out, size_t *n, ut_err *err)
{
    CK_CUPTI(cuptiActivityFlushAll(1));
    CK_CUPTI(cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL));
    CK_CUPTI(cuptiActivityFlushAll(1));
    pthread_mutex_lock(&cu_lock);
    *n = cu_n;
    *out = (cap_kernel_rec *)ut_xmalloc((cu_n ? cu_n : 1) * sizeof **out);
    memcpy(*out, cu_recs, cu_n * sizeof **out);
    cu_n = 0;
    pthread_mutex_unlock(&cu_lock);
    qsort(*out, *n, sizeof **out, rec_cmp);
    return 0;
}

extern "C" int cap_cupti_stream_id(void *stream, unsigned *id, ut_err *err)
{
    CUcontext ctx;
    CK_CU(cuCtxGetCurrent(&ctx));
    uint32_t v = 0;
    CK_CUPTI(cuptiGetStreamIdEx(ctx, (CUstream)stream, 0, &v));
    *id = v;
    return 0;
}
