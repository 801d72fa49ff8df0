/* sink/pcap_out.c: the capture-file writer (classic pcap and pcapng).
 *
 * Records are packed by hand into one output buffer (core/out.h) that holds
 * only whole records: before a record goes in, the buffer is written out if
 * the record does not fit, so every write(2) ends on a record boundary and a
 * killed process leaves a readable file (see sink/pcap_out.h). A record
 * larger than the whole buffer is written on its own with writev(2) after
 * the buffer, never split across two calls of ours. All fields are written
 * in host byte order, which both formats announce in their magic numbers.
 *
 * Classic pcap (pcap-savefile(5)):
 *
 *   file header: magic(4) version 2.4 (2+2) thiszone(4)=0 sigfigs(4)=0 snaplen(4) linktype(4)
 *   record:      ts_sec(4) ts_frac(4) caplen(4) wirelen(4) data(caplen)
 *
 * pcapng (draft-ietf-opsawg-pcapng), blocks of type(4) total_len(4) body total_len(4):
 *
 *   SHB 0x0a0d0d0a: byte-order magic(4) major 1 (2) minor 0 (2) section_len(8)=-1
 *                   options: shb_userappl(4)
 *   IDB 1:          linktype(2) reserved(2) snaplen(4) options: if_tsresol(9)=9 when nano
 *   EPB 6:          ifid(4) ts_hi(4) ts_lo(4) caplen(4) wirelen(4) data, padded to 4
 *
 * One section. An output interface stands for one (input interface id, link
 * type) pair; its IDB is written just before its first packet, which the
 * format allows anywhere in the section before first use. Pairs are found
 * with one comparison when a packet has the last packet's interface (the
 * common case), else through a small open-addressing index.
 */
#include "sink/pcap_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/out.h"
#include "core/packet.h"

#ifndef NP_VERSION
#define NP_VERSION "unknown"
#endif

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_FILE_HDR   24u
#define PCAP_REC_HDR    16u

#define NG_SHB          0x0a0d0d0au
#define NG_BOM          0x1a2b3c4du
#define NG_IDB          1u
#define NG_EPB          6u
#define NG_EPB_HEAD     28u /* type, length, ifid, ts_hi, ts_lo, caplen, wirelen */
#define OPT_ENDOFOPT    0u
#define OPT_SHB_USERAPP 4u
#define OPT_IF_TSRESOL  9u

/* Largest packet we write: its pcapng block length must fit in 32 bits. */
#define MAX_CAPLEN (UINT32_MAX - 64u)

/* pcapng: one output interface. */
struct oif {
    uint32_t in_ifid;  /* the packets' ifid */
    uint32_t snaplen;  /* for its IDB; 0: no limit */
    uint32_t out_ifid; /* in the file, once has_idb */
    uint16_t linktype; /* the packets' link type */
    bool has_idb;      /* its IDB (with this snaplen) is in the file or the buffer */
};

struct np_pcap_out {
    struct np_out out; /* the buffer of whole records; out.err: first write errno, sticky */
    int fd;
    bool own_fd; /* false for standard output */
    bool finished;
    enum np_pcap_fmt fmt;
    bool nsec;
    uint16_t linktype; /* pcap: the file's; pcapng: the IDB written at finish if none was */
    uint32_t snaplen;  /* pcap: the header's; pcapng: of undeclared interfaces */
    char *name;        /* owned: the path, or "stdout" */
    struct np_pcap_out_stats st;

    /* pcapng interfaces, in order of appearance. slots[] indexes them by
     * (in_ifid, linktype): entry i + 1, 0 for empty; n_slots is a power of
     * two at least twice n_ifs, so probing ends. */
    struct oif *ifs; /* owned */
    uint32_t n_ifs, cap_ifs;
    uint32_t *slots; /* owned */
    uint32_t n_slots;
    uint32_t last;      /* ifs[last] had the last packet (when n_ifs > 0) */
    uint32_t n_idb_ids; /* IDBs written: the next output interface id */
};

static inline uint8_t *put16(uint8_t *d, uint16_t v)
{
    memcpy(d, &v, 2);
    return d + 2;
}

static inline uint8_t *put32(uint8_t *d, uint32_t v)
{
    memcpy(d, &v, 4);
    return d + 4;
}

static enum np_rc io_error(const struct np_pcap_out *o, int e, struct np_err *err)
{
    return np_err_set(err, NP_ERR_IO, "cannot write %s: %s", o->name, strerror(e));
}

/* writev(2) until all is written; 0 or the errno. Skips empty entries. */
static int writev_all(int fd, struct iovec *iov, int n)
{
    for (;;) {
        while (n > 0 && iov->iov_len == 0) {
            iov++;
            n--;
        }
        if (n == 0)
            return 0;
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return EIO; /* no progress on a non-empty write */
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
}

/* Appends one record: head, data, tail (any may be empty). The record goes
 * into the buffer whole, after writing the buffer out if it does not fit;
 * one larger than the buffer is written directly after it. NP_OK, or
 * NP_ERR_IO (message left to the caller) with out.err set. */
static enum np_rc put_record(struct np_pcap_out *o, const void *head, size_t head_len,
                             const uint8_t *data, size_t data_len, const void *tail,
                             size_t tail_len)
{
    size_t n = head_len + data_len + tail_len;
    if (n <= o->out.cap) {
        uint8_t *d = np_out_room(&o->out, n);
        if (o->out.err != 0)
            return NP_ERR_IO;
        memcpy(d, head, head_len);
        if (data_len > 0)
            memcpy(d + head_len, data, data_len);
        if (tail_len > 0)
            memcpy(d + head_len + data_len, tail, tail_len);
        o->out.len += n;
    } else {
        if (np_out_flush(&o->out) != 0)
            return NP_ERR_IO;
        struct iovec iov[3] = {
            { .iov_base = (void *)(uintptr_t)head, .iov_len = head_len },
            { .iov_base = (void *)(uintptr_t)data, .iov_len = data_len },
            { .iov_base = (void *)(uintptr_t)tail, .iov_len = tail_len },
        };
        int e = writev_all(o->out.fd, iov, 3);
        if (e != 0) {
            o->out.err = e;
            return NP_ERR_IO;
        }
    }
    o->st.file_bytes += n;
    return NP_OK;
}

/* ---- headers ---- */

static enum np_rc put_pcap_header(struct np_pcap_out *o)
{
    uint8_t h[PCAP_FILE_HDR];
    uint8_t *d = put32(h, o->nsec ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
    d = put16(d, 2);
    d = put16(d, 4);
    d = put32(d, 0); /* thiszone: timestamps are UTC */
    d = put32(d, 0); /* sigfigs */
    d = put32(d, o->snaplen);
    put32(d, o->linktype);
    return put_record(o, h, sizeof(h), NULL, 0, NULL, 0);
}

static enum np_rc put_shb(struct np_pcap_out *o)
{
    static const char app[] = "netpeek " NP_VERSION;
    const uint32_t app_len = (uint32_t)sizeof(app) - 1;
    const uint32_t app_pad = (4u - (app_len & 3u)) & 3u;
    const uint32_t len = 24 + 4 + app_len + app_pad + 4 + 4;
    uint8_t b[24 + 4 + sizeof(app) + 3 + 8];
    memset(b, 0, sizeof(b));
    uint8_t *d = put32(b, NG_SHB);
    d = put32(d, len);
    d = put32(d, NG_BOM);
    d = put16(d, 1);
    d = put16(d, 0);
    memset(d, 0xff, 8); /* section length -1: not given */
    d += 8;
    d = put16(d, OPT_SHB_USERAPP);
    d = put16(d, (uint16_t)app_len);
    memcpy(d, app, app_len);
    d += app_len + app_pad;
    d = put16(d, OPT_ENDOFOPT);
    d = put16(d, 0);
    put32(d, len);
    return put_record(o, b, len, NULL, 0, NULL, 0);
}

/* Writes the IDB of i and gives it the next output interface id. */
static enum np_rc put_idb(struct np_pcap_out *o, struct oif *i, struct np_err *err)
{
    if (o->n_idb_ids >= NP_PCAP_OUT_MAX_IFACES)
        return np_err_set(err, NP_ERR_LIMIT, "cannot write %s: more than %u interfaces", o->name,
                          NP_PCAP_OUT_MAX_IFACES);
    const uint32_t len = o->nsec ? 32 : 20;
    uint8_t b[32];
    uint8_t *d = put32(b, NG_IDB);
    d = put32(d, len);
    d = put16(d, i->linktype);
    d = put16(d, 0);
    d = put32(d, i->snaplen);
    if (o->nsec) {
        d = put16(d, OPT_IF_TSRESOL);
        d = put16(d, 1);
        *d++ = 9; /* 10^-9 s; the value is one byte, padded to 4 */
        *d++ = 0;
        *d++ = 0;
        *d++ = 0;
        d = put16(d, OPT_ENDOFOPT);
        d = put16(d, 0);
    }
    put32(d, len);
    if (put_record(o, b, len, NULL, 0, NULL, 0) != NP_OK)
        return io_error(o, o->out.err, err);
    i->out_ifid = o->n_idb_ids++;
    i->has_idb = true;
    o->st.n_idbs++;
    return NP_OK;
}

/* ---- pcapng interfaces ---- */

static uint32_t iface_hash(uint32_t ifid, uint16_t linktype)
{
    uint32_t h = ifid * 0x9e3779b1u ^ (uint32_t)linktype * 0x85ebca6bu;
    return h ^ h >> 16;
}

static void index_iface(struct np_pcap_out *o, uint32_t i)
{
    uint32_t mask = o->n_slots - 1;
    uint32_t k = iface_hash(o->ifs[i].in_ifid, o->ifs[i].linktype) & mask;
    while (o->slots[k] != 0)
        k = (k + 1) & mask;
    o->slots[k] = i + 1;
}

/* Sets *out to the output interface of (ifid, linktype), added (with cfg's
 * snaplen, no IDB yet) when new. NP_OK, or NP_ERR_NOMEM, NP_ERR_LIMIT with
 * err set. The pointer is valid until the next interface is added. */
static enum np_rc find_iface(struct np_pcap_out *o, uint32_t ifid, uint16_t linktype,
                             struct oif **out, struct np_err *err)
{
    if (o->n_ifs > 0) {
        struct oif *l = &o->ifs[o->last];
        if (l->in_ifid == ifid && l->linktype == linktype) {
            *out = l;
            return NP_OK;
        }
        uint32_t mask = o->n_slots - 1;
        for (uint32_t k = iface_hash(ifid, linktype) & mask; o->slots[k] != 0; k = (k + 1) & mask) {
            struct oif *c = &o->ifs[o->slots[k] - 1];
            if (c->in_ifid == ifid && c->linktype == linktype) {
                o->last = o->slots[k] - 1;
                *out = c;
                return NP_OK;
            }
        }
    }
    /* New: the slow path, once per interface. */
    if (o->n_ifs >= NP_PCAP_OUT_MAX_IFACES)
        return np_err_set(err, NP_ERR_LIMIT, "cannot write %s: more than %u interfaces", o->name,
                          NP_PCAP_OUT_MAX_IFACES);
    if (o->n_ifs == o->cap_ifs) {
        uint32_t cap = o->cap_ifs ? o->cap_ifs * 2 : 8;
        struct oif *ni = realloc(o->ifs, (size_t)cap * sizeof(*ni));
        if (ni == NULL)
            goto nomem;
        o->ifs = ni;
        o->cap_ifs = cap;
    }
    if ((o->n_ifs + 1) * 2 > o->n_slots) {
        uint32_t n_slots = o->n_slots ? o->n_slots * 2 : 16;
        uint32_t *ns = calloc(n_slots, sizeof(*ns));
        if (ns == NULL)
            goto nomem;
        free(o->slots);
        o->slots = ns;
        o->n_slots = n_slots;
        for (uint32_t i = 0; i < o->n_ifs; i++)
            index_iface(o, i);
    }
    struct oif *n = &o->ifs[o->n_ifs];
    memset(n, 0, sizeof(*n));
    n->in_ifid = ifid;
    n->linktype = linktype;
    n->snaplen = o->snaplen;
    index_iface(o, o->n_ifs);
    o->last = o->n_ifs++;
    *out = n;
    return NP_OK;
nomem:
    return np_err_set(err, NP_ERR_NOMEM, "out of memory writing %s", o->name);
}

/* ---- the API ---- */

struct np_pcap_out *np_pcap_out_create(const char *path, const struct np_pcap_out_cfg *cfg,
                                       struct np_err *err)
{
    if (cfg->fmt != NP_PCAP_FMT_PCAP && cfg->fmt != NP_PCAP_FMT_PCAPNG) {
        np_err_set(err, NP_ERR_USAGE, "cannot write %s: unknown capture file format", path);
        return NULL;
    }
    if (cfg->ts_prec != 6 && cfg->ts_prec != 9) {
        np_err_set(err, NP_ERR_USAGE,
                   "cannot write %s: timestamp precision must be 6 or 9 digits, not %u", path,
                   cfg->ts_prec);
        return NULL;
    }
    enum np_rc rc;
    struct np_pcap_out *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory writing %s", path);
        return NULL;
    }
    o->fd = -1;
    o->fmt = cfg->fmt;
    o->nsec = cfg->ts_prec == 9;
    o->linktype = cfg->linktype;
    o->snaplen = cfg->snaplen;
    if (o->fmt == NP_PCAP_FMT_PCAP && o->snaplen == 0)
        o->snaplen = NP_PCAP_OUT_PCAP_SNAPLEN;
    bool is_stdout = strcmp(path, "-") == 0;
    o->name = strdup(is_stdout ? "stdout" : path);
    if (o->name == NULL) {
        rc = np_err_set(err, NP_ERR_NOMEM, "out of memory writing %s", path);
        goto fail;
    }
    if (is_stdout) {
        o->fd = STDOUT_FILENO;
    } else {
        o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o->fd < 0) {
            rc = np_err_set(err, NP_ERR_USAGE, "cannot write %s: %s", path, strerror(errno));
            goto fail;
        }
        o->own_fd = true;
    }
    if (np_out_init(&o->out, o->fd, cfg->buf_bytes ? cfg->buf_bytes : NP_PCAP_OUT_BUF_BYTES) != 0 ||
        (cfg->n_bufs != 1 &&
         np_out_async(&o->out, cfg->n_bufs ? cfg->n_bufs : NP_PCAP_OUT_BUFS) != 0)) {
        rc = np_err_set(err, NP_ERR_NOMEM, "out of memory writing %s", o->name);
        goto fail;
    }
    /* The header goes out now: from here on the file is a valid capture. */
    if (o->fmt == NP_PCAP_FMT_PCAP)
        rc = put_pcap_header(o);
    else
        rc = put_shb(o);
    if (rc == NP_OK && np_out_flush(&o->out) != 0)
        rc = NP_ERR_IO;
    if (rc != NP_OK) {
        rc = io_error(o, o->out.err, err);
        goto fail;
    }
    return o;
fail:
    np_pcap_out_destroy(o);
    return NULL;
}

void np_pcap_out_destroy(struct np_pcap_out *o)
{
    if (o == NULL)
        return;
    if (o->own_fd && o->fd >= 0)
        close(o->fd);
    np_out_fini(&o->out);
    free(o->ifs);
    free(o->slots);
    free(o->name);
    free(o);
}

enum np_rc np_pcap_out_set_iface(struct np_pcap_out *o, uint32_t ifid, uint16_t linktype,
                                 uint32_t snaplen, struct np_err *err)
{
    if (o->fmt == NP_PCAP_FMT_PCAP) {
        if (linktype != o->linktype)
            return np_err_set(err, NP_ERR_USAGE,
                              "cannot write link type %u to %s: a pcap file holds one link "
                              "type (%u); write pcapng",
                              linktype, o->name, o->linktype);
        return NP_OK;
    }
    struct oif *i;
    enum np_rc rc = find_iface(o, ifid, linktype, &i, err);
    if (rc != NP_OK)
        return rc;
    if (i->has_idb && i->snaplen != snaplen)
        i->has_idb = false; /* the next packet writes a new IDB */
    i->snaplen = snaplen;
    return NP_OK;
}

static enum np_rc write_pcap(struct np_pcap_out *o, const struct np_pkt *p, struct np_err *err)
{
    if (p->linktype != o->linktype)
        return np_err_set(err, NP_ERR_USAGE,
                          "cannot write link type %u to %s: a pcap file holds one link type "
                          "(%u); write pcapng",
                          p->linktype, o->name, o->linktype);
    uint64_t sec = p->ts_ns / 1000000000u;
    uint32_t frac = (uint32_t)(p->ts_ns % 1000000000u);
    if (!o->nsec)
        frac /= 1000;
    if (sec > UINT32_MAX)
        o->st.anom_ts_past_2106++;
    if (p->caplen > o->snaplen)
        o->st.anom_caplen_over_snaplen++;
    uint8_t h[PCAP_REC_HDR];
    uint8_t *d = put32(h, (uint32_t)sec);
    d = put32(d, frac);
    d = put32(d, p->caplen);
    put32(d, p->wirelen);
    if (put_record(o, h, sizeof(h), p->data, p->caplen, NULL, 0) != NP_OK)
        return io_error(o, o->out.err, err);
    return NP_OK;
}

static enum np_rc write_pcapng(struct np_pcap_out *o, const struct np_pkt *p, struct np_err *err)
{
    struct oif *i;
    enum np_rc rc = find_iface(o, p->ifid, p->linktype, &i, err);
    if (rc == NP_OK && !i->has_idb)
        rc = put_idb(o, i, err);
    if (rc != NP_OK)
        return rc;
    if (i->snaplen != 0 && p->caplen > i->snaplen)
        o->st.anom_caplen_over_snaplen++;
    uint64_t t = o->nsec ? p->ts_ns : p->ts_ns / 1000;
    uint32_t pad = (4u - (p->caplen & 3u)) & 3u;
    uint32_t len = NG_EPB_HEAD + p->caplen + pad + 4;
    uint8_t h[NG_EPB_HEAD];
    uint8_t *d = put32(h, NG_EPB);
    d = put32(d, len);
    d = put32(d, i->out_ifid);
    d = put32(d, (uint32_t)(t >> 32));
    d = put32(d, (uint32_t)t);
    d = put32(d, p->caplen);
    put32(d, p->wirelen);
    uint8_t tail[8] = { 0 };
    put32(tail + pad, len);
    if (put_record(o, h, sizeof(h), p->data, p->caplen, tail, pad + 4) != NP_OK)
        return io_error(o, o->out.err, err);
    return NP_OK;
}

enum np_rc np_pcap_out_write(struct np_pcap_out *o, const struct np_pkt *p, struct np_err *err)
{
    if (!NP_ALWAYS(!o->finished))
        return np_err_set(err, NP_ERR_USAGE, "internal: write to %s after finish", o->name);
    if (o->out.err != 0)
        return io_error(o, o->out.err, err);
    if (p->caplen > MAX_CAPLEN)
        return np_err_set(err, NP_ERR_USAGE, "cannot write a packet of %u bytes to %s", p->caplen,
                          o->name);
    enum np_rc rc = o->fmt == NP_PCAP_FMT_PCAP ? write_pcap(o, p, err) : write_pcapng(o, p, err);
    if (rc == NP_OK) {
        o->st.n_pkts++;
        o->st.data_bytes += p->caplen;
    }
    return rc;
}

enum np_rc np_pcap_out_flush(struct np_pcap_out *o, struct np_err *err)
{
    if (np_out_flush(&o->out) != 0)
        return io_error(o, o->out.err, err);
    return NP_OK;
}

enum np_rc np_pcap_out_finish(struct np_pcap_out *o, struct np_err *err)
{
    if (o->finished)
        return o->out.err != 0 ? io_error(o, o->out.err, err) : NP_OK;
    o->finished = true;
    enum np_rc rc = NP_OK;
    if (o->fmt == NP_PCAP_FMT_PCAPNG && o->n_idb_ids == 0 && o->out.err == 0) {
        /* libpcap refuses a pcapng file without an interface. */
        struct oif i = { .linktype = o->linktype, .snaplen = o->snaplen };
        rc = put_idb(o, &i, err);
    }
    if (np_out_flush(&o->out) != 0 && rc == NP_OK)
        rc = io_error(o, o->out.err, err);
    if (o->own_fd) {
        int e = close(o->fd) != 0 ? errno : 0;
        o->fd = -1;
        if (e != 0 && e != EINTR && rc == NP_OK) {
            o->out.err = e;
            rc = io_error(o, e, err);
        }
    }
    return rc;
}

const struct np_pcap_out_stats *np_pcap_out_stats(const struct np_pcap_out *o)
{
    return &o->st;
}
