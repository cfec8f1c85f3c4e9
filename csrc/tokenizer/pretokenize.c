/*
 * pretokenize.c - hand-written scanners that split text exactly as
 * tiktoken 0.14.0's regexes do (fancy-regex: leftmost-first alternation,
 * backtracking, Unicode 16.0.0 classes, \s = White_Space, `$` = end of text).
 *
 * Character classes (unicode_tables.h), exclusive per code point:
 *   L  letter (Lu Ll Lt Lm Lo)   N  number   W  White_Space (\s)
 *   O  anything else, [^\s\p{L}\p{N}] (marks, punctuation, symbols, controls)
 * Each scanner looks at the character c at pos and resolves the regex's
 * alternatives in order; the comments quote the alternative being decided.
 *
 * r50k  '(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s
 *   Contractions are case-sensitive. A space joins the run of L, N or O after
 *   it. A whitespace run: to the end of text it is one piece; otherwise
 *   \s+(?!\S) backtracks to leave the run's last character for the next piece
 *   (so " word" keeps its space), and a single whitespace char is itself.
 *
 * cl100k '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+
 *        | ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
 *   Contractions ignore case: simple case folding maps U+017F (long s) to s,
 *   no other non-ASCII character folds to d l m r s t v e. Any one character
 *   but \r \n L N may prefix a letter run. Numbers go in threes. An O run
 *   swallows the \r \n after it. A whitespace run that does not reach the end
 *   of text ends after its last \r or \n if it has one (\s* backtracks to it).
 *
 * o200k  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+C?
 *        |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*C?
 *        |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *   with C = (?i:'s|'t|'re|'ve|'m|'ll|'d). Not possessive, so backtracking
 *   decides; call UP = Lu Lt Lm Lo M and LOW = Ll Lm Lo M (BOTH = Lm Lo M is
 *   in each). From a start s, UP* takes the longest UP run [s, a); LOW+ then
 *   succeeds at a if a is Ll (taking the LOW run from a); otherwise UP*
 *   backtracks to the last BOTH char in [s, a), which alone is LOW+ (the char
 *   after it is Lu/Lt or a, neither LOW). Failing both, the first alternative
 *   fails at s and the second matches exactly [s, a) if a > s. The optional
 *   prefix is tried first with, then without (only a mark can start UP/LOW
 *   runs without it), each alternative in turn. C? then takes a contraction
 *   if one follows. Whitespace: up to the last \r \n of the run if any, else
 *   like r50k (the whole run when it reaches the end of text).
 *
 * Linear time: every scan is a forward pass over one run, and a run is
 * rescanned only a constant number of times: a whitespace run yields at most
 * three pieces, each scanning the rest of the run once; an o200k UP run that
 * ends early (at its last BOTH char) leaves a rest with no BOTH char, which
 * the next piece takes whole; an ASCII fast path that stops on a non-ASCII
 * byte is redone once by the general path. So a 10 MB run costs O(10 MB).
 *
 * ASCII fast paths: the letter alternatives are first tried on ASCII alone
 * ([A-Za-z], where UP is A-Z and LOW is a-z); their answer is used only when
 * the scan stopped on an ASCII byte, otherwise the general path decides.
 * With SSE2 (x86-64) the first try looks at 16 bytes at once (bit masks per
 * byte class, a run's end is a count of trailing ones); runs that fill the
 * block and the last 16 bytes of a text take the 8-byte (SWAR) paths.
 *
 * 64-byte windows (x86-64): callers that walk a text's pieces (the
 * encoder, fl_pretok_split) get every piece start of 64 ASCII bytes at
 * once from bit masks of byte classes, the scanners above deciding only
 * what the masks cannot (see "64-byte windows" below).
 *
 * Input is valid UTF-8 by contract, so a lead byte is decoded without
 * checking the continuation bytes after it. On anything else the split is
 * unspecified but safe: a byte that is not a lead byte (or whose sequence
 * would run past the end) is a one-byte character of class O, pieces are
 * non-empty and cover the input, and nothing at or past text + len is read.
 */
#include "tokenizer/pretokenize.h"

#include <string.h>

#include "tokenizer/unicode_tables.h"

#define CLS_W FL_UC_WS
#define CLS_L FL_UC_L
#define CLS_N FL_UC_N
#define CLS_M FL_UC_M
#define CLS_LETTER_OR_NUMBER (FL_UC_L | FL_UC_N)
#define CLS_WLN (FL_UC_WS | FL_UC_L | FL_UC_N)
/* o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]. */
#define CLS_UP (FL_UC_LU | FL_UC_LT | FL_UC_LM | FL_UC_LO | FL_UC_M)
#define CLS_LOW (FL_UC_LL | FL_UC_LM | FL_UC_LO | FL_UC_M)
#define CLS_BOTH (CLS_UP & CLS_LOW)

#if defined(__GNUC__) || defined(__clang__)
#define FL_HOT static inline __attribute__((always_inline))
#define FL_COLD static __attribute__((noinline))
#else
#define FL_HOT static inline
#define FL_COLD static
#endif

/* One decoded character: its class byte and its length in bytes. */
typedef struct {
    uint8_t cls;
    uint8_t size;
} fl_char;

/* Class and size of the character at text[i]; requires i < len. */
FL_HOT fl_char
char_at(const uint8_t *text, size_t len, size_t i)
{
    uint8_t b = text[i];
    fl_char ch = {0, 1};
    if (b < 0x80) {
        ch.cls = fl_uc_direct[b];
    } else if (b < 0xE0) {
        if (b >= 0xC2 && i + 1 < len) {
            ch.cls = fl_uc_direct[((uint32_t)(b & 0x1F) << 6) | (text[i + 1] & 0x3Fu)];
            ch.size = 2;
        }
    } else if (b < 0xF0) {
        if (i + 2 < len) {
            ch.cls = fl_uc_class(((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(text[i + 1] & 0x3F) << 6) |
                                 (text[i + 2] & 0x3Fu));
            ch.size = 3;
        }
    } else if (b < 0xF5 && i + 3 < len) {
        ch.cls = fl_uc_class(((uint32_t)(b & 0x07) << 18) | ((uint32_t)(text[i + 1] & 0x3F) << 12) |
                             ((uint32_t)(text[i + 2] & 0x3F) << 6) | (text[i + 3] & 0x3Fu));
        ch.size = 4;
    }
    return ch;
}

FL_HOT uint8_t
class_at(const uint8_t *text, size_t len, size_t i)
{
    return i < len ? char_at(text, len, i).cls : 0;
}

static inline int
is_newline_byte(uint8_t b)
{
    return b == '\r' || b == '\n';
}

/* ASCII letter tests (false for every byte >= 0x80). */
static inline int
is_ascii_letter(uint8_t b)
{
    return (uint8_t)((b | 0x20) - 'a') < 26;
}

static inline int
is_ascii_upper(uint8_t b)
{
    return (uint8_t)(b - 'A') < 26;
}

static inline int
is_ascii_lower(uint8_t b)
{
    return (uint8_t)(b - 'a') < 26;
}

/* ---- word-at-a-time ASCII runs ------------------------------------------
 * Eight bytes at a time (plain 64-bit arithmetic, no SIMD): a mask with the
 * high bit of every byte in a range, then the run length is the number of
 * leading set bytes.  A word ends in its first eight bytes most of the
 * time, so the scan takes one step and one predictable branch instead of a
 * byte loop whose exit branch mispredicts once per piece.  Bytes >= 0x80
 * never match, so a run stops on the first non-ASCII byte as the byte
 * loops do. */
#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGH (SWAR_ONES * 0x80)

FL_HOT uint64_t
load8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* High bit of each byte of w that lies in [lo, hi] (lo >= 1, hi <= 0x7e). */
FL_HOT uint64_t
swar_in_range(uint64_t w, uint8_t lo, uint8_t hi)
{
    uint64_t x = w & ~SWAR_HIGH; /* 7 bits per byte: the sums below never carry */
    uint64_t ge_lo = x + SWAR_ONES * (uint64_t)(0x80 - lo);
    uint64_t gt_hi = x + SWAR_ONES * (uint64_t)(0x7f - hi);
    return ge_lo & ~gt_hi & ~w & SWAR_HIGH;
}

FL_HOT uint64_t
swar_upper(uint64_t w)
{
    return swar_in_range(w, 'A', 'Z');
}

FL_HOT uint64_t
swar_lower(uint64_t w)
{
    return swar_in_range(w, 'a', 'z');
}

FL_HOT uint64_t
swar_letter(uint64_t w)
{
    return swar_in_range(w | (SWAR_ONES * 0x20), 'a', 'z');
}

FL_HOT uint64_t
swar_digit(uint64_t w)
{
    return swar_in_range(w, '0', '9');
}

/* Number of leading bytes (0..8) whose high bit is set in mask. */
FL_HOT size_t
swar_leading(uint64_t mask)
{
    uint64_t miss = ~mask & SWAR_HIGH;
    return miss ? (size_t)__builtin_ctzll(miss) >> 3 : 8;
}

/* End of the run from i of bytes matched by swar (and, byte by byte, by
   is_byte in the last 7 bytes of the text). */
#define ASCII_RUN(text, len, i, swar, is_byte)                        \
    do {                                                              \
        size_t k_ = 8;                                                \
        while (k_ == 8 && (i) + 8 <= (len)) {                         \
            k_ = swar_leading(swar(load8((text) + (i))));             \
            (i) += k_;                                                \
        }                                                             \
        if (k_ == 8)                                                  \
            while ((i) < (len) && is_byte((text)[i]))                 \
                (i)++;                                                \
    } while (0)

/* True when a scan that stopped at i stopped on ASCII (or the end), so the
   ASCII fast paths below saw everything that decides the match. */
static inline int
stops_on_ascii(const uint8_t *text, size_t len, size_t i)
{
    return i == len || text[i] < 0x80;
}

/* End of the run of characters whose class intersects `mask`, from i. */
static size_t
run_of(const uint8_t *text, size_t len, size_t i, uint8_t mask)
{
    while (i < len) {
        uint8_t b = text[i];
        if (b < 0x80) {
            if (!(fl_uc_direct[b] & mask))
                break;
            i++;
        } else {
            fl_char ch = char_at(text, len, i);
            if (!(ch.cls & mask))
                break;
            i += ch.size;
        }
    }
    return i;
}

/* End of the run of O characters ([^\s\p{L}\p{N}]) from i. */
static size_t
run_of_other(const uint8_t *text, size_t len, size_t i)
{
    while (i < len) {
        fl_char ch = char_at(text, len, i);
        if (ch.cls & CLS_WLN)
            break;
        i += ch.size;
    }
    return i;
}

/* End of the run of \r and \n (and '/' if slash) bytes from i. */
static size_t
run_of_newlines(const uint8_t *text, size_t len, size_t i, int slash)
{
    while (i < len && (is_newline_byte(text[i]) || (slash && text[i] == '/')))
        i++;
    return i;
}

/* Up to `max` characters of class N from i. */
static size_t
numbers_up_to(const uint8_t *text, size_t len, size_t i, int max)
{
    for (int n = 0; n < max && i < len; n++) {
        fl_char ch = char_at(text, len, i);
        if (!(ch.cls & CLS_N))
            break;
        i += ch.size;
    }
    return i;
}

/* A whitespace run starting at pos (text[pos] is W): where it ends, where
   its last character starts, and the end of its last \r or \n (0 if none). */
typedef struct {
    size_t end;
    size_t last_start;
    size_t last_newline_end;
} ws_run;

static ws_run
scan_whitespace(const uint8_t *text, size_t len, size_t pos)
{
    ws_run run = {pos, pos, 0};
    size_t i = pos;
    while (i < len) {
        fl_char ch = char_at(text, len, i);
        if (!(ch.cls & CLS_W))
            break;
        if (is_newline_byte(text[i]))
            run.last_newline_end = i + 1;
        run.last_start = i;
        i += ch.size;
    }
    run.end = i;
    return run;
}

/* \s+(?!\S) then \s (r50k, cl100k) or \s+ (o200k) once the run does not reach
   the end of text: all but the last character, or the single character. */
static size_t
whitespace_not_at_end(ws_run run, size_t pos)
{
    return run.last_start > pos ? run.last_start : run.end;
}

/* The same for a run of ASCII whitespace (text[pos] is one): 0 when the run
   stops on a non-ASCII byte (which may continue it; the general path
   decides), else 1 with *run filled in. */
FL_HOT int
ascii_whitespace_run(const uint8_t *text, size_t len, size_t pos, ws_run *run)
{
    size_t i = pos, newline_end = 0;
    while (i < len && text[i] < 0x80 && (fl_uc_direct[text[i]] & CLS_W)) {
        if (is_newline_byte(text[i]))
            newline_end = i + 1;
        i++;
    }
    if (!stops_on_ascii(text, len, i))
        return 0;
    run->end = i;
    run->last_start = i - 1;
    run->last_newline_end = newline_end;
    return 1;
}

/* Where each pattern's whitespace alternatives end a run from pos:
   r50k   \s++$ | \s+(?!\S) | \s
   cl100k \s++$ | \s*[\r\n] | \s+(?!\S) | \s
   o200k  \s*[\r\n]+ | \s+(?!\S) | \s+ */
static inline size_t
r50k_whitespace_end(ws_run run, size_t len, size_t pos)
{
    return run.end == len ? len : whitespace_not_at_end(run, pos);
}

static inline size_t
cl100k_whitespace_end(ws_run run, size_t len, size_t pos)
{
    if (run.end == len)
        return len;
    return run.last_newline_end ? run.last_newline_end : whitespace_not_at_end(run, pos);
}

static inline size_t
o200k_whitespace_end(ws_run run, size_t len, size_t pos)
{
    if (run.last_newline_end)
        return run.last_newline_end;
    return run.end == len ? len : whitespace_not_at_end(run, pos);
}

/* ASCII byte classes for the fast paths (false for every byte >= 0x80). */
static inline int
is_ascii_digit(uint8_t b)
{
    return (uint8_t)(b - '0') < 10;
}

static inline int
is_ascii_other(uint8_t b) /* [^\s\p{L}\p{N}] */
{
    return b < 0x80 && !(fl_uc_direct[b] & CLS_WLN);
}

static inline int
is_ascii_space(uint8_t b) /* \s */
{
    return b < 0x80 && (fl_uc_direct[b] & CLS_W);
}

/* The lower-case ASCII letter the character at i matches in a contraction, or
   0. Case-insensitively, U+017F LONG S (C5 BF) matches 's'. */
static char
contraction_letter(const uint8_t *text, size_t len, size_t i, int ignore_case, size_t *size)
{
    if (i >= len)
        return 0;
    uint8_t b = text[i];
    *size = 1;
    if (b >= 'a' && b <= 'z')
        return (char)b;
    if (!ignore_case)
        return 0;
    if (b >= 'A' && b <= 'Z')
        return (char)(b - 'A' + 'a');
    if (b == 0xC5 && i + 1 < len && text[i + 1] == 0xBF) {
        *size = 2;
        return 's';
    }
    return 0;
}

/* contraction_at once text[i] is known to be an apostrophe. */
static size_t
contraction_after_quote(const uint8_t *text, size_t len, size_t i, int ignore_case)
{
    size_t n1 = 0, n2 = 0;
    char a = contraction_letter(text, len, i + 1, ignore_case, &n1);
    if (a == 's' || a == 'd' || a == 'm' || a == 't')
        return 1 + n1;
    if (a != 'l' && a != 'v' && a != 'r')
        return 0;
    char b = contraction_letter(text, len, i + 1 + n1, ignore_case, &n2);
    if ((a == 'l' && b == 'l') || ((a == 'v' || a == 'r') && b == 'e'))
        return 1 + n1 + n2;
    return 0;
}

/* Length of '(?:[sdmt]|ll|ve|re) at i (every pattern's contraction set, in
   any order: no alternative is a prefix of another), or 0. */
FL_HOT size_t
contraction_at(const uint8_t *text, size_t len, size_t i, int ignore_case)
{
    if (i >= len || text[i] != '\'')
        return 0;
    return contraction_after_quote(text, len, i, ignore_case);
}

/* ---- 16-byte blocks (SSE2) -----------------------------------------------
 * On x86-64 (SSE2 is part of the baseline) each scanner's fast path looks
 * at the 16 bytes from where the piece's run starts, all at once: a few
 * compares give one bit per byte for [A-Z], [a-z], [A-Za-z], [0-9], ASCII
 * \s, ASCII [^\s\p{L}\p{N}] and \r\n, and a run's length is the number of
 * trailing set bits (a count-trailing-zeros of the inverted mask).  So a
 * piece that ends inside the block costs no loop and no branch on its
 * length.  The byte after the run (inside the block, so never past the
 * text) decides as in the 8-byte paths: a non-ASCII byte hands the piece to
 * the general path, an ASCII one ends it.  A run that fills the block
 * (16+ bytes), and every position with fewer than 17 bytes left, take the
 * 8-byte paths above, which need no padding.  Bytes >= 0x80 are in no
 * ASCII mask (the range tests below are signed compares after a wrapping
 * add that maps them outside every range). */
#if defined(__SSE2__) /* gcc and clang on x86-64 (the code uses their builtins) */
#include <emmintrin.h>
#define FL_HAVE_BLOCK 1
#define BLOCK 16

typedef __m128i block_t;

FL_HOT block_t
block_load(const uint8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* Bit k set when byte k of v lies in [lo, hi] (hi <= 0x7e). */
FL_HOT unsigned
block_in_range(block_t v, uint8_t lo, uint8_t hi)
{
    __m128i x = _mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo)));
    return (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, _mm_set1_epi8((char)(hi - lo + 1 - 128))));
}

FL_HOT unsigned
block_eq(block_t v, uint8_t c)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)c)));
}

FL_HOT unsigned
block_upper(block_t v)
{
    return block_in_range(v, 'A', 'Z');
}

FL_HOT unsigned
block_lower(block_t v)
{
    return block_in_range(v, 'a', 'z');
}

FL_HOT unsigned
block_letter(block_t v)
{
    return block_in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z');
}

FL_HOT unsigned
block_digit(block_t v)
{
    return block_in_range(v, '0', '9');
}

FL_HOT unsigned
block_space(block_t v) /* ASCII \s: \t \n \v \f \r and ' ' */
{
    return block_in_range(v, '\t', '\r') | block_eq(v, ' ');
}

FL_HOT unsigned
block_newline(block_t v)
{
    return block_eq(v, '\n') | block_eq(v, '\r');
}

FL_HOT unsigned
block_other(block_t v) /* ASCII [^\s\p{L}\p{N}] */
{
    unsigned not_other = (unsigned)_mm_movemask_epi8(v) | block_letter(v) | block_digit(v) | block_space(v);
    return ~not_other & 0xFFFFu;
}

/* Number of trailing set bits of a block mask (0..16). */
FL_HOT unsigned
run_length(unsigned mask)
{
    return (unsigned)__builtin_ctz(~mask);
}

/* Start of the letter run a piece at an ASCII byte b may have: b itself
   when it is a letter, digit, \r or \n, else the byte after it, which b may
   prefix ([^\r\n\p{L}\p{N}]? in cl100k and o200k). */
static const uint8_t letters_after_prefix[128] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
};

/* The end of a whitespace piece of cl100k or o200k from pos (ASCII \s)
   whose run starts again at s (pos or pos + 1) in block v, or 0 when the
   run fills the block or stops on a non-ASCII byte.  Inside the block the
   run does not reach the end of the text, so both patterns end it after its
   last \r or \n, else before its last character unless that is the first. */
FL_HOT size_t
block_whitespace_end(const uint8_t *text, size_t pos, size_t s, block_t v, int newline_rule)
{
    unsigned n = run_length(block_space(v));
    size_t end = s + n;
    if (n == BLOCK || text[end] >= 0x80)
        return 0;
    if (newline_rule) {
        unsigned nl = block_newline(v) & ((1u << n) - 1u);
        if (nl)
            return s + 32 - (size_t)__builtin_clz(nl);
    }
    return end - 1 > pos ? end - 1 : end;
}
#endif /* SSE2 */

/* The 8-byte fast paths: each scanner's whole fast path without blocks,
   and with them the path for long runs and the last 16 bytes of a text. */
#ifdef FL_HAVE_BLOCK
#define FL_ASCII FL_COLD
#else
#define FL_ASCII FL_HOT
#endif

/* ---- r50k_base / p50k_base / p50k_edit ---------------------------------- */

/* The regex, alternative by alternative. */
FL_COLD size_t
scan_r50k_general(const uint8_t *text, size_t len, size_t pos)
{
    /* '(?:[sdmt]|ll|ve|re) */
    size_t n = contraction_at(text, len, pos, 0);
    if (n)
        return pos + n;
    /* ` ?\p{L}++`, ` ?\p{N}++`, ` ?[^\s\p{L}\p{N}]++`: the space joins the run
       after it only if that run's first character belongs to it. */
    size_t start = pos;
    uint8_t cls = char_at(text, len, pos).cls;
    if (text[pos] == ' ' && pos + 1 < len) {
        start = pos + 1;
        cls = char_at(text, len, start).cls;
    }
    if (cls & CLS_L)
        return run_of(text, len, start, CLS_L);
    if (cls & CLS_N)
        return run_of(text, len, start, CLS_N);
    if (!(cls & CLS_W))
        return run_of_other(text, len, start);
    /* text[pos] is whitespace: \s++$ | \s+(?!\S) | \s */
    return r50k_whitespace_end(scan_whitespace(text, len, pos), len, pos);
}

FL_ASCII size_t
scan_r50k_ascii(const uint8_t *text, size_t len, size_t pos)
{
    /* ASCII fast paths, each used only when its run stops on ASCII (or the
       end), after the contractions: ` ?\p{L}++` first. */
    uint8_t b = text[pos];
    if (b == '\'') { /* '(?:[sdmt]|ll|ve|re) first; else "'" is like any other O */
        size_t n = contraction_after_quote(text, len, pos, 0);
        if (n)
            return pos + n;
    }
    size_t s = pos + (b == ' '), i = s;
    ASCII_RUN(text, len, i, swar_letter, is_ascii_letter);
    if (i > s)
        return stops_on_ascii(text, len, i) ? i : scan_r50k_general(text, len, pos);
    if (s < len) {
        /* ` ?\p{N}++` */
        if (is_ascii_digit(text[s])) {
            ASCII_RUN(text, len, i, swar_digit, is_ascii_digit);
            return stops_on_ascii(text, len, i) ? i : scan_r50k_general(text, len, pos);
        }
        /* ` ?[^\s\p{L}\p{N}]++` */
        if (is_ascii_other(text[s])) {
            size_t j = s + 1;
            while (j < len && is_ascii_other(text[j]))
                j++;
            return stops_on_ascii(text, len, j) ? j : scan_r50k_general(text, len, pos);
        }
    }
    /* \s++$ | \s+(?!\S) | \s, once a space is known not to join what
       follows it (the end, or more ASCII whitespace) */
    ws_run run;
    if (is_ascii_space(b) && (b != ' ' || s == len || is_ascii_space(text[s])) &&
        ascii_whitespace_run(text, len, pos, &run))
        return r50k_whitespace_end(run, len, pos);
    return scan_r50k_general(text, len, pos);
}

#ifdef FL_HAVE_BLOCK
/* scan_r50k_ascii's paths on a block (text[pos] < 0x80, pos + 16 < len):
   ` ?\p{L}++`, ` ?\p{N}++`, ` ?[^\s\p{L}\p{N}]++` and whitespace, each
   from s = pos (+1 after a space); 0 when the block does not decide. */
FL_HOT size_t
r50k_block_from(const uint8_t *text, size_t pos, size_t k)
{
    size_t s = pos + k;
    block_t v = block_load(text + s);
    uint8_t c = fl_uc_direct[text[s]];
    unsigned n;
    if (c & CLS_L)
        n = run_length(block_letter(v));
    else if (c & CLS_N)
        n = run_length(block_digit(v));
    else if (!(c & CLS_W))
        n = run_length(block_other(v)); /* 0 on a non-ASCII byte: undecided */
    else
        return block_whitespace_end(text, pos, s, v, 0);
    size_t end = s + n;
    return n - 1u < BLOCK - 1u && text[end] < 0x80 ? end : 0;
}

FL_HOT size_t
r50k_block(const uint8_t *text, size_t pos)
{
    if (text[pos] == ' ')
        return r50k_block_from(text, pos, 1);
    return r50k_block_from(text, pos, 0);
}
#endif

FL_HOT size_t
scan_r50k(const uint8_t *text, size_t len, size_t pos)
{
#ifdef FL_HAVE_BLOCK
    uint8_t b = text[pos];
    if (len - pos > BLOCK && b < 0x80 && b != '\'') {
        size_t end = r50k_block(text, pos);
        if (end)
            return end;
    }
#endif
    return scan_r50k_ascii(text, len, pos);
}

/* ---- cl100k_base --------------------------------------------------------- */

/* The regex, alternative by alternative. */
FL_COLD size_t
scan_cl100k_general(const uint8_t *text, size_t len, size_t pos)
{
    /* '(?i:[sdmt]|ll|ve|re) */
    size_t n = contraction_at(text, len, pos, 1);
    if (n)
        return pos + n;
    fl_char c = char_at(text, len, pos);
    /* [^\r\n\p{L}\p{N}]?+\p{L}++ */
    if (c.cls & CLS_L)
        return run_of(text, len, pos, CLS_L);
    if (!(c.cls & CLS_LETTER_OR_NUMBER) && !is_newline_byte(text[pos]) &&
        (class_at(text, len, pos + c.size) & CLS_L))
        return run_of(text, len, pos + c.size, CLS_L);
    /* \p{N}{1,3}+ */
    if (c.cls & CLS_N)
        return numbers_up_to(text, len, pos, 3);
    /*  ?[^\s\p{L}\p{N}]++[\r\n]*+ */
    size_t start = (text[pos] == ' ' && pos + 1 < len && !(class_at(text, len, pos + 1) & CLS_WLN))
                       ? pos + 1
                       : pos;
    if (!(char_at(text, len, start).cls & CLS_WLN))
        return run_of_newlines(text, len, run_of_other(text, len, start), 0);
    /* whitespace: \s++$ | \s*[\r\n] | \s+(?!\S) | \s */
    return cl100k_whitespace_end(scan_whitespace(text, len, pos), len, pos);
}

/* cl100k and o200k once their letter alternatives failed on ASCII at pos
   (text[pos] < 0x80; s is pos, or pos + 1 when text[pos] may prefix a
   letter run, and text[s] is no ASCII letter): the ASCII fast paths of
   \p{N}{1,3}, then ` ?[^\s\p{L}\p{N}]++[\r\n]*+` (cl100k) or
   ` ?[^\s\p{L}\p{N}]+[\r\n/]*` (o200k), then whitespace.  0 when the run
   stops on a non-ASCII byte (the general path decides). */
FL_HOT size_t
scan_ascii_after_letters(const uint8_t *text, size_t len, size_t pos, size_t s, int o200k)
{
    uint8_t b = text[pos];
    if (is_ascii_digit(b)) {
        size_t j = pos + 1;
        while (j < len && j < pos + 3 && is_ascii_digit(text[j]))
            j++;
        return j == pos + 3 || stops_on_ascii(text, len, j) ? j : 0;
    }
    size_t start = b == ' ' && s < len && is_ascii_other(text[s]) ? s : pos;
    if (is_ascii_other(text[start])) {
        size_t j = start + 1;
        while (j < len && is_ascii_other(text[j]))
            j++;
        return stops_on_ascii(text, len, j) ? run_of_newlines(text, len, j, o200k) : 0;
    }
    /* whitespace, once what follows it cannot be a letter it prefixes */
    ws_run run;
    if (is_ascii_space(b) && (is_newline_byte(b) || s >= len || text[s] < 0x80) &&
        ascii_whitespace_run(text, len, pos, &run))
        return o200k ? o200k_whitespace_end(run, len, pos) : cl100k_whitespace_end(run, len, pos);
    return 0;
}

FL_ASCII size_t
scan_cl100k_ascii(const uint8_t *text, size_t len, size_t pos)
{
    /* ASCII fast path of [^\r\n\p{L}\p{N}]?+\p{L}++ once a contraction
       (tried first) is ruled out, then of the rest. */
    uint8_t b = text[pos];
    if (b < 0x80) {
        if (b == '\'') {
            size_t n = contraction_after_quote(text, len, pos, 1);
            if (n)
                return pos + n;
        }
        size_t s = is_ascii_letter(b) || is_ascii_digit(b) || is_newline_byte(b) ? pos : pos + 1;
        size_t i = s;
        ASCII_RUN(text, len, i, swar_letter, is_ascii_letter);
        if (i > s)
            return stops_on_ascii(text, len, i) ? i : scan_cl100k_general(text, len, pos);
        size_t end = scan_ascii_after_letters(text, len, pos, s, 0);
        if (end)
            return end;
    }
    return scan_cl100k_general(text, len, pos);
}

#ifdef FL_HAVE_BLOCK
/* The paths of cl100k and o200k after their letter alternatives failed, on
   a block v from s = pos + letters_after_prefix[text[pos]] (text[pos] <
   0x80, text[s] no ASCII letter): \p{N}{1,3}, ` ?[^\s\p{L}\p{N}]+` with its
   trailing [\r\n]* (o200k: [\r\n/]*), whitespace; 0 when undecided. */
FL_HOT size_t
nonword_block(const uint8_t *text, size_t len, size_t pos, size_t s, block_t v, int o200k)
{
    uint8_t b = text[pos], c = fl_uc_direct[b];
    if (c & CLS_N) { /* s == pos */
        unsigned n = run_length(block_digit(v));
        if (n >= 3)
            return pos + 3;
        return text[pos + n] < 0x80 ? pos + n : 0;
    }
    if (!(c & CLS_W) || (b == ' ' && (block_other(v) & 1u))) {
        /* from b (s == pos + 1, b not \r \n) or from the space's next byte */
        unsigned n = run_length(block_other(v));
        size_t end = s + n;
        if (n == BLOCK || text[end] >= 0x80)
            return 0;
        return run_of_newlines(text, len, end, o200k);
    }
    return block_whitespace_end(text, pos, s, v, 1);
}

FL_HOT size_t
cl100k_block_from(const uint8_t *text, size_t len, size_t pos, size_t k)
{
    size_t s = pos + k;
    block_t v = block_load(text + s);
    unsigned n = run_length(block_letter(v));
    if (n - 1u < BLOCK - 1u) /* [^\r\n\p{L}\p{N}]?+\p{L}++ ends in the block */
        return text[s + n] < 0x80 ? s + n : 0;
    return n ? 0 : nonword_block(text, len, pos, s, v, 0);
}

/* From s = pos + 1 when text[pos] may prefix a letter run, else from pos:
   one copy each, so the choice is a predicted branch, not a wait for the
   table load (the scan's latency is what bounds a piece's cost). */
FL_HOT size_t
cl100k_block(const uint8_t *text, size_t len, size_t pos)
{
    if (letters_after_prefix[text[pos]])
        return cl100k_block_from(text, len, pos, 1);
    return cl100k_block_from(text, len, pos, 0);
}
#endif

FL_HOT size_t
scan_cl100k(const uint8_t *text, size_t len, size_t pos)
{
#ifdef FL_HAVE_BLOCK
    uint8_t b = text[pos];
    if (len - pos > BLOCK && b < 0x80 && b != '\'') {
        size_t end = cl100k_block(text, len, pos);
        if (end)
            return end;
    }
#endif
    return scan_cl100k_ascii(text, len, pos);
}

/* ---- o200k_base ---------------------------------------------------------- */

/* The UP/LOW analysis of o200k's two letter alternatives from start s. */
typedef struct {
    size_t up_end;    /* end of the longest UP run from s (== s if none) */
    size_t word1_end; /* end of alternative 1's UP*LOW+ from s, 0 if it fails */
} o200k_word;

static o200k_word
scan_o200k_word(const uint8_t *text, size_t len, size_t s)
{
    o200k_word w = {s, 0};
    size_t last_both_end = 0, i = s;
    uint8_t after = 0; /* class of the character after the UP run */
    while (i < len) {
        fl_char ch = char_at(text, len, i);
        if (!(ch.cls & CLS_UP)) {
            after = ch.cls;
            break;
        }
        i += ch.size;
        if (ch.cls & CLS_BOTH)
            last_both_end = i;
    }
    w.up_end = i;
    if (after & FL_UC_LL)
        w.word1_end = run_of(text, len, i, CLS_LOW); /* LOW+ right after UP* */
    else
        w.word1_end = last_both_end; /* UP* backtracks to its last BOTH char */
    return w;
}

static size_t
with_contraction(const uint8_t *text, size_t len, size_t end)
{
    return end + contraction_at(text, len, end, 1);
}

/* The regex, alternative by alternative. */
FL_COLD size_t
scan_o200k_general(const uint8_t *text, size_t len, size_t pos)
{
    fl_char c = char_at(text, len, pos);
    int prefix = !(c.cls & CLS_LETTER_OR_NUMBER) && !is_newline_byte(text[pos]);
    /* The two letter alternatives, prefix [^\r\n\p{L}\p{N}]? first taken,
       then not: 1 with prefix, 1 without, 2 with prefix, 2 without. */
    if (prefix) {
        o200k_word with = {pos + c.size, 0};
        if (pos + c.size < len) {
            with = scan_o200k_word(text, len, pos + c.size);
            if (with.word1_end)
                return with_contraction(text, len, with.word1_end);
        }
        if (c.cls & CLS_M) /* a mark is BOTH: alternative 1 matches from pos */
            return with_contraction(text, len, scan_o200k_word(text, len, pos).word1_end);
        if (with.up_end > pos + c.size)
            return with_contraction(text, len, with.up_end);
    } else if (c.cls & CLS_L) {
        o200k_word w = scan_o200k_word(text, len, pos);
        /* c is Ll (alternative 1) or in UP (alternative 2 at least) */
        return with_contraction(text, len, w.word1_end ? w.word1_end : w.up_end);
    }
    /* \p{N}{1,3} */
    if (c.cls & CLS_N)
        return numbers_up_to(text, len, pos, 3);
    /*  ?[^\s\p{L}\p{N}]+[\r\n/]* */
    size_t start = (text[pos] == ' ' && pos + 1 < len && !(class_at(text, len, pos + 1) & CLS_WLN))
                       ? pos + 1
                       : pos;
    if (!(char_at(text, len, start).cls & CLS_WLN))
        return run_of_newlines(text, len, run_of_other(text, len, start), 1);
    /* whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+ */
    return o200k_whitespace_end(scan_whitespace(text, len, pos), len, pos);
}

/* [A-Z]*[a-z]* from s: both runs from one 8-byte load when they end in it
   (most words: "word", "Word", "WORD"). */
FL_HOT size_t
ascii_upper_then_lower(const uint8_t *text, size_t len, size_t s)
{
    size_t i = s;
    if (s + 8 <= len) {
        uint64_t w = load8(text + s);
        size_t up = swar_leading(swar_upper(w));
        if (up < 8) {
            size_t low = swar_leading(swar_lower(w) >> (8 * up));
            i = s + up + low;
            if (up + low < 8)
                return i;
            ASCII_RUN(text, len, i, swar_lower, is_ascii_lower);
            return i;
        }
        i = s + 8;
    }
    ASCII_RUN(text, len, i, swar_upper, is_ascii_upper);
    ASCII_RUN(text, len, i, swar_lower, is_ascii_lower);
    return i;
}

FL_ASCII size_t
scan_o200k_ascii(const uint8_t *text, size_t len, size_t pos)
{
    /* ASCII fast path of the two letter alternatives: ASCII has no
       BOTH characters, so UP is A-Z and LOW is a-z.  Then the rest. */
    uint8_t b = text[pos];
    if (b < 0x80) {
        size_t s = is_ascii_letter(b) || is_ascii_digit(b) || is_newline_byte(b) ? pos : pos + 1;
        size_t i = ascii_upper_then_lower(text, len, s);
        if (i > s) /* UP*LOW+, else UP+ */
            return stops_on_ascii(text, len, i) ? with_contraction(text, len, i)
                                                : scan_o200k_general(text, len, pos);
        size_t end = scan_ascii_after_letters(text, len, pos, s, 1);
        if (end)
            return end;
    }
    return scan_o200k_general(text, len, pos);
}

#ifdef FL_HAVE_BLOCK
/* o200k_block from s = pos + k, k the constant 0 or 1 (one copy each, so
   the choice is a predicted branch, not a wait for the table load). */
FL_HOT size_t
o200k_block_from(const uint8_t *text, size_t len, size_t pos, size_t k)
{
    size_t s = pos + k;
    block_t v = block_load(text + s);
    /* word or not, decided on the byte at s rather than on the run's
       length: the branch resolves (and a misprediction restarts) several
       cycles earlier, before the masks are ready */
    uint8_t c = text[s];
    if (is_ascii_letter(c)) {
        /* a lower-case start (most words) is [a-z]+: one mask and one
           count on the critical path instead of two after each other */
        unsigned n;
        if (is_ascii_lower(c)) {
            n = run_length(block_lower(v));
        } else {
            unsigned up = run_length(block_upper(v));
            n = up + run_length(block_lower(v) >> up);
        }
        if (n == BLOCK)
            return 0;
        size_t end = s + n; /* [A-Z]*[a-z]+ or [A-Z]+[a-z]* ends in the block */
        uint8_t t = text[end];
        if (t == '\'')
            return with_contraction(text, len, end);
        return t < 0x80 ? end : 0;
    }
    return nonword_block(text, len, pos, s, v, 1);
}

FL_HOT size_t
o200k_block(const uint8_t *text, size_t len, size_t pos)
{
    if (letters_after_prefix[text[pos]])
        return o200k_block_from(text, len, pos, 1);
    return o200k_block_from(text, len, pos, 0);
}
#endif

FL_HOT size_t
scan_o200k(const uint8_t *text, size_t len, size_t pos)
{
#ifdef FL_HAVE_BLOCK
    if (len - pos > BLOCK && text[pos] < 0x80) {
        size_t end = o200k_block(text, len, pos);
        if (end)
            return end;
    }
#endif
    return scan_o200k_ascii(text, len, pos);
}

/* ---- 64-byte windows: every piece start of a window at once -------------
 * The scanners above decide one piece per call, and each call branches on
 * what kind of piece it is (a branch that mispredicts often on real text).
 * A caller that walks the pieces of a text can take them 64 bytes at a
 * time instead: from a piece start pos, one pass classifies
 * text[pos, pos + 64) into bit masks (bit k = byte pos + k:
 * upper, lower, digit, \s, \r\n, ' ', '/', '\'', >= 0x80) and derives the
 * bit mask of every piece start in the window from class transitions,
 * with no branch per piece; the caller then pops piece ends with a
 * count-trailing-zeros each.  What decides a start at k, on ASCII (the
 * window's text is read as if it began at pos, which is exact because a
 * match only looks forward and pos is a piece start), for cl100k and
 * o200k (r50k's rules are simpler: a ' ' joins any run of letters, digits
 * or O after it, no \r\n rule, contractions case-sensitive at a piece
 * start; see r50k_window_starts):
 *   letters  a letter whose left neighbour is no letter starts a word;
 *            o200k also starts one at an upper-case letter after a lower-
 *            case one ([UP]*[LOW]+|[UP]+[LOW]*, ASCII has no BOTH).  The
 *            word's piece starts one byte earlier when that byte is a
 *            prefix: a \s other than \r\n (always a piece start, see
 *            below), or an O ([^\s\p{L}\p{N}]) that starts a piece.
 *   O        an O starts a piece unless the byte before it is an O of the
 *            same run or a ' ' (` ?[^\s\p{L}\p{N}]+` takes both); the run's
 *            tail [\r\n]* (o200k [\r\n/]*: from its first \r\n on) belongs
 *            to it, and an O after an o200k tail's '/' starts a piece.
 *   digits   at the start of a run, then every third digit.
 *   \s       a \r\n after a letter or digit; a ' ', \t, \v, \f after a
 *            non-\s, after a \r\n, or with a non-\s ASCII byte after it
 *            (the last byte of a run, which \s+(?!\S) leaves to the next
 *            piece).  After \r\n a run of them starts a piece only if no
 *            further \r\n follows in the run (\s*[\r\n] ends at the run's
 *            last \r\n): runs that end in \r\n, a byte >= 0x80 (maybe
 *            \s) or the window's end cannot be told by masks running
 *            forward, so they end the trusted part of the window.
 *   C        contractions ('s 't 'm 'd 're 've 'll, any case) by a scalar
 *            check at each candidate ' (o200k: after a letter that ends a
 *            word; cl100k: a ' that starts a piece), which moves starts.
 * A start at k depends on bytes up to k + 2, so only starts below
 * min(first byte >= 0x80, 64) - 2 (and below such a \s run) are handed out;
 * the piece that reaches past them, and any window that does not start
 * with a piece ending in it, goes to the per-piece scanner.  The window is
 * only used when 64 bytes remain (never past the end of the text, and no
 * run inside it reaches the end, where `\s++$` differs) and its first 16
 * bytes are ASCII (else it would stop too early to pay for itself).  The
 * masks come from four 16-byte SSE2 blocks (one AVX-512BW compare per
 * class measured no faster: the derivation and the pops dominate). */
#ifdef FL_HAVE_BLOCK
#define FL_HAVE_WINDOW 1
#define WINDOW 64

typedef struct {
    uint64_t high, upper, lower, digit, space, newline, blank, slash, quote;
} window_classes;

FL_HOT void
classify_window_sse2(const uint8_t *p, window_classes *c)
{
    uint64_t high = 0, upper = 0, lower = 0, digit = 0, space = 0, newline = 0, blank = 0, slash = 0,
             quote = 0;
    for (unsigned k = 0; k < WINDOW / BLOCK; k++) {
        block_t v = block_load(p + BLOCK * k);
        unsigned sh = BLOCK * k;
        high |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << sh;
        upper |= (uint64_t)block_upper(v) << sh;
        lower |= (uint64_t)block_lower(v) << sh;
        digit |= (uint64_t)block_digit(v) << sh;
        space |= (uint64_t)block_space(v) << sh;
        newline |= (uint64_t)block_newline(v) << sh;
        blank |= (uint64_t)block_eq(v, ' ') << sh;
        slash |= (uint64_t)block_eq(v, '/') << sh;
        quote |= (uint64_t)block_eq(v, '\'') << sh;
    }
    c->high = high;
    c->upper = upper;
    c->lower = lower;
    c->digit = digit;
    c->space = space;
    c->newline = newline;
    c->blank = blank;
    c->slash = slash;
    c->quote = quote;
}

/* The bits of m from each seed to the end of its run of m (seeds in m, at
   most one per run): the carry of m + seed runs through the run. */
static inline uint64_t
run_from(uint64_t m, uint64_t seeds)
{
    return ((m + seeds) ^ m) & m;
}

/* Starts of the digit groups: each run's first digit, then every third. */
FL_HOT uint64_t
digit_starts(uint64_t d)
{
    uint64_t starts = d & ~(d << 1), three = d & (d << 1) & (d << 2);
    for (uint64_t x = starts; (x = (x << 3) & three) != 0;)
        starts |= x;
    return starts;
}

/* How many bytes of the window its starts can be trusted for: below the
   first byte >= 0x80 less 2, and below the first run of ' ', \t, \v, \f
   after a whitespace \r\n (seeds: its first bytes) that does not end
   before a non-\s ASCII byte. */
FL_HOT unsigned
window_limit(uint64_t high, uint64_t r, uint64_t g, uint64_t seeds)
{
    unsigned w = high ? (unsigned)__builtin_ctzll(high) : WINDOW;
    unsigned limit = w >= 2 ? w - 2 : 0;
    if (seeds) {
        uint64_t runs = run_from(r, seeds);
        uint64_t open = runs & ~(runs >> 1) & ~(g >> 1);
        if (open) {
            uint64_t upto = seeds & ((2ull << __builtin_ctzll(open)) - 1u);
            unsigned s = 63u - (unsigned)__builtin_clzll(upto);
            if (s < limit)
                limit = s;
        }
    }
    return limit;
}

/* o200k: a contraction after the word ending at each candidate ' moves the
   word's end past it; a ' right after a contraction follows no word end. */
static uint64_t
o200k_window_contractions(uint64_t t, uint64_t cand, const uint8_t *text, size_t len, size_t pos)
{
    unsigned last = WINDOW + 8; /* end of the last contraction */
    while (cand) {
        unsigned j = (unsigned)__builtin_ctzll(cand);
        cand &= cand - 1;
        if (j == last)
            continue;
        size_t n = contraction_after_quote(text, len, pos + j, 1);
        if (n) {
            t &= ~(((1ull << n) - 1u) << j);
            last = j + (unsigned)n;
            if (last < WINDOW)
                t |= 1ull << last;
        }
    }
    return t;
}

/* cl100k and r50k: a contraction at a ' that starts a piece is a piece
   (cl100k's case-insensitive, r50k's not), so the byte after it starts one
   and the letter after its ' starts none.  r50k's letter-run rule marks that
   letter, and it is cleared here; cl100k's never marks it (its ' is an O
   start), so the clear changes nothing there. */
static uint64_t
window_contractions(uint64_t t, uint64_t cand, const uint8_t *text, size_t len, size_t pos, int ignore_case)
{
    while (cand) {
        unsigned j = (unsigned)__builtin_ctzll(cand);
        cand &= cand - 1;
        size_t n = contraction_after_quote(text, len, pos + j, ignore_case);
        if (n) {
            t &= ~(2ull << j);
            if (j + n < WINDOW)
                t |= 1ull << (j + n);
        }
    }
    return t;
}

FL_HOT uint64_t
o200k_window_starts(const window_classes *c, const uint8_t *text, size_t len, size_t pos,
                    unsigned *limit)
{
    uint64_t le = c->upper | c->lower, nl = c->newline;
    uint64_t g = ~(c->space | c->high);                      /* ASCII, not \s */
    uint64_t o = ~(le | c->digit | c->space | c->high);     /* ASCII O */
    uint64_t r = c->space & ~nl;                             /* \s but \r\n */
    /* the O runs' tails: in each run of \r \n '/', from its first \r\n
       right after an O (a '/' before it is an O run's, not a tail's, as
       no \r\n after an O comes earlier in the run) to the run's end */
    uint64_t m = nl | c->slash, seeds = nl & (o << 1);
    uint64_t tail = m & ~run_from(m & ~seeds, m & ~(m << 1) & ~seeds);
    uint64_t os = o & ~tail & (~((o | c->blank) << 1) | (tail << 1));
    uint64_t t = os | (nl & ~((nl | r | o) << 1)) | (r & (~(r << 1) | (g >> 1))) | digit_starts(c->digit);
    uint64_t word = le & (~(le << 1) | (c->upper & (c->lower << 1)));
    t |= word & ~((r | os) << 1);
    uint64_t cand = c->quote & (le << 1);
    if (cand)
        t = o200k_window_contractions(t, cand, text, len, pos);
    *limit = window_limit(c->high, r, g, r & (nl << 1) & ~(tail << 1));
    return t;
}

FL_HOT uint64_t
cl100k_window_starts(const window_classes *c, const uint8_t *text, size_t len, size_t pos,
                     unsigned *limit)
{
    uint64_t le = c->upper | c->lower, nl = c->newline;
    uint64_t g = ~(c->space | c->high);
    uint64_t o = ~(le | c->digit | c->space | c->high);
    uint64_t r = c->space & ~nl;
    uint64_t tail = run_from(nl, nl & (o << 1)); /* [\r\n]*+ after an O run */
    uint64_t os = o & ~((o | c->blank) << 1);
    uint64_t t = os | (nl & ~((nl | r | o) << 1)) | (r & (~(r << 1) | (g >> 1))) | digit_starts(c->digit);
    t |= le & ~(le << 1) & ~((r | os) << 1);
    uint64_t cand = c->quote & os;
    if (cand)
        t = window_contractions(t, cand, text, len, pos, 1);
    *limit = window_limit(c->high, r, g, r & (nl << 1) & ~(tail << 1));
    return t;
}

/* r50k: a run of letters, of digits or of O starts a piece, one byte
   earlier when a ' ' precedes it ( ?\p{L}++ etc.); a \s run at its start
   and at its last byte before a non-\s (\s+(?!\S) leaves it). */
FL_HOT uint64_t
r50k_window_starts(const window_classes *c, const uint8_t *text, size_t len, size_t pos,
                   unsigned *limit)
{
    uint64_t le = c->upper | c->lower, d = c->digit, ws = c->space;
    uint64_t g = ~(ws | c->high);
    uint64_t o = ~(le | d | ws | c->high);
    uint64_t t = (le & ~(le << 1)) | (d & ~(d << 1)) | (o & ~(o << 1)) | (ws & (~(ws << 1) | (g >> 1)));
    t &= ~((c->blank << 1) & g);
    uint64_t cand = c->quote & t;
    if (cand)
        t = window_contractions(t, cand, text, len, pos, 0);
    *limit = window_limit(c->high, 0, 0, 0); /* no \r\n rule: only the first byte >= 0x80 bounds it */
    return t;
}

/* True when one of the first 16 bytes at p is >= 0x80: a window from p
   would end too early to pay for itself (non-Latin text). */
FL_HOT int
window_starts_non_ascii(const uint8_t *p)
{
    return _mm_movemask_epi8(block_load(p)) != 0;
}

/* A pattern's window scanner: the first trusted piece end of the window
   at pos and the rest, else (no window, or none trusted) the scanner's
   piece.  Returned in registers, so the caller's `more` is never memory. */
#define WINDOW_SCANNER(name, window_starts, scan)                                              \
    static fl_pretok_window name(const uint8_t *text, size_t len, size_t pos)                   \
    {                                                                                           \
        fl_pretok_window w = {0, 0};                                                            \
        if (text[pos] < 0x80 && len - pos >= WINDOW && !window_starts_non_ascii(text + pos)) {  \
            window_classes c;                                                                   \
            unsigned limit;                                                                     \
            classify_window_sse2(text + pos, &c);                                               \
            uint64_t t = window_starts(&c, text, len, pos, &limit);                             \
            t &= ((1ull << limit) - 1u) & ~1ull;                                                \
            if (t) {                                                                            \
                w.end = pos + (size_t)__builtin_ctzll(t);                                       \
                w.more = t & (t - 1u);                                                          \
                return w;                                                                       \
            }                                                                                   \
        }                                                                                       \
        w.end = scan(text, len, pos);                                                           \
        return w;                                                                               \
    }

WINDOW_SCANNER(scan_o200k_window_sse2, o200k_window_starts, scan_o200k)
WINDOW_SCANNER(scan_cl100k_window_sse2, cl100k_window_starts, scan_cl100k)
WINDOW_SCANNER(scan_r50k_window_sse2, r50k_window_starts, scan_r50k)
#undef WINDOW_SCANNER
#endif /* FL_HAVE_BLOCK */

/* ---- public API ---------------------------------------------------------- */

static const fl_pretok_scanner scanners[FL_PAT_COUNT] = {
    [FL_PAT_R50K] = scan_r50k,
    [FL_PAT_CL100K] = scan_cl100k,
    [FL_PAT_O200K] = scan_o200k,
};

fl_pretok_scanner
fl_pretok_scanner_for(fl_pattern_id pat)
{
    return (unsigned)pat < FL_PAT_COUNT ? scanners[pat] : NULL;
}

size_t
fl_pretok_next(fl_pattern_id pat, const uint8_t *text, size_t len, size_t pos)
{
    if (pos >= len || (unsigned)pat >= FL_PAT_COUNT)
        return 0;
    return scanners[pat](text, len, pos) - pos;
}

static const fl_pretok_scanner general_scanners[FL_PAT_COUNT] = {
    [FL_PAT_R50K] = scan_r50k_general,
    [FL_PAT_CL100K] = scan_cl100k_general,
    [FL_PAT_O200K] = scan_o200k_general,
};

size_t
fl_pretok_next_general(fl_pattern_id pat, const uint8_t *text, size_t len, size_t pos)
{
    if (pos >= len || (unsigned)pat >= FL_PAT_COUNT)
        return 0;
    return general_scanners[pat](text, len, pos) - pos;
}

#ifdef FL_HAVE_WINDOW
static const fl_pretok_window_scanner window_scanners[FL_PAT_COUNT] = {
    [FL_PAT_R50K] = scan_r50k_window_sse2,
    [FL_PAT_CL100K] = scan_cl100k_window_sse2,
    [FL_PAT_O200K] = scan_o200k_window_sse2,
};
#endif

fl_pretok_window_scanner
fl_pretok_window_scanner_for(fl_pattern_id pat)
{
#ifdef FL_HAVE_WINDOW
    return (unsigned)pat < FL_PAT_COUNT ? window_scanners[pat] : NULL;
#else
    (void)pat;
    return NULL;
#endif
}

size_t
fl_pretok_split(fl_pattern_id pat, const uint8_t *text, size_t len, size_t *pos, size_t *ends,
                size_t cap)
{
    if ((unsigned)pat >= FL_PAT_COUNT)
        return 0;
    size_t i = *pos, n = 0;
    fl_pretok_window_scanner window = fl_pretok_window_scanner_for(pat);
    if (window) { /* pieces a window at a time */
        fl_pretok_window_walk walk = {{0, 0}, 0};
        while (n < cap && i < len) {
            i = fl_pretok_window_next(&walk, window, text, len, i);
            ends[n++] = i;
        }
        *pos = i;
        return n;
    }
    /* One loop per scanner, so each is a direct (inlinable) call. */
#define SPLIT_WITH(scan)              \
    while (n < cap && i < len) {      \
        i = scan(text, len, i);       \
        ends[n++] = i;                \
    }
    switch (pat) {
    case FL_PAT_R50K:
        SPLIT_WITH(scan_r50k);
        break;
    case FL_PAT_CL100K:
        SPLIT_WITH(scan_cl100k);
        break;
    case FL_PAT_O200K:
        SPLIT_WITH(scan_o200k);
        break;
    default:
        break;
    }
#undef SPLIT_WITH
    *pos = i;
    return n;
}

static const struct {
    const char *name;
    fl_pattern_id pattern;
} encoding_patterns[] = {
    {"gpt2", FL_PAT_R50K},          {"r50k_base", FL_PAT_R50K},     {"p50k_base", FL_PAT_R50K},
    {"p50k_edit", FL_PAT_R50K},     {"cl100k_base", FL_PAT_CL100K},
    {"o200k_base", FL_PAT_O200K},   {"o200k_harmony", FL_PAT_O200K},
};

int
fl_pretok_pattern_for_encoding(const char *encoding_name)
{
    if (encoding_name == NULL)
        return -1;
    for (size_t i = 0; i < sizeof encoding_patterns / sizeof encoding_patterns[0]; i++)
        if (strcmp(encoding_patterns[i].name, encoding_name) == 0)
            return (int)encoding_patterns[i].pattern;
    return -1;
}
