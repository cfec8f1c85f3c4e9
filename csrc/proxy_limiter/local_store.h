/*
 * local_store.h - the memory tier of LiteLLM's v3 proxy rate limiter
 * (litellm 1.110.2: the Rust InMemoryCache behind NativeRateLimits),
 * reproduced operation for operation, without Python.
 *
 * State: at most `capacity` entries (key bytes -> value + expiration, in ns
 * since the Unix epoch) and a min-heap of (expiration, key) that may hold
 * stale items, exactly like the Rust BinaryHeap<Reverse<(Duration, String)>>:
 * an item is stale when the key's current expiration differs.  The heap
 * order is the total order (expiration, key bytes), so pops are the same as
 * the Rust heap's whatever the internal layout.
 *
 *   get:  an entry whose expiration < now is removed, then looked up.
 *   set:  evict (pop stale items; remove entries whose expiration <= now;
 *         then pop the earliest-expiring until fewer than capacity remain),
 *         then keep the key's expiration if it is >= now, else set
 *         now + ttl (default ttl when none), pushing a heap item when it
 *         changes; then store the value.
 *
 * Values: int64 (Python int), double (float), text (UTF-8 bytes), or a
 * slot registry (opaque bytes the binding encodes).  The caller reads the
 * clock (CLOCK_REALTIME, what Rust's SystemTime::now reads) and passes it.
 */
#ifndef FL_LOCAL_STORE_H
#define FL_LOCAL_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { FL_LS_INT = 0, FL_LS_FLOAT = 1, FL_LS_TEXT = 2, FL_LS_SLOTS = 3 } fl_ls_kind;

typedef struct {
    fl_ls_kind kind;
    int64_t i;          /* FL_LS_INT */
    double f;           /* FL_LS_FLOAT */
    const char *bytes;  /* FL_LS_TEXT / FL_LS_SLOTS (owned by the store once set) */
    size_t len;
} fl_ls_value;

typedef struct fl_ls fl_ls;

/* capacity: max entries (the Rust default is 200); default_ttl_ns: 600 s there. */
fl_ls *fl_ls_new(size_t capacity, uint64_t default_ttl_ns);
void fl_ls_free(fl_ls *store);

/* get_cache: the live value or NULL (borrowed, valid until the next write). */
const fl_ls_value *fl_ls_get(fl_ls *store, const char *key, size_t klen, uint64_t now);

/* Result codes of fl_ls_set. */
enum { FL_LS_OK = 0, FL_LS_NOMEM = -1, FL_LS_TIME_OVERFLOW = -2 };

/*
 * set_cache(key, value, ttl).  has_ttl == 0 uses the default ttl.  The
 * value's bytes are copied.  FL_LS_TIME_OVERFLOW (now + ttl past 2^64 ns)
 * is returned before anything changes; the caller must not use this store
 * for such a write (the Rust store panics there).
 */
int fl_ls_set(fl_ls *store, const char *key, size_t klen, const fl_ls_value *value, int has_ttl,
              uint64_t ttl_ns, uint64_t now);

/* Number of entries held (expired ones included until removed). */
size_t fl_ls_len(const fl_ls *store);

/* Every held entry, in no particular order; stops when cb returns nonzero. */
int fl_ls_each(const fl_ls *store,
               int (*cb)(const char *key, size_t klen, const fl_ls_value *value, uint64_t expires,
                         void *arg),
               void *arg);

/* Number + Number as the Rust store adds: int + int wraps, else doubles. */
fl_ls_value fl_ls_add(const fl_ls_value *a, const fl_ls_value *b);

/*
 * Seconds (a finite double >= 0) to nanoseconds rounded to nearest, ties to
 * even (Rust's Duration::try_from_secs_f64).  Returns -1 if the result
 * would not fit in uint64 ns.
 */
int fl_ls_seconds_to_ns(double seconds, uint64_t *ns);

#endif
