/* decode/ipv4.c: the IPv4 header (RFC 791 section 3.1).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |Version|  IHL  |Type of Service|          Total Length         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         Identification        |Flags|      Fragment Offset    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Time to Live |    Protocol   |         Header Checksum       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       Source Address                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Destination Address                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Options (IHL > 5) are skipped. Lengths, as tshark reads them: a Total
 * Length of 0 is taken from the frame (segmentation offload writes 0; tshark's
 * ip.tso_support); a Total Length beyond the frame is counted and the
 * payload is what the frame holds, on the wire and as captured; bytes after
 * Total Length (Ethernet padding) are not payload. The checksum is not
 * verified. A fragment (MF set or offset non-zero) stops here: frag.h
 * reassembles it and np_decode_ip_payload() reads the transport layer.
 */
#include "decode/decode_int.h"

enum {
    IP_MF = 0x2000,
    IP_OFFMASK = 0x1fff,
};

enum np_dec np_decode_ipv4(struct np_dec_ctx *x)
{
    struct np_dpkt *out = x->out;
    struct np_dec_stats *st = x->st;

    out->l3 = NP_L3_IPV4;
    out->ip_off = np_dec_off(x);
    st->ipv4++;
    uint32_t wire_left = np_dec_wire_left(x);

    uint8_t h[20];
    np_cur_copy(&x->c, h, sizeof(h));
    if (x->c.bad) {
        st->anom_ipv4_truncated++;
        return NP_DEC_TRUNCATED;
    }
    if (h[0] >> 4 != 4) {
        st->anom_ipv4_bad_version++;
        return NP_DEC_MALFORMED;
    }
    uint32_t hlen = (h[0] & 0x0fu) * 4u;
    if (hlen < 20) {
        st->anom_ipv4_bad_ihl++;
        return NP_DEC_MALFORMED;
    }
    uint32_t total = np_hdr16(h, 2);
    uint16_t id = np_hdr16(h, 4);
    uint16_t frag = np_hdr16(h, 6);
    uint8_t proto = h[9];
    memcpy(out->src, &h[12], 4);
    memcpy(out->dst, &h[16], 4);
    out->ip_ver = 4;
    out->ttl = h[8];
    out->proto = proto;
    np_cur_skip(&x->c, hlen - 20); /* options */
    if (x->c.bad) {
        st->anom_ipv4_truncated++;
        return NP_DEC_TRUNCATED;
    }

    if (total == 0) {
        total = wire_left; /* TSO: the frame gives the length */
    } else if (total < hlen) {
        st->anom_ipv4_bad_total_len++;
        return NP_DEC_MALFORMED;
    } else if (total > wire_left) {
        st->anom_ipv4_bad_total_len++; /* counted; the frame gives the length */
        total = wire_left;
    }
    uint32_t wire_len = total - hlen;
    struct np_cur pl = np_cur_take_upto(&x->c, wire_len);

    if ((frag & (IP_MF | IP_OFFMASK)) != 0) {
        out->is_frag = true;
        out->frag_more = (frag & IP_MF) != 0;
        out->frag_id = id;
        out->frag_off = (uint32_t)(frag & IP_OFFMASK) * 8u;
        out->frag_data = pl.p;
        out->frag_len = (uint32_t)pl.left;
        out->frag_wire_len = wire_len;
        st->frags++;
        return NP_DEC_OK;
    }
    return np_decode_l4(proto, &pl, wire_len, out, st);
}
