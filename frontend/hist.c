/*
 * hist.c - log-linear latency histogram (frontend.h). Adding a value is a few
 * integer operations and one increment.
 *
 * Memory follows what it holds, because 100,000 workloads keep two
 * histograms each (the run's and the interval's) and a flat array of every
 * bucket is 37 KiB: the buckets come in blocks, one per power-of-two range,
 * made the first time a value falls in the range, and a count is as wide
 * as the largest count needs (1, 2, 4 or 8 bytes, widened in place when
 * one would overflow). A workload's latencies span three or four ranges
 * and an interval's counts fit a byte, so an interval's histogram holds
 * about 0.5 KiB and a run's 1 KiB. Blocks and width are kept until
 * fe_hist_free: a histogram reset every interval fills the same ranges
 * again.
 */
#include "frontend/frontend.h"

#include <stdlib.h>
#include <string.h>

#define SUB FE_HIST_SUB

void fe_hist_init(fe_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
    h->max = INT64_MIN;
}

/* Bytes of n counts at h's width. */
static size_t count_bytes(const fe_hist *h, size_t n)
{
    return n << h->wlog;
}

void fe_hist_reset(fe_hist *h)
{
    if (h->nblocks)
        memset(h->block, 0, count_bytes(h, (size_t)h->nblocks * SUB));
    h->count = 0;
    h->sum = 0;
    h->min = INT64_MAX;
    h->max = INT64_MIN;
}

void fe_hist_free(fe_hist *h)
{
    free(h->block);
    fe_hist_init(h);
}

/* Values below SUB map to themselves; a value in [2^e, 2^(e+1)) with
 * e >= FE_HIST_SUB_BITS maps to SUB + (e - SUB_BITS) * SUB + its top
 * SUB_BITS + 1 bits minus SUB. Bucket i is in range i / SUB. */
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

/* Count i of counts 1 << wlog bytes wide. Through memcpy, not typed
 * pointers: widening reads and writes the same bytes at two widths. */
static uint64_t load(const void *block, int wlog, size_t i)
{
    const char *p = (const char *)block + (i << wlog);
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (wlog) {
    case 0: memcpy(&v8, p, 1); return v8;
    case 1: memcpy(&v16, p, 2); return v16;
    case 2: memcpy(&v32, p, 4); return v32;
    default: memcpy(&v64, p, 8); return v64;
    }
}

static void store(void *block, int wlog, size_t i, uint64_t v)
{
    char *p = (char *)block + (i << wlog);
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (wlog) {
    case 0: memcpy(p, &v8, 1); break;
    case 1: memcpy(p, &v16, 2); break;
    case 2: memcpy(p, &v32, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

static uint64_t count_get(const fe_hist *h, size_t i)
{
    return load(h->block, h->wlog, i);
}

/* Doubles the width of every count, in place from the last count down:
 * count i's new bytes cover only old counts i and above, already moved. */
static void widen(fe_hist *h)
{
    size_t n = (size_t)h->nblocks * SUB;
    h->block = ut_xrealloc(h->block, count_bytes(h, n) * 2);
    for (size_t i = n; i-- > 0;)
        store(h->block, h->wlog + 1, i, load(h->block, h->wlog, i));
    h->wlog++;
}

/* Adds k to count i, widening first if the sum needs it. */
static void count_add(fe_hist *h, size_t i, uint64_t k)
{
    uint64_t v = count_get(h, i) + k;
    while (h->wlog < 3 && v >> (8 << h->wlog))
        widen(h);
    store(h->block, h->wlog, i, v);
}

/* Where range r's counts start (a count index), its block made (zeroed)
 * on first use. */
static size_t range_block(fe_hist *h, int r)
{
    if (!h->slot[r]) {
        size_t n = (size_t)h->nblocks + 1;
        h->block = ut_xrealloc(h->block, count_bytes(h, n * SUB));
        memset((char *)h->block + count_bytes(h, (n - 1) * SUB), 0,
               count_bytes(h, SUB));
        h->nblocks = (uint8_t)n;
        h->slot[r] = (uint8_t)n;
    }
    return (size_t)(h->slot[r] - 1) * SUB;
}

/* Adds one to count i of a block of counts 1 << wlog bytes wide unless it
 * is at its width's largest (then 0: the caller widens first). The width
 * is a constant in each case, so each memcpy is one load or store. */
static inline int bump(void *block, int wlog, size_t i)
{
    char *p = (char *)block + (i << wlog);
    switch (wlog) {
    case 0: {
        uint8_t c;
        memcpy(&c, p, 1);
        if (c == UINT8_MAX)
            return 0;
        c++;
        memcpy(p, &c, 1);
        return 1;
    }
    case 1: {
        uint16_t c;
        memcpy(&c, p, 2);
        if (c == UINT16_MAX)
            return 0;
        c++;
        memcpy(p, &c, 2);
        return 1;
    }
    case 2: {
        uint32_t c;
        memcpy(&c, p, 4);
        if (c == UINT32_MAX)
            return 0;
        c++;
        memcpy(p, &c, 4);
        return 1;
    }
    default:
        return 0;
    }
}

/* Adds v, in bucket j of range r, to h. The common case (the range has
 * its block, the count has room) is one increment in place; anything else
 * takes count_add's path, which makes the block or widens the counts. */
static inline void add_at(fe_hist *h, unsigned r, unsigned j, int64_t v)
{
    if (!h->slot[r] ||
        !bump(h->block, h->wlog, (size_t)(h->slot[r] - 1) * SUB + j))
        count_add(h, range_block(h, (int)r) + j, 1);
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* The bucket's range and place in it, unsigned (a bucket is never
 * negative): a signed division and remainder by SUB took a dozen
 * instructions more at every add. */
void fe_hist_add(fe_hist *h, int64_t v)
{
    unsigned i = (unsigned)bucket_of(v);
    add_at(h, i / SUB, i % SUB, v);
}

/* The bucket is found once for both: each histogram then takes exactly
 * the steps fe_hist_add would (they share no memory), so the bytes are
 * the same as two calls. */
void fe_hist_add2(fe_hist *a, fe_hist *b, int64_t v)
{
    unsigned i = (unsigned)bucket_of(v);
    add_at(a, i / SUB, i % SUB, v);
    add_at(b, i / SUB, i % SUB, v);
}

void fe_hist_merge(fe_hist *into, const fe_hist *from)
{
    if (from->count == 0)
        return;
    for (int r = 0; r < FE_HIST_RANGES; r++)
        if (from->slot[r]) {
            size_t src = (size_t)(from->slot[r] - 1) * SUB;
            size_t dst = range_block(into, r);
            for (size_t k = 0; k < SUB; k++)
                count_add(into, dst + k, count_get(from, src + k));
        }
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

/* Ranges without a block hold nothing, so walking the blocks in range
 * order meets the same counts as walking every bucket. The answer is the
 * first bucket b whose counts up to it reach the rank: the first whose
 * counts above it are at most count - rank. For a high quantile (every
 * interval's P99) that bucket is found sooner from the top, counting
 * what lies above: the same integers, the same bucket. */
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
    if (q > 0.5) {
        uint64_t room = h->count - rank, above = 0;
        for (int r = FE_HIST_RANGES - 1; r >= 0; r--) {
            if (!h->slot[r])
                continue;
            size_t b = (size_t)(h->slot[r] - 1) * SUB;
            for (int k = SUB - 1; k >= 0; k--) {
                above += count_get(h, b + (size_t)k);
                if (above > room) {
                    int64_t v = bucket_value(r * SUB + k);
                    return v < h->min ? h->min : v > h->max ? h->max : v;
                }
            }
        }
        return h->max;
    }
    uint64_t seen = 0;
    for (int r = 0; r < FE_HIST_RANGES; r++) {
        if (!h->slot[r])
            continue;
        size_t b = (size_t)(h->slot[r] - 1) * SUB;
        for (int k = 0; k < SUB; k++) {
            seen += count_get(h, b + (size_t)k);
            if (seen >= rank) {
                int64_t v = bucket_value(r * SUB + k);
                return v < h->min ? h->min : v > h->max ? h->max : v;
            }
        }
    }
    return h->max;
}

double fe_hist_mean(const fe_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}
