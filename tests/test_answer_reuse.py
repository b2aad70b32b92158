"""A rule's answers reused across cases (engine.compile.reuse): the same answers as a fresh
program whatever came before, and pyDatalog not asked again when a case repeats what a rule reads."""
from __future__ import annotations

from hypothesis import given, note
from hypothesis import strategies as st

from engine import Program
from engine.compile import backend
from tests.test_differential import BASE, SETTINGS, naive, programs, render

RULES = """\
seen(X) :- p(X), X > 0.
tally(X, N) :- p(X), aggregate_all(count, f(X, _), N).
open(X) :- p(X), \\+ f(X, a).
both(X, Y) :- p(X), f(X, Y), \\+ blocked(Y).
pick(X) :- p(X), f(X, b).
"""
KEYS = {"seen": 1, "tally": 2, "open": 1, "both": 2, "pick": 1}


def _answers(program: Program, facts: dict[str, list[tuple]]) -> dict[str, list]:
    program.clear_facts()
    for pred, arity in (("p", 1), ("f", 2), ("blocked", 1)):
        program.add_facts(pred, facts.get(pred, []), arity=arity)
    return {pred: sorted(program.query(pred), key=repr) for pred in KEYS}


CASES = [
    {"p": [(1,)], "f": [(1, "a")]},
    {"p": [(1,)], "f": [(1, "b"), (1, "c")]},                  # only what the aggregate and negation read
    {"p": [(1,)], "f": [(1, "b"), (1, "c")], "blocked": [("b",)]},  # only the negated relation
    {"p": [(1.0,)], "f": [(1, "a")]},                          # a float equal to an earlier integer
    {"p": [(1,)], "f": [(1, "a")]},                            # the first case again
    {"p": [(2,), (1,)], "f": [(1, "a"), (2, "z")]},
    {"p": [(1,)], "f": []},
    {"p": [(1,), (2,)], "f": [(1, "a"), (1, "b")]},             # rows a constant selects ...
    {"p": [(1,), (2,)], "f": [(2, "a"), (2, "b")]},             # ... differ, the relation's size not
]


def test_each_case_gets_the_answers_a_fresh_program_gives() -> None:
    shared = Program.from_text(RULES)
    for facts in CASES:
        assert _answers(shared, facts) == _answers(Program.from_text(RULES), facts), facts


def test_a_repeated_case_is_answered_without_asking_pyDatalog_again(monkeypatch) -> None:
    shared = Program.from_text(RULES)
    first = _answers(shared, CASES[1])
    asked: list = []
    real = backend._ThreadState._ask
    monkeypatch.setattr(backend._ThreadState, "_ask", staticmethod(lambda pred: asked.append(pred) or real(pred)))
    _answers(shared, CASES[0])
    assert asked, "a new input is asked"
    asked.clear()
    assert _answers(shared, CASES[1]) == first
    assert asked == []


@SETTINGS
@given(programs(), st.data())
def test_random_programs_agree_with_a_naive_evaluator_case_after_case(program, data) -> None:
    """One program, several cases in a row: each relation's rows drawn from two candidates, so
    cases repeat some inputs and change others."""
    text = render({**program, "supplied": True})
    note(text)
    warrant = Program.from_text(text, source="random.dl")
    other = {"e": set(data.draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=6))),
             "n": set(data.draw(st.lists(st.tuples(st.integers(0, 3)), max_size=3)))}
    for _ in range(data.draw(st.integers(2, 5))):
        facts = {pred: (program["facts"] if data.draw(st.booleans()) else other)[pred] for pred in BASE}
        note(f"case facts: {facts}")
        expected = naive.evaluate(facts, program["rules"], program["strata"])
        warrant.clear_facts()
        for pred, arity in BASE.items():
            warrant.add_facts(pred, sorted(facts[pred]), arity=arity)
        for pred in program["derived"]:
            assert warrant.query(pred) == expected.get(pred, set()), pred
