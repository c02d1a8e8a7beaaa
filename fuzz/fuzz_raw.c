/*
 * fuzz_raw.c - the raw capture records that `igniter derive` reads
 * (cap_derive: read by capture/derive_raw.c, each line checked against the
 * one schema of capture/record.c). Seeded with the tests' synthetic capture
 * (tests/testutil.h, tu_synth_raw), which derives.
 * Promise checked: what derive writes, the loaders read: the profile
 * (mdl_profile_load) and both measured files (mdl_measured_load).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "capture/capture.h"
#include "fuzz/fuzz.h"
#include "model/model.h"

static char out_dir[300];

static void rm_out(void)
{
    DIR *d = opendir(out_dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        snprintf(p, sizeof p, "%s/%s", out_dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(out_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write("raw", ".jsonl", data, size);
    if (!out_dir[0]) {
        snprintf(out_dir, sizeof out_dir, "%s.d", path);
        atexit(rm_out);
    }
    ut_err err;
    if (cap_derive(path, out_dir, NULL, 0, &err) < 0)
        return 0;
    static const char *const measured[] = {"measured-colocation.jsonl",
                                           "measured-heldout.jsonl"};
    char p[600];
    snprintf(p, sizeof p, "%s/profile.json", out_dir);
    mdl_profile prof;
    if (mdl_profile_load(p, &prof, &err) < 0)
        fuzz_fail("derive wrote a profile that does not load: %s", err.msg);
    mdl_profile_free(&prof);
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s", out_dir, measured[k]);
        mdl_measured m;
        if (mdl_measured_load(p, &m, &err) < 0)
            fuzz_fail("derive wrote measured data that do not load: %s",
                      err.msg);
        mdl_measured_free(&m);
    }
    rm_out();
    return 0;
}
