"""The JSON Schema of a knowledge base's case format, for editors and `warrant schema`."""
from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://warrant.invalid/schema/{name}.json"


def _close_maps(node: Any) -> None:
    """Level-keyed mappings (imaging segments) accept only keys that look like levels."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_maps(value)


def case_json_schema(kb: Any) -> dict[str, Any]:
    """A draft 2020-12 schema: unknown keys are refused, null means "not documented".
    `kb` is a KnowledgeBase or its case schema."""
    from engine.cases.loader import schema_of
    from engine.cases.models import case_model

    schema = schema_of(kb)
    out = case_model(schema).model_json_schema(mode="validation")
    _close_maps(out)
    name = "".join(c if c.isalnum() else "-" for c in schema.case_format).strip("-") or "case"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(name=name),
        **out,
        "title": schema.title,
        "description": schema.description,
    }
