/*
 * bpe.h - exact byte-pair merge of one pre-token, tiktoken's semantics:
 * repeatedly merge the adjacent pair whose concatenation has the lowest
 * rank in the vocabulary, leftmost on ties, until no pair is a token.
 */
#ifndef FL_TOKENIZER_BPE_H
#define FL_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/vocab.h"

/* Per-call (per-thread) work memory for long pieces; zero-initialise it. */
typedef struct {
    uint32_t *buf;
    size_t cap; /* in uint32_t */
} fl_bpe_scratch;

void fl_bpe_scratch_free(fl_bpe_scratch *s);

#define FL_BPE_ERROR ((size_t)-1)

/* Pieces up to this many bytes use the simple array merge; longer pieces
 * use the heap + linked-list merge (O(n log n)). */
#define FL_BPE_SHORT_MAX 32
/* Pieces up to this many bytes (<= 255: the parts' offsets are bytes) use
 * the same array merge (fl_bpe_encode_medium_in); only longer ones the heap. */
#define FL_BPE_MEDIUM_MAX 128

/*
 * Merge piece[0..n) (n >= 1).  Writes the token ranks to out (room for n)
 * unless out is NULL, and returns how many tokens there are, or
 * FL_BPE_ERROR when memory runs out or n >= 2^32 - 1.  Does not look the
 * whole piece up first: callers do (tiktoken emits the whole-piece token
 * when there is one).
 */
size_t fl_bpe_encode(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out,
                     fl_bpe_scratch *s);

/* The _in forms of the merges take room, how many bytes are readable from
 * piece on (>= n).  With room >= n + FL_BPE_PAD a short merge reads the
 * piece where it is instead of a zero-padded copy (the bytes past the
 * piece are read but never used); the results are the same. */
#define FL_BPE_PAD 8
size_t fl_bpe_encode_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                        uint32_t *out, fl_bpe_scratch *s);

/* Up to FL_BPE_LANES_MAX short merges (pieces of 1..FL_BPE_SHORT_MAX bytes)
 * run in lockstep, so one piece's table misses overlap the others' work:
 * the ids of pieces[j] go to outs[j] (room for lens[j]), their number to
 * counts[j]; each is exactly fl_bpe_encode_short's result. */
#define FL_BPE_LANES_MAX 16
void fl_bpe_encode_short_lanes(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens,
                               size_t k, uint32_t *const *outs, size_t *counts);
void fl_bpe_encode_short_lanes_in(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens,
                                  const size_t *rooms, size_t k, uint32_t *const *outs,
                                  size_t *counts);
/* fl_bpe_encode_short_lanes_in for pieces the caller knows are not one
 * token (the count's deferred merges): a lane stops as soon as its piece
 * is down to two parts, whose pair is the whole piece and so no token,
 * without probing it.  The same ids as the plain merge for such pieces
 * (and only for such pieces). */
void fl_bpe_encode_short_lanes_nontoken_in(const fl_vocab *v, const uint8_t *const *pieces,
                                           const size_t *lens, const size_t *rooms, size_t k,
                                           uint32_t *const *outs, size_t *counts);

/* The two algorithms, exposed so tests can check they agree. */
size_t fl_bpe_encode_short(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out);
size_t fl_bpe_encode_short_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                              uint32_t *out);
size_t fl_bpe_encode_medium_in(const fl_vocab *v, const uint8_t *piece, size_t n, size_t room,
                               uint32_t *out);
/* Numbers (r50k/p50k's ` ?\p{N}+` pieces that are not tokens): a table of
 * the ranks of every string of 1..4 ASCII digits after an optional space
 * (2 x FL_BPE_DIGIT_KEYS uint16_t, 0xffff = not a token; 44 KB, built from
 * the vocabulary's tokens, malloc'ed; NULL when out of memory or when such
 * a token's rank does not fit 16 bits), and the short merge with its span
 * ranks from that table (longer spans from the vocabulary).  The piece
 * must be an optional space then 1..FL_BPE_SHORT_MAX ASCII digits; the
 * ids are exactly fl_bpe_encode_short's. */
#define FL_BPE_DIGIT_KEYS 11110
uint16_t *fl_bpe_digit_table(const fl_vocab *v);
size_t fl_bpe_encode_digits(const fl_vocab *v, const uint16_t *t, const uint8_t *piece, size_t n,
                            uint32_t *out);
size_t fl_bpe_encode_digits_in(const fl_vocab *v, const uint16_t *t, const uint8_t *piece, size_t n,
                               size_t room, uint32_t *out);
size_t fl_bpe_encode_long(const fl_vocab *v, const uint8_t *piece, size_t n, uint32_t *out,
                          fl_bpe_scratch *s);

#endif
