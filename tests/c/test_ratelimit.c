/* test_ratelimit.c - the token-bucket core: exact refill, retry-after,
 * reclamation, keyed hashing, threads and fork. */
#include "check.h"
#include "ratelimit/ratelimit.h"
#include "ratelimit/rl_siphash.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEC 1000000000LL

static const uint8_t SEED[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static fl_rl_result
check(fl_rl *rl, const char *key, int64_t cost, int64_t now)
{
    fl_rl_result r;
    int rc = fl_rl_check(rl, key, strlen(key), cost, now, &r);
    CHECK_EQ_INT(rc, 0);
    return r;
}

/* Vectors: hash(b) under PYTHONHASHSEED=0 is SipHash-1-3 with a zero key. */
static void
test_siphash_vectors(void)
{
    CHECK(fl_rl_siphash13(0, 0, "a", 1) == 4644417185603328019ULL);
    CHECK(fl_rl_siphash13(0, 0, "abc", 3) == 13851880170939887858ULL);
    CHECK(fl_rl_siphash13(0, 0, "abcdefgh", 8) == 4574395652268504554ULL);
    CHECK(fl_rl_siphash13(0, 0, "hello world, this is siphash", 28) == 5423525549321838369ULL);
    unsigned char bytes[64];
    for (int i = 0; i < 64; i++)
        bytes[i] = (unsigned char)i;
    CHECK(fl_rl_siphash13(0, 0, bytes, 64) == 8493894268803903686ULL);
}

static void
test_bad_arguments(void)
{
    CHECK(fl_rl_create(0, 1, SEED) == NULL);
    CHECK(fl_rl_create(-5, 1, SEED) == NULL);
    CHECK(fl_rl_create(60, 0, SEED) == NULL);
    CHECK(fl_rl_create(60, FL_RL_MAX_BURST + 1, SEED) == NULL);
    fl_rl *rl = fl_rl_create(60, 5, SEED);
    fl_rl_result r;
    CHECK_EQ_INT(fl_rl_check(rl, "k", 1, -1, 0, &r), -2);
    fl_rl_destroy(rl);
}

static void
test_burst_then_denied_with_exact_retry(void)
{
    fl_rl *rl = fl_rl_create(60, 5, SEED); /* one token per second */
    for (int i = 0; i < 5; i++) {
        fl_rl_result r = check(rl, "user", 1, 100 * SEC);
        CHECK_EQ_INT(r.verdict, FL_RL_ALLOWED);
        CHECK_EQ_INT(r.remaining, 4 - i);
    }
    fl_rl_result r = check(rl, "user", 1, 100 * SEC);
    CHECK_EQ_INT(r.verdict, FL_RL_DENIED);
    CHECK_EQ_INT(r.retry_after_ns, SEC);
    /* 0.25 s later: 0.75 s to go, to the nanosecond */
    r = check(rl, "user", 1, 100 * SEC + SEC / 4);
    CHECK_EQ_INT(r.retry_after_ns, 3 * SEC / 4);
    /* one ns too early, then exactly on time */
    r = check(rl, "user", 1, 101 * SEC - 1);
    CHECK_EQ_INT(r.verdict, FL_RL_DENIED);
    CHECK_EQ_INT(r.retry_after_ns, 1);
    r = check(rl, "user", 1, 101 * SEC);
    CHECK_EQ_INT(r.verdict, FL_RL_ALLOWED);
    CHECK_EQ_INT(r.remaining, 0);
    fl_rl_counters c;
    fl_rl_get_counters(rl, &c);
    CHECK_EQ_INT(c.checks, 9);
    CHECK_EQ_INT(c.allowed, 6);
    CHECK_EQ_INT(c.denied, 3);
    fl_rl_destroy(rl);
}

/* 7 tokens per minute: a token every 8.571428... s; no rounding loss over
 * many small steps. */
static void
test_refill_has_no_rounding_loss(void)
{
    fl_rl *rl = fl_rl_create(7, 7, SEED);
    int64_t t = 0;
    for (int i = 0; i < 7; i++)
        CHECK_EQ_INT(check(rl, "k", 1, t).verdict, FL_RL_ALLOWED);
    /* 60 s in 60000 steps of 1 ms: exactly 7 tokens come back */
    for (int i = 0; i < 60000; i++) {
        t += 1000000;
        CHECK_EQ_INT(fl_rl_remaining(rl, "k", 1, t), (int64_t)(t * 7 / (60 * SEC)));
        fl_rl_result r = check(rl, "k", 0, t); /* cost 0 updates the bucket */
        CHECK_EQ_INT(r.verdict, FL_RL_ALLOWED);
    }
    CHECK_EQ_INT(fl_rl_remaining(rl, "k", 1, t), 7);
    fl_rl_destroy(rl);
}

static void
test_denied_consumes_nothing_and_cost(void)
{
    fl_rl *rl = fl_rl_create(600, 10, SEED);
    CHECK_EQ_INT(check(rl, "k", 7, 0).remaining, 3);
    fl_rl_result r = check(rl, "k", 4, 0);
    CHECK_EQ_INT(r.verdict, FL_RL_DENIED);
    CHECK_EQ_INT(r.remaining, 3);
    CHECK_EQ_INT(r.retry_after_ns, SEC / 10); /* 10 tokens/s, 1 missing */
    CHECK_EQ_INT(check(rl, "k", 3, 0).verdict, FL_RL_ALLOWED);
    r = check(rl, "k", 11, 0);
    CHECK_EQ_INT(r.verdict, FL_RL_COST_OVER_BURST);
    CHECK_EQ_INT(r.retry_after_ns, -1);
    fl_rl_destroy(rl);
}

static void
test_clock_going_back(void)
{
    fl_rl *rl = fl_rl_create(60, 1, SEED);
    CHECK_EQ_INT(check(rl, "k", 1, 10 * SEC).verdict, FL_RL_ALLOWED);
    fl_rl_result r = check(rl, "k", 1, 9 * SEC);
    CHECK_EQ_INT(r.verdict, FL_RL_DENIED);
    CHECK_EQ_INT(r.retry_after_ns, SEC); /* the refill... */
    CHECK_EQ_INT(r.behind_ns, SEC);      /* ...counted from the last update */
    CHECK_EQ_INT(check(rl, "k", 1, 11 * SEC).verdict, FL_RL_ALLOWED);
    fl_rl_destroy(rl);
}

/* Stored fingerprints include full buckets not yet reclaimed. */
static void
test_stored_fingerprints(void)
{
    fl_rl *rl = fl_rl_create(60, 1, SEED);
    size_t n = 1;
    CHECK(fl_rl_stored_fingerprints(rl, &n) == NULL && n == 0);
    check(rl, "a", 1, 10 * SEC);
    check(rl, "b", 1, 10 * SEC);
    uint64_t *fps = fl_rl_stored_fingerprints(rl, &n);
    CHECK_EQ_INT(n, 2);
    CHECK(fps[0] == fl_rl_fingerprint("a", 1) && fps[1] == fl_rl_fingerprint("b", 1));
    free(fps);
    size_t live = 1;
    CHECK(fl_rl_export(rl, 20 * SEC, &live) == NULL && live == 0); /* full at 20 s... */
    fps = fl_rl_stored_fingerprints(rl, &n);
    CHECK_EQ_INT(n, 2); /* ...but still stored */
    free(fps);
    CHECK_EQ_INT(fl_rl_sweep(rl, 20 * SEC), 2);
    CHECK(fl_rl_stored_fingerprints(rl, &n) == NULL && n == 0);
    fl_rl_destroy(rl);
}

/* A bucket refilled to full is an absent one, also for a clock that then
 * goes back: whether it was reclaimed in between changes nothing. */
static void
test_full_bucket_is_absent_when_the_clock_goes_back(void)
{
    fl_rl *kept = fl_rl_create(60, 1, SEED), *swept = fl_rl_create(60, 1, SEED);
    fl_rl *both[2] = {kept, swept};
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(check(both[i], "a", 1, 100 * SEC).verdict, FL_RL_ALLOWED);
        CHECK_EQ_INT(check(both[i], "a", 0, 102 * SEC).remaining, 1); /* full again, stored */
    }
    CHECK_EQ_INT(fl_rl_sweep(swept, 102 * SEC), 1);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(check(both[i], "a", 1, 50 * SEC).verdict, FL_RL_ALLOWED);
        fl_rl_result r = check(both[i], "a", 1, 51 * SEC); /* a second later: refilled */
        CHECK_EQ_INT(r.verdict, FL_RL_ALLOWED);
        fl_rl_destroy(both[i]);
    }
}

/* A wait beyond int64: rate 1, the largest burst, the clock jumping back from
 * near +2^63 ns to near -2^63 ns.  Both parts stay exact, nothing overflows. */
static void
test_clock_going_back_by_centuries(void)
{
    fl_rl *rl = fl_rl_create(1, FL_RL_MAX_BURST, SEED);
    const int64_t late = 9100000000LL * SEC, early = -9100000000LL * SEC;
    CHECK_EQ_INT(check(rl, "k", FL_RL_MAX_BURST, late).verdict, FL_RL_ALLOWED);
    fl_rl_result r = check(rl, "k", FL_RL_MAX_BURST, early);
    CHECK_EQ_INT(r.verdict, FL_RL_DENIED);
    CHECK_EQ_INT(r.retry_after_ns, FL_RL_MAX_BURST * FL_RL_UNITS_PER_TOKEN);
    CHECK(r.behind_ns == 18200000000000000000ULL);
    CHECK(check(rl, "k", 1, early).behind_ns == 18200000000000000000ULL);
    CHECK_EQ_INT(check(rl, "k", 0, early).verdict, FL_RL_ALLOWED);
    fl_rl_destroy(rl);
}

static void
test_sweep_reclaims_full_buckets_only(void)
{
    fl_rl *rl = fl_rl_create(60, 2, SEED);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        check(rl, key, 1, (i < 500) ? 0 : 10 * SEC);
    }
    fl_rl_counters c;
    fl_rl_get_counters(rl, &c);
    CHECK(c.entries <= 1000);
    /* at 10.5 s the first 500 are full again, the last 500 are not */
    CHECK(fl_rl_sweep(rl, 10 * SEC + SEC / 2) >= 0);
    fl_rl_get_counters(rl, &c);
    CHECK_EQ_INT(c.entries, 500);
    size_t n = 0;
    fl_rl_key_state *ks = fl_rl_export(rl, 10 * SEC + SEC / 2, &n);
    CHECK_EQ_INT(n, 500);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(ks[i].remaining, 1);
    free(ks);
    /* reclaimed keys behave as full */
    CHECK_EQ_INT(fl_rl_remaining(rl, "key-3", 5, 10 * SEC + SEC / 2), 2);
    CHECK_EQ_INT(fl_rl_remaining(rl, "key-700", 7, 10 * SEC + SEC / 2), 1);
    /* everything full later: the table shrinks back */
    CHECK_EQ_INT(fl_rl_sweep(rl, 100 * SEC), 500);
    fl_rl_get_counters(rl, &c);
    CHECK_EQ_INT(c.entries, 0);
    CHECK_EQ_INT(c.capacity, 16);
    fl_rl_destroy(rl);
}

static void
test_many_keys_compact(void)
{
    fl_rl *rl = fl_rl_create(60, 10, SEED);
    char key[32];
    for (int i = 0; i < 200000; i++) {
        snprintf(key, sizeof key, "sk-%08d", i);
        CHECK_EQ_INT(check(rl, key, 1, 0).remaining, 9);
    }
    for (int i = 0; i < 200000; i += 997) {
        snprintf(key, sizeof key, "sk-%08d", i);
        CHECK_EQ_INT(fl_rl_remaining(rl, key, strlen(key), 0), 9);
    }
    fl_rl_counters c;
    fl_rl_get_counters(rl, &c);
    CHECK_EQ_INT(c.entries, 200000);
    CHECK(c.bytes / c.entries < 100);
    fl_rl_destroy(rl);
}

/* The table index depends on the secret: two limiters with different seeds
 * place the same keys differently (no key set collides in both). */
static void
test_keyed_hash_differs_per_seed(void)
{
    uint8_t other[16];
    memcpy(other, SEED, 16);
    other[0] ^= 0x80;
    int same = 0;
    char key[16];
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "k%d", i);
        uint64_t a = fl_rl_siphash13(0x0807060504030201ULL, 0x100f0e0d0c0b0a09ULL, key, strlen(key));
        uint64_t b = fl_rl_siphash13(0x0807060504030281ULL, 0x100f0e0d0c0b0a09ULL, key, strlen(key));
        same += (a & 1023) == (b & 1023);
    }
    CHECK(same < 8);
    /* fingerprints do not depend on the seed */
    CHECK(fl_rl_fingerprint("abc", 3) == fl_rl_fingerprint("abc", 3));
}

/* A check that leaves a bucket full stores nothing; a stored bucket carries
 * its key's stable fingerprint. */
static void
test_full_checks_store_nothing_and_fingerprints(void)
{
    fl_rl *rl = fl_rl_create(60, 3, SEED);
    check(rl, "looker", 0, 0);
    check(rl, "greedy", 4, 0); /* cost over burst */
    fl_rl_counters c;
    fl_rl_get_counters(rl, &c);
    CHECK_EQ_INT(c.entries, 0);
    check(rl, "user", 2, 0);
    size_t n = 0;
    fl_rl_key_state *ks = fl_rl_export(rl, 0, &n);
    CHECK_EQ_INT(n, 1);
    CHECK(ks != NULL && ks[0].fingerprint == fl_rl_fingerprint("user", 4));
    CHECK(ks != NULL && ks[0].remaining == 1);
    free(ks);
    fl_rl_destroy(rl);
}

typedef struct {
    fl_rl *rl;
    int allowed;
} hammer_arg;

static void *
hammer(void *p)
{
    hammer_arg *a = p;
    for (int i = 0; i < 5000; i++) {
        fl_rl_result r;
        fl_rl_check(a->rl, "shared", 6, 1, 42 * SEC, &r);
        if (r.verdict == FL_RL_ALLOWED)
            a->allowed++;
        char key[32];
        snprintf(key, sizeof key, "t%p-%d", (void *)a, i); /* force rebuilds too */
        fl_rl_check(a->rl, key, strlen(key), 1, 42 * SEC, &r);
    }
    return NULL;
}

static void
test_threads_exact_under_contention(void)
{
    fl_rl *rl = fl_rl_create(60, 777, SEED);
    pthread_t th[8];
    hammer_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (hammer_arg){rl, 0};
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        total += args[i].allowed;
    }
    CHECK_EQ_INT(total, 777);
    fl_rl_destroy(rl);
}

static void *
hold_lock_forever(void *p)
{
    /* simulate a thread inside the limiter at fork time */
    pthread_mutex_lock((pthread_mutex_t *)p);
    for (;;)
        pause();
    return NULL;
}

static void
test_fork_while_locked(void)
{
    fl_rl *rl = fl_rl_create(60, 3, SEED);
    check(rl, "k", 1, 0);
    /* the lock is the first member of the struct */
    pthread_t th;
    pthread_create(&th, NULL, hold_lock_forever, (void *)rl);
    usleep(20000);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5); /* a deadlock fails the test instead of hanging it */
        fl_rl_after_fork_child(rl);
        fl_rl_result r;
        fl_rl_check(rl, "k", 1, 1, 0, &r);
        _exit(r.verdict == FL_RL_ALLOWED && r.remaining == 1 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pthread_cancel(th);
    pthread_join(th, NULL);
    /* the cancelled thread still "holds" the lock: reset it to free rl */
    fl_rl_after_fork_child(rl);
    fl_rl_destroy(rl);
}

int
main(void)
{
    static const check_case cases[] = {
        CASE(test_siphash_vectors),
        CASE(test_bad_arguments),
        CASE(test_burst_then_denied_with_exact_retry),
        CASE(test_refill_has_no_rounding_loss),
        CASE(test_denied_consumes_nothing_and_cost),
        CASE(test_clock_going_back),
        CASE(test_clock_going_back_by_centuries),
        CASE(test_stored_fingerprints),
        CASE(test_full_bucket_is_absent_when_the_clock_goes_back),
        CASE(test_sweep_reclaims_full_buckets_only),
        CASE(test_many_keys_compact),
        CASE(test_keyed_hash_differs_per_seed),
        CASE(test_full_checks_store_nothing_and_fingerprints),
        CASE(test_threads_exact_under_contention),
        CASE(test_fork_while_locked),
    };
    RUN_TESTS(cases);
}
