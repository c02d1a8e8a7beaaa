/*
 * igniter_sg.c - iGniter with the authors' runtime safeguard: the plan is
 * iGniter's; at run time, a workload that keeps violating its SLO (more
 * than 5 % of its requests over the SLO for 3 control intervals in a row)
 * is taken over by a standby instance with more share: each of its
 * instances gets two more share units (5 points on the V100) with no
 * service gap, the standby being already warm. Where its GPU has no room
 * left, a standby instance of the same batch and that larger share starts
 * on the first GPU with room for it, or on a new GPU (at most one new GPU
 * per interval), and takes half of that instance's rate (after the
 * reconfiguration delay: it is not warm). A workload is left alone for 3
 * intervals after a change.
 *
 * Scale-in (the project's addition; the paper's safeguard only grows): a
 * workload whose k instances have met the SLO (at most 1 % over it, no
 * drop) for 5 intervals in a row, and whose observed rate k - 1 of them
 * would carry at no more than 80 % of what each was planned for (the
 * workload's planned rate over its planned instance count), gives back
 * its newest instance (the last in plan order: the latest GPU), at most
 * one per GPU per interval and never its last. The 80 % and the 5
 * intervals are hysteresis: one fewer instance must not put the workload
 * straight back over its SLO. A GPU left empty is given back by the
 * simulator (POL_RECONF_REMOVE).
 */
#include "policies/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SG_VIOLATION_PCT 5.0
#define SG_INTERVALS 3
#define SG_UNITS 2
#define SG_COOLDOWN 3
#define SG_CALM_PCT 1.0       /* scale-in: at most this % over the SLO */
#define SG_CALM_INTERVALS 5   /* ... for this many intervals in a row */
#define SG_LOW 0.8            /* ... at this load of k - 1 instances */

extern const pol_ops pol_igniter;

typedef struct sg_state {
    size_t n;
    int *bad, *cool;
    int *calm;        /* intervals in a row within the SLO */
    double *per_inst; /* planned rate of one instance, req/s */
    double unit;
    double co;        /* what co-located workloads may have together, % */
} sg_state;

static int sg_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return pol_igniter.plan(req, out, err);
}

static void *sg_new(const pol_request *req, const pol_plan *plan)
{
    sg_state *s = ut_xcalloc(1, sizeof *s);
    s->n = req->n;
    s->bad = ut_xcalloc(req->n, sizeof *s->bad);
    s->cool = ut_xcalloc(req->n, sizeof *s->cool);
    s->calm = ut_xcalloc(req->n, sizeof *s->calm);
    s->per_inst = ut_xcalloc(req->n, sizeof *s->per_inst);
    for (size_t w = 0; w < req->n; w++) {
        size_t g, i;
        size_t k = pol_instances_of(plan, req->w[w].name, &g, &i, 1);
        s->per_inst[w] = req->w[w].rate_rps / (double)(k ? k : 1);
    }
    s->unit = req->fit->share_unit_pct;
    s->co = mdl_colocated_pct(req->fit);
    return s;
}

static void sg_free(void *st)
{
    sg_state *s = st;
    free(s->bad);
    free(s->cool);
    free(s->calm);
    free(s->per_inst);
    free(s);
}

static void sg_runtime(void *st, double now_s, const pol_plan *p,
                       const pol_observation *obs, size_t nobs,
                       pol_reconfig *out, size_t *n)
{
    sg_state *s = st;
    (void)now_s;
    *n = 0;
    double *room = ut_xcalloc(p->ngpus ? p->ngpus : 1, sizeof *room);
    for (size_t j = 0; j < p->ngpus; j++)
        room[j] = pol_gpu_room(p, j, s->co);
    size_t new_gpus = 0;
    /* GPUs changed this interval: a REMOVE there would shift the indices
     * of changes already written, so scale-in skips them */
    unsigned char *touched = ut_xcalloc(p->ngpus + 1, 1);
    for (size_t w = 0; w < nobs && w < s->n; w++) {
        const pol_observation *o = &obs[w];
        s->calm[w] = o->violation_pct <= SG_CALM_PCT && !o->dropped
                         ? s->calm[w] + 1
                         : 0;
        if (s->cool[w] > 0) {
            s->cool[w]--;
            continue;
        }
        s->bad[w] = o->violation_pct > SG_VIOLATION_PCT || o->dropped
                        ? s->bad[w] + 1
                        : 0;
        if (s->bad[w] < SG_INTERVALS)
            continue;
        size_t gpu[16], idx[16];
        size_t k = pol_instances_of(p, o->name, gpu, idx, 16);
        for (size_t i = 0; i < k && i < 16 && *n < POL_MAX_RECONF; i++) {
            const pol_instance *in = &p->gpus[gpu[i]].inst[idx[i]];
            double more = SG_UNITS * s->unit;
            pol_reconfig r;
            memset(&r, 0, sizeof r);
            r.batch = in->batch;
            if (room[gpu[i]] + 1e-9 >= more) {
                r.kind = POL_RECONF_SET;
                r.gpu = gpu[i];
                r.index = idx[i];
                r.share_pct = in->share_pct + more;
                r.hot = 1;
                room[gpu[i]] -= more;
                touched[gpu[i]] = 1;
            } else {
                r.kind = POL_RECONF_ADD;
                snprintf(r.name, sizeof r.name, "%s", o->name);
                r.share_pct = in->share_pct + more > 100 ? 100
                                                         : in->share_pct +
                                                               more;
                r.rate_rps = in->rate_rps / 2;
                /* the first GPU with room for the standby, else a new one
                 * (at most one new GPU per interval) */
                size_t j = 0;
                while (j < p->ngpus && room[j] + 1e-9 < r.share_pct)
                    j++;
                if (j == p->ngpus) {
                    if (new_gpus++)
                        break;
                } else {
                    room[j] -= r.share_pct;
                }
                r.gpu = j;
                touched[j] = 1;
            }
            out[(*n)++] = r;
        }
        s->bad[w] = 0;
        s->cool[w] = SG_COOLDOWN;
    }
    /* scale-in */
    for (size_t w = 0; w < nobs && w < s->n && *n < POL_MAX_RECONF; w++) {
        const pol_observation *o = &obs[w];
        if (s->cool[w] > 0 || s->calm[w] < SG_CALM_INTERVALS)
            continue;
        size_t gpu[1], idx[1];
        size_t k = pol_instances_of(p, o->name, gpu, idx, 0);
        if (k < 2 ||
            o->arrival_rps > SG_LOW * (double)(k - 1) * s->per_inst[w])
            continue;
        /* the newest: the last in plan order */
        size_t *ga = ut_xcalloc(k, sizeof *ga), *ia = ut_xcalloc(k, sizeof *ia);
        pol_instances_of(p, o->name, ga, ia, k);
        size_t g = ga[k - 1], i = ia[k - 1];
        free(ga);
        free(ia);
        if (touched[g])
            continue;
        pol_reconfig r;
        memset(&r, 0, sizeof r);
        r.kind = POL_RECONF_REMOVE;
        r.gpu = g;
        r.index = i;
        out[(*n)++] = r;
        touched[g] = 1;
        s->calm[w] = 0;
        s->cool[w] = SG_COOLDOWN;
    }
    free(touched);
    free(room);
}

const pol_ops pol_igniter_sg = {
    .version = POL_OPS_VERSION,
    .name = "igniter-sg",
    .summary = "iGniter with the authors' runtime safeguard: a standby "
               "instance with more share takes over a violating workload",
    .plan = sg_plan,
    .runtime_new = sg_new,
    .runtime = sg_runtime,
    .runtime_free = sg_free,
};
