/* fuzz/fuzz_pkt_line.c: packet lines (sink/pkt_line.h) on arbitrary bytes.
 *
 * Input layout, byte 0 is the mode:
 *   bits 0-3  link type: index into 'linktypes' (modulo its size; the last
 *             one is a link type the decoder does not handle)
 *   bits 4-5  wire length = captured length + 512 * this (snaplen cuts)
 *   bit 6     show_data (hex dump / "data")
 *   bit 7     a small summary buffer (cap 1 + byte 1 % 64; byte 1 is then
 *             not part of the frame)
 * The rest is one frame, copied to an allocation of exactly its size so
 * ASan sees any over-read. It is written as text and as JSON into an np_out
 * on /dev/null with a small buffer, so spills happen mid-line too.
 *
 * Seeds in fuzz/corpus/pkt_line/ are frames with the mode byte prepended.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cursor.h"
#include "core/out.h"
#include "core/packet.h"
#include "sink/pkt_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t linktypes[] = { 1, 0, 12, 101, 108, 113, 228, 229, 276, 147 };

#define N_LINKTYPES (sizeof(linktypes) / sizeof(linktypes[0]))

static int null_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_cur c = np_cur_make(data, size);
    uint8_t mode = np_cur_u8(&c);
    if (c.bad)
        return 0;
    size_t small_cap = 0;
    if (mode & 0x80) {
        small_cap = 1 + np_cur_u8(&c) % 64u;
        if (c.bad)
            return 0;
    }
    if (null_fd < 0)
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0)
        abort();
    size_t n = c.left;
    uint8_t *copy = malloc(n > 0 ? n : 1);
    if (copy == NULL)
        return 0;
    np_cur_copy(&c, copy, n);
    struct np_pkt p = {
        .ts_ns = (uint64_t)n * 1000003u,
        .frame_no = n,
        .data = copy,
        .caplen = (uint32_t)n,
        .wirelen = (uint32_t)n + 512u * ((mode >> 4) & 3u),
        .linktype = linktypes[(mode & 0x0f) % N_LINKTYPES],
        .ts_prec = 9,
    };
    struct np_out o;
    if (np_out_init(&o, null_fd, 256) != 0) {
        free(copy);
        return 0;
    }
    struct np_pkt_line_opts text = { NP_PKT_LINE_TEXT, (mode & 0x40) != 0 };
    struct np_pkt_line_opts json = { NP_PKT_LINE_JSON, (mode & 0x40) != 0 };
    np_pkt_line_write(&o, &p, &text);
    np_pkt_line_write(&o, &p, &json);
    np_out_flush(&o);
    np_out_fini(&o);

    char sum[NP_PKT_LINE_SUMMARY_MAX];
    size_t cap = small_cap ? small_cap : sizeof(sum);
    size_t len = np_pkt_line_summary(sum, cap, &p);
    if (len >= cap || sum[len] != '\0' || strlen(sum) != len)
        abort();
    free(copy);
    return 0;
}
