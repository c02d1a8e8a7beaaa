/*
 * slowdown.c - the slow-downs of a run's workloads, applied by the engine
 * (slowdown_int.h). The engine pushes one event per window edge at the
 * start, before any arrival: at an edge t the event is the first one
 * handled at t (the lowest insertion number), so a batch starting at t
 * already has the new factor, and a window [from, to) holds exactly the
 * batches that start in it. Rejected: the window search per batch (cost
 * on every batch of every run) and a check of the next edge in the event
 * loop (a compare on every event); a run without slow-downs pays only a
 * test of a NULL pointer per batch, and its events are the same.
 */
#include "sim/slowdown_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_ns(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sim_slow_init(sim_slow *sl, const fe_run *run, int64_t end_ns)
{
    memset(sl, 0, sizeof *sl);
    for (size_t w = 0; w < run->nw; w++)
        if (run->wcfg[w].has_wake && run->wcfg[w].wake_us > 0) {
            if (!sl->wake_ns)
                sl->wake_ns = ut_xcalloc(run->nw, sizeof *sl->wake_ns);
            sl->wake_ns[w] = llround(run->wcfg[w].wake_us * 1e3);
        }
    size_t n = 0;
    for (size_t w = 0; w < run->nw; w++)
        n += run->wcfg[w].nslow;
    if (n == 0)
        return;
    sl->factor = ut_xcalloc(run->nw, sizeof *sl->factor);
    sl->edge_ns = ut_xcalloc(2 * n, sizeof *sl->edge_ns);
    for (size_t w = 0; w < run->nw; w++)
        for (size_t k = 0; k < run->wcfg[w].nslow; k++) {
            int64_t e[2] = {fe_slowdown_ns(run->wcfg[w].slow[k].from_s),
                            fe_slowdown_ns(run->wcfg[w].slow[k].to_s)};
            for (int j = 0; j < 2; j++)
                if (e[j] > 0 && e[j] < end_ns)
                    sl->edge_ns[sl->nedges++] = e[j];
        }
    qsort(sl->edge_ns, sl->nedges, sizeof *sl->edge_ns, cmp_ns);
    size_t m = 0;
    for (size_t k = 0; k < sl->nedges; k++)
        if (m == 0 || sl->edge_ns[k] != sl->edge_ns[m - 1])
            sl->edge_ns[m++] = sl->edge_ns[k];
    sl->nedges = m;
    sim_slow_update(sl, run, 0);
}

void sim_slow_update(sim_slow *sl, const fe_run *run, int64_t t_ns)
{
    for (size_t w = 0; sl->factor && w < run->nw; w++)
        sl->factor[w] = fe_slowdown_factor(&run->wcfg[w], t_ns);
}

void sim_slow_free(sim_slow *sl)
{
    free(sl->factor);
    free(sl->edge_ns);
    free(sl->wake_ns);
    memset(sl, 0, sizeof *sl);
}
