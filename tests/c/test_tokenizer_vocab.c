/*
 * test_tokenizer_vocab.c - the .tiktoken parser against a reference built
 * from the same (bytes, rank) pairs with fl_vocab_from_tokens: random
 * vocabularies written out as base64 lines in every shape the parser has a
 * path for (ranks in order, shuffled, with gaps, crossing a digit-count
 * boundary, prefix-equal to the expected rank; every padding; CRLF and
 * trailing blanks; no final newline; lines short enough that the table
 * sized from the file length fills up, and long enough that it is too
 * big), then every token, absent neighbours and the table size checked.
 * Also: the prebuilt blob's sampled lookup check, and SHA-256 (CPU SHA
 * instructions) against digests computed with Python's hashlib, at every
 * padding boundary, when this CPU has them.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tokenizer/sha256.h"
#include "tokenizer/vocab.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            w |= in[i + 2];
        out[o++] = al[(w >> 18) & 63];
        out[o++] = al[(w >> 12) & 63];
        out[o++] = i + 1 < n ? al[(w >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? al[w & 63] : '=';
    }
    return o;
}

typedef struct {
    size_t n;
    uint8_t **tok;
    size_t *len;
    uint32_t *rank;
} token_set;

/* n distinct tokens (all 256 single bytes first, then random ones of
 * min_len..max_len bytes), ranks chosen by rank_mode:
 * 0 in order, 1 in order with gaps, 2 shuffled. */
static token_set make_tokens(size_t n, size_t min_len, size_t max_len, int rank_mode)
{
    token_set t = {n, malloc(n * sizeof(uint8_t *)), malloc(n * sizeof(size_t)), malloc(n * sizeof(uint32_t))};
    for (size_t i = 0; i < n; i++) {
        for (;;) {
            size_t len = i < 256 ? 1 : min_len + rng() % (max_len - min_len + 1);
            uint8_t *b = malloc(len);
            for (size_t k = 0; k < len; k++)
                b[k] = i < 256 ? (uint8_t)i : (uint8_t)(rng() % 4 ? 'a' + rng() % 6 : rng() % 0xF7);
            int dup = 0;
            for (size_t j = 256; j < i && !dup; j++) /* small n: quadratic is fine */
                dup = t.len[j] == len && memcmp(t.tok[j], b, len) == 0;
            if (i >= 256 && len == 1)
                dup = 1;
            if (!dup) {
                t.tok[i] = b;
                t.len[i] = len;
                break;
            }
            free(b);
        }
    }
    uint32_t r = 0;
    for (size_t i = 0; i < n; i++) {
        t.rank[i] = r;
        r += rank_mode == 1 && rng() % 7 == 0 ? 1 + (uint32_t)(rng() % 50) : 1;
    }
    if (rank_mode == 2)
        for (size_t i = n; i > 1; i--) {
            size_t j = rng() % i;
            uint32_t x = t.rank[i - 1];
            t.rank[i - 1] = t.rank[j];
            t.rank[j] = x;
        }
    return t;
}

static void free_tokens(token_set *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->tok[i]);
    free(t->tok);
    free(t->len);
    free(t->rank);
}

/* The .tiktoken text of t; style bits: 1 CRLF, 2 trailing blanks, 4 no
 * final newline, 8 blank lines between. */
static char *write_file(const token_set *t, int style, size_t *out_len)
{
    size_t cap = 64;
    for (size_t i = 0; i < t->n; i++)
        cap += t->len[i] * 2 + 40;
    char *buf = malloc(cap);
    size_t o = 0;
    for (size_t i = 0; i < t->n; i++) {
        o += b64_encode(t->tok[i], t->len[i], buf + o);
        o += (size_t)sprintf(buf + o, " %u", (unsigned)t->rank[i]);
        if ((style & 2) && i % 3 == 0)
            o += (size_t)sprintf(buf + o, " \t");
        if ((style & 4) && i + 1 == t->n)
            break;
        o += (size_t)sprintf(buf + o, (style & 1) ? "\r\n" : "\n");
        if ((style & 8) && i % 5 == 0)
            o += (size_t)sprintf(buf + o, "\n");
    }
    *out_len = o;
    return buf;
}

static size_t expected_slots(size_t n)
{
    size_t cap = 16;
    while (cap < n * 2 + 2)
        cap <<= 1;
    return cap;
}

static void check_same(const fl_vocab *v, const token_set *t)
{
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(fl_vocab_count(v), t->n);
    CHECK_EQ_INT(v->mask + 1, expected_slots(t->n));
    uint32_t max = 0;
    int bad = 0;
    for (size_t i = 0; i < t->n && bad < 5; i++) {
        if (t->rank[i] > max)
            max = t->rank[i];
        if (fl_vocab_rank(v, t->tok[i], t->len[i]) != t->rank[i]) {
            CHECK_EQ_INT(fl_vocab_rank(v, t->tok[i], t->len[i]), t->rank[i]);
            bad++;
        }
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, t->rank[i], &len);
        if (!b || len != t->len[i] || memcmp(b, t->tok[i], len) != 0) {
            CHECK(0 && "bytes of rank differ");
            bad++;
        }
        /* a neighbour that is not a token (one byte longer, last byte
         * changed) must be absent unless it happens to be in the set */
        uint8_t probe[128];
        if (t->len[i] + 1 <= sizeof probe) {
            memcpy(probe, t->tok[i], t->len[i]);
            probe[t->len[i]] = 0xF7; /* never produced by make_tokens after byte 0 */
            CHECK_EQ_INT(fl_vocab_rank(v, probe, t->len[i] + 1), FL_NO_RANK);
        }
        /* up to FL_SLOT_INLINE bytes: the count loop's lookup (head and
         * tail words as masked loads of 16 readable bytes, bytes past the
         * key not zero) finds it, and not the neighbour */
        if (t->len[i] + 1 <= FL_SLOT_INLINE) {
            uint8_t buf[32];
            memset(buf, 0xA5, sizeof buf);
            memcpy(buf, t->tok[i], t->len[i]);
            size_t n = t->len[i];
            for (int extend = 0; extend < 2; extend++, n++) {
                if (extend)
                    buf[n - 1] = 0xF7;
                size_t keep = n < 8 ? n : 8, extra = n > 8 ? n - 8 : 0;
                uint64_t head = fl_vload64(buf) & (~0ull >> (64 - 8 * keep));
                uint64_t tail = fl_vload64(buf + 8) & ((1ull << (8 * extra)) - 1);
                CHECK(head == fl_vhead_bytes(buf, n) && tail == fl_vtail_bytes(buf, n));
                uint32_t r = fl_vocab_rank_short(v, head, tail, n, fl_vhash_short(head, tail, n));
                if (r != (extend ? FL_NO_RANK : t->rank[i])) {
                    CHECK_EQ_INT(r, extend ? FL_NO_RANK : t->rank[i]);
                    bad++;
                }
            }
        }
    }
    CHECK_EQ_INT(fl_vocab_max_rank(v), max);
}

static void run_case(size_t n, size_t min_len, size_t max_len, int rank_mode, int style)
{
    token_set t = make_tokens(n, min_len, max_len, rank_mode);
    size_t len;
    char *text = write_file(&t, style, &len);
    char err[200] = "";
    fl_vocab *v = fl_vocab_parse_tiktoken((const uint8_t *)text, len, err, sizeof err);
    if (!v)
        fprintf(stderr, "  parse failed: %s (n=%zu mode=%d style=%d)\n", err, n, rank_mode, style);
    check_same(v, &t);
    fl_vocab_free(v);
    /* the reference: the same pairs handed over directly */
    fl_vocab *w = fl_vocab_from_tokens((const uint8_t *const *)t.tok, t.len, t.rank, t.n, err, sizeof err);
    check_same(w, &t);
    fl_vocab_free(w);
    free(text);
    free_tokens(&t);
}

static void test_parse_rank_orders(void)
{
    for (int mode = 0; mode < 3; mode++)
        for (int style = 0; style < 16; style += 3)
            run_case(1500, 2, 12, mode, style);
}

static void test_parse_digit_boundaries(void)
{
    /* ranks 0..12000 in order cross 9->10, 99->100, 999->1000, 9999->10000 */
    run_case(12001, 2, 6, 0, 0);
    run_case(12001, 2, 6, 0, 4);
}

static void test_parse_table_sizes(void)
{
    /* short lines (3-byte tokens, 4 base64 chars + rank): more tokens than
     * the file-length estimate, so the table fills and is rebuilt */
    run_case(6000, 2, 3, 0, 0);
    /* long tokens: the estimate is far too large, the table is rebuilt
     * smaller */
    run_case(700, 60, 100, 0, 0);
    run_case(700, 60, 100, 2, 5);
}

static void test_parse_rank_prefix(void)
{
    /* expected rank "1" but the line says "10", "1x" is malformed, and a
     * rank at the very end without newline takes the careful path */
    const char *text = "YQ== 0\nYg== 10\nYWI= 11\nYWJj 1";
    char err[100];
    fl_vocab *v = fl_vocab_parse_tiktoken((const uint8_t *)text, strlen(text), err, sizeof err);
    CHECK(v != NULL);
    if (v) {
        CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"b", 1), 10);
        CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"ab", 2), 11);
        CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"abc", 3), 1);
        CHECK_EQ_INT(fl_vocab_max_rank(v), 11);
    }
    fl_vocab_free(v);
    static const char *bad[] = {"YQ== 0\nYg== 1x\n", "YQ== 0\nYg==  1\n", "YQ== 0\nYg== 1 2\n",
                                "YQ==YQ== 0\n", "YQ= 0\n", "YQ=== 0\n", "Y=== 0\n", "==== 0\n",
                                "YQ== 0\n YQ== 1\n", "YWJj\t0\n", "YWJj 0\nYWJj 1\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = fl_vocab_parse_tiktoken((const uint8_t *)bad[i], strlen(bad[i]), err, sizeof err);
        if (v)
            fprintf(stderr, "  accepted: %s\n", bad[i]);
        CHECK(v == NULL);
        fl_vocab_free(v);
    }
}

static void test_blob_sample_check(void)
{
    token_set t = make_tokens(3000, 2, 20, 0);
    char err[200];
    fl_vocab *v = fl_vocab_from_tokens((const uint8_t *const *)t.tok, t.len, t.rank, t.n, err, sizeof err);
    CHECK(v != NULL);
    uint8_t sha[32] = {7};
    size_t len = 0;
    uint8_t *blob = v ? fl_vocab_serialize(v, sha, &len) : NULL;
    CHECK(blob != NULL);
    if (blob) {
        fl_vocab *w = fl_vocab_from_blob(blob, len, sha, err, sizeof err);
        CHECK(w != NULL);
        if (w)
            check_same(w, &t);
        fl_vocab_free(w);
    }
    free(blob);
    fl_vocab_free(v);
    free_tokens(&t);
}

static void test_sha256(void)
{
    static const struct {
        size_t len;
        const char *hex; /* hashlib.sha256(bytes((i * 7 + 3) & 255 for i in range(len))) */
    } cases[] = {
        {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"},
        {3, "6ab0dba1f4f1dfbb37b4f9eeb092c09fca4900ad32bdcd147d8dde35d6c87c35"},
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {111, "67d9492e628fd376e0b2efec8ca2b99b123e202cf620deb270728df979b2f73e"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
        {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
        {129, "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4"},
        {1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"},
    };
    uint8_t digest[32];
    if (!fl_sha256_available()) {
        CHECK(fl_sha256((const uint8_t *)"abc", 3, digest) == -1);
        fprintf(stderr, "  (no SHA instructions on this CPU: digests not checked)\n");
        return;
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t *data = malloc(cases[c].len ? cases[c].len : 1); /* exact size: ASan sees overreads */
        for (size_t i = 0; i < cases[c].len; i++)
            data[i] = (uint8_t)((i * 7 + 3) & 255);
        CHECK(fl_sha256(data, cases[c].len, digest) == 0);
        char hex[65];
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        if (strcmp(hex, cases[c].hex) != 0)
            fprintf(stderr, "  sha256 of %zu bytes: %s\n", cases[c].len, hex);
        CHECK(strcmp(hex, cases[c].hex) == 0);
        free(data);
    }
}

int main(void)
{
    static const check_case cases[] = {
        CASE(test_parse_rank_orders), CASE(test_parse_digit_boundaries),
        CASE(test_parse_table_sizes), CASE(test_parse_rank_prefix),
        CASE(test_blob_sample_check), CASE(test_sha256),
    };
    RUN_TESTS(cases);
}
