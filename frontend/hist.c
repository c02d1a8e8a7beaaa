/*
 * hist.c - log-linear latency histogram (frontend.h). Adding a value is a few
 * integer operations and one increment; memory never grows.
 */
#include "frontend/frontend.h"

#include <string.h>

#define SUB (1 << FE_HIST_SUB_BITS)

void fe_hist_reset(fe_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
    h->max = INT64_MIN;
}

/* Values below SUB map to themselves; a value in [2^e, 2^(e+1)) with
 * e >= FE_HIST_SUB_BITS maps to SUB + (e - SUB_BITS) * SUB + its top
 * SUB_BITS + 1 bits minus SUB. */
static int bucket_of(int64_t v)
{
    if (v < SUB)
        return v < 0 ? 0 : (int)v;
    int e = 63 - __builtin_clzll((unsigned long long)v);
    if (e > FE_HIST_MAX_LOG2)
        return FE_HIST_BUCKETS - 1;
    int shift = e - FE_HIST_SUB_BITS;
    return SUB + shift * SUB + (int)((v >> shift) - SUB);
}

/* The midpoint of a bucket (its lower bound for the exact ones). */
static int64_t bucket_value(int i)
{
    if (i < SUB)
        return i;
    int shift = (i - SUB) / SUB;
    int64_t lo = ((int64_t)(SUB + (i - SUB) % SUB)) << shift;
    return lo + (((int64_t)1 << shift) >> 1);
}

void fe_hist_add(fe_hist *h, int64_t v)
{
    h->bucket[bucket_of(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

int64_t fe_hist_quantile(const fe_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max;
    uint64_t seen = 0;
    for (int i = 0; i < FE_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            int64_t v = bucket_value(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double fe_hist_mean(const fe_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}
