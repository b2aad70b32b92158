"""`warrant decide` on the reference case as a fresh process, against importing pyDatalog and click.

    python benchmarks/bench_decide_process.py [--runs N]

Prints both wall times (median and minimum of N runs, cache warm) and their ratio.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    warrant = shutil.which("warrant") or str(Path(sys.executable).with_name("warrant"))
    case = str(ROOT / "kb" / "examples" / "reference-case.yaml")
    decide = [warrant, "decide", case]
    subprocess.run(decide, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)  # warm the kb cache
    base = timed([sys.executable, "-c", "import pyDatalog.pyDatalog, click"], args.runs)
    ours = timed(decide, args.runs)
    for name, values in (("python -c 'import pyDatalog.pyDatalog, click'", base), ("warrant decide (reference)", ours)):
        print(f"{name:48s} median {statistics.median(values) * 1000:6.1f} ms   min {min(values) * 1000:6.1f} ms")
    print(f"ratio (median): {statistics.median(ours) / statistics.median(base):.2f}x   "
          f"ratio (min): {min(ours) / min(base):.2f}x   (target <= 4x, goal 3x)")


if __name__ == "__main__":
    main()
