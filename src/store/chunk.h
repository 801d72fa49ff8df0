/* store/chunk.h: the packet records inside a chunk blob (internal).
 *
 * A chunk blob is a run of records, each a 28-byte header followed by the
 * captured bytes, all fields little-endian (docs/storage.md):
 *
 *    0  u64 ts_ns     capture time, ns since the epoch
 *    8  u64 flow_id   np_flow_id of the packet's flow; 0 for none
 *   16  u32 caplen    bytes that follow the header
 *   20  u32 wirelen   length on the wire (>= caplen)
 *   24  u32 ifid      the session's interface (table ifaces)
 *   28  caplen bytes
 *
 * Blobs come back from a file that anyone may have changed, so the reader
 * goes through struct np_cur and never past the blob's end; a blob whose
 * records do not end exactly at its end, or whose count differs from the
 * chunk row's, is damaged.
 */
#ifndef NP_STORE_CHUNK_H
#define NP_STORE_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cursor.h"

#define NP_CHUNK_HDR 28u

struct np_chunk_rec {
    uint64_t ts_ns;
    uint64_t flow_id;
    uint32_t caplen;
    uint32_t wirelen;
    uint32_t ifid;
    const uint8_t *data; /* caplen bytes; borrowed from the blob */
};

/* Writes one record (header and caplen bytes of data) at dst, which has
 * room for NP_CHUNK_HDR + caplen bytes; returns the bytes written. */
size_t np_chunk_put(uint8_t *dst, uint64_t ts_ns, uint64_t flow_id, uint32_t caplen,
                    uint32_t wirelen, uint32_t ifid, const uint8_t *data);

/* Reads the next record from c into r. False at the end of c (c->left == 0,
 * c not bad) or when the record runs past the end or is impossible
 * (wirelen < caplen): then c is bad. */
bool np_chunk_next(struct np_cur *c, struct np_chunk_rec *r);

/* True when the blob holds exactly n_pkts sound records and nothing after
 * them. Reads only the headers. */
bool np_chunk_check(const uint8_t *blob, size_t n, uint64_t n_pkts);

#endif
