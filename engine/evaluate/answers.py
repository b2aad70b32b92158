"""Answers on demand: a case's derived relations, evaluated by pyDatalog when first read.

A decision reads a handful of predicates (and what they depend on); a kb may define many more.
`Answers` evaluates the strata the first demand needs and, when a predicate outside them is read
later, evaluates again with the wider demand — so adding unrelated rules to a kb costs a case
nothing (issue 16, point 5).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

Key = tuple[str, int]


class Answers(Mapping):
    """Read-only mapping predicate key -> rows, derived from `facts` on first read of each key."""

    def __init__(self, program: Any, facts: Mapping[Key, Sequence[tuple]], demand: Iterable[Key] = ()) -> None:
        self.program = program
        self.facts = facts
        self.rows: dict[Key, list[tuple]] = {}
        self.origins: dict[Key, dict[tuple, set]] = {}  # row -> the source clauses that derive it
        self.derivable = program.derived_keys
        wanted = [k for k in demand if k in self.derivable]
        if wanted:
            self.rows = program.derive(facts, wanted, self.origins)

    def _fill(self, key: Key) -> None:
        if key in self.derivable and key not in self.rows:
            self.rows = self.program.derive(self.facts, list(self.rows) + [key], self.origins)

    def __getitem__(self, key: Key) -> list[tuple]:
        self._fill(key)
        return self.rows[key]

    def get(self, key: Key, default: Any = None) -> Any:
        self._fill(key)
        return self.rows.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.derivable

    def __iter__(self) -> Iterator[Key]:
        if any(key not in self.rows for key in self.derivable):
            self.rows = self.program.derive(self.facts, None, self.origins)
        return iter(sorted(self.derivable))

    def __len__(self) -> int:
        return len(self.derivable)
