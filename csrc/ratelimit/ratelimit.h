/*
 * ratelimit.h - the in-memory token-bucket rate limiter (C core, no Python).
 *
 * One fl_rl is one limiter: a rate (tokens per minute), a capacity (burst)
 * and a table of per-key buckets.  Every call takes `now` in nanoseconds
 * from the caller's clock; the core never reads a clock itself, so tests
 * freeze and move time at will.  All calls are thread-safe.
 */
#ifndef FL_RATELIMIT_H
#define FL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* One token is this many units: nanoseconds per minute.  A bucket refills
 * `rate_per_minute` units per nanosecond, exactly, in integers. */
#define FL_RL_UNITS_PER_TOKEN 60000000000LL

typedef struct fl_rl fl_rl;

typedef enum {
    FL_RL_ALLOWED = 0,
    FL_RL_DENIED = 1,          /* not enough tokens now; retry_after_ns set */
    FL_RL_COST_OVER_BURST = 2, /* cost > burst: never allowed */
} fl_rl_verdict;

typedef struct {
    fl_rl_verdict verdict;
    int64_t remaining;      /* whole tokens left after the check */
    int64_t retry_after_ns; /* when DENIED: ns of refill missing; the exact wait
                             * is retry_after_ns + behind_ns */
    uint64_t behind_ns;     /* when DENIED: how far the clock went back behind the
                             * bucket's last update (the wait counts from it), else 0;
                             * kept apart: the sum can exceed int64 (and uint64) */
} fl_rl_result;

typedef struct {
    uint64_t fingerprint; /* stable fixed-key hash of the key */
    int64_t remaining;    /* whole tokens */
} fl_rl_key_state;

typedef struct {
    uint64_t checks, allowed, denied;
    size_t entries;  /* buckets stored (some may be full, not yet reclaimed) */
    size_t capacity; /* table slots */
    size_t bytes;    /* table size in bytes */
} fl_rl_counters;

/* Largest burst accepted: burst * FL_RL_UNITS_PER_TOKEN fits in int64. */
#define FL_RL_MAX_BURST (INT64_MAX / FL_RL_UNITS_PER_TOKEN)

/* NULL on bad arguments (rate < 1, burst < 1 or > FL_RL_MAX_BURST, rate too
 * large) or out of memory.  seed: 16 random bytes keying the table hash. */
fl_rl *fl_rl_create(int64_t rate_per_minute, int64_t burst, const uint8_t seed[16]);
void fl_rl_destroy(fl_rl *rl);

/* Check and, if allowed, consume `cost` (>= 0) tokens.  0; -1 when out of
 * memory (nothing consumed); -2 when cost < 0. */
int fl_rl_check(fl_rl *rl, const char *key, size_t len, int64_t cost, int64_t now_ns,
                fl_rl_result *out);

/* Whole tokens available now, without consuming. */
int64_t fl_rl_remaining(fl_rl *rl, const char *key, size_t len, int64_t now_ns);

/* Reclaim every bucket that is full at now_ns (equivalent to no bucket);
 * returns how many were reclaimed, or -1 when out of memory. */
long fl_rl_sweep(fl_rl *rl, int64_t now_ns);

/* Keys whose bucket is not full at now_ns: a malloc'd array the caller
 * frees, *n set to its length.  NULL with *n == 0 when empty; NULL with
 * *n == (size_t)-1 when out of memory. */
fl_rl_key_state *fl_rl_export(fl_rl *rl, int64_t now_ns, size_t *n);

/* Fingerprints of every stored bucket, full or not (a full one can show
 * again once the clock goes back): a malloc'd array the caller frees, *n its
 * length; NULL with *n == 0 when empty, NULL with *n == (size_t)-1 when out
 * of memory. */
uint64_t *fl_rl_stored_fingerprints(fl_rl *rl, size_t *n);

void fl_rl_get_counters(fl_rl *rl, fl_rl_counters *out);

/* In a child after fork(): make the lock usable again (the forking thread
 * may not have been the holder). */
void fl_rl_after_fork_child(fl_rl *rl);

/* Tests only: the index slot where key's probe starts (it depends on the
 * limiter's secret, not only on the key). */
size_t fl_rl_home_slot(fl_rl *rl, const char *key, size_t len);

/* Tests only: hold / release the limiter's lock (to fork while it is held). */
void fl_rl_hold_lock(fl_rl *rl);
void fl_rl_release_lock(fl_rl *rl);

/* The stable fingerprint of a key (same in every process). */
uint64_t fl_rl_fingerprint(const char *key, size_t len);

#endif /* FL_RATELIMIT_H */
