/* flow/table.c: the shard's flow table.
 *
 * Pool: one struct np_flow array mapped for max_flows at creation (core/mem.h:
 * huge pages, no reservation), whose pages become real only as entries are
 * first handed out, in order; unused entries sit
 * on a free list threaded through lru_next. Index: power-of-two array of
 * (low 32 bits of the hash, entry index + 1) slots, home slot from those
 * bits, with linear probing and backward-shift
 * deletion (no tombstones), kept at most half full so probes stay short.
 * Bytes per flow: 128 (entry) + 16 (two index slots at the worst load) = 144.
 */
#include "flow/table.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

_Static_assert(sizeof(struct np_flow) <= 128, "flow entry grew");

struct slot {
    uint32_t hash; /* low 32 bits of the key hash */
    uint32_t idx1; /* entry index + 1; 0 = empty */
};

struct lru {
    uint32_t head, tail;
};

struct np_flow_table {
    struct np_flow *pool; /* owned mapping; max_flows entries */
    uint32_t max_flows;
    uint32_t n;         /* flows in use */
    uint32_t free_head; /* free list through lru_next */
    uint32_t used_hwm;  /* entries [0, used_hwm) were handed out at least once */
    uint32_t peak_hwm;  /* the largest used_hwm, across resets */
    struct slot *slots; /* owned; mask + 1 slots */
    uint32_t mask;
    struct lru lru[NP_FLOW_CLASSES];
    uint8_t *cls; /* owned; class of each entry (kept out of the 128-byte entry) */
};

#define CLS_FREE 0xffu /* cls[] of an entry on the free list */
/* Index slots start at twice this (512 KiB): small enough for a tiny
 * capture, large enough to skip five rehashes on a busy one. */
#define INITIAL_FLOWS 32768u

enum np_flow_class np_flow_class_of(uint8_t proto)
{
    switch (proto) {
    case 6:
        return NP_FLOW_CLASS_TCP;
    case 17:
        return NP_FLOW_CLASS_UDP;
    case 1:
    case 58:
        return NP_FLOW_CLASS_ICMP;
    default:
        return NP_FLOW_CLASS_OTHER;
    }
}

struct np_flow_table *np_flow_table_create(uint32_t max_flows, struct np_err *err)
{
    struct np_flow_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        goto nomem;
    t->max_flows = max_flows ? max_flows : 1;
    t->pool = np_mem_alloc((size_t)t->max_flows * sizeof(*t->pool));
    t->cls = np_mem_alloc(t->max_flows);
    t->mask = 2 * INITIAL_FLOWS - 1;
    t->slots = np_mem_alloc(((size_t)t->mask + 1) * sizeof(*t->slots));
    if (t->pool == NULL || t->cls == NULL || t->slots == NULL)
        goto nomem;
    t->free_head = NP_FLOW_NONE;
    for (int c = 0; c < NP_FLOW_CLASSES; c++)
        t->lru[c].head = t->lru[c].tail = NP_FLOW_NONE;
    return t;
nomem:
    np_flow_table_destroy(t);
    np_err_set(err, NP_ERR_NOMEM, "out of memory for the flow table");
    return NULL;
}

void np_flow_table_destroy(struct np_flow_table *t)
{
    if (t == NULL)
        return;
    np_mem_free(t->pool, (size_t)t->max_flows * sizeof(*t->pool));
    np_mem_free(t->cls, t->max_flows);
    np_mem_free(t->slots, ((size_t)t->mask + 1) * sizeof(*t->slots));
    free(t);
}

uint32_t np_flow_table_find(const struct np_flow_table *t, const struct np_flow_key *k,
                            uint64_t hash)
{
    uint32_t h32 = (uint32_t)hash;
    for (uint32_t i = (uint32_t)hash & t->mask;; i = (i + 1) & t->mask) {
        const struct slot *s = &t->slots[i];
        if (s->idx1 == 0)
            return NP_FLOW_NONE;
        if (s->hash == h32 && np_flow_key_eq(&t->pool[s->idx1 - 1].key, k))
            return s->idx1 - 1;
    }
}

void np_flow_table_prefetch_slot(const struct np_flow_table *t, uint64_t hash)
{
    __builtin_prefetch(&t->slots[(uint32_t)hash & t->mask]);
}

void np_flow_table_prefetch_entry(const struct np_flow_table *t, uint64_t hash)
{
    uint32_t idx1 = t->slots[(uint32_t)hash & t->mask].idx1;
    if (idx1 != 0) { /* both cache lines of the 128-byte entry */
        __builtin_prefetch(&t->pool[idx1 - 1]);
        __builtin_prefetch((const char *)&t->pool[idx1 - 1] + 64);
    }
}

static void slot_put(struct slot *slots, uint32_t mask, uint32_t hash, uint32_t idx)
{
    uint32_t i = hash & mask;
    while (slots[i].idx1 != 0)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].idx1 = idx + 1;
}

/* Doubles the index; the stored hash gives every entry its new home. */
static int grow_index(struct np_flow_table *t)
{
    uint32_t nmask = t->mask * 2 + 1;
    struct slot *ns = np_mem_alloc(((size_t)nmask + 1) * sizeof(*ns));
    if (ns == NULL)
        return -1;
    for (uint32_t i = 0; i <= t->mask; i++) {
        if (t->slots[i].idx1 != 0)
            slot_put(ns, nmask, t->slots[i].hash, t->slots[i].idx1 - 1);
    }
    np_mem_free(t->slots, ((size_t)t->mask + 1) * sizeof(*t->slots));
    t->slots = ns;
    t->mask = nmask;
    return 0;
}

static void lru_unlink(struct np_flow_table *t, uint32_t idx)
{
    struct np_flow *f = &t->pool[idx];
    struct lru *l = &t->lru[t->cls[idx]];
    if (f->lru_prev != NP_FLOW_NONE)
        t->pool[f->lru_prev].lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next != NP_FLOW_NONE)
        t->pool[f->lru_next].lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
}

static void lru_append(struct np_flow_table *t, uint32_t idx)
{
    struct np_flow *f = &t->pool[idx];
    struct lru *l = &t->lru[t->cls[idx]];
    f->lru_next = NP_FLOW_NONE;
    f->lru_prev = l->tail;
    if (l->tail != NP_FLOW_NONE)
        t->pool[l->tail].lru_next = idx;
    else
        l->head = idx;
    l->tail = idx;
}

uint32_t np_flow_table_insert(struct np_flow_table *t, const struct np_flow_key *k, uint64_t hash,
                              enum np_flow_class cls)
{
    if (t->n >= t->max_flows)
        return NP_FLOW_NONE;
    if ((t->n + 1) * 2 > t->mask + 1 && grow_index(t) != 0)
        return NP_FLOW_NONE;
    uint32_t idx;
    if (t->free_head != NP_FLOW_NONE) {
        idx = t->free_head;
        t->free_head = t->pool[idx].lru_next;
    } else {
        idx = t->used_hwm++; /* < max_flows, since n < max_flows */
        if (t->used_hwm > t->peak_hwm)
            t->peak_hwm = t->used_hwm;
    }
    struct np_flow *f = &t->pool[idx];
    memset(f, 0, sizeof(*f));
    f->key = *k;
    t->cls[idx] = (uint8_t)cls;
    slot_put(t->slots, t->mask, (uint32_t)hash, idx);
    lru_append(t, idx);
    t->n++;
    return idx;
}

void np_flow_table_remove(struct np_flow_table *t, uint32_t idx)
{
    uint32_t i = (uint32_t)np_flow_key_hash(&t->pool[idx].key) & t->mask;
    while (t->slots[i].idx1 != idx + 1) {
        assert(t->slots[i].idx1 != 0);
        i = (i + 1) & t->mask;
    }
    /* Backward-shift deletion: pull later entries of the probe run into the
     * hole when their home slot is not after it (cyclically). */
    for (uint32_t j = (i + 1) & t->mask;; j = (j + 1) & t->mask) {
        struct slot *s = &t->slots[j];
        if (s->idx1 == 0)
            break;
        uint32_t home = s->hash & t->mask;
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = *s;
            i = j;
        }
    }
    t->slots[i].idx1 = 0;
    lru_unlink(t, idx);
#ifndef NDEBUG
    memset(&t->pool[idx], 0xa5, sizeof(t->pool[idx])); /* expose stale use */
#endif
    t->pool[idx].lru_next = t->free_head;
    t->free_head = idx;
    t->cls[idx] = CLS_FREE;
    t->n--;
}

void np_flow_table_reset(struct np_flow_table *t)
{
    memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(*t->slots));
    t->n = 0;
    t->used_hwm = 0;
    t->free_head = NP_FLOW_NONE;
    for (int c = 0; c < NP_FLOW_CLASSES; c++)
        t->lru[c].head = t->lru[c].tail = NP_FLOW_NONE;
}

void np_flow_table_touch(struct np_flow_table *t, uint32_t idx)
{
    if (t->lru[t->cls[idx]].tail == idx)
        return;
    lru_unlink(t, idx);
    lru_append(t, idx);
}

void np_flow_table_set_class(struct np_flow_table *t, uint32_t idx, enum np_flow_class cls)
{
    lru_unlink(t, idx);
    t->cls[idx] = (uint8_t)cls;
    lru_append(t, idx);
}

uint32_t np_flow_table_oldest(const struct np_flow_table *t, enum np_flow_class cls)
{
    return t->lru[cls].head;
}

struct np_flow *np_flow_table_at(struct np_flow_table *t, uint32_t idx)
{
    return &t->pool[idx];
}

uint32_t np_flow_table_count(const struct np_flow_table *t)
{
    return t->n;
}

size_t np_flow_table_mem_bytes(const struct np_flow_table *t)
{
    return (size_t)t->peak_hwm * (sizeof(struct np_flow) + 1) +
           ((size_t)t->mask + 1) * sizeof(struct slot);
}

uint32_t np_flow_table_next(const struct np_flow_table *t, uint32_t from)
{
    for (uint32_t i = from; i < t->used_hwm; i++)
        if (t->cls[i] != CLS_FREE)
            return i;
    return NP_FLOW_NONE;
}
