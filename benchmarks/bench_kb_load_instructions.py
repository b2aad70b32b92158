"""Instructions one kb load costs (parse + check + compile uncached; cache hit + compile), counted
under valgrind's callgrind, for this checkout and another side by side. Prints numbers; not a test.

    python benchmarks/bench_kb_load_instructions.py --root ../main

`bench_engine.py` times the same two loads; on a busy machine its figures move with the load,
these do not (up to a few percent from hash randomisation). Each figure is the difference
between a process doing the load N+1 times and one doing it once, divided by N.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOADS = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from engine.knowledge.base import KnowledgeBase
for _ in range({n}):
    KnowledgeBase.load(Path({root!r}) / "kb", use_cache={cached}).program.backend.activate()
"""


def instructions(root: Path, cached: bool, n: int, cache: str) -> int:
    code = LOADS.format(root=str(root), n=n, cached=cached)
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code],
                          env={"WARRANT_CACHE_DIR": cache, "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def per_load(root: Path, cached: bool, n: int) -> float:
    with tempfile.TemporaryDirectory(prefix="warrant-kbload-") as cache:
        instructions(root, True, 1, cache)  # fill the cache (and compile the bytecode)
        return (instructions(root, cached, n + 1, cache) - instructions(root, cached, 1, cache)) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, help="the other checkout (e.g. main's worktree)")
    parser.add_argument("--loads", type=int, default=4)
    args = parser.parse_args()
    other = Path(args.root).resolve()
    print(f"{'instructions per kb load':34s} {str(other)[-24:]:>24s} {'this checkout':>16s}   ratio")
    for name, cached in (("parse + check + compile, uncached", False), ("load from cache + compile", True)):
        theirs, ours = per_load(other, cached, args.loads), per_load(ROOT, cached, args.loads)
        print(f"{name:34s} {theirs / 1e6:22.1f} M {ours / 1e6:14.1f} M   {ours / theirs:5.2f}x")


if __name__ == "__main__":
    main()
