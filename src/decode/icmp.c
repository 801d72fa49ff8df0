/* decode/icmp.c: ICMP (RFC 792) and ICMPv6 (RFC 4443 section 2.1), with
 * the packet an error message quotes.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |     Code      |          Checksum             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  echo: Identifier, Sequence   |  errors: unused, MTU, pointer |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  errors: the original IP header + at least 8 bytes of its data |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Echo request/reply (ICMP 8/0, ICMPv6 128/129): the identifier goes into
 * sport and dport, so a ping is a flow. Errors (ICMP 3 unreachable, 4 source
 * quench, 5 redirect, 11 time exceeded, 12 parameter problem; ICMPv6 1 to
 * 4) quote the offending packet: its IP header and first 8 transport bytes
 * go into out->quote. Quotes are often cut (by the sender or the snapshot
 * length): what can be read is filled and the cut is counted. Quoted headers
 * count for no protocol in np_dec_stats. Other types (neighbour discovery,
 * router advertisements, ...) give type and code only. The checksum is not
 * verified.
 */
#include "decode/decode_int.h"

static bool is_error(uint8_t type, bool v6)
{
    if (v6)
        return type >= 1 && type <= 4;
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static bool is_echo(uint8_t type, bool v6)
{
    if (v6)
        return type == 128 || type == 129;
    return type == 0 || type == 8;
}

/* The quoted IPv4 header; false when no transport header follows. */
static bool quote_ipv4(struct np_cur *c, struct np_icmp_quote *q, struct np_dec_stats *st)
{
    uint8_t vihl = np_cur_u8(c);
    np_cur_skip(c, 5); /* TOS, total length (often not what was quoted), id */
    uint16_t frag = np_cur_be16(c);
    np_cur_skip(c, 1); /* TTL */
    uint8_t proto = np_cur_u8(c);
    np_cur_skip(c, 2); /* checksum */
    np_cur_copy(c, q->src, 4);
    np_cur_copy(c, q->dst, 4);
    if (c->bad) {
        st->anom_icmp_quote_truncated++;
        return false;
    }
    if ((vihl & 0x0fu) < 5) {
        memset(q->src, 0, sizeof(q->src));
        memset(q->dst, 0, sizeof(q->dst));
        st->anom_icmp_quote_bad++;
        return false;
    }
    q->ip_ver = 4;
    q->proto = proto;
    np_cur_skip(c, (vihl & 0x0fu) * 4u - 20u); /* options */
    if (c->bad) {
        st->anom_icmp_quote_truncated++;
        return false;
    }
    return (frag & 0x1fff) == 0; /* a later fragment has no transport header */
}

/* The quoted IPv6 header and extension headers; false when no transport
 * header follows. */
static bool quote_ipv6(struct np_cur *c, struct np_icmp_quote *q, struct np_dec_stats *st)
{
    np_cur_skip(c, 6); /* version, class, flow label, payload length */
    uint8_t nh = np_cur_u8(c);
    np_cur_skip(c, 1); /* hop limit */
    np_cur_copy(c, q->src, 16);
    np_cur_copy(c, q->dst, 16);
    if (c->bad) {
        st->anom_icmp_quote_truncated++;
        return false;
    }
    q->ip_ver = 6;
    for (unsigned n = 0;; n++) {
        q->proto = nh;
        size_t len;
        bool later_frag = false;
        switch (nh) {
        case NP_IPPROTO_HOPOPTS:
        case NP_IPPROTO_ROUTING:
        case NP_IPPROTO_DSTOPTS:
            len = ((size_t)np_cur_peek(c, 1) + 1u) * 8u;
            break;
        case NP_IPPROTO_AH:
            len = ((size_t)np_cur_peek(c, 1) + 2u) * 4u;
            break;
        case NP_IPPROTO_FRAGMENT:
            len = 8;
            later_frag = (((unsigned)np_cur_peek(c, 2) << 8 | np_cur_peek(c, 3)) & 0xfff8u) != 0;
            break;
        default:
            return true;
        }
        if (n == NP_MAX_IP6_EXT) {
            st->anom_ipv6_too_many_ext++; /* the same bound as for the packet itself */
            return false;
        }
        nh = np_cur_peek(c, 0);
        np_cur_skip(c, len);
        if (c->bad) {
            st->anom_icmp_quote_truncated++;
            return false;
        }
        if (later_frag) {
            q->proto = nh;
            return false;
        }
    }
}

static void quote(struct np_cur *c, struct np_icmp_quote *q, struct np_dec_stats *st)
{
    if (c->left == 0) {
        st->anom_icmp_quote_truncated++;
        return;
    }
    bool l4;
    switch (np_cur_peek(c, 0) >> 4) {
    case 4:
        l4 = quote_ipv4(c, q, st);
        break;
    case 6:
        l4 = quote_ipv6(c, q, st);
        break;
    default:
        st->anom_icmp_quote_bad++;
        return;
    }
    if (!l4)
        return;
    if (c->left < 8)
        st->anom_icmp_quote_truncated++; /* RFC 792 and 1812 promise 8 bytes */
    if ((q->proto == NP_IPPROTO_TCP || q->proto == NP_IPPROTO_UDP) && c->left >= 4) {
        q->sport = np_cur_be16(c);
        q->dport = np_cur_be16(c);
        q->has_ports = true;
        if (q->proto == NP_IPPROTO_TCP && c->left >= 4) {
            q->tcp_seq = np_cur_be32(c);
            q->has_seq = true;
        }
    }
}

enum np_dec np_decode_icmp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                           struct np_dec_stats *st, bool v6)
{
    if (v6)
        st->icmpv6++;
    else
        st->icmp++;
    uint8_t h[8];
    np_cur_copy(c, h, sizeof(h));
    if (c->bad) {
        st->anom_icmp_truncated++;
        return NP_DEC_TRUNCATED;
    }
    out->icmp_type = h[0];
    out->icmp_code = h[1];
    uint16_t id = np_hdr16(h, 4); /* echo; the checksum is not verified */
    out->l4_ok = true;
    if (is_echo(out->icmp_type, v6)) {
        out->sport = id;
        out->dport = id;
    }
    np_dec_set_payload(out, c, wire_len - 8u);
    if (is_error(out->icmp_type, v6)) {
        struct np_cur q = *c;
        quote(&q, &out->quote, st);
    }
    return NP_DEC_OK;
}
