"""Explanation figures, each printed beside a reference measured in the same run.

- why-not with minimal documentation sets for every line of the reference case (the answer
  alone, the case already read and evaluated; and including reading and evaluating the case),
  beside a full decision of the same case in the same process;
- the same for a generated case of 16 fused levels and 20 imaging studies;
- `why` for one line, and a decision with every proof tree against the same decision without.

Times are CPU time of this process (`time.process_time`), the median of --repeat runs: the
machine is shared, and CPU time moves less with the load than wall time does.

    python benchmarks/bench_explain.py [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.decide.decision import LINE_VERDICT, decide, line_verdict  # noqa: E402
from engine.decide.whynot import explain_absence  # noqa: E402
from engine.inputs import open_session  # noqa: E402
from engine.knowledge.base import KnowledgeBase  # noqa: E402

CASE = ROOT / "kb" / "examples" / "reference-case.yaml"
SEGMENTS = ["T2-3", "T3-4", "T4-5", "T5-6", "T6-7", "T7-8", "T8-9", "T9-10", "T10-11", "T11-12", "T12-L1",
            "L1-2", "L2-3", "L3-4", "L4-5", "L5-S1"]


def cpu(func, repeat: int) -> float:
    values = []
    for _ in range(repeat):
        start = time.process_time()
        func()
        values.append(time.process_time() - start)
    return statistics.median(values)


def wide_case(studies: int = 20) -> str:
    """16 fused segments, 20 imaging studies that grade stenosis and compression everywhere;
    instability documented at every other segment, so half the lines each lack one fact (and a
    broken rod makes the indication plausible: those lines cannot be determined)."""
    lines = ["format: warrant-case/1", "case_id: wide-16-levels-20-studies", "symptoms: {radiculopathy: true}",
             "exam: {correlates_with_imaging: true}",
             "conservative_care: {physical_therapy_weeks: 8, duration_weeks: 16, outcome: failed}",
             "history: {prior_fusions: [], hardware_failure: [{finding: rod_fracture}]}", "imaging:"]
    for n in range(studies):
        lines.append(f"  - id: study-{n + 1}\n    modality: mri\n    segments:")
        for i, segment in enumerate(SEGMENTS):
            slip = f", spondylolisthesis_grade: {1 if i % 2 else 0}" if n == 0 else ""
            lines.append(f"      {segment}: {{central_stenosis: {'moderate' if n % 2 else 'mild'}, "
                         f"neural_compression: true{slip}}}")
    levels = ", ".join(SEGMENTS[1:])
    lines += ["requests:", "  - stage: 1", "    setting: outpatient", "    procedures:",
              f"      - {{code: '22633', levels: [{SEGMENTS[0]}]}}", f"      - {{code: '22634', levels: [{levels}]}}"]
    return "\n".join(lines) + "\n"


def why_not_lines(kb, path: Path, repeat: int, label: str) -> list[float]:
    session = open_session(kb, path)
    lines = [ln for ln in session.lines if line_verdict(session, ln)[0] != "medically_necessary"]
    for line in lines:  # warm every code path once
        explain_absence(session, line, "medically_necessary", line_verdict(session, line), tree=False)
    answer, whole = [], []
    for line in lines:
        def answer_only():
            s = open_session(kb, path)
            s.derived  # the case read and evaluated before the clock starts
            start = time.process_time()
            explain_absence(s, line, "medically_necessary", line_verdict(s, line), tree=False)
            return time.process_time() - start

        answer.append(statistics.median(answer_only() for _ in range(repeat)))
        def with_case():
            s = open_session(kb, path)
            explain_absence(s, line, "medically_necessary", line_verdict(s, line), tree=False)

        whole.append(cpu(with_case, repeat))
    reference = cpu(lambda: decide(open_session(kb, path)), repeat)
    print(f"{label}: {len(lines)} lines that are not medically necessary")
    print(f"  why-not with minimal sets, answer only:    median {statistics.median(answer) * 1000:6.1f} ms per line, "
          f"max {max(answer) * 1000:6.1f} ms")
    print(f"  the same, reading and evaluating the case: median {statistics.median(whole) * 1000:6.1f} ms per line, "
          f"max {max(whole) * 1000:6.1f} ms")
    print(f"  reference, a full decision of the case:    median {reference * 1000:6.1f} ms "
          f"(answer / decision: {statistics.median(answer) / reference:.2f}x)")
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    kb = KnowledgeBase.load(ROOT / "kb")
    kb.program.backend.activate()
    print("CPU time, median of", args.repeat, "runs; targets: why-not <= 100 ms per line on the reference case, "
          "<= 250 ms on the 16-level x 20-study case")
    why_not_lines(kb, CASE, args.repeat, "reference case")
    with tempfile.TemporaryDirectory() as folder:
        wide = Path(folder) / "wide.yaml"
        wide.write_text(wide_case(), encoding="utf-8")
        why_not_lines(kb, wide, max(1, args.repeat // 2), "16 levels x 20 studies")

    def why():
        session = open_session(kb, CASE)
        line = next(ln for ln in session.lines if ln.code == "22558")
        session.explainer.why(LINE_VERDICT, (line.id, *line_verdict(session, line))).to_dict()

    def verdicts_only():
        session = open_session(kb, CASE)
        session.evaluate(["line_verdict", "stage_verdict", "admission_verdict", "doc_request"])

    print(f"why 22558 L2-3 (reading the case): median {cpu(why, args.repeat) * 1000:6.1f} ms   (target <= 50 ms)")
    plain = cpu(verdicts_only, args.repeat)
    full = cpu(lambda: decide(open_session(kb, CASE), explain=True), args.repeat)
    print(f"decision without proofs: median {plain * 1000:6.1f} ms; with every proof tree (--explain): "
          f"{full * 1000:6.1f} ms, ratio {full / plain:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
