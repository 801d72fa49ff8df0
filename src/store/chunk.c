/* store/chunk.c: writing and reading the packet records of a chunk blob.
 *
 * The format is in chunk.h and docs/storage.md. Writing runs once per
 * packet (byte stores, no allocation); reading goes through struct np_cur.
 */
#include "store/chunk.h"

#include <string.h>

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

size_t np_chunk_put(uint8_t *dst, uint64_t ts_ns, uint64_t flow_id, uint32_t caplen,
                    uint32_t wirelen, uint32_t ifid, const uint8_t *data)
{
    put_le64(dst, ts_ns);
    put_le64(dst + 8, flow_id);
    put_le32(dst + 16, caplen);
    put_le32(dst + 20, wirelen);
    put_le32(dst + 24, ifid);
    if (caplen > 0)
        memcpy(dst + NP_CHUNK_HDR, data, caplen);
    return NP_CHUNK_HDR + (size_t)caplen;
}

static uint64_t cur_le64(struct np_cur *c)
{
    uint64_t lo = np_cur_le32(c);
    uint64_t hi = np_cur_le32(c);
    return lo | hi << 32;
}

bool np_chunk_next(struct np_cur *c, struct np_chunk_rec *r)
{
    if (c->bad || c->left == 0)
        return false;
    r->ts_ns = cur_le64(c);
    r->flow_id = cur_le64(c);
    r->caplen = np_cur_le32(c);
    r->wirelen = np_cur_le32(c);
    r->ifid = np_cur_le32(c);
    if (c->bad)
        return false;
    if (r->wirelen < r->caplen) {
        c->bad = true;
        return false;
    }
    struct np_cur data = np_cur_take(c, r->caplen);
    if (data.bad)
        return false; /* c is bad too */
    r->data = data.p;
    return true;
}

bool np_chunk_check(const uint8_t *blob, size_t n, uint64_t n_pkts)
{
    struct np_cur c = np_cur_make(blob, n);
    struct np_chunk_rec r;
    uint64_t k = 0;
    while (np_chunk_next(&c, &r))
        k++;
    return !c.bad && c.left == 0 && k == n_pkts;
}
