/* decode/tcp.c: the TCP header and the options a flow needs (RFC 9293
 * section 3.1; options: MSS section 3.2, window scale and timestamps RFC
 * 7323 sections 2.2 and 3.2, SACK RFC 2018 sections 2 and 3).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Sequence Number                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Acknowledgment Number                      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  Data |       |C|E|U|A|P|R|S|F|                               |
 *  | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *  |       |       |R|E|G|K|H|T|N|N|                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           Checksum            |         Urgent Pointer        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    Options                    |    Padding    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Options are kind, length, value, except EOL (0) and NOP (1). Known kinds:
 * MSS (2, len 4), window scale (3, len 3), SACK permitted (4, len 2), SACK
 * (5, len 2 + 8n), timestamps (8, len 10). A length below 2, one running
 * past the data offset, or a wrong length for a known kind is counted
 * (anom_tcp_bad_option) and ends option parsing; the packet is kept.
 * Options cut by the snapshot length end parsing too (anom_tcp_truncated).
 * The payload length on the wire comes from the IP length; the checksum is
 * not verified.
 */
#include "decode/decode_int.h"

enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WSCALE = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
};

/* Parses the options in o. cut: o holds fewer bytes than the data offset
 * declares, so running out of bytes is truncation, not a bad length. */
static void parse_options(struct np_cur *o, bool cut, struct np_tcp_opts *opt,
                          struct np_dec_stats *st)
{
    /* Each turn consumes at least one byte of at most 40. */
    while (o->left > 0) {
        uint8_t kind = np_cur_u8(o);
        if (kind == OPT_EOL)
            return;
        if (kind == OPT_NOP)
            continue;
        if (o->left == 0) { /* no length byte */
            if (!cut)
                st->anom_tcp_bad_option++;
            return;
        }
        uint8_t len = np_cur_u8(o);
        if (len < 2) {
            st->anom_tcp_bad_option++;
            return;
        }
        if (len - 2u > o->left) {
            if (!cut)
                st->anom_tcp_bad_option++;
            return;
        }
        struct np_cur v = np_cur_take(o, len - 2u);
        bool ok = true;
        switch (kind) {
        case OPT_MSS:
            if ((ok = len == 4))
                opt->mss = np_cur_be16(&v);
            break;
        case OPT_WSCALE:
            if ((ok = len == 3)) {
                opt->wscale = np_cur_u8(&v);
                opt->has_wscale = true;
            }
            break;
        case OPT_SACK_PERM:
            if ((ok = len == 2))
                opt->sack_permitted = true;
            break;
        case OPT_SACK:
            ok = len >= 10 && (len - 2u) % 8u == 0;
            /* At most NP_MAX_SACK blocks kept (4 fit in 40 bytes anyway). */
            for (unsigned i = 0; ok && i < (len - 2u) / 8u && i < NP_MAX_SACK; i++) {
                opt->sack[i][0] = np_cur_be32(&v);
                opt->sack[i][1] = np_cur_be32(&v);
                opt->n_sack = (uint8_t)(i + 1);
            }
            break;
        case OPT_TS:
            if ((ok = len == 10)) {
                opt->ts_val = np_cur_be32(&v);
                opt->ts_ecr = np_cur_be32(&v);
                opt->has_ts = true;
            }
            break;
        default:
            break; /* skipped: MPTCP, TFO cookie, MD5, ... */
        }
        if (!ok) {
            st->anom_tcp_bad_option++;
            return;
        }
    }
}

enum np_dec np_decode_tcp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                          struct np_dec_stats *st)
{
    st->tcp++;
    uint8_t h[20];
    np_cur_copy(c, h, sizeof(h));
    if (c->bad) {
        st->anom_tcp_truncated++;
        return NP_DEC_TRUNCATED;
    }
    uint32_t hlen = (uint32_t)(h[12] >> 4) * 4u;
    out->sport = np_hdr16(h, 0);
    out->dport = np_hdr16(h, 2);
    out->seq = np_hdr32(h, 4);
    out->ack = np_hdr32(h, 8);
    out->tcp_flags = h[13];
    out->win = np_hdr16(h, 14);
    out->tcp_hlen = (uint8_t)hlen;
    if (hlen < 20 || hlen > wire_len) {
        st->anom_tcp_bad_offset++;
        return NP_DEC_MALFORMED;
    }
    out->l4_ok = true;

    enum np_dec v = NP_DEC_OK;
    struct np_cur o = np_cur_take_upto(c, hlen - 20);
    bool cut = o.left < hlen - 20;
    parse_options(&o, cut, &out->opt, st);
    if (cut) {
        st->anom_tcp_truncated++;
        v = NP_DEC_TRUNCATED;
    }
    np_dec_set_payload(out, c, wire_len - hlen);
    return v;
}
