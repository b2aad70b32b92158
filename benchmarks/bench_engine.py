"""Engine figures: kb load (uncached / cached) and per-case evaluation. Prints numbers; not a test.

    python benchmarks/bench_engine.py [--repeat N] [--root DIR] [--generated N] [--seed S]

Per-case figures are CPU time (time.process_time), medians over the examples, kb tests and
kb/corpus (which `warrant generate --seed 1` wrote), and, apart, over N cases freshly generated
with another seed (default 300, seed 7; 0 skips them); issue 16's target for a full decision is
5 ms. `--root` measures another checkout (e.g. main's worktree) with this script, for
before/after figures in one sitting.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "--root" in sys.argv:
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))

from engine.cases import case_document, expand_lines, load_case  # noqa: E402
from engine.decide.decision import decide  # noqa: E402
from engine.knowledge.base import KnowledgeBase  # noqa: E402
from engine.decide.session import CaseSession  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load_and_compile(use_cache: bool) -> float:
    start = time.perf_counter()
    kb = KnowledgeBase.load(ROOT / "kb", use_cache=use_cache)
    kb.program.backend.activate()  # builds the pyDatalog clauses in this thread
    return time.perf_counter() - start


def case_files() -> list[tuple[Path, tuple]]:
    files = [(p, ()) for p in sorted((ROOT / "kb" / "examples").glob("*.yaml"))]
    files += [(p, ("case",)) for p in sorted((ROOT / "kb" / "tests").glob("*.yaml"))]
    files += [(p, ()) for p in sorted((ROOT / "kb" / "corpus").glob("*.yaml"))]
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--root", default=None, help="the checkout to measure (default: this one)")
    parser.add_argument("--generated", type=int, default=300, help="freshly generated cases measured apart (0: none)")
    parser.add_argument("--seed", type=int, default=7, help="the seed of those cases")
    args = parser.parse_args()
    import os

    os.environ["WARRANT_CACHE_DIR"] = tempfile.mkdtemp(prefix="warrant-bench-")
    uncached = [load_and_compile(False) for _ in range(args.repeat)]
    load_and_compile(True)  # fill the cache
    cached = [load_and_compile(True) for _ in range(args.repeat)]
    kb = KnowledgeBase.load(ROOT / "kb")
    rules = sum(1 for c in kb.program.clauses if not c.is_fact)
    print(f"knowledge base: {len(kb.program.clauses)} clauses ({rules} rules), "
          f"{len(kb.program.core.clauses)} pyDatalog clauses after lowering")
    print(f"parse + check + compile, uncached: median {ms(statistics.median(uncached))} (min {ms(min(uncached))})")
    print(f"load from cache + compile:         median {ms(statistics.median(cached))} (min {ms(min(cached))})")

    per_case(kb, case_files(), "examples, rule tests and kb/corpus")
    if args.generated:
        per_case(kb, generated(kb, args.generated, args.seed), f"{args.generated} cases generated with seed {args.seed}")


def generated(kb: KnowledgeBase, count: int, seed: int) -> list[tuple[Path, tuple]]:
    """Fresh cases from the kb's generator (not kb/corpus: another seed), written to a temp dir."""
    from engine.authoring.generate import Generator, write_cases

    folder = Path(tempfile.mkdtemp(prefix="warrant-bench-cases-"))
    return [(p, ()) for p in write_cases(Generator.load(kb, seed, None).generate(count), folder)]


def per_case(kb: KnowledgeBase, files: list[tuple[Path, tuple]], what: str) -> None:
    cases = []
    for path, at in files:
        case = load_case(path, kb, at=at)
        lines = expand_lines(case, kb.code_units)
        cases.append((case, str(path), lines, case_document(case, lines)))
    derive_times, decide_times, fact_counts = [], [], []
    for rep in range(2):
        for case, source, lines, document in cases:
            session = CaseSession(kb, case, source, lines, document)
            start = time.process_time()
            facts = session.facts
            session.derived
            middle = time.process_time()
            decide(session)
            end = time.process_time()
            if rep:  # the first pass warms caches
                derive_times.append(middle - start)
                decide_times.append(end - start)
                fact_counts.append(sum(len(r) for r in facts.values()))
    print(f"{what}: {len(cases)} cases, median {statistics.median(fact_counts):.0f} base facts per case")
    print(f"  per case, facts + pyDatalog evaluation (all verdicts): median {ms(statistics.median(derive_times))}")
    print(f"  per case, full decision (verdicts, reasons, missing documentation): "
          f"median {ms(statistics.median(decide_times))}   (target <= 5.0 ms)")
    print(f"  full decision / verdicts only: {statistics.median(decide_times) / statistics.median(derive_times):.2f}x")


if __name__ == "__main__":
    main()
