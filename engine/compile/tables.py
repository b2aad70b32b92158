"""Fact relations as tables pyDatalog reads through its primitive hook.

pyDatalog resolves a literal on a predicate whose `prim` is set by calling it with the literal
and the subgoal, which records each answer with `subgoal.fact(...)`: the hook its comparisons
use. Every relation a rule body reads is complete before the rule is asked (the program's facts,
the case's facts, the materialised rows of lower strata: see backend.py), so its answers need no
resolution, only a lookup. Stored as pyDatalog clauses instead, each matching row cost a
resolution step of its own (the fact clause renamed, unified, substituted and queued) and each
literal an intersection of per-column candidate sets; a table answers with one dictionary
lookup on the literal's bound columns and hands pyDatalog fact literals built once per row.
Joins, aggregation, tabling and the order of resolution stay pyDatalog's. A negation of a
table (`\\+ p(a, _)`) is a lookup too (`Absence`): pyDatalog would complete the positive subgoal,
whose answers come from the same table, and find it empty or not.

A table has two layers: rows `kept` across cases (the program's own facts, the rows of strata
that read no case fact) and rows `added` for one case or one evaluation, dropped at once. A row
is in one layer only, and a repeated row is stored once, so every answer is given once.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from pyDatalog import pyEngine

from engine.compile.lower import AUX, is_aux
from engine.compile.terms import new_pred
from engine.language import ast
from engine.language.visit import number_value

_TERMS: dict[tuple[type, Any], Any] = {}
"""pyDatalog's constant for each value, made once: the same line ids, codes and criteria come back
in every case (a term is immutable; keyed by type too, as 1, 1.0 and True are equal keys)."""
_MOST_TERMS = 100_000
_MOST_MADE = 4096
"""Fact literals a table keeps for rows a later case may add again (the same lines, levels and
criteria recur; a row's literal is immutable once built)."""


def constant(value: Any):
    """pyDatalog's constant for a value (a float rounded as pyDatalog rounds it)."""
    term = _TERMS.get((type(value), value))
    if term is None:
        if len(_TERMS) > _MOST_TERMS:
            _TERMS.clear()
        term = _TERMS[(type(value), value)] = pyEngine.Term_of(value) if type(value) is float else pyEngine.Const(value)
    return term


def canonical(value: Any) -> Any:
    """The value as pyDatalog holds it: a float rounded as it rounds floats, anything else itself."""
    return constant(value).id if type(value) is float else value


class _Layer:
    """Rows with their fact literals, and an index per set of bound columns, built when first read."""

    __slots__ = ("facts", "indexes")

    def __init__(self) -> None:
        self.facts: dict[tuple, Any] = {}
        self.indexes: dict[tuple[int, ...], dict[tuple, list]] = {}

    def index(self, columns: tuple[int, ...]) -> dict[tuple, list]:
        found = self.indexes.get(columns)
        if found is None:
            found = self.indexes[columns] = {}
            for fact in self.facts.values():
                terms = fact.terms
                key = tuple(terms[i].id for i in columns)
                bucket = found.get(key)
                if bucket is None:
                    found[key] = [fact]
                else:
                    bucket.append(fact)
        return found


class FactTable:
    """The rows of one fact relation of one thread's pyDatalog program (see the module doc)."""

    __slots__ = ("pred", "kept", "added", "made")

    def __init__(self, pred) -> None:
        self.pred = pred
        self.kept = _Layer()
        self.added = _Layer()
        self.made: dict[tuple, Any] = {}  # row -> its fact literal, reused by later cases
        pred.prim = self.resolve

    def add(self, rows: Iterable[tuple], keep: bool = False) -> int:
        """Store rows (each number in its one representative already; a float as pyDatalog
        rounds it); how many were new."""
        layer, other = (self.kept, self.added) if keep else (self.added, self.kept)
        facts, known = layer.facts, other.facts
        literal, pred = pyEngine.Literal, self.pred
        count = len(facts)
        for row in rows:
            terms = None
            if float in map(type, row):  # keyed by the value pyDatalog rounds the float to
                terms = [constant(v) for v in row]
                row = tuple(t.id for t in terms)
            if row in facts or row in known:
                if keep and row in known:  # now the program's own: kept, no longer the case's
                    facts[row] = known.pop(row)
                    self.added.indexes = {}
                continue
            if terms is None:  # atoms and integers (booleans are atoms): the row says which terms
                fact = self.made.get(row)
                if fact is None:
                    if len(self.made) >= _MOST_MADE:
                        self.made.clear()
                    fact = self.made[row] = literal(pred, [constant(v) for v in row])
                facts[row] = fact
            else:
                facts[row] = literal(pred, terms)
        if len(facts) != count:
            layer.indexes = {}
        return len(facts) - count

    def drop(self, kept: bool = False) -> None:
        """Forget the rows added (or, with `kept`, the kept ones)."""
        if kept:
            self.kept = _Layer()
        elif self.added.facts:
            self.added = _Layer()

    def rows(self) -> list[tuple]:
        kept, added = self.kept.facts, self.added.facts
        return [*kept, *added] if added else list(kept)

    def has(self, columns: tuple[int, ...], key: tuple) -> bool:
        """Whether some row has these values in these columns."""
        if not columns:
            return len(self) > 0
        return any(layer.facts and key in layer.index(columns) for layer in (self.kept, self.added))

    def __len__(self) -> int:
        return len(self.kept.facts) + len(self.added.facts)

    def resolve(self, literal, subgoal) -> None:
        """pyDatalog's primitive for this relation: each stored row matching the literal (its
        constants, and its repeated variables' equal values) as a fact of the subgoal."""
        columns: list[int] = []
        values: list = []
        seen: dict = {}
        repeated = []
        for i, term in enumerate(literal.terms):
            if term.is_const():
                columns.append(i)
                values.append(term.id)
            elif term.id in seen:
                repeated.append((seen[term.id], i))
            else:
                seen[term.id] = i
        bound, key = tuple(columns), tuple(values)
        fact = subgoal.fact
        for layer in (self.kept, self.added):
            if not layer.facts:
                continue
            found = layer.index(bound).get(key) if bound else layer.facts.values()
            if not found:
                continue
            if repeated:
                found = [f for f in found if all(f.terms[i].id == f.terms[j].id for i, j in repeated)]
            for each in found:
                fact(each)


def normal(rows: list[tuple]) -> list[tuple]:
    """The rows with each number in its one representative (`number_value`); a table without floats,
    as most are, is returned as it is (its columns' types are read in bulk)."""
    if any(float in set(map(type, column)) for column in zip(*rows)):
        return [tuple(number_value(v) for v in row) for row in rows]
    return rows


def absence(key: tuple[str, int], helpers: dict, table_of: Callable[[tuple[str, int]], FactTable], number: int):
    """A pyDatalog predicate standing for a negation of `key` (an Absence over its table): a
    relation of facts or materialised rows, or a one-literal negation helper (`helpers`:
    prune.single_literal_negations) over one. None for any other negation: pyDatalog proves it."""
    if key in helpers:
        head, inner = helpers[key]
    elif not is_aux(key[0]):
        head = inner = ast.Atom(key[0], tuple(ast.Var(f"A{i}") for i in range(key[1])))
    else:
        return None
    places = _places(head, inner)
    if places is None:
        return None
    table = table_of(inner.key)
    pred = new_pred((f"wn_{table.pred.name}{AUX}{number}", key[1]))
    Absence(table, pred, places)
    return pred


def _places(head: ast.Atom, inner: ast.Atom) -> list[tuple[str, Any] | None] | None:
    """Where each column of `inner`'s relation takes its value from, for a negation `\\+ head`
    that holds when no row matches `inner` (the same atom, or a one-literal negation helper's
    body): see Absence. None when a variable of the negation's own appears twice (its columns
    must hold equal values: left to pyDatalog)."""
    params = {t.name: i for i, t in enumerate(head.args) if isinstance(t, ast.Var)}
    places: list[tuple[str, Any] | None] = []
    local: set[str] = set()
    for term in inner.args:
        if not isinstance(term, ast.Var):
            places.append(("const", constant(number_value(term.value)).id))
        elif term.name in params:
            places.append(("arg", params[term.name]))
        elif term.name in local:
            return None
        else:
            local.add(term.name)
            places.append(None)
    return places


class Absence:
    """A negation of a complete table, `\\+ p(a, _)`, as a primitive: it holds exactly when no row
    of the table matches (the literal's arguments bound, the negation's own variables free).

    pyDatalog proves `\\+ p(a, b)` by completing the subgoal `p(a, b)` and finding it has no
    answer: a subgoal, its search and its completion per binding. The relation is complete when
    any rule reading it is asked (lower strata, the case's facts), so the answer of that subgoal
    is the table's, and the test is one lookup. `places` says, for each column of the table,
    where its value comes from: ("arg", i) the literal's i-th argument, ("const", id) a constant
    of the negated atom, None a variable of the negation's own (any value)."""

    __slots__ = ("table", "columns", "sources")

    def __init__(self, table: FactTable, pred, places: list[tuple[str, Any] | None]) -> None:
        self.table = table
        self.columns = tuple(i for i, place in enumerate(places) if place is not None)
        self.sources = tuple(places[i] for i in self.columns)
        pred.prim = self.resolve

    def resolve(self, literal, subgoal) -> None:
        terms = literal.terms
        key = []
        for kind, value in self.sources:
            if kind == "const":
                key.append(value)
                continue
            term = terms[value]
            if not term.is_const():
                raise pyEngine.util.DatalogError(f"unbound negation {literal}", None, None)
            key.append(term.id)
        if not self.table.has(self.columns, tuple(key)):
            subgoal.fact(True)
