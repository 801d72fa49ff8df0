/* cli/flows.c: `netpeek flows`: one record per flow, as table, CSV, JSON or
 * JSON Lines. Wires a source, the tracker and the flow export sink. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/summary.h"
#include "flow/track.h"
#include "pipeline/single.h"
#include "sink/flow_export.h"
#include "source/source.h"

static const struct np_cmd_opt flows_opts[] = {
    { NP_OPT_READ, 'r', NULL },
    { NP_OPT_IFACE, 'i', NULL },
    { NP_OPT_FILTER, 'f', NULL },
    { NP_OPT_FORMAT, 'F', "table (aligned, sorted by bytes; the default), csv, json or jsonl" },
    { NP_OPT_OUTPUT, 'o', NULL },
    { NP_OPT_COUNT, 'c', NULL },
    { NP_OPT_DURATION, 't', NULL },
    { NP_OPT_SNAPLEN, 's', NULL },
    { NP_OPT_BUFFER_SIZE, 'B', NULL },
    { NP_OPT_READ_TIMEOUT, 0, NULL },
    { NP_OPT_PROMISC, 0, NULL },
    { NP_OPT_NO_PROMISC, 'p', NULL },
    { NP_OPT_IMMEDIATE, 0, NULL },
    { NP_OPT_FLOW_TIMEOUT_TCP, 0, NULL },
    { NP_OPT_FLOW_TIMEOUT_UDP, 0, NULL },
    { NP_OPT_FLOW_TIMEOUT_ICMP, 0, NULL },
    { NP_OPT_TCP_CLOSE_DELAY, 0, NULL },
    { NP_OPT_MAX_FLOWS, 0, NULL },
    { NP_OPT_LIBPCAP_READER, 0, NULL },
    { NP_OPT_QUIET, 'q', NULL },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd flows_cmd = {
    "flows",
    "(-r FILE... | -i IFACE) [-f BPF] [--format table|csv|json|jsonl] [options]",
    "Prints one record per flow (both directions of a TCP or UDP connection, an\n"
    "ICMP exchange, or any other IP protocol between two hosts) when the flow\n"
    "ends: TCP at FIN/ACK or RST, any flow after its idle timeout, on eviction,\n"
    "or at the end of input. A summary goes to standard error. Fields are\n"
    "documented in docs/formats.md.",
    flows_opts,
    sizeof(flows_opts) / sizeof(flows_opts[0]),
    "Examples:\n"
    "  netpeek flows -r capture.pcap\n"
    "  netpeek flows -r a.pcapng -r b.pcap -f 'tcp port 443' --format csv -o flows.csv\n"
    "  netpeek flows -i eth0 -t 60 --format jsonl\n",
};

static int parse_format(const char *s, enum np_flow_fmt *out)
{
    static const struct {
        const char *name;
        enum np_flow_fmt fmt;
    } names[] = { { "table", NP_FLOW_FMT_TABLE },
                  { "csv", NP_FLOW_FMT_CSV },
                  { "json", NP_FLOW_FMT_JSON },
                  { "jsonl", NP_FLOW_FMT_JSONL } };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].fmt;
            return 0;
        }
    return -1;
}

int np_cmd_flows(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_source *src = NULL;
    struct np_track *trk = NULL;
    struct np_flow_export *x = NULL;
    enum np_flow_fmt fmt = NP_FLOW_FMT_TABLE;
    int fd = -1, code = 0;

    bool done;
    np_opts_init(&o);
    enum np_rc rc = np_cli_start(&o, &flows_cmd, argc, argv, &done, &err);
    if (rc == NP_OK && done)
        goto out;
    if (rc == NP_OK && o.format != NULL && parse_format(o.format, &fmt) != 0)
        rc = np_err_set(&err, NP_ERR_USAGE, "--format: '%s' is not one of table, csv, json, jsonl",
                        o.format);
    if (rc != NP_OK)
        goto fail;
    src = np_cli_open_source(&o, &err);
    if (src == NULL)
        goto fail;
    fd = np_cli_open_output(o.output, &err);
    if (fd < 0)
        goto fail;
    x = np_flow_export_create(fd, fmt, &err);
    if (x == NULL)
        goto fail;
    trk = np_track_create(&o.track, np_flow_export_on_end, x, &err);
    if (trk == NULL)
        goto fail;

    np_cli_catch_signals(src);
    np_cli_listening("flows", &o, src);
    rc = np_run_single(src, trk, NULL, NULL, &err);
    np_cli_catch_signals(NULL);
    struct np_err werr = { 0 };
    if (np_flow_export_finish(x, &werr) != NP_OK) {
        code = np_cli_fail("flows", &werr);
        if (code == 2)
            code = 1;
    }
    if (!o.quiet)
        np_summary_print(stderr, "flows", np_source_stats(src), trk, o.src.iface != NULL);
    if (rc != NP_OK)
        code = np_cli_fail("flows", &err);
    goto out;
fail:
    code = np_cli_fail("flows", &err);
out:
    np_track_destroy(trk);
    np_flow_export_destroy(x);
    if (fd > STDOUT_FILENO)
        close(fd);
    np_source_destroy(src);
    np_opts_fini(&o);
    return code;
}
