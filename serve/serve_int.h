/*
 * serve_int.h - what serve.c (the host loop), runtime.c (a policy's
 * runtime hook during a pass) and serve_out.c (the request log replayed
 * into the recorder, the result files) share: the request log, a pass's
 * slots and state, the reconfiguration log. Not a public header.
 */
#ifndef SERVE_SERVE_INT_H
#define SERVE_SERVE_INT_H

#include "serve/serve.h"

#include <stdint.h>

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

/* A row of power.csv: a reading of the GPU while plan GPU gpu ran. */
typedef struct pw_row {
    size_t gpu;
    int64_t t;               /* from the pass's start, ns */
    double power_w, clock_mhz;
    uint64_t reasons;
} pw_row;

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
    pw_row *pw;                      /* the device's power readings */
    size_t npw, pwcap;
} srv;

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

/* reqlog.c: the request log, the queues, a batch launched and done */
size_t srv_add_req(srv *s);
void srv_reserve(srv *s, size_t more);
void srv_queue_push(srv *s, slot *q, size_t id);
void srv_done(srv *s, slot *q, int64_t now);
int srv_launch(srv *s, slot *q, size_t dk, int64_t now, ut_err *err);
size_t srv_queue_pop(srv *s, slot *q);
/* runtime.c: a pass's runtime hook and its changes */
void srv_feed_done(srv *s, pst *P, const slot *Q);
slot *srv_add_slot(pst *P);
void srv_slot_batch(slot *Q, int nbatch);
int srv_finish_op(srv *s, pst *P, size_t k, ut_err *err);
void srv_push_epoch(srv *s, const pst *P, int64_t k);
int srv_control(srv *s, pst *P, int64_t t, int64_t now, ut_err *err);
/* serve_out.c: the log replayed into the recorder, the result files */
void srv_replay(srv *s, fe_rec *rec, int64_t end);
double srv_busy_frac(const srv *s, size_t j);
void srv_write_requests(const srv *s, ut_buf *b);
char *srv_serve_json(const srv *s, int complete);
void srv_write_reconfigs(const srv *s, ut_buf *b);
/* power.csv: the device's power readings, pass by pass. */
void srv_write_power(const srv *s, ut_buf *b);

#endif
