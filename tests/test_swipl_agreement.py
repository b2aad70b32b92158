"""SWI-Prolog agreement: the exported kb plus a case's exported facts give SWI-Prolog the same
answers as Warrant, for every interface predicate of every bundled case."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import bundled_kb
from engine.cases import load_case
from engine.knowledge.base import KnowledgeBase
from engine.present.prolog import export_facts, export_program
from engine.decide.session import CaseSession

ROOT = Path(__file__).resolve().parent.parent
GOALS = [("line_verdict", 3), ("stage_verdict", 2), ("admission_verdict", 3), ("admission_supported_days", 2),
         ("doc_request", 2), ("criterion_met", 2)]
DRIVER = r"""
:- initialization(main, main).
show(Case, Name/Arity) :-
    functor(Goal, Name, Arity), Goal =.. [_|Args],
    forall(call(Goal), (format("~w\t~w", [Case, Name]), forall(member(A, Args), format("\t~w", [A])), nl)).
run(Case-File) :-
    load_files(File, []),
    forall(member(G, [%GOALS%]), show(Case, G)),
    unload_file(File), abolish_all_tables.
main :- forall(member(C, [%CASES%]), run(C)).
"""


def bundled_cases() -> list[tuple[str, Path, tuple]]:
    cases = [(p.stem, p, ()) for p in sorted((ROOT / "kb" / "examples").glob("*.yaml"))]
    cases += [(f"test-{p.stem}", p, ("case",)) for p in sorted((ROOT / "kb" / "tests").glob("*.yaml"))]
    cases += [(f"policy-{p.stem}", p, ("case",)) for p in sorted((ROOT / "kb" / "tests" / "policies").glob("*.yaml"))]
    return cases


def _policies() -> list[str]:
    from engine.knowledge.policies import load_table

    return [v.key for v in load_table(ROOT / "kb").versions]


def _warrant_answers(kb, session) -> set[tuple]:
    out = set()
    for name, arity in GOALS:
        for row in session.derived.get((name, arity), ()):
            out.add((name,) + tuple(str(v) for v in row))
    return out


@pytest.mark.skipif(shutil.which("swipl") is None, reason="SWI-Prolog (swipl) is not installed")
@pytest.mark.parametrize("policy", _policies())
def test_swipl_gives_the_same_answers_for_every_bundled_case(tmp_path, policy):
    """Every shipped policy version, exported as `warrant export --prolog --policy` does."""
    kb = KnowledgeBase.load(ROOT / "kb", policy=policy)
    (tmp_path / "kb.pl").write_text(export_program(kb.program), encoding="utf-8")
    expected: dict[str, set[tuple]] = {}
    pairs = []
    for i, (name, path, at) in enumerate(bundled_cases()):
        case = load_case(path, bundled_kb(), at=at)
        from engine.cases import case_document, expand_lines

        lines = expand_lines(case, kb.code_units)
        session = CaseSession(kb, case, str(path), lines, case_document(case, lines))
        facts_file = tmp_path / f"case{i}.pl"
        facts_file.write_text(export_facts(session.facts), encoding="utf-8")
        expected[f"c{i}"] = _warrant_answers(kb, session)
        pairs.append(f"c{i}-'{facts_file}'")
    driver = DRIVER.replace("%GOALS%", ", ".join(f"{n}/{a}" for n, a in GOALS)).replace("%CASES%", ", ".join(pairs))
    (tmp_path / "driver.pl").write_text(driver, encoding="utf-8")
    run = subprocess.run(["swipl", "-q", str(tmp_path / "kb.pl"), str(tmp_path / "driver.pl")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr, run.stderr
    actual: dict[str, set[tuple]] = {k: set() for k in expected}
    for line in run.stdout.splitlines():
        case, *row = line.split("\t")
        actual[case].add(tuple(row))
    assert len(expected) >= 2
    for case in expected:
        assert actual[case] == expected[case], (case, sorted(actual[case] ^ expected[case])[:10])
