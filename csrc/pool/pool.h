/*
 * pool.h - connection-pool bookkeeping (C core, no Python).
 *
 * The pool does not open sockets: it hands out connection ids per endpoint
 * within limits, tracks which are checked out or idle, reuses the most
 * recently returned idle one first, and expires idle ones.  Every call takes
 * `now` in ns from the caller's clock.  All calls are thread-safe.
 */
#ifndef FL_POOL_H
#define FL_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_pool fl_pool;

/* Counters, overall or for one endpoint. */
typedef struct {
    uint64_t active, idle;              /* now */
    uint64_t created, reused, expired;  /* since creation */
    uint64_t rejected, removed;
} fl_pool_counts;

typedef enum {
    FL_POOL_CREATED = 0,  /* a new connection id */
    FL_POOL_REUSED = 1,   /* an idle one, most recently returned first */
    FL_POOL_REJECTED = 2, /* limits reached: no id */
    FL_POOL_NEW_ENDPOINT = 3, /* endpoint not seen yet and add_endpoint == 0 */
} fl_pool_get_result;

typedef enum {
    FL_POOL_OK = 0,
    FL_POOL_UNKNOWN = 1,    /* no such connection (never, or removed) */
    FL_POOL_NOT_ACTIVE = 2, /* return of an idle (already returned) one */
    FL_POOL_DISCARDED = 3,  /* returned, but unhealthy or past lifetime: removed */
} fl_pool_status;

/* timeouts: < 0 means none.  NULL on bad limits (0) or out of memory. */
fl_pool *fl_pool_create(uint32_t max_per_endpoint, uint32_t max_total, int64_t idle_timeout_ns,
                        int64_t max_lifetime_ns);
void fl_pool_destroy(fl_pool *p);

/* -1 when out of memory.  With add_endpoint == 0 an endpoint not seen yet
 * gives FL_POOL_NEW_ENDPOINT and changes nothing (the caller validates it,
 * then calls again with add_endpoint == 1). */
int fl_pool_get(fl_pool *p, const char *ep, size_t len, int64_t now, int add_endpoint,
                uint64_t *id, fl_pool_get_result *result);
fl_pool_status fl_pool_return(fl_pool *p, uint64_t id, int64_t now);
fl_pool_status fl_pool_remove(fl_pool *p, uint64_t id);
fl_pool_status fl_pool_mark_unhealthy(fl_pool *p, uint64_t id);
/* 1 healthy (known, not expired, not marked unhealthy), else 0. */
int fl_pool_healthy(fl_pool *p, uint64_t id, int64_t now);
/* Remove idle connections past their idle timeout or lifetime (returns how
 * many), then retire the endpoints left with no connection: their counters
 * stay in the totals, their per-endpoint rows go. */
size_t fl_pool_cleanup(fl_pool *p, int64_t now);
/* How many endpoints cleanup has retired so far. */
uint64_t fl_pool_retired_endpoints(fl_pool *p);

/* Copy of the endpoint of a connection into buf (NUL-terminated, truncated
 * to cap); its length, or -1 when unknown. */
long fl_pool_endpoint_of(fl_pool *p, uint64_t id, char *buf, size_t cap);

uint64_t fl_pool_invalid_ops(fl_pool *p);
void fl_pool_totals(fl_pool *p, fl_pool_counts *out);
size_t fl_pool_endpoint_count(fl_pool *p);
/* Endpoint i (0 <= i < count, in first-use order): name and counters.
 * The name is copied into buf (truncated to cap); returns its length. */
size_t fl_pool_endpoint_stats(fl_pool *p, size_t i, char *buf, size_t cap, fl_pool_counts *out);

void fl_pool_after_fork_child(fl_pool *p);

/* Tests only: hold / release the pool's lock (to fork while it is held). */
void fl_pool_hold_lock(fl_pool *p);
void fl_pool_release_lock(fl_pool *p);

#endif /* FL_POOL_H */
