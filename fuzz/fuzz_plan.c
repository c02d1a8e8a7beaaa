/*
 * fuzz_plan.c - the plan file (pol_plan_load, policies/plan.c).
 * Promise checked: a plan that loads, written with pol_plan_to_json and
 * loaded again, is the same plan (the same text when written again).
 */
#include "fuzz/fuzz.h"
#include "policies/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("plan", ".json", data, size);
    pol_plan a, b;
    ut_err err;
    if (pol_plan_load(path, &a, &err) < 0)
        return 0;
    char *ja = pol_plan_to_json(&a);
    fuzz_write("plan", ".json", (const uint8_t *)ja, strlen(ja));
    if (pol_plan_load(path, &b, &err) < 0)
        fuzz_fail("a written plan does not load again: %s", err.msg);
    char *jb = pol_plan_to_json(&b);
    if (strcmp(ja, jb) || a.ngpus != b.ngpus)
        fuzz_fail("a plan changed on its way through its file:\n%s\n%s", ja,
                  jb);
    free(ja);
    free(jb);
    pol_plan_free(&a);
    pol_plan_free(&b);
    return 0;
}
