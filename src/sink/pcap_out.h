/* sink/pcap_out.h: writes packets to a classic pcap or a pcapng file.
 *
 * Every record is packed by hand into one large output buffer, which is
 * handed to a writer thread (core/out.h, a ring of NP_PCAP_OUT_BUFS
 * buffers) when the next record does not fit, and written out and waited
 * for on flush. A buffer only ever holds whole records (the pcap file header and pcapng
 * section header are written at create), so the file on disk ends on a
 * record boundary after every write(2) that completes: a process killed
 * (even by SIGKILL) between two writes leaves a file that tcpdump and tshark
 * read to its last record, losing only what was still buffered (at most
 * NP_PCAP_OUT_BUFS buffers). A write(2)
 * that stops part-way (disk full, a kill inside a large write) can leave a
 * partial last record; readers take it as a truncated file and still read
 * every record before it. A record larger than the buffer is written by
 * itself, after the buffer, with one writev(2).
 *
 * Bytes, captured and wire lengths are written as given; timestamps at the
 * file's precision: nanoseconds exactly, or microseconds truncated
 * (ts_ns / 1000). Fields are in host byte order, as the formats allow.
 * Owned by one thread; nothing is allocated per packet (pcapng allocates
 * when a new interface appears).
 */
#ifndef NP_SINK_PCAP_OUT_H
#define NP_SINK_PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct np_pkt;
struct np_pcap_out;

/* Output buffer unless the configuration says otherwise. */
#define NP_PCAP_OUT_BUF_BYTES (1u << 20)
/* Buffers in the writer thread's ring: enough to ride out a slow write. */
#define NP_PCAP_OUT_BUFS 16u
/* Classic pcap snaplen written when the configuration gives 0: libpcap's
 * largest (pcap has no "no limit"; libpcap takes 0 as this anyway). */
#define NP_PCAP_OUT_PCAP_SNAPLEN 262144u
/* pcapng: distinct (input interface, link type) pairs one file may hold. */
#define NP_PCAP_OUT_MAX_IFACES (1u << 20)

enum np_pcap_fmt {
    NP_PCAP_FMT_PCAP = 0, /* pcap-savefile(5): one link type per file */
    NP_PCAP_FMT_PCAPNG,   /* draft-ietf-opsawg-pcapng: any interfaces and link types */
};

struct np_pcap_out_cfg {
    enum np_pcap_fmt fmt;
    unsigned ts_prec;  /* 6: microseconds (magic a1b2c3d4, pcapng default), or
                          9: nanoseconds (magic a1b23c4d, pcapng if_tsresol 9) */
    uint16_t linktype; /* pcap: the file's, every packet must have it. pcapng:
                          the interface written at finish when no packet was,
                          so that an empty file is still readable by libpcap */
    uint32_t snaplen;  /* pcap: the header's (0: NP_PCAP_OUT_PCAP_SNAPLEN).
                          pcapng: of interfaces not declared with
                          np_pcap_out_set_iface() (0: no limit) */
    size_t buf_bytes;  /* output buffer; 0: NP_PCAP_OUT_BUF_BYTES (at least 256).
                          Small values are for tests */
    unsigned n_bufs;   /* the writer thread's ring; 0: NP_PCAP_OUT_BUFS, 1: no
                          thread, every write(2) from the caller (for tests
                          that look at the file between two calls) */
};

/* What went into the file. Bytes written or still buffered count alike. */
struct np_pcap_out_stats {
    uint64_t n_pkts;                   /* packet records */
    uint64_t data_bytes;               /* their captured bytes */
    uint64_t file_bytes;               /* the whole file: headers, records, padding */
    uint64_t n_idbs;                   /* pcapng interface description blocks */
    uint64_t anom_caplen_over_snaplen; /* written whole; libpcap cuts them at the
                                          snaplen when reading */
    uint64_t anom_ts_past_2106;        /* pcap: seconds past 2^32 - 1, written
                                          modulo 2^32 (the field is 32 bits) */
};

/* Creates or truncates path ("-": standard output, which is not closed) and
 * writes the file header (pcap) or section header block (pcapng), so that
 * the file is valid from the start. cfg is copied. Returns NULL with err set:
 * NP_ERR_USAGE for a bad cfg or a path that cannot be created ("cannot write
 * PATH: strerror"), NP_ERR_IO when the first write fails, NP_ERR_NOMEM. */
struct np_pcap_out *np_pcap_out_create(const char *path, const struct np_pcap_out_cfg *cfg,
                                       struct np_err *err);

/* Frees o without writing what is buffered (error paths: the file keeps its
 * whole records); closes the file unless it is standard output. Call
 * np_pcap_out_finish() first to keep everything. NULL is a no-op. */
void np_pcap_out_destroy(struct np_pcap_out *o);

/* pcapng: declares the input interface (ifid, linktype), whose packets then
 * get an interface with this snaplen (0: no limit) instead of cfg->snaplen.
 * Its IDB is written before its first packet. Declaring an interface whose
 * IDB is already written with another snaplen makes its next packet write a
 * new IDB (a new output interface id) with the new one. pcap: only checks
 * that linktype is the file's (NP_ERR_USAGE otherwise, like a write would).
 * NP_ERR_NOMEM, NP_ERR_LIMIT (more than NP_PCAP_OUT_MAX_IFACES) with err set. */
enum np_rc np_pcap_out_set_iface(struct np_pcap_out *o, uint32_t ifid, uint16_t linktype,
                                 uint32_t snaplen, struct np_err *err);

/* Appends one packet: p->data (caplen bytes; borrowed for the call only),
 * caplen, wirelen, ts_ns, and for pcapng its interface (p->ifid, p->linktype,
 * mapped to an output interface; see np_pcap_out_set_iface()). Errors, with
 * err set and nothing written: NP_ERR_USAGE for a pcap file and a packet of
 * another link type (the caller picks pcapng for mixed link types; later
 * packets may still be written); NP_ERR_IO ("cannot write NAME: strerror")
 * once a write(2) failed, for this and every later call (sticky: records
 * buffered at that time are lost); NP_ERR_NOMEM, NP_ERR_LIMIT for a new
 * pcapng interface. */
enum np_rc np_pcap_out_write(struct np_pcap_out *o, const struct np_pkt *p, struct np_err *err);

/* Writes what is buffered (whole records). NP_OK, or NP_ERR_IO as above. */
enum np_rc np_pcap_out_flush(struct np_pcap_out *o, struct np_err *err);

/* Ends the file: pcapng without any packet gets an IDB (cfg->linktype,
 * cfg->snaplen) so that libpcap can open it; then flushes and closes the file
 * (not standard output; no fsync). Returns NP_OK, or NP_ERR_IO with err set
 * when a write or close(2) failed now or before. Writing after it is a bug
 * (asserted; NP_ERR_USAGE in release builds). Call np_pcap_out_destroy()
 * in any case. */
enum np_rc np_pcap_out_finish(struct np_pcap_out *o, struct np_err *err);

const struct np_pcap_out_stats *np_pcap_out_stats(const struct np_pcap_out *o);

#endif
