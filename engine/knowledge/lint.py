"""Authoring checks over the kb's contract (docs/kb-contract.md), beyond what the language checks.

These catch mistakes a rule author makes in the kb's own tables, each at the fact that holds it:
- a criterion a family or a code lists (`family_criterion/3`, `code_criterion/3`) that no rule
  can ever make met or unmet — a typo there leaves every such line undetermined forever;
- a code in a code table (any fact-only predicate declared with a `Code` argument) that no
  family claims (`code_family/2`) — such a line would have no criteria at all.
"""
from __future__ import annotations

from typing import Sequence

from engine.checks.possible import column_values, possible_rows
from engine.errors import Finding
from engine.knowledge.interface import CODE_ARGUMENT, CODE_FAMILY, CRITERION_LISTS, CRITERION_MET, CRITERION_UNMET
from engine.language import ast
from engine.language.tables import tables


def contract_findings(clauses: Sequence[ast.Clause], decls: dict[tuple[str, int], ast.PredDecl]) -> list[Finding]:
    """Every contract mistake of a checked program, in file order."""
    return criteria_without_rules(clauses) + codes_without_family(clauses, decls)


def criteria_without_rules(clauses: Sequence[ast.Clause]) -> list[Finding]:
    listed = [c for c in clauses if not c.body and c.head.key in CRITERION_LISTS]
    if not listed:
        return []
    rows = possible_rows(clauses)
    decidable: set = set()
    for key in (CRITERION_MET, CRITERION_UNMET):
        values, anything = column_values(rows.get(key, set()), 1)
        if anything:
            return []  # some rule decides any criterion at all: nothing can be said
        decidable |= values
    findings = []
    for fact in listed:
        criterion = fact.head.args[1].value
        if criterion not in decidable:
            findings.append(Finding(
                "undecidable_criterion",
                f"{fact.head.pred} lists the criterion {ast.format_value(criterion)}, but no "
                f"{CRITERION_MET[0]} or {CRITERION_UNMET[0]} rule can ever decide it, so every line "
                "that needs it stays undetermined (a misspelt criterion?)", fact.loc))
    return findings


def codes_without_family(clauses: Sequence[ast.Clause], decls: dict[tuple[str, int], ast.PredDecl]) -> list[Finding]:
    table = tables(clauses)
    claimed = {row[0] for row in table.rows.get(CODE_FAMILY, ())}
    ruled = table.rule_heads
    tables_with_codes = {key for key, decl in decls.items()
                         if CODE_ARGUMENT in decl.params and key != CODE_FAMILY and key not in ruled}
    findings = []
    for clause in [c for c in clauses if not c.body and c.head.key in tables_with_codes]:
        decl = decls[clause.head.key]
        for position, name in enumerate(decl.params):
            value = clause.head.args[position].value
            if name == CODE_ARGUMENT and value not in claimed:
                findings.append(Finding(
                    "unclaimed_code",
                    f"{clause.head.pred} names code {ast.format_value(value)}, which no "
                    f"{CODE_FAMILY[0]} fact assigns to a family, so its lines would have no criteria",
                    clause.loc))
    return findings
