"""The case's complete relations as prune's value-domain test reads them (prune.Relations).

A view over one evaluation of a thread's pyDatalog state (engine.compile.backend): lower derived
relations from this evaluation, inputs from the kb's and the case's facts, and where to keep
what prune computes from each (per case, or for as long as the kb's facts and static relations
stay).
"""
from __future__ import annotations

from itertools import chain, count
from typing import Any, Sequence

_NUMBERS: dict[tuple, int] = {}
_NEXT = count()


def pattern_number(pattern: tuple) -> int:
    """A small number for a distinct pattern (a literal's probe, a negation, a view): the key of
    its entry in a relation's memo, cheaper to hash than the nested tuple. Threads building
    programs at once never get one number for two patterns (`setdefault` and `next` are each one
    step under the GIL)."""
    found = _NUMBERS.get(pattern)
    if found is None:
        found = _NUMBERS.setdefault(pattern, next(_NEXT))
    return found

_TYPES = "types"
"""The memo entry holding the types of a relation's values (prune and reuse both read it)."""


def value_types(rows: Sequence[tuple], memo: dict) -> frozenset[type]:
    """The types of the values in the rows, kept in the relation's memo (one pass at C speed)."""
    found = memo.get(_TYPES)
    if found is None:
        found = memo[_TYPES] = frozenset(map(type, chain.from_iterable(rows)))
    return found


class CaseRelations:
    """The complete relations a rule of the component being evaluated reads (for prune.live):
    lower derived relations from this evaluation, inputs from the kb's and the case's facts."""

    __slots__ = ("state", "result", "memos", "views")

    def __init__(self, state: Any, result: dict) -> None:
        self.state = state
        self.result = result
        self.memos: dict[tuple[str, int], dict] = {}
        self.views: dict[int, frozenset | None] = {}  # engine.compile.reuse: each view's rows, this evaluation

    def rows(self, key: tuple[str, int]) -> Sequence[tuple]:
        if key in self.result:
            return self.result[key]
        kb, case = self.state.kb_rows.get(key, ()), self.state.case_rows.get(key, ())
        return kb if not case else case if not kb else [*kb, *case]

    def memo(self, key: tuple[str, int]) -> dict:
        found = self.memos.get(key)
        if found is not None:
            return found
        state = self.state
        stable = key in state.static.keys if key in self.result else key not in state.case_rows
        table = state._stable_memo if stable else state._case_memo
        found = table.get(key)
        if found is None:
            found = table[key] = {}
        self.memos[key] = found
        return found
