"""Explanation figures: `why` and `why-not` for one line of the reference case once rules are
loaded, and a full decision with every proof tree built against the same decision without.

    python benchmarks/bench_explain.py [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.decide.decision import LINE_VERDICT, decide, find_line, line_verdict  # noqa: E402
from engine.inputs import open_session  # noqa: E402
from engine.knowledge.base import KnowledgeBase  # noqa: E402
from engine.decide.whynot import explain_absence  # noqa: E402

CASE = ROOT / "kb" / "examples" / "reference-case.yaml"


def timed(func, repeat: int) -> float:
    values = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    kb = KnowledgeBase.load(ROOT / "kb")
    kb.program.backend.activate()

    def why(code, level):
        session = open_session(kb, CASE)
        line = find_line(session, code, level)
        session.explainer.why(LINE_VERDICT, (line.id, *line_verdict(session, line))).to_dict()

    def why_not(code, level):
        session = open_session(kb, CASE)
        line = find_line(session, code, level)
        explain_absence(session, line, "medically_necessary", line_verdict(session, line))

    def decision(explain):
        decide(open_session(kb, CASE), explain=explain)

    def verdicts_only():
        session = open_session(kb, CASE)
        session.evaluate(["line_verdict", "stage_verdict", "admission_verdict", "doc_request"])

    why("22558", "L2-3")
    print("reference case, rules loaded; each figure includes reading the case and evaluating it")
    for code, level in (("22558", "L2-3"), ("22633", "L4-5")):
        print(f"why {code} {level}:      median {timed(lambda: why(code, level), args.repeat) * 1000:6.1f} ms"
              "   (target <= 50 ms)")
        print(f"why-not {code} {level}:  median {timed(lambda: why_not(code, level), args.repeat) * 1000:6.1f} ms"
              "   (target <= 50 ms)")
    plain = timed(verdicts_only, args.repeat)
    reasons = timed(lambda: decision(False), args.repeat)
    full = timed(lambda: decision(True), args.repeat)
    print(f"decision without proofs (verdicts, stages, admissions): median {plain * 1000:6.1f} ms")
    print(f"decision with reasons and missing documentation:        median {reasons * 1000:6.1f} ms")
    print(f"decision with every proof tree built (--explain):       median {full * 1000:6.1f} ms   "
          f"ratio {full / plain:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
