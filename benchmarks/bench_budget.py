"""What the evaluation budget's step counter costs: corpus cases derived and decided with the
counting pyDatalog state (engine/compile/metered.py `MeteredLogic`) and with pyDatalog's plain
one, alternately, in one run (medians of rounds). A second counting program is timed the same
way as a control: its ratio to the first shows the noise of the machine (an A/A comparison).

On a loaded machine the end-to-end ratios move by ±10% between runs, so the script also prints
the cost from first principles: the extra time of one counted step and of one attribute set on
the counting state (timed over 300,000 of each, against pyDatalog's own), times how many of each
a corpus case makes.

    python benchmarks/bench_budget.py [--cases 120] [--rounds 7]
"""
from __future__ import annotations

import argparse
import glob
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _programs():
    """Three loads of the bundled kb: two counting, one on pyDatalog's plain state."""
    from pyDatalog.Logic import Logic

    import engine.compile.backend as backend
    from engine.knowledge.base import KnowledgeBase

    counted, control = KnowledgeBase.load(None), KnowledgeBase.load(None)
    counted.program.backend.activate()
    control.program.backend.activate()
    counting = backend.MeteredLogic
    backend.MeteredLogic = Logic  # the next program's thread state is pyDatalog's plain one
    plain = KnowledgeBase.load(None)
    plain.program.backend.activate()
    backend.MeteredLogic = counting
    return {"counted": counted, "control": control, "plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from engine.decide.decision import decide
    from engine.inputs import open_session

    files = sorted(glob.glob(str(ROOT / "kb" / "corpus" / "*.yaml")))[:args.cases]
    kbs = _programs()

    def run(kb, full: bool) -> float:
        sessions = [open_session(kb, f) for f in files]
        start = time.perf_counter()
        for session in sessions:
            decide(session) if full else kb.program.derive(session.facts)
        return (time.perf_counter() - start) * 1000 / len(files)

    _per_operation(kbs, files)
    for label, full in (("derive (evaluation only)", False), ("decide (whole decision)", True)):
        times: dict[str, list[float]] = {name: [] for name in kbs}
        for _ in range(args.rounds):
            for name, kb in kbs.items():
                times[name].append(run(kb, full))
        med = {name: statistics.median(values) for name, values in times.items()}
        print(f"{label:26} step counter {med['counted']:6.2f} ms/case   plain pyDatalog {med['plain']:6.2f} ms/case"
              f"   ratio {med['counted'] / med['plain']:.3f}   (control, counter vs counter: "
              f"{med['control'] / med['counted']:.3f})")


def _per_operation(kbs, files) -> None:
    """Nanoseconds added per counted step and per attribute set, and how many a case makes."""
    from pyDatalog import pyEngine
    from pyDatalog.Logic import Logic

    import engine.compile.metered as metered
    from engine.guard import budget
    from engine.inputs import open_session

    n = 300_000

    def pops(cls) -> float:
        queue = cls()
        for i in range(n):
            queue.append(i)
        with budget.metering(budget.Budget.unlimited()):
            start = time.process_time()
            for _ in range(n):
                queue.pop()
            return (time.process_time() - start) / n * 1e9

    def sets(cls) -> float:
        state = object.__new__(cls)
        start = time.process_time()
        for _ in range(n):
            state.Recursive = True
        return (time.process_time() - start) / n * 1e9

    step = statistics.median(pops(metered._counted(pyEngine.TaskList)) - pops(pyEngine.TaskList) for _ in range(3))
    assign = statistics.median(sets(metered.MeteredLogic) - sets(Logic) for _ in range(3))
    kb = kbs["counted"]
    counts = {"sets": 0}
    original = metered.MeteredLogic.__setattr__

    def counting(self, name, value):
        counts["sets"] += 1
        original(self, name, value)

    steps = 0
    sessions = [open_session(kb, f) for f in files]
    metered.MeteredLogic.__setattr__ = counting
    try:
        for session in sessions:
            with budget.metering(budget.Budget.unlimited()) as meter:
                kb.program.derive(session.facts)
            steps += meter.steps
    finally:
        metered.MeteredLogic.__setattr__ = original
    per_case = (steps * step + counts["sets"] * assign) / len(files) / 1e6
    print(f"per operation: +{step:.0f} ns a counted step, +{assign:.0f} ns an attribute set; a case makes "
          f"{steps / len(files):.0f} steps and {counts['sets'] / len(files):.0f} sets: +{per_case:.2f} ms a case")


if __name__ == "__main__":
    main()
