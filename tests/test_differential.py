"""Differential test: random stratified programs, Warrant against an independent evaluator.

Hypothesis draws programs in a plain representation — base facts over small integers, derived
predicates in strata, rules with joins, recursion (also mutual, within a stratum), constants,
comparisons, equality, negation and count/sum/max/min aggregates, every body safe left to right —
renders each as rule text, and compares every derived predicate's answers from `Program`
(pyDatalog underneath, facts in the text or supplied with `add_facts`) and from Warrant's own
provenance model with those of tests/differential/naive.py, a naive bottom-up evaluator that
shares no code with Warrant (issue 17). The failing program is printed by Hypothesis in rule text.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from engine import Program

_PATH = Path(__file__).resolve().parent / "differential" / "naive.py"
_SPEC = importlib.util.spec_from_file_location("warrant_naive_datalog", _PATH)
naive = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = naive
_SPEC.loader.exec_module(naive)

EXAMPLES = int(os.environ.get("WARRANT_PROPERTY_EXAMPLES", "100"))  # raise for a longer campaign
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BASE = {"e": 2, "n": 1}
VALUES = st.integers(0, 3)
VARS = ["X", "Y", "Z", "W"]
OPS = ["<", "=<", ">", ">=", "=", "\\="]


def _arg(draw, pool: list[str], *, anon: bool = True) -> tuple:
    kinds = ["var"] * 6 + ["const"] + (["anon"] if anon else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "var":
        return ("var", draw(st.sampled_from(pool)))
    if kind == "const":
        return ("const", draw(VALUES))
    return ("anon",)


@st.composite
def _rule(draw, head: str, arity: dict, same_or_lower: list[str], lower: list[str]) -> tuple:
    body: list = []
    for _ in range(draw(st.integers(1, 3))):
        pred = draw(st.sampled_from(same_or_lower))
        body.append(("pos", (pred, tuple(_arg(draw, VARS) for _ in range(arity[pred])))))
    bound = sorted({t[1] for lit in body for t in lit[1][1] if t[0] == "var"})
    if not bound:  # a body of constants and `_` only: bind one variable with `=`
        body.append(("cmp", "=", ("var", "X"), ("const", draw(VALUES))))
        bound = ["X"]
    if draw(st.booleans()):
        right = ("var", draw(st.sampled_from(bound))) if draw(st.booleans()) else ("const", draw(VALUES))
        body.append(("cmp", draw(st.sampled_from(OPS)), ("var", draw(st.sampled_from(bound))), right))
    if draw(st.booleans()):
        body.append(("cmp", "=", ("var", "C"), ("const", draw(VALUES))))
        bound.append("C")
    if draw(st.booleans()):
        pred = draw(st.sampled_from(lower))
        body.append(("neg", (pred, tuple(_arg(draw, bound) for _ in range(arity[pred])))))
    if draw(st.booleans()):
        pred = draw(st.sampled_from(lower))
        args = tuple(_arg(draw, bound + ["L1", "L2"]) for _ in range(arity[pred]))
        local = sorted({t[1] for t in args if t[0] == "var" and t[1] not in bound})
        kind = draw(st.sampled_from(["count", "sum", "max", "min"])) if local else "count"
        over = draw(st.sampled_from(local)) if kind != "count" else None
        body.append(("agg", kind, over, (pred, args), "R"))
        bound.append("R")
    head_args = [("var", draw(st.sampled_from(bound))) if draw(st.integers(0, 4)) else ("const", draw(VALUES))
                 for _ in range(arity[head])]
    if "R" in bound and draw(st.booleans()):  # most aggregates show their value in the head
        head_args[draw(st.integers(0, arity[head] - 1))] = ("var", "R")
    return ((head, tuple(head_args)), body)


@st.composite
def programs(draw) -> dict:
    facts = {"e": set(draw(st.lists(st.tuples(VALUES, VALUES), max_size=10))),
             "n": set(draw(st.lists(st.tuples(VALUES), max_size=4)))}
    count = draw(st.integers(1, 4))
    derived = [f"p{i}" for i in range(count)]
    arity = dict(BASE) | {p: draw(st.integers(1, 2)) for p in derived}
    level = dict(zip(derived, sorted(draw(st.lists(st.integers(0, 2), min_size=count, max_size=count)))))
    rules = []
    for pred in derived:
        same_or_lower = list(BASE) + [q for q in derived if level[q] <= level[pred]]
        lower = list(BASE) + [q for q in derived if level[q] < level[pred]]
        for _ in range(draw(st.integers(1, 2))):
            rules.append(draw(_rule(pred, arity, same_or_lower, lower)))
    strata = [[p for p in derived if level[p] == s] for s in sorted(set(level.values()))]
    return {"facts": facts, "rules": rules, "strata": strata, "derived": derived, "arity": arity,
            "supplied": draw(st.booleans())}


def _term(t: tuple) -> str:
    return {"var": lambda: t[1], "const": lambda: str(t[1]), "anon": lambda: "_"}[t[0]]()


def _atom(atom: tuple) -> str:
    return f"{atom[0]}({', '.join(_term(t) for t in atom[1])})"


def _literal(lit: tuple) -> str:
    if lit[0] == "pos":
        return _atom(lit[1])
    if lit[0] == "neg":
        return "\\+ " + _atom(lit[1])
    if lit[0] == "cmp":
        return f"{_term(lit[2])} {lit[1]} {_term(lit[3])}"
    _, kind, over, atom, result = lit
    return f"aggregate_all({kind if over is None else f'{kind}({over})'}, {_atom(atom)}, {result})"


def render(program: dict) -> str:
    lines = []
    if not program["supplied"]:
        for pred in sorted(program["facts"]):
            lines += [f"{pred}({', '.join(map(str, row))})." for row in sorted(program["facts"][pred])]
    for head, body in program["rules"]:
        lines.append(f"{_atom(head)} :- {', '.join(_literal(lit) for lit in body)}.")
    return "\n".join(lines) + "\n"


@SETTINGS
@given(programs())
def test_random_stratified_programs_agree_with_a_naive_evaluator(program) -> None:
    text = render(program)
    note(text)
    expected = naive.evaluate(program["facts"], program["rules"], program["strata"])
    warrant = Program.from_text(text, source="random.dl")
    facts = {}
    if program["supplied"]:
        facts = {(pred, BASE[pred]): sorted(rows) for pred, rows in program["facts"].items()}
        for (pred, arity), rows in facts.items():
            warrant.add_facts(pred, rows, arity=arity)
    else:
        for pred, arity in BASE.items():  # declared, so that a program without facts for one is fine
            warrant.add_facts(pred, [], arity=arity)
    model = warrant.model(facts)
    for pred in program["derived"]:
        want = expected.get(pred, set())
        assert warrant.query(pred) == want, f"{pred} (pyDatalog)"
        assert set(model.rows((pred, program["arity"][pred]))) == want, f"{pred} (provenance model)"
    if program["supplied"]:  # and clearing the supplied facts leaves the program alone
        warrant.clear_facts()
        for pred, arity in BASE.items():
            warrant.add_facts(pred, [], arity=arity)
        alone = naive.evaluate({}, program["rules"], program["strata"])
        for pred in program["derived"]:
            assert warrant.query(pred) == alone.get(pred, set()), f"{pred} after clear_facts"
