/*
 * monitor.c - how the performance monitor's core works.
 *
 * Series.  A series is one (component, operation) pair.  It holds the
 * lifetime totals and histogram (64-bit counts) and a ring of
 * window_intervals + 1 intervals (64-bit counts too: an interval may be
 * up to a day long, and 2^32 samples in one bucket of one day is ~50 k a
 * second, which a busy proxy can reach), each tagged with the
 * interval number (epoch = now_ns / interval_ns) it belongs to.  Recording
 * into an interval whose tag is old clears it first, so the ring always
 * holds the most recent intervals; the window view merges the intervals
 * whose epoch is within window_intervals of the current one.
 *
 * Table.  Series are found by an open-addressing hash table (linear
 * probing, FNV-1a over "component\0operation") sized to twice the series
 * cap, so lookups stay short and the table never grows.  When max_series
 * pairs exist, any new pair is recorded in one shared overflow series.
 * Callers are expected to cache keys; lookups happen once per pair.
 *
 * Reading.  Readers copy one series at a time (fl_monitor_copy_series), so
 * the lock is never held for more than one series' copy and no snapshot
 * needs memory proportional to the number of series.  A reset during a
 * walk is seen through the generation number, and the walk starts again.
 *
 * Lock.  One spinlock per monitor guards everything; critical sections are
 * a few dozen nanoseconds (record) or one series' copy (a few
 * microseconds).  The lock word stores the "fork generation" of its holder.
 * A pthread_atfork child handler bumps the process-wide fork generation,
 * so a child that finds the lock held by a generation older than its own
 * knows the holder was a thread of the parent that does not exist here,
 * and takes the lock over with a compare-and-swap.  The fork generation
 * is the one process-global in the core: fork is a process event, not a
 * property of any one monitor.  Counters a parent thread was updating at
 * fork time may be off by one sample in the child; the structure stays
 * consistent because a new series is published (series_count) last.
 */
#include "monitor/monitor.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OVERFLOW_NAME "__overflow__"

typedef struct {
    uint64_t epoch;
    fl_monitor_counters totals;
    uint64_t buckets[FL_HIST_BUCKETS]; /* 64-bit: an interval may be a day long */
} interval;

typedef struct {
    uint64_t hash;
    char *component; /* one allocation: component\0operation\0 */
    size_t component_len;
    char *operation;
    size_t operation_len;
    fl_monitor_summary lifetime;
    interval ring[]; /* window_intervals + 1 */
} series;

struct fl_monitor {
    _Atomic uint64_t lock;
    fl_monitor_config config;
    uint32_t ring_len;
    uint64_t generation;
    size_t series_count;   /* published series, excluding overflow */
    series **series;       /* max_series + 1; the last is the overflow series */
    int32_t *table;        /* series index + 1, 0 = empty */
    size_t table_mask;
    size_t bytes;
};

/* ---- fork-aware spinlock ---------------------------------------------- */

static _Atomic uint64_t fork_generation;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void
on_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void
install_fork_hook(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

uint64_t
fl_fork_generation(void)
{
    /* the hook first: a fork after this call is seen by the value it returns */
    pthread_once(&fork_hook_once, install_fork_hook);
    return atomic_load_explicit(&fork_generation, memory_order_acquire);
}

static void
monitor_lock(fl_monitor *m)
{
    uint64_t generation = atomic_load_explicit(&fork_generation, memory_order_acquire);
    uint64_t mine = (generation << 1) | 1u;
    for (unsigned spins = 0;; spins++) {
        uint64_t seen = 0;
        if (atomic_compare_exchange_weak_explicit(&m->lock, &seen, mine, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        if (seen != 0 && (seen >> 1) != generation) {
            /* held by a thread of the parent process: take it over */
            if (atomic_compare_exchange_strong_explicit(&m->lock, &seen, mine,
                                                        memory_order_acquire,
                                                        memory_order_relaxed))
                return;
            continue;
        }
        if (spins >= 64)
            sched_yield();
    }
}

static void
monitor_unlock(fl_monitor *m)
{
    atomic_store_explicit(&m->lock, 0, memory_order_release);
}

void
fl_monitor_test_lock(fl_monitor *m)
{
    monitor_lock(m);
}

void
fl_monitor_test_unlock(fl_monitor *m)
{
    monitor_unlock(m);
}

/* ---- counters and histograms ------------------------------------------ */

static uint64_t
saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
counters_add_sample(fl_monitor_counters *c, uint64_t ns, int success, uint64_t input,
                    uint64_t output)
{
    if (c->count == 0 || ns < c->min_ns)
        c->min_ns = ns;
    if (ns > c->max_ns)
        c->max_ns = ns;
    c->count++;
    c->errors += success ? 0 : 1;
    c->sum_ns = saturating_add(c->sum_ns, ns);
    if (input != FL_MONITOR_NO_SIZE)
        c->input_total = saturating_add(c->input_total, input);
    if (output != FL_MONITOR_NO_SIZE)
        c->output_total = saturating_add(c->output_total, output);
}

static void
counters_merge(fl_monitor_counters *into, const fl_monitor_counters *from)
{
    if (from->count == 0)
        return;
    if (into->count == 0 || from->min_ns < into->min_ns)
        into->min_ns = from->min_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
    into->count += from->count;
    into->errors += from->errors;
    into->sum_ns = saturating_add(into->sum_ns, from->sum_ns);
    into->input_total = saturating_add(into->input_total, from->input_total);
    into->output_total = saturating_add(into->output_total, from->output_total);
}

static interval *
current_interval(fl_monitor *m, series *s, uint64_t now_ns)
{
    uint64_t epoch = now_ns / m->config.interval_ns;
    interval *iv = &s->ring[epoch % m->ring_len];
    if (iv->epoch != epoch) {
        memset(iv, 0, sizeof(*iv));
        iv->epoch = epoch;
    }
    return iv;
}

/* ---- series and table ------------------------------------------------- */

static uint64_t
pair_hash(const char *component, size_t component_len, const char *operation,
          size_t operation_len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < component_len; i++)
        h = (h ^ (unsigned char)component[i]) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull; /* separator no UTF-8 byte equals */
    for (size_t i = 0; i < operation_len; i++)
        h = (h ^ (unsigned char)operation[i]) * 1099511628211ull;
    return h;
}

static size_t
series_bytes(const fl_monitor *m)
{
    return sizeof(series) + (size_t)m->ring_len * sizeof(interval);
}

static series *
series_new(fl_monitor *m, uint64_t hash, const char *component, size_t component_len,
           const char *operation, size_t operation_len)
{
    series *s = calloc(1, series_bytes(m));
    char *names = malloc(component_len + operation_len + 2);
    if (s == NULL || names == NULL) {
        free(s);
        free(names);
        return NULL;
    }
    memcpy(names, component, component_len);
    names[component_len] = '\0';
    memcpy(names + component_len + 1, operation, operation_len);
    names[component_len + 1 + operation_len] = '\0';
    s->hash = hash;
    s->component = names;
    s->component_len = component_len;
    s->operation = names + component_len + 1;
    s->operation_len = operation_len;
    for (uint32_t i = 0; i < m->ring_len; i++)
        s->ring[i].epoch = UINT64_MAX; /* never current */
    m->bytes += series_bytes(m) + component_len + operation_len + 2;
    return s;
}

static void
series_free(series *s)
{
    if (s != NULL) {
        free(s->component);
        free(s);
    }
}

static int
series_is(const series *s, uint64_t hash, const char *component, size_t component_len,
          const char *operation, size_t operation_len)
{
    return s->hash == hash && s->component_len == component_len &&
           s->operation_len == operation_len &&
           memcmp(s->component, component, component_len) == 0 &&
           memcmp(s->operation, operation, operation_len) == 0;
}

/* Index of the pair's series, creating it (or the overflow series); -1 on OOM. */
static int32_t
find_or_add_series(fl_monitor *m, const char *component, size_t component_len,
                   const char *operation, size_t operation_len)
{
    uint64_t hash = pair_hash(component, component_len, operation, operation_len);
    size_t slot = (size_t)hash & m->table_mask;
    for (;; slot = (slot + 1) & m->table_mask) {
        int32_t entry = m->table[slot];
        if (entry == 0 || (size_t)(entry - 1) >= m->series_count)
            break; /* empty (or an insertion cut short by fork) */
        series *s = m->series[entry - 1];
        if (series_is(s, hash, component, component_len, operation, operation_len))
            return entry - 1;
    }
    uint32_t overflow = m->config.max_series;
    if (m->series_count == m->config.max_series) {
        if (m->series[overflow] == NULL) {
            m->series[overflow] = series_new(m, 0, OVERFLOW_NAME, strlen(OVERFLOW_NAME),
                                             OVERFLOW_NAME, strlen(OVERFLOW_NAME));
            if (m->series[overflow] == NULL)
                return -1;
        }
        return (int32_t)overflow;
    }
    size_t index = m->series_count;
    series_free(m->series[index]); /* only non-NULL after a fork-interrupted insert */
    m->series[index] = series_new(m, hash, component, component_len, operation, operation_len);
    if (m->series[index] == NULL)
        return -1;
    m->table[slot] = (int32_t)index + 1;
    m->series_count = index + 1; /* publish last */
    return (int32_t)index;
}

/* ---- public API ------------------------------------------------------- */

void
fl_monitor_config_default(fl_monitor_config *config)
{
    config->max_series = 128;
    config->window_intervals = 6;
    config->interval_ns = 10ull * 1000 * 1000 * 1000;
}

fl_monitor *
fl_monitor_new(const fl_monitor_config *config)
{
    if (config->max_series < 1 || config->max_series > FL_MONITOR_MAX_SERIES ||
        config->window_intervals > FL_MONITOR_MAX_INTERVALS || config->interval_ns == 0)
        return NULL;
    pthread_once(&fork_hook_once, install_fork_hook);
    fl_monitor *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->config = *config;
    m->ring_len = config->window_intervals + 1;
    size_t table_size = 4;
    while (table_size < 2 * (size_t)config->max_series)
        table_size <<= 1;
    m->table_mask = table_size - 1;
    m->series = calloc((size_t)config->max_series + 1, sizeof(series *));
    m->table = calloc(table_size, sizeof(int32_t));
    if (m->series == NULL || m->table == NULL) {
        fl_monitor_free(m);
        return NULL;
    }
    m->bytes = sizeof(*m) + ((size_t)config->max_series + 1) * sizeof(series *) +
               table_size * sizeof(int32_t);
    atomic_init(&m->lock, 0);
    return m;
}

static void
drop_all_series(fl_monitor *m)
{
    for (size_t i = 0; i <= m->config.max_series; i++) {
        series_free(m->series[i]);
        m->series[i] = NULL;
    }
    memset(m->table, 0, (m->table_mask + 1) * sizeof(int32_t));
    m->series_count = 0;
    m->bytes = sizeof(*m) + ((size_t)m->config.max_series + 1) * sizeof(series *) +
               (m->table_mask + 1) * sizeof(int32_t);
}

void
fl_monitor_free(fl_monitor *m)
{
    if (m == NULL)
        return;
    if (m->series != NULL && m->table != NULL)
        drop_all_series(m);
    free(m->series);
    free(m->table);
    free(m);
}

int
fl_monitor_lookup(fl_monitor *m, const char *component, size_t component_len,
                  const char *operation, size_t operation_len, fl_monitor_key *key)
{
    if (component_len > FL_MONITOR_MAX_NAME || operation_len > FL_MONITOR_MAX_NAME)
        return FL_MONITOR_BADNAME;
    monitor_lock(m);
    int32_t index = find_or_add_series(m, component, component_len, operation, operation_len);
    key->index = index;
    key->generation = m->generation;
    monitor_unlock(m);
    return index < 0 ? FL_MONITOR_NOMEM : FL_MONITOR_OK;
}

int
fl_monitor_record(fl_monitor *m, fl_monitor_key key, uint64_t duration_ns, int success,
                  uint64_t input, uint64_t output, uint64_t now_ns)
{
    size_t bucket = fl_hist_index(duration_ns);
    monitor_lock(m);
    if (key.generation != m->generation || key.index < 0 ||
        (uint32_t)key.index > m->config.max_series || m->series[key.index] == NULL) {
        monitor_unlock(m);
        return FL_MONITOR_STALE;
    }
    series *s = m->series[key.index];
    counters_add_sample(&s->lifetime.totals, duration_ns, success, input, output);
    s->lifetime.buckets[bucket]++;
    interval *iv = current_interval(m, s, now_ns);
    counters_add_sample(&iv->totals, duration_ns, success, input, output);
    iv->buckets[bucket]++;
    monitor_unlock(m);
    return FL_MONITOR_OK;
}

int
fl_monitor_record_named(fl_monitor *m, const char *component, const char *operation,
                        uint64_t duration_ns, int success, uint64_t input, uint64_t output,
                        uint64_t now_ns)
{
    for (;;) {
        fl_monitor_key key;
        int found = fl_monitor_lookup(m, component, strlen(component), operation,
                                      strlen(operation), &key);
        if (found != FL_MONITOR_OK)
            return found;
        int rc = fl_monitor_record(m, key, duration_ns, success, input, output, now_ns);
        if (rc != FL_MONITOR_STALE)
            return rc;
    }
}

static void
merge_window(const fl_monitor *m, const series *s, uint64_t now_ns, fl_monitor_summary *out)
{
    uint64_t current = now_ns / m->config.interval_ns;
    uint64_t oldest = current >= m->config.window_intervals ? current - m->config.window_intervals
                                                            : 0;
    for (uint32_t i = 0; i < m->ring_len; i++) {
        const interval *iv = &s->ring[i];
        if (iv->epoch == UINT64_MAX || iv->epoch < oldest || iv->epoch > current)
            continue;
        counters_merge(&out->totals, &iv->totals);
        for (size_t b = 0; b < FL_HIST_BUCKETS; b++)
            out->buckets[b] += iv->buckets[b];
    }
}

static void
copy_series(const fl_monitor *m, const series *s, int is_overflow, uint64_t now_ns,
            fl_monitor_series_snapshot *out)
{
    memcpy(out->component, s->component, s->component_len + 1);
    out->component_len = s->component_len;
    memcpy(out->operation, s->operation, s->operation_len + 1);
    out->operation_len = s->operation_len;
    out->is_overflow = is_overflow;
    out->lifetime = s->lifetime;
    memset(&out->window, 0, sizeof(out->window));
    merge_window(m, s, now_ns, &out->window);
}

uint64_t
fl_monitor_generation(fl_monitor *m)
{
    monitor_lock(m);
    uint64_t generation = m->generation;
    monitor_unlock(m);
    return generation;
}

int
fl_monitor_copy_series(fl_monitor *m, uint64_t generation, size_t index, uint64_t now_ns,
                       fl_monitor_series_snapshot *out)
{
    int rc = FL_MONITOR_OK;
    monitor_lock(m);
    if (generation != m->generation) {
        rc = FL_MONITOR_STALE;
    } else if (index < m->series_count) {
        copy_series(m, m->series[index], 0, now_ns, out);
    } else if (index == m->series_count && m->series[m->config.max_series] != NULL) {
        copy_series(m, m->series[m->config.max_series], 1, now_ns, out);
    } else {
        rc = FL_MONITOR_END;
    }
    monitor_unlock(m);
    return rc;
}

int
fl_monitor_take_snapshot(fl_monitor *m, uint64_t now_ns, fl_monitor_snapshot *out)
{
    out->count = 0;
    out->series = NULL;
    size_t capacity = 0;
    uint64_t generation = fl_monitor_generation(m);
    for (;;) {
        if (out->count == capacity) {
            size_t grown = capacity ? 2 * capacity : 8;
            fl_monitor_series_snapshot *bigger = realloc(out->series, grown * sizeof(*bigger));
            if (bigger == NULL) {
                fl_monitor_snapshot_free(out);
                return FL_MONITOR_NOMEM;
            }
            out->series = bigger;
            capacity = grown;
        }
        int rc = fl_monitor_copy_series(m, generation, out->count, now_ns,
                                        &out->series[out->count]);
        if (rc == FL_MONITOR_END)
            return FL_MONITOR_OK;
        if (rc == FL_MONITOR_STALE) { /* reset during the walk: start again */
            out->count = 0;
            generation = fl_monitor_generation(m);
            continue;
        }
        out->count++;
    }
}

void
fl_monitor_snapshot_free(fl_monitor_snapshot *snap)
{
    free(snap->series);
    snap->series = NULL;
    snap->count = 0;
}

void
fl_monitor_reset(fl_monitor *m)
{
    monitor_lock(m);
    drop_all_series(m);
    m->generation++;
    monitor_unlock(m);
}

size_t
fl_monitor_series_count(fl_monitor *m)
{
    monitor_lock(m);
    size_t n = m->series_count;
    monitor_unlock(m);
    return n;
}

size_t
fl_monitor_memory_bytes(fl_monitor *m)
{
    monitor_lock(m);
    size_t n = m->bytes;
    monitor_unlock(m);
    return n;
}
