/* test_harness.c - the harness itself: a passing check stays passing. */
#include "check.h"

static void test_check_passes(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(3 * 3, 9); }

int main(void)
{
    static const check_case cases[] = {CASE(test_check_passes)};
    RUN_TESTS(cases);
}
