/* flow/track.h: packets in, flow records out.
 *
 * The tracker is the per-shard stage that decodes each packet, reassembles IP
 * fragments, finds or creates its flow, advances TCP close state and ends
 * flows: at the final acknowledgement of a FIN exchange, at RST, after the
 * class's idle timeout in capture time, on eviction when the table is full,
 * and at the end of input. A TCP flow that closed (FIN exchange or RST) is
 * held for the close delay before its record goes out, so that stragglers
 * (a retransmitted FIN, an RST after the FINs, duplicate ACKs) stay in it, as
 * Wireshark counts them and as Zeek's tcp_close_delay does; a new SYN on the
 * same ports ends the hold at once. Each ended flow goes to the end callback
 * exactly once and is freed right after it returns. Owned by one thread.
 */
#ifndef NP_FLOW_TRACK_H
#define NP_FLOW_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "decode/decode.h"
#include "decode/frag.h"
#include "flow/table.h"

struct np_batch;
struct np_pkt;

enum np_flow_end {
    NP_END_FIN = 0,
    NP_END_RST,
    NP_END_TIMEOUT,
    NP_END_EVICTION,
    NP_END_EOI, /* end of input */
    NP_END_REASONS,
};

/* Called once per ended flow; f is valid only during the call, idx (its
 * table index) until the call returns. */
typedef void np_flow_end_fn(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx);

struct np_track_cfg {
    uint64_t timeout_ns[NP_FLOW_CLASSES]; /* idle timeout per class; the CLOSED
                                             class's is the close delay (0: none) */
    uint32_t max_flows;                   /* --max-flows */
    bool tcp_only;                        /* track TCP flows only; other packets are
                                             counted in pkts_not_tracked */
    bool finish_any_order;                /* np_track_finish() may end flows in table
                                             order: no sort, no memory for one */
};

/* One packet credited to a flow, for np_flow_pkt_fn. */
struct np_flow_pkt {
    const struct np_pkt *pkt;   /* the frame; for a reassembled datagram, the one
                                   that completed it. Borrowed for the call. */
    const struct np_pkt *frags; /* with frag_n > 0: every frame of the datagram,
                                   in input order, pkt among them; borrowed */
    uint32_t frag_n;
    uint32_t idx;     /* the flow's table index: stable while the flow lives */
    bool new_flow;    /* this packet created the flow */
    bool after_close; /* the flow had closed (FIN exchange or RST) before it */
    uint8_t dir;      /* 0: A to B */
    uint8_t tcp_flags;
    uint32_t seq;
};

/* Called for every packet credited to a flow, after the flow counted it and
 * before a close it causes is acted on; f is valid only during the call. */
typedef void np_flow_pkt_fn(const struct np_flow *f, const struct np_flow_pkt *fp, void *ctx);

/* Defaults: TCP 600 s, UDP 180 s, ICMP 60 s, other IP protocols 180 s, TCP
 * close delay 5 s; 1,000,000 flows. */
void np_track_cfg_default(struct np_track_cfg *c);

struct np_track_stats {
    uint64_t pkts;             /* frames seen */
    uint64_t pkts_in_flows;    /* frames credited to a flow (every fragment frame of a
                                  completed datagram included) */
    uint64_t pkts_no_flow;     /* frames that belong to no flow (non-IP, bad IP) */
    uint64_t pkts_not_tracked; /* tcp_only: frames of other protocols */
    uint64_t frag_frames_lost; /* fragment frames the packet hook could not be
                                  given (stash or per-group buffer full) */
    uint64_t flows_created;
    uint64_t flows_ended[NP_END_REASONS];
    uint64_t tcp_new_syn_splits; /* a new SYN on a closing flow started a new flow */
    uint64_t flows_peak;
    struct np_dec_stats dec;
    struct np_frag_stats frag; /* copied from the reassembler by np_track_stats() */
};

struct np_track;

struct np_track *np_track_create(const struct np_track_cfg *cfg, np_flow_end_fn *on_end, void *ctx,
                                 struct np_err *err);
void np_track_destroy(struct np_track *t);

/* Asks for every packet credited to a flow. With frames set, the frames of
 * reassembled datagrams are kept (bounded: NP_TRACK_STASH_BYTES of copies)
 * so the hook gets all of them. Call before the first batch. Returns NP_OK,
 * or NP_ERR_NOMEM with err set. */
#define NP_TRACK_STASH_BYTES (4u << 20)
enum np_rc np_track_set_packet_hook(struct np_track *t, np_flow_pkt_fn *fn, void *ctx, bool frames,
                                    struct np_err *err);

/* Processes every packet of b in order, then expires idle flows (bounded
 * work per call). A live batch's tick_ns advances capture time too. */
void np_track_batch(struct np_track *t, const struct np_batch *b);

/* Ends every remaining flow with NP_END_EOI, in order of first packet. */
void np_track_finish(struct np_track *t);

/* The counters, current as of the call. */
const struct np_track_stats *np_track_stats(struct np_track *t);
/* Bytes held by the flow table, for the summary. */
size_t np_track_mem_bytes(const struct np_track *t);

/* tcpdump's flag letters in tcpdump's order ("FSRP.UEW"); "none" for 0.
 * dst needs 9 bytes; returns the length. */
size_t np_tcp_flags_str(char *dst, uint8_t flags);

#endif
