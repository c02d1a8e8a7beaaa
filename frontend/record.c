/*
 * record.c - the statistics and output files of a run (frontend.h), shared by
 * the simulator and the real provisioner: counting per request and per
 * interval, the timeseries and trace, and summary.json, workloads.csv and
 * cdf.csv at the end.
 */
#include "frontend/frontend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct rec_files {
    ut_afile ts, tr;
} rec_files;

static double interval_of(const fe_run *c)
{
    return (double)llround((c->interval_s > 0 ? c->interval_s : 1) * 1e9) /
           1e9;
}

/* ---- a run's accounting ------------------------------------------------- */

double fe_gpu_hours(int64_t created_ns, int64_t end_ns)
{
    return end_ns > created_ns ? (double)(end_ns - created_ns) / 3.6e12 : 0;
}

double fe_cost_per_hour(const fe_result *r)
{
    return r->sim_end_s > 0 ? r->cost * 3600 / r->sim_end_s : 0;
}

void fe_result_free(fe_result *r)
{
    for (size_t w = 0; r->w && w < r->nw; w++)
        fe_hist_free(&r->w[w].lat);
    free(r->w);
    free(r->gpu_busy);
    memset(r, 0, sizeof *r);
}

void fe_rec_init(fe_rec *r, size_t nw, int64_t warm_ns, int64_t iv_ns,
                  size_t trace_max)
{
    memset(r, 0, sizeof *r);
    r->nw = nw;
    r->st = ut_xcalloc(nw ? nw : 1, sizeof *r->st);
    r->iv = ut_xcalloc(nw ? nw : 1, sizeof *r->iv);
    for (size_t w = 0; w < nw; w++) {
        fe_hist_init(&r->st[w].lat);
        fe_hist_init(&r->iv[w].h);
    }
    r->warm_ns = warm_ns;
    r->iv_ns = iv_ns;
    r->next_iv = iv_ns;
    r->trace_max = trace_max;
    r->files = ut_xcalloc(1, sizeof(rec_files));
}

void fe_rec_free(fe_rec *r)
{
    if (r->files)
        fe_rec_abort(r);
    for (size_t w = 0; w < r->nw; w++) {
        fe_hist_free(&r->iv[w].h);
        if (r->st)    /* NULL once handed over to an fe_result */
            fe_hist_free(&r->st[w].lat);
    }
    free(r->iv);
    free(r->st);
    free(r->files);
    memset(r, 0, sizeof *r);
}

int fe_rec_open(fe_rec *r, const char *out_dir, const pol_plan *plan,
                 ut_err *err)
{
    rec_files *f = r->files;
    char path[UT_PATH_MAX + 32];
    /* the folder is made only now, after every check of the run passed:
     * bad input leaves nothing behind */
    if (ut_mkdir_p(out_dir, err) < 0)
        return -1;
    if (access(out_dir, W_OK) < 0)
        return ut_errf(err, "cannot write in '%s': %s", out_dir,
                       strerror(errno));
    ut_clean_temps(out_dir);
    snprintf(path, sizeof path, "%s/timeseries.csv", out_dir);
    if (ut_afile_open(&f->ts, path, err) < 0)
        return -1;
    r->ts = f->ts.f;
    fprintf(r->ts, "t_s,workload,arrivals,completions,p99_ms,violations,"
            "share_pct,instances,batch\n");
    if (r->trace_max == 0)
        return 0;
    snprintf(path, sizeof path, "%s/trace.json", out_dir);
    if (ut_afile_open(&f->tr, path, err) < 0)
        return -1;
    r->tr = f->tr.f;
    fprintf(r->tr, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"
            "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,"
            "\"args\":{\"name\":\"GPU 0\"}}");
    int i = 0;
    for (size_t j = 0; j < plan->ngpus; j++) {
        if (j)
            fprintf(r->tr, ",\n{\"name\":\"process_name\",\"ph\":\"M\","
                    "\"pid\":%zu,\"args\":{\"name\":\"GPU %zu\"}}", j, j);
        for (size_t k = 0; k < plan->gpus[j].n; k++, i++) {
            char label[POL_NAME_MAX + 32];
            snprintf(label, sizeof label, "%s (%g%%)",
                     plan->gpus[j].inst[k].name,
                     plan->gpus[j].inst[k].share_pct);
            fprintf(r->tr, ",\n{\"name\":\"thread_name\",\"ph\":\"M\","
                    "\"pid\":%zu,\"tid\":%d,\"args\":{\"name\":", j, i);
            ut_fputs_json(r->tr, label);
            fprintf(r->tr, "}}");
        }
    }
    return 0;
}

int fe_rec_commit(fe_rec *r, ut_err *err)
{
    rec_files *f = r->files;
    if (r->tr)
        fprintf(r->tr, "\n]}\n");
    int rc = ut_afile_commit(&f->ts, err);
    if (rc == 0 && f->tr.f)
        rc = ut_afile_commit(&f->tr, err);
    fe_rec_abort(r);
    return rc;
}

void fe_rec_abort(fe_rec *r)
{
    rec_files *f = r->files;
    ut_afile_abort(&f->ts);
    ut_afile_abort(&f->tr);
    r->ts = r->tr = NULL;
}

void fe_rec_arrival(fe_rec *r, int w, int64_t t, int dropped)
{
    r->iv[w].arr++;
    if (t >= r->warm_ns)
        r->st[w].arrived++;
    if (dropped) {
        r->iv[w].drop++;
        if (t >= r->warm_ns)
            r->st[w].dropped++;
    }
}

void fe_rec_dispatch(fe_rec *r, int w, const int64_t *arr, int k,
                      int64_t now)
{
    fe_wstats *st = &r->st[w];
    if (now >= r->warm_ns) {
        st->batches++;
        st->batch_items += (uint64_t)k;
    }
    for (int j = 0; j < k; j++)
        if (arr[j] >= r->warm_ns)
            st->queue_ns_sum += (double)(now - arr[j]);
}

void fe_rec_complete(fe_rec *r, int w, const int64_t *arr, int k,
                      int64_t start, int64_t now, int gpu, int tid)
{
    fe_wstats *st = &r->st[w];
    fe_rec_iv *iv = &r->iv[w];
    if (r->tr && r->trace_n < r->trace_max) {
        char label[POL_NAME_MAX + 16];
        snprintf(label, sizeof label, "%s b=%d", st->name, k);
        fprintf(r->tr, ",\n{\"name\":");
        ut_fputs_json(r->tr, label);
        fprintf(r->tr, ",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,"
                "\"dur\":%.3f,\"args\":{\"batch\":%d}}", gpu, tid,
                (double)start / 1e3, (double)(now - start) / 1e3, k);
        r->trace_n++;
    }
    /* the interval's histogram and the run's take the same latency: after
     * the warm-up, both in one call (fe_hist_add2: the same bytes) */
    for (int j = 0; j < k; j++) {
        int64_t lat = now - arr[j];
        iv->done++;
        if (lat > iv->slo_ns)
            iv->viol++;
        if (arr[j] < r->warm_ns) {
            fe_hist_add(&iv->h, lat);
            continue;
        }
        fe_hist_add2(&iv->h, &st->lat, lat);
        st->completed++;
        st->area_ns += (double)lat;
        if (lat > iv->slo_ns)
            st->violations++;
    }
    if (start >= r->warm_ns) {
        st->service_ns_sum += (double)(now - start);
        st->service_batches++;
    }
    r->requests += (uint64_t)k;
}

void fe_rec_unfinished(fe_rec *r, int w, int64_t t, int64_t end)
{
    if (t >= r->warm_ns) {
        r->st[w].queued_end++;
        r->st[w].area_ns += (double)(end - t);
        if (end - t > r->iv[w].slo_ns)
            r->st[w].late_end++;
    }
}

void fe_rec_interval_rows(fe_rec *r, const double *share, const int *count,
                          const int *batch)
{
    double t0 = (double)(r->next_iv - r->iv_ns) / 1e9;
    for (size_t w = 0; w < r->nw; w++) {
        const fe_rec_iv *iv = &r->iv[w];
        char q[2 * POL_NAME_MAX + 4];
        fprintf(r->ts, "%.9g,%s,%llu,%llu,%.6f,%llu,%.6g,%d,%d\n", t0,
                ut_csv(r->st[w].name, q, sizeof q),
                (unsigned long long)iv->arr,
                (unsigned long long)iv->done,
                (double)fe_hist_quantile(&iv->h, 0.99) / 1e6,
                (unsigned long long)iv->viol, share[w], count[w], batch[w]);
    }
}

void fe_rec_observe(const fe_rec *r, const uint64_t *queued,
                    pol_observation *obs)
{
    double len_s = (double)r->iv_ns / 1e9;
    for (size_t w = 0; w < r->nw; w++) {
        const fe_rec_iv *iv = &r->iv[w];
        pol_observation *o = &obs[w];
        memset(o, 0, sizeof *o);
        o->name = r->st[w].name;
        o->slo_ms = r->st[w].slo_ms;
        o->arrival_rps = (double)iv->arr / len_s;
        o->p99_ms = (double)fe_hist_quantile(&iv->h, 0.99) / 1e6;
        o->mean_ms = fe_hist_mean(&iv->h) / 1e6;
        o->completed = iv->done;
        o->violations = iv->viol;
        o->dropped = iv->drop;
        o->violation_pct = iv->done ? 100.0 * (double)iv->viol /
                                          (double)iv->done
                                    : 0;
        o->queued = queued ? queued[w] : 0;
    }
}

void fe_rec_interval_reset(fe_rec *r)
{
    for (size_t w = 0; w < r->nw; w++) {
        fe_rec_iv *iv = &r->iv[w];
        iv->arr = iv->done = iv->viol = iv->drop = 0;
        fe_hist_reset(&iv->h);
    }
    r->next_iv += r->iv_ns;
}

static double pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0;
}

#define MS(ns) ((double)(ns) / 1e6)

/* A workload's figures derived from its counts, as both writers print
 * them: violation %, throughput, mean batch, mean queueing delay (ms). */
typedef struct derived {
    double viol_pct, tput_rps, mean_batch, queue_ms;
} derived;

double fe_violation_pct(const fe_wstats *st)
{
    return pct(st->violations + st->late_end + st->dropped,
               st->completed + st->late_end + st->dropped);
}

double fe_total_violation_pct(const fe_result *r)
{
    uint64_t bad = 0, all = 0;
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *st = &r->w[w];
        bad += st->violations + st->late_end + st->dropped;
        all += st->completed + st->late_end + st->dropped;
    }
    return pct(bad, all);
}

static derived derive(const fe_wstats *st, const fe_result *r)
{
    derived d;
    d.viol_pct = fe_violation_pct(st);
    d.tput_rps = r->window_s > 0 ? (double)st->completed / r->window_s : 0;
    d.mean_batch = st->batches ? (double)st->batch_items / (double)st->batches
                               : 0;
    d.queue_ms = st->batch_items ? MS(st->queue_ns_sum /
                                      (double)st->batch_items)
                                 : 0;
    return d;
}

static void write_summary(const fe_run *c, const char *backend,
                          const fe_result *r, const char *extra,
                          ut_buf *b)
{
    char d[32];
    ut_buf_printf(b, "{\n  \"generator\": \"igniter %s\",\n  \"commit\": ",
                  IGNITER_VERSION);
    ut_buf_json_str(b, ut_commit());
    ut_buf_printf(b, ",\n  \"complete\": %s,\n  \"inputs\": {\n",
                  r->complete ? "true" : "false");
    if (c->input_hash) {
        ut_buf_printf(b, "    \"input_hash\": ");
        ut_buf_json_str(b, c->input_hash);
        ut_buf_printf(b, ",\n");
    }
    const char *keys[5] = {"experiment", "plan", "profile", "measured",
                           "power"};
    const char *vals[5] = {c->experiment_path, c->plan_path, c->profile_path,
                           c->measured_path, c->power_path};
    for (int k = 0; k < 5; k++)
        if (vals[k]) {
            ut_buf_printf(b, "    \"%s\": ", keys[k]);
            ut_buf_json_str(b, vals[k]);
            ut_buf_printf(b, ",\n");
        }
    ut_buf_printf(b, "    \"policy\": ");
    ut_buf_json_str(b, c->plan->policy);
    ut_buf_printf(b, ",\n    \"backend\": \"%s\",\n    \"seed\": %llu,\n",
                  backend, (unsigned long long)c->seed);
    ut_buf_printf(b, "    \"duration_s\": %s,\n", ut_fmt_double(c->duration_s, d));
    ut_buf_printf(b, "    \"warmup_s\": %s,\n", ut_fmt_double(c->warmup_s, d));
    ut_buf_printf(b, "    \"interval_s\": %s,\n",
                  ut_fmt_double(interval_of(c), d));
    ut_buf_printf(b, "    \"arrivals\": {");
    for (size_t w = 0; w < c->nw; w++) {
        char *a = trace_spec_to_json(&c->wcfg[w].arrivals);
        ut_buf_printf(b, "%s\n      ", w ? "," : "");
        ut_buf_json_str(b, c->wcfg[w].name);
        ut_buf_printf(b, ": %s", a);
        free(a);
    }
    ut_buf_printf(b, "\n    }\n  },\n");
    uint64_t arr = 0, done = 0, drop = 0, viol = 0, late = 0;
    for (size_t w = 0; w < r->nw; w++) {
        arr += r->w[w].arrived;
        done += r->w[w].completed;
        drop += r->w[w].dropped;
        viol += r->w[w].violations;
        late += r->w[w].late_end;
    }
    ut_buf_printf(b, "  \"simulated_s\": %s,\n",
                  ut_fmt_double(r->sim_end_s, d));
    ut_buf_printf(b, "  \"totals\": {\"requests\": %llu, \"completed\": %llu, "
                  "\"dropped\": %llu, \"violations\": %llu, ",
                  (unsigned long long)arr, (unsigned long long)done,
                  (unsigned long long)drop, (unsigned long long)viol);
    if (late)
        ut_buf_printf(b, "\"late_at_end\": %llu, ", (unsigned long long)late);
    ut_buf_printf(b, "\"slo_violation_pct\": %.6f, ",
                  fe_total_violation_pct(r));
    if (r->peak_gpus && r->peak_gpus != r->ngpus)
        ut_buf_printf(b, "\"peak_gpus\": %zu, ", r->peak_gpus);
    ut_buf_printf(b, "\"num_gpus\": %zu, \"plan_gpus\": %zu, "
                  "\"price_per_hour\": %s, ", r->ngpus, c->plan->ngpus,
                  ut_fmt_double(c->plan->price_per_hour, d));
    ut_buf_printf(b, "\"plan_cost_per_hour\": %s, \"cost_per_hour\": %.6f, ",
                  ut_fmt_double(c->plan->cost_per_hour, d),
                  fe_cost_per_hour(r));
    ut_buf_printf(b, "\"gpu_hours\": %.6f, \"cost\": %.6f, "
                  "\"reconfigurations\": %zu},\n  \"gpus\": [", r->gpu_hours,
                  r->cost, r->reconfigs);
    for (size_t j = 0; j < r->ngpus; j++)
        ut_buf_printf(b, "%s{\"gpu\": %zu, \"busy_pct\": %.4f}", j ? ", " : "",
                      j, 100 * r->gpu_busy[j]);
    ut_buf_printf(b, "],\n  \"workloads\": [");
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *st = &r->w[w];
        const fe_hist *h = &st->lat;
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
        if (st->late_end)
            ut_buf_printf(b, "\"late_at_end\": %llu, ",
                          (unsigned long long)st->late_end);
        if (h->count)
            ut_buf_printf(b, "\"latency_ms\": {\"mean\": %.6f, \"p50\": "
                          "%.6f, \"p95\": %.6f, \"p99\": %.6f, \"p999\": "
                          "%.6f, \"max\": %.6f},\n     ", MS(fe_hist_mean(h)),
                          MS(fe_hist_quantile(h, 0.5)),
                          MS(fe_hist_quantile(h, 0.95)),
                          MS(fe_hist_quantile(h, 0.99)),
                          MS(fe_hist_quantile(h, 0.999)), MS(h->max));
        else   /* nothing completed: no latency to report, not 0 */
            ut_buf_printf(b, "\"latency_ms\": {\"mean\": null, \"p50\": "
                          "null, \"p95\": null, \"p99\": null, \"p999\": "
                          "null, \"max\": null},\n     ");
        ut_buf_printf(b, "\"mean_service_ms\": %.6f, ",
                      st->service_batches
                          ? MS(st->service_ns_sum /
                               (double)st->service_batches)
                          : 0);
        derived dv = derive(st, r);
        ut_buf_printf(b, "\"slo_violation_pct\": %.6f, \"throughput_rps\": "
                      "%.6f, \"mean_batch\": %.6f, \"mean_queue_ms\": %.6f}",
                      dv.viol_pct, dv.tput_rps, dv.mean_batch, dv.queue_ms);
    }
    ut_buf_printf(b, "\n  ]%s%s%s%s\n}\n", extra ? ",\n  " : "",
                  extra ? extra : "", c->extra_json ? ",\n  " : "",
                  c->extra_json ? c->extra_json : "");
}

static void write_workloads_csv(const fe_result *r, ut_buf *b)
{
    ut_buf_printf(b, "workload,model,slo_ms,instances,requests,completed,"
                  "dropped,queued_at_end,late_at_end,mean_ms,p50_ms,p95_ms,"
                  "p99_ms,p999_ms,max_ms,slo_violation_pct,throughput_rps,"
                  "mean_batch,mean_queue_ms\n");
    for (size_t w = 0; w < r->nw; w++) {
        const fe_wstats *st = &r->w[w];
        const fe_hist *h = &st->lat;
        derived dv = derive(st, r);
        char q1[2 * POL_NAME_MAX + 4], q2[2 * MDL_NAME_MAX + 4];
        ut_buf_printf(b, "%s,%s,%g,%d,%llu,%llu,%llu,%llu,%llu,",
                      ut_csv(st->name, q1, sizeof q1),
                      ut_csv(st->model, q2, sizeof q2), st->slo_ms,
                      st->instances, (unsigned long long)st->arrived,
                      (unsigned long long)st->completed,
                      (unsigned long long)st->dropped,
                      (unsigned long long)st->queued_end,
                      (unsigned long long)st->late_end);
        if (h->count)
            ut_buf_printf(b, "%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,",
                          MS(fe_hist_mean(h)), MS(fe_hist_quantile(h, 0.5)),
                          MS(fe_hist_quantile(h, 0.95)),
                          MS(fe_hist_quantile(h, 0.99)),
                          MS(fe_hist_quantile(h, 0.999)), MS(h->max));
        else   /* nothing completed: no latency, empty cells */
            ut_buf_printf(b, ",,,,,,");
        ut_buf_printf(b, "%.6f,%.6f,%.6f,%.6f\n", dv.viol_pct, dv.tput_rps,
                      dv.mean_batch, dv.queue_ms);
    }
}

/* Latency quantiles per workload and over all requests, for CDF plots. */
static void write_cdf_csv(const fe_result *r, ut_buf *b)
{
    static const double qs[] = {0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                                0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98,
                                0.99, 0.995, 0.999, 1};
    fe_hist all;
    fe_hist_init(&all);
    ut_buf_printf(b, "workload,quantile,latency_ms\n");
    for (size_t w = 0; w < r->nw; w++) {
        const fe_hist *h = &r->w[w].lat;
        char q[2 * POL_NAME_MAX + 4];
        const char *name = ut_csv(r->w[w].name, q, sizeof q);
        for (size_t k = 0; h->count && k < sizeof qs / sizeof qs[0]; k++)
            ut_buf_printf(b, "%s,%g,%.6f\n", name, qs[k],
                          MS(fe_hist_quantile(h, qs[k])));
        fe_hist_merge(&all, h);
    }
    for (size_t k = 0; all.count && k < sizeof qs / sizeof qs[0]; k++)
        ut_buf_printf(b, "all,%g,%.6f\n", qs[k],
                      MS(fe_hist_quantile(&all, qs[k])));
    fe_hist_free(&all);
}

static int write_buf(const char *dir, const char *name, const ut_buf *b,
                     ut_err *err)
{
    char path[UT_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ut_write_atomic(path, b->s ? b->s : "", b->len, err);
}


int fe_write_results(const fe_run *c, const char *backend,
                      const fe_result *r, const char *extra_json,
                      const char *out_dir, ut_err *err)
{
    ut_buf b = {0};
    write_summary(c, backend, r, extra_json, &b);
    int rc = write_buf(out_dir, "summary.json", &b, err);
    ut_buf_free(&b);
    if (rc == 0) {
        write_workloads_csv(r, &b);
        rc = write_buf(out_dir, "workloads.csv", &b, err);
        ut_buf_free(&b);
    }
    if (rc == 0) {
        write_cdf_csv(r, &b);
        rc = write_buf(out_dir, "cdf.csv", &b, err);
        ut_buf_free(&b);
    }
    return rc;
}
