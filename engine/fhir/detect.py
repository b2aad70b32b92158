"""Is this input a FHIR resource? Decided by content, cheaply, with the standard library only.

A case file is YAML or JSON without a `resourceType` key (the case schema has none), so a JSON
object carrying `resourceType` at its top level is FHIR. The text is read once, with the same
size and encoding limits as case files, and handed on so nothing reads the file twice.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any


@dataclass
class FhirInput:
    """The text of an input and, when it is FHIR JSON, its parsed data."""

    name: str
    text: str
    data: dict[str, Any] | None

    @property
    def is_fhir(self) -> bool:
        return self.data is not None


def sniff(path: str | os.PathLike[str], text: str | None = None) -> FhirInput:
    """Read `path` (or take `text`) and parse it when it looks like a FHIR JSON resource.

    Raises `CaseError` (exit 3) when the input cannot be read at all, exactly as a case would.
    """
    from engine.cases.source import read_text

    name = os.fspath(path)
    body = read_text(name, text)
    data = None
    head = body.lstrip()[:1]
    if head == "{" and '"resourceType"' in body:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = None  # not valid JSON: the case loader reports it with a position
        if isinstance(parsed, dict) and "resourceType" in parsed:
            _check_nesting(name, parsed)
            data = parsed
    return FhirInput(name, body, data)


def _check_nesting(name: str, data: Any) -> None:
    """Refuse a bundle nested deeper than `LIMITS.bundle_nesting` (walked without recursion),
    before any recursive reader sees it."""
    from engine.errors import CaseError, Finding, Location
    from engine.guard.limits import LIMITS

    level = [data]
    for _ in range(LIMITS.bundle_nesting):
        level = [child for node in level for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
        if not level:
            return
    message = (f"the JSON is nested more than {LIMITS.bundle_nesting} levels deep (extensions inside "
               "extensions, perhaps); no prior-authorization bundle needs that")
    raise CaseError(f"{name}: {message}", findings=[Finding("invalid_case", message, Location(name))])


def is_bundle_file(path: str | os.PathLike[str]) -> bool:
    """Whether a file holds a FHIR JSON resource (a Bundle, or something else Warrant refuses)."""
    try:
        return sniff(path).is_fhir
    except Exception:
        return False
