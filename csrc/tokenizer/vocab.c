/*
 * vocab.c - a BPE vocabulary: token bytes <-> rank.
 *
 * How it works: all token bytes live in one arena; lookup by rank is two
 * arrays (arena offset, length).  Lookup by bytes is an open-addressing
 * hash table (linear probing, load <= 1/2) of 16-byte slots carrying the
 * first 12 token bytes, the length and the rank, so a token of up to 12
 * bytes is found in one cache line (vocab_inline.h).  A longer token's
 * slot holds its first 8 bytes, 32 more hash bits and, instead of its
 * rank, the offset of a record in long_keys (rank, length, then the
 * token's bytes), so its lookup reads one more line rather than a
 * rank-indexed offset and then the arena.
 * One- and two-byte tokens also get direct tables (the BPE merge asks for
 * pair ranks more than anything else), and a 1 Mbit filter answers most
 * failed lookups.  The hash is a small multiply-mix over 8/16-byte loads
 * (wyhash-style idea, written from scratch).
 *
 * Parsing a .tiktoken file is one forward pass: each line's base64 is
 * decoded four characters per step, its rank matched against the expected
 * next rank (kept as decimal text) before falling back to reading digits,
 * and the token is hashed while hot, its slot prefetched and inserted a
 * few tokens later; the table is sized from the file length and rebuilt
 * at the exact size if the count disagrees.  A prebuilt form (the tables
 * as they are in memory, checksummed) lets later processes mmap instead of
 * parsing.  Everything is immutable after construction.
 */
#include "tokenizer/vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FL_MAX_RANK (1u << 26)

/* ---- construction ------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *msg, size_t line)
{
    if (err && errlen) {
        if (line)
            snprintf(err, errlen, "%s (line %zu)", msg, line);
        else
            snprintf(err, errlen, "%s", msg);
    }
}

/* The hash table is the one large, randomly accessed array: map it
 * directly (zero-filled by the kernel, 2 MB aligned) or fall back to calloc.
 * No MADV_HUGEPAGE here: with the common THP setting (defrag=madvise) a
 * fault in an madvised range compacts memory synchronously when no huge
 * page is free, and a first-run load measured bimodal, 18 ms or 36 ms
 * (36 ms whenever recently written files had fragmented memory); with 4 KB
 * pages it is a steady 23 ms.  table_advise_built asks once the table is
 * filled.  Tables from the prebuilt file use the page cache's folios (2 MB
 * ones when the loader's advice applied). */
#define HUGE_PAGE ((size_t)2 << 20)
static void *table_alloc(size_t bytes, size_t *mapped)
{
    *mapped = 0;
#if defined(MAP_ANONYMOUS)
    if (bytes >= HUGE_PAGE) {
        size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        uint8_t *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw != MAP_FAILED) {
            uintptr_t aligned = ((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
            size_t head = aligned - (uintptr_t)raw;
            if (head)
                munmap(raw, head);
            if (HUGE_PAGE - head)
                munmap((uint8_t *)aligned + len, HUGE_PAGE - head);
            *mapped = len;
            return (void *)aligned;
        }
    }
#endif
    return calloc(1, bytes);
}

/* Once the table is built (every page of it already faulted with 4 KB
 * pages), ask for huge pages: nothing is allocated or compacted now, and
 * khugepaged collapses the table in the background (here 16 MB per 10 s),
 * so a process that parses (a first run, a read-only cache directory)
 * probes a huge-page table from then on, as one that maps the prebuilt
 * file does (its page cache is advised by the loader).  Advising before
 * the table is filled would compact memory on the loading thread (see
 * table_alloc). */
static void table_advise_built(void *p, size_t mapped)
{
#if defined(MADV_HUGEPAGE)
    if (mapped)
        (void)madvise(p, mapped, MADV_HUGEPAGE);
#else
    (void)p;
    (void)mapped;
#endif
}

static void table_free(void *p, size_t mapped)
{
    if (mapped)
        munmap(p, mapped);
    else
        free(p);
}

/* The slot count for n tokens: a power of two, at most half full.
 * (Measured: 3/4 full with probes starting at cache-line boundaries
 * halves the table but is 5-15% slower to encode with.) */
static size_t table_slots(size_t n_tokens)
{
    size_t cap = 16;
    while (cap < n_tokens * 2 + 2)
        cap <<= 1;
    return cap;
}

/* The lookup tables (hash table, pair table, filter) for n_tokens tokens,
 * all empty.  0, or -1 when out of memory. */
static int vocab_alloc_tables(fl_vocab *v, size_t n_tokens)
{
    size_t cap = table_slots(n_tokens);
    v->slots = table_alloc(cap * sizeof *v->slots, &v->slots_bytes);
    v->pair_rank = malloc(65536 * sizeof *v->pair_rank);
    v->filter = calloc(FL_FILTER_WORDS, sizeof *v->filter);
    if (!v->slots || !v->pair_rank || !v->filter)
        return -1;
    memset(v->pair_rank, 0xff, 65536 * sizeof *v->pair_rank);
    memset(v->byte_rank, 0xff, sizeof v->byte_rank);
    v->mask = cap - 1;
    v->max_rank = FL_NO_RANK;
    return 0;
}

static int ensure_rank_cap(fl_vocab *v, uint32_t rank)
{
    if (rank < v->rank_cap)
        return 0;
    uint32_t cap = v->rank_cap ? v->rank_cap : 1024;
    while (cap <= rank)
        cap *= 2;
    uint32_t *off = realloc(v->tok_off, (size_t)cap * sizeof *off);
    if (!off)
        return -1;
    v->tok_off = off;
    uint16_t *len = realloc(v->tok_len, (size_t)cap * sizeof *len);
    if (!len)
        return -1;
    v->tok_len = len;
    memset(v->tok_len + v->rank_cap, 0, (size_t)(cap - v->rank_cap) * sizeof *len);
    memset(v->tok_off + v->rank_cap, 0, (size_t)(cap - v->rank_cap) * sizeof *off);
    v->rank_cap = cap;
    return 0;
}

/* Record token bytes already appended at arena[off..off+len) under rank.
 * 0, -1 duplicate rank, -2 out of memory. */
static int vocab_record(fl_vocab *v, uint32_t off, size_t len, uint32_t rank)
{
    if (ensure_rank_cap(v, rank) < 0)
        return -2;
    if (v->tok_len[rank])
        return -1;
    v->tok_off[rank] = off;
    v->tok_len[rank] = (uint16_t)len;
    return 0;
}

/* The first min(n, 8) bytes of a token in the arena, without branching on
 * n (the arena has 8 bytes of slack after its last token). */
static inline uint64_t arena_head(const uint8_t *p, size_t n)
{
    size_t keep = n < 8 ? n : 8; /* n >= 1 */
    return fl_vload64(p) & (~0ull >> (64 - 8 * keep));
}

static inline uint64_t token_hash(const fl_vocab *v, uint32_t rank)
{
    const uint8_t *bytes = v->arena + v->tok_off[rank];
    size_t len = v->tok_len[rank];
    return fl_vhash_key(bytes, len, arena_head(bytes, len));
}

/* Append the long_keys record of a token over FL_SLOT_INLINE bytes (rank,
 * length, bytes; 4-aligned): its offset / 4, or -1 when out of memory (or
 * past what a slot can name). */
static int64_t long_key_add(fl_vocab *v, uint32_t rank, const uint8_t *bytes, size_t len)
{
    size_t at = v->long_keys_len, need = at + ((8 + len + 3) & ~(size_t)3);
    if (need > ((size_t)1 << 28))
        return -1;
    if (need > v->long_keys_cap) {
        size_t cap = v->long_keys_cap ? v->long_keys_cap : 4096;
        while (cap < need)
            cap *= 2;
        uint8_t *k = realloc(v->long_keys, cap);
        if (!k)
            return -1;
        v->long_keys = k;
        v->long_keys_cap = cap;
    }
    uint8_t *rec = v->long_keys + at;
    uint32_t len32 = (uint32_t)len;
    memcpy(rec, &rank, 4);
    memcpy(rec + 4, &len32, 4);
    memcpy(rec + 8, bytes, len);
    memset(rec + 8 + len, 0, need - at - 8 - len);
    v->long_keys_len = need;
    return (int64_t)(at / 4);
}

/* The slot's mid word for a token (vocab_inline.h). */
static inline uint32_t slot_mid(const uint8_t *bytes, size_t len, uint64_t h)
{
    if (len <= 8)
        return 0;
    if (len <= FL_SLOT_INLINE)
        return (uint32_t)fl_vload32(bytes + len - 4) >> (8 * (FL_SLOT_INLINE - len));
    return (uint32_t)h;
}

/* Put a recorded rank into the hash table.  0, -1 duplicate bytes, -2 out
 * of memory. */
static int table_insert(fl_vocab *v, uint32_t rank, uint64_t h)
{
    const uint8_t *bytes = v->arena + v->tok_off[rank];
    size_t len = v->tok_len[rank];
    uint64_t head = arena_head(bytes, len);
    uint32_t mid = slot_mid(bytes, len, h), lenc = FL_SLOT_LENC(len);
    uint64_t i = fl_vocab_home(v, h);
    for (;;) {
        fl_slot *s = &v->slots[i];
        if ((s->word & 63) == 0) {
            uint32_t what = rank;
            if (len > FL_SLOT_INLINE) {
                int64_t at = long_key_add(v, rank, bytes, len);
                if (at < 0)
                    return -2;
                what = (uint32_t)at;
            }
            s->head = head;
            s->mid = mid;
            s->word = what << 6 | lenc;
            break;
        }
        if (s->head == head && s->mid == mid && (s->word & 63) == lenc) {
            if (len <= FL_SLOT_INLINE)
                return -1;
            const uint8_t *rec = v->long_keys + (size_t)(s->word >> 6) * 4;
            if (fl_vload32(rec + 4) == len && memcmp(rec + 8, bytes, len) == 0)
                return -1;
        }
        i = (i + 1) & v->mask;
    }
    uint64_t bit = h >> (64 - FL_FILTER_LOG2);
    v->filter[bit >> 6] |= 1ull << (bit & 63);
    if (v->max_rank == FL_NO_RANK || rank > v->max_rank)
        v->max_rank = rank;
    if (len == 1)
        v->byte_rank[bytes[0]] = rank;
    else if (len == 2)
        v->pair_rank[(bytes[0] << 8) | bytes[1]] = rank;
    return 0;
}

static const char *insert_error(int rc)
{
    return rc == -2 ? "out of memory" : "duplicate token or rank in vocabulary";
}

/* Insert every recorded rank into the table, in rank order.  The hash of
 * each token is computed ahead and its slot prefetched, so the random
 * accesses into the (large) table overlap instead of stalling one by one.
 * 0, or -1 on a duplicate token. */
#define PREFETCH_AHEAD 16
static int table_insert_ranks(fl_vocab *v)
{
    uint32_t ring_rank[PREFETCH_AHEAD];
    uint64_t ring_hash[PREFETCH_AHEAD];
    size_t queued = 0, done = 0;
    uint32_t r = 0;
    for (;;) {
        while (r < v->rank_cap && v->tok_len[r] == 0)
            r++;
        if (r < v->rank_cap) {
            uint64_t h = token_hash(v, r);
            __builtin_prefetch(&v->slots[fl_vocab_home(v, h)], 1);
            ring_rank[queued % PREFETCH_AHEAD] = r++;
            ring_hash[queued % PREFETCH_AHEAD] = h;
            queued++;
            if (queued - done < PREFETCH_AHEAD)
                continue;
        }
        if (done == queued)
            return 0;
        int rc = table_insert(v, ring_rank[done % PREFETCH_AHEAD], ring_hash[done % PREFETCH_AHEAD]);
        if (rc < 0)
            return rc;
        done++;
    }
}

/* Base64 decoding, four characters at a time: one table per position
 * holds the character's 6 bits already shifted into place, so a group is
 * four loads and three ORs; any character outside the alphabet ('=', ' ',
 * '\n', garbage) sets bit 31, which ends the fast loop. */
#define B64_BAD 0x80000000u
typedef struct {
    uint32_t at[4][256];
} b64_tables;

static void b64_init(b64_tables *t)
{
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < 256; c++)
            t->at[k][c] = B64_BAD;
    const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (uint32_t i = 0; i < 64; i++) {
        uint8_t c = (uint8_t)al[i];
        t->at[0][c] = i << 18;
        t->at[1][c] = i << 12;
        t->at[2][c] = i << 6;
        t->at[3][c] = i;
    }
}

/* Decode the base64 token starting at p (it must be followed by ' ') into
 * out, which has room for 3 bytes per 4 characters plus one.  Returns the
 * number of bytes and sets *after to the ' ', or -1 when the text up to the
 * space is not padded base64 of at least one byte. */
static long b64_token(const b64_tables *t, const uint8_t *p, const uint8_t *end, uint8_t *out,
                      const uint8_t **after)
{
    uint8_t *o = out;
    while (end - p >= 4) {
        uint32_t w = t->at[0][p[0]] | t->at[1][p[1]] | t->at[2][p[2]] | t->at[3][p[3]];
        if (w & B64_BAD)
            break;
        o[0] = (uint8_t)(w >> 16);
        o[1] = (uint8_t)(w >> 8);
        o[2] = (uint8_t)w;
        o += 3;
        p += 4;
    }
    if (end - p >= 5 && p[3] == '=' && p[4] == ' ') { /* a final padded group */
        uint32_t w = t->at[0][p[0]] | t->at[1][p[1]];
        if (p[2] == '=') {
            o[0] = (uint8_t)(w >> 16);
            o += (w & B64_BAD) ? 0 : 1;
        } else {
            w |= t->at[2][p[2]];
            o[0] = (uint8_t)(w >> 16);
            o[1] = (uint8_t)(w >> 8);
            o += (w & B64_BAD) ? 0 : 2;
        }
        if (w & B64_BAD)
            return -1;
        p += 4;
    }
    if (p == end || *p != ' ' || o == out)
        return -1;
    *after = p;
    return (long)(o - out);
}

static int is_blank(uint8_t c) { return c == ' ' || c == '\r' || c == '\t'; }

/* The decimal digits of the rank expected on the next line (ranks are
 * almost always 0, 1, 2, ... in file order), kept as text and incremented
 * in place, so the usual line's rank is one compare instead of a digit
 * loop.  Up to 8 digits; longer ranks take the general path. */
typedef struct {
    uint8_t digits[8];
    size_t len;
    uint32_t value;
} rank_counter;

static void counter_set(rank_counter *c, uint32_t value)
{
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%u", (unsigned)value);
    c->value = value;
    c->len = n > 0 && n <= 8 ? (size_t)n : 0; /* 0: never matches */
    memset(c->digits, 0, sizeof c->digits);
    if (c->len)
        memcpy(c->digits, buf, c->len);
}

static void counter_next(rank_counter *c)
{
    size_t i = c->len;
    while (i > 0 && c->digits[i - 1] == '9')
        c->digits[--i] = '0';
    if (i > 0)
        c->digits[i - 1]++, c->value++;
    else
        counter_set(c, c->value + 1);
}

/* The rank at r (digits up to a non-digit): 1 and *rank, *after set;
 * 0 when there are no digits; -1 when too large. */
static int parse_rank(const rank_counter *expect, const uint8_t *r, const uint8_t *end,
                      uint32_t *rank, const uint8_t **after)
{
    size_t n = expect->len;
    if (end - r > 8 && n &&
        ((fl_vload64(r) ^ fl_vload64(expect->digits)) & (~0ull >> (64 - 8 * n))) == 0 &&
        !(r[n] >= '0' && r[n] <= '9')) {
        *rank = expect->value;
        *after = r + n;
        return 1;
    }
    const uint8_t *digits = r;
    uint32_t value = 0;
    while (r < end && *r >= '0' && *r <= '9') {
        value = value * 10 + (uint32_t)(*r - '0');
        r++;
        if (value >= FL_MAX_RANK)
            return -1;
    }
    *rank = value;
    *after = r;
    return r != digits;
}

/* Tokens decoded but not yet in the hash table: their hash is computed
 * while the bytes are hot and their slot prefetched; each is inserted
 * PREFETCH_AHEAD tokens later, when the slot has arrived. */
typedef struct {
    uint32_t rank[PREFETCH_AHEAD];
    uint64_t hash[PREFETCH_AHEAD];
    size_t queued, done;
} insert_queue;

static int queue_flush(fl_vocab *v, insert_queue *q, size_t keep)
{
    while (q->queued - q->done > keep) {
        size_t k = q->done++ % PREFETCH_AHEAD;
        int rc = table_insert(v, q->rank[k], q->hash[k]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Decode every "base64 rank" line into the arena, record each rank's
 * (offset, length) and put the token into the hash table (allocated
 * beforehand) while it stays at most half full; past that, tokens are
 * only recorded (the caller rebuilds the table at the right size).
 * 0, or -1 with err set. */
static int parse_lines(fl_vocab *v, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    int insert = 1;
    b64_tables table;
    b64_init(&table);
    rank_counter expect;
    counter_set(&expect, 0);
    insert_queue queue = {{0}, {0}, 0, 0};
    const uint8_t *p = data, *end = data + len;
    size_t lineno = 0;
    while (p < end) {
        lineno++;
        if (is_blank(*p) || *p == '\n') { /* a blank line (or only blanks) */
            while (p < end && *p != '\n')
                if (!is_blank(*p++)) {
                    set_err(err, errlen, "malformed vocabulary line: expected 'base64 rank'", lineno);
                    return -1;
                }
            p++;
            continue;
        }
        const uint8_t *sp, *r;
        uint8_t *tok = v->arena + v->arena_len;
        long n = b64_token(&table, p, end, tok, &sp);
        if (n < 0) {
            set_err(err, errlen, "malformed vocabulary line: expected 'base64 rank'", lineno);
            return -1;
        }
        if ((size_t)n > FL_MAX_TOKEN_LEN) {
            set_err(err, errlen, "malformed vocabulary line: bad base64 token", lineno);
            return -1;
        }
        uint32_t rank;
        int got = parse_rank(&expect, sp + 1, end, &rank, &r);
        if (got <= 0) {
            set_err(err, errlen, got < 0 ? "vocabulary rank too large"
                                         : "malformed vocabulary line: missing or bad rank", lineno);
            return -1;
        }
        while (r < end && is_blank(*r))
            r++;
        if (r < end && *r != '\n') {
            set_err(err, errlen, "malformed vocabulary line: bad rank", lineno);
            return -1;
        }
        int rc = vocab_record(v, (uint32_t)v->arena_len, (size_t)n, rank);
        if (rc < 0) {
            set_err(err, errlen, rc == -1 ? "duplicate token or rank in vocabulary" : "out of memory",
                    rc == -1 ? lineno : 0);
            return -1;
        }
        if (insert && (v->count + 1) * 2 + 2 > v->mask + 1) { /* the table is too small */
            if ((rc = queue_flush(v, &queue, 0)) < 0) {
                set_err(err, errlen, insert_error(rc), 0);
                return -1;
            }
            insert = 0;
        }
        if (insert) {
            uint64_t h = fl_vhash_key(tok, (size_t)n, arena_head(tok, (size_t)n));
            __builtin_prefetch(&v->slots[fl_vocab_home(v, h)], 1);
            size_t k = queue.queued++ % PREFETCH_AHEAD;
            queue.rank[k] = rank;
            queue.hash[k] = h;
            if ((rc = queue_flush(v, &queue, PREFETCH_AHEAD - 1)) < 0) {
                set_err(err, errlen, insert_error(rc), 0);
                return -1;
            }
        }
        if (rank == expect.value)
            counter_next(&expect);
        else
            counter_set(&expect, rank + 1);
        v->arena_len += (size_t)n;
        v->count++;
        p = r + 1;
    }
    int rc = insert ? queue_flush(v, &queue, 0) : 0;
    if (rc < 0) {
        set_err(err, errlen, insert_error(rc), 0);
        return -1;
    }
    return 0;
}

static void vocab_free_tables(fl_vocab *v)
{
    if (v->slots)
        table_free(v->slots, v->slots_bytes);
    free(v->pair_rank);
    free(v->filter);
    free(v->long_keys);
    v->slots = NULL;
    v->pair_rank = NULL;
    v->filter = NULL;
    v->long_keys = NULL;
    v->long_keys_len = v->long_keys_cap = 0;
}

fl_vocab *fl_vocab_parse_tiktoken(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    /* Tokens are hashed and inserted while they are decoded, into a table
     * sized for an estimate of the token count (a line is rarely shorter
     * than 16 bytes); when the count calls for another size (a table that
     * filled up is always too small), it is rebuilt at the right size in
     * a second pass, so the layout never depends on the estimate. */
    size_t estimate = len / 16 < FL_MAX_RANK ? len / 16 : FL_MAX_RANK - 1;
    fl_vocab *v = calloc(1, sizeof *v);
    if (!v || !(v->arena = malloc(len / 4 * 3 + 16)) || ensure_rank_cap(v, (uint32_t)estimate) < 0 ||
        vocab_alloc_tables(v, estimate) < 0) {
        fl_vocab_free(v);
        set_err(err, errlen, "out of memory", 0);
        return NULL;
    }
    /* the long tokens' records: about a quarter of the file's length for
     * tiktoken's files (o200k: 0.8 MB of 3.6 MB), grown when more */
    v->long_keys_cap = len / 4 + 4096;
    v->long_keys = malloc(v->long_keys_cap);
    if (!v->long_keys)
        v->long_keys_cap = 0;
    if (parse_lines(v, data, len, err, errlen) < 0) {
        fl_vocab_free(v);
        return NULL;
    }
    if (v->count == 0) {
        fl_vocab_free(v);
        set_err(err, errlen, "empty vocabulary", 0);
        return NULL;
    }
    if (table_slots(v->count) != v->mask + 1) {
        vocab_free_tables(v);
        if (vocab_alloc_tables(v, v->count) < 0) {
            fl_vocab_free(v);
            set_err(err, errlen, "out of memory", 0);
            return NULL;
        }
        int rc = table_insert_ranks(v);
        if (rc < 0) {
            fl_vocab_free(v);
            set_err(err, errlen, insert_error(rc), 0);
            return NULL;
        }
    }
    table_advise_built(v->slots, v->slots_bytes);
    return v;
}

fl_vocab *fl_vocab_from_tokens(const uint8_t *const *tokens, const size_t *lens,
                               const uint32_t *ranks, size_t n, char *err, size_t errlen)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0 || lens[i] > FL_MAX_TOKEN_LEN || ranks[i] >= FL_MAX_RANK) {
            set_err(err, errlen, "empty, too long or out-of-range token", 0);
            return NULL;
        }
        total += lens[i];
    }
    fl_vocab *v = calloc(1, sizeof *v);
    if (v && (!(v->arena = malloc(total + 8)) || vocab_alloc_tables(v, n) < 0)) {
        fl_vocab_free(v);
        v = NULL;
    }
    if (!v) {
        set_err(err, errlen, "out of memory", 0);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(v->arena + v->arena_len, tokens[i], lens[i]);
        int rc = vocab_record(v, (uint32_t)v->arena_len, lens[i], ranks[i]);
        if (rc == 0)
            rc = table_insert(v, ranks[i], token_hash(v, ranks[i]));
        if (rc < 0) {
            set_err(err, errlen, rc == -1 ? "duplicate token or rank in vocabulary" : "out of memory", 0);
            fl_vocab_free(v);
            return NULL;
        }
        v->arena_len += lens[i];
        v->count++;
    }
    return v;
}

void fl_vocab_free(fl_vocab *v)
{
    if (!v)
        return;
    if (v->borrowed) {
        free(v);
        return;
    }
    vocab_free_tables(v);
    free(v->arena);
    free(v->tok_off);
    free(v->tok_len);
    free(v);
}

size_t fl_vocab_count(const fl_vocab *v) { return v->count; }
uint32_t fl_vocab_max_rank(const fl_vocab *v) { return v->max_rank; }

const uint8_t *fl_vocab_bytes(const fl_vocab *v, uint32_t rank, size_t *len)
{
    if (rank >= v->rank_cap || v->tok_len[rank] == 0) {
        *len = 0;
        return NULL;
    }
    *len = v->tok_len[rank];
    return v->arena + v->tok_off[rank];
}

/* ---- prebuilt blob ------------------------------------------------------ */

#define BLOB_MAGIC "FLVOCAB\x04" /* 4: 12 token bytes in a slot (fourteenth pass) */

typedef struct {
    char magic[8];
    uint64_t total_len;
    uint64_t n_slots;
    uint64_t arena_len;
    uint64_t long_keys_len;
    uint64_t count;
    uint32_t rank_cap;
    uint32_t max_rank;
    uint64_t checksum; /* of every byte after the header */
    uint8_t source_sha256[32];
    uint32_t byte_rank[256];
} blob_header;

static inline size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Four-lane multiply-rotate checksum (xxhash-style rounds, written from
 * scratch): detects corruption of a cache file, at memory speed. */
static uint64_t blob_checksum(const uint8_t *p, size_t n)
{
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    uint64_t a = P1, b = P2, c = n, d = ~(uint64_t)n;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = rotl64(a + fl_vload64(p + i) * P2, 31) * P1;
        b = rotl64(b + fl_vload64(p + i + 8) * P2, 31) * P1;
        c = rotl64(c + fl_vload64(p + i + 16) * P2, 31) * P1;
        d = rotl64(d + fl_vload64(p + i + 24) * P2, 31) * P1;
    }
    uint64_t h = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18);
    for (; i < n; i++)
        h = rotl64(h ^ (p[i] * P1), 11) * P2;
    return h ^ (h >> 29);
}

static void blob_layout(uint64_t n_slots, uint32_t rank_cap, uint64_t arena_len,
                        uint64_t long_keys_len, size_t *off_filter, size_t *off_slots,
                        size_t *off_tok_off, size_t *off_tok_len, size_t *off_pairs,
                        size_t *off_arena, size_t *off_long_keys, size_t *total)
{
    size_t o = align8(sizeof(blob_header));
    *off_filter = o;
    o += FL_FILTER_WORDS * sizeof(uint64_t);
    *off_slots = o;
    o += (size_t)n_slots * sizeof(fl_slot);
    *off_tok_off = o;
    o = align8(o + (size_t)rank_cap * sizeof(uint32_t));
    *off_tok_len = o;
    o = align8(o + (size_t)rank_cap * sizeof(uint16_t));
    *off_pairs = o;
    o += 65536 * sizeof(uint32_t);
    *off_arena = o;
    o = align8(o + (size_t)arena_len);
    *off_long_keys = o;
    *total = align8(o + (size_t)long_keys_len);
}

uint8_t *fl_vocab_serialize(const fl_vocab *v, const uint8_t source_sha256[32], size_t *len)
{
    size_t o_filter, o_slots, o_off, o_len, o_pairs, o_arena, o_keys, total;
    blob_layout(v->mask + 1, v->rank_cap, v->arena_len, v->long_keys_len, &o_filter, &o_slots,
                &o_off, &o_len, &o_pairs, &o_arena, &o_keys, &total);
    uint8_t *blob = calloc(1, total);
    if (!blob)
        return NULL;
    blob_header *h = (blob_header *)blob;
    memcpy(h->magic, BLOB_MAGIC, 8);
    h->total_len = total;
    h->n_slots = v->mask + 1;
    h->arena_len = v->arena_len;
    h->long_keys_len = v->long_keys_len;
    h->count = v->count;
    h->rank_cap = v->rank_cap;
    h->max_rank = v->max_rank;
    memcpy(h->source_sha256, source_sha256, 32);
    memcpy(h->byte_rank, v->byte_rank, sizeof h->byte_rank);
    memcpy(blob + o_filter, v->filter, FL_FILTER_WORDS * sizeof(uint64_t));
    memcpy(blob + o_slots, v->slots, (size_t)(v->mask + 1) * sizeof(fl_slot));
    memcpy(blob + o_off, v->tok_off, (size_t)v->rank_cap * sizeof(uint32_t));
    memcpy(blob + o_len, v->tok_len, (size_t)v->rank_cap * sizeof(uint16_t));
    memcpy(blob + o_pairs, v->pair_rank, 65536 * sizeof(uint32_t));
    memcpy(blob + o_arena, v->arena, v->arena_len);
    if (v->long_keys_len)
        memcpy(blob + o_keys, v->long_keys, v->long_keys_len);
    size_t hdr = align8(sizeof(blob_header));
    h->checksum = blob_checksum(blob + hdr, total - hdr);
    *len = total;
    return blob;
}

/* For tests that craft inconsistent blobs: the slot array of a blob made
 * by fl_vocab_serialize, and a fresh checksum after editing it. */
fl_slot *fl_vocab_blob_slots_for_test(uint8_t *blob, size_t len, size_t *n_slots)
{
    const blob_header *h = (const blob_header *)blob;
    size_t o_filter, o_slots, o_off, o_len, o_pairs, o_arena, o_keys, total;
    if (len < sizeof *h)
        return NULL;
    blob_layout(h->n_slots, h->rank_cap, h->arena_len, h->long_keys_len, &o_filter, &o_slots, &o_off,
                &o_len, &o_pairs, &o_arena, &o_keys, &total);
    if (total != len)
        return NULL;
    *n_slots = (size_t)h->n_slots;
    return (fl_slot *)(void *)(blob + o_slots);
}

void fl_vocab_blob_reseal_for_test(uint8_t *blob, size_t len)
{
    size_t hdr = align8(sizeof(blob_header));
    ((blob_header *)blob)->checksum = blob_checksum(blob + hdr, len - hdr);
}

/* A sample of ranks (~512, spread over all of them) is found again by
 * bytes: catches a blob whose table was laid out by another hash or
 * layout (a build that forgot to bump the version) as well as any
 * corruption the checksum let through in the sampled slots. */
static int lookups_agree(const fl_vocab *v)
{
    uint32_t step = v->rank_cap / 512 ? v->rank_cap / 512 : 1;
    for (uint32_t r = 0; r < v->rank_cap; r += step) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r, &len);
        if (b && fl_vocab_rank(v, b, len) != r)
            return 0;
    }
    return 1;
}

fl_vocab *fl_vocab_from_blob(const uint8_t *blob, size_t len, const uint8_t source_sha256[32],
                             char *err, size_t errlen)
{
    const blob_header *h = (const blob_header *)blob;
    size_t hdr = align8(sizeof(blob_header));
    if (len < hdr || ((uintptr_t)blob & 7) || memcmp(h->magic, BLOB_MAGIC, 8) != 0) {
        set_err(err, errlen, "not a prebuilt vocabulary (bad magic, size or alignment)", 0);
        return NULL;
    }
    if (memcmp(h->source_sha256, source_sha256, 32) != 0) {
        set_err(err, errlen, "prebuilt vocabulary was built from another file", 0);
        return NULL;
    }
    uint64_t n_slots = h->n_slots;
    if (h->total_len != len || n_slots < 16 || (n_slots & (n_slots - 1)) || n_slots > (1ull << 30) ||
        h->rank_cap > FL_MAX_RANK * 2u || h->arena_len > len || h->long_keys_len > len ||
        h->long_keys_len > UINT32_MAX || h->count > n_slots / 2 ||
        (h->count && h->max_rank >= h->rank_cap)) {
        set_err(err, errlen, "prebuilt vocabulary has inconsistent sizes", 0);
        return NULL;
    }
    size_t o_filter, o_slots, o_off, o_len, o_pairs, o_arena, o_keys, total;
    blob_layout(n_slots, h->rank_cap, h->arena_len, h->long_keys_len, &o_filter, &o_slots, &o_off,
                &o_len, &o_pairs, &o_arena, &o_keys, &total);
    if (total != len) {
        set_err(err, errlen, "prebuilt vocabulary has inconsistent sizes", 0);
        return NULL;
    }
    if (blob_checksum(blob + hdr, len - hdr) != h->checksum) {
        set_err(err, errlen, "prebuilt vocabulary is corrupt (checksum)", 0);
        return NULL;
    }
    /* Structure: every rank a lookup can return is in range and its bytes
     * lie in the arena, every long token's record lies in long_keys, so
     * even a crafted file cannot make lookups read out of bounds (the
     * checksum alone only catches accidents). */
    const fl_slot *slots = (const fl_slot *)(const void *)(blob + o_slots);
    const uint32_t *tok_off = (const uint32_t *)(const void *)(blob + o_off);
    const uint16_t *tok_len = (const uint16_t *)(const void *)(blob + o_len);
    const uint32_t *pairs = (const uint32_t *)(const void *)(blob + o_pairs);
    int ok = 1;
    for (uint32_t r = 0; r < h->rank_cap && ok; r++)
        ok = tok_len[r] == 0 || (uint64_t)tok_off[r] + tok_len[r] <= h->arena_len;
    const uint8_t *long_keys = blob + o_keys;
    for (uint64_t i = 0; i < n_slots && ok; i++) {
        const fl_slot *s = &slots[i];
        uint32_t lenc = s->word & 63, r = s->word >> 6, tlen = lenc;
        if (lenc == 0)
            continue;
        if (lenc > FL_SLOT_INLINE) { /* a record: rank, length, bytes, inside long_keys */
            uint64_t at = (uint64_t)r * 4;
            ok = at + 8 <= h->long_keys_len;
            tlen = ok ? (uint32_t)fl_vload32(long_keys + at + 4) : 0;
            ok = ok && at + 8 + tlen <= h->long_keys_len && tlen > FL_SLOT_INLINE &&
                 FL_SLOT_LENC(tlen) == lenc;
            r = ok ? (uint32_t)fl_vload32(long_keys + at) : 0;
        }
        ok = ok && r < h->rank_cap && tok_len[r] == tlen;
    }
    for (size_t i = 0; i < 65536 && ok; i++)
        ok = pairs[i] == FL_NO_RANK || (pairs[i] < h->rank_cap && tok_len[pairs[i]] == 2);
    for (size_t i = 0; i < 256 && ok; i++)
        ok = h->byte_rank[i] == FL_NO_RANK || (h->byte_rank[i] < h->rank_cap && tok_len[h->byte_rank[i]] == 1);
    if (!ok) {
        set_err(err, errlen, "prebuilt vocabulary is inconsistent", 0);
        return NULL;
    }
    fl_vocab *v = calloc(1, sizeof *v);
    if (!v) {
        set_err(err, errlen, "out of memory", 0);
        return NULL;
    }
    v->borrowed = 1;
    v->slots = (fl_slot *)(uintptr_t)(blob + o_slots);
    v->mask = n_slots - 1;
    v->arena = (uint8_t *)(uintptr_t)(blob + o_arena);
    v->arena_len = h->arena_len;
    v->long_keys = (uint8_t *)(uintptr_t)long_keys;
    v->long_keys_len = v->long_keys_cap = h->long_keys_len;
    v->tok_off = (uint32_t *)(uintptr_t)(blob + o_off);
    v->tok_len = (uint16_t *)(uintptr_t)(blob + o_len);
    v->rank_cap = h->rank_cap;
    v->max_rank = h->max_rank;
    v->count = h->count;
    memcpy(v->byte_rank, h->byte_rank, sizeof v->byte_rank);
    v->pair_rank = (uint32_t *)(uintptr_t)(blob + o_pairs);
    v->filter = (uint64_t *)(uintptr_t)(blob + o_filter);
    if (!lookups_agree(v)) {
        fl_vocab_free(v);
        set_err(err, errlen, "prebuilt vocabulary does not match this build's lookups", 0);
        return NULL;
    }
    return v;
}
