"""The statistics socket of `netpeek handshake` and `netpeek stat`.

`netpeek handshake -r samples/sample.pcap -U SOCK --linger` reads the file,
prints its summary and keeps serving until SIGTERM; the test waits for the
summary's last line (no sleeps), then:

- the socket: mode 0660, its directory created; `stat -j` is the expected
  JSON byte for byte (names JSON-escaped, filters in command-line order);
- GET stays cumulative; REFRESH answers the differences since the previous
  REFRESH (first: since the start; then zeros); REFRESH NAME keeps its own
  baseline, so two named consumers and the shared one do not take each
  other's differences; garbage, an over-long line and a silent client do
  not stop the server;
- the text summary, --prometheus (parsed: HELP/TYPE before samples, values)
  and -g with a fake gmetric script (the calls it records);
- a second monitor on the same socket: one line, exit 2; SIGTERM: exit 0,
  socket removed; a stale socket is replaced;
- `stat` on a missing socket, or on a socket that accepts and never answers:
  one line, exit 2, within bounded time.
"""
import json
import os
import re
import signal
import socket
import stat as st
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import check, finish, wait_line  # noqa: E402

NETPEEK = sys.argv[1]
ROOT = sys.argv[2]
SAMPLE = os.path.join(ROOT, "samples", "sample.pcap")
END = "=" * 36  # the summary's last line


def stat(sock, *args, timeout=10):
    r = subprocess.run([NETPEEK, "stat", "-U", sock, *args], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def ask(sock, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    try:
        s.sendall(line)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:  # closed with our bytes unread
            break
        if not b:
            break
        out += b
    s.close()
    return out


def monitor(sock, *extra):
    p = subprocess.Popen([NETPEEK, "handshake", "-r", SAMPLE, "--local", "192.0.2.2",
                          "--local", "[2001:db8::2]/128", "-q", "-U", sock, "--linger", *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_line(p, END)
    return p


def counts(rx_s, rx_rej, tx_s=0, recv=76):
    return ('[{"RX":{"success":{"total":%d,"dupsyn":0,"dupsynack":0},"failure":{"total":%d,'
            '"timeout":0,"reject":%d,"unreach":0}}},{"TX":{"success":{"total":%d,"dupsyn":0,'
            '"dupsynack":0},"failure":{"total":0,"timeout":0,"reject":0,"unreach":0}}},'
            '{"pcap":{"stats":{"recv":%d,"drop":0,"ifdrop":0}}}]'
            % (rx_s, rx_rej, rx_rej, tx_s, recv))


FULL = counts(4, 1)
ZERO = counts(0, 0, recv=0)

tmp = tempfile.mkdtemp(prefix="np_hs_stat_")
sock = os.path.join(tmp, "run", "hs.sock")
p = monitor(sock)
try:
    m = os.lstat(sock)
    check("socket: a socket of mode 0660 in the created directory",
          st.S_ISSOCK(m.st_mode) and st.S_IMODE(m.st_mode) == 0o660, oct(m.st_mode))

    rc, out, err = stat(sock, "-j")
    check("stat -j: the JSON byte for byte", rc == 0 and out == FULL + "\n", (rc, out, err))
    check("GET with CRLF and with LF", ask(sock, b"GET\r\n") == FULL.encode()
          and ask(sock, b"GET\n") == FULL.encode())

    check("REFRESH: first since the start", ask(sock, b"REFRESH\r\n") == FULL.encode())
    check("REFRESH: then the differences (none)", ask(sock, b"REFRESH\n") == ZERO.encode())
    check("GET stays cumulative after REFRESH", ask(sock, b"GET\n") == FULL.encode())
    check("REFRESH a: its own baseline", ask(sock, b"REFRESH a\n") == FULL.encode())
    check("REFRESH b: not taken by a nor by REFRESH", ask(sock, b"REFRESH b\r\n") == FULL.encode())
    check("REFRESH a again: zeros", ask(sock, b"REFRESH a\n") == ZERO.encode())
    check("REFRESH b again: zeros", ask(sock, b"REFRESH b\n") == ZERO.encode())
    # 64 names at most: a, b, these 61 and 'ganglia' below.
    firsts = [ask(sock, f"REFRESH n{i}\n".encode()) for i in range(61)]
    check("61 more names: each its own baseline", all(a == FULL.encode() for a in firsts))

    err_ans = ask(sock, b"HELLO\n")
    check("garbage: an error object", json.loads(err_ans).get("error"), err_ans)
    check("over-long line: closed without an answer", ask(sock, b"G" * 5000 + b"\n") == b"")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.connect(sock)
    silent.sendall(b"GE")  # never finishes its line
    check("a silent client blocks nobody", ask(sock, b"GET\n") == FULL.encode())
    silent.close()

    rc, out, err = stat(sock)
    check("stat: the text summary",
          rc == 0 and out.startswith("====== TCPEEK SUMMARY ======\n")
          and "\n RX\n" in out and "     reject              1\n" in out
          and "     recv               76\n" in out, (rc, out, err))

    rc, out, err = stat(sock, "--prometheus")
    samples, typed, ok = {}, set(), rc == 0
    for line in out.splitlines():
        mm = re.fullmatch(r"# (HELP|TYPE) (\w+) (.+)", line)
        if mm:
            if mm.group(1) == "TYPE":
                ok = ok and mm.group(3) == "counter"
                typed.add(mm.group(2))
            continue
        mm = re.fullmatch(r'(\w+)(?:\{filter="((?:[^"\\]|\\.)*)"\})? (\d+)', line)
        ok = ok and mm is not None and mm.group(1) in typed
        if mm:
            samples[(mm.group(1), mm.group(2))] = int(mm.group(3))
    check("--prometheus: parses, TYPE before samples", ok, out)
    check("--prometheus: the values",
          samples.get(("netpeek_handshake_success_total", "RX")) == 4
          and samples.get(("netpeek_handshake_failure_reject_total", "RX")) == 1
          and samples.get(("netpeek_handshake_failure_total", "TX")) == 0
          and samples.get(("netpeek_pcap_received_total", None)) == 76
          and len(samples) == 17, samples)

    log = os.path.join(tmp, "gmetric.log")
    fake = os.path.join(tmp, "gmetric")
    with open(fake, "w") as f:
        f.write(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {log}\n")
    os.chmod(fake, 0o755)
    rc, out, err = stat(sock, "-g", "--gmetric-path", fake, "--name", "ganglia")
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    want = [f"-n tcpeek_{f}_{s}_{i} -v {v} -t uint32"
            for f, rej in (("RX", 1), ("TX", 0))
            for s, i, v in (("success", "dupsyn", 0), ("success", "dupsynack", 0),
                            ("failure", "timeout", 0), ("failure", "reject", rej),
                            ("failure", "unreach", 0))]
    check("-g: one gmetric call per item", rc == 0 and calls == want, (rc, calls, err))
    os.unlink(log)
    rc, out, err = stat(sock, "-g", "--gmetric-path", fake, "--name", "ganglia")
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    check("-g --name again: the differences (zeros)",
          rc == 0 and len(calls) == 10 and all(" -v 0 " in c for c in calls), calls)
    over = ask(sock, b"REFRESH n61\n")
    check("a 65th name is refused with an error object",
          "64 names" in json.loads(over).get("error", ""), over)
    check("... and every name keeps its baseline",
          ask(sock, b"REFRESH a\n") == ZERO.encode() and ask(sock, b"REFRESH n0\n")
          == ZERO.encode() and ask(sock, b"REFRESH n60\n") == ZERO.encode())
    for bad in ("two words", "x" * 65):
        rc, out, err = stat(sock, "-g", "--gmetric-path", fake, "--name", bad)
        check(f"-g --name {bad[:12]!r}...: a usage error, one line",
              rc == 2 and err.count("\n") == 1 and "--name" in err, (rc, err))
    rc, out, err = stat(sock, "-g", "--gmetric-path", os.path.join(tmp, "nope"))
    check("-g: a gmetric that cannot run is an error", rc == 1 and "gmetric" in err, (rc, err))

    r = subprocess.run([NETPEEK, "handshake", "-r", SAMPLE, "-q", "-U", sock],
                       capture_output=True, text=True, timeout=30)
    check("a second monitor on a live socket: one line, exit 2",
          r.returncode == 2 and len(r.stderr.splitlines()) == 1
          and "another process answers" in r.stderr, r)
    check("... and the first one still answers", ask(sock, b"GET\n") == FULL.encode())
finally:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
check("SIGTERM: exit 0", p.returncode == 0, p.returncode)
check("SIGTERM: the socket is removed", not os.path.exists(sock))

# A stale socket (bound, nobody listening) is replaced; removed at the end.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sock)
s.close()
r = subprocess.run([NETPEEK, "handshake", "-r", SAMPLE, "-q", "-U", sock], capture_output=True,
                   text=True, timeout=30)
check("a stale socket is replaced", r.returncode == 0, r)
check("... and removed at the end", not os.path.exists(sock))

# A regular file at the path is not replaced.
open(sock, "w").close()
r = subprocess.run([NETPEEK, "handshake", "-r", SAMPLE, "-q", "-U", sock], capture_output=True,
                   text=True, timeout=30)
check("a file at the path: one line, exit 2, the file kept",
      r.returncode == 2 and "not a socket" in r.stderr and os.path.isfile(sock), r)
os.unlink(sock)
r = subprocess.run([NETPEEK, "handshake", "-r", SAMPLE, "-q", "--linger"], capture_output=True,
                   text=True, timeout=30)
check("--linger without -U: exit 2", r.returncode == 2, r)

# stat: a missing socket and a socket that never answers.
t0 = time.monotonic()
rc, out, err = stat(sock, "-j")
check("stat, missing socket: one line, exit 2",
      rc == 2 and out == "" and len(err.splitlines()) == 1 and "cannot connect" in err,
      (rc, out, err))
mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
mute.bind(sock)
mute.listen(4)  # connections complete in the backlog; nothing is ever read or sent
t0 = time.monotonic()
rc, out, err = stat(sock, timeout=20)
took = time.monotonic() - t0
mute.close()
check("stat, no answer: one line, exit 2, about 3 s",
      rc == 2 and len(err.splitlines()) == 1 and "no answer within 3 s" in err
      and 2.5 < took < 8, (rc, err, took))
os.unlink(sock)

sys.exit(finish())
