/* decode/frag.h: IPv4 and IPv6 fragment reassembly.
 *
 * The caller decodes a frame with np_decode(); when the view says is_frag it
 * hands the view to np_frag_add(), which copies the fragment's bytes and
 * reports when a datagram is complete. The caller then decodes the
 * transport layer of the whole datagram:
 *
 *     struct np_frag_done done;
 *     if (d.is_frag && np_frag_add(t, &d, pkt->ts_ns, pkt->wirelen, pkt->caplen, &done))
 *         np_decode_ip_payload_wire(done.proto, done.data, done.len, done.wire_len, &d, st);
 *
 * Datagrams are keyed on (IP version, source, destination, identification)
 * and, for IPv4, the protocol (RFC 791 section 3.2). IPv6 leaves the next
 * header out of the key (RFC 8200 section 4.5: it may differ between
 * fragments; the one of the offset-0 fragment counts), as tshark does.
 *
 * A datagram is complete when the last fragment (MF 0) was seen and every
 * byte from 0 to its end is covered. Overlapping bytes: the first copy
 * wins. Duplicates that arrive before completion count as frames of the
 * datagram (like tshark's ip.fragment list); a fragment arriving after its
 * datagram completed starts a new datagram, which times out unless it
 * completes again. Payloads end at 65535 bytes: beyond is counted
 * (too_big); IPv6 jumbograms are not reassembled.
 *
 * Fragments cut by the snapshot length (frag_len < frag_wire_len) still
 * cover their bytes on the wire, so the datagram completes; its payload is
 * then the bytes captured from offset 0 up to the first byte that was not
 * (done.len < done.wire_len, counted as truncated). tshark instead leaves
 * such fragments out and never completes the datagram; we keep the
 * transport header of the first fragment, which flows need.
 *
 * Bounds, all preallocated by np_frag_create(): datagrams in reassembly at
 * once, and bytes held (in chunks of NP_FRAG_CHUNK). When either runs out
 * the oldest datagram is dropped (evicted). Datagrams time out
 * timeout_ns of capture time after their first fragment, IPv4 and IPv6
 * alike. Nothing is allocated per packet. One table belongs to one thread.
 */
#ifndef NP_DECODE_FRAG_H
#define NP_DECODE_FRAG_H

#include <stdbool.h>
#include <stdint.h>

struct np_dpkt;
struct np_err;
struct np_frag_table;

#define NP_FRAG_CHUNK           2048u  /* bytes are held in chunks of this size */
#define NP_FRAG_MAX_PAYLOAD     65535u /* largest datagram payload reassembled */
#define NP_FRAG_MAX_RANGES      16     /* disjoint byte ranges held per datagram */
#define NP_FRAG_EXPIRE_PER_CALL 64     /* datagrams np_frag_expire() drops per call */

/* Zero fields take the defaults. */
struct np_frag_cfg {
    uint32_t max_datagrams; /* in reassembly at once; default 1024 */
    uint32_t max_bytes;     /* held by all datagrams, rounded up to chunks; default 4 MiB */
    uint64_t timeout_ns;    /* capture time from a datagram's first fragment; default 30 s */
};

struct np_frag_stats {
    uint64_t fragments; /* fragments given to np_frag_add */
    uint64_t completed; /* datagrams reassembled */
    uint64_t truncated; /* ... of which bytes were cut by the snapshot length */
    uint64_t timeouts;  /* datagrams dropped incomplete after timeout_ns */
    uint64_t evicted;   /* datagrams dropped incomplete to make room */
    uint64_t overlaps;  /* fragments overlapping bytes already held (duplicates too) */
    uint64_t too_big;   /* fragments ending beyond NP_FRAG_MAX_PAYLOAD: ignored */
    uint64_t bad;       /* fragments ignored: empty, a second different end, bytes past
                         * the end, more than NP_FRAG_MAX_RANGES holes, not a fragment */
};

/* A reassembled datagram. */
struct np_frag_done {
    const uint8_t *data; /* the payload after the IP header (IPv4) or the fragment
                          * header (IPv6); owned by the table, valid until the next
                          * np_frag_add, np_frag_expire or np_frag_destroy */
    uint32_t len;        /* bytes of it captured, from offset 0 */
    uint32_t wire_len;   /* bytes of it per the fragments' IP headers (>= len) */
    uint8_t proto;       /* the offset-0 fragment's (next header after the fragment header) */
    uint32_t n_frames;   /* fragment frames that made it, duplicates included */
    uint64_t frames_wire_bytes; /* sum of those frames' wire lengths */
    uint64_t frames_cap_bytes;  /* sum of those frames' captured lengths */
    uint64_t first_ts_ns;       /* capture time of its first fragment */
};

/* Allocates a table: everything it will use. cfg may be NULL (defaults).
 * NULL on failure, with err set (NP_ERR_NOMEM, or NP_ERR_USAGE for a bound
 * too large). */
struct np_frag_table *np_frag_create(const struct np_frag_cfg *cfg, struct np_err *err);
void np_frag_destroy(struct np_frag_table *t); /* NULL is a no-op */

/* Adds the fragment that d describes (d->is_frag; its bytes are copied).
 * ts_ns is the frame's capture time (the table keeps the largest seen);
 * frame_wirelen and frame_caplen its lengths on the wire and captured,
 * summed in done. Returns true when
 * this fragment completed a datagram, then fills done. */
bool np_frag_add(struct np_frag_table *t, const struct np_dpkt *d, uint64_t ts_ns,
                 uint32_t frame_wirelen, uint32_t frame_caplen, struct np_frag_done *done);

/* Drops datagrams older than the timeout at capture time now_ns, at most
 * NP_FRAG_EXPIRE_PER_CALL of them; returns how many. Call once per batch. */
uint32_t np_frag_expire(struct np_frag_table *t, uint64_t now_ns);

/* Datagrams in reassembly now. */
uint32_t np_frag_pending(const struct np_frag_table *t);

/* The table's counters; owned by the table. */
const struct np_frag_stats *np_frag_get_stats(const struct np_frag_table *t);

#endif
