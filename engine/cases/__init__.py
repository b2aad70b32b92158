"""Case files: reading and validation by the kb's case schema, lines, the case document.

Names are imported on first use so that `import engine.cases` stays cheap. Reading a valid case
never imports pydantic (see loader.py: the fast path walks a shape table derived from the kb's
case schema); pydantic loads to explain an invalid case and for `case_json_schema`. ruamel.yaml
loads only to read YAML (or to find positions in JSON that has a problem). Level spellings are
the kb's (`kb.levels`, engine.knowledge.levels).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.cases.document import case_document
    from engine.cases.jsonschema import case_json_schema
    from engine.cases.lines import Line, expand_lines
    from engine.cases.loader import load_case
    from engine.cases.positions import format_path

_EXPORTS = {
    "load_case": "loader",
    "Line": "lines",
    "expand_lines": "lines",
    "case_document": "document",
    "case_json_schema": "jsonschema",
    "format_path": "positions",
}

__all__ = ["Line", "case_document", "case_json_schema", "expand_lines", "format_path", "load_case"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
