/* cli/export.c: `netpeek export`: a stored session back into a capture
 * file, with its original timestamps, lengths, interfaces and link types. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/stored.h"
#include "core/packet.h"
#include "sink/pcap_out.h"

static const struct np_cmd_opt export_opts[] = {
    { NP_OPT_DATABASE, 'd', NULL },
    { NP_OPT_SESSION, 's', NULL },
    { NP_OPT_OUTPUT, 'o', "the capture file to write; - is standard output" },
    { NP_OPT_FILTER, 'f', "only packets matching this BPF filter (applied with libpcap)" },
    { NP_OPT_FORMAT, 'F',
      "pcap or pcapng (default pcap; pcapng when the session has several link types)" },
    { NP_OPT_QUIET, 'q', NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd export_cmd = {
    "export",
    "[-d DB] -s ID -o FILE [--filter BPF] [--format pcap|pcapng]",
    "Writes a stored session's packets to a capture file with their original\n"
    "timestamps (nanosecond pcap when the session was recorded in nanoseconds),\n"
    "captured and wire lengths and link type. A session with several link types\n"
    "is written as pcapng, with its interfaces. Works while a recording runs: the\n"
    "packets committed so far are written.",
    export_opts,
    sizeof(export_opts) / sizeof(export_opts[0]),
    "Examples:\n"
    "  netpeek export -s 3 -o session3.pcap\n"
    "  netpeek export -d web.db -s 12 --filter 'tcp port 443' -o tls.pcapng --format pcapng\n",
};

static bool mixed_linktypes(const struct np_stored *x)
{
    for (uint32_t i = 1; i < x->n_ifs; i++)
        if (x->ifs[i].linktype != x->ifs[0].linktype)
            return true;
    return false;
}

int np_cmd_export(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_stored x = { 0 };
    struct np_pcap_out *out = NULL;
    int code = 0;
    bool done;

    np_opts_init(&o);
    if (np_cli_start(&o, &export_cmd, argc, argv, &done, &err) != NP_OK)
        goto fail;
    if (done)
        goto out;
    if (o.output == NULL) {
        np_err_set(&err, NP_ERR_USAGE, "give the output file with -o FILE (- for standard output)");
        goto fail;
    }
    struct np_store_query q;
    np_stored_query_all(&q);
    if (np_stored_open(&x, &o, &q, &err) != NP_OK)
        goto fail;

    struct np_pcap_out_cfg c = { .fmt = NP_PCAP_FMT_PCAP, .ts_prec = 6, .linktype = 1 };
    bool mixed = mixed_linktypes(&x);
    if (mixed)
        c.fmt = NP_PCAP_FMT_PCAPNG;
    if (o.format != NULL) {
        if (strcmp(o.format, "pcapng") == 0) {
            c.fmt = NP_PCAP_FMT_PCAPNG;
        } else if (strcmp(o.format, "pcap") != 0) {
            np_err_set(&err, NP_ERR_USAGE, "--format: '%s' is not pcap or pcapng", o.format);
            goto fail;
        } else if (mixed) {
            np_err_set(&err, NP_ERR_USAGE,
                       "session %lld mixes link types, which no pcap file can hold: use "
                       "--format pcapng",
                       (long long)x.s.id);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < x.n_ifs; i++)
        if (x.ifs[i].ts_prec == 9)
            c.ts_prec = 9;
    if (x.n_ifs > 0) {
        c.linktype = x.ifs[0].linktype;
        c.snaplen = x.ifs[0].snaplen;
    }
    out = np_pcap_out_create(o.output, &c, &err);
    if (out == NULL)
        goto fail;
    for (uint32_t i = 0; i < x.n_ifs; i++)
        if (np_pcap_out_set_iface(out, x.ifs[i].ifid, x.ifs[i].linktype, x.ifs[i].snaplen, &err) !=
            NP_OK)
            goto fail;

    np_cli_catch_signals(NULL);
    const volatile sig_atomic_t *stop = np_cli_stop_flag();
    struct np_pkt p;
    enum np_rc rc = NP_EOF;
    while (!*stop && (rc = np_stored_next(&x, &p, &err)) == NP_OK)
        if (np_pcap_out_write(out, &p, &err) != NP_OK)
            goto fail;
    if (!*stop && rc != NP_EOF)
        goto fail;
    if (np_pcap_out_finish(out, &err) != NP_OK)
        goto fail;
    if (!o.quiet) {
        const struct np_pcap_out_stats *ps = np_pcap_out_stats(out);
        const struct np_store_cursor_stats *cs = np_store_cursor_stats(x.cur);
        fprintf(stderr, "netpeek export: session %lld: %llu packets written to %s (%s)%s\n",
                (long long)x.s.id, (unsigned long long)ps->n_pkts,
                strcmp(o.output, "-") == 0 ? "standard output" : o.output,
                c.fmt == NP_PCAP_FMT_PCAPNG ? "pcapng" : "pcap", *stop ? ", interrupted" : "");
        if (x.bpf != NULL)
            fprintf(stderr, "  %llu packets left out by the filter\n",
                    (unsigned long long)x.filtered);
        if (cs->chunks_damaged)
            fprintf(stderr, "  warning: %llu damaged chunks skipped\n",
                    (unsigned long long)cs->chunks_damaged);
    }
    goto out;
fail:
    code = np_cli_fail("export", &err);
out:
    np_pcap_out_destroy(out);
    np_stored_close(&x);
    np_opts_fini(&o);
    return code;
}
