/*
 * fuzz_pretok.c - fuzz target for the pre-tokenizer scanners.
 *
 * For every input (any bytes, not only UTF-8) and every pattern it checks:
 *   - each piece is > 0 bytes and ends at or before the end of the input, and
 *     the pieces cover the input exactly (no gap, no overlap);
 *   - fl_pretok_split, in batches of 3, and a walk by the 64-byte windows
 *     (fl_pretok_window_scanner_for) give the same
 *     boundaries as repeated fl_pretok_next;
 *   - on valid UTF-8, every boundary falls between characters, and each
 *     piece is the one the general path (no ASCII fast paths) finds.
 * Reads past the end are caught by AddressSanitizer: the fuzzer hands over a
 * buffer of exactly `size` bytes. Slow (non-linear) inputs show up as
 * libFuzzer timeouts.
 *
 * libFuzzer (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFL_FUZZ_BUILD -Icsrc \
 *     csrc/tokenizer/fuzz_pretok.c csrc/tokenizer/pretokenize.c \
 *     csrc/tokenizer/unicode_tables.c -o build/fuzz_pretok
 *   ./build/fuzz_pretok -max_len=4096 -max_total_time=60
 * Standalone driver (any C compiler): add -DFL_FUZZ_STANDALONE, drop
 * -fsanitize=fuzzer; `./fuzz_pretok FILE...` runs the given inputs,
 * `./fuzz_pretok` alone runs pseudo-random inputs built from tricky pieces.
 *
 * Not part of the library build (setup.py skips fuzz_*.c). Without
 * -DFL_FUZZ_BUILD (as for fuzz_encoder.c) the file compiles to nothing, so a
 * build that links every C file of the component (the Makefile's C tests
 * do) gets no fuzzer entry point.
 */
#ifdef FL_FUZZ_BUILD

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretokenize.h"

#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_pretok: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* 1 when data[0..size) is well-formed UTF-8 (no surrogates, <= U+10FFFF). */
static int
valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0)
                lo = 0xA0;
            if (b == 0xED)
                hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0)
                lo = 0x90;
            if (b == 0xF4)
                hi = 0x8F;
        } else {
            return 0;
        }
        if (n - i <= need || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int utf8 = valid_utf8(data, size);
    for (int pat = 0; pat < FL_PAT_COUNT; pat++) {
        size_t pos = 0, split_pos = 0, ends[3], nends = 0, used = 0;
        fl_pretok_window_scanner window = fl_pretok_window_scanner_for((fl_pattern_id)pat);
        size_t window_pos = 0;
        fl_pretok_window_walk walk = {{0, 0}, 0};
        while (pos < size) {
            if (window) /* the window walk's next end, checked below */
                window_pos = fl_pretok_window_next(&walk, window, data, size, window_pos);
            size_t n = fl_pretok_next((fl_pattern_id)pat, data, size, pos);
            FUZZ_ASSERT(n > 0 && n <= size - pos);
            if (utf8) /* the ASCII fast paths decide as the general path does */
                FUZZ_ASSERT(n == fl_pretok_next_general((fl_pattern_id)pat, data, size, pos));
            pos += n;
            FUZZ_ASSERT(!window || window_pos == pos);
            if (utf8)
                FUZZ_ASSERT(pos == size || (data[pos] & 0xC0) != 0x80);
            if (used == nends) {
                nends = fl_pretok_split((fl_pattern_id)pat, data, size, &split_pos, ends, 3);
                used = 0;
                FUZZ_ASSERT(nends > 0);
            }
            FUZZ_ASSERT(ends[used] == pos);
            used++;
        }
        FUZZ_ASSERT(pos == size && used == nends && split_pos == size && walk.w.more == 0);
        FUZZ_ASSERT(fl_pretok_next((fl_pattern_id)pat, data, size, size) == 0);
    }
    return 0;
}

#ifdef FL_FUZZ_STANDALONE
static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (buf == NULL)
        return 1;
    uint8_t *exact = malloc(len ? len : 1); /* exactly len bytes, for ASan */
    if (exact == NULL) {
        free(buf);
        return 1;
    }
    memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    free(buf);
    return 0;
}

/* Tricky fragments: contractions (incl. U+017F), whitespace kinds, \r\n,
   marks, letter cases, digits, CJK, emoji, and broken UTF-8; ASCII words,
   punctuation and indentation, repeated up to 24 times so that runs end
   on every side of the scanners' 16-byte blocks. */
static const char *const fragments[] = {
    "'s", "'S", "'\xc5\xbf", "'ll", "'LL", "'ve", "'Re", "'d", "'", "\r\n", "\r", "\n", " ", "\t",
    "\xc2\xa0", "\xe3\x80\x80", "\xe2\x80\xa8", "\x0b", "\x0c", "\xc2\x85", "/", ".", "a", "A",
    "\xc7\x85", "\xca\xb0", "\xcc\x81", "\xe0\xa4\x83", "7", "\xd9\xa3", "\xe2\x85\xa0", "\xe4\xb8\xad",
    "\xf0\x9f\x98\x80", "\x1c", "\xc5", "\xe4\xb8", "\xff", "\x80", "\xf4\x90\x80\x80", "\xed\xa0\x80",
    "(", "),", " =", "#", "0", "x", "Ab", " the", "    ", "\n    ", ":\n", "\x7f",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

int
main(int argc, char **argv)
{
    if (argc > 1) {
        int failed = 0;
        for (int i = 1; i < argc; i++)
            failed |= run_file(argv[i]);
        return failed;
    }
    const size_t nfrag = sizeof fragments / sizeof fragments[0];
    uint8_t buf[512];
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = 0, pieces = rng() % (iter % 2 ? 40 : 120);
        for (size_t p = 0; p < pieces; p++) {
            const char *frag = fragments[rng() % nfrag];
            size_t flen = strlen(frag), reps = 1 + (rng() % 4 == 0 ? rng() % 24 : 0);
            for (size_t r = 0; r < reps && len + flen <= sizeof buf; r++, len += flen)
                memcpy(buf + len, frag, flen);
        }
        uint8_t *exact = malloc(len ? len : 1);
        if (exact == NULL)
            return 1;
        memcpy(exact, buf, len);
        LLVMFuzzerTestOneInput(exact, len);
        free(exact);
    }
    printf("fuzz_pretok: 200000 generated inputs OK\n");
    return 0;
}
#endif

#else
typedef int fl_fuzz_pretok_not_built; /* ISO C: a translation unit is never empty */
#endif
