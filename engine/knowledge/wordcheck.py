"""`warrant check` for wording: every identifier a person can be shown has words in kb/words.yaml.

Checked: each verdict and basis the verdict predicates can produce, each family of the code
table, each criterion a family or code lists (and each one a line can be asked to document),
and each case field the kb's `%@ field` paths read. A finding points at the fact or declaration
that introduces the identifier, and names the section of words.yaml to add it to.
"""
from __future__ import annotations

from typing import Any, Sequence

from engine.checks.possible import column_values, possible_rows
from engine.errors import Finding, Location
from engine.knowledge.interface import (ADMISSION_VERDICT, CODE_FAMILY, CRITERION_LISTS, DOC_REQUEST,
                                        LINE_VERDICT, STAGE_VERDICT)
from engine.knowledge.words import WORDS_FILE, Words
from engine.language import ast
from engine.language.tables import tables
from engine.language.fieldpath import Each, Key, Keys, parse_field

DERIVED_MAPS = ("lines",)
"""Top-level keys of the normalised document that the application derives from `requests`
(docs/kb-contract.md); their words are written for the `requests[]` fields they come from."""


def word_findings(words: Words, clauses: Sequence[ast.Clause],
                  decls: dict[tuple[str, int], ast.PredDecl]) -> list[Finding]:
    """Every identifier of the kb that has no words, in file order of what introduces it."""
    findings: list[Finding] = []
    rows = possible_rows(clauses)
    where = Location(words.source)
    reported: set[tuple[str, Any]] = set()

    def need(section: str, value: Any, what: str, loc: Location | None) -> None:
        if value not in words.data[section] and (section, value) not in reported:
            reported.add((section, value))
            findings.append(Finding("missing_words", f"the {what} {ast.format_value(value)} has no words: add it "
                                    f"under `{section}:` in {WORDS_FILE}", loc or where))

    for key, column, section, what in ((LINE_VERDICT, 1, "verdicts", "verdict"),
                                       (STAGE_VERDICT, 1, "verdicts", "verdict"),
                                       (ADMISSION_VERDICT, 1, "verdicts", "verdict"),
                                       (LINE_VERDICT, 2, "bases", "basis"),
                                       (ADMISSION_VERDICT, 2, "bases", "basis")):
        values, _anything = column_values(rows.get(key, set()), column)
        for value in sorted(values, key=str):
            need(section, value, what, _introduced(clauses, key, column, value))
    seen: set[Any] = set()
    listing = {CODE_FAMILY} | set(CRITERION_LISTS)
    for clause in [c for c in clauses if not c.body and c.head.key in listing]:
        if clause.head.key == CODE_FAMILY and clause.head.args[1].value not in seen:
            seen.add(clause.head.args[1].value)
            need("families", clause.head.args[1].value, "family", clause.loc)
        if clause.head.key in CRITERION_LISTS and clause.head.args[1].value not in seen:
            seen.add(clause.head.args[1].value)
            need("criteria", clause.head.args[1].value, "criterion", clause.loc)
    requested, _anything = column_values(rows.get(DOC_REQUEST, set()), 1)
    for value in sorted(requested - seen, key=str):
        need("criteria", value, "criterion", _introduced(clauses, DOC_REQUEST, 1, value))
    findings += _field_findings(words, clauses, decls)
    return findings


def _introduced(clauses: Sequence[ast.Clause], key: tuple[str, int], column: int, value: Any) -> Location | None:
    """The first clause whose head writes `value` in that column (where an author would look)."""
    for clause in tables(clauses).by_head.get(key, ()):
        arg = clause.head.args[column]
        if isinstance(arg, ast.Const) and arg.value == value:
            return clause.loc
    return None


def _field_findings(words: Words, clauses: Sequence[ast.Clause],
                    decls: dict[tuple[str, int], ast.PredDecl]) -> list[Finding]:
    from engine.explain.domains import Domains

    domains = Domains(clauses)
    findings = []
    for key, decl in decls.items():
        for text in decl.fields:
            path = parse_field(text)
            if isinstance(path.steps[0], Key) and path.steps[0].name in DERIVED_MAPS:
                continue
            for steps in _concrete(path, decl, key, domains, words):
                if not words.has_field(steps):
                    shown = ".".join(str(s) for s in steps).replace(".[]", "[]")
                    findings.append(Finding("missing_words", f"the case field {shown} (read by {decl.name}) has "
                                            f"no words: add it under `fields:` in {WORDS_FILE}", decl.loc))
    return findings


def _concrete(path, decl: ast.PredDecl, key: tuple[str, int], domains, words: Words) -> list[tuple]:
    """The path with each `{Var}` step that words.yaml calls a place (a segment, a side) written
    `*`, each other `{Var}` step (a field name) replaced by the constants rules use there, and
    list steps written `[]`."""
    prefixes: list[tuple] = [()]
    for step in path.steps:
        if isinstance(step, Key):
            prefixes = [p + (step.name,) for p in prefixes]
        elif isinstance(step, Each):
            prefixes = [p + (step.name, "[]") for p in prefixes]
        elif isinstance(step, Keys):
            position = decl.params.index(step.var)
            names = [v for v in domains.values(key, position) if isinstance(v, str)]
            grown = []
            for prefix in prefixes:
                if words.is_place(prefix + ("*",)) or not names:
                    grown.append(prefix + ("*",))
                else:
                    grown += [prefix + (n,) for n in names]
            prefixes = grown
    return prefixes
