"""The same cases decided by SWI-Prolog and by `warrant batch`, each timed as a whole process.

    python benchmarks/bench_swipl.py CASES [--repeat 3] [--jobs 1] [--work DIR]

CASES is a JSON Lines stream or a directory of case files (bench_batch.py leaves both in its
work directory). Preparation, untimed: the kb is exported (`engine.present.prolog.export_program`) and
every case's base facts (`session.facts`, the facts `warrant batch` asserts) are written into one
Prolog file as `case_facts(Id, [Fact, ...])`. The timed SWI-Prolog process consults the kb and
that file and, for each case in turn, asserts its facts, prints every answer of the interface
predicates `warrant decide` reads (line, stage and admission verdicts, supported days,
documentation requests), retracts the facts and abandons its tables: per-case assert, evaluate,
retract, the way Warrant evaluates a case. (The other way, adding a case-id argument to every
predicate and deriving all cases at once, asks SWI-Prolog for one huge tabled computation that
Warrant never does, and would hold every case in memory at once.) Two Warrant processes are timed:
`warrant batch CASES --jobs N --verdicts-only` (stage, admission and line verdicts: what
SWI-Prolog is asked for, less the documentation requests) against a SWI-Prolog run asked for the
verdict predicates alone, and `warrant batch CASES --jobs N` writing full decisions (verdicts
plus reasons, missing documentation and citations, which SWI-Prolog is not asked for) against
the run asked for every interface predicate. All read their input from files and write their
answers to a file; every line verdict of both Warrant outputs is checked to agree.
Each process is timed by the wall clock and by its CPU time (user + system, children included);
on a shared machine the CPU ratio moves less with other work than the wall ratio does.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = [("line_verdict", 3), ("stage_verdict", 2), ("admission_verdict", 3), ("admission_supported_days", 2),
         ("doc_request", 2)]
DRIVER = r"""
:- initialization(main, main).
show(Case, Name/Arity) :-
    functor(Goal, Name, Arity), Goal =.. [_|Args],
    forall(call(Goal), (format("~w\t~w", [Case, Name]), forall(member(A, Args), format("\t~w", [A])), nl)).
run(Case, Facts) :-
    maplist(assertz, Facts),
    forall(member(G, [%GOALS%]), show(Case, G)),
    maplist(retract, Facts),
    abolish_all_tables.
main :- forall(case_facts(Case, Facts), run(Case, Facts)).
"""


def warrant() -> str:
    return shutil.which("warrant") or str(Path(sys.executable).with_name("warrant"))


def prepare(cases: Path, work: Path) -> tuple[Path, Path, Path, Path, int]:
    """kb.pl, facts.pl and the drivers (every interface predicate; the verdicts alone) for the
    cases (the facts of invalid cases are left out)."""
    from engine.language import ast
    from engine.batch.runner import iter_items
    from engine.errors import CaseError
    from engine.knowledge.base import KnowledgeBase
    from engine.present.prolog import export_program
    from engine.inputs import open_session

    kb = KnowledgeBase.load(None)
    kb_pl, facts_pl, driver_pl, verdicts_pl = work / "kb.pl", work / "facts.pl", work / "driver.pl", work / "verdicts.pl"
    kb_pl.write_text(export_program(kb.program), encoding="utf-8")
    count = 0
    with facts_pl.open("w", encoding="utf-8") as out:
        out.write(":- style_check(-singleton).\n")
        for source, text, _number, _problem in iter_items([cases]):
            try:
                session = open_session(kb, source, text=text)
            except CaseError:
                continue
            terms = [f"{pred}({', '.join(ast.format_value(v) for v in row)})"
                     for (pred, _arity), rows in sorted(session.facts.items()) for row in rows]
            out.write(f"case_facts({ast.format_value(session.case_id)}, [{', '.join(terms)}]).\n")
            count += 1
    driver_pl.write_text(DRIVER.replace("%GOALS%", ", ".join(f"{n}/{a}" for n, a in GOALS)), encoding="utf-8")
    verdicts_pl.write_text(DRIVER.replace("%GOALS%", ", ".join(f"{n}/{a}" for n, a in GOALS if n != "doc_request")),
                           encoding="utf-8")
    return kb_pl, facts_pl, driver_pl, verdicts_pl, count


def adopt_descendants() -> bool:
    """Make this process the Linux "child subreaper" of what it starts, so a process orphaned
    below it (the forkserver that `warrant batch --jobs N` starts outlives warrant by a moment,
    and it is the parent of the workers) is reparented here and reaped by `timed`: its CPU time,
    and that of the workers it reaped, then counts. False where the call is not available."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans() -> None:
    """Wait for every process reparented here (see adopt_descendants)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def timed(cmd: list[str], stdout: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process and its descendants: on a shared machine
    the CPU time moves less with the load than the wall time does. The wall time ends with the
    command; the CPU time also takes in the descendants reaped after it (adopt_descendants)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with stdout.open("wb") as out:
        run = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
    elapsed = time.perf_counter() - start
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {run.stderr.decode()[-2000:]}")
    if b"Warning" in run.stderr:
        raise SystemExit(f"{cmd[0]} warned: {run.stderr.decode()[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def agree(swipl_out: Path, warrant_out: Path) -> tuple[int, int]:
    """Line verdicts per case from both outputs; returns (lines compared, disagreements)."""
    prolog: dict[str, set] = {}
    for line in swipl_out.read_text(encoding="utf-8").splitlines():
        case, name, *row = line.split("\t")
        if name == "line_verdict":
            prolog.setdefault(case, set()).add(tuple(row))
    compared = wrong = 0
    with warrant_out.open(encoding="utf-8") as fh:
        for raw in fh:
            decision = json.loads(raw)
            if "error" in decision:
                continue
            ours = set()
            for stage in decision["stages"]:
                for line in stage["lines"]:
                    line_id = f"{stage['stage']}:{line['code']}:{line['level'] or line['side'] or '-'}"
                    ours.add((line_id, line["verdict"], line["basis"]))
            theirs = prolog.get(decision["case_id"], set())
            compared += len(ours)
            wrong += len(ours ^ theirs)
    return compared, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of `warrant batch` (SWI-Prolog uses one core)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "warrant-bench-swipl")
    args = parser.parse_args()
    swipl = shutil.which("swipl")
    if swipl is None:
        raise SystemExit("swipl is not on PATH (apt-get install swi-prolog-nox)")
    args.work.mkdir(parents=True, exist_ok=True)
    if not adopt_descendants() and args.jobs > 1:
        print("note: this system cannot adopt orphaned processes: the CPU time of warrant's workers "
              "may go uncounted (the wall time is exact)")
    os.environ.setdefault("WARRANT_CACHE_DIR", str(args.work / "kb-cache"))
    kb_pl, facts_pl, driver_pl, verdicts_pl, count = prepare(args.cases, args.work)
    swipl_cmds = {"all": [swipl, "-q", str(kb_pl), str(facts_pl), str(driver_pl)],
                  "verdicts": [swipl, "-q", str(kb_pl), str(facts_pl), str(verdicts_pl)]}
    # the exported program is the default policy's first version: pin warrant to it too, or cases
    # dated from 2027 would be decided by reference 1.1 on one side only
    warrant_cmds = {kind: [warrant(), "batch", str(args.cases), "--jobs", str(args.jobs), "-o",
                           str(args.work / f"warrant-{kind}.jsonl"), "--quiet", "--policy", "reference@1.0", *extra]
                    for kind, extra in (("verdicts", ["--verdicts-only"]), ("full", []))}
    version = subprocess.run([swipl, "--version"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()
    print(f"{count} cases; {version}; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    subprocess.run([warrant(), "check"], check=True, capture_output=True, cwd=ROOT)  # warm the kb cache
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("swipl-verdicts", "verdicts", "swipl-all", "full")}
    for _ in range(args.repeat):  # interleaved, so a change in machine load touches every run alike
        times["swipl-verdicts"].append(timed(swipl_cmds["verdicts"], args.work / "swipl-verdicts.tsv"))
        times["verdicts"].append(timed(warrant_cmds["verdicts"], args.work / "warrant.stdout"))
        times["swipl-all"].append(timed(swipl_cmds["all"], args.work / "swipl.tsv"))
        times["full"].append(timed(warrant_cmds["full"], args.work / "warrant.stdout"))
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    labels = {"swipl-verdicts": "swipl (verdict predicates)", "verdicts": f"warrant batch --jobs {args.jobs} --verdicts-only",
              "swipl-all": "swipl (every interface predicate)", "full": f"warrant batch --jobs {args.jobs} (full decisions)"}
    for kind, label in labels.items():
        print(f"{label:42s} median {wall[kind]:7.2f} s wall {cpu[kind]:7.2f} s CPU  {count / wall[kind]:7.1f} cases/s  "
              f"(runs {', '.join(f'{w:.2f}/{c:.2f}' for w, c in times[kind])})")
    for name, ours, theirs in (("verdicts only", "verdicts", "swipl-verdicts"), ("full decisions", "full", "swipl-all")):
        print(f"ratio warrant / swipl, {name + ':':16s} {wall[ours] / wall[theirs]:5.1f}x wall, "
              f"{cpu[ours] / cpu[theirs]:5.1f}x CPU")
    for kind in ("verdicts", "full"):
        compared, wrong = agree(args.work / "swipl.tsv", args.work / f"warrant-{kind}.jsonl")
        print(f"line verdicts compared ({kind}): {compared}, disagreements: {wrong}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
