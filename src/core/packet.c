/* core/packet.c: batch allocation. Runs at start-up only.
 *
 * Packet records and bytes live in huge-page mappings (core/mem.h): a 4 MiB
 * buffer in 4 KiB pages takes a thousand page faults on its first fill,
 * which costs more than reading a small capture. */
#include "core/packet.h"

#include <stdlib.h>

#include "core/mem.h"

struct np_batch *np_batch_create(uint32_t cap_pkts, size_t buf_bytes)
{
    struct np_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->cap_pkts = cap_pkts; /* set first: destroy frees by these sizes */
    b->cap = buf_bytes;
    b->pkts = np_mem_alloc((size_t)cap_pkts * sizeof(*b->pkts));
    b->buf = np_mem_alloc(buf_bytes);
    if (b->pkts == NULL || b->buf == NULL) {
        np_batch_destroy(b);
        return NULL;
    }
    return b;
}

void np_batch_destroy(struct np_batch *b)
{
    if (b == NULL)
        return;
    np_mem_free(b->pkts, (size_t)b->cap_pkts * sizeof(*b->pkts));
    np_mem_free(b->buf, b->cap);
    free(b);
}

void np_batch_reset(struct np_batch *b)
{
    b->n = 0;
    b->len = 0;
    b->tick_ns = 0;
}

int np_batch_reserve(struct np_batch *b, size_t min_bytes)
{
    if (b->cap >= min_bytes)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < min_bytes)
        cap *= 2;
    uint8_t *nb = np_mem_resize(b->buf, b->cap, cap);
    if (nb == NULL)
        return -1;
    b->buf = nb;
    b->cap = cap;
    return 0;
}
