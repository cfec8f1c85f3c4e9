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

#define FL_NO_RANK UINT32_MAX

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

/* Rank of a byte string, or FL_NO_RANK. */
uint32_t fl_vocab_rank(const fl_vocab *v, const uint8_t *bytes, size_t len);

/* Rank of the two-byte string (a, b), or FL_NO_RANK: a table lookup. */
uint32_t fl_vocab_pair_rank(const fl_vocab *v, uint8_t a, uint8_t b);

/* Rank of a single byte, or FL_NO_RANK. */
uint32_t fl_vocab_byte_rank(const fl_vocab *v, uint8_t b);

/* Bytes of a rank (NULL when the rank is not in the vocabulary). */
const uint8_t *fl_vocab_bytes(const fl_vocab *v, uint32_t rank, size_t *len);

#endif
