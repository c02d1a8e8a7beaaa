/*
 * gslice.c - GSLICE+, the reactive baseline of the iGniter paper (after
 * Dhakal et al., "GSLICE: Controlled Spatial Sharing of GPUs for a Scalable
 * Inference Platform", SoCC 2020).
 *
 * Plan: interference-unaware, as FFD+ (iGniter's batches and share bounds,
 * first-fit decreasing). Run time, every control interval, per workload,
 * from what it observed:
 *   - SLO violated (more than 1 % of its requests over the SLO in the
 *     interval): raise the share of each of its instances by 10 points
 *     (what its GPU has free, at least one share unit); where the GPU is
 *     full, move the instance to a GPU with room for its share plus 10
 *     points, opening a new GPU if none has (at most one new GPU per
 *     interval): a hot ADD there, then a REMOVE of the old one (GSLICE
 *     moves an inference function to a GPU that can hold it; the paper's
 *     GSLICE+ ends with W9 alone on a GPU this way). Only when no move is
 *     possible (the new GPU of this interval is taken) is the batch
 *     adapted instead: one more when requests queue up (more than a batch
 *     per instance waiting: it lacks throughput), one less otherwise (a
 *     batch takes too long to run). A batch never passes MDL_MAX_BATCH
 *     (32), the largest batch profiled and measured (GSLICE+'s MAX_BATCH
 *     in the iGniter authors' gslice.py is also 32);
 *   - large slack (P99 under half the SLO, no violation) for 5 intervals
 *     in a row: give back 5 points of share (never below 5 %), which is
 *     GSLICE's resource reallocation toward the workloads that need it;
 *   - after a change, a workload is left alone for 3 intervals so that the
 *     next decision sees the effect of the last.
 * Changes are hot (GSLICE keeps a shadow instance ready, so a resize costs
 * no service gap). It is reactive only: it sees a violation after it has
 * happened, so transient violations remain, and the simulator counts them.
 */
#include "policies/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAISE_PCT 10.0
#define LOWER_PCT 5.0
#define MIN_PCT 5.0
#define VIOLATION_PCT 1.0
#define SLACK_INTERVALS 5
#define COOLDOWN 3

extern const pol_ops pol_ffd;

typedef struct gs_state {
    size_t n;
    int *slack;       /* intervals in a row with large slack */
    int *cool;        /* intervals to wait after a change */
    double unit;      /* the GPU's share unit */
    double co;        /* what co-located workloads may have together, % */
} gs_state;

static int gslice_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return pol_ffd.plan(req, out, err);
}

static void *gslice_new(const pol_request *req, const pol_plan *plan)
{
    (void)plan;
    gs_state *s = ut_xcalloc(1, sizeof *s);
    s->n = req->n;
    s->slack = ut_xcalloc(req->n, sizeof *s->slack);
    s->cool = ut_xcalloc(req->n, sizeof *s->cool);
    s->unit = req->fit->share_unit_pct;
    s->co = mdl_colocated_pct(req->fit);
    return s;
}

/* The first GPU (other than `not`) with room for share, else ngpus (a
 * new one). */
static size_t gpu_with_room(const pol_plan *p, const double *room, size_t not,
                            double share)
{
    for (size_t j = 0; j < p->ngpus; j++)
        if (j != not && p->gpus[j].n > 0 && room[j] + 1e-9 >= share)
            return j;
    return p->ngpus;
}

static void gslice_free(void *st)
{
    gs_state *s = st;
    free(s->slack);
    free(s->cool);
    free(s);
}

static double round_unit(double v, double unit)
{
    return floor(v / unit + 1e-9) * unit;
}

static void gslice_runtime(void *st, double now_s, const pol_plan *p,
                           const pol_observation *obs, size_t nobs,
                           pol_reconfig *out, size_t *n)
{
    gs_state *s = st;
    (void)now_s;
    *n = 0;
    /* what each GPU has left, including this interval's own changes */
    double *room = ut_xcalloc(p->ngpus + 1, sizeof *room);
    for (size_t j = 0; j < p->ngpus; j++)
        room[j] = pol_gpu_room(p, j, s->co);
    /* a GPU that lost an instance this interval: its later indices have
     * moved, so nothing more is changed there until the next one */
    unsigned char *moved = ut_xcalloc(p->ngpus + 1, 1);
    int opened = 0;
    for (size_t w = 0; w < nobs && w < s->n; w++) {
        const pol_observation *o = &obs[w];
        if (s->cool[w] > 0) {
            s->cool[w]--;
            continue;
        }
        int violating = o->violation_pct > VIOLATION_PCT || o->dropped > 0;
        int slack = o->completed > 0 && o->violations == 0 &&
                    o->p99_ms < o->slo_ms / 2;
        s->slack[w] = slack ? s->slack[w] + 1 : 0;
        if (!violating && s->slack[w] < SLACK_INTERVALS)
            continue;
        size_t gpu[16], idx[16];
        size_t k = pol_instances_of(p, o->name, gpu, idx, 16);
        if (k > 16)
            k = 16;
        for (size_t i = 0; i < k && *n + 1 < POL_MAX_RECONF; i++) {
            if (moved[gpu[i]])
                continue;
            const pol_instance *in = &p->gpus[gpu[i]].inst[idx[i]];
            pol_reconfig r;
            memset(&r, 0, sizeof r);
            r.kind = POL_RECONF_SET;
            r.gpu = gpu[i];
            r.index = idx[i];
            r.batch = in->batch;
            r.share_pct = in->share_pct;
            r.hot = 1;
            if (violating) {
                double add = round_unit(fmin(RAISE_PCT, room[gpu[i]]),
                                        s->unit);
                double want = fmin(100, in->share_pct + RAISE_PCT);
                size_t to = add > 0 ? 0
                                    : gpu_with_room(p, room, gpu[i], want);
                if (add > 0) {
                    r.share_pct += add;
                } else if (want > in->share_pct &&
                           (to < p->ngpus || !opened)) {
                    /* move: a hot copy with more share, then the old out */
                    if (to == p->ngpus)
                        opened = 1;
                    else
                        room[to] -= want;
                    r.kind = POL_RECONF_ADD;
                    r.gpu = to;
                    snprintf(r.name, sizeof r.name, "%s", in->name);
                    r.share_pct = want;
                    r.rate_rps = in->rate_rps;
                    out[(*n)++] = r;
                    memset(&r, 0, sizeof r);
                    r.kind = POL_RECONF_REMOVE;
                    r.gpu = gpu[i];
                    r.index = idx[i];
                    out[(*n)++] = r;
                    moved[gpu[i]] = 1;
                    room[gpu[i]] += in->share_pct;
                    s->cool[w] = COOLDOWN;
                    s->slack[w] = 0;
                    continue;
                } else if (o->queued > (uint64_t)in->batch * k &&
                           in->batch < MDL_MAX_BATCH)
                    r.batch++;       /* throughput-bound: batch more */
                else if (in->batch > 1)
                    r.batch--;       /* latency-bound: run less at once */
                else
                    continue;
                room[gpu[i]] -= add > 0 ? add : 0;
            } else {
                double sub = round_unit(fmin(LOWER_PCT,
                                             in->share_pct - MIN_PCT),
                                        s->unit);
                if (sub <= 0)
                    continue;
                r.share_pct -= sub;
                room[gpu[i]] += sub;
            }
            out[(*n)++] = r;
            s->cool[w] = COOLDOWN;
            s->slack[w] = 0;
        }
    }
    free(moved);
    free(room);
}

const pol_ops pol_gslice = {
    .version = POL_OPS_VERSION,
    .name = "gslice",
    .summary = "GSLICE+: FFD+ placement, then shares and batches tuned at "
               "run time from observed latency (reactive)",
    .plan = gslice_plan,
    .runtime_new = gslice_new,
    .runtime = gslice_runtime,
    .runtime_free = gslice_free,
};
