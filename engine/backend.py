"""The pyDatalog backend: core clauses → pyDatalog clauses built from its Python objects.

No text reaches pyDatalog's `load`/`ask`: every term, literal and clause is constructed here.
pyDatalog keeps one program per thread (its `Logic`); a `Backend` owns one Logic object and
installs it in whichever thread uses it, so several programs can live in one process.
User predicate names are mangled with a `w_` prefix so none collides with pyDatalog's own
names (`rank`, `sum_`, dotted names...).
"""
from __future__ import annotations

import threading
from typing import Any, Iterable, Sequence

from pyDatalog import pyEngine, pyParser
from pyDatalog.Aggregate import Max, Min, Sum
from pyDatalog.Logic import Logic

from engine import ast
from engine.lower import AggCall, AggDef, CoreClause, CoreProgram

PREFIX = "w_"
_COMPARE = {"<": "<", "=<": "<=", ">": ">", ">=": ">=", "=": "==", "\\=": "!="}
_GROUP_KEY = "k"


def mangle(pred: str) -> str:
    return PREFIX + pred


def _order_key(value: Any) -> tuple:
    """Standard order of terms: numbers before atoms, so mixed comparisons never raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return (1, str(value))
    return (0, value)


def _compare_primitive(literal, subgoal):
    """pyDatalog's comparison primitive, with standard term order for mixed types."""
    x, y = literal.terms
    if not (x.is_const() and y.is_const()):
        raise pyEngine.util.DatalogError(f"unbound comparison {literal}", None, None)
    op, a, b = literal.pred.name, x.id, y.id
    if op in ("==", "!="):
        same = a == b and _order_key(a)[0] == _order_key(b)[0]
        if same == (op == "=="):
            subgoal.fact(True)
        return
    ka, kb = _order_key(a), _order_key(b)
    if (op == "<" and ka < kb) or (op == "<=" and ka <= kb) or (op == ">" and ka > kb) or (op == ">=" and ka >= kb):
        subgoal.fact(True)


class Backend:
    """One program's pyDatalog state, per thread: rules loaded once, facts asserted and retracted."""

    def __init__(self, core: CoreProgram) -> None:
        self.core = core
        self._local = threading.local()

    # -- thread state -------------------------------------------------------------------
    def activate(self) -> "_ThreadState":
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = _ThreadState(self.core)
        if getattr(Logic.tl, "logic", None) is not state.logic:
            Logic.tl.logic = state.logic
        return state


class _ThreadState:
    def __init__(self, core: CoreProgram) -> None:
        logic = object.__new__(Logic)
        Logic.tl.logic = logic
        pyParser.clear()
        pyEngine.clear()
        for op in ("<", "<=", ">", ">=", "!="):
            pyEngine.Pred(op, 2).prim = _compare_primitive
        self.logic = logic
        self.preds: dict[tuple[str, int], Any] = {}
        for name, arity in core.predicates:
            pred = pyEngine.Pred(mangle(name), arity)
            pyEngine.insert(pred)
            self.preds[(name, arity)] = pred
        self._vars: dict[str, Any] = {}
        for agg in core.aggregates:
            self._add_aggregate(agg)
        for clause in core.clauses:
            self._add_clause(clause)
        self.asserted: list[Any] = []

    # -- building clauses -----------------------------------------------------------------
    def _term(self, term: ast.Term):
        if isinstance(term, ast.Var):
            return pyParser.Term("V_" + term.name)
        value = term.value
        if isinstance(value, str):
            return pyParser.Term(value, forced_type="constant")
        return pyParser.Expression._pyD_for(value)

    def _literal(self, literal):
        if isinstance(literal, ast.Positive):
            return pyParser.Literal.make(mangle(literal.atom.pred), [self._term(t) for t in literal.atom.args])
        if isinstance(literal, ast.Negation):
            positive = pyParser.Literal.make(mangle(literal.atom.pred), [self._term(t) for t in literal.atom.args])
            return ~positive
        if isinstance(literal, ast.Comparison):
            return pyParser.Literal.make_for_comparison(self._term(literal.left), _COMPARE[literal.op],
                                                        self._term(literal.right))
        if isinstance(literal, AggCall):
            keys = (pyParser.Term(_GROUP_KEY, forced_type="constant"),) + tuple(self._term(t) for t in literal.group)
            return pyParser.Function(mangle(literal.name), keys) == self._term(literal.result)
        raise TypeError(literal)

    def _add_clause(self, clause: CoreClause) -> None:
        head = pyParser.Literal.make(mangle(clause.head.pred), [self._term(t) for t in clause.head.args])
        if not clause.body:
            +head
            return
        body = self._literal(clause.body[0])
        for literal in clause.body[1:]:
            body = body & self._literal(literal)
        head <= body

    def _add_aggregate(self, agg: AggDef) -> None:
        keys = (pyParser.Term(_GROUP_KEY, forced_type="constant"),) + tuple(self._term(v) for v in agg.group)
        local = tuple(self._term(v) for v in agg.local)
        body = pyParser.Literal.make(mangle(agg.body.pred), [self._term(t) for t in agg.body.args])
        if agg.kind == "count":
            one = pyParser.Term("V__One")
            body = pyParser.Literal.make(mangle(agg.body.pred) + "__one",
                                         [self._term(t) for t in agg.body.args] + [one])
            ones = pyParser.Literal.make(mangle(agg.body.pred) + "__one",
                                         [self._term(t) for t in agg.body.args] + [1])
            ones <= pyParser.Literal.make(mangle(agg.body.pred), [self._term(t) for t in agg.body.args])
            value = Sum(one, for_each=local or (one,))
        elif agg.kind == "sum":
            over = self._term(agg.value)
            value = Sum(over, for_each=tuple(t for t in local if t._pyD_name != over._pyD_name) + (over,))
        elif agg.kind == "max":
            over = self._term(agg.value)
            value = Max(over, order_by=(over,))
        else:
            over = self._term(agg.value)
            value = Min(over, order_by=(over,))
        (pyParser.Function(mangle(agg.name), keys) == value) <= body

    # -- facts and queries ----------------------------------------------------------------
    def assert_facts(self, key: tuple[str, int], rows: Iterable[Sequence[Any]]) -> None:
        pred = self.preds.get(key)
        if pred is None:
            pred = self.preds[key] = pyEngine.insert(pyEngine.Pred(mangle(key[0]), key[1]))
        term_of = pyEngine.Term_of
        for row in rows:
            clause = pyEngine.Clause(pyEngine.Literal(pred, [term_of(v) for v in row]), [])
            pyEngine.assert_(clause)
            self.asserted.append(clause)

    def retract_all(self) -> None:
        for clause in self.asserted:
            pyEngine.retract(clause)
        self.asserted = []

    def query(self, key: tuple[str, int], pattern: Sequence[Any] | None = None) -> list[tuple]:
        pred = self.preds.get(key)
        if pred is None:
            return []
        args = []
        for i in range(key[1]):
            value = None if pattern is None else pattern[i]
            args.append(pyEngine.Var(f"Q{i}") if value is None else pyEngine.Term_of(value))
        result = pyEngine.Literal(pred, args).ask()
        if result is True:
            return [tuple(a for a in (pattern or ()))]
        return result or []

    def add_query_clauses(self, clauses: Sequence[CoreClause], aggregates: Sequence[AggDef]) -> None:
        for agg in aggregates:
            self._add_aggregate(agg)
        for clause in clauses:
            for lit in clause.body:
                for atom in _atoms(lit):
                    if atom.key not in self.preds:
                        self.preds[atom.key] = pyEngine.insert(pyEngine.Pred(mangle(atom.pred), len(atom.args)))
            self._add_clause(clause)
            key = clause.head.key
            if key not in self.preds:
                self.preds[key] = pyEngine.Pred(mangle(key[0]), key[1])


def _atoms(literal) -> list[ast.Atom]:
    if isinstance(literal, (ast.Positive, ast.Negation)):
        return [literal.atom]
    return []
