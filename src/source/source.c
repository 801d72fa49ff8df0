/* source/source.c: where packets come from: files in order, or one interface.
 *
 * Opens every input in np_source_create() so that a missing file, a
 * non-capture file, a bad filter or an unusable interface is reported before
 * any work. Files are read by our reader (pcap_file.c) or, when asked, by
 * libpcap's pcap_next_ex (for comparison; packets are copied into the batch
 * buffer). Live capture is live.c.
 *
 * After a reader has filled a batch, one pass here numbers the frames (1-based
 * across all inputs, counting every record read, as tshark's frame.number),
 * raises a wire length below the captured length, applies the duration limit,
 * the BPF filter (files: pcap_offline_filter with one program per link type,
 * compiled when the link type is first seen; live: in the kernel) and the
 * count limit, and compacts the batch over the packets that did not pass.
 *
 * What the inputs announce (link types, timestamp resolution, pcapng) is
 * peeked from every input at create time (np_pcap_file_peek(): headers and
 * the pcapng blocks before the first packet) and gathered again from the
 * readers as they meet later IDBs, for writers that choose a file format
 * before the first packet (np_source_mixed_linktypes(), np_source_nano()).
 *
 * A damaged file ends that input with a warning; the next input follows in
 * the next call, so a caller that takes the warning after each batch sees one
 * per damaged file. Owned by one thread; np_source_stop() may be called from
 * a signal handler or another thread.
 */
#include "source/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/cursor.h"
#include "core/packet.h"
#include "source/bpf.h"
#include "source/linktype.h"
#include "source/live.h"
#include "source/pcap_file.h"

struct input {
    char *name;             /* owned; the path, or "stdin" for "-" */
    struct np_pcap_file *f; /* owned; our reader */
    pcap_t *p;              /* owned; libpcap_reader */
    uint64_t n_pkts;        /* libpcap_reader: records read, for the warning */
    char damage[400];       /* libpcap_reader: the error that ended the file */
};

struct np_source {
    struct input *in; /* owned; n_in inputs, read in order */
    size_t n_in;
    size_t cur;           /* the input being read */
    size_t info;          /* the input of the last batch: np_source_iface_info() */
    struct np_live *live; /* owned; when reading an interface */

    struct np_bpf *bpf; /* owned; files with a filter, else NULL */

    uint64_t max_packets;
    uint64_t duration_ns;
    uint32_t chunk_bytes;
    bool libpcap_reader;

    struct np_source_stats st;
    uint64_t frame_no;
    bool have_first_ts;
    uint64_t first_ts_ns; /* files: capture time of the first packet */
    uint64_t start_ns;    /* live: wall clock at start */
    bool finished;

    /* Written by np_source_stop() (a signal handler or another thread), read
     * by np_source_next(): lock-free, so safe in a signal handler. Relaxed is
     * enough: it carries no data, only "stop soon". */
    atomic_int stop;

    /* libpcap_reader: a packet that did not fit in the last batch. */
    uint8_t *stash; /* owned */
    size_t stash_cap;
    struct np_pkt stash_pkt;
    bool has_stash;

    /* What the inputs announced so far; see gather(). */
    bool lt_known;
    bool lt_mixed;
    bool any_nano;
    bool any_pcapng;
    uint16_t lt_first;

    char warning[512];
    bool has_warning;
};

/* ---- what the inputs announce ---- */

static void note_linktype(struct np_source *s, uint16_t lt)
{
    if (!s->lt_known) {
        s->lt_known = true;
        s->lt_first = lt;
    } else if (lt != s->lt_first) {
        s->lt_mixed = true;
    }
}

/* Adds what reader f announced so far; everything gathered is sticky. */
static void gather_file(struct np_source *s, const struct np_pcap_file *f)
{
    uint16_t lt;
    bool mixed;
    if (np_pcap_file_linktypes(f, &lt, &mixed)) {
        note_linktype(s, lt);
        s->lt_mixed |= mixed;
    }
    s->any_nano |= np_pcap_file_nano(f);
    s->any_pcapng |= np_pcap_file_is_pcapng(f);
}

/* Adds what every open input announced so far (inputs already read were
 * gathered when they were closed). */
static void gather(struct np_source *s)
{
    for (size_t i = 0; i < s->n_in; i++) {
        if (s->in[i].f != NULL)
            gather_file(s, s->in[i].f);
    }
}

/* libpcap_reader: libpcap tells the first link type and the format, not the
 * file's timestamp resolution (it scales to what we ask); for a file we can
 * open again, our reader peeks it for all three. */
static void gather_libpcap(struct np_source *s, struct input *in, const char *path)
{
    note_linktype(s, np_dlt_to_linktype(pcap_datalink(in->p)));
    s->any_pcapng |= pcap_major_version(in->p) == 1; /* pcapng: the SHB's major version */
    if (strcmp(path, "-") == 0)
        return;
    struct np_pcap_file *f;
    struct np_source_stats scratch = { 0 }; /* the peek counts nothing; the reader wants one */
    if (np_pcap_file_open(&f, path, in->name, 0, &scratch, NULL) != NP_OK)
        return;
    np_pcap_file_peek(f);
    gather_file(s, f);
    np_pcap_file_close(f);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_warning(struct np_source *s, const char *msg)
{
    snprintf(s->warning, sizeof(s->warning), "%s", msg);
    s->has_warning = true;
}

static bool filter_pass(struct np_source *s, const struct np_pkt *p)
{
    bool pass = np_bpf_match(s->bpf, p);
    const char *w = np_bpf_take_warning(s->bpf);
    if (w != NULL)
        set_warning(s, w);
    return pass;
}

/* Numbers, limits and filters the packets a reader just put in b. */
static void finish_batch(struct np_source *s, struct np_batch *b, bool use_filter)
{
    struct np_pkt *pkts = b->pkts;
    uint32_t w = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct np_pkt *p = &pkts[i];
        if (s->duration_ns != 0 && s->live == NULL) {
            if (!s->have_first_ts) {
                s->have_first_ts = true;
                s->first_ts_ns = p->ts_ns;
            } else if (p->ts_ns > s->first_ts_ns && p->ts_ns - s->first_ts_ns > s->duration_ns) {
                s->finished = true;
                break;
            }
        }
        p->frame_no = ++s->frame_no;
        s->st.pkts_read++;
        if (p->caplen > p->wirelen) {
            p->wirelen = p->caplen;
            s->st.anom_caplen_over_wirelen++;
        }
        if (use_filter && !filter_pass(s, p)) {
            s->st.pkts_filtered++;
            continue;
        }
        s->st.pkts_passed++;
        s->st.bytes_wire += p->wirelen;
        s->st.bytes_captured += p->caplen;
        if (w != i)
            pkts[w] = *p;
        w++;
        if (s->max_packets != 0 && s->st.pkts_passed >= s->max_packets) {
            s->finished = true;
            break;
        }
    }
    b->n = w;
}

/* ---- files read by libpcap (libpcap_reader) ---- */

static bool is_capture_magic(const uint8_t *m, size_t n)
{
    struct np_cur c = np_cur_make(m, n);
    uint32_t magic = np_cur_le32(&c);
    if (c.bad)
        return false;
    if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du || magic == 0xd4c3b2a1u ||
        magic == 0x4d3cb2a1u)
        return true;
    if (magic != 0x0a0d0d0au)
        return false;
    np_cur_skip(&c, 4);
    uint32_t bom = np_cur_le32(&c);
    return c.bad || bom == 0x1a2b3c4du || bom == 0x4d3c2b1au;
}

static enum np_rc open_libpcap(struct input *in, const char *path, struct np_err *err)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    int fd;
    bool is_stdin = strcmp(path, "-") == 0;
    if (is_stdin) {
        fd = fcntl(0, F_DUPFD_CLOEXEC, 0); /* libpcap closes its FILE, not our stdin */
        if (fd < 0)
            return np_err_set(err, NP_ERR_IO, "cannot read stdin: %s", strerror(errno));
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return np_err_set(err, NP_ERR_IO, "cannot read %s: %s", in->name, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            close(fd);
            return np_err_set(err, NP_ERR_IO, "cannot read %s: %s", in->name, strerror(EISDIR));
        }
        uint8_t m[12];
        ssize_t r = pread(fd, m, sizeof(m), 0);
        if (r < 0) {
            int e = errno;
            close(fd);
            return np_err_set(err, NP_ERR_IO, "cannot read %s: %s", in->name, strerror(e));
        }
        if (!is_capture_magic(m, (size_t)r)) {
            close(fd);
            return np_err_set(err, NP_ERR_USAGE, "%s: not a pcap or pcapng file", in->name);
        }
    }
    FILE *fp = fdopen(fd, "rb");
    if (fp == NULL) {
        int e = errno;
        close(fd);
        return np_err_set(err, NP_ERR_NOMEM, "cannot read %s: %s", in->name, strerror(e));
    }
    errbuf[0] = '\0';
    in->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (in->p == NULL) {
        fclose(fp);
        if (is_stdin && strstr(errbuf, "unknown file format") != NULL)
            return np_err_set(err, NP_ERR_USAGE, "%s: not a pcap or pcapng file", in->name);
        return np_err_set(err, NP_ERR_USAGE, "%s: libpcap cannot read it: %s", in->name, errbuf);
    }
    return NP_OK;
}

static bool put_packet(struct np_batch *b, const struct np_pkt *pk, const uint8_t *bytes)
{
    if (b->cap - b->len < pk->caplen) {
        if (b->n > 0)
            return false;
        if (np_batch_reserve(b, b->len + pk->caplen) != 0)
            return false;
    }
    struct np_pkt *p = &b->pkts[b->n++];
    *p = *pk;
    memcpy(b->buf + b->len, bytes, pk->caplen);
    p->data = b->buf + b->len;
    b->len += pk->caplen;
    return true;
}

/* Like np_pcap_file_fill(), with pcap_next_ex. */
static enum np_rc fill_libpcap(struct np_source *s, struct input *in, struct np_batch *b,
                               struct np_err *err)
{
    size_t chunk = s->chunk_bytes ? s->chunk_bytes : NP_PCAP_FILE_CHUNK_BYTES;
    if (b->cap < chunk && np_batch_reserve(b, chunk) != 0)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", in->name);
    if (s->has_stash) {
        if (!put_packet(b, &s->stash_pkt, s->stash))
            return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", in->name);
        s->has_stash = false;
    }
    uint16_t linktype = np_dlt_to_linktype(pcap_datalink(in->p));
    while (b->n < b->cap_pkts) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int r = pcap_next_ex(in->p, &h, &data);
        if (r == PCAP_ERROR_BREAK)
            return NP_EOF;
        if (r == PCAP_ERROR) {
            snprintf(in->damage, sizeof(in->damage), "%s: %s; %llu packets read", in->name,
                     pcap_geterr(in->p), (unsigned long long)in->n_pkts);
            return NP_EOF;
        }
        if (r != 1)
            continue;
        struct np_pkt pk;
        /* libpcap reads a classic pcap's seconds as a signed 32-bit field:
         * undo the sign extension (the field is unsigned in files). */
        int64_t sec = (int64_t)h->ts.tv_sec;
        uint64_t secs = sec < 0 ? (uint64_t)(uint32_t)sec : (uint64_t)sec;
        pk.ts_ns = secs * 1000000000u + (uint64_t)h->ts.tv_usec;
        pk.frame_no = 0;
        pk.data = NULL;
        pk.caplen = h->caplen;
        pk.wirelen = h->len;
        pk.ifid = 0;
        pk.linktype = linktype;
        pk.ts_prec = 9;
        in->n_pkts++;
        if (!put_packet(b, &pk, data)) {
            if (b->n == 0)
                return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", in->name);
            if (s->stash_cap < pk.caplen) {
                uint8_t *ns = realloc(s->stash, pk.caplen);
                if (ns == NULL)
                    return np_err_set(err, NP_ERR_NOMEM, "out of memory reading %s", in->name);
                s->stash = ns;
                s->stash_cap = pk.caplen;
            }
            memcpy(s->stash, data, pk.caplen);
            s->stash_pkt = pk;
            s->has_stash = true;
            return NP_OK;
        }
    }
    return NP_OK;
}

/* ---- create, destroy ---- */

static enum np_rc open_inputs(struct np_source *s, const struct np_source_opts *o,
                              struct np_err *err)
{
    s->in = calloc(o->n_files, sizeof(*s->in));
    if (s->in == NULL)
        return np_err_set(err, NP_ERR_NOMEM, "out of memory");
    s->n_in = o->n_files;
    for (size_t i = 0; i < o->n_files; i++) {
        struct input *in = &s->in[i];
        const char *path = o->files[i];
        in->name = strdup(strcmp(path, "-") == 0 ? "stdin" : path);
        if (in->name == NULL)
            return np_err_set(err, NP_ERR_NOMEM, "out of memory");
        enum np_rc rc = s->libpcap_reader ? open_libpcap(in, path, err)
                                          : np_pcap_file_open(&in->f, path, in->name,
                                                              o->read_chunk_bytes, &s->st, err);
        if (rc != NP_OK)
            return rc;
        if (in->f != NULL) {
            np_pcap_file_peek(in->f);
            gather_file(s, in->f);
        } else {
            gather_libpcap(s, in, path);
        }
    }
    return NP_OK;
}

struct np_source *np_source_create(const struct np_source_opts *o, struct np_err *err)
{
    enum np_rc rc;
    bool has_iface = o->iface != NULL && o->iface[0] != '\0';
    if (has_iface && o->n_files > 0) {
        np_err_set(err, NP_ERR_USAGE, "give either an interface or files, not both");
        return NULL;
    }
    if (!has_iface && o->n_files == 0) {
        np_err_set(err, NP_ERR_USAGE, "no input: give a file (-r) or an interface (-i)");
        return NULL;
    }
    size_t n_stdin = 0;
    for (size_t i = 0; i < o->n_files; i++) {
        if (o->files[i] == NULL) {
            np_err_set(err, NP_ERR_USAGE, "empty file name");
            return NULL;
        }
        n_stdin += strcmp(o->files[i], "-") == 0;
    }
    if (n_stdin > 1) {
        np_err_set(err, NP_ERR_USAGE, "stdin ('-') can be read only once");
        return NULL;
    }

    struct np_source *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        np_err_set(err, NP_ERR_NOMEM, "out of memory");
        return NULL;
    }
    atomic_init(&s->stop, 0);
    s->max_packets = o->max_packets;
    s->duration_ns = o->duration_ns;
    s->chunk_bytes = o->read_chunk_bytes;
    s->libpcap_reader = o->libpcap_reader;

    if (has_iface) {
        rc = np_live_open(&s->live, o, err);
        if (rc != NP_OK)
            goto fail;
        if (np_live_warning(s->live) != NULL)
            set_warning(s, np_live_warning(s->live));
        uint16_t lt;
        uint32_t snap;
        np_live_iface_info(s->live, &lt, &snap);
        note_linktype(s, lt);
        s->any_nano = np_live_nano(s->live);
        s->start_ns = now_ns();
    } else {
        rc = open_inputs(s, o, err);
        if (rc != NP_OK)
            goto fail;
        if (o->bpf != NULL && o->bpf[0] != '\0') {
            /* Compile now for the first link type, so that a bad filter is
             * reported before any work; Ethernet when it cannot be seen yet. */
            uint16_t lt = NP_LINK_ETHERNET;
            bool mixed;
            if (s->in[0].f != NULL)
                (void)np_pcap_file_linktypes(s->in[0].f, &lt, &mixed);
            else
                lt = np_dlt_to_linktype(pcap_datalink(s->in[0].p));
            s->bpf = np_bpf_create(o->bpf, lt, err);
            if (s->bpf == NULL) {
                rc = err->rc;
                goto fail;
            }
        }
    }
    return s;
fail:
    np_source_destroy(s);
    return NULL;
}

static void close_input(struct np_source *s, struct input *in)
{
    if (in->f != NULL)
        gather_file(s, in->f);
    np_pcap_file_close(in->f);
    in->f = NULL;
    if (in->p != NULL)
        pcap_close(in->p);
    in->p = NULL;
}

void np_source_destroy(struct np_source *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_in; i++) {
        close_input(s, &s->in[i]);
        free(s->in[i].name);
    }
    free(s->in);
    np_live_close(s->live);
    np_bpf_destroy(s->bpf);
    free(s->stash);
    free(s);
}

/* ---- reading ---- */

static bool stop_asked(struct np_source *s)
{
    return atomic_load_explicit(&s->stop, memory_order_relaxed) != 0;
}

static enum np_rc next_live(struct np_source *s, struct np_batch *b, struct np_err *err)
{
    uint64_t now = now_ns();
    if (s->duration_ns != 0 && now - s->start_ns >= s->duration_ns) {
        s->finished = true;
        b->tick_ns = now;
        return NP_EOF;
    }
    uint32_t room = b->cap_pkts;
    if (s->max_packets != 0 && s->max_packets - s->st.pkts_passed < room)
        room = (uint32_t)(s->max_packets - s->st.pkts_passed);
    enum np_rc rc = np_live_fill(s->live, b, room, err);
    b->tick_ns = now_ns();
    finish_batch(s, b, false);
    if (rc != NP_OK)
        return rc;
    if (stop_asked(s))
        s->finished = true;
    return s->finished ? NP_EOF : NP_OK;
}

/* The current input ended: keep its warning, move on. It stays open while
 * it is the input of the last batch, for np_source_iface_info(). True when
 * it left a warning (the caller returns so that it is not overwritten). */
static bool end_input(struct np_source *s, struct input *in)
{
    const char *why = in->f != NULL ? np_pcap_file_damage(in->f) : in->damage;
    bool warned = why != NULL && why[0] != '\0';
    if (warned) {
        set_warning(s, why);
        s->st.files_damaged++;
    }
    s->cur++;
    return warned;
}

enum np_rc np_source_next(struct np_source *s, struct np_batch *b, struct np_err *err)
{
    np_batch_reset(b);
    if (s->finished)
        return NP_EOF;
    if (stop_asked(s)) {
        s->finished = true;
        return NP_EOF;
    }
    if (s->live != NULL)
        return next_live(s, b, err);

    while (s->cur < s->n_in) {
        struct input *in = &s->in[s->cur];
        if (s->info != s->cur) {
            close_input(s, &s->in[s->info]); /* ended, and no batch refers to it now */
            s->info = s->cur;
        }
        np_batch_reset(b);
        enum np_rc rc =
                in->f != NULL ? np_pcap_file_fill(in->f, b, err) : fill_libpcap(s, in, b, err);
        finish_batch(s, b, s->bpf != NULL);
        if (rc != NP_OK && rc != NP_EOF) {
            s->finished = true;
            return rc;
        }
        bool warned = rc == NP_EOF && end_input(s, in);
        if (s->finished || s->cur == s->n_in) {
            s->finished = true;
            return NP_EOF;
        }
        if (rc == NP_EOF) {
            if (b->n > 0 || warned)
                return NP_OK;
            continue;
        }
        if (b->n > 0)
            return NP_OK;
        if (stop_asked(s)) {
            s->finished = true;
            return NP_EOF;
        }
    }
    s->finished = true;
    return NP_EOF;
}

void np_source_stop(struct np_source *s)
{
    atomic_store_explicit(&s->stop, 1, memory_order_relaxed);
    if (s->live != NULL)
        np_live_break(s->live);
}

const struct np_source_stats *np_source_stats(struct np_source *s)
{
    if (s->live != NULL)
        np_live_drops(s->live, &s->st.kernel_drops, &s->st.if_drops);
    return &s->st;
}

const char *np_source_take_warning(struct np_source *s)
{
    if (!s->has_warning)
        return NULL;
    s->has_warning = false;
    return s->warning;
}

bool np_source_iface_info(struct np_source *s, uint32_t ifid, uint16_t *linktype, uint32_t *snaplen)
{
    if (s->live != NULL) {
        if (ifid != 0)
            return false;
        np_live_iface_info(s->live, linktype, snaplen);
        return true;
    }
    if (s->n_in == 0)
        return false;
    struct input *in = &s->in[s->info];
    if (in->f != NULL)
        return np_pcap_file_iface(in->f, ifid, linktype, snaplen);
    if (in->p != NULL && ifid == 0) {
        *linktype = np_dlt_to_linktype(pcap_datalink(in->p));
        int snap = pcap_snapshot(in->p);
        *snaplen = snap > 0 ? (uint32_t)snap : 0;
        return true;
    }
    return false;
}

bool np_source_mixed_linktypes(struct np_source *s)
{
    gather(s);
    return s->lt_mixed;
}

bool np_source_nano(struct np_source *s)
{
    gather(s);
    return s->any_nano;
}

bool np_source_any_pcapng(struct np_source *s)
{
    return s->any_pcapng;
}
