/*
 * serve_out.c - after the last pass of `igniter serve` (serve.h,
 * serve_int.h): the request log replayed, in time order, into the
 * simulator's recorder, and the files only serve writes (requests.csv,
 * summary.json's serve member, reconfig.csv).
 */
#include "serve/serve_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void srv_replay(srv *s, fe_rec *rec, int64_t end)
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
double srv_busy_frac(const srv *s, size_t j)
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

void srv_write_requests(const srv *s, ut_buf *b)
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

char *srv_serve_json(const srv *s, int complete)
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
    if (s->npw) {
        double pw = 0, clk = 0;
        size_t capped = 0;
        for (size_t i = 0; i < s->npw; i++) {
            pw += s->pw[i].power_w;
            clk += s->pw[i].clock_mhz;
            capped += (s->pw[i].reasons & 4) != 0;
        }
        ut_buf_printf(&b, ",\n    \"power\": {\"readings\": %zu, \"mean_w\": "
                      "%.1f, \"clock_mean_mhz\": %.0f, \"power_capped_pct\": "
                      "%.1f, \"log\": \"power.csv\"}", s->npw,
                      pw / (double)s->npw, clk / (double)s->npw,
                      100.0 * (double)capped / (double)s->npw);
    }
    if (!complete) {
        ut_buf_printf(&b, ", \"stopped\": ");
        ut_buf_json_str(&b, s->st->error ? s->st->error_msg
                                         : "interrupted");
    }
    ut_buf_printf(&b, "}");
    return b.s;
}

void srv_write_power(const srv *s, ut_buf *b)
{
    ut_buf_printf(b, "gpu,t_s,power_w,clock_mhz,reasons\n");
    for (size_t i = 0; i < s->npw; i++) {
        const pw_row *r = &s->pw[i];
        ut_buf_printf(b, "%zu,%.3f,%.2f,%.0f,%llu\n", r->gpu,
                      (double)r->t / 1e9, r->power_w, r->clock_mhz,
                      (unsigned long long)r->reasons);
    }
}

/* reconfig.csv: every change the hook asked for, applied or not. */
void srv_write_reconfigs(const srv *s, ut_buf *b)
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
