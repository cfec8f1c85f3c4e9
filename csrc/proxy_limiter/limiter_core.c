/*
 * limiter_core.c - int64 arithmetic of the proxy limiter's hot path (see
 * limiter_core.h).  Every operation is overflow-checked: on overflow the
 * caller falls back to arbitrary-precision Python arithmetic.
 */
#include "proxy_limiter/limiter_core.h"

fl_limit_code
fl_limit_check(int has_value, int64_t value, int64_t limit, int64_t pending, int64_t *remaining)
{
    int64_t with_pending, rem;
    if (!has_value) {
        *remaining = limit;
        return FL_LIMIT_OK;
    }
    if (__builtin_add_overflow(value, pending, &with_pending))
        return FL_LIMIT_OVERFLOW;
    if (__builtin_sub_overflow(limit, value, &rem))
        return FL_LIMIT_OVERFLOW;
    *remaining = rem;
    return with_pending > limit ? FL_LIMIT_OVER : FL_LIMIT_OK;
}

int
fl_window_needs_reset(int has_start, int64_t now, int64_t start, int64_t window_size)
{
    int64_t elapsed;
    if (!has_start)
        return 1;
    if (__builtin_sub_overflow(now, start, &elapsed))
        return -1;
    return elapsed >= window_size;
}

int
fl_counter_next(int64_t counter, int64_t *next)
{
    return __builtin_add_overflow(counter, (int64_t)1, next) ? -1 : 0;
}
