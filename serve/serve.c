/*
 * serve.c - the real provisioner's host loop (serve.h).
 *
 * One pass per plan GPU. A pass draws every workload's arrivals with the
 * simulator's generators (same seed, same stream names), routes each with
 * the simulator's weighted round robin over all of the workload's
 * instances, and queues the ones routed to this GPU in the simulator's
 * batcher. A single thread does everything: it handles what is due
 * (completions, arrivals, batcher timeouts), launches what the batchers
 * release, and waits for the next due time, polling the device while a
 * batch runs. Every request is logged; after the last pass the log is fed,
 * in time order, to the simulator's recorder (fe_rec), which writes the
 * same files as `igniter sim`.
 */
#include "serve/serve.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the machine's clock ------------------------------------------------ */

static int64_t mono_now(void *ud)
{
    (void)ud;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void mono_wait(void *ud, int64_t t)
{
    int64_t now = mono_now(ud);
    if (t - now > 60000) {
        int64_t ns = t - now - 50000;
        struct timespec d = {(time_t)(ns / 1000000000),
                             (long)(ns % 1000000000)};
        nanosleep(&d, NULL);
    }
}

const srv_clock srv_clock_monotonic = {mono_now, mono_wait, NULL};

/* ---- the request log ---------------------------------------------------- */

enum { RQ_QUEUED, RQ_RUNNING, RQ_DONE, RQ_DROPPED };

#define NO_REQ SIZE_MAX

typedef struct req {
    int64_t t_arr, late, t_disp, t_done;
    size_t next;             /* queued: the next request of its instance's
                                queue (the batcher's order), or NO_REQ */
    int32_t w, inst;
    uint32_t batch;          /* index in the batch log */
    uint8_t status;
} req;

typedef struct batch {
    int64_t start, end;      /* end < 0: did not complete in its pass */
    int32_t inst, gpu, k;
    size_t first;            /* its requests: ids[first .. first + k) */
} batch;

enum { OP_NONE, OP_SET, OP_CLOSE };

typedef struct slot {        /* an instance of the GPU being served */
    int inst;                /* global instance number (plan order, then
                                the runtime hook's additions) */
    int w;
    fe_batcher q;
    size_t qhead, qtail;     /* its queued requests, a list through
                                req.next in the batcher's order */
    int busy;
    size_t batch;
    int64_t *tmp;
    int tmpcap;
    /* what a runtime hook changed (all 0 without one) */
    int li;                  /* index in the live plan's GPU; -1 removed */
    int gone;                /* removed, and its device instance stopped */
    int op;                  /* OP_SET, OP_CLOSE: a device change waiting
                                for the running batch to end */
    pol_instance want;       /* the settings of a waiting OP_SET */
    size_t log;              /* its row of the reconfiguration log */
    int64_t ready;           /* launches nothing before (a change's hold) */
    int64_t ready0;          /* ready before the waiting OP_SET's hold */
    int activate;            /* added: joins routing at ready */
} slot;

/* A row of reconfig.csv: one change the policy asked for. */
typedef struct rlog {
    int64_t t;               /* control time, ns */
    int kind, hot, applied;
    size_t pass;             /* the plan GPU being served */
    size_t gpu, index;
    int inst;                /* global instance, -1 none */
    char name[POL_NAME_MAX];
    double old_share, new_share;
    int old_batch, new_batch;
    double device_ms;        /* the device's time to make it; < 0 none */
    int64_t ready;           /* served again from; < 0 not applicable */
    char note[160];
} rlog;

/* From the timeseries row of interval k on, plan GPU gpu's live instances
 * give each workload this share, count and largest batch. */
typedef struct epoch {
    size_t gpu;
    int64_t k;
    double *share;
    int *count, *maxb;
} epoch;

typedef struct srv {
    const srv_config *c;
    const fe_run *sc;
    const pol_plan *p;
    size_t nw, ninst;
    fe_binding bind;                 /* instances, workloads, routing */
    int *inst_w, *inst_gpu;          /* per global instance (b's, then
                                        the hook's additions) */
    const pol_instance **inst_pi;    /* a plan instance's plan entry */
    fe_wrr *rr;                      /* routing, per global instance */
    int *islot;                      /* its slot in the current pass */
    size_t ninst_all, icap;
    const pol_ops *pol;              /* a policy with a runtime hook */
    int64_t delay_ns;
    rlog *log;
    size_t nlog, logcap;
    epoch *ep;
    size_t nep, epcap;
    fe_rec *out;                     /* the results' recorder */
    req *r;
    size_t nr, rcap;
    batch *b;
    size_t nb, bcap;
    size_t *ids;
    size_t nids, idcap;
    int64_t end_ns, warm_ns;
    int64_t *reached;                /* per plan GPU: time its pass reached */
    srv_stats *st;
} srv;

static size_t add_req(srv *s)
{
    UT_GROW(s->r, s->rcap, s->nr + 1);
    memset(&s->r[s->nr], 0, sizeof s->r[s->nr]);
    return s->nr++;
}

/* At least `more` free entries in the request log, its batch log and its
 * request ids (a batch has at least one request). */
static void reserve(srv *s, size_t more)
{
    if (s->nr + more > s->rcap) {
        s->rcap = s->nr + more;
        s->r = ut_xrealloc(s->r, s->rcap * sizeof *s->r);
    }
    if (s->nb + more > s->bcap) {
        s->bcap = s->nb + more;
        s->b = ut_xrealloc(s->b, s->bcap * sizeof *s->b);
    }
    if (s->nids + more > s->idcap) {
        s->idcap = s->nids + more;
        s->ids = ut_xrealloc(s->ids, s->idcap * sizeof *s->ids);
    }
}

static size_t add_batch(srv *s, int k)
{
    UT_GROW(s->b, s->bcap, s->nb + 1);
    UT_GROW(s->ids, s->idcap, s->nids + (size_t)k);
    batch *B = &s->b[s->nb];
    memset(B, 0, sizeof *B);
    B->first = s->nids;
    B->k = k;
    B->end = -1;
    s->nids += (size_t)k;
    return s->nb++;
}

static void queue_push(srv *s, slot *q, size_t id)
{
    s->r[id].next = NO_REQ;
    if (q->qtail != NO_REQ)
        s->r[q->qtail].next = id;
    else
        q->qhead = id;
    q->qtail = id;
}

static size_t queue_pop(srv *s, slot *q)
{
    size_t id = q->qhead;
    q->qhead = s->r[id].next;
    if (q->qhead == NO_REQ)
        q->qtail = NO_REQ;
    return id;
}

/* ---- one pass: one plan GPU --------------------------------------------- */

/* Starts a batch on slot q (device instance dk) if the batcher says so
 * and nothing holds it: 1 started, 0 not, -1 a device error. */
static int launch(srv *s, slot *q, size_t dk, int64_t now, ut_err *err)
{
    if (q->busy || q->li < 0 || q->op || now < q->ready ||
        !s->rr[q->inst].active)
        return 0;   /* removed, changing, or not started yet */
    int k = fe_batcher_ready(&q->q, now);
    if (k == 0)
        return 0;
    fe_batcher_pop(&q->q, k, q->tmp);
    size_t bi = add_batch(s, k);
    batch *B = &s->b[bi];
    B->inst = q->inst;
    B->gpu = s->inst_gpu[q->inst];
    B->start = now;
    for (int j = 0; j < k; j++) {
        size_t id = queue_pop(s, q);
        s->ids[B->first + (size_t)j] = id;
        s->r[id].status = RQ_RUNNING;
        s->r[id].t_disp = now;
        s->r[id].batch = (uint32_t)bi;
    }
    q->busy = 1;
    q->batch = bi;
    s->st->launches++;
    return s->c->dev->launch(s->c->dev->ud, dk, k, err) < 0 ? -1 : 1;
}

static void done(srv *s, slot *q, int64_t now)
{
    batch *B = &s->b[q->batch];
    B->end = now;
    for (int j = 0; j < B->k; j++) {
        req *R = &s->r[s->ids[B->first + (size_t)j]];
        R->status = RQ_DONE;
        R->t_done = now;
    }
    q->busy = 0;
}

/* ---- a pass's state; the runtime hook's changes -------------------------- */

typedef struct pst {
    size_t gpu, first;
    slot *q;
    size_t n, cap;                   /* slots (device instances) */
    int **winst;                     /* routing, this pass's copy */
    size_t *nwinst, *wcap;
    double *wtotal;
    int64_t t0;
    /* the hook's */
    void *ps;
    pol_plan live;                   /* the plan as changed so far */
    fe_rec lrec;                     /* this interval's observations */
    int64_t next_ctl, k;             /* next control time, interval index */
} pst;

static void feed_done(srv *s, pst *P, const slot *Q)
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

static slot *add_slot(pst *P)
{
    UT_GROW(P->q, P->cap, P->n + 1);
    slot *Q = &P->q[P->n++];
    memset(Q, 0, sizeof *Q);
    Q->qhead = Q->qtail = NO_REQ;
    return Q;
}

static void slot_batch(slot *Q, int nbatch)
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
static int finish_op(srv *s, pst *P, size_t k, ut_err *err)
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
    slot_batch(Q, Q->want.batch);
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
        size_t id = queue_pop(s, Q);
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
        if (launch(s, &P->q[t], t, now, err) < 0)
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
    if (r->batch > 64)
        return ut_errf(err, "policy %s: runtime change: batch: expected "
                       "1..64 (the runner's buffers), got %d", pn, r->batch);
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
        return Q->busy ? 0 : finish_op(s, P, k, err);
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
    slot *Q = add_slot(P);
    Q->inst = i;
    Q->w = (int)w;
    Q->li = (int)lg->n++;
    s->islot[i] = (int)k;
    const fe_workload_cfg *wc = &s->sc->wcfg[w];
    fe_batcher_init(&Q->q, r->batch, fe_batch_delay_ns(wc, pi->slo_ms),
                    wc->queue_limit);
    slot_batch(Q, r->batch);
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
static void push_epoch(srv *s, const pst *P, int64_t k)
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
static int control(srv *s, pst *P, int64_t t, int64_t now, ut_err *err)
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
        push_epoch(s, P, P->k);
    return rc < 0 ? -1 : 0;
}

/* Arrivals drawn up to `upto`, oldest first, as the simulator takes them,
 * handled at now; -1 on a device error. */
static int arrivals(srv *s, pst *P, trace_gen **gen, int64_t *next,
                    int64_t upto, int64_t now, ut_err *err)
{
    for (;;) {
        size_t wmin = 0;
        for (size_t w = 1; w < s->nw; w++)
            if (next[w] < next[wmin])
                wmin = w;
        if (s->nw == 0 || next[wmin] > upto)
            return 0;
        size_t w = wmin;
        int64_t t = next[w];
        int i = fe_wrr_pick(s->rr, P->winst[w], P->nwinst[w], P->wtotal[w]);
        if (s->inst_gpu[i] == (int)P->gpu) {
            size_t k = (size_t)s->islot[i];
            slot *Q = &P->q[k];
            size_t id = add_req(s);
            req *R = &s->r[id];
            R->t_arr = t;
            R->late = now - t;
            R->w = (int32_t)w;
            R->inst = i;
            fe_hist_add(&s->st->lateness, now - t);
            int dropped = fe_batcher_push(&Q->q, t) < 0;
            if (P->ps)
                fe_rec_arrival(&P->lrec, (int)w, t, dropped);
            if (dropped) {
                R->status = RQ_DROPPED;
            } else {
                R->status = RQ_QUEUED;
                queue_push(s, Q, id);
                if (!Q->busy && launch(s, Q, k, now, err) < 0)
                    return -1;
            }
        }
        int64_t nt = trace_gen_next(gen[w]);
        next[w] = nt >= s->end_ns ? INT64_MAX : nt < t ? t : nt;
    }
}

/* Returns 0 (the pass ran to the end), 1 (stopped), 2 (device error or a
 * bad runtime change). */
static int pass(srv *s, size_t gpu, ut_err *err)
{
    const srv_config *c = s->c;
    const srv_clock *clk = c->clock;
    const pol_gpu *g = &s->p->gpus[gpu];
    size_t n = g->n, first = 0;
    for (size_t j = 0; j < gpu; j++)
        first += s->p->gpus[j].n;
    pst P;
    memset(&P, 0, sizeof P);
    P.gpu = gpu;
    P.first = first;
    trace_gen **gen = ut_xcalloc(s->nw, sizeof *gen);
    int64_t *next = ut_xcalloc(s->nw, sizeof *next);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        slot *Q = add_slot(&P);
        Q->inst = (int)(first + k);
        Q->li = (int)k;
        Q->w = s->inst_w[Q->inst];
        s->islot[Q->inst] = (int)k;
        const fe_workload_cfg *wc = &s->sc->wcfg[Q->w];
        fe_batcher_init(&Q->q, g->inst[k].batch,
                        fe_batch_delay_ns(wc, g->inst[k].slo_ms),
                        wc->queue_limit);
        slot_batch(Q, g->inst[k].batch);
    }
    /* routing from the plan's, every pass */
    for (size_t i = 0; i < s->ninst; i++)
        s->rr[i] = s->bind.rr[i];
    P.winst = ut_xcalloc(s->nw ? s->nw : 1, sizeof *P.winst);
    P.nwinst = ut_xcalloc(s->nw ? s->nw : 1, sizeof *P.nwinst);
    P.wcap = ut_xcalloc(s->nw ? s->nw : 1, sizeof *P.wcap);
    P.wtotal = ut_xcalloc(s->nw ? s->nw : 1, sizeof *P.wtotal);
    for (size_t w = 0; w < s->nw; w++) {
        P.nwinst[w] = P.wcap[w] = s->bind.nwinst[w];
        P.winst[w] = ut_xcalloc(P.wcap[w] ? P.wcap[w] : 1, sizeof **P.winst);
        memcpy(P.winst[w], s->bind.winst[w],
               P.nwinst[w] * sizeof **P.winst);
        P.wtotal[w] = s->bind.wtotal[w];
    }
    if (s->pol) {
        /* the live plan: a deep copy the hook sees and this pass changes */
        P.live = *s->p;
        P.live.gpus = ut_xcalloc(s->p->ngpus, sizeof *P.live.gpus);
        for (size_t j = 0; j < s->p->ngpus; j++) {
            const pol_gpu *pg = &s->p->gpus[j];
            P.live.gpus[j] = *pg;
            P.live.gpus[j].inst = ut_xcalloc(pg->n ? pg->n : 1,
                                             sizeof *pg->inst);
            memcpy(P.live.gpus[j].inst, pg->inst, pg->n * sizeof *pg->inst);
        }
        fe_rec_init_bound(&P.lrec, s->sc, &s->bind);
        P.next_ctl = s->bind.iv_ns;
        P.ps = s->pol->runtime_new(c->req, &P.live);
        push_epoch(s, &P, 0);
    }
    for (size_t w = 0; w < s->nw; w++) {
        next[w] = INT64_MAX;
        int here = 0;
        for (size_t k = 0; k < n; k++)
            here |= P.q[k].w == (int)w;
        if (!here && !P.ps)
            continue;
        gen[w] = trace_gen_new_shared(&s->sc->wcfg[w].arrivals, s->sc->seed,
                                      s->sc->wcfg[w].name, s->bind.files,
                                      err);
        if (!gen[w]) {   /* checked before the first pass: cannot happen */
            rc = 2;
            goto out;
        }
        next[w] = trace_gen_next(gen[w]);
        if (next[w] >= s->end_ns)
            next[w] = INT64_MAX;
    }
    if (c->progress)
        fprintf(c->progress, "igniter serve: plan GPU %zu of %zu: %zu "
                "instances, %.0f s\n", gpu + 1, s->p->ngpus, n,
                (double)s->end_ns / 1e9);
    /* room for this pass's requests and batches before the clock starts:
     * growing the log mid-run stalls the loop (tens of ms at 10^5 req/s) */
    double expect = 0;
    for (size_t k = 0; k < n; k++)
        expect += g->inst[k].rate_rps * s->sc->duration_s * 1.25;
    if (expect > 5e7)
        expect = 5e7;
    reserve(s, (size_t)expect + 1024);
    if (c->dev->open(c->dev->ud, g, gpu, err) < 0) {
        rc = 2;
        goto out;
    }
    int64_t t0 = clk->now(clk->ud), now = 0, shown = 0;
    P.t0 = t0;
    int tty = c->progress && isatty(fileno(c->progress));
    for (;;) {
        if (s->sc->stop && *s->sc->stop) {
            rc = 1;
            break;
        }
        now = clk->now(clk->ud) - t0;
        if (now >= s->end_ns) {
            now = s->end_ns;
            break;
        }
        if (tty && now - shown >= 1000000000) {   /* a line a second */
            shown = now;
            fprintf(c->progress, "\rigniter serve: plan GPU %zu: %.0f / "
                    "%.0f s, %zu requests ", gpu + 1, (double)now / 1e9,
                    (double)s->end_ns / 1e9, s->nr);
            fflush(c->progress);
        }
        /* a control interval ended: its arrivals first, then the hook */
        if (P.ps && P.next_ctl < s->end_ns && now >= P.next_ctl) {
            if (arrivals(s, &P, gen, next, P.next_ctl - 1, now, err) < 0 ||
                control(s, &P, P.next_ctl, now, err) < 0) {
                rc = 2;
                break;
            }
            P.next_ctl += s->bind.iv_ns;
            continue;
        }
        /* instances the hook added join routing once started */
        for (size_t k = 0; k < P.n; k++) {
            slot *Q = &P.q[k];
            if (Q->activate && now >= Q->ready && Q->li >= 0) {
                Q->activate = 0;
                s->rr[Q->inst].active = 1;
                P.wtotal[Q->w] += s->rr[Q->inst].weight;
            }
        }
        /* completions: each freed instance takes its next batch at once */
        for (size_t k = 0; k < P.n && rc == 0; k++) {
            if (!P.q[k].busy)
                continue;
            int d = c->dev->poll(c->dev->ud, k, err);
            if (d < 0)
                rc = 2;
            else if (d > 0) {
                done(s, &P.q[k], now);
                feed_done(s, &P, &P.q[k]);
                int f = P.q[k].op ? finish_op(s, &P, k, err) : 0;
                if (f > 0)   /* refused: the shares as they were */
                    push_epoch(s, &P, P.k);
                if (f < 0 || launch(s, &P.q[k], k, now, err) < 0)
                    rc = 2;
            }
        }
        /* arrivals due, oldest first, as the simulator takes them */
        if (rc == 0 && arrivals(s, &P, gen, next, now, now, err) < 0)
            rc = 2;
        /* batcher timeouts */
        int64_t wake = s->end_ns;
        int busy = 0;
        for (size_t k = 0; k < P.n && rc == 0; k++) {
            slot *Q = &P.q[k];
            if (!Q->busy && launch(s, Q, k, now, err) < 0)
                rc = 2;
            if (Q->busy)
                busy = 1;
            else if (Q->li < 0)
                continue;   /* removed */
            else if (now < Q->ready || !s->rr[Q->inst].active) {
                if (Q->ready > now && Q->ready < wake)
                    wake = Q->ready;   /* changing or starting: until then */
            } else if (fe_batcher_deadline(&Q->q) < wake)
                wake = fe_batcher_deadline(&Q->q);
        }
        if (rc)
            break;
        for (size_t w = 0; w < s->nw; w++)
            if (next[w] < wake)
                wake = next[w];
        if (P.ps && P.next_ctl < wake)
            wake = P.next_ctl;
        if (busy && now + c->poll_ns < wake)
            wake = now + c->poll_ns;
        if (wake > now || busy)
            clk->wait_until(clk->ud, t0 + wake);
    }
    if (tty)
        fprintf(c->progress, "\r%70s\r", "");
    s->reached[gpu] = now;
    /* batches still running end before their instances stop; they are
     * not counted (the simulator does not count them either) */
    for (size_t k = 0; k < P.n; k++) {
        int64_t limit = clk->now(clk->ud) + 10000000000LL;
        ut_err e2;
        while (P.q[k].busy && clk->now(clk->ud) < limit) {
            int d = c->dev->poll(c->dev->ud, k, &e2);
            if (d != 0)
                break;
            clk->wait_until(clk->ud, clk->now(clk->ud) + 100000);
        }
    }
    c->dev->close(c->dev->ud);
out:
    for (size_t k = 0; k < P.n; k++) {
        fe_batcher_free(&P.q[k].q);
        free(P.q[k].tmp);
    }
    for (size_t w = 0; w < s->nw; w++) {
        trace_gen_free(gen[w]);
        free(P.winst[w]);
    }
    if (P.ps) {
        s->pol->runtime_free(P.ps);
        fe_rec_free(&P.lrec);
        pol_plan_free(&P.live);
    }
    free(P.winst);
    free(P.nwinst);
    free(P.wcap);
    free(P.wtotal);
    free(gen);
    free(next);
    free(P.q);
    return rc;
}

/* ---- the log, replayed into the recorder -------------------------------- */

enum { EV_DONE, EV_ARR, EV_DISP };

typedef struct rev {
    int64_t t;
    uint32_t kind;
    size_t id, seq;
} rev;

static int rev_cmp(const void *a, const void *b)
{
    const rev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The rows of interval k when a runtime hook changed the plan: the
 * plan's instances of every GPU no pass ran, and for each GPU a pass ran,
 * its live instances as they were during interval k (the latest epoch
 * of that GPU from k or before). */
static void epoch_rows(const srv *s, int64_t k, double *share, int *count,
                       int *maxb)
{
    size_t nw = s->nw;
    memset(share, 0, nw * sizeof *share);
    memset(count, 0, nw * sizeof *count);
    memset(maxb, 0, nw * sizeof *maxb);
    unsigned char *ran = ut_xcalloc(s->p->ngpus, 1);
    for (size_t e = 0; e < s->nep; e++)
        ran[s->ep[e].gpu] = 1;
    for (size_t i = 0; i < s->ninst; i++) {
        if (ran[s->inst_gpu[i]])
            continue;
        int w = s->inst_w[i];
        share[w] += s->inst_pi[i]->share_pct;
        count[w]++;
        if (s->inst_pi[i]->batch > maxb[w])
            maxb[w] = s->inst_pi[i]->batch;
    }
    for (size_t j = 0; j < s->p->ngpus; j++) {
        const epoch *E = NULL;
        for (size_t e = 0; e < s->nep; e++)
            if (s->ep[e].gpu == j && s->ep[e].k <= k)
                E = &s->ep[e];
        if (!E)
            continue;
        for (size_t w = 0; w < nw; w++) {
            share[w] += E->share[w];
            count[w] += E->count[w];
            if (E->maxb[w] > maxb[w])
                maxb[w] = E->maxb[w];
        }
    }
    free(ran);
}

/* Ends the recorder's current interval: its rows, then the next one. */
static void interval_end(const srv *s, fe_rec *rec, double *share,
                         int *count, int *maxb)
{
    if (s->nep)
        epoch_rows(s, rec->next_iv / rec->iv_ns - 1, share, count, maxb);
    fe_rec_interval_rows(rec, share, count, maxb);
    fe_rec_interval_reset(rec);
}

static void replay(srv *s, fe_rec *rec, int64_t end)
{
    size_t nev = s->nr + 2 * s->nb, m = 0;
    rev *ev = ut_xcalloc(nev ? nev : 1, sizeof *ev);
    for (size_t i = 0; i < s->nr; i++)
        ev[m] = (rev){s->r[i].t_arr, EV_ARR, i, m}, m++;
    for (size_t i = 0; i < s->nb; i++) {
        ev[m] = (rev){s->b[i].start, EV_DISP, i, m}, m++;
        if (s->b[i].end >= 0)
            ev[m] = (rev){s->b[i].end, EV_DONE, i, m}, m++;
    }
    qsort(ev, m, sizeof *ev, rev_cmp);
    double *share = ut_xcalloc(s->nw ? s->nw : 1, sizeof *share);
    int *count = ut_xcalloc(s->nw ? s->nw : 1, sizeof *count);
    int *maxb = ut_xcalloc(s->nw ? s->nw : 1, sizeof *maxb);
    for (size_t i = 0; i < s->ninst; i++) {
        share[s->inst_w[i]] += s->inst_pi[i]->share_pct;
        count[s->inst_w[i]]++;
        if (s->inst_pi[i]->batch > maxb[s->inst_w[i]])
            maxb[s->inst_w[i]] = s->inst_pi[i]->batch;
    }
    int64_t *arr = NULL;
    size_t acap = 0;
    for (size_t e = 0; e < m; e++) {
        while (ev[e].t >= rec->next_iv)
            interval_end(s, rec, share, count, maxb);
        if (ev[e].kind == EV_ARR) {
            const req *R = &s->r[ev[e].id];
            fe_rec_arrival(rec, R->w, R->t_arr, R->status == RQ_DROPPED);
            continue;
        }
        const batch *B = &s->b[ev[e].id];
        if ((size_t)B->k > acap) {
            acap = (size_t)B->k;
            arr = ut_xrealloc(arr, acap * sizeof *arr);
        }
        for (int j = 0; j < B->k; j++)
            arr[j] = s->r[s->ids[B->first + (size_t)j]].t_arr;
        int w = s->inst_w[B->inst];
        if (ev[e].kind == EV_DISP)
            fe_rec_dispatch(rec, w, arr, B->k, B->start);
        else
            fe_rec_complete(rec, w, arr, B->k, B->start, B->end, B->gpu,
                             B->inst);
    }
    while (rec->next_iv <= end)
        interval_end(s, rec, share, count, maxb);
    for (size_t i = 0; i < s->nr; i++)
        if (s->r[i].status == RQ_QUEUED || s->r[i].status == RQ_RUNNING)
            fe_rec_unfinished(rec, s->r[i].w, s->r[i].t_arr,
                               s->reached[s->inst_gpu[s->r[i].inst]]);
    free(arr);
    free(share);
    free(count);
    free(maxb);
    free(ev);
}

/* Fraction of [warm-up, reached] during which GPU j ran a batch. */
static double busy_frac(const srv *s, size_t j)
{
    int64_t from = s->warm_ns, to = s->reached[j];
    if (to <= from)
        return 0;
    /* batches of one GPU: their union (they may overlap across instances) */
    size_t n = 0;
    for (size_t i = 0; i < s->nb; i++)
        n += s->b[i].gpu == (int)j;
    int64_t (*iv)[2] = ut_xcalloc(n ? n : 1, sizeof *iv);
    n = 0;
    for (size_t i = 0; i < s->nb; i++)
        if (s->b[i].gpu == (int)j) {
            iv[n][0] = s->b[i].start;
            iv[n][1] = s->b[i].end >= 0 ? s->b[i].end : to;
            n++;
        }
    /* batches are logged in start order within a pass: already sorted */
    double busy = 0;
    int64_t cur0 = 0, cur1 = -1;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && iv[i][0] <= cur1) {
            if (iv[i][1] > cur1)
                cur1 = iv[i][1];
            continue;
        }
        if (cur1 > cur0) {
            int64_t a = cur0 > from ? cur0 : from, b = cur1 < to ? cur1 : to;
            if (b > a)
                busy += (double)(b - a);
        }
        if (i < n) {
            cur0 = iv[i][0];
            cur1 = iv[i][1];
        }
    }
    free(iv);
    return busy / (double)(to - from);
}

static void write_requests(const srv *s, ut_buf *b)
{
    static const char *const names[] = {"queued", "running", "done",
                                        "dropped"};
    ut_buf_printf(b, "workload,instance,gpu,arrival_ms,lateness_ms,"
                  "dispatch_ms,completion_ms,batch,status\n");
    for (size_t i = 0; i < s->nr; i++) {
        const req *R = &s->r[i];
        int started = R->status == RQ_RUNNING || R->status == RQ_DONE;
        char q[2 * POL_NAME_MAX + 4];
        ut_buf_printf(b, "%s,%d,%d,%.6f,%.6f,",
                      ut_csv(s->sc->wcfg[R->w].name, q, sizeof q),
                      R->inst, s->inst_gpu[R->inst], (double)R->t_arr / 1e6,
                      (double)R->late / 1e6);
        if (started)
            ut_buf_printf(b, "%.6f,", (double)R->t_disp / 1e6);
        else
            ut_buf_printf(b, ",");
        if (R->status == RQ_DONE)
            ut_buf_printf(b, "%.6f,", (double)R->t_done / 1e6);
        else
            ut_buf_printf(b, ",");
        ut_buf_printf(b, "%d,%s\n", started ? s->b[R->batch].k : 0,
                      names[R->status]);
    }
}

static char *serve_json(const srv *s, int complete)
{
    const srv_config *c = s->c;
    ut_buf b = {0};
    ut_buf_printf(&b, "\"serve\": {\"device\": ");
    ut_buf_json_str(&b, c->dev->name ? c->dev->name : "");
    ut_buf_printf(&b, ", \"mechanism\": ");
    ut_buf_json_str(&b, c->mechanism ? c->mechanism : "");
    ut_buf_printf(&b, ", \"one_gpu_at_a_time\": %s, \"passes\": [",
                  s->p->ngpus > 1 ? "true" : "false");
    size_t k = 0;
    for (size_t j = 0; j < s->p->ngpus; j++) {
        if (c->only_gpu >= 0 && (size_t)c->only_gpu != j)
            continue;
        ut_buf_printf(&b, "%s{\"gpu\": %zu, \"instances\": %zu, "
                      "\"reached_s\": %.6f}", k++ ? ", " : "", j,
                      s->p->gpus[j].n, (double)s->reached[j] / 1e9);
    }
    const fe_hist *h = &s->st->lateness;
    ut_buf_printf(&b, "],\n    \"lateness_ms\": {\"mean\": %.6f, \"p99\": "
                  "%.6f, \"max\": %.6f}, \"launches\": %llu",
                  fe_hist_mean(h) / 1e6,
                  (double)fe_hist_quantile(h, 0.99) / 1e6,
                  (double)(h->count ? h->max : 0) / 1e6,
                  (unsigned long long)s->st->launches);
    if (s->pol) {
        double sum = 0, max = 0;
        size_t nd = 0;
        for (size_t i = 0; i < s->nlog; i++)
            if (s->log[i].device_ms >= 0) {
                sum += s->log[i].device_ms;
                nd++;
                if (s->log[i].device_ms > max)
                    max = s->log[i].device_ms;
            }
        ut_buf_printf(&b, ",\n    \"runtime\": {\"policy\": ");
        ut_buf_json_str(&b, s->pol->name);
        ut_buf_printf(&b, ", \"reconfig_delay_s\": %.9g, \"asked\": %zu, "
                      "\"applied\": %zu, \"not_applied\": %zu, "
                      "\"device_ms\": {\"count\": %zu, \"mean\": %.3f, "
                      "\"max\": %.3f}, \"log\": \"reconfig.csv\"}",
                      (double)s->delay_ns / 1e9, s->nlog, s->st->reconfigs,
                      s->st->not_applied, nd, nd ? sum / (double)nd : 0, max);
    }
    if (!complete) {
        ut_buf_printf(&b, ", \"stopped\": ");
        ut_buf_json_str(&b, s->st->error ? s->st->error_msg
                                         : "interrupted");
    }
    ut_buf_printf(&b, "}");
    return b.s;
}

/* reconfig.csv: every change the hook asked for, applied or not. */
static void write_reconfigs(const srv *s, ut_buf *b)
{
    static const char *const kinds[] = {"set", "add", "remove"};
    ut_buf_printf(b, "time_s,pass_gpu,gpu,index,instance,workload,change,"
                  "hot,old_share_pct,new_share_pct,old_batch,new_batch,"
                  "applied,device_ms,ready_s,note\n");
    for (size_t i = 0; i < s->nlog; i++) {
        const rlog *L = &s->log[i];
        char q[2 * POL_NAME_MAX + 4], nq[2 * sizeof L->note + 4];
        ut_buf_printf(b, "%.6f,%zu,%zu,%zu,%d,%s,%s,%d,%.6g,%.6g,%d,%d,%d,",
                      (double)L->t / 1e9, L->pass, L->gpu, L->index, L->inst,
                      ut_csv(L->name, q, sizeof q),
                      L->kind >= 0 && L->kind <= 2 ? kinds[L->kind] : "?",
                      L->hot, L->old_share, L->new_share, L->old_batch,
                      L->new_batch, !L->note[0]);
        if (L->device_ms >= 0)
            ut_buf_printf(b, "%.3f,", L->device_ms);
        else
            ut_buf_printf(b, ",");
        if (L->ready >= 0)
            ut_buf_printf(b, "%.6f,", (double)L->ready / 1e9);
        else
            ut_buf_printf(b, ",");
        ut_buf_printf(b, "%s\n", ut_csv(L->note, nq, sizeof nq));
    }
}

/* ---- setup and the whole run -------------------------------------------- */

/* What serve checks beyond the run (fe_bind): the plan GPU asked for, and
 * batches the runner's buffers hold. */
static int check(srv *s, ut_err *err)
{
    const pol_plan *p = s->p;
    if (s->c->only_gpu >= 0 && (size_t)s->c->only_gpu >= p->ngpus)
        return ut_errf(err, "gpu: expected a plan GPU in 0..%zu, got %d",
                       p->ngpus - 1, s->c->only_gpu);
    for (size_t i = 0; i < s->ninst; i++) {
        const pol_instance *pi = s->inst_pi[i];
        if (pi->batch < 1 || pi->batch > 64)
            return ut_errf(err, "plan: gpus[%d].workloads[%d].batch: "
                           "expected 1..64, got %d", s->bind.inst_gpu[i],
                           s->bind.inst_slot[i], pi->batch);
    }
    return 0;
}

int srv_run(const srv_config *c, const char *out_dir, fe_result *res,
            srv_stats *st, ut_err *err)
{
    srv s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.sc = c->run;
    s.p = c->run->plan;
    s.nw = s.sc->nw;
    s.st = st;
    memset(st, 0, sizeof *st);
    fe_hist_init(&st->lateness);
    fe_result r;
    memset(&r, 0, sizeof r);
    fe_rec rec;
    memset(&rec, 0, sizeof rec);
    char *extra = NULL;
    int rc = -1;
    if (fe_bind(s.sc, &s.bind, err) < 0)
        goto out;
    s.ninst = s.ninst_all = s.bind.ninst;
    s.icap = s.ninst ? s.ninst : 1;
    s.inst_w = ut_xcalloc(s.icap, sizeof *s.inst_w);
    s.inst_gpu = ut_xcalloc(s.icap, sizeof *s.inst_gpu);
    s.rr = ut_xcalloc(s.icap, sizeof *s.rr);
    s.islot = ut_xcalloc(s.icap, sizeof *s.islot);
    memcpy(s.inst_w, s.bind.inst_w, s.ninst * sizeof *s.inst_w);
    memcpy(s.inst_gpu, s.bind.inst_gpu, s.ninst * sizeof *s.inst_gpu);
    memcpy(s.rr, s.bind.rr, s.ninst * sizeof *s.rr);
    s.inst_pi = s.bind.inst_pi;
    s.out = &rec;
    if (c->policy && c->policy->runtime) {
        s.pol = c->policy;
        if (!c->req) {
            ut_errf(err, "policy %s: its runtime hook needs the workloads "
                    "it planned (an experiment with a policy), not a plan "
                    "file", s.pol->name);
            goto out;
        }
        if (!c->dev->reconfigure) {
            ut_errf(err, "policy %s: its runtime hook changes instances at "
                    "run time, which the device %s cannot", s.pol->name,
                    c->dev->name ? c->dev->name : "");
            goto out;
        }
        if (!(c->reconfig_delay_s >= 0) ||
            !(c->reconfig_delay_s <= FE_MAX_DURATION_S)) {
            ut_errf(err, "reconfig_delay_s: expected seconds in [0, %g], "
                    "got %g", FE_MAX_DURATION_S, c->reconfig_delay_s);
            goto out;
        }
        s.delay_ns = llround(c->reconfig_delay_s * 1e9);
    }
    if (check(&s, err) < 0)
        goto out;
    if (c->dev->check && c->dev->check(c->dev->ud, s.p, err) < 0)
        goto out;
    s.end_ns = s.bind.end_ns;
    s.warm_ns = s.bind.warm_ns;
    s.reached = ut_xcalloc(s.p->ngpus, sizeof *s.reached);
    fe_rec_init_bound(&rec, s.sc, &s.bind);
    if (fe_rec_open(&rec, out_dir, s.p, err) < 0)
        goto out;
    int how = 0;
    for (size_t j = 0; j < s.p->ngpus; j++) {
        if (c->only_gpu >= 0 && (size_t)c->only_gpu != j)
            continue;
        ut_err e;
        how = pass(&s, j, &e);
        st->passes++;
        if (how == 2) {
            st->error = 1;
            snprintf(st->error_msg, sizeof st->error_msg, "plan GPU %zu: %s",
                     j, e.msg);
        }
        if (how)
            break;
    }
    int64_t end = 0;
    for (size_t j = 0; j < s.p->ngpus; j++)
        if (s.reached[j] > end)
            end = s.reached[j];
    replay(&s, &rec, end);
    r.complete = how == 0;
    r.sim_end_s = (double)end / 1e9;
    r.window_s = end > s.warm_ns ? (double)(end - s.warm_ns) / 1e9 : 0;
    r.nw = s.nw;
    r.w = rec.st;
    rec.st = NULL;
    r.ngpus = s.p->ngpus;
    r.gpu_busy = ut_xcalloc(r.ngpus, sizeof *r.gpu_busy);
    for (size_t j = 0; j < r.ngpus; j++) {
        r.gpu_busy[j] = busy_frac(&s, j);
        r.gpu_hours += fe_gpu_hours(0, s.reached[j]);
    }
    r.cost = r.gpu_hours * s.p->price_per_hour;
    r.events = s.nr;
    r.reconfigs = st->reconfigs;
    extra = serve_json(&s, r.complete);
    char backend[160];
    snprintf(backend, sizeof backend, "real (%s)",
             c->mechanism ? c->mechanism : "gpu");
    if (fe_write_results(s.sc, backend, &r, extra, out_dir, err) < 0)
        goto out;
    ut_buf b = {0};
    write_requests(&s, &b);
    char path[UT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/requests.csv", out_dir);
    int wrc = ut_write_atomic(path, b.s ? b.s : "", b.len, err);
    ut_buf_free(&b);
    if (wrc == 0 && s.pol) {
        ut_buf l = {0};
        write_reconfigs(&s, &l);
        snprintf(path, sizeof path, "%s/reconfig.csv", out_dir);
        wrc = ut_write_atomic(path, l.s ? l.s : "", l.len, err);
        ut_buf_free(&l);
    }
    if (wrc < 0 || fe_rec_commit(&rec, err) < 0)
        goto out;
    rc = how;
out:
    free(extra);
    fe_rec_free(&rec);
    fe_binding_free(&s.bind);
    free(s.r);
    free(s.b);
    free(s.ids);
    free(s.reached);
    free(s.inst_w);
    free(s.inst_gpu);
    free(s.rr);
    free(s.islot);
    free(s.log);
    for (size_t e = 0; e < s.nep; e++) {
        free(s.ep[e].share);
        free(s.ep[e].count);
        free(s.ep[e].maxb);
    }
    free(s.ep);
    if (rc >= 0 && res)
        *res = r;
    else
        fe_result_free(&r);
    if (rc < 0)
        fe_hist_free(&st->lateness);
    return rc;
}
