"""Bucket arithmetic of the log-linear latency histogram.

The Python twin of csrc/monitor/histogram.c; both map a duration in
nanoseconds to the same bucket:

* below 64 ns every nanosecond has its own bucket (exact);
* above, each power of two [2**e, 2**(e+1)) is split into 32 equal
  sub-buckets, so a bucket's midpoint is within 1/64 (1.6 %) of every value
  in it;
* 2**42 ns (about 73 minutes) and beyond share the last bucket.
"""
from __future__ import annotations

import math
from typing import List, Mapping, Sequence, Tuple

SUB_BITS = 5
SUB_COUNT = 1 << SUB_BITS
MAX_BITS = 42
BUCKETS = SUB_COUNT + (MAX_BITS - SUB_BITS) * SUB_COUNT
#: worst relative error of a reported quantile (bucket midpoint)
RELATIVE_ERROR = 1.0 / (2 * SUB_COUNT)


def index(ns: int) -> int:
    if ns < SUB_COUNT:
        return ns
    exponent = ns.bit_length() - 1
    if exponent >= MAX_BITS:
        return BUCKETS - 1
    shift = exponent - SUB_BITS
    return SUB_COUNT + shift * SUB_COUNT + ((ns >> shift) - SUB_COUNT)


def lower(idx: int) -> int:
    if idx < SUB_COUNT:
        return idx
    shift, sub = divmod(idx - SUB_COUNT, SUB_COUNT)
    return (SUB_COUNT + sub) << shift


def width(idx: int) -> int:
    if idx < SUB_COUNT:
        return 1
    return 1 << ((idx - SUB_COUNT) // SUB_COUNT)


def midpoint(idx: int) -> float:
    return float(lower(idx)) + float(width(idx) - 1) / 2.0


def flatten(buckets: Mapping[int, int]) -> Tuple[int, ...]:
    """{bucket: count} as the flat ascending (bucket, count, bucket, count, ...)
    tuple recorders' snapshots use."""
    return tuple(x for idx in sorted(buckets) for x in (idx, buckets[idx]))


def quantile_indexes(flat: Sequence[int], total: int, qs: Sequence[float]) -> List[int]:
    """For each ascending quantile q, the bucket where the running count of a
    flat (bucket, count, ...) histogram first reaches ceil(q * total); the
    twin of fl_hist_quantile_index in csrc/monitor/histogram.c."""
    ranks = [min(max(1, math.ceil(q * float(total))), total) for q in qs]
    found: List[int] = []
    if not ranks:
        return found
    wanted = ranks[0]
    seen = 0
    for idx, n in zip(flat[::2], flat[1::2]):
        seen += n
        while seen >= wanted:
            found.append(idx)
            if len(found) == len(ranks):
                return found
            wanted = ranks[len(found)]
    return found + [BUCKETS - 1] * (len(ranks) - len(found))
