/*
 * test_tokenizer_pretok.c - tests of the pre-tokenizer scanners and the
 * Unicode class tables, without Python.
 *
 * - pretok_cases: hand-picked edge cases (contractions in every case incl.
 *   U+017F, whitespace kinds, \r\n, digit runs, letter-case mixes, marks,
 *   CJK, emoji); the expected pieces are what the regex module gives for
 *   tiktoken 0.14.0's exact pattern strings (all these characters have the
 *   same classes in Unicode 16 and 17).
 * - every code point's class against ../shared/data/unicode-16.0.0/classes.txt
 *   ($FAST_LITELLM_SHARED_DIR/data/... when set); skipped if the file is absent.
 * - the ASCII fast paths agree with the general path at every position of
 *   random texts built from characters on their edges.
 * - the 64-byte windows (every pattern) hand out the same piece ends as the
 *   per-piece scanner, from every piece start of random texts on the masks'
 *   class edges and of hand-picked cases at every offset in a window.
 * - 2 MB runs of one character kind per pattern (would hang if quadratic),
 *   with the expected number of pieces, and invariants (pieces > 0, cover
 *   the input, never past the end) on truncated/invalid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode_tables.h"

#define MAX_PIECES 32

typedef struct {
    int pattern;
    const char *text;
    const char *pieces[MAX_PIECES];
} pretok_case;

/* Generated from the regex module with tiktoken 0.14.0's pattern strings. */
static const pretok_case pretok_cases[] = {
    {0, "Hello world", {"Hello", " world", NULL}},
    {1, "Hello world", {"Hello", " world", NULL}},
    {2, "Hello world", {"Hello", " world", NULL}},
    {0, "I'm don't we'll they've you're he'd she's it'S I'M WE'LL THEY'VE", {"I", "'m", " don", "'t", " we", "'ll", " they", "'ve", " you", "'re", " he", "'d", " she", "'s", " it", "'", "S", " I", "'", "M", " WE", "'", "LL", " THEY", "'", "VE", NULL}},
    {1, "I'm don't we'll they've you're he'd she's it'S I'M WE'LL THEY'VE", {"I", "'m", " don", "'t", " we", "'ll", " they", "'ve", " you", "'re", " he", "'d", " she", "'s", " it", "'S", " I", "'M", " WE", "'LL", " THEY", "'VE", NULL}},
    {2, "I'm don't we'll they've you're he'd she's it'S I'M WE'LL THEY'VE", {"I'm", " don't", " we'll", " they've", " you're", " he'd", " she's", " it'S", " I'M", " WE'LL", " THEY'VE", NULL}},
    {0, "don'\305\277 it'\305\277s 'll 're 've 'x", {"don", "'", "\305\277", " it", "'", "\305\277s", " '", "ll", " '", "re", " '", "ve", " '", "x", NULL}},
    {1, "don'\305\277 it'\305\277s 'll 're 've 'x", {"don", "'\305\277", " it", "'\305\277", "s", " '", "ll", " '", "re", " '", "ve", " '", "x", NULL}},
    {2, "don'\305\277 it'\305\277s 'll 're 've 'x", {"don'\305\277", " it'\305\277", "s", " '", "ll", " '", "re", " '", "ve", " '", "x", NULL}},
    {0, "  leading spaces", {" ", " leading", " spaces", NULL}},
    {1, "  leading spaces", {" ", " leading", " spaces", NULL}},
    {2, "  leading spaces", {" ", " leading", " spaces", NULL}},
    {0, "trailing   ", {"trailing", "   ", NULL}},
    {1, "trailing   ", {"trailing", "   ", NULL}},
    {2, "trailing   ", {"trailing", "   ", NULL}},
    {0, "a  \012\012  b", {"a", "  \012\012 ", " b", NULL}},
    {1, "a  \012\012  b", {"a", "  \012\012", " ", " b", NULL}},
    {2, "a  \012\012  b", {"a", "  \012\012", " ", " b", NULL}},
    {0, "\015\012\015\012x", {"\015\012\015", "\012", "x", NULL}},
    {1, "\015\012\015\012x", {"\015\012\015\012", "x", NULL}},
    {2, "\015\012\015\012x", {"\015\012\015\012", "x", NULL}},
    {0, "x\015\012", {"x", "\015\012", NULL}},
    {1, "x\015\012", {"x", "\015\012", NULL}},
    {2, "x\015\012", {"x", "\015\012", NULL}},
    {0, "tab\011sep", {"tab", "\011", "sep", NULL}},
    {1, "tab\011sep", {"tab", "\011sep", NULL}},
    {2, "tab\011sep", {"tab", "\011sep", NULL}},
    {0, "\302\240nbsp \302\240 x", {"\302\240", "nbsp", " \302\240", " x", NULL}},
    {1, "\302\240nbsp \302\240 x", {"\302\240nbsp", " \302\240", " x", NULL}},
    {2, "\302\240nbsp \302\240 x", {"\302\240nbsp", " \302\240", " x", NULL}},
    {0, "\343\200\200ideo", {"\343\200\200", "ideo", NULL}},
    {1, "\343\200\200ideo", {"\343\200\200ideo", NULL}},
    {2, "\343\200\200ideo", {"\343\200\200ideo", NULL}},
    {0, "12345678", {"12345678", NULL}},
    {1, "12345678", {"123", "456", "78", NULL}},
    {2, "12345678", {"123", "456", "78", NULL}},
    {0, "\331\243\331\244\331\245\331\246", {"\331\243\331\244\331\245\331\246", NULL}},
    {1, "\331\243\331\244\331\245\331\246", {"\331\243\331\244\331\245", "\331\246", NULL}},
    {2, "\331\243\331\244\331\245\331\246", {"\331\243\331\244\331\245", "\331\246", NULL}},
    {0, "\342\205\253\302\2757", {"\342\205\253\302\2757", NULL}},
    {1, "\342\205\253\302\2757", {"\342\205\253\302\2757", NULL}},
    {2, "\342\205\253\302\2757", {"\342\205\253\302\2757", NULL}},
    {0, "HelloWORLDFoo", {"HelloWORLDFoo", NULL}},
    {1, "HelloWORLDFoo", {"HelloWORLDFoo", NULL}},
    {2, "HelloWORLDFoo", {"Hello", "WORLDFoo", NULL}},
    {0, "CamelCaseXMLHttpRequest", {"CamelCaseXMLHttpRequest", NULL}},
    {1, "CamelCaseXMLHttpRequest", {"CamelCaseXMLHttpRequest", NULL}},
    {2, "CamelCaseXMLHttpRequest", {"Camel", "Case", "XMLHttp", "Request", NULL}},
    {0, "\303\200\303\211\303\216", {"\303\200\303\211\303\216", NULL}},
    {1, "\303\200\303\211\303\216", {"\303\200\303\211\303\216", NULL}},
    {2, "\303\200\303\211\303\216", {"\303\200\303\211\303\216", NULL}},
    {0, "\307\205ungla \307\205", {"\307\205ungla", " \307\205", NULL}},
    {1, "\307\205ungla \307\205", {"\307\205ungla", " \307\205", NULL}},
    {2, "\307\205ungla \307\205", {"\307\205ungla", " \307\205", NULL}},
    {0, "\312\260\312\260x", {"\312\260\312\260x", NULL}},
    {1, "\312\260\312\260x", {"\312\260\312\260x", NULL}},
    {2, "\312\260\312\260x", {"\312\260\312\260x", NULL}},
    {0, "\344\270\255\346\226\207\345\255\227\347\254\246", {"\344\270\255\346\226\207\345\255\227\347\254\246", NULL}},
    {1, "\344\270\255\346\226\207\345\255\227\347\254\246", {"\344\270\255\346\226\207\345\255\227\347\254\246", NULL}},
    {2, "\344\270\255\346\226\207\345\255\227\347\254\246", {"\344\270\255\346\226\207\345\255\227\347\254\246", NULL}},
    {0, "e\314\201\314\201", {"e", "\314\201\314\201", NULL}},
    {1, "e\314\201\314\201", {"e", "\314\201\314\201", NULL}},
    {2, "e\314\201\314\201", {"e\314\201\314\201", NULL}},
    {0, "\314\201abc", {"\314\201", "abc", NULL}},
    {1, "\314\201abc", {"\314\201abc", NULL}},
    {2, "\314\201abc", {"\314\201abc", NULL}},
    {0, "\314\201ABC.", {"\314\201", "ABC", ".", NULL}},
    {1, "\314\201ABC.", {"\314\201ABC", ".", NULL}},
    {2, "\314\201ABC.", {"\314\201", "ABC", ".", NULL}},
    {0, " \314\201", {" \314\201", NULL}},
    {1, " \314\201", {" \314\201", NULL}},
    {2, " \314\201", {" \314\201", NULL}},
    {0, "path/to/file\012/x", {"path", "/", "to", "/", "file", "\012", "/", "x", NULL}},
    {1, "path/to/file\012/x", {"path", "/to", "/file", "\012", "/x", NULL}},
    {2, "path/to/file\012/x", {"path", "/to", "/file", "\012", "/x", NULL}},
    {0, "...\012\012", {"...", "\012\012", NULL}},
    {1, "...\012\012", {"...\012\012", NULL}},
    {2, "...\012\012", {"...\012\012", NULL}},
    {0, "!!!\015\012 y", {"!!!", "\015\012", " y", NULL}},
    {1, "!!!\015\012 y", {"!!!\015\012", " y", NULL}},
    {2, "!!!\015\012 y", {"!!!\015\012", " y", NULL}},
    {0, " \077!", {" \077!", NULL}},
    {1, " \077!", {" \077!", NULL}},
    {2, " \077!", {" \077!", NULL}},
    {0, "\360\237\230\200\360\237\230\200 \360\237\230\200", {"\360\237\230\200\360\237\230\200", " \360\237\230\200", NULL}},
    {1, "\360\237\230\200\360\237\230\200 \360\237\230\200", {"\360\237\230\200\360\237\230\200", " \360\237\230\200", NULL}},
    {2, "\360\237\230\200\360\237\230\200 \360\237\230\200", {"\360\237\230\200\360\237\230\200", " \360\237\230\200", NULL}},
    {0, "'s'S's'", {"'s", "'", "S", "'s", "'", NULL}},
    {1, "'s'S's'", {"'s", "'S", "'s", "'", NULL}},
    {2, "'s'S's'", {"'s'S", "'s", "'", NULL}},
    {0, "x'sy", {"x", "'s", "y", NULL}},
    {1, "x'sy", {"x", "'s", "y", NULL}},
    {2, "x'sy", {"x's", "y", NULL}},
    {0, "X'S", {"X", "'", "S", NULL}},
    {1, "X'S", {"X", "'S", NULL}},
    {2, "X'S", {"X'S", NULL}},
    {0, "HELLO'Re", {"HELLO", "'", "Re", NULL}},
    {1, "HELLO'Re", {"HELLO", "'Re", NULL}},
    {2, "HELLO'Re", {"HELLO'Re", NULL}},
    {0, "\013\014\302\205\342\200\250\342\200\251x", {"\013\014\302\205\342\200\250", "\342\200\251", "x", NULL}},
    {1, "\013\014\302\205\342\200\250\342\200\251x", {"\013\014\302\205\342\200\250", "\342\200\251x", NULL}},
    {2, "\013\014\302\205\342\200\250\342\200\251x", {"\013\014\302\205\342\200\250", "\342\200\251x", NULL}},
    {0, "\034\035", {"\034\035", NULL}},
    {1, "\034\035", {"\034\035", NULL}},
    {2, "\034\035", {"\034\035", NULL}},
    {0, "a\342\200\213b", {"a", "\342\200\213", "b", NULL}},
    {1, "a\342\200\213b", {"a", "\342\200\213b", NULL}},
    {2, "a\342\200\213b", {"a", "\342\200\213b", NULL}},
    {0, "  \012  x  ", {"  \012 ", " x", "  ", NULL}},
    {1, "  \012  x  ", {"  \012", " ", " x", "  ", NULL}},
    {2, "  \012  x  ", {"  \012", " ", " x", "  ", NULL}},
    {0, "\012", {"\012", NULL}},
    {1, "\012", {"\012", NULL}},
    {2, "\012", {"\012", NULL}},
    {0, " ", {" ", NULL}},
    {1, " ", {" ", NULL}},
    {2, " ", {" ", NULL}},
    {0, "'", {"'", NULL}},
    {1, "'", {"'", NULL}},
    {2, "'", {"'", NULL}},
    {0, "x", {"x", NULL}},
    {1, "x", {"x", NULL}},
    {2, "x", {"x", NULL}},
    {0, " \012 \012 ", {" \012 \012 ", NULL}},
    {1, " \012 \012 ", {" \012 \012 ", NULL}},
    {2, " \012 \012 ", {" \012 \012", " ", NULL}},
    {0, "\011\011x", {"\011", "\011", "x", NULL}},
    {1, "\011\011x", {"\011", "\011x", NULL}},
    {2, "\011\011x", {"\011", "\011x", NULL}},
    {0, "a1b22c333d4444", {"a", "1", "b", "22", "c", "333", "d", "4444", NULL}},
    {1, "a1b22c333d4444", {"a", "1", "b", "22", "c", "333", "d", "444", "4", NULL}},
    {2, "a1b22c333d4444", {"a", "1", "b", "22", "c", "333", "d", "444", "4", NULL}},
    {0, " 123", {" 123", NULL}},
    {1, " 123", {" ", "123", NULL}},
    {2, " 123", {" ", "123", NULL}},
    {0, "$$$ hello", {"$$$", " hello", NULL}},
    {1, "$$$ hello", {"$$$", " hello", NULL}},
    {2, "$$$ hello", {"$$$", " hello", NULL}},
    {0, "\042quoted\042", {"\042", "quoted", "\042", NULL}},
    {1, "\042quoted\042", {"\042quoted", "\042", NULL}},
    {2, "\042quoted\042", {"\042quoted", "\042", NULL}},
    {0, "foo.bar()", {"foo", ".", "bar", "()", NULL}},
    {1, "foo.bar()", {"foo", ".bar", "()", NULL}},
    {2, "foo.bar()", {"foo", ".bar", "()", NULL}},
    {0, "\015\015\012\012", {"\015\015\012\012", NULL}},
    {1, "\015\015\012\012", {"\015\015\012\012", NULL}},
    {2, "\015\015\012\012", {"\015\015\012\012", NULL}},
    {0, "  \302\240x", {"  ", "\302\240", "x", NULL}},
    {1, "  \302\240x", {"  ", "\302\240x", NULL}},
    {2, "  \302\240x", {"  ", "\302\240x", NULL}},
};

static void
test_hand_cases(void)
{
    for (size_t c = 0; c < sizeof pretok_cases / sizeof pretok_cases[0]; c++) {
        const pretok_case *tc = &pretok_cases[c];
        const uint8_t *text = (const uint8_t *)tc->text;
        size_t len = strlen(tc->text), pos = 0, k = 0;
        int ok = 1;
        while (pos < len) {
            size_t n = fl_pretok_next((fl_pattern_id)tc->pattern, text, len, pos);
            const char *want = tc->pieces[k];
            if (n == 0 || want == NULL || strlen(want) != n || memcmp(want, text + pos, n) != 0) {
                ok = 0;
                break;
            }
            pos += n;
            k++;
        }
        if (!ok || tc->pieces[k] != NULL) {
            fprintf(stderr, "  pattern %d, text \"%s\": piece %zu differs\n", tc->pattern, tc->text, k);
            CHECK(0);
        }
    }
}

static void
test_split_matches_next(void)
{
    const char *text = "Hello, world! It's 2024...\r\n\n  x  \u00e9t\u00e9 \u4e2d\u6587 123456 ";
    size_t len = strlen(text);
    for (int pat = 0; pat < FL_PAT_COUNT; pat++) {
        size_t ends[4], pos = 0, expect = 0, n;
        /* batches of 4 */
        while ((n = fl_pretok_split((fl_pattern_id)pat, (const uint8_t *)text, len, &pos, ends, 4)) > 0) {
            for (size_t i = 0; i < n; i++) {
                expect += fl_pretok_next((fl_pattern_id)pat, (const uint8_t *)text, len, expect);
                CHECK_EQ_INT(ends[i], expect);
            }
            CHECK_EQ_INT(pos, expect);
            if (n < 4)
                break;
        }
        CHECK_EQ_INT(pos, len);
    }
}

static void
test_bad_arguments(void)
{
    const uint8_t text[] = "abc";
    CHECK_EQ_INT(fl_pretok_next(FL_PAT_CL100K, text, 3, 3), 0);
    CHECK_EQ_INT(fl_pretok_next(FL_PAT_CL100K, text, 3, 7), 0);
    CHECK_EQ_INT(fl_pretok_next((fl_pattern_id)FL_PAT_COUNT, text, 3, 0), 0);
    CHECK_EQ_INT(fl_pretok_next((fl_pattern_id)-1, text, 3, 0), 0);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("r50k_base"), FL_PAT_R50K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("p50k_base"), FL_PAT_R50K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("p50k_edit"), FL_PAT_R50K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("cl100k_base"), FL_PAT_CL100K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("o200k_base"), FL_PAT_O200K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("o200k_harmony"), FL_PAT_O200K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("gpt2"), FL_PAT_R50K);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding("gpt-4"), -1);
    CHECK_EQ_INT(fl_pretok_pattern_for_encoding(NULL), -1);
}

/* ---- Unicode tables against classes.txt --------------------------------- */

static const struct {
    const char *name;
    uint8_t cls;
} class_names[] = {
    {"Lu", FL_UC_LU}, {"Ll", FL_UC_LL}, {"Lt", FL_UC_LT}, {"Lm", FL_UC_LM},
    {"Lo", FL_UC_LO}, {"Mn", FL_UC_M},  {"Mc", FL_UC_M},  {"Me", FL_UC_M},
    {"Nd", FL_UC_N},  {"Nl", FL_UC_N},  {"No", FL_UC_N},  {"White_Space", FL_UC_WS},
};

static FILE *
open_classes_txt(void)
{
    const char *rel = "data/unicode-16.0.0/classes.txt";
    const char *dirs[] = {getenv("FAST_LITELLM_SHARED_DIR"), "../shared", "../../shared"};
    char path[1024];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (dirs[i] == NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dirs[i], rel);
        FILE *f = fopen(path, "r");
        if (f)
            return f;
    }
    return NULL;
}

static void
test_tables_match_classes_txt(void)
{
    FILE *f = open_classes_txt();
    if (f == NULL) {
        fprintf(stderr, "  skipped: classes.txt not found (set FAST_LITELLM_SHARED_DIR)\n");
        return;
    }
    uint8_t *expect = calloc(FL_UC_MAX_CP + 1, 1);
    CHECK(expect != NULL);
    if (expect == NULL) {
        fclose(f);
        return;
    }
    char line[256];
    size_t lines = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned lo, hi;
        char name[64];
        if (sscanf(line, "%x..%x ; %63s", &lo, &hi, name) != 3) {
            if (sscanf(line, "%x ; %63s", &lo, name) != 2)
                continue;
            hi = lo;
        }
        uint8_t cls = 0;
        for (size_t i = 0; i < sizeof class_names / sizeof class_names[0]; i++)
            if (strcmp(class_names[i].name, name) == 0)
                cls = class_names[i].cls;
        CHECK(cls != 0 && lo <= hi && hi <= FL_UC_MAX_CP);
        if (cls == 0 || lo > hi || hi > FL_UC_MAX_CP)
            continue;
        for (unsigned cp = lo; cp <= hi; cp++) {
            CHECK(expect[cp] == 0); /* classes are exclusive */
            expect[cp] = cls;
        }
        lines++;
    }
    fclose(f);
    CHECK(lines > 1000);
    size_t wrong = 0;
    for (uint32_t cp = 0; cp <= FL_UC_MAX_CP; cp++)
        if (fl_uc_class(cp) != expect[cp] && wrong++ < 10)
            fprintf(stderr, "  U+%04X: table %u, classes.txt %u\n", (unsigned)cp, fl_uc_class(cp), expect[cp]);
    for (uint32_t cp = 0; cp < FL_UC_DIRECT_LIMIT; cp++)
        if (fl_uc_direct[cp] != expect[cp] && wrong++ < 10)
            fprintf(stderr, "  U+%04X: direct table %u, classes.txt %u\n", (unsigned)cp, fl_uc_direct[cp], expect[cp]);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(fl_uc_class(0x110000), 0);
    free(expect);
}

/* ---- Long runs: linear time and piece counts ----------------------------- */

#define RUN_CHARS 2000000u

/* `count` copies of `unit` then `tail`, in a malloc'd buffer of exactly that size. */
static uint8_t *
repeat(const char *unit, size_t count, const char *tail, size_t *len)
{
    size_t u = strlen(unit), t = strlen(tail);
    *len = u * count + t;
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        memcpy(buf + i * u, unit, u);
    memcpy(buf + u * count, tail, t);
    return buf;
}

static size_t
count_pieces(fl_pattern_id pat, const uint8_t *text, size_t len)
{
    size_t pos = 0, pieces = 0;
    while (pos < len) {
        size_t n = fl_pretok_next(pat, text, len, pos);
        if (n == 0 || n > len - pos)
            return (size_t)-1;
        pos += n;
        pieces++;
    }
    return pieces;
}

static const struct {
    const char *unit, *tail;
    size_t pieces[FL_PAT_COUNT]; /* r50k, cl100k, o200k */
} long_runs[] = {
    {" ", "", {1, 1, 1}},
    {" ", "x", {2, 2, 2}},
    {"\n", "", {1, 1, 1}},
    {"\n", "x", {3, 2, 2}}, /* r50k: \s+(?!\S) leaves one \n, alone by \s */
    {"\r\n", "x", {3, 2, 2}},
    {" \t\xc2\xa0\xe3\x80\x80", "x", {3, 2, 2}},
    {" \n", "x", {3, 2, 2}},
    {"a", "", {1, 1, 1}},
    {"A", "", {1, 1, 1}},
    {"\xe4\xb8\xad", "", {1, 1, 1}},        /* CJK (Lo) */
    {"\xcc\x81", "", {1, 1, 1}},            /* combining acute: O in r50k/cl100k */
    {"A\xcc\x81", ".", {2 * RUN_CHARS, RUN_CHARS + 1, 2}}, /* cl100k: A, then mark-prefixed A's */
    {"1", "", {1, (RUN_CHARS + 2) / 3, (RUN_CHARS + 2) / 3}},
    {".", "", {1, 1, 1}},
    {"/", "", {1, 1, 1}},
    {"'s", "", {RUN_CHARS, RUN_CHARS, RUN_CHARS / 2}}, /* o200k: 's's = prefix, s, 's */
    {"\xf0\x9f\x98\x80", "", {1, 1, 1}}, /* emoji */
};

static void
test_long_runs(void)
{
    for (size_t r = 0; r < sizeof long_runs / sizeof long_runs[0]; r++) {
        size_t len;
        uint8_t *text = repeat(long_runs[r].unit, RUN_CHARS, long_runs[r].tail, &len);
        CHECK(text != NULL);
        if (text == NULL)
            return;
        for (int pat = 0; pat < FL_PAT_COUNT; pat++) {
            size_t got = count_pieces((fl_pattern_id)pat, text, len);
            if (got != long_runs[r].pieces[pat]) {
                fprintf(stderr, "  run %zu pattern %d: %zu pieces, expected %zu\n", r, pat, got,
                        long_runs[r].pieces[pat]);
                CHECK(0);
            }
        }
        free(text);
    }
}

/* Arbitrary bytes (not UTF-8, truncated sequences): still pieces > 0 that
   cover the input, computed from a buffer of exactly len bytes (ASan checks
   nothing past it is read). */
static void
test_invalid_utf8_is_safe(void)
{
    static const char *inputs[] = {
        "\xc5", "'\xc5", "a\xe4\xb8", "\xf0\x9f\x98", "\x80\x80 x", "\xff\xfe", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "'l", "'v", "'r", "' ", "x'", "A\xcc", "\r", "1\xd9",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t len = strlen(inputs[i]);
        uint8_t *buf = malloc(len);
        CHECK(buf != NULL);
        if (buf == NULL)
            return;
        memcpy(buf, inputs[i], len);
        for (int pat = 0; pat < FL_PAT_COUNT; pat++)
            CHECK(count_pieces((fl_pattern_id)pat, buf, len) != (size_t)-1);
        free(buf);
    }
}

/* fl_pretok_next against fl_pretok_next_general for every pattern at
   position 0 and every later character start of text[0..len): returns how
   many positions were compared; each disagreement adds one to *mismatches,
   and the first ten are printed with the whole text. */
static size_t
compare_with_general(const uint8_t *text, size_t len, size_t *mismatches)
{
    size_t compared = 0;
    for (int pat = 0; pat < FL_PAT_COUNT; pat++)
        for (size_t pos = 0; pos < len; pos++) {
            if (pos > 0 && (text[pos] & 0xC0) == 0x80)
                continue; /* inside a character */
            size_t fast = fl_pretok_next((fl_pattern_id)pat, text, len, pos);
            size_t slow = fl_pretok_next_general((fl_pattern_id)pat, text, len, pos);
            compared++;
            if (fast != slow && (*mismatches)++ < 10) {
                fprintf(stderr, "  pattern %d pos %zu: fast %zu, general %zu, text:", pat, pos, fast, slow);
                for (size_t k = 0; k < len; k++)
                    fprintf(stderr, " %02x", text[k]);
                fprintf(stderr, "\n");
            }
        }
    return compared;
}

/* The ASCII fast paths against the general path (which follows the regex
   alternative by alternative and is what the Python tests check against
   tiktoken): at every position of random texts drawn from characters that
   sit on each fast path's edges (letters of both cases, digits, ASCII
   punctuation incl. apostrophe and '/', every ASCII whitespace kind, and
   non-ASCII letters, marks, digits, whitespace and symbols right after
   them), both give the same piece.  Texts are cut at random lengths, so
   runs also end at the end of the text and within eight bytes of it (the
   word-at-a-time scans' tail). */
static void
test_fast_paths_match_general(void)
{
    static const char *const units[] = {
        "a", "z", "A", "Z", "s", "t", "e", "l", "r", "v", "d", "m", "S", "L", "0", "5", "9",
        " ", " ", " ", "\n", "\r", "\t", "\x0b", "\x0c", "'", "'", ".", ",", "(", ")", "/", "_",
        "-", "+", "=", "\"", "#", "*", "|", "@", "`", "~",
        "\xc3\xa9",         /* e acute, Ll */
        "\xc3\x89",         /* E acute, Lu */
        "\xc5\xbf",         /* long s: a contraction letter in cl100k/o200k */
        "\xcc\x81",         /* combining acute, M */
        "\xc2\xb2",         /* superscript two, N */
        "\xd9\xa3",         /* Arabic-indic three, N */
        "\xc2\xa0",         /* no-break space, \s */
        "\xe3\x80\x80",     /* ideographic space, \s */
        "\xc2\x85",         /* next line, \s */
        "\xe4\xb8\xad",     /* CJK, Lo */
        "\xca\xb0",         /* modifier letter h, Lm */
        "\xc7\x85",         /* Dz with caron, Lt */
        "\xe2\x80\x94",     /* em dash, O */
        "\xf0\x9f\x98\x80", /* emoji, O */
    };
    const size_t n_units = sizeof units / sizeof units[0];
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    uint8_t buf[96];
    size_t mismatches = 0;
    for (int round = 0; round < 60000; round++) {
        size_t len = 0;
        /* short texts (only the 8-byte paths) and longer ones (16-byte
           blocks too: runs of up to 20 units cross their ends) */
        size_t want = 1 + (size_t)(rng % (round & 1 ? 90 : 40));
        while (len < want) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly runs of one kind: repeat a unit a few times */
            const char *u = units[(rng >> 33) % n_units];
            size_t reps = 1 + ((rng >> 20) % 4 == 0 ? (rng >> 24) % 20 : 0);
            size_t ul = strlen(u);
            for (size_t k = 0; k < reps && len + ul <= sizeof buf; k++, len += ul)
                memcpy(buf + len, u, ul);
            if (len + 4 > sizeof buf)
                break;
        }
        uint8_t *text = malloc(len ? len : 1); /* exactly len bytes: ASan sees overreads */
        CHECK(text != NULL);
        if (text == NULL)
            return;
        memcpy(text, buf, len);
        compare_with_general(text, len, &mismatches);
        free(text);
    }
    CHECK_EQ_INT(mismatches, 0);
}

/* Fast path == general path where the 16-byte blocks have their edges:
   a run of one kind (ASCII letters of each case shape, digits, spaces,
   newlines, indentation, punctuation) of 1..20 bytes after each kind of
   start (none, a space, a prefix), then each kind of stop (every ASCII
   class, an apostrophe starting a contraction or not, non-ASCII letters,
   marks, digits, whitespace and symbols, or the end of the text), with 0..18
   bytes of filler after it, so runs end inside, exactly at and past the
   block and the text ends at every distance from the piece.  Every text is
   a buffer of exactly its length (ASan catches a read past it). */
static void
test_block_edges_match_general(void)
{
    static const char *const runs[] = {"a", "Z", "Ab", "aB", "AAb", "0", "7a", " ", "\n", "\r\n",
                                       "\t", " \n", "  x", ".", ",)", "/", "'", "'s", "A'"};
    static const char *const starts[] = {"", " ", "(", "\n", "'", "\t", "0", "A", "a"};
    static const char *const stops[] = {
        "", " ", "a", "A", "0", ".", "\n", "\r", "\t", "'", "'s", "'LL", "'x", "/", "\x7f",
        "\xc3\xa9", "\xc3\x89", "\xcc\x81", "\xc2\xb2", "\xc2\xa0", "\xe2\x80\x94", "\xc5\xbf",
        "\xe4\xb8\xad", "\xf0\x9f\x98\x80",
    };
    static const char *const fillers[] = {"x", " ", ".", "\n", "1"};
    uint8_t buf[128];
    size_t mismatches = 0, checked = 0;
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (size_t a = 0; a < sizeof starts / sizeof starts[0]; a++)
            for (size_t z = 0; z < sizeof stops / sizeof stops[0]; z++)
                for (size_t n = 1; n <= 20; n++)
                    for (size_t f = 0; f <= 18; f += (n % 3) + 1) {
                        size_t len = 0, rl = strlen(runs[r]);
                        memcpy(buf, starts[a], strlen(starts[a]));
                        len += strlen(starts[a]);
                        for (size_t k = 0; len < n + strlen(starts[a]); k++)
                            buf[len++] = (uint8_t)runs[r][k % rl];
                        memcpy(buf + len, stops[z], strlen(stops[z]));
                        len += strlen(stops[z]);
                        const char *fill = fillers[(r + z + n) % 5];
                        for (size_t k = 0; k < f; k++)
                            buf[len++] = (uint8_t)fill[0];
                        uint8_t *text = malloc(len ? len : 1);
                        CHECK(text != NULL);
                        if (text == NULL)
                            return;
                        memcpy(text, buf, len);
                        checked += compare_with_general(text, len, &mismatches);
                        free(text);
                    }
    CHECK(checked > 10000000);
    CHECK_EQ_INT(mismatches, 0);
}

/* Every ASCII byte, in runs of 15..18 around a block's end, before and after
   every other ASCII byte and a few non-ASCII characters: the block masks
   classify each byte as the class table does. */
static void
test_block_classes_every_ascii_byte(void)
{
    static const char *const tails[] = {"\xc3\xa9", "\xc2\xa0", "\xcc\x81", "\xe2\x80\x94"};
    uint8_t text[64];
    size_t mismatches = 0;
    for (int x = 0; x < 128; x++)
        for (int y = 0; y < 128 + 4; y++)
            for (size_t n = 15; n <= 18; n++) {
                size_t len = 0;
                text[len++] = ' ';
                for (size_t k = 0; k < n; k++)
                    text[len++] = (uint8_t)x;
                if (y < 128) {
                    text[len++] = (uint8_t)y;
                } else {
                    memcpy(text + len, tails[y - 128], strlen(tails[y - 128]));
                    len += strlen(tails[y - 128]);
                }
                for (size_t k = 0; k < 20; k++)
                    text[len++] = (uint8_t)(k % 2 ? x : 'q');
                compare_with_general(text, len, &mismatches);
            }
    CHECK_EQ_INT(mismatches, 0);
}

/* The 64-byte windows (fl_pretok_window_scanner_for, every pattern) against the per-piece
   scanner: from every piece start of a text, the window's first end and
   every end it hands out in `more` are the scanner's next piece ends, in
   order.  Texts of 64..330 bytes from units on every class edge the masks
   decide (letters that spell contractions in both cases, digits, each
   ASCII whitespace kind, ' and '/' among other punctuation, controls,
   non-ASCII letters, marks, \s and symbols), mostly ASCII, each drawn
   from a random subset of the units (so some texts are dense in one
   boundary kind), units repeated in runs.  Exactly len bytes each (ASan).
   Returns the number of ends compared; mismatches are counted. */
static size_t
compare_windows(fl_pattern_id pat, const uint8_t *text, size_t len, size_t *mismatches)
{
    fl_pretok_window_scanner window = fl_pretok_window_scanner_for(pat);
    size_t *ends = malloc((len + 1) * sizeof *ends), n = 0, pos = 0, compared = 0;
    CHECK(ends != NULL);
    if (window == NULL || ends == NULL) {
        free(ends);
        return 0;
    }
    while (pos < len) {
        pos += fl_pretok_next(pat, text, len, pos);
        ends[n++] = pos;
    }
    size_t start = 0;
    for (size_t k = 0; k < n; start = ends[k++]) {
        fl_pretok_window w = window(text, len, start);
        uint64_t more = w.more;
        size_t end = w.end, j = k;
        int ok = end == ends[j];
        compared++;
        while (ok && more) {
            end = start + (size_t)__builtin_ctzll(more);
            more &= more - 1u;
            ok = ++j < n && ends[j] == end;
            compared++;
        }
        if (!ok && (*mismatches)++ < 10) {
            fprintf(stderr, "  pattern %d, window at %zu: end %zu, scanner's %zu; text:", (int)pat, start,
                    end, j < n ? ends[j] : len);
            for (size_t i = start; i < len && i < start + 80; i++)
                fprintf(stderr, " %02x", text[i]);
            fprintf(stderr, "\n");
        }
    }
    free(ends);
    return compared;
}

/* compare_windows on every pattern, over an exactly len-byte copy of buf
   (so ASan sees any read past the text). */
static size_t
compare_windows_all(const uint8_t *buf, size_t len, size_t *mismatches)
{
    size_t compared = 0;
    uint8_t *text = malloc(len);
    CHECK(text != NULL);
    if (text == NULL)
        return 0;
    memcpy(text, buf, len);
    for (int pat = 0; pat < FL_PAT_COUNT; pat++)
        compared += compare_windows((fl_pattern_id)pat, text, len, mismatches);
    free(text);
    return compared;
}

static void
test_windows_match_scanner(void)
{
    static const char *const units[] = {
        "a", "z", "A", "Z", "s", "t", "e", "l", "r", "v", "d", "m", "S", "T", "L", "E", "D", "M", "R",
        "V", "0", "5", "9", " ", " ", " ", "\n", "\r", "\t", "\x0b", "\x0c", "'", "'", ".", ",", "(",
        ")", "/", "/", "_", "-", "\"", "#", "\x1c", "\x7f", "\x01",
        "\xc3\xa9", "\xc2\xa0", "\xcc\x81", "\xe4\xb8\xad", "\xc5\xbf", "\xe2\x80\x94", "\xd9\xa3",
    };
    const size_t n_units = sizeof units / sizeof units[0], n_ascii = 46;
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    uint8_t buf[340];
    size_t mismatches = 0, compared = 0;
    for (int round = 0; round < 40000; round++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = 64 + (size_t)((rng >> 33) % 260), len = 0;
        int ascii_only = (rng >> 20) % 4 != 0;
        size_t subset = 4 + (size_t)((rng >> 40) % (n_units - 4)), first = (size_t)((rng >> 50) % n_units);
        while (len < want) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            const char *u = units[(first + (rng >> 33) % subset) % n_units];
            if (ascii_only && (uint8_t)u[0] >= 0x80)
                u = units[(rng >> 45) % n_ascii];
            size_t reps = 1 + ((rng >> 20) % 3 == 0 ? (rng >> 24) % 12 : 0), ul = strlen(u);
            for (size_t k = 0; k < reps && len + ul <= sizeof buf; k++, len += ul)
                memcpy(buf + len, u, ul);
            if (len + 4 > sizeof buf)
                break;
        }
        compared += compare_windows_all(buf, len, &mismatches);
    }
    if (fl_pretok_window_scanner_for(FL_PAT_O200K) != NULL)
        CHECK(compared > 1000000);
    CHECK_EQ_INT(mismatches, 0);
}

/* Hand-picked window cases, each padded past 64 bytes and placed at every
   offset from the window's start to past its trusted part. */
static void
test_window_hand_cases(void)
{
    static const char *const cases[] = {
        "x\n  \n  y",          /* spaces after \n, then \n again: not a piece start */
        "x \n \n y", ".\n \n x", "a.\n/.b", "5\n\n/\r\r/5", "a.\n//b", ".\n/foo",
        "it's's's", "it'sx'd", "IT'S", "don'Tcha", "it'll'll", "x''s", "a'b", "''s",
        "HTTPServer aBcD", "1234567 12", " .foo", "a .foo", "..foo", "\t.x", "  \t.",
        "\n    return x", "x  \n", "):\n    ", "x\n\n  \xc2\xa0\n", "ab\xc3\xa9 cd",
        "  \xe3\x80\x80\n x", "'\xc5\xbf", "x'\xc5\xbf", "a\r\n\r\n b", "\x0b\x0c x", "9'S",
        " 's", "x 'll", "'s's", "'sx", "x'S", " 12 ab .. \n\tx", "  \n1",
    };
    uint8_t buf[200];
    size_t mismatches = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t at = 0; at < 70; at++)
            for (int fill = 0; fill < 3; fill++) {
                size_t cl = strlen(cases[c]), len = 0;
                for (size_t k = 0; k < at; k++)
                    buf[len++] = (uint8_t)("ab .\n"[(k + (size_t)fill) % 5]);
                memcpy(buf + len, cases[c], cl);
                len += cl;
                for (size_t k = 0; k < 80; k++)
                    buf[len++] = (uint8_t)(fill == 0 ? 'q' : fill == 1 ? ' ' : "x'\n"[k % 3]);
                compare_windows_all(buf, len, &mismatches);
            }
    CHECK_EQ_INT(mismatches, 0);
}

int
main(void)
{
    static const check_case cases[] = {
        CASE(test_hand_cases),           CASE(test_split_matches_next),
        CASE(test_bad_arguments),        CASE(test_tables_match_classes_txt),
        CASE(test_long_runs),            CASE(test_invalid_utf8_is_safe),
        CASE(test_fast_paths_match_general), CASE(test_block_edges_match_general),
        CASE(test_block_classes_every_ascii_byte), CASE(test_windows_match_scanner),
        CASE(test_window_hand_cases),
    };
    RUN_TESTS(cases);
}
