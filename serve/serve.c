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

typedef struct slot {        /* an instance of the GPU being served */
    int inst;                /* global instance number (plan order) */
    int w;
    fe_batcher q;
    size_t qhead, qtail;     /* its queued requests, a list through
                                req.next in the batcher's order */
    int busy;
    size_t batch;
    int64_t *tmp;
} slot;

typedef struct srv {
    const srv_config *c;
    const fe_run *sc;
    const pol_plan *p;
    size_t nw, ninst;
    fe_binding bind;                 /* instances, workloads, routing */
    int *inst_w, *inst_gpu;          /* b's, per global instance */
    const pol_instance **inst_pi;    /* its plan entry */
    fe_wrr *rr;
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

static int launch(srv *s, slot *q, size_t li, int64_t now, ut_err *err)
{
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
    return s->c->dev->launch(s->c->dev->ud, li, k, err) < 0 ? -1 : 1;
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

/* Returns 0 (the pass ran to the end), 1 (stopped), 2 (device error). */
static int pass(srv *s, size_t gpu, ut_err *err)
{
    const srv_config *c = s->c;
    const srv_clock *clk = c->clock;
    const pol_gpu *g = &s->p->gpus[gpu];
    size_t n = g->n, first = 0;
    for (size_t j = 0; j < gpu; j++)
        first += s->p->gpus[j].n;
    slot *q = ut_xcalloc(n ? n : 1, sizeof *q);
    trace_gen **gen = ut_xcalloc(s->nw, sizeof *gen);
    int64_t *next = ut_xcalloc(s->nw, sizeof *next);
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        slot *Q = &q[k];
        Q->inst = (int)(first + k);
        Q->qhead = Q->qtail = NO_REQ;
        Q->w = s->inst_w[Q->inst];
        const fe_workload_cfg *wc = &s->sc->wcfg[Q->w];
        fe_batcher_init(&Q->q, g->inst[k].batch,
                        fe_batch_delay_ns(wc, g->inst[k].slo_ms),
                        wc->queue_limit);
        Q->tmp = ut_xcalloc((size_t)g->inst[k].batch, sizeof *Q->tmp);
    }
    for (size_t i = 0; i < s->ninst; i++)
        s->rr[i].current = 0;
    for (size_t w = 0; w < s->nw; w++) {
        next[w] = INT64_MAX;
        int here = 0;
        for (size_t k = 0; k < n; k++)
            here |= q[k].w == (int)w;
        if (!here)
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
        /* completions: each freed instance takes its next batch at once */
        for (size_t k = 0; k < n && rc == 0; k++) {
            if (!q[k].busy)
                continue;
            int d = c->dev->poll(c->dev->ud, k, err);
            if (d < 0)
                rc = 2;
            else if (d > 0) {
                done(s, &q[k], now);
                if (launch(s, &q[k], k, now, err) < 0)
                    rc = 2;
            }
        }
        /* arrivals due, oldest first, as the simulator takes them */
        for (;;) {
            size_t wmin = 0;
            for (size_t w = 1; w < s->nw; w++)
                if (next[w] < next[wmin])
                    wmin = w;
            if (rc || s->nw == 0 || next[wmin] > now)
                break;
            size_t w = wmin;
            int64_t t = next[w];
            int i = fe_wrr_pick(s->rr, s->bind.winst[w], s->bind.nwinst[w],
                                s->bind.wtotal[w]);
            if (s->inst_gpu[i] == (int)gpu) {
                slot *Q = &q[(size_t)i - first];
                size_t id = add_req(s);
                req *R = &s->r[id];
                R->t_arr = t;
                R->late = now - t;
                R->w = (int32_t)w;
                R->inst = i;
                fe_hist_add(&s->st->lateness, now - t);
                if (fe_batcher_push(&Q->q, t) < 0) {
                    R->status = RQ_DROPPED;
                } else {
                    R->status = RQ_QUEUED;
                    queue_push(s, Q, id);
                    if (!Q->busy &&
                        launch(s, Q, (size_t)i - first, now, err) < 0)
                        rc = 2;
                }
            }
            int64_t nt = trace_gen_next(gen[w]);
            next[w] = nt >= s->end_ns ? INT64_MAX : nt < t ? t : nt;
        }
        /* batcher timeouts */
        int64_t wake = s->end_ns;
        int busy = 0;
        for (size_t k = 0; k < n && rc == 0; k++) {
            if (!q[k].busy && launch(s, &q[k], k, now, err) < 0)
                rc = 2;
            if (q[k].busy)
                busy = 1;
            else if (fe_batcher_deadline(&q[k].q) < wake)
                wake = fe_batcher_deadline(&q[k].q);
        }
        if (rc)
            break;
        for (size_t w = 0; w < s->nw; w++)
            if (next[w] < wake)
                wake = next[w];
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
    for (size_t k = 0; k < n; k++) {
        int64_t limit = clk->now(clk->ud) + 10000000000LL;
        ut_err e2;
        while (q[k].busy && clk->now(clk->ud) < limit) {
            int d = c->dev->poll(c->dev->ud, k, &e2);
            if (d != 0)
                break;
            clk->wait_until(clk->ud, clk->now(clk->ud) + 100000);
        }
    }
    c->dev->close(c->dev->ud);
out:
    for (size_t k = 0; k < n; k++) {
        fe_batcher_free(&q[k].q);
        free(q[k].tmp);
    }
    for (size_t w = 0; w < s->nw; w++)
        trace_gen_free(gen[w]);
    free(gen);
    free(next);
    free(q);
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

/* Ends the recorder's current interval: its rows, then the next one. */
static void interval_end(fe_rec *rec, const double *share, const int *count,
                         const int *maxb)
{
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
            interval_end(rec, share, count, maxb);
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
        interval_end(rec, share, count, maxb);
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
    if (!complete) {
        ut_buf_printf(&b, ", \"stopped\": ");
        ut_buf_json_str(&b, s->st->error ? s->st->error_msg
                                         : "interrupted");
    }
    ut_buf_printf(&b, "}");
    return b.s;
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
    s.ninst = s.bind.ninst;
    s.inst_w = s.bind.inst_w;
    s.inst_gpu = s.bind.inst_gpu;
    s.inst_pi = s.bind.inst_pi;
    s.rr = s.bind.rr;
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
    if (rc >= 0 && res)
        *res = r;
    else
        fe_result_free(&r);
    if (rc < 0)
        fe_hist_free(&st->lateness);
    return rc;
}
