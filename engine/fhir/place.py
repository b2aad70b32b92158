"""Putting a mapped value at its case path: placeholders filled from the resource, lists
appended to or recorded as empty, and empty lists checked against entries at the end."""
from __future__ import annotations

from typing import Any

from engine.errors import Finding
from engine.fhir.common import Origin, get_path, set_path
from engine.fhir.mapping import Rule
from engine.fhir.reader import UNLINKED, Reader
from engine.cases.positions import format_path


def leaf(rule: Rule) -> str:
    """The last field name of a map path (`translation_mm`), for messages."""
    return rule.field.rstrip("[]").rsplit(".", 1)[-1]


def place(r: Reader, rule: Rule, value: Any, i: int, element: tuple, origin: Origin,
          resource: dict[str, Any], *, study: str | None = None) -> list[Any]:
    """Put a value at the rule's field, filling {segment}, {side} and the study entry (NAME[])
    from the resource; a mapping placed at several paths is copied. The values placed."""
    paths = _paths(r, rule, i, resource, study)
    placed: list[Any] = []
    for path in paths or []:
        item = dict(value) if isinstance(value, dict) and len(paths) > 1 else value
        last = path[-1]
        if isinstance(last, str) and last.endswith("[]"):
            target = tuple(path[:-1]) + (last[:-2],)
            if value is False:
                r.none_list(target, origin)
            elif value is True:
                r.warn(i, element, f"a true {rule.field} names nothing; record each entry as a "
                       "resource of its own")
            else:
                r.append(target, item, origin)
                placed.append(item)
        else:
            r.put(tuple(path), item, origin)
            placed.append(item)
    return placed


def _paths(r: Reader, rule: Rule, i: int, resource: dict[str, Any], study: str | None) -> list[list[Any]] | None:
    parts = rule.field.split(".")
    paths: list[list[Any]] = [[]]
    for n, part in enumerate(parts):
        if part.endswith("[]") and n < len(parts) - 1:  # the study the finding belongs to
            key = study or UNLINKED
            if key not in r.studies:
                r.studies[key] = {r.m.studies.get("id", "id"): key}
            paths = [p + [part[:-2], key] for p in paths]
        elif part == "{segment}":
            segment = _segment(r, rule, i, resource)
            if segment is None:
                return None
            paths = [p + [segment] for p in paths]
        elif part == "{side}":
            concept = resource.get("bodySite")
            side = r.side_of(concept if isinstance(concept, list) else [concept] if concept else [])
            if side is None:
                r.error(i, ("bodySite",), f"{leaf(rule)} needs the side in bodySite (laterality "
                        f"{r.m.laterality_text()}; or that word)")
                return None
            paths = [p + [s] for p in paths for s in r.sides(side)]
        else:
            paths = [p + [part] for p in paths]
    return paths


def _segment(r: Reader, rule: Rule, i: int, resource: dict[str, Any]) -> str | None:
    concept = resource.get("bodySite")
    concepts = concept if isinstance(concept, list) else [concept]
    before = len(r.errors)
    for c in concepts:
        level = r.level_of(c, i, ("bodySite",)) if c else None
        if level:
            try:
                return r.levels.segment(level)
            except ValueError as exc:
                r.error(i, ("bodySite",), str(exc))
                return None
    if len(r.errors) == before:
        r.error(i, ("bodySite",), f"{leaf(rule)} needs the motion segment in bodySite "
                f"(a {r.m.system('level')} code such as {r.levels.example_segment()}, or that text)")
    return None


def finish_lists(r: Reader) -> None:
    """Lists recorded as empty become [], unless an entry says otherwise (a contradiction)."""
    for path, origin in r.empty.items():
        node = get_path(r.case, path)
        if node:
            first = r.appended.get(path)
            r.errors.append(Finding(
                "invalid_bundle", f"{origin.describe()}: records that {format_path(path)} is empty, "
                f"but {first.describe() if first else 'another resource'} records an entry; the "
                "record contradicts itself", origin.location))
        elif node is None:
            set_path(r.case, path, [])
            r.origins[path] = origin
