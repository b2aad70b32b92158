"""Case files (warrant-case/1): reading, validation, level normalisation, lines, document.

Names are imported on first use so that `import engine.cases` stays cheap. Reading a valid case
never imports pydantic (see loader.py: the fast path walks a table generated from the pydantic
models); pydantic loads to explain an invalid case and for `case_json_schema`. ruamel.yaml loads
only to read YAML (or to find positions in JSON that has a problem).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.cases.document import case_document
    from engine.cases.jsonschema import case_json_schema
    from engine.cases.levels import Level, LevelError, normalise_level, parse_level
    from engine.cases.lines import Line, expand_lines
    from engine.cases.loader import load_case
    from engine.cases.schema import Case
    from engine.cases.values import FORMAT
    from engine.cases.positions import format_path

_EXPORTS = {
    "load_case": "loader",
    "Case": "schema",
    "FORMAT": "values",
    "Line": "lines",
    "expand_lines": "lines",
    "case_document": "document",
    "case_json_schema": "jsonschema",
    "Level": "levels",
    "LevelError": "levels",
    "parse_level": "levels",
    "normalise_level": "levels",
    "format_path": "positions",
}

__all__ = ["Case", "FORMAT", "Level", "LevelError", "Line", "case_document", "case_json_schema",
           "expand_lines", "format_path", "load_case", "normalise_level", "parse_level"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
