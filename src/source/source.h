/* source/source.h: where packets come from.
 *
 * A source reads one or more capture files in order (our own pcap/pcapng
 * reader, or libpcap's when asked) or one live interface (libpcap), applies
 * the BPF filter, numbers frames from 1 across all inputs, honours the
 * packet-count and duration limits, and fills recycled batches. Nothing is
 * allocated per packet. Owned by one thread; np_source_stop() alone may be
 * called from a signal handler.
 */
#ifndef NP_SOURCE_SOURCE_H
#define NP_SOURCE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct np_batch;

struct np_source_opts {
    const char *const *files; /* -r, in order; "-" is stdin; borrowed */
    size_t n_files;
    const char *iface;         /* -i; exclusive with files; borrowed */
    const char *bpf;           /* -f; NULL or "" for none; borrowed */
    uint32_t snaplen;          /* live: bytes captured per packet (default 262144) */
    uint32_t buffer_bytes;     /* live: kernel buffer, 0 = libpcap default */
    uint32_t read_timeout_ms;  /* live: libpcap read timeout (default 100) */
    bool promisc;              /* live: default true */
    bool immediate;            /* live: deliver packets without buffering */
    uint64_t max_packets;      /* -c: stop after this many packets pass the filter; 0 = no limit */
    uint64_t duration_ns;      /* -t: live: stop after this much wall time; files:
                                  capture time since the first packet; 0 = no limit */
    bool libpcap_reader;       /* read files with libpcap's pcap_next_ex instead of ours */
    uint32_t read_chunk_bytes; /* files: bytes per read(2); 0 = the default (512 KiB).
                                  Small values are for tests and fuzzing (records
                                  straddle reads) */
};

/* Counters for the summary. Each counts what the source did, never silently. */
struct np_source_stats {
    uint64_t pkts_read;                /* packet records read (before the filter) */
    uint64_t pkts_filtered;            /* rejected by the BPF filter */
    uint64_t pkts_passed;              /* handed out in batches */
    uint64_t bytes_wire;               /* of the packets passed */
    uint64_t bytes_captured;           /* of the packets passed */
    uint64_t kernel_drops;             /* live: pcap_stats ps_drop */
    uint64_t if_drops;                 /* live: pcap_stats ps_ifdrop */
    uint64_t files_damaged;            /* inputs that ended in a truncated or damaged record */
    uint64_t anom_caplen_over_wirelen; /* records with caplen > wirelen (wirelen raised) */
    uint64_t anom_bad_block;           /* pcapng blocks skipped as malformed */
    uint64_t anom_unknown_ifid;        /* pcapng packets naming no known interface */
    uint64_t anom_ts_out_of_range;     /* pcapng timestamps past 2554 (2^64 ns): taken
                                          as UINT64_MAX */
};

struct np_source;

/* Opens every input now (so a missing file is reported before any work) and
 * compiles the filter. On failure returns NULL with err set: NP_ERR_USAGE for
 * a bad filter, unknown interface or non-capture file, NP_ERR_IO for a file or
 * device that cannot be opened (the message names it). */
struct np_source *np_source_create(const struct np_source_opts *o, struct np_err *err);
void np_source_destroy(struct np_source *s);

/* Refills b (np_batch_reset first) with the next packets. Returns NP_OK with
 * b->n >= 0 (a live source returns empty batches on a quiet link, with
 * b->tick_ns set), NP_EOF when all inputs are done or a limit or stop was
 * reached (b may still hold packets: process them), or an error with err set
 * (b may hold packets read before it). A damaged or truncated file is not an
 * error: the source hands out every sound record before the damage, keeps one
 * warning line for np_source_take_warning(), counts it in files_damaged and
 * goes on with the next input. */
enum np_rc np_source_next(struct np_source *s, struct np_batch *b, struct np_err *err);

/* Asks the source to stop at the next batch boundary. Async-signal-safe. */
void np_source_stop(struct np_source *s);

/* Refreshes live drop counters (pcap_stats) and returns the counters. */
const struct np_source_stats *np_source_stats(struct np_source *s);

/* The latest warning (damaged file, and so on), or NULL. Cleared by reading. */
const char *np_source_take_warning(struct np_source *s);

/* Link type and snaplen of interface ifid of the input that filled the last
 * batch (a batch never mixes inputs, nor pcapng sections), for writers that
 * copy the input's framing; false when unknown. Before the first batch it
 * answers for the first input: its pcap header, or the IDBs before its first
 * packet (the last section there, when several come before any packet). */
bool np_source_iface_info(struct np_source *s, uint32_t ifid, uint16_t *linktype,
                          uint32_t *snaplen);

/* For writers that choose a file format before the first packet. What the
 * inputs announce is known from np_source_create() on: every input's pcap
 * header, the pcapng blocks before its first packet (at most 1 MiB of them),
 * and a live interface; then, as the files are read, every IDB met. A pcapng
 * section may announce an interface after packets, so a pcapng input can
 * turn these true later: a caller that must decide once and never fail
 * writes pcapng when np_source_any_pcapng(). With libpcap_reader, stdin's
 * timestamp resolution is not known (libpcap scales it; taken as micro). */

/* True when the interfaces announced so far, over all inputs, have more than
 * one distinct link type. */
bool np_source_mixed_linktypes(struct np_source *s);

/* True when an interface announced so far has timestamps finer than
 * microseconds: the pcap magic a1b23c4d, a pcapng if_tsresol finer than
 * 10^-6 s, or a live device that gives nanoseconds. */
bool np_source_nano(struct np_source *s);

/* True when an input is a pcapng file. */
bool np_source_any_pcapng(struct np_source *s);

#endif
