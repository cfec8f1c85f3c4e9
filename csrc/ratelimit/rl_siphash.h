/*
 * rl_siphash.h - SipHash-1-3 (64-bit output), the keyed hash of the rate
 * limiter.
 *
 * The limiter indexes its table with SipHash keyed by a random per-limiter
 * secret, so an attacker who chooses keys (API keys, user ids) cannot make
 * them collide on purpose.  The same function with a fixed, public key gives
 * the stable fingerprint shown in statistics instead of the raw key.
 * SipHash-1-3 is what CPython uses for str/bytes hashing; with a zero key it
 * equals hash(bytes) under PYTHONHASHSEED=0, which the tests use as vectors.
 */
#ifndef FL_RL_SIPHASH_H
#define FL_RL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t fl_rl_siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif /* FL_RL_SIPHASH_H */
