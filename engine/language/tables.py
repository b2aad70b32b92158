"""A program's ground facts as tables: rows of values per predicate, computed once.

Many passes (kinds, possible answers, wording, lint, domains, the backend) read the facts of a
program; with a kb table of 100,000 facts, each of them walking every fact clause and building
its row again cost as much as parsing. `tables(clauses)` does that walk once per clause tuple
(the last few are remembered by identity: a program's clauses are an immutable tuple), and the
passes read rows in bulk. The fact clauses stay available (`by_head`) for their positions.
"""
from __future__ import annotations

import threading
from operator import attrgetter
from typing import Any, Sequence

from engine.language import ast

Key = tuple[str, int]


class Tables:
    """The facts of a clause sequence (see the module docstring)."""

    __slots__ = ("rows", "rules", "heads", "memo", "_clauses", "_by_head")

    def __init__(self, clauses: Sequence[ast.Clause]) -> None:
        self.rows: dict[Key, list[tuple]] = {}
        """The values of each predicate's ground facts, in clause order."""
        self.rules: list[ast.Clause] = []
        """Every clause that is not a ground fact (rules, and facts with variables), in order."""
        self.heads: set[Key] = set()
        """Every predicate some clause defines."""
        self.memo: dict[str, Any] = {}
        """What passes compute from these clauses alone, kept for the next pass that asks."""
        self._clauses = clauses
        self._by_head: dict[Key, list[ast.Clause]] | None = None
        rows, rules, value_of = self.rows, self.rules, attrgetter("value")
        for clause in clauses:
            head = clause.head
            if clause.body:
                rules.append(clause)
                continue
            try:
                row = tuple(map(value_of, head.args))
            except AttributeError:  # a variable: not a ground fact
                rules.append(clause)
                continue
            found = rows.get(head.key)
            if found is None:
                rows[head.key] = [row]
            else:
                found.append(row)
        self.heads.update(rows)
        self.heads.update(c.head.key for c in rules)

    @property
    def by_head(self) -> dict[Key, list[ast.Clause]]:
        """Every clause by the predicate of its head, in clause order."""
        if self._by_head is None:
            by_head: dict[Key, list[ast.Clause]] = {}
            for clause in self._clauses:
                by_head.setdefault(clause.head.key, []).append(clause)
            self._by_head = by_head
        return self._by_head

    @property
    def rule_heads(self) -> set[Key]:
        """Predicates some clause with a body defines."""
        return {c.head.key for c in self.rules if c.body}


_lock = threading.Lock()
_recent: list[tuple[Any, Tables]] = []
_KEEP = 4


def tables(clauses: Sequence[ast.Clause]) -> Tables:
    """The tables of these clauses; computed once per tuple (any other sequence: every time)."""
    if type(clauses) is not tuple:
        return Tables(clauses)
    with _lock:
        for known, result in _recent:
            if known is clauses:
                return result
    result = Tables(clauses)
    with _lock:
        _recent.insert(0, (clauses, result))
        del _recent[_KEEP:]
    return result
