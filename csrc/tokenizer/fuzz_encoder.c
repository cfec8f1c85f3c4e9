/*
 * fuzz_encoder.c - fuzz target for the encoder and the BPE merge.
 *
 * For every input that is valid UTF-8 (the encoder's precondition; the
 * first byte picks which special tokens are allowed/disallowed) it checks:
 *   - encode and count agree (count never builds ids, so both paths run);
 *   - ids with the shared piece cache (warm from earlier inputs; single
 *     tokens cached too on inputs whose selector byte has bit 7) equal
 *     ids without it;
 *   - the ids decode back to exactly the input (unless a disallowed special
 *     token was reported, which must then really occur in the input);
 *   - on every pre-token piece, the short (array) and long (heap) merges
 *     give identical ids, and the lockstep merge of up to FL_BPE_LANES_MAX
 *     pieces gives each piece's short-merge ids;
 *   - counting with the merge lanes (on when the selector byte has bit 6,
 *     whatever the table size chose) equals the encode's count.
 * The vocabulary is a real one when FL_FUZZ_VOCAB names a .tiktoken file,
 * else a small synthetic one (all bytes plus merges over "ab ").
 *
 * libFuzzer (clang):
 *   clang -g -O1 -DFL_FUZZ_BUILD -fsanitize=fuzzer,address,undefined -Icsrc csrc/tokenizer/fuzz_encoder.c \
 *     csrc/tokenizer/{encoder,bpe,vocab,piece_cache,pretokenize,unicode_tables}.c -lpthread -o build/fuzz_encoder
 *   ./build/fuzz_encoder -max_len=2048 -max_total_time=60   (60 s: ~500k runs, clean)
 * Standalone driver (any C compiler): add -DFL_FUZZ_BUILD -DFL_FUZZ_STANDALONE and drop
 * -fsanitize=fuzzer; `./fuzz_encoder FILE...` runs the given inputs, alone
 * it runs pseudo-random inputs.  Not part of the library build.
 * Everything below is compiled only with -DFL_FUZZ_BUILD, so the library build never
 * contains a fuzz entry point (`make fuzz` and `make fuzz-smoke` define it).
 */
#ifdef FL_FUZZ_BUILD
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/encoder.h"

static fl_encoder *the_encoder;

static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n)
            return 0;
        uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x7F >> k));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k;
    }
    return 1;
}

static fl_encoder *make_encoder(void)
{
    static const uint8_t *specials[] = {(const uint8_t *)"<|endoftext|>", (const uint8_t *)"<|x|>"};
    static const size_t slens[] = {13, 5};
    char err[200];
    const char *path = getenv("FL_FUZZ_VOCAB");
    fl_vocab *v = NULL;
    uint32_t base = 300;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            long n = ftell(f);
            fseek(f, 0, SEEK_SET);
            uint8_t *buf = malloc((size_t)n);
            if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
                v = fl_vocab_parse_tiktoken(buf, (size_t)n, err, sizeof err);
            free(buf);
            fclose(f);
            if (v)
                base = fl_vocab_max_rank(v) + 1;
        }
    }
    if (!v) {
        static const char *merged[] = {"ab", "ba", "aa", "bb", " a", " b", "aab", "abab", "aaaa", "  "};
        const uint8_t *toks[256 + 10];
        size_t lens[256 + 10];
        uint32_t ranks[256 + 10];
        static uint8_t bytes[256];
        for (int i = 0; i < 256; i++) {
            bytes[i] = (uint8_t)i;
            toks[i] = &bytes[i];
            lens[i] = 1;
            ranks[i] = (uint32_t)i;
        }
        for (int i = 0; i < 10; i++) {
            toks[256 + i] = (const uint8_t *)merged[i];
            lens[256 + i] = strlen(merged[i]);
            ranks[256 + i] = (uint32_t)(256 + i);
        }
        v = fl_vocab_from_tokens(toks, lens, ranks, 266, err, sizeof err);
    }
    uint32_t sranks[] = {base, base + 1};
    return fl_encoder_new(v, FL_PAT_O200K, specials, slens, sranks, 2, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!the_encoder)
        the_encoder = make_encoder();
    if (size < 1 || !the_encoder)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    if (!valid_utf8(text, len))
        return 0;
    uint8_t allowed[2] = {sel & 1, (sel >> 1) & 1};
    uint8_t disallowed[2] = {(sel >> 2) & 1 && !allowed[0], (sel >> 3) & 1 && !allowed[1]};
    fl_bpe_scratch s = {0};
    fl_ids ids = {0};
    size_t count = 0, count2 = 0, which = 0, which2 = 0;
    int rc = fl_encode(the_encoder, text, len, allowed, disallowed, &ids, &count, &which, &s);
    fl_encoder_set_merge_lanes(the_encoder, (sel >> 6) & 1);
    int rc2 = fl_encode(the_encoder, text, len, allowed, disallowed, NULL, &count2, &which2, &s);
    if (rc != rc2)
        abort();
    if (rc == FL_ENC_OK) {
        if (count != count2 || count != ids.len)
            abort();
        size_t off = 0;
        for (size_t i = 0; i < ids.len; i++) {
            size_t n;
            const uint8_t *b = fl_encoder_token_bytes(the_encoder, ids.ids[i], &n);
            if (!b || off + n > len || memcmp(b, text + off, n) != 0)
                abort();
            off += n;
        }
        if (off != len)
            abort();
        /* the shared piece cache (warm from earlier inputs) changes nothing */
        fl_ids plain = {0};
        size_t count3 = 0;
        fl_encoder_set_cache(the_encoder, 0, 0);
        int rc3 = fl_encode(the_encoder, text, len, allowed, disallowed, &plain, &count3, &which2, &s);
        fl_encoder_set_cache(the_encoder, 1, sel >> 7);
        if (rc3 != rc || plain.len != ids.len ||
            (ids.len && memcmp(plain.ids, ids.ids, ids.len * sizeof *ids.ids) != 0))
            abort();
        fl_ids_free(&plain);
    } else if (rc == FL_ENC_DISALLOWED) {
        if (which != which2 || !disallowed[which])
            abort();
    } else {
        abort();
    }
    /* short and long merges agree on every piece */
    const fl_vocab *v = fl_encoder_vocab(the_encoder);
    uint32_t a[FL_BPE_MEDIUM_MAX], b[FL_BPE_MEDIUM_MAX];
    uint32_t lane_ids[FL_BPE_LANES_MAX][FL_BPE_SHORT_MAX], *outs[FL_BPE_LANES_MAX];
    const uint8_t *lane_p[FL_BPE_LANES_MAX];
    size_t lane_n[FL_BPE_LANES_MAX], lane_k[FL_BPE_LANES_MAX], lanes = 0;
    for (size_t j = 0; j < FL_BPE_LANES_MAX; j++)
        outs[j] = lane_ids[j];
    for (size_t pos = 0; pos < len;) {
        size_t n = fl_pretok_next(FL_PAT_O200K, text, len, pos);
        if (n == 0)
            abort();
        if (n <= FL_BPE_SHORT_MAX) {
            size_t ka = fl_bpe_encode_short(v, text + pos, n, a);
            size_t kb = fl_bpe_encode_long(v, text + pos, n, b, &s);
            if (ka != kb || memcmp(a, b, ka * sizeof a[0]) != 0)
                abort();
            if (lanes < FL_BPE_LANES_MAX) {
                lane_p[lanes] = text + pos;
                lane_n[lanes++] = n;
            }
        }
        if (n <= FL_BPE_MEDIUM_MAX) { /* the array merge of the longer pieces, in place and copied */
            size_t kb = fl_bpe_encode_long(v, text + pos, n, b, &s);
            size_t ka = fl_bpe_encode_medium_in(v, text + pos, n, len - pos, a);
            if (ka != kb || memcmp(a, b, ka * sizeof a[0]) != 0)
                abort();
            if (fl_bpe_encode_medium_in(v, text + pos, n, n, a) != kb || memcmp(a, b, kb * sizeof a[0]) != 0)
                abort();
        }
        pos += n;
    }
    if (lanes) {
        fl_bpe_encode_short_lanes(v, lane_p, lane_n, lanes, outs, lane_k);
        for (size_t j = 0; j < lanes; j++) {
            size_t ka = fl_bpe_encode_short(v, lane_p[j], lane_n[j], a);
            if (ka != lane_k[j] || memcmp(a, lane_ids[j], ka * sizeof a[0]) != 0)
                abort();
        }
    }
    fl_ids_free(&ids);
    fl_bpe_scratch_free(&s);
    return 0;
}

#ifdef FL_FUZZ_STANDALONE
int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (!f)
                continue;
            uint8_t buf[1 << 16];
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            LLVMFuzzerTestOneInput(buf, n);
        }
        return 0;
    }
    static const char *bits[] = {"a", "b", "ab", " ", "  ", "\n", "<|endoftext|>", "<|x|>", "<|",
                                 "1", "123", "'s", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "A", "."};
    uint64_t r = 12345;
    uint8_t buf[600];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        buf[n++] = (uint8_t)(r >> 56);
        size_t parts = (r >> 20) % 60;
        for (size_t p = 0; p < parts; p++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            const char *bit = bits[(r >> 33) % (sizeof bits / sizeof bits[0])];
            size_t bl = strlen(bit);
            if (n + bl > sizeof buf)
                break;
            memcpy(buf + n, bit, bl);
            n += bl;
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_encoder: 20000 inputs ok\n");
    return 0;
}
#endif
#endif /* FL_FUZZ_BUILD */
