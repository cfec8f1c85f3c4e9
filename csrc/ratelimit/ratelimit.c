/*
 * ratelimit.c - token buckets in a compact two-level hash table.
 *
 * Exact arithmetic.  A token is FL_RL_UNITS_PER_TOKEN (= ns per minute)
 * units, so a bucket refilling `rate` tokens per minute gains exactly `rate`
 * units per elapsed nanosecond: refill, consumption and retry-after are
 * integer operations with no rounding anywhere.
 *
 * Compact entries.  A bucket is 32 bytes: the key's identity, a 64-bit
 * SipHash keyed with a per-limiter random secret (it also picks the slot, so
 * crafted keys cannot collide or cluster), the stable fingerprint shown in
 * stats (SipHash with a fixed public key, computed only when a bucket is
 * created), its units and the time of its last update.  The key itself is
 * not stored.  Two distinct keys share a bucket only if their secret-keyed
 * 64-bit hashes are equal: probability 2^-64 per pair (about 3e-8 for a
 * million live keys), and nobody can aim for it without the secret.  A
 * check hashes the key once.
 *
 * Two levels, as CPython's dict: buckets are appended to a dense array in
 * creation order; an open-addressing index (linear probing, at most half
 * full) of 8-byte slots maps the id to the bucket: the high 32 bits of the
 * id as a tag, the bucket's position + 1 in the low 32 bits (0 = empty).
 * The tag lets a probe skip other keys' slots without touching their
 * buckets, so a new key touches only the small index and the end of the
 * dense array (cache- and TLB-friendly), an existing one two cache lines.
 * Index and buckets are one allocation: capacity C index slots and C/2
 * buckets, 24 bytes per index slot; bucket pages never written are never
 * resident.  Resident memory: 16 bytes of index / load plus 32 bytes per
 * bucket, 48..64 bytes per live key.
 *
 * Absent == full.  A key with no bucket behaves exactly like a full bucket,
 * so full buckets can be dropped at any time without changing any answer.
 * When the bucket array is full the table is rebuilt: buckets that are full
 * at `now` are reclaimed and the survivors are copied (in order) into a new
 * table sized for them with room to grow (it grows, stays or shrinks).
 *
 * Concurrency.  One mutex per limiter guards everything.  A rebuild fills a
 * new table before swapping the one pointer to it, so a child forked while
 * another thread was inside the limiter sees a consistent table (at worst
 * one bucket's update half-applied); fl_rl_after_fork_child re-initialises
 * the mutex.
 */
#include "ratelimit/ratelimit.h"
#include "ratelimit/rl_siphash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAPACITY 16 /* index slots; buckets: half */
#define MAX_RATE ((int64_t)1 << 62)
#define MAX_CAPACITY ((size_t)1 << 33) /* bucket positions fit in 32 bits */

/* Fixed, public key of the fingerprint ("fastllm-key-fp-1"). */
#define FP_K0 0x6d6c6c7473616621ULL
#define FP_K1 0x312d70662d79656bULL

typedef struct {
    uint64_t id;    /* keyed hash | 1 */
    uint64_t fp;    /* stable fingerprint */
    int64_t units;  /* tokens * FL_RL_UNITS_PER_TOKEN, 0..cap */
    int64_t last;   /* ns of the last update */
} bucket;

typedef struct {
    size_t mask;      /* index slots - 1 (a power of two) */
    size_t n;         /* buckets used (live or not yet reclaimed) */
    uint64_t *index;  /* tag << 32 | (position + 1); 0 = empty */
    bucket *buckets;  /* (mask + 1) / 2 of them */
} table;

struct fl_rl {
    pthread_mutex_t lock;
    int64_t rate;  /* units gained per ns == tokens per minute */
    int64_t cap;   /* burst * FL_RL_UNITS_PER_TOKEN */
    uint64_t k0, k1;
    table *t;
    uint64_t checks, allowed, denied;
};

static size_t
bucket_capacity(const table *t)
{
    return (t->mask + 1) / 2;
}

/* One allocation: the table header, the index (zeroed), the buckets (left
 * unwritten: pages of a large block stay non-resident until used). */
static table *
table_new(size_t slots)
{
    size_t index_bytes = slots * sizeof(uint64_t);
    size_t bytes = sizeof(table) + index_bytes + (slots / 2) * sizeof(bucket);
    table *t = malloc(bytes);
    if (t == NULL)
        return NULL;
    t->mask = slots - 1;
    t->n = 0;
    t->index = (uint64_t *)(t + 1);
    memset(t->index, 0, index_bytes);
    t->buckets = (bucket *)(t->index + slots);
    return t;
}

static size_t
table_bytes(const table *t)
{
    return sizeof(table) + (t->mask + 1) * sizeof(uint64_t) + bucket_capacity(t) * sizeof(bucket);
}

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
    rl->t = table_new(MIN_CAPACITY);
    if (rl->t == NULL) {
        free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->rate = rate_per_minute;
    rl->cap = burst * FL_RL_UNITS_PER_TOKEN;
    rl->k0 = load_seed(seed);
    rl->k1 = load_seed(seed + 8);
    return rl;
}

void
fl_rl_destroy(fl_rl *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->t);
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
    /* A full bucket is an absent one, whose time is now whichever way the
     * clock went: else reclaiming it (at any time) would change what a clock
     * going back does next. */
    if (now > b->last || b->units >= rl->cap)
        b->last = now;
}

/* The index slot holding id, or the empty slot where it would go. */
static uint64_t *
probe(const table *t, uint64_t id)
{
    uint64_t tag = id >> 32;
    size_t i = (size_t)(id >> 1) & t->mask;
    for (;;) {
        uint64_t *slot = &t->index[i];
        if (*slot == 0)
            return slot;
        if ((*slot >> 32) == tag && t->buckets[(*slot & 0xffffffffu) - 1].id == id)
            return slot;
        i = (i + 1) & t->mask;
    }
}

static bucket *
slot_bucket(const table *t, const uint64_t *slot)
{
    return *slot ? &t->buckets[(*slot & 0xffffffffu) - 1] : NULL;
}

/* Append a bucket (there is room) and point an empty index slot at it. */
static void
table_append(table *t, uint64_t *slot, const bucket *b)
{
    t->buckets[t->n] = *b;
    *slot = ((b->id >> 32) << 32) | (uint64_t)(t->n + 1);
    t->n++;
}

/* Index slots for `live` buckets with room to grow: at least 2 * (live + 1)
 * (buckets are half the slots), doubling from MIN_CAPACITY. */
static size_t
capacity_for(size_t live)
{
    size_t cap = MIN_CAPACITY;
    while (cap < 2 * (live + 1))
        cap *= 2;
    return cap;
}

/* Copy the buckets that are not full at `now` into a fresh table.  Returns
 * the number reclaimed, or -1 when out of memory (table unchanged). */
static long
rebuild(fl_rl *rl, int64_t now)
{
    table *old = rl->t;
    size_t live = 0;
    for (size_t i = 0; i < old->n; i++)
        live += refilled_units(rl, &old->buckets[i], now) < rl->cap;
    size_t cap = capacity_for(live);
    if (cap > MAX_CAPACITY)
        return -1;
    table *t = table_new(cap);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < old->n; i++) {
        const bucket *b = &old->buckets[i];
        if (refilled_units(rl, b, now) < rl->cap)
            table_append(t, probe(t, b->id), b);
    }
    long reclaimed = (long)(old->n - live);
    rl->t = t; /* swap only once complete (fork safety) */
    free(old);
    return reclaimed;
}

static uint64_t
key_id(const fl_rl *rl, const char *key, size_t len)
{
    return fl_rl_siphash13(rl->k0, rl->k1, key, len) | 1;
}

/* The wait of a denied check: the refill missing, plus (the clock went
 * back) the time back to the last update, kept in a separate field: both can
 * be near 2^63 each (rate 1, huge burst; a clock jumping back by centuries). */
static void
retry_after(const fl_rl *rl, const bucket *b, int64_t need, int64_t now, fl_rl_result *out)
{
    uint64_t missing = (uint64_t)(need - b->units);
    out->retry_after_ns = (int64_t)((missing + (uint64_t)rl->rate - 1) / (uint64_t)rl->rate);
    out->behind_ns = b->last > now ? (uint64_t)b->last - (uint64_t)now : 0;
}

int
fl_rl_check(fl_rl *rl, const char *key, size_t len, int64_t cost, int64_t now_ns,
            fl_rl_result *out)
{
    if (cost < 0)
        return -2;
    uint64_t id = key_id(rl, key, len);
    pthread_mutex_lock(&rl->lock);
    uint64_t *slot = probe(rl->t, id);
    bucket *stored = slot_bucket(rl->t, slot);
    bucket b = stored ? *stored : (bucket){id, 0, rl->cap, now_ns};
    refill(rl, &b, now_ns);
    fl_rl_verdict verdict;
    out->behind_ns = 0;
    if (cost > rl->cap / FL_RL_UNITS_PER_TOKEN) {
        verdict = FL_RL_COST_OVER_BURST;
        out->retry_after_ns = -1;
    } else if (b.units >= cost * FL_RL_UNITS_PER_TOKEN) {
        b.units -= cost * FL_RL_UNITS_PER_TOKEN;
        verdict = FL_RL_ALLOWED;
        out->retry_after_ns = 0;
    } else {
        verdict = FL_RL_DENIED;
        retry_after(rl, &b, cost * FL_RL_UNITS_PER_TOKEN, now_ns, out);
    }
    if (stored) {
        *stored = b;
    } else if (b.units < rl->cap) { /* a new, no longer full bucket */
        b.fp = fl_rl_fingerprint(key, len);
        if (rl->t->n == bucket_capacity(rl->t)) {
            if (rebuild(rl, now_ns) < 0) {
                pthread_mutex_unlock(&rl->lock);
                return -1; /* nothing consumed, nothing counted */
            }
            slot = probe(rl->t, id);
        }
        table_append(rl->t, slot, &b);
    }
    rl->checks++;
    if (verdict == FL_RL_ALLOWED)
        rl->allowed++;
    else
        rl->denied++;
    pthread_mutex_unlock(&rl->lock);
    out->verdict = verdict;
    out->remaining = b.units / FL_RL_UNITS_PER_TOKEN;
    return 0;
}

int64_t
fl_rl_remaining(fl_rl *rl, const char *key, size_t len, int64_t now_ns)
{
    uint64_t id = key_id(rl, key, len);
    pthread_mutex_lock(&rl->lock);
    const bucket *b = slot_bucket(rl->t, probe(rl->t, id));
    int64_t units = b ? refilled_units(rl, b, now_ns) : rl->cap;
    pthread_mutex_unlock(&rl->lock);
    return units / FL_RL_UNITS_PER_TOKEN;
}

size_t
fl_rl_home_slot(fl_rl *rl, const char *key, size_t len)
{
    uint64_t id = key_id(rl, key, len);
    pthread_mutex_lock(&rl->lock);
    size_t slot = (size_t)(id >> 1) & rl->t->mask;
    pthread_mutex_unlock(&rl->lock);
    return slot;
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
    const table *t = rl->t;
    size_t k = 0;
    fl_rl_key_state *out = t->n ? malloc(t->n * sizeof(*out)) : NULL;
    if (t->n && out == NULL) {
        pthread_mutex_unlock(&rl->lock);
        *n = (size_t)-1;
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        const bucket *b = &t->buckets[i];
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

uint64_t *
fl_rl_stored_fingerprints(fl_rl *rl, size_t *n)
{
    pthread_mutex_lock(&rl->lock);
    const table *t = rl->t;
    uint64_t *out = t->n ? malloc(t->n * sizeof(*out)) : NULL;
    if (t->n && out == NULL) {
        pthread_mutex_unlock(&rl->lock);
        *n = (size_t)-1;
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++)
        out[i] = t->buckets[i].fp;
    *n = t->n;
    pthread_mutex_unlock(&rl->lock);
    return out;
}

void
fl_rl_get_counters(fl_rl *rl, fl_rl_counters *out)
{
    pthread_mutex_lock(&rl->lock);
    out->checks = rl->checks;
    out->allowed = rl->allowed;
    out->denied = rl->denied;
    out->entries = rl->t->n;
    out->capacity = rl->t->mask + 1;
    out->bytes = table_bytes(rl->t);
    pthread_mutex_unlock(&rl->lock);
}
