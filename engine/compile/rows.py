"""Rows into pyDatalog: a table's facts asserted in bulk, and rows with one value per number.

Kept apart from backend.py, which builds and runs the clauses; this is how its facts are fed.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable

from pyDatalog import pyEngine

from engine.language.visit import number_value


def assert_rows(pred, rows: Iterable[tuple]) -> list:
    """Assert rows as facts of a pyDatalog predicate; the clauses, to retract them later.

    What `pyEngine.assert_` does for a new fact (store it under its id, index each column),
    with the predicate registered once for all rows rather than once per row (the registry is
    a WeakValueDictionary: re-registering costs more than storing the fact). A row already
    stored goes through `assert_` itself, which replaces it."""
    const, term_of, literal, clause_of = pyEngine.Const, pyEngine.Term_of, pyEngine.Literal, pyEngine.Clause
    db, index = pred.db, pred.index
    fast = type(db) in (dict, OrderedDict) and isinstance(index, list)  # the storage of the engine we ship
    clauses = []
    for row in rows:
        terms = [term_of(v) if type(v) is float else const(v) for v in row]
        clause = clause_of(literal(pred, terms), [])
        clauses.append(clause)
        id_ = clause.get_id() if fast else None
        if not fast or id_ in db:
            pyEngine.assert_(clause)
            continue
        db[id_] = clause
        for column, term in zip(index, terms):
            found = column.get(term.id)
            if found is None:
                column[term.id] = {clause}
            else:
                found.add(clause)
    if clauses and fast:
        pyEngine.insert(pred)
    return clauses


def normal(rows: list[tuple]) -> list[tuple]:
    """The rows with each number in its one representative (`number_value`); a table without floats,
    as most are, is returned as it is (its columns' types are read in bulk)."""
    if any(float in set(map(type, column)) for column in zip(*rows)):
        return [tuple(number_value(v) for v in row) for row in rows]
    return rows
