/* decode/vlan.c: IEEE 802.1Q customer and 802.1ad service VLAN tags.
 *
 * IEEE 802.1Q-2018 clause 9.6 (VLAN tag format). The TPID (0x8100, 0x88a8,
 * or the pre-standard 0x9100 that tshark also takes) was read as the
 * ethertype; the tag's other half and the next ethertype follow:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | PCP |D|        VLAN id        |  next ethertype or length     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Stacks of up to NP_MAX_VLAN tags are followed and the outermost id is
 * kept; a deeper stack is counted (anom_vlan_too_deep) and decoding stops.
 */
#include "decode/decode_int.h"

enum np_dec np_decode_vlan(struct np_dec_ctx *x, uint16_t *type)
{
    struct np_dpkt *out = x->out;

    if (out->n_vlan == 0)
        x->st->vlan++; /* frames with at least one tag */
    if (out->n_vlan < UINT8_MAX)
        out->n_vlan++;
    if (out->n_vlan > NP_MAX_VLAN) {
        x->st->anom_vlan_too_deep++;
        out->l3 = NP_L3_OTHER;
        x->st->other_l3++;
        return NP_DEC_UNSUPPORTED;
    }
    uint16_t tci = np_cur_be16(&x->c);
    *type = np_cur_be16(&x->c);
    if (x->c.bad) {
        x->st->anom_link_truncated++;
        return NP_DEC_TRUNCATED;
    }
    if (out->n_vlan == 1)
        out->vlan = tci & 0x0fffu;
    return NP_DEC_OK;
}
