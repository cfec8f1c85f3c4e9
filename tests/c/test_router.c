/* test_router.c - the seed router's C core: matching, blocking, wildcards,
 * each strategy's plan and finish, loads and their window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "router/router.h"

static fl_rt_deployment
dep(const char *name, const char *model, const char *key, double weight, double rpm, double cost)
{
    fl_rt_deployment d;
    memset(&d, 0, sizeof(d));
    d.model_name = name;
    d.model_name_len = strlen(name);
    d.model = model;
    d.model_len = strlen(model);
    d.key = key;
    d.key_len = strlen(key);
    d.has_id = 1;
    d.weight = weight;
    d.rpm = rpm;
    d.rpm_limit = rpm > 0 ? rpm : INFINITY;
    d.tpm_limit = INFINITY;
    d.cost = cost;
    return d;
}

static fl_rt_index *
sample_index(void)
{
    fl_rt_deployment d[5] = {
        dep("gpt", "openai/gpt-4o", "a", 0, 10, 3.0),
        dep("claude", "anthropic/claude", "b", 0, 0, 1.0),
        dep("gpt", "azure/gpt-4o", "c", 2, 0, 2.0),
        dep("openai/*", "openai/*", "d", 0, 0, 1.0),
        dep("gpt", "gpt", "e", 0, 0, 2.0),
    };
    return fl_rt_index_new(d, 5);
}

static void
test_exact_match_in_list_order(void)
{
    fl_rt_index *index = sample_index();
    uint32_t out[5];
    size_t n = fl_rt_match(index, "gpt", 3, NULL, out);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 2);
    CHECK_EQ_INT(out[2], 4); /* model_name == model is listed once */
    n = fl_rt_match(index, "azure/gpt-4o", 12, NULL, out);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0], 2);
    fl_rt_index_free(index);
}

static void
test_wildcard_only_on_exact_miss(void)
{
    fl_rt_index *index = sample_index();
    uint32_t out[5];
    CHECK_EQ_INT(fl_rt_match(index, "openai/gpt-4o-mini", 18, NULL, out), 1);
    CHECK_EQ_INT(out[0], 3);
    /* openai/gpt-4o is an exact litellm_params.model: the wildcard is not used */
    CHECK_EQ_INT(fl_rt_match(index, "openai/gpt-4o", 13, NULL, out), 1);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(fl_rt_match(index, "mistral/x", 9, NULL, out), 0);
    fl_rt_index_free(index);
}

static void
test_blocked_by_name_model_or_id(void)
{
    fl_rt_index *index = sample_index();
    fl_rt_strset *blocked = fl_rt_strset_new(4);
    uint32_t out[5];
    CHECK(fl_rt_strset_add(blocked, "azure/gpt-4o", 12) == 0);
    CHECK(fl_rt_strset_add(blocked, "e", 1) == 0);
    CHECK(fl_rt_strset_add(blocked, "e", 1) == 0);
    size_t n = fl_rt_match(index, "gpt", 3, blocked, out);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0], 0);
    fl_rt_strset_free(blocked);
    fl_rt_index_free(index);
}

static void
test_glob(void)
{
    CHECK(fl_rt_glob("openai/*", 8, "openai/x", 8));
    CHECK(fl_rt_glob("*", 1, "", 0));
    CHECK(fl_rt_glob("a*b*c", 5, "axxbyyc", 7));
    CHECK(!fl_rt_glob("a*b*c", 5, "axxbyy", 6));
    CHECK(!fl_rt_glob("openai/*", 8, "openai", 6));
    CHECK(fl_rt_glob("a**", 3, "a", 1));
}

static void
test_shuffle_weights_then_rpm(void)
{
    fl_rt_index *index = sample_index();
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, 5) == 0);
    uint32_t found[3] = {0, 2, 4};
    fl_rt_plan_result plan = fl_rt_plan(index, NULL, FL_RT_SHUFFLE, found, 3, 0, 0, 0, &s);
    /* weight: 0, 2, 0 -> normalized 0, 1, 0 */
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_UNIFORM);
    CHECK(plan.total == 1.0);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0.0, 0), 2);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0.999, 0), 2);
    uint32_t no_weight[2] = {0, 4};
    plan = fl_rt_plan(index, NULL, FL_RT_SHUFFLE, no_weight, 2, 0, 0, 0, &s);
    /* rpm: 10, 0 */
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_UNIFORM);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0.5, 0), 0);
    uint32_t plain[2] = {1, 4};
    plan = fl_rt_plan(index, NULL, FL_RT_SHUFFLE, plain, 2, 0, 0, 0, &s);
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_BELOW);
    CHECK_EQ_INT(plan.count, 2);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 1), 4);
    fl_rt_scratch_free(&s);
    fl_rt_index_free(index);
}

static void
test_least_busy_and_loads(void)
{
    fl_rt_index *index = sample_index();
    fl_rt_loads *loads = fl_rt_loads_new(3);
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, 5) == 0);
    CHECK(fl_rt_index_bind_loads(index, loads) == 0);
    CHECK_EQ_INT(fl_rt_loads_count(loads), 0); /* bound, not touched */
    fl_rt_loads_start(loads, "a", 1);
    fl_rt_loads_start(loads, "c", 1);
    fl_rt_loads_start(loads, "c", 1);
    fl_rt_loads_end(loads, "zzz", 3); /* unknown: created, never below 0 */
    uint32_t found[3] = {0, 2, 4};
    fl_rt_plan_result plan = fl_rt_plan(index, loads, FL_RT_LEAST_BUSY, found, 3, 0, 0, 0, &s);
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_BELOW);
    CHECK_EQ_INT(plan.count, 1);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 0), 4);
    CHECK_EQ_INT(fl_rt_loads_count(loads), 3);
    const char *key;
    size_t len;
    fl_rt_load_view view;
    CHECK(fl_rt_loads_get(loads, 1, 0, &key, &len, &view) == 0);
    CHECK(len == 1 && key[0] == 'c');
    CHECK_EQ_INT(view.in_flight, 2);
    CHECK(fl_rt_loads_get(loads, 3, 0, &key, &len, &view) == -1);
    fl_rt_loads_reset(loads);
    CHECK_EQ_INT(fl_rt_loads_count(loads), 0);
    fl_rt_scratch_free(&s);
    fl_rt_loads_free(loads);
    fl_rt_index_free(index);
}

static void
test_latency_window_and_buffer(void)
{
    fl_rt_index *index = sample_index();
    fl_rt_loads *loads = fl_rt_loads_new(2);
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, 5) == 0);
    CHECK(fl_rt_index_bind_loads(index, loads) == 0);
    fl_rt_loads_record(loads, "a", 1, 9.0, FL_RT_OUTCOME_NONE, -1, 7);
    fl_rt_loads_record(loads, "a", 1, 1.0, FL_RT_OUTCOME_NONE, -1, 7);
    fl_rt_loads_record(loads, "a", 1, 1.0, FL_RT_OUTCOME_NONE, -1, 7); /* window 2: 9 dropped */
    fl_rt_loads_record(loads, "c", 1, 1.05, FL_RT_OUTCOME_NONE, -1, 7);
    fl_rt_loads_record(loads, "e", 1, 3.0, FL_RT_OUTCOME_NONE, -1, 7);
    uint32_t found[3] = {0, 2, 4};
    fl_rt_plan_result plan = fl_rt_plan(index, loads, FL_RT_LATENCY, found, 3, 0.0, 0, 7, &s);
    CHECK_EQ_INT(plan.count, 1);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 0), 0);
    plan = fl_rt_plan(index, loads, FL_RT_LATENCY, found, 3, 0.1, 0, 7, &s);
    CHECK_EQ_INT(plan.count, 2);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 1), 2);
    /* "a" has rpm 10: ten successes this minute exhaust it */
    for (int i = 0; i < 10; i++)
        fl_rt_loads_record(loads, "a", 1, -1, FL_RT_OUTCOME_SUCCESS, 5, 7);
    plan = fl_rt_plan(index, loads, FL_RT_LATENCY, found, 3, 0.0, 0, 7, &s);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 0), 2);
    /* next minute the usage is gone */
    plan = fl_rt_plan(index, loads, FL_RT_LATENCY, found, 3, 0.0, 0, 8, &s);
    CHECK_EQ_INT(fl_rt_finish(&plan, &s, 0, 0), 0);
    fl_rt_scratch_free(&s);
    fl_rt_loads_free(loads);
    fl_rt_index_free(index);
}

static void
test_cost_lowest_first_on_ties(void)
{
    fl_rt_index *index = sample_index();
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, 5) == 0);
    uint32_t found[3] = {0, 2, 4};
    fl_rt_plan_result plan = fl_rt_plan(index, NULL, FL_RT_COST, found, 3, 0, 0, 0, &s);
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_NONE);
    CHECK_EQ_INT(plan.position, 2);
    fl_rt_scratch_free(&s);
    fl_rt_index_free(index);
}

static void
test_many_deployments(void)
{
    enum { N = 3000 };
    fl_rt_deployment *d = calloc(N, sizeof(*d));
    char (*keys)[16] = calloc(N, 16);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], 16, "id-%d", i);
        d[i] = dep(i % 3 ? "big" : "other", "m", keys[i], 0, 0, (double)(N - i));
    }
    fl_rt_index *index = fl_rt_index_new(d, N);
    CHECK(index != NULL);
    uint32_t *out = malloc(N * sizeof(uint32_t));
    CHECK_EQ_INT(fl_rt_match(index, "big", 3, NULL, out), 2000);
    CHECK_EQ_INT(fl_rt_match(index, "m", 1, NULL, out), N);
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, N) == 0);
    fl_rt_plan_result plan = fl_rt_plan(index, NULL, FL_RT_COST, out, N, 0, 0, 0, &s);
    CHECK_EQ_INT(plan.position, N - 1);
    fl_rt_scratch_free(&s);
    free(out);
    fl_rt_index_free(index);
    free(keys);
    free(d);
}

static void
test_non_finite_weights_error(void)
{
    fl_rt_deployment d[2] = {dep("x", "x", "a", INFINITY, 0, 1), dep("x", "x", "b", 1, 0, 1)};
    fl_rt_index *index = fl_rt_index_new(d, 2);
    fl_rt_scratch s;
    CHECK(fl_rt_scratch_init(&s, 2) == 0);
    uint32_t found[2] = {0, 1};
    fl_rt_plan_result plan = fl_rt_plan(index, NULL, FL_RT_SHUFFLE, found, 2, 0, 0, 0, &s);
    CHECK_EQ_INT(plan.draw, FL_RT_DRAW_ERROR);
    fl_rt_scratch_free(&s);
    fl_rt_index_free(index);
}

static void
test_empty_index(void)
{
    fl_rt_index *index = fl_rt_index_new(NULL, 0);
    CHECK(index != NULL);
    uint32_t out[1];
    CHECK_EQ_INT(fl_rt_match(index, "x", 1, NULL, out), 0);
    fl_rt_index_free(index);
}

/* fl_rt_first_occurrences against a quadratic scan: keys drawn from a small
 * alphabet (many repeats), of both tags, empty ones, sizes around the
 * stack table's 64 slots and well past it. */
static void
test_first_occurrences(void)
{
    static char text[4096][8];
    static fl_rt_key keys[4096];
    static unsigned char keep[4096];
    unsigned seed = 12345;
    size_t sizes[] = {0, 1, 2, 31, 32, 33, 64, 100, 1000, 4096};
    for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        for (int alphabet = 1; alphabet <= 3; alphabet++) {
            size_t n = sizes[si];
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                size_t len = (seed >> 16) % (size_t)(alphabet == 3 ? 5 : 3);
                for (size_t j = 0; j < len; j++) {
                    seed = seed * 1103515245u + 12345u;
                    text[i][j] = (char)('a' + (seed >> 16) % (unsigned)(alphabet == 1 ? 2 : 26));
                }
                seed = seed * 1103515245u + 12345u;
                keys[i].data = text[i];
                keys[i].len = len;
                keys[i].tag = 1 + (seed >> 16) % 2;
            }
            long repeats = fl_rt_first_occurrences(keys, n, keep);
            long expected = 0;
            int same = 1;
            for (size_t i = 0; i < n; i++) {
                int first = 1;
                for (size_t j = 0; j < i && first; j++) {
                    if (keys[j].len == keys[i].len && keys[j].tag == keys[i].tag &&
                        memcmp(keys[j].data, keys[i].data, keys[i].len) == 0)
                        first = 0;
                }
                expected += !first;
                same &= keep[i] == first;
            }
            CHECK(same);
            CHECK_EQ_INT(repeats, expected);
        }
    }
    /* equal bytes under different tags are different keys */
    fl_rt_key two[2] = {{"ab", 2, 1}, {"ab", 2, 2}};
    CHECK_EQ_INT(fl_rt_first_occurrences(two, 2, keep), 0);
    CHECK(keep[0] == 1 && keep[1] == 1);
}

int
main(void)
{
    static const check_case cases[] = {
        CASE(test_exact_match_in_list_order), CASE(test_wildcard_only_on_exact_miss),
        CASE(test_blocked_by_name_model_or_id), CASE(test_glob),
        CASE(test_shuffle_weights_then_rpm), CASE(test_least_busy_and_loads),
        CASE(test_latency_window_and_buffer), CASE(test_cost_lowest_first_on_ties),
        CASE(test_many_deployments), CASE(test_non_finite_weights_error),
        CASE(test_empty_index), CASE(test_first_occurrences),
    };
    RUN_TESTS(cases);
}
