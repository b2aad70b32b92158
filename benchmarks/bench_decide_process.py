"""`warrant decide` on the reference case as a fresh process, against importing pyDatalog and click.

    python benchmarks/bench_decide_process.py [--runs N]

Three conditions (issue 16, point 1), each timed against the import floor
`python -c "import pyDatalog.pyParser, pyDatalog.Aggregate, click"` (see FLOOR) in the same environment, runs interleaved so a
change in machine load touches both sides of every ratio:
- bytecode cached: every module's bytecode in a warmed PYTHONPYCACHEPREFIX (what an install
  gives: pip compiles non-editable installs; `.ci/run` compiles the editable one), kb cache warm;
- no bytecode: an empty PYTHONPYCACHEPREFIX with PYTHONDONTWRITEBYTECODE=1, so every module of
  both sides is compiled from source in every run, kb cache warm;
- empty kb cache: bytecode cached, a fresh WARRANT_CACHE_DIR for every run (the first run after
  install or after a kb change).
Prints medians and minimums of wall time and their ratios (targets 2.5x, 3x, 4x).

    python benchmarks/bench_decide_process.py --instructions

counts, instead, the instructions each side executes (one run of each under valgrind's
callgrind, where installed): a figure the machine's load does not move, for a busy machine.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import pyDatalog.pyParser, pyDatalog.Aggregate, click"
"""The import floor: pyDatalog's engine and parser (what Warrant uses) and click. Not
`pyDatalog.pyDatalog`, which imports SQLAlchemy's ORM (~0.5 s) whenever SQLAlchemy is installed,
as it is with the `serve` extra; without SQLAlchemy the two floors are the same."""
TARGETS = {"bytecode cached": 2.5, "no bytecode": 3.0, "empty kb cache": 4.0}


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    return time.perf_counter() - start


def instructions(cmd: list[str], env: dict[str, str]) -> int:
    """Instructions a command executes, counted by callgrind (its output discarded)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd], cwd=ROOT,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def count_instructions(floor_cmd: list[str], decide_cmd: list[str], work: Path, base: dict[str, str]) -> None:
    warm = {**base, "PYTHONPYCACHEPREFIX": str(work / "pyc-warm"), "WARRANT_CACHE_DIR": str(work / "kb-warm")}
    print(f"{'condition':16s} {'import floor':>16s} {'warrant decide':>16s}   ratio   target")
    for name, env in (("bytecode cached", warm), ("empty kb cache", {**warm, "WARRANT_CACHE_DIR": str(work / "kb-new")})):
        floor, ours = instructions(floor_cmd, warm), instructions(decide_cmd, env)
        print(f"{name:16s} {floor / 1e6:14.1f} M {ours / 1e6:14.1f} M   {ours / floor:5.2f}x   <= {TARGETS[name]}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under callgrind instead of timing (needs valgrind)")
    args = parser.parse_args()
    warrant = shutil.which("warrant") or str(Path(sys.executable).with_name("warrant"))
    case = str(ROOT / "kb" / "examples" / "reference-case.yaml")
    floor_cmd = [sys.executable, "-c", FLOOR]
    decide_cmd = [warrant, "decide", case]
    with tempfile.TemporaryDirectory(prefix="warrant-cold-") as tmp:
        work = Path(tmp)
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        warm = {**base, "PYTHONPYCACHEPREFIX": str(work / "pyc-warm"), "WARRANT_CACHE_DIR": str(work / "kb-warm")}
        cold = {**warm, "PYTHONPYCACHEPREFIX": str(work / "pyc-empty"), "PYTHONDONTWRITEBYTECODE": "1"}
        for cmd in (floor_cmd, decide_cmd):  # compile every module once, fill the kb cache
            run(cmd, warm)
        if args.instructions:
            count_instructions(floor_cmd, decide_cmd, work, base)
            return
        results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in TARGETS}
        for index in range(args.runs):
            fresh_kb = {**warm, "WARRANT_CACHE_DIR": str(work / f"kb-{index}")}
            for name, env, floor_env in (("bytecode cached", warm, warm), ("no bytecode", cold, cold),
                                         ("empty kb cache", fresh_kb, warm)):
                floor, ours = results[name]
                floor.append(run(floor_cmd, floor_env))
                ours.append(run(decide_cmd, env))
    print(f"{'condition':16s} {'import floor':>22s} {'warrant decide':>22s}   ratio (median, min)   target")
    for name, (floor, ours) in results.items():
        print(f"{name:16s} {statistics.median(floor) * 1000:8.1f} ms (min {min(floor) * 1000:5.1f}) "
              f"{statistics.median(ours) * 1000:8.1f} ms (min {min(ours) * 1000:5.1f})   "
              f"{statistics.median(ours) / statistics.median(floor):5.2f}x {min(ours) / min(floor):5.2f}x"
              f"          <= {TARGETS[name]}x")


if __name__ == "__main__":
    main()
