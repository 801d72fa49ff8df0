/* decode/udp.c: the UDP header (RFC 768), and the UDP tunnels we count.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |          Source Port          |       Destination Port        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            Length             |           Checksum            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Length counts the header. Below 8 it is impossible (MALFORMED, no ports
 * trusted). Beyond the IP payload it is counted and the payload is what
 * the IP payload holds. Shorter than the IP payload: the rest is not UDP
 * payload. 0 over IPv6 is a jumbogram's (RFC 2675 section 4): the IP payload
 * gives the length. VXLAN (4789, RFC 7348), Geneve (6081, RFC 8926) and
 * GTP-U (2152, 3GPP TS 29.281) on either port are counted as encapsulation;
 * the UDP flow itself is decoded as usual.
 */
#include "decode/decode_int.h"

enum {
    PORT_GTPU = 2152,
    PORT_VXLAN = 4789,
    PORT_GENEVE = 6081,
};

static bool either(const struct np_dpkt *out, uint16_t port)
{
    return out->sport == port || out->dport == port;
}

enum np_dec np_decode_udp(struct np_cur *c, uint32_t wire_len, struct np_dpkt *out,
                          struct np_dec_stats *st)
{
    st->udp++;
    uint8_t h[8];
    np_cur_copy(c, h, sizeof(h)); /* the checksum is not verified */
    if (c->bad) {
        st->anom_udp_truncated++;
        return NP_DEC_TRUNCATED;
    }
    out->sport = np_hdr16(h, 0);
    out->dport = np_hdr16(h, 2);
    uint32_t len = np_hdr16(h, 4);
    if (len == 0 && out->ip_ver == 6)
        len = wire_len;
    if (len < 8) {
        st->anom_udp_bad_len++;
        return NP_DEC_MALFORMED;
    }
    if (len > wire_len) {
        st->anom_udp_bad_len++;
        len = wire_len;
    }
    out->l4_ok = true;
    struct np_cur pl = np_cur_take_upto(c, len - 8u);
    np_dec_set_payload(out, &pl, len - 8u);

    if (either(out, PORT_VXLAN))
        np_dec_encap(out, &st->encap_vxlan, NP_ENCAP_VXLAN);
    else if (either(out, PORT_GENEVE))
        np_dec_encap(out, &st->encap_geneve, NP_ENCAP_GENEVE);
    else if (either(out, PORT_GTPU))
        np_dec_encap(out, &st->encap_gtpu, NP_ENCAP_GTPU);
    return NP_DEC_OK;
}
