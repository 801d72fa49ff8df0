/* tests/source/capbuild.h: builds small pcap and pcapng files byte by byte
 * for the source tests, and reads them back through the source.
 *
 * Test helper only: aborts on ENOMEM. A builder writes in its own byte
 * order (be), so files of both orders come from the same test code.
 */
#ifndef NP_TESTS_SOURCE_CAPBUILD_H
#define NP_TESTS_SOURCE_CAPBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hash.h"
#include "core/packet.h"
#include "source/source.h"

struct cb {
    uint8_t *p; /* owned */
    size_t len, cap;
    bool be;
};

static inline void cb_free(struct cb *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static inline void cb_bytes(struct cb *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static inline void cb_u8(struct cb *b, uint8_t v)
{
    cb_bytes(b, &v, 1);
}

static inline void cb_u16(struct cb *b, uint16_t v)
{
    uint8_t x[2];
    for (int i = 0; i < 2; i++)
        x[b->be ? 1 - i : i] = (uint8_t)(v >> (8 * i));
    cb_bytes(b, x, 2);
}

static inline void cb_u32(struct cb *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[b->be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    cb_bytes(b, x, 4);
}

static inline void cb_u64(struct cb *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[b->be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
    cb_bytes(b, x, 8);
}

static inline void cb_pad4(struct cb *b)
{
    while (b->len % 4 != 0)
        cb_u8(b, 0);
}

/* Packet bytes that tell packets apart: byte i is seed + i. */
static inline void cb_pattern(struct cb *b, uint32_t n, uint8_t seed)
{
    for (uint32_t i = 0; i < n; i++)
        cb_u8(b, (uint8_t)(seed + i));
}

static inline uint64_t pattern_hash(uint32_t n, uint8_t seed)
{
    uint64_t h = NP_FNV1A64_INIT;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)(seed + i);
        h = np_fnv1a64(h, &v, 1);
    }
    return h;
}

/* ---- classic pcap ---- */

static inline void cb_pcap_header(struct cb *b, bool nsec, uint32_t snaplen, uint32_t linktype)
{
    cb_u32(b, nsec ? 0xa1b23c4du : 0xa1b2c3d4u);
    cb_u16(b, 2);
    cb_u16(b, 4);
    cb_u32(b, 0);
    cb_u32(b, 0);
    cb_u32(b, snaplen);
    cb_u32(b, linktype);
}

/* A record header alone: the caller appends the data, as much as it likes. */
static inline void cb_pcap_rec_head(struct cb *b, uint32_t sec, uint32_t frac, uint32_t caplen,
                                    uint32_t wirelen)
{
    cb_u32(b, sec);
    cb_u32(b, frac);
    cb_u32(b, caplen);
    cb_u32(b, wirelen);
}

static inline void cb_pcap_rec(struct cb *b, uint32_t sec, uint32_t frac, uint32_t caplen,
                               uint32_t wirelen, uint8_t seed)
{
    cb_pcap_rec_head(b, sec, frac, caplen, wirelen);
    cb_pattern(b, caplen, seed);
}

/* ---- pcapng ---- */

/* Starts a block; returns its offset for cb_end_block(). */
static inline size_t cb_begin_block(struct cb *b, uint32_t type)
{
    size_t at = b->len;
    cb_u32(b, type);
    cb_u32(b, 0); /* length, patched by cb_end_block */
    return at;
}

static inline void cb_end_block(struct cb *b, size_t at)
{
    cb_pad4(b);
    uint32_t len = (uint32_t)(b->len - at + 4);
    cb_u32(b, len);
    size_t end = b->len;
    b->len = at + 4;
    cb_u32(b, len);
    b->len = end;
}

static inline void cb_shb(struct cb *b)
{
    size_t at = cb_begin_block(b, 0x0a0d0d0au);
    cb_u32(b, 0x1a2b3c4du);
    cb_u16(b, 1);
    cb_u16(b, 0);
    cb_u64(b, UINT64_MAX);
    cb_end_block(b, at);
}

/* tsresol < 0: no option; tsoffset_s != 0: an if_tsoffset option. */
static inline void cb_idb(struct cb *b, uint16_t linktype, uint32_t snaplen, int tsresol,
                          int64_t tsoffset_s)
{
    size_t at = cb_begin_block(b, 1);
    cb_u16(b, linktype);
    cb_u16(b, 0);
    cb_u32(b, snaplen);
    if (tsresol >= 0) {
        cb_u16(b, 9);
        cb_u16(b, 1);
        cb_u8(b, (uint8_t)tsresol);
        cb_pad4(b);
    }
    if (tsoffset_s != 0) {
        cb_u16(b, 14);
        cb_u16(b, 8);
        cb_u64(b, (uint64_t)tsoffset_s);
    }
    if (tsresol >= 0 || tsoffset_s != 0) {
        cb_u16(b, 0);
        cb_u16(b, 0);
    }
    cb_end_block(b, at);
}

/* Starts an EPB and writes its fields up to the packet data, which the
 * caller appends; returns its offset for cb_end_block(). */
static inline size_t cb_epb_begin(struct cb *b, uint32_t ifid, uint64_t ts, uint32_t caplen,
                                  uint32_t wirelen)
{
    size_t at = cb_begin_block(b, 6);
    cb_u32(b, ifid);
    cb_u32(b, (uint32_t)(ts >> 32));
    cb_u32(b, (uint32_t)ts);
    cb_u32(b, caplen);
    cb_u32(b, wirelen);
    return at;
}

static inline void cb_epb(struct cb *b, uint32_t ifid, uint64_t ts, uint32_t caplen,
                          uint32_t wirelen, uint8_t seed)
{
    size_t at = cb_epb_begin(b, ifid, ts, caplen, wirelen);
    cb_pattern(b, caplen, seed);
    cb_end_block(b, at);
}

/* An EPB whose packet bytes are given. */
static inline void cb_epb_data(struct cb *b, uint32_t ifid, uint64_t ts, const uint8_t *d,
                               uint32_t n)
{
    size_t at = cb_epb_begin(b, ifid, ts, n, n);
    cb_bytes(b, d, n);
    cb_end_block(b, at);
}

static inline void cb_spb(struct cb *b, uint32_t wirelen, uint32_t data_bytes, uint8_t seed)
{
    size_t at = cb_begin_block(b, 3);
    cb_u32(b, wirelen);
    cb_pattern(b, data_bytes, seed);
    cb_end_block(b, at);
}

static inline void cb_pb(struct cb *b, uint16_t ifid, uint64_t ts, uint32_t caplen,
                         uint32_t wirelen, uint8_t seed)
{
    size_t at = cb_begin_block(b, 2);
    cb_u16(b, ifid);
    cb_u16(b, 0);
    cb_u32(b, (uint32_t)(ts >> 32));
    cb_u32(b, (uint32_t)ts);
    cb_u32(b, caplen);
    cb_u32(b, wirelen);
    cb_pattern(b, caplen, seed);
    cb_end_block(b, at);
}

/* A block of any type with n zero bytes of body. */
static inline void cb_other_block(struct cb *b, uint32_t type, uint32_t n)
{
    size_t at = cb_begin_block(b, type);
    for (uint32_t i = 0; i < n; i++)
        cb_u8(b, 0);
    cb_end_block(b, at);
}

/* ---- frames for filter tests ---- */

/* An IPv4 header and a UDP or TCP header with 4 payload bytes. */
static inline void cb_ipv4(struct cb *b, bool udp, uint16_t dport)
{
    bool be = b->be;
    b->be = true;
    uint16_t l4 = udp ? 8 : 20;
    cb_u8(b, 0x45);
    cb_u8(b, 0);
    cb_u16(b, (uint16_t)(20 + l4 + 4));
    cb_u32(b, 0);
    cb_u8(b, 64);
    cb_u8(b, udp ? 17 : 6);
    cb_u16(b, 0);
    cb_u32(b, 0xc0000201u);
    cb_u32(b, 0xc0000202u);
    cb_u16(b, 40000);
    cb_u16(b, dport);
    if (udp) {
        cb_u16(b, (uint16_t)(8 + 4));
        cb_u16(b, 0);
    } else {
        cb_u32(b, 1);
        cb_u32(b, 0);
        cb_u8(b, 0x50);
        cb_u8(b, 0x02);
        cb_u16(b, 1024);
        cb_u32(b, 0);
    }
    cb_u32(b, 0x61626364u);
    b->be = be;
}

static inline void cb_ether_ipv4(struct cb *b, bool udp, uint16_t dport)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    cb_bytes(b, macs, sizeof(macs));
    cb_u8(b, 0x08);
    cb_u8(b, 0x00);
    cb_ipv4(b, udp, dport);
}

/* ---- files ---- */

/* Writes b to a new file in dir; returns its path (owned by the caller). */
static inline char *cb_write(const struct cb *b, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path == NULL)
        abort();
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (b->len > 0 && fwrite(b->p, 1, b->len, f) != b->len) || fclose(f) != 0)
        abort();
    return path;
}

/* ---- reading back ---- */

struct rec {
    uint64_t ts_ns, frame_no, hash;
    uint32_t caplen, wirelen, ifid;
    uint16_t linktype, ts_prec;
};

struct got {
    struct rec *r; /* owned */
    size_t n;
    struct np_source_stats st;
    char warn[8][512];
    size_t n_warn;
    size_t n_batches;
    enum np_rc rc; /* of np_source_create, or the last np_source_next */
    struct np_err err;
};

static inline void got_free(struct got *g)
{
    free(g->r);
    memset(g, 0, sizeof(*g));
}

/* Reads everything o gives, with batches of cap_pkts packets and buf_bytes. */
static inline void read_all_sized(const struct np_source_opts *o, struct got *g, uint32_t cap_pkts,
                                  size_t buf_bytes)
{
    memset(g, 0, sizeof(*g));
    struct np_source *s = np_source_create(o, &g->err);
    if (s == NULL) {
        g->rc = g->err.rc;
        return;
    }
    struct np_batch *b = np_batch_create(cap_pkts, buf_bytes);
    if (b == NULL)
        abort();
    size_t cap = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        enum np_rc rc = np_source_next(s, b, &g->err);
        g->n_batches++;
        for (uint32_t i = 0; i < b->n; i++) {
            if (g->n == cap) {
                cap = cap ? cap * 2 : 64;
                g->r = realloc(g->r, cap * sizeof(*g->r));
                if (g->r == NULL)
                    abort();
            }
            const struct np_pkt *p = &b->pkts[i];
            struct rec *r = &g->r[g->n++];
            r->ts_ns = p->ts_ns;
            r->frame_no = p->frame_no;
            r->hash = np_fnv1a64(NP_FNV1A64_INIT, p->data, p->caplen);
            r->caplen = p->caplen;
            r->wirelen = p->wirelen;
            r->ifid = p->ifid;
            r->linktype = p->linktype;
            r->ts_prec = p->ts_prec;
        }
        const char *w = np_source_take_warning(s);
        if (w != NULL && g->n_warn < 8)
            snprintf(g->warn[g->n_warn++], sizeof(g->warn[0]), "%s", w);
        if (rc != NP_OK) {
            g->rc = rc;
            break;
        }
    }
    g->st = *np_source_stats(s);
    np_batch_destroy(b);
    np_source_destroy(s);
}

static inline void read_all(const struct np_source_opts *o, struct got *g)
{
    read_all_sized(o, g, 1024, 1 << 16);
}

/* Reads one file with our reader and default sizes. */
static inline void read_file(const char *path, struct got *g)
{
    const char *files[] = { path };
    struct np_source_opts o = { .files = files, .n_files = 1 };
    read_all(&o, g);
}

#endif
