"""Live `netpeek sample` end to end, in two network namespaces this test
creates and removes (netns.py): real HTTP connections (python's server,
curl) captured with -i, beside tcpdump recording the same interface.

- With -n 3, the output holds exactly the first three packets of every
  connection, as tcpdump saw them (same bytes and lengths; timestamps of two
  packet sockets may differ by microseconds, so they are not compared), and
  equals `netpeek sample -n 3 -r` over tcpdump's file.
- SIGINT: exit 0, the summary, every packet taken is in the file.
- SIGKILL after a session's [---] line: tcpdump reads the file without error
  and finds that session's packets (whole records are flushed per batch).
Needs root and iproute2 (CI has both); elsewhere without root: skipped."""
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
import capfile  # noqa: E402
from netns import Pair, check, finish, need_root, wait_line  # noqa: E402

NETPEEK = sys.argv[1]


def frames(path):
    """(caplen, wirelen, bytes) of every record."""
    return [(f.caplen, f.wirelen, f.data) for f in capfile.read(path).records]


def tcp_conn(data):
    """The connection key (sorted ports) of an Ethernet/IPv4/TCP frame, or None."""
    if len(data) < 38 or data[12:14] != b"\x08\x00" or data[23] != 6:
        return None
    ihl = (data[14] & 15) * 4
    sport = int.from_bytes(data[14 + ihl:16 + ihl], "big")
    dport = int.from_bytes(data[16 + ihl:18 + ihl], "big")
    return tuple(sorted((sport, dport)))


def main():
    need_root("live sample test")
    with Pair("np-ts", net="198.51.100") as net, tempfile.TemporaryDirectory() as tmp:
        net.http_server(tmp)
        ref, out = os.path.join(tmp, "ref.pcap"), os.path.join(tmp, "out.pcap")
        dump = net.tcpdump(ref)
        np = subprocess.Popen(
            ["ip", "netns", "exec", net.cli, NETPEEK, "sample", "-n", "3", "-i", net.ifname,
             "--immediate", "-o", out, "-f", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_line(np, "listening on " + net.ifname)
        for path in ("/", "/x", "/y"):
            net.curl(path)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)
        np.send_signal(signal.SIGINT)
        _, err = np.communicate(timeout=30)
        err = err.decode()
        check("SIGINT stops sample with exit 0 and its summary",
              np.returncode == 0 and "3 sessions seen, 3 sampled in full" in err, err)

        expected, seen = [], {}
        for fr in frames(ref):
            c = tcp_conn(fr[2])
            if c is not None:
                seen[c] = seen.get(c, 0) + 1
                if seen[c] <= 3:
                    expected.append(fr)
        got = frames(out)
        check("the file holds the first 3 packets of each of the 3 connections",
              len(seen) == 3 and got == expected,
              f"{len(got)} frames, expected {len(expected)} from {len(seen)} connections")
        off = os.path.join(tmp, "off.pcap")
        r = subprocess.run([NETPEEK, "sample", "-q", "-n", "3", "-r", ref, "-o", off],
                           capture_output=True, timeout=60)
        check("live output equals sample -r over the same packets",
              r.returncode == 0 and frames(off) == got)
        r = subprocess.run(["tcpdump", "-nn", "-r", out], capture_output=True, timeout=60)
        check("tcpdump reads the output without complaint",
              r.returncode == 0 and r.stdout.count(b"\n") == len(got)
              and b"warning" not in r.stderr.lower(), r.stderr.decode())

        # SIGKILL: whatever was taken before the kill is readable.
        kout = os.path.join(tmp, "kill.pcap")
        np = subprocess.Popen(
            ["ip", "netns", "exec", net.cli, NETPEEK, "sample", "-n", "2", "-v", "-i",
             net.ifname, "--immediate", "-o", kout, "-f", "tcp"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_line(np, "listening on " + net.ifname)
        net.curl("/k")
        wait_line(np, "[---]", stream="stdout")
        np.send_signal(signal.SIGKILL)
        np.wait(timeout=30)
        r = subprocess.run(["tcpdump", "-nn", "-r", kout], capture_output=True, timeout=60)
        check("after SIGKILL tcpdump reads the file, the killed session's packets in it",
              r.returncode == 0 and r.stdout.count(b"\n") >= 2, r.stderr.decode())
    return finish()


if __name__ == "__main__":
    sys.exit(main())
