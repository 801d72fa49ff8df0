/* source/bpf.c: a BPF expression compiled per link type. */
#include "source/bpf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "core/packet.h"
#include "source/linktype.h"

/* Snapshot length for compiling filters: libpcap's maximum for most types. */
#define FILTER_SNAPLEN 262144

/* The expression compiled for one link type; ok is false when it does not
 * compile for that link type (its packets are then filtered out). */
struct filter {
    uint16_t linktype;
    bool ok;
    struct bpf_program prog;
};

struct np_bpf {
    char *expr; /* owned */
    struct filter *filters;
    size_t n_filters, cap_filters;
    size_t last;
    bool has_warning;
    char warning[PCAP_ERRBUF_SIZE + 512];
};

/* Compiles the expression for linktype and caches it; returns its slot, or
 * -1 on ENOMEM. why (may be NULL) gets libpcap's message when it fails. */
static long compile(struct np_bpf *f, uint16_t linktype, char *why, size_t why_len)
{
    if (f->n_filters == f->cap_filters) {
        size_t cap = f->cap_filters ? f->cap_filters * 2 : 4;
        struct filter *nf = realloc(f->filters, cap * sizeof(*nf));
        if (nf == NULL)
            return -1;
        f->filters = nf;
        f->cap_filters = cap;
    }
    struct filter *c = &f->filters[f->n_filters];
    memset(c, 0, sizeof(*c));
    c->linktype = linktype;
    pcap_t *dead = pcap_open_dead(np_linktype_to_dlt(linktype), FILTER_SNAPLEN);
    if (dead == NULL)
        return -1;
    c->ok = pcap_compile(dead, &c->prog, f->expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!c->ok && why != NULL)
        snprintf(why, why_len, "%s", pcap_geterr(dead));
    pcap_close(dead);
    return (long)f->n_filters++;
}

struct np_bpf *np_bpf_create(const char *expr, uint16_t linktype, struct np_err *err)
{
    struct np_bpf *f = calloc(1, sizeof(*f));
    if (f == NULL || (f->expr = strdup(expr)) == NULL) {
        np_bpf_destroy(f);
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    char why[PCAP_ERRBUF_SIZE + 1];
    long i = compile(f, linktype, why, sizeof(why));
    if (i < 0) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
    } else if (!f->filters[i].ok) {
        np_err_set(err, NP_ERR_USAGE, "bad filter '%s': %s", expr, why);
    } else {
        f->last = (size_t)i;
        return f;
    }
    np_bpf_destroy(f);
    return NULL;
}

void np_bpf_destroy(struct np_bpf *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_filters; i++)
        if (f->filters[i].ok)
            pcap_freecode(&f->filters[i].prog);
    free(f->filters);
    free(f->expr);
    free(f);
}

/* The filter for linktype, compiling it when first seen; NULL on ENOMEM. */
static struct filter *filter_for(struct np_bpf *f, uint16_t linktype)
{
    if (f->n_filters > 0 && f->filters[f->last].linktype == linktype)
        return &f->filters[f->last];
    for (size_t i = 0; i < f->n_filters; i++) {
        if (f->filters[i].linktype == linktype) {
            f->last = i;
            return &f->filters[i];
        }
    }
    char why[PCAP_ERRBUF_SIZE + 1];
    long i = compile(f, linktype, why, sizeof(why));
    if (i < 0)
        return NULL;
    f->last = (size_t)i;
    struct filter *c = &f->filters[i];
    if (!c->ok) {
        snprintf(f->warning, sizeof(f->warning),
                 "filter '%s' does not apply to link type %u (%s); its packets are filtered out",
                 f->expr, linktype, why);
        f->has_warning = true;
    }
    return c;
}

bool np_bpf_match(struct np_bpf *f, const struct np_pkt *p)
{
    struct filter *c = filter_for(f, p->linktype);
    if (c == NULL || !c->ok)
        return false;
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof(h));
    h.caplen = p->caplen;
    h.len = p->wirelen;
    return pcap_offline_filter(&c->prog, &h, p->data) != 0;
}

const char *np_bpf_take_warning(struct np_bpf *f)
{
    if (!f->has_warning)
        return NULL;
    f->has_warning = false;
    return f->warning;
}
