/*
 * histogram.c - bucket arithmetic of the log-linear histogram (see
 * histogram.h for the layout).  Pure functions: no state, no locks.
 */
#include "monitor/histogram.h"

#include <math.h>

/* Index of the highest set bit of v (v > 0). */
static unsigned
highest_bit(uint64_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63u - (unsigned)__builtin_clzll(v);
#else
    unsigned bit = 0;
    while (v >>= 1)
        bit++;
    return bit;
#endif
}

size_t
fl_hist_index(uint64_t ns)
{
    if (ns < FL_HIST_SUB_COUNT)
        return (size_t)ns;
    unsigned exponent = highest_bit(ns);
    if (exponent >= FL_HIST_MAX_BITS)
        return FL_HIST_BUCKETS - 1;
    unsigned shift = exponent - FL_HIST_SUB_BITS;
    uint64_t sub = (ns >> shift) - FL_HIST_SUB_COUNT; /* 0 .. SUB_COUNT-1 */
    return FL_HIST_SUB_COUNT + (size_t)shift * FL_HIST_SUB_COUNT + (size_t)sub;
}

uint64_t
fl_hist_lower(size_t idx)
{
    if (idx < FL_HIST_SUB_COUNT)
        return idx;
    size_t shift = (idx - FL_HIST_SUB_COUNT) / FL_HIST_SUB_COUNT;
    size_t sub = (idx - FL_HIST_SUB_COUNT) % FL_HIST_SUB_COUNT;
    return ((uint64_t)FL_HIST_SUB_COUNT + sub) << shift;
}

uint64_t
fl_hist_width(size_t idx)
{
    if (idx < FL_HIST_SUB_COUNT)
        return 1;
    return (uint64_t)1 << ((idx - FL_HIST_SUB_COUNT) / FL_HIST_SUB_COUNT);
}

double
fl_hist_midpoint(size_t idx)
{
    return (double)fl_hist_lower(idx) + (double)(fl_hist_width(idx) - 1) / 2.0;
}

size_t
fl_hist_quantile_index(const uint64_t *counts, uint64_t total, double q)
{
    double wanted = ceil(q * (double)total);
    uint64_t rank = wanted < 1.0 ? 1 : (uint64_t)wanted;
    if (rank > total)
        rank = total;
    uint64_t seen = 0;
    for (size_t i = 0; i < FL_HIST_BUCKETS; i++) {
        seen += counts[i];
        if (seen >= rank)
            return i;
    }
    return FL_HIST_BUCKETS - 1;
}
