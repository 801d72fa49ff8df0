"""Live capture end to end for `netpeek flows`, in two network namespaces
this test creates and removes (netns.py).

netpeek captures on the client's interface while tcpdump records the same
interface; real programs talk across it (python's HTTP server and curl, UDP).
Both are stopped with SIGINT. netpeek's live flows must equal `netpeek flows
-r` over tcpdump's file, and the live run must exit 0 with its summary.
Synchronisation is on the "listening on" lines, never on sleeps.
Needs root and iproute2 (CI has both); elsewhere without root: skipped."""
import os
import signal
import subprocess
import sys
import tempfile

from netns import Pair, check, finish, need_root, sh, wait_line

NETPEEK = sys.argv[1]


def strip(lines):
    """CSV rows without the fields made from timestamps: two packet sockets
    may stamp the same outgoing frame microseconds apart."""
    keep = [i for i, c in enumerate(lines[0].split(",")) if c not in
            ("flow_id", "flow_id_hex", "first_seen", "last_seen", "duration_secs")]
    return sorted(",".join(l.split(",")[i] for i in keep) for l in lines)


def main():
    need_root("live capture test")
    with Pair("np-tl") as net, tempfile.TemporaryDirectory() as tmp:
        net.http_server(tmp)
        ref = os.path.join(tmp, "ref.pcap")
        live_csv = os.path.join(tmp, "live.csv")
        dump = net.tcpdump(ref)
        np = subprocess.Popen(
            ["ip", "netns", "exec", net.cli, NETPEEK, "flows", "-i", net.ifname,
             "--immediate", "--format", "csv", "-o", live_csv, "-f", "not ip6"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_line(np, "listening on " + net.ifname)
        for path in ("/", "/a", "/b"):
            net.curl(path)
        sh("python3", "-c",
           "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
           f"[s.sendto(b'x'*n,('{net.addr_srv}',9)) for n in (10,20,30)]", ns=net.cli)

        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=30)
        np.send_signal(signal.SIGINT)
        _, err = np.communicate(timeout=30)
        err = err.decode()
        check("SIGINT stops the live capture with exit 0", np.returncode == 0,
              f"exit {np.returncode}: {err}")
        check("the summary is printed on SIGINT, with the drop counters",
              "packets read" in err and "dropped: 0 by the kernel" in err, err)
        off = subprocess.run([NETPEEK, "flows", "-q", "--format", "csv", "-f", "not ip6",
                              "-r", ref], capture_output=True, timeout=60)
        with open(live_csv) as f:
            live = f.read().splitlines()
        offline = off.stdout.decode().splitlines()
        check("live flows were written", len(live) >= 4, live)
        check("live flows equal the flows of the same packets read from a file",
              strip(live) == strip(offline),
              "\nlive:\n" + "\n".join(strip(live)) + "\nfile:\n" + "\n".join(strip(offline)))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
