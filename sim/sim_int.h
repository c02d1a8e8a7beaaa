/*
 * sim_int.h - private to sim/: the engine's state, shared by the engine
 * (sim.c: the event heap, the arrivals' tournament, batches, interference,
 * setup and outputs) and the runtime changes of a policy's hook (reconf.c:
 * SET, ADD, REMOVE, and the GPUs rented and given back). Not part of
 * sim's API; nothing outside sim/sim.c and sim/reconf.c includes it.
 *
 * What the hot path calls and reconf.c needs too is here, static inline,
 * so that the engine's hot path is compiled as it was in one file: the
 * events' order and push, and a batch's start and speed (dispatch,
 * set_speed, rescale). Calls run one way: sim.c calls reconf.c (at an
 * interval's end, at EV_RECONF, when a removed instance's last batch
 * ends, at setup); reconf.c calls nothing of sim.c.
 */
#ifndef SIM_SIM_INT_H
#define SIM_SIM_INT_H

#include "sim/sim.h"
#include "sim/slowdown_int.h"

enum { EV_ARRIVAL, EV_DONE, EV_TIMEOUT, EV_RECONF, EV_SLOW };

typedef struct ev {
    int64_t t;
    uint64_t seq;
    uint32_t kind, id, gen;
} ev;

typedef struct heap {
    ev *a;
    size_t n, cap;
    uint64_t seq;             /* the next event's number, heap or not */
} heap;

/* The workloads' next arrivals: a loser tree over m leaves (the workloads,
 * then padding that never wins). */
typedef struct tourney {
    ev *key;                  /* [w]: its next arrival; none: NO_ARRIVAL */
    uint32_t *loser;          /* [node], nodes 1 to m - 1; [0]: the winner */
    size_t m;                 /* a power of 2, at least the workloads */
} tourney;

typedef struct inst {
    int w, gpu, batch;
    fe_batcher q;
    int busy, k;              /* running a batch of k requests */
    int64_t *cur;             /* their arrival times */
    int64_t start;
    double solo_ns, dur_ns, remaining;
    int64_t t_last;
    uint32_t gen, tgen;
    int64_t timeout_at;
    int slot;                 /* index in its GPU (and in the live plan) */
    int64_t hold_until;       /* reconfiguring: serves nothing before */
    int pending;              /* new settings wait for EV_RECONF */
    int new_batch;
    double new_share;
    int removed;              /* by the runtime hook: serves no more */
    int64_t wake_from;        /* a batch starting from then on starts idle
                                 (last batch's end + 1 ns; 0: none yet) */
    double memo_dur;          /* start_alone: the last duration rounded */
    int64_t memo_round_ns;    /* (0 at first: never a duration it rounds) */
} inst;

typedef struct gpu {
    int *inst;                /* its instances, removed ones until their
                                 last batch ends */
    size_t n, cap;
    int64_t created;          /* rented since (while open) */
    int open;                 /* rented now */
    int64_t paid_ns;          /* rented time before `created` */
    int nbusy;
    int64_t busy_since;
    double busy_ns;
} gpu;

typedef struct wstate {
    trace_gen *gen;
    int *inst;
    size_t ninst, cap;
    double total_weight;      /* of the active instances */
    int only;                 /* inst[0] when it is the only one, else -1
                                 (set_only): an arrival's instance without
                                 a load more on its path */
} wstate;

typedef struct sim {
    const sim_config *cfg;
    const sim_backend_ops *be;
    void *bs;
    heap h;
    tourney arr;
    int64_t end_ns, warm_ns, iv_ns;
    size_t ninst, ngpus, nw;
    inst *in;
    fe_wrr *rr;              /* routing weights, per instance */
    gpu *g;
    wstate *ws;
    fe_rec rec;              /* statistics and output files */
    fe_wstats *st;           /* rec.st */
    sim_active *act;
    double *fac;
    uint64_t events;
    size_t icap;              /* allocated instances (in, rr, act, fac) */
    pol_plan live;            /* the plan as reconfigured so far */
    void *ps;                 /* the policy's runtime state */
    int64_t delay_ns;
    size_t reconfigs;
    size_t open_gpus, peak_gpus;
    ut_err rt_err;            /* a bad runtime change ends the run */
    trace_files *files;       /* replayed trace files, shared by streams */
    int rt_failed;
    sim_slow slow;            /* slow-downs the planner did not predict */
} sim;

/* ---- event order and the heap's push ------------------------------------ */

/* (t, seq) before (t2, seq2), without short-circuits: the tournament
 * (sim.c) uses it without a branch (the heap's branches are no slower
 * either way). */
static inline int key_less(int64_t t, uint64_t seq, int64_t t2, uint64_t seq2)
{
    return (t < t2) | ((t == t2) & (seq < seq2));
}

static inline int ev_less(const ev *a, const ev *b)
{
    return key_less(a->t, a->seq, b->t, b->seq);
}

/* Inline (the compiler had kept it a call): a completion is pushed at
 * every batch, and an M/D/1 run went 2-4 % faster without the call. */
static inline void push(heap *h, int64_t t, uint32_t kind, uint32_t id,
                        uint32_t gen)
{
    UT_GROW(h->a, h->cap, h->n + 1);
    ev e = {t, h->seq++, kind, id, gen};
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&e, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = e;
}

/* ws->only from ws->inst, after any change of them. */
static inline void set_only(wstate *ws)
{
    ws->only = ws->ninst == 1 ? ws->inst[0] : -1;
}

/* ---- batches: started, sped up or slowed down ----------------------------- */

static inline void gpu_busy_change(sim *s, int g, int delta, int64_t now)
{
    gpu *G = &s->g[g];
    if (G->nbusy == 0 && delta > 0)
        G->busy_since = now;
    G->nbusy += delta;
    if (G->nbusy == 0) {
        int64_t from = G->busy_since > s->warm_ns ? G->busy_since : s->warm_ns;
        if (now > from)
            G->busy_ns += (double)(now - from);
    }
}

/* set_speed(s, i, I->solo_ns, now) for a batch that has just started on
 * a back end without interference (dur_ns 0, remaining 1: the time left
 * is 1 * dur, which is dur exactly), with the rounding of its duration to
 * the clock remembered per instance: a fixed service time, or one batch
 * size of a solo-only back end, gives the same double at every batch, and
 * rounding the same double gives the same integer, so the completion time
 * is the same (the rounding was a chain of dependent conversions at every
 * batch of an M/D/1 run). */
static inline void start_alone(sim *s, inst *I, int i, int64_t now)
{
    double dur = I->solo_ns;
    if (dur == 0)
        return;   /* as set_speed: the same speed as none, no completion */
    I->dur_ns = dur;
    int64_t done;
    if (dur == I->memo_dur)
        done = now + I->memo_round_ns;
    else if (dur < 4e18) {
        I->memo_dur = dur;
        I->memo_round_ns = trace_round_ns(dur);
        done = now + I->memo_round_ns;
    } else
        done = INT64_MAX / 2;
    push(&s->h, done, EV_DONE, (uint32_t)i, ++I->gen);
}

/* Starts a batch if the batcher says so; the caller rescales the GPU
 * (which, for a back end without interference, this has done: a new batch
 * is the only one whose speed a change of the running set can change). */
static inline int dispatch(sim *s, int i, int64_t now)
{
    inst *I = &s->in[i];
    if (!s->rr[i].active || now < I->hold_until)
        return 0;
    int k = fe_batcher_take(&I->q, now, I->cur);
    if (k == 0) {
        int64_t dl = fe_batcher_deadline(&I->q);
        if (dl != INT64_MAX && dl != I->timeout_at && dl < s->end_ns) {
            I->timeout_at = dl;
            push(&s->h, dl, EV_TIMEOUT, (uint32_t)i, ++I->tgen);
        }
        return 0;
    }
    I->timeout_at = INT64_MIN;
    I->busy = 1;
    I->k = k;
    I->start = now;
    I->t_last = now;
    I->remaining = 1;
    I->dur_ns = 0;
    I->solo_ns = s->be->solo_ns(s->bs, i, k);
    if (s->slow.factor)
        I->solo_ns *= s->slow.factor[I->w];
    if (s->slow.wake_ns && now >= I->wake_from)   /* started idle */
        I->solo_ns += (double)s->slow.wake_ns[I->w];
    fe_rec_dispatch(&s->rec, I->w, I->cur, k, now);
    gpu_busy_change(s, I->gpu, +1, now);
    if (s->be->no_interference)
        start_alone(s, I, i, now);
    return 1;
}

/* The busy test inline: most arrivals of a loaded instance find it
 * busy, and the call alone cost more than the test. */
static inline int try_dispatch(sim *s, int i, int64_t now)
{
    return s->in[i].busy ? 0 : dispatch(s, i, now);
}

/* Instance i's running batch goes on from now at a speed that would take
 * dur ns for the whole batch: its progress so far, at the old speed, is
 * kept, and its completion is scheduled anew unless the speed is the
 * same. */
static inline void set_speed(sim *s, int i, double dur, int64_t now)
{
    inst *I = &s->in[i];
    if (I->dur_ns > 0 && I->t_last < now) {
        I->remaining -= (double)(now - I->t_last) / I->dur_ns;
        if (I->remaining < 0)
            I->remaining = 0;
        I->t_last = now;
    }
    if (dur == I->dur_ns)
        return;   /* same speed: the pending completion stands */
    I->dur_ns = dur;
    I->t_last = now;
    /* a batch that cannot end within any run (a share near 0, a back
     * end's infinity) ends after the run: never, as far as it knows */
    double left = I->remaining * dur;
    int64_t done = left < 4e18 ? now + trace_round_ns(left) : INT64_MAX / 2;
    push(&s->h, done, EV_DONE, (uint32_t)i, ++I->gen);
}

/* The set of batches running on GPU g has changed: each one's speed
 * follows the back end's factors for the new set. Without interference
 * every factor is 1, so nothing changes but a new batch's, which
 * try_dispatch has set: the GPU is not even walked. */
static inline void rescale_gpu(sim *s, int g, int64_t now)
{
    gpu *G = &s->g[g];
    size_t n = 0;
    for (size_t j = 0; j < G->n; j++) {
        const inst *I = &s->in[G->inst[j]];
        if (I->busy) {
            s->act[n].inst = G->inst[j];
            s->act[n].batch = I->k;
            n++;
        }
    }
    if (n == 0)
        return;
    s->be->factors(s->bs, s->act, n, s->fac);
    for (size_t j = 0; j < n; j++) {
        int i = s->act[j].inst;
        set_speed(s, i, s->in[i].solo_ns * s->fac[j], now);
    }
}

/* The test inline, at every batch's start and end: the call alone was 3 %
 * of an M/D/1 run, whose back end has no interference. */
static inline void rescale(sim *s, int g, int64_t now)
{
    if (!s->be->no_interference)
        rescale_gpu(s, g, now);
}

/* ---- runtime changes, for the engine (reconf.c) ------------------------- */

/* The instance arrays (in, rr, act, fac) hold at least need; the new
 * entries of in and rr are zero. */
void sim_grow_instances(sim *s, size_t need);
/* GPU j is rented from t on (the plan's GPUs at 0). */
void sim_gpu_open(sim *s, int j, int64_t t);
/* Removed instance i's last batch has ended: it leaves its GPU, which is
 * given back when nothing is left on it. */
void sim_leave_gpu(sim *s, int i, int64_t now);
/* EV_RECONF: instance i's reconfiguration delay is over. */
void sim_reconf_done(sim *s, int i, int64_t t);
/* The policy's runtime hook sees the interval that ends at t and its
 * changes are checked and scheduled; a change that breaks a plan's rules
 * sets s->rt_failed and s->rt_err, and the hook is not called again. */
void sim_control(sim *s, int64_t t);

#endif
