/*
 * fuzz_arrivals.c - the arrival spec of the command line
 * (trace_spec_parse, traces/arrivals.c) and its generator.
 * Input: the rate (req/s) on the first line, the spec on the rest, as in
 * `--arrivals SPEC` for a workload of that rate. Replay specs are left to
 * fuzz_replay (here their file would be any path).
 * Promise checked: a spec that parses either is refused by trace_gen_new
 * with a message or gives arrivals that keep the promise of traces.h
 * (fuzz_check_arrivals over 1000 arrivals).
 */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    const char *spec = nl ? nl + 1 : text;
    if (nl)
        *nl = '\0';
    double rate = nl ? strtod(text, NULL) : 10;
    trace_spec s;
    ut_err err;
    if (trace_spec_parse(spec, rate, &s, &err) == 0 &&
        s.kind != TRACE_REPLAY) {
        trace_gen *g = trace_gen_new(&s, 1, "w", &err);
        if (g) {
            fuzz_check_arrivals(g, 1000, spec);
            trace_gen_free(g);
        }
    }
    free(text);
    return 0;
}
