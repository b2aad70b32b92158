"""Per-case cost in machine instructions (valgrind), this checkout beside another: a figure that a
busy machine does not blur. Prints numbers; not a test.

    python benchmarks/bench_instructions.py [--root DIR] [--cases 20] [--mode full|derive]

Wall and CPU time on a shared two-core machine drift by ±25% run to run, more than most single
changes to the evaluator are worth; the number of instructions the interpreter executes does not.
Each checkout is run three times under `valgrind --tool=callgrind` (loading the kb only, then
also deciding `--cases` cases of kb/corpus, then also evaluating them only) and the differences
are divided by the number of cases. Needs valgrind (Debian package `valgrind`); a run takes about
a minute per checkout.

The full-decision line also says how many of those instructions run inside pyDatalog's `ask()`
(inclusive: its resolution, and the table lookups it calls back into), read from callgrind's
profile of the compiled engine. That part is the evaluator of record's own cost; only asking it
less lowers it (engine.compile.reuse answers a rule from an earlier case that gave it the same
rows, which the corpus's varied cases do less often than a batch's).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

WORK = r'''
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from engine.cases import case_document, expand_lines, load_case
from engine.decide.decision import decide
from engine.decide.session import CaseSession
from engine.knowledge.base import KnowledgeBase
root, count, mode = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
kb = KnowledgeBase.load(root / "kb")
cases = []
for path in sorted((root / "kb" / "corpus").glob("*.yaml"))[:count]:
    case = load_case(path, kb)
    lines = expand_lines(case, kb.code_units)
    cases.append((case, str(path), lines, case_document(case, lines)))
first = cases[0]
decide(CaseSession(kb, first[0], first[1], first[2], first[3]))  # warm every lazy table once
for case, source, lines, document in cases if mode != "none" else ():
    session = CaseSession(kb, case, source, lines, document)
    if mode == "full":
        decide(session)
    else:
        session.facts, session.derived
'''


ASK = re.compile(r"^\s*([\d,]+) .*pyEngine_\d+Literal_\d+ask\b", re.MULTILINE)
"""callgrind_annotate's inclusive line for the compiled engine's `Literal.ask` wrapper."""


def instructions(root: Path, count: int, mode: str) -> tuple[int, int | None]:
    """All instructions of the run, and those inside pyDatalog's `ask()` (None when callgrind's
    annotator cannot name the compiled engine's functions)."""
    env = dict(os.environ, WARRANT_CACHE_DIR=os.environ.get("WARRANT_CACHE_DIR", "/tmp/warrant-bench-instr"),
               PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))  # set orders, and so counts, repeat
    subprocess.run([sys.executable, "-c", WORK, str(root), "1", "none"], env=env, check=True)  # fills the kb cache
    with tempfile.TemporaryDirectory(prefix="warrant-bench-cg-") as folder:
        out = Path(folder) / "callgrind.out"
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                              "-c", WORK, str(root), str(count), mode], capture_output=True, text=True, env=env)
        found = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode or not found:
            sys.exit(f"valgrind run failed for {root}:\n{run.stderr[-2000:]}")
        return int(found.group(1)), _inside_ask(out)


def _inside_ask(profile: Path) -> int | None:
    if shutil.which("callgrind_annotate") is None:
        return None
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(profile)],
                          capture_output=True, text=True).stdout
    found = ASK.search(text)
    return int(found.group(1).replace(",", "")) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, action="append", default=[],
                        help="another checkout to measure beside this one (repeatable)")
    parser.add_argument("--cases", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    for root in [HERE, *args.root]:
        base, base_ask = instructions(root.resolve(), args.cases, "none")
        per_case, in_ask = {}, None
        for mode in ("derive", "full"):
            total, asked = instructions(root.resolve(), args.cases, mode)
            per_case[mode] = (total - base) / args.cases / 1e6
            if mode == "full" and asked is not None and base_ask is not None:
                in_ask = (asked - base_ask) / args.cases / 1e6
        inside = "" if in_ask is None else \
            f" ({in_ask:.2f} M of them, {in_ask / per_case['full']:.0%}, inside pyDatalog's ask())"
        print(f"{root}: per case, facts + evaluation {per_case['derive']:.2f} M instructions; "
              f"full decision {per_case['full']:.2f} M instructions{inside} ({args.cases} corpus cases)")


if __name__ == "__main__":
    main()
