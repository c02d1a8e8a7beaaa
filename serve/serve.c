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
 *
 * Here: the clock, a pass and the whole run. The request log and a batch's
 * launch are reqlog.c's, a runtime hook's changes runtime.c's, the files
 * after the last pass serve_out.c's; serve_int.h is what they share.
 */
#include "serve/serve_int.h"
#include "capture/capture.h"

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

/* ---- one pass: one plan GPU --------------------------------------------- */

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
            size_t id = srv_add_req(s);
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
                srv_queue_push(s, Q, id);
                if (!Q->busy && srv_launch(s, Q, k, now, err) < 0)
                    return -1;
            }
        }
        int64_t nt = trace_gen_next(gen[w]);
        next[w] = nt >= s->end_ns ? INT64_MAX : nt < t ? t : nt;
    }
}

/* The device's power readings of plan GPU gpu's pass, [t0, t1] of the
 * clock, into s->pw (times from t0): room for 100 a second. */
static void power_readings(srv *s, size_t gpu, int64_t t0, int64_t t1)
{
    size_t max = (size_t)((double)(t1 - t0) / 1e7) + 256;
    srv_power_sample *tmp = ut_xmalloc(max * sizeof *tmp);
    size_t n = s->c->dev->power(s->c->dev->ud, t0, t1, tmp, max);
    if (n > max)
        n = max;
    UT_GROW(s->pw, s->pwcap, s->npw + n);
    for (size_t i = 0; i < n; i++)
        s->pw[s->npw++] = (pw_row){gpu, tmp[i].t_ns - t0, tmp[i].power_w,
                                   tmp[i].clock_mhz, tmp[i].reasons};
    free(tmp);
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
        slot *Q = srv_add_slot(&P);
        Q->inst = (int)(first + k);
        Q->li = (int)k;
        Q->w = s->inst_w[Q->inst];
        s->islot[Q->inst] = (int)k;
        const fe_workload_cfg *wc = &s->sc->wcfg[Q->w];
        fe_batcher_init(&Q->q, g->inst[k].batch,
                        fe_batch_delay_ns(wc, g->inst[k].slo_ms),
                        wc->queue_limit);
        srv_slot_batch(Q, g->inst[k].batch);
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
        srv_push_epoch(s, &P, 0);
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
    srv_reserve(s, (size_t)expect + 1024);
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
                srv_control(s, &P, P.next_ctl, now, err) < 0) {
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
                srv_done(s, &P.q[k], now);
                srv_feed_done(s, &P, &P.q[k]);
                int f = P.q[k].op ? srv_finish_op(s, &P, k, err) : 0;
                if (f > 0)   /* refused: the shares as they were */
                    srv_push_epoch(s, &P, P.k);
                if (f < 0 || srv_launch(s, &P.q[k], k, now, err) < 0)
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
            if (!Q->busy && srv_launch(s, Q, k, now, err) < 0)
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
    if (c->dev->power)
        power_readings(s, gpu, t0, clk->now(clk->ud));
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
        if (pi->batch < 1 || pi->batch > CAP_MAX_BATCH)
            return ut_errf(err, "plan: gpus[%d].workloads[%d].batch: "
                           "expected 1..%d, got %d", s->bind.inst_gpu[i],
                           s->bind.inst_slot[i], CAP_MAX_BATCH, pi->batch);
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
    srv_replay(&s, &rec, end);
    r.complete = how == 0;
    r.sim_end_s = (double)end / 1e9;
    r.window_s = end > s.warm_ns ? (double)(end - s.warm_ns) / 1e9 : 0;
    r.nw = s.nw;
    r.w = rec.st;
    rec.st = NULL;
    r.ngpus = s.p->ngpus;
    r.gpu_busy = ut_xcalloc(r.ngpus, sizeof *r.gpu_busy);
    for (size_t j = 0; j < r.ngpus; j++) {
        r.gpu_busy[j] = srv_busy_frac(&s, j);
        r.gpu_hours += fe_gpu_hours(0, s.reached[j]);
    }
    r.cost = r.gpu_hours * s.p->price_per_hour;
    r.events = s.nr;
    r.reconfigs = st->reconfigs;
    extra = srv_serve_json(&s, r.complete);
    char backend[160];
    snprintf(backend, sizeof backend, "real (%s)",
             c->mechanism ? c->mechanism : "gpu");
    if (fe_write_results(s.sc, backend, &r, extra, out_dir, err) < 0)
        goto out;
    ut_buf b = {0};
    srv_write_requests(&s, &b);
    char path[UT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/requests.csv", out_dir);
    int wrc = ut_write_atomic(path, b.s ? b.s : "", b.len, err);
    ut_buf_free(&b);
    if (wrc == 0 && s.pol) {
        ut_buf l = {0};
        srv_write_reconfigs(&s, &l);
        snprintf(path, sizeof path, "%s/reconfig.csv", out_dir);
        wrc = ut_write_atomic(path, l.s ? l.s : "", l.len, err);
        ut_buf_free(&l);
    }
    if (wrc == 0 && s.npw) {
        ut_buf l = {0};
        srv_write_power(&s, &l);
        snprintf(path, sizeof path, "%s/power.csv", out_dir);
        wrc = ut_write_atomic(path, l.s, l.len, err);
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
    free(s.pw);
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
