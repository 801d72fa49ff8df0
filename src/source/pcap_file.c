/* source/pcap_file.c: our own classic pcap and pcapng reader.
 *
 * Speed: the file is read with large read(2) calls (NP_PCAP_FILE_CHUNK_BYTES)
 * straight into the batch buffer and the records are walked in place, so a packet costs one header
 * parse and no copy (libpcap does a stdio read per record). A record cut by
 * the end of the buffer is moved to the reader's carry buffer and becomes the
 * start of the next batch's buffer: only that partial record is copied. A
 * record larger than the buffer grows the batch buffer, up to
 * NP_PCAP_FILE_MAX_RECORD_BYTES; beyond that the file is damaged. No
 * allocation per packet, no syscall per record, no stdio.
 *
 * Classic pcap (pcap-savefile(5)); the magic number gives the byte order and
 * the timestamp unit (a1b2c3d4 microseconds, a1b23c4d nanoseconds):
 *
 *   file header: magic(4) version(2+2) thiszone(4) sigfigs(4) snaplen(4) linktype(4)
 *   record:      ts_sec(4) ts_frac(4) caplen(4) wirelen(4) data(caplen)
 *
 * pcapng (draft-ietf-opsawg-pcapng), every block:
 *
 *   type(4) total_len(4) body(total_len - 12) total_len(4)
 *
 *   SHB 0x0a0d0d0a: byte-order magic(4) major(2) minor(2) section_len(8) options
 *                   (starts a section: its byte order, its interface ids from 0)
 *   IDB 1:          linktype(2) reserved(2) snaplen(4) options
 *                   (if_tsresol 9: 1 byte; if_tsoffset 14: 8 bytes, seconds)
 *   EPB 6:          ifid(4) ts_hi(4) ts_lo(4) caplen(4) wirelen(4) data(pad 4) options
 *   SPB 3:          wirelen(4) data(pad 4)  (interface 0, no timestamp)
 *   PB 2 (obsolete): ifid(2) drops(2) ts_hi(4) ts_lo(4) caplen(4) wirelen(4) data options
 *
 * All other blocks are skipped. The file format is chosen by the magic
 * number, never by the file name. Out-of-range sub-second fields (usec >=
 * 1000000) are not rejected: the timestamp is computed as the file says.
 *
 * np_pcap_file_peek() reads ahead, before the first fill, as far as the first
 * packet: the pcap file header, or the pcapng blocks before the first packet
 * block. The bytes stay in the carry for the first fill, so nothing is read
 * twice; the interfaces it finds answer np_pcap_file_iface() until the fill
 * walks the same blocks again (quietly: anomalies are counted by the walk).
 */
#include "source/pcap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cursor.h"
#include "core/packet.h"
#include "source/source.h"

#define MAGIC_USEC     0xa1b2c3d4u
#define MAGIC_NSEC     0xa1b23c4du
#define MAGIC_USEC_BE  0xd4c3b2a1u /* as read little-endian */
#define MAGIC_NSEC_BE  0x4d3cb2a1u
#define PCAPNG_SHB     0x0a0d0d0au
#define PCAPNG_BOM     0x1a2b3c4du
#define PCAPNG_BOM_SWP 0x4d3c2b1au
#define PCAPNG_IDB     1u
#define PCAPNG_PB      2u
#define PCAPNG_SPB     3u
#define PCAPNG_EPB     6u

#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR  16u
#define BLOCK_MIN     12u
#define OPT_TSRESOL   9u
#define OPT_TSOFFSET  14u

/* np_pcap_file_peek(): bytes it may read ahead (each block is >= 12 bytes,
 * so this also bounds the blocks it walks). */
#define PEEK_MAX_BYTES (1u << 20)

enum fmt {
    FMT_PCAP,
    FMT_PCAPNG,
};

/* How a pcapng interface's timestamp units become nanoseconds. */
enum ts_kind {
    TS_MUL, /* units of 10^-e s, e <= 9: ns = t * scale */
    TS_DIV, /* units of 10^-e s, e > 9: ns = t / scale */
    TS_BIN, /* units of 2^-e s: ns = t * 10^9 >> e */
};

struct iface {
    uint64_t scale;   /* TS_MUL, TS_DIV: 10^|9 - e| */
    int64_t offset_s; /* if_tsoffset */
    uint32_t snaplen; /* 0: none */
    uint16_t linktype;
    uint8_t kind;    /* enum ts_kind */
    uint8_t shift;   /* TS_BIN: e */
    uint8_t ts_prec; /* 9 when finer than microseconds, else 6 */
};

/* Why a walk over the buffer stopped. */
enum walk {
    W_MORE,    /* needs f->need bytes at the start of what is left */
    W_FULL,    /* the batch has no room for another packet */
    W_DAMAGED, /* f->damage is set; the file is done */
};

struct np_pcap_file {
    int fd;
    bool own_fd; /* false for stdin */
    bool eof;    /* read(2) returned 0 */
    bool started;
    bool done;
    bool damaged;
    enum fmt fmt;
    bool be;            /* pcap: the file; pcapng: the current section is big-endian */
    const char *name;   /* borrowed */
    size_t chunk;       /* bytes per read(2) */
    uint64_t file_size; /* regular files when opened; UINT64_MAX when unknown */

    uint8_t *carry; /* owned: bytes read but not walked, from file offset carry_off */
    size_t carry_len, carry_cap;
    uint64_t carry_off;
    size_t need; /* bytes needed at the start of the carry to make progress */

    uint64_t n_pkts;       /* records handed out */
    uint64_t walked_bytes; /* for the read-size estimate with small batches */
    uint64_t walked_recs;

    /* classic pcap */
    bool have_hdr; /* the file header was read (peeked or walked) */
    bool nsec;
    uint16_t linktype;
    uint32_t snaplen;

    /* What the interfaces announced so far (pcap header, pcapng IDBs of every
     * section peeked or walked): np_pcap_file_linktypes(), np_pcap_file_nano(). */
    bool have_lt;
    bool mixed_lt;
    bool any_nano;
    uint16_t first_lt;

    /* pcapng: interfaces of the current section */
    struct iface *ifaces; /* owned */
    size_t n_ifaces, cap_ifaces;

    struct np_source_stats *stats; /* borrowed */
    char damage[400];
};

static inline uint32_t rd32(struct np_cur *c, bool be)
{
    return be ? np_cur_be32(c) : np_cur_le32(c);
}

static inline uint16_t rd16(struct np_cur *c, bool be)
{
    return be ? np_cur_be16(c) : np_cur_le16(c);
}

static ssize_t read_some(int fd, uint8_t *dst, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, dst, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

static enum np_rc read_error(struct np_pcap_file *f, struct np_err *err)
{
    return np_err_set(err, NP_ERR_IO, "cannot read %s: %s", f->name, strerror(errno));
}

/* Reads until the carry holds at least want bytes or the file ends. */
static enum np_rc fill_carry(struct np_pcap_file *f, size_t want, struct np_err *err)
{
    if (f->carry_cap < want) {
        size_t cap = f->carry_cap ? f->carry_cap : 4096;
        while (cap < want)
            cap *= 2;
        uint8_t *nc = realloc(f->carry, cap);
        if (nc == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", f->name);
        f->carry = nc;
        f->carry_cap = cap;
    }
    while (f->carry_len < want && !f->eof) {
        ssize_t r = read_some(f->fd, f->carry + f->carry_len, f->carry_cap - f->carry_len);
        if (r < 0)
            return read_error(f, err);
        if (r == 0)
            f->eof = true;
        f->carry_len += (size_t)r;
    }
    return NP_OK;
}

enum np_rc np_pcap_file_open(struct np_pcap_file **out, const char *path, const char *name,
                             size_t chunk_bytes, struct np_source_stats *stats, struct np_err *err)
{
    enum np_rc rc;
    struct np_pcap_file *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory opening %s", name);
    f->name = name;
    f->stats = stats;
    f->chunk = chunk_bytes ? chunk_bytes : NP_PCAP_FILE_CHUNK_BYTES;
    f->file_size = UINT64_MAX;
    if (strcmp(path, "-") == 0) {
        f->fd = 0;
    } else {
        f->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            rc = np_err_set(err, NP_ERR_IO, "cannot read %s: %s", name, strerror(errno));
            f->fd = -1;
            goto fail;
        }
        f->own_fd = true;
    }
    struct stat st;
    if (fstat(f->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rc = np_err_set(err, NP_ERR_IO, "cannot read %s: %s", name, strerror(EISDIR));
            goto fail;
        }
        if (S_ISREG(st.st_mode))
            f->file_size = (uint64_t)st.st_size;
    }

    /* The magic, and for pcapng the byte-order magic that makes it one. */
    rc = fill_carry(f, 4, err);
    if (rc != NP_OK)
        goto fail;
    struct np_cur c = np_cur_make(f->carry, f->carry_len);
    uint32_t magic = np_cur_le32(&c);
    if (c.bad)
        goto not_capture;
    if (magic == MAGIC_USEC || magic == MAGIC_NSEC || magic == MAGIC_USEC_BE ||
        magic == MAGIC_NSEC_BE) {
        f->fmt = FMT_PCAP;
    } else if (magic == PCAPNG_SHB) {
        f->fmt = FMT_PCAPNG;
        rc = fill_carry(f, BLOCK_MIN, err);
        if (rc != NP_OK)
            goto fail;
        c = np_cur_make(f->carry, f->carry_len);
        np_cur_skip(&c, 8);
        uint32_t bom = np_cur_le32(&c);
        /* A short file with the right magic is a damaged capture, read later. */
        if (!c.bad && bom != PCAPNG_BOM && bom != PCAPNG_BOM_SWP)
            goto not_capture;
    } else {
        goto not_capture;
    }
    *out = f;
    return NP_OK;
not_capture:
    rc = np_err_set(err, NP_ERR_USAGE, "%s: not a pcap or pcapng file", name);
fail:
    np_pcap_file_close(f);
    return rc;
}

void np_pcap_file_close(struct np_pcap_file *f)
{
    if (f == NULL)
        return;
    if (f->own_fd && f->fd >= 0)
        close(f->fd);
    free(f->carry);
    free(f->ifaces);
    free(f);
}

const char *np_pcap_file_damage(const struct np_pcap_file *f)
{
    return f->damaged ? f->damage : NULL;
}

static enum walk damage(struct np_pcap_file *f, const char *what, uint64_t off, const char *more)
{
    snprintf(f->damage, sizeof(f->damage), "%s: %s at byte offset %llu%s; %llu packet%s read",
             f->name, what, (unsigned long long)off, more, (unsigned long long)f->n_pkts,
             f->n_pkts == 1 ? "" : "s");
    f->damaged = true;
    return W_DAMAGED;
}

/* A record of rec_bytes (hdr_bytes of header) starting at file offset off is
 * not all in the buffer: asks for it, unless it is larger than the bound or,
 * in a regular file, runs past the end (then it is damage, found without
 * reading or growing the buffer). Messages quote what the header claims: a
 * pcap record's captured length, a pcapng block's total length. */
static enum walk want_record(struct np_pcap_file *f, uint64_t off, uint64_t rec_bytes,
                             uint32_t hdr_bytes, bool block)
{
    char more[128];
    const char *what = block ? "block length" : "captured bytes";
    uint64_t claim = block ? rec_bytes : rec_bytes - hdr_bytes;
    if (rec_bytes > NP_PCAP_FILE_MAX_RECORD_BYTES) {
        snprintf(more, sizeof(more), " (claims %llu %s)", (unsigned long long)claim, what);
        return damage(f, block ? "damaged block" : "damaged record", off, more);
    }
    if (f->file_size != UINT64_MAX && off + rec_bytes > f->file_size) {
        /* The file may have grown since it was opened. */
        struct stat st;
        if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode))
            f->file_size = (uint64_t)st.st_size;
        if (off + rec_bytes > f->file_size) {
            snprintf(more, sizeof(more), " (claims %llu %s; the file ends %llu bytes later)",
                     (unsigned long long)claim, what,
                     (unsigned long long)(f->file_size > off ? f->file_size - off : 0));
            return damage(f, block ? "truncated block" : "truncated record", off, more);
        }
    }
    f->need = (size_t)rec_bytes;
    return W_MORE;
}

/* An interface was announced (pcap header, pcapng IDB). */
static void note_iface(struct np_pcap_file *f, uint16_t linktype, unsigned ts_prec)
{
    if (!f->have_lt) {
        f->have_lt = true;
        f->first_lt = linktype;
    } else if (linktype != f->first_lt) {
        f->mixed_lt = true;
    }
    if (ts_prec > 6)
        f->any_nano = true;
}

/* The 24-byte pcap file header, at the start of c (which holds it). */
static void parse_pcap_hdr(struct np_pcap_file *f, struct np_cur *c)
{
    uint32_t magic = np_cur_le32(c);
    f->be = magic == MAGIC_USEC_BE || magic == MAGIC_NSEC_BE;
    f->nsec = magic == MAGIC_NSEC || magic == MAGIC_NSEC_BE;
    np_cur_skip(c, 12); /* version, thiszone, sigfigs */
    f->snaplen = rd32(c, f->be);
    f->linktype = (uint16_t)(rd32(c, f->be) & 0xffffu); /* upper bits: FCS length */
    f->have_hdr = true;
    note_iface(f, f->linktype, f->nsec ? 9 : 6);
}

/* The 24-byte file header; c is at file offset 0. */
static enum walk start_pcap(struct np_pcap_file *f, struct np_cur *c)
{
    if (c->left < PCAP_FILE_HDR) {
        f->need = PCAP_FILE_HDR;
        return W_MORE;
    }
    parse_pcap_hdr(f, c);
    f->started = true;
    return W_MORE;
}

static enum walk walk_pcap(struct np_pcap_file *f, struct np_batch *b, struct np_cur *c,
                           uint64_t base, size_t have)
{
    const bool be = f->be;
    const uint64_t frac_ns = f->nsec ? 1 : 1000;
    const uint16_t linktype = f->linktype;
    const uint16_t ts_prec = f->nsec ? 9 : 6;
    struct np_pkt *pkts = b->pkts;
    uint32_t n = b->n;
    const uint32_t cap = b->cap_pkts;
    enum walk w = W_FULL;

    while (n < cap) {
        if (c->left < PCAP_REC_HDR) {
            f->need = PCAP_REC_HDR;
            w = W_MORE;
            break;
        }
        struct np_cur mark = *c;
        uint32_t sec = rd32(c, be);
        uint32_t frac = rd32(c, be);
        uint32_t caplen = rd32(c, be);
        uint32_t wirelen = rd32(c, be);
        if (caplen > c->left) {
            *c = mark;
            f->n_pkts += n - b->n; /* counted before a damage message quotes it */
            b->n = n;
            return want_record(f, base + (have - c->left), PCAP_REC_HDR + (uint64_t)caplen,
                               PCAP_REC_HDR, false);
        }
        struct np_pkt *p = &pkts[n++];
        p->data = c->p;
        np_cur_skip(c, caplen);
        p->ts_ns = (uint64_t)sec * 1000000000u + (uint64_t)frac * frac_ns;
        p->frame_no = 0;
        p->caplen = caplen;
        p->wirelen = wirelen;
        p->ifid = 0;
        p->linktype = linktype;
        p->ts_prec = ts_prec;
    }
    f->n_pkts += n - b->n;
    b->n = n;
    return w;
}

/* A pcapng timestamp in nanoseconds. Times past 2554-07-21 (2^64 ns) do not
 * fit: they become UINT64_MAX and are counted, rather than wrap to the past. */
static uint64_t iface_ts_ns(struct np_pcap_file *f, const struct iface *i, uint64_t t)
{
    unsigned __int128 ns;
    switch (i->kind) {
    case TS_MUL:
        ns = (unsigned __int128)t * i->scale;
        break;
    case TS_DIV:
        ns = t / i->scale;
        break;
    default:
        ns = ((unsigned __int128)t * 1000000000u) >> i->shift;
        break;
    }
    ns += (unsigned __int128)i->offset_s * 1000000000u;
    if (ns > UINT64_MAX) {
        f->stats->anom_ts_out_of_range++;
        return UINT64_MAX;
    }
    return (uint64_t)ns;
}

static void bad_block(struct np_pcap_file *f)
{
    f->stats->anom_bad_block++;
}

/* IDB body after the block header: linktype(2) reserved(2) snaplen(4) options.
 * be is the section's byte order. quiet: the peek, whose blocks the walk
 * reads again later, counts nothing. */
static void add_iface(struct np_pcap_file *f, struct np_cur *body, bool be, bool quiet)
{
    struct iface i = { 0 };
    i.linktype = rd16(body, be);
    np_cur_skip(body, 2);
    i.snaplen = rd32(body, be);
    if (body->bad) {
        if (!quiet)
            bad_block(f);
        return;
    }
    if (f->n_ifaces >= NP_PCAP_FILE_MAX_IFACES) {
        if (!quiet)
            bad_block(f);
        return;
    }
    unsigned tsresol = 6;
    bool bad_opt = false;
    /* Each option takes at least 4 bytes, so this ends with the body. */
    while (body->left >= 4) {
        uint16_t code = rd16(body, be);
        uint16_t len = rd16(body, be);
        struct np_cur v = np_cur_take(body, len);
        np_cur_skip(body, (4u - (len & 3u)) & 3u);
        if (code == 0)
            break;
        if (v.bad) {
            bad_opt = true;
            break;
        }
        if (code == OPT_TSRESOL && len >= 1) {
            tsresol = np_cur_u8(&v);
        } else if (code == OPT_TSOFFSET && len == 8) {
            uint64_t hi, lo;
            if (be) {
                hi = np_cur_be32(&v);
                lo = np_cur_be32(&v);
            } else {
                lo = np_cur_le32(&v);
                hi = np_cur_le32(&v);
            }
            i.offset_s = (int64_t)(hi << 32 | lo);
        }
    }
    /* Resolutions libpcap refuses (2^-64 and finer, 10^-20 and finer) fall
     * back to microseconds: the packets are kept, the block is counted. */
    if (((tsresol & 0x80u) && (tsresol & 0x7fu) > 63) || (!(tsresol & 0x80u) && tsresol > 19)) {
        bad_opt = true;
        tsresol = 6;
    }
    if (tsresol & 0x80u) {
        unsigned e = tsresol & 0x7fu;
        i.kind = TS_BIN;
        i.shift = (uint8_t)e;
        i.ts_prec = e >= 20 ? 9 : 6; /* 2^-20 s is just under a microsecond */
    } else {
        unsigned e = tsresol;
        uint64_t scale = 1;
        for (unsigned k = 0; k < (e <= 9 ? 9 - e : e - 9); k++)
            scale *= 10;
        i.kind = e <= 9 ? TS_MUL : TS_DIV;
        i.scale = scale;
        i.ts_prec = e > 6 ? 9 : 6;
    }
    if (bad_opt && !quiet)
        bad_block(f);
    note_iface(f, i.linktype, i.ts_prec);
    if (f->n_ifaces == f->cap_ifaces) {
        size_t cap = f->cap_ifaces ? f->cap_ifaces * 2 : 8;
        struct iface *ni = realloc(f->ifaces, cap * sizeof(*ni));
        if (ni == NULL) {
            if (!quiet)
                bad_block(f); /* its packets will count as unknown interfaces */
            return;
        }
        f->ifaces = ni;
        f->cap_ifaces = cap;
    }
    f->ifaces[f->n_ifaces++] = i;
}

/* Packet blocks: fills *p from the body; false when the block has no packet. */
static bool packet_block(struct np_pcap_file *f, uint32_t type, struct np_cur *body,
                         struct np_pkt *p)
{
    const bool be = f->be;
    uint32_t ifid, caplen, wirelen;
    uint64_t t = 0;
    if (type == PCAPNG_SPB) {
        ifid = 0;
        wirelen = rd32(body, be);
        caplen = wirelen;
    } else {
        if (type == PCAPNG_EPB) {
            ifid = rd32(body, be);
        } else {
            ifid = rd16(body, be);
            np_cur_skip(body, 2); /* drops_count */
        }
        uint64_t hi = rd32(body, be);
        uint64_t lo = rd32(body, be);
        t = hi << 32 | lo;
        caplen = rd32(body, be);
        wirelen = rd32(body, be);
    }
    if (body->bad) {
        bad_block(f);
        return false;
    }
    if (ifid >= f->n_ifaces) {
        f->stats->anom_unknown_ifid++;
        return false;
    }
    const struct iface *i = &f->ifaces[ifid];
    if (type == PCAPNG_SPB) {
        /* No caplen field: min(wire length, snaplen, bytes in the block). */
        if (i->snaplen != 0 && caplen > i->snaplen)
            caplen = i->snaplen;
        if (caplen > body->left)
            caplen = (uint32_t)body->left;
    } else if (caplen > body->left) {
        bad_block(f);
        return false;
    }
    p->data = body->p;
    p->ts_ns = iface_ts_ns(f, i, t);
    p->frame_no = 0;
    p->caplen = caplen;
    p->wirelen = wirelen;
    p->ifid = ifid;
    p->linktype = i->linktype;
    p->ts_prec = i->ts_prec;
    return true;
}

static enum walk walk_pcapng(struct np_pcap_file *f, struct np_batch *b, struct np_cur *c,
                             uint64_t base, size_t have)
{
    enum walk w = W_FULL;
    uint32_t n = b->n;

    while (n < b->cap_pkts) {
        uint64_t off = base + (have - c->left);
        if (c->left < BLOCK_MIN) {
            f->need = BLOCK_MIN;
            w = W_MORE;
            break;
        }
        struct np_cur h = *c;
        bool be = f->be;
        uint32_t type = rd32(&h, be);
        if (!f->started && type != PCAPNG_SHB)
            return damage(f, "missing section header", off, "");
        if (type == PCAPNG_SHB) {
            np_cur_skip(&h, 4);
            uint32_t bom = np_cur_le32(&h);
            if (bom == PCAPNG_BOM) {
                be = false;
            } else if (bom == PCAPNG_BOM_SWP) {
                be = true;
            } else {
                w = damage(f, "bad byte-order magic in section header", off, "");
                break;
            }
            h = *c;
            np_cur_skip(&h, 4);
        }
        uint32_t len = rd32(&h, be);
        if (len < BLOCK_MIN || (len & 3u) != 0) {
            char more[64];
            snprintf(more, sizeof(more), " (length %u)", len);
            w = damage(f, "damaged block", off, more);
            break;
        }
        if (len > c->left) {
            w = want_record(f, off, len, BLOCK_MIN, true);
            break;
        }
        struct np_cur mark = *c;
        struct np_cur blk = np_cur_take(c, len);
        np_cur_skip(&blk, 8);
        struct np_cur body = np_cur_take(&blk, len - BLOCK_MIN);
        uint32_t trailer = rd32(&blk, be);
        if (trailer != len) {
            char more[80];
            snprintf(more, sizeof(more), " (lengths %u and %u differ)", len, trailer);
            *c = mark;
            w = damage(f, "damaged block", off, more);
            break;
        }
        f->walked_recs++;
        switch (type) {
        case PCAPNG_SHB: {
            if (n > 0) {
                /* A batch never mixes sections: interface ids restart here,
                 * and np_pcap_file_iface() answers for one section. */
                *c = mark;
                f->walked_recs--;
                goto out;
            }
            np_cur_skip(&body, 4);
            uint16_t major = rd16(&body, be);
            uint16_t minor = rd16(&body, be);
            np_cur_skip(&body, 8); /* section length: may be -1, not needed */
            if (body.bad) {
                *c = mark;
                w = damage(f, "damaged section header", off, "");
                goto out;
            }
            if (major != 1) {
                char more[64];
                snprintf(more, sizeof(more), " (version %u.%u)", major, minor);
                *c = mark;
                w = damage(f, "unsupported pcapng section", off, more);
                goto out;
            }
            f->be = be;
            f->n_ifaces = 0;
            f->started = true;
            break;
        }
        case PCAPNG_IDB:
            add_iface(f, &body, f->be, false);
            break;
        case PCAPNG_EPB:
        case PCAPNG_SPB:
        case PCAPNG_PB:
            if (packet_block(f, type, &body, &b->pkts[n])) {
                n++;
                f->n_pkts++;
            }
            break;
        default:
            break; /* NRB, ISB, DSB, custom and unknown blocks */
        }
    }
out:
    b->n = n;
    return w;
}

enum np_rc np_pcap_file_fill(struct np_pcap_file *f, struct np_batch *b, struct np_err *err)
{
    if (f->done)
        return NP_EOF;
    if (!NP_ALWAYS(b->n == 0 && b->len == 0 && b->cap_pkts > 0))
        return np_err_set(err, NP_ERR_USAGE, "internal: batch not empty or without room");

    /* How much to hold: a chunk, or what a small batch will likely use (so
     * that a batch of few packets does not read megabytes only to carry them
     * over), but always the pending record and whatever is carried. */
    size_t target = f->chunk;
    if (f->walked_recs >= 16) {
        uint64_t avg = f->walked_bytes / f->walked_recs + 1;
        uint64_t est = avg * b->cap_pkts;
        est += est / 4 + 65536;
        if (est < target)
            target = (size_t)est;
    }
    if (target < f->need)
        target = f->need;
    if (target < f->carry_len)
        target = f->carry_len;
    if (b->cap < target && np_batch_reserve(b, target) != 0)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", f->name);

    size_t have = f->carry_len;
    uint64_t base = f->carry_off;
    if (have > 0)
        memcpy(b->buf, f->carry, have);
    f->carry_len = 0;
    if (!f->eof && have < target) {
        do {
            ssize_t r = read_some(f->fd, b->buf + have, target - have);
            if (r < 0) {
                enum np_rc rc = read_error(f, err);
                f->done = true;
                return rc;
            }
            if (r == 0)
                f->eof = true;
            have += (size_t)r;
        } while (!f->eof && have < f->need);
    }

    struct np_cur c = np_cur_make(b->buf, have);
    enum walk w = W_MORE;
    if (!f->started && f->fmt == FMT_PCAP)
        w = start_pcap(f, &c);
    if (f->started || f->fmt == FMT_PCAPNG) {
        f->need = 0;
        w = f->fmt == FMT_PCAP ? walk_pcap(f, b, &c, base, have)
                               : walk_pcapng(f, b, &c, base, have);
    }
    size_t pos = have - c.left;
    f->walked_bytes += pos;
    if (f->fmt == FMT_PCAP)
        f->walked_recs += b->n;
    b->len = pos;

    if (w == W_DAMAGED) {
        f->done = true;
        return NP_EOF;
    }
    if (w == W_MORE && f->eof) {
        f->done = true;
        if (c.left > 0) {
            char more[96];
            snprintf(more, sizeof(more), " (%zu of %zu bytes)", c.left, f->need);
            if (!f->started)
                damage(f, "truncated file header", base + pos, more);
            else
                damage(f, f->fmt == FMT_PCAP ? "truncated record" : "truncated block", base + pos,
                       more);
        } else if (!f->started) {
            damage(f, "truncated file header", base + pos, "");
        }
        return NP_EOF;
    }
    /* Keep what is left for the next batch: a partial record, or records
     * that did not fit in this batch. */
    if (c.left > 0) {
        if (f->carry_cap < c.left) {
            size_t cap = f->carry_cap ? f->carry_cap : 4096;
            while (cap < c.left)
                cap *= 2;
            uint8_t *nc = realloc(f->carry, cap);
            if (nc == NULL) {
                f->done = true;
                return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", f->name);
            }
            f->carry = nc;
            f->carry_cap = cap;
        }
        memcpy(f->carry, c.p, c.left);
    }
    f->carry_len = c.left;
    f->carry_off = base + pos;
    return NP_OK;
}

void np_pcap_file_peek(struct np_pcap_file *f)
{
    if (f->started)
        return; /* the fill has begun: it notes interfaces as it walks */
    if (f->fmt == FMT_PCAP) {
        if (f->have_hdr || fill_carry(f, PCAP_FILE_HDR, NULL) != NP_OK ||
            f->carry_len < PCAP_FILE_HDR)
            return;
        struct np_cur c = np_cur_make(f->carry, f->carry_len);
        parse_pcap_hdr(f, &c);
        return;
    }
    /* The carry holds the file from offset 0 (nothing was walked yet). */
    bool be = false;
    size_t off = 0;
    while (off <= PEEK_MAX_BYTES - BLOCK_MIN) {
        if (fill_carry(f, off + BLOCK_MIN, NULL) != NP_OK)
            return;
        struct np_cur c = np_cur_make(f->carry, f->carry_len);
        np_cur_skip(&c, off);
        struct np_cur h = c;
        uint32_t type = rd32(&h, be);
        if (type == PCAPNG_SHB) {
            np_cur_skip(&h, 4);
            uint32_t bom = np_cur_le32(&h);
            if (bom != PCAPNG_BOM && bom != PCAPNG_BOM_SWP)
                return;
            be = bom == PCAPNG_BOM_SWP;
            h = c;
            np_cur_skip(&h, 4);
        } else if (off == 0) {
            return;
        }
        uint32_t len = rd32(&h, be);
        if (h.bad || len < BLOCK_MIN || (len & 3u) != 0 || type == PCAPNG_EPB ||
            type == PCAPNG_SPB || type == PCAPNG_PB || len > PEEK_MAX_BYTES - off)
            return;
        if (type == PCAPNG_SHB) {
            f->n_ifaces = 0; /* a new section: its interface ids start at 0 */
        } else if (type == PCAPNG_IDB) {
            if (fill_carry(f, off + len, NULL) != NP_OK || f->carry_len < off + len)
                return;
            c = np_cur_make(f->carry, f->carry_len);
            np_cur_skip(&c, off + 8);
            struct np_cur body = np_cur_take(&c, len - BLOCK_MIN);
            add_iface(f, &body, be, true);
        }
        off += len;
    }
}

bool np_pcap_file_linktypes(const struct np_pcap_file *f, uint16_t *first, bool *mixed)
{
    if (!f->have_lt)
        return false;
    *first = f->first_lt;
    *mixed = f->mixed_lt;
    return true;
}

bool np_pcap_file_nano(const struct np_pcap_file *f)
{
    return f->any_nano;
}

bool np_pcap_file_is_pcapng(const struct np_pcap_file *f)
{
    return f->fmt == FMT_PCAPNG;
}

bool np_pcap_file_iface(const struct np_pcap_file *f, uint32_t ifid, uint16_t *linktype,
                        uint32_t *snaplen)
{
    if (f->fmt == FMT_PCAP) {
        if (ifid != 0 || !f->have_hdr)
            return false;
        *linktype = f->linktype;
        *snaplen = f->snaplen;
        return true;
    }
    if (ifid >= f->n_ifaces)
        return false;
    *linktype = f->ifaces[ifid].linktype;
    *snaplen = f->ifaces[ifid].snaplen;
    return true;
}
