"""Every capture in ../shared/corpus/malformed and pcaps/ through `netpeek
flows`: no crash, no hang, no sanitizer report; damaged files give a warning.
Run with the ASan/UBSan build too (scripts/test does). Usage:
test_malformed.py NETPEEK."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "corpus"))
from corpus_util import corpus_dir, summary  # noqa: E402

NETPEEK = sys.argv[1]


def main():
    root = corpus_dir()
    passed = failed = 0
    for sub in ("malformed", "pcaps"):
        d = os.path.join(root, sub)
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            for extra in ([], ["--libpcap-reader"]) if sub == "malformed" else ([],):
                try:
                    r = subprocess.run([NETPEEK, "flows", "--format", "jsonl", "-r", path, *extra],
                                       capture_output=True, timeout=60)
                except subprocess.TimeoutExpired:
                    print(f"FAIL {sub}/{name} {extra}: hang (over 60 s)")
                    failed += 1
                    continue
                err = r.stderr.decode(errors="replace")
                bad = (r.returncode < 0 or r.returncode not in (0, 2)
                       or "Sanitizer" in err or "runtime error" in err)
                if sub == "pcaps" and r.returncode != 0:
                    bad = True
                if bad:
                    print(f"FAIL {sub}/{name} {extra}: exit {r.returncode}: {err[-600:]}")
                    failed += 1
                else:
                    passed += 1
    return summary(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
