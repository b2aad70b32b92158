"""What the determination letter costs beside the decision it is written from, in one run.

    python benchmarks/bench_letter.py [--repeat 5] [--count 30] [--pdf]

For the reference case and for --count generated cases: the median time of `decide` (the
decision JSON, the reference figure), of the letter as Markdown and as HTML (each from a fresh
session, so each includes its own decision), and with --pdf of one PDF of the reference case
(renderer start-up included). Figures are in milliseconds, with the ratio to `decide`. Check
`uptime` first: on a busy machine only the ratios mean something.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _row(name: str, ms: float, base: float) -> str:
    return f"{name:<28} {ms:10.1f} ms   x{ms / base:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--pdf", action="store_true")
    args = parser.parse_args()

    from engine.decide.decision import decide
    from engine.inputs import open_session
    from engine.knowledge.base import KnowledgeBase
    from engine.present.report import render_report

    kb = KnowledgeBase.load(None)
    reference = ROOT / "kb" / "examples" / "reference-case.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "cli", "generate", "--count", str(args.count), "--seed", "5",
                        "-o", tmp], cwd=ROOT, check=True, capture_output=True)
        cases = sorted(Path(tmp).glob("*.yaml"))
        for label, paths in (("reference case", [reference]), (f"{len(cases)} generated cases", cases)):
            def run(what):
                return lambda: [what(open_session(kb, p)) for p in paths]
            base = _median_ms(run(decide), args.repeat)
            print(f"-- {label} (median of {args.repeat})")
            print(_row("decide (JSON)", base, base))
            print(_row("letter, Markdown", _median_ms(run(lambda s: render_report(s, "markdown")), args.repeat), base))
            print(_row("letter, HTML", _median_ms(run(lambda s: render_report(s, "html")), args.repeat), base))
    if args.pdf:
        session_ms = _median_ms(lambda: decide(open_session(kb, reference)), args.repeat)
        pdf = _median_ms(lambda: render_report(open_session(kb, reference), "pdf"), max(1, args.repeat // 2))
        print("-- reference case as PDF")
        print(_row("decide (JSON)", session_ms, session_ms))
        print(_row("letter, PDF", pdf, session_ms))


if __name__ == "__main__":
    main()
