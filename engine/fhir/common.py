"""Small pieces every FHIR resource reader uses: dates, codings, texts, nested case paths, and
the origin of a case value (which resource and element supplied it)."""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from engine.cases.positions import Path, format_path
from engine.errors import Location

DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass
class Origin:
    """Where a case value came from: a resource (by entry index) and an element in it."""

    label: str
    element: Path
    location: Location

    def describe(self) -> str:
        where = format_path(self.element)
        return f"{self.label}: {where}" if where else self.label


def full_date(text: Any) -> datetime.date | None:
    """A full calendar date from a FHIR date or dateTime (None for partial or bad dates)."""
    if not isinstance(text, str):
        return None
    match = DATE.match(text)
    if not match or not match.group(3):
        return None
    try:
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def tenths(value: float) -> int | float:
    """A number rounded to one decimal, whole numbers as int (weeks, percentages)."""
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value


def plain(value: float) -> int | float:
    """A converted quantity rounded to 6 decimals, whole numbers as int."""
    value = round(value, 6)
    return int(value) if float(value).is_integer() else value


def codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def text_of(concept: Any) -> str | None:
    """A concept's text, else the display or code of its first coding that has one."""
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for coding in codings(concept):
        if coding.get("display"):
            return str(coding["display"])
    for coding in codings(concept):
        if coding.get("code"):
            return str(coding["code"])
    return None


def show(concept: Any) -> str:
    """A coded concept as it appears in messages: `system|code` of its first coding, or its text."""
    for coding in codings(concept):
        return f"{coding.get('system', '')}|{coding.get('code', '')}"
    return repr(text_of(concept) or "")


def set_path(root: dict[str, Any], path: Path, value: Any) -> None:
    node = root
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def get_path(root: dict[str, Any], path: Path) -> Any:
    node: Any = root
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def performed_date(resource: dict[str, Any]) -> Any:
    """When a Procedure was done: performedDateTime, performedPeriod.start or performedString."""
    return resource.get("performedDateTime") or (resource.get("performedPeriod") or {}).get("start") \
        or resource.get("performedString")
