"""The pydantic path: validate a case with the models and report every problem with its position.

The loader comes here when the fast path refuses a case (and for `load_case_with_pydantic`), so
pydantic is imported only for cases that have something to report.
"""
from __future__ import annotations

from typing import Any, Iterator

from pydantic import ValidationError

from engine.cases import crosschecks
from engine.cases.crosschecks import Found, made
from engine.cases.models import case_model
from engine.cases.positions import Path, Source
from engine.cases.shape import Shape, shape_of
from engine.cases.values import closest, describe
from engine.errors import CaseError
from engine.knowledge.caseschema import CaseSchema


def validate(source: Source, schema: CaseSchema) -> Any:
    """The case in `source.data`, or a `CaseError` listing every problem found in it."""
    case: Any = None
    found: list[Found] = []
    shape = shape_of(schema)
    try:
        case = case_model(schema).model_validate(source.data)
    except ValidationError as exc:
        found.extend(_translate(exc, source, shape))
    found.extend(crosschecks.problems(source, shape))
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


def _translate(exc: ValidationError, source: Source, shape: Shape) -> Iterator[Found]:
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if loc and loc[-1] == "[key]":
            yield made(source, loc[:-1], error["msg"], key=True)
        elif kind == "extra_forbidden":
            yield made(source, loc, _unknown_key(loc, shape), key=True)
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


def _unknown_key(loc: Path, shape: Shape) -> str:
    known = _known_keys(loc[:-1], shape)
    key = str(loc[-1])
    close = closest(key, known)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys here are {', '.join(known)}"


def _known_keys(loc: Path, shape: Shape) -> list[str]:
    """The field names the mapping at `loc` accepts, found by walking the shape table."""
    spec: Any = ("model", shape.root)
    for part in loc:
        spec = _unwrap(spec)
        if isinstance(part, str) and spec[0] == "model":
            fields = {name: field for name, field, _ in shape.models[spec[1]]}
            if part not in fields:
                return []
            spec = fields[part]
        elif spec[0] == "list":
            spec = spec[1]
        elif spec[0] == "dict":
            spec = spec[2]
        else:
            return []
    spec = _unwrap(spec)
    return [name for name, _, _ in shape.models[spec[1]]] if spec[0] == "model" else []


def _unwrap(spec: Any) -> Any:
    while spec[0] == "opt":
        spec = spec[1]
    return spec
