/*
 * piece_cache.c - allocation and clearing of the shared piece cache; the
 * lookups are inline in piece_cache.h (seqlock per 64-byte entry, 2-way
 * set-associative, see there).
 */
#include "tokenizer/piece_cache.h"

#include <stdlib.h>

fl_piece_cache *fl_piece_cache_new(unsigned log2_entries)
{
    if (log2_entries < 1 || log2_entries > 24)
        return NULL;
    fl_piece_cache *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    size_t n = (size_t)1 << log2_entries;
    /* calloc: zeroed pages come lazily from the OS, nothing to pay until
     * used (cold start); one spare entry to align to a cache line */
    c->mem = calloc(n + 1, sizeof(fl_pc_entry));
    if (!c->mem) {
        free(c);
        return NULL;
    }
    c->e = (fl_pc_entry *)(((uintptr_t)c->mem + 63) & ~(uintptr_t)63);
    c->mask = n - 1;
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

void fl_piece_cache_clear(fl_piece_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i <= c->mask; i++) {
        fl_pc_entry *e = &c->e[i];
        uint64_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
        /* an entry a writer holds right now is left to it (its put is as
         * valid after the clear as before); one left odd by a thread that
         * did not survive fork() just stays unusable */
        if ((s & 1) || !__atomic_compare_exchange_n(&e->seq, &s, s + 1, 0, __ATOMIC_ACQUIRE,
                                                     __ATOMIC_RELAXED))
            continue;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        __atomic_store_n(&e->meta, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
    }
}
