/*
 * batcher.c - the dynamic batcher as a pure state machine (frontend.h): no clock
 * of its own, no events; the simulator and the real provisioner both drive
 * it, so both batch identically.
 */
#include "frontend/frontend.h"

#include <stdlib.h>

void fe_batcher_init(fe_batcher *b, int batch, int64_t max_delay_ns,
                      size_t limit)
{
    b->q = NULL;
    b->cap = b->head = b->len = 0;
    b->limit = limit ? limit : FE_DEFAULT_QUEUE_LIMIT;
    b->batch = batch < 1 ? 1 : batch;
    b->max_delay_ns = max_delay_ns < 0 ? 0 : max_delay_ns;
}

void fe_batcher_free(fe_batcher *b)
{
    free(b->q);
    b->q = NULL;
    b->cap = b->len = b->head = 0;
}

/* Makes room for one more request: the ring doubles, up to `limit` when
 * `capped` (arrivals), past it when not (fe_batcher_requeue). */
static void make_room(fe_batcher *b, int capped)
{
    if (b->len < b->cap)
        return;
    size_t cap = b->cap ? 2 * b->cap : 16;
    if (capped && cap > b->limit)
        cap = b->limit;
    int64_t *q = ut_xmalloc(cap * sizeof *q);
    for (size_t i = 0; i < b->len; i++)
        q[i] = b->q[(b->head + i) % b->cap];
    free(b->q);
    b->q = q;
    b->cap = cap;
    b->head = 0;
}

/* The ring grows by doubling up to the limit, so an idle workload costs
 * nothing and an overloaded one is bounded. */
int fe_batcher_push(fe_batcher *b, int64_t t)
{
    if (b->len >= b->limit)
        return -1;
    if (b->len >= b->cap)   /* the test inline: a call per arrival else */
        make_room(b, 1);
    size_t pos = b->head + b->len;
    if (pos >= b->cap)
        pos -= b->cap;
    b->q[pos] = t;
    b->len++;
    return 0;
}

/* Insertion from the back: requeued requests come in arrival order, so
 * each moves past only the newer arrivals of this queue. */
void fe_batcher_requeue(fe_batcher *b, int64_t t)
{
    make_room(b, 0);
    size_t k = b->len++;
    while (k > 0) {
        size_t prev = (b->head + k - 1) % b->cap;
        if (b->q[prev] <= t)
            break;
        b->q[(b->head + k) % b->cap] = b->q[prev];
        k--;
    }
    b->q[(b->head + k) % b->cap] = t;
}

static inline int ready(const fe_batcher *b, int64_t now)
{
    if (b->len == 0)
        return 0;
    if (b->len >= (size_t)b->batch)
        return b->batch;
    if (now - b->q[b->head] >= b->max_delay_ns)
        return (int)b->len;
    return 0;
}

int fe_batcher_ready(const fe_batcher *b, int64_t now)
{
    return ready(b, now);
}

int64_t fe_batcher_deadline(const fe_batcher *b)
{
    if (b->len == 0)
        return INT64_MAX;
    return b->q[b->head] + b->max_delay_ns;
}

void fe_batcher_pop(fe_batcher *b, int k, int64_t *out)
{
    for (int i = 0; i < k && b->len; i++) {
        out[i] = b->q[b->head];
        if (++b->head == b->cap)
            b->head = 0;
        b->len--;
    }
}

/* A batch of one (most of them at batch 1, and every one of an M/D/1
 * run) is the head, moved without fe_batcher_pop's loop. */
int fe_batcher_take(fe_batcher *b, int64_t now, int64_t *out)
{
    int k = ready(b, now);
    if (k == 1) {
        out[0] = b->q[b->head];
        if (++b->head == b->cap)
            b->head = 0;
        b->len--;
    } else if (k > 1)
        fe_batcher_pop(b, k, out);
    return k;
}
