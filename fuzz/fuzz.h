/*
 * fuzz.h - what every libFuzzer harness of fuzz/ shares (header-only,
 * static): the input as a file, and the checks of an arrival stream.
 *
 * The parsers take file paths, so each input is written to one file per
 * process and harness in /dev/shm (memory, no disk writes; /tmp when there
 * is no /dev/shm), removed at exit. A broken promise is reported with
 * fuzz_fail, which prints what was broken and aborts: libFuzzer keeps the
 * input as a crash, like a sanitizer's finding.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/traces.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path_buf[256];

static inline void fuzz_cleanup(void)
{
    if (fuzz_path_buf[0])
        unlink(fuzz_path_buf);
}

/* The per-process file for this harness (suffix: ".json", ".csv"). */
static inline const char *fuzz_path(const char *name, const char *suffix)
{
    if (!fuzz_path_buf[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_path_buf, sizeof fuzz_path_buf,
                 "%s/igniter-fuzz-%s-%ld%s", dir, name, (long)getpid(),
                 suffix);
        atexit(fuzz_cleanup);
    }
    return fuzz_path_buf;
}

/* Writes data to the harness's file and returns its path. */
static inline const char *fuzz_write(const char *name, const char *suffix,
                              const uint8_t *data, size_t size)
{
    const char *p = fuzz_path(name, suffix);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror(p);
        abort();
    }
    return p;
}

__attribute__((format(printf, 1, 2), noreturn))
static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: broken promise: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fuzz_cleanup();   /* abort skips atexit; the input is kept as a crash */
    abort();
}

/*
 * The promise of trace_gen_next (traces.h): arrivals are never negative,
 * never decrease, and INT64_MAX, once returned, is the end. And a stream
 * makes progress: within max_n arrivals it either ends or its time moves
 * (a stream whose every gap rounds to 0 hangs the simulator, which waits
 * for the clock to pass the run's end).
 */
static inline void fuzz_check_arrivals(trace_gen *g, size_t max_n,
                                       const char *what)
{
    int64_t first = trace_gen_next(g), prev = first;
    if (first < 0)
        fuzz_fail("%s: arrival 0 at %lld ns", what, (long long)first);
    for (size_t i = 1; i < max_n && prev != INT64_MAX; i++) {
        int64_t t = trace_gen_next(g);
        if (t < prev)
            fuzz_fail("%s: arrival %zu at %lld ns, before %lld ns", what, i,
                      (long long)t, (long long)prev);
        prev = t;
    }
    if (prev == INT64_MAX) {
        if (trace_gen_next(g) != INT64_MAX)
            fuzz_fail("%s: an arrival after the end", what);
        return;
    }
    if (prev == first)
        fuzz_fail("%s: %zu arrivals all at %lld ns: time does not advance",
                  what, max_n, (long long)first);
}

#endif
