/* tests/decode/pkt.h: builds frames for the decoder's unit tests and
 * decodes them from exact-size heap copies, so AddressSanitizer sees any
 * read past the captured bytes.
 *
 * Lengths that depend on what follows (IPv4 total length, IPv6 payload
 * length, UDP length) are patched by the *_done() helpers once the frame is
 * built. Checksums are left zero: the decoder does not verify them.
 */
#ifndef NP_TESTS_DECODE_PKT_H
#define NP_TESTS_DECODE_PKT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

struct pkt {
    uint8_t b[4096];
    size_t n;
};

#define PK_UNUSED __attribute__((unused))
static const uint8_t A4[4] PK_UNUSED = { 192, 0, 2, 1 };
static const uint8_t B4[4] PK_UNUSED = { 198, 51, 100, 2 };
static const uint8_t A6[16] PK_UNUSED = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};
static const uint8_t B6[16] PK_UNUSED = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2
};

static inline void pk_u8(struct pkt *p, uint8_t v)
{
    assert(p->n < sizeof(p->b));
    p->b[p->n++] = v;
}

static inline void pk_be16(struct pkt *p, uint16_t v)
{
    pk_u8(p, (uint8_t)(v >> 8));
    pk_u8(p, (uint8_t)v);
}

static inline void pk_be32(struct pkt *p, uint32_t v)
{
    pk_be16(p, (uint16_t)(v >> 16));
    pk_be16(p, (uint16_t)v);
}

static inline void pk_le32(struct pkt *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        pk_u8(p, (uint8_t)(v >> (8 * i)));
}

static inline void pk_bytes(struct pkt *p, const void *d, size_t n)
{
    assert(p->n + n <= sizeof(p->b));
    memcpy(&p->b[p->n], d, n);
    p->n += n;
}

static inline void pk_fill(struct pkt *p, uint8_t v, size_t n)
{
    assert(p->n + n <= sizeof(p->b));
    memset(&p->b[p->n], v, n);
    p->n += n;
}

static inline void pk_set16(struct pkt *p, size_t at, uint16_t v)
{
    p->b[at] = (uint8_t)(v >> 8);
    p->b[at + 1] = (uint8_t)v;
}

/* Ethernet II header with made-up addresses. */
static inline void pk_eth(struct pkt *p, uint16_t type)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    pk_bytes(p, macs, sizeof(macs));
    pk_be16(p, type);
}

static inline void pk_vlan(struct pkt *p, uint16_t tci, uint16_t type)
{
    pk_be16(p, tci);
    pk_be16(p, type);
}

/* IPv4 header from A4 to B4 with opt_len bytes of NOP options (a multiple of
 * 4); returns its offset for pk_ipv4_done(). */
static inline size_t pk_ipv4(struct pkt *p, uint8_t proto, uint16_t id, uint16_t frag,
                             size_t opt_len)
{
    size_t at = p->n;
    pk_u8(p, (uint8_t)(0x40 | (5 + opt_len / 4)));
    pk_u8(p, 0);
    pk_be16(p, 0); /* total length: pk_ipv4_done */
    pk_be16(p, id);
    pk_be16(p, frag);
    pk_u8(p, 64);
    pk_u8(p, proto);
    pk_be16(p, 0);
    pk_bytes(p, A4, 4);
    pk_bytes(p, B4, 4);
    pk_fill(p, 1, opt_len);
    return at;
}

static inline void pk_ipv4_done(struct pkt *p, size_t at)
{
    pk_set16(p, at + 2, (uint16_t)(p->n - at));
}

/* IPv6 header from A6 to B6; returns its offset for pk_ipv6_done(). */
static inline size_t pk_ipv6(struct pkt *p, uint8_t nh)
{
    size_t at = p->n;
    pk_be32(p, 0x60000000);
    pk_be16(p, 0); /* payload length: pk_ipv6_done */
    pk_u8(p, nh);
    pk_u8(p, 64);
    pk_bytes(p, A6, 16);
    pk_bytes(p, B6, 16);
    return at;
}

static inline void pk_ipv6_done(struct pkt *p, size_t at)
{
    pk_set16(p, at + 4, (uint16_t)(p->n - at - 40));
}

/* A generic extension header (hop-by-hop, routing, destination options) of
 * (len8 + 1) * 8 bytes, its body one PadN option (or Pad1s) that tiles it. */
static inline void pk_ext(struct pkt *p, uint8_t nh, uint8_t len8)
{
    pk_u8(p, nh);
    pk_u8(p, len8);
    size_t body = (size_t)(len8 + 1) * 8 - 2;
    pk_u8(p, 1); /* PadN */
    pk_u8(p, (uint8_t)(body - 2));
    pk_fill(p, 0, body - 2);
}

static inline void pk_frag6(struct pkt *p, uint8_t nh, uint16_t off, bool more, uint32_t id)
{
    pk_u8(p, nh);
    pk_u8(p, 0);
    pk_be16(p, (uint16_t)(off | (more ? 1 : 0)));
    pk_be32(p, id);
}

/* TCP header; opt (opt_len bytes, a multiple of 4) follows the fixed part. */
static inline void pk_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                          uint8_t flags, const uint8_t *opt, size_t opt_len)
{
    pk_be16(p, sport);
    pk_be16(p, dport);
    pk_be32(p, seq);
    pk_be32(p, ack);
    pk_u8(p, (uint8_t)((5 + opt_len / 4) << 4));
    pk_u8(p, flags);
    pk_be16(p, 65535);
    pk_be32(p, 0); /* checksum, urgent pointer */
    if (opt_len > 0)
        pk_bytes(p, opt, opt_len);
}

/* UDP header; returns its offset for pk_udp_done(). */
static inline size_t pk_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
    size_t at = p->n;
    pk_be16(p, sport);
    pk_be16(p, dport);
    pk_be16(p, 0);
    pk_be16(p, 0);
    return at;
}

static inline void pk_udp_done(struct pkt *p, size_t at)
{
    pk_set16(p, at + 4, (uint16_t)(p->n - at));
}

/* UDP header and n bytes of v, the UDP length covering them. */
static inline void pk_udp_payload(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t v,
                                  size_t n)
{
    size_t at = pk_udp(p, sport, dport);
    pk_fill(p, v, n);
    pk_udp_done(p, at);
}

static inline void pk_icmp(struct pkt *p, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
    pk_u8(p, type);
    pk_u8(p, code);
    pk_be16(p, 0);
    pk_be16(p, id);
    pk_be16(p, seq);
}

/* The frame decoded last lives in a heap copy of exactly caplen bytes,
 * kept until the next pk_decode() or pk_release(), so the view's pointers
 * stay valid in between. */
static uint8_t *pk_copy;

static inline void pk_release(void)
{
    free(pk_copy);
    pk_copy = NULL;
}

static inline enum np_dec pk_decode_cut(uint16_t linktype, const struct pkt *p, size_t caplen,
                                        struct np_dpkt *d, struct np_dec_stats *st)
{
    pk_release();
    pk_copy = malloc(caplen > 0 ? caplen : 1);
    assert(pk_copy != NULL);
    memcpy(pk_copy, p->b, caplen);
    return np_decode(linktype, pk_copy, (uint32_t)caplen, (uint32_t)p->n, d, st);
}

static inline enum np_dec pk_decode(uint16_t linktype, const struct pkt *p, struct np_dpkt *d,
                                    struct np_dec_stats *st)
{
    return pk_decode_cut(linktype, p, p->n, d, st);
}

static inline int pk_teardown(void **state)
{
    (void)state;
    pk_release();
    return 0;
}

#endif
