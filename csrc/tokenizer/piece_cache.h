/*
 * piece_cache.h - a bounded, thread-safe cache of pre-token ("piece")
 * bytes -> token ids, shared by every call on one encoder.
 *
 * Words repeat across documents, and a piece that is not a single token
 * costs a BPE merge (many vocabulary lookups); a hit replaces that with one
 * or two cache-line reads.  Entries are exact: the full piece bytes are
 * compared, and the ids stored are exactly what the encoder computed for
 * the piece.
 *
 * Layout: a 2-way set-associative table (ways i and i ^ 1) of fixed-size
 * entries, each a run of 64-bit words: a sequence word, a meta word (piece
 * length, id count), the piece bytes zero-padded to key_words words, and
 * the ids two per word (or, for a piece with more ids than fit, its count
 * alone: such an entry serves counting, and encoding falls back to the
 * per-call memo).  Two shapes are used: "short" entries of one cache
 * line (pieces up to FL_PC_SHORT_LEN bytes, FL_PC_SHORT_IDS ids) and "long"
 * entries of 256 bytes (up to FL_PC_LONG_LEN bytes, FL_PC_LONG_IDS ids).
 * A lookup's key words are read from the piece with 8-byte loads (the
 * last one masked) when the caller says enough bytes follow it (the
 * _room forms), else from a zero-padded copy; a count asks for no ids.
 *
 * Concurrency: each entry is guarded by its own seqlock.  Readers never
 * block or write (odd or changed sequence = miss); a writer takes an entry
 * with one compare-and-swap and skips it when another writer holds it.
 * Every shared word is accessed with atomic builtins, so there is no data
 * race, no lock to inherit across fork(), and no way for a reader to
 * accept a torn entry.  Replacement: an empty way, else the way picked by
 * a hash bit.
 */
#ifndef FL_TOKENIZER_PIECE_CACHE_H
#define FL_TOKENIZER_PIECE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FL_PC_SHORT_LEN 24 /* 3 key words, 3 id words: 8 words = 64 bytes */
#define FL_PC_SHORT_IDS 6
#define FL_PC_LONG_LEN 128 /* 16 key words, 14 id words: 32 words = 256 bytes */
#define FL_PC_LONG_IDS 28
#define FL_PC_MAX_IDS FL_PC_LONG_IDS
#define FL_PC_COUNT_ONLY ((uint64_t)1 << 40) /* meta flag: no ids stored */

typedef struct fl_piece_cache {
    uint64_t *words;   /* entries, 64-byte aligned, inside mem */
    void *mem;
    uint64_t mask;     /* entries - 1 */
    unsigned key_words, id_words; /* entry: 2 + key_words + id_words words */
} fl_piece_cache;

/* 2^log2_entries entries (log2_entries in 1..24) for pieces up to max_len
 * bytes (FL_PC_SHORT_LEN or FL_PC_LONG_LEN); NULL when out of memory or
 * out of range.  Memory is zeroed lazily by the OS (calloc). */
fl_piece_cache *fl_piece_cache_new(unsigned log2_entries, size_t max_len);
void fl_piece_cache_free(fl_piece_cache *c);
/* Empty every entry; safe while other threads use the cache. */
void fl_piece_cache_clear(fl_piece_cache *c);
size_t fl_piece_cache_entries(const fl_piece_cache *c);
size_t fl_piece_cache_max_len(const fl_piece_cache *c);
size_t fl_piece_cache_max_ids(const fl_piece_cache *c);

/* Ask for every line of the cache (prefetches only; see fl_encoder's
 * warm-up). */
static inline void fl_piece_cache_warm(const fl_piece_cache *c)
{
    const char *w = (const char *)c->words;
    size_t bytes = ((size_t)c->mask + 1) * 8 * (2 + c->key_words + c->id_words);
    for (size_t i = 0; i < bytes; i += 64)
        __builtin_prefetch(w + i);
}

#define FL_PC_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define FL_PC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline uint64_t *fl_pc_way(const fl_piece_cache *c, uint64_t h, unsigned way)
{
    return c->words + (((h >> 24) & c->mask) ^ way) * (2 + c->key_words + c->id_words);
}

/* The key words of piece p[0..n) (zero-padded to whole words): key[0..used).
 * With room >= 8 * used readable bytes at p (the encoder knows how much of
 * the text follows a piece) they are plain 8-byte loads, the last one
 * masked: no call to memcpy with a variable length, and no stack copy
 * read back across stores of other widths (a store-forwarding stall). */
static inline __attribute__((always_inline)) void
fl_pc_key(uint64_t *key, const uint8_t *p, size_t n, size_t room, unsigned used)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (room >= 8 * (size_t)used) {
        for (unsigned i = 0; i < used; i++)
            memcpy(&key[i], p + 8 * i, 8);
        const unsigned keep = (unsigned)(n - 8 * (size_t)(used - 1)); /* 1..8 */
        key[used - 1] &= ~0ull >> (64 - 8 * keep);
        return;
    }
#endif
    (void)room;
    key[used - 1] = 0;
    memcpy(key, p, n);
}

/* Look piece p[0..n) (1 <= n <= max_len, hash h; room >= n bytes readable
 * at p) up: its token count, or -1 on a miss.  *has_ids says whether the
 * ids were stored (then they are in ids[0..count), room for FL_PC_MAX_IDS,
 * unless ids is NULL: a count, the ids not copied) or only the count (a
 * piece with more ids than an entry holds). */
static inline __attribute__((always_inline)) int
fl_pc_get_shaped(const fl_piece_cache *c, const uint8_t *p, size_t n, size_t room, uint64_t h,
                 uint32_t *ids, int *has_ids, const unsigned kw, const unsigned iw)
{
    uint64_t key[FL_PC_LONG_LEN / 8];
    if (n == 0 || n > 8 * (size_t)kw)
        return -1;
    const unsigned used = (unsigned)((n + 7) / 8); /* key words that hold the piece */
    fl_pc_key(key, p, n, room, used);
    for (unsigned way = 0; way < 2; way++) {
        uint64_t *e = fl_pc_way(c, h, way);
        uint64_t s1 = __atomic_load_n(&e[0], __ATOMIC_ACQUIRE);
        uint64_t meta = FL_PC_LOAD(&e[1]);
        if ((s1 & 1) || (meta & 0xffff) != n)
            continue;
        unsigned i = 0;
        while (i < used && FL_PC_LOAD(&e[2 + i]) == key[i])
            i++;
        if (i < used)
            continue;
        unsigned count = (unsigned)((meta >> 16) & 0xffffff);
        int stored = !(meta & FL_PC_COUNT_ONLY);
        if (count == 0 || (stored && count > 2 * iw))
            continue;
        const int copy = stored && ids != NULL;
        uint64_t w[FL_PC_MAX_IDS / 2];
        for (unsigned j = 0; copy && j < (count + 1) / 2; j++)
            w[j] = FL_PC_LOAD(&e[2 + kw + j]);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (FL_PC_LOAD(&e[0]) != s1)
            continue; /* written meanwhile: a miss */
        for (unsigned j = 0; copy && j < count; j++)
            ids[j] = (uint32_t)(w[j >> 1] >> (32 * (j & 1)));
        *has_ids = stored;
        return (int)count;
    }
    return -1;
}

/* Store the ids of piece p (ignored unless 1 <= n <= max_len and
 * count >= 1); a piece with more ids than an entry holds gets a count-only
 * entry. */
static inline __attribute__((always_inline)) void
fl_pc_put_shaped(fl_piece_cache *c, const uint8_t *p, size_t n, size_t room, uint64_t h,
                 const uint32_t *ids, size_t count, const unsigned kw, const unsigned iw)
{
    if (n == 0 || n > 8 * (size_t)kw || count == 0 || count > 0xffffff)
        return;
    const int stored = count <= 2 * (size_t)iw; /* else remember the count only */
    uint64_t *e = fl_pc_way(c, h, 0);
    if (FL_PC_LOAD(&e[1]) != 0) {
        uint64_t *other = fl_pc_way(c, h, 1);
        if (FL_PC_LOAD(&other[1]) == 0 || ((h >> 62) & 1))
            e = other;
    }
    uint64_t s = FL_PC_LOAD(&e[0]);
    if ((s & 1) || !__atomic_compare_exchange_n(&e[0], &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                                __ATOMIC_RELAXED))
        return; /* another writer has it: skip (a cache may forget) */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    const unsigned used = (unsigned)((n + 7) / 8);
    uint64_t key[FL_PC_LONG_LEN / 8], w[FL_PC_MAX_IDS / 2] = {0};
    fl_pc_key(key, p, n, room, used);
    for (size_t j = 0; stored && j < count; j++)
        w[j >> 1] |= (uint64_t)ids[j] << (32 * (j & 1));
    FL_PC_STORE(&e[1], (uint64_t)n | ((uint64_t)count << 16) | (stored ? 0 : FL_PC_COUNT_ONLY));
    for (unsigned i = 0; i < used; i++) /* readers compare only these */
        FL_PC_STORE(&e[2 + i], key[i]);
    for (unsigned j = 0; stored && j < (count + 1) / 2; j++)
        FL_PC_STORE(&e[2 + kw + j], w[j]);
    __atomic_store_n(&e[0], s + 2, __ATOMIC_RELEASE);
}

/* The two shapes with constant sizes (the compiler unrolls the compares);
 * the caller knows which shape c has (short: max_len FL_PC_SHORT_LEN).
 * The _room forms take how many bytes are readable at p (>= n): with
 * enough of them the key is read with whole-word loads. */
static inline int fl_piece_cache_get_short_room(const fl_piece_cache *c, const uint8_t *p, size_t n,
                                                size_t room, uint64_t h, uint32_t *ids, int *has_ids)
{
    return fl_pc_get_shaped(c, p, n, room, h, ids, has_ids, FL_PC_SHORT_LEN / 8, FL_PC_SHORT_IDS / 2);
}
static inline int fl_piece_cache_get_long_room(const fl_piece_cache *c, const uint8_t *p, size_t n,
                                               size_t room, uint64_t h, uint32_t *ids, int *has_ids)
{
    return fl_pc_get_shaped(c, p, n, room, h, ids, has_ids, FL_PC_LONG_LEN / 8, FL_PC_LONG_IDS / 2);
}
static inline void fl_piece_cache_put_short_room(fl_piece_cache *c, const uint8_t *p, size_t n,
                                                 size_t room, uint64_t h, const uint32_t *ids,
                                                 size_t count)
{
    fl_pc_put_shaped(c, p, n, room, h, ids, count, FL_PC_SHORT_LEN / 8, FL_PC_SHORT_IDS / 2);
}
static inline void fl_piece_cache_put_long_room(fl_piece_cache *c, const uint8_t *p, size_t n,
                                                size_t room, uint64_t h, const uint32_t *ids,
                                                size_t count)
{
    fl_pc_put_shaped(c, p, n, room, h, ids, count, FL_PC_LONG_LEN / 8, FL_PC_LONG_IDS / 2);
}

/* Any shape, nothing readable past the piece (room n; tests, cold paths). */
static inline int fl_piece_cache_get(const fl_piece_cache *c, const uint8_t *p, size_t n,
                                     uint64_t h, uint32_t *ids, int *has_ids)
{
    return c->key_words == FL_PC_SHORT_LEN / 8 ? fl_piece_cache_get_short_room(c, p, n, n, h, ids, has_ids)
                                               : fl_piece_cache_get_long_room(c, p, n, n, h, ids, has_ids);
}
static inline void fl_piece_cache_put(fl_piece_cache *c, const uint8_t *p, size_t n, uint64_t h,
                                      const uint32_t *ids, size_t count)
{
    if (c->key_words == FL_PC_SHORT_LEN / 8)
        fl_piece_cache_put_short_room(c, p, n, n, h, ids, count);
    else
        fl_piece_cache_put_long_room(c, p, n, n, h, ids, count);
}

#endif
