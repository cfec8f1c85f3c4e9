/* test_monitor.c - the performance monitor core: histogram accuracy,
 * lifetime and window totals, the series cap, reset, threads and fork. */
#include "check.h"
#include "monitor/histogram.h"
#include "monitor/monitor.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000000ull

static void
test_small_values_are_exact(void)
{
    for (uint64_t v = 0; v < 64; v++) {
        size_t idx = fl_hist_index(v);
        CHECK_EQ_INT(fl_hist_lower(idx), v);
        CHECK_EQ_INT(fl_hist_width(idx), 1);
        CHECK(fl_hist_midpoint(idx) == (double)v);
    }
}

static void
test_buckets_cover_values_within_error(void)
{
    uint64_t v = 64;
    size_t previous = fl_hist_index(63);
    while (v < (1ull << FL_HIST_MAX_BITS)) {
        size_t idx = fl_hist_index(v);
        CHECK(idx < FL_HIST_BUCKETS);
        CHECK(idx >= previous);
        CHECK(fl_hist_lower(idx) <= v);
        CHECK(v - fl_hist_lower(idx) < fl_hist_width(idx));
        double error = fabs(fl_hist_midpoint(idx) - (double)v) / (double)v;
        CHECK(error <= 1.0 / 64.0);
        previous = idx;
        v += v / 7 + 1;
    }
}

static void
test_every_bucket_boundary_round_trips(void)
{
    for (size_t idx = 0; idx < FL_HIST_BUCKETS; idx++) {
        uint64_t lo = fl_hist_lower(idx), hi = lo + fl_hist_width(idx) - 1;
        CHECK_EQ_INT(fl_hist_index(lo), idx);
        CHECK_EQ_INT(fl_hist_index(hi), idx);
    }
    CHECK_EQ_INT(fl_hist_index(1ull << FL_HIST_MAX_BITS), FL_HIST_BUCKETS - 1);
    CHECK_EQ_INT(fl_hist_index(UINT64_MAX), FL_HIST_BUCKETS - 1);
}

static void
test_quantiles_of_uniform_values(void)
{
    static uint64_t counts[FL_HIST_BUCKETS];
    memset(counts, 0, sizeof(counts));
    for (uint64_t us = 1; us <= 10000; us++)
        counts[fl_hist_index(us * 1000)]++;
    double p50 = fl_hist_midpoint(fl_hist_quantile_index(counts, 10000, 0.50));
    double p99 = fl_hist_midpoint(fl_hist_quantile_index(counts, 10000, 0.99));
    CHECK(fabs(p50 - 5000000.0) / 5000000.0 < 0.02);
    CHECK(fabs(p99 - 9900000.0) / 9900000.0 < 0.02);
    CHECK_EQ_INT(fl_hist_quantile_index(counts, 10000, 1e-9), fl_hist_index(1000));
}

static fl_monitor *
new_monitor(uint32_t max_series)
{
    fl_monitor_config config;
    fl_monitor_config_default(&config);
    config.max_series = max_series;
    fl_monitor *m = fl_monitor_new(&config);
    CHECK(m != NULL);
    return m;
}

static const fl_monitor_series_snapshot *
find(const fl_monitor_snapshot *snap, const char *component, const char *operation)
{
    for (size_t i = 0; i < snap->count; i++)
        if (strcmp(snap->series[i].component, component) == 0 &&
            strcmp(snap->series[i].operation, operation) == 0)
            return &snap->series[i];
    return NULL;
}

static void
test_record_totals(void)
{
    fl_monitor *m = new_monitor(16);
    fl_monitor_record_named(m, "router", "pick", 1000, 1, 10, 20, 5 * SEC);
    fl_monitor_record_named(m, "router", "pick", 3000, 0, 5, FL_MONITOR_NO_SIZE, 5 * SEC);
    fl_monitor_record_named(m, "router", "other", 7, 1, FL_MONITOR_NO_SIZE,
                            FL_MONITOR_NO_SIZE, 5 * SEC);
    fl_monitor_snapshot snap;
    CHECK_EQ_INT(fl_monitor_take_snapshot(m, 6 * SEC, &snap), FL_MONITOR_OK);
    CHECK_EQ_INT(snap.count, 2);
    const fl_monitor_series_snapshot *s = find(&snap, "router", "pick");
    CHECK(s != NULL);
    if (s != NULL) {
        const fl_monitor_counters *t = &s->lifetime.totals;
        CHECK_EQ_INT(t->count, 2);
        CHECK_EQ_INT(t->errors, 1);
        CHECK_EQ_INT(t->sum_ns, 4000);
        CHECK_EQ_INT(t->min_ns, 1000);
        CHECK_EQ_INT(t->max_ns, 3000);
        CHECK_EQ_INT(t->input_total, 15);
        CHECK_EQ_INT(t->output_total, 20);
        CHECK_EQ_INT(s->window.totals.count, 2);
        CHECK_EQ_INT(s->lifetime.buckets[fl_hist_index(1000)], 1);
        CHECK(!s->is_overflow);
    }
    fl_monitor_snapshot_free(&snap);
    fl_monitor_free(m);
}

static void
test_window_forgets_old_intervals(void)
{
    fl_monitor *m = new_monitor(16);
    fl_monitor_record_named(m, "c", "op", 100, 1, 1, 1, 0);
    fl_monitor_record_named(m, "c", "op", 200, 0, 1, 1, 35 * SEC);
    fl_monitor_snapshot snap;
    fl_monitor_take_snapshot(m, 65 * SEC, &snap); /* window: epochs 0..6 */
    CHECK_EQ_INT(snap.series[0].window.totals.count, 2);
    fl_monitor_snapshot_free(&snap);
    fl_monitor_take_snapshot(m, 75 * SEC, &snap); /* window: epochs 1..7 */
    CHECK_EQ_INT(snap.series[0].window.totals.count, 1);
    CHECK_EQ_INT(snap.series[0].window.totals.min_ns, 200);
    CHECK_EQ_INT(snap.series[0].window.totals.errors, 1);
    CHECK_EQ_INT(snap.series[0].lifetime.totals.count, 2);
    fl_monitor_snapshot_free(&snap);
    /* a recording 70 s later reuses the ring slot of epoch 0 */
    fl_monitor_record_named(m, "c", "op", 300, 1, 1, 1, 70 * SEC);
    fl_monitor_take_snapshot(m, 200 * SEC, &snap);
    CHECK_EQ_INT(snap.series[0].window.totals.count, 0);
    CHECK_EQ_INT(snap.series[0].lifetime.totals.count, 3);
    fl_monitor_snapshot_free(&snap);
    fl_monitor_free(m);
}

static void
test_series_cap_uses_overflow(void)
{
    fl_monitor *m = new_monitor(4);
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "op%d", i);
        CHECK_EQ_INT(fl_monitor_record_named(m, "c", name, 10, 1, FL_MONITOR_NO_SIZE,
                                             FL_MONITOR_NO_SIZE, 0),
                     FL_MONITOR_OK);
    }
    fl_monitor_record_named(m, "c", "op0", 10, 1, FL_MONITOR_NO_SIZE, FL_MONITOR_NO_SIZE, 0);
    CHECK_EQ_INT(fl_monitor_series_count(m), 4);
    fl_monitor_snapshot snap;
    fl_monitor_take_snapshot(m, 0, &snap);
    CHECK_EQ_INT(snap.count, 5);
    CHECK(snap.series[4].is_overflow);
    CHECK_EQ_INT(snap.series[4].lifetime.totals.count, 6);
    const fl_monitor_series_snapshot *first = find(&snap, "c", "op0");
    CHECK(first != NULL && first->lifetime.totals.count == 2);
    fl_monitor_snapshot_free(&snap);
    size_t bytes = fl_monitor_memory_bytes(m);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "more%d", i);
        fl_monitor_record_named(m, "c", name, 10, 1, 0, 0, 0);
    }
    CHECK_EQ_INT(fl_monitor_memory_bytes(m), bytes);
    fl_monitor_free(m);
}

static void
test_reset_makes_keys_stale(void)
{
    fl_monitor *m = new_monitor(8);
    fl_monitor_key key;
    CHECK_EQ_INT(fl_monitor_lookup(m, "a", 1, "b", 1, &key), FL_MONITOR_OK);
    CHECK_EQ_INT(fl_monitor_record(m, key, 5, 1, 0, 0, 0), FL_MONITOR_OK);
    fl_monitor_reset(m);
    CHECK_EQ_INT(fl_monitor_record(m, key, 5, 1, 0, 0, 0), FL_MONITOR_STALE);
    CHECK_EQ_INT(fl_monitor_series_count(m), 0);
    fl_monitor_key bogus = {99, key.generation + 1};
    CHECK_EQ_INT(fl_monitor_record(m, bogus, 5, 1, 0, 0, 0), FL_MONITOR_STALE);
    fl_monitor_free(m);
}

static void
test_names_with_nul_and_sizes_saturate(void)
{
    fl_monitor *m = new_monitor(8);
    fl_monitor_key a, b;
    fl_monitor_lookup(m, "x\0y", 3, "z", 1, &a);
    fl_monitor_lookup(m, "x", 1, "\0yz", 3, &b);
    CHECK(a.index != b.index);
    fl_monitor_record(m, a, 1, 1, UINT64_MAX - 1, 0, 0);
    fl_monitor_record(m, a, 1, 1, 10, 0, 0);
    fl_monitor_snapshot snap;
    fl_monitor_take_snapshot(m, 0, &snap);
    CHECK_EQ_INT(snap.series[0].component_len, 3);
    CHECK(snap.series[0].lifetime.totals.input_total == UINT64_MAX);
    fl_monitor_snapshot_free(&snap);
    fl_monitor_free(m);
}

static void
test_walk_one_series_at_a_time(void)
{
    fl_monitor *m = new_monitor(2);
    fl_monitor_record_named(m, "a", "1", 5, 1, 0, 0, 0);
    fl_monitor_record_named(m, "a", "2", 5, 1, 0, 0, 0);
    fl_monitor_record_named(m, "a", "3", 5, 1, 0, 0, 0); /* overflow */
    static fl_monitor_series_snapshot one;
    uint64_t generation = fl_monitor_generation(m);
    CHECK_EQ_INT(fl_monitor_copy_series(m, generation, 0, 0, &one), FL_MONITOR_OK);
    CHECK(strcmp(one.operation, "1") == 0 && !one.is_overflow);
    CHECK_EQ_INT(fl_monitor_copy_series(m, generation, 2, 0, &one), FL_MONITOR_OK);
    CHECK(one.is_overflow && strcmp(one.component, "__overflow__") == 0);
    CHECK_EQ_INT(fl_monitor_copy_series(m, generation, 3, 0, &one), FL_MONITOR_END);
    fl_monitor_reset(m);
    CHECK_EQ_INT(fl_monitor_copy_series(m, generation, 0, 0, &one), FL_MONITOR_STALE);
    CHECK_EQ_INT(fl_monitor_copy_series(m, generation + 1, 0, 0, &one), FL_MONITOR_END);
    fl_monitor_free(m);
}

static void
test_long_names_are_refused(void)
{
    fl_monitor *m = new_monitor(2);
    static char name[FL_MONITOR_MAX_NAME + 2];
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    fl_monitor_key key;
    CHECK_EQ_INT(fl_monitor_lookup(m, name, FL_MONITOR_MAX_NAME + 1, "op", 2, &key),
                 FL_MONITOR_BADNAME);
    CHECK_EQ_INT(fl_monitor_lookup(m, "op", 2, name, FL_MONITOR_MAX_NAME, &key), FL_MONITOR_OK);
    CHECK_EQ_INT(fl_monitor_record_named(m, name, "op", 1, 1, 0, 0, 0), FL_MONITOR_BADNAME);
    CHECK_EQ_INT(fl_monitor_series_count(m), 1);
    fl_monitor_free(m);
}

static void
test_bad_config_is_refused(void)
{
    fl_monitor_config config;
    fl_monitor_config_default(&config);
    config.max_series = 0;
    CHECK(fl_monitor_new(&config) == NULL);
    fl_monitor_config_default(&config);
    config.interval_ns = 0;
    CHECK(fl_monitor_new(&config) == NULL);
    fl_monitor_config_default(&config);
    config.window_intervals = FL_MONITOR_MAX_INTERVALS + 1;
    CHECK(fl_monitor_new(&config) == NULL);
}

#define THREADS 4
#define PER_THREAD 50000

static void *
hammer(void *arg)
{
    fl_monitor *m = arg;
    fl_monitor_key key;
    fl_monitor_lookup(m, "t", 1, "op", 2, &key);
    for (int i = 0; i < PER_THREAD; i++)
        fl_monitor_record(m, key, (uint64_t)i, i % 10 != 0, 1, 2, (uint64_t)i * 1000);
    return NULL;
}

static void
test_threads_lose_nothing(void)
{
    fl_monitor *m = new_monitor(8);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, hammer, m);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    fl_monitor_snapshot snap;
    fl_monitor_take_snapshot(m, 0, &snap);
    CHECK_EQ_INT(snap.series[0].lifetime.totals.count, THREADS * PER_THREAD);
    CHECK_EQ_INT(snap.series[0].lifetime.totals.errors, THREADS * PER_THREAD / 10);
    CHECK_EQ_INT(snap.series[0].lifetime.totals.input_total, THREADS * PER_THREAD);
    uint64_t in_buckets = 0;
    for (size_t b = 0; b < FL_HIST_BUCKETS; b++)
        in_buckets += snap.series[0].lifetime.buckets[b];
    CHECK_EQ_INT(in_buckets, THREADS * PER_THREAD);
    fl_monitor_snapshot_free(&snap);
    fl_monitor_free(m);
}

typedef struct {
    fl_monitor *m;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int holding, release;
} holder_state;

static void *
hold_lock(void *arg)
{
    holder_state *h = arg;
    fl_monitor_test_lock(h->m);
    pthread_mutex_lock(&h->mu);
    h->holding = 1;
    pthread_cond_broadcast(&h->cv);
    while (!h->release)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    fl_monitor_test_unlock(h->m);
    return NULL;
}

static void
test_child_records_while_parent_thread_holds_lock(void)
{
    holder_state h = {new_monitor(8), PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    pthread_t thread;
    pthread_create(&thread, NULL, hold_lock, &h);
    pthread_mutex_lock(&h.mu);
    while (!h.holding)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);

    pid_t child = fork();
    if (child == 0) {
        alarm(10); /* a deadlock fails the test instead of hanging it */
        int rc = fl_monitor_record_named(h.m, "forked", "op", 10, 1, 0, 0, 0);
        fl_monitor_snapshot snap;
        fl_monitor_take_snapshot(h.m, 0, &snap);
        int ok = rc == FL_MONITOR_OK && snap.count == 1 &&
                 snap.series[0].lifetime.totals.count == 1;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(child > 0);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    pthread_mutex_lock(&h.mu);
    h.release = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(thread, NULL);
    /* the parent's lock still works normally */
    CHECK_EQ_INT(fl_monitor_record_named(h.m, "parent", "op", 1, 1, 0, 0, 0), FL_MONITOR_OK);
    fl_monitor_free(h.m);
}

/* fl_fork_generation: the same value in a process until it forks; a child
 * (forked after a first call) reads a larger one, its own child larger still;
 * the parent's is unchanged (the routing cooldown read's stand-in for getpid()). */
static void
test_fork_generation_differs_in_a_child(void)
{
    uint64_t mine = fl_fork_generation();
    CHECK(fl_fork_generation() == mine);
    pid_t child = fork();
    if (child == 0) {
        uint64_t in_child = fl_fork_generation();
        int ok = in_child > mine;
        pid_t grandchild = fork();
        if (grandchild == 0)
            _exit(fl_fork_generation() > in_child ? 0 : 1);
        int status = 0;
        ok = ok && waitpid(grandchild, &status, 0) == grandchild && WIFEXITED(status) &&
             WEXITSTATUS(status) == 0;
        _exit(ok && fl_fork_generation() == in_child ? 0 : 1);
    }
    int status = 0;
    CHECK(child > 0);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(fl_fork_generation() == mine);
}

int
main(void)
{
    static const check_case cases[] = {
        CASE(test_small_values_are_exact),
        CASE(test_buckets_cover_values_within_error),
        CASE(test_every_bucket_boundary_round_trips),
        CASE(test_quantiles_of_uniform_values),
        CASE(test_record_totals),
        CASE(test_window_forgets_old_intervals),
        CASE(test_series_cap_uses_overflow),
        CASE(test_reset_makes_keys_stale),
        CASE(test_names_with_nul_and_sizes_saturate),
        CASE(test_walk_one_series_at_a_time),
        CASE(test_long_names_are_refused),
        CASE(test_bad_config_is_refused),
        CASE(test_threads_lose_nothing),
        CASE(test_child_records_while_parent_thread_holds_lock),
        CASE(test_fork_generation_differs_in_a_child),
    };
    RUN_TESTS(cases);
}
