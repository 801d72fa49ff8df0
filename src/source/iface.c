/* source/iface.c: the capture interfaces, from pcap_findalldevs().
 *
 * Copies libpcap's linked list into one owned array so that callers need no
 * libpcap types. Only AF_INET and AF_INET6 addresses are kept; a netmask
 * becomes a prefix length by counting its leading one bits.
 */
#include "source/iface.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

/* Leading one bits of a netmask of n bytes. */
static uint8_t prefix_len(const uint8_t *m, size_t n)
{
    uint8_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i] == 0xff) {
            len = (uint8_t)(len + 8);
            continue;
        }
        for (uint8_t bit = 0x80; bit != 0 && (m[i] & bit); bit >>= 1)
            len++;
        break;
    }
    return len;
}

/* Fills a from sa; false for families other than IPv4 and IPv6. */
static bool copy_addr(struct np_iface_addr *a, const struct sockaddr *sa,
                      const struct sockaddr *mask)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        a->ip_ver = 4;
        memcpy(a->addr, &in.sin_addr, 4);
        a->prefix_len = 32;
        if (mask != NULL && mask->sa_family == AF_INET) {
            struct sockaddr_in m;
            memcpy(&m, mask, sizeof(m));
            uint8_t mb[4];
            memcpy(mb, &m.sin_addr, 4);
            a->prefix_len = prefix_len(mb, 4);
        }
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        a->ip_ver = 6;
        memcpy(a->addr, &in6.sin6_addr, 16);
        a->prefix_len = 128;
        if (mask != NULL && mask->sa_family == AF_INET6) {
            struct sockaddr_in6 m;
            memcpy(&m, mask, sizeof(m));
            uint8_t mb[16];
            memcpy(mb, &m.sin6_addr, 16);
            a->prefix_len = prefix_len(mb, 16);
        }
        return true;
    }
    return false;
}

enum np_rc np_iface_list(struct np_iface **out, size_t *n, struct np_err *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL;
    *out = NULL;
    *n = 0;
    errbuf[0] = '\0';
    if (pcap_findalldevs(&all, errbuf) != 0)
        return np_err_set(err, NP_ERR_IO, "cannot list interfaces: %s", errbuf);

    size_t count = 0;
    for (pcap_if_t *d = all; d != NULL; d = d->next)
        count++;
    struct np_iface *v = count ? calloc(count, sizeof(*v)) : NULL;
    if (count != 0 && v == NULL)
        goto nomem;
    size_t i = 0;
    for (pcap_if_t *d = all; d != NULL; d = d->next, i++) {
        struct np_iface *f = &v[i];
        f->name = strdup(d->name);
        if (f->name == NULL)
            goto nomem_v;
        if (d->description != NULL) {
            f->description = strdup(d->description);
            if (f->description == NULL)
                goto nomem_v;
        }
        f->up = (d->flags & PCAP_IF_UP) != 0;
        f->running = (d->flags & PCAP_IF_RUNNING) != 0;
        f->loopback = (d->flags & PCAP_IF_LOOPBACK) != 0;
        size_t na = 0;
        for (pcap_addr_t *a = d->addresses; a != NULL; a = a->next)
            na++;
        if (na == 0)
            continue;
        f->addrs = calloc(na, sizeof(*f->addrs));
        if (f->addrs == NULL)
            goto nomem_v;
        for (pcap_addr_t *a = d->addresses; a != NULL; a = a->next) {
            if (a->addr != NULL && copy_addr(&f->addrs[f->n_addrs], a->addr, a->netmask))
                f->n_addrs++;
        }
    }
    pcap_freealldevs(all);
    *out = v;
    *n = count;
    return NP_OK;
nomem_v:
    np_iface_list_free(v, count);
nomem:
    pcap_freealldevs(all);
    return np_err_set(err, NP_ERR_NOMEM, "out of memory listing interfaces");
}

void np_iface_list_free(struct np_iface *v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].description);
        free(v[i].addrs);
    }
    free(v);
}
