/* test_cache_limiter.c - the proxy limiter's int64 arithmetic. */
#include <stdint.h>
#include "check.h"
#include "proxy_limiter/limiter_core.h"

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

int main(void)
{
    static const check_case cases[] = {
        CASE(test_limit_check), CASE(test_limit_overflow), CASE(test_window), CASE(test_counter_next),
    };
    RUN_TESTS(cases);
}
