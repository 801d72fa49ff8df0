"""The recorder live, in two network namespaces this test creates and
removes (netns.py):

- record -i while curl talks across the link, beside tcpdump on the same
  interface; `sessions` shows the session in progress (once the first
  commit has landed) and then SIGINT ends it: exit 0, state complete, and
  the session holds exactly the packets tcpdump saw (same bytes, in order).
- SIGKILL mid-capture: the database passes PRAGMA integrity_check, the
  session is listed as interrupted, and it holds every packet that the
  last commit before the kill held (export gives them back).
- replay: the bundled sample, recorded with -r, replayed with --speed 0
  onto one veth end, is captured on the other end: equal packets, in
  order (those larger than the link's MTU skipped and counted). IPv6 is off
  on the link so that the kernel adds no packets of its own, and the
  capture takes incoming packets only.
Needs root and iproute2 (CI has both); elsewhere without root: skipped."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
import capfile  # noqa: E402
from netns import Pair, check, finish, need_root, sh, wait_line  # noqa: E402

NETPEEK = sys.argv[1]
SAMPLE = os.path.join(sys.argv[2], "samples", "sample.pcap")


def frames(path):
    return [(f.caplen, f.wirelen, f.data) for f in capfile.read(path).records]


def sessions(db):
    r = subprocess.run([NETPEEK, "sessions", "-d", db, "--json"], capture_output=True,
                       timeout=30, check=True)
    return json.loads(r.stdout)


def export(db, sid, out):
    subprocess.run([NETPEEK, "export", "-q", "-d", db, "-s", str(sid), "-o", out],
                   capture_output=True, timeout=60, check=True)
    return frames(out)


def until(cond, what, tries=2000):
    """Polls cond (each call is a netpeek run, so this is bounded work, not a
    sleep) until it is true."""
    for _ in range(tries):
        v = cond()
        if v:
            return v
    raise RuntimeError(f"never: {what}")


def record(net, db, *extra):
    p = subprocess.Popen(
        ["ip", "netns", "exec", net.cli, NETPEEK, "record", "-i", net.ifname, "--immediate",
         "-d", db, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_line(p, "listening on " + net.ifname)
    return p


def live(net, tmp):
    db, ref = os.path.join(tmp, "live.db"), os.path.join(tmp, "ref.pcap")
    dump = net.tcpdump(ref)
    rec = record(net, db, "-f", "tcp", "--name", "curl")
    for path in ("/", "/a", "/b"):
        net.curl(path)
    s = until(lambda: [x for x in sessions(db) if x["packets"] > 0], "a first commit")[0]
    check("while recording, sessions lists the session in progress",
          s["state"] == "recording" and s["name"] == "curl" and s["source"] == net.ifname
          and s["filter"] == "tcp", s)
    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=30)
    rec.send_signal(signal.SIGINT)
    _, err = rec.communicate(timeout=30)
    err = err.decode()
    s = sessions(db)[0]
    want = [f for f in frames(ref) if len(f[2]) > 23 and f[2][12:14] == b"\x08\x00"
            and f[2][23] == 6]
    got = export(db, s["id"], os.path.join(tmp, "live.pcap"))
    check("SIGINT: exit 0, summary, session complete",
          rec.returncode == 0 and "netpeek record: session 1" in err
          and s["state"] == "complete" and s["end"] is not None, (rec.returncode, err, s))
    check("the session holds exactly the TCP packets tcpdump saw, in order",
          len(want) > 10 and got == want and s["packets"] == len(want),
          f"{len(got)} stored, tcpdump saw {len(want)}")


def killed(net, tmp):
    db = os.path.join(tmp, "kill.db")
    rec = record(net, db, "-q")
    committed = 0
    for i in range(3):
        net.curl(f"/k{i}")
        committed = until(lambda c=committed: next(
            (x["packets"] for x in sessions(db) if x["packets"] > c), 0), "a later commit")
    rec.send_signal(signal.SIGKILL)
    rec.wait(timeout=30)
    con = sqlite3.connect(db)
    ok = con.execute("PRAGMA integrity_check").fetchall()
    con.close()
    check("after SIGKILL the database passes integrity_check", ok == [("ok",)], ok)
    s = sessions(db)[0]
    got = export(db, s["id"], os.path.join(tmp, "kill.pcap"))
    check("after SIGKILL the session is listed as interrupted",
          s["state"] == "interrupted" and s["end"] is None, s)
    check("it holds at least the packets committed before the kill, all exportable",
          s["packets"] >= committed and len(got) == s["packets"],
          f"{s['packets']} listed, {committed} seen committed, {len(got)} exported")


def replay(net, tmp):
    for ns in (net.cli, net.srv):
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
    db, got_path = os.path.join(tmp, "replay.db"), os.path.join(tmp, "got.pcap")
    subprocess.run([NETPEEK, "record", "-q", "-r", SAMPLE, "-d", db], check=True, timeout=60)
    # The sample holds a few frames larger than the link's MTU (1500; segments
    # the sender's kernel merged before capture): replay skips and counts them.
    every = frames(SAMPLE)
    want = [f for f in every if len(f[2]) <= 1514]
    peer = net.ifname[:-2] + "-s"
    dump = subprocess.Popen(
        # snaplen 2000 (frames <= 1514 here) and 16 MiB: a ring of many
        # slots, so that a burst at --speed 0 is not dropped by the capture.
        ["ip", "netns", "exec", net.srv, "tcpdump", "-i", peer, "-Q", "in", "-s", "2000",
         "-B", "16384", "-U",
         "--immediate-mode", "-c", str(len(want)), "-w", got_path],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_line(dump, "listening on")
    r = subprocess.run(["ip", "netns", "exec", net.cli, NETPEEK, "replay", "-d", db, "-s", "1",
                        "-i", net.ifname, "--speed", "0"], capture_output=True, timeout=60)
    err = r.stderr.decode()
    check("replay --speed 0 sends every packet that fits the MTU, skips the others",
          r.returncode == 0 and f"{len(want)} packets" in err and "sent" in err
          and f"{len(every) - len(want)} larger than the MTU" in err
          and len(every) > len(want) > 50, err)
    dump.wait(timeout=30)
    check("the other end receives the session's packets, equal and in order",
          frames(got_path) == want, f"{len(frames(got_path))} received of {len(want)}")
    # A tun device carries raw IP, not Ethernet frames.
    sh("ip", "tuntap", "add", "dev", "np-tun", "mode", "tun", ns=net.cli)
    sh("ip", "link", "set", "np-tun", "up", ns=net.cli)
    r = subprocess.run(["ip", "netns", "exec", net.cli, NETPEEK, "replay", "-d", db, "-s", "1",
                        "-i", "np-tun"], capture_output=True, timeout=60)
    err = r.stderr.decode()
    check("a link type the interface cannot carry is refused: one line, exit 2",
          r.returncode == 2 and err.count("\n") == 1 and "np-tun" in err, err)


def main():
    need_root("live recorder test")
    with tempfile.TemporaryDirectory() as tmp:
        with Pair("np-rec", net="203.0.113") as net:
            net.http_server(tmp)
            live(net, tmp)
            killed(net, tmp)
        with Pair("np-rpl", net="198.18.0") as net:
            replay(net, tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
