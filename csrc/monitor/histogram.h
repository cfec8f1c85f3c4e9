/*
 * histogram.h - a bounded log-linear latency histogram (HDR-like).
 *
 * A duration in nanoseconds maps to one of FL_HIST_BUCKETS buckets:
 *   - below 2 * FL_HIST_SUB_COUNT ns (64 ns) every nanosecond has its own
 *     bucket, so small values are exact;
 *   - above, each power of two [2^e, 2^(e+1)) is split into
 *     FL_HIST_SUB_COUNT equal sub-buckets, so a bucket is at most 1/32 of
 *     its lower bound wide.  Reporting a bucket's midpoint is then within
 *     1/64 (1.6%) of every value in it.
 *   - values of 2^FL_HIST_MAX_BITS ns (about 73 minutes) and more share the
 *     last bucket (exact min, max, sum and count are kept beside it).
 *
 * The same mapping is written in Python in
 * src/fast_litellm/monitor/_histogram.py; the two must agree bucket for
 * bucket.  No Python.h here.
 */
#ifndef FL_MONITOR_HISTOGRAM_H
#define FL_MONITOR_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define FL_HIST_SUB_BITS 5
#define FL_HIST_SUB_COUNT (1u << FL_HIST_SUB_BITS)
#define FL_HIST_MAX_BITS 42
#define FL_HIST_BUCKETS \
    (FL_HIST_SUB_COUNT + (FL_HIST_MAX_BITS - FL_HIST_SUB_BITS) * FL_HIST_SUB_COUNT)

/* The bucket holding a duration of ns nanoseconds. */
size_t fl_hist_index(uint64_t ns);

/* Smallest value of bucket idx, and how many values it holds. */
uint64_t fl_hist_lower(size_t idx);
uint64_t fl_hist_width(size_t idx);

/* The value reported for bucket idx: the middle of its range. */
double fl_hist_midpoint(size_t idx);

/*
 * The bucket holding the q-quantile (0 < q <= 1) of a histogram with
 * `total` values: the first bucket where the running count reaches
 * ceil(q * total) (at least 1).  total must be > 0 and equal the sum of
 * counts.
 */
size_t fl_hist_quantile_index(const uint64_t *counts, uint64_t total, double q);

#endif /* FL_MONITOR_HISTOGRAM_H */
