/* cli/sample.c: `netpeek sample`: the first N packets of every TCP session
 * into a capture file (tcpeek's sampler). Wires a source, the tracker (TCP
 * only), the sampler analyzer and the capture-file writer. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyze/sampler.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "core/out.h"
#include "core/packet.h"
#include "flow/track.h"
#include "pipeline/single.h"
#include "sink/pcap_out.h"
#include "source/source.h"

static const struct np_cmd_opt sample_opts[] = {
    { NP_OPT_NUMBER, 'n', NULL },
    { NP_OPT_FILTER, 'f', NULL },
    { NP_OPT_IFACE, 'i', NULL },
    { NP_OPT_READ, 'r', NULL },
    { NP_OPT_OUTPUT, 'o',
      "write the sampled packets to FILE (pcap, or pcapng with --format "
      "or when the input mixes link types); - is standard output" },
    { NP_OPT_VERBOSE, 'v', "with -o, also print the session lines" },
    { NP_OPT_MIDSTREAM, 0, NULL },
    { NP_OPT_SESSION_TIMEOUT, 0, NULL },
    { NP_OPT_MAX_SESSIONS, 0, NULL },
    { NP_OPT_FORMAT, 'F', "pcap or pcapng, whatever the input" },
    { NP_OPT_TIME_PRECISION, 0, NULL },
    { NP_OPT_COUNT, 'c', NULL },
    { NP_OPT_DURATION, 't', NULL },
    { NP_OPT_SNAPLEN, 's', NULL },
    { NP_OPT_BUFFER_SIZE, 'B', NULL },
    { NP_OPT_READ_TIMEOUT, 0, NULL },
    { NP_OPT_PROMISC, 0, NULL },
    { NP_OPT_NO_PROMISC, 'p', NULL },
    { NP_OPT_IMMEDIATE, 0, NULL },
    { NP_OPT_LIBPCAP_READER, 0, NULL },
    { NP_OPT_QUIET, 'q', NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd sample_cmd = {
    "sample",
    "[-n N] [-f BPF] (-i IFACE | -r FILE...) [-o FILE] [options]",
    "Keeps the first N packets of every TCP session (both directions of one\n"
    "connection, from its SYN) and writes them to a capture file. Without -o it\n"
    "prints a line when a session starts ([+++] client -> server) and when its\n"
    "N-th packet was taken ([---]). A session ends when FINs from both sides are\n"
    "acknowledged, at RST or after the idle timeout; a new SYN on its ports then\n"
    "starts a new session. A summary goes to standard error.",
    sample_opts,
    sizeof(sample_opts) / sizeof(sample_opts[0]),
    "Examples:\n"
    "  netpeek sample -r capture.pcap -o heads.pcap\n"
    "  netpeek sample -n 3 -i eth0 -f 'tcp port 443'\n"
    "  netpeek sample -n 20 -r a.pcapng --format pcapng -o heads.pcapng\n",
};

struct run {
    struct np_sampler *smp;
    struct np_pcap_out *out; /* NULL without -o */
    struct np_out con;       /* session lines */
    bool lines;
    bool live;
    enum np_rc wrc; /* first write error, with werr */
    struct np_err werr;
};

/* "[+++] 192.0.2.1:51296 -> 192.0.2.2:8080", from the side that sent fp. */
static void session_line(struct np_out *o, const char *tag, const struct np_flow *f,
                         unsigned from_b)
{
    const struct np_flow_key *k = &f->key;
    const uint8_t *a[2] = { k->addr_a, k->addr_b };
    uint16_t port[2] = { k->port_a, k->port_b };
    np_out_str(o, tag);
    for (unsigned side = 0; side < 2; side++) {
        unsigned e = side ^ from_b;
        if (side == 1)
            np_out_str(o, " -> ");
        if (k->ip_ver == 6)
            np_out_ch(o, '[');
        np_out_ip(o, k->ip_ver, a[e]);
        if (k->ip_ver == 6)
            np_out_ch(o, ']');
        np_out_ch(o, ':');
        np_out_u64(o, port[e]);
    }
    np_out_ch(o, '\n');
}

static void write_frame(struct run *r, const struct np_pkt *p)
{
    if (r->wrc == NP_OK)
        r->wrc = np_pcap_out_write(r->out, p, &r->werr);
}

static void on_pkt(const struct np_flow *f, const struct np_flow_pkt *fp, void *ctx)
{
    struct run *r = ctx;
    unsigned ev = np_sampler_packet(r->smp, fp);
    /* The session's client: who sent its SYN, or (midstream) its first packet. */
    unsigned client_b = f->client;
    if ((ev & NP_SAMPLE_START) && r->lines)
        session_line(&r->con, "[+++] ", f, client_b);
    if ((ev & NP_SAMPLE_TAKE) && r->out != NULL) {
        if (fp->frag_n > 0)
            for (uint32_t i = 0; i < fp->frag_n; i++)
                write_frame(r, &fp->frags[i]);
        else
            write_frame(r, fp->pkt);
    }
    if ((ev & NP_SAMPLE_FULL) && r->lines)
        session_line(&r->con, "[---] ", f, client_b);
}

static void on_end(const struct np_flow *f, uint32_t idx, enum np_flow_end why, void *ctx)
{
    (void)f;
    struct run *r = ctx;
    np_sampler_flow_end(r->smp, idx, why);
}

/* Live: every batch reaches the file and the terminal at once, so Ctrl-C or
 * a kill loses nothing that was taken. The file first: a session line on the
 * terminal means its packets are in the file. */
static enum np_rc after_batch(const struct np_batch *b, void *ctx, struct np_err *err)
{
    (void)b;
    struct run *r = ctx;
    if (r->wrc != NP_OK) {
        *err = r->werr;
        return r->wrc;
    }
    if (!r->live)
        return NP_OK;
    if (r->out != NULL && np_pcap_out_flush(r->out, err) != NP_OK)
        return err->rc;
    np_out_flush(&r->con);
    return NP_OK;
}

static void summary(FILE *f, const struct np_source_stats *ss, const struct np_sampler_stats *st,
                    const struct np_track_stats *ts, bool live)
{
    fprintf(f,
            "netpeek sample: %llu packets read, %llu filtered out; %llu sessions seen, %llu "
            "sampled in full, %llu evicted\n"
            "  %llu packets written (%llu frames), %llu passed over\n",
            (unsigned long long)ss->pkts_read, (unsigned long long)ss->pkts_filtered,
            (unsigned long long)st->sessions_seen, (unsigned long long)st->sessions_full,
            (unsigned long long)st->sessions_evicted, (unsigned long long)st->pkts_taken,
            (unsigned long long)st->frames_taken,
            (unsigned long long)(ss->pkts_passed - st->frames_taken));
    if (ts->frag_frames_lost)
        fprintf(f, "  warning: %llu fragment frames of sampled datagrams could not be kept\n",
                (unsigned long long)ts->frag_frames_lost);
    if (ss->files_damaged)
        fprintf(f, "  damaged or truncated input files: %llu\n",
                (unsigned long long)ss->files_damaged);
    if (live || ss->kernel_drops || ss->if_drops)
        fprintf(f, "  dropped: %llu by the kernel, %llu by the interface\n",
                (unsigned long long)ss->kernel_drops, (unsigned long long)ss->if_drops);
}

/* Chooses the output's format, precision, link type and snaplen. */
static enum np_rc out_cfg(const struct np_opts *o, struct np_source *src, struct np_pcap_out_cfg *c,
                          struct np_err *err)
{
    memset(c, 0, sizeof(*c));
    /* pcapng in, pcapng out: a pcapng file may announce an interface of
     * another link type after its first packets, which no pcap could take. */
    bool mixed = np_source_mixed_linktypes(src);
    c->fmt = mixed || np_source_any_pcapng(src) ? NP_PCAP_FMT_PCAPNG : NP_PCAP_FMT_PCAP;
    if (o->format != NULL) {
        if (strcmp(o->format, "pcapng") == 0)
            c->fmt = NP_PCAP_FMT_PCAPNG;
        else if (strcmp(o->format, "pcap") != 0)
            return np_err_set(err, NP_ERR_USAGE, "--format: '%s' is not pcap or pcapng", o->format);
        else if (mixed)
            return np_err_set(err, NP_ERR_USAGE,
                              "the input mixes link types, which no pcap file can hold: "
                              "use --format pcapng");
    }
    c->ts_prec = o->time_prec ? o->time_prec : (np_source_nano(src) ? 9 : 6);
    uint16_t lt = 1;
    uint32_t snap = 262144;
    np_source_iface_info(src, 0, &lt, &snap);
    c->linktype = lt;
    c->snaplen = snap;
    return NP_OK;
}

int np_cmd_sample(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_source *src = NULL;
    struct np_track *trk = NULL;
    struct run r = { 0 };
    int code = 0;
    bool con_open = false;

    bool done;
    np_opts_init(&o);
    enum np_rc rc = np_cli_start(&o, &sample_cmd, argc, argv, &done, &err);
    if (rc == NP_OK && done)
        goto out;
    if (rc != NP_OK)
        goto fail;
    src = np_cli_open_source(&o, &err);
    if (src == NULL)
        goto fail;
    r.live = o.src.iface != NULL;
    bool to_stdout = o.output != NULL && strcmp(o.output, "-") == 0;
    r.lines = o.output == NULL || o.verbose;
    if (np_out_init(&r.con, to_stdout ? STDERR_FILENO : STDOUT_FILENO, 1u << 16) != 0) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    con_open = true;
    if (o.output != NULL) {
        struct np_pcap_out_cfg pc;
        if (out_cfg(&o, src, &pc, &err) != NP_OK)
            goto fail;
        r.out = np_pcap_out_create(o.output, &pc, &err);
        if (r.out == NULL)
            goto fail;
    }
    struct np_sampler_cfg sc = { o.number, o.midstream, o.session_timeout_ns, o.max_sessions };
    r.smp = np_sampler_create(&sc, &err);
    if (r.smp == NULL)
        goto fail;
    struct np_track_cfg tc;
    np_sampler_track_cfg(&sc, &tc);
    trk = np_track_create(&tc, on_end, &r, &err);
    if (trk == NULL || np_track_set_packet_hook(trk, on_pkt, &r, r.out != NULL, &err) != NP_OK)
        goto fail;

    np_cli_catch_signals(src);
    np_cli_listening("sample", &o, src);
    rc = np_run_single(src, trk, after_batch, &r, &err);
    np_cli_catch_signals(NULL);
    np_out_flush(&r.con);
    struct np_err cerr = { 0 };
    if (r.out != NULL && np_pcap_out_finish(r.out, &cerr) != NP_OK && rc == NP_OK) {
        err = cerr;
        rc = cerr.rc;
    }
    if (!o.quiet)
        summary(stderr, np_source_stats(src), np_sampler_stats(r.smp), np_track_stats(trk), r.live);
    if (rc != NP_OK) {
        code = np_cli_fail("sample", &err);
        if (code == 2 && err.rc != NP_ERR_USAGE)
            code = 1;
    }
    goto out;
fail:
    code = np_cli_fail("sample", &err);
out:
    np_pcap_out_destroy(r.out);
    np_track_destroy(trk);
    np_sampler_destroy(r.smp);
    if (con_open) {
        np_out_flush(&r.con);
        np_out_fini(&r.con);
    }
    np_source_destroy(src);
    np_opts_fini(&o);
    return code;
}
