/* decode/ipv6.c: the IPv6 header and its extension headers (RFC 8200).
 *
 * Section 3, the fixed header:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version| Traffic Class |           Flow Label                  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Payload Length        |  Next Header  |   Hop Limit   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  Source Address (16)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |               Destination Address (16)                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Section 4, extension headers. Hop-by-hop (0), routing (43) and
 * destination options (60) share the generic form, length in 8-octet units
 * not counting the first 8; the authentication header (51, RFC 4302 section
 * 2) counts 4-octet units minus 2:
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Next Header  |  Hdr Ext Len  |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  .                 header-specific data                          .
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Section 4.5, the fragment header (44):
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         Identification                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Hop-by-hop and destination options should tile their header; when they
 * do not, that is counted (anom_ipv6_bad_option) and the walk goes on by the
 * header's length. tshark instead stops where an option runs past the packet.
 * Option contents are not interpreted. At most NP_MAX_IP6_EXT headers are walked per call. An
 * atomic fragment (offset 0, M 0; RFC 6946) is complete by itself and the walk goes on; any other
 * fragment stops it: the headers after the fragment header belong to the fragmentable part and are
 * walked by np_decode_ip_payload() after reassembly. Next header 59 ends the packet. A Payload
 * Length of 0 is a jumbogram (RFC 2675) or a GSO capture: counted, and the length is taken from the
 * frame. A Payload Length beyond the frame: payload is what the frame holds.
 */
#include "decode/decode_int.h"

enum {
    IP6_OFFMASK = 0xfff8,
    IP6_MF = 0x0001,
};

/* True when the options (section 4.2: Pad1 is one byte, the others type,
 * length, data) tile the header exactly. */
static bool options_fit(struct np_cur o)
{
    /* Each turn consumes at least one byte of at most 2046. */
    while (o.left > 0) {
        if (np_cur_u8(&o) == 0)
            continue; /* Pad1 */
        np_cur_skip(&o, np_cur_u8(&o));
        if (o.bad)
            return false;
    }
    return true;
}

enum np_dec np_decode_ip6_ext(uint8_t *proto, struct np_cur *c, uint32_t *wire_len,
                              struct np_dpkt *out, struct np_dec_stats *st, bool in_datagram)
{
    for (unsigned n = 0;; n++) {
        uint8_t nh = *proto;
        size_t len;
        switch (nh) {
        case NP_IPPROTO_HOPOPTS:
        case NP_IPPROTO_ROUTING:
        case NP_IPPROTO_DSTOPTS:
        case NP_IPPROTO_AH:
        case NP_IPPROTO_FRAGMENT:
            break;
        default:
            return NP_DEC_OK; /* a transport or unknown protocol, or 59 */
        }
        if (n == NP_MAX_IP6_EXT) {
            st->anom_ipv6_too_many_ext++;
            return NP_DEC_UNSUPPORTED;
        }
        uint8_t next = np_cur_u8(c);
        uint8_t hlen = np_cur_u8(c);
        if (nh == NP_IPPROTO_FRAGMENT) {
            uint16_t offm = np_cur_be16(c);
            uint32_t id = np_cur_be32(c);
            if (c->bad) {
                st->anom_ipv6_ext_truncated++;
                return NP_DEC_TRUNCATED;
            }
            *wire_len -= 8;
            *proto = next;
            if ((offm & (IP6_OFFMASK | IP6_MF)) == 0)
                continue; /* atomic fragment */
            if (in_datagram) {
                st->anom_ipv6_nested_frag++;
                return NP_DEC_UNSUPPORTED;
            }
            out->is_frag = true;
            out->frag_more = (offm & IP6_MF) != 0;
            out->frag_id = id;
            out->frag_off = offm & IP6_OFFMASK;
            out->frag_data = c->p;
            out->frag_len = (uint32_t)c->left;
            out->frag_wire_len = *wire_len;
            st->frags++;
            return NP_DEC_OK;
        }
        len = nh == NP_IPPROTO_AH ? ((size_t)hlen + 2u) * 4u : ((size_t)hlen + 1u) * 8u;
        struct np_cur body = np_cur_take(c, len - 2);
        if (c->bad || len > *wire_len) {
            st->anom_ipv6_ext_truncated++;
            return NP_DEC_TRUNCATED;
        }
        if ((nh == NP_IPPROTO_HOPOPTS || nh == NP_IPPROTO_DSTOPTS) && !options_fit(body))
            st->anom_ipv6_bad_option++; /* counted; the header length is still used */
        *wire_len -= (uint32_t)len;
        *proto = next;
    }
}

enum np_dec np_decode_ipv6(struct np_dec_ctx *x)
{
    struct np_dpkt *out = x->out;
    struct np_dec_stats *st = x->st;

    out->l3 = NP_L3_IPV6;
    out->ip_off = np_dec_off(x);
    st->ipv6++;
    uint32_t wire_left = np_dec_wire_left(x);

    uint8_t h[8];
    np_cur_copy(&x->c, h, sizeof(h));
    if (x->c.bad) {
        st->anom_ipv6_truncated++;
        return NP_DEC_TRUNCATED;
    }
    if (h[0] >> 4 != 6) {
        st->anom_ipv6_bad_version++;
        return NP_DEC_MALFORMED;
    }
    uint32_t plen = np_hdr16(h, 4);
    uint8_t proto = h[6];
    np_cur_copy(&x->c, out->src, 16);
    np_cur_copy(&x->c, out->dst, 16);
    if (x->c.bad) {
        st->anom_ipv6_truncated++;
        return NP_DEC_TRUNCATED;
    }
    out->ip_ver = 6;
    out->ttl = h[7];
    out->proto = proto;

    wire_left -= 40;
    if (plen == 0 && proto != NP_IPPROTO_NONE) {
        st->anom_ipv6_jumbo++;
        plen = wire_left;
    } else if (plen > wire_left) {
        st->anom_ipv6_bad_payload_len++;
        plen = wire_left;
    }
    struct np_cur pl = np_cur_take_upto(&x->c, plen);
    uint32_t wire_len = plen;

    enum np_dec v = np_decode_ip6_ext(&proto, &pl, &wire_len, out, st, false);
    out->proto = proto;
    if (v != NP_DEC_OK || out->is_frag)
        return v;
    return np_decode_l4(proto, &pl, wire_len, out, st);
}
