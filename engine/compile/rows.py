"""Rows into pyDatalog: a table's facts asserted and retracted in bulk, and rows with one value
per number.

Kept apart from backend.py, which builds and runs the clauses; this is how its facts are fed.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable

from pyDatalog import pyEngine
from pyDatalog.Logic import Logic

from engine.language.visit import number_value


def _dict_storage(pred) -> bool:
    """Whether the predicate keeps its clauses as the compiled engine we ship does: a dict by id
    and, per column, a dict from value to the set of facts (other storage goes through
    pyEngine's own assert_/retract)."""
    return type(pred.db) in (dict, OrderedDict) and isinstance(pred.index, list)


_TERMS: dict[tuple[type, Any], Any] = {}
"""pyDatalog's constant for each value, made once: the same line ids, codes and criteria come back
in every case (a term is immutable; keyed by type too, as 1, 1.0 and True are equal keys)."""
_MOST_TERMS = 100_000


def _term(value: Any):
    term = pyEngine.Term_of(value) if type(value) is float else pyEngine.Const(value)
    _TERMS[(type(value), value)] = term
    return term


def assert_rows(pred, rows: Iterable[tuple]) -> list:
    """Assert rows as facts of a pyDatalog predicate; the clauses stored, to retract them later.

    What `pyEngine.assert_` does for a new fact (store it under its id, index each column), with
    the predicate registered once for all rows rather than once per row (the registry is a
    WeakValueDictionary: re-registering costs more than storing the fact) and without the
    retraction `assert_` tries first. A row whose fact is stored already is left as it is and not
    returned: retracting it later would take away a fact this call did not add."""
    literal, clause_of = pyEngine.Literal, pyEngine.Clause
    db, index = pred.db, pred.index
    fast = _dict_storage(pred)
    clauses = []
    if len(_TERMS) > _MOST_TERMS:
        _TERMS.clear()
    for row in rows:
        terms = [_TERMS.get((type(v), v)) or _term(v) for v in row]
        clause = clause_of(literal(pred, terms), [])
        id_ = clause.get_id()
        if not fast:
            if _stored(pred, clause):
                continue
            pyEngine.assert_(clause)
        elif id_ in db:
            continue
        else:
            db[id_] = clause
            for column, term in zip(index, terms):
                found = column.get(term.id)
                if found is None:
                    column[term.id] = {clause}
                else:
                    found.add(clause)
        clauses.append(clause)
    if clauses and fast and _registry().get(pred.id) is not pred:  # registering again costs a weak reference
        pyEngine.insert(pred)
    return clauses


def _registry():
    """pyDatalog's table of this thread's predicates (what `pyEngine.insert` fills)."""
    return Logic.tl.logic.Db


def _stored(pred, clause) -> bool:
    """Whether a fact with this clause's id is stored (pyEngine's FactDb storage)."""
    id_ = clause.get_id()
    return any(stored.get_id() == id_ for stored in pred.db.get_candidates(hash(id_)))


def retract_rows(clauses: Iterable) -> None:
    """Retract facts `assert_rows` stored. A predicate that holds nothing else (its derived rows
    in one case, a case's facts of a table the program has none of) gets empty storage at once;
    one with other clauses loses these one by one."""
    by_pred: dict = {}
    for clause in clauses:
        by_pred.setdefault(clause.head.pred, []).append(clause)
    for pred, mine in by_pred.items():
        if _dict_storage(pred) and len(pred.db) == len(mine) and not pred.clauses:  # all stored are these
            pred.db = type(pred.db)()
            pred.index = [type(column)() for column in pred.index]
        else:
            for clause in mine:
                pyEngine.retract(clause)


def normal(rows: list[tuple]) -> list[tuple]:
    """The rows with each number in its one representative (`number_value`); a table without floats,
    as most are, is returned as it is (its columns' types are read in bulk)."""
    if any(float in set(map(type, column)) for column in zip(*rows)):
        return [tuple(number_value(v) for v in row) for row in rows]
    return rows
