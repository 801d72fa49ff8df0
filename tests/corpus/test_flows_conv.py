"""Corpus test: `netpeek flows` against tshark's conversations.

For every capture in ../shared/corpus/pcaps, the TCP and UDP flows that
`netpeek flows --format csv` prints are reduced to the conv-tcp / conv-udp
reference columns (addr_a, port_a, addr_b, port_b, frames and wire bytes
each way) and compared with the references exactly, as multisets of lines
(corpus README, "How to compare").

Where netpeek's semantics differ from tshark's by design, the capture is
named in DIFFERENCES with the reason and checked against netpeek's own rule
(see there); all of its rows are still compared exactly.
"""
import csv
import io
import os
import subprocess
import sys

from corpus_util import corpus_dir, read_ref, pcaps, summary

NETPEEK = sys.argv[1]

# Captures where netpeek splits a tshark conversation by design: an idle
# timeout in capture time ends a flow, and later frames on the same 5-tuple
# start a new one (tshark keeps one conversation per 5-tuple). For each, the
# test checks netpeek's own rule instead of plain equality:
#   1. the flows of every 5-tuple add up exactly to tshark's row;
#   2. every split sits at an idle gap at least as long as the timeout of the
#      flow's protocol (next first_seen - previous last_seen);
#   3. with the timeouts raised (the listed options), the whole file equals
#      the reference exactly.
DIFFERENCES = {
    "dns-mixed__DnsPackets.pcap":
        "UDP 10.0.0.1:52532 <-> 10.0.0.138:53 is idle for 339 s between two DNS "
        "exchanges, longer than the 180 s UDP timeout",
    "ipv6-frags-udp__ip6_fragments.pcap":
        "UDP [fe80::2c23:b96c:78d:e116]:60245 -> [ff02::c]:3702 sends two datagrams "
        "368 s apart, longer than the 180 s UDP timeout",
    "synack-retransmission-tls__wechat.pcap":
        "mDNS (5353) and NetBIOS (138) announcements repeat with idle gaps over the "
        "180 s UDP timeout",
    "pcapng-2if-ether-sll-snaplen__pcapng-example.pcapng":
        "frame 2 carries a timestamp in 2061; capture time (the largest timestamp seen) "
        "jumps 46 years, so the connection's first SYN, stamped 2015, times out alone",
}
# Captures where one row differs by a decoding choice, documented in the
# decoder: capture -> (reason, kind, tshark's row, netpeek's row). The rest of
# the file is compared as usual.
ROW_DIFFERENCES = {
    "ipv6-dstopts-mobility__ipv6-mobility-dst-opts.pcap": (
        "in frame 1 a destination option runs past its header; tshark stops there, "
        "netpeek counts anom_ipv6_bad_option and, the header's own length being sound, "
        "decodes the UDP datagram after it (tests/decode/test_decode_corpus.c)",
        "conv-udp",
        "2001:4f8:4:7:2e0:81ff:fe52:9a6b\t13000\t2001:4f8:4:7:2e0:81ff:fe52:ffff\t30000\t0\t0\t1\t90",
        "2001:4f8:4:7:2e0:81ff:fe52:9a6b\t13000\t2001:4f8:4:7:2e0:81ff:fe52:ffff\t30000\t0\t0\t2\t180"),
}
RAISED = ["--flow-timeout-tcp", "2000000000", "--flow-timeout-udp", "2000000000"]
TIMEOUT_S = {"tcp": 600, "udp": 180}


def flows_of(path, extra=()):
    r = subprocess.run([NETPEEK, "flows", "-q", "--format", "csv", "-r", path, *extra],
                       capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"netpeek flows exit {r.returncode}: {r.stderr.decode()[:400]}")
    return list(csv.DictReader(io.StringIO(r.stdout.decode())))


def conv_rows(flows, proto):
    out = []
    for f in flows:
        if f["protocol"] != proto:
            continue
        out.append("\t".join([f["endpoint_a_ip"], f["endpoint_a_port"], f["endpoint_b_ip"],
                              f["endpoint_b_port"], f["packets_a_to_b"], f["bytes_a_to_b"],
                              f["packets_b_to_a"], f["bytes_b_to_a"]]))
    return sorted(out, key=lambda s: s.encode())


def rfc3339_ns(t):
    """'2015-01-29T10:39:58.578402281Z' -> nanoseconds since the epoch."""
    import calendar
    import time
    secs = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000000000 + int(t[20:29])


def check_splits(name, flows, proto, ref):
    """Rules 1 and 2 above; returns a list of problems."""
    problems = []
    groups = {}
    for f in flows:
        if f["protocol"] == proto:
            key = (f["endpoint_a_ip"], f["endpoint_a_port"], f["endpoint_b_ip"],
                   f["endpoint_b_port"])
            groups.setdefault(key, []).append(f)
    merged = []
    for key, fs in groups.items():
        tot = [sum(int(f[c]) for f in fs) for c in
               ("packets_a_to_b", "bytes_a_to_b", "packets_b_to_a", "bytes_b_to_a")]
        merged.append("\t".join([*key, *map(str, tot)]))
        fs.sort(key=lambda f: rfc3339_ns(f["first_seen"]))
        for prev, nxt in zip(fs, fs[1:]):
            gap = rfc3339_ns(nxt["first_seen"]) - rfc3339_ns(prev["last_seen"])
            if prev["end_reason"] != "timeout" or gap < TIMEOUT_S[proto] * 10**9:
                problems.append(f"{key}: split after {prev['end_reason']} with a gap of "
                                f"{gap / 1e9:.3f} s")
    extra, missing = multiset_diff(sorted(merged), ref)
    if extra or missing:
        problems.append(f"merged flows differ: ours {extra[:3]} reference {missing[:3]}")
    return problems


def multiset_diff(ours, ref):
    from collections import Counter
    a, b = Counter(ours), Counter(ref)
    return sorted((a - b).elements()), sorted((b - a).elements())


def main():
    root = corpus_dir()
    passed = failed = 0
    for name in pcaps(root):
        path = os.path.join(root, "pcaps", name)
        try:
            flows = flows_of(path)
        except Exception as e:  # noqa: BLE001 - report and count every failure
            print(f"FAIL {name}: {e}")
            failed += 1
            continue
        ok = True
        for kind, proto in (("conv-tcp", "tcp"), ("conv-udp", "udp")):
            ref = sorted(read_ref(os.path.join(root, "reference", f"{name}.{kind}.tsv")),
                         key=lambda s: s.encode())
            ours = conv_rows(flows, proto)
            if name in DIFFERENCES:
                problems = check_splits(name, flows, proto, ref)
                ours = conv_rows(flows_of(path, RAISED), proto)
                for p in problems:
                    print(f"FAIL {name} {kind} (named: {DIFFERENCES[name]}): {p}")
                    ok = False
            if name in ROW_DIFFERENCES and ROW_DIFFERENCES[name][1] == kind:
                _, _, theirs, mine = ROW_DIFFERENCES[name]
                if theirs not in ref:
                    print(f"FAIL {name} {kind}: the named reference row is gone: {theirs}")
                    ok = False
                else:
                    ref = sorted([mine if r == theirs else r for r in ref],
                                 key=lambda s: s.encode())
            extra, missing = multiset_diff(ours, ref)
            if extra or missing:
                ok = False
                print(f"FAIL {name} {kind}: {len(extra)} rows only in netpeek, "
                      f"{len(missing)} only in the reference")
                for r in extra[:5]:
                    print(f"   netpeek:   {r}")
                for r in missing[:5]:
                    print(f"   reference: {r}")
        if ok:
            passed += 1
        else:
            failed += 1
    return summary(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
