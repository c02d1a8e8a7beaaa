/*
 * arrivals.c - arrival processes (traces.h): the spec parsers, the trace
 * file reader and the generators.
 *
 * Each generator owns a Mersenne Twister (MT19937) seeded from (master
 * seed, stream key), so a stream's arrivals depend on nothing else in the
 * run. Gamma gaps use GSL's mt19937 and gsl_ran_gamma; Poisson and
 * schedule gaps use mt_exponential below, the same numbers as GSL's
 * mt19937 and gsl_ran_exponential (tests/test_fastpath.c compares them
 * draw by draw), without two calls through function pointers per draw.
 */
#include "traces/traces.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MT19937 (Matsumoto and Nishimura, 1998) as GSL's gsl_rng_mt19937 runs
 * it: the same seeding (gsl_rng_set: seed 0 means 4357, then the 1812433253
 * recurrence), the same word stream and the same uniform, word / 2^32. */
enum { MT_N = 624, MT_M = 397 };

typedef struct mt19937 {
    uint32_t mt[MT_N];
    int i;
} mt19937;

static void mt_seed(mt19937 *m, unsigned long seed)
{
    if (seed == 0)
        seed = 4357;
    m->mt[0] = (uint32_t)seed;
    for (int i = 1; i < MT_N; i++)
        m->mt[i] = 1812433253u * (m->mt[i - 1] ^ (m->mt[i - 1] >> 30)) +
                   (uint32_t)i;
    m->i = MT_N;
}

/* Refills the 624 words at once (the generator's "twist"). */
static void mt_twist(mt19937 *m)
{
    uint32_t *mt = m->mt;
    int k;
#define MT_MIX(a, b, c) \
    ((c) ^ ((((a) & 0x80000000u) | ((b) & 0x7fffffffu)) >> 1) ^ \
     (((b) & 1u) ? 0x9908b0dfu : 0u))
    for (k = 0; k < MT_N - MT_M; k++)
        mt[k] = MT_MIX(mt[k], mt[k + 1], mt[k + MT_M]);
    for (; k < MT_N - 1; k++)
        mt[k] = MT_MIX(mt[k], mt[k + 1], mt[k + MT_M - MT_N]);
    mt[MT_N - 1] = MT_MIX(mt[MT_N - 1], mt[0], mt[MT_M - 1]);
#undef MT_MIX
    m->i = 0;
}

static inline uint32_t mt_next(mt19937 *m)
{
    if (m->i >= MT_N)
        mt_twist(m);
    uint32_t y = m->mt[m->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* An exponential gap of mean mu: -mu log(1 - U), U uniform in [0, 1), as
 * gsl_ran_exponential computes it (log1p(-U), so the same bits). */
static inline double mt_exponential(mt19937 *m, double mu)
{
    double u = (double)mt_next(m) / 4294967296.0;
    return -mu * log1p(-u);
}

/* Poisson arrivals drawn GAPS at a time: the draws do not depend on one
 * another, so the processor overlaps their logarithms, and the times are
 * summed and rounded to the clock's ns there too, off the event loop's
 * path (an arrival's time decides the heap's order, which decides what
 * runs next); the stream is the generator's own, so drawing ahead changes
 * no number. */
#define GAPS 32

struct trace_gen {
    trace_spec spec;
    gsl_rng *rng;         /* gamma */
    mt19937 mt;           /* poisson, schedule */
    int64_t ahead[GAPS];  /* poisson: arrival times drawn ahead, ns */
    int nahead, iahead;   /* how many, the next one */
    double t_ns;          /* last arrival, as a double: no drift */
    uint64_t i;           /* arrivals so far (constant, replay) */
    size_t step;          /* schedule: current step */
    double *ts;           /* replay: timestamps (s), from 0 */
    size_t n;
    int own_ts;           /* ts is ours to free (not a trace_files') */
    double scale;         /* replay: trace seconds -> simulated ns */
    double period_ns;     /* replay: one loop */
    int64_t last_ns;      /* the last time returned (never goes back) */
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

/* The bounds of traces.h, in one place for the two parsers and
 * trace_gen_new. Each returns 0, or -1 with `WHERE: ...: expected X, got
 * Y`. */
static int check_rate(double rate, const char *where, ut_err *err)
{
    if (!(rate >= TRACE_MIN_RATE_RPS && rate <= TRACE_MAX_RATE_RPS))
        return ut_errf(err, "%s: expected a rate in [%g, %g] requests/s, got "
                       "%g", where, TRACE_MIN_RATE_RPS, TRACE_MAX_RATE_RPS,
                       rate);
    return 0;
}

static int cv_ok(double cv)
{
    return cv >= TRACE_MIN_CV && cv <= TRACE_MAX_CV;
}

static int check_steps(const trace_spec *s, const char *where, ut_err *err)
{
    if (s->nsteps > TRACE_MAX_STEPS)
        return ut_errf(err, "%s: expected at most %d steps, got %zu", where,
                       TRACE_MAX_STEPS, s->nsteps);
    if (s->nsteps == 0 || s->step_s[0] != 0)
        return ut_errf(err, "%s: expected the first step at time 0, got %g",
                       where, s->nsteps ? s->step_s[0] : NAN);
    for (size_t k = 0; k < s->nsteps; k++) {
        double r = s->rate_rps * s->factor[k];
        if (!(s->factor[k] > 0) || !(r >= TRACE_MIN_RATE_RPS) ||
            !(r <= TRACE_MAX_RATE_RPS))
            return ut_errf(err, "%s: step %zu: expected a positive "
                           "factor that keeps the rate (%g requests/s) in "
                           "[%g, %g], got %g", where, k, s->rate_rps,
                           TRACE_MIN_RATE_RPS, TRACE_MAX_RATE_RPS,
                           s->factor[k]);
        if (k && !(s->step_s[k] > s->step_s[k - 1]))
            return ut_errf(err, "%s: step %zu: expected a time after"
                           " %g s, got %g", where, k, s->step_s[k - 1],
                           s->step_s[k]);
        if (!(s->step_s[k] <= TRACE_MAX_STEP_S))
            return ut_errf(err, "%s: step %zu: expected a time of "
                           "at most %g s, got %g", where, k, TRACE_MAX_STEP_S,
                           s->step_s[k]);
    }
    return 0;
}

/* Everything a generator needs of a spec that its parser checked; made
 * again by trace_gen_new because a caller may change the rate after
 * parsing (a plan's instances add theirs up). */
static int check_spec(const trace_spec *s, const char *where, ut_err *err)
{
    if (check_rate(s->rate_rps, where, err) < 0)
        return -1;
    if (s->kind == TRACE_GAMMA && !cv_ok(s->cv))
        return ut_errf(err, "%s: expected a coefficient of variation in "
                       "[%g, %g], got %g", where, TRACE_MIN_CV, TRACE_MAX_CV,
                       s->cv);
    if (s->kind == TRACE_SCHEDULE)
        return check_steps(s, where, err);
    return 0;
}

int trace_spec_parse(const char *str, double rate_rps, trace_spec *out,
                     ut_err *err)
{
    memset(out, 0, sizeof *out);
    out->rate_rps = rate_rps;
    out->cv = 1;
    if (check_rate(rate_rps, "--arrivals", err) < 0)
        return -1;
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
        if (!args || end == args || *end || !cv_ok(out->cv))
            return ut_errf(err, "--arrivals: gamma: expected a coefficient of "
                           "variation in [%g, %g], got '%s'", TRACE_MIN_CV,
                           TRACE_MAX_CV, args ? args : "");
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
        if (check_steps(out, "--arrivals: schedule", err) < 0)
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
    if (check_rate(rate_rps, where, err) < 0 ||
        ut_json_str(obj, "kind", where, &kind, err) < 0)
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
        if (!cv_ok(out->cv))
            return ut_errf(err, "%s.cv: expected a coefficient of variation "
                           "in [%g, %g], got %g", where, TRACE_MIN_CV,
                           TRACE_MAX_CV, out->cv);
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
        char ws[340];
        snprintf(ws, sizeof ws, "%s: schedule", where);
        if (check_steps(out, ws, err) < 0)
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

/* The largest timestamp in seconds a trace file may hold (about 31,700
 * years): differences of two stay exact to well under a microsecond, and
 * whole seconds always fit int64. */
#define CSV_MAX_S 1e12

enum { TS_NUMBER = 1, TS_DATE = 2 };

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/*
 * One timestamp: seconds as a number, or `YYYY-MM-DD HH:MM:SS[.frac]`,
 * read strictly (fixed digit positions, a real day of the month, the
 * fraction digits only: sscanf's "%2d" once took " 6" and "-1", and strtod
 * took ".5e3" as a fraction). Whole seconds and the fraction are returned
 * apart (*sec, *frac) so that differences keep the 100 ns resolution of the
 * Azure trace. Returns TS_NUMBER or TS_DATE, or -1.
 */
static int parse_time(const char *s, size_t len, int64_t *sec, double *frac)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (len >= 19 && digits(buf, 4) && buf[4] == '-' && digits(buf + 5, 2) &&
        buf[7] == '-' && digits(buf + 8, 2) && buf[10] == ' ' &&
        digits(buf + 11, 2) && buf[13] == ':' && digits(buf + 14, 2) &&
        buf[16] == ':' && digits(buf + 17, 2)) {
        int y = num(buf, 4), mo = num(buf + 5, 2), d = num(buf + 8, 2);
        int h = num(buf + 11, 2), mi = num(buf + 14, 2), se = num(buf + 17, 2);
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo < 1 || mo > 12 || d < 1 ||
            d > (mo == 2 && !leap ? 28 : mdays[mo - 1]) || h > 23 ||
            mi > 59 || se > 60)
            return -1;
        *frac = 0;
        if (len > 19) {
            size_t nd = len - 20;
            if (buf[19] != '.' || nd == 0 || !digits(buf + 20, (int)nd))
                return -1;
            *frac = strtod(buf + 19, NULL);
        }
        *sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
        return TS_DATE;
    }
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end == buf || *end || errno || !(v >= 0 && v <= CSV_MAX_S))
        return -1;
    *sec = (int64_t)floor(v);
    *frac = v - floor(v);
    return TS_NUMBER;
}

/* A first row that is not a timestamp is a header only when it is not
 * numeric: neither a digit first nor anything strtod reads as a number
 * ("-1", "+5", ".5", "inf"), which are bad timestamps. */
static int is_header(const char *f, size_t len)
{
    char buf[64];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, f, len);
    buf[len] = '\0';
    char *end;
    strtod(buf, &end);
    return len > 0 && !(buf[0] >= '0' && buf[0] <= '9') && end == buf;
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
    int lineno = 0, form = 0;
    char *cur = text, *line;
    int rc = 0;
    while ((line = ut_line_next(&cur, &lineno))) {
        size_t len = strcspn(line, ",\r");
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        char *f = line;
        while (len && (*f == ' ' || *f == '\t'))
            f++, len--;
        int show = (int)(len > 40 ? 40 : len);
        if (len > 0 || strchr(line, ',')) {
            int64_t sec;
            double frac;
            int kind = parse_time(f, len, &sec, &frac);
            if (kind < 0) {
                if (lineno != 1 || !is_header(f, len)) {
                    rc = ut_errf(err, "%s:%d: timestamp: expected seconds in "
                                 "[0, %g] or YYYY-MM-DD HH:MM:SS[.fraction], "
                                 "got '%.*s'", path, lineno, CSV_MAX_S, show,
                                 f);
                    break;
                }
            } else if (form && kind != form) {
                rc = ut_errf(err, "%s:%d: timestamp: expected %s like the "
                             "first one, got '%.*s'", path, lineno,
                             form == TS_DATE ? "a date and time"
                                             : "a number of seconds",
                             show, f);
                break;
            } else {
                if (cnt == 0) {
                    sec0 = sec;
                    frac0 = frac;
                    form = kind;
                }
                double v = (double)(sec - sec0) + (frac - frac0);
                if (cnt && v < t[cnt - 1]) {
                    rc = ut_errf(err, "%s:%d: timestamp: expected a time not "
                                 "before the previous one, got '%.*s'", path,
                                 lineno, show, f);
                    break;
                }
                UT_GROW(t, cap, cnt + 1);
                t[cnt++] = v;
            }
        }
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

struct trace_files {
    size_t n, cap;
    struct tfile {
        char *path;
        double *ts;
        size_t n;
    } *f;
};

trace_files *trace_files_new(void)
{
    return ut_xcalloc(1, sizeof(trace_files));
}

void trace_files_free(trace_files *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->f[i].path);
        free(f->f[i].ts);
    }
    free(f->f);
    free(f);
}

/* A path's timestamps, loaded the first time (few distinct paths: a scan
 * is enough). */
static int files_get(trace_files *f, const char *path, double **ts,
                     size_t *n, ut_err *err)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->f[i].path, path)) {
            *ts = f->f[i].ts;
            *n = f->f[i].n;
            return 0;
        }
    double *t;
    size_t m;
    if (trace_load_csv(path, &t, &m, err) < 0)
        return -1;
    UT_GROW(f->f, f->cap, f->n + 1);
    f->f[f->n++] = (struct tfile){ut_xstrdup(path), t, m};
    *ts = t;
    *n = m;
    return 0;
}

trace_gen *trace_gen_new(const trace_spec *spec, uint64_t master_seed,
                         const char *stream_key, ut_err *err)
{
    return trace_gen_new_shared(spec, master_seed, stream_key, NULL, err);
}

trace_gen *trace_gen_new_shared(const trace_spec *spec, uint64_t master_seed,
                                const char *stream_key, trace_files *files,
                                ut_err *err)
{
    if (check_spec(spec, kind_name(spec->kind), err) < 0)
        return NULL;
    trace_gen *g = ut_xcalloc(1, sizeof *g);
    g->spec = *spec;
    if (spec->kind == TRACE_REPLAY) {
        int rc = files ? files_get(files, spec->path, &g->ts, &g->n, err)
                       : trace_load_csv(spec->path, &g->ts, &g->n, err);
        if (rc < 0) {
            free(g);
            return NULL;
        }
        g->own_ts = !files;
        /* period P = D n / (n - 1): looping keeps the mean gap D / (n - 1);
         * scaled so that n arrivals take n / rate seconds */
        double d = g->ts[g->n - 1];
        if (!(d >= 1e-9)) {
            ut_errf(err, "%s: expected timestamps spanning at least 1 ns, got "
                    "%g s", spec->path, d);
            if (g->own_ts)
                free(g->ts);
            free(g);
            return NULL;
        }
        double period_s = d * (double)g->n / (double)(g->n - 1);
        g->scale = (double)g->n / spec->rate_rps / period_s * 1e9;
        g->period_ns = period_s * g->scale;
    } else if (spec->kind == TRACE_GAMMA) {
        g->rng = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(g->rng,
                    (unsigned long)trace_stream_seed(master_seed, stream_key));
    } else {
        mt_seed(&g->mt,
                (unsigned long)trace_stream_seed(master_seed, stream_key));
    }
    return g;
}

/* A time in ns as the clock's integer: past the int64 clock (or NaN,
 * which no bounded spec makes, but llround of it is INT64_MIN) is the end
 * of the stream. */
static int64_t to_ns(double t)
{
    if (!(t < 9.2e18))
        return INT64_MAX;
    return t <= 0 ? 0 : trace_round_ns(t);
}

/* Non-homogeneous Poisson with a piecewise-constant rate: draw a gap at the
 * current step's rate; if it crosses the next step, restart from that step
 * boundary (the exponential is memoryless, so this is exact). */
static int64_t next_schedule(trace_gen *g)
{
    const trace_spec *s = &g->spec;
    for (;;) {
        double rate = s->rate_rps * s->factor[g->step] / 1e9;
        double t = g->t_ns + mt_exponential(&g->mt, 1 / rate);
        if (g->step + 1 < s->nsteps && t >= s->step_s[g->step + 1] * 1e9) {
            g->t_ns = s->step_s[g->step + 1] * 1e9;
            g->step++;
            continue;
        }
        g->t_ns = t;
        return to_ns(t);
    }
}

/* The next GAPS Poisson arrival times: the gaps first, then their sums
 * (each time the last one plus its gap, as one at a time would add). */
static void poisson_ahead(trace_gen *g)
{
    double mu = 1e9 / g->spec.rate_rps, gap[GAPS];
    for (int k = 0; k < GAPS; k++)
        gap[k] = mt_exponential(&g->mt, mu);
    for (int k = 0; k < GAPS; k++) {
        g->t_ns += gap[k];
        g->ahead[k] = to_ns(g->t_ns);
    }
    g->nahead = GAPS;
    g->iahead = 0;
}

static int64_t next_time(trace_gen *g);

/* The promise of traces.h, kept here whatever a kind computes: a time
 * never before the last one, and once the end (INT64_MAX), always it.
 * A time drawn ahead (Poisson) is taken here, without next_time's call
 * and switch: with them inline, every call set up and tore down the
 * frame that drawing needs (trace_gen_next was 40 instructions a
 * Poisson arrival, not counting the draws). */
int64_t trace_gen_next(trace_gen *g)
{
    if (g->last_ns == INT64_MAX)
        return INT64_MAX;
    int64_t t = g->iahead < g->nahead ? g->ahead[g->iahead++] : next_time(g);
    if (t < g->last_ns)
        t = g->last_ns;
    g->last_ns = t;
    return t;
}

/* The next time of g's kind (the caller takes those drawn ahead). Not
 * inline, for trace_gen_next's sake. */
static __attribute__((noinline)) int64_t next_time(trace_gen *g)
{
    const trace_spec *s = &g->spec;
    switch (s->kind) {
    case TRACE_POISSON:
        if (g->iahead == g->nahead)
            poisson_ahead(g);
        return g->ahead[g->iahead++];
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
    if (g->own_ts)
        free(g->ts);
    free(g);
}
