/* test_cache.c - the cache's JSON prefilter, without Python. */
#include "check.h"
#include "cache/cache_core.h"

static int
could(const char *s)
{
    return fl_json_could_parse(1, s, strlen(s));
}

static void test_value_starts(void)
{
    CHECK(could("{\"a\": 1}"));
    CHECK(could("[1]"));
    CHECK(could("\"x\""));
    CHECK(could("-1"));
    CHECK(could("0"));
    CHECK(could("9.5"));
    CHECK(could("null"));
    CHECK(could("true"));
    CHECK(could("false"));
    CHECK(could("NaN"));
    CHECK(could("Infinity"));
    CHECK(could("-Infinity"));
    CHECK(could("nope")); /* a maybe: json.loads decides */
}

static void test_whitespace_is_skipped(void)
{
    CHECK(could(" \t\r\n{}"));
    CHECK(!could(" \t\r\n"));
    CHECK(!could(" \fx"));
    CHECK(!could("\v1")); /* \v is not JSON whitespace */
}

static void test_impossible_starts(void)
{
    CHECK(!could(""));
    CHECK(!could("hello"));
    CHECK(!could("sk-1234"));
    CHECK(!could("gpt-4o"));
    CHECK(!could("+1"));
    CHECK(!could(".5"));
    CHECK(!could("'a'"));
    CHECK(!fl_json_could_parse(1, NULL, 0));
}

static void test_wide_kinds(void)
{
    const uint16_t bom[] = {0xFEFF, '{', '}'};
    const uint16_t ws2[] = {' ', '[', ']'};
    const uint32_t wide[] = {0x1F600, '1'};
    const uint32_t ws4[] = {'\n', 't'};
    CHECK(!fl_json_could_parse(2, bom, 3)); /* BOM: json.loads raises */
    CHECK(fl_json_could_parse(2, ws2, 3));
    CHECK(!fl_json_could_parse(4, wide, 2));
    CHECK(fl_json_could_parse(4, ws4, 2));
}

int main(void)
{
    static const check_case cases[] = {
        CASE(test_value_starts), CASE(test_whitespace_is_skipped),
        CASE(test_impossible_starts), CASE(test_wide_kinds),
    };
    RUN_TESTS(cases);
}
