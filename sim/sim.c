/*
 * sim.c - the simulation engine (sim.h).
 *
 * Events: an arrival per workload stream (one pending at a time, kept in
 * a tournament tree of its own), a batch completion per instance, a
 * batcher timeout per instance (in a heap). Completions and timeouts carry
 * a generation number; rescheduling bumps it, so a stale event is
 * recognised and skipped instead of being searched for and removed from
 * the heap. Every event is numbered from one counter as it is scheduled,
 * and they run in (time, number) order, wherever they are kept.
 *
 * Overlap-aware interference: every batch carries the fraction of its work
 * still to do. When the set of batches running on a GPU changes (one starts
 * or finishes), each running batch's progress is brought up to now at its
 * old speed, the back end gives the new set's slow-downs, and each
 * completion is rescheduled at the new speed. Two always-busy co-located
 * workloads thus run at exactly the back end's pair latency, a lone one at
 * its solo latency, and anything in between is weighted by actual overlap.
 * A completion restarts its instance (if work is queued) before the GPU is
 * rescaled, so back-to-back batches do not reschedule their neighbours.
 *
 * This file is the engine: the event heap and the arrivals' tournament,
 * batches started, rescaled and completed, the two loops (run_loop, and
 * run_lone for a single-server queue), setup and the outputs. A policy's
 * runtime changes (its hook, SET, ADD, REMOVE, GPUs rented and given
 * back) are in reconf.c; the state both share, the events' order and
 * push, and a batch's start and speed (dispatch, set_speed, rescale) are
 * in sim_int.h, inline, since reconf.c starts and rescales batches too.
 */
#include "sim/sim_int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- event heap: (t, seq) min-heap --------------------------------------- */

/* The order (key_less, ev_less) and push are in sim_int.h: reconf.c
 * schedules reconfigurations with push. */

/* Puts e at the root's place and sifts it down over the first h->n
 * events. Inline: an event passed by value went through the stack,
 * written field by field and read back 16 bytes at a time, a failed store
 * forwarding at every call (6 % of an M/D/1 run when arrivals came
 * through here). */
static inline void sift_down(heap *h, ev e)
{
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ev_less(&h->a[c + 1], &h->a[c]))
            c++;
        if (!ev_less(&h->a[c], &e))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    h->a[i] = e;
}

static ev pop(heap *h)
{
    ev top = h->a[0], last = h->a[--h->n];
    if (h->n)
        sift_down(h, last);
    return top;
}

/* ---- arrivals: a tournament tree ----------------------------------------- */

/* Arrivals are most events, and each workload has one pending at a time,
 * so they wait in a loser tree instead of the heap, which keeps only
 * completions, timeouts and reconfigurations: replacing the first arrival
 * replays its leaf's path to the root, one comparison a level against the
 * loser kept there, made without a branch (a heap's sift-down makes two a
 * level, mostly mispredicted). Measured: an M/D/1 run 10 % faster (its
 * arrivals no longer pass through the heap), the paper's 12 workloads
 * about 3 %, 10,000 random workloads the same within the noise. */
static const ev NO_ARRIVAL = {INT64_MAX, UINT64_MAX, EV_ARRIVAL, 0, 0};

/* The tree over key[0..nw) (NO_ARRIVAL where none), which it takes. */
static void tourney_build(tourney *T, ev *key, size_t nw)
{
    T->m = 1;
    while (T->m < nw)
        T->m *= 2;
    T->key = ut_xrealloc(key, T->m * sizeof *key);
    for (size_t w = nw; w < T->m; w++)
        T->key[w] = NO_ARRIVAL;
    T->loser = ut_xmalloc(T->m * sizeof *T->loser);
    uint32_t *win = ut_xmalloc(2 * T->m * sizeof *win);
    for (size_t w = 0; w < T->m; w++)
        win[T->m + w] = (uint32_t)w;
    for (size_t node = T->m - 1; node > 0; node--) {
        uint32_t a = win[2 * node], b = win[2 * node + 1];
        int b_first = ev_less(&T->key[b], &T->key[a]);
        win[node] = b_first ? b : a;
        T->loser[node] = b_first ? a : b;
    }
    T->loser[0] = win[1];
    free(win);
}

/* The first arrival (NO_ARRIVAL's time when none is left). */
static const ev *tourney_first(const tourney *T)
{
    return &T->key[T->loser[0]];
}

/* The first arrival, workload w's, is replaced by e. The winner so far
 * and its key are kept in registers, chosen by masks (the compiler made
 * branches of conditionals), so that a level's loads (the loser kept
 * there, its key) wait on nothing but the path (reloading the winner's
 * key at every level: the 12-workload run 3 % slower). */
static void tourney_replace_first(tourney *T, uint32_t w, ev e)
{
    T->key[w] = e;
    uint32_t win = w;
    uint64_t win_t = (uint64_t)e.t, win_seq = e.seq;
    for (size_t node = (T->m + w) / 2; node > 0; node /= 2) {
        uint32_t l = T->loser[node];
        uint64_t l_t = (uint64_t)T->key[l].t, l_seq = T->key[l].seq;
        /* all ones when the loser kept here comes first */
        uint64_t swap = -(uint64_t)key_less((int64_t)l_t, l_seq,
                                            (int64_t)win_t, win_seq);
        uint32_t swap32 = (uint32_t)swap;
        T->loser[node] = (win & swap32) | (l & ~swap32);
        win = (l & swap32) | (win & ~swap32);
        win_t = (l_t & swap) | (win_t & ~swap);
        win_seq = (l_seq & swap) | (win_seq & ~swap);
    }
    T->loser[0] = win;
}

/* The earliest event: the first arrival or the heap's top. */
static const ev *first_event(const sim *s)
{
    const ev *a = tourney_first(&s->arr);
    return s->h.n && ev_less(&s->h.a[0], a) ? &s->h.a[0] : a;
}

/* ---- timeseries and trace ------------------------------------------------- */

/* Planned (committed) share of workload w's instances, their count and
 * the largest planned batch among them (runtime policies change both). */
static double workload_share(const sim *s, size_t w, int *count, int *batch)
{
    const wstate *ws = &s->ws[w];
    double share = 0;
    *count = 0;
    *batch = 0;
    for (size_t j = 0; j < ws->ninst; j++) {
        const inst *I = &s->in[ws->inst[j]];
        const pol_instance *pi = &s->live.gpus[I->gpu].inst[I->slot];
        share += pi->share_pct;
        if (pi->batch > *batch)
            *batch = pi->batch;
        (*count)++;
    }
    return share;
}

/* Ends the interval that finishes at rec.next_iv: one timeseries row per
 * workload, then the policy's runtime hook sees the same interval. */
static void flush_one(sim *s, int with_control)
{
    double *share = ut_xcalloc(s->nw, sizeof *share);
    int *count = ut_xcalloc(s->nw, sizeof *count);
    int *batch = ut_xcalloc(s->nw, sizeof *batch);
    for (size_t w = 0; w < s->nw; w++)
        share[w] = workload_share(s, w, &count[w], &batch[w]);
    fe_rec_interval_rows(&s->rec, share, count, batch);
    free(share);
    free(count);
    free(batch);
    if (with_control)
        sim_control(s, s->rec.next_iv);
    fe_rec_interval_reset(&s->rec);
}

/* ---- the engine ------------------------------------------------------------ */

/* A batch's start and speed (dispatch, try_dispatch, set_speed, rescale)
 * are in sim_int.h. */

static void complete(sim *s, int i, int64_t now)
{
    inst *I = &s->in[i];
    fe_rec_complete(&s->rec, I->w, I->cur, I->k, I->start, now, I->gpu, i);
    I->busy = 0;
    I->dur_ns = 0;
    I->wake_from = now + 1;
    gpu_busy_change(s, I->gpu, -1, now);
    if (I->removed)
        sim_leave_gpu(s, i, now);
    else
        try_dispatch(s, i, now);
    rescale(s, I->gpu, now);
}

/* The first arrival (still first while it runs: whatever it schedules
 * comes after it, at now or later with a later number); the workload's
 * next arrival, numbered after those, takes its place. */
static void arrival(sim *s, int w, int64_t now)
{
    wstate *ws = &s->ws[w];
    /* one instance: fe_wrr_pick's own first test, without the call */
    int i = ws->only >= 0 ? ws->only
                          : fe_wrr_pick(s->rr, ws->inst, ws->ninst,
                                        ws->total_weight);
    int dropped = fe_batcher_push(&s->in[i].q, now) < 0;
    fe_rec_arrival(&s->rec, w, now, dropped);
    if (!dropped && try_dispatch(s, i, now)) {
        rescale(s, s->in[i].gpu, now);
    }
    int64_t next = trace_gen_next(ws->gen);
    assert(s->arr.loser[0] == (uint32_t)w && s->arr.key[w].t == now);
    tourney_replace_first(&s->arr, (uint32_t)w,
                          next < s->end_ns
                              ? (ev){next < now ? now : next, s->h.seq++,
                                     EV_ARRIVAL, (uint32_t)w, 0}
                              : NO_ARRIVAL);
}

static void run_loop(sim *s, int64_t *stopped_at)
{
    const sim_config *cfg = s->cfg;
    for (;;) {
        const ev *top = first_event(s);
        if (top->t >= s->end_ns)
            break;
        if ((++s->events & 0xffff) == 0) {
            if (cfg->run.stop && *cfg->run.stop) {
                *stopped_at = top->t;
                return;
            }
            if (cfg->progress)
                cfg->progress(cfg->progress_ud, top->t, s->end_ns,
                              s->rec.requests);
        }
        if (top->t >= s->rec.next_iv) {
            flush_one(s, 1);
            if (s->rt_failed) {
                *stopped_at = s->rec.next_iv - s->iv_ns;
                return;
            }
            continue;
        }
        if (top->kind == EV_ARRIVAL) {   /* it replaces itself */
            arrival(s, (int)top->id, top->t);
            continue;
        }
        ev e = pop(&s->h);
        switch (e.kind) {
        case EV_DONE:
            if (e.gen == s->in[e.id].gen && s->in[e.id].busy)
                complete(s, (int)e.id, e.t);
            break;
        case EV_TIMEOUT:
            if (e.gen != s->in[e.id].tgen)
                break;
            s->in[e.id].timeout_at = INT64_MIN;
            if (try_dispatch(s, (int)e.id, e.t))
                rescale(s, s->in[e.id].gpu, e.t);
            break;
        case EV_RECONF:
            sim_reconf_done(s, (int)e.id, e.t);
            break;
        case EV_SLOW:
            sim_slow_update(&s->slow, &cfg->run, e.t);
            break;
        }
    }
    *stopped_at = s->end_ns;
}

/* ---- the lone queue: one server, one request a batch ---------------------- */

/*
 * A run that is a single-server queue (an M/D/1 or M/G/1 run: one
 * workload, one instance of batch 1, a back end without interference, no
 * runtime hook, no slow-down or wake cost, no reconfiguration) has at
 * most two events pending, the next arrival and the running batch's
 * completion, and nothing else ever schedules one: batch 1 starts as soon
 * as a request waits, so no timeout is set, and no GPU is rescaled.
 * run_lone is run_loop for that case with both events in registers
 * instead of the tournament and the heap: the same events, numbered from
 * the same counter in the same order and run in the same (time, number)
 * order, the same calls to the batcher, the recorder, the back end and
 * the arrival generator, with the same arguments in the same order; what
 * it leaves out is what a lone queue never needs (routing, generation
 * numbers, a timeout, a progress kept for rescaling). The outputs are the
 * same bytes (tests/test_fastpath_lone.c runs both loops, through
 * sim_config.general_loop); an M/D/1 run takes 23 % fewer instructions
 * (callgrind) and about 20 % less time.
 */
static int lone_queue(const sim *s)
{
    const inst *I = &s->in[0];
    return !s->cfg->general_loop && s->nw == 1 && s->ninst == 1 &&
           s->ws[0].ninst == 1 && s->be->no_interference && !s->ps &&
           I->batch == 1 && I->q.batch == 1 && !I->busy && !I->removed &&
           s->rr[0].active && I->hold_until <= 0 && s->h.n == 0 &&
           s->slow.nedges == 0 && !s->slow.factor && !s->slow.wake_ns;
}

/* dispatch(s, 0, now) and its start_alone for the lone queue: a request
 * waiting starts at once; its completion, when it has one, in *done_t,
 * numbered *done_seq. */
static inline void lone_start(sim *s, inst *I, int64_t now, int64_t *done_t,
                              uint64_t *done_seq)
{
    if (!fe_batcher_take(&I->q, now, I->cur))
        return;   /* batch 1: nothing waits, and no timeout to set */
    I->busy = 1;
    I->k = 1;
    I->start = now;
    I->solo_ns = s->be->solo_ns(s->bs, 0, 1);
    fe_rec_dispatch(&s->rec, I->w, I->cur, 1, now);
    gpu_busy_change(s, I->gpu, +1, now);
    double dur = I->solo_ns;
    if (dur == 0)
        return;   /* as start_alone: no completion */
    if (dur == I->memo_dur)
        *done_t = now + I->memo_round_ns;
    else if (dur < 4e18) {
        I->memo_dur = dur;
        I->memo_round_ns = trace_round_ns(dur);
        *done_t = now + I->memo_round_ns;
    } else
        *done_t = INT64_MAX / 2;
    *done_seq = s->h.seq++;
}

/* run_loop for a lone queue (lone_queue(s)). */
static void run_lone(sim *s, int64_t *stopped_at)
{
    const sim_config *cfg = s->cfg;
    inst *I = &s->in[0];
    trace_gen *gen = s->ws[0].gen;
    /* the next arrival and the completion: NO_ARRIVAL's key when none */
    int64_t arr_t = s->arr.key[0].t, done_t = NO_ARRIVAL.t;
    uint64_t arr_seq = s->arr.key[0].seq, done_seq = NO_ARRIVAL.seq;
    for (;;) {
        /* first_event: the heap's top only when it comes first */
        int done_first = key_less(done_t, done_seq, arr_t, arr_seq);
        int64_t now = done_first ? done_t : arr_t;
        if (now >= s->end_ns)
            break;
        if ((++s->events & 0xffff) == 0) {
            if (cfg->run.stop && *cfg->run.stop) {
                *stopped_at = now;
                return;
            }
            if (cfg->progress)
                cfg->progress(cfg->progress_ud, now, s->end_ns,
                              s->rec.requests);
        }
        if (now >= s->rec.next_iv) {
            flush_one(s, 1);   /* no runtime hook: nothing can fail */
            continue;
        }
        if (done_first) {   /* complete(s, 0, now) */
            done_t = NO_ARRIVAL.t;
            done_seq = NO_ARRIVAL.seq;
            fe_rec_complete(&s->rec, I->w, I->cur, 1, I->start, now, I->gpu,
                            0);
            I->busy = 0;
            I->wake_from = now + 1;
            gpu_busy_change(s, I->gpu, -1, now);
            lone_start(s, I, now, &done_t, &done_seq);
            continue;
        }
        /* arrival(s, 0, now) */
        int dropped = fe_batcher_push(&I->q, now) < 0;
        fe_rec_arrival(&s->rec, I->w, now, dropped);
        if (!dropped && !I->busy)
            lone_start(s, I, now, &done_t, &done_seq);
        int64_t next = trace_gen_next(gen);
        if (next < s->end_ns) {
            arr_t = next < now ? now : next;
            arr_seq = s->h.seq++;
        } else {
            arr_t = NO_ARRIVAL.t;
            arr_seq = NO_ARRIVAL.seq;
        }
    }
    *stopped_at = s->end_ns;
}

/* ---- setup ---------------------------------------------------------------- */

static void sim_free(sim *s)
{
    if (s->be && s->bs)
        s->be->free(s->bs);
    for (size_t i = 0; i < s->ninst; i++) {
        fe_batcher_free(&s->in[i].q);
        free(s->in[i].cur);
    }
    for (size_t j = 0; j < s->ngpus; j++)
        free(s->g[j].inst);
    for (size_t w = 0; w < s->nw; w++) {
        trace_gen_free(s->ws[w].gen);
        free(s->ws[w].inst);
    }
    trace_files_free(s->files);
    sim_slow_free(&s->slow);
    fe_rec_free(&s->rec);
    if (s->ps)
        s->cfg->policy->runtime_free(s->ps);
    if (s->live.gpus)
        pol_plan_free(&s->live);
    free(s->in);
    free(s->rr);
    free(s->g);
    free(s->ws);
    free(s->act);
    free(s->fac);
    free(s->h.a);
    free(s->arr.key);
    free(s->arr.loser);
}

/* Builds instances, GPUs, workload states and the back end; checks that
 * the plan and the settings agree. Nothing is written yet. */
static int setup(sim *s, const sim_config *c, ut_err *err)
{
    const fe_run *run = &c->run;
    const pol_plan *p = run->plan;
    s->cfg = c;
    s->be = sim_backend_find(c->backend);
    if (!s->be) {
        char names[128];
        return ut_errf(err, "backend: expected one of %s, got \"%s\"",
                       sim_backend_names(names, sizeof names), c->backend);
    }
    if (!(c->reconfig_delay_s < 0) &&
        !(c->reconfig_delay_s <= FE_MAX_DURATION_S))
        return ut_errf(err, "reconfig_delay_s: expected seconds up to %g, "
                       "got %g", FE_MAX_DURATION_S, c->reconfig_delay_s);
    fe_binding b;
    if (fe_bind(run, &b, err) < 0)
        return -1;
    for (size_t j = 0; j < p->ngpus; j++)
        if (p->gpus[j].n > MDL_MAX_COLOC) {
            fe_binding_free(&b);
            return ut_errf(err, "plan: gpus[%zu]: expected at most %d "
                           "workloads, got %zu", j, MDL_MAX_COLOC,
                           p->gpus[j].n);
        }
    s->end_ns = b.end_ns;
    s->warm_ns = b.warm_ns;
    s->iv_ns = b.iv_ns;
    s->nw = run->nw;
    fe_rec_init_bound(&s->rec, run, &b);
    s->st = s->rec.st;
    s->ngpus = p->ngpus;
    s->ninst = b.ninst;
    sim_grow_instances(s, s->ninst ? s->ninst : 1);
    s->g = ut_xcalloc(p->ngpus, sizeof *s->g);
    s->ws = ut_xcalloc(s->nw, sizeof *s->ws);
    s->delay_ns = llround((c->reconfig_delay_s >= 0 ? c->reconfig_delay_s
                                                    : SIM_DEFAULT_RECONFIG_S) *
                          1e9);
    /* the live plan: a deep copy the runtime hook sees and changes */
    s->live = *p;
    s->live.gpus = ut_xcalloc(p->ngpus, sizeof *s->live.gpus);
    for (size_t j = 0; j < p->ngpus; j++) {
        s->live.gpus[j] = p->gpus[j];
        s->live.gpus[j].inst = ut_xcalloc(p->gpus[j].n ? p->gpus[j].n : 1,
                                          sizeof *p->gpus[j].inst);
        memcpy(s->live.gpus[j].inst, p->gpus[j].inst,
               p->gpus[j].n * sizeof *p->gpus[j].inst);
    }
    for (size_t j = 0; j < p->ngpus; j++) {
        size_t n = p->gpus[j].n;
        s->g[j].inst = ut_xcalloc(n ? n : 1, sizeof *s->g[j].inst);
        s->g[j].n = n;
        s->g[j].cap = n ? n : 1;
        sim_gpu_open(s, (int)j, 0);
    }
    for (size_t w = 0; w < s->nw; w++) {
        wstate *ws = &s->ws[w];
        /* its own instances only; a runtime policy's grow (UT_GROW) */
        ws->cap = b.nwinst[w] ? b.nwinst[w] : 1;
        ws->inst = ut_xcalloc(ws->cap, sizeof *ws->inst);
        ws->ninst = b.nwinst[w];
        memcpy(ws->inst, b.winst[w], ws->ninst * sizeof *ws->inst);
        set_only(ws);
        ws->total_weight = b.wtotal[w];
    }
    sim_inst_desc *desc = ut_xcalloc(s->ninst ? s->ninst : 1, sizeof *desc);
    for (size_t i = 0; i < s->ninst; i++) {
        const pol_instance *pi = b.inst_pi[i];
        const fe_workload_cfg *wc = &run->wcfg[b.inst_w[i]];
        inst *I = &s->in[i];
        I->w = b.inst_w[i];
        I->gpu = b.inst_gpu[i];
        I->slot = b.inst_slot[i];
        I->batch = pi->batch;
        I->timeout_at = INT64_MIN;
        I->cur = ut_xcalloc((size_t)pi->batch, sizeof *I->cur);
        fe_batcher_init(&I->q, pi->batch, fe_batch_delay_ns(wc, pi->slo_ms),
                        wc->queue_limit);
        s->rr[i] = b.rr[i];
        s->g[I->gpu].inst[I->slot] = (int)i;
        desc[i] = (sim_inst_desc){pi->name, pi->model, pi->share_pct,
                                  wc->service_ms, wc->service_exp,
                                  wc->service_cv};
    }
    s->files = b.files;   /* the replayed files, loaded once by fe_bind */
    b.files = NULL;
    fe_binding_free(&b);
    int rc = 0;
    for (size_t w = 0; w < s->nw && rc == 0; w++) {
        s->ws[w].gen = trace_gen_new_shared(&run->wcfg[w].arrivals,
                                            run->seed, run->wcfg[w].name,
                                            s->files, err);
        if (!s->ws[w].gen)
            rc = ut_errprefix(err, "workload \"%s\": arrivals",
                              run->wcfg[w].name);
    }
    if (rc == 0) {
        sim_backend_args a = {c->fit, c->measured, desc, s->ninst, run->seed};
        rc = s->be->init(&a, &s->bs, err);
    }
    if (rc == 0 && c->policy && c->policy->runtime) {
        if (!c->req)
            rc = ut_errf(err, "policy %s: its runtime hook needs the "
                         "workloads it planned (an experiment with a "
                         "policy), not a plan file", c->policy->name);
        else
            s->ps = c->policy->runtime_new(c->req, &s->live);
    }
    free(desc);
    if (rc < 0)
        return -1;
    /* the slow-downs' edges first: at a tie they come before anything */
    sim_slow_init(&s->slow, run, s->end_ns);
    for (size_t k = 0; k < s->slow.nedges; k++)
        push(&s->h, s->slow.edge_ns[k], EV_SLOW, (uint32_t)k, 0);
    ev *first = ut_xmalloc((s->nw ? s->nw : 1) * sizeof *first);
    for (size_t w = 0; w < s->nw; w++) {
        int64_t t = trace_gen_next(s->ws[w].gen);
        first[w] = t < s->end_ns
                       ? (ev){t, s->h.seq++, EV_ARRIVAL, (uint32_t)w, 0}
                       : NO_ARRIVAL;
    }
    tourney_build(&s->arr, first, s->nw);
    return 0;
}

/* ---- outputs ---------------------------------------------------------------- */

static void finish(sim *s, int64_t end, fe_result *r)
{
    r->sim_end_s = (double)end / 1e9;
    r->window_s = (double)(end - s->warm_ns) / 1e9;
    if (r->window_s < 0)
        r->window_s = 0;
    /* requests still in the system: their time so far counts for L */
    for (size_t i = 0; i < s->ninst; i++) {
        inst *I = &s->in[i];
        for (size_t k = 0; k < I->q.len; k++)
            fe_rec_unfinished(&s->rec, I->w,
                               I->q.q[(I->q.head + k) % I->q.cap], end);
        if (I->busy) {
            for (int k = 0; k < I->k; k++)
                fe_rec_unfinished(&s->rec, I->w, I->cur[k], end);
            gpu_busy_change(s, I->gpu, -1, end);
        }
    }
    r->ngpus = s->ngpus;
    r->gpu_busy = ut_xcalloc(s->ngpus, sizeof *r->gpu_busy);
    for (size_t j = 0; j < s->ngpus; j++)
        r->gpu_busy[j] = r->window_s > 0 ? s->g[j].busy_ns / 1e9 / r->window_s
                                         : 0;
    r->nw = s->nw;
    r->w = s->rec.st;
    s->rec.st = s->st = NULL;
    r->events = s->events;
    double price = s->cfg->run.plan->price_per_hour;
    r->gpu_hours = 0;
    for (size_t j = 0; j < s->ngpus; j++)
        r->gpu_hours += fe_gpu_hours(0, s->g[j].paid_ns) +
                        (s->g[j].open ? fe_gpu_hours(s->g[j].created, end)
                                      : 0);
    r->peak_gpus = s->peak_gpus;
    r->cost = r->gpu_hours * price;
    r->reconfigs = s->reconfigs;
}

int sim_run(const sim_config *cfg, const char *out_dir, fe_result *res,
            ut_err *err)
{
    sim s;
    memset(&s, 0, sizeof s);
    fe_result r;
    memset(&r, 0, sizeof r);
    int rc = -1;
    if (setup(&s, cfg, err) < 0)
        goto out;
    if (fe_rec_open(&s.rec, out_dir, cfg->run.plan, err) < 0)
        goto out;
    int64_t end;
    if (lone_queue(&s))
        run_lone(&s, &end);
    else
        run_loop(&s, &end);
    if (s.rt_failed) {
        *err = s.rt_err;
        goto out;
    }
    r.complete = end == s.end_ns;
    while (s.rec.next_iv <= end)
        flush_one(&s, 0);
    finish(&s, end, &r);
    rc = fe_write_results(&cfg->run, s.be->name, &r, NULL, out_dir, err);
    if (rc == 0)
        rc = fe_rec_commit(&s.rec, err);
out:
    sim_free(&s);
    if (rc == 0 && res)
        *res = r;
    else
        fe_result_free(&r);
    return rc;
}
