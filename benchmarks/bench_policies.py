"""`warrant decide` latency under the default policy and under `--policy strict`, side by side
(fresh processes, kb caches warm), and the size of the strict overlay in lines.

    python benchmarks/bench_policies.py [--runs N]
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
CASE = "kb/examples/reference-case.yaml"


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        out.append(time.perf_counter() - start)
    return out


def overlay_lines(folder: Path) -> tuple[int, int]:
    """(all lines, lines that are not blank or comments) of an overlay folder."""
    total = code = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                total += 1
                code += bool(line.strip()) and not line.lstrip().startswith(("%", "#")) or line.startswith("%@")
    return total, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    beside = Path(sys.executable).with_name("warrant")  # the warrant of the interpreter running this
    warrant = str(beside) if beside.exists() else (shutil.which("warrant") or "warrant")
    base = [warrant, "decide", CASE, "--format", "json", "--as-of", "2026-12-01"]
    for cmd in (base, base + ["--policy", "strict"]):  # warm the kb caches of both policies
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    default = timed(base, runs)
    strict = timed(base + ["--policy", "strict"], runs)
    print(f"decide (default: reference 1.0)   median {statistics.median(default) * 1000:7.1f} ms   "
          f"min {min(default) * 1000:7.1f} ms")
    print(f"decide --policy strict             median {statistics.median(strict) * 1000:7.1f} ms   "
          f"min {min(strict) * 1000:7.1f} ms")
    print(f"ratio strict / default (median)    {statistics.median(strict) / statistics.median(default):.2f}")
    for folder in sorted((ROOT / "kb" / "policies").glob("*/*")):
        total, code = overlay_lines(folder)
        print(f"overlay {folder.relative_to(ROOT)}: {total} lines, {code} of them clauses and annotations")


if __name__ == "__main__":
    main()
