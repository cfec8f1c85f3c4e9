/*
 * ratelimit.c - token buckets in one open-addressing table.
 *
 * Exact arithmetic.  A token is FL_RL_UNITS_PER_TOKEN (= ns per minute)
 * units, so a bucket refilling `rate` tokens per minute gains exactly `rate`
 * units per elapsed nanosecond: refill, consumption and retry-after are
 * integer operations with no rounding anywhere.
 *
 * Compact entries.  A bucket is 32 bytes: the key's identity as two 64-bit
 * hashes (SipHash keyed with a per-limiter random secret, which also picks
 * the slot, and SipHash with a fixed public key, which is the stable
 * fingerprint shown in stats), its units and the time of its last update.
 * The key itself is not stored.  Linear probing; an id of 0 marks an empty
 * slot (real ids have their low bit set).
 *
 * Absent == full.  A key with no entry behaves exactly like a full bucket,
 * so full buckets can be dropped at any time without changing any answer.
 * When the table reaches 3/4 load it is rebuilt: buckets that are full at
 * `now` are reclaimed and the survivors are rehashed into a table sized for
 * a load of at most 1/2 (it grows, stays or shrinks).  Memory is therefore
 * 32 bytes / load, 43..85 bytes per live key.
 *
 * Concurrency.  One mutex per limiter guards everything.  A rebuild fills a
 * new table before swapping it in, so a child forked while another thread
 * was inside the limiter sees a consistent table (at worst one bucket's
 * update half-applied); fl_rl_after_fork_child re-initialises the mutex.
 */
#include "ratelimit/ratelimit.h"
#include "ratelimit/rl_siphash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAPACITY 16
#define MAX_RATE ((int64_t)1 << 62)

/* Fixed, public key of the fingerprint ("fastllm-key-fp-1"). */
#define FP_K0 0x6d6c6c7473616621ULL
#define FP_K1 0x312d70662d79656bULL

typedef struct {
    uint64_t id;    /* keyed hash | 1; 0 = empty slot */
    uint64_t fp;    /* stable fingerprint */
    int64_t units;  /* tokens * FL_RL_UNITS_PER_TOKEN, 0..cap */
    int64_t last;   /* ns of the last update */
} bucket;

struct fl_rl {
    pthread_mutex_t lock;
    int64_t rate;  /* units gained per ns == tokens per minute */
    int64_t cap;   /* burst * FL_RL_UNITS_PER_TOKEN */
    uint64_t k0, k1;
    bucket *table;
    size_t mask;   /* capacity - 1 (capacity is a power of two) */
    size_t count;
    uint64_t checks, allowed, denied;
};

uint64_t
fl_rl_fingerprint(const char *key, size_t len)
{
    return fl_rl_siphash13(FP_K0, FP_K1, key, len);
}

static uint64_t
load_seed(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

fl_rl *
fl_rl_create(int64_t rate_per_minute, int64_t burst, const uint8_t seed[16])
{
    if (rate_per_minute < 1 || rate_per_minute > MAX_RATE || burst < 1 || burst > FL_RL_MAX_BURST)
        return NULL;
    fl_rl *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->table = calloc(MIN_CAPACITY, sizeof(bucket));
    if (rl->table == NULL) {
        free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->rate = rate_per_minute;
    rl->cap = burst * FL_RL_UNITS_PER_TOKEN;
    rl->k0 = load_seed(seed);
    rl->k1 = load_seed(seed + 8);
    rl->mask = MIN_CAPACITY - 1;
    return rl;
}

void
fl_rl_destroy(fl_rl *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->table);
    free(rl);
}

void
fl_rl_after_fork_child(fl_rl *rl)
{
    pthread_mutex_init(&rl->lock, NULL);
}

void
fl_rl_hold_lock(fl_rl *rl)
{
    pthread_mutex_lock(&rl->lock);
}

void
fl_rl_release_lock(fl_rl *rl)
{
    pthread_mutex_unlock(&rl->lock);
}

/* Units of a bucket at `now` (never moves time backwards). */
static int64_t
refilled_units(const fl_rl *rl, const bucket *b, int64_t now)
{
    if (now <= b->last || b->units >= rl->cap)
        return b->units;
    uint64_t elapsed = (uint64_t)now - (uint64_t)b->last;
    uint64_t deficit = (uint64_t)(rl->cap - b->units);
    uint64_t rate = (uint64_t)rl->rate;
    if (elapsed >= (deficit + rate - 1) / rate)
        return rl->cap;
    return b->units + (int64_t)(elapsed * rate); /* < deficit: no overflow */
}

static void
refill(const fl_rl *rl, bucket *b, int64_t now)
{
    b->units = refilled_units(rl, b, now);
    if (now > b->last)
        b->last = now;
}

/* The slot holding (id, fp), or the empty slot where it would go. */
static bucket *
probe(bucket *table, size_t mask, uint64_t id, uint64_t fp)
{
    size_t i = (size_t)(id >> 1) & mask;
    for (;;) {
        bucket *b = &table[i];
        if (b->id == 0 || (b->id == id && b->fp == fp))
            return b;
        i = (i + 1) & mask;
    }
}

static size_t
capacity_for(size_t live)
{
    size_t cap = MIN_CAPACITY;
    while (cap < live * 2)
        cap *= 2;
    return cap;
}

/* Rehash the buckets that are not full at `now` into a fresh table.
 * Returns the number reclaimed, or -1 when out of memory (table unchanged). */
static long
rebuild(fl_rl *rl, int64_t now)
{
    size_t old_cap = rl->mask + 1, live = 0;
    for (size_t i = 0; i < old_cap; i++) {
        bucket *b = &rl->table[i];
        if (b->id != 0 && refilled_units(rl, b, now) < rl->cap)
            live++;
    }
    size_t cap = capacity_for(live);
    bucket *table = calloc(cap, sizeof(bucket));
    if (table == NULL)
        return -1;
    for (size_t i = 0; i < old_cap; i++) {
        bucket *b = &rl->table[i];
        if (b->id != 0 && refilled_units(rl, b, now) < rl->cap)
            *probe(table, cap - 1, b->id, b->fp) = *b;
    }
    bucket *old = rl->table;
    long reclaimed = (long)(rl->count - live);
    rl->table = table; /* swap only once complete (fork safety) */
    rl->mask = cap - 1;
    rl->count = live;
    free(old);
    return reclaimed;
}

static void
key_hashes(const fl_rl *rl, const char *key, size_t len, uint64_t *id, uint64_t *fp)
{
    *id = fl_rl_siphash13(rl->k0, rl->k1, key, len) | 1;
    *fp = fl_rl_siphash13(FP_K0, FP_K1, key, len);
}

static int64_t
retry_after(const fl_rl *rl, const bucket *b, int64_t need, int64_t now)
{
    uint64_t missing = (uint64_t)(need - b->units);
    int64_t wait = (int64_t)((missing + (uint64_t)rl->rate - 1) / (uint64_t)rl->rate);
    if (b->last > now) /* the clock went back: count from the last update */
        wait += b->last - now;
    return wait;
}

int
fl_rl_check(fl_rl *rl, const char *key, size_t len, int64_t cost, int64_t now_ns,
            fl_rl_result *out)
{
    uint64_t id, fp;
    if (cost < 0)
        return -2;
    key_hashes(rl, key, len, &id, &fp);
    pthread_mutex_lock(&rl->lock);
    rl->checks++;
    bucket *slot = probe(rl->table, rl->mask, id, fp);
    bucket b = slot->id ? *slot : (bucket){id, fp, rl->cap, now_ns};
    refill(rl, &b, now_ns);
    if (cost > rl->cap / FL_RL_UNITS_PER_TOKEN) {
        out->verdict = FL_RL_COST_OVER_BURST;
        out->retry_after_ns = -1;
        rl->denied++;
    } else if (b.units >= cost * FL_RL_UNITS_PER_TOKEN) {
        b.units -= cost * FL_RL_UNITS_PER_TOKEN;
        out->verdict = FL_RL_ALLOWED;
        out->retry_after_ns = 0;
        rl->allowed++;
    } else {
        out->verdict = FL_RL_DENIED;
        out->retry_after_ns = retry_after(rl, &b, cost * FL_RL_UNITS_PER_TOKEN, now_ns);
        rl->denied++;
    }
    out->remaining = b.units / FL_RL_UNITS_PER_TOKEN;
    if (slot->id) {
        *slot = b;
    } else if (b.units < rl->cap) { /* a new, no longer full bucket */
        if ((rl->count + 1) * 4 > (rl->mask + 1) * 3) {
            if (rebuild(rl, now_ns) < 0 && rl->count + 1 > rl->mask) {
                rl->checks--;
                if (out->verdict == FL_RL_ALLOWED)
                    rl->allowed--;
                pthread_mutex_unlock(&rl->lock);
                return -1;
            }
            slot = probe(rl->table, rl->mask, id, fp);
        }
        *slot = b;
        rl->count++;
    }
    pthread_mutex_unlock(&rl->lock);
    return 0;
}

int64_t
fl_rl_remaining(fl_rl *rl, const char *key, size_t len, int64_t now_ns)
{
    uint64_t id, fp;
    key_hashes(rl, key, len, &id, &fp);
    pthread_mutex_lock(&rl->lock);
    bucket *slot = probe(rl->table, rl->mask, id, fp);
    int64_t units = slot->id ? refilled_units(rl, slot, now_ns) : rl->cap;
    pthread_mutex_unlock(&rl->lock);
    return units / FL_RL_UNITS_PER_TOKEN;
}

long
fl_rl_sweep(fl_rl *rl, int64_t now_ns)
{
    pthread_mutex_lock(&rl->lock);
    long reclaimed = rebuild(rl, now_ns);
    pthread_mutex_unlock(&rl->lock);
    return reclaimed;
}

fl_rl_key_state *
fl_rl_export(fl_rl *rl, int64_t now_ns, size_t *n)
{
    pthread_mutex_lock(&rl->lock);
    size_t cap = rl->mask + 1, k = 0;
    fl_rl_key_state *out = NULL;
    if (rl->count > 0) {
        out = malloc(rl->count * sizeof(*out));
        if (out == NULL) {
            pthread_mutex_unlock(&rl->lock);
            *n = (size_t)-1;
            return NULL;
        }
    }
    for (size_t i = 0; i < cap && out != NULL; i++) {
        const bucket *b = &rl->table[i];
        if (b->id == 0)
            continue;
        int64_t units = refilled_units(rl, b, now_ns);
        if (units < rl->cap)
            out[k++] = (fl_rl_key_state){b->fp, units / FL_RL_UNITS_PER_TOKEN};
    }
    pthread_mutex_unlock(&rl->lock);
    if (k == 0) {
        free(out);
        out = NULL;
    }
    *n = k;
    return out;
}

void
fl_rl_get_counters(fl_rl *rl, fl_rl_counters *out)
{
    pthread_mutex_lock(&rl->lock);
    out->checks = rl->checks;
    out->allowed = rl->allowed;
    out->denied = rl->denied;
    out->entries = rl->count;
    out->capacity = rl->mask + 1;
    out->bytes = (rl->mask + 1) * sizeof(bucket);
    pthread_mutex_unlock(&rl->lock);
}
