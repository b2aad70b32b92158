"""The pydantic path: validate a case with the models and report every problem with its position.

The loader comes here when the fast path refuses a case (and for `load_case_with_pydantic`), so
pydantic is imported only for cases that have something to report.
"""
from __future__ import annotations

import typing
from typing import Any, Iterator

from pydantic import BaseModel, ValidationError

from engine.cases import crosschecks
from engine.cases.crosschecks import Found, made
from engine.cases.positions import Path, Source
from engine.cases.schema import Case
from engine.cases.values import closest, describe
from engine.errors import CaseError


def validate(source: Source) -> Case:
    """The case in `source.data`, or a `CaseError` listing every problem found in it."""
    case: Case | None = None
    found: list[Found] = []
    try:
        case = Case.model_validate(source.data)
    except ValidationError as exc:
        found.extend(_translate(exc, source))
    found.extend(crosschecks.problems(source))
    findings = [f for _, f in source.problems]
    findings += [f for path, f in found if not _suppressed(path, source)]
    if findings or case is None:
        findings.sort(key=lambda f: (f.location.line, f.location.column) if f.location else (0, 0))
        count = len(findings)
        raise CaseError(f"{source.name}: invalid case file ({count} problem{'s' * (count != 1)})",
                        findings=findings)
    return case


def _suppressed(path: Path, source: Source) -> bool:
    """Whether the value at `path` (or around it) was already reported as unusable."""
    return any(path[:n] in source.suppressed for n in range(len(path) + 1))


def _translate(exc: ValidationError, source: Source) -> Iterator[Found]:
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if loc and loc[-1] == "[key]":
            yield made(source, loc[:-1], error["msg"], key=True)
        elif kind == "extra_forbidden":
            yield made(source, loc, _unknown_key(loc), key=True)
        elif kind == "missing":
            yield made(source, loc, "is required but missing")
        elif value is None:
            yield made(source, loc, "needs a value here; it is empty or null", key=True)
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            yield made(source, loc, f"must be a mapping of keys to values, not {describe(value)}")
        elif kind == "list_type":
            yield made(source, loc, f"must be a list (write [] for none), not {describe(value)}")
        elif kind == "too_short":
            yield made(source, loc, f"needs at least {ctx.get('min_length')} "
                                    f"entr{'y' if ctx.get('min_length') == 1 else 'ies'}")
        elif kind == "too_long":
            yield made(source, loc, f"takes at most {ctx.get('max_length')} entries, "
                                    f"not {ctx.get('actual_length')}")
        else:
            yield made(source, loc, error["msg"])


def _unknown_key(loc: Path) -> str:
    known = _known_keys(loc[:-1])
    key = str(loc[-1])
    close = closest(key, known)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys here are {', '.join(known)}"


def _known_keys(loc: Path) -> list[str]:
    """The field names a model accepts at `loc`, found by walking the model annotations."""
    node: Any = Case
    for part in loc:
        node = _unwrap(node)
        if isinstance(part, str) and isinstance(node, type) and issubclass(node, BaseModel):
            node = node.model_fields[part].annotation
        elif typing.get_origin(node) is list:
            node = typing.get_args(node)[0]
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
        else:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _unwrap(node: Any) -> Any:
    while True:
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            node = typing.get_args(node)[0]
        elif origin is typing.Union:
            node = next(a for a in typing.get_args(node) if a is not type(None))
        else:
            return node
