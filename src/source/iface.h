/* source/iface.h: the capture interfaces, for `netpeek interfaces`.
 *
 * A snapshot from pcap_findalldevs(): names, descriptions, state flags and
 * IPv4/IPv6 addresses with prefix lengths. The caller owns the array and
 * frees it with np_iface_list_free(). Slow path only.
 */
#ifndef NP_SOURCE_IFACE_H
#define NP_SOURCE_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct np_iface_addr {
    int ip_ver;         /* 4 or 6 */
    uint8_t addr[16];   /* version 4 uses the first 4 bytes */
    uint8_t prefix_len; /* from the netmask; 32 or 128 when none is given */
};

struct np_iface {
    char *name;                  /* owned */
    char *description;           /* owned; NULL when libpcap has none */
    bool up;                     /* PCAP_IF_UP */
    bool running;                /* PCAP_IF_RUNNING */
    bool loopback;               /* PCAP_IF_LOOPBACK */
    struct np_iface_addr *addrs; /* owned; n_addrs entries, IPv4 and IPv6 only */
    size_t n_addrs;
};

/* Lists the interfaces libpcap can capture on, in libpcap's order. On
 * success *out (NULL when there are none) and *n are set; on failure returns
 * NP_ERR_IO or NP_ERR_NOMEM with err set. */
enum np_rc np_iface_list(struct np_iface **out, size_t *n, struct np_err *err);

/* Frees what np_iface_list() returned; (NULL, 0) is a no-op. */
void np_iface_list_free(struct np_iface *v, size_t n);

#endif
