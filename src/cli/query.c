/* cli/query.c: `netpeek query`: a stored session's packets, one line each.
 *
 * --host, --port, --flow and the time range go to the store, which reads
 * only the chunks its flow index and chunk times name; --filter is a BPF
 * expression applied to the packets read. --offset and --limit count the
 * packets that pass everything. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/stored.h"
#include "core/out.h"
#include "core/packet.h"
#include "sink/pkt_line.h"

static const struct np_cmd_opt query_opts[] = {
    { NP_OPT_DATABASE, 'd', NULL },
    { NP_OPT_SESSION, 's', NULL },
    { NP_OPT_LIMIT, 'l', NULL },
    { NP_OPT_OFFSET, 0, NULL },
    { NP_OPT_SHOW_DATA, 'x', NULL },
    { NP_OPT_HOST, 0, NULL },
    { NP_OPT_PORT, 0, NULL },
    { NP_OPT_FLOW, 0, NULL },
    { NP_OPT_FILTER, 'f', "only packets matching this BPF filter (applied with libpcap)" },
    { NP_OPT_SINCE, 0, NULL },
    { NP_OPT_UNTIL, 0, NULL },
    { NP_OPT_JSON, 'j', "one JSON object per packet and line (fields in docs/formats.md)" },
    { NP_OPT_QUIET, 'q', "no summary line on standard error" },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd query_cmd = {
    "query",
    "[-d DB] -s ID [-l LIMIT] [--offset N] [--show-data] [--host ADDR] [--port N]\n"
    "       [--flow ID] [--filter BPF] [--since TIME] [--until TIME] [--json]",
    "Prints a stored session's packets, one tcpdump-like line each (frame number,\n"
    "time, addresses, ports, protocol, TCP flags, lengths), in capture order.\n"
    "--host, --port, --flow, --since and --until are answered from the session's\n"
    "flow and chunk index, so only the chunks that can hold matching packets are\n"
    "read; --filter applies a BPF expression to them. Works while a recording\n"
    "runs.",
    query_opts,
    sizeof(query_opts) / sizeof(query_opts[0]),
    "Examples:\n"
    "  netpeek query -s 3                       the first 10 packets\n"
    "  netpeek query -s 3 --host 192.0.2.7 -l 0  every packet from or to 192.0.2.7\n"
    "  netpeek query -s 3 --port 53 --since 2026-11-23T10:00:00Z --show-data\n"
    "  netpeek query -s 3 --filter 'tcp[tcpflags] & tcp-syn != 0' --json\n",
};

int np_cmd_query(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_stored x = { 0 };
    struct np_out out;
    bool out_open = false;
    int code = 0;
    bool done;

    np_opts_init(&o);
    if (np_cli_start(&o, &query_cmd, argc, argv, &done, &err) != NP_OK)
        goto fail;
    if (done)
        goto out;
    if (o.since_ns > o.until_ns) {
        np_err_set(&err, NP_ERR_USAGE, "--since is after --until: no packet can match");
        goto fail;
    }
    struct np_store_query q;
    np_stored_query_all(&q);
    q.has_host = o.has_host;
    q.host_ver = o.host_ver;
    memcpy(q.host, o.host, sizeof(q.host));
    q.port = o.port;
    q.has_flow = o.has_flow;
    q.flow_id = o.flow_id;
    q.since_ns = o.since_ns;
    q.until_ns = o.until_ns;
    if (np_stored_open(&x, &o, &q, &err) != NP_OK)
        goto fail;
    if (np_out_init(&out, STDOUT_FILENO, 1u << 16) != 0) {
        np_err_set(&err, NP_ERR_NOMEM, "out of memory");
        goto fail;
    }
    out_open = true;

    np_cli_catch_signals(NULL);
    const volatile sig_atomic_t *stop = np_cli_stop_flag();
    struct np_pkt_line_opts lo = { o.json ? NP_PKT_LINE_JSON : NP_PKT_LINE_TEXT, o.show_data };
    uint64_t seen = 0, printed = 0;
    struct np_pkt p;
    enum np_rc rc = NP_EOF;
    while (!*stop && (o.limit == 0 || printed < o.limit) &&
           (rc = np_stored_next(&x, &p, &err)) == NP_OK) {
        if (seen++ < o.offset)
            continue;
        np_pkt_line_write(&out, &p, &lo);
        printed++;
        if (out.err != 0)
            break;
    }
    if (rc != NP_OK && rc != NP_EOF)
        goto fail;
    if (np_out_flush(&out) != 0) {
        np_err_set(&err, NP_ERR_IO, "cannot write standard output: %s", strerror(out.err));
        goto fail;
    }
    if (!o.quiet) {
        const struct np_store_cursor_stats *cs = np_store_cursor_stats(x.cur);
        fprintf(stderr,
                "netpeek query: session %lld: %llu packets printed%s; %llu chunks read, %llu "
                "packets looked at\n",
                (long long)x.s.id, (unsigned long long)printed,
                o.limit != 0 && printed == o.limit ? " (the limit: -l 0 for all)" : "",
                (unsigned long long)cs->chunks_read, (unsigned long long)cs->pkts_scanned);
        if (cs->chunks_damaged)
            fprintf(stderr, "  warning: %llu damaged chunks skipped\n",
                    (unsigned long long)cs->chunks_damaged);
    }
    goto out;
fail:
    code = np_cli_fail("query", &err);
out:
    if (out_open)
        np_out_fini(&out);
    np_stored_close(&x);
    np_opts_fini(&o);
    return code;
}
