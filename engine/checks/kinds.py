"""Kinds of values: what each predicate column can hold — atoms, numbers, or anything a case
supplies — and the check that `aggregate_all(sum(X), ...)` never adds up a column the program can
only bind to atoms (sum adds numbers; a sum over atoms could only ever fail at run time).

An abstract evaluation to a fixpoint over three kinds, so it is cheap enough to run on every
program: atoms and numbers written in facts and rule heads, what body columns pass on, numbers
from count and sum, and `any` for predicates without clauses (their facts come from a case or
`add_facts`). The kb's stricter limit (no atom may reach a sum at all) reuses it
(engine/knowledge/limits.py).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from engine.errors import Finding
from engine.language import ast
from engine.language.tables import tables

Key = tuple[str, int]
ATOM, NUMBER, ANY = "atom", "number", "any"
Kinds = dict[tuple[Key, int], set[str]]


def column_kinds(clauses: Sequence[ast.Clause], predicates: Iterable[Key] = ()) -> Kinds:
    """What each column can hold; `predicates` adds keys (declared or supplied) to consider inputs."""
    defined = {c.head.key for c in clauses}
    rules = [c for c in clauses if c.body]
    used = set(predicates) | {a.key for c in rules for lit in c.body for a, _ in ast.body_atoms(lit)}
    kinds: Kinds = defaultdict(set)
    for key in used - defined:
        for i in range(key[1]):
            kinds[(key, i)].add(ANY)
    for key, shape in _fact_shapes(clauses):  # facts give the same kinds every round
        for i, found in enumerate(shape):
            kinds[(key, i)].update(found)
    changed = True
    while changed:
        changed = False
        for clause in rules:
            bound = variable_kinds(clause.body, kinds)
            for i, arg in enumerate(clause.head.args):
                new = term_kinds(arg, bound)
                slot = kinds[(clause.head.key, i)]
                if not new <= slot:
                    slot |= new
                    changed = True
    return kinds


def _fact_shapes(clauses: Sequence[ast.Clause]) -> list[tuple[Key, list[set[str]]]]:
    """The kinds each column of each fact table holds, read column by column (a table of
    thousands of rows holds a handful of types), so the fixpoint reads facts once and in bulk."""
    table = tables(clauses)
    shapes = [(key, [{ATOM if t is str else NUMBER for t in set(map(type, column))} for column in zip(*rows)])
              for key, rows in table.rows.items()]
    for clause in table.rules:
        if not clause.body:  # a fact with variables: those columns may hold anything
            shapes.append((clause.head.key, [term_kinds(a, {}) for a in clause.head.args]))
    return shapes


def term_kinds(term: ast.Term, bound: dict[str, set[str]]) -> set[str]:
    if isinstance(term, ast.Const):
        return {ATOM if isinstance(term.value, str) else NUMBER}
    return bound.get(term.name, {ANY})


def variable_kinds(body: Sequence[ast.Literal], kinds: Kinds) -> dict[str, set[str]]:
    """The kinds each variable of a body can be bound to."""
    bound: dict[str, set[str]] = defaultdict(set)
    for lit in body:
        if isinstance(lit, ast.Positive):
            for i, arg in enumerate(lit.atom.args):
                if isinstance(arg, ast.Var):
                    bound[arg.name] |= kinds.get((lit.atom.key, i), set())
        elif isinstance(lit, ast.Aggregate) and isinstance(lit.result, ast.Var):
            bound[lit.result.name].add(NUMBER if lit.kind in ("count", "sum") else ANY)
        elif isinstance(lit, ast.Comparison) and lit.op == "=":
            for var, other in ((lit.left, lit.right), (lit.right, lit.left)):
                if isinstance(var, ast.Var) and isinstance(other, ast.Const):
                    bound[var.name] |= term_kinds(other, {})
    return bound


def sums(body: Sequence[ast.Literal], kinds: Kinds) -> Iterable[tuple[ast.Aggregate, set[str]]]:
    """Each `aggregate_all(sum(X), ...)` of a body with the kinds its X can take."""
    for lit in body:
        if isinstance(lit, ast.Aggregate) and lit.kind == "sum" and lit.over is not None:
            yield lit, variable_kinds(lit.goal, kinds).get(lit.over.name, set())


def check_sums(modules: Sequence[ast.Module]) -> list[Finding]:
    """A sum over a variable the program can bind to atoms and nothing else is an error."""
    clauses = [c for m in modules for c in m.clauses]
    if not any(isinstance(lit, ast.Aggregate) and lit.kind == "sum" for c in clauses for lit in c.body):
        return []
    kinds = column_kinds(clauses, (d.key for m in modules for d in m.decls))
    return [Finding("sum_over_atoms", f"aggregate_all(sum({lit.over}), ...) adds up {lit.over}, which this "
                    "program can only bind to atoms; sum adds numbers only", lit.loc)
            for c in clauses for lit, found in sums(c.body, kinds) if found == {ATOM}]
