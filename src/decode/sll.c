/* decode/sll.c: Linux cooked captures, SLL (link type 113) and SLL2 (276).
 *
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        packet type            |     ARPHRD_ type              |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  link-layer address length    |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 *  |                link-layer address (8)                         |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               |        protocol type          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html:
 *
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |        protocol type          |        reserved (MBZ)         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                       interface index                         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |         ARPHRD_ type          |  packet type  | addr. length  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                link-layer address (8)                         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The protocol type is an ethertype for most ARPHRD_ types (Ethernet,
 * loopback, tunnels, ARPHRD_NONE, and ARPHRD_IPGRE, where it is GRE's
 * protocol type, also an ethertype). It is not for netlink (824), radiotap
 * (803) and frame relay (770), and values below 0x0600 are Linux's own
 * (ETH_P_802_3, ETH_P_802_2, CAN, ...): those frames are l3 OTHER.
 */
#include "decode/decode_int.h"

enum {
    ARPHRD_FRAD = 770,
    ARPHRD_IEEE80211_RADIOTAP = 803,
    ARPHRD_NETLINK = 824,
};

static enum np_dec after_cooked(struct np_dec_ctx *x, uint16_t hatype, uint16_t proto)
{
    if (hatype == ARPHRD_NETLINK || hatype == ARPHRD_IEEE80211_RADIOTAP || hatype == ARPHRD_FRAD ||
        proto < NP_ETH_MIN_TYPE) {
        x->out->l3 = NP_L3_OTHER;
        x->st->other_l3++;
        return NP_DEC_OK;
    }
    return np_decode_ethertype(x, proto);
}

enum np_dec np_decode_sll(struct np_dec_ctx *x)
{
    np_cur_skip(&x->c, 2); /* packet type */
    uint16_t hatype = np_cur_be16(&x->c);
    np_cur_skip(&x->c, 10); /* address length, address */
    uint16_t proto = np_cur_be16(&x->c);
    if (x->c.bad) {
        x->st->anom_link_truncated++;
        return NP_DEC_TRUNCATED;
    }
    return after_cooked(x, hatype, proto);
}

enum np_dec np_decode_sll2(struct np_dec_ctx *x)
{
    uint16_t proto = np_cur_be16(&x->c);
    np_cur_skip(&x->c, 6); /* reserved, interface index */
    uint16_t hatype = np_cur_be16(&x->c);
    np_cur_skip(&x->c, 10); /* packet type, address length, address */
    if (x->c.bad) {
        x->st->anom_link_truncated++;
        return NP_DEC_TRUNCATED;
    }
    return after_cooked(x, hatype, proto);
}
