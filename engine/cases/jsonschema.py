"""The JSON Schema of warrant-case/1, for editors and `warrant schema`."""
from __future__ import annotations

from typing import Any

SCHEMA_ID = "https://warrant.invalid/schema/warrant-case-1.json"


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


def case_json_schema() -> dict[str, Any]:
    """A draft 2020-12 schema: unknown keys are refused, null means "not documented"."""
    from engine.cases.schema import Case

    schema = Case.model_json_schema(mode="validation")
    _close_maps(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "description": (
            "A spine-surgery case for Warrant's medical-necessity review. A finding that is "
            "missing or null is not documented; false, 0, none and [] record that it was looked "
            "for and is absent."),
    }
