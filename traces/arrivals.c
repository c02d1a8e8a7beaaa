/*
 * arrivals.c - arrival processes (traces.h): the spec parsers, the trace
 * file reader and the generators.
 *
 * Each generator owns a GSL mt19937 seeded from (master seed, stream key),
 * so a stream's arrivals depend on nothing else in the run.
 */
#include "traces/traces.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trace_gen {
    trace_spec spec;
    gsl_rng *rng;
    double t_ns;          /* last arrival, as a double: no drift */
    uint64_t i;           /* arrivals so far (constant, replay) */
    size_t step;          /* schedule: current step */
    double *ts;           /* replay: timestamps (s), from 0 */
    size_t n;
    double scale;         /* replay: trace seconds -> simulated ns */
    double period_ns;     /* replay: one loop */
};

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t trace_stream_seed(uint64_t master_seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return splitmix64(master_seed ^ splitmix64(h));
}

/* ---- specs ------------------------------------------------------------------ */

/* The arrival kinds, once: their names in the command-line and JSON forms
 * and in error messages. args: 0 takes no ARGS on the command line, 1
 * needs them, -1 parses whatever follows (and says what is wrong). A new
 * kind is one row here, its enum value in traces.h, its arguments in the
 * two parsers below and its generator in trace_gen_next. */
static const struct kind_info {
    const char *name;
    trace_kind kind;
    int args;
} kinds[] = {
    {"poisson", TRACE_POISSON, 0},
    {"constant", TRACE_CONSTANT, 0},
    {"gamma", TRACE_GAMMA, -1},
    {"schedule", TRACE_SCHEDULE, -1},
    {"replay", TRACE_REPLAY, 1},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* "poisson, constant, ...", for messages. */
static const char *kind_names(char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < NKINDS && len < n; k++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", k ? ", " : "",
                                kinds[k].name);
    return out;
}

static const struct kind_info *kind_by_name(const char *s, size_t len)
{
    for (size_t k = 0; k < NKINDS; k++)
        if (strlen(kinds[k].name) == len && !strncmp(kinds[k].name, s, len))
            return &kinds[k];
    return NULL;
}

static const char *kind_name(trace_kind kind)
{
    for (size_t k = 0; k < NKINDS; k++)
        if (kinds[k].kind == kind)
            return kinds[k].name;
    return "?";
}

static int check_steps(trace_spec *s, const char *where, ut_err *err)
{
    if (s->nsteps == 0 || s->step_s[0] != 0)
        return ut_errf(err, "%s: schedule: expected the first step at time 0, "
                       "got %g", where, s->nsteps ? s->step_s[0] : NAN);
    for (size_t k = 0; k < s->nsteps; k++) {
        if (!(s->factor[k] > 0) || !isfinite(s->factor[k]))
            return ut_errf(err, "%s: schedule: step %zu: expected a positive "
                           "factor, got %g", where, k, s->factor[k]);
        if (k && !(s->step_s[k] > s->step_s[k - 1]))
            return ut_errf(err, "%s: schedule: step %zu: expected a time after"
                           " %g s, got %g", where, k, s->step_s[k - 1],
                           s->step_s[k]);
    }
    return 0;
}

int trace_spec_parse(const char *str, double rate_rps, trace_spec *out,
                     ut_err *err)
{
    memset(out, 0, sizeof *out);
    out->rate_rps = rate_rps;
    out->cv = 1;
    if (!(rate_rps > 0))
        return ut_errf(err, "--arrivals: expected a positive rate, got %g",
                       rate_rps);
    const char *colon = strchr(str, ':');
    size_t klen = colon ? (size_t)(colon - str) : strlen(str);
    const char *args = colon ? colon + 1 : NULL;
    char *end;
    const struct kind_info *ki = kind_by_name(str, klen);
    if (!ki || (ki->args == 0 && args) || (ki->args == 1 && !args)) {
        char names[128];
        return ut_errf(err, "--arrivals: expected one of %s (KIND[:ARGS]), "
                       "got '%s'", kind_names(names, sizeof names), str);
    }
    out->kind = ki->kind;
    if (ki->kind == TRACE_GAMMA) {
        out->cv = args ? strtod(args, &end) : NAN;
        if (!args || *end || !(out->cv > 0) || !isfinite(out->cv))
            return ut_errf(err, "--arrivals: gamma: expected a positive "
                           "coefficient of variation, got '%s'",
                           args ? args : "");
    } else if (ki->kind == TRACE_SCHEDULE) {
        const char *p = args ? args : "";
        while (*p) {
            if (out->nsteps == TRACE_MAX_STEPS)
                return ut_errf(err, "--arrivals: schedule: expected at most "
                               "%d steps", TRACE_MAX_STEPS);
            double t = strtod(p, &end);
            if (end == p || *end != '=')
                return ut_errf(err, "--arrivals: schedule: expected "
                               "SECONDS=FACTOR, got '%s'", p);
            p = end + 1;
            double f = strtod(p, &end);
            if (end == p || (*end && *end != ','))
                return ut_errf(err, "--arrivals: schedule: expected "
                               "SECONDS=FACTOR, got '%s'", p);
            out->step_s[out->nsteps] = t;
            out->factor[out->nsteps++] = f;
            p = *end ? end + 1 : end;
        }
        if (check_steps(out, "--arrivals", err) < 0)
            return -1;
    } else if (ki->kind == TRACE_REPLAY) {
        size_t n = strlen(args);
        if (n > 5 && !strcmp(args + n - 5, ":loop")) {
            out->loop = 1;
            n -= 5;
        }
        if (n == 0 || n >= UT_PATH_MAX)
            return ut_errf(err, "--arrivals: replay: expected a file name, "
                           "got '%s'", args);
        memcpy(out->path, args, n);
        out->path[n] = '\0';
    }
    return 0;
}

int trace_spec_from_json(const cJSON *obj, double rate_rps, const char *where,
                         const char *base_dir, trace_spec *out, ut_err *err)
{
    memset(out, 0, sizeof *out);
    out->rate_rps = rate_rps;
    out->cv = 1;
    const char *kind;
    if (!cJSON_IsObject(obj))
        return ut_errf(err, "%s: expected an object like {\"kind\": "
                       "\"poisson\"}", where);
    if (ut_json_str(obj, "kind", where, &kind, err) < 0)
        return -1;
    const struct kind_info *ki = kind_by_name(kind, strlen(kind));
    if (!ki) {
        char names[128];
        return ut_errf(err, "%s.kind: expected one of %s, got \"%s\"", where,
                       kind_names(names, sizeof names), kind);
    }
    out->kind = ki->kind;
    if (ki->kind == TRACE_GAMMA) {
        if (ut_json_pos(obj, "cv", where, &out->cv, err) < 0)
            return -1;
    } else if (ki->kind == TRACE_SCHEDULE) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "steps");
        if (!cJSON_IsArray(st) || cJSON_GetArraySize(st) < 1 ||
            cJSON_GetArraySize(st) > TRACE_MAX_STEPS)
            return ut_errf(err, "%s.steps: expected an array of 1..%d "
                           "[seconds, factor] pairs", where, TRACE_MAX_STEPS);
        const cJSON *e;
        cJSON_ArrayForEach(e, st) {
            const cJSON *t = cJSON_GetArrayItem(e, 0),
                        *f = cJSON_GetArrayItem(e, 1);
            if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
                !cJSON_IsNumber(t) || !cJSON_IsNumber(f))
                return ut_errf(err, "%s.steps[%zu]: expected [seconds, "
                               "factor]", where, out->nsteps);
            out->step_s[out->nsteps] = t->valuedouble;
            out->factor[out->nsteps++] = f->valuedouble;
        }
        if (check_steps(out, where, err) < 0)
            return -1;
    } else if (ki->kind == TRACE_REPLAY) {
        const char *path;
        if (ut_json_str(obj, "path", where, &path, err) < 0)
            return -1;
        int n = path[0] == '/' || !base_dir
                    ? snprintf(out->path, sizeof out->path, "%s", path)
                    : snprintf(out->path, sizeof out->path, "%s%s", base_dir,
                               path);
        if (n >= (int)sizeof out->path)
            return ut_errf(err, "%s.path: expected a shorter path", where);
        out->loop = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "loop"));
    }
    return 0;
}

char *trace_spec_to_json(const trace_spec *s)
{
    ut_buf b = {0};
    char d[32];
    ut_buf_printf(&b, "{\"kind\": \"%s\", \"rate_rps\": %s",
                  kind_name(s->kind), ut_fmt_double(s->rate_rps, d));
    if (s->kind == TRACE_GAMMA)
        ut_buf_printf(&b, ", \"cv\": %s", ut_fmt_double(s->cv, d));
    if (s->kind == TRACE_SCHEDULE) {
        ut_buf_printf(&b, ", \"steps\": [");
        for (size_t k = 0; k < s->nsteps; k++) {
            char d2[32];
            ut_buf_printf(&b, "%s[%s, %s]", k ? ", " : "",
                          ut_fmt_double(s->step_s[k], d),
                          ut_fmt_double(s->factor[k], d2));
        }
        ut_buf_printf(&b, "]");
    }
    if (s->kind == TRACE_REPLAY) {
        ut_buf_printf(&b, ", \"path\": ");
        ut_buf_json_str(&b, s->path);
        ut_buf_printf(&b, ", \"loop\": %s", s->loop ? "true" : "false");
    }
    ut_buf_printf(&b, "}");
    return b.s;
}

/* ---- trace files ------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * One timestamp: seconds as a number, or `YYYY-MM-DD HH:MM:SS[.frac]`.
 * Whole seconds and the fraction are returned apart (*sec, *frac) so that
 * differences keep the 100 ns resolution of the Azure trace.
 */
static int parse_time(const char *s, size_t len, int64_t *sec, double *frac)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(buf, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se,
               &n) == 6 && n >= 19) {
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
            se > 60)
            return -1;
        *frac = 0;
        if (buf[n] == '.') {
            char *end;
            *frac = strtod(buf + n, &end);
            if (*end)
                return -1;
        } else if (buf[n]) {
            return -1;
        }
        *sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end || errno || !isfinite(v) || v < 0)
        return -1;
    *sec = (int64_t)floor(v);
    *frac = v - floor(v);
    return 0;
}

int trace_load_csv(const char *path, double **t_s, size_t *n, ut_err *err)
{
    *t_s = NULL;
    *n = 0;
    char *text = ut_read_file(path, NULL, err);
    if (!text)
        return -1;
    size_t cap = 1024, cnt = 0;
    double *t = ut_xmalloc(cap * sizeof *t);
    int64_t sec0 = 0;
    double frac0 = 0;
    int lineno = 0, seen = 0;
    char *line = text;
    int rc = 0;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t len = strcspn(line, ",\r");
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        char *f = line;
        while (len && (*f == ' ' || *f == '\t'))
            f++, len--;
        if (len > 0 || strchr(line, ',')) {
            int64_t sec;
            double frac;
            if (parse_time(f, len, &sec, &frac) < 0) {
                if (!seen && cnt == 0 && lineno == 1) {
                    seen = 1;   /* a header row */
                } else {
                    rc = ut_errf(err, "%s:%d: timestamp: expected seconds or "
                                 "YYYY-MM-DD HH:MM:SS[.fraction], got '%.*s'",
                                 path, lineno, (int)(len > 40 ? 40 : len), f);
                    break;
                }
            } else {
                if (cnt == 0) {
                    sec0 = sec;
                    frac0 = frac;
                }
                double v = (double)(sec - sec0) + (frac - frac0);
                if (cnt && v < t[cnt - 1]) {
                    rc = ut_errf(err, "%s:%d: timestamp: expected a time not "
                                 "before the previous one, got '%.*s'", path,
                                 lineno, (int)(len > 40 ? 40 : len), f);
                    break;
                }
                UT_GROW(t, cap, cnt + 1);
                t[cnt++] = v;
            }
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    free(text);
    if (rc == 0 && cnt < 2)
        rc = ut_errf(err, "%s: expected at least 2 timestamps, got %zu", path,
                     cnt);
    if (rc < 0) {
        free(t);
        return -1;
    }
    *t_s = t;
    *n = cnt;
    return 0;
}

/* ---- generators ----------------------------------------------------------------- */

trace_gen *trace_gen_new(const trace_spec *spec, uint64_t master_seed,
                         const char *stream_key, ut_err *err)
{
    if (!(spec->rate_rps > 0) || !isfinite(spec->rate_rps)) {
        ut_errf(err, "rate_rps: expected a positive number, got %g",
                spec->rate_rps);
        return NULL;
    }
    trace_gen *g = ut_xcalloc(1, sizeof *g);
    g->spec = *spec;
    if (spec->kind == TRACE_REPLAY) {
        if (trace_load_csv(spec->path, &g->ts, &g->n, err) < 0) {
            free(g);
            return NULL;
        }
        /* period P = D n / (n - 1): looping keeps the mean gap D / (n - 1);
         * scaled so that n arrivals take n / rate seconds */
        double d = g->ts[g->n - 1];
        if (!(d > 0)) {
            ut_errf(err, "%s: expected timestamps spanning some time, got "
                    "all equal", spec->path);
            free(g->ts);
            free(g);
            return NULL;
        }
        double period_s = d * (double)g->n / (double)(g->n - 1);
        g->scale = (double)g->n / spec->rate_rps / period_s * 1e9;
        g->period_ns = period_s * g->scale;
    } else {
        g->rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(g->rng,
                    (unsigned long)trace_stream_seed(master_seed, stream_key));
    }
    return g;
}

static int64_t to_ns(double t)
{
    return t >= 9.2e18 ? INT64_MAX : llround(t);
}

/* Non-homogeneous Poisson with a piecewise-constant rate: draw a gap at the
 * current step's rate; if it crosses the next step, restart from that step
 * boundary (the exponential is memoryless, so this is exact). */
static int64_t next_schedule(trace_gen *g)
{
    const trace_spec *s = &g->spec;
    for (;;) {
        double rate = s->rate_rps * s->factor[g->step] / 1e9;
        double t = g->t_ns + gsl_ran_exponential(g->rng, 1 / rate);
        if (g->step + 1 < s->nsteps && t >= s->step_s[g->step + 1] * 1e9) {
            g->t_ns = s->step_s[g->step + 1] * 1e9;
            g->step++;
            continue;
        }
        g->t_ns = t;
        return to_ns(t);
    }
}

int64_t trace_gen_next(trace_gen *g)
{
    const trace_spec *s = &g->spec;
    switch (s->kind) {
    case TRACE_POISSON:
        g->t_ns += gsl_ran_exponential(g->rng, 1e9 / s->rate_rps);
        return to_ns(g->t_ns);
    case TRACE_GAMMA: {
        double k = 1 / (s->cv * s->cv);
        g->t_ns += gsl_ran_gamma(g->rng, k, 1e9 / (s->rate_rps * k));
        return to_ns(g->t_ns);
    }
    case TRACE_CONSTANT:
        g->i++;
        return to_ns((double)g->i * 1e9 / s->rate_rps);
    case TRACE_SCHEDULE:
        return next_schedule(g);
    case TRACE_REPLAY: {
        uint64_t loop = g->i / g->n;
        size_t k = (size_t)(g->i % g->n);
        if (loop > 0 && !s->loop)
            return INT64_MAX;
        g->i++;
        return to_ns((double)loop * g->period_ns + g->ts[k] * g->scale);
    }
    }
    return INT64_MAX;
}

void trace_gen_free(trace_gen *g)
{
    if (!g)
        return;
    if (g->rng)
        gsl_rng_free(g->rng);
    free(g->ts);
    free(g);
}
