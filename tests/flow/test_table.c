/* tests/flow/test_table.c: the shard's flow table (flow/table.h).
 *
 * Deterministic cases for insert/find/remove, the max_flows bound, growth
 * and the per-class idle lists, plus long seeded random sequences checked
 * against a plain reference model. Collisions are forced by choosing keys
 * whose hashes share their low 16 bits: they share a home slot in any index
 * of up to 65536 slots, whatever size the table starts at.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "flow/table.h"
#include "testutil.h"

/* Key number i (distinct for i < 2^24): 10.i.i.i:1234 <-> 192.168.0.1:80. */
/* Every flow in use, in index order (what np_flow_table_next() walks). */
static void table_list(const struct np_flow_table *t, uint32_t *out)
{
    size_t n = 0;
    for (uint32_t i = np_flow_table_next(t, 0); i != NP_FLOW_NONE; i = np_flow_table_next(t, i + 1))
        out[n++] = i;
}

static struct np_flow_key key_of(uint32_t i)
{
    const uint8_t src[16] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
    const uint8_t dst[16] = { 192, 168, 0, 1 };
    struct np_flow_key k;
    np_flow_key_make(&k, 4, 6, 0xffff, src, 1234, dst, 80);
    return k;
}

static uint64_t hash_of(const struct np_flow_key *k)
{
    return np_flow_key_hash(k);
}

/* Next key number from *next on whose hash's low 16 bits are home16. */
static uint32_t key_with_home(uint32_t home16, uint32_t *next)
{
    for (;; (*next)++) {
        assert_true(*next < (1u << 24));
        struct np_flow_key k = key_of(*next);
        if ((hash_of(&k) & 0xffff) == home16)
            return (*next)++;
    }
}

static struct np_flow_table *table_new(uint32_t max_flows)
{
    struct np_err err = { 0 };
    struct np_flow_table *t = np_flow_table_create(max_flows, &err);
    assert_non_null(t);
    return t;
}

static uint32_t insert_key(struct np_flow_table *t, uint32_t i, enum np_flow_class cls)
{
    struct np_flow_key k = key_of(i);
    return np_flow_table_insert(t, &k, hash_of(&k), cls);
}

static uint32_t find_key(const struct np_flow_table *t, uint32_t i)
{
    struct np_flow_key k = key_of(i);
    return np_flow_table_find(t, &k, hash_of(&k));
}

/* The flows of class cls from oldest to newest, following lru_next. */
static size_t walk_lru(struct np_flow_table *t, enum np_flow_class cls, uint32_t *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = np_flow_table_oldest(t, cls); i != NP_FLOW_NONE;
         i = np_flow_table_at(t, i)->lru_next) {
        assert_true(n < cap); /* more than there can be: a cycle */
        out[n++] = i;
    }
    return n;
}

static void create_gives_an_empty_table_and_destroy_accepts_null(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(100);

    assert_int_equal(np_flow_table_count(t), 0);
    assert_int_equal(find_key(t, 1), NP_FLOW_NONE);
    for (int c = 0; c < NP_FLOW_CLASSES; c++)
        assert_int_equal(np_flow_table_oldest(t, (enum np_flow_class)c), NP_FLOW_NONE);
    assert_true(np_flow_table_mem_bytes(t) > 0);
    np_flow_table_destroy(t);
    np_flow_table_destroy(NULL);
}

static void inserted_flow_is_found_zeroed_with_its_key(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(100);
    struct np_flow_key k = key_of(7);
    uint32_t idx = np_flow_table_insert(t, &k, hash_of(&k), NP_FLOW_CLASS_UDP);

    assert_int_not_equal(idx, NP_FLOW_NONE);
    assert_int_equal(np_flow_table_count(t), 1);
    assert_int_equal(np_flow_table_find(t, &k, hash_of(&k)), idx);
    struct np_flow *f = np_flow_table_at(t, idx);
    assert_true(np_flow_key_eq(&f->key, &k));
    assert_int_equal(f->id, 0);
    assert_int_equal(f->first_ns, 0);
    assert_int_equal(f->last_ns, 0);
    assert_int_equal(f->bytes[0] | f->bytes[1] | f->cap_bytes[0] | f->cap_bytes[1], 0);
    assert_int_equal(f->pkts[0] | f->pkts[1], 0);
    assert_int_equal(f->tcp_flags[0] | f->tcp_flags[1] | f->client | f->state, 0);
    assert_int_equal(find_key(t, 8), NP_FLOW_NONE);
    np_flow_table_destroy(t);
}

static void removed_flow_is_no_longer_found(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(100);
    uint32_t a = insert_key(t, 1, NP_FLOW_CLASS_TCP);
    uint32_t b = insert_key(t, 2, NP_FLOW_CLASS_TCP);

    np_flow_table_remove(t, a);
    assert_int_equal(find_key(t, 1), NP_FLOW_NONE);
    assert_int_equal(find_key(t, 2), b);
    assert_int_equal(np_flow_table_count(t), 1);
    np_flow_table_remove(t, b);
    assert_int_equal(find_key(t, 2), NP_FLOW_NONE);
    assert_int_equal(np_flow_table_count(t), 0);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
    np_flow_table_destroy(t);
}

static void a_reused_entry_is_zeroed_again(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(1); /* one entry: the second insert must reuse it */
    uint32_t a = insert_key(t, 1, NP_FLOW_CLASS_TCP);
    struct np_flow *f = np_flow_table_at(t, a);
    f->pkts[0] = 9;
    f->bytes[1] = 99;
    f->state = NP_FS_FIN_A;
    f->last_ns = 5;
    np_flow_table_remove(t, a);

    uint32_t b = insert_key(t, 2, NP_FLOW_CLASS_UDP);
    assert_int_not_equal(b, NP_FLOW_NONE);
    f = np_flow_table_at(t, b);
    struct np_flow_key k = key_of(2);
    assert_true(np_flow_key_eq(&f->key, &k));
    assert_int_equal(f->pkts[0], 0);
    assert_int_equal(f->bytes[1], 0);
    assert_int_equal(f->state, 0);
    assert_int_equal(f->last_ns, 0);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_UDP), b);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
    np_flow_table_destroy(t);
}

/* Every key in keys[0..n) with live[i] set is found at idx[i]; the others are not found. */
static void check_found(const struct np_flow_table *t, const uint32_t *keys, const uint32_t *idx,
                        const bool *live, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t got = find_key(t, keys[i]);
        if (got != (live[i] ? idx[i] : NP_FLOW_NONE))
            fail_msg("key %u (live %d): found %u, want %u", keys[i], live[i], got,
                     live[i] ? idx[i] : NP_FLOW_NONE);
    }
}

/* Inserts keys (homes given), then removes them in a random order, checking
 * after each removal that every remaining one is still found. */
static void insert_then_remove_in_random_orders(const uint32_t *homes, size_t n_homes,
                                                size_t per_home, uint64_t seed)
{
    size_t n = n_homes * per_home;
    uint32_t *keys = calloc(n, sizeof(*keys)), *idx = calloc(n, sizeof(*idx));
    uint32_t *order = calloc(n, sizeof(*order));
    bool *live = calloc(n, sizeof(*live));
    assert_true(keys && idx && order && live);
    uint32_t next = 0;
    /* Interleave homes so each run mixes entries of several home slots. */
    for (size_t j = 0; j < per_home; j++)
        for (size_t h = 0; h < n_homes; h++)
            keys[j * n_homes + h] = key_with_home(homes[h], &next);

    rng_seed(seed);
    for (int round = 0; round < 30; round++) {
        struct np_flow_table *t = table_new(1000);
        for (size_t i = 0; i < n; i++) {
            idx[i] = insert_key(t, keys[i], NP_FLOW_CLASS_TCP);
            assert_int_not_equal(idx[i], NP_FLOW_NONE);
            live[i] = true;
        }
        check_found(t, keys, idx, live, n);
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        if (round == 1) { /* newest first */
            for (size_t i = 0; i < n; i++)
                order[i] = (uint32_t)(n - 1 - i);
        } else if (round > 1) {
            for (size_t i = n - 1; i > 0; i--) {
                size_t j = rng_below((uint32_t)i + 1);
                uint32_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        for (size_t r = 0; r < n; r++) {
            np_flow_table_remove(t, idx[order[r]]);
            live[order[r]] = false;
            check_found(t, keys, idx, live, n);
            assert_int_equal(np_flow_table_count(t), n - r - 1);
        }
        np_flow_table_destroy(t);
    }
    free(keys);
    free(idx);
    free(order);
    free(live);
}

static void removal_keeps_colliding_flows_findable(void **state)
{
    (void)state;
    const uint32_t homes[] = { 0x1234, 0x1235, 0x1236, 0x1234 + 40 };
    insert_then_remove_in_random_orders(homes, 4, 16, 21);
}

static void removal_keeps_flows_findable_when_their_run_wraps_around_the_index(void **state)
{
    (void)state;
    const uint32_t homes[] = { 0xfffd, 0xffff, 0x0000, 0x0001, 0xfffe };
    insert_then_remove_in_random_orders(homes, 5, 12, 22);
}

static void many_flows_sharing_one_home_slot_stay_findable(void **state)
{
    (void)state;
    const uint32_t homes[] = { 0x0abc };
    insert_then_remove_in_random_orders(homes, 1, 48, 23);
}

/* ---- random operations against a reference model ---- */

struct model {
    struct np_flow_table *t;
    const uint32_t *keys; /* key numbers of the universe */
    uint32_t n_keys;
    uint32_t max_flows;
    uint32_t *idx_of;  /* per universe key: table index or NP_FLOW_NONE */
    uint64_t *tick_of; /* per universe key: when last inserted or touched */
    uint32_t *owner;   /* per table index: universe key, or NP_FLOW_NONE */
    uint32_t *live;    /* universe keys in the table, unordered */
    uint32_t *pos;     /* per universe key: its place in live[] */
    uint32_t n_live;
    uint64_t tick;
    uint32_t *scratch, *scratch2;
};

static enum np_flow_class class_of_key(uint32_t u)
{
    return (enum np_flow_class)(u % NP_FLOW_CLASSES);
}

static void model_init(struct model *m, const uint32_t *keys, uint32_t n_keys, uint32_t max_flows)
{
    memset(m, 0, sizeof(*m));
    m->t = table_new(max_flows);
    m->keys = keys;
    m->n_keys = n_keys;
    m->max_flows = max_flows;
    m->idx_of = malloc(n_keys * sizeof(uint32_t));
    m->tick_of = calloc(n_keys, sizeof(uint64_t));
    m->owner = malloc(max_flows * sizeof(uint32_t));
    m->live = malloc(n_keys * sizeof(uint32_t));
    m->pos = malloc(n_keys * sizeof(uint32_t));
    m->scratch = malloc((size_t)(max_flows + 1) * sizeof(uint32_t));
    m->scratch2 = malloc((size_t)(max_flows + 1) * sizeof(uint32_t));
    assert_true(m->idx_of && m->tick_of && m->owner && m->live && m->pos && m->scratch &&
                m->scratch2);
    for (uint32_t u = 0; u < n_keys; u++)
        m->idx_of[u] = NP_FLOW_NONE;
    for (uint32_t i = 0; i < max_flows; i++)
        m->owner[i] = NP_FLOW_NONE;
}

static void model_fini(struct model *m)
{
    np_flow_table_destroy(m->t);
    free(m->idx_of);
    free(m->tick_of);
    free(m->owner);
    free(m->live);
    free(m->pos);
    free(m->scratch);
    free(m->scratch2);
}

/* A value stored in each flow that must survive pool growth and moves. */
static uint64_t marker(uint32_t u)
{
    return 0x5eed000000000000ull | u;
}

static void model_insert(struct model *m, uint32_t u)
{
    if (m->idx_of[u] != NP_FLOW_NONE) {
        assert_int_equal(find_key(m->t, m->keys[u]), m->idx_of[u]);
        return;
    }
    uint32_t idx = insert_key(m->t, m->keys[u], class_of_key(u));
    if (m->n_live == m->max_flows) {
        assert_int_equal(idx, NP_FLOW_NONE);
        return;
    }
    assert_int_not_equal(idx, NP_FLOW_NONE);
    assert_true(idx < m->max_flows);
    assert_int_equal(m->owner[idx], NP_FLOW_NONE); /* not handed out twice */
    struct np_flow *f = np_flow_table_at(m->t, idx);
    struct np_flow_key k = key_of(m->keys[u]);
    assert_true(np_flow_key_eq(&f->key, &k));
    assert_int_equal(f->first_ns, 0);
    f->first_ns = marker(u);
    m->owner[idx] = u;
    m->idx_of[u] = idx;
    m->tick_of[u] = ++m->tick;
    m->pos[u] = m->n_live;
    m->live[m->n_live++] = u;
}

static void model_remove(struct model *m, uint32_t u)
{
    uint32_t idx = m->idx_of[u];
    np_flow_table_remove(m->t, idx);
    m->owner[idx] = NP_FLOW_NONE;
    m->idx_of[u] = NP_FLOW_NONE;
    uint32_t last = m->live[--m->n_live];
    m->live[m->pos[u]] = last;
    m->pos[last] = m->pos[u];
}

static void model_touch(struct model *m, uint32_t u)
{
    np_flow_table_touch(m->t, m->idx_of[u]);
    m->tick_of[u] = ++m->tick;
}

static void model_check_find(const struct model *m, uint32_t u)
{
    uint32_t got = find_key(m->t, m->keys[u]);
    if (got != m->idx_of[u])
        fail_msg("key %u: table finds %u, model has %u", u, got, m->idx_of[u]);
}

static const struct model *sort_model;

static int by_tick(const void *a, const void *b)
{
    uint64_t ta = sort_model->tick_of[sort_model->owner[*(const uint32_t *)a]];
    uint64_t tb = sort_model->tick_of[sort_model->owner[*(const uint32_t *)b]];
    return ta < tb ? -1 : ta > tb;
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Compares everything the table shows with the model. */
static void model_check_all(struct model *m)
{
    assert_int_equal(np_flow_table_count(m->t), m->n_live);
    for (uint32_t u = 0; u < m->n_keys; u++) {
        model_check_find(m, u);
        if (m->idx_of[u] != NP_FLOW_NONE)
            assert_true(np_flow_table_at(m->t, m->idx_of[u])->first_ns == marker(u));
    }

    /* np_flow_table_next: exactly the live indices, each once. */
    table_list(m->t, m->scratch);
    for (uint32_t i = 0; i < m->n_live; i++)
        m->scratch2[i] = m->idx_of[m->live[i]];
    qsort(m->scratch, m->n_live, sizeof(uint32_t), by_value);
    qsort(m->scratch2, m->n_live, sizeof(uint32_t), by_value);
    assert_memory_equal(m->scratch, m->scratch2, m->n_live * sizeof(uint32_t));

    /* Each class's idle list: its live flows, least recently touched first. */
    for (int c = 0; c < NP_FLOW_CLASSES; c++) {
        size_t n = walk_lru(m->t, (enum np_flow_class)c, m->scratch, m->max_flows + 1);
        size_t want = 0;
        for (uint32_t i = 0; i < m->n_live; i++)
            if (class_of_key(m->live[i]) == (enum np_flow_class)c)
                m->scratch2[want++] = m->idx_of[m->live[i]];
        sort_model = m;
        qsort(m->scratch2, want, sizeof(uint32_t), by_tick);
        assert_int_equal(n, want);
        assert_memory_equal(m->scratch, m->scratch2, n * sizeof(uint32_t));
    }
}

/* Percentages of operations that insert a random key and remove a random
 * live flow; of the rest, 15 touch a live flow and the others find a key. */
struct mix {
    unsigned insert_pct, remove_pct;
};

/* n_ops random operations: the first half with mix a, the second with b. */
static void model_run(struct model *m, uint32_t n_ops, uint64_t seed, struct mix a, struct mix b,
                      uint32_t check_every)
{
    rng_seed(seed);
    uint32_t peak = 0;
    for (uint32_t op = 0; op < n_ops; op++) {
        struct mix x = op < n_ops / 2 ? a : b;
        unsigned r = rng_below(100);
        if (r < x.insert_pct) {
            model_insert(m, rng_below(m->n_keys));
        } else if (r < x.insert_pct + x.remove_pct + 15 && m->n_live > 0) {
            uint32_t u = m->live[rng_below(m->n_live)];
            if (r < x.insert_pct + x.remove_pct)
                model_remove(m, u);
            else
                model_touch(m, u);
        } else {
            model_check_find(m, rng_below(m->n_keys));
        }
        if (m->n_live > peak)
            peak = m->n_live;
        if (op % check_every == 0)
            model_check_all(m);
    }
    model_check_all(m);
    assert_true(peak > 0);

    /* Empty it, then fill it again: every freed entry is usable. */
    while (m->n_live > 0)
        model_remove(m, m->live[m->n_live - 1]);
    model_check_all(m);
    for (int c = 0; c < NP_FLOW_CLASSES; c++)
        assert_int_equal(np_flow_table_oldest(m->t, (enum np_flow_class)c), NP_FLOW_NONE);
    for (uint32_t u = 0; u < m->n_keys; u++)
        model_insert(m, u);
    model_check_all(m);
}

static void random_operations_on_a_growing_table_agree_with_a_reference_model(void **state)
{
    (void)state;
    enum {
        U = 5000
    };
    uint32_t *keys = malloc(U * sizeof(*keys));
    assert_non_null(keys);
    for (uint32_t u = 0; u < U; u++)
        keys[u] = u * 7919u; /* spread over the key space */
    struct model m;
    model_init(&m, keys, U, 1u << 16);
    /* About 70% of the universe is live in the first half: past 1024 entries,
     * so pool and index grow. */
    model_run(&m, 200000, 31, (struct mix){ 55, 15 }, (struct mix){ 10, 60 }, 2000);
    model_fini(&m);
    free(keys);
}

static void random_operations_on_clustered_keys_agree_with_a_reference_model(void **state)
{
    (void)state;
    enum {
        U = 600
    };
    uint32_t *keys = malloc(U * sizeof(*keys));
    assert_non_null(keys);
    /* All homes within 32 slots that wrap around the end of the index, so
     * nearly every probe run is long and crosses the end. */
    uint32_t next = 0;
    for (uint32_t u = 0; u < U; u++) {
        for (;; next++) {
            struct np_flow_key k = key_of(next);
            uint32_t h = (uint32_t)hash_of(&k) & 0xffff;
            if (h >= 0xfff0 || h < 0x0010)
                break;
        }
        keys[u] = next++;
    }
    struct model m;
    model_init(&m, keys, U, 1u << 12);
    model_run(&m, 200000, 32, (struct mix){ 55, 15 }, (struct mix){ 10, 60 }, 5000);
    model_fini(&m);
    free(keys);
}

static void random_operations_at_the_max_flows_bound_agree_with_a_reference_model(void **state)
{
    (void)state;
    enum {
        U = 3000
    };
    uint32_t *keys = malloc(U * sizeof(*keys));
    assert_non_null(keys);
    for (uint32_t u = 0; u < U; u++)
        keys[u] = u;
    struct model m;
    model_init(&m, keys, U, 1500); /* inserts often hit the bound */
    model_run(&m, 100000, 33, (struct mix){ 70, 15 }, (struct mix){ 70, 15 }, 2500);
    assert_int_equal(np_flow_table_count(m.t), 1500);
    model_fini(&m);
    free(keys);
}

/* ---- bounds and growth ---- */

static void insert_past_max_flows_returns_none_until_a_flow_is_removed(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(10);
    uint32_t idx[10];
    for (uint32_t i = 0; i < 10; i++) {
        idx[i] = insert_key(t, i, NP_FLOW_CLASS_TCP);
        assert_int_not_equal(idx[i], NP_FLOW_NONE);
    }
    assert_int_equal(insert_key(t, 10, NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
    assert_int_equal(insert_key(t, 11, NP_FLOW_CLASS_UDP), NP_FLOW_NONE);
    assert_int_equal(np_flow_table_count(t), 10);
    assert_int_equal(find_key(t, 10), NP_FLOW_NONE);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(find_key(t, i), idx[i]);

    np_flow_table_remove(t, idx[3]);
    uint32_t again = insert_key(t, 10, NP_FLOW_CLASS_TCP);
    assert_int_not_equal(again, NP_FLOW_NONE);
    assert_int_equal(find_key(t, 10), again);
    assert_int_equal(insert_key(t, 12, NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
    np_flow_table_destroy(t);
}

static void a_bound_that_is_not_a_power_of_two_is_reached_exactly(void **state)
{
    (void)state;
    static const uint32_t bounds[] = { 1, 1023, 1024, 1025, 1500, 3072 };
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        struct np_flow_table *t = table_new(bounds[b]);
        for (uint32_t i = 0; i < bounds[b]; i++)
            assert_int_not_equal(insert_key(t, i, (enum np_flow_class)(i % 4)), NP_FLOW_NONE);
        assert_int_equal(insert_key(t, bounds[b], NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
        assert_int_equal(np_flow_table_count(t), bounds[b]);
        for (uint32_t i = 0; i < bounds[b]; i++) {
            uint32_t idx = find_key(t, i);
            assert_true(idx < bounds[b]);
        }
        np_flow_table_destroy(t);
    }
}

static void growth_past_the_initial_size_keeps_indexes_and_contents(void **state)
{
    (void)state;
    enum {
        N = 300000
    };
    struct np_flow_table *t = table_new(1u << 20);
    size_t mem0 = np_flow_table_mem_bytes(t);
    uint32_t *idx = malloc(N * sizeof(*idx));
    assert_non_null(idx);

    for (uint32_t i = 0; i < N; i++) {
        idx[i] = insert_key(t, i, (enum np_flow_class)(i % NP_FLOW_CLASSES));
        assert_int_not_equal(idx[i], NP_FLOW_NONE);
        struct np_flow *f = np_flow_table_at(t, idx[i]);
        f->last_ns = 7ull * i + 1;
        f->pkts[1] = i;
        /* An early flow is still where it was, with its contents. */
        if (i % 1000 == 0) {
            assert_int_equal(find_key(t, 0), idx[0]);
            assert_true(np_flow_table_at(t, idx[0])->last_ns == 1);
        }
    }
    assert_int_equal(np_flow_table_count(t), N);
    assert_true(np_flow_table_mem_bytes(t) >= (size_t)N * sizeof(struct np_flow));
    assert_true(np_flow_table_mem_bytes(t) > mem0);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(find_key(t, i), idx[i]);
        struct np_flow *f = np_flow_table_at(t, idx[i]);
        struct np_flow_key k = key_of(i);
        assert_true(np_flow_key_eq(&f->key, &k));
        assert_true(f->last_ns == 7ull * i + 1);
        assert_int_equal(f->pkts[1], i);
    }

    /* Remove every other flow; the rest stay where they are. */
    for (uint32_t i = 0; i < N; i += 2)
        np_flow_table_remove(t, idx[i]);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(find_key(t, i), i % 2 ? idx[i] : NP_FLOW_NONE);
    assert_int_equal(np_flow_table_count(t), N / 2);
    np_flow_table_destroy(t);
    free(idx);
}

/* ---- idle lists ---- */

static void oldest_is_the_least_recently_touched_flow_of_each_class(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(100);
    uint32_t a = insert_key(t, 1, NP_FLOW_CLASS_TCP);
    uint32_t u = insert_key(t, 2, NP_FLOW_CLASS_UDP);
    uint32_t b = insert_key(t, 3, NP_FLOW_CLASS_TCP);
    uint32_t c = insert_key(t, 4, NP_FLOW_CLASS_TCP);
    uint32_t o = insert_key(t, 5, NP_FLOW_CLASS_OTHER);
    uint32_t order[8];

    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), a);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_UDP), u);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_ICMP), NP_FLOW_NONE);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_OTHER), o);
    assert_int_equal(walk_lru(t, NP_FLOW_CLASS_TCP, order, 8), 3);
    assert_int_equal(order[0], a);
    assert_int_equal(order[1], b);
    assert_int_equal(order[2], c);

    np_flow_table_touch(t, a); /* b c a */
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), b);
    np_flow_table_touch(t, a); /* already newest: b c a */
    np_flow_table_touch(t, c); /* b a c */
    assert_int_equal(walk_lru(t, NP_FLOW_CLASS_TCP, order, 8), 3);
    assert_int_equal(order[0], b);
    assert_int_equal(order[1], a);
    assert_int_equal(order[2], c);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_UDP), u); /* other classes untouched */

    np_flow_table_remove(t, b); /* a c */
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), a);
    np_flow_table_remove(t, c); /* a: removing the newest */
    assert_int_equal(walk_lru(t, NP_FLOW_CLASS_TCP, order, 8), 1);
    assert_int_equal(order[0], a);
    uint32_t d = insert_key(t, 6, NP_FLOW_CLASS_TCP); /* a d */
    assert_int_equal(walk_lru(t, NP_FLOW_CLASS_TCP, order, 8), 2);
    assert_int_equal(order[0], a);
    assert_int_equal(order[1], d);
    np_flow_table_remove(t, a);
    np_flow_table_remove(t, d);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_TCP), NP_FLOW_NONE);
    assert_int_equal(np_flow_table_oldest(t, NP_FLOW_CLASS_UDP), u);
    np_flow_table_destroy(t);
}

static void touch_of_the_only_flow_keeps_it_oldest(void **state)
{
    (void)state;
    struct np_flow_table *t = table_new(10);
    uint32_t a = insert_key(t, 1, NP_FLOW_CLASS_ICMP);
    np_flow_table_touch(t, a);
    np_flow_table_touch(t, a);
    uint32_t order[4];

    assert_int_equal(walk_lru(t, NP_FLOW_CLASS_ICMP, order, 4), 1);
    assert_int_equal(order[0], a);
    np_flow_table_destroy(t);
}

static void list_gives_exactly_the_live_flows_of_every_class(void **state)
{
    (void)state;
    enum {
        N = 2000
    };
    struct np_flow_table *t = table_new(N);
    static uint32_t idx[N], out[N];
    static bool listed[N];
    for (uint32_t i = 0; i < N; i++)
        idx[i] = insert_key(t, i, (enum np_flow_class)(i % NP_FLOW_CLASSES));
    for (uint32_t i = 0; i < N; i += 3)
        np_flow_table_remove(t, idx[i]);
    uint32_t n = np_flow_table_count(t);
    assert_int_equal(n, N - (N + 2) / 3);

    memset(out, 0xff, sizeof(out));
    table_list(t, out);
    memset(listed, 0, sizeof(listed));
    for (uint32_t j = 0; j < n; j++) {
        assert_true(out[j] < N);
        assert_false(listed[out[j]]); /* each once */
        listed[out[j]] = true;
    }
    assert_int_equal(out[n], UINT32_MAX); /* nothing written past count */
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(listed[idx[i]], i % 3 != 0);
    np_flow_table_destroy(t);
}

static void class_of_maps_protocols_to_timeout_classes(void **state)
{
    (void)state;
    assert_int_equal(np_flow_class_of(6), NP_FLOW_CLASS_TCP);
    assert_int_equal(np_flow_class_of(17), NP_FLOW_CLASS_UDP);
    assert_int_equal(np_flow_class_of(1), NP_FLOW_CLASS_ICMP);
    assert_int_equal(np_flow_class_of(58), NP_FLOW_CLASS_ICMP);
    assert_int_equal(np_flow_class_of(0), NP_FLOW_CLASS_OTHER);
    assert_int_equal(np_flow_class_of(47), NP_FLOW_CLASS_OTHER);
    assert_int_equal(np_flow_class_of(132), NP_FLOW_CLASS_OTHER);
    assert_int_equal(np_flow_class_of(255), NP_FLOW_CLASS_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_gives_an_empty_table_and_destroy_accepts_null),
        cmocka_unit_test(inserted_flow_is_found_zeroed_with_its_key),
        cmocka_unit_test(removed_flow_is_no_longer_found),
        cmocka_unit_test(a_reused_entry_is_zeroed_again),
        cmocka_unit_test(removal_keeps_colliding_flows_findable),
        cmocka_unit_test(removal_keeps_flows_findable_when_their_run_wraps_around_the_index),
        cmocka_unit_test(many_flows_sharing_one_home_slot_stay_findable),
        cmocka_unit_test(random_operations_on_a_growing_table_agree_with_a_reference_model),
        cmocka_unit_test(random_operations_on_clustered_keys_agree_with_a_reference_model),
        cmocka_unit_test(random_operations_at_the_max_flows_bound_agree_with_a_reference_model),
        cmocka_unit_test(insert_past_max_flows_returns_none_until_a_flow_is_removed),
        cmocka_unit_test(a_bound_that_is_not_a_power_of_two_is_reached_exactly),
        cmocka_unit_test(growth_past_the_initial_size_keeps_indexes_and_contents),
        cmocka_unit_test(oldest_is_the_least_recently_touched_flow_of_each_class),
        cmocka_unit_test(touch_of_the_only_flow_keeps_it_oldest),
        cmocka_unit_test(list_gives_exactly_the_live_flows_of_every_class),
        cmocka_unit_test(class_of_maps_protocols_to_timeout_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
