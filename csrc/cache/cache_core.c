/*
 * cache_core.c - pure-C helpers of the in-memory cache (see cache_core.h).
 *
 * Only the prefilter lives here: the cache's state is Python dicts and a
 * heapq list that LiteLLM code reads directly, so everything touching it is
 * in csrc/binding/bind_cache.c.
 */
#include "cache/cache_core.h"

int
fl_json_whitespace(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
fl_json_value_start(uint32_t c)
{
    switch (c) {
    case '"': case '{': case '[': case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
    case 'n': case 't': case 'f': case 'N': case 'I':
        return 1;
    default:
        return 0;
    }
}

static uint32_t
code_point_at(int kind, const void *data, size_t i)
{
    switch (kind) {
    case 1: return ((const uint8_t *)data)[i];
    case 2: return ((const uint16_t *)data)[i];
    default: return ((const uint32_t *)data)[i];
    }
}

int
fl_json_could_parse(int kind, const void *data, size_t length)
{
    size_t i = 0;
    if (data == NULL)
        return 0;
    while (i < length && fl_json_whitespace(code_point_at(kind, data, i)))
        i++;
    if (i == length)
        return 0; /* empty or all whitespace: "Expecting value" */
    return fl_json_value_start(code_point_at(kind, data, i));
}
