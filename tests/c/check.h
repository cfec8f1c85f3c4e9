/*
 * check.h - the C core's test harness: a test is a function, CHECK records
 * a failure without stopping, and RUN_TESTS runs a table of tests and
 * prints the plain summary line "N passed, N failed".
 *
 *     static void test_add(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(add(2, 2), 4); }
 *     int main(void) { static const check_case cases[] = {CASE(test_add)}; RUN_TESTS(cases); }
 *
 * Compiles without Python.h, so every component's core is tested alone,
 * under AddressSanitizer and UndefinedBehaviorSanitizer (make sanitize).
 */
#ifndef FL_CHECK_H
#define FL_CHECK_H

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} check_case;

static int check_failures_in_case;

#define CASE(fn) {#fn, fn}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            check_failures_in_case++;                                          \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        if (check_a_ != check_b_) {                                            \
            fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n",        \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);           \
            check_failures_in_case++;                                          \
        }                                                                      \
    } while (0)

static inline int
check_run(const check_case *cases, size_t n, const char *suite)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        check_failures_in_case = 0;
        cases[i].fn();
        if (check_failures_in_case) {
            failed++;
            fprintf(stderr, "FAIL %s.%s\n", suite, cases[i].name);
        } else {
            passed++;
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}

#define RUN_TESTS(cases) \
    return check_run(cases, sizeof(cases) / sizeof(cases[0]), __FILE__)

#endif /* FL_CHECK_H */
