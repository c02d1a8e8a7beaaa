/*
 * sim.c - the simulation engine (sim.h).
 *
 * Events: an arrival per workload stream (one pending at a time), a batch
 * completion per instance, a batcher timeout per instance. Completions and
 * timeouts carry a generation number; rescheduling bumps it, so a stale
 * event is recognised and skipped instead of being searched for and
 * removed from the heap.
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
 */
#include "sim/sim.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EV_ARRIVAL, EV_DONE, EV_TIMEOUT, EV_RECONF };

typedef struct ev {
    int64_t t;
    uint64_t seq;
    uint32_t kind, id, gen;
} ev;

typedef struct heap {
    ev *a;
    size_t n, cap;
    uint64_t seq;
} heap;

typedef struct inst {
    int w, gpu, batch;
    sim_batcher q;
    double weight, current;   /* smooth weighted round robin */
    int busy, k;              /* running a batch of k requests */
    int64_t *cur;             /* their arrival times */
    int64_t start;
    double solo_ns, dur_ns, remaining;
    int64_t t_last;
    uint32_t gen, tgen;
    int64_t timeout_at;
    int slot;                 /* index in its GPU (and in the live plan) */
    int active;               /* routed to and dispatching */
    int64_t hold_until;       /* reconfiguring: serves nothing before */
    int pending;              /* new settings wait for EV_RECONF */
    int new_batch;
    double new_share;
} inst;

typedef struct gpu {
    int *inst;
    size_t n, cap;
    int64_t created;
    int nbusy;
    int64_t busy_since;
    double busy_ns;
} gpu;

typedef struct wstate {
    trace_gen *gen;
    int *inst;
    size_t ninst, cap;
    double total_weight;      /* of the active instances */
    int64_t slo_ns;
    uint64_t iv_arr, iv_done, iv_viol, iv_drop;
    sim_hist *iv;
} wstate;

typedef struct sim {
    const sim_config *cfg;
    const sim_backend_ops *be;
    void *bs;
    heap h;
    int64_t end_ns, warm_ns, iv_ns, next_iv;
    size_t ninst, ngpus, nw;
    inst *in;
    gpu *g;
    wstate *ws;
    sim_wstats *st;
    sim_active *act;
    double *fac;
    FILE *ts, *tr;
    size_t trace_n;
    uint64_t events, requests;
    size_t icap;              /* allocated instances (in, act, fac) */
    pol_plan live;            /* the plan as reconfigured so far */
    void *ps;                 /* the policy's runtime state */
    int64_t delay_ns;
    size_t reconfigs;
    ut_err rt_err;            /* a bad runtime change ends the run */
    int rt_failed;
} sim;

/* ---- event heap: (t, seq) min-heap --------------------------------------- */

static int ev_less(const ev *a, const ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(heap *h, int64_t t, uint32_t kind, uint32_t id, uint32_t gen)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->a = ut_xrealloc(h->a, h->cap * sizeof *h->a);
    }
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

static ev pop(heap *h)
{
    ev top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ev_less(&h->a[c + 1], &h->a[c]))
            c++;
        if (!ev_less(&h->a[c], &last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

/* ---- timeseries and trace ------------------------------------------------- */

/* Planned (committed) share of workload w's instances, and their count. */
static double workload_share(const sim *s, size_t w, int *count)
{
    const wstate *ws = &s->ws[w];
    double share = 0;
    *count = 0;
    for (size_t j = 0; j < ws->ninst; j++) {
        const inst *I = &s->in[ws->inst[j]];
        share += s->live.gpus[I->gpu].inst[I->slot].share_pct;
        (*count)++;
    }
    return share;
}

static void control(sim *s, int64_t t);

/* Ends the interval that finishes at s->next_iv: one timeseries row per
 * workload, then the policy's runtime hook sees the same interval. */
static void flush_one(sim *s, int with_control)
{
    double t0 = (double)(s->next_iv - s->iv_ns) / 1e9;
    for (size_t w = 0; w < s->nw; w++) {
        wstate *ws = &s->ws[w];
        int count;
        double share = workload_share(s, w, &count);
        fprintf(s->ts, "%.9g,%s,%llu,%llu,%.6f,%llu,%.6g,%d\n", t0,
                s->st[w].name, (unsigned long long)ws->iv_arr,
                (unsigned long long)ws->iv_done,
                (double)sim_hist_quantile(ws->iv, 0.99) / 1e6,
                (unsigned long long)ws->iv_viol, share, count);
    }
    if (with_control)
        control(s, s->next_iv);
    for (size_t w = 0; w < s->nw; w++) {
        wstate *ws = &s->ws[w];
        ws->iv_arr = ws->iv_done = ws->iv_viol = ws->iv_drop = 0;
        sim_hist_reset(ws->iv);
    }
    s->next_iv += s->iv_ns;
}

static void trace_slice(sim *s, int i, int64_t now)
{
    const inst *I = &s->in[i];
    if (!s->tr || s->trace_n >= s->cfg->trace_max)
        return;
    fprintf(s->tr, ",\n{\"name\":\"%s b=%d\",\"ph\":\"X\",\"pid\":%d,"
            "\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"batch\":%d}}",
            s->st[I->w].name, I->k, I->gpu, i, (double)I->start / 1e3,
            (double)(now - I->start) / 1e3, I->k);
    s->trace_n++;
}

/* ---- the engine ------------------------------------------------------------ */

static void gpu_busy_change(sim *s, int g, int delta, int64_t now)
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

/* Starts a batch if the batcher says so; the caller rescales the GPU. */
static int try_dispatch(sim *s, int i, int64_t now)
{
    inst *I = &s->in[i];
    if (I->busy || !I->active || now < I->hold_until)
        return 0;
    int k = sim_batcher_ready(&I->q, now);
    if (k == 0) {
        int64_t dl = sim_batcher_deadline(&I->q);
        if (dl != INT64_MAX && dl != I->timeout_at && dl < s->end_ns) {
            I->timeout_at = dl;
            push(&s->h, dl, EV_TIMEOUT, (uint32_t)i, ++I->tgen);
        }
        return 0;
    }
    sim_batcher_pop(&I->q, k, I->cur);
    I->timeout_at = INT64_MIN;
    I->busy = 1;
    I->k = k;
    I->start = now;
    I->t_last = now;
    I->remaining = 1;
    I->dur_ns = 0;
    I->solo_ns = s->be->solo_ns(s->bs, i, k);
    if (now >= s->warm_ns) {
        s->st[I->w].batches++;
        s->st[I->w].batch_items += (uint64_t)k;
    }
    for (int j = 0; j < k; j++)
        if (I->cur[j] >= s->warm_ns)
            s->st[I->w].queue_ns_sum += (double)(now - I->cur[j]);
    gpu_busy_change(s, I->gpu, +1, now);
    return 1;
}

static void rescale(sim *s, int g, int64_t now)
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
        inst *I = &s->in[i];
        if (I->dur_ns > 0 && I->t_last < now) {
            I->remaining -= (double)(now - I->t_last) / I->dur_ns;
            if (I->remaining < 0)
                I->remaining = 0;
            I->t_last = now;
        }
        double dur = I->solo_ns * s->fac[j];
        if (dur == I->dur_ns)
            continue;   /* same speed: the pending completion stands */
        I->dur_ns = dur;
        I->t_last = now;
        int64_t done = now + llround(I->remaining * dur);
        push(&s->h, done, EV_DONE, (uint32_t)i, ++I->gen);
    }
}

static void complete(sim *s, int i, int64_t now)
{
    inst *I = &s->in[i];
    sim_wstats *st = &s->st[I->w];
    wstate *ws = &s->ws[I->w];
    trace_slice(s, i, now);
    for (int j = 0; j < I->k; j++) {
        int64_t lat = now - I->cur[j];
        ws->iv_done++;
        sim_hist_add(ws->iv, lat);
        if (lat > ws->slo_ns)
            ws->iv_viol++;
        if (I->cur[j] < s->warm_ns)
            continue;
        st->completed++;
        sim_hist_add(&st->lat, lat);
        st->area_ns += (double)lat;
        if (lat > ws->slo_ns)
            st->violations++;
    }
    if (I->start >= s->warm_ns) {
        st->service_ns_sum += (double)(now - I->start);
        st->service_batches++;
    }
    s->requests += (uint64_t)I->k;
    I->busy = 0;
    I->dur_ns = 0;
    gpu_busy_change(s, I->gpu, -1, now);
    try_dispatch(s, i, now);
    rescale(s, I->gpu, now);
}

/* Smooth weighted round robin over the workload's instances by planned
 * rate: deterministic, and as even as integer counts allow. */
static int route(sim *s, int w)
{
    wstate *ws = &s->ws[w];
    if (ws->ninst == 1)
        return ws->inst[0];
    int best = -1;
    for (size_t j = 0; j < ws->ninst; j++) {
        inst *I = &s->in[ws->inst[j]];
        if (!I->active)
            continue;
        I->current += I->weight;
        if (best < 0 || I->current > s->in[best].current)
            best = ws->inst[j];
    }
    if (best < 0)
        return ws->inst[0];
    s->in[best].current -= ws->total_weight;
    return best;
}

static void arrival(sim *s, int w, int64_t now)
{
    wstate *ws = &s->ws[w];
    int i = route(s, w);
    ws->iv_arr++;
    if (now >= s->warm_ns)
        s->st[w].arrived++;
    if (sim_batcher_push(&s->in[i].q, now) < 0) {
        ws->iv_drop++;
        if (now >= s->warm_ns)
            s->st[w].dropped++;
    } else if (try_dispatch(s, i, now)) {
        rescale(s, s->in[i].gpu, now);
    }
    int64_t next = trace_gen_next(ws->gen);
    if (next < s->end_ns)
        push(&s->h, next < now ? now : next, EV_ARRIVAL, (uint32_t)w, 0);
}

/* ---- runtime reconfiguration ------------------------------------------- */

static void grow_instances(sim *s, size_t need)
{
    if (need <= s->icap)
        return;
    size_t cap = s->icap ? 2 * s->icap : 16;
    while (cap < need)
        cap *= 2;
    s->in = ut_xrealloc(s->in, cap * sizeof *s->in);
    s->act = ut_xrealloc(s->act, cap * sizeof *s->act);
    s->fac = ut_xrealloc(s->fac, cap * sizeof *s->fac);
    memset(s->in + s->icap, 0, (cap - s->icap) * sizeof *s->in);
    s->icap = cap;
}

static void push_int(int **a, size_t *n, size_t *cap, int v)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        *a = ut_xrealloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

static const sim_workload_cfg *wcfg_of(const sim *s, int w)
{
    return &s->cfg->wcfg[w];
}

static sim_inst_desc desc_of(const sim *s, int i, double share)
{
    const inst *I = &s->in[i];
    const sim_workload_cfg *wc = wcfg_of(s, I->w);
    sim_inst_desc d = {s->st[I->w].name, s->st[I->w].model, share,
                       wc->service_ms, wc->service_exp};
    return d;
}

/* New share and batch take effect: the running batch (if any) keeps its
 * own duration; the next one uses them. */
static int apply_settings(sim *s, int i, int batch, double share, int64_t t,
                          ut_err *err)
{
    inst *I = &s->in[i];
    if (batch > I->batch)
        I->cur = ut_xrealloc(I->cur, (size_t)batch * sizeof *I->cur);
    I->batch = batch;
    I->q.batch = batch;
    sim_inst_desc d = desc_of(s, i, share);
    if (s->be->set(s->bs, i, &d, err) < 0)
        return -1;
    rescale(s, I->gpu, t);
    return 0;
}

/* The reconfiguration delay of instance i is over. */
static void reconf_done(sim *s, int i, int64_t t)
{
    inst *I = &s->in[i];
    if (I->pending) {
        I->pending = 0;
        if (apply_settings(s, i, I->new_batch, I->new_share, t,
                           &s->rt_err) < 0) {
            s->rt_failed = 1;
            return;
        }
    }
    if (!I->active) {
        I->active = 1;
        s->ws[I->w].total_weight += I->weight;
    }
    if (try_dispatch(s, i, t))
        rescale(s, I->gpu, t);
}

static double committed_share(const sim *s, size_t j)
{
    double sum = 0;
    for (size_t k = 0; k < s->live.gpus[j].n; k++)
        sum += s->live.gpus[j].inst[k].share_pct;
    return sum;
}

static int add_gpu(sim *s, int64_t t)
{
    size_t j = s->ngpus++;
    s->g = ut_xrealloc(s->g, s->ngpus * sizeof *s->g);
    memset(&s->g[j], 0, sizeof s->g[j]);
    s->g[j].created = t;
    s->live.gpus = ut_xrealloc(s->live.gpus, s->ngpus * sizeof *s->live.gpus);
    memset(&s->live.gpus[j], 0, sizeof s->live.gpus[j]);
    snprintf(s->live.gpus[j].type, sizeof s->live.gpus[j].type, "%s",
             s->live.gpu_type);
    s->live.ngpus = s->ngpus;
    return (int)j;
}

/* Checks one change against the invariants every plan keeps (a known
 * instance or workload, batch >= 1, share in (0, 100], a GPU's shares
 * adding up to at most 100 %) and schedules it. A policy that breaks them
 * ends the run with an error naming it: its plans would not be real. */
static int apply_reconf(sim *s, const pol_reconfig *r, int64_t t, ut_err *err)
{
    const char *pn = s->cfg->policy->name;
    if (r->batch < 1 || r->batch > 4096 || !(r->share_pct > 0) ||
        r->share_pct > 100)
        return ut_errf(err, "policy %s: runtime change: expected a batch in "
                       "1..4096 and a share in (0, 100], got batch %d, share "
                       "%g", pn, r->batch, r->share_pct);
    int64_t ready = r->hot ? t : t + s->delay_ns;
    if (r->kind == POL_RECONF_SET) {
        if (r->gpu >= s->live.ngpus || r->index >= s->live.gpus[r->gpu].n)
            return ut_errf(err, "policy %s: runtime change: no instance %zu on "
                           "GPU %zu", pn, r->index, r->gpu);
        pol_instance *pi = &s->live.gpus[r->gpu].inst[r->index];
        double total = committed_share(s, r->gpu) - pi->share_pct +
                       r->share_pct;
        if (total > 100 + 1e-9)
            return ut_errf(err, "policy %s: runtime change: GPU %zu would "
                           "hold %g %%, expected at most 100", pn, r->gpu,
                           total);
        pi->share_pct = r->share_pct;
        pi->batch = r->batch;
        int i = s->g[r->gpu].inst[r->index];
        inst *I = &s->in[i];
        I->pending = 1;
        I->new_batch = r->batch;
        I->new_share = r->share_pct;
        if (ready > I->hold_until)
            I->hold_until = ready;
        push(&s->h, ready, EV_RECONF, (uint32_t)i, 0);
        s->reconfigs++;
        return 0;
    }
    size_t w = 0;
    while (w < s->nw && strcmp(s->st[w].name, r->name))
        w++;
    if (w == s->nw)
        return ut_errf(err, "policy %s: runtime change: no workload \"%s\"",
                       pn, r->name);
    if (r->gpu > s->live.ngpus)
        return ut_errf(err, "policy %s: runtime change: no GPU %zu (there "
                       "are %zu)", pn, r->gpu, s->live.ngpus);
    if (r->gpu < s->live.ngpus &&
        committed_share(s, r->gpu) + r->share_pct > 100 + 1e-9)
        return ut_errf(err, "policy %s: runtime change: GPU %zu would hold "
                       "%g %%, expected at most 100", pn, r->gpu,
                       committed_share(s, r->gpu) + r->share_pct);
    if (r->gpu < s->live.ngpus && s->g[r->gpu].n >= MDL_MAX_COLOC)
        return ut_errf(err, "policy %s: runtime change: GPU %zu has %d "
                       "instances already", pn, r->gpu, MDL_MAX_COLOC);
    int j = r->gpu == s->live.ngpus ? add_gpu(s, t) : (int)r->gpu;
    grow_instances(s, s->ninst + 1);
    int i = (int)s->ninst++;
    inst *I = &s->in[i];
    memset(I, 0, sizeof *I);
    I->w = (int)w;
    I->gpu = j;
    I->batch = r->batch;
    I->weight = r->rate_rps > 0 ? r->rate_rps : 1;
    I->timeout_at = INT64_MIN;
    I->hold_until = ready;
    I->cur = ut_xcalloc((size_t)r->batch, sizeof *I->cur);
    const sim_workload_cfg *wc = wcfg_of(s, (int)w);
    double delay_ms = wc->max_delay_ms >= 0 ? wc->max_delay_ms
                                            : s->st[w].slo_ms / 2;
    sim_batcher_init(&I->q, r->batch, llround(delay_ms * 1e6), wc->queue_limit);
    sim_inst_desc d = desc_of(s, i, r->share_pct);
    if (s->be->set(s->bs, i, &d, err) < 0)
        return -1;
    gpu *G = &s->g[j];
    I->slot = (int)G->n;
    push_int(&G->inst, &G->n, &G->cap, i);
    wstate *ws = &s->ws[w];
    push_int(&ws->inst, &ws->ninst, &ws->cap, i);
    s->st[w].instances++;
    pol_gpu *lg = &s->live.gpus[j];
    lg->inst = ut_xrealloc(lg->inst, (lg->n + 1) * sizeof *lg->inst);
    pol_instance *pi = &lg->inst[lg->n++];
    memset(pi, 0, sizeof *pi);
    snprintf(pi->name, sizeof pi->name, "%s", s->st[w].name);
    snprintf(pi->model, sizeof pi->model, "%s", s->st[w].model);
    pi->batch = r->batch;
    pi->share_pct = r->share_pct;
    pi->rate_rps = r->rate_rps;
    pi->slo_ms = s->st[w].slo_ms;
    push(&s->h, ready, EV_RECONF, (uint32_t)i, 0);
    s->reconfigs++;
    return 0;
}

static void control(sim *s, int64_t t)
{
    if (!s->ps || s->rt_failed)
        return;
    pol_observation *obs = ut_xcalloc(s->nw, sizeof *obs);
    double len_s = (double)s->iv_ns / 1e9;
    for (size_t w = 0; w < s->nw; w++) {
        const wstate *ws = &s->ws[w];
        pol_observation *o = &obs[w];
        o->name = s->st[w].name;
        o->slo_ms = s->st[w].slo_ms;
        o->arrival_rps = (double)ws->iv_arr / len_s;
        o->p99_ms = (double)sim_hist_quantile(ws->iv, 0.99) / 1e6;
        o->mean_ms = sim_hist_mean(ws->iv) / 1e6;
        o->completed = ws->iv_done;
        o->violations = ws->iv_viol;
        o->dropped = ws->iv_drop;
        o->violation_pct = ws->iv_done ? 100.0 * (double)ws->iv_viol /
                                             (double)ws->iv_done
                                       : 0;
        for (size_t j = 0; j < ws->ninst; j++)
            o->queued += s->in[ws->inst[j]].q.len;
    }
    pol_reconfig out[POL_MAX_RECONF];
    size_t n = 0;
    s->cfg->policy->runtime(s->ps, (double)t / 1e9, &s->live, obs, s->nw,
                            out, &n);
    free(obs);
    if (n > POL_MAX_RECONF)
        n = POL_MAX_RECONF;
    for (size_t k = 0; k < n; k++)
        if (apply_reconf(s, &out[k], t, &s->rt_err) < 0) {
            s->rt_failed = 1;
            return;
        }
}

static void run_loop(sim *s, int64_t *stopped_at)
{
    const sim_config *cfg = s->cfg;
    while (s->h.n && s->h.a[0].t < s->end_ns) {
        if ((++s->events & 0xffff) == 0) {
            if (cfg->stop && *cfg->stop) {
                *stopped_at = s->h.a[0].t;
                return;
            }
            if (cfg->progress)
                cfg->progress(cfg->progress_ud, s->h.a[0].t, s->end_ns,
                              s->requests);
        }
        if (s->h.a[0].t >= s->next_iv) {
            flush_one(s, 1);
            if (s->rt_failed) {
                *stopped_at = s->next_iv - s->iv_ns;
                return;
            }
            continue;
        }
        ev e = pop(&s->h);
        switch (e.kind) {
        case EV_ARRIVAL:
            arrival(s, (int)e.id, e.t);
            break;
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
            reconf_done(s, (int)e.id, e.t);
            break;
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
        sim_batcher_free(&s->in[i].q);
        free(s->in[i].cur);
    }
    for (size_t j = 0; j < s->ngpus; j++)
        free(s->g[j].inst);
    for (size_t w = 0; w < s->nw; w++) {
        trace_gen_free(s->ws[w].gen);
        free(s->ws[w].inst);
        free(s->ws[w].iv);
    }
    if (s->ps)
        s->cfg->policy->runtime_free(s->ps);
    if (s->live.gpus)
        pol_plan_free(&s->live);
    free(s->in);
    free(s->g);
    free(s->ws);
    free(s->st);
    free(s->act);
    free(s->fac);
    free(s->h.a);
}

static int check_config(const sim_config *c, ut_err *err)
{
    if (!(c->duration_s > 0) || !isfinite(c->duration_s) ||
        c->duration_s > 1e7)
        return ut_errf(err, "duration_s: expected a positive number of "
                       "seconds, got %g", c->duration_s);
    if (!(c->warmup_s >= 0) || c->warmup_s >= c->duration_s)
        return ut_errf(err, "warmup_s: expected a number in [0, duration_s = "
                       "%g), got %g", c->duration_s, c->warmup_s);
    if (c->interval_s < 0 || (c->interval_s > 0 &&
                              c->duration_s / c->interval_s > 1e7))
        return ut_errf(err, "interval_s: expected a positive number of "
                       "seconds, at most 1e7 intervals, got %g", c->interval_s);
    if (!c->plan || c->plan->ngpus == 0)
        return ut_errf(err, "plan: expected at least one GPU, got none");
    return 0;
}

/* Builds instances, GPUs, workload states and the back end; checks that
 * the plan and the settings agree. Nothing is written yet. */
static int setup(sim *s, const sim_config *c, ut_err *err)
{
    const pol_plan *p = c->plan;
    s->cfg = c;
    s->be = sim_backend_find(c->backend);
    if (!s->be) {
        char names[128];
        return ut_errf(err, "backend: expected one of %s, got \"%s\"",
                       sim_backend_names(names, sizeof names), c->backend);
    }
    if (check_config(c, err) < 0)
        return -1;
    s->end_ns = llround(c->duration_s * 1e9);
    s->warm_ns = llround(c->warmup_s * 1e9);
    s->iv_ns = llround((c->interval_s > 0 ? c->interval_s : 1) * 1e9);
    s->next_iv = s->iv_ns;
    s->nw = c->nw;
    s->ngpus = p->ngpus;
    for (size_t j = 0; j < p->ngpus; j++)
        s->ninst += p->gpus[j].n;
    grow_instances(s, s->ninst ? s->ninst : 1);
    s->g = ut_xcalloc(p->ngpus, sizeof *s->g);
    s->ws = ut_xcalloc(s->nw, sizeof *s->ws);
    s->st = ut_xcalloc(s->nw, sizeof *s->st);
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
    sim_inst_desc *desc = ut_xcalloc(s->ninst ? s->ninst : 1, sizeof *desc);
    for (size_t w = 0; w < s->nw; w++) {
        snprintf(s->st[w].name, sizeof s->st[w].name, "%s", c->wcfg[w].name);
        sim_hist_reset(&s->st[w].lat);
        s->ws[w].iv = ut_xmalloc(sizeof *s->ws[w].iv);
        sim_hist_reset(s->ws[w].iv);
        s->ws[w].cap = s->ninst ? s->ninst : 1;
        s->ws[w].inst = ut_xcalloc(s->ws[w].cap, sizeof *s->ws[w].inst);
        for (size_t v = 0; v < w; v++)
            if (!strcmp(c->wcfg[v].name, c->wcfg[w].name)) {
                free(desc);
                return ut_errf(err, "workload \"%s\": expected unique names, "
                               "got it twice", c->wcfg[w].name);
            }
    }
    size_t i = 0;
    int rc = 0;
    for (size_t j = 0; j < p->ngpus && rc == 0; j++) {
        const pol_gpu *pg = &p->gpus[j];
        s->g[j].inst = ut_xcalloc(pg->n ? pg->n : 1, sizeof *s->g[j].inst);
        s->g[j].n = pg->n;
        s->g[j].cap = pg->n ? pg->n : 1;
        if (pg->n > MDL_MAX_COLOC)
            rc = ut_errf(err, "plan: gpus[%zu]: expected at most %d "
                         "workloads, got %zu", j, MDL_MAX_COLOC, pg->n);
        for (size_t k = 0; k < pg->n && rc == 0; k++, i++) {
            const pol_instance *pi = &pg->inst[k];
            size_t w = 0;
            while (w < s->nw && strcmp(c->wcfg[w].name, pi->name))
                w++;
            if (w == s->nw) {
                rc = ut_errf(err, "plan: gpus[%zu].workloads[%zu]: workload "
                             "\"%s\" has no arrival settings (not in the "
                             "workloads)", j, k, pi->name);
                break;
            }
            const sim_workload_cfg *wc = &c->wcfg[w];
            inst *I = &s->in[i];
            I->w = (int)w;
            I->gpu = (int)j;
            I->batch = pi->batch;
            I->weight = pi->rate_rps;
            I->timeout_at = INT64_MIN;
            I->slot = (int)k;
            I->active = 1;
            I->cur = ut_xcalloc((size_t)pi->batch, sizeof *I->cur);
            double delay_ms = wc->max_delay_ms >= 0 ? wc->max_delay_ms
                                                    : pi->slo_ms / 2;
            sim_batcher_init(&I->q, pi->batch, llround(delay_ms * 1e6),
                             wc->queue_limit);
            s->g[j].inst[k] = (int)i;
            wstate *ws = &s->ws[w];
            ws->inst[ws->ninst++] = (int)i;
            ws->total_weight += pi->rate_rps;
            ws->slo_ns = llround(pi->slo_ms * 1e6);
            sim_wstats *st = &s->st[w];
            snprintf(st->model, sizeof st->model, "%s", pi->model);
            st->slo_ms = pi->slo_ms;
            st->rate_rps = wc->arrivals.rate_rps;
            st->instances++;
            desc[i] = (sim_inst_desc){pi->name, pi->model, pi->share_pct,
                                      wc->service_ms, wc->service_exp};
        }
    }
    for (size_t w = 0; w < s->nw && rc == 0; w++) {
        if (s->ws[w].ninst == 0) {
            rc = ut_errf(err, "workload \"%s\": expected an instance in the "
                         "plan, got none", c->wcfg[w].name);
            break;
        }
        s->ws[w].gen = trace_gen_new(&c->wcfg[w].arrivals, c->seed,
                                     c->wcfg[w].name, err);
        if (!s->ws[w].gen)
            rc = ut_errprefix(err, "workload \"%s\": arrivals",
                              c->wcfg[w].name);
    }
    if (rc == 0) {
        sim_backend_args a = {c->fit, c->measured, desc, s->ninst, c->seed};
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
    for (size_t w = 0; w < s->nw; w++) {
        int64_t t = trace_gen_next(s->ws[w].gen);
        if (t < s->end_ns)
            push(&s->h, t, EV_ARRIVAL, (uint32_t)w, 0);
    }
    return 0;
}

/* ---- outputs ---------------------------------------------------------------- */

/* A file in out_dir written through a temporary name and renamed when it
 * is complete, so that a reader never sees half of it. */
typedef struct outfile {
    char path[TRACE_PATH_MAX + 32], tmp[TRACE_PATH_MAX + 48];
    FILE *f;
} outfile;

static int out_open(outfile *o, const char *dir, const char *name,
                    ut_err *err)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmpXXXXXX", dir, name);
    int fd = mkstemp(o->tmp);
    if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        o->f = NULL;
        return ut_errf(err, "cannot write '%s': %s", o->path, strerror(errno));
    }
    return 0;
}

static int out_commit(outfile *o, ut_err *err)
{
    int bad = ferror(o->f) | (fflush(o->f) != 0) | (fsync(fileno(o->f)) != 0);
    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad || rename(o->tmp, o->path) < 0) {
        unlink(o->tmp);
        return ut_errf(err, "cannot write '%s': %s", o->path, strerror(errno));
    }
    return 0;
}

static void out_abort(outfile *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
        unlink(o->tmp);
    }
}

static void finish(sim *s, int64_t end, sim_result *r)
{
    r->sim_end_s = (double)end / 1e9;
    r->window_s = (double)(end - s->warm_ns) / 1e9;
    if (r->window_s < 0)
        r->window_s = 0;
    /* requests still in the system: their time so far counts for L */
    for (size_t i = 0; i < s->ninst; i++) {
        inst *I = &s->in[i];
        sim_wstats *st = &s->st[I->w];
        for (size_t k = 0; k < I->q.len; k++) {
            size_t pos = (I->q.head + k) % I->q.cap;
            if (I->q.q[pos] >= s->warm_ns) {
                st->queued_end++;
                st->area_ns += (double)(end - I->q.q[pos]);
            }
        }
        if (I->busy) {
            for (int k = 0; k < I->k; k++)
                if (I->cur[k] >= s->warm_ns) {
                    st->queued_end++;
                    st->area_ns += (double)(end - I->cur[k]);
                }
            gpu_busy_change(s, I->gpu, -1, end);
        }
    }
    r->ngpus = s->ngpus;
    r->gpu_busy = ut_xcalloc(s->ngpus, sizeof *r->gpu_busy);
    for (size_t j = 0; j < s->ngpus; j++)
        r->gpu_busy[j] = r->window_s > 0 ? s->g[j].busy_ns / 1e9 / r->window_s
                                         : 0;
    r->nw = s->nw;
    r->w = s->st;
    s->st = NULL;
    r->events = s->events;
    double price = s->cfg->plan->price_per_hour;
    r->gpu_hours = 0;
    for (size_t j = 0; j < s->ngpus; j++)
        if (end > s->g[j].created)
            r->gpu_hours += (double)(end - s->g[j].created) / 3.6e12;
    r->cost = r->gpu_hours * price;
    r->reconfigs = s->reconfigs;
}

void sim_result_free(sim_result *r)
{
    free(r->w);
    free(r->gpu_busy);
    memset(r, 0, sizeof *r);
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

#define MS(ns) ((double)(ns) / 1e6)

static void write_summary(const sim *s, const sim_result *r, ut_buf *b)
{
    const sim_config *c = s->cfg;
    char d[32];
    ut_buf_printf(b, "{\n  \"generator\": \"igniter %s\",\n  \"complete\": "
                  "%s,\n  \"inputs\": {\n", IGNITER_VERSION,
                  r->complete ? "true" : "false");
    const char *keys[4] = {"experiment", "plan", "profile", "measured"};
    const char *vals[4] = {c->experiment_path, c->plan_path, c->profile_path,
                           c->measured_path};
    for (int k = 0; k < 4; k++)
        if (vals[k]) {
            ut_buf_printf(b, "    \"%s\": ", keys[k]);
            ut_buf_json_str(b, vals[k]);
            ut_buf_printf(b, ",\n");
        }
    ut_buf_printf(b, "    \"policy\": ");
    ut_buf_json_str(b, c->plan->policy);
    ut_buf_printf(b, ",\n    \"backend\": \"%s\",\n    \"seed\": %llu,\n",
                  s->be->name, (unsigned long long)c->seed);
    ut_buf_printf(b, "    \"duration_s\": %s,\n", ut_fmt_double(c->duration_s, d));
    ut_buf_printf(b, "    \"warmup_s\": %s,\n", ut_fmt_double(c->warmup_s, d));
    ut_buf_printf(b, "    \"interval_s\": %s,\n",
                  ut_fmt_double((double)s->iv_ns / 1e9, d));
    ut_buf_printf(b, "    \"arrivals\": {");
    for (size_t w = 0; w < s->nw; w++) {
        char *a = trace_spec_to_json(&c->wcfg[w].arrivals);
        ut_buf_printf(b, "%s\n      ", w ? "," : "");
        ut_buf_json_str(b, c->wcfg[w].name);
        ut_buf_printf(b, ": %s", a);
        free(a);
    }
    ut_buf_printf(b, "\n    }\n  },\n");
    uint64_t arr = 0, done = 0, drop = 0, viol = 0;
    for (size_t w = 0; w < r->nw; w++) {
        arr += r->w[w].arrived;
        done += r->w[w].completed;
        drop += r->w[w].dropped;
        viol += r->w[w].violations;
    }
    ut_buf_printf(b, "  \"simulated_s\": %s,\n",
                  ut_fmt_double(r->sim_end_s, d));
    ut_buf_printf(b, "  \"totals\": {\"requests\": %llu, \"completed\": %llu, "
                  "\"dropped\": %llu, \"violations\": %llu, ",
                  (unsigned long long)arr, (unsigned long long)done,
                  (unsigned long long)drop, (unsigned long long)viol);
    ut_buf_printf(b, "\"slo_violation_pct\": %.6f, ",
                  pct(viol + drop, done + drop));
    ut_buf_printf(b, "\"num_gpus\": %zu, \"price_per_hour\": %s, ", r->ngpus,
                  ut_fmt_double(c->plan->price_per_hour, d));
    ut_buf_printf(b, "\"cost_per_hour\": %s, ",
                  ut_fmt_double(c->plan->cost_per_hour, d));
    ut_buf_printf(b, "\"gpu_hours\": %.6f, \"cost\": %.6f, "
                  "\"reconfigurations\": %zu},\n  \"gpus\": [", r->gpu_hours,
                  r->cost, r->reconfigs);
    for (size_t j = 0; j < r->ngpus; j++)
        ut_buf_printf(b, "%s{\"gpu\": %zu, \"busy_pct\": %.4f}", j ? ", " : "",
                      j, 100 * r->gpu_busy[j]);
    ut_buf_printf(b, "],\n  \"workloads\": [");
    for (size_t w = 0; w < r->nw; w++) {
        const sim_wstats *st = &r->w[w];
        const sim_hist *h = &st->lat;
        ut_buf_printf(b, "%s\n    {\"name\": ", w ? "," : "");
        ut_buf_json_str(b, st->name);
        ut_buf_printf(b, ", \"model\": ");
        ut_buf_json_str(b, st->model);
        ut_buf_printf(b, ", \"slo_ms\": %s, \"instances\": %d,\n     ",
                      ut_fmt_double(st->slo_ms, d), st->instances);
        ut_buf_printf(b, "\"requests\": %llu, \"completed\": %llu, "
                      "\"dropped\": %llu, \"queued_at_end\": %llu,\n     ",
                      (unsigned long long)st->arrived,
                      (unsigned long long)st->completed,
                      (unsigned long long)st->dropped,
                      (unsigned long long)st->queued_end);
        ut_buf_printf(b, "\"latency_ms\": {\"mean\": %.6f, \"p50\": %.6f, "
                      "\"p95\": %.6f, \"p99\": %.6f, \"p999\": %.6f, "
                      "\"max\": %.6f},\n     ", MS(sim_hist_mean(h)),
                      MS(sim_hist_quantile(h, 0.5)),
                      MS(sim_hist_quantile(h, 0.95)),
                      MS(sim_hist_quantile(h, 0.99)),
                      MS(sim_hist_quantile(h, 0.999)),
                      MS(h->count ? h->max : 0));
        ut_buf_printf(b, "\"mean_service_ms\": %.6f, ",
                      st->service_batches
                          ? MS(st->service_ns_sum /
                               (double)st->service_batches)
                          : 0);
        ut_buf_printf(b, "\"slo_violation_pct\": %.6f, \"throughput_rps\": "
                      "%.6f, \"mean_batch\": %.6f, \"mean_queue_ms\": %.6f}",
                      pct(st->violations + st->dropped,
                          st->completed + st->dropped),
                      r->window_s > 0 ? (double)st->completed / r->window_s
                                      : 0,
                      st->batches ? (double)st->batch_items /
                                        (double)st->batches
                                  : 0,
                      st->batch_items ? MS(st->queue_ns_sum /
                                           (double)st->batch_items)
                                      : 0);
    }
    ut_buf_printf(b, "\n  ]\n}\n");
}

static void write_workloads_csv(const sim_result *r, ut_buf *b)
{
    ut_buf_printf(b, "workload,model,slo_ms,instances,requests,completed,"
                  "dropped,queued_at_end,mean_ms,p50_ms,p95_ms,p99_ms,"
                  "p999_ms,max_ms,slo_violation_pct,throughput_rps,"
                  "mean_batch,mean_queue_ms\n");
    for (size_t w = 0; w < r->nw; w++) {
        const sim_wstats *st = &r->w[w];
        const sim_hist *h = &st->lat;
        ut_buf_printf(b, "%s,%s,%g,%d,%llu,%llu,%llu,%llu,%.6f,%.6f,%.6f,%.6f,"
                      "%.6f,%.6f,%.6f,%.6f,%.6f,%.6f\n", st->name, st->model,
                      st->slo_ms, st->instances,
                      (unsigned long long)st->arrived,
                      (unsigned long long)st->completed,
                      (unsigned long long)st->dropped,
                      (unsigned long long)st->queued_end,
                      MS(sim_hist_mean(h)), MS(sim_hist_quantile(h, 0.5)),
                      MS(sim_hist_quantile(h, 0.95)),
                      MS(sim_hist_quantile(h, 0.99)),
                      MS(sim_hist_quantile(h, 0.999)),
                      MS(h->count ? h->max : 0),
                      pct(st->violations + st->dropped,
                          st->completed + st->dropped),
                      r->window_s > 0 ? (double)st->completed / r->window_s
                                      : 0,
                      st->batches ? (double)st->batch_items /
                                        (double)st->batches
                                  : 0,
                      st->batch_items ? MS(st->queue_ns_sum /
                                           (double)st->batch_items)
                                      : 0);
    }
}

/* Latency quantiles per workload and over all requests, for CDF plots. */
static void write_cdf_csv(const sim_result *r, ut_buf *b)
{
    static const double qs[] = {0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98,
                                0.99, 0.995, 0.999, 1};
    sim_hist *all = ut_xmalloc(sizeof *all);
    sim_hist_reset(all);
    ut_buf_printf(b, "workload,quantile,latency_ms\n");
    for (size_t w = 0; w < r->nw; w++) {
        const sim_hist *h = &r->w[w].lat;
        for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
            ut_buf_printf(b, "%s,%g,%.6f\n", r->w[w].name, qs[k],
                          MS(sim_hist_quantile(h, qs[k])));
        for (int i = 0; i < SIM_HIST_BUCKETS; i++)
            all->bucket[i] += h->bucket[i];
        all->count += h->count;
        all->sum += h->sum;
        if (h->count && h->min < all->min)
            all->min = h->min;
        if (h->count && h->max > all->max)
            all->max = h->max;
    }
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++)
        ut_buf_printf(b, "all,%g,%.6f\n", qs[k],
                      MS(sim_hist_quantile(all, qs[k])));
    free(all);
}

static int write_buf(const char *dir, const char *name, const ut_buf *b,
                     ut_err *err)
{
    char path[TRACE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ut_write_atomic(path, b->s ? b->s : "", b->len, err);
}

int sim_run(const sim_config *cfg, const char *out_dir, sim_result *res,
            ut_err *err)
{
    sim s;
    memset(&s, 0, sizeof s);
    sim_result r;
    memset(&r, 0, sizeof r);
    outfile ts = {0}, tr = {0};
    int rc = -1;
    if (setup(&s, cfg, err) < 0)
        goto out;
    if (out_open(&ts, out_dir, "timeseries.csv", err) < 0)
        goto out;
    s.ts = ts.f;
    fprintf(s.ts, "t_s,workload,arrivals,completions,p99_ms,violations,"
            "share_pct,instances\n");
    if (cfg->trace_max > 0) {
        if (out_open(&tr, out_dir, "trace.json", err) < 0)
            goto out;
        s.tr = tr.f;
        fprintf(s.tr, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"
                "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,"
                "\"args\":{\"name\":\"GPU 0\"}}");
        for (size_t j = 0; j < s.ngpus; j++) {
            if (j)
                fprintf(s.tr, ",\n{\"name\":\"process_name\",\"ph\":\"M\","
                        "\"pid\":%zu,\"args\":{\"name\":\"GPU %zu\"}}", j, j);
            for (size_t k = 0; k < s.g[j].n; k++) {
                int i = s.g[j].inst[k];
                fprintf(s.tr, ",\n{\"name\":\"thread_name\",\"ph\":\"M\","
                        "\"pid\":%zu,\"tid\":%d,\"args\":{\"name\":\"%s "
                        "(%g%%)\"}}", j, i, s.st[s.in[i].w].name,
                        cfg->plan->gpus[j].inst[k].share_pct);
            }
        }
    }
    int64_t end;
    run_loop(&s, &end);
    if (s.rt_failed) {
        *err = s.rt_err;
        goto out;
    }
    r.complete = end == s.end_ns;
    while (s.next_iv <= end)
        flush_one(&s, 0);
    finish(&s, end, &r);
    if (s.tr)
        fprintf(s.tr, "\n]}\n");
    ut_buf b = {0};
    write_summary(&s, &r, &b);
    rc = write_buf(out_dir, "summary.json", &b, err);
    ut_buf_free(&b);
    if (rc == 0) {
        write_workloads_csv(&r, &b);
        rc = write_buf(out_dir, "workloads.csv", &b, err);
        ut_buf_free(&b);
    }
    if (rc == 0) {
        write_cdf_csv(&r, &b);
        rc = write_buf(out_dir, "cdf.csv", &b, err);
        ut_buf_free(&b);
    }
    if (rc == 0)
        rc = out_commit(&ts, err);
    if (rc == 0 && tr.f)
        rc = out_commit(&tr, err);
out:
    out_abort(&ts);
    out_abort(&tr);
    sim_free(&s);
    if (rc == 0 && res)
        *res = r;
    else
        sim_result_free(&r);
    return rc;
}
