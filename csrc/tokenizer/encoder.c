/*
 * encoder.c - text -> token ids (or their count), tiktoken's CoreBPE rules.
 *
 * How it works.  The text is cut at allowed special tokens (leftmost
 * occurrence first); each stretch between them is pre-tokenized on its own
 * (its end is the text's end for the scanner, so `$` means the end of
 * the stretch, as in tiktoken; the pieces come a 64-byte window at a time
 * from fl_pretok_window_scanner_for when the stretch is mostly ASCII, else
 * one per call from the pattern's scanner),
 * and each pre-token ("piece") becomes tokens: the whole piece's rank when
 * the piece is itself a token (one hash lookup, the common case), else the
 * exact BPE merge of bpe.c.  Counting runs the same path with no id
 * output, so no list is built, and looks every piece of 1..12 bytes up
 * by one path with no branch on its length (fl_vocab_rank_short; a byte
 * or a pair that is no token needs no lookup to count, but the branch
 * that spared it cost more); it also
 * defers the merges the piece cache missed and runs them several at a
 * time in lockstep (flush_deferred), since a count does not depend on
 * the order of the pieces.
 *
 * Special-token search keeps, per token, the offset of its next occurrence
 * and only searches again once the scan passes it, so a text with many
 * special tokens is still scanned in linear time.
 *
 * fl_count_batch splits a list of texts over POSIX threads, each with its
 * own scratch; the encoder itself is read-only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "tokenizer/encoder.h"
#include "tokenizer/piece_cache.h"

#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *bytes;
    size_t len;
    uint32_t rank;
} fl_special;

struct fl_encoder {
    fl_vocab *vocab;
    fl_pattern_id pat;
    fl_special *specials;
    size_t n_specials;
    int first_byte; /* the first byte every special token shares, or -1 */
    fl_piece_cache *cache;      /* shared piece -> ids cache (3..24 bytes), or NULL */
    fl_piece_cache *long_cache; /* the same for 25..128-byte pieces, or NULL */
    int cache_on;          /* atomic: use the cache */
    int cache_tokens;      /* atomic: also cache pieces that are one token */
    int merge_lanes;       /* atomic: count runs cache-missed short merges in lockstep */
    uint16_t *digits;      /* atomic: fl_bpe_digit_table, made on first use (numbers_table) */
    /* the count of a whitespace piece of a newlines then b spaces, plus 1
       (0: not made yet), ws_count[a][b]; from the vocabulary on first use
       (ws_piece_count) */
    uint8_t ws_count[FL_ENC_WS_NL][FL_ENC_WS_SP];
    int ws_on; /* count_piece_rest asks ws_count */
    uint32_t hot_tokens; /* how many tokens' slot lines the warm-up asks for */
    uint32_t *hot_lines; /* atomic: hot_lines_make's list, made on first use */
};

static uint16_t no_digit_table[1]; /* e->digits when the table cannot be made */
static uint32_t no_hot_lines[1] = {UINT32_MAX}; /* e->hot_lines when the list cannot be made */

void fl_ids_free(fl_ids *ids)
{
    free(ids->ids);
    ids->ids = NULL;
    ids->len = ids->cap = 0;
}

static int ids_reserve(fl_ids *ids, size_t extra)
{
    if (ids->len + extra <= ids->cap)
        return 0;
    size_t cap = ids->cap ? ids->cap : 64;
    while (cap < ids->len + extra)
        cap *= 2;
    uint32_t *p = realloc(ids->ids, cap * sizeof *p);
    if (!p)
        return -1;
    ids->ids = p;
    ids->cap = cap;
    return 0;
}

fl_encoder *fl_encoder_new(fl_vocab *vocab, fl_pattern_id pat, const uint8_t *const *specials,
                           const size_t *special_lens, const uint32_t *special_ranks,
                           size_t n_specials, char *err, size_t errlen)
{
    if (!vocab) {
        snprintf(err, errlen, "no vocabulary");
        return NULL;
    }
    if ((int)pat < 0 || pat >= FL_PAT_COUNT) {
        snprintf(err, errlen, "unknown pre-tokenizer pattern %d", (int)pat);
        fl_vocab_free(vocab);
        return NULL;
    }
    for (int b = 0; b < 256; b++) {
        if (fl_vocab_byte_rank(vocab, (uint8_t)b) == FL_NO_RANK) {
            snprintf(err, errlen, "vocabulary has no token for byte 0x%02x", b);
            fl_vocab_free(vocab);
            return NULL;
        }
    }
    fl_encoder *e = calloc(1, sizeof *e);
    if (!e)
        goto nomem;
    e->vocab = vocab;
    e->pat = pat;
    e->specials = calloc(n_specials ? n_specials : 1, sizeof *e->specials);
    if (!e->specials)
        goto nomem;
    for (size_t i = 0; i < n_specials; i++) {
        if (special_lens[i] == 0) {
            snprintf(err, errlen, "empty special token");
            fl_encoder_free(e);
            return NULL;
        }
        e->specials[i].bytes = malloc(special_lens[i]);
        if (!e->specials[i].bytes)
            goto nomem;
        memcpy(e->specials[i].bytes, specials[i], special_lens[i]);
        e->specials[i].len = special_lens[i];
        e->specials[i].rank = special_ranks[i];
        e->n_specials = i + 1;
    }
    /* no cache if out of memory */
    const int small_table = (size_t)(vocab->mask + 1) * sizeof(fl_slot) < FL_ENC_SMALL_TABLE;
    e->cache = fl_piece_cache_new(small_table ? FL_ENC_SMALL_CACHE_LOG2 : FL_ENC_CACHE_LOG2,
                                  FL_PC_SHORT_LEN);
    e->long_cache = fl_piece_cache_new(FL_ENC_LONG_CACHE_LOG2, FL_PC_LONG_LEN);
    if (!e->cache || !e->long_cache) {
        fl_piece_cache_free(e->cache);
        fl_piece_cache_free(e->long_cache);
        e->cache = e->long_cache = NULL;
    }
    e->cache_on = e->cache != NULL;
    e->merge_lanes = 1;
    e->hot_tokens = small_table ? 0 : FL_ENC_HOT_TOKENS;
    e->ws_on = 1;
    e->first_byte = n_specials ? e->specials[0].bytes[0] : -1;
    for (size_t i = 1; i < n_specials; i++)
        if (e->specials[i].bytes[0] != e->first_byte)
            e->first_byte = -1;
    return e;
nomem:
    snprintf(err, errlen, "out of memory");
    if (e)
        fl_encoder_free(e);
    else
        fl_vocab_free(vocab);
    return NULL;
}

void fl_encoder_free(fl_encoder *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_specials; i++)
        free(e->specials[i].bytes);
    free(e->specials);
    fl_piece_cache_free(e->cache);
    fl_piece_cache_free(e->long_cache);
    if (e->digits != no_digit_table)
        free(e->digits);
    if (e->hot_lines != no_hot_lines)
        free(e->hot_lines);
    fl_vocab_free(e->vocab);
    free(e);
}

const fl_vocab *fl_encoder_vocab(const fl_encoder *e) { return e->vocab; }

void fl_encoder_set_cache(fl_encoder *e, int on, int tokens_too)
{
    __atomic_store_n(&e->cache_on, on && e->cache != NULL, __ATOMIC_RELAXED);
    __atomic_store_n(&e->cache_tokens, tokens_too, __ATOMIC_RELAXED);
}

void fl_encoder_set_merge_lanes(fl_encoder *e, int on)
{
    __atomic_store_n(&e->merge_lanes, on != 0, __ATOMIC_RELAXED);
}

int fl_encoder_cache_enabled(const fl_encoder *e)
{
    return __atomic_load_n(&e->cache_on, __ATOMIC_RELAXED);
}

void fl_encoder_clear_cache(fl_encoder *e)
{
    fl_piece_cache_clear(e->cache);
    fl_piece_cache_clear(e->long_cache);
}
size_t fl_encoder_special_count(const fl_encoder *e) { return e->n_specials; }

const uint8_t *fl_encoder_token_bytes(const fl_encoder *e, uint32_t id, size_t *len)
{
    const uint8_t *b = fl_vocab_bytes(e->vocab, id, len);
    if (b)
        return b;
    for (size_t i = 0; i < e->n_specials; i++) {
        if (e->specials[i].rank == id) {
            *len = e->specials[i].len;
            return e->specials[i].bytes;
        }
    }
    *len = 0;
    return NULL;
}

/* ---- special tokens ---------------------------------------------------- */

#define NEXT_UNKNOWN ((size_t)-1)

/* next[i]: offset of special i's next occurrence at or after the last
 * search start (len when none), or NEXT_UNKNOWN. */
static size_t find_special_cached(const fl_encoder *e, const uint8_t *text, size_t len,
                                  size_t from, const uint8_t *mask, size_t *next, size_t *which)
{
    size_t best = len, best_i = 0;
    for (size_t i = 0; i < e->n_specials; i++) {
        if (!mask[i])
            continue;
        const fl_special *s = &e->specials[i];
        if (next[i] == NEXT_UNKNOWN || (next[i] < from && next[i] != len)) {
            const uint8_t *hit = from < len && s->len <= len - from
                                     ? memmem(text + from, len - from, s->bytes, s->len)
                                     : NULL;
            next[i] = hit ? (size_t)(hit - text) : len;
        }
        /* Equal offsets can only happen when one token is a prefix of
         * another; prefer the longer one. */
        if (next[i] < best || (next[i] == best && best < len && s->len > e->specials[best_i].len)) {
            best = next[i];
            best_i = i;
        }
    }
    *which = best_i;
    return best;
}

typedef struct {
    size_t small[16];
    size_t *next;
} special_cursor;

static int cursor_init(special_cursor *c, size_t n)
{
    c->next = n <= 16 ? c->small : malloc(n * sizeof *c->next);
    if (!c->next)
        return -1;
    for (size_t i = 0; i < n; i++)
        c->next[i] = NEXT_UNKNOWN;
    return 0;
}

static void cursor_free(special_cursor *c)
{
    if (c->next != c->small)
        free(c->next);
}

/* One pass when all special tokens start with the same byte (all of
 * OpenAI's start with '<'): memchr for it, then compare the tokens there. */
static size_t find_special_one_pass(const fl_encoder *e, const uint8_t *text, size_t len,
                                    size_t from, const uint8_t *mask, size_t *which)
{
    const uint8_t *p = text + from, *end = text + len;
    while (p < end && (p = memchr(p, e->first_byte, (size_t)(end - p))) != NULL) {
        size_t best_len = 0;
        for (size_t i = 0; i < e->n_specials; i++) {
            const fl_special *s = &e->specials[i];
            if (mask[i] && s->len <= (size_t)(end - p) && s->len > best_len &&
                memcmp(p, s->bytes, s->len) == 0) {
                best_len = s->len;
                *which = i;
            }
        }
        if (best_len)
            return (size_t)(p - text);
        p++;
    }
    return len;
}

size_t fl_encoder_find_special(const fl_encoder *e, const uint8_t *text, size_t len, size_t from,
                               const uint8_t *mask, size_t *which)
{
    special_cursor c;
    *which = 0;
    if (!mask || from >= len)
        return len;
    if (e->first_byte >= 0)
        return find_special_one_pass(e, text, len, from, mask, which);
    if (cursor_init(&c, e->n_specials) < 0)
        return len;
    size_t at = find_special_cached(e, text, len, from, mask, c.next, which);
    cursor_free(&c);
    return at;
}

/* ---- ordinary text ----------------------------------------------------- */

/* Tokens of one piece whose whole-piece rank r is already known
 * (FL_NO_RANK: not a token, so BPE). */
/* Per-call memo of merged pieces: words that are not single tokens tend to
 * repeat within a text, and their merge costs far more than the whole-piece
 * lookup.  Direct-mapped; an entry names an earlier occurrence of the
 * piece in this call's text (compared byte for byte, never trusted on the
 * hash alone) with its token count and where its ids start in the output.
 * Lives on the caller's stack, zeroed on first use, so it never carries
 * anything from one call (or one text of a batch) to the next. */
#define MEMO_SIZE 1024
#define MEMO_MIN_LEN 4
typedef struct {
    uint32_t off, len, count, ids_at;
} memo_entry;
typedef struct {
    const uint8_t *base;
    size_t base_len;
    int ready;
    memo_entry e[MEMO_SIZE];
} piece_memo;

static int bpe_piece(const fl_encoder *e, const uint8_t *p, size_t n, fl_ids *out, size_t *count,
                     fl_bpe_scratch *scratch)
{
    size_t k;
    if (out) {
        if (ids_reserve(out, n) < 0)
            return FL_ENC_NOMEM;
        k = fl_bpe_encode(e->vocab, p, n, out->ids + out->len, scratch);
        if (k != FL_BPE_ERROR)
            out->len += k;
    } else {
        k = fl_bpe_encode(e->vocab, p, n, NULL, scratch);
    }
    if (k == FL_BPE_ERROR)
        return FL_ENC_NOMEM;
    *count += k;
    return FL_ENC_OK;
}

/* Tokens of one piece whose whole-piece rank r is already known
 * (FL_NO_RANK: not a token, so BPE, through the memo when there is one). */
static int emit_piece(const fl_encoder *e, const uint8_t *p, size_t n, uint32_t r, fl_ids *out,
                      size_t *count, fl_bpe_scratch *scratch, piece_memo *memo)
{
    if (r != FL_NO_RANK) {
        if (out) {
            if (ids_reserve(out, 1) < 0)
                return FL_ENC_NOMEM;
            out->ids[out->len++] = r;
        }
        *count += 1;
        return FL_ENC_OK;
    }
    if (!memo || n < MEMO_MIN_LEN || memo->base_len > UINT32_MAX ||
        (out && out->len + n > UINT32_MAX))
        return bpe_piece(e, p, n, out, count, scratch);
    if (!memo->ready) {
        memset(memo->e, 0, sizeof memo->e);
        memo->ready = 1;
    }
    memo_entry *m = &memo->e[(fl_vocab_hash(p, n) >> 24) & (MEMO_SIZE - 1)];
    if (m->len == n && memcmp(memo->base + m->off, p, n) == 0) {
        if (out) {
            if (ids_reserve(out, m->count) < 0)
                return FL_ENC_NOMEM;
            memcpy(out->ids + out->len, out->ids + m->ids_at, m->count * sizeof *out->ids);
            out->len += m->count;
        }
        *count += m->count;
        return FL_ENC_OK;
    }
    size_t before = *count, ids_at = out ? out->len : 0;
    int rc = bpe_piece(e, p, n, out, count, scratch);
    if (rc == FL_ENC_OK) {
        m->off = (uint32_t)(p - memo->base);
        m->len = (uint32_t)n;
        m->count = (uint32_t)(*count - before);
        m->ids_at = (uint32_t)ids_at;
    }
    return rc;
}

/* A piece of 3..FL_PC_LONG_LEN bytes through the shared caches.  The
 * whole-piece rank comes first (most pieces are tokens; caching those too
 * measured slower); a piece that is not a token is looked up in the cache,
 * and on a miss merged (ids always, so an entry serves encode and count
 * alike) and stored. */
static int emit_ids(const uint32_t *ids, size_t k, fl_ids *out, size_t *count)
{
    if (out) {
        if (ids_reserve(out, k) < 0)
            return FL_ENC_NOMEM;
        memcpy(out->ids + out->len, ids, k * sizeof *ids);
        out->len += k;
    }
    *count += k;
    return FL_ENC_OK;
}

/* fl_vhead_bytes(p, n) for 1 <= n; room: bytes readable from p (n or more).
 * With 8 readable bytes the head word is one load and a mask, with no
 * branch on n (pieces of 3, 5 and 9 bytes alternate unpredictably). */
static inline uint64_t piece_head(const uint8_t *p, size_t n, size_t room)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (room >= 8) { /* the head word is p's first min(n, 8) bytes, zero-padded */
        size_t keep = n < 8 ? n : 8;
        return fl_vload64(p) & (~0ull >> (64 - 8 * keep));
    }
#endif
    (void)room;
    return fl_vhead_bytes(p, n);
}

/* Counting (no id list) with the cache on defers the merges of short
 * pieces the cache missed and runs them FL_ENC_LANES at a time in lockstep
 * (fl_bpe_encode_short_lanes): a merge step waits on the table probe of
 * the pair it made, and with several pieces in flight those misses
 * overlap.  A count does not depend on the order pieces are merged in;
 * each lane's ids are exactly the plain merge's and are stored in the
 * cache as the plain path stores them.  A piece seen again before its
 * batch runs (the cache cannot have it yet) is not deferred a second time:
 * its lane's count is added once per occurrence.  In code 18-19% of the
 * deferred pieces were such repeats (an identifier used twice within a few
 * lines), each merged again until this (prose 6-9%); see "Tenth pass" in
 * docs/tokenizer.md. */
_Static_assert(FL_ENC_LANES <= FL_BPE_LANES_MAX, "one batch of deferred merges fits the lanes");
typedef struct {
    const uint8_t *p[FL_ENC_LANES];
    size_t n[FL_ENC_LANES], room[FL_ENC_LANES];
    uint64_t h[FL_ENC_LANES];
    size_t times[FL_ENC_LANES]; /* occurrences of piece j since it was deferred */
    size_t k;
} deferred_merges;

static void flush_deferred(const fl_encoder *e, deferred_merges *d, size_t *count)
{
    uint32_t ids[FL_ENC_LANES][FL_PC_SHORT_LEN];
    uint32_t *outs[FL_ENC_LANES];
    size_t counts[FL_ENC_LANES];
    if (!d->k)
        return;
    for (size_t j = 0; j < d->k; j++)
        outs[j] = ids[j];
    fl_bpe_encode_short_lanes_nontoken_in(e->vocab, d->p, d->n, d->room, d->k, outs, counts);
    for (size_t j = 0; j < d->k; j++) {
        fl_piece_cache_put_short_room(e->cache, d->p[j], d->n[j], d->room[j], d->h[j], ids[j],
                                      counts[j]);
        *count += counts[j] * d->times[j];
    }
    d->k = 0;
}

/* Whether a piece of 3 or more bytes (not a token) is a number: it starts
 * with an ASCII digit, or a space and one (r50k/p50k's ` ?\p{N}+`; under
 * cl100k/o200k's `\p{N}{1,3}` every such piece is a token and never gets
 * here).  Numbers are merged without the shared piece cache: in prose
 * they rarely repeat (the bench's prose, r50k: 3.9 of the 5.1
 * first-occurrence merges per KB are numbers, and nearly every one is the
 * only occurrence), so storing them only evicted the words that do
 * repeat; skipping the cache cut r50k prose's merges from 7.4 to 6.1 per
 * KB ("Twelfth pass" in docs/tokenizer.md). */
static inline int is_number(const uint8_t *p)
{
    return (unsigned)(p[0] - '0') < 10 || (p[0] == ' ' && (unsigned)(p[1] - '0') < 10);
}

/* The digit table when piece p[0..n) (a number, n <= FL_BPE_SHORT_MAX)
 * is all ASCII digits after its optional space, else NULL (also when the
 * table cannot be made).  The table is made on the first such piece, not
 * with the encoder (cold start); two threads may both make one, the
 * first published wins and the other is freed. */
static const uint16_t *numbers_table(const fl_encoder *e, const uint8_t *p, size_t n)
{
    unsigned bad = 0;
    for (size_t i = p[0] == ' '; i < n; i++)
        bad |= (unsigned)(p[i] - '0') >= 10;
    if (bad)
        return NULL;
    fl_encoder *me = (fl_encoder *)e; /* the table is the one thing written after creation */
    uint16_t *t = __atomic_load_n(&me->digits, __ATOMIC_ACQUIRE);
    if (t)
        return t == no_digit_table ? NULL : t;
    uint16_t *made = fl_bpe_digit_table(e->vocab), *none = NULL;
    if (!made)
        made = no_digit_table; /* not tried again */
    if (__atomic_compare_exchange_n(&me->digits, &none, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        t = made;
    else {
        if (made != no_digit_table)
            free(made);
        t = none; /* the table another thread published */
    }
    return t == no_digit_table ? NULL : t;
}

/* A number's tokens (3..FL_PC_LONG_LEN bytes, not a token): the digit
 * table's merge when it is all ASCII digits, else the plain merge.  Out of
 * line, so the encode loop's code stays as it was (numbers are a few per
 * KB at most). */
static __attribute__((noinline)) int emit_number(const fl_encoder *e, const uint8_t *p, size_t n,
                                                 size_t room, fl_ids *out, size_t *count,
                                                 fl_bpe_scratch *scratch)
{
    uint32_t ids[FL_PC_LONG_LEN];
    const uint16_t *digits = n <= FL_BPE_SHORT_MAX ? numbers_table(e, p, n) : NULL;
    size_t m = digits ? fl_bpe_encode_digits_in(e->vocab, digits, p, n, room, ids)
                      : fl_bpe_encode_in(e->vocab, p, n, room, ids, scratch);
    if (m == FL_BPE_ERROR)
        return FL_ENC_NOMEM;
    return emit_ids(ids, m, out, count);
}

FL_HOT_INLINE int emit_cached(const fl_encoder *e, const uint8_t *p, size_t n, size_t room,
                              fl_ids *out, size_t *count, int tokens_too, fl_bpe_scratch *scratch,
                              piece_memo *memo, deferred_merges *defer, int not_token,
                              uint64_t known_h)
{
    /* not_token: the caller found the piece is no token, and its hash
       is known_h (tokens_too off) */
    uint32_t ids[FL_PC_LONG_LEN];
    const int is_short = n <= FL_PC_SHORT_LEN;
    fl_piece_cache *c = is_short ? e->cache : e->long_cache;
    uint64_t head = not_token ? 0 : piece_head(p, n, room), h = not_token ? known_h : fl_vhash_key(p, n, head);
    int k = -1, has_ids = 0;
    if (tokens_too)
        k = fl_piece_cache_get(c, p, n, h, ids, &has_ids);
    if (k < 0) {
        uint32_t r = not_token ? FL_NO_RANK : fl_vocab_rank_head(e->vocab, p, n, head, h);
        if (r != FL_NO_RANK) {
            if (tokens_too)
                fl_piece_cache_put(c, p, n, h, &r, 1);
            if (out) {
                if (ids_reserve(out, 1) < 0)
                    return FL_ENC_NOMEM;
                out->ids[out->len++] = r;
            }
            *count += 1;
            return FL_ENC_OK;
        }
        if (is_number(p)) /* merged, never cached: see is_number */
            return emit_number(e, p, n, room, out, count, scratch);
        if (!tokens_too)
            k = is_short ? fl_piece_cache_get_short_room(c, p, n, room, h, out ? ids : NULL, &has_ids)
                         : fl_piece_cache_get_long_room(c, p, n, room, h, out ? ids : NULL, &has_ids);
    }
    if (k >= 0 && has_ids)
        return emit_ids(ids, (size_t)k, out, count);
    if (k >= 0 && !out) { /* a count-only entry serves count */
        *count += (size_t)k;
        return FL_ENC_OK;
    }
    if (k >= 0) /* count-only entry, ids wanted: the per-call memo path */
        return emit_piece(e, p, n, FL_NO_RANK, out, count, scratch, memo);
    if (defer && is_short) {
        /* the same piece again before its batch ran (the cache cannot
           have it yet): counted with that lane, not merged again */
        for (size_t j = 0; j < defer->k; j++)
            if (defer->h[j] == h && defer->n[j] == n && memcmp(defer->p[j], p, n) == 0) {
                defer->times[j]++;
                return FL_ENC_OK;
            }
        defer->p[defer->k] = p;
        defer->n[defer->k] = n;
        defer->room[defer->k] = room;
        defer->h[defer->k] = h;
        defer->times[defer->k] = 1;
        if (++defer->k == FL_ENC_LANES)
            flush_deferred(e, defer, count);
        return FL_ENC_OK;
    }
    size_t m = fl_bpe_encode_in(e->vocab, p, n, room, ids, scratch);
    if (m == FL_BPE_ERROR)
        return FL_ENC_NOMEM;
    if (is_short)
        fl_piece_cache_put_short_room(c, p, n, room, h, ids, m);
    else
        fl_piece_cache_put_long_room(c, p, n, room, h, ids, m);
    return emit_ids(ids, m, out, count);
}

/* Whether the pre-tokenizer's 64-byte windows should walk this text: it
 * is long enough for one, and its first 256 bytes hold fewer than 16
 * bytes >= 0x80.  Windows decide ASCII only; on non-Latin text nearly
 * every window would give up, and trying cost 1-8% in the bench there. */
static int windows_pay(const uint8_t *text, size_t len)
{
    if (len < 64)
        return 0;
    size_t n = len < 256 ? len & ~(size_t)7 : 256, high = 0;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, text + i, 8);
        high += (size_t)__builtin_popcountll(w & 0x8080808080808080ull);
    }
    return high < 16;
}

/* Counting through the 64-byte windows looks FL_ENC_AHEAD (2) windows
 * ahead: when a window is scanned, every piece's hash is computed and its
 * vocabulary slot and filter word asked for, and the piece is looked up
 * with that hash when the count reaches it, two windows (~30 pieces on
 * code) later, when the lines have arrived.  The window of a position is
 * a function of the text and the position alone, so the next window is
 * the one scanned from the last piece's end.  Without it the look-up
 * waited on a slot line not used recently; the CPU's own look-ahead
 * covers a few pieces, windows ahead many more (see "Sixteenth pass" in
 * docs/tokenizer.md: one window ahead then measured best; since the
 * count's own loop (seventeenth pass) two are +1-2%, three the same). */
typedef struct {
    size_t base;          /* where the window starts */
    fl_pretok_window w;   /* what it decided */
    /* piece k's (those that start before fast_stop) head and tail words
       and hash, as the count's look-up takes them */
    uint64_t hd[64], tl[64], hs[64];
} ahead_window;

/* loop_ahead's windows: a power of two that holds the one counted and
 * the FL_ENC_AHEAD scanned after it */
#define AHEAD_RING 4
_Static_assert(FL_ENC_AHEAD >= 1 && FL_ENC_AHEAD < AHEAD_RING, "the windows fit the ring");

/* The masks of a key's head and tail words by its length (1..12; 0 is
 * never looked up): a load each instead of the shifts and selects of the
 * two cases (seventeenth pass). */
static const uint64_t key_masks[FL_SLOT_INLINE + 1][2] __attribute__((aligned(64))) = {
    {0, 0}, {0xffull, 0}, {0xffffull, 0}, {0xffffffull, 0}, {0xffffffffull, 0},
    {0xffffffffffull, 0}, {0xffffffffffffull, 0}, {0xffffffffffffffull, 0}, {~0ull, 0},
    {~0ull, 0xffull}, {~0ull, 0xffffull}, {~0ull, 0xffffffull}, {~0ull, 0xffffffffull},
};

/* Scan the window at base into *aw: each piece of it that starts before
 * fast_stop (16 bytes readable) gets the head and tail words and the hash
 * of its first min(n, 12) bytes (for n <= 12 what the count's look-up
 * uses; for longer pieces unused), and its slot line and filter word are
 * prefetched.  (Keeping head and tail too, not only the hash, measured
 * +2% on code and +2-4% on prose: the look-up then reads no text.) */
FL_HOT_INLINE void ahead_scan(const fl_vocab *v, fl_pretok_window_scanner window, const uint8_t *text,
                              size_t len, size_t fast_stop, size_t base, ahead_window *aw)
{
    /* in locals: the stores into *aw could alias *v, so gcc would load
       these again for every piece */
    const fl_slot *const slots = v->slots;
    const uint64_t mask = v->mask;
    const uint64_t *const filter = v->filter;
    fl_pretok_window w = window(text, len, base);
    aw->base = base;
    aw->w = w;
    size_t s = base, t = w.end, k = 0;
    uint64_t m = w.more;
    for (;;) {
        if (s < fast_stop) {
            size_t n = t - s;
            n = n < FL_SLOT_INLINE ? n : FL_SLOT_INLINE;
            uint64_t head = fl_vload64(text + s) & key_masks[n][0];
            uint64_t tail = fl_vload64(text + s + 8) & key_masks[n][1];
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
            /* fl_vhash_short with the product's halves straight from
               mulq: gcc moves a __uint128_t through the stack here, a
               store and a load on the way from the hash to the prefetches
               (+2-3% on prose, +1.5-2% on code) */
            uint64_t lo = head ^ FL_VK1, hi;
            __asm__("mulq %2" : "+a"(lo), "=d"(hi) : "r"(tail ^ (uint64_t)n ^ FL_VK2) : "cc");
            uint64_t h = lo ^ hi;
#else
            uint64_t h = fl_vhash_short(head, tail, n);
#endif
            aw->hd[k] = head;
            aw->tl[k] = tail;
            aw->hs[k] = h;
            __builtin_prefetch(&slots[(h >> 16) & mask]); /* fl_vocab_prefetch */
            __builtin_prefetch(&filter[(h >> (64 - FL_FILTER_LOG2)) >> 6]);
        }
        k++;
        if (!m)
            break;
        s = t;
        t = base + (size_t)__builtin_ctzll(m);
        m &= m - 1u;
    }
}

/* Where the window's last piece ends: where the next window starts. */
static inline size_t ahead_last_end(const ahead_window *aw)
{
    return aw->w.more ? aw->base + 63 - (size_t)__builtin_clzll(aw->w.more) : aw->w.end;
}

/* fl_vocab_rank_short(v, head, tail, len, h) != FL_NO_RANK, with the
 * table's fields in the caller's locals; want = tail | len << 32. */
FL_HOT_INLINE int short_is_token(const uint64_t *filter, const fl_slot *slots, uint64_t mask, uint64_t head,
                                 uint64_t want, uint64_t h)
{
    uint64_t bit = h >> (64 - FL_FILTER_LOG2);
    if (!(filter[bit >> 6] & (1ull << (bit & 63))))
        return 0;
    uint64_t i = (h >> 16) & mask; /* fl_vocab_home */
    for (;;) {
        const fl_slot *s = &slots[i];
        uint64_t key = (uint64_t)s->mid | (uint64_t)s->word << 32;
        if (s->head == head && (key & 0x3fffffffffull) == want)
            return 1;
        if ((s->word & 63) == 0)
            return 0;
        i = (i + 1) & mask;
    }
}

/* The loop of encode_ordinary but for the count through windows (below). */
static __attribute__((noinline)) int loop_plain(const fl_encoder *e, const uint8_t *text, size_t len,
                                                fl_ids *out, size_t *count, fl_bpe_scratch *scratch,
                                                piece_memo *memo, fl_pretok_window_scanner window,
                                                fl_pretok_scanner scan, size_t fast_stop,
                                                deferred_merges *defer, int cached, int tokens_too,
                                                size_t *single_out)
{
    size_t pos = 0, single = 0;
    const fl_vocab *v = e->vocab;
    fl_pretok_window_walk walk = {{0, 0}, 0};
    while (pos < len) {
        size_t end = window ? fl_pretok_window_next(&walk, window, text, len, pos) : scan(text, len, pos);
        size_t n = end - pos;
        if (n == 0 || n > len - pos) /* cannot happen for valid UTF-8 */
            n = len - pos;
        if (n <= FL_SLOT_INLINE && pos < fast_stop) {
            /* count only, a piece of 1..12 bytes (nearly all): its rank by
               one path for every such length (16 bytes readable: the head
               and tail words are loads and masks); a byte or pair that is
               no token is two, anything else goes on to the cache or merge */
            const uint8_t *p = text + pos;
            size_t keep = n < 8 ? n : 8, extra = n > 8 ? n - 8 : 0;
            uint64_t head = fl_vload64(p) & (~0ull >> (64 - 8 * keep));
            uint64_t tail = fl_vload64(p + 8) & ((1ull << (8 * extra)) - 1);
            uint64_t h = fl_vhash_short(head, tail, n);
            if (fl_vocab_rank_short(v, head, tail, n, h) != FL_NO_RANK) {
                single++;
                pos += n;
                continue;
            }
            if (n <= 2) {
                *count += n;
                pos += n;
                continue;
            }
            if (cached) { /* not a token: the cache or a merge, hash known */
                int rc = emit_cached(e, p, n, len - pos, NULL, count, 0, scratch, memo, defer, 1, h);
                if (rc != FL_ENC_OK)
                    return rc;
                pos += n;
                continue;
            }
        }
        if (n <= 2 && !out) { /* count only: a byte, or a pair (one token or two bytes) */
            *count += n == 1 ? 1 : fl_vocab_pair_rank(e->vocab, text[pos], text[pos + 1]) == FL_NO_RANK ? 2 : 1;
            pos += n;
            continue;
        }
        int rc = cached && n >= 3 && n <= FL_PC_LONG_LEN
                     ? emit_cached(e, text + pos, n, len - pos, out, count, tokens_too, scratch, memo,
                                   defer, 0, 0)
                     : emit_piece(e, text + pos, n, fl_vocab_rank(e->vocab, text + pos, n), out,
                                  count, scratch, memo);
        if (rc != FL_ENC_OK)
            return rc;
        pos += n;
    }
    *single_out = single;
    return FL_ENC_OK;
}

/* A piece the count's window loop (below) did not find to be one token:
 * what loop_plain does with it (the same calls).  short_piece: 1..12
 * bytes, 16 readable, looked up and no token; h its hash.  Out of line,
 * so the window loop's registers are its own. */
/* A piece of a newlines then b spaces (a < FL_ENC_WS_NL, b <
 * FL_ENC_WS_SP): its count, from e->ws_count or, the first time, from the
 * vocabulary (one token if the whole piece is one, else the array merge)
 * and kept there.  r50k/p50k have few whitespace-run tokens, so newline +
 * indentation ("\n   ", 3..24 bytes) is a piece that is no token ~11 times
 * per KB of prose; its count depends only on (a, b), and this table (256
 * bytes) answers without the piece cache's line.  Several threads may
 * fill an entry at once: each writes the same byte. */
static __attribute__((noinline)) size_t ws_fill(const fl_encoder *e, size_t a, size_t b)
{
    uint8_t buf[FL_ENC_WS_NL + FL_ENC_WS_SP + FL_BPE_PAD + 8];
    const size_t n = a + b;
    memset(buf, 0, sizeof buf);
    memset(buf, '\n', a);
    memset(buf + a, ' ', b);
    size_t c = fl_vocab_rank(e->vocab, buf, n) != FL_NO_RANK ? 1
               : n <= FL_BPE_SHORT_MAX ? fl_bpe_encode_short_in(e->vocab, buf, n, sizeof buf, NULL)
                                       : fl_bpe_encode_medium_in(e->vocab, buf, n, sizeof buf, NULL);
    if (c == 0 || c > n) /* cannot happen */
        return 0;
    __atomic_store_n((uint8_t *)&e->ws_count[a][b], (uint8_t)(c + 1), __ATOMIC_RELAXED);
    return c;
}

FL_HOT_INLINE size_t ws_count_of(const fl_encoder *e, size_t a, size_t b)
{
    const size_t c = __atomic_load_n(&e->ws_count[a][b], __ATOMIC_RELAXED);
    return c ? c - 1 : ws_fill(e, a, b);
}

/* p[0..n) as newlines then spaces: its count, or 0 when it is not of that
 * shape (or too long for the table).  16 bytes readable at p when
 * wide_ok (the short pieces before fast_stop). */
FL_HOT_INLINE size_t ws_piece_count(const fl_encoder *e, const uint8_t *p, size_t n, int wide_ok)
{
    if (p[n - 1] != ' ' || n >= FL_ENC_WS_SP)
        return 0;
    size_t a = 0;
#if defined(__SSE2__)
    if (wide_ok) { /* n <= 12 */
        const __m128i x = _mm_loadu_si128((const __m128i *)p);
        const unsigned full = (1u << n) - 1u;
        const unsigned nl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))) & full;
        const unsigned sp = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' '))) & full;
        if ((nl | sp) != full || (nl & (nl + 1u)) != 0)
            return 0;
        a = (size_t)__builtin_ctz(~nl); /* nl is a prefix: its length */
    } else
#endif
    {
        while (a < n && p[a] == '\n')
            a++;
        for (size_t i = a; i < n; i++)
            if (p[i] != ' ')
                return 0;
    }
    if (a >= FL_ENC_WS_NL)
        return 0;
    return ws_count_of(e, a, n - a);
}

static __attribute__((noinline)) int count_piece_rest(const fl_encoder *e, const uint8_t *text, size_t len,
                                                      size_t pos, size_t n, int short_piece, uint64_t h,
                                                      size_t *count, fl_bpe_scratch *scratch, piece_memo *memo,
                                                      deferred_merges *defer, int cached)
{
    const uint8_t *p = text + pos;
    if (short_piece) {
        if (n <= 2) {
            *count += n;
            return FL_ENC_OK;
        }
        if (n == 3) {
            /* no token: the lower of its two byte pairs merges (if either
               is a token), and the pair left is the whole piece, so 2
               tokens, else 3; no cache probe, no merge */
            const uint32_t both = fl_vocab_pair_rank(e->vocab, p[0], p[1]) &
                                  fl_vocab_pair_rank(e->vocab, p[1], p[2]);
            *count += both == FL_NO_RANK ? 3 : 2;
            return FL_ENC_OK;
        }
        if (e->ws_on) {
            const size_t c = ws_piece_count(e, p, n, 1);
            if (c) {
                *count += c;
                return FL_ENC_OK;
            }
        }
        if (n == 4) {
            /* no token either: the lowest of its three byte pairs merges
               (none: 4 tokens), leaving three parts and two pairs; if
               either of those has a rank, a second merge leaves two parts
               whose pair is the whole piece: 2 tokens, else 3.  A pair
               left from before needs no probe; a new 3-byte span one. */
            const fl_vocab *v = e->vocab;
            const uint32_t r01 = fl_vocab_pair_rank(v, p[0], p[1]), r12 = fl_vocab_pair_rank(v, p[1], p[2]),
                           r23 = fl_vocab_pair_rank(v, p[2], p[3]);
            size_t parts;
            if (r01 != FL_NO_RANK && r01 <= r12 && r01 <= r23) /* leftmost lowest: [01] [2] [3] */
                parts = r23 != FL_NO_RANK || fl_vocab_rank(v, p, 3) != FL_NO_RANK ? 2 : 3;
            else if (r12 <= r23 && r12 != FL_NO_RANK) /* [0] [12] [3] */
                parts = fl_vocab_rank(v, p, 3) != FL_NO_RANK || fl_vocab_rank(v, p + 1, 3) != FL_NO_RANK
                            ? 2 : 3;
            else if (r23 != FL_NO_RANK) /* [0] [1] [23] */
                parts = r01 != FL_NO_RANK || fl_vocab_rank(v, p + 1, 3) != FL_NO_RANK ? 2 : 3;
            else
                parts = 4;
            *count += parts;
            return FL_ENC_OK;
        }
        if (cached)
            return emit_cached(e, p, n, len - pos, NULL, count, 0, scratch, memo, defer, 1, h);
    }
    if (n <= 2) {
        *count += n == 1 ? 1 : fl_vocab_pair_rank(e->vocab, p[0], p[1]) == FL_NO_RANK ? 2 : 1;
        return FL_ENC_OK;
    }
    if (e->ws_on) {
        const size_t c = ws_piece_count(e, p, n, 0);
        if (c) {
            *count += c;
            return FL_ENC_OK;
        }
    }
    return cached && n >= 3 && n <= FL_PC_LONG_LEN
               ? emit_cached(e, p, n, len - pos, NULL, count, 0, scratch, memo, defer, 0, 0)
               : emit_piece(e, p, n, fl_vocab_rank(e->vocab, p, n), NULL, count, scratch, memo);
}

/* The count through windows (count only, 16 bytes readable before
 * fast_stop), FL_ENC_AHEAD windows ahead (ahead_scan): the loop over a window's
 * pieces does only the common case, a piece of 1..12 bytes that is one
 * token, with the table's fields and the window in registers; any other
 * piece goes to count_piece_rest.  (Until the seventeenth pass this was
 * the general loop compiled with the look-ahead, which kept the walk, the
 * ring and encode's state live around the look-up and spilled half of it
 * every piece: this form measured +2-4% on code.) */
static __attribute__((noinline)) int loop_ahead(const fl_encoder *e, const uint8_t *text, size_t len,
                                                size_t *count, fl_bpe_scratch *scratch, piece_memo *memo,
                                                fl_pretok_window_scanner window, size_t fast_stop,
                                                deferred_merges *defer, int cached, size_t *single_out)
{
    const fl_vocab *v = e->vocab;
    const uint64_t *const filter = v->filter;
    const fl_slot *const slots = v->slots;
    const uint64_t mask = v->mask;
    ahead_window ring[AHEAD_RING]; /* the window counted and those after it */
    size_t single = 0, cur = 0, have = 1; /* ring[cur] and have - 1 windows after it are scanned */
    ahead_scan(v, window, text, len, fast_stop, 0, &ring[0]);
    for (;;) {
        while (have <= FL_ENC_AHEAD) {
            const size_t next = ahead_last_end(&ring[(cur + have - 1) & (AHEAD_RING - 1)]);
            if (next >= len)
                break;
            ahead_scan(v, window, text, len, fast_stop, next, &ring[(cur + have) & (AHEAD_RING - 1)]);
            have++;
        }
        const ahead_window *aw = &ring[cur];
        const size_t base = aw->base;
        size_t pos = base, end = aw->w.end, k = 0;
        uint64_t more = aw->w.more;
        for (;;) {
            size_t n = end - pos;
            const int short_piece = n - 1 < FL_SLOT_INLINE && pos < fast_stop;
            if (short_piece &&
                short_is_token(filter, slots, mask, aw->hd[k], aw->tl[k] | (uint64_t)n << 32, aw->hs[k])) {
                single++;
            } else {
                if (n == 0 || n > len - pos) { /* cannot happen for valid UTF-8 */
                    n = len - pos;
                    end = len;
                    more = 0;
                }
                int rc = count_piece_rest(e, text, len, pos, n, short_piece, aw->hs[k], count, scratch, memo,
                                          defer, cached);
                if (rc != FL_ENC_OK)
                    return rc;
            }
            pos = end;
            k++;
            if (!more)
                break;
            end = base + (size_t)__builtin_ctzll(more);
            more &= more - 1u;
        }
        if (pos >= len) /* the window's last piece ends the text */
            break;
        cur = (cur + 1) & (AHEAD_RING - 1);
        have--;
    }
    *single_out = single;
    return FL_ENC_OK;
}

static int encode_ordinary(const fl_encoder *e, const uint8_t *text, size_t len, fl_ids *out,
                           size_t *count, fl_bpe_scratch *scratch, piece_memo *memo)
{
    int cached = __atomic_load_n(&e->cache_on, __ATOMIC_RELAXED);
    int tokens_too = __atomic_load_n(&e->cache_tokens, __ATOMIC_RELAXED);
    /* the count's one-token pieces of 1..12 bytes (below), counted in
       the loop and added to *count at the end; 16 bytes readable before
       fast_stop */
    size_t single = 0;
    const size_t fast_stop = !out && !tokens_too && len >= 16 ? len - 15 : 0;
    const fl_pretok_scanner scan = fl_pretok_scanner_for(e->pat); /* valid: checked at new */
    /* piece ends a 64-byte window at a time (fl_pretok_window_next), where
       the build has windows and they pay for this text */
    const fl_pretok_window_scanner window =
        windows_pay(text, len) ? fl_pretok_window_scanner_for(e->pat) : NULL;
    deferred_merges defer_store, *defer = NULL;
    if (!out && cached && !tokens_too && __atomic_load_n(&e->merge_lanes, __ATOMIC_RELAXED)) {
        defer_store.k = 0;
        defer = &defer_store;
    }
    /* fast_stop > 0: count only, no single tokens cached */
    int rc = window && fast_stop
                 ? loop_ahead(e, text, len, count, scratch, memo, window, fast_stop, defer, cached, &single)
                 : loop_plain(e, text, len, out, count, scratch, memo, window, scan, fast_stop, defer,
                              cached, tokens_too, &single);
    if (rc != FL_ENC_OK)
        return rc;
    *count += single;
    if (defer)
        flush_deferred(e, defer, count);
    return FL_ENC_OK;
}

int fl_encode_piece(const fl_encoder *e, const uint8_t *piece, size_t len, fl_ids *out,
                    fl_bpe_scratch *scratch)
{
    size_t count = 0;
    if (len == 0)
        return FL_ENC_OK;
    return emit_piece(e, piece, len, fl_vocab_rank(e->vocab, piece, len), out, &count, scratch, NULL);
}

/* The hot slot lines: for the e->hot_tokens lowest-ranked tokens of
 * 1..12 bytes, in rank order, the line of the token's home slot (and the
 * next line too when the slot straddles two: a look-up reads all 16
 * bytes), as line numbers from the slot table's first line, ended by
 * UINT32_MAX.  Made from the vocabulary alone, never from text; made on
 * the first long text, not with the encoder (cold start); two threads may
 * both make one, the first published wins. */
static __attribute__((noinline)) const uint32_t *hot_lines_make(const fl_encoder *e)
{
    const fl_vocab *v = e->vocab;
    const uintptr_t first = (uintptr_t)v->slots & ~(uintptr_t)63;
    uint32_t *made = malloc((2 * (size_t)e->hot_tokens + 1) * sizeof *made), *none = NULL;
    if (made) {
        size_t k = 0, tokens = 0;
        const uint32_t last = fl_vocab_max_rank(v);
        for (uint32_t r = 0; tokens < e->hot_tokens && r <= last; r++) {
            size_t n;
            const uint8_t *b = fl_vocab_bytes(v, r, &n);
            if (!b || n < 1 || n > FL_SLOT_INLINE)
                continue;
            const uintptr_t at = (uintptr_t)&v->slots[fl_vocab_home(v, fl_vocab_hash(b, n))];
            made[k++] = (uint32_t)((at - first) >> 6);
            if ((at & 63) > 64 - sizeof(fl_slot))
                made[k++] = (uint32_t)((at - first) >> 6) + 1;
            tokens++;
        }
        made[k] = UINT32_MAX;
    } else {
        made = no_hot_lines; /* not tried again */
    }
    fl_encoder *me = (fl_encoder *)e; /* like the digit table: written once after creation */
    if (__atomic_compare_exchange_n(&me->hot_lines, &none, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return made;
    if (made != no_hot_lines)
        free(made);
    return none; /* the list another thread published */
}

const uint32_t *fl_encoder_hot_lines(const fl_encoder *e, size_t *n)
{
    *n = 0;
    const uint32_t *lines = __atomic_load_n(&e->hot_lines, __ATOMIC_ACQUIRE);
    if (!lines)
        lines = hot_lines_make(e);
    if (lines == no_hot_lines)
        return NULL;
    while (lines[*n] != UINT32_MAX)
        ++*n;
    return lines;
}

/* Before a long text: the small structures every piece may probe at a
 * random line (the vocabulary's filter and pair ranks, the short piece
 * cache: ~7.6 k lines) are asked for in one sweep, so they stream in at memory bandwidth instead of arriving one
 * miss at a time; for a mostly ASCII text (windows_pay: on multilingual
 * and CJK text, whose pieces are mostly not among those tokens, they cost
 * 4-6%) also the hot slot lines (hot_lines_make: ~2 k lines for
 * cl100k/o200k, none for r50k/p50k, where they cost more on top of the
 * lockstep merges than they saved).
 * Whatever ran between two calls (the rest of the program)
 * has usually evicted them. */
static void warm_up(const fl_encoder *e, int ascii)
{
    if (ascii && e->hot_tokens) { /* first: the lines most look-ups need */
        const uint32_t *lines = __atomic_load_n(&e->hot_lines, __ATOMIC_ACQUIRE);
        if (!lines)
            lines = hot_lines_make(e);
        const char *first = (const char *)((uintptr_t)e->vocab->slots & ~(uintptr_t)63);
        for (size_t i = 0; lines[i] != UINT32_MAX; i++)
            __builtin_prefetch(first + ((size_t)lines[i] << 6));
    }
    fl_vocab_warm(e->vocab);
    if (__atomic_load_n(&e->cache_on, __ATOMIC_RELAXED))
        fl_piece_cache_warm(e->cache);
    /* the numbers' digit table (44 KB, once made): every number's merge
       probes it at random, each probe waiting on the one before */
    const uint16_t *digits = __atomic_load_n(&e->digits, __ATOMIC_ACQUIRE);
    if (digits && digits != no_digit_table)
        for (size_t i = 0; i < 2 * FL_BPE_DIGIT_KEYS * sizeof *digits; i += 64)
            __builtin_prefetch((const char *)digits + i);
}

static int any_set(const uint8_t *mask, size_t n)
{
    if (!mask)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (mask[i])
            return 1;
    return 0;
}

int fl_encode(const fl_encoder *e, const uint8_t *text, size_t len, const uint8_t *allowed,
              const uint8_t *disallowed, fl_ids *out, size_t *count, size_t *which,
              fl_bpe_scratch *scratch)
{
    size_t dummy;
    *count = 0;
    if (!which)
        which = &dummy;
    if (any_set(disallowed, e->n_specials)) {
        if (fl_encoder_find_special(e, text, len, 0, disallowed, which) < len)
            return FL_ENC_DISALLOWED;
    }
    if (len >= FL_ENC_WARM_MIN)
        warm_up(e, windows_pay(text, len));
    piece_memo memo;
    memo.base = text;
    memo.base_len = len;
    memo.ready = 0;
    if (!any_set(allowed, e->n_specials))
        return encode_ordinary(e, text, len, out, count, scratch, &memo);

    special_cursor c;
    if (cursor_init(&c, e->n_specials) < 0)
        return FL_ENC_NOMEM;
    int rc = FL_ENC_OK;
    size_t start = 0;
    for (;;) {
        size_t i;
        size_t at = find_special_cached(e, text, len, start, allowed, c.next, &i);
        rc = encode_ordinary(e, text + start, at - start, out, count, scratch, &memo);
        if (rc != FL_ENC_OK || at == len)
            break;
        if (out) {
            if (ids_reserve(out, 1) < 0) {
                rc = FL_ENC_NOMEM;
                break;
            }
            out->ids[out->len++] = e->specials[i].rank;
        }
        *count += 1;
        start = at + e->specials[i].len;
    }
    cursor_free(&c);
    return rc;
}

/* ---- batches on threads ----------------------------------------------- */

typedef struct {
    const fl_encoder *e;
    const uint8_t *const *texts;
    const size_t *lens;
    size_t n;
    const uint8_t *allowed, *disallowed;
    size_t *counts, *which;
    size_t next; /* next text index to take */
    pthread_mutex_t lock;
    int rc;
} batch_job;

static void *batch_worker(void *arg)
{
    batch_job *job = arg;
    fl_bpe_scratch scratch = {0};
    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t i = job->next++;
        int stop = job->rc != FL_ENC_OK;
        pthread_mutex_unlock(&job->lock);
        if (i >= job->n || stop)
            break;
        size_t count = 0, which = 0;
        int rc = fl_encode(job->e, job->texts[i], job->lens[i], job->allowed, job->disallowed,
                           NULL, &count, &which, &scratch);
        if (rc == FL_ENC_DISALLOWED) {
            job->counts[i] = (size_t)-1;
            if (job->which)
                job->which[i] = which;
        } else if (rc != FL_ENC_OK) {
            pthread_mutex_lock(&job->lock);
            job->rc = rc;
            pthread_mutex_unlock(&job->lock);
        } else {
            job->counts[i] = count;
        }
    }
    fl_bpe_scratch_free(&scratch);
    return NULL;
}

int fl_count_batch(const fl_encoder *e, const uint8_t *const *texts, const size_t *lens, size_t n,
                   const uint8_t *allowed, const uint8_t *disallowed, size_t *counts,
                   size_t *which, int n_threads)
{
    batch_job job = {e, texts, lens, n, allowed, disallowed, counts, which, 0,
                     PTHREAD_MUTEX_INITIALIZER, FL_ENC_OK};
    if (n_threads < 1)
        n_threads = 1;
    if ((size_t)n_threads > n)
        n_threads = n ? (int)n : 1;
    pthread_t tids[64];
    if (n_threads > 64)
        n_threads = 64;
    int started = 0;
    for (int t = 1; t < n_threads; t++) {
        if (pthread_create(&tids[started], NULL, batch_worker, &job) != 0)
            break; /* run with fewer threads */
        started++;
    }
    batch_worker(&job); /* the calling thread works too */
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&job.lock);
    return job.rc;
}
