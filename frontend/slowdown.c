/*
 * slowdown.c - slow-downs the planner did not predict (frontend.h): one
 * spelling on the command line, one check, one rule for which workloads a
 * target names, one factor at a time t. Kept with the workload settings
 * (fe_workload_cfg) so that sim, compare and sweeps, which all pass those
 * settings to the simulator, apply them alike with no code of their own;
 * the simulator applies the factor (sim/slowdown.c). The wake costs
 * (fe_wake_*) live beside them and name their workloads by the same rule.
 */
#include "frontend/frontend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fe_slowdown_check(const fe_slowdown *sd, const char *where, ut_err *err)
{
    if (!(sd->factor >= FE_MIN_SLOWDOWN_FACTOR) ||
        !(sd->factor <= FE_MAX_SLOWDOWN_FACTOR))
        return ut_errf(err, "%s: factor: expected a number in [%g, %g], got "
                       "%g", where, FE_MIN_SLOWDOWN_FACTOR,
                       FE_MAX_SLOWDOWN_FACTOR, sd->factor);
    if (!(sd->from_s >= 0) || !(sd->from_s <= FE_MAX_DURATION_S))
        return ut_errf(err, "%s: from_s: expected seconds in [0, %g], got %g",
                       where, FE_MAX_DURATION_S, sd->from_s);
    if (!(sd->to_s > sd->from_s))
        return ut_errf(err, "%s: to_s: expected seconds after from_s = %g, "
                       "got %g", where, sd->from_s, sd->to_s);
    return 0;
}

/* A whole string as a finite number; 0 on success. */
static int whole_num(const char *s, size_t n, double *v)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    return *end || errno || !isfinite(*v) ? -1 : 0;
}

/* "FROM-TO" as two numbers; the '-' is the first one after FROM's
 * number (FROM may not be negative, so it cannot start with one). */
static int window(const char *s, size_t n, double *from, double *to)
{
    const char *dash = memchr(s, '-', n);
    while (dash && dash > s && (dash[-1] == 'e' || dash[-1] == 'E'))
        dash = memchr(dash + 1, '-', n - (size_t)(dash + 1 - s));
    if (!dash || dash == s)
        return -1;
    return whole_num(s, (size_t)(dash - s), from) < 0 ||
                   whole_num(dash + 1, n - (size_t)(dash + 1 - s), to) < 0
               ? -1
               : 0;
}

int fe_slowdown_parse(const char *s, const char *where, const char **target,
                      size_t *target_len, fe_slowdown *sd, ut_err *err)
{
    static const char form[] = "WORKLOAD_OR_MODEL:FACTOR[:FROM_S-TO_S]";
    size_t n = strlen(s);
    const char *c1 = strrchr(s, ':');
    if (!c1 || c1 == s)
        return ut_errf(err, "%s: expected %s, got '%s'", where, form, s);
    memset(sd, 0, sizeof *sd);
    sd->to_s = INFINITY;
    const char *fac = c1 + 1;
    size_t nfac = n - (size_t)(fac - s);
    *target = s;
    *target_len = (size_t)(c1 - s);
    /* a last part FROM-TO is the window when a factor stands before it */
    const char *c0 = NULL;
    for (const char *p = c1 - 1; p > s && !c0; p--)
        if (*p == ':')
            c0 = p;
    double from, to;
    if (c0 && c0 > s && window(c1 + 1, nfac, &from, &to) == 0) {
        fac = c0 + 1;
        nfac = (size_t)(c1 - fac);
        *target_len = (size_t)(c0 - s);
        sd->from_s = from;
        sd->to_s = to;
    }
    if (whole_num(fac, nfac, &sd->factor) < 0)
        return ut_errf(err, "%s: factor: expected a number in [%g, %g] (%s), "
                       "got '%.*s'", where, FE_MIN_SLOWDOWN_FACTOR,
                       FE_MAX_SLOWDOWN_FACTOR, form,
                       (int)nfac, fac);
    return fe_slowdown_check(sd, where, err);
}

static const char *wname(const void *ctx, size_t i)
{
    return ((const fe_workload_cfg *)ctx)[i].name;
}

/*
 * Calls add(wc[w]) for every workload that target names: a workload's
 * name first, a model of that name counting only when no workload has it.
 * Unknown target: an error naming `where` and listing the workloads. One
 * rule for slow-downs and wake costs.
 */
static int each_target(fe_workload_cfg *wc, size_t nw,
                       const char *const *models, const char *target,
                       size_t target_len, const char *where, ut_err *err,
                       int (*add)(fe_workload_cfg *, const void *,
                                  const char *, ut_err *),
                       const void *arg)
{
    size_t hits = 0;
    for (int by_model = 0; by_model < 2 && hits == 0; by_model++)
        for (size_t w = 0; w < nw; w++) {
            const char *name = by_model ? (models ? models[w] : NULL)
                                        : wc[w].name;
            if (!name || strlen(name) != target_len ||
                strncmp(name, target, target_len))
                continue;
            if (add(&wc[w], arg, where, err) < 0)
                return -1;
            hits++;
        }
    if (hits == 0) {
        char names[256];
        return ut_errf(err, "%s: expected a workload%s of the run (%s), got "
                       "\"%.*s\"", where, models ? " or model" : "",
                       ut_names(names, sizeof names, wname, wc, nw),
                       (int)(target_len > 80 ? 80 : target_len), target);
    }
    return 0;
}

static int add_slowdown(fe_workload_cfg *wc, const void *arg,
                        const char *where, ut_err *err)
{
    if (wc->nslow == FE_MAX_SLOWDOWNS)
        return ut_errf(err, "%s: expected at most %d slow-downs of "
                       "workload \"%s\", got more", where,
                       FE_MAX_SLOWDOWNS, wc->name);
    wc->slow[wc->nslow++] = *(const fe_slowdown *)arg;
    return 0;
}

int fe_slowdown_add(fe_workload_cfg *wc, size_t nw,
                    const char *const *models, const char *target,
                    size_t target_len, const fe_slowdown *sd,
                    const char *where, ut_err *err)
{
    return each_target(wc, nw, models, target, target_len, where, err,
                       add_slowdown, sd);
}

int64_t fe_slowdown_ns(double s)
{
    /* beyond any run (FE_MAX_DURATION_S), infinity included: never */
    return s > 2 * FE_MAX_DURATION_S ? INT64_MAX : llround(s * 1e9);
}

double fe_slowdown_factor(const fe_workload_cfg *wc, int64_t t_ns)
{
    double f = 1;
    for (size_t k = 0; k < wc->nslow; k++)
        if (t_ns >= fe_slowdown_ns(wc->slow[k].from_s) &&
            t_ns < fe_slowdown_ns(wc->slow[k].to_s))
            f *= wc->slow[k].factor;
    /* eight windows of 1000 would be 1e24 (past int64 nanoseconds), of
     * 0.001 a batch of no time */
    return f > FE_MAX_SLOWDOWN_FACTOR   ? FE_MAX_SLOWDOWN_FACTOR
           : f < FE_MIN_SLOWDOWN_FACTOR ? FE_MIN_SLOWDOWN_FACTOR
                                        : f;
}

size_t fe_slowdown_json(ut_buf *b, const fe_workload_cfg *wc, size_t nw)
{
    size_t n = 0;
    for (size_t w = 0; w < nw; w++)
        for (size_t k = 0; k < wc[w].nslow; k++) {
            const fe_slowdown *sd = &wc[w].slow[k];
            ut_buf_printf(b, "%s{\"workload\": ",
                          n++ ? ", " : "\"slowdowns\": [");
            ut_buf_json_str(b, wc[w].name);
            ut_buf_printf(b, ", ");
            ut_buf_json_num(b, "factor", sd->factor, ", ");
            ut_buf_json_num(b, "from_s", sd->from_s,
                            isinf(sd->to_s) ? "}" : ", ");
            if (!isinf(sd->to_s))
                ut_buf_json_num(b, "to_s", sd->to_s, "}");
        }
    if (n)
        ut_buf_printf(b, "]");
    return n;
}

int fe_wake_check(double us, const char *where, ut_err *err)
{
    if (!(us >= 0) || !(us <= FE_MAX_WAKE_US))
        return ut_errf(err, "%s: us: expected microseconds in [0, %g], got "
                       "%g", where, FE_MAX_WAKE_US, us);
    return 0;
}

int fe_wake_parse(const char *s, const char *where, const char **target,
                  size_t *target_len, double *us, ut_err *err)
{
    const char *c = strrchr(s, ':');
    if (!c || c == s)
        return ut_errf(err, "%s: expected WORKLOAD_OR_MODEL:US, got '%s'",
                       where, s);
    *target = s;
    *target_len = (size_t)(c - s);
    size_t n = strlen(c + 1);
    if (whole_num(c + 1, n, us) < 0)
        return ut_errf(err, "%s: us: expected microseconds in [0, %g] "
                       "(WORKLOAD_OR_MODEL:US), got '%.*s'", where,
                       FE_MAX_WAKE_US, (int)(n > 80 ? 80 : n), c + 1);
    return fe_wake_check(*us, where, err);
}

static int add_wake(fe_workload_cfg *wc, const void *arg, const char *where,
                    ut_err *err)
{
    /* two costs of one workload (by name and by model, say) would leave
     * which one holds to the order of the options */
    if (wc->has_wake)
        return ut_errf(err, "%s: expected one wake cost of workload \"%s\", "
                       "got a second", where, wc->name);
    wc->has_wake = 1;
    wc->wake_us = *(const double *)arg;
    return 0;
}

int fe_wake_add(fe_workload_cfg *wc, size_t nw, const char *const *models,
                const char *target, size_t target_len, double us,
                const char *where, ut_err *err)
{
    return each_target(wc, nw, models, target, target_len, where, err,
                       add_wake, &us);
}

size_t fe_wake_json(ut_buf *b, const fe_workload_cfg *wc, size_t nw)
{
    size_t n = 0;
    for (size_t w = 0; w < nw; w++) {
        if (!wc[w].has_wake)
            continue;
        ut_buf_printf(b, "%s{\"workload\": ", n++ ? ", " : "\"wakes\": [");
        ut_buf_json_str(b, wc[w].name);
        ut_buf_printf(b, ", ");
        ut_buf_json_num(b, "us", wc[w].wake_us, "}");
    }
    if (n)
        ut_buf_printf(b, "]");
    return n;
}
