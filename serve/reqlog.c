/*
 * reqlog.c - the request log of `igniter serve` (serve_int.h): every
 * request and batch of the run, each instance's queue as a list through
 * the log in the batcher's order, and a batch launched on the device and
 * seen done. What the host loop (serve.c) and the runtime hook's changes
 * (runtime.c) both use.
 */
#include "serve/serve_int.h"

#include <stdlib.h>
#include <string.h>

size_t srv_add_req(srv *s)
{
    UT_GROW(s->r, s->rcap, s->nr + 1);
    memset(&s->r[s->nr], 0, sizeof s->r[s->nr]);
    return s->nr++;
}

/* At least `more` free entries in the request log, its batch log and its
 * request ids (a batch has at least one request). */
void srv_reserve(srv *s, size_t more)
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

void srv_queue_push(srv *s, slot *q, size_t id)
{
    s->r[id].next = NO_REQ;
    if (q->qtail != NO_REQ)
        s->r[q->qtail].next = id;
    else
        q->qhead = id;
    q->qtail = id;
}

size_t srv_queue_pop(srv *s, slot *q)
{
    size_t id = q->qhead;
    q->qhead = s->r[id].next;
    if (q->qhead == NO_REQ)
        q->qtail = NO_REQ;
    return id;
}

/* ---- a batch on the device ---------------------------------------------- */

/* Starts a batch on slot q (device instance dk) if the batcher says so
 * and nothing holds it: 1 started, 0 not, -1 a device error. */
int srv_launch(srv *s, slot *q, size_t dk, int64_t now, ut_err *err)
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
        size_t id = srv_queue_pop(s, q);
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

void srv_done(srv *s, slot *q, int64_t now)
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
