/* cli/replay.c: `netpeek replay`: a stored session sent onto an interface
 * (pcap_inject) or printed, on the recorded schedule scaled by --speed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/stored.h"
#include "core/out.h"
#include "core/packet.h"
#include "sink/inject.h"
#include "sink/pkt_line.h"

static const struct np_cmd_opt replay_opts[] = {
    { NP_OPT_DATABASE, 'd', NULL },
    { NP_OPT_SESSION, 's', NULL },
    { NP_OPT_IFACE, 'i', "send the packets on IFACE" },
    { NP_OPT_DISPLAY_ONLY, 0, NULL },
    { NP_OPT_SPEED, 0, NULL },
    { NP_OPT_COUNT, 'c', "replay the first N packets only" },
    { NP_OPT_SHOW_DATA, 'x', "--display-only: add a hex and ASCII dump of each packet" },
    { NP_OPT_QUIET, 'q', "no summary on standard error" },
    { NP_OPT_HELP, 'h', NULL },
    { NP_OPT_VERSION, 'V', NULL },
};

static const struct np_cmd replay_cmd = {
    "replay",
    "[-d DB] -s ID [--speed X] [-c COUNT] (-i IFACE | --display-only)",
    "Sends a stored session's packets onto an interface, or prints them as\n"
    "'query' does, keeping the recorded gaps between them scaled by --speed.\n"
    "Each packet's send time is scheduled from the start of the replay on the\n"
    "monotonic clock, so no error accumulates. A session whose link type the\n"
    "interface cannot carry is refused; packets cut by the snapshot length or\n"
    "larger than the interface's MTU are skipped and counted. The summary gives\n"
    "packets and bytes sent, the time taken, the rate and how late packets went.",
    replay_opts,
    sizeof(replay_opts) / sizeof(replay_opts[0]),
    "Examples:\n"
    "  netpeek replay -s 3 -i veth0\n"
    "  netpeek replay -s 3 -i veth0 --speed 0       as fast as the interface takes\n"
    "  netpeek replay -s 3 --display-only --speed 10\n",
};

static void summary(const struct np_stored *x, const struct np_sched *sc,
                    const struct np_inject *inj, uint64_t pkts, uint64_t bytes, double secs,
                    bool stopped)
{
    fprintf(stderr,
            "netpeek replay: session %lld: %llu packets, %llu bytes %s in %.3f s (%.0f pkt/s, "
            "%.3f Mbit/s)%s\n",
            (long long)x->s.id, (unsigned long long)pkts, (unsigned long long)bytes,
            inj ? "sent" : "shown", secs, secs > 0 ? (double)pkts / secs : 0.0,
            secs > 0 ? (double)bytes * 8 / secs / 1e6 : 0.0, stopped ? ", interrupted" : "");
    if (sc->speed > 0 && sc->started)
        fprintf(stderr, "  schedule: the recorded span %.3f s at speed %g takes %.3f s\n",
                (double)(sc->max_ts_ns - sc->first_ts_ns) / 1e9, sc->speed,
                (double)(sc->max_ts_ns - sc->first_ts_ns) / 1e9 / sc->speed);
    if (sc->late.n > 0)
        fprintf(stderr, "  late against the schedule: p50 %.1f us, p99 %.1f us, max %.1f us\n",
                (double)np_lathist_pct(&sc->late, 50) / 1e3,
                (double)np_lathist_pct(&sc->late, 99) / 1e3, (double)sc->late.max_ns / 1e3);
    if (sc->n_backwards)
        fprintf(stderr, "  %llu packets stamped before an earlier one went at once\n",
                (unsigned long long)sc->n_backwards);
    if (inj != NULL) {
        const struct np_inject_stats *is = np_inject_stats(inj);
        if (is->skipped_truncated || is->skipped_too_big || is->skipped_linktype)
            fprintf(stderr,
                    "  skipped: %llu cut by the snapshot length, %llu larger than the MTU "
                    "(%u), %llu of another link type\n",
                    (unsigned long long)is->skipped_truncated,
                    (unsigned long long)is->skipped_too_big, np_inject_mtu(inj),
                    (unsigned long long)is->skipped_linktype);
        if (is->send_errors)
            fprintf(stderr, "  send errors: %llu (first: %s)\n",
                    (unsigned long long)is->send_errors, is->first_error);
    }
}

int np_cmd_replay(int argc, char **argv)
{
    struct np_opts o;
    struct np_err err = { 0 };
    struct np_stored x = { 0 };
    struct np_inject *inj = NULL;
    struct np_out out;
    bool out_open = false;
    int code = 0;
    bool done;

    np_opts_init(&o);
    if (np_cli_start(&o, &replay_cmd, argc, argv, &done, &err) != NP_OK)
        goto fail;
    if (done)
        goto out;
    if ((o.src.iface == NULL) == !o.display_only) {
        np_err_set(&err, NP_ERR_USAGE, "give either -i IFACE or --display-only");
        goto fail;
    }
    struct np_sched sc;
    if (np_sched_init(&sc, o.speed, &err) != NP_OK)
        goto fail;
    struct np_store_query q;
    np_stored_query_all(&q);
    if (np_stored_open(&x, &o, &q, &err) != NP_OK)
        goto fail;
    if (o.src.iface != NULL) {
        inj = np_inject_open(o.src.iface, &err);
        if (inj == NULL)
            goto fail;
        for (uint32_t i = 0; i < x.n_ifs; i++)
            if (np_inject_check_linktype(inj, x.ifs[i].linktype, &err) != NP_OK)
                goto fail;
    } else {
        if (np_out_init(&out, STDOUT_FILENO, 1u << 16) != 0) {
            np_err_set(&err, NP_ERR_NOMEM, "out of memory");
            goto fail;
        }
        out_open = true;
    }

    np_cli_catch_signals(NULL);
    const volatile sig_atomic_t *stop = np_cli_stop_flag();
    struct np_pkt_line_opts lo = { NP_PKT_LINE_TEXT, o.show_data };
    uint64_t pkts = 0, bytes = 0, t0 = np_sched_now_ns();
    struct np_pkt p;
    enum np_rc rc = NP_EOF;
    while (!*stop && (o.src.max_packets == 0 || pkts < o.src.max_packets) &&
           (rc = np_stored_next(&x, &p, &err)) == NP_OK) {
        if (!np_sched_wait(&sc, p.ts_ns, stop))
            break;
        if (inj != NULL) {
            if (!np_inject_send(inj, &p))
                continue;
        } else {
            np_pkt_line_write(&out, &p, &lo);
            np_out_flush(&out); /* on time, not when the buffer fills */
        }
        pkts++;
        bytes += p.caplen;
    }
    double secs = (double)(np_sched_now_ns() - t0) / 1e9;
    if (rc != NP_OK && rc != NP_EOF)
        goto fail;
    if (out_open && np_out_flush(&out) != 0) {
        np_err_set(&err, NP_ERR_IO, "cannot write standard output: %s", strerror(out.err));
        goto fail;
    }
    if (!o.quiet)
        summary(&x, &sc, inj, pkts, bytes, secs, *stop != 0);
    goto out;
fail:
    code = np_cli_fail("replay", &err);
out:
    if (out_open)
        np_out_fini(&out);
    np_inject_close(inj);
    np_stored_close(&x);
    np_opts_fini(&o);
    return code;
}
