/* source/live.c: live capture on one interface with libpcap.
 *
 * pcap_create + options + pcap_activate, with the activation errors turned
 * into one line a user can act on. Timestamps are asked for in nanoseconds;
 * where the device cannot give them we take microseconds and multiply.
 * Packets are copied from pcap_dispatch()'s callback into the batch buffer
 * (libpcap's ring slot is only valid during the callback). A packet that
 * does not fit in the batch buffer is kept in a snaplen-sized stash and
 * begins the next batch, so nothing is dropped by us.
 *
 * We wait with poll(2) on libpcap's selectable descriptor, for at most the
 * read timeout, and then dispatch without blocking: with TPACKET_V3 the
 * kernel does not wake a reader for an empty block, so a blocking
 * pcap_dispatch() can wait forever on a quiet link, and the source must
 * return (empty) batches with a tick so that idle timeouts fire.
 */
#include "source/live.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "core/packet.h"
#include "source/linktype.h"
#include "source/source.h"

#define DEFAULT_SNAPLEN    262144u
#define DEFAULT_TIMEOUT_MS 100u
#define BATCH_BUF_BYTES    (4u << 20)

struct np_live {
    pcap_t *p;   /* owned */
    char *iface; /* owned */
    int fd;      /* libpcap's selectable descriptor, or -1: block in dispatch */
    int timeout_ms;
    bool nano; /* timestamps from libpcap are in nanoseconds */
    uint16_t linktype;
    uint32_t snaplen;

    /* During np_live_fill(): where the callback puts packets. */
    struct np_batch *b;
    uint32_t max_pkts;

    uint8_t *stash; /* owned; snaplen bytes: one packet that did not fit */
    struct np_pkt stash_pkt;
    bool has_stash;

    char warning[512];
    bool has_warning;
};

static void stash_to_batch(struct np_live *l, struct np_batch *b)
{
    struct np_pkt *p = &b->pkts[b->n++];
    *p = l->stash_pkt;
    memcpy(b->buf + b->len, l->stash, p->caplen);
    p->data = b->buf + b->len;
    b->len += p->caplen;
    l->has_stash = false;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct np_live *l = (struct np_live *)user;
    struct np_batch *b = l->b;
    uint32_t caplen = h->caplen;
    if (caplen > l->snaplen)
        caplen = l->snaplen; /* never, but the stash is this big */

    struct np_pkt pk;
    pk.ts_ns =
            (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec * (l->nano ? 1u : 1000u);
    pk.frame_no = 0;
    pk.data = NULL;
    pk.caplen = caplen;
    pk.wirelen = h->len;
    pk.ifid = 0;
    pk.linktype = l->linktype;
    pk.ts_prec = l->nano ? 9 : 6;

    if (b->n >= l->max_pkts || b->cap - b->len < caplen) {
        /* pcap_dispatch's count keeps the first case from happening. */
        if (!l->has_stash) {
            memcpy(l->stash, bytes, caplen);
            l->stash_pkt = pk;
            l->has_stash = true;
        }
        pcap_breakloop(l->p);
        return;
    }
    struct np_pkt *p = &b->pkts[b->n++];
    *p = pk;
    memcpy(b->buf + b->len, bytes, caplen);
    p->data = b->buf + b->len;
    b->len += caplen;
}

static enum np_rc activate_error(struct np_live *l, int rc, struct np_err *err)
{
    const char *name = l->iface;
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return np_err_set(err, NP_ERR_USAGE, "no such interface '%s'", name);
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return np_err_set(err, NP_ERR_USAGE,
                          "no permission to capture on %s (run as root or grant CAP_NET_RAW)",
                          name);
    case PCAP_ERROR_IFACE_NOT_UP:
        return np_err_set(err, NP_ERR_USAGE, "interface '%s' is not up", name);
    case PCAP_ERROR:
        return np_err_set(err, NP_ERR_IO, "cannot capture on %s: %s", name, pcap_geterr(l->p));
    default: {
        const char *why = pcap_geterr(l->p);
        return np_err_set(err, NP_ERR_IO, "cannot capture on %s: %s%s%s", name,
                          pcap_statustostr(rc), why[0] ? ": " : "", why);
    }
    }
}

enum np_rc np_live_open(struct np_live **out, const struct np_source_opts *o, struct np_err *err)
{
    enum np_rc rc;
    char errbuf[PCAP_ERRBUF_SIZE];
    struct np_live *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory opening %s", o->iface);
    l->fd = -1;
    l->iface = strdup(o->iface);
    l->snaplen = o->snaplen ? o->snaplen : DEFAULT_SNAPLEN;
    l->stash = malloc(l->snaplen);
    if (l->iface == NULL || l->stash == NULL) {
        rc = np_err_set(err, NP_ERR_NOMEM, "out of memory opening %s", o->iface);
        goto fail;
    }
    errbuf[0] = '\0';
    l->p = pcap_create(o->iface, errbuf);
    if (l->p == NULL) {
        rc = np_err_set(err, NP_ERR_IO, "cannot capture on %s: %s", o->iface, errbuf);
        goto fail;
    }
    pcap_set_snaplen(l->p, (int)(l->snaplen > 0x7fffffffu ? 0x7fffffffu : l->snaplen));
    pcap_set_promisc(l->p, o->promisc ? 1 : 0);
    l->timeout_ms = (int)(o->read_timeout_ms ? o->read_timeout_ms : DEFAULT_TIMEOUT_MS);
    pcap_set_timeout(l->p, l->timeout_ms);
    pcap_set_immediate_mode(l->p, o->immediate ? 1 : 0);
    if (o->buffer_bytes != 0)
        pcap_set_buffer_size(l->p,
                             (int)(o->buffer_bytes > 0x7fffffffu ? 0x7fffffffu : o->buffer_bytes));
    /* Not every device gives nanoseconds: then libpcap keeps microseconds. */
    (void)pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO);

    int arc = pcap_activate(l->p);
    if (arc < 0) {
        rc = activate_error(l, arc, err);
        goto fail;
    }
    if (arc > 0) {
        const char *why = pcap_geterr(l->p);
        snprintf(l->warning, sizeof(l->warning), "%s: %s%s%s", o->iface, pcap_statustostr(arc),
                 why[0] ? ": " : "", why);
        l->has_warning = true;
    }
    l->nano = pcap_get_tstamp_precision(l->p) == PCAP_TSTAMP_PRECISION_NANO;
    l->fd = pcap_get_selectable_fd(l->p);
    if (l->fd >= 0 && pcap_setnonblock(l->p, 1, errbuf) != 0)
        l->fd = -1;
    l->linktype = np_dlt_to_linktype(pcap_datalink(l->p));
    int snap = pcap_snapshot(l->p);
    if (snap > 0 && (uint32_t)snap < l->snaplen)
        l->snaplen = (uint32_t)snap;

    if (o->bpf != NULL && o->bpf[0] != '\0') {
        struct bpf_program prog;
        if (pcap_compile(l->p, &prog, o->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            rc = np_err_set(err, NP_ERR_USAGE, "bad filter '%s': %s", o->bpf, pcap_geterr(l->p));
            goto fail;
        }
        int frc = pcap_setfilter(l->p, &prog);
        pcap_freecode(&prog);
        if (frc != 0) {
            rc = np_err_set(err, NP_ERR_IO, "cannot set filter on %s: %s", o->iface,
                            pcap_geterr(l->p));
            goto fail;
        }
    }
    *out = l;
    return NP_OK;
fail:
    np_live_close(l);
    return rc;
}

void np_live_close(struct np_live *l)
{
    if (l == NULL)
        return;
    if (l->p != NULL)
        pcap_close(l->p);
    free(l->stash);
    free(l->iface);
    free(l);
}

enum np_rc np_live_fill(struct np_live *l, struct np_batch *b, uint32_t max_pkts,
                        struct np_err *err)
{
    size_t want = BATCH_BUF_BYTES;
    if (want < (size_t)l->snaplen * 2)
        want = (size_t)l->snaplen * 2;
    if (b->cap < want && np_batch_reserve(b, want) != 0)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory capturing on %s", l->iface);
    if (max_pkts > b->cap_pkts)
        max_pkts = b->cap_pkts;
    if (max_pkts == 0)
        return NP_OK;
    if (l->has_stash) {
        stash_to_batch(l, b);
        if (b->n >= max_pkts)
            return NP_OK;
    }
    if (l->fd >= 0) {
        struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
        if (poll(&pfd, 1, l->timeout_ms) < 0 && errno != EINTR)
            return np_err_set(err, NP_ERR_IO, "capture on %s failed: %s", l->iface,
                              strerror(errno));
    }
    l->b = b;
    l->max_pkts = max_pkts;
    int r = pcap_dispatch(l->p, (int)(max_pkts - b->n), on_packet, (u_char *)l);
    l->b = NULL;
    if (r == PCAP_ERROR)
        return np_err_set(err, NP_ERR_IO, "capture on %s failed: %s", l->iface, pcap_geterr(l->p));
    return NP_OK; /* >= 0, or PCAP_ERROR_BREAK: a full buffer or a stop */
}

void np_live_break(struct np_live *l)
{
    pcap_breakloop(l->p);
}

void np_live_drops(struct np_live *l, uint64_t *kernel_drops, uint64_t *if_drops)
{
    struct pcap_stat ps;
    if (pcap_stats(l->p, &ps) == 0) {
        *kernel_drops = ps.ps_drop;
        *if_drops = ps.ps_ifdrop;
    }
}

const char *np_live_warning(const struct np_live *l)
{
    return l->has_warning ? l->warning : NULL;
}

void np_live_iface_info(const struct np_live *l, uint16_t *linktype, uint32_t *snaplen)
{
    *linktype = l->linktype;
    *snaplen = l->snaplen;
}

bool np_live_nano(const struct np_live *l)
{
    return l->nano;
}
