/*
 * derive_int.h - private to `igniter derive`'s files (capture/derive_raw.c,
 * capture/derive_out.c): the records read from a raw file, put together,
 * and the functions one file calls in the other. Nothing else includes it;
 * the component's API is capture/capture.h (cap_derive).
 *
 *   derive_raw.c  reading: every line checked against the schema of raw
 *                 records (capture/record.c) into a dv_raw; resolving
 *                 models and SMs; the queries on what was read
 *   derive_out.c  what is written, over derive_raw.c: the profile and its
 *                 provenance, the measured solo tables and pairs, the
 *                 multi-way runs; cap_derive and the all-or-nothing
 *                 writing of the four files
 *
 * Shared names carry the prefix dv_, like the types.
 */
#ifndef CAP_DERIVE_INT_H
#define CAP_DERIVE_INT_H

#include "capture/capture.h"
#include "model/model.h"

#include <stddef.h>
#include <string.h>

#define DV_MIN_SOLO 5      /* points of the active-time fit (five terms) */
#define DV_MIN_L2 2        /* points of the L2 line */
#define DV_STEP_SMS 8      /* the capture's partition step without meta's */

/* ---- records ---------------------------------------------------------- */

typedef struct dv_model {
    char name[MDL_NAME_MAX];
    int line;
    double input_bytes, output_bytes;
} dv_model;

typedef struct dv_solo {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms, iters;
    double mean_ms, std_ms, p50_ms, p99_ms, power_w, clock_mhz;
    int has_q;                    /* q_ms recorded (raw q_ms) */
    double q_ms[MDL_SD_NQ];
} dv_solo;

typedef struct dv_kern {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms, kernels;
    double idle_ms;
} dv_kern;

typedef struct dv_l2 {
    char model[MDL_NAME_MAX];
    int mi, line, batch, sms;
    double hit_pct, l2_pct, dram_pct;
} dv_l2;

typedef struct dv_pself {
    char model[MDL_NAME_MAX];
    int mi, line, sms;
    double active_solo_ms, active_pair_ms, power_w, clock_mhz;
} dv_pself;

typedef struct dv_copy {
    int n, line;
    double power_w, clock_mhz, idle_per_kernel_ms;
} dv_copy;

typedef struct dv_member {
    char model[MDL_NAME_MAX];
    int mi, batch, sms, iters;
    double mean_ms, std_ms, p50_ms, p99_ms;
    int has_q;
    double q_ms[MDL_SD_NQ];
} dv_member;

typedef struct dv_coloc {
    int line, test, n;
    dv_member m[CAP_REC_MAX_MEMBERS];
    double power_w, clock_mhz;
} dv_coloc;

typedef struct dv_step {
    char name[32];
    int line, ok;
    char error[96];               /* the step's message when it failed */
} dv_step;

typedef struct dv_raw {
    const char *path;
    cJSON *meta;                  /* the last meta record, less "kind" */
    int meta_line, idle_line, pcie_line, end_line, complete;
    char gpu[96];
    int sm_count, align_sms;
    int partition_sms;         /* meta: SMs co-located partitions reach */
    double max_clock_mhz, power_cap_w, idle_power_w, pcie_bytes_per_ms;
    dv_model *model;
    size_t nmodel;
    dv_solo *solo;
    size_t nsolo;
    dv_kern *kern;
    size_t nkern;
    dv_l2 *l2;
    size_t nl2;
    dv_pself *pself;
    size_t npself;
    dv_copy *copy;
    size_t ncopy;
    dv_coloc *coloc;
    size_t ncoloc;
    dv_step *step;
    size_t nstep;
} dv_raw;

/* Appends one zeroed element to a malloc'd array and yields it. */
#define DV_PUSH(arr, n)                                                      \
    ((arr) = ut_xrealloc((arr), ((n) + 1) * sizeof *(arr)),                  \
     memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])

/* ---- derive_raw.c: reading, and queries --------------------------------- */

/* Reads r->path (set by the caller, r otherwise zeroed) and puts its
 * records together: 0, or -1 with a message naming the line and field,
 * or the model and the step that should have made what is missing.
 * dv_raw_free frees what it read, after a failure too. */
int dv_raw_read(dv_raw *r, ut_err *err);
void dv_raw_free(dv_raw *r);

/* Why a step's records may be missing, for a message (into buf). */
const char *dv_step_hint(const dv_raw *r, const char *step, char *buf,
                         size_t n);
/* Share of the GPU (%) of a partition; the whole GPU is exactly 100. */
double dv_share_of(const dv_raw *r, int sms);
/* Distance between two (batch, share) points (nearest measured point). */
double dv_point_dist(double b1, double s1, double b2, double s2);
/* The model's L2 record nearest to (batch, share); NULL if none. */
const dv_l2 *dv_nearest_l2(const dv_raw *r, int mi, double batch,
                           double share);
/* The solo records of model mi, by batch then SMs (malloc'd array). */
const dv_solo **dv_solo_of(const dv_raw *r, int mi, size_t *n);

#endif
