"""`load_case`: read, validate and report every problem of a case file in one go."""
from __future__ import annotations

import os
import typing
from typing import Any, Iterator, Sequence

from pydantic import BaseModel, ValidationError

from engine.case import levels
from engine.case.fields import closest, describe
from engine.case.schema import Case
from engine.case.positions import Path, Source, format_path
from engine.case.source import parse, read_text
from engine.errors import CaseError, Finding


def load_case(path: str | os.PathLike[str], *, text: str | None = None,
              at: Sequence[str | int] = ()) -> Case:
    """Read a warrant-case/1 file (or `text`, named `path`) into a validated `Case`.

    `at` names where the case sits inside a larger file (`("case",)` for a rule test), so
    messages and positions refer to that file. Raises `CaseError` listing every problem as
    `file:line:col: field.path: message`.
    """
    name = os.fspath(path)
    source = parse(name, read_text(name, text))
    if at:
        _descend(source, tuple(at))
    case: Case | None = None
    found: list[tuple[Path, Finding]] = []
    try:
        case = Case.model_validate(source.data)
    except ValidationError as exc:
        found.extend(_translate(exc, source))
    found.extend(_cross_checks(source))
    findings = [f for _, f in source.problems]
    findings += [f for path, f in found if not _suppressed(path, source)]
    if findings or case is None:
        findings.sort(key=lambda f: (f.location.line, f.location.column) if f.location else (0, 0))
        count = len(findings)
        raise CaseError(f"{name}: invalid case file ({count} problem{'s' * (count != 1)})",
                        findings=findings)
    source.data = None  # the Case holds the values now; keep only text and positions
    case._source = source
    return case


Found = tuple[Path, Finding]


def _descend(source: Source, at: Path) -> None:
    """Make the mapping at `at` the case to validate; the rest of the file is the caller's."""
    data = source.data
    for part in at:
        if isinstance(part, int) and isinstance(data, list) and -len(data) <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        else:
            data = None
            break
    if not isinstance(data, dict):
        finding = source.finding(at, "must hold a case: a mapping with format, case_id and "
                                     "requests")
        raise CaseError(f"{source.name}: no case at {format_path(at)}", findings=[finding])
    source.data = data
    source.prefix = at
    source.suppressed = {p[len(at):] for p in source.suppressed if p[:len(at)] == at}
    source.problems = [(p, f) for p, f in source.problems if p[:len(at)] == at]


def _suppressed(path: Path, source: Source) -> bool:
    """Whether the value at `path` (or around it) was already reported as unusable."""
    return any(path[:n] in source.suppressed for n in range(len(path) + 1))


def _made(source: Source, path: Path, message: str, *, key: bool = False) -> Found:
    return path, source.finding(path, message, key=key)


def _translate(exc: ValidationError, source: Source) -> Iterator[Found]:
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        ctx = error.get("ctx") or {}
        if loc and loc[-1] == "[key]":
            yield _made(source, loc[:-1], error["msg"], key=True)
        elif kind == "extra_forbidden":
            yield _made(source, loc, _unknown_key(loc), key=True)
        elif kind == "missing":
            yield _made(source, loc, "is required but missing")
        elif value is None:
            yield _made(source, loc, "needs a value here; it is empty or null", key=True)
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            yield _made(source, loc, f"must be a mapping of keys to values, not {describe(value)}")
        elif kind == "list_type":
            yield _made(source, loc, f"must be a list (write [] for none), not {describe(value)}")
        elif kind == "too_short":
            yield _made(source, loc, f"needs at least {ctx.get('min_length')} "
                                     f"entr{'y' if ctx.get('min_length') == 1 else 'ies'}")
        elif kind == "too_long":
            yield _made(source, loc, f"takes at most {ctx.get('max_length')} entries, "
                                     f"not {ctx.get('actual_length')}")
        else:
            yield _made(source, loc, error["msg"])


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


def _cross_checks(source: Source) -> Iterator[Found]:
    """Rules that span several entries: stage numbers and segment keys must not repeat."""
    data = source.data
    requests = data.get("requests") if isinstance(data, dict) else None
    if isinstance(requests, list):
        stages: dict[int, int] = {}
        for index, request in enumerate(requests):
            stage = request.get("stage") if isinstance(request, dict) else None
            if isinstance(stage, float) and stage.is_integer():
                stage = int(stage)
            if isinstance(stage, bool) or not isinstance(stage, int):
                continue
            if stage in stages:
                first = stages[stage]
                where = source.locate(("requests", first, "stage"))
                yield _made(source, ("requests", index, "stage"),
                            f"stage {stage} is already requested by requests[{first}] "
                            f"(line {where.line}); put its procedures in one request")
            else:
                stages[stage] = index
    imaging = data.get("imaging") if isinstance(data, dict) else None
    for index, study in enumerate(imaging if isinstance(imaging, list) else []):
        segments = study.get("segments") if isinstance(study, dict) else None
        if not isinstance(segments, dict):
            continue
        seen: dict[str, str] = {}
        for key in segments:
            try:
                name = levels.segment(key)
            except levels.LevelError:
                continue
            if name in seen:
                first = source.locate(("imaging", index, "segments", seen[name]), key=True)
                yield _made(source, ("imaging", index, "segments", key),
                            f"names segment {name} again (already given as {seen[name]!r} at "
                            f"line {first.line}); merge the two entries", key=True)
            else:
                seen[name] = key

