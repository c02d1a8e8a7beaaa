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
 */
#include "policies/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SG_VIOLATION_PCT 5.0
#define SG_INTERVALS 3
#define SG_UNITS 2
#define SG_COOLDOWN 3

extern const pol_ops pol_igniter;

typedef struct sg_state {
    size_t n;
    int *bad, *cool;
    double unit;
    double co;        /* what co-located workloads may have together, % */
} sg_state;

static int sg_plan(const pol_request *req, pol_plan *out, ut_err *err)
{
    return pol_igniter.plan(req, out, err);
}

static void *sg_new(const pol_request *req, const pol_plan *plan)
{
    (void)plan;
    sg_state *s = ut_xcalloc(1, sizeof *s);
    s->n = req->n;
    s->bad = ut_xcalloc(req->n, sizeof *s->bad);
    s->cool = ut_xcalloc(req->n, sizeof *s->cool);
    s->unit = req->fit->share_unit_pct;
    s->co = mdl_colocated_pct(req->fit);
    return s;
}

static void sg_free(void *st)
{
    sg_state *s = st;
    free(s->bad);
    free(s->cool);
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
    for (size_t w = 0; w < nobs && w < s->n; w++) {
        const pol_observation *o = &obs[w];
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
            }
            out[(*n)++] = r;
        }
        s->bad[w] = 0;
        s->cool[w] = SG_COOLDOWN;
    }
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
