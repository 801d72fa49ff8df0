/* source/live.h: live capture on one interface with libpcap.
 *
 * Internal to src/source/. Opens and activates the interface with the
 * source options, installs the BPF filter in the kernel, and fills batches
 * from pcap_dispatch(), copying each packet into the batch buffer. Owned by
 * one thread; np_live_break() alone may be called from a signal handler.
 */
#ifndef NP_SOURCE_LIVE_H
#define NP_SOURCE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct np_batch;
struct np_live;
struct np_source_opts;

/* Opens o->iface. On failure returns NP_ERR_USAGE ("no such interface 'X'",
 * "no permission to capture on X (...)", "bad filter 'EXPR': ...") or
 * NP_ERR_IO with err set. A warning from activation (promiscuous mode not
 * supported, ...) is kept for np_live_warning(). */
enum np_rc np_live_open(struct np_live **out, const struct np_source_opts *o, struct np_err *err);
void np_live_close(struct np_live *l);

/* Appends at most max_pkts packets to the empty batch b with one
 * pcap_dispatch() call, which waits at most the read timeout. Returns NP_OK
 * (b->n may be 0) or NP_ERR_IO with err set. */
enum np_rc np_live_fill(struct np_live *l, struct np_batch *b, uint32_t max_pkts,
                        struct np_err *err);

/* Makes a pcap_dispatch() in progress return. Async-signal-safe. */
void np_live_break(struct np_live *l);

/* pcap_stats(): packets dropped by the kernel and by the interface. */
void np_live_drops(struct np_live *l, uint64_t *kernel_drops, uint64_t *if_drops);

/* The activation warning, or NULL. */
const char *np_live_warning(const struct np_live *l);

void np_live_iface_info(const struct np_live *l, uint16_t *linktype, uint32_t *snaplen);

/* True when the device gives nanosecond timestamps (else microseconds). */
bool np_live_nano(const struct np_live *l);

#endif
