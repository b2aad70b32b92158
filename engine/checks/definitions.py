"""Definitions: every predicate a body uses is defined by clauses or declared as a base predicate;
defined predicates nobody uses are reported as warnings (likely dead rules or typos)."""
from __future__ import annotations

from typing import Sequence

from engine.language import ast
from engine.errors import Finding


def defined_keys(modules: Sequence[ast.Module]) -> set[tuple[str, int]]:
    return {c.head.key for m in modules for c in m.clauses} | {d.key for m in modules for d in m.decls}


def check_definitions(modules: Sequence[ast.Module], *, base: set[tuple[str, int]],
                      roots: set[str]) -> list[Finding]:
    defined = defined_keys(modules) | base
    names = {k[0] for k in defined}
    used: set[str] = set()
    findings: list[Finding] = []
    reported: set[tuple[str, int]] = set()
    for module in modules:
        for clause in module.clauses:
            for literal in clause.body:
                for atom, _ in ast.body_atoms(literal):
                    used.add(atom.pred)
                    if atom.key not in defined and atom.pred not in names and atom.key not in reported:
                        reported.add(atom.key)
                        findings.append(Finding("undefined_predicate",
                                                f"{atom.pred}/{len(atom.args)} is used but never defined "
                                                f"(no clause and no '%@ pred' declaration)", atom.loc))
    if roots:
        seen: set[str] = set()
        for module in modules:
            heads = {}  # the first head of each name (a table's other rows add nothing)
            for clause in module.clauses:
                heads.setdefault(clause.head.pred, clause.head)
            for item in list(module.decls) + list(heads.values()):
                name = item.name if isinstance(item, ast.PredDecl) else item.pred
                if name in used or name in roots or name in seen:
                    continue
                seen.add(name)
                findings.append(Finding("unused_predicate", f"{name} is defined but never used", item.loc,
                                        severity="warning"))
    return findings
