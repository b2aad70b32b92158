"""Case document → base facts, following each base predicate's `%@ field` paths in the kb."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from engine.language import ast
from engine.language.fieldpath import FieldPath
from engine.language.visit import order_key

Key = tuple[str, int]


def to_atom_value(value: Any) -> Any:
    """Case values as rule constants: booleans become the atoms true/false, strings stay atoms."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


def extract_facts(fields: Mapping[Key, Sequence[tuple[ast.PredDecl, FieldPath]]],
                  document: Mapping[str, Any]) -> dict[Key, list[tuple]]:
    """One sorted, duplicate-free row list per base predicate that the document supplies."""
    out: dict[Key, list[tuple]] = {}
    for key, paths in fields.items():
        rows: set[tuple] = set()
        for decl, path in paths:
            for binding in path.walk(document):
                rows.add(tuple(to_atom_value(binding[p]) for p in decl.params))
        if rows:
            out[key] = sorted(rows, key=lambda r: [order_key(v) for v in r])
    return out
