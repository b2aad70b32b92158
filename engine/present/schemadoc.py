"""The case fields of a knowledge base as a Markdown reference (`warrant schema --format markdown`,
docs/case-fields.md), written from kb/case-schema.yaml so it never drifts from what is read."""
from __future__ import annotations

from typing import Any

from engine.knowledge.caseschema import CaseSchema, Field, Type, path_text


def case_fields_markdown(schema: CaseSchema) -> str:
    """One table row per field, parents before children, plus the level vocabulary."""
    out = [f"# Case fields ({schema.case_format})", "",
           f"Generated from `{_file(schema)}` by `warrant schema --format markdown`; edit the schema, "
           "not this file.", "", schema.description, "",
           "A field that is missing or `null` is not documented. *Required* fields must be given; "
           "*contract* fields are read by Warrant's own code and keep their names and types. "
           "\"[] = none\" marks lists where an empty list records that there is none.", "",
           "| field | type | values, range or unit | description |", "|---|---|---|---|"]
    for path, item in schema.walk():
        out.append(f"| `{path_text(path)}` | {_type(item)} | {_detail(item.type, schema)} | "
                   f"{_cell(item.text)}{_flags(item)} |")
    out += ["", "## Spinal levels", "",
            "Vertebrae, head to pelvis: " + ", ".join(schema.vertebrae) + ".", "",
            "| level kind | accepts |", "|---|---|"]
    out += [f"| `{kind}` | {_cell(text)} |" for kind, text in schema.level_kinds]
    return "\n".join(out) + "\n"


def _file(schema: CaseSchema) -> str:
    return schema.source.rsplit("/", 1)[-1] if schema.source else "case-schema.yaml"


def _type(item: Field) -> str:
    node = item.type
    if node.kind == "list":
        inner = node.items
        shown = f"list of {inner.name or inner.kind}" if inner is not None else "list"
        if node.min_items is not None and node.min_items == node.max_items:
            shown += f" ({node.min_items} items)"
        elif node.min_items:
            shown += f" (at least {node.min_items})"
        return shown
    if node.kind == "map":
        return f"map of {node.entries.name or node.entries.kind} by {node.keys.level_kind}"
    if node.kind == "object":
        return node.name or "object"
    if node.kind == "level":
        return f"level ({node.level_kind})"
    return node.kind


def _detail(node: Type, schema: CaseSchema) -> str:
    if node.kind == "list" and node.items is not None:
        inner = _detail(node.items, schema)
        return inner + (" · [] = none" if node.empty_means_none else "")
    if node.kind == "enum":
        words = ", ".join(f"`{v}`" for v in node.values)
        return words + (" (ordered, lowest first)" if node.ordinal else "")
    if node.kind in ("number", "integer"):
        parts = []
        if node.minimum is not None and node.maximum is not None:
            parts.append(f"{_num(node.minimum)} to {_num(node.maximum)}")
        elif node.minimum is not None:
            parts.append(f"at least {_num(node.minimum)}")
        elif node.maximum is not None:
            parts.append(f"at most {_num(node.maximum)}")
        if node.unit:
            parts.append(node.unit)
        return ", ".join(parts)
    if node.kind == "format":
        return f"`{schema.case_format}`"
    if node.kind == "level":
        return _cell(schema.level_kind_text(node.level_kind or ""))
    return ""


def _flags(item: Field) -> str:
    flags = [word for word, on in (("required", item.required), ("contract", item.contract)) if on]
    return f" *({', '.join(flags)})*" if flags else ""


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _cell(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")
