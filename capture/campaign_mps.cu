/*
 * campaign_mps.cu - `igniter-capture mps --out DIR` (campaign_int.h): the
 * second sharing mechanism. A control daemon of our own (mps.c), every
 * workload a client process `igniter-capture infer --json` started by
 * cap_mps_client_spawn at its share of the threads, its JSON lines read
 * back and appended to DIR/raw.jsonl with "mech":"mps". No CUDA in this
 * process: an MPS client must not share the GPU with a non-MPS context.
 */
#include "capture/campaign_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spawns `self infer` for model m at thread percentage pct: batches, a
 * common start (CLOCK_REALTIME; 0: none), a timed window, and when it was
 * spawned (0: not asked). */
static int spawn_infer(const cg_ctx *c, const char *m, double pct,
                       const char *batches, double start_at, double seconds,
                       double spawned_at, cap_child *ch, ut_err *err)
{
    const cap_campaign_opts *o = c->o;
    char a_start[32], a_sec[32], a_sp[32], a_it[16];
    snprintf(a_start, sizeof a_start, "%.3f", start_at);
    snprintf(a_sec, sizeof a_sec, "%.3f", seconds);
    snprintf(a_sp, sizeof a_sp, "%.6f", spawned_at);
    snprintf(a_it, sizeof a_it, "%d", o->quick ? 20 : 50);
    const char *argv[] = {c->self, "infer", "--json", "--models-dir",
                          o->models_dir, "--model", m, "--batches", batches,
                          "--iters", a_it, "--sms", "1000", "--start-at",
                          a_start, "--seconds", a_sec, "--spawned-at", a_sp,
                          NULL};
    return cap_mps_client_spawn((char *const *)argv, pct, 0, ch, err);
}

/* Reads the child's JSON lines into recs (up to n), waits for it. */
static int collect(const cg_ctx *c, cap_child *ch, cJSON **recs, int n,
                   int *got, ut_err *err)
{
    char line[2048];
    *got = 0;
    while (fgets(line, sizeof line, ch->out)) {
        cJSON *j = cJSON_Parse(line);
        if (j && *got < n)
            recs[(*got)++] = j;
        else
            cJSON_Delete(j);
    }
    int st;
    cap_child_wait(ch, &st);
    if (st != 0)
        return ut_errf(err, "an MPS client exited %d%s", st,
                       cg_stopped(c) ? " (interrupted)" : "");
    return 0;
}

static double jnum(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One client's window, from its JSON line j, at pct % of the threads: the
 * fields of an MPS "solo" record (member < 0) or of a "coloc" member. */
static void set_window(cap_rec *r, int member, const cJSON *j, double pct)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    /* as they always were: whole numbers cut from the client's doubles */
    struct {
        const char *name;
        double v;
    } f[] = {{"batch", (double)(int)jnum(j, "batch")},
             {"active_thread_pct", pct},
             {"share_pct", pct},
             {"iters", (double)(int)jnum(j, "iters")},
             {"mean_ms", jnum(j, "mean_ms")},
             {"p50_ms", jnum(j, "p50_ms")},
             {"p99_ms", jnum(j, "p99_ms")},
             {"std_ms", jnum(j, "std_ms")},
             {"gpu_ms", jnum(j, "gpu_ms")}};
    const char *name = model ? model->valuestring : "?";
    if (member < 0)
        cap_rec_set_str(r, "model", name);
    else
        cap_rec_member_set_str(r, member, "model", name);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (member < 0)
            cap_rec_set(r, f[i].name, f[i].v);
        else
            cap_rec_member_set(r, member, f[i].name, f[i].v);
    }
}

/* solo: every model at each percentage (--mps-pcts), every batch
 * (--batches), one client each */
static int mps_solo(cg_ctx *c, ut_err *err)
{
    static const double pct_full[] = {10, 25, 50, 75, 100};
    static const double pct_quick[] = {25, 100};
    const cap_campaign_opts *o = c->o;
    const double *pct = o->quick ? pct_quick : pct_full;
    int npct = o->quick ? 2 : 5;
    double pct_given[CAP_MPS_LIST];
    if (!o->quick && o->mps_pcts[0]) {   /* checked by the CLI */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", o->mps_pcts);
        npct = 0;
        for (char *t = strtok(buf, ","); t && npct < CAP_MPS_LIST;
             t = strtok(NULL, ","))
            pct_given[npct++] = strtod(t, NULL);
        pct = pct_given;
    }
    const char *batches = o->quick ? "1,8" : o->batches;
    for (int i = 0; i < c->nmodels && !cg_stopped(c); i++)
        for (int k = 0; k < npct && !cg_stopped(c); k++) {
            cap_child ch;
            if (spawn_infer(c, c->models[i].name, pct[k], batches, 0,
                            o->quick ? 0.1 : 0.25, 0, &ch, err) < 0)
                return -1;
            cJSON *rec[16];
            int got;
            if (collect(c, &ch, rec, 16, &got, err) < 0)
                return ut_errprefix(err, "MPS solo %s at %g %%",
                                    c->models[i].name, pct[k]);
            for (int j = 0; j < got; j++) {
                cap_rec r;
                cap_rec_init(&r, CAP_REC_SOLO_MPS);
                set_window(&r, -1, rec[j], pct[k]);
                cg_emit(c, &r);
                cJSON_Delete(rec[j]);
            }
        }
    fprintf(stderr, "mps: solo done\n");
    return 0;
}

/* co-located: each pair of distinct models at batch 8, at each split of
 * the threads (--mps-splits A:B, default 50:50 and 25:75), both clients
 * timed over the same second */
static int mps_pairs(cg_ctx *c, ut_err *err)
{
    double split[CAP_MPS_LIST][2] = {{50, 50}, {25, 75}};
    const cap_campaign_opts *o = c->o;
    int nsplit = o->quick ? 1 : 2;
    if (!o->quick && o->mps_splits[0]) {   /* checked by the CLI */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", o->mps_splits);
        nsplit = 0;
        for (char *t = strtok(buf, ","); t && nsplit < CAP_MPS_LIST;
             t = strtok(NULL, ",")) {
            char *colon;
            split[nsplit][0] = strtod(t, &colon);
            split[nsplit++][1] = strtod(colon + 1, NULL);
        }
    }
    for (int a = 0; a < c->nmodels && !cg_stopped(c); a++)
        for (int bm = a + 1; bm < c->nmodels && !cg_stopped(c); bm++)
            for (int sp = 0; sp < nsplit && !cg_stopped(c); sp++) {
                if (o->quick && bm != a + 1)
                    continue;
                const char *na = c->models[a].name, *nb = c->models[bm].name;
                /* clients take 2 to 4 s to start (CUDA, cuDNN, the search
                 * for algorithms): both wait for a common start */
                double at = cg_realtime() + 8, sec = o->quick ? 0.3 : 1.0;
                cap_child ch[2];
                if (spawn_infer(c, na, split[sp][0], "8", at, sec, 0, &ch[0],
                                err) < 0)
                    return -1;
                if (spawn_infer(c, nb, split[sp][1], "8", at, sec, 0, &ch[1],
                                err) < 0) {
                    cap_children_kill();
                    return -1;
                }
                cJSON *r0[2], *r1[2];
                int g0 = 0, g1 = 0;
                int rc0 = collect(c, &ch[0], r0, 2, &g0, err);
                int rc1 = rc0 == 0 ? collect(c, &ch[1], r1, 2, &g1, err) : -1;
                if (rc0 < 0 || rc1 < 0 || g0 < 1 || g1 < 1) {
                    cap_children_kill();
                    for (int q = 0; q < g0; q++)
                        cJSON_Delete(r0[q]);
                    for (int q = 0; q < g1; q++)
                        cJSON_Delete(r1[q]);
                    if (rc0 == 0 && rc1 == 0)
                        ut_errf(err, "an MPS client printed no result");
                    return ut_errprefix(err, "MPS pair %s/%s", na, nb);
                }
                cap_rec r;
                cap_rec_init(&r, CAP_REC_COLOC_MPS);
                cap_rec_set_str(&r, "set", "mps");
                cap_rec_set(&r, "n", 2);
                set_window(&r, 0, r0[0], split[sp][0]);
                set_window(&r, 1, r1[0], split[sp][1]);
                /* did the timed windows overlap? */
                double o0 = jnum(r0[0], "t0"), o1 = jnum(r1[0], "t0");
                cap_rec_set(&r, "start_skew_ms", fabs(o0 - o1) * 1e3);
                cg_emit(c, &r);
                cJSON_Delete(r0[0]);
                cJSON_Delete(r1[0]);
            }
    fprintf(stderr, "mps: pairs done\n");
    return 0;
}

/* reconfiguration: a new client process at another percentage, from
 * spawn to the end of its first inference */
static int mps_reconfig(cg_ctx *c, ut_err *err)
{
    cg_model *m = cg_find_model(c, "resnet50");
    if (!m)
        m = &c->models[0];
    for (int rep = 0; rep < 4 && !cg_stopped(c); rep++) {
        double p = rep % 2 ? 25 : 50;
        cap_child ch;
        if (spawn_infer(c, m->name, p, "8", 0, 0.05, cg_realtime(), &ch,
                        err) < 0)
            return -1;
        cJSON *rec[2];
        int got;
        if (collect(c, &ch, rec, 2, &got, err) < 0 || got < 1)
            return got < 1 ? ut_errf(err, "MPS reconfig: no result") : -1;
        cap_rec r;
        cap_rec_init(&r, CAP_REC_RECONFIG_MPS);
        cap_rec_set_str(&r, "model", m->name);
        cap_rec_set(&r, "batch", 8);
        cap_rec_set(&r, "to_pct", p);
        cap_rec_set(&r, "total_ms", jnum(rec[0], "startup_ms"));
        cg_emit(c, &r);
        cJSON_Delete(rec[0]);
    }
    return 0;
}

/* The steps, in the order --steps gives them (default solo, pairs,
 * reconfig). */
typedef int (*mps_step)(cg_ctx *, ut_err *);
#define MPS_MAX_STEPS 16

/* --steps into todo[0..*n), checked before anything runs. */
static int mps_parse_steps(const cg_ctx *c, mps_step *todo, int *n,
                           ut_err *err)
{
    static const struct {
        const char *name;
        mps_step fn;
    } steps[] = {{"solo", mps_solo}, {"pairs", mps_pairs},
                 {"reconfig", mps_reconfig}};
    const char *list = c->o->steps ? c->o->steps : "solo,pairs,reconfig";
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (!strcmp(t, steps[j].name))
                k = j;
        if (k < 0 || *n == MPS_MAX_STEPS)
            return ut_errf(err, "--steps: expected solo, pairs or reconfig "
                           "(mps), got '%s'", t);
        todo[(*n)++] = steps[k].fn;
    }
    if (*n == 0)
        return ut_errf(err, "--steps: expected solo, pairs or reconfig "
                       "(mps), got '%s'", list);
    return 0;
}

/* The daemon is stopped and every client ended on success, error and
 * Ctrl-C; then a "step" and an "end" record say how it went. */
static int mps(cg_ctx *c, ut_err *err)
{
    if (cg_load_models(c, err) < 0)
        return CAP_CAMPAIGN_FAILED;
    if (!c->o->out) {
        ut_errf(err, "--out DIR is required");
        return CAP_CAMPAIGN_USAGE;
    }
    mps_step todo[MPS_MAX_STEPS];
    int nsteps;
    if (mps_parse_steps(c, todo, &nsteps, err) < 0)
        return CAP_CAMPAIGN_USAGE;
    if (cg_open_raw(c, err) < 0 || cap_mps_start(err) < 0)
        return CAP_CAMPAIGN_FAILED;
    fprintf(stderr, "mps: control daemon in %s\n", cap_mps_dir());
    double t0 = cap_now();
    int rc = 0;
    for (int i = 0; i < nsteps && rc == 0 && !cg_stopped(c); i++)
        rc = todo[i](c, err);
    cap_children_kill();
    cap_mps_stop();
    cg_emit_step(c, "mps", cap_now() - t0, rc == 0 && !cg_stopped(c),
                 rc ? err->msg : "");
    cg_emit_end(c, rc == 0 && !cg_stopped(c), rc != 0, cap_now() - t0);
    if (cg_stopped(c))
        return CAP_CAMPAIGN_INTERRUPTED;  /* whatever the interrupted
                                             client's error was */
    return rc ? CAP_CAMPAIGN_FAILED : CAP_CAMPAIGN_OK;
}

int cap_campaign_mps(const cap_campaign_opts *o, const char *self,
                     ut_err *err)
{
    cg_ctx c;
    cg_init(&c, o, self);
    int rc = mps(&c, err);
    cg_free(&c);
    return rc;
}
