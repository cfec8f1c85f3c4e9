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
 * FL_BPE_SHORT_MAX so that is a few cache lines of work.
 *
 * Long pieces use a doubly linked list of parts, identified by their start
 * byte offset, and an indexed binary min-heap of pairs keyed by
 * (rank, start offset).  The start-offset tie-break is exactly "leftmost",
 * so the merge order is identical to the quadratic rule, in O(n log n)
 * time and 20 bytes of scratch per input byte, with no recursion.
 */
#include "tokenizer/bpe.h"

#include <stdlib.h>
#include <string.h>

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

size_t fl_bpe_encode_short(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out)
{
    uint32_t bound[FL_BPE_SHORT_MAX + 1]; /* part i is [bound[i], bound[i+1]) */
    uint32_t rank[FL_BPE_SHORT_MAX];      /* rank of parts i and i+1 merged  */
    if (n == 0 || n > FL_BPE_SHORT_MAX)
        return FL_BPE_ERROR;
    size_t parts = n;
    for (size_t i = 0; i <= n; i++)
        bound[i] = (uint32_t)i;
    for (size_t i = 0; i + 1 < n; i++)
        rank[i] = fl_vocab_pair_rank(v, piece[i], piece[i + 1]);
    for (;;) {
        uint32_t best = FL_NO_RANK;
        size_t at = 0;
        for (size_t i = 0; i + 1 < parts; i++) {
            if (rank[i] < best) {
                best = rank[i];
                at = i;
            }
        }
        if (best == FL_NO_RANK)
            break;
        /* merge parts at and at+1: drop boundary at+1 and pair rank at+1 */
        memmove(&bound[at + 1], &bound[at + 2], (parts - at - 1) * sizeof bound[0]);
        if (at + 2 < parts)
            memmove(&rank[at + 1], &rank[at + 2], (parts - at - 2) * sizeof rank[0]);
        parts--;
        /* the (up to) two new pairs: hash both, prefetch both, then probe */
        int has_right = at + 1 < parts, has_left = at > 0;
        uint64_t hr = 0, hl = 0;
        if (has_right) {
            hr = fl_vocab_hash(piece + bound[at], bound[at + 2] - bound[at]);
            fl_vocab_prefetch(v, hr);
        }
        if (has_left) {
            hl = fl_vocab_hash(piece + bound[at - 1], bound[at + 1] - bound[at - 1]);
            fl_vocab_prefetch(v, hl);
        }
        if (has_right)
            rank[at] = fl_vocab_rank_hashed(v, piece + bound[at], bound[at + 2] - bound[at], hr);
        if (has_left)
            rank[at - 1] = fl_vocab_rank_hashed(v, piece + bound[at - 1], bound[at + 1] - bound[at - 1], hl);
    }
    if (out) {
        uint64_t h[FL_BPE_SHORT_MAX];
        for (size_t i = 0; i < parts; i++) {
            h[i] = fl_vocab_hash(piece + bound[i], bound[i + 1] - bound[i]);
            fl_vocab_prefetch(v, h[i]);
        }
        for (size_t i = 0; i < parts; i++)
            out[i] = fl_vocab_rank_hashed(v, piece + bound[i], bound[i + 1] - bound[i], h[i]);
    }
    return parts;
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
    if (n == 1) {
        if (out)
            out[0] = fl_vocab_byte_rank(v, piece[0]);
        return 1;
    }
    if (n <= FL_BPE_SHORT_MAX)
        return fl_bpe_encode_short(v, piece, n, out);
    return fl_bpe_encode_long(v, piece, n, out, s);
}
