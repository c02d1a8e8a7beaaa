/*
 * reconf.c - the runtime changes of a policy's hook (sim_config.policy's
 * runtime, sim.h): every control interval the engine calls sim_control,
 * which shows the hook what happened and the plan as changed so far
 * (s->live), checks each change it asks for against the rules every plan
 * keeps and applies it: SET (a new share and batch after the delay),
 * ADD (a new instance, on a new GPU if asked, after the delay) and REMOVE
 * (at once, its queue handed to the workload's other instances); a SET
 * or ADD takes effect at its EV_RECONF event (sim_reconf_done). The
 * GPUs' rental follows the changes: a GPU added, or given back and used
 * again, is rented from the change on, and one left with no instance and
 * nothing running is given back (the plan's GPUs are rented from 0).
 *
 * The engine (sim.c) owns the events and the batches; this file changes
 * the instances, the routing and the live plan between events, and
 * reaches the engine only through sim_int.h's inline functions (push,
 * try_dispatch, rescale): it calls nothing of sim.c. Apart from
 * sim_leave_gpu, which a removed instance's last completion calls,
 * nothing here is on the hot path.
 */
#include "sim/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_grow_instances(sim *s, size_t need)
{
    if (need <= s->icap)
        return;
    size_t cap = s->icap ? 2 * s->icap : 16;
    while (cap < need)
        cap *= 2;
    s->in = ut_xrealloc(s->in, cap * sizeof *s->in);
    s->rr = ut_xrealloc(s->rr, cap * sizeof *s->rr);
    s->act = ut_xrealloc(s->act, cap * sizeof *s->act);
    s->fac = ut_xrealloc(s->fac, cap * sizeof *s->fac);
    memset(s->in + s->icap, 0, (cap - s->icap) * sizeof *s->in);
    memset(s->rr + s->icap, 0, (cap - s->icap) * sizeof *s->rr);
    s->icap = cap;
}

static const fe_workload_cfg *wcfg_of(const sim *s, int w)
{
    return &s->cfg->run.wcfg[w];
}

static sim_inst_desc desc_of(const sim *s, int i, double share)
{
    const inst *I = &s->in[i];
    const fe_workload_cfg *wc = wcfg_of(s, I->w);
    sim_inst_desc d = {s->st[I->w].name, s->st[I->w].model, share,
                       wc->service_ms, wc->service_exp, wc->service_cv};
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
void sim_reconf_done(sim *s, int i, int64_t t)
{
    inst *I = &s->in[i];
    if (I->removed)
        return;   /* removed while it was starting or changing */
    if (I->pending) {
        I->pending = 0;
        if (apply_settings(s, i, I->new_batch, I->new_share, t,
                           &s->rt_err) < 0) {
            s->rt_failed = 1;
            return;
        }
    }
    if (!s->rr[i].active) {
        s->rr[i].active = 1;
        s->ws[I->w].total_weight += s->rr[i].weight;
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

void sim_gpu_open(sim *s, int j, int64_t t)
{
    s->g[j].open = 1;
    s->g[j].created = t;
    if (++s->open_gpus > s->peak_gpus)
        s->peak_gpus = s->open_gpus;
}

/* A GPU with no instance in the plan and no batch running is given back:
 * it costs nothing from now on. */
static void gpu_maybe_close(sim *s, int j, int64_t t)
{
    gpu *G = &s->g[j];
    if (!G->open || s->live.gpus[j].n > 0 || G->n > 0)
        return;
    G->open = 0;
    G->paid_ns += t > G->created ? t - G->created : 0;
    s->open_gpus--;
}

/* Removed instance i leaves its GPU (its last batch has ended). */
void sim_leave_gpu(sim *s, int i, int64_t now)
{
    gpu *G = &s->g[s->in[i].gpu];
    size_t k = 0;
    while (k < G->n && G->inst[k] != i)
        k++;
    if (k == G->n)
        return;
    memmove(&G->inst[k], &G->inst[k + 1], (G->n - k - 1) * sizeof *G->inst);
    G->n--;
    gpu_maybe_close(s, s->in[i].gpu, now);
}

/* The simulator's instance at (gpu, index) of the live plan. */
static int live_inst(const sim *s, size_t j, size_t index)
{
    const gpu *G = &s->g[j];
    for (size_t k = 0; k < G->n; k++) {
        const inst *I = &s->in[G->inst[k]];
        if (!I->removed && I->slot == (int)index)
            return G->inst[k];
    }
    return -1;
}

static int add_gpu(sim *s, int64_t t)
{
    size_t j = s->ngpus++;
    s->g = ut_xrealloc(s->g, s->ngpus * sizeof *s->g);
    memset(&s->g[j], 0, sizeof s->g[j]);
    sim_gpu_open(s, (int)j, t);
    s->live.gpus = ut_xrealloc(s->live.gpus, s->ngpus * sizeof *s->live.gpus);
    memset(&s->live.gpus[j], 0, sizeof s->live.gpus[j]);
    snprintf(s->live.gpus[j].type, sizeof s->live.gpus[j].type, "%s",
             s->live.gpu_type);
    s->live.ngpus = s->ngpus;
    return (int)j;
}

/*
 * REMOVE: the instance stops at once. It leaves its workload's routing
 * (so fe_wrr_pick never sees it again) and the live plan (its GPU's later
 * instances move down one index); the requests waiting in its queue are
 * handed, oldest first, to the workload's other instances by the same
 * weighted round robin as new arrivals, keeping their arrival times, and
 * none is dropped (fe_batcher_requeue). Handing them over rather than
 * letting the instance drain them keeps the rule "a GPU's committed shares
 * add up to at most 100 %" true of what runs: the removed share is free
 * for the next change at once. A batch already running finishes on the
 * GPU (its work is not thrown away); the GPU is given back when it holds
 * no instance and nothing runs (gpu_maybe_close).
 */
static int remove_instance(sim *s, const pol_reconfig *r, int64_t t,
                           ut_err *err)
{
    const char *pn = s->cfg->policy->name;
    if (r->gpu >= s->live.ngpus || r->index >= s->live.gpus[r->gpu].n)
        return ut_errf(err, "policy %s: runtime change: remove: no instance "
                       "%zu on GPU %zu", pn, r->index, r->gpu);
    int i = live_inst(s, r->gpu, r->index);
    inst *I = &s->in[i];
    wstate *ws = &s->ws[I->w];
    if (ws->ninst < 2)
        return ut_errf(err, "policy %s: runtime change: remove: workload "
                       "\"%s\" would have no instance left", pn,
                       s->st[I->w].name);
    size_t k = 0;
    while (ws->inst[k] != i)
        k++;
    memmove(&ws->inst[k], &ws->inst[k + 1],
            (ws->ninst - k - 1) * sizeof *ws->inst);
    ws->ninst--;
    set_only(ws);
    if (s->rr[i].active)
        ws->total_weight -= s->rr[i].weight;
    s->rr[i].active = 0;
    I->removed = 1;
    I->pending = 0;
    /* the live plan: drop its entry, the later ones move down */
    pol_gpu *lg = &s->live.gpus[r->gpu];
    memmove(&lg->inst[r->index], &lg->inst[r->index + 1],
            (lg->n - r->index - 1) * sizeof *lg->inst);
    lg->n--;
    const gpu *G = &s->g[r->gpu];
    for (size_t q = 0; q < G->n; q++) {
        inst *o = &s->in[G->inst[q]];
        if (!o->removed && o->slot > (int)r->index)
            o->slot--;
    }
    /* its queue to the others */
    while (I->q.len) {
        int64_t a;
        fe_batcher_pop(&I->q, 1, &a);
        int to = fe_wrr_pick(s->rr, ws->inst, ws->ninst, ws->total_weight);
        fe_batcher_requeue(&s->in[to].q, a);
    }
    for (size_t q = 0; q < ws->ninst; q++)
        if (try_dispatch(s, ws->inst[q], t))
            rescale(s, s->in[ws->inst[q]].gpu, t);
    if (!I->busy)
        sim_leave_gpu(s, i, t);
    s->reconfigs++;
    return 0;
}

/* Checks one change against the invariants every plan keeps (a known
 * instance or workload, batch >= 1, share in (0, 100], a GPU's shares
 * adding up to at most 100 %) and schedules it. A policy that breaks them
 * ends the run with an error naming it: its plans would not be real. */
static int apply_reconf(sim *s, const pol_reconfig *r, int64_t t, ut_err *err)
{
    const char *pn = s->cfg->policy->name;
    if (r->kind == POL_RECONF_REMOVE)
        return remove_instance(s, r, t, err);
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
        int i = live_inst(s, r->gpu, r->index);
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
    if (!s->g[j].open)
        sim_gpu_open(s, j, t);   /* given back before: rented again */
    sim_grow_instances(s, s->ninst + 1);
    int i = (int)s->ninst++;
    inst *I = &s->in[i];
    memset(I, 0, sizeof *I);
    I->w = (int)w;
    I->gpu = j;
    I->batch = r->batch;
    memset(&s->rr[i], 0, sizeof s->rr[i]);
    s->rr[i].weight = r->rate_rps > 0 ? r->rate_rps : 1;
    I->timeout_at = INT64_MIN;
    I->hold_until = ready;
    I->cur = ut_xcalloc((size_t)r->batch, sizeof *I->cur);
    const fe_workload_cfg *wc = wcfg_of(s, (int)w);
    fe_batcher_init(&I->q, r->batch, fe_batch_delay_ns(wc, s->st[w].slo_ms),
                    wc->queue_limit);
    sim_inst_desc d = desc_of(s, i, r->share_pct);
    if (s->be->set(s->bs, i, &d, err) < 0)
        return -1;
    gpu *G = &s->g[j];
    I->slot = (int)s->live.gpus[j].n;
    UT_GROW(G->inst, G->cap, G->n + 1);
    G->inst[G->n++] = i;
    wstate *ws = &s->ws[w];
    UT_GROW(ws->inst, ws->cap, ws->ninst + 1);
    ws->inst[ws->ninst++] = i;
    set_only(ws);
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

void sim_control(sim *s, int64_t t)
{
    if (!s->ps || s->rt_failed)
        return;
    pol_observation *obs = ut_xcalloc(s->nw, sizeof *obs);
    uint64_t *queued = ut_xcalloc(s->nw, sizeof *queued);
    for (size_t w = 0; w < s->nw; w++)
        for (size_t j = 0; j < s->ws[w].ninst; j++)
            queued[w] += s->in[s->ws[w].inst[j]].q.len;
    fe_rec_observe(&s->rec, queued, obs);
    free(queued);
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
