/*
 * piece_cache.h - a bounded, thread-safe cache of pre-token ("piece")
 * bytes -> token ids, shared by every call on one encoder.
 *
 * Words repeat across documents, and a piece that is not a single token
 * costs a BPE merge (many vocabulary lookups); a hit replaces that with one
 * cache-line read.  Entries are exact: the full piece bytes are compared,
 * and the ids stored are exactly what the encoder computed for the piece.
 *
 * Layout: 2-way set-associative table of 64-byte entries (one cache line
 * each: a sequence word, length/count, up to FL_PC_MAX_LEN piece bytes and
 * up to FL_PC_MAX_IDS ids).  Each entry is guarded by its own seqlock:
 * readers never block or write (odd or changed sequence = miss), writers
 * take an entry with one compare-and-swap and skip it when another writer
 * holds it.  All shared words are accessed with atomic builtins, so there
 * is no data race (ThreadSanitizer-clean), no lock to inherit across
 * fork(), and no way for a reader to see a torn entry.
 */
#ifndef FL_TOKENIZER_PIECE_CACHE_H
#define FL_TOKENIZER_PIECE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FL_PC_MAX_LEN 24 /* piece bytes an entry holds */
#define FL_PC_MAX_IDS 6  /* token ids an entry holds */

typedef struct {
    uint64_t seq;   /* even: stable; odd: being written */
    uint64_t meta;  /* piece length (bits 0-7, 0 = empty), id count (bits 8-15) */
    uint64_t key[3]; /* piece bytes, zero-padded */
    uint64_t ids[3]; /* FL_PC_MAX_IDS ids, two per word */
} fl_pc_entry;

typedef struct fl_piece_cache {
    fl_pc_entry *e;  /* 64-byte aligned, inside mem */
    void *mem;
    uint64_t mask;   /* entries - 1 */
} fl_piece_cache;

/* 2^log2_entries entries of 64 bytes (log2_entries in 1..24); NULL when
 * out of memory or out of range. */
fl_piece_cache *fl_piece_cache_new(unsigned log2_entries);
void fl_piece_cache_free(fl_piece_cache *c);
/* Empty every entry; safe while other threads use the cache. */
void fl_piece_cache_clear(fl_piece_cache *c);
size_t fl_piece_cache_entries(const fl_piece_cache *c);

#define FL_PC_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define FL_PC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline void fl_pc_key(const uint8_t *p, size_t n, uint64_t key[3])
{
    uint8_t b[FL_PC_MAX_LEN] = {0};
    memcpy(b, p, n);
    memcpy(key, b, sizeof b);
}

/* The two ways of piece hash h: entries i and i ^ 1 (one 128-byte pair). */
static inline fl_pc_entry *fl_pc_way(const fl_piece_cache *c, uint64_t h, unsigned way)
{
    return &c->e[((h >> 24) & c->mask) ^ way];
}

/* Look piece p[0..n) (1 <= n <= FL_PC_MAX_LEN, hash h) up: its token
 * count with the ids in ids[0..count), or -1 on a miss. */
static inline int fl_piece_cache_get(const fl_piece_cache *c, const uint8_t *p, size_t n,
                                     uint64_t h, uint32_t ids[FL_PC_MAX_IDS])
{
    uint64_t key[3];
    fl_pc_key(p, n, key);
    for (unsigned way = 0; way < 2; way++) {
        fl_pc_entry *e = fl_pc_way(c, h, way);
        uint64_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        uint64_t meta = FL_PC_LOAD(&e->meta);
        if ((s1 & 1) || (meta & 0xff) != n || FL_PC_LOAD(&e->key[0]) != key[0] ||
            FL_PC_LOAD(&e->key[1]) != key[1] || FL_PC_LOAD(&e->key[2]) != key[2])
            continue;
        uint64_t w[3] = {FL_PC_LOAD(&e->ids[0]), FL_PC_LOAD(&e->ids[1]), FL_PC_LOAD(&e->ids[2])};
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (FL_PC_LOAD(&e->seq) != s1)
            continue; /* written meanwhile: treat as a miss */
        int count = (int)((meta >> 8) & 0xff);
        for (int i = 0; i < count; i++)
            ids[i] = (uint32_t)(w[i >> 1] >> (32 * (i & 1)));
        return count;
    }
    return -1;
}

/* Store the ids of piece p (1 <= count <= FL_PC_MAX_IDS, else ignored).
 * Fills an empty way, else replaces the way picked by a hash bit. */
static inline void fl_piece_cache_put(fl_piece_cache *c, const uint8_t *p, size_t n, uint64_t h,
                                      const uint32_t *ids, size_t count)
{
    if (n == 0 || n > FL_PC_MAX_LEN || count == 0 || count > FL_PC_MAX_IDS)
        return;
    fl_pc_entry *e = fl_pc_way(c, h, 0);
    if (FL_PC_LOAD(&e->meta) != 0) {
        fl_pc_entry *other = fl_pc_way(c, h, 1);
        if (FL_PC_LOAD(&other->meta) == 0 || ((h >> 62) & 1))
            e = other;
    }
    uint64_t s = FL_PC_LOAD(&e->seq);
    if ((s & 1) || !__atomic_compare_exchange_n(&e->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED))
        return; /* another writer has it: skip, a cache may forget */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    uint64_t key[3], w[3] = {0, 0, 0};
    fl_pc_key(p, n, key);
    for (size_t i = 0; i < count; i++)
        w[i >> 1] |= (uint64_t)ids[i] << (32 * (i & 1));
    FL_PC_STORE(&e->meta, (uint64_t)n | ((uint64_t)count << 8));
    for (int i = 0; i < 3; i++) {
        FL_PC_STORE(&e->key[i], key[i]);
        FL_PC_STORE(&e->ids[i], w[i]);
    }
    __atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

#endif
