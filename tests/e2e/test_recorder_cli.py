"""End-to-end tests of the recorder's commands on the bundled sample:
record -r, sessions, query (against tshark's view of the same capture),
export, replay --display-only, delete, and their user errors.
Usage: test_recorder_cli.py NETPEEK SOURCE_ROOT."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
import capfile  # noqa: E402
from netns import check, check_user_error, finish  # noqa: E402

NETPEEK, ROOT = sys.argv[1], sys.argv[2]
SAMPLE = os.path.join(ROOT, "samples", "sample.pcap")


def run(*args, user=None, timeout=60):
    cmd = [NETPEEK, *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, timeout=timeout)


def ok(*args):
    r = run(*args)
    if r.returncode != 0:
        raise RuntimeError(f"{args[0]} exited {r.returncode}: {r.stderr.decode()}")
    return r


def user_error(name, *args, must_name=None, user=None):
    check_user_error(name, run(*args, user=user), must_name)


def tshark_frames(display_filter):
    r = subprocess.run(["tshark", "-n", "-r", SAMPLE, "-Y", display_filter, "-T", "fields",
                        "-e", "frame.number"], capture_output=True, timeout=60, check=True)
    return [int(x) for x in r.stdout.split()]


def query(db, *args):
    r = ok("query", "-q", "-d", db, "-s", "1", "--json", *args)
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def frames(db, *args):
    return [p["frame"] for p in query(db, "-l", "0", *args)]


def main():
    recs = capfile.read(SAMPLE).records
    n = len(recs)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "t.db")
        r = ok("record", "-r", SAMPLE, "-d", db, "--name", "sample")
        err = r.stderr.decode()
        check("record -r prints the session id first and a summary",
              err.startswith("netpeek record: session 1 in ") and f"{n} packets" in err, err)
        s = json.loads(ok("sessions", "-d", db, "--json").stdout)
        check("sessions --json: one complete session with the file's counts",
              len(s) == 1 and s[0]["state"] == "complete" and s[0]["packets"] == n
              and s[0]["name"] == "sample" and s[0]["source"] == SAMPLE
              and s[0]["linktype"] == 1 and s[0]["first_packet_ns"] is not None, s)
        table = ok("sessions", "-d", db).stdout.decode().splitlines()
        check("sessions prints a header and one row", len(table) == 2
              and table[0].split()[:3] == ["id", "name", "source"]
              and table[1].split()[:2] == ["1", "sample"], table)

        check("query prints 10 packets by default", len(query(db)) == 10)
        check("query -l 0 prints every packet, numbered 1..N", frames(db) == list(range(1, n + 1)))
        check("--offset skips matching packets", frames(db, "--offset", str(n - 3))
              == [n - 2, n - 1, n])
        for host, flt in (("192.0.2.1", "ip.addr==192.0.2.1"),
                          ("2001:db8::2", "ipv6.addr==2001:db8::2")):
            want = tshark_frames(flt)
            check(f"query --host {host} gives tshark's {flt} frames",
                  want and frames(db, "--host", host) == want, f"{frames(db, '--host', host)}")
        want = tshark_frames("tcp.port==8080 or udp.port==8080")
        check("query --port 8080 gives tshark's frames", want and frames(db, "--port", "8080")
              == want)
        # BPF "udp" is IP protocol 17: every fragment too, unlike tshark's "udp".
        want = tshark_frames("(ip.proto==17 or ipv6.nxt==17) and not icmp and not icmpv6")
        check("query --filter udp (BPF) gives the frames of IP protocol 17",
              want and frames(db, "--filter", "udp") == want)
        fl = ok("flows", "-q", "--format", "json", "-r", SAMPLE).stdout
        flow = json.loads(fl)[0]
        got = frames(db, "--flow", flow["flow_id_hex"])
        check("query --flow (hex id from netpeek flows) gives the flow's packets",
              len(got) == flow["packets_total"] and got == frames(db, "--flow",
                                                                 str(flow["flow_id"])))
        ts = [r.ts_ns for r in recs]
        lo, hi = ts[n // 4], ts[n // 2]
        want = [i + 1 for i, t in enumerate(ts) if lo <= t <= hi]
        check("query --since/--until (epoch seconds) keep the packets in the range",
              frames(db, "--since", f"{lo // 10**9}.{lo % 10**9:09d}", "--until",
                     f"{hi // 10**9}.{hi % 10**9:09d}") == want)
        day = subprocess.run(["date", "-u", "-d", f"@{lo // 10**9}", "+%Y-%m-%dT%H:%M:%SZ"],
                             capture_output=True, check=True).stdout.decode().strip()
        want = [i + 1 for i, t in enumerate(ts) if t >= lo // 10**9 * 10**9]
        check("query --since takes RFC 3339", frames(db, "--since", day) == want, day)
        dump = ok("query", "-q", "-d", db, "-s", "1", "-l", "1", "--show-data").stdout.decode()
        check("--show-data adds a hex dump", "0x0000:" in dump and dump.count("\n") > 2, dump)

        out = os.path.join(tmp, "e.pcap")
        ok("export", "-q", "-d", db, "-s", "1", "-o", out)
        got = capfile.read(out).records
        check("export gives back the records, bytes and times equal",
              [(r.ts_ns, r.caplen, r.wirelen, r.data) for r in got]
              == [(r.ts_ns, r.caplen, r.wirelen, r.data) for r in recs])
        r = ok("replay", "-d", db, "-s", "1", "--display-only", "--speed", "0")
        check("replay --display-only prints every packet as query does",
              r.stdout.decode().splitlines() == ok("query", "-q", "-d", db, "-s", "1", "-l",
                                                   "0").stdout.decode().splitlines()
              and f"{n} packets" in r.stderr.decode())
        r = ok("replay", "-q", "-d", db, "-s", "1", "--display-only", "--speed", "0", "-c", "5")
        check("replay -c 5 stops after 5", len(r.stdout.decode().splitlines()) == 5)

        ok("record", "-q", "-r", SAMPLE, "-r", SAMPLE, "-d", db, "-c", "0", "-t", "0")
        for i in range(3, 13):
            ok("record", "-q", "-r", SAMPLE, "-d", db, "-c", "1")
        s = json.loads(ok("sessions", "-d", db, "--json").stdout)
        check("sessions lists newest first; -c 0 -t 0 mean no limit",
              [x["id"] for x in s] == list(range(12, 0, -1)) and s[-2]["packets"] == 2 * n)
        r = ok("query", "-q", "-d", db, "-s", "1", "-l", "0", "--json")
        check("a whole session id is that session, though 10-12 start with it too",
              len(r.stdout.splitlines()) == n)
        ok("sessions", "-d", db, "--delete", "12")
        ok("sessions", "-d", db, "--delete", "1")
        s = json.loads(ok("sessions", "-d", db, "--json").stdout)
        check("--delete removes the session", [x["id"] for x in s] == list(range(11, 1, -1)))
        user_error("an ambiguous session prefix", "query", "-d", db, "-s", "1",
                   must_name="ambiguous")
        r = ok("query", "-q", "-d", db, "-s", "2", "-l", "0", "--json")
        check("a session id that is whole is resolved exactly", len(r.stdout.splitlines()) == 2 * n)

        user_error("query without -s", "query", "-d", db, must_name="-s")
        user_error("a session that does not exist", "query", "-d", db, "-s", "99",
                   must_name="99")
        user_error("a database that does not exist", "sessions", "-d",
                   os.path.join(tmp, "none.db"), must_name="none.db")
        user_error("a file that is not a database", "sessions", "-d", SAMPLE)
        user_error("a bad --since", "query", "-d", db, "-s", "1", "--since", "yesterday",
                   must_name="yesterday")
        user_error("a bad --host", "query", "-d", db, "-s", "1", "--host", "example",
                   must_name="example")
        user_error("a bad BPF filter", "query", "-d", db, "-s", "1", "--filter", "tcp port x")
        user_error("replay without -i or --display-only", "replay", "-d", db, "-s", "1")
        user_error("a bad --speed", "replay", "-d", db, "-s", "1", "--display-only",
                   "--speed", "-1")
        user_error("export without -o", "export", "-d", db, "-s", "1", must_name="-o")
        user_error("record without a source", "record", "-d", db)

        newer = os.path.join(tmp, "newer.db")
        ok("record", "-q", "-r", SAMPLE, "-d", newer)
        con = sqlite3.connect(newer)
        con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        user_error("a database from a newer netpeek (sessions)", "sessions", "-d", newer,
                   must_name="newer")
        user_error("a database from a newer netpeek (record)", "record", "-r", SAMPLE, "-d",
                   newer, must_name="newer")
        if os.geteuid() == 0:
            ro = os.path.join(tmp, "ro")
            os.mkdir(ro)
            rodb = os.path.join(ro, "r.db")
            ok("record", "-q", "-r", SAMPLE, "-d", rodb)
            os.chmod(tmp, 0o755)
            os.chmod(ro, 0o555)
            os.chmod(rodb, 0o444)
            user_error("a read-only database", "record", "-r", SAMPLE, "-d", rodb,
                       user="65534")
            # A full disk: a 256 KiB tmpfs, and about 2 MB to import.
            full = os.path.join(tmp, "full")
            os.mkdir(full)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", full],
                           check=True)
            try:
                r = run("record", "-q", *(["-r", SAMPLE] * 60), "-d",
                        os.path.join(full, "f.db"))
                err = r.stderr.decode()
                check("a full disk is one error line and exit 1",
                      r.returncode == 1 and err.count("\n") == 1 and "full" in err, err)
            finally:
                subprocess.run(["umount", full], check=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
