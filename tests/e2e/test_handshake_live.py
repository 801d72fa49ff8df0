"""`netpeek handshake -i` live, in two network namespaces this test creates
and removes (netns.py), IPv4 and IPv6 on one veth pair, against connections
whose outcomes the test fixes with firewall rules (nftables) and socket
options:

  port  what the connect meets                           session
  8080  a server                                         success
  8081  no server: the kernel's RST                      failure (reject)
  8082  a server; the client's first handshake ACK is    success, DUP S/A 1
        dropped on its way out, so the server sends
        its SYN/ACK again (at 1 s) and the client ACKs
        that
  8083  a server that drops the first SYN of each        success, DUP SYN 1
        connection: the client sends it again at 1 s
  8084  reject with ICMP / ICMPv6 port unreachable       failure (unreach)
  8085  reject with ICMP host / ICMPv6 address           failure (unreach)
        unreachable
  8086  every SYN dropped; TCP_SYNCNT 1: the kernel      failure (timeout), DUP SYN 1
        sends one retransmission at 1 s and gives up
        at 3 s (tcp_syn_linear_timeouts, Linux 6.5 on,
        is set to 0 in the client namespace: with its
        default of 4 the SYN would go again at 2 s)
  8089  no server (RST); excluded for IPv6 by an         failure (reject) (IPv4 only)
        exclusion filter

Linux acts on an ICMP error for a connecting socket only if the error does
not arrive while connect() holds the socket, which on a veth pair it often
does: the client then sends its SYN again at 1 s and meets a second ICMP
error. The client namespace drops such a second SYN on its way out, before
any capture sees it, so that each connect to 8084 and 8085 puts exactly one
SYN and one ICMP error on the wire, whenever the kernel takes note of the
error. The server namespace sends ICMP errors without rate limit (by
default Linux sends a host about six at once, then one a second).

Checks:
- live, on the client's interface, with several named filters and an
  exclusion filter: every connect's result; the per-session lines (exact
  cells but TIME(s) and TIMESTAMP, whose formats are checked); the socket's
  JSON (`netpeek stat -j` and a raw GET) byte for byte, with recv equal to
  the packets tcpdump recorded beside it, before and after the traffic;
  REFRESH; on SIGINT exit 0 and the TCPEEK SUMMARY, exactly;
- tcpdump's file, read with -r --local: the same lines, summary and JSON;
  with --local naming the server's addresses and the default filters, RX
  counts everything and TX nothing;
- -u nobody: the socket is mode 0660 and nobody's, in a directory made for
  it and given to nobody; the monitor runs as nobody, still captures and
  answers, and removes the socket at exit. In a root-owned directory that
  was there before, it warns at start that the socket will be left, and it
  is; the next start replaces it.

The monitor's standard error is a pseudo-terminal, so that its "listening
on" line (printed once the capture and the socket are open) and warnings
come there rather than to syslog. Synchronisation is on those lines, on
session lines, on connect results and on socket answers, never on sleeps.
Needs root, iproute2 and nftables (CI has them); elsewhere without root:
skipped."""
import json
import os
import pty
import pwd
import re
import select
import shutil
import signal
import socket
import stat as st
import subprocess
import sys
import tempfile
import time
import tty

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
import capfile  # noqa: E402
from netns import Pair, check, finish, need_root, sh, wait_line  # noqa: E402

NETPEEK = sys.argv[1]
ENV = dict(os.environ, TZ="UTC")
CLI4, SRV4 = "198.51.100.1", "198.51.100.2"
CLI6, SRV6 = "2001:db8::1", "2001:db8::2"
# What netpeek and tcpdump capture: TCP and the ICMP errors, not the
# neighbour discovery and MLD the kernel sends on its own.
BPF = "tcp or icmp or (icmp6 and ip6[40] == 1)"
END = "=" * 36  # the summary's last line

SERVER_PORTS = (8080, 8082, 8083)
# port -> (connect result, session result, DUP SYN, DUP S/A)
OUTCOME = {
    8080: ("hi", "success", 0, 0),
    8081: ("ECONNREFUSED", "failure (reject)", 0, 0),
    8082: ("hi", "success", 0, 1),
    8083: ("hi", "success", 1, 0),
    8084: ("ECONNREFUSED", "failure (unreach)", 0, 0),
    8085: ("EHOSTUNREACH", "failure (unreach)", 0, 0),
    8086: ("ETIMEDOUT", "failure (timeout)", 1, 0),
    8089: ("ECONNREFUSED", "failure (reject)", 0, 0),
}

SERVER_RULES = f"""
table inet np_hs {{
  set seen4 {{ type ipv4_addr . inet_service; flags dynamic; }}
  set seen6 {{ type ipv6_addr . inet_service; flags dynamic; }}
  chain input {{
    type filter hook input priority 0; policy accept;
    ip daddr {SRV4} tcp dport 8084 reject with icmp type port-unreachable
    ip6 daddr {SRV6} tcp dport 8084 reject with icmpv6 type port-unreachable
    ip daddr {SRV4} tcp dport 8085 reject with icmp type host-unreachable
    ip6 daddr {SRV6} tcp dport 8085 reject with icmpv6 type addr-unreachable
    tcp dport 8086 drop
    tcp dport 8083 tcp flags & (syn | ack) == syn jump first_syn
  }}
  # A client's first SYN is dropped and remembered; its second passes.
  chain first_syn {{
    ip saddr . tcp sport != @seen4 add @seen4 {{ ip saddr . tcp sport }} drop
    ip6 saddr . tcp sport != @seen6 add @seen6 {{ ip6 saddr . tcp sport }} drop
  }}
}}
"""
# A connection's ct mark is 0 until its first handshake ACK (8082) or its
# first SYN (8084, 8085) has gone by: that ACK is dropped, and every SYN
# after the first.
CLIENT_RULES = """
table inet np_hs {
  chain output {
    type filter hook output priority 0; policy accept;
    tcp dport 8082 tcp flags & (syn | ack | fin | rst) == ack ct mark 0 ct mark set 1 drop
    tcp dport { 8084, 8085 } tcp flags & (syn | ack) == syn ct mark 1 drop
    tcp dport { 8084, 8085 } tcp flags & (syn | ack) == syn ct mark set 1
  }
}
"""

SERVER = """
import socket, sys, threading
def serve(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((addr, port))
    s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            c.sendall(b"hi")
            c.close()
    threading.Thread(target=loop, daemon=True).start()
for port in %r:
    serve(socket.AF_INET, %r, port)
    serve(socket.AF_INET6, %r, port)
sys.stderr.write("serving\\n")
sys.stderr.flush()
sys.stdin.read()
""" % (SERVER_PORTS, SRV4, SRV6)

# argv[1]: [[client addr, client port, server addr, server port], ...];
# connects to all at once and prints each result: what the server sent, or
# the error's name.
CLIENT = """
import errno, json, socket, sys, threading
jobs = json.loads(sys.argv[1])
out = [None] * len(jobs)
def one(i, caddr, cport, saddr, sport):
    fam = socket.AF_INET6 if ":" in caddr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    s.settimeout(20)
    try:
        s.bind((caddr, cport))
        s.connect((saddr, sport))
        got = b""
        while True:
            b = s.recv(16)
            if not b:
                break
            got += b
        out[i] = got.decode()
    except OSError as e:  # a timeout of settimeout() has no errno
        out[i] = errno.errorcode.get(e.errno, str(e.errno)) if e.errno else "no answer in 20 s"
    finally:
        s.close()
ts = [threading.Thread(target=one, args=(i, *j)) for i, j in enumerate(jobs)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(out))
"""


def tail(client, cport, server, sport, result, dupsyn, dupsynack):
    """A session line from its third cell on, as docs/formats.md lays it out."""
    cli, srv = (f"[{a}]" if ":" in a else a for a in (client, server))
    cell = {"success": "     success     "}.get(result, result.ljust(17))
    return f" {cli:>41}:{cport:<5} {srv:>41}:{sport:<5} | {cell} | {dupsyn:7}  {dupsynack:7}"


LINE_HEAD = re.compile(r"^ *\d+\.\d{3} \| \d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \|")


def session_tails(text):
    """The session lines of text: (their tails, whether every head is well formed)."""
    tails, heads_ok = [], True
    for l in text.splitlines():
        if l.count("|") != 4 or l.startswith(" TIME(s)"):
            continue
        m = LINE_HEAD.match(l)
        heads_ok = heads_ok and m is not None
        tails.append(l[m.end():] if m else l)
    return sorted(tails), heads_ok


def summary_blocks(text):
    """The summary from the first filter on (from, to and time left out)."""
    i = text.find("TCPEEK SUMMARY")
    j = text.find("------", i)
    k = text.find(END, j)
    return text[j:k + len(END)] if i >= 0 and j >= 0 and k >= 0 else None


def expected_summary(filters, recv, icmp=True):
    out = ""
    for name, c in filters:
        out += ("-" * 36 + f"\n {name}\n   Success: {c[0]} session\n"
                f"     SYN Segment Duplicate : {c[1]:6}\n"
                f"     S/A Segment Duplicate : {c[2]:6}\n"
                f"   Failure: {c[3]} session\n"
                f"     Connection Timed Out  : {c[4]:6}\n"
                f"     Connection Rejected   : {c[5]:6}\n")
        if icmp:
            out += f"     ICMP Unreachable      : {c[6]:6}\n"
    return out + ("-" * 36 + f"\n pcap stats\n   recv   : {recv}\n   drop   : 0\n"
                  f"   ifdrop : 0\n{END}")


def expected_json(filters, recv):
    parts = [f'{{"{n}":{{"success":{{"total":{c[0]},"dupsyn":{c[1]},"dupsynack":{c[2]}}},'
             f'"failure":{{"total":{c[3]},"timeout":{c[4]},"reject":{c[5]},"unreach":{c[6]}}}}}}}'
             for n, c in filters]
    return "[" + ",".join(parts) + f',{{"pcap":{{"stats":{{"recv":{recv},"drop":0,"ifdrop":0}}}}}}]'


class Monitor:
    """netpeek handshake with its standard error on a pseudo-terminal (raw:
    bytes as written); what it printed so far is in self.text."""

    def __init__(self, net, *args, ns=None):
        master, slave = pty.openpty()
        tty.setraw(slave)
        self.fd = master
        self.text = ""
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns or net.cli, NETPEEK, "handshake", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=ENV)
        os.close(slave)
        net.servers.append(self)  # killed with the namespaces, also after a failure

    def read_until(self, cond, what, timeout=30):
        """Reads until cond(self.text) holds: bounded by timeout; True if it did."""
        deadline = time.monotonic() + timeout
        while not cond(self.text):
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not r:
                print(f"no {what} within {timeout} s:\n{self.text}")
                return False
            try:
                b = os.read(self.fd, 65536)
            except OSError:  # EIO: the monitor is gone and the terminal closed
                b = b""
            if not b:
                print(f"monitor gone before {what}:\n{self.text}")
                return False
            self.text += b.decode(errors="replace")
        return True

    def stop(self, sig=signal.SIGINT):
        """Signals, reads to the end; the exit status."""
        self.p.send_signal(sig)
        self.read_until(lambda t: END in t, "the summary")
        rc = self.p.wait(timeout=30)
        os.close(self.fd)
        self.fd = -1
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def wait(self):
        self.p.wait()


def stat_json(sock):
    r = subprocess.run([NETPEEK, "stat", "-j", "-U", sock], capture_output=True, text=True,
                       timeout=30)
    return r.stdout if r.returncode == 0 else f"exit {r.returncode}: {r.stderr}"


def ask(sock, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(line)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def connect_all(net, jobs):
    r = sh("python3", "-c", CLIENT, json.dumps(jobs), ns=net.cli)
    return json.loads(r.stdout)


def packets(path):
    return len(capfile.read(path).records)


def setup(net):
    peer = net.ifname[:-2] + "-s"
    sh("ip", "addr", "add", CLI6 + "/64", "dev", net.ifname, "nodad", ns=net.cli)
    sh("ip", "addr", "add", SRV6 + "/64", "dev", peer, "nodad", ns=net.srv)
    sh("sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", ns=net.srv)
    sh("sysctl", "-qw", "net.ipv6.icmp.ratelimit=0", ns=net.srv)
    # Linux 6.5 on; older kernels back off exponentially, as this asks for.
    if os.path.exists("/proc/sys/net/ipv4/tcp_syn_linear_timeouts"):
        sh("sysctl", "-qw", "net.ipv4.tcp_syn_linear_timeouts=0", ns=net.cli)
    sh("nft", "-f", "-", ns=net.srv, input=SERVER_RULES.encode())
    sh("nft", "-f", "-", ns=net.cli, input=CLIENT_RULES.encode())
    p = subprocess.Popen(["ip", "netns", "exec", net.srv, "python3", "-c", SERVER],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    net.servers.append(p)
    line = p.stderr.readline()
    if line != b"serving\n":
        raise RuntimeError(f"server did not start: {line!r}")
    # Before any capture: each side learns the other's link-layer address,
    # so that no SYN of the test waits for ARP or neighbour discovery.
    got = connect_all(net, [[CLI4, 40000, SRV4, 8080], [CLI6, 40001, SRV6, 8080]])
    if got != ["hi", "hi"]:
        raise RuntimeError(f"the warm-up connects failed: {got}")


# Named filters (and where the exclusion stands), with what each counts:
# (success, dupsyn, dupsynack, failure, timeout, reject, unreach).
FILTER_ARGS = ["all:TX@*:*", "v6:TX@[2001:db8::]/32:%", ":TX@[2001:db8::]/32:8089",
               "web:TX@198.51.100.0/24:8080:8082:8083",
               "fail:TX@198.51.100.2:8084:8085,[2001:db8::2]:8084:8085:8086", "in:RX@*:*",
               "srv:ANY@198.51.100.2:8081:8089"]
COUNTS = [("all", (6, 2, 2, 9, 2, 3, 4)), ("v6", (3, 1, 1, 4, 1, 1, 2)),
          ("web", (3, 1, 1, 0, 0, 0, 0)), ("fail", (0, 0, 0, 5, 1, 0, 4)),
          ("in", (0, 0, 0, 0, 0, 0, 0)), ("srv", (0, 0, 0, 2, 0, 2, 0))]
JSON_AT_START = (
    '[{"all":{"success":{"total":0,"dupsyn":0,"dupsynack":0},"failure":{"total":0,"timeout":0,'
    '"reject":0,"unreach":0}}},{"v6":{"success":{"total":0,"dupsyn":0,"dupsynack":0},'
    '"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},{"web":{"success":{"total":0,'
    '"dupsyn":0,"dupsynack":0},"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},'
    '{"fail":{"success":{"total":0,"dupsyn":0,"dupsynack":0},"failure":{"total":0,"timeout":0,'
    '"reject":0,"unreach":0}}},{"in":{"success":{"total":0,"dupsyn":0,"dupsynack":0},'
    '"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},{"srv":{"success":{"total":0,'
    '"dupsyn":0,"dupsynack":0},"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},'
    '{"pcap":{"stats":{"recv":0,"drop":0,"ifdrop":0}}}]')
# The same state after the traffic, recv left to fill in: the literal the
# live monitor and the re-read of its capture must both answer.
JSON_AFTER = (
    '[{"all":{"success":{"total":6,"dupsyn":2,"dupsynack":2},"failure":{"total":9,"timeout":2,'
    '"reject":3,"unreach":4}}},{"v6":{"success":{"total":3,"dupsyn":1,"dupsynack":1},'
    '"failure":{"total":4,"timeout":1,"reject":1,"unreach":2}}},{"web":{"success":{"total":3,'
    '"dupsyn":1,"dupsynack":1},"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},'
    '{"fail":{"success":{"total":0,"dupsyn":0,"dupsynack":0},"failure":{"total":5,"timeout":1,'
    '"reject":0,"unreach":4}}},{"in":{"success":{"total":0,"dupsyn":0,"dupsynack":0},'
    '"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},{"srv":{"success":{"total":0,'
    '"dupsyn":0,"dupsynack":0},"failure":{"total":2,"timeout":0,"reject":2,"unreach":0}}},'
    '{"pcap":{"stats":{"recv":RECV,"drop":0,"ifdrop":0}}}]')


def live(net, tmp):
    sock = os.path.join(tmp, "live", "hs.sock")
    ref = os.path.join(tmp, "ref.pcap")
    dump = subprocess.Popen(
        ["ip", "netns", "exec", net.cli, "tcpdump", "-i", net.ifname, "-s", "0", "-U",
         "--immediate-mode", "-w", ref, BPF], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    net.servers.append(dump)
    wait_line(dump, "listening on")
    mon = Monitor(net, "-i", net.ifname, "--icmp", "-t", "2", "-U", sock, "-f", BPF,
                  *FILTER_ARGS)
    if not mon.read_until(lambda t: "listening on " + net.ifname in t, "listening line"):
        check("live: the monitor starts", False)
        return
    j = stat_json(sock)
    check("live: before any traffic GET answers zeros, byte for byte",
          j == JSON_AT_START + "\n", j)

    jobs, want = [], []
    for i, (port, (res, result, dsyn, dsa)) in enumerate(sorted(OUTCOME.items())):
        for k, (caddr, saddr) in enumerate(((CLI4, SRV4), (CLI6, SRV6))):
            cport = 41000 + 2 * i + k
            jobs.append([caddr, cport, saddr, port])
            if not (port == 8089 and ":" in caddr):
                want.append(tail(caddr, cport, saddr, port, result, dsyn, dsa))
    got = connect_all(net, jobs)
    check("live: every connect met what the rules make of it",
          got == [OUTCOME[j[3]][0] for j in jobs], list(zip([j[3] for j in jobs], got)))
    n = len(want)
    mon.read_until(lambda t: len(session_tails(t)[0]) >= n, f"{n} session lines")
    tails, heads_ok = session_tails(mon.text)
    check("live: one line per session but the excluded one, cells exact",
          tails == sorted(want),
          "\n".join(["got:"] + tails + ["want:"] + sorted(want)))
    check("live: TIME(s) and TIMESTAMP cells are well formed", heads_ok, mon.text)

    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=30)
    recv = packets(ref)
    want_json = JSON_AFTER.replace("RECV", str(recv))
    j = stat_json(sock)
    check("live: GET (netpeek stat -j) is the expected JSON byte for byte, recv up to date: "
          "the packets tcpdump recorded", j == want_json + "\n" and recv > 30,
          f"{j}\nwant\n{want_json}")
    j = ask(sock, b"GET\r\n")
    check("live: a raw GET with CRLF answers the same bytes, without a line end",
          j == want_json, j)
    j = ask(sock, b"REFRESH\n")
    check("live: the first REFRESH answers the counts since the start", j == want_json, j)
    j = ask(sock, b"REFRESH\n")
    check("live: the next REFRESH answers zeros, pcap stats too", j == JSON_AT_START, j)

    rc = mon.stop()
    check("live: SIGINT: exit 0, the socket removed", rc == 0 and not os.path.exists(sock),
          (rc, mon.text))
    want_sum = expected_summary(COUNTS, recv)
    check("live: the TCPEEK SUMMARY, exactly", summary_blocks(mon.text) == want_sum,
          f"{mon.text}\nwant\n{want_sum}")

    # The same packets, from tcpdump's file.
    sock2 = os.path.join(tmp, "file.sock")
    off = subprocess.Popen(
        [NETPEEK, "handshake", "-r", ref, "--local", CLI4, "--local", CLI6, "--icmp", "-t", "2",
         "-U", sock2, "--linger", *FILTER_ARGS], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=ENV)
    net.servers.append(off)
    err = b""
    while END.encode() not in err:
        b = off.stderr.read1(65536)
        if not b:
            break
        err += b
    err = err.decode()
    check("-r --local over tcpdump's file: the same session lines",
          session_tails(err)[0] == tails, err)
    check("-r --local: the same summary", summary_blocks(err) == want_sum, err)
    j = stat_json(sock2)
    check("-r --local: the same JSON, byte for byte", j == want_json + "\n", j)
    off.send_signal(signal.SIGTERM)
    check("-r --linger: SIGTERM ends it with exit 0", off.wait(timeout=30) == 0)

    r = subprocess.run([NETPEEK, "handshake", "-q", "-r", ref, "--local", SRV4, "--local", SRV6,
                        "--icmp", "-t", "2"], capture_output=True, text=True, timeout=60, env=ENV)
    check("-r with the server's addresses local: the default RX counts every session, TX none",
          summary_blocks(r.stderr) == expected_summary(
              [("RX", (6, 2, 2, 10, 2, 4, 4)), ("TX", (0, 0, 0, 0, 0, 0, 0))], recv), r.stderr)


def owner_of(path):
    s = os.lstat(path)
    return s.st_uid, s.st_gid, st.S_IMODE(s.st_mode), st.S_ISSOCK(s.st_mode)


def ids(pid):
    with open(f"/proc/{pid}/status") as f:
        return [l.split()[1:] for l in f if l.startswith(("Uid:", "Gid:"))]


def as_user(net, tmp):
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        check("-u: the user nobody exists", False)
        return
    uid, gid = pw.pw_uid, pw.pw_gid
    os.chmod(tmp, 0o755)  # nobody must reach the socket's directory
    sock = os.path.join(tmp, "run", "netpeek", "hs.sock")
    mon = Monitor(net, "-i", net.ifname, "-u", "nobody", "-U", sock, "-f", BPF)
    ok = mon.read_until(lambda t: "listening on " + net.ifname in t, "listening line")
    check("-u nobody: starts without a warning", ok and "warning" not in mon.text.lower()
          and "may not remove" not in mon.text, mon.text)
    if not ok:
        return
    check("-u nobody: the monitor runs as nobody",
          ids(mon.p.pid) == [[str(uid)] * 4, [str(gid)] * 4], ids(mon.p.pid))
    check("-u nobody: the socket is nobody's, mode 0660",
          owner_of(sock) == (uid, gid, 0o660, True), owner_of(sock))
    check("-u nobody: the directory made for it is nobody's, mode 0755",
          owner_of(os.path.dirname(sock))[:3] == (uid, gid, 0o755),
          owner_of(os.path.dirname(sock)))
    got = connect_all(net, [[CLI4, 42000, SRV4, 8080], [CLI6, 42001, SRV6, 8081]])
    check("-u nobody: connects", got == ["hi", "ECONNREFUSED"], got)
    want = [tail(CLI4, 42000, SRV4, 8080, "success", 0, 0),
            tail(CLI6, 42001, SRV6, 8081, "failure (reject)", 0, 0)]
    mon.read_until(lambda t: len(session_tails(t)[0]) >= 2, "2 session lines")
    check("-u nobody: still captures after dropping privileges",
          session_tails(mon.text)[0] == sorted(want), mon.text)
    j = stat_json(sock)
    try:
        ans = json.loads(j)
    except ValueError:
        ans = []
    want_j = json.loads(expected_json([("RX", (0,) * 7), ("TX", (1, 0, 0, 1, 0, 1, 0))], 0))
    check("-u nobody: and answers GET: the counts, and packets received",
          len(ans) == 3 and ans[:2] == want_j[:2] and ans[2]["pcap"]["stats"]["recv"] > 5, j)
    rc = mon.stop()
    check("-u nobody: SIGINT: exit 0, the socket removed by nobody",
          rc == 0 and not os.path.exists(sock) and os.path.isdir(os.path.dirname(sock)),
          (rc, mon.text))

    # A root-owned directory that was there before: nobody cannot remove the socket.
    rootdir = os.path.join(tmp, "rootdir")
    os.mkdir(rootdir, 0o755)
    sock = os.path.join(rootdir, "hs.sock")
    mon = Monitor(net, "-i", net.ifname, "-u", "nobody", "-U", sock, "-f", BPF)
    ok = mon.read_until(lambda t: "listening on " + net.ifname in t, "listening line")
    check("-u nobody, root's directory: a warning at start says the socket will be left",
          ok and f"user 'nobody' may not remove {sock}" in mon.text
          and "will be left at exit" in mon.text, mon.text)
    j = stat_json(sock)
    check("-u nobody, root's directory: the socket still serves", j.startswith('[{"RX":'), j)
    rc = mon.stop()
    check("-u nobody, root's directory: exit 0, the socket left as warned",
          rc == 0 and owner_of(sock)[3], rc)
    mon = Monitor(net, "-i", net.ifname, "-U", sock, "-f", BPF)
    ok = mon.read_until(lambda t: "listening on " + net.ifname in t, "listening line")
    rc = mon.stop()
    check("the next start replaces the socket left behind, and removes it at exit",
          ok and rc == 0 and not os.path.exists(sock), mon.text)


def main():
    need_root("live handshake test")
    if shutil.which("nft") is None:
        print("nft not found: scripts/setup installs nftables")
        return 1 if os.environ.get("CI") == "true" else 77
    with tempfile.TemporaryDirectory() as tmp, Pair("np-hs", net="198.51.100") as net:
        setup(net)
        live(net, tmp)
        as_user(net, tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
