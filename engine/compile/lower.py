"""Lowering: checked AST clauses → core clauses a tabling engine can run directly.

Three rewrites, each producing ordinary clauses over auxiliary predicates (names contain `$`,
which user predicates cannot, so they never collide):
- a negation with literal-local variables (`\\+ p(X, _)`) negates `neg$N(X) :- p(X, _)`;
- an aggregate becomes an aggregate definition over `aggbody$N(Group..., Local...)` and a
  call of its function-style result; count and sum also get a variant of the clause for the
  empty set (`\\+ aggany$N(Group...)` with the result 0);
- anonymous variables get unique names.
The output is plain data (no pyDatalog objects), so it can be cached and reused per thread.
"""
from __future__ import annotations

import itertools
from typing import Sequence, Union

from engine.guard.record import record, replace
from engine.language import ast
from engine.language.tables import tables
from engine.language.visit import literal_variables, name_anonymous, unique


@record(frozen=True)
class AggCall:
    """`name[Group...] == Result` in a body: the value of aggregate `name` for a group."""

    name: str
    group: tuple[ast.Term, ...]
    result: ast.Term


@record(frozen=True)
class AggDef:
    """`name[Group...] = kind(value) over distinct rows of body(Group..., Local...)`."""

    name: str
    kind: str
    group: tuple[ast.Var, ...]
    value: ast.Var | None
    local: tuple[ast.Var, ...]
    body: ast.Atom


CoreLiteral = Union[ast.Positive, ast.Negation, ast.Comparison, AggCall]


@record(frozen=True)
class CoreClause:
    head: ast.Atom
    body: tuple[CoreLiteral, ...]
    owner: tuple[str, int] | None = None
    """The source predicate this clause was lowered from (itself, or the user of an auxiliary)."""
    source: int | None = None
    """Which of its owner's source clauses (in program order, facts included) it was lowered from."""


@record(frozen=True)
class CoreProgram:
    clauses: tuple[CoreClause, ...]
    aggregates: tuple[AggDef, ...]
    predicates: tuple[tuple[str, int], ...]
    facts: tuple[tuple[tuple[str, int], tuple[tuple, ...]], ...] = ()
    """The program's ground facts as rows per predicate (in clause order), not as clauses: a kb
    table of 100,000 facts is 100,000 tuples here. `clauses` holds everything else."""


AUX = "$"
"""Marks auxiliary predicate names; no user predicate can contain it, so none can collide."""


def is_aux(name: str) -> bool:
    return AUX in name


class Names:
    def __init__(self, prefix: str = "") -> None:
        self.counter = itertools.count(1)
        self.prefix = prefix

    def fresh(self, stem: str) -> str:
        return f"{stem}{AUX}{self.prefix}{next(self.counter)}"


def lower_program(clauses: Sequence[ast.Clause], predicates: Sequence[tuple[str, int]],
                  prefix: str = "") -> CoreProgram:
    names = Names(prefix)
    out: list[CoreClause] = []
    aggs: list[AggDef] = []
    preds = set(predicates)
    table = tables(clauses)
    mixed = {c.head.key for c in table.rules} & set(table.rows)
    seen: dict[tuple[str, int], int] = {}
    for clause in table.rules:  # ground facts stay rows (`CoreProgram.facts`)
        key = clause.head.key
        if key in mixed:  # its index among its predicate's clauses, facts included
            source = next(i for i, c in enumerate(table.by_head[key]) if c is clause)
        else:
            source = seen[key] = seen.get(key, -1) + 1
        start = len(out)
        for core in lower_clause(clause, names, aggs, out):
            out.append(core)
        for i in range(start, len(out)):
            out[i] = replace(out[i], owner=clause.head.key, source=source)
    for c in out:
        preds.add(c.head.key)
    for a in aggs:
        preds.add(a.body.key)
    preds.update(table.rows)
    return CoreProgram(tuple(out), tuple(aggs), tuple(sorted(preds)),
                       tuple((key, tuple(rows)) for key, rows in table.rows.items()))


def lower_clause(clause: ast.Clause, names: Names, aggs: list[AggDef],
                 aux: list[CoreClause]) -> list[CoreClause]:
    """The core clauses for one source clause (several when aggregates need an empty-set variant)."""
    anon = itertools.count(1)
    clause = name_anonymous(clause, anon)
    variants: list[tuple[list[CoreLiteral], dict[str, ast.Const]]] = [([], {})]
    bound: set[str] = set()
    for literal in clause.body:
        if isinstance(literal, ast.Positive):
            _extend(variants, literal)
            bound |= {v.name for v in literal.atom.variables()}
        elif isinstance(literal, ast.Comparison):
            _extend(variants, literal)
            if literal.op == "=":
                bound |= {t.name for t in (literal.left, literal.right) if isinstance(t, ast.Var)}
        elif isinstance(literal, ast.Negation):
            _extend(variants, _lower_negation(literal, bound, names, aux))
        else:
            variants = _lower_aggregate(literal, bound, names, aggs, aux, variants)
            if isinstance(literal.result, ast.Var):
                bound.add(literal.result.name)
    result = []
    for body, subst in variants:
        head = _subst_atom(clause.head, subst)
        result.append(CoreClause(head, tuple(_subst_literal(b, subst) for b in body)))
    return result


def _extend(variants, literal) -> None:
    for body, _ in variants:
        body.append(literal)


def _lower_negation(literal: ast.Negation, bound: set[str], names: Names,
                    aux: list[CoreClause]) -> ast.Negation:
    local = [v for v in literal.atom.variables() if v.name not in bound]
    if not local:
        return literal
    keep = unique([v for v in literal.atom.variables() if v.name in bound])
    helper = ast.Atom(names.fresh("neg"), tuple(keep))
    aux.append(CoreClause(helper, (ast.Positive(literal.atom),)))
    return ast.Negation(helper, literal.loc)


def _lower_aggregate(literal: ast.Aggregate, bound: set[str], names: Names, aggs: list[AggDef],
                     aux: list[CoreClause], variants):
    goal_vars = unique([v for g in literal.goal for v in literal_variables(g)])
    group = tuple(v for v in goal_vars if v.name in bound)
    local = tuple(v for v in goal_vars if v.name not in bound)
    body_atom = ast.Atom(names.fresh("aggbody"), group + local)
    aux.append(CoreClause(body_atom, tuple(literal.goal)))
    name = names.fresh("agg")
    aggs.append(AggDef(name, literal.kind, group, literal.over, local, body_atom))
    call = AggCall(name, group, literal.result)
    new_variants = []
    for body, subst in variants:
        new_variants.append((body + [call], dict(subst)))
    if literal.kind in ("count", "sum"):
        any_atom = ast.Atom(names.fresh("aggany"), group)
        aux.append(CoreClause(any_atom, (ast.Positive(body_atom),)))
        zero = ast.Const(0)
        for body, subst in variants:
            extra: list[CoreLiteral] = [ast.Negation(any_atom)]
            new_subst = dict(subst)
            result = literal.result
            if isinstance(result, ast.Var) and result.name not in bound:
                new_subst[result.name] = zero
            else:
                extra.append(ast.Comparison("=", result, zero))
            new_variants.append((body + extra, new_subst))
    return new_variants


def _subst_term(t: ast.Term, subst: dict[str, ast.Const]) -> ast.Term:
    return subst.get(t.name, t) if isinstance(t, ast.Var) else t


def _subst_atom(a: ast.Atom, subst) -> ast.Atom:
    if not subst:
        return a
    return ast.Atom(a.pred, tuple(_subst_term(t, subst) for t in a.args), a.loc)


def _subst_literal(lit: CoreLiteral, subst) -> CoreLiteral:
    if not subst:
        return lit
    if isinstance(lit, ast.Positive):
        return ast.Positive(_subst_atom(lit.atom, subst))
    if isinstance(lit, ast.Negation):
        return ast.Negation(_subst_atom(lit.atom, subst), lit.loc)
    if isinstance(lit, ast.Comparison):
        return ast.Comparison(lit.op, _subst_term(lit.left, subst), _subst_term(lit.right, subst), lit.loc)
    return AggCall(lit.name, tuple(_subst_term(t, subst) for t in lit.group), _subst_term(lit.result, subst))
