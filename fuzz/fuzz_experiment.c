/*
 * fuzz_experiment.c - the experiment file with its workloads
 * (lab_experiment_load, lab/experiment.c, and through it
 * pol_workloads_from_json and trace_spec_from_json).
 * Promise checked: every workload of an experiment that loads has
 * arrivals whose generator either refuses them with a message or keeps
 * the promise of traces.h (fuzz_check_arrivals). Replayed files are not
 * opened: their paths name files outside the input.
 */
#include "fuzz/fuzz.h"
#include "lab/lab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("experiment", ".json", data, size);
    lab_experiment e;
    ut_err err;
    if (lab_experiment_load(path, &e, &err) < 0)
        return 0;
    for (size_t i = 0; i < e.nw; i++) {
        const trace_spec *s = &e.wcfg[i].arrivals;
        if (s->kind == TRACE_REPLAY)
            continue;
        trace_gen *g = trace_gen_new(s, e.seed, e.wcfg[i].name, &err);
        if (!g)
            continue;
        fuzz_check_arrivals(g, 1000, e.wcfg[i].name);
        trace_gen_free(g);
    }
    lab_experiment_free(&e);
    return 0;
}
