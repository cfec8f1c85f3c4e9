/*
 * pretokenize.h - tiktoken-exact pre-tokenization (the regex split that runs
 * before BPE), by hand-written scanners, one per pattern family:
 *
 *   FL_PAT_R50K   gpt2, r50k_base, p50k_base, p50k_edit
 *   FL_PAT_CL100K cl100k_base
 *   FL_PAT_O200K  o200k_base (and o200k_harmony)
 *
 * Each scanner returns exactly the match tiktoken 0.14.0's regex (fancy-regex,
 * leftmost-first, Unicode 16.0.0 classes) finds at a position. Pieces are
 * contiguous: every character starts some alternative, so the pieces of a text
 * are pos = 0, pos += fl_pretok_next(...), ... until pos == len.
 *
 * Time is linear in the input: a scanner looks at each byte of a run a
 * constant number of times however the run is cut into pieces.
 *
 * Special tokens: tiktoken runs the regex separately on each stretch of text
 * between allowed special tokens, so `$` (end of text) means the end of that
 * stretch. Pass the stretch as (text, len) accordingly.
 *
 * Thread-safe and reentrant: no state beyond the arguments; tables are const.
 */
#ifndef FL_TOKENIZER_PRETOKENIZE_H
#define FL_TOKENIZER_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FL_PAT_R50K = 0,
    FL_PAT_CL100K = 1,
    FL_PAT_O200K = 2,
    FL_PAT_COUNT
} fl_pattern_id;

/* Length in bytes of the pre-token starting at text[pos]; > 0 whenever pos < len.
   text is valid UTF-8 (callers guarantee it). Never reads past text+len.
   Returns 0 when pos >= len or pat is not a valid fl_pattern_id. */
size_t fl_pretok_next(fl_pattern_id pat, const uint8_t *text, size_t len, size_t pos);

/* The same with the ASCII fast paths skipped: the scanners' general path,
   which follows the regex alternative by alternative.  For tests, which
   check that the fast paths agree with it at every position. */
size_t fl_pretok_next_general(fl_pattern_id pat, const uint8_t *text, size_t len, size_t pos);

/* The scanner behind fl_pretok_next for a pattern (NULL when pat is not
   valid), for callers that loop over pieces: scan(text, len, pos) returns
   the END offset of the piece starting at pos (requires pos < len). */
typedef size_t (*fl_pretok_scanner)(const uint8_t *text, size_t len, size_t pos);
fl_pretok_scanner fl_pretok_scanner_for(fl_pattern_id pat);

/* Pieces a 64-byte window at a time (x86-64 builds; NULL elsewhere, and
   for an invalid pattern): scan(text, len, pos) returns in .end the END
   offset of the piece starting at pos (requires pos < len), as the
   scanner above does, and in .more the ends of the pieces after it that
   the same window decided: bit k set = a piece ends at pos + k, in order
   (the next piece ends at pos + the lowest set bit, and so on).  When
   more is 0, call again at the last end.  Never reads past text+len. */
typedef struct {
    size_t end;
    uint64_t more;
} fl_pretok_window;
typedef fl_pretok_window (*fl_pretok_window_scanner)(const uint8_t *text, size_t len, size_t pos);
fl_pretok_window_scanner fl_pretok_window_scanner_for(fl_pattern_id pat);

/* A walk over a text's pieces through windows: start with {{0, 0}, 0};
   fl_pretok_window_next(&walk, window, text, len, pos) is the end of the
   piece starting at pos, which must be the end the walk last returned
   (or where it begins). */
typedef struct {
    fl_pretok_window w; /* w.more: the window's ends not handed out yet */
    size_t base;        /* where that window starts */
} fl_pretok_window_walk;

static inline size_t fl_pretok_window_next(fl_pretok_window_walk *walk, fl_pretok_window_scanner window,
                                           const uint8_t *text, size_t len, size_t pos)
{
    if (walk->w.more) {
        size_t end = walk->base + (size_t)__builtin_ctzll(walk->w.more);
        walk->w.more &= walk->w.more - 1u;
        return end;
    }
    walk->base = pos;
    walk->w = window(text, len, pos);
    return walk->w.end;
}

/* Split text[0..len) into pieces: writes the END offset of each piece
   (exclusive; piece i is [ends[i-1], ends[i]) with ends[-1] = 0) into
   ends[0..cap), starting at byte offset *pos, and advances *pos past the
   pieces written. Returns the number written (< cap only when the text is
   exhausted, i.e. *pos == len afterwards). Lets callers work in fixed-size
   batches without allocating. */
size_t fl_pretok_split(fl_pattern_id pat, const uint8_t *text, size_t len,
                       size_t *pos, size_t *ends, size_t cap);

/* Pattern family for a tiktoken encoding name ("gpt2", "r50k_base", "p50k_base",
   "p50k_edit", "cl100k_base", "o200k_base", "o200k_harmony"); -1 if unknown. */
int fl_pretok_pattern_for_encoding(const char *encoding_name);

#endif /* FL_TOKENIZER_PRETOKENIZE_H */
