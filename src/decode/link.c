/* decode/link.c: BSD loopback encapsulation (link types 0 and 108).
 *
 * https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html and LINKTYPE_LOOP:
 * a 4-byte address family, then the packet.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                     address family (4)                        |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * LINKTYPE_NULL stores the family in the byte order of the machine that
 * captured, which the file does not say: both orders are tried. AF_INET is
 * 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD,
 * DragonFly) or 30 (macOS). Like tshark (packet-null.c) we also take the
 * headers of old writers: IRIX and UNICOS/mp put a 16-bit big-endian family
 * in the first two bytes; old Linux libpcap put an ethertype in the last two.
 * FF 03 starts PPP in HDLC-like framing, which we do not decode. LINKTYPE_LOOP
 * (OpenBSD) uses network order only.
 */
#include "decode/decode_int.h"

static int family_l3(uint32_t af)
{
    switch (af) {
    case 2:
        return 4;
    case 24:
    case 28:
    case 30:
        return 6;
    default:
        return 0;
    }
}

enum np_dec np_decode_null(struct np_dec_ctx *x, bool network_order)
{
    struct np_cur probe = x->c;
    uint8_t b0 = np_cur_u8(&probe);
    uint8_t b1 = np_cur_u8(&probe);
    uint16_t low = np_cur_be16(&probe);
    struct np_cur probe_be = x->c;
    uint32_t be = np_cur_be32(&probe_be);
    uint32_t le = np_cur_le32(&x->c);
    if (x->c.bad) {
        x->st->anom_link_truncated++;
        return NP_DEC_TRUNCATED;
    }
    int v = family_l3(be);
    if (!network_order && v == 0) {
        if (b0 == 0xff && b1 == 0x03) {
            v = 0; /* PPP */
        } else if ((v = family_l3(le)) != 0) {
            /* BSD, little-endian host */
        } else if (low >= NP_ETH_MIN_TYPE) {
            return np_decode_ethertype(x, low); /* old Linux */
        } else {
            v = family_l3((uint32_t)b0 << 8 | b1); /* IRIX, UNICOS/mp */
        }
    }
    if (v == 4)
        return np_decode_ipv4(x);
    if (v == 6)
        return np_decode_ipv6(x);
    x->out->l3 = NP_L3_OTHER;
    x->st->other_l3++;
    return NP_DEC_OK;
}
