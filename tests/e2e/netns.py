"""Helpers of the end-to-end tests: checks and their count, user errors,
and two network namespaces joined by a veth pair for live tests (created on
entry, removed on exit, also after a failure; documentation addresses only;
needs root and iproute2)."""
import os
import select
import subprocess
import sys

results = []


def check(name, cond, detail=""):
    """Records one check and prints a line for it."""
    results.append(bool(cond))
    print(f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else ': ' + str(detail)}")


def need_root(what):
    """Exits unless root: 77 (skipped) elsewhere, 1 (failed) under CI=true."""
    if os.geteuid() == 0:
        return
    if os.environ.get("CI") == "true":
        print(f"{what} needs root (CI=true: required)")
        sys.exit(1)
    print(f"not root: {what} skipped")
    sys.exit(77)


def check_user_error(name, r, must_name=None):
    """Checks that a finished run (subprocess.CompletedProcess, bytes) was
    a user error: exit 2, one line on stderr (naming must_name when given),
    nothing on stdout."""
    err = r.stderr.decode()
    lines = [l for l in err.splitlines() if l.strip()]
    good = r.returncode == 2 and len(lines) == 1 and r.stdout == b""
    if must_name:
        good = good and must_name in err
    check(f"user error exits 2 with one line: {name}", good,
          f"exit {r.returncode}, stderr {err!r}, stdout {r.stdout[:200]!r}")


def finish():
    """Prints the closing count; the exit status."""
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    return 0 if all(results) else 1


def sh(*cmd, ns=None, **kw):
    if ns:
        cmd = ("ip", "netns", "exec", ns, *cmd)
    return subprocess.run(cmd, check=True, capture_output=True, timeout=30, **kw)


def wait_line(proc, needle, timeout=20, stream="stderr"):
    """Reads proc's stream until a line contains needle (bounded by timeout);
    returns what was read."""
    buf = b""
    fd = getattr(proc, stream).fileno()
    while needle.encode() not in buf:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            raise RuntimeError(f"no '{needle}' within {timeout} s: {buf.decode()}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"exited before '{needle}': {buf.decode()}")
        buf += chunk
    return buf


class Pair:
    """cli (veth IF, ADDR_CLI) <-> srv (veth IF + 's', ADDR_SRV), /24."""

    def __init__(self, prefix, net="198.51.100"):
        self.cli, self.srv = f"{prefix}-cli", f"{prefix}-srv"
        self.ifname = prefix[:10] + "-c"
        self.addr_cli, self.addr_srv = f"{net}.1", f"{net}.2"

    def teardown(self):
        for p in getattr(self, "servers", []):
            p.kill()
            p.wait()
        self.servers = []
        for ns in (self.cli, self.srv):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def __enter__(self):
        self.teardown()
        try:
            for ns in (self.cli, self.srv):
                sh("ip", "netns", "add", ns)
                sh("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", ns=ns)
                sh("ip", "link", "set", "lo", "up", ns=ns)
            peer = self.ifname[:-2] + "-s"
            sh("ip", "link", "add", self.ifname, "netns", self.cli, "type", "veth", "peer",
               "name", peer, "netns", self.srv)
            sh("ip", "addr", "add", self.addr_cli + "/24", "dev", self.ifname, ns=self.cli)
            sh("ip", "addr", "add", self.addr_srv + "/24", "dev", peer, ns=self.srv)
            sh("ip", "link", "set", self.ifname, "up", ns=self.cli)
            sh("ip", "link", "set", peer, "up", ns=self.srv)
        except Exception:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()

    def http_server(self, cwd):
        """A python HTTP server on ADDR_SRV:8080, ready when this returns;
        stopped with the pair."""
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.srv, "python3", "-c",
             "import http.server,sys;sys.stderr.write('serving\\n');sys.stderr.flush();"
             f"http.server.ThreadingHTTPServer(('{self.addr_srv}',8080),"
             "http.server.SimpleHTTPRequestHandler).serve_forever()"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
        self.servers.append(p)
        wait_line(p, "serving")
        return p

    def curl(self, path):
        sh("curl", "-s", "-o", "/dev/null", "--max-time", "5",
           f"http://{self.addr_srv}:8080{path}", ns=self.cli)

    def tcpdump(self, out):
        """tcpdump recording the client's interface, ready when this returns."""
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.cli, "tcpdump", "-i", self.ifname, "-s", "0", "-U",
             "--immediate-mode", "--time-stamp-precision=nano", "-w", out],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_line(p, "listening on")
        return p
