/*
 * sha256.c - SHA-256 with the x86 SHA extensions, for checking vocabulary
 * files without importing Python's hashlib (loading OpenSSL costs ~2.5 ms
 * of a ~20 ms cold start).
 *
 * How it works: FIPS 180-4 SHA-256.  The 64-byte blocks go through the CPU's
 * sha256rnds2 (two rounds per instruction; the eight state words live in
 * two registers as ABEF and CDGH) and sha256msg1/msg2 (the message
 * schedule, four words at a time: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15])
 * + W[t-16]).  The final block(s) are the message tail, a 0x80 byte, zeros
 * and the bit length, big-endian.  Only compiled for x86-64 with GCC or
 * Clang (target attribute, so no special build flags) and only used when
 * the CPU reports the extension; otherwise fl_sha256 returns -1 and the
 * caller hashes another way.  Checked against known vectors and hashlib.
 */
#include "tokenizer/sha256.h"

#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FL_HAVE_SHA_NI_BUILD 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#ifdef FL_HAVE_SHA_NI_BUILD

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_sha_ni(uint32_t state[8], const uint8_t *p,
                                                                        size_t n_blocks)
{
    /* bytes of each 32-bit word reversed: message words are big-endian */
    const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&state[0]); /* lanes A B C D */
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&state[4]); /* lanes E F G H */
    /* the instructions want ABEF and CDGH, A/C in the highest lane */
    __m128i badc = _mm_shuffle_epi32(dcba, 0xB1);   /* lanes B A D C */
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);   /* lanes H G F E */
    __m128i abef = _mm_alignr_epi8(badc, efgh, 8);  /* lanes F E B A */
    __m128i cdgh = _mm_blend_epi16(efgh, badc, 0xF0); /* lanes H G D C */
    while (n_blocks--) {
        __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i w[4];
        for (int g = 0; g < 16; g++) { /* 16 groups of 4 rounds */
            __m128i x;
            if (g < 4) {
                x = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16 * g)), bswap);
            } else {
                /* w[g%4] holds W of group g-4; the others g-3, g-2, g-1 */
                __m128i older = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
                older = _mm_add_epi32(older, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
                x = _mm_sha256msg2_epu32(older, w[(g + 3) % 4]);
            }
            w[g % 4] = x;
            __m128i wk = _mm_add_epi32(x, _mm_loadu_si128((const __m128i *)(const void *)&K256[4 * g]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
        p += 64;
    }
    /* back to A B C D / E F G H */
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);     /* lanes A B E F */
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);     /* lanes G H C D */
    dcba = _mm_blend_epi16(feba, dchg, 0xF0);         /* lanes A B C D */
    hgfe = _mm_alignr_epi8(dchg, feba, 8);            /* lanes E F G H */
    _mm_storeu_si128((__m128i *)(void *)&state[0], dcba);
    _mm_storeu_si128((__m128i *)(void *)&state[4], hgfe);
}

int fl_sha256_available(void)
{
    static int cached = -1; /* benign race: every thread computes the same value */
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned a, b, c, d;
        /* CPUID leaf 1: ECX bit 9 SSSE3, bit 19 SSE4.1; leaf 7: EBX bit 29 SHA */
        int basic = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19));
        v = basic && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

int fl_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    if (!fl_sha256_available())
        return -1;
    uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    size_t full = len / 64;
    blocks_sha_ni(state, data, full);
    uint8_t tail[128];
    size_t rest = len - 64 * full;
    memset(tail, 0, sizeof tail);
    memcpy(tail, data + 64 * full, rest);
    tail[rest] = 0x80;
    size_t tail_blocks = rest + 1 + 8 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[64 * tail_blocks - 1 - i] = (uint8_t)(bits >> (8 * i));
    blocks_sha_ni(state, tail, tail_blocks);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(state[i] >> 8);
        out[4 * i + 3] = (uint8_t)state[i];
    }
    return 0;
}

#else

int fl_sha256_available(void) { return 0; }

int fl_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    (void)data;
    (void)len;
    (void)out;
    (void)K256;
    return -1;
}

#endif
