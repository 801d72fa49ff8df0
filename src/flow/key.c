/* flow/key.c: canonical keys and flow ids. */
#include "flow/key.h"

#include <string.h>

#include "core/hash.h"

_Static_assert(sizeof(struct np_flow_key) == 40, "flow key has padding or grew");

bool np_flow_key_make(struct np_flow_key *k, uint8_t ip_ver, uint8_t proto, uint16_t vlan,
                      const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport)
{
    size_t alen = ip_ver == 6 ? 16 : 4;
    int c = memcmp(src, dst, alen);
    bool swap = c > 0 || (c == 0 && sport > dport);
    const uint8_t *a = swap ? dst : src, *b = swap ? src : dst;
    memset(k, 0, sizeof(*k));
    memcpy(k->addr_a, a, alen);
    memcpy(k->addr_b, b, alen);
    k->port_a = swap ? dport : sport;
    k->port_b = swap ? sport : dport;
    k->vlan = vlan;
    k->ip_ver = ip_ver;
    k->proto = proto;
    return swap;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint64_t np_flow_key_hash(const struct np_flow_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 5; i++)
        h = np_hash_mix64(h ^ load64(p + 8 * i));
    return h;
}

uint64_t np_flow_id(const struct np_flow_key *k, uint64_t first_ts_ns)
{
    uint8_t b[1 + 1 + 2 + 16 + 2 + 16 + 2 + 8];
    size_t alen = k->ip_ver == 6 ? 16 : 4, n = 0;
    b[n++] = k->ip_ver;
    b[n++] = k->proto;
    b[n++] = (uint8_t)(k->vlan >> 8);
    b[n++] = (uint8_t)k->vlan;
    memcpy(b + n, k->addr_a, alen);
    n += alen;
    b[n++] = (uint8_t)(k->port_a >> 8);
    b[n++] = (uint8_t)k->port_a;
    memcpy(b + n, k->addr_b, alen);
    n += alen;
    b[n++] = (uint8_t)(k->port_b >> 8);
    b[n++] = (uint8_t)k->port_b;
    for (int i = 7; i >= 0; i--)
        b[n++] = (uint8_t)(first_ts_ns >> (8 * i));
    return np_fnv1a64(NP_FNV1A64_INIT, b, n);
}
