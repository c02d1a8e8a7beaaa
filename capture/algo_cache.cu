/*
 * algo_cache.cu - the process-wide cache of the runner's convolution
 * algorithm choices (cuDNN's, or ALGO_DIRECT for the runner's direct
 * kernel), keyed by model, layer, batch and SM count; shared by every
 * runner of the process under a lock, and kept in a file between
 * processes (cap_algo_cache_load and _save, capture/capture.h).
 */
#include "capture/runner_int.cuh"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct algo_entry {
    char key[96];
    cudnnConvolutionFwdAlgo_t algo;
    size_t ws;
} algo_entry;

static pthread_mutex_t algo_lock = PTHREAD_MUTEX_INITIALIZER;
static algo_entry *algo_tab;
static size_t algo_n, algo_cap;

int rk_algo_get(const char *key, cudnnConvolutionFwdAlgo_t *a, size_t *ws)
{
    int found = 0;
    pthread_mutex_lock(&algo_lock);
    for (size_t i = 0; i < algo_n; i++)
        if (!strcmp(algo_tab[i].key, key)) {
            *a = algo_tab[i].algo;
            *ws = algo_tab[i].ws;
            found = 1;
            break;
        }
    pthread_mutex_unlock(&algo_lock);
    return found;
}

void rk_algo_put(const char *key, cudnnConvolutionFwdAlgo_t a, size_t ws)
{
    pthread_mutex_lock(&algo_lock);
    for (size_t i = 0; i < algo_n; i++)
        if (!strcmp(algo_tab[i].key, key)) {    /* a new search's choice */
            algo_tab[i].algo = a;
            algo_tab[i].ws = ws;
            pthread_mutex_unlock(&algo_lock);
            return;
        }
    if (algo_n == algo_cap) {
        algo_cap = algo_cap ? 2 * algo_cap : 256;
        algo_tab = (algo_entry *)ut_xrealloc(algo_tab,
                                             algo_cap * sizeof *algo_tab);
    }
    snprintf(algo_tab[algo_n].key, sizeof algo_tab[algo_n].key, "%s", key);
    algo_tab[algo_n].algo = a;
    algo_tab[algo_n].ws = ws;
    algo_n++;
    pthread_mutex_unlock(&algo_lock);
}

/* The cache on disk: a first line naming the cuDNN version, then one line
 * per entry, "KEY ALGO WORKSPACE" (ALGO 100: the runner's direct kernel).
 * A file of another cuDNN is ignored. */
extern "C" int cap_algo_cache_load(const char *path, ut_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int n = 0;
    if (!fgets(line, sizeof line, f) ||
        strtoul(line + strcspn(line, "0123456789"), NULL, 10) !=
            (unsigned long)cudnnGetVersion()) {
        fclose(f);
        return 0;
    }
    for (int ln = 2; fgets(line, sizeof line, f); ln++) {
        char key[96];
        int a;
        unsigned long long ws;
        if (sscanf(line, "%95s %d %llu", key, &a, &ws) != 3 || a < 0 ||
            (a >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT && a != ALGO_DIRECT)) {
            fclose(f);
            return ut_errf(err, "%s:%d: expected KEY ALGO WORKSPACE, got "
                           "'%.60s'", path, ln, line);
        }
        cudnnConvolutionFwdAlgo_t have;
        size_t hws;
        if (!rk_algo_get(key, &have, &hws))
            rk_algo_put(key, (cudnnConvolutionFwdAlgo_t)a, (size_t)ws);
        n++;
    }
    fclose(f);
    return n;
}

extern "C" int cap_algo_cache_save(const char *path, ut_err *err)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "igniter cudnn algorithms, cudnn %zu\n",
                  (size_t)cudnnGetVersion());
    pthread_mutex_lock(&algo_lock);
    for (size_t i = 0; i < algo_n; i++)
        ut_buf_printf(&b, "%s %d %zu\n", algo_tab[i].key,
                      (int)algo_tab[i].algo, algo_tab[i].ws);
    pthread_mutex_unlock(&algo_lock);
    int rc = ut_write_atomic(path, b.s ? b.s : "", b.len, err);
    ut_buf_free(&b);
    return rc;
}
