/* test_cache_limiter.c - the proxy limiter's int64 arithmetic and its
 * memory tier (local_store.c: expiry, eviction order, stale heap items). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "proxy_limiter/limiter_core.h"
#include "proxy_limiter/local_store.h"

#define S(ns) ((uint64_t)(ns) * 1000000000ULL)

static void test_limit_check(void)
{
    int64_t rem = 0;
    CHECK_EQ_INT(fl_limit_check(0, 0, 10, 0, &rem), FL_LIMIT_OK);
    CHECK_EQ_INT(rem, 10);
    CHECK_EQ_INT(fl_limit_check(1, 10, 10, 0, &rem), FL_LIMIT_OK);
    CHECK_EQ_INT(rem, 0);
    CHECK_EQ_INT(fl_limit_check(1, 10, 10, 1, &rem), FL_LIMIT_OVER);
    CHECK_EQ_INT(fl_limit_check(1, 11, 10, 0, &rem), FL_LIMIT_OVER);
    CHECK_EQ_INT(rem, -1);
    CHECK_EQ_INT(fl_limit_check(1, -5, 0, 0, &rem), FL_LIMIT_OK);
    CHECK_EQ_INT(rem, 5);
}

static void test_limit_overflow(void)
{
    int64_t rem = 0;
    CHECK_EQ_INT(fl_limit_check(1, INT64_MAX, 10, 1, &rem), FL_LIMIT_OVERFLOW);
    CHECK_EQ_INT(fl_limit_check(1, INT64_MIN, 10, 0, &rem), FL_LIMIT_OVERFLOW);
    CHECK_EQ_INT(fl_limit_check(1, INT64_MAX, INT64_MAX, 0, &rem), FL_LIMIT_OK);
    CHECK_EQ_INT(rem, 0);
}

static void test_window(void)
{
    CHECK_EQ_INT(fl_window_needs_reset(0, 100, 0, 60), 1);
    CHECK_EQ_INT(fl_window_needs_reset(1, 100, 40, 60), 1);
    CHECK_EQ_INT(fl_window_needs_reset(1, 100, 41, 60), 0);
    CHECK_EQ_INT(fl_window_needs_reset(1, 100, 200, 60), 0);
    CHECK_EQ_INT(fl_window_needs_reset(1, INT64_MAX, -1, 60), -1);
}

static void test_counter_next(void)
{
    int64_t n = 0;
    CHECK_EQ_INT(fl_counter_next(41, &n), 0);
    CHECK_EQ_INT(n, 42);
    CHECK_EQ_INT(fl_counter_next(INT64_MAX, &n), -1);
}

static fl_ls_value int_value(int64_t v)
{
    fl_ls_value x;
    memset(&x, 0, sizeof(x));
    x.kind = FL_LS_INT;
    x.i = v;
    return x;
}

static int64_t get_int(fl_ls *st, const char *key, uint64_t now)
{
    const fl_ls_value *v = fl_ls_get(st, key, strlen(key), now);
    return v == NULL ? -1 : v->i;
}

static void set_int(fl_ls *st, const char *key, int64_t v, int has_ttl, uint64_t ttl, uint64_t now)
{
    fl_ls_value x = int_value(v);
    CHECK_EQ_INT(fl_ls_set(st, key, strlen(key), &x, has_ttl, ttl, now), FL_LS_OK);
}

static void test_store_expiry(void)
{
    fl_ls *st = fl_ls_new(200, S(600));
    uint64_t now = S(1000);
    set_int(st, "a", 1, 1, S(10), now);
    set_int(st, "b", 2, 0, 0, now);
    CHECK_EQ_INT(get_int(st, "a", now + S(10)), 1);      /* expires == now: still live */
    CHECK_EQ_INT(get_int(st, "a", now + S(10) + 1), -1); /* expires < now: gone */
    CHECK_EQ_INT(get_int(st, "b", now + S(599)), 2);     /* default ttl */
    /* a live key keeps its expiry when rewritten */
    set_int(st, "c", 3, 1, S(5), now);
    set_int(st, "c", 4, 1, S(500), now + S(1));
    CHECK_EQ_INT(get_int(st, "c", now + S(5)), 4);
    CHECK_EQ_INT(get_int(st, "c", now + S(6)), -1);
    /* an expired key gets a new one */
    set_int(st, "d", 5, 1, S(1), now);
    set_int(st, "d", 6, 1, S(100), now + S(2));
    CHECK_EQ_INT(get_int(st, "d", now + S(50)), 6);
    CHECK_EQ_INT(fl_ls_set(st, "e", 1, &(fl_ls_value){.kind = FL_LS_INT}, 1, UINT64_MAX, now), FL_LS_TIME_OVERFLOW);
    fl_ls_free(st);
}

static void test_store_eviction_order(void)
{
    /* capacity 3: a write when 3 are held evicts the earliest expiry, ties
     * broken by key bytes */
    fl_ls *st = fl_ls_new(3, S(600));
    uint64_t now = S(1000);
    set_int(st, "k2", 1, 1, S(50), now);
    set_int(st, "k1", 1, 1, S(50), now);
    set_int(st, "k3", 1, 1, S(40), now);
    set_int(st, "k4", 1, 1, S(90), now); /* evicts k3 (40) */
    CHECK_EQ_INT(get_int(st, "k3", now), -1);
    set_int(st, "k5", 1, 1, S(90), now); /* evicts k1 (50, "k1" < "k2") */
    CHECK_EQ_INT(get_int(st, "k1", now), -1);
    CHECK_EQ_INT(get_int(st, "k2", now), 1);
    CHECK_EQ_INT((int)fl_ls_len(st), 3);
    /* rewriting a held key when full evicts too (as the Rust store) */
    set_int(st, "k4", 2, 1, S(90), now); /* evicts k2, then writes k4 */
    CHECK_EQ_INT(get_int(st, "k2", now), -1);
    CHECK_EQ_INT(get_int(st, "k4", now), 2);
    CHECK_EQ_INT((int)fl_ls_len(st), 2);
    fl_ls_free(st);
}

static void test_store_stale_heap_items(void)
{
    /* a key removed by get and written again leaves a stale heap item that
     * must not evict the new entry */
    fl_ls *st = fl_ls_new(2, S(600));
    uint64_t now = S(1000);
    set_int(st, "a", 1, 1, S(1), now);
    CHECK_EQ_INT(get_int(st, "a", now + S(2)), -1);
    set_int(st, "a", 2, 1, S(100), now + S(2));
    set_int(st, "b", 3, 1, S(200), now + S(2));
    set_int(st, "c", 4, 1, S(300), now + S(2)); /* evicts a (the live one, 102) */
    CHECK_EQ_INT(get_int(st, "a", now + S(2)), -1);
    CHECK_EQ_INT(get_int(st, "b", now + S(2)), 3);
    CHECK_EQ_INT(get_int(st, "c", now + S(2)), 4);
    fl_ls_free(st);
}

static void test_store_values(void)
{
    fl_ls *st = fl_ls_new(200, S(600));
    fl_ls_value t, a = int_value(INT64_MAX), b = int_value(1), f;
    const fl_ls_value *got;
    memset(&t, 0, sizeof(t));
    t.kind = FL_LS_TEXT;
    t.bytes = "1700000000";
    t.len = 10;
    CHECK_EQ_INT(fl_ls_set(st, "{k:v}:window", 12, &t, 1, S(60), S(1)), FL_LS_OK);
    got = fl_ls_get(st, "{k:v}:window", 12, S(2));
    CHECK(got != NULL && got->kind == FL_LS_TEXT && got->len == 10 && memcmp(got->bytes, "1700000000", 10) == 0);
    CHECK_EQ_INT(fl_ls_add(&a, &b).i, INT64_MIN); /* wraps like Rust release builds */
    memset(&f, 0, sizeof(f));
    f.kind = FL_LS_FLOAT;
    f.f = 0.5;
    CHECK(fl_ls_add(&b, &f).kind == FL_LS_FLOAT && fl_ls_add(&b, &f).f == 1.5);
    fl_ls_free(st);
}

static void test_seconds_to_ns(void)
{
    uint64_t ns = 0;
    CHECK_EQ_INT(fl_ls_seconds_to_ns(1.5, &ns), 0);
    CHECK(ns == 1500000000ULL);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(0.0, &ns), 0);
    CHECK(ns == 0);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(1e-9, &ns), 0);
    CHECK(ns == 1);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(0.4e-9, &ns), 0); /* rounds to nearest */
    CHECK(ns == 0);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(60.0, &ns), 0);
    CHECK(ns == 60000000000ULL);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(1e300, &ns), -1);
    CHECK_EQ_INT(fl_ls_seconds_to_ns(-1.0, &ns), -1);
}

static void test_store_many_keys(void)
{
    fl_ls *st = fl_ls_new(200, S(600));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "{k:%d}:requests", i % 700);
        set_int(st, key, i, 1, S(1 + (i % 13)), S(1000) + (uint64_t)i);
        CHECK((int)fl_ls_len(st) <= 200);
    }
    fl_ls_free(st);
}

int main(void)
{
    static const check_case cases[] = {
        CASE(test_limit_check), CASE(test_limit_overflow), CASE(test_window), CASE(test_counter_next),
        CASE(test_store_expiry), CASE(test_store_eviction_order), CASE(test_store_stale_heap_items),
        CASE(test_store_values), CASE(test_seconds_to_ns), CASE(test_store_many_keys),
    };
    RUN_TESTS(cases);
}
