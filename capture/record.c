/*
 * record.c - the one schema of a capture's raw records (capture.h, "raw
 * records"; capture/README.md, "Raw records"): one table of fields per
 * record shape, the writer the campaign and the tests' synthetic captures
 * call, and the reader `igniter derive` checks every line with.
 *
 * Why a table rather than a printf per record and a parser per kind: the
 * same field was written in one file and read in two others (the
 * campaign, the tests' writer, derive_raw.c), so a new field or a changed
 * format had three places to agree. Here the order, the type, whether
 * derive needs it, and the printf format of every field are one line.
 *
 * The formats are the campaign's as it wrote them before the table (so
 * that raw files stay byte for byte what they were): "%.5f" for
 * latencies, "%.6g" or null for NVML's power and clock, "%.0f" for whole
 * numbers (exact below 2^53, as %d, %ld and %zu were).
 */
#include "capture/capture.h"
#include "model/model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the table ------------------------------------------------------------ */

#define REQ CAP_REC_REQ
#define OPT CAP_REC_OPT
#define NUL CAP_REC_NULL
#define G CAP_REC_G
/* a whole number in lo..hi */
#define INT(name, flags, lo, hi) {name, CAP_REC_INT, flags, lo, hi, 0, NULL}
/* a number of that type written "%.{fmt}f" (CAP_REC_G: "%g") */
#define NUMF(name, type, flags, fmt) {name, type, flags, 0, 0, fmt, NULL}
#define STRF(name, flags) {name, CAP_REC_STR, flags, 0, 0, 0, NULL}
/* a string, one of the values "a|b|..." */
#define ENUMF(name, flags, values) {name, CAP_REC_STR, flags, 0, 0, 0, values}
#define NAMEF(flags) {"model", CAP_REC_NAME, flags, 0, 0, 0, NULL}
/* power and clock: NVML's mean over the window, null without a sample */
#define NVML(name, flags) {name, CAP_REC_POS, (flags) | NUL, 0, 0, G, NULL}
/* the latency distribution, "%.5f" as the latencies */
#define QUANT {"q_ms", CAP_REC_QUANT, CAP_REC_OPT, 0, 0, 5, NULL}
#define BIG 100000L            /* batch sizes and SM counts */
#define HUGE_INT (1L << 53)    /* byte counts: exact in a double */

static const cap_rec_field meta_f[] = {
    STRF("tool", 0), STRF("time", 0), STRF("host", 0), STRF("gpu", REQ),
    INT("sm_count", REQ, 1, BIG),
    INT("min_partition_sms", 0, 0, BIG),
    INT("partition_align_sms", OPT, 0, -1),   /* at most sm_count */
    INT("partition_sms", OPT, 0, -1),
    INT("mem_bytes", 0, 0, HUGE_INT), INT("l2_bytes", 0, 0, HUGE_INT),
    STRF("driver", 0),
    NUMF("max_clock_mhz", CAP_REC_POS, REQ, G),
    NUMF("power_cap_w", CAP_REC_POS, REQ, G),
    INT("seed", 0, 0, HUGE_INT), INT("quick", 0, 0, 1),
    STRF("mechanism", 0), STRF("hw_queues", 0),
    {"versions", CAP_REC_SPLICE, 0, 0, 0, 0, NULL},
};

static const cap_rec_field idle_f[] = {
    NVML("power_w", REQ), NVML("clock_mhz", 0),
    INT("samples", 0, 0, HUGE_INT),
};

static const cap_rec_field pcie_f[] = {
    NUMF("bytes", CAP_REC_POS, REQ, 0),
    NUMF("h2d_ms", CAP_REC_POS, REQ, 5), NUMF("d2h_ms", CAP_REC_POS, REQ, 5),
    NUMF("h2d_bytes_per_ms", CAP_REC_NUM, 0, G),
    NUMF("d2h_bytes_per_ms", CAP_REC_NUM, 0, G),
};

static const cap_rec_field model_f[] = {
    NAMEF(REQ), INT("params", 0, 0, HUGE_INT),
    NUMF("gflops", CAP_REC_NUM, 0, 4),
    NUMF("input_bytes", CAP_REC_POS, REQ, 0),
    NUMF("output_bytes", CAP_REC_NONNEG, REQ, 0),
    INT("layers", 0, 0, HUGE_INT), STRF("precision", 0),
};

static const cap_rec_field overhead_f[] = {
    NAMEF(0), INT("batch", 0, 1, BIG), INT("rounds", 0, 1, BIG),
    NUMF("plain_ms", CAP_REC_NUM, 0, 5), NUMF("nvml_ms", CAP_REC_NUM, 0, 5),
    NUMF("cupti_ms", CAP_REC_NUM, 0, 5), NUMF("nvml_pct", CAP_REC_NUM, 0, 3),
    NUMF("cupti_pct", CAP_REC_NUM, 0, 3),
};

static const cap_rec_field kernels_f[] = {
    NAMEF(REQ), INT("batch", REQ, 1, BIG), INT("sms", REQ, 1, BIG),
    INT("iters", 0, 1, BIG), INT("kernels", REQ, 1, 100000000),
    NUMF("active_ms", CAP_REC_NUM, 0, 6),
    NUMF("idle_ms", CAP_REC_NONNEG, REQ, 6),
    NUMF("idle_per_kernel_ms", CAP_REC_NUM, 0, 7),
    NUMF("gpu_plain_ms", CAP_REC_NUM, 0, 6),
    NUMF("gpu_cupti_ms", CAP_REC_NUM, 0, 6),
    NUMF("span_vs_plain_pct", CAP_REC_NUM, 0, 3),
    {"top", CAP_REC_JSON, 0, 0, 0, 0, NULL},   /* [{"name","ms","per_inference"}] */
};

/* One timed window on a green-context partition. */
static const cap_rec_field solo_f[] = {
    STRF("mech", 0), NAMEF(REQ), INT("batch", REQ, 1, BIG),
    INT("sms", REQ, 1, BIG), NUMF("share_pct", CAP_REC_NUM, 0, 4),
    INT("iters", OPT, 1, 100000000),
    NUMF("mean_ms", CAP_REC_POS, REQ, 5),
    NUMF("p50_ms", CAP_REC_NONNEG, OPT, 5),
    NUMF("p99_ms", CAP_REC_NONNEG, OPT, 5),
    NUMF("std_ms", CAP_REC_NONNEG, REQ, 5), QUANT,
    NUMF("gpu_ms", CAP_REC_NUM, 0, 5),
    NVML("power_w", OPT), NVML("clock_mhz", OPT),
    INT("samples", 0, 0, HUGE_INT),
};

/* An MPS client's window (igniter-capture mps): its share is a thread
 * percentage, not SMs; derive leaves these out. */
#define MPS_WINDOW                                                          \
    NAMEF(REQ), INT("batch", REQ, 1, BIG),                                  \
    NUMF("active_thread_pct", CAP_REC_POS, REQ, G),                         \
    NUMF("share_pct", CAP_REC_POS, 0, G), INT("iters", OPT, 1, 100000000),  \
    NUMF("mean_ms", CAP_REC_POS, REQ, 5),                                   \
    NUMF("p50_ms", CAP_REC_NONNEG, OPT, 5),                                 \
    NUMF("p99_ms", CAP_REC_NONNEG, OPT, 5),                                 \
    NUMF("std_ms", CAP_REC_NONNEG, REQ, 5), NUMF("gpu_ms", CAP_REC_NUM, 0, 5)

static const cap_rec_field solo_mps_f[] = {STRF("mech", 0), MPS_WINDOW};
/* a member of a run of several may carry its own window alone, timed just
 * before in the same way (scripts/mps-coloc-gpu.sh): its slow-down is
 * then mean_ms / alone_ms, whatever kernels its process chose */
static const cap_rec_field member_mps_f[] = {
    MPS_WINDOW, NUMF("alone_ms", CAP_REC_POS, OPT, 5)};

static const cap_rec_field pair_self_f[] = {
    NAMEF(REQ), INT("batch", 0, 1, BIG), INT("sms", REQ, 1, BIG),
    INT("kernels", 0, 1, 100000000),
    NUMF("active_solo_ms", CAP_REC_POS, REQ, 6),
    NUMF("active_pair_ms", CAP_REC_POS, REQ, 6),
    NVML("power_w", OPT), NVML("clock_mhz", REQ),
};

static const cap_rec_field copies_f[] = {
    NAMEF(0), INT("batch", 0, 1, BIG),
    INT("n", REQ, 1, CAP_REC_MAX_COPIES), INT("sms_each", 0, 1, BIG),
    NVML("power_w", REQ), NVML("clock_mhz", REQ),
    {"idle_per_kernel_ms", CAP_REC_NONNEG, REQ | NUL, 0, 0, G, NULL},
    NUMF("mean_ms", CAP_REC_NUM, 0, 5),
};

static const cap_rec_field coloc_f[] = {
    STRF("mech", 0), ENUMF("set", REQ, "fit|test"),
    INT("n", OPT, 2, CAP_REC_MAX_MEMBERS),
    {"members", CAP_REC_MEMBERS, REQ, 0, 0, 0, NULL},
    NVML("power_w", OPT), NVML("clock_mhz", OPT),
};

static const cap_rec_field member_f[] = {
    NAMEF(REQ), INT("batch", REQ, 1, BIG), INT("sms", REQ, 1, BIG),
    NUMF("share_pct", CAP_REC_NUM, 0, 4), INT("iters", OPT, 1, 100000000),
    NUMF("mean_ms", CAP_REC_POS, REQ, 5),
    NUMF("p50_ms", CAP_REC_NONNEG, OPT, 5),
    NUMF("p99_ms", CAP_REC_NONNEG, OPT, 5),
    NUMF("std_ms", CAP_REC_NONNEG, REQ, 5), QUANT,
};

static const cap_rec_field coloc_mps_f[] = {
    STRF("mech", 0), ENUMF("set", REQ, "mps"),
    INT("n", OPT, 2, CAP_REC_MAX_MEMBERS),
    {"members", CAP_REC_MEMBERS, REQ, 0, 0, 0, NULL},
    NUMF("start_skew_ms", CAP_REC_NUM, 0, 3),
};

static const cap_rec_field reconfig_f[] = {
    STRF("mech", 0), NAMEF(0), INT("batch", 0, 1, BIG),
    INT("to_sms", 0, -1, BIG), NUMF("context_ms", CAP_REC_NUM, 0, 3),
    NUMF("runner_ms", CAP_REC_NUM, 0, 3),
    NUMF("first_inference_ms", CAP_REC_NUM, 0, 3),
    NUMF("teardown_ms", CAP_REC_NUM, 0, 3),
    NUMF("total_ms", CAP_REC_NUM, 0, 3),
};

static const cap_rec_field reconfig_mps_f[] = {
    STRF("mech", 0), NAMEF(0), INT("batch", 0, 1, BIG),
    NUMF("to_pct", CAP_REC_NUM, 0, G), NUMF("total_ms", CAP_REC_NUM, 0, 3),
};

static const cap_rec_field l2_f[] = {
    NAMEF(REQ), INT("batch", REQ, 1, BIG), INT("sms", REQ, 1, BIG),
    NUMF("share_pct", CAP_REC_NUM, 0, 4), INT("kernels", 0, 0, 100000000),
    NUMF("gpu_ms", CAP_REC_NUM, 0, 5),
    NUMF("l2_hit_pct", CAP_REC_NONNEG, OPT, 3),
    NUMF("l2_util_pct", CAP_REC_NONNEG, REQ, 3),
    NUMF("dram_util_pct", CAP_REC_NONNEG, REQ, 3),
};

/* Sustained power: nothing (idle), one model (solo) or several side by
 * side (set), each running back to back for window_s; power_w from the
 * energy counter where the board has one (power_from), else the mean of
 * NVML's readings; reasons, why the clock was below its maximum. */
static const cap_rec_field power_f[] = {
    ENUMF("set", REQ, "idle|solo|set"), INT("n", REQ, 0, CAP_REC_MAX_MEMBERS),
    {"members", CAP_REC_MEMBERS, 0, 1, 0, 0, NULL},
    NUMF("window_s", CAP_REC_POS, REQ, 3),
    NVML("power_w", REQ), ENUMF("power_from", 0, "energy|samples"),
    NVML("power_sampled_w", 0), NVML("clock_mhz", REQ),
    NVML("clock_min_mhz", 0), INT("reasons", 0, 0, HUGE_INT),
    INT("samples", 0, 0, HUGE_INT),
};

static const cap_rec_field note_f[] = {
    STRF("step", 0), STRF("model", 0), INT("batch", 0, 1, BIG),
    STRF("msg", 0),
};

static const cap_rec_field step_f[] = {
    STRF("step", REQ), NUMF("seconds", CAP_REC_NUM, 0, 2),
    {"ok", CAP_REC_FLAG, CAP_REC_01, 0, 0, 0, NULL},
    STRF("error", 0),                  /* the failed step's message */
};

static const cap_rec_field end_f[] = {
    {"complete", CAP_REC_FLAG, 0, 0, 0, 0, NULL},
    INT("failed_steps", 0, 0, BIG), NUMF("seconds", CAP_REC_NUM, 0, 1),
};

#define N(a) (int)(sizeof a / sizeof a[0])
#define KIND(k, mech, f) {k, mech, f, N(f), NULL, 0}

static const cap_rec_kind kinds[CAP_REC_NKINDS] = {
    [CAP_REC_META] = KIND("meta", NULL, meta_f),
    [CAP_REC_IDLE] = KIND("idle", NULL, idle_f),
    [CAP_REC_PCIE] = KIND("pcie", NULL, pcie_f),
    [CAP_REC_MODEL] = KIND("model", NULL, model_f),
    [CAP_REC_OVERHEAD] = KIND("overhead", NULL, overhead_f),
    [CAP_REC_KERNELS] = KIND("kernels", NULL, kernels_f),
    [CAP_REC_SOLO] = KIND("solo", "green", solo_f),
    [CAP_REC_SOLO_MPS] = KIND("solo", "mps", solo_mps_f),
    [CAP_REC_PAIR_SELF] = KIND("pair_self", NULL, pair_self_f),
    [CAP_REC_COPIES] = KIND("copies", NULL, copies_f),
    [CAP_REC_COLOC] = {"coloc", "green", coloc_f, N(coloc_f), member_f,
                       N(member_f)},
    [CAP_REC_COLOC_MPS] = {"coloc", "mps", coloc_mps_f, N(coloc_mps_f),
                           member_mps_f, N(member_mps_f)},
    [CAP_REC_RECONFIG] = KIND("reconfig", "green", reconfig_f),
    [CAP_REC_RECONFIG_MPS] = KIND("reconfig", "mps", reconfig_mps_f),
    [CAP_REC_L2] = KIND("l2", NULL, l2_f),
    [CAP_REC_POWER] = {"power", NULL, power_f, N(power_f), member_f,
                       N(member_f)},
    [CAP_REC_NOTE] = KIND("note", NULL, note_f),
    [CAP_REC_STEP] = KIND("step", NULL, step_f),
    [CAP_REC_END] = KIND("end", NULL, end_f),
};

/* the levels are the simulator's (model.h), which samples them */
_Static_assert(CAP_REC_NQ == MDL_SD_NQ, "q_ms has model.h's levels");
const double cap_rec_q_levels[CAP_REC_NQ] = MDL_SD_LEVELS;

/* Nearest rank, the sample at ceil(p n) - 1 (the first for p = 0): the
 * rule the campaign used for p50 and p99 before the vector, so q_ms's
 * 0.5 and 0.99 entries equal p50_ms and p99_ms. */
void cap_rec_quantiles(const double *v, int n, double *q)
{
    for (int i = 0; i < CAP_REC_NQ; i++) {
        int k = (int)ceil(cap_rec_q_levels[i] * n) - 1;
        q[i] = n ? v[k < 0 ? 0 : k >= n ? n - 1 : k] : NAN;
    }
}

const cap_rec_kind *cap_rec_kind_of(cap_rec_id id)
{
    assert(id >= 0 && id < CAP_REC_NKINDS);
    return &kinds[id];
}

/* ---- building a record ---------------------------------------------------- */

static int field_index(const cap_rec_field *f, int nf, const char *name)
{
    for (int i = 0; i < nf; i++)
        if (!strcmp(f[i].name, name))
            return i;
    return -1;
}

static void clear(cap_rec_val *v, int n)
{
    for (int i = 0; i < n; i++) {
        v[i].set = 0;
        v[i].num = NAN;
        v[i].str = NULL;
    }
}

/* An empty record; with_mech: its "mech" set to the shape's. */
static void init(cap_rec *r, cap_rec_id id, int with_mech)
{
    r->k = cap_rec_kind_of(id);
    assert(r->k->nfields <= CAP_REC_MAX_FIELDS &&
           r->k->nmember <= CAP_REC_MAX_FIELDS);
    r->nmembers = 0;
    clear(r->v, CAP_REC_MAX_FIELDS);
    for (int i = 0; i < CAP_REC_MAX_MEMBERS; i++)
        clear(r->m[i], CAP_REC_MAX_FIELDS);
    for (int i = 0; i <= CAP_REC_MAX_MEMBERS; i++)
        for (int k = 0; k < CAP_REC_NQ; k++)
            r->q[i][k] = NAN;
    if (with_mech && r->k->mech)
        cap_rec_set_str(r, "mech", r->k->mech);
}

void cap_rec_init(cap_rec *r, cap_rec_id id)
{
    init(r, id, 1);
}

/* The index of field `name` among the record's fields (member < 0) or
 * its members'; a name the shape does not have is the caller's bug. */
static int index_of(const cap_rec *r, int member, const char *name)
{
    int i = member < 0 ? field_index(r->k->fields, r->k->nfields, name)
                       : field_index(r->k->member, r->k->nmember, name);
    assert(i >= 0 && "no such field in this record shape");
    return i;
}

/* The value of field `name` to set; setting a field of member nmembers
 * adds that member. */
static cap_rec_val *slot(cap_rec *r, int member, const char *name)
{
    int i = index_of(r, member, name);
    if (member < 0)
        return &r->v[i];
    assert(member <= r->nmembers && member < CAP_REC_MAX_MEMBERS);
    if (member == r->nmembers) {
        r->nmembers++;
        r->v[index_of(r, -1, "members")].set = 1;
    }
    return &r->m[member][i];
}

void cap_rec_set(cap_rec *r, const char *name, double v)
{
    cap_rec_val *s = slot(r, -1, name);
    s->set = 1;
    s->num = v;
}

void cap_rec_set_str(cap_rec *r, const char *name, const char *str)
{
    cap_rec_val *s = slot(r, -1, name);
    s->set = 1;
    s->str = str;
}

void cap_rec_member_set(cap_rec *r, int member, const char *name, double v)
{
    cap_rec_val *s = slot(r, member, name);
    s->set = 1;
    s->num = v;
}

void cap_rec_member_set_str(cap_rec *r, int member, const char *name,
                            const char *str)
{
    cap_rec_val *s = slot(r, member, name);
    s->set = 1;
    s->str = str;
}

/* The one CAP_REC_QUANT field of a record or member shape; -1: none. */
static int quant_index(const cap_rec *r, int member)
{
    const cap_rec_field *f = member < 0 ? r->k->fields : r->k->member;
    int nf = member < 0 ? r->k->nfields : r->k->nmember;
    for (int i = 0; i < nf; i++)
        if (f[i].type == CAP_REC_QUANT)
            return i;
    return -1;
}

void cap_rec_set_quant(cap_rec *r, int member, const double *q)
{
    int i = quant_index(r, member);
    assert(i >= 0 && "no quantile field in this record shape");
    cap_rec_val *s = member < 0 ? &r->v[i] : slot(r, member, "q_ms");
    s->set = 1;
    memcpy(r->q[member + 1], q, CAP_REC_NQ * sizeof *q);
}

const double *cap_rec_get_quant(const cap_rec *r, int member)
{
    int i = quant_index(r, member);
    if (i < 0)
        return NULL;
    assert(member < r->nmembers);
    const cap_rec_val *v = member < 0 ? &r->v[i] : &r->m[member][i];
    return v->set ? r->q[member + 1] : NULL;
}

const cap_rec_val *cap_rec_get(const cap_rec *r, const char *name)
{
    return &r->v[index_of(r, -1, name)];
}

const cap_rec_val *cap_rec_member_get(const cap_rec *r, int member,
                                      const char *name)
{
    assert(member >= 0 && member < r->nmembers);
    return &r->m[member][index_of(r, member, name)];
}

/* ---- writing -------------------------------------------------------------- */

static void write_fields(ut_buf *b, const cap_rec *r, const cap_rec_field *f,
                         int nf, const cap_rec_val *v, int member, int comma)
{
    for (int i = 0; i < nf; i++) {
        if (!v[i].set)
            continue;
        if (f[i].type == CAP_REC_SPLICE) {
            ut_buf_printf(b, "%s%s", comma ? "," : "", v[i].str);
            comma = 1;
            continue;
        }
        ut_buf_printf(b, "%s\"%s\":", comma ? "," : "", f[i].name);
        comma = 1;
        switch (f[i].type) {
        case CAP_REC_STR:
        case CAP_REC_NAME:
            /* escaped: the bytes the campaign's printf wrote for every
             * string a valid line can hold, and a valid line (not a
             * broken one) for a host or GPU name with a quote */
            ut_buf_json_str(b, v[i].str ? v[i].str : "");
            break;
        case CAP_REC_JSON:
            ut_buf_printf(b, "%s", v[i].str ? v[i].str : "null");
            break;
        case CAP_REC_FLAG:
            if (f[i].flags & CAP_REC_01)
                ut_buf_printf(b, "%d", v[i].num != 0);
            else
                ut_buf_printf(b, "%s", v[i].num != 0 ? "true" : "false");
            break;
        case CAP_REC_MEMBERS:
            ut_buf_printf(b, "[");
            for (int m = 0; m < r->nmembers; m++) {
                ut_buf_printf(b, "%s{", m ? "," : "");
                write_fields(b, r, r->k->member, r->k->nmember, r->m[m], m,
                             0);
                ut_buf_printf(b, "}");
            }
            ut_buf_printf(b, "]");
            break;
        case CAP_REC_QUANT:
            for (int k = 0; k < CAP_REC_NQ; k++)
                ut_buf_printf(b, "%s%.*f", k ? "," : "[", f[i].fmt,
                              r->q[member + 1][k]);
            ut_buf_printf(b, "]");
            break;
        default:   /* a number */
            if ((f[i].flags & CAP_REC_NULL) && !isfinite(v[i].num))
                ut_buf_printf(b, "null");
            else if (f[i].fmt < 0)
                ut_buf_printf(b, "%g", v[i].num);
            else
                ut_buf_printf(b, "%.*f", f[i].fmt, v[i].num);
            break;
        }
    }
}

void cap_rec_write(const cap_rec *r, ut_buf *b)
{
    ut_buf_printf(b, "{\"kind\":\"%s\"", r->k->kind);
    write_fields(b, r, r->k->fields, r->k->nfields, r->v, -1, 1);
    ut_buf_printf(b, "}\n");
}

/* ---- reading -------------------------------------------------------------- */

/* Model names become JSON keys and file names elsewhere: keep them plain. */
static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CAP_REC_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
              *s == '.'))
            return 0;
    return 1;
}

/* Whether s is one of the values "a|b|c". */
static int one_of(const char *values, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = values; *p;) {
        size_t w = strcspn(p, "|");
        if (w == n && !strncmp(p, s, n))
            return 1;
        p += w + (p[w] == '|');
    }
    return 0;
}

static int is_measure(cap_rec_type t)
{
    return t == CAP_REC_NUM || t == CAP_REC_POS || t == CAP_REC_NONNEG;
}

/*
 * The one type check: 0 with the value in *out if j is what field f
 * accepts, else -1 with what it expects in `expect`. `hi` is f's upper
 * bound with "at most sm_count" resolved.
 */
static int check(const cap_rec_field *f, const cJSON *j, long hi,
                 cap_rec_val *out, char *expect, size_t n)
{
    double x = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    switch (f->type) {
    case CAP_REC_STR:
    case CAP_REC_NAME: {
        /* a needed string or a name must say something */
        int full = f->flags & CAP_REC_REQ || f->type == CAP_REC_NAME;
        if (!cJSON_IsString(j) || (full && !j->valuestring[0])) {
            snprintf(expect, n, "%s", full ? "a non-empty string"
                                           : "a string");
            return -1;
        }
        if (f->one_of && !one_of(f->one_of, j->valuestring)) {
            /* "a|b|c" -> "a", "b" or "c" */
            size_t k = 0;
            for (const char *p = f->one_of; *p && k + 8 < n;) {
                size_t w = strcspn(p, "|");
                k += (size_t)snprintf(expect + k, n - k, "%s\"%.*s\"",
                                      p == f->one_of ? ""
                                      : p[w] ? ", " : " or ", (int)w, p);
                p += w + (p[w] == '|');
            }
            return -1;
        }
        if (f->type == CAP_REC_NAME && !name_ok(j->valuestring)) {
            snprintf(expect, n, "a name of 1..%d letters, digits, '_', '-' "
                     "or '.'", CAP_REC_NAME_MAX - 1);
            return -1;
        }
        out->str = j->valuestring;
        return 0;
    }
    case CAP_REC_FLAG:
        /* true, false, or the capture's 1 and 0; anything else is false */
        out->num = cJSON_IsTrue(j) || (cJSON_IsNumber(j) && x != 0);
        return 0;
    case CAP_REC_JSON:
    case CAP_REC_SPLICE:
        /* written for people and other tools, never read: left unset */
        snprintf(expect, n, "nothing");
        return -1;
    case CAP_REC_INT:
        if (!(x == floor(x) && x >= (double)f->lo && x <= (double)hi)) {
            snprintf(expect, n, "an integer in %ld..%ld", f->lo, hi);
            return -1;
        }
        break;
    case CAP_REC_NUM:
        if (!isfinite(x)) {
            snprintf(expect, n, "a number");
            return -1;
        }
        break;
    case CAP_REC_POS:
        if (!(isfinite(x) && x > 0)) {
            snprintf(expect, n, "a positive number");
            return -1;
        }
        break;
    case CAP_REC_NONNEG:
        if (!(isfinite(x) && x >= 0)) {
            snprintf(expect, n, "a non-negative number");
            return -1;
        }
        break;
    case CAP_REC_MEMBERS:
    case CAP_REC_QUANT:
        break;   /* read_fields's */
    }
    out->num = x;
    return 0;
}

/* 0 with q filled if j is an array of CAP_REC_NQ non-decreasing
 * non-negative numbers; else -1 with what it expects and what it got. */
static int read_quant(const cJSON *j, double *q, char *expect, size_t ne,
                      char *got, size_t ng)
{
    snprintf(expect, ne, "an array of %d non-decreasing non-negative "
             "numbers", CAP_REC_NQ);
    ut_json_describe(j, got, ng);
    int k = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1;
    if (k != CAP_REC_NQ) {
        if (k >= 0)
            snprintf(got, ng, "%d elements", k);
        return -1;
    }
    for (int i = 0; i < k; i++) {
        const cJSON *e = cJSON_GetArrayItem(j, i);
        double x = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        if (!(isfinite(x) && x >= 0 && (i == 0 || x >= q[i - 1]))) {
            char d[48];
            snprintf(got, ng, "element %d %s", i,
                     ut_json_describe(e, d, sizeof d));
            return -1;
        }
        q[i] = x;
    }
    return 0;
}

static int read_fields(const cJSON *o, cap_rec *r, const cap_rec_field *f,
                       int nf, cap_rec_val *v, int member, const char *where,
                       ut_err *err)
{
    for (int i = 0; i < nf; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, f[i].name);
        unsigned need = f[i].flags & CAP_REC_REQ;
        unsigned checked = f[i].flags & (CAP_REC_REQ | CAP_REC_OPT);
        if (!j && !need)
            continue;
        /* a measurement written null (NVML had no sample) is not an
         * error where it is not needed; a whole number never is null */
        if (cJSON_IsNull(j) && !need && is_measure(f[i].type))
            continue;
        char expect[96], got[64];
        int bad;
        if (f[i].type == CAP_REC_MEMBERS) {
            int k = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : -1;
            int lo = f[i].lo > 0 ? (int)f[i].lo : 2;
            bad = k < lo || k > CAP_REC_MAX_MEMBERS;
            snprintf(expect, sizeof expect, "an array of %d..%d members",
                     lo, CAP_REC_MAX_MEMBERS);
            if (k >= 0)
                snprintf(got, sizeof got, "%d members", k);
            if (!bad) {
                r->nmembers = k;
                for (int m = 0; m < k; m++) {
                    const cJSON *e = cJSON_GetArrayItem(j, m);
                    char w[400];
                    snprintf(w, sizeof w, "%s.members[%d]", where, m);
                    if (!cJSON_IsObject(e))
                        return ut_errf(err, "%s: expected an object, got %s",
                                       w, ut_json_describe(e, got,
                                                           sizeof got));
                    if (read_fields(e, r, r->k->member, r->k->nmember,
                                    r->m[m], m, w, err) < 0)
                        return -1;
                }
            }
            if (k < 0)
                ut_json_describe(j, got, sizeof got);
        } else if (f[i].type == CAP_REC_QUANT) {
            bad = read_quant(j, r->q[member + 1], expect, sizeof expect, got,
                             sizeof got) < 0;
        } else {
            long hi = f[i].hi;
            if (hi < 0) {   /* at most the record's SMs, checked before */
                int s = field_index(f, nf, "sm_count");
                hi = s >= 0 && v[s].set ? (long)v[s].num : 0;
            }
            bad = check(&f[i], j, hi, &v[i], expect, sizeof expect) < 0;
            ut_json_describe(j, got, sizeof got);
        }
        if (!bad) {
            v[i].set = 1;
            continue;
        }
        if (checked)
            return ut_errf(err, "%s.%s: expected %s, got %s%s", where,
                           f[i].name, expect, got,
                           j ? "" : " (missing field)");
        /* neither needed nor checked: a bad value is left unset */
    }
    return 0;
}

int cap_rec_read(const cJSON *o, cap_rec_id id, const char *where,
                 cap_rec *r, ut_err *err)
{
    init(r, id, 0);     /* "mech", when the shape has one, is what was read */
    return read_fields(o, r, r->k->fields, r->k->nfields, r->v, -1, where,
                       err);
}
