"""Datalog conformance corpus for Warrant's logic engine, run through the public API.

The corpus is data: one folder per case under tests/conformance/ (a `program.dl` and its expected
answers, in the manner of Soufflé's tests/evaluation/; the format is described in
tests/conformance/corpus.py). Every accepted program is evaluated through `Program.from_text`,
`add_facts`, `query` and `ask`, and the complete answer set of each expected predicate is compared
with a hand-derived expectation. The expectations were also run through SWI-Prolog (every
predicate tabled, atom comparisons written with the standard-order operators `@<` etc.) and agree
with it. The programs follow the kinds of cases other Datalog engines test:
plain facts, joins, recursion of every shape, stratified negation, set semantics, aggregates,
comparisons, odd constants and names that could clash with the evaluator underneath.

Rejected programs must fail at load time with the right error code and a message that starts
with `file:line:col:` pointing at the offending line.

Each accepted program is evaluated in a forked child process with a deadline, so that an
evaluation which never terminates shows up as one failed (or expected-to-fail) test instead of
hanging the whole run.
"""
from __future__ import annotations

import importlib.util
import multiprocessing
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest

from engine import Program, WarrantError


def _corpus():
    """tests/conformance/corpus.py, imported by path (tests/ is not a package)."""
    path = Path(__file__).resolve().parent / "conformance" / "corpus.py"
    spec = importlib.util.spec_from_file_location("warrant_conformance_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus = _corpus()
CASES = corpus.cases()
ACCEPTED = [c for c in CASES if c.error is None]
REJECTED = [c for c in CASES if c.error is not None]

# A correct evaluation of any program here takes a few milliseconds; the deadline only exists
# to turn a non-terminating evaluation into a failure.
DEADLINE = 1.0

_FORK = multiprocessing.get_context("fork")


def _warm_up() -> None:
    """Build the parser and touch the evaluator once in this process, so forked children
    inherit them ready-made instead of paying for them in every test."""
    prog = Program.from_text("w(1).\nu(2).\nv(X, N) :- w(X), \\+ u(X), aggregate_all(count, w(_), N).\n")
    prog.query("v")
    prog.ask("v(X, N)")


_warm_up()


def _child(conn, fn: Callable[[], Any]) -> None:
    try:
        conn.send(("ok", fn()))
    except WarrantError as exc:  # report the engine's own error verbatim
        conn.send(("error", f"{type(exc).__name__}[{exc.code}]: {exc}"))
    except BaseException:  # noqa: BLE001 - anything else is reported to the parent as text
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_with_deadline(fn: Callable[[], Any], deadline: float = DEADLINE) -> Any:
    """Run `fn` in a forked child and return its result; fail the test on error or timeout."""
    parent, child = _FORK.Pipe(duplex=False)
    proc = _FORK.Process(target=_child, args=(child, fn), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(deadline):
            pytest.fail(f"evaluation did not finish within {deadline}s (non-termination)")
        status, value = parent.recv()
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        parent.close()
    if status != "ok":
        pytest.fail(f"evaluation raised:\n{value}")
    return value


# ---------------------------------------------------------------------------------------------
# Accepted programs
# ---------------------------------------------------------------------------------------------

def _evaluate(case) -> tuple[dict[str, set[tuple]], dict[str, list[dict]]]:
    prog = Program.from_text(case.text, source=f"{case.name}.dl", **case.options)
    for pred, rows in case.facts.items():
        prog.add_facts(pred, rows)
    answers = {pred: prog.query(pred) for pred in case.expect}
    asked = {goal: prog.ask(goal) for goal in case.asks}
    return answers, asked


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in ACCEPTED])
def test_program(case) -> None:
    answers, asked = run_with_deadline(lambda: _evaluate(case))
    for pred, expected in case.expect.items():  # values and their types: 1 is not written 1.0
        assert _typed(answers[pred]) == _typed(expected), f"{pred}: got {sorted(answers[pred], key=repr)}"
    for goal, expected in case.asks.items():
        assert [_typed(a.items()) for a in asked[goal]] == [_typed(a.items()) for a in expected], f"ask({goal!r})"


def _typed(rows) -> set:
    """Rows with each value tagged by its type, so that 1 and 1.0 (equal in Python) differ."""
    return {tuple((type(v).__name__, v) for v in row) if isinstance(row, tuple) else row for row in rows}


# ---------------------------------------------------------------------------------------------
# Fact sets, several programs, several threads
# ---------------------------------------------------------------------------------------------

REACH = """
path(X, Y) :- edge(X, Y).
path(X, Z) :- path(X, Y), edge(Y, Z).
node(X) :- edge(X, _).
node(X) :- edge(_, X).
isolated(X) :- node(X), \\+ path(X, _), \\+ path(_, X).
outdeg(X, N) :- node(X), aggregate_all(count, edge(X, _), N).
"""


def _answers(prog: Program) -> dict[str, set[tuple]]:
    return {p: prog.query(p) for p in ("path", "node", "isolated", "outdeg")}


def test_clear_facts_then_new_facts_do_not_leak() -> None:
    def scenario():
        prog = Program.from_text(REACH + "edge(x, x).\n", source="reach.dl")
        prog.add_facts("edge", [(1, 2), (2, 3)])
        first = _answers(prog)
        prog.clear_facts()
        cleared = _answers(prog)
        prog.add_facts("edge", [(7, 8)])
        second = _answers(prog)
        return first, cleared, second

    first, cleared, second = run_with_deadline(scenario)
    assert first == {
        "path": {(1, 2), (1, 3), (2, 3), ("x", "x")},
        "node": {(1,), (2,), (3,), ("x",)},
        "isolated": set(),
        "outdeg": {(1, 1), (2, 1), (3, 0), ("x", 1)},
    }
    # only the text's own fact survives clear_facts
    assert cleared == {"path": {("x", "x")}, "node": {("x",)}, "isolated": set(), "outdeg": {("x", 1)}}
    assert second == {
        "path": {(7, 8), ("x", "x")},
        "node": {(7,), (8,), ("x",)},
        "isolated": set(),
        "outdeg": {(7, 1), (8, 0), ("x", 1)},
    }


def test_answers_follow_fact_changes_between_queries() -> None:
    text = """
        edge(0, 1).
        path(X, Y) :- edge(X, Y).
        path(X, Z) :- path(X, Y), edge(Y, Z).
        n_paths(N) :- aggregate_all(count, path(_, _), N).
        tpath(X, Y) :- tedge(X, Y).
        tpath(X, Z) :- tpath(X, Y), tedge(Y, Z).
        tedge(a, b). tedge(b, c).
        """

    def snapshot(prog: Program):
        return (prog.query("path"), prog.ask("path(0, X)"), prog.query("n_paths"),
                prog.query("tpath"), prog.ask("tpath(a, X)"))

    def scenario():
        prog = Program.from_text(text, source="changes.dl")
        steps = [snapshot(prog)]
        prog.add_facts("edge", [(1, 2)])
        steps.append(snapshot(prog))
        prog.add_facts("tedge", [("c", "d")])
        steps.append(snapshot(prog))
        prog.clear_facts()
        steps.append(snapshot(prog))
        prog.add_facts("edge", [(1, 5)])
        steps.append(snapshot(prog))
        return steps

    text_only = ({(0, 1)}, [{"X": 1}], {(1,)}, {("a", "b"), ("a", "c"), ("b", "c")},
                 [{"X": "b"}, {"X": "c"}])
    longer = ({(0, 1), (0, 2), (1, 2)}, [{"X": 1}, {"X": 2}], {(3,)}) + text_only[3:]
    with_d = longer[:3] + ({("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")},
                           [{"X": "b"}, {"X": "c"}, {"X": "d"}])
    other = ({(0, 1), (0, 5), (1, 5)}, [{"X": 1}, {"X": 5}], {(3,)}) + text_only[3:]
    assert run_with_deadline(scenario) == [text_only, longer, with_d, text_only, other]


def test_two_programs_in_one_thread_do_not_interfere() -> None:
    def scenario():
        one = Program.from_text(REACH, source="one.dl")
        # same predicate names, different rules: path is symmetric here and isolated means "no edge"
        two = Program.from_text("""
            path(X, Y) :- edge(X, Y).
            path(X, Y) :- edge(Y, X).
            node(X) :- edge(X, _).
            node(X) :- edge(_, X).
            node(lone).
            isolated(X) :- node(X), \\+ edge(X, _), \\+ edge(_, X).
            outdeg(X, N) :- node(X), aggregate_all(count, path(X, _), N).
            """, source="two.dl")
        one.add_facts("edge", [(1, 2), (2, 3)])
        two.add_facts("edge", [("a", "b")])
        a1 = _answers(one)
        b1 = _answers(two)
        one.add_facts("edge", [(3, 4)])  # touching one must not change two
        a2 = _answers(one)
        b2 = _answers(two)
        return a1, b1, a2, b2, one.ask("path(1, X)"), two.ask("path(X, a)")

    a1, b1, a2, b2, ask1, ask2 = run_with_deadline(scenario)
    assert a1["path"] == {(1, 2), (1, 3), (2, 3)}
    assert a1["outdeg"] == {(1, 1), (2, 1), (3, 0)}
    assert b1 == {
        "path": {("a", "b"), ("b", "a")},
        "node": {("a",), ("b",), ("lone",)},
        "isolated": {("lone",)},
        "outdeg": {("a", 1), ("b", 1), ("lone", 0)},
    }
    assert a2["path"] == {(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)}
    assert a2["node"] == {(1,), (2,), (3,), (4,)}
    assert b2 == b1
    assert ask1 == [{"X": 2}, {"X": 3}, {"X": 4}]
    assert ask2 == [{"X": "b"}]


def test_program_used_from_a_second_thread() -> None:
    text = REACH + "edge(1, 2). edge(2, 3). edge(9, 9).\n"

    def scenario():
        prog = Program.from_text(text, source="threads.dl")
        here = (_answers(prog), prog.ask("path(X, 3)"))
        there: list = []

        def worker():
            try:
                there.append((_answers(prog), prog.ask("path(X, 3)")))
            except BaseException as exc:  # noqa: BLE001 - handed back to the main thread
                there.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        again = (_answers(prog), prog.ask("path(X, 3)"))
        return here, there[0], again

    here, there, again = run_with_deadline(scenario)
    assert not isinstance(there, BaseException), there
    assert here[0]["path"] == {(1, 2), (1, 3), (2, 3), (9, 9)}
    assert here[1] == [{"X": 1}, {"X": 2}]
    assert there == here
    assert again == here


def test_threads_with_their_own_facts_do_not_see_each_other() -> None:
    def scenario():
        prog = Program.from_text(REACH, source="threads.dl")
        results: dict[str, Any] = {}
        start = threading.Barrier(2)

        def worker(name: str, edges: list[tuple]) -> None:
            try:
                start.wait()
                prog.add_facts("edge", edges)
                seen = []
                for _ in range(3):
                    seen.append(prog.query("path"))
                results[name] = seen
            except BaseException as exc:  # noqa: BLE001 - handed back to the main thread
                results[name] = exc

        threads = [threading.Thread(target=worker, args=("t1", [(1, 2), (2, 3)])),
                   threading.Thread(target=worker, args=("t2", [("a", "b")]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    results = run_with_deadline(scenario)
    assert results["t1"] == [{(1, 2), (1, 3), (2, 3)}] * 3
    assert results["t2"] == [{("a", "b")}] * 3


# ---------------------------------------------------------------------------------------------
# Rejected programs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in REJECTED])
def test_rejected(case) -> None:
    code, at = case.error
    with pytest.raises(WarrantError) as info:
        Program.from_text(case.text, source="program.dl", **case.options)
    exc = info.value
    assert exc.code == code, str(exc)
    assert str(exc).startswith(f"program.dl:{at}: "), str(exc)


def test_hostile_text_runs_nothing(tmp_path) -> None:
    marker = tmp_path / "ran"
    text = f"p(a).\n__import__('os').system('touch {marker}').\n"
    with pytest.raises(WarrantError) as info:
        Program.from_text(text, source="name.dl")
    assert info.value.code == "syntax"
    assert str(info.value).startswith("name.dl:2:")
    assert not marker.exists()
    # the same text as a query goal must be refused as well, without running
    prog = Program.from_text("p(a).\n", source="name.dl")
    with pytest.raises(WarrantError) as info:
        prog.ask(f"__import__('os').system('touch {marker}')")
    assert info.value.code == "syntax"
    assert not marker.exists()


@pytest.mark.parametrize("goal, code", [
    pytest.param("p(X", "syntax", id="unbalanced"),
    pytest.param("\\+ p(X)", "unsafe_variable", id="unsafe_negation"),
    pytest.param("X > 1, p(X)", "unsafe_variable", id="comparison_before_binding"),
    pytest.param("p(X, Y)", "arity_mismatch", id="arity"),
    pytest.param("nowhere(X)", "undefined_predicate", id="undefined"),
])
def test_bad_goals_are_rejected(goal: str, code: str) -> None:
    prog = Program.from_text("p(a).\np(b).\n", source="name.dl")
    with pytest.raises(WarrantError) as info:
        prog.ask(goal)
    assert info.value.code == code, str(info.value)


def test_unsupplied_predicate_is_reported_when_queried() -> None:
    prog = Program.from_text("q(X) :- p(X), r(X).\np(a).\n", source="name.dl")
    with pytest.raises(WarrantError) as info:
        prog.query("q")
    assert info.value.code == "undefined_predicate"
    # supplying the missing predicate, even with no rows matching, makes the query answerable
    prog.add_facts("r", [("b",)])
    assert prog.query("q") == set()


def test_corpus_size_and_shape() -> None:
    assert len(ACCEPTED) >= 45 and len(REJECTED) >= 30
    for case in ACCEPTED:  # every accepted case states what it expects
        assert case.expect or case.asks, case.name
    names = {c.name for c in CASES}
    folders = {p.name for p in corpus.HERE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == names, folders ^ names  # no folder without a program.dl


def test_corpus_values_keep_their_types(tmp_path) -> None:
    """A number and the atom of the same digits stay apart in the answer files."""
    corpus.write_rows(tmp_path / "v.csv", [(1, "1", "a b", 0.5, "O'Brien"), ()])
    assert sorted(corpus.read_rows(tmp_path / "v.csv"), key=len) == [(), (1, "1", "a b", 0.5, "O'Brien")]
