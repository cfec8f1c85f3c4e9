/*
 * limiter_core.h - the arithmetic of LiteLLM's v3 proxy rate limiter
 * (parallel_request_limiter_v3), on 64-bit integers, without Python.
 *
 * The binding converts Python ints that fit in int64 and calls these; any
 * value outside that range (or an overflow while computing) makes the
 * binding use Python's own arithmetic instead, so results never differ.
 */
#ifndef FL_LIMITER_CORE_H
#define FL_LIMITER_CORE_H

#include <stdint.h>

typedef enum { FL_LIMIT_OK = 0, FL_LIMIT_OVER = 1, FL_LIMIT_OVERFLOW = -1 } fl_limit_code;

/*
 * is_cache_list_over_limit for one counter:
 *   over      = has_value && value + pending > limit
 *   remaining = has_value ? limit - value : limit
 */
fl_limit_code fl_limit_check(int has_value, int64_t value, int64_t limit, int64_t pending,
                             int64_t *remaining);

/*
 * The sliding window's reset test: no window start yet, or
 * now - start >= window_size.  Returns 1 (reset), 0 (keep), or -1 when
 * now - start overflows int64.
 */
int fl_window_needs_reset(int has_start, int64_t now, int64_t start, int64_t window_size);

/* counter + 1 with overflow check: 0 on success, -1 on overflow. */
int fl_counter_next(int64_t counter, int64_t *next);

#endif
