/*
 * hash.c - what a run depends on, as one hash (lab.h): a finished run is
 * reused only while its inputs and the program are the ones that made it.
 *
 * Hashed: the program's own executable (any change of code, a policy's
 * included, gives another binary), the experiment file and the workloads
 * file it names, the profile, the measured data, a plan file, every replay
 * trace, the policy's name, the policies' parameters from the environment
 * (pol_env_params: set or not, and the value) and the seed; then the
 * slow-downs (the experiment file holds them, but `igniter sim
 * --slowdown` replaces them). File contents, not dates: a file touched
 * but not changed keeps its runs.
 */
#include "lab/lab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The executable's bytes, hashed once per process (a compare's runs are
 * forked from it). */
static unsigned long long exe_hash(void)
{
    static unsigned long long h;
    static int done;
    if (!done) {
        h = UT_HASH_INIT;
        if (ut_hash_file(&h, "/proc/self/exe") < 0)
            h = ut_hash(UT_HASH_INIT, ut_commit(), strlen(ut_commit()));
        done = 1;
    }
    return h;
}

static void mix_file(unsigned long long *h, const char *path)
{
    if (!path || !path[0])
        return;
    *h = ut_hash(*h, path, strlen(path) + 1);
    if (ut_hash_file(h, path) < 0)
        *h = ut_hash(*h, "unreadable", 10);
}

/* The workloads file an experiment names, if it names one. */
static void mix_workloads_file(unsigned long long *h, const char *exp_path)
{
    cJSON *root = ut_json_load(exp_path, NULL);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "workloads");
    if (cJSON_IsString(w)) {
        char dir[UT_PATH_MAX], path[2 * UT_PATH_MAX];
        ut_dir_of(exp_path, dir, sizeof dir);
        snprintf(path, sizeof path, "%s%s",
                 w->valuestring[0] == '/' ? "" : dir, w->valuestring);
        mix_file(h, path);
    }
    cJSON_Delete(root);
}

void lab_run_hash(const lab_experiment *e, const char *exp_path,
                  const char *plan_path, const char *policy, uint64_t seed,
                  char out[17])
{
    unsigned long long h = exe_hash();
    if (exp_path) {
        mix_file(&h, exp_path);
        mix_workloads_file(&h, exp_path);
    }
    if (e) {
        mix_file(&h, e->profile);
        mix_file(&h, e->measured);
        mix_file(&h, e->power);     /* nothing when "" */
        for (size_t w = 0; w < e->nw; w++)
            if (e->wcfg[w].arrivals.kind == TRACE_REPLAY)
                mix_file(&h, e->wcfg[w].arrivals.path);
    }
    mix_file(&h, plan_path);
    if (policy)
        h = ut_hash(h, policy, strlen(policy) + 1);
    for (const char *const *v = pol_env_params; *v; v++) {
        const char *val = getenv(*v);
        if (val) {
            h = ut_hash(h, *v, strlen(*v) + 1);
            h = ut_hash(h, val, strlen(val) + 1);
        }
    }
    h = ut_hash(h, &seed, sizeof seed);
    snprintf(out, 17, "%016llx", h);
    if (e)
        lab_hash_slowdowns(e->wcfg, e->nw, out);
}

/* hash, mixed with the text of b when b has any (a run without that input
 * keeps the hash it had before the input existed). */
static void mix_text(char hash[17], ut_buf *b, int any)
{
    if (any) {
        unsigned long long h = ut_hash(UT_HASH_INIT, hash, 16);
        h = ut_hash(h, b->s, b->len);
        snprintf(hash, 17, "%016llx", h);
    }
    ut_buf_free(b);
}

/* The windows' own text (fe_slowdown_json: names, factors and edges as
 * summary.json records them), then the wake costs' (fe_wake_json), so
 * that the hash follows what the run does, not how it was spelt. */
void lab_hash_slowdowns(const fe_workload_cfg *wc, size_t nw, char hash[17])
{
    ut_buf b = {0}, c = {0};
    mix_text(hash, &b, fe_slowdown_json(&b, wc, nw));
    mix_text(hash, &c, fe_wake_json(&c, wc, nw));
}

void lab_hash_mix_file(char hash[17], const char *path)
{
    unsigned long long h = UT_HASH_INIT;
    if (ut_hash_file(&h, path) == 0) {
        char more[40];
        snprintf(more, sizeof more, "%s%016llx", hash, h);
        h = ut_hash(UT_HASH_INIT, more, strlen(more));
        snprintf(hash, 17, "%016llx", h);
    }
}

int lab_run_status(const char *dir, const char *hash)
{
    char path[UT_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    cJSON *j = ut_json_load(path, NULL);
    int ok = 0;
    if (j && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "complete"))) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(j, "inputs"), "input_hash");
        ok = cJSON_IsString(h) && !strcmp(h->valuestring, hash) ? 1 : -1;
    }
    cJSON_Delete(j);
    return ok;
}
