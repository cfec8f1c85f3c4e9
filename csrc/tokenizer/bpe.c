/*
 * bpe.c - exact byte-pair merge of one pre-token.
 *
 * How it works.  tiktoken's rule: the piece starts as single bytes; the
 * rank of an adjacent pair of parts is the vocabulary rank of their
 * concatenated bytes; merge the pair with the lowest rank, the leftmost on
 * ties, and repeat until no adjacent pair is in the vocabulary.  The final
 * parts' ranks are the tokens.
 *
 * Short pieces (the vast majority) keep part boundaries and pair ranks in
 * two small stack arrays and rescan for the minimum after each merge:
 * quadratic in the piece length, but the length is bounded by
 * FL_BPE_SHORT_MAX so that is a few cache lines of work.  The merge reads
 * the piece where it lies when 8 bytes past its end are readable (the _in
 * forms take how many are; a span's head word is one 8-byte load masked
 * to the span), else a zero-padded copy.
 *
 * fl_bpe_encode_short_lanes runs up to FL_BPE_LANES_MAX short merges in
 * lockstep: each step of a piece hashes the pairs it made and prefetches
 * their filter words and slots, and probes them only at that piece's next
 * step, after the other pieces have taken theirs, so the table misses of
 * several pieces overlap.  Each piece's steps are exactly the plain short
 * merge's, so its ids are too.
 *
 * Pieces of 33..FL_BPE_MEDIUM_MAX (128) bytes take the same array merge
 * (fl_bpe_encode_medium_in), its lowest-pair scan four ranks at a time
 * and skipped when the next lowest pair can be told from the merge just
 * made; bounded by the length, so still linear in the text.
 *
 * Longer pieces use a doubly linked list of parts, identified by their start
 * byte offset, and an indexed binary min-heap of pairs keyed by
 * (rank, start offset).  The start-offset tie-break is exactly "leftmost",
 * so the merge order is identical to the quadratic rule, in O(n log n)
 * time and 20 bytes of scratch per input byte, with no recursion.
 */
#include "tokenizer/bpe.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void fl_bpe_scratch_free(fl_bpe_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

static inline uint32_t span_rank(const fl_vocab *v, const uint8_t *piece, size_t a, size_t b)
{
    return fl_vocab_rank(v, piece + a, b - a);
}

/* ---- short pieces ------------------------------------------------------ */

/* The bytes a merge reads: the piece itself when at least FL_BPE_PAD bytes
 * past its end are readable (room counts the readable bytes from piece on;
 * a span's head word is one 8-byte load, masked to the span, so what lies
 * past the piece is never used), else a zero-padded copy.  Reading the
 * text in place saves the copy and, more, the stalls of loads that
 * straddle the copy's stores of other widths (memset, then a memcpy of
 * variable length) right after they were made. */
FL_HOT_INLINE const uint8_t *piece_view(const uint8_t *piece, size_t n, size_t room,
                                        uint8_t copy[FL_BPE_SHORT_MAX + 8])
{
    if (room >= n + FL_BPE_PAD)
        return piece;
    memset(copy, 0, FL_BPE_SHORT_MAX + 8);
    memcpy(copy, piece, n);
    return copy;
}

/* The head word and hash of the span [a, b) of the zero-padded copy buf;
 * returns the span's filter bit. */
FL_HOT_INLINE uint64_t span_hash(const uint8_t *buf, uint32_t a, uint32_t b, uint64_t *head,
                                 uint64_t *h)
{
    uint32_t len = b - a;
    uint32_t keep = len < 8 ? len : 8;
    *head = fl_vload64(buf + a) & (~0ull >> (64 - 8 * keep));
    *h = fl_vhash_key(buf + a, len, *head);
    return *h >> (64 - FL_FILTER_LOG2);
}

/* The rank of the span [a, b) of the zero-padded copy buf (b - a >= 3, so
 * never a byte or pair table entry): the head word is one load and a mask,
 * and a span the filter rules out is answered without touching the table.
 * Prefetches the slot when the filter lets the span through; *h carries
 * the hash to the probe in span_probe. */
FL_HOT_INLINE int span_prepare(const fl_vocab *v, const uint8_t *buf, uint32_t a, uint32_t b,
                               uint64_t *head, uint64_t *h)
{
    uint64_t bit = span_hash(buf, a, b, head, h);
    if (!(v->filter[bit >> 6] & (1ull << (bit & 63))))
        return 0;
    fl_vocab_prefetch(v, *h);
    return 1;
}

/* The short merges' state (fl_bpe_encode_short_in, the lanes, the digit
 * merge): parts are named by their start offset, part i is [i, end[i]) and
 * the one before it starts at prev[i]; part_rank[i] is part i's own rank,
 * pair[i] the rank of part i merged with the next one (FL_NO_RANK when
 * there is none or i no longer starts a part).  Nothing moves.  At the
 * start every byte of buf[0..n) is its own part. */
FL_HOT_INLINE void parts_init(const fl_vocab *v, const uint8_t *buf, size_t n, uint8_t *end,
                              uint8_t *prev, uint32_t *part_rank, uint32_t *pair)
{
    for (size_t i = 0; i < n; i++) {
        end[i] = (uint8_t)(i + 1);
        prev[i + 1] = (uint8_t)i;
        part_rank[i] = fl_vocab_byte_rank(v, buf[i]);
        pair[i] = i + 1 < n ? fl_vocab_pair_rank(v, buf[i], buf[i + 1]) : FL_NO_RANK;
    }
}

/* The lowest pair rank, the leftmost (lowest offset) on ties; *at its part. */
FL_HOT_INLINE uint32_t lowest_pair(const uint32_t *pair, size_t n, size_t *at)
{
    uint32_t best = pair[0];
    size_t where = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        uint32_t r = pair[i];
        where = r < best ? i : where;
        best = r < best ? r : best;
    }
    *at = where;
    return best;
}

/* lowest_pair for the longer pieces of fl_bpe_encode_medium_in: pair is
 * 16-byte aligned and FL_NO_RANK from n up to the next multiple of 4.  Four
 * ranks at a time (SSE2: the sign bit flipped for a signed compare), then
 * the first place that holds the minimum; the scalar scan's compare chain
 * costs ~2 cycles a pair, and over 48 pairs it was ~75% of the merge. */
FL_HOT_INLINE uint32_t lowest_pair_wide(const uint32_t *pair, size_t n, size_t *at)
{
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi32((int)0x80000000u);
    const size_t nr = (n + 3) & ~(size_t)3;
    __m128i m0 = _mm_set1_epi32(0x7fffffff), m1 = m0; /* FL_NO_RANK, flipped */
    size_t i = 0;
    for (; i + 8 <= nr; i += 8) {
        __m128i x0 = _mm_xor_si128(_mm_load_si128((const __m128i *)(pair + i)), flip);
        __m128i x1 = _mm_xor_si128(_mm_load_si128((const __m128i *)(pair + i + 4)), flip);
        __m128i g0 = _mm_cmpgt_epi32(m0, x0), g1 = _mm_cmpgt_epi32(m1, x1);
        m0 = _mm_or_si128(_mm_and_si128(g0, x0), _mm_andnot_si128(g0, m0));
        m1 = _mm_or_si128(_mm_and_si128(g1, x1), _mm_andnot_si128(g1, m1));
    }
    if (i < nr) {
        __m128i x0 = _mm_xor_si128(_mm_load_si128((const __m128i *)(pair + i)), flip);
        __m128i g0 = _mm_cmpgt_epi32(m0, x0);
        m0 = _mm_or_si128(_mm_and_si128(g0, x0), _mm_andnot_si128(g0, m0));
    }
    __m128i g = _mm_cmpgt_epi32(m0, m1);
    m0 = _mm_or_si128(_mm_and_si128(g, m1), _mm_andnot_si128(g, m0));
    __m128i s = _mm_shuffle_epi32(m0, _MM_SHUFFLE(1, 0, 3, 2));
    g = _mm_cmpgt_epi32(m0, s);
    m0 = _mm_or_si128(_mm_and_si128(g, s), _mm_andnot_si128(g, m0));
    s = _mm_shuffle_epi32(m0, _MM_SHUFFLE(2, 3, 0, 1));
    g = _mm_cmpgt_epi32(m0, s);
    m0 = _mm_or_si128(_mm_and_si128(g, s), _mm_andnot_si128(g, m0));
    const uint32_t best = (uint32_t)_mm_cvtsi128_si32(m0) ^ 0x80000000u;
    *at = 0;
    if (best == FL_NO_RANK)
        return best;
    const __m128i want = _mm_set1_epi32((int)best);
    for (i = 0;; i += 4) {
        int hit = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(pair + i)), want)));
        if (hit) {
            *at = i + (size_t)__builtin_ctz((unsigned)hit);
            return best;
        }
    }
#else
    return lowest_pair(pair, n, at);
#endif
}

/* The parts' ranks, in order, into out; how many. */
FL_HOT_INLINE size_t parts_emit(const uint8_t *end, const uint32_t *part_rank, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i = end[i])
        out[k++] = part_rank[i];
    return k;
}

size_t fl_bpe_encode_short(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out)
{
    return fl_bpe_encode_short_in(v, piece, n, n, out);
}

/* The array merge of buf[0..n) (zero-padded, or FL_BPE_PAD readable
 * past n), with the parts as parts_init describes them in arrays of at
 * least n (+ 1 for prev) entries; out gets the ids when not NULL. */
FL_HOT_INLINE size_t array_merge(const fl_vocab *v, const uint8_t *buf, size_t n, uint32_t *out,
                                 uint8_t *end, uint8_t *prev, uint32_t *part_rank, uint32_t *pair,
                                 const int wide)
{
    parts_init(v, buf, n, end, prev, part_rank, pair);
    if (wide)
        for (size_t i = n; i & 3; i++)
            pair[i] = FL_NO_RANK; /* lowest_pair_wide reads whole groups of 4 */
    size_t parts = n, at;
    uint32_t best = wide ? lowest_pair_wide(pair, n, &at) : lowest_pair(pair, n, &at);
    while (best != FL_NO_RANK) {
        /* merge part at with the next one, [at, stop) */
        uint32_t gone = end[at], stop = end[gone];
        part_rank[at] = best;
        end[at] = (uint8_t)stop;
        pair[gone] = FL_NO_RANK;
        parts--;
        /* the (up to) two new pairs, each of 3 or more bytes: hash and
         * filter both, prefetch the survivors, then probe them */
        int has_right = stop < n, has_left = at > 0;
        uint32_t after_end = has_right ? end[stop] : 0, before = has_left ? prev[at] : 0;
        if (has_right)
            prev[stop] = (uint8_t)at;
        uint64_t hr = 0, hl = 0, headr = 0, headl = 0;
        int probe_right = has_right && span_prepare(v, buf, (uint32_t)at, after_end, &headr, &hr);
        int probe_left = has_left && span_prepare(v, buf, before, stop, &headl, &hl);
        pair[at] = probe_right ? fl_vocab_rank_head(v, buf + at, after_end - at, headr, hr) : FL_NO_RANK;
        if (has_left)
            pair[before] = probe_left ? fl_vocab_rank_head(v, buf + before, stop - before, headl, hl)
                                      : FL_NO_RANK;
        if (!wide) {
            best = lowest_pair(pair, n, &at);
            continue;
        }
        /* The next lowest pair without a full scan when it can be told:
         * only pair[before] and pair[at] changed; every other pair left of
         * at is above best (at was the leftmost lowest) and none is below
         * it.  So a changed pair at or below best is the lowest (before
         * first on a tie), else the first pair of rank best right of at,
         * if any (runs like "-----" merge one equal pair after another);
         * else the full scan. */
        const uint32_t rl = has_left ? pair[before] : FL_NO_RANK, rr = pair[at];
        if (rl <= best || rr <= best) {
            if (rl <= rr) {
                at = before;
                best = rl;
            } else {
                best = rr;
            }
            continue;
        }
        size_t q = stop; /* parts between at and stop are gone: FL_NO_RANK */
        while (q < n && pair[q] != best)
            q++;
        if (q < n) {
            at = q;
            continue;
        }
        best = lowest_pair_wide(pair, n, &at);
    }
    if (out)
        parts_emit(end, part_rank, n, out);
    return parts;
}

size_t fl_bpe_encode_short_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                              uint32_t *out)
{
    /* the parts as parts_init describes them */
    uint8_t copy[FL_BPE_SHORT_MAX + 8]; /* piece, zero-padded for 8-byte loads */
    uint32_t pair[FL_BPE_SHORT_MAX], part_rank[FL_BPE_SHORT_MAX];
    uint8_t end[FL_BPE_SHORT_MAX], prev[FL_BPE_SHORT_MAX + 1];
    if (n == 0 || n > FL_BPE_SHORT_MAX)
        return FL_BPE_ERROR;
    const uint8_t *buf = piece_view(piece, n, room, copy);
    return array_merge(v, buf, n, out, end, prev, part_rank, pair, 0);
}

/* Pieces of up to FL_BPE_MEDIUM_MAX bytes: the same array merge (its
 * rescan is bounded by the length, at most ~8 k compares per piece) instead
 * of the heap's list and sift steps and its final look-ups of every part:
 * table borders and rules in prose ("+-----+---", 25..128 bytes) are few
 * but each cost ~2.7 us through the heap (eighteenth pass). */
size_t fl_bpe_encode_medium_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                               uint32_t *out)
{
    uint8_t copy[FL_BPE_MEDIUM_MAX + 8];
    uint32_t pair[FL_BPE_MEDIUM_MAX] __attribute__((aligned(16))), part_rank[FL_BPE_MEDIUM_MAX];
    uint8_t end[FL_BPE_MEDIUM_MAX], prev[FL_BPE_MEDIUM_MAX + 1];
    if (n == 0 || n > FL_BPE_MEDIUM_MAX)
        return FL_BPE_ERROR;
    const uint8_t *buf = piece;
    if (room < n + FL_BPE_PAD) {
        memset(copy, 0, sizeof copy);
        memcpy(copy, piece, n);
        buf = copy;
    }
    return array_merge(v, buf, n, out, end, prev, part_rank, pair, 1);
}

/* ---- several short pieces in lockstep ---------------------------------- */

/* One short merge split at its table probes: a step picks the lowest pair,
 * merges it, hashes the (up to) two new spans and prefetches their filter
 * words and slots; the probes themselves wait for the lane's next step.
 * Stepping the lanes round-robin lets one lane's misses land while the
 * others work. */
typedef struct {
    const uint8_t *buf; /* the piece, or copy */
    uint8_t copy[FL_BPE_SHORT_MAX + 8];
    uint32_t pair[FL_BPE_SHORT_MAX], part_rank[FL_BPE_SHORT_MAX];
    uint8_t end[FL_BPE_SHORT_MAX], prev[FL_BPE_SHORT_MAX + 1];
    uint64_t headr, hr, headl, hl;
    uint32_t n, parts, at, after_end, before, stop;
    uint8_t has_right, has_left, pending;
} bpe_lane;

/* span_prepare without the filter test (a branch on a word that may not
 * have arrived yet): hash the span [a, b) and prefetch both its filter
 * word and its slot; the probe, which tests the filter, comes later. */
FL_HOT_INLINE void span_hash_prefetch(const fl_vocab *v, const uint8_t *buf, uint32_t a, uint32_t b,
                                      uint64_t *head, uint64_t *h)
{
    uint64_t bit = span_hash(buf, a, b, head, h);
    __builtin_prefetch(&v->filter[bit >> 6]);
    fl_vocab_prefetch(v, *h);
}

/* fl_vocab_rank_head for a lane's span, its home slot and filter word
 * (both prefetched at the lane's previous step) read with no branch on
 * either: a filter bit or a slot compare is as likely one way as the
 * other for a merge's spans, and a branch on it mispredicted.  The one
 * branch left is taken only when the home slot holds another key and the
 * filter lets the span through (then the table's own probe).  Exactly
 * fl_vocab_rank_short's answer: a key the filter rules out is never in
 * the table, and a key found at its home slot is that slot's token.
 * (+1% on o200k and cl100k code; "Sixteenth pass, second round".) */
FL_HOT_INLINE uint32_t lane_rank(const fl_vocab *v, const uint8_t *bytes, size_t len, uint64_t head,
                                 uint64_t h)
{
    if (len > FL_SLOT_INLINE)
        return fl_vocab_rank_head(v, bytes, len, head, h);
    const uint64_t tail =
        len > 8 ? (uint32_t)fl_vload32(bytes + len - 4) >> (8 * (FL_SLOT_INLINE - len)) : 0;
    const uint64_t bit = h >> (64 - FL_FILTER_LOG2);
    const uint64_t pass = (v->filter[bit >> 6] >> (bit & 63)) & 1;
    const fl_slot *s = &v->slots[fl_vocab_home(v, h)];
    const uint64_t key = (uint64_t)s->mid | (uint64_t)s->word << 32;
    const uint64_t want = tail | (uint64_t)len << 32;
    const uint64_t match = (uint64_t)(s->head == head) & (uint64_t)((key & 0x3fffffffffull) == want);
    const uint64_t empty = (s->word & 63) == 0;
    if (__builtin_expect(pass & ~match & ~empty & 1, 0))
        return fl_vocab_rank_short(v, head, tail, len, h);
    uint32_t r = s->word >> 6;
    __asm__("" : "+r"(r)); /* keep the select a select (no branch on match) */
    return match & pass ? r : FL_NO_RANK;
}

FL_HOT_INLINE void lane_init(const fl_vocab *v, bpe_lane *L, const uint8_t *piece, size_t n, size_t room)
{
    L->buf = piece_view(piece, n, room, L->copy);
    parts_init(v, L->buf, n, L->end, L->prev, L->part_rank, L->pair);
    L->n = (uint32_t)n;
    L->parts = (uint32_t)n;
    L->pending = 0;
}

/* Finish the previous step's probes, then take one step; 0 when the lane
 * has no pair left to merge.  not_token: the piece is known not to be one
 * token, so a merge that leaves two parts ends the lane (their pair is the
 * whole piece: no probe, and no step to find it has no rank). */
FL_HOT_INLINE int lane_step(const fl_vocab *v, bpe_lane *L, const int not_token)
{
    const uint32_t n = L->n;
    if (L->pending) {
        L->pair[L->at] = L->has_right ? lane_rank(v, L->buf + L->at, L->after_end - L->at,
                                                    L->headr, L->hr)
                                        : FL_NO_RANK;
        if (L->has_left)
            L->pair[L->before] = lane_rank(v, L->buf + L->before, L->stop - L->before, L->headl,
                                           L->hl);
        L->pending = 0;
    }
    size_t lowest;
    uint32_t best = lowest_pair(L->pair, n, &lowest);
    if (best == FL_NO_RANK)
        return 0;
    uint32_t at = (uint32_t)lowest;
    uint32_t gone = L->end[at], stop = L->end[gone];
    L->part_rank[at] = best;
    L->end[at] = (uint8_t)stop;
    L->pair[gone] = FL_NO_RANK;
    if (not_token && --L->parts == 2)
        return 0;
    int has_right = stop < n, has_left = at > 0;
    uint32_t after_end = has_right ? L->end[stop] : 0, before = has_left ? L->prev[at] : 0;
    if (has_right)
        L->prev[stop] = (uint8_t)at;
    L->at = at;
    L->after_end = after_end;
    L->before = before;
    L->stop = stop;
    L->has_right = (uint8_t)has_right;
    L->has_left = (uint8_t)has_left;
    if (has_right)
        span_hash_prefetch(v, L->buf, at, after_end, &L->headr, &L->hr);
    if (has_left)
        span_hash_prefetch(v, L->buf, before, stop, &L->headl, &L->hl);
    L->pending = 1;
    return 1;
}

void fl_bpe_encode_short_lanes(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens,
                               size_t k, uint32_t *const *outs, size_t *counts)
{
    fl_bpe_encode_short_lanes_in(v, pieces, lens, lens, k, outs, counts);
}

FL_HOT_INLINE void short_lanes(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens,
                                  const size_t *rooms, size_t k, uint32_t *const *outs,
                                  size_t *counts, const int not_token)
{
    bpe_lane lanes[FL_BPE_LANES_MAX];
    uint8_t live[FL_BPE_LANES_MAX]; /* the lanes still merging, in order */
    size_t n_live = 0;
    if (k > FL_BPE_LANES_MAX)
        k = FL_BPE_LANES_MAX;
    for (size_t j = 0; j < k; j++) {
        lane_init(v, &lanes[j], pieces[j], lens[j], rooms[j]);
        live[n_live++] = (uint8_t)j;
    }
    while (n_live) {
        size_t kept = 0;
        for (size_t x = 0; x < n_live; x++)
            if (lane_step(v, &lanes[live[x]], not_token))
                live[kept++] = live[x];
        n_live = kept;
    }
    for (size_t j = 0; j < k; j++) {
        const bpe_lane *L = &lanes[j];
        counts[j] = parts_emit(L->end, L->part_rank, L->n, outs[j]);
    }
}

void fl_bpe_encode_short_lanes_in(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens,
                                  const size_t *rooms, size_t k, uint32_t *const *outs,
                                  size_t *counts)
{
    short_lanes(v, pieces, lens, rooms, k, outs, counts, 0);
}

void fl_bpe_encode_short_lanes_nontoken_in(const fl_vocab *v, const uint8_t *const *pieces,
                                           const size_t *lens, const size_t *rooms, size_t k,
                                           uint32_t *const *outs, size_t *counts)
{
    short_lanes(v, pieces, lens, rooms, k, outs, counts, 1);
}

/* ---- long pieces ------------------------------------------------------- */

#define NONE UINT32_MAX

typedef struct {
    uint32_t *next, *prev, *rank, *hpos, *heap;
    uint32_t hlen;
} merge_state;

static inline int key_less(const merge_state *m, uint32_t a, uint32_t b)
{
    return m->rank[a] < m->rank[b] || (m->rank[a] == m->rank[b] && a < b);
}

static inline void heap_place(merge_state *m, uint32_t i, uint32_t node)
{
    m->heap[i] = node;
    m->hpos[node] = i;
}

static void sift_up(merge_state *m, uint32_t i)
{
    uint32_t node = m->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!key_less(m, node, m->heap[parent]))
            break;
        heap_place(m, i, m->heap[parent]);
        i = parent;
    }
    heap_place(m, i, node);
}

static void sift_down(merge_state *m, uint32_t i)
{
    uint32_t node = m->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= m->hlen)
            break;
        if (c + 1 < m->hlen && key_less(m, m->heap[c + 1], m->heap[c]))
            c++;
        if (!key_less(m, m->heap[c], node))
            break;
        heap_place(m, i, m->heap[c]);
        i = c;
    }
    heap_place(m, i, node);
}

static void heap_remove(merge_state *m, uint32_t node)
{
    uint32_t i = m->hpos[node];
    if (i == NONE)
        return;
    m->hpos[node] = NONE;
    m->hlen--;
    if (i == m->hlen)
        return;
    uint32_t moved = m->heap[m->hlen];
    heap_place(m, i, moved);
    sift_up(m, i);
    sift_down(m, m->hpos[moved]);
}

/* Node's pair rank changed to new_rank: fix its heap membership/position. */
static void heap_update(merge_state *m, uint32_t node, uint32_t new_rank)
{
    uint32_t old = m->rank[node];
    m->rank[node] = new_rank;
    if (new_rank == FL_NO_RANK) {
        heap_remove(m, node);
    } else if (m->hpos[node] == NONE) {
        heap_place(m, m->hlen++, node);
        sift_up(m, m->hlen - 1);
    } else if (new_rank < old) {
        sift_up(m, m->hpos[node]);
    } else {
        sift_down(m, m->hpos[node]);
    }
}

size_t fl_bpe_encode_long(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out,
                          fl_bpe_scratch *s)
{
    if (n == 0 || n >= (size_t)NONE)
        return FL_BPE_ERROR;
    size_t need = 5 * n;
    if (s->cap < need) {
        uint32_t *buf = malloc(need * sizeof *buf);
        if (!buf)
            return FL_BPE_ERROR;
        free(s->buf);
        s->buf = buf;
        s->cap = need;
    }
    merge_state m = {s->buf, s->buf + n, s->buf + 2 * n, s->buf + 3 * n, s->buf + 4 * n, 0};
    const uint32_t end = (uint32_t)n;
    for (uint32_t i = 0; i < end; i++) {
        m.next[i] = i + 1;
        m.prev[i] = i ? i - 1 : NONE;
        m.rank[i] = i + 1 < end ? fl_vocab_pair_rank(v, piece[i], piece[i + 1]) : FL_NO_RANK;
        m.hpos[i] = NONE;
        if (m.rank[i] != FL_NO_RANK)
            heap_place(&m, m.hlen++, i);
    }
    for (uint32_t i = m.hlen / 2; i-- > 0;)
        sift_down(&m, i);

    size_t parts = n;
    while (m.hlen) {
        uint32_t left = m.heap[0];
        uint32_t right = m.next[left];
        uint32_t after = m.next[right];
        heap_remove(&m, right);
        m.next[left] = after;
        if (after < end)
            m.prev[after] = left;
        parts--;
        /* pair (left, after): bytes [left, end of after) */
        uint32_t r = after < end ? span_rank(v, piece, left, m.next[after]) : FL_NO_RANK;
        heap_update(&m, left, r);
        uint32_t before = m.prev[left];
        if (before != NONE)
            heap_update(&m, before, span_rank(v, piece, before, after));
    }
    if (out) {
        size_t k = 0;
        for (uint32_t i = 0; i < end; i = m.next[i])
            out[k++] = span_rank(v, piece, i, m.next[i]);
    }
    return parts;
}

size_t fl_bpe_encode(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out,
                     fl_bpe_scratch *s)
{
    return fl_bpe_encode_in(v, piece, n, n, out, s);
}

size_t fl_bpe_encode_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                        uint32_t *out, fl_bpe_scratch *s)
{
    if (n == 1) {
        if (out)
            out[0] = fl_vocab_byte_rank(v, piece[0]);
        return 1;
    }
    if (n <= FL_BPE_SHORT_MAX)
        return fl_bpe_encode_short_in(v, piece, n, room, out);
    /* ASCII pieces (borders, rules, runs, long identifiers): the array
       merge; a piece of multi-byte characters (a CJK or Thai word) has few
       equal ranks in a row, so the scan is rarely skipped and the heap is
       faster (46-byte CJK pieces: 0.8 vs 1.2 us) */
    if (n <= FL_BPE_MEDIUM_MAX && !((piece[1] | piece[2]) & 0x80))
        return fl_bpe_encode_medium_in(v, piece, n, room, out);
    return fl_bpe_encode_long(v, piece, n, out, s);
}

/* ---- numbers ----------------------------------------------------------- */

/* Index of the string of L ASCII digits (1 <= L <= 4) with value x, after
 * an optional space (s = 1): s * FL_BPE_DIGIT_KEYS + dig_base[L] + x. */
static const uint32_t dig_base[5] = {0, 0, 10, 110, 1110};

uint16_t *fl_bpe_digit_table(const fl_vocab *v)
{
    uint32_t max = fl_vocab_max_rank(v);
    if (max == FL_NO_RANK)
        return NULL;
    uint16_t *t = malloc(2 * FL_BPE_DIGIT_KEYS * sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0xff, 2 * FL_BPE_DIGIT_KEYS * sizeof *t); /* 0xffff: not a token */
    for (uint32_t r = 0; r <= max; r++) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r, &len);
        if (!b || len == 0 || len > 5)
            continue;
        size_t s = b[0] == ' ', L = len - s, x = 0, i;
        if (L < 1 || L > 4)
            continue;
        for (i = s; i < len && (unsigned)(b[i] - '0') < 10; i++)
            x = x * 10 + (size_t)(b[i] - '0');
        if (i < len || fl_vocab_rank(v, b, len) != r) /* not digits; or not the rank a lookup gives */
            continue;
        if (r >= 0xffff) { /* does not fit: no table, the plain merge serves */
            free(t);
            return NULL;
        }
        t[s * FL_BPE_DIGIT_KEYS + dig_base[L] + x] = (uint16_t)r;
    }
    return t;
}

/* The rank of the span [a, b) of a number's zero-padded copy: from the
 * table when it is at most 4 digits after an optional space, else the
 * vocabulary (5+ digits: a few tokens only). */
FL_HOT_INLINE uint32_t digit_rank(const fl_vocab *v, const uint16_t *t, const uint8_t *buf,
                                  uint32_t a, uint32_t b)
{
    uint32_t s = buf[a] == ' ', st = a + s, L = b - st;
    if (L <= 4) {
        uint32_t x = 0;
        for (uint32_t i = st; i < b; i++)
            x = x * 10 + (uint32_t)(buf[i] - '0');
        uint16_t r = t[s * FL_BPE_DIGIT_KEYS + dig_base[L] + x];
        return r == 0xffff ? FL_NO_RANK : r;
    }
    return fl_vocab_rank(v, buf + a, b - a);
}

size_t fl_bpe_encode_digits(const fl_vocab *v, const uint16_t *t, const uint8_t *piece, size_t n,
                            uint32_t *out)
{
    return fl_bpe_encode_digits_in(v, t, piece, n, n, out);
}

size_t fl_bpe_encode_digits_in(const fl_vocab *v, const uint16_t *t, const uint8_t *piece, size_t n,
                               size_t room, uint32_t *out)
{
    /* fl_bpe_encode_short's merge, with digit_rank for the spans */
    uint8_t copy[FL_BPE_SHORT_MAX + 8];
    uint32_t pair[FL_BPE_SHORT_MAX], part_rank[FL_BPE_SHORT_MAX];
    uint8_t end[FL_BPE_SHORT_MAX], prev[FL_BPE_SHORT_MAX + 1];
    if (n == 0 || n > FL_BPE_SHORT_MAX)
        return FL_BPE_ERROR;
    const uint8_t *buf = piece_view(piece, n, room, copy);
    parts_init(v, buf, n, end, prev, part_rank, pair);
    size_t parts = n;
    for (;;) {
        size_t at;
        uint32_t best = lowest_pair(pair, n, &at);
        if (best == FL_NO_RANK)
            break;
        uint32_t gone = end[at], stop = end[gone];
        part_rank[at] = best;
        end[at] = (uint8_t)stop;
        pair[gone] = FL_NO_RANK;
        parts--;
        if (stop < n) {
            prev[stop] = (uint8_t)at;
            pair[at] = digit_rank(v, t, buf, (uint32_t)at, end[stop]);
        } else {
            pair[at] = FL_NO_RANK;
        }
        if (at > 0)
            pair[prev[at]] = digit_rank(v, t, buf, prev[at], stop);
    }
    if (out)
        parts_emit(end, part_rank, n, out);
    return parts;
}
