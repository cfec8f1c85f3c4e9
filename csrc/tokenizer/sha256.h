/*
 * sha256.h - SHA-256 of a buffer with the CPU's SHA instructions, when it
 * has them (x86 SHA extensions); see sha256.c.
 */
#ifndef FL_TOKENIZER_SHA256_H
#define FL_TOKENIZER_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* 1 when fl_sha256 can hash on this CPU. */
int fl_sha256_available(void);

/* The SHA-256 digest of data[0..len) into out: 0, or -1 (nothing written)
 * when this CPU/build has no SHA instructions (hash another way). */
int fl_sha256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
