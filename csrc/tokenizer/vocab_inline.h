/*
 * vocab_inline.h - the vocabulary's layout and its hot lookups, inline so
 * the encoder and the BPE merge pay no call per lookup.  Private to
 * csrc/tokenizer; use the functions declared in vocab.h.
 */
#ifndef FL_TOKENIZER_VOCAB_INLINE_H
#define FL_TOKENIZER_VOCAB_INLINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FL_HOT_INLINE static inline __attribute__((always_inline))
#else
#define FL_HOT_INLINE static inline
#endif

#define FL_NO_RANK UINT32_MAX
#define FL_MAX_TOKEN_LEN 65535u

/* 16 bytes: the first 12 token bytes inline, so a lookup of a token of up
 * to 12 bytes (nearly all of them) touches one cache line and no arena.
 * A longer token's slot names its record in long_keys instead of its
 * rank: the record is the rank, the length and all the token's bytes, so
 * the lookup reads one more line, not a rank-indexed offset and then the
 * arena.  (Until the fourteenth pass tokens of 9..12 bytes had records
 * too: one dependent line more for 1 in 7 lookups of prose.) */
typedef struct {
    uint64_t head; /* first min(len, 8) bytes, little-endian, zero-padded */
    uint32_t mid;  /* len 9..12: bytes 8..len, zero-padded; len > 12: 32 hash bits; else 0 */
    uint32_t word; /* bits 0..5: min(len, 63), 0 = empty slot; bits 6..31: the rank
                      (len <= 12) or the record's offset in long_keys / 4 (len > 12) */
} fl_slot;

#define FL_SLOT_INLINE 12 /* the longest token whose slot holds its rank */
#define FL_SLOT_LENC(len) ((len) < 63 ? (uint32_t)(len) : 63u)

struct fl_vocab {
    fl_slot *slots;
    size_t slots_bytes; /* of the mapping when mapped (> 0), else 0 */
    uint64_t mask;
    uint8_t *arena;
    size_t arena_len;
    uint32_t *tok_off;  /* by rank */
    uint16_t *tok_len;  /* by rank; 0 = rank absent */
    uint32_t rank_cap;  /* size of tok_off/tok_len */
    uint32_t max_rank;
    size_t count;
    uint32_t byte_rank[256];
    uint32_t *pair_rank; /* 65536 entries, index a<<8|b */
    int borrowed;        /* arrays point into a caller-owned blob (fl_vocab_from_blob) */
    uint64_t *filter;    /* FL_FILTER_BITS-bit hash filter of the tokens longer than 2 bytes */
    uint8_t *long_keys;  /* records of the tokens over FL_SLOT_INLINE bytes, 4-aligned: rank (4
                            bytes), length (4 bytes), then the bytes */
    size_t long_keys_len, long_keys_cap;
};

/* A one-hash Bloom filter (128 KB, stays in cache) in front of the table:
 * most failed lookups, which the BPE merge makes all the time, are answered
 * without touching the multi-megabyte table.  Never a false "absent". */
#define FL_FILTER_LOG2 20
#define FL_FILTER_WORDS ((size_t)1 << (FL_FILTER_LOG2 - 6))

/* ---- hashing ---------------------------------------------------------- */

static inline uint64_t fl_vload64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t fl_vload32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static inline uint64_t fl_vmix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The first min(n, 8) bytes of p as a little-endian integer, zero-padded,
 * reading only p[0..n). */
static inline uint64_t fl_vhead_bytes(const uint8_t *p, size_t n)
{
    if (n >= 8)
        return fl_vload64(p);
    if (n >= 4)
        return fl_vload32(p) | (fl_vload32(p + n - 4) << (8 * (n - 4)));
    if (n > 0)
        return (uint64_t)p[0] | ((uint64_t)p[n >> 1] << (8 * (n >> 1))) |
               ((uint64_t)p[n - 1] << (8 * (n - 1)));
    return 0;
}

static const uint64_t FL_VK1 = 0xa0761d6478bd642full, FL_VK2 = 0xe7037ed1a0b428dbull,
                      FL_VK3 = 0x8ebc6af09c88c6e3ull;

/* Bytes 8..min(n, 16) of p as a little-endian integer, zero-padded (0 for
 * n <= 8), reading only p[0..n). */
static inline uint64_t fl_vtail_bytes(const uint8_t *p, size_t n)
{
    return n > 8 ? fl_vhead_bytes(p + 8, n < 16 ? n - 8 : 8) : 0;
}

/* The hash of a key of up to FL_SLOT_INLINE bytes from its head and tail
 * words: one form for every such length, so a caller that can read 16
 * bytes hashes a piece of 1..12 bytes with no branch on its length.
 * (Longer keys keep the two-round form below: this form for 13..16 bytes
 * measured 2-4% slower on CJK text, where such pieces are many.) */
FL_HOT_INLINE uint64_t fl_vhash_short(uint64_t head, uint64_t tail, size_t n)
{
    return fl_vmix(head ^ FL_VK1, tail ^ (uint64_t)n ^ FL_VK2);
}

FL_HOT_INLINE uint64_t fl_vhash_key(const uint8_t *p, size_t n, uint64_t head)
{
    if (n <= FL_SLOT_INLINE)
        return fl_vhash_short(head, fl_vtail_bytes(p, n), n);
    uint64_t h = FL_VK1 ^ ((uint64_t)n * FL_VK2);
    const uint8_t *q = p + 8;
    size_t rest = n - 8;
    h = fl_vmix(head ^ FL_VK3, h);
    while (rest > 16) {
        h = fl_vmix(fl_vload64(q) ^ FL_VK2, fl_vload64(q + 8) ^ h);
        q += 16;
        rest -= 16;
    }
    /* 1..16 remaining bytes: two overlapping loads ending at p + n */
    uint64_t a = rest > 8 ? fl_vload64(q) : fl_vhead_bytes(q, rest);
    uint64_t b = rest > 8 ? fl_vload64(q + rest - 8) : 0;
    return fl_vmix(a ^ FL_VK3, b ^ h ^ FL_VK1) ^ h;
}

static inline uint64_t fl_vocab_hash(const uint8_t *bytes, size_t len)
{
    return fl_vhash_key(bytes, len, fl_vhead_bytes(bytes, len));
}

/* a[8..len) == b[8..len) for len > 8 (the heads are already equal), in
 * 8-byte loads that stay inside both: the last one ends at len and may
 * overlap the head or the previous one. */
FL_HOT_INLINE int fl_vtail_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    size_t i = 8;
    while (len - i > 8) {
        if (fl_vload64(a + i) != fl_vload64(b + i))
            return 0;
        i += 8;
    }
    return fl_vload64(a + len - 8) == fl_vload64(b + len - 8);
}

/* The slot where the probe for hash h starts. */
static inline uint64_t fl_vocab_home(const fl_vocab *v, uint64_t h) { return (h >> 16) & v->mask; }

static inline void fl_vocab_prefetch(const fl_vocab *v, uint64_t h)
{
    __builtin_prefetch(&v->slots[fl_vocab_home(v, h)]);
}

/* The lookup with the head word already known: head == fl_vhead_bytes(bytes,
 * len) (a caller that can read 8 bytes at bytes computes it without
 * branching on len), h == fl_vocab_hash(bytes, len); 1 <= len. */
/* The rank of a key of 1..FL_SLOT_INLINE bytes from its head and tail
 * words (fl_vtail_bytes) and hash h: one path for every such length (the
 * slot's mid word is the tail's low half, 0 up to 8 bytes), so nothing
 * branches on the length.  Tokens of 1 and 2 bytes are in the table too. */
FL_HOT_INLINE uint32_t fl_vocab_rank_short(const fl_vocab *v, uint64_t head, uint64_t tail, size_t len,
                                           uint64_t h)
{
    uint64_t bit = h >> (64 - FL_FILTER_LOG2);
    if (!(v->filter[bit >> 6] & (1ull << (bit & 63))))
        return FL_NO_RANK;
    uint64_t i = fl_vocab_home(v, h);
    const uint64_t want = tail | (uint64_t)len << 32;
    for (;;) {
        const fl_slot *s = &v->slots[i];
        uint64_t key = (uint64_t)s->mid | (uint64_t)s->word << 32;
        if (s->head == head && (key & 0x3fffffffffull) == want)
            return s->word >> 6;
        if ((s->word & 63) == 0)
            return FL_NO_RANK;
        i = (i + 1) & v->mask;
    }
}

FL_HOT_INLINE uint32_t fl_vocab_rank_head(const fl_vocab *v, const uint8_t *bytes, size_t len,
                                          uint64_t head, uint64_t h)
{
    if (len <= FL_SLOT_INLINE) /* bytes 8..len: the top len - 8 bytes of the word ending at len */
        return fl_vocab_rank_short(v, head,
                                   len > 8 ? (uint32_t)fl_vload32(bytes + len - 4) >> (8 * (FL_SLOT_INLINE - len)) : 0,
                                   len, h);
    if (len > FL_MAX_TOKEN_LEN)
        return FL_NO_RANK;
    uint64_t bit = h >> (64 - FL_FILTER_LOG2);
    if (!(v->filter[bit >> 6] & (1ull << (bit & 63))))
        return FL_NO_RANK;
    uint64_t i = fl_vocab_home(v, h);
    const uint32_t mid = (uint32_t)h, lenc = FL_SLOT_LENC(len);
    for (;;) {
        const fl_slot *s = &v->slots[i];
        if (s->head == head && s->mid == mid && (s->word & 63) == lenc) {
            const uint8_t *rec = v->long_keys + (size_t)(s->word >> 6) * 4;
            if (fl_vload32(rec + 4) == len && fl_vtail_equal(rec + 8, bytes, len))
                return (uint32_t)fl_vload32(rec);
        } else if ((s->word & 63) == 0) {
            return FL_NO_RANK;
        }
        i = (i + 1) & v->mask;
    }
}

FL_HOT_INLINE uint32_t fl_vocab_rank_hashed(const fl_vocab *v, const uint8_t *bytes, size_t len, uint64_t h)
{
    if (len == 1)
        return v->byte_rank[bytes[0]];
    if (len == 2)
        return v->pair_rank[(bytes[0] << 8) | bytes[1]];
    if (len == 0)
        return FL_NO_RANK;
    return fl_vocab_rank_head(v, bytes, len, fl_vhead_bytes(bytes, len), h);
}

static inline uint32_t fl_vocab_rank(const fl_vocab *v, const uint8_t *bytes, size_t len)
{
    if (len <= 2)
        return len == 0 ? FL_NO_RANK : fl_vocab_rank_hashed(v, bytes, len, 0);
    return fl_vocab_rank_hashed(v, bytes, len, fl_vocab_hash(bytes, len));
}

static inline uint32_t fl_vocab_pair_rank(const fl_vocab *v, uint8_t a, uint8_t b)
{
    return v->pair_rank[((unsigned)a << 8) | b];
}

static inline uint32_t fl_vocab_byte_rank(const fl_vocab *v, uint8_t b) { return v->byte_rank[b]; }

/* Ask for the lines a long text will probe at random in the vocabulary's
 * small structures: the whole filter (128 KB) and the pair ranks of pairs
 * led by a printable ASCII byte (95 rows of 1 KB).  Prefetches only: no
 * load waits, nothing is written. */
static inline void fl_vocab_warm(const fl_vocab *v)
{
    const char *f = (const char *)v->filter;
    for (size_t i = 0; i < FL_FILTER_WORDS * sizeof *v->filter; i += 64)
        __builtin_prefetch(f + i);
    const char *pr = (const char *)(v->pair_rank + ((size_t)0x20 << 8));
    for (size_t i = 0; i < (size_t)(0x7f - 0x20) * 256 * sizeof *v->pair_rank; i += 64)
        __builtin_prefetch(pr + i);
}


#endif
