/*
 * vocab.h - a BPE vocabulary: token bytes <-> rank.
 *
 * Parsed once from tiktoken's file format (one "base64(token) rank" line per
 * token), then immutable and safe to share between threads.
 */
#ifndef FL_TOKENIZER_VOCAB_H
#define FL_TOKENIZER_VOCAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct fl_vocab fl_vocab;

/*
 * Parse a .tiktoken file held in memory.  Returns the vocabulary, or NULL
 * with a message in err (errlen bytes, NUL-terminated) on a malformed line,
 * a duplicate token or rank, or out of memory.
 */
fl_vocab *fl_vocab_parse_tiktoken(const uint8_t *data, size_t len, char *err, size_t errlen);

/* Build from explicit (bytes, rank) pairs: tokens[i] of lens[i] bytes. */
fl_vocab *fl_vocab_from_tokens(const uint8_t *const *tokens, const size_t *lens,
                               const uint32_t *ranks, size_t n, char *err, size_t errlen);

void fl_vocab_free(fl_vocab *v);

/* Number of tokens and the largest rank (FL_NO_RANK when empty). */
size_t fl_vocab_count(const fl_vocab *v);
uint32_t fl_vocab_max_rank(const fl_vocab *v);

/*
 * Lookups, inline (vocab_inline.h):
 *   fl_vocab_rank(v, bytes, len)      rank of a byte string, or FL_NO_RANK
 *   fl_vocab_pair_rank(v, a, b)       rank of the two bytes (a, b): a table
 *   fl_vocab_byte_rank(v, b)          rank of one byte
 *   fl_vocab_hash / fl_vocab_prefetch / fl_vocab_rank_hashed
 *       the lookup in steps, so callers can hash several keys and prefetch
 *       their slots before probing (hides cache-miss latency);
 *       fl_vocab_rank_hashed(v, p, n, fl_vocab_hash(p, n)) == fl_vocab_rank(v, p, n)
 */

/* Bytes of a rank (NULL when the rank is not in the vocabulary). */
const uint8_t *fl_vocab_bytes(const fl_vocab *v, uint32_t rank, size_t *len);

#include "tokenizer/vocab_inline.h"

#endif
