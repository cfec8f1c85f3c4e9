/*
 * router.c - the seed router's C core: compiled model-list index, load
 * table and strategy planning.  See router.h for the shape of it.
 *
 * Index: all strings of a model list are copied into one arena.  Exact
 * names live in an open-addressing hash table (FNV-1a, linear probing,
 * at most half full); each name keeps the ascending positions serving it,
 * so candidates come out in list order without sorting.  Wildcard
 * model_names are kept apart and glob-matched only on an exact miss.
 *
 * Loads: one record per deployment key in a growable array (a slot number
 * is stable, a pointer is not), found through a hash table of keys.  Every
 * read or write holds the table's mutex.  Records that were never
 * recorded into stay "untouched" and are not listed, so the listing
 * matches the pure-Python twin's, which creates a load on first record.
 *
 * Strategy planning mirrors the pure-Python twin operation by operation
 * (same comparisons, same left-to-right float sums), so both pick the same
 * position from the same draw.
 */
#include "router/router.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashing and a string table -------------------------------------- */

static uint64_t
fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

typedef struct {
    const char *s; /* NULL: empty slot */
    size_t len;
    uint64_t hash;
    uint32_t value; /* the caller's payload (an index into its own array) */
} fl_rt_slot;

typedef struct {
    fl_rt_slot *slots;
    size_t mask; /* capacity - 1, capacity a power of two */
    size_t used;
} fl_rt_table;

static int
table_init(fl_rt_table *t, size_t expected)
{
    size_t cap = 8;
    while (cap < expected * 2 + 2)
        cap <<= 1;
    t->slots = calloc(cap, sizeof(fl_rt_slot));
    if (t->slots == NULL)
        return -1;
    t->mask = cap - 1;
    t->used = 0;
    return 0;
}

static void
table_free(fl_rt_table *t)
{
    free(t->slots);
    t->slots = NULL;
}

/* The slot holding s, or the empty slot where it would go. */
static fl_rt_slot *
table_probe(const fl_rt_table *t, const char *s, size_t len, uint64_t hash)
{
    size_t i = (size_t)hash & t->mask;
    for (;;) {
        fl_rt_slot *slot = &t->slots[i];
        if (slot->s == NULL)
            return slot;
        if (slot->hash == hash && slot->len == len && memcmp(slot->s, s, len) == 0)
            return slot;
        i = (i + 1) & t->mask;
    }
}

static int
table_grow(fl_rt_table *t)
{
    fl_rt_table bigger;
    if (table_init(&bigger, (t->mask + 1)) < 0)
        return -1;
    for (size_t i = 0; i <= t->mask; i++) {
        fl_rt_slot *old = &t->slots[i];
        if (old->s != NULL)
            *table_probe(&bigger, old->s, old->len, old->hash) = *old;
    }
    bigger.used = t->used;
    table_free(t);
    *t = bigger;
    return 0;
}

/* Find s; when absent and `value` is given, insert it.  NULL on no memory. */
static fl_rt_slot *
table_intern(fl_rt_table *t, const char *s, size_t len, uint32_t value, int *created)
{
    if ((t->used + 1) * 2 > t->mask + 1 && table_grow(t) < 0)
        return NULL;
    uint64_t hash = fnv1a(s, len);
    fl_rt_slot *slot = table_probe(t, s, len, hash);
    *created = slot->s == NULL;
    if (*created) {
        slot->s = s;
        slot->len = len;
        slot->hash = hash;
        slot->value = value;
        t->used++;
    }
    return slot;
}

static const fl_rt_slot *
table_find(const fl_rt_table *t, const char *s, size_t len)
{
    const fl_rt_slot *slot = table_probe(t, s, len, fnv1a(s, len));
    return slot->s == NULL ? NULL : slot;
}

/* ---- blocked-name sets ------------------------------------------------ */

struct fl_rt_strset {
    fl_rt_table table;
    char **owned;
    size_t count, cap;
};

fl_rt_strset *
fl_rt_strset_new(size_t capacity_hint)
{
    fl_rt_strset *set = calloc(1, sizeof(*set));
    if (set == NULL || table_init(&set->table, capacity_hint) < 0) {
        free(set);
        return NULL;
    }
    return set;
}

int
fl_rt_strset_add(fl_rt_strset *set, const char *s, size_t len)
{
    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        char **grown = realloc(set->owned, cap * sizeof(char *));
        if (grown == NULL)
            return -1;
        set->owned = grown;
        set->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    int created;
    if (table_intern(&set->table, copy, len, 0, &created) == NULL) {
        free(copy);
        return -1;
    }
    if (!created) {
        free(copy);
        return 0;
    }
    set->owned[set->count++] = copy;
    return 0;
}

static int
strset_has(const fl_rt_strset *set, const char *s, size_t len)
{
    return set != NULL && set->count > 0 && table_find(&set->table, s, len) != NULL;
}

void
fl_rt_strset_free(fl_rt_strset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->count; i++)
        free(set->owned[i]);
    free(set->owned);
    table_free(&set->table);
    free(set);
}

/* ---- the index -------------------------------------------------------- */

typedef struct {
    uint32_t *at;
    uint32_t count, cap;
} fl_rt_positions;

typedef struct {
    const char *name, *model, *key;
    size_t name_len, model_len, key_len;
    int has_id;
    double weight, rpm, tpm, rpm_limit, tpm_limit, cost;
} fl_rt_entry;

struct fl_rt_index {
    size_t n;
    fl_rt_entry *entries;
    char *arena;
    fl_rt_table names;          /* exact name -> positions[value] */
    fl_rt_positions *positions; /* one per distinct name */
    size_t name_count;
    uint32_t *wildcards;
    size_t wildcard_count;
    fl_rt_loads *loads; /* the table load_slot points into */
    uint32_t *load_slot;
};

static int
positions_add(fl_rt_positions *p, uint32_t position)
{
    if (p->count > 0 && p->at[p->count - 1] == position)
        return 0; /* model_name == model: listed once */
    if (p->count == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 4;
        uint32_t *grown = realloc(p->at, cap * sizeof(uint32_t));
        if (grown == NULL)
            return -1;
        p->at = grown;
        p->cap = cap;
    }
    p->at[p->count++] = position;
    return 0;
}

static int
index_add_name(fl_rt_index *index, const char *name, size_t len, uint32_t position)
{
    int created;
    fl_rt_slot *slot = table_intern(&index->names, name, len, (uint32_t)index->name_count, &created);
    if (slot == NULL)
        return -1;
    if (created)
        index->name_count++;
    return positions_add(&index->positions[slot->value], position);
}

static char *
arena_copy(char **cursor, const char *s, size_t len)
{
    char *at = *cursor;
    if (len)
        memcpy(at, s, len);
    at[len] = '\0';
    *cursor += len + 1;
    return at;
}

void
fl_rt_index_free(fl_rt_index *index)
{
    if (index == NULL)
        return;
    if (index->positions != NULL) {
        for (size_t i = 0; i < index->name_count; i++)
            free(index->positions[i].at);
    }
    free(index->positions);
    table_free(&index->names);
    free(index->wildcards);
    free(index->load_slot);
    free(index->entries);
    free(index->arena);
    free(index);
}

fl_rt_index *
fl_rt_index_new(const fl_rt_deployment *deployments, size_t n)
{
    if (n > UINT32_MAX / 4)
        return NULL;
    fl_rt_index *index = calloc(1, sizeof(*index));
    if (index == NULL)
        return NULL;
    size_t bytes = 1;
    for (size_t i = 0; i < n; i++)
        bytes += deployments[i].model_name_len + deployments[i].model_len + deployments[i].key_len + 3;
    index->n = n;
    index->arena = malloc(bytes);
    index->entries = calloc(n ? n : 1, sizeof(fl_rt_entry));
    index->positions = calloc(2 * n + 1, sizeof(fl_rt_positions));
    index->wildcards = malloc((n ? n : 1) * sizeof(uint32_t));
    if (index->arena == NULL || index->entries == NULL || index->positions == NULL ||
        index->wildcards == NULL || table_init(&index->names, 2 * n) < 0) {
        fl_rt_index_free(index);
        return NULL;
    }
    char *cursor = index->arena;
    for (size_t i = 0; i < n; i++) {
        const fl_rt_deployment *d = &deployments[i];
        fl_rt_entry *e = &index->entries[i];
        e->name = arena_copy(&cursor, d->model_name, d->model_name_len);
        e->name_len = d->model_name_len;
        e->model = arena_copy(&cursor, d->model, d->model_len);
        e->model_len = d->model_len;
        e->key = arena_copy(&cursor, d->key, d->key_len);
        e->key_len = d->key_len;
        e->has_id = d->has_id;
        e->weight = d->weight;
        e->rpm = d->rpm;
        e->tpm = d->tpm;
        e->rpm_limit = d->rpm_limit;
        e->tpm_limit = d->tpm_limit;
        e->cost = d->cost;
        if (index_add_name(index, e->name, e->name_len, (uint32_t)i) < 0 ||
            index_add_name(index, e->model, e->model_len, (uint32_t)i) < 0) {
            fl_rt_index_free(index);
            return NULL;
        }
        if (memchr(e->name, '*', e->name_len) != NULL)
            index->wildcards[index->wildcard_count++] = (uint32_t)i;
    }
    return index;
}

size_t
fl_rt_index_size(const fl_rt_index *index)
{
    return index->n;
}

int
fl_rt_glob(const char *pattern, size_t plen, const char *text, size_t tlen)
{
    size_t p = 0, t = 0, mark = 0;
    long star = -1;
    while (t < tlen) {
        if (p < plen && pattern[p] == '*') {
            star = (long)p++;
            mark = t;
        } else if (p < plen && pattern[p] == text[t]) {
            p++;
            t++;
        } else if (star >= 0) {
            p = (size_t)star + 1;
            t = ++mark;
        } else {
            return 0;
        }
    }
    while (p < plen && pattern[p] == '*')
        p++;
    return p == plen;
}

static int
is_blocked(const fl_rt_entry *e, const fl_rt_strset *blocked)
{
    return strset_has(blocked, e->name, e->name_len) || strset_has(blocked, e->model, e->model_len) ||
           (e->has_id && strset_has(blocked, e->key, e->key_len));
}

size_t
fl_rt_match(const fl_rt_index *index, const char *model, size_t len, const fl_rt_strset *blocked,
            uint32_t *out)
{
    size_t count = 0;
    const fl_rt_slot *slot = table_find(&index->names, model, len);
    if (slot != NULL && index->positions[slot->value].count > 0) {
        const fl_rt_positions *p = &index->positions[slot->value];
        for (uint32_t i = 0; i < p->count; i++) {
            if (!is_blocked(&index->entries[p->at[i]], blocked))
                out[count++] = p->at[i];
        }
        return count;
    }
    for (size_t i = 0; i < index->wildcard_count; i++) {
        const fl_rt_entry *e = &index->entries[index->wildcards[i]];
        if (fl_rt_glob(e->name, e->name_len, model, len) && !is_blocked(e, blocked))
            out[count++] = index->wildcards[i];
    }
    return count;
}

/* ---- loads ------------------------------------------------------------ */

typedef struct {
    char *key;
    size_t key_len;
    int touched;
    int64_t in_flight;
    double *window; /* ring of the last `window` latencies, oldest at head */
    int head, samples;
    int64_t minute;
    double rpm_used, tpm_used;
    int64_t successes, failures;
} fl_rt_load;

struct fl_rt_loads {
    pthread_mutex_t lock;
    int window;
    fl_rt_table keys; /* key -> slot */
    fl_rt_load *records;
    size_t count, cap;
    uint32_t *order; /* touched slots, in the order first touched */
    size_t touched;
};

fl_rt_loads *
fl_rt_loads_new(int window)
{
    if (window < 1)
        return NULL;
    fl_rt_loads *loads = calloc(1, sizeof(*loads));
    if (loads == NULL)
        return NULL;
    if (table_init(&loads->keys, 16) < 0 || pthread_mutex_init(&loads->lock, NULL) != 0) {
        table_free(&loads->keys);
        free(loads);
        return NULL;
    }
    loads->window = window;
    return loads;
}

void
fl_rt_loads_free(fl_rt_loads *loads)
{
    if (loads == NULL)
        return;
    for (size_t i = 0; i < loads->count; i++) {
        free(loads->records[i].key);
        free(loads->records[i].window);
    }
    free(loads->records);
    free(loads->order);
    table_free(&loads->keys);
    pthread_mutex_destroy(&loads->lock);
    free(loads);
}

static void
load_clear(fl_rt_load *r)
{
    r->touched = 0;
    r->in_flight = 0;
    r->head = r->samples = 0;
    r->minute = -1;
    r->rpm_used = r->tpm_used = 0.0;
    r->successes = r->failures = 0;
}

void
fl_rt_loads_reset(fl_rt_loads *loads)
{
    pthread_mutex_lock(&loads->lock);
    for (size_t i = 0; i < loads->count; i++)
        load_clear(&loads->records[i]);
    loads->touched = 0;
    pthread_mutex_unlock(&loads->lock);
}

/* The slot of key, created when absent; -1 on no memory.  Lock held. */
static long
loads_slot(fl_rt_loads *loads, const char *key, size_t len)
{
    const fl_rt_slot *found = table_find(&loads->keys, key, len);
    if (found != NULL)
        return (long)found->value;
    if (loads->count == loads->cap) {
        size_t cap = loads->cap ? loads->cap * 2 : 16;
        fl_rt_load *grown = realloc(loads->records, cap * sizeof(fl_rt_load));
        if (grown == NULL)
            return -1;
        loads->records = grown;
        uint32_t *order = realloc(loads->order, cap * sizeof(uint32_t));
        if (order == NULL)
            return -1;
        loads->order = order;
        loads->cap = cap;
        /* the key table points into records' keys, which did not move */
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, key, len);
    copy[len] = '\0';
    int created;
    if (table_intern(&loads->keys, copy, len, (uint32_t)loads->count, &created) == NULL) {
        free(copy);
        return -1;
    }
    fl_rt_load *r = &loads->records[loads->count];
    memset(r, 0, sizeof(*r));
    r->key = copy;
    r->key_len = len;
    load_clear(r);
    return (long)loads->count++;
}

static fl_rt_load *
loads_touch(fl_rt_loads *loads, const char *key, size_t len)
{
    long slot = loads_slot(loads, key, len);
    if (slot < 0)
        return NULL;
    fl_rt_load *r = &loads->records[slot];
    if (!r->touched) {
        r->touched = 1;
        loads->order[loads->touched++] = (uint32_t)slot;
    }
    return r;
}

int
fl_rt_index_bind_loads(fl_rt_index *index, fl_rt_loads *loads)
{
    uint32_t *slots = malloc((index->n ? index->n : 1) * sizeof(uint32_t));
    if (slots == NULL)
        return -1;
    pthread_mutex_lock(&loads->lock);
    for (size_t i = 0; i < index->n; i++) {
        long slot = loads_slot(loads, index->entries[i].key, index->entries[i].key_len);
        if (slot < 0) {
            pthread_mutex_unlock(&loads->lock);
            free(slots);
            return -1;
        }
        slots[i] = (uint32_t)slot;
    }
    pthread_mutex_unlock(&loads->lock);
    free(index->load_slot);
    index->load_slot = slots;
    index->loads = loads;
    return 0;
}

int
fl_rt_loads_start(fl_rt_loads *loads, const char *key, size_t len)
{
    pthread_mutex_lock(&loads->lock);
    fl_rt_load *r = loads_touch(loads, key, len);
    if (r != NULL)
        r->in_flight++;
    pthread_mutex_unlock(&loads->lock);
    return r == NULL ? -1 : 0;
}

int
fl_rt_loads_end(fl_rt_loads *loads, const char *key, size_t len)
{
    pthread_mutex_lock(&loads->lock);
    fl_rt_load *r = loads_touch(loads, key, len);
    if (r != NULL && r->in_flight > 0)
        r->in_flight--;
    pthread_mutex_unlock(&loads->lock);
    return r == NULL ? -1 : 0;
}

static void
window_add(fl_rt_load *r, int window, double sample)
{
    if (r->samples < window) {
        r->window[(r->head + r->samples) % window] = sample;
        r->samples++;
    } else {
        r->window[r->head] = sample; /* overwrite the oldest */
        r->head = (r->head + 1) % window;
    }
}

int
fl_rt_loads_record(fl_rt_loads *loads, const char *key, size_t len, double latency, fl_rt_outcome outcome,
                   double tokens, int64_t minute)
{
    int rc = 0;
    pthread_mutex_lock(&loads->lock);
    fl_rt_load *r = loads_touch(loads, key, len);
    if (r == NULL) {
        rc = -1;
        goto done;
    }
    if (latency >= 0) {
        if (r->window == NULL && (r->window = malloc((size_t)loads->window * sizeof(double))) == NULL) {
            rc = -1;
            goto done;
        }
        window_add(r, loads->window, latency);
    }
    if (outcome == FL_RT_OUTCOME_NONE)
        goto done;
    if (outcome == FL_RT_OUTCOME_SUCCESS)
        r->successes++;
    else
        r->failures++;
    if (r->minute != minute) {
        r->minute = minute;
        r->rpm_used = r->tpm_used = 0.0;
    }
    if (outcome == FL_RT_OUTCOME_SUCCESS)
        r->rpm_used += 1;
    if (tokens >= 0)
        r->tpm_used += tokens;
done:
    pthread_mutex_unlock(&loads->lock);
    return rc;
}

/* Oldest to newest, left to right, as the twin sums its list. */
static double
mean_latency(const fl_rt_load *r, int window)
{
    if (r->samples == 0)
        return 0.0;
    double total = 0.0;
    for (int i = 0; i < r->samples; i++)
        total += r->window[(r->head + i) % window];
    return total / r->samples;
}

static void
load_view(const fl_rt_load *r, int window, int64_t minute, fl_rt_load_view *view)
{
    view->in_flight = r->in_flight;
    view->mean_latency = mean_latency(r, window);
    view->latency_samples = r->samples;
    view->successes = r->successes;
    view->failures = r->failures;
    int current = r->minute == minute;
    view->rpm_used = current ? r->rpm_used : 0.0;
    view->tpm_used = current ? r->tpm_used : 0.0;
}

size_t
fl_rt_loads_count(fl_rt_loads *loads)
{
    pthread_mutex_lock(&loads->lock);
    size_t n = loads->touched;
    pthread_mutex_unlock(&loads->lock);
    return n;
}

int
fl_rt_loads_get(fl_rt_loads *loads, size_t i, int64_t minute, const char **key, size_t *key_len,
                fl_rt_load_view *view)
{
    int rc = -1;
    pthread_mutex_lock(&loads->lock);
    if (i < loads->touched) {
        const fl_rt_load *r = &loads->records[loads->order[i]];
        *key = r->key; /* keys never move nor die before the table */
        *key_len = r->key_len;
        load_view(r, loads->window, minute, view);
        rc = 0;
    }
    pthread_mutex_unlock(&loads->lock);
    return rc;
}

/* ---- picking ---------------------------------------------------------- */

int
fl_rt_scratch_init(fl_rt_scratch *s, size_t capacity)
{
    size_t n = capacity ? capacity : 1;
    s->capacity = capacity;
    s->pool = malloc(n * sizeof(uint32_t));
    s->cum = malloc(n * sizeof(double));
    s->value = malloc(n * sizeof(double));
    if (s->pool == NULL || s->cum == NULL || s->value == NULL) {
        fl_rt_scratch_free(s);
        return -1;
    }
    return 0;
}

void
fl_rt_scratch_free(fl_rt_scratch *s)
{
    free(s->pool);
    free(s->cum);
    free(s->value);
    s->pool = NULL;
    s->cum = s->value = NULL;
}

static fl_rt_plan_result
plan_none(long position)
{
    fl_rt_plan_result r = {FL_RT_DRAW_NONE, position, 0, 0.0};
    return r;
}

static fl_rt_plan_result
plan_below(size_t count)
{
    fl_rt_plan_result r = {FL_RT_DRAW_BELOW, -1, count, 0.0};
    return r;
}

typedef double (*fl_rt_metric)(const fl_rt_entry *);
static double metric_weight(const fl_rt_entry *e) { return e->weight; }
static double metric_rpm(const fl_rt_entry *e) { return e->rpm; }
static double metric_tpm(const fl_rt_entry *e) { return e->tpm; }

/* Weighted by weight, else rpm, else tpm (each over its largest), as
 * random.choices draws: cumulative sums, bisect of random() * total. */
static fl_rt_plan_result
plan_shuffle(const fl_rt_index *index, const uint32_t *found, size_t n, fl_rt_scratch *s)
{
    static const fl_rt_metric metrics[] = {metric_weight, metric_rpm, metric_tpm};
    for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
        double *w = s->value;
        for (size_t i = 0; i < n; i++)
            w[i] = metrics[m](&index->entries[found[i]]);
        double largest = w[0];
        for (size_t i = 0; i < n; i++)
            if (w[i] > largest)
                largest = w[i];
        if (largest <= 0)
            continue;
        double total = 0.0;
        for (size_t i = 0; i < n; i++) {
            w[i] = w[i] / largest;
            total += w[i];
        }
        if (total <= 0)
            continue;
        double running = 0.0;
        for (size_t i = 0; i < n; i++) {
            running += w[i];
            s->cum[i] = running;
            s->pool[i] = found[i];
        }
        fl_rt_plan_result r = {FL_RT_DRAW_UNIFORM, -1, n, s->cum[n - 1] + 0.0};
        if (!isfinite(r.total))
            r.draw = FL_RT_DRAW_ERROR;
        return r;
    }
    memcpy(s->pool, found, n * sizeof(uint32_t));
    return plan_below(n);
}

static const fl_rt_load *
load_of(const fl_rt_index *index, fl_rt_loads *loads, uint32_t position)
{
    if (loads == NULL || index->loads != loads || index->load_slot == NULL)
        return NULL;
    return &loads->records[index->load_slot[position]];
}

static fl_rt_plan_result
plan_least_busy(const fl_rt_index *index, fl_rt_loads *loads, const uint32_t *found, size_t n,
                fl_rt_scratch *s)
{
    int64_t fewest = 0;
    for (size_t i = 0; i < n; i++) {
        const fl_rt_load *r = load_of(index, loads, found[i]);
        int64_t busy = r != NULL ? r->in_flight : 0;
        s->value[i] = (double)busy;
        if (i == 0 || busy < fewest)
            fewest = busy;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (s->value[i] == (double)fewest)
            s->pool[count++] = found[i];
    return plan_below(count);
}

/* Candidates this minute's usage leaves room for, into pool; their loads' means into value. */
static size_t
within_limits(const fl_rt_index *index, fl_rt_loads *loads, const uint32_t *found, size_t n,
              double input_tokens, int64_t minute, fl_rt_scratch *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const fl_rt_entry *e = &index->entries[found[i]];
        const fl_rt_load *r = load_of(index, loads, found[i]);
        int current = r != NULL && r->minute == minute;
        double rpm_used = current ? r->rpm_used : 0.0;
        double tpm_used = current ? r->tpm_used : 0.0;
        if (tpm_used + input_tokens > e->tpm_limit || rpm_used + 1 > e->rpm_limit)
            continue;
        s->pool[kept] = found[i];
        s->value[kept] = r != NULL ? mean_latency(r, loads->window) : 0.0;
        kept++;
    }
    return kept;
}

static fl_rt_plan_result
plan_latency(const fl_rt_index *index, fl_rt_loads *loads, const uint32_t *found, size_t n, double buffer,
             double input_tokens, int64_t minute, fl_rt_scratch *s)
{
    size_t kept = within_limits(index, loads, found, n, input_tokens, minute, s);
    if (kept == 0)
        return plan_none(-1);
    double lowest = s->value[0];
    for (size_t i = 1; i < kept; i++)
        if (s->value[i] < lowest)
            lowest = s->value[i];
    double ceiling = lowest + buffer * lowest;
    size_t count = 0;
    for (size_t i = 0; i < kept; i++)
        if (s->value[i] <= ceiling)
            s->pool[count++] = s->pool[i];
    return plan_below(count);
}

static fl_rt_plan_result
plan_cost(const fl_rt_index *index, fl_rt_loads *loads, const uint32_t *found, size_t n, double input_tokens,
          int64_t minute, fl_rt_scratch *s)
{
    size_t kept = within_limits(index, loads, found, n, input_tokens, minute, s);
    if (kept == 0)
        return plan_none(-1);
    uint32_t best = s->pool[0];
    for (size_t i = 1; i < kept; i++)
        if (index->entries[s->pool[i]].cost < index->entries[best].cost)
            best = s->pool[i];
    return plan_none((long)best);
}

fl_rt_plan_result
fl_rt_plan(const fl_rt_index *index, fl_rt_loads *loads, fl_rt_strategy strategy, const uint32_t *found,
           size_t n, double latency_buffer, double input_tokens, int64_t minute, fl_rt_scratch *scratch)
{
    if (n == 0 || n > scratch->capacity)
        return plan_none(-1);
    fl_rt_plan_result r;
    if (loads != NULL && strategy != FL_RT_SHUFFLE)
        pthread_mutex_lock(&loads->lock);
    switch (strategy) {
    case FL_RT_SHUFFLE:
        r = plan_shuffle(index, found, n, scratch);
        break;
    case FL_RT_LEAST_BUSY:
        r = plan_least_busy(index, loads, found, n, scratch);
        break;
    case FL_RT_LATENCY:
        r = plan_latency(index, loads, found, n, latency_buffer, input_tokens, minute, scratch);
        break;
    case FL_RT_COST:
        r = plan_cost(index, loads, found, n, input_tokens, minute, scratch);
        break;
    default:
        r = plan_none(-1);
        break;
    }
    if (loads != NULL && strategy != FL_RT_SHUFFLE)
        pthread_mutex_unlock(&loads->lock);
    return r;
}

long
fl_rt_finish(const fl_rt_plan_result *plan, const fl_rt_scratch *scratch, double u, size_t k)
{
    switch (plan->draw) {
    case FL_RT_DRAW_NONE:
        return plan->position;
    case FL_RT_DRAW_BELOW:
        return k < plan->count ? (long)scratch->pool[k] : -1;
    case FL_RT_DRAW_UNIFORM: {
        /* bisect.bisect_right(cum, u * total, 0, count - 1) */
        double x = u * plan->total;
        size_t lo = 0, hi = plan->count - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (x < scratch->cum[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        return (long)scratch->pool[lo];
    }
    default:
        return -1;
    }
}

/* ---- first occurrences ------------------------------------------------ */

long
fl_rt_first_occurrences(const fl_rt_key *keys, size_t n, unsigned char *keep)
{
    if (n > (size_t)INT32_MAX)
        return -1;
    size_t cap = 16;
    while (cap < n * 2)
        cap <<= 1;
    uint32_t small[64];
    uint32_t *slots = cap <= 64 ? small : calloc(cap, sizeof(uint32_t)); /* index + 1; 0: empty */
    if (slots == NULL)
        return -1;
    if (slots == small)
        memset(small, 0, sizeof(small));
    size_t mask = cap - 1;
    long repeats = 0;
    for (size_t i = 0; i < n; i++) {
        const fl_rt_key *k = &keys[i];
        uint64_t h = fnv1a((const char *)k->data, k->len) ^ ((uint64_t)k->tag * 0x9E3779B97F4A7C15ULL);
        size_t at = (size_t)(h ^ (h >> 29)) & mask;
        keep[i] = 1;
        for (;;) {
            uint32_t held = slots[at];
            if (held == 0) {
                slots[at] = (uint32_t)(i + 1);
                break;
            }
            const fl_rt_key *other = &keys[held - 1];
            if (other->len == k->len && other->tag == k->tag &&
                (k->len == 0 || memcmp(other->data, k->data, k->len) == 0)) {
                keep[i] = 0;
                repeats++;
                break;
            }
            at = (at + 1) & mask;
        }
    }
    if (slots != small)
        free(slots);
    return repeats;
}
