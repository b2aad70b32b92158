"""Arity: a predicate name means one predicate, so every use must have the same number of arguments."""
from __future__ import annotations

from typing import Sequence

from engine.language import ast
from engine.errors import Finding, Location


def check_arity(modules: Sequence[ast.Module]) -> list[Finding]:
    first: dict[str, tuple[int, Location | None]] = {}
    findings: list[Finding] = []

    def see(name: str, arity: int, loc: Location | None) -> None:
        known = first.get(name)
        if known is None:
            first[name] = (arity, loc)
        elif known[0] != arity:
            where = f" at {known[1]}" if known[1] else ""
            plural = "s" if arity != 1 else ""
            findings.append(Finding("arity_mismatch", f"{name} is used with {arity} argument{plural} here "
                                    f"but with {known[0]}{where}", loc))

    facts: set[tuple[str, int]] = set()  # a fact of a predicate already seen cannot disagree
    for module in modules:
        for decl in module.decls:
            see(decl.name, len(decl.params), decl.loc)
        for clause in module.clauses:
            if not clause.body:
                if clause.head.key in facts:
                    continue
                facts.add(clause.head.key)
            see(clause.head.pred, len(clause.head.args), clause.head.loc)
            for literal in clause.body:
                for atom, _ in ast.body_atoms(literal):
                    see(atom.pred, len(atom.args), atom.loc)
    return findings
