/*
 * pool.c - connection-pool bookkeeping.
 *
 * Records.  Each connection is a small record in a slab (array + free
 * list); an open-addressing map from connection id (a per-pool counter,
 * never reused) to slab index finds it.  Endpoints are kept in first-use
 * order in an array, found through a second open-addressing map keyed by
 * FNV-1a of the name.  Each endpoint keeps its idle connections on a stack,
 * so the most recently returned is reused first; an idle connection leaving
 * from the middle of the stack (removed, marked unhealthy, expired) is taken
 * out by a short search (stacks are at most max_per_endpoint long).
 *
 * Expiry.  An idle connection is expired when idle for longer than the idle
 * timeout; any connection is expired when older than the max lifetime.
 * Expired idle connections are dropped lazily by get (which skips them) and
 * by cleanup; a checked-out one past its lifetime is dropped on return.
 * Checked-out connections are never dropped behind the caller's back.
 *
 * Retirement.  cleanup also retires every endpoint left with no connection
 * (none checked out, none idle): its counters are added to `retired` (so
 * the totals stay exact), its name and stack are freed, the endpoint array
 * is compacted (first-use order kept; live connections' endpoint indices
 * remapped) and the name map rebuilt.  A pool that sees many distinct
 * endpoints (per-request base URLs) so holds memory only for those in use.
 * An endpoint used again after retiring starts new counters.
 *
 * Concurrency.  One mutex guards the pool; fl_pool_after_fork_child
 * re-initialises it in a forked child.
 */
#include "pool/pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { FREE = 0, ACTIVE = 1, IDLE = 2 };

typedef struct {
    uint64_t id;
    int64_t created, returned;
    uint32_t ep;
    uint8_t state, unhealthy;
    uint32_t next_free;
} conn;

typedef struct {
    char *name;
    size_t len;
    uint64_t hash;
    uint32_t *idle; /* slab indices, top = most recently returned */
    uint32_t n_idle, idle_cap;
    fl_pool_counts c;
} endpoint;

struct fl_pool {
    pthread_mutex_t lock;
    uint32_t max_per_endpoint, max_total;
    int64_t idle_timeout, max_lifetime; /* < 0: none */
    uint64_t next_id, invalid;
    conn *slab;
    uint32_t slab_len, slab_cap, free_head;
    uint32_t *idmap; /* slot -> slab index + 1 (0 empty) */
    size_t idmap_mask, idmap_count;
    endpoint *eps;
    uint32_t n_eps, eps_cap;
    uint32_t *epmap; /* slot -> endpoint index + 1 (0 empty) */
    size_t epmap_mask;
    uint64_t total_live; /* active + idle */
    fl_pool_counts retired; /* counters of retired endpoints (active, idle 0) */
    uint64_t n_retired;
};

#define NO_FREE UINT32_MAX

static uint64_t
fnv1a(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

static size_t
id_slot(uint64_t id, size_t mask)
{
    return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 20) & mask;
}

fl_pool *
fl_pool_create(uint32_t max_per_endpoint, uint32_t max_total, int64_t idle_timeout_ns,
               int64_t max_lifetime_ns)
{
    if (max_per_endpoint == 0 || max_total == 0)
        return NULL;
    fl_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->idmap = calloc(16, sizeof(uint32_t));
    p->epmap = calloc(16, sizeof(uint32_t));
    if (p->idmap == NULL || p->epmap == NULL) {
        free(p->idmap);
        free(p->epmap);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    p->max_per_endpoint = max_per_endpoint;
    p->max_total = max_total;
    p->idle_timeout = idle_timeout_ns;
    p->max_lifetime = max_lifetime_ns;
    p->next_id = 1;
    p->idmap_mask = 15;
    p->epmap_mask = 15;
    p->free_head = NO_FREE;
    return p;
}

void
fl_pool_destroy(fl_pool *p)
{
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < p->n_eps; i++) {
        free(p->eps[i].name);
        free(p->eps[i].idle);
    }
    free(p->eps);
    free(p->epmap);
    free(p->idmap);
    free(p->slab);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void
fl_pool_after_fork_child(fl_pool *p)
{
    pthread_mutex_init(&p->lock, NULL);
}

void
fl_pool_hold_lock(fl_pool *p)
{
    pthread_mutex_lock(&p->lock);
}

void
fl_pool_release_lock(fl_pool *p)
{
    pthread_mutex_unlock(&p->lock);
}

/* -- id map ------------------------------------------------------------------ */

static size_t
idmap_find(const fl_pool *p, uint64_t id)
{
    size_t i = id_slot(id, p->idmap_mask);
    while (p->idmap[i] != 0 && p->slab[p->idmap[i] - 1].id != id)
        i = (i + 1) & p->idmap_mask;
    return i;
}

static conn *
find_conn(const fl_pool *p, uint64_t id)
{
    size_t i = idmap_find(p, id);
    return p->idmap[i] ? &p->slab[p->idmap[i] - 1] : NULL;
}

static int
idmap_grow(fl_pool *p)
{
    size_t cap = (p->idmap_mask + 1) * 2;
    uint32_t *map = calloc(cap, sizeof(uint32_t));
    if (map == NULL)
        return -1;
    for (size_t i = 0; i <= p->idmap_mask; i++) {
        uint32_t v = p->idmap[i];
        if (v == 0)
            continue;
        size_t j = id_slot(p->slab[v - 1].id, cap - 1);
        while (map[j] != 0)
            j = (j + 1) & (cap - 1);
        map[j] = v;
    }
    free(p->idmap);
    p->idmap = map;
    p->idmap_mask = cap - 1;
    return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void
idmap_delete(fl_pool *p, uint64_t id)
{
    size_t mask = p->idmap_mask, i = idmap_find(p, id), j = i;
    if (p->idmap[i] == 0)
        return;
    for (;;) {
        j = (j + 1) & mask;
        if (p->idmap[j] == 0)
            break;
        size_t home = id_slot(p->slab[p->idmap[j] - 1].id, mask);
        /* move j back to i unless its home lies cyclically in (i, j] */
        int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            p->idmap[i] = p->idmap[j];
            i = j;
        }
    }
    p->idmap[i] = 0;
    p->idmap_count--;
}

/* -- endpoints --------------------------------------------------------------- */

static long
find_endpoint(const fl_pool *p, const char *name, size_t len, uint64_t h, size_t *slot)
{
    size_t i = (size_t)h & p->epmap_mask;
    while (p->epmap[i] != 0) {
        const endpoint *e = &p->eps[p->epmap[i] - 1];
        if (e->hash == h && e->len == len && memcmp(e->name, name, len) == 0) {
            *slot = i;
            return (long)(p->epmap[i] - 1);
        }
        i = (i + 1) & p->epmap_mask;
    }
    *slot = i;
    return -1;
}

/* The name map rebuilt from the endpoint array with cap slots (a power of
 * two, > n_eps): in place when cap is its present size (cannot fail), else
 * in a new allocation (-1, map unchanged, when that fails). */
static int
epmap_rebuild(fl_pool *p, size_t cap)
{
    uint32_t *map = p->epmap;
    if (cap == p->epmap_mask + 1)
        memset(map, 0, cap * sizeof(uint32_t));
    else if ((map = calloc(cap, sizeof(uint32_t))) == NULL)
        return -1;
    for (uint32_t e = 0; e < p->n_eps; e++) {
        size_t j = (size_t)p->eps[e].hash & (cap - 1);
        while (map[j] != 0)
            j = (j + 1) & (cap - 1);
        map[j] = e + 1;
    }
    if (map != p->epmap) {
        free(p->epmap);
        p->epmap = map;
        p->epmap_mask = cap - 1;
    }
    return 0;
}

static int
epmap_grow(fl_pool *p)
{
    return epmap_rebuild(p, (p->epmap_mask + 1) * 2);
}

static long
add_endpoint(fl_pool *p, const char *name, size_t len, uint64_t h)
{
    if ((p->n_eps + 1) * 2 > p->epmap_mask + 1 && epmap_grow(p) < 0)
        return -1;
    if (p->n_eps == p->eps_cap) {
        uint32_t cap = p->eps_cap ? p->eps_cap * 2 : 8;
        endpoint *eps = realloc(p->eps, cap * sizeof(endpoint));
        if (eps == NULL)
            return -1;
        p->eps = eps;
        p->eps_cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    endpoint *e = &p->eps[p->n_eps];
    memset(e, 0, sizeof(*e));
    e->name = copy;
    e->len = len;
    e->hash = h;
    size_t slot;
    find_endpoint(p, name, len, h, &slot);
    p->epmap[slot] = ++p->n_eps;
    return (long)(p->n_eps - 1);
}

/* -- connections --------------------------------------------------------------- */

/* now - since > limit (>= 0), exactly: the difference of two ns times can
 * exceed int64 (a user clock jumping across centuries). */
static int
longer_than(int64_t now, int64_t since, int64_t limit)
{
    return now > since && (uint64_t)now - (uint64_t)since > (uint64_t)limit;
}

static int
expired(const fl_pool *p, const conn *c, int64_t now)
{
    if (p->max_lifetime >= 0 && longer_than(now, c->created, p->max_lifetime))
        return 1;
    return c->state == IDLE && p->idle_timeout >= 0 && longer_than(now, c->returned, p->idle_timeout);
}

static void
unstack_idle(endpoint *e, uint32_t slab_index)
{
    for (uint32_t i = e->n_idle; i-- > 0;) {
        if (e->idle[i] == slab_index) {
            memmove(&e->idle[i], &e->idle[i + 1], (e->n_idle - i - 1) * sizeof(uint32_t));
            e->n_idle--;
            return;
        }
    }
}

/* Forget a connection (active or idle); the caller counts why. */
static void
drop_conn(fl_pool *p, conn *c)
{
    endpoint *e = &p->eps[c->ep];
    uint32_t index = (uint32_t)(c - p->slab);
    if (c->state == IDLE) {
        unstack_idle(e, index);
        e->c.idle--;
    } else {
        e->c.active--;
    }
    idmap_delete(p, c->id);
    c->state = FREE;
    c->next_free = p->free_head;
    p->free_head = index;
    p->total_live--;
}

static conn *
new_conn(fl_pool *p, uint32_t ep, int64_t now)
{
    if ((p->idmap_count + 1) * 2 > p->idmap_mask + 1 && idmap_grow(p) < 0)
        return NULL;
    endpoint *e = &p->eps[ep];
    /* Room on the idle stack for every connection of the endpoint, so a
     * return never allocates.  Grown by doubling up to max_per_endpoint, not
     * sized to it: with max_per_endpoint = 2^31 - 1 ("no per-endpoint
     * limit") that was 8 GiB of address space per endpoint. */
    size_t live = (size_t)(e->c.active + e->c.idle) + 1; /* with this one */
    if (e->idle_cap < live) {
        size_t cap = e->idle_cap ? (size_t)e->idle_cap * 2 : 4;
        while (cap < live)
            cap *= 2;
        if (cap > p->max_per_endpoint)
            cap = p->max_per_endpoint;
        uint32_t *idle = realloc(e->idle, cap * sizeof(uint32_t));
        if (idle == NULL)
            return NULL;
        e->idle = idle;
        e->idle_cap = (uint32_t)cap;
    }
    uint32_t index;
    if (p->free_head != NO_FREE) {
        index = p->free_head;
        p->free_head = p->slab[index].next_free;
    } else {
        if (p->slab_len == p->slab_cap) {
            uint32_t cap = p->slab_cap ? p->slab_cap * 2 : 16;
            conn *slab = realloc(p->slab, cap * sizeof(conn));
            if (slab == NULL)
                return NULL;
            p->slab = slab;
            p->slab_cap = cap;
        }
        index = p->slab_len++;
    }
    conn *c = &p->slab[index];
    *c = (conn){.id = p->next_id++, .created = now, .returned = now, .ep = ep, .state = ACTIVE};
    p->idmap[idmap_find(p, c->id)] = index + 1;
    p->idmap_count++;
    p->total_live++;
    return c;
}

int
fl_pool_get(fl_pool *p, const char *name, size_t len, int64_t now, int add_new, uint64_t *id,
            fl_pool_get_result *result)
{
    size_t slot;
    uint64_t h = fnv1a(name, len);
    pthread_mutex_lock(&p->lock);
    long ep = find_endpoint(p, name, len, h, &slot);
    if (ep < 0 && !add_new) {
        *id = 0;
        *result = FL_POOL_NEW_ENDPOINT;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    if (ep < 0 && (ep = add_endpoint(p, name, len, h)) < 0)
        goto oom;
    endpoint *e = &p->eps[ep];
    while (e->n_idle > 0) {
        conn *c = &p->slab[e->idle[e->n_idle - 1]];
        if (expired(p, c, now)) {
            drop_conn(p, c);
            e->c.expired++;
            continue;
        }
        e->n_idle--;
        e->c.idle--;
        e->c.active++;
        e->c.reused++;
        c->state = ACTIVE;
        *id = c->id;
        *result = FL_POOL_REUSED;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    if (e->c.active + e->c.idle >= p->max_per_endpoint || p->total_live >= p->max_total) {
        e->c.rejected++;
        *id = 0;
        *result = FL_POOL_REJECTED;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    conn *c = new_conn(p, (uint32_t)ep, now);
    if (c == NULL)
        goto oom;
    e->c.active++;
    e->c.created++;
    *id = c->id;
    *result = FL_POOL_CREATED;
    pthread_mutex_unlock(&p->lock);
    return 0;
oom:
    pthread_mutex_unlock(&p->lock);
    return -1;
}

fl_pool_status
fl_pool_return(fl_pool *p, uint64_t id, int64_t now)
{
    fl_pool_status status = FL_POOL_OK;
    pthread_mutex_lock(&p->lock);
    conn *c = find_conn(p, id);
    if (c == NULL || c->state != ACTIVE) {
        p->invalid++;
        status = c == NULL ? FL_POOL_UNKNOWN : FL_POOL_NOT_ACTIVE;
    } else if (c->unhealthy) {
        p->eps[c->ep].c.removed++;
        drop_conn(p, c);
        status = FL_POOL_DISCARDED;
    } else if (expired(p, c, now)) {
        p->eps[c->ep].c.expired++;
        drop_conn(p, c);
        status = FL_POOL_DISCARDED;
    } else {
        endpoint *e = &p->eps[c->ep];
        c->state = IDLE;
        c->returned = now;
        e->idle[e->n_idle++] = (uint32_t)(c - p->slab);
        e->c.active--;
        e->c.idle++;
    }
    pthread_mutex_unlock(&p->lock);
    return status;
}

fl_pool_status
fl_pool_remove(fl_pool *p, uint64_t id)
{
    pthread_mutex_lock(&p->lock);
    conn *c = find_conn(p, id);
    if (c == NULL) {
        p->invalid++;
    } else {
        p->eps[c->ep].c.removed++;
        drop_conn(p, c);
    }
    pthread_mutex_unlock(&p->lock);
    return c == NULL ? FL_POOL_UNKNOWN : FL_POOL_OK;
}

fl_pool_status
fl_pool_mark_unhealthy(fl_pool *p, uint64_t id)
{
    pthread_mutex_lock(&p->lock);
    conn *c = find_conn(p, id);
    if (c == NULL) {
        p->invalid++;
    } else if (c->state == IDLE) { /* nobody holds it: drop it now */
        p->eps[c->ep].c.removed++;
        drop_conn(p, c);
    } else {
        c->unhealthy = 1;
    }
    pthread_mutex_unlock(&p->lock);
    return c == NULL ? FL_POOL_UNKNOWN : FL_POOL_OK;
}

int
fl_pool_healthy(fl_pool *p, uint64_t id, int64_t now)
{
    pthread_mutex_lock(&p->lock);
    conn *c = find_conn(p, id);
    int ok = c != NULL && !c->unhealthy && !expired(p, c, now);
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static void
counts_add(fl_pool_counts *to, const fl_pool_counts *c)
{
    to->active += c->active;
    to->idle += c->idle;
    to->created += c->created;
    to->reused += c->reused;
    to->expired += c->expired;
    to->rejected += c->rejected;
    to->removed += c->removed;
}

/* Retire the endpoints with no connection (see the top of the file).  Out
 * of memory for the index remap: nothing is retired this time. */
static void
retire_unused_endpoints(fl_pool *p)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < p->n_eps; i++)
        keep += p->eps[i].c.active + p->eps[i].c.idle > 0;
    if (keep == p->n_eps)
        return;
    uint32_t *remap = malloc((size_t)p->n_eps * sizeof(uint32_t));
    if (remap == NULL)
        return;
    uint32_t j = 0;
    for (uint32_t i = 0; i < p->n_eps; i++) {
        endpoint *e = &p->eps[i];
        if (e->c.active + e->c.idle == 0) {
            counts_add(&p->retired, &e->c);
            p->n_retired++;
            free(e->name);
            free(e->idle);
            continue;
        }
        remap[i] = j;
        if (j != i)
            p->eps[j] = *e;
        j++;
    }
    for (uint32_t k = 0; k < p->slab_len; k++)
        if (p->slab[k].state != FREE)
            p->slab[k].ep = remap[p->slab[k].ep];
    free(remap);
    p->n_eps = j;
    /* give back what thousands of retired endpoints grew (kept on failure) */
    uint32_t eps_cap = 8;
    while (eps_cap < p->n_eps)
        eps_cap *= 2;
    if (eps_cap < p->eps_cap) {
        endpoint *eps = realloc(p->eps, eps_cap * sizeof(endpoint));
        if (eps != NULL) {
            p->eps = eps;
            p->eps_cap = eps_cap;
        }
    }
    size_t map_cap = 16;
    while ((p->n_eps + 1) * 2 > map_cap)
        map_cap *= 2;
    if (map_cap > p->epmap_mask + 1 || epmap_rebuild(p, map_cap) < 0)
        epmap_rebuild(p, p->epmap_mask + 1); /* same size, in place */
}

size_t
fl_pool_cleanup(fl_pool *p, int64_t now)
{
    size_t removed = 0;
    pthread_mutex_lock(&p->lock);
    for (uint32_t ep = 0; ep < p->n_eps; ep++) {
        endpoint *e = &p->eps[ep];
        for (uint32_t i = e->n_idle; i-- > 0;) {
            conn *c = &p->slab[e->idle[i]];
            if (expired(p, c, now)) {
                drop_conn(p, c);
                e->c.expired++;
                removed++;
            }
        }
    }
    retire_unused_endpoints(p);
    pthread_mutex_unlock(&p->lock);
    return removed;
}

/* One counter of the pool, read under its lock. */
static uint64_t
read_locked(fl_pool *p, const uint64_t *counter)
{
    pthread_mutex_lock(&p->lock);
    uint64_t n = *counter;
    pthread_mutex_unlock(&p->lock);
    return n;
}

uint64_t
fl_pool_retired_endpoints(fl_pool *p)
{
    return read_locked(p, &p->n_retired);
}

long
fl_pool_endpoint_of(fl_pool *p, uint64_t id, char *buf, size_t cap)
{
    long len = -1;
    pthread_mutex_lock(&p->lock);
    conn *c = find_conn(p, id);
    if (c != NULL) {
        const endpoint *e = &p->eps[c->ep];
        len = (long)e->len;
        if (cap > 0) {
            size_t n = e->len < cap - 1 ? e->len : cap - 1;
            memcpy(buf, e->name, n);
            buf[n] = '\0';
        }
    }
    pthread_mutex_unlock(&p->lock);
    return len;
}

uint64_t
fl_pool_invalid_ops(fl_pool *p)
{
    return read_locked(p, &p->invalid);
}

void
fl_pool_totals(fl_pool *p, fl_pool_counts *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->retired;
    for (uint32_t i = 0; i < p->n_eps; i++)
        counts_add(out, &p->eps[i].c);
    pthread_mutex_unlock(&p->lock);
}

size_t
fl_pool_endpoint_count(fl_pool *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->n_eps;
    pthread_mutex_unlock(&p->lock);
    return n;
}

size_t
fl_pool_endpoint_stats(fl_pool *p, size_t i, char *buf, size_t cap, fl_pool_counts *out)
{
    size_t len = 0;
    pthread_mutex_lock(&p->lock);
    if (i < p->n_eps) {
        const endpoint *e = &p->eps[i];
        len = e->len;
        if (cap > 0) {
            size_t n = len < cap - 1 ? len : cap - 1;
            memcpy(buf, e->name, n);
            buf[n] = '\0';
        }
        *out = e->c;
    } else {
        memset(out, 0, sizeof(*out));
    }
    pthread_mutex_unlock(&p->lock);
    return len;
}
