/* flow/key.c: canonical keys and flow ids. */
#include "flow/key.h"

#include <string.h>

#include "core/hash.h"

_Static_assert(sizeof(struct np_flow_key) == 40, "flow key has padding or grew");

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

/* Compares 16-byte addresses as big-endian numbers; inline, where memcmp
 * (an ordering compare) would be a call. */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b)
{
    uint64_t x = load_be64(a), y = load_be64(b);
    if (x != y)
        return x < y ? -1 : 1;
    x = load_be64(a + 8);
    y = load_be64(b + 8);
    return (x > y) - (x < y);
}

bool np_flow_key_make(struct np_flow_key *k, uint8_t ip_ver, uint8_t proto, uint16_t vlan,
                      const uint8_t src[16], uint16_t sport, const uint8_t dst[16], uint16_t dport)
{
    /* Fixed-size compares and copies compile inline (an ordering memcmp is a
     * call); IPv4 compares its 4 bytes and zeroes the rest below. */
    int c;
    if (ip_ver == 6) {
        c = addr_cmp(src, dst);
    } else {
        uint32_t x =
                (uint32_t)src[0] << 24 | (uint32_t)src[1] << 16 | (uint32_t)src[2] << 8 | src[3];
        uint32_t y =
                (uint32_t)dst[0] << 24 | (uint32_t)dst[1] << 16 | (uint32_t)dst[2] << 8 | dst[3];
        c = (x > y) - (x < y);
    }
    bool swap = c > 0 || (c == 0 && sport > dport);
    const uint8_t *a = swap ? dst : src, *b = swap ? src : dst;
    memcpy(k->addr_a, a, 16);
    memcpy(k->addr_b, b, 16);
    k->port_a = swap ? dport : sport;
    k->port_b = swap ? sport : dport;
    k->vlan = vlan;
    k->ip_ver = ip_ver;
    k->proto = proto;
    if (ip_ver != 6) { /* IPv4: whatever follows the 4 address bytes is zero */
        memset(k->addr_a + 4, 0, 12);
        memset(k->addr_b + 4, 0, 12);
    }
    return swap;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Five independent multiplies (they pipeline) folded by one finaliser: the
 * products carry every input bit upward and fmix64 brings them down. */
uint64_t np_flow_key_hash(const struct np_flow_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = load64(p) * 0x9e3779b97f4a7c15ull ^ load64(p + 8) * 0xc2b2ae3d27d4eb4full ^
                 load64(p + 16) * 0x165667b19e3779f9ull ^ load64(p + 24) * 0xd6e8feb86659fd93ull ^
                 load64(p + 32) * 0xff51afd7ed558ccdull;
    return np_hash_mix64(h);
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
