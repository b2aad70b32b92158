"""Scale (issue 16, point 5): kb size, recursive programs against SWI-Prolog, a large kb table.

    python benchmarks/bench_scale.py [--root DIR] [--size N] [--table 100000] [--cases 120]

Prints, each beside its reference, in one run:
- per-case full decision with the kb as it is and with seven renamed copies of its rules added
  (x8 rules; the copies read the same case facts but no decision reads them), each after
  `gc.freeze()` as batch workers do — target: flat +-20%;
- LUBM-style recursive programs (organisations nested three deep, membership through them,
  chains of academic advisors; a few thousand facts) through `Program.add_facts` and through
  program text, against `swipl` consulting the same program with tabling — target <= 10x;
- a kb table of 100,000 facts: load time (parse, check, compile, uncached) — target <= 2 s —
  and the per-case decision with the table loaded against without it.
`--root` runs the same figures on another checkout (e.g. main's worktree) for before/after.
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
parser.add_argument("--size", type=int, default=2, help="universities in the LUBM-style data")
parser.add_argument("--table", type=int, default=100_000, help="facts in the large kb table")
parser.add_argument("--cases", type=int, default=120, help="corpus cases per decision figure")
parser.add_argument("--skip", default="", help="comma-separated parts to skip: rules,lubm,table")
ARGS = parser.parse_args()
ROOT = ARGS.root.resolve()
sys.path.insert(0, str(ROOT))
os.environ.setdefault("WARRANT_CACHE_DIR", tempfile.mkdtemp(prefix="warrant-bench-"))

from engine.cases import case_document, expand_lines, load_case  # noqa: E402
from engine.decide.decision import decide  # noqa: E402
from engine.decide.session import CaseSession  # noqa: E402
from engine.evaluate.program import Program  # noqa: E402
from engine.knowledge.base import KnowledgeBase  # noqa: E402
from engine.language import ast  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# -- per-case decisions ------------------------------------------------------------------------
def sessions(kb, count: int) -> list:
    out = []
    for path in sorted((ROOT / "kb" / "corpus").glob("*.yaml"))[:count]:
        case = load_case(path, kb)
        lines = expand_lines(case, kb.code_units)
        out.append((case, str(path), lines, case_document(case, lines)))
    return out


def decision_cpu(kb, cases: list, repeat: int = 2) -> float:
    """Median CPU time of a full decision (the first pass warms caches)."""
    times = []
    for rep in range(repeat + 1):
        for case, source, lines, document in cases:
            session = CaseSession(kb, case, source, lines, document)
            start = time.process_time()
            decide(session)
            if rep:
                times.append(time.process_time() - start)
    return statistics.median(times)


def settle() -> None:
    """What batch workers do once the kb is loaded (engine.batch.runner._settle): move what is
    alive out of the cyclic collector's way, so its passes do not grow with the kb's size."""
    gc.collect()
    gc.freeze()


def renamed(clause: ast.Clause, names: set, suffix: str) -> ast.Clause:
    def atom(a: ast.Atom) -> ast.Atom:
        return ast.Atom(a.pred + suffix, a.args, a.loc) if a.pred in names else a

    def literal(lit):
        if isinstance(lit, ast.Positive):
            return ast.Positive(atom(lit.atom))
        if isinstance(lit, ast.Negation):
            return ast.Negation(atom(lit.atom), lit.loc)
        if isinstance(lit, ast.Aggregate):
            return ast.Aggregate(lit.kind, lit.over, tuple(literal(g) for g in lit.goal), lit.result, lit.loc)
        return lit

    return ast.Clause(atom(clause.head), tuple(literal(b) for b in clause.body), None, clause.loc)


def unrelated_rules(kb, cases: list) -> None:
    program = kb.program
    derived = {c.head.pred for c in program.clauses if c.body}
    rules = [c for c in program.clauses if c.body]
    extra = [ast.Module(f"copy{i}.dl", tuple(renamed(c, derived, f"_copy{i}") for c in rules), ())
             for i in range(1, 8)]
    settle()
    base = decision_cpu(kb, cases)
    bigger = Program(list(program.modules) + extra, findings=[])
    kb.program = bigger
    try:
        bigger.backend.activate()
        settle()
        wide = decision_cpu(kb, cases)
    finally:
        kb.program = program
    print(f"kb rules x1 ({len(rules)} rules): full decision median {ms(base)} per case")
    print(f"kb rules x8 ({len(rules) * 8} rules): full decision median {ms(wide)} per case   "
          f"ratio {wide / base:.2f}x (target 0.8-1.2x)")


# -- LUBM-style recursive programs -------------------------------------------------------------
RULES = """
sub_org(X, Y) :- sub_organization_of(X, Y).
sub_org(X, Z) :- sub_organization_of(X, Y), sub_org(Y, Z).
member_in(P, O) :- member_of(P, O).
member_in(P, O) :- works_for(P, O).
member_in(P, O) :- member_in(P, S), sub_org(S, O).
ancestor(S, P) :- advisor(S, P).
ancestor(S, Q) :- advisor(S, P), ancestor(P, Q).
taught_by(S, P) :- takes_course(S, C), teacher_of(P, C).
peer(A, B) :- works_for(P, u0_d0), ancestor(A, P), ancestor(B, P).
"""
QUERIES = [("sub_org", 2), ("member_in", 2), ("ancestor", 2), ("taught_by", 2), ("peer", 2)]


def lubm_facts(universities: int) -> dict[str, list[tuple]]:
    """Universities > departments > groups; professors advised by earlier professors (chains),
    students in groups advised by professors, courses taught and taken."""
    facts: dict[str, list[tuple]] = {k: [] for k in ("sub_organization_of", "member_of", "works_for",
                                                      "advisor", "takes_course", "teacher_of")}
    for u in range(universities):
        for d in range(10):
            dept = f"u{u}_d{d}"
            facts["sub_organization_of"].append((dept, f"u{u}"))
            for g in range(4):
                facts["sub_organization_of"].append((f"{dept}_g{g}", dept))
            for p in range(12):
                prof = f"{dept}_p{p}"
                facts["works_for"].append((prof, dept))
                facts["teacher_of"].append((prof, f"{dept}_c{p}"))
                if p:
                    facts["advisor"].append((prof, f"{dept}_p{p // 2}"))
            for s in range(80):
                student = f"{dept}_s{s}"
                facts["member_of"].append((student, f"{dept}_g{s % 4}"))
                facts["advisor"].append((student, f"{dept}_p{s % 12}"))
                for c in range(3):
                    facts["takes_course"].append((student, f"{dept}_c{(s + c * 5) % 12}"))
    return facts


def lubm_text(facts: dict[str, list[tuple]]) -> str:
    lines = [f"{pred}({', '.join(row)})." for pred, rows in facts.items() for row in rows]
    return RULES + "\n".join(lines) + "\n"


def lubm_api(facts) -> tuple[float, dict]:
    start = time.process_time()
    program = Program.from_text(RULES, "lubm.dl")
    for pred, rows in facts.items():
        program.add_facts(pred, rows)
    counts = {name: len(program.query(name, arity)) for name, arity in QUERIES}
    return time.process_time() - start, counts


def lubm_from_text(text: str) -> tuple[float, dict]:
    start = time.process_time()
    program = Program.from_text(text, "lubm.dl")
    counts = {name: len(program.query(name, arity)) for name, arity in QUERIES}
    return time.process_time() - start, counts


def lubm_swipl(text: str, work: Path) -> tuple[float, float, dict]:
    """CPU inside swipl (consult + queries, from statistics/2) and the whole process's wall time."""
    tables = ", ".join(f"{n}/{a}" for n, a in QUERIES)
    goals = ", ".join(f"{n}/{a}" for n, a in QUERIES)
    program = work / "lubm.pl"
    program.write_text(f":- table {tables}.\n:- style_check(-singleton).\n{text}", encoding="utf-8")
    driver = work / "driver.pl"
    driver.write_text(f"""
:- initialization(main, main).
count(N/A) :- functor(G, N, A), aggregate_all(count, G, C), format("~w ~w~n", [N, C]).
main :- statistics(cputime, T0), consult('{program}'), forall(member(Q, [{goals}]), count(Q)),
        statistics(cputime, T1), T is T1 - T0, format("cpu ~w~n", [T]).
""", encoding="utf-8")
    start = time.perf_counter()
    run = subprocess.run(["swipl", str(driver)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    counts, cpu = {}, 0.0
    for line in run.stdout.splitlines():
        name, value = line.split()
        if name == "cpu":
            cpu = float(value)
        else:
            counts[name] = int(value)
    return cpu, wall, counts


def lubm(work: Path) -> None:
    facts = lubm_facts(ARGS.size)
    text = lubm_text(facts)
    total = sum(len(r) for r in facts.values())
    if not shutil.which("swipl"):
        print("swipl not found: LUBM-style comparison skipped")
        return
    swipl_cpu, swipl_wall, theirs = min((lubm_swipl(text, work) for _ in range(3)), key=lambda r: r[0])
    api, ours_api = lubm_api(facts)
    from_text, ours_text = lubm_from_text(text)
    answers = sum(theirs.values())
    print(f"LUBM-style, {ARGS.size} universities: {total} facts, {answers} answers "
          f"({', '.join(f'{k} {v}' for k, v in theirs.items())})")
    print(f"  swipl (tabled) consult + queries:      CPU {ms(swipl_cpu)}   whole process {ms(swipl_wall)}")
    for label, took, ours in (("Program.add_facts + query", api, ours_api), ("Program.from_text + query", from_text, ours_text)):
        agree = "answers agree" if ours == theirs else f"ANSWERS DIFFER {ours}"
        print(f"  {label:38s} CPU {ms(took)}   ratio {took / swipl_cpu:5.1f}x CPU, "
              f"{took / swipl_wall:5.1f}x swipl's whole process (target <= 10x)   {agree}")


# -- a large kb table ----------------------------------------------------------------------------
READER = """
%@ pred bench_hit(Key)
%@ holds entry {Key} is a hit

%@ rule bench.hit
%@ says entry {Key} is a hit
bench_hit(Key) :- bench_table(Key, 96).
"""


def table_kb(work: Path, name: str, reader: bool) -> Path:
    """A copy of the kb with the large table (and, with `reader`, one rule that reads it)."""
    copy = work / name
    shutil.copytree(ROOT / "kb", copy, ignore=shutil.ignore_patterns("corpus", "tests", "examples"))
    rows = "".join(f"bench_table('t{i:06d}', {i % 97}).\n" for i in range(ARGS.table))
    (copy / "table.dl").write_text("% A large table (bench_scale.py).\n\n%@ pred bench_table(Key, Value)\n"
                                   "%@ holds entry {Key} has value {Value}\n%@ missing no entry {Key}\n"
                                   + (READER if reader else "") + "\n" + rows, encoding="utf-8")
    return copy


def timed_load(root: Path):
    """Load uncached and compile into pyDatalog: (kb, wall seconds, CPU seconds), or the error."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        loaded = KnowledgeBase.load(root, use_cache=False)
        loaded.program.backend.activate()
    except Exception as exc:  # a kb check may refuse the table; say so rather than stop the run
        return str(exc)[:300], 0.0, 0.0
    return loaded, time.perf_counter() - start, time.process_time() - cpu


def big_table(kb, cases: list, work: Path) -> None:
    large, wall, cpu = timed_load(table_kb(work, "kb", reader=False))
    if isinstance(large, str):
        print(f"kb table of {ARGS.table} facts: not loaded: {large}")
        return
    small = time.perf_counter()
    KnowledgeBase.load(ROOT / "kb", use_cache=False).program.backend.activate()
    small = time.perf_counter() - small
    print(f"kb table of {ARGS.table} facts: load (parse, check, compile; uncached) {ms(wall)} wall, {ms(cpu)} CPU "
          f"(target <= 2000 ms; the kb alone {ms(small)})")
    read, rwall, rcpu = timed_load(table_kb(work, "kb-read", reader=True))
    if isinstance(read, str):
        print(f"  the same table read by a rule: not loaded: {read}")
    else:
        first = time.process_time()
        hits = len(read.program.query("bench_hit", 1))
        first = time.process_time() - first
        print(f"  the same table read by a rule: load {ms(rwall)} wall, {ms(rcpu)} CPU; then the rule's first "
              f"answers (the table stored for pyDatalog when first needed) {ms(first)} CPU: {hits} rows")
    base = decision_cpu(kb, cases)
    with_table = decision_cpu(large, cases)
    print(f"  full decision with the table {ms(with_table)} vs without {ms(base)}: ratio {with_table / base:.2f}x")


def main() -> None:
    skip = set(ARGS.skip.split(","))
    print(f"checkout: {ROOT}")
    kb = KnowledgeBase.load(ROOT / "kb")
    cases = sessions(kb, ARGS.cases)
    with tempfile.TemporaryDirectory(prefix="warrant-scale-") as tmp:
        work = Path(tmp)
        if "rules" not in skip:
            unrelated_rules(kb, cases)
        if "lubm" not in skip:
            lubm(work)
        if "table" not in skip:
            big_table(kb, cases, work)


if __name__ == "__main__":
    main()
