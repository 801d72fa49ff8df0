/* decode/decode_int.h: what the decoder's files share; no other layer
 * includes it.
 *
 * One layer per file. A link or network layer works on struct np_dec_ctx
 * (the frame's cursor plus the bytes the frame had on the wire, so lengths
 * declared by headers can be checked against both); the transport layers
 * work on the IP payload's sub-cursor and its wire length, because after
 * reassembly there is no frame. None of them allocates or keeps state.
 */
#ifndef NP_DECODE_DECODE_INT_H
#define NP_DECODE_DECODE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cursor.h"
#include "decode/decode.h"

/* Ethertypes we look at. */
enum {
    NP_ETH_IPV4 = 0x0800,
    NP_ETH_ARP = 0x0806,
    NP_ETH_RARP = 0x8035, /* tshark counts it as arp */
    NP_ETH_VLAN = 0x8100,
    NP_ETH_IPV6 = 0x86dd,
    NP_ETH_MPLS = 0x8847,
    NP_ETH_MPLS_MC = 0x8848,
    NP_ETH_PPPOE_SESS = 0x8864,
    NP_ETH_QINQ = 0x88a8,
    NP_ETH_QINQ_OLD = 0x9100,
    NP_ETH_MIN_TYPE = 0x0600, /* below: an 802.3 length, LLC follows */
};

/* IP protocol numbers we look at. */
enum {
    NP_IPPROTO_HOPOPTS = 0,
    NP_IPPROTO_ICMP = 1,
    NP_IPPROTO_IPIP = 4,
    NP_IPPROTO_TCP = 6,
    NP_IPPROTO_UDP = 17,
    NP_IPPROTO_IPV6 = 41,
    NP_IPPROTO_ROUTING = 43,
    NP_IPPROTO_FRAGMENT = 44,
    NP_IPPROTO_GRE = 47,
    NP_IPPROTO_AH = 51,
    NP_IPPROTO_ICMPV6 = 58,
    NP_IPPROTO_NONE = 59,
    NP_IPPROTO_DSTOPTS = 60,
};

/* A frame being decoded. */
struct np_dec_ctx {
    struct np_cur c;     /* the frame's unread bytes */
    uint32_t caplen;     /* captured bytes of the frame */
    uint32_t wirelen;    /* bytes on the wire, at least caplen */
    struct np_dpkt *out; /* the caller's, reset by np_decode */
    struct np_dec_stats *st;
};

/* Offset of the next unread byte in the frame. */
static inline uint32_t np_dec_off(const struct np_dec_ctx *x)
{
    return x->caplen - (uint32_t)x->c.left;
}

/* Bytes the frame had on the wire from the next unread byte on. */
static inline uint32_t np_dec_wire_left(const struct np_dec_ctx *x)
{
    return x->wirelen - np_dec_off(x);
}

/* Fixed-size headers are taken out of the cursor whole with np_cur_copy()
 * (one bounds check instead of one per field) and read from that local copy
 * at constant offsets below its size. Only the copy, never the packet, is
 * indexed. */
static inline uint16_t np_hdr16(const uint8_t *h, size_t i)
{
    return (uint16_t)((unsigned)h[i] << 8 | h[i + 1]);
}

static inline uint32_t np_hdr32(const uint8_t *h, size_t i)
{
    return (uint32_t)h[i] << 24 | (uint32_t)h[i + 1] << 16 | (uint32_t)h[i + 2] << 8 | h[i + 3];
}

static inline uint32_t np_dec_min(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Link layers (eth.c, vlan.c, link.c, sll.c). */
enum np_dec np_decode_eth(struct np_dec_ctx *x);
enum np_dec np_decode_null(struct np_dec_ctx *x, bool network_order);
enum np_dec np_decode_sll(struct np_dec_ctx *x);
enum np_dec np_decode_sll2(struct np_dec_ctx *x);
/* Reads one 802.1Q/802.1ad tag (the TPID was read); *type gets the next
 * ethertype. Not NP_DEC_OK when decoding must stop. */
enum np_dec np_decode_vlan(struct np_dec_ctx *x, uint16_t *type);

/* Dispatches on an ethertype, following VLAN tags (decode.c). */
enum np_dec np_decode_ethertype(struct np_dec_ctx *x, uint16_t type);

/* Network layers (arp.c, ipv4.c, ipv6.c). */
enum np_dec np_decode_arp(struct np_dec_ctx *x);
enum np_dec np_decode_ipv4(struct np_dec_ctx *x);
enum np_dec np_decode_ipv6(struct np_dec_ctx *x);
/* Walks IPv6 extension headers from *proto on, within c (whose bytes on the
 * wire are *wire_len); leaves *proto at the first header that is not an
 * extension header, c and *wire_len after the last one. A non-atomic
 * fragment header fills out's fragment fields and stops the walk (when
 * in_datagram, i.e. after reassembly, it is an anomaly instead). At most
 * NP_MAX_IP6_EXT headers are walked. */
enum np_dec np_decode_ip6_ext(uint8_t *proto, struct np_cur *c, uint32_t *wire_len,
                              struct np_dpkt *out, struct np_dec_stats *st, bool in_datagram);

/* Transport layers on an IP payload c whose length on the wire is wire_len
 * (>= c->left) (decode.c dispatches; tcp.c, udp.c, icmp.c). */
enum np_dec np_decode_l4(uint8_t proto, struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                         struct np_dec_stats *st);
enum np_dec np_decode_tcp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                          struct np_dec_stats *st);
enum np_dec np_decode_udp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                          struct np_dec_stats *st);
enum np_dec np_decode_icmp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                           struct np_dec_stats *st, bool v6);

/* Sets the payload fields to the rest of c. */
static inline void np_dec_set_payload(struct np_dpkt *out, struct np_cur *c, uint32_t wire_len)
{
    out->payload = c->p;
    out->payload_len = (uint32_t)c->left;
    out->payload_wire_len = wire_len < c->left ? (uint32_t)c->left : wire_len;
}

/* Records the first encapsulation seen and counts it. */
static inline void np_dec_encap(struct np_dpkt *out, uint64_t *counter, enum np_encap e)
{
    if (out->encap == NP_ENCAP_NONE)
        out->encap = (uint8_t)e;
    (*counter)++;
}

#endif
