/*
 * piece_cache.c - allocation and clearing of the shared piece cache; the
 * lookups are inline in piece_cache.h (2-way set-associative, one seqlock
 * per entry; see there).
 */
#include "tokenizer/piece_cache.h"

#include <stdlib.h>

fl_piece_cache *fl_piece_cache_new(unsigned log2_entries, size_t max_len)
{
    unsigned kw, iw;
    if (log2_entries < 1 || log2_entries > 24)
        return NULL;
    if (max_len == FL_PC_SHORT_LEN) {
        kw = FL_PC_SHORT_LEN / 8;
        iw = FL_PC_SHORT_IDS / 2;
    } else if (max_len == FL_PC_LONG_LEN) {
        kw = FL_PC_LONG_LEN / 8;
        iw = FL_PC_LONG_IDS / 2;
    } else {
        return NULL;
    }
    fl_piece_cache *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    size_t n = (size_t)1 << log2_entries, stride = 2 + kw + iw;
    /* calloc: zeroed pages come lazily from the OS, nothing to pay until
     * used (cold start); 64 spare bytes to align to a cache line */
    c->mem = calloc(n * stride + 8, sizeof(uint64_t));
    if (!c->mem) {
        free(c);
        return NULL;
    }
    c->words = (uint64_t *)(((uintptr_t)c->mem + 63) & ~(uintptr_t)63);
    c->mask = n - 1;
    c->key_words = kw;
    c->id_words = iw;
    return c;
}

void fl_piece_cache_free(fl_piece_cache *c)
{
    if (!c)
        return;
    free(c->mem);
    free(c);
}

size_t fl_piece_cache_entries(const fl_piece_cache *c) { return c ? (size_t)c->mask + 1 : 0; }
size_t fl_piece_cache_max_len(const fl_piece_cache *c) { return c ? 8 * (size_t)c->key_words : 0; }
size_t fl_piece_cache_max_ids(const fl_piece_cache *c) { return c ? 2 * (size_t)c->id_words : 0; }

void fl_piece_cache_clear(fl_piece_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i <= c->mask; i++) {
        uint64_t *e = c->words + i * (2 + c->key_words + c->id_words);
        uint64_t s = __atomic_load_n(&e[0], __ATOMIC_RELAXED);
        /* an entry a writer holds right now is left to it (its put is as
         * valid after the clear as before); one left odd by a thread that
         * did not survive fork() just stays unused */
        if ((s & 1) || !__atomic_compare_exchange_n(&e[0], &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                                     __ATOMIC_RELAXED))
            continue;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&e[1], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&e[0], s + 2, __ATOMIC_RELEASE);
    }
}
