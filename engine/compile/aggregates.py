"""Aggregates in pyDatalog: `aggregate_all` lowered to a function-style definition and its calls.

A lowered aggregate (engine.compile.lower.AggDef) is defined as pyDatalog's
`(name[k, Group...] == kind(value)) <= body`; a body reads it as `name[Group...] == Result`.
count and sum add over distinct rows of the body (count through a helper relation of ones).
"""
from __future__ import annotations

from pyDatalog import pyEngine, pyParser
from pyDatalog.Aggregate import Max, Min, Sum

from engine.compile.lower import AUX, AggCall, AggDef
from engine.compile.terms import engine_term, mangle
from engine.language import ast
from engine.language.visit import number_value

GROUP_KEY = "k"


def parser_term(term: ast.Term):
    """A term as pyParser builds it (aggregate definitions are made through pyParser's objects)."""
    if isinstance(term, ast.Var):
        return pyParser.Term("V_" + term.name)
    value = number_value(term.value)
    if isinstance(value, str):
        return pyParser.Term(value, forced_type="constant")
    return pyParser.Expression._pyD_for(value)


def aggregate_call(call: AggCall):
    """`agg[Group...] == Result` as pyDatalog encodes it (what pyParser's `Function(name, keys)
    == result` builds, made directly): `name[K]==(_pyD_class, k, Group..., Result)`, its
    first K+1 arguments the key."""
    keys = len(call.group) + 1
    terms = [pyEngine.Term_of("_pyD_class"), pyEngine.Term_of(GROUP_KEY)]
    terms += [engine_term(t) for t in call.group] + [engine_term(call.result)]
    return pyEngine.Literal(f"{mangle(call.name)}[{keys}]==", terms, prearity=keys + 1)


def define_aggregate(agg: AggDef) -> None:
    """`(name[k, Group...] == kind(value)) <= body` in pyDatalog's current program: what
    pyParser's Function syntax builds, made from its objects directly."""
    keys = (pyParser.Term(GROUP_KEY, forced_type="constant"),) + tuple(parser_term(v) for v in agg.group)
    local = tuple(parser_term(v) for v in agg.local)
    body = pyParser.Literal.make(mangle(agg.body.pred), [parser_term(t) for t in agg.body.args])
    if agg.kind == "count":
        one = pyParser.Term("V__One")
        body = pyParser.Literal.make(mangle(agg.body.pred) + AUX + "one",
                                     [parser_term(t) for t in agg.body.args] + [one])
        ones = pyParser.Literal.make(mangle(agg.body.pred) + AUX + "one",
                                     [parser_term(t) for t in agg.body.args] + [1])
        ones <= pyParser.Literal.make(mangle(agg.body.pred), [parser_term(t) for t in agg.body.args])
        value = Sum(one, for_each=local or (one,))
    elif agg.kind == "sum":
        over = parser_term(agg.value)
        value = Sum(over, for_each=tuple(t for t in local if t._pyD_name != over._pyD_name) + (over,))
    elif agg.kind == "max":
        over = parser_term(agg.value)
        value = Max(over, order_by=(over,))
    else:
        over = parser_term(agg.value)
        value = Min(over, order_by=(over,))
    (pyParser.Function(mangle(agg.name), keys) == value) <= body
