"""Values worth trying for each argument of each base predicate, read from the program's clauses.

Used to say which documentation is missing for an aggregate that counted too little, and to
propose concrete values in minimal documentation sets: constants written at that argument,
values of fact-only tables joined to it, and thresholds it is compared against (and one past
them, for strict comparisons).
"""
from __future__ import annotations

from functools import cached_property
from typing import Any, Sequence

from engine.language import ast
from engine.language.tables import tables
from engine.language.visit import order_key

Key = tuple[str, int]


class Domains:
    def __init__(self, clauses: Sequence[ast.Clause]) -> None:
        self.clauses = clauses

    @cached_property
    def static(self) -> dict[Key, list[tuple]]:
        """Predicates defined by facts only (thresholds, enumerations, tables)."""
        table = tables(self.clauses)
        rules = table.rule_heads
        return {key: list(rows) for key, rows in table.rows.items() if key not in rules}

    @cached_property
    def table(self) -> dict[tuple[str, int, int], list[Any]]:
        return {k: self.values((k[0], k[1]), k[2]) for k in self._sets}

    @cached_property
    def _sets(self) -> dict[tuple[str, int, int], set]:
        found: set = set()
        for rows in self.static.values():  # column by column: most columns hold no number at all
            for column in zip(*rows):
                if {int, float} & set(map(type, column)):
                    found.update(v for v in column if type(v) in (int, float))
        numbers = sorted(found)
        domains: dict[tuple[str, int, int], set] = {}
        for clause in tables(self.clauses).rules:
            for lit in clause.body:
                if isinstance(lit, (ast.Positive, ast.Negation)):
                    atoms = [lit.atom]
                elif isinstance(lit, ast.Aggregate):
                    atoms = [g.atom for g in lit.goal if isinstance(g, ast.Positive)]
                else:
                    atoms = []
                for atom in atoms:
                    for pos, term in enumerate(atom.args):
                        slot = domains.setdefault((atom.pred, len(atom.args), pos), set())
                        if isinstance(term, ast.Const):
                            slot.add(term.value)
                        elif term.name != "_":
                            slot |= self._joined(clause, term.name, numbers)
        return domains

    def values(self, key: Key, position: int) -> list[Any]:
        """The values of one argument, in standard order (sorted when first asked for: a column
        joined to a large table holds all of its values)."""
        slot = (key[0], key[1], position)
        found = self._sorted.get(slot)
        if found is None:
            found = self._sorted[slot] = sorted(self._sets.get(slot, ()), key=order_key)
        return found

    @cached_property
    def _sorted(self) -> dict[tuple[str, int, int], list[Any]]:
        return {}

    def _joined(self, clause: ast.Clause, var: str, numbers: list) -> set:
        values: set = set()
        for lit in clause.body:
            if isinstance(lit, ast.Positive) and lit.atom.key in self.static:
                for pos, term in enumerate(lit.atom.args):
                    if isinstance(term, ast.Var) and term.name == var:
                        values |= {row[pos] for row in self.static[lit.atom.key]}
            if isinstance(lit, ast.Comparison):
                sides = (lit.left, lit.right)
                if any(isinstance(t, ast.Var) and t.name == var for t in sides):
                    for t in sides:
                        if isinstance(t, ast.Const):
                            values.add(t.value)
                    if lit.op in ("<", "=<", ">", ">="):
                        values |= set(numbers) | {n + 1 for n in numbers}
        return values
