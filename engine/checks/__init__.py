"""Load-time checks over parsed modules, each pass in its own module (Soufflé style).

`run_checks` returns every finding, errors and warnings, in file order; nothing here runs rules.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from engine.language import ast
from engine.checks.annotations import check_annotations
from engine.checks.arity import check_arity
from engine.checks.definitions import check_definitions
from engine.checks.kinds import check_sums
from engine.checks.safety import check_safety
from engine.checks.stratify import check_stratification
from engine.errors import Finding


def run_checks(modules: Sequence[ast.Module], *, citations: Iterable[str] | None = None,
               base: Iterable[tuple[str, int]] = (), roots: Iterable[str] = (),
               require_annotations: bool = False) -> list[Finding]:
    """All checks of a program; `citations` None skips the citation check, `roots` are used externally."""
    findings: list[Finding] = []
    findings += check_arity(modules)
    findings += check_definitions(modules, base=set(base), roots=set(roots))
    findings += check_safety(modules)
    findings += check_stratification(modules)
    findings += check_sums(modules)
    findings += check_annotations(modules, citations=None if citations is None else set(citations),
                                  require=require_annotations)
    return sorted(findings, key=_order)


def _order(finding: Finding):
    loc = finding.location
    return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)


def clauses_of(modules: Sequence[ast.Module]) -> list[ast.Clause]:
    return [c for m in modules for c in m.clauses]


def decls_of(modules: Sequence[ast.Module]) -> list[ast.PredDecl]:
    return [d for m in modules for d in m.decls]
