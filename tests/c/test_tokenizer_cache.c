/*
 * test_tokenizer_cache.c - the shared piece cache (piece_cache.h) and the
 * encoder with it: exact hits, misses on any difference, eviction, clear,
 * both entry shapes, many threads writing and reading the same entries
 * (every hit must be exactly what was stored for that piece), and encoder
 * results with the cache equal to results without it, serial and threaded.
 *
 * Uses ../shared/data/tiktoken/cl100k_base.tiktoken when present
 * (FL_TIKTOKEN_DIR overrides the directory) for the encoder tests.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tokenizer/encoder.h"
#include "tokenizer/piece_cache.h"
#include "tokenizer/vocab.h"

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Ids a piece "should" have in the synthetic tests: derived from its bytes,
 * so any thread can check any hit; sometimes more than an entry holds
 * (stored as a count-only entry). */
static size_t derived_ids(const uint8_t *p, size_t n, size_t max_ids, uint32_t *ids)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    size_t k = 1 + h % (max_ids + 2);
    for (size_t i = 0; i < k; i++)
        ids[i] = h + (uint32_t)i * 7919u + (uint32_t)n;
    return k;
}

static void random_piece(uint64_t *s, uint8_t *p, size_t *n, size_t max_len, int alphabet)
{
    *n = 1 + rng_next(s) % max_len;
    for (size_t i = 0; i < *n; i++)
        p[i] = (uint8_t)("abcde"[rng_next(s) % (unsigned)alphabet]);
}

static void test_get_put_exact(void)
{
    fl_piece_cache *c = fl_piece_cache_new(6, FL_PC_SHORT_LEN);
    CHECK(c != NULL);
    if (!c)
        return;
    uint32_t ids[FL_PC_MAX_IDS], want[3] = {11, 22, 33};
    int has = 0;
    const uint8_t *w = (const uint8_t *)"hello world";
    uint64_t h = fl_vocab_hash(w, 11);
    CHECK_EQ_INT(fl_piece_cache_get(c, w, 11, h, ids, &has), -1);
    fl_piece_cache_put(c, w, 11, h, want, 3);
    CHECK_EQ_INT(fl_piece_cache_get(c, w, 11, h, ids, &has), 3);
    CHECK_EQ_INT(has, 1);
    CHECK(memcmp(ids, want, sizeof want) == 0);
    /* same hash (forced), different bytes or length: a miss */
    CHECK_EQ_INT(fl_piece_cache_get(c, (const uint8_t *)"hello worle", 11, h, ids, &has), -1);
    CHECK_EQ_INT(fl_piece_cache_get(c, w, 10, h, ids, &has), -1);
    /* too long / too many ids / empty: ignored */
    uint32_t many[FL_PC_MAX_IDS + 1] = {0};
    uint8_t longp[FL_PC_LONG_LEN + 1];
    memset(longp, 'x', sizeof longp);
    fl_piece_cache_put(c, longp, FL_PC_SHORT_LEN + 1, 5, want, 1);
    CHECK_EQ_INT(fl_piece_cache_get(c, longp, FL_PC_SHORT_LEN + 1, 5, ids, &has), -1);
    fl_piece_cache_put(c, longp, 4, 5, many, FL_PC_SHORT_IDS + 1); /* count only */
    CHECK_EQ_INT(fl_piece_cache_get(c, longp, 4, 5, ids, &has), FL_PC_SHORT_IDS + 1);
    CHECK_EQ_INT(has, 0);
    fl_piece_cache_clear(c);
    fl_piece_cache_put(c, longp, 4, 5, many, 0);
    CHECK_EQ_INT(fl_piece_cache_get(c, longp, 4, 5, ids, &has), -1);
    /* a piece of exactly the maximum length and ids */
    uint32_t six[FL_PC_SHORT_IDS] = {1, 2, 3, 4, 5, 0xFFFFFFFFu};
    fl_piece_cache_put(c, longp, FL_PC_SHORT_LEN, 9, six, FL_PC_SHORT_IDS);
    CHECK_EQ_INT(fl_piece_cache_get(c, longp, FL_PC_SHORT_LEN, 9, ids, &has), FL_PC_SHORT_IDS);
    CHECK(memcmp(ids, six, sizeof six) == 0);
    fl_piece_cache_clear(c);
    CHECK_EQ_INT(fl_piece_cache_get(c, w, 11, h, ids, &has), -1);
    CHECK_EQ_INT(fl_piece_cache_get(c, longp, FL_PC_SHORT_LEN, 9, ids, &has), -1);
    CHECK(fl_piece_cache_new(0, FL_PC_SHORT_LEN) == NULL);
    CHECK(fl_piece_cache_new(6, 17) == NULL);
    fl_piece_cache_free(c);
}

/* Far more pieces than entries, pieces differing only in late bytes: every
 * hit is the stored value, and recently stored pieces are mostly found. */
static void check_eviction(size_t max_len, size_t max_ids)
{
    fl_piece_cache *c = fl_piece_cache_new(4, max_len); /* 16 entries */
    CHECK(c != NULL);
    if (!c)
        return;
    uint64_t s = 12345;
    uint8_t p[FL_PC_LONG_LEN];
    uint32_t ids[FL_PC_MAX_IDS], want[FL_PC_MAX_IDS + 2];
    size_t hits = 0, wrong = 0;
    int has;
    for (int i = 0; i < 20000; i++) {
        size_t n;
        random_piece(&s, p, &n, max_len, 3);
        uint64_t h = fl_vocab_hash(p, n);
        size_t k = derived_ids(p, n, max_ids, want);
        int got = fl_piece_cache_get(c, p, n, h, ids, &has);
        if (got >= 0) {
            hits++;
            if ((size_t)got != k || has != (k <= max_ids) ||
                (has && memcmp(ids, want, k * sizeof *ids) != 0))
                wrong++;
        }
        fl_piece_cache_put(c, p, n, h, want, k);
        got = fl_piece_cache_get(c, p, n, h, ids, &has); /* just stored: found (one thread) */
        CHECK_EQ_INT(got, (long long)k);
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(hits > 0);
    fl_piece_cache_free(c);
}

/* The _room forms read a piece's key with whole-word loads when the bytes
 * after it are readable: entries stored and looked up through either form,
 * with different bytes after the piece each time, are the same entries;
 * a piece one byte shorter or longer, or with its last byte changed, is
 * a miss.  Both shapes. */
static void check_room_keys(size_t max_len, size_t max_ids)
{
    fl_piece_cache *c = fl_piece_cache_new(8, max_len);
    CHECK(c != NULL);
    if (!c)
        return;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    uint8_t a[FL_PC_LONG_LEN + 16], b[FL_PC_LONG_LEN + 16];
    uint32_t ids[FL_PC_MAX_IDS], want[FL_PC_MAX_IDS + 2]; /* derived_ids: up to max_ids + 2 */
    size_t bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rng_next(&s) % max_len;
        for (size_t i = 0; i < sizeof a; i++)
            a[i] = (uint8_t)rng_next(&s);
        memcpy(b, a, n); /* the same piece, other bytes after it */
        for (size_t i = n; i < sizeof b; i++)
            b[i] = (uint8_t)~a[i];
        uint64_t h = fl_vocab_hash(a, n);
        size_t k = derived_ids(a, n, max_ids, want);
        int put_room = iter & 1, get_room = (iter >> 1) & 1, has = 0;
        size_t ra = put_room ? n + 16 : n, rb = get_room ? n + 16 : n;
        fl_piece_cache_clear(c);
        if (max_len == FL_PC_SHORT_LEN)
            fl_piece_cache_put_short_room(c, a, n, ra, h, want, k);
        else
            fl_piece_cache_put_long_room(c, a, n, ra, h, want, k);
        int got = max_len == FL_PC_SHORT_LEN ? fl_piece_cache_get_short_room(c, b, n, rb, h, ids, &has)
                                             : fl_piece_cache_get_long_room(c, b, n, rb, h, ids, &has);
        bad += got != (int)k || (has && memcmp(ids, want, k * sizeof *ids) != 0);
        int got_count = max_len == FL_PC_SHORT_LEN
                            ? fl_piece_cache_get_short_room(c, b, n, rb, h, NULL, &has)
                            : fl_piece_cache_get_long_room(c, b, n, rb, h, NULL, &has);
        bad += got_count != (int)k; /* a count: no ids copied */
        b[n - 1] ^= 1; /* the last byte differs: a miss */
        got = max_len == FL_PC_SHORT_LEN ? fl_piece_cache_get_short_room(c, b, n, rb, h, ids, &has)
                                         : fl_piece_cache_get_long_room(c, b, n, rb, h, ids, &has);
        bad += got != -1;
        b[n - 1] ^= 1;
        if (n > 1) { /* a prefix, at the same hash: a miss */
            got = max_len == FL_PC_SHORT_LEN ? fl_piece_cache_get_short_room(c, b, n - 1, rb, h, ids, &has)
                                             : fl_piece_cache_get_long_room(c, b, n - 1, rb, h, ids, &has);
            bad += got != -1;
        }
    }
    CHECK_EQ_INT(bad, 0);
    fl_piece_cache_free(c);
}
static void test_room_keys_short(void) { check_room_keys(FL_PC_SHORT_LEN, FL_PC_SHORT_IDS); }
static void test_room_keys_long(void) { check_room_keys(FL_PC_LONG_LEN, FL_PC_LONG_IDS); }

static void test_eviction_short(void) { check_eviction(FL_PC_SHORT_LEN, FL_PC_SHORT_IDS); }
static void test_eviction_long(void) { check_eviction(FL_PC_LONG_LEN, FL_PC_LONG_IDS); }

/* ---- threads -------------------------------------------------------------- */

typedef struct {
    fl_piece_cache *c;
    uint64_t seed;
    size_t max_len, max_ids;
    size_t hits, wrong;
    int clearer;
} hammer_arg;

static void *hammer(void *arg)
{
    hammer_arg *a = arg;
    uint8_t p[FL_PC_LONG_LEN];
    uint32_t ids[FL_PC_MAX_IDS], want[FL_PC_MAX_IDS + 2];
    int has;
    for (int i = 0; i < 200000; i++) {
        if (a->clearer && i % 5000 == 0)
            fl_piece_cache_clear(a->c);
        size_t n;
        random_piece(&a->seed, p, &n, a->max_len < 6 ? a->max_len : 6, 2); /* few pieces: contention */
        uint64_t h = fl_vocab_hash(p, n) & ~(uint64_t)0 << (i & 1 ? 0 : 40); /* crowd some sets */
        size_t k = derived_ids(p, n, a->max_ids, want);
        int got = fl_piece_cache_get(a->c, p, n, h, ids, &has);
        if (got >= 0) {
            a->hits++;
            if ((size_t)got != k || has != (k <= a->max_ids) ||
                (has && memcmp(ids, want, k * sizeof *ids) != 0))
                a->wrong++;
        } else {
            fl_piece_cache_put(a->c, p, n, h, want, k);
        }
    }
    return NULL;
}

static void hammer_shape(size_t max_len, size_t max_ids)
{
    enum { T = 4 };
    fl_piece_cache *c = fl_piece_cache_new(5, max_len);
    CHECK(c != NULL);
    if (!c)
        return;
    pthread_t tid[T];
    hammer_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (hammer_arg){c, 1000 + (uint64_t)t * 7777, max_len, max_ids, 0, 0, t == 0};
        CHECK_EQ_INT(pthread_create(&tid[t], NULL, hammer, &args[t]), 0);
    }
    size_t hits = 0, wrong = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(tid[t], NULL);
        hits += args[t].hits;
        wrong += args[t].wrong;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(hits > 1000);
    fl_piece_cache_free(c);
}

static void test_threads_short(void) { hammer_shape(FL_PC_SHORT_LEN, FL_PC_SHORT_IDS); }
static void test_threads_long(void) { hammer_shape(FL_PC_LONG_LEN, FL_PC_LONG_IDS); }

/* ---- the encoder with and without the cache --------------------------------- */

static fl_encoder *real_encoder_of(const char *name, fl_pattern_id pat)
{
    const char *dir = getenv("FL_TIKTOKEN_DIR");
    char path[1024], err[200];
    snprintf(path, sizeof path, "%s/%s.tiktoken", dir ? dir : "../shared/data/tiktoken", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n);
    size_t got = data ? fread(data, 1, (size_t)n, f) : 0;
    fclose(f);
    fl_vocab *v = got == (size_t)n ? fl_vocab_parse_tiktoken(data, (size_t)n, err, sizeof err) : NULL;
    free(data);
    return v ? fl_encoder_new(v, pat, NULL, NULL, NULL, 0, err, sizeof err) : NULL;
}

static fl_encoder *real_encoder(void)
{
    return real_encoder_of("cl100k_base", FL_PAT_CL100K);
}

/* Text from words that repeat (so the cache is hit) with long runs;
 * every fourth one is long enough for the encoder's warm-up sweep. */
static char *random_text(uint64_t *s, size_t *len)
{
    static unsigned made;
    size_t cap = made++ % 4 == 3 ? FL_ENC_WARM_MIN + 4096 : 4096, n = 0;
    static const char *words[] = {
        " the", " tokenization", " antidisestablishmentarianism", " xqzvy", " Hello", "  ",
        "\n\n", "+------------------------------------+", "                            ",
        " été", " 東京", "123456", "'s", " supercalifragilistic", " qwertzuiop", ".",
    };
    char *t = malloc(cap);
    while (n < cap - 64) {
        const char *w = words[rng_next(s) % (sizeof words / sizeof words[0])];
        size_t k = strlen(w);
        memcpy(t + n, w, k);
        n += k;
        if (rng_next(s) % 7 == 0) { /* a random letter run: new pieces */
            size_t m = 1 + rng_next(s) % 30;
            t[n++] = ' ';
            for (size_t i = 0; i < m; i++)
                t[n++] = (char)('a' + rng_next(s) % 26);
        }
    }
    *len = n;
    return t;
}

static void test_encoder_cache_equal(void)
{
    fl_encoder *e = real_encoder();
    if (!e) {
        fprintf(stderr, "  (no cl100k_base vocabulary: skipped)\n");
        return;
    }
    CHECK(fl_encoder_cache_enabled(e));
    fl_bpe_scratch s = {0};
    uint64_t seed = 99;
    for (int round = 0; round < 60; round++) {
        size_t len, c_off, c_on, c_on2;
        char *t = random_text(&seed, &len);
        fl_ids off = {0}, on = {0};
        fl_encoder_set_cache(e, 0, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &off, &c_off, NULL, &s), 0);
        fl_encoder_set_cache(e, 1, round % 3 == 0); /* sometimes single tokens too */
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &on, &c_on, NULL, &s), 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_on2, NULL, &s), 0);
        CHECK_EQ_INT(c_on, c_off);
        CHECK_EQ_INT(c_on2, c_off);
        CHECK(on.len == off.len && memcmp(on.ids, off.ids, off.len * sizeof *off.ids) == 0);
        if (round % 10 == 9)
            fl_encoder_clear_cache(e);
        fl_ids_free(&off);
        fl_ids_free(&on);
        free(t);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* Counting with the merge lanes (forced on and off, whatever the table
 * size chose) == counting without the cache; the entries the lanes wrote
 * serve encode with exactly the ids of the uncached path. */
static void test_encoder_lanes(void)
{
    fl_encoder *e = real_encoder();
    if (!e)
        return;
    fl_bpe_scratch s = {0};
    uint64_t seed = 777;
    for (int round = 0; round < 60; round++) {
        size_t len, c_off, c_lanes, c_plain, c_hit;
        char *t = random_text(&seed, &len);
        fl_ids off = {0}, on = {0};
        fl_encoder_set_cache(e, 0, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &off, &c_off, NULL, &s), 0);
        fl_encoder_set_cache(e, 1, 0);
        fl_encoder_clear_cache(e);
        fl_encoder_set_merge_lanes(e, 1);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_lanes, NULL, &s), 0);
        CHECK_EQ_INT(c_lanes, c_off);
        /* the same pieces again: served by what the lanes stored */
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &on, &c_hit, NULL, &s), 0);
        CHECK_EQ_INT(c_hit, c_off);
        CHECK(on.len == off.len && memcmp(on.ids, off.ids, off.len * sizeof *off.ids) == 0);
        fl_encoder_clear_cache(e);
        fl_encoder_set_merge_lanes(e, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_plain, NULL, &s), 0);
        CHECK_EQ_INT(c_plain, c_off);
        fl_ids_free(&off);
        fl_ids_free(&on);
        free(t);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* Counting with the lanes where the same missed piece comes again before
 * its batch runs (counted with its lane, not deferred twice): texts drawn
 * from a few words that are not tokens, so nearly every batch holds
 * repeats; among them words of the same length and first bytes, and a
 * prefix of another.  Counts == the uncached ids' length, with the lanes
 * forced on and off. */
static void test_encoder_lanes_repeats(void)
{
    fl_encoder *e = real_encoder();
    if (!e)
        return;
    static const char *words[] = {
        " xqzvy", " xqzvb", " xqzv", " qwertzuiop", " qwertzuiox", " zzkqj", "_zzkqj", " vvjjqq",
        " jqxzkw", " kqzzjx", " wxqvjz", " pqjzx", " zxqjvw", " xqzvyxqzvy",
    };
    const size_t n_words = sizeof words / sizeof words[0];
    fl_bpe_scratch s = {0};
    uint64_t seed = 31337;
    for (int round = 0; round < 80; round++) {
        /* round r draws from the first 1 + r % n_words words: 1 word (every
           piece a repeat) up to all of them (more than a batch of lanes) */
        size_t pool = 1 + (size_t)round % n_words, cap = 64 + rng_next(&seed) % 4000, len = 0;
        char *t = malloc(cap + 32);
        while (len < cap) {
            const char *w = words[rng_next(&seed) % pool];
            memcpy(t + len, w, strlen(w));
            len += strlen(w);
        }
        fl_ids off = {0};
        size_t c_off, c_lanes, c_plain;
        fl_encoder_set_cache(e, 0, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &off, &c_off, NULL, &s), 0);
        CHECK_EQ_INT(c_off, off.len);
        fl_encoder_set_cache(e, 1, 0);
        fl_encoder_clear_cache(e);
        fl_encoder_set_merge_lanes(e, 1);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_lanes, NULL, &s), 0);
        CHECK_EQ_INT(c_lanes, c_off);
        fl_encoder_clear_cache(e);
        fl_encoder_set_merge_lanes(e, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_plain, NULL, &s), 0);
        CHECK_EQ_INT(c_plain, c_off);
        fl_ids_free(&off);
        free(t);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* The count as every encoder is made (the lanes on for every vocabulary
 * since the nineteenth pass, so r50k/p50k's cache-missed merges run in
 * lockstep too), on r50k and p50k, against encode's ids with the cache off:
 * words that are not tokens and occur once (random letters, capitalised,
 * with and without a space, of 3..24 bytes: the lanes take 5..24), words
 * that repeat within a batch of lanes, numbers (merged on the spot, never
 * deferred), contractions, punctuation and newline + indentation runs. */
static void test_encoder_lanes_small_tables(void)
{
    static const char *names[] = {"r50k_base", "p50k_base"};
    static const char *words[] = {
        " the", " qwertzuiop", "'s", "'ll", " 123456", "7", ".", ",", "\n    ", "\n\n", "  ",
        " tokenization", "__init__", "()", " \"{}\".", " +-----+", " été",
    };
    for (size_t q = 0; q < 2; q++) {
        fl_encoder *e = real_encoder_of(names[q], FL_PAT_R50K);
        if (!e)
            continue;
        fl_bpe_scratch s = {0};
        uint64_t seed = 1919 + q;
        for (int round = 0; round < 40; round++) {
            size_t cap = round % 4 == 3 ? FL_ENC_WARM_MIN + 2000 : 200 + rng_next(&seed) % 4000, n = 0;
            char *t = malloc(cap + 64);
            while (n < cap) {
                uint64_t r = rng_next(&seed);
                if (r % 3 == 0) { /* a new word, once */
                    size_t m = 3 + (r >> 8) % 22;
                    if ((r >> 16) & 1)
                        t[n++] = ' ';
                    for (size_t i = 0; i < m; i++)
                        t[n++] = (char)((i == 0 && (r >> 17) & 1 ? 'A' : 'a') + rng_next(&seed) % 26);
                } else {
                    const char *w = words[(r >> 8) % (sizeof words / sizeof words[0])];
                    memcpy(t + n, w, strlen(w));
                    n += strlen(w);
                }
            }
            size_t c_ids, c_cnt, c_again;
            fl_ids ids = {0};
            fl_encoder_set_cache(e, 0, 0);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, &ids, &c_ids, NULL, &s), 0);
            fl_encoder_set_cache(e, 1, 0);
            if (round % 5 == 0)
                fl_encoder_clear_cache(e);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, NULL, &c_cnt, NULL, &s), 0);
            CHECK_EQ_INT(c_cnt, ids.len);
            /* again: the pieces the lanes stored serve the count */
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, NULL, &c_again, NULL, &s), 0);
            CHECK_EQ_INT(c_again, ids.len);
            fl_ids_free(&ids);
            free(t);
        }
        fl_bpe_scratch_free(&s);
        fl_encoder_free(e);
    }
}

typedef struct {
    fl_encoder *e;
    char **texts;
    size_t *lens, *expect;
    int n, wrong, clearer;
} enc_arg;

static void *encode_worker(void *arg)
{
    enc_arg *a = arg;
    fl_bpe_scratch s = {0};
    for (int rep = 0; rep < 3; rep++) {
        for (int i = 0; i < a->n; i++) {
            int j = a->clearer ? a->n - 1 - i : i;
            size_t c = 0;
            if (fl_encode(a->e, (uint8_t *)a->texts[j], a->lens[j], NULL, NULL, NULL, &c, NULL, &s) != 0 ||
                c != a->expect[j])
                a->wrong++;
            if (a->clearer && i % 7 == 0)
                fl_encoder_clear_cache(a->e);
        }
    }
    fl_bpe_scratch_free(&s);
    return NULL;
}

static void check_encoder_threads(fl_encoder *e)
{
    enum { N = 40, T = 4 };
    if (!e)
        return;
    char *texts[N];
    size_t lens[N], expect[N], counts[N];
    uint64_t seed = 4242;
    fl_bpe_scratch s = {0};
    fl_encoder_set_cache(e, 0, 0);
    for (int i = 0; i < N; i++) {
        texts[i] = random_text(&seed, &lens[i]);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)texts[i], lens[i], NULL, NULL, NULL, &expect[i], NULL, &s), 0);
    }
    fl_encoder_set_cache(e, 1, 0);
    pthread_t tid[T];
    enc_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (enc_arg){e, texts, lens, expect, N, 0, t == 0};
        CHECK_EQ_INT(pthread_create(&tid[t], NULL, encode_worker, &args[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(tid[t], NULL);
        CHECK_EQ_INT(args[t].wrong, 0);
    }
    CHECK_EQ_INT(fl_count_batch(e, (const uint8_t *const *)texts, lens, N, NULL, NULL, counts, NULL, 3), 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(counts[i], expect[i]);
        free(texts[i]);
    }
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* cl100k, and a fresh r50k encoder, whose first long texts make the hot
 * slot lists (encoder.c, hot_lines_make) from several threads at once */
static void test_encoder_threads(void)
{
    check_encoder_threads(real_encoder());
    check_encoder_threads(real_encoder_of("r50k_base", FL_PAT_R50K));
}

/* The warm-up's hot slot lines (encoder.c, hot_lines_make): the home
 * slot line of each of the lowest-ranked tokens of 1..12 bytes, in rank
 * order, and the next line after it for a slot that straddles two;
 * FL_ENC_HOT_TOKENS of them for a large table (cl100k), none for a small
 * one (r50k: an empty list).  A line off by one, a
 * token's own slot instead of its home, tokens over 12 bytes in the list
 * or the wrong number of tokens fail it. */
static void check_hot_lines(const char *name, fl_pattern_id pat, size_t want_tokens)
{
    fl_encoder *parsed = real_encoder_of(name, pat);
    if (!parsed)
        return;
    /* through the prebuilt form, page-aligned, as a process maps it */
    static const uint8_t sha[32] = {1};
    char err[200];
    size_t blob_len = 0;
    uint8_t *made = fl_vocab_serialize(fl_encoder_vocab(parsed), sha, &blob_len), *blob = NULL;
    fl_encoder_free(parsed);
    CHECK(made != NULL);
    if (made && posix_memalign((void **)&blob, 4096, blob_len) == 0)
        memcpy(blob, made, blob_len);
    free(made);
    CHECK(blob != NULL);
    fl_vocab *bv = blob ? fl_vocab_from_blob(blob, blob_len, sha, err, sizeof err) : NULL;
    CHECK(bv != NULL);
    fl_encoder *e = bv ? fl_encoder_new(bv, pat, NULL, NULL, NULL, 0, err, sizeof err) : NULL;
    if (!e) {
        free(blob);
        return;
    }
    size_t n = 0, again = 0, at = 0, tokens = 0;
    const uint32_t *lines = fl_encoder_hot_lines(e, &n);
    CHECK(lines != NULL);
    CHECK(lines == fl_encoder_hot_lines(e, &again));
    CHECK_EQ_INT(again, n);
    const fl_vocab *v = fl_encoder_vocab(e);
    const uintptr_t first = (uintptr_t)v->slots & ~(uintptr_t)63;
    const size_t table_lines = (((uintptr_t)&v->slots[v->mask] + sizeof(fl_slot) - 1 - first) >> 6) + 1;
    for (uint32_t r = 0; lines && tokens < want_tokens; r++) {
        size_t len;
        const uint8_t *b = fl_vocab_bytes(v, r, &len);
        if (!b || len > FL_SLOT_INLINE)
            continue;
        const uintptr_t slot = (uintptr_t)&v->slots[fl_vocab_home(v, fl_vocab_hash(b, len))];
        CHECK(at < n && lines[at] == (slot - first) >> 6);
        at++;
        if (((slot + sizeof(fl_slot) - 1) >> 6) != (slot >> 6)) { /* none in v4: slots start 32 past a line */
            CHECK(at < n && lines[at] == ((slot - first) >> 6) + 1);
            at++;
        }
        tokens++;
    }
    CHECK_EQ_INT(at, n);
    CHECK_EQ_INT(tokens, want_tokens);
    for (size_t i = 0; i < n; i++)
        CHECK(lines[i] < table_lines);
    fl_encoder_free(e);
    free(blob);
}

static void test_encoder_hot_lines(void)
{
    check_hot_lines("r50k_base", FL_PAT_R50K, 0);
    check_hot_lines("cl100k_base", FL_PAT_CL100K, FL_ENC_HOT_TOKENS);
}

/* Counting through the windows scanned ahead (encoder.c, ahead_scan):
 * mostly-ASCII texts (so the windows walk them) of code-like words, with
 * pieces longer than a window (space runs, table borders), non-ASCII
 * words past the first 256 bytes (windows that give up mid-text), and
 * every length near the end (pieces on either side of the last 16 bytes);
 * the count with the cache on and off, the lanes on and off, and with
 * single tokens cached (no look-ahead) == the ids' length of encode,
 * which walks the windows without it. */
static void test_encoder_count_ahead(void)
{
    fl_encoder *e = real_encoder();
    if (!e)
        return;
    static const char *words[] = {
        " self", ".append", "(", ")", ":", "\n", "\n        ", " = ", " return", " isasyncgen",
        "_RSHIFT", " xqzvy", "123", " 4567", "''", "\"\"\"", " #", " if", " not", "\t",
        "                                                                          ",
        "+----------------------------------------------------------------------+",
        " canvwidth", ".compresslevel", " é", " 東京", "'s", "  ", "!!", "0x1f",
    };
    fl_bpe_scratch s = {0};
    uint64_t seed = 4242;
    for (int round = 0; round < 40; round++) {
        size_t cap = round % 5 == 4 ? FL_ENC_WARM_MIN + 3000 : 300 + rng_next(&seed) % 3000, n = 0;
        char *t = malloc(cap + 128);
        while (n < cap) {
            size_t w = rng_next(&seed) % (sizeof words / sizeof words[0]);
            if (n < 256 && w >= 24 && w <= 25)
                w = 0; /* ASCII at the start: the windows walk the text */
            size_t k = strlen(words[w]);
            memcpy(t + n, words[w], k);
            n += k;
        }
        for (size_t cut = 0; cut < 40; cut += round % 2 ? 1 : 3) {
            size_t len = n - cut, c_ids, c_off, c_on, c_plain, c_tok;
            fl_ids ids = {0};
            fl_encoder_set_cache(e, 0, 0);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, &ids, &c_ids, NULL, &s), 0);
            CHECK_EQ_INT(c_ids, ids.len);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_off, NULL, &s), 0);
            fl_encoder_set_cache(e, 1, 0);
            fl_encoder_clear_cache(e);
            fl_encoder_set_merge_lanes(e, 1);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_on, NULL, &s), 0);
            fl_encoder_clear_cache(e);
            fl_encoder_set_merge_lanes(e, 0);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_plain, NULL, &s), 0);
            fl_encoder_set_cache(e, 1, 1);
            CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, len, NULL, NULL, NULL, &c_tok, NULL, &s), 0);
            CHECK_EQ_INT(c_off, ids.len);
            CHECK_EQ_INT(c_on, ids.len);
            CHECK_EQ_INT(c_plain, ids.len);
            CHECK_EQ_INT(c_tok, ids.len);
            fl_ids_free(&ids);
        }
        free(t);
    }
    fl_encoder_set_cache(e, 1, 0);
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* The count's 4-byte pieces that are no token (count_piece_rest: the pair
 * table and at most two 3-byte probes) against encode's ids: letters from
 * small alphabets (repeated pairs: equal ranks, the leftmost merges first),
 * punctuation and whitespace runs of 4. */
static void test_encoder_count_four(void)
{
    fl_encoder *e = real_encoder();
    if (!e)
        return;
    static const char alpha[][10] = {"ab", "abq", "xqzj", "etaoinsh", "AaBb", "-=", ".:", "\n"};
    fl_bpe_scratch s = {0};
    uint64_t seed = 4444;
    for (int round = 0; round < 60; round++) {
        size_t cap = 300 + rng_next(&seed) % 3000, n = 0;
        char *t = malloc(cap + 128);
        while (n < cap) {
            const char *a = alpha[rng_next(&seed) % 8];
            size_t al = strlen(a), kind = rng_next(&seed) % 4;
            if (a[0] == '\n') { /* whitespace runs */
                memcpy(t + n, kind < 2 ? "\n\n\n\n" : kind == 2 ? "    " : "\t\t\t\t", 4);
                n += 4;
                t[n++] = 'x';
                continue;
            }
            t[n++] = a[0] == '-' || a[0] == '.' ? '1' : kind < 2 ? ' ' : '\n';
            for (int i = kind < 2 && a[0] != '-' && a[0] != '.' ? 3 : 4; i > 0; i--)
                t[n++] = a[rng_next(&seed) % al];
        }
        size_t c_ids, c_cnt;
        fl_ids ids = {0};
        fl_encoder_set_cache(e, 0, 0);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, &ids, &c_ids, NULL, &s), 0);
        fl_encoder_set_cache(e, 1, 0);
        fl_encoder_clear_cache(e);
        fl_encoder_set_merge_lanes(e, round & 1);
        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, NULL, &c_cnt, NULL, &s), 0);
        CHECK_EQ_INT(c_cnt, ids.len);
        fl_ids_free(&ids);
        free(t);
    }
    fl_encoder_set_cache(e, 1, 0);
    fl_encoder_set_merge_lanes(e, 1);
    fl_bpe_scratch_free(&s);
    fl_encoder_free(e);
}

/* The count's whitespace pieces (count_piece_rest: up to 3 newlines then
 * spaces, from the encoder's table) against encode's ids, r50k (few
 * whitespace tokens: most such pieces are merged) and cl100k: every
 * shape of 0..5 newlines and 0..70 spaces between words, near the start
 * and the end of the text (the short pieces' 16-byte loads and the others),
 * tabs and carriage returns mixed in; the table cold and warm. */
static void test_encoder_count_ws(void)
{
    static const struct { const char *name; fl_pattern_id pat; } encs[] = {
        {"r50k_base", FL_PAT_R50K}, {"cl100k_base", FL_PAT_CL100K}};
    for (size_t q = 0; q < 2; q++) {
        fl_encoder *e = real_encoder_of(encs[q].name, encs[q].pat);
        if (!e)
            continue;
        fl_bpe_scratch s = {0};
        for (int pass = 0; pass < 2; pass++)
            for (int a = 0; a <= 5; a++)
                for (int b = 0; b <= 70; b++)
                    for (int form = 0; form < 4; form++) {
                        char t[256];
                        size_t n = 0;
                        if (form & 1)
                            n += (size_t)snprintf(t, sizeof t, "%s", form == 3 ? "x\t" : "some words first, ");
                        for (int i = 0; i < a; i++)
                            t[n++] = form == 3 && i == 1 ? '\r' : '\n';
                        for (int i = 0; i < b; i++)
                            t[n++] = ' ';
                        if (form != 2)
                            n += (size_t)snprintf(t + n, sizeof t - n, "%s", form == 1 ? "z" : "next and more text");
                        size_t c_ids, c_cnt;
                        fl_ids ids = {0};
                        fl_encoder_set_cache(e, 0, 0);
                        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, &ids, &c_ids, NULL, &s), 0);
                        fl_encoder_set_cache(e, 1, 0);
                        CHECK_EQ_INT(fl_encode(e, (uint8_t *)t, n, NULL, NULL, NULL, &c_cnt, NULL, &s), 0);
                        CHECK_EQ_INT(c_cnt, ids.len);
                        fl_ids_free(&ids);
                    }
        fl_bpe_scratch_free(&s);
        fl_encoder_free(e);
    }
}

int main(void)
{
    static const check_case cases[] = {
        CASE(test_get_put_exact),  CASE(test_eviction_short),      CASE(test_eviction_long),
        CASE(test_threads_short),  CASE(test_threads_long),        CASE(test_encoder_cache_equal),
        CASE(test_encoder_threads), CASE(test_encoder_lanes),
        CASE(test_encoder_lanes_repeats), CASE(test_room_keys_short), CASE(test_room_keys_long),
        CASE(test_encoder_count_ahead), CASE(test_encoder_count_four),
        CASE(test_encoder_count_ws), CASE(test_encoder_lanes_small_tables),
        CASE(test_encoder_hot_lines),
    };
    RUN_TESTS(cases);
}
