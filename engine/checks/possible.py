"""Possible answers: what a program could ever derive, whatever facts a case supplies.

An abstract bottom-up evaluation over the checked AST: a predicate without clauses (a case
input) stands for every possible row, written with the wildcard ANY in each argument; fact
tables give their rows; joins refine ANY to a constant where another literal fixes it.
Negations, comparisons and aggregate goals are assumed satisfiable, so the result is an
over-approximation: a tuple missing from it can never be derived. The authoring checks use it
to find names no rule can ever produce (e.g. a criterion typed differently in a table than in
the rules that decide it).
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

from engine.language import ast
from engine.language.tables import Tables, tables

Key = tuple[str, int]


class _Any:
    """The wildcard: any value a case could supply."""

    _instance: "_Any | None" = None

    def __new__(cls) -> "_Any":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"


ANY = _Any()
MAX_ROUNDS = 50
MAX_ROWS = 20_000
"""Rows kept per predicate; past it the predicate is widened to one row of wildcards."""


def possible_rows(clauses: Sequence[ast.Clause]) -> dict[Key, set[tuple]]:
    """For every predicate, the rows it could hold (constants, or ANY where anything may stand).
    Computed once per clause tuple (the wording and the lint checks both ask): do not change it."""
    table = tables(clauses)
    if "possible_rows" not in table.memo:
        table.memo["possible_rows"] = _possible_rows(table)
    return table.memo["possible_rows"]


def _possible_rows(table: Tables) -> dict[Key, set[tuple]]:
    defined = table.heads
    rows: dict[Key, set[tuple]] = {key: set(found) for key, found in table.rows.items()}
    for clause in table.rules:
        if not clause.body:  # a fact with variables (no checked program has one)
            rows.setdefault(clause.head.key, set()).add(tuple(_value(a, {}) for a in clause.head.args))
        for literal in clause.body:
            for atom, _ in ast.body_atoms(literal):
                if atom.key not in defined:  # a case input: anything
                    rows[atom.key] = {tuple(ANY for _ in atom.args)}
    rules = [c for c in table.rules if c.body]
    lookup = _Lookup(rows, set(table.rows) - {c.head.key for c in table.rules})
    for _ in range(MAX_ROUNDS):
        changed = False
        for clause in rules:
            target = rows.setdefault(clause.head.key, set())
            before = len(target)
            for env in _solve(clause.body, {}, rows, lookup):
                target.add(tuple(_value(t, env) for t in clause.head.args))
            if len(target) > MAX_ROWS:
                rows[clause.head.key] = target = {tuple(ANY for _ in clause.head.args)}
            changed |= len(target) != before
        if not changed:
            break
    return rows


def column_values(rows: set[tuple], position: int) -> tuple[set[Any], bool]:
    """The constants a column can hold, and whether it can hold anything at all (ANY)."""
    values = {row[position] for row in rows}
    return {v for v in values if v is not ANY}, ANY in values


def _value(term: ast.Term, env: dict[str, Any]) -> Any:
    if isinstance(term, ast.Const):
        return term.value
    return env.get(term.name, ANY)


class _Lookup:
    """The rows a literal may match: for a fact-only table (whose rows never change) with a
    known value at some argument, only the rows holding it, from an index built on first use."""

    def __init__(self, rows: dict[Key, set[tuple]], static: set[Key]) -> None:
        self.rows = rows
        self.static = static
        self.index: dict[tuple[Key, int], dict[Any, list[tuple]]] = {}

    def __call__(self, atom: ast.Atom, env: dict[str, Any]):
        key = atom.key
        if key in self.static:
            for position, term in enumerate(atom.args):
                value = _value(term, env)
                if value is not ANY:
                    return self._by_value(key, position).get(value, ())
        return self.rows.get(key, ())

    def _by_value(self, key: Key, position: int) -> dict[Any, list[tuple]]:
        found = self.index.get((key, position))
        if found is None:
            found = self.index[(key, position)] = {}
            for row in self.rows[key]:
                found.setdefault(row[position], []).append(row)
        return found


def _solve(body: Sequence[ast.Literal], env: dict[str, Any], rows: dict[Key, set[tuple]],
           lookup: _Lookup | None = None) -> Iterator[dict]:
    if not body:
        yield env
        return
    literal, rest = body[0], body[1:]
    if isinstance(literal, ast.Positive):
        candidates = lookup(literal.atom, env) if lookup else rows.get(literal.atom.key, ())
        for extended in _match(literal.atom, env, candidates):
            yield from _solve(rest, extended, rows, lookup)
    elif isinstance(literal, ast.Comparison) and literal.op == "=":
        left, right = _value(literal.left, env), _value(literal.right, env)
        extended = dict(env)
        for term, other in ((literal.left, right), (literal.right, left)):
            if isinstance(term, ast.Var) and term.name != "_" and env.get(term.name, ANY) is ANY:
                extended[term.name] = other
        yield from _solve(rest, extended, rows, lookup)
    else:  # negations, other comparisons, aggregates: assumed to hold; results may be anything
        if isinstance(literal, ast.Aggregate) and isinstance(literal.result, ast.Var):
            env = {**env, literal.result.name: env.get(literal.result.name, ANY)}
        yield from _solve(rest, env, rows, lookup)


def _match(atom: ast.Atom, env: dict[str, Any], candidates) -> Iterator[dict]:
    for row in candidates:
        extended = dict(env)
        for term, value in zip(atom.args, row):
            mine = _value(term, extended)
            if mine is not ANY and value is not ANY and mine != value:
                break
            if isinstance(term, ast.Var) and term.name != "_" and mine is ANY:
                extended[term.name] = value
        else:
            yield extended
