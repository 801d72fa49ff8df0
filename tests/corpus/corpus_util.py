"""Shared helpers for the corpus suite: where the corpus is, how to read a
reference table, and how to report a skip (exit 77) or a failure."""
import os
import sys

SKIP = 77


def corpus_dir():
    """The corpus beside the repository (../shared/corpus), or exit: CI must
    have it (fail); elsewhere a missing corpus is a skip."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("NETPEEK_CORPUS") or os.path.join(here, "..", "..", "..", "shared", "corpus")
    root = os.path.normpath(root)
    if not os.path.isdir(os.path.join(root, "pcaps")):
        if os.environ.get("CI") == "true":
            print(f"corpus not found at {root} (CI=true: required)")
            sys.exit(1)
        print(f"corpus not found at {root}: skipped")
        sys.exit(SKIP)
    return root


def read_ref(path):
    """Rows of a reference TSV (header and '# ' lines skipped); [] if absent."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [l.rstrip(b"\n").decode() for l in f if not l.startswith(b"# ")]


def summary(passed, failed):
    """Prints the "N passed, N failed" line; returns the exit status."""
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def pcaps(root):
    d = os.path.join(root, "pcaps")
    return sorted(os.listdir(d))
