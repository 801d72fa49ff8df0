/* fuzz/fuzz_hs_expr.c: tcpeek filter expressions (analyze/hs_expr.h) on
 * arbitrary bytes.
 *
 * Input layout: lines separated by '\n'. Each line is parsed as one
 * expression and, when that fails, as a --local address. After the last
 * line the filters are finished and every session made from each 16-byte
 * window of the input (addresses, port, which side is local, IPv4 or IPv6)
 * is matched. Each line is copied to an allocation of exactly its size
 * plus the NUL, so ASan sees any over-read.
 *
 * Seeds in fuzz/corpus/hs_expr/ are command lines, one expression a line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/hs_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_hs_exprs x;
    struct np_hs_local l;
    struct np_err err;
    np_hs_exprs_init(&x);
    np_hs_local_init(&l);
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
        char *line = malloc(n + 1);
        if (line == NULL)
            break;
        memcpy(line, data + i, n);
        line[n] = '\0';
        if (np_hs_exprs_add(&x, line, &err) != NP_OK)
            (void)np_hs_local_add(&l, line, &err);
        free(line);
        i += n + 1;
    }
    if (np_hs_exprs_finish(&x, &err) == NP_OK) {
        for (size_t off = 0; off + 16 <= size; off += 16) {
            uint8_t a[16], b[16];
            memcpy(a, data + off, 16);
            memcpy(b, data + off, 16);
            b[15] ^= 0x5a;
            uint8_t ver = (data[off] & 1) ? 6 : 4;
            struct np_hs_conn c = {
                ver,
                a,
                b,
                (uint16_t)(data[off + 1] << 8 | data[off + 2]),
                (uint16_t)(data[off + 3] << 8 | data[off + 4]),
                np_hs_local_has(&l, ver, a),
                (data[off + 5] & 1) != 0,
            };
            uint64_t m = np_hs_exprs_match(&x, &c);
            if (x.n_named < 64 && (m >> x.n_named) != 0)
                abort(); /* a bit beyond the named filters */
        }
    }
    np_hs_local_fini(&l);
    np_hs_exprs_fini(&x);
    return 0;
}
