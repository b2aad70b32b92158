"""The normalised case document: plain data the kb's `%@ field` paths walk.

A key that was missing or null in the case file is absent here too, so "not documented" is
simply "no key", while documented negatives (`false`, `0`, `none`, `[]`) stay as values.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from engine.cases.record import Record

if TYPE_CHECKING:
    from engine.cases.lines import Line

_LINE_KEYS = ("level", "side", "span_vertebrae")


def line_entry(line: Line) -> dict[str, Any]:
    """The `lines{Id}` entry of one line, leaving out what the procedure did not give; the
    procedure's fields beyond the contract ones follow (docs/kb-contract.md)."""
    entry: dict[str, Any] = {"stage": line.stage, "request": line.request,
                             "procedure": line.procedure, "code": line.code}
    for key in _LINE_KEYS:
        value = getattr(line, key)
        if value is not None:
            entry[key] = value
    for key, value in line.extra:
        entry.setdefault(key, value)
    return entry


def case_document(case: Any, lines: Iterable[Line]) -> dict[str, Any]:
    """The validated case as JSON-like data plus its `lines`; equal input gives equal output.

    A fast-path case (`Record`) and a pydantic `Case` of the same file give the same document.
    """
    if isinstance(case, Record):
        document = case.to_data()
    else:
        document = case.model_dump(mode="python", exclude_none=True)
    document["lines"] = {line.id: line_entry(line) for line in lines}
    return document
