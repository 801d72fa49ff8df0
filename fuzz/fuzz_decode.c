/* fuzz/fuzz_decode.c: the decoder and IP reassembly on arbitrary bytes.
 *
 * Input layout, byte 0 is the mode:
 *   bits 0-3  link type: index into 'linktypes' (modulo its size)
 *   bits 4-5  wire length = captured length + 512 * this (snaplen cuts)
 *   bit 6     several frames follow, each as a 2-byte big-endian length
 *             (bit 15: advance capture time by 31 s first, to reach the
 *             reassembly timeout) and that many bytes; otherwise the rest
 *             of the input is one frame
 *   bit 7     not a frame: byte 1 is an IP protocol, bit 6 of byte 0 says
 *             IPv6, and the rest goes to np_decode_ip_payload_wire()
 * Fragments go into a small reassembly table made for each input (so a run
 * depends on its input only), and a completed datagram is decoded as
 * np_decode_ip_payload_wire() would be by the flow layer. Every frame is
 * copied to an allocation of exactly its size, so ASan sees any over-read.
 *
 * Seeds in fuzz/corpus/decode/ are frames taken from ../shared/corpus,
 * named <capture>-<frame>, with the mode byte prepended.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "decode/decode.h"
#include "decode/frag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t linktypes[] = { 1, 0, 12, 101, 108, 113, 228, 229, 276 };

#define N_LINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))
#define SEC         1000000000ull

static void one_frame(struct np_frag_table *ft, uint16_t lt, const uint8_t *p, size_t n,
                      uint32_t extra_wire, uint64_t ts_ns, struct np_dec_stats *st)
{
    uint8_t *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL)
        return;
    memcpy(copy, p, n);
    struct np_dpkt d;
    np_decode(lt, copy, (uint32_t)n, (uint32_t)n + extra_wire, &d, st);
    struct np_frag_done done;
    if (d.is_frag && np_frag_add(ft, &d, ts_ns, (uint32_t)n + extra_wire, (uint32_t)n, &done)) {
        if (done.len > done.wire_len || done.n_frames == 0)
            abort();
        np_decode_ip_payload_wire(done.proto, done.data, done.len, done.wire_len, &d, st);
    }
    np_frag_expire(ft, ts_ns);
    free(copy);
}

static void ip_payload(uint8_t mode, struct np_cur *c)
{
    uint8_t proto = np_cur_u8(c);
    if (c->bad)
        return;
    size_t n = c->left;
    uint8_t *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL)
        return;
    np_cur_copy(c, copy, n);
    struct np_dpkt d;
    struct np_dec_stats st = { 0 };
    memset(&d, 0, sizeof(d));
    d.ip_ver = (mode & 0x40) ? 6 : 4;
    np_decode_ip_payload_wire(proto, copy, (uint32_t)n, (uint32_t)n + 100, &d, &st);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_cur c = np_cur_make(data, size);
    uint8_t mode = np_cur_u8(&c);
    if (c.bad)
        return 0;
    if (mode & 0x80) {
        ip_payload(mode, &c);
        return 0;
    }
    uint16_t lt = linktypes[(mode & 0x0f) % N_LINKTYPES];
    uint32_t extra_wire = 512u * ((mode >> 4) & 3u);
    struct np_frag_cfg cfg = { .max_datagrams = 4, .max_bytes = 8 * NP_FRAG_CHUNK };
    struct np_frag_table *ft = np_frag_create(&cfg, NULL);
    if (ft == NULL)
        return 0;
    struct np_dec_stats st = { 0 };
    if (!(mode & 0x40)) {
        one_frame(ft, lt, c.p, c.left, extra_wire, 1, &st);
    } else {
        uint64_t ts = SEC;
        /* Each turn consumes at least the 2-byte length. */
        while (c.left >= 2) {
            uint16_t h = np_cur_be16(&c);
            struct np_cur f = np_cur_take_upto(&c, h & 0x7fffu);
            ts += (h & 0x8000u) ? 31 * SEC : 1000;
            one_frame(ft, lt, f.p, f.left, extra_wire, ts, &st);
        }
    }
    np_frag_destroy(ft);
    return 0;
}
