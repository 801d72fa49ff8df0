/* decode/arp.c: ARP (ethertype 0x0806) and RARP (0x8035, RFC 903, the same
 * format), recognised and counted.
 *
 * RFC 826; the fixed part, then sender and target addresses whose sizes
 * the header gives:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |      hardware type            |       protocol type           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  hw addr len  | proto addr len|          operation            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | sender hw addr, sender proto addr, target hw addr, target ... |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
#include "decode/decode_int.h"

enum np_dec np_decode_arp(struct np_dec_ctx *x)
{
    x->out->l3 = NP_L3_ARP;
    x->st->arp++;
    np_cur_skip(&x->c, 4); /* hardware and protocol types */
    uint8_t hlen = np_cur_u8(&x->c);
    uint8_t plen = np_cur_u8(&x->c);
    np_cur_skip(&x->c, 2);                          /* operation */
    np_cur_skip(&x->c, 2u * ((size_t)hlen + plen)); /* addresses */
    if (x->c.bad) {
        x->st->anom_arp_truncated++;
        return NP_DEC_TRUNCATED;
    }
    return NP_DEC_OK;
}
