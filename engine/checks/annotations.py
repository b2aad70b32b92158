"""Annotations: rule ids are unique, citations exist, sentences and field paths name real variables."""
from __future__ import annotations

import re
from typing import Sequence

from engine.language import ast
from engine.errors import Finding
from engine.language.fieldpath import FieldPathError, parse_field
from engine.language.visit import clause_variables

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_annotations(modules: Sequence[ast.Module], *, citations: set[str] | None,
                      require: bool) -> list[Finding]:
    findings: list[Finding] = []
    seen_ids: dict[str, ast.RuleMeta] = {}
    declared = {d.key for m in modules for d in m.decls}
    seen_decls: dict[tuple[str, int], ast.PredDecl] = {}
    for module in modules:
        for decl in module.decls:
            findings += _check_decl(decl)
            if decl.key in seen_decls:
                findings.append(Finding("duplicate_declaration", f"{decl.name}/{len(decl.params)} is declared "
                                        f"twice (also at {seen_decls[decl.key].loc})", decl.loc))
            seen_decls.setdefault(decl.key, decl)
        for clause in module.clauses:
            meta = clause.meta
            if meta is None:
                if require and clause.body:
                    findings.append(Finding("missing_annotation", f"rule for {clause.head.pred} has no "
                                            "'%@ rule ID' annotation", clause.loc, severity="warning"))
                continue
            if meta.id in seen_ids:
                findings.append(Finding("duplicate_rule_id", f"rule id {meta.id} is used twice (first at "
                                        f"{seen_ids[meta.id].loc})", meta.loc))
            else:
                seen_ids[meta.id] = meta
            if citations is not None:
                for cite in meta.cites:
                    if cite not in citations:
                        findings.append(Finding("unknown_citation", f"rule {meta.id} cites {cite!r}, which the "
                                                "citation registry does not know", meta.cite_loc or meta.loc))
            if require and not meta.says:
                findings.append(Finding("missing_annotation", f"rule {meta.id} has no '%@ says' sentence",
                                        meta.loc, severity="warning"))
            names = {v.name for v in clause_variables(clause)}
            bound = bound_variables(clause)
            for name in PLACEHOLDER.findall(meta.says):
                if name not in names:
                    findings.append(Finding("unknown_placeholder", f"rule {meta.id} says {{{name}}}, but the "
                                            "rule has no such variable", meta.loc))
                elif name not in bound:
                    findings.append(Finding("unbound_placeholder", f"rule {meta.id} says {{{name}}}, but {name} "
                                            "has no value when the rule holds (it appears only under a "
                                            "negation or inside an aggregate), so the sentence would show it "
                                            "unfilled", meta.loc))
        if require:
            for clause in module.clauses:
                if clause.body and clause.head.key not in declared and clause.head.key not in seen_decls:
                    declared.add(clause.head.key)
                    findings.append(Finding("missing_annotation", f"{clause.head.pred}/{len(clause.head.args)} "
                                            "has no '%@ pred' declaration", clause.head.loc, severity="warning"))
    return findings


def bound_variables(clause: ast.Clause) -> set[str]:
    """The variables that have a value whenever the clause's body holds: those of positive
    literals, `=` with one side known, and aggregate results (not negations or aggregate goals)."""
    bound: set[str] = set()
    for literal in clause.body:
        if isinstance(literal, ast.Positive):
            bound |= {v.name for v in literal.atom.variables()}
        elif isinstance(literal, ast.Comparison) and literal.op == "=":
            sides = [literal.left, literal.right]
            if any(isinstance(t, ast.Const) or t.name in bound for t in sides):
                bound |= {t.name for t in sides if isinstance(t, ast.Var)}
        elif isinstance(literal, ast.Aggregate) and isinstance(literal.result, ast.Var):
            bound.add(literal.result.name)
    return bound


def _check_decl(decl: ast.PredDecl) -> list[Finding]:
    findings = []
    params = set(decl.params)
    for label, text in (("holds", decl.holds), ("missing", decl.missing), ("unmet", decl.unmet)):
        for name in PLACEHOLDER.findall(text):
            if name not in params:
                findings.append(Finding("unknown_placeholder", f"'{label}' of {decl.name} uses {{{name}}}, "
                                        f"which is not one of its arguments ({', '.join(decl.params)})", decl.loc))
    for text in decl.fields:
        try:
            path = parse_field(text)
        except FieldPathError as exc:
            findings.append(Finding("invalid_field", str(exc), decl.loc))
            continue
        names = set(path.variables)
        for name in sorted(names - params):
            findings.append(Finding("invalid_field", f"field {text!r} binds {name}, which is not an argument "
                                    f"of {decl.name}", decl.loc))
        for name in [p for p in decl.params if p not in names]:
            findings.append(Finding("invalid_field", f"field {text!r} does not bind argument {name} of "
                                    f"{decl.name}", decl.loc))
    return findings
