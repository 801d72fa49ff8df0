/* cli/summary.c: the end-of-run summary. Every counter that says something
 * was dropped, cut or malformed is printed when non-zero: nothing is lost
 * silently. */
#include "cli/summary.h"

#include <inttypes.h>
#include <stddef.h>

#include "flow/track.h"
#include "sink/flow_export.h"
#include "source/source.h"

#define DEC(f)                               \
    {                                        \
#f, offsetof(struct np_dec_stats, f) \
    }
static const struct {
    const char *name;
    size_t off;
} dec_anoms[] = {
    DEC(anom_unsupported_linktype), DEC(anom_link_truncated),       DEC(anom_vlan_too_deep),
    DEC(anom_ipv4_truncated),       DEC(anom_ipv4_bad_version),     DEC(anom_ipv4_bad_ihl),
    DEC(anom_ipv4_bad_total_len),   DEC(anom_ipv6_truncated),       DEC(anom_ipv6_bad_version),
    DEC(anom_ipv6_ext_truncated),   DEC(anom_ipv6_too_many_ext),    DEC(anom_tcp_truncated),
    DEC(anom_tcp_bad_offset),       DEC(anom_tcp_bad_option),       DEC(anom_udp_truncated),
    DEC(anom_udp_bad_len),          DEC(anom_icmp_truncated),       DEC(anom_icmp_quote_truncated),
    DEC(anom_arp_truncated),        DEC(anom_ipv6_jumbo),           DEC(anom_ipv6_nested_frag),
    DEC(anom_icmp_quote_bad),       DEC(anom_ipv6_bad_payload_len), DEC(anom_ipv6_bad_option),
};
#undef DEC

#define SRC(f)                                  \
    {                                           \
#f, offsetof(struct np_source_stats, f) \
    }
static const struct {
    const char *name;
    size_t off;
} src_anoms[] = {
    SRC(anom_caplen_over_wirelen),
    SRC(anom_bad_block),
    SRC(anom_unknown_ifid),
    SRC(anom_ts_out_of_range),
};
#undef SRC

static uint64_t at(const void *base, size_t off)
{
    const unsigned char *p = base;
    uint64_t v;
    __builtin_memcpy(&v, p + off, sizeof(v));
    return v;
}

void np_summary_print(FILE *f, const char *cmd, const struct np_source_stats *ss,
                      struct np_track *trk, bool live)
{
    const struct np_track_stats *ts = np_track_stats(trk);
    fprintf(f,
            "netpeek %s: %" PRIu64 " packets read (%" PRIu64 " bytes on the wire), %" PRIu64
            " filtered out, %" PRIu64 " in flows\n",
            cmd, ss->pkts_read, ss->bytes_wire, ss->pkts_filtered, ts->pkts_in_flows);
    fprintf(f, "  flows: %" PRIu64 " (peak %" PRIu64 " at once, %zu KiB table); ended by",
            ts->flows_created, ts->flows_peak, np_track_mem_bytes(trk) / 1024);
    for (int i = 0; i < NP_END_REASONS; i++)
        fprintf(f, "%s %s %" PRIu64, i ? "," : "", np_flow_end_name((enum np_flow_end)i),
                ts->flows_ended[i]);
    fputc('\n', f);
    uint64_t frag_lost = ts->pkts - ts->pkts_in_flows - ts->pkts_no_flow;
    if (ts->pkts_no_flow || frag_lost)
        fprintf(f,
                "  not in any flow: %" PRIu64 " non-IP or undecodable, %" PRIu64
                " fragments of datagrams that did not complete (%" PRIu64 " timed out, %" PRIu64
                " evicted)\n",
                ts->pkts_no_flow, frag_lost, ts->frag.timeouts, ts->frag.evicted);
    if (ts->flows_ended[NP_END_EVICTION])
        fprintf(f, "  warning: %" PRIu64 " flows evicted: raise --max-flows\n",
                ts->flows_ended[NP_END_EVICTION]);
    int any = 0;
    for (size_t i = 0; i < sizeof(dec_anoms) / sizeof(dec_anoms[0]); i++) {
        uint64_t v = at(&ts->dec, dec_anoms[i].off);
        if (v == 0)
            continue;
        fprintf(f, "%s %s %" PRIu64, any ? "," : "  anomalies:", dec_anoms[i].name, v);
        any = 1;
    }
    for (size_t i = 0; i < sizeof(src_anoms) / sizeof(src_anoms[0]); i++) {
        uint64_t v = at(ss, src_anoms[i].off);
        if (v == 0)
            continue;
        fprintf(f, "%s %s %" PRIu64, any ? "," : "  anomalies:", src_anoms[i].name, v);
        any = 1;
    }
    if (any)
        fputc('\n', f);
    if (ss->files_damaged)
        fprintf(f, "  damaged or truncated input files: %" PRIu64 "\n", ss->files_damaged);
    if (live || ss->kernel_drops || ss->if_drops)
        fprintf(f, "  dropped: %" PRIu64 " by the kernel, %" PRIu64 " by the interface\n",
                ss->kernel_drops, ss->if_drops);
}
