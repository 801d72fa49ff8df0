"""The recorder's round trip over the whole corpus: for every capture in
../shared/corpus/pcaps, `netpeek record -r` into a database, then
`netpeek export` of that session, gives back the same packet records as the
input, record by record, checked with capfile.py (written from the format
specifications, not from netpeek's code): timestamp, captured and wire
length, bytes and link type.

What export promises (docs/cli.md): a pcap file unless the session mixes
link types (then pcapng, with its interfaces); nanosecond timestamps when
the input had them, else microseconds, so the timestamps compared are the
input's at that precision. Timestamps that 64-bit nanoseconds cannot hold
are stored as the largest value (TS_SATURATED, as for `sample`).

Also per capture: `sessions --json` lists the session complete with the
input's packet and byte counts, and `query -l 0 --json` prints one line per
packet, numbered 1..N. Usage: test_record.py NETPEEK."""
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor

import capfile
from corpus_util import corpus_dir, pcaps, summary
from test_sample import TS_SATURATED, compare

WORKERS = 2


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:3])} exited {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')[-300:]}")
    return r.stdout


def check_file(args):
    """Problems of one capture's round trip; [] when it holds."""
    name, path, netpeek = args
    try:
        inp = capfile.read(path)
    except Exception as e:  # noqa: BLE001 - report, do not crash
        return [f"cannot read the input: {e}"]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        db, out = os.path.join(tmp, "t.db"), os.path.join(tmp, "out.cap")
        try:
            run([netpeek, "record", "-q", "-r", path, "-d", db])
            sessions = json.loads(run([netpeek, "sessions", "-d", db, "--json"]))
            run([netpeek, "export", "-q", "-d", db, "-s", "1", "-o", out])
            lines = run([netpeek, "query", "-q", "-d", db, "-s", "1", "-l", "0", "--json"])
        except Exception as e:  # noqa: BLE001
            return [str(e)]
        s = sessions[0] if len(sessions) == 1 else {}
        want = {"id": 1, "state": "complete", "packets": len(inp.records),
                "bytes": sum(r.caplen for r in inp.records),
                "wire_bytes": sum(r.wirelen for r in inp.records), "source_kind": "files"}
        got = {k: s.get(k) for k in want}
        if got != want:
            problems.append(f"sessions --json: {got}, expected {want}")
        frames = [json.loads(l)["frame"] for l in lines.splitlines()]
        if frames != list(range(1, len(inp.records) + 1)):
            problems.append(f"query -l 0 printed {len(frames)} lines, frames not 1..N")
        try:
            exp = capfile.read(out)
        except Exception as e:  # noqa: BLE001
            return problems + [f"export unreadable: {e}"]
        mixed = len({i.linktype for i in inp.interfaces}) > 1
        ns_input = any(i.ts_res > 10**6 for i in inp.interfaces)
        problems += compare(inp, exp, range(1, len(inp.records) + 1),
                            "pcapng" if mixed else "pcap", ns_input, name in TS_SATURATED)
    return problems


def main():
    netpeek = sys.argv[1]
    root = corpus_dir()
    passed = failed = 0
    jobs = [(name, os.path.join(root, "pcaps", name), netpeek) for name in pcaps(root)]
    with ProcessPoolExecutor(WORKERS) as ex:
        for (name, _, _), problems in zip(jobs, ex.map(check_file, jobs)):
            if problems:
                failed += 1
                print(f"FAIL {name}: {'; '.join(problems)}")
            else:
                passed += 1
    return summary(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
