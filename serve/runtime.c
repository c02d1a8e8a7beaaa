/*
 * runtime.c - a policy's runtime hook during one pass of `igniter serve`
 * (serve.h, serve_int.h): the observations of each control interval, the
 * changes the hook returns made on the GPU being served (a new partition
 * or worker through srv_device.reconfigure, an instance added or removed,
 * queues re-routed), what cannot be made logged as not applied, and the
 * plan's shares per interval for the timeseries.
 */
#include "serve/serve_int.h"
#include "capture/capture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void srv_feed_done(srv *s, pst *P, const slot *Q)
{
    const batch *B = &s->b[Q->batch];
    if (!P->ps)
        return;
    if ((size_t)B->k > (size_t)Q->tmpcap)
        return;   /* cannot happen: tmp holds a whole batch */
    int64_t *arr = Q->tmp;
    for (int j = 0; j < B->k; j++)
        arr[j] = s->r[s->ids[B->first + (size_t)j]].t_arr;
    fe_rec_complete(&P->lrec, Q->w, arr, B->k, B->start, B->end, B->gpu,
                    B->inst);
}

slot *srv_add_slot(pst *P)
{
    UT_GROW(P->q, P->cap, P->n + 1);
    slot *Q = &P->q[P->n++];
    memset(Q, 0, sizeof *Q);
    Q->qhead = Q->qtail = NO_REQ;
    return Q;
}

void srv_slot_batch(slot *Q, int nbatch)
{
    Q->q.batch = nbatch;
    if (nbatch > Q->tmpcap) {
        Q->tmp = ut_xrealloc(Q->tmp, (size_t)nbatch * sizeof *Q->tmp);
        Q->tmpcap = nbatch;
    }
}

static size_t add_log(srv *s, const pst *P, const pol_reconfig *r,
                      int64_t t)
{
    UT_GROW(s->log, s->logcap, s->nlog + 1);
    rlog *L = &s->log[s->nlog];
    memset(L, 0, sizeof *L);
    L->t = t;
    L->kind = r->kind;
    L->hot = r->hot;
    L->pass = P->gpu;
    L->gpu = r->gpu;
    L->index = r->index;
    L->inst = -1;
    snprintf(L->name, sizeof L->name, "%s", r->name);
    L->new_share = r->kind == POL_RECONF_REMOVE ? 0 : r->share_pct;
    L->new_batch = r->kind == POL_RECONF_REMOVE ? 0 : r->batch;
    L->device_ms = -1;
    L->ready = -1;
    return s->nlog++;
}

/* The change is one a one-GPU machine cannot make now: logged, skipped. */
static int not_applied(srv *s, size_t li, const char *why)
{
    snprintf(s->log[li].note, sizeof s->log[li].note, "not applied: %s",
             why);
    s->st->not_applied++;
    return 1;
}

/* Has the device change slot k (pi NULL: stop it): 0 with *end, the time
 * after it, pass-relative; 1 when the device cannot give the new settings
 * now (logged as not applied, the instance as it was); -1 with err. */
static int dev_change(srv *s, pst *P, size_t k, const pol_instance *pi,
                      size_t li, int64_t *end, ut_err *err)
{
    const srv_clock *clk = s->c->clock;
    int64_t a = clk->now(clk->ud);
    int rc = s->c->dev->reconfigure(s->c->dev->ud, k, pi, err);
    int64_t b = clk->now(clk->ud);
    if (rc > 0 && pi) {
        s->st->reconfigs--;
        return not_applied(s, li, err->msg);
    }
    if (li < s->nlog)
        s->log[li].device_ms = (double)(b - a) / 1e6;
    if (rc != 0) {
        if (rc > 0)
            ut_errf(err, "the device refused to stop it");
        ut_errprefix(err, "runtime change of instance %d", P->q[k].inst);
        return -1;
    }
    *end = b - P->t0;
    return 0;
}

/* A waiting change of slot k, now that its batch has ended: 0 made, 1
 * refused by the device (the live plan and the slot's hold as before the
 * change), -1 with err. */
int srv_finish_op(srv *s, pst *P, size_t k, ut_err *err)
{
    slot *Q = &P->q[k];
    int op = Q->op;
    Q->op = OP_NONE;
    int64_t end = 0;
    int rc = dev_change(s, P, k, op == OP_SET ? &Q->want : NULL, Q->log,
                        &end, err);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        pol_instance *pi = &P->live.gpus[P->gpu].inst[Q->li];
        pi->share_pct = s->log[Q->log].old_share;
        pi->batch = s->log[Q->log].old_batch;
        Q->ready = Q->ready0;
        return 1;
    }
    if (op == OP_CLOSE) {
        Q->gone = 1;
        return 0;
    }
    srv_slot_batch(Q, Q->want.batch);
    if (end > Q->ready)
        Q->ready = end;
    s->log[Q->log].ready = Q->ready;
    return 0;
}

static int slot_at(const pst *P, size_t index)
{
    for (size_t k = 0; k < P->n; k++)
        if (P->q[k].li == (int)index)
            return (int)k;
    return -1;
}

static double live_share(const pol_plan *p, size_t j)
{
    double sum = 0;
    for (size_t k = 0; k < p->gpus[j].n; k++)
        sum += p->gpus[j].inst[k].share_pct;
    return sum;
}

/* Requests queued at a removed instance go, oldest first, to the
 * workload's other instances by routing (the simulator's
 * remove_instance): each keeps its arrival time and goes where
 * fe_batcher_requeue puts it, which the request list follows. */
static void requeue(srv *s, pst *P, slot *Q)
{
    int w = Q->w;
    while (Q->q.len) {
        int64_t a;
        fe_batcher_pop(&Q->q, 1, &a);
        size_t id = srv_queue_pop(s, Q);
        int to = fe_wrr_pick(s->rr, P->winst[w], P->nwinst[w], P->wtotal[w]);
        slot *T = &P->q[s->islot[to]];
        fe_batcher_requeue(&T->q, a);
        s->r[id].inst = to;
        size_t prev = NO_REQ, cur = T->qhead;
        while (cur != NO_REQ && s->r[cur].t_arr <= a) {
            prev = cur;
            cur = s->r[cur].next;
        }
        s->r[id].next = cur;
        if (prev == NO_REQ)
            T->qhead = id;
        else
            s->r[prev].next = id;
        if (cur == NO_REQ)
            T->qtail = id;
    }
}

static int remove_inst(srv *s, pst *P, const pol_reconfig *r, size_t li,
                       int64_t now, ut_err *err)
{
    const char *pn = s->pol->name;
    if (r->gpu >= P->live.ngpus || r->index >= P->live.gpus[r->gpu].n)
        return ut_errf(err, "policy %s: runtime change: remove: no instance "
                       "%zu on GPU %zu", pn, r->index, r->gpu);
    const pol_instance *old = &P->live.gpus[r->gpu].inst[r->index];
    snprintf(s->log[li].name, sizeof s->log[li].name, "%s", old->name);
    s->log[li].old_share = old->share_pct;
    s->log[li].old_batch = old->batch;
    if (r->gpu != P->gpu)
        return not_applied(s, li, "another plan GPU than the one served");
    int k = slot_at(P, r->index);
    slot *Q = &P->q[k];
    int w = Q->w;
    s->log[li].inst = Q->inst;
    if (P->nwinst[w] < 2)
        return ut_errf(err, "policy %s: runtime change: remove: workload "
                       "\"%s\" would have no instance left", pn,
                       s->log[li].name);
    for (size_t j = 0; j < P->nwinst[w]; j++)
        if (s->inst_gpu[P->winst[w][j]] != (int)P->gpu)
            return not_applied(s, li, "the workload has instances on other "
                               "plan GPUs, which this pass does not run");
    size_t j = 0;
    while (P->winst[w][j] != Q->inst)
        j++;
    memmove(&P->winst[w][j], &P->winst[w][j + 1],
            (P->nwinst[w] - j - 1) * sizeof **P->winst);
    P->nwinst[w]--;
    if (s->rr[Q->inst].active)
        P->wtotal[w] -= s->rr[Q->inst].weight;
    s->rr[Q->inst].active = 0;
    pol_gpu *lg = &P->live.gpus[r->gpu];
    memmove(&lg->inst[r->index], &lg->inst[r->index + 1],
            (lg->n - r->index - 1) * sizeof *lg->inst);
    lg->n--;
    for (size_t m = 0; m < P->n; m++)
        if (P->q[m].li > (int)r->index)
            P->q[m].li--;
    Q->li = -1;
    Q->op = OP_NONE;
    requeue(s, P, Q);
    for (size_t m = 0; m < P->nwinst[w]; m++) {
        size_t t = (size_t)s->islot[P->winst[w][m]];
        if (srv_launch(s, &P->q[t], t, now, err) < 0)
            return -1;
    }
    s->st->reconfigs++;
    if (Q->busy) {
        Q->op = OP_CLOSE;
        Q->log = li;
        return 0;
    }
    int64_t end;
    if (dev_change(s, P, (size_t)k, NULL, li, &end, err) < 0)
        return -1;
    Q->gone = 1;
    return 0;
}

/*
 * One change the hook asked for at control time t (now: the loop's
 * time, later on a real clock): 0 applied, 1 not applied (logged), -1
 * with err. The checks and their messages are the simulator's
 * (apply_reconf), so a policy that breaks a plan's invariants fails alike.
 */
static int change(srv *s, pst *P, const pol_reconfig *r, int64_t t,
                  int64_t now, ut_err *err)
{
    const char *pn = s->pol->name;
    size_t li = add_log(s, P, r, t);
    if (r->kind == POL_RECONF_REMOVE)
        return remove_inst(s, P, r, li, now, err);
    if (r->batch < 1 || r->batch > 4096 || !(r->share_pct > 0) ||
        r->share_pct > 100)
        return ut_errf(err, "policy %s: runtime change: expected a batch in "
                       "1..4096 and a share in (0, 100], got batch %d, share "
                       "%g", pn, r->batch, r->share_pct);
    if (r->batch > CAP_MAX_BATCH)
        return ut_errf(err, "policy %s: runtime change: batch: expected "
                       "1..%d (the runner's buffers), got %d", pn,
                       CAP_MAX_BATCH, r->batch);
    int64_t ready = r->hot ? t : t + s->delay_ns;
    if (r->kind == POL_RECONF_SET) {
        if (r->gpu >= P->live.ngpus || r->index >= P->live.gpus[r->gpu].n)
            return ut_errf(err, "policy %s: runtime change: no instance %zu "
                           "on GPU %zu", pn, r->index, r->gpu);
        pol_instance *pi = &P->live.gpus[r->gpu].inst[r->index];
        snprintf(s->log[li].name, sizeof s->log[li].name, "%s", pi->name);
        s->log[li].old_share = pi->share_pct;
        s->log[li].old_batch = pi->batch;
        double total = live_share(&P->live, r->gpu) - pi->share_pct +
                       r->share_pct;
        if (total > 100 + 1e-9)
            return ut_errf(err, "policy %s: runtime change: GPU %zu would "
                           "hold %g %%, expected at most 100", pn, r->gpu,
                           total);
        if (r->gpu != P->gpu)
            return not_applied(s, li, "another plan GPU than the one "
                               "served");
        pi->share_pct = r->share_pct;
        pi->batch = r->batch;
        size_t k = (size_t)slot_at(P, r->index);
        slot *Q = &P->q[k];
        s->log[li].inst = Q->inst;
        Q->want = *pi;
        Q->log = li;
        Q->ready0 = Q->ready;
        if (ready > Q->ready)
            Q->ready = ready;
        s->st->reconfigs++;
        Q->op = OP_SET;
        return Q->busy ? 0 : srv_finish_op(s, P, k, err);
    }
    size_t w = 0;
    while (w < s->nw && strcmp(s->out->st[w].name, r->name))
        w++;
    if (w == s->nw)
        return ut_errf(err, "policy %s: runtime change: no workload \"%s\"",
                       pn, r->name);
    if (r->gpu > P->live.ngpus)
        return ut_errf(err, "policy %s: runtime change: no GPU %zu (there "
                       "are %zu)", pn, r->gpu, P->live.ngpus);
    if (r->gpu < P->live.ngpus &&
        live_share(&P->live, r->gpu) + r->share_pct > 100 + 1e-9)
        return ut_errf(err, "policy %s: runtime change: GPU %zu would hold "
                       "%g %%, expected at most 100", pn, r->gpu,
                       live_share(&P->live, r->gpu) + r->share_pct);
    size_t here = P->live.gpus[r->gpu < P->live.ngpus ? r->gpu : 0].n;
    if (r->gpu == P->gpu) {   /* removed ones count until they stop */
        here = 0;
        for (size_t k = 0; k < P->n; k++)
            here += !P->q[k].gone;
    }
    if (r->gpu < P->live.ngpus && here >= MDL_MAX_COLOC)
        return ut_errf(err, "policy %s: runtime change: GPU %zu has %d "
                       "instances already", pn, r->gpu, MDL_MAX_COLOC);
    if (r->gpu == P->live.ngpus)
        return not_applied(s, li, "a new GPU: serve runs one plan GPU at a "
                           "time");
    if (r->gpu != P->gpu)
        return not_applied(s, li, "another plan GPU than the one served");
    /* a new global instance, slot and device instance */
    if (s->ninst_all + 1 > s->icap) {
        s->icap = 2 * (s->ninst_all + 1);
        s->inst_w = ut_xrealloc(s->inst_w, s->icap * sizeof *s->inst_w);
        s->inst_gpu = ut_xrealloc(s->inst_gpu, s->icap * sizeof *s->inst_gpu);
        s->rr = ut_xrealloc(s->rr, s->icap * sizeof *s->rr);
        s->islot = ut_xrealloc(s->islot, s->icap * sizeof *s->islot);
    }
    int i = (int)s->ninst_all++;
    s->inst_w[i] = (int)w;
    s->inst_gpu[i] = (int)P->gpu;
    memset(&s->rr[i], 0, sizeof s->rr[i]);
    s->rr[i].weight = r->rate_rps > 0 ? r->rate_rps : 1;
    UT_GROW(P->winst[w], P->wcap[w], P->nwinst[w] + 1);
    P->winst[w][P->nwinst[w]++] = i;
    s->out->st[w].instances++;
    pol_gpu *lg = &P->live.gpus[P->gpu];
    lg->inst = ut_xrealloc(lg->inst, (lg->n + 1) * sizeof *lg->inst);
    pol_instance *pi = &lg->inst[lg->n];
    memset(pi, 0, sizeof *pi);
    snprintf(pi->name, sizeof pi->name, "%s", s->out->st[w].name);
    snprintf(pi->model, sizeof pi->model, "%s", s->out->st[w].model);
    pi->batch = r->batch;
    pi->share_pct = r->share_pct;
    pi->rate_rps = r->rate_rps;
    pi->slo_ms = s->out->st[w].slo_ms;
    size_t k = P->n;
    slot *Q = srv_add_slot(P);
    Q->inst = i;
    Q->w = (int)w;
    Q->li = (int)lg->n++;
    s->islot[i] = (int)k;
    const fe_workload_cfg *wc = &s->sc->wcfg[w];
    fe_batcher_init(&Q->q, r->batch, fe_batch_delay_ns(wc, pi->slo_ms),
                    wc->queue_limit);
    srv_slot_batch(Q, r->batch);
    Q->activate = 1;
    Q->ready = ready;
    s->log[li].inst = i;
    s->log[li].index = (size_t)Q->li;
    s->st->reconfigs++;
    int64_t end = 0;
    int rc = dev_change(s, P, k, pi, li, &end, err);
    if (rc < 0)
        return -1;
    Q = &P->q[k];
    if (rc > 0) {   /* refused: the instance and its slot were never */
        fe_batcher_free(&Q->q);
        free(Q->tmp);
        P->n--;
        P->nwinst[w]--;
        s->out->st[w].instances--;
        lg->n--;
        s->ninst_all--;
        s->log[li].inst = -1;
        s->log[li].index = r->index;
        return 1;
    }
    if (end > Q->ready)
        Q->ready = end;
    s->log[li].ready = Q->ready;
    return 0;
}

/* GPU P->gpu's live instances per workload, from row k on. */
void srv_push_epoch(srv *s, const pst *P, int64_t k)
{
    UT_GROW(s->ep, s->epcap, s->nep + 1);
    epoch *E = &s->ep[s->nep++];
    E->gpu = P->gpu;
    E->k = k;
    E->share = ut_xcalloc(s->nw ? s->nw : 1, sizeof *E->share);
    E->count = ut_xcalloc(s->nw ? s->nw : 1, sizeof *E->count);
    E->maxb = ut_xcalloc(s->nw ? s->nw : 1, sizeof *E->maxb);
    const pol_gpu *lg = &P->live.gpus[P->gpu];
    for (size_t m = 0; m < P->n; m++) {
        const slot *Q = &P->q[m];
        if (Q->li < 0)
            continue;
        const pol_instance *pi = &lg->inst[Q->li];
        E->share[Q->w] += pi->share_pct;
        E->count[Q->w]++;
        if (pi->batch > E->maxb[Q->w])
            E->maxb[Q->w] = pi->batch;
    }
}

/* The control interval ending at t: the hook sees it and its changes are
 * applied. 0, or -1 with err (the run ends). */
int srv_control(srv *s, pst *P, int64_t t, int64_t now, ut_err *err)
{
    uint64_t *queued = ut_xcalloc(s->nw ? s->nw : 1, sizeof *queued);
    pol_observation *obs = ut_xcalloc(s->nw ? s->nw : 1, sizeof *obs);
    for (size_t m = 0; m < P->n; m++)
        if (P->q[m].li >= 0)
            queued[P->q[m].w] += P->q[m].q.len;
    fe_rec_observe(&P->lrec, queued, obs);
    pol_reconfig out[POL_MAX_RECONF];
    size_t n = 0;
    s->pol->runtime(P->ps, (double)t / 1e9, &P->live, obs, s->nw, out, &n);
    free(obs);
    free(queued);
    if (n > POL_MAX_RECONF)
        n = POL_MAX_RECONF;
    int rc = 0, changed = 0;
    for (size_t k = 0; k < n && rc >= 0; k++) {
        rc = change(s, P, &out[k], t, now, err);
        changed |= rc == 0;
    }
    fe_rec_interval_reset(&P->lrec);
    P->k++;
    if (changed)
        srv_push_epoch(s, P, P->k);
    return rc < 0 ? -1 : 0;
}

/* Arrivals drawn up to `upto`, oldest first, as the simulator takes them,
 * handled at now; -1 on a device error. */
