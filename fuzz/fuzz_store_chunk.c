/* fuzz/fuzz_store_chunk.c: the chunk blob parser (store/chunk.h) on
 * arbitrary bytes.
 *
 * Input layout: byte 0 is the packet count the chunk row claims (0-255);
 * the rest is the blob. The blob is copied to an allocation of exactly its
 * size, so ASan sees any over-read. np_chunk_check() must agree with a walk
 * by np_chunk_next(), and every record it yields must lie inside the blob.
 *
 * Seeds in fuzz/corpus/store_chunk/: sound chunks of 0, 1 and 3 records
 * (one with caplen 0), and damaged ones (record cut, wirelen < caplen,
 * trailing bytes, count mismatch).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "store/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct np_cur in = np_cur_make(data, size);
    uint8_t n_claimed = np_cur_u8(&in);
    if (in.bad)
        return 0;
    size_t n = in.left;
    uint8_t *blob = malloc(n > 0 ? n : 1);
    if (blob == NULL)
        return 0;
    np_cur_copy(&in, blob, n);

    bool ok = np_chunk_check(blob, n, n_claimed);
    struct np_cur c = np_cur_make(blob, n);
    struct np_chunk_rec r;
    uint64_t k = 0;
    volatile uint8_t sink = 0;
    while (np_chunk_next(&c, &r)) {
        if (r.caplen > r.wirelen || r.data < blob || r.data + r.caplen > blob + n)
            abort();
        if (r.caplen > 0)
            sink ^= r.data[0] ^ r.data[r.caplen - 1];
        k++;
    }
    (void)sink;
    if (ok != (!c.bad && c.left == 0 && k == n_claimed))
        abort();
    free(blob);
    return 0;
}
