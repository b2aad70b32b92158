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
        order: dict[tuple[str, int, int], None] = {}
        for clause in tables(self.clauses).rules:  # the slots in the order the rules first use them
            for atom in _atoms(clause):
                for pos in range(len(atom.args)):
                    order.setdefault((atom.pred, len(atom.args), pos), None)
        return {slot: self._slot(slot) for slot in order}

    @cached_property
    def _numbers(self) -> list[Any]:
        """Every number of the fact-only tables (what a threshold comparison may try)."""
        found: set = set()
        for rows in self.static.values():  # column by column: most columns hold no number at all
            for column in zip(*rows):
                if {int, float} & set(map(type, column)):
                    found.update(v for v in column if type(v) in (int, float))
        return sorted(found)

    @cached_property
    def _uses(self) -> dict[Key, list[tuple[ast.Clause, ast.Atom]]]:
        """Each predicate's atoms in the rules' bodies, with their clauses, in rule order."""
        uses: dict[Key, list[tuple[ast.Clause, ast.Atom]]] = {}
        for clause in tables(self.clauses).rules:
            for atom in _atoms(clause):
                uses.setdefault(atom.key, []).append((clause, atom))
        return uses

    def _slot(self, slot: tuple[str, int, int]) -> set:
        """One argument's values, worked out alone (a failure tree asks for a few of them)."""
        values: set = set()
        for clause, atom in self._uses.get((slot[0], slot[1]), ()):
            term = atom.args[slot[2]]
            if isinstance(term, ast.Const):
                values.add(term.value)
            elif term.name != "_":
                values |= self._joined(clause, term.name, self._numbers)
        return values

    def values(self, key: Key, position: int) -> list[Any]:
        """The values of one argument, in standard order (sorted when first asked for: a column
        joined to a large table holds all of its values)."""
        slot = (key[0], key[1], position)
        found = self._sorted.get(slot)
        if found is None:
            found = self._sorted[slot] = sorted(self._slot(slot), key=order_key)
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


def _atoms(clause: ast.Clause) -> list[ast.Atom]:
    """The atoms of a rule's body whose arguments take values: positive and negated literals,
    and an aggregate's positive goals."""
    out: list[ast.Atom] = []
    for lit in clause.body:
        if isinstance(lit, (ast.Positive, ast.Negation)):
            out.append(lit.atom)
        elif isinstance(lit, ast.Aggregate):
            out += [g.atom for g in lit.goal if isinstance(g, ast.Positive)]
    return out
