/*
 * traces.h - arrival processes and trace files: when requests arrive.
 *
 * Shared by the simulator and the real provisioner (one implementation, so
 * that a difference between simulated and real results can only come from
 * the GPU). Times are integer nanoseconds from the start of the run.
 *
 * Determinism: every stream draws from its own GSL generator (mt19937),
 * seeded from (master seed, stream key) by a fixed hash, so adding or
 * removing a workload never changes another workload's arrivals, and the
 * same seed always gives the same arrivals on every machine.
 */
#ifndef TRACE_TRACES_H
#define TRACE_TRACES_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "util/util.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TRACE_MAX_STEPS 64

/*
 * What a spec may ask for, checked by the parsers and again by
 * trace_gen_new (a rate may change between the two). Outside these, a
 * generator on an integer-nanosecond clock cannot keep its promise:
 *   - a rate (a schedule step's rate_rps x factor included) in
 *     [TRACE_MIN_RATE_RPS, TRACE_MAX_RATE_RPS]: above one arrival per
 *     nanosecond every gap rounds to 0 and simulated time never advances;
 *     below one per 11.6 days the gap overflows the run's clock;
 *   - a gamma coefficient of variation in [TRACE_MIN_CV, TRACE_MAX_CV]:
 *     outside it the shape 1/cv^2 overflows (NaN gaps) or almost every gap
 *     underflows to 0, time again standing still;
 *   - schedule steps at most TRACE_MAX_STEP_S s (int64 nanoseconds end at
 *     about 9.2e9 s).
 */
#define TRACE_MIN_RATE_RPS 1e-6
#define TRACE_MAX_RATE_RPS 1e9
#define TRACE_MIN_CV 0.01
#define TRACE_MAX_CV 10.0
#define TRACE_MAX_STEP_S 9e9

typedef enum trace_kind {
    TRACE_POISSON,    /* exponential inter-arrivals */
    TRACE_GAMMA,      /* gamma inter-arrivals with coefficient of variation cv */
    TRACE_CONSTANT,   /* one request every 1/rate seconds exactly */
    TRACE_SCHEDULE,   /* Poisson whose rate is rate_rps x factor[k] from
                         step_s[k] on (piecewise constant) */
    TRACE_REPLAY,     /* timestamps of a trace file, rescaled in time so that
                         their mean rate is rate_rps */
} trace_kind;

typedef struct trace_spec {
    trace_kind kind;
    double rate_rps;                    /* the workload's mean rate, in
                                           the bounds above */
    double cv;                          /* gamma: in the bounds above
                                           (1 = Poisson) */
    size_t nsteps;                      /* schedule: 1..TRACE_MAX_STEPS */
    double step_s[TRACE_MAX_STEPS];     /* ascending, step_s[0] == 0 */
    double factor[TRACE_MAX_STEPS];     /* > 0; rate_rps x factor in the
                                           rate bounds */
    char path[UT_PATH_MAX];          /* replay: the CSV file */
    int loop;                           /* replay: start over at the end */
} trace_spec;

/*
 * Parses the command-line form KIND[:ARGS] with the workload's rate:
 *   poisson | constant | gamma:CV | schedule:T0=F0,T1=F1,... (seconds=factor;
 *   "schedule:0=1,300=2" doubles the rate at minute 5) | replay:FILE[:loop]
 * Errors name the option and the bad part: `--arrivals: gamma: expected a
 * coefficient of variation in [0.01, 10], got '-1'`.
 */
int trace_spec_parse(const char *s, double rate_rps, trace_spec *out,
                     ut_err *err);

/*
 * The JSON form used in experiment files, with the same meaning:
 *   {"kind":"poisson"} | {"kind":"gamma","cv":2} | {"kind":"constant"} |
 *   {"kind":"schedule","steps":[[0,1],[300,2]]} |
 *   {"kind":"replay","path":"traces/azure/azure-llm-2023-code.csv","loop":true}
 * `where` prefixes messages ("exp.json: workloads[1].arrivals"). A relative
 * replay path is taken relative to base_dir when base_dir is not NULL.
 */
int trace_spec_from_json(const cJSON *obj, double rate_rps, const char *where,
                         const char *base_dir, trace_spec *out, ut_err *err);

/* Writes the spec back as the JSON form (for summary.json); malloc'd. */
char *trace_spec_to_json(const trace_spec *s);

/*
 * Reads arrival timestamps from a CSV file: the first column of each row,
 * either a number of seconds or a date-time `YYYY-MM-DD HH:MM:SS[.fffffff]`
 * (the Azure LLM inference trace format), one or the other in a whole
 * file; seconds are at most 1e12, a date's fraction is digits only. The
 * first row is a header, and skipped, when its first field is not numeric
 * (it starts with neither a digit nor what strtod reads as a number: "-1"
 * is a bad timestamp, not a header). Timestamps must not decrease. *t_s
 * gets seconds relative to the first timestamp (malloc'd, caller frees).
 * Errors name the file, line and value: `trace.csv:17: timestamp: expected
 * a time not before the previous one, got '2023-11-16 18:17:03.1'`.
 */
int trace_load_csv(const char *path, double **t_s, size_t *n, ut_err *err);

/* An arrival generator: one per workload stream. */
typedef struct trace_gen trace_gen;

/*
 * Creates a generator for spec; stream_key names the stream (the workload's
 * name) and, with master_seed, fixes its random numbers. A replay spec reads
 * its file here (errors as trace_load_csv). Returns NULL on error.
 */
trace_gen *trace_gen_new(const trace_spec *spec, uint64_t master_seed,
                         const char *stream_key, ut_err *err);

/*
 * Trace files loaded once for every generator that replays them: a run of
 * 100,000 workloads replaying one file holds one copy of it, not 100,000.
 * trace_gen_new_shared takes them from files (loading a path the first
 * time it is asked for); files must outlive those generators. NULL files:
 * trace_gen_new.
 */
typedef struct trace_files trace_files;
trace_files *trace_files_new(void);
void trace_files_free(trace_files *f);
trace_gen *trace_gen_new_shared(const trace_spec *spec, uint64_t master_seed,
                                const char *stream_key, trace_files *files,
                                ut_err *err);

/* The next arrival time in ns: never negative and never before the
 * previous one (strictly increasing is not guaranteed: equal times are
 * possible); INT64_MAX when the stream has ended (a replay without loop,
 * or a time past the int64 clock), and from then on. */
int64_t trace_gen_next(trace_gen *g);

void trace_gen_free(trace_gen *g);

/* llround(x) for x in [0, 2^63), inlined (the clock's rounding of a
 * double time, in the simulator's inner loop): truncate, then one up when
 * the part cut off, which a double holds exactly, is a half or more. */
static inline int64_t trace_round_ns(double x)
{
    int64_t r = (int64_t)x;
    return x - (double)r >= 0.5 ? r + 1 : r;
}

/* The seed of stream_key under master_seed (a fixed 64-bit hash: FNV-1a of
 * the key, mixed with the seed by splitmix64). Exposed for tests and for
 * recording in outputs. */
uint64_t trace_stream_seed(uint64_t master_seed, const char *stream_key);

#ifdef __cplusplus
}
#endif

#endif
