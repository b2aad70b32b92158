"""Safety, checked left to right as Prolog runs a body.

A variable must be bound by an earlier positive literal (or `=` with a bound side) before it is
used in a negation, a comparison, an aggregate's grouping, or the head. pyDatalog silently
returns nothing for unsafe negation, so these programs never reach it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from engine.language import ast
from engine.errors import Finding, Location


def check_safety(modules: Sequence[ast.Module]) -> list[Finding]:
    findings: list[Finding] = []
    var = ast.Var
    for module in modules:
        for clause in module.clauses:
            if clause.body or var in map(type, clause.head.args):  # a ground fact is safe
                findings += clause_safety(clause)
    return findings


def clause_safety(clause: ast.Clause) -> list[Finding]:
    findings: list[Finding] = []
    bound = bind_body(clause.body, set(), findings)
    for arg in clause.head.args:
        if isinstance(arg, ast.Var):
            if arg.name == "_" or arg.name not in bound:
                what = "fact" if clause.is_fact else "head"
                findings.append(_unsafe(arg, f"in the {what} of {clause.head.pred}", clause.head.loc,
                                        "a fact must be ground" if clause.is_fact else
                                        "bind it in a positive body literal"))
    return findings


def bind_body(body: Iterable[ast.Literal], bound: set[str], findings: list[Finding]) -> set[str]:
    """Walk literals left to right, reporting unsafe uses; returns the variables bound at the end."""
    bound = set(bound)
    for literal in body:
        if isinstance(literal, ast.Positive):
            bound |= {v.name for v in literal.atom.variables()}
        elif isinstance(literal, ast.Negation):
            for var in literal.atom.variables():
                if not var.anonymous and var.name not in bound:
                    findings.append(_unsafe(var, f"in the negation {literal}", literal.loc or literal.atom.loc,
                                            "bind it in an earlier positive literal"))
        elif isinstance(literal, ast.Comparison):
            _comparison(literal, bound, findings)
        elif isinstance(literal, ast.Aggregate):
            inner = bind_body(literal.goal, bound, findings)
            if literal.over is not None and literal.over.name not in inner:
                findings.append(_unsafe(literal.over, f"aggregated by {literal.kind}", literal.loc,
                                        "it must appear in a positive literal of the aggregated goal"))
            if isinstance(literal.result, ast.Var):
                bound.add(literal.result.name)
    return bound


def _comparison(literal: ast.Comparison, bound: set[str], findings: list[Finding]) -> None:
    sides = [literal.left, literal.right]
    unbound = [t for t in sides if isinstance(t, ast.Var) and (t.name not in bound or t.name == "_")]
    if literal.op == "=" and len(unbound) == 1:
        bound.add(unbound[0].name)
        return
    for var in unbound:
        findings.append(_unsafe(var, f"in the comparison {literal}", literal.loc,
                                "bind it in an earlier positive literal"))


def _unsafe(var: ast.Var, where: str, loc: Location | None, hint: str) -> Finding:
    return Finding("unsafe_variable", f"unsafe variable {var.name} {where}: it is not bound "
                   f"at this point ({hint})", loc)
