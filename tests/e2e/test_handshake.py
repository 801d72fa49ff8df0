"""`netpeek handshake` on capture files, against counts computed here.

- samples/sample.pcap: the exact per-session lines and summary (four
  successes, one reject; IPv4 and IPv6), with --local, with several named
  filters and exclusion filters anywhere on the line, and -q.
- Corpus captures (../shared/corpus; skipped outside CI when missing): every
  session and its outcome, DUP SYN and DUP S/A, compared with a model of the
  documented rules (docs/cli.md, "netpeek handshake") run over tshark's
  fields of the TCP segments (tshark -Y 'tcp && !icmp && !icmpv6', so the
  segments ICMP errors quote are not read as TCP). The model: a SYN with no
  session in progress starts one; a SYN with its sequence number is a DUP
  SYN; the server's SYN/ACK acknowledging it moves it on, a SYN/ACK with that
  sequence number again is a DUP S/A; an RST either way rejects; the client's
  ACK of the SYN/ACK is a success; a session whose last SYN or SYN/ACK is
  -t seconds old when one of its segments arrives, or at the end of the
  file, timed out.
- Usage errors: one line, exit 2; other commands still refuse positional
  arguments.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile

NETPEEK = sys.argv[1]
ROOT = sys.argv[2]
SAMPLE = os.path.join(ROOT, "samples", "sample.pcap")
ENV = dict(os.environ, TZ="UTC")

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else ': ' + str(detail)}")


def run(*args):
    r = subprocess.run([NETPEEK, "handshake", *args], capture_output=True, text=True, env=ENV,
                       timeout=120)
    return r.returncode, r.stdout, r.stderr


def lines_of(err):
    """The per-session lines: (src, dst, result, dupsyn, dupsynack)."""
    out = []
    for l in err.splitlines():
        cells = [c.strip() for c in l.split("|")]
        if len(cells) != 5 or cells[0] == "TIME(s)":
            continue
        src, dst = cells[2].split()
        dups = cells[4].split()
        out.append((src, dst, cells[3], int(dups[0]), int(dups[1])))
    return out


def counts_of(err):
    """{filter: {Success, Failure, ...}} from the summary."""
    res, cur, in_sum = {}, None, False
    for l in err.splitlines():
        if "TCPEEK SUMMARY" in l:
            in_sum = True
            continue
        if not in_sum or l.startswith("---") or l.startswith("==="):
            continue
        s = l.strip()
        if l.startswith(" ") and not l.startswith("  ") and ":" not in s:
            cur = s
            res[cur] = {}
        elif cur and ":" in s:
            k, v = s.split(":", 1)
            res[cur][k.strip()] = int(v.split()[0])
    return res


# ---- the bundled sample ----

SAMPLE_LINES = [
    ("192.0.2.1:51292", "192.0.2.2:8080", "success", 0, 0),
    ("192.0.2.1:51296", "192.0.2.2:8080", "success", 0, 0),
    ("[2001:db8::1]:60834", "[2001:db8::2]:8080", "success", 0, 0),
    ("192.0.2.1:34700", "192.0.2.2:81", "failure (reject)", 0, 0),
    ("192.0.2.1:51312", "192.0.2.2:8080", "success", 0, 0),
]

rc, out, err = run("-r", SAMPLE, "--local", "192.0.2.2", "--local", "[2001:db8::2]/128")
check("sample: exit 0, nothing on stdout", rc == 0 and out == "", (rc, out, err))
check("sample: the per-session lines", lines_of(err) == SAMPLE_LINES, lines_of(err))
c = counts_of(err)
check("sample: RX counts", c.get("RX", {}).get("Success") == 4 and c["RX"].get("Failure") == 1
      and c["RX"].get("Connection Rejected") == 1 and c["RX"].get("Connection Timed Out") == 0,
      c)
check("sample: TX counts nothing (the clients are not local)",
      c.get("TX", {}).get("Success") == 0 and c["TX"].get("Failure") == 0, c)
HEADER = (" TIME(s) |       TIMESTAMP       | " + "SRC IP".rjust(41) + ":PORT  "
          + "DST IP".rjust(41) + ":PORT  |      RESULTS      | DUP SYN  DUP S/A")
check("sample: the header is tcpeek's, with address cells 41 wide",
      HEADER + "\n" + "-" * len(HEADER) + "\n" in err, err)
check("sample: an IPv4 line is tcpeek's layout, with address cells 41 wide",
      "   0.000 | 26-11-22 23:26:07.325 | " + "192.0.2.1".rjust(41) + ":34700 "
      + "192.0.2.2".rjust(41) + ":81    | failure (reject)  |       0        0\n" in err, err)
check("sample: an IPv6 line has the same layout and width",
      "   0.000 | 26-11-22 23:26:07.290 | " + "[2001:db8::1]".rjust(41) + ":60834 "
      + "[2001:db8::2]".rjust(41) + ":8080  |      success      |       0        0\n" in err
      and {len(l) for l in err.splitlines() if l.count("|") == 4} == {len(HEADER)}, err)
check("sample: the summary's pcap stats",
      " pcap stats\n   recv   : 76\n   drop   : 0\n   ifdrop : 0\n" in err, err)
check("sample: no ICMP line without --icmp", "ICMP Unreachable" not in err, err)
check("sample: from, to and time in capture time",
      "     from : 2026-11-22 23:26:06\n       to : 2026-11-22 23:26:07\n"
      "     time :         1.616 (sec)\n" in err, err)

rc, out, err = run("-r", SAMPLE, "--local", "192.0.2.1", "--icmp", "-q", ":TX@*:81",
                   "web:TX@192.0.2.0/24:8080:81", "all:ANY@*:*", "v6:ANY@[2001:db8::]/32:%",
                   ":ANY@[2001:db8::2]:1")
c = counts_of(err)
check("filters: -q prints no session line", rc == 0 and lines_of(err) == [], err)
check("filters: named filters in order",
      list(c) == ["web", "all", "v6", "pcap stats"], list(c))
check("filters: the exclusion removes the port-81 reject from every filter",
      c["web"]["Success"] == 3 and c["web"]["Failure"] == 0 and c["all"]["Success"] == 4
      and c["all"]["Failure"] == 0, c)
check("filters: ANY with an IPv6 prefix", c["v6"]["Success"] == 1, c)
check("filters: --icmp adds the ICMP line", c["web"].get("ICMP Unreachable") == 0, c)

rc, out, err = run("-r", SAMPLE, "--local", "192.0.2.2", "-t", "0.5", "all:RX@192.0.2.1:*")
check("filters: RX by client address", counts_of(err)["all"]["Success"] == 3, err)

rc, out, err = run("-r", SAMPLE)
check("no --local with files: RX and TX count nothing",
      rc == 0 and counts_of(err)["RX"]["Success"] == 0 and counts_of(err)["TX"]["Failure"] == 0,
      err)

# ---- usage errors ----

for args, says in [
    (["-r", SAMPLE, "web:XX@*:80"], "direction 'XX'"),
    (["-r", SAMPLE, "web:RX@*:http"], "'http' is not a port"),
    (["-r", SAMPLE, "web:RX@2001:db8::1:80"], "brackets"),
    (["-r", SAMPLE, "--local", "300.0.0.1"], "--local"),
    (["-r", SAMPLE, "-c", "3"], "out of range"),
    (["-r", SAMPLE, "-l", "loud"], "syslog level"),
    (["-r", SAMPLE, "-t", "0"], "more than 0"),
    (["web:RX@*:80"], "no input"),
]:
    rc, out, err = run(*args)
    check(f"usage: {' '.join(args[2:] or args)} -> exit 2, one line",
          rc == 2 and err.count("\n") == 1 and says in err, (rc, err))
r = subprocess.run([NETPEEK, "flows", "-r", SAMPLE, "extra"], capture_output=True, text=True)
check("other commands still refuse positional arguments",
      r.returncode == 2 and "unexpected argument 'extra'" in r.stderr, r.stderr)
rc, out, err = run("--help")
check("--help lists the expression syntax", rc == 0 and "RX|TX|ANY@" in out, out)


# ---- corpus captures against a model over tshark's fields ----

def corpus_root():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("NETPEEK_CORPUS") or os.path.join(here, "..", "..", "..", "shared",
                                                            "corpus")
    return os.path.normpath(root)


FIELDS = ["frame.time_epoch", "vlan.id", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
          "ipv6.dst", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw"]


def fmt_ep(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def model(path, timeout_ns):
    """The sessions of path by the documented rules: (src, dst, result, dups)."""
    args = ["tshark", "-r", path, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields",
            "-E", "occurrence=f"]
    for f in FIELDS:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    sess, done = {}, []
    now = 0

    def end(key, s, result, t):
        done.append((s["first"], len(done), (fmt_ep(*s["client"]), fmt_ep(*s["server"]),
                                             result, s["dupsyn"], s["dupsynack"])))
        del sess[key]

    for line in out.splitlines():
        ts, vlan, s4, s6, sp, d4, d6, dp, flags, seq, ack = (line.split("\t") + [""] * 11)[:11]
        sec, _, frac = ts.partition(".")
        t = int(sec) * 10**9 + int((frac + "000000000")[:9])
        now = max(now, t)
        src, dst = (s4 or s6, int(sp)), (d4 or d6, int(dp))
        flags, seq, ack = int(flags, 16) & 0x17, int(seq), int(ack)
        key = (vlan, frozenset([src, dst]))
        s = sess.get(key)
        if s and s["last"] + timeout_ns <= now:
            end(key, s, "failure (timeout)", 0)
            s = None
        if s is None:
            if flags == 0x02:
                sess[key] = dict(client=src, server=dst, syn=seq, first=t, last=now, state=1,
                                 sa=None, dupsyn=0, dupsynack=0)
            continue
        from_client = src == s["client"]
        if flags & 0x04:
            end(key, s, "failure (reject)", t)
        elif from_client and flags == 0x02:
            if seq == s["syn"]:
                s["dupsyn"] += 1
                s["last"] = now
        elif from_client and flags in (0x10, 0x11):
            if s["state"] == 2 and ack == (s["sa"] + 1) % 2**32:
                end(key, s, "success", t)
        elif not from_client and flags == 0x12:
            if s["state"] == 1 and ack == (s["syn"] + 1) % 2**32:
                s["state"], s["sa"], s["last"] = 2, seq, now
            elif s["state"] == 2 and seq == s["sa"]:
                s["dupsynack"] += 1
                s["last"] = now
    for key, s in sorted(sess.items(), key=lambda kv: kv[1]["last"]):
        end(key, s, "failure (timeout)", 0)
    return [x[2] for x in done]


root = corpus_root()
if not os.path.isdir(os.path.join(root, "pcaps")):
    if os.environ.get("CI") == "true":
        check("corpus present (CI=true)", False, root)
    else:
        print(f"corpus not found at {root}: corpus checks skipped")
else:
    for name, t in [("portscan-nmap-syn__synscan.pcap", "60"),
                    ("portscan-nmap-syn__synscan.pcap", "0.2"),
                    ("syn-retransmission-timeout__option-sack.pcap", "60"),
                    ("syn-then-rst__syn-then-rst.pcap", "60"),
                    ("synack-retransmission-tls__wechat.pcap", "60"),
                    ("tcp-dup-ooo-synack-retx__ctu-64702-888.pcap", "60"),
                    ("synflood-200-syns__tcp-session-syn-flood.pcap", "60"),
                    ("ipv6-http-chunked__four_ipv6_http_streams.pcap", "60"),
                    ("sll2-tcp__sll2.pcap", "60"),
                    ("sll-nsec-tcp-handshake__tcp-handshake-nano.pcap", "60"),
                    ("http-browsing-keepalive__bro.org.pcap", "60")]:
        path = os.path.join(root, "pcaps", name)
        if not os.path.exists(path):
            check(f"{name}: present", False)
            continue
        want = model(path, int(float(t) * 1e9))
        rc, out, err = run("-r", path, "-t", t, "all:ANY@*:*")
        got = lines_of(err)
        # Sessions ending at the same moment (end of input) may come in any order.
        check(f"{name} -t {t}: {len(want)} sessions, outcomes and DUP counts as the model",
              rc == 0 and sorted(got) == sorted(want),
              (rc, [x for x in got if x not in want][:3], [x for x in want if x not in got][:3]))
        c = counts_of(err).get("all", {})
        n = {r: sum(1 for x in want if x[2] == r) for r in
             ("success", "failure (reject)", "failure (timeout)")}
        check(f"{name} -t {t}: summary counts",
              c.get("Success") == n["success"]
              and c.get("Connection Rejected") == n["failure (reject)"]
              and c.get("Connection Timed Out") == n["failure (timeout)"]
              and c.get("Failure") == n["failure (reject)"] + n["failure (timeout)"]
              and c.get("SYN Segment Duplicate") == sum(x[3] for x in want if x[2] == "success")
              and c.get("S/A Segment Duplicate") == sum(x[4] for x in want if x[2] == "success"),
              (c, n))
    # Quoted SYNs that the capture does not hold are no session.
    path = os.path.join(root, "pcaps", "icmp-unreach-for-syn-browsing__instagram.pcap")
    if os.path.exists(path):
        rc, out, err = run("-r", path, "--icmp", "all:ANY@*:*")
        check("instagram --icmp: unreachables quoting SYNs not captured end nothing",
              rc == 0 and counts_of(err)["all"]["ICMP Unreachable"] == 0
              and sorted(lines_of(err)) == sorted(model(path, 60 * 10**9)), err)


# ---- ICMP and ICMPv6 unreachable on a capture made here ----

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s & 0xffff).to_bytes(2, "big")


def ip4(src, dst, proto, payload):
    h = bytearray(b"\x45\0" + (20 + len(payload)).to_bytes(2, "big") + b"\0" * 4
                  + bytes([64, proto]) + b"\0\0" + socket.inet_aton(src) + socket.inet_aton(dst))
    h[10:12] = csum(bytes(h))
    return b"\x08\x00" + bytes(h) + payload


def ip6(src, dst, nh, payload):
    return (b"\x86\xdd\x60\0\0\0" + len(payload).to_bytes(2, "big") + bytes([nh, 64])
            + socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
            + payload)


def tcp(src, dst, sport, dport, flags, seq, v6=False):
    seg = bytearray(sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + seq.to_bytes(4, "big")
                    + b"\0" * 4 + bytes([0x50, flags]) + b"\xff\xff" + b"\0" * 4)
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    if v6:  # RFC 8200 section 8.1
        tail = len(seg).to_bytes(4, "big") + b"\0\0\0\x06"
    else:  # RFC 793
        tail = b"\0\x06" + len(seg).to_bytes(2, "big")
    pseudo = socket.inet_pton(fam, src) + socket.inet_pton(fam, dst) + tail
    seg[16:18] = csum(pseudo + bytes(seg))
    return bytes(seg)


def unreach4(router, src, dst, sport, dport, seq):
    quoted = ip4(src, dst, 6, tcp(src, dst, sport, dport, 2, seq))[2:30]
    icmp = bytearray(b"\x03\x03\0\0\0\0\0\0" + quoted)
    icmp[2:4] = csum(bytes(icmp))
    return ip4(router, src, 1, bytes(icmp))


def unreach6(router, src, dst, sport, dport, seq):
    quoted = ip6(src, dst, 6, tcp(src, dst, sport, dport, 2, seq, True))[2:50]
    icmp = bytearray(b"\x01\x04\0\0\0\0\0\0" + quoted)
    pseudo = (socket.inet_pton(socket.AF_INET6, router) + socket.inet_pton(socket.AF_INET6, src)
              + len(icmp).to_bytes(4, "big") + b"\0\0\0\x3a")
    icmp[2:4] = csum(pseudo + bytes(icmp))
    return ip6(router, src, 58, bytes(icmp))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, body in enumerate(frames):
            data = b"\x02" * 6 + b"\x04" * 6 + body
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(data), len(data)) + data)


with tempfile.TemporaryDirectory() as tmp:
    cap = os.path.join(tmp, "unreach.pcap")
    write_pcap(cap, [
        ip4("10.0.0.1", "192.0.2.50", 6, tcp("10.0.0.1", "192.0.2.50", 40000, 80, 2, 1000)),
        ip4("10.0.0.1", "192.0.2.51", 6, tcp("10.0.0.1", "192.0.2.51", 40001, 80, 2, 2000)),
        # quoting another sequence number: not this session's SYN
        unreach4("192.0.2.254", "10.0.0.1", "192.0.2.51", 40001, 80, 2999),
        unreach4("192.0.2.254", "10.0.0.1", "192.0.2.50", 40000, 80, 1000),
        ip6("2001:db8::1", "2001:db8:9::9", 6,
            tcp("2001:db8::1", "2001:db8:9::9", 40002, 22, 2, 7, True)),
        unreach6("2001:db8:9::1", "2001:db8::1", "2001:db8:9::9", 40002, 22, 7),
    ])
    for c_level in ("0", "2"):
        rc, out, err = run("-r", cap, "--icmp", "-c", c_level, "--local", "10.0.0.1",
                           "--local", "2001:db8::1")
        c = counts_of(err).get("TX", {})
        check(f"made capture --icmp -c {c_level}: ICMP and ICMPv6 unreachables quoting the SYN",
              rc == 0 and c.get("ICMP Unreachable") == 2 and c.get("Connection Timed Out") == 1
              and c.get("Failure") == 3 and "bad checksums" not in err, err)
        check(f"made capture --icmp -c {c_level}: the lines",
              sorted(lines_of(err)) == sorted([
                  ("10.0.0.1:40000", "192.0.2.50:80", "failure (unreach)", 0, 0),
                  ("10.0.0.1:40001", "192.0.2.51:80", "failure (timeout)", 0, 0),
                  ("[2001:db8::1]:40002", "[2001:db8:9::9]:22", "failure (unreach)", 0, 0)]),
              lines_of(err))
    rc, out, err = run("-r", cap, "--local", "10.0.0.1", "--local", "2001:db8::1")
    check("made capture without --icmp: three timeouts",
          counts_of(err).get("TX", {}).get("Connection Timed Out") == 3, err)

print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if all(results) else 1)
