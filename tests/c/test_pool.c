/* test_pool.c - connection-pool bookkeeping: limits, MRU reuse, expiry,
 * bad ids, counters, threads and fork. */
#include "check.h"
#include "pool/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000000LL
#define A "http://a.example:80"
#define B "b.example:443"

static uint64_t
get(fl_pool *p, const char *ep, int64_t now, fl_pool_get_result expect)
{
    uint64_t id = 0;
    fl_pool_get_result r;
    CHECK_EQ_INT(fl_pool_get(p, ep, strlen(ep), now, 1, &id, &r), 0);
    CHECK_EQ_INT(r, expect);
    return id;
}

static void
test_limits_and_mru_reuse(void)
{
    fl_pool *p = fl_pool_create(2, 3, -1, -1);
    uint64_t a1 = get(p, A, 0, FL_POOL_CREATED);
    uint64_t a2 = get(p, A, 0, FL_POOL_CREATED);
    get(p, A, 0, FL_POOL_REJECTED); /* per endpoint */
    uint64_t b1 = get(p, B, 0, FL_POOL_CREATED);
    get(p, B, 0, FL_POOL_REJECTED); /* total */
    CHECK(a1 != a2 && a2 != b1);
    CHECK_EQ_INT(fl_pool_return(p, a1, 1), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_return(p, a2, 2), FL_POOL_OK);
    CHECK_EQ_INT(get(p, A, 3, FL_POOL_REUSED), a2); /* most recent first */
    CHECK_EQ_INT(get(p, A, 3, FL_POOL_REUSED), a1);
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.active, 3);
    CHECK_EQ_INT(t.idle, 0);
    CHECK_EQ_INT(t.created, 3);
    CHECK_EQ_INT(t.reused, 2);
    CHECK_EQ_INT(t.rejected, 2);
    CHECK_EQ_INT(fl_pool_endpoint_count(p), 2);
    uint64_t none;
    fl_pool_get_result r;
    CHECK_EQ_INT(fl_pool_get(p, "new:1", 5, 3, 0, &none, &r), 0);
    CHECK_EQ_INT(r, FL_POOL_NEW_ENDPOINT);
    CHECK_EQ_INT(fl_pool_endpoint_count(p), 2);
    char name[64];
    fl_pool_counts e;
    CHECK_EQ_INT(fl_pool_endpoint_stats(p, 1, name, sizeof name, &e), strlen(B));
    CHECK(strcmp(name, B) == 0);
    CHECK_EQ_INT(e.rejected, 1);
    CHECK_EQ_INT(e.active, 1);
    fl_pool_destroy(p);
}

static void
test_bad_ids_are_counted_no_ops(void)
{
    fl_pool *p = fl_pool_create(5, 5, -1, -1);
    uint64_t a = get(p, A, 0, FL_POOL_CREATED);
    CHECK_EQ_INT(fl_pool_return(p, 999, 0), FL_POOL_UNKNOWN);
    CHECK_EQ_INT(fl_pool_return(p, a, 0), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_return(p, a, 0), FL_POOL_NOT_ACTIVE);
    CHECK_EQ_INT(fl_pool_remove(p, a), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_remove(p, a), FL_POOL_UNKNOWN);
    CHECK_EQ_INT(fl_pool_mark_unhealthy(p, a), FL_POOL_UNKNOWN);
    CHECK_EQ_INT(fl_pool_invalid_ops(p), 4);
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.active + t.idle, 0);
    CHECK_EQ_INT(t.removed, 1);
    CHECK_EQ_INT(fl_pool_healthy(p, a, 0), 0);
    /* ids are never reused */
    CHECK(get(p, A, 0, FL_POOL_CREATED) > a);
    fl_pool_destroy(p);
}

static void
test_idle_timeout_and_lifetime(void)
{
    fl_pool *p = fl_pool_create(5, 10, 10 * SEC, 100 * SEC);
    uint64_t a = get(p, A, 0, FL_POOL_CREATED);
    uint64_t b = get(p, A, 0, FL_POOL_CREATED);
    fl_pool_return(p, a, 0);
    fl_pool_return(p, b, 5 * SEC);
    CHECK_EQ_INT(fl_pool_healthy(p, a, 10 * SEC), 1); /* idle exactly 10 s: not past */
    CHECK_EQ_INT(fl_pool_healthy(p, a, 10 * SEC + 1), 0);
    CHECK_EQ_INT(fl_pool_cleanup(p, 10 * SEC + 1), 1); /* a only */
    CHECK_EQ_INT(fl_pool_healthy(p, b, 10 * SEC + 1), 1);
    /* b reused, held past its lifetime: unhealthy, dropped on return */
    CHECK_EQ_INT(get(p, A, 11 * SEC, FL_POOL_REUSED), b);
    CHECK_EQ_INT(fl_pool_cleanup(p, 200 * SEC), 0); /* never a checked-out one */
    CHECK_EQ_INT(fl_pool_healthy(p, b, 100 * SEC + 1), 0);
    CHECK_EQ_INT(fl_pool_return(p, b, 100 * SEC + 1), FL_POOL_DISCARDED);
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.expired, 2);
    CHECK_EQ_INT(t.active + t.idle, 0);
    /* get skips an expired idle one */
    uint64_t c = get(p, A, 0, FL_POOL_CREATED);
    fl_pool_return(p, c, 0);
    CHECK(get(p, A, 50 * SEC, FL_POOL_CREATED) != c);
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.expired, 3);
    fl_pool_destroy(p);
}

/* Ages across a clock jump of centuries (near -2^63 ns to near +2^63 ns):
 * the difference exceeds int64 and must not wrap to "young". */
static void
test_expiry_across_a_huge_clock_jump(void)
{
    const int64_t early = -9100000000LL * SEC, late = 9100000000LL * SEC;
    fl_pool *p = fl_pool_create(5, 10, 10 * SEC, 100 * SEC);
    uint64_t a = get(p, A, early, FL_POOL_CREATED);
    uint64_t b = get(p, A, early, FL_POOL_CREATED);
    fl_pool_return(p, a, early);
    CHECK_EQ_INT(fl_pool_healthy(p, a, late), 0);
    CHECK_EQ_INT(fl_pool_healthy(p, b, late), 0); /* past its lifetime */
    CHECK_EQ_INT(fl_pool_return(p, b, late), FL_POOL_DISCARDED);
    CHECK_EQ_INT(fl_pool_cleanup(p, late), 1);
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.expired, 2);
    /* and back: a clock going back never expires anything */
    uint64_t c = get(p, A, late, FL_POOL_CREATED);
    fl_pool_return(p, c, late);
    CHECK_EQ_INT(fl_pool_healthy(p, c, early), 1);
    fl_pool_destroy(p);
}

static void
test_unhealthy(void)
{
    fl_pool *p = fl_pool_create(5, 10, -1, -1);
    uint64_t a = get(p, A, 0, FL_POOL_CREATED);
    uint64_t b = get(p, A, 0, FL_POOL_CREATED);
    fl_pool_return(p, b, 0);
    CHECK_EQ_INT(fl_pool_mark_unhealthy(p, a), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_healthy(p, a, 0), 0);
    CHECK_EQ_INT(fl_pool_return(p, a, 0), FL_POOL_DISCARDED);
    CHECK_EQ_INT(fl_pool_mark_unhealthy(p, b), FL_POOL_OK); /* idle: dropped now */
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.removed, 2);
    CHECK_EQ_INT(t.active + t.idle, 0);
    char buf[8];
    CHECK_EQ_INT(fl_pool_endpoint_of(p, a, buf, sizeof buf), -1);
    uint64_t c = get(p, A, 0, FL_POOL_CREATED);
    CHECK_EQ_INT(fl_pool_endpoint_of(p, c, buf, sizeof buf), strlen(A));
    CHECK(strcmp(buf, "http://") == 0); /* truncated copy */
    fl_pool_destroy(p);
}

/* Many connections and endpoints: the maps grow, deletions keep lookups
 * right. */
static void
test_many(void)
{
    fl_pool *p = fl_pool_create(50, 5000, -1, -1);
    static uint64_t ids[5000];
    char ep[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ep, sizeof ep, "host%d:80", i % 100);
        ids[i] = get(p, ep, 0, FL_POOL_CREATED);
    }
    for (int i = 0; i < 5000; i += 2)
        CHECK_EQ_INT(fl_pool_remove(p, ids[i]), FL_POOL_OK);
    for (int i = 1; i < 5000; i += 2)
        CHECK_EQ_INT(fl_pool_return(p, ids[i], 1), FL_POOL_OK);
    for (int i = 0; i < 5000; i++)
        CHECK_EQ_INT(fl_pool_healthy(p, ids[i], 1), i % 2);
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.idle, 2500);
    CHECK_EQ_INT(t.removed, 2500);
    fl_pool_destroy(p);
}

/* No per-endpoint limit (2^31 - 1): idle stacks grow with use (they were
 * allocated at the limit: 8 GiB each); every connection still fits on its
 * stack, through removals and re-growth. */
static void
test_idle_stacks_grow_with_use(void)
{
    fl_pool *p = fl_pool_create(UINT32_MAX >> 1, 100000, -1, -1);
    static uint64_t ids[3000];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3000; i++)
            ids[i] = get(p, i % 3 ? A : B, 0, FL_POOL_CREATED);
        for (int i = 0; i < 3000; i++)
            CHECK_EQ_INT(fl_pool_return(p, ids[i], 1), FL_POOL_OK);
        for (int i = 2997; i >= 0; i -= 3) /* B's (i % 3 == 0): most recent first */
            CHECK_EQ_INT(get(p, B, 2, FL_POOL_REUSED), ids[i]);
        for (int i = 0; i < 3000; i += 3)
            CHECK_EQ_INT(fl_pool_remove(p, ids[i]), FL_POOL_OK);
        CHECK_EQ_INT(fl_pool_cleanup(p, 3), 0);
        for (int i = 0; i < 3000; i++)
            if (i % 3)
                CHECK_EQ_INT(fl_pool_remove(p, ids[i]), FL_POOL_OK);
        fl_pool_cleanup(p, 3); /* both endpoints retired: round 2 starts afresh */
    }
    fl_pool_destroy(p);
}

typedef struct {
    fl_pool *p;
    int got, max_seen_total;
} worker_arg;

static void *
worker(void *v)
{
    worker_arg *a = v;
    uint64_t held[4];
    for (int round = 0; round < 2000; round++) {
        int n = 0;
        for (int k = 0; k < 4; k++) {
            fl_pool_get_result r;
            uint64_t id;
            fl_pool_get(a->p, (k & 1) ? A : B, strlen((k & 1) ? A : B), 0, 1, &id, &r);
            if (r != FL_POOL_REJECTED)
                held[n++] = id;
        }
        fl_pool_counts t;
        fl_pool_totals(a->p, &t);
        if ((int)(t.active + t.idle) > a->max_seen_total)
            a->max_seen_total = (int)(t.active + t.idle);
        a->got += n;
        for (int k = 0; k < n; k++)
            fl_pool_return(a->p, held[k], 0);
    }
    return NULL;
}

static void
test_threads_keep_limits(void)
{
    fl_pool *p = fl_pool_create(5, 7, -1, -1);
    pthread_t th[8];
    worker_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (worker_arg){p, 0, 0};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].max_seen_total <= 7);
    }
    fl_pool_counts t;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.active, 0);
    CHECK(t.idle <= 7 && t.created <= 7);
    uint64_t gets = t.created + t.reused + t.rejected, got = 0;
    for (int i = 0; i < 8; i++)
        got += (uint64_t)args[i].got;
    CHECK_EQ_INT(gets, 8 * 2000 * 4);
    CHECK_EQ_INT(got, t.created + t.reused);
    fl_pool_destroy(p);
}

static void *
hold_forever(void *lock)
{
    pthread_mutex_lock((pthread_mutex_t *)lock);
    for (;;)
        pause();
    return NULL;
}

static void
test_fork_while_locked(void)
{
    fl_pool *p = fl_pool_create(5, 5, -1, -1);
    pthread_t th;
    pthread_create(&th, NULL, hold_forever, (void *)p); /* lock is the first member */
    usleep(20000);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5);
        fl_pool_after_fork_child(p);
        fl_pool_get_result r;
        uint64_t id;
        fl_pool_get(p, A, strlen(A), 0, 1, &id, &r);
        _exit(r == FL_POOL_CREATED ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pthread_cancel(th);
    pthread_join(th, NULL);
    fl_pool_after_fork_child(p);
    fl_pool_destroy(p);
}

/* cleanup retires endpoints with no connection: totals stay exact, the
 * survivors keep their order, counters and connections (indices remapped),
 * the maps shrink back, and a retired name used again starts afresh. */
static void
test_cleanup_retires_unused_endpoints(void)
{
    enum { N = 20000 };
    fl_pool *p = fl_pool_create(4, N + 8, -1, -1);
    char name[64];
    uint64_t keep_a = get(p, A, 0, FL_POOL_CREATED);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "http://h%d.example:80", i);
        uint64_t id = get(p, name, 0, FL_POOL_CREATED);
        CHECK_EQ_INT(fl_pool_remove(p, id), FL_POOL_OK);
    }
    uint64_t keep_b = get(p, B, 0, FL_POOL_CREATED);
    CHECK_EQ_INT(fl_pool_return(p, keep_b, 1), FL_POOL_OK); /* idle: kept */
    CHECK_EQ_INT(fl_pool_endpoint_count(p), N + 2);
    CHECK_EQ_INT(fl_pool_cleanup(p, 2), 0);
    CHECK_EQ_INT(fl_pool_endpoint_count(p), 2);
    CHECK_EQ_INT(fl_pool_retired_endpoints(p), N);
    fl_pool_counts t, e;
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.created, N + 2);
    CHECK_EQ_INT(t.removed, N);
    CHECK_EQ_INT(t.active, 1);
    CHECK_EQ_INT(t.idle, 1);
    CHECK_EQ_INT(fl_pool_endpoint_stats(p, 0, name, sizeof name, &e), strlen(A));
    CHECK(strcmp(name, A) == 0 && e.active == 1);
    CHECK_EQ_INT(fl_pool_endpoint_stats(p, 1, name, sizeof name, &e), strlen(B));
    CHECK(strcmp(name, B) == 0 && e.idle == 1);
    CHECK_EQ_INT(fl_pool_endpoint_of(p, keep_b, name, sizeof name), strlen(B));
    CHECK_EQ_INT(get(p, B, 3, FL_POOL_REUSED), keep_b); /* found through the rebuilt map */
    CHECK_EQ_INT(fl_pool_return(p, keep_a, 3), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_remove(p, keep_a), FL_POOL_OK);
    CHECK_EQ_INT(fl_pool_cleanup(p, 4), 0);
    CHECK_EQ_INT(fl_pool_endpoint_count(p), 1); /* A retired, B checked out */
    get(p, A, 5, FL_POOL_CREATED);                /* used again: a new endpoint */
    CHECK_EQ_INT(fl_pool_endpoint_stats(p, 1, name, sizeof name, &e), strlen(A));
    CHECK(e.created == 1 && e.removed == 0);
    fl_pool_totals(p, &t);
    CHECK_EQ_INT(t.created, N + 3);
    CHECK_EQ_INT(t.removed, N + 1);
    fl_pool_destroy(p);
}

int
main(void)
{
    static const check_case cases[] = {
        CASE(test_limits_and_mru_reuse),
        CASE(test_bad_ids_are_counted_no_ops),
        CASE(test_idle_timeout_and_lifetime),
        CASE(test_expiry_across_a_huge_clock_jump),
        CASE(test_unhealthy),
        CASE(test_many),
        CASE(test_idle_stacks_grow_with_use),
        CASE(test_threads_keep_limits),
        CASE(test_fork_while_locked),
        CASE(test_cleanup_retires_unused_endpoints),
    };
    RUN_TESTS(cases);
}
