"""Relations of the provenance model: rows with hash indexes built on first use, and the rows
of the kb's tables (and of answers that depend on the kb alone) shared by every case's model.

A decision reads most relations once or twice, with a few rows each: small ones are scanned
rather than indexed, and what is the same for every case is loaded and indexed once.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterator, Mapping, Sequence

from engine.guard.memo import ByIdentity
from engine.language.visit import order_key

Key = tuple[str, int]
Row = tuple


class Relation:
    """A set of rows with lazily built hash indexes on bound-argument patterns."""

    __slots__ = ("rows", "_indexes")

    def __init__(self) -> None:
        self.rows: dict[Row, None] = {}
        self._indexes: dict[tuple[int, ...], dict[tuple, list[Row]]] = {}

    def add(self, row: Row) -> bool:
        if row in self.rows:
            return False
        self.rows[row] = None
        for positions, index in self._indexes.items():
            index.setdefault(tuple(row[i] for i in positions), []).append(row)
        return True

    def match(self, pattern: Sequence[Any]) -> list[Row] | Iterator[Row]:
        positions = tuple([i for i, v in enumerate(pattern) if v is not None])
        if not positions:
            return list(self.rows)
        if len(positions) == len(pattern):
            row = tuple(pattern)
            return [row] if row in self.rows else []
        index = self._indexes.get(positions)
        if index is None:
            if len(self.rows) <= SCAN_ROWS:  # a few rows: a scan costs less than an index
                return self._scan(positions, pattern)
            index = {}
            for row in self.rows:
                index.setdefault(tuple([row[i] for i in positions]), []).append(row)
            self._indexes[positions] = index
        return index.get(tuple([pattern[i] for i in positions]), [])

    def _scan(self, positions: tuple[int, ...], pattern: Sequence[Any]) -> list[Row]:
        """The rows an index would give, in the same (insertion) order."""
        if len(positions) == 1:
            at = positions[0]
            value = pattern[at]
            return [row for row in self.rows if row[at] == value]
        read = _getter(positions)
        wanted = read(pattern)
        return [row for row in self.rows if read(row) == wanted]


_GETTERS: dict[tuple[int, ...], Any] = {}


def _getter(positions: tuple[int, ...]) -> Any:
    """itemgetter of several positions (a tuple of their values), one per positions tuple."""
    read = _GETTERS.get(positions)
    if read is None:
        read = _GETTERS[positions] = itemgetter(*positions)
    return read


SCAN_ROWS = 8
"""Relations this small are scanned: most of a case's relations hold a few rows and are read
with a given pattern once or twice per decision."""


_TEXT, _NUMBERS = frozenset({str}), frozenset({int, float})


def in_order(answers: Sequence[Row]) -> list[Row]:
    """Answers as tuples in the standard order of terms (`order_key`, value by value). When each
    column holds only atoms or only numbers, that is the plain order of the tuples."""
    rows = [tuple(row) for row in answers]
    if len(rows) < 2:
        return rows
    for column in zip(*rows):
        kinds = set(map(type, column))
        if not (kinds <= _TEXT or kinds <= _NUMBERS):
            return sorted(rows, key=lambda r: [order_key(v) for v in r])
    return sorted(rows)


_TABLES: ByIdentity[dict[Key, tuple[Any, tuple, Relation]]] = ByIdentity(64)


def shared_relation(kb_rows: Mapping[Key, Sequence[Row]], key: Key, answers: Sequence[Row]) -> Relation:
    """The relation of the kb's rows for `key` and these answers. A kb table, or answers that
    depend on the kb alone (pyDatalog hands out the same list for every case), are loaded and
    indexed once per program: lazy models only read their relations."""
    shared = _TABLES.get(kb_rows, lambda _rows: {})
    entry = shared.get(key)
    rows = tuple(answers)
    if entry is not None and entry[0] is answers and entry[1] == rows:  # the same list, unchanged
        return entry[2]
    rel = Relation()
    for row in kb_rows.get(key, ()):
        rel.add(row)
    for row in in_order(rows):
        rel.add(row)
    shared[key] = (answers, rows, rel)
    return rel
