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

/*
 * A prebuilt form of the vocabulary (the hash table and arrays as they are
 * in memory, plus a header and a checksum), so a later process can start
 * without parsing: fl_vocab_serialize returns a malloc'd blob (NULL when out
 * of memory); fl_vocab_from_blob makes a vocabulary that points INTO blob
 * (which must stay alive and unchanged while the vocabulary is used; freeing
 * the vocabulary does not free it).  from_blob checks the header, the sizes,
 * the checksum over every byte and that the blob was built from a source
 * file whose SHA-256 is source_sha256 (32 bytes); NULL + err otherwise.
 * blob must be 8-byte aligned (mmap'd or malloc'd memory is).
 */
uint8_t *fl_vocab_serialize(const fl_vocab *v, const uint8_t source_sha256[32], size_t *len);
fl_vocab *fl_vocab_from_blob(const uint8_t *blob, size_t len, const uint8_t source_sha256[32],
                             char *err, size_t errlen);

/* Tests only: recompute a blob's checksum after a test edited it (to
 * check that the structure checks, not only the checksum, refuse it); the
 * slot array inside a blob is fl_vocab_blob_slots_for_test, below. */
void fl_vocab_blob_reseal_for_test(uint8_t *blob, size_t len);

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

/* Tests only: the slot array inside a blob from fl_vocab_serialize (NULL
 * when its sizes do not add up). */
fl_slot *fl_vocab_blob_slots_for_test(uint8_t *blob, size_t len, size_t *n_slots);

#endif
