/*
 * derive_out.c - what `igniter derive` writes (capture.h, cap_derive),
 * made in memory from the records derive_raw.c read and put together
 * (capture/derive_int.h): the profile the model is fitted from, with the
 * capture's provenance; the measured solo tables and pairs that the
 * simulator's `measured` back end, gpu-lets+ and `igniter accuracy` read;
 * the held-out multi-way runs; and cap_derive, which reads the raw file
 * (derive_raw.c) and writes the four files all or nothing. Needs model/,
 * like derive_raw.c.
 */
#include "capture/derive_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the profile -------------------------------------------------------- */

/* "NVIDIA H100 80GB HBM3" -> "H100", "Tesla V100-SXM2-16GB" -> "V100",
 * "NVIDIA RTX A6000" -> "RTX A6000": the vendor and family words dropped,
 * then the first word up to a space or '-', with the next word when the
 * first has no digit. */
static void short_gpu_name(const char *full, char *out, size_t n)
{
    static const char *drop[] = {"NVIDIA ", "Tesla ", "GeForce ", "Quadro "};
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
            if (!strncmp(full, drop[i], strlen(drop[i]))) {
                full += strlen(drop[i]);
                again = 1;
            }
    }
    size_t k = strcspn(full, " -");
    int digit = 0;
    for (size_t i = 0; i < k; i++)
        digit |= full[i] >= '0' && full[i] <= '9';
    if (!digit && full[k] == ' ' && full[k + 1])
        k += 1 + strcspn(full + k + 1, " -");
    snprintf(out, n, "%.*s", (int)k, full);
}

/* A GPU name goes into JSON as is: no quotes, backslashes or controls. */
static int gpu_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= MDL_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static int build_copies(const dv_raw *r, mdl_profile *p, ut_err *err)
{
    char hint[256];
    size_t n = 0;
    for (size_t want = 1; want <= MDL_MAX_COPIES; want++) {
        const dv_copy *c = NULL;
        for (size_t i = 0; i < r->ncopy; i++)
            if (r->copy[i].n == (int)want)
                c = &r->copy[i];
        if (!c)
            break;
        p->copies_power_w[n] = c->power_w;
        p->copies_clock_mhz[n] = c->clock_mhz;
        p->copies_idle_ms[n] = c->idle_per_kernel_ms;
        n++;
    }
    if (n < 2 || n < r->ncopy)
        return ut_errf(err, "%s: expected \"copies\" records for n = 1, 2, "
                       "... without a gap (at least 2), got %zu record%s and "
                       "n = %zu missing (%s)", r->path, r->ncopy,
                       r->ncopy == 1 ? "" : "s", n + 1,
                       dv_step_hint(r, "copies", hint, sizeof hint));
    p->ncopies = n;
    return 0;
}

/* One model of the profile: the batch-1 kernel record, the solo points
 * that have power and clock, the L2 points on solo points, the pair. */
static int build_model(const dv_raw *r, int mi, mdl_model_profile *m,
                       ut_err *err)
{
    const dv_model *dm = &r->model[mi];
    char hint[256];
    strcpy(m->name, dm->name);
    m->input_bytes = dm->input_bytes;
    m->output_bytes = dm->output_bytes;

    const dv_kern *kr = NULL;
    for (size_t i = 0; i < r->nkern; i++) {
        const dv_kern *k = &r->kern[i];
        if (k->mi == mi && k->batch == 1 &&
            (!kr || (k->sms == r->sm_count && kr->sms != r->sm_count)))
            kr = k;
    }
    if (!kr)
        return ut_errf(err, "%s: %s: expected a \"kernels\" record at batch "
                       "1, got none (%s)", r->path, dm->name,
                       dv_step_hint(r, "kernels", hint, sizeof hint));
    m->kernels = kr->kernels;
    m->idle_ms = kr->idle_ms;

    size_t ns, unpowered = 0;
    const dv_solo **s = dv_solo_of(r, mi, &ns);
    m->grid = ut_xcalloc(ns ? ns : 1, sizeof *m->grid);
    double per_req_ms = (dm->input_bytes + dm->output_bytes) /
                        r->pcie_bytes_per_ms;
    for (size_t i = 0; i < ns; i++) {
        if (!isfinite(s[i]->power_w) || !isfinite(s[i]->clock_mhz)) {
            unpowered++;
            continue;
        }
        /* The model adds the transfers to the GPU time it predicts, so the
         * profile holds the measured latency less the same transfer time:
         * the prediction of a solo point is then what was measured. */
        double xfer = s[i]->batch * per_req_ms;
        if (!(s[i]->mean_ms > xfer)) {
            const dv_solo *x = s[i];
            free(s);
            return ut_errf(err, "%s:%d: solo.mean_ms: expected more than the "
                           "PCIe transfer time of batch %d (%g ms), got %g",
                           r->path, x->line, x->batch, xfer, x->mean_ms);
        }
        mdl_grid_point *g = &m->grid[m->ngrid++];
        g->batch = s[i]->batch;
        g->share_pct = dv_share_of(r, s[i]->sms);
        g->latency_ms = s[i]->mean_ms - xfer;
        g->power_w = s[i]->power_w;
        g->clock_mhz = s[i]->clock_mhz;
    }
    free(s);
    if (m->ngrid < DV_MIN_SOLO) {
        if (ns >= DV_MIN_SOLO)
            return ut_errf(err, "%s: %s: expected at least %d solo points "
                           "with power and clock, got %zu (%zu without: no "
                           "NVML sample in their window)", r->path, dm->name,
                           DV_MIN_SOLO, m->ngrid, unpowered);
        return ut_errf(err, "%s: %s: expected at least %d \"solo\" records, "
                       "got %zu (%s)", r->path, dm->name, DV_MIN_SOLO, ns,
                       dv_step_hint(r, "solo", hint, sizeof hint));
    }

    /* L2 points sit on solo points (the fit looks their throughput up
     * there): each record goes to the nearest solo point. */
    size_t nq = 0;
    for (size_t i = 0; i < r->nl2; i++)
        nq += r->l2[i].mi == mi;
    if (nq < DV_MIN_L2)
        return ut_errf(err, "%s: %s: expected at least %d \"l2\" records, got "
                       "%zu (%s)", r->path, dm->name, DV_MIN_L2, nq,
                       dv_step_hint(r, "l2", hint, sizeof hint));
    m->l2 = ut_xcalloc(nq, sizeof *m->l2);
    for (size_t i = 0; i < r->nl2; i++) {
        const dv_l2 *q = &r->l2[i];
        if (q->mi != mi)
            continue;
        const mdl_grid_point *best = NULL;
        double bd = INFINITY;
        for (size_t j = 0; j < m->ngrid; j++) {
            double d = dv_point_dist(q->batch, dv_share_of(r, q->sms),
                                  m->grid[j].batch, m->grid[j].share_pct);
            if (d < bd) {
                bd = d;
                best = &m->grid[j];
            }
        }
        if (!best)      /* only with a NaN share: refused earlier */
            return ut_errf(err, "%s: %s: no solo point near the l2 record "
                           "of batch %d on %d SMs", r->path, dm->name,
                           q->batch, q->sms);
        mdl_l2_point *lp = &m->l2[m->nl2++];
        lp->batch = best->batch;
        lp->share_pct = best->share_pct;
        lp->util_pct = q->l2_pct;
    }

    const dv_pself *ps = NULL;
    for (size_t i = 0; i < r->npself; i++)
        if (r->pself[i].mi == mi)
            ps = &r->pself[i];
    if (!ps)
        return ut_errf(err, "%s: %s: expected a \"pair_self\" record, got "
                       "none (%s)", r->path, dm->name,
                       dv_step_hint(r, "pair_self", hint, sizeof hint));
    m->active_solo_ms = ps->active_solo_ms;
    m->active_pair_ms = ps->active_pair_ms;
    m->clock_pair_mhz = ps->clock_mhz;
    m->power_pair_w = ps->power_w;
    /* The copy beside it runs batch 1 on the other partition: its L2 use
     * is that of the nearest L2 record to (1, its share). */
    const dv_l2 *q = dv_nearest_l2(r, mi, 1, dv_share_of(r, ps->sms));
    if (!(q->l2_pct > 0))
        return ut_errf(err, "%s:%d: l2.l2_util_pct: expected a positive L2 "
                       "use for %s's pair (the L2 sensitivity divides by "
                       "it), got %g", r->path, q->line, dm->name, q->l2_pct);
    m->pair_l2_util_pct = q->l2_pct;
    return 0;
}

static int build_profile(const dv_raw *r, const char *gpu_name,
                         double price_per_hour, mdl_profile *p, ut_err *err)
{
    memset(p, 0, sizeof *p);
    char name[96];
    if (gpu_name)
        snprintf(name, sizeof name, "%s", gpu_name);
    else
        short_gpu_name(r->gpu, name, sizeof name);
    if (!gpu_name_ok(name))
        return ut_errf(err, "%s: GPU name: expected 1..%d characters without "
                       "quotes or backslashes, got \"%.40s\"%s", r->path,
                       MDL_NAME_MAX - 1, name,
                       gpu_name ? "" : " (from meta.gpu; give one)");
    strcpy(p->gpu, name);
    p->max_clock_mhz = r->max_clock_mhz;
    p->power_cap_w = r->power_cap_w;
    p->idle_power_w = r->idle_power_w;
    int step = r->align_sms > 0 ? r->align_sms : DV_STEP_SMS;
    p->share_unit_pct = 100.0 * step / r->sm_count;
    p->pcie_bytes_per_ms = r->pcie_bytes_per_ms;
    p->price_per_hour = price_per_hour > 0 ? price_per_hour : 0;
    p->sm_count = r->sm_count;
    /* co-located partitions together reach partition_sms of the SMs */
    if (r->partition_sms > 0 && r->partition_sms < r->sm_count)
        p->colocated_pct = 100.0 * r->partition_sms / r->sm_count;
    if (build_copies(r, p, err) < 0)
        return -1;
    p->models = ut_xcalloc(r->nmodel, sizeof *p->models);
    for (size_t i = 0; i < r->nmodel; i++) {
        p->nmodels = i + 1;
        if (build_model(r, (int)i, &p->models[i], err) < 0)
            return -1;
    }
    return 0;
}

/* The profile's text with the provenance ("meta": the capture's meta
 * record, whether it completed, what derived it) after "version". */
static char *profile_text(const dv_raw *r, const mdl_profile *p)
{
    char *body = mdl_profile_to_json(p);
    cJSON *meta = cJSON_Duplicate(r->meta, 1);
    cJSON_AddBoolToObject(meta, "capture_complete",
                          r->end_line && r->complete);
    const char *base = strrchr(r->path, '/');
    cJSON_AddStringToObject(meta, "raw", base ? base + 1 : r->path);
    cJSON_AddStringToObject(meta, "derived_by", "igniter derive "
                            IGNITER_VERSION);
    char *mj = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    static const char anchor[] = "  \"version\": 1,\n";
    char *at = strstr(body, anchor);
    ut_buf b = {0};
    if (!at) {
        /* mdl_profile_to_json always writes the anchor; without it, keep
         * the profile and lose only the provenance */
        ut_buf_printf(&b, "%s", body);
    } else {
        at += sizeof anchor - 1;
        ut_buf_printf(&b, "%.*s  \"meta\": %s,\n%s", (int)(at - body), body,
                      mj ? mj : "{}", at);
    }
    free(mj);
    free(body);
    return b.s;
}

/* ---- measured files ----------------------------------------------------- */

enum { T_LATENCY, T_THROUGHPUT, T_L2, T_DRAM, T_STD, T_N };
static const char *const table_name[T_N] = {"latency", "throughput",
                                            "l2cache", "dram", "std"};

/*
 * The solo tables, one line per model and table, as in
 * traces/v100/measured-colocation.jsonl: {"M": {"latency": {"BATCH":
 * {"SHARE": ms}}}}, then throughput (req/s, batch / mean latency: the runs
 * are closed-loop, one batch after another), l2cache and dram (%: the
 * nearest ncu point of the model, as gpu-lets+ reads them per cell), and
 * std (ms; an addition: loaders skip tables they do not know), and, for
 * a capture that recorded them (q_ms), quantiles: each point's latency
 * quantiles at MDL_SD_LEVELS, the service-time distribution the measured
 * back end samples. Shares are written in full precision, so that pair
 * rows of the same partition name the same share. Batches above
 * MDL_MAX_BATCH are not in the tables.
 */
static void quantile_table(const dv_raw *r, size_t mi, const dv_solo **s,
                           size_t ns, ut_buf *b)
{
    char d[32];
    int row = -1;
    for (size_t i = 0; i < ns; i++) {
        const dv_solo *x = s[i];
        if (x->batch > MDL_MAX_BATCH || !x->has_q)
            continue;
        if (row < 0)
            ut_buf_printf(b, "{\"%s\": {\"quantiles\": {",
                          r->model[mi].name);
        if (x->batch != row)
            ut_buf_printf(b, "%s\"%d\": {", row < 0 ? "" : "}, ", x->batch);
        ut_buf_printf(b, "%s\"%s\": [", x->batch == row ? ", " : "",
                      ut_fmt_double(dv_share_of(r, x->sms), d));
        for (int k = 0; k < MDL_SD_NQ; k++)
            ut_buf_printf(b, "%s%s", k ? ", " : "",
                          ut_fmt_double(x->q_ms[k], d));
        ut_buf_printf(b, "]");
        row = x->batch;
    }
    if (row >= 0)
        ut_buf_printf(b, "}}}}\n");
}

static int solo_tables(const dv_raw *r, ut_buf *b, ut_err *err)
{
    char d1[32], d2[32];
    for (size_t mi = 0; mi < r->nmodel; mi++) {
        size_t ns, nsh = 0;
        const dv_solo **s = dv_solo_of(r, (int)mi, &ns);
        int sms_seen[MDL_MEAS_SHARES + 1];
        for (size_t i = 0; i < ns; i++) {
            size_t j = 0;
            while (j < nsh && sms_seen[j] != s[i]->sms)
                j++;
            if (j == nsh && s[i]->batch <= MDL_MAX_BATCH) {
                if (nsh == MDL_MEAS_SHARES) {
                    const dv_solo *x = s[i];
                    free(s);
                    return ut_errf(err, "%s:%d: solo.sms: expected at most "
                                   "%d partition sizes per model (the "
                                   "measured tables' limit), got one more: "
                                   "%d", r->path, x->line, MDL_MEAS_SHARES,
                                   x->sms);
                }
                sms_seen[nsh++] = s[i]->sms;
            }
        }
        int have_l2 = dv_nearest_l2(r, (int)mi, 1, 100) != NULL;
        for (int t = 0; t < T_N; t++) {
            if ((t == T_L2 || t == T_DRAM) && !have_l2)
                continue;
            ut_buf_printf(b, "{\"%s\": {\"%s\": {", r->model[mi].name,
                          table_name[t]);
            int row = -1;
            for (size_t i = 0; i < ns; i++) {
                const dv_solo *x = s[i];
                if (x->batch > MDL_MAX_BATCH)
                    continue;
                if (x->batch != row)
                    ut_buf_printf(b, "%s\"%d\": {", row < 0 ? "" : "}, ",
                                  x->batch);
                double share = dv_share_of(r, x->sms), v;
                const dv_l2 *q = dv_nearest_l2(r, (int)mi, x->batch, share);
                switch (t) {
                case T_LATENCY: v = x->mean_ms; break;
                case T_THROUGHPUT: v = 1000.0 * x->batch / x->mean_ms; break;
                case T_L2: v = q->l2_pct; break;
                case T_DRAM: v = q->dram_pct; break;
                default: v = x->std_ms; break;
                }
                ut_buf_printf(b, "%s\"%s\": %s", x->batch == row ? ", " : "",
                              ut_fmt_double(share, d1), ut_fmt_double(v, d2));
                row = x->batch;
            }
            ut_buf_printf(b, "%s}}}\n", row < 0 ? "" : "}");
        }
        quantile_table(r, mi, s, ns, b);
        free(s);
    }
    return 0;
}

/*
 * The pairs of one set, as the V100 file's "interference": latency and std
 * rows [model_a, model_b, batch_a, batch_b, share_a, a, b], the first
 * member as a. The format gives b 100 - share_a; green-context partitions
 * need not add up to the whole GPU (the rest partition is rounded to the
 * driver's step), so b's real share goes alongside, row by row, in
 * "share_b_pct" (loaders skip it).
 */
static size_t pair_rows(const dv_raw *r, int test, ut_buf *b, ut_err *err)
{
    size_t n = 0;
    ut_buf lat = {0}, sd = {0}, sb = {0};
    char d[6][32];
    for (size_t i = 0; i < r->ncoloc; i++) {
        const dv_coloc *c = &r->coloc[i];
        if (c->test != test || c->n != 2)
            continue;
        const dv_member *x = &c->m[0], *y = &c->m[1];
        double sa = dv_share_of(r, x->sms);
        if (!(sa < 100)) {
            ut_errf(err, "%s:%d: coloc.members[0].sms: expected fewer than "
                    "%d SMs in a pair, got %d", r->path, c->line,
                    r->sm_count, x->sms);
            n = (size_t)-1;
            break;
        }
        const char *sep = n ? ", " : "";
        ut_buf_printf(&lat, "%s[\"%s\", \"%s\", %d, %d, %s, %s, %s]", sep,
                      x->model, y->model, x->batch, y->batch,
                      ut_fmt_double(sa, d[0]), ut_fmt_double(x->mean_ms, d[1]),
                      ut_fmt_double(y->mean_ms, d[2]));
        ut_buf_printf(&sd, "%s[\"%s\", \"%s\", %d, %d, %s, %s, %s]", sep,
                      x->model, y->model, x->batch, y->batch, d[0],
                      ut_fmt_double(x->std_ms, d[3]),
                      ut_fmt_double(y->std_ms, d[4]));
        ut_buf_printf(&sb, "%s%s", n ? ", " : "",
                      ut_fmt_double(dv_share_of(r, y->sms), d[5]));
        n++;
    }
    if (n && n != (size_t)-1)
        ut_buf_printf(b, "{\"interference\": {\"latency\": [%s]}}\n"
                      "{\"interference\": {\"std\": [%s]}}\n"
                      "{\"interference\": {\"share_b_pct\": [%s]}}\n",
                      lat.s, sd.s, sb.s);
    ut_buf_free(&lat);
    ut_buf_free(&sd);
    ut_buf_free(&sb);
    return n;
}

/*
 * colocations-multi.jsonl: one held-out run of 3 or more workloads per
 * line, shaped so that `igniter predict --input` reads it as is:
 *   {"n": 3, "colocate": [{"model", "batch", "resource_pct", "sms",
 *    "latency_ms", "std_ms", "p50_ms", "p99_ms", "iters", "q_ms"}, ...],
 *    "power_w", "clock_mhz", "raw_line"}
 * latency_ms is the measured mean, like the pair files'; resource_pct the
 * member's share of the GPU; power and clock only where NVML sampled.
 */
static void multi_lines(const dv_raw *r, ut_buf *b)
{
    char d[32];
    for (size_t i = 0; i < r->ncoloc; i++) {
        const dv_coloc *c = &r->coloc[i];
        if (!c->test || c->n < 3)
            continue;
        ut_buf_printf(b, "{\"n\": %d, \"colocate\": [", c->n);
        for (int k = 0; k < c->n; k++) {
            const dv_member *m = &c->m[k];
            ut_buf_printf(b, "%s{\"model\": \"%s\", \"batch\": %d, "
                          "\"resource_pct\": %s, \"sms\": %d", k ? ", " : "",
                          m->model, m->batch,
                          ut_fmt_double(dv_share_of(r, m->sms), d), m->sms);
            ut_buf_printf(b, ", \"latency_ms\": %s",
                          ut_fmt_double(m->mean_ms, d));
            ut_buf_printf(b, ", \"std_ms\": %s", ut_fmt_double(m->std_ms, d));
            if (isfinite(m->p50_ms))
                ut_buf_printf(b, ", \"p50_ms\": %s",
                              ut_fmt_double(m->p50_ms, d));
            if (isfinite(m->p99_ms))
                ut_buf_printf(b, ", \"p99_ms\": %s",
                              ut_fmt_double(m->p99_ms, d));
            if (m->iters)
                ut_buf_printf(b, ", \"iters\": %d", m->iters);
            for (int q = 0; m->has_q && q < MDL_SD_NQ; q++)
                ut_buf_printf(b, "%s%s", q ? ", " : ", \"q_ms\": [",
                              ut_fmt_double(m->q_ms[q], d));
            if (m->has_q)
                ut_buf_printf(b, "]");
            ut_buf_printf(b, "}");
        }
        ut_buf_printf(b, "]");
        if (isfinite(c->power_w))
            ut_buf_printf(b, ", \"power_w\": %s",
                          ut_fmt_double(c->power_w, d));
        if (isfinite(c->clock_mhz))
            ut_buf_printf(b, ", \"clock_mhz\": %s",
                          ut_fmt_double(c->clock_mhz, d));
        ut_buf_printf(b, ", \"raw_line\": %d}\n", c->line);
    }
}

/* ---- writing ------------------------------------------------------------ */

enum { F_PROFILE, F_MEASURED, F_HELDOUT, F_MULTI, F_N };
static const char *const out_name[F_N] = {
    "profile.json", "measured-colocation.jsonl", "measured-heldout.jsonl",
    "colocations-multi.jsonl"};

/* Loads back what was staged with the project's own loaders: a file that
 * does not load is a bug here, and must not reach the output folder. */
static int check_staged(const char *dir, ut_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, out_name[F_PROFILE]);
    mdl_profile p;
    if (mdl_profile_load(path, &p, err) < 0)
        return ut_errprefix(err, "derived %s does not load",
                            out_name[F_PROFILE]);
    mdl_profile_free(&p);
    for (int f = F_MEASURED; f <= F_HELDOUT; f++) {
        snprintf(path, sizeof path, "%s/%s", dir, out_name[f]);
        mdl_measured m;
        if (mdl_measured_load(path, &m, err) < 0)
            return ut_errprefix(err, "derived %s does not load", out_name[f]);
        mdl_measured_free(&m);
    }
    return 0;
}

/*
 * All or nothing: the files go to a fresh folder inside out_dir (same file
 * system), are loaded back, then renamed into out_dir one by one. A rename
 * within one folder does not fail for want of space, so the window where
 * only some files are new is a crash between renames. On failure the
 * staging folder goes, and so does out_dir if this call made it.
 */
static int write_all(const char *out_dir, char *const text[F_N],
                     ut_err *err)
{
    struct stat st;
    int existed = stat(out_dir, &st) == 0;
    if (ut_mkdir_p(out_dir, err) < 0)
        return -1;
    size_t n = strlen(out_dir);
    char *stage = ut_xmalloc(n + 32);
    snprintf(stage, n + 32, "%s/.derive-XXXXXX", out_dir);
    if (!mkdtemp(stage)) {
        ut_errf(err, "cannot write into '%s': %s", out_dir, strerror(errno));
        free(stage);
        if (!existed)
            rmdir(out_dir);
        return -1;
    }
    char from[4096], to[4096];
    int rc = 0, f;
    for (f = 0; f < F_N && rc == 0; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        rc = ut_write_atomic(from, text[f], strlen(text[f]), err);
    }
    if (rc == 0)
        rc = check_staged(stage, err);
    for (f = 0; f < F_N && rc == 0; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        snprintf(to, sizeof to, "%s/%s", out_dir, out_name[f]);
        if (rename(from, to) < 0)
            rc = ut_errf(err, "cannot write '%s': %s", to, strerror(errno));
    }
    for (f = 0; f < F_N; f++) {
        snprintf(from, sizeof from, "%s/%s", stage, out_name[f]);
        unlink(from);
    }
    rmdir(stage);
    free(stage);
    if (rc < 0 && !existed)
        rmdir(out_dir);
    return rc;
}

int cap_derive(const char *raw_path, const char *out_dir,
               const char *gpu_name, double price_per_hour, ut_err *err)
{
    dv_raw r;
    memset(&r, 0, sizeof r);
    r.path = raw_path;
    mdl_profile p;
    memset(&p, 0, sizeof p);
    char *text[F_N] = {NULL, NULL, NULL, NULL};
    ut_buf solo = {0}, b = {0};
    char hint[256];
    int rc = -1;
    if (dv_raw_read(&r, err) < 0 ||
        build_profile(&r, gpu_name, price_per_hour, &p, err) < 0 ||
        solo_tables(&r, &solo, err) < 0)
        goto out;
    text[F_PROFILE] = profile_text(&r, &p);
    ut_buf_printf(&b, "%s", solo.s);
    size_t nfit = pair_rows(&r, 0, &b, err);
    text[F_MEASURED] = b.s;
    b = (ut_buf){0};
    if (nfit == (size_t)-1)
        goto out;
    if (nfit == 0) {
        ut_errf(err, "%s: expected co-located pairs of the \"fit\" set, got "
                "none (%s)", raw_path,
                dv_step_hint(&r, "coloc", hint, sizeof hint));
        goto out;
    }
    ut_buf_printf(&b, "%s", solo.s);
    if (pair_rows(&r, 1, &b, err) == (size_t)-1) {
        ut_buf_free(&b);
        goto out;
    }
    text[F_HELDOUT] = b.s;
    b = (ut_buf){0};
    multi_lines(&r, &b);
    ut_buf_printf(&b, "%s", "");   /* an empty file is still a file */
    text[F_MULTI] = b.s;
    rc = write_all(out_dir, text, err);
out:
    for (int f = 0; f < F_N; f++)
        free(text[f]);
    ut_buf_free(&solo);
    mdl_profile_free(&p);
    dv_raw_free(&r);
    return rc;
}
