"""Corpus test: `netpeek sample` against an independent reference model.

`netpeek sample -n N -r FILE -o OUT` writes the first N packets of every TCP
session of FILE into OUT. For every capture in ../shared/corpus/pcaps and
N in {1, 3, 10} this test

1. reads tshark's per-frame view of the capture once (the corpus README's
   preferences: -n, IPv4/IPv6 defragmentation on, ...): protocol chain,
   addresses, ports, flags, raw sequence and acknowledgement numbers,
   payload length, VLAN tags, and the frames of reassembled IP datagrams;
2. computes the set of frame numbers to be written with the reference model
   below (expected_frames), written from the command's specification only,
   never from netpeek's code;
3. runs netpeek and reads OUT with capfile.py (an independent pcap/pcapng
   reader; it is cross-checked against tshark on every input: frame count,
   timestamps, captured and wire lengths);
4. compares OUT's records, as a list, with the input's records of those
   frames in input order: timestamp (at the output's precision), captured
   length, wire length, link type and SHA-256 of the bytes, all exactly;
   and checks the container: pcap when the input has one link type, pcapng
   when it mixes link types; nanosecond timestamps when the input has any,
   else microseconds.

It also checks `--format pcapng` (N = 3: same records, pcapng container) and
`--midstream` (every N) on every capture.

The reference model (expected_frames), rule by rule:

- Which frames are TCP packets: tshark's protocol chain is read from the
  outside in (corpus README, "Which headers count"); the first `tcp`, `udp`,
  `icmp` or `icmpv6` decides. Only a frame whose first one is `tcp` is a TCP
  packet; its addresses are those of the last `ip`/`ipv6` before it. So an
  ICMP/ICMPv6 error quoting a TCP segment is no packet of any session, and
  TCP carried in a UDP tunnel (sFlow samples in
  http-tcp-reassembly__tcp-reassembly.pcap) is not TCP either.
- Session key: VLAN id of the outermost 802.1Q/802.1ad tag (none when
  untagged), and the two (address, port) endpoints in either order.
- A session starts at a SYN (SYN set, ACK clear). Packets of a connection
  whose SYN was not seen are not written (with --midstream: the first packet
  seen of a connection that has no session starts one).
- Its first N packets, both directions, in input order, are written.
- IP fragments: tshark shows the reassembled segment in the frame that
  completes the datagram and lists the datagram's frames in
  ip.fragment/ipv6.fragment; that segment is one packet, and all the listed
  frames are written when it is. Fragments of datagrams that never complete
  carry no TCP header in tshark's view and are never written.
- The session ends (closed) at an RST (which is its packet), or at the ACK
  that acknowledges the second FIN (its packet): each side's FIN is acknowledged
  by an ACK-flagged segment from the other side with
  (ack - (fin_seq + 1)) mod 2^32 >= 0 read as signed 32-bit, where fin_seq =
  seq + tcp.len (+ 1 if the FIN segment also has SYN) of the first FIN of
  that side; raw (absolute) numbers. A FIN makes the session closing.
- Idle timeout: capture time is the largest timestamp seen so far over all
  frames (docs/architecture.md); a session whose last packet was seen at
  capture time L is over once capture time exceeds L + 60 s (strictly; the
  corpus gap closest to 60 s is 60.16 s, the self-test's 59.99 and 60.1 s,
  so exactly 60 s is left open). An idle session, open or closed, is
  forgotten: the next SYN on its key starts a new session whatever its
  sequence number; other packets are not written (with --midstream they
  start a new session). Packets of a closed session that are not written do
  not delay that.
- A SYN with a sequence number other than the session's initial SYN's, on a
  closing or closed session, starts a new session (sampled again). A SYN
  with the same number (a retransmission) is a packet of a session that is
  still open (or closing), and is not written after the session closed. A
  SYN with another number on an open, not closing, session is one of its
  packets. After a close, all packets but such a new SYN are not written
  (also with --midstream: the connection is not "under way", it is over).

Captures where netpeek's documented semantics differ from tshark's view
would be named in NAMED with the reason and exact expected frames; none is
at present: every capture is checked against the model as is.
"""
import os
from fractions import Fraction
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capfile  # noqa: E402
from capfile import truncate  # noqa: E402
from corpus_util import corpus_dir, pcaps, summary  # noqa: E402

NS = (1, 3, 10)
TIMEOUT_NS = 60 * 10**9
WORKERS = 2

PREFS = """-n
  -o tcp.desegment_tcp_streams:TRUE
  -o tcp.reassemble_out_of_order:FALSE
  -o tcp.analyze_sequence_numbers:TRUE
  -o tcp.check_checksum:FALSE
  -o udp.check_checksum:FALSE
  -o ip.defragment:TRUE
  -o ipv6.defragment:TRUE
  -o http.desegment_headers:TRUE
  -o http.desegment_body:TRUE
  -o http.dechunk_body:TRUE
  -o http.decompress_body:TRUE
  -o tls.desegment_ssl_records:TRUE
  -o tls.desegment_ssl_application_data:TRUE
  -o dns.desegment_dns_messages:TRUE
  -o websocket.decompress:TRUE""".split()

FIELDS = ["frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.protocols",
          "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport", "tcp.dstport",
          "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "vlan.id", "ieee8021ad.id",
          "ip.fragment", "ipv6.fragment"]

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10

# Captures where netpeek's documented semantics and tshark's view differ:
# name -> (reason, {run label: exact expected frame numbers}), run labels as
# in check_file ("-n 3", "-n 10 --midstream", ...); the listed runs of that
# capture use these instead of the model's, everything else as usual. Empty:
# no capture needs it (checked: no frame that tshark decodes as TCP is
# malformed or has a cut TCP header; the only TCP in a tunnel is inside
# sFlow samples over UDP, which is UDP for netpeek too; no TCP segment's
# length is limited by a short frame on a FIN).
NAMED = {}

# Timestamps that 64-bit nanoseconds cannot hold (past 2554-07-21): netpeek
# takes them as the largest representable time and counts them
# (anom_ts_out_of_range; docs/formats.md). Captures where this happens:
TS_SATURATED = {
    "pcapng-2if-ether-sll-snaplen__pcapng-example.pcapng":
        "interface 1 stamps frames 60-159 with 0xffffffffe1dfd279... microseconds, "
        "about 1.8e13 s after 1970",
}
TS_MAX = Fraction(2**64 - 1, 10**9)


# ---------------------------------------------------------------------------
# tshark's view of the input

class Tcp:
    """One TCP packet of tshark's view: a frame whose first transport header
    is TCP (for a reassembled IP datagram, the frame that completes it)."""
    __slots__ = ("key", "src", "flags", "seq", "ack", "len", "frames")

    def __init__(self, key, src, flags, seq, ack, length, frames):
        self.key, self.src, self.flags = key, src, flags
        self.seq, self.ack, self.len, self.frames = seq, ack, length, frames


class Frame:
    __slots__ = ("num", "ts", "len", "cap_len", "tcp")

    def __init__(self, num, ts, length, cap_len, tcp):
        self.num, self.ts, self.len, self.cap_len, self.tcp = num, ts, length, cap_len, tcp


def epoch_ns(s):
    """tshark's frame.time_epoch ('1361916274.458646000') -> integer ns."""
    neg = s.startswith("-")
    sec, _, frac = s.lstrip("-").partition(".")
    v = int(sec) * 10**9 + int((frac + "000000000")[:9])
    return -v if neg else v


def frame_of(cols):
    """A Frame from one line of tshark's fields output (FIELDS order)."""
    f = dict(zip(FIELDS, cols + [""] * (len(FIELDS) - len(cols))))
    vals = {k: (v.split(",") if v else []) for k, v in f.items()}
    num = int(f["frame.number"])
    toks = f["frame.protocols"].split(":")
    first = next((i for i, t in enumerate(toks) if t in ("tcp", "udp", "icmp", "icmpv6")), None)
    tcp = None
    if first is not None and toks[first] == "tcp":
        before = toks[:first]
        nets = [t for t in before if t in ("ip", "ipv6")]
        net = nets[-1]
        idx = nets.count(net) - 1
        src = vals[net + ".src"][idx]
        dst = vals[net + ".dst"][idx]
        tags = [t for t in before if t in ("vlan", "ieee8021ad")]
        vlan = None
        if tags:
            vlan = int(vals["vlan.id" if tags[0] == "vlan" else "ieee8021ad.id"][0])
        a = (src, int(vals["tcp.srcport"][0]))
        b = (dst, int(vals["tcp.dstport"][0]))
        frames = {int(x) for x in vals["ip.fragment"] + vals["ipv6.fragment"]} | {num}
        tcp = Tcp((vlan,) + tuple(sorted((a, b))), a, int(vals["tcp.flags"][0], 16),
                  int(vals["tcp.seq_raw"][0]), int(vals["tcp.ack_raw"][0]),
                  int(vals["tcp.len"][0]), frames)
    return Frame(num, epoch_ns(f["frame.time_epoch"]), int(f["frame.len"]),
                 int(f["frame.cap_len"]), tcp)


def tshark_frames(path):
    env = dict(os.environ, LC_ALL="C")
    with tempfile.TemporaryDirectory() as cfg:
        env["WIRESHARK_CONFIG_DIR"] = cfg
        args = ["tshark", "-r", path, *PREFS, "-T", "fields", "-E", "occurrence=a",
                "-E", "aggregator=,"]
        for fld in FIELDS:
            args += ["-e", fld]
        r = subprocess.run(args, capture_output=True, env=env, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"tshark exit {r.returncode}")
    return [frame_of(line.split("\t")) for line in r.stdout.decode().split("\n") if line]


# ---------------------------------------------------------------------------
# The reference model

def s32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


class Session:
    __slots__ = ("isn", "closing", "closed", "count", "last", "fin", "acked")

    def __init__(self, isn, now):
        self.isn = isn            # sequence number of the initial SYN (None: midstream)
        self.closing = False      # a FIN was seen
        self.closed = False       # FINs of both sides acknowledged, or an RST
        self.count = 0            # packets so far
        self.last = now           # capture time at the last packet
        self.fin = {}             # endpoint -> fin_seq + 1 of its first FIN
        self.acked = set()        # endpoints whose FIN was acknowledged


def expected_frames(frames, n, midstream=False, timeout_ns=TIMEOUT_NS):
    """Frame numbers `netpeek sample -n N [--midstream]` writes (module doc)."""
    out = set()
    sessions = {}
    now = None
    for fr in frames:
        now = fr.ts if now is None else max(now, fr.ts)
        t = fr.tcp
        if t is None:
            continue
        s = sessions.get(t.key)
        if s is not None and now - s.last > timeout_ns:
            del sessions[t.key]           # idle: forgotten, open or closed
            s = None
        syn = bool(t.flags & SYN) and not t.flags & ACK
        if s is None:
            start = syn or midstream
        elif s.closing or s.closed:
            start = syn and t.seq != s.isn
        else:
            start = False
        if start:
            s = sessions[t.key] = Session(t.seq if syn else None, now)
        elif s is None or s.closed:
            continue                      # no session, or after its end
        s.count += 1
        s.last = now
        if s.count <= n:
            out |= t.frames
        if t.flags & RST:
            s.closed = True
            continue
        if t.flags & ACK:
            for ep, end in s.fin.items():
                if ep != t.src and s32(t.ack - end) >= 0:
                    s.acked.add(ep)
        if t.flags & FIN:
            s.closing = True
            s.fin.setdefault(t.src, (t.seq + t.len + (1 if t.flags & SYN else 0) + 1) & 0xFFFFFFFF)
        if len(s.acked) == 2:
            s.closed = True
    return out


# ---------------------------------------------------------------------------
# Self-test of the model on handmade frames (tshark-like lines)

def fake(num, t, flags="", seq=0, ack=0, length=0, src="10.0.0.1", sport=1000,
         dst="10.0.0.2", dport=80, chain="eth:ethertype:ip:tcp", vlan="", frags=""):
    """A tshark fields line for a frame at t seconds; flags in tcpdump letters
    (S, F, R, P, A). `chain` with 'icmp' before 'tcp' makes an ICMP error
    (sent by 192.0.2.1) quoting the given segment; chain 'eth:ethertype:ip:data'
    a fragment without transport header."""
    bits = sum(v for k, v in (("F", FIN), ("S", SYN), ("R", RST), ("P", 0x08), ("A", ACK))
               if k in flags)
    ips, ipd = (src, dst)
    if vlan:
        chain = chain.replace("eth:ethertype:", "eth:ethertype:vlan:ethertype:", 1)
    if "icmp" in chain:
        ips, ipd = f"192.0.2.1,{src}", f"{dst},{dst}"
    if "tcp" not in chain:
        return [str(num), f"{t:.9f}", "60", "60", chain, src, dst] + [""] * 12
    return [str(num), f"{t:.9f}", "60", "60", chain, ips, ipd, "", "", str(sport), str(dport),
            f"0x{bits:04x}", str(seq), str(ack), str(length), vlan, "", frags, ""]


def C(num, t, flags, seq, ack=0, length=0, **kw):
    """Client (10.0.0.1:1000) to server."""
    return fake(num, t, flags, seq, ack, length, **kw)


def S(num, t, flags, seq, ack=0, length=0, **kw):
    """Server (10.0.0.2:80) to client."""
    return fake(num, t, flags, seq, ack, length, src="10.0.0.2", sport=80, dst="10.0.0.1",
                dport=1000, **kw)


def handshake_and_close(t0=0.0, isn=100, sisn=5000, first=1):
    """Frames first..first+6: handshake, one data segment each way, FIN/ACK
    from the client, FIN/ACK from the server, final ACK."""
    n = first
    return [C(n, t0, "S", isn), S(n + 1, t0 + .1, "SA", sisn, isn + 1),
            C(n + 2, t0 + .2, "A", isn + 1, sisn + 1),
            C(n + 3, t0 + .3, "PA", isn + 1, sisn + 1, 10),
            C(n + 4, t0 + .4, "FA", isn + 11, sisn + 1),
            S(n + 5, t0 + .5, "FA", sisn + 1, isn + 12),
            C(n + 6, t0 + .6, "A", isn + 12, sisn + 2)]


SCENARIOS = [
    # (name, frames, {N: expected}, midstream expected for N or None)
    ("first N of a session, ended by the ACK of the second FIN",
     handshake_and_close() + [S(8, 1.0, "A", 5002, 112)],   # late ACK: after the end
     {1: {1}, 3: {1, 2, 3}, 10: {1, 2, 3, 4, 5, 6, 7}}, None),
    ("no SYN seen: passed over; --midstream samples from the first packet",
     handshake_and_close()[2:],
     {1: set(), 10: set()}, {1: {3}, 3: {3, 4, 5}, 10: {3, 4, 5, 6, 7}}),
    ("SYN/ACK before the SYN is passed over",
     [S(1, 0.0, "SA", 5000, 101), C(2, 0.1, "S", 100), C(3, 0.2, "A", 101, 5001)],
     {1: {2}, 3: {2, 3}}, None),
    ("retransmitted SYN while open is a packet; after the end it is not written",
     [C(1, 0, "S", 100), C(2, 3, "S", 100), S(3, 3.1, "SA", 5000, 101),
      C(4, 3.2, "R", 101), C(5, 4, "S", 100), S(6, 4.1, "SA", 5000, 101)],
     {1: {1}, 3: {1, 2, 3}, 10: {1, 2, 3, 4}}, {10: {1, 2, 3, 4}}),
    ("new ISN after the FIN exchange starts a new session; retransmitted old SYN does not",
     handshake_and_close() + [C(8, 2.0, "S", 100), C(9, 2.1, "S", 900),
                              S(10, 2.2, "SA", 7000, 901), C(11, 2.3, "A", 901, 7001)],
     {1: {1, 9}, 3: {1, 2, 3, 9, 10, 11}}, None),
    ("new ISN on a closing session (one FIN, never acknowledged) starts a new session",
     [C(1, 0, "S", 100), S(2, .1, "SA", 5000, 101), C(3, .2, "FA", 101, 5001),
      C(4, .3, "S", 800), S(5, .4, "SA", 6000, 801), C(6, .5, "A", 801, 6001)],
     {1: {1, 4}, 3: {1, 2, 3, 4, 5, 6}}, None),
    ("new ISN on an open session (no FIN) is just one of its packets",
     [C(1, 0, "S", 100), S(2, .1, "SA", 5000, 101), C(3, .2, "S", 800), C(4, .3, "A", 101, 5001)],
     {1: {1}, 3: {1, 2, 3}, 10: {1, 2, 3, 4}}, None),
    ("FINs acknowledged out of order; seq wraps past 2^32",
     [C(1, 0, "S", 2**32 - 3), S(2, .1, "SA", 5000, 2**32 - 2),
      C(3, .2, "FA", 2**32 - 2, 5001, 5),          # FIN at 2^32+3 -> 3; acked by >= 4
      S(4, .3, "FA", 5001, 3),                     # does not ack the client's FIN yet
      C(5, .4, "A", 4, 5002),                      # acks the server's FIN
      S(6, .5, "A", 5002, 4),                      # acks the client's FIN: the end
      C(7, .6, "A", 4, 5002)],
     {10: {1, 2, 3, 4, 5, 6}}, {10: {1, 2, 3, 4, 5, 6}}),
    ("an ACK behind the FIN does not acknowledge it, though larger unsigned (signed 32-bit)",
     [C(1, 0, "S", 2**32 - 10), S(2, .1, "SA", 5000, 2**32 - 9),
      C(3, .2, "PA", 2**32 - 9, 5001, 20),        # data wraps past 2^32
      C(4, .3, "FA", 11, 5001),                   # FIN at 11: acknowledged by >= 12
      S(5, .4, "FA", 5001, 2**32 - 1),            # behind the FIN by 13
      C(6, .5, "A", 12, 5002),                    # acknowledges the server's FIN
      S(7, .6, "A", 5002, 12),                    # acknowledges the client's FIN: the end
      C(8, .7, "A", 12, 5002)],
     {10: {1, 2, 3, 4, 5, 6, 7}}, None),
    ("a FIN on a SYN counts one more sequence number; an ack field without the ACK flag "
     "acknowledges nothing",
     [C(1, 0, "SF", 100),                       # FIN at 101: acknowledged by >= 102
      S(2, .1, "SA", 5000, 101),                # does not acknowledge the FIN
      S(3, .2, "F", 5001, 102),                 # no ACK flag: acknowledges nothing
      C(4, .3, "A", 102, 5002),                 # acknowledges the server's FIN
      S(5, .4, "A", 5002, 102),                 # acknowledges the client's FIN: the end
      C(6, .5, "A", 102, 5002)],
     {10: {1, 2, 3, 4, 5}}, None),
    ("RST ends the session and is its packet; then only a new SYN is written",
     [C(1, 0, "S", 100), S(2, .1, "RA", 0, 101), C(3, .2, "A", 101, 1), C(4, .3, "S", 300)],
     {1: {1, 4}, 10: {1, 2, 4}}, {10: {1, 2, 4}}),
    ("a closed session is forgotten 60 s after its last packet: then even the old ISN "
     "starts a new session (a not-written packet does not refresh it)",
     [C(1, 0, "S", 100), S(2, .1, "RA", 0, 101), C(3, 30, "S", 100), C(4, 60.2, "S", 100)],
     {10: {1, 2, 4}}, {10: {1, 2, 4}}),
    ("idle timeout: 60 s of capture time ends the session; a SYN after it starts one, "
     "even with the same ISN",
     [C(1, 0, "S", 100), S(2, 1, "SA", 5000, 101), C(3, 61.5, "A", 101, 5001),
      C(4, 200, "S", 100), S(5, 200.1, "SA", 6000, 101),
      C(6, 260.09, "A", 101, 6001)],             # 59.99 s after frame 5: not idle
     {1: {1, 4}, 10: {1, 2, 4, 5, 6}}, {10: {1, 2, 3, 4, 5, 6}}),
    ("capture time is the largest timestamp so far: a jump ends idle sessions; "
     "other frames advance it too",
     [C(1, 100, "S", 100), S(2, 100.1, "SA", 5000, 101),
      fake(3, 500, chain="eth:ethertype:ip:udp:dns"),  # not TCP, 400 s later
      C(4, 100.2, "A", 101, 5001), C(5, 100.3, "S", 100)],
     {10: {1, 2, 5}}, None),
    ("ICMP error quoting a session's segment is not its packet",
     [C(1, 0, "S", 100), C(2, .1, "S", 100, chain="eth:ethertype:ip:icmp:ip:tcp"),
      S(3, .2, "SA", 5000, 101), C(4, .3, "A", 101, 5001)],
     {1: {1}, 3: {1, 3, 4}}, {3: {1, 3, 4}}),
    ("a segment in IP fragments is one packet; all its fragment frames are written; "
     "fragments of an incomplete datagram never are",
     [C(1, 0, "S", 100), S(2, .1, "SA", 5000, 101),
      fake(3, .2, chain="eth:ethertype:ip:data"), fake(4, .2, chain="eth:ethertype:ip:data"),
      fake(5, .25, chain="eth:ethertype:ip:data"),             # never completed
      C(6, .3, "PA", 101, 5001, 3000, frags="3,4,6"), S(7, .4, "A", 5001, 3101)],
     {1: {1}, 2: {1, 2}, 3: {1, 2, 3, 4, 6}, 10: {1, 2, 3, 4, 6, 7}},
     {3: {1, 2, 3, 4, 6}}),
    ("VLAN id is part of the key; direction does not matter",
     [C(1, 0, "S", 100, vlan="10"), S(2, .1, "SA", 5000, 101, vlan="20"),
      S(3, .2, "SA", 5000, 101, vlan="10")],
     {3: {1, 3}}, {3: {1, 2, 3}}),
    ("TCP in a UDP tunnel is not TCP",
     [C(1, 0, "S", 100, chain="eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:tcp")],
     {3: set()}, {3: set()}),
]


def self_test():
    """Runs SCENARIOS; returns a list of failure lines."""
    fails = []
    for name, lines, exp, mid in SCENARIOS:
        frames = [frame_of(l) for l in lines]
        for midstream, table in ((False, exp), (True, mid or {})):
            for n, want in table.items():
                got = expected_frames(frames, n, midstream)
                if got != want:
                    fails.append(f"self-test '{name}' N={n}{' --midstream' if midstream else ''}: "
                                 f"model gives {sorted(got)}, expected {sorted(want)}")
    return fails


# ---------------------------------------------------------------------------
# Running netpeek and comparing

def run_sample(netpeek, path, out, n, extra=()):
    """Runs netpeek sample; returns (capture or None, problem or None)."""
    if os.path.exists(out):
        os.unlink(out)
    cmd = [netpeek, "sample", "-n", str(n), "-r", path, "-o", out, *extra]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None, "netpeek did not finish in 300 s"
    except OSError as e:
        return None, f"cannot run netpeek: {e}"
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().replace("\n", " | ")[-300:]
        return None, f"exit {r.returncode}: {msg}"
    try:
        return capfile.read(out), None
    except Exception as e:  # noqa: BLE001 - a bad output is a failure, not a crash
        return None, f"output unreadable: {e}"


def decimal(ts):
    """An exact Fraction timestamp as decimal text (9 digits; more if needed)."""
    sign = "-" if ts < 0 else ""
    ts = abs(ts)
    whole = ts.numerator // ts.denominator
    frac = ts - whole
    digits = 9
    while (frac * 10**digits).denominator != 1 and digits < 30:
        digits += 1
    return f"{sign}{whole}.{int(frac * 10**digits):0{digits}d}"


def describe(rec, res=None):
    ts, caplen, wirelen, lt, sha = rec.key(res)
    return f"ts={decimal(ts)} caplen={caplen} len={wirelen} linktype={lt} sha={sha[:12]}"


def compare(inp, out, want_nums, want_format, ns_input, saturate=False):
    """Problems of `out` against the input records `want_nums` (1-based);
    with saturate, input timestamps past 2^64 ns are expected as TS_MAX."""
    problems = []
    if out.format != want_format:
        problems.append(f"output is {out.format}, expected {want_format}")
    ns_res = 10**9 if ns_input else 10**6
    if out.format == "pcap" and out.pcap_res != ns_res:
        problems.append(f"pcap timestamps in 1/{out.pcap_res} s, expected 1/{ns_res} s")
    want = [inp.records[i - 1] for i in sorted(want_nums)]
    got = out.records
    for i, (w, g) in enumerate(zip(want, got)):
        res = g.ts_res
        if out.format == "pcapng" and res not in (ns_res, w.ts_res):
            problems.append(f"record {i + 1} has timestamps in 1/{res} s, expected 1/{ns_res} s "
                            f"(or the input interface's 1/{w.ts_res} s)")
            break
        # Expected timestamp: the input's at the required precision (exact in
        # the output's resolution, which must hold it).
        wk, gk = w.key(ns_res), g.key()
        if saturate and w.ts > TS_MAX:
            wk = (truncate(TS_MAX, g.ts_res),) + wk[1:]
        if wk != gk:
            problems.append(f"record {i + 1}: expected frame {sorted(want_nums)[i]} "
                            f"({describe(w, ns_res)}), got ({describe(g)})")
            break
    if len(want) != len(got):
        problems.append(f"{len(got)} records written, expected {len(want)}")
    return problems


def check_file(args):
    """All checks of one capture: [(label, [problems])]."""
    name, path, netpeek = args
    results = []
    try:
        frames = tshark_frames(path)
        inp = capfile.read(path)
    except Exception as e:  # noqa: BLE001 - report, do not crash
        return [(f"{name}", [f"cannot read the input: {e}"])]
    # The reader must agree with tshark on the input, or nothing below means much.
    if len(frames) != len(inp.records) or any(
            (f.ts, f.len, f.cap_len) != (r.ts_ns, r.wirelen, r.caplen)
            for f, r in zip(frames, inp.records)):
        return [(f"{name}", ["capfile.py and tshark disagree on the input's frames"])]
    # netpeek's rule (docs/cli.md): pcapng input, pcapng output (a pcapng file
    # may announce an interface of another link type after its first
    # packets); pcap input, pcap output.
    want_format = inp.format
    ns_input = any(i.ts_res > 10**6 for i in inp.interfaces)
    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "out.cap")
        runs = [(f"-n {n}", n, (), False) for n in NS]
        runs.append(("-n 3 --format pcapng", 3, ("--format", "pcapng"), False))
        runs += [(f"-n {n} --midstream", n, ("--midstream",), True) for n in NS]
        for label, n, extra, midstream in runs:
            named = NAMED.get(name, (None, {}))[1]
            want = named[label] if label in named else expected_frames(frames, n, midstream)
            fmt = "pcapng" if "pcapng" in extra else want_format
            out, err = run_sample(netpeek, path, out_path, n, extra)
            if err:
                results.append((label, [err]))
                continue
            results.append((label, compare(inp, out, want, fmt, ns_input, name in TS_SATURATED)))
    return results


def main():
    netpeek = sys.argv[1]
    root = corpus_dir()
    passed = failed = 0
    for line in self_test():
        print(f"FAIL {line}")
        failed += 1
    if not failed:
        passed += 1
    jobs = [(name, os.path.join(root, "pcaps", name), netpeek) for name in pcaps(root)]
    with ProcessPoolExecutor(WORKERS) as ex:
        for (name, _, _), results in zip(jobs, ex.map(check_file, jobs)):
            # One line per capture and problem; runs with the same problem
            # (netpeek missing, say) share it. Every run counts.
            by_problem = {}
            for label, problems in results:
                if problems:
                    failed += 1
                    by_problem.setdefault("; ".join(problems), []).append(label)
                else:
                    passed += 1
            for text, labels in by_problem.items():
                print(f"FAIL {name} [{', '.join(labels)}]: {text}")
    return summary(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
