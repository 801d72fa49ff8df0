/* core/packet.c: batch allocation. Runs at start-up only. */
#include "core/packet.h"

#include <stdlib.h>

struct np_batch *np_batch_create(uint32_t cap_pkts, size_t buf_bytes)
{
    struct np_batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->pkts = calloc(cap_pkts, sizeof(*b->pkts));
    b->buf = malloc(buf_bytes);
    if (b->pkts == NULL || b->buf == NULL) {
        np_batch_destroy(b);
        return NULL;
    }
    b->cap_pkts = cap_pkts;
    b->cap = buf_bytes;
    return b;
}

void np_batch_destroy(struct np_batch *b)
{
    if (b == NULL)
        return;
    free(b->pkts);
    free(b->buf);
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
    uint8_t *nb = realloc(b->buf, cap);
    if (nb == NULL)
        return -1;
    b->buf = nb;
    b->cap = cap;
    return 0;
}
