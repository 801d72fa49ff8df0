/* flow/table.h: the shard's flow table.
 *
 * Flow entries live in one array (the pool) addressed by 32-bit index, mapped
 * for max_flows at once but made real page by page as entries are first
 * used; an open-addressed index of (hash, entry) slots finds them and grows
 * in steps. A small capture touches little memory (a page fault costs
 * microseconds here) and nothing is allocated per packet. Every entry sits on one idle list per
 * timeout class, least recently touched first, so idle flows expire from the head in bounded steps.
 * Owned by one shard thread; not thread-safe.
 *
 * Entries are addressed by index; a pointer from np_flow_table_at() stays
 * valid until that flow is removed.
 */
#ifndef NP_FLOW_TABLE_H
#define NP_FLOW_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "flow/key.h"

#define NP_FLOW_NONE UINT32_MAX

/* Timeout classes: each has its own idle timeout and idle list. */
enum np_flow_class {
    NP_FLOW_CLASS_TCP = 0,
    NP_FLOW_CLASS_UDP,
    NP_FLOW_CLASS_ICMP,   /* ICMP and ICMPv6 */
    NP_FLOW_CLASS_OTHER,  /* other IP protocols */
    NP_FLOW_CLASS_CLOSED, /* TCP flows that closed, held for the close delay */
    NP_FLOW_CLASSES,
};

/* TCP close and bookkeeping bits in struct np_flow.state. */
enum {
    NP_FS_FIN_A = 0x01,       /* A sent a FIN (fin_seq[0] valid) */
    NP_FS_FIN_B = 0x02,       /* B sent a FIN (fin_seq[1] valid) */
    NP_FS_FIN_A_ACKED = 0x04, /* B acknowledged A's FIN */
    NP_FS_FIN_B_ACKED = 0x08, /* A acknowledged B's FIN */
    NP_FS_HAS_SYN = 0x10,     /* syn_seq holds the client's initial sequence number */
    NP_FS_CLIENT_SYN = 0x20,  /* client was decided by a SYN, not by the first packet */
    NP_FS_CLOSED = 0x40,      /* closed by FINs or RST: held for the close delay */
    NP_FS_CLOSED_RST = 0x80,  /* with NP_FS_CLOSED: it was a RST */
};

/* One flow: 128 bytes, the fields read per packet first. Direction 0 is A to
 * B, 1 is B to A. */
struct np_flow {
    struct np_flow_key key;      /* 40 */
    uint64_t id;                 /* np_flow_id(key, first_ns) */
    uint64_t first_ns;           /* first packet's timestamp */
    uint64_t last_ns;            /* latest timestamp seen in the flow */
    uint64_t bytes[2];           /* wire bytes (frame lengths) per direction */
    uint64_t cap_bytes[2];       /* captured bytes per direction */
    uint32_t pkts[2];            /* frames per direction */
    uint32_t lru_prev, lru_next; /* idle list of its class; free list when unused */
    uint32_t syn_seq;            /* with NP_FS_HAS_SYN */
    uint32_t fin_seq[2];         /* sequence number of each direction's FIN */
    uint8_t tcp_flags[2];        /* union of TCP flags sent per direction */
    uint8_t client;              /* 0: A is the client, 1: B */
    uint8_t state;               /* NP_FS_* bits */
};

struct np_flow_table;

/* Creates an empty table that holds at most max_flows flows (0 is taken as
 * 1). NULL with err set on ENOMEM. */
struct np_flow_table *np_flow_table_create(uint32_t max_flows, struct np_err *err);
void np_flow_table_destroy(struct np_flow_table *t);

/* The index of the flow with key k (hash = np_flow_key_hash(k)), or NP_FLOW_NONE. */
uint32_t np_flow_table_find(const struct np_flow_table *t, const struct np_flow_key *k,
                            uint64_t hash);
/* Prefetch hints for a lookup of hash soon: first its index slot, then (once
 * the slot has arrived) the entry the slot names. Never fault, never fail. */
void np_flow_table_prefetch_slot(const struct np_flow_table *t, uint64_t hash);
void np_flow_table_prefetch_entry(const struct np_flow_table *t, uint64_t hash);

/* Adds a zeroed flow with key k (hash = np_flow_key_hash(k): removal
 * recomputes it) at the tail of class cls's idle list and returns its index;
 * NP_FLOW_NONE when max_flows are in use or the index cannot grow (the
 * caller evicts and retries). */
uint32_t np_flow_table_insert(struct np_flow_table *t, const struct np_flow_key *k, uint64_t hash,
                              enum np_flow_class cls);
/* Removes every flow at once, keeping the memory. */
void np_flow_table_reset(struct np_flow_table *t);
/* Removes flow idx from the index and its idle list and frees its entry. */
void np_flow_table_remove(struct np_flow_table *t, uint32_t idx);
/* Moves flow idx to the tail of its idle list (it was just touched). */
void np_flow_table_touch(struct np_flow_table *t, uint32_t idx);
/* Moves flow idx to the tail of class cls's idle list. */
void np_flow_table_set_class(struct np_flow_table *t, uint32_t idx, enum np_flow_class cls);
/* The least recently touched flow of class cls, or NP_FLOW_NONE. */
uint32_t np_flow_table_oldest(const struct np_flow_table *t, enum np_flow_class cls);

struct np_flow *np_flow_table_at(struct np_flow_table *t, uint32_t idx);
uint32_t np_flow_table_count(const struct np_flow_table *t);
/* Bytes of table memory touched: the most entries ever in use, plus the
 * index. For the summary. */
size_t np_flow_table_mem_bytes(const struct np_flow_table *t);
/* The first flow in use with index >= from, or NP_FLOW_NONE: for walking the
 * table in index order. */
uint32_t np_flow_table_next(const struct np_flow_table *t, uint32_t from);

enum np_flow_class np_flow_class_of(uint8_t proto);

#endif
