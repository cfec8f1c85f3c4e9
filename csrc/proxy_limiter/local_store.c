/*
 * local_store.c - the v3 limiter's memory tier (see local_store.h).
 *
 * Entries live in a chained hash table sized for the capacity (the store
 * never holds more than `capacity` entries, so chains stay short without
 * resizing).  Expirations live in the entries; the heap holds its own key
 * copies because, as in the Rust store, an item outlives the entry it was
 * pushed for until it reaches the top.
 */
#include "proxy_limiter/local_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    char *key;
    size_t klen;
    fl_ls_value value;
    uint64_t expires;
} entry;

typedef struct {
    uint64_t expires;
    char *key;
    size_t klen;
} heap_item;

struct fl_ls {
    size_t capacity;
    uint64_t default_ttl_ns;
    size_t nbuckets;
    entry **buckets;
    size_t count;
    heap_item *heap;
    size_t heap_len, heap_cap;
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static char *
dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (p != NULL && n)
        memcpy(p, s, n);
    return p;
}

fl_ls *
fl_ls_new(size_t capacity, uint64_t default_ttl_ns)
{
    fl_ls *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->capacity = capacity;
    st->default_ttl_ns = default_ttl_ns;
    st->nbuckets = 64;
    while (st->nbuckets < 2 * capacity && st->nbuckets < ((size_t)1 << 20))
        st->nbuckets *= 2;
    st->buckets = calloc(st->nbuckets, sizeof(entry *));
    if (st->buckets == NULL) {
        free(st);
        return NULL;
    }
    return st;
}

static void
free_value(fl_ls_value *v)
{
    if (v->kind == FL_LS_TEXT || v->kind == FL_LS_SLOTS)
        free((char *)v->bytes);
    v->bytes = NULL;
}

void
fl_ls_free(fl_ls *st)
{
    if (st == NULL)
        return;
    for (size_t b = 0; b < st->nbuckets; b++) {
        entry *e = st->buckets[b];
        while (e != NULL) {
            entry *next = e->next;
            free(e->key);
            free_value(&e->value);
            free(e);
            e = next;
        }
    }
    for (size_t i = 0; i < st->heap_len; i++)
        free(st->heap[i].key);
    free(st->heap);
    free(st->buckets);
    free(st);
}

static entry **
find_slot(fl_ls *st, const char *key, size_t klen, uint64_t h)
{
    entry **p = &st->buckets[h & (st->nbuckets - 1)];
    while (*p != NULL && !((*p)->hash == h && (*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->next;
    return p;
}

static entry *
find(fl_ls *st, const char *key, size_t klen)
{
    return *find_slot(st, key, klen, hash_bytes(key, klen));
}

/* remove(): drop the value and the expiration of key, if held */
static void
remove_key(fl_ls *st, const char *key, size_t klen)
{
    entry **p = find_slot(st, key, klen, hash_bytes(key, klen)), *e = *p;
    if (e == NULL)
        return;
    *p = e->next;
    free(e->key);
    free_value(&e->value);
    free(e);
    st->count--;
}

/* ---- heap of (expires, key): a min-heap in that total order ---- */

static int
item_less(const heap_item *a, const heap_item *b)
{
    size_t n;
    int c;
    if (a->expires != b->expires)
        return a->expires < b->expires;
    n = a->klen < b->klen ? a->klen : b->klen;
    c = n ? memcmp(a->key, b->key, n) : 0;
    if (c != 0)
        return c < 0;
    return a->klen < b->klen;
}

static int
heap_push(fl_ls *st, uint64_t expires, const char *key, size_t klen)
{
    heap_item it;
    size_t i;
    if (st->heap_len == st->heap_cap) {
        size_t cap = st->heap_cap ? 2 * st->heap_cap : 16;
        heap_item *h = realloc(st->heap, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        st->heap = h;
        st->heap_cap = cap;
    }
    it.expires = expires;
    it.klen = klen;
    if ((it.key = dup_bytes(key, klen)) == NULL)
        return -1;
    i = st->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!item_less(&it, &st->heap[parent]))
            break;
        st->heap[i] = st->heap[parent];
        i = parent;
    }
    st->heap[i] = it;
    return 0;
}

/* Pop the minimum into *out (caller frees out->key). */
static void
heap_pop(fl_ls *st, heap_item *out)
{
    heap_item last;
    size_t i = 0, n;
    *out = st->heap[0];
    n = --st->heap_len;
    if (n == 0)
        return;
    last = st->heap[n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const heap_item *best = &last;
        if (l < n && item_less(&st->heap[l], best)) {
            m = l;
            best = &st->heap[l];
        }
        if (r < n && item_less(&st->heap[r], best))
            m = r;
        if (m == i)
            break;
        st->heap[i] = st->heap[m];
        i = m;
    }
    st->heap[i] = last;
}

static int
item_current(fl_ls *st, const heap_item *it)
{
    entry *e = find(st, it->key, it->klen);
    return e != NULL && e->expires == it->expires;
}

/* evict(state, capacity, now, None) */
static void
evict(fl_ls *st, uint64_t now)
{
    heap_item it;
    while (st->heap_len > 0) {
        const heap_item *top = &st->heap[0];
        if (!item_current(st, top)) {
            heap_pop(st, &it);
            free(it.key);
        }
        else if (top->expires <= now) {
            heap_pop(st, &it);
            remove_key(st, it.key, it.klen);
            free(it.key);
        }
        else {
            break;
        }
    }
    while (st->count >= st->capacity && st->heap_len > 0) {
        heap_pop(st, &it);
        if (item_current(st, &it))
            remove_key(st, it.key, it.klen);
        free(it.key);
    }
}

const fl_ls_value *
fl_ls_get(fl_ls *st, const char *key, size_t klen, uint64_t now)
{
    entry *e = find(st, key, klen);
    if (e != NULL && e->expires < now) {
        remove_key(st, key, klen);
        return NULL;
    }
    return e != NULL ? &e->value : NULL;
}

static int
copy_value(fl_ls_value *dst, const fl_ls_value *src)
{
    *dst = *src;
    if (src->kind == FL_LS_TEXT || src->kind == FL_LS_SLOTS) {
        if ((dst->bytes = dup_bytes(src->bytes, src->len)) == NULL)
            return -1;
    }
    else {
        dst->bytes = NULL;
        dst->len = 0;
    }
    return 0;
}

int
fl_ls_set(fl_ls *st, const char *key, size_t klen, const fl_ls_value *value, int has_ttl, uint64_t ttl_ns,
          uint64_t now)
{
    uint64_t ttl = has_ttl ? ttl_ns : st->default_ttl_ns, expires;
    fl_ls_value copy;
    entry *e;
    uint64_t h;
    if (__builtin_add_overflow(now, ttl, &expires))
        return FL_LS_TIME_OVERFLOW;
    if (copy_value(&copy, value) < 0)
        return FL_LS_NOMEM;
    evict(st, now);
    h = hash_bytes(key, klen);
    e = *find_slot(st, key, klen, h);
    if (e == NULL) {
        if ((e = calloc(1, sizeof(*e))) == NULL || (e->key = dup_bytes(key, klen)) == NULL ||
            heap_push(st, expires, key, klen) < 0) {
            if (e != NULL)
                free(e->key);
            free(e);
            free_value(&copy);
            return FL_LS_NOMEM;
        }
        e->hash = h;
        e->klen = klen;
        e->expires = expires;
        e->next = st->buckets[h & (st->nbuckets - 1)];
        st->buckets[h & (st->nbuckets - 1)] = e;
        st->count++;
    }
    else {
        if (e->expires < now && e->expires != expires) {
            if (heap_push(st, expires, key, klen) < 0) {
                free_value(&copy);
                return FL_LS_NOMEM;
            }
            e->expires = expires;
        }
        free_value(&e->value);
    }
    e->value = copy;
    return FL_LS_OK;
}

size_t
fl_ls_len(const fl_ls *st)
{
    return st->count;
}

int
fl_ls_each(const fl_ls *st,
           int (*cb)(const char *, size_t, const fl_ls_value *, uint64_t, void *), void *arg)
{
    for (size_t b = 0; b < st->nbuckets; b++)
        for (const entry *e = st->buckets[b]; e != NULL; e = e->next) {
            int r = cb(e->key, e->klen, &e->value, e->expires, arg);
            if (r != 0)
                return r;
        }
    return 0;
}

fl_ls_value
fl_ls_add(const fl_ls_value *a, const fl_ls_value *b)
{
    fl_ls_value r;
    memset(&r, 0, sizeof(r));
    if (a->kind == FL_LS_INT && b->kind == FL_LS_INT) {
        r.kind = FL_LS_INT;
        r.i = (int64_t)((uint64_t)a->i + (uint64_t)b->i); /* wraps, like Rust release builds */
        return r;
    }
    r.kind = FL_LS_FLOAT;
    r.f = (a->kind == FL_LS_INT ? (double)a->i : a->f) + (b->kind == FL_LS_INT ? (double)b->i : b->f);
    return r;
}

int
fl_ls_seconds_to_ns(double seconds, uint64_t *ns)
{
    int exp;
    double m;
    unsigned __int128 mant, prod, q, rem, half;
    if (!(seconds >= 0.0) || !isfinite(seconds))
        return -1;
    if (seconds == 0.0) {
        *ns = 0;
        return 0;
    }
    m = frexp(seconds, &exp);                  /* seconds = m * 2^exp, m in [0.5, 1) */
    mant = (unsigned __int128)ldexp(m, 53);    /* exact 53-bit integer */
    exp -= 53;                                 /* seconds = mant * 2^exp */
    prod = mant * 1000000000u;                 /* < 2^83 */
    if (exp >= 0) {
        if (exp > 60)
            return -1;
        q = prod << exp;
    }
    else if (exp <= -100) {
        q = 0; /* below half a nanosecond */
    }
    else {
        int s = -exp;
        q = prod >> s;
        rem = prod & ((((unsigned __int128)1) << s) - 1);
        half = ((unsigned __int128)1) << (s - 1);
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    if (q > (unsigned __int128)UINT64_MAX)
        return -1;
    *ns = (uint64_t)q;
    return 0;
}
