/* analyze/sampler.h: the first N packets of every TCP session (tcpeek's
 * sampler), as a decision per packet.
 *
 * A session is one TCP connection, both directions together: a flow of the
 * tracker. It starts at its SYN (SYN without ACK), or with midstream at the
 * first packet seen of a connection already under way. Its first N packets
 * in either direction are taken; later ones, packets of a connection whose
 * start was not seen, and stragglers after the session closed are passed
 * over. The session ends with its flow: when FINs from both sides were
 * acknowledged, at RST, or after the idle timeout (the tracker's, set from
 * --session-timeout); a new SYN with a new initial sequence number on a
 * closed or closing session starts a new flow, so a new session. The tracker
 * is configured for this by np_sampler_track_cfg().
 *
 * State per tracked session: 4 bytes (struct np_sample_state) in an array
 * indexed by the flow's table index, beside the tracker's 128-byte flow
 * entry and its 16 to 32 bytes of index: 148 to 164 bytes per session.
 */
#ifndef NP_ANALYZE_SAMPLER_H
#define NP_ANALYZE_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "flow/track.h"

struct np_sampler_cfg {
    uint32_t n;            /* packets per session, >= 1 */
    bool midstream;        /* sample connections whose SYN was not seen */
    uint64_t timeout_ns;   /* idle timeout of a session, capture time */
    uint32_t max_sessions; /* sessions tracked at once */
};

struct np_sampler_stats {
    uint64_t sessions_seen;    /* sessions started */
    uint64_t sessions_full;    /* sessions of which N packets were taken */
    uint64_t pkts_taken;       /* packets taken (a reassembled datagram is one) */
    uint64_t frames_taken;     /* frames handed out to write (fragments each count) */
    uint64_t pkts_passed;      /* TCP packets not taken */
    uint64_t sessions_evicted; /* sessions ended because the table was full */
};

/* What a packet means for the console: bits of np_sampler_packet()'s result. */
enum {
    NP_SAMPLE_TAKE = 0x1,  /* write this packet's frames */
    NP_SAMPLE_START = 0x2, /* it started a session */
    NP_SAMPLE_FULL = 0x4,  /* it was the session's N-th packet */
};

struct np_sampler;

struct np_sampler *np_sampler_create(const struct np_sampler_cfg *cfg, struct np_err *err);
void np_sampler_destroy(struct np_sampler *s);

/* Sets the tracker configuration a sampler needs: TCP only, the session
 * timeout as TCP idle timeout and as close delay (so a retransmitted SYN of a
 * closed session is recognised for that long), max_sessions flows, and any
 * order at the end of input. */
void np_sampler_track_cfg(const struct np_sampler_cfg *cfg, struct np_track_cfg *tc);

/* Decides on one packet the tracker credited to flow fp->idx; returns
 * NP_SAMPLE_* bits. */
unsigned np_sampler_packet(struct np_sampler *s, const struct np_flow_pkt *fp);

/* Tells the sampler that flow idx ended. */
void np_sampler_flow_end(struct np_sampler *s, uint32_t idx, enum np_flow_end why);

const struct np_sampler_stats *np_sampler_stats(const struct np_sampler *s);

#endif
