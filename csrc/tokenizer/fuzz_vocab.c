/*
 * fuzz_vocab.c - differential fuzz target for the .tiktoken parser.
 *
 * Every input (any bytes) goes to fl_vocab_parse_tiktoken and to a slow,
 * obviously-written reference parser below (split lines, strip, split at
 * the one space, decode base64 character by character).  They must agree
 * on accepting the file; when both accept, every (token, rank) pair of the
 * reference must be found by fl_vocab_rank and fl_vocab_bytes, the counts
 * and maximum rank must match, and so must a vocabulary built from the
 * same pairs with fl_vocab_from_tokens and one read back from its
 * prebuilt form (fl_vocab_serialize / fl_vocab_from_blob).  Reads past the
 * end are caught by AddressSanitizer (the fuzzer hands over exactly `size`
 * bytes).
 *
 * libFuzzer: `make fuzz` (or clang -fsanitize=fuzzer,address,undefined
 * -DFL_FUZZ_BUILD -Icsrc csrc/tokenizer/fuzz_vocab.c csrc/tokenizer/vocab.c).
 * Standalone (any compiler, -DFL_FUZZ_BUILD -DFL_FUZZ_STANDALONE):
 * `./fuzz_vocab FILE...` runs the files, alone it runs generated inputs
 * (valid files with random damage).  Not part of the library build.
 */
#ifdef FL_FUZZ_BUILD

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab.h"

#define FUZZ_ASSERT(cond)                                                          \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_vocab: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

#define REF_MAX_RANK (1u << 26)

typedef struct {
    size_t n, cap;
    uint8_t **tok;
    size_t *len;
    uint32_t *rank;
} ref_vocab;

static int b64_value(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Padded base64 of at least one byte: length a multiple of 4, '=' only as
 * the last one or two characters. */
static long ref_b64(const uint8_t *s, size_t n, uint8_t *out)
{
    if (n == 0 || n % 4)
        return -1;
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    uint32_t acc = 0;
    size_t bits = 0, o = 0;
    for (size_t i = 0; i < n - pad; i++) {
        int v = b64_value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o ? (long)o : -1;
}

static int is_blank(uint8_t c) { return c == ' ' || c == '\r' || c == '\t'; }

/* 0 and r filled, or -1 when the file is malformed (the same rules the
 * parser documents: a line is "base64 SP digits" plus trailing blanks, or
 * only blanks). Duplicates are left to the caller. */
static int ref_parse(const uint8_t *d, size_t size, ref_vocab *r)
{
    size_t i = 0;
    while (i < size) {
        size_t e = i;
        while (e < size && d[e] != '\n')
            e++;
        size_t a = i, b = e;
        i = e + 1;
        int blank = 1;
        for (size_t k = a; k < b; k++)
            blank &= is_blank(d[k]);
        if (blank)
            continue;
        while (b > a && is_blank(d[b - 1]))
            b--;
        size_t sp = a;
        while (sp < b && d[sp] != ' ')
            sp++;
        if (sp == b || sp == a)
            return -1;
        uint64_t rank = 0;
        if (sp + 1 == b)
            return -1;
        for (size_t k = sp + 1; k < b; k++) {
            if (d[k] < '0' || d[k] > '9')
                return -1;
            rank = rank * 10 + (uint64_t)(d[k] - '0');
            if (rank >= REF_MAX_RANK)
                return -1;
        }
        uint8_t *tok = malloc(sp - a);
        long n = tok ? ref_b64(d + a, sp - a, tok) : -1;
        if (n < 0 || n > 65535) {
            free(tok);
            return -1;
        }
        if (r->n == r->cap) {
            r->cap = r->cap ? 2 * r->cap : 64;
            r->tok = realloc(r->tok, r->cap * sizeof *r->tok);
            r->len = realloc(r->len, r->cap * sizeof *r->len);
            r->rank = realloc(r->rank, r->cap * sizeof *r->rank);
            FUZZ_ASSERT(r->tok && r->len && r->rank);
        }
        r->tok[r->n] = tok;
        r->len[r->n] = (size_t)n;
        r->rank[r->n] = (uint32_t)rank;
        r->n++;
    }
    return r->n ? 0 : -1;
}

static int ref_has_duplicates(const ref_vocab *r)
{
    for (size_t i = 0; i < r->n; i++)
        for (size_t j = i + 1; j < r->n; j++)
            if (r->rank[i] == r->rank[j] ||
                (r->len[i] == r->len[j] && memcmp(r->tok[i], r->tok[j], r->len[i]) == 0))
                return 1;
    return 0;
}

static void ref_free(ref_vocab *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->tok[i]);
    free(r->tok);
    free(r->len);
    free(r->rank);
}

static void check_against(const fl_vocab *v, const ref_vocab *r)
{
    FUZZ_ASSERT(fl_vocab_count(v) == r->n);
    uint32_t max = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->rank[i] > max)
            max = r->rank[i];
        FUZZ_ASSERT(fl_vocab_rank(v, r->tok[i], r->len[i]) == r->rank[i]);
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r->rank[i], &len);
        FUZZ_ASSERT(b && len == r->len[i] && memcmp(b, r->tok[i], len) == 0);
    }
    FUZZ_ASSERT(fl_vocab_max_rank(v) == max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* the reference's duplicate check is quadratic */
    char err[200];
    fl_vocab *v = fl_vocab_parse_tiktoken(data, size, err, sizeof err);
    ref_vocab r = {0, 0, NULL, NULL, NULL};
    int ok = ref_parse(data, size, &r) == 0 && !ref_has_duplicates(&r);
    if (!ok != !v)
        fprintf(stderr, "fuzz_vocab: parser %s, reference %s (%s)\n", v ? "accepts" : "refuses",
                ok ? "accepts" : "refuses", v ? "" : err);
    FUZZ_ASSERT(!ok == !v);
    if (v) {
        check_against(v, &r);
        fl_vocab *w = fl_vocab_from_tokens((const uint8_t *const *)r.tok, r.len, r.rank, r.n, err, sizeof err);
        FUZZ_ASSERT(w != NULL);
        check_against(w, &r);
        fl_vocab_free(w);
        /* the prebuilt form (long tokens' records included) round-trips */
        static const uint8_t sha[32] = {7};
        size_t blen = 0;
        uint8_t *blob = fl_vocab_serialize(v, sha, &blen);
        FUZZ_ASSERT(blob != NULL);
        fl_vocab *b = fl_vocab_from_blob(blob, blen, sha, err, sizeof err);
        FUZZ_ASSERT(b != NULL);
        check_against(b, &r);
        fl_vocab_free(b);
        free(blob);
    }
    fl_vocab_free(v);
    ref_free(&r);
    return 0;
}

#ifdef FL_FUZZ_STANDALONE
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

/* A valid file of a few random tokens (ranks in order, shuffled or with
 * gaps), then a few random byte edits. */
static size_t generate(uint8_t *buf, size_t cap)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char edits[] = " =\n\r\t0123456789A+/!";
    size_t o = 0, lines = rng() % 40;
    uint32_t rank = rng() % 4 ? 0 : rng() % 20000;
    for (size_t i = 0; i < lines && o + 64 < cap; i++) {
        uint8_t tok[16];
        size_t len = 1 + rng() % 12;
        for (size_t k = 0; k < len; k++)
            tok[k] = (uint8_t)(rng() % 3 ? 'a' + rng() % 4 : rng());
        for (size_t k = 0; k < len; k += 3) {
            uint32_t w = (uint32_t)tok[k] << 16 | (k + 1 < len ? (uint32_t)tok[k + 1] << 8 : 0) |
                         (k + 2 < len ? tok[k + 2] : 0);
            buf[o++] = (uint8_t)al[w >> 18 & 63];
            buf[o++] = (uint8_t)al[w >> 12 & 63];
            buf[o++] = k + 1 < len ? (uint8_t)al[w >> 6 & 63] : '=';
            buf[o++] = k + 2 < len ? (uint8_t)al[w & 63] : '=';
        }
        o += (size_t)snprintf((char *)buf + o, cap - o, " %u%s", (unsigned)rank,
                              rng() % 8 ? "\n" : rng() % 2 ? " \r\n" : "\n\n");
        rank += rng() % 6 ? 1 : rng() % 2 ? 0 : 1 + rng() % 1000;
    }
    if (o && rng() % 4 == 0)
        o--; /* no final newline */
    for (size_t e = rng() % 3; e > 0 && o; e--)
        buf[rng() % o] = (uint8_t)edits[rng() % (sizeof edits - 1)];
    return o;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int failed = 0;
        for (int i = 1; i < argc; i++)
            failed |= run_file(argv[i]);
        return failed;
    }
    uint8_t buf[4096];
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = generate(buf, sizeof buf);
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    printf("fuzz_vocab: 50000 generated inputs OK\n");
    return 0;
}
#endif

#else
typedef int fl_fuzz_vocab_not_built; /* ISO C: a translation unit is never empty */
#endif
