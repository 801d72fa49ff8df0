/* core/packet.h: the packet and the recycled batch that carries packets
 * between stages.
 *
 * A source fills a batch: packet records in pkts[], their bytes in buf.
 * Packet data is borrowed from the batch until the batch is refilled or
 * destroyed; a stage that must keep bytes longer copies them. Batches are
 * created once and reused: nothing is allocated per packet.
 */
#ifndef NP_CORE_PACKET_H
#define NP_CORE_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* Link types (LINKTYPE_* values as stored in pcap and pcapng files). */
enum {
    NP_LINK_NULL = 0,
    NP_LINK_ETHERNET = 1,
    NP_LINK_RAW_OLD = 12, /* raw IP on some BSDs and in pcapng files */
    NP_LINK_RAW = 101,
    NP_LINK_LOOP = 108,
    NP_LINK_SLL = 113,
    NP_LINK_IPV4 = 228,
    NP_LINK_IPV6 = 229,
    NP_LINK_SLL2 = 276,
};

struct np_pkt {
    uint64_t ts_ns;      /* capture timestamp, nanoseconds since the epoch */
    uint64_t frame_no;   /* 1-based, in input order across all inputs */
    const uint8_t *data; /* borrowed from the batch until it is refilled */
    uint32_t caplen;     /* bytes in data */
    uint32_t wirelen;    /* on the wire; >= caplen */
    uint32_t ifid;       /* interface id: pcapng interface index, else 0 */
    uint16_t linktype;   /* LINKTYPE_* (lower 16 bits of the file's field) */
    uint16_t ts_prec;    /* 6 or 9: digits of the source's timestamp resolution */
};

struct np_batch {
    struct np_pkt *pkts; /* owned; cap_pkts entries */
    uint32_t n;          /* packets filled */
    uint32_t cap_pkts;
    uint8_t *buf;     /* owned; packet bytes of this batch */
    size_t len;       /* bytes of buf in use */
    size_t cap;       /* bytes allocated */
    uint64_t tick_ns; /* live sources: wall clock when filled, so idle timeouts
                       * fire on a quiet link; 0 for files */
};

/* Allocates a batch for cap_pkts packets and buf_bytes bytes. NULL on ENOMEM. */
struct np_batch *np_batch_create(uint32_t cap_pkts, size_t buf_bytes);
void np_batch_destroy(struct np_batch *b);
/* Empties the batch, keeping its memory. */
void np_batch_reset(struct np_batch *b);
/* Grows buf to at least min_bytes, keeping its contents; packet data pointers
 * into buf are NOT fixed up, so call it only while no packet points there.
 * Returns 0, or -1 on ENOMEM (the batch is unchanged). */
int np_batch_reserve(struct np_batch *b, size_t min_bytes);

#endif
