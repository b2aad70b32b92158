"""Prolog text for SWI-Prolog: the kb with the directives it needs, and a case's facts."""
from __future__ import annotations

from typing import Mapping, Sequence

from engine.language import ast
from engine.evaluate.program import Program

Key = tuple[str, int]


def export_program(program: Program, header_comment: str = "") -> str:
    """The program as one consultable file: directives first, then every clause in source order."""
    base = sorted(set(program.decls) - {c.head.key for c in program.clauses})
    used_base = sorted({a.key for c in program.clauses for lit in c.body for a, _ in ast.body_atoms(lit)}
                       - {c.head.key for c in program.clauses})
    dynamic = sorted(set(base) | set(used_base))
    lines = []
    if header_comment:
        lines += [f"% {line}" for line in header_comment.splitlines()]
    lines.append(":- style_check(-singleton).")
    lines.append(":- style_check(-discontiguous).")
    if dynamic:
        lines.append(":- dynamic " + ", ".join(f"{p}/{n}" for p, n in dynamic) + ".")
    heads = sorted({c.head.key for c in program.clauses})
    lines.append(":- discontiguous " + ", ".join(f"{p}/{n}" for p, n in heads) + "." if heads else "")
    # Tabling every derived predicate gives SWI-Prolog the set semantics Warrant has (each answer
    # once, so aggregate_all counts distinct bindings) and makes recursion terminate.
    derived = [k for k in heads if any(not c.is_fact for c in program.clauses_by_head.get(k, ()))]
    if derived:
        lines.append(":- table " + ", ".join(f"{p}/{n}" for p, n in derived) + ".")
    lines.append("")
    source = None
    for clause in program.clauses:
        file = clause.loc.file if clause.loc else None
        if file != source:
            source = file
            lines.append(f"\n% ---- {file}")
        if clause.meta:
            lines.append(f"% rule {clause.meta.id}")
        lines.append(str(clause))
    return "\n".join(lines) + "\n"


def export_facts(facts: Mapping[Key, Sequence[tuple]]) -> str:
    out = []
    for (pred, _arity), rows in sorted(facts.items()):
        for row in rows:
            out.append(f"{pred}({', '.join(ast.format_value(v) for v in row)}).")
    return "\n".join(out) + ("\n" if out else "")
