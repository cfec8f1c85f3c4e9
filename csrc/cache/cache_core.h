/*
 * cache_core.h - the parts of the in-memory cache that need no Python.
 *
 * LiteLLM's InMemoryCache.get_cache passes every stored value through
 * json.loads and returns the original value when that raises.  For a str,
 * json.loads can only succeed when its first non-whitespace character can
 * start a JSON value (Python's decoder accepts NaN, Infinity, -Infinity).
 * fl_json_could_parse() answers "could json.loads possibly succeed?" from
 * the characters alone, so the binding skips the (expensive) raise and
 * catch for strings such as "hello" or "sk-..." and calls json.loads for
 * the rest.  A "maybe" is always safe: json.loads itself decides.
 */
#ifndef FL_CACHE_CORE_H
#define FL_CACHE_CORE_H

#include <stddef.h>
#include <stdint.h>

/* kind: bytes per code point (1, 2 or 4), as in a PEP 393 string. */
int fl_json_could_parse(int kind, const void *data, size_t length);

/* Whether code point c can be the first character of a JSON value as
 * Python's json scanner accepts it ('"', '{', '[', '-', digits, 'n', 't',
 * 'f', 'N', 'I'). */
int fl_json_value_start(uint32_t c);

/* Python's json whitespace: space, tab, newline, carriage return. */
int fl_json_whitespace(uint32_t c);

#endif
