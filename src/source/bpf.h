/* source/bpf.h: one BPF expression applied to packets of any link type.
 *
 * libpcap compiles a filter for one link type, so the expression is compiled
 * once per link type met (pcap_open_dead + pcap_compile) and applied with
 * pcap_offline_filter. A link type the expression cannot apply to (a
 * filter on "ether host" for raw IP, say) filters its packets out and leaves
 * one warning. Used by the file sources and by the commands that read the
 * recording store. Owned by one thread; nothing is allocated per packet.
 */
#ifndef NP_SOURCE_BPF_H
#define NP_SOURCE_BPF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct np_pkt;
struct np_bpf;

/* Compiles expr (not NULL, not empty) for linktype at once, so that a bad
 * expression is reported before any work: NULL with NP_ERR_USAGE ("bad
 * filter 'x': ...") or NP_ERR_NOMEM in err. */
struct np_bpf *np_bpf_create(const char *expr, uint16_t linktype, struct np_err *err);
void np_bpf_destroy(struct np_bpf *f);

/* Whether p passes (compiling for its link type when first met). */
bool np_bpf_match(struct np_bpf *f, const struct np_pkt *p);

/* The last warning not yet taken (a link type the filter does not apply
 * to), or NULL. Valid until the next call. */
const char *np_bpf_take_warning(struct np_bpf *f);

#endif
