/* cli/record.c: `netpeek record`: capture (or import capture files) into a
 * session of the recording store (packetrecorderd's recorder).
 *
 * Wires a source, the tracker (every protocol, for flow ids and the flows
 * table) and the store. The tracker's packet hook notes each packet's flow
 * id by frame number in a ring as large as a batch; after each batch every
 * packet goes to the store in input order with its flow id (0 for packets
 * of no flow, such as ARP). The store commits at least every
 * COMMIT_EVERY_NS, and a progress line goes to standard error every second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "core/packet.h"
#include "flow/table.h"
#include "flow/track.h"
#include "pipeline/single.h"
#include "source/source.h"
#include "store/store.h"

#define COMMIT_EVERY_NS 500000000ull
/* and every so many bytes of packets, so that an import's transactions,
 * and with them the WAL, stay small (store/rec.c) */
#define COMMIT_EVERY_BYTES (16ull << 20)
#define PROGRESS_EVERY_NS  1000000000ull
/* Frames whose flow id is remembered: a batch's worth (pipeline/single.c). */
#define FLOW_RING 16384u

static const struct np_cmd_opt record_opts[] = {
    { NP_OPT_IFACE, 'i', NULL },
    { NP_OPT_READ, 'r',
      "import a pcap or pcapng file as a session; repeat to import several "
      "in order (one session)" },
    { NP_OPT_FILTER, 'f', NULL },
    { NP_OPT_DATABASE, 'd', NULL },
    { NP_OPT_COUNT, 'c', "stop after N packets (0: no limit)" },
    { NP_OPT_DURATION, 't', "stop after SECS seconds of capture (0: no limit)" },
    { NP_OPT_SNAPLEN, 's', "bytes captured per packet (default 65535)" },
    { NP_OPT_PROMISC, 0, NULL },
    { NP_OPT_NO_PROMISC, 'p', NULL },
    { NP_OPT_BUFFER_SIZE, 'b',
      "kernel capture buffer in bytes; K, M, G suffixes "
      "(default 10M)" },
    { NP_OPT_NAME, 'n', NULL },
    { NP_OPT_READ_TIMEOUT, 0, NULL },
    { NP_OPT_IMMEDIATE, 0, NULL },
    { NP_OPT_MAX_FLOWS, 0, NULL },
    { NP_OPT_QUIET, 'q', "no progress lines and no summary" },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd record_cmd = {
    "record",
    "(-i IFACE | -r FILE...) [-f BPF] [-d DB] [-c COUNT] [-t SECONDS] [-s SNAPLEN] [options]",
    "Records packets into a session of an SQLite database: live from an\n"
    "interface until Ctrl-C, -c or -t, or imported from capture files. It prints\n"
    "the session id at the start, a progress line every second and a summary at\n"
    "the end. Packets are committed at least every half second; after a crash the\n"
    "session keeps every packet up to the last commit and is listed as\n"
    "interrupted. See 'netpeek sessions', 'query', 'replay' and 'export'.",
    record_opts,
    sizeof(record_opts) / sizeof(record_opts[0]),
    "Examples:\n"
    "  netpeek record -i eth0 -f 'tcp port 80' -d web.db --name 'web, morning'\n"
    "  netpeek record -i eth0 -c 100000\n"
    "  netpeek record -r capture.pcapng -d cases.db\n",
};

struct run {
    struct np_store_rec *rec;
    struct np_source *src;
    enum np_rc store_rc; /* first store error, with store_err */
    struct np_err store_err;
    struct {
        uint64_t frame_no, flow_id;
    } ring[FLOW_RING];
    uint64_t last_commit_ns, last_progress_ns, start_ns;
    uint64_t last_commit_bytes;
    uint64_t progress_pkts; /* at the last progress line */
    bool progress;          /* print progress lines */
    bool tty;               /* stderr is a terminal: rewrite one line */
    bool live;
};

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void keep_error(struct run *r, enum np_rc rc, const struct np_err *err)
{
    if (rc != NP_OK && r->store_rc == NP_OK) {
        r->store_rc = rc;
        r->store_err = *err;
    }
}

static void on_pkt(const struct np_flow *f, const struct np_flow_pkt *fp, void *ctx)
{
    struct run *r = ctx;
    struct np_err err;
    if (r->store_rc != NP_OK)
        return; /* the store failed: nothing more goes to it */
    if (fp->new_flow)
        keep_error(r, np_store_rec_flow(r->rec, f, false, &err), &err);
    uint32_t n = fp->frag_n > 0 ? fp->frag_n : 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t fn = fp->frag_n > 0 ? fp->frags[i].frame_no : fp->pkt->frame_no;
        r->ring[fn % FLOW_RING].frame_no = fn;
        r->ring[fn % FLOW_RING].flow_id = f->id;
    }
}

static void on_end(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx)
{
    (void)idx;
    (void)why;
    struct run *r = ctx;
    struct np_err err;
    if (r->store_rc == NP_OK)
        keep_error(r, np_store_rec_flow(r->rec, f, true, &err), &err);
}

static void progress_line(struct run *r, uint64_t now)
{
    const struct np_store_rec_stats *st = np_store_rec_stats(r->rec);
    const struct np_source_stats *ss = np_source_stats(r->src);
    double secs = (double)(now - r->last_progress_ns) / 1e9;
    double rate = secs > 0 ? (double)(st->packets - r->progress_pkts) / secs : 0;
    fprintf(stderr,
            "%snetpeek record: session %lld: %llu packets, %.1f MB, %llu dropped, %.0f pkt/s%s",
            r->tty ? "\r" : "", (long long)np_store_rec_id(r->rec), (unsigned long long)st->packets,
            (double)st->bytes / 1e6, (unsigned long long)(ss->kernel_drops + ss->if_drops), rate,
            r->tty ? "\033[K" : "\n");
    r->progress_pkts = st->packets;
    r->last_progress_ns = now;
}

static enum np_rc after_batch(const struct np_batch *b, void *ctx, struct np_err *err)
{
    struct run *r = ctx;
    for (uint32_t i = 0; i < b->n && r->store_rc == NP_OK; i++) {
        const struct np_pkt *p = &b->pkts[i];
        uint64_t slot = p->frame_no % FLOW_RING;
        uint64_t flow = r->ring[slot].frame_no == p->frame_no ? r->ring[slot].flow_id : 0;
        struct np_err e;
        keep_error(r, np_store_rec_packet(r->rec, p, flow, &e), &e);
    }
    uint64_t now = mono_ns();
    uint64_t bytes = np_store_rec_stats(r->rec)->bytes;
    if (r->store_rc == NP_OK && (now - r->last_commit_ns >= COMMIT_EVERY_NS ||
                                 bytes - r->last_commit_bytes >= COMMIT_EVERY_BYTES)) {
        const struct np_source_stats *ss = np_source_stats(r->src);
        struct np_err e;
        keep_error(r, np_store_rec_commit_async(r->rec, ss->kernel_drops, ss->if_drops, &e), &e);
        r->last_commit_ns = now;
        r->last_commit_bytes = bytes;
    }
    if (r->progress && now - r->last_progress_ns >= PROGRESS_EVERY_NS)
        progress_line(r, now);
    if (r->store_rc != NP_OK) {
        *err = r->store_err;
        return r->store_rc;
    }
    return NP_OK;
}

/* "a.pcap, b.pcap" into buf (cut to fit). */
static void join_files(const struct np_opts *o, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < o->src.n_files && n + 1 < cap; i++) {
        int k = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", o->src.files[i]);
        if (k < 0)
            break;
        n += (size_t)k < cap - n ? (size_t)k : cap - n - 1;
    }
}

/* Declares every interface the source knows now (files: all of a pcap, the
 * pcapng interfaces seen so far; live: the one). */
static enum np_rc declare_ifaces(struct run *r, const struct np_opts *o, struct np_err *err)
{
    for (uint32_t id = 0; id < 65536; id++) {
        struct np_store_iface i = { .ifid = id };
        if (!np_source_iface_info(r->src, id, &i.linktype, &i.snaplen))
            break;
        i.ts_prec = np_source_nano(r->src) ? 9 : 6;
        snprintf(i.name, sizeof(i.name), "%s", o->src.iface ? o->src.iface : "");
        enum np_rc rc = np_store_rec_iface(r->rec, &i, err);
        if (rc != NP_OK)
            return rc;
    }
    return NP_OK;
}

static void summary(const struct run *r, const struct np_store_rec_stats *st,
                    const struct np_opts *o, int64_t id, double secs)
{
    const struct np_source_stats *ss = np_source_stats(r->src);
    fprintf(stderr,
            "netpeek record: session %lld in %s: %llu packets, %llu bytes, %llu flows, %llu "
            "chunks in %.1f s (%.0f pkt/s)\n",
            (long long)id, o->database, (unsigned long long)st->packets,
            (unsigned long long)st->bytes, (unsigned long long)st->flows,
            (unsigned long long)st->chunks, secs, secs > 0 ? (double)st->packets / secs : 0.0);
    if (r->live || ss->kernel_drops || ss->if_drops)
        fprintf(stderr, "  dropped: %llu by the kernel, %llu by the interface\n",
                (unsigned long long)ss->kernel_drops, (unsigned long long)ss->if_drops);
    if (ss->files_damaged)
        fprintf(stderr, "  damaged or truncated input files: %llu\n",
                (unsigned long long)ss->files_damaged);
}

int np_cmd_record(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_store *st = NULL;
    struct np_track *trk = NULL;
    struct run *r = calloc(1, sizeof(*r));
    int code = 0;
    bool done;

    np_opts_init(&o);
    o.src.snaplen = 65535;
    o.src.buffer_bytes = 10u << 20;
    if (r == NULL) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (np_cli_start(&o, &record_cmd, argc, argv, &done, &err) != NP_OK)
        goto fail;
    if (done)
        goto out;
    r->src = np_cli_open_source(&o, &err);
    if (r->src == NULL)
        goto fail;
    r->live = o.src.iface != NULL;
    st = np_store_open(o.database, true, true, &err);
    if (st == NULL)
        goto fail;
    char source[256];
    if (r->live)
        snprintf(source, sizeof(source), "%s", o.src.iface);
    else
        join_files(&o, source, sizeof(source));
    struct np_store_rec_cfg rc_cfg = {
        .name = o.name,
        .source = source,
        .live = r->live,
        .filter = o.src.bpf,
        .snaplen = o.src.snaplen,
    };
    r->rec = np_store_rec_begin(st, &rc_cfg, &err);
    if (r->rec == NULL || declare_ifaces(r, &o, &err) != NP_OK)
        goto fail;
    struct np_track_cfg tc = o.track;
    tc.finish_any_order = true;
    trk = np_track_create(&tc, on_end, r, &err);
    if (trk == NULL || np_track_set_packet_hook(trk, on_pkt, r, true, &err) != NP_OK)
        goto fail;

    r->progress = !o.quiet;
    r->tty = isatty(STDERR_FILENO);
    if (!o.quiet) {
        fprintf(stderr, "netpeek record: session %lld in %s, from %s%s%s%s\n",
                (long long)np_store_rec_id(r->rec), o.database, source,
                o.src.bpf && *o.src.bpf ? " (filter '" : "", o.src.bpf ? o.src.bpf : "",
                o.src.bpf && *o.src.bpf ? "')" : "");
    }
    np_cli_listening("record", &o, r->src);
    r->start_ns = r->last_commit_ns = r->last_progress_ns = mono_ns();
    np_cli_catch_signals(r->src);
    enum np_rc rc = np_run_single(r->src, trk, after_batch, r, &err);
    np_cli_catch_signals(NULL);
    double secs = (double)(mono_ns() - r->start_ns) / 1e9;
    if (r->progress && r->tty)
        fputc('\n', stderr);
    /* pcapng interfaces announced after the start */
    struct np_err ierr;
    if (r->store_rc == NP_OK && declare_ifaces(r, &o, &ierr) != NP_OK)
        keep_error(r, ierr.rc, &ierr);
    if (r->store_rc != NP_OK) {
        /* The store failed: the session keeps what was committed, and its
         * lock goes with the process, so it is listed as interrupted. */
        fprintf(stderr, "netpeek record: %s (session %lld keeps the packets committed before)\n",
                r->store_err.msg, (long long)np_store_rec_id(r->rec));
        code = r->store_err.rc == NP_ERR_USAGE ? 2 : 1;
        goto out;
    }
    /* Whatever stopped the source, what was captured is committed. */
    const struct np_source_stats *ss = np_source_stats(r->src);
    struct np_err cerr;
    if (np_store_rec_commit(r->rec, ss->kernel_drops, ss->if_drops, &cerr) != NP_OK) {
        code = np_cli_fail("record", &cerr);
        goto out;
    }
    struct np_store_rec *rec = r->rec;
    struct np_store_rec_stats rs = *np_store_rec_stats(rec);
    int64_t id = np_store_rec_id(rec);
    r->rec = NULL;
    struct np_err eerr;
    if (np_store_rec_end(rec, ss->kernel_drops, ss->if_drops, &eerr) != NP_OK) {
        code = np_cli_fail("record", &eerr);
        goto out;
    }
    if (!o.quiet)
        summary(r, &rs, &o, id, secs);
    if (rc != NP_OK) {
        code = np_cli_fail("record", &err);
        if (code == 2 && err.rc != NP_ERR_USAGE)
            code = 1;
    }
    goto out;
fail:
    code = np_cli_fail("record", &err);
out:
    np_track_destroy(trk);
    if (r != NULL)
        np_store_rec_abandon(r->rec);
    np_store_close(st);
    if (r != NULL)
        np_source_destroy(r->src);
    free(r);
    np_opts_fini(&o);
    return code;
}
