"""End-to-end tests of the netpeek command line: user errors, output
formats, inputs. Usage: test_cli.py NETPEEK SOURCE_ROOT. Prints one line per
check and "N passed, N failed"."""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

from netns import check, check_user_error, finish

NETPEEK, ROOT = sys.argv[1], sys.argv[2]
SAMPLE = os.path.join(ROOT, "samples", "sample.pcap")


def run(*args, stdin=None, timeout=60, user=None):
    cmd = [NETPEEK, *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)


def user_error(name, *args, must_name=None, user=None):
    check_user_error(name, run(*args, user=user), must_name)


def flows(*args, fmt="csv", stdin=None):
    r = run("flows", "-q", "--format", fmt, *args, stdin=stdin)
    if r.returncode != 0:
        raise RuntimeError(f"exit {r.returncode}: {r.stderr.decode()}")
    return r.stdout.decode()


FIELDS = ["flow_id", "flow_id_hex", "protocol", "vlan", "endpoint_a", "endpoint_b",
          "first_seen", "last_seen", "duration_secs", "packets_a_to_b", "packets_b_to_a",
          "bytes_a_to_b", "bytes_b_to_a", "packets_total", "bytes_total", "client",
          "tcp_flags_a", "tcp_flags_a_str", "tcp_flags_b", "tcp_flags_b_str", "end_reason"]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        notcap = os.path.join(tmp, "notes.txt")
        with open(notcap, "w") as f:
            f.write("this is not a capture file\n" * 10)
        r = run()
        check("no command prints the usage on stderr and exits 2",
              r.returncode == 2 and b"Usage: netpeek COMMAND" in r.stderr and r.stdout == b"")
        user_error("unknown command", "frobnicate", must_name="frobnicate")
        user_error("missing file", "flows", "-r", os.path.join(tmp, "nope.pcap"),
                   must_name="nope.pcap")
        user_error("not a capture file", "flows", "-r", notcap, must_name="notes.txt")
        user_error("bad BPF filter", "flows", "-r", SAMPLE, "-f", "tcp port banana",
                   must_name="banana")
        user_error("unknown interface", "flows", "-i", "np-no-such-if0", must_name="np-no-such-if0")
        user_error("unknown long option", "flows", "-r", SAMPLE, "--frobnicate",
                   must_name="--frobnicate")
        user_error("unknown short option", "flows", "-r", SAMPLE, "-Z", must_name="-Z")
        user_error("bad number", "flows", "-r", SAMPLE, "-c", "ten", must_name="ten")
        user_error("zero timeout", "flows", "-r", SAMPLE, "--flow-timeout-tcp", "0")
        user_error("bad format", "flows", "-r", SAMPLE, "--format", "xml", must_name="xml")
        user_error("no input", "flows", must_name="-r")
        user_error("both inputs", "flows", "-r", SAMPLE, "-i", "lo")
        user_error("missing argument", "flows", "-r")
        user_error("positional argument", "flows", "-r", SAMPLE, "extra", must_name="extra")
        if os.geteuid() == 0:
            user_error("no permission to capture", "flows", "-i", "lo", user=65534,
                       must_name="permission")

        # Interfaces: the loopback interface is always there.
        r = run("interfaces", "--json")
        ifs = json.loads(r.stdout.decode()) if r.returncode == 0 else []
        lo = [i for i in ifs if i["name"] == "lo"]
        check("interfaces --json lists lo with its address and flags",
              len(lo) == 1 and "127.0.0.1/8" in lo[0]["ipv4"] and "loopback" in lo[0]["flags"]
              and "up" in lo[0]["flags"] and set(lo[0]) ==
              {"name", "description", "ipv4", "ipv6", "flags"}, r.stdout.decode()[:400])
        r = run("interfaces")
        check("interfaces lists the same names as text",
              r.returncode == 0 and all(i["name"] in r.stdout.decode() for i in ifs))
        user_error("interfaces takes no input", "interfaces", "-r", SAMPLE)

        # sample: user errors, lines, output.
        user_error("sample: bad number", "sample", "-r", SAMPLE, "-n", "0", must_name="number")
        user_error("sample: bad format", "sample", "-r", SAMPLE, "-o", os.path.join(tmp, "x"),
                   "--format", "erf", must_name="erf")
        user_error("sample: bad precision", "sample", "-r", SAMPLE, "--time-precision", "pico",
                   must_name="pico")
        user_error("sample: unwritable output", "sample", "-r", SAMPLE, "-o",
                   os.path.join(tmp, "no", "such", "dir.pcap"), must_name="dir.pcap")
        r = run("sample", "-n", "2", "-r", SAMPLE)
        lines = r.stdout.decode().splitlines()
        check("sample without -o prints a start and a full line per session",
              r.returncode == 0 and "[+++] 192.0.2.1:34700 -> 192.0.2.2:81" in lines
              and sum(l.startswith("[+++]") for l in lines) == 5
              and sum(l.startswith("[---]") for l in lines) == 5, r.stdout.decode())
        heads = os.path.join(tmp, "heads.pcap")
        r = run("sample", "-n", "2", "-r", SAMPLE, "-o", heads)
        td = subprocess.run(["tcpdump", "-nn", "-r", heads], capture_output=True)
        check("sample -o is quiet on stdout and writes 2 packets per session",
              r.returncode == 0 and r.stdout == b"" and td.returncode == 0
              and td.stdout.count(b"\n") == 10 and b"sessions seen" in r.stderr,
              r.stderr.decode() + td.stderr.decode())
        r = run("sample", "-n", "2", "-r", SAMPLE, "-o", "-", "-v")
        check("sample -o - writes the capture to stdout and the lines to stderr",
              r.returncode == 0 and r.stdout[:4] == b"\xd4\xc3\xb2\xa1" and b"[+++]" in r.stderr)

        # Help and version.
        r = run("flows", "--help")
        text = r.stdout.decode()
        check("flows --help exits 0 and lists every option",
              r.returncode == 0 and all(o in text for o in (
                  "--read", "--interface", "--filter", "--format", "--output", "--count",
                  "--duration", "--snaplen", "--buffer-size", "--flow-timeout-tcp",
                  "--flow-timeout-udp", "--flow-timeout-icmp", "--max-flows",
                  "--libpcap-reader", "--immediate", "--no-promisc")), text[:300])
        r = run("--version")
        check("--version prints the version", r.returncode == 0 and
              r.stdout.decode().startswith("netpeek "), r.stdout.decode())

        # Formats agree with each other and carry exactly the documented fields.
        rows = list(csv.DictReader(io.StringIO(flows("-r", SAMPLE))))
        js = json.loads(flows("-r", SAMPLE, fmt="json"))
        jl = [json.loads(l) for l in flows("-r", SAMPLE, fmt="jsonl").splitlines()]
        check("sample has TCP, UDP and ICMP flows",
              {"tcp", "udp", "icmp"} <= {r["protocol"] for r in rows}, str(rows[:2]))
        check("json and jsonl give the same records", js == jl)
        check("json records have exactly the documented fields in order",
              all(list(o.keys()) == FIELDS for o in js), str(list(js[0].keys())))
        check("csv and json agree on every record", len(rows) == len(js) and all(
            r["flow_id"] == str(o["flow_id"]) and r["flow_id_hex"] == o["flow_id_hex"]
            and int(r["flow_id_hex"], 16) == o["flow_id"]
            and r["endpoint_a_ip"] == o["endpoint_a"]["ip"]
            and r["endpoint_b_port"] == str(o["endpoint_b"]["port"])
            and r["bytes_b_to_a"] == str(o["bytes_b_to_a"])
            and r["end_reason"] == o["end_reason"] for r, o in zip(rows, js)))
        check("packets_total and bytes_total are the sums", all(
            o["packets_total"] == o["packets_a_to_b"] + o["packets_b_to_a"]
            and o["bytes_total"] == o["bytes_a_to_b"] + o["bytes_b_to_a"] for o in js))
        check("TCP flows closed by FIN end with fin",
              sum(o["end_reason"] == "fin" for o in js if o["protocol"] == "tcp") >= 4,
              str([o["end_reason"] for o in js]))
        check("the refused connection ends with rst",
              any(o["end_reason"] == "rst" and o["endpoint_b"]["port"] == 81 for o in js))
        check("the client of a TCP flow is the SYN's sender", all(
            (o["client"] == "a") == (o["endpoint_a"]["port"] != 8080 and o["endpoint_a"]["port"] != 81)
            for o in js if o["protocol"] == "tcp"))
        check("non-TCP flows have null TCP flags", all(
            o["tcp_flags_a"] is None and o["tcp_flags_b_str"] is None
            for o in js if o["protocol"] != "tcp"))
        udp = [o for o in js if o["protocol"] == "udp" and o["endpoint_b"]["port"] == 7007]
        check("fragmented UDP datagrams count every fragment frame",
              len(udp) == 1 and udp[0]["packets_total"] == 8, str(udp))
        table = flows("-r", SAMPLE, fmt="table").splitlines()
        check("table has a header and one line per flow",
              table[0].startswith("PROTO") and len(table) == len(js) + 1, "\n".join(table[:3]))

        # Inputs: stdin, repeated files, truncation, filter, count.
        with open(SAMPLE, "rb") as f:
            data = f.read()
        check("-r - reads standard input like the file",
              flows("-r", "-", stdin=data) == flows("-r", SAMPLE))
        cut = os.path.join(tmp, "cut.pcap")
        with open(cut, "wb") as f:
            f.write(data[: len(data) * 2 // 3])
        r = run("flows", "--format", "csv", "-r", cut)
        warn = [l for l in r.stderr.decode().splitlines() if "warning" in l]
        read = int(r.stderr.decode().split("flows: ")[1].split(" packets read")[0])
        check("a truncated file gives one warning naming it and exits 0",
              r.returncode == 0 and len(warn) == 1 and "cut.pcap" in warn[0], r.stderr.decode())
        check("a truncated file gives the flows of every whole record before the cut",
              read > 3 and r.stdout.decode() == flows("-r", SAMPLE, "-c", str(read)),
              r.stdout.decode())
        tcp_only = list(csv.DictReader(io.StringIO(flows("-r", SAMPLE, "-f", "tcp"))))
        check("a BPF filter keeps only matching flows",
              tcp_only and all(r["protocol"] == "tcp" for r in tcp_only)
              and len(tcp_only) == sum(r["protocol"] == "tcp" for r in rows))
        first3 = json.loads(flows("-r", SAMPLE, "-c", "3", fmt="json"))
        check("-c stops after N packets", sum(o["packets_total"] for o in first3) == 3,
              str(first3))
        out = os.path.join(tmp, "flows.csv")
        r = run("flows", "-q", "--format", "csv", "-r", SAMPLE, "-o", out)
        with open(out) as f:
            check("-o writes the records to a file",
                  r.returncode == 0 and r.stdout == b"" and f.read() == flows("-r", SAMPLE))
        r = run("flows", "--format", "csv", "-r", SAMPLE)
        check("the summary goes to stderr and names the packets read",
              b"packets read" in r.stderr and b"packets read" not in r.stdout)

    return finish()


if __name__ == "__main__":
    sys.exit(main())
