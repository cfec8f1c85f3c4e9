/*
 * router.h - C core of the seed router (fast_litellm.AdvancedRouter).
 *
 * An index is a model list compiled once: every deployment's names and
 * numbers, a hash table from each exact name (model_name and
 * litellm_params.model) to the positions serving it in list order, and
 * the positions whose model_name is a wildcard pattern.  Matching a model
 * is then one hash probe; only when no exact name matches are the
 * wildcard patterns tried.
 *
 * Loads (requests in flight, a latency window, per-minute usage) live in
 * a separate table owned by one router, keyed by deployment key; an index
 * resolves its deployments' load slots once (fl_rt_index_bind_loads), so
 * a pick reads loads by array position.  The load table has its own
 * mutex, so callers may run without any outer lock.
 *
 * Picking needs Python's `random` (to stay identical to the pure-Python
 * twin and to LiteLLM), so a pick is planned here and finished by the
 * caller: fl_rt_plan says which draw it needs (none, a uniform float
 * scaled by a total, or an integer below n) and fl_rt_finish turns the
 * draw into a position.  No Python.h here.
 */
#ifndef FL_ROUTER_H
#define FL_ROUTER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FL_RT_SHUFFLE = 0,
    FL_RT_LEAST_BUSY = 1,
    FL_RT_LATENCY = 2,
    FL_RT_COST = 3,
    FL_RT_STRATEGY_COUNT
} fl_rt_strategy;

/* One deployment as the caller read it (strings need not be NUL-terminated). */
typedef struct {
    const char *model_name;
    size_t model_name_len;
    const char *model;
    size_t model_len;
    const char *key; /* model_info.id, or a key made without one */
    size_t key_len;
    int has_id;      /* key is the real id (so blocking by id applies) */
    double weight, rpm, tpm;        /* 0 when unset */
    double rpm_limit, tpm_limit;    /* INFINITY when unlimited */
    double cost;                    /* input + output per-token price */
} fl_rt_deployment;

typedef struct fl_rt_index fl_rt_index;
typedef struct fl_rt_loads fl_rt_loads;

/* Build an index of n deployments (strings are copied). NULL on no memory. */
fl_rt_index *fl_rt_index_new(const fl_rt_deployment *deployments, size_t n);
void fl_rt_index_free(fl_rt_index *index);
size_t fl_rt_index_size(const fl_rt_index *index);

/* A set of blocked names (model_name, litellm_params.model or id). */
typedef struct fl_rt_strset fl_rt_strset;
fl_rt_strset *fl_rt_strset_new(size_t capacity_hint);
int fl_rt_strset_add(fl_rt_strset *set, const char *s, size_t len); /* 0, or -1 on no memory */
void fl_rt_strset_free(fl_rt_strset *set);

/* Positions serving `model`, minus blocked ones, in list order, into out
 * (room for fl_rt_index_size entries).  Returns how many. */
size_t fl_rt_match(const fl_rt_index *index, const char *model, size_t len,
                   const fl_rt_strset *blocked, uint32_t *out);

/* `*` matches any run of bytes; everything else matches itself. */
int fl_rt_glob(const char *pattern, size_t plen, const char *text, size_t tlen);

/* ---- loads ------------------------------------------------------------ */

fl_rt_loads *fl_rt_loads_new(int window);
void fl_rt_loads_free(fl_rt_loads *loads);
/* Forget every load (slots stay valid). */
void fl_rt_loads_reset(fl_rt_loads *loads);
/* Resolve the index's deployments to load slots of `loads` (creating them). 0 or -1. */
int fl_rt_index_bind_loads(fl_rt_index *index, fl_rt_loads *loads);

typedef enum { FL_RT_OUTCOME_NONE = -1, FL_RT_OUTCOME_FAILURE = 0, FL_RT_OUTCOME_SUCCESS = 1 } fl_rt_outcome;

int fl_rt_loads_start(fl_rt_loads *loads, const char *key, size_t len);
int fl_rt_loads_end(fl_rt_loads *loads, const char *key, size_t len);
/* latency < 0: none; tokens < 0: none. */
int fl_rt_loads_record(fl_rt_loads *loads, const char *key, size_t len, double latency,
                       fl_rt_outcome outcome, double tokens, int64_t minute);

typedef struct {
    int64_t in_flight;
    double mean_latency;
    int latency_samples;
    int64_t successes, failures;
    double rpm_used, tpm_used;
} fl_rt_load_view;

size_t fl_rt_loads_count(fl_rt_loads *loads);
/* The i-th load (in creation order): its key and a view at `minute`. 0, or -1 past the end. */
int fl_rt_loads_get(fl_rt_loads *loads, size_t i, int64_t minute, const char **key, size_t *key_len,
                    fl_rt_load_view *view);

/* ---- picking ---------------------------------------------------------- */

typedef enum {
    FL_RT_DRAW_NONE = 0,     /* plan.position is the pick (or -1: nothing) */
    FL_RT_DRAW_UNIFORM = 1,  /* finish with random.random(); plan.total scales it */
    FL_RT_DRAW_BELOW = 2,    /* finish with random.randrange(plan.count) */
    FL_RT_DRAW_ERROR = 3     /* weights whose total is not finite (ValueError) */
} fl_rt_draw;

typedef struct {
    fl_rt_draw draw;
    long position;   /* for FL_RT_DRAW_NONE */
    size_t count;    /* positions drawn among (plan->pool[0..count)) */
    double total;    /* for FL_RT_DRAW_UNIFORM */
} fl_rt_plan_result;

/* Scratch space for one pick over at most `capacity` candidates. */
typedef struct {
    size_t capacity;
    uint32_t *pool;
    double *cum;
    double *value;
} fl_rt_scratch;

int fl_rt_scratch_init(fl_rt_scratch *s, size_t capacity);
void fl_rt_scratch_free(fl_rt_scratch *s);

/* Plan a pick among candidates found[0..n) (n >= 1). */
fl_rt_plan_result fl_rt_plan(const fl_rt_index *index, fl_rt_loads *loads, fl_rt_strategy strategy,
                             const uint32_t *found, size_t n, double latency_buffer,
                             double input_tokens, int64_t minute, fl_rt_scratch *scratch);

/* The position a draw picks: u in [0,1) for UNIFORM, k < count for BELOW. */
long fl_rt_finish(const fl_rt_plan_result *plan, const fl_rt_scratch *scratch, double u, size_t k);

/* ---- first occurrences ------------------------------------------------ */

/* A key compared by content: `len` bytes at `data`, and a `tag` that must
 * be equal too (the binding passes a str's storage kind: two strings of
 * different kinds are never equal, even when their bytes are). */
typedef struct {
    const void *data;
    size_t len;
    unsigned tag;
} fl_rt_key;

/* keep[i] = 1 when no key before i is equal to keys[i] (its first
 * occurrence), else 0: what `dict.fromkeys(keys)` keeps, in order.  Returns
 * how many keys were repeats (0: every keep[i] is 1), or -1 when memory for
 * the table could not be had (keep is then unspecified).  n < 2**31. */
long fl_rt_first_occurrences(const fl_rt_key *keys, size_t n, unsigned char *keep);

#endif /* FL_ROUTER_H */
