/* analyze/handshake.h: the TCP handshake monitor (tcpeek), per packet.
 *
 * A session starts at a SYN (SYN without ACK, RST or FIN; ECE and CWR
 * allowed) that some named filter counts (analyze/hs_expr.h). It ends:
 *
 *   success  at the client's ACK of the server's SYN/ACK (ack = ISN + 1);
 *   reject   at an RST from either side before that;
 *   unreach  (with icmp) at an ICMP destination unreachable or ICMPv6
 *            destination unreachable that quotes the session's SYN (same
 *            addresses, ports and sequence number);
 *   timeout  when timeout_ns pass after its last handshake segment (SYN,
 *            SYN/ACK or a retransmission of either) in capture time, or
 *            at the end of the input (np_handshake_finish), which no
 *            segment can follow: then at that same deadline.
 *
 * A SYN with the first SYN's sequence number is a DUP SYN; a SYN/ACK with
 * the first SYN/ACK's sequence number is a DUP S/A. TIME is from the first
 * SYN to the segment that ended the session, or to the deadline. Each
 * finished session goes to the result callback once and is counted in
 * every filter of its mask.
 *
 * Sessions live in a table of at most max_sessions entries, allocated at
 * creation (pages become real as used): a 96-byte entry (key, times,
 * filter mask, sequence numbers, timer links) and 8 bytes of index per
 * entry, 104 bytes per session in progress. Finished sessions leave at
 * once, so the table holds only handshakes in progress. A SYN that finds
 * the table full is not tracked and is counted. Nothing is allocated per
 * packet. Owned by one thread.
 */
#ifndef NP_ANALYZE_HANDSHAKE_H
#define NP_ANALYZE_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/hs_expr.h"
#include "core/err.h"
#include "decode/decode.h"

struct np_pkt;

enum np_hs_outcome {
    NP_HS_SUCCESS = 0,
    NP_HS_REJECT,
    NP_HS_UNREACH,
    NP_HS_TIMEOUT,
};

struct np_handshake_cfg {
    uint64_t timeout_ns;             /* -t */
    uint32_t max_sessions;           /* handshakes in progress at once */
    bool icmp;                       /* --icmp: destination unreachable ends a session */
    unsigned checksum;               /* -c: 0 none, 1 IPv4 header and ICMP, 2 also TCP */
    const struct np_hs_exprs *exprs; /* borrowed; finished (np_hs_exprs_finish) */
    const struct np_hs_local *local; /* borrowed */
};

/* One finished session, for the per-session line. */
struct np_hs_result {
    uint8_t ip_ver;
    uint8_t client[16], server[16];
    uint16_t client_port, server_port;
    uint16_t vlan;
    enum np_hs_outcome outcome;
    uint64_t first_ns; /* the first SYN */
    uint64_t end_ns;   /* the segment that ended it, or the deadline */
    uint32_t dup_syn, dup_synack;
    uint64_t filters; /* bit i: the i-th named filter counts it */
};

typedef void np_hs_result_fn(const struct np_hs_result *r, void *ctx);

/* Counts per named filter, as tcpeek's JSON names them. dupsyn and
 * dupsynack count retransmitted SYNs and SYN/ACKs of successful sessions. */
struct np_hs_counts {
    uint64_t success, dupsyn, dupsynack;
    uint64_t failure, timeout, reject, unreach;
};

struct np_handshake_stats {
    uint64_t pkts;                /* frames seen */
    uint64_t tcp;                 /* TCP segments decoded */
    uint64_t frags_skipped;       /* IP fragments: not read (no handshake is fragmented) */
    uint64_t bad_ip_checksum;     /* ignored frames, by what was wrong */
    uint64_t bad_tcp_checksum;    /* (-c 2) */
    uint64_t bad_icmp_checksum;   /* (-c 1 or 2) */
    uint64_t syns_unmatched;      /* SYNs no named filter counts (or excluded) */
    uint64_t sessions;            /* sessions started */
    uint64_t sessions_table_full; /* SYNs not tracked: max_sessions in progress */
    uint64_t syns_new_isn;        /* a SYN with another ISN while one was in progress: ignored */
    uint64_t in_progress;         /* sessions in progress now */
    struct np_dec_stats dec;
};

struct np_handshake;

/* NULL with err set (NP_ERR_NOMEM) on failure. on_result may be NULL. */
struct np_handshake *np_handshake_create(const struct np_handshake_cfg *cfg,
                                         np_hs_result_fn *on_result, void *ctx, struct np_err *err);
void np_handshake_destroy(struct np_handshake *h);

/* One frame. Its timestamp advances capture time (the largest seen). */
void np_handshake_packet(struct np_handshake *h, const struct np_pkt *p);

/* Advances capture time to now_ns (a live source's tick) and times out the
 * sessions whose deadline passed. */
void np_handshake_tick(struct np_handshake *h, uint64_t now_ns);

/* End of input: every session in progress times out at its deadline. */
void np_handshake_finish(struct np_handshake *h);

/* The counts of named filter i (0 <= i < exprs->n_named). */
const struct np_hs_counts *np_handshake_counts(const struct np_handshake *h, uint32_t i);
const struct np_handshake_stats *np_handshake_stats(const struct np_handshake *h);

/* The largest timestamp seen (ns since the epoch); 0 before any packet. */
uint64_t np_handshake_now(const struct np_handshake *h);
/* The first packet's timestamp; 0 before any packet. */
uint64_t np_handshake_first(const struct np_handshake *h);

/* Capture statistics as tcpeek's JSON names them. */
struct np_hs_pcap_counts {
    uint64_t recv, drop, ifdrop;
};

/* tcpeek's statistics JSON, one array on one line without a line end:
 *   [{"NAME":{"success":{"total":N,"dupsyn":N,"dupsynack":N},
 *             "failure":{"total":N,"timeout":N,"reject":N,"unreach":N}}},...,
 *    {"pcap":{"stats":{"recv":N,"drop":N,"ifdrop":N}}}]
 * c holds x->n_named counts, named filters in command-line order; names are
 * JSON-escaped, and bytes that are not well-formed UTF-8 become U+FFFD (one
 * per maximal ill-formed subpart), so the text is valid JSON. Writes at most cap bytes into dst
 * (NUL-terminated when cap > 0) and returns the length of the whole text, as snprintf does. */
size_t np_handshake_json(char *dst, size_t cap, const struct np_hs_exprs *x,
                         const struct np_hs_counts *c, const struct np_hs_pcap_counts *p);

/* "success", "failure (reject)", ... */
const char *np_hs_outcome_name(enum np_hs_outcome o);

#endif
