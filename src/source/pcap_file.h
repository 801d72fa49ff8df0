/* source/pcap_file.h: our own reader for classic pcap and pcapng files.
 *
 * Internal to src/source/. Reads a file (or stdin) with large read(2) calls
 * straight into the batch buffer and walks the records there; packet data
 * pointers point into b->buf. A record cut by the end of the buffer is kept
 * in a small carry buffer owned by the reader and put at the start of the
 * next batch's buffer. The reader fills only the fields the file gives:
 * ts_ns, caplen, wirelen, ifid, linktype, ts_prec and data; the source sets
 * frame numbers, applies the filter and the limits.
 *
 * Damage (a truncated or impossible record) is not an error: the reader
 * hands out every sound record before it, then ends the file with a one-line
 * description in np_pcap_file_damage(). Owned by one thread.
 */
#ifndef NP_SOURCE_PCAP_FILE_H
#define NP_SOURCE_PCAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct np_batch;
struct np_pcap_file;
struct np_source_stats;

/* Bytes per read(2) unless a test asks for fewer. Measured on the bench
 * workloads (2-core AMD EPYC VM, page cache warm, whole-process medians):
 * 512 KiB reads take 0.16 (synth-small) and 0.11 (synth-large) of the
 * libpcap floor's time, 4 MiB reads 0.30-0.45 and 0.17: a chunk that stays
 * in L2 between the kernel's copy and our walk over its record headers
 * saves a cache miss per record. */
#define NP_PCAP_FILE_CHUNK_BYTES (512u << 10)
/* A record or block larger than this is damage, not data. */
#define NP_PCAP_FILE_MAX_RECORD_BYTES (64u << 20)
/* IDBs kept per pcapng section; more are counted as bad blocks. */
#define NP_PCAP_FILE_MAX_IFACES 65536u

/* Opens path ("-" is standard input, which is not closed later) and checks
 * the magic number. name is used in messages (borrowed; must outlive f).
 * chunk_bytes is the read(2) size (0: NP_PCAP_FILE_CHUNK_BYTES). On failure
 * returns NP_ERR_IO (cannot open or read; names the path and strerror) or
 * NP_ERR_USAGE ("NAME: not a pcap or pcapng file"), with err set. The
 * reader adds its anomalies (bad blocks, unknown interfaces) to stats
 * (borrowed; must outlive f). */
enum np_rc np_pcap_file_open(struct np_pcap_file **out, const char *path, const char *name,
                             size_t chunk_bytes, struct np_source_stats *stats, struct np_err *err);
void np_pcap_file_close(struct np_pcap_file *f);

/* Reads ahead, before the first fill, as far as the first packet: the file
 * header (pcap), or the blocks before the first packet block, at most 1 MiB
 * (pcapng). The interfaces found there (of the last section before the first
 * packet) answer np_pcap_file_iface() and count for np_pcap_file_linktypes()
 * and np_pcap_file_nano() from now on. Reads from a pipe block until those
 * bytes arrive. The bytes stay buffered for the first fill; a read error or a
 * damaged header ends the peek early and is found again by the fill. After
 * the first fill it does nothing. */
void np_pcap_file_peek(struct np_pcap_file *f);

/* The link types the file announced so far: the pcap header, or the IDBs of
 * every pcapng section peeked or read. False when none yet; else *first is
 * the first one and *mixed whether another one differs from it. A pcapng
 * section may announce interfaces after packets, so the answer can change as
 * the file is read. */
bool np_pcap_file_linktypes(const struct np_pcap_file *f, uint16_t *first, bool *mixed);

/* True when an interface announced so far (as above) has timestamps finer
 * than microseconds: the pcap nanosecond magic, or a pcapng if_tsresol finer
 * than 10^-6 s (2^-20 s and finer for binary resolutions). */
bool np_pcap_file_nano(const struct np_pcap_file *f);

/* True for pcapng, false for classic pcap (by the magic number). */
bool np_pcap_file_is_pcapng(const struct np_pcap_file *f);

/* Appends records to b (which must be empty: b->n == 0 and b->len == 0)
 * until b is full, the buffer is walked, or the file ends. Returns NP_OK
 * (more may follow), NP_EOF (the file is done: cleanly, or with damage, see
 * np_pcap_file_damage()) or NP_ERR_IO / NP_ERR_NOMEM with err set. b may hold
 * packets with any return value. */
enum np_rc np_pcap_file_fill(struct np_pcap_file *f, struct np_batch *b, struct np_err *err);

/* After NP_EOF: NULL for a clean end, else one line ("NAME: truncated record
 * at byte offset N; M packets read"). Owned by f. */
const char *np_pcap_file_damage(const struct np_pcap_file *f);

/* Link type and snaplen of interface ifid in the current section (pcap: 0);
 * false when there is no such interface. A fill never hands out packets of
 * two sections, so this answers for the packets of the last fill; before the
 * first fill, for what np_pcap_file_peek() found. */
bool np_pcap_file_iface(const struct np_pcap_file *f, uint32_t ifid, uint16_t *linktype,
                        uint32_t *snaplen);

#endif
