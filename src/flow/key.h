/* flow/key.h: the canonical bidirectional flow key and the flow id.
 *
 * Both directions of a flow map to one key: endpoint A is the lower
 * (address bytes, then port) endpoint, as the corpus references order
 * conversations. The flow id is a documented hash of the key and the flow's
 * first timestamp (docs/formats.md), so it is the same in every command and
 * for any number of shards.
 */
#ifndef NP_FLOW_KEY_H
#define NP_FLOW_KEY_H

#include <stdbool.h>
#include <stdint.h>

struct np_flow_key {
    uint8_t addr_a[16]; /* IPv4 in the first 4 bytes, the rest zero */
    uint8_t addr_b[16];
    uint16_t port_a, port_b; /* 0 for protocols without ports */
    uint16_t vlan;           /* outer VLAN id, NP_VLAN_NONE when untagged */
    uint8_t ip_ver;          /* 4 or 6 */
    uint8_t proto;           /* IP protocol number */
};

/* Fills k from one packet's endpoints (16 bytes each; IPv4 in the first 4,
 * the rest ignored) and returns the packet's direction:
 * false when src is endpoint A (A to B), true when src is B. Equal endpoints
 * give false: every packet counts A to B. */
bool np_flow_key_make(struct np_flow_key *k, uint8_t ip_ver, uint8_t proto, uint16_t vlan,
                      const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport);

/* Fast hash of a canonical key for table indexing (not stable across versions). */
uint64_t np_flow_key_hash(const struct np_flow_key *k);

/* The flow id: 64-bit FNV-1a over ip_ver (1 byte), proto (1), vlan (2,
 * big-endian, 0xffff untagged), addr_a (4 or 16 bytes), port_a (2, BE),
 * addr_b, port_b, first_ts_ns (8, BE). Stable: documented in docs/formats.md. */
uint64_t np_flow_id(const struct np_flow_key *k, uint64_t first_ts_ns);

/* Five 8-byte compares, inlined (a memcmp call showed in profiles). */
static inline bool np_flow_key_eq(const struct np_flow_key *x, const struct np_flow_key *y)
{
    uint64_t a[5], b[5];
    __builtin_memcpy(a, x, sizeof(a));
    __builtin_memcpy(b, y, sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
}

#endif
