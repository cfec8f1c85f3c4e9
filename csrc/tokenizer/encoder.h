/*
 * encoder.h - a loaded encoding: vocabulary + pre-tokenizer pattern +
 * special tokens.  Text -> token ids, or just their count, exactly as
 * tiktoken 0.14.0's CoreBPE.encode gives them.
 *
 * Immutable after fl_encoder_new, except for its internal piece cache,
 * which is thread-safe: any number of threads may encode with one encoder
 * at once, each with its own fl_bpe_scratch.
 */
#ifndef FL_TOKENIZER_ENCODER_H
#define FL_TOKENIZER_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/bpe.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/vocab.h"

typedef struct fl_encoder fl_encoder;

/* A growable list of token ids (free ids with free()). */
typedef struct {
    uint32_t *ids;
    size_t len, cap;
} fl_ids;

void fl_ids_free(fl_ids *ids);

#define FL_ENC_OK 0
#define FL_ENC_NOMEM (-1)
#define FL_ENC_DISALLOWED (-2) /* a disallowed special token is in the text */

/*
 * Take ownership of vocab (also on failure) and build an encoder with the
 * given special tokens (specials[i] of special_lens[i] bytes has rank
 * special_ranks[i]).  Fails (NULL, message in err) when a byte value has no
 * rank, a special token is empty, or memory runs out.
 */
fl_encoder *fl_encoder_new(fl_vocab *vocab, fl_pattern_id pat, const uint8_t *const *specials,
                           const size_t *special_lens, const uint32_t *special_ranks,
                           size_t n_specials, char *err, size_t errlen);
void fl_encoder_free(fl_encoder *e);

const fl_vocab *fl_encoder_vocab(const fl_encoder *e);

/* The shared piece caches (see piece_cache.h): 2^FL_ENC_CACHE_LOG2 entries
 * of 64 bytes for pieces of 3..24 bytes and 2^FL_ENC_LONG_CACHE_LOG2
 * entries of 256 bytes for 25..128 bytes, allocated with the encoder
 * (pages touched only when used), on by default.  Pieces that need a BPE
 * merge are cached (tokens_too: single-token pieces as well).  These three
 * calls are safe while other threads encode.  The short table is 256 KB so
 * that it stays in L2 with the vocabulary's filter: at 1 MB (2^14) its
 * probes missed to L3 and count ran ~4% slower on code, for no gain on
 * prose (docs/tokenizer.md, "Shared piece cache"). */
#define FL_ENC_CACHE_LOG2 12
/* The short table has twice the entries (512 KB) when the vocabulary's
 * hash table is under FL_ENC_SMALL_TABLE (r50k/p50k, 2 MB): their
 * smaller vocabulary leaves ~3x as many pieces that are not one token
 * (prose: 24.5 cache hits per KB against cl100k's 8), and the bench's
 * r50k/p50k rows measured +2..3% on prose and code with 2^13 (docs/
 * tokenizer.md, "Twelfth pass"). */
#define FL_ENC_SMALL_CACHE_LOG2 13
/* whitespace pieces of up to 3 newlines then spaces, under 64 bytes in
   all, counted from a per-encoder table (count_piece_rest) */
#define FL_ENC_WS_NL 4
#define FL_ENC_WS_SP 64
#define FL_ENC_LONG_CACHE_LOG2 10
/* Texts of at least this many bytes start with a warm-up sweep over the
 * small lookup structures (encoder.c, warm_up; docs/tokenizer.md). */
#define FL_ENC_WARM_MIN 16384
/* For a mostly-ASCII text the warm-up also asks for the home slot lines
 * of the FL_ENC_HOT_TOKENS lowest-ranked tokens of 1..12 bytes (BPE's
 * first merges are its most frequent tokens), a list made from the
 * vocabulary on the first long text, when the vocabulary's hash table is
 * FL_ENC_SMALL_TABLE or more (cl100k/o200k: o200k prose-unique +2%; more
 * tokens measured slower).  Not for r50k/p50k: alone (8192 tokens, ~85% of
 * r50k prose's one-token look-ups) they gained 5-7% there, but on top of
 * the lockstep merges they cost 3-5% (docs/tokenizer.md, "Nineteenth
 * pass, window loop" and "Nineteenth pass, the two together"). */
#define FL_ENC_HOT_TOKENS 2048

/* Counting merges the short pieces the piece cache missed FL_ENC_LANES at
 * a time, in lockstep, on every vocabulary (until the nineteenth pass only
 * when the hash table was 4 MB or more: on the 2 MB r50k/p50k tables the
 * lanes had measured 0.95-1.0x; on this stop's machine they measured
 * +15-20% on r50k/p50k prose-unique and +18-25% on prose and code,
 * docs/tokenizer.md, "Nineteenth pass").  fl_encoder_set_merge_lanes
 * turns them off (tests); results are the same either way.  16 lanes
 * measured +1.5-2% over 8 on o200k/cl100k code once the count's look-ups
 * were prefetched a window ahead (prose the same; "Sixteenth pass"). */
#define FL_ENC_LANES 16
/* Counting through 64-byte windows scans this many windows ahead of the
 * one it counts, hashing their pieces and prefetching their slots and
 * filter words (encoder.c, ahead_scan and loop_ahead). */
#ifndef FL_ENC_AHEAD
#define FL_ENC_AHEAD 2
#endif
#define FL_ENC_SMALL_TABLE ((size_t)4 << 20)
void fl_encoder_set_merge_lanes(fl_encoder *e, int on);
void fl_encoder_set_cache(fl_encoder *e, int on, int tokens_too);
int fl_encoder_cache_enabled(const fl_encoder *e);
void fl_encoder_clear_cache(fl_encoder *e);
/* The warm-up's hot slot lines (tests): the line numbers (64-byte lines
 * from the slot table's first line), *n of them, made now if not yet;
 * NULL when out of memory. */
const uint32_t *fl_encoder_hot_lines(const fl_encoder *e, size_t *n);
size_t fl_encoder_special_count(const fl_encoder *e);
/* Bytes of any token, ordinary or special; NULL when the id is unknown. */
const uint8_t *fl_encoder_token_bytes(const fl_encoder *e, uint32_t id, size_t *len);

/*
 * Encode text[0..len) (valid UTF-8).  allowed[i] != 0 lets special token i
 * be emitted as itself; disallowed[i] != 0 makes its presence anywhere in
 * the text an error (FL_ENC_DISALLOWED, *which = i, checked before any
 * work, leftmost occurrence first).  Either mask may be NULL (none).
 * When out is non-NULL the ids are appended to it; *count always receives
 * the number of tokens.  scratch is per call or per thread.
 */
int fl_encode(const fl_encoder *e, const uint8_t *text, size_t len, const uint8_t *allowed,
              const uint8_t *disallowed, fl_ids *out, size_t *count, size_t *which,
              fl_bpe_scratch *scratch);

/* Leftmost occurrence of a special token whose mask byte is set, at or
 * after from: returns its offset (len when none) and its index in *which. */
size_t fl_encoder_find_special(const fl_encoder *e, const uint8_t *text, size_t len, size_t from,
                               const uint8_t *mask, size_t *which);

/* Encode one piece without pre-tokenization (tiktoken's
 * _encode_single_piece): whole-piece lookup, else BPE. */
int fl_encode_piece(const fl_encoder *e, const uint8_t *piece, size_t len, fl_ids *out,
                    fl_bpe_scratch *scratch);

/*
 * Count tokens of n texts on up to n_threads threads (>= 1).  Same masks
 * as fl_encode, applied to every text; counts[i] receives the count of
 * texts[i], or (size_t)-1 for a text holding a disallowed special token
 * (whose index goes to which[i] when which is non-NULL).  Returns
 * FL_ENC_OK or FL_ENC_NOMEM.
 */
int fl_count_batch(const fl_encoder *e, const uint8_t *const *texts, const size_t *lens, size_t n,
                   const uint8_t *allowed, const uint8_t *disallowed, size_t *counts,
                   size_t *which, int n_threads);

#endif
