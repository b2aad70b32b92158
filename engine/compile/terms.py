"""pyDatalog's objects for Warrant's names, terms and rows, made directly (never from text).

User predicate names are mangled with a `w_` prefix so none collides with pyDatalog's own
names (`rank`, `sum_`, dotted names...); a derived predicate's materialised relation is `wm_`,
a recursive component's rows new in the last round `wd_`.
"""
from __future__ import annotations

from typing import Any, Sequence

from pyDatalog import pyEngine
from pyDatalog.Logic import Logic

from engine.language import ast
from engine.language.visit import number_value, order_key

PREFIX = "w_"
MATERIALIZED = "wm_"
DELTA = "wd_"


def mangle(pred: str) -> str:
    return PREFIX + pred


def compare_primitive(literal, subgoal):
    """pyDatalog's comparison primitive, with standard term order for mixed types."""
    x, y = literal.terms
    if not (x.is_const() and y.is_const()):
        raise pyEngine.util.DatalogError(f"unbound comparison {literal}", None, None)
    op, a, b = literal.pred.name, x.id, y.id
    if op == "!=":  # `=` stays pyDatalog's own primitive, which also binds
        if not (a == b and order_key(a)[0] == order_key(b)[0]):
            subgoal.fact(True)
        return
    ka, kb = order_key(a), order_key(b)
    if (op == "<" and ka < kb) or (op == "<=" and ka <= kb) or (op == ">" and ka > kb) or (op == ">=" and ka >= kb):
        subgoal.fact(True)


def row(values: Sequence[Any]) -> tuple:
    """A row with each number in its one representative (see `number_value`)."""
    if float in map(type, values):
        return tuple(number_value(v) for v in values)
    return values if type(values) is tuple else tuple(values)


def engine_term(term: ast.Term):
    if isinstance(term, ast.Var):
        return pyEngine.Var("V_" + term.name)
    return pyEngine.Term_of(number_value(term.value))


def new_pred(spec: tuple[str, int]):
    """A registered pyDatalog predicate whose facts are keyed on every argument."""
    pred = pyEngine.Pred(*spec)  # (registered by pyDatalog as it is made)
    if pred.prearity is None:
        pred.prearity = spec[1]
    Logic.tl.logic.Db[pred.id] = pred  # what pyEngine.insert adds to that
    return pred
