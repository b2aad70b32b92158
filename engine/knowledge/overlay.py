"""Policy overlays: rule files that state only what a policy changes in the one it extends.

An overlay clause is added to the base program unless its `%@ rule` block says
`%@ replaces TARGET`, where TARGET is a base rule id (`si.injection`) or a ground fact written
out in full (`care_threshold(conservative_care_fusion, duration_weeks, 12)`): then it takes the
place of that clause. A target the base does not have is an error at the `replaces` line, so
an overlay cannot silently drift from the base it was written against. A replacing fact keeps
no rule block in the program (constants are not reasons); its block is kept in the change log.
"""
from __future__ import annotations


from engine.errors import Finding, Location
from engine.language import ast
from engine.guard.record import record, replace


@record(frozen=True)
class Change:
    """One difference an overlay makes: `replaces` (with the clause it replaced) or `adds`."""

    kind: str
    clause: ast.Clause
    replaced: ast.Clause | None
    source: str
    meta: ast.RuleMeta | None = None

    @property
    def is_constant(self) -> bool:
        return self.clause.is_fact


def apply_overlays(base: list[ast.Module], overlays: list[ast.Module]) -> tuple[list[ast.Module], list[Change],
                                                                              list[Finding]]:
    """The base modules with each overlay applied in turn; the changes made; the findings."""
    modules = list(base)
    changes: list[Change] = []
    findings: list[Finding] = []
    for overlay in overlays:
        kept: list[ast.Clause] = []
        for clause in overlay.clauses:
            target = clause.meta.replaces if clause.meta else ""
            if not target:
                kept.append(clause)
                changes.append(Change("adds", clause, None, overlay.source, clause.meta))
                continue
            modules, replaced = _remove(modules, target)
            if replaced is None:
                findings.append(Finding("overlay", f"replaces {target}, which the policy this overlay extends "
                                        "does not have (name a base rule id or a base fact exactly)",
                                        clause.meta.replaces_loc or clause.meta.loc))
                continue
            new = replace(clause, meta=None) if clause.is_fact else clause
            kept.append(new)
            changes.append(Change("replaces", new, replaced, overlay.source, clause.meta))
        modules.append(ast.Module(overlay.source, tuple(kept), overlay.decls))
    return modules, changes, findings


def _remove(modules: list[ast.Module], target: str) -> tuple[list[ast.Module], ast.Clause | None]:
    """The modules without the clause `target` names, and that clause (None: not found)."""
    fact = _fact(target)
    out, found = [], None
    for module in modules:
        clauses = []
        for clause in module.clauses:
            if found is None and _matches(clause, target, fact):
                found = clause
                continue
            clauses.append(clause)
        out.append(module if len(clauses) == len(module.clauses) else ast.Module(module.source, tuple(clauses),
                                                                               module.decls))
    return out, found


def _matches(clause: ast.Clause, target: str, fact: ast.Atom | None) -> bool:
    if fact is not None:
        return clause.is_fact and clause.head == fact
    return clause.rule_id == target


def _fact(target: str) -> ast.Atom | None:
    """A ground fact written in a `replaces` line, or None when the target is a rule id."""
    if "(" not in target:
        return None
    from engine.errors import RuleError
    from engine.language.parser import parse_text

    try:
        module = parse_text(target.rstrip(".") + ".", "<replaces>")
    except RuleError:
        return None
    if len(module.clauses) != 1 or not module.clauses[0].is_fact:
        return None
    return _plain(module.clauses[0].head)


def _plain(atom: ast.Atom) -> ast.Atom:
    return atom


def base_replaces(modules: list[ast.Module]) -> list[Finding]:
    """`%@ replaces` belongs in overlays only: in a base file there is nothing to replace."""
    return [Finding("overlay", "replaces is written only in a policy overlay (kb/policies/...)",
                    c.meta.replaces_loc or c.meta.loc or Location(m.source))
            for m in modules for c in m.clauses if c.meta and c.meta.replaces]
