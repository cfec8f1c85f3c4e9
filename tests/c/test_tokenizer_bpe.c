/*
 * test_tokenizer_bpe.c - vocabulary parsing, the exact BPE merge (short and
 * long algorithms against a literal quadratic reference of tiktoken's rule),
 * and the encoder's special-token handling and batch counting.
 *
 * Uses the real vocabularies when ../shared/data/tiktoken is present
 * (FL_TIKTOKEN_DIR overrides the directory), else synthetic ones only.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tokenizer/bpe.h"
#include "tokenizer/encoder.h"
#include "tokenizer/vocab.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static fl_vocab *load_real(const char *name)
{
    const char *dir = getenv("FL_TIKTOKEN_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.tiktoken", dir ? dir : "../shared/data/tiktoken", name);
    size_t len;
    uint8_t *data = read_all(path, &len);
    if (!data)
        return NULL;
    char err[200];
    fl_vocab *v = fl_vocab_parse_tiktoken(data, len, err, sizeof err);
    free(data);
    return v;
}

/* tiktoken's rule written literally: O(n^2) per merge step. */
static size_t reference_bpe(const fl_vocab *v, const uint8_t *p, size_t n, uint32_t *out)
{
    size_t *b = malloc((n + 1) * sizeof *b);
    size_t parts = n;
    for (size_t i = 0; i <= n; i++)
        b[i] = i;
    for (;;) {
        uint32_t best = FL_NO_RANK;
        size_t at = 0;
        for (size_t i = 0; i + 1 < parts; i++) {
            uint32_t r = fl_vocab_rank(v, p + b[i], b[i + 2] - b[i]);
            if (r < best) {
                best = r;
                at = i;
            }
        }
        if (best == FL_NO_RANK)
            break;
        memmove(&b[at + 1], &b[at + 2], (parts - at - 1) * sizeof *b);
        parts--;
    }
    for (size_t i = 0; i < parts; i++)
        out[i] = fl_vocab_rank(v, p + b[i], b[i + 1] - b[i]);
    free(b);
    return parts;
}

/* The 256 single-byte tokens, ranked by their byte, as entries 0..255. */
static void byte_tokens(const uint8_t **toks, size_t *lens, uint32_t *ranks)
{
    static uint8_t bytes[256];
    for (int i = 0; i < 256; i++) {
        bytes[i] = (uint8_t)i;
        toks[i] = &bytes[i];
        lens[i] = 1;
        ranks[i] = (uint32_t)i;
    }
}

/* A synthetic vocabulary: 256 bytes, then merges over the alphabet "ab". */
static fl_vocab *synthetic_vocab(void)
{
    static const char *merged[] = {"aa", "ab", "ba", "bb", "aaa", "aab", "abab", "aaaa",
                                   "bbb", "abb", "aaaaaaaa", "bab",
                                   /* over 8 bytes, inline slots (9..12) and long records (over 12,
                                      two lengths): the prebuilt-blob tests need both kinds
                                      when no real vocabulary is at hand */
                                   "abababab", "ababababab", "aaaaaaaaaaaa", "aaaaaaaaaaaaaaaa",
                                   "aaaaaaaaaaaaaaaaaaaaaaaa"};
    size_t nm = sizeof merged / sizeof merged[0];
    size_t n = 256 + nm;
    const uint8_t **toks = malloc(n * sizeof *toks);
    size_t *lens = malloc(n * sizeof *lens);
    uint32_t *ranks = malloc(n * sizeof *ranks);
    byte_tokens(toks, lens, ranks);
    for (size_t i = 0; i < nm; i++) {
        toks[256 + i] = (const uint8_t *)merged[i];
        lens[256 + i] = strlen(merged[i]);
        ranks[256 + i] = (uint32_t)(256 + i);
    }
    char err[100];
    fl_vocab *v = fl_vocab_from_tokens(toks, lens, ranks, n, err, sizeof err);
    free(toks);
    free(lens);
    free(ranks);
    return v;
}

static void check_agree(const fl_vocab *v, const uint8_t *p, size_t n, fl_bpe_scratch *s)
{
    uint32_t *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
    size_t kr = reference_bpe(v, p, n, ref);
    size_t kl = fl_bpe_encode_long(v, p, n, got, s);
    CHECK_EQ_INT(kl, kr);
    CHECK(kl == kr && memcmp(ref, got, kr * sizeof *ref) == 0);
    CHECK_EQ_INT(fl_bpe_encode_long(v, p, n, NULL, s), kr);
    if (n <= FL_BPE_SHORT_MAX) {
        size_t ks = fl_bpe_encode_short(v, p, n, got);
        CHECK_EQ_INT(ks, kr);
        CHECK(ks == kr && memcmp(ref, got, kr * sizeof *ref) == 0);
        CHECK_EQ_INT(fl_bpe_encode_short(v, p, n, NULL), kr);
    }
    if (n <= FL_BPE_MEDIUM_MAX) { /* the array merge of the longer pieces */
        size_t km = fl_bpe_encode_medium_in(v, p, n, n, got);
        CHECK_EQ_INT(km, kr);
        CHECK(km == kr && memcmp(ref, got, kr * sizeof *ref) == 0);
        CHECK_EQ_INT(fl_bpe_encode_medium_in(v, p, n, n, NULL), kr);
        km = fl_bpe_encode(v, p, n, got, s); /* the dispatch */
        CHECK(km == kr && memcmp(ref, got, kr * sizeof *ref) == 0);
    }
    free(ref);
    free(got);
}

/* ---- vocabulary --------------------------------------------------------- */

static void test_parse_small(void)
{
    const char *text = "YQ== 0\nYg== 1\nYWI= 2\r\n\nYWJj 3\n";
    char err[100];
    fl_vocab *v = fl_vocab_parse_tiktoken((const uint8_t *)text, strlen(text), err, sizeof err);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_EQ_INT(fl_vocab_count(v), 4);
    CHECK_EQ_INT(fl_vocab_max_rank(v), 3);
    CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"ab", 2), 2);
    CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"abc", 3), 3);
    CHECK_EQ_INT(fl_vocab_rank(v, (const uint8_t *)"abd", 3), FL_NO_RANK);
    size_t len;
    const uint8_t *b = fl_vocab_bytes(v, 3, &len);
    CHECK(b && len == 3 && memcmp(b, "abc", 3) == 0);
    CHECK(fl_vocab_bytes(v, 4, &len) == NULL);
    CHECK(fl_vocab_bytes(v, 4000000, &len) == NULL);
    fl_vocab_free(v);
}

static void test_parse_errors(void)
{
    static const char *bad[] = {"YQ==\n", "YQ== x\n", "Y 1\n", "YQ== 0\nYQ== 1\n",
                                "YQ== 0\nYg== 0\n", "", "\n\n", "Y!== 1\n", "YQ== 99999999999\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[100] = "";
        fl_vocab *v = fl_vocab_parse_tiktoken((const uint8_t *)bad[i], strlen(bad[i]), err, sizeof err);
        CHECK(v == NULL);
        CHECK(err[0] != '\0');
        fl_vocab_free(v);
    }
}

static void test_real_vocab_roundtrip(void)
{
    fl_vocab *v = load_real("cl100k_base");
    if (!v)
        return; /* shared data absent */
    CHECK_EQ_INT(fl_vocab_count(v), 100256);
    CHECK_EQ_INT(fl_vocab_max_rank(v), 100255);
    for (uint32_t r = 0; r <= fl_vocab_max_rank(v); r++) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r, &len);
        CHECK(b != NULL);
        if (b && fl_vocab_rank(v, b, len) != r) {
            CHECK_EQ_INT(fl_vocab_rank(v, b, len), r);
            break;
        }
        if (!b || len <= 8)
            continue;
        /* a token past the inline head: the tail compare must see every
         * byte.  An exact-size heap copy (ASan: no read outside it) with
         * each tail byte changed in turn, looked up under the token's own
         * hash (so the probe reaches its slot and head, length and tag
         * all match), is never found as this rank, and anything found is
         * a token with exactly those bytes. */
        uint8_t *q = malloc(len);
        memcpy(q, b, len);
        const uint64_t head = fl_vhead_bytes(q, len), h = fl_vocab_hash(q, len);
        CHECK_EQ_INT(fl_vocab_rank_head(v, q, len, head, h), r);
        for (size_t i = 8; i < len; i++) {
            q[i] ^= 0x20;
            uint32_t got = fl_vocab_rank_head(v, q, len, head, h);
            size_t glen = 0;
            const uint8_t *gb = got == FL_NO_RANK ? NULL : fl_vocab_bytes(v, got, &glen);
            CHECK(got != r && (got == FL_NO_RANK || (glen == len && memcmp(gb, q, len) == 0)));
            q[i] ^= 0x20;
        }
        free(q);
    }
    fl_vocab_free(v);
}

static void test_prebuilt_blob(void)
{
    fl_vocab *v = load_real("cl100k_base");
    if (!v)
        v = synthetic_vocab();
    uint8_t sha[32] = {1, 2, 3}, other[32] = {9};
    size_t len = 0;
    uint8_t *blob = fl_vocab_serialize(v, sha, &len);
    CHECK(blob != NULL && len > 0);
    char err[200];
    fl_vocab *w = fl_vocab_from_blob(blob, len, sha, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
        CHECK_EQ_INT(fl_vocab_count(w), fl_vocab_count(v));
        CHECK_EQ_INT(fl_vocab_max_rank(w), fl_vocab_max_rank(v));
        for (uint32_t r = 0; r <= fl_vocab_max_rank(v); r += 7) {
            size_t n1, n2;
            const uint8_t *b1 = fl_vocab_bytes(v, r, &n1), *b2 = fl_vocab_bytes(w, r, &n2);
            CHECK((b1 == NULL) == (b2 == NULL));
            if (b1 && b2) {
                CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
                CHECK_EQ_INT(fl_vocab_rank(w, b2, n2), r);
            }
        }
        CHECK_EQ_INT(fl_vocab_rank(w, (const uint8_t *)"\xff\xfe\xfd\xfc\xfb", 5), FL_NO_RANK);
        fl_vocab_free(w);
    }
    CHECK(fl_vocab_from_blob(blob, len, other, err, sizeof err) == NULL); /* other source */
    CHECK(fl_vocab_from_blob(blob, len - 8, sha, err, sizeof err) == NULL); /* truncated */
    blob[len / 2] ^= 1;
    CHECK(fl_vocab_from_blob(blob, len, sha, err, sizeof err) == NULL); /* corrupt */
    blob[len / 2] ^= 1;
    memcpy(blob, "NOTVOCAB", 8);
    CHECK(fl_vocab_from_blob(blob, len, sha, err, sizeof err) == NULL); /* magic */
    free(blob);
    fl_vocab_free(v);
}

/* A blob whose checksum is right but whose long-token slots point outside
 * their records, or at a record of another length, is refused by the
 * structure check (a crafted file must not make lookups read out of
 * bounds); an unchanged resealed blob is accepted. */
static void test_prebuilt_blob_crafted(void)
{
    fl_vocab *v = load_real("cl100k_base");
    if (!v)
        v = synthetic_vocab();
    uint8_t sha[32] = {4};
    size_t len = 0, n_slots = 0;
    uint8_t *blob = fl_vocab_serialize(v, sha, &len);
    fl_slot *slots = blob ? fl_vocab_blob_slots_for_test(blob, len, &n_slots) : NULL;
    CHECK(slots != NULL);
    if (!slots) {
        free(blob);
        fl_vocab_free(v);
        return;
    }
    char err[200];
    fl_vocab_blob_reseal_for_test(blob, len);
    fl_vocab *ok = fl_vocab_from_blob(blob, len, sha, err, sizeof err);
    CHECK(ok != NULL);
    fl_vocab_free(ok);
    size_t a = n_slots, b = n_slots; /* two long-token slots of different lengths */
    for (size_t i = 0; i < n_slots; i++) {
        uint32_t lenc = slots[i].word & 63;
        if (lenc > FL_SLOT_INLINE && a == n_slots)
            a = i;
        else if (lenc > FL_SLOT_INLINE && a < n_slots && lenc != (slots[a].word & 63)) {
            b = i;
            break;
        }
    }
    CHECK(a < n_slots);
    if (a < n_slots) {
        uint32_t keep = slots[a].word;
        /* record offsets (/ 4) past long_keys, or at a record's middle */
        static const uint32_t bad[] = {(1u << 26) - 1, (1u << 26) - 100, 1u << 25, 1};
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            slots[a].word = bad[k] << 6 | (keep & 63);
            fl_vocab_blob_reseal_for_test(blob, len);
            CHECK(fl_vocab_from_blob(blob, len, sha, err, sizeof err) == NULL);
        }
        if (b < n_slots) {
            slots[a].word = (slots[b].word & ~63u) | (keep & 63);
            fl_vocab_blob_reseal_for_test(blob, len);
            CHECK(fl_vocab_from_blob(blob, len, sha, err, sizeof err) == NULL);
        }
        slots[a].word = keep;
        fl_vocab_blob_reseal_for_test(blob, len);
        ok = fl_vocab_from_blob(blob, len, sha, err, sizeof err);
        CHECK(ok != NULL);
        fl_vocab_free(ok);
    }
    /* an inline slot (9..12 bytes) naming a rank of another length */
    size_t c = n_slots, d = n_slots;
    for (size_t i = 0; i < n_slots; i++) {
        uint32_t lenc = slots[i].word & 63;
        if (lenc > 8 && lenc <= FL_SLOT_INLINE && c == n_slots)
            c = i;
        else if (lenc >= 3 && lenc <= 8 && d == n_slots)
            d = i;
    }
    if (c < n_slots && d < n_slots) {
        uint32_t keep = slots[c].word;
        slots[c].word = (slots[d].word & ~63u) | (keep & 63);
        fl_vocab_blob_reseal_for_test(blob, len);
        CHECK(fl_vocab_from_blob(blob, len, sha, err, sizeof err) == NULL);
        slots[c].word = keep;
        fl_vocab_blob_reseal_for_test(blob, len);
    }
    free(blob);
    fl_vocab_free(v);
}

/* ---- BPE ------------------------------------------------------------------ */

static void test_bpe_synthetic_random(void)
{
    fl_vocab *v = synthetic_vocab();
    CHECK(v != NULL);
    fl_bpe_scratch s = {0};
    uint8_t buf[300];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rng() % (iter < 2000 ? 70 : 300);
        for (size_t i = 0; i < n; i++)
            buf[i] = (rng() % 5) ? (uint8_t)('a' + rng() % 2) : (uint8_t)('c' + rng() % 2);
        check_agree(v, buf, n, &s);
    }
    fl_bpe_scratch_free(&s);
    fl_vocab_free(v);
}

/* A vocabulary over "ab" whose ranks do not grow with length (a longer
 * token may rank below its parts, as a real vocabulary allows when it was
 * made by another split): a merge's new pair can then rank below the pair
 * just merged, the case fl_bpe_encode_medium_in's shortcut for the next
 * lowest pair must get right.  Every string of a and b of up to 6 bytes,
 * ranked by a fixed shuffle. */
static void test_bpe_shuffled_ranks(void)
{
    enum { MAXL = 6 };
    size_t nm = 0;
    static uint8_t store[(1 << (MAXL + 1)) * MAXL];
    const uint8_t *toks[256 + (1 << (MAXL + 1))];
    size_t lens[256 + (1 << (MAXL + 1))];
    uint32_t ranks[256 + (1 << (MAXL + 1))];
    byte_tokens(toks, lens, ranks);
    uint8_t *w = store;
    for (size_t L = 2; L <= MAXL; L++)
        for (size_t bits = 0; bits < ((size_t)1 << L); bits++) {
            for (size_t i = 0; i < L; i++)
                w[i] = (bits >> i) & 1 ? 'b' : 'a';
            toks[256 + nm] = w;
            lens[256 + nm] = L;
            nm++;
            w += L;
        }
    for (size_t i = 0; i < nm; i++)
        ranks[256 + i] = (uint32_t)(256 + i);
    for (size_t i = nm; i > 1; i--) { /* Fisher-Yates over the merged tokens' ranks */
        size_t j = rng() % i;
        uint32_t t = ranks[256 + i - 1];
        ranks[256 + i - 1] = ranks[256 + j];
        ranks[256 + j] = t;
    }
    char err[100];
    fl_vocab *v = fl_vocab_from_tokens(toks, lens, ranks, 256 + nm, err, sizeof err);
    CHECK(v != NULL);
    if (!v)
        return;
    fl_bpe_scratch s = {0};
    uint8_t buf[160];
    for (int iter = 0; iter < 4000; iter++) {
        size_t n = 1 + rng() % 150;
        for (size_t i = 0; i < n; i++)
            buf[i] = rng() % 3 ? 'a' : 'b';
        check_agree(v, buf, n, &s);
    }
    fl_bpe_scratch_free(&s);
    fl_vocab_free(v);
}

/* Table borders, rules and runs of 25..140 bytes (what the array merge of
 * fl_bpe_encode_medium_in serves in prose) against the reference, on every
 * real vocabulary at hand. */
static void test_bpe_real_borders(void)
{
    static const char *names[] = {"r50k_base", "p50k_base", "cl100k_base", "o200k_base"};
    static const char *alpha = "-----=====+|  _.*~#\n";
    size_t na = strlen(alpha);
    for (size_t e = 0; e < sizeof names / sizeof names[0]; e++) {
        fl_vocab *v = load_real(names[e]);
        if (!v)
            continue;
        fl_bpe_scratch s = {0};
        uint8_t buf[160];
        for (int iter = 0; iter < 1500; iter++) {
            size_t n = 25 + rng() % 116, i = 0;
            while (i < n) { /* runs of one byte, cut by another */
                uint8_t c = (uint8_t)alpha[rng() % na];
                for (size_t r = 1 + rng() % 40; r-- > 0 && i < n;)
                    buf[i++] = c;
                if (i < n && rng() % 2)
                    buf[i++] = (uint8_t)alpha[rng() % na];
            }
            check_agree(v, buf, n, &s);
        }
        fl_bpe_scratch_free(&s);
        fl_vocab_free(v);
    }
}

static void test_bpe_real_random(void)
{
    fl_vocab *v = load_real("o200k_base");
    if (!v)
        return;
    fl_bpe_scratch s = {0};
    uint8_t buf[400];
    static const char *alpha = "etaoinshrdlu ETAOIN0123456789.,'-_/\n";
    size_t na = strlen(alpha);
    for (int iter = 0; iter < 1500; iter++) {
        size_t n = 1 + rng() % (iter < 1000 ? 64 : 400);
        for (size_t i = 0; i < n; i++)
            buf[i] = (rng() % 10) ? (uint8_t)alpha[rng() % na] : (uint8_t)rng();
        check_agree(v, buf, n, &s);
    }
    fl_bpe_scratch_free(&s);
    fl_vocab_free(v);
}

/* fl_bpe_encode_short_lanes against fl_bpe_encode_short, piece by piece:
 * batches of 1..FL_BPE_LANES_MAX pieces of mixed lengths (so lanes finish
 * at different steps), from the given byte source. */
static void check_lanes(const fl_vocab *v, const uint8_t *const *pieces, const size_t *lens, size_t k)
{
    uint32_t ids[FL_BPE_LANES_MAX][FL_BPE_SHORT_MAX], want[FL_BPE_SHORT_MAX];
    uint32_t *outs[FL_BPE_LANES_MAX];
    size_t counts[FL_BPE_LANES_MAX];
    for (size_t j = 0; j < FL_BPE_LANES_MAX; j++)
        outs[j] = ids[j];
    fl_bpe_encode_short_lanes(v, pieces, lens, k, outs, counts);
    for (size_t j = 0; j < k; j++) {
        size_t kw = fl_bpe_encode_short(v, pieces[j], lens[j], want);
        CHECK_EQ_INT(counts[j], kw);
        CHECK(counts[j] == kw && memcmp(ids[j], want, kw * sizeof *want) == 0);
    }
}

static void lanes_random(const fl_vocab *v, const char *alpha, int iters)
{
    uint8_t buf[FL_BPE_LANES_MAX][FL_BPE_SHORT_MAX];
    const uint8_t *pieces[FL_BPE_LANES_MAX];
    size_t lens[FL_BPE_LANES_MAX], na = strlen(alpha);
    for (int iter = 0; iter < iters; iter++) {
        size_t k = 1 + rng() % FL_BPE_LANES_MAX;
        for (size_t j = 0; j < k; j++) {
            lens[j] = 1 + rng() % FL_BPE_SHORT_MAX;
            for (size_t i = 0; i < lens[j]; i++)
                buf[j][i] = (rng() % 10) ? (uint8_t)alpha[rng() % na] : (uint8_t)rng();
            pieces[j] = buf[j];
        }
        check_lanes(v, pieces, lens, k);
    }
}

/* The number merge (digit table) against the plain short merge: every
 * string of 1..4 digits with and without a space, and random numbers up
 * to FL_BPE_SHORT_MAX bytes, on each real vocabulary (the table is NULL
 * where a digit token's rank does not fit 16 bits). */
static void test_bpe_digits(void)
{
    static const char *names[] = {"r50k_base", "p50k_base", "cl100k_base", "o200k_base"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        fl_vocab *v = load_real(names[k]);
        if (!v)
            continue;
        uint16_t *t = fl_bpe_digit_table(v);
        if (k < 2)
            CHECK(t != NULL);
        if (t) {
            uint8_t p[FL_BPE_SHORT_MAX];
            uint32_t a[FL_BPE_SHORT_MAX], b[FL_BPE_SHORT_MAX];
            size_t bad = 0, tried = 0;
            for (int s = 0; s < 2; s++)
                for (int L = 1; L <= 4; L++)
                    for (int x = 0; x < (L == 1 ? 10 : L == 2 ? 100 : L == 3 ? 1000 : 10000); x++) {
                        size_t n = 0;
                        if (s)
                            p[n++] = ' ';
                        n += (size_t)snprintf((char *)p + n, sizeof p - n, "%0*d", L, x);
                        size_t na = fl_bpe_encode_short(v, p, n, a), nb = fl_bpe_encode_digits(v, t, p, n, b);
                        bad += na != nb || memcmp(a, b, na * sizeof *a) != 0;
                        tried++;
                    }
            for (int i = 0; i < 20000; i++) {
                size_t n = 0, len = 1 + rng() % FL_BPE_SHORT_MAX;
                if (rng() % 2)
                    p[n++] = ' ';
                while (n < len)
                    p[n++] = (uint8_t)('0' + rng() % (rng() % 4 ? 10 : 2)); /* some runs of 0s and 1s */
                if (n < 1 || (n == 1 && p[0] == ' '))
                    continue;
                size_t na = fl_bpe_encode_short(v, p, n, a), nb = fl_bpe_encode_digits(v, t, p, n, b);
                bad += na != nb || memcmp(a, b, na * sizeof *a) != 0;
                tried++;
            }
            CHECK_EQ_INT(bad, 0);
            CHECK(tried > 40000);
            free(t);
        }
        fl_vocab_free(v);
    }
}

/* Numbers through a fresh r50k encoder from 4 threads at once (the digit
 * table is made on first use; ThreadSanitizer checks its publication):
 * counts equal the single-threaded ones without the cache, whose ids
 * come from the plain merge. */
static void test_encoder_numbers_threads(void)
{
    fl_vocab *v = load_real("r50k_base");
    if (!v)
        return;
    char err[200];
    fl_encoder *e = fl_encoder_new(v, FL_PAT_R50K, NULL, NULL, NULL, 0, err, sizeof err);
    CHECK(e != NULL);
    if (!e)
        return;
    enum { N = 64 };
    char *texts[N];
    size_t lens[N], counts[N], expect[N];
    fl_bpe_scratch s = {0};
    fl_encoder_set_cache(e, 0, 0);
    for (int i = 0; i < N; i++) {
        size_t n = 0, cap = 2000 + rng() % 4000;
        texts[i] = malloc(cap + 40);
        while (n < cap) {
            if (rng() % 3)
                texts[i][n++] = ' ';
            size_t digits = 1 + rng() % (rng() % 8 ? 8 : 40);
            for (size_t j = 0; j < digits; j++)
                texts[i][n++] = (char)('0' + rng() % 10);
            if (rng() % 5 == 0)
                texts[i][n++] = "x.,\n"[rng() % 4];
        }
        lens[i] = n;
        size_t which;
        CHECK_EQ_INT(fl_encode(e, (const uint8_t *)texts[i], n, NULL, NULL, NULL, &expect[i], &which, &s), 0);
    }
    fl_encoder_set_cache(e, 1, 0);
    CHECK_EQ_INT(fl_count_batch(e, (const uint8_t *const *)texts, lens, N, NULL, NULL, counts, NULL, 4), 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(counts[i], expect[i]);
        free(texts[i]);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

static void test_bpe_lanes(void)
{
    fl_vocab *v = synthetic_vocab();
    CHECK(v != NULL);
    lanes_random(v, "ababababcd", 3000);
    fl_vocab_free(v);
    v = load_real("o200k_base");
    if (!v)
        return;
    lanes_random(v, "etaoinshrdlu ETAOIN0123456789.,'-_/\n", 3000);
    /* every token of up to FL_BPE_SHORT_MAX bytes, FL_BPE_LANES_MAX at a
     * time: the lanes give what the plain merge gives */
    const uint8_t *pieces[FL_BPE_LANES_MAX];
    size_t lens[FL_BPE_LANES_MAX], k = 0;
    for (uint32_t r = 0; r <= fl_vocab_max_rank(v); r++) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r, &len);
        if (!b || len > FL_BPE_SHORT_MAX)
            continue;
        pieces[k] = b;
        lens[k++] = len;
        if (k == FL_BPE_LANES_MAX || r == fl_vocab_max_rank(v)) {
            check_lanes(v, pieces, lens, k);
            k = 0;
        }
    }
    if (k)
        check_lanes(v, pieces, lens, k);
    fl_vocab_free(v);
}

/* The merges reading the piece in place (room >= n + FL_BPE_PAD, the
 * bytes after the piece random) give what the copying forms give: the
 * short merge, the number merge and the lanes, on real vocabularies. */
static void test_bpe_in_place(void)
{
    static const char *names[] = {"r50k_base", "o200k_base"};
    static const char *alpha = "etaoinshrdlu ETAOIN0123456789.,'-_/\n";
    size_t na = strlen(alpha);
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        fl_vocab *v = load_real(names[k]);
        if (!v)
            continue;
        uint16_t *t = fl_bpe_digit_table(v);
        uint8_t text[FL_BPE_LANES_MAX][FL_BPE_SHORT_MAX + 64];
        uint32_t a[FL_BPE_SHORT_MAX], b[FL_BPE_SHORT_MAX];
        size_t bad = 0;
        for (int iter = 0; iter < 4000; iter++) {
            size_t n = 1 + rng() % FL_BPE_SHORT_MAX, room = n + rng() % 40;
            for (size_t i = 0; i < room; i++) /* the piece, then bytes it must not depend on */
                text[0][i] = (rng() % 10) ? (uint8_t)alpha[rng() % na] : (uint8_t)rng();
            size_t want = fl_bpe_encode_short(v, text[0], n, a);
            size_t got = fl_bpe_encode_short_in(v, text[0], n, room, b);
            bad += want != got || memcmp(a, b, want * sizeof *a) != 0;
            if (t) { /* the same bytes as a number: a space or not, then digits */
                for (size_t i = 0; i < n; i++)
                    text[0][i] = (uint8_t)('0' + rng() % 10);
                if (n > 1 && rng() % 2)
                    text[0][0] = ' ';
                want = fl_bpe_encode_short(v, text[0], n, a);
                got = fl_bpe_encode_digits_in(v, t, text[0], n, room, b);
                bad += want != got || memcmp(a, b, want * sizeof *a) != 0;
            }
        }
        CHECK_EQ_INT(bad, 0);
        for (int iter = 0; iter < 1000; iter++) { /* lanes: some pieces in place, some copied */
            const uint8_t *pieces[FL_BPE_LANES_MAX];
            size_t lens[FL_BPE_LANES_MAX], rooms[FL_BPE_LANES_MAX], counts[FL_BPE_LANES_MAX];
            uint32_t ids[FL_BPE_LANES_MAX][FL_BPE_SHORT_MAX], *outs[FL_BPE_LANES_MAX];
            size_t kl = 1 + rng() % FL_BPE_LANES_MAX;
            for (size_t j = 0; j < kl; j++) {
                lens[j] = 1 + rng() % FL_BPE_SHORT_MAX;
                rooms[j] = lens[j] + rng() % 40;
                for (size_t i = 0; i < rooms[j]; i++)
                    text[j][i] = (rng() % 10) ? (uint8_t)alpha[rng() % na] : (uint8_t)rng();
                pieces[j] = text[j];
                outs[j] = ids[j];
            }
            fl_bpe_encode_short_lanes_in(v, pieces, lens, rooms, kl, outs, counts);
            for (size_t j = 0; j < kl; j++) {
                size_t want = fl_bpe_encode_short(v, pieces[j], lens[j], a);
                CHECK(counts[j] == want && memcmp(ids[j], a, want * sizeof *a) == 0);
            }
            /* the count's form (pieces known not to be one token; a lane
               stops at two parts): the batch's pieces that are no token,
               and each one's prefixes of 3+ bytes that are none */
            const uint8_t *np[FL_BPE_LANES_MAX];
            size_t nl[FL_BPE_LANES_MAX], nr[FL_BPE_LANES_MAX], nk = 0;
            for (size_t j = 0; j < kl && nk < FL_BPE_LANES_MAX; j++)
                for (size_t m = lens[j], d; m >= 3 && nk < FL_BPE_LANES_MAX;
                     d = 1 + rng() % 4, m = m > d ? m - d : 0)
                    if (fl_vocab_rank(v, pieces[j], m) == FL_NO_RANK) {
                        np[nk] = pieces[j];
                        nl[nk] = m;
                        nr[nk] = rooms[j]; /* the rest of the piece follows: unused */
                        nk++;
                    }
            for (size_t j = 0; j < FL_BPE_LANES_MAX; j++)
                outs[j] = ids[j];
            fl_bpe_encode_short_lanes_nontoken_in(v, np, nl, nr, nk, outs, counts);
            for (size_t j = 0; j < nk; j++) {
                size_t want = fl_bpe_encode_short(v, np[j], nl[j], a);
                CHECK(counts[j] == want && memcmp(ids[j], a, want * sizeof *a) == 0);
            }
        }
        free(t);
        fl_vocab_free(v);
    }
}

static void test_bpe_pathological(void)
{
    /* 1M identical bytes: must finish quickly (O(n log n)) */
    fl_vocab *v = load_real("cl100k_base");
    if (!v)
        v = synthetic_vocab();
    size_t n = 1000000;
    uint8_t *p = malloc(n);
    memset(p, 'a', n);
    fl_bpe_scratch s = {0};
    size_t k = fl_bpe_encode(v, p, n, NULL, &s);
    CHECK(k != FL_BPE_ERROR && k > 0 && k < n);
    uint32_t *out = malloc(n * sizeof *out);
    CHECK_EQ_INT(fl_bpe_encode(v, p, n, out, &s), k);
    /* decoding the ids gives the input back */
    size_t off = 0, ok = 1;
    for (size_t i = 0; i < k && ok; i++) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, out[i], &len);
        ok = b && off + len <= n && memcmp(b, p + off, len) == 0;
        off += len;
    }
    CHECK(ok && off == n);
    free(out);
    free(p);
    fl_bpe_scratch_free(&s);
    fl_vocab_free(v);
}

/* ---- encoder --------------------------------------------------------------- */

static fl_encoder *synthetic_encoder(void)
{
    static const uint8_t *specials[] = {(const uint8_t *)"<|end|>", (const uint8_t *)"<|x|>"};
    static const size_t lens[] = {7, 5};
    static const uint32_t ranks[] = {1000, 1001};
    char err[100];
    return fl_encoder_new(synthetic_vocab(), FL_PAT_CL100K, specials, lens, ranks, 2, err,
                          sizeof err);
}

static void test_encoder_specials(void)
{
    fl_encoder *e = synthetic_encoder();
    CHECK(e != NULL);
    if (!e)
        return;
    const char *text = "ab<|end|>ba<|x|><|end|>";
    size_t len = strlen(text), count = 0, which = 99;
    uint8_t all[2] = {1, 1}, none[2] = {0, 0}, only_x[2] = {0, 1};
    fl_bpe_scratch s = {0};
    fl_ids ids = {0};
    CHECK_EQ_INT(fl_encode(e, (const uint8_t *)text, len, all, NULL, &ids, &count, &which, &s), FL_ENC_OK);
    CHECK_EQ_INT(count, ids.len);
    CHECK_EQ_INT(count, 5);
    if (ids.len == 5) {
        CHECK_EQ_INT(ids.ids[0], 257); /* "ab" */
        CHECK_EQ_INT(ids.ids[1], 1000);
        CHECK_EQ_INT(ids.ids[2], 258); /* "ba" */
        CHECK_EQ_INT(ids.ids[3], 1001);
        CHECK_EQ_INT(ids.ids[4], 1000);
    }
    CHECK_EQ_INT(fl_encode(e, (const uint8_t *)text, len, none, all, NULL, &count, &which, &s),
                 FL_ENC_DISALLOWED);
    CHECK_EQ_INT(which, 0);
    CHECK_EQ_INT(fl_encode(e, (const uint8_t *)text, len, NULL, only_x, NULL, &count, &which, &s),
                 FL_ENC_DISALLOWED);
    CHECK_EQ_INT(which, 1);
    size_t len2;
    const uint8_t *b = fl_encoder_token_bytes(e, 1001, &len2);
    CHECK(b && len2 == 5 && memcmp(b, "<|x|>", 5) == 0);
    CHECK(fl_encoder_token_bytes(e, 5000, &len2) == NULL);
    fl_ids_free(&ids);
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

static void test_specials_different_first_bytes(void)
{
    static const uint8_t *specials[] = {(const uint8_t *)"<s>", (const uint8_t *)"#end#",
                                        (const uint8_t *)"#en"};
    static const size_t lens[] = {3, 5, 3};
    static const uint32_t ranks[] = {2000, 2001, 2002};
    char err[100];
    fl_encoder *e = fl_encoder_new(synthetic_vocab(), FL_PAT_O200K, specials, lens, ranks, 3, err,
                                   sizeof err);
    CHECK(e != NULL);
    if (!e)
        return;
    const char *text = "ab #end# <s> #en";
    uint8_t all[3] = {1, 1, 1}, only_s[3] = {1, 0, 0};
    size_t which = 9, at;
    at = fl_encoder_find_special(e, (const uint8_t *)text, strlen(text), 0, all, &which);
    CHECK_EQ_INT(at, 3);
    CHECK_EQ_INT(which, 1); /* "#end#" over its prefix "#en": the longer one */
    at = fl_encoder_find_special(e, (const uint8_t *)text, strlen(text), 0, only_s, &which);
    CHECK_EQ_INT(at, 9);
    CHECK_EQ_INT(which, 0);
    fl_bpe_scratch s = {0};
    fl_ids ids = {0};
    size_t count = 0;
    CHECK_EQ_INT(fl_encode(e, (const uint8_t *)text, strlen(text), all, NULL, &ids, &count, &which, &s),
                 FL_ENC_OK);
    int saw[3] = {0, 0, 0};
    for (size_t i = 0; i < ids.len; i++)
        if (ids.ids[i] >= 2000 && ids.ids[i] <= 2002)
            saw[ids.ids[i] - 2000]++;
    CHECK(saw[0] == 1 && saw[1] == 1 && saw[2] == 1);
    fl_ids_free(&ids);
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

static void test_encoder_batch(void)
{
    fl_encoder *e = synthetic_encoder();
    if (!e)
        return;
    enum { N = 200 };
    char *texts[N];
    size_t lens[N], counts[N], expect[N];
    fl_bpe_scratch s = {0};
    for (int i = 0; i < N; i++) {
        size_t n = rng() % 500;
        texts[i] = malloc(n + 1);
        for (size_t j = 0; j < n; j++)
            texts[i][j] = "ab c\n1"[rng() % 6];
        lens[i] = n;
        size_t which;
        CHECK_EQ_INT(fl_encode(e, (const uint8_t *)texts[i], n, NULL, NULL, NULL, &expect[i], &which, &s), 0);
    }
    CHECK_EQ_INT(fl_count_batch(e, (const uint8_t *const *)texts, lens, N, NULL, NULL, counts, NULL, 4), 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(counts[i], expect[i]);
        free(texts[i]);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

int main(void)
{
    static const check_case cases[] = {
        CASE(test_parse_small),          CASE(test_parse_errors),   CASE(test_prebuilt_blob),
        CASE(test_real_vocab_roundtrip), CASE(test_prebuilt_blob_crafted), CASE(test_bpe_synthetic_random),
        CASE(test_bpe_real_random),      CASE(test_bpe_real_borders),
        CASE(test_bpe_shuffled_ranks),
        CASE(test_bpe_pathological),
        CASE(test_encoder_specials),     CASE(test_encoder_batch),
        CASE(test_specials_different_first_bytes), CASE(test_bpe_lanes),
        CASE(test_bpe_digits),           CASE(test_encoder_numbers_threads),
        CASE(test_bpe_in_place),
    };
    RUN_TESTS(cases);
}
