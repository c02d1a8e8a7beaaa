/*
 * fuzz_profile.c - the profile in both formats (mdl_profile_load,
 * model/profile.c): the authors' JSON lines and the project's JSON.
 * Promise checked: a profile that loads, written with mdl_profile_to_json
 * (the project's format) and loaded again, is the same profile.
 */
#include "fuzz/fuzz.h"
#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("profile", ".json", data, size);
    mdl_profile a, b;
    ut_err err;
    if (mdl_profile_load(path, &a, &err) < 0)
        return 0;
    char *ja = mdl_profile_to_json(&a);
    fuzz_write("profile", ".json", (const uint8_t *)ja, strlen(ja));
    if (mdl_profile_load(path, &b, &err) < 0)
        fuzz_fail("a written profile does not load again: %s\n%s", err.msg,
                  ja);
    char *jb = mdl_profile_to_json(&b);
    if (strcmp(ja, jb) || a.nmodels != b.nmodels)
        fuzz_fail("a profile changed on its way through its file:\n%s\n%s",
                  ja, jb);
    free(ja);
    free(jb);
    mdl_profile_free(&a);
    mdl_profile_free(&b);
    return 0;
}
