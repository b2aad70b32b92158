"""One visitor over the syntax tree: the variables a literal mentions, term order, and the
renaming of anonymous variables. Every pass (checks, lowering, evaluation, explanation) asks
these questions the same way by calling here.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

from engine.language import ast


def order_key(value: Any) -> tuple:
    """Standard order of terms: numbers before atoms, so mixed comparisons never raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, str(value))
    return (0, value)


def number_value(value: Any) -> Any:
    """The one representative of a number: numbers are values, so 1 and 1.0 are one value, and
    an integral float is kept as the integer (1.0 -> 1, 1e3 -> 1000); other floats, atoms and
    integers are returned as they are. Whatever order 1 and 1.0 are asserted in, the answer
    holds 1."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def term_variables(*terms: ast.Term | None) -> list[ast.Var]:
    return [t for t in terms if isinstance(t, ast.Var)]


def literal_variables(literal: ast.Literal, *, aggregate_goal: bool = True) -> list[ast.Var]:
    """Every variable a literal mentions, in order (with repeats).

    For an aggregate, its goal's variables, then `over` and the result; `aggregate_goal=False`
    gives only the result (what an aggregate contributes to the clause around it)."""
    if isinstance(literal, (ast.Positive, ast.Negation)):
        return literal.atom.variables()
    if isinstance(literal, ast.Comparison):
        return term_variables(literal.left, literal.right)
    if not aggregate_goal:
        return term_variables(literal.result)
    inner = [v for goal in literal.goal for v in literal_variables(goal)]
    return inner + term_variables(literal.over, literal.result)


def variable_names(literal: ast.Literal) -> set[str]:
    """The names of the variables a literal mentions, the anonymous `_` left out."""
    return {v.name for v in literal_variables(literal) if v.name != "_"}


def clause_variables(clause: ast.Clause) -> Iterator[ast.Var]:
    yield from clause.head.variables()
    for literal in clause.body:
        yield from literal_variables(literal)


def unique(variables: list[ast.Var]) -> list[ast.Var]:
    """Variables without repeats, first mention first."""
    seen: dict[str, ast.Var] = {}
    for v in variables:
        seen.setdefault(v.name, v)
    return list(seen.values())


def map_terms(literal: ast.Literal, term: Callable[[ast.Term], ast.Term]) -> ast.Literal:
    """The literal with every term replaced by `term(t)` (positions kept)."""
    def atom(a: ast.Atom) -> ast.Atom:
        return ast.Atom(a.pred, tuple(term(t) for t in a.args), a.loc)

    if isinstance(literal, ast.Positive):
        return ast.Positive(atom(literal.atom))
    if isinstance(literal, ast.Negation):
        return ast.Negation(atom(literal.atom), literal.loc)
    if isinstance(literal, ast.Comparison):
        return ast.Comparison(literal.op, term(literal.left), term(literal.right), literal.loc)
    goal = tuple(map_terms(g, term) for g in literal.goal)
    return ast.Aggregate(literal.kind, literal.over, goal, term(literal.result), literal.loc)  # type: ignore[arg-type]


def anonymous_renamer(counter: Iterator[int] | None = None) -> Callable[[ast.Term], ast.Term]:
    """A term mapper giving each `_` its own variable (`_Anon1`, `_Anon2`, ...)."""
    numbers = counter if counter is not None else itertools.count(1)

    def term(t: ast.Term) -> ast.Term:
        if isinstance(t, ast.Var) and t.name == "_":
            return ast.Var(f"_Anon{next(numbers)}")
        return t

    return term


def name_anonymous(clause: ast.Clause, counter: Iterator[int] | None = None) -> ast.Clause:
    """The clause with every `_` renamed apart, so each is its own (local) variable."""
    term = anonymous_renamer(counter)
    head = map_terms(ast.Positive(clause.head), term).atom  # type: ignore[union-attr]
    return ast.Clause(head, tuple(map_terms(b, term) for b in clause.body), clause.meta, clause.loc)
