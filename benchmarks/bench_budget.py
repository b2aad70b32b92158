"""What the evaluation budget's step counter costs: corpus cases derived and decided with the
counting pyDatalog state (engine/compile/backend.py `_MeteredLogic`) and with pyDatalog's plain
one, alternately, in one run (medians of rounds; the machine's load cancels out in the ratio).

    python benchmarks/bench_budget.py [--cases 120] [--rounds 7]
"""
from __future__ import annotations

import argparse
import glob
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from pyDatalog.Logic import Logic

    import engine.compile.backend as backend
    from engine.decide.decision import decide
    from engine.inputs import open_session
    from engine.knowledge.base import KnowledgeBase

    files = sorted(glob.glob(str(ROOT / "kb" / "corpus" / "*.yaml")))[:args.cases]
    metered = KnowledgeBase.load(None)
    metered.program.backend.activate()
    counting = backend._MeteredLogic
    backend._MeteredLogic = Logic  # the next program's thread state is pyDatalog's plain one
    plain = KnowledgeBase.load(None)
    plain.program.backend.activate()
    backend._MeteredLogic = counting

    def run(kb, full: bool) -> float:
        sessions = [open_session(kb, f) for f in files]
        start = time.perf_counter()
        for session in sessions:
            decide(session) if full else kb.program.derive(session.facts)
        return (time.perf_counter() - start) * 1000 / len(files)

    for label, full in (("derive (evaluation only)", False), ("decide (whole decision)", True)):
        times: dict[str, list[float]] = {"counted": [], "plain": []}
        for _ in range(args.rounds):
            times["counted"].append(run(metered, full))
            times["plain"].append(run(plain, full))
        counted, bare = statistics.median(times["counted"]), statistics.median(times["plain"])
        print(f"{label:26} with step counter {counted:6.2f} ms/case   plain pyDatalog {bare:6.2f} ms/case   "
              f"ratio {counted / bare:.3f}")


if __name__ == "__main__":
    main()
