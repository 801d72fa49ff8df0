/* decode/eth.c: Ethernet II and IEEE 802.3 frames (link type 1).
 *
 * IEEE 802.3-2018 clause 3.2 (MAC frame); Ethernet II (DIX) when the
 * type/length field is an ethertype (>= 0x0600), else an 802.3 length
 * followed by an 802.2 LLC header, which we do not decode (l3 OTHER).
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  destination address (6)                      |
 *  +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                               |                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+     source address (6)        +
 *  |                                                               |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     type or length (2)        |  payload ... (FCS not captured)
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include "decode/decode_int.h"

enum np_dec np_decode_eth(struct np_dec_ctx *x)
{
    np_cur_skip(&x->c, 12); /* destination and source addresses */
    uint16_t type = np_cur_be16(&x->c);
    if (x->c.bad) {
        x->st->anom_link_truncated++;
        return NP_DEC_TRUNCATED;
    }
    return np_decode_ethertype(x, type);
}
