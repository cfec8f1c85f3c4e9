/*
 * monitor.h - the performance monitor's C core: per (component, operation)
 * series of call counts, errors, sizes and latency histograms, over the
 * process lifetime and over a recent window.
 *
 * Callers resolve a (component, operation) pair to a key once
 * (fl_monitor_lookup) and record samples against the key
 * (fl_monitor_record).  Memory is bounded: at most max_series series, plus
 * one overflow series that takes every pair seen after the table is full.
 * fl_monitor_reset forgets every series and bumps a generation, so stale
 * keys are refused (FL_MONITOR_STALE) instead of writing into freed memory.
 *
 * Thread-safe: every function takes the monitor's own lock, a spinlock
 * that a forked child may take over if its holder was a thread of the
 * parent (see monitor.c).  No Python.h here.
 */
#ifndef FL_MONITOR_H
#define FL_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/histogram.h"

#define FL_MONITOR_MAX_NAME 1024       /* bytes of a component or operation name */
#define FL_MONITOR_MAX_SERIES 4096
#define FL_MONITOR_MAX_INTERVALS 600   /* window / interval */
#define FL_MONITOR_NO_SIZE UINT64_MAX  /* "input/output size not given" */

enum {
    FL_MONITOR_OK = 0,
    FL_MONITOR_STALE = 1,    /* the key or walk predates a reset */
    FL_MONITOR_END = 2,      /* no series with that number */
    FL_MONITOR_NOMEM = -1,
    FL_MONITOR_BADNAME = -2, /* a name longer than FL_MONITOR_MAX_NAME bytes */
};

typedef struct fl_monitor fl_monitor;

typedef struct {
    uint32_t max_series;       /* distinct pairs before the overflow series */
    uint32_t window_intervals; /* whole intervals kept before the current one */
    uint64_t interval_ns;      /* length of one interval of the window ring */
} fl_monitor_config;

typedef struct {
    int32_t index;
    uint64_t generation;
} fl_monitor_key;

/* Totals of a set of samples. */
typedef struct {
    uint64_t count, errors, sum_ns, min_ns, max_ns, input_total, output_total;
} fl_monitor_counters;

typedef struct {
    fl_monitor_counters totals;
    uint64_t buckets[FL_HIST_BUCKETS];
} fl_monitor_summary;

typedef struct {
    char component[FL_MONITOR_MAX_NAME + 1]; /* NUL-terminated copies; */
    size_t component_len;                    /* lengths exclude the NUL */
    char operation[FL_MONITOR_MAX_NAME + 1];
    size_t operation_len;
    int is_overflow;
    fl_monitor_summary lifetime;
    fl_monitor_summary window; /* the current interval and the previous window_intervals */
} fl_monitor_series_snapshot;

typedef struct {
    size_t count;
    fl_monitor_series_snapshot *series;
} fl_monitor_snapshot;

/* NULL when the configuration is out of range or memory is short. */
/* The process's fork generation: 0 in the first process, bumped in a child by a
 * pthread_atfork handler (installed by the first call, or fl_monitor_new), so
 * it differs in every process forked through libc since a value was read there
 * (descendants only count up).  A syscall-free stand-in for comparing getpid(). */
uint64_t fl_fork_generation(void);

fl_monitor *fl_monitor_new(const fl_monitor_config *config);
void fl_monitor_free(fl_monitor *m);
void fl_monitor_config_default(fl_monitor_config *config);

/* Resolve a pair to a key (creating its series); FL_MONITOR_OK, NOMEM or BADNAME. */
int fl_monitor_lookup(fl_monitor *m, const char *component, size_t component_len,
                      const char *operation, size_t operation_len, fl_monitor_key *key);

/*
 * Record one sample.  input/output are FL_MONITOR_NO_SIZE when not given.
 * now_ns is a monotonic clock reading (it picks the window interval).
 * Returns FL_MONITOR_OK, or FL_MONITOR_STALE when the key predates a reset.
 */
int fl_monitor_record(fl_monitor *m, fl_monitor_key key, uint64_t duration_ns, int success,
                      uint64_t input, uint64_t output, uint64_t now_ns);

/* Lookup + record, for callers without a key cache (NUL-terminated names). */
int fl_monitor_record_named(fl_monitor *m, const char *component, const char *operation,
                            uint64_t duration_ns, int success, uint64_t input,
                            uint64_t output, uint64_t now_ns);

/*
 * Reading, one series at a time (the lock is held for one copy only):
 * series are numbered from 0 in creation order, the overflow series (when
 * used) last.  fl_monitor_copy_series copies series number `index` of
 * reset generation `generation` (from fl_monitor_generation) and returns
 * FL_MONITOR_OK, FL_MONITOR_END past the last series, or FL_MONITOR_STALE
 * when a reset happened since the walk began.
 */
uint64_t fl_monitor_generation(fl_monitor *m);
int fl_monitor_copy_series(fl_monitor *m, uint64_t generation, size_t index, uint64_t now_ns,
                           fl_monitor_series_snapshot *out);

/* Copy every series (a walk that restarts after a reset); OK or NOMEM. */
int fl_monitor_take_snapshot(fl_monitor *m, uint64_t now_ns, fl_monitor_snapshot *out);
void fl_monitor_snapshot_free(fl_monitor_snapshot *snap);

/* Forget every series; existing keys become stale. */
void fl_monitor_reset(fl_monitor *m);

/* Number of series in use, not counting the overflow series. */
size_t fl_monitor_series_count(fl_monitor *m);

/* Bytes allocated by the monitor (series, rings, table). */
size_t fl_monitor_memory_bytes(fl_monitor *m);

/* Testing only: take / release the monitor's lock from outside. */
void fl_monitor_test_lock(fl_monitor *m);
void fl_monitor_test_unlock(fl_monitor *m);

#endif /* FL_MONITOR_H */
