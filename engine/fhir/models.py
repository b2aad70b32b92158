"""Structural validation through fhir.resources (R4B models), worded as Warrant messages.

Each entry's resource is validated on its own by the model class its `resourceType` names, so
every problem is reported as `ResourceType/id: element.path: message` with the position of the
element in the bundle file. The Bundle itself is validated without its entries' resources.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from engine.cases.positions import format_path

Report = Callable[[tuple, str], None]  # (path in the bundle file, message)


def _words(error: dict[str, Any], type_name: str) -> str:
    kind = error.get("type", "")
    message = str(error.get("msg", ""))
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return f"is not an element of {type_name} in FHIR R4"
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
    return (message[:1].lower() + message[1:]) + shown


def _errors(cls: Any, data: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    from pydantic import ValidationError

    try:
        cls.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error.get("loc", ()) if p != "__root__")
            yield loc, _words(error, cls.__name__)
    except (TypeError, ValueError) as exc:  # fhir_core raises these for some shapes
        yield (), str(exc)


def model_class(resource_type: str) -> Any:
    """The R4B model class of a resource type, or None when R4 has no such resource."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, LookupError, AttributeError, ImportError):
        return None


def validate_bundle(data: dict[str, Any], label: Callable[[int], str], report: Report) -> int:
    """Report every structural problem of a bundle; returns how many were found."""
    count = 0

    def say(path: tuple, message: str) -> None:
        nonlocal count
        count += 1
        report(path, message)

    if data.get("resourceType") != "Bundle":
        kind = data.get("resourceType")
        name = f"{kind}/{data['id']}" if data.get("id") else str(kind)
        say(("resourceType",), f"{name}: resourceType: is {kind!r}; Warrant reads a Bundle holding a Claim "
            "(use preauthorization) and the resources it references, not a single resource")
        return count
    entries = data.get("entry")
    shell = dict(data)
    if isinstance(entries, list):
        shell["entry"] = [{k: v for k, v in e.items() if k != "resource"} if isinstance(e, dict) else e
                          for e in entries]
    for loc, message in _errors(model_class("Bundle"), shell):
        say(loc, f"Bundle: {format_path(loc) or '(root)'}: {message}")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        where = ("entry", i, "resource")
        if not isinstance(resource, dict):
            say(("entry", i), f"Bundle: entry[{i}]: holds no resource")
            continue
        kind = resource.get("resourceType")
        cls = model_class(kind) if isinstance(kind, str) and kind else None
        if cls is None:
            say(where + ("resourceType",), f"{label(i)}: resourceType: {kind!r} is not a FHIR R4 "
                "resource type")
            continue
        for loc, message in _errors(cls, resource):
            say(where + loc, f"{label(i)}: {format_path(loc) or '(root)'}: {message}")
    return count


def validate_resource(data: dict[str, Any]) -> list[str]:
    """Problems of one resource Warrant wrote (a response), as `Type: element: message` lines."""
    cls = model_class(str(data.get("resourceType")))
    if cls is None:
        return [f"{data.get('resourceType')}: not a FHIR R4 resource type"]
    return [f"{data.get('resourceType')}: {format_path(loc) or '(root)'}: {message}"
            for loc, message in _errors(cls, data)]
